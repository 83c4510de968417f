//! A fixed-concurrency HTTP/1.1 load generator.
//!
//! Each of `--connections` tasks opens one keep-alive connection and sends
//! the same request back to back for `--warmup` plus `--duration` seconds;
//! only responses that complete after the warm-up count. It prints one line
//! `BENCH_RESULT {json}` with requests per second, latency percentiles and
//! the size of the largest successful response body, which
//! `cargo xtask bench` reads (it sizes the baseline route's body by it).
//!
//! `{conn}` in `--path`, `--setup-path` or the setup body is replaced by the connection's
//! index, so that each connection can work on its own resource (created by
//! the optional setup request the connection sends first). `{random}` in
//! `--path` is replaced, per request, by a number drawn uniformly below
//! `--random N`, so that reads spread over N resources.
//!
//! With `--requests N` each connection sends exactly N requests instead,
//! all of them counted, and stops: a run of a known size, for counting
//! instructions per request under a profiler, where time means little.
//!
//! Latencies go into a [`histogram::Histogram`], so that a long run keeps
//! no more than its counts.

mod histogram;

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::histogram::Histogram;

const USAGE: &str = "\
usage: iteration-loadgen --addr HOST:PORT --path PATH [options]

  --name NAME            name printed in the result line
  --method METHOD        request method (default POST)
  --path PATH            request path; {conn} is the connection index, {random}
                         a number below --random N drawn per request
  --random N             the range of {random} (default 1)
  --body-file FILE       request body (default empty)
  --header 'K: V'        a request header (repeatable)
  --setup-path PATH      a request each connection sends once before the run
  --setup-body-file FILE its body (method POST)
  --connections N        concurrent keep-alive connections (default 32)
  --duration SECS        measured time (default 5)
  --warmup SECS          time before measuring (default 1)
  --requests N           send exactly N requests per connection, all counted,
                         instead of --warmup and --duration
";

struct Options {
    name: String,
    addr: String,
    method: http::Method,
    path: String,
    body: Bytes,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
    setup: Option<(String, Bytes)>,
    connections: usize,
    duration: Duration,
    warmup: Duration,
    random: u64,
    /// Requests per connection, when the run is counted rather than timed.
    requests: Option<u64>,
}

