//! A durable store in one SQLite database.
//!
//! Layout of `<dir>/iteration.sqlite3` (schema version 4, kept in
//! `PRAGMA user_version`; see `schema.rs`):
//!
//! - `experiments(created_order, project, environment, key, version,
//!   archived, holdout, status, record)`: one row per experiment, `record`
//!   the JSON of its [`ExperimentRecord`], the three before it its
//!   [`Summary`]. `created_order` is the rowid; rows are never deleted
//!   except by [`Store::replace_all`], so it orders `list`. The index
//!   `experiments_listing` holds every column a list selects by.
//! - `plain_answers(created_order, plain)`: each experiment as a read
//!   without `expand` answers it, so that gets and list pages parse
//!   nothing. It has a table of its own because SQLite rewrites a changed
//!   row whole: most writes (a new draft) do not change it.
//! - `catalogs(project, version, document)`: one row per project, its live
//!   [`ProjectCatalog`](iteration_model::ProjectCatalog) as JSON.
//! - `generations(project, generation)`: how many experiment writes each
//!   project has seen (see [`Store::generation`]).
//! - `world(id = 1, document)`: the world, in its file format.
//!
//! **Writes** go through one writer thread (`writer.rs`), which owns the
//! only connection that writes. It takes every request waiting on its
//! channel and applies them in order in one transaction, each checked
//! against the database as the transaction sees it plus the batch's earlier
//! requests. A [`Store::update`] has its change decide against the
//! experiment as it is then, so writes to one experiment queue behind each
//! other instead of failing; the record is written once per batch however
//! many changes it took. The writer commits once and only then answers:
//! concurrent writes share one fsync (group commit), and a write's future
//! resolves `Ok` only once the write is on disk (`journal_mode=WAL`,
//! `synchronous=FULL`).
//!
//! **Reads** are answered from memory where the store keeps it, and from
//! the database otherwise: every catalog, each project's generation and
//! the world are few and small and always in memory (opening reads them
//! and nothing else); experiments are in a bounded cache of recently used
//! records (`cache.rs`) that each commit updates before it is answered,
//! and read from the database (a small pool of read-only connections) on a
//! miss. A list page is selected from a per-project index of creation
//! order and summary, built on the project's first list, and only the
//! page's records are read. So memory does not grow with the number of
//! experiments beyond the index (about 24 bytes each, for listed projects).
//!
//! **Several processes.** Correctness does not rest on this process being
//! the only one: every check a write makes reads the database inside the
//! write's transaction (the catalog's version, the project's generation,
//! the experiment's version), and the cache is only used for a record
//! whose version the database confirms. Another process's writes reach
//! this one's reads once the cached record is evicted, so a data directory
//! is still locked (`iteration.lock`) against a second server: it would
//! serve stale reads, not lose writes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};
use std::thread::JoinHandle;

use bytes::Bytes;
use iteration_model::{ProjectCatalog, WriteJson};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::oneshot;

use super::records::Catalogs;
use super::{
    CatalogExpectation, CatalogRecord, Change, Decision, Edit, ExperimentRecord, Page, PageQuery, Settled,
    Store, StoreError, StoreFuture, Versioned,
};
use crate::server::world::World;

mod cache;
mod schema;
mod writer;

use cache::{Cache, Evicted, Listing, cache_key};
use writer::{Prepared, Published, Replacement, Request, Writer};

/// The file in the data directory that holds the database.
const FILE_NAME: &str = "iteration.sqlite3";

/// The file in the data directory a running store holds locked.
const LOCK_FILE_NAME: &str = "iteration.lock";

/// How many idle read connections the store keeps open.
const IDLE_READERS: usize = 4;

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
    shared: Arc<Shared>,
    /// Holds the data directory's lock while the store is open (in a mutex
    /// only so that the store is `Sync`; nothing uses it).
    _lock: Mutex<Connection>,
    /// Held by a test to make the writer wait before it takes its next batch.
    #[cfg(test)]
    gate: Arc<Mutex<()>>,
}

