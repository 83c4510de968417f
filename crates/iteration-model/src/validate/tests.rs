use serde_json::{Value, json};

use crate::experiment::ExperimentPost;
use crate::input::IterationInput;
use crate::patch::ExperimentPatchInput;
use crate::violation::{ViolationCode, Violations};

use ViolationCode::*;

const DOCS_REQUEST: &str = include_str!("../../fixtures/docs/create-iteration.request.json");

/// The valid request of `docs/demo-world.md`, from the fixture every test shares.
fn valid() -> Value {
    // The fixture is committed JSON; a parse failure is a broken checkout.
    serde_json::from_str(include_str!("../../fixtures/demo/valid-request.json"))
        .expect("fixtures/demo/valid-request.json is JSON")
}

fn violations_of(body: Value) -> Violations {
    let input = IterationInput::from_json(&body).expect("the body is well-typed");
    input.validate().expect_err("the body breaks a rule")
}

fn paths_and_codes(violations: &Violations) -> Vec<(&str, &ViolationCode)> {
    violations.iter().map(|v| (v.path.as_str(), &v.code)).collect()
}

/// Applies `change` to the valid request and returns its one violation.
fn only_violation(change: impl FnOnce(&mut Value)) -> (String, ViolationCode, String) {
    let mut body = valid();
    change(&mut body);
    let violations = violations_of(body);
    assert_eq!(violations.len(), 1, "{violations}");
    let v = violations.as_slice()[0].clone();
    (v.path, v.code, v.message)
}

#[test]
fn the_demo_world_request_is_valid() {
    let input = IterationInput::from_json(&valid()).unwrap();
    assert_eq!(input.validate(), Ok(()));
}

#[test]
fn the_docs_request_has_every_shape_problem_the_demo_world_lists() {
    let body: Value = serde_json::from_str(DOCS_REQUEST).unwrap();
    let violations = violations_of(body);
    assert_eq!(
        paths_and_codes(&violations),
        [
            ("/primaryFunnelKey", &PrimaryMetricAmbiguous),
            ("/primarySingleMetricKey", &PrimaryMetricKind),
            ("/primaryFunnelKey", &PrimaryMetricNotInMetrics),
            ("/treatments", &TooFew),
            ("/treatments", &AllocationSum),
            ("/treatments/0/parameters/0/flagKey", &ParameterUnknownFlag),
            ("/treatments/0/parameters", &ParameterMissing),
        ],
        "{violations}"
    );
    let messages: Vec<&str> = violations.iter().map(|v| v.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "both primarySingleMetricKey and primaryFunnelKey are given; give exactly one",
            "primarySingleMetricKey `metric-key-123abc` is a metric group in metrics (isGroup: true); \
             name a single metric, or use primaryFunnelKey",
            "primaryFunnelKey `metric-group-key-123abc` is not among metrics; add it to metrics or name one of them",
            "1 treatment given; an experiment needs at least 2 (a baseline and one to compare with it)",
            "allocations sum to 10; they must sum to 100",
            "flag `example-flag-for-experiment` is not in flags; add it to flags or remove this parameter",
            "treatment `Treatment 1` has no parameter for flag `example-flag-key`; \
             give one variation of every flag in flags",
        ]
    );
}

#[test]
fn hypothesis_not_blank() {
    let (path, code, message) = only_violation(|b| b["hypothesis"] = json!("  "));
    assert_eq!((path.as_str(), code), ("/hypothesis", Blank));
    assert_eq!(message, "hypothesis is blank; state the outcome the experiment expects");
}

#[test]
fn metrics_not_empty() {
    let mut body = valid();
    body["metrics"] = json!([]);
    let violations = violations_of(body);
    assert_eq!(
        paths_and_codes(&violations),
        [("/metrics", &TooFew), ("/primarySingleMetricKey", &PrimaryMetricNotInMetrics)]
    );
}

#[test]
fn metric_keys_valid_and_unique() {
    let mut body = valid();
    body["metrics"] = json!([
        {"key": "metric-key-123abc"},
        {"key": "no spaces"},
        {"key": "metric-key-123abc"}
    ]);
    let violations = violations_of(body);
    assert_eq!(
        paths_and_codes(&violations),
        [("/metrics/1/key", &InvalidKey), ("/metrics/2/key", &Duplicate)]
    );
    assert_eq!(
        violations.as_slice()[1].message,
        "metric `metric-key-123abc` is listed twice; list each metric once"
    );
}

#[test]
fn primary_metric_missing() {
    let (path, code, _) = only_violation(|b| {
        b.as_object_mut().unwrap().remove("primarySingleMetricKey");
    });
    assert_eq!((path.as_str(), code), ("/primarySingleMetricKey", PrimaryMetricMissing));
}

