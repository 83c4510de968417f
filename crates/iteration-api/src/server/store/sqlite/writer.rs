//! The writer thread: the only connection that writes. It takes every
//! request waiting on its channel, applies them in order inside one
//! transaction, writes each changed record once, commits once, publishes
//! what it wrote to what the store keeps in memory, and only then answers.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, mpsc};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tokio::sync::oneshot;

use super::super::records::{Catalogs, check_catalog_guard, check_catalog_put};
use super::super::{
    CatalogExpectation, CatalogRecord, Change, Decision, ExperimentRecord, Settled, StoreError, Summary,
    Versioned,
};
use super::cache::cache_key;
use super::schema::{plain_text, save_world, stored_version, summary_columns};
use super::{Shared, record_json};
use crate::server::world::World;

/// A write for the writer thread, with where to send its result.
#[derive(Debug)]
pub(super) enum Request {
    Insert {
        record: ExperimentRecord,
        catalog: Option<u64>,
        reply: oneshot::Sender<Result<Versioned<Arc<ExperimentRecord>>, StoreError>>,
    },
    Swap {
        expected: u64,
        record: ExperimentRecord,
        catalog: Option<u64>,
        reply: oneshot::Sender<Result<u64, StoreError>>,
    },
    Update {
        project: String,
        environment: String,
        key: String,
        change: Change,
        /// The change's own decision, applied and written out already by
        /// the caller's task, for the writer to take as it is while the
        /// versions it was made on are current.
        prepared: Option<Box<Prepared>>,
        reply: oneshot::Sender<Result<Settled, StoreError>>,
    },
    SaveWorld {
        // Boxed: a world is large, and most requests are updates.
        world: Box<World>,
        document: String,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    PutCatalog {
        expected: CatalogExpectation,
        // Boxed: a catalog is large, and most requests are updates.
        record: Box<CatalogRecord>,
        json: String,
        reply: oneshot::Sender<Result<u64, StoreError>>,
    },
    /// Always committed in a transaction of its own (see `Writer::run`), so
    /// that it is checked against nothing but the committed state.
    ReplaceAll { replacement: Box<Replacement>, reply: oneshot::Sender<Result<(), StoreError>> },
}

/// A change's decision applied to the cached record it was made on, with
/// the record's two columns written: the work a write needs besides the
/// database, done on the caller's task rather than in the writer thread,
/// which every write waits for.
#[derive(Debug)]
pub(super) struct Prepared {
    /// The experiment's version the decision was made on.
    pub(super) version: u64,
    /// The catalog's version the decision was made on.
    pub(super) catalog: u64,
    pub(super) record: Box<ExperimentRecord>,
    pub(super) json: String,
    /// The `plain` column, or `None` when the decision cannot change it.
    pub(super) plain: Option<String>,
    pub(super) answer: super::super::Answer,
}

/// Everything [`Store::replace_all`](super::super::Store::replace_all)
/// writes, with its JSON.
#[derive(Debug)]
pub(super) struct Replacement {
    pub(super) world: World,
    pub(super) document: String,
    pub(super) catalogs: Vec<(CatalogRecord, String)>,
    pub(super) experiments: Vec<(ExperimentRecord, String)>,
}

/// A request's result, sent once the transaction it is part of committed.
enum Reply {
    Insert(
        oneshot::Sender<Result<Versioned<Arc<ExperimentRecord>>, StoreError>>,
        Result<Versioned<Arc<ExperimentRecord>>, StoreError>,
    ),
    Version(oneshot::Sender<Result<u64, StoreError>>, Result<u64, StoreError>),
    Settled(oneshot::Sender<Result<Settled, StoreError>>, Result<Settled, StoreError>),
    Done(oneshot::Sender<Result<(), StoreError>>, Result<(), StoreError>),
}

impl Reply {
    /// The reply to a request that was not applied.
    fn failed(request: Request, error: StoreError) -> Reply {
        match request {
            Request::Insert { reply, .. } => Reply::Insert(reply, Err(error)),
            Request::Swap { reply, .. } | Request::PutCatalog { reply, .. } => {
                Reply::Version(reply, Err(error))
            }
            Request::Update { reply, .. } => Reply::Settled(reply, Err(error)),
            Request::SaveWorld { reply, .. } | Request::ReplaceAll { reply, .. } => {
                Reply::Done(reply, Err(error))
            }
        }
    }

