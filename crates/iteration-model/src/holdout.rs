//! Holdouts: a share of traffic kept out of every experiment that joins the
//! holdout, measured by a base experiment of type `holdout`.
//!
//! A holdout is stored in its project's catalog; the experiments in it say
//! so themselves (`holdoutId`), so joining and leaving are writes of the
//! experiment, and a holdout's status is a function of its experiments
//! ([`Holdout::status`]). The rules, one small function each: an experiment
//! joins only a holdout of its environment ([`holdout_exists`]) that has
//! not ended ([`holdout_not_ended`]), and only when it is in no layer
//! ([`not_in_a_layer`]); a holdout does not end while a related experiment
//! runs ([`ends_only_when_nothing_runs`]); a running experiment does not
//! leave ([`leaves_only_when_not_running`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::allocation::AllocationPercent;
use crate::catalog_change::CatalogError;
use crate::experiment::{Experiment, ExperimentType};
use crate::ids::IdSource;
use crate::iteration::{IterationRep, IterationStatus, TreatmentRep};
use crate::key::is_valid_key;
use crate::layer::is_running;
use crate::link::links;
use crate::millis::UnixMillis;
use crate::project::ProjectCatalog;
use crate::reader::Reader;
use crate::violation::{Violation, ViolationCode, Violations, pointer};

/// Where a holdout is in its life (`HoldoutRep.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HoldoutStatus {
    /// No experiment is in it.
    Created,
    /// Experiments are in it; none runs.
    Enabled,
    /// An experiment in it runs.
    Running,
    /// It has ended (`endHoldout`).
    Ended,
}

impl HoldoutStatus {
    /// The status as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            HoldoutStatus::Created => "created",
            HoldoutStatus::Enabled => "enabled",
            HoldoutStatus::Running => "running",
            HoldoutStatus::Ended => "ended",
        }
    }
}

/// A metric of a holdout's base experiment (`MetricInput`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldoutMetric {
    /// The metric or group key.
    pub key: String,
    /// Whether it names a metric group.
    #[serde(default)]
    pub is_group: bool,
}

/// A holdout as stored in its project's catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Holdout {
    /// The holdout's ID (`_id`), which an experiment's `holdoutId` names.
    pub id: String,
    /// The holdout's key, also its base experiment's key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The environment it holds out traffic in.
    pub environment_key: String,
    /// The percentage of traffic held out, a decimal string.
    pub holdout_amount: AllocationPercent,
    /// The base experiment's randomization unit.
    pub randomization_unit: String,
    /// The base experiment's primary metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_metric_key: Option<String>,
    /// The base experiment's metrics.
    #[serde(default)]
    pub metrics: Vec<HoldoutMetric>,
    /// The attributes results can be sliced by.
    #[serde(default)]
    pub attributes: Vec<String>,
    /// The flag the holdout depends on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prerequisite_flag_key: Option<String>,
    /// The member who maintains it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintainer_id: Option<String>,
    /// When it was created.
    pub created_at: UnixMillis,
    /// When it last changed.
    pub updated_at: UnixMillis,
    /// When it ended; an ended holdout has this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<UnixMillis>,
}

/// A `HoldoutPostRequest`; its field names are lower case on the wire.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HoldoutPost {
    /// `name`.
    pub name: String,
    /// `key`.
    pub key: String,
    /// `description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `randomizationunit`.
    #[serde(rename = "randomizationunit", skip_serializing_if = "Option::is_none")]
    pub randomization_unit: Option<String>,
    /// `attributes`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<String>,
    /// `holdoutamount`, as sent.
    #[serde(rename = "holdoutamount")]
    pub holdout_amount: String,
    /// `primarymetrickey`.
    #[serde(rename = "primarymetrickey", skip_serializing_if = "Option::is_none")]
    pub primary_metric_key: Option<String>,
    /// `metrics`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<HoldoutMetric>,
    /// `prerequisiteflagkey`.
    #[serde(rename = "prerequisiteflagkey", skip_serializing_if = "Option::is_none")]
    pub prerequisite_flag_key: Option<String>,
    /// `maintainerId`.
    #[serde(rename = "maintainerId", skip_serializing_if = "Option::is_none")]
    pub maintainer_id: Option<String>,
}

