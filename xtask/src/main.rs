//! `cargo xtask <task>`: the project's maintainer tasks, as plain Rust.
//!
//! Each task is one module with a `run` function; `main` only parses the
//! task name and its options. To add a task, add a module and a row to
//! [`TASKS`] and to the `match` in [`main`].

mod bench;
mod fixtures;
mod package;
mod proptest;
#[cfg(test)]
mod tidy;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Result, bail};

/// Every task, with the line `--help` shows for it.
const TASKS: &[(&str, &str)] = &[
    (
        "bench",
        "run every benchmark, print one table of ratios and write it to BENCHMARKS.md; \
         `--quick` (shorter phases, 20,000 experiments at scale), `--seconds N` (default 6, quick 3) \
         per load phase, `--connections N` (default 32), `--scale N` (experiments in the scale phase, \
         default 1,000,000), `--no-write`, `--before BINARY` (create iteration against an earlier \
         version's `iteration`, phase for phase); `--scale-check` only loads N (default 300) experiments, \
         restarts and reads each back, with no timing (for CI)",
    ),
    (
        "fixtures",
        "regenerate every generated file (test fixtures, the man page); `--check` fails naming any stale one",
    ),
    ("man", "regenerate the man page docs/iteration.1; `--check` fails if it is stale"),
    (
        "package",
        "pack each library crate and check that its sources, tests and benches use only its own \
         files; `--report-only` lists those that do not without failing",
    ),
    ("proptest", "run the model's property tests in release mode; `--cases N` (default 10000)"),
];

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let task = args.next();
    let options: Vec<String> = args.collect();
    if options.iter().any(|o| o == "-h" || o == "--help") {
        println!("{}", help());
        return Ok(());
    }
    match task.as_deref() {
        Some("bench") => bench::run(&bench::Options::parse(&options)?),
        Some("fixtures") => {
            fixtures::run(&fixtures::Options::parse("fixtures", fixtures::Scope::All, &options)?)
        }
        Some("man") => fixtures::run(&fixtures::Options::parse("man", fixtures::Scope::Man, &options)?),
        Some("package") => package::run(&package::Options::parse(&options)?),
        Some("proptest") => proptest::run(&proptest::Options::parse(&options)?),
        None | Some("help" | "-h" | "--help") => {
            println!("{}", help());
            Ok(())
        }
        Some(other) => bail!("unknown task {other:?}\n\n{}", help()),
    }
}

fn help() -> String {
    let mut text = String::from("Usage: cargo xtask <task> [options]\n\nTasks:\n");
    for (name, about) in TASKS {
        text.push_str(&format!("  {name:<10} {about}\n"));
    }
    text
}

/// The workspace root, whatever directory the task was started from.
pub(crate) fn project_root() -> PathBuf {
    // xtask/ is a direct child of the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// `cargo`, as the one that runs this task, in the workspace root.
pub(crate) fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(project_root());
    command
}

/// Fails unless `options` is empty, naming the first unknown option.
pub(crate) fn no_more_options(task: &str, options: &[String]) -> Result<()> {
    match options.first() {
        Some(unknown) => bail!("unknown option {unknown:?} for `cargo xtask {task}`\n\n{}", help()),
        None => Ok(()),
    }
}
