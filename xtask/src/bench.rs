//! `cargo xtask bench`: every benchmark in one run, one table.
//!
//! The machine is shared and noisy, so every figure is a ratio to a baseline
//! measured in the same run:
//! - model (criterion): each benchmark against parsing the same bytes into
//!   `serde_json::Value`;
//! - server, in-process (criterion, `iteration-api`'s `app` bench): create
//!   iteration through `App::handle` without a socket, against the fixed-body
//!   route of the same `App`;
//! - server (`iteration-loadgen` against the release binary): create
//!   iteration on the in-memory store and on SQLite, one experiment per
//!   connection and all connections on one hot experiment, against a bare
//!   hyper server answering a body of the same size (`bare-hyper`), beside
//!   the server's own fixed-body route, in rounds of alternating order, the
//!   ratio being the median round's; with `--before`, the same create
//!   phase on the earlier binary and on a second server of this one (whose
//!   ratio is the noise floor of a ratio between phases);
//! - server, counted (`--before` only): instructions per create iteration
//!   under callgrind, this version against the earlier binary, at the load
//!   phases' concurrency, a figure the machine's other load hardly moves;
//! - server at scale: N experiments written straight into a SQLite data
//!   directory, then restart-to-ready time, peak RSS, read latencies under
//!   load and create iteration against the empty store's figure;
//! - client (`client_vs_hyper`): this crate's client against bare hyper.
//!
//! `--scale-check` runs only the scale phase's load, restart and read-back,
//! on debug builds with a small N, and asserts that every experiment reads
//! back: a correctness check for CI, with no timing in it.
//!
//! The table is printed and written into BENCHMARKS.md between the
//! `bench:start` and `bench:end` markers, with the date, the machine and the
//! command.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::{cargo, no_more_options, project_root};

mod instructions;
mod scale;

const START_MARKER: &str = "<!-- bench:start -->";
const END_MARKER: &str = "<!-- bench:end -->";

/// Options of `cargo xtask bench`.
pub(crate) struct Options {
    /// Seconds each side of a load-test comparison, and each client of the
    /// client benchmark, is measured for in all, split over its rounds (`--seconds N`).
    seconds: u32,
    /// Concurrent connections of the load test (`--connections N`).
    connections: u32,
    /// Write BENCHMARKS.md (off with `--no-write`).
    write: bool,
    /// Shorter phases and a smaller scale phase (`--quick`).
    quick: bool,
    /// Experiments stored for the scale phase (`--scale N`).
    scale: u32,
    /// Only check the scale phase's load, restart and read-back (`--scale-check`).
    scale_check: bool,
    /// An `iteration` binary of an earlier version to compare create
    /// iteration with, phase for phase (`--before BINARY`).
    before: Option<PathBuf>,
}

/// Experiments in the scale phase of a full run, of `--quick`, and of `--scale-check`.
const SCALE_FULL: u32 = 1_000_000;
const SCALE_QUICK: u32 = 20_000;
const SCALE_CHECK: u32 = 300;

impl Options {
    pub(crate) fn parse(options: &[String]) -> Result<Options> {
        let mut parsed = Options {
            seconds: 10,
            connections: 32,
            write: true,
            quick: false,
            scale: 0,
            scale_check: false,
            before: None,
        };
        let (mut seconds, mut scale) = (None, None);
        let mut rest = Vec::new();
        let mut options = options.iter();
        while let Some(option) = options.next() {
            let mut number = |name: &str| -> Result<u32> {
                let value = options.next().with_context(|| format!("{name} needs a number"))?;
                match value.parse() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => bail!("{name} needs a positive whole number, not {value:?}"),
                }
            };
            match option.as_str() {
                "--seconds" => seconds = Some(number("--seconds")?),
                "--connections" => parsed.connections = number("--connections")?,
                "--scale" => scale = Some(number("--scale")?),
                "--no-write" => parsed.write = false,
                "--quick" => parsed.quick = true,
                "--scale-check" => parsed.scale_check = true,
                "--before" => {
                    let binary =
                        options.next().context("--before needs the path of an `iteration` binary")?;
                    parsed.before = Some(PathBuf::from(binary));
                }
                _ => rest.push(option.clone()),
            }
        }
        no_more_options("bench", &rest)?;
        parsed.seconds = seconds.unwrap_or(if parsed.quick { 5 } else { 10 });
        parsed.scale = scale.unwrap_or(if parsed.scale_check {
            SCALE_CHECK
        } else if parsed.quick {
            SCALE_QUICK
        } else {
            SCALE_FULL
        });
        Ok(parsed)
    }
}

