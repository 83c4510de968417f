//! Experiments: what the API returns, and what creates one.

use std::collections::BTreeMap;

use crate::input::{IterationInput, read_iteration_input};
use crate::iteration::IterationRep;
use crate::link::Links;
use crate::millis::UnixMillis;
use crate::reader::Reader;
use crate::violation::{ViolationCode, Violations};
use crate::wire::{representation, wire_enum};

wire_enum! {
    /// The kind of experiment.
    pub enum ExperimentType {
        /// A classic experiment with fixed allocations.
        Experiment = "experiment",
        /// A multi-armed bandit, which reallocates traffic as results arrive.
        Mab = "mab",
        /// A holdout.
        Holdout = "holdout",
    }
}

wire_enum! {
    /// The results analysis approach.
    pub enum Methodology {
        /// Bayesian analysis.
        Bayesian = "bayesian",
        /// Frequentist analysis.
        Frequentist = "frequentist",
        /// Export only, no analysis.
        ExportOnly = "export_only",
    }
}

wire_enum! {
    /// Where metric data for analysis comes from.
    pub enum DataSource {
        /// LaunchDarkly's own events (the default).
        Launchdarkly = "launchdarkly",
        /// Snowflake.
        Snowflake = "snowflake",
        /// Databricks.
        Databricks = "databricks",
        /// Redshift.
        Redshift = "redshift",
    }
}

wire_enum! {
    /// The method for multiple comparison correction.
    pub enum MultipleComparisonCorrectionMethod {
        /// Bonferroni.
        Bonferroni = "bonferroni",
        /// Benjamini-Hochberg.
        BenjaminiHochberg = "benjamini-hochberg",
    }
}

wire_enum! {
    /// The scope of multiple comparison correction.
    pub enum MultipleComparisonCorrectionScope {
        /// Across variations.
        Variations = "variations",
        /// Across variations and metrics.
        VariationsAndMetrics = "variations-and-metrics",
        /// Across metrics.
        Metrics = "metrics",
    }
}

representation! {
    /// An experiment (`Experiment`).
    pub struct Experiment {
        /// The experiment ID.
        opt id: String = "_id",
        /// The experiment key.
        req key: String = "key",
        /// The experiment name.
        req name: String = "name",
        /// The experiment description.
        opt description: String = "description",
        /// The member who maintains this experiment.
        req maintainer_id: String = "_maintainerId",
        /// When the experiment was created.
        req creation_date: UnixMillis = "_creationDate",
        /// The environment the experiment runs in.
        req environment_key: String = "environmentKey",
        /// The results analysis approach.
        opt methodology: Methodology = "methodology",
        /// Where metric data comes from.
        opt data_source: DataSource = "dataSource",
        /// When the experiment was archived.
        opt archived_date: UnixMillis = "archivedDate",
        /// Tags.
        opt tags: Vec<String> = "tags",
        /// Related resources.
        req links: Links = "_links",
        /// The holdout's ID.
        opt holdout_id: String = "holdoutId",
        /// The running iteration, if any.
        opt current_iteration: IterationRep = "currentIteration",
        /// The kind of experiment.
        opt r#type: ExperimentType = "type",
        /// The draft iteration, if any (with `expand=draftIteration`).
        opt draft_iteration: IterationRep = "draftIteration",
        /// Stopped iterations (with `expand=previousIterations`).
        opt previous_iterations: Vec<IterationRep> = "previousIterations",
        /// The analysis configuration (with `expand=analysisConfig`).
        opt analysis_config: AnalysisConfigRep = "analysisConfig",
        /// Which fields `updateExperimentFields` may change in each iteration
        /// status (with `expand=mutableFieldsByStatus`).
        opt mutable_fields_by_status: MutableFieldsByStatusRep = "mutableFieldsByStatus",
        /// What the caller's token may do with the experiment.
        opt access: crate::access::Access = "_access",
    }
}

representation! {
    /// Which fields `updateExperimentFields` may change with which operations,
    /// per iteration status (`MutableFieldsByStatusRep`).
    pub struct MutableFieldsByStatusRep {
        /// While the draft has not started: field name to operations.
        opt not_started: BTreeMap<String, Vec<String>> = "not_started",
        /// While an iteration runs.
        opt running: BTreeMap<String, Vec<String>> = "running",
        /// Once the iteration stopped.
        opt stopped: BTreeMap<String, Vec<String>> = "stopped",
    }
}

impl MutableFieldsByStatusRep {
    /// The fields this model lets `updateExperimentFields` change: the
    /// experiment's own fields in every status (`name` cannot be removed),
    /// every iteration field of a draft that has not started, and only
    /// `add` to `metrics` while an iteration runs.
    pub fn enforced() -> MutableFieldsByStatusRep {
        let operations = |list: &[&str]| list.iter().map(|o| (*o).to_owned()).collect::<Vec<_>>();
        let experiment_level = || {
            crate::validate::EXPERIMENT_FIELDS
                .iter()
                .map(|field| {
                    let allowed = if *field == "name" {
                        &["add", "update"][..]
                    } else {
                        &["add", "update", "remove"][..]
                    };
                    ((*field).to_owned(), operations(allowed))
                })
                .collect::<BTreeMap<_, _>>()
        };
        let mut not_started = experiment_level();
        for field in crate::validate::ITERATION_FIELDS {
            not_started.insert((*field).to_owned(), operations(&["add", "update", "remove"]));
        }
        let mut running = experiment_level();
        running.insert("metrics".to_owned(), operations(&["add"]));
        MutableFieldsByStatusRep {
            not_started: Some(not_started),
            running: Some(running),
            stopped: Some(experiment_level()),
            extra: serde_json::Map::new(),
        }
    }
}

