//! The demo world's project `my-project`, as a [`Catalog`].
//!
//! This is the fixed data of `docs/demo-world.md`, for examples,
//! tests, fixtures and benchmarks: they can resolve the documented requests
//! without a server. A server holds its own world; it does not call this.

use std::collections::BTreeMap;

use serde_json::json;

use super::{
    Catalog, CatalogFlag, CatalogMetric, CatalogMetricGroup, ContextKind, ExperimentContext, GroupMember,
    TargetingRule, Variation,
};
use crate::experiment::ExperimentType;
use crate::iteration::CovariateInfoRep;
use crate::metric::{MetricKind, UnitAggregationType};
use crate::millis::UnixMillis;

/// The demo project's key.
pub const PROJECT_KEY: &str = "my-project";

/// The demo project in `environment_key`.
///
/// `production` has the flag `example-flag-for-experiment` on at version 12
/// with one targeting rule, and the covariate file. Every other environment
/// key (the demo world has `test`) gets the demo's `test` configuration: that
/// flag off at version 3 without rules, and no covariates.
pub fn demo_catalog(environment_key: &str) -> Catalog {
    let production = environment_key == "production";
    let mut flags = BTreeMap::new();
    let (on, version, rules) = if production {
        let rule = TargetingRule {
            id: "e432f62b-55f6-49dd-a02f-eb24acf39d05".to_owned(),
            description: Some("Customers who live in Canada".to_owned()),
            clauses: vec![json!({
                "contextKind": "user",
                "attribute": "country",
                "op": "in",
                "values": ["CA"],
                "negate": false
            })],
        };
        (true, 12, vec![rule])
    } else {
        (false, 3, Vec::new())
    };
    flags.insert(
        "example-flag-for-experiment".to_owned(),
        CatalogFlag {
            key: "example-flag-for-experiment".to_owned(),
            name: "Example flag for experiment".to_owned(),
            archived: false,
            variations: vec![
                variation("e432f62b-55f6-49dd-a02f-eb24acf39d05", "Control", json!("old-button")),
                variation("6c5a1c1e-8a43-4d5f-9a1c-3b6f0d2e7a10", "Top button", json!("top-button")),
                variation("9f0e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f", "Side button", json!("side-button")),
            ],
            on,
            version,
            rules,
        },
    );
    flags.insert(
        "example-flag-key".to_owned(),
        boolean_flag("example-flag-key", "Example flag key", false, true, ["0001", "0002"]),
    );
    flags.insert(
        "retired-flag".to_owned(),
        boolean_flag("retired-flag", "Retired flag", true, false, ["0003", "0004"]),
    );

    let metrics = [
        CatalogMetric {
            key: "metric-key-123abc".to_owned(),
            name: "Example metric".to_owned(),
            kind: MetricKind::Custom,
            version_id: "version-id-123abc".to_owned(),
            is_numeric: Some(true),
            unit_aggregation_type: Some(UnitAggregationType::Sum),
            event_key: Some("event-key-123abc".to_owned()),
            randomization_units: vec!["user".to_owned()],
            analysis_type: None,
        },
        CatalogMetric {
            key: "checkout-pageview".to_owned(),
            name: "Checkout page viewed".to_owned(),
            kind: MetricKind::Pageview,
            version_id: "version-id-pageview-1".to_owned(),
            is_numeric: Some(false),
            unit_aggregation_type: None,
            event_key: None,
            randomization_units: vec!["user".to_owned(), "organization".to_owned()],
            analysis_type: None,
        },
        CatalogMetric {
            key: "buy-button-click".to_owned(),
            name: "Buy button clicked".to_owned(),
            kind: MetricKind::Click,
            version_id: "version-id-click-1".to_owned(),
            is_numeric: Some(false),
            unit_aggregation_type: None,
            event_key: None,
            randomization_units: vec!["user".to_owned()],
            analysis_type: None,
        },
        CatalogMetric {
            key: "org-revenue".to_owned(),
            name: "Revenue per organization".to_owned(),
            kind: MetricKind::Custom,
            version_id: "version-id-revenue-1".to_owned(),
            is_numeric: Some(true),
            unit_aggregation_type: Some(UnitAggregationType::Average),
            event_key: Some("org-revenue".to_owned()),
            randomization_units: vec!["organization".to_owned()],
            analysis_type: None,
        },
    ]
    .into_iter()
    .map(|metric| (metric.key.clone(), metric))
    .collect();

    let metric_groups = [
        CatalogMetricGroup {
            key: "metric-group-key-123abc".to_owned(),
            name: "My metric group".to_owned(),
            kind: MetricKind::Funnel,
            version_id: "version-id-group-123abc".to_owned(),
            members: vec![member("metric-key-123abc", "Step 1"), member("buy-button-click", "Step 2")],
        },
        CatalogMetricGroup {
            key: "checkout-guardrails".to_owned(),
            name: "Checkout guardrails".to_owned(),
            kind: MetricKind::Standard,
            version_id: "version-id-guardrails-1".to_owned(),
            members: vec![member("checkout-pageview", "Page view"), member("buy-button-click", "Click")],
        },
    ]
    .into_iter()
    .map(|group| (group.key.clone(), group))
    .collect();

    let mut covariates = BTreeMap::new();
    if production {
        covariates.insert(
            "74a49a2b-4834-4246-917e-5d85231d8c2a".to_owned(),
            CovariateInfoRep {
                id: "74a49a2b-4834-4246-917e-5d85231d8c2a".to_owned(),
                file_name: "covariate.csv".to_owned(),
                created_at: UnixMillis(1_654_104_600_000),
                extra: Default::default(),
            },
        );
    }

    Catalog {
        project_key: PROJECT_KEY.to_owned(),
        environment_key: environment_key.to_owned(),
        default_randomization_unit: Some("user".to_owned()),
        context_kinds: vec![
            context_kind("user", "User", true),
            context_kind("organization", "Organization", true),
            context_kind("device", "Device", false),
        ],
        flags,
        metrics,
        metric_groups,
        covariates,
    }
}

