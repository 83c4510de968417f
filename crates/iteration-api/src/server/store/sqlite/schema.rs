//! The database's layout, opening it, and moving it to the current schema.

use std::path::Path;
use std::time::Duration;

use iteration_model::ProjectCatalog;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::super::records::Catalogs;
use super::super::{CatalogRecord, ExperimentRecord, Status, StoreError, Summary, plain_json_of};
use crate::server::world::World;

/// The schema version this code reads and writes (`PRAGMA user_version`).
pub(super) const SCHEMA_VERSION: i64 = 4;

/// How long a connection waits for a lock held by another connection
/// before failing with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The writer's connection.
pub(super) fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    // WAL appends each commit instead of rewriting pages in place; FULL makes
    // each commit wait for the WAL to be synced, so an acknowledged write
    // survives a power cut.
    let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "SQLite refused WAL mode; each commit rewrites pages in place");
    }
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "cache_size", WRITER_PAGE_CACHE_KIB)?;
    Ok(connection)
}

/// How much of the database the writer's connection keeps in its page
/// cache (SQLite's negative `cache_size`: KiB): the pages of the records it
/// changes, and the indexes it checks keys in.
const WRITER_PAGE_CACHE_KIB: i64 = -8 * 1024;

/// A connection that only reads, for the requests that miss the cache.
pub(super) fn connect_reader(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    // Opened for writing (a WAL reader writes to the shared index) but
    // refusing to change the database: the writer is the only one that does.
    connection.pragma_update(None, "query_only", true)?;
    Ok(connection)
}

/// Marks the database as this program's (`PRAGMA application_id`): "iTer".
const APPLICATION_ID: i64 = 0x6954_6572;

/// The tables every database of schema version 1 or later has.
const TABLES: [&str; 2] = ["experiments", "world"];

/// A database file of 0 bytes is not one this program left: it writes the
/// schema in the transaction that creates the file.
pub(super) fn refuse_empty_file(path: &Path) -> Result<(), StoreError> {
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_file() && metadata.len() == 0 => Err(StoreError::unavailable(format!(
            "{} is empty (0 bytes), so it holds no data of this program; remove it to start afresh, \
             or restore the data it should hold",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// The error for a file SQLite cannot read as a database.
pub(super) fn foreign_or(path: &Path, err: rusqlite::Error) -> StoreError {
    if err.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
        return StoreError::unavailable(format!(
            "{} is not an SQLite database; it was not written by this program",
            path.display()
        ));
    }
    StoreError::unavailable(err)
}

/// Refuses a database written by something else: another application's
/// id, or tables without this program's schema version.
fn check_ours(transaction: &rusqlite::Transaction<'_>, version: i64) -> Result<(), StoreError> {
    let application_id: i64 = transaction
        .query_row("PRAGMA application_id", [], |row| row.get(0))
        .map_err(StoreError::unavailable)?;
    let tables: Vec<String> = transaction
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut statement| statement.query_map([], |row| row.get(0))?.collect())
        .map_err(StoreError::unavailable)?;
    let foreign = |why: String| {
        StoreError::unavailable(format!(
            "the database was not written by this program ({why}); use another data directory"
        ))
    };
    if application_id != 0 && application_id != APPLICATION_ID {
        return Err(foreign(format!("its application id is {application_id:#x}")));
    }
    if version == 0 && !tables.is_empty() {
        return Err(foreign(format!("it has tables ({}) but no schema version", tables.join(", "))));
    }
    if version > 0
        && let Some(missing) = TABLES.iter().find(|t| !tables.iter().any(|name| name == *t))
    {
        return Err(foreign(format!("schema version {version} without the table `{missing}`")));
    }
    Ok(())
}

pub(super) fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::unavailable)?;
    let version: i64 = transaction
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(StoreError::unavailable)?;
    check_ours(&transaction, version)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::unavailable(format!(
            "the database has schema version {version}, newer than this program's {SCHEMA_VERSION}; \
             use a newer version of the program"
        )));
    }
    if version == 0 {
        create_tables(&transaction)?;
    }
    if version == 1 {
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
    if (1..3).contains(&version) {
        add_summaries(&transaction)?;
    }
    if (1..4).contains(&version) {
        move_plain_to_its_table(&transaction)?;
    }
    transaction.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(StoreError::unavailable)?;
    transaction.pragma_update(None, "application_id", APPLICATION_ID).map_err(StoreError::unavailable)?;
    transaction.commit().map_err(StoreError::unavailable)
}

