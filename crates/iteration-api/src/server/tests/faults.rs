//! The store failing under the handlers: a writer that always loses the
//! race, and storage that is down. Each answers in the one error format.

use std::sync::atomic::{AtomicU8, Ordering};

use http::{Method, StatusCode};
use serde_json::json;

use super::*;
use iteration_model::ProjectCatalog;

use crate::server::store::{
    CatalogExpectation, CatalogRecord, Change, ExperimentRecord, Settled, Store, StoreError, StoreFuture,
    Versioned,
};

const HEALTHY: u8 = 0;
/// Every compare-and-swap finds that someone else wrote first.
const ALWAYS_BEATEN: u8 = 1;
/// Every operation fails as a broken disk would.
const DOWN: u8 = 2;

/// A memory store whose failures the test switches on.
struct FaultyStore {
    inner: MemoryStore,
    mode: AtomicU8,
}

impl FaultyStore {
    fn failure(&self) -> Option<StoreError> {
        (self.mode.load(Ordering::SeqCst) == DOWN).then(|| StoreError::Unavailable("the disk is gone".into()))
    }
}

impl Store for FaultyStore {
    fn get(
        &self,
        project: &str,
        environment: &str,
        key: &str,
    ) -> StoreFuture<'_, Option<Versioned<Arc<ExperimentRecord>>>> {
        match self.failure() {
            Some(err) => Box::pin(async move { Err(err) }),
            None => self.inner.get(project, environment, key),
        }
    }

    fn list(
        &self,
        project: &str,
        environment: Option<&str>,
    ) -> StoreFuture<'_, Vec<Versioned<Arc<ExperimentRecord>>>> {
        match self.failure() {
            Some(err) => Box::pin(async move { Err(err) }),
            None => self.inner.list(project, environment),
        }
    }

    fn insert(
        &self,
        record: ExperimentRecord,
        catalog: Option<u64>,
    ) -> StoreFuture<'_, Versioned<Arc<ExperimentRecord>>> {
        match self.failure() {
            Some(err) => Box::pin(async move { Err(err) }),
            None => self.inner.insert(record, catalog),
        }
    }

    fn compare_and_swap(
        &self,
        expected: u64,
        record: ExperimentRecord,
        catalog: Option<u64>,
    ) -> StoreFuture<'_, u64> {
        if self.mode.load(Ordering::SeqCst) == ALWAYS_BEATEN {
            return Box::pin(async move { Err(StoreError::Conflict { expected, actual: expected + 1 }) });
        }
        match self.failure() {
            Some(err) => Box::pin(async move { Err(err) }),
            None => self.inner.compare_and_swap(expected, record, catalog),
        }
    }

    /// Beaten, it answers as a networked store that gave up on a
    /// serialization failure would.
    fn update<'a>(
        &'a self,
        project: &'a str,
        environment: &'a str,
        key: &'a str,
        change: Change,
    ) -> StoreFuture<'a, Settled> {
        if self.mode.load(Ordering::SeqCst) == ALWAYS_BEATEN {
            return Box::pin(async move { Err(StoreError::Conflict { expected: 1, actual: 2 }) });
        }
        match self.failure() {
            Some(err) => Box::pin(async move { Err(err) }),
            None => self.inner.update(project, environment, key, change),
        }
    }

    fn catalog(&self, project: &str) -> StoreFuture<'_, Option<Versioned<Arc<CatalogRecord>>>> {
        match self.failure() {
            Some(err) => Box::pin(async move { Err(err) }),
            None => self.inner.catalog(project),
        }
    }

    fn generation(&self, project: &str) -> StoreFuture<'_, u64> {
        self.inner.generation(project)
    }

    fn put_catalog(&self, expected: CatalogExpectation, catalog: ProjectCatalog) -> StoreFuture<'_, u64> {
        match self.failure() {
            Some(err) => Box::pin(async move { Err(err) }),
            None => self.inner.put_catalog(expected, catalog),
        }
    }

    fn load_world(&self) -> StoreFuture<'_, Option<World>> {
        self.inner.load_world()
    }

    fn save_world(&self, world: &World) -> StoreFuture<'_, ()> {
        self.inner.save_world(world)
    }

    fn replace_all(&self, world: &World) -> StoreFuture<'_, ()> {
        match self.failure() {
            Some(err) => Box::pin(async move { Err(err) }),
            None => self.inner.replace_all(world),
        }
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        match self.failure() {
            Some(err) => Box::pin(async move { Err(err) }),
            None => self.inner.ping(),
        }
    }
}

