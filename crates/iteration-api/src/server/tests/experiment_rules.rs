//! Experiment rules beyond a single iteration (`docs/behaviour.md` 3.13 to
//! 3.16): flags fixed once an iteration ran, one running bandit per
//! targeting rule, bandits measured by the mean, and the values of an
//! experiment post.

use http::{Method, StatusCode};
use serde_json::json;

use super::*;

const EXPERIMENTS: &str = "/api/v2/projects/my-project/environments/production/experiments";

fn paths(answer: &Answer) -> Vec<(String, String)> {
    error_paths(&answer.body)
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(p, c)| ((*p).to_owned(), (*c).to_owned())).collect()
}

async fn patch(t: &TestApp, key: &str, instructions: Value) -> Answer {
    let path = format!("{EXPERIMENTS}/{key}?expand=treatments,draftIteration");
    t.call(Method::PATCH, &path, Some(json!({"instructions": instructions}))).await
}

/// The fields that move the demo iteration onto the boolean `example-flag-key`.
fn other_flag() -> Value {
    json!({
        "flags": {"operation": "update", "value": {"example-flag-key": {"ruleId": "fallthrough", "flagConfigVersion": 1}}},
        "treatments": {"operation": "update", "value": [
            {"name": "Control", "baseline": true, "allocationPercent": "50",
             "parameters": [{"flagKey": "example-flag-key", "variationId": "a1b2c3d4-0000-4000-8000-000000000001"}]},
            {"name": "Other", "baseline": false, "allocationPercent": "50",
             "parameters": [{"flagKey": "example-flag-key", "variationId": "a1b2c3d4-0000-4000-8000-000000000002"}]}]}
    })
}

