//! The ledger: normalized usage records in one SQLite file.
//!
//! Imports run in one `BEGIN IMMEDIATE` transaction: a failure rolls everything back, and two imports at
//! once take turns (the second waits for the first) instead of corrupting or double counting. Records are
//! keyed by their stable id, so importing the same data twice adds nothing. Costs are not stored: they are
//! computed when read, so corrected price tables apply to history.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{
    params, Connection, OptionalExtension, Row, Statement, Transaction, TransactionBehavior,
};

use crate::decimal::parse_decimal;
use crate::error::{Error, Result};
use crate::input::{Accepted, RecordSink};
use crate::record::{DedupPolicy, FailureClass, UsageRecord};
use crate::report::aggregate::Aggregator;

mod cells;
pub mod daily;
mod ids;
mod pgsql;
pub(crate) mod rollup;
mod schema;
mod store;

pub use store::{is_url, Ledger, LedgerWriter, Location, Revision};

/// An open ledger file.
pub struct SqliteLedger {
    conn: Connection,
    path: PathBuf,
    /// How long to wait for another process's lock (`--lock-timeout`).
    lock_timeout: Duration,
}

/// Counts for `aispend ledger stats`.
#[derive(Debug, Clone, Default)]
pub struct LedgerStats {
    pub records: u64,
    pub requests: u64,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    /// (source, provider, records, requests)
    pub by_source: Vec<(String, String, u64, u64)>,
    pub schema_version: i64,
    pub file_bytes: u64,
}

impl SqliteLedger {
    /// Opens (creating if needed) the ledger at `path` and brings its schema up to date, waiting up to
    /// [`DEFAULT_LOCK_TIMEOUT`] for another process's lock.
    pub fn open(path: &Path) -> Result<SqliteLedger> {
        SqliteLedger::open_waiting(path, DEFAULT_LOCK_TIMEOUT)
    }

