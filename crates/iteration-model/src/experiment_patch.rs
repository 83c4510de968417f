//! A semantic patch of an experiment (`PATCH .../experiments/{x}`) as a
//! pure function: [`apply`] runs each [`Instruction`] in order against the
//! experiment's environment as the project's catalog has it. The lifecycle
//! instructions are [`lifecycle`]'s; this module adds what the field
//! instructions do, [`update_experiment_fields`] and
//! [`save_and_start_new_iteration`].
//!
//! A changed iteration is turned back into its [`IterationInput`]
//! ([`IterationRep::to_input`]), the updates apply to that, and the result
//! is resolved exactly as a Create iteration body
//! ([`resolve_iteration`]), so every rule of Create iteration holds for
//! changed iterations too.

use std::collections::BTreeMap;

use crate::catalog::{Catalog, ExperimentContext};
use crate::experiment::Experiment;
use crate::ids::IdSource;
use crate::input::IterationInput;
use crate::iteration::IterationRep;
use crate::iteration_fields::FieldUpdateError;
use crate::lifecycle::{self, FlagState, Refusal};
use crate::millis::UnixMillis;
use crate::patch::{FieldOperation, FieldUpdate, Instruction};
use crate::project::ProjectCatalog;
use crate::resolve::{ResolveError, VersionConflict, resolve_iteration};
use crate::validate::ITERATION_FIELDS;
use crate::violation::{ViolationCode, Violations, pointer};

/// What a patch reads besides the experiment: its environment as the
/// project's live catalog has it.
#[derive(Debug, Clone, Copy)]
pub struct PatchContext<'a> {
    /// The project's live catalog: the layers a start and a stop read.
    pub project: &'a ProjectCatalog,
    /// What resolution checks against in the experiment's environment
    /// (`project.view(environment)`): the flags a start checks are on, and
    /// everything a changed iteration is resolved against.
    pub catalog: &'a Catalog,
    /// The environment's other experiments, for the rule of one running
    /// bandit per targeting rule; a patch that starts no bandit may leave
    /// it empty.
    pub others: &'a [&'a Experiment],
}

impl PatchContext<'_> {
    fn environment(&self) -> &str {
        &self.catalog.environment_key
    }

    /// A flag's state in the environment, as a start checks it.
    fn flag_state(&self, flag: &str) -> Option<FlagState> {
        self.catalog.flags.get(flag).map(|flag| FlagState { on: flag.on, archived: flag.archived })
    }
}

/// Why a patch was not applied.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchError {
    /// An instruction was refused, or would make an invalid iteration:
    /// every problem, each at its path in the patch body
    /// (`/instructions/{i}`, or inside the instruction's `value`), its
    /// message led by the instruction's kind. A server answers 400.
    #[error("{0}")]
    Invalid(Violations),
    /// A changed iteration names a flag at an older version than the
    /// catalog's. A server answers 409.
    #[error(transparent)]
    VersionConflict(VersionConflict),
}

/// Why one instruction failed, before it is placed in the patch.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InstructionError {
    /// A precondition does not hold; the message says what would be right.
    #[error("{0}")]
    Refused(Refusal),
    /// The changed iteration breaks rules, each at its path in the
    /// iteration's input.
    #[error("{0}")]
    Invalid(Violations),
    /// The changed iteration names a flag at an older version.
    #[error(transparent)]
    VersionConflict(VersionConflict),
}

impl From<Refusal> for InstructionError {
    fn from(refusal: Refusal) -> Self {
        InstructionError::Refused(refusal)
    }
}

impl From<Violations> for InstructionError {
    fn from(violations: Violations) -> Self {
        InstructionError::Invalid(violations)
    }
}

impl From<FieldUpdateError> for InstructionError {
    fn from(error: FieldUpdateError) -> Self {
        match error {
            FieldUpdateError::Refused(refusal) => InstructionError::Refused(refusal),
            FieldUpdateError::Invalid(violations) => InstructionError::Invalid(violations),
        }
    }
}

