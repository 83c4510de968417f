//! The endpoints. Each handler reads its input, checks it against the world,
//! applies a pure change to the stored experiment and answers; the pipeline
//! in `app.rs` has already authenticated and rate-limited the request.

use std::sync::Arc;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{Request, Response, StatusCode};
use iteration_model::{Experiment, InputError, IterationInput, codes};
use serde_json::Value;

use crate::server::response::{ApiError, json};
use crate::server::route::{Route, percent_decode};
use crate::server::state::Shared;
use crate::server::store::{CatalogRecord, Change, Decision, Edit, ExperimentRecord, StoreError, Versioned};
use crate::server::world::Project;

mod catalog;
mod experiment;
mod holdouts;
mod layers;
mod list;
mod patch;

/// How many times a write re-reads and re-applies after losing a race.
/// Every lost race means another write won, so the system as a whole always
/// makes progress; the bound only stops one request from waiting forever.
pub(super) const MAX_WRITE_ATTEMPTS: usize = 128;

/// What every handler gets.
pub(crate) struct Context<'a> {
    pub(crate) app: &'a Shared,
    pub(crate) request: &'a Request<Bytes>,
    /// The world as it was when the request arrived.
    pub(crate) world: &'a crate::server::world::World,
}

pub(crate) async fn dispatch(ctx: &Context<'_>, route: Route) -> Result<Response<Bytes>, ApiError> {
    match route {
        Route::OpenApi => Ok(json(StatusCode::OK, &crate::server::openapi::document())),
        Route::ListProjectExperiments { project } => list::list(ctx, &project, None).await,
        Route::ListExperiments { project, environment } => {
            list::list(ctx, &project, Some(&environment)).await
        }
        Route::CreateExperiment { project, environment } => {
            experiment::create(ctx, &project, &environment).await
        }
        Route::GetExperiment { project, environment, experiment } => {
            experiment::get(ctx, &project, &environment, &experiment).await
        }
        Route::PatchExperiment { project, environment, experiment } => {
            patch::patch(ctx, &project, &environment, &experiment).await
        }
        Route::CreateIteration { project, environment, experiment } => {
            experiment::create_iteration(ctx, &project, &environment, &experiment).await
        }
        Route::ListFlags { project } => catalog::list_flags(ctx, &project).await,
        Route::CreateFlag { project } => catalog::create_flag(ctx, &project).await,
        Route::GetFlag { project, key } => catalog::get_flag(ctx, &project, &key).await,
        Route::PatchFlag { project, key } => catalog::patch_flag(ctx, &project, &key).await,
        Route::DeleteFlag { project, key } => catalog::delete_flag(ctx, &project, &key).await,
        Route::ListMetrics { project } => catalog::list_metrics(ctx, &project).await,
        Route::CreateMetric { project } => catalog::create_metric(ctx, &project).await,
        Route::GetMetric { project, key } => catalog::get_metric(ctx, &project, &key).await,
        Route::PatchMetric { project, key } => catalog::patch_metric(ctx, &project, &key).await,
        Route::DeleteMetric { project, key } => catalog::delete_metric(ctx, &project, &key).await,
        Route::ListMetricGroups { project } => catalog::list_metric_groups(ctx, &project).await,
        Route::CreateMetricGroup { project } => catalog::create_metric_group(ctx, &project).await,
        Route::GetMetricGroup { project, key } => catalog::get_metric_group(ctx, &project, &key).await,
        Route::PatchMetricGroup { project, key } => catalog::patch_metric_group(ctx, &project, &key).await,
        Route::DeleteMetricGroup { project, key } => catalog::delete_metric_group(ctx, &project, &key).await,
        Route::ListContextKinds { project } => catalog::list_context_kinds(ctx, &project).await,
        Route::PutContextKind { project, key } => catalog::put_context_kind(ctx, &project, &key).await,
        Route::GetExperimentationSettings { project } => catalog::get_settings(ctx, &project).await,
        Route::PutExperimentationSettings { project } => catalog::put_settings(ctx, &project).await,
        Route::ListLayers { project } => layers::list(ctx, &project).await,
        Route::CreateLayer { project } => layers::create(ctx, &project).await,
        Route::UpdateLayer { project, key } => layers::update(ctx, &project, &key).await,
        Route::ListHoldouts { project, environment } => holdouts::list(ctx, &project, &environment).await,
        Route::CreateHoldout { project, environment } => holdouts::create(ctx, &project, &environment).await,
        Route::GetHoldout { project, environment, key } => {
            holdouts::get(ctx, &project, &environment, &key).await
        }
        Route::GetHoldoutById { project, environment, id } => {
            holdouts::get_by_id(ctx, &project, &environment, &id).await
        }
        Route::PatchHoldout { project, environment, key } => {
            holdouts::patch(ctx, &project, &environment, &key).await
        }
    }
}

