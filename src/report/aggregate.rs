//! Aggregation: every record is attributed (team), priced (per request), filtered and added to its group.
//!
//! When reading files directly, the aggregator is also the deduplicator: ids are remembered as 128-bit
//! hashes, and a `KeepLargest` record that grows (a streaming partial, a re-exported bucket) takes back
//! what its smaller copy added before adding itself. Memory grows with the number of distinct groups and
//! a few bytes per distinct record id, not with input size.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::{Dim, Filter, Report, Row, Totals, UnpricedRow};
use crate::config::TeamRules;
use crate::error::Result;
use crate::input::{Accepted, RecordSink};
use crate::period::{month_index, Period, PeriodSpec};
use crate::pricing::{PriceBook, Priced, Pricer};
use crate::record::{DedupPolicy, UsageRecord};
use crate::whatif::ScenarioPricer;

/// The model a record is reported under: the canonical id of the price entry its name resolved to, else
/// the name as reported.
pub fn canonical_model<'b>(book: &'b PriceBook, priced: &Priced, r: &'b UsageRecord) -> &'b str {
    match priced {
        Priced::Cost { model, .. }
        | Priced::Unpriced {
            model: Some(model), ..
        } => &book.model(*model).id,
        Priced::Unpriced { model: None, .. } => &r.model,
    }
}

/// Whether a record passes `--where` filters (sorted by dimension): filters on one dimension are
/// alternatives, different dimensions must all hold; `model` also matches the name as reported.
pub fn passes(filters: &[Filter], r: &UsageRecord, team: &str, model: &str, tz: Tz) -> bool {
    filters.chunk_by(|a, b| a.dim == b.dim).all(|dim_filters| {
        let value = dim_filters[0].dim.value(r, team, model, tz);
        let also_reported = dim_filters[0].dim == Dim::Model;
        dim_filters
            .iter()
            .any(|f| f.pattern.matches(&value) || (also_reported && f.pattern.matches(&r.model)))
    })
}

/// What to report.
#[derive(Debug)]
pub struct ReportQuery {
    pub group_by: Vec<Dim>,
    pub filters: Vec<Filter>,
    pub period: PeriodSpec,
    pub tz: Tz,
    pub top: Option<usize>,
    /// Also aggregate the previous period of equal length (`--compare`).
    pub compare: bool,
    /// Reconciliation: unpriced records stay in their groups (their reported cost counts as invoiced,
    /// and the group says its computed cost is incomplete) instead of going to the unpriced list.
    pub reconcile: bool,
    pub sort: SortBy,
}

/// Row order (`--sort`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SortBy {
    /// Most expensive first.
    #[default]
    Cost,
    /// Largest absolute change against the previous period first (with `--compare`).
    Change,
    /// By dimension values.
    Name,
    /// By day, week or month (the default when grouping by one), then most expensive first.
    Time,
}

/// The periods being aggregated: the report's own (bucket 0) and, with `--compare`, the one before it
/// (bucket 1).
#[derive(Debug, Clone, Copy)]
struct Windows {
    current: Period,
    previous: Option<Period>,
}

/// Where a record's numbers went, so that a larger copy can take them back.
#[derive(Debug, Clone)]
enum Slot {
    Group(usize),
    Unpriced(usize),
}

/// Each record kept by id (`KeepLargest`): its weight and what it added, packed. The id map holds only
/// where in here a record's entry is (8 bytes an id, so that a million distinct ids take a few tens of
/// MiB, not hundreds; the weight is read from here only when an id comes again, which is rare). A record
/// is taken back only when a larger copy of it arrives, so the numbers are stored small (variable-length
/// integers, money only when not zero) rather than fast to read. They are kept in blocks of [`Applied::BLOCK`] bytes, never moved: one
/// vector grown by doubling held up to twice what it used, and both copies while it grew (a sixth of
/// the peak memory of a report on 1 GB of API logs).
#[derive(Debug, Default)]
struct Applied {
    /// Full blocks, then the one being filled.
    blocks: Vec<Vec<u8>>,
}

impl Applied {
    const BLOCK: usize = 1 << 20;
    /// The most one record's entry takes: its weight and 12 varints of up to 10 bytes, a mask, 5
    /// amounts of up to 1 + 19 bytes.
    const MOST: usize = 13 * 10 + 1 + 5 * 20;

    fn clear(&mut self) {
        self.blocks.clear();
    }

    /// The block to write to, with room for one record's numbers.
    fn block(&mut self) -> &mut Vec<u8> {
        match self.blocks.last() {
            Some(b) if Self::BLOCK - b.len() >= Self::MOST => {}
            _ => self.blocks.push(Vec::with_capacity(Self::BLOCK)),
        }
        let last = self.blocks.len() - 1;
        &mut self.blocks[last]
    }

    /// Packs a record's weight and what it added (`None`: nothing); returns where its entry is.
    fn push(&mut self, weight: u64, applied: &Option<(Slot, Totals)>) -> u64 {
        // Written on the stack first, then copied in one piece (a push per byte checked the room).
        let mut entry = Entry::default();
        entry.varint(weight);
        match applied {
            Some((slot, t)) => pack(&mut entry, slot, t),
            None => entry.varint(0u64),
        }
        let out = self.block();
        let at = out.len();
        out.extend_from_slice(entry.bytes());
        ((self.blocks.len() - 1) * Self::BLOCK + at) as u64
    }

