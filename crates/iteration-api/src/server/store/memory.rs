//! A store in memory, for tests and throwaway servers.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

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
    /// In creation order, which is the order `list` answers in.
    records: Vec<Versioned<ExperimentRecord>>,
    /// (project, environment, key) to the position in `records`.
    index: HashMap<(String, String, String), usize>,
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

fn index_key(project: &str, environment: &str, key: &str) -> (String, String, String) {
    (project.to_owned(), environment.to_owned(), key.to_owned())
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
        let state = self.state();
        let found =
            state.index.get(&index_key(project, environment, key)).map(|&at| state.records[at].clone());
        ready(Ok(found))
    }

    fn list(
        &self,
        project: &str,
        environment: Option<&str>,
    ) -> StoreFuture<'_, Vec<Versioned<ExperimentRecord>>> {
        let state = self.state();
        let found = state
            .records
            .iter()
            .filter(|r| r.value.project_key == project)
            .filter(|r| environment.is_none_or(|e| r.value.environment_key == e))
            .cloned()
            .collect();
        ready(Ok(found))
    }

    fn insert(&self, record: ExperimentRecord) -> StoreFuture<'_, Versioned<ExperimentRecord>> {
        let mut state = self.state();
        let key = index_key(&record.project_key, &record.environment_key, record.key());
        if state.index.contains_key(&key) {
            let (project, environment, key) = key;
            return ready(Err(StoreError::KeyExists { project, environment, key }));
        }
        let stored = Versioned { version: 1, value: record };
        let at = state.records.len();
        state.records.push(stored.clone());
        state.index.insert(key, at);
        ready(Ok(stored))
    }

    fn compare_and_swap(&self, expected: u64, record: ExperimentRecord) -> StoreFuture<'_, u64> {
        let mut state = self.state();
        let key = index_key(&record.project_key, &record.environment_key, record.key());
        let Some(&at) = state.index.get(&key) else {
            return ready(Err(StoreError::NotFound));
        };
        let current = &mut state.records[at];
        if current.version != expected {
            return ready(Err(StoreError::Conflict { expected, actual: current.version }));
        }
        current.version = expected + 1;
        current.value = record;
        ready(Ok(current.version))
    }

    fn load_world(&self) -> StoreFuture<'_, Option<World>> {
        ready(Ok(self.state().world.clone()))
    }

    fn save_world(&self, world: &World) -> StoreFuture<'_, ()> {
        self.state().world = Some(world.clone());
        ready(Ok(()))
    }
}
