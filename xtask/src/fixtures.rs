//! `cargo xtask fixtures [--check]`: the model's generated fixtures.
//!
//! The fixtures are written by the model's own tests (one function,
//! `ensure_file_contents` in `crates/iteration-model/tests/model/expect.rs`),
//! so the code that checks them is the code that writes them. This task runs
//! those tests: with `UPDATE_EXPECT=1` to regenerate, then once more to show
//! that everything now passes (a case can read a file another case writes);
//! with `--check`, only the second run, naming every stale file.

use anyhow::{Result, bail};

use crate::{cargo, no_more_options};

/// The marker the tests print before a stale file's path.
const STALE: &str = "stale fixture:";

/// Options of `cargo xtask fixtures`.
pub(crate) struct Options {
    /// Check only; fail if a file would change.
    check: bool,
}

impl Options {
    pub(crate) fn parse(options: &[String]) -> Result<Options> {
        let check = options.iter().any(|o| o == "--check");
        let rest: Vec<String> = options.iter().filter(|o| *o != "--check").cloned().collect();
        no_more_options("fixtures", &rest)?;
        Ok(Options { check })
    }
}

pub(crate) fn run(options: &Options) -> Result<()> {
    if !options.check {
        let status = fixture_tests().env("UPDATE_EXPECT", "1").status()?;
        if !status.success() {
            bail!("regenerating the fixtures failed ({status}); see the test output above");
        }
    }
    let output = fixture_tests().env_remove("UPDATE_EXPECT").output()?;
    if output.status.success() {
        println!("fixtures are current");
        return Ok(());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stale: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.split_once(STALE).map(|(_, rest)| rest.trim()))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    if stale.is_empty() {
        eprintln!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
        bail!("the fixture tests failed ({}); see their output above", output.status);
    }
    bail!("stale fixtures:\n  {}\nrun `cargo xtask fixtures` and review the diff", stale.join("\n  "))
}

/// The model's fixture tests: the `fixtures::` module of its test binary.
fn fixture_tests() -> std::process::Command {
    let mut command = cargo();
    command.args(["test", "-p", "iteration-model", "--test", "model", "--", "fixtures::"]);
    command
}
