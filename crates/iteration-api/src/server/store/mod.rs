//! Storage of experiments and of each project's live catalog.
//!
//! The server keeps one [`ExperimentRecord`] per experiment and one
//! [`CatalogRecord`] per project, each with a version that every write
//! increases by one. Reads hand out the stored record itself behind an
//! [`Arc`], never a copy.
//!
//! A change to an experiment is settled by the store ([`Store::update`]):
//! the caller hands over a [`Change`], its decision made on the versions it
//! read and the way to decide again; the store applies the decision while
//! those versions are current and otherwise has the change decide again on
//! what is current, serialized with every other write to the record. So
//! concurrent writes to one experiment queue instead of failing, none is
//! lost and none wins on a stale read (of the experiment, or of a flag,
//! metric or setting it was checked against). Whole-record writes
//! ([`Store::compare_and_swap`], [`Store::put_catalog`]) are optimistic: a
//! writer that lost the race gets [`StoreError::Conflict`] and tries again
//! on the new state.
//!
//! Two implementations: [`MemoryStore`] for tests and throwaway servers, and
//! `SqliteStore` (feature `sqlite`), which is durable. For both, a write whose future resolved
//! `Ok` is never lost (for SQLite: it is committed to disk), and nothing
//! half-written is ever visible. The trait asks nothing that needs one
//! process to hold every record or to be the only writer: each guard is a
//! version compared inside the write, as a networked database's transaction
//! (`SELECT ... FOR UPDATE`) compares it.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
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

    /// The record of a project without a catalog: nothing in it.
    pub fn empty(project: &str) -> CatalogRecord {
        CatalogRecord::new(ProjectCatalog {
            key: project.to_owned(),
            id: String::new(),
            creation_date: iteration_model::UnixMillis(0),
            environments: Vec::new(),
            context_kinds: Vec::new(),
            randomization_units: Vec::new(),
            flags: Default::default(),
            metrics: Default::default(),
            metric_groups: Default::default(),
            covariates: Default::default(),
            layers: Default::default(),
            holdouts: Vec::new(),
        })
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

    /// Whether the edit can change what a read without `expand` answers
    /// ([`plain_json`]). Replacing the draft cannot: that answer leaves the
    /// draft out. A store that keeps the plain answer need not write it again.
    pub fn changes_plain(&self) -> bool {
        !matches!(self, Edit::ReplaceDraft(_))
    }

    /// Applies the edit to `experiment` in place, and hands back the draft
    /// it replaced, so that a caller holding a lock can drop it after
    /// letting go (freeing a draft is a few hundred small frees).
    pub fn apply_to(self, experiment: &mut Experiment) -> Option<IterationRep> {
        match self {
            Edit::ReplaceDraft(replacement) => experiment.draft_iteration.replace(*replacement.draft),
            Edit::With(change) => {
                change(experiment);
                None
            }
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

/// What a [`Change`] hands back to its caller: whatever the caller's
/// decision needs to answer with (a response, an error). The store only
/// carries it.
pub type Answer = Box<dyn Any + Send>;

/// What a [`Change`] decided on the experiment as it found it.
pub enum Decision {
    /// Apply `edit`, then hand `answer` back.
    Write {
        /// The change.
        edit: Edit,
        /// For the caller.
        answer: Answer,
    },
    /// Write nothing, and hand this back (the reason).
    Refuse(Answer),
}

impl std::fmt::Debug for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Decision::Write { edit, .. } => {
                f.debug_struct("Write").field("edit", edit).finish_non_exhaustive()
            }
            Decision::Refuse(_) => f.write_str("Refuse(..)"),
        }
    }
}

/// How a [`Change`] decides: from the experiment and its project's catalog
/// as they are when the store applies it.
pub type Decide = Box<dyn FnMut(&Experiment, &CatalogRecord) -> Decision + Send>;

/// A change to one experiment, for [`Store::update`]: a way to decide on
/// the current experiment and catalog, and possibly a decision its caller
/// already made on versions it read, which the store takes as it is while
/// both versions are still current (the common case, so deciding costs
/// the store nothing) and makes again otherwise.
pub struct Change {
    decided: Option<(u64, u64, Decision)>,
    decide: Decide,
}

impl Change {
    /// A change that `decide` decides on.
    pub fn new(decide: impl FnMut(&Experiment, &CatalogRecord) -> Decision + Send + 'static) -> Change {
        Change { decided: None, decide: Box::new(decide) }
    }