    /// Sends the result. A caller that gave up waiting has dropped its
    /// receiver; its write stands all the same, so a failed send is ignored.
    fn send(self) {
        match self {
            Reply::Insert(reply, result) => drop(reply.send(result)),
            Reply::Version(reply, result) => drop(reply.send(result)),
            Reply::Settled(reply, result) => drop(reply.send(result)),
            Reply::Done(reply, result) => drop(reply.send(result)),
        }
    }

    /// Answers that the transaction holding this request did not commit,
    /// whatever the request's own result was.
    fn fail(self, cause: &Arc<rusqlite::Error>) {
        let error = || StoreError::Unavailable(Box::new(Arc::clone(cause)));
        match self {
            Reply::Insert(reply, _) => drop(reply.send(Err(error()))),
            Reply::Version(reply, _) => drop(reply.send(Err(error()))),
            Reply::Settled(reply, _) => drop(reply.send(Err(error()))),
            Reply::Done(reply, _) => drop(reply.send(Err(error()))),
        }
    }
}

/// The writer thread's state: the only connection that writes.
pub(super) struct Writer {
    pub(super) connection: Connection,
    pub(super) shared: Arc<Shared>,
    /// Where experiments were last found (key to creation order), so that
    /// a record is found again by rowid rather than through the key index.
    pub(super) orders: Orders,
    #[cfg(test)]
    pub(super) gate: Arc<std::sync::Mutex<()>>,
}

impl Writer {
    pub(super) fn run(mut self, requests: mpsc::Receiver<Request>) {
        while let Ok(first) = requests.recv() {
            #[cfg(test)]
            let gate = Arc::clone(&self.gate);
            #[cfg(test)]
            let _held = gate.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut batch = vec![first];
            batch.extend(requests.try_iter());
            // A replacement of everything commits alone, after what came
            // before it and before what came after.
            let mut pending = Vec::new();
            for request in batch {
                if matches!(request, Request::ReplaceAll { .. }) {
                    if !pending.is_empty() {
                        self.commit_batch(std::mem::take(&mut pending));
                    }
                    self.commit_batch(vec![request]);
                } else {
                    pending.push(request);
                }
            }
            if !pending.is_empty() {
                self.commit_batch(pending);
            }
        }
    }

    fn commit_batch(&mut self, requests: Vec<Request>) {
        let transaction = match self.connection.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(transaction) => transaction,
            Err(err) => {
                let cause = Arc::new(err);
                requests
                    .into_iter()
                    .map(|r| Reply::failed(r, StoreError::unavailable("the transaction did not begin")))
                    .for_each(|reply| reply.fail(&cause));
                return;
            }
        };
        let mut batch = Batch::new(&self.shared, &transaction, &mut self.orders);
        let count = requests.len() as u64;
        let replies: Vec<Reply> = requests.into_iter().map(|request| batch.apply(request)).collect();
        let flushed = batch.flush();
        let published = batch.into_published();
        let committed = flushed.and_then(|()| transaction.commit());
        match committed {
            Ok(()) => {
                self.shared.counts.commits.fetch_add(1, Ordering::Relaxed);
                self.shared.counts.writes.fetch_add(count, Ordering::Relaxed);
                let replaced = self.shared.publish(published);
                replies.into_iter().for_each(Reply::send);
                // Freed after the answers: no caller waits for it.
                drop(replaced);
            }
            Err(err) => {
                tracing::error!(error = %err, "SQLite commit failed");
                let cause = Arc::new(err);
                replies.into_iter().for_each(|reply| reply.fail(&cause));
            }
        }
    }
}

/// Where the writer last found experiments: key to creation order, at
/// most [`Orders::CAPACITY`] of them (forgotten all at once beyond). Only a
/// hint: a row found at the order is used only if it still holds the key.
#[derive(Debug, Default)]
pub(super) struct Orders(HashMap<String, i64>);

impl Orders {
    /// How many keys are remembered at most (about 5 MiB).
    const CAPACITY: usize = 65_536;

    fn get(&self, key: &str) -> Option<i64> {
        self.0.get(key).copied()
    }

    fn remember(&mut self, key: &str, order: i64) {
        if self.0.len() >= Orders::CAPACITY && !self.0.contains_key(key) {
            self.0.clear();
        }
        self.0.insert(key.to_owned(), order);
    }

    fn forget_all(&mut self) {
        self.0.clear();
    }
}

