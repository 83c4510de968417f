//! What every [`Store`] must do, checked against each implementation, and
//! what only the SQLite store does (durability, group commit).

#[cfg(feature = "sqlite")]
use std::path::{Path, PathBuf};
use std::sync::Arc;
#[cfg(feature = "sqlite")]
use std::sync::atomic::{AtomicUsize, Ordering};

#[cfg(feature = "sqlite")]
use super::SqliteStore;
use super::{
    CatalogExpectation, CatalogRecord, Change, Decision, Edit, ExperimentRecord, MemoryStore, Page,
    PageQuery, Settled, Store, StoreError, Versioned, plain_json,
};
use crate::server::world::World;

/// A directory removed when dropped.
#[cfg(feature = "sqlite")]
struct TempDir(PathBuf);

#[cfg(feature = "sqlite")]
impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("iteration-store-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let path = std::env::temp_dir().join(name);
        // A leftover from an earlier run with the same process id must not leak in.
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

#[cfg(feature = "sqlite")]
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn record(project: &str, environment: &str, key: &str) -> ExperimentRecord {
    let experiment = serde_json::json!({
        "_id": format!("id-{key}"),
        "key": key,
        "name": format!("Experiment {key}"),
        "_maintainerId": "maintainer",
        "_creationDate": 1654104600000_i64,
        "environmentKey": environment,
        "_links": {},
        "tags": [],
    });
    ExperimentRecord {
        project_key: project.to_owned(),
        environment_key: environment.to_owned(),
        experiment: serde_json::from_value(experiment).expect("a valid experiment"),
    }
}

fn renamed(mut record: ExperimentRecord, name: &str) -> ExperimentRecord {
    record.experiment.name = name.to_owned();
    record
}

fn keys(records: &[Versioned<Arc<ExperimentRecord>>]) -> Vec<(&str, &str)> {
    records.iter().map(|r| (r.value.environment_key.as_str(), r.value.key())).collect()
}

/// Runs each property against a fresh store of each kind.
macro_rules! conformance {
    ($($property:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $property() {
                    super::$property(std::sync::Arc::new(super::MemoryStore::new())).await;
                }
            )*
        }
        #[cfg(feature = "sqlite")]
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $property() {
                    let dir = super::TempDir::new();
                    let store = super::SqliteStore::open(dir.path()).expect("the store opens");
                    super::$property(std::sync::Arc::new(store)).await;
                }
            )*
        }
        /// Every read misses the cache and goes to the database.
        #[cfg(feature = "sqlite")]
        mod sqlite_uncached {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $property() {
                    let dir = super::TempDir::new();
                    let store = super::SqliteStore::open_with_cache(dir.path(), 0).expect("the store opens");
                    super::$property(std::sync::Arc::new(store)).await;
                }
            )*
        }
    };
}

conformance!(
    replace_all_leaves_exactly_what_seeding_an_empty_store_leaves,
    replace_all_makes_writes_that_read_the_old_state_conflict,
    inserted_experiment_is_got_at_version_1,
    duplicate_key_is_key_exists_only_within_an_environment,
    list_is_in_creation_order_per_environment_and_per_project,
    compare_and_swap_increments_the_version,
    compare_and_swap_with_a_stale_version_is_a_conflict,
    compare_and_swap_of_a_missing_experiment_is_not_found,
    world_is_saved_and_loaded,
    exactly_one_of_concurrent_swaps_from_one_version_wins,
    concurrent_retry_loops_all_land,
    update_edits_and_increments_the_version,
    a_refused_change_writes_nothing,
    a_decision_on_a_stale_version_is_made_again_on_the_current_one,
    a_decision_on_a_replaced_catalog_is_made_again_on_the_current_one,
    update_of_a_missing_experiment_is_not_found,
    update_leaves_a_record_already_read_unchanged,
    update_replace_draft_changes_only_the_draft,
    concurrent_updates_all_land_in_order_without_retrying,
    a_page_selects_as_the_whole_list_would,
    a_plain_read_is_the_record_as_a_read_without_expand_answers_it,
    catalog_is_put_at_version_1_and_swapped_by_version,
    an_experiment_write_checked_against_a_replaced_catalog_fails,
    a_catalog_write_that_read_the_experiments_fails_after_an_experiment_write,
    a_flag_change_and_a_write_on_its_old_version_never_both_win,
);

/// The demo project's live catalog, as a new data directory starts with it.
fn demo_catalog() -> iteration_model::ProjectCatalog {
    World::demo().seed_catalogs().remove(0)
}

fn absent() -> CatalogExpectation {
    CatalogExpectation { version: 0, generation: None }
}

fn at(version: u64) -> CatalogExpectation {
    CatalogExpectation { version, generation: None }
}

async fn catalog_is_put_at_version_1_and_swapped_by_version(store: Arc<dyn Store>) {
    assert_eq!(store.catalog("my-project").await.unwrap(), None);
    assert_eq!(store.put_catalog(absent(), demo_catalog()).await.unwrap(), 1);
    let err = store.put_catalog(absent(), demo_catalog()).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { expected: 0, actual: 1 }), "{err:?}");

    let mut renamed = demo_catalog();
    renamed.flags.get_mut("example-flag-key").unwrap().name = "Renamed".to_owned();
    assert_eq!(store.put_catalog(at(1), renamed.clone()).await.unwrap(), 2);
    let err = store.put_catalog(at(1), demo_catalog()).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { expected: 1, actual: 2 }), "{err:?}");

    let got = store.catalog("my-project").await.unwrap().unwrap();
    assert_eq!((got.version, got.value.catalog()), (2, &renamed));
    // The views follow the stored catalog.
    let view = got.value.view("production").unwrap();
    assert_eq!(view.flags["example-flag-key"].name, "Renamed");
    assert_eq!(got.value.view("staging"), None);
}

async fn an_experiment_write_checked_against_a_replaced_catalog_fails(store: Arc<dyn Store>) {
    store.put_catalog(absent(), demo_catalog()).await.unwrap();
    store.insert(record("my-project", "production", "x"), Some(1)).await.unwrap();
    store.put_catalog(at(1), demo_catalog()).await.unwrap();

    let stale = [
        store.insert(record("my-project", "production", "y"), Some(1)).await.map(|_| ()),
        store
            .compare_and_swap(1, renamed(record("my-project", "production", "x"), "Stale"), Some(1))
            .await
            .map(|_| ()),
    ];
    for result in stale {
        assert!(matches!(result, Err(StoreError::Conflict { expected: 1, actual: 2 })), "{result:?}");
    }
    let got = store.get("my-project", "production", "x").await.unwrap().unwrap();
    assert_eq!((got.version, got.value.experiment.name.as_str()), (1, "Experiment x"));
    assert_eq!(store.get("my-project", "production", "y").await.unwrap(), None);
    // Against the current catalog, the same writes land.
    store
        .compare_and_swap(1, renamed(record("my-project", "production", "x"), "Fresh"), Some(2))
        .await
        .unwrap();
}

