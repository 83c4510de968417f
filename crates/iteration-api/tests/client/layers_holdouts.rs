//! The typed client's layer and holdout operations against the real server,
//! in process: a memory store seeded with the demo world, on 127.0.0.1.

use std::sync::Arc;

use iteration_api::client::{BaseUrl, Client, Error, Expand};
use iteration_api::server::store::MemoryStore;
use iteration_api::server::world::World;
use iteration_api::server::{App, AppConfig, seed_store};
use iteration_model::{ExperimentPost, HoldoutPost, IterationInput, LayerPost, ViolationCode};
use iteration_transport::{Server, ServerConfig, ServerHandle};

const VALID_REQUEST: &str = include_str!("../../fixtures/demo-valid-request.json");

async fn demo_server() -> (ServerHandle, Client) {
    let world = Arc::new(World::demo());
    let store = Arc::new(MemoryStore::new());
    seed_store(store.as_ref(), &world).await.expect("the demo world seeds a memory store");
    let app = App::new(store, world, AppConfig::default());
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), ServerConfig::default()).await.unwrap();
    let handle = server.spawn(app);
    let client = Client::builder()
        .base_url(BaseUrl::Custom(format!("http://{}", handle.local_addr())))
        .token("api-demo-writer")
        .build()
        .unwrap();
    (handle, client)
}

fn iteration() -> IterationInput {
    IterationInput::from_json(&serde_json::from_str(VALID_REQUEST).unwrap()).unwrap()
}

fn post(key: &str, holdout: Option<&str>) -> ExperimentPost {
    ExperimentPost {
        name: key.to_owned(),
        description: None,
        maintainer_id: None,
        key: key.to_owned(),
        iteration: iteration(),
        holdout_id: holdout.map(str::to_owned),
        tags: None,
        methodology: None,
        analysis_config: None,
        data_source: None,
        r#type: None,
    }
}

#[tokio::test]
async fn the_client_reserves_traffic_and_runs_a_holdout() {
    let (_server, client) = demo_server().await;
    let layers = client.list_layers("my-project", Some("example-experiment")).await.unwrap();
    assert_eq!(layers.total_count, 1);
    assert_eq!(layers.items[0].environments["production"].other_reservation_percent, 70);

    let post_layer = LayerPost { key: "pricing".into(), name: "Pricing".into(), description: String::new() };
    client.create_layer("my-project", &post_layer).await.unwrap();
    client.create_experiment("my-project", "production", &post("first", None)).await.unwrap();
    client.create_experiment("my-project", "production", &post("second", None)).await.unwrap();
    client.reserve_layer_traffic("my-project", "pricing", "production", "first", 30).await.unwrap();
    let error =
        client.reserve_layer_traffic("my-project", "pricing", "production", "second", 80).await.unwrap_err();
    let Error::InvalidRequest { errors, .. } = &error else { panic!("expected a 400, got {error:?}") };
    let found: Vec<(&str, Option<&str>)> =
        errors.iter().map(|e| (e.path.as_str(), e.code.as_deref())).collect();
    assert_eq!(found, [("/instructions/0/reservationPercent", Some(ViolationCode::ReservationSum.as_str()))]);
    let layer =
        client.reserve_layer_traffic("my-project", "pricing", "production", "second", 60).await.unwrap();
    assert_eq!(layer.environments["production"].total(), 90);
    client.remove_experiment_from_layer("my-project", "pricing", "production", "second").await.unwrap();

    let mut holdout_post = HoldoutPost::new("pricing-holdout", "Pricing holdout", "10");
    holdout_post.primary_metric_key = Some("metric-key-123abc".into());
    let holdout = client.create_holdout("my-project", "production", &holdout_post).await.unwrap();
    assert_eq!(holdout.status, "created");
    client.create_experiment("my-project", "production", &post("held", Some(&holdout.id))).await.unwrap();
    let detail = client
        .get_holdout(
            "my-project",
            "production",
            "pricing-holdout",
            Expand::DRAFT_ITERATION,
            Expand::DRAFT_ITERATION,
        )
        .await
        .unwrap();
    assert_eq!(detail.status, "enabled");
    let related = detail.related_experiments.expect("getHoldout lists the related experiments");
    assert!(related[0].draft_iteration.is_some());
    let by_id = client.get_holdout_by_id("my-project", "production", &holdout.id).await.unwrap();
    assert_eq!(by_id.experiments.map(|e| e.len()), Some(1));
    let listed = client.list_holdouts("my-project", "production", None, None).await.unwrap();
    assert_eq!(listed.total_count, 2);
    let ended = client.end_holdout("my-project", "production", "pricing-holdout").await.unwrap();
    assert_eq!(ended.status, "ended");
}