    /// The bytes of the entry at `at`.
    fn entry(&self, at: u64) -> impl Iterator<Item = u8> + '_ {
        let at = at as usize;
        self.blocks
            .get(at / Self::BLOCK)
            .and_then(|block| block.get(at % Self::BLOCK..))
            .unwrap_or_default()
            .iter()
            .copied()
    }

    /// The weight of the record whose entry is at `at`.
    fn weight(&self, at: u64) -> u64 {
        read_varint(&mut self.entry(at)) as u64
    }

    /// What the record whose entry is at `at` added.
    fn get(&self, at: u64) -> Option<(Slot, Totals)> {
        let mut bytes = self.entry(at);
        read_varint(&mut bytes);
        let slot = read_varint(&mut bytes).checked_sub(1)?;
        let mut varint = || read_varint(&mut bytes) as u64;
        let index = (slot >> 1) as usize;
        let slot = if slot & 1 == 0 {
            Slot::Group(index)
        } else {
            Slot::Unpriced(index)
        };
        let mut t = Totals {
            requests: varint(),
            failed_requests: varint(),
            input_tokens: varint(),
            cache_read_tokens: varint(),
            cache_write_tokens: varint(),
            output_tokens: varint(),
            reasoning_tokens: varint(),
            reported_records: varint(),
            unpriced_records: varint(),
            fallback_records: varint(),
            tool_calls: varint(),
            ..Totals::default()
        };
        let mask = bytes.next().unwrap_or(0);
        t.saturated = mask & 0x80 != 0;
        for (i, m) in [
            &mut t.cost,
            &mut t.reported_cost,
            &mut t.fallback_cost,
            &mut t.scenario_cost,
            &mut t.tool_fees,
        ]
        .into_iter()
        .enumerate()
        {
            if mask & (1 << i) != 0 {
                let scale = u32::from(bytes.next().unwrap_or(0));
                let z = read_varint(&mut bytes);
                let n = ((z >> 1) as i128) ^ -((z & 1) as i128);
                *m = Decimal::from_i128_with_scale(n, scale);
            }
        }
        Some((slot, t))
    }
}

/// One record's packed entry, as it is written.
struct Entry {
    bytes: [u8; Applied::MOST],
    len: usize,
}

impl Default for Entry {
    fn default() -> Self {
        Entry {
            bytes: [0; Applied::MOST],
            len: 0,
        }
    }
}

impl Entry {
    fn push(&mut self, b: u8) {
        self.bytes[self.len] = b;
        self.len += 1;
    }

    /// Appends `n` as a variable-length integer (7 bits a byte, low bits first).
    fn varint(&mut self, n: impl Into<u128>) {
        let mut n: u128 = n.into();
        // In 64 bits where it fits (every count, most of the rest).
        if let Ok(mut n) = u64::try_from(n) {
            while n >= 0x80 {
                self.push((n as u8) | 0x80);
                n >>= 7;
            }
            return self.push(n as u8);
        }
        while n >= 0x80 {
            self.push((n as u8) | 0x80);
            n >>= 7;
        }
        self.push(n as u8);
    }

    fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Packs what a record added: its slot (its index and tag, plus one: 0 is nothing), its counts, then
/// its amounts that are not zero.
fn pack(out: &mut Entry, slot: &Slot, t: &Totals) {
    let (tag, index) = match slot {
        Slot::Group(i) => (0, *i as u128),
        Slot::Unpriced(i) => (1, *i as u128),
    };
    // 0 is nothing; a slot is its index and tag, plus one.
    out.varint(((index << 1) | tag) + 1);
    for n in [
        t.requests,
        t.failed_requests,
        t.input_tokens,
        t.cache_read_tokens,
        t.cache_write_tokens,
        t.output_tokens,
        t.reasoning_tokens,
        t.reported_records,
        t.unpriced_records,
        t.fallback_records,
        t.tool_calls,
    ] {
        out.varint(n);
    }
    let money = [
        t.cost,
        t.reported_cost,
        t.fallback_cost,
        t.scenario_cost,
        t.tool_fees,
    ];
    let mut mask = u8::from(t.saturated) << 7;
    for (i, m) in money.iter().enumerate() {
        if !m.is_zero() {
            mask |= 1 << i;
        }
    }
    out.push(mask);
    for m in money.iter().filter(|m| !m.is_zero()) {
        // The exact value: its scale, then its mantissa, zig-zag encoded.
        out.push(m.scale() as u8);
        let n = m.mantissa();
        out.varint(((n << 1) ^ (n >> 127)) as u128);
    }
}

/// Reads what [`Entry::varint`] wrote (0 past the end).
fn read_varint(bytes: &mut dyn Iterator<Item = u8>) -> u128 {
    let mut n = 0u128;
    for shift in (0..128).step_by(7) {
        let b = bytes.next().unwrap_or(0);
        n |= u128::from(b & 0x7f) << shift;
        if b < 0x80 {
            break;
        }
    }
    n
}

/// Record ids seen (their 128-bit hashes), in [`IdMap::SHARDS`] maps chosen by the hash's high bits. One
/// map of a million ids doubles in one step, holding its old and new tables at once (half again its
/// size, the peak memory of a report on 1 GB of API logs); each shard grows on its own, by a
/// 64th of that.
struct IdMap<V> {
    shards: Vec<HashMap<IdKey, V, IdHasher>>,
}

/// An id's 128-bit hash as two halves: a `u128` is aligned to 16 bytes, which made each slot of a map
/// to an 8-byte value 32 bytes; this makes it 24.
#[derive(Clone, Copy, PartialEq, Eq)]
struct IdKey([u64; 2]);

impl IdKey {
    fn of(id: u128) -> IdKey {
        IdKey([id as u64, (id >> 64) as u64])
    }
}

impl std::hash::Hash for IdKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // The low half, as the hasher takes it (see [`IdHash`]).
        state.write_u64(self.0[0]);
    }
}

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap {
            shards: (0..Self::SHARDS).map(|_| HashMap::default()).collect(),
        }
    }
}

