//! The rollup: beside the records, sums of token counts and requests per UTC hour and per key (every
//! field pricing reads, plus the attribution dimensions a report groups by), and the same sums per UTC
//! day, kept in the same transaction as the records. A report prices one sum per key and local day
//! instead of every record: from the daily sums in UTC, from the hourly ones in other zones.
//!
//! Pricing is linear within a key: a rate period applies per UTC day, the service tier, batch flag,
//! region and model are in the key, and so is everything that is decided per request:
//! - the long-context tier: the largest of `pricing::PROMPT_BANDS` the prompt was above (`prompt_band`);
//! - which token classes are non-zero (`classes`): a class without a rate leaves exactly the records
//!   that have it unpriced, and a request with nothing billable costs nothing whatever its model;
//! - whether output exceeds reasoning (also in `classes`): output is priced net of reasoning,
//!   saturating at zero per request.
//!
//! So Σ(count × rate) over a key's records equals (Σ count) × rate, to the last decimal. Users, API keys
//! and tags are not kept: reports by them, and team rules that read them, use the records.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::Arc;

use chrono::{Datelike, Offset, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension, Row};
use rust_decimal::Decimal;

use super::cells::Cells;
use crate::decimal::parse_decimal;
use crate::pricing::prompt_band;
use crate::record::{Provenance, Provider, Text, TokenCounts, UsageRecord};
use crate::report::aggregate::{Aggregator, Counts};

/// Milliseconds in an hour, the hourly rollup's unit of time.
pub(crate) const HOUR_MS: i64 = 3_600_000;

/// Milliseconds in a day, the daily rollup's unit of time.
const DAY_MS: i64 = 24 * HOUR_MS;

/// The rollup's tables (schema version 3).
pub(super) const TABLES: &str = "CREATE TABLE rollup_keys (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        service_tier TEXT,
        batch INTEGER NOT NULL,
        region TEXT,
        long_context INTEGER,
        prompt_band INTEGER NOT NULL,
        classes INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        team TEXT,
        project TEXT,
        workspace TEXT
    );
    CREATE TABLE rollup (
        hour INTEGER NOT NULL,
        key INTEGER NOT NULL REFERENCES rollup_keys (id),
        records INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        cache_read_tokens INTEGER NOT NULL,
        cache_write_5m_tokens INTEGER NOT NULL,
        cache_write_1h_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        audio_input_tokens INTEGER NOT NULL,
        audio_output_tokens INTEGER NOT NULL,
        image_input_tokens INTEGER NOT NULL,
        image_output_tokens INTEGER NOT NULL,
        web_search_requests INTEGER NOT NULL,
        images INTEGER NOT NULL,
        seconds INTEGER NOT NULL,
        reported_records INTEGER NOT NULL,
        reported_cost TEXT,
        PRIMARY KEY (hour, key)
    ) WITHOUT ROWID;";

/// The summed columns of `rollup`, in [`Sums::counts`] order.
pub(super) const SUMMED: [&str; TokenCounts::COLUMNS.len() + 3] =
    TokenCounts::columns_between(&["records", "requests"], &["reported_records"]);

/// The index of `reported_records` in [`SUMMED`] (last).
pub(super) const REPORTED: usize = SUMMED.len() - 1;

pub(super) const KEY_COLUMNS: &str =
    "source, provider, model, service_tier, batch, region, long_context, \
    prompt_band, classes, failed, team, project, workspace";

/// The two rollups: sums per UTC hour (`rollup`, any time zone with whole-hour offsets) and per UTC
/// day (`rollup_daily`, schema version 9: reports in UTC, a 24th of the rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grain {
    Hour,
    Day,
}

impl Grain {
    fn table(self) -> &'static str {
        match self {
            Grain::Hour => "rollup",
            Grain::Day => "rollup_daily",
        }
    }

    /// The name of the time column (whole units since the epoch).
    fn unit(self) -> &'static str {
        match self {
            Grain::Hour => "hour",
            Grain::Day => "day",
        }
    }

    /// The unit's length in milliseconds.
    pub(crate) fn ms(self) -> i64 {
        match self {
            Grain::Hour => HOUR_MS,
            Grain::Day => DAY_MS,
        }
    }

    /// Adds a delta to a row (the last parameter: the reported cost the row ends with, when `set_cost`).
    fn upsert(self, set_cost: bool) -> String {
        let (table, unit) = (self.table(), self.unit());
        let names = SUMMED.join(", ");
        let marks: Vec<String> = (3..3 + SUMMED.len()).map(|i| format!("?{i}")).collect();
        let mut adds: Vec<String> = SUMMED
            .iter()
            .map(|c| format!("{c} = {c} + excluded.{c}"))
            .collect();
        if set_cost {
            adds.push("reported_cost = excluded.reported_cost".into());
        }
        format!(
            "INSERT INTO {table} ({unit}, key, {names}, reported_cost) VALUES (?1, ?2, {}, ?{}) \
             ON CONFLICT ({unit}, key) DO UPDATE SET {}",
            marks.join(", "),
            3 + SUMMED.len(),
            adds.join(", ")
        )
    }
}

/// The sums of one (hour, key), or a change to them.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Sums {
    pub(crate) counts: [i64; SUMMED.len()],
    #[serde(with = "crate::record::cache_repr::decimal")]
    pub(crate) reported_cost: Decimal,
}

impl Sums {
    /// Adds (`sign` 1) or takes away (`sign` -1) one record.
    pub(crate) fn add_record(&mut self, r: &UsageRecord, sign: i64) {
        // Records, requests, the token counts in the ledger's order, records with a reported cost.
        let mut values = [0; SUMMED.len()];
        values[0] = 1;
        values[1] = r.requests;
        values[2..REPORTED].copy_from_slice(&r.tokens.in_ledger_order());
        values[REPORTED] = u64::from(r.reported_usd().is_some());
        for (sum, v) in self.counts.iter_mut().zip(values) {
            *sum = sum.saturating_add(sign.saturating_mul(v.min(i64::MAX as u64) as i64));
        }
        if let Some(c) = r.reported_usd() {
            let c = if sign < 0 { -c } else { c };
            self.reported_cost = self
                .reported_cost
                .checked_add(c)
                .unwrap_or(self.reported_cost);
        }
    }

    /// Adds another change (saturating, as [`Sums::add_record`]).
    fn add_delta(&mut self, o: &Sums) {
        for (a, b) in self.counts.iter_mut().zip(o.counts) {
            *a = a.saturating_add(b);
        }
        self.reported_cost = self
            .reported_cost
            .checked_add(o.reported_cost)
            .unwrap_or(self.reported_cost);
    }

    /// Adds a row read back; `None` on overflow.
    pub(crate) fn add(&mut self, o: &Sums) -> Option<()> {
        for (a, b) in self.counts.iter_mut().zip(o.counts) {
            *a = a.checked_add(b)?;
        }
        self.reported_cost = self.reported_cost.checked_add(o.reported_cost)?;
        Some(())
    }
}

