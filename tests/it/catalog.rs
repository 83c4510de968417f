//! The live catalog over real HTTP: the workflow a user's test suite runs,
//! then a restart on the same data directory that keeps every change.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use iteration_transport::{ClientConfig, HttpClient};
use serde_json::{Value, json};

use crate::serve::{Running, demo_request, temp_dir};

const WRITER: &str = "api-demo-writer";
const FLAG: &str = "/api/v2/flags/my-project/example-flag-for-experiment";
const METRICS: &str = "/api/v2/metrics/my-project";
const GROUPS: &str = "/api/v2/projects/my-project/metric-groups";
const EXPERIMENTS: &str = "/api/v2/projects/my-project/environments/production/experiments";

struct Api {
    client: HttpClient,
    base: String,
}

impl Api {
    fn new(server: &Running) -> Api {
        Api { client: HttpClient::new(ClientConfig::default()).expect("client"), base: server.base.clone() }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("authorization", WRITER);
        if body.is_some() {
            builder = builder.header("content-type", content_type);
        }
        let request =
            builder.body(Bytes::from(body.map(|b| b.to_string()).unwrap_or_default())).expect("request");
        let response = self.client.send(request).await.expect("the server answers");
        let body = if response.body().is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(response.body()).expect("JSON")
        };
        (response.status(), body)
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.send(method, path, "application/json", body).await
    }

    async fn semantic(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(
            Method::PATCH,
            path,
            "application/json; domain-model=launchdarkly.semanticpatch",
            Some(body),
        )
        .await
    }
}

fn iteration(version: i64) -> Value {
    let mut body = demo_request();
    body["flags"]["example-flag-for-experiment"]["flagConfigVersion"] = json!(version);
    body["metrics"] = json!([{"key": "signup"}, {"key": "signup-funnel", "isGroup": true}]);
    body["primarySingleMetricKey"] = json!("signup");
    body
}

/// The catalog workflow of a user's suite, over HTTP against the real
/// binary on SQLite; then the server is killed and started again on the same
/// data directory, and every change is still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suites_catalog_workflow_survives_a_restart() {
    let dir = temp_dir("catalog");
    let data_dir = dir.to_str().expect("UTF-8 temp dir").to_owned();
    let mut server = Running::start(&["--demo", "--data-dir", &data_dir]);
    let api = Api::new(&server);

    let metric = json!({"key": "signup", "name": "Signed up", "kind": "custom", "eventKey": "signed-up"});
    let (status, created) = api.call(Method::POST, METRICS, Some(metric)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let group = json!({"key": "signup-funnel", "name": "Signup funnel", "kind": "funnel", "maintainerId": "m", "tags": ["signup"],
        "metrics": [{"key": "checkout-pageview", "nameInGroup": "Visit"}, {"key": "signup", "nameInGroup": "Sign up"}]});
    let (status, body) = api.call(Method::POST, GROUPS, Some(group)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (status, flag) = api.call(Method::GET, &format!("{FLAG}?env=production"), None).await;
    assert_eq!(status, StatusCode::OK, "{flag}");
    let version = flag["environments"]["production"]["version"].as_i64().expect("a version");

    let post = json!({"key": "signup-test", "name": "Signup test", "iteration": iteration(version)});
    let (status, body) = api.call(Method::POST, EXPERIMENTS, Some(post)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    for kind in ["turnFlagOff", "turnFlagOn"] {
        let patch =
            json!({"environmentKey": "production", "comment": kind, "instructions": [{"kind": kind}]});
        let (status, body) = api.semantic(FLAG, patch).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, flag) = api.call(Method::GET, FLAG, None).await;
    assert_eq!(flag["environments"]["production"]["version"], version + 2);
    assert_eq!(flag["environments"]["test"]["version"], 3, "only production's targeting changed");

    let iterations = format!("{EXPERIMENTS}/signup-test/iterations");
    let (status, stale) = api.call(Method::POST, &iterations, Some(iteration(version))).await;
    assert_eq!(
        (status, stale["code"].clone()),
        (StatusCode::CONFLICT, json!("optimistic_locking_error")),
        "{stale}"
    );
    let message = stale["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&version.to_string()) && message.contains(&(version + 2).to_string()),
        "{message}"
    );
    let (status, body) = api.call(Method::POST, &iterations, Some(iteration(version + 2))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let start = json!({"instructions": [{"kind": "startIteration"}]});
    let (status, body) = api.call(Method::PATCH, &format!("{EXPERIMENTS}/signup-test"), Some(start)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = api.call(Method::DELETE, &format!("{METRICS}/signup"), None).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid_request")), "{body}");

    // A change that only the restarted server can know about: a new context kind.
    let (status, _) = api
        .call(Method::PUT, "/api/v2/projects/my-project/context-kinds/team", Some(json!({"name": "Team"})))
        .await;
    assert_eq!(status, StatusCode::OK);

    // SIGKILL: no shutdown, no flush. Then a start without --demo: the
    // world and the catalog come from the data directory.
    server.kill();
    drop(server);
    let server = Running::start(&["--data-dir", &data_dir]);
    let api = Api::new(&server);
    let (status, metric) = api.call(Method::GET, &format!("{METRICS}/signup"), None).await;
    assert_eq!((status, metric["_versionId"].clone()), (StatusCode::OK, created["_versionId"].clone()));
    let (status, group) = api.call(Method::GET, &format!("{GROUPS}/signup-funnel"), None).await;
    assert_eq!((status, group["metrics"][1]["nameInGroup"].clone()), (StatusCode::OK, json!("Sign up")));
    let (_, flag) = api.call(Method::GET, FLAG, None).await;
    assert_eq!(flag["environments"]["production"]["version"], version + 2);
    let (_, experiment) = api.call(Method::GET, &format!("{EXPERIMENTS}/signup-test"), None).await;
    assert_eq!(experiment["currentIteration"]["status"], "running");
    assert_eq!(
        experiment["currentIteration"]["flags"]["example-flag-for-experiment"]["flagConfigVersion"],
        version + 2
    );
    let (_, kinds) = api.call(Method::GET, "/api/v2/projects/my-project/context-kinds", None).await;
    assert!(kinds["items"].as_array().into_iter().flatten().any(|k| k["key"] == "team"), "{kinds}");
    // Still in use after the restart: the rule holds on the stored state.
    let (status, _) = api.call(Method::DELETE, &format!("{GROUPS}/signup-funnel"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}