struct Row {
    section: &'static str,
    name: String,
    figure: String,
    ratio: Option<f64>,
    target: Option<Target>,
}

#[derive(Clone, Copy)]
enum Target {
    /// The ratio must be at least this.
    AtLeast(f64),
    /// The ratio must be below this.
    Below(f64),
}

impl Target {
    fn holds(self, value: f64) -> bool {
        match self {
            Target::AtLeast(min) => value >= min,
            Target::Below(max) => value < max,
        }
    }

    fn describe(self) -> String {
        match self {
            Target::AtLeast(min) => format!("≥ {min}"),
            Target::Below(max) => format!("< {max}"),
        }
    }
}

pub(crate) fn run(options: &Options) -> Result<()> {
    let root = project_root();
    if options.scale_check {
        return scale::check(&root, options.scale);
    }
    let mut rows = Vec::new();
    rows.extend(model_benchmarks(&root, options)?);
    rows.extend(server_benchmarks(&root, options)?);
    rows.extend(client_benchmark(options)?);
    let table = render(&rows, options);
    println!("{table}");
    if options.write {
        write_benchmarks_md(&root.join("BENCHMARKS.md"), &table)?;
        println!("wrote BENCHMARKS.md");
    }
    Ok(())
}

fn check(status: std::process::ExitStatus, what: &str) -> Result<()> {
    if !status.success() {
        bail!("{what} failed with {status}");
    }
    Ok(())
}

// ---------------------------------------------------------------- model

fn model_benchmarks(root: &Path, options: &Options) -> Result<Vec<Row>> {
    let criterion_dir = target_dir(root).join("criterion");
    let measure = if options.quick { "1" } else { "3" };
    // Old results of renamed benchmarks would otherwise show up in the table.
    let _ = std::fs::remove_dir_all(&criterion_dir);
    let status = cargo()
        .args(["bench", "-p", "iteration-model", "--bench", "model", "--"])
        .args(["--warm-up-time", "1", "--measurement-time", measure, "--noplot"])
        .status()?;
    check(status, "cargo bench -p iteration-model")?;
    // The server's handling without a socket, in the same criterion run.
    let status = cargo()
        .args(["bench", "-p", "iteration-api", "--features", "server", "--bench", "app", "--"])
        .args(["--warm-up-time", "1", "--measurement-time", measure, "--noplot"])
        .status()?;
    check(status, "cargo bench -p iteration-api")?;

    let mut estimates = Vec::new();
    collect_estimates(&criterion_dir, &mut estimates)?;
    // The model's rows first, then the server's in-process ones.
    estimates.sort_by(|a, b| (a.0.starts_with("app/"), &a.0).cmp(&(b.0.starts_with("app/"), &b.0)));
    // Each benchmark is compared with the baseline of its own group (the
    // part of its id before `/`), which parses the same bytes.
    let group = |id: &str| id.split('/').next().unwrap_or_default().to_owned();
    let baselines: std::collections::HashMap<String, f64> =
        estimates.iter().filter(|(id, _)| id.contains("baseline")).map(|(id, ns)| (group(id), *ns)).collect();
    estimates
        .into_iter()
        .map(|(id, ns)| {
            let baseline = baselines.get(&group(&id)).with_context(|| {
                format!("model benchmark {id} has no baseline in its group (an id containing \"baseline\")")
            })?;
            let is_parse = id.contains("parse") && !id.contains("baseline") && !id.contains("unknown");
            Ok(Row {
                section: if id.starts_with("app/") { "server, in-process" } else { "model" },
                ratio: Some(ns / baseline),
                target: is_parse.then_some(Target::Below(1.0)),
                figure: format_nanos(ns),
                name: id,
            })
        })
        .collect::<Result<_>>()
}

