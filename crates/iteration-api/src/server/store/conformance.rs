//! What every [`Store`] must do, checked against each implementation, and
//! what only the SQLite store does (durability, group commit).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{
    CatalogExpectation, Edit, ExperimentRecord, MemoryStore, SqliteStore, Store, StoreError, Versioned,
};
use crate::server::world::World;

/// A directory removed when dropped.
struct TempDir(PathBuf);

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
    };
}

conformance!(
    inserted_experiment_is_got_at_version_1,
    duplicate_key_is_key_exists_only_within_an_environment,
    list_is_in_creation_order_per_environment_and_per_project,
    compare_and_swap_increments_the_version,
    compare_and_swap_with_a_stale_version_is_a_conflict,
    compare_and_swap_of_a_missing_experiment_is_not_found,
    world_is_saved_and_loaded,
    exactly_one_of_concurrent_swaps_from_one_version_wins,
    concurrent_retry_loops_all_land,
    apply_edits_and_increments_the_version,
    apply_with_a_stale_version_is_a_conflict_and_does_not_edit,
    apply_to_a_missing_experiment_is_not_found,
    apply_leaves_a_record_already_read_unchanged,
    apply_replace_draft_changes_only_the_draft,
    concurrent_apply_loops_all_land,
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
        store
            .apply("my-project", "production", "x", 1, Edit::with(|e| e.name = "Stale".to_owned()), Some(1))
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
        .apply("my-project", "production", "x", 1, Edit::with(|e| e.name = "Fresh".to_owned()), Some(2))
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
            let edit = Edit::with(move |e| e.name = format!("Round {round}"));
            write_store
                .apply("my-project", "production", "x", experiment.version, edit, Some(catalog.version))
                .await
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

async fn apply_edits_and_increments_the_version(store: Arc<dyn Store>) {
    store.insert(record("p", "production", "x"), None).await.unwrap();
    store.insert(record("p", "production", "y"), None).await.unwrap();

    assert_eq!(store.apply("p", "production", "x", 1, rename("Second"), None).await.unwrap(), 2);
    assert_eq!(store.apply("p", "production", "x", 2, rename("Third"), None).await.unwrap(), 3);

    let got = store.get("p", "production", "x").await.unwrap().unwrap();
    assert_eq!(
        got,
        Versioned { version: 3, value: Arc::new(renamed(record("p", "production", "x"), "Third")) }
    );
    // Only that experiment changed.
    let other = store.get("p", "production", "y").await.unwrap().unwrap();
    assert_eq!(other, Versioned { version: 1, value: Arc::new(record("p", "production", "y")) });
}

async fn apply_with_a_stale_version_is_a_conflict_and_does_not_edit(store: Arc<dyn Store>) {
    store.insert(record("p", "production", "x"), None).await.unwrap();
    store.apply("p", "production", "x", 1, rename("Winner"), None).await.unwrap();

    let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let edit: Edit = {
        let ran = Arc::clone(&ran);
        Edit::with(move |experiment| {
            ran.store(true, std::sync::atomic::Ordering::SeqCst);
            experiment.name = "Loser".to_owned();
        })
    };
    let err = store.apply("p", "production", "x", 1, edit, None).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { expected: 1, actual: 2 }), "{err:?}");
    assert!(!ran.load(std::sync::atomic::Ordering::SeqCst), "a refused edit must not run");
    let got = store.get("p", "production", "x").await.unwrap().unwrap();
    assert_eq!((got.version, got.value.experiment.name.as_str()), (2, "Winner"));
}

async fn apply_to_a_missing_experiment_is_not_found(store: Arc<dyn Store>) {
    store.insert(record("p", "production", "x"), None).await.unwrap();

    for (project, environment, key) in
        [("p", "production", "y"), ("p", "test", "x"), ("q", "production", "x")]
    {
        let err = store.apply(project, environment, key, 1, rename("Nobody"), None).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
    }
    assert_eq!(store.list("p", None).await.unwrap().len(), 1);
}

async fn apply_leaves_a_record_already_read_unchanged(store: Arc<dyn Store>) {
    store.insert(record("p", "production", "x"), None).await.unwrap();
    let before = store.get("p", "production", "x").await.unwrap().unwrap();

    store.apply("p", "production", "x", 1, rename("After"), None).await.unwrap();

    // A reader never sees a record change under it.
    assert_eq!(before, Versioned { version: 1, value: Arc::new(record("p", "production", "x")) });
    let after = store.get("p", "production", "x").await.unwrap().unwrap();
    assert_eq!((after.version, after.value.experiment.name.as_str()), (2, "After"));
}