/// The token classes a record has (one bit each), and whether its output exceeds its reasoning.
pub fn classes(t: &TokenCounts) -> u32 {
    [
        t.input > 0,
        t.cache_read > 0,
        t.cache_write_5m > 0,
        t.cache_write_1h > 0,
        t.output > 0,
        t.output > t.reasoning,
        t.reasoning > 0,
        t.audio_input > 0,
        t.audio_output > 0,
        t.image_input > 0,
        t.image_output > 0,
        t.web_search_requests > 0,
        t.images > 0,
        t.seconds > 0,
        t.web_fetch_requests > 0,
        t.file_search_calls > 0,
        t.code_execution_calls > 0,
        t.grounded_prompts > 0,
        t.cache_read_audio > 0,
        t.web_search_preview_calls > 0,
    ]
    .iter()
    .enumerate()
    .fold(0, |bits, (i, &on)| bits | (u32::from(on) << i))
}

/// A fast hasher for the import's in-memory maps (keys are ours, not an attacker's): a few
/// multiplications for an integer key, seeded at random.
type Fast = foldhash::fast::RandomState;

/// Records handed to the rollup's thread at a time.
const BATCH: usize = 512;

/// Batches that may wait for the rollup's thread (bounding what is held in memory).
const QUEUED: usize = 8;

/// Changes to the rollup made by one import, written when it commits (one upsert per hour and key,
/// and one per day and key).
///
/// The records are summed on a thread of their own, which also drops them: the writing thread, which
/// bounds an import's speed, only hands them over in batches. The keys are numbered in the order first
/// seen; they become `rollup_keys` ids when the import commits, in that same order.
#[derive(Default)]
pub(super) struct Delta {
    batch: Vec<(UsageRecord, i64)>,
    /// Where the records are summed (from the first batch on).
    summing: Option<Summing>,
}

type Batch = Vec<(UsageRecord, i64)>;

enum Summing {
    /// On the summing thread, fed through a bounded queue.
    Thread(
        std::sync::mpsc::SyncSender<Batch>,
        std::thread::JoinHandle<Tally>,
    ),
    /// Here, when no thread could be started.
    Here(Tally),
}

impl Summing {
    fn start() -> Summing {
        let (queue, batches) = std::sync::mpsc::sync_channel::<Batch>(QUEUED);
        let thread = std::thread::Builder::new().spawn(move || {
            let mut tally = Tally::default();
            for batch in batches {
                for (r, sign) in batch {
                    tally.add(r, sign);
                }
            }
            tally
        });
        match thread {
            Ok(thread) => Summing::Thread(queue, thread),
            Err(_) => Summing::Here(Tally::default()),
        }
    }
}

impl Delta {
    /// Adds (`sign` 1) or takes away (`sign` -1) a record.
    pub(super) fn record(&mut self, r: UsageRecord, sign: i64) {
        self.batch.push((r, sign));
        if self.batch.len() >= BATCH {
            self.send();
        }
    }

    /// Hands the batch over to be summed.
    fn send(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        match self.summing.get_or_insert_with(Summing::start) {
            // A send fails only when the thread has stopped (a panic), which `tally` passes on.
            Summing::Thread(queue, _) => {
                let _ = queue.send(batch);
            }
            Summing::Here(tally) => {
                for (r, sign) in batch {
                    tally.add(r, sign);
                }
            }
        }
    }

    /// The sums of every record handed over (waiting for the summing thread to finish them).
    fn tally(&mut self) -> Tally {
        self.send();
        match self.summing.take() {
            None => Tally::default(),
            Some(Summing::Here(tally)) => tally,
            Some(Summing::Thread(queue, thread)) => {
                drop(queue);
                thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            }
        }
    }

    /// Writes the changes (inside the import's transaction): the new keys, then the hours in order,
    /// then the days.
    pub(super) fn flush(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let tally = self.tally();
        if tally.sums.is_empty() {
            return Ok(());
        }
        let mut keys = load_keys(conn)?;
        let mut ids = Vec::with_capacity(tally.firsts.len());
        let mut buf = Vec::new();
        for (r, band, classes) in &tally.firsts {
            encode(r, *band, *classes, &mut buf);
            let id = match keys.get(buf.as_slice()) {
                Some(&id) => id,
                None => {
                    let mut insert = conn.prepare_cached(&format!(
                        "INSERT INTO rollup_keys ({KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
                         ?8, ?9, ?10, ?11, ?12, ?13)"
                    ))?;
                    insert.execute(rusqlite::params![
                        r.source,
                        r.provider.as_str(),
                        r.model.as_str(),
                        r.service_tier.as_deref(),
                        r.batch,
                        r.region.as_deref(),
                        r.long_context,
                        *band as i64,
                        classes,
                        r.failed,
                        r.team.as_deref(),
                        r.project.as_deref(),
                        r.workspace.as_deref(),
                    ])?;
                    let id = conn.last_insert_rowid();
                    keys.insert(buf.as_slice().into(), id);
                    id
                }
            };
            ids.push(id);
        }
        let mut hours: Vec<((i64, i64), Sums)> = tally
            .sums
            .into_iter()
            .map(|((hour, key), sums)| ((hour, ids[key]), sums))
            .collect();
        hours.sort_unstable_by_key(|&(at, _)| at);
        let mut days: HashMap<(i64, i64), Sums, Fast> = HashMap::default();
        for ((hour, key), delta) in &hours {
            days.entry((hour.div_euclid(24), *key))
                .or_default()
                .add_delta(delta);
        }
        let mut days: Vec<((i64, i64), Sums)> = days.into_iter().collect();
        days.sort_unstable_by_key(|&(at, _)| at);
        write_sums(conn, Grain::Hour, hours)?;
        write_sums(conn, Grain::Day, days)
    }
}

impl Drop for Delta {
    /// An import rolled back (or a dry run) still waits for the summing thread.
    fn drop(&mut self) {
        if let Some(Summing::Thread(queue, thread)) = self.summing.take() {
            drop(queue);
            let _ = thread.join();
        }
    }
}

/// What the summing thread adds up: sums per hour and key, the keys numbered in the order first seen.
#[derive(Default)]
struct Tally {
    /// Encoded key → its number.
    keys: HashMap<Box<[u8]>, usize, Fast>,
    /// Per key number: the first record with it, its prompt band and its classes.
    firsts: Vec<(UsageRecord, u64, u32)>,
    buf: Vec<u8>,
    /// (hour, key number) → its place in `sums`. The sums themselves stay put as the map grows: a map
    /// of small entries rehashes cheaply, and records come roughly in time order, so the sums a record
    /// adds to are near the end of `sums`.
    at: HashMap<(i64, usize), usize, Fast>,
    sums: Vec<((i64, usize), Sums)>,
}

impl Tally {
    fn add(&mut self, r: UsageRecord, sign: i64) {
        let band = prompt_band(&r);
        let classes = classes(&r.tokens);
        encode(&r, band, classes, &mut self.buf);
        let (key, new) = match self.keys.get(self.buf.as_slice()) {
            Some(&key) => (key, false),
            None => {
                let key = self.firsts.len();
                self.keys.insert(self.buf.as_slice().into(), key);
                (key, true)
            }
        };
        let hour = r.start.timestamp_millis().div_euclid(HOUR_MS);
        let sums = &mut self.sums;
        let i = *self.at.entry((hour, key)).or_insert_with(|| {
            sums.push(((hour, key), Sums::default()));
            sums.len() - 1
        });
        sums[i].1.add_record(&r, sign);
        if new {
            self.firsts.push((r, band, classes));
        }
    }
}