impl Context<'_> {
    /// The query parameter `name` (the last one when repeated), decoded.
    pub(crate) fn query(&self, name: &str) -> Option<String> {
        let query = self.request.uri().query()?;
        query
            .rsplit('&')
            .find_map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(&key.replace('+', " "))? == name)
                    .then(|| percent_decode(&value.replace('+', " ")))
            })
            .flatten()
    }

    /// The body as JSON: 415 unless it is declared JSON, 400 with line and
    /// column when it does not parse.
    pub(crate) fn json_body(&self) -> Result<Value, ApiError> {
        self.require_json()?;
        serde_json::from_slice(self.request.body()).map_err(|err| {
            ApiError::invalid(format!(
                "the body is not valid JSON: line {}, column {}: {err}",
                err.line(),
                err.column()
            ))
        })
    }

    /// The body as an iteration input, read directly when it is well formed
    /// (the common case); otherwise every problem, as `json_body` and
    /// `IterationInput::from_json` would report it.
    pub(crate) fn iteration_input_body(&self) -> Result<IterationInput, ApiError> {
        self.require_json()?;
        IterationInput::from_slice(self.request.body()).map_err(|err| match err {
            InputError::Invalid(violations) => ApiError::violations(&violations),
            other => ApiError::invalid(other.to_string()),
        })
    }

    /// 415 unless the body is declared JSON.
    fn require_json(&self) -> Result<(), ApiError> {
        let content_type =
            self.request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mime = content_type.split(';').next().unwrap_or("").trim();
        if !mime.eq_ignore_ascii_case("application/json") {
            let shown = if content_type.is_empty() { "none" } else { content_type };
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                codes::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "the body must be JSON with Content-Type: application/json; the Content-Type was {shown}"
                ),
            ));
        }
        Ok(())
    }

    /// The project, or 404.
    pub(crate) fn project(&self, project: &str) -> Result<&Project, ApiError> {
        self.world
            .project(project)
            .ok_or_else(|| ApiError::not_found(format!("project `{project}` not found")))
    }

    /// The project and environment, or 404 naming the one that is missing.
    pub(crate) fn environment(&self, project: &str, environment: &str) -> Result<&Project, ApiError> {
        let found = self.project(project)?;
        if found.environment(environment).is_none() {
            return Err(ApiError::not_found(format!(
                "environment `{environment}` not found in project `{project}`"
            )));
        }
        Ok(found)
    }

    /// The live catalog of the project, shared with the store, or 404.
    pub(crate) async fn catalog(&self, project: &str) -> Result<Versioned<Arc<CatalogRecord>>, ApiError> {
        self.project(project)?;
        self.app
            .store
            .catalog(project)
            .await
            .map_err(store_error)?
            .ok_or_else(|| ApiError::not_found(format!("project `{project}` not found")))
    }

    /// The stored experiment, shared with the store, or 404.
    pub(crate) async fn load(
        &self,
        project: &str,
        environment: &str,
        key: &str,
    ) -> Result<Versioned<Arc<ExperimentRecord>>, ApiError> {
        self.environment(project, environment)?;
        self.app
            .store
            .get(project, environment, key)
            .await
            .map_err(store_error)?
            .ok_or_else(|| experiment_not_found(project, environment, key))
    }

    /// The stored experiment as a read without `expand` answers it (the
    /// store may hand out those bytes without reading the record), or 404
    /// as [`Context::load`] answers it.
    pub(crate) async fn load_plain(
        &self,
        project: &str,
        environment: &str,
        key: &str,
    ) -> Result<Bytes, ApiError> {
        self.environment(project, environment)?;
        let plain = self.app.store.get_plain(project, environment, key).await.map_err(store_error)?;
        Ok(plain.ok_or_else(|| experiment_not_found(project, environment, key))?.value)
    }

    /// Changes the experiment with `decide`, which decides on the
    /// experiment and the project's catalog as they are, and returns the
    /// [`Edit`] and the answer, or the error to answer with. It decides
    /// here first, on what this request read; the store takes that decision
    /// while neither has changed since, and otherwise has `decide` decide
    /// again on what is current when it writes (so writes to one experiment
    /// queue instead of failing and retrying). The experiment is never
    /// copied: the store applies the edit in place.
    pub(crate) async fn change<T: Send + 'static>(
        &self,
        project: &str,
        environment: &str,
        key: &str,
        mut decide: impl FnMut(&Experiment, &CatalogRecord) -> Result<(Edit, T), ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let catalog = self.catalog(project).await?;
        let Versioned { version, value } = self.load(project, environment, key).await?;
        let first = decision(decide(&value.experiment, &catalog.value));
        // Let go of the record, so that the store need not copy it to
        // edit it while this request still holds it.
        drop(value);
        let change = Change::new(move |experiment, catalog| decision(decide(experiment, catalog)))
            .decided_on(version, catalog.version, first);
        let settled = self
            .app
            .store
            .update(project, environment, key, change)
            .await
            .map_err(|err| write_error(err, project, environment, key))?;
        let answer = if settled.written {
            settled.answer.downcast::<T>().map(|answer| Ok(*answer))
        } else {
            settled.answer.downcast::<ApiError>().map(|error| Err(*error))
        };
        answer.unwrap_or_else(|_| {
            unreachable!("`decision` hands back a T when it writes and an ApiError when it refuses")
        })
    }
}

