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
//!
//! Writes go through one writer thread that owns the only write connection.
//! It takes every request waiting on its channel, applies them in one
//! transaction, each inside its own savepoint so that a failing request fails
//! alone, commits once and only then answers each request. Concurrent writes
//! thus share one fsync (group commit), and a write's future resolves `Ok`
//! only once the write is on disk (`journal_mode=WAL`, `synchronous=FULL`).
//! Reads run on tokio's blocking threads over a small pool of connections;
//! WAL lets them proceed while the writer writes, and they only ever see
//! committed transactions.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tokio::sync::oneshot;

use super::{ExperimentRecord, Store, StoreError, StoreFuture, Versioned};
use crate::server::world::World;

/// The file in the data directory that holds the database.
const FILE_NAME: &str = "iteration.sqlite3";

/// The schema version this code reads and writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

/// How many reads run at once, each on its own connection, kept for reuse.
/// More would not read faster on a small machine; every further reader
/// costs a blocking thread and a connection with its own page cache.
const IDLE_READERS: usize = 4;

/// How long a connection waits for a lock held by another process before
/// failing with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A durable store in `<dir>/iteration.sqlite3`.
///
/// Dropping it waits for the writes already submitted to commit, then closes
/// the database.
#[derive(Debug)]
pub struct SqliteStore {
    /// `None` only while dropping, so that the writer sees the channel close.
    requests: Option<mpsc::Sender<Request>>,
    writer: Option<JoinHandle<()>>,
    readers: Arc<ReadPool>,
    /// One permit per reader: reads wait here, not in blocking threads that
    /// would each open (and then close) a connection of their own.
    read_permits: Arc<tokio::sync::Semaphore>,
    commits: Arc<AtomicU64>,
    /// Held by a test to make the writer wait before it takes its next batch.
    #[cfg(test)]
    gate: Arc<Mutex<()>>,
}

impl SqliteStore {
    /// Opens (creating when absent) the data directory `dir` and the database
    /// in it, and migrates the schema.
    ///
    /// This blocks on file IO: call it before serving, or from
    /// `tokio::task::spawn_blocking`.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(StoreError::unavailable)?;
        let path = dir.join(FILE_NAME);
        let mut connection = connect(&path).map_err(StoreError::unavailable)?;
        migrate(&mut connection)?;

        let commits = Arc::new(AtomicU64::new(0));
        #[cfg(test)]
        let gate = Arc::new(Mutex::new(()));
        let writer = Writer {
            connection,
            commits: Arc::clone(&commits),
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
            readers: Arc::new(ReadPool { path, idle: Mutex::new(Vec::new()) }),
            read_permits: Arc::new(tokio::sync::Semaphore::new(IDLE_READERS)),
            commits,
            #[cfg(test)]
            gate,
        })
    }

    /// How many transactions the writer has committed since the store was
    /// opened. Fewer than the writes made means writes shared commits.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
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

    fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'static, T> {
        let readers = Arc::clone(&self.readers);
        let permits = Arc::clone(&self.read_permits);
        Box::pin(async move {
            // The semaphore is never closed, so acquiring only waits.
            let permit = permits.acquire_owned().await.map_err(StoreError::unavailable)?;
            tokio::task::spawn_blocking(move || {
                let _permit = permit;
                readers.with_connection(read)
            })
            .await
            .map_err(StoreError::unavailable)?
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
    }
}

