//! Handler tests: requests go through [`App::handle`] with no socket, on a
//! memory store seeded with the demo world and a clock that moves only
//! when told to.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use iteration_model::UnixMillis;
use serde_json::{Value, json};

use crate::server::store::MemoryStore;
use crate::server::world::World;
use crate::server::{App, AppConfig, ManualClock, RateLimits, seed_store};

mod admin;
mod behaviour;
mod catalog;
mod concurrency;
mod create_iteration;
mod errors;
mod experiment_rules;
mod faults;
mod fixed_body;
mod inputs;
mod layers_holdouts;
mod lifecycle;

/// The schemas of the document the server serves, which the answers must fit.
mod schema {
    use std::sync::OnceLock;

    use iteration_schema_check::Contract;
    use serde_json::Value;

    fn contract() -> &'static Contract {
        static CONTRACT: OnceLock<Contract> = OnceLock::new();
        CONTRACT.get_or_init(|| Contract::new(crate::server::openapi::document().clone()))
    }

    /// Panics listing every problem unless `value` conforms to schema `name`.
    pub(super) fn assert_conforms(name: &str, value: &Value, what: &str) {
        contract().assert_conforms(name, value, what);
    }
}

/// 2022-06-01T17:30:00Z, the demo covariate's upload time, plus an hour.
pub(super) const NOW: UnixMillis = UnixMillis(1_654_108_200_000);
pub(super) const WRITER: &str = "api-demo-writer";
pub(super) const READER: &str = "api-demo-reader";
pub(super) const EXPERIMENT: &str =
    "/api/v2/projects/my-project/environments/production/experiments/example-experiment";
pub(super) const DOCS_REQUEST: &[u8] = include_bytes!("../../../fixtures/docs-create-iteration.request.json");

pub(super) struct TestApp {
    pub(super) app: App,
    pub(super) clock: ManualClock,
}

pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Value,
}

impl TestApp {
    pub(super) async fn new() -> TestApp {
        TestApp::with_limits(RateLimits::OFF).await
    }

    pub(super) async fn with_limits(limits: RateLimits) -> TestApp {
        TestApp::with_world(World::demo(), limits).await
    }

    pub(super) async fn with_world(world: World, limits: RateLimits) -> TestApp {
        let world = Arc::new(world);
        let store = Arc::new(MemoryStore::new());
        seed_store(store.as_ref(), &world).await.expect("a memory store accepts the demo world");
        let clock = ManualClock::new(NOW);
        let config =
            AppConfig::default().with_rate_limits(limits).with_clock(Arc::new(clock.clone())).with_id_seed(1);
        TestApp { app: App::new(store, world, config), clock }
    }

    pub(super) async fn send(&self, request: Request<Bytes>) -> Answer {
        let response = self.app.handle(request).await;
        assert_eq!(response.headers()["content-type"], "application/json");
        let body = serde_json::from_slice(response.body()).expect("every answer is JSON");
        Answer { status: response.status(), headers: response.headers().clone(), body }
    }

    /// Sends `body` as JSON with the writer token.
    pub(super) async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.send(request(method, path, WRITER, body.map(|b| b.to_string().into_bytes()))).await
    }

    pub(super) async fn patch(&self, instructions: Value) -> Answer {
        self.call(Method::PATCH, EXPERIMENT, Some(json!({"instructions": instructions}))).await
    }
}

pub(super) fn request(method: Method, path: &str, token: &str, body: Option<Vec<u8>>) -> Request<Bytes> {
    let mut builder = Request::builder().method(method).uri(path).header("authorization", token);
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    builder.body(Bytes::from(body.unwrap_or_default())).expect("a valid test request")
}

/// The valid request of `docs/demo-world.md`.
pub(super) fn valid_request() -> Value {
    json!({
      "hypothesis": "The new button placement will increase conversion",
      "metrics": [
        {"key": "metric-key-123abc"},
        {"key": "metric-group-key-123abc", "isGroup": true}
      ],
      "primarySingleMetricKey": "metric-key-123abc",
      "treatments": [
        {"name": "Control", "baseline": true, "allocationPercent": "50",
         "parameters": [{"flagKey": "example-flag-for-experiment", "variationId": "e432f62b-55f6-49dd-a02f-eb24acf39d05"}]},
        {"name": "Top button", "baseline": false, "allocationPercent": "50",
         "parameters": [{"flagKey": "example-flag-for-experiment", "variationId": "6c5a1c1e-8a43-4d5f-9a1c-3b6f0d2e7a10"}]}
      ],
      "flags": {
        "example-flag-for-experiment": {
          "ruleId": "e432f62b-55f6-49dd-a02f-eb24acf39d05",
          "flagConfigVersion": 12,
          "notInExperimentVariationId": "e432f62b-55f6-49dd-a02f-eb24acf39d05"
        }
      },
      "randomizationUnit": "user",
      "covariateId": "74a49a2b-4834-4246-917e-5d85231d8c2a",
      "attributes": ["country", "device", "os"]
    })
}

/// The `errors` of an error body as `(path, code)` pairs.
pub(super) fn error_paths(body: &Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| (e["path"].as_str().unwrap_or("").to_owned(), e["code"].as_str().unwrap_or("").to_owned()))
        .collect()
}

pub(super) fn assert_error(answer: &Answer, status: StatusCode, code: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.body["code"], code, "{}", answer.body);
    let id = answer.body["id"].as_str().expect("every error has an id");
    assert_eq!(id.len(), 36, "{id}");
    assert!(answer.body["message"].as_str().is_some_and(|m| !m.is_empty()));
}