async fn a_catalog_write_that_read_the_experiments_fails_after_an_experiment_write(store: Arc<dyn Store>) {
    store.put_catalog(absent(), demo_catalog()).await.unwrap();
    let generation = store.generation("my-project").await.unwrap();
    store.insert(record("my-project", "production", "x"), None).await.unwrap();
    assert!(store.generation("my-project").await.unwrap() > generation);
    // Another project's writes do not count.
    let other = store.generation("other").await.unwrap();

    let expected = CatalogExpectation { version: 1, generation: Some(generation) };
    let err = store.put_catalog(expected, demo_catalog()).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    let now = store.generation("my-project").await.unwrap();
    store
        .compare_and_swap(1, renamed(record("my-project", "production", "x"), "Changed"), None)
        .await
        .unwrap();
    let err =
        store.put_catalog(CatalogExpectation { version: 1, generation: Some(now) }, demo_catalog()).await;
    assert!(matches!(err, Err(StoreError::Conflict { .. })), "{err:?}");

    let current = store.generation("my-project").await.unwrap();
    let expected = CatalogExpectation { version: 1, generation: Some(current) };
    assert_eq!(store.put_catalog(expected, demo_catalog()).await.unwrap(), 2);
    assert_eq!(store.generation("other").await.unwrap(), other);
}

/// The consistency rule at the store: a flag change that read the
/// project's experiments and an experiment write checked against the
/// flag's old version race, many times; in no round do both succeed, and in
/// every round one does. (A catalog change that did not read the
/// experiments may land after such a write: the write then came first.)
async fn a_flag_change_and_a_write_on_its_old_version_never_both_win(store: Arc<dyn Store>) {
    store.put_catalog(absent(), demo_catalog()).await.unwrap();
    store.insert(record("my-project", "production", "x"), None).await.unwrap();
    let mut winners = (0, 0);
    for round in 0..50 {
        let generation = store.generation("my-project").await.unwrap();
        let catalog = store.catalog("my-project").await.unwrap().unwrap();
        let experiment = store.get("my-project", "production", "x").await.unwrap().unwrap();
        let mut changed = catalog.value.catalog().clone();
        changed.flags.get_mut("example-flag-key").unwrap().name = format!("Round {round}");
        let flag_store = Arc::clone(&store);
        let expected = CatalogExpectation { version: catalog.version, generation: Some(generation) };
        let flag_change = tokio::spawn(async move { flag_store.put_catalog(expected, changed).await });
        let write_store = Arc::clone(&store);
        let write = tokio::spawn(async move {
            let record = renamed(Arc::unwrap_or_clone(experiment.value), &format!("Round {round}"));
            write_store.compare_and_swap(experiment.version, record, Some(catalog.version)).await
        });
        let (flag_change, write) = (flag_change.await.unwrap(), write.await.unwrap());
        assert!(!(flag_change.is_ok() && write.is_ok()), "round {round}: both won");
        assert!(flag_change.is_ok() || write.is_ok(), "round {round}: neither won");
        winners.0 += usize::from(flag_change.is_ok());
        winners.1 += usize::from(write.is_ok());
    }
    assert_eq!(winners.0 + winners.1, 50);
}

async fn inserted_experiment_is_got_at_version_1(store: Arc<dyn Store>) {
    let inserted = store.insert(record("p", "production", "x"), None).await.unwrap();
    assert_eq!(inserted, Versioned { version: 1, value: Arc::new(record("p", "production", "x")) });

    let got = store.get("p", "production", "x").await.unwrap();
    assert_eq!(got, Some(inserted));
    assert_eq!(store.get("p", "test", "x").await.unwrap(), None);
    assert_eq!(store.get("q", "production", "x").await.unwrap(), None);
    assert_eq!(store.get("p", "production", "y").await.unwrap(), None);
}

async fn duplicate_key_is_key_exists_only_within_an_environment(store: Arc<dyn Store>) {
    store.insert(record("p", "production", "x"), None).await.unwrap();

    let err = store.insert(renamed(record("p", "production", "x"), "Another"), None).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "an experiment with key `x` already exists in project `p`, environment `production`"
    );
    let StoreError::KeyExists { project, environment, key } = err else { panic!("not KeyExists: {err:?}") };
    assert_eq!((project.as_str(), environment.as_str(), key.as_str()), ("p", "production", "x"));
    // The first one is untouched.
    let got = store.get("p", "production", "x").await.unwrap().unwrap();
    assert_eq!(got.value.experiment.name, "Experiment x");

    assert_eq!(store.insert(record("p", "test", "x"), None).await.unwrap().version, 1);
    assert_eq!(store.insert(record("q", "production", "x"), None).await.unwrap().version, 1);
}

async fn list_is_in_creation_order_per_environment_and_per_project(store: Arc<dyn Store>) {
    for (project, environment, key) in
        [("p", "production", "b"), ("p", "test", "a"), ("q", "production", "c"), ("p", "production", "a")]
    {
        store.insert(record(project, environment, key), None).await.unwrap();
    }
    // A write does not move an experiment in the order.
    store.compare_and_swap(1, renamed(record("p", "production", "b"), "Changed"), None).await.unwrap();

    let production = store.list("p", Some("production")).await.unwrap();
    assert_eq!(keys(&production), [("production", "b"), ("production", "a")]);
    assert_eq!(production[0].version, 2);
    assert_eq!(production[0].value.experiment.name, "Changed");
    let all = store.list("p", None).await.unwrap();
    assert_eq!(keys(&all), [("production", "b"), ("test", "a"), ("production", "a")]);
    assert_eq!(keys(&store.list("q", None).await.unwrap()), [("production", "c")]);
    assert!(store.list("p", Some("staging")).await.unwrap().is_empty());
    assert!(store.list("unknown", None).await.unwrap().is_empty());
}

async fn compare_and_swap_increments_the_version(store: Arc<dyn Store>) {
    store.insert(record("p", "production", "x"), None).await.unwrap();

    assert_eq!(
        store.compare_and_swap(1, renamed(record("p", "production", "x"), "Second"), None).await.unwrap(),
        2
    );
    assert_eq!(
        store.compare_and_swap(2, renamed(record("p", "production", "x"), "Third"), None).await.unwrap(),
        3
    );

    let got = store.get("p", "production", "x").await.unwrap().unwrap();
    assert_eq!(
        got,
        Versioned { version: 3, value: Arc::new(renamed(record("p", "production", "x"), "Third")) }
    );
}

