//! Rules on `metrics` and on which of them is the primary metric.

use std::collections::BTreeSet;

use crate::input::{IterationInput, MetricInput};
use crate::key::is_valid_key;
use crate::violation::{ViolationCode, Violations, pointer};

/// The iteration's primary metric, as the input names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Primary<'a> {
    /// A single metric (`primarySingleMetricKey`, or a legacy `primary: true`
    /// metric without `isGroup`).
    Single(&'a str),
    /// A metric group (`primaryFunnelKey`, or a legacy `primary: true` group).
    Funnel(&'a str),
}

impl Primary<'_> {
    pub(crate) fn key(&self) -> &str {
        match self {
            Primary::Single(key) | Primary::Funnel(key) => key,
        }
    }
}

/// The primary metric, when the input names exactly one: one of the two
/// keys, or (legacy form) neither key and exactly one metric with
/// `primary: true`, whose `isGroup` decides single or funnel.
pub(crate) fn primary_metric(input: &IterationInput) -> Option<Primary<'_>> {
    match (&input.primary_single_metric_key, &input.primary_funnel_key) {
        (Some(single), None) => Some(Primary::Single(single)),
        (None, Some(funnel)) => Some(Primary::Funnel(funnel)),
        (Some(_), Some(_)) => None,
        (None, None) => {
            let mut flagged = input.metrics.iter().filter(|m| m.primary == Some(true));
            match (flagged.next(), flagged.next()) {
                (Some(metric), None) if is_group(metric) => Some(Primary::Funnel(&metric.key)),
                (Some(metric), None) => Some(Primary::Single(&metric.key)),
                _ => None,
            }
        }
    }
}

pub(crate) fn is_group(metric: &MetricInput) -> bool {
    metric.is_group == Some(true)
}

pub(super) fn metrics_not_empty(input: &IterationInput, base: &str, out: &mut Violations) {
    if input.metrics.is_empty() {
        out.push(
            pointer(base, "metrics"),
            ViolationCode::TooFew,
            "no metrics given; measure at least one metric or metric group",
        );
    }
}

pub(super) fn metric_keys_valid(input: &IterationInput, base: &str, out: &mut Violations) {
    for (i, metric) in input.metrics.iter().enumerate() {
        if !is_valid_key(&metric.key) {
            out.push(
                pointer(&pointer(&pointer(base, "metrics"), i), "key"),
                ViolationCode::InvalidKey,
                format!("{:?} is not a valid key: use 1 to 256 of A-Z a-z 0-9 . _ -", metric.key),
            );
        }
    }
}

pub(super) fn metric_keys_unique(input: &IterationInput, base: &str, out: &mut Violations) {
    let mut seen = BTreeSet::new();
    for (i, metric) in input.metrics.iter().enumerate() {
        if !seen.insert(metric.key.as_str()) {
            out.push(
                pointer(&pointer(&pointer(base, "metrics"), i), "key"),
                ViolationCode::Duplicate,
                format!("metric `{}` is listed twice; list each metric once", metric.key),
            );
        }
    }
}

pub(super) fn one_primary_metric(input: &IterationInput, base: &str, out: &mut Violations) {
    match (&input.primary_single_metric_key, &input.primary_funnel_key) {
        (Some(_), Some(_)) => out.push(
            pointer(base, "primaryFunnelKey"),
            ViolationCode::PrimaryMetricAmbiguous,
            "both primarySingleMetricKey and primaryFunnelKey are given; give exactly one",
        ),
        (None, None) => {
            let flagged = input.metrics.iter().filter(|m| m.primary == Some(true)).count();
            if flagged == 0 {
                out.push(
                    pointer(base, "primarySingleMetricKey"),
                    ViolationCode::PrimaryMetricMissing,
                    "no primary metric; give primarySingleMetricKey (a metric) or primaryFunnelKey (a metric group)",
                );
            } else if flagged > 1 {
                out.push(
                    pointer(base, "metrics"),
                    ViolationCode::PrimaryMetricAmbiguous,
                    format!(
                        "{flagged} metrics have primary: true; mark one, or better give primarySingleMetricKey or primaryFunnelKey"
                    ),
                );
            }
        }
        _ => {}
    }
}

pub(super) fn primary_metric_in_metrics(input: &IterationInput, base: &str, out: &mut Violations) {
    let named = [
        (&input.primary_single_metric_key, "primarySingleMetricKey", false),
        (&input.primary_funnel_key, "primaryFunnelKey", true),
    ];
    for (key, field, wants_group) in named {
        let Some(key) = key else { continue };
        let path = || pointer(base, field);
        match input.metrics.iter().find(|m| m.key == *key) {
            None => out.push(
                path(),
                ViolationCode::PrimaryMetricNotInMetrics,
                format!("{field} `{key}` is not among metrics; add it to metrics or name one of them"),
            ),
            Some(metric) if is_group(metric) != wants_group => {
                let message = if wants_group {
                    format!(
                        "{field} `{key}` is a single metric in metrics; name a metric group (isGroup: true)"
                    )
                } else {
                    format!(
                        "{field} `{key}` is a metric group in metrics (isGroup: true); name a single metric, or use primaryFunnelKey"
                    )
                };
                out.push(path(), ViolationCode::PrimaryMetricKind, message);
            }
            Some(_) => {}
        }
    }
}
