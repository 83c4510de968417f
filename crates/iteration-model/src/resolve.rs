//! Resolution: an [`IterationInput`] checked against a [`Catalog`] becomes
//! the [`IterationRep`] of a new draft iteration.
//!
//! Resolution is pure and deterministic: the clock and the IDs are
//! parameters. It applies every rule of `docs/behaviour.md` section 2: the
//! shape rules of [`IterationInput::validate`] and the catalog rules below,
//! and reports every violation of both together. Each catalog rule both checks
//! and looks up what it checked, so that building the iteration afterwards
//! needs no lookup that could fail.

pub(crate) mod reps;

use std::collections::BTreeMap;

use crate::catalog::{
    Catalog, CatalogFlag, CatalogMetric, CatalogMetricGroup, ExperimentContext, GroupMember,
};
use crate::experiment::ExperimentType;
use crate::ids::IdSource;
use crate::input::{FlagInput, IterationInput};
use crate::iteration::{CovariateInfoRep, IterationRep, IterationStatus};
use crate::metric::{AnalysisType, MetricKind};
use crate::millis::UnixMillis;
use crate::validate::{Primary, check_iteration, primary_metric};
use crate::violation::{ViolationCode, Violations, pointer};

/// The `ruleId` of a flag's default rule.
pub const FALLTHROUGH: &str = "fallthrough";

/// Why an input did not resolve to an iteration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The input breaks rules (shape or catalog); every violation is listed.
    /// A server answers 400 `invalid_request`.
    #[error("the iteration is not valid: {0}")]
    Invalid(Violations),
    /// The input is valid, but built against an older version of a flag.
    /// A server answers 409 `optimistic_locking_error`.
    #[error(transparent)]
    VersionConflict(VersionConflict),
}

/// A flag changed since the caller read it: `flagConfigVersion` is not the
/// flag's current version in this environment. The caller re-reads the
/// flag and retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "flag `{flag_key}` is at version {current}, but the iteration was built against version {given}; \
     re-read the flag and send flagConfigVersion {current}"
)]
pub struct VersionConflict {
    /// The flag's key.
    pub flag_key: String,
    /// The version the input named.
    pub given: i64,
    /// The flag's current version.
    pub current: i64,
}

/// Checks `input` against the project and the experiment and builds the new
/// draft iteration, created at `now` with IDs from `ids`.
///
/// Every violation, shape and catalog alike, is returned together in
/// [`ResolveError::Invalid`]. A stale `flagConfigVersion` is returned as
/// [`ResolveError::VersionConflict`] only when nothing else is wrong, since
/// retrying with a fresh version would not help an invalid input. An archived
/// experiment is reported at the root path `""`: the request as a whole
/// cannot be applied, whatever its fields say.
pub fn resolve_iteration(
    catalog: &Catalog,
    experiment: &ExperimentContext,
    input: &IterationInput,
    now: UnixMillis,
    ids: &mut dyn IdSource,
) -> Result<IterationRep, ResolveError> {
    let mut violations = Violations::default();
    check_iteration(input, "", &mut violations);
    experiment_not_archived(experiment, &mut violations);
    let metrics = metrics_exist(catalog, input, &mut violations);
    primary_funnel_is_funnel(catalog, input, &mut violations);
    let flags = flags_exist(catalog, input, &mut violations);
    variations_exist(catalog, input, &mut violations);
    let randomization_unit =
        input.randomization_unit.as_deref().unwrap_or_else(|| catalog.default_randomization_unit());
    // Which metrics support a unit that is not allowed anyway is noise.
    if randomization_unit_allowed(catalog, randomization_unit, &mut violations) {
        metrics_support_randomization_unit(&metrics, randomization_unit, &mut violations);
    }
    reallocation_only_for_bandits(experiment, input, &mut violations);
    bandit_metrics_use_the_mean(experiment, &metrics, &mut violations);
    let covariate = covariate_known(catalog, input, &mut violations);
    let primary = primary_metric(input);
    if !violations.is_empty() {
        return Err(ResolveError::Invalid(violations));
    }
    let Some(primary) = primary else {
        // `check_iteration` reports an input without exactly one primary
        // metric, so this is not reached; say so rather than panic.
        violations.push(
            "/primarySingleMetricKey",
            ViolationCode::PrimaryMetricMissing,
            "no primary metric; give primarySingleMetricKey (a metric) or primaryFunnelKey (a metric group)",
        );
        return Err(ResolveError::Invalid(violations));
    };
    if let Some(conflict) = version_conflict(&flags) {
        return Err(ResolveError::VersionConflict(conflict));
    }

    let resolved = Resolved { metrics, flags, primary, randomization_unit, covariate };
    Ok(new_iteration(catalog, experiment, input, &resolved, now, ids))
}

