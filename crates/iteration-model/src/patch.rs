//! Semantic patches of an experiment (`ExperimentPatchInput`).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer, ser::SerializeMap};
use serde_json::{Map, Value};

use crate::reader::Reader;
use crate::violation::{Violations, pointer};
use crate::wire::wire_enum;

/// A semantic patch: instructions that apply together or not at all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentPatchInput {
    /// Why the change was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// What to change, in order.
    pub instructions: Vec<Instruction>,
}

/// One semantic-patch instruction, by its `kind`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Instruction {
    /// `updateName`: rename the experiment.
    UpdateName {
        /// The new name.
        value: String,
    },
    /// `updateDescription`: change the description.
    UpdateDescription {
        /// The new description.
        value: String,
    },
    /// `startIteration`: start the draft iteration.
    StartIteration {
        /// Why; required when an iteration is already running.
        change_justification: Option<String>,
    },
    /// `stopIteration`: stop the running iteration.
    StopIteration {
        /// The winning treatment's ID.
        winning_treatment_id: String,
        /// Why the experiment stopped.
        winning_reason: Option<String>,
    },
    /// `archiveExperiment`.
    ArchiveExperiment,
    /// `restoreExperiment`.
    RestoreExperiment,
    /// `updateExperimentFields`: change fields of the experiment or its draft.
    UpdateExperimentFields {
        /// Field name to update.
        value: BTreeMap<String, FieldUpdate>,
    },
    /// `saveAndStartNewIteration`: stop the running iteration, copy it with
    /// updates into a new one, and start that.
    SaveAndStartNewIteration {
        /// Why.
        change_justification: Option<String>,
        /// Field name to update, applied to the copy.
        value: Option<BTreeMap<String, FieldUpdate>>,
    },
    /// An instruction this version of the model does not know, kept whole.
    Other(Map<String, Value>),
}

wire_enum! {
    /// What an `updateExperimentFields` entry does to its field.
    pub enum FieldOperation {
        /// Add to a list field (or set an absent field).
        Add = "add",
        /// Replace the field's value.
        Update = "update",
        /// Remove the field, or items from a list field.
        Remove = "remove",
    }
}

/// A change to one field: `{"operation": "update", "value": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldUpdate {
    /// What to do.
    pub operation: FieldOperation,
    /// The value, for `add` and `update`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

impl Instruction {
    /// The instruction's `kind` as written on the wire.
    pub fn kind(&self) -> &str {
        match self {
            Instruction::UpdateName { .. } => "updateName",
            Instruction::UpdateDescription { .. } => "updateDescription",
            Instruction::StartIteration { .. } => "startIteration",
            Instruction::StopIteration { .. } => "stopIteration",
            Instruction::ArchiveExperiment => "archiveExperiment",
            Instruction::RestoreExperiment => "restoreExperiment",
            Instruction::UpdateExperimentFields { .. } => "updateExperimentFields",
            Instruction::SaveAndStartNewIteration { .. } => "saveAndStartNewIteration",
            Instruction::Other(map) => map.get("kind").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

impl Serialize for Instruction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Instruction::Other(map) = self {
            return map.serialize(serializer);
        }
        let mut out = serializer.serialize_map(None)?;
        out.serialize_entry("kind", self.kind())?;
        match self {
            Instruction::UpdateName { value } | Instruction::UpdateDescription { value } => {
                out.serialize_entry("value", value)?;
            }
            Instruction::StartIteration { change_justification } => {
                if let Some(why) = change_justification {
                    out.serialize_entry("changeJustification", why)?;
                }
            }
            Instruction::StopIteration { winning_treatment_id, winning_reason } => {
                out.serialize_entry("winningTreatmentId", winning_treatment_id)?;
                if let Some(reason) = winning_reason {
                    out.serialize_entry("winningReason", reason)?;
                }
            }
            Instruction::ArchiveExperiment | Instruction::RestoreExperiment => {}
            Instruction::UpdateExperimentFields { value } => out.serialize_entry("value", value)?,
            Instruction::SaveAndStartNewIteration { change_justification, value } => {
                if let Some(why) = change_justification {
                    out.serialize_entry("changeJustification", why)?;
                }
                if let Some(value) = value {
                    out.serialize_entry("value", value)?;
                }
            }
            Instruction::Other(_) => {}
        }
        out.end()
    }
}

impl ExperimentPatchInput {
    /// A patch of these instructions, without a comment.
    pub fn new(instructions: impl IntoIterator<Item = Instruction>) -> ExperimentPatchInput {
        ExperimentPatchInput { comment: None, instructions: instructions.into_iter().collect() }
    }