/// What the store's handles and its writer share.
#[derive(Debug)]
struct Shared {
    path: PathBuf,
    cache: Mutex<Cache>,
    /// The listing index of each project that has been listed.
    listings: Mutex<HashMap<String, Listing>>,
    known: Mutex<Known>,
    readers: Mutex<Vec<Connection>>,
    counts: Counts,
}

/// What the store always keeps in memory, as of the last commit.
#[derive(Debug, Default)]
struct Known {
    catalogs: Catalogs,
    world: Option<World>,
}

/// How much the writer has done since the store opened.
#[derive(Debug, Default)]
struct Counts {
    /// Transactions committed.
    commits: AtomicU64,
    /// Writes in those transactions, whether they passed their checks or not.
    writes: AtomicU64,
}

/// Every lock here guards data that each holder leaves consistent before
/// anything that could panic runs, so a poisoned lock still guards valid
/// data.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn known(&self) -> MutexGuard<'_, Known> {
        lock(&self.known)
    }

    /// The cached record at `key`, if any.
    fn cached(&self, key: &str) -> Option<Versioned<Arc<ExperimentRecord>>> {
        let (found, evicted) = lock(&self.cache).get(key);
        drop(evicted);
        found
    }

    /// Runs `read` on an idle read connection (opening one if none is idle).
    ///
    /// Reads run on the calling thread: each is a lookup by key or rowid, or
    /// a scan of one project's index, short enough not to need a thread of
    /// its own.
    fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let idle = lock(&self.readers).pop();
        let connection = match idle {
            Some(connection) => connection,
            None => schema::connect_reader(&self.path).map_err(StoreError::unavailable)?,
        };
        let result = read(&connection);
        let mut readers = lock(&self.readers);
        if readers.len() < IDLE_READERS {
            readers.push(connection);
        }
        result
    }

    /// Makes what a commit wrote visible to reads, before it is answered.
    /// Returns the records it replaced in the cache, for the writer to drop
    /// once it has answered: freeing them is work no answer waits for.
    fn publish(&self, published: Published) -> Evicted {
        let Published { records, catalogs, generations, world, replaced } = published;
        if let Some(replaced) = replaced {
            let (catalogs, world) = *replaced;
            let cleared = lock(&self.cache).clear();
            let listings = std::mem::take(&mut *lock(&self.listings));
            *self.known() = Known { catalogs, world: Some(world) };
            drop(listings);
            return cleared;
        }
        {
            let mut listings = lock(&self.listings);
            for (order, record) in &records {
                if let Some(listing) = listings.get_mut(&record.value.project_key) {
                    listing.set(
                        *order,
                        &record.value.environment_key,
                        super::Summary::of(&record.value.experiment),
                    );
                }
            }
        }
        {
            let mut known = self.known();
            for catalog in catalogs {
                known.catalogs.put(catalog.version, catalog.value);
            }
            for (project, generation) in generations {
                known.catalogs.set_generation(&project, generation);
            }
            if let Some(world) = world {
                known.world = Some(world);
            }
        }
        let mut evicted = Evicted::new();
        let mut cache = lock(&self.cache);
        for (_, record) in records {
            let key = cache_key(&record.value.project_key, &record.value.environment_key, record.value.key());
            evicted.extend(cache.publish(key, record));
        }
        cache.published_one();
        evicted
    }
}

impl SqliteStore {
    /// How many experiment records the cache holds unless told otherwise:
    /// enough for every hot record of a busy test suite or load test, about
    /// 20 MiB for records of the demo world's size.
    pub const DEFAULT_CACHE_RECORDS: usize = 4096;

