//! `aispend ledger export`: one output row per usage record, attributed and priced, streamed.
//!
//! [`Exporting`] is the [`RecordSink`] that records flow into (from the ledger, or from PATHs): it keeps
//! the period and the `--where` filters, deduplicates when reading files, attributes the team, prices the
//! record, and hands an [`ExportRow`] to the format's [`Exporter`], which writes it at once. Nothing is
//! kept per record but a 128-bit id hash (PATHs only), so memory does not grow with the input.
//!
//! Deduplication of PATHs follows the ledger exactly. `KeepFirst` records (API logs) are written when
//! first met. `KeepLargest` records (bucketed exports, Claude Code partials) can only be written once the
//! largest copy is known: the first read notes each id's largest weight, and a second read of the same
//! files writes the first copy that reaches it ([`Pass::Second`]). Standard input cannot be read twice,
//! so with `-` among the PATHs those records are held in memory until the end instead.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::config::{BillingAccounts, TeamRules};
use crate::error::Result;
use crate::input::{Accepted, RecordSink};
use crate::period::Period;
use crate::pricing::{PriceBook, Priced, Pricer};
use crate::record::{DedupPolicy, Text, UsageRecord};
use crate::report::{Dim, Filter};

pub mod csv;
pub mod focus;
pub mod jsonl;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod partition;

/// What `--format parquet` says in a build without the `parquet` feature.
pub const WITHOUT_PARQUET: &str = "--format parquet: this aispend was built without Parquet (the `parquet` \
     cargo feature, left out of the default build to keep it cheap); install it with `cargo install \
     --locked --path . --features parquet`, or export --format focus (the same columns as CSV)";

/// `--format` of `aispend ledger export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per record, every ledger field plus the computed cost
    Csv,
    /// One JSON object per line, the same fields as csv (money as decimal strings, null when missing)
    Jsonl,
    /// CSV with the FinOps FOCUS 1.2 columns, then `x_` extras
    Focus,
    /// The focus columns as typed Parquet (DECIMAL money, UTC timestamps), for a data lake
    Parquet,
}

impl Format {
    /// The exporter writing this format to `out` (`accounts`: the FOCUS billing accounts; `tree`: a
    /// partitioned Parquet export's folder and levels, written there instead of to `out`).
    pub fn exporter<'w>(
        self,
        out: &'w mut dyn Write,
        accounts: &'w BillingAccounts,
        tree: Option<(std::path::PathBuf, Vec<partition::PartitionBy>)>,
    ) -> std::io::Result<Box<dyn Exporter + 'w>> {
        Ok(match self {
            Format::Csv => Box::new(csv::CsvExporter::new(out)),
            Format::Jsonl => Box::new(jsonl::JsonlExporter::new(out)),
            Format::Focus => Box::new(focus::FocusExporter::new(out, accounts)),
            #[cfg(feature = "parquet")]
            Format::Parquet => {
                let target = match tree {
                    Some((dir, by)) => parquet::Target::Tree { dir, by },
                    None => parquet::Target::Stream(out),
                };
                Box::new(parquet::ParquetExporter::new(target, accounts)?)
            }
            #[cfg(not(feature = "parquet"))]
            Format::Parquet => {
                let _ = tree;
                return Err(std::io::Error::other(WITHOUT_PARQUET));
            }
        })
    }

    /// Whether the format has the FOCUS columns (and so leaves unpriced records out by default).
    pub fn is_focus(self) -> bool {
        matches!(self, Format::Focus | Format::Parquet)
    }
}

/// `--unpriced`: what a FOCUS export does with records that have usage but no price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum UnpricedRows {
    /// Leave them out (FOCUS requires a cost on every row, and an unknown price is not $0)
    #[default]
    Omit,
    /// Include them with every cost 0, marked `x_Unpriced` = true with `x_UnpricedReason`
    Zero,
}