/// Adds deltas to a rollup's rows, in key order; a row left with no records goes.
fn write_sums(
    conn: &Connection,
    grain: Grain,
    deltas: Vec<((i64, i64), Sums)>,
) -> rusqlite::Result<()> {
    if deltas.is_empty() {
        return Ok(());
    }
    let (table, unit) = (grain.table(), grain.unit());
    let mut set_cost = conn.prepare(&grain.upsert(true))?;
    let mut keep_cost = conn.prepare(&grain.upsert(false))?;
    let mut cost_before = conn.prepare(&format!(
        "SELECT reported_cost FROM {table} WHERE {unit} = ?1 AND key = ?2"
    ))?;
    let mut empty = conn.prepare(&format!(
        "DELETE FROM {table} WHERE {unit} = ?1 AND key = ?2 AND records = 0"
    ))?;
    for ((at, key), delta) in deltas {
        let cost_changed = delta.counts[REPORTED] != 0 || !delta.reported_cost.is_zero();
        let stmt = if cost_changed {
            let before: Option<String> = cost_before
                .query_row([at, key], |r| r.get(0))
                .optional()?
                .flatten();
            let sum = before
                .as_deref()
                .and_then(parse_decimal)
                .unwrap_or_default()
                .checked_add(delta.reported_cost)
                .unwrap_or(Decimal::MAX);
            set_cost.raw_bind_parameter(3 + SUMMED.len(), sum.to_string())?;
            &mut set_cost
        } else {
            keep_cost.raw_bind_parameter(3 + SUMMED.len(), rusqlite::types::Null)?;
            &mut keep_cost
        };
        stmt.raw_bind_parameter(1, at)?;
        stmt.raw_bind_parameter(2, key)?;
        for (i, &c) in delta.counts.iter().enumerate() {
            stmt.raw_bind_parameter(3 + i, c)?;
        }
        stmt.raw_execute()?;
        if delta.counts[0] < 0 {
            empty.execute([at, key])?;
        }
    }
    Ok(())
}

fn load_keys(conn: &Connection) -> rusqlite::Result<HashMap<Box<[u8]>, i64, Fast>> {
    let mut keys = HashMap::default();
    let mut buf = Vec::new();
    for_each_key(conn, &mut |id, r, band, classes| {
        encode(r, band, classes, &mut buf);
        keys.insert(buf.as_slice().into(), id);
    })?;
    Ok(keys)
}

/// Calls `f` with every key as a record (no counts; starting at the epoch), its prompt band and classes.
fn for_each_key(
    conn: &Connection,
    f: &mut dyn FnMut(i64, &UsageRecord, u64, u32),
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(&format!("SELECT id, {KEY_COLUMNS} FROM rollup_keys"))?;
    let mut rows = stmt.query([])?;
    let file: Arc<str> = Arc::from("");
    while let Some(row) = rows.next()? {
        let source: String = row.get(1)?;
        let provider: String = row.get(2)?;
        let model: String = row.get(3)?;
        let mut r = key_record(&source, &provider, Text::from(model), &file);
        r.service_tier = row.text(4)?;
        r.batch = row.get(5)?;
        r.region = row.text(6)?;
        r.long_context = row.get(7)?;
        r.failed = row.get(10)?;
        r.team = row.text(11)?;
        r.project = row.text(12)?;
        r.workspace = row.text(13)?;
        let band: i64 = row.get(8)?;
        let classes: u32 = row.get(9)?;
        f(row.get(0)?, &r, band.max(0) as u64, classes);
    }
    Ok(())
}

/// A key's record with no counts, starting at the epoch: the fields every key has.
pub(super) fn key_record(
    source: &str,
    provider: &str,
    model: Text,
    file: &Arc<str>,
) -> UsageRecord {
    UsageRecord::new(
        Text::default(),
        crate::sources::by_name(source)
            .map(|s| s.name())
            .unwrap_or("other"),
        Provider::parse(provider).unwrap_or(Provider::Other),
        model,
        Utc.timestamp_opt(0, 0).single().unwrap_or_default(),
        Provenance {
            file: file.clone(),
            line: 0,
        },
    )
}

/// The text fields of a key, in the order both encodings write them.
fn key_texts(r: &UsageRecord) -> [Option<&str>; 8] {
    [
        Some(r.source),
        Some(r.provider.as_str()),
        Some(&*r.model),
        r.service_tier.as_deref(),
        r.region.as_deref(),
        r.team.as_deref(),
        r.project.as_deref(),
        r.workspace.as_deref(),
    ]
}

/// The long-context flag as a digit: 0, 1, or 2 for none.
fn long_flag(r: &UsageRecord) -> u8 {
    r.long_context.map_or(2, u8::from)
}

/// A key as bytes, for lookups in memory: each text field length-prefixed (`-` for none), then the
/// flags, the prompt band and the classes.
pub(crate) fn encode(r: &UsageRecord, band: u64, classes: u32, out: &mut Vec<u8>) {
    out.clear();
    for v in key_texts(r) {
        match v {
            Some(s) => {
                out.push(b'+');
                out.extend_from_slice(&(s.len() as u64).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            None => out.push(b'-'),
        }
    }
    out.extend_from_slice(&[u8::from(r.batch), long_flag(r), u8::from(r.failed)]);
    out.extend_from_slice(&band.to_le_bytes());
    out.extend_from_slice(&classes.to_le_bytes());
}

/// A key as text: each field length-prefixed, `-` for none. PostgreSQL ledgers store it
/// (`rollup_keys.code`, unique): never change it.
pub(crate) fn code(r: &UsageRecord, band: u64, classes: u32, out: &mut String) {
    out.clear();
    for v in key_texts(r) {
        let _ = match v {
            Some(s) => write!(out, "{}:{s}", s.len()),
            None => write!(out, "-"),
        };
    }
    let _ = write!(
        out,
        "{}{}{}/{band}/{classes}",
        u8::from(r.batch),
        long_flag(r),
        u8::from(r.failed)
    );
}

/// Builds the rollup of a ledger that has records and no rollup yet (the migration to version 3).
pub(super) fn build(conn: &Connection) -> rusqlite::Result<()> {
    let mut delta = Delta::default();
    let mut stmt = conn.prepare(&format!("SELECT {} FROM records", super::schema::COLUMNS))?;
    let mut rows = stmt.query([])?;
    let mut files = BTreeMap::new();
    while let Some(row) = rows.next()? {
        let r = super::record_from_row(row, &mut files)?;
        delta.record(r, 1);
    }
    delta.flush(conn)
}

/// Whether the rollup holds sums an aispend before schema version 10 wrote differently from this one:
/// - a bucket that counts no requests (Anthropic's usage report) under a long-context prompt band, which
///   is now 0 for it (`pricing::is_one_request`): such rows count fewer requests than records;
/// - a provider-reported cost in another currency than USD, now left out of `reported_cost`: only the
///   records of the hours whose sums count a reported cost are read for it, and not for the sources
///   whose reported cost is always in USD (Claude Code's `costUSD`, LiteLLM's and OpenRouter's
///   amounts), which are the large ones.
///
/// Reads the rollup, not every record, so that a large ledger that has neither pays no rebuild.
pub(super) fn outdated(conn: &Connection) -> rusqlite::Result<bool> {
    let banded_bucket: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM rollup JOIN rollup_keys k ON k.id = rollup.key \
         WHERE k.prompt_band > 0 AND rollup.requests < rollup.records)",
        [],
        |r| r.get(0),
    )?;
    if banded_bucket {
        return Ok(true);
    }
    // CROSS JOIN keeps the hours outside: each is one range of the records' primary key.
    conn.query_row(
        &format!(
            "SELECT EXISTS (SELECT 1 FROM (SELECT DISTINCT hour FROM rollup WHERE reported_records > 0 \
             AND key IN (SELECT id FROM rollup_keys \
             WHERE source NOT IN ('claude-code', 'litellm', 'openrouter'))) h \
             CROSS JOIN records r ON r.start_ms >= h.hour * {HOUR_MS} AND r.start_ms < (h.hour + 1) * {HOUR_MS} \
             WHERE r.reported_cost IS NOT NULL AND r.reported_currency IS NOT NULL \
             AND upper(r.reported_currency) <> 'USD')"
        ),
        [],
        |r| r.get(0),
    )
}

