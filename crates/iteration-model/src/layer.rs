//! Layers: experiments in one layer get mutually exclusive traffic, each
//! reserving a whole percentage of the layer in an environment.
//!
//! The rules of a reservation live here, one small function each:
//! a reservation is an integer from 0 to 100
//! ([`reservation_in_range`]); a layer's reservations in one environment
//! sum to at most 100 ([`layer_not_over_full`]); an experiment is in at
//! most one layer ([`one_layer_per_experiment`]) and never in a layer and a
//! holdout at once ([`not_in_a_holdout`]); 0 only while the experiment does
//! not run ([`zero_only_while_not_running`]); a running experiment is not
//! removed ([`not_removed_while_running`]). Starting an iteration of an
//! experiment in a layer needs a reservation above 0
//! ([`ProjectCatalog::layer_allows_start`]), and a stopped iteration's
//! `layerSnapshot` is taken from the live layer
//! ([`ProjectCatalog::layer_snapshot`]).
//!
//! A layer may also hold, per environment, an `otherReservationPercent`:
//! traffic reserved by experiments this server does not hold (a world file
//! says how much). It counts towards the 100 and towards the other
//! experiments' share in a snapshot, and the API shows it beside the
//! reservations.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalog_change::CatalogError;
use crate::experiment::Experiment;
use crate::iteration::{IterationStatus, LayerSnapshotRep};
use crate::key::is_valid_key;
use crate::link::{Links, links};
use crate::millis::UnixMillis;
use crate::project::ProjectCatalog;
use crate::reader::Reader;
use crate::violation::{Violation, ViolationCode, Violations, pointer};

/// The most a layer's reservations in one environment may add up to.
pub const LAYER_CAPACITY: i64 = 100;

/// One experiment's share of a layer in an environment (`LayerReservationRep`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerReservation {
    /// The experiment's key.
    pub experiment_key: String,
    /// The experiment's flag (its first, by key), or empty when it has none yet.
    #[serde(default)]
    pub flag_key: String,
    /// The percentage of the layer's traffic it reserves, 0 to 100.
    pub reservation_percent: i64,
}

/// A layer's reservations in one environment (`LayerConfigurationRep`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerEnvironment {
    /// The reservations, in the order they were made.
    pub reservations: Vec<LayerReservation>,
    /// Traffic reserved by experiments this server does not hold.
    #[serde(default)]
    pub other_reservation_percent: i64,
}

impl LayerEnvironment {
    /// What every reservation and the outside share add up to.
    pub fn total(&self) -> i64 {
        self.other_reservation_percent + self.reservations.iter().map(|r| r.reservation_percent).sum::<i64>()
    }

    /// The reservation of `experiment`, if it has one.
    pub fn reservation(&self, experiment: &str) -> Option<&LayerReservation> {
        self.reservations.iter().find(|r| r.experiment_key == experiment)
    }

    /// What everyone but `experiment` reserves, the outside share included.
    pub fn reserved_by_others(&self, experiment: &str) -> i64 {
        self.total() - self.reservation(experiment).map_or(0, |r| r.reservation_percent)
    }
}

/// A layer of a project (`LayerRep`), as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Layer {
    /// The layer key.
    pub key: String,
    /// The layer name.
    pub name: String,
    /// What the layer is for.
    pub description: String,
    /// When it was created.
    pub created_at: UnixMillis,
    /// The unit of randomization, when the layer fixes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub randomization_unit: Option<String>,
    /// The reservations, by environment key.
    #[serde(default)]
    pub environments: BTreeMap<String, LayerEnvironment>,
}

impl Layer {
    /// A layer from a `LayerPost` body: `key`, `name` and `description`
    /// required, the key valid and the name not blank. Every problem at once.
    pub fn create(body: &Value, now: UnixMillis) -> Result<Layer, Violations> {
        let mut r = Reader::new();
        let read = (|| {
            let object = r.object(body, "")?;
            let key = r.req(object, "", "key", Reader::string);
            let name = r.req(object, "", "name", Reader::string);
            let description = r.req(object, "", "description", Reader::string);
            Some((key?, name?, description?))
        })();
        let (key, name, description) = r.finish(read)?;
        let mut violations = Violations::default();
        if !is_valid_key(&key) {
            violations.push(
                "/key",
                ViolationCode::InvalidKey,
                format!("`{key}` is not a valid key: 1 to 256 of A-Z a-z 0-9 . _ -"),
            );
        }
        if name.trim().is_empty() {
            violations.push("/name", ViolationCode::Blank, "name must not be blank");
        }
        violations.into_result()?;
        Ok(Layer {
            key,
            name,
            description,
            created_at: now,
            randomization_unit: None,
            environments: BTreeMap::new(),
        })
    }