/// What the catalog rules found for a valid input.
struct Resolved<'a> {
    metrics: Vec<ResolvedMetric<'a>>,
    flags: Vec<ResolvedFlag<'a>>,
    primary: Primary<'a>,
    randomization_unit: &'a str,
    covariate: Option<&'a CovariateInfoRep>,
}

/// The draft iteration of a valid input, as `docs/behaviour.md` rules 2.21
/// to 2.25 list its fields.
fn new_iteration(
    catalog: &Catalog,
    experiment: &ExperimentContext,
    input: &IterationInput,
    resolved: &Resolved<'_>,
    now: UnixMillis,
    ids: &mut dyn IdSource,
) -> IterationRep {
    let Resolved { metrics, flags, primary, randomization_unit, covariate } = resolved;
    let project = catalog.project_key.as_str();
    let id = ids.object_id();
    let treatments = input.treatments.iter().map(|t| reps::treatment(t, ids)).collect();
    let metric_reps: Vec<_> = metrics.iter().map(|m| reps::dependent(project, m)).collect();
    let primary_index = metrics.iter().position(|m| m.key() == primary.key());
    let secondary_metrics = metrics
        .iter()
        .filter(|m| m.key() != primary.key())
        .filter_map(|m| match m {
            ResolvedMetric::Single(metric) => Some(reps::metric_v2(project, metric)),
            ResolvedMetric::Group(..) => None,
        })
        .collect();
    let primary_resolved = primary_index.and_then(|i| metrics.get(i));
    let (primary_single_metric, primary_funnel) = match (primary, primary_resolved) {
        (Primary::Single(_), Some(ResolvedMetric::Single(metric))) => {
            (Some(reps::metric_v2(project, metric)), None)
        }
        (Primary::Funnel(_), Some(group @ ResolvedMetric::Group(..))) => (None, reps::funnel(project, group)),
        _ => (None, None),
    };
    let baseline = input.treatments.iter().find(|t| t.baseline);
    // Inserted one by one: collecting into a map sorts through a temporary vector.
    let mut flag_reps = BTreeMap::new();
    for flag in flags {
        let default_variation = baseline.and_then(|t| {
            t.parameters.iter().find(|p| p.flag_key == flag.key).map(|p| p.variation_id.as_str())
        });
        flag_reps.insert(flag.key.to_owned(), reps::flag(project, flag, default_variation));
    }
    IterationRep {
        id: Some(id),
        hypothesis: input.hypothesis.clone(),
        status: IterationStatus::NotStarted,
        created_at: now,
        started_at: None,
        ended_at: None,
        winning_treatment_id: None,
        winning_reason: None,
        can_reshuffle_traffic: Some(input.can_reshuffle_traffic.unwrap_or(true)),
        flags: Some(flag_reps),
        reallocation_frequency_millis: match experiment.experiment_type {
            ExperimentType::Mab => input.reallocation_frequency_millis,
            _ => None,
        },
        version: Some(0),
        primary_metric: primary_index.and_then(|i| metric_reps.get(i).cloned()),
        primary_single_metric,
        primary_funnel,
        randomization_unit: Some((*randomization_unit).to_owned()),
        attributes: input.attributes.clone(),
        treatments: Some(treatments),
        secondary_metrics: Some(secondary_metrics),
        metrics: Some(metric_reps),
        layer_snapshot: None,
        covariate_info: covariate.cloned(),
        extra: Default::default(),
    }
}

