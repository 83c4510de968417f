//! Property tests. `cargo test` runs 64 cases each; `cargo xtask proptest`
//! runs them in release mode with `PROPTEST_CASES` (default 10 000).

use std::fmt::Debug;

use iteration_model::{
    AllocationPercent, Expand, ExperimentPatchInput, ExperimentPost, FieldOperation, FieldUpdate,
    IterationInput, IterationRep, JsonPatch, JsonPointer, LAYER_CAPACITY, MetricInput, PatchForm,
    PatchOperation, ResolveError, SequentialIds, UnixMillis, ViolationCode, Violations, WriteJson,
    resolve_iteration, to_json_vec,
};
use proptest::collection::vec;
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::fixtures::resolve::NOW;
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
    json_patch_round_trips: strategies::json_patch();
    patch_operation_round_trips: strategies::patch_operation();
    json_pointer_round_trips: strategies::json_pointer();
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

proptest! {
    #![proptest_config(config())]

    /// What the typed client sends to create a flag reads back the same.
    #[test]
    fn feature_flag_body_round_trips(body in strategies::feature_flag_body()) {
        let written = serde_json::to_value(&body).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let read = iteration_model::FeatureFlagBody::from_json(&written)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(read, body);
    }

    /// What the typed client sends as a flag's semantic patch reads back the same.
    #[test]
    fn flag_patch_round_trips(patch in strategies::flag_patch()) {
        let written = serde_json::to_value(&patch).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let read = iteration_model::FlagPatch::from_json(&written).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(read, patch);
    }
}

/// The direct writer gives serde_json's bytes exactly.
fn writes_like_serde_json<T: Serialize + WriteJson>(value: &T) -> Result<(), TestCaseError> {
    let serde = serde_json::to_vec(value).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let direct = to_json_vec(value);
    prop_assert_eq!(String::from_utf8_lossy(&direct), String::from_utf8_lossy(&serde));
    Ok(())
}

macro_rules! write_json_properties {
    ($($name:ident: $strategy:expr;)*) => {
        proptest! {
            #![proptest_config(config())]
            $(
                #[test]
                fn $name(value in $strategy) {
                    writes_like_serde_json(&value)?;
                }
            )*
        }
    };
}

write_json_properties! {
    iteration_rep_writes_like_serde_json: strategies::iteration_rep();
    experiment_writes_like_serde_json: strategies::experiment();
    experiment_collection_writes_like_serde_json: strategies::experiment_collection();
    flag_rep_writes_like_serde_json: strategies::flag_rep();
    treatment_rep_writes_like_serde_json: strategies::treatment_rep();
    metric_reps_write_like_serde_json: strategies::dependent_metric_rep();
    metric_group_writes_like_serde_json: strategies::group_with_metrics();
    covariate_info_writes_like_serde_json: strategies::covariate_info();
    layer_snapshot_writes_like_serde_json: strategies::layer_snapshot();
    analysis_config_writes_like_serde_json: strategies::analysis_config_rep();
}

