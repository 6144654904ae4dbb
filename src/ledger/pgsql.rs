//! The PostgreSQL backend (`--ledger postgres://user@host:port/db`): a ledger many machines share, with
//! the SQLite file's contract.
//!
//! - Tables live in the schema `aispend` (created on first use), versioned by `aispend.schema_version`
//!   and migrated forward on open, under a transaction-level advisory lock so that machines opening a
//!   new ledger at once create it once.
//! - An import is one transaction that first takes the ledger's write lock (an advisory lock): imports
//!   from many machines take turns, as on SQLite, waiting up to `--lock-timeout`. Records are
//!   deduplicated on their id (`ON CONFLICT (id) DO NOTHING`; a keep-largest copy replaces a lighter
//!   one under a row lock), so overlapping imports add each record once.
//! - The rollup and `daily_cost` are kept in the import's transaction, as in SQLite; reports read the
//!   rollup through the same merge (`rollup::Merge`). Readers never wait for a writer.

use std::cell::{RefCell, RefMut};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use postgres::types::{IsNull, ToSql, Type};
use postgres::{Client, GenericClient, Statement, Transaction};
use rust_decimal::Decimal;

use super::cells::{record_from_cells, Cells};
use super::daily::{self, Pricing, Repriced};
use super::rollup::{self, Merge, Sums, HOUR_MS, REPORTED, SUMMED};
use super::{schema, store, LedgerStats};
use crate::decimal::parse_decimal;
use crate::error::{Error, Result};
use crate::input::{Accepted, RecordSink};
use crate::pg::{error_text, PgTarget};
use crate::pricing::prompt_band;
use crate::record::{DedupPolicy, Text, UsageRecord};
use crate::report::aggregate::Aggregator;

/// The advisory lock key imports and migrations hold ("aispend" in ASCII): one writer at a time per
/// database.
const WRITE_LOCK: i64 = 0x0061_6973_7065_6e64;