/// The spec's example experiment, which has every field (iterations current,
/// draft and previous, analysis config), plus a field the spec does not name.
fn full_record() -> ExperimentRecord {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../../../../iteration-model/fixtures/spec/Experiment/1.json"))
            .expect("the fixture is JSON");
    let mut experiment = fixture["example"]["value"].clone();
    experiment["unknownField"] = serde_json::json!({"kept": true});
    let experiment: iteration_model::Experiment =
        serde_json::from_value(experiment).expect("a valid experiment");
    assert!(experiment.current_iteration.is_some() && experiment.draft_iteration.is_some());
    assert!(experiment.previous_iterations.as_ref().is_some_and(|p| !p.is_empty()));
    ExperimentRecord { project_key: "p".to_owned(), environment_key: "production".to_owned(), experiment }
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

#[test]
fn records_are_written_as_serde_writes_them() {
    for record in [full_record(), record("p", "production", "x")] {
        assert_eq!(super::sqlite::record_json(&record).unwrap(), serde_json::to_string(&record).unwrap());
    }
}

#[test]
fn sqlite_writes_a_new_draft_into_the_record_json_as_serde_would() {
    let mut record = full_record();
    let (edit, draft_json) = Edit::replace_draft(new_draft(&record));
    let Edit::ReplaceDraft(replacement) = edit else { unreachable!() };
    let (draft, _) = replacement.into_parts();
    record.experiment.draft_iteration = None;
    let spliced = super::sqlite::record_json_with_draft(&record, &draft_json).unwrap();
    record.experiment.draft_iteration = Some(draft);

    let read: ExperimentRecord = serde_json::from_str(&spliced).unwrap();
    assert_eq!(read, record);
    let as_serde: serde_json::Value =
        serde_json::from_str(&super::sqlite::record_json(&record).unwrap()).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&spliced).unwrap(), as_serde);
}

async fn apply_replace_draft_changes_only_the_draft(store: Arc<dyn Store>) {
    let record = full_record();
    let key = record.key().to_owned();
    store.insert(record.clone(), None).await.unwrap();

    let draft = new_draft(&record);
    store.apply("p", "production", &key, 1, Edit::replace_draft(draft.clone()).0, None).await.unwrap();

    let mut expected = record;
    expected.experiment.draft_iteration = Some(draft);
    let got = store.get("p", "production", &key).await.unwrap().unwrap();
    assert_eq!(got, Versioned { version: 2, value: Arc::new(expected) });
}

async fn concurrent_apply_loops_all_land(store: Arc<dyn Store>) {
    store.insert(record("p", "production", "x"), None).await.unwrap();

    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                loop {
                    let version = store.get("p", "production", "x").await?.unwrap().version;
                    let tag = format!("writer-{i}");
                    let edit = Edit::with(move |e| e.tags.get_or_insert_default().push(tag));
                    match store.apply("p", "production", "x", version, edit, None).await {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_applied_edits_survive_reopening() {
    let dir = TempDir::new();
    let record = full_record();
    let key = record.key().to_owned();
    let draft = new_draft(&record);
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        store.insert(record.clone(), None).await.unwrap();
        store.apply("p", "production", &key, 1, Edit::replace_draft(draft.clone()).0, None).await.unwrap();
        store.apply("p", "production", &key, 2, rename("Renamed"), None).await.unwrap();
    }

    let store = SqliteStore::open(dir.path()).unwrap();
    let mut expected = record;
    expected.experiment.draft_iteration = Some(draft);
    expected.experiment.name = "Renamed".to_owned();
    let got = store.get("p", "production", &key).await.unwrap().unwrap();
    assert_eq!(got, Versioned { version: 3, value: Arc::new(expected) });
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_refuses_a_newer_schema() {
    let dir = TempDir::new();
    drop(SqliteStore::open(dir.path()).unwrap());
    let connection = rusqlite::Connection::open(dir.path().join("iteration.sqlite3")).unwrap();
    connection.pragma_update(None, "user_version", 3).unwrap();
    drop(connection);

    let err = SqliteStore::open(dir.path()).unwrap_err();
    let StoreError::Unavailable(source) = err else { panic!("not Unavailable: {err:?}") };
    assert_eq!(
        source.to_string(),
        "the database has schema version 3, newer than this program's 2; use a newer version of the program"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_refuses_a_data_directory_open_elsewhere() {
    let dir = TempDir::new();
    let first = SqliteStore::open(dir.path()).unwrap();
    first.insert(record("p", "production", "x"), None).await.unwrap();

    // Another store would serve its own copy of the records and overwrite this one's writes.
    let err = SqliteStore::open(dir.path()).unwrap_err();
    let StoreError::Unavailable(source) = err else { panic!("not Unavailable: {err:?}") };
    assert_eq!(source.to_string(), "database is locked");

    drop(first);
    let reopened = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(reopened.get("p", "production", "x").await.unwrap().map(|r| r.version), Some(1));
}