impl Store for SqliteStore {
    fn get(
        &self,
        project: &str,
        environment: &str,
        key: &str,
    ) -> StoreFuture<'_, Option<Versioned<ExperimentRecord>>> {
        let (project, environment, key) = (project.to_owned(), environment.to_owned(), key.to_owned());
        self.read(move |connection| {
            // Cached: every write reads first, and preparing cost as much as the read.
            let row = connection
                .prepare_cached(
                    "SELECT version, record FROM experiments WHERE project = ?1 AND environment = ?2 AND key = ?3",
                )
                .and_then(|mut statement| {
                    statement.query_row(params![project, environment, key], |row| {
                        Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
                    })
                })
                .optional()
                .map_err(StoreError::unavailable)?;
            row.map(|(version, record)| decode(version, &record)).transpose()
        })
    }

    fn list(
        &self,
        project: &str,
        environment: Option<&str>,
    ) -> StoreFuture<'_, Vec<Versioned<ExperimentRecord>>> {
        let (project, environment) = (project.to_owned(), environment.map(str::to_owned));
        self.read(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT version, record FROM experiments \
                     WHERE project = ?1 AND (?2 IS NULL OR environment = ?2) ORDER BY created_order",
                )
                .map_err(StoreError::unavailable)?;
            let rows = statement
                .query_map(params![project, environment], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
                })
                .map_err(StoreError::unavailable)?;
            rows.map(|row| {
                let (version, record) = row.map_err(StoreError::unavailable)?;
                decode(version, &record)
            })
            .collect()
        })
    }

    fn insert(&self, record: ExperimentRecord) -> StoreFuture<'_, Versioned<ExperimentRecord>> {
        let json = match serde_json::to_string(&record) {
            Ok(json) => json,
            Err(err) => return Box::pin(std::future::ready(Err(StoreError::unavailable(err)))),
        };
        self.submit(|reply| Request::Insert { record, json, reply })
    }

    fn compare_and_swap(&self, expected: u64, record: ExperimentRecord) -> StoreFuture<'_, u64> {
        let json = match serde_json::to_string(&record) {
            Ok(json) => json,
            Err(err) => return Box::pin(std::future::ready(Err(StoreError::unavailable(err)))),
        };
        self.submit(|reply| Request::Swap { expected, record, json, reply })
    }

    fn load_world(&self) -> StoreFuture<'_, Option<World>> {
        self.read(|connection| {
            let document = connection
                .query_row("SELECT document FROM world WHERE id = 1", [], |row| row.get::<_, String>(0))
                .optional()
                .map_err(StoreError::unavailable)?;
            document
                .map(|document| World::from_json(document.as_bytes()).map_err(StoreError::unavailable))
                .transpose()
        })
    }

    fn save_world(&self, world: &World) -> StoreFuture<'_, ()> {
        let document = match world.to_json() {
            Ok(document) => document,
            Err(err) => return Box::pin(std::future::ready(Err(StoreError::unavailable(err)))),
        };
        self.submit(|reply| Request::SaveWorld { document, reply })
    }
}

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    // WAL lets readers run beside the writer; FULL makes each commit wait
    // for the WAL to be synced, so an acknowledged write survives a power cut.
    let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "SQLite refused WAL mode; concurrent reads will wait for writes");
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
    transaction.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(StoreError::unavailable)?;
    transaction.commit().map_err(StoreError::unavailable)
}

fn decode(version: i64, record: &str) -> Result<Versioned<ExperimentRecord>, StoreError> {
    let version = u64::try_from(version).map_err(StoreError::unavailable)?;
    let value = serde_json::from_str(record).map_err(StoreError::unavailable)?;
    Ok(Versioned { version, value })
}

fn stored_version(version: u64) -> Result<i64, StoreError> {
    i64::try_from(version).map_err(StoreError::unavailable)
}

/// Read connections, opened on demand and reused.
#[derive(Debug)]
struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReadPool {
    fn with_connection<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // A panic while holding this lock cannot leave the list of idle
        // connections inconsistent, so a poisoned lock is still usable.
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let connection = match idle {
            Some(connection) => connection,
            None => connect(&self.path).map_err(StoreError::unavailable)?,
        };
        let result = read(&connection);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE_READERS {
            idle.push(connection);
        }
        result
    }
}

