//! A durable store in one SQLite database.
//!
//! Layout of `<dir>/iteration.sqlite3` (schema version 1, kept in
//! `PRAGMA user_version`):
//!
//! - `experiments(created_order, project, environment, key, version, record)`:
//!   one row per experiment, `record` the JSON of its [`ExperimentRecord`].
//!   `created_order` is the rowid; rows are never deleted, so it grows with
//!   each insert and orders `list`.
//! - `world(id = 1, document)`: the world, in its file format.
//! - `catalogs(project, version, document)` (since schema version 2): one
//!   row per project, `document` the JSON of its live
//!   [`ProjectCatalog`](iteration_model::ProjectCatalog).
//!
//! Writes go through one writer thread that owns the only connection. It
//! takes every request waiting on its channel, checks each against the
//! committed records plus the batch's earlier writes, applies those that pass
//! in one transaction, commits once and only then answers each request.
//! Concurrent writes thus share one fsync (group commit), and a write's
//! future resolves `Ok` only once the write is on disk (`journal_mode=WAL`,
//! `synchronous=FULL`).
//!
//! Reads never touch the database: the store keeps a copy of every committed
//! record and of the world in memory, loaded when it opens and updated by the
//! writer after each commit and before it answers. So a read sees exactly the
//! acknowledged writes, never one that might still fail. The copy is only
//! authoritative while no other process writes the database; the writer's
//! connection takes an exclusive lock (`locking_mode=EXCLUSIVE`) when the
//! store opens and holds it until the store is dropped, so a second server on
//! the same data directory fails to open instead of diverging.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use iteration_model::{ProjectCatalog, WriteJson};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tokio::sync::oneshot;

use super::records::{Catalogs, RecordKey, Records, check_catalog_guard, check_catalog_put, record_key};
use super::{
    CatalogExpectation, CatalogRecord, Edit, ExperimentRecord, Store, StoreError, StoreFuture, Versioned,
};
use crate::server::world::World;

/// The file in the data directory that holds the database.
const FILE_NAME: &str = "iteration.sqlite3";

/// The schema version this code reads and writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 2;

/// How long opening waits for a lock held by another process before failing
/// with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A durable store in `<dir>/iteration.sqlite3`.
///
/// Only one store may have a data directory open at a time, in this process
/// or another: opening a second one fails with [`StoreError::Unavailable`]
/// while the first is open. Dropping the store waits for the writes already
/// submitted to commit, then closes the database.
#[derive(Debug)]
pub struct SqliteStore {
    /// `None` only while dropping, so that the writer sees the channel close.
    requests: Option<mpsc::Sender<Request>>,
    writer: Option<JoinHandle<()>>,
    committed: Arc<Committed>,
    counts: Arc<Counts>,
    /// Held by a test to make the writer wait before it takes its next batch.
    #[cfg(test)]
    gate: Arc<Mutex<()>>,
}

/// How much the writer has done since the store opened.
#[derive(Debug, Default)]
struct Counts {
    /// Transactions committed.
    commits: AtomicU64,
    /// Writes in those transactions, whether they passed their checks or not.
    writes: AtomicU64,
}

/// What the database holds, as of the last commit.
#[derive(Debug, Default)]
struct Committed {
    state: Mutex<CommittedState>,
}

#[derive(Debug, Default)]
struct CommittedState {
    records: Records,
    catalogs: Catalogs,
    world: Option<World>,
}

impl Committed {
    fn state(&self) -> MutexGuard<'_, CommittedState> {
        // The writer changes the state only through `Records::put` and plain
        // assignments, which leave it consistent if anything panics, so a
        // poisoned lock still guards valid data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SqliteStore {
    /// Opens (creating when absent) the data directory `dir` and the database
    /// in it, migrates the schema and reads every record into memory.
    ///
    /// This blocks on file IO: call it before serving, or from
    /// `tokio::task::spawn_blocking`.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(StoreError::unavailable)?;
        let mut connection = connect(&dir.join(FILE_NAME)).map_err(StoreError::unavailable)?;
        migrate(&mut connection)?;
        let committed = Arc::new(Committed { state: Mutex::new(read_all(&connection)?) });

