//! The demo world is what `docs/demo-world.md` says, and broken world files are
//! rejected with every problem named.

use iteration_model::{ExperimentType, LayerSnapshotRep, UnixMillis};

use super::{Role, World, WorldError, WorldProblem};

fn problems(json: &str) -> Vec<(String, String)> {
    match World::from_json(json.as_bytes()) {
        Err(WorldError::Invalid { problems }) => {
            problems.into_iter().map(|WorldProblem { path, message }| (path, message)).collect()
        }
        other => panic!("not Invalid: {other:?}"),
    }
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(path, message)| (path.to_string(), message.to_string())).collect()
}

#[test]
fn demo_tokens_are_a_writer_a_reader_and_an_admin_for_every_project() {
    let world = World::demo();
    let writer = world.token("api-demo-writer").unwrap();
    assert_eq!(
        (writer.role, writer.role.can_write(), writer.allows_project("my-project")),
        (Role::Writer, true, true)
    );
    let reader = world.token("api-demo-reader").unwrap();
    assert_eq!((reader.role, reader.role.can_write(), reader.projects.as_ref()), (Role::Reader, false, None));
    let admin = world.token("api-demo-admin").unwrap();
    assert_eq!(
        (admin.role, admin.role.can_write(), admin.role.is_admin(), admin.name.as_deref()),
        (Role::Admin, true, true, Some("Demo admin"))
    );
    assert!(!writer.role.is_admin());
    assert!(world.token("api-demo-admi").is_none());
    assert!(world.token("api-demo-admin2").is_none());
    assert!(world.token("").is_none());
}

#[test]
fn demo_has_my_project_with_production_and_test() {
    let world = World::demo();
    assert!(world.has_project("my-project"));
    assert!(!world.has_project("other-project"));
    assert!(world.has_environment("my-project", "production"));
    assert!(world.has_environment("my-project", "test"));
    assert!(!world.has_environment("my-project", "staging"));
    assert!(!world.has_environment("other-project", "production"));
    let project = world.project("my-project").unwrap();
    assert_eq!(project.name, "My project");
    assert_eq!(project.default_randomization_unit(), "user");
    let kinds: Vec<_> =
        project.context_kinds.iter().map(|k| (k.key.as_str(), k.enabled_for_experiments)).collect();
    assert_eq!(kinds, [("user", true), ("organization", true), ("device", false)]);
}

#[test]
fn demo_layer_reserves_10_for_example_experiment_and_70_for_others() {
    let world = World::demo();
    let expected = LayerSnapshotRep {
        key: "checkout-flow".to_owned(),
        name: "Checkout Flow".to_owned(),
        reservation_percent: 10,
        other_reservation_percent: 70,
        extra: Default::default(),
    };
    let catalogs = world.seed_catalogs();
    let catalog = catalogs.iter().find(|c| c.key == "my-project").expect("the demo has my-project");
    assert_eq!(catalog.layer_snapshot("production", "example-experiment"), Some(expected));
    assert_eq!(catalog.layer_snapshot("production", "example-bandit"), None);
    assert_eq!(catalog.layer_snapshot("test", "example-experiment"), None);
}

