use http::{Method, StatusCode};
use serde_json::json;

use super::*;

#[tokio::test]
async fn the_demo_request_creates_the_draft_behaviour_md_describes() {
    let t = TestApp::new().await;
    let answer = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let mut body = answer.body.clone();
    let id = body["_id"].take();
    assert!(
        id.as_str().is_some_and(|id| id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit())),
        "{id}"
    );
    let treatment_ids: Vec<String> = body["treatments"]
        .as_array_mut()
        .expect("treatments")
        .iter_mut()
        .map(|t| t["_id"].take().as_str().expect("treatment id").to_owned())
        .collect();
    assert_eq!(treatment_ids.len(), 2);
    assert!(treatment_ids.iter().all(|id| id.len() == 36 && id.as_bytes()[14] == b'4'), "{treatment_ids:?}");
    assert_ne!(treatment_ids[0], treatment_ids[1]);
    let metric = json!({
        "key": "metric-key-123abc", "_versionId": "version-id-123abc", "name": "Example metric",
        "kind": "custom", "isNumeric": true, "eventKey": "event-key-123abc",
        "_links": {"self": {"href": "/api/v2/metrics/my-project/metric-key-123abc", "type": "application/json"}},
        "isGroup": false
    });
    assert_eq!(body["status"], "not_started");
    assert_eq!(body["createdAt"], NOW.get());
    assert_eq!(body["version"], 0);
    assert_eq!(body["canReshuffleTraffic"], true);
    assert_eq!(body["randomizationUnit"], "user");
    assert_eq!(body["attributes"], json!(["country", "device", "os"]));
    assert_eq!(body["hypothesis"], "The new button placement will increase conversion");
    assert_eq!(
        body["treatments"],
        json!([
            {"_id": null, "name": "Control", "allocationPercent": "50", "baseline": true,
             "parameters": [{"variationId": "e432f62b-55f6-49dd-a02f-eb24acf39d05", "flagKey": "example-flag-for-experiment"}]},
            {"_id": null, "name": "Top button", "allocationPercent": "50", "baseline": false,
             "parameters": [{"variationId": "6c5a1c1e-8a43-4d5f-9a1c-3b6f0d2e7a10", "flagKey": "example-flag-for-experiment"}]}
        ])
    );
    assert_eq!(
        body["flags"],
        json!({"example-flag-for-experiment": {
            "targetingRule": "e432f62b-55f6-49dd-a02f-eb24acf39d05",
            "targetingRuleDescription": "Customers who live in Canada",
            "targetingRuleClauses": [{"contextKind": "user", "attribute": "country", "op": "in", "values": ["CA"], "negate": false}],
            "flagConfigVersion": 12,
            "notInExperimentVariationId": "e432f62b-55f6-49dd-a02f-eb24acf39d05",
            "_links": {"self": {"href": "/api/v2/flags/my-project/example-flag-for-experiment", "type": "application/json"}}
        }})
    );
    assert_eq!(body["metrics"][0], metric);
    assert_eq!(body["metrics"][1]["key"], "metric-group-key-123abc");
    assert_eq!(body["metrics"][1]["isGroup"], true);
    assert_eq!(body["metrics"][1]["kind"], "funnel");
    assert_eq!(
        body["metrics"][1]["_links"]["self"]["href"],
        "/api/v2/projects/my-project/metric-groups/metric-group-key-123abc"
    );
    assert_eq!(body["metrics"][1]["_links"]["parent"]["href"], "/api/v2/projects/my-project");
    let members: Vec<(&str, &str)> = body["metrics"][1]["metrics"]
        .as_array()
        .expect("group members")
        .iter()
        .map(|m| (m["key"].as_str().unwrap_or(""), m["nameInGroup"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(members, [("metric-key-123abc", "Step 1"), ("buy-button-click", "Step 2")]);
    assert_eq!(body["primaryMetric"], metric);
    assert_eq!(body["primarySingleMetric"]["key"], "metric-key-123abc");
    assert_eq!(body["primaryFunnel"], Value::Null);
    assert_eq!(
        body["covariateInfo"],
        json!({"id": "74a49a2b-4834-4246-917e-5d85231d8c2a", "fileName": "covariate.csv", "createdAt": 1654104600000_i64})
    );
    assert_eq!(body["reallocationFrequencyMillis"], Value::Null);
    assert_eq!(body["layerSnapshot"], Value::Null);

    // It is now the experiment's draft.
    let got = t
        .call(Method::GET, &format!("{EXPERIMENT}?expand=draftIteration,treatments,secondaryMetrics"), None)
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["draftIteration"], answer.body);
    assert_eq!(got.body["currentIteration"], Value::Null);
}

#[tokio::test]
async fn the_docs_page_request_lists_every_reason_it_is_invalid() {
    let t = TestApp::new().await;
    // The curl example's bytes, as sent, `flags` string and all.
    let answer = t
        .send(request(Method::POST, &format!("{EXPERIMENT}/iterations"), WRITER, Some(DOCS_REQUEST.to_vec())))
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    // The reasons `docs/demo-world.md` lists, each once, in the order the checks run; the
    // stale flagConfigVersion is not among them (a 409 only comes alone).
    let expected = [
        // both primary keys are given
        ("/primaryFunnelKey", "primary_metric_ambiguous"),
        // metric-key-123abc is a single metric sent with isGroup: true
        ("/primarySingleMetricKey", "primary_metric_kind"),
        // metric-group-key-123abc is not among metrics
        ("/primaryFunnelKey", "primary_metric_not_in_metrics"),
        // only one treatment
        ("/treatments", "too_few"),
        // allocations sum to 10
        ("/treatments", "allocation_sum"),
        // the treatment's flag is missing from flags
        ("/treatments/0/parameters/0/flagKey", "parameter_unknown_flag"),
        // example-flag-key in flags has no treatment parameter
        ("/treatments/0/parameters", "parameter_missing"),
        ("/metrics/0/isGroup", "metric_kind_mismatch"),
        // ruleId is not one of example-flag-key's rules
        ("/flags/example-flag-key/ruleId", "unknown_rule"),
        // notInExperimentVariationId is not one of its variations
        ("/flags/example-flag-key/notInExperimentVariationId", "unknown_variation"),
        // reallocationFrequencyMillis on an experiment that is not a bandit
        ("/reallocationFrequencyMillis", "reallocation_not_bandit"),
        // covariateId `<string>` is unknown
        ("/covariateId", "unknown_covariate"),
    ]
    .map(|(path, code)| (path.to_owned(), code.to_owned()));
    assert_eq!(error_paths(&answer.body), expected);
    let message = |i: usize| answer.body["errors"][i]["message"].as_str().unwrap_or("").to_owned();
    assert_eq!(message(4), "allocations sum to 10; they must sum to 100");
    assert_eq!(
        message(11),
        "`<string>` is not a covariate file of environment `production`; upload it first or leave out covariateId"
    );
}

#[tokio::test]
async fn a_stale_flag_version_alone_is_a_409_giving_both_versions() {
    let t = TestApp::new().await;
    let mut body = valid_request();
    body["flags"]["example-flag-for-experiment"]["flagConfigVersion"] = json!(11);
    let answer = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(body)).await;
    assert_error(&answer, StatusCode::CONFLICT, "optimistic_locking_error");
    let message = answer.body["message"].as_str().unwrap_or("");
    assert!(message.contains("12") && message.contains("11"), "{message}");

    // With another problem too, the 400 comes first.
    let mut body = valid_request();
    body["flags"]["example-flag-for-experiment"]["flagConfigVersion"] = json!(11);
    body["hypothesis"] = json!(" ");
    let answer = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(body)).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error_paths(&answer.body), [("/hypothesis".to_owned(), "blank".to_owned())]);
}

