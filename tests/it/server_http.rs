//! `iteration serve` at the HTTP level: what only a real socket shows (the
//! transport's 413, TLS from certificate files, raw routing answers).

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use iteration_transport::{ClientConfig, HttpClient, RetryPolicy};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::serve::{Running, demo_request, temp_dir};

const WRITER: &str = "api-demo-writer";
const ITERATIONS: &str =
    "/api/v2/projects/my-project/environments/production/experiments/example-experiment/iterations";

/// The transport's default request body limit, 1 MiB.
const BODY_LIMIT: usize = 1024 * 1024;

fn assert_uuid(text: &str) {
    let lengths: Vec<usize> = text.split('-').map(str::len).collect();
    assert_eq!(lengths, [8, 4, 4, 4, 12], "{text} is not a UUID");
    assert!(text.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()), "{text} is not a UUID");
}

/// Sends `head` (a request line and headers, no body) on a fresh connection
/// and reads one response: status, headers (lower-cased names) and body.
async fn raw_exchange(base: &str, head: &str) -> (u16, Vec<(String, String)>, Value) {
    let address = base.strip_prefix("http://").expect("a plain-HTTP server");
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write the head");
    let mut received = Vec::new();
    let header_end = loop {
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let mut chunk = [0; 4096];
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "the connection closed before the headers: {received:?}");
        received.extend_from_slice(&chunk[..n]);
    };
    let text = String::from_utf8(received[..header_end].to_vec()).expect("ASCII headers");
    let mut lines = text.split("\r\n");
    let status_line = lines.next().expect("a status line");
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .expect("a Content-Length");
    while received.len() < header_end + length {
        let mut chunk = [0; 4096];
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "the connection closed mid-body");
        received.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&received[header_end..header_end + length]).expect("a JSON body");
    (status, headers, body)
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_in_our_format() {
    let server = Running::start(&["--demo", "--in-memory"]);
    // The declared length alone is enough: the server answers before any body byte.
    let head = format!(
        "POST {ITERATIONS} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {WRITER}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        BODY_LIMIT + 1
    );
    let (status, headers, body) = raw_exchange(&server.base, &head).await;
    assert_eq!(status, 413, "{body}");
    assert!(headers.contains(&("content-type".to_owned(), "application/json".to_owned())), "{headers:?}");
    assert_eq!(body["code"], "request_entity_too_large");
    assert_eq!(body["message"], format!("the request body is larger than {BODY_LIMIT} bytes"));
    assert_uuid(body["id"].as_str().expect("an id"));

    // At the limit exactly, the body is read and judged on its content.
    let client = HttpClient::new(ClientConfig::default()).expect("client");
    let mut padded = demo_request().to_string().into_bytes();
    padded.resize(BODY_LIMIT, b' ');
    let request = Request::post(format!("{}{ITERATIONS}", server.base))
        .header("authorization", WRITER)
        .header("content-type", "application/json")
        .body(Bytes::from(padded))
        .expect("request");
    let response = client.send(request).await.expect("an answer");
    assert_eq!(response.status(), StatusCode::OK);
}

