//! Storage of experiments.
//!
//! The server keeps one [`ExperimentRecord`] per experiment, each with a
//! version that every write increases by one. Reads hand out the stored
//! record itself behind an [`Arc`], never a copy. Writers use optimistic
//! locking: read a [`Versioned`] record, decide on a change, and either
//! [`Store::compare_and_swap`] a whole new record or [`Store::apply`] an
//! [`Edit`] in place, against the version they read; a writer that lost the
//! race gets [`StoreError::Conflict`] and retries against the new state. So
//! two requests that change one experiment at once never both win on a stale
//! read.
//!
//! Two implementations: [`MemoryStore`] for tests and throwaway servers, and
//! `SqliteStore` (feature `sqlite`), which is durable. For both, a write whose future resolved
//! `Ok` is never lost (for SQLite: it is committed to disk), and nothing
//! half-written is ever visible.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use std::collections::HashMap;

use iteration_model::{Catalog, Experiment, IterationRep, ProjectCatalog};

use crate::server::world::World;

mod memory;
mod records;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(test)]
mod conformance;

pub use crate::server::record::ExperimentRecord;
pub use memory::MemoryStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// A value with the version the store holds it at.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// The version: 1 when inserted, one more after each write.
    pub version: u64,
    /// The value.
    pub value: T,
}

/// The live catalog of one project (flags, metrics, metric groups, context
/// kinds, experimentation settings), with the per-environment views that
/// resolution reads, derived once when the record is made: a catalog
/// changes rarely and is read by every create iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogRecord {
    catalog: ProjectCatalog,
    views: HashMap<String, Arc<Catalog>>,
}

impl CatalogRecord {
    /// The record of `catalog`, with its views.
    pub fn new(catalog: ProjectCatalog) -> CatalogRecord {
        let views = catalog
            .environments
            .iter()
            .filter_map(|e| Some((e.key.clone(), Arc::new(catalog.view(&e.key)?))))
            .collect();
        CatalogRecord { catalog, views }
    }

    /// The catalog.
    pub fn catalog(&self) -> &ProjectCatalog {
        &self.catalog
    }

    /// What resolution checks against in `environment`.
    pub fn view(&self, environment: &str) -> Option<&Arc<Catalog>> {
        self.views.get(environment)
    }

    /// The project key.
    pub fn project(&self) -> &str {
        &self.catalog.key
    }
}

/// What a catalog write expects to find, so that it never wins on a stale read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogExpectation {
    /// The catalog's version; 0 when the project has no catalog yet.
    pub version: u64,
    /// When given, the project's experiment generation (see
    /// [`Store::generation`]): the write fails if any experiment of the
    /// project changed since. A write that checked the experiments (a
    /// delete refused while in use) sets it.
    pub generation: Option<u64>,
}

/// Why a store operation failed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An experiment with this key already exists in this environment.
    #[error(
        "an experiment with key `{key}` already exists in project `{project}`, environment `{environment}`"
    )]
    KeyExists {
        /// The project key.
        project: String,
        /// The environment key.
        environment: String,
        /// The experiment key.
        key: String,
    },
    /// The experiment, or the catalog the write was checked against, changed since it was read.
    #[error("the record changed since it was read: expected version {expected}, it is at version {actual}")]
    Conflict {
        /// The version the writer read.
        expected: u64,
        /// The version the store holds.
        actual: u64,
    },
    /// There is no such experiment.
    #[error("no such experiment")]
    NotFound,
    /// The storage failed (IO, database); the operation may be retried later.
    #[error("the storage is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub(crate) fn unavailable(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
        StoreError::Unavailable(source.into())
    }
}

/// A change to one experiment, decided on before it is applied: it cannot
/// fail, so a store applies it in place, under whatever makes its writes
/// atomic, or not at all.
///
/// The common change has its own variant, so that a store that must build
/// a new record (instead of editing its own) knows what not to copy.
pub enum Edit {
    /// Makes the iteration the experiment's draft, replacing any earlier
    /// draft: what create iteration does. Built by [`Edit::replace_draft`].
    ReplaceDraft(DraftReplacement),
    /// Any other change.
    With(Box<dyn FnOnce(&mut Experiment) + Send>),
}

