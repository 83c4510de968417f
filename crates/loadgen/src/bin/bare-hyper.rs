//! The benchmarks' outside baseline: a bare hyper 1 HTTP/1.1 server that
//! answers every request, after reading its body, with a fixed JSON body of
//! `--size` bytes, doing nothing else.
//!
//! `cargo xtask bench` puts the `iteration` server's figures against it: it
//! is what the machine, the kernel and the load generator allow for the same
//! bytes, without the server's own stack (routing, request log, the
//! transport's connection handling) in the way. It runs the runtime the
//! server runs, tokio's multi-thread runtime with one worker per core, and
//! keeps connections alive as the server does.
//!
//! It prints `listening on http://ADDR` once it listens, as the server does.

use std::convert::Infallible;
use std::io::Write as _;
use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const USAGE: &str = "usage: bare-hyper --size BYTES [--listen HOST:PORT]";

fn main() -> Result<()> {
    let mut listen: SocketAddr = "127.0.0.1:0".parse()?;
    let mut size = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--listen" => listen = value()?.parse()?,
            "--size" => size = Some(value()?.parse::<usize>()?),
            _ => bail!("unknown argument {arg:?}\n{USAGE}"),
        }
    }
    let size = size.with_context(|| format!("--size is required\n{USAGE}"))?;
    if size < 2 {
        bail!("--size must be at least 2: the body is the JSON object {{}} padded with spaces");
    }
    // The body the server's own baseline route answers: `{}` and spaces.
    let mut body = vec![b' '; size];
    body[..2].copy_from_slice(b"{}");
    let body = Bytes::from(body);

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(serve(listen, body))
}

async fn serve(listen: SocketAddr, body: Bytes) -> Result<()> {
    let listener = TcpListener::bind(listen).await?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{}", listener.local_addr()?)?;
    stdout.flush()?;
    drop(stdout);
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                let body = body.clone();
                async move {
                    // Read the request body, as the server does before it answers.
                    let _ = request.into_body().collect().await;
                    let response = http::Response::builder()
                        .header(http::header::CONTENT_TYPE, "application/json")
                        .body(Full::new(body))
                        .unwrap_or_else(|_| http::Response::new(Full::new(Bytes::new())));
                    Ok::<_, Infallible>(response)
                }
            });
            // HTTP/1.1 with keep-alive (hyper's default): one connection per
            // load generator connection for the whole run.
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