    /// The `layerSnapshot` of `experiment` in `environment`: its reservation
    /// and what everyone else reserves. `None` when it has no reservation.
    pub fn snapshot(&self, environment: &str, experiment: &str) -> Option<LayerSnapshotRep> {
        let config = self.environments.get(environment)?;
        let own = config.reservation(experiment)?;
        Some(LayerSnapshotRep {
            key: self.key.clone(),
            name: self.name.clone(),
            reservation_percent: own.reservation_percent,
            other_reservation_percent: config.reserved_by_others(experiment),
            extra: Map::new(),
        })
    }

    /// The layer as the API shows it, with its `_links`.
    pub fn rep(&self, project: &str) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(object) = &mut value {
            let self_link: Links =
                links([("self", format!("/api/v2/projects/{project}/layers/{}", self.key))]);
            object.insert("_links".to_owned(), serde_json::to_value(self_link).unwrap_or(Value::Null));
        }
        value
    }
}

/// What creates a layer (`LayerPost`), as a client sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerPost {
    /// The layer key.
    pub key: String,
    /// The layer name.
    pub name: String,
    /// What the layer is for.
    pub description: String,
}

/// A project's layers (`LayerCollectionRep`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerCollectionRep {
    /// The layers.
    pub items: Vec<Layer>,
    /// How many layers there are.
    #[serde(rename = "totalCount")]
    pub total_count: i64,
    /// Related resources.
    #[serde(rename = "_links", default)]
    pub links: Links,
}

/// A semantic patch of a layer (`LayerPatchInput`).
#[derive(Debug, Clone, PartialEq)]
pub struct LayerPatch {
    /// The environment that reservation instructions change.
    pub environment_key: Option<String>,
    /// Why the change was made.
    pub comment: Option<String>,
    /// What to change, in order.
    pub instructions: Vec<LayerInstruction>,
}

/// One instruction of a layer's semantic patch.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LayerInstruction {
    /// `updateName` (`name`).
    UpdateName {
        /// The new name.
        name: String,
    },
    /// `updateDescription` (`description`).
    UpdateDescription {
        /// The new description.
        description: String,
    },
    /// `updateExperimentReservation` (`experimentKey`, `reservationPercent`).
    UpdateExperimentReservation {
        /// The experiment.
        experiment_key: String,
        /// Its new share of the layer.
        reservation_percent: i64,
    },
    /// `removeExperiment` (`experimentKey`).
    RemoveExperiment {
        /// The experiment.
        experiment_key: String,
    },
    /// A kind this model does not know, as sent.
    Other(Map<String, Value>),
}

impl LayerInstruction {
    /// The instruction's `kind`.
    pub fn kind(&self) -> &str {
        match self {
            LayerInstruction::UpdateName { .. } => "updateName",
            LayerInstruction::UpdateDescription { .. } => "updateDescription",
            LayerInstruction::UpdateExperimentReservation { .. } => "updateExperimentReservation",
            LayerInstruction::RemoveExperiment { .. } => "removeExperiment",
            LayerInstruction::Other(object) => object.get("kind").and_then(Value::as_str).unwrap_or(""),
        }
    }

    fn needs_environment(&self) -> bool {
        matches!(
            self,
            LayerInstruction::UpdateExperimentReservation { .. } | LayerInstruction::RemoveExperiment { .. }
        )
    }
}

impl LayerInstruction {
    /// The instruction as JSON, as a client sends it.
    pub fn to_json(&self) -> Value {
        match self {
            LayerInstruction::UpdateName { name } => serde_json::json!({"kind": "updateName", "name": name}),
            LayerInstruction::UpdateDescription { description } => {
                serde_json::json!({"kind": "updateDescription", "description": description})
            }
            LayerInstruction::UpdateExperimentReservation { experiment_key, reservation_percent } => {
                serde_json::json!({"kind": "updateExperimentReservation", "experimentKey": experiment_key,
                    "reservationPercent": reservation_percent})
            }
            LayerInstruction::RemoveExperiment { experiment_key } => {
                serde_json::json!({"kind": "removeExperiment", "experimentKey": experiment_key})
            }
            LayerInstruction::Other(object) => Value::Object(object.clone()),
        }
    }
}