#[tokio::test]
async fn the_flags_of_an_experiment_are_fixed_once_an_iteration_has_run() {
    let t = TestApp::new().await;
    let post = json!({"name": "Fixed", "key": "fixed", "iteration": valid_request()});
    assert_eq!(t.call(Method::POST, EXPERIMENTS, Some(post)).await.status, StatusCode::CREATED);
    // Before anything ran, the draft may move to another flag.
    let moved = patch(&t, "fixed", json!([{"kind": "updateExperimentFields", "value": other_flag()}])).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let back = patch(
        &t,
        "fixed",
        json!([{"kind": "updateExperimentFields", "value": {
            "flags": {"operation": "update", "value": valid_request()["flags"]},
            "treatments": {"operation": "update", "value": valid_request()["treatments"]}}}]),
    )
    .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    assert_eq!(patch(&t, "fixed", json!([{"kind": "startIteration"}])).await.status, StatusCode::OK);

    let refused = patch(
        &t,
        "fixed",
        json!([{"kind": "saveAndStartNewIteration", "changeJustification": "new flag", "value": other_flag()}]),
    )
    .await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(paths(&refused), pairs(&[("/instructions/0/value/flags", "frozen_after_run")]));

    // A new draft after the run cannot move to another flag either.
    let draft = t.call(Method::POST, &format!("{EXPERIMENTS}/fixed/iterations"), Some(valid_request())).await;
    assert_eq!(draft.status, StatusCode::OK, "{}", draft.body);
    let refused =
        patch(&t, "fixed", json!([{"kind": "updateExperimentFields", "value": other_flag()}])).await;
    assert_eq!(paths(&refused), pairs(&[("/instructions/0/value/flags", "frozen_after_run")]));
    // Other fields still change.
    let renamed = patch(
        &t,
        "fixed",
        json!([{"kind": "saveAndStartNewIteration", "changeJustification": "hypothesis",
                "value": {"hypothesis": {"operation": "update", "value": "Sharper"}}}]),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
}

#[tokio::test]
async fn one_bandit_runs_per_flag_targeting_rule() {
    let t = TestApp::new().await;
    let draft = t
        .call(Method::POST, &format!("{EXPERIMENTS}/example-bandit/iterations"), Some(valid_request()))
        .await;
    assert_eq!(draft.status, StatusCode::OK, "{}", draft.body);
    assert_eq!(patch(&t, "example-bandit", json!([{"kind": "startIteration"}])).await.status, StatusCode::OK);

    let post =
        json!({"name": "Second bandit", "key": "second-bandit", "type": "mab", "iteration": valid_request()});
    assert_eq!(t.call(Method::POST, EXPERIMENTS, Some(post)).await.status, StatusCode::CREATED);
    let refused = patch(&t, "second-bandit", json!([{"kind": "startIteration"}])).await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(paths(&refused), pairs(&[("/instructions/0", "not_allowed")]));
    assert!(refused.body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("example-bandit")));

    // A classic experiment on the same rule is not limited.
    let post = json!({"name": "Classic", "key": "classic", "iteration": valid_request()});
    assert_eq!(t.call(Method::POST, EXPERIMENTS, Some(post)).await.status, StatusCode::CREATED);
    assert_eq!(patch(&t, "classic", json!([{"kind": "startIteration"}])).await.status, StatusCode::OK);

    let running = t.call(Method::GET, &format!("{EXPERIMENTS}/example-bandit?expand=treatments"), None).await;
    let winner = running.body["currentIteration"]["treatments"][0]["_id"].clone();
    let stop = json!([{"kind": "stopIteration", "winningTreatmentId": winner}]);
    assert_eq!(patch(&t, "example-bandit", stop).await.status, StatusCode::OK);
    assert_eq!(patch(&t, "second-bandit", json!([{"kind": "startIteration"}])).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_bandit_measures_metrics_by_their_mean() {
    let t = TestApp::new().await;
    let metric = json!({"key": "p95-latency", "name": "p95 latency", "kind": "custom", "eventKey": "latency",
        "isNumeric": true, "unit": "ms", "unitAggregationType": "average", "analysisType": "percentile",
        "percentileValue": 95, "randomizationUnits": ["user"]});
    let created = t.call(Method::POST, "/api/v2/metrics/my-project", Some(metric)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let mut iteration = valid_request();
    iteration["metrics"] = json!([{"key": "p95-latency"}, {"key": "metric-key-123abc"}]);
    iteration["primarySingleMetricKey"] = json!("p95-latency");
    let bandit = json!({"name": "B", "key": "b", "type": "mab", "iteration": iteration.clone()});
    let refused = t.call(Method::POST, EXPERIMENTS, Some(bandit)).await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(paths(&refused), pairs(&[("/iteration/metrics/0/key", "not_allowed")]));
    let classic = json!({"name": "C", "key": "c", "iteration": iteration});
    assert_eq!(t.call(Method::POST, EXPERIMENTS, Some(classic)).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn an_experiment_post_names_known_values_and_thresholds_in_range() {
    let t = TestApp::new().await;
    let post = json!({"name": "V", "key": "v", "iteration": valid_request(), "type": "ab",
        "methodology": "guess", "dataSource": "spreadsheet",
        "analysisConfig": {"bayesianThreshold": "101", "significanceThreshold": "one",
            "multipleComparisonCorrectionMethod": "magic", "multipleComparisonCorrectionScope": "everything"}});
    let answer = t.call(Method::POST, EXPERIMENTS, Some(post)).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(
        paths(&answer),
        pairs(&[
            ("/type", "not_allowed"),
            ("/methodology", "not_allowed"),
            ("/dataSource", "not_allowed"),
            ("/analysisConfig/multipleComparisonCorrectionMethod", "not_allowed"),
            ("/analysisConfig/multipleComparisonCorrectionScope", "not_allowed"),
            ("/analysisConfig/bayesianThreshold", "out_of_range"),
            ("/analysisConfig/significanceThreshold", "not_allowed"),
        ])
    );
    let post = json!({"name": "V", "key": "v", "iteration": valid_request(), "methodology": "frequentist",
        "analysisConfig": {"bayesianThreshold": "95", "significanceThreshold": "1.5"}});
    let answer = t.call(Method::POST, EXPERIMENTS, Some(post)).await;
    assert_eq!(paths(&answer), pairs(&[("/analysisConfig/significanceThreshold", "out_of_range")]));
    let post = json!({"name": "V", "key": "v", "iteration": valid_request(), "methodology": "frequentist",
        "dataSource": "snowflake", "analysisConfig": {"bayesianThreshold": "95", "significanceThreshold": "0.05"}});
    assert_eq!(t.call(Method::POST, EXPERIMENTS, Some(post)).await.status, StatusCode::CREATED);
}

/// Two bandits on one rule start at the same moment: never both run.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_bandit_starts_never_both_win() {
    for round in 0..16 {
        let t = Arc::new(TestApp::new().await);
        for key in ["left", "right"] {
            let post = json!({"name": key, "key": key, "type": "mab", "iteration": valid_request()});
            assert_eq!(t.call(Method::POST, EXPERIMENTS, Some(post)).await.status, StatusCode::CREATED);
        }
        let tasks: Vec<_> = ["left", "right"]
            .into_iter()
            .map(|key| {
                let t = t.clone();
                tokio::spawn(async move { patch(&t, key, json!([{"kind": "startIteration"}])).await.status })
            })
            .collect();
        let mut started = 0;
        for task in tasks {
            let status = task.await.expect("no task panics");
            assert!(status == StatusCode::OK || status == StatusCode::BAD_REQUEST, "{status}");
            started += usize::from(status == StatusCode::OK);
        }
        assert_eq!(started, 1, "round {round}: exactly one bandit starts");
    }
}