async fn compare_and_swap_with_a_stale_version_is_a_conflict(store: Arc<dyn Store>) {
    store.insert(record("p", "production", "x"), None).await.unwrap();
    store.compare_and_swap(1, renamed(record("p", "production", "x"), "Winner"), None).await.unwrap();

    let err =
        store.compare_and_swap(1, renamed(record("p", "production", "x"), "Loser"), None).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "the record changed since it was read: expected version 1, it is at version 2"
    );
    assert!(matches!(err, StoreError::Conflict { expected: 1, actual: 2 }), "{err:?}");
    let got = store.get("p", "production", "x").await.unwrap().unwrap();
    assert_eq!((got.version, got.value.experiment.name.as_str()), (2, "Winner"));
}

async fn compare_and_swap_of_a_missing_experiment_is_not_found(store: Arc<dyn Store>) {
    store.insert(record("p", "production", "x"), None).await.unwrap();

    for missing in [record("p", "production", "y"), record("p", "test", "x"), record("q", "production", "x")]
    {
        let err = store.compare_and_swap(1, missing, None).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
        assert_eq!(err.to_string(), "no such experiment");
    }
    assert_eq!(store.list("p", None).await.unwrap().len(), 1);
}

async fn world_is_saved_and_loaded(store: Arc<dyn Store>) {
    assert_eq!(store.load_world().await.unwrap(), None);

    store.save_world(&World::demo()).await.unwrap();
    assert_eq!(store.load_world().await.unwrap(), Some(World::demo()));

    let small = World::from_json(
        br#"{"formatVersion": 1, "projects": [{"key": "p", "name": "P", "environments": [{"key": "e", "name": "E"}]}]}"#,
    )
    .unwrap();
    store.save_world(&small).await.unwrap();
    assert_eq!(store.load_world().await.unwrap(), Some(small));
}

async fn exactly_one_of_concurrent_swaps_from_one_version_wins(store: Arc<dyn Store>) {
    store.insert(record("p", "production", "x"), None).await.unwrap();

    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .compare_and_swap(
                        1,
                        renamed(record("p", "production", "x"), &format!("writer {i}")),
                        None,
                    )
                    .await
            })
        })
        .collect();
    let mut winners = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap() {
            Ok(version) => winners.push((i, version)),
            Err(StoreError::Conflict { expected: 1, actual: 2 }) => {}
            Err(other) => panic!("writer {i}: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let (winner, version) = winners[0];
    assert_eq!(version, 2);
    let got = store.get("p", "production", "x").await.unwrap().unwrap();
    assert_eq!((got.version, got.value.experiment.name.as_str()), (2, format!("writer {winner}").as_str()));
}

/// Waits for the 64 writers, each of which tags `x` with `writer-{i}`, and
/// checks that every one of them landed exactly once.
async fn every_writer_landed(
    store: Arc<dyn Store>,
    tasks: Vec<tokio::task::JoinHandle<Result<(), StoreError>>>,
) {
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let got = store.get("p", "production", "x").await.unwrap().unwrap();
    assert_eq!(got.version, 65);
    let mut tags = Arc::unwrap_or_clone(got.value).experiment.tags.unwrap();
    tags.sort_by_key(|tag| tag["writer-".len()..].parse::<u32>().unwrap());
    assert_eq!(tags, (0..64).map(|i| format!("writer-{i}")).collect::<Vec<_>>());
}

async fn concurrent_retry_loops_all_land(store: Arc<dyn Store>) {
    store.insert(record("p", "production", "x"), None).await.unwrap();

    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                loop {
                    let Versioned { version, value } = store.get("p", "production", "x").await?.unwrap();
                    let mut value = Arc::unwrap_or_clone(value);
                    value.experiment.tags.get_or_insert_default().push(format!("writer-{i}"));
                    match store.compare_and_swap(version, value, None).await {
                        Ok(_) => return Ok::<(), StoreError>(()),
                        Err(StoreError::Conflict { .. }) => continue,
                        Err(other) => return Err(other),
                    }
                }
            })
        })
        .collect();
    every_writer_landed(store, tasks).await;
}

/// An edit that renames the experiment.
fn rename(name: &str) -> Edit {
    let name = name.to_owned();
    Edit::with(move |experiment| experiment.name = name)
}

/// A change that renames the experiment, whatever it finds, and answers
/// the name it found.
fn renaming(name: &str) -> Change {
    let name = name.to_owned();
    Change::new(move |experiment, _| Decision::Write {
        edit: rename(&name),
        answer: Box::new(experiment.name.clone()),
    })
}

/// What a written change answered.
fn answered<T: 'static>(settled: Settled) -> T {
    assert!(settled.written, "the change was refused");
    *settled.answer.downcast::<T>().expect("the answer's type")
}

async fn update_edits_and_increments_the_version(store: Arc<dyn Store>) {
    store.insert(record("p", "production", "x"), None).await.unwrap();
    store.insert(record("p", "production", "y"), None).await.unwrap();

    let first = store.update("p", "production", "x", renaming("Second")).await.unwrap();
    assert_eq!(first.version, 2);
    assert_eq!(answered::<String>(first), "Experiment x");
    let second = store.update("p", "production", "x", renaming("Third")).await.unwrap();
    assert_eq!(second.version, 3);
    assert_eq!(answered::<String>(second), "Second");

    let got = store.get("p", "production", "x").await.unwrap().unwrap();
    assert_eq!(
        got,
        Versioned { version: 3, value: Arc::new(renamed(record("p", "production", "x"), "Third")) }
    );
    // Only that experiment changed.
    let other = store.get("p", "production", "y").await.unwrap().unwrap();
    assert_eq!(other, Versioned { version: 1, value: Arc::new(record("p", "production", "y")) });
}

async fn a_refused_change_writes_nothing(store: Arc<dyn Store>) {
    store.insert(record("p", "production", "x"), None).await.unwrap();
    let generation = store.generation("p").await.unwrap();

    let refusing = Change::new(|experiment, _| Decision::Refuse(Box::new(experiment.key.clone())));
    let settled = store.update("p", "production", "x", refusing).await.unwrap();
    assert!(!settled.written);
    assert_eq!(settled.version, 1);
    assert_eq!(*settled.answer.downcast::<String>().unwrap(), "x");

    let got = store.get("p", "production", "x").await.unwrap().unwrap();
    assert_eq!(got, Versioned { version: 1, value: Arc::new(record("p", "production", "x")) });
    assert_eq!(store.generation("p").await.unwrap(), generation);
}

