//! Builders that make a valid [`IterationInput`] short to write.
//!
//! Metrics, flags and treatments are added in the order they are written;
//! `build` parses the allocations and runs
//! [`IterationInput::validate`], so a builder that returns `Ok` holds an
//! input that follows every shape rule.
//!
//! ```
//! use iteration_model::{FlagInput, IterationInput, Treatment};
//!
//! let input = IterationInput::builder("Top buttons convert better")
//!     .metric("metric-key-123abc").primary()
//!     .flag("example-flag-for-experiment", FlagInput::fallthrough(12))
//!     .treatment(Treatment::baseline("Control", "50").serve("example-flag-for-experiment", "control"))
//!     .treatment(Treatment::new("Top button", "50").serve("example-flag-for-experiment", "top"))
//!     .build()
//!     .unwrap();
//! assert_eq!(input.primary_single_metric_key.as_deref(), Some("metric-key-123abc"));
//!
//! let err = IterationInput::builder("").build().unwrap_err();
//! assert_eq!(err.iter().next().map(|v| v.path.as_str()), Some("/hypothesis"));
//! ```

use std::collections::BTreeMap;

use crate::allocation::AllocationPercent;
use crate::input::{FlagInput, IterationInput, MetricInput, TreatmentInput, TreatmentParameterInput};
use crate::resolve::FALLTHROUGH;
use crate::violation::{ViolationCode, Violations, pointer};

/// Builds an [`IterationInput`]; start with [`IterationInput::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct IterationInputBuilder {
    input: IterationInput,
    treatments: Vec<Treatment>,
}

/// A treatment being built into a [`TreatmentInput`]: start with
/// [`Treatment::new`] or [`Treatment::baseline`]. Its allocation is parsed by
/// [`IterationInputBuilder::build`], which reports a bad one with its path.
#[derive(Debug, Clone)]
#[must_use = "a treatment builder does nothing until added with `IterationInputBuilder::treatment`"]
pub struct Treatment {
    name: String,
    baseline: bool,
    allocation_percent: String,
    parameters: Vec<TreatmentParameterInput>,
}

impl IterationInput {
    /// Starts an input with this hypothesis.
    pub fn builder(hypothesis: impl Into<String>) -> IterationInputBuilder {
        IterationInputBuilder {
            input: IterationInput {
                hypothesis: hypothesis.into(),
                can_reshuffle_traffic: None,
                metrics: Vec::new(),
                primary_single_metric_key: None,
                primary_funnel_key: None,
                treatments: Vec::new(),
                flags: BTreeMap::new(),
                randomization_unit: None,
                reallocation_frequency_millis: None,
                covariate_id: None,
                attributes: None,
            },
            treatments: Vec::new(),
        }
    }
}

impl IterationInputBuilder {
    /// Measures a single metric.
    pub fn metric(mut self, key: impl Into<String>) -> Self {
        self.input.metrics.push(MetricInput { key: key.into(), is_group: None, primary: None });
        self
    }

    /// Measures a metric group.
    pub fn metric_group(mut self, key: impl Into<String>) -> Self {
        self.input.metrics.push(MetricInput { key: key.into(), is_group: Some(true), primary: None });
        self
    }

    /// Makes the metric or group added last the primary one: a metric becomes
    /// `primarySingleMetricKey`, a group `primaryFunnelKey`. Without a metric
    /// added before it, this does nothing and `build` reports the missing primary.
    pub fn primary(mut self) -> Self {
        if let Some(last) = self.input.metrics.last() {
            if last.is_group == Some(true) {
                self.input.primary_funnel_key = Some(last.key.clone());
            } else {
                self.input.primary_single_metric_key = Some(last.key.clone());
            }
        }
        self
    }

    /// Measures a single metric and makes it the primary one.
    pub fn primary_metric(self, key: impl Into<String>) -> Self {
        self.metric(key).primary()
    }

    /// Measures a funnel group and makes it the primary one.
    pub fn primary_funnel(self, key: impl Into<String>) -> Self {
        self.metric_group(key).primary()
    }

    /// Runs the experiment on a flag; each treatment must serve it.
    pub fn flag(mut self, key: impl Into<String>, flag: FlagInput) -> Self {
        self.input.flags.insert(key.into(), flag);
        self
    }

    /// Adds a treatment, after those already added.
    pub fn treatment(mut self, treatment: Treatment) -> Self {
        self.treatments.push(treatment);
        self
    }

    /// Sets the unit of randomization (default: the project's).
    pub fn randomization_unit(mut self, unit: impl Into<String>) -> Self {
        self.input.randomization_unit = Some(unit.into());
        self
    }

    /// Sets how often a bandit reallocates traffic, in milliseconds.
    pub fn reallocation_frequency_millis(mut self, millis: i64) -> Self {
        self.input.reallocation_frequency_millis = Some(millis);
        self
    }

    /// Uses a covariate file for stratified sampling.
    pub fn covariate(mut self, id: impl Into<String>) -> Self {
        self.input.covariate_id = Some(id.into());
        self
    }

