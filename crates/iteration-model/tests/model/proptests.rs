//! Property tests. `cargo test` runs 64 cases each; `cargo xtask proptest`
//! runs them in release mode with `PROPTEST_CASES` (default 10 000).

use std::fmt::Debug;

use iteration_model::{
    AllocationPercent, ExperimentPatchInput, ExperimentPost, IterationInput, IterationRep, UnixMillis,
};
use proptest::collection::vec;
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::schema::check;
use crate::strategies::{self, config};

/// value → JSON text → value is the identity, and writing again gives the
/// same bytes (JSON → value → JSON is the identity on what the model writes).
fn round_trips<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) -> Result<(), TestCaseError> {
    let text = serde_json::to_string(value).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let read: T = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
    prop_assert_eq!(&read, value);
    let again = serde_json::to_string(&read).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(again, text);
    Ok(())
}

macro_rules! round_trip_properties {
    ($($name:ident: $strategy:expr;)*) => {
        proptest! {
            #![proptest_config(config())]
            $(
                #[test]
                fn $name(value in $strategy) {
                    round_trips(&value)?;
                }
            )*
        }
    };
}

round_trip_properties! {
    iteration_rep_round_trips: strategies::iteration_rep();
    experiment_round_trips: strategies::experiment();
    experiment_collection_round_trips: strategies::experiment_collection();
    flag_rep_round_trips: strategies::flag_rep();
    treatment_rep_round_trips: strategies::treatment_rep();
    metric_reps_round_trip: strategies::dependent_metric_rep();
    metric_group_round_trips: strategies::group_with_metrics();
    covariate_info_round_trips: strategies::covariate_info();
    layer_snapshot_round_trips: strategies::layer_snapshot();
    analysis_config_round_trips: strategies::analysis_config_rep();
    error_rep_round_trips: strategies::error_rep();
    iteration_input_round_trips: strategies::iteration_input();
    experiment_post_round_trips: strategies::experiment_post();
    patch_round_trips: strategies::patch();
    iteration_status_round_trips: strategies::iteration_status();
    metric_kind_round_trips: strategies::metric_kind();
    unit_aggregation_round_trips: strategies::unit_aggregation_type();
    experiment_type_round_trips: strategies::experiment_type();
    methodology_round_trips: strategies::methodology();
    data_source_round_trips: strategies::data_source();
    field_operation_round_trips: strategies::field_operation();
    unix_millis_round_trips: strategies::millis();
    allocation_round_trips: strategies::allocation();
}

/// Ten-thousandths of a percent, computed from the text with integers only.
fn units_of(text: &str) -> u64 {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let fraction = format!("{fraction:0<4}");
    whole.parse::<u64>().unwrap_or(0) * 10_000 + fraction.parse::<u64>().unwrap_or(0)
}

