//! `aispend budget check`: the CI gate. Exit 1 when a budget is breached (or forecast to be, with
//! `fail_on = "forecast"`), 0 when every budget is ok or warns, 2 on bad input.

use std::io::Write;
use std::path::PathBuf;

use chrono::{Datelike, NaiveDate};

use super::usage::{allocated_daily, collect_daily, InputArgs, PeriodArgs};
use super::Context;
use crate::budget::render::{self, BudgetFormat};
use crate::budget::{self, Status};
use crate::error::{Error, Result};
use crate::period::PeriodSpec;
use crate::report::Dim;

const LONG_ABOUT: &str = "\
Checks spend against budgets, for CI.

Each [[budget]] table of the budgets file (TOML) has a `name`, a `limit` in USD per `period` (month, the \
default, week or day), an optional \
scope (team, project, provider, model, tag), `warn_at` (a fraction of the limit, default 0.8) and \
`fail_on` (\"forecast\", the default, or \"actual\"). Its period is the one holding the as-of date.

Status: breach when actual spend reached the limit, or the projected period total did with \
fail_on = \"forecast\"; warn when actual or forecast reached warn_at x limit (or the forecast reached the \
limit of an \"actual\" budget); ok otherwise. Projections are `aispend forecast`'s (method auto).

Exit codes: 0 every budget ok or warn · 1 a budget breached · 2 bad input (a budgets file with unknown \
keys, a limit that is not a decimal, unreadable usage).";

const AFTER_HELP: &str = "\
Examples:
  aispend budget check --budgets budgets.toml
  aispend budget check --budgets budgets.toml --as-of 2026-10-15 --format markdown fixtures/demo
  aispend budget check --budgets budgets.toml --format github      in a GitHub Actions step";

/// Budget checks
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check spend against budgets; exit 1 when one is breached or forecast to be
    #[command(long_about = LONG_ABOUT, after_help = AFTER_HELP)]
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The budgets file (TOML, `[[budget]]` entries)
    #[arg(long, value_name = "FILE", required = true)]
    pub budgets: PathBuf,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Check as if today were DATE: later records are ignored [default: the newest record's day, or the
    /// last day of --month]
    #[arg(long, value_name = "DATE", value_parser = crate::period::parse_as_of)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Output format: table, json, markdown (a pull-request comment), github (workflow annotations plus
    /// the Markdown summary, also appended to $GITHUB_STEP_SUMMARY)
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = BudgetFormat::Table)]
    pub format: BudgetFormat,
    #[command(flatten)]
    pub input: InputArgs,
}

/// What a budget check does, with every default that depends on other flags decided here, once.
struct Settings {
    tz: chrono_tz::Tz,
    /// `--as-of`, else the last day of `--until`.
    as_of: Option<NaiveDate>,
    /// `--month` without `--as-of`: the month's last day (the check runs to the newest day with data
    /// in that month).
    cap: Option<NaiveDate>,
}

impl Settings {
    fn resolve(args: &CheckArgs) -> Result<Settings> {
        let (spec, tz) = args.period.spec()?;
        let mut as_of = args.as_of;
        let mut cap = None;
        match spec {
            PeriodSpec::NewestMonth | PeriodSpec::Since { .. } => {}
            PeriodSpec::Month { year, month } => {
                let last = NaiveDate::from_ymd_opt(year, month, 1)
                    .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
                    .and_then(|d| d.pred_opt())
                    .ok_or_else(|| Error::usage("invalid --month"))?;
                if as_of.is_none() {
                    cap = Some(last);
                }
            }
            PeriodSpec::Dates { until, .. } => {
                if as_of.is_none() {
                    as_of = Some(until);
                }
            }
        }
        Ok(Settings { tz, as_of, cap })
    }
}

pub fn run(ctx: &Context, cmd: Command, out: &mut dyn Write) -> Result<i32> {
    let Command::Check(args) = cmd;
    let budgets = budget::load(&args.budgets)?;
    let Settings { tz, as_of, cap } = Settings::resolve(&args)?;
    let dims = budget::group_dims(&budgets);
    let (daily, mut as_of) = collect_daily(ctx, &args.input, &dims, Vec::new(), tz, as_of.or(cap))?;
    if let Some(last) = cap {
        // --month without --as-of: the newest day with data in that month, else its last day.
        as_of = daily
            .last
            .filter(|d| d.year() == last.year() && d.month() == last.month())
            .unwrap_or(last);
    }
    let mut known_teams: Vec<String> = ctx.config.teams.teams().map(str::to_string).collect();
    if let Some(i) = dims.iter().position(|d| *d == Dim::Team) {
        known_teams.extend(daily.groups.keys().map(|k| k[i].clone()));
    }
    let allocated = allocated_daily(ctx, &args.input, &budgets, tz, as_of)?;
    let check = budget::check(&budgets, &daily, allocated.as_ref(), as_of, &known_teams)?;
    // Warnings go to standard error in every format (JSON also lists them; Markdown and GitHub
    // annotations repeat them where a pull request shows them).
    for w in &check.warnings {
        ctx.warn(w);
    }
    match args.format {
        // Through the output layer, as every report-like command: the document and its `inputs`.
        BudgetFormat::Json => ctx.write_output(&check, crate::output::Format::Json, out)?,
        format => render::render(format, &check, ctx.style(), out)?,
    }
    Ok(if check.status() == Status::Breach {
        1
    } else {
        0
    })
}
