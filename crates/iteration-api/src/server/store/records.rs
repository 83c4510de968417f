//! Experiments held in memory with their versions, indexed by key.
//!
//! [`MemoryStore`](super::MemoryStore) keeps its data here; the
//! `SqliteStore` keeps a copy of its committed rows
//! here, so that reads never touch the database.

use std::collections::HashMap;
use std::sync::Arc;

use iteration_model::{Experiment, IterationRep};

use super::{CatalogExpectation, CatalogRecord, Decision, ExperimentRecord, Settled, StoreError, Versioned};

/// (project, environment, key) of an experiment.
pub(crate) type RecordKey = (String, String, String);

/// The key under which `record` is held.
pub(crate) fn record_key(record: &ExperimentRecord) -> RecordKey {
    (record.project_key.clone(), record.environment_key.clone(), record.key().to_owned())
}

/// Every experiment, in creation order, each behind an [`Arc`] so that reads
/// share it instead of copying it.
#[derive(Debug, Default)]
pub(crate) struct Records {
    /// In creation order, which is the order `list` answers in.
    records: Vec<Versioned<Arc<ExperimentRecord>>>,
    /// (project, environment, key) to the position in `records`.
    index: HashMap<RecordKey, usize>,
}

impl Records {
    /// The experiment at `key`, shared.
    pub(crate) fn get(
        &self,
        project: &str,
        environment: &str,
        key: &str,
    ) -> Option<Versioned<Arc<ExperimentRecord>>> {
        self.version_of(&(project.to_owned(), environment.to_owned(), key.to_owned()))
            .map(|(at, _)| self.records[at].clone())
    }

    /// Every experiment of `project` (and of `environment` when given), in creation order.
    pub(crate) fn list(
        &self,
        project: &str,
        environment: Option<&str>,
    ) -> Vec<Versioned<Arc<ExperimentRecord>>> {
        self.records
            .iter()
            .filter(|r| r.value.project_key == project)
            .filter(|r| environment.is_none_or(|e| r.value.environment_key == e))
            .cloned()
            .collect()
    }

    /// The version `key` is held at, if it is held.
    pub(crate) fn version(&self, key: &RecordKey) -> Option<u64> {
        self.version_of(key).map(|(_, version)| version)
    }

    /// Where `key` is held and at which version.
    fn version_of(&self, key: &RecordKey) -> Option<(usize, u64)> {
        self.index.get(key).map(|&at| (at, self.records[at].version))
    }

    /// Whether `key` is free for an insert; [`StoreError::KeyExists`] when not.
    pub(crate) fn check_insert(&self, key: &RecordKey) -> Result<(), StoreError> {
        if !self.index.contains_key(key) {
            return Ok(());
        }
        let (project, environment, key) = key.clone();
        Err(StoreError::KeyExists { project, environment, key })
    }

    /// The version a swap from `expected` leads to; [`StoreError::NotFound`]
    /// or [`StoreError::Conflict`] when the swap must not happen.
    pub(crate) fn check_swap(&self, key: &RecordKey, expected: u64) -> Result<u64, StoreError> {
        self.checked_swap(key, expected).map(|(_, next)| next)
    }

    /// Where `key` is held and the version a swap from `expected` leads to.
    fn checked_swap(&self, key: &RecordKey, expected: u64) -> Result<(usize, u64), StoreError> {
        let (at, actual) = self.version_of(key).ok_or(StoreError::NotFound)?;
        if actual != expected {
            return Err(StoreError::Conflict { expected, actual });
        }
        let next = expected.checked_add(1).ok_or_else(|| StoreError::unavailable("version overflow"))?;
        Ok((at, next))
    }

    /// Adds `record` at `version` after the others, or replaces the record
    /// held under its key, and returns the replaced one, so that the caller
    /// can drop it after releasing its lock; the caller has checked the write.
    pub(crate) fn put(
        &mut self,
        version: u64,
        record: Arc<ExperimentRecord>,
    ) -> Option<Arc<ExperimentRecord>> {
        let key = record_key(&record);
        let stored = Versioned { version, value: record };
        match self.index.get(&key) {
            Some(&at) => Some(std::mem::replace(&mut self.records[at], stored).value),
            None => {
                self.index.insert(key, self.records.len());
                self.records.push(stored);
                None
            }
        }
    }

    /// `records` as the only records, in that order, each one version past
    /// the record it replaces under the same key (1 when there was none), so
    /// that a writer still holding a version read before the replacement
    /// conflicts instead of winning against a different record.
    pub(crate) fn replacement(&self, records: Vec<ExperimentRecord>) -> Records {
        let mut next = Records::default();
        for record in records {
            let version = self.version(&record_key(&record)).map_or(1, |v| v.saturating_add(1));
            next.put(version, Arc::new(record));
        }
        next
    }

