//! Holdouts: list, create (with the base experiment), get by key (with
//! `expand`, `rel-` names for the related experiments) or by ID, and the
//! semantic patch (`endHoldout`, `removeExperiment`, `updateName`,
//! `updateDescription`).
//!
//! A holdout lives in its project's catalog; the experiments in it carry its
//! ID in `holdoutId`. Its status is computed from them on every read.
//! `endHoldout` reads the experiments and is stored only if none changed
//! since, so it never ends a holdout whose experiment started meanwhile.

use std::sync::Arc;

use bytes::Bytes;
use http::{Response, StatusCode};
use iteration_model::{Expand, Experiment, Holdout, HoldoutInstruction, HoldoutPatch, HoldoutPost};
use serde_json::{Map, Value, json};

use super::catalog::{Reads, catalog_error, experiments};
use super::list::{page_links, page_window};
use super::{Context, store_error};
use crate::server::response::{ApiError, json};
use crate::server::store::{CatalogExpectation, Edit, ExperimentRecord, StoreError};

/// The experiments of one environment, as stored now.
async fn environment_experiments(
    ctx: &Context<'_>,
    project: &str,
    environment: &str,
) -> Result<Vec<Arc<ExperimentRecord>>, ApiError> {
    let listed = ctx.app.store.list(project, Some(environment)).await.map_err(store_error)?;
    Ok(listed.into_iter().map(|r| r.value).collect())
}

fn holdout_not_found(environment: &str, what: &str) -> ApiError {
    ApiError::not_found(format!("holdout {what} not found in environment `{environment}`"))
}

/// `RelatedExperimentRep`.
fn related_rep(experiment: &Experiment) -> Value {
    json!({"key": experiment.key, "name": experiment.name, "environment": experiment.environment_key})
}

/// The fields every holdout representation shares.
fn common(holdout: &Holdout, records: &[Arc<ExperimentRecord>]) -> Map<String, Value> {
    let mut rep = Map::new();
    rep.insert("_id".to_owned(), json!(holdout.id));
    rep.insert("key".to_owned(), json!(holdout.key));
    rep.insert("name".to_owned(), json!(holdout.name));
    rep.insert("status".to_owned(), json!(holdout.status(experiments(records)).as_str()));
    rep.insert("createdAt".to_owned(), json!(holdout.created_at));
    rep.insert("updatedAt".to_owned(), json!(holdout.updated_at));
    rep
}

/// How `getHoldout` shows the related experiments: the parts `rel-` names,
/// and their iterations' `metrics` only with `rel-metrics`.
#[derive(Clone, Copy)]
struct Related {
    expand: Expand,
    metrics: bool,
}

impl Related {
    fn apply(self, experiment: Experiment) -> Experiment {
        let mut experiment = self.expand.apply(experiment);
        if !self.metrics {
            let iterations = experiment
                .current_iteration
                .iter_mut()
                .chain(experiment.draft_iteration.iter_mut())
                .chain(experiment.previous_iterations.iter_mut().flatten());
            for iteration in iterations {
                iteration.metrics = None;
            }
        }
        experiment
    }
}

/// `HoldoutRep`, or `HoldoutDetailRep` when `related` says how to show the
/// related experiments.
fn holdout_rep(
    holdout: &Holdout,
    records: &[Arc<ExperimentRecord>],
    base: Expand,
    related: Option<Related>,
) -> Value {
    let mut rep = common(holdout, records);
    if let Some(description) = &holdout.description {
        rep.insert("description".to_owned(), json!(description));
    }
    rep.insert("holdoutAmount".to_owned(), json!(holdout.holdout_amount.to_string()));
    rep.insert("isDirty".to_owned(), json!(holdout.is_dirty(experiments(records))));
    let base_experiment = records
        .iter()
        .find(|r| r.experiment.key == holdout.key && r.environment_key == holdout.environment_key)
        .map(|r| base.apply(r.experiment.clone()));
    rep.insert("baseExperiment".to_owned(), json!(base_experiment));
    let members = holdout.related(experiments(records));
    match related {
        None => {
            rep.insert("experiments".to_owned(), members.iter().map(|e| related_rep(e)).collect());
        }
        Some(related) => {
            let full: Vec<Experiment> = members.iter().map(|e| related.apply((*e).clone())).collect();
            rep.insert("relatedExperiments".to_owned(), json!(full));
        }
    }
    Value::Object(rep)
}

