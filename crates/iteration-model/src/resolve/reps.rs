//! The representations a resolved iteration is made of, built from what the
//! catalog rules found. Nothing here looks anything up that could fail.
//!
//! The strings come from the catalog as [`Text`]s, so that copying them into
//! a new iteration shares them; only the links' `href`s are new.

use super::{FALLTHROUGH, ResolvedFlag, ResolvedMetric};
use crate::catalog::{CatalogMetric, GroupMember};
use crate::ids::IdSource;
use crate::input::TreatmentInput;
use crate::iteration::{FlagRep, ParameterRep, TreatmentRep};
use crate::link::{Links, links};
use crate::metric::{
    DependentMetricGroupRepWithMetrics, DependentMetricOrMetricGroupRep, MetricInGroupRep, MetricV2Rep,
};
use crate::shared_list::SharedList;
use crate::text::Text;

/// The description LaunchDarkly gives a flag's default rule.
const FALLTHROUGH_DESCRIPTION: Text = Text::from_static("Default rule");

// Links are built for every metric of every new iteration: each `href` is
// joined in one allocation (`Text::concat`).

fn metric_links(project: &str, key: &str) -> Links {
    links([("self", Text::concat(&["/api/v2/metrics/", project, "/", key]))])
}

fn group_links(project: &str, key: &str) -> Links {
    links([
        ("self", Text::concat(&["/api/v2/projects/", project, "/metric-groups/", key])),
        ("parent", Text::concat(&["/api/v2/projects/", project])),
    ])
}

pub(super) fn treatment(input: &TreatmentInput, ids: &mut dyn IdSource) -> TreatmentRep {
    TreatmentRep {
        id: Some(ids.uuid()),
        name: input.name.clone(),
        allocation_percent: input.allocation_percent.to_string(),
        baseline: Some(input.baseline),
        parameters: Some(
            input
                .parameters
                .iter()
                .map(|p| ParameterRep {
                    variation_id: Some(p.variation_id.clone()),
                    flag_key: Some(p.flag_key.clone()),
                    extra: Default::default(),
                })
                .collect(),
        ),
        extra: Default::default(),
    }
}

/// The flag as the iteration uses it. `default_variation` is the variation
/// the baseline treatment serves, for when the input names no
/// `notInExperimentVariationId`. The rule and the variation are the
/// catalog's (the rules checked that they are there), so that their IDs are
/// shared rather than copied from the input.
pub(super) fn flag(project: &str, resolved: &ResolvedFlag<'_>, default_variation: Option<&str>) -> FlagRep {
    let rule_id = resolved.input.rule_id.as_str();
    let (rule, description, clauses) = if rule_id == FALLTHROUGH {
        (Text::from_static(FALLTHROUGH), Some(FALLTHROUGH_DESCRIPTION), SharedList::new())
    } else {
        match resolved.flag.rule(rule_id) {
            Some(rule) => (rule.id.clone(), rule.description.clone(), rule.clauses.clone()),
            None => (Text::from(rule_id), None, SharedList::new()),
        }
    };
    let not_in_experiment = resolved.input.not_in_experiment_variation_id.as_deref().or(default_variation);
    FlagRep {
        targeting_rule: Some(rule),
        targeting_rule_description: description,
        targeting_rule_clauses: Some(clauses),
        flag_config_version: Some(resolved.input.flag_config_version),
        not_in_experiment_variation_id: not_in_experiment.map(|id| match resolved.flag.variation(id) {
            Some(variation) => variation.id.clone(),
            None => Text::from(id),
        }),
        links: links([("self", Text::concat(&["/api/v2/flags/", project, "/", resolved.key]))]),
        extra: Default::default(),
    }
}

pub(crate) fn metric_v2(project: &str, metric: &CatalogMetric) -> MetricV2Rep {
    MetricV2Rep {
        key: metric.key.clone(),
        version_id: Some(metric.version_id.clone()),
        name: metric.name.clone(),
        kind: metric.kind.clone(),
        is_numeric: metric.is_numeric,
        unit_aggregation_type: metric.unit_aggregation_type.clone(),
        event_key: metric.event_key.clone(),
        analysis_type: metric.analysis_type.clone(),
        analysis_unit: None,
        links: metric_links(project, &metric.key),
        extra: Default::default(),
    }
}

fn in_group(project: &str, member: &GroupMember, metric: &CatalogMetric) -> MetricInGroupRep {
    MetricInGroupRep {
        key: metric.key.clone(),
        version_id: Some(metric.version_id.clone()),
        name: metric.name.clone(),
        kind: metric.kind.clone(),
        is_numeric: metric.is_numeric,
        unit_aggregation_type: metric.unit_aggregation_type.clone(),
        event_key: metric.event_key.clone(),
        links: metric_links(project, &metric.key),
        name_in_group: member.name_in_group.clone(),
        randomization_units: Some(metric.randomization_units.clone()),
        analysis_type: metric.analysis_type.clone(),
        analysis_units: None,
        analysis_unit: None,
        extra: Default::default(),
    }
}

pub(super) fn dependent(project: &str, resolved: &ResolvedMetric<'_>) -> DependentMetricOrMetricGroupRep {
    match resolved {
        ResolvedMetric::Single(metric) => DependentMetricOrMetricGroupRep {
            key: metric.key.clone(),
            version_id: metric.version_id.clone(),
            name: metric.name.clone(),
            kind: metric.kind.clone(),
            is_numeric: metric.is_numeric,
            event_key: metric.event_key.clone(),
            links: metric_links(project, &metric.key),
            is_group: false,
            metrics: None,
            analysis_type: metric.analysis_type.clone(),
            analysis_unit: None,
            extra: Default::default(),
        },
        ResolvedMetric::Group(group, members) => DependentMetricOrMetricGroupRep {
            key: group.key.clone(),
            version_id: group.version_id.clone(),
            name: group.name.clone(),
            kind: group.kind.clone(),
            is_numeric: None,
            event_key: None,
            links: group_links(project, &group.key),
            is_group: true,
            metrics: Some(members.iter().map(|(member, metric)| in_group(project, member, metric)).collect()),
            analysis_type: None,
            analysis_unit: None,
            extra: Default::default(),
        },
    }
}

/// The group as `primaryFunnel`; `None` for a single metric.
pub(super) fn funnel(
    project: &str,
    resolved: &ResolvedMetric<'_>,
) -> Option<DependentMetricGroupRepWithMetrics> {
    let ResolvedMetric::Group(group, members) = resolved else { return None };
    Some(DependentMetricGroupRepWithMetrics {
        key: group.key.clone(),
        name: group.name.clone(),
        kind: group.kind.clone(),
        links: group_links(project, &group.key),
        metrics: Some(members.iter().map(|(member, metric)| in_group(project, member, metric)).collect()),
        extra: Default::default(),
    })
}