/// One output format: a header (maybe), then one row per record, as they come.
pub trait Exporter {
    fn begin(&mut self) -> std::io::Result<()>;
    fn row(&mut self, row: &ExportRow<'_>) -> std::io::Result<()>;
    fn finish(&mut self) -> std::io::Result<()>;
    /// What the user should know about the rows written (printed on standard error).
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }
}

/// What an export wrote, for the closing notes.
#[derive(Debug, Default)]
pub struct ExportSummary {
    /// Records written, and those among them with usage but no price.
    pub written: u64,
    pub unpriced: u64,
    /// Unpriced records left out (`--unpriced omit`).
    pub omitted: u64,
    pub warnings: Vec<String>,
}

/// A record as exported: the record itself, its team after the config's rules, and its price.
#[derive(Debug)]
pub struct ExportRow<'a> {
    pub record: &'a UsageRecord,
    /// The config's team rules, else the record's own team, else `unassigned` (as in reports).
    pub team: &'a str,
    /// The price table's id for the model; `None` when no entry answers to the reported name.
    pub canonical_model: Option<&'a str>,
    /// The computed cost; `None` when the record has usage but no price.
    pub cost: Option<Decimal>,
    /// Why there is no cost (`no price table entry`, `no rate for service tier 'flex'`, …).
    pub unpriced_reason: Option<String>,
    /// Where the cost came from: `table`, or `litellm` (the `--pricing-fallback` price map); `None` when
    /// there is no cost.
    pub price_source: Option<&'static str>,
    /// The part of `cost` that is built-in tool fees (web search, file search, …); `None` without a cost.
    pub tool_fees: Option<Decimal>,
    /// Whether the long-context tier priced the record (the source's own word when it is unpriced).
    pub long_context: Option<bool>,
}

