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
//!
//! The live catalog has its operations too:
//!
//! ```no_run
//! # async fn example(client: iteration_api::client::Client) -> Result<(), iteration_api::client::Error> {
//! use iteration_api::client::FlagListParams;
//!
//! let flag = client.turn_flag_off("my-project", "example-flag", "production").await?;
//! println!("production is at version {:?}", flag.environment("production").map(|c| c.version));
//! let mut pages = client.flag_pages("my-project", FlagListParams { limit: Some(50), ..Default::default() });
//! while let Some(page) = pages.next().await? {
//!     for flag in page.items {
//!         println!("{}", flag.key);
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Code map
//!
//! - `request.rs`: the `RequestFactory` helpers every operation shares
//!   (path templates with keys checked and percent-encoded, headers, JSON
//!   bodies); `response.rs`: statuses and error bodies to results.
//! - One module per resource family adds its operations, each as a pure
//!   request builder and a thin [`Client`] method: `experiments.rs`,
//!   `flags.rs`, `metrics.rs`, `metric_groups.rs`, `context_kinds.rs`,
//!   `settings.rs`. A new family is one more such module.
//! - `pages.rs`: the cursor every list's pager walks with.
//! - `admin.rs`: the administration API of this project's own server
//!   (reset, state, request journal, faults), for tests against it.

mod admin;
mod builder;
mod context_kinds;
mod error;
mod experiments;
mod flags;
mod holdouts;
mod layers;
mod metric_groups;
mod metrics;
mod pages;
mod query;
mod request;
mod response;
mod settings;

use std::time::SystemTime;

use bytes::Bytes;
use iteration_model::Violations;
use iteration_transport::HttpClient;
use serde::de::DeserializeOwned;

pub use crate::admin::{FaultRule, RecordedRequest, RequestFilter};
pub use builder::{BaseUrl, ClientBuilder, DEFAULT_API_VERSION, TOKEN_ENV_VARS, token_from_env};
pub use error::{ApiErrorDetails, ConflictKind, Error, RateLimit, TransportFailure};
pub use flags::{FlagListParams, FlagPages};
pub use iteration_transport::RetryNotice;
pub use iteration_transport::RetryPolicy;
pub use metric_groups::{MetricGroupListParams, MetricGroupPages};
pub use metrics::{MetricListParams, MetricPages};
pub use pages::{ExperimentPages, ExperimentQuery};
pub use query::{Expand, ExperimentFilter, LifecycleState, ListParams};

use request::RequestFactory;

/// A client of the Experiments API. Cheap to clone; clones share connections.
///
/// Its operations are documented by resource: experiments and iterations,
/// flags, metrics, metric groups, context kinds and experimentation settings.
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
        let response = self.exchange(request).await?;
        response::read(&response, SystemTime::now())
    }

    /// Sends with retries an operation that answers without a body (204).
    async fn send_no_content(&self, request: http::Request<Bytes>) -> Result<(), Error> {
        let response = self.exchange(request).await?;
        response::read_no_content(&response, SystemTime::now())
    }

    /// The response, after the retries the policy allows.
    async fn exchange(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, Error> {
        self.http.send_with_retry(request).await.map_err(|e| Error::Transport(TransportFailure::new(e)))
    }
}
