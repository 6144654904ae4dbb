//! Per-file sums: what a file's records add up to, so that a warm report prices a few rows per file
//! instead of replaying every record.
//!
//! An entry keeps, beside the records, the file's records deduplicated within the file (as the
//! aggregator would: the first copy of a `KeepFirst` id, the largest of a `KeepLargest` one) summed per
//! UTC hour and per the key of the ledger's rollup (`ledger::rollup`): every field pricing reads and the
//! attribution fields a report groups by, and nothing a price table or the config decides. It also keeps
//! the file's per-file account (records added, duplicates, replaced), its newest record's time, and the
//! sorted 64-bit hashes of its record ids.
//!
//! A file's sums stand for its records only when none of its ids is read from another file in the same
//! run (deduplication across files then cannot touch them): the driver checks the ids of every other file
//! first, and reads the records of a file that shares one. Sums are priced on every run, with that run's
//! price table and team rules, and only for reports that the rollup can serve
//! ([`crate::report::aggregate::Aggregator::rollup_serves`]).

use std::sync::Arc;

use foldhash::{HashMap, HashMapExt, HashSet};

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::ledger::rollup::{self, Merge, Sums, HOUR_MS};
use crate::pricing::prompt_band;
use crate::record::{DedupPolicy, Provenance, Provider, Text, UsageRecord};
use crate::report::aggregate::Aggregator;

use super::codec;

/// A sink that can take a file's sums instead of its records.
pub trait SumSink {
    /// Whether sums can stand for records in this run (what the report groups and filters by, its team
    /// rules).
    fn takes_sums(&self) -> bool;
    /// Adds a file's sums, read by `source`. `false` when they cannot be priced exactly as the records
    /// would be: the caller then clears the sink and reads the records.
    fn accept_file(&mut self, sums: &FileSums, source: &'static str) -> bool;
    /// Forgets everything added.
    fn clear(&mut self);
}

/// The key of a row: every field pricing and attribution read (the prompt band and the classes of token
/// counts decide per request; see `ledger::rollup`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Key {
    provider: Provider,
    model: Text,
    service_tier: Option<Text>,
    batch: bool,
    region: Option<Text>,
    long_context: Option<bool>,
    band: u64,
    failed: bool,
    team: Option<Text>,
    project: Option<Text>,
    workspace: Option<Text>,
}

/// What a file's records add up to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileSums {
    /// The per-file account, as a run that reads no other file with these ids counts it.
    pub added: u64,
    pub duplicates: u64,
    pub replaced: u64,
    /// The newest record's time (duplicates included).
    #[serde(with = "crate::record::cache_repr::time_option")]
    newest: Option<DateTime<Utc>>,
    keys: Vec<Key>,
    /// The rows, by UTC hour and key index, each once, encoded (see [`put_row`]). Stored apart from the
    /// rest, and decoded only as they are priced.
    #[serde(skip)]
    pub(super) rows: Vec<u8>,
    /// The records' id hashes (see [`id_hash`]), sorted, each once. Stored apart from the rest, and read
    /// only when a run must compare files' ids.
    #[serde(skip)]
    pub ids: Vec<u64>,
}

/// Appends a row: its hour (as the change from the row before, `hour` the hour of that row, updated),
/// its key's index and its sums.
fn put_row(out: &mut Vec<u8>, hour: &mut i64, row: (i64, u32, &Sums)) {
    codec::put_signed(out, row.0.wrapping_sub(*hour));
    *hour = row.0;
    codec::put_varint(out, u64::from(row.1));
    codec::put_sums(out, row.2);
}

/// Takes a row (see [`put_row`]) off the front of `input`.
fn get_row(input: &mut &[u8], hour: &mut i64) -> Option<(i64, u32, Sums)> {
    *hour = hour.wrapping_add(codec::get_signed(input)?);
    let key = u32::try_from(codec::get_varint(input)?).ok()?;
    Some((*hour, key, codec::get_sums(input)?))
}

/// The 128-bit hash the aggregator deduplicates by.
fn id_hash128(id: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
}

/// The hash an id is compared across files by: equal ids always give equal hashes (two different ids
/// rarely do, and then the files are only read by their records).
pub fn id_hash(id: &str) -> u64 {
    id_hash128(id) as u64
}

/// A `KeepLargest` id's kept copy: its weight, and where [`Builder::added`] holds its row and what it
/// added to the row, to take back when a larger copy comes.
struct Kept {
    weight: u64,
    at: u32,
}

