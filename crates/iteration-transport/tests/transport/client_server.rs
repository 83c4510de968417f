//! Client and server against each other (and against raw sockets) on
//! loopback.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;
use bytes::Bytes;
use http::{Request, Response, StatusCode, Version};
use iteration_transport::{
    ClientConfig, Handler, Rejection, RemoteAddr, RetryPolicy, ServerConfig, TlsFailure, handler_fn,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Answers with the peer's port, and remembers each port seen.
fn port_echo(ports: Arc<Mutex<HashSet<u16>>>) -> impl Handler {
    handler_fn(move |request: Request<Bytes>| {
        let ports = ports.clone();
        async move {
            let RemoteAddr(peer) = *request.extensions().get::<RemoteAddr>().unwrap();
            ports.lock().unwrap().insert(peer.port());
            text(200, peer.port().to_string())
        }
    })
}

#[tokio::test]
async fn plain_http1_reuses_one_connection() {
    let ports = Arc::new(Mutex::new(HashSet::new()));
    let server = start(ServerConfig::default(), port_echo(ports.clone())).await;
    let client = client(ClientConfig::default());
    for _ in 0..5 {
        let response = client.send(get(format!("http://{}/x", server.local_addr()))).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.version(), Version::HTTP_11);
    }
    assert_eq!(server.connections_accepted(), 1);
    assert_eq!(ports.lock().unwrap().len(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn plain_h2c_with_prior_knowledge() {
    let ports = Arc::new(Mutex::new(HashSet::new()));
    let server = start(ServerConfig::default(), port_echo(ports.clone())).await;
    let mut config = ClientConfig::default();
    config.http2_only = true;
    let client = client(config);
    for _ in 0..5 {
        let response = client.send(get(format!("http://{}/x", server.local_addr()))).await.unwrap();
        assert_eq!(response.version(), Version::HTTP_2);
    }
    assert_eq!(server.connections_accepted(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn tls_negotiates_h2_with_an_extra_ca_and_reuses_the_connection() {
    let pki = pki();
    let ports = Arc::new(Mutex::new(HashSet::new()));
    let server = start(tls_config(&pki), port_echo(ports.clone())).await;
    let client = client(trusting(&pki));
    let port = server.local_addr().port();
    for host in ["localhost", "localhost", "localhost"] {
        let response = client.send(get(format!("https://{host}:{port}/x"))).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.version(), Version::HTTP_2);
    }
    assert_eq!(server.connections_accepted(), 1);
    // The IP address SAN works too (a second pool key, so a new connection).
    let response = client.send(get(format!("https://127.0.0.1:{port}/x"))).await.unwrap();
    assert_eq!(response.version(), Version::HTTP_2);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn tls_http1_when_the_client_offers_only_http1() {
    let pki = pki();
    let server = start(tls_config(&pki), handler_fn(|_| async { text(200, "hi") })).await;
    // A raw rustls + hyper http1 client, to pin ALPN to http/1.1.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_der(&pki)).unwrap();
    let mut tls =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = TcpStream::connect(server.local_addr()).await.unwrap();
    let stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let request =
        Request::get("/x").header("host", "localhost").body(http_body_util::Full::new(Bytes::new())).unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.version(), Version::HTTP_11);
    server.shutdown().await.unwrap();
}

fn ca_der(pki: &Pki) -> rustls_pki_types::CertificateDer<'static> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::from_pem_slice(pki.ca_pem.as_bytes()).unwrap()
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused() {
    let pki = pki();
    let server = start(tls_config(&pki), handler_fn(|_| async { text(200, "") })).await;
    let client = client(ClientConfig::default());
    let err =
        client.send(get(format!("https://localhost:{}/", server.local_addr().port()))).await.unwrap_err();
    assert!(err.is_tls());
    assert_eq!(err.tls_failure(), Some(TlsFailure::UntrustedCertificate));
    assert!(!err.is_connect() && !err.is_timeout());
    assert!(!err.request_may_have_been_sent());
    assert_eq!(
        err.to_string(),
        format!(
            "TLS handshake with localhost:{} failed: the server's certificate is not trusted (if it comes from a \
             private CA, trust that CA with --ca-cert PATH or SSL_CERT_FILE)",
            server.local_addr().port()
        )
    );
    assert!(std::error::Error::source(&err).is_some());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_certificate_for_another_name_is_invalid() {
    let pki = pki_for(&["elsewhere.test"]);
    let server = start(tls_config(&pki), handler_fn(|_| async { text(200, "") })).await;
    let client = client(trusting(&pki));
    let err =
        client.send(get(format!("https://localhost:{}/", server.local_addr().port()))).await.unwrap_err();
    assert_eq!(err.tls_failure(), Some(TlsFailure::InvalidCertificate));
    assert_eq!(
        err.to_string(),
        format!(
            "TLS handshake with localhost:{} failed: the server's certificate is invalid",
            server.local_addr().port()
        )
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn connect_timeout_when_the_handshake_never_completes() {
    // Accepts TCP but never answers the TLS ClientHello.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let mut config = ClientConfig::default();
    config.connect_timeout = SHORT;
    let started = Instant::now();
    let err = client(config).send(get(format!("https://localhost:{}/", addr.port()))).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(err.is_connect_timeout() && err.is_timeout() && err.is_connect());
    assert!(!err.is_request_timeout() && !err.is_tls());
    assert!(!err.request_may_have_been_sent());
    assert_eq!(err.to_string(), format!("connecting to localhost:{} timed out after 200ms", addr.port()));
    holder.abort();
}

#[tokio::test]
async fn request_timeout_when_the_handler_is_slow() {
    let server = start(
        ServerConfig::default(),
        handler_fn(|_| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            text(200, "late")
        }),
    )
    .await;
    let mut config = ClientConfig::default();
    config.request_timeout = SHORT;
    let err = client(config).send(get(format!("http://{}/", server.local_addr()))).await.unwrap_err();
    assert!(err.is_request_timeout() && err.is_timeout());
    assert!(!err.is_connect_timeout() && !err.is_connect());
    assert!(err.request_may_have_been_sent());
    assert_eq!(err.to_string(), "request timed out after 200ms");
    drop(server);
}

#[tokio::test]
async fn a_closed_port_refuses_the_connection() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = client(ClientConfig::default()).send(post(format!("http://{addr}/"), b"{}")).await.unwrap_err();
    assert!(err.is_connection_refused() && err.is_connect());
    assert!(!err.is_timeout() && !err.is_tls());
    assert!(!err.request_may_have_been_sent());
    assert_eq!(err.to_string(), format!("could not connect to {addr}: connection refused"));
    assert_eq!((err.host(), err.port()), (Some("127.0.0.1"), Some(addr.port())));
    assert!(!err.is_proxy());
}

#[tokio::test]
async fn an_oversized_response_is_refused() {
    let server = start(ServerConfig::default(), handler_fn(|_| async { text(200, vec![b'x'; 2048]) })).await;
    let mut config = ClientConfig::default();
    config.max_response_body_bytes = 1024;
    let err = client(config).send(get(format!("http://{}/", server.local_addr()))).await.unwrap_err();
    assert!(err.is_body_too_large());
    assert!(!err.is_connect() && !err.is_timeout() && !err.is_tls());
    assert_eq!(err.to_string(), "response body exceeds the limit of 1024 bytes");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_oversized_chunked_response_is_refused_while_reading() {
    // No Content-Length: only the streaming limit can catch it.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let _ = stream.read(&mut buf).await.unwrap();
        let mut response = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n800\r\n".to_vec();
        response.extend_from_slice(&[b'y'; 0x800]);
        response.extend_from_slice(b"\r\n0\r\n\r\n");
        stream.write_all(&response).await.unwrap();
        let _ = stream.read(&mut buf).await;
    });
    let mut config = ClientConfig::default();
    config.max_response_body_bytes = 1024;
    let err = client(config).send(get(format!("http://{addr}/"))).await.unwrap_err();
    assert!(err.is_body_too_large());
    assert_eq!(err.to_string(), "response body exceeds the limit of 1024 bytes");
}

#[tokio::test]
async fn invalid_requests_fail_before_connecting() {
    let err = client(ClientConfig::default()).send(get("/relative")).await.unwrap_err();
    assert_eq!(err.kind(), iteration_transport::TransportErrorKind::InvalidRequest);
    assert!(!err.request_may_have_been_sent());
}

#[tokio::test]
async fn user_agent_is_set_only_when_absent() {
    let server = start(
        ServerConfig::default(),
        handler_fn(|request: Request<Bytes>| async move {
            let ua = request
                .headers()
                .get(http::header::USER_AGENT)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            text(200, ua)
        }),
    )
    .await;
    let mut config = ClientConfig::default();
    config.user_agent = "iteration-test/1".to_owned();
    let client = client(config);
    let uri = format!("http://{}/", server.local_addr());
    let response = client.send(get(&uri)).await.unwrap();
    assert_eq!(response.body().as_ref(), b"iteration-test/1");
    let mut request = get(&uri);
    request.headers_mut().insert(http::header::USER_AGENT, "custom/2".parse().unwrap());
    let response = client.send(request).await.unwrap();
    assert_eq!(response.body().as_ref(), b"custom/2");
    server.shutdown().await.unwrap();
}

/// Counts calls and answers 413 in its own JSON format.
struct JsonRejections {
    calls: Arc<AtomicUsize>,
}

impl Handler for JsonRejections {
    async fn call(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Response::new(request.into_body())
    }

    fn reject(&self, rejection: Rejection) -> Response<Bytes> {
        let Rejection::BodyTooLarge { limit } = rejection else {
            let status = rejection.status().as_u16();
            let mut response = Response::new(Bytes::from(format!(r#"{{"rejected":{status}}}"#)));
            *response.status_mut() = rejection.status();
            response.headers_mut().insert("content-type", http::HeaderValue::from_static("application/json"));
            return response;
        };
        let mut response = Response::new(Bytes::from(format!(r#"{{"code":"too_large","limit":{limit}}}"#)));
        *response.status_mut() = rejection.status();
        response
    }
}

async fn limited_server() -> (iteration_transport::ServerHandle, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut config = ServerConfig::default();
    config.max_request_body_bytes = 1024;
    let server = start(config, JsonRejections { calls: calls.clone() }).await;
    (server, calls)
}

/// Writes `request` on a fresh connection and reads until the server closes.
async fn raw_exchange(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
        .await
        .expect("server closes the connection")
        .unwrap();
    String::from_utf8(response).unwrap()
}

#[tokio::test]
async fn a_body_announced_too_large_is_refused_unread() {
    let (server, calls) = limited_server().await;
    let response =
        raw_exchange(server.local_addr(), b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 10000000\r\n\r\n")
            .await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("connection: close"), "{response}");
    assert!(response.ends_with(r#"{"code":"too_large","limit":1024}"#));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_refused() {
    let (server, calls) = limited_server().await;
    let mut request = b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n800\r\n".to_vec();
    request.extend_from_slice(&[b'z'; 0x800]);
    request.extend_from_slice(b"\r\n0\r\n\r\n");
    let response = raw_exchange(server.local_addr(), &request).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("connection: close"), "{response}");
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // Within the limit, chunked works and reaches the handler.
    let response = raw_exchange(
        server.local_addr(),
        b"POST / HTTP/1.1\r\nhost: x\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("hello"), "{response}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_http2_body_over_the_limit_gets_the_handlers_413() {
    let (server, calls) = limited_server().await;
    let mut config = ClientConfig::default();
    config.http2_only = true;
    let client = client(config);
    let url = format!("http://{}/", server.local_addr());
    let big = Bytes::from(vec![b'z'; 4 << 20]);
    for _ in 0..2 {
        let request = Request::post(&url).body(big.clone()).unwrap();
        let response = client.send(request).await.expect("an answer, not a reset stream");
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(response.body().as_ref(), br#"{"code":"too_large","limit":1024}"#);
    }
    // The connection still serves requests within the limit.
    let response = client.send(post(&url, b"hello")).await.unwrap();
    assert_eq!(response.body().as_ref(), b"hello");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_http2_body_over_the_limit_gets_the_handlers_413_over_tls() {
    let pki = pki();
    let calls = Arc::new(AtomicUsize::new(0));
    let mut config = tls_config(&pki);
    config.max_request_body_bytes = 1024;
    let server = start(config, JsonRejections { calls: calls.clone() }).await;
    let client = client(trusting(&pki));
    let url = format!("https://localhost:{}/", server.local_addr().port());
    let big = Bytes::from(vec![b'z'; 4 << 20]);
    for _ in 0..3 {
        let request = Request::post(&url).body(big.clone()).unwrap();
        let response = client.send(request).await.expect("an answer, not a reset stream");
        assert_eq!((response.status(), response.version()), (StatusCode::PAYLOAD_TOO_LARGE, Version::HTTP_2));
        assert_eq!(response.body().as_ref(), br#"{"code":"too_large","limit":1024}"#);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    server.shutdown().await.unwrap();
}

/// Reads one HTTP/2 frame: (type, flags, stream, payload).
async fn read_frame(stream: &mut TcpStream) -> Option<(u8, u8, u32, Vec<u8>)> {
    let mut head = [0u8; 9];
    stream.read_exact(&mut head).await.ok()?;
    let length = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
    let mut payload = vec![0u8; length];
    stream.read_exact(&mut payload).await.ok()?;
    let id = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
    Some((head[3], head[4], id, payload))
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    out.extend_from_slice(&[kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Over HTTP/2 the answer to a body over the limit is sent, and the rest of
/// the body is read and thrown away, so that the stream ends without a
/// reset: clients such as curl drop an answer whose stream was reset.
#[tokio::test]
async fn an_http2_body_over_the_limit_is_answered_and_the_stream_is_not_reset() {
    let (server, _calls) = limited_server().await;
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend(frame(4, 0, 0, &[]));
    // HPACK literals without indexing, no Huffman coding.
    let mut block = Vec::new();
    for (name, value) in [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "x"),
        ("content-length", "40000"),
    ] {
        block.push(0);
        block.push(name.len() as u8);
        block.extend_from_slice(name.as_bytes());
        block.push(value.len() as u8);
        block.extend_from_slice(value.as_bytes());
    }
    out.extend(frame(1, 0x4, 1, &block));
    // Part of the body; the rest follows once the answer is in.
    out.extend(frame(0, 0, 1, &[b'z'; 16_000]));
    stream.write_all(&out).await.unwrap();
    let mut seen = Vec::new();
    let mut rest_sent = false;
    let mut deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let Ok(Some((kind, flags, id, payload))) =
            tokio::time::timeout_at(deadline, read_frame(&mut stream)).await
        else {
            if rest_sent || !seen.contains(&"data".to_owned()) {
                break;
            }
            // No reset came after the answer: send the rest of the body, as a client still uploading does.
            stream.write_all(&frame(0, 0x1, 1, &[b'z'; 24_000])).await.unwrap();
            rest_sent = true;
            deadline = tokio::time::Instant::now() + Duration::from_millis(300);
            continue;
        };
        match (kind, id) {
            (1, 1) => seen.push("headers".to_owned()),
            (0, 1) => {
                seen.push("data".to_owned());
                if flags & 0x1 != 0 {
                    // The answer is complete; a reset would follow at once.
                    deadline = tokio::time::Instant::now() + Duration::from_millis(300);
                }
            }
            (3, 1) => {
                seen.push(format!("reset {}", u32::from_be_bytes(payload[..4].try_into().unwrap())));
                break;
            }
            (7, _) => break,
            _ => {}
        }
    }
    assert_eq!(seen, ["headers", "data"]);
    drop(stream);
    server.shutdown().await.unwrap();
}

/// A request body sent in chunks without a length, as a stream would be.
struct Chunks(std::collections::VecDeque<Bytes>);

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.pop_front().map(|chunk| Ok(hyper::body::Frame::data(chunk))))
    }
}

#[tokio::test]
async fn an_http2_body_without_a_length_over_the_limit_gets_the_handlers_413() {
    use http_body_util::BodyExt;
    let (server, calls) = limited_server().await;
    let tcp = TcpStream::connect(server.local_addr()).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tcp),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    for _ in 0..2 {
        let chunks = Chunks((0..4096).map(|_| Bytes::from_static(&[b'z'; 1024])).collect());
        let request = Request::post(format!("http://{}/", server.local_addr())).body(chunks).unwrap();
        let response = sender.send_request(request).await.expect("an answer, not a reset stream");
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body = response.into_body().collect().await.expect("the whole answer").to_bytes();
        assert_eq!(body.as_ref(), br#"{"code":"too_large","limit":1024}"#);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    server.shutdown().await.unwrap();
}

/// What the server answers to requests hyper cannot parse: the handler's
/// answer for the status, not hyper's empty one.
#[tokio::test]
async fn requests_hyper_cannot_parse_get_the_handlers_answer() {
    let (server, calls) = limited_server().await;
    let long_uri = format!("GET /{} HTTP/1.1\r\nhost: x\r\n\r\n", "a".repeat(70_000));
    let many_headers = format!("GET / HTTP/1.1\r\nhost: x\r\n{}\r\n", "x-h: 1\r\n".repeat(200));
    for (request, status, body) in [
        (b"GET / HTTP/1.1\r\nbad header\r\n\r\n".to_vec(), 400, r#"{"rejected":400}"#),
        (b"\x01\x02 nonsense\r\n\r\n".to_vec(), 400, r#"{"rejected":400}"#),
        (long_uri.into_bytes(), 414, r#"{"rejected":414}"#),
        (many_headers.into_bytes(), 431, r#"{"rejected":431}"#),
    ] {
        let response = raw_exchange(server.local_addr(), &request).await;
        assert!(response.starts_with(&format!("HTTP/1.1 {status} ")), "{response}");
        assert!(response.contains("\r\ncontent-type: application/json\r\n"), "{response}");
        assert!(response.contains("\r\nconnection: close\r\n"), "{response}");
        assert!(response.ends_with(body), "{response}");
    }
    // A kept-alive connection that served a request, then sends garbage.
    let response = raw_exchange(
        server.local_addr(),
        b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nhiGARBAGE\r\n\r\n",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200 "), "{response}");
    assert!(response.ends_with(r#"{"rejected":400}"#), "{response}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn slow_headers_are_cut_off_while_others_are_served() {
    // Long enough that three requests on a loaded two-core machine finish
    // well inside it, so "served meanwhile" does not race the cut-off.
    const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
    let mut config = ServerConfig::default();
    config.header_read_timeout = HEADER_TIMEOUT;
    let server = start(config, handler_fn(|_| async { text(200, "ok") })).await;

    let mut slow = TcpStream::connect(server.local_addr()).await.unwrap();
    slow.write_all(b"GET / HT").await.unwrap();
    let started = Instant::now();

    // Meanwhile another client is served normally.
    let client = client(ClientConfig::default());
    for _ in 0..3 {
        let response = client.send(get(format!("http://{}/", server.local_addr()))).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert!(started.elapsed() < HEADER_TIMEOUT, "others were served only after the cut-off");

    let mut rest = Vec::new();
    let read = tokio::time::timeout(HEADER_TIMEOUT + Duration::from_secs(3), slow.read_to_end(&mut rest))
        .await
        .expect("slow client is disconnected");
    let elapsed = started.elapsed();
    // Closed (possibly reset), with no request served on it.
    assert!(read.is_err() || !String::from_utf8_lossy(&rest).contains(" 200 "));
    assert!(elapsed >= HEADER_TIMEOUT - Duration::from_millis(50), "{elapsed:?}");
    assert!(elapsed < HEADER_TIMEOUT + Duration::from_secs(2), "{elapsed:?}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn graceful_shutdown_finishes_the_request_in_flight() {
    let (entered_tx, entered_rx) = tokio::sync::oneshot::channel::<()>();
    let entered_tx = Arc::new(Mutex::new(Some(entered_tx)));
    let server = start(
        ServerConfig::default(),
        handler_fn(move |_| {
            let entered_tx = entered_tx.clone();
            async move {
                if let Some(tx) = entered_tx.lock().unwrap().take() {
                    let _ = tx.send(());
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
                text(200, "done")
            }
        }),
    )
    .await;
    let addr = server.local_addr();
    let client = client(ClientConfig::default());
    let in_flight = tokio::spawn(async move { client.send(get(format!("http://{addr}/"))).await });
    entered_rx.await.unwrap();

    let started = Instant::now();
    server.shutdown().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(100));

    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body().as_ref(), b"done");
    let refused = TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn shutdown_grace_bounds_a_stuck_request() {
    let mut config = ServerConfig::default();
    config.shutdown_grace = SHORT;
    let server = start(
        config,
        handler_fn(|_| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            text(200, "never")
        }),
    )
    .await;
    let addr = server.local_addr();
    let client = client(ClientConfig::default());
    let in_flight = tokio::spawn(async move { client.send(get(format!("http://{addr}/"))).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    server.shutdown().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    let err = in_flight.await.unwrap().unwrap_err();
    assert!(err.request_may_have_been_sent());
}

#[tokio::test]
async fn max_connections_holds_back_new_clients() {
    let mut config = ServerConfig::default();
    config.max_connections = 1;
    config.keep_alive_idle_timeout = Duration::from_millis(300);
    let server = start(config, handler_fn(|_| async { text(200, "ok") })).await;
    let uri = format!("http://{}/", server.local_addr());
    // The first client keeps its connection pooled (and the server slot).
    let first = client(ClientConfig::default());
    first.send(get(&uri)).await.unwrap();
    // The second waits until the idle timeout frees the slot.
    let started = Instant::now();
    let response = client(ClientConfig::default()).send(get(&uri)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(200), "{:?}", started.elapsed());
    assert_eq!(server.connections_accepted(), 2);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn send_with_retry_waits_out_a_429() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let server = start(
        ServerConfig::default(),
        handler_fn(move |_| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    let mut response = text(429, "slow down");
                    response.headers_mut().insert(http::header::RETRY_AFTER, "0".parse().unwrap());
                    response
                } else {
                    text(200, "ok")
                }
            }
        }),
    )
    .await;
    let client = client(ClientConfig::default());
    let policy = RetryPolicy::default().with_delays(Duration::from_millis(10), Duration::from_millis(100));
    let started = Instant::now();
    let response = client
        .send_with_policy(post(format!("http://{}/", server.local_addr()), b"{}"), &policy)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert!(started.elapsed() < Duration::from_secs(1));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_retry_observer_hears_each_wait_and_not_the_last_answer() {
    let server = start(
        ServerConfig::default(),
        handler_fn(|_| async {
            let mut response = text(429, "slow down");
            response.headers_mut().insert(http::header::RETRY_AFTER, "0".parse().unwrap());
            response
        }),
    )
    .await;
    let heard = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = heard.clone();
    let policy = RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(5), Duration::from_millis(50))
        .with_observer(move |notice| sink.lock().unwrap().push(*notice));
    let response = client(ClientConfig::default())
        .send_with_policy(post(format!("http://{}/", server.local_addr()), b"{}"), &policy)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let heard = heard.lock().unwrap().clone();
    let seen: Vec<(u32, u32, bool)> =
        heard.iter().map(|n| (n.attempt, n.max_attempts, n.rate_limited)).collect();
    // Two waits for three attempts: the third answer is final, not announced.
    assert_eq!(seen, [(1, 3, true), (2, 3, true)]);
    assert!(heard.iter().all(|n| n.wait <= Duration::from_millis(5)), "{heard:?}");
    assert_eq!(heard[0].status, Some(StatusCode::TOO_MANY_REQUESTS));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn send_with_retry_does_not_repeat_a_conflict() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let server = start(
        ServerConfig::default(),
        handler_fn(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { text(409, "conflict") }
        }),
    )
    .await;
    let response = client(ClientConfig::default())
        .send_with_retry(post(format!("http://{}/", server.local_addr()), b"{}"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn send_with_retry_returns_the_last_response_when_attempts_run_out() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let server = start(
        ServerConfig::default(),
        handler_fn(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { text(503, "down") }
        }),
    )
    .await;
    let policy = RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(5));
    let response = client(ClientConfig::default())
        .send_with_policy(get(format!("http://{}/", server.local_addr())), &policy)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    server.shutdown().await.unwrap();
}
