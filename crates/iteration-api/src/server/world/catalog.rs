//! The live catalog a world seeds, and the model's per-environment view of it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use iteration_model::{
    AllocationPercent, Catalog, ClientSideAvailability, ContextKindRep, CovariateInfoRep, EnvironmentName,
    Experiment, ExperimentInfoRep, FeatureFlag, FeatureFlagConfig, FlagDefaults, FlagKind, FlagRule,
    FlagVariation, Holdout, HoldoutMetric, Layer, LayerReservation, Link, MaintainerRep,
    MetricDataSourceRefRep, MetricGroupRep, MetricRep, Modification, ProjectCatalog, RandomizationUnit,
    SequentialIds, Text, UnixMillis, VariationOrRollout, flag_path, links, metric_group_path, metric_path,
};
use serde_json::Map;

use super::{Flag, Metric, MetricGroup, Project, SeedHoldout, World};

/// Every (project, environment)'s view of the seed catalog, built once when
/// the world is read.
pub(crate) type Catalogs = HashMap<String, HashMap<String, Arc<Catalog>>>;

/// When seeded entities say they were created: the world file gives no
/// date, and a fixed one keeps a seeded state the same on every start.
const SEEDED_AT: UnixMillis = UnixMillis(1_654_104_600_000);

impl World {
    /// What [`iteration_model::resolve_iteration`] checks an iteration
    /// against in the *seed* catalog: the project's flags (with their
    /// configuration in `environment`), metrics, groups, context kinds, and
    /// the environment's covariates. `None` when the project or environment
    /// does not exist. A server reads the live catalog from its store instead.
    pub fn catalog(&self, project: &str, environment: &str) -> Option<Arc<Catalog>> {
        self.catalogs.get(project)?.get(environment).cloned()
    }

    /// The live catalog each project starts with, in file order.
    pub fn seed_catalogs(&self) -> Vec<ProjectCatalog> {
        self.projects.iter().map(seed_catalog).collect()
    }
}

/// Builds [`Catalogs`] for `projects`.
pub(crate) fn catalogs(projects: &[Project]) -> Catalogs {
    projects
        .iter()
        .map(|project| {
            let seed = seed_catalog(project);
            let environments = project
                .environments
                .iter()
                .filter_map(|e| Some((e.key.clone(), Arc::new(seed.view(&e.key)?))))
                .collect();
            (project.key.clone(), environments)
        })
        .collect()
}

/// The live catalog `project` starts with.
pub(crate) fn seed_catalog(project: &Project) -> ProjectCatalog {
    if let Some(catalog) = &project.catalog {
        return catalog.clone();
    }
    let environments: Vec<EnvironmentName> = project
        .environments
        .iter()
        .map(|e| EnvironmentName { key: e.key.clone(), name: e.name.clone() })
        .collect();
    let default_unit = project.default_randomization_unit();
    ProjectCatalog {
        key: project.key.clone(),
        id: stable_id(&project.key),
        creation_date: SEEDED_AT,
        context_kinds: project
            .context_kinds
            .iter()
            .map(|kind| ContextKindRep {
                key: kind.key.clone(),
                name: kind.name.clone().unwrap_or_else(|| kind.key.clone()),
                description: String::new(),
                version: 1,
                creation_date: SEEDED_AT,
                last_modified: SEEDED_AT,
                created_from: "default".to_owned(),
                hide_in_targeting: Some(false),
                archived: Some(false),
                links: Some(links([(
                    "self",
                    format!("/api/v2/projects/{}/context-kinds/{}", project.key, kind.key),
                )])),
                extra: Map::new(),
            })
            .collect(),
        randomization_units: project
            .context_kinds
            .iter()
            .filter(|kind| kind.enabled_for_experiments)
            .map(|kind| RandomizationUnit { key: kind.key.clone(), default: kind.key == default_unit })
            .collect(),
        flags: project
            .flags
            .iter()
            .map(|f| (f.key.clone(), seed_flag(&project.key, &environments, f)))
            .collect(),
        metrics: project.metrics.iter().map(|m| (m.key.clone(), seed_metric(&project.key, m))).collect(),
        metric_groups: project
            .metric_groups
            .iter()
            .map(|g| (g.key.clone(), seed_group(project, g)))
            .collect(),
        covariates: covariates(project),
        layers: seed_layers(project),
        holdouts: project.holdouts.iter().map(|h| seed_holdout(project, h)).collect(),
        environments,
    }
}

