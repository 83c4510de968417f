//! The server as a test double (docs/behaviour.md section 6): health,
//! the administration API, CORS, and the checks that keep tokens from
//! being guessed.

use std::net::SocketAddr;

use http::{Method, StatusCode};
use iteration_transport::RemoteAddr;
use serde_json::json;

use super::*;

const ADMIN: &str = "api-demo-admin";
const STATE: &str = "/_iteration/state";

impl TestApp {
    /// Sends `body` as JSON with `token`.
    async fn call_as(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.send(request(method, path, token, body.map(|b| b.to_string().into_bytes()))).await
    }

    /// The raw answer, for those without a JSON body.
    async fn raw(&self, request: Request<Bytes>) -> http::Response<Bytes> {
        self.app.handle(request).await
    }

    async fn state(&self) -> Bytes {
        let response = self.raw(request(Method::GET, STATE, ADMIN, None)).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.into_body()
    }

    async fn put_state(&self, world: &[u8]) -> Answer {
        self.send(request(Method::PUT, STATE, ADMIN, Some(world.to_vec()))).await
    }
}

fn unauthenticated(method: Method, path: &str) -> Request<Bytes> {
    Request::builder().method(method).uri(path).body(Bytes::new()).expect("a valid test request")
}

fn from(address: [u8; 4], mut request: Request<Bytes>) -> Request<Bytes> {
    request.extensions_mut().insert(RemoteAddr(SocketAddr::from((address, 40_000))));
    request
}