impl LayerPatch {
    /// A patch of `instructions` in `environment` (needed by reservation instructions).
    pub fn new(
        environment: Option<&str>,
        instructions: impl IntoIterator<Item = LayerInstruction>,
    ) -> LayerPatch {
        LayerPatch {
            environment_key: environment.map(str::to_owned),
            comment: None,
            instructions: instructions.into_iter().collect(),
        }
    }

    /// The patch as JSON, as a client sends it; [`LayerPatch::from_json`] reads it back.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        if let Some(environment) = &self.environment_key {
            object.insert("environmentKey".to_owned(), Value::String(environment.clone()));
        }
        if let Some(comment) = &self.comment {
            object.insert("comment".to_owned(), Value::String(comment.clone()));
        }
        let instructions = self.instructions.iter().map(LayerInstruction::to_json).collect();
        object.insert("instructions".to_owned(), Value::Array(instructions));
        Value::Object(object)
    }

    /// Reads a patch, reporting every problem with its JSON Pointer.
    pub fn from_json(value: &Value) -> Result<LayerPatch, Violations> {
        let mut r = Reader::new();
        let patch = (|| {
            let object = r.object(value, "")?;
            let environment_key = r.opt(object, "", "environmentKey", Reader::string);
            let comment = r.opt(object, "", "comment", Reader::string);
            let instructions = r.req(object, "", "instructions", |r, v, p| r.each(v, p, read_instruction));
            Some(LayerPatch {
                environment_key: environment_key?,
                comment: comment?,
                instructions: instructions?,
            })
        })();
        let patch = r.finish(patch)?;
        let mut violations = Violations::default();
        if patch.instructions.is_empty() {
            violations.push("/instructions", ViolationCode::TooFew, "a patch needs at least one instruction");
        }
        for (i, instruction) in patch.instructions.iter().enumerate() {
            if let LayerInstruction::Other(_) = instruction {
                violations.push(
                    pointer(&pointer("/instructions", i), "kind"),
                    ViolationCode::UnknownInstruction,
                    format!(
                        "`{}` is not an instruction for layers; use updateName, updateDescription, \
                         updateExperimentReservation or removeExperiment",
                        instruction.kind()
                    ),
                );
            }
        }
        violations.into_result().map(|()| patch)
    }
}

fn read_instruction(r: &mut Reader, value: &Value, path: &str) -> Option<LayerInstruction> {
    let object = r.object(value, path)?;
    let kind = r.req(object, path, "kind", Reader::string)?;
    match kind.as_str() {
        "updateName" => {
            Some(LayerInstruction::UpdateName { name: r.req(object, path, "name", Reader::string)? })
        }
        "updateDescription" => Some(LayerInstruction::UpdateDescription {
            description: r.req(object, path, "description", Reader::string)?,
        }),
        "updateExperimentReservation" => {
            let experiment_key = r.req(object, path, "experimentKey", Reader::string);
            let reservation_percent = r.req(object, path, "reservationPercent", Reader::integer);
            Some(LayerInstruction::UpdateExperimentReservation {
                experiment_key: experiment_key?,
                reservation_percent: reservation_percent?,
            })
        }
        "removeExperiment" => Some(LayerInstruction::RemoveExperiment {
            experiment_key: r.req(object, path, "experimentKey", Reader::string)?,
        }),
        _ => Some(LayerInstruction::Other(object.clone())),
    }
}

/// Whether `experiment` has a running iteration.
pub fn is_running(experiment: &Experiment) -> bool {
    experiment.current_iteration.as_ref().is_some_and(|i| i.status == IterationStatus::Running)
}

/// The flag a reservation names: the experiment's first flag by key, from
/// its running, draft or latest stopped iteration.
fn flag_of(experiment: &Experiment) -> String {
    experiment
        .current_iteration
        .iter()
        .chain(experiment.draft_iteration.iter())
        .chain(experiment.previous_iterations.iter().flatten())
        .find_map(|i| i.flags.as_ref().and_then(|flags| flags.keys().next().cloned()))
        .unwrap_or_default()
}

