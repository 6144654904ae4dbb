//! `aispend report`: cost per model, team, project, … for a period, from the ledger or from PATHs.

use std::io::Write;

use super::usage::{feed, ledger_newest, InputArgs, PeriodArgs};
use super::Context;
use crate::error::{Error, Result};
use crate::report::render::{self, Format};
use crate::report::{reconcile, Aggregator, Dim, Filter, ReportQuery, SortBy};

const LONG_ABOUT: &str = "\
Cost report for a period, grouped by any combination of dimensions.

Reads the ledger, or the PATHs given (with no set-up: `aispend report exports/`). Every record is priced \
per request at the rate in force at its time; records whose model has no price are listed as unpriced \
and never counted as $0. Provider-reported cost (when a source carries one) is shown beside the \
computed cost.

Dimensions: provider, model, team, project, user, api_key, workspace, service_tier, source, day, week, \
month, tag:KEY. `model` is the canonical id the price table resolved (dated snapshots and provider \
prefixes fold into one); `team` comes from the config's rules, else the record's own team, else \
`unassigned`.";

const AFTER_HELP: &str = "\
Examples:
  aispend report fixtures/demo
  aispend report --month 2026-10 --by team,model --top 10
  aispend report --since 2026-10-01 --until 2026-10-07 --by day --format csv > week.csv
  aispend report --month 2026-10 --by team --compare --sort change     what grew most since September
  aispend report --reconcile --by provider,project,day --tolerance 2%   our prices vs the invoice
  aispend report --where team=search --where provider=openai --by model --format json | jq '.rows[]'";

/// Cost report for a period (per model, team, project, provider, day, …)
#[derive(Debug, clap::Args)]
#[command(long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Args {
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Group by these dimensions (comma list) [default: model; with --reconcile: provider,day]
    #[arg(long, value_name = "DIMS")]
    pub by: Option<String>,
    /// Keep only records where DIM matches VALUE (`*` wildcards; repeat for more; the same DIM twice
    /// means either)
    #[arg(long = "where", value_name = "DIM=VALUE")]
    pub filters: Vec<String>,
    /// Show the N most expensive rows and fold the rest into one `(other)` row
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Add the previous period of equal length to every row: previous cost, change and change %
    #[arg(long)]
    pub compare: bool,
    /// Row order: cost (most expensive first), change (largest absolute change first, with --compare),
    /// name (by the group's values), time (by day, week or month) [default: time when grouping by day,
    /// week or month; name with --reconcile; else cost]
    #[arg(long, value_enum, value_name = "ORDER")]
    pub sort: Option<SortBy>,
    /// Show computed cost beside provider-invoiced cost per group (default --by provider,day), flagging
    /// differences beyond --tolerance
    #[arg(long, conflicts_with = "compare")]
    pub reconcile: bool,
    /// With --reconcile: the difference (as a share of the invoiced amount) that counts as a mismatch
    #[arg(long, value_name = "PCT", default_value = "1%")]
    pub tolerance: String,
    /// Output format: table (sized and coloured for a terminal), json (the stable machine interface), csv,
    /// markdown
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<i32> {
    let (period, tz) = args.period.spec()?;
    let mut filters = args
        .filters
        .iter()
        .map(|f| Filter::parse(f))
        .collect::<Result<Vec<_>>>()?;
    filters.sort_by_key(|f| f.dim.name());
    if args.top == Some(0) {
        return Err(Error::usage(
            "--top 0 would fold every row into (other): give a number of rows of at least 1",
        ));
    }
    let group_by = Dim::parse_list(args.by.as_deref().unwrap_or(if args.reconcile {
        "provider,day"
    } else {
        "model"
    }))?;
    let by_time = group_by
        .iter()
        .any(|d| matches!(d, Dim::Day | Dim::Week | Dim::Month));
    let query = ReportQuery {
        group_by,
        filters,
        period,
        tz,
        top: args.top,
        compare: args.compare,
        reconcile: args.reconcile,
        sort: args.sort.unwrap_or(if args.reconcile {
            SortBy::Name
        } else if by_time {
            SortBy::Time
        } else {
            SortBy::Cost
        }),
    };
    if args.compare && !args.input.paths.is_empty() && query.period.open_window(tz).is_some() {
        return Err(Error::usage(
            "--compare with --since reading PATHs needs --until too (the length of the period to compare with)",
        ));
    }
    if query.sort == SortBy::Change && !args.compare {
        return Err(Error::usage("--sort change needs --compare"));
    }
    let book = ctx.price_book()?;
    let newest = ledger_newest(ctx, &args.input, &query.period)?;
    let mut agg = Aggregator::new(
        &query,
        &ctx.config.teams,
        &book,
        !args.input.paths.is_empty(),
        newest,
    );
    feed(ctx, &args.input, &mut agg)?;
    let report = agg.finish();
    if args.reconcile {
        let tolerance = reconcile::parse_tolerance(&args.tolerance).ok_or_else(|| {
            Error::usage(format!(
                "invalid --tolerance '{}': expected a percentage such as 1% or 0.5%",
                args.tolerance
            ))
        })?;
        let lines = reconcile::reconcile(&report, tolerance);
        reconcile::render(
            args.format.unwrap_or(Format::Table),
            &report,
            &lines,
            tolerance,
            ctx.style(),
            out,
        )?;
        return Ok(0);
    }
    let format = args.format.unwrap_or(Format::Table);
    if report.total.saturated {
        ctx.note(format_args!(
            "warning: a sum in this report reached the largest value it can hold ({}) and stopped \
             there: the input holds absurd counts or amounts, so the figures shown are lower bounds",
            u64::MAX
        ));
    }
    if format == Format::Csv && !report.unpriced.is_empty() {
        let mut models: Vec<&str> = report.unpriced.iter().map(|u| u.model.as_str()).collect();
        models.dedup();
        ctx.note(format_args!(
            "warning: usage of {} has no price and is not in the CSV (see `aispend pricing missing`)",
            models.join(", ")
        ));
    }
    render::render(format, &report, ctx.style(), out)?;
    Ok(0)
}