impl<V> IdMap<V> {
    const SHARDS: usize = 64;

    fn shard(&mut self, id: u128) -> &mut HashMap<IdKey, V, IdHasher> {
        // The high bits: the map's own hasher takes the low 64.
        &mut self.shards[(id >> 122) as usize]
    }

    fn get(&self, id: &u128) -> Option<&V> {
        self.shards[(*id >> 122) as usize].get(&IdKey::of(*id))
    }

    fn insert(&mut self, id: u128, value: V) -> Option<V> {
        self.shard(id).insert(IdKey::of(id), value)
    }

    fn clear(&mut self) {
        self.shards.iter_mut().for_each(HashMap::clear);
    }
}

/// Record ids are remembered as xxh3 hashes already: hashing them again needs no SipHash.
type IdHasher = std::hash::BuildHasherDefault<IdHash>;

/// Takes the low 64 bits of an id's 128-bit hash as it is.
#[derive(Default)]
struct IdHash(u64);

impl std::hash::Hasher for IdHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Separates dimension values inside a group key.
const SEP: char = '\u{1f}';

pub struct Aggregator<'a> {
    query: &'a ReportQuery,
    rules: &'a TeamRules,
    pricer: Pricer<'a>,
    /// Fixed periods, or `None` while the newest month is not yet known (then buckets are months).
    fixed: Option<Windows>,
    dedup: bool,
    /// (month bucket, dimension values, totals); the bucket is 0 when the period is fixed.
    groups: Vec<(i32, Vec<String>, Totals)>,
    /// `bucket SEP value SEP value …` → index in `groups`, looked up without allocating.
    /// Hashed with foldhash: a lookup per record, of a short key the input chose.
    group_index: foldhash::HashMap<String, usize>,
    key: String,
    /// The bucket whose decimal text starts `key`, and that text's length.
    key_bucket: Option<i32>,
    key_bucket_len: usize,
    unpriced: Vec<((i32, String, String, String), Totals)>,
    unpriced_index: HashMap<(i32, String, String, String), usize>,
    seen_first: IdMap<()>,
    /// Where each kept id's entry is in `applied`.
    seen_largest: IdMap<u64>,
    applied: Applied,
    newest: Option<DateTime<Utc>>,
    /// The newest record's time as given to [`Aggregator::new`].
    newest_given: Option<DateTime<Utc>>,
    records: u64,
    /// `aispend whatif`: every grouped record is also priced under this scenario.
    scenario: Option<ScenarioPricer<'a>>,
    /// Records in the report that have no price (see [`RecordSink::unpriced`]).
    unpriced_records: u64,
    /// Records whose provider-reported cost is in another currency than USD, left out of every
    /// reported sum: (bucket, currency in capitals, records).
    foreign: Vec<(i32, String, u64)>,
}

/// How many records a sum stands for, and how many of them carried a reported cost.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    pub records: u64,
    pub reported: u64,
}

impl Counts {
    fn totals(self, r: &UsageRecord, cost: Decimal) -> Totals {
        Totals {
            reported_records: self.reported,
            ..Totals::of(r, cost)
        }
    }
}