/// Rule: a reservation is an integer from 0 to 100.
pub fn reservation_in_range(percent: i64, path: &str) -> Result<(), Violation> {
    if (0..=LAYER_CAPACITY).contains(&percent) {
        return Ok(());
    }
    Err(Violation::new(
        path,
        ViolationCode::OutOfRange,
        format!("reservationPercent {percent} is not an integer from 0 to 100"),
    ))
}

/// Rule: a layer's reservations in one environment sum to at most 100.
/// `others` is what everyone else already reserves, `percent` the new share.
pub fn layer_not_over_full(
    environment: &str,
    others: i64,
    percent: i64,
    path: &str,
) -> Result<(), Violation> {
    let total = others + percent;
    if total <= LAYER_CAPACITY {
        return Ok(());
    }
    Err(Violation::new(
        path,
        ViolationCode::ReservationSum,
        format!(
            "the layer would be reserved {total} percent in {environment} ({others} already reserved by others \
             + {percent}); at most {LAYER_CAPACITY}"
        ),
    ))
}

/// Rule: an experiment is in at most one layer (per environment).
pub fn one_layer_per_experiment(
    catalog: &ProjectCatalog,
    layer: &str,
    environment: &str,
    experiment: &str,
    path: &str,
) -> Result<(), Violation> {
    match catalog.layer_of(environment, experiment) {
        Some(other) if other.key != layer => Err(Violation::new(
            path,
            ViolationCode::NotAllowed,
            format!(
                "experiment `{experiment}` already reserves traffic in layer `{}`; an experiment is in at most \
                 one layer, so remove it there first",
                other.key
            ),
        )),
        _ => Ok(()),
    }
}

/// Rule: an experiment is in a holdout or a layer, never both.
pub fn not_in_a_holdout(experiment: &Experiment, path: &str) -> Result<(), Violation> {
    match experiment.holdout_id.as_deref() {
        Some(holdout) if !holdout.is_empty() => Err(Violation::new(
            path,
            ViolationCode::LayerOrHoldout,
            format!(
                "experiment `{}` is in holdout `{holdout}`; an experiment is in a holdout or a layer, never both",
                experiment.key
            ),
        )),
        _ => Ok(()),
    }
}

/// Rule: a reservation of 0 is allowed only while the experiment has no
/// running iteration.
pub fn zero_only_while_not_running(
    experiment: &Experiment,
    percent: i64,
    path: &str,
) -> Result<(), Violation> {
    if percent == 0 && is_running(experiment) {
        return Err(Violation::new(
            path,
            ViolationCode::ExperimentRunning,
            format!(
                "experiment `{}` has a running iteration; a reservation of 0 is allowed only until an \
                 iteration starts",
                experiment.key
            ),
        ));
    }
    Ok(())
}

/// Rule: a running experiment is not removed from its layer.
pub fn not_removed_while_running(experiment: &Experiment, path: &str) -> Result<(), Violation> {
    if is_running(experiment) {
        return Err(Violation::new(
            path,
            ViolationCode::ExperimentRunning,
            format!("experiment `{}` has a running iteration; stop it before removing it", experiment.key),
        ));
    }
    Ok(())
}

impl ProjectCatalog {
    /// The layer in which `experiment` reserves traffic in `environment`.
    pub fn layer_of(&self, environment: &str, experiment: &str) -> Option<&Layer> {
        self.layers
            .values()
            .find(|l| l.environments.get(environment).is_some_and(|c| c.reservation(experiment).is_some()))
    }

    /// The `layerSnapshot` a stopping iteration of `experiment` gets: from
    /// the live layer it reserves traffic in, if any.
    pub fn layer_snapshot(&self, environment: &str, experiment: &str) -> Option<LayerSnapshotRep> {
        self.layer_of(environment, experiment)?.snapshot(environment, experiment)
    }

    /// Rule: starting an iteration of an experiment in a layer needs a
    /// reservation above 0. The message says why not.
    pub fn layer_allows_start(&self, environment: &str, experiment: &str) -> Result<(), String> {
        let Some(layer) = self.layer_of(environment, experiment) else { return Ok(()) };
        let reserved = layer.environments.get(environment).and_then(|c| c.reservation(experiment));
        match reserved {
            Some(r) if r.reservation_percent == 0 => Err(format!(
                "the experiment reserves 0 percent of layer `{}`; reserve more than 0 before starting",
                layer.key
            )),
            _ => Ok(()),
        }
    }