/// A metric of the input found in the catalog.
#[derive(Debug, Clone)]
pub(crate) enum ResolvedMetric<'a> {
    /// A single metric.
    Single(&'a CatalogMetric),
    /// A metric group with each member's metric, in the group's order.
    Group(&'a CatalogMetricGroup, ResolvedMembers<'a>),
}

/// A group's members, each with its metric.
pub(crate) type ResolvedMembers<'a> = Vec<(&'a GroupMember, &'a CatalogMetric)>;

impl ResolvedMetric<'_> {
    pub(crate) fn key(&self) -> &str {
        match self {
            ResolvedMetric::Single(metric) => &metric.key,
            ResolvedMetric::Group(group, _) => &group.key,
        }
    }
}

/// A flag of the input with what the catalog holds for it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResolvedFlag<'a> {
    pub(crate) key: &'a str,
    pub(crate) input: &'a FlagInput,
    pub(crate) flag: &'a CatalogFlag,
}

fn experiment_not_archived(experiment: &ExperimentContext, out: &mut Violations) {
    if experiment.archived {
        out.push(
            "",
            ViolationCode::ExperimentArchived,
            format!("experiment `{}` is archived; restore it first", experiment.key),
        );
    }
}

/// Each metric key names a single metric, or with `isGroup` a metric group,
/// of the project; a group's members must be metrics of the project too.
fn metrics_exist<'a>(
    catalog: &'a Catalog,
    input: &IterationInput,
    out: &mut Violations,
) -> Vec<ResolvedMetric<'a>> {
    let mut resolved = Vec::with_capacity(input.metrics.len());
    for (i, metric) in input.metrics.iter().enumerate() {
        let key = metric.key.as_str();
        let metric_path = || pointer(&pointer("/metrics", i), "key");
        let wants_group = metric.is_group == Some(true);
        match (wants_group, catalog.metrics.get(key), catalog.metric_groups.get(key)) {
            (false, Some(found), _) => resolved.push(ResolvedMetric::Single(found)),
            (true, _, Some(group)) => match group_members(catalog, group) {
                Ok(members) => resolved.push(ResolvedMetric::Group(group, members)),
                Err(missing) => out.push(
                    metric_path(),
                    ViolationCode::UnknownMetric,
                    format!(
                        "metric group `{key}` contains metric `{missing}`, which the project does not have; \
                         fix the group or measure other metrics"
                    ),
                ),
            },
            (false, None, Some(_)) => out.push(
                pointer(&pointer("/metrics", i), "isGroup"),
                ViolationCode::MetricKindMismatch,
                format!("`{key}` is a metric group; set isGroup to true"),
            ),
            (true, Some(_), None) => out.push(
                pointer(&pointer("/metrics", i), "isGroup"),
                ViolationCode::MetricKindMismatch,
                format!("`{key}` is a single metric; set isGroup to false or leave it out"),
            ),
            (_, None, None) => out.push(
                metric_path(),
                ViolationCode::UnknownMetric,
                format!(
                    "the project has no {} `{key}`; name an existing one",
                    if wants_group { "metric group" } else { "metric" }
                ),
            ),
        }
    }
    resolved
}

/// The group's members with their metrics, or the key of the first member
/// the project does not have.
fn group_members<'a>(
    catalog: &'a Catalog,
    group: &'a CatalogMetricGroup,
) -> Result<ResolvedMembers<'a>, &'a str> {
    group
        .members
        .iter()
        .map(|member| {
            catalog.metrics.get(&member.key).map(|metric| (member, metric)).ok_or(member.key.as_str())
        })
        .collect()
}

/// A `primaryFunnelKey` (or a legacy primary group) names a funnel, not a
/// standard group.
fn primary_funnel_is_funnel(catalog: &Catalog, input: &IterationInput, out: &mut Violations) {
    let Some(Primary::Funnel(key)) = primary_metric(input) else { return };
    let Some(group) = catalog.metric_groups.get(key) else { return };
    if group.kind != MetricKind::Funnel {
        let path = match input.metrics.iter().position(|m| m.key == key) {
            Some(i) if input.primary_funnel_key.is_none() => pointer(&pointer("/metrics", i), "primary"),
            _ => "/primaryFunnelKey".to_owned(),
        };
        out.push(
            path,
            ViolationCode::PrimaryMetricKind,
            format!("metric group `{key}` is a {} group; the primary group must be a funnel", group.kind),
        );
    }
}