/// The project, environment and experiment key a [`cache_key`] joins.
fn key_parts(key: &str) -> (&str, &str, &str) {
    let mut parts = key.split('\0');
    (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""))
}

/// What a commit changed, for the store to publish to its memory.
#[derive(Debug, Default)]
pub(super) struct Published {
    /// Each record written, with its creation order and summary.
    pub(super) records: Vec<(i64, Versioned<Arc<ExperimentRecord>>)>,
    /// Each catalog written or found changed in the database.
    pub(super) catalogs: Vec<Versioned<Arc<CatalogRecord>>>,
    /// Each project's generation after the commit.
    pub(super) generations: Vec<(String, u64)>,
    /// The world, when saved.
    pub(super) world: Option<World>,
    /// Everything, when the commit replaced everything.
    pub(super) replaced: Option<Box<(Catalogs, World)>>,
}

/// A record as the batch holds it.
enum Held {
    /// As the cache holds it, unchanged in this batch.
    Shared(Arc<ExperimentRecord>),
    /// Changed (or read from the database) in this batch.
    Owned(Box<ExperimentRecord>),
}

impl Held {
    fn record(&self) -> &ExperimentRecord {
        match self {
            Held::Shared(record) => record,
            Held::Owned(record) => record,
        }
    }
}

/// One experiment the batch has read or written.
struct Working {
    order: i64,
    version: u64,
    held: Held,
    /// Changed since the database's row was written.
    dirty: bool,
    /// Written in this batch (to publish once committed).
    written: bool,
    /// The record's `record` column, when written out already, with its
    /// `plain` column when that was written too.
    columns: Option<(String, Option<String>)>,
    /// The row's `plain` column no longer answers for the record: an edit
    /// since it was written can change it ([`Edit::changes_plain`]).
    plain_stale: bool,
    /// The summary the row's columns hold: they are written only when it
    /// changes, which spares the listing index an update per write.
    stored: Summary,
}

/// The requests of one transaction so far, each checked against the
/// database as the transaction sees it plus the batch's earlier requests.
struct Batch<'a> {
    shared: &'a Shared,
    connection: &'a Connection,
    orders: &'a mut Orders,
    working: HashMap<String, Working>,
    catalogs: HashMap<String, Versioned<Arc<CatalogRecord>>>,
    /// The catalogs to publish: written, or newer in the database than in memory.
    catalogs_changed: HashSet<String>,
    /// Each project's generation in the batch, and whether it moved.
    generations: HashMap<String, (u64, bool)>,
    world: Option<World>,
    replaced: Option<Box<(Catalogs, World)>>,
}

