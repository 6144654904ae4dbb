//! The ledger's SQL schema and its migrations (`PRAGMA user_version` counts the ones applied).

use rusqlite::{Connection, Transaction, TransactionBehavior};

/// One step of the schema: SQL, then optionally Rust that fills what the SQL created (run once the SQL of
/// every pending step has run).
pub(super) struct Migration {
    pub sql: &'static str,
    pub fill: Option<fn(&Connection) -> rusqlite::Result<()>>,
}

const fn sql(sql: &'static str) -> Migration {
    Migration { sql, fill: None }
}

/// Each entry moves the schema one version forward. Never edit a shipped entry: append a new one.
pub(super) const MIGRATIONS: &[Migration] = &[
    // 1: the records table, clustered by time so that a period is one sequential range, and unique on
    // the record id, which is what deduplicates.
    sql("CREATE TABLE records (
        id TEXT NOT NULL,
        source TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER,
        service_tier TEXT,
        batch INTEGER NOT NULL DEFAULT 0,
        region TEXT,
        long_context INTEGER,
        team TEXT,
        project TEXT,
        user TEXT,
        api_key TEXT,
        workspace TEXT,
        tags TEXT,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens INTEGER NOT NULL DEFAULT 0,
        cache_write_5m_tokens INTEGER NOT NULL DEFAULT 0,
        cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        reasoning_tokens INTEGER NOT NULL DEFAULT 0,
        audio_input_tokens INTEGER NOT NULL DEFAULT 0,
        audio_output_tokens INTEGER NOT NULL DEFAULT 0,
        image_input_tokens INTEGER NOT NULL DEFAULT 0,
        image_output_tokens INTEGER NOT NULL DEFAULT 0,
        web_search_requests INTEGER NOT NULL DEFAULT 0,
        images INTEGER NOT NULL DEFAULT 0,
        seconds INTEGER NOT NULL DEFAULT 0,
        requests INTEGER NOT NULL DEFAULT 1,
        reported_cost TEXT,
        reported_currency TEXT,
        status INTEGER,
        failed INTEGER NOT NULL DEFAULT 0,
        latency_ms INTEGER,
        file TEXT NOT NULL,
        line INTEGER NOT NULL,
        weight INTEGER NOT NULL DEFAULT 0,
        imported_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s','now') AS INTEGER)),
        PRIMARY KEY (start_ms, id)
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX records_id ON records (id);"),
    // 2: the billing account a source names (FOCUS `BillingAccountId`/`Name`); older rows have none.
    sql("ALTER TABLE records ADD COLUMN billing_account TEXT;
    ALTER TABLE records ADD COLUMN billing_account_name TEXT;"),
    // 3: the rollup (sums per hour and pricing key, see `rollup`), built from the records there are.
    Migration {
        sql: super::rollup::TABLES,
        fill: Some(super::rollup::build),
    },
    // 4: built-in tool calls billed per call, beside `web_search_requests`, in the records and summed in
    // the rollup; older rows have none (and no rollup key has their classes).
    sql(
        "ALTER TABLE records ADD COLUMN web_fetch_requests INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE records ADD COLUMN file_search_calls INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE records ADD COLUMN code_execution_calls INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE records ADD COLUMN grounded_prompts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rollup ADD COLUMN web_fetch_requests INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rollup ADD COLUMN file_search_calls INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rollup ADD COLUMN code_execution_calls INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rollup ADD COLUMN grounded_prompts INTEGER NOT NULL DEFAULT 0;",
    ),
    // 5: where incremental pulls stand (`pull litellm`: the last `startTime` read, per database).
    sql("CREATE TABLE pull_cursors (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s','now') AS INTEGER))
    );"),
    // 6: why a failed request failed, and the retries its log names (`aispend health`); older rows have
    // none.
    sql("ALTER TABLE records ADD COLUMN failure_class TEXT;
    ALTER TABLE records ADD COLUMN attempt INTEGER;
    ALTER TABLE records ADD COLUMN retry_of TEXT;"),
    // 7: the priced daily table dashboards read (see `daily`), rewritten per day by imports and by
    // `aispend ledger reprice` (which fills it for a ledger that had none).
    sql("CREATE TABLE daily_cost (
        day TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        source TEXT NOT NULL,
        team TEXT,
        project TEXT,
        workspace TEXT,
        service_tier TEXT,
        requests INTEGER NOT NULL,
        failed_requests INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        cache_read_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        cost TEXT NOT NULL,
        unpriced_records INTEGER NOT NULL,
        reported_cost TEXT,
        currency TEXT NOT NULL,
        priced_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s','now') AS INTEGER))
    );
    CREATE INDEX daily_cost_day ON daily_cost (day);"),
    // 8: cached audio input (its own rate) and calls of the older `web_search_preview` tool, in the
    // records and summed in the rollup; older rows have none (cached audio was imported as cache read).
    sql(
        "ALTER TABLE records ADD COLUMN cache_read_audio_tokens INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE records ADD COLUMN web_search_preview_calls INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rollup ADD COLUMN cache_read_audio_tokens INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rollup ADD COLUMN web_search_preview_calls INTEGER NOT NULL DEFAULT 0;",
    ),
    // 9: bulk-load friendly deduplication, and the rollup per UTC day. The unique index on the record id
    // (a random insert of the ~40-byte id into a second B-tree per record) gives way to `record_ids`: a
    // 64-bit hash of the id as the INTEGER PRIMARY KEY, holding the record's start (records are keyed by
    // start and id); an id whose hash is taken by another id takes the next free value (see
    // `SqliteWriter::accept`). `rollup_daily` holds the hourly rollup's sums per UTC day, for reports in
    // UTC.
    Migration {
        sql: "DROP INDEX records_id;
    CREATE TABLE record_ids (hash INTEGER PRIMARY KEY, start_ms INTEGER NOT NULL);
    CREATE TABLE rollup_daily (
        day INTEGER NOT NULL, key INTEGER NOT NULL REFERENCES rollup_keys (id),
        records INTEGER NOT NULL, requests INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL, cache_read_tokens INTEGER NOT NULL,
        cache_write_5m_tokens INTEGER NOT NULL, cache_write_1h_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL,
        audio_input_tokens INTEGER NOT NULL, audio_output_tokens INTEGER NOT NULL,
        image_input_tokens INTEGER NOT NULL, image_output_tokens INTEGER NOT NULL,
        web_search_requests INTEGER NOT NULL, images INTEGER NOT NULL, seconds INTEGER NOT NULL,
        web_fetch_requests INTEGER NOT NULL, file_search_calls INTEGER NOT NULL,
        code_execution_calls INTEGER NOT NULL, grounded_prompts INTEGER NOT NULL,
        cache_read_audio_tokens INTEGER NOT NULL, web_search_preview_calls INTEGER NOT NULL,
        reported_records INTEGER NOT NULL, reported_cost TEXT,
        PRIMARY KEY (day, key)
    ) WITHOUT ROWID;",
        fill: Some(fill_v9),
    },
    // 10: the rollup rebuilt where an older aispend summed it differently (see `rollup::outdated`):
    // buckets of many requests under a long-context prompt band, and provider-reported costs in another
    // currency than USD added into `reported_cost`. Nothing is written for a ledger that has neither.
    Migration {
        sql: "",
        fill: Some(fill_v10),
    },
];

/// Fills what version 9 added: the id hashes of the records there are, and the daily rollup from the
/// hourly one.
fn fill_v9(conn: &Connection) -> rusqlite::Result<()> {
    super::rollup::build_daily(conn)?;
    let mut claim = conn.prepare(CLAIM_ID)?;
    let mut stmt = conn.prepare("SELECT id, start_ms FROM records")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let start: i64 = row.get(1)?;
        // The ids are unique here: a taken hash is another id's.
        let mut slot = id_hash(&id);
        while claim.execute(rusqlite::params![slot, start])? == 0 {
            slot = slot.wrapping_add(1);
        }
    }
    Ok(())
}

/// Rebuilds the rollup (hourly, daily and its keys) from the records, when it is outdated.
fn fill_v10(conn: &Connection) -> rusqlite::Result<()> {
    if !super::rollup::outdated(conn)? {
        return Ok(());
    }
    conn.execute_batch("DELETE FROM rollup; DELETE FROM rollup_daily; DELETE FROM rollup_keys;")?;
    // Writes the daily sums beside the hourly ones.
    super::rollup::build(conn)
}

/// Where an id's probe for a free `record_ids` slot starts: the 64-bit xxh3 hash of its bytes (stored:
/// never change it).
pub fn id_hash(id: &str) -> i64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes()) as i64
}

