use http::{Method, StatusCode};
use serde_json::json;

use super::*;

async fn create_draft(t: &TestApp, hypothesis: &str) -> Value {
    let mut body = valid_request();
    body["hypothesis"] = json!(hypothesis);
    let answer = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(body)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body
}

#[tokio::test]
async fn create_start_redraft_restart_and_stop_with_a_winner() {
    let t = TestApp::new().await;
    let first = create_draft(&t, "First").await;
    t.clock.advance(1_000);
    let started = t.patch(json!([{"kind": "startIteration"}])).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    assert_eq!(started.body["currentIteration"]["status"], "running");
    assert_eq!(started.body["currentIteration"]["_id"], first["_id"]);
    assert_eq!(started.body["currentIteration"]["startedAt"], NOW.get() + 1_000);

    let second = create_draft(&t, "Second").await;
    let got = t.call(Method::GET, &format!("{EXPERIMENT}?expand=draftIteration"), None).await;
    assert_eq!(got.body["currentIteration"]["_id"], first["_id"], "the first keeps running");
    assert_eq!(got.body["draftIteration"]["_id"], second["_id"]);

    let refused = t.patch(json!([{"kind": "startIteration"}])).await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error_paths(&refused.body), [("/instructions/0".to_owned(), "not_allowed".to_owned())]);

    t.clock.advance(1_000);
    let restarted = t
        .call(
            Method::PATCH,
            &format!("{EXPERIMENT}?expand=previousIterations,treatments"),
            Some(
                json!({"instructions": [{"kind": "startIteration", "changeJustification": "new placement"}]}),
            ),
        )
        .await;
    assert_eq!(restarted.status, StatusCode::OK, "{}", restarted.body);
    assert_eq!(restarted.body["currentIteration"]["_id"], second["_id"]);
    let previous = &restarted.body["previousIterations"];
    assert_eq!(previous.as_array().map(Vec::len), Some(1));
    assert_eq!(previous[0]["_id"], first["_id"]);
    assert_eq!(previous[0]["status"], "stopped");
    assert_eq!(previous[0]["endedAt"], NOW.get() + 2_000);

    let winner = restarted.body["currentIteration"]["treatments"][1]["_id"].clone();
    let stopped = t
        .call(
            Method::PATCH,
            &format!("{EXPERIMENT}?expand=previousIterations"),
            Some(json!({"instructions": [{"kind": "stopIteration", "winningTreatmentId": winner, "winningReason": "more clicks"}]})),
        )
        .await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    assert_eq!(stopped.body["currentIteration"], Value::Null);
    let last = &stopped.body["previousIterations"][0];
    assert_eq!(last["_id"], second["_id"]);
    assert_eq!(last["winningTreatmentId"], winner);
    assert_eq!(last["winningReason"], "more clicks");
    assert_eq!(
        last["layerSnapshot"],
        json!({"key": "checkout-flow", "name": "Checkout Flow", "reservationPercent": 10, "otherReservationPercent": 70})
    );
}

#[tokio::test]
async fn archiving_blocks_new_iterations_and_starts_until_restored() {
    let t = TestApp::new().await;
    create_draft(&t, "Draft").await;
    let archived = t.patch(json!([{"kind": "archiveExperiment"}])).await;
    assert_eq!(archived.status, StatusCode::OK);
    assert_eq!(archived.body["archivedDate"], NOW.get());

    let create = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    assert_error(&create, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error_paths(&create.body).first().map(|(p, _)| p.as_str()), Some(""));
    let start = t.patch(json!([{"kind": "startIteration"}])).await;
    assert_error(&start, StatusCode::BAD_REQUEST, "invalid_request");

    assert_eq!(t.patch(json!([{"kind": "restoreExperiment"}])).await.status, StatusCode::OK);
    assert_eq!(t.patch(json!([{"kind": "startIteration"}])).await.status, StatusCode::OK);
}

