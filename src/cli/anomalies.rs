//! `aispend anomalies`: daily spend spikes, drops and new spenders against a weekday-aware baseline.

use std::io::Write;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::usage::{collect_daily, InputArgs, Scope, ScopeArgs};
use super::Context;
use crate::anomalies::{detect, Anomaly, Rules};
use crate::error::{Error, Result};
use crate::output::{self, money_exact, Cell, Column, Format, Render, Sheet};
use crate::report::Dim;

const AFTER_HELP: &str = "\
Examples:
  aispend anomalies --by team fixtures/demo fixtures/demo-incident        the demo month's spikes
  aispend anomalies --by team,model --as-of 2026-10-21 --fail             a daily cron job: exit 1 on an anomaly today
  aispend anomalies --since 2026-10-01 --until 2026-10-31 --format json

Each group's (--by, default model) daily cost is compared with the median of the same weekday over the previous --weeks
weeks (at least 2 of them with data; before that a day gets no verdict). The score is the difference in
robust standard deviations: 1.4826 x the median absolute deviation of those same-weekday costs, but at
least a tenth of the expected cost and a tenth of the group's mean day over the 28 days before. A spike
scores at least --threshold and costs at least twice the expected; a drop scores at most -threshold and
costs at most half of it. A new spender is a group's first day with spend, when the data read starts at
least 7 days earlier. History is read from up to 182 days before the as-of date.";

/// Daily spend spikes, drops and new spenders against a weekday-aware baseline
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Look as if today were DATE: later records are ignored [default: the newest record's day]
    #[arg(long, value_name = "DATE", value_parser = crate::period::parse_as_of)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Exit with code 1 when there is an anomaly on the as-of day (a daily CI or cron job)
    #[arg(long)]
    pub fail: bool,
    /// |score| at or beyond which a day is a spike or a drop
    #[arg(long, value_name = "K", default_value = "4")]
    pub threshold: Decimal,
    /// How many previous same weekdays make the baseline
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(2..=52))]
    pub weeks: u16,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub input: InputArgs,
}

/// One flagged day of one group.
struct Row {
    values: Vec<String>,
    anomaly: Anomaly,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<i32> {
    let Scope {
        spec,
        tz,
        dims,
        filters,
    } = args.scope.resolve(&[Dim::Model])?;
    if dims
        .iter()
        .any(|d| matches!(d, Dim::Day | Dim::Week | Dim::Month))
    {
        return Err(Error::usage(
            "--by day, week or month makes no sense for anomalies: each group is already a daily series",
        ));
    }
    let (daily, as_of) = collect_daily(ctx, &args.input, &dims, filters, tz, args.as_of)?;
    let (from, to) = super::forecast::period_days(&spec, as_of, as_of);
    let to = to.min(as_of);
    let rules = Rules {
        weeks: usize::from(args.weeks),
        threshold: args.threshold,
        ..Rules::default()
    };
    let mut rows = Vec::new();
    if let Some(first) = daily.first {
        for key in daily.groups.keys() {
            let series = daily.series(key, first, as_of);
            for anomaly in detect(&series, first, from.max(first), to, first, &rules) {
                rows.push(Row {
                    values: key.clone(),
                    anomaly,
                });
            }
        }
    }
    rows.sort_by(|a, b| {
        a.anomaly
            .day
            .cmp(&b.anomaly.day)
            .then_with(|| {
                b.anomaly
                    .difference()
                    .abs()
                    .cmp(&a.anomaly.difference().abs())
            })
            .then_with(|| a.values.cmp(&b.values))
    });
    let today = rows.iter().filter(|r| r.anomaly.day == as_of).count();
    let view = View {
        dims: &dims,
        rows: &rows,
        from,
        to,
        as_of,
        rules,
        today,
    };
    output::write(&view, args.format, ctx.style(), out)?;
    if args.fail && today > 0 {
        ctx.note(format_args!("{today} anomaly(ies) on {as_of}"));
        return Ok(1);
    }
    Ok(0)
}

struct View<'a> {
    dims: &'a [Dim],
    rows: &'a [Row],
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
    rules: Rules,
    /// Anomalies on the as-of day.
    today: usize,
}

impl Render for View<'_> {
    fn json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let a = &r.anomaly;
                let mut m = Map::new();
                m.insert("day".into(), json!(a.day.to_string()));
                for (d, v) in self.dims.iter().zip(&r.values) {
                    m.insert(d.name(), json!(v));
                }
                m.insert("cost".into(), json!(money_exact(a.cost)));
                m.insert("expected".into(), json!(money_exact(a.expected)));
                m.insert("difference".into(), json!(money_exact(a.difference())));
                m.insert("score".into(), json!(a.score.map(|s| s.to_string())));
                m.insert("kind".into(), json!(a.kind.as_str()));
                Value::Object(m)
            })
            .collect();
        json!({
            "schema": "aispend.anomalies.v1",
            "currency": "USD",
            "as_of": self.as_of.to_string(),
            "period": {"start": self.from.to_string(), "end": self.to.to_string()},
            "group_by": self.dims.iter().map(|d| d.name()).collect::<Vec<_>>(),
            "threshold": self.rules.threshold.normalize().to_string(),
            "weeks": self.rules.weeks,
            "rows": rows,
            "anomalies_on_as_of": self.today,
        })
    }

    fn sheet(&self, format: Format) -> Sheet {
        let mut columns = vec![Column::text("day")];
        columns.extend(self.dims.iter().map(|d| Column::label(d.name())));
        columns.extend(["cost", "expected", "difference", "score"].map(Column::number));
        columns.push(Column::text("kind"));
        let mut sheet = Sheet::new(columns);
        if format != Format::Csv {
            let mut title = format!(
                "Spend anomalies {} to {} (as of {}; same weekday, {} weeks, threshold {})",
                self.from,
                self.to,
                self.as_of,
                self.rules.weeks,
                self.rules.threshold.normalize()
            );
            if self.rows.is_empty() {
                title.push_str(": none");
                sheet.omit_if_empty = true;
            }
            sheet = sheet.titled(title);
        }
        for r in self.rows {
            let a = &r.anomaly;
            let mut row = vec![Cell::plain(a.day.to_string())];
            row.extend(r.values.iter().map(Cell::text));
            row.extend([
                Cell::Money(a.cost),
                Cell::Money(a.expected),
                Cell::Money(a.difference()),
                a.score.map_or(Cell::Missing, Cell::Exact),
                Cell::plain(a.kind.as_str()),
            ]);
            sheet.push(row);
        }
        sheet
    }
}
