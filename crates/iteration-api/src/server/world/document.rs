//! The parts of a world file, as they are written in it.
//!
//! Field names are the file's (camelCase, `_id` style where the API uses it);
//! `docs/world-format.md` describes each.

use std::collections::BTreeMap;

use iteration_model::{
    Experiment, ExperimentType, MetricKind, ProjectCatalog, UnitAggregationType, UnixMillis,
};
use serde::{Deserialize, Serialize};

/// An access token the server accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Token {
    /// The secret, sent as the `Authorization` header.
    pub token: String,
    /// What the token may do.
    pub role: Role,
    /// The projects the token may use; `None` for all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projects: Option<Vec<String>>,
    /// A name for people reading logs and the file (never the secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Token {
    /// Whether the token's scope includes `project`.
    pub fn allows_project(&self, project: &str) -> bool {
        self.projects.as_ref().is_none_or(|projects| projects.iter().any(|p| p == project))
    }
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read only: a write answers 403.
    Reader,
    /// Read and write.
    Writer,
    /// Everything a writer may, plus the server's administration API
    /// (`/_iteration/...`).
    Admin,
}

impl Role {
    /// Whether the role may use routes that change data.
    pub fn can_write(self) -> bool {
        matches!(self, Role::Writer | Role::Admin)
    }

    /// Whether the role may use the administration API.
    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }
}

/// A project and everything in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Project {
    /// The project key.
    pub key: String,
    /// The project name.
    pub name: String,
    /// The randomization unit an iteration gets when it names none
    /// (`user` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_randomization_unit: Option<String>,
    /// The context kinds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context_kinds: Vec<ContextKind>,
    /// The environments.
    pub environments: Vec<Environment>,
    /// The feature flags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<Flag>,
    /// The single metrics.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<Metric>,
    /// The metric groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metric_groups: Vec<MetricGroup>,
    /// The layers experiments reserve traffic in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<Layer>,
    /// The holdouts, each with its base experiment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holdouts: Vec<SeedHoldout>,
    /// The covariate files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub covariates: Vec<Covariate>,
    /// The live catalog, whole (format version 2): when given, it is the
    /// project's catalog as it is, and the fields that describe a catalog in
    /// short (`contextKinds`, `flags`, `metrics`, ...) are absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<ProjectCatalog>,
    /// The experiments that exist when the server starts, whole: a
    /// version 1 file's short form is read into this.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub experiments: Vec<Experiment>,
}

impl Project {
    /// The randomization unit an iteration gets when it names none.
    pub fn default_randomization_unit(&self) -> &str {
        self.default_randomization_unit.as_deref().unwrap_or("user")
    }

    /// The environment `key`.
    pub fn environment(&self, key: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.key == key)
    }

    /// The flag `key`.
    pub fn flag(&self, key: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.key == key)
    }
}

/// A context kind (`user`, `organization`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContextKind {
    /// The kind's key.
    pub key: String,
    /// Its display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether experiments may randomize by it.
    #[serde(default)]
    pub enabled_for_experiments: bool,
}

/// An environment of a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Environment {
    /// The environment key.
    pub key: String,
    /// The environment name.
    pub name: String,
}

/// A feature flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Flag {
    /// The flag key.
    pub key: String,
    /// The flag name.
    pub name: String,
    /// Whether the flag is archived (no new iteration may use it).
    #[serde(default)]
    pub archived: bool,
    /// The variations, in order.
    pub variations: Vec<Variation>,
    /// The flag's configuration in each environment of the project, by environment key.
    pub environments: BTreeMap<String, FlagEnvironment>,
}

impl Flag {
    /// The flag's configuration in `environment`.
    pub fn environment(&self, environment: &str) -> Option<&FlagEnvironment> {
        self.environments.get(environment)
    }
}

/// A variation of a flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variation {
    /// The variation ID.
    #[serde(rename = "_id")]
    pub id: String,
    /// The variation name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The value the flag serves.
    pub value: serde_json::Value,
}

