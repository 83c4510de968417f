//! The client through an HTTP proxy: a tiny proxy written here, on loopback,
//! records the head of each connection it is given and forwards the bytes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, StatusCode};
use iteration_transport::{
    BuildError, ClientConfig, Handler, HttpClient, NoProxy, Proxy, ProxyConfig, TlsFailure,
    TransportErrorKind, handler_fn,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::common::*;

/// The head of the first request on one proxy connection.
#[derive(Debug, Clone)]
struct Seen {
    request_line: String,
    headers: HashMap<String, String>,
}

/// What the proxy does with a `CONNECT`.
#[derive(Clone, Copy)]
enum OnConnect {
    /// Open the tunnel (to loopback only).
    Tunnel,
    /// Refuse with this status line, such as `407 Proxy Authentication Required`.
    Refuse(&'static str),
}

struct TestProxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: JoinHandle<()>,
}

impl TestProxy {
    async fn start(on_connect: OnConnect) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_proxy_connection(stream, on_connect, log.clone()));
            }
        });
        Self { addr, seen, task }
    }

    /// `http://[userinfo@]127.0.0.1:port`.
    fn url(&self, userinfo: &str) -> String {
        format!("http://{userinfo}{}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_proxy_connection(mut client: TcpStream, on_connect: OnConnect, log: Arc<Mutex<Vec<Seen>>>) {
    // Read up to the end of the head; whatever came after it is forwarded.
    let mut buffer = Vec::new();
    let end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let mut chunk = [0u8; 1024];
        match client.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
    let mut lines = head.split("\r\n").filter(|l| !l.is_empty());
    let request_line = lines.next().unwrap_or_default().to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    log.lock().unwrap().push(Seen { request_line: request_line.clone(), headers });

    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let (authority, forward) = if method == "CONNECT" {
        if let OnConnect::Refuse(status) = on_connect {
            let answer = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
            let _ = client.write_all(answer.as_bytes()).await;
            return;
        }
        (target.to_owned(), buffer[end..].to_vec())
    } else {
        // Absolute form: `http://authority/path`; the server accepts it as is.
        let uri: http::Uri = target.parse().unwrap();
        (uri.authority().unwrap().to_string(), buffer)
    };
    // Only ever forward to this machine's loopback.
    let upstream = match tokio::net::lookup_host(authority.as_str()).await {
        Ok(mut addrs) => addrs.find(|a| a.ip().is_loopback()),
        Err(_) => None,
    };
    let Some(upstream) = upstream else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n").await;
        return;
    };
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n").await;
        return;
    };
    if method == "CONNECT" {
        let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
    }
    if server.write_all(&forward).await.is_ok() {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    }
}

/// Answers 200 and remembers the `Proxy-Authorization` each request carried.
fn recording(seen: Arc<Mutex<Vec<Option<String>>>>) -> impl Handler {
    handler_fn(move |request: Request<Bytes>| {
        let seen = seen.clone();
        async move {
            let auth = request.headers().get("proxy-authorization").map(|v| v.to_str().unwrap().to_owned());
            seen.lock().unwrap().push(auth);
            text(200, "through")
        }
    })
}

fn via(mut config: ClientConfig, https: Option<&str>, http: Option<&str>) -> HttpClient {
    config.proxy.https = https.map(|url| Proxy::parse(url).unwrap());
    config.proxy.http = http.map(|url| Proxy::parse(url).unwrap());
    client(config)
}

fn env(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    move |name| map.get(name).cloned()
}

#[tokio::test]
async fn https_goes_through_one_connect_tunnel_and_the_pool_reuses_it() {
    let pki = pki();
    let server_seen = Arc::new(Mutex::new(Vec::new()));
    let server = start(tls_config(&pki), recording(server_seen.clone())).await;
    let proxy = TestProxy::start(OnConnect::Tunnel).await;
    let client = via(trusting(&pki), Some(&proxy.url("")), None);
    let port = server.local_addr().port();
    for _ in 0..3 {
        let response = client.send(get(format!("https://localhost:{port}/x"))).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.body().as_ref(), b"through");
    }
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "one tunnel for three requests: {seen:?}");
    assert_eq!(seen[0].request_line, format!("CONNECT localhost:{port} HTTP/1.1"));
    assert_eq!(seen[0].headers.get("host").map(String::as_str), Some(format!("localhost:{port}").as_str()));
    assert!(!seen[0].headers.contains_key("proxy-authorization"));
    assert_eq!(server.connections_accepted(), 1);
    server.shutdown().await.unwrap();
}