/// Builds the daily rollup from the hourly one (the migration to version 9).
pub(super) fn build_daily(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM rollup_daily", [])?;
    let mut days: HashMap<(i64, i64), Sums, Fast> = HashMap::default();
    let mut stmt = conn.prepare(&format!(
        "SELECT hour, key, {}, reported_cost FROM rollup",
        SUMMED.join(", ")
    ))?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (hour, key): (i64, i64) = (row.get(0)?, row.get(1)?);
        // A row that does not read back (a sum out of range) makes its day's sums out of range too:
        // reports check the sums they read and fall back to the records.
        let sums = sums_from_row(row)?.unwrap_or(Sums {
            counts: [i64::MIN; SUMMED.len()],
            reported_cost: Decimal::ZERO,
        });
        days.entry((hour.div_euclid(24), key))
            .or_default()
            .add_delta(&sums);
    }
    let mut days: Vec<((i64, i64), Sums)> = days.into_iter().collect();
    days.sort_unstable_by_key(|&(at, _)| at);
    write_sums(conn, Grain::Day, days)
}

/// Feeds the aggregator the sums of the period it reads, one per key, local day and UTC day (the day
/// a rate period starts on): from the daily rollup when every UTC day it reads is one local day (UTC,
/// and zones at offset zero for the period), else from the hourly one. `false` when neither can give
/// exactly what the records would (a period or a time zone that cuts through hours, a sum out of
/// range, a long-context threshold the rollup does not tell apart): then nothing was fed that the
/// caller must keep.
pub(super) fn feed(
    conn: &Connection,
    range: Option<(i64, i64)>,
    agg: &mut Aggregator<'_>,
) -> rusqlite::Result<bool> {
    let tz = agg.tz();
    let at = range.map_or_else(|| Utc::now().timestamp_millis(), |(lo, _)| lo);
    let at_zero = Utc.timestamp_millis_opt(at).single().is_some_and(|t| {
        tz.offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc()
            == 0
    });
    if at_zero {
        if feed_grain(conn, Grain::Day, range, agg)? {
            return Ok(true);
        }
        agg.clear();
    }
    feed_grain(conn, Grain::Hour, range, agg)
}

/// [`feed`] from one rollup.
pub(super) fn feed_grain(
    conn: &Connection,
    grain: Grain,
    range: Option<(i64, i64)>,
    agg: &mut Aggregator<'_>,
) -> rusqlite::Result<bool> {
    let mut merge = Merge::of(grain, range, agg.tz());
    for_each_key(conn, &mut |id, r, band, _| merge.template(id, r, band))?;
    let (lo, hi) = merge.units();
    let (table, unit) = (grain.table(), grain.unit());
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {unit}, key, {}, reported_cost FROM {table} WHERE {unit} >= ?1 AND {unit} <= ?2",
        SUMMED.join(", ")
    ))?;
    let mut rows = stmt.query([lo, hi])?;
    while let Some(row) = rows.next()? {
        if !merge.add(row.get(0)?, row.get(1)?, sums_from_row(row)?) {
            return Ok(false);
        }
    }
    Ok(merge.feed(agg))
}

/// (key, local day, UTC day): what [`Merge`] merges rows by.
type MergeKey = (i64, i32, i64);

/// Rollup rows of a period merged per key, local day and UTC day, then fed to a report's aggregator
/// (the part of [`feed`] every backend shares).
pub(crate) struct Merge {
    grain: Grain,
    lo: i64,
    hi: i64,
    tz: chrono_tz::Tz,
    /// Each key as a record, whose start, counts and reported cost are set for each sum fed.
    templates: HashMap<i64, (UsageRecord, u64)>,
    /// (key, local day, UTC day) → (first start in milliseconds, sums)
    merged: foldhash::HashMap<MergeKey, (i64, Sums)>,
    /// The (local, UTC) days of the sums held (see [`Merge::add_in_order`]).
    held: Option<(i32, i64)>,
    /// A buffer for the sums being fed.
    ready: Vec<(MergeKey, (i64, Sums))>,
    /// The last unit (hour or day) seen and its local day.
    day_of: (i64, i32),
}

impl Merge {
    /// A merge of hourly rows in `[start, end)` milliseconds (everything when `None`), days in `tz`.
    pub(crate) fn new(range: Option<(i64, i64)>, tz: chrono_tz::Tz) -> Merge {
        Merge::of(Grain::Hour, range, tz)
    }

    /// A merge of the rows of `grain`'s rollup.
    pub(crate) fn of(grain: Grain, range: Option<(i64, i64)>, tz: chrono_tz::Tz) -> Merge {
        let (lo, hi) = range.unwrap_or((i64::MIN, i64::MAX));
        Merge {
            grain,
            lo,
            hi,
            tz,
            templates: HashMap::new(),
            merged: foldhash::HashMap::default(),
            held: None,
            ready: Vec::new(),
            day_of: (i64::MIN, 0),
        }
    }

    /// The first and last unit (hour or day) to read.
    pub(super) fn units(&self) -> (i64, i64) {
        let ms = self.grain.ms();
        (
            self.lo.div_euclid(ms),
            self.hi.saturating_sub(1).div_euclid(ms),
        )
    }

    /// A key as a record (see [`for_each_key`]).
    pub(crate) fn template(&mut self, id: i64, r: &UsageRecord, band: u64) {
        self.templates.insert(id, (r.clone(), band));
    }

    /// Adds one row of `unit` (hours or days since the epoch); `false` when the rollup cannot serve the
    /// period (`sums` is `None` when the row's values are out of range).
    pub(crate) fn add(&mut self, unit: i64, key: i64, sums: Option<Sums>) -> bool {
        self.place(unit)
            .is_some_and(|(start, days)| self.put(start, days, key, sums))
    }