/// Each entry moves the schema one version forward. Never edit a shipped entry: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: records (unique on the id, which deduplicates; read by time), the rollup and its keys,
    // incremental pull cursors, and the priced daily table. Types as SQLite keeps them: whole numbers
    // BIGINT, flags BOOLEAN, money NUMERIC (exact).
    "CREATE TABLE records (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        start_ms BIGINT NOT NULL,
        end_ms BIGINT,
        service_tier TEXT,
        batch BOOLEAN NOT NULL DEFAULT false,
        region TEXT,
        long_context BOOLEAN,
        team TEXT,
        project TEXT,
        \"user\" TEXT,
        api_key TEXT,
        workspace TEXT,
        tags TEXT,
        input_tokens BIGINT NOT NULL DEFAULT 0,
        cache_read_tokens BIGINT NOT NULL DEFAULT 0,
        cache_write_5m_tokens BIGINT NOT NULL DEFAULT 0,
        cache_write_1h_tokens BIGINT NOT NULL DEFAULT 0,
        output_tokens BIGINT NOT NULL DEFAULT 0,
        reasoning_tokens BIGINT NOT NULL DEFAULT 0,
        audio_input_tokens BIGINT NOT NULL DEFAULT 0,
        audio_output_tokens BIGINT NOT NULL DEFAULT 0,
        image_input_tokens BIGINT NOT NULL DEFAULT 0,
        image_output_tokens BIGINT NOT NULL DEFAULT 0,
        web_search_requests BIGINT NOT NULL DEFAULT 0,
        images BIGINT NOT NULL DEFAULT 0,
        seconds BIGINT NOT NULL DEFAULT 0,
        requests BIGINT NOT NULL DEFAULT 1,
        reported_cost NUMERIC,
        reported_currency TEXT,
        status BIGINT,
        failed BOOLEAN NOT NULL DEFAULT false,
        latency_ms BIGINT,
        file TEXT NOT NULL,
        line BIGINT NOT NULL,
        weight BIGINT NOT NULL DEFAULT 0,
        billing_account TEXT,
        billing_account_name TEXT,
        web_fetch_requests BIGINT NOT NULL DEFAULT 0,
        file_search_calls BIGINT NOT NULL DEFAULT 0,
        code_execution_calls BIGINT NOT NULL DEFAULT 0,
        grounded_prompts BIGINT NOT NULL DEFAULT 0,
        failure_class TEXT,
        attempt BIGINT,
        retry_of TEXT,
        imported_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX records_start ON records (start_ms);
    CREATE TABLE rollup_keys (
        id BIGSERIAL PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        service_tier TEXT,
        batch BOOLEAN NOT NULL,
        region TEXT,
        long_context BOOLEAN,
        prompt_band BIGINT NOT NULL,
        classes BIGINT NOT NULL,
        failed BOOLEAN NOT NULL,
        team TEXT,
        project TEXT,
        workspace TEXT
    );
    CREATE TABLE rollup (
        hour BIGINT NOT NULL,
        key BIGINT NOT NULL REFERENCES rollup_keys (id),
        records BIGINT NOT NULL,
        requests BIGINT NOT NULL,
        input_tokens BIGINT NOT NULL,
        cache_read_tokens BIGINT NOT NULL,
        cache_write_5m_tokens BIGINT NOT NULL,
        cache_write_1h_tokens BIGINT NOT NULL,
        output_tokens BIGINT NOT NULL,
        reasoning_tokens BIGINT NOT NULL,
        audio_input_tokens BIGINT NOT NULL,
        audio_output_tokens BIGINT NOT NULL,
        image_input_tokens BIGINT NOT NULL,
        image_output_tokens BIGINT NOT NULL,
        web_search_requests BIGINT NOT NULL,
        images BIGINT NOT NULL,
        seconds BIGINT NOT NULL,
        web_fetch_requests BIGINT NOT NULL,
        file_search_calls BIGINT NOT NULL,
        code_execution_calls BIGINT NOT NULL,
        grounded_prompts BIGINT NOT NULL,
        reported_records BIGINT NOT NULL,
        reported_cost NUMERIC,
        PRIMARY KEY (hour, key)
    );
    CREATE TABLE pull_cursors (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE TABLE daily_cost (
        day DATE NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        source TEXT NOT NULL,
        team TEXT,
        project TEXT,
        workspace TEXT,
        service_tier TEXT,
        requests BIGINT NOT NULL,
        failed_requests BIGINT NOT NULL,
        input_tokens BIGINT NOT NULL,
        cache_read_tokens BIGINT NOT NULL,
        cache_write_tokens BIGINT NOT NULL,
        output_tokens BIGINT NOT NULL,
        reasoning_tokens BIGINT NOT NULL,
        cost NUMERIC NOT NULL,
        unpriced_records BIGINT NOT NULL,
        reported_cost NUMERIC,
        currency TEXT NOT NULL,
        priced_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX daily_cost_day ON daily_cost (day);",
    // 2: cached audio input (its own rate) and calls of the older `web_search_preview` tool, in the
    // records and summed in the rollup; older rows have none.
    "ALTER TABLE records ADD COLUMN cache_read_audio_tokens BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE records ADD COLUMN web_search_preview_calls BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE rollup ADD COLUMN cache_read_audio_tokens BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE rollup ADD COLUMN web_search_preview_calls BIGINT NOT NULL DEFAULT 0;",
];

/// The schema version this build writes.
fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// `schema::COLUMNS` as PostgreSQL reads them (`user` is a keyword there; money comes back as text).
static COLUMNS: LazyLock<String> = LazyLock::new(|| {
    schema::COLUMNS
        .replace(" user,", " \"user\",")
        .replace(" reported_cost,", " reported_cost::text,")
});

/// The columns an insert writes, in [`values`] order, with the type each parameter is sent as.
const WRITTEN: [(&str, &str); 49] = [
    ("id", ""),
    ("source", ""),
    ("provider", ""),
    ("model", ""),
    ("start_ms", ""),
    ("end_ms", ""),
    ("service_tier", ""),
    ("batch", ""),
    ("region", ""),
    ("long_context", ""),
    ("team", ""),
    ("project", ""),
    ("\"user\"", ""),
    ("api_key", ""),
    ("workspace", ""),
    ("tags", ""),
    ("input_tokens", ""),
    ("cache_read_tokens", ""),
    ("cache_write_5m_tokens", ""),
    ("cache_write_1h_tokens", ""),
    ("output_tokens", ""),
    ("reasoning_tokens", ""),
    ("audio_input_tokens", ""),
    ("audio_output_tokens", ""),
    ("image_input_tokens", ""),
    ("image_output_tokens", ""),
    ("web_search_requests", ""),
    ("images", ""),
    ("seconds", ""),
    ("requests", ""),
    ("reported_cost", "::text::numeric"),
    ("reported_currency", ""),
    ("status", ""),
    ("failed", ""),
    ("latency_ms", ""),
    ("file", ""),
    ("line", ""),
    ("weight", ""),
    ("billing_account", ""),
    ("billing_account_name", ""),
    ("web_fetch_requests", ""),
    ("file_search_calls", ""),
    ("code_execution_calls", ""),
    ("grounded_prompts", ""),
    ("failure_class", ""),
    ("attempt", ""),
    ("retry_of", ""),
    ("cache_read_audio_tokens", ""),
    ("web_search_preview_calls", ""),
];

/// Records held back and written together, in one statement: a round trip per batch instead of one
/// per record. A row is 49 parameters; PostgreSQL takes at most 65,535 in a statement.
const BATCH: usize = 1_000;

/// The `VALUES` rows of a multi-row insert: `rows` rows of one parameter per column, each with the
/// column's cast (`$1, $2::text::numeric), ($3, $4::text::numeric)`).
fn values_rows(rows: usize, casts: &[&str]) -> String {
    let row = |n: usize| -> String {
        let marks: Vec<String> = casts
            .iter()
            .enumerate()
            .map(|(i, cast)| format!("${}{cast}", n * casts.len() + i + 1))
            .collect();
        format!("({})", marks.join(", "))
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}

/// Adds each of `rows` records unless its id is present, returning the ids added.
fn insert_sql(rows: usize) -> String {
    let names: Vec<&str> = WRITTEN.iter().map(|(n, _)| *n).collect();
    let casts: Vec<&str> = WRITTEN.iter().map(|(_, c)| *c).collect();
    format!(
        "INSERT INTO records ({}) VALUES {} ON CONFLICT (id) DO NOTHING RETURNING id",
        names.join(", "),
        values_rows(rows, &casts)
    )
}

/// Replaces a lighter copy of a record.
static REPLACE: LazyLock<String> = LazyLock::new(|| {
    let sets: Vec<String> = WRITTEN
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, (n, cast))| format!("{n} = ${}{cast}", i + 1))
        .collect();
    format!(
        "UPDATE records SET {} WHERE id = $1 AND weight < $38",
        sets.join(", ")
    )
});

/// An open PostgreSQL ledger.
pub struct PgLedger {
    /// The connection: one query at a time (reads take `&self`, as on SQLite).
    client: RefCell<Client>,
    target: PgTarget,
}

impl PgLedger {
    /// Connects, and creates or migrates the schema; `existing`: refuse a database with no ledger
    /// (nothing is created).
    pub fn open(target: PgTarget, lock_timeout: Duration, existing: bool) -> Result<PgLedger> {
        let mut client = target.connect()?;
        let err = |e: postgres::Error| db_error(&target, &e);
        // Readers and writers alike wait for a lock no longer than this (a writer's advisory lock,
        // a migration's).
        client
            .batch_execute(&format!(
                "SET search_path TO aispend; SET lock_timeout = {}",
                lock_timeout.as_millis().clamp(1, i32::MAX as u128)
            ))
            .map_err(err)?;
        let mut ledger = PgLedger {
            client: RefCell::new(client),
            target,
        };
        let current = ledger.version()?;
        if current == Some(latest()) {
            return Ok(ledger);
        }
        if existing && current.is_none() {
            return Err(Error::usage(format!(
                "no ledger at {}: import usage first (`aispend --ledger URL import PATH…`)",
                ledger.target.display()
            )));
        }
        ledger.migrate()?;
        Ok(ledger)
    }