impl HoldoutPost {
    /// A post with the required fields only.
    pub fn new(key: &str, name: &str, holdout_amount: &str) -> HoldoutPost {
        HoldoutPost {
            name: name.to_owned(),
            key: key.to_owned(),
            description: None,
            randomization_unit: None,
            attributes: Vec::new(),
            holdout_amount: holdout_amount.to_owned(),
            primary_metric_key: None,
            metrics: Vec::new(),
            prerequisite_flag_key: None,
            maintainer_id: None,
        }
    }
}

/// An experiment in a holdout, as a holdout lists it (`RelatedExperimentRep`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedExperimentRep {
    /// The experiment key.
    #[serde(default)]
    pub key: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its environment key.
    #[serde(default)]
    pub environment: String,
}

/// A holdout as the API shows it (`HoldoutRep`, and `HoldoutDetailRep`
/// with `relatedExperiments`). The status is kept as sent, so a status this
/// model does not know still reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldoutRep {
    /// The holdout ID.
    #[serde(rename = "_id")]
    pub id: String,
    /// The holdout key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The holdout name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `created`, `enabled`, `running` or `ended`.
    pub status: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The percentage of traffic held out.
    pub holdout_amount: String,
    /// Whether the base experiment or an experiment in the holdout runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_dirty: Option<bool>,
    /// When it was created.
    pub created_at: UnixMillis,
    /// When it last changed.
    pub updated_at: UnixMillis,
    /// The base experiment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_experiment: Option<Experiment>,
    /// The experiments in the holdout, in short.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiments: Option<Vec<RelatedExperimentRep>>,
    /// The experiments in the holdout, in full (`getHoldout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_experiments: Option<Vec<Experiment>>,
}

/// A holdout in a list (`SimpleHoldoutRep`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimpleHoldoutRep {
    /// The holdout ID.
    #[serde(rename = "_id")]
    pub id: String,
    /// The holdout key.
    pub key: String,
    /// The holdout name.
    pub name: String,
    /// Its status.
    pub status: String,
    /// When it was created.
    pub created_at: UnixMillis,
    /// When it last changed.
    pub updated_at: UnixMillis,
    /// The experiments in the holdout.
    #[serde(default)]
    pub experiments: Vec<RelatedExperimentRep>,
}

/// A page of an environment's holdouts (`HoldoutsCollectionRep`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldoutsCollectionRep {
    /// The holdouts.
    pub items: Vec<SimpleHoldoutRep>,
    /// How many holdouts the environment has.
    #[serde(default)]
    pub total_count: i64,
    /// Related resources.
    #[serde(rename = "_links", default)]
    pub links: crate::link::Links,
}

impl HoldoutPost {
    /// Reads a post, reporting every absent or mistyped field at its path.
    /// `name`, `key` and `holdoutamount` are required.
    pub fn from_json(value: &Value) -> Result<HoldoutPost, Violations> {
        let mut r = Reader::new();
        let post = (|| {
            let o = r.object(value, "")?;
            let name = r.req(o, "", "name", Reader::string);
            let key = r.req(o, "", "key", Reader::string);
            let description = r.opt(o, "", "description", Reader::string);
            let unit = r.opt(o, "", "randomizationunit", Reader::string);
            let attributes = r.opt(o, "", "attributes", Reader::strings);
            let amount = r.req(o, "", "holdoutamount", |r, v, p| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                other => {
                    r.wrong_type(p, "a string", other);
                    None
                }
            });
            let primary = r.opt(o, "", "primarymetrickey", Reader::string);
            let metrics = r.opt(o, "", "metrics", |r, v, p| {
                r.each(v, p, |r, item, path| {
                    let m = r.object(item, path)?;
                    let key = r.req(m, path, "key", Reader::string);
                    let is_group = r.opt(m, path, "isGroup", Reader::boolean);
                    // A holdout's primary metric is `primarymetrickey`.
                    r.unused(m, path, "primary", Reader::boolean);
                    Some(HoldoutMetric { key: key?, is_group: is_group?.unwrap_or(false) })
                })
            });
            let flag = r.opt(o, "", "prerequisiteflagkey", Reader::string);
            let maintainer = r.opt(o, "", "maintainerId", Reader::string);
            Some(HoldoutPost {
                name: name?,
                key: key?,
                description: description?,
                randomization_unit: unit?,
                attributes: attributes?.unwrap_or_default(),
                holdout_amount: amount?,
                primary_metric_key: primary?,
                metrics: metrics?.unwrap_or_default(),
                prerequisite_flag_key: flag?,
                maintainer_id: maintainer?,
            })
        })();
        r.finish(post)
    }
}

