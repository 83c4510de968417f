//! Experiments and their iterations: create, read, list and change by
//! semantic patch (`/api/v2/projects/{projectKey}/environments/{environmentKey}/experiments...`).

use bytes::Bytes;
use http::{Method, Request};
use iteration_model::{
    Experiment, ExperimentCollectionRep, ExperimentPatchInput, ExperimentPost, Instruction, IterationInput,
    IterationRep,
};

use super::Client;
use super::error::Error;
use super::pages::{ExperimentQuery, Page};
use super::query::{Expand, ListParams, join_query};
use super::request::{JSON, RequestFactory, SEMANTIC_PATCH};

const EXPERIMENTS: &str = "/api/v2/projects/{projectKey}/environments/{environmentKey}/experiments";
const PROJECT_EXPERIMENTS: &str = "/api/v2/projects/{projectKey}/experiments";
const EXPERIMENT: &str =
    "/api/v2/projects/{projectKey}/environments/{environmentKey}/experiments/{experimentKey}";
const ITERATIONS: &str =
    "/api/v2/projects/{projectKey}/environments/{environmentKey}/experiments/{experimentKey}/iterations";

impl Page for ExperimentCollectionRep {
    fn item_count(&self) -> usize {
        self.items.len()
    }
    fn total_count(&self) -> Option<i64> {
        self.total_count
    }
}

impl RequestFactory {
    /// `POST .../experiments/{x}/iterations` (createIteration).
    pub(crate) fn create_iteration(
        &self,
        project: &str,
        environment: &str,
        experiment: &str,
        input: &IterationInput,
    ) -> Result<Request<Bytes>, Error> {
        let url = self.url(
            ITERATIONS,
            &[("projectKey", project), ("environmentKey", environment), ("experimentKey", experiment)],
        )?;
        self.with_body(Method::POST, &url, JSON, input)
    }

    /// `POST .../experiments` (createExperiment).
    pub(crate) fn create_experiment(
        &self,
        project: &str,
        environment: &str,
        post: &ExperimentPost,
    ) -> Result<Request<Bytes>, Error> {
        let url = self.url(EXPERIMENTS, &[("projectKey", project), ("environmentKey", environment)])?;
        self.with_body(Method::POST, &url, JSON, post)
    }

    /// `GET .../experiments/{x}?expand=...` (getExperiment).
    pub(crate) fn get_experiment(
        &self,
        project: &str,
        environment: &str,
        experiment: &str,
        expand: Expand,
    ) -> Result<Request<Bytes>, Error> {
        let url = self.url(
            EXPERIMENT,
            &[("projectKey", project), ("environmentKey", environment), ("experimentKey", experiment)],
        )?;
        let query = if expand.is_empty() {
            String::new()
        } else {
            join_query(&[("expand", expand.to_query_value())])
        };
        self.without_body(Method::GET, &url, &query)
    }

    /// `GET .../environments/{e}/experiments` (getExperiments) or, without an
    /// environment, `GET /api/v2/projects/{p}/experiments` (getExperimentsAnyEnv).
    pub(crate) fn list_experiments(
        &self,
        project: &str,
        environment: Option<&str>,
        params: &ListParams,
    ) -> Result<Request<Bytes>, Error> {
        let url = match environment {
            Some(environment) => {
                self.url(EXPERIMENTS, &[("projectKey", project), ("environmentKey", environment)])?
            }
            None => self.url(PROJECT_EXPERIMENTS, &[("projectKey", project)])?,
        };
        self.without_body(Method::GET, &url, &params.to_query())
    }

    /// `PATCH .../experiments/{x}` with a semantic patch (patchExperiment).
    pub(crate) fn patch_experiment(
        &self,
        project: &str,
        environment: &str,
        experiment: &str,
        patch: &ExperimentPatchInput,
    ) -> Result<Request<Bytes>, Error> {
        let url = self.url(
            EXPERIMENT,
            &[("projectKey", project), ("environmentKey", environment), ("experimentKey", experiment)],
        )?;
        self.with_body(Method::PATCH, &url, SEMANTIC_PATCH, patch)
    }
}