impl<'a> Aggregator<'a> {
    /// `dedup`: remember ids (reading files directly); the ledger is already deduplicated.
    /// `newest`: the newest record's time when known up front (the ledger), fixing the default month.
    pub fn new(
        query: &'a ReportQuery,
        rules: &'a TeamRules,
        book: &'a PriceBook,
        dedup: bool,
        newest: Option<DateTime<Utc>>,
    ) -> Aggregator<'a> {
        let fixed = if query.period.is_fixed() || newest.is_some() {
            let current = query.period.resolve(query.tz, newest);
            let previous = query
                .compare
                .then(|| query.period.previous(query.tz, current));
            Some(Windows { current, previous })
        } else {
            // An open --since over PATHs: every record from that day on; the end is the newest one's day.
            query.period.open_window(query.tz).map(|current| Windows {
                current,
                previous: None,
            })
        };
        Aggregator {
            query,
            rules,
            pricer: Pricer::new(book),
            fixed,
            dedup,
            groups: Vec::new(),
            group_index: foldhash::HashMap::default(),
            key: String::new(),
            key_bucket: None,
            key_bucket_len: 0,
            unpriced: Vec::new(),
            unpriced_index: HashMap::new(),
            seen_first: IdMap::default(),
            seen_largest: IdMap::default(),
            applied: Applied::default(),
            newest,
            newest_given: newest,
            records: 0,
            scenario: None,
            unpriced_records: 0,
            foreign: Vec::new(),
        }
    }

    /// Also prices every record under a what-if scenario (into [`Totals::scenario_cost`]). A record the
    /// scenario cannot price goes to the unpriced list (reason `scenario: …`), out of both costs.
    pub fn with_scenario(mut self, scenario: ScenarioPricer<'a>) -> Aggregator<'a> {
        self.scenario = Some(scenario);
        self
    }

    /// The time zone of days, weeks, months and the period's bounds.
    pub fn tz(&self) -> Tz {
        self.query.tz
    }

    /// The span to read from the ledger (both periods with `--compare`), when known before reading.
    pub fn fixed_period(&self) -> Option<Period> {
        self.fixed.map(|w| match w.previous {
            Some(p) => Period {
                start: p.start.min(w.current.start),
                end: p.end.max(w.current.end),
            },
            None => w.current,
        })
    }

    /// The period a time falls in: the report's (0), the one before it (1, with `--compare`), or while
    /// the period is not yet known, its month; `None` outside them.
    pub fn bucket(&self, t: DateTime<Utc>) -> Option<i32> {
        match self.fixed {
            Some(w) if w.current.contains(t) => Some(0),
            Some(w) => w.previous.filter(|p| p.contains(t)).map(|_| 1),
            None => Some(month_index(self.query.tz, t)),
        }
    }

    /// Attributes, prices, filters and adds one record; returns where it went.
    fn apply(&mut self, r: &UsageRecord) -> Option<(Slot, Totals)> {
        let bucket = self.bucket(r.start)?;
        let priced = self.pricer.price(r);
        let counts = Counts {
            records: 1,
            reported: u64::from(r.reported_usd().is_some()),
        };
        let applied = self.add(r, bucket, priced, counts);
        if let (Some(_), Some(currency)) = (&applied, r.foreign_currency()) {
            self.count_foreign(bucket, currency, 1);
        }
        applied
    }

    /// Whether a report of this query can be made from the ledger's rollup (sums per hour and pricing
    /// key, see `ledger::rollup`): every dimension it groups or filters by, and every team rule, reads
    /// only fields the rollup keeps, and no what-if scenario reprices the records.
    pub fn rollup_serves(&self) -> bool {
        let kept = |d: &Dim| {
            matches!(
                d,
                Dim::Provider
                    | Dim::Model
                    | Dim::Team
                    | Dim::Project
                    | Dim::Workspace
                    | Dim::ServiceTier
                    | Dim::Source
                    | Dim::Day
                    | Dim::Week
                    | Dim::Month
            )
        };
        self.scenario.is_none()
            && self.query.group_by.iter().all(kept)
            && self.query.filters.iter().all(|f| kept(&f.dim))
            && !self.rules.reads_request_fields()
    }

    /// Adds the sum of `counts.records` records that agree on everything pricing, attribution and the
    /// query's dimensions read (a ledger rollup row; `band`: see `pricing::prompt_band`), with `sum.start`
    /// anywhere in the hour they started in. `false` when the sum cannot be priced exactly as its
    /// records would be: then nothing was added, and the records must be read instead.
    pub fn accept_sum(&mut self, sum: &UsageRecord, band: u64, counts: Counts) -> bool {
        let Some(priced) = self.pricer.price_sum(sum, band, counts.records) else {
            return false;
        };
        self.records += counts.records;
        if self.newest.is_none_or(|n| sum.start > n) {
            self.newest = Some(sum.start);
        }
        if let Some(bucket) = self.bucket(sum.start) {
            let applied = self.add(sum, bucket, priced, counts);
            if Self::is_unpriced(&applied) {
                self.unpriced_records += counts.records;
            }
        }
        true
    }

    /// Whether the hour starting at `start` lies across the edge of a period (then a sum over it cannot
    /// be put in one period).
    pub fn cuts_hour(&self, start: DateTime<Utc>) -> bool {
        let last = start + chrono::Duration::hours(1) - chrono::Duration::nanoseconds(1);
        self.bucket(start) != self.bucket(last)
    }

    /// Notes a record's time that came in a sum (which carries only its hour): the newest record decides
    /// the default period.
    pub fn saw(&mut self, t: DateTime<Utc>) {
        if self.newest.is_none_or(|n| t > n) {
            self.newest = Some(t);
        }
    }

    /// Forgets everything added (to read the records after a rollup could not serve the report).
    pub fn clear(&mut self) {
        self.pricer = Pricer::new(self.pricer.book());
        self.groups.clear();
        self.group_index.clear();
        self.unpriced.clear();
        self.unpriced_index.clear();
        self.seen_first.clear();
        self.seen_largest.clear();
        self.applied.clear();
        self.newest = self.newest_given;
        self.records = 0;
        self.unpriced_records = 0;
        self.foreign.clear();
    }

    /// Counts (`sign` 1) or takes back (`sign` -1) a record in `bucket` whose reported cost is in
    /// `currency`, not USD.
    #[cold]
    fn count_foreign(&mut self, bucket: i32, currency: &str, sign: i64) {
        let at = self
            .foreign
            .iter()
            .position(|(b, c, _)| *b == bucket && c.eq_ignore_ascii_case(currency));
        let at = at.unwrap_or_else(|| {
            self.foreign
                .push((bucket, currency.to_ascii_uppercase(), 0));
            self.foreign.len() - 1
        });
        let n = &mut self.foreign[at].2;
        *n = if sign < 0 {
            n.saturating_sub(1)
        } else {
            n.saturating_add(1)
        };
    }

    fn add(
        &mut self,
        r: &UsageRecord,
        bucket: i32,
        priced: Priced,
        counts: Counts,
    ) -> Option<(Slot, Totals)> {
        let team = self.rules.team_of(r);
        let book = self.pricer.book();
        let model = canonical_model(book, &priced, r);
        let tz = self.query.tz;
        if !passes(&self.query.filters, r, team, model, tz) {
            return None;
        }
        let scenario_cost = match (&priced, self.scenario.as_mut()) {
            (Priced::Cost { .. }, Some(s)) => Some(s.price(r, Some(model))),
            _ => None,
        };
        let unpriced = match (&priced, &scenario_cost) {
            // A request with nothing billable (a failed request) costs nothing, whatever its model.
            (Priced::Unpriced { .. }, _) if r.tokens.is_empty() => None,
            (Priced::Unpriced { .. }, _) if self.query.reconcile => None,
            (Priced::Unpriced { reason, .. }, _) => Some(reason.to_string()),
            (Priced::Cost { .. }, Some(Err(reason))) => Some(format!("scenario: {reason}")),
            (Priced::Cost { .. }, _) => None,
        };
        if let Some(reason) = unpriced {
            let totals = counts.totals(r, Decimal::ZERO);
            let key = (
                bucket,
                r.provider.as_str().to_string(),
                model.to_string(),
                reason,
            );
            let i = match self.unpriced_index.get(&key) {
                Some(&i) => i,
                None => {
                    self.unpriced.push((key.clone(), Totals::default()));
                    self.unpriced_index.insert(key, self.unpriced.len() - 1);
                    self.unpriced.len() - 1
                }
            };
            self.unpriced[i].1.add(&totals);
            return Some((Slot::Unpriced(i), totals));
        }
        let cost = match priced {
            Priced::Cost { cost, .. } => cost,
            Priced::Unpriced { .. } => Decimal::ZERO,
        };
        // The bucket in decimal, without the formatting machinery (it cost more than the lookup), and
        // written once for a run of records in the same bucket.
        if self.key_bucket != Some(bucket) {
            self.key.clear();
            push_int(&mut self.key, bucket);
            self.key_bucket = Some(bucket);
            self.key_bucket_len = self.key.len();
        }
        self.key.truncate(self.key_bucket_len);
        for dim in &self.query.group_by {
            self.key.push(SEP);
            dim.write_value(r, team, model, tz, &mut self.key);
        }
        let mut totals = counts.totals(r, cost);
        if let Some(Ok(c)) = scenario_cost {
            totals.scenario_cost = c;
        }
        if matches!(priced, Priced::Unpriced { .. }) && !r.tokens.is_empty() {
            totals.unpriced_records = counts.records;
        }
        if let Priced::Cost {
            model, tool_fees, ..
        } = priced
        {
            totals.tool_fees = tool_fees;
            if self.pricer.book().model(model).fallback {
                totals.fallback_cost = cost;
                totals.fallback_records = counts.records;
            }
        }
        let i = match self.group_index.get(self.key.as_str()) {
            Some(&i) => i,
            None => {
                let values = self.key.split(SEP).skip(1).map(str::to_string).collect();
                self.groups.push((bucket, values, Totals::default()));
                self.group_index
                    .insert(self.key.clone(), self.groups.len() - 1);
                self.groups.len() - 1
            }
        };
        self.groups[i].2.add(&totals);
        Some((Slot::Group(i), totals))
    }

    /// Whether an applied record went unpriced (to the unpriced list, or counted as such in its group
    /// when reconciling).
    fn is_unpriced(applied: &Option<(Slot, Totals)>) -> bool {
        matches!(applied, Some((Slot::Unpriced(_), _)))
            || matches!(applied, Some((_, t)) if t.unpriced_records > 0)
    }

    /// [`Self::apply`], counting the unpriced.
    fn apply_counted(&mut self, r: &UsageRecord) -> Option<(Slot, Totals)> {
        let applied = self.apply(r);
        if Self::is_unpriced(&applied) {
            self.unpriced_records += 1;
        }
        applied
    }

    fn retract(&mut self, applied: Option<(Slot, Totals)>) {
        if Self::is_unpriced(&applied) {
            self.unpriced_records = self.unpriced_records.saturating_sub(1);
        }
        match applied {
            Some((Slot::Group(i), t)) => self.groups[i].2.subtract(&t),
            Some((Slot::Unpriced(i), t)) => self.unpriced[i].1.subtract(&t),
            None => {}
        }
    }

    /// Builds the report: picks the newest month when the period was not fixed, attaches the previous
    /// period with `--compare`, sorts, and folds rows past `--top` into one `(other)` row.
    pub fn finish(self) -> Report {
        let query = self.query;
        let period = query.period.resolve(query.tz, self.newest);
        let previous_period = query
            .compare
            .then(|| query.period.previous(query.tz, period));
        let (current, before) = match self.fixed {
            Some(_) => (0, 1),
            None => {
                let m = self.newest.map(|t| month_index(query.tz, t)).unwrap_or(0);
                (m, m - 1)
            }
        };
        let mut rows: Vec<Row> = Vec::new();
        let mut previous: HashMap<Vec<String>, Totals> = HashMap::new();
        for (bucket, values, totals) in self.groups {
            if totals.is_empty() {
                continue;
            }
            if bucket == current {
                rows.push(Row {
                    values,
                    totals,
                    previous: None,
                });
            } else if query.compare && bucket == before {
                previous.insert(values, totals);
            }
        }
        if query.compare {
            for row in &mut rows {
                row.previous = Some(previous.remove(&row.values).unwrap_or_default());
            }
            // Groups that spent before and nothing now are part of the change too.
            rows.extend(previous.into_iter().map(|(values, totals)| Row {
                values,
                totals: Totals::default(),
                previous: Some(totals),
            }));
        }
        // --top keeps the most expensive groups (the largest changes with --sort change), then shows
        // them in the order asked for.
        let pick = match query.sort {
            SortBy::Change => SortBy::Change,
            _ => SortBy::Cost,
        };
        match query.top {
            Some(top) if rows.len() > top => {
                sort_rows(&mut rows, pick, &query.group_by);
                let mut other = Row {
                    values: vec![super::OTHER.to_string(); query.group_by.len()],
                    totals: Totals::default(),
                    previous: query.compare.then(Totals::default),
                };
                for row in rows.drain(top..) {
                    other.totals.add(&row.totals);
                    if let (Some(p), Some(rp)) = (other.previous.as_mut(), row.previous.as_ref()) {
                        p.add(rp);
                    }
                }
                sort_rows(&mut rows, query.sort, &query.group_by);
                rows.push(other);
            }
            _ => sort_rows(&mut rows, query.sort, &query.group_by),
        }
        let mut total = Totals::default();
        let mut total_previous = query.compare.then(Totals::default);
        for row in &rows {
            total.add(&row.totals);
            if let (Some(p), Some(rp)) = (total_previous.as_mut(), row.previous.as_ref()) {
                p.add(rp);
            }
        }
        let mut unpriced: Vec<UnpricedRow> = self
            .unpriced
            .into_iter()
            .filter(|((b, ..), t)| *b == current && !t.is_empty())
            .map(|((_, provider, model, reason), totals)| UnpricedRow {
                provider,
                model,
                reason,
                totals,
            })
            .collect();
        unpriced.sort_by(|a, b| {
            b.totals
                .requests
                .cmp(&a.totals.requests)
                .then_with(|| a.model.cmp(&b.model))
                .then_with(|| a.provider.cmp(&b.provider))
                .then_with(|| a.reason.cmp(&b.reason))
        });
        let foreign = self
            .foreign
            .iter()
            .filter(|(bucket, _, n)| *bucket == current && *n > 0)
            .map(|(_, currency, n)| (currency.clone(), *n))
            .collect();
        Report {
            period,
            tz: query.tz,
            previous_period,
            group_by: query.group_by.clone(),
            rows,
            total,
            total_previous,
            unpriced,
            records_read: self.records,
            fallback: self.pricer.book().fallback_label().map(str::to_string),
            warnings: self.pricer.early_warnings(),
            foreign,
            currency: "USD",
        }
    }
}