    /// Sets the attributes results can be sliced by.
    pub fn attributes<I, S>(mut self, attributes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.input.attributes = Some(attributes.into_iter().map(Into::into).collect());
        self
    }

    /// Sets whether traffic may be reassigned when the audience changes.
    pub fn can_reshuffle_traffic(mut self, can: bool) -> Self {
        self.input.can_reshuffle_traffic = Some(can);
        self
    }

    /// Parses the allocations and validates the input, reporting every
    /// problem with its JSON Pointer as [`IterationInput::validate`] does.
    pub fn build(self) -> Result<IterationInput, Violations> {
        let IterationInputBuilder { mut input, treatments } = self;
        let mut violations = Violations::default();
        for (i, treatment) in treatments.into_iter().enumerate() {
            let allocation_percent = match AllocationPercent::parse(&treatment.allocation_percent) {
                Ok(percent) => percent,
                Err(err) => {
                    violations.push(
                        pointer(&pointer("/treatments", i), "allocationPercent"),
                        ViolationCode::InvalidAllocation,
                        format!("{err}; use a decimal from 0 to 100 with at most 4 decimal places"),
                    );
                    // Keep the treatment so that later rules see the same
                    // indexes; the input is not returned in this case.
                    AllocationPercent::ZERO
                }
            };
            input.treatments.push(TreatmentInput {
                name: treatment.name,
                baseline: treatment.baseline,
                allocation_percent,
                parameters: treatment.parameters,
            });
        }
        if let Err(more) = input.validate() {
            violations.extend(more);
        }
        violations.into_result().map(|()| input)
    }
}

impl Treatment {
    /// A treatment compared with the baseline, with its share of traffic
    /// (`"50"`, `"33.33"`).
    pub fn new(name: impl Into<String>, allocation_percent: impl Into<String>) -> Treatment {
        Treatment {
            name: name.into(),
            baseline: false,
            allocation_percent: allocation_percent.into(),
            parameters: Vec::new(),
        }
    }

    /// The baseline treatment, with its share of traffic.
    pub fn baseline(name: impl Into<String>, allocation_percent: impl Into<String>) -> Treatment {
        Treatment { baseline: true, ..Treatment::new(name, allocation_percent) }
    }

    /// Serves `variation_id` of flag `flag_key` in this treatment.
    pub fn serve(mut self, flag_key: impl Into<String>, variation_id: impl Into<String>) -> Self {
        self.parameters
            .push(TreatmentParameterInput { flag_key: flag_key.into(), variation_id: variation_id.into() });
        self
    }
}

impl FlagInput {
    /// Runs on the targeting rule `rule_id` of the flag at `flag_config_version`.
    pub fn rule(rule_id: impl Into<String>, flag_config_version: i64) -> FlagInput {
        FlagInput { rule_id: rule_id.into(), flag_config_version, not_in_experiment_variation_id: None }
    }

    /// Runs on the flag's default rule (`fallthrough`) at `flag_config_version`.
    pub fn fallthrough(flag_config_version: i64) -> FlagInput {
        FlagInput::rule(FALLTHROUGH, flag_config_version)
    }

    /// Sends traffic outside the experiment to this variation (default: the
    /// baseline's).
    pub fn not_in_experiment(mut self, variation_id: impl Into<String>) -> FlagInput {
        self.not_in_experiment_variation_id = Some(variation_id.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_allocation_is_reported_at_its_treatment() {
        let err = IterationInput::builder("h")
            .primary_metric("m")
            .flag("f", FlagInput::fallthrough(1))
            .treatment(Treatment::baseline("A", "50").serve("f", "a"))
            .treatment(Treatment::new("B", "fifty").serve("f", "b"))
            .build()
            .unwrap_err();
        let found: Vec<(&str, &ViolationCode)> = err.iter().map(|v| (v.path.as_str(), &v.code)).collect();
        assert_eq!(
            found,
            [
                ("/treatments/1/allocationPercent", &ViolationCode::InvalidAllocation),
                ("/treatments", &ViolationCode::AllocationSum),
            ]
        );
        assert_eq!(
            err.as_slice()[0].message,
            "\"fifty\" is not a decimal number such as \"50\" or \"33.33\"; use a decimal from 0 to 100 with at most 4 decimal places"
        );
    }

    #[test]
    fn primary_follows_the_last_metric() {
        let input = IterationInput::builder("h")
            .metric("m")
            .metric_group("g")
            .primary()
            .flag("f", FlagInput::rule("r", 3).not_in_experiment("a"))
            .treatment(Treatment::baseline("A", "33.33").serve("f", "a"))
            .treatment(Treatment::new("B", "33.33").serve("f", "b"))
            .treatment(Treatment::new("C", "33.34").serve("f", "c"))
            .build()
            .unwrap();
        assert_eq!(input.primary_funnel_key.as_deref(), Some("g"));
        assert_eq!(input.primary_single_metric_key, None);
        assert_eq!(input.flags["f"].not_in_experiment_variation_id.as_deref(), Some("a"));
        assert_eq!(input.treatments[2].allocation_percent.to_string(), "33.34");
    }
}
