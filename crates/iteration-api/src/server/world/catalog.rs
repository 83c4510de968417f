//! The model's view of one project in one environment, built from a world.

use std::collections::HashMap;
use std::sync::Arc;

use iteration_model::{
    Catalog, CatalogFlag, CatalogMetric, CatalogMetricGroup, CovariateInfoRep, TargetingRule,
};

use super::{Flag, Metric, MetricGroup, Project, World};

/// Every (project, environment)'s catalog, built once when the world is
/// read: a world never changes while a server runs, and building a catalog
/// clones every flag, metric and group of the project, which would
/// otherwise be a large share of each create-iteration request.
pub(crate) type Catalogs = HashMap<String, HashMap<String, Arc<Catalog>>>;

impl World {
    /// What [`iteration_model::resolve_iteration`] checks an iteration
    /// against: the project's flags (with their configuration in
    /// `environment`), metrics, groups, context kinds, and the environment's
    /// covariates. `None` when the project or environment does not exist.
    /// Built when the world was read; this only looks it up.
    pub fn catalog(&self, project: &str, environment: &str) -> Option<Arc<Catalog>> {
        self.catalogs.get(project)?.get(environment).cloned()
    }
}

/// Builds [`Catalogs`] for `projects`.
pub(crate) fn catalogs(projects: &[Project]) -> Catalogs {
    projects
        .iter()
        .map(|project| {
            let environments = project
                .environments
                .iter()
                .map(|e| (e.key.clone(), Arc::new(catalog(project, &e.key))))
                .collect();
            (project.key.clone(), environments)
        })
        .collect()
}

fn catalog(project: &Project, environment: &str) -> Catalog {
    Catalog {
        project_key: project.key.clone(),
        environment_key: environment.to_owned(),
        default_randomization_unit: Some(project.default_randomization_unit().to_owned()),
        context_kinds: project.context_kinds.iter().map(context_kind).collect(),
        flags: project
            .flags
            .iter()
            .filter_map(|flag| Some((flag.key.clone(), catalog_flag(flag, environment)?)))
            .collect(),
        metrics: project.metrics.iter().map(|m| (m.key.clone(), catalog_metric(m))).collect(),
        metric_groups: project.metric_groups.iter().map(|g| (g.key.clone(), catalog_group(g))).collect(),
        covariates: covariates(project, environment),
    }
}

fn context_kind(kind: &super::ContextKind) -> iteration_model::ContextKind {
    iteration_model::ContextKind {
        key: kind.key.clone(),
        name: kind.name.clone(),
        enabled_for_experiments: kind.enabled_for_experiments,
    }
}

/// `None` when the flag has no configuration in `environment`, which a
/// checked world never has.
fn catalog_flag(flag: &Flag, environment: &str) -> Option<CatalogFlag> {
    let config = flag.environment(environment)?;
    Some(CatalogFlag {
        key: flag.key.clone(),
        name: flag.name.clone(),
        archived: flag.archived,
        variations: flag
            .variations
            .iter()
            .map(|v| iteration_model::Variation {
                id: v.id.clone(),
                name: v.name.clone(),
                value: v.value.clone(),
            })
            .collect(),
        on: config.on,
        version: config.version,
        rules: config
            .rules
            .iter()
            .map(|r| TargetingRule {
                id: r.id.clone(),
                description: r.description.clone(),
                clauses: r.clauses.clone(),
            })
            .collect(),
    })
}

fn catalog_metric(metric: &Metric) -> CatalogMetric {
    CatalogMetric {
        key: metric.key.clone(),
        name: metric.name.clone(),
        kind: metric.kind.clone(),
        version_id: metric.version_id.clone(),
        is_numeric: Some(metric.is_numeric),
        unit_aggregation_type: metric.unit_aggregation_type.clone(),
        event_key: metric.event_key.clone(),
        randomization_units: metric.randomization_units.clone(),
    }
}

fn catalog_group(group: &MetricGroup) -> CatalogMetricGroup {
    CatalogMetricGroup {
        key: group.key.clone(),
        name: group.name.clone(),
        kind: group.kind.clone(),
        version_id: group.version_id.clone(),
        members: group
            .metrics
            .iter()
            .map(|m| iteration_model::GroupMember {
                key: m.key.clone(),
                name_in_group: m.name_in_group.clone(),
            })
            .collect(),
    }
}