fn sort_rows(rows: &mut [Row], sort: SortBy, group_by: &[Dim]) {
    match sort {
        SortBy::Time => {
            // Day, week and month values sort as text in time order (`2026-10-01`, `2026-W40`).
            let times: Vec<usize> = (0..group_by.len())
                .filter(|&i| matches!(group_by[i], Dim::Day | Dim::Week | Dim::Month))
                .collect();
            rows.sort_by(|a, b| {
                let time = |r: &Row| {
                    times
                        .iter()
                        .map(|&i| r.values[i].clone())
                        .collect::<Vec<_>>()
                };
                time(a)
                    .cmp(&time(b))
                    .then_with(|| b.totals.cost.cmp(&a.totals.cost))
                    .then_with(|| a.values.cmp(&b.values))
            })
        }
        SortBy::Cost => rows.sort_by(|a, b| {
            b.totals
                .cost
                .cmp(&a.totals.cost)
                .then_with(|| a.values.cmp(&b.values))
        }),
        SortBy::Change => rows.sort_by(|a, b| {
            b.change()
                .unwrap_or_default()
                .abs()
                .cmp(&a.change().unwrap_or_default().abs())
                .then_with(|| b.totals.cost.cmp(&a.totals.cost))
                .then_with(|| a.values.cmp(&b.values))
        }),
        SortBy::Name => rows.sort_by(|a, b| a.values.cmp(&b.values)),
    }
}