#[test]
fn legacy_primary_flag_chooses_the_primary() {
    let mut body = valid();
    body.as_object_mut().unwrap().remove("primarySingleMetricKey");
    body["metrics"][1]["primary"] = json!(true);
    let input = IterationInput::from_json(&body).unwrap();
    assert_eq!(input.validate(), Ok(()));
    assert_eq!(super::primary_metric(&input), Some(super::Primary::Funnel("metric-group-key-123abc")));

    body["metrics"][0]["primary"] = json!(true);
    let violations = violations_of(body);
    assert_eq!(paths_and_codes(&violations), [("/metrics", &PrimaryMetricAmbiguous)]);
}

#[test]
fn primary_funnel_must_be_a_group_in_metrics() {
    let (path, code, message) = only_violation(|b| {
        b.as_object_mut().unwrap().remove("primarySingleMetricKey");
        b["primaryFunnelKey"] = json!("metric-key-123abc");
    });
    assert_eq!((path.as_str(), code), ("/primaryFunnelKey", PrimaryMetricKind));
    assert_eq!(
        message,
        "primaryFunnelKey `metric-key-123abc` is a single metric in metrics; name a metric group (isGroup: true)"
    );
}

#[test]
fn at_least_two_treatments() {
    let mut body = valid();
    body["treatments"] = json!([]);
    let violations = violations_of(body);
    assert_eq!(paths_and_codes(&violations), [("/treatments", &TooFew)]);
    assert_eq!(
        violations.as_slice()[0].message,
        "0 treatments given; an experiment needs at least 2 (a baseline and one to compare with it)"
    );
}

#[test]
fn one_baseline() {
    let (path, code, message) = only_violation(|b| b["treatments"][0]["baseline"] = json!(false));
    assert_eq!((path.as_str(), code), ("/treatments", BaselineCount));
    assert_eq!(message, "no treatment is the baseline; mark exactly one with baseline: true");

    let (path, code, message) = only_violation(|b| b["treatments"][1]["baseline"] = json!(true));
    assert_eq!((path.as_str(), code), ("/treatments/1/baseline", BaselineCount));
    assert_eq!(message, "treatment 1 is a baseline, as treatment 0 is; mark exactly one with baseline: true");
}

#[test]
fn treatment_names_not_blank_and_unique() {
    let (path, code, _) = only_violation(|b| b["treatments"][1]["name"] = json!(""));
    assert_eq!((path.as_str(), code), ("/treatments/1/name", Blank));
    let (path, code, message) = only_violation(|b| b["treatments"][1]["name"] = json!("Control"));
    assert_eq!((path.as_str(), code), ("/treatments/1/name", Duplicate));
    assert_eq!(message, "treatment name `Control` is used twice; give each treatment its own name");
}

#[test]
fn allocations_sum_to_hundred_exactly() {
    let (path, code, message) = only_violation(|b| b["treatments"][1]["allocationPercent"] = json!("40"));
    assert_eq!((path.as_str(), code), ("/treatments", AllocationSum));
    assert_eq!(message, "allocations sum to 90; they must sum to 100");

    let mut body = valid();
    let third = json!({"name": "Side button", "baseline": false, "allocationPercent": "33.34",
        "parameters": [{"flagKey": "example-flag-for-experiment", "variationId": "9f0e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"}]});
    body["treatments"].as_array_mut().unwrap().push(third);
    body["treatments"][0]["allocationPercent"] = json!("33.33");
    body["treatments"][1]["allocationPercent"] = json!(33.33);
    assert_eq!(IterationInput::from_json(&body).unwrap().validate(), Ok(()));
}

#[test]
fn flags_not_empty() {
    let mut body = valid();
    body["flags"] = json!({});
    let violations = violations_of(body);
    assert_eq!(
        paths_and_codes(&violations),
        [
            ("/flags", &TooFew),
            ("/treatments/0/parameters/0/flagKey", &ParameterUnknownFlag),
            ("/treatments/1/parameters/0/flagKey", &ParameterUnknownFlag),
        ]
    );
}

#[test]
fn rule_id_not_blank_and_version_positive() {
    let mut body = valid();
    body["flags"]["example-flag-for-experiment"]["ruleId"] = json!(" ");
    body["flags"]["example-flag-for-experiment"]["flagConfigVersion"] = json!(0);
    let violations = violations_of(body);
    assert_eq!(
        paths_and_codes(&violations),
        [
            ("/flags/example-flag-for-experiment/ruleId", &Blank),
            ("/flags/example-flag-for-experiment/flagConfigVersion", &OutOfRange),
        ]
    );
    assert_eq!(
        violations.as_slice()[1].message,
        "flagConfigVersion of flag `example-flag-for-experiment` is 0; it must be at least 1 (the flag's current version)"
    );
}

