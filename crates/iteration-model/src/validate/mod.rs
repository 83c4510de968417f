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
