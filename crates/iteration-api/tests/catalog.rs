//! The typed client's catalog operations against this project's server,
//! started in process on loopback with the demo world in memory: every
//! operation goes through the real request building, transport, routing,
//! handlers and response mapping.

use std::sync::Arc;

use iteration_api::client::{
    BaseUrl, Client, ConflictKind, Error, FlagListParams, MetricGroupListParams, MetricListParams,
};
use iteration_api::server::store::MemoryStore;
use iteration_api::server::world::World;
use iteration_api::server::{App, AppConfig, RateLimits, seed_store};
use iteration_model::RandomizationUnit;
use iteration_model::{FeatureFlagBody, FlagInstruction, FlagPatch, JsonPatch, JsonPointer, PatchOperation};
use iteration_transport::{Server, ServerConfig, ServerHandle};
use serde_json::{Value, json};

const PROJECT: &str = "my-project";
const ENV: &str = "production";

/// The demo world served over plain HTTP, in memory, without rate limits.
struct Demo {
    handle: ServerHandle,
}

impl Demo {
    async fn start() -> Demo {
        let store = Arc::new(MemoryStore::new());
        let world = World::demo();
        seed_store(store.as_ref(), &world).await.unwrap();
        let app = App::new(store, Arc::new(world), AppConfig::default().with_rate_limits(RateLimits::OFF));
        let handle =
            Server::bind("127.0.0.1:0".parse().unwrap(), ServerConfig::default()).await.unwrap().spawn(app);
        Demo { handle }
    }

    fn client(&self) -> Client {
        Client::builder()
            .base_url(BaseUrl::Custom(format!("http://{}", self.handle.local_addr())))
            .token("api-demo-writer")
            .build()
            .unwrap()
    }
}

fn replace(path: &str, value: Value) -> PatchOperation {
    PatchOperation::Replace { path: JsonPointer::parse(path).unwrap(), value }
}

fn add(path: &str, value: Value) -> PatchOperation {
    PatchOperation::Add { path: JsonPointer::parse(path).unwrap(), value }
}

fn environment_version(flag: &iteration_model::FeatureFlag, environment: &str) -> i64 {
    flag.environment(environment).map(|config| config.version).unwrap()
}