#[test]
fn flag_keys_are_escaped_in_paths() {
    let mut body = valid();
    let flag = body["flags"]["example-flag-for-experiment"].clone();
    body["flags"]["a/b~c"] = flag;
    body["flags"]["a/b~c"]["ruleId"] = json!("");
    let violations = violations_of(body);
    let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
    assert_eq!(paths, ["/flags/a~1b~0c/ruleId", "/treatments/0/parameters", "/treatments/1/parameters"]);
}

#[test]
fn one_parameter_per_flag() {
    let (path, code, message) = only_violation(|b| {
        let parameter = b["treatments"][0]["parameters"][0].clone();
        b["treatments"][0]["parameters"].as_array_mut().unwrap().push(parameter);
        b["treatments"][0]["parameters"][1]["variationId"] = json!("9f0e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f");
    });
    assert_eq!((path.as_str(), code), ("/treatments/0/parameters/1/flagKey", ParameterDuplicateFlag));
    assert_eq!(
        message,
        "treatment `Control` has two parameters for flag `example-flag-for-experiment`; give one variation per flag"
    );
    let (path, code, _) = only_violation(|b| b["treatments"][1]["parameters"] = json!([]));
    assert_eq!((path.as_str(), code), ("/treatments/1/parameters", ParameterMissing));
}

#[test]
fn variations_not_reused() {
    let (path, code, message) = only_violation(|b| {
        b["treatments"][1]["parameters"][0]["variationId"] = json!("e432f62b-55f6-49dd-a02f-eb24acf39d05");
    });
    assert_eq!((path.as_str(), code), ("/treatments/1/parameters/0/variationId", VariationReused));
    assert_eq!(
        message,
        "treatment `Top button` serves variation `e432f62b-55f6-49dd-a02f-eb24acf39d05` of flag \
         `example-flag-for-experiment`, as treatment `Control` does; each treatment must serve a different variation"
    );
}

#[test]
fn reallocation_frequency_at_least_a_minute() {
    let (path, code, message) = only_violation(|b| b["reallocationFrequencyMillis"] = json!(59_999));
    assert_eq!((path.as_str(), code), ("/reallocationFrequencyMillis", OutOfRange));
    assert_eq!(message, "reallocationFrequencyMillis is 59999; it must be at least 60000 (one minute)");
}

#[test]
fn attributes_valid() {
    let mut body = valid();
    body["attributes"] = json!(["a", "b", "", "a", "c", "d"]);
    let violations = violations_of(body);
    assert_eq!(
        paths_and_codes(&violations),
        [("/attributes", &TooMany), ("/attributes/2", &Blank), ("/attributes/3", &Duplicate)]
    );
    assert_eq!(violations.as_slice()[0].message, "6 attributes given; at most 5 are allowed");
}

#[test]
fn experiment_post_rules_are_prefixed_with_iteration() {
    let mut iteration = valid();
    iteration["hypothesis"] = json!("");
    let body = json!({"name": " ", "key": "bad key", "tags": ["x", "", "x"], "iteration": iteration});
    let post = ExperimentPost::from_json(&body).unwrap();
    let violations = post.validate().unwrap_err();
    assert_eq!(
        paths_and_codes(&violations),
        [
            ("/name", &Blank),
            ("/key", &InvalidKey),
            ("/tags/1", &Blank),
            ("/tags/2", &Duplicate),
            ("/iteration/hypothesis", &Blank),
        ]
    );
    let ok = ExperimentPost::from_json(&json!({"name": "N", "key": "k", "iteration": valid()})).unwrap();
    assert_eq!(ok.validate(), Ok(()));
}

#[test]
fn patch_rules() {
    let body = json!({"instructions": [
        {"kind": "updateName", "value": ""},
        {"kind": "stopIteration", "winningTreatmentId": " "},
        {"kind": "updateExperimentFields", "value": {}},
        {"kind": "updateExperimentFields", "value": {
            "hypothesis": {"operation": "update", "value": "h"},
            "colour": {"operation": "paint", "value": "red"}
        }},
        {"kind": "saveAndStartNewIteration", "value": {"status": {"operation": "update"}}},
        {"kind": "launchRocket"},
        {"kind": "startIteration"}
    ]});
    let patch = ExperimentPatchInput::from_json(&body).unwrap();
    let violations = patch.validate().unwrap_err();
    assert_eq!(
        paths_and_codes(&violations),
        [
            ("/instructions/0/value", &Blank),
            ("/instructions/1/winningTreatmentId", &Blank),
            ("/instructions/2/value", &TooFew),
            ("/instructions/3/value/colour", &UnknownField),
            ("/instructions/3/value/colour/operation", &NotAllowed),
            ("/instructions/4/value/status", &UnknownField),
            ("/instructions/5/kind", &UnknownInstruction),
        ]
    );
    assert!(
        violations.as_slice()[6]
            .message
            .starts_with("unknown instruction kind `launchRocket`; use one of updateName")
    );

    let empty = ExperimentPatchInput::from_json(&json!({"instructions": []})).unwrap();
    assert_eq!(paths_and_codes(&empty.validate().unwrap_err()), [("/instructions", &TooFew)]);
    let fine =
        ExperimentPatchInput::from_json(&json!({"instructions": [{"kind": "archiveExperiment"}]})).unwrap();
    assert_eq!(fine.validate(), Ok(()));
}