    /// Opens (creating when absent) the data directory `dir` and the database
    /// in it, with a cache of [`SqliteStore::DEFAULT_CACHE_RECORDS`].
    ///
    /// This blocks on file IO: call it before serving, or from
    /// `tokio::task::spawn_blocking`.
    ///
    /// A file that is there but empty (0 bytes), or a database that this
    /// program did not write, is refused with an error that says so: serving
    /// would otherwise seed a fresh world over it and hide the mistake (a
    /// truncated copy, a wrong directory).
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with_cache(dir, SqliteStore::DEFAULT_CACHE_RECORDS)
    }

    /// Opens `dir` as [`SqliteStore::open`] does, with a cache of at most
    /// `cache_records` experiment records (0: none; every read goes to the
    /// database). Opening reads the catalogs and the world, not the
    /// experiments, so it takes as long for a million experiments as for one.
    pub fn open_with_cache(dir: &Path, cache_records: usize) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(StoreError::unavailable)?;
        let lock_file = lock_directory(dir)?;
        let path = dir.join(FILE_NAME);
        schema::refuse_empty_file(&path)?;
        let mut connection = schema::connect(&path).map_err(|err| schema::foreign_or(&path, err))?;
        schema::migrate(&mut connection)?;
        let (catalogs, world) = schema::read_known(&connection)?;

        let shared = Arc::new(Shared {
            path,
            cache: Mutex::new(Cache::new(cache_records)),
            listings: Mutex::new(HashMap::new()),
            known: Mutex::new(Known { catalogs, world }),
            readers: Mutex::new(Vec::new()),
            counts: Counts::default(),
        });
        #[cfg(test)]
        let gate = Arc::new(Mutex::new(()));
        let writer = Writer {
            connection,
            shared: Arc::clone(&shared),
            orders: Default::default(),
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
            shared,
            _lock: Mutex::new(lock_file),
            #[cfg(test)]
            gate,
        })
    }

    /// How many transactions the writer has committed since the store was
    /// opened. Fewer than the writes made means writes shared commits.
    pub fn commits(&self) -> u64 {
        self.shared.counts.commits.load(Ordering::Relaxed)
    }

    /// How many writes those transactions held: `writes() / commits()` is
    /// the average number of writes sharing one commit.
    pub fn writes(&self) -> u64 {
        self.shared.counts.writes.load(Ordering::Relaxed)
    }

    /// Makes the writer wait, before taking its next batch, until the guard
    /// is dropped; so a test can queue writes and know they form one batch.
    #[cfg(test)]
    pub(crate) fn hold_writer(&self) -> MutexGuard<'_, ()> {
        lock(&self.gate)
    }

    /// Queues `request` now, not when the future is first polled, so that
    /// writes are ordered by call.
    fn submit<T: Send + 'static>(
        &self,
        request: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Request,
    ) -> StoreFuture<'static, T> {
        self.submit_keeping((), request)
    }

    /// [`SqliteStore::submit`], holding `keep` until the answer arrives:
    /// for a record the write replaces, so that its last reference is the
    /// caller's and it is freed on the caller's thread, not in the writer
    /// thread that every write waits for.
    fn submit_keeping<T: Send + 'static, K: Send + 'static>(
        &self,
        keep: K,
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
            let answered = answer
                .await
                .map_err(|_| StoreError::unavailable("the database writer stopped before answering"))?;
            drop(keep);
            answered
        })
    }

    /// The experiment at `key`, from the cache or else the database.
    fn get_now(
        &self,
        project: &str,
        environment: &str,
        key: &str,
    ) -> Result<Option<Versioned<Arc<ExperimentRecord>>>, StoreError> {
        let cache_key = cache_key(project, environment, key);
        if let Some(found) = self.shared.cached(&cache_key) {
            return Ok(Some(found));
        }
        let published = lock(&self.shared.cache).published();
        let row: Option<(i64, String)> = self.shared.read(|connection| {
            connection
                .prepare_cached(
                    "SELECT version, record FROM experiments WHERE project = ?1 AND environment = ?2 AND key = ?3",
                )
                .and_then(|mut statement| {
                    statement.query_row(params![project, environment, key], |row| Ok((row.get(0)?, row.get(1)?))).optional()
                })
                .map_err(StoreError::unavailable)
        })?;
        let Some((version, json)) = row else { return Ok(None) };
        let record = parse_row(version, &json)?;
        let evicted = lock(&self.shared.cache).offer(published, cache_key, record.clone());
        drop(evicted);
        Ok(Some(record))
    }

    /// The plain answer of experiment `key`.
    fn get_plain_now(
        &self,
        project: &str,
        environment: &str,
        key: &str,
    ) -> Result<Option<Versioned<Bytes>>, StoreError> {
        let row: Option<(i64, String)> = self.shared.read(|connection| {
            connection
                .prepare_cached(
                    "SELECT version, plain FROM experiments JOIN plain_answers USING (created_order) \
                     WHERE project = ?1 AND environment = ?2 AND key = ?3",
                )
                .and_then(|mut statement| {
                    statement
                        .query_row(params![project, environment, key], |row| Ok((row.get(0)?, row.get(1)?)))
                        .optional()
                })
                .map_err(StoreError::unavailable)
        })?;
        row.map(|(version, plain)| {
            Ok(Versioned {
                version: u64::try_from(version).map_err(StoreError::unavailable)?,
                value: Bytes::from(plain),
            })
        })
        .transpose()
    }

    /// The change's own decision applied to the cached record it was made
    /// on, with both columns written, when the cache holds that version;
    /// otherwise the decision stays with the change, for the writer. With
    /// it, the record it replaces, for the caller to hold until answered.
    fn prepare(
        &self,
        project: &str,
        environment: &str,
        key: &str,
        change: &mut Change,
    ) -> Option<(Box<Prepared>, Arc<ExperimentRecord>)> {
        let (version, catalog, decision) = change.take_decided()?;
        let cached =
            self.shared.cached(&cache_key(project, environment, key)).filter(|c| c.version == version);
        let (cached, edit, answer) = match (cached, decision) {
            (Some(cached), Decision::Write { edit, answer }) => (cached, edit, answer),
            (_, decision) => {
                // Left with the change for the writer, which reads the record itself.
                change.decided = Some((version, catalog, decision));
                return None;
            }
        };
        // The new draft's JSON, written once already for the answer.
        let draft_json = match &edit {
            Edit::ReplaceDraft(replacement) => Some(replacement.json().clone()),
            Edit::With(_) => None,
        };
        let changes_plain = edit.changes_plain();
        let mut record = Box::new(edit.applied(&cached.value));
        let json = match draft_json {
            Some(draft_json) => record_json_with_draft(&mut record, &draft_json),
            None => record_json(&record),
        }
        .ok()?;
        let plain = if changes_plain { Some(schema::plain_text(&mut record.experiment).ok()?) } else { None };
        Some((Box::new(Prepared { version, catalog, record, json, plain, answer }), cached.value))
    }

    /// Every experiment of `project` (of `environment` when given), read
    /// from the database, in creation order.
    fn list_now(
        &self,
        project: &str,
        environment: Option<&str>,
    ) -> Result<Vec<Versioned<Arc<ExperimentRecord>>>, StoreError> {
        self.shared.read(|connection| {
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
                let (version, json) = row.map_err(StoreError::unavailable)?;
                parse_row(version, &json)
            })
            .collect()
        })
    }

    /// The page `query` selects, from every record of the project: for a
    /// query with a [`PageQuery::keep`], which only a whole record answers.
    fn page_of_whole_list(&self, project: &str, query: &PageQuery<'_>) -> Result<Page, StoreError> {
        self.list_now(project, query.environment).map(|listed| Page::of(listed, query))
    }

    /// The page `query` selects, from the project's listing index (built
    /// now if this is the project's first list) and the page's rows, each
    /// read by `select` (a version and a text for `?1`, the row's
    /// `created_order`).
    fn page_now<T>(
        &self,
        project: &str,
        query: &PageQuery<'_>,
        select: &str,
        item: impl Fn(i64, String) -> Result<T, StoreError>,
    ) -> Result<Page<T>, StoreError> {
        let (orders, total) = {
            let mut listings = lock(&self.shared.listings);
            if !listings.contains_key(project) {
                // Built while holding the lock, so that no commit is
                // published into the listings between the scan and the
                // insert: one that committed before the scan began is in
                // the scan, one after waits for the lock and is applied.
                let listing = self.shared.read(|connection| build_listing(connection, project))?;
                listings.insert(project.to_owned(), listing);
            }
            listings[project].page(query)
        };
        let items = self.shared.read(|connection| {
            let mut statement = connection.prepare_cached(select).map_err(StoreError::unavailable)?;
            let mut items = Vec::with_capacity(orders.len());
            for order in orders {
                // A row replaced since the index was read is skipped.
                let row: Option<(i64, String)> = statement
                    .query_row(params![order], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
                    .map_err(StoreError::unavailable)?;
                if let Some((version, json)) = row {
                    items.push(item(version, json)?);
                }
            }
            Ok(items)
        })?;
        Ok(Page { items, total })
    }
}