#[tokio::test]
async fn patches_apply_all_or_nothing_and_name_unknown_kinds() {
    let t = TestApp::new().await;
    let answer = t
        .patch(json!([{"kind": "updateName", "value": "Renamed"}, {"kind": "stopIteration", "winningTreatmentId": "x"}]))
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error_paths(&answer.body), [("/instructions/1".to_owned(), "not_allowed".to_owned())]);
    let got = t.call(Method::GET, EXPERIMENT, None).await;
    assert_eq!(got.body["name"], "Example experiment");

    let answer = t.patch(json!([{"kind": "launchRocket"}])).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(
        error_paths(&answer.body),
        [("/instructions/0/kind".to_owned(), "unknown_instruction".to_owned())]
    );
    assert!(answer.body["message"].as_str().unwrap_or("").contains("launchRocket"));

    // POST with X-HTTP-Method-Override: PATCH is a PATCH.
    let mut req = request(
        Method::POST,
        EXPERIMENT,
        WRITER,
        Some(
            json!({"instructions": [{"kind": "updateDescription", "value": "Now described"}]})
                .to_string()
                .into_bytes(),
        ),
    );
    req.headers_mut().insert("x-http-method-override", "PATCH".parse().expect("header"));
    let answer = t.send(req).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["description"], "Now described");
}

#[tokio::test]
async fn update_experiment_fields_changes_the_draft_and_bumps_its_version() {
    let t = TestApp::new().await;
    create_draft(&t, "Draft").await;
    let answer = t
        .call(
            Method::PATCH,
            &format!("{EXPERIMENT}?expand=draftIteration,mutableFieldsByStatus"),
            Some(json!({"instructions": [{"kind": "updateExperimentFields", "value": {
                "hypothesis": {"operation": "update", "value": "Changed"},
                "tags": {"operation": "add", "value": ["checkout"]}
            }}]})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["draftIteration"]["hypothesis"], "Changed");
    assert_eq!(answer.body["draftIteration"]["version"], 1);
    assert_eq!(answer.body["tags"], json!(["checkout"]));
    assert_eq!(answer.body["mutableFieldsByStatus"]["running"]["metrics"], json!(["add"]));

    t.patch(json!([{"kind": "startIteration"}])).await;
    let answer = t
        .patch(json!([{"kind": "updateExperimentFields", "value": {"hypothesis": {"operation": "update", "value": "No"}}}]))
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(answer.body["message"].as_str().unwrap_or("").contains("saveAndStartNewIteration"));

    let answer = t
        .call(
            Method::PATCH,
            &format!("{EXPERIMENT}?expand=previousIterations"),
            Some(json!({"instructions": [{"kind": "saveAndStartNewIteration", "value": {
                "hypothesis": {"operation": "update", "value": "Next"}}}]})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["currentIteration"]["hypothesis"], "Next");
    assert_eq!(answer.body["previousIterations"][0]["hypothesis"], "Changed");
}

#[tokio::test]
async fn lists_page_filter_and_link() {
    let t = TestApp::new().await;
    create_draft(&t, "Draft").await;
    let base = "/api/v2/projects/my-project/environments/production/experiments";
    let page = t.call(Method::GET, &format!("{base}?limit=1"), None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.body["total_count"], 2, "the archived one is not active");
    assert_eq!(page.body["items"][0]["key"], "example-experiment");
    assert_eq!(page.body["_links"]["next"]["href"], format!("{base}?limit=1&offset=1"));
    assert_eq!(page.body["_links"]["last"]["href"], format!("{base}?limit=1&offset=1"));
    assert_eq!(page.body["_links"].get("prev"), None);

    let both = t.call(Method::GET, &format!("{base}?lifecycleState=active,archived"), None).await;
    assert_eq!(both.body["total_count"], 3);
    let filtered =
        t.call(Method::GET, &format!("{base}?filter=flagKey:example-flag-for-experiment"), None).await;
    assert_eq!(filtered.body["total_count"], 1);
    let project =
        t.call(Method::GET, "/api/v2/projects/my-project/experiments?filter=status:not_started", None).await;
    assert_eq!(project.body["total_count"], 2);
    let bad = t.call(Method::GET, &format!("{base}?limit=51"), None).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "invalid_request");
}