/// The tables of a new database, at [`SCHEMA_VERSION`].
///
/// The same tables, columns and indexes as an older database moved up by
/// the steps below, with one difference: `record` is the last column of
/// `experiments`. SQLite stores a row's columns in order and a long row's
/// tail in overflow pages, so reading the version or the summary does not
/// go through the record's pages. (An older database keeps its order:
/// reordering means rewriting every row.)
fn create_tables(transaction: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    transaction
        .execute_batch(
            "CREATE TABLE experiments (
                created_order INTEGER PRIMARY KEY,
                project TEXT NOT NULL,
                environment TEXT NOT NULL,
                key TEXT NOT NULL,
                version INTEGER NOT NULL CHECK (version >= 1),
                archived INTEGER NOT NULL DEFAULT 0,
                holdout INTEGER NOT NULL DEFAULT 0,
                status INTEGER NOT NULL DEFAULT 0,
                record TEXT NOT NULL,
                UNIQUE (project, environment, key)
            );
            CREATE INDEX experiments_listing
                ON experiments (project, created_order, environment, archived, holdout, status);
            CREATE TABLE plain_answers (
                created_order INTEGER PRIMARY KEY,
                plain TEXT NOT NULL
            );
            CREATE TABLE world (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                document TEXT NOT NULL
            );
            CREATE TABLE catalogs (
                project TEXT PRIMARY KEY,
                version INTEGER NOT NULL CHECK (version >= 1),
                document TEXT NOT NULL
            );
            CREATE TABLE generations (
                project TEXT PRIMARY KEY,
                generation INTEGER NOT NULL
            );",
        )
        .map_err(StoreError::unavailable)
}

/// Schema version 3: each experiment's [`Summary`] in columns of its own,
/// indexed with the creation order, so that a list is answered from the
/// index and reads only its page; the experiment as a plain read answers
/// it (`plain`, see [`plain_json`]), so that such a read does not parse
/// the record; and each project's generation.
fn add_summaries(transaction: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    transaction
        .execute_batch(
            "ALTER TABLE experiments ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
             ALTER TABLE experiments ADD COLUMN holdout INTEGER NOT NULL DEFAULT 0;
             ALTER TABLE experiments ADD COLUMN status INTEGER NOT NULL DEFAULT 0;
             ALTER TABLE experiments ADD COLUMN plain TEXT NOT NULL DEFAULT '';
             CREATE INDEX experiments_listing
                 ON experiments (project, created_order, environment, archived, holdout, status);
             CREATE TABLE generations (
                 project TEXT PRIMARY KEY,
                 generation INTEGER NOT NULL
             );",
        )
        .map_err(StoreError::unavailable)?;
    // Records written before version 3 get their summaries once, here.
    let mut select = transaction
        .prepare("SELECT created_order, record FROM experiments")
        .map_err(StoreError::unavailable)?;
    let rows = select
        .query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))
        .map_err(StoreError::unavailable)?;
    let mut update = transaction
        .prepare(
            "UPDATE experiments SET archived = ?2, holdout = ?3, status = ?4, plain = ?5 WHERE created_order = ?1",
        )
        .map_err(StoreError::unavailable)?;
    for row in rows {
        let (order, record) = row.map_err(StoreError::unavailable)?;
        let mut record: ExperimentRecord = serde_json::from_str(&record).map_err(StoreError::unavailable)?;
        let (archived, holdout, status) = summary_columns(Summary::of(&record.experiment));
        let plain = plain_text(&mut record.experiment)?;
        update.execute(params![order, archived, holdout, status, plain]).map_err(StoreError::unavailable)?;
    }
    Ok(())
}