    /// Reads a patch from JSON, reporting every problem with its JSON Pointer.
    /// An instruction of unknown `kind` is kept as [`Instruction::Other`].
    pub fn from_json(value: &Value) -> Result<ExperimentPatchInput, Violations> {
        let mut reader = Reader::new();
        let patch = read_patch(&mut reader, value, "");
        reader.finish(patch)
    }
}

fn read_patch(r: &mut Reader, value: &Value, path: &str) -> Option<ExperimentPatchInput> {
    let obj = r.object(value, path)?;
    let comment = r.opt(obj, path, "comment", Reader::string);
    let instructions = r.req(obj, path, "instructions", |r, v, p| r.each(v, p, read_instruction));
    Some(ExperimentPatchInput { comment: comment?, instructions: instructions? })
}

fn read_field_updates(r: &mut Reader, value: &Value, path: &str) -> Option<BTreeMap<String, FieldUpdate>> {
    let obj = r.object(value, path)?;
    let mut updates = BTreeMap::new();
    let mut ok = true;
    for (field, update) in obj {
        let path = pointer(path, field);
        let Some(update_obj) = r.object(update, &path) else {
            ok = false;
            continue;
        };
        let operation = r.req(update_obj, &path, "operation", Reader::string);
        let value = Reader::optional(update_obj, "value").cloned();
        match operation {
            Some(operation) => {
                updates.insert(
                    field.clone(),
                    FieldUpdate { operation: FieldOperation::from(operation.as_str()), value },
                );
            }
            None => ok = false,
        }
    }
    ok.then_some(updates)
}

fn read_instruction(r: &mut Reader, value: &Value, path: &str) -> Option<Instruction> {
    let obj = r.object(value, path)?;
    let kind = r.req(obj, path, "kind", Reader::string)?;
    Some(match kind.as_str() {
        "updateName" => Instruction::UpdateName { value: r.req(obj, path, "value", Reader::string)? },
        "updateDescription" => {
            Instruction::UpdateDescription { value: r.req(obj, path, "value", Reader::string)? }
        }
        "startIteration" => Instruction::StartIteration {
            change_justification: r.opt(obj, path, "changeJustification", Reader::string)?,
        },
        "stopIteration" => {
            let winning_treatment_id = r.req(obj, path, "winningTreatmentId", Reader::string);
            let winning_reason = r.opt(obj, path, "winningReason", Reader::string);
            Instruction::StopIteration {
                winning_treatment_id: winning_treatment_id?,
                winning_reason: winning_reason?,
            }
        }
        "archiveExperiment" => Instruction::ArchiveExperiment,
        "restoreExperiment" => Instruction::RestoreExperiment,
        "updateExperimentFields" => {
            Instruction::UpdateExperimentFields { value: r.req(obj, path, "value", read_field_updates)? }
        }
        "saveAndStartNewIteration" => {
            let change_justification = r.opt(obj, path, "changeJustification", Reader::string);
            let value = r.opt(obj, path, "value", read_field_updates);
            Instruction::SaveAndStartNewIteration {
                change_justification: change_justification?,
                value: value?,
            }
        }
        _ => Instruction::Other(obj.clone()),
    })
}

impl<'de> Deserialize<'de> for ExperimentPatchInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        ExperimentPatchInput::from_json(&value).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Instruction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let mut reader = Reader::new();
        let instruction = read_instruction(&mut reader, &value, "");
        reader.finish(instruction).map_err(serde::de::Error::custom)
    }
}