impl Client {
    /// Creates an iteration of an experiment, which becomes its draft.
    ///
    /// Unless turned off, the input is checked first and every violation is
    /// returned as [`Error::Validation`] without a request.
    pub async fn create_iteration(
        &self,
        project: &str,
        environment: &str,
        experiment: &str,
        input: &IterationInput,
    ) -> Result<IterationRep, Error> {
        let request = self.requests.create_iteration(project, environment, experiment, input);
        let request = self.checked(request, || input.validate())?;
        self.send(request).await
    }

    /// Creates an experiment with its first (draft) iteration.
    pub async fn create_experiment(
        &self,
        project: &str,
        environment: &str,
        post: &ExperimentPost,
    ) -> Result<Experiment, Error> {
        let request = self.requests.create_experiment(project, environment, post);
        let request = self.checked(request, || post.validate())?;
        self.send(request).await
    }

    /// Reads an experiment, with the optional parts in `expand`.
    pub async fn get_experiment(
        &self,
        project: &str,
        environment: &str,
        experiment: &str,
        expand: Expand,
    ) -> Result<Experiment, Error> {
        self.send(self.requests.get_experiment(project, environment, experiment, expand)?).await
    }

    /// One page of the experiments of an environment.
    pub async fn list_experiments(
        &self,
        project: &str,
        environment: &str,
        params: &ListParams,
    ) -> Result<ExperimentCollectionRep, Error> {
        self.send(self.requests.list_experiments(project, Some(environment), params)?).await
    }

    /// One page of the experiments of a project, across its environments.
    pub async fn list_project_experiments(
        &self,
        project: &str,
        params: &ListParams,
    ) -> Result<ExperimentCollectionRep, Error> {
        self.send(self.requests.list_experiments(project, None, params)?).await
    }