/// Schema version 4: each experiment's `plain` answer in a table of its
/// own (`plain_answers`, by the experiment's `created_order`) instead of a
/// column of its row. SQLite writes a changed row whole, so with `plain`
/// in the row every write of the record wrote the unchanged answer (about
/// 3 KiB for the demo request) again, and synced it: most writes (a new
/// draft, say) do not change it.
fn move_plain_to_its_table(transaction: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    transaction
        .execute_batch(
            "CREATE TABLE plain_answers (
                 created_order INTEGER PRIMARY KEY,
                 plain TEXT NOT NULL
             );
             INSERT INTO plain_answers (created_order, plain) SELECT created_order, plain FROM experiments;
             ALTER TABLE experiments DROP COLUMN plain;",
        )
        .map_err(StoreError::unavailable)
}

/// The `plain` answer of `experiment` (see [`plain_json_of`]).
pub(super) fn plain_text(experiment: &mut iteration_model::Experiment) -> Result<String, StoreError> {
    String::from_utf8(plain_json_of(experiment).to_vec()).map_err(StoreError::unavailable)
}

/// A summary as its three columns.
pub(super) fn summary_columns(summary: Summary) -> (bool, bool, i64) {
    let status = match summary.status {
        Status::NotStarted => 0,
        Status::Running => 1,
        Status::Stopped => 2,
    };
    (summary.archived, summary.holdout, status)
}

/// The summary its three columns hold.
pub(super) fn summary_from_columns(archived: bool, holdout: bool, status: i64) -> Summary {
    let status = match status {
        1 => Status::Running,
        2 => Status::Stopped,
        _ => Status::NotStarted,
    };
    Summary { archived, holdout, status }
}

/// What the store keeps in memory of the database: every project's
/// catalog and generation, and the world. They are few and small, unlike
/// the experiments, which are read when asked for.
pub(super) fn read_known(connection: &Connection) -> Result<(Catalogs, Option<World>), StoreError> {
    let mut catalogs = Catalogs::default();
    let mut statement =
        connection.prepare("SELECT version, document FROM catalogs").map_err(StoreError::unavailable)?;
    let rows = statement
        .query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))
        .map_err(StoreError::unavailable)?;
    for row in rows {
        let (version, document) = row.map_err(StoreError::unavailable)?;
        let version = u64::try_from(version).map_err(StoreError::unavailable)?;
        let catalog: ProjectCatalog = serde_json::from_str(&document).map_err(StoreError::unavailable)?;
        catalogs.put(version, std::sync::Arc::new(CatalogRecord::new(catalog)));
    }
    let mut statement =
        connection.prepare("SELECT project, generation FROM generations").map_err(StoreError::unavailable)?;
    let rows = statement
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))
        .map_err(StoreError::unavailable)?;
    for row in rows {
        let (project, generation) = row.map_err(StoreError::unavailable)?;
        catalogs.set_generation(&project, u64::try_from(generation).map_err(StoreError::unavailable)?);
    }
    let document = connection
        .query_row("SELECT document FROM world WHERE id = 1", [], |row| row.get::<_, String>(0))
        .optional()
        .map_err(StoreError::unavailable)?;
    let world = document
        .map(|document| World::from_json(document.as_bytes()).map_err(StoreError::unavailable))
        .transpose()?;
    Ok((catalogs, world))
}

/// A version as the database stores it.
pub(super) fn stored_version(version: u64) -> Result<i64, StoreError> {
    i64::try_from(version).map_err(StoreError::unavailable)
}

pub(super) fn save_world(connection: &Connection, document: &str) -> Result<(), StoreError> {
    connection
        .execute(
            "INSERT INTO world (id, document) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET document = excluded.document",
            params![document],
        )
        .map_err(StoreError::unavailable)?;
    Ok(())
}
