//! The client against a scripted server: it answers from a queue of canned
//! responses and records when each request arrived, so retries and their
//! waits are observed from the outside.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use iteration_api::client::{
    BaseUrl, Client, ConflictKind, Error, ExperimentFilter, ListParams, RetryPolicy,
};
use iteration_model::{IterationInput, ViolationCode};
use iteration_transport::{Server, ServerConfig, ServerHandle, handler_fn};

#[cfg(feature = "server")]
#[path = "client/layers_holdouts.rs"]
mod layers_holdouts;

const VALID_REQUEST: &str = include_str!("../fixtures/demo-valid-request.json");

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Arrival {
    at: Instant,
    wall: SystemTime,
    method: http::Method,
    uri: String,
    headers: http::HeaderMap,
    body: Bytes,
}

#[derive(Default)]
struct Script {
    responses: Mutex<VecDeque<Response<Bytes>>>,
    arrivals: Mutex<Vec<Arrival>>,
}

struct Scripted {
    handle: ServerHandle,
    script: Arc<Script>,
}

impl Scripted {
    async fn start(responses: Vec<Response<Bytes>>) -> Scripted {
        let script = Arc::new(Script { responses: Mutex::new(responses.into()), ..Script::default() });
        let server = Server::bind("127.0.0.1:0".parse().unwrap(), ServerConfig::default()).await.unwrap();
        let shared = script.clone();
        let handle = server.spawn(handler_fn(move |request: Request<Bytes>| {
            let script = shared.clone();
            async move {
                let (parts, body) = request.into_parts();
                script.arrivals.lock().unwrap().push(Arrival {
                    at: Instant::now(),
                    wall: SystemTime::now(),
                    method: parts.method,
                    uri: parts.uri.to_string(),
                    headers: parts.headers,
                    body,
                });
                let next = script.responses.lock().unwrap().pop_front();
                next.unwrap_or_else(|| {
                    json(500, r#"{"code":"internal_server_error","message":"script ran out"}"#)
                })
            }
        }));
        Scripted { handle, script }
    }

    fn client(&self) -> Client {
        self.builder().build().unwrap()
    }

    fn builder(&self) -> iteration_api::client::ClientBuilder {
        Client::builder()
            .base_url(BaseUrl::Custom(format!("http://{}", self.handle.local_addr())))
            .token("api-test-token")
    }

    fn arrivals(&self) -> Vec<Arrival> {
        self.script.arrivals.lock().unwrap().clone()
    }
}

fn json(status: u16, body: &str) -> Response<Bytes> {
    with_headers(status, &[], body)
}

fn with_headers(status: u16, headers: &[(&str, String)], body: &str) -> Response<Bytes> {
    let mut builder = Response::builder().status(status).header("content-type", "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    builder.body(Bytes::from(body.to_owned())).unwrap()
}

fn rate_limited(headers: &[(&str, String)]) -> Response<Bytes> {
    with_headers(429, headers, r#"{"code":"rate_limited","message":"slow down","id":"r-429"}"#)
}

fn experiment_json(key: &str) -> String {
    format!(
        r#"{{"_id":"id-{key}","key":"{key}","name":"Experiment {key}","_maintainerId":"m","_creationDate":1,
            "environmentKey":"production","_links":{{}}}}"#
    )
}

fn valid_input() -> IterationInput {
    IterationInput::from_json(&serde_json::from_str(VALID_REQUEST).unwrap()).unwrap()
}

fn epoch_millis(at: SystemTime) -> u64 {
    u64::try_from(at.duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

#[tokio::test]
async fn retry_after_is_waited_for() {
    let server = Scripted::start(vec![
        rate_limited(&[("retry-after", "1".to_owned())]),
        json(200, &experiment_json("example-experiment")),
    ])
    .await;
    let experiment = server
        .client()
        .get_experiment("my-project", "production", "example-experiment", Default::default())
        .await
        .unwrap();
    assert_eq!(experiment.key, "example-experiment");
    let arrivals = server.arrivals();
    assert_eq!(arrivals.len(), 2);
    assert!(arrivals[1].at - arrivals[0].at >= Duration::from_secs(1));
}

#[tokio::test]
async fn each_rate_limit_reset_header_is_waited_for_even_on_a_post() {
    for header in ["x-ratelimit-reset", "x-ratelimit-auth-token-reset"] {
        let reset = SystemTime::now() + Duration::from_millis(1200);
        let server = Scripted::start(vec![
            rate_limited(&[(header, epoch_millis(reset).to_string())]),
            json(201, &experiment_json("new-experiment")),
        ])
        .await;
        let post = iteration_model::ExperimentPost::from_json(&serde_json::json!({
            "name": "New", "key": "new-experiment",
            "iteration": serde_json::from_str::<serde_json::Value>(VALID_REQUEST).unwrap(),
        }))
        .unwrap();
        let created = server.client().create_experiment("my-project", "production", &post).await.unwrap();
        assert_eq!(created.key, "new-experiment");
        let arrivals = server.arrivals();
        assert_eq!(arrivals.len(), 2, "{header}");
        // Both instants come from the same wall clock; the reset header is
        // whole milliseconds, so compare at that precision.
        assert!(epoch_millis(arrivals[1].wall) >= epoch_millis(reset), "{header}");
    }
}

#[tokio::test]
async fn a_rate_limit_that_outlasts_the_attempts_reports_its_figures() {
    let headers = [
        ("retry-after", "0".to_owned()),
        ("x-ratelimit-route-limit", "10".to_owned()),
        ("x-ratelimit-route-remaining", "0".to_owned()),
    ];
    let server = Scripted::start(vec![rate_limited(&headers), rate_limited(&headers)]).await;
    let client = server.builder().retry_policy(RetryPolicy::default().with_max_attempts(2)).build().unwrap();
    let error = client.get_experiment("my-project", "production", "x", Default::default()).await.unwrap_err();
    let Error::RateLimited { details, rate_limit } = &error else { panic!("got {error:?}") };
    assert_eq!(details.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(details.code.as_deref(), Some("rate_limited"));
    assert_eq!(details.id.as_deref(), Some("r-429"));
    assert_eq!(rate_limit.route_limit, Some(10));
    assert_eq!(rate_limit.route_remaining, Some(0));
    assert_eq!(rate_limit.retry_after, Some(Duration::ZERO));
    assert!(error.is_retryable());
    assert_eq!(server.arrivals().len(), 2);
}

#[tokio::test]
async fn client_errors_are_never_retried() {
    let cases = [
        (400, "invalid_request"),
        (401, "unauthorized"),
        (403, "forbidden"),
        (404, "not_found"),
        (409, "optimistic_locking_error"),
    ];
    for (status, code) in cases {
        let body = format!(r#"{{"code":"{code}","message":"no","id":"r-{status}"}}"#);
        let server = Scripted::start(vec![json(status, &body), json(200, &experiment_json("x"))]).await;
        let error = server
            .client()
            .create_iteration("my-project", "production", "example-experiment", &valid_input())
            .await
            .unwrap_err();
        assert_eq!(error.status(), StatusCode::from_u16(status).ok());
        assert_eq!(error.details().and_then(|d| d.code.as_deref()), Some(code));
        assert!(!error.is_retryable());
        assert_eq!(server.arrivals().len(), 1, "{status} was retried");
    }
}

#[tokio::test]
async fn a_conflict_is_answered_once_with_its_kind() {
    let body = r#"{"code":"optimistic_locking_error","message":"flagConfigVersion 11 is stale; the flag is at 12","id":"r"}"#;
    let server = Scripted::start(vec![json(409, body)]).await;
    let error = server
        .client()
        .create_iteration("my-project", "production", "example-experiment", &valid_input())
        .await
        .unwrap_err();
    let Error::Conflict { kind, details } = &error else { panic!("got {error:?}") };
    assert_eq!(*kind, ConflictKind::OptimisticLock);
    assert_eq!(details.message.as_deref(), Some("flagConfigVersion 11 is stale; the flag is at 12"));
    assert_eq!(server.arrivals().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_for_reads_only() {
    let unavailable = r#"{"code":"service_unavailable","message":"try later"}"#;
    let server = Scripted::start(vec![json(503, unavailable), json(200, &experiment_json("x"))]).await;
    let read = server.client().get_experiment("my-project", "production", "x", Default::default()).await;
    assert_eq!(read.unwrap().key, "x");
    assert_eq!(server.arrivals().len(), 2);

    let server = Scripted::start(vec![json(503, unavailable), json(200, &experiment_json("x"))]).await;
    let error = server.client().start_iteration("my-project", "production", "x", None).await.unwrap_err();
    let Error::Server(details) = &error else { panic!("got {error:?}") };
    assert_eq!(details.code.as_deref(), Some("service_unavailable"));
    assert!(error.request_may_have_been_sent());
    assert_eq!(server.arrivals().len(), 1);
}

#[tokio::test]
async fn requests_carry_token_version_agent_and_semantic_patch() {
    let server = Scripted::start(vec![json(200, &experiment_json("x"))]).await;
    let client = server.builder().user_agent("my-tool/1.0").build().unwrap();
    client.stop_iteration("my-project", "production", "x", "treatment-1", Some("it won")).await.unwrap();
    let arrival = &server.arrivals()[0];
    let header = |name: &str| arrival.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(arrival.method, http::Method::PATCH);
    assert_eq!(arrival.uri, "/api/v2/projects/my-project/environments/production/experiments/x");
    assert_eq!(header("authorization").as_deref(), Some("api-test-token"));
    assert_eq!(header("ld-api-version").as_deref(), Some("20240415"));
    assert_eq!(header("user-agent").as_deref(), Some("my-tool/1.0"));
    assert_eq!(
        header("content-type").as_deref(),
        Some("application/json; domain-model=launchdarkly.semanticpatch")
    );
    let body: serde_json::Value = serde_json::from_slice(&arrival.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"instructions": [
            {"kind": "stopIteration", "winningTreatmentId": "treatment-1", "winningReason": "it won"}
        ]})
    );
}

#[tokio::test]
async fn invalid_input_is_reported_without_a_request_unless_checks_are_off() {
    let mut body: serde_json::Value = serde_json::from_str(VALID_REQUEST).unwrap();
    body["hypothesis"] = serde_json::json!(" ");
    body["treatments"][1]["allocationPercent"] = serde_json::json!("40");
    let input = IterationInput::from_json(&body).unwrap();

    let server = Scripted::start(vec![json(400, r#"{"code":"invalid_request","message":"bad"}"#)]).await;
    let error = server
        .client()
        .create_iteration("my-project", "production", "example-experiment", &input)
        .await
        .unwrap_err();
    let Error::Validation(violations) = &error else { panic!("got {error:?}") };
    let found: Vec<(&str, ViolationCode)> =
        violations.iter().map(|v| (v.path.as_str(), v.code.clone())).collect();
    assert!(found.contains(&("/hypothesis", ViolationCode::Blank)), "{found:?}");
    assert!(found.iter().any(|(_, code)| *code == ViolationCode::AllocationSum), "{found:?}");
    assert!(!error.request_may_have_been_sent());
    assert_eq!(server.arrivals().len(), 0);

    // A bad path key and a bad body are reported together.
    let error =
        server.client().create_iteration("my-project", "production", "bad key", &input).await.unwrap_err();
    let Error::Validation(violations) = &error else { panic!("got {error:?}") };
    let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
    assert_eq!(paths[..2], ["/experimentKey", "/hypothesis"]);
    assert_eq!(server.arrivals().len(), 0);

    let unchecked = server.builder().validate_before_send(false).build().unwrap();
    let error = unchecked
        .create_iteration("my-project", "production", "example-experiment", &input)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidRequest { .. }), "got {error:?}");
    assert_eq!(server.arrivals().len(), 1);
}

#[tokio::test]
async fn pages_are_walked_until_the_total() {
    let page = |keys: &[&str], offset: usize| {
        let items: Vec<String> = keys.iter().map(|k| experiment_json(k)).collect();
        json(
            200,
            &format!(
                r#"{{"items":[{}],"total_count":3,"_links":{{"self":{{"href":"/o{offset}"}}}}}}"#,
                items.join(",")
            ),
        )
    };
    let server = Scripted::start(vec![page(&["a", "b"], 0), page(&["c"], 2)]).await;
    let client = server.client();
    let params = ListParams {
        limit: Some(2),
        filter: ExperimentFilter { status: Some("running".into()), ..ExperimentFilter::default() },
        ..ListParams::default()
    };
    let mut pages = client.experiments("my-project", Some("production"), params).pages();
    let mut keys = Vec::new();
    while let Some(page) = pages.next().await.unwrap() {
        keys.extend(page.items.into_iter().map(|e| e.key));
    }
    assert_eq!(keys, ["a", "b", "c"]);
    let uris: Vec<String> = server.arrivals().into_iter().map(|a| a.uri).collect();
    assert_eq!(
        uris,
        [
            "/api/v2/projects/my-project/environments/production/experiments?limit=2&offset=0&filter=status:running",
            "/api/v2/projects/my-project/environments/production/experiments?limit=2&offset=2&filter=status:running",
        ]
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error_that_never_left() {
    // Bind then drop a listener so that the port is (almost certainly) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = Client::builder()
        .base_url(BaseUrl::Custom(format!("http://127.0.0.1:{port}")))
        .token("t")
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let error = client.create_iteration("my-project", "production", "x", &valid_input()).await.unwrap_err();
    let Error::Transport(failure) = &error else { panic!("got {error:?}") };
    assert!(failure.is_connect());
    assert!(!error.request_may_have_been_sent());
    assert!(error.is_retryable());
    assert_eq!(error.status(), None);
}