pub(super) async fn list(
    ctx: &Context<'_>,
    project: &str,
    environment: &str,
) -> Result<Response<Bytes>, ApiError> {
    ctx.environment(project, environment)?;
    let (limit, offset) = page_window(ctx, 20, 100)?;
    let catalog = ctx.read_catalog(project).await?;
    let records = environment_experiments(ctx, project, environment).await?;
    let all: Vec<&Holdout> =
        catalog.catalog().holdouts.iter().filter(|h| h.environment_key == environment).collect();
    let items: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|holdout| {
            let mut rep = common(holdout, &records);
            let members = holdout.related(experiments(&records));
            rep.insert("experiments".to_owned(), members.iter().map(|e| related_rep(e)).collect());
            Value::Object(rep)
        })
        .collect();
    let base = format!("/api/v2/projects/{project}/environments/{environment}/holdouts");
    let body = json!({
        "items": items,
        "total_count": all.len(),
        "_links": page_links(ctx, &base, &[], limit, offset, all.len()),
    });
    Ok(json(StatusCode::OK, &body))
}

/// `postHoldout`: the holdout goes into the catalog and its base experiment
/// into the store. The base experiment is inserted first, guarded by the
/// catalog version the holdout was checked against; its key is the
/// holdout's, so a second holdout with the key cannot get that far.
pub(super) async fn create(
    ctx: &Context<'_>,
    project: &str,
    environment: &str,
) -> Result<Response<Bytes>, ApiError> {
    ctx.environment(project, environment)?;
    let body = ctx.json_body()?;
    let post = HoldoutPost::from_json(&body).map_err(|v| ApiError::violations(&v))?;
    let now = ctx.app.clock.now();
    let kept_changing = || format!("the catalog of project `{project}` kept changing; retry");
    let mut attempts = super::Attempts::default();
    let holdout = loop {
        attempts.next(kept_changing)?;
        let current = ctx.catalog(project).await?;
        let mut catalog = current.value.catalog().clone();
        let mut ids: &crate::server::ids::IdGenerator = &ctx.app.ids;
        let (holdout, base) =
            catalog.create_holdout(environment, &post, now, &mut ids).map_err(catalog_error)?;
        let record = ExperimentRecord {
            project_key: project.to_owned(),
            environment_key: environment.to_owned(),
            experiment: base,
        };
        match ctx.app.store.insert(record, Some(current.version)).await {
            Ok(_) => {}
            Err(StoreError::Conflict { .. }) => continue,
            Err(StoreError::KeyExists { key, .. }) => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    iteration_model::codes::KEY_EXISTS,
                    format!(
                        "an experiment with key `{key}` already exists in this environment; a holdout's base experiment takes its key"
                    ),
                ));
            }
            Err(err) => return Err(store_error(err)),
        }
        let expected = CatalogExpectation { version: current.version, generation: None };
        match ctx.app.store.put_catalog(expected, catalog).await {
            Ok(_) => {}
            Err(StoreError::Conflict { .. }) => {
                // The catalog moved on between the two writes: add the holdout to the new one.
                let added = holdout.clone();
                ctx.change_catalog(project, Reads::Catalog, |catalog, _, _| {
                    if catalog.holdout(environment, &added.key).is_none() {
                        catalog.holdouts.push(added.clone());
                    }
                    Ok(())
                })
                .await?;
            }
            Err(err) => return Err(store_error(err)),
        }
        break holdout;
    };
    let records = environment_experiments(ctx, project, environment).await?;
    Ok(json(StatusCode::CREATED, &holdout_rep(&holdout, &records, Expand::ALL, None)))
}

/// `getHoldout`: `HoldoutDetailRep`. `expand` names parts of the base
/// experiment as for an experiment, and with `rel-` the same parts of the
/// related experiments, whose iterations show `metrics` only with
/// `rel-metrics`.
pub(super) async fn get(
    ctx: &Context<'_>,
    project: &str,
    environment: &str,
    key: &str,
) -> Result<Response<Bytes>, ApiError> {
    ctx.environment(project, environment)?;
    let catalog = ctx.read_catalog(project).await?;
    let holdout = catalog
        .catalog()
        .holdout(environment, key)
        .ok_or_else(|| holdout_not_found(environment, &format!("`{key}`")))?;
    let records = environment_experiments(ctx, project, environment).await?;
    let names = ctx.expands();
    let own: Vec<&str> = names.iter().filter(|n| !n.starts_with("rel-")).map(String::as_str).collect();
    let rel: Vec<&str> = names.iter().filter_map(|n| n.strip_prefix("rel-")).collect();
    let related = Related { expand: Expand::parse(&rel.join(",")), metrics: rel.contains(&"metrics") };
    let body = holdout_rep(holdout, &records, Expand::parse(&own.join(",")), Some(related));
    Ok(json(StatusCode::OK, &body))
}

