//! Layers and holdouts (`docs/behaviour.md` section 5): the two workflows a
//! suite runs, then each rule on its own.

use http::{Method, StatusCode};
use serde_json::json;

use super::*;

const PROJECT: &str = "/api/v2/projects/my-project";
const ENVIRONMENT: &str = "/api/v2/projects/my-project/environments/production";
const HOLDOUT_ID: &str = "65f0c0ffee00000000000001";

fn layers() -> String {
    format!("{PROJECT}/layers")
}

fn holdouts() -> String {
    format!("{ENVIRONMENT}/holdouts")
}

fn experiment(key: &str) -> String {
    format!("{ENVIRONMENT}/experiments/{key}")
}

/// Creates experiment `key` with the demo's valid iteration as its draft,
/// and `extra` fields merged into the post.
async fn create_experiment(t: &TestApp, key: &str, extra: Value) -> Answer {
    let mut post = json!({"name": key, "key": key, "iteration": valid_request()});
    if let (Some(post), Some(extra)) = (post.as_object_mut(), extra.as_object()) {
        post.extend(extra.clone());
    }
    t.call(Method::POST, &format!("{ENVIRONMENT}/experiments"), Some(post)).await
}

async fn created(t: &TestApp, key: &str) {
    let answer = create_experiment(t, key, json!({})).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
}