    /// The schema version, `None` when there is no ledger (no `aispend.schema_version`).
    fn version(&mut self) -> Result<Option<i64>> {
        version(self.client.get_mut()).map_err(|e| self.error(&e))
    }

    /// The connection, for one query or one streamed read.
    fn client(&self) -> Result<RefMut<'_, Client>> {
        self.client.try_borrow_mut().map_err(|_| Error::Ledger {
            path: self.target.display().to_string(),
            message: "the connection is busy with another read".into(),
        })
    }

    fn migrate(&mut self) -> Result<()> {
        let started = Instant::now();
        let target = &self.target;
        let err = |e: postgres::Error| lock_error(target, &e, started);
        let mut tx = self.client.get_mut().transaction().map_err(err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
            .map_err(err)?;
        // Read again under the lock: another machine may have created the ledger meanwhile.
        let current = version(&mut tx).map_err(err)?;
        if let Some(v) = current.filter(|&v| v > latest()) {
            return Err(Error::usage(format!(
                "ledger {}: written by a newer aispend (schema version {v}; this one reads up to {}): \
                 upgrade aispend",
                target.display(),
                latest()
            )));
        }
        if current.is_none() {
            let tables: i64 = tx
                .query_one(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = 'aispend'",
                    &[],
                )
                .map_err(err)?
                .get(0);
            if tables > 0 {
                return Err(Error::usage(format!(
                    "ledger {}: the schema \"aispend\" holds tables, but not an aispend ledger; nothing \
                     was added to it",
                    target.display()
                )));
            }
            tx.batch_execute(
                "CREATE SCHEMA IF NOT EXISTS aispend; \
                 CREATE TABLE aispend.schema_version (version BIGINT NOT NULL); \
                 INSERT INTO aispend.schema_version VALUES (0);",
            )
            .map_err(err)?;
        }
        let from = current.unwrap_or(0).max(0) as usize;
        for step in &MIGRATIONS[from.min(MIGRATIONS.len())..] {
            tx.batch_execute(step).map_err(err)?;
        }
        tx.execute(
            "UPDATE aispend.schema_version SET version = $1",
            &[&latest()],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    fn error(&self, e: &postgres::Error) -> Error {
        db_error(&self.target, e)
    }

    /// The URL without its password.
    pub fn name(&self) -> &str {
        self.target.display()
    }

    /// Runs `f` with a writer inside one transaction that holds the write lock: committed (after the
    /// rollup and the days of `daily_cost` touched are written) when `f` succeeds and `commit` is
    /// true, rolled back otherwise.
    pub fn write<T>(
        &mut self,
        commit: bool,
        pricing: Option<&Pricing>,
        f: impl FnOnce(&mut PgWriter<'_>) -> Result<T>,
    ) -> Result<T> {
        let target = &self.target;
        let mut tx = begin(self.client.get_mut(), target)?;
        let err = |e: postgres::Error| db_error(target, &e);
        let statements = Statements {
            insert: tx.prepare(&insert_sql(BATCH)).map_err(err)?,
            replace: tx.prepare(&REPLACE).map_err(err)?,
            weights: tx
                .prepare("SELECT id, weight FROM records WHERE id = ANY($1)")
                .map_err(err)?,
            old: tx
                .prepare(&format!(
                    "SELECT {} FROM records WHERE id = ANY($1) FOR UPDATE",
                    *COLUMNS
                ))
                .map_err(err)?,
        };
        let mut writer = PgWriter {
            tx,
            target,
            statements,
            rollup: Delta::default(),
            touched: None,
            held: Vec::with_capacity(BATCH),
            taken: 0,
            revisions: Vec::new(),
        };
        let value = f(&mut writer)?;
        if commit {
            // Anything still held back (a caller that did not settle).
            writer.write_held()?;
            let PgWriter {
                mut tx,
                rollup,
                touched,
                ..
            } = writer;
            rollup.flush(&mut tx).map_err(err)?;
            if let (Some(pricing), Some(days)) = (
                pricing,
                touched.and_then(|(a, b)| daily::days_between(a, b)),
            ) {
                refresh_daily(&mut tx, target, pricing, days)?;
            }
            tx.commit().map_err(err)?;
        }
        Ok(value)
    }

    /// Rewrites all of `daily_cost` with `pricing`, in one transaction holding the write lock.
    pub fn reprice(&mut self, pricing: &Pricing) -> Result<Repriced> {
        let target = &self.target;
        let mut tx = begin(self.client.get_mut(), target)?;
        let err = |e: postgres::Error| db_error(target, &e);
        let total = |tx: &mut Transaction<'_>| -> Result<Decimal> {
            let text: String = tx
                .query_one("SELECT COALESCE(sum(cost), 0)::text FROM daily_cost", &[])
                .map_err(err)?
                .get(0);
            Ok(parse_decimal(&text).unwrap_or_default())
        };
        let mut done = Repriced {
            before: total(&mut tx)?,
            ..Default::default()
        };
        let row = tx
            .query_one("SELECT min(start_ms), max(start_ms) FROM records", &[])
            .map_err(err)?;
        let (first, last): (Option<i64>, Option<i64>) = (row.get(0), row.get(1));
        tx.execute("DELETE FROM daily_cost", &[]).map_err(err)?;
        if let Some(days) = first.zip(last).and_then(|(a, b)| daily::days_between(a, b)) {
            done.rows = refresh_daily(&mut tx, target, pricing, days)?;
            done.days = Some(days);
        }
        done.after = total(&mut tx)?;
        tx.commit().map_err(err)?;
        Ok(done)
    }

    /// Where the incremental pull `name` stands (`None` before its first pull).
    pub fn cursor(&self, name: &str) -> Result<Option<String>> {
        let row = self
            .client()?
            .query_opt("SELECT value FROM pull_cursors WHERE name = $1", &[&name])
            .map_err(|e| self.error(&e))?;
        Ok(row.map(|r| r.get(0)))
    }

    /// The newest record's start time.
    pub fn newest(&self) -> Result<Option<DateTime<Utc>>> {
        let ms: Option<i64> = self
            .client()?
            .query_one("SELECT max(start_ms) FROM records", &[])
            .map_err(|e| self.error(&e))?
            .get(0);
        Ok(ms.and_then(|m| Utc.timestamp_millis_opt(m).single()))
    }

    pub fn for_each(
        &self,
        range: Option<(DateTime<Utc>, DateTime<Utc>)>,
        f: &mut dyn FnMut(UsageRecord) -> Result<()>,
    ) -> Result<()> {
        for_each_on(&mut *self.client()?, &self.target, range, f)
    }

    pub fn feed(&self, agg: &mut Aggregator<'_>) -> Result<()> {
        feed_on(&mut *self.client()?, &self.target, agg)
    }

    pub fn stats(&self) -> Result<LedgerStats> {
        let target = &self.target;
        let err = |e: postgres::Error| db_error(target, &e);
        let mut client = self.client()?;
        let client = &mut *client;
        let mut stats = LedgerStats {
            schema_version: version(client).map_err(err)?.unwrap_or(0),
            ..Default::default()
        };
        let row = client
            .query_one(
                "SELECT count(*), COALESCE(sum(requests), 0)::bigint, min(start_ms), max(start_ms) \
                 FROM records",
                &[],
            )
            .map_err(err)?;
        let ms = |v: Option<i64>| v.and_then(|m| Utc.timestamp_millis_opt(m).single());
        stats.records = row.get::<_, i64>(0).max(0) as u64;
        stats.requests = row.get::<_, i64>(1).max(0) as u64;
        stats.first = ms(row.get(2));
        stats.last = ms(row.get(3));
        for row in client
            .query(
                "SELECT source, provider, count(*), COALESCE(sum(requests), 0)::bigint FROM records \
                 GROUP BY source, provider ORDER BY source, provider",
                &[],
            )
            .map_err(err)?
        {
            stats.by_source.push((
                row.get(0),
                row.get(1),
                row.get::<_, i64>(2).max(0) as u64,
                row.get::<_, i64>(3).max(0) as u64,
            ));
        }
        let bytes: i64 = client
            .query_one(
                "SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = 'aispend' AND c.relkind = 'r'",
                &[],
            )
            .map_err(err)?
            .get(0);
        stats.file_bytes = bytes.max(0) as u64;
        Ok(stats)
    }
}

/// The schema version on this connection, `None` when there is no ledger.
fn version(client: &mut impl GenericClient) -> std::result::Result<Option<i64>, postgres::Error> {
    // A query of the catalog, not `to_regclass`: its cache may not yet have seen a table another
    // session created while this one waited for the advisory lock (which reads no invalidations).
    let exists: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'aispend' \
             AND tablename = 'schema_version')",
            &[],
        )?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let row = client.query_one("SELECT max(version) FROM aispend.schema_version", &[])?;
    Ok(Some(row.get::<_, Option<i64>>(0).unwrap_or(0)))
}