/// One value of a csv/jsonl row. CSV writes `None` as an empty field, JSON Lines as `null`.
#[derive(Debug)]
pub enum Cell<'a> {
    Str(Option<&'a str>),
    Text(Option<String>),
    Int(Option<u64>),
    Bool(Option<bool>),
    Money(Option<Decimal>),
    /// A JSON object: text in CSV, an object in JSON Lines.
    Tags(&'a BTreeMap<Text, Text>),
}

/// The columns of `csv` and the keys of `jsonl`, in order.
pub const FIELDS: [&str; 50] = [
    "id",
    "source",
    "provider",
    "model",
    "canonical_model",
    "start",
    "end",
    "service_tier",
    "batch",
    "region",
    "long_context",
    "team",
    "project",
    "user",
    "api_key",
    "workspace",
    "billing_account",
    "billing_account_name",
    "tags",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
    "audio_input_tokens",
    "audio_output_tokens",
    "image_input_tokens",
    "image_output_tokens",
    "web_search_requests",
    "images",
    "seconds",
    "requests",
    "cost",
    "price_source",
    "unpriced_reason",
    "reported_cost",
    "reported_currency",
    "status",
    "failed",
    "latency_ms",
    "file",
    "line",
    // Appended, so that columns read by position before them keep their place.
    "web_fetch_requests",
    "file_search_calls",
    "code_execution_calls",
    "grounded_prompts",
    "tool_fees",
    "cache_read_audio_tokens",
    "web_search_preview_calls",
];

impl<'a> ExportRow<'a> {
    /// The row's values in [`FIELDS`] order.
    pub fn cells(&self) -> [Cell<'a>; 50] {
        let r = self.record;
        let t = &r.tokens;
        let int = |n: u64| Cell::Int(Some(n));
        [
            Cell::Str(Some(&r.id)),
            Cell::Str(Some(r.source)),
            Cell::Str(Some(r.provider.as_str())),
            Cell::Str(Some(&r.model)),
            Cell::Str(self.canonical_model),
            Cell::Text(Some(time(r.start))),
            Cell::Text(r.end.map(time)),
            Cell::Str(r.service_tier.as_deref()),
            Cell::Bool(Some(r.batch)),
            Cell::Str(r.region.as_deref()),
            Cell::Bool(self.long_context),
            Cell::Str(Some(self.team)),
            Cell::Str(r.project.as_deref()),
            Cell::Str(r.user.as_deref()),
            Cell::Str(r.api_key.as_deref()),
            Cell::Str(r.workspace.as_deref()),
            Cell::Str(r.billing_account.as_deref()),
            Cell::Str(r.billing_account_name.as_deref()),
            Cell::Tags(&r.tags),
            int(t.input),
            int(t.cache_read),
            int(t.cache_write_5m),
            int(t.cache_write_1h),
            int(t.output),
            int(t.reasoning),
            int(t.audio_input),
            int(t.audio_output),
            int(t.image_input),
            int(t.image_output),
            int(t.web_search_requests),
            int(t.images),
            int(t.seconds),
            int(r.requests),
            Cell::Money(self.cost),
            Cell::Str(self.price_source),
            Cell::Text(self.unpriced_reason.clone()),
            Cell::Money(r.reported_cost),
            Cell::Str(r.reported_currency.as_deref()),
            Cell::Int(r.status.map(u64::from)),
            Cell::Bool(Some(r.failed)),
            Cell::Int(r.latency_ms),
            Cell::Str(Some(&r.provenance.file)),
            int(r.provenance.line),
            int(t.web_fetch_requests),
            int(t.file_search_calls),
            int(t.code_execution_calls),
            int(t.grounded_prompts),
            Cell::Money(self.tool_fees),
            int(t.cache_read_audio),
            int(t.web_search_preview_calls),
        ]
    }
}

/// RFC 3339 UTC: whole seconds (`2026-10-07T08:00:00Z`), or milliseconds when the time has them (the
/// ledger keeps milliseconds, so an export from PATHs and one from the ledger print the same).
pub fn time(t: DateTime<Utc>) -> String {
    let ms = t.nanosecond() / 1_000_000;
    match t.with_nanosecond(ms * 1_000_000) {
        Some(t) if ms > 0 => t.to_rfc3339_opts(SecondsFormat::Millis, true),
        _ => t.to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}

/// Exact money: `0.0136`, never a float, never scientific notation.
pub fn money(d: Decimal) -> String {
    crate::output::money_exact(d)
}

/// Where a read of the inputs stands (PATHs only; the ledger is read once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Write `KeepFirst` records, note the largest weight of each `KeepLargest` id.
    First,
    /// The same inputs again: write each `KeepLargest` id's first copy of the largest weight.
    Second,
}

/// Deduplication by id, as the ledger does it (see the module docs).
#[derive(Debug, Default)]
struct Dedup {
    seen_first: HashSet<u128>,
    /// `KeepLargest` id → largest weight met; removed once written.
    largest: HashMap<u128, u64>,
    /// Standard input among the PATHs: `KeepLargest` records held here (first-seen order) instead.
    held: Option<Vec<UsageRecord>>,
    held_index: HashMap<u128, usize>,
    /// The kept copies (by id) that have no price, and how many: the per-file account's unpriced count
    /// ([`RecordSink::unpriced`]), known as records are read, before the largest copy is written.
    unpriced_ids: HashSet<u128>,
    unpriced: u64,
}

/// The sink that writes each accepted record to an [`Exporter`].
pub struct Exporting<'a> {
    exporter: Box<dyn Exporter + 'a>,
    rules: &'a TeamRules,
    pricer: Pricer<'a>,
    /// Prices records as they are read, for the per-file account only (its warnings are the writer's
    /// pricer's to give, once per record written).
    account_pricer: Pricer<'a>,
    period: Option<Period>,
    /// Sorted by dimension: filters on one dimension are alternatives, across dimensions all must hold.
    filters: Vec<Filter>,
    tz: Tz,
    dedup: Option<Dedup>,
    pass: Pass,
    /// Leave out records with usage but no price.
    omit_unpriced: bool,
    summary: ExportSummary,
}

