//! Static validation: the rules an input must follow whatever the project
//! holds (`docs/behaviour.md` rules 2.2 to 2.12, the shape rules).
//!
//! Each rule is one function named after the rule; it appends what it finds
//! to a [`Violations`], so that a caller learns every problem at once. The
//! rules take the JSON Pointer of the input they check, so that the same
//! rules check an iteration on its own (`/treatments/0/name`) and inside an
//! experiment (`/iteration/treatments/0/name`).

mod experiment;
mod flags;
mod iteration;
mod metrics;
mod patch;
mod treatments;

use crate::input::IterationInput;
use crate::violation::Violations;

pub use patch::{EXPERIMENT_FIELDS, ITERATION_FIELDS};

pub(crate) use metrics::{Primary, primary_metric};

impl IterationInput {
    /// Checks every rule that needs no catalog and reports every violation,
    /// each with its JSON Pointer, a stable code and a message.
    ///
    /// Catalog rules (metrics and flags exist, versions match, ...) are
    /// checked by [`resolve_iteration`](crate::resolve_iteration), which runs
    /// this first.
    pub fn validate(&self) -> Result<(), Violations> {
        let mut violations = Violations::default();
        check_iteration(self, "", &mut violations);
        violations.into_result()
    }
}

/// Whether `text` shows nothing: only white space and invisible characters
/// (zero-width space, joiners, word joiner, byte order mark). A name made
/// of those is as blank as an empty one.
pub(crate) fn is_blank(text: &str) -> bool {
    text.chars().all(|c| c.is_whitespace() || is_invisible(c))
}

/// `text` as a reader sees it, for telling values apart: without invisible
/// characters and without white space at either end. `"Control\u{200B}"`
/// and `"Control"` are the same name.
pub(crate) fn visible(text: &str) -> String {
    text.chars().filter(|c| !is_invisible(*c)).collect::<String>().trim().to_owned()
}

/// Characters that take no space and show nothing.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Appends every shape violation of `input`, which is at `base`.
pub(crate) fn check_iteration(input: &IterationInput, base: &str, out: &mut Violations) {
    iteration::hypothesis_not_blank(input, base, out);
    metrics::metrics_not_empty(input, base, out);
    metrics::metric_keys_valid(input, base, out);
    metrics::metric_keys_unique(input, base, out);
    metrics::one_primary_metric(input, base, out);
    metrics::primary_metric_in_metrics(input, base, out);
    treatments::at_least_two_treatments(input, base, out);
    treatments::one_baseline(input, base, out);
    treatments::treatment_names_not_blank(input, base, out);
    treatments::treatment_names_unique(input, base, out);
    treatments::allocations_sum_to_hundred(input, base, out);
    flags::flags_not_empty(input, base, out);
    flags::rule_ids_not_blank(input, base, out);
    flags::flag_config_versions_positive(input, base, out);
    flags::one_parameter_per_flag(input, base, out);
    flags::variations_not_reused(input, base, out);
    iteration::reallocation_frequency_at_least_a_minute(input, base, out);
    iteration::attributes_valid(input, base, out);
}

#[cfg(test)]
mod tests;