    /// [`SqliteLedger::open`], waiting up to `lock_timeout` for another process's lock, here and on every
    /// write. A new file is created readable and writable by its owner only (0600): it holds spend per
    /// key and per user. A file that is an SQLite database but not a ledger is refused, untouched.
    pub fn open_waiting(path: &Path, lock_timeout: Duration) -> Result<SqliteLedger> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        create_private(path)?;
        let started = Instant::now();
        let conn = Connection::open(path).map_err(|e| ledger_error(path, e))?;
        let ledger = SqliteLedger {
            conn,
            path: path.to_path_buf(),
            lock_timeout,
        };
        let waited = |e: rusqlite::Error| match is_busy(&e) {
            true => busy_error(path, started.elapsed()),
            false => ledger_error(path, e),
        };
        ledger
            .conn
            .busy_timeout(lock_timeout)
            .map_err(|e| ledger_error(path, e))?;
        // Refuse a foreign or newer file before switching it to WAL (which would write to it).
        schema::check_file(&ledger.conn).map_err(|e| migrate_error(path, e, started))?;
        ledger.configure().map_err(|ConfigureError(e)| waited(e))?;
        schema::migrate(&ledger.conn).map_err(|e| migrate_error(path, e, started))?;
        Ok(ledger)
    }

    /// Opens an existing ledger; a missing file is a usage error that says how to create one.
    pub fn open_existing(path: &Path, lock_timeout: Duration) -> Result<SqliteLedger> {
        if !path.exists() {
            return Err(Error::usage(format!(
                "no ledger at {}: import usage first (`aispend import PATH…`), or pass PATHs to read files directly",
                path.display()
            )));
        }
        SqliteLedger::open_waiting(path, lock_timeout)
    }

    /// Switches to WAL and sets the connection up (the busy timeout is set before anything else).
    ///
    /// A new file gets pages of [`PAGE_SIZE`] bytes (set before anything is written to it); the pragma
    /// changes nothing in an existing ledger, which keeps the page size it was created with.
    fn configure(&self) -> std::result::Result<(), ConfigureError> {
        self.conn
            .pragma_update(None, "page_size", PAGE_SIZE)
            .map_err(ConfigureError)?;
        self.switch_to_wal()?;
        self.conn
            .execute_batch("PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;")
            .map_err(ConfigureError)
    }

    /// `PRAGMA journal_mode = WAL`, waiting out other processes doing the same.
    ///
    /// On a new file the switch reads the header and then upgrades to a write lock. When two processes
    /// hold the read lock at once, SQLite fails one of them with SQLITE_BUSY at once instead of calling the
    /// busy handler (waiting could deadlock). That process holds no lock after the failure, so it waits
    /// a little and tries again, up to the same time limit as any other lock wait.
    fn switch_to_wal(&self) -> std::result::Result<(), ConfigureError> {
        let deadline = Instant::now() + self.lock_timeout;
        let mut pause = Duration::from_millis(1);
        loop {
            match self
                .conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            {
                Ok(_) => return Ok(()),
                Err(e) if is_busy(&e) && Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) => return Err(ConfigureError(e)),
            }
        }
    }

    fn error(&self, e: rusqlite::Error) -> Error {
        ledger_error(&self.path, e)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` with a writer inside one transaction: committed when `f` succeeds (and `commit` is true),
    /// rolled back otherwise.
    pub fn write<T>(
        &mut self,
        commit: bool,
        f: impl FnOnce(&mut SqliteWriter<'_>) -> Result<T>,
    ) -> Result<T> {
        self.write_priced(commit, None, f)
    }

    /// [`SqliteLedger::write`], rewriting the days of `daily_cost` the import touched with `pricing`
    /// before it commits.
    pub fn write_priced<T>(
        &mut self,
        commit: bool,
        pricing: Option<&daily::Pricing>,
        f: impl FnOnce(&mut SqliteWriter<'_>) -> Result<T>,
    ) -> Result<T> {
        // A ledger with no records yet takes its first import in rollback-journal mode: every page is
        // new, so nothing is journaled and each is written once, straight into the file, where WAL
        // would write it twice (into the log, then into the file at the checkpoint on close).
        let direct = self.is_empty()? && self.set_journal_mode("delete");
        let result = self.write_in_transaction(commit, pricing, f);
        if direct {
            // Back to WAL for everyone after; when another process holds the file now, its own
            // open switches it back.
            self.set_journal_mode("wal");
        }
        result
    }

    /// The body of [`SqliteLedger::write_priced`]: one transaction, whatever the journal mode.
    fn write_in_transaction<T>(
        &mut self,
        commit: bool,
        pricing: Option<&daily::Pricing>,
        f: impl FnOnce(&mut SqliteWriter<'_>) -> Result<T>,
    ) -> Result<T> {
        let path = self.path.clone();
        let tx = self.begin()?;
        let (value, mut claims, mut rollup, touched) = {
            let mut writer = SqliteWriter::new(&tx, &path).map_err(|e| ledger_error(&path, e))?;
            let value = f(&mut writer)?;
            (
                value,
                std::mem::take(&mut writer.claims),
                std::mem::take(&mut writer.rollup),
                writer.touched,
            )
        };
        if commit {
            claims.write(&tx).map_err(|e| ledger_error(&path, e))?;
            rollup.flush(&tx).map_err(|e| ledger_error(&path, e))?;
            if let (Some(pricing), Some((a, b))) = (pricing, touched) {
                if let Some(days) = daily::days_between(a, b) {
                    refresh_daily(&tx, &path, pricing, days)?;
                }
            }
            tx.commit().map_err(|e| ledger_error(&path, e))?;
        }
        Ok(value)
    }

    /// Whether the ledger holds no records (and so no rollup either). Waits, like any read, for a
    /// first import running in another process (up to the lock timeout).
    fn is_empty(&self) -> Result<bool> {
        let started = Instant::now();
        self.conn
            .query_row(
                "SELECT NOT EXISTS (SELECT 1 FROM records) AND NOT EXISTS (SELECT 1 FROM record_ids)",
                [],
                |r| r.get(0),
            )
            .map_err(|e| match is_busy(&e) {
                true => busy_error(&self.path, started.elapsed()),
                false => self.error(e),
            })
    }

    /// Tries once, without waiting, to put the file in journal `mode` (`wal` or `delete`); true when
    /// it is in that mode after. Leaving WAL needs the file to itself: when another process has it
    /// open, the mode stays as it was.
    fn set_journal_mode(&self, mode: &str) -> bool {
        if self.conn.busy_timeout(Duration::ZERO).is_err() {
            return false;
        }
        let now = self
            .conn
            .query_row(&format!("PRAGMA journal_mode = {mode}"), [], |r| {
                r.get::<_, String>(0)
            });
        let _ = self.conn.busy_timeout(self.lock_timeout);
        now.is_ok_and(|now| now.eq_ignore_ascii_case(mode))
    }

    /// Starts a write transaction, waiting for another process's (up to the lock timeout).
    fn begin(&mut self) -> Result<Transaction<'_>> {
        let started = Instant::now();
        let path = &self.path;
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| match is_busy(&e) {
                true => busy_error(path, started.elapsed()),
                false => ledger_error(path, e),
            })
    }

    /// Rewrites all of `daily_cost` with `pricing` (`aispend ledger reprice`), in one transaction.
    pub fn reprice(&mut self, pricing: &daily::Pricing) -> Result<daily::Repriced> {
        let path = self.path.clone();
        let tx = self.begin()?;
        let err = |e| ledger_error(&path, e);
        let (first, last): (Option<i64>, Option<i64>) = tx
            .query_row(
                "SELECT min(start_ms), max(start_ms) FROM records",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(err)?;
        let mut done = daily::Repriced {
            before: sqlite_daily_total(&tx).map_err(err)?,
            ..Default::default()
        };
        tx.execute("DELETE FROM daily_cost", []).map_err(err)?;
        if let Some(days) = first.zip(last).and_then(|(a, b)| daily::days_between(a, b)) {
            done.rows = refresh_daily(&tx, &path, pricing, days)?;
            done.days = Some(days);
        }
        done.after = sqlite_daily_total(&tx).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(done)
    }

    /// Where the incremental pull `name` stands (`None` before its first pull).
    pub fn cursor(&self, name: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT value FROM pull_cursors WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// The newest record's start time.
    pub fn newest(&self) -> Result<Option<DateTime<Utc>>> {
        let ms: Option<i64> = self
            .conn
            .query_row("SELECT max(start_ms) FROM records", [], |r| r.get(0))
            .map_err(|e| self.error(e))?;
        Ok(ms.and_then(|m| Utc.timestamp_millis_opt(m).single()))
    }

    /// Calls `f` with every record whose start is in `[start, end)` (all records when `None`), oldest first.
    pub fn for_each(
        &self,
        range: Option<(DateTime<Utc>, DateTime<Utc>)>,
        f: &mut dyn FnMut(UsageRecord) -> Result<()>,
    ) -> Result<()> {
        for_each_on(&self.conn, &self.path, range, f)
    }

    /// Feeds a report's aggregator the period it reads: from the rollup when it serves the query
    /// exactly (see [`Aggregator::rollup_serves`]), else from the records.
    pub fn feed(&self, agg: &mut Aggregator<'_>) -> Result<()> {
        feed_on(&self.conn, &self.path, agg)
    }

    /// Feeds a report's aggregator the period's records, one by one.
    pub fn feed_records(&self, agg: &mut Aggregator<'_>) -> Result<()> {
        let range = agg.fixed_period().map(|p| (p.start, p.end));
        self.for_each(range, &mut |r| agg.accept(r).map(|_| ()))
    }

    pub fn stats(&self) -> Result<LedgerStats> {
        let mut stats = LedgerStats {
            schema_version: schema::version(&self.conn).map_err(|e| self.error(e))?,
            ..Default::default()
        };
        let (records, requests, first, last): (i64, Option<i64>, Option<i64>, Option<i64>) = self
            .conn
            .query_row(
                "SELECT count(*), sum(requests), min(start_ms), max(start_ms) FROM records",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .map_err(|e| self.error(e))?;
        stats.records = records as u64;
        stats.requests = requests.unwrap_or(0) as u64;
        stats.first = first.and_then(|m| Utc.timestamp_millis_opt(m).single());
        stats.last = last.and_then(|m| Utc.timestamp_millis_opt(m).single());
        let mut stmt = self
            .conn
            .prepare("SELECT source, provider, count(*), sum(requests) FROM records GROUP BY source, provider ORDER BY source, provider")
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get::<_, i64>(2)? as u64,
                    r.get::<_, i64>(3)? as u64,
                ))
            })
            .map_err(|e| self.error(e))?;
        for row in rows {
            stats.by_source.push(row.map_err(|e| self.error(e))?);
        }
        stats.file_bytes = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
        Ok(stats)
    }
}

/// The page size of a new ledger file. A record row is ~300 bytes: 16 KiB pages hold ~50 of them, so
/// an import splits and rebalances B-tree pages a quarter as often as with SQLite's default 4 KiB, and
/// writes a quarter as many WAL frames. Measured on a 686k-record import of API logs (2 cores, release
/// build): the writing thread's SQLite work down ~20%.
const PAGE_SIZE: i64 = 16 * 1024;

/// How long a process waits for another one's lock on the ledger before giving up, unless
/// `--lock-timeout` says otherwise.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// An SQLite error while setting the connection up (busy is told apart by the caller).
struct ConfigureError(rusqlite::Error);

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

/// Creates a missing ledger file readable and writable by its owner only. SQLite gives its `-wal` and
/// `-shm` files the same permissions.
fn create_private(path: &Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Another process kept the write lock for as long as we waited.
fn busy_error(path: &Path, waited: Duration) -> Error {
    Error::Ledger {
        path: path.display().to_string(),
        message: format!(
            "another process is writing to it and held the write lock for the {:.1} s we waited; \
             try again when it is done, or wait longer with --lock-timeout SECS",
            waited.as_secs_f64()
        ),
    }
}

fn migrate_error(path: &Path, e: schema::MigrateError, started: Instant) -> Error {
    let shown = path.display();
    match e {
        schema::MigrateError::Newer(version) => Error::usage(format!(
            "ledger {shown}: written by a newer aispend (schema version {version}; this one reads up \
             to {}): upgrade aispend",
            schema::latest()
        )),
        schema::MigrateError::Foreign => Error::usage(format!(
            "ledger {shown}: an SQLite database, but not an aispend ledger; nothing was added to it. \
             Pass --ledger with a new file or an aispend ledger"
        )),
        schema::MigrateError::Sqlite(e) if is_busy(&e) => busy_error(path, started.elapsed()),
        schema::MigrateError::Sqlite(e) => ledger_error(path, e),
    }
}

/// A ledger error in words: a damaged file says so (not SQLite's internals), SQL text is never shown.
fn ledger_error(path: &Path, e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode;
    let message = match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) =>
        {
            "the file is damaged or not an SQLite database: restore it from a backup, or move it \
             aside and import again into a new ledger"
                .to_string()
        }
        _ if is_busy(&e) => "another process holds its lock: try again when it is done, or wait \
             longer with --lock-timeout SECS"
            .to_string(),
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        rusqlite::Error::SqliteFailure(f, Some(msg)) => format!("{msg} ({:?})", f.code),
        _ => e.to_string(),
    };
    Error::Ledger {
        path: path.display().to_string(),
        message,
    }
}

/// [`SqliteLedger::for_each`] on a connection (or a transaction).
fn for_each_on(
    conn: &Connection,
    path: &Path,
    range: Option<(DateTime<Utc>, DateTime<Utc>)>,
    f: &mut dyn FnMut(UsageRecord) -> Result<()>,
) -> Result<()> {
    let err = |e| ledger_error(path, e);
    let (lo, hi) = match range {
        Some((a, b)) => (a.timestamp_millis(), b.timestamp_millis()),
        None => (i64::MIN, i64::MAX),
    };
    let sql = format!(
        "SELECT {} FROM records WHERE start_ms >= ?1 AND start_ms < ?2 ORDER BY start_ms",
        schema::COLUMNS
    );
    let mut stmt = conn.prepare(&sql).map_err(err)?;
    let mut rows = stmt.query(params![lo, hi]).map_err(err)?;
    let mut files: BTreeMap<String, Arc<str>> = BTreeMap::new();
    while let Some(row) = rows.next().map_err(err)? {
        let record = record_from_row(row, &mut files).map_err(err)?;
        f(record)?;
    }
    Ok(())
}

/// [`SqliteLedger::feed`] on a connection (or a transaction).
fn feed_on(conn: &Connection, path: &Path, agg: &mut Aggregator<'_>) -> Result<()> {
    let range = agg.fixed_period().map(|p| (p.start, p.end));
    if agg.rollup_serves() {
        let ms = range.map(|(a, b)| (a.timestamp_millis(), b.timestamp_millis()));
        if rollup::feed(conn, ms, agg).map_err(|e| ledger_error(path, e))? {
            return Ok(());
        }
        agg.clear();
    }
    for_each_on(conn, path, range, &mut |r| agg.accept(r).map(|_| ()))
}

/// Rewrites the rows of `days` in `daily_cost`; returns how many were written.
fn refresh_daily(
    tx: &Transaction<'_>,
    path: &Path,
    pricing: &daily::Pricing,
    days: (chrono::NaiveDate, chrono::NaiveDate),
) -> Result<u64> {
    let err = |e| ledger_error(path, e);
    let rows = daily::compute(pricing, days, &mut |agg| feed_on(tx, path, agg))?;
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    tx.execute(
        "DELETE FROM daily_cost WHERE day >= ?1 AND day <= ?2",
        [day(days.0), day(days.1)],
    )
    .map_err(err)?;
    let mut insert = tx
        .prepare_cached(&format!(
            "INSERT INTO daily_cost ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, \
             ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
            daily::COLUMNS
        ))
        .map_err(err)?;
    for row in &rows {
        let [requests, failed, input, cache_read, cache_write, output, reasoning] = row.counts();
        let d = &row.dims;
        insert
            .execute(params![
                day(row.day),
                d[0],
                d[1],
                d[2],
                d[3],
                d[4],
                d[5],
                d[6],
                requests,
                failed,
                input,
                cache_read,
                cache_write,
                output,
                reasoning,
                row.totals.cost.to_string(),
                row.unpriced(),
                row.reported(),
                row.currency,
            ])
            .map_err(err)?;
    }
    Ok(rows.len() as u64)
}

/// The sum of `daily_cost.cost`, exactly (the column is decimal text).
fn sqlite_daily_total(conn: &Connection) -> rusqlite::Result<rust_decimal::Decimal> {
    let mut stmt = conn.prepare("SELECT cost FROM daily_cost")?;
    let mut rows = stmt.query([])?;
    let mut total = rust_decimal::Decimal::ZERO;
    while let Some(row) = rows.next()? {
        let cost: String = row.get(0)?;
        total += parse_decimal(&cost).unwrap_or_default();
    }
    Ok(total)
}

/// Writes records inside an import's transaction, with its statements prepared once.
pub struct SqliteWriter<'a> {
    conn: &'a Connection,
    path: &'a Path,
    /// The `record_ids` slots this import took, written when it commits.
    claims: ids::Claims,
    rollup: rollup::Delta,
    /// The first and last start (ms) of the records added, replaced or replacing: the days of
    /// `daily_cost` to rewrite.
    touched: Option<(i64, i64)>,
    insert: Statement<'a>,
    slot: Statement<'a>,
    weight_of: Statement<'a>,
    old: Statement<'a>,
    delete: Statement<'a>,
    moved: Statement<'a>,
    /// When this import started (seconds since the epoch), stored with every record it adds.
    imported_at: i64,
    /// The tags of the record being written, as JSON.
    tags: Vec<u8>,
    /// Its reported cost, as decimal text.
    cost: String,
    /// What the insert's parameters are bound to.
    bound: Bound,
}

impl<'a> SqliteWriter<'a> {
    fn new(conn: &'a Connection, path: &'a Path) -> rusqlite::Result<SqliteWriter<'a>> {
        Ok(SqliteWriter {
            conn,
            path,
            claims: ids::Claims::new(conn)?,
            rollup: rollup::Delta::default(),
            touched: None,
            insert: conn.prepare(schema::INSERT)?,
            slot: conn.prepare("SELECT start_ms FROM record_ids WHERE hash = ?1")?,
            weight_of: conn
                .prepare("SELECT weight FROM records WHERE start_ms = ?1 AND id = ?2")?,
            old: conn.prepare(&format!(
                "SELECT {} FROM records WHERE start_ms = ?1 AND id = ?2",
                schema::COLUMNS
            ))?,
            delete: conn.prepare("DELETE FROM records WHERE start_ms = ?1 AND id = ?2")?,
            moved: conn.prepare("UPDATE record_ids SET start_ms = ?2 WHERE hash = ?1")?,
            imported_at: Utc::now().timestamp(),
            tags: Vec::new(),
            cost: String::new(),
            bound: Bound::default(),
        })
    }

    /// Adds `r` to the records (its id is new).
    fn insert(&mut self, r: &UsageRecord, weight: i64) -> Result<()> {
        let err = |e| ledger_error(self.path, e);
        let tags = if r.tags.is_empty() {
            None
        } else {
            self.tags.clear();
            serde_json::to_writer(&mut self.tags, &r.tags).map_err(|e| Error::Ledger {
                path: self.path.display().to_string(),
                message: e.to_string(),
            })?;
            std::str::from_utf8(&self.tags).ok()
        };
        let cost = r.reported_cost.map(|c| {
            self.cost.clear();
            let _ = write!(self.cost, "{c}");
            self.cost.as_str()
        });
        let cells = insert_cells(r, weight, tags, cost, self.imported_at);
        self.bound.bind(&mut self.insert, &cells).map_err(err)?;
        self.insert.raw_execute().map_err(err)?;
        Ok(())
    }
}

/// One value bound to a statement parameter (a flag is an `Int` of 0 or 1).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cell<'v> {
    Null,
    Int(i64),
    Text(&'v str),
}

impl<'v> Cell<'v> {
    fn text(v: Option<&'v str>) -> Cell<'v> {
        v.map_or(Cell::Null, Cell::Text)
    }

    fn int(v: Option<i64>) -> Cell<'v> {
        v.map_or(Cell::Null, Cell::Int)
    }
}

/// What a cell was bound to, kept between executions.
enum Kept {
    Null,
    Int(i64),
    Text(String),
}

/// The values bound to a prepared statement's parameters. SQLite keeps bindings from one execution to
/// the next, so a parameter whose value did not change is not bound again: most of an import's columns
/// (zero counts, absent fields, the source, the file, the import time) repeat from record to record,
/// and each binding costs a statement-state check, a release of the old value and, for text, a copy.
#[derive(Default)]
struct Bound(Vec<Option<Kept>>);

impl Bound {
    /// Binds `cells` to parameters 1, 2, … of `stmt`, skipping those already bound to the same value.
    fn bind(&mut self, stmt: &mut Statement<'_>, cells: &[Cell<'_>]) -> rusqlite::Result<()> {
        if self.0.len() != cells.len() {
            self.0 = (0..cells.len()).map(|_| None).collect();
        }
        for (i, (cell, kept)) in cells.iter().zip(self.0.iter_mut()).enumerate() {
            let same = match (cell, &*kept) {
                (Cell::Null, Some(Kept::Null)) => true,
                (Cell::Int(a), Some(Kept::Int(b))) => a == b,
                (Cell::Text(a), Some(Kept::Text(b))) => *a == b.as_str(),
                _ => false,
            };
            if same {
                continue;
            }
            match *cell {
                Cell::Null => {
                    stmt.raw_bind_parameter(i + 1, rusqlite::types::Null)?;
                    *kept = Some(Kept::Null);
                }
                Cell::Int(v) => {
                    stmt.raw_bind_parameter(i + 1, v)?;
                    *kept = Some(Kept::Int(v));
                }
                Cell::Text(v) => {
                    stmt.raw_bind_parameter(i + 1, v)?;
                    match kept {
                        Some(Kept::Text(old)) => {
                            old.clear();
                            old.push_str(v);
                        }
                        _ => *kept = Some(Kept::Text(v.to_string())),
                    }
                }
            }
        }
        Ok(())
    }
}

/// A record's values in `schema::INSERT` order; PostgreSQL's insert sends all but the last, `imported_at`
/// (its column defaults to the transaction's time). Counts above `i64::MAX` are stored as `i64::MAX`.
fn insert_cells<'v>(
    r: &'v UsageRecord,
    weight: i64,
    tags: Option<&'v str>,
    cost: Option<&'v str>,
    imported_at: i64,
) -> [Cell<'v>; 50] {
    let t = &r.tokens;
    let n = |v: u64| Cell::Int(v.min(i64::MAX as u64) as i64);
    let flag = |v: bool| Cell::Int(i64::from(v));
    [
        Cell::Text(&r.id),
        Cell::Text(r.source),
        Cell::Text(r.provider.as_str()),
        Cell::Text(&r.model),
        Cell::Int(r.start.timestamp_millis()),
        Cell::int(r.end.map(|e| e.timestamp_millis())),
        Cell::text(r.service_tier.as_deref()),
        flag(r.batch),
        Cell::text(r.region.as_deref()),
        Cell::int(r.long_context.map(i64::from)),
        Cell::text(r.team.as_deref()),
        Cell::text(r.project.as_deref()),
        Cell::text(r.user.as_deref()),
        Cell::text(r.api_key.as_deref()),
        Cell::text(r.workspace.as_deref()),
        Cell::text(tags),
        n(t.input),
        n(t.cache_read),
        n(t.cache_write_5m),
        n(t.cache_write_1h),
        n(t.output),
        n(t.reasoning),
        n(t.audio_input),
        n(t.audio_output),
        n(t.image_input),
        n(t.image_output),
        n(t.web_search_requests),
        n(t.images),
        n(t.seconds),
        n(r.requests),
        Cell::text(cost),
        Cell::text(r.reported_currency.as_deref()),
        Cell::int(r.status.map(i64::from)),
        flag(r.failed),
        Cell::int(r.latency_ms.map(|l| l.min(i64::MAX as u64) as i64)),
        Cell::Text(&r.provenance.file),
        n(r.provenance.line),
        Cell::Int(weight),
        Cell::text(r.billing_account.as_deref()),
        Cell::text(r.billing_account_name.as_deref()),
        n(t.web_fetch_requests),
        n(t.file_search_calls),
        n(t.code_execution_calls),
        n(t.grounded_prompts),
        Cell::text(r.failure.map(FailureClass::as_str)),
        Cell::int(r.attempt.map(i64::from)),
        Cell::text(r.retry_of.as_deref()),
        n(t.cache_read_audio),
        n(t.web_search_preview_calls),
        Cell::Int(imported_at),
    ]
}

impl store::Writer for SqliteWriter<'_> {
    fn set_cursor(&mut self, name: &str, value: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO pull_cursors (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE \
                 SET value = excluded.value, updated_at = CAST(strftime('%s','now') AS INTEGER)",
                [name, value],
            )
            .map_err(|e| ledger_error(self.path, e))?;
        Ok(())
    }
}

impl RecordSink for SqliteWriter<'_> {
    /// A new id claims its `record_ids` slot and is added. A known id is a duplicate, unless the
    /// record is kept at its largest and this copy is heavier: then the copy replaces it, in the records
    /// and in the rollup.
    fn accept(&mut self, r: UsageRecord) -> Result<Accepted> {
        let path = self.path;
        let err = |e| ledger_error(path, e);
        let start = r.start.timestamp_millis();
        let weight = r.dedup_weight() as i64;
        let mut slot = schema::id_hash(&r.id);
        loop {
            let Some(at) = self.claims.holder(&mut self.slot, slot).map_err(err)? else {
                self.claims.claim(self.conn, slot, start).map_err(err)?;
                self.insert(&r, weight)?;
                self.touched = touch(self.touched, &r);
                self.rollup.record(r, 1);
                return Ok(Accepted::Added);
            };
            let held: Option<i64> = self
                .weight_of
                .query_row(params![at, r.id.as_str()], |row| row.get(0))
                .optional()
                .map_err(err)?;
            let Some(held) = held else {
                // The slot is another id's (the same hash): probe the next one.
                slot = slot.wrapping_add(1);
                continue;
            };
            if r.dedup != DedupPolicy::KeepLargest || held >= weight {
                return Ok(Accepted::Duplicate);
            }
            // The copy it replaces leaves the rollup as the new one enters it.
            let old = self
                .old
                .query_row(params![at, r.id.as_str()], |row| {
                    record_from_row(row, &mut BTreeMap::new())
                })
                .map_err(err)?;
            self.delete
                .execute(params![at, r.id.as_str()])
                .map_err(err)?;
            self.insert(&r, weight)?;
            if at != start {
                self.claims
                    .move_to(&mut self.moved, slot, start)
                    .map_err(err)?;
            }
            self.touched = touch(touch(self.touched, &old), &r);
            self.rollup.record(old, -1);
            self.rollup.record(r, 1);
            return Ok(Accepted::Replaced);
        }
    }
}

/// `touched` widened to the day of `r`.
fn touch(touched: Option<(i64, i64)>, r: &UsageRecord) -> Option<(i64, i64)> {
    let ms = r.start.timestamp_millis();
    Some(touched.map_or((ms, ms), |(a, b)| (a.min(ms), b.max(ms))))
}

fn record_from_row(
    row: &Row<'_>,
    files: &mut BTreeMap<String, Arc<str>>,
) -> rusqlite::Result<UsageRecord> {
    cells::record_from_cells(row, files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Provenance, Provider};

    /// Writes a schema-1 ledger at `path` holding one record (`old`), with `page_size` when given.
    fn write_v1_ledger(path: &Path, page_size: Option<u32>) {
        let conn = Connection::open(path).unwrap();
        if let Some(size) = page_size {
            conn.execute_batch(&format!("PRAGMA page_size = {size}"))
                .unwrap();
        }
        conn.execute_batch(schema::MIGRATIONS[0].sql).unwrap();
        conn.execute_batch(
            "PRAGMA user_version = 1; INSERT INTO records (id, source, provider, model, start_ms, file, line) \
             VALUES ('old', 'gcp-billing', 'google', 'gemini-2.5-pro', 1791158400000, 'f.csv', 2);",
        )
        .unwrap();
    }

    fn record(id: &str) -> UsageRecord {
        let at = Provenance {
            file: Arc::from("f.csv"),
            line: 2,
        };
        let start = Utc.with_ymd_and_hms(2026, 10, 5, 0, 0, 0).unwrap();
        UsageRecord::new(
            id.into(),
            "gcp-billing",
            Provider::Google,
            "gemini-2.5-pro".into(),
            start,
            at,
        )
    }

    fn all(ledger: &SqliteLedger) -> Vec<UsageRecord> {
        let mut out = Vec::new();
        ledger
            .for_each(None, &mut |r| {
                out.push(r);
                Ok(())
            })
            .unwrap();
        out
    }

    fn journal_mode(conn: &Connection) -> String {
        conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap()
    }

    /// A new ledger in a temporary folder (kept as long as the folder is).
    fn new_ledger() -> (tempfile::TempDir, PathBuf, SqliteLedger) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        let ledger = SqliteLedger::open(&path).unwrap();
        (dir, path, ledger)
    }

    /// Writes a record with id `id` and gives the journal mode the write ran in.
    fn mode_while_writing(ledger: &mut SqliteLedger, id: &str) -> String {
        ledger
            .write(true, |w| {
                w.accept(record(id))?;
                Ok(journal_mode(w.conn))
            })
            .unwrap()
    }

    /// The first import into a ledger with no records writes in rollback-journal mode (its pages once,
    /// straight into the file); the file is back in WAL after, and later imports stay in WAL.
    #[test]
    fn the_first_import_writes_without_the_wal_and_leaves_the_file_in_wal() {
        let (dir, path, mut ledger) = new_ledger();
        assert_eq!(journal_mode(&ledger.conn), "wal");
        let during = mode_while_writing(&mut ledger, "a");
        assert_eq!(during, "delete");
        assert_eq!(journal_mode(&ledger.conn), "wal");
        assert!(!dir.path().join("ledger.db-journal").exists());
        let during = mode_while_writing(&mut ledger, "b");
        assert_eq!(during, "wal");
        let ids: Vec<String> = all(&ledger).into_iter().map(|r| r.id.to_string()).collect();
        assert_eq!(ids, ["a", "b"]);
        // What another connection reads after reopening.
        drop(ledger);
        let other = SqliteLedger::open(&path).unwrap();
        assert_eq!(journal_mode(&other.conn), "wal");
        assert_eq!(all(&other).len(), 2);
    }

    /// When another connection has the new ledger open, the first import stays in WAL (leaving it
    /// would need the file to itself) and still writes.
    #[test]
    fn the_first_import_stays_in_wal_while_another_connection_has_the_file() {
        let (_dir, path, mut ledger) = new_ledger();
        let reader = SqliteLedger::open(&path).unwrap();
        assert_eq!(all(&reader).len(), 0);
        let during = mode_while_writing(&mut ledger, "a");
        assert_eq!(during, "wal");
        assert_eq!(all(&reader).len(), 1);
    }

    /// A first import that fails leaves the ledger with no records, in WAL, with no journal behind.
    #[test]
    fn a_failed_first_import_leaves_an_empty_ledger_in_wal() {
        let (dir, _, mut ledger) = new_ledger();
        let failed: Result<()> = ledger.write(true, |w| {
            for i in 0..5_000 {
                w.accept(record(&format!("r{i}")))?;
            }
            Err(Error::usage("bad record"))
        });
        assert!(failed.is_err());
        assert_eq!(journal_mode(&ledger.conn), "wal");
        assert!(!dir.path().join("ledger.db-journal").exists());
        assert!(all(&ledger).is_empty());
        let stats = ledger.stats().unwrap();
        assert_eq!(stats.records, 0);
    }

    #[test]
    fn a_version_1_ledger_gains_the_billing_account_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        write_v1_ledger(&path, None);
        let mut ledger = SqliteLedger::open(&path).unwrap();
        assert_eq!(schema::version(&ledger.conn).unwrap(), schema::latest());
        let mut new = record("new");
        new.billing_account = Some("01A2B3-C4D5E6-F7A8B9".into());
        new.billing_account_name = Some("Acme billing".into());
        ledger
            .write(true, |w| w.accept(new.clone()).map(|_| ()))
            .unwrap();
        let rows = all(&ledger);
        assert_eq!(rows.len(), 2);
        let old = rows.iter().find(|r| r.id == "old").unwrap();
        assert_eq!(old.billing_account, None);
        assert_eq!(old.billing_account_name, None);
        let back = rows.iter().find(|r| r.id == "new").unwrap();
        assert_eq!(
            back.billing_account.as_deref(),
            Some("01A2B3-C4D5E6-F7A8B9")
        );
        assert_eq!(back.billing_account_name.as_deref(), Some("Acme billing"));
        // The migrated row's id is known to the id hashes (version 9): importing it again adds nothing.
        let again = ledger.write(true, |w| w.accept(record("old"))).unwrap();
        assert_eq!(again, Accepted::Duplicate);
        assert_eq!(all(&ledger).len(), 2);
    }

    /// Two ids with the same 64-bit hash stay two records: the second takes the next free slot, and
    /// each is found again as a duplicate of itself. (A real collision cannot be built by hand, so a
    /// foreign id's slot is planted where `a`'s hash points.)
    #[test]
    fn an_id_whose_hash_is_taken_by_another_id_takes_the_next_slot() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = SqliteLedger::open(&dir.path().join("ledger.db")).unwrap();
        let other = record("other");
        ledger
            .write(true, |w| w.accept(other.clone()).map(|_| ()))
            .unwrap();
        let start = other.start.timestamp_millis();
        let hash = schema::id_hash("a");
        ledger
            .conn
            .execute(
                "INSERT INTO record_ids VALUES (?1, ?2)",
                params![hash, start],
            )
            .unwrap();
        let first = ledger.write(true, |w| w.accept(record("a"))).unwrap();
        assert_eq!(first, Accepted::Added);
        let next: i64 = ledger
            .conn
            .query_row(
                "SELECT count(*) FROM record_ids WHERE hash = ?1",
                [hash.wrapping_add(1)],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(next, 1, "`a` took the slot after its hash");
        let again = ledger.write(true, |w| w.accept(record("a"))).unwrap();
        assert_eq!(again, Accepted::Duplicate);
        let ids: Vec<crate::record::Text> = all(&ledger).into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["a", "other"]);
    }

    /// Two copies of record `m` kept by weight: 100 output tokens, and 500 thirty hours later.
    fn light_and_heavy() -> (UsageRecord, UsageRecord) {
        let mut light = record("m");
        light.dedup = DedupPolicy::KeepLargest;
        light.tokens.output = 100;
        let mut heavy = light.clone();
        heavy.tokens.output = 500;
        heavy.start += chrono::Duration::hours(30);
        (light, heavy)
    }

    /// A heavier copy that starts at another time replaces the lighter one, and the id's slot follows it:
    /// the lighter copy imported again is a duplicate, and the rollup holds the heavier copy alone.
    #[test]
    fn a_heavier_copy_at_another_start_replaces_the_record_and_moves_its_slot() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = SqliteLedger::open(&dir.path().join("ledger.db")).unwrap();
        let (light, heavy) = light_and_heavy();
        let first = ledger.write(true, |w| w.accept(light.clone())).unwrap();
        assert_eq!(first, Accepted::Added);
        let second = ledger.write(true, |w| w.accept(heavy.clone())).unwrap();
        assert_eq!(second, Accepted::Replaced);
        let third = ledger.write(true, |w| w.accept(light.clone())).unwrap();
        assert_eq!(third, Accepted::Duplicate);
        let rows = all(&ledger);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].start, heavy.start);
        assert_eq!(rows[0].tokens.output, 500);
        let sums: Vec<(i64, i64, i64)> = ["rollup", "rollup_daily"]
            .iter()
            .map(|table| {
                ledger
                    .conn
                    .query_row(
                        &format!("SELECT count(*), sum(records), sum(output_tokens) FROM {table}"),
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .unwrap()
            })
            .collect();
        // The lighter copy's hour and day are left with no records, and go.
        assert_eq!(sums, [(1, 1, 500), (1, 1, 500)]);
    }

    /// Within one import, the slots claimed are held until it commits: a second copy of an id is still a
    /// duplicate, a heavier copy at another start replaces it and its slot follows, and the slots
    /// written at the commit hold the records' starts.
    #[test]
    fn copies_of_an_id_in_one_import_see_the_slot_it_claimed() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = SqliteLedger::open(&dir.path().join("ledger.db")).unwrap();
        let (light, heavy) = light_and_heavy();
        let answers = ledger
            .write(true, |w| {
                Ok([
                    w.accept(light.clone())?,
                    w.accept(record("n"))?,
                    w.accept(light.clone())?,
                    w.accept(heavy.clone())?,
                    w.accept(light.clone())?,
                    w.accept(record("n"))?,
                ])
            })
            .unwrap();
        use Accepted::{Added, Duplicate, Replaced};
        assert_eq!(
            answers,
            [Added, Added, Duplicate, Replaced, Duplicate, Duplicate]
        );
        let slots: Vec<(i64, i64)> = {
            let mut stmt = ledger
                .conn
                .prepare("SELECT hash, start_ms FROM record_ids ORDER BY hash")
                .unwrap();
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
            rows.map(|r| r.unwrap()).collect()
        };
        let mut expected = vec![
            (schema::id_hash("m"), heavy.start.timestamp_millis()),
            (schema::id_hash("n"), record("n").start.timestamp_millis()),
        ];
        expected.sort();
        assert_eq!(slots, expected);
        let rows = all(&ledger);
        assert_eq!(rows.len(), 2);
        let m = rows.iter().find(|r| r.id == "m").unwrap();
        assert_eq!((m.start, m.tokens.output), (heavy.start, 500));
        // A later import finds both ids in the table.
        let again = ledger
            .write(true, |w| {
                Ok([w.accept(light.clone())?, w.accept(record("n"))?])
            })
            .unwrap();
        assert_eq!(again, [Duplicate, Duplicate]);
        let sums: (i64, i64) = ledger
            .conn
            .query_row(
                "SELECT sum(records), sum(output_tokens) FROM rollup_daily",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(sums, (2, 500));
    }

    /// A dry run (rolled back) leaves no slot behind: the same records are added by the next import.
    #[test]
    fn a_rolled_back_import_leaves_no_slots() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = SqliteLedger::open(&dir.path().join("ledger.db")).unwrap();
        let dry = ledger
            .write(false, |w| {
                Ok([w.accept(record("a"))?, w.accept(record("a"))?])
            })
            .unwrap();
        assert_eq!(dry, [Accepted::Added, Accepted::Duplicate]);
        let ids: i64 = ledger
            .conn
            .query_row("SELECT count(*) FROM record_ids", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ids, 0);
        let real = ledger.write(true, |w| w.accept(record("a"))).unwrap();
        assert_eq!(real, Accepted::Added);
        assert_eq!(all(&ledger).len(), 1);
    }

    /// Parameters left bound from the record before are rebound only when they change: records that
    /// alternate between values, absent fields and zero counts read back exactly as written.
    #[test]
    fn records_written_one_after_another_read_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = SqliteLedger::open(&dir.path().join("ledger.db")).unwrap();
        let mut written = Vec::new();
        for i in 0..6u64 {
            let mut r = record(&format!("r{i}"));
            r.start += chrono::Duration::minutes(i as i64);
            if i % 2 == 0 {
                r.team = Some(format!("team-{}", i % 4).into());
                r.tokens.input = 1_000 + i;
                r.reported_cost = Some(rust_decimal::Decimal::new(125 + i as i64, 4));
                r.status = Some(200);
                r.attempt = Some(2);
                r.tags.insert("env".into(), "prod".into());
            }
            if i % 3 == 0 {
                r.tokens.output = 7;
                r.long_context = Some(i == 3);
                r.failed = true;
                r.failure = Some(FailureClass::RateLimit);
                r.latency_ms = Some(900);
            }
            written.push(r);
        }
        ledger
            .write(true, |w| {
                for r in &written {
                    w.accept(r.clone())?;
                }
                Ok(())
            })
            .unwrap();
        let back = all(&ledger);
        assert_eq!(back.len(), written.len());
        for (a, b) in back.iter().zip(&written) {
            assert_eq!(a.id, b.id);
            assert_eq!(a.start, b.start);
            assert_eq!(a.team, b.team, "{}", b.id);
            assert_eq!(a.tokens, b.tokens, "{}", b.id);
            assert_eq!(a.reported_cost, b.reported_cost, "{}", b.id);
            assert_eq!(a.status, b.status, "{}", b.id);
            assert_eq!(a.attempt, b.attempt, "{}", b.id);
            assert_eq!(a.tags, b.tags, "{}", b.id);
            assert_eq!(a.long_context, b.long_context, "{}", b.id);
            assert_eq!(a.failed, b.failed, "{}", b.id);
            assert_eq!(a.failure, b.failure, "{}", b.id);
            assert_eq!(a.latency_ms, b.latency_ms, "{}", b.id);
        }
    }

    #[test]
    fn a_version_2_ledger_gains_the_tool_call_columns_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(schema::MIGRATIONS[0].sql).unwrap();
            conn.execute_batch(schema::MIGRATIONS[1].sql).unwrap();
            conn.execute_batch(
                "PRAGMA user_version = 2; INSERT INTO records (id, source, provider, model, start_ms, \
                 web_search_requests, file, line) VALUES ('old', 'api-log', 'anthropic', 'claude-sonnet-4-5', \
                 1791158400000, 3, 'f.jsonl', 1);",
            )
            .unwrap();
        }
        let mut ledger = SqliteLedger::open(&path).unwrap();
        assert_eq!(schema::version(&ledger.conn).unwrap(), schema::latest());
        let mut new = record("new");
        new.tokens.web_fetch_requests = 2;
        new.tokens.file_search_calls = 4;
        new.tokens.code_execution_calls = 5;
        new.tokens.grounded_prompts = 1;
        ledger
            .write(true, |w| w.accept(new.clone()).map(|_| ()))
            .unwrap();
        let rows = all(&ledger);
        let old = rows.iter().find(|r| r.id == "old").unwrap();
        assert_eq!(old.tokens.web_search_requests, 3);
        assert_eq!(old.tokens.tool_calls(), 3);
        let back = rows.iter().find(|r| r.id == "new").unwrap();
        assert_eq!(back.tokens, new.tokens);
    }

    /// A new ledger is created with 16 KiB pages; a ledger created with SQLite's default 4 KiB pages
    /// keeps them (it is not rewritten), and takes records and reads them back as before.
    #[test]
    fn a_new_ledger_has_16_kib_pages_and_an_existing_one_keeps_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let page_size = |l: &SqliteLedger| -> i64 {
            l.conn
                .query_row("PRAGMA page_size", [], |r| r.get(0))
                .unwrap()
        };
        let mut new = SqliteLedger::open(&dir.path().join("new.db")).unwrap();
        new.write(true, |w| w.accept(record("a")).map(|_| ()))
            .unwrap();
        assert_eq!(page_size(&new), 16 * 1024);

        let path = dir.path().join("old.db");
        write_v1_ledger(&path, Some(4096));
        let mut old = SqliteLedger::open(&path).unwrap();
        assert_eq!(page_size(&old), 4096);
        let added = old.write(true, |w| w.accept(record("b"))).unwrap();
        assert_eq!(added, Accepted::Added);
        drop(old);
        let old = SqliteLedger::open(&path).unwrap();
        assert_eq!(page_size(&old), 4096);
        let ids: Vec<crate::record::Text> = all(&old).into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["b", "old"]);
    }

    /// A process that finds a new ledger locked by another one (here: a writer holding the lock for a
    /// moment) waits for it instead of failing with "database is locked".
    #[test]
    fn opening_a_new_ledger_waits_for_a_lock_held_by_another_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        let holder = Connection::open(&path).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        let opener = {
            let path = path.clone();
            std::thread::spawn(move || {
                SqliteLedger::open(&path).map(|l| l.stats().unwrap().schema_version)
            })
        };
        std::thread::sleep(Duration::from_millis(300));
        holder.execute_batch("COMMIT").unwrap();
        let version = opener.join().unwrap().unwrap();
        assert_eq!(version, schema::latest());
    }
}