/// An experiment's version and record, by `created_order`.
const SELECT_RECORD: &str = "SELECT version, record FROM experiments WHERE created_order = ?1";

/// An experiment's version and plain answer, by `created_order`.
const SELECT_PLAIN: &str = "SELECT version, plain FROM experiments JOIN plain_answers USING (created_order) WHERE created_order = ?1";

/// A row's version and record.
fn parse_row(version: i64, json: &str) -> Result<Versioned<Arc<ExperimentRecord>>, StoreError> {
    let version = u64::try_from(version).map_err(StoreError::unavailable)?;
    let record: ExperimentRecord = serde_json::from_str(json).map_err(StoreError::unavailable)?;
    Ok(Versioned { version, value: Arc::new(record) })
}

/// The listing index of `project`, from the database's.
fn build_listing(connection: &Connection, project: &str) -> Result<Listing, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT created_order, environment, archived, holdout, status FROM experiments \
             INDEXED BY experiments_listing WHERE project = ?1 ORDER BY created_order",
        )
        .map_err(StoreError::unavailable)?;
    let rows = statement
        .query_map(params![project], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, bool>(2)?,
                row.get::<_, bool>(3)?,
                row.get::<_, i64>(4)?,
            ))
        })
        .map_err(StoreError::unavailable)?;
    let mut listing = Listing::default();
    for row in rows {
        let (order, environment, archived, holdout, status) = row.map_err(StoreError::unavailable)?;
        listing.set(order, &environment, schema::summary_from_columns(archived, holdout, status));
    }
    Ok(listing)
}