#[test]
fn extreme_values_are_reported_not_panicked_on() {
    let body = json!({
        "hypothesis": "\u{0}\u{200b}",
        "metrics": [{"key": "é/~", "isGroup": true, "primary": true}, {"key": "", "primary": true}],
        "treatments": [
            {"name": "Ω", "baseline": true, "allocationPercent": "100", "parameters": [{"flagKey": "", "variationId": ""}]},
            {"name": "Ω", "baseline": true, "allocationPercent": "100", "parameters": []}
        ],
        "flags": {"": {"ruleId": "", "flagConfigVersion": i64::MIN}},
        "reallocationFrequencyMillis": i64::MIN,
        "attributes": []
    });
    let violations = violations_of(body);
    assert_eq!(
        paths_and_codes(&violations),
        [
            ("/metrics/0/key", &InvalidKey),
            ("/metrics/1/key", &InvalidKey),
            ("/metrics", &PrimaryMetricAmbiguous),
            ("/treatments/1/baseline", &BaselineCount),
            ("/treatments/1/name", &Duplicate),
            ("/treatments", &AllocationSum),
            ("/flags//ruleId", &Blank),
            ("/flags//flagConfigVersion", &OutOfRange),
            ("/treatments/1/parameters", &ParameterMissing),
            ("/reallocationFrequencyMillis", &OutOfRange),
        ]
    );
}

/// Invisible characters (zero-width space and joiners, word joiner, byte
/// order mark) and Unicode white space count as nothing: a value of only
/// those is blank, and two values that differ only by them are the same.
#[test]
fn invisible_characters_are_nothing_for_blank_and_unique() {
    for nothing in ["\u{200B}", "\u{200C}\u{200D}", "\u{2060}", "\u{FEFF}", "\u{3000}\u{00A0}", " \u{200B}\t"]
    {
        let (path, code, _) = only_violation(|b| b["hypothesis"] = json!(nothing));
        assert_eq!((path.as_str(), code), ("/hypothesis", Blank), "{nothing:?}");
        let (path, code, _) = only_violation(|b| b["treatments"][1]["name"] = json!(nothing));
        assert_eq!((path.as_str(), code), ("/treatments/1/name", Blank), "{nothing:?}");
        let (path, code, _) = only_violation(|b| b["attributes"][0] = json!(nothing));
        assert_eq!((path.as_str(), code), ("/attributes/0", Blank), "{nothing:?}");
    }
    let (path, code, _) = only_violation(|b| b["treatments"][1]["name"] = json!("Control\u{200B}"));
    assert_eq!((path.as_str(), code), ("/treatments/1/name", Duplicate));
    let (path, code, _) = only_violation(|b| b["treatments"][1]["name"] = json!("\u{FEFF}Control "));
    assert_eq!((path.as_str(), code), ("/treatments/1/name", Duplicate));
    let (path, code, _) = only_violation(|b| b["attributes"][1] = json!("country\u{2060}"));
    assert_eq!((path.as_str(), code), ("/attributes/1", Duplicate));
    // Visible text is never changed: a name with an invisible character inside stays valid alone.
    let mut body = valid();
    body["treatments"][1]["name"] = json!("Top\u{200B}button");
    assert!(IterationInput::from_json(&body).unwrap().validate().is_ok());
}

#[test]
fn an_experiment_name_or_tag_of_invisible_characters_is_blank() {
    let mut post =
        json!({"name": "\u{200B}", "key": "k", "tags": ["a", "a\u{200D}", "\u{FEFF}"], "iteration": valid()});
    let violations = ExperimentPost::from_json(&post).unwrap().validate().expect_err("breaks rules");
    assert_eq!(
        paths_and_codes(&violations),
        [("/name", &Blank), ("/tags/1", &Duplicate), ("/tags/2", &Blank)],
        "{violations}"
    );
    post["name"] = json!("Fine");
    post["tags"] = json!(["a"]);
    assert!(ExperimentPost::from_json(&post).unwrap().validate().is_ok());
}