/// Finds criterion's `new/estimates.json` files and reads each mean.
fn collect_estimates(dir: &Path, out: &mut Vec<(String, f64)>) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for entry in entries {
        let path = entry?.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            let estimates = std::fs::read_to_string(path.join("estimates.json"))?;
            let benchmark = std::fs::read_to_string(path.join("benchmark.json"))?;
            let id = json_string(&benchmark, "full_id").context("benchmark.json without full_id")?;
            let mean = json_number_after(&estimates, "\"mean\"", "point_estimate")
                .context("estimates.json without mean.point_estimate")?;
            out.push((id, mean));
        } else if path.file_name().is_some_and(|n| n != "base" && n != "report" && n != "change") {
            collect_estimates(&path, out)?;
        }
    }
    Ok(())
}

fn format_nanos(ns: f64) -> String {
    if ns >= 1_000_000.0 {
        format!("{:.2} ms", ns / 1_000_000.0)
    } else if ns >= 1_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

// ---------------------------------------------------------------- server

/// Where cargo puts build output: `CARGO_TARGET_DIR` when set, else `target/`.
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"))
}

/// A program under test: the `iteration` server or the bare hyper baseline.
pub(crate) struct ServerProcess {
    child: Child,
    pub(crate) addr: String,
}

impl ServerProcess {
    /// Starts `binary` with `args` and waits for the line that says where it listens.
    pub(crate) fn start(binary: &Path, args: &[&str]) -> Result<ServerProcess> {
        let mut child = Command::new(binary)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("start {}", binary.display()))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines.next().context("the server exited before it listened")??;
            if let Some(rest) = line.split("listening on ").nth(1) {
                let url = rest.split_whitespace().next().unwrap_or(rest);
                break url.trim_start_matches("http://").trim_start_matches("https://").to_owned();
            }
        };
        // Keep draining stdout so that the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Ok(ServerProcess { child, addr })
    }

    /// Starts `binary` listening on `addr` without waiting for it: the
    /// caller polls until it answers.
    pub(crate) fn spawn(binary: &Path, args: &[&str], addr: &str) -> Result<ServerProcess> {
        let child = Command::new(binary)
            .args(args)
            .args(["--listen", addr])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("start {}", binary.display()))?;
        Ok(ServerProcess { child, addr: addr.to_owned() })
    }

    /// The server's peak resident set size so far, from `/proc`.
    fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    pub(crate) fn stop(mut self) -> Result<()> {
        // SIGTERM lets the server shut down gracefully; fall back to a kill.
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        for _ in 0..300 {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

/// The `iteration serve` arguments every benchmark server gets.
fn serve_args<'a>(store_args: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["serve", "--demo", "--no-rate-limit", "--bench-baseline-route"];
    args.extend_from_slice(store_args);
    args
}

#[derive(Clone)]
struct LoadResult {
    rps: f64,
    p50: f64,
    p99: f64,
    p999: f64,
    /// Successful requests counted (all of a counted run's).
    requests: u64,
    failures: u64,
    /// The largest successful response body.
    response_bytes: usize,
}

impl LoadResult {
    fn describe(&self) -> String {
        format!(
            "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms{}",
            self.rps,
            self.p50,
            self.p99,
            self.p999,
            if self.failures > 0 { format!(", {} failed", self.failures) } else { String::new() }
        )
    }
}

#[derive(Clone)]
struct Load<'a> {
    name: &'a str,
    method: &'a str,
    path: String,
    body: Option<&'a Path>,
    setup: Option<(&'a str, &'a Path)>,
    /// The range of `{random}` in the path.
    random: u32,
    /// A counted run: this many requests per connection, instead of a
    /// warm-up and a round's share of `--seconds`.
    requests: Option<u64>,
}