/// A flag's configuration in one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlagEnvironment {
    /// Whether targeting is on.
    pub on: bool,
    /// The configuration's version, which `flagConfigVersion` must match.
    pub version: i64,
    /// The targeting rules, in order.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// A targeting rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The rule ID, which an iteration's `ruleId` names.
    #[serde(rename = "_id")]
    pub id: String,
    /// What the rule is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The clauses, as LaunchDarkly writes them.
    #[serde(default)]
    pub clauses: Vec<iteration_model::Clause>,
}

/// A single metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metric {
    /// The metric key.
    pub key: String,
    /// The metric name.
    pub name: String,
    /// The kind of event it tracks: `pageview`, `click` or `custom`.
    pub kind: MetricKind,
    /// Whether a custom metric tracks a numeric value.
    #[serde(default)]
    pub is_numeric: bool,
    /// How a numeric metric aggregates per unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_aggregation_type: Option<UnitAggregationType>,
    /// The event key of a custom metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_key: Option<String>,
    /// The context kinds it can be measured by.
    pub randomization_units: Vec<String>,
    /// The version ID.
    #[serde(rename = "_versionId")]
    pub version_id: String,
}

/// A metric group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricGroup {
    /// The group key.
    pub key: String,
    /// The group name.
    pub name: String,
    /// `funnel` or `standard`.
    pub kind: MetricKind,
    /// The version ID.
    #[serde(rename = "_versionId")]
    pub version_id: String,
    /// The member metrics, in order (a funnel's steps).
    pub metrics: Vec<GroupMember>,
}

/// A metric inside a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupMember {
    /// The metric key.
    pub key: String,
    /// The metric's name within the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_in_group: Option<String>,
}

/// A layer: experiments in it share its traffic without overlapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Layer {
    /// The layer key.
    pub key: String,
    /// The layer name.
    pub name: String,
    /// The environment the reservations apply in.
    pub environment_key: String,
    /// Percent of the layer's traffic each experiment reserves, by experiment key.
    pub reservations: BTreeMap<String, i64>,
    /// Percent reserved by experiments outside this world.
    #[serde(default)]
    pub other_reservation_percent: i64,
}

/// A holdout that exists, with no experiments yet, when the server starts.
/// Its base experiment is made from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedHoldout {
    /// The environment it holds out traffic in.
    pub environment_key: String,
    /// The holdout key, also its base experiment's key.
    pub key: String,
    /// The holdout name.
    pub name: String,
    /// The holdout ID, which experiments name in `holdoutId`.
    #[serde(rename = "_id")]
    pub id: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The percentage of traffic held out, a decimal string above 0 and below 100.
    pub holdout_amount: String,
    /// The base experiment's randomization unit (the project's default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub randomization_unit: Option<String>,
    /// The base experiment's primary metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_metric_key: Option<String>,
}

/// A covariate file for stratified sampling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Covariate {
    /// The environment it belongs to.
    pub environment_key: String,
    /// The covariate ID, which an iteration's `covariateId` names.
    pub id: String,
    /// The uploaded file's name.
    pub file_name: String,
    /// When it was uploaded.
    pub created_at: UnixMillis,
}

/// An experiment that exists, without iterations, when the server starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedExperiment {
    /// The environment it runs in.
    pub environment_key: String,
    /// The experiment key.
    pub key: String,
    /// The experiment name.
    pub name: String,
    /// The experiment description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The kind of experiment (default `experiment`).
    #[serde(rename = "type", default = "default_type")]
    pub r#type: ExperimentType,
    /// The experiment ID.
    #[serde(rename = "_id")]
    pub id: String,
    /// When it was created.
    #[serde(rename = "_creationDate")]
    pub creation_date: UnixMillis,
    /// The member who maintains it.
    #[serde(rename = "_maintainerId")]
    pub maintainer_id: String,
    /// When it was archived; an experiment with this is archived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_date: Option<UnixMillis>,
}

fn default_type() -> ExperimentType {
    ExperimentType::Experiment
}