        let counts = Arc::new(Counts::default());
        #[cfg(test)]
        let gate = Arc::new(Mutex::new(()));
        let writer = Writer {
            connection,
            committed: Arc::clone(&committed),
            counts: Arc::clone(&counts),
            #[cfg(test)]
            gate: Arc::clone(&gate),
        };
        let (requests, receiver) = mpsc::channel();
        let writer = std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || writer.run(receiver))
            .map_err(StoreError::unavailable)?;
        Ok(SqliteStore {
            requests: Some(requests),
            writer: Some(writer),
            committed,
            counts,
            #[cfg(test)]
            gate,
        })
    }

    /// How many transactions the writer has committed since the store was
    /// opened. Fewer than the writes made means writes shared commits.
    pub fn commits(&self) -> u64 {
        self.counts.commits.load(Ordering::Relaxed)
    }

    /// How many writes those transactions held: `writes() / commits()` is
    /// the average number of writes sharing one commit.
    pub fn writes(&self) -> u64 {
        self.counts.writes.load(Ordering::Relaxed)
    }

    /// Makes the writer wait, before taking its next batch, until the guard
    /// is dropped; so a test can queue writes and know they form one batch.
    #[cfg(test)]
    pub(crate) fn hold_writer(&self) -> std::sync::MutexGuard<'_, ()> {
        self.gate.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `request` now, not when the future is first polled, so that
    /// writes are ordered by call.
    fn submit<T: Send + 'static>(
        &self,
        request: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Request,
    ) -> StoreFuture<'static, T> {
        let (reply, answer) = oneshot::channel();
        let sent = match &self.requests {
            Some(requests) => requests.send(request(reply)).is_ok(),
            None => false,
        };
        Box::pin(async move {
            if !sent {
                return Err(StoreError::unavailable("the database writer has stopped"));
            }
            answer
                .await
                .map_err(|_| StoreError::unavailable("the database writer stopped before answering"))?
        })
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Closing the channel ends the writer once it has committed what was
        // already queued, so every acknowledged write is on disk when this returns.
        drop(self.requests.take());
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::error!("the SQLite writer thread panicked");
        }
        tracing::info!(commits = self.commits(), writes = self.writes(), "closed the database");
    }
}

/// How large a record's JSON buffer starts: a new experiment's record is
/// 3-5 KiB, and growing from serde_json's default of 128 bytes copies it
/// five times over.
const RECORD_JSON_CAPACITY: usize = 8 * 1024;

/// The record as the `record` column holds it.
pub(super) fn record_json(record: &ExperimentRecord) -> Result<String, StoreError> {
    let mut json = Vec::with_capacity(RECORD_JSON_CAPACITY);
    record.write_json(&mut json);
    String::from_utf8(json).map_err(StoreError::unavailable)
}

/// The JSON of `record`, which has no draft, with `draft_json` as its
/// experiment's `draftIteration`: the record is written without it and the
/// draft's bytes go in before the experiment's closing brace. The
/// experiment is the record's last field and always has fields of its own
/// (`key`, `name`), so the JSON ends in `}}` and a comma goes first.
pub(super) fn record_json_with_draft(
    record: &ExperimentRecord,
    draft_json: &[u8],
) -> Result<String, StoreError> {
    debug_assert!(record.experiment.draft_iteration.is_none());
    let without = record_json(record)?;
    let Some(head) = without.strip_suffix("}}") else {
        return Err(StoreError::unavailable("a record's JSON does not end with its experiment"));
    };
    let draft_json = std::str::from_utf8(draft_json).map_err(StoreError::unavailable)?;
    let mut json = String::with_capacity(without.len() + draft_json.len() + 24);
    json.push_str(head);
    json.push_str(",\"draftIteration\":");
    json.push_str(draft_json);
    json.push_str("}}");
    Ok(json)
}

fn ready<'a, T: Send + 'a>(result: Result<T, StoreError>) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(result))
}

