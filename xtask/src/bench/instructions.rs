//! Instructions per create iteration, counted under callgrind, on this
//! version and on the `--before` binary.
//!
//! Throughput on a shared machine moves by a tenth between runs minutes
//! apart, which is as large as the differences the `--before` comparison is
//! there to catch. An instruction count does not move with the machine's
//! other load: callgrind counts the same for the same binary and requests.
//! It misses what time would show of cache misses and waiting, so it backs
//! the throughput ratio up rather than replacing it.
//!
//! Each binary answers counted runs of create iteration requests
//! (`iteration-loadgen --requests`) from as many connections as the load
//! phases use, under callgrind: a short and a long run, whose difference,
//! divided by the difference in requests, is the cost of one request
//! without the server's start and shutdown. At that concurrency SQLite's
//! writer commits several requests per transaction, as it does in the load
//! phases. How many depends on how callgrind schedules the threads, so the
//! SQLite count could move between runs more than the in-memory one; in
//! the runs so far a binary's counts repeated within 0.2% on both.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::{Binaries, EXPERIMENTS, Load, Options, Row, ServerProcess, Target, run_load, serve_args};

/// The requests per connection of the short and of the long counted run.
const SHORT: u64 = 50;
const LONG: u64 = 350;

/// Whether callgrind can run here.
fn valgrind_found() -> bool {
    Command::new("valgrind").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// The rows comparing this version's instructions per create iteration
/// with `before`'s, on each store; one row saying why when valgrind is
/// missing.
pub(super) fn benchmark(
    binaries: &Binaries,
    before: &Path,
    work: &Path,
    request: &Path,
    experiment_body: &Path,
    options: &Options,
) -> Result<Vec<Row>> {
    if !valgrind_found() {
        return Ok(vec![Row {
            section: "server",
            name: "create iteration, instructions per request, to the `--before` binary".to_owned(),
            figure: "not counted: valgrind was not found".to_owned(),
            ratio: None,
            target: None,
        }]);
    }
    let path = format!("{EXPERIMENTS}/bench-{{conn}}/iterations");
    let mut rows = Vec::new();
    for store in ["in-memory", "SQLite"] {
        let count = |binary: &Path, name: &str| -> Result<f64> {
            let run = |requests: u64| -> Result<f64> {
                let dir = work.join(format!("callgrind-{name}-{store}-{requests}"));
                std::fs::create_dir_all(&dir)?;
                let load = Load {
                    setup: Some((EXPERIMENTS, experiment_body)),
                    requests: Some(requests),
                    ..Load::post("counted", path.clone(), request)
                };
                counted_run(binaries, binary, store, &dir, &load, options)
            };
            let (short, long) = (run(SHORT)?, run(LONG)?);
            Ok((long - short) / ((LONG - SHORT) * u64::from(options.connections)) as f64)
        };
        let this = count(&binaries.server, "this")?;
        let earlier = count(before, "before")?;
        rows.push(Row {
            section: "server",
            name: format!(
                "{store}: create iteration, instructions per request (callgrind), to the `--before` binary"
            ),
            figure: format!("{this:.0} against {earlier:.0} instructions; the ratio is theirs over ours"),
            ratio: Some(earlier / this),
            target: Some(Target::AtLeast(0.9)),
        });
    }
    Ok(rows)
}

/// The instructions `binary` executed, from start to shutdown, answering
/// the counted `load` on `store`.
fn counted_run(
    binaries: &Binaries,
    binary: &Path,
    store: &str,
    dir: &Path,
    load: &Load<'_>,
    options: &Options,
) -> Result<f64> {
    let out = dir.join("callgrind.out");
    let data = dir.join("data");
    let (out_arg, data_arg) =
        (format!("--callgrind-out-file={}", out.display()), data.to_string_lossy().into_owned());
    let binary_arg = binary.to_string_lossy();
    let store_args = if store == "SQLite" { vec!["--data-dir", &data_arg] } else { vec!["--in-memory"] };
    let mut args = vec!["--tool=callgrind", "--quiet", &out_arg, binary_arg.as_ref()];
    args.extend(serve_args(&store_args));
    args.extend(["--listen", "127.0.0.1:0"]);
    let server = ServerProcess::start(Path::new("valgrind"), &args)?;
    // Stopped before the load's result is looked at: callgrind writes its
    // counts when the server exits.
    let result = run_load(&binaries.loadgen, &server.addr, load, options);
    server.stop()?;
    let result = result?;
    let sent = load.requests.unwrap_or(0) * u64::from(options.connections);
    if result.requests != sent || result.failures > 0 {
        bail!("{store}: {} of {sent} counted create iterations succeeded", result.requests);
    }
    let profile = std::fs::read_to_string(&out).with_context(|| format!("read {}", out.display()))?;
    profile
        .lines()
        .find_map(|l| l.strip_prefix("summary:").or_else(|| l.strip_prefix("totals:")))
        .and_then(|n| n.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no instruction total in {}", out.display()))
}