    /// The experiments of a project (or of one environment), to walk page by
    /// page with [`ExperimentQuery::pages`].
    pub fn experiments(
        &self,
        project: &str,
        environment: Option<&str>,
        params: ListParams,
    ) -> ExperimentQuery<'_> {
        ExperimentQuery::new(self, project, environment, params)
    }

    /// Applies a semantic patch: every instruction or none.
    pub async fn patch_experiment(
        &self,
        project: &str,
        environment: &str,
        experiment: &str,
        patch: &ExperimentPatchInput,
    ) -> Result<Experiment, Error> {
        let request = self.requests.patch_experiment(project, environment, experiment, patch);
        let request = self.checked(request, || patch.validate())?;
        self.send(request).await
    }

    /// Starts the draft iteration; `change_justification` is required when
    /// an iteration is already running (that one is stopped first).
    pub async fn start_iteration(
        &self,
        project: &str,
        environment: &str,
        experiment: &str,
        change_justification: Option<&str>,
    ) -> Result<Experiment, Error> {
        let instruction =
            Instruction::StartIteration { change_justification: change_justification.map(str::to_owned) };
        self.patch_experiment(project, environment, experiment, &ExperimentPatchInput::new([instruction]))
            .await
    }

    /// Stops the running iteration, naming the winning treatment.
    pub async fn stop_iteration(
        &self,
        project: &str,
        environment: &str,
        experiment: &str,
        winning_treatment_id: &str,
        winning_reason: Option<&str>,
    ) -> Result<Experiment, Error> {
        let instruction = Instruction::StopIteration {
            winning_treatment_id: winning_treatment_id.to_owned(),
            winning_reason: winning_reason.map(str::to_owned),
        };
        self.patch_experiment(project, environment, experiment, &ExperimentPatchInput::new([instruction]))
            .await
    }

    /// Archives an experiment: it can no longer start or get iterations.
    pub async fn archive_experiment(
        &self,
        project: &str,
        environment: &str,
        experiment: &str,
    ) -> Result<Experiment, Error> {
        let patch = ExperimentPatchInput::new([Instruction::ArchiveExperiment]);
        self.patch_experiment(project, environment, experiment, &patch).await
    }

    /// Restores an archived experiment.
    pub async fn restore_experiment(
        &self,
        project: &str,
        environment: &str,
        experiment: &str,
    ) -> Result<Experiment, Error> {
        let patch = ExperimentPatchInput::new([Instruction::RestoreExperiment]);
        self.patch_experiment(project, environment, experiment, &patch).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::request::tests::{assert_common_headers, body_json, factory, header, violation_paths};
    use iteration_model::ViolationCode;

    fn iteration_input() -> IterationInput {
        let json = include_str!("../../fixtures/docs-create-iteration.request.json");
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        IterationInput::from_json(&value).unwrap()
    }

    #[test]
    fn create_iteration_posts_json_to_the_iterations_path() {
        let request = factory()
            .create_iteration("default", "production", "example-experiment", &iteration_input())
            .unwrap();
        assert_eq!(request.method(), Method::POST);
        assert_eq!(
            request.uri(),
            "https://app.launchdarkly.com/api/v2/projects/default/environments/production/experiments/example-experiment/iterations"
        );
        assert_common_headers(&request);
        assert_eq!(header(&request, "content-type"), Some("application/json"));
        assert_eq!(IterationInput::from_json(&body_json(&request)).unwrap(), iteration_input());
    }

    #[test]
    fn invalid_keys_are_reported_together_before_anything_is_built() {
        let error = factory().get_experiment("my project", "production", "a/b", Expand::NONE).unwrap_err();
        assert_eq!(violation_paths(error), ["/projectKey", "/experimentKey"]);
        let error = factory().get_experiment("my project", "production", "x", Expand::NONE).unwrap_err();
        let Error::Validation(violations) = error else { panic!() };
        assert_eq!(violations.as_slice()[0].code, ViolationCode::InvalidKey);
        assert_eq!(
            violations.as_slice()[0].message,
            "projectKey \"my project\" is not a valid key: use 1 to 256 of A-Z a-z 0-9 . _ -"
        );
    }

    #[test]
    fn get_experiment_sends_expand_and_no_body() {
        let request = factory()
            .get_experiment(
                "default",
                "production",
                "example-experiment",
                Expand::DRAFT_ITERATION | Expand::TREATMENTS,
            )
            .unwrap();
        assert_eq!(request.method(), Method::GET);
        assert_eq!(
            request.uri(),
            "https://app.launchdarkly.com/api/v2/projects/default/environments/production/experiments/\
             example-experiment?expand=draftIteration,treatments"
        );
        assert_eq!(header(&request, "content-type"), None);
        assert!(request.body().is_empty());
    }

    #[test]
    fn lists_go_to_the_environment_or_the_project() {
        let params = ListParams { limit: Some(2), ..ListParams::default() };
        let in_env = factory().list_experiments("default", Some("production"), &params).unwrap();
        assert_eq!(
            in_env.uri(),
            "https://app.launchdarkly.com/api/v2/projects/default/environments/production/experiments?limit=2"
        );
        let in_project = factory().list_experiments("default", None, &ListParams::default()).unwrap();
        assert_eq!(in_project.uri(), "https://app.launchdarkly.com/api/v2/projects/default/experiments");
    }

    #[test]
    fn patch_is_a_semantic_patch() {
        let patch = ExperimentPatchInput::new([Instruction::StartIteration { change_justification: None }]);
        let request =
            factory().patch_experiment("default", "production", "example-experiment", &patch).unwrap();
        assert_eq!(request.method(), Method::PATCH);
        assert_eq!(header(&request, "content-type"), Some(SEMANTIC_PATCH));
        assert_eq!(body_json(&request), serde_json::json!({"instructions": [{"kind": "startIteration"}]}));
    }
}