/// A decision made on version 1 after another write made it 2 is not
/// taken: the change decides again, on version 2, so the other write is
/// not lost.
async fn a_decision_on_a_stale_version_is_made_again_on_the_current_one(store: Arc<dyn Store>) {
    store.put_catalog(absent(), demo_catalog()).await.unwrap();
    store.insert(record("my-project", "production", "x"), None).await.unwrap();
    let stale = Decision::Write { edit: rename("Decided on version 1"), answer: Box::new(1_u64) };
    store.update("my-project", "production", "x", renaming("Winner")).await.unwrap();

    let appending = Change::new(|experiment, _| {
        let name = format!("{}, then the late change", experiment.name);
        Decision::Write { edit: rename(&name), answer: Box::new(2_u64) }
    })
    .decided_on(1, 1, stale);
    let settled = store.update("my-project", "production", "x", appending).await.unwrap();
    assert_eq!(settled.version, 3);
    assert_eq!(answered::<u64>(settled), 2, "the stale decision was taken");
    let got = store.get("my-project", "production", "x").await.unwrap().unwrap();
    assert_eq!(got.value.experiment.name, "Winner, then the late change");

    // A decision made on the current versions is taken as it is.
    let current = Decision::Write { edit: rename("As decided"), answer: Box::new(3_u64) };
    let never = Change::new(|_, _| unreachable!("decided already")).decided_on(3, 1, current);
    assert_eq!(answered::<u64>(store.update("my-project", "production", "x", never).await.unwrap()), 3);
}

/// The consistency rule through `update`: a change decided against a flag
/// that has since changed is decided again against the flag as it is.
async fn a_decision_on_a_replaced_catalog_is_made_again_on_the_current_one(store: Arc<dyn Store>) {
    store.put_catalog(absent(), demo_catalog()).await.unwrap();
    store.insert(record("my-project", "production", "x"), None).await.unwrap();
    let flag_name = |catalog: &CatalogRecord| catalog.catalog().flags["example-flag-key"].name.clone();
    let read = store.catalog("my-project").await.unwrap().unwrap();
    let decided = Decision::Write { edit: rename(&flag_name(&read.value)), answer: Box::new(()) };

    let mut changed = read.value.catalog().clone();
    changed.flags.get_mut("example-flag-key").unwrap().name = "Changed flag".to_owned();
    store.put_catalog(at(read.version), changed).await.unwrap();

    let change = Change::new(move |_, catalog| Decision::Write {
        edit: rename(&flag_name(catalog)),
        answer: Box::new(()),
    })
    .decided_on(1, read.version, decided);
    store.update("my-project", "production", "x", change).await.unwrap();
    let got = store.get("my-project", "production", "x").await.unwrap().unwrap();
    assert_eq!(got.value.experiment.name, "Changed flag");
}

async fn update_of_a_missing_experiment_is_not_found(store: Arc<dyn Store>) {
    store.insert(record("p", "production", "x"), None).await.unwrap();

    for (project, environment, key) in
        [("p", "production", "y"), ("p", "test", "x"), ("q", "production", "x")]
    {
        let err = store.update(project, environment, key, renaming("Nobody")).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
    }
    assert_eq!(store.list("p", None).await.unwrap().len(), 1);
}

async fn update_leaves_a_record_already_read_unchanged(store: Arc<dyn Store>) {
    store.insert(record("p", "production", "x"), None).await.unwrap();
    let before = store.get("p", "production", "x").await.unwrap().unwrap();

    store.update("p", "production", "x", renaming("After")).await.unwrap();

    // A reader never sees a record change under it.
    assert_eq!(before, Versioned { version: 1, value: Arc::new(record("p", "production", "x")) });
    let after = store.get("p", "production", "x").await.unwrap().unwrap();
    assert_eq!((after.version, after.value.experiment.name.as_str()), (2, "After"));
}

/// 64 changes to one experiment at once, none retried by its caller: each
/// lands exactly once, none is lost, and the versions count them.
async fn concurrent_updates_all_land_in_order_without_retrying(store: Arc<dyn Store>) {
    store.insert(record("p", "production", "x"), None).await.unwrap();

    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let change = Change::new(move |experiment, _| {
                    let tag = format!("writer-{i}");
                    let seen = experiment.tags.iter().flatten().count();
                    Decision::Write {
                        edit: Edit::with(move |e| e.tags.get_or_insert_default().push(tag)),
                        answer: Box::new(seen),
                    }
                });
                store.update("p", "production", "x", change).await
            })
        })
        .collect();
    let mut versions = Vec::new();
    for task in tasks {
        let settled = task.await.unwrap().unwrap();
        let version = settled.version;
        // Each change saw exactly the changes ordered before it.
        assert_eq!(answered::<usize>(settled) as u64, version - 2);
        versions.push(version);
    }
    versions.sort_unstable();
    assert_eq!(versions, (2..=65).collect::<Vec<u64>>());
    let got = store.get("p", "production", "x").await.unwrap().unwrap();
    assert_eq!(got.version, 65);
    let mut tags = got.value.experiment.tags.clone().unwrap();
    tags.sort();
    let mut expected: Vec<String> = (0..64).map(|i| format!("writer-{i}")).collect();
    expected.sort();
    assert_eq!(tags, expected);
}

/// The query for every experiment of the project, active and archived, in one page.
fn everything() -> PageQuery<'static> {
    PageQuery {
        environment: None,
        active: true,
        archived: true,
        holdouts: false,
        status: None,
        keep: None,
        offset: 0,
        limit: 50,
    }
}

async fn a_plain_read_is_the_record_as_a_read_without_expand_answers_it(store: Arc<dyn Store>) {
    let record = full_record();
    let key = record.key().to_owned();
    store.insert(record.clone(), None).await.unwrap();
    let plain = |record: &ExperimentRecord| {
        serde_json::to_vec(&iteration_model::Expand::NONE.apply(record.experiment.clone())).unwrap()
    };
    let got = store.get_plain("p", "production", &key).await.unwrap().unwrap();
    assert_eq!((got.version, got.value.to_vec()), (1, plain(&record)));

    store.update("p", "production", &key, renaming("Renamed")).await.unwrap();
    let got = store.get_plain("p", "production", &key).await.unwrap().unwrap();
    assert_eq!((got.version, got.value.to_vec()), (2, plain(&renamed(record.clone(), "Renamed"))));
    assert_eq!(store.get_plain("p", "production", "missing").await.unwrap(), None);

    // A new draft leaves the plain answer as it was (a store may keep it
    // unwritten); other edits queued with it change it. Decided already on
    // the current version, as the server sends it, and decided by the store.
    let draft = new_draft(&record);
    let catalog = store.catalog("p").await.unwrap().map_or(0, |c| c.version);
    let decided = replacing_draft(draft.clone()).decided_on(2, catalog, draft_decision(&draft));
    store.update("p", "production", &key, decided).await.unwrap();
    let (renamed_again, replaced) = tokio::join!(
        store.update("p", "production", &key, renaming("Renamed again")),
        store.update("p", "production", &key, replacing_draft(draft)),
    );
    renamed_again.unwrap();
    replaced.unwrap();
    let got = store.get("p", "production", &key).await.unwrap().unwrap();
    let got_plain = store.get_plain("p", "production", &key).await.unwrap().unwrap();
    assert_eq!(got.value.experiment.name, "Renamed again");
    assert_eq!((got_plain.version, got_plain.value.to_vec()), (5, plain(&got.value)));
}

