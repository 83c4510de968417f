//! Violations: what is wrong with an input, where, and why.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::wire::wire_enum;

wire_enum! {
    /// A stable, machine-readable name for a kind of problem. New codes may
    /// be added; a code's meaning never changes.
    pub enum ViolationCode {
        /// A required field is absent.
        MissingField = "missing_field",
        /// A field has the wrong JSON type.
        WrongType = "wrong_type",
        /// An `allocationPercent` is not a decimal in `[0, 100]` with at most 4 decimals.
        InvalidAllocation = "invalid_allocation",
        /// A text field is empty or only white space.
        Blank = "blank",
        /// A key has characters or a length the API does not accept.
        InvalidKey = "invalid_key",
        /// Fewer items than the minimum.
        TooFew = "too_few",
        /// More items than the maximum.
        TooMany = "too_many",
        /// The same key or name twice.
        Duplicate = "duplicate",
        /// A value outside its allowed range.
        OutOfRange = "out_of_range",
        /// A value that is not one of the allowed values.
        NotAllowed = "not_allowed",
        /// No primary metric: neither `primarySingleMetricKey` nor
        /// `primaryFunnelKey` is given, and no single metric has `primary: true`.
        PrimaryMetricMissing = "primary_metric_missing",
        /// More than one primary metric: both primary keys are given, or
        /// several metrics have `primary: true`.
        PrimaryMetricAmbiguous = "primary_metric_ambiguous",
        /// The primary metric key is not one of the iteration's `metrics`.
        PrimaryMetricNotInMetrics = "primary_metric_not_in_metrics",
        /// The primary metric is of the wrong kind: a group named by
        /// `primarySingleMetricKey`, a single metric named by `primaryFunnelKey`,
        /// or a group that is not a funnel.
        PrimaryMetricKind = "primary_metric_kind",
        /// Not exactly one treatment has `baseline: true`.
        BaselineCount = "baseline_count",
        /// The treatments' allocations do not sum to exactly 100.
        AllocationSum = "allocation_sum",
        /// A treatment has no parameter for one of the iteration's flags.
        ParameterMissing = "parameter_missing",
        /// A treatment parameter names a flag that is not in `flags`.
        ParameterUnknownFlag = "parameter_unknown_flag",
        /// A treatment has two parameters for the same flag.
        ParameterDuplicateFlag = "parameter_duplicate_flag",
        /// Two treatments serve the same variation of a flag.
        VariationReused = "variation_reused",
        /// A semantic-patch instruction of a `kind` the API does not know.
        UnknownInstruction = "unknown_instruction",
        /// An `updateExperimentFields` field that cannot be changed this way.
        UnknownField = "unknown_field",
        /// No metric or metric group of the project has this key.
        UnknownMetric = "unknown_metric",
        /// The key names a metric group where `isGroup` says a single metric, or the reverse.
        MetricKindMismatch = "metric_kind_mismatch",
        /// No flag of the project has this key.
        UnknownFlag = "unknown_flag",
        /// The flag is archived.
        FlagArchived = "flag_archived",
        /// `ruleId` is neither `fallthrough` nor a targeting rule of the flag in this environment.
        UnknownRule = "unknown_rule",
        /// The variation ID is not one of the flag's variations.
        UnknownVariation = "unknown_variation",
        /// The randomization unit is not a context kind of the project.
        UnknownContextKind = "unknown_context_kind",
        /// The randomization unit is a context kind not enabled for experiments.
        ContextKindNotForExperiments = "context_kind_not_for_experiments",
        /// A metric used by the iteration does not support its randomization unit.
        RandomizationUnitUnsupported = "randomization_unit_unsupported",
        /// `reallocationFrequencyMillis` is given for an experiment that is not a bandit (`mab`).
        ReallocationNotBandit = "reallocation_not_bandit",
        /// The covariate ID names no covariate file of this environment.
        UnknownCovariate = "unknown_covariate",
        /// The experiment is archived, so it cannot get a new iteration.
        ExperimentArchived = "experiment_archived",
        /// A JSON Patch operation whose `op` is not add, remove, replace,
        /// move, copy or test.
        UnknownOperation = "unknown_operation",
        /// A `path` or `from` that is not a JSON Pointer.
        InvalidPointer = "invalid_pointer",
        /// A JSON Patch names a location the document does not have.
        PathNotFound = "path_not_found",
        /// A JSON Patch steps into an array with a token that is not an index
        /// (digits without leading zeros), or uses `-` other than to append.
        InvalidArrayIndex = "invalid_array_index",
        /// A JSON Patch `test` found a value other than the expected one.
        TestFailed = "test_failed",
        /// A JSON Patch `move` whose `path` lies inside its `from`.
        MoveIntoChild = "move_into_child",
        /// The flag, metric or group is in use and cannot be deleted.
        InUse = "in_use",
        /// No experiment of the environment has this key.
        UnknownExperiment = "unknown_experiment",
        /// A layer's reservations in one environment would sum to more than 100.
        ReservationSum = "reservation_sum",
        /// An experiment would be in a holdout and a layer at once.
        LayerOrHoldout = "layer_or_holdout",
        /// The experiment has a running iteration, which the change needs it not to have.
        ExperimentRunning = "experiment_running",
        /// No holdout of the environment has this ID or key.
        UnknownHoldout = "unknown_holdout",
        /// The holdout has ended and takes no new experiments.
        HoldoutEnded = "holdout_ended",
        /// A change that an experiment's history forbids: its flags once an iteration has run.
        FrozenAfterRun = "frozen_after_run",
        /// Two running bandits would share a flag's targeting rule.
        BanditConflict = "bandit_conflict",
    }
}