impl<'a> Load<'a> {
    fn post(name: &'a str, path: String, body: &'a Path) -> Load<'a> {
        Load { name, method: "POST", path, body: Some(body), setup: None, random: 1, requests: None }
    }
}

/// Rounds of phases per store; their order alternates and each ratio is the
/// median of the rounds' ratios, so that a burst of other load on the
/// shared machine during one phase moves one round, not the result.
const ROUNDS: u32 = 5;

fn run_load(loadgen: &Path, addr: &str, load: &Load<'_>, options: &Options) -> Result<LoadResult> {
    let mut command = Command::new(loadgen);
    command
        .args(["--name", load.name, "--addr", addr, "--method", load.method, "--path", &load.path])
        .args(["--header", "Authorization: api-demo-writer", "--header", "Content-Type: application/json"])
        .args(["--connections", &options.connections.to_string(), "--random", &load.random.to_string()]);
    match load.requests {
        Some(requests) => command.args(["--requests", &requests.to_string()]),
        None => command.args([
            "--duration",
            &(f64::from(options.seconds) / f64::from(ROUNDS)).to_string(),
            "--warmup",
            "1",
        ]),
    };
    if let Some(body) = load.body {
        command.arg("--body-file").arg(body);
    }
    if let Some((path, body)) = load.setup {
        command.args(["--setup-path", path]).arg("--setup-body-file").arg(body);
    }
    let output = command.stderr(Stdio::inherit()).output()?;
    check(output.status, "iteration-loadgen")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("BENCH_RESULT "))
        .context("iteration-loadgen printed no BENCH_RESULT line")?;
    let number = |key: &str| json_number(line, key).with_context(|| format!("BENCH_RESULT without {key}"));
    Ok(LoadResult {
        rps: number("rps")?,
        p50: number("p50_ms")?,
        p99: number("p99_ms")?,
        p999: number("p999_ms")?,
        requests: number("requests")? as u64,
        failures: number("failures")? as u64,
        response_bytes: number("response_bytes")? as usize,
    })
}

/// Where the demo world's experiments live (docs/demo-world.md).
pub(crate) const EXPERIMENTS: &str = "/api/v2/projects/my-project/environments/production/experiments";

/// The demo world's seeded experiment every connection of the hot phase writes to.
const HOT_EXPERIMENT: &str = "example-experiment";