fn parse_options() -> Result<Options> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_env();
    let mut options = Options {
        name: "load".to_owned(),
        addr: String::new(),
        method: http::Method::POST,
        path: String::new(),
        body: Bytes::new(),
        headers: Vec::new(),
        setup: None,
        connections: 32,
        duration: Duration::from_secs(5),
        warmup: Duration::from_secs(1),
        random: 1,
        requests: None,
    };
    let mut setup_path = None;
    let mut setup_body = Bytes::new();
    let secs = |s: String| -> Result<Duration> { Ok(Duration::from_secs_f64(s.parse()?)) };
    while let Some(arg) = parser.next()? {
        match arg {
            Long("name") => options.name = parser.value()?.string()?,
            Long("addr") => options.addr = parser.value()?.string()?,
            Long("method") => options.method = parser.value()?.string()?.parse()?,
            Long("path") => options.path = parser.value()?.string()?,
            Long("body-file") => options.body = std::fs::read(parser.value()?)?.into(),
            Long("header") => {
                let header = parser.value()?.string()?;
                let (name, value) = header.split_once(':').context("a header is 'Name: value'")?;
                options.headers.push((name.trim().parse()?, value.trim().parse()?));
            }
            Long("setup-path") => setup_path = Some(parser.value()?.string()?),
            Long("setup-body-file") => setup_body = std::fs::read(parser.value()?)?.into(),
            Long("connections") => options.connections = parser.value()?.parse()?,
            Long("duration") => options.duration = secs(parser.value()?.string()?)?,
            Long("warmup") => options.warmup = secs(parser.value()?.string()?)?,
            Long("random") => options.random = parser.value()?.parse::<u64>()?.max(1),
            Long("requests") => options.requests = Some(parser.value()?.parse()?),
            Long("help") | Short('h') => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    if options.addr.is_empty() || options.path.is_empty() {
        bail!("--addr and --path are required\n{USAGE}");
    }
    options.setup = setup_path.map(|path| (path, setup_body));
    Ok(options)
}

/// What one connection measured after the warm-up.
#[derive(Default)]
struct Tally {
    latencies: Histogram,
    failures: u64,
    first_failure: Option<String>,
    /// The largest successful response body, in bytes.
    response_bytes: usize,
}

fn main() -> Result<()> {
    let options = parse_options()?;
    // One worker thread per core: the server under test shares the machine,
    // and more threads would only add scheduling noise.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(options))
}

async fn run(options: Options) -> Result<()> {
    let options = std::sync::Arc::new(options);
    let start = Instant::now() + Duration::from_millis(200);
    let measure_from = start + options.warmup;
    let stop_at = measure_from + options.duration;
    let mut tasks = Vec::with_capacity(options.connections);
    for conn in 0..options.connections {
        let options = options.clone();
        tasks.push(tokio::spawn(
            async move { connection(&options, conn, start, measure_from, stop_at).await },
        ));
    }
    let mut all = Tally::default();
    for task in tasks {
        let tally = task.await??;
        all.latencies.add(&tally.latencies);
        all.failures += tally.failures;
        all.response_bytes = all.response_bytes.max(tally.response_bytes);
        if all.first_failure.is_none() {
            all.first_failure = tally.first_failure;
        }
    }
    let ok = all.latencies.count();
    let percentile = |p: f64| all.latencies.percentile(p) / 1000.0;
    // A counted run lasts as long as it takes.
    let measured = if options.requests.is_some() { start.elapsed() } else { options.duration };
    let rps = ok as f64 / measured.as_secs_f64();
    println!(
        "BENCH_RESULT {{\"name\":\"{}\",\"connections\":{},\"duration_s\":{},\"requests\":{},\"failures\":{},\"rps\":{:.1},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"p999_ms\":{:.3},\"response_bytes\":{}}}",
        options.name,
        options.connections,
        measured.as_secs_f64(),
        ok,
        all.failures,
        rps,
        percentile(50.0),
        percentile(99.0),
        percentile(99.9),
        all.response_bytes,
    );
    if let Some(failure) = all.first_failure {
        eprintln!("{} failed requests; the first: {failure}", all.failures);
    }
    Ok(())
}

fn request(
    options: &Options,
    method: http::Method,
    path: &str,
    body: Bytes,
) -> Result<http::Request<Full<Bytes>>> {
    let mut builder =
        http::Request::builder().method(method).uri(path).header(http::header::HOST, &options.addr);
    for (name, value) in &options.headers {
        builder = builder.header(name, value);
    }
    Ok(builder.body(Full::new(body))?)
}

async fn connection(
    options: &Options,
    conn: usize,
    start: Instant,
    measure_from: Instant,
    stop_at: Instant,
) -> Result<Tally> {
    let stream =
        TcpStream::connect(&options.addr).await.with_context(|| format!("connect to {}", options.addr))?;
    stream.set_nodelay(true)?;
    let (mut sender, driver) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(driver);
    let index = conn.to_string();
    if let Some((setup_path, setup_body)) = &options.setup {
        let body = String::from_utf8_lossy(setup_body).replace("{conn}", &index);
        let req = request(options, http::Method::POST, &setup_path.replace("{conn}", &index), body.into())?;
        let response = sender.send_request(req).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            bail!("setup for connection {conn} answered {status}: {}", String::from_utf8_lossy(&body));
        }
    }
    let path = options.path.replace("{conn}", &index);
    let random = path.contains("{random}");
    // A small generator of its own per connection (xorshift), seeded by the
    // connection's index: the draws need to be spread, not unpredictable.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ (conn as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let mut draw = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % options.random
    };
    tokio::time::sleep_until(start.into()).await;
    let mut tally = Tally::default();
    let mut count = 0;
    loop {
        let sent = Instant::now();
        match options.requests {
            Some(n) if count == n => break,
            Some(_) => count += 1,
            None if sent >= stop_at => break,
            None => {}
        }
        let uri = if random { path.replace("{random}", &draw().to_string()) } else { path.clone() };
        let req = request(options, options.method.clone(), &uri, options.body.clone())?;
        sender.ready().await?;
        let response = sender.send_request(req).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        let done = Instant::now();
        if options.requests.is_none() && (done < measure_from || done > stop_at) {
            continue;
        }
        if status.is_success() {
            let micros = u64::try_from(done.duration_since(sent).as_micros()).unwrap_or(u64::MAX);
            tally.latencies.record(micros);
            tally.response_bytes = tally.response_bytes.max(body.len());
        } else {
            tally.failures += 1;
            if tally.first_failure.is_none() {
                tally.first_failure = Some(format!("{status}: {}", String::from_utf8_lossy(&body)));
            }
        }
    }
    Ok(tally)
}