/// Takes a free `record_ids` slot (`?1`) for a record starting at `?2`; changes nothing when taken.
pub const CLAIM_ID: &str =
    "INSERT INTO record_ids (hash, start_ms) VALUES (?1, ?2) ON CONFLICT (hash) DO NOTHING";

/// The columns read back, in `record_from_row` order.
pub const COLUMNS: &str = "id, source, provider, model, start_ms, end_ms, service_tier, batch, region, long_context, \
    team, project, user, api_key, workspace, tags, input_tokens, cache_read_tokens, cache_write_5m_tokens, \
    cache_write_1h_tokens, output_tokens, reasoning_tokens, audio_input_tokens, audio_output_tokens, \
    image_input_tokens, image_output_tokens, web_search_requests, images, seconds, requests, reported_cost, \
    reported_currency, status, failed, latency_ms, file, line, billing_account, billing_account_name, \
    web_fetch_requests, file_search_calls, code_execution_calls, grounded_prompts, failure_class, attempt, \
    retry_of, cache_read_audio_tokens, web_search_preview_calls";

/// Adds a record (its id is new: `record_ids` says so).
pub const INSERT: &str = "INSERT INTO records (id, source, provider, model, start_ms, end_ms, service_tier, batch, \
    region, long_context, team, project, user, api_key, workspace, tags, input_tokens, cache_read_tokens, \
    cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, audio_input_tokens, \
    audio_output_tokens, image_input_tokens, image_output_tokens, web_search_requests, images, seconds, requests, \
    reported_cost, reported_currency, status, failed, latency_ms, file, line, weight, billing_account, \
    billing_account_name, web_fetch_requests, file_search_calls, code_execution_calls, grounded_prompts, \
    failure_class, attempt, retry_of, cache_read_audio_tokens, web_search_preview_calls, imported_at) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
    ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40, \
    ?41, ?42, ?43, ?44, ?45, ?46, ?47, ?48, ?49, ?50)";