impl<'a> Exporting<'a> {
    /// `dedup`: reading PATHs (the ledger is already deduplicated); `hold_largest`: one of them is
    /// standard input, which cannot be read a second time. Unpriced records are written unless
    /// [`Exporting::omit_unpriced`] says otherwise.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        exporter: Box<dyn Exporter + 'a>,
        rules: &'a TeamRules,
        book: &'a PriceBook,
        period: Option<Period>,
        mut filters: Vec<Filter>,
        tz: Tz,
        dedup: bool,
        hold_largest: bool,
    ) -> Exporting<'a> {
        filters.sort_by_key(|f| f.dim.name());
        Exporting {
            exporter,
            rules,
            pricer: Pricer::new(book),
            account_pricer: Pricer::new(book),
            period,
            filters,
            tz,
            dedup: dedup.then(|| Dedup {
                held: hold_largest.then(Vec::new),
                ..Dedup::default()
            }),
            pass: Pass::First,
            omit_unpriced: false,
            summary: ExportSummary::default(),
        }
    }

    /// Leaves out records with usage but no price (counted in [`ExportSummary::omitted`]).
    pub fn omit_unpriced(mut self) -> Self {
        self.omit_unpriced = true;
        self
    }

    /// Writes the header.
    pub fn begin(&mut self) -> Result<()> {
        Ok(self.exporter.begin()?)
    }

    /// Whether the inputs must be read again ([`Pass::Second`]): some `KeepLargest` record is not
    /// written yet.
    pub fn needs_second_pass(&self) -> bool {
        self.dedup
            .as_ref()
            .is_some_and(|d| d.held.is_none() && !d.largest.is_empty())
    }

    pub fn start_second_pass(&mut self) {
        self.pass = Pass::Second;
    }

    /// Writes what was held back (standard input), flushes.
    pub fn finish(mut self) -> Result<ExportSummary> {
        if let Some(held) = self.dedup.as_mut().and_then(|d| d.held.take()) {
            for r in &held {
                self.write(r)?;
            }
        }
        self.exporter.finish()?;
        self.summary.warnings = self.exporter.warnings();
        self.summary.warnings.extend(self.pricer.early_warnings());
        Ok(self.summary)
    }

    /// Filters, attributes, prices and writes one record.
    fn write(&mut self, r: &UsageRecord) -> Result<()> {
        if self.period.is_some_and(|p| !p.contains(r.start)) {
            return Ok(());
        }
        let team = self.rules.team_of(r);
        let priced = self.pricer.price(r);
        let book = self.pricer.book();
        let mut price_source = None;
        let mut tool_fees = None;
        let mut long_context = r.long_context;
        let (canonical_model, cost, unpriced_reason) = match priced {
            Priced::Cost {
                model,
                cost,
                tool_fees: fees,
                long_context: long,
            } => {
                let entry = book.model(model);
                price_source = Some(if entry.fallback { "litellm" } else { "table" });
                tool_fees = Some(fees);
                long_context = Some(long);
                (Some(entry.id.as_str()), Some(cost), None)
            }
            // A request with nothing billable (a failed request) costs nothing, whatever its model.
            Priced::Unpriced { model, .. } if r.tokens.is_empty() => (
                model.map(|m| book.model(m).id.as_str()),
                Some(Decimal::ZERO),
                None,
            ),
            Priced::Unpriced { model, reason } => (
                model.map(|m| book.model(m).id.as_str()),
                None,
                Some(reason.to_string()),
            ),
        };
        let model = canonical_model.unwrap_or(&r.model);
        for dim_filters in self.filters.chunk_by(|a, b| a.dim == b.dim) {
            let value = dim_filters[0].dim.value(r, team, model, self.tz);
            let also_reported = dim_filters[0].dim == Dim::Model;
            if !dim_filters.iter().any(|f| {
                f.pattern.matches(&value) || (also_reported && f.pattern.matches(&r.model))
            }) {
                return Ok(());
            }
        }
        if cost.is_none() && self.omit_unpriced {
            self.summary.omitted += 1;
            return Ok(());
        }
        let row = ExportRow {
            record: r,
            team,
            canonical_model,
            cost,
            unpriced_reason,
            price_source,
            tool_fees,
            long_context,
        };
        self.exporter.row(&row)?;
        self.summary.written += 1;
        if row.cost.is_none() {
            self.summary.unpriced += 1;
        }
        Ok(())
    }
}

