//! The scale phase: a SQLite data directory holding N experiments.
//!
//! The experiments are written straight into the stopped server's database
//! by `scale-seed` (creating them through the API would take longer than
//! every other benchmark together): one experiment created through the API
//! is the template, and each copy is its record under the key `scale-{i}`.
//! Then the server is started on the directory and measured: the time from
//! starting the process to its first answer, its peak RSS, get-experiment
//! and list-page latencies under the usual load, and create iteration
//! against the empty store's figure from the SQLite phases of the same run.
//!
//! [`check`] runs the load, the restart and a read-back of every experiment,
//! asserting only that each one is there: CI's correctness check of this
//! machinery, with no timing in it.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use super::{
    Binaries, EXPERIMENTS, Load, Options, Row, ServerProcess, Target, experiment_body, json_number, run_load,
    serve_args, target_dir,
};
use crate::cargo;

/// The key of the template experiment the copies are made from.
const TEMPLATE: &str = "scale-template";

/// How long a server may take to answer after it starts before the run
/// gives up: a guard against a hang, not a measurement.
const READY_GIVE_UP: Duration = Duration::from_secs(900);

/// The page size of the list phase: the API's default.
const PAGE: u32 = 20;

/// The database's size per stored experiment, rounded up, as measured by
/// this phase (4,481 MiB for 1,000,000 experiments of the demo request's
/// size): what it checks is free on disk before it loads N. The server's
/// memory does not grow with N (records are read on demand), so disk is
/// what a large N can run out of.
const RECORD_KIB_ESTIMATE: u64 = 5;

/// The space available to an unprivileged user on the file system that
/// holds `dir`, in KiB, from `df` (`None` when it cannot be read).
fn available_disk_kib(dir: &Path) -> Option<u64> {
    let output = std::process::Command::new("df").arg("-Pk").arg(dir).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    // POSIX format: a header line, then `filesystem blocks used available ...`.
    text.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()
}

pub(super) fn benchmark(
    root: &Path,
    binaries: &Binaries,
    work: &Path,
    request: &Path,
    empty_store_rps: f64,
    options: &Options,
) -> Result<Vec<Row>> {
    let n = options.scale;
    let section = "server, SQLite at scale";
    let needed_kib = u64::from(n) * RECORD_KIB_ESTIMATE + 256 * 1024;
    if let Some(available_kib) = available_disk_kib(work)
        && available_kib < needed_kib
    {
        return Ok(vec![Row {
            section,
            name: format!("{n} experiments: skipped"),
            figure: format!(
                "the database would need about {:.1} GiB on disk and {:.1} GiB is free; run with a smaller `--scale N`",
                needed_kib as f64 / 1048576.0,
                available_kib as f64 / 1048576.0
            ),
            ratio: None,
            target: None,
        }]);
    }
    let dir = work.join("scale");
    prepare(root, &binaries.server, &binaries.seed, &dir, n)?;
    let file_bytes = std::fs::metadata(dir.join("iteration.sqlite3")).map(|m| m.len()).unwrap_or(0);

    let dir_arg = dir.to_string_lossy().into_owned();
    let (server, restart) = restart(&binaries.server, &dir_arg)?;
    let get = Load {
        name: "get-experiment",
        method: "GET",
        path: format!("{EXPERIMENTS}/scale-{{random}}"),
        body: None,
        setup: None,
        random: n,
        requests: None,
    };
    let list = Load {
        name: "list-page",
        path: format!("{EXPERIMENTS}?limit={PAGE}&offset={{random}}"),
        random: n.saturating_sub(PAGE).max(1),
        ..get.clone()
    };
    let create =
        Load::post("create-iteration-at-scale", format!("{EXPERIMENTS}/scale-{{conn}}/iterations"), request);
    let get = run_load(&binaries.loadgen, &server.addr, &get, options)?;
    let list = run_load(&binaries.loadgen, &server.addr, &list, options)?;
    let create = run_load(&binaries.loadgen, &server.addr, &create, options)?;
    let rss_kib = server.peak_rss_kib().unwrap_or(0);
    server.stop()?;
    let _ = std::fs::remove_dir_all(&dir);

    let at = |what: &str| format!("{n} experiments: {what}");
    for (what, result) in [("get experiment", &get), ("list page", &list), ("create iteration", &create)] {
        if result.failures > 0 || result.response_bytes == 0 {
            bail!("{} failed {} times; see the first failure above", at(what), result.failures);
        }
    }
    Ok(vec![
        Row {
            section,
            name: at("restart to ready"),
            figure: format!(
                "{:.2} s, database {:.0} MiB",
                restart.as_secs_f64(),
                file_bytes as f64 / 1048576.0
            ),
            ratio: Some(restart.as_secs_f64() / 1.0),
            target: Some(Target::Below(1.0)),
        },
        Row {
            section,
            name: at("peak RSS of the server (to 256 MiB)"),
            figure: format!("{:.1} MiB", rss_kib as f64 / 1024.0),
            ratio: Some(rss_kib as f64 / 1024.0 / 256.0),
            target: Some(Target::Below(1.0)),
        },
        Row {
            section,
            name: at("get experiment, random key, p99 (to 2 ms)"),
            figure: get.describe(),
            ratio: Some(get.p99 / 2.0),
            target: Some(Target::Below(1.0)),
        },
        Row {
            section,
            name: at(&format!("list page of {PAGE}, random offset, p99 (to 20 ms)")),
            figure: list.describe(),
            ratio: Some(list.p99 / 20.0),
            target: Some(Target::Below(1.0)),
        },
        Row {
            section,
            name: at("create iteration, one experiment per connection (to the empty store)"),
            figure: format!("{}; empty store {:.0} req/s", create.describe(), empty_store_rps),
            ratio: Some(create.rps / empty_store_rps),
            target: Some(Target::AtLeast(0.9)),
        },
    ])
}