impl Holdout {
    /// Whether `experiment` is one of the experiments in this holdout (its
    /// base experiment is not).
    pub fn relates(&self, experiment: &Experiment) -> bool {
        experiment.environment_key == self.environment_key
            && experiment.holdout_id.as_deref() == Some(self.id.as_str())
            && experiment.key != self.key
    }

    /// The experiments of `experiments` in this holdout.
    pub fn related<'e>(&self, experiments: impl IntoIterator<Item = &'e Experiment>) -> Vec<&'e Experiment> {
        experiments.into_iter().filter(|e| self.relates(e)).collect()
    }

    /// The status: `ended` once ended; else `running` while an experiment in
    /// it runs, `enabled` while any is in it, `created` otherwise.
    pub fn status<'e>(&self, experiments: impl IntoIterator<Item = &'e Experiment>) -> HoldoutStatus {
        if self.ended_at.is_some() {
            return HoldoutStatus::Ended;
        }
        let related = self.related(experiments);
        if related.iter().any(|e| is_running(e)) {
            HoldoutStatus::Running
        } else if related.is_empty() {
            HoldoutStatus::Created
        } else {
            HoldoutStatus::Enabled
        }
    }

    /// `isDirty`: whether the base experiment or an experiment in the
    /// holdout runs.
    pub fn is_dirty<'e>(&self, experiments: impl IntoIterator<Item = &'e Experiment>) -> bool {
        experiments.into_iter().any(|e| {
            is_running(e)
                && e.environment_key == self.environment_key
                && (self.relates(e) || e.key == self.key)
        })
    }

    /// The base experiment: type `holdout`, the holdout's key and name, and
    /// a draft iteration that holds out `holdoutAmount` percent of traffic
    /// (its baseline treatment) and leaves the rest to experiments.
    pub fn base_experiment(
        &self,
        catalog: &ProjectCatalog,
        now: UnixMillis,
        ids: &mut dyn IdSource,
    ) -> Experiment {
        let project = &catalog.key;
        let environment_path = format!("/api/v2/projects/{project}/environments/{}", self.environment_key);
        let rest = AllocationPercent::HUNDRED.units().saturating_sub(self.holdout_amount.units());
        let fraction = format!("{:04}", rest % 10_000);
        let fraction = fraction.trim_end_matches('0');
        let rest = if fraction.is_empty() {
            (rest / 10_000).to_string()
        } else {
            format!("{}.{fraction}", rest / 10_000)
        };
        let treatment =
            |ids: &mut dyn IdSource, name: &str, baseline: bool, allocation: String| TreatmentRep {
                id: Some(ids.uuid()),
                name: name.to_owned(),
                allocation_percent: allocation,
                baseline: Some(baseline),
                parameters: Some(Vec::new()),
                extra: Map::new(),
            };
        let primary = self.primary_metric_key.as_deref().and_then(|key| {
            let view = catalog.view(&self.environment_key)?;
            Some(crate::resolve::reps::metric_v2(project, view.metrics.get(key)?))
        });
        let draft = IterationRep {
            id: Some(ids.uuid()),
            hypothesis: self.description.clone().unwrap_or_else(|| format!("Holdout {}", self.name)),
            status: IterationStatus::NotStarted,
            created_at: now,
            started_at: None,
            ended_at: None,
            winning_treatment_id: None,
            winning_reason: None,
            can_reshuffle_traffic: Some(true),
            flags: Some(BTreeMap::new()),
            reallocation_frequency_millis: None,
            version: Some(0),
            primary_metric: None,
            primary_single_metric: primary,
            primary_funnel: None,
            randomization_unit: Some(self.randomization_unit.clone()),
            attributes: (!self.attributes.is_empty()).then(|| self.attributes.clone()),
            treatments: Some(vec![
                treatment(ids, "Holdout", true, self.holdout_amount.to_string()),
                treatment(ids, "Available to experiments", false, rest),
            ]),
            secondary_metrics: None,
            metrics: None,
            layer_snapshot: None,
            covariate_info: None,
            extra: Map::new(),
        };
        Experiment {
            id: Some(ids.object_id()),
            key: self.key.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            maintainer_id: self.maintainer_id.clone().unwrap_or_else(|| ids.object_id()),
            creation_date: now,
            environment_key: self.environment_key.clone(),
            methodology: None,
            data_source: None,
            archived_date: None,
            tags: None,
            links: links([
                ("self", format!("{environment_path}/experiments/{}", self.key)),
                ("parent", environment_path),
            ]),
            holdout_id: Some(self.id.clone()),
            current_iteration: None,
            r#type: Some(ExperimentType::Holdout),
            draft_iteration: Some(draft),
            previous_iterations: None,
            analysis_config: None,
            mutable_fields_by_status: None,
            access: None,
            extra: Map::new(),
        }
    }
}

