//! Creating and reading one experiment, and creating its iterations.

use std::sync::Arc;

use bytes::Bytes;
use http::{Response, StatusCode};
use iteration_model::{
    Experiment, ExperimentContext, ExperimentPost, ExperimentType, IdSource, IterationInput, IterationRep,
    ResolveError, UnixMillis, Violations, links, resolve_iteration,
};

use serde_json::Value;

use super::Context;
use crate::server::response::{ApiError, json, json_bytes};
use crate::server::store::{CatalogRecord, Edit, ExperimentRecord};
use iteration_model::Expand;

/// What a create answers with: everything, since the caller just made it,
/// but not the table of mutable fields, which it did not ask for.
const WRITE_ANSWER: Expand = Expand::ALL.without(Expand::MUTABLE_FIELDS_BY_STATUS);

pub(super) async fn get(
    ctx: &Context<'_>,
    project: &str,
    environment: &str,
    key: &str,
) -> Result<Response<Bytes>, ApiError> {
    let expand = Expand::parse(&ctx.query("expand").unwrap_or_default());
    if expand.is_empty() {
        return Ok(json_bytes(StatusCode::OK, ctx.load_plain(project, environment, key).await?));
    }
    let record = ctx.load(project, environment, key).await?;
    Ok(json(StatusCode::OK, &expand.apply(Arc::unwrap_or_clone(record.value).experiment)))
}

/// `POST .../experiments/{x}/iterations`: the new iteration becomes the
/// draft, replacing any earlier draft; a running iteration keeps running.
pub(super) async fn create_iteration(
    ctx: &Context<'_>,
    project: &str,
    environment: &str,
    key: &str,
) -> Result<Response<Bytes>, ApiError> {
    ctx.environment(project, environment)?;
    let input = ctx.iteration_input_body()?;
    let now = ctx.app.clock.now();
    let ids = Arc::clone(&ctx.app.ids);
    let in_environment = environment.to_owned();
    ctx.change(project, environment, key, move |experiment, catalog| {
        let iteration =
            resolve_with(&ids, catalog, &in_environment, experiment, &input, now).map_err(resolve_error)?;
        // The draft is written as JSON once, for the answer and for a store that keeps JSON.
        let (edit, body) = Edit::replace_draft(iteration);
        Ok((edit, json_bytes(StatusCode::OK, body)))
    })
    .await
}

/// `POST .../experiments`: 201 with the new experiment and its draft. Every
/// problem is answered at once: the experiment's own fields, and its
/// iteration checked against the catalog, each under its path.
pub(super) async fn create(
    ctx: &Context<'_>,
    project: &str,
    environment: &str,
) -> Result<Response<Bytes>, ApiError> {
    ctx.environment(project, environment)?;
    let body = ctx.json_body()?;
    let (post, violations) = read_post(&body);
    let Some(post) = post else { return Err(ApiError::violations(&violations)) };
    let now = ctx.app.clock.now();
    let own_violations = violations;
    let kept_changing = || format!("the catalog of project `{project}` kept changing; retry");
    let mut attempts = super::Attempts::default();
    let stored = loop {
        attempts.next(kept_changing)?;
        let catalog = ctx.catalog(project).await?;
        // The holdout is checked against the catalog the insert is guarded by.
        let mut violations = own_violations.clone();
        violations.extend(super::holdouts::join_violations(
            catalog.value.catalog(),
            environment,
            post.holdout_id.as_deref(),
            &post.key,
        ));
        let mut experiment = new_experiment(ctx, project, environment, &post, now);
        match resolve_raw(ctx, &catalog.value, environment, &experiment, &post.iteration, now) {
            Ok(draft) if violations.is_empty() => experiment.draft_iteration = Some(draft),
            Ok(_) => return Err(ApiError::violations(&violations)),
            Err(ResolveError::Invalid(found)) => {
                violations.extend(found.prefixed("/iteration"));
                return Err(ApiError::violations(&violations));
            }
            // A stale flag version is answered only when nothing else is wrong.
            Err(ResolveError::VersionConflict(conflict)) if violations.is_empty() => {
                return Err(ApiError::conflict(conflict.to_string()));
            }
            Err(ResolveError::VersionConflict(_)) => return Err(ApiError::violations(&violations)),
            Err(other) => return Err(ApiError::invalid(other.to_string())),
        }
        let record = ExperimentRecord {
            project_key: project.to_owned(),
            environment_key: environment.to_owned(),
            experiment,
        };
        // A catalog that changed since it was read: check again against the new one.
        if let Some(stored) = super::raced(ctx.app.store.insert(record, Some(catalog.version)).await)? {
            break stored;
        }
    };
    let experiment = Arc::unwrap_or_clone(stored.value).experiment;
    Ok(json(StatusCode::CREATED, &WRITE_ANSWER.apply(experiment)))
}