impl<'a> Batch<'a> {
    fn new(shared: &'a Shared, connection: &'a Connection, orders: &'a mut Orders) -> Batch<'a> {
        Batch {
            shared,
            connection,
            orders,
            working: HashMap::new(),
            catalogs: HashMap::new(),
            catalogs_changed: HashSet::new(),
            generations: HashMap::new(),
            world: None,
            replaced: None,
        }
    }

    /// Checks `request` and, when it passes, applies it. A request that
    /// fails changes nothing, so it fails alone and the rest of the batch
    /// still commits.
    fn apply(&mut self, request: Request) -> Reply {
        // Some errors (a full disk, an IO error) make SQLite roll back the
        // whole transaction; later statements would then each commit on
        // their own, unannounced. Fail them instead, as the commit will.
        if self.connection.is_autocommit() {
            return Reply::failed(request, StoreError::unavailable("the transaction was rolled back"));
        }
        match request {
            Request::Insert { record, catalog, reply } => Reply::Insert(reply, self.insert(record, catalog)),
            Request::Swap { expected, record, catalog, reply } => {
                Reply::Version(reply, self.swap(expected, record, catalog))
            }
            Request::Update { project, environment, key, change, prepared, reply } => {
                Reply::Settled(reply, self.update(&project, &environment, &key, change, prepared))
            }
            Request::SaveWorld { world, document, reply } => {
                let saved = save_world(self.connection, &document).map(|()| self.world = Some(*world));
                Reply::Done(reply, saved)
            }
            Request::PutCatalog { expected, record, json, reply } => {
                Reply::Version(reply, self.put_catalog(expected, *record, &json))
            }
            Request::ReplaceAll { replacement, reply } => Reply::Done(reply, self.replace_all(*replacement)),
        }
    }

    /// The catalog of `project` as the transaction sees it: the one in
    /// memory when the database holds the same version, the database's
    /// otherwise (another process wrote it), and an empty one at version 0
    /// when the project has none.
    fn catalog(&mut self, project: &str) -> Result<Versioned<Arc<CatalogRecord>>, StoreError> {
        if let Some(catalog) = self.catalogs.get(project) {
            return Ok(catalog.clone());
        }
        let stored: Option<i64> = self
            .connection
            .prepare_cached("SELECT version FROM catalogs WHERE project = ?1")
            .and_then(|mut statement| statement.query_row(params![project], |row| row.get(0)).optional())
            .map_err(StoreError::unavailable)?;
        let known = self.shared.known().catalogs.get(project);
        let catalog = match (stored, known) {
            (None, _) => Versioned { version: 0, value: Arc::new(CatalogRecord::empty(project)) },
            (Some(stored), Some(known)) if stored_version(known.version)? == stored => known,
            (Some(_), _) => {
                let (version, document): (i64, String) = self
                    .connection
                    .query_row(
                        "SELECT version, document FROM catalogs WHERE project = ?1",
                        params![project],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .map_err(StoreError::unavailable)?;
                let catalog = serde_json::from_str(&document).map_err(StoreError::unavailable)?;
                self.catalogs_changed.insert(project.to_owned());
                Versioned {
                    version: u64::try_from(version).map_err(StoreError::unavailable)?,
                    value: Arc::new(CatalogRecord::new(catalog)),
                }
            }
        };
        self.catalogs.insert(project.to_owned(), catalog.clone());
        Ok(catalog)
    }

    /// The generation of `project` as the transaction sees it.
    fn generation(&mut self, project: &str) -> Result<u64, StoreError> {
        if let Some((generation, _)) = self.generations.get(project) {
            return Ok(*generation);
        }
        let stored: Option<i64> = self
            .connection
            .prepare_cached("SELECT generation FROM generations WHERE project = ?1")
            .and_then(|mut statement| statement.query_row(params![project], |row| row.get(0)).optional())
            .map_err(StoreError::unavailable)?;
        let generation = u64::try_from(stored.unwrap_or(0)).map_err(StoreError::unavailable)?;
        self.generations.insert(project.to_owned(), (generation, false));
        Ok(generation)
    }

    /// Counts an experiment write of `project`.
    fn bump(&mut self, project: &str) -> Result<(), StoreError> {
        let next = self.generation(project)? + 1;
        self.generations.insert(project.to_owned(), (next, true));
        Ok(())
    }

    /// The experiment at `key` as the transaction sees it, if it exists:
    /// from the batch, else from the cache when it holds the database's
    /// version, else read from the database.
    fn working(&mut self, key: String) -> Result<Option<&mut Working>, StoreError> {
        if !self.working.contains_key(&key) {
            let row = match self.orders.get(&key) {
                Some(order) => self.found_at(&key, order)?,
                None => None,
            };
            let row = match row {
                Some(row) => Some(row),
                None => self.found_by_key(&key)?,
            };
            let Some((order, version)) = row else { return Ok(None) };
            self.orders.remember(&key, order);
            let version = u64::try_from(version).map_err(StoreError::unavailable)?;
            let cached = self.shared.cached(&key).filter(|cached| cached.version == version);
            let held = match cached {
                Some(cached) => Held::Shared(cached.value),
                None => {
                    let json: String = self
                        .connection
                        .prepare_cached("SELECT record FROM experiments WHERE created_order = ?1")
                        .and_then(|mut statement| statement.query_row(params![order], |row| row.get(0)))
                        .map_err(StoreError::unavailable)?;
                    Held::Owned(Box::new(serde_json::from_str(&json).map_err(StoreError::unavailable)?))
                }
            };
            self.working.insert(
                key.clone(),
                Working {
                    order,
                    version,
                    stored: Summary::of(&held.record().experiment),
                    held,
                    dirty: false,
                    written: false,
                    columns: None,
                    plain_stale: false,
                },
            );
        }
        Ok(self.working.get_mut(&key))
    }

    /// The version of the row at `order` if it still holds the experiment at `key`.
    fn found_at(&self, key: &str, order: i64) -> Result<Option<(i64, i64)>, StoreError> {
        let row: Option<(i64, String, String, String)> = self
            .connection
            .prepare_cached(
                "SELECT version, project, environment, key FROM experiments WHERE created_order = ?1",
            )
            .and_then(|mut statement| {
                statement
                    .query_row(params![order], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
                    .optional()
            })
            .map_err(StoreError::unavailable)?;
        Ok(row
            .filter(|(_, p, e, k)| key_parts(key) == (p.as_str(), e.as_str(), k.as_str()))
            .map(|(version, ..)| (order, version)))
    }

    /// The creation order and version of the experiment at `key`, through the key's index.
    fn found_by_key(&self, key: &str) -> Result<Option<(i64, i64)>, StoreError> {
        let (project, environment, experiment) = key_parts(key);
        self.connection
            .prepare_cached(
                "SELECT created_order, version FROM experiments WHERE project = ?1 AND environment = ?2 AND key = ?3",
            )
            .and_then(|mut statement| {
                statement
                    .query_row(params![project, environment, experiment], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
            })
            .map_err(StoreError::unavailable)
    }

    fn insert(
        &mut self,
        mut record: ExperimentRecord,
        catalog: Option<u64>,
    ) -> Result<Versioned<Arc<ExperimentRecord>>, StoreError> {
        let key = cache_key(&record.project_key, &record.environment_key, record.key());
        if self.working(key.clone())?.is_some() {
            return Err(StoreError::KeyExists {
                project: record.project_key,
                environment: record.environment_key,
                key: record.experiment.key,
            });
        }
        check_catalog_guard(self.catalog(&record.project_key)?.version, catalog)?;
        let json = record_json(&record)?;
        let summary = Summary::of(&record.experiment);
        let order = insert_row(self.connection, &mut record, 1, &json)?;
        self.orders.remember(&key, order);
        self.bump(&record.project_key)?;
        let record = Arc::new(record);
        let held = Held::Shared(Arc::clone(&record));
        self.working.insert(
            key,
            Working {
                order,
                version: 1,
                stored: summary,
                held,
                dirty: false,
                written: true,
                columns: None,
                plain_stale: false,
            },
        );
        Ok(Versioned { version: 1, value: record })
    }

    fn swap(
        &mut self,
        expected: u64,
        record: ExperimentRecord,
        catalog: Option<u64>,
    ) -> Result<u64, StoreError> {
        let project = record.project_key.clone();
        let catalog_version = self.catalog(&project)?.version;
        let key = cache_key(&record.project_key, &record.environment_key, record.key());
        let working = self.working(key)?.ok_or(StoreError::NotFound)?;
        if working.version != expected {
            return Err(StoreError::Conflict { expected, actual: working.version });
        }
        check_catalog_guard(catalog_version, catalog)?;
        let next = expected.checked_add(1).ok_or_else(|| StoreError::unavailable("version overflow"))?;
        *working = Working {
            order: working.order,
            held: Held::Owned(Box::new(record)),
            version: next,
            dirty: true,
            written: true,
            columns: None,
            plain_stale: true,
            stored: working.stored,
        };
        self.bump(&project)?;
        Ok(next)
    }

    fn update(
        &mut self,
        project: &str,
        environment: &str,
        key: &str,
        mut change: Change,
        prepared: Option<Box<Prepared>>,
    ) -> Result<Settled, StoreError> {
        let catalog = self.catalog(project)?;
        let working = self.working(cache_key(project, environment, key))?.ok_or(StoreError::NotFound)?;
        let version = working.version;
        let next = version.checked_add(1).ok_or_else(|| StoreError::unavailable("version overflow"))?;
        if let Some(prepared) = prepared
            && prepared.version == version
            && prepared.catalog == catalog.version
        {
            let Prepared { record, json, plain, answer, .. } = *prepared;
            // Without a new `plain`, the row's still answers, unless an
            // earlier write of the batch changed it.
            let plain_stale = plain.is_some() || working.plain_stale;
            *working = Working {
                order: working.order,
                held: Held::Owned(record),
                version: next,
                dirty: true,
                written: true,
                columns: Some((json, plain)),
                plain_stale,
                stored: working.stored,
            };
            self.bump(project)?;
            return Ok(Settled { version: next, written: true, answer });
        }
        let decision =
            change.decide(version, &working.held.record().experiment, catalog.version, &catalog.value);
        let (edit, answer) = match decision {
            Decision::Refuse(answer) => return Ok(Settled { version, written: false, answer }),
            Decision::Write { edit, answer } => (edit, answer),
        };
        working.plain_stale |= edit.changes_plain();
        match &mut working.held {
            Held::Owned(record) => drop(edit.apply_to(&mut record.experiment)),
            // Shared with the cache's readers: build the changed record
            // without copying what the edit replaces.
            Held::Shared(record) => working.held = Held::Owned(Box::new(edit.applied(record))),
        }
        working.version = next;
        working.dirty = true;
        working.written = true;
        working.columns = None;
        self.bump(project)?;
        Ok(Settled { version: next, written: true, answer })
    }

    fn put_catalog(
        &mut self,
        expected: CatalogExpectation,
        record: CatalogRecord,
        json: &str,
    ) -> Result<u64, StoreError> {
        let project = record.project().to_owned();
        let current = self.catalog(&project)?;
        let next = check_catalog_put(current.version, self.generation(&project)?, expected)?;
        let stored = stored_version(next)?;
        self.connection
            .prepare_cached(
                "INSERT INTO catalogs (project, version, document) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (project) DO UPDATE SET version = excluded.version, document = excluded.document",
            )
            .and_then(|mut statement| statement.execute(params![project, stored, json]))
            .map_err(StoreError::unavailable)?;
        self.catalogs.insert(project.clone(), Versioned { version: next, value: Arc::new(record) });
        self.catalogs_changed.insert(project);
        Ok(next)
    }

    /// Deletes every experiment and catalog and writes the replacement's:
    /// each record one version past the one it replaces under the same key
    /// (1 when there was none), each catalog likewise, and every project's
    /// generation one further, so that no write checked against the old
    /// state wins. The request is alone in its transaction.
    fn replace_all(&mut self, replacement: Replacement) -> Result<(), StoreError> {
        let Replacement { world, document, catalogs, mut experiments } = replacement;
        let mut versions: HashMap<String, u64> = HashMap::new();
        {
            let mut statement = self
                .connection
                .prepare("SELECT project, environment, key, version FROM experiments")
                .map_err(StoreError::unavailable)?;
            let rows = statement
                .query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, i64>(3)?,
                    ))
                })
                .map_err(StoreError::unavailable)?;
            for row in rows {
                let (project, environment, key, version) = row.map_err(StoreError::unavailable)?;
                let version = u64::try_from(version).map_err(StoreError::unavailable)?;
                versions.insert(cache_key(&project, &environment, &key), version);
            }
        }
        let known_catalogs = self.shared.known().catalogs.clone();
        self.orders.forget_all();
        self.connection
            .execute_batch(
                "DELETE FROM experiments; DELETE FROM plain_answers; DELETE FROM catalogs; DELETE FROM generations;",
            )
            .map_err(StoreError::unavailable)?;
        for (record, json) in &mut experiments {
            let key = cache_key(&record.project_key, &record.environment_key, record.key());
            let version = stored_version(versions.get(&key).map_or(1, |v| v.saturating_add(1)))?;
            insert_row(self.connection, record, version, json)?;
        }
        let catalogs = known_catalogs.replacement(catalogs.into_iter().map(|(record, _)| record).collect());
        for (project, catalog) in catalogs.iter() {
            let json = serde_json::to_string(catalog.value.catalog()).map_err(StoreError::unavailable)?;
            let version = stored_version(catalog.version)?;
            self.connection
                .prepare_cached("INSERT INTO catalogs (project, version, document) VALUES (?1, ?2, ?3)")
                .and_then(|mut statement| statement.execute(params![project, version, json]))
                .map_err(StoreError::unavailable)?;
        }
        for (project, generation) in catalogs.generations() {
            let generation = stored_version(generation)?;
            self.connection
                .prepare_cached("INSERT INTO generations (project, generation) VALUES (?1, ?2)")
                .and_then(|mut statement| statement.execute(params![project, generation]))
                .map_err(StoreError::unavailable)?;
        }
        save_world(self.connection, &document)?;
        self.replaced = Some(Box::new((catalogs, world)));
        Ok(())
    }

