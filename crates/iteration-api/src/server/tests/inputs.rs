//! What the served document says about inputs, held against the server:
//! a documented field or query value of the wrong type or out of range is a
//! 400 even where the server does nothing with it (rule 1.8), and `null`
//! for an optional field of a request body reads as absent (rule 1.16). The
//! API fuzzer (`tests/fuzz/schemathesis.sh`) found the first cases; these
//! tests keep them fixed without it.

use http::{Method, StatusCode};
use serde_json::json;

use super::*;

const SETTINGS: &str = "/api/v2/projects/my-project/experimentation-settings";
const HOLDOUTS: &str = "/api/v2/projects/my-project/environments/production/holdouts";
const FLAGS: &str = "/api/v2/flags/my-project";

#[tokio::test]
async fn a_documented_field_of_the_wrong_type_is_400_even_when_it_is_deprecated() {
    let t = TestApp::new().await;
    let unit = |standard: Value| json!({"randomizationUnits": [{"randomizationUnit": "user", "default": true, "standardRandomizationUnit": standard}]});
    let wrong = t.call(Method::PUT, SETTINGS, Some(unit(json!({})))).await;
    assert_error(&wrong, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(
        error_paths(&wrong.body),
        [("/randomizationUnits/0/standardRandomizationUnit".to_owned(), "wrong_type".to_owned())]
    );
    for accepted in [json!("user"), Value::Null] {
        let put = t.call(Method::PUT, SETTINGS, Some(unit(accepted.clone()))).await;
        assert_eq!(put.status, StatusCode::OK, "{accepted}: {}", put.body);
    }
}

#[tokio::test]
async fn a_page_offset_beyond_the_documented_int64_is_400() {
    let t = TestApp::new().await;
    let beyond = t.call(Method::GET, &format!("{HOLDOUTS}?offset=9223372036854775808"), None).await;
    assert_error(&beyond, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(beyond.body["message"].as_str().is_some_and(|m| m.contains("offset")), "{}", beyond.body);
    for list in [HOLDOUTS, FLAGS, "/api/v2/projects/my-project/experiments"] {
        let largest = t.call(Method::GET, &format!("{list}?offset=9223372036854775807"), None).await;
        assert_eq!(largest.status, StatusCode::OK, "{list}: {}", largest.body);
        let beyond = t.call(Method::GET, &format!("{list}?offset=18446744073709551615"), None).await;
        assert_error(&beyond, StatusCode::BAD_REQUEST, "invalid_request");
    }
}

#[tokio::test]
async fn a_boolean_query_parameter_must_be_a_boolean_even_when_it_is_ignored() {
    let t = TestApp::new().await;
    for query in ["compare=null", "archived=yes", "summary=", "compare=2"] {
        let answer = t.call(Method::GET, &format!("{FLAGS}?{query}"), None).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
        let name = query.split('=').next().unwrap_or_default();
        assert!(answer.body["message"].as_str().is_some_and(|m| m.contains(name)), "{}", answer.body);
    }
    for query in
        ["compare=true", "compare=false", "archived=false", "summary=0", "summary=true&archived=true"]
    {
        let answer = t.call(Method::GET, &format!("{FLAGS}?{query}"), None).await;
        assert_eq!(answer.status, StatusCode::OK, "{query}: {}", answer.body);
    }
    let patch = json!({"patch": [{"op": "add", "path": "/description", "value": "d"}]});
    let flag = format!("{FLAGS}/example-flag-for-experiment");
    let answer = t.call(Method::PATCH, &format!("{flag}?ignoreConflicts=maybe"), Some(patch.clone())).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    let answer = t.call(Method::PATCH, &format!("{flag}?ignoreConflicts=true"), Some(patch)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

#[tokio::test]
async fn null_for_an_optional_field_reads_as_absent() {
    let t = TestApp::new().await;
    let renamed = t
        .call(
            Method::PATCH,
            EXPERIMENT,
            Some(json!({"comment": null, "instructions": [{"kind": "updateName", "value": "Renamed"}]})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    let kind = t
        .call(
            Method::PUT,
            "/api/v2/projects/my-project/context-kinds/team",
            Some(json!({"name": "Team", "description": null, "version": null, "archived": null})),
        )
        .await;
    assert_eq!(kind.status, StatusCode::OK, "{}", kind.body);
    let mut body = valid_request();
    for field in ["randomizationUnit", "covariateId", "attributes", "canReshuffleTraffic"] {
        body[field] = Value::Null;
    }
    let created = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(body)).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.body["canReshuffleTraffic"], true);
    // A required field is not optional: null there is a missing field.
    let mut body = valid_request();
    body["hypothesis"] = Value::Null;
    let refused = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(body)).await;
    assert_eq!(error_paths(&refused.body), [("/hypothesis".to_owned(), "missing_field".to_owned())]);
}

#[tokio::test]
async fn documented_fields_the_server_does_not_use_are_still_checked() {
    let t = TestApp::new().await;
    let flag = json!({
        "key": "unused-fields", "name": "Unused fields",
        "includeInSnippet": {}, "purpose": "experiment", "maintainerTeamKey": 7,
        "migrationSettings": {"contextKind": "user"},
        "initialPrerequisites": [{"key": "example-flag-for-experiment"}],
        "variations": [{"value": true, "valueHash": 1}, {"value": false}],
    });
    let refused = t.call(Method::POST, FLAGS, Some(flag)).await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(
        error_paths(&refused.body),
        [
            ("/variations/0/valueHash", "wrong_type"),
            ("/includeInSnippet", "wrong_type"),
            ("/maintainerTeamKey", "wrong_type"),
            ("/purpose", "not_allowed"),
            ("/migrationSettings/stageCount", "missing_field"),
            ("/initialPrerequisites/0/variationId", "missing_field"),
        ]
        .map(|(path, code)| (path.to_owned(), code.to_owned()))
    );
    let well_typed = json!({
        "key": "unused-fields", "name": "Unused fields", "includeInSnippet": true, "purpose": "migration",
        "migrationSettings": {"stageCount": 2}, "initialPrerequisites": [], "maintainerTeamKey": null,
    });
    let created = t.call(Method::POST, FLAGS, Some(well_typed)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);

    let metric = json!({
        "key": "unused-metric-fields", "kind": "custom", "eventKey": "e",
        "windowStartOffset": "soon", "winsorUpperPercentile": true, "traceQuery": 1,
        "urls": [{"kind": "somewhere"}],
        "denominator": {"isNumeric": "yes", "dataSource": {}},
    });
    let refused = t.call(Method::POST, "/api/v2/metrics/my-project", Some(metric)).await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_request");
    let mut paths = error_paths(&refused.body);
    paths.sort();
    assert_eq!(
        paths,
        [
            ("/denominator/dataSource", "wrong_type"),
            ("/denominator/isNumeric", "wrong_type"),
            ("/traceQuery", "wrong_type"),
            ("/urls/0/kind", "not_allowed"),
            ("/windowStartOffset", "wrong_type"),
            ("/winsorUpperPercentile", "wrong_type"),
        ]
        .map(|(path, code)| (path.to_owned(), code.to_owned()))
    );
    let holdout = json!({
        "key": "unused-holdout-fields", "name": "H", "holdoutamount": "10",
        "metrics": [{"key": "metric-key-123abc", "primary": "yes"}],
    });
    let refused = t.call(Method::POST, HOLDOUTS, Some(holdout)).await;
    assert_eq!(error_paths(&refused.body), [("/metrics/0/primary".to_owned(), "wrong_type".to_owned())]);
}