impl Store for SqliteStore {
    fn get(
        &self,
        project: &str,
        environment: &str,
        key: &str,
    ) -> StoreFuture<'_, Option<Versioned<Arc<ExperimentRecord>>>> {
        ready(Ok(self.committed.state().records.get(project, environment, key)))
    }

    fn list(
        &self,
        project: &str,
        environment: Option<&str>,
    ) -> StoreFuture<'_, Vec<Versioned<Arc<ExperimentRecord>>>> {
        ready(Ok(self.committed.state().records.list(project, environment)))
    }

    fn insert(
        &self,
        record: ExperimentRecord,
        catalog: Option<u64>,
    ) -> StoreFuture<'_, Versioned<Arc<ExperimentRecord>>> {
        let json = match record_json(&record) {
            Ok(json) => json,
            Err(err) => return ready(Err(err)),
        };
        self.submit(|reply| Request::Insert { record, json, catalog, reply })
    }

    fn compare_and_swap(
        &self,
        expected: u64,
        record: ExperimentRecord,
        catalog: Option<u64>,
    ) -> StoreFuture<'_, u64> {
        let json = match record_json(&record) {
            Ok(json) => json,
            Err(err) => return ready(Err(err)),
        };
        self.submit(|reply| Request::Swap { expected, record, json, catalog, reply })
    }

    /// Builds the new record as the default does, but for a new draft writes
    /// the record's JSON around the draft's, which is written already.
    fn apply<'a>(
        &'a self,
        project: &'a str,
        environment: &'a str,
        key: &'a str,
        expected: u64,
        edit: Edit,
        catalog: Option<u64>,
    ) -> StoreFuture<'a, u64> {
        let Some(current) = self.committed.state().records.get(project, environment, key) else {
            return ready(Err(StoreError::NotFound));
        };
        if current.version != expected {
            return ready(Err(StoreError::Conflict { expected, actual: current.version }));
        }
        // An unknown field of that name (only a program could put one there)
        // would be written twice; such a record takes the general path.
        let draft_json = match &edit {
            Edit::ReplaceDraft(replacement)
                if !current.value.experiment.extra.contains_key("draftIteration") =>
            {
                Some(replacement.json().clone())
            }
            _ => None,
        };
        let mut record = edit.applied(&current.value);
        drop(current);
        let json = match draft_json {
            Some(draft_json) => {
                // Written without the draft, whose bytes go in as they are.
                let draft = record.experiment.draft_iteration.take();
                let json = record_json_with_draft(&record, &draft_json);
                record.experiment.draft_iteration = draft;
                json
            }
            None => record_json(&record),
        };
        match json {
            Ok(json) => self.submit(|reply| Request::Swap { expected, record, json, catalog, reply }),
            Err(err) => ready(Err(err)),
        }
    }

    fn load_world(&self) -> StoreFuture<'_, Option<World>> {
        ready(Ok(self.committed.state().world.clone()))
    }

    fn catalog(&self, project: &str) -> StoreFuture<'_, Option<Versioned<Arc<CatalogRecord>>>> {
        ready(Ok(self.committed.state().catalogs.get(project)))
    }

    fn generation(&self, project: &str) -> StoreFuture<'_, u64> {
        ready(Ok(self.committed.state().catalogs.generation(project)))
    }

    fn put_catalog(&self, expected: CatalogExpectation, catalog: ProjectCatalog) -> StoreFuture<'_, u64> {
        let json = match serde_json::to_string(&catalog) {
            Ok(json) => json,
            Err(err) => return ready(Err(StoreError::unavailable(err))),
        };
        let record = Box::new(CatalogRecord::new(catalog));
        self.submit(|reply| Request::PutCatalog { expected, record, json, reply })
    }

    fn save_world(&self, world: &World) -> StoreFuture<'_, ()> {
        let document = match world.to_json() {
            Ok(document) => document,
            Err(err) => return ready(Err(StoreError::unavailable(err))),
        };
        let world = Box::new(world.clone());
        self.submit(|reply| Request::SaveWorld { world, document, reply })
    }
}

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    // The in-memory copy of the records is only right while nobody else
    // writes: hold the file's lock from the first access until closing.
    // Set before WAL is first used, this also keeps the WAL index in
    // private memory instead of a shared `-shm` file.
    connection.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
    // WAL appends each commit instead of rewriting pages in place; FULL makes
    // each commit wait for the WAL to be synced, so an acknowledged write
    // survives a power cut.
    let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "SQLite refused WAL mode; each commit rewrites pages in place");
    }
    connection.pragma_update(None, "synchronous", "FULL")?;
    Ok(connection)
}

fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::unavailable)?;
    let version: i64 = transaction
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(StoreError::unavailable)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::unavailable(format!(
            "the database has schema version {version}, newer than this program's {SCHEMA_VERSION}; \
             use a newer version of the program"
        )));
    }
    if version < 1 {
        transaction
            .execute_batch(
                "CREATE TABLE experiments (
                    created_order INTEGER PRIMARY KEY,
                    project TEXT NOT NULL,
                    environment TEXT NOT NULL,
                    key TEXT NOT NULL,
                    version INTEGER NOT NULL CHECK (version >= 1),
                    record TEXT NOT NULL,
                    UNIQUE (project, environment, key)
                );
                CREATE TABLE world (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    document TEXT NOT NULL
                );",
            )
            .map_err(StoreError::unavailable)?;
    }
    if version < 2 {
        // A database of version 1 has no catalogs: serving it seeds them
        // from the stored world, as for a new directory.
        transaction
            .execute_batch(
                "CREATE TABLE catalogs (
                    project TEXT PRIMARY KEY,
                    version INTEGER NOT NULL CHECK (version >= 1),
                    document TEXT NOT NULL
                );",
            )
            .map_err(StoreError::unavailable)?;
    }
    transaction.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(StoreError::unavailable)?;
    transaction.commit().map_err(StoreError::unavailable)
}

/// Every record, in creation order, and the world.
fn read_all(connection: &Connection) -> Result<CommittedState, StoreError> {
    let mut state = CommittedState::default();
    let mut statement = connection
        .prepare("SELECT version, record FROM experiments ORDER BY created_order")
        .map_err(StoreError::unavailable)?;
    let rows = statement
        .query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))
        .map_err(StoreError::unavailable)?;
    for row in rows {
        let (version, record) = row.map_err(StoreError::unavailable)?;
        let version = u64::try_from(version).map_err(StoreError::unavailable)?;
        let record: ExperimentRecord = serde_json::from_str(&record).map_err(StoreError::unavailable)?;
        state.records.put(version, Arc::new(record));
    }
    let mut statement =
        connection.prepare("SELECT version, document FROM catalogs").map_err(StoreError::unavailable)?;
    let rows = statement
        .query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))
        .map_err(StoreError::unavailable)?;
    for row in rows {
        let (version, document) = row.map_err(StoreError::unavailable)?;
        let version = u64::try_from(version).map_err(StoreError::unavailable)?;
        let catalog: ProjectCatalog = serde_json::from_str(&document).map_err(StoreError::unavailable)?;
        state.catalogs.put(version, Arc::new(CatalogRecord::new(catalog)));
    }
    let document = connection
        .query_row("SELECT document FROM world WHERE id = 1", [], |row| row.get::<_, String>(0))
        .optional()
        .map_err(StoreError::unavailable)?;
    state.world = document
        .map(|document| World::from_json(document.as_bytes()).map_err(StoreError::unavailable))
        .transpose()?;
    Ok(state)
}

fn stored_version(version: u64) -> Result<i64, StoreError> {
    i64::try_from(version).map_err(StoreError::unavailable)
}