/// A one-shot TLS server that records the server name (SNI) the client
/// asked for, then answers one HTTP/1.1 request with `ok`.
async fn sni_recording_server(pki: &Pki) -> (SocketAddr, JoinHandle<Option<String>>) {
    use rustls_pki_types::pem::PemObject;
    let chain = vec![rustls_pki_types::CertificateDer::from_pem_slice(pki.cert_pem.as_bytes()).unwrap()];
    let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(pki.key_pem.as_bytes()).unwrap();
    let mut config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let acceptor = rustls::server::Acceptor::default();
        let start = tokio_rustls::LazyConfigAcceptor::new(acceptor, tcp).await.unwrap();
        let sni = start.client_hello().server_name().map(str::to_owned);
        let mut tls = start.into_stream(Arc::new(config)).await.unwrap();
        let mut head = Vec::new();
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let mut chunk = [0u8; 1024];
            let n = tls.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the client closed before sending a request");
            head.extend_from_slice(&chunk[..n]);
        }
        tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok").await.unwrap();
        tls.shutdown().await.unwrap();
        sni
    });
    (addr, task)
}

#[tokio::test]
async fn tls_inside_the_tunnel_names_the_target_host() {
    let pki = pki();
    let (addr, server) = sni_recording_server(&pki).await;
    let proxy = TestProxy::start(OnConnect::Tunnel).await;
    let client = via(trusting(&pki), Some(&proxy.url("")), None);
    let response = client.send(get(format!("https://localhost:{}/", addr.port()))).await.unwrap();
    assert_eq!(response.body().as_ref(), b"ok");
    assert_eq!(server.await.unwrap().as_deref(), Some("localhost"));
    assert_eq!(proxy.seen()[0].request_line, format!("CONNECT localhost:{} HTTP/1.1", addr.port()));
}

