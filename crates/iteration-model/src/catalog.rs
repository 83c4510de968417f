//! What a server knows about one project in one environment: the flags,
//! metrics, context kinds and covariates an iteration may refer to.
//!
//! The catalog is plain data. [`resolve_iteration`](crate::resolve_iteration)
//! checks an [`IterationInput`](crate::IterationInput) against it and builds
//! the iteration; where the catalog comes from (a world file, a database) is
//! the caller's business. The types read and write camelCase JSON so that a
//! server's world file can hold them as they are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::experiment::{Experiment, ExperimentType};
use crate::iteration::CovariateInfoRep;
use crate::metric::{MetricKind, UnitAggregationType};
use crate::shared_list::SharedList;
use crate::text::Text;

pub mod demo;

/// The flags, metrics, context kinds and covariates of one project, with the
/// flags' configuration in one of its environments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    /// The project key, used in the links of the resolved iteration.
    pub project_key: String,
    /// The environment whose flag configuration and covariates this holds.
    pub environment_key: String,
    /// The project's default randomization unit; `user` when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_randomization_unit: Option<String>,
    /// The project's context kinds.
    #[serde(default)]
    pub context_kinds: Vec<ContextKind>,
    /// The project's flags by key, each with this environment's configuration.
    #[serde(default)]
    pub flags: BTreeMap<String, CatalogFlag>,
    /// The project's single metrics by key.
    #[serde(default)]
    pub metrics: BTreeMap<String, CatalogMetric>,
    /// The project's metric groups by key.
    #[serde(default)]
    pub metric_groups: BTreeMap<String, CatalogMetricGroup>,
    /// This environment's covariate files by ID.
    #[serde(default)]
    pub covariates: BTreeMap<String, CovariateInfoRep>,
}

/// A context kind of the project (`user`, `organization`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextKind {
    /// The context kind's key, which is what `randomizationUnit` names.
    pub key: String,
    /// Its display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether experiments may randomize by it.
    #[serde(default)]
    pub enabled_for_experiments: bool,
}

/// A flag of the project with its configuration in the catalog's environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogFlag {
    /// The flag key.
    pub key: String,
    /// The flag name.
    pub name: String,
    /// Whether the flag is archived (an iteration cannot use it).
    #[serde(default)]
    pub archived: bool,
    /// The flag's variations, in order.
    pub variations: Vec<Variation>,
    /// Whether targeting is on in this environment.
    #[serde(default)]
    pub on: bool,
    /// The flag's configuration version in this environment.
    pub version: i64,
    /// The targeting rules in this environment, in order.
    #[serde(default)]
    pub rules: Vec<TargetingRule>,
}

/// One variation of a flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Variation {
    /// The variation ID, which treatments name in `variationId`.
    #[serde(rename = "_id")]
    pub id: Text,
    /// The variation's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The value the flag serves.
    pub value: serde_json::Value,
}

/// A targeting rule of a flag in one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetingRule {
    /// The rule ID, which an iteration names in `ruleId`.
    #[serde(rename = "_id")]
    pub id: Text,
    /// The rule's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// The rule's clauses, as the flag holds them.
    #[serde(default)]
    pub clauses: SharedList<serde_json::Value>,
}

/// A single metric of the project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogMetric {
    /// The metric key.
    pub key: Text,
    /// The metric name.
    pub name: Text,
    /// What the metric tracks (`pageview`, `click`, `custom`).
    pub kind: MetricKind,
    /// The metric's current version ID.
    pub version_id: Text,
    /// For custom metrics, whether it tracks a numeric value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_numeric: Option<bool>,
    /// How a numeric metric aggregates per unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_aggregation_type: Option<UnitAggregationType>,
    /// The event key of a custom metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_key: Option<Text>,
    /// The context kinds the metric can be measured by.
    #[serde(default)]
    pub randomization_units: Vec<Text>,
    /// How results are analysed: the mean (absent) or a percentile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis_type: Option<crate::metric::AnalysisType>,
}

