//! `PATCH .../experiments/{x}`: semantic patches. The instructions apply in
//! order to a copy of the experiment; the copy is stored only when all of
//! them succeeded, so a patch changes everything it asks for or nothing.

use std::sync::Arc;

use bytes::Bytes;
use http::{Response, StatusCode};
use iteration_model::{
    Experiment, ExperimentPatchInput, ExperimentType, FieldOperation, FieldUpdate, Instruction, UnixMillis,
    ViolationCode, Violations, pointer,
};
use serde_json::Value;

use super::Context;
use super::fields;
use crate::server::response::{ApiError, json};
use iteration_model::Expand;
use iteration_model::lifecycle::{self, FlagState, Refusal};

use crate::server::store::{CatalogExpectation, CatalogRecord, ExperimentRecord, StoreError, Versioned};

pub(super) async fn patch(
    ctx: &Context<'_>,
    project: &str,
    environment: &str,
    key: &str,
) -> Result<Response<Bytes>, ApiError> {
    let body = ctx.json_body()?;
    let patch = ExperimentPatchInput::from_json(&body).map_err(|v| ApiError::violations(&v))?;
    patch.validate().map_err(|v| ApiError::violations(&v))?;
    let expand = Expand::parse(&ctx.query("expand").unwrap_or_default());
    let now = ctx.app.clock.now();
    let run = |experiment: &mut Experiment, catalog: &CatalogRecord, others: &[&Experiment]| {
        for (i, instruction) in patch.instructions.iter().enumerate() {
            apply(ctx, catalog, environment, experiment, instruction, others, now)
                .map_err(|refusal| refusal.into_error(&pointer("/instructions", i), instruction.kind()))?;
        }
        Ok(experiment.clone())
    };
    let starts = patch.instructions.iter().any(|i| {
        matches!(i, Instruction::StartIteration { .. } | Instruction::SaveAndStartNewIteration { .. })
    });
    let is_bandit = |record: &ExperimentRecord| record.experiment.r#type == Some(ExperimentType::Mab);
    let experiment = if starts && is_bandit(&ctx.load(project, environment, key).await?.value) {
        start_bandit(ctx, project, environment, key, run).await?
    } else {
        ctx.update(project, environment, key, |experiment, catalog| run(experiment, catalog, &[])).await?
    };
    Ok(json(StatusCode::OK, &expand.apply(experiment)))
}

/// A patch that starts a bandit, linearized with every other bandit start
/// of the project so that rule 3.14 holds under concurrency: read the
/// experiments' generation and list them; claim the catalog (store it
/// unchanged, which succeeds only if no experiment changed since that
/// read, and moves its version on); then write the experiment guarded by
/// exactly the claimed version. A start that another start or write
/// overtook at any step begins again. Of two racing bandit starts, the one
/// that writes first changed an experiment (so a later claim on an older
/// list fails) and claimed last (so an earlier claim's write fails).
async fn start_bandit(
    ctx: &Context<'_>,
    project: &str,
    environment: &str,
    key: &str,
    mut run: impl FnMut(&mut Experiment, &CatalogRecord, &[&Experiment]) -> Result<Experiment, ApiError>,
) -> Result<Experiment, ApiError> {
    let store = &ctx.app.store;
    for _ in 0..super::MAX_WRITE_ATTEMPTS {
        let generation = store.generation(project).await.map_err(super::store_error)?;
        let listed = store.list(project, Some(environment)).await.map_err(super::store_error)?;
        let catalog = ctx.catalog(project).await?;
        let expected = CatalogExpectation { version: catalog.version, generation: Some(generation) };
        let claimed = match store.put_catalog(expected, catalog.value.catalog().clone()).await {
            Ok(claimed) => claimed,
            Err(StoreError::Conflict { .. }) => continue,
            Err(err) => return Err(super::store_error(err)),
        };
        let Versioned { version, value } = ctx.load(project, environment, key).await?;
        let mut record = Arc::unwrap_or_clone(value);
        let others: Vec<&Experiment> = listed.iter().map(|r| &r.value.experiment).collect();
        let outcome = run(&mut record.experiment, &catalog.value, &others)?;
        match store.compare_and_swap(version, record, Some(claimed)).await {
            Ok(_) => return Ok(outcome),
            Err(StoreError::Conflict { .. }) => continue,
            Err(err) => return Err(super::write_error(err, project, environment, key)),
        }
    }
    Err(super::kept_changing(key))
}

