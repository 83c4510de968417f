use serde_json::{Value, json};

use super::*;
use crate::builder::Treatment;
use crate::catalog::demo::demo_catalog;
use crate::ids::SequentialIds;
use crate::input::FlagInput;
use crate::iteration::IterationStatus;
use crate::patch::ExperimentPatchInput;

const FLAG: &str = "example-flag-for-experiment";
const CONTROL: &str = "e432f62b-55f6-49dd-a02f-eb24acf39d05";
const TOP_BUTTON: &str = "6c5a1c1e-8a43-4d5f-9a1c-3b6f0d2e7a10";
const CREATED: UnixMillis = UnixMillis(1_700_000_000_000);
const NOW: UnixMillis = UnixMillis(1_700_000_100_000);

/// A project with no layers: the flags and metrics are the demo view's.
fn project() -> ProjectCatalog {
    serde_json::from_value(json!({
        "key": "my-project", "id": "p", "creationDate": 0,
        "environments": [{"key": "production", "name": "Production"}],
        "contextKinds": [], "randomizationUnits": [], "flags": {}, "metrics": {}, "metricGroups": {}
    }))
    .expect("a project catalog")
}

fn input() -> IterationInput {
    IterationInput::builder("Top buttons convert better")
        .primary_metric("metric-key-123abc")
        .flag(FLAG, FlagInput::rule(CONTROL, 12))
        .treatment(Treatment::baseline("Control", "50").serve(FLAG, CONTROL))
        .treatment(Treatment::new("Top button", "50").serve(FLAG, TOP_BUTTON))
        .build()
        .expect("a valid input")
}

/// An experiment with a draft of [`input`].
fn experiment() -> Experiment {
    let mut experiment: Experiment = serde_json::from_value(json!({
        "key": "example-experiment", "name": "Example", "_maintainerId": "m", "_creationDate": 0,
        "environmentKey": "production", "_links": {}, "type": "experiment"
    }))
    .expect("an experiment");
    let catalog = demo_catalog("production");
    let context = ExperimentContext::from(&experiment);
    let draft = resolve_iteration(&catalog, &context, &input(), CREATED, &mut SequentialIds::new(1));
    experiment.draft_iteration = Some(draft.expect("resolves"));
    experiment
}

/// Applies the instructions (as JSON, the way a client sends them).
fn patch(experiment: &mut Experiment, catalog: &Catalog, instructions: Value) -> Result<(), PatchError> {
    let patch = ExperimentPatchInput::from_json(&json!({ "instructions": instructions })).expect("a patch");
    let project = project();
    let context = PatchContext { project: &project, catalog, others: &[] };
    apply(experiment, &patch.instructions, &context, NOW, &mut SequentialIds::new(2))
}

fn violations(result: Result<(), PatchError>) -> Vec<(String, ViolationCode, String)> {
    match result {
        Err(PatchError::Invalid(violations)) => {
            violations.into_iter().map(|v| (v.path, v.code, v.message)).collect()
        }
        other => panic!("expected violations, got {other:?}"),
    }
}

fn running() -> Experiment {
    let mut experiment = experiment();
    patch(&mut experiment, &demo_catalog("production"), json!([{"kind": "startIteration"}]))
        .expect("started");
    experiment
}

fn metric_keys(iteration: &IterationRep) -> Vec<&str> {
    iteration.metrics.iter().flatten().map(|m| m.key.as_str()).collect()
}

#[test]
fn a_draft_takes_any_field_and_is_resolved_again_as_the_same_draft() {
    let mut experiment = experiment();
    let before = experiment.draft_iteration.clone().expect("draft");
    let catalog = demo_catalog("production");
    let update = json!([{"kind": "updateExperimentFields", "value": {
        "hypothesis": {"operation": "update", "value": "Side buttons convert better"},
        "attributes": {"operation": "add", "value": ["country"]},
        "tags": {"operation": "add", "value": ["ui", "ui"]}
    }}]);
    patch(&mut experiment, &catalog, update).expect("updated");
    let draft = experiment.draft_iteration.as_ref().expect("draft");
    assert_eq!(draft.hypothesis, "Side buttons convert better");
    assert_eq!(draft.attributes, Some(vec!["country".to_owned()]));
    assert_eq!((&draft.id, draft.created_at, draft.version), (&before.id, CREATED, Some(1)));
    assert_eq!(experiment.tags, Some(vec!["ui".to_owned()]));
}