/// The world's layers, one entry per key: a world lists a layer once per
/// environment it has reservations in.
fn seed_layers(project: &Project) -> BTreeMap<String, Layer> {
    let mut layers: BTreeMap<String, Layer> = BTreeMap::new();
    for seeded in &project.layers {
        let layer = layers.entry(seeded.key.clone()).or_insert_with(|| Layer {
            key: seeded.key.clone(),
            name: seeded.name.clone(),
            description: String::new(),
            created_at: SEEDED_AT,
            randomization_unit: None,
            environments: BTreeMap::new(),
        });
        let environment = layer.environments.entry(seeded.environment_key.clone()).or_default();
        environment.other_reservation_percent += seeded.other_reservation_percent;
        for (experiment, percent) in &seeded.reservations {
            let flag_key = String::new();
            environment.reservations.push(LayerReservation {
                experiment_key: experiment.clone(),
                flag_key,
                reservation_percent: *percent,
            });
        }
    }
    layers
}

fn seed_holdout(project: &Project, seeded: &SeedHoldout) -> Holdout {
    Holdout {
        id: seeded.id.clone(),
        key: seeded.key.clone(),
        name: seeded.name.clone(),
        description: seeded.description.clone(),
        environment_key: seeded.environment_key.clone(),
        // The world reader refused an amount that does not parse.
        holdout_amount: AllocationPercent::parse(&seeded.holdout_amount).unwrap_or_default(),
        randomization_unit: seeded
            .randomization_unit
            .clone()
            .unwrap_or_else(|| project.default_randomization_unit().to_owned()),
        primary_metric_key: seeded.primary_metric_key.clone(),
        metrics: seeded
            .primary_metric_key
            .iter()
            .map(|key| HoldoutMetric { key: key.clone(), is_group: false })
            .collect(),
        attributes: Vec::new(),
        prerequisite_flag_key: None,
        maintainer_id: None,
        created_at: SEEDED_AT,
        updated_at: SEEDED_AT,
        ended_at: None,
    }
}

/// The base experiment of a seeded holdout, with IDs derived from the
/// holdout's, so that it is the same on every start.
pub(crate) fn seed_base_experiment(catalog: &ProjectCatalog, holdout: &Holdout) -> Experiment {
    let seed = u64::from_str_radix(&stable_id(&format!("base/{}", holdout.id))[8..], 16).unwrap_or(0);
    let mut ids = SequentialIds::new(seed);
    holdout.base_experiment(catalog, SEEDED_AT, &mut ids)
}