/// Reads an `ExperimentPost` and checks its own fields. The iteration's
/// rules are left to resolution, which checks them with the catalog's.
///
/// When the post cannot be read because of its own fields (no `name`, say)
/// but its iteration can, a stand-in post carries that iteration, so that
/// the answer lists the iteration's problems too. The stand-in is only
/// resolved, never stored: its violations are not empty.
fn read_post(body: &Value) -> (Option<ExperimentPost>, Violations) {
    let under_iteration = |path: &str| path == "/iteration" || path.starts_with("/iteration/");
    match ExperimentPost::from_json(body) {
        Ok(post) => {
            let own = post.validate().err().unwrap_or_default();
            (Some(post), own.into_iter().filter(|v| !under_iteration(&v.path)).collect())
        }
        Err(violations) if violations.iter().any(|v| under_iteration(&v.path)) => (None, violations),
        Err(violations) => {
            let stand_in =
                body.get("iteration").and_then(|i| IterationInput::from_json(i).ok()).map(|iteration| {
                    ExperimentPost {
                        name: String::new(),
                        description: None,
                        maintainer_id: None,
                        key: body.get("key").and_then(Value::as_str).unwrap_or_default().to_owned(),
                        iteration,
                        holdout_id: None,
                        tags: None,
                        methodology: None,
                        analysis_config: None,
                        data_source: None,
                        r#type: body.get("type").and_then(Value::as_str).map(ExperimentType::from),
                    }
                });
            (stand_in, violations)
        }
    }
}

/// The experiment a post describes, without its draft.
fn new_experiment(
    ctx: &Context<'_>,
    project: &str,
    environment: &str,
    post: &ExperimentPost,
    now: UnixMillis,
) -> Experiment {
    let environment_path = format!("/api/v2/projects/{project}/environments/{environment}");
    Experiment {
        id: Some(ctx.app.ids.object_id()),
        key: post.key.clone(),
        name: post.name.clone(),
        description: post.description.clone(),
        maintainer_id: post.maintainer_id.clone().unwrap_or_else(|| ctx.app.ids.object_id()),
        creation_date: now,
        environment_key: environment.to_owned(),
        methodology: post.methodology.clone(),
        data_source: post.data_source.clone(),
        archived_date: None,
        tags: post.tags.clone(),
        links: links([
            ("self", format!("{environment_path}/experiments/{}", post.key)),
            ("parent", environment_path),
        ]),
        holdout_id: post.holdout_id.clone(),
        current_iteration: None,
        r#type: Some(post.r#type.clone().unwrap_or(ExperimentType::Experiment)),
        draft_iteration: None,
        previous_iterations: None,
        analysis_config: post.analysis_config.as_ref().map(analysis_config),
        mutable_fields_by_status: None,
        access: None,
        extra: Default::default(),
    }
}

fn analysis_config(input: &iteration_model::AnalysisConfigInput) -> iteration_model::AnalysisConfigRep {
    iteration_model::AnalysisConfigRep {
        bayesian_threshold: input.bayesian_threshold.clone(),
        significance_threshold: input.significance_threshold.clone(),
        test_direction: input.test_direction.clone(),
        multiple_comparison_correction_method: input.multiple_comparison_correction_method.clone(),
        multiple_comparison_correction_scope: input.multiple_comparison_correction_scope.clone(),
        sequential_testing_enabled: input.sequential_testing_enabled,
        extra: Default::default(),
    }
}

/// A resolution's error as the API answers it: 400 listing every
/// violation, or 409 for a stale flag version.
fn resolve_error(error: ResolveError) -> ApiError {
    match error {
        ResolveError::Invalid(violations) => ApiError::violations(&violations),
        ResolveError::VersionConflict(conflict) => ApiError::conflict(conflict.to_string()),
        other => ApiError::invalid(other.to_string()),
    }
}

/// Checks `input` against the world and `experiment`, and builds the
/// iteration; the model's error, for a caller that re-paths violations.
fn resolve_raw(
    ctx: &Context<'_>,
    catalog: &CatalogRecord,
    environment: &str,
    experiment: &Experiment,
    input: &IterationInput,
    now: UnixMillis,
) -> Result<IterationRep, ResolveError> {
    resolve_with(&ctx.app.ids, catalog, environment, experiment, input, now)
}

/// [`resolve_raw`] with ids from `ids`, for a change decided away from the request.
fn resolve_with(
    ids: &crate::server::ids::IdGenerator,
    catalog: &CatalogRecord,
    environment: &str,
    experiment: &Experiment,
    input: &IterationInput,
    now: UnixMillis,
) -> Result<IterationRep, ResolveError> {
    let Some(catalog) = catalog.view(environment) else {
        // Handlers check the environment exists before resolving.
        let mut violations = Violations::default();
        violations.push("", iteration_model::ViolationCode::NotAllowed, "the environment does not exist");
        return Err(ResolveError::Invalid(violations));
    };
    let mut ids: &crate::server::ids::IdGenerator = ids;
    resolve_iteration(
        catalog.as_ref(),
        &ExperimentContext::from(experiment),
        input,
        now,
        &mut ids as &mut dyn IdSource,
    )
}
