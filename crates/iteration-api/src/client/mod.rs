//! The typed client for LaunchDarkly's Experiments API, or any compatible
//! server.
//!
//! Layering: `request` builds each operation's `http::Request` and
//! `response` turns an `http::Response` into the typed result or [`Error`];
//! both are pure. [`Client`] only glues them to the transport, which pools
//! connections and retries by its [`RetryPolicy`].
//!
//! ```no_run
//! use iteration_api::client::{BaseUrl, Client, Expand};
//! use iteration_model::IterationInput;
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder()
//!     .base_url(BaseUrl::Custom("http://127.0.0.1:8080".into()))
//!     .token("api-demo-writer")
//!     .build()?;
//! let body: serde_json::Value = serde_json::from_str(&std::fs::read_to_string("body.json")?)?;
//! let input = IterationInput::from_json(&body)?;
//! let iteration = client.create_iteration("my-project", "production", "example-experiment", &input).await?;
//! println!("created iteration {:?}", iteration.id);
//! let experiment = client
//!     .get_experiment("my-project", "production", "example-experiment", Expand::DRAFT_ITERATION)
//!     .await?;
//! println!("{}", experiment.name);
//! # Ok(())
//! # }
//! ```

mod builder;
mod error;
mod holdouts;
mod layers;
mod pages;
mod query;
mod request;
mod response;

use std::time::SystemTime;

use bytes::Bytes;
use iteration_model::{
    Experiment, ExperimentCollectionRep, ExperimentPatchInput, ExperimentPost, Instruction, IterationInput,
    IterationRep, Violations,
};
use iteration_transport::HttpClient;
use serde::de::DeserializeOwned;

pub use builder::{BaseUrl, ClientBuilder, DEFAULT_API_VERSION, TOKEN_ENV_VARS, token_from_env};
pub use error::{ApiErrorDetails, ConflictKind, Error, RateLimit, TransportFailure};
pub use iteration_transport::RetryPolicy;
pub use pages::{ExperimentPages, ExperimentQuery};
pub use query::{Expand, ExperimentFilter, LifecycleState, ListParams};

use request::RequestFactory;

/// A client of the Experiments API. Cheap to clone; clones share connections.
#[derive(Debug, Clone)]
pub struct Client {
    http: HttpClient,
    requests: RequestFactory,
    validate_before_send: bool,
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

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

    /// The built request, unless the path keys or (when validation before
    /// sending is on) the body break a rule: then every violation of both.
    fn checked(
        &self,
        request: Result<http::Request<Bytes>, Error>,
        validate: impl FnOnce() -> Result<(), Violations>,
    ) -> Result<http::Request<Bytes>, Error> {
        let body = if self.validate_before_send { validate() } else { Ok(()) };
        match (request, body) {
            (Ok(request), Ok(())) => Ok(request),
            (Err(Error::Validation(mut keys)), Err(body)) => {
                keys.extend(body);
                Err(Error::Validation(keys))
            }
            (Err(error), _) => Err(error),
            (Ok(_), Err(body)) => Err(Error::Validation(body)),
        }
    }

    /// Sends with retries and reads the answer.
    async fn send<T: DeserializeOwned>(&self, request: http::Request<Bytes>) -> Result<T, Error> {
        let response = self
            .http
            .send_with_retry(request)
            .await
            .map_err(|e| Error::Transport(TransportFailure::new(e)))?;
        response::read(&response, SystemTime::now())
    }
}