    /// [`Merge::add`] for rows that come in the order of their units: the sums of the day before are fed
    /// to `agg` first (in the order [`Merge::feed`] would feed them), so that only a day's are held.
    pub(crate) fn add_in_order(
        &mut self,
        unit: i64,
        key: i64,
        sums: Option<Sums>,
        agg: &mut Aggregator<'_>,
    ) -> bool {
        let Some((start, days)) = self.place(unit) else {
            return false;
        };
        if self.held != Some(days) {
            if !self.flush(agg) {
                return false;
            }
            self.held = Some(days);
        }
        self.put(start, days, key, sums)
    }

    /// Where a row of `unit` goes: its start in milliseconds, its local and UTC days; `None` when the
    /// rollup cannot serve the period.
    fn place(&mut self, unit: i64) -> Option<(i64, (i32, i64))> {
        let unit_ms = self.grain.ms();
        let start = unit.checked_mul(unit_ms)?;
        if start < self.lo || start.saturating_add(unit_ms) > self.hi {
            return None;
        }
        if self.day_of.0 != unit {
            // The unit must fall within one local day: true of hours in every zone whose offset is
            // whole hours, and of days where the offset is zero.
            let tz = self.tz;
            let local = |ms: i64| {
                Utc.timestamp_millis_opt(ms)
                    .single()
                    .map(|t| t.with_timezone(&tz).date_naive())
            };
            match (local(start), local(start + unit_ms - 1)) {
                (Some(a), Some(b)) if a == b => self.day_of = (unit, a.num_days_from_ce()),
                _ => return None,
            }
        }
        Some((start, (self.day_of.1, start.div_euclid(DAY_MS))))
    }

    fn put(&mut self, start: i64, (local, utc): (i32, i64), key: i64, sums: Option<Sums>) -> bool {
        let Some(sums) = sums else {
            return false;
        };
        let entry = self
            .merged
            .entry((key, local, utc))
            .or_insert_with(|| (start, Sums::default()));
        entry.1.add(&sums).is_some()
    }

    /// Feeds the merged sums, oldest first; `false` when one cannot be priced as its records would be.
    pub(crate) fn feed(mut self, agg: &mut Aggregator<'_>) -> bool {
        self.flush(agg)
    }

    /// Feeds the sums held, oldest first, and forgets them.
    fn flush(&mut self, agg: &mut Aggregator<'_>) -> bool {
        let mut merged = std::mem::take(&mut self.ready);
        merged.clear();
        merged.extend(self.merged.drain());
        merged.sort_unstable_by_key(|&((key, ..), (start, _))| (start, key));
        for ((key, ..), (start, sums)) in merged.drain(..) {
            let Some((r, band)) = self.templates.get_mut(&key) else {
                return false;
            };
            if sums.counts[0] == 0 {
                continue;
            }
            let Some(start) = Utc.timestamp_millis_opt(start).single() else {
                return false;
            };
            r.start = start;
            let c = sums.counts.map(|v| v as u64);
            r.requests = c[1];
            r.tokens = TokenCounts {
                input: c[2],
                cache_read: c[3],
                cache_write_5m: c[4],
                cache_write_1h: c[5],
                output: c[6],
                reasoning: c[7],
                audio_input: c[8],
                audio_output: c[9],
                image_input: c[10],
                image_output: c[11],
                web_search_requests: c[12],
                images: c[13],
                seconds: c[14],
                web_fetch_requests: c[15],
                file_search_calls: c[16],
                code_execution_calls: c[17],
                grounded_prompts: c[18],
                cache_read_audio: c[19],
                web_search_preview_calls: c[20],
            };
            r.reported_cost = (c[REPORTED] > 0).then_some(sums.reported_cost);
            let counts = Counts {
                records: c[0],
                reported: c[REPORTED],
            };
            if !agg.accept_sum(r, *band, counts) {
                return false;
            }
        }
        self.ready = merged;
        true
    }
}

/// One row's sums; `None` when a value is not a non-negative integer (a sum that overflowed).
fn sums_from_row(row: &Row<'_>) -> rusqlite::Result<Option<Sums>> {
    let mut sums = Sums::default();
    for (i, sum) in sums.counts.iter_mut().enumerate() {
        match row.get_ref(2 + i)?.as_i64() {
            Ok(v) if v >= 0 => *sum = v,
            _ => return Ok(None),
        }
    }
    let cost: Option<String> = row.get(2 + SUMMED.len())?;
    if let Some(cost) = cost {
        match parse_decimal(&cost) {
            Some(c) => sums.reported_cost = c,
            None => return Ok(None),
        }
    }
    Ok(Some(sums))
}

#[cfg(test)]
pub(super) mod tests {
    //! The rollup path and the per-record path give the same reports, to the last decimal, on random
    //! ledgers: random prices hit every per-request rule (long context on both sides of each threshold,
    //! reasoning above output, classes without rates, tiers, regions, failed and empty requests,
    //! reported costs, records dated before a model's first price), imported in several transactions
    //! with duplicates and growing copies that replace smaller ones.
    use super::*;
    use crate::config::Config;
    use crate::ledger::SqliteLedger as Ledger;
    use crate::period::PeriodSpec;
    use crate::pricing::PriceBook;
    use crate::record::DedupPolicy;
    use crate::report::{Dim, Filter, Report, ReportQuery, SortBy};
    use chrono::NaiveDate;
    use chrono_tz::Tz;

