use serde_json::{Value, json};

use super::{ResolveError, VersionConflict, resolve_iteration};
use crate::catalog::Catalog;
use crate::catalog::demo::{demo_catalog, demo_experiment};
use crate::ids::SequentialIds;
use crate::input::IterationInput;
use crate::iteration::IterationRep;
use crate::millis::UnixMillis;
use crate::violation::{ViolationCode, Violations};

use ViolationCode::*;

const NOW: UnixMillis = UnixMillis(1_700_000_000_000);
const CONTROL: &str = "e432f62b-55f6-49dd-a02f-eb24acf39d05";
const TOP: &str = "6c5a1c1e-8a43-4d5f-9a1c-3b6f0d2e7a10";
const SIDE: &str = "9f0e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f";

/// The valid request of `docs/demo-world.md`, from the fixture every test shares.
fn valid() -> Value {
    // The fixture is committed JSON; a parse failure is a broken checkout.
    serde_json::from_str(include_str!("../../fixtures/demo/valid-request.json"))
        .expect("fixtures/demo/valid-request.json is JSON")
}

fn resolve_in(catalog: &Catalog, experiment: &str, body: &Value) -> Result<IterationRep, ResolveError> {
    let input = IterationInput::from_json(body).expect("the body is well-typed");
    resolve_iteration(catalog, &demo_experiment(experiment), &input, NOW, &mut SequentialIds::new(1))
}

fn resolve(body: &Value) -> Result<IterationRep, ResolveError> {
    resolve_in(&demo_catalog("production"), "example-experiment", body)
}

fn resolved_json(body: &Value) -> Value {
    serde_json::to_value(resolve(body).expect("the body resolves")).unwrap()
}

