//! The live catalog through the API: flags, metrics, metric groups, context
//! kinds and experimentation settings, and how experiments see their changes.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::*;

const FLAGS: &str = "/api/v2/flags/my-project";
const FLAG: &str = "/api/v2/flags/my-project/example-flag-for-experiment";
const METRICS: &str = "/api/v2/metrics/my-project";
const GROUPS: &str = "/api/v2/projects/my-project/metric-groups";
const EXPERIMENTS: &str = "/api/v2/projects/my-project/environments/production/experiments";
const SETTINGS: &str = "/api/v2/projects/my-project/experimentation-settings";

impl TestApp {
    /// Sends a request whose answer may have no body (a 204).
    async fn call_any(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let response =
            self.app.handle(request(method, path, WRITER, body.map(|b| b.to_string().into_bytes()))).await;
        let body = if response.body().is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(response.body()).expect("a body is JSON")
        };
        (response.status(), body)
    }

    async fn semantic(&self, path: &str, body: Value) -> Answer {
        let bytes = body.to_string().into_bytes();
        let mut request = request(Method::PATCH, path, WRITER, Some(bytes));
        request.headers_mut().insert(
            "content-type",
            "application/json; domain-model=launchdarkly.semanticpatch".parse().expect("a header value"),
        );
        self.send(request).await
    }
}

fn turn(on: bool) -> Value {
    let kind = if on { "turnFlagOn" } else { "turnFlagOff" };
    json!({"environmentKey": "production", "instructions": [{"kind": kind}]})
}

fn iteration_with(version: i64, metrics: Value, primary: &str) -> Value {
    let mut body = valid_request();
    body["flags"]["example-flag-for-experiment"]["flagConfigVersion"] = json!(version);
    body["metrics"] = metrics;
    body["primarySingleMetricKey"] = json!(primary);
    body
}