fn covariates(project: &Project, environment: &str) -> std::collections::BTreeMap<String, CovariateInfoRep> {
    project
        .covariates
        .iter()
        .filter(|c| c.environment_key == environment)
        .map(|c| {
            let info = CovariateInfoRep {
                id: c.id.clone(),
                file_name: c.file_name.clone(),
                created_at: c.created_at,
                extra: Default::default(),
            };
            (c.id.clone(), info)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use iteration_model::{MetricKind, UnitAggregationType, UnixMillis};
    use serde_json::json;

    use crate::server::world::World;

    #[test]
    fn demo_production_catalog_is_what_demo_world_md_says() {
        let catalog = World::demo().catalog("my-project", "production").unwrap();
        assert_eq!(
            (catalog.project_key.as_str(), catalog.environment_key.as_str()),
            ("my-project", "production")
        );
        assert_eq!(catalog.default_randomization_unit(), "user");
        let kinds: Vec<_> =
            catalog.context_kinds.iter().map(|k| (k.key.as_str(), k.enabled_for_experiments)).collect();
        assert_eq!(kinds, [("user", true), ("organization", true), ("device", false)]);

        let flag = &catalog.flags["example-flag-for-experiment"];
        assert_eq!(
            (flag.name.as_str(), flag.archived, flag.on, flag.version),
            ("Example flag for experiment", false, true, 12)
        );
        let variations: Vec<_> =
            flag.variations.iter().map(|v| (v.id.as_str(), v.name.as_deref(), v.value.clone())).collect();
        assert_eq!(
            variations,
            [
                ("e432f62b-55f6-49dd-a02f-eb24acf39d05", Some("Control"), json!("old-button")),
                ("6c5a1c1e-8a43-4d5f-9a1c-3b6f0d2e7a10", Some("Top button"), json!("top-button")),
                ("9f0e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f", Some("Side button"), json!("side-button")),
            ]
        );
        let rule = flag.rule("e432f62b-55f6-49dd-a02f-eb24acf39d05").unwrap();
        assert_eq!(rule.description.as_deref(), Some("Customers who live in Canada"));
        assert_eq!(
            rule.clauses,
            [
                json!({"contextKind": "user", "attribute": "country", "op": "in", "values": ["CA"], "negate": false})
            ]
        );
        assert_eq!(flag.rules.len(), 1);

        let boolean = &catalog.flags["example-flag-key"];
        assert_eq!((boolean.on, boolean.version, boolean.archived, boolean.rules.len()), (true, 1, false, 0));
        assert_eq!(boolean.variation("a1b2c3d4-0000-4000-8000-000000000001").unwrap().value, json!(true));
        assert_eq!(boolean.variation("a1b2c3d4-0000-4000-8000-000000000002").unwrap().value, json!(false));
        let retired = &catalog.flags["retired-flag"];
        assert_eq!((retired.archived, retired.version), (true, 1));
        assert_eq!(retired.variation("a1b2c3d4-0000-4000-8000-000000000004").unwrap().value, json!(false));

        let metric = &catalog.metrics["metric-key-123abc"];
        assert_eq!(
            (
                metric.name.as_str(),
                &metric.kind,
                metric.is_numeric,
                &metric.unit_aggregation_type,
                metric.event_key.as_deref(),
                metric.version_id.as_str()
            ),
            (
                "Example metric",
                &MetricKind::Custom,
                Some(true),
                &Some(UnitAggregationType::Sum),
                Some("event-key-123abc"),
                "version-id-123abc"
            )
        );
        assert_eq!(metric.randomization_units, ["user"]);
        assert_eq!(catalog.metrics["checkout-pageview"].randomization_units, ["user", "organization"]);
        assert_eq!(catalog.metrics["buy-button-click"].kind, MetricKind::Click);
        let revenue = &catalog.metrics["org-revenue"];
        assert_eq!(
            (&revenue.unit_aggregation_type, revenue.version_id.as_str()),
            (&Some(UnitAggregationType::Average), "version-id-revenue-1")
        );
        assert_eq!(revenue.randomization_units, ["organization"]);

        let funnel = &catalog.metric_groups["metric-group-key-123abc"];
        assert_eq!((funnel.name.as_str(), &funnel.kind), ("My metric group", &MetricKind::Funnel));
        let members: Vec<_> =
            funnel.members.iter().map(|m| (m.key.as_str(), m.name_in_group.as_deref())).collect();
        assert_eq!(members, [("metric-key-123abc", Some("Step 1")), ("buy-button-click", Some("Step 2"))]);
        let guardrails = &catalog.metric_groups["checkout-guardrails"];
        let members: Vec<_> =
            guardrails.members.iter().map(|m| (m.key.as_str(), m.name_in_group.as_deref())).collect();
        assert_eq!(
            (&guardrails.kind, members),
            (
                &MetricKind::Standard,
                vec![("checkout-pageview", Some("Page view")), ("buy-button-click", Some("Click"))]
            )
        );

        let covariate = &catalog.covariates["74a49a2b-4834-4246-917e-5d85231d8c2a"];
        assert_eq!(
            (covariate.file_name.as_str(), covariate.created_at),
            ("covariate.csv", UnixMillis(1654104600000))
        );
        assert_eq!(catalog.covariates.len(), 1);
    }

    #[test]
    fn demo_test_catalog_has_the_flag_off_at_version_3_and_no_covariates() {
        let catalog = World::demo().catalog("my-project", "test").unwrap();
        let flag = &catalog.flags["example-flag-for-experiment"];
        assert_eq!((flag.on, flag.version, flag.rules.len()), (false, 3, 0));
        assert_eq!(flag.variations.len(), 3);
        assert!(catalog.flags["example-flag-key"].on);
        assert!(catalog.covariates.is_empty());
        assert_eq!(catalog.metrics.len(), 4);
        assert_eq!(catalog.metric_groups.len(), 2);
    }

    /// The model's fixtures and benchmarks use its own copy of the demo
    /// catalog; both must describe the same world.
    #[test]
    fn demo_catalogs_equal_the_models_demo_catalog() {
        for environment in ["production", "test"] {
            assert_eq!(
                World::demo().catalog("my-project", environment).as_deref(),
                Some(&iteration_model::demo_catalog(environment)),
                "{environment}"
            );
        }
    }

    #[test]
    fn no_catalog_for_an_unknown_project_or_environment() {
        let world = World::demo();
        assert_eq!(world.catalog("my-project", "staging"), None);
        assert_eq!(world.catalog("other-project", "production"), None);
    }
}
