//! Where a command's usage comes from, and reading it: the ledger (only the period's rows), or files
//! and folders read directly (PATHs, deduplicated on the fly, nothing written). Also the daily cost
//! series that forecasts, budget checks and the HTML chart are computed from.
//!
//! The command line decides which (and opens the ledger); this module is handed the ledger, the team
//! rules and the price book, and reports what the user should know through [`Notices`].

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::config::TeamRules;
use crate::error::{Error, Result};
use crate::input::{read_inputs, CacheUse, ReadOptions, ReadSummary, RecordSink};
use crate::ledger::Ledger;
use crate::period::PeriodSpec;
use crate::pricing::PriceBook;
use crate::report::aggregate::Aggregator;
use crate::report::daily::{daily_query, from_report, DailyCosts};
use crate::report::{Dim, Filter};

/// Where warnings (shown unless quiet) and details (shown when verbose) about the inputs go.
pub trait Notices {
    fn note(&self, message: &dyn std::fmt::Display);
    fn detail(&self, message: &dyn std::fmt::Display);
    /// A warning (`warning: …`), counted for `--strict`.
    fn warn(&self, message: &dyn std::fmt::Display);
    /// Whether no read of the run's PATHs has been kept yet (later reads of the same PATHs, for a
    /// page's chart or budgets, repeat nothing).
    fn first_read(&self) -> bool;
    /// Keeps the per-file account of the first read (for the run's closing account and `inputs`).
    fn keep_inputs(&self, summary: &ReadSummary);
}

/// The usage a command reads: PATHs when there are any, else the ledger.
pub struct UsageInput<'a> {
    pub paths: &'a [PathBuf],
    pub options: ReadOptions,
    /// The ledger, opened by the caller; `None` when reading PATHs.
    pub ledger: Option<&'a Ledger>,
    pub notices: &'a dyn Notices,
}

impl UsageInput<'_> {
    /// Whether the ledger is the input (no PATHs).
    pub fn uses_ledger(&self) -> bool {
        self.paths.is_empty()
    }

    fn ledger(&self) -> Result<&Ledger> {
        self.ledger
            .ok_or_else(|| Error::usage("no PATHs were given and no ledger is open"))
    }

    /// Feeds usage into an aggregator: from PATHs, or from the ledger, reading only the period's rows
    /// (its rollup's sums when they answer the query exactly, see [`Ledger::feed`]).
    pub fn feed(&self, agg: &mut Aggregator<'_>) -> Result<()> {
        if self.uses_ledger() {
            self.ledger()?.feed(agg)
        } else {
            read_paths(self.paths, self.options.clone(), agg, self.notices)
        }
    }

    /// Feeds usage into any sink, record by record: from PATHs (the sink deduplicates) or from the
    /// ledger, reading only the rows of `range` when given.
    pub fn feed_records(
        &self,
        range: Option<crate::period::Period>,
        sink: &mut dyn RecordSink,
    ) -> Result<()> {
        if self.uses_ledger() {
            let range = range.map(|p| (p.start, p.end));
            self.ledger()?
                .for_each(range, &mut |r| sink.accept(r).map(|_| ()))
        } else {
            read_paths(self.paths, self.options.clone(), sink, self.notices)
        }
    }

    /// The newest record's time in the ledger, when the period depends on it.
    pub fn newest(&self, spec: &PeriodSpec) -> Result<Option<DateTime<Utc>>> {
        if !self.uses_ledger() || spec.is_fixed() {
            return Ok(None);
        }
        self.ledger()?.newest()
    }

    /// Daily costs grouped by `dims` (for forecasts and budgets), and the as-of date: `as_of` when
    /// given, else the newest record's day (in `tz`), else today.
    pub fn collect_daily(
        &self,
        rules: &TeamRules,
        book: &PriceBook,
        dims: &[Dim],
        filters: Vec<Filter>,
        tz: Tz,
        as_of: Option<NaiveDate>,
    ) -> Result<(DailyCosts, NaiveDate)> {
        let as_of = match as_of {
            Some(d) => Some(d),
            None if self.uses_ledger() => self
                .ledger()?
                .newest()?
                .map(|t| t.with_timezone(&tz).date_naive()),
            None => None,
        };
        let query = daily_query(dims, filters, tz, as_of);
        let mut agg = Aggregator::new(&query, rules, book, !self.uses_ledger(), None);
        self.feed(&mut agg)?;
        let daily = from_report(agg.finish());
        let as_of = as_of
            .or(daily.last)
            .unwrap_or_else(|| Utc::now().with_timezone(&tz).date_naive());
        Ok((daily, as_of))
    }

    /// Daily cost per team as of `as_of`, after `rule` spreads shared and unassigned spend (for
    /// budgets with `allocated = true`); over the same history as [`UsageInput::collect_daily`].
    pub fn allocated_daily(
        &self,
        rule: &crate::allocate::Allocation,
        rules: &TeamRules,
        book: &PriceBook,
        tz: Tz,
        as_of: NaiveDate,
    ) -> Result<DailyCosts> {
        if self.paths.iter().any(|p| p.as_os_str() == "-") {
            return Err(Error::usage(
                "budgets with allocated = true read the inputs twice: give files, not standard input (-)",
            ));
        }
        let query = daily_query(&[Dim::Team], Vec::new(), tz, Some(as_of));
        let mut agg = Aggregator::new(&query, rules, book, !self.uses_ledger(), None);
        self.feed(&mut agg)?;
        Ok(crate::allocate::allocate_daily(rule, &agg.finish()))
    }
}

/// Checks that every PATH exists before any work starts (`-` is standard input).
pub fn check_paths(paths: &[PathBuf]) -> Result<()> {
    for p in paths {
        if p.as_os_str() != "-" && !Path::new(p).exists() {
            return Err(Error::usage(format!(
                "{}: no such file or directory",
                p.display()
            )));
        }
    }
    Ok(())
}

/// Reads PATHs into any sink, reporting skipped records and unrecognised files.
pub fn read_paths(
    paths: &[PathBuf],
    options: ReadOptions,
    sink: &mut dyn RecordSink,
    notices: &dyn Notices,
) -> Result<()> {
    check_paths(paths)?;
    let summary = read_inputs(paths, options, sink, &mut |f| {
        let cache = match f.cache {
            CacheUse::Hit => ", unchanged: from the parse cache",
            CacheUse::Summed => ", unchanged: its sums from the parse cache",
            CacheUse::Extended => ", grew: new lines read, the rest from the parse cache",
            CacheUse::Read | CacheUse::Off => "",
        };
        notices.detail(&format_args!(
            "{}: {} ({} records, {} bytes{cache})",
            f.path,
            f.source,
            f.added + f.duplicates + f.replaced,
            f.bytes
        ));
        if let Some(why) = &f.cache_note {
            notices.note(&format_args!(
                "note: {}: its parse cache entry was damaged ({why}) and has been rebuilt",
                f.path
            ));
        }
    })?;
    if notices.first_read() {
        for path in &summary.unrecognised {
            notices.detail(&format_args!(
                "{path}: not a recognised usage file, skipped"
            ));
        }
        if summary.files.is_empty() {
            notices.warn(&"no usage files found in the given PATHs (see `aispend sources` for the formats read)");
        }
    }
    notices.keep_inputs(&summary);
    Ok(())
}