/// Builds a file's sums from its records, in file order.
#[derive(Default)]
pub struct Builder {
    /// A record error, a sum out of range, or a reported cost in another currency than USD (a report
    /// counts those records to warn about them): the file has no sums, and is read by its records.
    broken: bool,
    out: FileSums,
    key_buf: Vec<u8>,
    key_index: HashMap<Box<[u8]>, u32>,
    /// The index in `rows` of each (hour, key).
    row_index: HashMap<(i64, u32), u32>,
    rows: Vec<(i64, u32, Sums)>,
    first: HashSet<u128>,
    largest: HashMap<u128, Kept>,
    /// What each kept `KeepLargest` copy added: its row's index and its sums, encoded.
    added: Vec<u8>,
}

impl Builder {
    /// A builder for about `records` records.
    pub fn with_capacity(records: usize) -> Builder {
        Builder {
            row_index: HashMap::with_capacity(records / 2),
            rows: Vec::with_capacity(records / 2),
            largest: HashMap::with_capacity(records),
            added: Vec::with_capacity(records * 16),
            out: FileSums {
                ids: Vec::with_capacity(records),
                ..FileSums::default()
            },
            ..Builder::default()
        }
    }

    /// A record error: files with errors are read by their records.
    pub fn error(&mut self) {
        self.broken = true;
    }

    /// Adds a record, deduplicating within the file as the aggregator does.
    pub fn record(&mut self, r: &UsageRecord) {
        if self.broken || r.foreign_currency().is_some() {
            self.broken = true;
            return;
        }
        if self.out.newest.is_none_or(|n| r.start > n) {
            self.out.newest = Some(r.start);
        }
        let id = id_hash128(&r.id);
        self.out.ids.push(id as u64);
        match r.dedup {
            DedupPolicy::KeepFirst => {
                if !self.first.insert(id) {
                    self.out.duplicates += 1;
                    return;
                }
                self.out.added += 1;
                self.add(r);
            }
            DedupPolicy::KeepLargest => {
                let weight = r.dedup_weight();
                match self.largest.get(&id) {
                    Some(kept) if kept.weight >= weight => {
                        self.out.duplicates += 1;
                        return;
                    }
                    Some(kept) => {
                        self.take_back(kept.at);
                        self.out.replaced += 1;
                    }
                    None => self.out.added += 1,
                }
                let (row, sums) = self.add(r);
                let Ok(at) = u32::try_from(self.added.len()) else {
                    self.broken = true;
                    return;
                };
                codec::put_varint(&mut self.added, u64::from(row));
                codec::put_sums(&mut self.added, &sums);
                self.largest.insert(id, Kept { weight, at });
            }
        }
    }

    /// Takes what a replaced copy added (at `at` in [`Builder::added`]) back from its row.
    fn take_back(&mut self, at: u32) {
        let mut input = self.added.get(at as usize..).unwrap_or_default();
        let row = codec::get_varint(&mut input).and_then(|r| usize::try_from(r).ok());
        let (Some(row), Some(mut minus)) = (row, codec::get_sums(&mut input)) else {
            self.broken = true;
            return;
        };
        minus.counts.iter_mut().for_each(|c| *c = -*c);
        minus.reported_cost = -minus.reported_cost;
        if self
            .rows
            .get_mut(row)
            .and_then(|r| r.2.add(&minus))
            .is_none()
        {
            self.broken = true;
        }
    }

    /// Adds a kept record to its row; returns the row's index and what the record added.
    fn add(&mut self, r: &UsageRecord) -> (u32, Sums) {
        let band = prompt_band(r);
        rollup::encode(r, band, rollup::classes(&r.tokens), &mut self.key_buf);
        let key = match self.key_index.get(self.key_buf.as_slice()) {
            Some(&k) => k,
            None => {
                let k = self.out.keys.len() as u32;
                self.out.keys.push(Key {
                    provider: r.provider,
                    model: r.model.clone(),
                    service_tier: r.service_tier.clone(),
                    batch: r.batch,
                    region: r.region.clone(),
                    long_context: r.long_context,
                    band,
                    failed: r.failed,
                    team: r.team.clone(),
                    project: r.project.clone(),
                    workspace: r.workspace.clone(),
                });
                self.key_index.insert(self.key_buf.as_slice().into(), k);
                k
            }
        };
        let hour = r.start.timestamp_millis().div_euclid(HOUR_MS);
        let mut sums = Sums::default();
        sums.add_record(r, 1);
        // A file of more rows than a u32 counts has no sums.
        let Ok(next) = u32::try_from(self.rows.len()) else {
            self.broken = true;
            return (0, sums);
        };
        let at = *self.row_index.entry((hour, key)).or_insert(next);
        if at == next {
            self.rows.push((hour, key, Sums::default()));
        }
        if self
            .rows
            .get_mut(at as usize)
            .and_then(|r| r.2.add(&sums))
            .is_none()
        {
            self.broken = true;
        }
        (at, sums)
    }