/// A semantic patch of a holdout (`HoldoutPatchInput`).
#[derive(Debug, Clone, PartialEq)]
pub struct HoldoutPatch {
    /// Why the change was made.
    pub comment: Option<String>,
    /// What to change, in order.
    pub instructions: Vec<HoldoutInstruction>,
}

/// One instruction of a holdout's semantic patch.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum HoldoutInstruction {
    /// `endHoldout`.
    EndHoldout,
    /// `removeExperiment` (`value`: the experiment key).
    RemoveExperiment {
        /// The experiment key.
        value: String,
    },
    /// `updateName` (`value`).
    UpdateName {
        /// The new name.
        value: String,
    },
    /// `updateDescription` (`value`).
    UpdateDescription {
        /// The new description.
        value: String,
    },
    /// A kind this model does not know, as sent.
    Other(Map<String, Value>),
}

impl HoldoutInstruction {
    /// The instruction's `kind`.
    pub fn kind(&self) -> &str {
        match self {
            HoldoutInstruction::EndHoldout => "endHoldout",
            HoldoutInstruction::RemoveExperiment { .. } => "removeExperiment",
            HoldoutInstruction::UpdateName { .. } => "updateName",
            HoldoutInstruction::UpdateDescription { .. } => "updateDescription",
            HoldoutInstruction::Other(object) => object.get("kind").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

impl HoldoutPatch {
    /// A patch of `instructions`.
    pub fn new(instructions: impl IntoIterator<Item = HoldoutInstruction>) -> HoldoutPatch {
        HoldoutPatch { comment: None, instructions: instructions.into_iter().collect() }
    }

    /// The patch as JSON, as a client sends it; [`HoldoutPatch::from_json`] reads it back.
    pub fn to_json(&self) -> Value {
        let instructions: Vec<Value> = self
            .instructions
            .iter()
            .map(|instruction| match instruction {
                HoldoutInstruction::EndHoldout => serde_json::json!({"kind": "endHoldout"}),
                HoldoutInstruction::RemoveExperiment { value }
                | HoldoutInstruction::UpdateName { value }
                | HoldoutInstruction::UpdateDescription { value } => {
                    serde_json::json!({"kind": instruction.kind(), "value": value})
                }
                HoldoutInstruction::Other(object) => Value::Object(object.clone()),
            })
            .collect();
        let mut object = Map::new();
        if let Some(comment) = &self.comment {
            object.insert("comment".to_owned(), Value::String(comment.clone()));
        }
        object.insert("instructions".to_owned(), Value::Array(instructions));
        Value::Object(object)
    }

    /// Reads a patch, reporting every problem with its JSON Pointer.
    pub fn from_json(value: &Value) -> Result<HoldoutPatch, Violations> {
        let mut r = Reader::new();
        let patch = (|| {
            let object = r.object(value, "")?;
            let comment = r.opt(object, "", "comment", Reader::string);
            let instructions = r.req(object, "", "instructions", |r, v, p| {
                r.each(v, p, |r, item, path| {
                    let o = r.object(item, path)?;
                    let kind = r.req(o, path, "kind", Reader::string)?;
                    let value = |r: &mut Reader| r.req(o, path, "value", Reader::string);
                    Some(match kind.as_str() {
                        "endHoldout" => HoldoutInstruction::EndHoldout,
                        "removeExperiment" => HoldoutInstruction::RemoveExperiment { value: value(r)? },
                        "updateName" => HoldoutInstruction::UpdateName { value: value(r)? },
                        "updateDescription" => HoldoutInstruction::UpdateDescription { value: value(r)? },
                        _ => HoldoutInstruction::Other(o.clone()),
                    })
                })
            });
            Some(HoldoutPatch { comment: comment?, instructions: instructions? })
        })();
        let patch = r.finish(patch)?;
        let mut violations = Violations::default();
        if patch.instructions.is_empty() {
            violations.push("/instructions", ViolationCode::TooFew, "a patch needs at least one instruction");
        }
        for (i, instruction) in patch.instructions.iter().enumerate() {
            if let HoldoutInstruction::Other(_) = instruction {
                violations.push(
                    pointer(&pointer("/instructions", i), "kind"),
                    ViolationCode::UnknownInstruction,
                    format!(
                        "`{}` is not an instruction for holdouts; use endHoldout, removeExperiment, updateName \
                         or updateDescription",
                        instruction.kind()
                    ),
                );
            }
        }
        violations.into_result().map(|()| patch)
    }
}

/// Rule: an experiment joins only a holdout of its own environment.
pub fn holdout_exists<'c>(
    catalog: &'c ProjectCatalog,
    environment: &str,
    holdout_id: &str,
    path: &str,
) -> Result<&'c Holdout, Violation> {
    catalog.holdout_by_id(environment, holdout_id).ok_or_else(|| {
        Violation::new(
            path,
            ViolationCode::UnknownHoldout,
            format!("`{holdout_id}` is not the ID of a holdout of environment `{environment}`"),
        )
    })
}

/// Rule: an ended holdout takes no new experiments.
pub fn holdout_not_ended(holdout: &Holdout, path: &str) -> Result<(), Violation> {
    if holdout.ended_at.is_some() {
        return Err(Violation::new(
            path,
            ViolationCode::HoldoutEnded,
            format!("holdout `{}` has ended and takes no new experiments", holdout.key),
        ));
    }
    Ok(())
}

/// Rule: an experiment is in a holdout or a layer, never both.
pub fn not_in_a_layer(
    catalog: &ProjectCatalog,
    environment: &str,
    experiment: &str,
    path: &str,
) -> Result<(), Violation> {
    match catalog.layer_of(environment, experiment) {
        Some(layer) => Err(Violation::new(
            path,
            ViolationCode::LayerOrHoldout,
            format!(
                "experiment `{experiment}` reserves traffic in layer `{}`; an experiment is in a holdout or a \
                 layer, never both",
                layer.key
            ),
        )),
        None => Ok(()),
    }
}

/// Rule: a holdout does not end while an experiment in it runs.
pub fn ends_only_when_nothing_runs(
    holdout: &Holdout,
    related: &[&Experiment],
    path: &str,
) -> Result<(), Violation> {
    match related.iter().find(|e| is_running(e)) {
        Some(running) => Err(Violation::new(
            path,
            ViolationCode::ExperimentRunning,
            format!(
                "endHoldout: experiment `{}` of holdout `{}` is running; stop it before ending the holdout",
                running.key, holdout.key
            ),
        )),
        None => Ok(()),
    }
}

/// Rule: an experiment does not leave a holdout while it runs.
pub fn leaves_only_when_not_running(experiment: &Experiment, path: &str) -> Result<(), Violation> {
    if is_running(experiment) {
        return Err(Violation::new(
            path,
            ViolationCode::ExperimentRunning,
            format!(
                "removeExperiment: experiment `{}` is running; stop it before removing it from the holdout",
                experiment.key
            ),
        ));
    }
    Ok(())
}

impl ProjectCatalog {
    /// The holdout of `environment` with key `key`.
    pub fn holdout(&self, environment: &str, key: &str) -> Option<&Holdout> {
        self.holdouts.iter().find(|h| h.environment_key == environment && h.key == key)
    }