/// What the HTTP layer refuses is still JSON in the error format: a body
/// over the limit over HTTP/2 (answered, not a reset stream), a request
/// that cannot be parsed, a target too long, too many headers; and the
/// health endpoints and a CORS preflight answer without a token.
#[tokio::test]
async fn the_http_layers_refusals_are_json_and_health_needs_no_token() {
    let server = Running::start(&["--demo", "--in-memory"]);
    let mut config = ClientConfig::default();
    config.http2_only = true;
    let client = HttpClient::new(config).expect("client");
    let request = Request::post(format!("{}{ITERATIONS}", server.base))
        .header("authorization", WRITER)
        .header("content-type", "application/json")
        .body(Bytes::from(vec![b' '; 2 * BODY_LIMIT]))
        .expect("request");
    let response = client.send(request).await.expect("an answer, not a reset stream");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = serde_json::from_slice(response.body()).expect("JSON");
    assert_eq!(body["code"], "request_entity_too_large");

    let long = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
    let many = format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{}\r\n", "X-H: 1\r\n".repeat(200));
    for (head, status) in [("GET / HTTP/1.1\r\nbad header\r\n\r\n".to_owned(), 400), (long, 414), (many, 431)]
    {
        let (got, headers, body) = raw_exchange(&server.base, &head).await;
        assert_eq!(got, status, "{body}");
        assert!(headers.contains(&("content-type".to_owned(), "application/json".to_owned())), "{headers:?}");
        assert_eq!(body["code"], "invalid_request");
        assert_uuid(body["id"].as_str().expect("an id"));
    }

    let (status, _, body) =
        raw_exchange(&server.base, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert_eq!((status, body), (200, serde_json::json!({"status": "ok"})));
    let (status, _, body) =
        raw_exchange(&server.base, "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert_eq!((status, body), (200, serde_json::json!({"status": "ready"})));
}

#[tokio::test]
async fn unknown_routes_wrong_methods_and_bad_json_answer_json_over_the_socket() {
    let server = Running::start(&["--demo", "--in-memory"]);
    let client = HttpClient::new(ClientConfig::default()).expect("client");
    let cases = [
        (Method::GET, "/no/such/route".to_owned(), None, StatusCode::NOT_FOUND, "not_found"),
        (Method::DELETE, ITERATIONS.to_owned(), None, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        (
            Method::POST,
            ITERATIONS.to_owned(),
            Some("{\"hypothesis\": \"x\",\n \"metrics\": [}"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{}{path}", server.base))
            .header("authorization", WRITER);
        if body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        let request = builder.body(Bytes::from(body.unwrap_or_default())).expect("request");
        let response = client.send(request).await.expect("an answer");
        assert_eq!(response.status(), status, "{path}");
        assert_eq!(response.headers()["content-type"], "application/json", "{path}");
        let json: Value = serde_json::from_slice(response.body()).expect("JSON");
        assert_eq!(json["code"], code, "{json}");
        assert_uuid(json["id"].as_str().expect("an id"));
        if status == StatusCode::METHOD_NOT_ALLOWED {
            assert_eq!(response.headers()["allow"], "POST");
        }
        if status == StatusCode::BAD_REQUEST {
            let message = json["message"].as_str().unwrap_or("");
            assert!(message.starts_with("the body is not valid JSON: line 2, column 14"), "{message}");
        }
    }
}

/// A CA, and a certificate it signed for 127.0.0.1 with its key, all PEM.
pub(crate) fn certificates() -> (String, String, String) {
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "iteration serve test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let ca_pem = ca.self_signed(&ca_key).expect("a CA certificate").pem();
    let issuer = Issuer::new(ca, ca_key);
    let server_key = KeyPair::generate().expect("a server key");
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("server parameters")
        .signed_by(&server_key, &issuer)
        .expect("a server certificate");
    (ca_pem, server.pem(), server_key.serialize_pem())
}

#[tokio::test]
async fn serve_with_a_certificate_answers_over_tls_only_to_clients_that_trust_it() {
    let (ca_pem, cert_pem, key_pem) = certificates();
    let dir = temp_dir("tls");
    let (cert, key) = (dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&cert, cert_pem).expect("write the certificate");
    std::fs::write(&key, key_pem).expect("write the key");
    let server = Running::start(&[
        "--demo",
        "--in-memory",
        "--tls-cert",
        cert.to_str().expect("UTF-8 path"),
        "--tls-key",
        key.to_str().expect("UTF-8 path"),
    ]);
    assert!(server.base.starts_with("https://127.0.0.1:"), "{}", server.base);

    let request = || {
        Request::post(format!("{}{ITERATIONS}", server.base))
            .header("authorization", WRITER)
            .header("content-type", "application/json")
            .body(Bytes::from(demo_request().to_string()))
            .expect("request")
    };
    let mut config = ClientConfig::default();
    config.add_root_certificate_pem(ca_pem.as_bytes()).expect("a PEM CA");
    let trusting = HttpClient::new(config).expect("client");
    let response = trusting.send(request()).await.expect("an answer over TLS");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = serde_json::from_slice(response.body()).expect("JSON");
    assert_eq!(body["status"], "not_started");

    let untrusting = HttpClient::new(ClientConfig::default()).expect("client");
    let failure = untrusting.send(request()).await.expect_err("an unknown CA is refused");
    assert!(failure.is_tls(), "{failure}");

    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn serve_rate_limits_each_route_and_answers_429_with_retry_after() {
    let server = Running::start(&["--demo", "--in-memory", "--rate-limit", "2", "--token-rate-limit", "100"]);
    let mut config = ClientConfig::default();
    // This test wants to see the 429 itself, not the client's wait and retry.
    config.retry = RetryPolicy::never();
    let client = HttpClient::new(config).expect("client");
    let url = format!("{}{}", server.base, ITERATIONS.trim_end_matches("/iterations"));
    let get = || Request::get(&url).header("authorization", WRITER).body(Bytes::new()).expect("request");
    // Windows are ten seconds aligned to the epoch; should one end between
    // the three requests, the budget restarts, so try again in the next one.
    for _ in 0..5 {
        let mut answers = Vec::new();
        for _ in 0..3 {
            answers.push(client.send(get()).await.expect("an answer"));
        }
        let header = |i: usize, name: &str| {
            answers[i].headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
        };
        if (0..3).any(|i| header(i, "x-ratelimit-reset") != header(0, "x-ratelimit-reset")) {
            continue;
        }
        let statuses: Vec<u16> = answers.iter().map(|a| a.status().as_u16()).collect();
        assert_eq!(statuses, [200, 200, 429]);
        let remaining: Vec<String> = (0..3).map(|i| header(i, "x-ratelimit-route-remaining")).collect();
        assert_eq!(remaining, ["1", "0", "0"]);
        assert_eq!(header(0, "x-ratelimit-route-limit"), "2");
        assert_eq!(header(1, "x-ratelimit-auth-token-remaining"), "98");
        let reset: i64 = header(2, "x-ratelimit-reset").parse().expect("epoch milliseconds");
        assert_eq!(reset % 10_000, 0, "windows end on ten-second marks");
        let retry_after: u64 = header(2, "retry-after").parse().expect("whole seconds");
        assert!((1..=10).contains(&retry_after), "{retry_after}");
        let body: Value = serde_json::from_slice(answers[2].body()).expect("JSON");
        assert_eq!(body["code"], "rate_limited");
        assert_eq!(body["message"], format!("too many requests; retry in {retry_after} s"));
        return;
    }
    panic!("five windows in a row ended mid-test");
}