#[tokio::test]
async fn health_and_readiness_answer_json_without_a_token() {
    let t = TestApp::new().await;
    let health = t.send(unauthenticated(Method::GET, "/healthz")).await;
    assert_eq!((health.status, &health.body), (StatusCode::OK, &json!({"status": "ok"})));
    let ready = t.send(unauthenticated(Method::GET, "/readyz")).await;
    assert_eq!((ready.status, &ready.body), (StatusCode::OK, &json!({"status": "ready"})));
    let wrong = t.send(unauthenticated(Method::POST, "/healthz")).await;
    assert_error(&wrong, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(wrong.headers["allow"], "GET");
}

#[tokio::test]
async fn the_admin_api_answers_401_without_a_token_and_403_to_other_roles() {
    let t = TestApp::new().await;
    for (method, path) in [
        (Method::POST, "/_iteration/reset"),
        (Method::GET, STATE),
        (Method::PUT, STATE),
        (Method::GET, "/_iteration/requests"),
        (Method::DELETE, "/_iteration/requests"),
        (Method::GET, "/_iteration/faults"),
        (Method::PUT, "/_iteration/faults"),
        (Method::DELETE, "/_iteration/faults"),
    ] {
        let none = t.send(unauthenticated(method.clone(), path)).await;
        assert_error(&none, StatusCode::UNAUTHORIZED, "unauthorized");
        for token in [WRITER, READER] {
            let answer = t.call_as(token, method.clone(), path, None).await;
            assert_error(&answer, StatusCode::FORBIDDEN, "forbidden");
        }
    }
    let unknown = t.call_as(ADMIN, Method::GET, "/_iteration/nothing", None).await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "not_found");
    let wrong = t.call_as(ADMIN, Method::POST, STATE, None).await;
    assert_error(&wrong, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(wrong.headers["allow"], "GET, PUT");
}

#[tokio::test]
async fn an_admin_may_do_what_a_writer_may() {
    let t = TestApp::new().await;
    let created =
        t.call_as(ADMIN, Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
}

#[tokio::test]
async fn reset_returns_experiments_and_catalogs_to_the_seed_world() {
    let t = TestApp::new().await;
    let fresh = t.state().await;
    let environment = "/api/v2/projects/my-project/environments/production/experiments";
    let post = json!({"name": "New", "key": "new-experiment", "iteration": valid_request()});
    assert_eq!(t.call(Method::POST, environment, Some(post)).await.status, StatusCode::CREATED);
    assert_eq!(
        t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await.status,
        StatusCode::OK
    );
    let flag = "/api/v2/flags/my-project/example-flag-for-experiment";
    let rename = json!([{"op": "replace", "path": "/name", "value": "Renamed"}]);
    assert_eq!(t.call(Method::PATCH, flag, Some(rename)).await.status, StatusCode::OK);
    assert_ne!(t.state().await, fresh);

    let reset = t.call_as(ADMIN, Method::POST, "/_iteration/reset", None).await;
    assert_eq!((reset.status, &reset.body), (StatusCode::OK, &json!({"status": "reset"})));
    assert_eq!(t.state().await, fresh);
    let gone = t.call(Method::GET, &format!("{environment}/new-experiment"), None).await;
    assert_error(&gone, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(t.call(Method::GET, flag, None).await.body["name"], "Example flag for experiment");
}

#[tokio::test]
async fn the_state_is_a_world_file_that_starts_a_server_in_the_same_state() {
    let t = TestApp::new().await;
    assert_eq!(
        t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await.status,
        StatusCode::OK
    );
    let start = json!({"instructions": [{"kind": "startIteration", "changeJustification": "go"}]});
    assert_eq!(t.call(Method::PATCH, EXPERIMENT, Some(start)).await.status, StatusCode::OK);
    let state = t.state().await;
    let document: Value = serde_json::from_slice(&state).expect("the state is JSON");
    assert_eq!(document["formatVersion"], 2);
    assert_eq!(document["projects"][0]["catalog"]["key"], "my-project");

    let world = World::from_json(&state).expect("the state is a valid world file");
    let restarted = TestApp::with_world(world, RateLimits::OFF).await;
    assert_eq!(restarted.state().await, state);
    let path = format!("{EXPERIMENT}?expand=previousIterations,draftIteration");
    assert_eq!(
        restarted.call(Method::GET, &path, None).await.body,
        t.call(Method::GET, &path, None).await.body
    );
}

/// Export, import, export gives the same bytes, whatever state the
/// requests leave: each seed runs a different random sequence of writes.
#[tokio::test]
async fn export_import_export_is_byte_identical_for_random_histories() {
    for seed in 0..12 {
        let t = TestApp::new().await;
        let mut rng = fastrand::Rng::with_seed(seed);
        for step in 0..rng.usize(1..8) {
            let key = format!("e{seed}-{step}");
            let environment = "/api/v2/projects/my-project/environments/production/experiments";
            let (method, path, body) = match rng.u8(0..5) {
                0 => (
                    Method::POST,
                    environment.to_owned(),
                    json!({"name": key, "key": key, "iteration": valid_request()}),
                ),
                1 => (Method::POST, format!("{EXPERIMENT}/iterations"), valid_request()),
                2 => (
                    Method::PATCH,
                    EXPERIMENT.to_owned(),
                    json!({"instructions": [{"kind": "startIteration", "changeJustification": "x"}]}),
                ),
                3 => (
                    Method::PATCH,
                    EXPERIMENT.to_owned(),
                    json!({"instructions": [{"kind": "updateName", "value": key}]}),
                ),
                _ => (
                    Method::PATCH,
                    "/api/v2/metrics/my-project/metric-key-123abc".to_owned(),
                    json!([{"op": "replace", "path": "/name", "value": key}]),
                ),
            };
            t.call(method, &path, Some(body)).await;
        }
        let first = t.state().await;
        let imported = t.put_state(&first).await;
        assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
        let second = t.state().await;
        assert_eq!(second, first, "seed {seed}");
        let other = TestApp::new().await;
        assert_eq!(other.put_state(&first).await.status, StatusCode::OK);
        assert_eq!(other.state().await, first, "seed {seed}");
    }
}

#[tokio::test]
async fn put_state_lists_every_problem_with_its_path_and_changes_nothing() {
    let t = TestApp::new().await;
    let before = t.state().await;
    let world = json!({
        "formatVersion": 2,
        "tokens": [{"token": "t", "role": "owner"}],
        "projects": [{"key": "p", "name": "P", "environments": [{"key": "e", "name": "E"}],
                      "flags": [], "catalog": {"oops": true}}]
    });
    let answer = t.put_state(world.to_string().as_bytes()).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    let paths = error_paths(&answer.body);
    assert_eq!(
        paths,
        [
            ("/tokens/0".to_owned(), "invalid_world".to_owned()),
            ("/projects/0/catalog".to_owned(), "invalid_world".to_owned()),
        ],
        "{}",
        answer.body
    );
    let not_json = t.put_state(b"{").await;
    assert_error(&not_json, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(t.state().await, before);
}

#[tokio::test]
async fn put_state_replaces_tokens_and_projects_and_reset_restores_the_seed() {
    let t = TestApp::new().await;
    let fresh = t.state().await;
    let world = json!({
        "formatVersion": 2,
        "tokens": [{"token": "other-admin", "role": "admin", "name": "Other"}],
        "projects": [{"key": "other", "name": "Other", "environments": [{"key": "dev", "name": "Dev"}]}]
    });
    let answer = t.put_state(world.to_string().as_bytes()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["projects"][0]["key"], "other");
    let old_token = t.call(Method::GET, EXPERIMENT, None).await;
    assert_error(&old_token, StatusCode::UNAUTHORIZED, "unauthorized");
    let listed = t
        .call_as("other-admin", Method::GET, "/api/v2/projects/other/environments/dev/experiments", None)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let reset = t.call_as("other-admin", Method::POST, "/_iteration/reset", None).await;
    assert_eq!(reset.status, StatusCode::OK);
    assert_eq!(t.state().await, fresh);
}

#[tokio::test]
async fn the_journal_lists_requests_newest_first_with_token_names_and_write_bodies() {
    let t = TestApp::new().await;
    t.call(Method::GET, EXPERIMENT, None).await;
    t.call_as(READER, Method::POST, &format!("{EXPERIMENT}/iterations"), Some(json!({"hypothesis": "h"})))
        .await;
    t.send(unauthenticated(Method::GET, EXPERIMENT)).await;
    let journal = t.call_as(ADMIN, Method::GET, "/_iteration/requests", None).await;
    assert_eq!(journal.status, StatusCode::OK);
    let items = journal.body["items"].as_array().expect("items");
    let summary: Vec<_> = items
        .iter()
        .map(|e| (e["method"].as_str(), e["operationId"].as_str(), e["status"].as_u64(), e["token"].as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (Some("GET"), Some("getExperiment"), Some(401), None),
            (Some("POST"), Some("createIteration"), Some(403), Some("Demo reader")),
            (Some("GET"), Some("getExperiment"), Some(200), Some("Demo writer")),
        ]
    );
    assert_eq!(items[1]["body"], r#"{"hypothesis":"h"}"#);
    assert_eq!(items[1]["path"], format!("{EXPERIMENT}/iterations"));
    assert_eq!(items[2].get("body"), None);
    assert_eq!(items[0]["time"], NOW.get());
    assert_eq!(items[0]["requestId"].as_str().map(str::len), Some(36));
    assert!(!journal.body.to_string().contains("api-demo-"), "no secret is journaled");

    let filtered =
        t.call_as(ADMIN, Method::GET, "/_iteration/requests?operation=getExperiment&status=200", None).await;
    assert_eq!(filtered.body["items"].as_array().map(Vec::len), Some(1));
    let limited = t.call_as(ADMIN, Method::GET, "/_iteration/requests?limit=2", None).await;
    assert_eq!(limited.body["items"].as_array().map(Vec::len), Some(2));
    let bad = t.call_as(ADMIN, Method::GET, "/_iteration/requests?limit=0", None).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "invalid_request");

    let cleared = t.raw(request(Method::DELETE, "/_iteration/requests", ADMIN, None)).await;
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    let empty = t.call_as(ADMIN, Method::GET, "/_iteration/requests", None).await;
    assert_eq!(empty.body["items"], json!([]));
}

#[tokio::test]
async fn faults_answer_their_status_in_the_error_format_and_count_down() {
    let t = TestApp::new().await;
    let rules =
        json!([{"operation": "getExperiment", "method": "GET", "status": 503, "times": 2, "latencyMs": 1}]);
    let set = t.call_as(ADMIN, Method::PUT, "/_iteration/faults", Some(rules)).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    for _ in 0..2 {
        let failed = t.call(Method::GET, EXPERIMENT, None).await;
        assert_error(&failed, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
        assert_eq!(failed.headers["retry-after"], "1");
    }
    assert_eq!(t.call(Method::GET, EXPERIMENT, None).await.status, StatusCode::OK);
    assert_eq!(t.call_as(ADMIN, Method::GET, "/_iteration/faults", None).await.body["items"], json!([]));

    let forever = json!([{"status": 500}]);
    t.call_as(ADMIN, Method::PUT, "/_iteration/faults", Some(forever)).await;
    let failed = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    assert_error(&failed, StatusCode::INTERNAL_SERVER_ERROR, "internal_server_error");
    let cleared = t.raw(request(Method::DELETE, "/_iteration/faults", ADMIN, None)).await;
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    assert_eq!(t.call(Method::GET, EXPERIMENT, None).await.status, StatusCode::OK);

    let invalid = json!([{"status": 200}, {"status": 500, "probability": -1}]);
    let refused = t.call_as(ADMIN, Method::PUT, "/_iteration/faults", Some(invalid)).await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(
        error_paths(&refused.body),
        [
            ("/0/status".to_owned(), "invalid_fault".to_owned()),
            ("/1/probability".to_owned(), "invalid_fault".to_owned())
        ]
    );
}

#[tokio::test]
async fn cors_echoes_the_origin_or_allows_any() {
    let t = TestApp::new().await;
    let mut with_origin = request(Method::GET, EXPERIMENT, WRITER, None);
    with_origin.headers_mut().insert("origin", "https://example.test".parse().expect("a header value"));
    let answer = t.send(with_origin).await;
    assert_eq!(answer.headers["access-control-allow-origin"], "https://example.test");
    assert_eq!(answer.headers["vary"], "Origin");
    let answer = t.send(unauthenticated(Method::GET, EXPERIMENT)).await;
    assert_eq!(answer.headers["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn a_preflight_on_any_api_path_answers_without_a_token() {
    let t = TestApp::new().await;
    for path in [EXPERIMENT, "/api/v2/flags/my-project", "/api/v2/no-such-thing"] {
        let mut preflight = unauthenticated(Method::OPTIONS, path);
        let headers = preflight.headers_mut();
        headers.insert("origin", "https://example.test".parse().expect("a header value"));
        headers.insert("access-control-request-method", "PATCH".parse().expect("a header value"));
        let answer = t.raw(preflight).await;
        assert_eq!(answer.status(), StatusCode::NO_CONTENT, "{path}");
        let header = |name: &str| answer.headers()[name].to_str().unwrap_or("").to_owned();
        assert_eq!(header("access-control-allow-origin"), "https://example.test");
        assert_eq!(header("access-control-allow-methods"), "OPTIONS, GET, HEAD, POST, PUT, PATCH, DELETE");
        assert!(header("access-control-allow-headers").contains("Authorization"));
        assert!(header("access-control-allow-headers").contains("LD-API-Version"));
        assert_eq!(header("access-control-max-age"), "300");
    }
}

#[tokio::test]
async fn two_authorization_headers_are_401() {
    let t = TestApp::new().await;
    let mut twice = request(Method::GET, EXPERIMENT, WRITER, None);
    twice.headers_mut().append("authorization", WRITER.parse().expect("a header value"));
    let answer = t.send(twice).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(answer.body["message"], "more than one Authorization header; send the access token once");
}

#[tokio::test]
async fn the_global_limit_is_shared_by_every_token_and_sends_its_headers() {
    let limits = RateLimits { global: Some(2), ..RateLimits::OFF };
    let t = TestApp::with_limits(limits).await;
    t.clock.set(UnixMillis(1_700_000_002_500));
    let first = t.call(Method::GET, EXPERIMENT, None).await;
    assert_eq!(first.headers["x-ratelimit-global-limit"], "2");
    assert_eq!(first.headers["x-ratelimit-global-remaining"], "1");
    assert_eq!(first.headers["x-ratelimit-reset"], "1700000010000");
    assert_eq!(t.call_as(READER, Method::GET, EXPERIMENT, None).await.status, StatusCode::OK);
    let third = t.call_as(ADMIN, Method::GET, EXPERIMENT, None).await;
    assert_error(&third, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(third.headers["retry-after"], "8");
}

#[tokio::test]
async fn refused_tokens_are_limited_per_client_address_with_retry_after() {
    let limits = RateLimits { unauthenticated: Some(3), ..RateLimits::OFF };
    let t = TestApp::with_limits(limits).await;
    t.clock.set(UnixMillis(1_700_000_002_500));
    let guesser = [192, 0, 2, 1];
    for _ in 0..3 {
        let answer = t.send(from(guesser, request(Method::GET, EXPERIMENT, "guess", None))).await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    // Blocked whatever the token, so that a right guess does not show.
    for token in ["guess", WRITER] {
        let answer = t.send(from(guesser, request(Method::GET, EXPERIMENT, token, None))).await;
        assert_error(&answer, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        assert_eq!(answer.headers["retry-after"], "8");
    }
    let other = t.send(from([192, 0, 2, 2], request(Method::GET, EXPERIMENT, WRITER, None))).await;
    assert_eq!(other.status, StatusCode::OK);
    t.clock.advance(7_500);
    let later = t.send(from(guesser, request(Method::GET, EXPERIMENT, WRITER, None))).await;
    assert_eq!(later.status, StatusCode::OK);
}