impl From<ResolveError> for InstructionError {
    fn from(error: ResolveError) -> Self {
        match error {
            ResolveError::Invalid(violations) => InstructionError::Invalid(violations),
            ResolveError::VersionConflict(conflict) => InstructionError::VersionConflict(conflict),
        }
    }
}

impl InstructionError {
    /// The error of the instruction of `kind` at `path` in the patch body:
    /// a refusal at the instruction itself, an iteration's violations
    /// inside its `value`.
    pub fn at(self, path: &str, kind: &str) -> PatchError {
        match self {
            InstructionError::Refused(Refusal(reason)) => {
                let mut violations = Violations::default();
                violations.push(path, ViolationCode::NotAllowed, format!("{kind}: {reason}"));
                PatchError::Invalid(violations)
            }
            InstructionError::Invalid(inner) => PatchError::Invalid(
                inner
                    .into_iter()
                    .map(|mut v| {
                        v.message = format!("{kind}: {}", v.message);
                        v.path = format!("{path}/value{}", v.path);
                        v
                    })
                    .collect(),
            ),
            InstructionError::VersionConflict(conflict) => PatchError::VersionConflict(conflict),
        }
    }
}

/// Applies `instructions` in order to `experiment`, at time `now`, with new
/// IDs from `ids`. The first instruction that fails stops the patch and
/// says why; `experiment` then holds what the instructions before it did,
/// so apply to a copy and keep it only on `Ok`: a patch changes everything
/// it asks for or nothing.
pub fn apply(
    experiment: &mut Experiment,
    instructions: &[Instruction],
    context: &PatchContext<'_>,
    now: UnixMillis,
    ids: &mut dyn IdSource,
) -> Result<(), PatchError> {
    for (i, instruction) in instructions.iter().enumerate() {
        apply_instruction(experiment, instruction, context, now, ids)
            .map_err(|error| error.at(&pointer("/instructions", i), instruction.kind()))?;
    }
    Ok(())
}

/// Applies one instruction.
pub fn apply_instruction(
    experiment: &mut Experiment,
    instruction: &Instruction,
    context: &PatchContext<'_>,
    now: UnixMillis,
    ids: &mut dyn IdSource,
) -> Result<(), InstructionError> {
    let environment = context.environment();
    match instruction {
        Instruction::UpdateName { value } => lifecycle::update_name(experiment, value)?,
        Instruction::UpdateDescription { value } => lifecycle::update_description(experiment, value),
        Instruction::StartIteration { change_justification } => {
            context.project.layer_allows_start(environment, &experiment.key).map_err(Refusal)?;
            if let Some(draft) = experiment.draft_iteration.as_ref() {
                lifecycle::one_running_bandit_per_rule(experiment, draft, context.others.iter().copied())?;
            }
            let layer = context.project.layer_snapshot(environment, &experiment.key);
            let flag_state = |flag: &str| context.flag_state(flag);
            lifecycle::start_iteration(experiment, change_justification.as_deref(), &flag_state, layer, now)?;
        }
        Instruction::StopIteration { winning_treatment_id, winning_reason } => {
            let layer = context.project.layer_snapshot(environment, &experiment.key);
            lifecycle::stop_iteration(
                experiment,
                winning_treatment_id,
                winning_reason.as_deref(),
                layer,
                now,
            )?;
        }
        Instruction::ArchiveExperiment => lifecycle::archive(experiment, now)?,
        Instruction::RestoreExperiment => lifecycle::restore(experiment)?,
        Instruction::UpdateExperimentFields { value } => {
            update_experiment_fields(experiment, value, context, now, ids)?;
        }
        Instruction::SaveAndStartNewIteration { change_justification, value } => {
            let empty = BTreeMap::new();
            let updates = value.as_ref().unwrap_or(&empty);
            save_and_start_new_iteration(
                experiment,
                change_justification.as_deref(),
                updates,
                context,
                now,
                ids,
            )?;
            // Checked once the new iteration runs, since it may run on other flags.
            if let Some(started) = experiment.current_iteration.as_ref() {
                lifecycle::one_running_bandit_per_rule(experiment, started, context.others.iter().copied())?;
            }
        }
        Instruction::Other(_) => {
            // `ExperimentPatchInput::validate` reports unknown kinds first;
            // this keeps one from being applied as a no-op.
            return Err(Refusal(format!("instruction kind `{}` is not supported", instruction.kind())).into());
        }
    }
    Ok(())
}