    /// The holdout of `environment` with ID `id`.
    pub fn holdout_by_id(&self, environment: &str, id: &str) -> Option<&Holdout> {
        self.holdouts.iter().find(|h| h.environment_key == environment && h.id == id)
    }

    /// Checks that a new experiment `experiment` may join holdout `holdout_id`
    /// in `environment`; the violations are at `path` (`/holdoutId`).
    pub fn check_join(
        &self,
        environment: &str,
        holdout_id: &str,
        experiment: &str,
        path: &str,
    ) -> Violations {
        let mut violations = Violations::default();
        match holdout_exists(self, environment, holdout_id, path) {
            Err(violation) => violations.0.push(violation),
            Ok(holdout) => {
                violations.0.extend(holdout_not_ended(holdout, path).err());
                violations.0.extend(not_in_a_layer(self, environment, experiment, path).err());
            }
        }
        violations
    }

    /// Creates a holdout in `environment` from a `HoldoutPostRequest`, and
    /// answers it with its base experiment, which the caller stores.
    pub fn create_holdout(
        &mut self,
        environment: &str,
        post: &HoldoutPost,
        now: UnixMillis,
        ids: &mut dyn IdSource,
    ) -> Result<(Holdout, Experiment), CatalogError> {
        let mut v = Violations::default();
        if post.name.trim().is_empty() {
            v.push("/name", ViolationCode::Blank, "name must not be blank");
        }
        if !is_valid_key(&post.key) {
            v.push(
                "/key",
                ViolationCode::InvalidKey,
                format!("`{}` is not a valid key: 1 to 256 of A-Z a-z 0-9 . _ -", post.key),
            );
        }
        let amount = match AllocationPercent::parse(&post.holdout_amount) {
            Ok(amount) if !amount.is_zero() && amount.units() < AllocationPercent::HUNDRED.units() => {
                Some(amount)
            }
            Ok(_) => {
                v.push(
                    "/holdoutamount",
                    ViolationCode::OutOfRange,
                    format!("holdoutamount {} must be above 0 and below 100", post.holdout_amount),
                );
                None
            }
            Err(err) => {
                v.push("/holdoutamount", ViolationCode::InvalidAllocation, format!("holdoutamount: {err}"));
                None
            }
        };
        let unit =
            post.randomization_unit.clone().unwrap_or_else(|| self.default_randomization_unit().to_owned());
        if !self.context_kinds.iter().any(|k| k.key == unit) {
            v.push(
                "/randomizationunit",
                ViolationCode::UnknownContextKind,
                format!("`{unit}` is not a context kind of this project"),
            );
        } else if !self.enabled_for_experiments(&unit) {
            v.push(
                "/randomizationunit",
                ViolationCode::ContextKindNotForExperiments,
                format!("context kind `{unit}` is not enabled for experiments"),
            );
        }
        if let Some(primary) = &post.primary_metric_key {
            if !self.metrics.contains_key(primary) && !self.metric_groups.contains_key(primary) {
                v.push(
                    "/primarymetrickey",
                    ViolationCode::UnknownMetric,
                    format!("`{primary}` is not a metric of this project"),
                );
            }
        }
        for (i, metric) in post.metrics.iter().enumerate() {
            let known = if metric.is_group {
                self.metric_groups.contains_key(&metric.key)
            } else {
                self.metrics.contains_key(&metric.key)
            };
            if !known {
                v.push(
                    pointer(&pointer("/metrics", i), "key"),
                    ViolationCode::UnknownMetric,
                    format!(
                        "`{}` is not a {} of this project",
                        metric.key,
                        if metric.is_group { "metric group" } else { "metric" }
                    ),
                );
            }
        }
        if let Some(flag) = &post.prerequisite_flag_key {
            if !self.flags.contains_key(flag) {
                v.push(
                    "/prerequisiteflagkey",
                    ViolationCode::UnknownFlag,
                    format!("`{flag}` is not a flag of this project"),
                );
            }
        }
        v.into_result()?;
        if self.holdout(environment, &post.key).is_some() {
            return Err(CatalogError::KeyExists(format!(
                "a holdout with key `{}` already exists in environment `{environment}`",
                post.key
            )));
        }
        let holdout = Holdout {
            id: ids.object_id(),
            key: post.key.clone(),
            name: post.name.clone(),
            description: post.description.clone(),
            environment_key: environment.to_owned(),
            // Checked above: the amount parsed.
            holdout_amount: amount.unwrap_or_default(),
            randomization_unit: unit,
            primary_metric_key: post.primary_metric_key.clone(),
            metrics: post.metrics.clone(),
            attributes: post.attributes.clone(),
            prerequisite_flag_key: post.prerequisite_flag_key.clone(),
            maintainer_id: post.maintainer_id.clone(),
            created_at: now,
            updated_at: now,
            ended_at: None,
        };
        let base = holdout.base_experiment(self, now, ids);
        self.holdouts.push(holdout.clone());
        Ok((holdout, base))
    }