/// Why one instruction failed: a precondition, or the fields it sets.
pub(crate) enum InstructionError {
    Refused(Refusal),
    Invalid(Violations),
    Conflict(ApiError),
}

impl From<Refusal> for InstructionError {
    fn from(refusal: Refusal) -> Self {
        InstructionError::Refused(refusal)
    }
}

impl InstructionError {
    fn into_error(self, path: &str, kind: &str) -> ApiError {
        match self {
            InstructionError::Refused(Refusal(reason)) => {
                let mut violations = Violations::default();
                violations.push(path, ViolationCode::NotAllowed, format!("{kind}: {reason}"));
                ApiError::violations(&violations)
            }
            InstructionError::Invalid(inner) => {
                // Paths inside the iteration become paths inside the instruction.
                let violations = inner
                    .into_iter()
                    .map(|mut v| {
                        v.message = format!("{kind}: {}", v.message);
                        v.path = format!("{path}/value{}", v.path);
                        v
                    })
                    .collect();
                ApiError::violations(&violations)
            }
            InstructionError::Conflict(error) => error,
        }
    }
}

fn apply(
    ctx: &Context<'_>,
    catalog: &CatalogRecord,
    environment: &str,
    experiment: &mut Experiment,
    instruction: &Instruction,
    others: &[&Experiment],
    now: UnixMillis,
) -> Result<(), InstructionError> {
    match instruction {
        Instruction::UpdateName { value } => lifecycle::update_name(experiment, value)?,
        Instruction::UpdateDescription { value } => lifecycle::update_description(experiment, value),
        Instruction::StartIteration { change_justification } => {
            catalog.catalog().layer_allows_start(environment, &experiment.key).map_err(Refusal)?;
            if let Some(draft) = experiment.draft_iteration.as_ref() {
                lifecycle::one_running_bandit_per_rule(experiment, draft, others.iter().copied())?;
            }
            let flag_state = |flag: &str| flag_state(catalog, environment, flag);
            let layer = catalog.catalog().layer_snapshot(environment, &experiment.key);
            lifecycle::start_iteration(experiment, change_justification.as_deref(), &flag_state, layer, now)?;
        }
        Instruction::StopIteration { winning_treatment_id, winning_reason } => {
            // The live layer, read with the catalog this write is checked against.
            let layer = catalog.catalog().layer_snapshot(environment, &experiment.key);
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
            fields::update_fields(ctx, catalog, environment, experiment, value, now)?;
        }
        Instruction::SaveAndStartNewIteration { change_justification, value } => {
            fields::save_and_start_new_iteration(
                ctx,
                catalog,
                environment,
                experiment,
                change_justification.as_deref(),
                value.as_ref(),
                now,
            )?;
            // The patch is stored only if every instruction succeeds, so the
            // new iteration can be checked once it runs.
            if let Some(started) = experiment.current_iteration.as_ref() {
                lifecycle::one_running_bandit_per_rule(experiment, started, others.iter().copied())?;
            }
        }
        other => {
            // `validate` reports unknown kinds first; this keeps a kind the
            // model learns later from being applied as a no-op.
            return Err(Refusal(format!("instruction kind `{}` is not supported", other.kind())).into());
        }
    }
    Ok(())
}

pub(crate) fn flag_state(catalog: &CatalogRecord, environment: &str, flag: &str) -> Option<FlagState> {
    let flag = catalog.catalog().flags.get(flag)?;
    Some(FlagState { on: flag.environment(environment)?.on, archived: flag.archived })
}

/// Applies an experiment-level field (`name`, `description`, `tags`);
/// `false` when `field` is not one.
pub(crate) fn update_experiment_field(
    experiment: &mut Experiment,
    field: &str,
    update: &FieldUpdate,
) -> Result<bool, Refusal> {
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
