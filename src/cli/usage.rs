//! Options shared by every command that reads usage: input PATHs (or the ledger), the period, grouping
//! and filtering, parsed into the library's types; and the glue that hands them, with the ledger, the
//! config and the price book, to [`crate::usage_input`], which reads the usage.

use std::path::PathBuf;

use chrono_tz::Tz;

use super::Context;
use crate::cache::ParseCache;
use crate::error::{Error, Result};
use crate::input::{ReadOptions, RecordSink};
use crate::ledger::Ledger;
use crate::period::{parse_timezone, PeriodSpec};
use crate::report::aggregate::Aggregator;
use crate::report::daily::DailyCosts;
use crate::report::{sorted_filters, Dim, Dims, Filter};
use crate::sources::{self, Source};
use crate::usage_input::UsageInput;

/// Where usage comes from.
#[derive(Debug, clap::Args)]
pub struct InputArgs {
    /// Files or folders to read directly instead of the ledger (folders recurse, .gz is read
    /// transparently, `-` is standard input). Nothing is written to the ledger.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Read PATHs as this format instead of detecting it (see `aispend sources`)
    #[arg(long, value_name = "NAME", value_parser = source_by_name)]
    pub source: Option<&'static dyn Source>,
    /// Skip malformed records (counted and reported) instead of stopping at the first
    #[arg(long)]
    pub skip_invalid: bool,
    /// Read every PATH in full, without the parse cache (which keeps what each file held, so that a
    /// later run reads only what changed; `aispend cache clear` empties it)
    #[arg(long)]
    pub no_cache: bool,
    /// Exit 2 when there is any warning: a file that held nothing, skipped or unpriced records, a
    /// file cut short (for CI, where a warning on standard error goes unread)
    #[arg(long)]
    pub strict: bool,
}