#[test]
fn demo_holdout_is_created_with_its_base_experiment() {
    let world = World::demo();
    let catalogs = world.seed_catalogs();
    let catalog = catalogs.iter().find(|c| c.key == "my-project").expect("the demo has my-project");
    let holdout = catalog.holdout("production", "checkout-holdout").expect("the demo holdout");
    assert_eq!(holdout.id, "65f0c0ffee00000000000001");
    assert_eq!(holdout.holdout_amount.to_string(), "5");
    assert_eq!(holdout.randomization_unit, "user");
    assert_eq!(holdout.primary_metric_key.as_deref(), Some("metric-key-123abc"));
    assert_eq!(holdout.status(std::iter::empty()), iteration_model::HoldoutStatus::Created);
    let seeds = world.seed_experiments();
    let base = seeds.iter().find(|r| r.key() == "checkout-holdout").expect("the base experiment is seeded");
    assert_eq!(base.experiment.r#type, Some(ExperimentType::Holdout));
    assert_eq!(base.experiment.holdout_id.as_deref(), Some("65f0c0ffee00000000000001"));
    let draft = base.experiment.draft_iteration.as_ref().expect("the base experiment has a draft");
    let allocations: Vec<&str> =
        draft.treatments.iter().flatten().map(|t| t.allocation_percent.as_str()).collect();
    assert_eq!(allocations, ["5", "95"]);
    assert_eq!(seeds, World::demo().seed_experiments(), "seeding is the same on every start");
}

#[test]
fn demo_seeds_three_production_experiments_without_iterations() {
    let mut seeds = World::demo().seed_experiments();
    // The holdout's base experiment comes last; its own test checks it.
    assert_eq!(seeds.pop().map(|r| r.experiment.key), Some("checkout-holdout".to_owned()));
    let summary: Vec<_> = seeds
        .iter()
        .map(|r| {
            let e = &r.experiment;
            (
                r.project_key.as_str(),
                r.environment_key.as_str(),
                e.key.as_str(),
                e.name.as_str(),
                e.r#type.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "my-project",
                "production",
                "example-experiment",
                "Example experiment",
                Some(ExperimentType::Experiment)
            ),
            ("my-project", "production", "example-bandit", "Example bandit", Some(ExperimentType::Mab)),
            (
                "my-project",
                "production",
                "retired-experiment",
                "Retired experiment",
                Some(ExperimentType::Experiment)
            ),
        ]
    );
    let archived: Vec<_> = seeds.iter().map(|r| r.experiment.archived_date).collect();
    assert_eq!(archived, [None, None, Some(UnixMillis(1654191000000))]);
    for record in &seeds {
        let e = &record.experiment;
        assert_eq!(e.creation_date, UnixMillis(1654104600000));
        assert_eq!(e.environment_key, "production");
        assert!(
            e.current_iteration.is_none() && e.draft_iteration.is_none() && e.previous_iterations.is_none()
        );
    }
    let first = &seeds[0].experiment;
    assert_eq!(first.id.as_deref(), Some("6297ed79dee7dc14e1f9a801"));
    assert_eq!(first.maintainer_id, "12ab3c45de678910fgh12345");
    let link = |rel: &str| first.links[rel].href.clone().unwrap();
    assert_eq!(
        link("self"),
        "/api/v2/projects/my-project/environments/production/experiments/example-experiment"
    );
    assert_eq!(link("parent"), "/api/v2/projects/my-project/environments/production");
}

#[test]
fn world_file_round_trips() {
    let demo = World::demo();
    let written = demo.to_json().unwrap();
    assert_eq!(World::from_json(written.as_bytes()).unwrap(), demo);
}

#[test]
fn not_json_names_line_and_column() {
    let err = World::from_json(b"{\n  \"formatVersion\": 1,\n  oops\n}").unwrap_err();
    assert_eq!(err.to_string(), "the world file is not valid JSON: key must be a string at line 3 column 3");
    assert!(matches!(err, WorldError::Syntax { line: 3, column: 3, .. }), "{err:?}");
}

#[test]
fn shape_problems_are_all_reported_with_their_paths() {
    let json = r#"{
        "formatVersion": 3,
        "tokens": [{"token": "t", "role": "owner"}],
        "projects": [{"name": "P", "enviroments": [], "flags": [{"key": "f"}]}]
    }"#;
    assert_eq!(
        problems(json),
        owned(&[
            ("/formatVersion", "format version 3 is not supported; this program reads versions 1 to 2"),
            ("/tokens/0", "unknown variant `owner`, expected one of `reader`, `writer`, `admin`"),
            (
                "/projects/0/enviroments",
                "unknown field `enviroments`; expected one of key, name, defaultRandomizationUnit, contextKinds, \
                 environments, flags, metrics, metricGroups, layers, holdouts, covariates, experiments, catalog",
            ),
            ("/projects/0/key", "`key` is required"),
            ("/projects/0/environments", "`environments` is required"),
            ("/projects/0/flags/0", "missing field `name`"),
        ])
    );
}