#[test]
fn a_new_draft_leaves_the_plain_answer_as_it_was() {
    let record = full_record();
    let (edit, _) = Edit::replace_draft(new_draft(&record));
    assert!(!edit.changes_plain());
    let replaced = edit.applied(&record);
    assert_ne!(replaced, record);
    assert_eq!(super::plain_json(&replaced.experiment), super::plain_json(&record.experiment));
    assert!(Edit::with(|_| ()).changes_plain());
}

/// Every page of every query is the slice of the whole list the query
/// selects, also after writes that change what it selects by.
async fn a_page_selects_as_the_whole_list_would(store: Arc<dyn Store>) {
    for i in 0..12 {
        let environment = if i % 3 == 0 { "test" } else { "production" };
        store.insert(record("p", environment, &format!("x{i}")), None).await.unwrap();
    }
    store.insert(record("q", "production", "other"), None).await.unwrap();
    let archive = |key: &str| {
        let key = key.to_owned();
        let environment = if key == "x3" { "test" } else { "production" };
        (environment, key)
    };
    let check = |store: Arc<dyn Store>| async move {
        let keep_even =
            |e: &iteration_model::Experiment| e.key.trim_start_matches('x').parse::<u32>().unwrap() % 2 == 0;
        let all = store.list("p", None).await.unwrap();
        for environment in [None, Some("production"), Some("test")] {
            for (active, archived) in [(true, false), (false, true), (true, true)] {
                for keep in [None, Some(&keep_even as &(dyn Fn(&iteration_model::Experiment) -> bool + Sync))]
                {
                    for (offset, limit) in [(0, 50), (0, 3), (2, 4), (11, 5), (40, 5)] {
                        let query =
                            PageQuery { environment, active, archived, keep, offset, limit, ..everything() };
                        let page = store.page("p", query).await.unwrap();
                        assert_eq!(page, Page::of(all.clone(), &query), "{query:?}");
                        let plain = store.page_plain("p", query).await.unwrap();
                        let expected: Vec<_> =
                            page.items.iter().map(|r| plain_json(&r.value.experiment)).collect();
                        assert_eq!((plain.items, plain.total), (expected, page.total), "{query:?}");
                    }
                }
            }
        }
    };
    check(Arc::clone(&store)).await;
    for key in ["x1", "x3", "x8"] {
        let (environment, key) = archive(key);
        let change = Change::new(|_, _| Decision::Write {
            edit: Edit::with(|e| e.archived_date = Some(iteration_model::UnixMillis(1))),
            answer: Box::new(()),
        });
        store.update("p", environment, &key, change).await.unwrap();
    }
    store.insert(record("p", "production", "x12"), None).await.unwrap();
    check(Arc::clone(&store)).await;
    let archived_page = store.page("p", PageQuery { active: false, ..everything() }).await.unwrap();
    assert_eq!(keys(&archived_page.items), [("production", "x1"), ("test", "x3"), ("production", "x8")]);
}

/// The spec's example experiment, which has every field (iterations current,
/// draft and previous, analysis config), plus a field the spec does not name.
fn full_record() -> ExperimentRecord {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../../../fixtures/spec-Experiment-1.json"))
            .expect("the fixture is JSON");
    let mut experiment = fixture["example"]["value"].clone();
    experiment["unknownField"] = serde_json::json!({"kept": true});
    let experiment: iteration_model::Experiment =
        serde_json::from_value(experiment).expect("a valid experiment");
    assert!(experiment.current_iteration.is_some() && experiment.draft_iteration.is_some());
    assert!(experiment.previous_iterations.as_ref().is_some_and(|p| !p.is_empty()));
    ExperimentRecord { project_key: "p".to_owned(), environment_key: "production".to_owned(), experiment }
}

/// The decision to make `draft` the draft.
fn draft_decision(draft: &iteration_model::IterationRep) -> Decision {
    Decision::Write { edit: Edit::replace_draft(draft.clone()).0, answer: Box::new(()) }
}

/// A change that makes `draft` the draft, decided by the store.
fn replacing_draft(draft: iteration_model::IterationRep) -> Change {
    Change::new(move |_, _| draft_decision(&draft))
}

/// A draft unlike the fixture's.
fn new_draft(record: &ExperimentRecord) -> iteration_model::IterationRep {
    let mut draft = record.experiment.current_iteration.clone().expect("the fixture has one");
    draft.id = Some("new-draft".to_owned());
    draft.hypothesis = "A new hypothesis".to_owned();
    draft
}

#[test]
fn edit_applied_is_edit_in_place() {
    let record = full_record();
    let edits: [fn(&ExperimentRecord) -> Edit; 2] = [
        |r| Edit::replace_draft(new_draft(r)).0,
        |_| Edit::with(|e| e.tags.get_or_insert_default().push("edited".to_owned())),
    ];
    for edit in edits {
        let mut in_place = record.clone();
        edit(&record).apply_to(&mut in_place.experiment);
        assert_ne!(in_place, record);
        assert_eq!(edit(&record).applied(&record), in_place);
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn records_are_written_as_serde_writes_them() {
    for record in [full_record(), record("p", "production", "x")] {
        assert_eq!(super::sqlite::record_json(&record).unwrap(), serde_json::to_string(&record).unwrap());
    }
}

async fn update_replace_draft_changes_only_the_draft(store: Arc<dyn Store>) {
    let record = full_record();
    let key = record.key().to_owned();
    store.insert(record.clone(), None).await.unwrap();

    let draft = new_draft(&record);
    let replacing = replacing_draft(draft.clone());
    store.update("p", "production", &key, replacing).await.unwrap();

    let mut expected = record;
    expected.experiment.draft_iteration = Some(draft);
    let got = store.get("p", "production", &key).await.unwrap().unwrap();
    assert_eq!(got, Versioned { version: 2, value: Arc::new(expected) });
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_data_survives_reopening() {
    let dir = TempDir::new();
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        store.insert(record("p", "production", "x"), None).await.unwrap();
        store.insert(record("p", "test", "y"), None).await.unwrap();
        store.compare_and_swap(1, renamed(record("p", "production", "x"), "Changed"), None).await.unwrap();
        store.save_world(&World::demo()).await.unwrap();
    }
    assert!(dir.path().join("iteration.sqlite3").is_file());

    let store = SqliteStore::open(dir.path()).unwrap();
    let all = store.list("p", None).await.unwrap();
    assert_eq!(keys(&all), [("production", "x"), ("test", "y")]);
    assert_eq!(
        all[0],
        Versioned { version: 2, value: Arc::new(renamed(record("p", "production", "x"), "Changed")) }
    );
    assert_eq!(store.load_world().await.unwrap(), Some(World::demo()));
    // Creation order continues after the rows already there.
    store.insert(record("p", "production", "z"), None).await.unwrap();
    assert_eq!(
        keys(&store.list("p", Some("production")).await.unwrap()),
        [("production", "x"), ("production", "z")]
    );
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_applied_edits_survive_reopening() {
    let dir = TempDir::new();
    let record = full_record();
    let key = record.key().to_owned();
    let draft = new_draft(&record);
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        store.insert(record.clone(), None).await.unwrap();
        let replacing = replacing_draft(draft.clone());
        store.update("p", "production", &key, replacing).await.unwrap();
        store.update("p", "production", &key, renaming("Renamed")).await.unwrap();
    }

    let store = SqliteStore::open(dir.path()).unwrap();
    let mut expected = record;
    expected.experiment.draft_iteration = Some(draft);
    expected.experiment.name = "Renamed".to_owned();
    let got = store.get("p", "production", &key).await.unwrap().unwrap();
    assert_eq!(got, Versioned { version: 3, value: Arc::new(expected) });
}

#[cfg(feature = "sqlite")]
#[test]
fn a_record_written_around_its_drafts_json_reads_back_as_the_record() {
    let with_draft = full_record();
    let mut without = full_record();
    without.experiment.draft_iteration = None;
    let mut given = without.clone();
    given.experiment.draft_iteration = Some(new_draft(&with_draft));
    for mut record in [with_draft, given] {
        let draft_json = iteration_model::to_json_vec(record.experiment.draft_iteration.as_ref().unwrap());
        let json = super::sqlite::record_json_with_draft(&mut record, &draft_json).unwrap();
        // The record is as it was, and its JSON reads back as it.
        assert_eq!(serde_json::from_str::<ExperimentRecord>(&json).unwrap(), record);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&json).unwrap(),
            serde_json::to_value(&record).unwrap()
        );
    }
}

