//! A store in memory, for tests and throwaway servers.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::records::{Records, record_key};
use super::{Edit, ExperimentRecord, Store, StoreError, StoreFuture, Versioned};
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

    fn insert(&self, record: ExperimentRecord) -> StoreFuture<'_, Versioned<Arc<ExperimentRecord>>> {
        let mut state = self.state();
        if let Err(err) = state.records.check_insert(&record_key(&record)) {
            return ready(Err(err));
        }
        let record = Arc::new(record);
        state.records.put(1, Arc::clone(&record));
        ready(Ok(Versioned { version: 1, value: record }))
    }

    fn compare_and_swap(&self, expected: u64, record: ExperimentRecord) -> StoreFuture<'_, u64> {
        let mut state = self.state();
        let next = state.records.check_swap(&record_key(&record), expected);
        let replaced = match next {
            Ok(next) => state.records.put(next, Arc::new(record)),
            Err(_) => None,
        };
        drop(state);
        drop(replaced);
        ready(next)
    }

    fn apply<'a>(
        &'a self,
        project: &'a str,
        environment: &'a str,
        key: &'a str,
        expected: u64,
        edit: Edit,
    ) -> StoreFuture<'a, u64> {
        let key = (project.to_owned(), environment.to_owned(), key.to_owned());
        ready(self.state().records.apply(&key, expected, edit))
    }

    fn load_world(&self) -> StoreFuture<'_, Option<World>> {
        ready(Ok(self.state().world.clone()))
    }

    fn save_world(&self, world: &World) -> StoreFuture<'_, ()> {
        self.state().world = Some(world.clone());
        ready(Ok(()))
    }
}