/// The body that creates experiment `key` with the DEMO_WORLD request as its first iteration.
pub(crate) fn experiment_body(root: &Path, name: &str, key: &str) -> Result<String> {
    let request = root.join("crates/iteration-model/fixtures/demo/valid-request.json");
    let iteration = std::fs::read_to_string(&request)
        .with_context(|| format!("read the DEMO_WORLD request at {}", request.display()))?;
    Ok(format!(r#"{{"name": "{name}", "key": "{key}", "iteration": {iteration}}}"#))
}

/// One round's figures, per phase.
struct Round {
    bare: LoadResult,
    route: LoadResult,
    many: LoadResult,
    hot: LoadResult,
    /// Create iteration, one experiment per connection, on the `--before` binary.
    before: Option<LoadResult>,
    /// The same on a second server of this binary (with `--before` only).
    twin: Option<LoadResult>,
}

/// Picks one phase's figures out of a round.
type Phase = fn(&Round) -> &LoadResult;

/// The figures of the median round by `ratio`, and every round's ratio.
fn median_round(rounds: &[Round], ratio: impl Fn(&Round) -> f64) -> (&Round, f64, Vec<String>) {
    let mut sorted: Vec<&Round> = rounds.iter().collect();
    sorted.sort_by(|a, b| ratio(a).total_cmp(&ratio(b)));
    let all = sorted.iter().map(|r| format!("{:.3}", ratio(r))).collect();
    let median = sorted[sorted.len() / 2];
    (median, ratio(median), all)
}

fn server_benchmarks(root: &Path, options: &Options) -> Result<Vec<Row>> {
    let status =
        cargo().args(["build", "--release", "-p", "iteration", "-p", "iteration-loadgen"]).status()?;
    check(status, "cargo build --release")?;
    let release = target_dir(root).join("release");
    let binaries = Binaries {
        server: release.join("iteration"),
        loadgen: release.join("iteration-loadgen"),
        bare: release.join("bare-hyper"),
        seed: release.join("scale-seed"),
    };

    let work = std::env::temp_dir().join(format!("iteration-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let request = root.join("crates/iteration-model/fixtures/demo/valid-request.json");
    let experiment_body_file = work.join("experiment.json");
    std::fs::write(&experiment_body_file, experiment_body(root, "Bench {conn}", "bench-{conn}")?)?;

    let mut rows = Vec::new();
    let mut bare: Option<ServerProcess> = None;
    let mut sqlite_many_rps = None;
    let data_dir = work.join("data");
    let data_dir_arg = data_dir.to_string_lossy().into_owned();
    for (store, store_args) in
        [("in-memory", vec!["--in-memory"]), ("SQLite", vec!["--data-dir", data_dir_arg.as_str()])]
    {
        let mut args = serve_args(&store_args);
        args.extend(["--listen", "127.0.0.1:0"]);
        let server = ServerProcess::start(&binaries.server, &args)?;
        // One experiment per connection: create iteration replaces the
        // experiment's draft, and this phase measures the endpoint, not
        // contention on one record.
        let many = Load {
            setup: Some((EXPERIMENTS, &experiment_body_file)),
            ..Load::post("create-iteration", format!("{EXPERIMENTS}/bench-{{conn}}/iterations"), &request)
        };
        // Every connection on one experiment: what a client that retries
        // one experiment's writes, or many clients of one team, do.
        let hot = Load::post(
            "create-iteration-hot",
            format!("{EXPERIMENTS}/{HOT_EXPERIMENT}/iterations"),
            &request,
        );
        // The setup run: it creates each connection's experiment and warms
        // the server (a new database grows its files in its first seconds).
        // Its figures are not used, as the earlier version's setup run's are
        // not: a phase compared with another always runs on a warm server.
        let first = run_load(&binaries.loadgen, &server.addr, &many, options)?;
        check_create(store, &first)?;
        // The earlier version, on its own data directory, set up the same way.
        let before_dir = work.join("data-before");
        let before_dir_arg = before_dir.to_string_lossy().into_owned();
        // And a second server of this version, set up the same way: the
        // ratio of two servers of one binary is what the machine's noise
        // alone does to a ratio between phases.
        let twin_dir_arg = work.join("data-twin").to_string_lossy().into_owned();
        let (before, twin) = match &options.before {
            Some(binary) => {
                let start = |binary: &Path, dir: &str| -> Result<ServerProcess> {
                    let store_args =
                        if store == "SQLite" { vec!["--data-dir", dir] } else { store_args.clone() };
                    let mut args = serve_args(&store_args);
                    args.extend(["--listen", "127.0.0.1:0"]);
                    let server = ServerProcess::start(binary, &args)?;
                    check_create(store, &run_load(&binaries.loadgen, &server.addr, &many, options)?)?;
                    Ok(server)
                };
                (Some(start(binary, &before_dir_arg)?), Some(start(&binaries.server, &twin_dir_arg)?))
            }
            None => (None, None),
        };
        let size = first.response_bytes;
        if bare.is_none() {
            // The outside baseline answers exactly as many bytes as create
            // iteration does in this run.
            bare = Some(ServerProcess::start(&binaries.bare, &["--size", &size.to_string()])?);
        }
        let bare_addr = bare.as_ref().map(|b| b.addr.clone()).unwrap_or_default();
        // The server's own baseline route: the same request read, a body of
        // the same size, through the whole server stack, nothing else.
        let route = Load::post("baseline-route", format!("/__bench/fixed?size={size}"), &request);
        let bare_load = Load::post("bare-hyper", "/".to_owned(), &request);
        let many = Load { setup: None, ..many };

        let mut rounds = Vec::new();
        for round in 0..ROUNDS {
            let phase = |which: usize| -> Result<LoadResult> {
                match which {
                    0 => run_load(&binaries.loadgen, &bare_addr, &bare_load, options),
                    1 => run_load(&binaries.loadgen, &server.addr, &route, options),
                    2 => run_load(&binaries.loadgen, &server.addr, &many, options),
                    3 => run_load(&binaries.loadgen, &server.addr, &hot, options),
                    4 => {
                        let before = before.as_ref().context("no --before server")?;
                        run_load(&binaries.loadgen, &before.addr, &many, options)
                    }
                    _ => {
                        let twin = twin.as_ref().context("no second server")?;
                        run_load(&binaries.loadgen, &twin.addr, &many, options)
                    }
                }
            };
            // Odd rounds run in the reverse order of even ones. The earlier
            // version's phase and the second server's sit on either side
            // of this version's.
            let order: &[usize] = match (round % 2 == 1, before.is_some()) {
                (false, false) => &[0, 1, 2, 3],
                (true, false) => &[3, 2, 1, 0],
                (false, true) => &[0, 1, 4, 2, 5, 3],
                (true, true) => &[3, 5, 2, 4, 1, 0],
            };
            let mut results: [Option<LoadResult>; 6] = Default::default();
            for &which in order {
                results[which] = Some(phase(which)?);
            }
            let [Some(bare), Some(route), Some(many), Some(hot), earlier, second] = results else {
                bail!("a phase of round {round} did not run");
            };
            check_create(store, &many)?;
            if hot.response_bytes == 0 {
                bail!(
                    "create iteration on one hot experiment ({store}) never succeeded; see the failure above"
                );
            }
            rounds.push(Round { bare, route, many, hot, before: earlier, twin: second });
        }
        let rss = server.peak_rss_kib();
        server.stop()?;
        // This version's create phase against the same phase on another server.
        let against = |other: fn(&Round) -> Option<&LoadResult>, to: &str, target| {
            let rps = move |r: &Round| other(r).map_or(f64::NAN, |o| o.rps);
            let (round, ratio, all) = median_round(&rounds, |r| r.many.rps / rps(r));
            Row {
                section: "server",
                name: format!("{store}: create iteration, one experiment per connection, to {to}"),
                figure: format!(
                    "{:.0} to {:.0} req/s; median of rounds {}",
                    round.many.rps,
                    rps(round),
                    all.join(", ")
                ),
                ratio: Some(ratio),
                target,
            }
        };
        if let Some(before) = before {
            before.stop()?;
            rows.push(against(|r| r.before.as_ref(), "the `--before` binary", Some(Target::AtLeast(0.9))));
        }
        if let Some(twin) = twin {
            twin.stop()?;
            rows.push(against(
                |r| r.twin.as_ref(),
                "a second server of this binary (the noise between phases)",
                None,
            ));
        }

        let to_bare = |m: fn(&Round) -> &LoadResult| move |r: &Round| m(r).rps / r.bare.rps;
        let (bare_median, _, _) = median_round(&rounds, |r| r.bare.rps);
        rows.push(Row {
            section: "server",
            name: format!("{store}: bare hyper 1, fixed body of {size} bytes (baseline)"),
            figure: bare_median.bare.describe(),
            ratio: Some(1.0),
            target: None,
        });
        let (in_memory, sqlite) = (store == "in-memory", store == "SQLite");
        let phases: [(&str, Phase, Option<Target>); 3] = [
            ("in-app fixed-body route", |r| &r.route, None),
            (
                "create iteration, one experiment per connection",
                |r| &r.many,
                sqlite.then_some(Target::AtLeast(0.3)),
            ),
            (
                "create iteration, one hot experiment",
                |r| &r.hot,
                Some(Target::AtLeast(if in_memory { 0.5 } else { 0.2 })),
            ),
        ];
        for (name, measured, target) in phases {
            let (round, ratio, all) = median_round(&rounds, to_bare(measured));
            rows.push(Row {
                section: "server",
                name: format!("{store}: {name}"),
                figure: format!("{}; median of rounds {}", measured(round).describe(), all.join(", ")),
                ratio: Some(ratio),
                target,
            });
        }
        // The earlier target, against the server's own route, kept so that
        // it cannot regress unseen.
        let (round, ratio, all) = median_round(&rounds, |r| r.many.rps / r.route.rps);
        rows.push(Row {
            section: "server",
            name: format!("{store}: create iteration, one experiment per connection, to the in-app route"),
            figure: format!(
                "{:.0} to {:.0} req/s; median of rounds {}",
                round.many.rps,
                round.route.rps,
                all.join(", ")
            ),
            ratio: Some(ratio),
            target: Some(Target::AtLeast(if in_memory { 0.5 } else { 0.25 })),
        });
        if sqlite {
            sqlite_many_rps = Some(median_round(&rounds, |r| r.many.rps).0.many.rps);
        }
        if let Some(rss) = rss {
            rows.push(Row {
                section: "server",
                name: format!("{store}: peak RSS of the server"),
                figure: format!("{:.1} MiB", rss as f64 / 1024.0),
                ratio: Some(rss as f64 / 1024.0 / 64.0),
                target: Some(Target::Below(1.0)),
            });
        }
    }
    if let Some(bare) = bare {
        bare.stop()?;
    }
    if let Some(before) = &options.before {
        rows.extend(instructions::benchmark(
            &binaries,
            before,
            &work,
            &request,
            &experiment_body_file,
            options,
        )?);
    }
    let empty_rps = sqlite_many_rps.context("the SQLite phases did not run")?;
    rows.extend(scale::benchmark(root, &binaries, &work, &request, empty_rps, options)?);
    let _ = std::fs::remove_dir_all(&work);
    Ok(rows)
}

/// The release binaries the server benchmarks run.
pub(crate) struct Binaries {
    pub(crate) server: PathBuf,
    pub(crate) loadgen: PathBuf,
    pub(crate) bare: PathBuf,
    pub(crate) seed: PathBuf,
}

/// Fails the run when create iteration failed: its figures would mean nothing.
fn check_create(store: &str, result: &LoadResult) -> Result<()> {
    if result.failures > 0 || result.response_bytes == 0 {
        bail!("create iteration on {store} failed {} times; see the first failure above", result.failures);
    }
    Ok(())
}

// ---------------------------------------------------------------- client

fn client_benchmark(options: &Options) -> Result<Vec<Row>> {
    let output = cargo()
        .args(["bench", "-p", "iteration-transport", "--bench", "client_vs_hyper"])
        .env("BENCH_SECS", options.seconds.to_string())
        .stderr(Stdio::inherit())
        .output()?;
    check(output.status, "cargo bench -p iteration-transport")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("BENCH_RESULT "))
        .context("client_vs_hyper printed no BENCH_RESULT line")?;
    let client = json_number(line, "client_rps").context("client_rps")?;
    let bare = json_number(line, "bare_rps").context("bare_rps")?;
    Ok(vec![
        Row {
            section: "client",
            name: "bare hyper client (baseline)".to_owned(),
            figure: format!("{bare:.0} req/s"),
            ratio: Some(1.0),
            target: None,
        },
        Row {
            section: "client",
            name: "iteration-transport HttpClient".to_owned(),
            figure: format!("{client:.0} req/s"),
            ratio: Some(client / bare),
            target: Some(Target::AtLeast(0.9)),
        },
    ])
}

// ---------------------------------------------------------------- output

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split(':').nth(1)))
        .map(str::trim)
        .unwrap_or("unknown CPU");
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kib| kib / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    format!("{cores} cores ({model}), {mem_gib:.0} GiB")
}