fn violations(result: Result<IterationRep, ResolveError>) -> Violations {
    match result {
        Err(ResolveError::Invalid(violations)) => violations,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn paths_and_codes(violations: &Violations) -> Vec<(&str, &ViolationCode)> {
    violations.iter().map(|v| (v.path.as_str(), &v.code)).collect()
}

/// Applies `change` to the valid request and returns its one violation.
fn only_violation(change: impl FnOnce(&mut Value)) -> (String, ViolationCode, String) {
    let mut body = valid();
    change(&mut body);
    let found = violations(resolve(&body));
    assert_eq!(found.len(), 1, "{found}");
    let v = found.as_slice()[0].clone();
    (v.path, v.code, v.message)
}

fn link(href: &str) -> Value {
    json!({"href": href, "type": "application/json"})
}

fn example_metric_links() -> Value {
    json!({"self": link("/api/v2/metrics/my-project/metric-key-123abc")})
}

fn funnel_members() -> Value {
    json!([
        {
            "key": "metric-key-123abc",
            "_versionId": "version-id-123abc",
            "name": "Example metric",
            "kind": "custom",
            "isNumeric": true,
            "unitAggregationType": "sum",
            "eventKey": "event-key-123abc",
            "_links": example_metric_links(),
            "nameInGroup": "Step 1",
            "randomizationUnits": ["user"]
        },
        {
            "key": "buy-button-click",
            "_versionId": "version-id-click-1",
            "name": "Buy button clicked",
            "kind": "click",
            "isNumeric": false,
            "_links": {"self": link("/api/v2/metrics/my-project/buy-button-click")},
            "nameInGroup": "Step 2",
            "randomizationUnits": ["user"]
        }
    ])
}

fn funnel_links() -> Value {
    json!({
        "self": link("/api/v2/projects/my-project/metric-groups/metric-group-key-123abc"),
        "parent": link("/api/v2/projects/my-project")
    })
}

#[test]
fn the_demo_world_request_resolves_field_by_field() {
    let rep = resolved_json(&valid());
    let single = json!({
        "key": "metric-key-123abc",
        "_versionId": "version-id-123abc",
        "name": "Example metric",
        "kind": "custom",
        "isNumeric": true,
        "eventKey": "event-key-123abc",
        "_links": example_metric_links(),
        "isGroup": false
    });
    let group = json!({
        "key": "metric-group-key-123abc",
        "_versionId": "version-id-group-123abc",
        "name": "My metric group",
        "kind": "funnel",
        "_links": funnel_links(),
        "isGroup": true,
        "metrics": funnel_members()
    });
    let expected = json!({
        "_id": "000000000000000100000001",
        "hypothesis": "The new button placement will increase conversion",
        "status": "not_started",
        "createdAt": 1_700_000_000_000_i64,
        "canReshuffleTraffic": true,
        "flags": {
            "example-flag-for-experiment": {
                "targetingRule": CONTROL,
                "targetingRuleDescription": "Customers who live in Canada",
                "targetingRuleClauses": [
                    {"contextKind": "user", "attribute": "country", "op": "in", "values": ["CA"], "negate": false}
                ],
                "flagConfigVersion": 12,
                "notInExperimentVariationId": CONTROL,
                "_links": {"self": link("/api/v2/flags/my-project/example-flag-for-experiment")}
            }
        },
        "version": 0,
        "primaryMetric": single,
        "primarySingleMetric": {
            "key": "metric-key-123abc",
            "_versionId": "version-id-123abc",
            "name": "Example metric",
            "kind": "custom",
            "isNumeric": true,
            "unitAggregationType": "sum",
            "eventKey": "event-key-123abc",
            "_links": example_metric_links()
        },
        "randomizationUnit": "user",
        "attributes": ["country", "device", "os"],
        "treatments": [
            {
                "_id": "00000000-0001-4000-8000-000000000002",
                "name": "Control",
                "allocationPercent": "50",
                "baseline": true,
                "parameters": [{"variationId": CONTROL, "flagKey": "example-flag-for-experiment"}]
            },
            {
                "_id": "00000000-0001-4000-8000-000000000003",
                "name": "Top button",
                "allocationPercent": "50",
                "baseline": false,
                "parameters": [{"variationId": TOP, "flagKey": "example-flag-for-experiment"}]
            }
        ],
        "secondaryMetrics": [],
        "metrics": [single, group],
        "covariateInfo": {
            "id": "74a49a2b-4834-4246-917e-5d85231d8c2a",
            "fileName": "covariate.csv",
            "createdAt": 1_654_104_600_000_i64
        }
    });
    let (Value::Object(found), Value::Object(wanted)) = (&rep, &expected) else { unreachable!() };
    for (field, value) in wanted {
        assert_eq!(found.get(field), Some(value), "field {field}");
    }
    let extra: Vec<&String> = found.keys().filter(|k| !wanted.contains_key(*k)).collect();
    assert!(extra.is_empty(), "unexpected fields {extra:?}");
}

/// The new iteration's strings are the catalog's, shared: no copy per iteration.
#[test]
fn the_iteration_shares_the_catalogs_strings() {
    let catalog = demo_catalog("production");
    let iteration = resolve_in(&catalog, "example-experiment", &valid()).expect("the body resolves");
    let same = |a: &str, b: &str| a == b && std::ptr::eq(a, b);
    let metric = &catalog.metrics["metric-key-123abc"];
    let metrics = iteration.metrics.as_deref().unwrap_or_default();
    assert!(same(&metrics[0].key, &metric.key));
    assert!(same(&metrics[0].name, &metric.name));
    assert!(same(&metrics[0].version_id, &metric.version_id));
    let single = iteration.primary_single_metric.as_ref().expect("a primary single metric");
    assert!(same(single.event_key.as_deref().unwrap_or_default(), metric.event_key.as_deref().unwrap_or("")));
    let group = &catalog.metric_groups["metric-group-key-123abc"];
    assert!(same(&metrics[1].name, &group.name));
    let member = &metrics[1].metrics.as_deref().unwrap_or_default()[1];
    assert!(same(
        member.name_in_group.as_deref().unwrap_or_default(),
        group.members[1].name_in_group.as_deref().unwrap_or("")
    ));
    assert!(same(
        &member.randomization_units.as_deref().unwrap_or_default()[0],
        &catalog.metrics["buy-button-click"].randomization_units[0]
    ));
    let flag = &iteration.flags.as_ref().expect("flags")["example-flag-for-experiment"];
    let rule = &catalog.flags["example-flag-for-experiment"].rules[0];
    assert!(same(flag.targeting_rule.as_deref().unwrap_or_default(), &rule.id));
    assert!(same(
        flag.targeting_rule_description.as_deref().unwrap_or_default(),
        rule.description.as_deref().unwrap_or("")
    ));
    let control = &catalog.flags["example-flag-for-experiment"].variations[0];
    assert!(same(flag.not_in_experiment_variation_id.as_deref().unwrap_or_default(), &control.id));
    let clauses = flag.targeting_rule_clauses.as_ref().expect("clauses");
    assert_eq!(*clauses, rule.clauses);
    assert!(std::ptr::eq(clauses.as_ptr(), rule.clauses.as_ptr()));
}

#[test]
fn the_docs_request_lists_every_reason_and_not_the_version_conflict() {
    let body: Value =
        serde_json::from_str(include_str!("../../fixtures/docs/create-iteration.request.json")).unwrap();
    let found = violations(resolve(&body));
    let found = paths_and_codes(&found);
    for wanted in [
        ("/treatments", &TooFew),
        ("/treatments", &AllocationSum),
        ("/treatments/0/parameters/0/flagKey", &ParameterUnknownFlag),
        ("/treatments/0/parameters", &ParameterMissing),
        ("/primaryFunnelKey", &PrimaryMetricAmbiguous),
        ("/primaryFunnelKey", &PrimaryMetricNotInMetrics),
        ("/metrics/0/isGroup", &MetricKindMismatch),
        ("/flags/example-flag-key/ruleId", &UnknownRule),
        ("/flags/example-flag-key/notInExperimentVariationId", &UnknownVariation),
        ("/reallocationFrequencyMillis", &ReallocationNotBandit),
        ("/covariateId", &UnknownCovariate),
    ] {
        assert!(found.contains(&wanted), "{wanted:?} missing from {found:?}");
    }
}

#[test]
fn catalog_messages_say_what_would_be_right() {
    let body: Value =
        serde_json::from_str(include_str!("../../fixtures/docs/create-iteration.request.json")).unwrap();
    let found = violations(resolve(&body));
    let message = |path: &str| {
        found.iter().find(|v| v.path == path).map(|v| v.message.as_str()).unwrap_or_default().to_owned()
    };
    assert_eq!(
        message("/metrics/0/isGroup"),
        "`metric-key-123abc` is a single metric; set isGroup to false or leave it out"
    );
    assert_eq!(
        message("/flags/example-flag-key/ruleId"),
        "`e432f62b-55f6-49dd-a02f-eb24acf39d05` is not a targeting rule of flag `example-flag-key` in environment \
         `production`; give one of its rules' IDs or \"fallthrough\""
    );
    assert_eq!(
        message("/flags/example-flag-key/notInExperimentVariationId"),
        "`e432f62b-55f6-49dd-a02f-eb24acf39d05` is not a variation of flag `example-flag-key`; use one of \
         a1b2c3d4-0000-4000-8000-000000000001, a1b2c3d4-0000-4000-8000-000000000002"
    );
    assert_eq!(
        message("/reallocationFrequencyMillis"),
        "experiment `example-experiment` is of type experiment, not a bandit (mab); leave out reallocationFrequencyMillis"
    );
    assert_eq!(
        message("/covariateId"),
        "`<string>` is not a covariate file of environment `production`; upload it first or leave out covariateId"
    );
}

#[test]
fn a_stale_flag_version_alone_is_a_conflict() {
    let mut body = valid();
    body["flags"]["example-flag-for-experiment"]["flagConfigVersion"] = json!(11);
    let err = resolve(&body).unwrap_err();
    assert_eq!(
        err,
        ResolveError::VersionConflict(VersionConflict {
            flag_key: "example-flag-for-experiment".to_owned(),
            given: 11,
            current: 12
        })
    );
    assert_eq!(
        err.to_string(),
        "flag `example-flag-for-experiment` is at version 12, but the iteration was built against version 11; \
         re-read the flag and send flagConfigVersion 12"
    );
    // With anything else wrong, the violations win.
    body["hypothesis"] = json!("");
    assert_eq!(paths_and_codes(&violations(resolve(&body))), [("/hypothesis", &Blank)]);
}

#[test]
fn an_archived_experiment_gets_no_iteration() {
    let found = violations(resolve_in(&demo_catalog("production"), "retired-experiment", &valid()));
    assert_eq!(paths_and_codes(&found), [("", &ExperimentArchived)]);
    assert_eq!(found.as_slice()[0].message, "experiment `retired-experiment` is archived; restore it first");
}

#[test]
fn metrics_must_exist_as_the_kind_given() {
    let (path, code, message) = only_violation(|b| b["metrics"][1]["isGroup"] = json!(false));
    assert_eq!((path.as_str(), code), ("/metrics/1/isGroup", MetricKindMismatch));
    assert_eq!(message, "`metric-group-key-123abc` is a metric group; set isGroup to true");
    let (path, code, message) = only_violation(|b| b["metrics"][1] = json!({"key": "nope", "isGroup": true}));
    assert_eq!((path.as_str(), code), ("/metrics/1/key", UnknownMetric));
    assert_eq!(message, "the project has no metric group `nope`; name an existing one");
}

#[test]
fn the_primary_funnel_must_be_a_funnel() {
    let (path, code, message) = only_violation(|b| {
        b.as_object_mut().unwrap().remove("primarySingleMetricKey");
        b["metrics"][1]["key"] = json!("checkout-guardrails");
        b["primaryFunnelKey"] = json!("checkout-guardrails");
    });
    assert_eq!((path.as_str(), code), ("/primaryFunnelKey", PrimaryMetricKind));
    assert_eq!(
        message,
        "metric group `checkout-guardrails` is a standard group; the primary group must be a funnel"
    );
}

#[test]
fn a_primary_funnel_resolves_to_primary_funnel() {
    let mut body = valid();
    body.as_object_mut().unwrap().remove("primarySingleMetricKey");
    body["metrics"][1]["primary"] = json!(true);
    let rep = resolved_json(&body);
    assert_eq!(
        rep["primaryFunnel"],
        json!({
            "key": "metric-group-key-123abc",
            "name": "My metric group",
            "kind": "funnel",
            "_links": funnel_links(),
            "metrics": funnel_members()
        })
    );
    assert_eq!(rep.get("primarySingleMetric"), None);
    assert_eq!(rep["primaryMetric"]["key"], json!("metric-group-key-123abc"));
    assert_eq!(rep["secondaryMetrics"][0]["key"], json!("metric-key-123abc"));
}

#[test]
fn flags_must_exist_and_not_be_archived() {
    let mut body = valid();
    body["flags"]["retired-flag"] = json!({"ruleId": "fallthrough", "flagConfigVersion": 1});
    body["flags"]["ghost"] = json!({"ruleId": "fallthrough", "flagConfigVersion": 1});
    for (i, variation) in ["a1b2c3d4-0000-4000-8000-000000000003", "a1b2c3d4-0000-4000-8000-000000000004"]
        .into_iter()
        .enumerate()
    {
        let parameters = body["treatments"][i]["parameters"].as_array_mut().unwrap();
        parameters.push(json!({"flagKey": "retired-flag", "variationId": variation}));
        parameters.push(json!({"flagKey": "ghost", "variationId": format!("g{i}")}));
    }
    let found = violations(resolve(&body));
    assert_eq!(
        paths_and_codes(&found),
        [("/flags/ghost", &UnknownFlag), ("/flags/retired-flag", &FlagArchived)]
    );
    assert_eq!(
        found.as_slice()[1].message,
        "flag `retired-flag` is archived; restore it or use another flag"
    );
}

#[test]
fn treatment_variations_must_belong_to_the_flag() {
    let (path, code, _) =
        only_violation(|b| b["treatments"][1]["parameters"][0]["variationId"] = json!("other"));
    assert_eq!((path.as_str(), code), ("/treatments/1/parameters/0/variationId", UnknownVariation));
}

#[test]
fn fallthrough_and_defaults() {
    let mut body = valid();
    body["flags"]["example-flag-for-experiment"] = json!({"ruleId": "fallthrough", "flagConfigVersion": 12});
    body["treatments"][0]["parameters"][0]["variationId"] = json!(SIDE);
    let obj = body.as_object_mut().unwrap();
    obj.remove("randomizationUnit");
    obj.remove("covariateId");
    obj.remove("attributes");
    let rep = resolved_json(&body);
    let flag = &rep["flags"]["example-flag-for-experiment"];
    assert_eq!(flag["targetingRule"], json!("fallthrough"));
    assert_eq!(flag["targetingRuleDescription"], json!("Default rule"));
    assert_eq!(flag["targetingRuleClauses"], json!([]));
    assert_eq!(flag["notInExperimentVariationId"], json!(SIDE), "the baseline's variation");
    assert_eq!(rep["randomizationUnit"], json!("user"));
    assert_eq!(rep.get("covariateInfo"), None);
    assert_eq!(rep.get("attributes"), None);
}

#[test]
fn randomization_unit_rules() {
    let (path, code, message) = only_violation(|b| b["randomizationUnit"] = json!("device"));
    assert_eq!((path.as_str(), code), ("/randomizationUnit", ContextKindNotForExperiments));
    assert_eq!(
        message,
        "context kind `device` is not enabled for experiments; use one of user, organization"
    );
    let (path, code, _) = only_violation(|b| b["randomizationUnit"] = json!("planet"));
    assert_eq!((path.as_str(), code), ("/randomizationUnit", UnknownContextKind));

    let mut body = valid();
    body["randomizationUnit"] = json!("organization");
    let found = violations(resolve(&body));
    assert_eq!(
        paths_and_codes(&found),
        [
            ("/metrics/0/key", &RandomizationUnitUnsupported),
            ("/metrics/1/key", &RandomizationUnitUnsupported),
            ("/metrics/1/key", &RandomizationUnitUnsupported),
        ]
    );
    assert_eq!(
        found.as_slice()[2].message,
        "metric `buy-button-click` in group `metric-group-key-123abc` does not support randomization unit \
         `organization`; it supports user"
    );
}

#[test]
fn a_bandit_keeps_its_reallocation_frequency() {
    let mut body = valid();
    body["reallocationFrequencyMillis"] = json!(3_600_000);
    body["canReshuffleTraffic"] = json!(false);
    let rep = resolve_in(&demo_catalog("production"), "example-bandit", &body).unwrap();
    assert_eq!(rep.reallocation_frequency_millis, Some(3_600_000));
    assert_eq!(rep.can_reshuffle_traffic, Some(false));
}

#[test]
fn the_test_environment_has_its_own_flag_version_and_rules() {
    let mut body = valid();
    body.as_object_mut().unwrap().remove("covariateId");
    body["flags"]["example-flag-for-experiment"]["flagConfigVersion"] = json!(3);
    let found = violations(resolve_in(&demo_catalog("test"), "example-experiment", &body));
    assert_eq!(paths_and_codes(&found), [("/flags/example-flag-for-experiment/ruleId", &UnknownRule)]);
    body["flags"]["example-flag-for-experiment"]["ruleId"] = json!("fallthrough");
    let rep = resolve_in(&demo_catalog("test"), "example-experiment", &body).unwrap();
    assert_eq!(rep.flags.unwrap()["example-flag-for-experiment"].flag_config_version, Some(3));
}

#[test]
fn violations_of_an_experiments_iteration_can_be_placed_under_iteration() {
    let mut body = valid();
    body["hypothesis"] = json!("");
    let found = violations(resolve(&body)).prefixed("/iteration");
    assert_eq!(paths_and_codes(&found), [("/iteration/hypothesis", &Blank)]);
}
