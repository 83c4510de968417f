//! Fills a stopped server's SQLite data directory with N copies of one
//! experiment, for the scale phase of `cargo xtask bench`.
//!
//! Creating a million experiments through the API would take longer than
//! the rest of the benchmarks together; this writes the rows directly, in a
//! few large transactions. The template is an experiment the server itself
//! created (so its record is in the server's own format); each copy is that
//! record with the template's key replaced by `scale-{i}`, `i` from 0 to
//! N - 1, with the template's summary columns (archived, holdout, status),
//! which a list selects by, and its plain answer (in `plain_answers`), with
//! the key replaced too. It relies only on the columns of those two tables;
//! if they change, the scale check (`cargo xtask bench --scale-check`)
//! fails loudly.
//!
//! Usage: `scale-seed --data-dir DIR --template KEY --count N`.

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, params};

/// Rows per transaction: large enough that commits cost nothing next to
/// the inserts, small enough that the journal stays small.
const ROWS_PER_COMMIT: u64 = 50_000;

fn main() -> Result<()> {
    let (mut dir, mut template, mut count) = (None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--data-dir" => dir = Some(std::path::PathBuf::from(value()?)),
            "--template" => template = Some(value()?),
            "--count" => count = Some(value()?.parse::<u64>()?),
            _ => bail!("unknown argument {arg:?}; usage: scale-seed --data-dir DIR --template KEY --count N"),
        }
    }
    let (dir, template, count) = match (dir, template, count) {
        (Some(d), Some(t), Some(c)) => (d, t, c),
        _ => bail!("usage: scale-seed --data-dir DIR --template KEY --count N"),
    };
    let path = dir.join("iteration.sqlite3");
    let mut connection = Connection::open(&path)
        .with_context(|| format!("open {} (is the server stopped?)", path.display()))?;
    // A lost seed is simply run again: no need to wait for the disk.
    connection.pragma_update(None, "synchronous", "OFF")?;
    type Template = (String, String, String, i64, i64, i64, String);
    let (project, environment, record, archived, holdout, status, plain): Template = connection
        .query_row(
            "SELECT project, environment, record, archived, holdout, status, plain \
             FROM experiments JOIN plain_answers USING (created_order) WHERE key = ?1",
            params![template],
            |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                    row.get(6)?,
                ))
            },
        )
        .with_context(|| format!("no template experiment {template:?} in {}", path.display()))?;
    let mut written = 0;
    while written < count {
        let transaction = connection.transaction()?;
        {
            let mut insert = transaction.prepare(
                "INSERT INTO experiments (project, environment, key, version, record, archived, holdout, status) \
                 VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7)",
            )?;
            let mut insert_plain =
                transaction.prepare("INSERT INTO plain_answers (created_order, plain) VALUES (?1, ?2)")?;
            let end = (written + ROWS_PER_COMMIT).min(count);
            for i in written..end {
                let key = format!("scale-{i}");
                let (record, plain) = (record.replace(&template, &key), plain.replace(&template, &key));
                insert.execute(params![project, environment, key, record, archived, holdout, status])?;
                insert_plain.execute(params![transaction.last_insert_rowid(), plain])?;
            }
            written = end;
        }
        transaction.commit()?;
    }
    // Written without waiting for the disk, the rows would be flushed by the
    // server's first checkpoint, which would then stall for seconds on work
    // that is the seed's, not the server's: flush them now.
    connection.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    drop(connection);
    std::fs::File::open(&path)?.sync_all()?;
    println!("wrote {count} experiments into {}", path.display());
    Ok(())
}