fn today() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn render(rows: &[Row], options: &Options) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Run on {} on {}, with `cargo xtask bench{}` ({} s measured per phase over {ROUNDS} rounds, \
         {} connections, {} experiments in the scale phase).\n\n",
        today(),
        machine(),
        if options.quick { " --quick" } else { "" },
        options.seconds,
        options.connections,
        options.scale,
    ));
    out.push_str("| part | benchmark | figure | ratio to baseline | target |\n|---|---|---|---|---|\n");
    for row in rows {
        let ratio = row.ratio.map(|r| format!("{r:.3}")).unwrap_or_default();
        let target = match (row.target, row.ratio) {
            (Some(t), Some(r)) => {
                format!("{} {}", t.describe(), if t.holds(r) { "✓ met" } else { "✗ missed" })
            }
            _ => String::new(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            row.section, row.name, row.figure, ratio, target
        ));
    }
    out
}

fn write_benchmarks_md(path: &PathBuf, table: &str) -> Result<()> {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let generated = format!(
        "{START_MARKER}\n<!-- generated by `cargo xtask bench`; do not edit -->\n{table}{END_MARKER}"
    );
    let updated = match (existing.find(START_MARKER), existing.find(END_MARKER)) {
        (Some(start), Some(end)) if start < end => {
            format!("{}{}{}", &existing[..start], generated, &existing[end + END_MARKER.len()..])
        }
        _ => format!("# Benchmarks\n\n{generated}\n\n{existing}"),
    };
    std::fs::write(path, updated)?;
    Ok(())
}