    /// Writes each record changed in the batch, once, and each generation
    /// that moved.
    fn flush(&mut self) -> rusqlite::Result<()> {
        let conversion = |err: StoreError| {
            rusqlite::Error::ToSqlConversionFailure(Box::new(std::io::Error::other(err.to_string())))
        };
        for working in self.working.values_mut().filter(|w| w.dirty) {
            let summary = Summary::of(&working.held.record().experiment);
            let (json, plain) = match working.columns.take() {
                Some(columns) => columns,
                None => (record_json(working.held.record()).map_err(conversion)?, None),
            };
            let plain = match plain {
                Some(plain) if working.plain_stale => Some(plain),
                _ if working.plain_stale => Some(
                    match &mut working.held {
                        Held::Owned(record) => plain_text(&mut record.experiment),
                        Held::Shared(record) => plain_text(&mut record.experiment.clone()),
                    }
                    .map_err(conversion)?,
                ),
                _ => None,
            };
            working.plain_stale = false;
            let version = i64::try_from(working.version)
                .map_err(|err| rusqlite::Error::ToSqlConversionFailure(Box::new(err)))?;
            let summary = (summary != working.stored).then_some(summary);
            if let Some(summary) = summary {
                working.stored = summary;
            }
            let (archived, holdout, status) = summary_columns(summary.unwrap_or(working.stored));
            // The columns that changed, and only those: `record` always,
            // the plain answer (in its own table) only when it changed.
            let changed = match summary {
                None => self
                    .connection
                    .prepare_cached(
                        "UPDATE experiments SET version = ?2, record = ?3 WHERE created_order = ?1",
                    )?
                    .execute(params![working.order, version, json])?,
                Some(_) => self
                    .connection
                    .prepare_cached(
                        "UPDATE experiments SET version = ?2, record = ?3, archived = ?4, holdout = ?5, \
                         status = ?6 WHERE created_order = ?1",
                    )?
                    .execute(params![working.order, version, json, archived, holdout, status])?,
            };
            if changed != 1 {
                return Err(rusqlite::Error::QueryReturnedNoRows);
            }
            if let Some(plain) = plain {
                let changed = self
                    .connection
                    .prepare_cached("UPDATE plain_answers SET plain = ?2 WHERE created_order = ?1")?
                    .execute(params![working.order, plain])?;
                if changed != 1 {
                    return Err(rusqlite::Error::QueryReturnedNoRows);
                }
            }
        }
        for (project, (generation, moved)) in &self.generations {
            if !moved {
                continue;
            }
            let generation = i64::try_from(*generation)
                .map_err(|err| rusqlite::Error::ToSqlConversionFailure(Box::new(err)))?;
            self.connection
                .prepare_cached(
                    "INSERT INTO generations (project, generation) VALUES (?1, ?2) \
                     ON CONFLICT (project) DO UPDATE SET generation = excluded.generation",
                )?
                .execute(params![project, generation])?;
        }
        Ok(())
    }