/// Each flag exists, is not archived, and `ruleId` and
/// `notInExperimentVariationId` name a rule and a variation of it.
fn flags_exist<'a>(
    catalog: &'a Catalog,
    input: &'a IterationInput,
    out: &mut Violations,
) -> Vec<ResolvedFlag<'a>> {
    let mut resolved = Vec::with_capacity(input.flags.len());
    for (key, flag_input) in &input.flags {
        let path = || pointer("/flags", key);
        let Some(flag) = catalog.flags.get(key) else {
            out.push(
                path(),
                ViolationCode::UnknownFlag,
                format!("the project has no flag `{key}`; name an existing flag"),
            );
            continue;
        };
        let mut ok = true;
        if flag.archived {
            ok = false;
            out.push(
                path(),
                ViolationCode::FlagArchived,
                format!("flag `{key}` is archived; restore it or use another flag"),
            );
        }
        let rule_id = flag_input.rule_id.as_str();
        // A blank ruleId is a shape violation, reported already.
        if !rule_id.trim().is_empty() && rule_id != FALLTHROUGH && flag.rule(rule_id).is_none() {
            ok = false;
            out.push(
                pointer(&path(), "ruleId"),
                ViolationCode::UnknownRule,
                format!(
                    "`{rule_id}` is not a targeting rule of flag `{key}` in environment `{}`; \
                     give one of its rules' IDs or \"{FALLTHROUGH}\"",
                    catalog.environment_key
                ),
            );
        }
        if let Some(variation) = &flag_input.not_in_experiment_variation_id {
            if flag.variation(variation).is_none() {
                ok = false;
                out.push(
                    pointer(&path(), "notInExperimentVariationId"),
                    ViolationCode::UnknownVariation,
                    unknown_variation_message(variation, key, flag),
                );
            }
        }
        if ok {
            resolved.push(ResolvedFlag { key, input: flag_input, flag });
        }
    }
    resolved
}

/// Each treatment parameter's variation is a variation of its flag. A flag
/// the project does not have is reported by [`flags_exist`], or, when it is
/// missing from `flags`, by the shape rules.
fn variations_exist(catalog: &Catalog, input: &IterationInput, out: &mut Violations) {
    for (i, treatment) in input.treatments.iter().enumerate() {
        for (j, parameter) in treatment.parameters.iter().enumerate() {
            let Some(flag) = catalog.flags.get(&parameter.flag_key) else { continue };
            if flag.variation(&parameter.variation_id).is_none() {
                let parameters = pointer(&pointer("/treatments", i), "parameters");
                out.push(
                    pointer(&pointer(&parameters, j), "variationId"),
                    ViolationCode::UnknownVariation,
                    unknown_variation_message(&parameter.variation_id, &parameter.flag_key, flag),
                );
            }
        }
    }
}

fn unknown_variation_message(variation: &str, key: &str, flag: &CatalogFlag) -> String {
    let known: Vec<&str> = flag.variations.iter().map(|v| v.id.as_str()).collect();
    format!("`{variation}` is not a variation of flag `{key}`; use one of {}", known.join(", "))
}

/// The randomization unit, given or the project's default, is a context
/// kind enabled for experiments.
fn randomization_unit_allowed(catalog: &Catalog, unit: &str, out: &mut Violations) -> bool {
    let enabled = || {
        let kinds: Vec<&str> = catalog
            .context_kinds
            .iter()
            .filter(|k| k.enabled_for_experiments)
            .map(|k| k.key.as_str())
            .collect();
        kinds.join(", ")
    };
    match catalog.context_kind(unit) {
        None => out.push(
            "/randomizationUnit",
            ViolationCode::UnknownContextKind,
            format!("`{unit}` is not a context kind of the project; use one of {}", enabled()),
        ),
        Some(kind) if !kind.enabled_for_experiments => out.push(
            "/randomizationUnit",
            ViolationCode::ContextKindNotForExperiments,
            format!("context kind `{unit}` is not enabled for experiments; use one of {}", enabled()),
        ),
        Some(_) => return true,
    }
    false
}

