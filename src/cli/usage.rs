//! Options shared by every command that reads usage: input PATHs (or the ledger) and the period.

use std::path::PathBuf;

use chrono_tz::Tz;

use super::Context;
use crate::cache::ParseCache;
use crate::error::{Error, Result};
use crate::input::{read_inputs, CacheUse, ReadOptions, RecordSink};
use crate::period::{parse_timezone, PeriodSpec};
use crate::report::aggregate::Aggregator;
use crate::sources::{self, Source};

/// Where usage comes from.
#[derive(Debug, clap::Args)]
pub struct InputArgs {
    /// Files or folders to read directly instead of the ledger (folders recurse, .gz is read
    /// transparently, `-` is standard input). Nothing is written to the ledger.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Read PATHs as this format instead of detecting it (see `aispend sources`)
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// Skip malformed records (counted and reported) instead of stopping at the first
    #[arg(long)]
    pub skip_invalid: bool,
    /// Read every PATH in full, without the parse cache (which keeps what each file held, so that a
    /// later run reads only what changed; `aispend cache clear` empties it)
    #[arg(long)]
    pub no_cache: bool,
}

impl InputArgs {
    pub fn read_options(&self, ctx: &Context) -> Result<ReadOptions> {
        Ok(ReadOptions {
            source: source_by_name(self.source.as_deref())?,
            skip_invalid: self.skip_invalid,
            progress: ctx.show_progress(),
            cache: if self.no_cache {
                None
            } else {
                crate::cache::default_dir().map(|dir| std::sync::Arc::new(ParseCache::new(&dir)))
            },
        })
    }
}

pub fn source_by_name(name: Option<&str>) -> Result<Option<&'static dyn Source>> {
    match name {
        None => Ok(None),
        Some(n) => sources::by_name(n).map(Some).ok_or_else(|| {
            let names: Vec<&str> = sources::all().iter().map(|s| s.name()).collect();
            Error::usage(format!(
                "unknown source '{n}': expected one of {}",
                names.join(", ")
            ))
        }),
    }
}

/// The period a command covers.
#[derive(Debug, clap::Args)]
pub struct PeriodArgs {
    /// Calendar month YYYY-MM [default: the month of the newest record read]
    #[arg(long, value_name = "YYYY-MM")]
    pub month: Option<String>,
    /// First day, inclusive (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Last day, inclusive (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Time zone for day, week and month boundaries (IANA name)
    #[arg(long, value_name = "TZ", default_value = "UTC")]
    pub timezone: String,
}

impl PeriodArgs {
    pub fn spec(&self) -> Result<(PeriodSpec, Tz)> {
        let spec = PeriodSpec::from_flags(
            self.month.as_deref(),
            self.since.as_deref(),
            self.until.as_deref(),
        )?;
        Ok((spec, parse_timezone(&self.timezone)?))
    }
}

/// Feeds usage into an aggregator: from PATHs (deduplicated on the fly) or from the ledger, reading only
/// the period's rows.
pub fn feed(ctx: &Context, input: &InputArgs, agg: &mut Aggregator<'_>) -> Result<()> {
    if input.paths.is_empty() {
        if input.source.is_some() || input.skip_invalid {
            return Err(Error::usage(
                "--source and --skip-invalid apply to PATHs; none were given",
            ));
        }
        ctx.open_existing_ledger()?.feed(agg)
    } else {
        read_paths(ctx, input, agg)
    }
}

/// Reads PATHs into any sink, reporting skipped records and unrecognised files.
pub fn read_paths(ctx: &Context, input: &InputArgs, sink: &mut dyn RecordSink) -> Result<()> {
    super::check_paths(&input.paths)?;
    let summary = read_inputs(&input.paths, input.read_options(ctx)?, sink, &mut |f| {
        let cache = match f.cache {
            CacheUse::Hit => ", unchanged: from the parse cache",
            CacheUse::Extended => ", grew: new lines read, the rest from the parse cache",
            CacheUse::Read | CacheUse::Off => "",
        };
        ctx.detail(format_args!(
            "{}: {} ({} records, {} bytes{cache})",
            f.path,
            f.source,
            f.added + f.duplicates + f.replaced,
            f.bytes
        ));
        if let Some(why) = &f.cache_note {
            ctx.note(format_args!(
                "note: {}: its parse cache entry was damaged ({why}) and has been rebuilt",
                f.path
            ));
        }
        if let Some(note) = f.ending_note() {
            ctx.note(format_args!("warning: {}: {note}", f.path));
        }
        if f.skipped > 0 {
            ctx.note(format_args!(
                "warning: {}: skipped {} invalid record(s); first: {}",
                f.path,
                f.skipped,
                f.first_skipped.as_deref().unwrap_or("?")
            ));
        }
    })?;
    for path in &summary.unrecognised {
        ctx.detail(format_args!("{path}: not a recognised usage file, skipped"));
    }
    if summary.files.is_empty() {
        ctx.note("warning: no usage files found in the given PATHs (see `aispend sources` for the formats read)");
    }
    Ok(())
}

/// Whether the ledger is the input (no PATHs).
pub fn uses_ledger(input: &InputArgs) -> bool {
    input.paths.is_empty()
}

/// The newest record's time in the ledger, when the period depends on it.
pub fn ledger_newest(
    ctx: &Context,
    input: &InputArgs,
    spec: &PeriodSpec,
) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    if !uses_ledger(input) || spec.is_fixed() {
        return Ok(None);
    }
    ctx.open_existing_ledger()?.newest()
}

/// Daily costs grouped by `dims` (for forecasts and budgets), and the as-of date: `as_of` when given,
/// else the newest record's day (in `tz`), else today.
pub fn collect_daily(
    ctx: &Context,
    input: &InputArgs,
    dims: &[crate::report::Dim],
    filters: Vec<crate::report::Filter>,
    tz: Tz,
    as_of: Option<chrono::NaiveDate>,
) -> Result<(crate::report::daily::DailyCosts, chrono::NaiveDate)> {
    use crate::report::daily::{daily_query, from_report};
    let as_of = match as_of {
        Some(d) => Some(d),
        None if uses_ledger(input) => ctx
            .open_existing_ledger()?
            .newest()?
            .map(|t| t.with_timezone(&tz).date_naive()),
        None => None,
    };
    let query = daily_query(dims, filters, tz, as_of);
    let book = ctx.price_book()?;
    let mut agg = Aggregator::new(&query, &ctx.config.teams, &book, !uses_ledger(input), None);
    feed(ctx, input, &mut agg)?;
    let daily = from_report(agg.finish());
    let as_of = as_of
        .or(daily.last)
        .unwrap_or_else(|| chrono::Utc::now().with_timezone(&tz).date_naive());
    Ok((daily, as_of))
}