impl InputArgs {
    pub fn read_options(&self, ctx: &Context) -> Result<ReadOptions> {
        Ok(ReadOptions {
            source: self.source,
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

/// `--source NAME`: the importer of that name (a command-line value parser).
pub fn source_by_name(name: &str) -> Result<&'static dyn Source> {
    sources::by_name(name).ok_or_else(|| {
        let names: Vec<&str> = sources::all().iter().map(|s| s.name()).collect();
        Error::usage(format!(
            "unknown source '{name}': expected one of {}",
            names.join(", ")
        ))
    })
}

/// `--where`: parsed into filters by the command line, written once for every command that filters.
#[derive(Debug, clap::Args)]
pub struct FilterArgs {
    /// Keep only records where DIM matches VALUE (`*` wildcards; repeat for more; the same DIM twice
    /// means either). DIMs as in `aispend report --by`
    #[arg(long = "where", value_name = "DIM=VALUE", value_parser = Filter::parse)]
    pub filters: Vec<Filter>,
}

impl FilterArgs {
    /// The filters, grouped by dimension as the aggregators expect.
    pub fn filters(&self) -> Vec<Filter> {
        sorted_filters(&self.filters)
    }
}

/// `--by` and `--where`, shared by the commands that group and filter usage (each command's help
/// says its default grouping).
#[derive(Debug, clap::Args)]
pub struct GroupArgs {
    /// Group by these dimensions (comma list): provider, model, team, project, user, api_key,
    /// workspace, service_tier, source, day, week, month, tag:KEY
    #[arg(long, value_name = "DIMS", value_parser = Dims::parse)]
    pub by: Option<Dims>,
    #[command(flatten)]
    pub filter: FilterArgs,
}

impl GroupArgs {
    /// `--by`, else `default`.
    pub fn dims_or(&self, default: &[Dim]) -> Vec<Dim> {
        self.by
            .as_ref()
            .map_or_else(|| default.to_vec(), |d| d.0.clone())
    }

    pub fn filters(&self) -> Vec<Filter> {
        self.filter.filters()
    }
}

/// The period, grouping and filters of a command that slices usage into daily or bucketed series
/// (forecast, health, anomalies).
#[derive(Debug, clap::Args)]
pub struct ScopeArgs {
    #[command(flatten)]
    pub period: PeriodArgs,
    #[command(flatten)]
    pub group: GroupArgs,
}

/// [`ScopeArgs`] resolved: the period and its time zone, the grouping and the filters.
pub struct Scope {
    pub spec: PeriodSpec,
    pub tz: Tz,
    /// `--by`, else the command's default.
    pub dims: Vec<Dim>,
    pub filters: Vec<Filter>,
}

impl ScopeArgs {
    /// The scope, grouped by `--by` or else by `default_dims`.
    pub fn resolve(&self, default_dims: &[Dim]) -> Result<Scope> {
        let (spec, tz) = self.period.spec()?;
        Ok(Scope {
            spec,
            tz,
            dims: self.group.dims_or(default_dims),
            filters: self.group.filters(),
        })
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
    #[arg(long, value_name = "TZ", default_value = "UTC", value_parser = parse_timezone)]
    pub timezone: Tz,
}

impl PeriodArgs {
    pub fn spec(&self) -> Result<(PeriodSpec, Tz)> {
        let spec = PeriodSpec::from_flags(
            self.month.as_deref(),
            self.since.as_deref(),
            self.until.as_deref(),
        )?;
        Ok((spec, self.timezone))
    }
}

/// The ledger, opened when the input is the ledger (no PATHs); `None` when reading PATHs.
fn ledger_for(ctx: &Context, input: &InputArgs) -> Result<Option<Ledger>> {
    if !uses_ledger(input) {
        return Ok(None);
    }
    if input.source.is_some() || input.skip_invalid {
        return Err(Error::usage(
            "--source and --skip-invalid apply to PATHs; none were given",
        ));
    }
    ctx.open_existing_ledger().map(Some)
}

/// The library's view of the input: PATHs with their read options, or the open ledger.
fn usage_input<'a>(
    ctx: &'a Context,
    input: &'a InputArgs,
    ledger: Option<&'a Ledger>,
) -> Result<UsageInput<'a>> {
    Ok(UsageInput {
        paths: &input.paths,
        options: input.read_options(ctx)?,
        ledger,
        notices: ctx,
    })
}

/// Feeds usage into an aggregator (see [`UsageInput::feed`]).
pub fn feed(ctx: &Context, input: &InputArgs, agg: &mut Aggregator<'_>) -> Result<()> {
    let ledger = ledger_for(ctx, input)?;
    usage_input(ctx, input, ledger.as_ref())?.feed(agg)
}

/// Feeds usage into any sink, record by record (see [`UsageInput::feed_records`]).
pub fn feed_records(
    ctx: &Context,
    input: &InputArgs,
    range: Option<crate::period::Period>,
    sink: &mut dyn RecordSink,
) -> Result<()> {
    let ledger = ledger_for(ctx, input)?;
    usage_input(ctx, input, ledger.as_ref())?.feed_records(range, sink)
}

/// Reads PATHs into any sink (see [`crate::usage_input::read_paths`]).
pub fn read_paths(ctx: &Context, input: &InputArgs, sink: &mut dyn RecordSink) -> Result<()> {
    crate::usage_input::read_paths(&input.paths, input.read_options(ctx)?, sink, ctx)
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

/// Daily costs grouped by `dims`, and the as-of date (see [`UsageInput::collect_daily`]).
pub fn collect_daily(
    ctx: &Context,
    input: &InputArgs,
    dims: &[Dim],
    filters: Vec<Filter>,
    tz: Tz,
    as_of: Option<chrono::NaiveDate>,
) -> Result<(DailyCosts, chrono::NaiveDate)> {
    let ledger = ledger_for(ctx, input)?;
    let book = ctx.price_book()?;
    usage_input(ctx, input, ledger.as_ref())?.collect_daily(
        &ctx.config.teams,
        book,
        dims,
        filters,
        tz,
        as_of,
    )
}

/// Daily cost per team after `[allocation]`, when a budget asks for it (`allocated = true`); see
/// [`UsageInput::allocated_daily`].
pub fn allocated_daily(
    ctx: &Context,
    input: &InputArgs,
    budgets: &[crate::budget::Budget],
    tz: Tz,
    as_of: chrono::NaiveDate,
) -> Result<Option<DailyCosts>> {
    if !budgets.iter().any(|b| b.allocated) {
        return Ok(None);
    }
    let Some(rule) = ctx.config.allocation.as_ref() else {
        return Ok(None);
    };
    let ledger = ledger_for(ctx, input)?;
    let book = ctx.price_book()?;
    usage_input(ctx, input, ledger.as_ref())?
        .allocated_daily(rule, &ctx.config.teams, book, tz, as_of)
        .map(Some)
}
