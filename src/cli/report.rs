//! `aispend report`: cost per model, team, project, … for a period, from the ledger or from PATHs.

use std::io::Write;
use std::path::PathBuf;

use chrono::{Datelike, NaiveDate};

use super::usage::{collect_daily, feed, ledger_newest, GroupArgs, InputArgs, PeriodArgs};
use super::Context;
use crate::error::{Error, Result};
use crate::output::{self, Format};
use crate::period::PeriodSpec;
use crate::report::render::html::{self, chart::DailyChart, HtmlReport, PeriodForecast};
use crate::report::{reconcile, Aggregator, Dim, Report, ReportQuery, SortBy};

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
  aispend report --where team=search --where provider=openai --by model --format json | jq '.rows[]'
  aispend report --by team --format html -o october.html fixtures/demo      a page to send round
  aispend report --by team --budgets budgets.toml --format html -o report.html";

/// Cost report for a period (per model, team, project, provider, day, …)
#[derive(Debug, clap::Args)]
#[command(long_about = LONG_ABOUT, after_help = AFTER_HELP)]
#[command(mut_arg("by", |a| a.help("Group by these dimensions (comma list) [default: model; with --reconcile: provider,day]")))]
pub struct Args {
    #[command(flatten)]
    pub period: PeriodArgs,
    #[command(flatten)]
    pub group: GroupArgs,
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
    #[arg(long, value_name = "PCT", default_value = "1%", value_parser = reconcile::tolerance)]
    pub tolerance: rust_decimal::Decimal,
    /// Output format: table (sized and coloured for a terminal), json (the stable machine interface), csv,
    /// markdown, html (one self-contained page with a daily chart, the forecast, movers and budgets; it
    /// fetches nothing, so it works offline and as a mail attachment)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<ReportFormat>,
    /// Write the report to FILE instead of standard output
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Report as if today were DATE: usage after it is left out, the period ends there, and with
    /// --format html the rest of the original period is forecast
    #[arg(long, value_name = "DATE", value_parser = crate::period::parse_as_of)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Spread shared and unassigned spend over the other teams as `[allocation]` in the config says: per
    /// team, the direct cost, what was allocated to (or from) it and the total, which adds up to the
    /// direct total exactly
    #[arg(long, conflicts_with_all = ["reconcile", "compare", "top"])]
    pub allocate: bool,
    /// With --format html: also show the status of each budget of FILE (as `aispend budget check`)
    #[arg(long, value_name = "FILE")]
    pub budgets: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
}

/// `--format`: the shared report formats, plus the HTML page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Csv,
    Markdown,
    Html,
}

