//! The server's request handling without a socket: `App::handle` on the
//! in-memory store, beside the benchmark route of the same `App`, which
//! reads the same request and answers a body of the same size doing nothing
//! else. The ratio says what the endpoint's own work costs, apart from HTTP
//! and the load generator that share the machine in `cargo xtask bench`.
//!
//! It runs on mimalloc, the allocator of the `iteration` binary, so that
//! allocation costs what it costs in the server.
//!
//! Run: `cargo bench -p iteration-api --features server --bench app`.

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use criterion::Criterion;
use http::{Method, Request};
use iteration_api::server::store::MemoryStore;
use iteration_api::server::world::World;
use iteration_api::server::{App, AppConfig, RateLimits, seed_store};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DEMO_REQUEST: &[u8] = include_bytes!("../fixtures/demo-valid-request.json");
const CREATE_ITERATION: &str =
    "/api/v2/projects/my-project/environments/production/experiments/example-experiment/iterations";

fn request(path: &str) -> Request<Bytes> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(http::header::AUTHORIZATION, "api-demo-writer")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Bytes::from_static(DEMO_REQUEST))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn handle(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap_or_else(|e| panic!("{e}"));
    let world = Arc::new(World::demo());
    let store = Arc::new(MemoryStore::new());
    runtime.block_on(seed_store(store.as_ref(), &world)).unwrap_or_else(|e| panic!("seed: {e}"));
    let config = AppConfig::default().with_rate_limits(RateLimits::OFF).with_bench_baseline(true);
    let app = App::new(store, world, config);

    let created = runtime.block_on(app.handle(request(CREATE_ITERATION)));
    assert_eq!(created.status(), 200, "{:?}", created.body());
    let fixed = format!("/__bench/fixed?size={}", created.body().len());

    let mut group = c.benchmark_group("app");
    group.bench_function("baseline: fixed body of the same size", |b| {
        b.iter(|| runtime.block_on(app.handle(black_box(request(&fixed)))))
    });
    group.bench_function("create iteration, in-memory store", |b| {
        b.iter(|| runtime.block_on(app.handle(black_box(request(CREATE_ITERATION)))))
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    handle(&mut criterion);
    criterion.final_summary();
}