/// `updateExperimentFields`: the experiment's own fields (`name`,
/// `description`, `tags`) in every status; the draft's fields when there
/// is a draft, resolved again as a Create iteration body (same ID and
/// creation time, version one more); on a running iteration only `metrics`
/// with `add`, checked against the flags' current versions.
pub fn update_experiment_fields(
    experiment: &mut Experiment,
    updates: &BTreeMap<String, FieldUpdate>,
    context: &PatchContext<'_>,
    now: UnixMillis,
    ids: &mut dyn IdSource,
) -> Result<(), InstructionError> {
    let iteration_updates = experiment_level(experiment, updates)?;
    if iteration_updates.is_empty() {
        return Ok(());
    }
    if let Some(draft) = experiment.draft_iteration.as_ref() {
        let mut input = draft.to_input()?;
        input.apply_field_updates(iteration_updates.iter().copied())?;
        let mut changed = resolve(experiment, &input, context, now, ids)?;
        frozen_flags(experiment, &changed)?;
        changed.id = draft.id.clone();
        changed.created_at = draft.created_at;
        changed.version = Some(draft.version.unwrap_or(0) + 1);
        experiment.draft_iteration = Some(changed);
        return Ok(());
    }
    let Some(current) = experiment.current_iteration.as_ref() else {
        return Err(Refusal(
            "the experiment has no draft or running iteration to change; create an iteration first"
                .to_owned(),
        )
        .into());
    };
    if let Some((field, update)) = iteration_updates
        .iter()
        .find(|(field, update)| *field != "metrics" || update.operation != FieldOperation::Add)
    {
        return Err(Refusal(format!(
            "`{field}` cannot be changed with `{}` on a running iteration (only metrics with add); \
             use saveAndStartNewIteration to change it in a new iteration",
            update.operation
        ))
        .into());
    }
    let mut input = current.to_input()?;
    input.apply_field_updates(iteration_updates.iter().copied())?;
    // Adding metrics must not fail because a flag moved on since the
    // iteration started: check against the flags' current versions.
    current_flag_versions(context.catalog, &mut input);
    let resolved = resolve(experiment, &input, context, now, ids)?;
    if let Some(current) = experiment.current_iteration.as_mut() {
        current.metrics = resolved.metrics;
        current.secondary_metrics = resolved.secondary_metrics;
    }
    Ok(())
}

/// `saveAndStartNewIteration`: stops the running iteration, copies it with
/// the updates into a new iteration (resolved as a Create iteration body),
/// and starts that. A waiting draft stays the draft.
pub fn save_and_start_new_iteration(
    experiment: &mut Experiment,
    change_justification: Option<&str>,
    updates: &BTreeMap<String, FieldUpdate>,
    context: &PatchContext<'_>,
    now: UnixMillis,
    ids: &mut dyn IdSource,
) -> Result<(), InstructionError> {
    let iteration_updates = experiment_level(experiment, updates)?;
    let Some(current) = experiment.current_iteration.as_ref() else {
        return Err(
            Refusal("no iteration is running; use startIteration to start the draft".to_owned()).into()
        );
    };
    let mut input = current.to_input()?;
    input.apply_field_updates(iteration_updates.iter().copied())?;
    let next = resolve(experiment, &input, context, now, ids)?;
    frozen_flags(experiment, &next)?;
    let waiting_draft = experiment.draft_iteration.replace(next);
    let why = change_justification.unwrap_or("saved and started a new iteration");
    let flag_state = |flag: &str| context.flag_state(flag);
    let layer = context.project.layer_snapshot(context.environment(), &experiment.key);
    let started = lifecycle::start_iteration(experiment, Some(why), &flag_state, layer, now);
    experiment.draft_iteration = waiting_draft;
    Ok(started?)
}

