//! Budget check output: table, JSON (`aispend.budget.v1`), Markdown (a pull-request comment) and GitHub
//! workflow annotations.

use std::io::Write;

use serde_json::{json, Value};

use super::{BudgetResult, CheckResult, Status};
use crate::error::Result;
use crate::output::{self, money_exact, money_human, Cell, Column, Format, Render, Sheet, Style};

pub const SCHEMA: &str = "aispend.budget.v1";

/// Output formats of `budget check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BudgetFormat {
    Table,
    Json,
    Markdown,
    /// `::error::`/`::warning::` annotations, plus the Markdown summary appended to
    /// `$GITHUB_STEP_SUMMARY` when it is set.
    Github,
}

fn icon(s: Status) -> &'static str {
    match s {
        Status::Ok => "✅",
        Status::Warn => "⚠️",
        Status::Breach => "❌",
    }
}

fn scope_text(r: &BudgetResult) -> String {
    if r.budget.scope.is_empty() {
        return "all spend".into();
    }
    r.budget
        .scope
        .iter()
        .map(|(dim, values)| format!("{}={}", dim.name(), values.join("|")))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn to_value(check: &CheckResult) -> Value {
    let rows: Vec<Value> = check
        .results
        .iter()
        .map(|r| {
            let p = &r.projection;
            json!({
                "name": r.budget.name,
                "limit": money_exact(r.budget.limit),
                "period": r.budget.period.as_str(),
                "period_start": r.period_start.to_string(),
                "period_end": r.period_end.to_string(),
                "scope": r.budget.scope.iter().map(|(d, v)| (d.name(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "actual": money_exact(p.actual_to_date),
                "forecast": money_exact(p.forecast),
                "lower": money_exact(p.lower),
                "upper": money_exact(p.upper),
                "method": p.method.as_str(),
                "used_pct": r.used_percent().to_string(),
                "warn_at": money_exact(r.budget.warn_at),
                "fail_on": match r.budget.fail_on { super::FailOn::Actual => "actual", super::FailOn::Forecast => "forecast" },
                "status": r.status.as_str(),
                "reason": r.reason,
                "anomaly": r.anomaly.as_ref().map(|a| json!({
                    "day": a.day.to_string(),
                    "kind": a.kind.as_str(),
                    "cost": money_exact(a.cost),
                    "expected": money_exact(a.expected),
                    "difference": money_exact(a.difference()),
                    "score": a.score.map(|s| s.to_string()),
                })),
            })
        })
        .collect();
    json!({
        "schema": SCHEMA,
        "currency": "USD",
        "as_of": check.as_of.to_string(),
        "status": check.status().as_str(),
        "budgets": rows,
        "warnings": check.warnings,
    })
}

impl Render for CheckResult {
    /// The terminal table (CSV, which `budget check` does not offer, would be the same sheet) or the
    /// Markdown summary of a pull-request comment. On a narrow terminal the interval goes first, then
    /// the period, the forecast and the share used; the budget's status and why stay. Configuration
    /// warnings go to standard error (see `aispend budget check`); Markdown repeats them.
    fn sheet(&self, format: Format) -> Sheet {
        if format == Format::Markdown {
            return self.markdown_sheet();
        }
        let mut sheet = Sheet::new(vec![
            Column::label("budget"),
            Column::text("period").droppable(2),
            Column::number("limit"),
            Column::number("actual"),
            Column::number("used").droppable(4),
            Column::number("forecast").droppable(3),
            Column::number("80% interval").droppable(1),
            Column::text("status"),
            Column::label("why"),
        ])
        .titled(format!(
            "Budgets as of {} (forecast: projected period total)",
            self.as_of
        ));
        for r in &self.results {
            let p = &r.projection;
            sheet.push(vec![
                Cell::text(&r.budget.name),
                Cell::plain(format!("{} to {}", r.period_start, r.period_end)),
                Cell::Money(r.budget.limit),
                Cell::Money(p.actual_to_date),
                Cell::Pct(r.used_percent()),
                Cell::Money(p.forecast),
                Cell::Interval(p.lower, p.upper),
                Cell::plain(r.status.as_str()),
                Cell::plain(&r.reason),
            ]);
        }
        sheet.note(format!("status: {}", self.status().as_str()));
        sheet
    }

    fn json(&self) -> Value {
        to_value(self)
    }
}

impl CheckResult {
    fn markdown_sheet(&self) -> Sheet {
        let status = self.status();
        let mut sheet = Sheet::new(vec![
            Column::text(""),
            Column::label("budget"),
            Column::label("scope"),
            Column::text("period"),
            Column::number("limit"),
            Column::number("actual"),
            Column::number("forecast (80% interval)"),
            Column::text(""),
        ])
        .titled(format!(
            "{} AI budgets: {} (as of {})",
            icon(status),
            status.as_str(),
            self.as_of
        ));
        for r in &self.results {
            let p = &r.projection;
            sheet.push(vec![
                Cell::plain(icon(r.status)),
                Cell::text(&r.budget.name),
                Cell::text(scope_text(r)),
                Cell::plain(format!("{} – {}", r.period_start, r.period_end)),
                Cell::Money(r.budget.limit),
                Cell::Money(p.actual_to_date).noted(format!("({}%)", r.used_percent())),
                Cell::Money(p.forecast).noted(format!(
                    "({} – {})",
                    money_human(p.lower),
                    money_human(p.upper)
                )),
                Cell::plain(&r.reason),
            ]);
        }
        for w in &self.warnings {
            sheet.note("");
            sheet.note(format!("> warning: {w}"));
        }
        sheet
    }
}

/// GitHub Actions workflow commands: one annotation per budget that is not ok, then the Markdown
/// summary (also appended to `$GITHUB_STEP_SUMMARY` when set).
pub fn github(check: &CheckResult, out: &mut dyn Write) -> Result<()> {
    // Workflow command values escape %, CR and LF.
    let escape = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    for r in &check.results {
        let level = match r.status {
            Status::Ok => continue,
            Status::Warn => "warning",
            Status::Breach => "error",
        };
        let message = format!(
            "{}: {} of {} spent, forecast {} ({})",
            r.budget.name,
            money_human(r.actual()),
            money_human(r.budget.limit),
            money_human(r.forecast()),
            r.reason
        );
        writeln!(
            out,
            "::{level} title=Budget {}::{}",
            escape(&r.budget.name),
            escape(&message)
        )?;
    }
    for w in &check.warnings {
        writeln!(out, "::warning title=Budget configuration::{}", escape(w))?;
    }
    let mut summary = Vec::new();
    output::markdown::write(&check.sheet(Format::Markdown), &mut summary)?;
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        f.write_all(&summary)?;
        f.write_all(b"\n")?;
    }
    out.write_all(&summary)?;
    Ok(())
}

pub fn render(
    format: BudgetFormat,
    check: &CheckResult,
    style: Style,
    out: &mut dyn Write,
) -> Result<()> {
    match format {
        BudgetFormat::Table => output::write(check, Format::Table, style, out),
        BudgetFormat::Json => output::write(check, Format::Json, style, out),
        BudgetFormat::Markdown => output::write(check, Format::Markdown, style, out),
        BudgetFormat::Github => github(check, out),
    }
}