#[tokio::test]
async fn the_catalog_is_worked_through_the_typed_client() {
    let demo = Demo::start().await;
    let client = demo.client();

    // A metric, then a group of it.
    let post =
        json!({"key": "it-checkout", "name": "Checkout done", "kind": "custom", "eventKey": "checkout-done"});
    let metric = client.create_metric(PROJECT, &post).await.unwrap();
    assert_eq!(metric.key, "it-checkout");
    assert_eq!(metric.randomization_units.as_deref(), Some(&["user".to_owned()][..]));
    let taken = client.create_metric(PROJECT, &post).await.unwrap_err();
    assert!(matches!(taken, Error::Conflict { kind: ConflictKind::KeyExists, .. }), "{taken:?}");
    assert_eq!(taken.status().map(|s| s.as_u16()), Some(409));

    let group = json!({"key": "it-group", "name": "Checkout group", "kind": "standard",
                       "metrics": [{"key": "it-checkout", "nameInGroup": "Checkout"}]});
    let group = client.create_metric_group(PROJECT, &group).await.unwrap();
    assert_eq!(group.key, "it-group");
    assert_eq!(group.metrics.len(), 1);
    let read = client.get_metric(PROJECT, "it-checkout", &["metricGroupCount"]).await.unwrap();
    assert_eq!(read.extra.get("metricGroupCount"), Some(&json!(1)));

    // A patched metric gets a fresh version ID; the group reads back.
    let patched = client
        .patch_metric(PROJECT, "it-checkout", &[add("/description", json!("when checkout completes"))])
        .await
        .unwrap();
    assert_eq!(patched.description.as_deref(), Some("when checkout completes"));
    assert_ne!(patched.version_id, metric.version_id);
    let renamed =
        client.patch_metric_group(PROJECT, "it-group", &[replace("/name", json!("Renamed"))]).await.unwrap();
    assert_eq!(renamed.name, "Renamed");
    assert_eq!(client.get_metric_group(PROJECT, "it-group", &[]).await.unwrap().name, "Renamed");

    // A flag turned off then on: its environment's version moves by 2.
    let flag = client.get_flag(PROJECT, "example-flag-for-experiment", Some(ENV)).await.unwrap();
    let environments: Vec<&String> = flag.environments.iter().flatten().map(|(key, _)| key).collect();
    assert_eq!(environments, [ENV]);
    assert!(flag.environment(ENV).unwrap().on);
    let before = environment_version(&flag, ENV);
    let off = client.turn_flag_off(PROJECT, "example-flag-for-experiment", ENV).await.unwrap();
    assert!(!off.environment(ENV).unwrap().on);
    assert_eq!(environment_version(&off, ENV), before + 1);
    let on = client.turn_flag_on(PROJECT, "example-flag-for-experiment", ENV).await.unwrap();
    assert!(on.environment(ENV).unwrap().on);
    assert_eq!(environment_version(&on, ENV), before + 2);

    // A semantic patch missing its environment comes back with the path at fault.
    let unplaced = FlagPatch::new([FlagInstruction::TurnFlagOn]);
    let error = client.patch_flag_semantic(PROJECT, "example-flag-key", &unplaced).await.unwrap_err();
    let Error::InvalidRequest { errors, .. } = &error else { panic!("got {error:?}") };
    assert_eq!(errors.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(), ["/environmentKey"]);

    // A new flag, renamed by JSON Patch: only the flag-wide version moves.
    let mut body = FeatureFlagBody::new("it-flag", "Integration flag");
    body.tags = vec!["it".into()];
    let created = client.create_flag(PROJECT, &body).await.unwrap();
    assert_eq!(created.version, 1);
    assert_eq!(environment_version(&created, ENV), 1);
    assert!(!created.environment(ENV).unwrap().on);
    let taken = client.create_flag(PROJECT, &body).await.unwrap_err();
    assert!(matches!(taken, Error::Conflict { kind: ConflictKind::KeyExists, .. }), "{taken:?}");
    let patch = JsonPatch::new([replace("/name", json!("Renamed flag"))]).with_comment("rename");
    let renamed = client.patch_flag(PROJECT, "it-flag", &patch).await.unwrap();
    assert_eq!(renamed.name, "Renamed flag");
    assert_eq!(renamed.version, 2);
    assert_eq!(environment_version(&renamed, ENV), 1);

    // Lists walked page by page.
    let mut pages =
        client.flag_pages(PROJECT, FlagListParams { limit: Some(2), ..FlagListParams::default() });
    let (mut flags, mut count) = (Vec::new(), 0);
    while let Some(page) = pages.next().await.unwrap() {
        count += 1;
        assert!(page.items.len() <= 2);
        flags.extend(page.items.into_iter().map(|f| f.key));
    }
    flags.sort();
    assert_eq!(flags, ["example-flag-for-experiment", "example-flag-key", "it-flag"]);
    assert_eq!(count, 2);
    let tagged = client
        .list_flags(PROJECT, &FlagListParams { tag: Some("it".into()), ..FlagListParams::default() })
        .await
        .unwrap();
    assert_eq!(tagged.items.iter().map(|f| f.key.as_str()).collect::<Vec<_>>(), ["it-flag"]);

    let mut pages =
        client.metric_pages(PROJECT, MetricListParams { limit: Some(2), ..MetricListParams::default() });
    let mut metrics = Vec::new();
    while let Some(page) = pages.next().await.unwrap() {
        metrics.extend(page.items.into_iter().map(|m| m.key));
    }
    assert_eq!(metrics.len(), 5, "{metrics:?}");
    assert!(metrics.contains(&"it-checkout".to_owned()));

    let mut pages = client.metric_group_pages(
        PROJECT,
        MetricGroupListParams { limit: Some(1), ..MetricGroupListParams::default() },
    );
    let mut groups = Vec::new();
    while let Some(page) = pages.next().await.unwrap() {
        assert_eq!(page.items.len(), 1);
        groups.extend(page.items.into_iter().map(|g| g.key));
    }
    assert_eq!(groups.len(), 3, "{groups:?}");

    // Context kinds and experimentation settings.
    let upsert =
        client.put_context_kind(PROJECT, "it-kind", &json!({"name": "Integration kind"})).await.unwrap();
    assert_eq!(upsert.status.as_deref(), Some("success"));
    let kinds = client.list_context_kinds(PROJECT).await.unwrap();
    assert!(kinds.items.iter().any(|k| k.key == "it-kind" && k.name == "Integration kind"));
    let units = [
        RandomizationUnit { key: "user".into(), default: true },
        RandomizationUnit { key: "it-kind".into(), default: false },
    ];
    let settings = client.put_experimentation_settings(PROJECT, &units).await.unwrap();
    let enabled: Vec<String> =
        settings.randomization_units.iter().flatten().filter_map(|u| u.randomization_unit.clone()).collect();
    assert_eq!(enabled, ["user", "it-kind"]);
    assert_eq!(client.get_experimentation_settings(PROJECT).await.unwrap(), settings);
    let two_defaults = [
        RandomizationUnit { key: "user".into(), default: true },
        RandomizationUnit { key: "it-kind".into(), default: true },
    ];
    let error = client.put_experimentation_settings(PROJECT, &two_defaults).await.unwrap_err();
    let Error::InvalidRequest { errors, .. } = &error else { panic!("got {error:?}") };
    assert_eq!(errors.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(), ["/randomizationUnits"]);

    // Deletes: a metric in a group is refused; after the group, it goes.
    let in_use = client.delete_metric(PROJECT, "it-checkout").await.unwrap_err();
    assert!(matches!(in_use, Error::InvalidRequest { .. }), "{in_use:?}");
    client.delete_metric_group(PROJECT, "it-group").await.unwrap();
    client.delete_metric(PROJECT, "it-checkout").await.unwrap();
    client.delete_flag(PROJECT, "it-flag").await.unwrap();
    for gone in [
        client.get_metric(PROJECT, "it-checkout", &[]).await.map(drop),
        client.get_metric_group(PROJECT, "it-group", &[]).await.map(drop),
        client.get_flag(PROJECT, "it-flag", None).await.map(drop),
        client.delete_flag(PROJECT, "it-flag").await,
    ] {
        let error = gone.unwrap_err();
        assert!(matches!(error, Error::NotFound(_)), "{error:?}");
        assert_eq!(error.details().and_then(|d| d.code.as_deref()), Some("not_found"));
    }
}

#[tokio::test]
async fn a_metric_post_with_problems_is_answered_with_every_one() {
    let demo = Demo::start().await;
    let post = json!({"key": "bad metric", "kind": "custom", "randomizationUnits": ["nobody"]});
    let error = demo.client().create_metric(PROJECT, &post).await.unwrap_err();
    let Error::InvalidRequest { details, errors } = &error else { panic!("got {error:?}") };
    assert_eq!(details.code.as_deref(), Some("invalid_request"));
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"/key"), "{paths:?}");
    assert!(paths.contains(&"/eventKey"), "{paths:?}");
    assert!(paths.iter().any(|p| p.starts_with("/randomizationUnits")), "{paths:?}");
}