/// A write for the writer thread, with where to send its result.
#[derive(Debug)]
enum Request {
    Insert {
        record: ExperimentRecord,
        json: String,
        catalog: Option<u64>,
        reply: oneshot::Sender<Result<Versioned<Arc<ExperimentRecord>>, StoreError>>,
    },
    Swap {
        expected: u64,
        record: ExperimentRecord,
        json: String,
        catalog: Option<u64>,
        reply: oneshot::Sender<Result<u64, StoreError>>,
    },
    SaveWorld {
        // Boxed: a world is large, and most requests are swaps.
        world: Box<World>,
        document: String,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    PutCatalog {
        expected: CatalogExpectation,
        // Boxed: a catalog is large, and most requests are swaps.
        record: Box<CatalogRecord>,
        json: String,
        reply: oneshot::Sender<Result<u64, StoreError>>,
    },
}

/// A record a commit replaced in the in-memory copy, dropped after the copy
/// is unlocked: dropping a large record takes time that readers need not wait for.
enum Replaced {
    // Only held to be dropped.
    Experiment(#[allow(dead_code)] Arc<ExperimentRecord>),
    Catalog(#[allow(dead_code)] Arc<CatalogRecord>),
}

/// A request applied inside the open transaction, with what to publish to
/// the in-memory copy and answer once the transaction has committed.
enum Applied {
    // Boxed: an experiment is large, and most batches are not inserts.
    Insert(
        oneshot::Sender<Result<Versioned<Arc<ExperimentRecord>>, StoreError>>,
        Box<Result<Versioned<Arc<ExperimentRecord>>, StoreError>>,
    ),
    /// The record to publish is `Some` exactly when the swap succeeded.
    Swap(oneshot::Sender<Result<u64, StoreError>>, Result<u64, StoreError>, Option<Arc<ExperimentRecord>>),
    /// The world to publish is `Some` exactly when the save succeeded.
    SaveWorld(oneshot::Sender<Result<(), StoreError>>, Result<(), StoreError>, Option<Box<World>>),
    /// The catalog to publish is `Some` exactly when the put succeeded.
    PutCatalog(oneshot::Sender<Result<u64, StoreError>>, Result<u64, StoreError>, Option<Box<CatalogRecord>>),
}

impl Applied {
    /// A request that never reached the database, to be failed.
    fn unapplied(request: Request) -> Applied {
        let not_run = || StoreError::unavailable("the transaction did not begin or was rolled back");
        match request {
            Request::Insert { reply, .. } => Applied::Insert(reply, Box::new(Err(not_run()))),
            Request::Swap { reply, .. } => Applied::Swap(reply, Err(not_run()), None),
            Request::SaveWorld { reply, .. } => Applied::SaveWorld(reply, Err(not_run()), None),
            Request::PutCatalog { reply, .. } => Applied::PutCatalog(reply, Err(not_run()), None),
        }
    }

    /// Puts the committed write into the in-memory state, and returns the
    /// record it replaced, to be dropped once the state is unlocked.
    fn publish(&mut self, state: &mut CommittedState) -> Option<Replaced> {
        match self {
            Applied::Insert(_, result) => {
                let inserted = result.as_ref().as_ref().ok()?;
                state.catalogs.bump(&inserted.value.project_key);
                state.records.put(inserted.version, Arc::clone(&inserted.value)).map(Replaced::Experiment)
            }
            Applied::Swap(_, result, record) => match (result, record.take()) {
                (Ok(version), Some(record)) => {
                    state.catalogs.bump(&record.project_key);
                    state.records.put(*version, record).map(Replaced::Experiment)
                }
                _ => None,
            },
            Applied::SaveWorld(_, _, world) => {
                if let Some(world) = world.take() {
                    state.world = Some(*world);
                }
                None
            }
            Applied::PutCatalog(_, result, record) => match (result, record.take()) {
                (Ok(version), Some(record)) => {
                    state.catalogs.put(*version, Arc::new(*record)).map(Replaced::Catalog)
                }
                _ => None,
            },
        }
    }

    /// Sends the result. A caller that gave up waiting has dropped its
    /// receiver; its write stands all the same, so a failed send is ignored.
    fn answer(self) {
        match self {
            Applied::Insert(reply, result) => drop(reply.send(*result)),
            Applied::Swap(reply, result, _) => drop(reply.send(result)),
            Applied::SaveWorld(reply, result, _) => drop(reply.send(result)),
            Applied::PutCatalog(reply, result, _) => drop(reply.send(result)),
        }
    }

    /// Answers that the transaction holding this request did not commit.
    fn fail(self, cause: &Arc<rusqlite::Error>) {
        let error = || StoreError::Unavailable(Box::new(Arc::clone(cause)));
        match self {
            Applied::Insert(reply, _) => drop(reply.send(Err(error()))),
            Applied::Swap(reply, ..) => drop(reply.send(Err(error()))),
            Applied::SaveWorld(reply, ..) => drop(reply.send(Err(error()))),
            Applied::PutCatalog(reply, ..) => drop(reply.send(Err(error()))),
        }
    }
}

/// The writer thread's state: the only connection.
struct Writer {
    connection: Connection,
    committed: Arc<Committed>,
    counts: Arc<Counts>,
    #[cfg(test)]
    gate: Arc<Mutex<()>>,
}

impl Writer {
    fn run(mut self, requests: mpsc::Receiver<Request>) {
        while let Ok(first) = requests.recv() {
            #[cfg(test)]
            let gate = Arc::clone(&self.gate);
            #[cfg(test)]
            let _held = gate.lock().unwrap_or_else(PoisonError::into_inner);
            let mut batch = vec![first];
            batch.extend(requests.try_iter());
            self.commit_batch(batch);
        }
    }

    fn commit_batch(&mut self, batch: Vec<Request>) {
        let transaction = match self.connection.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(transaction) => transaction,
            Err(err) => {
                let cause = Arc::new(err);
                batch.into_iter().map(Applied::unapplied).for_each(|a| a.fail(&cause));
                return;
            }
        };
        let mut batched = Batch {
            committed: &self.committed,
            versions: HashMap::new(),
            catalog_versions: HashMap::new(),
            generations: HashMap::new(),
        };
        let mut applied: Vec<Applied> =
            batch.into_iter().map(|request| batched.apply(&transaction, request)).collect();
        match transaction.commit() {
            Ok(()) => {
                self.counts.commits.fetch_add(1, Ordering::Relaxed);
                self.counts.writes.fetch_add(applied.len() as u64, Ordering::Relaxed);
                let replaced: Vec<_> = {
                    let mut state = self.committed.state();
                    applied.iter_mut().filter_map(|a| a.publish(&mut state)).collect()
                };
                applied.into_iter().for_each(Applied::answer);
                drop(replaced);
            }
            Err(err) => {
                tracing::error!(error = %err, "SQLite commit failed");
                let cause = Arc::new(err);
                applied.into_iter().for_each(|a| a.fail(&cause));
            }
        }
    }
}

/// The writes of one transaction so far, checked against the committed
/// records plus the batch's earlier writes.
struct Batch<'a> {
    committed: &'a Committed,
    /// The version each record written in this batch is at, inside the batch.
    versions: HashMap<RecordKey, u64>,
    /// The version each catalog written in this batch is at, inside the batch.
    catalog_versions: HashMap<String, u64>,
    /// How many experiment writes each project has seen, inside the batch.
    generations: HashMap<String, u64>,
}

impl Batch<'_> {
    /// The version `key` is at inside the batch, if it exists.
    fn version(&self, key: &RecordKey) -> Option<u64> {
        self.versions.get(key).copied().or_else(|| self.committed.state().records.version(key))
    }

