use serde_json::{Value, json};

use super::*;
use crate::builder::Treatment;
use crate::catalog::demo::{demo_catalog, demo_experiment};
use crate::ids::SequentialIds;
use crate::millis::UnixMillis;
use crate::resolve::resolve_iteration;

const FLAG: &str = "example-flag-for-experiment";
const CONTROL: &str = "e432f62b-55f6-49dd-a02f-eb24acf39d05";
const TOP_BUTTON: &str = "6c5a1c1e-8a43-4d5f-9a1c-3b6f0d2e7a10";
const NOW: UnixMillis = UnixMillis(1_700_000_000_000);

fn input() -> IterationInput {
    IterationInput::builder("Top buttons convert better")
        .metric("metric-key-123abc")
        .metric("checkout-pageview")
        .metric_group("metric-group-key-123abc")
        .primary()
        .flag(FLAG, FlagInput::rule(CONTROL, 12))
        .treatment(Treatment::baseline("Control", "50").serve(FLAG, CONTROL))
        .treatment(Treatment::new("Top button", "50").serve(FLAG, TOP_BUTTON))
        .covariate("74a49a2b-4834-4246-917e-5d85231d8c2a")
        .build()
        .expect("a valid input")
}

fn resolved(input: &IterationInput) -> IterationRep {
    let catalog = demo_catalog("production");
    resolve_iteration(
        &catalog,
        &demo_experiment("example-experiment"),
        input,
        NOW,
        &mut SequentialIds::new(1),
    )
    .expect("resolves")
}

fn update(operation: &str, value: Option<Value>) -> FieldUpdate {
    FieldUpdate { operation: FieldOperation::from(operation), value }
}

fn apply(input: &mut IterationInput, updates: &[(&str, FieldUpdate)]) -> Result<(), FieldUpdateError> {
    input.apply_field_updates(updates.iter().map(|(field, update)| (*field, update)))
}

fn paths(error: FieldUpdateError) -> Vec<String> {
    match error {
        FieldUpdateError::Invalid(violations) => violations.into_iter().map(|v| v.path).collect(),
        other => panic!("expected violations, got {other:?}"),
    }
}

fn refusal(error: FieldUpdateError) -> String {
    match error {
        FieldUpdateError::Refused(Refusal(message)) => message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_resolved_iteration_converts_back_to_the_input_with_what_resolution_filled_in() {
    let iteration = resolved(&input());
    let again = iteration.to_input().expect("converts");
    let mut expected = input();
    // What resolution chose where the input left it open is now explicit.
    expected.can_reshuffle_traffic = Some(true);
    expected.randomization_unit = Some("user".to_owned());
    expected.primary_funnel_key = Some("metric-group-key-123abc".to_owned());
    expected.metrics.iter_mut().for_each(|m| m.primary = None);
    expected.flags.get_mut(FLAG).expect("flag").not_in_experiment_variation_id = Some(CONTROL.to_owned());
    assert_eq!(again, expected);
    assert_eq!(resolved(&again), iteration);
}

#[test]
fn what_an_input_cannot_do_without_is_reported_at_its_path() {
    let mut iteration = resolved(&input());
    let flag = iteration.flags.as_mut().and_then(|f| f.get_mut(FLAG)).expect("flag");
    flag.targeting_rule = None;
    let treatments = iteration.treatments.as_mut().expect("treatments");
    treatments[1].allocation_percent = "half".to_owned();
    treatments[0].parameters.as_mut().expect("parameters")[0].variation_id = None;
    let violations = iteration.to_input().expect_err("incomplete");
    let found: Vec<(&str, ViolationCode)> =
        violations.iter().map(|v| (v.path.as_str(), v.code.clone())).collect();
    assert_eq!(
        found,
        [
            ("/treatments/0/parameters/0/variationId", ViolationCode::MissingField),
            ("/treatments/1/allocationPercent", ViolationCode::InvalidAllocation),
            ("/flags/example-flag-for-experiment/ruleId", ViolationCode::MissingField),
        ]
    );
}

#[test]
fn add_appends_one_item_or_each_of_a_list_and_sets_an_absent_field() {
    let mut input = input();
    apply(&mut input, &[("metrics", update("add", Some(json!({"key": "buy-button-click"}))))])
        .expect("added");
    apply(&mut input, &[("metrics", update("add", Some(json!([{"key": "org-revenue"}, {"key": "x"}]))))])
        .expect("added");
    let keys: Vec<&str> = input.metrics.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "metric-key-123abc",
            "checkout-pageview",
            "metric-group-key-123abc",
            "buy-button-click",
            "org-revenue",
            "x"
        ]
    );
    apply(&mut input, &[("attributes", update("add", Some(json!(["country"]))))]).expect("set");
    apply(&mut input, &[("attributes", update("add", Some(json!("device"))))]).expect("added");
    assert_eq!(input.attributes, Some(vec!["country".to_owned(), "device".to_owned()]));
    apply(&mut input, &[("randomizationUnit", update("add", Some(json!("organization"))))]).expect("set");
    assert_eq!(input.randomization_unit.as_deref(), Some("organization"));
}