#[test]
fn a_changed_draft_must_be_a_valid_create_iteration_body() {
    let mut experiment = experiment();
    let catalog = demo_catalog("production");
    let update = json!([{"kind": "updateName", "value": "Renamed"}, {"kind": "updateExperimentFields", "value": {
        "randomizationUnit": {"operation": "update", "value": "organization"},
        "hypothesis": {"operation": "remove"}
    }}]);
    assert_eq!(
        violations(patch(&mut experiment, &catalog, update)),
        [(
            "/instructions/1/value/hypothesis".to_owned(),
            ViolationCode::MissingField,
            "updateExperimentFields: hypothesis is required".to_owned()
        )]
    );
    let update = json!([{"kind": "updateExperimentFields", "value": {
        "randomizationUnit": {"operation": "update", "value": "organization"}
    }}]);
    let found = violations(patch(&mut experiment, &catalog, update));
    assert!(!found.is_empty());
    assert!(found.iter().all(|(path, code, message)| path.starts_with("/instructions/0/value/metrics/")
        && *code == ViolationCode::RandomizationUnitUnsupported
        && message.starts_with("updateExperimentFields: ")));
}

#[test]
fn a_draft_built_against_an_older_flag_is_a_conflict() {
    let mut experiment = experiment();
    let mut catalog = demo_catalog("production");
    catalog.flags.get_mut(FLAG).expect("flag").version = 13;
    let update = json!([{"kind": "updateExperimentFields", "value": {
        "hypothesis": {"operation": "update", "value": "Later"}}}]);
    match patch(&mut experiment, &catalog, update) {
        Err(PatchError::VersionConflict(conflict)) => {
            assert_eq!((conflict.given, conflict.current), (12, 13))
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn a_running_iteration_only_takes_added_metrics_checked_against_current_flags() {
    let mut experiment = running();
    // The flag moved on since the iteration started; adding a metric still works.
    let mut catalog = demo_catalog("production");
    catalog.flags.get_mut(FLAG).expect("flag").version = 13;
    let add = json!([{"kind": "updateExperimentFields", "value": {
        "metrics": {"operation": "add", "value": {"key": "checkout-pageview"}}}}]);
    patch(&mut experiment, &catalog, add).expect("added");
    let current = experiment.current_iteration.as_ref().expect("running");
    assert_eq!(metric_keys(current), ["metric-key-123abc", "checkout-pageview"]);
    assert_eq!(current.flags.as_ref().and_then(|f| f[FLAG].flag_config_version), Some(12), "the flags stay");
    assert_eq!(current.status, IterationStatus::Running);

    let remove = json!([{"kind": "updateExperimentFields", "value": {
        "metrics": {"operation": "remove", "value": "checkout-pageview"}}}]);
    assert_eq!(
        violations(patch(&mut experiment, &catalog, remove)),
        [(
            "/instructions/0".to_owned(),
            ViolationCode::NotAllowed,
            "updateExperimentFields: `metrics` cannot be changed with `remove` on a running iteration (only \
             metrics with add); use saveAndStartNewIteration to change it in a new iteration"
                .to_owned()
        )]
    );
}

#[test]
fn without_an_iteration_there_is_nothing_to_change() {
    let mut experiment = experiment();
    experiment.draft_iteration = None;
    let update = json!([{"kind": "updateExperimentFields", "value": {
        "hypothesis": {"operation": "update", "value": "Later"}}}]);
    let found = violations(patch(&mut experiment, &demo_catalog("production"), update));
    assert_eq!(
        found[0].2,
        "updateExperimentFields: the experiment has no draft or running iteration to change; \
                           create an iteration first"
    );
    // The experiment's own fields change whatever its iterations.
    let rename = json!([{"kind": "updateExperimentFields", "value": {"name": {"operation": "update", "value": "New"}}}]);
    patch(&mut experiment, &demo_catalog("production"), rename).expect("renamed");
    assert_eq!(experiment.name, "New");
    let remove = json!([{"kind": "updateExperimentFields", "value": {"name": {"operation": "remove"}}}]);
    let found = violations(patch(&mut experiment, &demo_catalog("production"), remove));
    assert_eq!(found[0].2, "updateExperimentFields: name cannot be removed");
}

#[test]
fn save_and_start_stops_the_running_iteration_and_starts_a_changed_copy() {
    let mut experiment = running();
    let first = experiment.current_iteration.clone().expect("running");
    // A draft waiting to be started stays where it is.
    let waiting = resolve_iteration(
        &demo_catalog("production"),
        &ExperimentContext::from(&experiment),
        &input(),
        CREATED,
        &mut SequentialIds::new(9),
    )
    .expect("resolves");
    experiment.draft_iteration = Some(waiting.clone());
    let save = json!([{"kind": "saveAndStartNewIteration", "changeJustification": "more metrics", "value": {
        "metrics": {"operation": "add", "value": [{"key": "checkout-pageview"}]}}}]);
    patch(&mut experiment, &demo_catalog("production"), save).expect("started");
    let current = experiment.current_iteration.as_ref().expect("running");
    assert_ne!(current.id, first.id);
    assert_eq!((current.status.clone(), current.started_at), (IterationStatus::Running, Some(NOW)));
    assert_eq!(metric_keys(current), ["metric-key-123abc", "checkout-pageview"]);
    assert_eq!(current.hypothesis, first.hypothesis);
    let previous = experiment.previous_iterations.as_deref().expect("previous");
    assert_eq!((&previous[0].id, previous[0].status.clone()), (&first.id, IterationStatus::Stopped));
    assert_eq!(experiment.draft_iteration, Some(waiting));
}

#[test]
fn save_and_start_needs_a_running_iteration_and_keeps_its_flags() {
    let mut experiment = experiment();
    let found = violations(patch(
        &mut experiment,
        &demo_catalog("production"),
        json!([{"kind": "saveAndStartNewIteration"}]),
    ));
    assert_eq!(
        found,
        [(
            "/instructions/0".to_owned(),
            ViolationCode::NotAllowed,
            "saveAndStartNewIteration: no iteration is running; use startIteration to start the draft"
                .to_owned()
        )]
    );
    let mut experiment = running();
    let other_flag = json!([{"kind": "saveAndStartNewIteration", "value": {
    "flags": {"operation": "update", "value": {"example-flag-key": {"ruleId": "fallthrough", "flagConfigVersion": 1}}},
    "treatments": {"operation": "update", "value": [
        {"name": "On", "baseline": true, "allocationPercent": "50",
         "parameters": [{"flagKey": "example-flag-key", "variationId": "a1b2c3d4-0000-4000-8000-000000000001"}]},
        {"name": "Off", "baseline": false, "allocationPercent": "50",
         "parameters": [{"flagKey": "example-flag-key", "variationId": "a1b2c3d4-0000-4000-8000-000000000002"}]}
    ]}}}]);
    let found = violations(patch(&mut experiment, &demo_catalog("production"), other_flag));
    assert_eq!(
        found.iter().map(|(path, code, _)| (path.as_str(), code.clone())).collect::<Vec<_>>(),
        [("/instructions/0/value/flags", ViolationCode::FrozenAfterRun)]
    );
}

#[test]
fn start_reads_the_flags_state_in_the_environment() {
    let mut experiment = experiment();
    let mut catalog = demo_catalog("production");
    catalog.flags.get_mut(FLAG).expect("flag").on = false;
    let found = violations(patch(&mut experiment, &catalog, json!([{"kind": "startIteration"}])));
    assert_eq!(
        found[0].2,
        "startIteration: flag `example-flag-for-experiment` is off in this environment; turn it on first"
    );
}

#[test]
fn the_first_failing_instruction_is_named_by_its_index() {
    let mut experiment = experiment();
    let instructions = json!([{"kind": "updateName", "value": "Fine"}, {"kind": "archiveExperiment"},
        {"kind": "archiveExperiment"}]);
    let found = violations(patch(&mut experiment, &demo_catalog("production"), instructions));
    assert_eq!(
        found,
        [(
            "/instructions/2".to_owned(),
            ViolationCode::NotAllowed,
            "archiveExperiment: the experiment is already archived".to_owned()
        )]
    );
}