/// A create iteration as the server sends it: decided already on the
/// version the caller read, so that a caching store writes it out on the
/// caller's task, around the draft's JSON.
#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_draft_decided_on_the_cached_version_survives_reopening() {
    let dir = TempDir::new();
    let record = full_record();
    let key = record.key().to_owned();
    let draft = new_draft(&record);
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        let inserted = store.insert(record.clone(), None).await.unwrap();
        let catalog = store.catalog("p").await.unwrap().map_or(0, |c| c.version);
        // Deciding again would refuse: the decision made already is taken.
        let replacing = Change::new(|_, _| Decision::Refuse(Box::new(()))).decided_on(
            inserted.version,
            catalog,
            draft_decision(&draft),
        );
        let settled = store.update("p", "production", &key, replacing).await.unwrap();
        assert!(settled.written);
        assert_eq!(settled.version, 2);
    }

    let store = SqliteStore::open(dir.path()).unwrap();
    let mut expected = record;
    expected.experiment.draft_iteration = Some(draft);
    let got = store.get("p", "production", &key).await.unwrap().unwrap();
    assert_eq!(got, Versioned { version: 2, value: Arc::new(expected) });
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writes_queued_together_share_one_commit() {
    let dir = TempDir::new();
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.commits(), 0);

    let held = store.hold_writer();
    let writes: Vec<_> =
        (0..64).map(|i| store.insert(record("p", "production", &format!("x{i}")), None)).collect();
    drop(held);
    for write in writes {
        assert_eq!(write.await.unwrap().version, 1);
    }
    assert_eq!(store.commits(), 1);
    assert_eq!(store.writes(), 64);
    assert_eq!(store.list("p", None).await.unwrap().len(), 64);
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_failed_write_in_a_batch_fails_alone() {
    let dir = TempDir::new();
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        let held = store.hold_writer();
        let first = store.insert(record("p", "production", "a"), None);
        let duplicate = store.insert(renamed(record("p", "production", "a"), "Duplicate"), None);
        let missing = store.compare_and_swap(1, record("p", "production", "missing"), None);
        let stale = store.compare_and_swap(7, record("p", "production", "a"), None);
        let second = store.insert(record("p", "production", "b"), None);
        drop(held);

        assert_eq!(first.await.unwrap().version, 1);
        assert!(matches!(duplicate.await, Err(StoreError::KeyExists { .. })));
        assert!(matches!(missing.await, Err(StoreError::NotFound)));
        assert!(matches!(stale.await, Err(StoreError::Conflict { expected: 7, actual: 1 })));
        assert_eq!(second.await.unwrap().version, 1);
        assert_eq!(store.commits(), 1);
    }

    let store = SqliteStore::open(dir.path()).unwrap();
    let all = store.list("p", None).await.unwrap();
    assert_eq!(keys(&all), [("production", "a"), ("production", "b")]);
    assert_eq!(all[0], Versioned { version: 1, value: Arc::new(record("p", "production", "a")) });
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_refuses_a_newer_schema() {
    let dir = TempDir::new();
    drop(SqliteStore::open(dir.path()).unwrap());
    let connection = rusqlite::Connection::open(dir.path().join("iteration.sqlite3")).unwrap();
    connection.pragma_update(None, "user_version", 5).unwrap();
    drop(connection);

    let err = SqliteStore::open(dir.path()).unwrap_err();
    let StoreError::Unavailable(source) = err else { panic!("not Unavailable: {err:?}") };
    assert_eq!(
        source.to_string(),
        "the database has schema version 5, newer than this program's 4; use a newer version of the program"
    );
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_refuses_a_data_directory_open_elsewhere() {
    let dir = TempDir::new();
    let first = SqliteStore::open(dir.path()).unwrap();
    first.insert(record("p", "production", "x"), None).await.unwrap();

    // Another store would serve its own copy of the records and overwrite this one's writes.
    let err = SqliteStore::open(dir.path()).unwrap_err();
    let StoreError::Unavailable(source) = err else { panic!("not Unavailable: {err:?}") };
    assert!(source.to_string().ends_with("is in use by another server (database is locked)"), "{source}");

    drop(first);
    let reopened = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(reopened.get("p", "production", "x").await.unwrap().map(|r| r.version), Some(1));
}

/// Everything a store holds, comparable across stores.
async fn contents(store: &dyn Store, world: &World) -> Vec<String> {
    let mut contents = Vec::new();
    for project in world.projects() {
        let catalog = store.catalog(&project.key).await.expect("catalog");
        contents.push(serde_json::to_string(&catalog.map(|c| c.value.catalog().clone())).expect("JSON"));
        for record in store.list(&project.key, None).await.expect("list") {
            contents.push(serde_json::to_string(&*record.value).expect("JSON"));
        }
    }
    contents
        .push(store.load_world().await.expect("world").and_then(|w| w.to_json().ok()).unwrap_or_default());
    contents
}

async fn replace_all_leaves_exactly_what_seeding_an_empty_store_leaves(store: Arc<dyn Store>) {
    let world = World::demo();
    crate::server::seed_store(store.as_ref(), &world).await.expect("seeded");
    store.insert(record("my-project", "production", "extra"), None).await.expect("inserted");
    store.insert(record("elsewhere", "production", "stray"), None).await.expect("inserted");
    let catalog = store.catalog("my-project").await.expect("read").expect("seeded");
    let mut changed = catalog.value.catalog().clone();
    changed.metrics.clear();
    store.put_catalog(at(catalog.version), changed).await.expect("put");

    store.replace_all(&world).await.expect("replaced");
    let fresh = MemoryStore::new();
    crate::server::seed_store(&fresh, &world).await.expect("seeded");
    assert_eq!(contents(store.as_ref(), &world).await, contents(&fresh, &world).await);
    assert!(store.list("elsewhere", None).await.expect("list").is_empty());
}

async fn replace_all_makes_writes_that_read_the_old_state_conflict(store: Arc<dyn Store>) {
    let world = World::demo();
    crate::server::seed_store(store.as_ref(), &world).await.expect("seeded");
    let read =
        store.get("my-project", "production", "example-experiment").await.expect("get").expect("seeded");
    let catalog = store.catalog("my-project").await.expect("read").expect("seeded");
    store.replace_all(&world).await.expect("replaced");
    let stale = store.compare_and_swap(read.version, renamed((*read.value).clone(), "Stale"), None).await;
    assert!(matches!(stale, Err(StoreError::Conflict { .. })), "{stale:?}");
    let stale = store.put_catalog(at(catalog.version), catalog.value.catalog().clone()).await;
    assert!(matches!(stale, Err(StoreError::Conflict { .. })), "{stale:?}");
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_replace_all_survives_reopening() {
    let dir = TempDir::new();
    let world = World::demo();
    let before = {
        let store = SqliteStore::open(dir.path()).expect("opens");
        crate::server::seed_store(&store, &world).await.expect("seeded");
        store.insert(record("my-project", "production", "extra"), None).await.expect("inserted");
        store.replace_all(&world).await.expect("replaced");
        contents(&store, &world).await
    };
    let store = SqliteStore::open(dir.path()).expect("reopens");
    assert_eq!(contents(&store, &world).await, before);
    assert_eq!(store.get("my-project", "production", "extra").await.expect("get"), None);
}

/// The message of the error `SqliteStore::open` fails with in `dir`.
#[cfg(feature = "sqlite")]
fn open_error(dir: &TempDir) -> String {
    match SqliteStore::open(dir.path()) {
        Ok(_) => panic!("the store opened"),
        Err(StoreError::Unavailable(source)) => source.to_string(),
        Err(other) => panic!("not Unavailable: {other:?}"),
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_refuses_an_empty_database_file_instead_of_seeding_over_it() {
    let dir = TempDir::new();
    std::fs::create_dir_all(dir.path()).unwrap();
    let file = dir.path().join("iteration.sqlite3");
    std::fs::write(&file, b"").unwrap();
    let message = open_error(&dir);
    assert!(message.ends_with("iteration.sqlite3 is empty (0 bytes), so it holds no data of this program; remove it to start afresh, or restore the data it should hold"), "{message}");
    assert_eq!(std::fs::metadata(&file).unwrap().len(), 0, "the file is left as it was");
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_refuses_a_database_it_did_not_write() {
    let dir = TempDir::new();
    std::fs::create_dir_all(dir.path()).unwrap();
    let file = dir.path().join("iteration.sqlite3");
    let other = rusqlite::Connection::open(&file).unwrap();
    other.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY);").unwrap();
    drop(other);
    assert_eq!(
        open_error(&dir),
        "the database was not written by this program (it has tables (invoices) but no schema version); use another data directory"
    );

    let other = rusqlite::Connection::open(&file).unwrap();
    other.pragma_update(None, "application_id", 0x1234).unwrap();
    other.pragma_update(None, "user_version", 2).unwrap();
    drop(other);
    assert_eq!(
        open_error(&dir),
        "the database was not written by this program (its application id is 0x1234); use another data directory"
    );

    std::fs::write(&file, b"not a database, but long enough to have a header of sorts.........").unwrap();
    assert!(
        open_error(&dir)
            .ends_with("iteration.sqlite3 is not an SQLite database; it was not written by this program")
    );
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_marks_its_database_and_opens_it_again() {
    let dir = TempDir::new();
    drop(SqliteStore::open(dir.path()).expect("a new directory opens"));
    let file = dir.path().join("iteration.sqlite3");
    assert!(std::fs::metadata(&file).unwrap().len() > 0);
    let connection = rusqlite::Connection::open(&file).unwrap();
    let id: i64 = connection.query_row("PRAGMA application_id", [], |row| row.get(0)).unwrap();
    assert_eq!(id, 0x6954_6572);
    drop(connection);
    drop(SqliteStore::open(dir.path()).expect("its own database opens again"));
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_changes_to_one_experiment_queued_together_share_one_commit() {
    let dir = TempDir::new();
    let store = SqliteStore::open(dir.path()).unwrap();
    store.insert(record("p", "production", "x"), None).await.unwrap();
    let commits = store.commits();

    let held = store.hold_writer();
    // Every change decided on version 1: all but the first decide again.
    let changes: Vec<_> = (0..32_usize)
        .map(|i| {
            let decided = Decision::Write { edit: rename("stale"), answer: Box::new(usize::MAX) };
            let change = Change::new(move |experiment, _| {
                let name = format!("{} {i}", experiment.name);
                Decision::Write { edit: rename(&name), answer: Box::new(i) }
            })
            .decided_on(1, 0, decided);
            store.update("p", "production", "x", change)
        })
        .collect();
    drop(held);
    for (i, change) in changes.into_iter().enumerate() {
        let settled = change.await.unwrap();
        assert_eq!(settled.version, i as u64 + 2);
        let answer = answered::<usize>(settled);
        assert!(answer == i || (i == 0 && answer == usize::MAX), "change {i} answered {answer}");
    }
    assert_eq!(store.commits(), commits + 1);
    drop(store);

    let store = SqliteStore::open(dir.path()).unwrap();
    let got = store.get("p", "production", "x").await.unwrap().unwrap();
    assert_eq!(got.version, 33);
    let expected = (1..32).fold("stale".to_owned(), |name, i| format!("{name} {i}"));
    assert_eq!(got.value.experiment.name, expected);
}

/// The tables, columns and indexes of `path`'s database, each table's
/// columns in their order.
#[cfg(feature = "sqlite")]
fn schema_of(path: &std::path::Path) -> Vec<(String, Vec<String>)> {
    let connection = rusqlite::Connection::open(path.join("iteration.sqlite3")).unwrap();
    let mut names = connection
        .prepare("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap();
    let objects: Vec<(String, String)> =
        names.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().map(Result::unwrap).collect();
    objects
        .into_iter()
        .map(|(kind, name)| {
            let pragma = if kind == "table" { "table_info" } else { "index_info" };
            let mut columns = connection.prepare(&format!("SELECT name FROM pragma_{pragma}(?1)")).unwrap();
            let columns = columns.query_map([&name], |row| row.get(0)).unwrap().map(Result::unwrap).collect();
            (format!("{kind} {name}"), columns)
        })
        .collect()
}

/// A new database has the tables, columns and indexes an old one moved up
/// to the current version has, with `record` last in a row (so that
/// reading the version or the summary does not read the record's overflow
/// pages).
#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_new_database_has_the_schema_an_old_one_moves_up_to() {
    let (new, old) = (TempDir::new(), TempDir::new());
    drop(SqliteStore::open(new.path()).unwrap());
    std::fs::create_dir_all(old.path()).unwrap();
    rusqlite::Connection::open(old.path().join("iteration.sqlite3"))
        .unwrap()
        .execute_batch(
            "CREATE TABLE experiments (
                created_order INTEGER PRIMARY KEY, project TEXT NOT NULL, environment TEXT NOT NULL,
                key TEXT NOT NULL, version INTEGER NOT NULL CHECK (version >= 1), record TEXT NOT NULL,
                UNIQUE (project, environment, key));
             CREATE TABLE world (id INTEGER PRIMARY KEY CHECK (id = 1), document TEXT NOT NULL);
             PRAGMA user_version = 1;
             PRAGMA application_id = 1767138674;",
        )
        .unwrap();
    drop(SqliteStore::open(old.path()).unwrap());

    let sorted = |mut schema: Vec<(String, Vec<String>)>| {
        schema.iter_mut().for_each(|(_, columns)| columns.sort());
        schema
    };
    let new_schema = schema_of(new.path());
    assert_eq!(sorted(new_schema.clone()), sorted(schema_of(old.path())));
    let experiments = &new_schema.iter().find(|(name, _)| name == "table experiments").unwrap().1;
    assert_eq!(experiments.last().map(String::as_str), Some("record"), "{experiments:?}");
}

/// A data directory holding the database `schema` (SQL) creates, as an
/// earlier version of this program left it, and a connection to add rows.
#[cfg(feature = "sqlite")]
fn old_database(dir: &TempDir, schema: &str) -> rusqlite::Connection {
    std::fs::create_dir_all(dir.path()).unwrap();
    let connection = rusqlite::Connection::open(dir.path().join("iteration.sqlite3")).unwrap();
    connection.execute_batch(schema).unwrap();
    connection
}

/// A database of schema version 3 (the plain answer in a column of the
/// experiment's row) moves to version 4 on opening: each answer moves to
/// `plain_answers`, reads answer it as before, and a write changes it there.
#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_moves_a_version_3_database_to_version_4() {
    let dir = TempDir::new();
    let connection = old_database(
        &dir,
        "CREATE TABLE experiments (
                created_order INTEGER PRIMARY KEY, project TEXT NOT NULL, environment TEXT NOT NULL,
                key TEXT NOT NULL, version INTEGER NOT NULL CHECK (version >= 1),
                archived INTEGER NOT NULL DEFAULT 0, holdout INTEGER NOT NULL DEFAULT 0,
                status INTEGER NOT NULL DEFAULT 0, plain TEXT NOT NULL DEFAULT '', record TEXT NOT NULL,
                UNIQUE (project, environment, key));
             CREATE INDEX experiments_listing
                ON experiments (project, created_order, environment, archived, holdout, status);
             CREATE TABLE world (id INTEGER PRIMARY KEY CHECK (id = 1), document TEXT NOT NULL);
             CREATE TABLE catalogs (project TEXT PRIMARY KEY, version INTEGER NOT NULL, document TEXT NOT NULL);
             CREATE TABLE generations (project TEXT PRIMARY KEY, generation INTEGER NOT NULL);
             PRAGMA user_version = 3;
             PRAGMA application_id = 1767138674;",
    );
    let stored = record("p", "production", "x");
    let plain = String::from_utf8(plain_json(&stored.experiment).to_vec()).unwrap();
    connection
        .execute(
            "INSERT INTO experiments (project, environment, key, version, plain, record) \
             VALUES ('p', 'production', 'x', 2, ?1, ?2)",
            rusqlite::params![plain, serde_json::to_string(&stored).unwrap()],
        )
        .unwrap();
    drop(connection);

    let store = SqliteStore::open(dir.path()).unwrap();
    let got = store.get_plain("p", "production", "x").await.unwrap().unwrap();
    assert_eq!((got.version, &got.value[..]), (2, plain.as_bytes()));
    let page = store.page_plain("p", everything()).await.unwrap();
    assert_eq!(page.items, [bytes::Bytes::from(plain.clone())]);
    store.compare_and_swap(2, renamed(stored.clone(), "moved"), None).await.unwrap();
    drop(store);

    let store = SqliteStore::open(dir.path()).unwrap();
    let got = store.get_plain("p", "production", "x").await.unwrap().unwrap();
    assert_eq!(got.version, 3);
    assert_eq!(got.value, plain_json(&renamed(stored, "moved").experiment));
    let columns = &schema_of(dir.path()).into_iter().find(|(name, _)| name == "table experiments").unwrap().1;
    assert!(!columns.iter().any(|c| c == "plain"), "{columns:?}");
}

/// A database of schema version 2 (before summaries) moves to version 3 on
/// opening: its records get their summaries, so a list selects them.
#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_moves_a_version_2_database_to_version_3() {
    let dir = TempDir::new();
    let connection = old_database(
        &dir,
        "CREATE TABLE experiments (
                created_order INTEGER PRIMARY KEY, project TEXT NOT NULL, environment TEXT NOT NULL,
                key TEXT NOT NULL, version INTEGER NOT NULL CHECK (version >= 1), record TEXT NOT NULL,
                UNIQUE (project, environment, key));
             CREATE TABLE world (id INTEGER PRIMARY KEY CHECK (id = 1), document TEXT NOT NULL);
             CREATE TABLE catalogs (project TEXT PRIMARY KEY, version INTEGER NOT NULL, document TEXT NOT NULL);
             PRAGMA user_version = 2;
             PRAGMA application_id = 1767138674;",
    );
    let mut archived = record("p", "production", "archived");
    archived.experiment.archived_date = Some(iteration_model::UnixMillis(1));
    for record in [record("p", "production", "active"), archived] {
        connection
            .execute(
                "INSERT INTO experiments (project, environment, key, version, record) VALUES (?1, ?2, ?3, 1, ?4)",
                rusqlite::params![
                    record.project_key,
                    record.environment_key,
                    record.key(),
                    serde_json::to_string(&record).unwrap()
                ],
            )
            .unwrap();
    }
    drop(connection);

    let store = SqliteStore::open(dir.path()).unwrap();
    let page = store.page("p", PageQuery { active: false, ..everything() }).await.unwrap();
    assert_eq!((keys(&page.items), page.total), (vec![("production", "archived")], 1));
}