#[test]
fn remove_takes_a_field_away_or_the_items_it_names() {
    let mut input = input();
    let gone = json!(["checkout-pageview", {"key": "metric-group-key-123abc"}]);
    apply(&mut input, &[("metrics", update("remove", Some(gone)))]).expect("removed");
    let keys: Vec<&str> = input.metrics.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys, ["metric-key-123abc"]);
    let control = serde_json::to_value(&input.treatments[0]).expect("json");
    apply(&mut input, &[("treatments", update("remove", Some(control)))]).expect("removed");
    assert_eq!(input.treatments.len(), 1);
    assert_eq!(input.treatments[0].name, "Top button");
    apply(&mut input, &[("flags", update("remove", Some(json!(FLAG))))]).expect("removed");
    assert!(input.flags.is_empty());
    apply(&mut input, &[("covariateId", update("remove", None))]).expect("removed");
    assert_eq!(input.covariate_id, None);
}

#[test]
fn flags_take_entries_by_key() {
    let mut input = input();
    let entry = json!({"example-flag-key": {"ruleId": "fallthrough", "flagConfigVersion": 1}});
    apply(&mut input, &[("flags", update("add", Some(entry)))]).expect("added");
    assert_eq!(input.flags.get("example-flag-key"), Some(&FlagInput::fallthrough(1)));
    // The documentation's form: a string that holds the object.
    let replaced = json!("{\"example-flag-key\": {\"ruleId\": \"fallthrough\", \"flagConfigVersion\": 2}}");
    apply(&mut input, &[("flags", update("update", Some(replaced)))]).expect("replaced");
    assert_eq!(input.flags.keys().collect::<Vec<_>>(), ["example-flag-key"]);
    assert_eq!(
        refusal(apply(&mut input, &[("flags", update("add", Some(json!([]))))]).unwrap_err()),
        "add to `flags` needs an object value"
    );
    assert_eq!(
        refusal(apply(&mut input, &[("flags", update("remove", Some(json!(1))))]).unwrap_err()),
        "remove from `flags` needs a key"
    );
}

#[test]
fn an_update_without_what_it_needs_is_refused() {
    let mut input = input();
    assert_eq!(
        refusal(apply(&mut input, &[("hypothesis", update("update", None))]).unwrap_err()),
        "update of `hypothesis` needs a value"
    );
    assert_eq!(
        refusal(apply(&mut input, &[("metrics", update("add", None))]).unwrap_err()),
        "add of `metrics` needs a value"
    );
    assert_eq!(
        refusal(apply(&mut input, &[("metrics", update("replace", Some(json!([]))))]).unwrap_err()),
        "operation `replace` is not one of add, update, remove"
    );
    assert_eq!(
        refusal(apply(&mut input, &[("status", update("update", Some(json!("running"))))]).unwrap_err()),
        "`status` is not a field that can be changed"
    );
}

#[test]
fn every_unreadable_value_is_reported_in_the_order_the_input_is_read() {
    let mut input = input();
    let updates = [
        ("treatments", update("update", Some(json!([{"name": "A"}])))),
        ("metrics", update("add", Some(json!([{"key": "ok"}, {"key": 7}])))),
        ("hypothesis", update("remove", None)),
        ("canReshuffleTraffic", update("update", Some(json!("yes")))),
    ];
    let violations = match apply(&mut input, &updates).unwrap_err() {
        FieldUpdateError::Invalid(violations) => violations,
        other => panic!("expected violations, got {other:?}"),
    };
    let found: Vec<(&str, &str)> = violations.iter().map(|v| (v.path.as_str(), v.message.as_str())).collect();
    assert_eq!(
        found,
        [
            ("/hypothesis", "hypothesis is required"),
            ("/canReshuffleTraffic", "expected a boolean, found a string"),
            // The item's index is where it lands after the three already there.
            ("/metrics/4/key", "expected a string, found a number"),
            ("/treatments/0/baseline", "baseline is required"),
            ("/treatments/0/allocationPercent", "allocationPercent is required"),
            ("/treatments/0/parameters", "parameters is required"),
        ]
    );
    let mut input = self::input();
    let removed = apply(&mut input, &[("flags", update("remove", None))]).unwrap_err();
    assert_eq!(paths(removed), ["/flags"]);
}