/// A handler's decision as the store carries it.
fn decision<T: Send + 'static>(decided: Result<(Edit, T), ApiError>) -> Decision {
    match decided {
        Ok((edit, answer)) => Decision::Write { edit, answer: Box::new(answer) },
        Err(error) => Decision::Refuse(Box::new(error)),
    }
}

/// The server's one retry policy, for writes guarded by a version they
/// read (a catalog write, an insert checked against the catalog, a bandit
/// start's claim): a write that lost its race (its guard failed, so it
/// wrote nothing) runs again on the new state, at most
/// [`MAX_WRITE_ATTEMPTS`] times, then 409. Each such write is a loop that
/// begins with [`Attempts::next`] and goes round on [`raced`]'s `None`. A
/// change to one experiment does not loop: the store settles it (see
/// [`Context::change`]).
#[derive(Debug, Default)]
pub(crate) struct Attempts(usize);

impl Attempts {
    /// Counts an attempt; 409 with `kept_changing`'s message once there
    /// have been [`MAX_WRITE_ATTEMPTS`].
    pub(crate) fn next(&mut self, kept_changing: impl FnOnce() -> String) -> Result<(), ApiError> {
        if self.0 == MAX_WRITE_ATTEMPTS {
            return Err(ApiError::conflict(kept_changing()));
        }
        self.0 += 1;
        Ok(())
    }
}

/// `Ok(None)` for a write that lost its race; other errors as the API answers them.
pub(crate) fn raced<T>(result: Result<T, StoreError>) -> Result<Option<T>, ApiError> {
    match result {
        Ok(written) => Ok(Some(written)),
        Err(StoreError::Conflict { .. }) => Ok(None),
        Err(err) => Err(store_error(err)),
    }
}

/// A failed write as the API answers it.
pub(crate) fn write_error(err: StoreError, project: &str, environment: &str, key: &str) -> ApiError {
    match err {
        StoreError::NotFound => experiment_not_found(project, environment, key),
        other => store_error(other),
    }
}

/// The message of a 409 for a write to experiment `key` that kept losing its race.
pub(crate) fn kept_changing(key: &str) -> String {
    format!("experiment `{key}` kept changing while this request tried {MAX_WRITE_ATTEMPTS} times; retry")
}

fn experiment_not_found(project: &str, environment: &str, key: &str) -> ApiError {
    ApiError::not_found(format!(
        "experiment `{key}` not found in project `{project}`, environment `{environment}`"
    ))
}

/// A store failure as the API answers it.
pub(crate) fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::KeyExists { key, .. } => ApiError::new(
            StatusCode::CONFLICT,
            codes::KEY_EXISTS,
            format!("an experiment with key `{key}` already exists in this environment"),
        ),
        StoreError::Conflict { expected, actual } => ApiError::conflict(format!(
            "the experiment changed while this request ran (version {expected}, now {actual}); retry"
        )),
        StoreError::NotFound => ApiError::not_found("experiment not found"),
        StoreError::Unavailable(source) => {
            tracing::error!(error = %source, "storage failed");
            ApiError::unavailable("the storage is unavailable; retry later")
        }
    }
}
