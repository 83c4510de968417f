//! `PATCH .../experiments/{x}`: semantic patches. What the instructions do
//! is the model's `experiment_patch::apply`; this reads the body, applies
//! it to a copy of the stored experiment against the project's catalog, and
//! stores the copy only when every instruction succeeded, so a patch
//! changes everything it asks for or nothing.

use std::sync::Arc;

use bytes::Bytes;
use http::{Response, StatusCode};
use iteration_model::experiment_patch::{self, PatchContext, PatchError};
use iteration_model::{Expand, Experiment, ExperimentPatchInput, ExperimentType, IdSource, Instruction};

use super::{Attempts, Context, kept_changing, raced, store_error, write_error};
use crate::server::ids::IdGenerator;
use crate::server::response::{ApiError, json};
use crate::server::store::{
    CatalogExpectation, CatalogRecord, Edit, ExperimentRecord, StoreError, Versioned,
};

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
    let starts = patch.instructions.iter().any(|i| {
        matches!(i, Instruction::StartIteration { .. } | Instruction::SaveAndStartNewIteration { .. })
    });
    let ids = Arc::clone(&ctx.app.ids);
    let (project_key, environment_key) = (project.to_owned(), environment.to_owned());
    let run = move |experiment: &mut Experiment, catalog: &CatalogRecord, others: &[&Experiment]| {
        // The environment was found in the world, whose catalogs have the same environments.
        let view = catalog.view(&environment_key).ok_or_else(|| {
            ApiError::not_found(format!(
                "environment `{environment_key}` not found in project `{project_key}`"
            ))
        })?;
        let context = PatchContext { project: catalog.catalog(), catalog: view, others };
        let mut ids: &IdGenerator = &ids;
        experiment_patch::apply(experiment, &patch.instructions, &context, now, &mut ids as &mut dyn IdSource)
            .map_err(patch_error)
    };
    let is_bandit = |record: &ExperimentRecord| record.experiment.r#type == Some(ExperimentType::Mab);
    let experiment = if starts && is_bandit(&ctx.load(project, environment, key).await?.value) {
        start_bandit(ctx, project, environment, key, run).await?
    } else {
        // The patch runs on a copy, so that a refused instruction leaves
        // nothing half-done; the copy becomes the experiment.
        ctx.change(project, environment, key, move |experiment, catalog| {
            let mut changed = experiment.clone();
            run(&mut changed, catalog, &[])?;
            let answer = changed.clone();
            Ok((Edit::with(move |experiment| *experiment = changed), answer))
        })
        .await?
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
    mut run: impl FnMut(&mut Experiment, &CatalogRecord, &[&Experiment]) -> Result<(), ApiError>,
) -> Result<Experiment, ApiError> {
    let store = &ctx.app.store;
    let mut attempts = Attempts::default();
    loop {
        attempts.next(|| kept_changing(key))?;
        let generation = store.generation(project).await.map_err(store_error)?;
        let listed = store.list(project, Some(environment)).await.map_err(store_error)?;
        let catalog = ctx.catalog(project).await?;
        let expected = CatalogExpectation { version: catalog.version, generation: Some(generation) };
        let Some(claimed) = raced(store.put_catalog(expected, catalog.value.catalog().clone()).await)? else {
            continue;
        };
        let Versioned { version, value } = ctx.load(project, environment, key).await?;
        let mut record = Arc::unwrap_or_clone(value);
        let others: Vec<&Experiment> = listed.iter().map(|r| &r.value.experiment).collect();
        run(&mut record.experiment, &catalog.value, &others)?;
        let outcome = record.experiment.clone();
        match store.compare_and_swap(version, record, Some(claimed)).await {
            Ok(_) => return Ok(outcome),
            Err(StoreError::Conflict { .. }) => continue,
            Err(err) => return Err(write_error(err, project, environment, key)),
        }
    }
}

/// A refused patch as the API answers it.
fn patch_error(error: PatchError) -> ApiError {
    match error {
        PatchError::Invalid(violations) => ApiError::violations(&violations),
        PatchError::VersionConflict(conflict) => ApiError::conflict(conflict.to_string()),
        other => ApiError::invalid(other.to_string()),
    }
}
