//! Rules on `ExperimentPatchInput` that hold whatever the experiment's state.

use std::collections::BTreeMap;

use crate::patch::{ExperimentPatchInput, FieldUpdate, Instruction};
use crate::violation::{ViolationCode, Violations, pointer};

/// Experiment-level fields `updateExperimentFields` may change in every status.
pub const EXPERIMENT_FIELDS: &[&str] = &["name", "description", "tags"];

/// Iteration fields `updateExperimentFields` may change on a `not_started`
/// draft (on a running iteration, only `metrics` with `add`).
pub const ITERATION_FIELDS: &[&str] = &[
    "hypothesis",
    "metrics",
    "primarySingleMetricKey",
    "primaryFunnelKey",
    "treatments",
    "flags",
    "randomizationUnit",
    "attributes",
    "canReshuffleTraffic",
    "reallocationFrequencyMillis",
    "covariateId",
];

/// The instruction kinds the API knows, for messages.
const KINDS: &str = "updateName, updateDescription, startIteration, stopIteration, archiveExperiment, \
                     restoreExperiment, updateExperimentFields, saveAndStartNewIteration";

impl ExperimentPatchInput {
    /// Checks the rules that need no experiment: at least one instruction;
    /// `updateName` has a non-blank value; `stopIteration` names a winner;
    /// `updateExperimentFields` changes at least one field; every field name
    /// is one of [`EXPERIMENT_FIELDS`] or [`ITERATION_FIELDS`] and every
    /// operation is known.
    ///
    /// An instruction of unknown `kind` is a violation here too
    /// (`unknown_instruction` at `/instructions/{i}/kind`), so that a caller
    /// learns about it with everything else before anything is applied.
    /// Whether an instruction's preconditions hold (a draft exists, ...) is
    /// the server's to check.
    pub fn validate(&self) -> Result<(), Violations> {
        let mut violations = Violations::default();
        if self.instructions.is_empty() {
            violations.push(
                "/instructions",
                ViolationCode::TooFew,
                "no instructions given; give at least one, such as {\"kind\": \"updateName\", \"value\": \"...\"}",
            );
        }
        for (i, instruction) in self.instructions.iter().enumerate() {
            instruction_valid(instruction, &pointer("/instructions", i), &mut violations);
        }
        violations.into_result()
    }
}

fn instruction_valid(instruction: &Instruction, path: &str, out: &mut Violations) {
    match instruction {
        Instruction::UpdateName { value } if super::is_blank(value) => {
            out.push(
                pointer(path, "value"),
                ViolationCode::Blank,
                "updateName value is blank; give the new name",
            );
        }
        Instruction::StopIteration { winning_treatment_id, .. } if super::is_blank(winning_treatment_id) => {
            out.push(
                pointer(path, "winningTreatmentId"),
                ViolationCode::Blank,
                "winningTreatmentId is blank; give the ID of the winning treatment",
            );
        }
        Instruction::UpdateExperimentFields { value } => {
            if value.is_empty() {
                out.push(
                    pointer(path, "value"),
                    ViolationCode::TooFew,
                    "updateExperimentFields changes no field; give at least one, such as {\"name\": {\"operation\": \"update\", \"value\": \"...\"}}",
                );
            }
            field_updates_valid(value, &pointer(path, "value"), out);
        }
        Instruction::SaveAndStartNewIteration { value: Some(value), .. } => {
            field_updates_valid(value, &pointer(path, "value"), out);
        }
        Instruction::Other(_) => out.push(
            pointer(path, "kind"),
            ViolationCode::UnknownInstruction,
            format!("unknown instruction kind `{}`; use one of {KINDS}", instruction.kind()),
        ),
        _ => {}
    }
}

fn field_updates_valid(updates: &BTreeMap<String, FieldUpdate>, path: &str, out: &mut Violations) {
    for (field, update) in updates {
        let field_path = pointer(path, field);
        if !EXPERIMENT_FIELDS.contains(&field.as_str()) && !ITERATION_FIELDS.contains(&field.as_str()) {
            out.push(
                &field_path,
                ViolationCode::UnknownField,
                format!(
                    "field `{field}` cannot be updated; use one of {}, {}",
                    EXPERIMENT_FIELDS.join(", "),
                    ITERATION_FIELDS.join(", ")
                ),
            );
        }
        if !update.operation.is_known() {
            out.push(
                pointer(&field_path, "operation"),
                ViolationCode::NotAllowed,
                format!("operation `{}` is unknown; use add, update or remove", update.operation),
            );
        }
    }
}