/// One problem with an input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// Where: a JSON Pointer into the input, such as `/treatments/1/allocationPercent`.
    pub path: String,
    /// What kind of problem, stable across versions.
    pub code: ViolationCode,
    /// What was wrong and what would be right, for a person.
    pub message: String,
}

impl Violation {
    /// A violation at `path`.
    pub fn new(path: impl Into<String>, code: ViolationCode, message: impl Into<String>) -> Violation {
        Violation { path: path.into(), code, message: message.into() }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { "/" } else { &self.path };
        write!(f, "{path}: {}", self.message)
    }
}

/// Every problem found in an input, in the order found. Never empty when
/// returned as an error.
#[derive(Debug, Clone, PartialEq, Default, thiserror::Error)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    /// The violations as a slice.
    pub fn as_slice(&self) -> &[Violation] {
        &self.0
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Adds one.
    pub fn push(&mut self, path: impl Into<String>, code: ViolationCode, message: impl Into<String>) {
        self.0.push(Violation::new(path, code, message));
    }

    /// `Ok(())` when there are none, else `Err(self)`.
    pub fn into_result(self) -> Result<(), Violations> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }

    /// Iterates over the violations.
    pub fn iter(&self) -> std::slice::Iter<'_, Violation> {
        self.0.iter()
    }

    /// The same violations with `prefix` (a JSON Pointer) before each path,
    /// for an input checked on its own that was sent inside another: an
    /// iteration's `/hypothesis` becomes `/iteration/hypothesis`.
    pub fn prefixed(self, prefix: &str) -> Violations {
        self.0.into_iter().map(|v| Violation { path: format!("{prefix}{}", v.path), ..v }).collect()
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.len() {
            0 => f.write_str("no violations"),
            1 => write!(f, "{}", self.0[0]),
            n => {
                write!(f, "{n} problems: ")?;
                for (i, v) in self.0.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
        }
    }
}

impl IntoIterator for Violations {
    type Item = Violation;
    type IntoIter = std::vec::IntoIter<Violation>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Violations {
    type Item = &'a Violation;
    type IntoIter = std::slice::Iter<'a, Violation>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromIterator<Violation> for Violations {
    fn from_iter<I: IntoIterator<Item = Violation>>(iter: I) -> Self {
        Violations(iter.into_iter().collect())
    }
}

impl Extend<Violation> for Violations {
    fn extend<I: IntoIterator<Item = Violation>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

/// Appends `token` to the JSON Pointer `base`, escaping `~` and `/`.
pub fn pointer(base: &str, token: impl fmt::Display) -> String {
    // The reader builds a path for every field it reads, so this is on the
    // hot path of parsing: one allocation, and escaping only when needed.
    let mut path = String::with_capacity(base.len() + 24);
    path.push_str(base);
    path.push('/');
    let start = path.len();
    // Writing into a String never fails.
    let _ = fmt::Write::write_fmt(&mut path, format_args!("{token}"));
    if path[start..].contains(['~', '/']) {
        let escaped = path[start..].replace('~', "~0").replace('/', "~1");
        path.truncate(start);
        path.push_str(&escaped);
    }
    path
}
