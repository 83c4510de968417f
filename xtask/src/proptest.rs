//! `cargo xtask proptest [--cases N]`: the model's property tests, with
//! many more cases than `cargo test` runs (64), in release mode so that
//! 10 000 cases per property take seconds rather than minutes.
//!
//! The properties and their strategies live in the model's test binary
//! (`crates/iteration-model/tests/model/`), which reads `PROPTEST_CASES`.

use anyhow::{Context, Result, bail};

use crate::{cargo, no_more_options};

const DEFAULT_CASES: u32 = 10_000;

/// Options of `cargo xtask proptest`.
pub(crate) struct Options {
    /// Cases per property.
    cases: u32,
}

impl Options {
    pub(crate) fn parse(options: &[String]) -> Result<Options> {
        let mut cases = DEFAULT_CASES;
        let mut rest = Vec::new();
        let mut iter = options.iter();
        while let Some(option) = iter.next() {
            let value = match option.split_once('=') {
                Some(("--cases", value)) => Some(value.to_owned()),
                _ if option == "--cases" => Some(iter.next().context("--cases needs a number")?.clone()),
                _ => None,
            };
            match value {
                Some(value) => {
                    cases =
                        value.parse().with_context(|| format!("--cases {value:?} is not a whole number"))?;
                }
                None => rest.push(option.clone()),
            }
        }
        no_more_options("proptest", &rest)?;
        Ok(Options { cases })
    }
}

pub(crate) fn run(options: &Options) -> Result<()> {
    let status = cargo()
        .args(["test", "-p", "iteration-model", "--release", "--test", "model", "--", "proptests::"])
        .env("PROPTEST_CASES", options.cases.to_string())
        .status()?;
    if !status.success() {
        bail!(
            "the property tests failed ({status}); a failing case is saved in crates/iteration-model/proptest-regressions/"
        );
    }
    println!("every property held for {} cases", options.cases);
    Ok(())
}