/// A write transaction holding the ledger's write lock (waiting for another writer up to the lock
/// timeout).
fn begin<'c>(client: &'c mut Client, target: &PgTarget) -> Result<Transaction<'c>> {
    let started = Instant::now();
    let mut tx = client.transaction().map_err(|e| db_error(target, &e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
        .map_err(|e| lock_error(target, &e, started))?;
    Ok(tx)
}

/// An error of the ledger's server: the URL without its password, and what the server said.
fn db_error(target: &PgTarget, e: &postgres::Error) -> Error {
    Error::Ledger {
        path: target.display().to_string(),
        message: error_text(e),
    }
}

/// [`db_error`], saying so when the lock timeout ran out waiting for another writer.
fn lock_error(target: &PgTarget, e: &postgres::Error, started: Instant) -> Error {
    let timed_out = e
        .as_db_error()
        .is_some_and(|db| db.code() == &postgres::error::SqlState::LOCK_NOT_AVAILABLE);
    if !timed_out {
        return db_error(target, e);
    }
    Error::Ledger {
        path: target.display().to_string(),
        message: format!(
            "another process is writing to it and held the write lock for the {:.1} s we waited; \
             try again when it is done, or wait longer with --lock-timeout SECS",
            started.elapsed().as_secs_f64()
        ),
    }
}

/// [`PgLedger::for_each`] on a connection or a transaction, streamed.
fn for_each_on(
    client: &mut impl GenericClient,
    target: &PgTarget,
    range: Option<(DateTime<Utc>, DateTime<Utc>)>,
    f: &mut dyn FnMut(UsageRecord) -> Result<()>,
) -> Result<()> {
    use postgres::fallible_iterator::FallibleIterator;
    let err = |e: postgres::Error| db_error(target, &e);
    let (lo, hi) = match range {
        Some((a, b)) => (a.timestamp_millis(), b.timestamp_millis()),
        None => (i64::MIN, i64::MAX),
    };
    let sql = format!(
        "SELECT {} FROM records WHERE start_ms >= $1 AND start_ms < $2 ORDER BY start_ms, id",
        *COLUMNS
    );
    let mut rows = client.query_raw(sql.as_str(), [lo, hi]).map_err(err)?;
    let mut files = BTreeMap::new();
    while let Some(row) = rows.next().map_err(err)? {
        f(record_from_cells(&row, &mut files).map_err(err)?)?;
    }
    Ok(())
}

/// [`PgLedger::feed`] on a connection or a transaction: the rollup when it serves the query, else the
/// records.
fn feed_on(
    client: &mut impl GenericClient,
    target: &PgTarget,
    agg: &mut Aggregator<'_>,
) -> Result<()> {
    let range = agg.fixed_period().map(|p| (p.start, p.end));
    if agg.rollup_serves() {
        let ms = range.map(|(a, b)| (a.timestamp_millis(), b.timestamp_millis()));
        if feed_rollup(client, ms, agg).map_err(|e| db_error(target, &e))? {
            return Ok(());
        }
        agg.clear();
    }
    for_each_on(client, target, range, &mut |r| agg.accept(r).map(|_| ()))
}

/// `rollup::feed` on PostgreSQL: the same merge of the same rows.
fn feed_rollup(
    client: &mut impl GenericClient,
    range: Option<(i64, i64)>,
    agg: &mut Aggregator<'_>,
) -> std::result::Result<bool, postgres::Error> {
    use postgres::fallible_iterator::FallibleIterator;
    let mut merge = Merge::new(range, agg.tz());
    let file: Arc<str> = Arc::from("");
    for row in client.query(
        &format!("SELECT id, {} FROM rollup_keys", rollup::KEY_COLUMNS),
        &[],
    )? {
        let text = |i: usize| row.text(i).map(Option::unwrap_or_default);
        let mut r = rollup::key_record(&text(1)?, &text(2)?, text(3)?, &file);
        r.service_tier = row.text(4)?;
        r.batch = row.get(5);
        r.region = row.text(6)?;
        r.long_context = row.get(7);
        r.failed = row.get(10);
        r.team = row.text(11)?;
        r.project = row.text(12)?;
        r.workspace = row.text(13)?;
        let band: i64 = row.get(8);
        merge.template(row.get(0), &r, band.max(0) as u64);
    }
    let (lo, hi) = merge.units();
    let sql = format!(
        "SELECT hour, key, {}, reported_cost::text FROM rollup WHERE hour >= $1 AND hour <= $2",
        SUMMED.join(", ")
    );
    let mut rows = client.query_raw(sql.as_str(), [lo, hi])?;
    while let Some(row) = rows.next()? {
        let mut sums = Sums::default();
        let mut fits = true;
        for (i, sum) in sums.counts.iter_mut().enumerate() {
            let v: i64 = row.get(2 + i);
            fits &= v >= 0;
            *sum = v;
        }
        if let Some(cost) = row.text(2 + SUMMED.len())? {
            match parse_decimal(&cost) {
                Some(c) => sums.reported_cost = c,
                None => fits = false,
            }
        }
        if !merge.add(row.get(0), row.get(1), fits.then_some(sums)) {
            return Ok(false);
        }
    }
    Ok(merge.feed(agg))
}

/// Rewrites the rows of `days` in `daily_cost`; returns how many were written.
fn refresh_daily(
    tx: &mut Transaction<'_>,
    target: &PgTarget,
    pricing: &Pricing,
    days: (NaiveDate, NaiveDate),
) -> Result<u64> {
    let err = |e: postgres::Error| db_error(target, &e);
    let rows = daily::compute(pricing, days, &mut |agg| feed_on(tx, target, agg))?;
    let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    tx.execute(
        "DELETE FROM daily_cost WHERE day >= $1::text::date AND day <= $2::text::date",
        &[&day(days.0), &day(days.1)],
    )
    .map_err(err)?;
    // One insert per [`BATCH`] rows.
    let casts: Vec<&str> = (1..=19)
        .map(|i| match i {
            1 => "::text::date",
            16 | 18 => "::text::numeric",
            _ => "",
        })
        .collect();
    for chunk in rows.chunks(BATCH) {
        let texts: Vec<[String; 2]> = chunk
            .iter()
            .map(|row| [day(row.day), row.totals.cost.to_string()])
            .collect();
        let counts: Vec<[i64; 7]> = chunk.iter().map(|row| row.counts()).collect();
        let unpriced: Vec<_> = chunk.iter().map(|row| row.unpriced()).collect();
        let reported: Vec<_> = chunk.iter().map(|row| row.reported()).collect();
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(chunk.len() * casts.len());
        for (i, row) in chunk.iter().enumerate() {
            let d = &row.dims;
            params.push(&texts[i][0]);
            params.extend(d.iter().map(|v| v as &(dyn ToSql + Sync)));
            params.extend(counts[i].iter().map(|v| v as &(dyn ToSql + Sync)));
            params.push(&texts[i][1]);
            params.push(&unpriced[i]);
            params.push(&reported[i]);
            params.push(&row.currency);
        }
        tx.execute(
            &format!(
                "INSERT INTO daily_cost ({}) VALUES {}",
                daily::COLUMNS,
                values_rows(chunk.len(), &casts)
            ),
            &params,
        )
        .map_err(err)?;
    }
    Ok(rows.len() as u64)
}

struct Statements {
    /// A full batch's insert ([`BATCH`] rows); a smaller one is prepared when written.
    insert: Statement,
    replace: Statement,
    /// The weight of each present id of a list.
    weights: Statement,
    /// The rows of a list of ids, locked.
    old: Statement,
}

/// A record held back, and when it was taken.
struct Held {
    seq: u64,
    record: UsageRecord,
    weight: i64,
}

/// Writes records inside an import's transaction, a batch at a time.
pub struct PgWriter<'a> {
    tx: Transaction<'a>,
    target: &'a PgTarget,
    statements: Statements,
    rollup: Delta,
    /// The first and last start (ms) of the records added, replaced or replacing.
    touched: Option<(i64, i64)>,
    /// Records taken and not yet written, each answered `Added`.
    held: Vec<Held>,
    /// Records taken so far.
    taken: u64,
    /// Answers that turned out otherwise, not yet handed back.
    revisions: Vec<store::Revision>,
}