async fn create_layer(t: &TestApp, key: &str) {
    let answer = t
        .call(
            Method::POST,
            &layers(),
            Some(json!({"key": key, "name": format!("Layer {key}"), "description": ""})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
}

async fn reserve(t: &TestApp, layer: &str, experiment: &str, percent: Value) -> Answer {
    let body = json!({"environmentKey": "production", "instructions": [
        {"kind": "updateExperimentReservation", "experimentKey": experiment, "reservationPercent": percent}]});
    t.call(Method::PATCH, &format!("{}/{layer}", layers()), Some(body)).await
}

async fn patch_layer(t: &TestApp, layer: &str, body: Value) -> Answer {
    t.call(Method::PATCH, &format!("{}/{layer}", layers()), Some(body)).await
}

async fn patch_experiment(t: &TestApp, key: &str, instructions: Value) -> Answer {
    let path = format!("{}?expand=treatments,previousIterations", experiment(key));
    t.call(Method::PATCH, &path, Some(json!({"instructions": instructions}))).await
}

async fn start(t: &TestApp, key: &str) -> Answer {
    patch_experiment(t, key, json!([{"kind": "startIteration"}])).await
}

/// Stops the running iteration of `key` with its first treatment as winner.
async fn stop(t: &TestApp, key: &str) -> Answer {
    let got = t.call(Method::GET, &format!("{}?expand=treatments", experiment(key)), None).await;
    let winner = got.body["currentIteration"]["treatments"][0]["_id"].clone();
    patch_experiment(t, key, json!([{"kind": "stopIteration", "winningTreatmentId": winner}])).await
}

async fn patch_holdout(t: &TestApp, key: &str, instructions: Value) -> Answer {
    t.call(Method::PATCH, &format!("{}/{key}", holdouts()), Some(json!({"instructions": instructions}))).await
}

async fn holdout(t: &TestApp, key: &str, expand: &str) -> Value {
    let answer = t.call(Method::GET, &format!("{}/{key}?expand={expand}", holdouts()), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body
}

fn paths(answer: &Answer) -> Vec<(String, String)> {
    error_paths(&answer.body)
}

fn one(path: &str, code: &str) -> Vec<(String, String)> {
    vec![(path.to_owned(), code.to_owned())]
}

// ------------------------------------------------------------ workflows

#[tokio::test]
async fn a_layer_refuses_to_exceed_100_and_a_stop_snapshots_the_live_layer() {
    let t = TestApp::new().await;
    create_layer(&t, "pricing").await;
    created(&t, "first").await;
    created(&t, "second").await;

    let answer = reserve(&t, "pricing", "first", json!(30)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.body["environments"]["production"]["reservations"],
        json!([{"experimentKey": "first", "flagKey": "example-flag-for-experiment", "reservationPercent": 30}])
    );

    let over = reserve(&t, "pricing", "second", json!(80)).await;
    assert_error(&over, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(paths(&over), one("/instructions/0/reservationPercent", "reservation_sum"));
    assert_eq!(
        over.body["errors"][0]["message"],
        "the layer would be reserved 110 percent in production (30 already reserved by others + 80); at most 100"
    );

    let answer = reserve(&t, "pricing", "second", json!(60)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);

    assert_eq!(start(&t, "first").await.status, StatusCode::OK);
    let stopped = stop(&t, "first").await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    assert_eq!(
        stopped.body["previousIterations"][0]["layerSnapshot"],
        json!({"key": "pricing", "name": "Layer pricing", "reservationPercent": 30, "otherReservationPercent": 60})
    );
}

#[tokio::test]
async fn a_holdout_runs_with_its_experiment_and_ends_only_when_nothing_runs() {
    let t = TestApp::new().await;
    let post = json!({"name": "Pricing holdout", "key": "pricing-holdout", "holdoutamount": "10",
        "randomizationunit": "user", "primarymetrickey": "metric-key-123abc", "description": "Keep 10 out"});
    let answer = t.call(Method::POST, &holdouts(), Some(post)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    assert_eq!(answer.body["status"], "created");
    assert_eq!(answer.body["holdoutAmount"], "10");
    assert_eq!(answer.body["baseExperiment"]["key"], "pricing-holdout");
    assert_eq!(answer.body["baseExperiment"]["type"], "holdout");
    let allocations: Vec<Value> = answer.body["baseExperiment"]["draftIteration"]["treatments"]
        .as_array()
        .expect("the base draft has treatments")
        .iter()
        .map(|t| t["allocationPercent"].clone())
        .collect();
    assert_eq!(allocations, [json!("10"), json!("90")]);
    let id = answer.body["_id"].as_str().expect("an _id").to_owned();

    let joined = create_experiment(&t, "held", json!({"holdoutId": id})).await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    assert_eq!(joined.body["holdoutId"], id.as_str());
    assert_eq!(holdout(&t, "pricing-holdout", "").await["status"], "enabled");

    let in_layer = reserve(&t, "checkout-flow", "held", json!(10)).await;
    assert_error(&in_layer, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(paths(&in_layer), one("/instructions/0/experimentKey", "layer_or_holdout"));

    assert_eq!(start(&t, "held").await.status, StatusCode::OK);
    let running = holdout(&t, "pricing-holdout", "").await;
    assert_eq!((running["status"].clone(), running["isDirty"].clone()), (json!("running"), json!(true)));

    let refused = patch_holdout(&t, "pricing-holdout", json!([{"kind": "endHoldout"}])).await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(paths(&refused), one("/instructions/0", "experiment_running"));

    assert_eq!(stop(&t, "held").await.status, StatusCode::OK);
    let ended = patch_holdout(&t, "pricing-holdout", json!([{"kind": "endHoldout"}])).await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.body);
    assert_eq!(ended.body["status"], "ended");

    let late = create_experiment(&t, "late", json!({"holdoutId": id})).await;
    assert_error(&late, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(paths(&late), one("/holdoutId", "holdout_ended"));
}

// ----------------------------------------------------------- layer rules

#[tokio::test]
async fn layers_are_created_listed_and_filtered_by_experiment() {
    let t = TestApp::new().await;
    let listed = t.call(Method::GET, &layers(), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["totalCount"], 1);
    assert_eq!(listed.body["items"][0]["key"], "checkout-flow");
    assert_eq!(
        listed.body["items"][0]["environments"]["production"]["otherReservationPercent"], 70,
        "the seeded outside share is shown beside the reservations"
    );
    create_layer(&t, "second").await;
    let duplicate =
        t.call(Method::POST, &layers(), Some(json!({"key": "second", "name": "S", "description": ""}))).await;
    assert_error(&duplicate, StatusCode::CONFLICT, "key_exists");
    let invalid = t.call(Method::POST, &layers(), Some(json!({"key": "no spaces", "name": " "}))).await;
    assert_error(&invalid, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(paths(&invalid), one("/description", "missing_field"));
    let invalid = t
        .call(Method::POST, &layers(), Some(json!({"key": "no spaces", "name": " ", "description": ""})))
        .await;
    assert_eq!(
        paths(&invalid),
        [("/key".to_owned(), "invalid_key".to_owned()), ("/name".to_owned(), "blank".to_owned())]
    );

    let filtered =
        t.call(Method::GET, &format!("{}?filter=experimentKey:example-experiment", layers()), None).await;
    let keys: Vec<Value> =
        filtered.body["items"].as_array().expect("items").iter().map(|l| l["key"].clone()).collect();
    assert_eq!(keys, [json!("checkout-flow")]);
    let none = t.call(Method::GET, &format!("{}?filter=experimentKey:example-bandit", layers()), None).await;
    assert_eq!(none.body["totalCount"], 0);
    let bad = t.call(Method::GET, &format!("{}?filter=name:x", layers()), None).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn a_reservation_is_an_integer_from_0_to_100_of_a_known_experiment() {
    let t = TestApp::new().await;
    create_layer(&t, "l").await;
    for (percent, code) in
        [(json!(101), "out_of_range"), (json!(-1), "out_of_range"), (json!(12.5), "wrong_type")]
    {
        let answer = reserve(&t, "l", "example-bandit", percent.clone()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(paths(&answer), one("/instructions/0/reservationPercent", code), "{percent}");
    }
    let unknown = reserve(&t, "l", "nobody", json!(10)).await;
    assert_eq!(paths(&unknown), one("/instructions/0/experimentKey", "unknown_experiment"));
    let no_environment = patch_layer(
        &t,
        "l",
        json!({"instructions": [{"kind": "updateExperimentReservation", "experimentKey": "example-bandit", "reservationPercent": 5}]}),
    )
    .await;
    assert_eq!(paths(&no_environment), one("/environmentKey", "missing_field"));
    let missing = t
        .call(
            Method::PATCH,
            &format!("{}/nope", layers()),
            Some(json!({"instructions": [{"kind": "updateName", "name": "x"}]})),
        )
        .await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
    let unknown_kind = patch_layer(&t, "l", json!({"instructions": [{"kind": "explode"}]})).await;
    assert_eq!(paths(&unknown_kind), one("/instructions/0/kind", "unknown_instruction"));
}

#[tokio::test]
async fn the_seeded_layer_counts_its_outside_share_towards_100() {
    let t = TestApp::new().await;
    let over = reserve(&t, "checkout-flow", "example-bandit", json!(21)).await;
    assert_eq!(paths(&over), one("/instructions/0/reservationPercent", "reservation_sum"));
    assert_eq!(
        over.body["errors"][0]["message"],
        "the layer would be reserved 101 percent in production (80 already reserved by others + 21); at most 100"
    );
    assert_eq!(reserve(&t, "checkout-flow", "example-bandit", json!(20)).await.status, StatusCode::OK);
    // Changing a reservation counts the experiment's old share out.
    assert_eq!(reserve(&t, "checkout-flow", "example-bandit", json!(15)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_experiment_is_in_at_most_one_layer() {
    let t = TestApp::new().await;
    create_layer(&t, "other").await;
    let answer = reserve(&t, "other", "example-experiment", json!(5)).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(paths(&answer), one("/instructions/0/experimentKey", "not_allowed"));
    assert!(answer.body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("checkout-flow")));
}

#[tokio::test]
async fn zero_is_allowed_only_until_an_iteration_starts_and_a_start_needs_more() {
    let t = TestApp::new().await;
    create_layer(&t, "l").await;
    created(&t, "zero").await;
    assert_eq!(reserve(&t, "l", "zero", json!(0)).await.status, StatusCode::OK);
    let refused = start(&t, "zero").await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(paths(&refused), one("/instructions/0", "not_allowed"));
    assert!(refused.body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("reserves 0 percent")));

    assert_eq!(reserve(&t, "l", "zero", json!(25)).await.status, StatusCode::OK);
    assert_eq!(start(&t, "zero").await.status, StatusCode::OK);
    let answer = reserve(&t, "l", "zero", json!(0)).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(paths(&answer), one("/instructions/0/reservationPercent", "experiment_running"));
}

#[tokio::test]
async fn a_running_experiment_is_not_removed_from_its_layer() {
    let t = TestApp::new().await;
    create_layer(&t, "l").await;
    created(&t, "busy").await;
    assert_eq!(reserve(&t, "l", "busy", json!(40)).await.status, StatusCode::OK);
    assert_eq!(start(&t, "busy").await.status, StatusCode::OK);
    let remove = json!({"environmentKey": "production", "instructions": [{"kind": "removeExperiment", "experimentKey": "busy"}]});
    let refused = patch_layer(&t, "l", remove.clone()).await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(paths(&refused), one("/instructions/0/experimentKey", "experiment_running"));
    assert_eq!(stop(&t, "busy").await.status, StatusCode::OK);
    let removed = patch_layer(&t, "l", remove.clone()).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert_eq!(removed.body["environments"]["production"]["reservations"], json!([]));
    let again = patch_layer(&t, "l", remove).await;
    assert_eq!(paths(&again), one("/instructions/0/experimentKey", "unknown_experiment"));
}

#[tokio::test]
async fn layer_patches_apply_whole_and_take_either_content_type() {
    let t = TestApp::new().await;
    create_layer(&t, "l").await;
    let body = json!({"environmentKey": "production", "instructions": [
        {"kind": "updateName", "name": "Renamed"},
        {"kind": "updateDescription", "description": "Mutually exclusive pricing tests"},
        {"kind": "updateExperimentReservation", "experimentKey": "example-bandit", "reservationPercent": 101}]});
    let refused = patch_layer(&t, "l", body).await;
    assert_eq!(paths(&refused), one("/instructions/2/reservationPercent", "out_of_range"));
    let listed = t.call(Method::GET, &format!("{}?filter=", layers()), None).await;
    assert!(
        listed.body["items"].as_array().expect("items").iter().all(|l| l["name"] != "Renamed"),
        "nothing applied"
    );

    let mut semantic = request(
        Method::PATCH,
        &format!("{}/l", layers()),
        WRITER,
        Some(json!({"instructions": [{"kind": "updateName", "name": "Renamed"}]}).to_string().into_bytes()),
    );
    semantic.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("application/json; domain-model=launchdarkly.semanticpatch"),
    );
    let answer = t.send(semantic).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["name"], "Renamed");
    assert_eq!(answer.body["_links"]["self"]["href"], "/api/v2/projects/my-project/layers/l");
}

#[tokio::test]
async fn the_seeded_layer_snapshots_10_and_70() {
    let t = TestApp::new().await;
    let draft = t
        .call(
            Method::POST,
            &format!("{}/iterations", experiment("example-experiment")),
            Some(valid_request()),
        )
        .await;
    assert_eq!(draft.status, StatusCode::OK, "{}", draft.body);
    assert_eq!(start(&t, "example-experiment").await.status, StatusCode::OK);
    let stopped = stop(&t, "example-experiment").await;
    assert_eq!(
        stopped.body["previousIterations"][0]["layerSnapshot"],
        json!({"key": "checkout-flow", "name": "Checkout Flow", "reservationPercent": 10, "otherReservationPercent": 70})
    );
}

// --------------------------------------------------------- holdout rules

#[tokio::test]
async fn the_demo_holdout_is_listed_and_read_by_key_and_by_id() {
    let t = TestApp::new().await;
    let listed = t.call(Method::GET, &holdouts(), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["total_count"], 1);
    let item = &listed.body["items"][0];
    assert_eq!(
        (item["_id"].clone(), item["key"].clone(), item["status"].clone(), item["experiments"].clone()),
        (json!(HOLDOUT_ID), json!("checkout-holdout"), json!("created"), json!([]))
    );
    let by_id = t.call(Method::GET, &format!("{}/id/{HOLDOUT_ID}", holdouts()), None).await;
    assert_eq!(by_id.status, StatusCode::OK, "{}", by_id.body);
    assert_eq!(by_id.body["holdoutAmount"], "5");
    assert_eq!(by_id.body["isDirty"], false);
    assert_eq!(by_id.body["baseExperiment"]["type"], "holdout");
    assert_eq!(by_id.body["baseExperiment"].get("draftIteration"), None, "not expanded");
    let detail = holdout(&t, "checkout-holdout", "draftIteration,treatments").await;
    assert_eq!(detail["baseExperiment"]["draftIteration"]["randomizationUnit"], "user");
    assert_eq!(detail["baseExperiment"]["draftIteration"]["primarySingleMetric"]["key"], "metric-key-123abc");
    let missing = t.call(Method::GET, &format!("{}/id/ffffffffffffffffffffffff", holdouts()), None).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
    let elsewhere = t
        .call(Method::GET, "/api/v2/projects/my-project/environments/test/holdouts/checkout-holdout", None)
        .await;
    assert_error(&elsewhere, StatusCode::NOT_FOUND, "not_found");
    let experiments = t.call(Method::GET, &format!("{ENVIRONMENT}/experiments"), None).await;
    assert_eq!(experiments.body["total_count"], 2, "a base experiment is listed with its holdout only");
}

#[tokio::test]
async fn post_holdout_reports_every_problem_and_refuses_a_taken_key() {
    let t = TestApp::new().await;
    let post = json!({"name": " ", "key": "bad key", "holdoutamount": "0", "randomizationunit": "device",
        "primarymetrickey": "nope", "metrics": [{"key": "ghost"}], "prerequisiteflagkey": "no-flag"});
    let answer = t.call(Method::POST, &holdouts(), Some(post)).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    let expected: Vec<(String, String)> = [
        ("/name", "blank"),
        ("/key", "invalid_key"),
        ("/holdoutamount", "out_of_range"),
        ("/randomizationunit", "context_kind_not_for_experiments"),
        ("/primarymetrickey", "unknown_metric"),
        ("/metrics/0/key", "unknown_metric"),
        ("/prerequisiteflagkey", "unknown_flag"),
    ]
    .iter()
    .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(paths(&answer), expected);
    let unreadable = t.call(Method::POST, &holdouts(), Some(json!({"holdoutamount": true}))).await;
    assert_eq!(
        paths(&unreadable),
        [
            ("/name".to_owned(), "missing_field".to_owned()),
            ("/key".to_owned(), "missing_field".to_owned()),
            ("/holdoutamount".to_owned(), "wrong_type".to_owned())
        ]
    );
    let taken = t
        .call(
            Method::POST,
            &holdouts(),
            Some(json!({"name": "Again", "key": "checkout-holdout", "holdoutamount": "5"})),
        )
        .await;
    assert_error(&taken, StatusCode::CONFLICT, "key_exists");
    let experiment_key = t
        .call(
            Method::POST,
            &holdouts(),
            Some(json!({"name": "E", "key": "example-experiment", "holdoutamount": "5"})),
        )
        .await;
    assert_error(&experiment_key, StatusCode::CONFLICT, "key_exists");
}

#[tokio::test]
async fn an_experiment_joins_only_a_holdout_of_its_environment() {
    let t = TestApp::new().await;
    let unknown = create_experiment(&t, "stray", json!({"holdoutId": "ffffffffffffffffffffffff"})).await;
    assert_eq!(paths(&unknown), one("/holdoutId", "unknown_holdout"));
    let test_environment = "/api/v2/projects/my-project/environments/test/experiments";
    let mut iteration = valid_request();
    iteration["flags"]["example-flag-for-experiment"] =
        json!({"ruleId": "fallthrough", "flagConfigVersion": 3});
    iteration.as_object_mut().map(|o| o.remove("covariateId"));
    let post = json!({"name": "T", "key": "t", "holdoutId": HOLDOUT_ID, "iteration": iteration});
    let other = t.call(Method::POST, test_environment, Some(post)).await;
    assert_eq!(paths(&other), one("/holdoutId", "unknown_holdout"));
    let joined = create_experiment(&t, "member", json!({"holdoutId": HOLDOUT_ID})).await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    let detail = holdout(&t, "checkout-holdout", "rel-draftIteration").await;
    assert_eq!(detail["status"], "enabled");
    assert_eq!(detail["relatedExperiments"][0]["key"], "member");
    assert!(detail["relatedExperiments"][0]["draftIteration"].is_object(), "rel-draftIteration expands");
    assert_eq!(
        detail["relatedExperiments"][0]["draftIteration"].get("metrics"),
        None,
        "only with rel-metrics"
    );
    assert_eq!(detail["baseExperiment"].get("draftIteration"), None);
    let with_metrics = holdout(&t, "checkout-holdout", "rel-draftIteration,rel-metrics,rel-treatments").await;
    let draft = &with_metrics["relatedExperiments"][0]["draftIteration"];
    assert!(draft["metrics"].is_array() && draft["treatments"].is_array(), "{draft}");
}

#[tokio::test]
async fn a_running_experiment_does_not_leave_its_holdout() {
    let t = TestApp::new().await;
    assert_eq!(
        create_experiment(&t, "member", json!({"holdoutId": HOLDOUT_ID})).await.status,
        StatusCode::CREATED
    );
    assert_eq!(start(&t, "member").await.status, StatusCode::OK);
    let remove = json!([{"kind": "removeExperiment", "value": "member"}]);
    let refused = patch_holdout(&t, "checkout-holdout", remove.clone()).await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(paths(&refused), one("/instructions/0/value", "experiment_running"));
    assert_eq!(stop(&t, "member").await.status, StatusCode::OK);
    let removed = patch_holdout(&t, "checkout-holdout", remove.clone()).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert_eq!(removed.body["experiments"], json!([]));
    let member = t.call(Method::GET, &experiment("member"), None).await;
    assert_eq!(member.body.get("holdoutId"), None);
    let again = patch_holdout(&t, "checkout-holdout", remove).await;
    assert_eq!(paths(&again), one("/instructions/0/value", "unknown_experiment"));
    // Out of the holdout, it may now reserve traffic in a layer.
    create_layer(&t, "after").await;
    assert_eq!(reserve(&t, "after", "member", json!(10)).await.status, StatusCode::OK);
    let rejoin = create_experiment(&t, "late", json!({"holdoutId": HOLDOUT_ID})).await;
    assert_eq!(rejoin.status, StatusCode::CREATED, "{}", rejoin.body);
}

#[tokio::test]
async fn holdout_patches_rename_describe_and_end_once() {
    let t = TestApp::new().await;
    let answer = patch_holdout(
        &t,
        "checkout-holdout",
        json!([{"kind": "updateName", "value": "Renamed"}, {"kind": "updateDescription", "value": "Why"}]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        (answer.body["name"].clone(), answer.body["description"].clone()),
        (json!("Renamed"), json!("Why"))
    );
    let blank = patch_holdout(
        &t,
        "checkout-holdout",
        json!([{"kind": "updateName", "value": ""}, {"kind": "endHoldout"}]),
    )
    .await;
    assert_eq!(paths(&blank), one("/instructions/0/value", "blank"));
    assert_eq!(holdout(&t, "checkout-holdout", "").await["status"], "created", "nothing applied");
    let unknown = patch_holdout(&t, "checkout-holdout", json!([{"kind": "restartHoldout"}])).await;
    assert_eq!(paths(&unknown), one("/instructions/0/kind", "unknown_instruction"));
    assert_eq!(
        patch_holdout(&t, "checkout-holdout", json!([{"kind": "endHoldout"}])).await.status,
        StatusCode::OK
    );
    let twice = patch_holdout(&t, "checkout-holdout", json!([{"kind": "endHoldout"}])).await;
    assert_eq!(paths(&twice), one("/instructions/0", "not_allowed"));
    let missing = patch_holdout(&t, "no-such-holdout", json!([{"kind": "endHoldout"}])).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn a_reader_may_read_layers_and_holdouts_but_not_change_them() {
    let t = TestApp::new().await;
    for path in [layers(), holdouts(), format!("{}/checkout-holdout", holdouts())] {
        let answer = t.send(request(Method::GET, &path, READER, None)).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
    }
    let body = json!({"key": "r", "name": "R", "description": ""}).to_string().into_bytes();
    let answer = t.send(request(Method::POST, &layers(), READER, Some(body))).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "forbidden");
}

/// Reservations race: whatever order they commit in, the layer never goes
/// above 100 and every acknowledged reservation is in the final state.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_reservations_never_overfill_a_layer() {
    let t = Arc::new(TestApp::new().await);
    create_layer(&t, "race").await;
    for i in 0..8 {
        created(&t, &format!("racer-{i}")).await;
    }
    let mut tasks = Vec::new();
    for i in 0..8 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let answer = reserve(&t, "race", &format!("racer-{i}"), json!(30)).await;
            (i, answer.status)
        }));
    }
    let mut accepted = Vec::new();
    for task in tasks {
        let (i, status) = task.await.expect("no task panics");
        if status == StatusCode::OK {
            accepted.push(format!("racer-{i}"));
        } else {
            assert_eq!(status, StatusCode::BAD_REQUEST);
        }
    }
    assert_eq!(accepted.len(), 3, "exactly three reservations of 30 fit");
    let listed =
        t.call(Method::GET, &format!("{}?filter=experimentKey:{}", layers(), accepted[0]), None).await;
    let reservations = listed.body["items"][0]["environments"]["production"]["reservations"].clone();
    let mut kept: Vec<String> = reservations
        .as_array()
        .expect("reservations")
        .iter()
        .map(|r| r["experimentKey"].as_str().unwrap_or("").to_owned())
        .collect();
    kept.sort();
    accepted.sort();
    assert_eq!(kept, accepted);
}

/// A start and a reservation of 0 race: either the start wins and the 0 is
/// refused, or the 0 wins and the start is refused; never both.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_start_and_a_zero_reservation_never_both_win() {
    for round in 0..16 {
        let t = Arc::new(TestApp::new().await);
        create_layer(&t, "l").await;
        created(&t, "e").await;
        assert_eq!(reserve(&t, "l", "e", json!(10)).await.status, StatusCode::OK);
        let starter = {
            let t = t.clone();
            tokio::spawn(async move { start(&t, "e").await.status })
        };
        let zeroer = {
            let t = t.clone();
            tokio::spawn(async move { reserve(&t, "l", "e", json!(0)).await.status })
        };
        let started = starter.await.expect("no panic") == StatusCode::OK;
        let zeroed = zeroer.await.expect("no panic") == StatusCode::OK;
        assert!(started != zeroed, "round {round}: started {started}, zeroed {zeroed}");
    }
}