impl crate::cache::sums::SumSink for Aggregator<'_> {
    fn takes_sums(&self) -> bool {
        // Sums are deduplicated within their file, as a deduplicating aggregator reads it.
        self.dedup && self.rollup_serves()
    }

    fn accept_file(&mut self, sums: &crate::cache::sums::FileSums, source: &'static str) -> bool {
        crate::cache::sums::feed(self, sums, source)
    }

    fn clear(&mut self) {
        Aggregator::clear(self);
    }
}

impl RecordSink for Aggregator<'_> {
    fn accept(&mut self, r: UsageRecord) -> Result<Accepted> {
        if self.newest.is_none_or(|n| r.start > n) {
            self.newest = Some(r.start);
        }
        if !self.dedup {
            self.records += 1;
            self.apply_counted(&r);
            return Ok(Accepted::Added);
        }
        let id = xxhash_rust::xxh3::xxh3_128(r.id.as_bytes());
        match r.dedup {
            DedupPolicy::KeepFirst => {
                if self.seen_first.insert(id, ()).is_some() {
                    return Ok(Accepted::Duplicate);
                }
                self.records += 1;
                self.apply_counted(&r);
                Ok(Accepted::Added)
            }
            DedupPolicy::KeepLargest => {
                let weight = r.dedup_weight();
                let outcome = match self.seen_largest.get(&id) {
                    Some(&at) if self.applied.weight(at) >= weight => {
                        return Ok(Accepted::Duplicate)
                    }
                    Some(&at) => {
                        let before = self.applied.get(at);
                        // The copy it replaces is the same record from the same provider: same
                        // period, same currency.
                        if let (Some(_), Some(currency), Some(bucket)) =
                            (&before, r.foreign_currency(), self.bucket(r.start))
                        {
                            self.count_foreign(bucket, currency, -1);
                        }
                        self.retract(before);
                        Accepted::Replaced
                    }
                    None => {
                        self.records += 1;
                        Accepted::Added
                    }
                };
                let applied = self.apply_counted(&r);
                let at = self.applied.push(weight, &applied);
                self.seen_largest.insert(id, at);
                Ok(outcome)
            }
        }
    }

    fn unpriced(&self) -> u64 {
        self.unpriced_records
    }

    fn sums(&mut self) -> Option<&mut dyn crate::cache::sums::SumSink> {
        Some(self)
    }
}

