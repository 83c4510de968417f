//! Throughput of [`HttpClient::send`] against a bare hyper-util client doing
//! the same POSTs to the same local server, to keep the wrapper's overhead
//! visible.
//!
//! The two clients run in pairs of rounds, in one process, in the order
//! a b, b a, a b, ... so that neither side always goes first; the ratio is
//! the median of the pairs' ratios, so that a burst of other load on the
//! shared machine during one round moves one pair, not the result.
//! `BENCH_SECS` (default 3) is the measured time per client, split over its
//! rounds; every round first runs a warm-up that is not counted.
//! `BENCH_CONCURRENCY` (default 32) sets the number of tasks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use iteration_transport::{ClientConfig, HttpClient, Server, ServerConfig, handler_fn};

const WARM_UP: Duration = Duration::from_millis(200);
const ROUNDS_PER_CLIENT: u32 = 6;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A ~1 KiB JSON document, built once.
fn payload() -> Bytes {
    let items: Vec<String> = (0..34).map(|i| format!(r#"{{"key":"flag-{i:03}","value":{i}}}"#)).collect();
    Bytes::from(format!(r#"{{"name":"benchmark","items":[{}]}}"#, items.join(",")))
}

#[derive(Clone, Copy)]
enum Side {
    Ours,
    Bare,
}

/// Runs `concurrency` tasks for warm-up + `measured`, returns requests/s over
/// the measured part.
async fn round(
    side: Side,
    ours: &HttpClient,
    bare: &Client<HttpConnector, Full<Bytes>>,
    uri: &http::Uri,
    body: &Bytes,
    concurrency: usize,
    measured: Duration,
) -> f64 {
    let start = Instant::now();
    let measure_from = start + WARM_UP;
    let end = measure_from + measured;
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (ours, bare, uri, body, done) =
            (ours.clone(), bare.clone(), uri.clone(), body.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let builder =
                    http::Request::post(uri.clone()).header(http::header::CONTENT_TYPE, "application/json");
                let ok = match side {
                    Side::Ours => {
                        let request = builder.body(body.clone()).expect("valid request");
                        let response = ours.send(request).await.expect("request succeeds");
                        response.status().is_success()
                    }
                    Side::Bare => {
                        let request = builder.body(Full::new(body.clone())).expect("valid request");
                        let response = bare.request(request).await.expect("request succeeds");
                        let status = response.status();
                        let bytes = response.into_body().collect().await.expect("body").to_bytes();
                        std::hint::black_box(bytes);
                        status.is_success()
                    }
                };
                assert!(ok);
                let now = Instant::now();
                if now >= end {
                    break;
                }
                if now >= measure_from {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("bench task");
    }
    done.load(Ordering::Relaxed) as f64 / measured.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let secs: f64 = env_or("BENCH_SECS", 3.0);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 32);
    let per_round = Duration::from_secs_f64(secs / f64::from(ROUNDS_PER_CLIENT));

    let server =
        Server::bind("127.0.0.1:0".parse().expect("addr"), ServerConfig::default()).await.expect("bind");
    let reply = Bytes::from_static(br#"{"ok":true}"#);
    let handle = server.spawn(handler_fn(move |_request| {
        let reply = reply.clone();
        async move {
            let mut response = http::Response::new(reply);
            response
                .headers_mut()
                .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
            response
        }
    }));
    let uri: http::Uri = format!("http://{}/v1/bench", handle.local_addr()).parse().expect("uri");
    let body = payload();

    let ours = HttpClient::new(ClientConfig::default()).expect("client");
    let bare: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());

    let (mut ours_total, mut bare_total) = (0.0, 0.0);
    let mut ratios = Vec::new();
    for pair in 0..ROUNDS_PER_CLIENT {
        let order = if pair % 2 == 0 { [Side::Ours, Side::Bare] } else { [Side::Bare, Side::Ours] };
        let (mut ours_rps, mut bare_rps) = (0.0, 0.0);
        for side in order {
            let rps = round(side, &ours, &bare, &uri, &body, concurrency, per_round).await;
            match side {
                Side::Ours => ours_rps = rps,
                Side::Bare => bare_rps = rps,
            }
        }
        ours_total += ours_rps;
        bare_total += bare_rps;
        ratios.push(ours_rps / bare_rps);
    }
    let client_rps = ours_total / f64::from(ROUNDS_PER_CLIENT);
    let bare_rps = bare_total / f64::from(ROUNDS_PER_CLIENT);
    ratios.sort_by(f64::total_cmp);
    let ratio = (ratios[ratios.len() / 2] + ratios[(ratios.len() - 1) / 2]) / 2.0;

    println!("payload {} bytes, {concurrency} tasks, {secs} s measured per client", body.len());
    println!("HttpClient::send      {client_rps:>10.0} req/s");
    println!("bare hyper-util Client {bare_rps:>9.0} req/s");
    let shown: Vec<String> = ratios.iter().map(|r| format!("{r:.3}")).collect();
    println!("ratio client/bare      {ratio:>9.3} (median of the pairs: {})", shown.join(" "));
    println!(
        "BENCH_RESULT {{\"name\":\"client_vs_bare_hyper\",\"client_rps\":{client_rps:.1},\"bare_rps\":{bare_rps:.1},\"ratio\":{ratio:.4}}}"
    );
    handle.shutdown().await.expect("shutdown");
}