/// Takes the data directory's lock, or fails when another store holds it.
///
/// The lock is a small SQLite database of its own, held by a connection in
/// exclusive locking mode, which keeps the exclusive lock its first write
/// transaction took until the connection closes (when the store is dropped,
/// or the process ends however it ends). A second store's attempt fails at
/// once.
fn lock_directory(dir: &Path) -> Result<Connection, StoreError> {
    let held = |err: rusqlite::Error| {
        if err.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) {
            return StoreError::unavailable(format!(
                "the data directory {} is in use by another server (database is locked)",
                dir.display()
            ));
        }
        StoreError::unavailable(err)
    };
    let connection = Connection::open(dir.join(LOCK_FILE_NAME)).map_err(held)?;
    connection.pragma_update(None, "locking_mode", "EXCLUSIVE").map_err(held)?;
    connection.execute_batch("BEGIN EXCLUSIVE; COMMIT;").map_err(held)?;
    Ok(connection)
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

/// [`record_json`] of a record whose draft is `draft_json` already: the
/// draft, most of a new experiment's record, is not written again. It goes
/// last in the experiment's object instead of in its usual place, which
/// reads back the same (a JSON object's members have no order).
pub(super) fn record_json_with_draft(
    record: &mut ExperimentRecord,
    draft_json: &[u8],
) -> Result<String, StoreError> {
    let draft = record.experiment.draft_iteration.take();
    let mut json = Vec::with_capacity(RECORD_JSON_CAPACITY);
    record.write_json(&mut json);
    record.experiment.draft_iteration = draft;
    // The record ends with the experiment's `}` and its own; the
    // experiment's object is never empty (it has a key at least).
    if !json.ends_with(b"}}") {
        return Err(StoreError::unavailable("a record's JSON does not end its experiment's object"));
    }
    json.truncate(json.len() - 2);
    json.extend_from_slice(b",\"draftIteration\":");
    json.extend_from_slice(draft_json);
    json.extend_from_slice(b"}}");
    String::from_utf8(json).map_err(StoreError::unavailable)
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
        ready(self.get_now(project, environment, key))
    }

    fn list(
        &self,
        project: &str,
        environment: Option<&str>,
    ) -> StoreFuture<'_, Vec<Versioned<Arc<ExperimentRecord>>>> {
        ready(self.list_now(project, environment))
    }

    fn page<'a>(&'a self, project: &'a str, query: PageQuery<'a>) -> StoreFuture<'a, Page> {
        if query.keep.is_some() {
            return ready(self.page_of_whole_list(project, &query));
        }
        ready(self.page_now(project, &query, SELECT_RECORD, |version, json| parse_row(version, &json)))
    }

    fn get_plain<'a>(
        &'a self,
        project: &'a str,
        environment: &'a str,
        key: &'a str,
    ) -> StoreFuture<'a, Option<Versioned<Bytes>>> {
        ready(self.get_plain_now(project, environment, key))
    }

    fn page_plain<'a>(&'a self, project: &'a str, query: PageQuery<'a>) -> StoreFuture<'a, Page<Bytes>> {
        if query.keep.is_some() {
            return ready(self.page_of_whole_list(project, &query).map(|page| page.plain()));
        }
        ready(self.page_now(project, &query, SELECT_PLAIN, |_, plain| Ok(Bytes::from(plain))))
    }

    fn insert(
        &self,
        record: ExperimentRecord,
        catalog: Option<u64>,
    ) -> StoreFuture<'_, Versioned<Arc<ExperimentRecord>>> {
        self.submit(|reply| Request::Insert { record, catalog, reply })
    }

    fn compare_and_swap(
        &self,
        expected: u64,
        record: ExperimentRecord,
        catalog: Option<u64>,
    ) -> StoreFuture<'_, u64> {
        self.submit(|reply| Request::Swap { expected, record, catalog, reply })
    }

    fn update<'a>(
        &'a self,
        project: &'a str,
        environment: &'a str,
        key: &'a str,
        change: Change,
    ) -> StoreFuture<'a, Settled> {
        let mut change = change;
        let (prepared, replaced) = self.prepare(project, environment, key, &mut change).unzip();
        let (project, environment, key) = (project.to_owned(), environment.to_owned(), key.to_owned());
        self.submit_keeping(replaced, |reply| Request::Update {
            project,
            environment,
            key,
            change,
            prepared,
            reply,
        })
    }

    fn load_world(&self) -> StoreFuture<'_, Option<World>> {
        ready(Ok(self.shared.known().world.clone()))
    }

    fn catalog(&self, project: &str) -> StoreFuture<'_, Option<Versioned<Arc<CatalogRecord>>>> {
        ready(Ok(self.shared.known().catalogs.get(project)))
    }

    fn generation(&self, project: &str) -> StoreFuture<'_, u64> {
        ready(Ok(self.shared.known().catalogs.generation(project)))
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

    fn replace_all(&self, world: &World) -> StoreFuture<'_, ()> {
        let written = (|| {
            let document = world.to_json().map_err(StoreError::unavailable)?;
            let catalogs = world
                .seed_catalogs()
                .into_iter()
                .map(|catalog| {
                    let json = serde_json::to_string(&catalog).map_err(StoreError::unavailable)?;
                    Ok((CatalogRecord::new(catalog), json))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let experiments = world
                .seed_experiments()
                .into_iter()
                .map(|record| record_json(&record).map(|json| (record, json)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok((document, catalogs, experiments))
        })();
        match written {
            Ok((document, catalogs, experiments)) => {
                let replacement =
                    Box::new(Replacement { world: world.clone(), document, catalogs, experiments });
                self.submit(|reply| Request::ReplaceAll { replacement, reply })
            }
            Err(err) => ready(Err(err)),
        }
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        ready(self.shared.read(|connection| {
            connection.query_row("SELECT 1", [], |_| Ok(())).map_err(StoreError::unavailable)
        }))
    }
}