/// Appends `n` in decimal, as `write!(out, "{n}")` does.
fn push_int(out: &mut String, n: i32) {
    if n < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut v = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_told_apart_by_both_halves_in_24_byte_slots() {
        // The map hashes the low half only; ids that share it (and their shard, the top bits) are
        // still different ids.
        let low = 0x0123_4567_89ab_cdef_u128;
        let (a, b) = (low | (1 << 64), low | (2 << 64));
        let mut seen: IdMap<u64> = IdMap::default();
        assert_eq!(seen.insert(a, 7), None);
        assert_eq!(seen.get(&a), Some(&7));
        assert_eq!(seen.get(&b), None);
        assert_eq!(seen.insert(b, 8), None);
        assert_eq!(seen.insert(a, 9), Some(7));
        assert_eq!((seen.get(&a), seen.get(&b)), (Some(&9), Some(&8)));
        assert_eq!(std::mem::size_of::<(IdKey, u64)>(), 24);
    }
    use proptest::prelude::*;

    #[test]
    fn push_int_writes_what_format_writes() {
        let edges = [
            i32::MIN,
            -1_000_000,
            -10,
            -9,
            -1,
            0,
            1,
            9,
            10,
            99,
            100,
            123_456,
        ];
        for n in edges.into_iter().chain([i32::MAX]) {
            let mut out = String::from("x");
            push_int(&mut out, n);
            assert_eq!(out, format!("x{n}"));
        }
    }

    fn money() -> impl Strategy<Value = Decimal> {
        prop_oneof![
            Just(Decimal::ZERO),
            Just(Decimal::MAX),
            Just(Decimal::MIN),
            (any::<i64>(), 0u32..=28).prop_map(|(n, s)| Decimal::new(n, s)),
            (any::<i128>(), 0u32..=28).prop_map(|(n, s)| {
                Decimal::try_from_i128_with_scale(n >> 32, s).unwrap_or(Decimal::ONE)
            }),
        ]
    }

    fn totals() -> impl Strategy<Value = Totals> {
        (
            proptest::array::uniform11(prop_oneof![
                Just(0u64),
                Just(u64::MAX),
                any::<u64>(),
                0u64..300
            ]),
            proptest::array::uniform5(money()),
            any::<bool>(),
        )
            .prop_map(|(n, m, saturated)| Totals {
                requests: n[0],
                failed_requests: n[1],
                input_tokens: n[2],
                cache_read_tokens: n[3],
                cache_write_tokens: n[4],
                output_tokens: n[5],
                reasoning_tokens: n[6],
                reported_records: n[7],
                unpriced_records: n[8],
                fallback_records: n[9],
                tool_calls: n[10],
                cost: m[0],
                reported_cost: m[1],
                fallback_cost: m[2],
                scenario_cost: m[3],
                tool_fees: m[4],
                saturated,
            })
    }

    proptest! {
        /// What a kept record added comes back exactly (every count, every Decimal to its scale) when a
        /// larger copy takes it back, whatever else was packed before it.
        #[test]
        fn packed_records_come_back_exactly(
            items in proptest::collection::vec(
                (any::<bool>(), 0usize..100_000, totals(), any::<bool>(), any::<u64>()), 1..20)
        ) {
            let mut applied = Applied::default();
            let mut at = Vec::new();
            for (group, index, t, nothing, weight) in &items {
                let slot = if *group { Slot::Group(*index) } else { Slot::Unpriced(*index) };
                let item = (!nothing).then(|| (slot, t.clone()));
                at.push((applied.push(*weight, &item), item, *weight));
            }
            for (at, item, weight) in at {
                prop_assert_eq!(applied.weight(at), weight);
                let got = applied.get(at);
                prop_assert_eq!(got.is_some(), item.is_some());
                if let (Some((got_slot, got)), Some((slot, want))) = (got, item) {
                    prop_assert_eq!(format!("{got_slot:?}"), format!("{slot:?}"));
                    prop_assert_eq!(got.cost.scale(), want.cost.scale());
                    prop_assert_eq!(got, want);
                }
            }
        }
    }

    /// Provider-reported costs add up in USD only: a cost in another currency stays out of the sums,
    /// and the report counts its records per currency (a larger copy of one counts once).
    #[test]
    fn reported_costs_in_another_currency_stay_out_of_the_usd_sums() {
        use chrono::TimeZone;
        use rust_decimal_macros::dec;
        let book = PriceBook::built_in().unwrap();
        let rules = TeamRules::default();
        let query = ReportQuery {
            group_by: vec![Dim::Provider],
            filters: Vec::new(),
            period: PeriodSpec::Month {
                year: 2026,
                month: 10,
            },
            tz: chrono_tz::UTC,
            top: None,
            compare: false,
            reconcile: false,
            sort: SortBy::Name,
        };
        let record = |id: &str, cost: Decimal, currency: Option<&str>| {
            let mut r = UsageRecord::new(
                id.into(),
                "azure-cost",
                crate::record::Provider::Azure,
                "gpt-4o".into(),
                Utc.with_ymd_and_hms(2026, 10, 5, 0, 0, 0).unwrap(),
                crate::record::Provenance {
                    file: std::sync::Arc::from("costs.csv"),
                    line: 2,
                },
            );
            r.requests = 0;
            r.reported_cost = Some(cost);
            r.reported_currency = currency.map(Into::into);
            r.dedup = DedupPolicy::KeepLargest;
            r
        };
        let mut agg = Aggregator::new(&query, &rules, &book, true, None);
        for r in [
            record("a", dec!(1.25), Some("USD")),
            record("b", dec!(2.00), Some("EUR")),
            record("c", dec!(0.50), None),
            record("d", dec!(0.10), Some("usd")),
            record("e", dec!(3.00), Some("eur")),
            // a larger copy of `e` replaces it: still one record in EUR
            record("e", dec!(3.50), Some("EUR")),
            record("f", dec!(7.00), Some("GBP")),
        ] {
            agg.accept(r).unwrap();
        }
        let report = agg.finish();
        // USD (any case) or no currency: 1.25 + 0.50 + 0.10 = 1.85 over 3 records; the 2.00 + 3.50 EUR
        // and 7.00 GBP are not added
        assert_eq!(report.total.reported(), Some(dec!(1.85)));
        assert_eq!(report.total.reported_records, 3);
        assert_eq!(
            report.foreign,
            [("EUR".to_string(), 2), ("GBP".to_string(), 1)]
        );
        assert_eq!(
            report.foreign_warnings()[1],
            "1 record carries a provider-reported cost in GBP: it is not in reported_cost, which is in USD"
        );
    }

    #[test]
    fn packed_records_fill_blocks_that_never_move() {
        // The largest records there are (every count u64::MAX, every amount the largest mantissa at
        // the largest scale), enough of them for several blocks: each comes back exactly, and no block
        // grew past the size it was made with.
        let big = Decimal::from_i128_with_scale(Decimal::MAX.mantissa(), 28);
        let item = |i: usize| {
            let t = Totals {
                requests: u64::MAX,
                failed_requests: u64::MAX,
                input_tokens: u64::MAX - i as u64,
                cache_read_tokens: u64::MAX,
                cache_write_tokens: u64::MAX,
                output_tokens: u64::MAX,
                reasoning_tokens: u64::MAX,
                reported_records: u64::MAX,
                unpriced_records: u64::MAX,
                fallback_records: u64::MAX,
                tool_calls: u64::MAX,
                cost: -big,
                reported_cost: big,
                fallback_cost: big,
                scenario_cost: big,
                tool_fees: big,
                saturated: true,
            };
            Some((Slot::Unpriced(usize::MAX >> 1), t))
        };
        let mut applied = Applied::default();
        let at: Vec<u64> = (0..12_000)
            .map(|i| applied.push(u64::MAX - i as u64, &item(i)))
            .collect();
        assert!(applied.blocks.len() >= 3, "{} blocks", applied.blocks.len());
        assert!(applied
            .blocks
            .iter()
            .all(|b| b.capacity() == Applied::BLOCK));
        for (i, at) in at.into_iter().enumerate() {
            assert_eq!(applied.weight(at), u64::MAX - i as u64);
            let (slot, got) = applied.get(at).unwrap();
            assert_eq!(
                format!("{slot:?}"),
                format!("{:?}", Slot::Unpriced(usize::MAX >> 1))
            );
            assert_eq!(got, item(i).unwrap().1);
        }
    }
}