/// A new draft with its JSON, written once: for the caller's answer and for
/// a store that keeps records as JSON, which need not write the draft again.
#[derive(Debug)]
pub struct DraftReplacement {
    draft: Box<IterationRep>,
    json: bytes::Bytes,
}

impl DraftReplacement {
    /// The new draft.
    pub fn draft(&self) -> &IterationRep {
        &self.draft
    }

    /// The new draft as compact JSON.
    pub fn json(&self) -> &bytes::Bytes {
        &self.json
    }

    /// The draft and its JSON.
    pub fn into_parts(self) -> (IterationRep, bytes::Bytes) {
        (*self.draft, self.json)
    }
}

impl Edit {
    /// An edit that makes `draft` the draft, and the draft's JSON, for the
    /// caller's answer: the same bytes a store that writes JSON stores. The
    /// JSON is written by the model's direct writer, which gives serde_json's
    /// bytes.
    pub fn replace_draft(draft: IterationRep) -> (Edit, bytes::Bytes) {
        let json = bytes::Bytes::from(iteration_model::to_json_vec(&draft));
        (Edit::ReplaceDraft(DraftReplacement { draft: Box::new(draft), json: json.clone() }), json)
    }

    /// An edit that runs `change`.
    pub fn with(change: impl FnOnce(&mut Experiment) + Send + 'static) -> Edit {
        Edit::With(Box::new(change))
    }

    /// Applies the edit to `experiment` in place.
    pub fn apply_to(self, experiment: &mut Experiment) {
        match self {
            Edit::ReplaceDraft(replacement) => experiment.draft_iteration = Some(*replacement.draft),
            Edit::With(change) => change(experiment),
        }
    }

    /// `record` with the edit applied, as a new record. What the edit
    /// replaces is not copied: for [`Edit::ReplaceDraft`], the old draft,
    /// which is most of a new experiment's record.
    pub fn applied(self, record: &ExperimentRecord) -> ExperimentRecord {
        match self {
            Edit::ReplaceDraft(replacement) => ExperimentRecord {
                project_key: record.project_key.clone(),
                environment_key: record.environment_key.clone(),
                experiment: with_draft(&record.experiment, *replacement.draft),
            },
            Edit::With(change) => {
                let mut record = record.clone();
                change(&mut record.experiment);
                record
            }
        }
    }
}

impl std::fmt::Debug for Edit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Edit::ReplaceDraft(replacement) => f.debug_tuple("ReplaceDraft").field(replacement).finish(),
            Edit::With(_) => f.write_str("With(..)"),
        }
    }
}

/// A copy of `experiment` with `draft` as its draft, its old draft not copied.
fn with_draft(experiment: &Experiment, draft: IterationRep) -> Experiment {
    // Every field is named, so a field added to `Experiment` fails to
    // compile here instead of being dropped from the copy.
    let Experiment {
        id,
        key,
        name,
        description,
        maintainer_id,
        creation_date,
        environment_key,
        methodology,
        data_source,
        archived_date,
        tags,
        links,
        holdout_id,
        current_iteration,
        r#type,
        draft_iteration: _,
        previous_iterations,
        analysis_config,
        mutable_fields_by_status,
        access,
        extra,
    } = experiment;
    Experiment {
        id: id.clone(),
        key: key.clone(),
        name: name.clone(),
        description: description.clone(),
        maintainer_id: maintainer_id.clone(),
        creation_date: *creation_date,
        environment_key: environment_key.clone(),
        methodology: methodology.clone(),
        data_source: data_source.clone(),
        archived_date: *archived_date,
        tags: tags.clone(),
        links: links.clone(),
        holdout_id: holdout_id.clone(),
        current_iteration: current_iteration.clone(),
        r#type: r#type.clone(),
        draft_iteration: Some(draft),
        previous_iterations: previous_iterations.clone(),
        analysis_config: analysis_config.clone(),
        mutable_fields_by_status: mutable_fields_by_status.clone(),
        access: access.clone(),
        extra: extra.clone(),
    }
}