    /// Creates a layer from a `LayerPost`.
    pub fn create_layer(&mut self, body: &Value, now: UnixMillis) -> Result<&Layer, CatalogError> {
        let layer = Layer::create(body, now)?;
        if self.layers.contains_key(&layer.key) {
            return Err(CatalogError::KeyExists(format!("a layer with key `{}` already exists", layer.key)));
        }
        let key = layer.key.clone();
        Ok(self.layers.entry(key).or_insert(layer))
    }

    /// Applies `patch` to layer `key`, every instruction in order or none:
    /// `experiments` are the project's experiments, which the reservation
    /// rules read (whether one exists, runs, or is in a holdout).
    pub fn patch_layer<'e>(
        &mut self,
        key: &str,
        patch: &LayerPatch,
        experiments: impl IntoIterator<Item = &'e Experiment>,
    ) -> Result<&Layer, CatalogError> {
        let mut layer = self.layers.get(key).cloned().ok_or_else(|| layer_not_found(key))?;
        let experiments: Vec<&Experiment> = experiments.into_iter().collect();
        let mut violations = Violations::default();
        let environment = if patch.instructions.iter().any(LayerInstruction::needs_environment) {
            match patch.environment_key.as_deref() {
                None => {
                    violations.push(
                        "/environmentKey",
                        ViolationCode::MissingField,
                        "environmentKey is required for instructions that change reservations",
                    );
                    return Err(violations.into());
                }
                Some(environment) if !self.has_environment(environment) => {
                    violations.push(
                        "/environmentKey",
                        ViolationCode::NotAllowed,
                        format!("environment `{environment}` is not an environment of this project"),
                    );
                    return Err(violations.into());
                }
                Some(environment) => environment.to_owned(),
            }
        } else {
            String::new()
        };
        let find = |experiment: &str| {
            experiments.iter().copied().find(|e| e.key == experiment && e.environment_key == environment)
        };
        for (i, instruction) in patch.instructions.iter().enumerate() {
            let path = pointer("/instructions", i);
            let mut fail = |violation: Violation| violations.0.push(violation);
            match instruction {
                LayerInstruction::UpdateName { name } => {
                    if name.trim().is_empty() {
                        fail(Violation::new(
                            pointer(&path, "name"),
                            ViolationCode::Blank,
                            "name must not be blank",
                        ));
                    } else {
                        layer.name = name.clone();
                    }
                }
                LayerInstruction::UpdateDescription { description } => {
                    layer.description = description.clone()
                }
                LayerInstruction::UpdateExperimentReservation { experiment_key, reservation_percent } => {
                    let percent = *reservation_percent;
                    let percent_path = pointer(&path, "reservationPercent");
                    let key_path = pointer(&path, "experimentKey");
                    let Some(experiment) = find(experiment_key) else {
                        fail(unknown_experiment(experiment_key, &environment, &key_path));
                        continue;
                    };
                    let config = layer.environments.get(&environment).cloned().unwrap_or_default();
                    let checks = [
                        reservation_in_range(percent, &percent_path),
                        not_in_a_holdout(experiment, &key_path),
                        one_layer_per_experiment(self, key, &environment, experiment_key, &key_path),
                        zero_only_while_not_running(experiment, percent, &percent_path),
                    ];
                    let mut ok = true;
                    for check in checks {
                        if let Err(violation) = check {
                            ok = false;
                            fail(violation);
                        }
                    }
                    if !ok {
                        continue;
                    }
                    let others = config.reserved_by_others(experiment_key);
                    if let Err(violation) = layer_not_over_full(&environment, others, percent, &percent_path)
                    {
                        fail(violation);
                        continue;
                    }
                    let config = layer.environments.entry(environment.clone()).or_default();
                    let reservation = LayerReservation {
                        experiment_key: experiment_key.clone(),
                        flag_key: flag_of(experiment),
                        reservation_percent: percent,
                    };
                    match config.reservations.iter_mut().find(|r| r.experiment_key == *experiment_key) {
                        Some(existing) => *existing = reservation,
                        None => config.reservations.push(reservation),
                    }
                }
                LayerInstruction::RemoveExperiment { experiment_key } => {
                    let key_path = pointer(&path, "experimentKey");
                    let reserved = layer
                        .environments
                        .get(&environment)
                        .is_some_and(|c| c.reservation(experiment_key).is_some());
                    if !reserved {
                        fail(Violation::new(
                            key_path,
                            ViolationCode::UnknownExperiment,
                            format!(
                                "experiment `{experiment_key}` reserves no traffic in this layer in {environment}"
                            ),
                        ));
                        continue;
                    }
                    if let Some(experiment) = find(experiment_key) {
                        if let Err(violation) = not_removed_while_running(experiment, &key_path) {
                            fail(violation);
                            continue;
                        }
                    }
                    if let Some(config) = layer.environments.get_mut(&environment) {
                        config.reservations.retain(|r| r.experiment_key != *experiment_key);
                    }
                }
                LayerInstruction::Other(_) => fail(Violation::new(
                    pointer(&path, "kind"),
                    ViolationCode::UnknownInstruction,
                    format!("`{}` is not an instruction for layers", instruction.kind()),
                )),
            }
        }
        violations.into_result()?;
        let slot = self.layers.get_mut(key).ok_or_else(|| layer_not_found(key))?;
        *slot = layer;
        Ok(slot)
    }
}