// ---------------------------------------------------------------- JSON

// xtask keeps its dependencies to anyhow; the few JSON values it reads come
// from our own tools and criterion, in a known flat shape.

fn json_string(json: &str, key: &str) -> Option<String> {
    let after = &json[json.find(&format!("\"{key}\""))? + key.len() + 2..];
    let start = after.find('"')? + 1;
    let end = start + after[start..].find('"')?;
    Some(after[start..end].to_owned())
}

fn json_number(json: &str, key: &str) -> Option<f64> {
    let after = &json[json.find(&format!("\"{key}\""))? + key.len() + 2..];
    let after = after.trim_start().strip_prefix(':')?.trim_start();
    let end = after
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | 'E' | '+')))
        .unwrap_or(after.len());
    after[..end].parse().ok()
}

fn json_number_after(json: &str, anchor: &str, key: &str) -> Option<f64> {
    json_number(&json[json.find(anchor)?..], key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_flat_json() {
        let line = r#"{"name":"baseline","rps":1234.5,"p50_ms":0.250,"failures":0}"#;
        assert_eq!(json_number(line, "rps"), Some(1234.5));
        assert_eq!(json_number(line, "failures"), Some(0.0));
        assert_eq!(json_string(line, "name").as_deref(), Some("baseline"));
        let estimates = r#"{"mean":{"confidence_interval":{"lower_bound":1.0},"point_estimate":812.5},"median":{"point_estimate":3.0}}"#;
        assert_eq!(json_number_after(estimates, "\"mean\"", "point_estimate"), Some(812.5));
    }

    #[test]
    fn replaces_only_the_generated_part() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("BENCHMARKS.md");
        std::fs::write(
            &path,
            format!("# B\n\nintro\n{START_MARKER}\nold\n{END_MARKER}\n\n## Profile\nkept\n"),
        )
        .unwrap();
        write_benchmarks_md(&path, "new table\n").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# B\n\nintro\n<!-- bench:start -->"));
        assert!(text.contains("new table\n<!-- bench:end -->"));
        assert!(!text.contains("old"));
        assert!(text.ends_with("## Profile\nkept\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