/// The demo experiment with this key in `production`.
///
/// `example-experiment` is a plain experiment, `example-bandit` a bandit
/// (`mab`) and `retired-experiment` is archived. Any other key gets a plain,
/// unarchived experiment of that key, which is what a fixture usually wants.
pub fn demo_experiment(key: &str) -> ExperimentContext {
    let (experiment_type, archived) = match key {
        "example-bandit" => (ExperimentType::Mab, false),
        "retired-experiment" => (ExperimentType::Experiment, true),
        _ => (ExperimentType::Experiment, false),
    };
    ExperimentContext { key: key.to_owned(), experiment_type, archived }
}

fn variation(id: &str, name: &str, value: serde_json::Value) -> Variation {
    Variation { id: id.to_owned(), name: Some(name.to_owned()), value }
}

/// A boolean flag whose two variations' IDs end in the given suffixes, as
/// the demo world numbers them.
fn boolean_flag(key: &str, name: &str, archived: bool, on: bool, suffixes: [&str; 2]) -> CatalogFlag {
    let id = |suffix: &str| format!("a1b2c3d4-0000-4000-8000-00000000{suffix}");
    CatalogFlag {
        key: key.to_owned(),
        name: name.to_owned(),
        archived,
        variations: vec![
            Variation { id: id(suffixes[0]), name: None, value: json!(true) },
            Variation { id: id(suffixes[1]), name: None, value: json!(false) },
        ],
        on,
        version: 1,
        rules: Vec::new(),
    }
}

fn member(key: &str, name_in_group: &str) -> GroupMember {
    GroupMember { key: key.to_owned(), name_in_group: Some(name_in_group.to_owned()) }
}

fn context_kind(key: &str, name: &str, enabled_for_experiments: bool) -> ContextKind {
    ContextKind { key: key.to_owned(), name: Some(name.to_owned()), enabled_for_experiments }
}
