//! What the server answers when a request head comes too slowly (HTTP/1:
//! the handler's 408) or too large (HTTP/2: the handler's 431), over real
//! sockets on loopback. The clocks here are short so that the tests are;
//! nothing asserts how long anything took.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use iteration_transport::{Handler, Rejection, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::start;

/// Echoes the request body; refuses in JSON naming the status.
struct Echo;

impl Handler for Echo {
    async fn call(&self, request: Request<Bytes>) -> Response<Bytes> {
        Response::new(request.into_body())
    }

    fn reject(&self, rejection: Rejection) -> Response<Bytes> {
        let status = rejection.status();
        let mut response = Response::new(Bytes::from(format!(r#"{{"rejected":{}}}"#, status.as_u16())));
        *response.status_mut() = status;
        response.headers_mut().insert("content-type", http::HeaderValue::from_static("application/json"));
        response
    }
}

/// A server whose request heads must arrive within a short time.
async fn impatient_server() -> iteration_transport::ServerHandle {
    let mut config = ServerConfig::default();
    config.header_read_timeout = Duration::from_millis(300);
    start(config, Echo).await
}

/// Everything the server sends until it closes the connection.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    // A bound so that a server that never closes fails the test instead of hanging it.
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received))
        .await
        .expect("the server closes the connection")
        .expect("the connection closes cleanly, not with a reset");
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn an_incomplete_http1_head_gets_the_handlers_408_then_the_connection_closes() {
    let server = impatient_server().await;
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream.write_all(b"GET /experiments HTTP/1.1\r\nhost: x\r\nx-half: ").await.unwrap();
    let response = read_until_closed(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{response}");
    assert!(response.contains("\r\ncontent-type: application/json\r\n"), "{response}");
    assert!(response.contains("\r\nconnection: close\r\n"), "{response}");
    assert!(response.ends_with(r#"{"rejected":408}"#), "{response}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_kept_alive_connection_whose_next_head_stalls_gets_the_408_after_its_answer() {
    let server = impatient_server().await;
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream.write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nhi").await.unwrap();
    let mut first = Vec::new();
    while !first.ends_with(b"\r\n\r\nhi") {
        let mut chunk = [0u8; 512];
        let read = stream.read(&mut chunk).await.unwrap();
        assert!(read > 0, "closed before answering: {}", String::from_utf8_lossy(&first));
        first.extend_from_slice(&chunk[..read]);
    }
    assert!(first.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", String::from_utf8_lossy(&first));

    stream.write_all(b"GET / HT").await.unwrap();
    let response = read_until_closed(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 408 "), "{response}");
    assert!(response.ends_with(r#"{"rejected":408}"#), "{response}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_without_an_answer() {
    let server = impatient_server().await;
    let mut silent = TcpStream::connect(server.local_addr()).await.unwrap();
    assert_eq!(read_until_closed(&mut silent).await, "");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_http2_connection_without_a_request_gets_no_http1_answer() {
    let server = impatient_server().await;
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    // The preface and an empty SETTINGS frame, then nothing.
    stream.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0").await.unwrap();
    let mut received = Vec::new();
    // The server's own HTTP/2 frames, then the close (a reset is fine here).
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received))
        .await
        .expect("the server closes the connection");
    assert!(!received.windows(9).any(|w| w == b"HTTP/1.1 "), "{}", String::from_utf8_lossy(&received));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn http2_headers_over_the_limit_get_the_handlers_431_and_the_connection_serves_on() {
    let mut config = ServerConfig::default();
    config.max_header_list_bytes = 1024;
    let server = start(config, Echo).await;
    let tcp = TcpStream::connect(server.local_addr()).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tcp),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let url = format!("http://{}/", server.local_addr());

    // Over the server's limit, within what the h2 library lets through (4 times it).
    let request =
        Request::post(&url).header("x-big", "b".repeat(2000)).body(Full::new(Bytes::from("body"))).unwrap();
    let response = sender.send_request(request).await.expect("an answer, not a reset stream");
    assert_eq!(response.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = response.into_body().collect().await.expect("the whole answer").to_bytes();
    assert_eq!(body.as_ref(), br#"{"rejected":431}"#);

    // Just under the limit, on the same connection: served.
    let request =
        Request::post(&url).header("x-fits", "f".repeat(700)).body(Full::new(Bytes::from("ok"))).unwrap();
    let response = sender.send_request(request).await.expect("served");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.into_body().collect().await.unwrap().to_bytes().as_ref(), b"ok");
    server.shutdown().await.unwrap();
}
