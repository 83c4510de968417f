//! Creating and reading one experiment, and creating its iterations.

use bytes::Bytes;
use http::{Response, StatusCode};
use iteration_model::{
    Experiment, ExperimentContext, ExperimentPost, ExperimentType, IdSource, IterationInput, IterationRep,
    ResolveError, UnixMillis, Violations, links, resolve_iteration,
};

use super::{Context, store_error};
use crate::server::expand::Expand;
use crate::server::lifecycle::is_archived;
use crate::server::response::{ApiError, json};
use crate::server::store::ExperimentRecord;

pub(super) async fn get(
    ctx: &Context<'_>,
    project: &str,
    environment: &str,
    key: &str,
) -> Result<Response<Bytes>, ApiError> {
    let record = ctx.load(project, environment, key).await?;
    let expand = Expand::parse(&ctx.query("expand").unwrap_or_default());
    Ok(json(StatusCode::OK, &expand.apply(record.value.experiment)))
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
    let body = ctx.json_body()?;
    let input = IterationInput::from_json(&body).map_err(|v| ApiError::violations(&v))?;
    let now = ctx.app.clock.now();
    let (_, iteration) = ctx
        .update(project, environment, key, |experiment| {
            let iteration = resolve(ctx, project, environment, experiment, &input, now)?;
            experiment.draft_iteration = Some(iteration.clone());
            Ok(iteration)
        })
        .await?;
    Ok(json(StatusCode::OK, &iteration))
}

/// `POST .../experiments`: 201 with the new experiment and its draft.
pub(super) async fn create(
    ctx: &Context<'_>,
    project: &str,
    environment: &str,
) -> Result<Response<Bytes>, ApiError> {
    ctx.environment(project, environment)?;
    let body = ctx.json_body()?;
    let post = ExperimentPost::from_json(&body).map_err(|v| ApiError::violations(&v))?;
    post.validate().map_err(|v| ApiError::violations(&v))?;
    let now = ctx.app.clock.now();
    let environment_path = format!("/api/v2/projects/{project}/environments/{environment}");
    let mut experiment = Experiment {
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
        extra: Default::default(),
    };
    let draft = resolve(ctx, project, environment, &experiment, &post.iteration, now)
        .map_err(|error| nest_under(error, "/iteration"))?;
    experiment.draft_iteration = Some(draft);
    let record = ExperimentRecord {
        project_key: project.to_owned(),
        environment_key: environment.to_owned(),
        experiment,
    };
    let stored = ctx.app.store.insert(record).await.map_err(store_error)?;
    Ok(json(StatusCode::CREATED, &Expand::ALL.apply(stored.value.experiment)))
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

/// Violations found in an embedded iteration point into the embedding body.
fn nest_under(mut error: ApiError, prefix: &str) -> ApiError {
    for field in &mut error.errors {
        field.path = format!("{prefix}{}", field.path);
    }
    error
}

/// Checks `input` against the world and `experiment`, and builds the
/// iteration: 400 listing every violation, or 409 for a stale flag version.
pub(crate) fn resolve(
    ctx: &Context<'_>,
    project: &str,
    environment: &str,
    experiment: &Experiment,
    input: &IterationInput,
    now: UnixMillis,
) -> Result<IterationRep, ApiError> {
    resolve_raw(ctx, project, environment, experiment, input, now).map_err(|error| match error {
        ResolveError::Invalid(violations) => ApiError::violations(&violations),
        ResolveError::VersionConflict(conflict) => ApiError::conflict(conflict.to_string()),
        other => ApiError::invalid(other.to_string()),
    })
}

/// [`resolve`] with the model's error, for callers that re-path violations.
pub(crate) fn resolve_raw(
    ctx: &Context<'_>,
    project: &str,
    environment: &str,
    experiment: &Experiment,
    input: &IterationInput,
    now: UnixMillis,
) -> Result<IterationRep, ResolveError> {
    let Some(catalog) = ctx.app.world.catalog(project, environment) else {
        // Handlers check the environment exists before resolving.
        let mut violations = Violations::default();
        violations.push("", iteration_model::ViolationCode::NotAllowed, "the environment does not exist");
        return Err(ResolveError::Invalid(violations));
    };
    let context = ExperimentContext {
        key: experiment.key.clone(),
        experiment_type: experiment.r#type.clone().unwrap_or(ExperimentType::Experiment),
        archived: is_archived(experiment),
    };
    let mut ids: &crate::server::ids::IdGenerator = &ctx.app.ids;
    resolve_iteration(&catalog, &context, input, now, &mut ids as &mut dyn IdSource)
}