    /// What the batch wrote, to publish once it is committed.
    fn into_published(self) -> Published {
        let records = self
            .working
            .into_values()
            .filter(|w| w.written)
            .map(|w| {
                let record = match w.held {
                    Held::Shared(record) => record,
                    Held::Owned(record) => Arc::new(*record),
                };
                (w.order, Versioned { version: w.version, value: record })
            })
            .collect();
        let catalogs =
            self.catalogs_changed.iter().filter_map(|project| self.catalogs.get(project).cloned()).collect();
        let generations =
            self.generations.into_iter().map(|(project, (generation, _))| (project, generation)).collect();
        Published { records, catalogs, generations, world: self.world, replaced: self.replaced }
    }
}

/// Inserts a new experiment's row at `version`, `json` its record's JSON,
/// with its summary columns, and its plain answer; returns its
/// `created_order`.
fn insert_row(
    connection: &Connection,
    record: &mut ExperimentRecord,
    version: i64,
    json: &str,
) -> Result<i64, StoreError> {
    let (archived, holdout, status) = summary_columns(Summary::of(&record.experiment));
    let plain = plain_text(&mut record.experiment)?;
    let inserted = |connection: &Connection| -> rusqlite::Result<i64> {
        connection
            .prepare_cached(
                "INSERT INTO experiments (project, environment, key, version, record, archived, holdout, status) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                record.project_key,
                record.environment_key,
                record.key(),
                version,
                json,
                archived,
                holdout,
                status
            ])?;
        let order = connection.last_insert_rowid();
        connection
            .prepare_cached("INSERT INTO plain_answers (created_order, plain) VALUES (?1, ?2)")?
            .execute(params![order, plain])?;
        Ok(order)
    };
    inserted(connection).map_err(StoreError::unavailable)
}
