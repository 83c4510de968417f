//! Layers: list (`filter=experimentKey:k`), create, and the semantic patch
//! that names, describes and reserves traffic. A reservation depends on the
//! experiments (whether one exists, runs, or is in a holdout), so a patch
//! reads them and is stored only if no experiment of the project changed
//! since ([`Reads::Experiments`]); an experiment write, in turn, is stored
//! only if the catalog is still the one it read, so a start and a
//! reservation never both win on a stale read.

use bytes::Bytes;
use http::{Response, StatusCode};
use iteration_model::{Layer, LayerPatch, links};
use serde_json::{Value, json};

use super::Context;
use super::catalog::{Reads, catalog_error, experiments};
use crate::server::response::{ApiError, json};

pub(super) async fn list(ctx: &Context<'_>, project: &str) -> Result<Response<Bytes>, ApiError> {
    let catalog = ctx.read_catalog(project).await?;
    let experiment = experiment_filter(ctx.query("filter").as_deref().unwrap_or(""))?;
    let items: Vec<Value> = catalog
        .catalog()
        .layers
        .values()
        .filter(|layer| experiment.as_deref().is_none_or(|key| in_layer(layer, key)))
        .map(|layer| layer.rep(project))
        .collect();
    let body = json!({
        "items": items,
        "totalCount": items.len(),
        "_links": links([("self", format!("/api/v2/projects/{project}/layers"))]),
    });
    Ok(json(StatusCode::OK, &body))
}

/// Whether `experiment` reserves traffic in `layer` in any environment.
fn in_layer(layer: &Layer, experiment: &str) -> bool {
    layer.environments.values().any(|config| config.reservation(experiment).is_some())
}

/// The experiment key of `filter`: `experimentKey:k`, or the documented
/// example's form `reservations.experimentKey contains k`. Any other filter
/// is a 400.
fn experiment_filter(filter: &str) -> Result<Option<String>, ApiError> {
    let filter = filter.trim();
    if filter.is_empty() {
        return Ok(None);
    }
    if let Some(key) = filter.strip_prefix("experimentKey:") {
        return Ok(Some(key.trim().to_owned()));
    }
    if let Some(key) = filter.strip_prefix("reservations.experimentKey contains ") {
        return Ok(Some(key.trim().to_owned()));
    }
    Err(ApiError::invalid(format!(
        "filter `{filter}` is not supported here; layers filter only by experimentKey:k"
    )))
}

pub(super) async fn create(ctx: &Context<'_>, project: &str) -> Result<Response<Bytes>, ApiError> {
    let body = ctx.json_body()?;
    let now = ctx.app.clock.now();
    let layer = ctx
        .change_catalog(project, Reads::Catalog, |catalog, _, _| {
            catalog.create_layer(&body, now).cloned().map_err(catalog_error)
        })
        .await?;
    Ok(json(StatusCode::CREATED, &layer.rep(project)))
}

/// `updateLayer`: a semantic patch, with `domain-model=launchdarkly.semanticpatch`
/// or as plain JSON (what generated clients send).
pub(super) async fn update(ctx: &Context<'_>, project: &str, key: &str) -> Result<Response<Bytes>, ApiError> {
    let body = ctx.json_body()?;
    let patch = LayerPatch::from_json(&body).map_err(|v| ApiError::violations(&v))?;
    let layer = ctx
        .change_catalog(project, Reads::Experiments, |catalog, records, _| {
            catalog.patch_layer(key, &patch, experiments(records)).cloned().map_err(catalog_error)
        })
        .await?;
    Ok(json(StatusCode::OK, &layer.rep(project)))
}