/// A write for the writer thread, with where to send its result.
#[derive(Debug)]
enum Request {
    Insert {
        record: ExperimentRecord,
        json: String,
        reply: oneshot::Sender<Result<Versioned<ExperimentRecord>, StoreError>>,
    },
    Swap {
        expected: u64,
        record: ExperimentRecord,
        json: String,
        reply: oneshot::Sender<Result<u64, StoreError>>,
    },
    SaveWorld {
        document: String,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

/// A request applied inside the open transaction, to be answered once the
/// transaction's fate is known.
enum Applied {
    // Boxed: an experiment is large, and most batches are not inserts.
    Insert(
        oneshot::Sender<Result<Versioned<ExperimentRecord>, StoreError>>,
        Box<Result<Versioned<ExperimentRecord>, StoreError>>,
    ),
    Swap(oneshot::Sender<Result<u64, StoreError>>, Result<u64, StoreError>),
    SaveWorld(oneshot::Sender<Result<(), StoreError>>, Result<(), StoreError>),
}

impl Applied {
    /// A request that never reached the database, to be failed.
    fn unapplied(request: Request) -> Applied {
        let not_run = || StoreError::unavailable("the transaction did not begin");
        match request {
            Request::Insert { reply, .. } => Applied::Insert(reply, Box::new(Err(not_run()))),
            Request::Swap { reply, .. } => Applied::Swap(reply, Err(not_run())),
            Request::SaveWorld { reply, .. } => Applied::SaveWorld(reply, Err(not_run())),
        }
    }

    /// Sends the result. A caller that gave up waiting has dropped its
    /// receiver; its write stands all the same, so a failed send is ignored.
    fn answer(self) {
        match self {
            Applied::Insert(reply, result) => drop(reply.send(*result)),
            Applied::Swap(reply, result) => drop(reply.send(result)),
            Applied::SaveWorld(reply, result) => drop(reply.send(result)),
        }
    }

    /// Answers that the transaction holding this request did not commit.
    fn fail(self, cause: &Arc<rusqlite::Error>) {
        let error = || StoreError::Unavailable(Box::new(Arc::clone(cause)));
        match self {
            Applied::Insert(reply, _) => drop(reply.send(Err(error()))),
            Applied::Swap(reply, _) => drop(reply.send(Err(error()))),
            Applied::SaveWorld(reply, _) => drop(reply.send(Err(error()))),
        }
    }
}

/// The writer thread's state: the only connection that writes.
struct Writer {
    connection: Connection,
    commits: Arc<AtomicU64>,
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
        let mut transaction = match self.connection.transaction_with_behavior(TransactionBehavior::Immediate)
        {
            Ok(transaction) => transaction,
            Err(err) => {
                let cause = Arc::new(err);
                batch.into_iter().map(Applied::unapplied).for_each(|a| a.fail(&cause));
                return;
            }
        };
        let applied: Vec<Applied> =
            batch.into_iter().map(|request| apply(&mut transaction, request)).collect();
        match transaction.commit() {
            Ok(()) => {
                self.commits.fetch_add(1, Ordering::Relaxed);
                applied.into_iter().for_each(Applied::answer);
            }
            Err(err) => {
                tracing::error!(error = %err, "SQLite commit failed");
                let cause = Arc::new(err);
                applied.into_iter().for_each(|a| a.fail(&cause));
            }
        }
    }
}

/// Applies one request inside its own savepoint: if it fails, only its
/// changes are rolled back, and the rest of the batch still commits.
fn apply(transaction: &mut rusqlite::Transaction<'_>, request: Request) -> Applied {
    match request {
        Request::Insert { record, json, reply } => {
            Applied::Insert(reply, Box::new(in_savepoint(transaction, |tx| insert(tx, record, &json))))
        }
        Request::Swap { expected, record, json, reply } => {
            Applied::Swap(reply, in_savepoint(transaction, |tx| swap(tx, expected, &record, &json)))
        }
        Request::SaveWorld { document, reply } => {
            Applied::SaveWorld(reply, in_savepoint(transaction, |tx| save_world(tx, &document)))
        }
    }
}

fn in_savepoint<T>(
    transaction: &mut rusqlite::Transaction<'_>,
    write: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let savepoint = transaction.savepoint().map_err(StoreError::unavailable)?;
    // Dropping a savepoint that was not committed rolls it back.
    let value = write(&savepoint)?;
    savepoint.commit().map_err(StoreError::unavailable)?;
    Ok(value)
}

fn insert(
    connection: &Connection,
    record: ExperimentRecord,
    json: &str,
) -> Result<Versioned<ExperimentRecord>, StoreError> {
    let (project, environment, key) = (&record.project_key, &record.environment_key, record.key());
    // The writer is the only writer, so nothing can insert between this check and the insert.
    let taken = connection
        .query_row(
            "SELECT 1 FROM experiments WHERE project = ?1 AND environment = ?2 AND key = ?3",
            params![project, environment, key],
            |_| Ok(()),
        )
        .optional()
        .map_err(StoreError::unavailable)?
        .is_some();
    if taken {
        return Err(StoreError::KeyExists {
            project: project.clone(),
            environment: environment.clone(),
            key: key.to_owned(),
        });
    }
    connection
        .execute(
            "INSERT INTO experiments (project, environment, key, version, record) VALUES (?1, ?2, ?3, 1, ?4)",
            params![project, environment, key, json],
        )
        .map_err(StoreError::unavailable)?;
    Ok(Versioned { version: 1, value: record })
}

fn swap(
    connection: &Connection,
    expected: u64,
    record: &ExperimentRecord,
    json: &str,
) -> Result<u64, StoreError> {
    let (project, environment, key) = (&record.project_key, &record.environment_key, record.key());
    let next = expected.checked_add(1).ok_or_else(|| StoreError::unavailable("version overflow"))?;
    let (expected_stored, next_stored) = (stored_version(expected)?, stored_version(next)?);
    let changed = connection
        .prepare_cached(
            "UPDATE experiments SET version = ?5, record = ?6 \
             WHERE project = ?1 AND environment = ?2 AND key = ?3 AND version = ?4",
        )
        .and_then(|mut statement| {
            statement.execute(params![project, environment, key, expected_stored, next_stored, json])
        })
        .map_err(StoreError::unavailable)?;
    if changed == 1 {
        return Ok(next);
    }
    let actual = connection
        .query_row(
            "SELECT version FROM experiments WHERE project = ?1 AND environment = ?2 AND key = ?3",
            params![project, environment, key],
            |row| row.get::<_, i64>(0),
        )
        .optional()
        .map_err(StoreError::unavailable)?;
    match actual {
        None => Err(StoreError::NotFound),
        Some(actual) => Err(StoreError::Conflict {
            expected,
            actual: u64::try_from(actual).map_err(StoreError::unavailable)?,
        }),
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