/// A 24-hex-digit ID derived from `text`, so that a seeded entity has the
/// same ID on every start.
fn stable_id(text: &str) -> String {
    // FNV-1a, twice with different offsets: stable across builds and platforms.
    let hash = |offset: u64| {
        text.bytes().fold(offset, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
    };
    let (high, low) = (hash(0xcbf2_9ce4_8422_2325), hash(0x8422_2325_cbf2_9ce4));
    format!("{:08x}{:016x}", high as u32, low)
}

fn seed_flag(project: &str, environments: &[EnvironmentName], flag: &Flag) -> FeatureFlag {
    let variations: Vec<FlagVariation> = flag
        .variations
        .iter()
        .map(|v| FlagVariation {
            id: Some(v.id.clone()),
            value: v.value.clone(),
            description: None,
            name: v.name.clone(),
            extra: Map::new(),
        })
        .collect();
    let boolean = variations.len() == 2 && variations.iter().all(|v| v.value.is_boolean());
    let off_variation = variations.len().saturating_sub(1) as i64;
    let configs = environments
        .iter()
        .filter_map(|environment| {
            let seeded = flag.environment(&environment.key)?;
            let config = FeatureFlagConfig {
                on: seeded.on,
                archived: flag.archived,
                salt: stable_id(&format!("salt/{}/{}", flag.key, environment.key)),
                sel: stable_id(&format!("sel/{}/{}", flag.key, environment.key)),
                last_modified: SEEDED_AT,
                version: seeded.version,
                targets: Some(Vec::new()),
                context_targets: Some(Vec::new()),
                rules: Some(
                    seeded
                        .rules
                        .iter()
                        .map(|rule| FlagRule {
                            id: Some(rule.id.clone()),
                            disabled: Some(false),
                            variation: Some(0),
                            rollout: None,
                            clauses: rule.clauses.clone(),
                            track_events: false,
                            description: rule.description.clone(),
                            reference: None,
                            extra: Map::new(),
                        })
                        .collect(),
                ),
                fallthrough: Some(VariationOrRollout {
                    variation: Some(0),
                    rollout: None,
                    extra: Map::new(),
                }),
                off_variation: Some(off_variation),
                prerequisites: Some(Vec::new()),
                site: Link {
                    href: Some(format!("/{project}/{}/features/{}", environment.key, flag.key).into()),
                    r#type: Some(Text::from_static("text/html")),
                    extra: Map::new(),
                },
                environment_name: environment.name.clone(),
                track_events: false,
                track_events_fallthrough: false,
                summary: None,
                extra: Map::new(),
            };
            Some((environment.key.clone(), config))
        })
        .collect();
    FeatureFlag {
        name: flag.name.clone(),
        kind: if boolean { FlagKind::Boolean } else { FlagKind::Multivariate },
        description: None,
        key: flag.key.clone(),
        version: 1,
        creation_date: SEEDED_AT,
        include_in_snippet: Some(false),
        client_side_availability: Some(ClientSideAvailability {
            using_mobile_key: Some(false),
            using_environment_id: Some(false),
            extra: Map::new(),
        }),
        variations,
        temporary: false,
        tags: Vec::new(),
        links: links([
            ("parent", format!("/api/v2/flags/{project}")),
            ("self", flag_path(project, &flag.key)),
        ]),
        maintainer_id: None,
        experiments: ExperimentInfoRep::none(),
        custom_properties: BTreeMap::new(),
        archived: flag.archived,
        archived_date: flag.archived.then_some(SEEDED_AT),
        deprecated: Some(false),
        defaults: Some(FlagDefaults { on_variation: 0, off_variation, extra: Map::new() }),
        environments: Some(configs),
        extra: Map::new(),
    }
}

fn seed_metric(project: &str, metric: &Metric) -> MetricRep {
    MetricRep {
        id: stable_id(&format!("metric/{project}/{}", metric.key)),
        version_id: metric.version_id.clone(),
        version: Some(1),
        key: metric.key.clone(),
        name: metric.name.clone(),
        kind: metric.kind.clone(),
        links: links([
            ("parent", format!("/api/v2/metrics/{project}")),
            ("self", metric_path(project, &metric.key)),
        ]),
        tags: Vec::new(),
        creation_date: SEEDED_AT,
        last_modified: Some(Modification::at(SEEDED_AT)),
        maintainer_id: None,
        description: None,
        category: None,
        is_numeric: Some(metric.is_numeric),
        success_criteria: metric.is_numeric.then(|| "HigherThanBaseline".to_owned()),
        unit: None,
        event_key: metric.event_key.clone(),
        randomization_units: Some(metric.randomization_units.clone()),
        analysis_units: None,
        filters: None,
        unit_aggregation_type: metric.unit_aggregation_type.clone(),
        analysis_type: None,
        percentile_value: None,
        event_default: None,
        data_source: MetricDataSourceRefRep::hosted(),
        archived: Some(false),
        selector: None,
        urls: None,
        extra: Map::new(),
    }
}

fn seed_group(project: &Project, group: &MetricGroup) -> MetricGroupRep {
    let metrics = group
        .metrics
        .iter()
        .filter_map(|member| {
            let metric = project.metrics.iter().find(|m| m.key == member.key)?;
            Some(seed_metric(&project.key, metric).in_group(member.name_in_group.as_deref().map(Text::from)))
        })
        .collect();
    MetricGroupRep {
        id: stable_id(&format!("metric-group/{}/{}", project.key, group.key)),
        key: group.key.clone(),
        name: group.name.clone(),
        kind: group.kind.clone(),
        description: None,
        links: links([
            ("parent", format!("/api/v2/projects/{}", project.key)),
            ("self", metric_group_path(&project.key, &group.key)),
        ]),
        tags: Vec::new(),
        creation_date: SEEDED_AT,
        last_modified: SEEDED_AT,
        maintainer: MaintainerRep { key: "seed".to_owned(), kind: "member".to_owned(), extra: Map::new() },
        metrics,
        version: 1,
        version_id: Some(group.version_id.clone()),
        extra: Map::new(),
    }
}

fn covariates(project: &Project) -> BTreeMap<String, BTreeMap<String, CovariateInfoRep>> {
    let mut by_environment: BTreeMap<String, BTreeMap<String, CovariateInfoRep>> = BTreeMap::new();
    for c in &project.covariates {
        let info = CovariateInfoRep {
            id: c.id.clone(),
            file_name: c.file_name.clone(),
            created_at: c.created_at,
            extra: Default::default(),
        };
        by_environment.entry(c.environment_key.clone()).or_default().insert(c.id.clone(), info);
    }
    by_environment
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