/// `getHoldoutById`: `HoldoutRep`.
pub(super) async fn get_by_id(
    ctx: &Context<'_>,
    project: &str,
    environment: &str,
    id: &str,
) -> Result<Response<Bytes>, ApiError> {
    ctx.environment(project, environment)?;
    let catalog = ctx.read_catalog(project).await?;
    let holdout = catalog
        .catalog()
        .holdout_by_id(environment, id)
        .ok_or_else(|| holdout_not_found(environment, &format!("with ID `{id}`")))?;
    let records = environment_experiments(ctx, project, environment).await?;
    Ok(json(StatusCode::OK, &holdout_rep(holdout, &records, Expand::default(), None)))
}

/// `patchHoldout`. Every instruction is checked against one read of the
/// catalog and the experiments before anything is written; then each
/// removed experiment loses its `holdoutId` (an experiment write that
/// checks again that it does not run), and last the holdout itself changes,
/// stored only if no experiment changed since it was checked.
pub(super) async fn patch(
    ctx: &Context<'_>,
    project: &str,
    environment: &str,
    key: &str,
) -> Result<Response<Bytes>, ApiError> {
    ctx.environment(project, environment)?;
    let body = ctx.json_body()?;
    let patch = HoldoutPatch::from_json(&body).map_err(|v| ApiError::violations(&v))?;
    let now = ctx.app.clock.now();
    // A dry run on the state as it is: every refusal before any write.
    let catalog = ctx.read_catalog(project).await?;
    let records = environment_experiments(ctx, project, environment).await?;
    let mut dry = catalog.catalog().clone();
    let (holdout, removed) =
        dry.patch_holdout(environment, key, &patch, experiments(&records), now).map_err(catalog_error)?;
    for (i, instruction) in patch.instructions.iter().enumerate() {
        let HoldoutInstruction::RemoveExperiment { value } = instruction else { continue };
        if !removed.contains(value) {
            continue;
        }
        let path = iteration_model::pointer(&iteration_model::pointer("/instructions", i), "value");
        let holdout_id = holdout.id.clone();
        ctx.change(project, environment, value, move |experiment, _| {
            let still_in = experiment.holdout_id.as_deref() == Some(holdout_id.as_str());
            if still_in {
                iteration_model::leaves_only_when_not_running(experiment, &path)
                    .map_err(|v| ApiError::violations(&iteration_model::Violations(vec![v])))?;
            }
            let edit = Edit::with(move |experiment| {
                if still_in {
                    experiment.holdout_id = None;
                }
            });
            Ok((edit, ()))
        })
        .await?;
    }
    let rest = HoldoutPatch {
        comment: patch.comment.clone(),
        instructions: patch
            .instructions
            .iter()
            .filter(|i| !matches!(i, HoldoutInstruction::RemoveExperiment { .. }))
            .cloned()
            .collect(),
    };
    let (holdout, _) = ctx
        .change_catalog(project, Reads::Experiments, |catalog, records, _| {
            catalog.patch_holdout(environment, key, &rest, experiments(records), now).map_err(catalog_error)
        })
        .await?;
    let records = environment_experiments(ctx, project, environment).await?;
    Ok(json(StatusCode::OK, &holdout_rep(&holdout, &records, Expand::default(), None)))
}

/// Checks that a new experiment may join holdout `holdout_id`; used by
/// create experiment against the catalog it commits on.
pub(super) fn join_violations(
    catalog: &iteration_model::ProjectCatalog,
    environment: &str,
    holdout_id: Option<&str>,
    experiment: &str,
) -> iteration_model::Violations {
    match holdout_id {
        Some(id) => catalog.check_join(environment, id, experiment, "/holdoutId"),
        None => iteration_model::Violations::default(),
    }
}