/// What the copies of one id do, one after another, as record-at-a-time imports decide it: the first
/// is added when the ledger does not hold the id (`present` is `None`); a later copy, or one of an id
/// present with that weight, replaces what is there when it keeps the largest and weighs more, else
/// it is a duplicate. Returns each copy's answer and the copy that ends in the ledger, if one does.
fn settle_copies(copies: &[&Held], present: Option<i64>) -> (Vec<Accepted>, Option<usize>) {
    let mut weight = present;
    let mut kept = None;
    let answers = copies
        .iter()
        .enumerate()
        .map(|(i, h)| match weight {
            None => {
                (weight, kept) = (Some(h.weight), Some(i));
                Accepted::Added
            }
            Some(w) if h.record.dedup == DedupPolicy::KeepLargest && w < h.weight => {
                (weight, kept) = (Some(h.weight), Some(i));
                Accepted::Replaced
            }
            Some(_) => Accepted::Duplicate,
        })
        .collect();
    (answers, kept)
}

impl PgWriter<'_> {
    fn error(&self, e: &postgres::Error) -> Error {
        db_error(self.target, e)
    }

    /// Writes the records held back: one insert of each id's surviving copy (as if the ledger did not
    /// hold it), then, for the ids it did hold, the answers again from the stored weight, and an update
    /// for each copy that outweighs the stored one. The rollup changes as record-at-a-time writes
    /// would change it.
    fn write_held(&mut self) -> Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        let held = std::mem::take(&mut self.held);
        let err = |e: postgres::Error| db_error(self.target, &e);
        // The copies of each id, in the order taken; ids in the order first taken.
        let mut copies: HashMap<&str, Vec<&Held>> = HashMap::with_capacity(held.len());
        let mut ids: Vec<&str> = Vec::with_capacity(held.len());
        for h in &held {
            copies
                .entry(h.record.id.as_str())
                .or_insert_with(|| {
                    ids.push(h.record.id.as_str());
                    Vec::new()
                })
                .push(h);
        }
        let fresh: Vec<(Vec<Accepted>, Option<usize>)> = ids
            .iter()
            .map(|id| settle_copies(&copies[id], None))
            .collect();
        let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(ids.len() * WRITTEN.len());
        for (id, (_, kept)) in ids.iter().zip(&fresh) {
            let kept = copies[id][kept.expect("a first copy is added")];
            params.extend(values(&kept.record, tags(&kept.record, self.target)?));
        }
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|b| b.as_ref()).collect();
        let rows = if ids.len() == BATCH {
            self.tx.query(&self.statements.insert, &refs)
        } else {
            self.tx.query(&insert_sql(ids.len()), &refs)
        }
        .map_err(err)?;
        drop(refs);
        drop(params);
        let added: std::collections::HashSet<String> = rows.iter().map(|r| r.get(0)).collect();
        // The ids the ledger held: their answers start from the stored weight (copies that keep the
        // first are duplicates whatever it is).
        let present: Vec<&str> = ids
            .iter()
            .filter(|id| !added.contains(**id))
            .filter(|id| {
                copies[*id]
                    .iter()
                    .any(|h| h.record.dedup == DedupPolicy::KeepLargest)
            })
            .copied()
            .collect();
        let mut stored: HashMap<String, i64> = HashMap::new();
        if !present.is_empty() {
            for row in self
                .tx
                .query(&self.statements.weights, &[&present])
                .map_err(err)?
            {
                stored.insert(row.get(0), row.get(1));
            }
        }
        let mut replacing: Vec<(&str, &Held)> = Vec::new();
        for (id, (fresh_answers, fresh_kept)) in ids.iter().zip(&fresh) {
            let copies = &copies[id];
            let (answers, kept) = if added.contains(*id) {
                (fresh_answers.clone(), *fresh_kept)
            } else {
                // Held with a stored weight; or present and every copy keeps the first.
                let weight = stored.get(*id).copied().unwrap_or(i64::MAX);
                let (answers, kept) = settle_copies(copies, Some(weight));
                if let Some(k) = kept {
                    replacing.push((id, copies[k]));
                }
                (answers, None)
            };
            for (h, answer) in copies.iter().zip(answers) {
                if answer != Accepted::Added {
                    self.revisions.push(store::Revision {
                        seq: h.seq,
                        now: answer,
                    });
                }
                if answer != Accepted::Duplicate {
                    self.touched = super::touch(self.touched, &h.record);
                }
            }
            if let Some(k) = kept {
                self.rollup.record(&copies[k].record, 1);
            }
        }
        if !replacing.is_empty() {
            // The copies they replace leave the rollup as the new ones enter it; the row locks keep
            // the old copies as read until the transaction ends.
            let list: Vec<&str> = replacing.iter().map(|(id, _)| *id).collect();
            let mut old: HashMap<Text, UsageRecord> = HashMap::with_capacity(list.len());
            let mut files = BTreeMap::new();
            for row in self.tx.query(&self.statements.old, &[&list]).map_err(err)? {
                let r = record_from_cells(&row, &mut files).map_err(err)?;
                old.insert(r.id.clone(), r);
            }
            for (id, h) in replacing {
                let boxed = values(&h.record, tags(&h.record, self.target)?);
                let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
                let replaced = self
                    .tx
                    .execute(&self.statements.replace, &refs)
                    .map_err(err)?;
                if let (1, Some(old)) = (replaced, old.get(id)) {
                    self.rollup.record(old, -1);
                    self.rollup.record(&h.record, 1);
                    self.touched = super::touch(self.touched, old);
                }
            }
        }
        Ok(())
    }
}