    /// splitmix64: a seeded, portable stream.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn chance(&mut self, percent: u64) -> bool {
            self.below(100) < percent
        }
        fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[self.below(items.len() as u64) as usize]
        }
        /// Zero half the time, else up to `max`.
        fn count(&mut self, max: u64) -> u64 {
            if self.chance(50) {
                0
            } else {
                1 + self.below(max)
            }
        }
    }

    const SOURCES: [&str; 3] = ["api-log", "claude-code", "litellm"];

    const MODELS: &[(Provider, &str)] = &[
        (Provider::Anthropic, "claude-sonnet-4-5-20250929"),
        (Provider::Anthropic, "claude-haiku-4-5-20251001"),
        (Provider::OpenAI, "gpt-4.1-mini"),
        (Provider::OpenAI, "gpt-5"),
        (Provider::OpenAI, "o3"),
        (Provider::OpenAI, "gpt-4o-audio-preview"),
        (Provider::Google, "gemini-2.5-pro"),
        (
            Provider::Bedrock,
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        ),
        (
            Provider::Bedrock,
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
        ),
        (Provider::Other, "no-such-model"),
    ];

    fn some_text(rng: &mut Rng, values: &[&str]) -> Option<Text> {
        match rng.below(values.len() as u64 + 1) {
            0 => None,
            i => Some(values[i as usize - 1].into()),
        }
    }

    fn random_record(rng: &mut Rng, id: u64) -> UsageRecord {
        let (provider, model) = *rng.pick(MODELS);
        let day = if rng.chance(3) {
            // before every model's first price period
            Utc.with_ymd_and_hms(2023, 1, 2, 0, 0, 0).unwrap()
        } else {
            Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap()
                + chrono::Duration::days(rng.below(45) as i64)
        };
        let start = day + chrono::Duration::milliseconds(rng.below(86_400_000) as i64);
        let mut r = UsageRecord::new(
            format!("id-{id}").into(),
            [SOURCES[0], SOURCES[1], SOURCES[2]][rng.below(3) as usize],
            provider,
            model.into(),
            start,
            Provenance {
                file: Arc::from("random.jsonl"),
                line: id,
            },
        );
        r.service_tier = some_text(rng, &["default", "flex", "priority", "Priority", "scale"]);
        r.batch = rng.chance(10);
        r.region = some_text(rng, &["us-east-1", " EU-west-1 ", "us-gov-west-1", ""]);
        r.long_context = match rng.below(10) {
            0 => Some(true),
            1 => Some(false),
            _ => None,
        };
        r.team = some_text(rng, &["search", "growth", ""]);
        r.project = some_text(rng, &["ranker", "seo", ""]);
        r.workspace = some_text(rng, &["wrk_1", "wrk_2"]);
        r.user = some_text(rng, &["ann", "ben"]);
        r.api_key = some_text(rng, &["key_1"]);
        let threshold = *rng.pick(&[100_000u64, 128_000, 200_000, 272_000]);
        r.tokens = TokenCounts {
            // near a threshold a fifth of the time, on either side of it
            input: if rng.chance(20) {
                threshold - 2 + rng.below(4)
            } else {
                rng.count(50_000)
            },
            cache_read: if rng.chance(10) {
                threshold + rng.below(3)
            } else {
                rng.count(90_000)
            },
            cache_write_5m: rng.count(9_000),
            cache_write_1h: if rng.chance(15) { rng.count(9_000) } else { 0 },
            output: rng.count(3_000),
            reasoning: rng.count(3_000),
            audio_input: if rng.chance(5) { rng.count(500) } else { 0 },
            audio_output: if rng.chance(5) { rng.count(500) } else { 0 },
            image_input: 0,
            image_output: 0,
            web_search_requests: if rng.chance(10) { rng.count(4) } else { 0 },
            web_fetch_requests: if rng.chance(10) { rng.count(4) } else { 0 },
            file_search_calls: if rng.chance(10) { rng.count(4) } else { 0 },
            // no per-call fee anywhere: leaves exactly these records unpriced
            code_execution_calls: if rng.chance(20) { rng.count(2) } else { 0 },
            grounded_prompts: if rng.chance(10) { rng.count(2) } else { 0 },
            cache_read_audio: if rng.chance(5) { rng.count(500) } else { 0 },
            web_search_preview_calls: if rng.chance(10) { rng.count(3) } else { 0 },
            images: 0,
            seconds: 0,
        };
        if rng.chance(5) {
            r.tokens = TokenCounts::default();
        }
        r.requests = match rng.below(20) {
            0 => 0,
            1 => 1 + rng.below(40),
            _ => 1,
        };
        r.failed = rng.chance(5);
        if rng.chance(20) {
            r.reported_cost = Some(Decimal::new(rng.below(10_000_000_000) as i64, 9));
            // left out of the reported sums unless in USD (any case, or none given)
            r.reported_currency = some_text(rng, &["USD", "usd", "EUR", "gbp"]);
        }
        // a bucket (an end time) that counts no requests, as Anthropic's usage report gives
        if r.requests == 0 && rng.chance(2) {
            r.end = Some(start + chrono::Duration::days(1));
        }
        r.dedup = if rng.chance(30) {
            DedupPolicy::KeepLargest
        } else {
            DedupPolicy::KeepFirst
        };
        r
    }

    /// A copy of `r` as a later line of the same request: more output, perhaps reasoning or a class
    /// it lacked, perhaps another model or team (the old copy must leave its own key).
    fn grown(rng: &mut Rng, r: &UsageRecord) -> UsageRecord {
        let mut g = r.clone();
        g.tokens.output += rng.below(2_000);
        if rng.chance(30) {
            g.tokens.reasoning += rng.below(2_000);
        }
        if rng.chance(20) {
            g.tokens.cache_write_1h += 1 + rng.below(100);
        }
        if rng.chance(10) {
            g.team = Some("moved".into());
        }
        if rng.chance(10) {
            g.reported_cost = Some(Decimal::new(rng.below(1_000_000) as i64, 6));
        }
        g
    }

    /// The import batches of a random ledger: new records, and lines seen before (the same copy, or a
    /// larger or smaller one).
    pub(in crate::ledger) fn random_batches(seed: u64) -> Vec<Vec<UsageRecord>> {
        let mut rng = Rng(seed);
        let mut batches: Vec<Vec<UsageRecord>> = Vec::new();
        let mut written: Vec<UsageRecord> = Vec::new();
        let mut next_id = 0;
        for _ in 0..1 + rng.below(3) {
            let mut batch = Vec::new();
            for _ in 0..rng.below(120) {
                if !written.is_empty() && rng.chance(20) {
                    let old = rng.pick(&written).clone();
                    batch.push(if rng.chance(60) {
                        grown(&mut rng, &old)
                    } else {
                        old
                    });
                } else {
                    next_id += 1;
                    batch.push(random_record(&mut rng, next_id));
                }
            }
            written.extend(batch.iter().cloned());
            batches.push(batch);
        }
        batches
    }

    fn random_ledger(seed: u64, path: &std::path::Path) -> Ledger {
        let mut ledger = Ledger::open(path).unwrap();
        for batch in random_batches(seed) {
            ledger
                .write(true, |w| {
                    for r in &batch {
                        crate::input::RecordSink::accept(w, r.clone())?;
                    }
                    Ok(())
                })
                .unwrap();
        }
        ledger
    }

    /// The rules the random ledgers are reported with.
    fn rules() -> crate::config::TeamRules {
        Config::parse(
            "[teams]\nrules = [{ team = \"ranking\", project = \"ranker\", provider = \"openai\" }]\n",
            std::path::Path::new("aispend.toml"),
        )
        .unwrap()
        .teams
    }

    /// Feeds an aggregator a period (milliseconds) from a backend's rollup; `false` when it cannot.
    pub(in crate::ledger) type RollupFeed<'f> =
        dyn FnMut(Option<(i64, i64)>, &mut Aggregator<'_>) -> bool + 'f;

    /// Every case reported from another backend's rollup (`feed`: `false` when it did not serve) equals
    /// the per-record report of `reference` (an SQLite ledger of the same batches). Returns the
    /// records read.
    pub(in crate::ledger) fn assert_rollup_equals_records(
        seed: u64,
        reference: &Ledger,
        feed: &mut RollupFeed<'_>,
    ) -> u64 {
        let book = PriceBook::built_in().unwrap();
        let rules = rules();
        let mut read = 0;
        for (i, case) in cases().iter().enumerate() {
            let (per_record, _) = report(reference, case, &rules, &book, Read::Records);
            let query = query(case);
            let mut agg =
                Aggregator::new(&query, &rules, &book, false, reference.newest().unwrap());
            let range = agg
                .fixed_period()
                .map(|p| (p.start.timestamp_millis(), p.end.timestamp_millis()));
            assert!(
                feed(range, &mut agg),
                "seed {seed} case {i}: the rollup did not serve"
            );
            assert_same(&agg.finish(), &per_record, &format!("seed {seed} case {i}"));
            read += per_record.records_read;
        }
        read
    }

    struct Case {
        by: Vec<Dim>,
        filters: Vec<&'static str>,
        period: PeriodSpec,
        tz: &'static str,
        compare: bool,
        reconcile: bool,
    }

    fn cases() -> Vec<Case> {
        let dates = |a: (i32, u32, u32), b: (i32, u32, u32)| PeriodSpec::Dates {
            since: NaiveDate::from_ymd_opt(a.0, a.1, a.2).unwrap(),
            until: NaiveDate::from_ymd_opt(b.0, b.1, b.2).unwrap(),
        };
        let all = dates((2020, 1, 1), (2027, 12, 31));
        let case =
            |by: &[Dim], filters: &[&'static str], period: PeriodSpec, tz: &'static str| Case {
                by: by.to_vec(),
                filters: filters.to_vec(),
                period,
                tz,
                compare: false,
                reconcile: false,
            };
        let mut cases = vec![
            case(&[Dim::Model], &[], all, "UTC"),
            case(&[Dim::Team, Dim::Model], &[], all, "UTC"),
            case(
                &[Dim::Provider, Dim::ServiceTier, Dim::Project],
                &[],
                all,
                "UTC",
            ),
            case(&[Dim::Day, Dim::Model], &[], all, "America/New_York"),
            case(
                &[Dim::Week, Dim::Workspace, Dim::Source],
                &[],
                all,
                "Europe/Berlin",
            ),
            case(
                &[Dim::Month, Dim::Team],
                &["model=claude*", "project=ranker"],
                all,
                "UTC",
            ),
            case(
                &[Dim::Model],
                &[],
                PeriodSpec::Month {
                    year: 2026,
                    month: 10,
                },
                "Asia/Tokyo",
            ),
            case(
                &[Dim::Day],
                &[],
                dates((2026, 10, 9), (2026, 10, 20)),
                "UTC",
            ),
            case(&[Dim::Model], &[], PeriodSpec::NewestMonth, "UTC"),
        ];
        let mut compare = case(
            &[Dim::Team],
            &[],
            PeriodSpec::Month {
                year: 2026,
                month: 11,
            },
            "UTC",
        );
        compare.compare = true;
        cases.push(compare);
        let mut reconcile = case(&[Dim::Provider, Dim::Model], &[], all, "UTC");
        reconcile.reconcile = true;
        cases.push(reconcile);
        cases
    }

    fn report(
        ledger: &Ledger,
        case: &Case,
        rules: &crate::config::TeamRules,
        book: &PriceBook,
        path: Read,
    ) -> (Report, bool) {
        let query = query(case);
        let newest = ledger.newest().unwrap();
        let mut agg = Aggregator::new(&query, rules, book, false, newest);
        let range = agg
            .fixed_period()
            .map(|p| (p.start.timestamp_millis(), p.end.timestamp_millis()));
        let served = match path {
            Read::Rollup => {
                assert!(agg.rollup_serves());
                feed(&ledger.conn, range, &mut agg).unwrap()
            }
            Read::Grain(grain) => feed_grain(&ledger.conn, grain, range, &mut agg).unwrap(),
            Read::Records => {
                ledger.feed_records(&mut agg).unwrap();
                false
            }
        };
        (agg.finish(), served)
    }

    /// How a test report reads the ledger.
    #[derive(Clone, Copy)]
    enum Read {
        Records,
        /// `feed`: the daily rollup where it serves, else the hourly one.
        Rollup,
        Grain(Grain),
    }

    fn query(case: &Case) -> ReportQuery {
        ReportQuery {
            group_by: case.by.clone(),
            filters: case
                .filters
                .iter()
                .map(|f| Filter::parse(f).unwrap())
                .collect(),
            period: case.period,
            tz: case.tz.parse::<Tz>().unwrap(),
            top: None,
            compare: case.compare,
            reconcile: case.reconcile,
            sort: SortBy::Name,
        }
    }

    fn assert_same(a: &Report, b: &Report, what: &str) {
        assert_eq!(a.period, b.period, "{what}: period");
        assert_eq!(a.unpriced, b.unpriced, "{what}: unpriced");
        assert_eq!(a.rows, b.rows, "{what}: rows");
        assert_eq!(a.total, b.total, "{what}: total");
        assert_eq!(a.unpriced, b.unpriced, "{what}: unpriced");
        assert_eq!(a.records_read, b.records_read, "{what}: records read");
        assert_eq!(a.warnings, b.warnings, "{what}: warnings");
    }

    #[test]
    fn rollup_reports_equal_per_record_reports_on_random_ledgers() {
        let book = PriceBook::built_in().unwrap();
        let rules = rules();
        let mut sums_read = 0;
        for seed in 0..30 {
            let dir = tempfile::tempdir().unwrap();
            let ledger = random_ledger(seed, &dir.path().join("ledger.db"));
            for (i, case) in cases().iter().enumerate() {
                let (per_record, _) = report(&ledger, case, &rules, &book, Read::Records);
                let (rolled, served) = report(&ledger, case, &rules, &book, Read::Rollup);
                // Every zone here has whole-hour offsets: the rollup always serves.
                assert!(served, "seed {seed} case {i}: the rollup did not serve");
                assert_same(&rolled, &per_record, &format!("seed {seed} case {i}"));
                let (hourly, served) =
                    report(&ledger, case, &rules, &book, Read::Grain(Grain::Hour));
                assert!(
                    served,
                    "seed {seed} case {i}: the hourly rollup did not serve"
                );
                assert_same(
                    &hourly,
                    &per_record,
                    &format!("seed {seed} case {i}, hourly"),
                );
                // The daily rollup serves UTC and declines other zones (never a wrong answer).
                let (daily, served) = report(&ledger, case, &rules, &book, Read::Grain(Grain::Day));
                assert_eq!(served, case.tz == "UTC", "seed {seed} case {i}: daily");
                if served {
                    assert_same(&daily, &per_record, &format!("seed {seed} case {i}, daily"));
                }
                sums_read += per_record.records_read;
            }
        }
        assert!(
            sums_read > 10_000,
            "the ledgers were nearly empty: {sums_read}"
        );
    }

    /// What the rollup cannot answer exactly goes to the records: half-hour zones, and users (not kept).
    #[test]
    fn reports_the_rollup_cannot_serve_read_the_records() {
        let book = PriceBook::built_in().unwrap();
        let rules = crate::config::TeamRules::default();
        let dir = tempfile::tempdir().unwrap();
        let ledger = random_ledger(7, &dir.path().join("ledger.db"));
        let all = PeriodSpec::Dates {
            since: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            until: NaiveDate::from_ymd_opt(2027, 12, 31).unwrap(),
        };
        let kolkata = Case {
            by: vec![Dim::Day, Dim::Model],
            filters: vec![],
            period: all,
            tz: "Asia/Kolkata",
            compare: false,
            reconcile: false,
        };
        let (_, served) = report(&ledger, &kolkata, &rules, &book, Read::Rollup);
        assert!(!served, "a +05:30 zone cuts hours in two");
        // Ledger::feed falls back to the records and matches them.
        let query = ReportQuery {
            group_by: kolkata.by.clone(),
            filters: vec![],
            period: all,
            tz: "Asia/Kolkata".parse().unwrap(),
            top: None,
            compare: false,
            reconcile: false,
            sort: SortBy::Name,
        };
        let mut agg = Aggregator::new(&query, &rules, &book, false, None);
        ledger.feed(&mut agg).unwrap();
        let (per_record, _) = report(&ledger, &kolkata, &rules, &book, Read::Records);
        assert_same(&agg.finish(), &per_record, "Asia/Kolkata");
        let by_user = ReportQuery {
            group_by: vec![Dim::User],
            ..query
        };
        let agg = Aggregator::new(&by_user, &rules, &book, false, None);
        assert!(!agg.rollup_serves());
    }

    /// A day of Anthropic's usage report (no request count, 1M prompt tokens) and, in one key and hour,
    /// an Anthropic cost-report line in USD and one in EUR: a ledger written by this build at `path`.
    fn ledger_to_migrate(path: &std::path::Path) {
        let day = Utc.with_ymd_and_hms(2026, 10, 5, 0, 0, 0).unwrap();
        let at = |line| Provenance {
            file: Arc::from("usage.json"),
            line,
        };
        let mut bucket = UsageRecord::new(
            "bucket".into(),
            "anthropic-usage",
            Provider::Anthropic,
            "claude-sonnet-4-5-20250929".into(),
            day,
            at(1),
        );
        bucket.end = Some(day + chrono::Duration::days(1));
        bucket.requests = 0;
        bucket.tokens.input = 1_000_000;
        bucket.tokens.output = 100_000;
        let cost = |id: &str, amount: Decimal, currency: &str, line| {
            let mut r = UsageRecord::new(
                id.into(),
                "anthropic-cost",
                Provider::Anthropic,
                "claude-sonnet-4-5-20250929".into(),
                day + chrono::Duration::hours(3),
                at(line),
            );
            r.requests = 0;
            r.reported_cost = Some(amount);
            r.reported_currency = Some(currency.into());
            r
        };
        let mut ledger = Ledger::open(path).unwrap();
        ledger
            .write(true, |w| {
                for r in [
                    bucket.clone(),
                    cost("usd", Decimal::new(250, 2), "USD", 2),
                    cost("eur", Decimal::new(1000, 2), "EUR", 3),
                ] {
                    crate::input::RecordSink::accept(w, r)?;
                }
                Ok(())
            })
            .unwrap();
    }

    /// The cost and reported cost of October 2026 from the rollup (the daily one: UTC).
    fn rollup_totals(conn: &Connection) -> (Decimal, Option<Decimal>) {
        let book = PriceBook::built_in().unwrap();
        let rules = crate::config::TeamRules::default();
        let case = Case {
            by: vec![Dim::Model],
            filters: vec![],
            period: PeriodSpec::Month {
                year: 2026,
                month: 10,
            },
            tz: "UTC",
            compare: false,
            reconcile: false,
        };
        let query = query(&case);
        let mut agg = Aggregator::new(&query, &rules, &book, false, None);
        let range = agg
            .fixed_period()
            .map(|p| (p.start.timestamp_millis(), p.end.timestamp_millis()));
        assert!(feed(conn, range, &mut agg).unwrap(), "the rollup served");
        let report = agg.finish();
        (report.total.cost, report.total.reported())
    }

    /// A version-9 ledger whose rollup was summed by an older aispend (the bucket under the 272k
    /// prompt band, the EUR amount in `reported_cost`) is rebuilt by the migration to version 10.
    #[test]
    fn migration_10_rebuilds_a_rollup_with_banded_buckets_and_foreign_costs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        ledger_to_migrate(&path);
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "UPDATE rollup_keys SET prompt_band = 272000 WHERE source = 'anthropic-usage';
                 UPDATE rollup SET reported_records = 2, reported_cost = '12.50' WHERE reported_records = 1;
                 UPDATE rollup_daily SET reported_records = 2, reported_cost = '12.50' WHERE reported_records = 1;
                 PRAGMA user_version = 9;",
            )
            .unwrap();
            // As an older aispend reported it: the day's bucket at the long-context rates,
            // 1_000_000 × $6/M + 100_000 × $22.50/M = $8.25, and 2.50 USD + 10.00 EUR added up as $12.50.
            assert_eq!(
                rollup_totals(&conn),
                (Decimal::new(825, 2), Some(Decimal::new(1250, 2)))
            );
        }
        let ledger = Ledger::open(&path).unwrap();
        assert_eq!(
            super::super::schema::version(&ledger.conn).unwrap(),
            super::super::schema::latest()
        );
        // Standard rates for a bucket: 1_000_000 × $3/M + 100_000 × $15/M = $4.50; reported: the
        // 2.50 USD only.
        assert_eq!(
            rollup_totals(&ledger.conn),
            (Decimal::new(450, 2), Some(Decimal::new(250, 2)))
        );
        let banded: i64 = ledger
            .conn
            .query_row(
                "SELECT count(*) FROM rollup_keys WHERE prompt_band > 0",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(banded, 0);
        // The records keep their amounts and currencies.
        let (cost, currency): (String, String) = ledger
            .conn
            .query_row(
                "SELECT reported_cost, reported_currency FROM records WHERE id = 'eur'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((cost.as_str(), currency.as_str()), ("10.00", "EUR"));
    }

    /// A version-9 ledger whose rollup needs nothing (a long-context single request, a reported cost
    /// in USD) is not rebuilt: its rows and key ids stay as they were.
    #[test]
    fn migration_10_leaves_a_rollup_that_needs_nothing_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        let mut one = UsageRecord::new(
            "one".into(),
            "api-log",
            Provider::Anthropic,
            "claude-sonnet-4-5-20250929".into(),
            Utc.with_ymd_and_hms(2026, 10, 5, 9, 0, 0).unwrap(),
            Provenance {
                file: Arc::from("api.jsonl"),
                line: 1,
            },
        );
        one.tokens.input = 300_000;
        one.tokens.output = 1_000;
        one.reported_cost = Some(Decimal::new(183, 2));
        one.reported_currency = Some("usd".into());
        {
            let mut ledger = Ledger::open(&path).unwrap();
            ledger
                .write(true, |w| {
                    crate::input::RecordSink::accept(w, one.clone()).map(|_| ())
                })
                .unwrap();
        }
        let keys = |conn: &Connection| -> Vec<(i64, i64)> {
            let mut stmt = conn
                .prepare("SELECT id, prompt_band FROM rollup_keys ORDER BY id")
                .unwrap();
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)));
            rows.unwrap().map(Result::unwrap).collect()
        };
        let before = {
            let conn = Connection::open(&path).unwrap();
            // A mark a rebuild would wipe out.
            conn.execute_batch(
                "UPDATE rollup SET seconds = 77; UPDATE rollup_daily SET seconds = 77;
                 PRAGMA user_version = 9;",
            )
            .unwrap();
            keys(&conn)
        };
        assert_eq!(before.len(), 1);
        assert_eq!(before[0].1, 272_000, "one request of 300k prompt tokens");
        let ledger = Ledger::open(&path).unwrap();
        assert_eq!(
            super::super::schema::version(&ledger.conn).unwrap(),
            super::super::schema::latest()
        );
        assert_eq!(keys(&ledger.conn), before);
        for table in ["rollup", "rollup_daily"] {
            let seconds: i64 = ledger
                .conn
                .query_row(&format!("SELECT sum(seconds) FROM {table}"), [], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(seconds, 77, "{table} was rebuilt");
        }
        assert!(!outdated(&ledger.conn).unwrap());
    }
}