/// `input` resolved for `experiment` against the environment's catalog.
fn resolve(
    experiment: &Experiment,
    input: &IterationInput,
    context: &PatchContext<'_>,
    now: UnixMillis,
    ids: &mut dyn IdSource,
) -> Result<IterationRep, InstructionError> {
    Ok(resolve_iteration(context.catalog, &ExperimentContext::from(experiment), input, now, ids)?)
}

/// [`lifecycle::flags_unchanged_after_run`], its violation under the instruction's `value`.
fn frozen_flags(experiment: &Experiment, changed: &IterationRep) -> Result<(), InstructionError> {
    lifecycle::flags_unchanged_after_run(experiment, changed)
        .map_err(|violation| InstructionError::Invalid(Violations(vec![violation])))
}

/// Sets each flag of `input` to the version `catalog` has it at.
fn current_flag_versions(catalog: &Catalog, input: &mut IterationInput) {
    for (key, flag) in &mut input.flags {
        if let Some(found) = catalog.flags.get(key) {
            flag.flag_config_version = found.version;
        }
    }
}

/// Applies the experiment-level updates and returns the iteration ones.
fn experiment_level<'u>(
    experiment: &mut Experiment,
    updates: &'u BTreeMap<String, FieldUpdate>,
) -> Result<Vec<(&'u str, &'u FieldUpdate)>, Refusal> {
    let mut rest = Vec::new();
    for (field, update) in updates {
        if update_experiment_field(experiment, field, update)? {
            continue;
        }
        if !ITERATION_FIELDS.contains(&field.as_str()) {
            return Err(Refusal(format!("`{field}` is not a field that can be changed")));
        }
        rest.push((field.as_str(), update));
    }
    Ok(rest)
}

/// Applies an experiment-level field (`name`, `description`, `tags`);
/// `false` when `field` is not one.
fn update_experiment_field(
    experiment: &mut Experiment,
    field: &str,
    update: &FieldUpdate,
) -> Result<bool, Refusal> {
    use serde_json::Value;
    let text = |value: &Option<Value>| -> Result<String, Refusal> {
        match value {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(Refusal(format!("{field} needs a string value"))),
        }
    };
    let strings = |value: &Option<Value>| -> Result<Vec<String>, Refusal> {
        match value {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| Refusal(format!("{field} needs a list of strings")))
                })
                .collect(),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            _ => Err(Refusal(format!("{field} needs a list of strings"))),
        }
    };
    match (field, &update.operation) {
        ("name", FieldOperation::Update | FieldOperation::Add) => {
            lifecycle::update_name(experiment, &text(&update.value)?)?
        }
        ("name", _) => return Err(Refusal("name cannot be removed".to_owned())),
        ("description", FieldOperation::Update | FieldOperation::Add) => {
            experiment.description = Some(text(&update.value)?)
        }
        ("description", _) => experiment.description = None,
        ("tags", FieldOperation::Update) => experiment.tags = Some(strings(&update.value)?),
        ("tags", FieldOperation::Add) => {
            let tags = experiment.tags.get_or_insert_with(Vec::new);
            for tag in strings(&update.value)? {
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
        }
        ("tags", FieldOperation::Remove) => match &update.value {
            None => experiment.tags = None,
            value => {
                let gone = strings(value)?;
                if let Some(tags) = experiment.tags.as_mut() {
                    tags.retain(|t| !gone.contains(t));
                }
            }
        },
        ("tags", other) => {
            return Err(Refusal(format!("operation `{other}` is not one of add, update, remove")));
        }
        _ => return Ok(false),
    }
    Ok(true)
}

#[cfg(test)]
mod tests;