/// A record's tags as the ledger keeps them (JSON), or `None` without any.
fn tags(r: &UsageRecord, target: &PgTarget) -> Result<Option<String>> {
    if r.tags.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(&r.tags)
        .map(Some)
        .map_err(|e| Error::Ledger {
            path: target.display().to_string(),
            message: e.to_string(),
        })
}

impl store::Writer for PgWriter<'_> {
    fn set_cursor(&mut self, name: &str, value: &str) -> Result<()> {
        self.tx
            .execute(
                "INSERT INTO pull_cursors (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE \
                 SET value = excluded.value, updated_at = now()",
                &[&name, &value],
            )
            .map_err(|e| self.error(&e))?;
        Ok(())
    }

    fn settle(&mut self) -> Result<Vec<store::Revision>> {
        self.write_held()?;
        let mut revisions = std::mem::take(&mut self.revisions);
        revisions.sort_unstable_by_key(|r| r.seq);
        Ok(revisions)
    }
}

/// A record's values in [`WRITTEN`] order.
fn values(r: &UsageRecord, tags: Option<String>) -> Vec<Box<dyn ToSql + Sync>> {
    let cost = r.reported_cost.map(|c| c.to_string());
    let weight = r.dedup_weight().min(i64::MAX as u64) as i64;
    let cells = super::insert_cells(r, weight, tags.as_deref(), cost.as_deref(), 0);
    cells[..WRITTEN.len()]
        .iter()
        .map(|&cell| -> Box<dyn ToSql + Sync> { Box::new(Sent::from(cell)) })
        .collect()
}