#[test]
fn dangling_references_are_all_reported_with_their_paths() {
    let json = r#"{
        "formatVersion": 1,
        "tokens": [
            {"token": "w", "role": "writer", "projects": ["nope"]},
            {"token": "w", "role": "reader"}
        ],
        "projects": [{
            "key": "p", "name": "P", "defaultRandomizationUnit": "device",
            "contextKinds": [{"key": "user", "enabledForExperiments": true}, {"key": "device"}],
            "environments": [{"key": "production", "name": "Production"}],
            "flags": [{
                "key": "f", "name": "F",
                "variations": [{"_id": "v", "value": true}, {"_id": "v", "value": false}],
                "environments": {
                    "staging": {"on": true, "version": 0, "rules": [{"_id": "fallthrough"}]}
                }
            }],
            "metrics": [
                {"key": "m", "name": "M", "kind": "click", "randomizationUnits": ["team"], "_versionId": "1"}
            ],
            "metricGroups": [
                {"key": "g", "name": "G", "kind": "funnel", "_versionId": "1",
                 "metrics": [{"key": "m"}, {"key": "missing"}, {"key": "g"}]},
                {"key": "m", "name": "Clash", "kind": "sideways", "_versionId": "1", "metrics": []}
            ],
            "layers": [{"key": "l", "name": "L", "environmentKey": "production",
                        "reservations": {"x": 10, "ghost": 120}, "otherReservationPercent": 70}],
            "covariates": [{"environmentKey": "staging", "id": "c", "fileName": "c.csv", "createdAt": 1}],
            "experiments": [{"environmentKey": "production", "key": "x", "name": "X", "type": "experiment",
                             "_id": "1", "_creationDate": 1, "_maintainerId": "me"}]
        }]
    }"#;
    assert_eq!(
        problems(json),
        owned(&[
            ("/tokens/0/projects/0", "unknown project `nope`"),
            ("/tokens/1/token", "this token is defined twice"),
            (
                "/projects/0/defaultRandomizationUnit",
                "`device` is not a context kind of this project enabled for experiments"
            ),
            ("/projects/0/flags/0/variations/1/_id", "variation `v` is defined twice"),
            (
                "/projects/0/flags/0/environments/staging",
                "unknown environment `staging`; this project has production"
            ),
            ("/projects/0/flags/0/environments/staging/version", "version 0 must be at least 1"),
            (
                "/projects/0/flags/0/environments/staging/rules/0/_id",
                "`fallthrough` names the default rule; pick another id",
            ),
            ("/projects/0/flags/0/environments", "no configuration for environment `production`"),
            ("/projects/0/metricGroups/1/key", "metric or metric group `m` is defined twice"),
            ("/projects/0/metrics/0/randomizationUnits/0", "unknown context kind `team`"),
            ("/projects/0/metricGroups/0/metrics/1/key", "`missing` is not a metric of this project"),
            (
                "/projects/0/metricGroups/0/metrics/2/key",
                "`g` is a metric group; a group's members must be single metrics"
            ),
            ("/projects/0/metricGroups/1/kind", "kind `sideways` is not one of funnel, standard"),
            ("/projects/0/metricGroups/1/metrics", "a metric group needs at least one metric"),
            (
                "/projects/0/layers/0/reservations/ghost",
                "`ghost` is not an experiment of environment `production`"
            ),
            ("/projects/0/layers/0/reservations/ghost", "120 is not a percentage from 0 to 100"),
            (
                "/projects/0/layers/0/reservations",
                "layer `l` is reserved 200 percent in production; at most 100"
            ),
            (
                "/projects/0/covariates/0/environmentKey",
                "unknown environment `staging`; this project has production"
            ),
        ])
    );
}

#[test]
fn version_1_has_no_whole_catalog_and_version_2_no_short_one_beside_it() {
    let v1 = r#"{"formatVersion": 1, "projects": [{"key": "p", "name": "P", "environments": [], "catalog": null}]}"#;
    assert_eq!(
        problems(v1),
        owned(&[(
            "/projects/0/catalog",
            "unknown field `catalog`; expected one of key, name, defaultRandomizationUnit, contextKinds, \
             environments, flags, metrics, metricGroups, layers, holdouts, covariates, experiments",
        )])
    );
    let mut catalog = serde_json::to_value(World::demo().seed_catalogs().remove(0)).unwrap();
    catalog["key"] = serde_json::json!("other");
    let v2 = serde_json::json!({"formatVersion": 2, "projects": [{
        "key": "my-project", "name": "P", "environments": [{"key": "production", "name": "Production"}],
        "flags": [], "catalog": catalog
    }]});
    assert_eq!(
        problems(&v2.to_string()),
        owned(&[(
            "/projects/0/flags",
            "`flags` cannot be given with `catalog`, which holds the whole catalog"
        )])
    );
    // Cross-references are checked once the shape is right.
    let mut v2 = v2;
    v2["projects"][0].as_object_mut().unwrap().remove("flags");
    assert_eq!(
        problems(&v2.to_string()),
        owned(&[
            ("/projects/0/catalog/key", "the catalog is of project `other`; it must be of `my-project`"),
            (
                "/projects/0/catalog/environments",
                "the catalog's environments must be the project's `environments`, in the same order",
            ),
        ])
    );
}

#[test]
fn a_version_1_world_is_written_as_version_2_and_reads_back_the_same() {
    let demo = World::demo();
    let written: serde_json::Value = serde_json::from_str(&demo.to_json().unwrap()).unwrap();
    assert_eq!(written["formatVersion"], 2);
    assert_eq!(
        written["projects"][0]["experiments"][0]["_links"]["self"]["href"],
        "/api/v2/projects/my-project/environments/production/experiments/example-experiment"
    );
}