/// What every [`Store`] operation returns: a boxed future, so that the trait
/// stays usable as `Arc<dyn Store>`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Durable, versioned storage of experiments and of the world they live in.
pub trait Store: Send + Sync + 'static {
    /// The experiment `key` of `project` and `environment`, if it exists.
    fn get(
        &self,
        project: &str,
        environment: &str,
        key: &str,
    ) -> StoreFuture<'_, Option<Versioned<Arc<ExperimentRecord>>>>;

    /// All experiments of a project, or of one environment when given,
    /// ordered by creation (oldest first).
    fn list(
        &self,
        project: &str,
        environment: Option<&str>,
    ) -> StoreFuture<'_, Vec<Versioned<Arc<ExperimentRecord>>>>;

    /// Inserts a new experiment at version 1; [`StoreError::KeyExists`] when
    /// (project, environment, key) is taken. With `catalog`, only while the
    /// project's catalog is still at that version ([`StoreError::Conflict`]
    /// otherwise): the write was checked against that catalog.
    fn insert(
        &self,
        record: ExperimentRecord,
        catalog: Option<u64>,
    ) -> StoreFuture<'_, Versioned<Arc<ExperimentRecord>>>;

    /// Replaces the experiment only if its version is still `expected` (and
    /// the project's catalog still at `catalog`, when given), and returns the
    /// new version (`expected + 1`); [`StoreError::Conflict`] when either is
    /// at another version, [`StoreError::NotFound`] when it does not exist.
    fn compare_and_swap(
        &self,
        expected: u64,
        record: ExperimentRecord,
        catalog: Option<u64>,
    ) -> StoreFuture<'_, u64>;

    /// Applies `edit` to experiment `key` only if it is still at version
    /// `expected` (and the catalog at `catalog`, when given), and returns the new version (`expected + 1`); fails as
    /// [`Store::compare_and_swap`] does, and then `edit` has not run.
    ///
    /// The default reads the record, builds the edited record with
    /// [`Edit::applied`] and swaps it in. A store that can edit its record in
    /// place overrides this and saves the copy, which for a record with many
    /// iterations is most of the work.
    fn apply<'a>(
        &'a self,
        project: &'a str,
        environment: &'a str,
        key: &'a str,
        expected: u64,
        edit: Edit,
        catalog: Option<u64>,
    ) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            let current = self.get(project, environment, key).await?.ok_or(StoreError::NotFound)?;
            if current.version != expected {
                return Err(StoreError::Conflict { expected, actual: current.version });
            }
            let record = edit.applied(&current.value);
            drop(current);
            self.compare_and_swap(expected, record, catalog).await
        })
    }

    /// The live catalog of `project`, if it has one.
    fn catalog(&self, project: &str) -> StoreFuture<'_, Option<Versioned<Arc<CatalogRecord>>>>;

    /// How many experiment writes `project` has seen: any insert or change
    /// of one of its experiments makes it larger. Read it before reading the
    /// experiments a catalog write depends on, and pass it in
    /// [`CatalogExpectation::generation`].
    fn generation(&self, project: &str) -> StoreFuture<'_, u64>;

    /// Stores `catalog` as the project's catalog, only if what `expected`
    /// says still holds, and returns its new version;
    /// [`StoreError::Conflict`] otherwise.
    fn put_catalog(&self, expected: CatalogExpectation, catalog: ProjectCatalog) -> StoreFuture<'_, u64>;

    /// The world stored with the data, so that a restart without a world
    /// argument still knows it.
    fn load_world(&self) -> StoreFuture<'_, Option<World>>;

    /// Replaces the stored world.
    fn save_world(&self, world: &World) -> StoreFuture<'_, ()>;

    /// Replaces everything at once, atomically: the stored world becomes
    /// `world`, the catalogs its catalogs and the experiments its
    /// experiments, as [`seed_store`](crate::server::seed_store) would leave
    /// an empty store, and nothing else remains. Each record's version moves
    /// past the one it replaces, so a write that read the old state conflicts.
    fn replace_all(&self, world: &World) -> StoreFuture<'_, ()>;

    /// Whether the store answers; [`StoreError::Unavailable`] when not.
    /// The default reads the stored world.
    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move { self.load_world().await.map(drop) })
    }
}
