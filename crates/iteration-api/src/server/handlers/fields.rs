//! `updateExperimentFields` and `saveAndStartNewIteration`: field updates
//! applied to an iteration.
//!
//! An iteration's fields are changed in the form a client sends them: the
//! stored iteration is turned back into its `IterationInput` JSON, the
//! updates are applied to that, and the result is resolved exactly as a
//! Create iteration body. So every rule of Create iteration holds for
//! changed iterations too, with no second copy of the rules.

use std::collections::BTreeMap;

use iteration_model::{
    Experiment, FieldOperation, FieldUpdate, IterationInput, IterationRep, ResolveError, UnixMillis,
};
use serde_json::{Map, Value, json};

use super::Context;
use super::experiment::resolve_raw;
use super::patch::{InstructionError, flag_state, update_experiment_field};
use crate::server::response::ApiError;
use crate::server::store::CatalogRecord;
use iteration_model::lifecycle::{self, Refusal};

/// `updateExperimentFields`: experiment-level fields in every status; the
/// draft's fields when there is a draft; on a running iteration only
/// `metrics` with `add`.
pub(crate) fn update_fields(
    ctx: &Context<'_>,
    catalog: &CatalogRecord,
    environment: &str,
    experiment: &mut Experiment,
    updates: &BTreeMap<String, FieldUpdate>,
    now: UnixMillis,
) -> Result<(), InstructionError> {
    let iteration_updates = experiment_level(experiment, updates)?;
    if iteration_updates.is_empty() {
        return Ok(());
    }
    if let Some(draft) = experiment.draft_iteration.as_ref() {
        let mut input = input_json(draft);
        apply_updates(&mut input, &iteration_updates)?;
        let mut changed = resolve_json(ctx, catalog, environment, experiment, &input, now)?;
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
    let mut input = input_json(current);
    apply_updates(&mut input, &iteration_updates)?;
    // Adding metrics must not fail because a flag moved on since the
    // iteration started: check against the flags' current versions.
    refresh_flag_versions(catalog, environment, &mut input);
    let resolved = resolve_json(ctx, catalog, environment, experiment, &input, now)?;
    if let Some(current) = experiment.current_iteration.as_mut() {
        current.metrics = resolved.metrics;
        current.secondary_metrics = resolved.secondary_metrics;
    }
    Ok(())
}

/// `saveAndStartNewIteration`: stops the running iteration, copies it with
/// the updates into a new iteration, and starts that. A waiting draft stays.
pub(crate) fn save_and_start_new_iteration(
    ctx: &Context<'_>,
    catalog: &CatalogRecord,
    environment: &str,
    experiment: &mut Experiment,
    change_justification: Option<&str>,
    updates: Option<&BTreeMap<String, FieldUpdate>>,
    now: UnixMillis,
) -> Result<(), InstructionError> {
    let empty = BTreeMap::new();
    let updates = updates.unwrap_or(&empty);
    let iteration_updates = experiment_level(experiment, updates)?;
    let Some(current) = experiment.current_iteration.as_ref() else {
        return Err(
            Refusal("no iteration is running; use startIteration to start the draft".to_owned()).into()
        );
    };
    let mut input = input_json(current);
    apply_updates(&mut input, &iteration_updates)?;
    let next = resolve_json(ctx, catalog, environment, experiment, &input, now)?;
    frozen_flags(experiment, &next)?;
    let waiting_draft = experiment.draft_iteration.replace(next);
    let why = change_justification.unwrap_or("saved and started a new iteration");
    let flag_state = |flag: &str| flag_state(catalog, environment, flag);
    let layer = catalog.catalog().layer_snapshot(environment, &experiment.key);
    let started = lifecycle::start_iteration(experiment, Some(why), &flag_state, layer, now);
    experiment.draft_iteration = waiting_draft;
    started.map_err(InstructionError::from)
}

/// [`lifecycle::flags_unchanged_after_run`], its violation under the instruction's `value`.
fn frozen_flags(experiment: &Experiment, changed: &IterationRep) -> Result<(), InstructionError> {
    lifecycle::flags_unchanged_after_run(experiment, changed)
        .map_err(|violation| InstructionError::Invalid(iteration_model::Violations(vec![violation])))
}

/// Applies the experiment-level updates and returns the iteration ones.
fn experiment_level<'a>(
    experiment: &mut Experiment,
    updates: &'a BTreeMap<String, FieldUpdate>,
) -> Result<Vec<(&'a str, &'a FieldUpdate)>, InstructionError> {
    let mut rest = Vec::new();
    for (field, update) in updates {
        if update_experiment_field(experiment, field, update)? {
            continue;
        }
        if !iteration_model::ITERATION_FIELDS.contains(&field.as_str()) {
            return Err(Refusal(format!("`{field}` is not a field that can be changed")).into());
        }
        rest.push((field.as_str(), update));
    }
    Ok(rest)
}

fn resolve_json(
    ctx: &Context<'_>,
    catalog: &CatalogRecord,
    environment: &str,
    experiment: &Experiment,
    input: &Value,
    now: UnixMillis,
) -> Result<IterationRep, InstructionError> {
    let input = IterationInput::from_json(input).map_err(InstructionError::Invalid)?;
    match resolve_raw(ctx, catalog, environment, experiment, &input, now) {
        Ok(iteration) => Ok(iteration),
        Err(ResolveError::Invalid(violations)) => Err(InstructionError::Invalid(violations)),
        Err(ResolveError::VersionConflict(conflict)) => {
            Err(InstructionError::Conflict(ApiError::conflict(conflict.to_string())))
        }
        Err(other) => Err(Refusal(other.to_string()).into()),
    }
}