/// `cargo xtask bench --scale-check`: loads `n` experiments on debug builds,
/// restarts the server and reads every one back.
pub(super) fn check(root: &Path, n: u32) -> Result<()> {
    let status = cargo()
        .args([
            "build",
            "-p",
            "iteration",
            "-p",
            "iteration-loadgen",
            "--bin",
            "iteration",
            "--bin",
            "scale-seed",
        ])
        .status()?;
    super::check(status, "cargo build")?;
    let debug = target_dir(root).join("debug");
    let work = std::env::temp_dir().join(format!("iteration-scale-check-{}", std::process::id()));
    let dir = work.join("scale");
    prepare(root, &debug.join("iteration"), &debug.join("scale-seed"), &dir, n)?;
    let (server, _) = restart(&debug.join("iteration"), &dir.to_string_lossy())?;
    let result = read_back(&server.addr, n);
    server.stop()?;
    let _ = std::fs::remove_dir_all(&work);
    result?;
    println!("scale check: {n} experiments loaded, the server restarted, every one read back");
    Ok(())
}

/// Every `scale-{i}` answers with itself, and the list counts them all.
fn read_back(addr: &str, n: u32) -> Result<()> {
    for i in 0..n {
        let key = format!("scale-{i}");
        let (status, body) = http(addr, "GET", &format!("{EXPERIMENTS}/{key}"), None)?;
        ensure!(status == 200, "GET {key} after the restart answered {status}: {body}");
        ensure!(
            body.contains(&format!("\"key\":\"{key}\"")),
            "GET {key} answered another experiment: {body}"
        );
    }
    let (status, body) = http(addr, "GET", &format!("{EXPERIMENTS}?limit=1"), None)?;
    ensure!(status == 200, "the list answered {status}: {body}");
    let total = json_number(&body, "total_count").context("the list has no total_count")?;
    // The copies, the template and the demo world's seeded experiments.
    ensure!(total >= f64::from(n) + 1.0, "the list counts {total} experiments; {n} were loaded");
    Ok(())
}

/// A fresh data directory `dir` holding the demo world, the template and
/// `n` copies of it.
fn prepare(root: &Path, server: &Path, seed: &Path, dir: &Path, n: u32) -> Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    let dir_arg = dir.to_string_lossy().into_owned();
    let mut args = serve_args(&["--data-dir", &dir_arg]);
    args.extend(["--listen", "127.0.0.1:0"]);
    let running = ServerProcess::start(server, &args)?;
    let body = experiment_body(root, "Scale template", TEMPLATE)?;
    let (status, answer) = http(&running.addr, "POST", EXPERIMENTS, Some(&body))?;
    running.stop()?;
    ensure!((200..300).contains(&status), "creating the template experiment answered {status}: {answer}");
    let status = std::process::Command::new(seed)
        .arg("--data-dir")
        .arg(dir)
        .args(["--template", TEMPLATE, "--count", &n.to_string()])
        .status()
        .with_context(|| format!("run {}", seed.display()))?;
    super::check(status, "scale-seed")
}

/// Starts the server on `dir` and polls until it answers a read; the time
/// from starting the process to that answer.
fn restart(server: &Path, dir: &str) -> Result<(ServerProcess, Duration)> {
    let addr = free_address()?;
    let started = Instant::now();
    let mut running = ServerProcess::spawn(server, &serve_args(&["--data-dir", dir]), &addr)?;
    loop {
        if let Ok((200, _)) = http(&addr, "GET", &format!("{EXPERIMENTS}/scale-0"), None) {
            return Ok((running, started.elapsed()));
        }
        if let Some(status) = running.child.try_wait()? {
            bail!("the server on {dir} exited with {status} before it answered");
        }
        if started.elapsed() > READY_GIVE_UP {
            running.stop()?;
            bail!("the server on {dir} did not answer within {READY_GIVE_UP:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// An address on 127.0.0.1 with a port free now.
fn free_address() -> Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.to_string())
}

/// One HTTP/1.1 request on its own connection, with the demo world's
/// writer token; the status and the body. Enough for the few requests the
/// scale phase makes outside the load generator.
fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: api-demo-writer\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("not an HTTP response: {response:.80}"))?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}