/// A record cell as sent: an integer goes to a BIGINT column, or to a BOOLEAN one as a flag (0 or 1).
#[derive(Debug)]
enum Sent {
    Null,
    Int(i64),
    Text(String),
}

impl From<super::Cell<'_>> for Sent {
    fn from(cell: super::Cell<'_>) -> Sent {
        match cell {
            super::Cell::Null => Sent::Null,
            super::Cell::Int(v) => Sent::Int(v),
            super::Cell::Text(v) => Sent::Text(v.to_string()),
        }
    }
}

impl ToSql for Sent {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Sent::Null => Ok(IsNull::Yes),
            Sent::Int(v) if *ty == Type::BOOL => (*v != 0).to_sql(ty, out),
            Sent::Int(v) => v.to_sql(ty, out),
            Sent::Text(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty)
            || <bool as ToSql>::accepts(ty)
            || <String as ToSql>::accepts(ty)
    }

    postgres::types::to_sql_checked!();
}

impl RecordSink for PgWriter<'_> {
    /// Holds the record back, answering `Added`; a full batch is written (see
    /// [`store::LedgerWriter::settle`] for the answers that turn out otherwise).
    fn accept(&mut self, r: UsageRecord) -> Result<Accepted> {
        let weight = r.dedup_weight().min(i64::MAX as u64) as i64;
        self.held.push(Held {
            seq: self.taken,
            record: r,
            weight,
        });
        self.taken += 1;
        if self.held.len() == BATCH {
            self.write_held()?;
        }
        Ok(Accepted::Added)
    }
}

/// Changes to the rollup made by one import, written when it commits.
#[derive(Default)]
struct Delta {
    /// Encoded key → a record of the key (its fields), its prompt band and classes.
    keys: HashMap<String, (UsageRecord, u64, u32)>,
    /// (hour, encoded key) → sums.
    sums: HashMap<(i64, String), Sums>,
    buf: String,
}

impl Delta {
    fn record(&mut self, r: &UsageRecord, sign: i64) {
        let band = prompt_band(r);
        let classes = rollup::classes(&r.tokens);
        rollup::code(r, band, classes, &mut self.buf);
        if !self.keys.contains_key(&self.buf) {
            let mut key = r.clone();
            key.tags.clear();
            self.keys.insert(self.buf.clone(), (key, band, classes));
        }
        let hour = r.start.timestamp_millis().div_euclid(HOUR_MS);
        self.sums
            .entry((hour, self.buf.clone()))
            .or_default()
            .add_record(r, sign);
    }