/// Every metric used, including every metric inside a group, can be
/// measured by the randomization unit.
fn metrics_support_randomization_unit(metrics: &[ResolvedMetric<'_>], unit: &str, out: &mut Violations) {
    let supports = |metric: &CatalogMetric| metric.randomization_units.iter().any(|u| u == unit);
    for (i, resolved) in metrics.iter().enumerate() {
        let path = pointer(&pointer("/metrics", i), "key");
        match resolved {
            ResolvedMetric::Single(metric) if !supports(metric) => out.push(
                path,
                ViolationCode::RandomizationUnitUnsupported,
                format!(
                    "metric `{}` does not support randomization unit `{unit}`; it supports {}",
                    metric.key,
                    metric.randomization_units.join(", ")
                ),
            ),
            ResolvedMetric::Single(_) => {}
            ResolvedMetric::Group(group, members) => {
                for (_, metric) in members.iter().filter(|(_, metric)| !supports(metric)) {
                    out.push(
                        &path,
                        ViolationCode::RandomizationUnitUnsupported,
                        format!(
                            "metric `{}` in group `{}` does not support randomization unit `{unit}`; it supports {}",
                            metric.key,
                            group.key,
                            metric.randomization_units.join(", ")
                        ),
                    );
                }
            }
        }
    }
}

/// Rule: a bandit reallocates by each treatment's average, so every metric
/// it measures (and every member of a group it measures) is analysed by the
/// mean, not a percentile.
fn bandit_metrics_use_the_mean(
    experiment: &ExperimentContext,
    metrics: &[ResolvedMetric<'_>],
    out: &mut Violations,
) {
    if experiment.experiment_type != ExperimentType::Mab {
        return;
    }
    let percentile = |metric: &CatalogMetric| metric.analysis_type == Some(AnalysisType::Percentile);
    for (i, resolved) in metrics.iter().enumerate() {
        let singles: Vec<&CatalogMetric> = match resolved {
            ResolvedMetric::Single(metric) => vec![metric],
            ResolvedMetric::Group(_, members) => members.iter().map(|(_, metric)| *metric).collect(),
        };
        for metric in singles.into_iter().filter(|m| percentile(m)) {
            out.push(
                pointer(&pointer("/metrics", i), "key"),
                ViolationCode::NotAllowed,
                format!(
                    "metric `{}` is analysed by percentile; a bandit (mab) measures metrics by their average, \
                     so use a metric analysed by the mean",
                    metric.key
                ),
            );
        }
    }
}

fn reallocation_only_for_bandits(
    experiment: &ExperimentContext,
    input: &IterationInput,
    out: &mut Violations,
) {
    if input.reallocation_frequency_millis.is_some() && experiment.experiment_type != ExperimentType::Mab {
        out.push(
            "/reallocationFrequencyMillis",
            ViolationCode::ReallocationNotBandit,
            format!(
                "experiment `{}` is of type {}, not a bandit (mab); leave out reallocationFrequencyMillis",
                experiment.key, experiment.experiment_type
            ),
        );
    }
}

fn covariate_known<'a>(
    catalog: &'a Catalog,
    input: &IterationInput,
    out: &mut Violations,
) -> Option<&'a CovariateInfoRep> {
    let id = input.covariate_id.as_deref()?;
    let covariate = catalog.covariates.get(id);
    if covariate.is_none() {
        out.push(
            "/covariateId",
            ViolationCode::UnknownCovariate,
            format!(
                "`{id}` is not a covariate file of environment `{}`; upload it first or leave out covariateId",
                catalog.environment_key
            ),
        );
    }
    covariate
}

/// The first flag, by key, whose `flagConfigVersion` is not its current version.
fn version_conflict(flags: &[ResolvedFlag<'_>]) -> Option<VersionConflict> {
    flags.iter().find(|f| f.input.flag_config_version != f.flag.version).map(|f| VersionConflict {
        flag_key: f.key.to_owned(),
        given: f.input.flag_config_version,
        current: f.flag.version,
    })
}

#[cfg(test)]
mod tests;
