//! `cargo xtask fixtures [--check]` and `cargo xtask man [--check]`: the
//! generated files.
//!
//! Generated files are written by tests (one function per test crate,
//! `ensure_file_contents`: the model's in
//! `crates/iteration-model/tests/model/expect.rs`, the man page's in
//! `tests/it/man.rs`), so the code that checks them is the code that writes
//! them. This task runs those tests: with `UPDATE_EXPECT=1` to regenerate,
//! then once more to show that everything now passes (a case can read a file
//! another case writes); with `--check`, only the second run, naming every
//! stale file. `fixtures` covers every generated file, the man page
//! included; `man` only the man page.

use anyhow::{Result, bail};

use crate::{cargo, no_more_options};

/// The marker the tests print before a stale file's path.
const STALE: &str = "stale fixture:";

/// The tests that own generated files: a name, and the arguments of
/// `cargo test` that run them.
pub(crate) const SUITES: &[(&str, &[&str])] = &[
    ("model fixtures", &["test", "-p", "iteration-model", "--test", "model", "--", "fixtures::"]),
    ("man page", &["test", "-p", "iteration", "--test", "it", "--", "man::"]),
];

/// Which generated files a task covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Every suite.
    All,
    /// Only the man page.
    Man,
}

/// Options of `cargo xtask fixtures` and `cargo xtask man`.
pub(crate) struct Options {
    /// Check only; fail if a file would change.
    check: bool,
    scope: Scope,
}

impl Options {
    pub(crate) fn parse(task: &str, scope: Scope, options: &[String]) -> Result<Options> {
        let check = options.iter().any(|o| o == "--check");
        let rest: Vec<String> = options.iter().filter(|o| *o != "--check").cloned().collect();
        no_more_options(task, &rest)?;
        Ok(Options { check, scope })
    }
}

pub(crate) fn run(options: &Options) -> Result<()> {
    let suites: Vec<&(&str, &[&str])> =
        SUITES.iter().filter(|(name, _)| options.scope == Scope::All || *name == "man page").collect();
    if !options.check {
        for (name, args) in &suites {
            let status = cargo().args(*args).env("UPDATE_EXPECT", "1").status()?;
            if !status.success() {
                bail!("regenerating the {name} failed ({status}); see the test output above");
            }
        }
    }
    let mut stale = Vec::new();
    for (name, args) in &suites {
        let output = cargo().args(*args).env_remove("UPDATE_EXPECT").output()?;
        if output.status.success() {
            continue;
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let found = stale_files(&stdout);
        if found.is_empty() {
            eprintln!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
            bail!("the {name} tests failed ({}); see their output above", output.status);
        }
        stale.extend(found);
    }
    if stale.is_empty() {
        println!("generated files are current");
        return Ok(());
    }
    let command = if options.scope == Scope::Man { "cargo xtask man" } else { "cargo xtask fixtures" };
    bail!("stale generated files:\n  {}\nrun `{command}` and review the diff", stale.join("\n  "))
}

/// The paths named after [`STALE`] in a test run's output.
fn stale_files(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| line.split_once(STALE).map(|(_, rest)| rest.trim()))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_files_are_named_from_the_test_output() {
        let stdout = "test man::the_man_page_is_current ... FAILED\n\
                      thread 'man::the_man_page_is_current' panicked at tests/it/man.rs:40:5:\n\
                      stale fixture: docs/iteration.1 is missing or out of date; run `cargo xtask man`\n";
        assert_eq!(stale_files(stdout), ["docs/iteration.1"]);
    }

    #[test]
    fn the_man_page_is_one_of_the_generated_files() {
        let (_, args) = SUITES.iter().find(|(name, _)| *name == "man page").unwrap();
        assert!(args.ends_with(&["--", "man::"]), "{args:?}");
        let man = std::fs::read_to_string(crate::project_root().join("tests/it/man.rs")).unwrap();
        assert!(
            man.contains(&format!("const STALE: &str = \"{STALE}\"")),
            "tests/it/man.rs uses another marker"
        );
        assert!(man.contains("\"docs/iteration.1\""));
    }
}