fn refresh_flag_versions(catalog: &CatalogRecord, environment: &str, input: &mut Value) {
    let Some(catalog) = catalog.view(environment) else { return };
    if let Some(flags) = input.get_mut("flags").and_then(Value::as_object_mut) {
        for (key, flag) in flags {
            if let (Some(found), Some(flag)) = (catalog.flags.get(key), flag.as_object_mut()) {
                flag.insert("flagConfigVersion".to_owned(), json!(found.version));
            }
        }
    }
}

/// `add` appends to a list (or sets an absent field), `update` replaces,
/// `remove` deletes the field or, given a value, those items of a list.
fn apply_updates(input: &mut Value, updates: &[(&str, &FieldUpdate)]) -> Result<(), InstructionError> {
    let Some(object) = input.as_object_mut() else { return Ok(()) };
    for (field, update) in updates {
        let field = (*field).to_owned();
        match (&update.operation, &update.value) {
            (FieldOperation::Update, Some(value)) => {
                object.insert(field, value.clone());
            }
            (FieldOperation::Add, Some(value)) => match object.get_mut(&field) {
                Some(Value::Array(items)) => match value {
                    Value::Array(more) => items.extend(more.iter().cloned()),
                    one => items.push(one.clone()),
                },
                Some(Value::Object(entries)) => match value {
                    Value::Object(more) => entries.extend(more.clone()),
                    _ => return Err(Refusal(format!("add to `{field}` needs an object value")).into()),
                },
                _ => {
                    object.insert(field, value.clone());
                }
            },
            (FieldOperation::Remove, None) => {
                object.remove(&field);
            }
            (FieldOperation::Remove, Some(value)) => match object.get_mut(&field) {
                Some(Value::Array(items)) => {
                    let gone: Vec<&Value> = match value {
                        Value::Array(gone) => gone.iter().collect(),
                        one => vec![one],
                    };
                    items.retain(|item| !gone.iter().any(|g| same_item(item, g)));
                }
                Some(Value::Object(entries)) => match value {
                    Value::String(key) => {
                        entries.remove(key);
                    }
                    _ => return Err(Refusal(format!("remove from `{field}` needs a key")).into()),
                },
                _ => {
                    object.remove(&field);
                }
            },
            (operation @ (FieldOperation::Add | FieldOperation::Update), None) => {
                return Err(Refusal(format!("{operation} of `{field}` needs a value")).into());
            }
            (other, _) => {
                return Err(Refusal(format!("operation `{other}` is not one of add, update, remove")).into());
            }
        }
    }
    Ok(())
}

/// Whether a list item is the one a `remove` names: equal, or (for metrics)
/// the same key.
fn same_item(item: &Value, named: &Value) -> bool {
    item == named
        || match (item.get("key"), named) {
            (Some(key), Value::String(_)) => key == named,
            (Some(key), Value::Object(_)) => named.get("key") == Some(key),
            _ => false,
        }
}

/// The `IterationInput` JSON that would create `iteration` again.
pub(crate) fn input_json(iteration: &IterationRep) -> Value {
    let mut input = Map::new();
    input.insert("hypothesis".to_owned(), json!(iteration.hypothesis));
    if let Some(reshuffle) = iteration.can_reshuffle_traffic {
        input.insert("canReshuffleTraffic".to_owned(), json!(reshuffle));
    }
    let metrics: Vec<Value> = iteration
        .metrics
        .iter()
        .flatten()
        .map(|m| if m.is_group { json!({"key": m.key, "isGroup": true}) } else { json!({"key": m.key}) })
        .collect();
    input.insert("metrics".to_owned(), Value::Array(metrics));
    if let Some(primary) = &iteration.primary_single_metric {
        input.insert("primarySingleMetricKey".to_owned(), json!(primary.key));
    }
    if let Some(primary) = &iteration.primary_funnel {
        input.insert("primaryFunnelKey".to_owned(), json!(primary.key));
    }
    let treatments: Vec<Value> = iteration
        .treatments
        .iter()
        .flatten()
        .map(|t| {
            let parameters: Vec<Value> = t
                .parameters
                .iter()
                .flatten()
                .map(|p| json!({"flagKey": p.flag_key, "variationId": p.variation_id}))
                .collect();
            json!({
                "name": t.name,
                "baseline": t.baseline.unwrap_or(false),
                "allocationPercent": t.allocation_percent,
                "parameters": parameters,
            })
        })
        .collect();
    input.insert("treatments".to_owned(), Value::Array(treatments));
    let flags: Map<String, Value> = iteration
        .flags
        .iter()
        .flatten()
        .map(|(key, flag)| {
            let mut entry = Map::new();
            entry.insert("ruleId".to_owned(), json!(flag.targeting_rule));
            entry.insert("flagConfigVersion".to_owned(), json!(flag.flag_config_version));
            if let Some(variation) = &flag.not_in_experiment_variation_id {
                entry.insert("notInExperimentVariationId".to_owned(), json!(variation));
            }
            (key.clone(), Value::Object(entry))
        })
        .collect();
    input.insert("flags".to_owned(), Value::Object(flags));
    if let Some(unit) = &iteration.randomization_unit {
        input.insert("randomizationUnit".to_owned(), json!(unit));
    }
    if let Some(millis) = iteration.reallocation_frequency_millis {
        input.insert("reallocationFrequencyMillis".to_owned(), json!(millis));
    }
    if let Some(covariate) = &iteration.covariate_info {
        input.insert("covariateId".to_owned(), json!(covariate.id));
    }
    if let Some(attributes) = &iteration.attributes {
        input.insert("attributes".to_owned(), json!(attributes));
    }
    Value::Object(input)
}