pub fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// The schema version this build writes.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Why a file cannot be brought up to date.
#[derive(Debug)]
pub enum MigrateError {
    /// Written by a newer aispend (its schema version).
    Newer(i64),
    /// An SQLite database that is not an aispend ledger: no tables are added to it.
    Foreign,
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> MigrateError {
        MigrateError::Sqlite(e)
    }
}

/// Applies the migrations the file has not seen, in one write transaction.
///
/// The version is read again once the write lock is held: when several processes create a ledger at
/// once, the first one creates the schema and the others find it there.
pub fn migrate(conn: &Connection) -> Result<(), MigrateError> {
    if check(conn)? == latest() {
        return Ok(());
    }
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let current = check(&tx)?;
    // Every step's SQL first, then the fills: a fill reads and writes the schema as this build knows it
    // (the rollup of version 3 is built from records that have version 4's columns).
    let pending = &MIGRATIONS[current as usize..];
    for step in pending {
        tx.execute_batch(step.sql)?;
    }
    for fill in pending.iter().filter_map(|step| step.fill) {
        fill(&tx)?;
    }
    tx.pragma_update(None, "user_version", latest())?;
    tx.commit()?;
    Ok(())
}

/// [`check`] alone, before anything writes to the file.
pub fn check_file(conn: &Connection) -> Result<(), MigrateError> {
    check(conn).map(|_| ())
}

/// Refuses a ledger written by a newer aispend, and a database that is not a ledger: one with no schema
/// version but some tables, or with a version but no `records` table. Returns the version.
///
/// One statement reads the version and the tables, so both come from the same snapshot: another
/// process creating the ledger at the same moment cannot be seen half done.
fn check(conn: &Connection) -> Result<i64, MigrateError> {
    let (current, objects, records): (i64, i64, i64) = conn.query_row(
        "SELECT (SELECT user_version FROM pragma_user_version()), \
                (SELECT count(*) FROM sqlite_master), \
                (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'records')",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if current > latest() {
        return Err(MigrateError::Newer(current));
    }
    let foreign = if current == 0 {
        objects > 0
    } else {
        records == 0
    };
    if foreign {
        return Err(MigrateError::Foreign);
    }
    Ok(current)
}