/// The workflow a user's suite runs against the catalog, end to end.
#[tokio::test]
async fn a_suite_sets_up_its_catalog_and_experiment_and_sees_flag_versions_move() {
    let t = TestApp::new().await;
    let metric = t
        .call(
            Method::POST,
            METRICS,
            Some(json!({"key": "signup", "kind": "custom", "eventKey": "signed-up", "isNumeric": false})),
        )
        .await;
    assert_eq!(metric.status, StatusCode::CREATED, "{}", metric.body);
    assert_eq!(metric.body["randomizationUnits"], json!(["user"]));
    let group = t
        .call(
            Method::POST,
            GROUPS,
            Some(json!({"key": "signup-funnel", "name": "Signup funnel", "kind": "funnel", "maintainerId": "m", "tags": [],
                "metrics": [{"key": "checkout-pageview", "nameInGroup": "Visit"}, {"key": "signup", "nameInGroup": "Sign up"}]})),
        )
        .await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);

    let flag = t.call(Method::GET, FLAG, None).await;
    assert_eq!(flag.status, StatusCode::OK);
    let version = flag.body["environments"]["production"]["version"].as_i64().expect("a version");
    assert_eq!(version, 12);

    let metrics = json!([{"key": "signup"}, {"key": "signup-funnel", "isGroup": true}]);
    let post = json!({"key": "signup-test", "name": "Signup test", "iteration": iteration_with(version, metrics.clone(), "signup")});
    let created = t.call(Method::POST, EXPERIMENTS, Some(post)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["draftIteration"]["metrics"][1]["metrics"][1]["nameInGroup"], "Sign up");

    for on in [false, true] {
        let patched = t.semantic(FLAG, turn(on)).await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
        assert_eq!(patched.body["environments"]["production"]["on"], on);
    }
    let now = t.call(Method::GET, FLAG, None).await.body["environments"]["production"]["version"].clone();
    assert_eq!(now, json!(version + 2));

    let iterations = format!("{EXPERIMENTS}/signup-test/iterations");
    let stale =
        t.call(Method::POST, &iterations, Some(iteration_with(version, metrics.clone(), "signup"))).await;
    assert_error(&stale, StatusCode::CONFLICT, "optimistic_locking_error");
    let message = stale.body["message"].as_str().unwrap_or_default();
    assert!(message.contains("12") && message.contains("14"), "{message}");

    let fresh = t.call(Method::POST, &iterations, Some(iteration_with(version + 2, metrics, "signup"))).await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.body);
    assert_eq!(fresh.body["flags"]["example-flag-for-experiment"]["flagConfigVersion"], 14);

    let started = t
        .call(
            Method::PATCH,
            &format!("{EXPERIMENTS}/signup-test"),
            Some(json!({"instructions": [{"kind": "startIteration"}]})),
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    assert_eq!(started.body["currentIteration"]["status"], "running");

    let (status, body) = t.call_any(Method::DELETE, &format!("{METRICS}/signup"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["code"], "in_use");
    let (status, body) = t.call_any(Method::DELETE, &format!("{GROUPS}/signup-funnel"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap_or_default().contains("signup-test"), "{body}");
}

#[tokio::test]
async fn a_new_flag_starts_off_at_version_1_in_every_environment() {
    let t = TestApp::new().await;
    let created = t.call(Method::POST, FLAGS, Some(json!({"key": "new-flag", "name": "New flag"}))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let flag = &created.body;
    assert_eq!((flag["kind"].clone(), flag["_version"].clone()), (json!("boolean"), json!(1)));
    assert_eq!(flag["variations"].as_array().map(Vec::len), Some(2));
    assert_eq!(flag["variations"][0]["value"], true);
    for environment in ["production", "test"] {
        let config = &flag["environments"][environment];
        assert_eq!(
            (config["on"].clone(), config["version"].clone()),
            (json!(false), json!(1)),
            "{environment}"
        );
        assert_eq!(config["fallthrough"]["variation"], 0);
        assert_eq!(config["offVariation"], 1);
    }
    let again = t.call(Method::POST, FLAGS, Some(json!({"key": "new-flag", "name": "Again"}))).await;
    assert_error(&again, StatusCode::CONFLICT, "key_exists");
    let got = t.call(Method::GET, &format!("{FLAGS}/new-flag?env=test"), None).await;
    assert_eq!(got.body["environments"].as_object().map(|e| e.len()), Some(1));
}

#[tokio::test]
async fn a_flag_body_reports_every_problem_with_its_path() {
    let t = TestApp::new().await;
    let answer =
        t.call(Method::POST, FLAGS, Some(json!({"name": 3, "variations": [{"value": 1}, {}]}))).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(
        error_paths(&answer.body),
        [
            ("/name".to_owned(), "wrong_type".to_owned()),
            ("/key".to_owned(), "missing_field".to_owned()),
            ("/variations/1/value".to_owned(), "missing_field".to_owned()),
        ]
    );
    let answer = t
        .call(
            Method::POST,
            FLAGS,
            Some(json!({"key": "bad key", "name": " ", "variations": [{"value": "a"}, {"value": "a"}]})),
        )
        .await;
    let paths: Vec<String> = error_paths(&answer.body).into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["/key", "/name", "/variations/1/value"]);
}

#[tokio::test]
async fn environment_instructions_move_only_that_environments_version() {
    let t = TestApp::new().await;
    let off = t.semantic(FLAG, turn(false)).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    let environments = &off.body["environments"];
    assert_eq!(
        (environments["production"]["version"].clone(), environments["test"]["version"].clone()),
        (json!(13), json!(3))
    );
    assert_eq!(off.body["_version"], 2);
    assert_eq!(environments["production"]["lastModified"], json!(NOW.0));

    let renamed =
        t.semantic(FLAG, json!({"instructions": [{"kind": "updateName", "value": "Renamed"}]})).await;
    assert_eq!(renamed.body["name"], "Renamed");
    assert_eq!(renamed.body["_version"], 3);
    assert_eq!(renamed.body["environments"]["production"]["version"], 13);

    // A change of the variations moves every environment.
    let patch =
        json!({"patch": [{"op": "replace", "path": "/variations/2/value", "value": "bottom-button"}]});
    let varied = t.call(Method::PATCH, FLAG, Some(patch)).await;
    assert_eq!(varied.status, StatusCode::OK, "{}", varied.body);
    let environments = &varied.body["environments"];
    assert_eq!(
        (environments["production"]["version"].clone(), environments["test"]["version"].clone()),
        (json!(14), json!(4))
    );
}

#[tokio::test]
async fn a_semantic_patch_applies_whole_or_not_at_all() {
    let t = TestApp::new().await;
    let answer = t
        .semantic(
            FLAG,
            json!({"environmentKey": "production", "instructions": [
                {"kind": "turnFlagOff"},
                {"kind": "removeRule", "ruleId": "no-such-rule"},
                {"kind": "updateOffVariation", "variationId": "nope"},
                {"kind": "explode"}
            ]}),
        )
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(
        error_paths(&answer.body),
        [
            ("/instructions/1/ruleId".to_owned(), "unknown_rule".to_owned()),
            ("/instructions/2/variationId".to_owned(), "unknown_variation".to_owned()),
            ("/instructions/3/kind".to_owned(), "unknown_instruction".to_owned()),
        ]
    );
    let flag = t.call(Method::GET, FLAG, None).await;
    assert_eq!(flag.body["environments"]["production"]["on"], true);
    assert_eq!(flag.body["_version"], 1);

    let no_environment = t.semantic(FLAG, json!({"instructions": [{"kind": "turnFlagOn"}]})).await;
    assert_eq!(
        error_paths(&no_environment.body),
        [("/environmentKey".to_owned(), "missing_field".to_owned())]
    );
}

#[tokio::test]
async fn a_rule_added_by_semantic_patch_can_be_an_iterations_rule() {
    let t = TestApp::new().await;
    let added = t
        .semantic(
            FLAG,
            json!({"environmentKey": "production", "instructions": [{"kind": "addRule", "description": "Beta testers",
                "variationId": "6c5a1c1e-8a43-4d5f-9a1c-3b6f0d2e7a10",
                "clauses": [{"contextKind": "user", "attribute": "beta", "op": "in", "values": [true], "negate": false}]}]}),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let rule = &added.body["environments"]["production"]["rules"][1];
    assert_eq!((rule["description"].clone(), rule["variation"].clone()), (json!("Beta testers"), json!(1)));
    let rule_id = rule["_id"].as_str().expect("a fresh rule id").to_owned();

    let mut body = valid_request();
    body["flags"]["example-flag-for-experiment"]["ruleId"] = json!(rule_id);
    body["flags"]["example-flag-for-experiment"]["flagConfigVersion"] = json!(13);
    let created = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(body)).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(
        created.body["flags"]["example-flag-for-experiment"]["targetingRuleDescription"],
        "Beta testers"
    );
}

#[tokio::test]
async fn a_json_patch_cannot_change_what_the_server_keeps() {
    let t = TestApp::new().await;
    let answer = t
        .call(
            Method::PATCH,
            FLAG,
            Some(json!([{"op": "replace", "path": "/key", "value": "x"}, {"op": "replace", "path": "/environments/production/version", "value": 99}])),
        )
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(
        error_paths(&answer.body),
        [("/0".to_owned(), "not_allowed".to_owned()), ("/1".to_owned(), "not_allowed".to_owned())]
    );
    let broken = t
        .call(
            Method::PATCH,
            FLAG,
            Some(json!([{"op": "replace", "path": "/environments/production/offVariation", "value": 7}])),
        )
        .await;
    assert_eq!(
        error_paths(&broken.body),
        [("/environments/production/offVariation".to_owned(), "unknown_variation".to_owned())]
    );
}

#[tokio::test]
async fn a_flag_in_use_cannot_be_deleted_and_an_archived_one_cannot_start() {
    let t = TestApp::new().await;
    let created = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    assert_eq!(created.status, StatusCode::OK);
    let (status, body) = t.call_any(Method::DELETE, FLAG, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap_or_default().contains("example-experiment"), "{body}");

    let archived = t.semantic(FLAG, json!({"instructions": [{"kind": "archiveFlag"}]})).await;
    assert_eq!(archived.body["archived"], true);
    let start = t.patch(json!([{"kind": "startIteration"}])).await;
    assert_error(&start, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(start.body["message"].as_str().unwrap_or_default().contains("archived"), "{}", start.body);

    let (status, _) = t.call_any(Method::DELETE, &format!("{FLAGS}/example-flag-key"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let gone = t.call(Method::GET, &format!("{FLAGS}/example-flag-key"), None).await;
    assert_error(&gone, StatusCode::NOT_FOUND, "not_found");
    let listed = t.call(Method::GET, FLAGS, None).await;
    assert_eq!(listed.body["totalCount"], 0, "archived flags are listed only on request: {}", listed.body);
    let archived = t.call(Method::GET, &format!("{FLAGS}?filter=state:archived"), None).await;
    assert_eq!(archived.body["totalCount"], 2);
}

#[tokio::test]
async fn a_metric_post_reports_every_rule_it_breaks() {
    let t = TestApp::new().await;
    let answer = t
        .call(Method::POST, METRICS, Some(json!({"key": "clicks", "kind": "click", "randomizationUnits": ["device", "user"], "unit": "ms"})))
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(
        error_paths(&answer.body),
        [
            ("/selector".to_owned(), "missing_field".to_owned()),
            ("/urls".to_owned(), "missing_field".to_owned()),
            ("/unit".to_owned(), "not_allowed".to_owned()),
            ("/randomizationUnits/0".to_owned(), "context_kind_not_for_experiments".to_owned()),
        ]
    );
    let custom = t.call(Method::POST, METRICS, Some(json!({"key": "k", "kind": "custom"}))).await;
    assert_eq!(error_paths(&custom.body), [("/eventKey".to_owned(), "missing_field".to_owned())]);
    let percentile = t
        .call(Method::POST, METRICS, Some(json!({"key": "k", "kind": "trace", "eventKey": "e", "isNumeric": true, "analysisType": "percentile"})))
        .await;
    assert_eq!(error_paths(&percentile.body), [("/percentileValue".to_owned(), "missing_field".to_owned())]);
    let duplicate = t
        .call(
            Method::POST,
            METRICS,
            Some(json!({"key": "metric-key-123abc", "kind": "custom", "eventKey": "e"})),
        )
        .await;
    assert_error(&duplicate, StatusCode::CONFLICT, "key_exists");
}

#[tokio::test]
async fn an_iteration_keeps_the_metric_as_it_was_when_created() {
    let t = TestApp::new().await;
    let created = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    assert_eq!(created.status, StatusCode::OK);
    let path = format!("{METRICS}/metric-key-123abc");
    let renamed = t
        .call(Method::PATCH, &path, Some(json!([{"op": "replace", "path": "/name", "value": "Renamed"}])))
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_ne!(renamed.body["_versionId"], "version-id-123abc");
    assert_eq!(renamed.body["_version"], 2);

    let experiment = t.call(Method::GET, &format!("{EXPERIMENT}?expand=draftIteration"), None).await;
    let draft = &experiment.body["draftIteration"];
    assert_eq!(draft["primarySingleMetric"]["name"], "Example metric");
    assert_eq!(draft["primarySingleMetric"]["_versionId"], "version-id-123abc");
    // The group that holds it shows it as it now is.
    let group = t.call(Method::GET, &format!("{GROUPS}/metric-group-key-123abc"), None).await;
    assert_eq!(group.body["metrics"][0]["name"], "Renamed");

    let kind = t
        .call(Method::PATCH, &path, Some(json!([{"op": "replace", "path": "/kind", "value": "click"}])))
        .await;
    assert_error(&kind, StatusCode::BAD_REQUEST, "invalid_request");
    let (status, body) = t.call_any(Method::DELETE, &path, None).await;
    assert_eq!((status, body["errors"][0]["code"].clone()), (StatusCode::BAD_REQUEST, json!("in_use")));
}

#[tokio::test]
async fn metric_lists_filter_page_and_expand() {
    let t = TestApp::new().await;
    let numeric = t.call(Method::GET, &format!("{METRICS}?filter=isNumeric%20equals%20true"), None).await;
    let keys: Vec<&str> =
        numeric.body["items"].as_array().into_iter().flatten().filter_map(|m| m["key"].as_str()).collect();
    assert_eq!(keys, ["metric-key-123abc", "org-revenue"]);
    let page = t.call(Method::GET, &format!("{METRICS}?limit=1&offset=1"), None).await;
    assert_eq!(
        (page.body["totalCount"].clone(), page.body["items"][0]["key"].clone()),
        (json!(4), json!("checkout-pageview"))
    );
    assert!(page.body["_links"]["next"]["href"].as_str().is_some_and(|h| h.contains("offset=2")));
    let expanded = t
        .call(
            Method::GET,
            &format!("{METRICS}/buy-button-click?expand=metricGroupCount,experimentCount"),
            None,
        )
        .await;
    assert_eq!(
        (expanded.body["metricGroupCount"].clone(), expanded.body["experimentCount"].clone()),
        (json!(2), json!(0))
    );
    let bad = t.call(Method::GET, &format!("{METRICS}?filter=color%20equals%20red"), None).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn metric_groups_need_existing_distinct_members() {
    let t = TestApp::new().await;
    let answer = t
        .call(
            Method::POST,
            GROUPS,
            Some(json!({"key": "g", "name": "G", "kind": "funnel", "maintainerId": "m", "tags": [],
                "metrics": [{"key": "nope", "nameInGroup": "a"}, {"key": "buy-button-click", "nameInGroup": "b"}, {"key": "buy-button-click", "nameInGroup": "c"}]})),
        )
        .await;
    assert_eq!(
        error_paths(&answer.body),
        [
            ("/metrics/0/key".to_owned(), "unknown_metric".to_owned()),
            ("/metrics/2/key".to_owned(), "duplicate".to_owned())
        ]
    );
    let short = t
        .call(Method::POST, GROUPS, Some(json!({"key": "g", "name": "G", "kind": "funnel", "maintainerId": "m", "tags": [], "metrics": [{"key": "buy-button-click", "nameInGroup": "b"}]})))
        .await;
    assert_eq!(error_paths(&short.body), [("/metrics".to_owned(), "too_few".to_owned())]);
    let (status, _) = t.call_any(Method::DELETE, &format!("{GROUPS}/checkout-guardrails"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let listed = t.call(Method::GET, GROUPS, None).await;
    assert_eq!(listed.body["totalCount"], 1);
}

#[tokio::test]
async fn settings_choose_the_default_unit_of_new_iterations() {
    let t = TestApp::new().await;
    let settings = t.call(Method::GET, SETTINGS, None).await;
    assert_eq!(
        settings.body["randomizationUnits"][0],
        json!({"randomizationUnit": "user", "default": true, "_hidden": false, "_displayName": "User"})
    );

    let bad = t
        .call(Method::PUT, SETTINGS, Some(json!({"randomizationUnits": [{"randomizationUnit": "team"}, {"randomizationUnit": "user"}, {"randomizationUnit": "user"}]})))
        .await;
    assert_eq!(
        error_paths(&bad.body),
        [
            ("/randomizationUnits/0/randomizationUnit".to_owned(), "unknown_context_kind".to_owned()),
            ("/randomizationUnits/2/randomizationUnit".to_owned(), "duplicate".to_owned()),
            ("/randomizationUnits".to_owned(), "not_allowed".to_owned()),
        ]
    );
    let put = t
        .call(Method::PUT, SETTINGS, Some(json!({"randomizationUnits": [{"randomizationUnit": "user"}, {"randomizationUnit": "organization", "default": true}]})))
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);

    let mut body = valid_request();
    body.as_object_mut().map(|b| b.remove("randomizationUnit"));
    body["metrics"] = json!([{"key": "org-revenue"}]);
    body["primarySingleMetricKey"] = json!("org-revenue");
    let created = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(body)).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.body["randomizationUnit"], "organization");
}

#[tokio::test]
async fn context_kinds_are_created_and_updated_by_put() {
    let t = TestApp::new().await;
    let put = t
        .call(Method::PUT, "/api/v2/projects/my-project/context-kinds/team", Some(json!({"name": "Team"})))
        .await;
    assert_eq!((put.status, put.body["status"].clone()), (StatusCode::OK, json!("success")));
    let again = t
        .call(
            Method::PUT,
            "/api/v2/projects/my-project/context-kinds/team",
            Some(json!({"name": "Teams", "description": "Groups"})),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let listed = t.call(Method::GET, "/api/v2/projects/my-project/context-kinds", None).await;
    let team = listed.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|k| k["key"] == "team")
        .cloned()
        .expect("team");
    assert_eq!(
        (team["name"].clone(), team["version"].clone(), team["createdFrom"].clone()),
        (json!("Teams"), json!(2), json!("manual"))
    );
    // A metric may not be measured by a kind that is not enabled for experiments.
    let metric = t
        .call(
            Method::POST,
            METRICS,
            Some(json!({"key": "k", "kind": "custom", "eventKey": "e", "randomizationUnits": ["team"]})),
        )
        .await;
    assert_eq!(
        error_paths(&metric.body),
        [("/randomizationUnits/0".to_owned(), "context_kind_not_for_experiments".to_owned())]
    );
    let archive_user = t
        .call(
            Method::PUT,
            "/api/v2/projects/my-project/context-kinds/user",
            Some(json!({"name": "User", "archived": true})),
        )
        .await;
    assert_error(&archive_user, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn a_reader_may_read_the_catalog_but_not_change_it() {
    let t = TestApp::new().await;
    for path in [FLAGS, FLAG, METRICS, GROUPS, SETTINGS, "/api/v2/projects/my-project/context-kinds"] {
        let answer = t.send(request(Method::GET, path, READER, None)).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
    }
    let body = json!({"key": "k", "name": "K"}).to_string().into_bytes();
    let answer = t.send(request(Method::POST, FLAGS, READER, Some(body))).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "forbidden");
    let unknown = t.call(Method::GET, "/api/v2/flags/nope", None).await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "not_found");
}

/// Flag changes racing create iterations on the flag's version: every
/// iteration that was created holds the version the flag had when it was
/// stored, so none names a version that had already been replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_iteration_is_created_against_a_replaced_flag_version() {
    let t = std::sync::Arc::new(TestApp::new().await);
    for round in 0..20 {
        let version = 12 + round;
        let flagger = std::sync::Arc::clone(&t);
        let flag = tokio::spawn(async move { flagger.semantic(FLAG, turn(round % 2 == 1)).await.status });
        let creator = std::sync::Arc::clone(&t);
        let mut body = valid_request();
        body["flags"]["example-flag-for-experiment"]["flagConfigVersion"] = json!(version);
        let create = tokio::spawn(async move {
            creator.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(body)).await
        });
        assert_eq!(flag.await.expect("the flag task"), StatusCode::OK);
        let created = create.await.expect("the create task");
        match created.status {
            // It was stored before the flag changed: it names the version that was current then.
            StatusCode::OK => {
                assert_eq!(created.body["flags"]["example-flag-for-experiment"]["flagConfigVersion"], version)
            }
            StatusCode::CONFLICT => {
                let message = created.body["message"].as_str().unwrap_or_default().to_owned();
                assert!(message.contains(&(version + 1).to_string()), "{message}");
            }
            other => panic!("round {round}: {other} {}", created.body),
        }
    }
}