    /// Has `decide` decide on the record at `key` as it is, and applies the
    /// edit it decides on in place. The record is copied first only while a
    /// reader still holds it, so that readers never see a change. The draft
    /// the edit replaced comes back beside the settlement, for the caller
    /// to drop once it has let go of its lock.
    pub(crate) fn update(
        &mut self,
        key: &RecordKey,
        decide: impl FnOnce(u64, &Experiment) -> Decision,
    ) -> Result<(Settled, Option<IterationRep>), StoreError> {
        let (at, version) = self.version_of(key).ok_or(StoreError::NotFound)?;
        let stored = &mut self.records[at];
        match decide(version, &stored.value.experiment) {
            Decision::Refuse(answer) => Ok((Settled { version, written: false, answer }, None)),
            Decision::Write { edit, answer } => {
                let next =
                    version.checked_add(1).ok_or_else(|| StoreError::unavailable("version overflow"))?;
                let replaced = edit.apply_to(&mut Arc::make_mut(&mut stored.value).experiment);
                stored.version = next;
                Ok((Settled { version: next, written: true, answer }, replaced))
            }
        }
    }
}

/// Every project's live catalog with its version, and how many experiment
/// writes each project has seen (its generation).
#[derive(Debug, Default, Clone)]
pub(crate) struct Catalogs {
    catalogs: HashMap<String, Versioned<Arc<CatalogRecord>>>,
    generations: HashMap<String, u64>,
}

impl Catalogs {
    /// The catalog of `project`, shared.
    pub(crate) fn get(&self, project: &str) -> Option<Versioned<Arc<CatalogRecord>>> {
        self.catalogs.get(project).cloned()
    }

    /// The catalog of `project`, borrowed.
    pub(crate) fn current(&self, project: &str) -> Option<&Versioned<Arc<CatalogRecord>>> {
        self.catalogs.get(project)
    }

    /// The version of the catalog of `project`; 0 when it has none.
    pub(crate) fn version(&self, project: &str) -> u64 {
        self.catalogs.get(project).map_or(0, |c| c.version)
    }

    /// How many experiment writes `project` has seen.
    pub(crate) fn generation(&self, project: &str) -> u64 {
        self.generations.get(project).copied().unwrap_or(0)
    }

    /// Sets the generation of `project`.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn set_generation(&mut self, project: &str, generation: u64) {
        self.generations.insert(project.to_owned(), generation);
    }

    /// Every project's catalog.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &Versioned<Arc<CatalogRecord>>)> {
        self.catalogs.iter()
    }

    /// Every project's generation.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn generations(&self) -> impl Iterator<Item = (&String, u64)> {
        self.generations.iter().map(|(project, generation)| (project, *generation))
    }

    /// Counts one more experiment write in `project`.
    pub(crate) fn bump(&mut self, project: &str) {
        *self.generations.entry(project.to_owned()).or_insert(0) += 1;
    }

    /// `catalogs` as the only catalogs, each one version past the catalog it
    /// replaces (1 when there was none), and every project's generation one
    /// further, so that no write checked against the old state wins.
    pub(crate) fn replacement(&self, catalogs: Vec<CatalogRecord>) -> Catalogs {
        let mut generations = self.generations.clone();
        let projects = self.catalogs.keys().chain(catalogs.iter().map(|c| &c.catalog().key));
        for project in projects {
            generations.entry(project.clone()).or_insert(0);
        }
        generations.values_mut().for_each(|g| *g += 1);
        let mut next = Catalogs { catalogs: HashMap::new(), generations };
        for record in catalogs {
            let version = self.version(record.project()).saturating_add(1);
            next.put(version, Arc::new(record));
        }
        next
    }

    /// Stores `record` at `version` and returns the replaced record, to be
    /// dropped once the caller has released its lock.
    pub(crate) fn put(&mut self, version: u64, record: Arc<CatalogRecord>) -> Option<Arc<CatalogRecord>> {
        let project = record.project().to_owned();
        self.catalogs.insert(project, Versioned { version, value: record }).map(|old| old.value)
    }
}

/// [`StoreError::Conflict`] unless the catalog is at `expected` (when given).
pub(crate) fn check_catalog_guard(actual: u64, expected: Option<u64>) -> Result<(), StoreError> {
    match expected {
        Some(expected) if expected != actual => Err(StoreError::Conflict { expected, actual }),
        _ => Ok(()),
    }
}

/// The version a catalog put leads to, or [`StoreError::Conflict`] when
/// the catalog (at `version`) or the project's experiments (at
/// `generation`) moved from what the writer expected.
pub(crate) fn check_catalog_put(
    version: u64,
    generation: u64,
    expected: CatalogExpectation,
) -> Result<u64, StoreError> {
    check_catalog_guard(version, Some(expected.version))?;
    if let Some(expected) = expected.generation
        && expected != generation
    {
        return Err(StoreError::Conflict { expected, actual: generation });
    }
    Ok(version + 1)
}