representation! {
    /// A page of experiments (`ExperimentCollectionRep`).
    pub struct ExperimentCollectionRep {
        /// The experiments on this page.
        req items: Vec<Experiment> = "items",
        /// How many experiments match in all.
        opt total_count: i64 = "total_count",
        /// Links to this page and its neighbours.
        opt links: Links = "_links",
    }
}

representation! {
    /// An experiment's analysis configuration (`AnalysisConfigRep`).
    pub struct AnalysisConfigRep {
        /// The Bayesian threshold (0 to 100).
        opt bayesian_threshold: String = "bayesianThreshold",
        /// The frequentist significance threshold.
        opt significance_threshold: String = "significanceThreshold",
        /// The frequentist test direction.
        opt test_direction: String = "testDirection",
        /// The multiple comparison correction method.
        opt multiple_comparison_correction_method: MultipleComparisonCorrectionMethod = "multipleComparisonCorrectionMethod",
        /// The multiple comparison correction scope.
        opt multiple_comparison_correction_scope: MultipleComparisonCorrectionScope = "multipleComparisonCorrectionScope",
        /// Whether sequential testing is on.
        opt sequential_testing_enabled: bool = "sequentialTestingEnabled",
    }
}

/// An experiment's analysis configuration as sent (`AnalysisConfigInput`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisConfigInput {
    /// The Bayesian threshold (0 to 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bayesian_threshold: Option<String>,
    /// The frequentist significance threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub significance_threshold: Option<String>,
    /// The frequentist test direction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_direction: Option<String>,
    /// The multiple comparison correction method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiple_comparison_correction_method: Option<MultipleComparisonCorrectionMethod>,
    /// The multiple comparison correction scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiple_comparison_correction_scope: Option<MultipleComparisonCorrectionScope>,
    /// Whether sequential testing is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequential_testing_enabled: Option<bool>,
}

/// What creates an experiment (`ExperimentPost`).
///
/// Read it with [`ExperimentPost::from_json`] to learn every absent or
/// mistyped field at once; `Deserialize` applies the same rules.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentPost {
    /// The experiment name.
    pub name: String,
    /// The experiment description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The member who maintains the experiment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintainer_id: Option<String>,
    /// The experiment key.
    pub key: String,
    /// The first iteration, which becomes the draft.
    pub iteration: IterationInput,
    /// The holdout's ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout_id: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// The results analysis approach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methodology: Option<Methodology>,
    /// The analysis configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis_config: Option<AnalysisConfigInput>,
    /// Where metric data comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source: Option<DataSource>,
    /// The kind of experiment (default `experiment`).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub r#type: Option<ExperimentType>,
}

impl ExperimentPost {
    /// Reads an experiment from JSON, reporting every absent or mistyped
    /// field with its JSON Pointer (`/iteration/treatments/0/name`, ...).
    pub fn from_json(value: &serde_json::Value) -> Result<ExperimentPost, Violations> {
        let mut reader = Reader::new();
        let post = read_experiment_post(&mut reader, value, "");
        reader.finish(post)
    }
}

fn read_experiment_post(r: &mut Reader, value: &serde_json::Value, path: &str) -> Option<ExperimentPost> {
    let obj = r.object(value, path)?;
    let name = r.req(obj, path, "name", Reader::string);
    let description = r.opt(obj, path, "description", Reader::string);
    let maintainer_id = r.opt(obj, path, "maintainerId", Reader::string);
    let key = r.req(obj, path, "key", Reader::string);
    let iteration = r.req(obj, path, "iteration", read_iteration_input);
    let holdout_id = r.opt(obj, path, "holdoutId", Reader::string);
    let tags = r.opt(obj, path, "tags", Reader::strings);
    let methodology =
        r.opt(obj, path, "methodology", |r, v, p| r.string(v, p).map(|s| Methodology::from(s.as_str())));
    let analysis_config =
        r.opt(obj, path, "analysisConfig", |r, v, p| match serde_json::from_value(v.clone()) {
            Ok(config) => Some(config),
            Err(err) => {
                r.violations.push(p, ViolationCode::WrongType, format!("analysisConfig is not valid: {err}"));
                None
            }
        });
    let data_source =
        r.opt(obj, path, "dataSource", |r, v, p| r.string(v, p).map(|s| DataSource::from(s.as_str())));
    let r#type = r.opt(obj, path, "type", |r, v, p| r.string(v, p).map(|s| ExperimentType::from(s.as_str())));
    Some(ExperimentPost {
        name: name?,
        description: description?,
        maintainer_id: maintainer_id?,
        key: key?,
        iteration: iteration?,
        holdout_id: holdout_id?,
        tags: tags?,
        methodology: methodology?,
        analysis_config: analysis_config?,
        data_source: data_source?,
        r#type: r#type?,
    })
}

impl<'de> serde::Deserialize<'de> for ExperimentPost {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
        ExperimentPost::from_json(&value).map_err(serde::de::Error::custom)
    }
}