/// The shortest decimal of `units`, with integers only.
fn shortest(units: u64) -> String {
    let (whole, fraction) = (units / 10_000, units % 10_000);
    if fraction == 0 {
        return whole.to_string();
    }
    format!("{whole}.{}", format!("{fraction:04}").trim_end_matches('0'))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn allocation_text_round_trips(text in strategies::allocation_text()) {
        let parsed = AllocationPercent::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed.to_string(), text.clone());
        prop_assert_eq!(u64::from(parsed.units()), units_of(&text));
        prop_assert_eq!(serde_json::to_string(&parsed).ok(), Some(format!("\"{text}\"")));
    }

    #[test]
    fn allocation_sums_are_exact(texts in vec(strategies::allocation_text(), 0..8)) {
        let parts: Vec<AllocationPercent> = texts.iter().filter_map(|t| t.parse().ok()).collect();
        let expected: u64 = texts.iter().map(|t| units_of(t)).sum();
        let total = AllocationPercent::total(&parts);
        prop_assert_eq!(total.units(), expected);
        prop_assert_eq!(total.is_hundred(), expected == 1_000_000);
        prop_assert_eq!(total.to_string(), shortest(expected));
    }

    #[test]
    fn allocation_rejects_more_than_four_decimals(whole in 0u32..100, fraction in "[0-9]{5,8}") {
        let text = format!("{whole}.{fraction}");
        prop_assert!(matches!(
            AllocationPercent::parse(&text),
            Err(iteration_model::InvalidAllocation::TooPrecise(t)) if t == text
        ));
    }

    #[test]
    fn unix_millis_reads_digit_strings(millis in any::<i64>()) {
        let from_string: UnixMillis = serde_json::from_value(Value::String(millis.to_string()))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(from_string, UnixMillis(millis));
        prop_assert_eq!(serde_json::to_value(from_string).ok(), Some(Value::from(millis)));
    }

    #[test]
    fn reps_keep_unknown_fields_in_canonical_json(rep in strategies::iteration_rep()) {
        let written = serde_json::to_value(&rep).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let read: IterationRep =
            serde_json::from_value(written.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&read.extra, &rep.extra);
        prop_assert_eq!(serde_json::to_value(&read).ok(), Some(written));
    }

    #[test]
    fn written_timestamps_are_integers_the_schema_accepts(
        hypothesis in strategies::text(),
        created_at in strategies::millis(),
        covariate in strategies::covariate_info(),
    ) {
        let rep = IterationRep {
            id: None,
            hypothesis,
            status: iteration_model::IterationStatus::NotStarted,
            created_at,
            started_at: Some(created_at),
            ended_at: None,
            winning_treatment_id: None,
            winning_reason: None,
            can_reshuffle_traffic: None,
            flags: None,
            reallocation_frequency_millis: None,
            version: Some(0),
            primary_metric: None,
            primary_single_metric: None,
            primary_funnel: None,
            randomization_unit: None,
            attributes: None,
            treatments: None,
            secondary_metrics: None,
            metrics: None,
            layer_snapshot: None,
            covariate_info: Some(covariate),
            extra: Default::default(),
        };
        let written = serde_json::to_value(&rep).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(check("IterationRep", &written), Vec::<String>::new());
    }

    #[test]
    fn readers_never_panic_on_arbitrary_json(value in strategies::any_json()) {
        let _ = IterationInput::from_json(&value);
        let _ = ExperimentPost::from_json(&value);
        let _ = ExperimentPatchInput::from_json(&value);
        let _ = serde_json::from_value::<IterationRep>(value);
    }

    #[test]
    fn readers_never_panic_on_mutated_inputs(
        input in strategies::iteration_input(),
        at in any::<prop::sample::Index>(),
        replacement in strategies::any_json(),
    ) {
        let mut value = serde_json::to_value(&input).map_err(|e| TestCaseError::fail(e.to_string()))?;
        replace_node(&mut value, at, replacement.clone());
        let _ = IterationInput::from_json(&value);
        let post = serde_json::json!({"name": "n", "key": "k", "iteration": value});
        let _ = ExperimentPost::from_json(&post);
        let patch = serde_json::json!({"instructions": [{"kind": "updateExperimentFields", "value": {"treatments": {"operation": "update", "value": replacement}}}]});
        let _ = ExperimentPatchInput::from_json(&patch);
    }
}

/// Replaces one node of `value`, chosen by `at` among all its nodes in
/// preorder, with `replacement`.
pub(crate) fn replace_node(value: &mut Value, at: prop::sample::Index, replacement: Value) {
    let target = at.index(count_nodes(value));
    let mut seen = 0;
    replace_nth(value, target, &mut seen, replacement);
}

fn count_nodes(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count_nodes).sum(),
        Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

fn replace_nth(value: &mut Value, target: usize, seen: &mut usize, replacement: Value) -> Option<Value> {
    if *seen == target {
        *value = replacement;
        return None;
    }
    *seen += 1;
    let mut replacement = Some(replacement);
    let children: Vec<&mut Value> = match value {
        Value::Array(items) => items.iter_mut().collect(),
        Value::Object(map) => map.values_mut().collect(),
        _ => Vec::new(),
    };
    for child in children {
        let Some(r) = replacement.take() else { break };
        replacement = replace_nth(child, target, seen, r);
    }
    replacement
}