    /// The file's sums; `None` when it has a record error or a sum went out of range.
    pub fn finish(self) -> Option<FileSums> {
        if self.broken {
            return None;
        }
        let mut out = self.out;
        let mut rows = self.rows;
        rows.retain(|(_, _, s)| s.counts[0] != 0);
        // Saturated or negative (a sum that overflowed): unusable.
        if rows
            .iter()
            .any(|(_, _, s)| s.counts.iter().any(|&c| !(0..i64::MAX).contains(&c)))
        {
            return None;
        }
        rows.sort_unstable_by_key(|&(hour, key, _)| (hour, key));
        let mut hour = 0;
        for (h, key, sums) in &rows {
            put_row(&mut out.rows, &mut hour, (*h, *key, sums));
        }
        out.ids.sort_unstable();
        out.ids.dedup();
        Some(out)
    }
}

/// Prices and adds a file's sums (see [`SumSink::accept_file`]).
pub fn feed(agg: &mut Aggregator<'_>, sums: &FileSums, source: &'static str) -> bool {
    let file: Arc<str> = Arc::from("");
    let epoch = Utc.timestamp_opt(0, 0).single().unwrap_or_default();
    let template = |k: &Key| {
        let mut r = UsageRecord::new(
            Text::default(),
            source,
            k.provider,
            k.model.clone(),
            epoch,
            Provenance {
                file: file.clone(),
                line: 0,
            },
        );
        r.service_tier = k.service_tier.clone();
        r.batch = k.batch;
        r.region = k.region.clone();
        r.long_context = k.long_context;
        r.failed = k.failed;
        r.team = k.team.clone();
        r.project = k.project.clone();
        r.workspace = k.workspace.clone();
        r
    };
    // Rows are merged per key, period and day: a row whose hour lies across a period's edge cannot be.
    let mut merge = Merge::new(None, agg.tz());
    let mut templates = HashSet::default();
    let mut period_of = (i64::MIN, None);
    let mut rows = &sums.rows[..];
    let mut last_hour = 0;
    while !rows.is_empty() {
        let Some((hour, key, row)) = get_row(&mut rows, &mut last_hour) else {
            return false;
        };
        if period_of.0 != hour {
            let Some(start) = hour
                .checked_mul(HOUR_MS)
                .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
            else {
                return false;
            };
            if agg.cuts_hour(start) {
                return false;
            }
            period_of = (hour, agg.bucket(start));
        }
        // One merge key per row key and period.
        let id = (i64::from(key) << 32) | i64::from(period_of.1.map_or(u32::MAX, |b| b as u32));
        if templates.insert(id) {
            let Some(k) = sums.keys.get(key as usize) else {
                return false;
            };
            merge.template(id, &template(k), k.band);
        }
        // Rows come by hour: a day's merged sums are fed as the next day's rows come.
        if !merge.add_in_order(hour, id, Some(row), agg) {
            return false;
        }
    }
    let fed = merge.feed(agg);
    if let Some(newest) = sums.newest {
        agg.saw(newest);
    }
    fed
}

/// Which files (of `files`, each's id hashes listed once) share an id hash with another. The hashes are
/// spread evenly: they are scattered by their top bits into buckets of a few each, and each bucket is
/// sorted, in time linear in their number whatever the number of files.
pub fn sharing(files: &[Option<&[u64]>]) -> Vec<bool> {
    let mut shares = vec![false; files.len()];
    let total: usize = files.iter().flatten().map(|ids| ids.len()).sum();
    if total == 0 {
        return shares;
    }
    let bits = (total.next_power_of_two().trailing_zeros()).clamp(4, 28) - 3;
    let bucket = |h: u64| (h >> (64 - bits)) as usize;
    let mut starts = vec![0usize; (1 << bits) + 1];
    for &h in files.iter().flatten().flat_map(|ids| ids.iter()) {
        starts[bucket(h) + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut next = starts.clone();
    let mut slots = vec![(0u64, 0usize); total];
    for (i, ids) in files.iter().enumerate() {
        for &h in ids.iter().flat_map(|ids| ids.iter()) {
            let at = &mut next[bucket(h)];
            slots[*at] = (h, i);
            *at += 1;
        }
    }
    for w in starts.windows(2) {
        let run = &mut slots[w[0]..w[1]];
        run.sort_unstable();
        for pair in run.windows(2) {
            if pair[0].0 == pair[1].0 && pair[0].1 != pair[1].1 {
                shares[pair[0].1] = true;
                shares[pair[1].1] = true;
            }
        }
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_sharing_an_id_are_found_by_merging() {
        let a = [1u64, 5, 9];
        let b = [2u64, 6];
        let c = [3u64, 9, 12];
        let d = [12u64];
        let files = [Some(&a[..]), Some(&b[..]), None, Some(&c[..]), Some(&d[..])];
        assert_eq!(sharing(&files), [true, false, false, true, true]);
    }
}