    /// The version the catalog of `project` is at inside the batch.
    fn catalog_version(&self, project: &str) -> u64 {
        self.catalog_versions
            .get(project)
            .copied()
            .unwrap_or_else(|| self.committed.state().catalogs.version(project))
    }

    /// The generation of `project` inside the batch.
    fn generation(&self, project: &str) -> u64 {
        self.generations
            .get(project)
            .copied()
            .unwrap_or_else(|| self.committed.state().catalogs.generation(project))
    }

    /// Counts an experiment write of `project` inside the batch.
    fn bump(&mut self, project: &str) {
        let next = self.generation(project) + 1;
        self.generations.insert(project.to_owned(), next);
    }

    /// Checks `request` and, when it passes, writes it. A check that fails
    /// writes nothing, and each write is one statement, which SQLite applies
    /// whole or not at all; so a failing request fails alone and the rest of
    /// the batch still commits.
    fn apply(&mut self, connection: &Connection, request: Request) -> Applied {
        // Some errors (a full disk, an IO error) make SQLite roll back the
        // whole transaction; later statements would then each commit on
        // their own, unannounced. Fail them instead, as the commit will.
        if connection.is_autocommit() {
            return Applied::unapplied(request);
        }
        match request {
            Request::Insert { record, json, catalog, reply } => {
                let result = check_catalog_guard(self.catalog_version(&record.project_key), catalog)
                    .and_then(|()| self.insert(connection, &record, &json))
                    .map(|()| Versioned { version: 1, value: Arc::new(record) });
                Applied::Insert(reply, Box::new(result))
            }
            Request::Swap { expected, record, json, catalog, reply } => {
                let checked = check_catalog_guard(self.catalog_version(&record.project_key), catalog);
                match checked.and_then(|()| self.swap(connection, expected, &record, &json)) {
                    Ok(next) => Applied::Swap(reply, Ok(next), Some(Arc::new(record))),
                    Err(err) => Applied::Swap(reply, Err(err), None),
                }
            }
            Request::SaveWorld { world, document, reply } => match save_world(connection, &document) {
                Ok(()) => Applied::SaveWorld(reply, Ok(()), Some(world)),
                Err(err) => Applied::SaveWorld(reply, Err(err), None),
            },
            Request::PutCatalog { expected, record, json, reply } => {
                match self.put_catalog(connection, expected, record.project(), &json) {
                    Ok(next) => Applied::PutCatalog(reply, Ok(next), Some(record)),
                    Err(err) => Applied::PutCatalog(reply, Err(err), None),
                }
            }
        }
    }

