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
use crate::shared_list::SharedList;
use crate::text::Text;

/// The demo project's key.
pub const PROJECT_KEY: &str = "my-project";

/// The demo project in `environment_key`.
///
/// `production` has the flag `example-flag-for-experiment` on at version 12
/// with one targeting rule, and the covariate file. Every other environment
/// key (the demo world has `test`) gets the demo's `test` configuration: that
/// flag off at version 3 without rules, and no covariates.
pub fn demo_catalog(environment_key: &str) -> Catalog {
    // The strings are shared (`Text::from`), not static, as in a catalog read
    // from a world file or a database: what is measured and tested against
    // the demo is what a server resolves against.
    let production = environment_key == "production";
    let mut flags = BTreeMap::new();
    let (on, version, rules) = if production {
        let rule = TargetingRule {
            id: Text::from("e432f62b-55f6-49dd-a02f-eb24acf39d05"),
            description: Some(Text::from("Customers who live in Canada")),
            clauses: SharedList::from(vec![json!({
                "contextKind": "user",
                "attribute": "country",
                "op": "in",
                "values": ["CA"],
                "negate": false
            })]),
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
            key: Text::from("metric-key-123abc"),
            name: Text::from("Example metric"),
            kind: MetricKind::Custom,
            version_id: Text::from("version-id-123abc"),
            is_numeric: Some(true),
            unit_aggregation_type: Some(UnitAggregationType::Sum),
            event_key: Some(Text::from("event-key-123abc")),
            randomization_units: vec![Text::from("user")],
            analysis_type: None,
        },
        CatalogMetric {
            key: Text::from("checkout-pageview"),
            name: Text::from("Checkout page viewed"),
            kind: MetricKind::Pageview,
            version_id: Text::from("version-id-pageview-1"),
            is_numeric: Some(false),
            unit_aggregation_type: None,
            event_key: None,
            randomization_units: vec![Text::from("user"), Text::from("organization")],
            analysis_type: None,
        },
        CatalogMetric {
            key: Text::from("buy-button-click"),
            name: Text::from("Buy button clicked"),
            kind: MetricKind::Click,
            version_id: Text::from("version-id-click-1"),
            is_numeric: Some(false),
            unit_aggregation_type: None,
            event_key: None,
            randomization_units: vec![Text::from("user")],
            analysis_type: None,
        },
        CatalogMetric {
            key: Text::from("org-revenue"),
            name: Text::from("Revenue per organization"),
            kind: MetricKind::Custom,
            version_id: Text::from("version-id-revenue-1"),
            is_numeric: Some(true),
            unit_aggregation_type: Some(UnitAggregationType::Average),
            event_key: Some(Text::from("org-revenue")),
            randomization_units: vec![Text::from("organization")],
            analysis_type: None,
        },
    ]
    .into_iter()
    .map(|metric| (metric.key.to_string(), metric))
    .collect();

    let metric_groups = [
        CatalogMetricGroup {
            key: Text::from("metric-group-key-123abc"),
            name: Text::from("My metric group"),
            kind: MetricKind::Funnel,
            version_id: Text::from("version-id-group-123abc"),
            members: vec![member("metric-key-123abc", "Step 1"), member("buy-button-click", "Step 2")],
        },
        CatalogMetricGroup {
            key: Text::from("checkout-guardrails"),
            name: Text::from("Checkout guardrails"),
            kind: MetricKind::Standard,
            version_id: Text::from("version-id-guardrails-1"),
            members: vec![member("checkout-pageview", "Page view"), member("buy-button-click", "Click")],
        },
    ]
    .into_iter()
    .map(|group| (group.key.to_string(), group))
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
    Variation { id: Text::from(id), name: Some(name.to_owned()), value }
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
            Variation { id: Text::from(id(suffixes[0])), name: None, value: json!(true) },
            Variation { id: Text::from(id(suffixes[1])), name: None, value: json!(false) },
        ],
        on,
        version: 1,
        rules: Vec::new(),
    }
}

fn member(key: &str, name_in_group: &str) -> GroupMember {
    GroupMember { key: key.to_owned(), name_in_group: Some(Text::from(name_in_group)) }
}

fn context_kind(key: &str, name: &str, enabled_for_experiments: bool) -> ContextKind {
    ContextKind { key: key.to_owned(), name: Some(name.to_owned()), enabled_for_experiments }
}