impl ReportFormat {
    fn plain(self) -> Option<Format> {
        match self {
            ReportFormat::Table => Some(Format::Table),
            ReportFormat::Json => Some(Format::Json),
            ReportFormat::Csv => Some(Format::Csv),
            ReportFormat::Markdown => Some(Format::Markdown),
            ReportFormat::Html => None,
        }
    }
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<i32> {
    match args.output.clone() {
        None => report(ctx, args, out),
        Some(path) => {
            // Written only once the report is complete: a failed run leaves no half-written file.
            let mut buffer = Vec::new();
            let code = report(ctx, args, &mut buffer)?;
            std::fs::write(&path, buffer).map_err(|e| Error::io(&path, e))?;
            Ok(code)
        }
    }
}

/// Reads the inputs (PATHs or the ledger) into a report for `query`.
fn aggregate(ctx: &Context, args: &Args, query: &ReportQuery) -> Result<Report> {
    let book = ctx.price_book()?;
    let newest = ledger_newest(ctx, &args.input, &query.period)?;
    let mut agg = Aggregator::new(
        query,
        &ctx.config.teams,
        book,
        !args.input.paths.is_empty(),
        newest,
    );
    feed(ctx, &args.input, &mut agg)?;
    Ok(agg.finish())
}

/// `--as-of`: the period cut at DATE, and the last day of the period as asked (what a forecast runs to).
fn cut_at(spec: PeriodSpec, as_of: NaiveDate) -> Result<(PeriodSpec, NaiveDate)> {
    let month_end = |d: NaiveDate| {
        d.with_day(1)
            .and_then(|f| f.checked_add_months(chrono::Months::new(1)))
            .and_then(|n| n.pred_opt())
            .unwrap_or(d)
    };
    let (since, until) = match spec {
        PeriodSpec::NewestMonth => (as_of.with_day(1).unwrap_or(as_of), month_end(as_of)),
        PeriodSpec::Month { year, month } => {
            let first = NaiveDate::from_ymd_opt(year, month, 1)
                .ok_or_else(|| Error::usage("invalid --month"))?;
            (first, month_end(first))
        }
        PeriodSpec::Dates { since, until } => (since, until),
        PeriodSpec::Since { since } => (since, as_of),
    };
    if as_of < since {
        return Err(Error::usage(format!(
            "--as-of {as_of} is before the period starts ({since})"
        )));
    }
    Ok((
        PeriodSpec::Dates {
            since,
            until: as_of.min(until),
        },
        until,
    ))
}

/// What a report run does, with every default that depends on other flags decided here, once.
struct Settings {
    query: ReportQuery,
    /// With `--as-of`: the last day of the period as asked (what the HTML forecast runs to).
    period_end: Option<NaiveDate>,
}

impl Settings {
    fn resolve(args: &Args) -> Result<Settings> {
        let (period, tz) = args.period.spec()?;
        let (period, period_end) = match args.as_of {
            None => (period, None),
            Some(d) => {
                let (cut, end) = cut_at(period, d)?;
                (cut, Some(end))
            }
        };
        let html = args.format == Some(ReportFormat::Html);
        if html && args.reconcile {
            return Err(Error::usage(
                "--reconcile with --format html: the HTML report has its own reconciliation section; \
                 leave out --reconcile",
            ));
        }
        if args.budgets.is_some() && !html {
            return Err(Error::usage(
                "--budgets applies to --format html; for a budget check use `aispend budget check --budgets FILE`",
            ));
        }
        if html && args.input.paths.iter().any(|p| p.as_os_str() == "-") {
            return Err(Error::usage(
                "--format html reads its inputs more than once (report, daily chart, budgets): give files, \
                 not standard input (-)",
            ));
        }
        if args.top == Some(0) {
            return Err(Error::usage(
                "--top 0 would fold every row into (other): give a number of rows of at least 1",
            ));
        }
        let group_by = args.group.dims_or(if args.reconcile {
            &[Dim::Provider, Dim::Day]
        } else {
            &[Dim::Model]
        });
        let by_time = group_by
            .iter()
            .any(|d| matches!(d, Dim::Day | Dim::Week | Dim::Month));
        let query = ReportQuery {
            group_by,
            filters: args.group.filters(),
            period,
            tz,
            top: args.top,
            // The HTML page always compares with the previous period (change, top movers) when it can.
            compare: args.compare
                || (html && (args.input.paths.is_empty() || period.open_window(tz).is_none())),
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
        Ok(Settings { query, period_end })
    }
}

fn report(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<i32> {
    let Settings { query, period_end } = Settings::resolve(&args)?;
    if args.allocate {
        return allocated(ctx, &args, query, out);
    }
    let report = aggregate(ctx, &args, &query)?;
    for warning in &report.warnings {
        ctx.warn(warning.strip_prefix("warning: ").unwrap_or(warning));
    }
    for warning in report.foreign_warnings() {
        ctx.warn(warning);
    }
    if args.reconcile {
        let tolerance = args.tolerance;
        let lines = reconcile::reconcile(&report, tolerance);
        let reconciled = reconcile::Reconciled {
            report: &report,
            lines: &lines,
            tolerance,
        };
        let format = args
            .format
            .and_then(ReportFormat::plain)
            .unwrap_or(Format::Table);
        ctx.write_output(&reconciled, format, out)?;
        return Ok(0);
    }
    if report.total.saturated {
        ctx.warn(format_args!(
            "a sum in this report reached the largest value it can hold ({}) and stopped \
             there: the input holds absurd counts or amounts, so the figures shown are lower bounds",
            u64::MAX
        ));
    }
    let Some(format) = args.format.unwrap_or(ReportFormat::Table).plain() else {
        let page = html_page(ctx, &args, &query, &report, period_end)?;
        html::render(&page.view(&report), out)?;
        return Ok(0);
    };
    if format == Format::Csv && !report.unpriced.is_empty() {
        let mut models: Vec<&str> = report.unpriced.iter().map(|u| u.model.as_str()).collect();
        models.dedup();
        ctx.warn(format_args!(
            "usage of {} has no price and is not in the CSV (see `aispend pricing missing`)",
            models.join(", ")
        ));
    }
    ctx.write_output(&report, format, out)?;
    Ok(0)
}

/// `--allocate`: the report by team, with shared and unassigned spend spread by `[allocation]`.
fn allocated(
    ctx: &Context,
    args: &Args,
    mut query: ReportQuery,
    out: &mut dyn Write,
) -> Result<i32> {
    let rule = ctx.config.allocation.as_ref().ok_or_else(|| {
        Error::usage(
            "--allocate needs an [allocation] section in aispend.toml, e.g. shared = [\"platform\"] (see the \
             README, \"Allocation of shared spend\")",
        )
    })?;
    if query.group_by != [Dim::Team] && args.group.by.is_some() {
        return Err(Error::usage("--allocate reports by team: leave out --by"));
    }
    let format = match args.format.unwrap_or(ReportFormat::Table).plain() {
        Some(f) => f,
        None => {
            return Err(Error::usage(
                "--allocate prints table, json, csv or markdown",
            ))
        }
    };
    query.group_by = vec![Dim::Team];
    let report = aggregate(ctx, args, &query)?;
    let direct: std::collections::BTreeMap<String, crate::allocate::Direct> = report
        .rows
        .iter()
        .map(|r| {
            (
                r.values[0].clone(),
                crate::allocate::Direct {
                    cost: r.totals.cost,
                    requests: r.totals.requests,
                },
            )
        })
        .collect();
    let allocated = crate::allocate::allocate(rule, &direct);
    let mut rows: Vec<(String, u64, crate::allocate::Allocated)> = allocated
        .into_iter()
        .map(|(team, a)| {
            let requests = direct.get(&team).map_or(0, |d| d.requests);
            (team, requests, a)
        })
        .collect();
    rows.sort_by(|a, b| b.2.total().cmp(&a.2.total()).then_with(|| a.0.cmp(&b.0)));
    let allocated = crate::allocate::render::AllocatedReport {
        period: report.period,
        tz: report.tz,
        rule,
        rows,
        unpriced: &report.unpriced,
    };
    output::write(&allocated, format, ctx.style(), out)?;
    Ok(0)
}

/// What the HTML page adds to the report: the daily chart, the period-end forecast, budgets and
/// reconciliation, each from the library's own computation over the same inputs.
struct HtmlExtras {
    chart: Option<DailyChart>,
    chart_dim: Option<Dim>,
    forecast: Option<PeriodForecast>,
    budgets: Option<crate::budget::CheckResult>,
    reconciliation: Option<html::Reconciliation>,
}

impl HtmlExtras {
    fn view<'a>(&'a self, report: &'a Report) -> HtmlReport<'a> {
        HtmlReport {
            report,
            chart: self.chart.clone(),
            chart_dim: self.chart_dim.clone(),
            forecast: self.forecast.clone(),
            budgets: self.budgets.as_ref(),
            reconciliation: self.reconciliation.clone(),
        }
    }
}

/// `period_end`: the last day of the period as asked, when `--as-of` cut the report before it.
fn html_page(
    ctx: &Context,
    args: &Args,
    query: &ReportQuery,
    report: &Report,
    period_end: Option<NaiveDate>,
) -> Result<HtmlExtras> {
    let tz = report.tz;
    let start = report.period.start.with_timezone(&tz).date_naive();
    let report_end = (report.period.end - chrono::Duration::seconds(1))
        .with_timezone(&tz)
        .date_naive();
    let end = period_end.unwrap_or(report_end).max(report_end);
    // The chart is stacked by the first --by dimension (a time dimension is the x axis already).
    let chart_dim = query
        .group_by
        .first()
        .filter(|d| !matches!(d, Dim::Day | Dim::Week | Dim::Month))
        .cloned();
    let dims: Vec<Dim> = chart_dim.iter().cloned().collect();
    let (daily, _) = collect_daily(
        ctx,
        &args.input,
        &dims,
        args.group.filters(),
        tz,
        Some(report_end),
    )?;
    // The data runs to its newest day; when that is before the period's end, the period is not over.
    let last_actual = daily
        .last
        .map(|l| l.min(report_end))
        .filter(|l| *l >= start);
    let mut forecast = None;
    if let Some(last) = last_actual.filter(|l| *l < end) {
        let history_start = daily.first.map_or(start, |f| f.min(start));
        let mut total =
            vec![rust_decimal::Decimal::ZERO; (last - history_start).num_days() as usize + 1];
        for key in daily.groups.keys() {
            for (t, v) in total.iter_mut().zip(daily.series(key, history_start, last)) {
                *t += v;
            }
        }
        let history = crate::forecast::DailySeries::new(history_start, total);
        let projection = crate::forecast::project(
            &history,
            last,
            start,
            end,
            crate::forecast::MethodChoice::Auto,
        )?;
        forecast = Some(PeriodForecast {
            as_of: last,
            end,
            projection,
        });
    }
    let chart = last_actual.map(|last| {
        DailyChart::build(
            &daily,
            start,
            last,
            args.top.unwrap_or(html::chart::MAX_SERIES),
            forecast.as_ref().map(|f| &f.projection),
        )
    });
    let budgets = match &args.budgets {
        None => None,
        Some(path) => Some(budget_check(ctx, args, path, last_actual.unwrap_or(end))?),
    };
    let reconciliation = if report.has_reported() {
        reconciliation(ctx, args, query)?
    } else {
        None
    };
    Ok(HtmlExtras {
        chart,
        chart_dim,
        forecast,
        budgets,
        reconciliation,
    })
}

/// The budgets' statuses as of `as_of`, as `aispend budget check` computes them.
fn budget_check(
    ctx: &Context,
    args: &Args,
    path: &std::path::Path,
    as_of: chrono::NaiveDate,
) -> Result<crate::budget::CheckResult> {
    let budgets = crate::budget::load(path)?;
    let dims = crate::budget::group_dims(&budgets);
    let tz = args.period.spec()?.1;
    let (daily, as_of) = collect_daily(ctx, &args.input, &dims, Vec::new(), tz, Some(as_of))?;
    let mut known_teams: Vec<String> = ctx.config.teams.teams().map(str::to_string).collect();
    if let Some(i) = dims.iter().position(|d| *d == Dim::Team) {
        known_teams.extend(daily.groups.keys().map(|k| k[i].clone()));
    }
    let allocated = super::usage::allocated_daily(ctx, &args.input, &budgets, tz, as_of)?;
    let check = crate::budget::check(&budgets, &daily, allocated.as_ref(), as_of, &known_teams)?;
    for w in &check.warnings {
        ctx.warn(w);
    }
    Ok(check)
}

/// Computed against invoiced cost by provider and the report's other dimensions, when any group has
/// an invoiced amount to compare with.
fn reconciliation(
    ctx: &Context,
    args: &Args,
    query: &ReportQuery,
) -> Result<Option<html::Reconciliation>> {
    let tolerance = args.tolerance;
    let mut group_by = vec![Dim::Provider];
    group_by.extend(
        query
            .group_by
            .iter()
            .filter(|d| !matches!(d, Dim::Provider | Dim::Day | Dim::Week | Dim::Month))
            .cloned(),
    );
    let rq = ReportQuery {
        group_by: group_by.clone(),
        filters: args.group.filters(),
        period: query.period,
        tz: query.tz,
        top: None,
        compare: false,
        reconcile: true,
        sort: SortBy::Name,
    };
    let lines = reconcile::reconcile(&aggregate(ctx, args, &rq)?, tolerance);
    Ok(lines
        .iter()
        .any(|l| l.invoiced.is_some())
        .then_some(html::Reconciliation {
            group_by,
            lines,
            tolerance,
        }))
}