    /// Applies `patch` to holdout `key` of `environment`, every instruction
    /// or none, and answers the holdout and the keys of the experiments that
    /// `removeExperiment` takes out (the caller clears their `holdoutId`).
    pub fn patch_holdout<'e>(
        &mut self,
        environment: &str,
        key: &str,
        patch: &HoldoutPatch,
        experiments: impl IntoIterator<Item = &'e Experiment>,
        now: UnixMillis,
    ) -> Result<(Holdout, Vec<String>), CatalogError> {
        let index = self
            .holdouts
            .iter()
            .position(|h| h.environment_key == environment && h.key == key)
            .ok_or_else(|| {
                CatalogError::NotFound(format!("holdout `{key}` not found in environment `{environment}`"))
            })?;
        let mut holdout = self.holdouts[index].clone();
        let related = holdout.related(experiments);
        let mut removed: Vec<String> = Vec::new();
        let mut violations = Violations::default();
        for (i, instruction) in patch.instructions.iter().enumerate() {
            let path = pointer("/instructions", i);
            match instruction {
                HoldoutInstruction::EndHoldout => {
                    if holdout.ended_at.is_some() {
                        violations.push(
                            path,
                            ViolationCode::NotAllowed,
                            "endHoldout: the holdout has already ended",
                        );
                        continue;
                    }
                    let still_in: Vec<&Experiment> =
                        related.iter().copied().filter(|e| !removed.contains(&e.key)).collect();
                    match ends_only_when_nothing_runs(&holdout, &still_in, &path) {
                        Ok(()) => holdout.ended_at = Some(now),
                        Err(violation) => violations.0.push(violation),
                    }
                }
                HoldoutInstruction::RemoveExperiment { value } => {
                    let value_path = pointer(&path, "value");
                    match related.iter().find(|e| e.key == *value) {
                        None => violations.push(
                            value_path,
                            ViolationCode::UnknownExperiment,
                            format!("removeExperiment: experiment `{value}` is not in holdout `{key}`"),
                        ),
                        Some(experiment) => match leaves_only_when_not_running(experiment, &value_path) {
                            Ok(()) if !removed.contains(value) => removed.push(value.clone()),
                            Ok(()) => {}
                            Err(violation) => violations.0.push(violation),
                        },
                    }
                }
                HoldoutInstruction::UpdateName { value } => {
                    if value.trim().is_empty() {
                        violations.push(
                            pointer(&path, "value"),
                            ViolationCode::Blank,
                            "updateName: the name must not be blank",
                        );
                    } else {
                        holdout.name = value.clone();
                    }
                }
                HoldoutInstruction::UpdateDescription { value } => holdout.description = Some(value.clone()),
                HoldoutInstruction::Other(_) => violations.push(
                    pointer(&path, "kind"),
                    ViolationCode::UnknownInstruction,
                    format!("`{}` is not an instruction for holdouts", instruction.kind()),
                ),
            }
        }
        violations.into_result()?;
        holdout.updated_at = now;
        self.holdouts[index] = holdout.clone();
        Ok((holdout, removed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SequentialIds;

    fn holdout() -> Holdout {
        Holdout {
            id: "h1".into(),
            key: "h".into(),
            name: "H".into(),
            description: None,
            environment_key: "production".into(),
            holdout_amount: AllocationPercent::parse("12.5").unwrap(),
            randomization_unit: "user".into(),
            primary_metric_key: None,
            metrics: Vec::new(),
            attributes: Vec::new(),
            prerequisite_flag_key: None,
            maintainer_id: None,
            created_at: UnixMillis(0),
            updated_at: UnixMillis(0),
            ended_at: None,
        }
    }

    fn catalog() -> ProjectCatalog {
        serde_json::from_value(serde_json::json!({
            "key": "p", "id": "p", "creationDate": 0, "environments": [{"key": "production", "name": "Production"}],
            "contextKinds": [], "randomizationUnits": [], "flags": {}, "metrics": {}, "metricGroups": {}
        }))
        .expect("a catalog stored before layers and holdouts still reads")
    }

    #[test]
    fn status_follows_the_experiments_that_name_the_holdout() {
        let holdout = holdout();
        let mut member = holdout.base_experiment(&catalog(), UnixMillis(0), &mut SequentialIds::new(1));
        assert_eq!(holdout.status([&member]), HoldoutStatus::Created, "the base experiment is not a member");
        member.key = "member".into();
        assert_eq!(holdout.status([&member]), HoldoutStatus::Enabled);
        assert!(!holdout.is_dirty([&member]));
        member.current_iteration = member.draft_iteration.take().map(|mut i| {
            i.status = IterationStatus::Running;
            i
        });
        assert_eq!(holdout.status([&member]), HoldoutStatus::Running);
        assert!(holdout.is_dirty([&member]));
        assert!(ends_only_when_nothing_runs(&holdout, &[&member], "/i").is_err());
        let ended = Holdout { ended_at: Some(UnixMillis(1)), ..holdout };
        assert_eq!(ended.status([&member]), HoldoutStatus::Ended);
        assert_eq!(holdout_not_ended(&ended, "/holdoutId").unwrap_err().code, ViolationCode::HoldoutEnded);
    }

    #[test]
    fn the_base_draft_holds_out_the_amount_and_leaves_the_rest() {
        let base = holdout().base_experiment(&catalog(), UnixMillis(0), &mut SequentialIds::new(1));
        let draft = base.draft_iteration.expect("a draft");
        let shares: Vec<(String, String)> =
            draft.treatments.into_iter().flatten().map(|t| (t.name, t.allocation_percent)).collect();
        assert_eq!(
            shares,
            [
                ("Holdout".to_owned(), "12.5".to_owned()),
                ("Available to experiments".to_owned(), "87.5".to_owned())
            ]
        );
        assert_eq!(base.r#type, Some(ExperimentType::Holdout));
    }

    #[test]
    fn a_post_and_a_patch_read_back_from_their_json() {
        let post = HoldoutPost::new("h", "H", "5");
        assert_eq!(HoldoutPost::from_json(&serde_json::to_value(&post).unwrap()), Ok(post));
        let patch = HoldoutPatch::new([
            HoldoutInstruction::EndHoldout,
            HoldoutInstruction::UpdateName { value: "N".into() },
        ]);
        assert_eq!(HoldoutPatch::from_json(&patch.to_json()), Ok(patch));
    }
}