    /// Writes the changes: each key's id (inserted when new), then each row's sums added to what is
    /// there, in (hour, key) order.
    fn flush(self, tx: &mut Transaction<'_>) -> std::result::Result<(), postgres::Error> {
        let key_insert = tx.prepare(&format!(
            "INSERT INTO rollup_keys (code, {}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11, $12, $13, $14) ON CONFLICT (code) DO UPDATE SET code = excluded.code RETURNING id",
            rollup::KEY_COLUMNS
        ))?;
        let mut ids: HashMap<&str, i64> = HashMap::with_capacity(self.keys.len());
        for (code, (r, band, classes)) in &self.keys {
            let row = tx.query_one(
                &key_insert,
                &[
                    code,
                    &r.source,
                    &r.provider.as_str(),
                    &r.model.as_str(),
                    &r.service_tier.as_deref(),
                    &r.batch,
                    &r.region.as_deref(),
                    &r.long_context,
                    &(*band as i64),
                    &i64::from(*classes),
                    &r.failed,
                    &r.team.as_deref(),
                    &r.project.as_deref(),
                    &r.workspace.as_deref(),
                ],
            )?;
            ids.insert(code, row.get(0));
        }
        let names = SUMMED.join(", ");
        let adds: Vec<String> = SUMMED
            .iter()
            .map(|c| format!("{c} = rollup.{c} + excluded.{c}"))
            .collect();
        let upsert = |rows: usize| -> String {
            let mut casts = vec![""; 2 + SUMMED.len()];
            casts.push("::text::numeric");
            format!(
                "INSERT INTO rollup (hour, key, {names}, reported_cost) VALUES {} \
                 ON CONFLICT (hour, key) DO UPDATE SET {}, reported_cost = CASE \
                 WHEN excluded.reported_cost IS NULL THEN rollup.reported_cost \
                 ELSE COALESCE(rollup.reported_cost, 0) + excluded.reported_cost END",
                values_rows(rows, &casts),
                adds.join(", ")
            )
        };
        let mut rows: Vec<(i64, i64, Sums)> = self
            .sums
            .into_iter()
            .filter_map(|((hour, code), sums)| Some((hour, *ids.get(code.as_str())?, sums)))
            .collect();
        rows.sort_unstable_by_key(|&(hour, key, _)| (hour, key));
        // One upsert per [`BATCH`] rows (each (hour, key) once); then the rows a replaced copy
        // emptied go.
        for chunk in rows.chunks(BATCH) {
            let costs: Vec<Option<String>> = chunk
                .iter()
                .map(|(_, _, delta)| {
                    let changed = delta.counts[REPORTED] != 0 || !delta.reported_cost.is_zero();
                    changed.then(|| delta.reported_cost.to_string())
                })
                .collect();
            let mut params: Vec<&(dyn ToSql + Sync)> =
                Vec::with_capacity(chunk.len() * (3 + SUMMED.len()));
            for ((hour, key, delta), cost) in chunk.iter().zip(&costs) {
                params.push(hour);
                params.push(key);
                params.extend(delta.counts.iter().map(|c| c as &(dyn ToSql + Sync)));
                params.push(cost);
            }
            tx.execute(&upsert(chunk.len()), &params)?;
        }
        let (hours, keys): (Vec<i64>, Vec<i64>) = rows
            .iter()
            .filter(|(_, _, delta)| delta.counts[0] < 0)
            .map(|&(hour, key, _)| (hour, key))
            .unzip();
        if !hours.is_empty() {
            tx.execute(
                "DELETE FROM rollup WHERE records = 0 AND (hour, key) IN \
                 (SELECT * FROM unnest($1::bigint[], $2::bigint[]))",
                &[&hours, &keys],
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The rollup on PostgreSQL against the records: the random ledgers of `rollup::tests`, imported
    //! into a database on the server in `AISPEND_TEST_POSTGRES` (see `.ci/postgres.sh`), report from
    //! the rollup exactly what an SQLite ledger of the same batches reports from its records. Without a
    //! server the test fails when CI=true, and says it did not run otherwise.
    use super::*;
    use crate::ledger::rollup::tests::{assert_rollup_equals_records, random_batches};
    use crate::ledger::SqliteLedger;

    fn server() -> Option<String> {
        match std::env::var("AISPEND_TEST_POSTGRES") {
            Ok(url) if !url.is_empty() => Some(url),
            _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("CI=true but AISPEND_TEST_POSTGRES is not set: .ci/run starts a PostgreSQL server")
            }
            _ => {
                eprintln!("not run: AISPEND_TEST_POSTGRES is not set (see .ci/postgres.sh)");
                None
            }
        }
    }

    /// The answers for the copies of one id in a batch, as one-at-a-time writes give them.
    #[test]
    fn copies_settle_as_one_at_a_time_writes_would() {
        use crate::record::{Provenance, Provider};
        use Accepted::{Added, Duplicate, Replaced};
        let copy = |weight: i64, dedup: DedupPolicy| {
            let at = Provenance {
                file: Arc::from("f.jsonl"),
                line: 1,
            };
            let mut record = UsageRecord::new(
                "msg_1".into(),
                "claude-code",
                Provider::Anthropic,
                "claude-sonnet-4-5".into(),
                Utc.with_ymd_and_hms(2026, 10, 5, 0, 0, 0).unwrap(),
                at,
            );
            record.dedup = dedup;
            Held {
                seq: 0,
                record,
                weight,
            }
        };
        let (first, largest) = (DedupPolicy::KeepFirst, DedupPolicy::KeepLargest);
        let settle = |copies: &[Held], present: Option<i64>| {
            let refs: Vec<&Held> = copies.iter().collect();
            settle_copies(&refs, present)
        };
        // New id, keep the largest: 100, then 500 (replaces), then 40 (smaller): 500 stays.
        let copies = [copy(100, largest), copy(500, largest), copy(40, largest)];
        assert_eq!(
            settle(&copies, None),
            (vec![Added, Replaced, Duplicate], Some(1))
        );
        // The ledger holds 300: the 100 is a duplicate, the 500 replaces it.
        assert_eq!(
            settle(&copies, Some(300)),
            (vec![Duplicate, Replaced, Duplicate], Some(1))
        );
        // The ledger holds 900: nothing replaces it.
        assert_eq!(
            settle(&copies, Some(900)),
            (vec![Duplicate, Duplicate, Duplicate], None)
        );
        // Keep the first: a heavier later copy is a duplicate.
        let copies = [copy(100, first), copy(500, first)];
        assert_eq!(settle(&copies, None), (vec![Added, Duplicate], Some(0)));
        assert_eq!(settle(&copies, Some(1)), (vec![Duplicate, Duplicate], None));
    }

    #[test]
    fn rollup_reports_on_postgres_equal_per_record_reports_on_random_ledgers() {
        let Some(server) = server() else { return };
        let mut admin = Client::connect(&server, postgres::NoTls).unwrap();
        let mut read = 0;
        for seed in 0..6 {
            let name = format!("rollup_{}_{seed}", std::process::id());
            admin
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap();
            let url = format!("{}/{name}", server.rsplit_once('/').unwrap().0);
            let target = PgTarget::parse(&url, "AISPEND_TEST_POSTGRES").unwrap();
            let mut pg = PgLedger::open(target, Duration::from_secs(60), false).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let mut sqlite = SqliteLedger::open(&dir.path().join("ledger.db")).unwrap();
            for batch in random_batches(seed) {
                let write = |w: &mut dyn RecordSink| -> Result<()> {
                    for r in &batch {
                        w.accept(r.clone())?;
                    }
                    Ok(())
                };
                pg.write(true, None, |w| write(w)).unwrap();
                sqlite.write(true, |w| write(w)).unwrap();
            }
            assert_eq!(
                pg.stats().unwrap().records,
                sqlite.stats().unwrap().records,
                "seed {seed}"
            );
            read += assert_rollup_equals_records(seed, &sqlite, &mut |range, agg| {
                feed_rollup(&mut *pg.client().unwrap(), range, agg).unwrap()
            });
        }
        assert!(read > 1_000, "the ledgers were nearly empty: {read}");
    }
}