#[tokio::test]
async fn connect_carries_the_credentials_as_basic_auth_and_the_server_never_sees_them() {
    let pki = pki();
    let server_seen = Arc::new(Mutex::new(Vec::new()));
    let server = start(tls_config(&pki), recording(server_seen.clone())).await;
    let proxy = TestProxy::start(OnConnect::Tunnel).await;
    let client = via(trusting(&pki), Some(&proxy.url("al%40ice:open%3Asesame@")), None);
    let response =
        client.send(get(format!("https://localhost:{}/x", server.local_addr().port()))).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let seen = proxy.seen();
    // base64("al@ice:open:sesame")
    assert_eq!(
        seen[0].headers.get("proxy-authorization").map(String::as_str),
        Some("Basic YWxAaWNlOm9wZW46c2VzYW1l")
    );
    assert_eq!(*server_seen.lock().unwrap(), vec![None]);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn plain_http_goes_to_the_proxy_in_absolute_form_with_the_credentials() {
    let server_seen = Arc::new(Mutex::new(Vec::new()));
    let server = start(Default::default(), recording(server_seen.clone())).await;
    let proxy = TestProxy::start(OnConnect::Tunnel).await;
    let client = via(ClientConfig::default(), None, Some(&proxy.url("user:p%40ss@")));
    let uri = format!("http://{}/experiments?limit=2", server.local_addr());
    let response = client.send(get(&uri)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].request_line, format!("GET {uri} HTTP/1.1"));
    // base64("user:p@ss")
    assert_eq!(seen[0].headers.get("proxy-authorization").map(String::as_str), Some("Basic dXNlcjpwQHNz"));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn no_proxy_hosts_are_reached_directly() {
    let pki = pki();
    let tls_server = start(tls_config(&pki), recording(Default::default())).await;
    let plain_server = start(Default::default(), recording(Default::default())).await;
    let proxy = TestProxy::start(OnConnect::Tunnel).await;
    let proxies = ProxyConfig::from_env_with(env(&[
        ("HTTPS_PROXY", proxy.url("")),
        ("http_proxy", proxy.url("")),
        ("NO_PROXY", "example.com, .localhost,127.0.0.1".to_owned()),
    ]))
    .unwrap();
    let mut config = trusting(&pki);
    config.proxy = proxies;
    let client = client(config);
    let https = format!("https://localhost:{}/", tls_server.local_addr().port());
    assert_eq!(client.send(get(https)).await.unwrap().status(), StatusCode::OK);
    let http = format!("http://{}/", plain_server.local_addr());
    assert_eq!(client.send(get(http)).await.unwrap().status(), StatusCode::OK);
    assert!(proxy.seen().is_empty(), "{:?}", proxy.seen());
    tls_server.shutdown().await.unwrap();
    plain_server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_407_says_proxy_authentication_is_required_and_is_not_retried() {
    let proxy = TestProxy::start(OnConnect::Refuse("407 Proxy Authentication Required")).await;
    let client = via(ClientConfig::default(), Some(&proxy.url("")), None);
    let err = client.send_with_retry(get("https://localhost:1/")).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::ProxyRejected { status: 407 });
    assert_eq!(err.proxy_status(), Some(407));
    assert!(err.is_proxy() && err.is_connect() && !err.is_tls());
    assert!(!err.request_may_have_been_sent());
    assert_eq!(
        err.to_string(),
        format!(
            "proxy {} refused to open a tunnel to localhost:1 with status 407: proxy authentication required (give \
             the credentials in the proxy URL, http://user:password@host:port)",
            proxy.addr
        )
    );
    assert_eq!(proxy.seen().len(), 1);
}

#[tokio::test]
async fn another_refusal_names_the_proxy_and_the_status() {
    let proxy = TestProxy::start(OnConnect::Refuse("403 Forbidden")).await;
    let client = via(ClientConfig::default(), Some(&proxy.url("")), None);
    let err = client.send(get("https://localhost:1/")).await.unwrap_err();
    assert_eq!(err.proxy_status(), Some(403));
    assert_eq!(
        err.to_string(),
        format!("proxy {} refused to open a tunnel to localhost:1 with status 403", proxy.addr)
    );
}

#[tokio::test]
async fn an_untrusted_certificate_behind_the_tunnel_names_the_server_and_the_remedy() {
    let pki = pki();
    let server = start(tls_config(&pki), recording(Default::default())).await;
    let proxy = TestProxy::start(OnConnect::Tunnel).await;
    let mut config = ClientConfig::default();
    config.system_roots = false;
    let client = via(config, Some(&proxy.url("")), None);
    let port = server.local_addr().port();
    let err = client.send(get(format!("https://localhost:{port}/"))).await.unwrap_err();
    assert!(err.is_tls() && !err.is_proxy());
    assert_eq!(err.tls_failure(), Some(TlsFailure::UntrustedCertificate));
    assert_eq!(
        err.to_string(),
        format!(
            "TLS handshake with localhost:{port} failed: the server's certificate is not trusted (if it comes from \
             a private CA, trust that CA with --ca-cert PATH or SSL_CERT_FILE)"
        )
    );
    assert_eq!(proxy.seen().len(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unreachable_proxy_is_named() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = listener.local_addr().unwrap();
    drop(listener);
    let client = via(ClientConfig::default(), Some(&format!("http://{closed}")), None);
    let err = client.send(get("https://localhost:1/")).await.unwrap_err();
    assert!(err.is_connection_refused() && err.is_proxy());
    assert_eq!((err.host(), err.port()), (Some("127.0.0.1"), Some(closed.port())));
    assert_eq!(err.to_string(), format!("could not connect to proxy {closed}: connection refused"));
}

#[tokio::test]
async fn ssl_cert_file_from_the_environment_is_trusted() {
    let pki = pki();
    let server = start(tls_config(&pki), recording(Default::default())).await;
    let path = std::env::temp_dir().join(format!(
        "iteration-transport-ca-{}-{}.pem",
        std::process::id(),
        server.local_addr().port()
    ));
    std::fs::write(&path, &pki.ca_pem).unwrap();
    let config = ClientConfig::from_env_with(env(&[("SSL_CERT_FILE", path.display().to_string())]));
    std::fs::remove_file(&path).unwrap();
    let config = config.unwrap();
    assert_eq!(config.proxy, ProxyConfig::none());
    let response =
        client(config).send(get(format!("https://localhost:{}/", server.local_addr().port()))).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    server.shutdown().await.unwrap();
}

#[test]
fn a_missing_ssl_cert_file_is_an_error_naming_it() {
    let path = std::env::temp_dir().join("iteration-transport-no-such-ca.pem");
    let err = ClientConfig::from_env_with(env(&[("SSL_CERT_FILE", path.display().to_string())])).unwrap_err();
    assert!(matches!(err, BuildError::ReadCertificateFile { .. }));
    assert_eq!(err.to_string(), format!("cannot read the CA certificate file {}", path.display()));
}

#[test]
fn a_ca_file_without_certificates_is_an_error_naming_it() {
    let path = std::env::temp_dir().join(format!("iteration-transport-empty-ca-{}.pem", std::process::id()));
    std::fs::write(&path, "not a certificate\n").unwrap();
    let mut config = ClientConfig::default();
    let err = config.add_root_certificate_file(&path).map(|_| ()).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        err.to_string(),
        format!("the CA certificate file {} holds no PEM certificate", path.display())
    );
}

#[test]
fn no_proxy_is_usable_on_its_own() {
    let no_proxy = NoProxy::parse("*.internal");
    assert!(no_proxy.matches("api.internal", 443));
    assert!(!no_proxy.matches("example.com", 443));
}