/// A metric group of the project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogMetricGroup {
    /// The group key.
    pub key: Text,
    /// The group name.
    pub name: Text,
    /// `funnel` (ordered steps) or `standard`.
    pub kind: MetricKind,
    /// The group's current version ID.
    pub version_id: Text,
    /// The group's metrics, in order; each names a [`CatalogMetric`].
    pub members: Vec<GroupMember>,
}

/// A metric inside a metric group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMember {
    /// The metric's key in [`Catalog::metrics`].
    pub key: String,
    /// The metric's name within the group (a funnel's step name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_in_group: Option<Text>,
}

/// What resolution needs to know about the experiment that gets the iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentContext {
    /// The experiment key.
    pub key: String,
    /// The kind of experiment; only a bandit (`mab`) may reallocate traffic.
    pub experiment_type: ExperimentType,
    /// Whether the experiment is archived (it then gets no new iteration).
    #[serde(default)]
    pub archived: bool,
}

impl From<&Experiment> for ExperimentContext {
    /// What resolution needs to know about a stored experiment; one with
    /// no `type` is a plain experiment.
    fn from(experiment: &Experiment) -> ExperimentContext {
        ExperimentContext {
            key: experiment.key.clone(),
            experiment_type: experiment.r#type.clone().unwrap_or(ExperimentType::Experiment),
            archived: crate::lifecycle::is_archived(experiment),
        }
    }
}

impl Catalog {
    /// The randomization unit an iteration gets when it names none: the
    /// project's default, else `user`.
    pub fn default_randomization_unit(&self) -> &str {
        self.default_randomization_unit.as_deref().unwrap_or("user")
    }

    /// The context kind with this key.
    pub fn context_kind(&self, key: &str) -> Option<&ContextKind> {
        self.context_kinds.iter().find(|kind| kind.key == key)
    }
}

impl CatalogFlag {
    /// The variation with this ID.
    pub fn variation(&self, id: &str) -> Option<&Variation> {
        self.variations.iter().find(|variation| variation.id == id)
    }

    /// The targeting rule with this ID in the catalog's environment.
    pub fn rule(&self, id: &str) -> Option<&TargetingRule> {
        self.rules.iter().find(|rule| rule.id == id)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::demo::{demo_catalog, demo_experiment};
    use super::*;

    #[test]
    fn a_catalog_round_trips_through_camel_case_json() {
        let catalog = demo_catalog("production");
        let json = serde_json::to_value(&catalog).unwrap();
        assert_eq!(json["defaultRandomizationUnit"], json!("user"));
        assert_eq!(
            json["contextKinds"][2],
            json!({"key": "device", "name": "Device", "enabledForExperiments": false})
        );
        assert_eq!(json["metrics"]["org-revenue"]["unitAggregationType"], json!("average"));
        assert_eq!(
            json["metricGroups"]["metric-group-key-123abc"]["members"][1]["nameInGroup"],
            json!("Step 2")
        );
        assert_eq!(
            json["flags"]["example-flag-for-experiment"]["rules"][0]["_id"],
            json!("e432f62b-55f6-49dd-a02f-eb24acf39d05")
        );
        assert_eq!(serde_json::from_value::<Catalog>(json).unwrap(), catalog);
    }

    #[test]
    fn the_demo_environments_differ_as_the_demo_world_says() {
        let production = demo_catalog("production");
        let test = demo_catalog("test");
        let flag = |catalog: &Catalog| catalog.flags["example-flag-for-experiment"].clone();
        assert_eq!(
            (flag(&production).on, flag(&production).version, flag(&production).rules.len()),
            (true, 12, 1)
        );
        assert_eq!((flag(&test).on, flag(&test).version, flag(&test).rules.len()), (false, 3, 0));
        assert_eq!(production.covariates.len(), 1);
        assert!(test.covariates.is_empty());
        assert!(production.flags["retired-flag"].archived);
        assert_eq!(demo_experiment("example-bandit").experiment_type, ExperimentType::Mab);
        assert!(demo_experiment("retired-experiment").archived);
        assert!(!demo_experiment("example-experiment").archived);
    }
}