impl Exporting<'_> {
    /// Whether a record read from PATHs on the first pass has usage and no price (in the period).
    fn unpriced_on_first_pass(&mut self, r: &UsageRecord) -> bool {
        self.pass == Pass::First
            && self.dedup.is_some()
            && !r.tokens.is_empty()
            && self.period.is_none_or(|p| p.contains(r.start))
            && matches!(self.account_pricer.price(r), Priced::Unpriced { .. })
    }

    /// Keeps a record: writes it, holds it, or marks it for the second pass (see [`Dedup`]).
    fn keep(&mut self, r: UsageRecord) -> Result<Accepted> {
        let pass = self.pass;
        let Some(dedup) = self.dedup.as_mut() else {
            self.write(&r)?;
            return Ok(Accepted::Added);
        };
        let id = xxhash_rust::xxh3::xxh3_128(r.id.as_bytes());
        match (r.dedup, pass) {
            (DedupPolicy::KeepFirst, Pass::First) => {
                if !dedup.seen_first.insert(id) {
                    return Ok(Accepted::Duplicate);
                }
                self.write(&r)?;
                Ok(Accepted::Added)
            }
            (DedupPolicy::KeepFirst, Pass::Second) => Ok(Accepted::Duplicate),
            (DedupPolicy::KeepLargest, Pass::First) => {
                let weight = r.dedup_weight();
                if let Some(held) = dedup.held.as_mut() {
                    return Ok(match dedup.held_index.get(&id) {
                        None => {
                            dedup.held_index.insert(id, held.len());
                            held.push(r);
                            Accepted::Added
                        }
                        Some(&i) if held[i].dedup_weight() < weight => {
                            held[i] = r;
                            Accepted::Replaced
                        }
                        Some(_) => Accepted::Duplicate,
                    });
                }
                Ok(match dedup.largest.get_mut(&id) {
                    None => {
                        dedup.largest.insert(id, weight);
                        Accepted::Added
                    }
                    Some(w) if *w < weight => {
                        *w = weight;
                        Accepted::Replaced
                    }
                    Some(_) => Accepted::Duplicate,
                })
            }
            (DedupPolicy::KeepLargest, Pass::Second) => {
                if dedup.largest.get(&id) != Some(&r.dedup_weight()) {
                    return Ok(Accepted::Duplicate);
                }
                dedup.largest.remove(&id);
                self.write(&r)?;
                Ok(Accepted::Added)
            }
        }
    }
}

impl RecordSink for Exporting<'_> {
    fn accept(&mut self, r: UsageRecord) -> Result<Accepted> {
        let unpriced = self.unpriced_on_first_pass(&r);
        let id = xxhash_rust::xxh3::xxh3_128(r.id.as_bytes());
        let pass = self.pass;
        let accepted = self.keep(r)?;
        // The per-file account counts the copy kept (the largest of a request's copies) on the first pass.
        if let (Some(dedup), Pass::First, false) =
            (self.dedup.as_mut(), pass, accepted == Accepted::Duplicate)
        {
            if dedup.unpriced_ids.remove(&id) {
                dedup.unpriced -= 1;
            }
            if unpriced {
                dedup.unpriced_ids.insert(id);
                dedup.unpriced += 1;
            }
        }
        Ok(accepted)
    }

    fn unpriced(&self) -> u64 {
        self.dedup.as_ref().map_or(0, |d| d.unpriced)
    }
}
