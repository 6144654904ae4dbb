//! `aispend forecast`: where the month (or `--until`) will end, per group, with an 80% interval.

use std::io::Write;

use chrono::{Datelike, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::usage::{collect_daily, InputArgs, Scope, ScopeArgs};
use super::Context;
use crate::error::{Error, Result};
use crate::forecast::{self, DailySeries, MethodChoice, Projection};
use crate::output::{money_exact, table, Cell, Column, Format, Render, Sheet};
use crate::period::PeriodSpec;
use crate::report::{Dim, UnpricedRow};

const INTRO: &str = "\
Projects where a period ends: actual spend to date plus a forecast of the remaining days, per group, \
with an 80% interval. The total is projected from the total daily series (not summed from the rows).";

const AFTER_HELP: &str = "\
Examples:
  aispend forecast                                  month-end projection of the newest month in the ledger
  aispend forecast --by team --as-of 2026-10-15 fixtures/demo
  aispend forecast --month 2026-10 --by team,provider --format json";

/// Project where the month (or period) will end, with an 80% interval
#[derive(Debug, clap::Args)]
#[command(long_about = format!("{INTRO}\n\n{}", forecast::HELP), after_help = AFTER_HELP)]
#[command(mut_arg("by", |a| a.help("Group by these dimensions (comma list; default: the total only)")))]
pub struct Args {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Forecast as if today were DATE: later records are ignored [default: the newest record's day]
    #[arg(long, value_name = "DATE", value_parser = crate::period::parse_as_of)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Forecast method: auto, run-rate, seasonal-naive, weekday-mean, holt-winters, theta, arima or
    /// ensemble (see below)
    #[arg(long, value_name = "METHOD", default_value = "auto")]
    pub method: MethodChoice,
    /// Output format (table shows a daily chart on a terminal)
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub input: InputArgs,
}

/// One projected group.
struct Line {
    values: Vec<String>,
    projection: Projection,
    /// Actual days of the period so far, for the chart.
    actual_days: Vec<Decimal>,
}

/// What a forecast run covers, with every default that depends on other flags decided here, once:
/// grouped by `--by`, else the total only; never by day.
fn resolve(args: &Args) -> Result<Scope> {
    let scope = args.scope.resolve(&[])?;
    if scope.dims.contains(&Dim::Day) {
        return Err(Error::usage(
            "--by day makes no sense for a forecast: each row is already a daily series",
        ));
    }
    Ok(scope)
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<i32> {
    let Scope {
        spec,
        tz,
        dims,
        filters,
    } = resolve(&args)?;
    let choice = args.method;
    let (daily, as_of) = collect_daily(ctx, &args.input, &dims, filters, tz, args.as_of)?;
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let (start, end) = period_days(&spec, as_of, today);
    let history_start = daily.first.map_or(start, |f| f.min(start));
    let upto = as_of.min(end);
    let project = |values: Vec<Decimal>| {
        let series = DailySeries {
            start: history_start,
            values,
        };
        let projection = forecast::project(&series, upto, start, end, choice)?;
        let from = (start - history_start).num_days().max(0) as usize;
        let actual_days = series.values.get(from..).unwrap_or(&[]).to_vec();
        Ok::<_, Error>((projection, actual_days))
    };
    let mut lines = Vec::new();
    let mut total_values =
        vec![Decimal::ZERO; (upto - history_start).num_days().max(0) as usize + 1];
    for key in daily.groups.keys() {
        let values = daily.series(key, history_start, upto);
        for (t, v) in total_values.iter_mut().zip(&values) {
            *t += *v;
        }
        if !dims.is_empty() {
            let (projection, actual_days) = project(values)?;
            lines.push(Line {
                values: key.clone(),
                projection,
                actual_days,
            });
        }
    }
    lines.sort_by(|a, b| {
        b.projection
            .forecast
            .cmp(&a.projection.forecast)
            .then_with(|| a.values.cmp(&b.values))
    });
    let (projection, actual_days) = project(total_values)?;
    let total = Line {
        values: vec![],
        projection,
        actual_days,
    };
    let view = View {
        dims: &dims,
        lines: &lines,
        total: &total,
        as_of: upto,
        start,
        end,
        unpriced: &daily.unpriced,
        chart: ctx.style().width.is_some(),
    };
    ctx.write_output(&view, args.format, out)?;
    if !daily.unpriced.is_empty() && args.format != Format::Json {
        let mut models: Vec<&str> = daily.unpriced.iter().map(|u| u.model.as_str()).collect();
        models.dedup();
        ctx.warn(format_args!(
            "usage of {} has no price and is not in the forecast (see `aispend pricing missing`)",
            models.join(", ")
        ));
    }
    Ok(0)
}

/// First and last day of the projected period (an open `--since` runs to today).
pub(crate) fn period_days(
    spec: &PeriodSpec,
    as_of: NaiveDate,
    today: NaiveDate,
) -> (NaiveDate, NaiveDate) {
    let month = |d: NaiveDate| {
        let first = d.with_day(1).unwrap_or(d);
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(first);
        (first, next.pred_opt().unwrap_or(first))
    };
    match *spec {
        PeriodSpec::NewestMonth => month(as_of),
        PeriodSpec::Month { year, month: m } => {
            month(NaiveDate::from_ymd_opt(year, m, 1).unwrap_or(as_of))
        }
        // `--until` alone: from the start of the as-of month to that day.
        PeriodSpec::Dates { since, until } if since.year() <= 1970 => (month(as_of).0, until),
        PeriodSpec::Dates { since, until } => (since, until),
        PeriodSpec::Since { since } => (since, today.max(since)),
    }
}

struct View<'a> {
    dims: &'a [Dim],
    lines: &'a [Line],
    total: &'a Line,
    as_of: NaiveDate,
    start: NaiveDate,
    end: NaiveDate,
    unpriced: &'a [UnpricedRow],
    /// Whether the table shows the daily chart (only on a terminal).
    chart: bool,
}

impl Render for View<'_> {
    fn sheet(&self, format: Format) -> Sheet {
        match format {
            Format::Csv => self.csv(),
            Format::Markdown => self.markdown(),
            _ => self.table(),
        }
    }

    fn json(&self) -> Value {
        let line = |l: &Line| {
            let mut m = Map::new();
            for (d, v) in self.dims.iter().zip(&l.values) {
                m.insert(d.name(), json!(v));
            }
            let p = &l.projection;
            m.insert(
                "actual_to_date".into(),
                json!(money_exact(p.actual_to_date)),
            );
            m.insert("forecast".into(), json!(money_exact(p.forecast)));
            m.insert("lower".into(), json!(money_exact(p.lower)));
            m.insert("upper".into(), json!(money_exact(p.upper)));
            m.insert("method".into(), json!(p.method.as_str()));
            m.insert(
                "note".into(),
                p.note.as_ref().map_or(Value::Null, |n| json!(n)),
            );
            m.insert(
                "backtest_mape".into(),
                p.backtest_mape
                    .map_or(Value::Null, |x| json!(x.round_dp(4).to_string())),
            );
            Value::Object(m)
        };
        json!({
            "schema": "aispend.forecast.v1",
            "currency": "USD",
            "as_of": self.as_of.to_string(),
            "period": {"start": self.start.to_string(), "end": self.end.to_string()},
            "interval": "80%",
            "group_by": self.dims.iter().map(|d| d.name()).collect::<Vec<_>>(),
            "rows": self.lines.iter().map(line).collect::<Vec<_>>(),
            "total": line(self.total),
            "unpriced": crate::report::render::json::unpriced_value(self.unpriced),
        })
    }
}

impl View<'_> {
    fn rows(&self) -> Vec<(Vec<String>, &Line)> {
        let mut rows: Vec<(Vec<String>, &Line)> =
            self.lines.iter().map(|l| (l.values.clone(), l)).collect();
        let mut total = vec![String::new(); self.dims.len().max(1)];
        total[0] = "total".into();
        rows.push((total, self.total));
        rows
    }

    /// The group columns (one unnamed column for the total alone).
    fn group_columns(&self) -> Vec<Column> {
        let mut h: Vec<Column> = self.dims.iter().map(|d| Column::label(d.name())).collect();
        if h.is_empty() {
            h.push(Column::label(""));
        }
        h
    }

    /// Every row, the total last with `total` in each group column; money exact.
    fn csv(&self) -> Sheet {
        let mut columns: Vec<Column> = self.dims.iter().map(|d| Column::label(d.name())).collect();
        columns.extend(["actual_to_date", "forecast", "lower", "upper"].map(Column::number));
        columns.extend(["method", "note"].map(Column::text));
        let mut sheet = Sheet::new(columns);
        for l in self.lines.iter().chain(std::iter::once(self.total)) {
            let p = &l.projection;
            let mut cells: Vec<Cell> = if std::ptr::eq(l, self.total) {
                vec![Cell::plain("total"); self.dims.len()]
            } else {
                l.values.iter().cloned().map(Cell::Text).collect()
            };
            cells.extend([
                Cell::Money(p.actual_to_date),
                Cell::Money(p.forecast),
                Cell::Money(p.lower),
                Cell::Money(p.upper),
                Cell::plain(p.method.as_str()),
                Cell::Text(p.note.clone().unwrap_or_default()),
            ]);
            sheet.push(cells);
        }
        sheet
    }

    /// The cells people read: the group, actual to date, forecast, interval and method.
    fn human_cells(values: &[String], l: &Line) -> Vec<Cell> {
        let p = &l.projection;
        let mut cells: Vec<Cell> = values.iter().cloned().map(Cell::Text).collect();
        cells.extend([
            Cell::Money(p.actual_to_date),
            Cell::Money(p.forecast),
            Cell::Interval(p.lower, p.upper),
            Cell::plain(p.method.as_str()),
        ]);
        cells
    }

    fn markdown(&self) -> Sheet {
        let mut columns = self.group_columns();
        columns.extend(["actual to date", "forecast", "80% interval"].map(Column::number));
        columns.push(Column::text("method"));
        let mut sheet = Sheet::new(columns).titled(format!(
            "AI spend forecast {} – {} (as of {})",
            self.start, self.end, self.as_of
        ));
        for (values, l) in self.rows() {
            sheet.push(Self::human_cells(&values, l));
        }
        sheet
    }

    /// The terminal table; the daily chart only on a terminal. On a narrow one the chart goes first,
    /// then the method and the actual spend to date; the forecast and its interval stay.
    fn table(&self) -> Sheet {
        let mut columns = self.group_columns();
        columns.extend([
            Column::number("actual to date").droppable(3),
            Column::number("forecast"),
            Column::number("80% interval"),
            Column::text("method").droppable(2),
        ]);
        if self.chart {
            columns.push(Column::text("daily (actual│forecast)").droppable(1));
        }
        let mut sheet = Sheet::new(columns).titled(format!(
            "Forecast {} to {} as of {} (80% interval)",
            self.start, self.end, self.as_of
        ));
        for (values, l) in self.rows() {
            let mut cells = Self::human_cells(&values, l);
            if self.chart {
                cells.push(Cell::plain(sparkline(&l.actual_days, &l.projection.daily)));
            }
            sheet.push(cells);
        }
        sheet.total_row = true;
        // One line per distinct note, naming the rows it applies to.
        let mut notes: Vec<(&str, Vec<String>)> = Vec::new();
        for (values, l) in self.rows() {
            let Some(note) = l.projection.note.as_deref() else {
                continue;
            };
            let name = values
                .iter()
                .filter(|v| !v.is_empty())
                .map(|v| table::escape(v))
                .collect::<Vec<_>>()
                .join(", ");
            match notes.iter_mut().find(|(n, _)| *n == note) {
                Some((_, names)) => names.push(name),
                None => notes.push((note, vec![name])),
            }
        }
        for (note, names) in notes {
            sheet.note(format!("note ({}): {note}", names.join("; ")));
        }
        sheet
    }
}

/// Daily bars: the period's actual days, `│`, then the forecast days, on one scale.
pub fn sparkline(actual: &[Decimal], forecast: &[Decimal]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = actual
        .iter()
        .chain(forecast)
        .copied()
        .max()
        .unwrap_or_default();
    let bar = |v: &Decimal| {
        if max <= Decimal::ZERO || *v <= Decimal::ZERO {
            return ' ';
        }
        let i = (*v * Decimal::from(7) / max)
            .round()
            .to_usize()
            .unwrap_or(0);
        BARS[i.min(7)]
    };
    let mut s: String = actual.iter().map(bar).collect();
    if !forecast.is_empty() {
        s.push('│');
        s.extend(forecast.iter().map(bar));
    }
    s
}