proptest! {
    #![proptest_config(config())]

    #[test]
    /// `write_applied` writes what `apply` on a copy would serialize to,
    /// for every combination of expands, and leaves the experiment as it was.
    #[test]
    fn expand_write_applied_writes_apply_without_copying(
        experiment in strategies::experiment(),
        bits in 0_u8..64,
    ) {
        let expand = (0..6)
            .filter(|bit| bits & (1 << bit) != 0)
            .map(|bit| Expand::parse(["draftIteration", "previousIterations", "treatments", "secondaryMetrics", "analysisConfig", "mutableFieldsByStatus"][bit]))
            .fold(Expand::NONE, |a, b| a | b);
        let expected = serde_json::to_vec(&expand.apply(experiment.clone())).unwrap();
        let mut written = experiment.clone();
        let mut out = Vec::new();
        expand.write_applied(&mut written, &mut out);
        prop_assert_eq!(String::from_utf8(out).unwrap(), String::from_utf8(expected).unwrap());
        prop_assert_eq!(written, experiment);
    }

    #[test]
    fn any_string_writes_like_serde_json(text in any::<String>(), ascii in "[\\x00-\\x7f]{0,40}") {
        writes_like_serde_json(&text)?;
        writes_like_serde_json(&ascii)?;
    }
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

proptest! {
    #![proptest_config(config())]

    /// The direct reader of `IterationInput::from_slice` reads every
    /// well-formed input itself, and reads what the collecting reader reads.
    #[test]
    fn direct_reader_reads_every_well_formed_input(input in strategies::iteration_input()) {
        let bytes = serde_json::to_vec(&input).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(IterationInput::from_slice_direct(&bytes), Some(input.clone()));
        prop_assert_eq!(IterationInput::from_json(&value), Ok(input));
    }

    /// On any body, the direct reader either reads exactly what the
    /// collecting reader reads, or declines; and `from_slice`, which falls
    /// back to the collecting reader, gives the collecting reader's result,
    /// every violation with its path included.
    #[test]
    fn direct_and_collecting_readers_agree(body in strategies::iteration_input_body()) {
        let collecting = match serde_json::from_slice::<Value>(&body) {
            Ok(value) => IterationInput::from_json(&value).map_err(|v| v.to_string()),
            Err(e) => Err(iteration_model::InputError::Syntax(e).to_string()),
        };
        if let Some(direct) = IterationInput::from_slice_direct(&body) {
            prop_assert_eq!(&collecting, &Ok(direct));
        }
        prop_assert_eq!(IterationInput::from_slice(&body).map_err(|e| e.to_string()), collecting);
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

/// Resolves against the demo world's production environment, as the
/// resolve fixtures do.
fn resolve(
    experiment: &iteration_model::ExperimentContext,
    input: &IterationInput,
) -> Result<IterationRep, ResolveError> {
    let catalog = iteration_model::demo_catalog("production");
    resolve_iteration(&catalog, experiment, input, NOW, &mut SequentialIds::new(1))
}

/// One rule broken on purpose: a name, what it does to a valid input, and
/// the violation (path, code) it must cause.
type Mutation = (&'static str, fn(&mut IterationInput) -> (String, ViolationCode));

fn first_flag(input: &IterationInput) -> String {
    input.flags.keys().next().cloned().unwrap_or_default()
}

const MUTATIONS: &[Mutation] = &[
    ("blank hypothesis", |i| {
        i.hypothesis = " ".into();
        ("/hypothesis".into(), ViolationCode::Blank)
    }),
    ("no metrics", |i| {
        i.metrics.clear();
        ("/metrics".into(), ViolationCode::TooFew)
    }),
    ("a metric twice", |i| {
        i.metrics.push(i.metrics[0].clone());
        (format!("/metrics/{}/key", i.metrics.len() - 1), ViolationCode::Duplicate)
    }),
    ("an invalid metric key", |i| {
        i.metrics.push(MetricInput { key: "not a key".into(), is_group: None, primary: None });
        (format!("/metrics/{}/key", i.metrics.len() - 1), ViolationCode::InvalidKey)
    }),
    ("an unknown metric", |i| {
        i.metrics.push(MetricInput { key: "no-such-metric".into(), is_group: None, primary: None });
        (format!("/metrics/{}/key", i.metrics.len() - 1), ViolationCode::UnknownMetric)
    }),
    ("both primary keys", |i| {
        let (single, funnel) = ("metric-key-123abc".to_owned(), "metric-group-key-123abc".to_owned());
        i.primary_single_metric_key.get_or_insert(single);
        i.primary_funnel_key.get_or_insert(funnel);
        ("/primaryFunnelKey".into(), ViolationCode::PrimaryMetricAmbiguous)
    }),
    ("no baseline", |i| {
        i.treatments.iter_mut().for_each(|t| t.baseline = false);
        ("/treatments".into(), ViolationCode::BaselineCount)
    }),
    ("one treatment", |i| {
        i.treatments.truncate(1);
        ("/treatments".into(), ViolationCode::TooFew)
    }),
    ("allocations off by 0.0001", |i| {
        let first = &mut i.treatments[0].allocation_percent;
        let units = first.units();
        let changed = if units == 0 { units + 1 } else { units - 1 };
        *first = AllocationPercent::parse(&format!("{}.{:04}", changed / 10_000, changed % 10_000))
            .unwrap_or_else(|e| panic!("{e}"));
        ("/treatments".into(), ViolationCode::AllocationSum)
    }),
    ("a blank treatment name", |i| {
        i.treatments[1].name = String::new();
        ("/treatments/1/name".into(), ViolationCode::Blank)
    }),
    ("two treatments with one name", |i| {
        i.treatments[1].name = i.treatments[0].name.clone();
        ("/treatments/1/name".into(), ViolationCode::Duplicate)
    }),
    ("a treatment without a parameter for a flag", |i| {
        i.treatments[1].parameters.clear();
        ("/treatments/1/parameters".into(), ViolationCode::ParameterMissing)
    }),
    ("two treatments on one variation", |i| {
        i.treatments[1].parameters[0].variation_id = i.treatments[0].parameters[0].variation_id.clone();
        ("/treatments/1/parameters/0/variationId".into(), ViolationCode::VariationReused)
    }),
    ("an unknown variation", |i| {
        i.treatments[1].parameters[0].variation_id = "no-such-variation".into();
        ("/treatments/1/parameters/0/variationId".into(), ViolationCode::UnknownVariation)
    }),
    ("flag version 0", |i| {
        let flag = first_flag(i);
        i.flags.values_mut().for_each(|f| f.flag_config_version = 0);
        (format!("/flags/{flag}/flagConfigVersion"), ViolationCode::OutOfRange)
    }),
    ("a blank rule", |i| {
        let flag = first_flag(i);
        i.flags.values_mut().for_each(|f| f.rule_id = " ".into());
        (format!("/flags/{flag}/ruleId"), ViolationCode::Blank)
    }),
    ("an unknown rule", |i| {
        let flag = first_flag(i);
        i.flags.values_mut().for_each(|f| f.rule_id = "no-such-rule".into());
        (format!("/flags/{flag}/ruleId"), ViolationCode::UnknownRule)
    }),
    ("reallocation under a minute", |i| {
        i.reallocation_frequency_millis = Some(59_999);
        ("/reallocationFrequencyMillis".into(), ViolationCode::OutOfRange)
    }),
    ("six attributes", |i| {
        i.attributes = Some(["a", "b", "c", "d", "e", "f"].map(String::from).to_vec());
        ("/attributes".into(), ViolationCode::TooMany)
    }),
    ("a context kind not for experiments", |i| {
        i.randomization_unit = Some("device".into());
        ("/randomizationUnit".into(), ViolationCode::ContextKindNotForExperiments)
    }),
    ("an unknown covariate", |i| {
        i.covariate_id = Some("no-such-covariate".into());
        ("/covariateId".into(), ViolationCode::UnknownCovariate)
    }),
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn valid_requests_validate_and_resolve((experiment, input) in strategies::valid_request()) {
        prop_assert_eq!(input.validate(), Ok(()));
        let rep = resolve(&experiment, &input).map_err(|e| TestCaseError::fail(format!("{e}: {input:?}")))?;
        prop_assert_eq!(rep.created_at, NOW);
        prop_assert_eq!(rep.treatments.as_ref().map(Vec::len), Some(input.treatments.len()));
        prop_assert_eq!(rep.metrics.as_ref().map(Vec::len), Some(input.metrics.len()));
        let written = serde_json::to_value(&rep).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(check("IterationRep", &written), Vec::<String>::new());
        round_trips(&rep)?;
        // What a client sends reads back as the same input.
        round_trips(&input)?;
    }

    #[test]
    fn each_broken_rule_is_reported_at_its_path(
        (experiment, input) in strategies::valid_request(),
        mutation in proptest::sample::select(MUTATIONS),
    ) {
        let (name, mutate) = mutation;
        let mut broken = input.clone();
        let (path, code) = mutate(&mut broken);
        let violations = match resolve(&experiment, &broken) {
            Err(ResolveError::Invalid(violations)) => violations,
            other => return Err(TestCaseError::fail(format!("{name}: expected violations, got {other:?}"))),
        };
        prop_assert!(
            violations.iter().any(|v| v.path == path && v.code == code),
            "{}: expected {} {} among {}", name, path, code, violations
        );
    }

    #[test]
    fn a_stale_flag_version_alone_is_a_conflict((experiment, input) in strategies::valid_request()) {
        let mut stale = input.clone();
        let flag = first_flag(&stale);
        let entry = stale.flags.get_mut(&flag).ok_or_else(|| TestCaseError::fail("no flag"))?;
        let current = entry.flag_config_version;
        entry.flag_config_version = current + 1;
        match resolve(&experiment, &stale) {
            Err(ResolveError::VersionConflict(conflict)) => {
                prop_assert_eq!(conflict.flag_key, flag);
                prop_assert_eq!(conflict.given, current + 1);
                prop_assert_eq!(conflict.current, current);
            }
            other => return Err(TestCaseError::fail(format!("expected a conflict, got {other:?}"))),
        }
    }

    /// A stored iteration converts back to the input that creates it again
    /// (what field updates start from): that input resolves to the same
    /// iteration, and converts back to itself.
    #[test]
    fn a_resolved_iteration_converts_back_to_an_input_that_resolves_the_same(
        (experiment, input) in strategies::valid_request(),
    ) {
        let rep = resolve(&experiment, &input).map_err(|e| TestCaseError::fail(format!("{e}: {input:?}")))?;
        let again = rep.to_input().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(again.validate(), Ok(()));
        let same = resolve(&experiment, &again).map_err(|e| TestCaseError::fail(format!("{e}: {again:?}")))?;
        prop_assert_eq!(&same, &rep);
        prop_assert_eq!(same.to_input(), Ok(again));
    }

    /// An `update` of every field with another input's values, and a
    /// `remove` of the fields it leaves out, makes that input: field
    /// updates read values exactly as a Create iteration body is read.
    #[test]
    fn updating_every_field_makes_the_other_input(
        (_experiment, input) in strategies::valid_request(),
        (_other_experiment, other) in strategies::valid_request(),
    ) {
        let body = serde_json::to_value(&other).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let updates: Vec<(&str, FieldUpdate)> = iteration_model::ITERATION_FIELDS
            .iter()
            .map(|field| {
                let update = match body.get(*field) {
                    Some(value) => FieldUpdate { operation: FieldOperation::Update, value: Some(value.clone()) },
                    None => FieldUpdate { operation: FieldOperation::Remove, value: None },
                };
                (*field, update)
            })
            .collect();
        let mut updated = input.clone();
        updated
            .apply_field_updates(updates.iter().map(|(field, update)| (*field, update)))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(updated, other);
    }

    #[test]
    fn validate_never_panics_on_mutated_valid_requests(
        (_experiment, input) in strategies::valid_request(),
        at in any::<prop::sample::Index>(),
        replacement in strategies::any_json(),
    ) {
        let mut value = serde_json::to_value(&input).map_err(|e| TestCaseError::fail(e.to_string()))?;
        replace_node(&mut value, at, replacement);
        if let Ok(read) = IterationInput::from_json(&value) {
            let _ = read.validate();
            let catalog = iteration_model::demo_catalog("production");
            for key in ["example-experiment", "example-bandit", "retired-experiment"] {
                let experiment = iteration_model::demo_experiment(key);
                let _ = resolve_iteration(&catalog, &experiment, &read, NOW, &mut SequentialIds::new(1));
            }
        }
        let post = serde_json::json!({"name": "n", "key": "k", "iteration": value});
        if let Ok(post) = ExperimentPost::from_json(&post) {
            let _ = post.validate();
        }
    }

    #[test]
    fn validate_never_panics_on_arbitrary_inputs(
        input in strategies::iteration_input(),
        post in strategies::experiment_post(),
        patch in strategies::patch(),
    ) {
        let _ = input.validate();
        let _ = post.validate();
        let _ = patch.validate();
        let catalog = iteration_model::demo_catalog("production");
        let experiment = iteration_model::demo_experiment("example-bandit");
        let _ = resolve_iteration(&catalog, &experiment, &input, NOW, &mut SequentialIds::new(1));
    }
}

/// Applies `patch` one operation at a time, as separate patches.
fn apply_one_by_one(patch: &JsonPatch, doc: &Value) -> Result<Value, (usize, Violations)> {
    patch.operations.iter().enumerate().try_fold(doc.clone(), |doc, (index, operation)| {
        let single = JsonPatch { operations: vec![operation.clone()], form: PatchForm::Array };
        single.apply(&doc).map_err(|violations| (index, violations))
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn json_patch_reading_never_panics(body in strategies::any_json()) {
        let _ = JsonPatch::from_json(&body);
    }

    #[test]
    fn json_patch_applying_never_panics(
        patch in strategies::json_patch(),
        doc in prop_oneof![strategies::patch_document(), strategies::any_json()],
    ) {
        let _ = patch.apply(&doc);
    }

    #[test]
    fn json_patch_applies_like_its_operations_one_by_one(
        (doc, patch) in prop_oneof![
            3 => strategies::document_and_patch(),
            1 => (strategies::patch_document(), strategies::json_patch()),
        ],
    ) {
        match (patch.apply(&doc), apply_one_by_one(&patch, &doc)) {
            (Ok(all), Ok(each)) => prop_assert_eq!(all, each),
            (Err(all), Err((index, each))) => {
                // The same failure, named by its index in the whole patch.
                prop_assert_eq!(all.len(), 1);
                prop_assert_eq!(each.len(), 1);
                let (all, each) = (&all.as_slice()[0], &each.as_slice()[0]);
                let at = patch.operation_pointer(index);
                prop_assert_eq!(all.path.strip_prefix(&at), each.path.strip_prefix("/0"));
                prop_assert_eq!(&all.code, &each.code);
                prop_assert_eq!(&all.message, &each.message);
            }
            (all, each) => prop_assert!(false, "whole: {:?}, one by one: {:?}", all, each),
        }
    }

    #[test]
    fn json_patch_add_then_remove_of_a_fresh_member_is_identity(
        doc in strategies::patch_document(),
        name in "zz\\PC{0,6}",
        value in strategies::any_json(),
    ) {
        // A fresh name: `patch_document` uses only short names without `z`.
        let doc = if doc.is_object() { doc } else { json!({"a": doc}) };
        let path = JsonPointer::root().join(&name);
        let patch = JsonPatch::new([
            PatchOperation::Add { path: path.clone(), value },
            PatchOperation::Remove { path },
        ]);
        prop_assert_eq!(patch.apply(&doc).ok(), Some(doc));
    }

    #[test]
    fn json_patch_add_then_remove_of_an_array_item_is_identity(
        items in vec(strategies::patch_document(), 0..5),
        at in 0usize..6,
        value in strategies::any_json(),
    ) {
        let at = at.min(items.len());
        let doc = json!({"items": items});
        let path = JsonPointer::parse(&format!("/items/{at}")).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let patch = JsonPatch::new([
            PatchOperation::Add { path: path.clone(), value },
            PatchOperation::Remove { path },
        ]);
        prop_assert_eq!(patch.apply(&doc).ok(), Some(doc));
    }

    #[test]
    fn json_patch_failure_leaves_the_input_unchanged(
        patch in strategies::json_patch(),
        doc in strategies::patch_document(),
    ) {
        let before = doc.clone();
        let result = patch.apply(&doc);
        prop_assert_eq!(&doc, &before);
        if let Err(violations) = result {
            let first = &violations.as_slice()[0];
            prop_assert!(
                (0..patch.operations.len()).any(|i| first.path.starts_with(&format!("{}/", patch.operation_pointer(i)))),
                "{} names no operation", first.path
            );
        }
    }

    #[test]
    fn json_patch_test_of_the_whole_document_against_itself_passes(doc in strategies::any_json()) {
        let patch = JsonPatch::new([PatchOperation::Test { path: JsonPointer::root(), value: doc.clone() }]);
        prop_assert_eq!(patch.apply(&doc).ok(), Some(doc));
    }
}

proptest! {
    #![proptest_config(config())]

    /// No sequence of reservation instructions leaves a layer above 100 in
    /// an environment, and a refused patch changes nothing.
    #[test]
    fn no_sequence_of_reservations_overfills_a_layer(
        (mut catalog, experiments) in strategies::layer_world(),
        patches in strategies::layer_patches(),
    ) {
        for (layer, patch) in &patches {
            let before = catalog.clone();
            if catalog.patch_layer(layer, patch, experiments.iter()).is_err() {
                prop_assert_eq!(&catalog, &before, "a refused patch changes nothing");
            }
            for (key, layer) in &catalog.layers {
                for (environment, config) in &layer.environments {
                    prop_assert!(
                        config.total() <= LAYER_CAPACITY,
                        "layer {} is reserved {} in {}", key, config.total(), environment
                    );
                    prop_assert!(config.reservations.iter().all(|r| (0..=100).contains(&r.reservation_percent)));
                }
            }
            // An experiment is in at most one layer, and never in a holdout as well.
            for experiment in &experiments {
                let layers = catalog
                    .layers
                    .values()
                    .filter(|l| l.environments.values().any(|c| c.reservation(&experiment.key).is_some()))
                    .count();
                prop_assert!(layers <= 1, "{} is in {} layers", experiment.key, layers);
                if experiment.holdout_id.is_some() {
                    prop_assert_eq!(layers, 0, "{} is in a holdout and a layer", &experiment.key);
                }
            }
        }
    }

    /// A stopped iteration's snapshot, taken from the live layer at any
    /// point of any sequence, sums to at most 100.
    #[test]
    fn a_stop_snapshot_never_sums_above_100(
        (mut catalog, experiments) in strategies::layer_world(),
        patches in strategies::layer_patches(),
    ) {
        for (layer, patch) in &patches {
            let _ = catalog.patch_layer(layer, patch, experiments.iter());
            for key in strategies::LAYER_EXPERIMENTS {
                if let Some(snapshot) = catalog.layer_snapshot("production", key) {
                    prop_assert!(snapshot.reservation_percent >= 0 && snapshot.other_reservation_percent >= 0);
                    prop_assert!(
                        snapshot.reservation_percent + snapshot.other_reservation_percent <= LAYER_CAPACITY,
                        "{:?}", snapshot
                    );
                }
            }
        }
    }
}
