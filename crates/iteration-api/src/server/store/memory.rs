//! A store in memory, for tests and throwaway servers.

use std::sync::{Mutex, MutexGuard, PoisonError};

use super::records::{Records, record_key};
use super::{ExperimentRecord, Store, StoreError, StoreFuture, Versioned};
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
    ) -> StoreFuture<'_, Option<Versioned<ExperimentRecord>>> {
        ready(Ok(self.state().records.get(project, environment, key)))
    }

    fn list(
        &self,
        project: &str,
        environment: Option<&str>,
    ) -> StoreFuture<'_, Vec<Versioned<ExperimentRecord>>> {
        ready(Ok(self.state().records.list(project, environment)))
    }

    fn insert(&self, record: ExperimentRecord) -> StoreFuture<'_, Versioned<ExperimentRecord>> {
        let mut state = self.state();
        if let Err(err) = state.records.check_insert(&record_key(&record)) {
            return ready(Err(err));
        }
        state.records.put(1, record.clone());
        ready(Ok(Versioned { version: 1, value: record }))
    }

    fn compare_and_swap(&self, expected: u64, record: ExperimentRecord) -> StoreFuture<'_, u64> {
        let mut state = self.state();
        let next = state.records.check_swap(&record_key(&record), expected);
        if let Ok(next) = next {
            state.records.put(next, record);
        }
        ready(next)
    }

    fn load_world(&self) -> StoreFuture<'_, Option<World>> {
        ready(Ok(self.state().world.clone()))
    }

    fn save_world(&self, world: &World) -> StoreFuture<'_, ()> {
        self.state().world = Some(world.clone());
        ready(Ok(()))
    }
}