#[tokio::test]
async fn each_broken_rule_answers_400_at_its_path() {
    let t = TestApp::new().await;
    type Breaks = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Breaks)> = vec![
        ("/hypothesis", Box::new(|b| b["hypothesis"] = json!(""))),
        (
            "/treatments/1/allocationPercent",
            Box::new(|b| b["treatments"][1]["allocationPercent"] = json!("150")),
        ),
        ("/randomizationUnit", Box::new(|b| b["randomizationUnit"] = json!("device"))),
        ("/metrics/0/key", Box::new(|b| b["metrics"][0]["key"] = json!("no-such-metric"))),
        ("/covariateId", Box::new(|b| b["covariateId"] = json!("nope"))),
        ("/reallocationFrequencyMillis", Box::new(|b| b["reallocationFrequencyMillis"] = json!(60000))),
    ];
    for (path, breaks) in cases {
        let mut body = valid_request();
        breaks(&mut body);
        let answer = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(body)).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
        let paths = error_paths(&answer.body);
        assert!(paths.iter().any(|(p, _)| p == path), "{path} not in {paths:?}");
    }
}

#[tokio::test]
async fn a_new_draft_replaces_the_old_one_and_flags_may_be_a_json_string() {
    let t = TestApp::new().await;
    let first = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    let mut body = valid_request();
    body["flags"] = json!(body["flags"].to_string());
    body["hypothesis"] = json!("Second draft");
    let second = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(body)).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_ne!(first.body["_id"], second.body["_id"]);
    let got = t.call(Method::GET, &format!("{EXPERIMENT}?expand=draftIteration"), None).await;
    assert_eq!(got.body["draftIteration"]["hypothesis"], "Second draft");
    assert_eq!(
        got.body["draftIteration"]["treatments"],
        Value::Null,
        "treatments only with expand=treatments"
    );
}
