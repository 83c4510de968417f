//! A store in memory, for tests and throwaway servers.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use iteration_model::ProjectCatalog;

use super::records::{Catalogs, Records, check_catalog_guard, check_catalog_put, record_key};
use super::{
    CatalogExpectation, CatalogRecord, Change, ExperimentRecord, Settled, Store, StoreError, StoreFuture,
    Versioned,
};
use crate::server::world::World;

/// Keeps experiments in memory; everything is lost when it is dropped.
///
/// Every operation completes under one lock, so it is atomic, and it never
/// fails with [`StoreError::Unavailable`].
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    records: Records,
    catalogs: Catalogs,
    world: Option<World>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Each operation leaves the state consistent before anything that
        // could panic runs, so a poisoned lock still guards valid data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn ready<'a, T: Send + 'a>(result: Result<T, StoreError>) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(result))
}

impl Store for MemoryStore {
    fn get(
        &self,
        project: &str,
        environment: &str,
        key: &str,
    ) -> StoreFuture<'_, Option<Versioned<Arc<ExperimentRecord>>>> {
        ready(Ok(self.state().records.get(project, environment, key)))
    }

    fn list(
        &self,
        project: &str,
        environment: Option<&str>,
    ) -> StoreFuture<'_, Vec<Versioned<Arc<ExperimentRecord>>>> {
        ready(Ok(self.state().records.list(project, environment)))
    }

    fn insert(
        &self,
        record: ExperimentRecord,
        catalog: Option<u64>,
    ) -> StoreFuture<'_, Versioned<Arc<ExperimentRecord>>> {
        let mut state = self.state();
        let checked = state
            .records
            .check_insert(&record_key(&record))
            .and_then(|()| check_catalog_guard(state.catalogs.version(&record.project_key), catalog));
        if let Err(err) = checked {
            return ready(Err(err));
        }
        state.catalogs.bump(&record.project_key);
        let record = Arc::new(record);
        state.records.put(1, Arc::clone(&record));
        ready(Ok(Versioned { version: 1, value: record }))
    }

    fn compare_and_swap(
        &self,
        expected: u64,
        record: ExperimentRecord,
        catalog: Option<u64>,
    ) -> StoreFuture<'_, u64> {
        let mut state = self.state();
        let next = check_catalog_guard(state.catalogs.version(&record.project_key), catalog)
            .and_then(|()| state.records.check_swap(&record_key(&record), expected));
        let replaced = match next {
            Ok(next) => {
                state.catalogs.bump(&record.project_key);
                state.records.put(next, Arc::new(record))
            }
            Err(_) => None,
        };
        drop(state);
        drop(replaced);
        ready(next)
    }

    /// Decides and applies under the store's lock, so nothing else writes
    /// between the decision and the write.
    fn update<'a>(
        &'a self,
        project: &'a str,
        environment: &'a str,
        key: &'a str,
        mut change: Change,
    ) -> StoreFuture<'a, Settled> {
        let key = (project.to_owned(), environment.to_owned(), key.to_owned());
        let mut state = self.state();
        let State { records, catalogs, .. } = &mut *state;
        // Borrowed, not cloned: the change reads the catalog only when the
        // decision it carries is stale, and a clone would bounce the
        // catalog's shared reference count between the cores on every write.
        let empty;
        let (catalog_version, catalog) = match catalogs.current(project) {
            Some(catalog) => (catalog.version, &*catalog.value),
            None => {
                empty = CatalogRecord::empty(project);
                (0, &empty)
            }
        };
        let updated = records
            .update(&key, |version, experiment| change.decide(version, experiment, catalog_version, catalog));
        if updated.as_ref().is_ok_and(|(settled, _)| settled.written) {
            catalogs.bump(project);
        }
        drop(state);
        // The replaced draft is freed after the lock is let go, so that
        // writers to other experiments do not wait on it.
        ready(updated.map(|(settled, _replaced)| settled))
    }

    fn catalog(&self, project: &str) -> StoreFuture<'_, Option<Versioned<Arc<CatalogRecord>>>> {
        ready(Ok(self.state().catalogs.get(project)))
    }

    fn generation(&self, project: &str) -> StoreFuture<'_, u64> {
        ready(Ok(self.state().catalogs.generation(project)))
    }

    fn put_catalog(&self, expected: CatalogExpectation, catalog: ProjectCatalog) -> StoreFuture<'_, u64> {
        // Derive the views before taking the lock.
        let record = Arc::new(CatalogRecord::new(catalog));
        let mut state = self.state();
        let project = record.project();
        let next =
            check_catalog_put(state.catalogs.version(project), state.catalogs.generation(project), expected);
        let replaced = match next {
            Ok(next) => state.catalogs.put(next, record),
            Err(_) => None,
        };
        drop(state);
        drop(replaced);
        ready(next)
    }

    fn load_world(&self) -> StoreFuture<'_, Option<World>> {
        ready(Ok(self.state().world.clone()))
    }

    fn save_world(&self, world: &World) -> StoreFuture<'_, ()> {
        self.state().world = Some(world.clone());
        ready(Ok(()))
    }

    fn replace_all(&self, world: &World) -> StoreFuture<'_, ()> {
        let catalogs: Vec<CatalogRecord> =
            world.seed_catalogs().into_iter().map(CatalogRecord::new).collect();
        let experiments = world.seed_experiments();
        let world = world.clone();
        let mut state = self.state();
        let records = state.records.replacement(experiments);
        let catalogs = state.catalogs.replacement(catalogs);
        let old = std::mem::replace(&mut *state, State { records, catalogs, world: Some(world) });
        drop(state);
        // Dropped after unlocking: a large state takes a while to free.
        drop(old);
        ready(Ok(()))
    }
}