    fn put_catalog(
        &mut self,
        connection: &Connection,
        expected: CatalogExpectation,
        project: &str,
        json: &str,
    ) -> Result<u64, StoreError> {
        let next = check_catalog_put(self.catalog_version(project), self.generation(project), expected)?;
        let stored = stored_version(next)?;
        connection
            .prepare_cached(
                "INSERT INTO catalogs (project, version, document) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (project) DO UPDATE SET version = excluded.version, document = excluded.document",
            )
            .and_then(|mut statement| statement.execute(params![project, stored, json]))
            .map_err(StoreError::unavailable)?;
        self.catalog_versions.insert(project.to_owned(), next);
        Ok(next)
    }

    fn insert(
        &mut self,
        connection: &Connection,
        record: &ExperimentRecord,
        json: &str,
    ) -> Result<(), StoreError> {
        let key = record_key(record);
        if self.version(&key).is_some() {
            let (project, environment, key) = key;
            return Err(StoreError::KeyExists { project, environment, key });
        }
        connection
            .prepare_cached(
                "INSERT INTO experiments (project, environment, key, version, record) VALUES (?1, ?2, ?3, 1, ?4)",
            )
            .and_then(|mut statement| statement.execute(params![key.0, key.1, key.2, json]))
            .map_err(StoreError::unavailable)?;
        self.bump(&key.0);
        self.versions.insert(key, 1);
        Ok(())
    }

    fn swap(
        &mut self,
        connection: &Connection,
        expected: u64,
        record: &ExperimentRecord,
        json: &str,
    ) -> Result<u64, StoreError> {
        let key = record_key(record);
        let actual = self.version(&key).ok_or(StoreError::NotFound)?;
        if actual != expected {
            return Err(StoreError::Conflict { expected, actual });
        }
        let next = expected.checked_add(1).ok_or_else(|| StoreError::unavailable("version overflow"))?;
        let next_stored = stored_version(next)?;
        let changed = connection
            .prepare_cached("UPDATE experiments SET version = ?4, record = ?5 WHERE project = ?1 AND environment = ?2 AND key = ?3")
            .and_then(|mut statement| {
                statement.execute(params![key.0, key.1, key.2, next_stored, json])
            })
            .map_err(StoreError::unavailable)?;
        // The exclusive lock means only this connection writes the file, so
        // the row is where the in-memory copy says.
        if changed != 1 {
            return Err(StoreError::unavailable("the database lost a record the store holds"));
        }
        self.bump(&key.0);
        self.versions.insert(key, next);
        Ok(next)
    }
}

fn save_world(connection: &Connection, document: &str) -> Result<(), StoreError> {
    connection
        .execute(
            "INSERT INTO world (id, document) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET document = excluded.document",
            params![document],
        )
        .map_err(StoreError::unavailable)?;
    Ok(())
}