    /// The change with `decision` already made on the experiment at
    /// `version` and the catalog at `catalog`.
    pub fn decided_on(mut self, version: u64, catalog: u64, decision: Decision) -> Change {
        self.decided = Some((version, catalog, decision));
        self
    }

    /// The decision made already, with the experiment and catalog versions
    /// it was made on, taken out: for a store that prepares the write before
    /// it is serialized with the others (and puts it back with
    /// [`Change::decided_on`] when it cannot).
    pub fn take_decided(&mut self) -> Option<(u64, u64, Decision)> {
        self.decided.take()
    }

    /// The decision for the experiment at `version` and the catalog at
    /// `catalog_version`: the one made already if it was made on these,
    /// a new one otherwise.
    pub fn decide(
        &mut self,
        version: u64,
        experiment: &Experiment,
        catalog_version: u64,
        catalog: &CatalogRecord,
    ) -> Decision {
        match self.decided.take() {
            Some((v, c, decision)) if v == version && c == catalog_version => decision,
            _ => (self.decide)(experiment, catalog),
        }
    }
}

impl std::fmt::Debug for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Change").field("decided", &self.decided).finish_non_exhaustive()
    }
}

/// How [`Store::update`] settled a change.
#[derive(Debug)]
pub struct Settled {
    /// The experiment's version after the change: the new version when it
    /// was written, the current one when it was refused.
    pub version: u64,
    /// Whether the change was written (`false`: it was refused).
    pub written: bool,
    /// What the decision handed back.
    pub answer: Answer,
}

/// The facts about an experiment that a list selects by, which a store can
/// keep beside the record to answer a [`PageQuery`] without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Summary {
    /// Whether it is archived.
    pub archived: bool,
    /// Whether it is a holdout's base experiment.
    pub holdout: bool,
    /// Its status.
    pub status: Status,
}

/// An experiment's status as a list filter names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// No iteration has run yet, or a draft waits.
    NotStarted,
    /// An iteration runs.
    Running,
    /// The last iteration stopped and no draft waits.
    Stopped,
}

impl Status {
    /// The status as the API names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotStarted => "not_started",
            Status::Running => "running",
            Status::Stopped => "stopped",
        }
    }

    /// The status named `name`.
    pub fn parse(name: &str) -> Option<Status> {
        [Status::NotStarted, Status::Running, Status::Stopped].into_iter().find(|s| s.as_str() == name)
    }
}

impl Summary {
    /// The summary of `experiment`.
    pub fn of(experiment: &Experiment) -> Summary {
        let status = if experiment.current_iteration.is_some() {
            Status::Running
        } else if experiment.draft_iteration.is_none()
            && experiment.previous_iterations.iter().flatten().next().is_some()
        {
            Status::Stopped
        } else {
            Status::NotStarted
        };
        Summary {
            archived: iteration_model::lifecycle::is_archived(experiment),
            holdout: experiment.r#type == Some(iteration_model::ExperimentType::Holdout),
            status,
        }
    }
}

/// Which experiments a [`Store::page`] selects, and which page of them.
#[derive(Clone, Copy)]
pub struct PageQuery<'a> {
    /// Only this environment's, when given.
    pub environment: Option<&'a str>,
    /// Whether experiments that are not archived are selected.
    pub active: bool,
    /// Whether archived experiments are selected.
    pub archived: bool,
    /// Whether holdouts' base experiments are selected.
    pub holdouts: bool,
    /// Only experiments with this status, when given.
    pub status: Option<Status>,
    /// A further test on the whole experiment, when given; a store must
    /// then read every candidate.
    pub keep: Option<&'a (dyn Fn(&Experiment) -> bool + Sync)>,
    /// How many selected experiments to skip.
    pub offset: usize,
    /// How many to answer at most.
    pub limit: usize,
}

impl PageQuery<'_> {
    /// Whether an experiment with `summary` in `environment` may be
    /// selected (before [`PageQuery::keep`]).
    pub fn admits(&self, environment: &str, summary: Summary) -> bool {
        self.environment.is_none_or(|e| e == environment)
            && (if summary.archived { self.archived } else { self.active })
            && (self.holdouts || !summary.holdout)
            && self.status.is_none_or(|s| s == summary.status)
    }
}

impl std::fmt::Debug for PageQuery<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageQuery")
            .field("environment", &self.environment)
            .field("active", &self.active)
            .field("archived", &self.archived)
            .field("holdouts", &self.holdouts)
            .field("status", &self.status)
            .field("keep", &self.keep.map(|_| ".."))
            .field("offset", &self.offset)
            .field("limit", &self.limit)
            .finish()
    }
}