fn unknown_experiment(experiment: &str, environment: &str, path: &str) -> Violation {
    Violation::new(
        path,
        ViolationCode::UnknownExperiment,
        format!("`{experiment}` is not an experiment of environment `{environment}`"),
    )
}

fn layer_not_found(key: &str) -> CatalogError {
    CatalogError::NotFound(format!("layer `{key}` not found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sum_rule_names_both_numbers() {
        assert_eq!(layer_not_over_full("production", 30, 70, "/p"), Ok(()));
        let violation = layer_not_over_full("production", 30, 80, "/p").unwrap_err();
        assert_eq!(violation.code, ViolationCode::ReservationSum);
        assert_eq!(
            violation.message,
            "the layer would be reserved 110 percent in production (30 already reserved by others + 80); at most 100"
        );
    }

    #[test]
    fn a_reservation_is_0_to_100() {
        assert!(reservation_in_range(0, "/p").is_ok() && reservation_in_range(100, "/p").is_ok());
        assert_eq!(reservation_in_range(101, "/p").unwrap_err().code, ViolationCode::OutOfRange);
        assert_eq!(reservation_in_range(-1, "/p").unwrap_err().code, ViolationCode::OutOfRange);
    }

    #[test]
    fn a_snapshot_counts_everyone_else_and_the_outside_share() {
        let mut layer =
            Layer::create(&serde_json::json!({"key": "l", "name": "L", "description": ""}), UnixMillis(0))
                .unwrap();
        let reservation = |key: &str, percent| LayerReservation {
            experiment_key: key.to_owned(),
            flag_key: String::new(),
            reservation_percent: percent,
        };
        layer.environments.insert(
            "production".to_owned(),
            LayerEnvironment {
                reservations: vec![reservation("a", 10), reservation("b", 20)],
                other_reservation_percent: 50,
            },
        );
        let snapshot = layer.snapshot("production", "a").unwrap();
        assert_eq!((snapshot.reservation_percent, snapshot.other_reservation_percent), (10, 70));
        assert_eq!(layer.snapshot("production", "c"), None);
        assert_eq!(layer.snapshot("test", "a"), None);
    }

    #[test]
    fn a_patch_reads_back_from_its_json() {
        let patch = LayerPatch::new(
            Some("production"),
            [
                LayerInstruction::UpdateName { name: "N".into() },
                LayerInstruction::RemoveExperiment { experiment_key: "e".into() },
            ],
        );
        assert_eq!(LayerPatch::from_json(&patch.to_json()), Ok(patch));
        let unreadable = LayerPatch::from_json(&serde_json::json!({"instructions": [
            {"kind": "updateExperimentReservation", "experimentKey": "e", "reservationPercent": "10"}]}));
        let paths: Vec<String> = unreadable.unwrap_err().into_iter().map(|v| v.path).collect();
        assert_eq!(paths, ["/instructions/0/reservationPercent"]);
    }
}