async fn faulty_app() -> (App, Arc<FaultyStore>) {
    let world = Arc::new(World::demo());
    let store = Arc::new(FaultyStore { inner: MemoryStore::new(), mode: AtomicU8::new(HEALTHY) });
    seed_store(store.as_ref(), &world).await.expect("a memory store accepts the demo world");
    let config =
        AppConfig::default().with_rate_limits(RateLimits::OFF).with_clock(Arc::new(ManualClock::new(NOW)));
    (App::new(store.clone(), world, config), store)
}

async fn send(app: &App, method: Method, path: &str, body: Option<Value>) -> Answer {
    let response = app.handle(request(method, path, WRITER, body.map(|b| b.to_string().into_bytes()))).await;
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = serde_json::from_slice(response.body()).expect("every answer is JSON");
    Answer { status: response.status(), headers: response.headers().clone(), body }
}

#[tokio::test]
async fn a_writer_that_always_loses_the_race_gets_409_and_changes_nothing() {
    let (app, store) = faulty_app().await;
    store.mode.store(ALWAYS_BEATEN, Ordering::SeqCst);
    let rename = json!({"instructions": [{"kind": "updateName", "value": "Never"}]});
    let answer = send(&app, Method::PATCH, EXPERIMENT, Some(rename)).await;
    assert_error(&answer, StatusCode::CONFLICT, "optimistic_locking_error");
    // The store settles changes to one experiment itself; one that gives up
    // (as a networked database may on a serialization failure) is a 409
    // the client may retry.
    let message = answer.body["message"].as_str().unwrap_or("");
    assert!(message.starts_with("the experiment changed while this request ran"), "{message}");
    assert!(message.ends_with("; retry"), "{message}");
    let created = send(&app, Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    assert_error(&created, StatusCode::CONFLICT, "optimistic_locking_error");

    store.mode.store(HEALTHY, Ordering::SeqCst);
    let got = send(&app, Method::GET, &format!("{EXPERIMENT}?expand=draftIteration"), None).await;
    assert_eq!(got.body["name"], "Example experiment");
    assert_eq!(got.body.get("draftIteration"), None);
}

#[tokio::test]
async fn storage_that_is_down_answers_503_without_its_details() {
    let (app, store) = faulty_app().await;
    store.mode.store(DOWN, Ordering::SeqCst);
    let environment = "/api/v2/projects/my-project/environments/production/experiments";
    let post = json!({"name": "New", "key": "new", "iteration": valid_request()});
    for (method, path, body) in [
        (Method::GET, EXPERIMENT.to_owned(), None),
        (Method::GET, environment.to_owned(), None),
        (Method::POST, environment.to_owned(), Some(post)),
        (Method::POST, format!("{EXPERIMENT}/iterations"), Some(valid_request())),
        (
            Method::PATCH,
            EXPERIMENT.to_owned(),
            Some(json!({"instructions": [{"kind": "archiveExperiment"}]})),
        ),
    ] {
        let answer = send(&app, method.clone(), &path, body).await;
        assert_error(&answer, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
        assert_eq!(answer.body["message"], "the storage is unavailable; retry later", "{method} {path}");
        assert_eq!(answer.headers["retry-after"], "1", "{method} {path}");
    }
    // Validation needs no storage, so it still answers first.
    let answer = send(&app, Method::POST, &format!("{EXPERIMENT}/iterations"), Some(json!({}))).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
}

#[tokio::test]
async fn readiness_is_503_while_the_store_is_down_and_health_stays_200() {
    let (app, store) = faulty_app().await;
    let get = |path: &str| Request::builder().uri(path).body(Bytes::new()).expect("a valid test request");
    assert_eq!(app.handle(get("/readyz")).await.status(), StatusCode::OK);
    store.mode.store(DOWN, Ordering::SeqCst);
    let ready = app.handle(get("/readyz")).await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.headers()["retry-after"], "1");
    let body: Value = serde_json::from_slice(ready.body()).expect("JSON");
    assert_eq!(body["code"], "service_unavailable");
    assert_eq!(app.handle(get("/healthz")).await.status(), StatusCode::OK);
    let reset = app.handle(request(Method::POST, "/_iteration/reset", "api-demo-admin", None)).await;
    assert_eq!(reset.status(), StatusCode::SERVICE_UNAVAILABLE);
    store.mode.store(HEALTHY, Ordering::SeqCst);
    assert_eq!(app.handle(get("/readyz")).await.status(), StatusCode::OK);
}