/// One page of a [`Store::page`] (whole records) or a
/// [`Store::page_plain`] (each experiment's [`plain_json`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T = Versioned<Arc<ExperimentRecord>>> {
    /// The page's experiments, in creation order.
    pub items: Vec<T>,
    /// How many experiments the query selects, on every page.
    pub total: usize,
}

/// The JSON of `experiment` as a read without `expand` answers it (see
/// [`Expand::apply`](iteration_model::Expand::apply)): what
/// [`Store::get_plain`] and [`Store::page_plain`] hand out, which a store
/// may keep beside the record instead of making it per read.
pub fn plain_json(experiment: &Experiment) -> Bytes {
    let mut copy = experiment.clone();
    plain_json_of(&mut copy)
}

/// [`plain_json`] of an experiment the caller may change for a moment,
/// which saves the copy.
pub fn plain_json_of(experiment: &mut Experiment) -> Bytes {
    let mut out = Vec::with_capacity(4096);
    iteration_model::Expand::NONE.write_applied(experiment, &mut out);
    Bytes::from(out)
}

impl Page {
    /// The page with each experiment as [`plain_json`].
    pub fn plain(&self) -> Page<Bytes> {
        Page {
            items: self.items.iter().map(|r| plain_json(&r.value.experiment)).collect(),
            total: self.total,
        }
    }

    /// The page of `listed` (every experiment of a project, in creation
    /// order) that `query` asks for.
    pub fn of(listed: Vec<Versioned<Arc<ExperimentRecord>>>, query: &PageQuery<'_>) -> Page {
        let mut total = 0;
        let mut items = Vec::with_capacity(query.limit.min(listed.len()));
        for record in listed {
            let selected = query.admits(&record.value.environment_key, Summary::of(&record.value.experiment))
                && query.keep.is_none_or(|keep| keep(&record.value.experiment));
            if selected {
                if total >= query.offset && items.len() < query.limit {
                    items.push(record);
                }
                total += 1;
            }
        }
        Page { items, total }
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

    /// Settles `change` on experiment `key`: the store takes the change's
    /// decision if it was made on the experiment and catalog versions that
    /// are current, or has the change decide again on what is current, and
    /// writes what it decided; so writes to one record are applied in order
    /// and none is lost or wins on a stale read, without the caller
    /// retrying. [`StoreError::NotFound`] when the experiment does not
    /// exist; a [`Decision::Refuse`] writes nothing and is
    /// [`Settled::written`] `false`.
    ///
    /// Writes to one record are serialized (by a lock or a writer) and,
    /// where the store commits, share the commit: a batch of changes to one
    /// experiment writes the record once.
    fn update<'a>(
        &'a self,
        project: &'a str,
        environment: &'a str,
        key: &'a str,
        change: Change,
    ) -> StoreFuture<'a, Settled>;

    /// A page of the experiments of `project` that `query` selects, in
    /// creation order, with how many it selects in all.
    ///
    /// The default reads every experiment of the project with
    /// [`Store::list`]; a store that indexes the facts of a [`Summary`]
    /// answers a query without a [`PageQuery::keep`] from its index and
    /// reads only the page.
    fn page<'a>(&'a self, project: &'a str, query: PageQuery<'a>) -> StoreFuture<'a, Page> {
        Box::pin(async move {
            let listed = self.list(project, query.environment).await?;
            Ok(Page::of(listed, &query))
        })
    }

    /// The experiment `key` as a read without `expand` answers it
    /// ([`plain_json`]), if it exists. The default makes it from
    /// [`Store::get`]; a store that keeps it beside the record hands that
    /// out without reading the record.
    fn get_plain<'a>(
        &'a self,
        project: &'a str,
        environment: &'a str,
        key: &'a str,
    ) -> StoreFuture<'a, Option<Versioned<Bytes>>> {
        Box::pin(async move {
            let found = self.get(project, environment, key).await?;
            Ok(found.map(|r| Versioned { version: r.version, value: plain_json(&r.value.experiment) }))
        })
    }

    /// [`Store::page`] with each experiment as [`plain_json`].
    fn page_plain<'a>(&'a self, project: &'a str, query: PageQuery<'a>) -> StoreFuture<'a, Page<Bytes>> {
        Box::pin(async move {
            let page = self.page(project, query).await?;
            Ok(Page {
                items: page.items.iter().map(|r| plain_json(&r.value.experiment)).collect(),
                total: page.total,
            })
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
