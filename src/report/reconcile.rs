//! Reconciliation: computed cost (usage × our prices) beside provider-invoiced cost (Costs API, cost
//! reports, OpenRouter/LiteLLM/GCP amounts, Claude Code `costUSD`), per group, flagging differences beyond a
//! tolerance. A stale price table shows up here first.

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::Report;
use crate::output::{money_exact, Cell, Column, Format, Render, Sheet};

pub const SCHEMA: &str = "aispend.reconcile.v1";

/// How a group compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// Both sides present, within tolerance.
    Ok,
    /// Both sides present, apart by more than the tolerance.
    Mismatch,
    /// Usage but no invoiced amount for the group (nothing to compare with).
    UsageOnly,
    /// An invoiced amount but no priced usage (the usage was not imported, or could not be priced).
    InvoiceOnly,
}

impl Match {
    pub fn as_str(self) -> &'static str {
        match self {
            Match::Ok => "ok",
            Match::Mismatch => "mismatch",
            Match::UsageOnly => "usage only",
            Match::InvoiceOnly => "invoice only",
        }
    }
}

/// One reconciled group.
#[derive(Debug, Clone)]
pub struct Line {
    pub values: Vec<String>,
    pub computed: Decimal,
    pub invoiced: Option<Decimal>,
    pub status: Match,
    /// Records in the group that have no price: its computed cost is incomplete.
    pub unpriced_records: u64,
}

impl Line {
    pub fn difference(&self) -> Option<Decimal> {
        self.invoiced.map(|i| self.computed - i)
    }

    /// Difference as a percentage of the invoiced amount, two decimals.
    pub fn difference_percent(&self) -> Option<Decimal> {
        let i = self.invoiced.filter(|i| !i.is_zero())?;
        Some(((self.computed - i) * Decimal::ONE_HUNDRED / i).round_dp(2))
    }
}

impl Line {
    /// The group's values, then computed, invoiced, difference and difference %.
    fn cells(&self) -> Vec<Cell> {
        let mut cells: Vec<Cell> = self.values.iter().cloned().map(Cell::Text).collect();
        cells.extend([
            Cell::Money(self.computed),
            Cell::money_or_missing(self.invoiced),
            Cell::money_or_missing(self.difference()),
            self.difference_percent().map_or(Cell::Missing, Cell::Pct),
        ]);
        cells
    }
}

/// Parses `1%`, `0.5%` or `2` (percent) into a fraction.
pub fn parse_tolerance(s: &str) -> Option<Decimal> {
    let t = s.trim().trim_end_matches('%');
    let pct = crate::decimal::parse_decimal(t)?;
    (pct >= Decimal::ZERO).then(|| pct / Decimal::ONE_HUNDRED)
}

/// `--tolerance` as the command line parses it: a fraction, or what was expected.
pub fn tolerance(s: &str) -> Result<Decimal, String> {
    parse_tolerance(s).ok_or_else(|| "expected a percentage such as 1% or 0.5%".to_string())
}

/// Compares each row's computed and reported cost. `tolerance` is a fraction of the invoiced amount.
pub fn reconcile(report: &Report, tolerance: Decimal) -> Vec<Line> {
    report
        .rows
        .iter()
        .map(|row| {
            let t = &row.totals;
            let invoiced = t.reported();
            let computed_any = !t.cost.is_zero() || t.unpriced_records > 0;
            let status = match invoiced {
                None => Match::UsageOnly,
                Some(_) if !computed_any => Match::InvoiceOnly,
                Some(i) if (t.cost - i).abs() > tolerance * i.abs() => Match::Mismatch,
                Some(_) => Match::Ok,
            };
            Line {
                values: row.values.clone(),
                computed: t.cost,
                invoiced,
                status,
                unpriced_records: t.unpriced_records,
            }
        })
        .collect()
}

/// A reconciliation ready to show: the report it was computed from, its lines and the tolerance.
pub struct Reconciled<'a> {
    pub report: &'a Report,
    pub lines: &'a [Line],
    /// A fraction of the invoiced amount.
    pub tolerance: Decimal,
}

impl Reconciled<'_> {
    fn mismatches(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| l.status == Match::Mismatch)
            .count()
    }

    fn tolerance_pct(&self) -> Decimal {
        (self.tolerance * Decimal::ONE_HUNDRED).normalize()
    }
}

impl Render for Reconciled<'_> {
    /// CSV keeps every group; people read the groups that can be compared, and usage with no invoice
    /// is only counted.
    fn sheet(&self, format: Format) -> Sheet {
        let report = self.report;
        let mut columns: Vec<Column> = report
            .group_by
            .iter()
            .map(|d| Column::label(d.name()))
            .collect();
        if format == Format::Csv {
            columns.extend(
                [
                    "computed",
                    "invoiced",
                    "difference",
                    "difference_pct",
                    "unpriced_records",
                ]
                .map(Column::number),
            );
            columns.push(Column::text("status"));
            let mut sheet = Sheet::new(columns);
            for l in self.lines {
                let mut cells = l.cells();
                cells.push(Cell::Count(l.unpriced_records));
                cells.push(Cell::plain(l.status.as_str()));
                sheet.push(cells);
            }
            return sheet;
        }
        // The difference in dollars is hidden first on a narrow terminal, then the percentage.
        columns.extend([
            Column::number("computed"),
            Column::number("invoiced"),
            Column::number("difference").droppable(1),
            Column::number("difference %").droppable(2),
            Column::text("status"),
        ]);
        let mut sheet = Sheet::new(columns).titled(format!(
            "Reconciliation {}: computed vs invoiced, tolerance {}%: {} mismatch(es)",
            crate::period::describe(&report.period, report.tz),
            self.tolerance_pct(),
            self.mismatches(),
        ));
        let mut usage_only = 0;
        for l in self.lines {
            if l.status == Match::UsageOnly {
                usage_only += 1;
                continue;
            }
            let status = match l.unpriced_records {
                0 => l.status.as_str().to_string(),
                n => format!("{} ({n} unpriced)", l.status.as_str()),
            };
            let mut cells = l.cells();
            cells.push(Cell::Text(status));
            sheet.push(cells);
        }
        if usage_only > 0 {
            if format == Format::Markdown {
                sheet.note("");
                sheet.note(format!(
                    "{usage_only} group(s) with usage but no invoiced amount are not shown."
                ));
            } else {
                sheet.note(format!(
                    "{usage_only} group(s) with usage but no invoiced amount are not shown (--format json lists them)."
                ));
            }
        }
        sheet
    }

    fn json(&self) -> Value {
        let report = self.report;
        let rows: Vec<Value> = self
            .lines
            .iter()
            .map(|l| {
                let mut m = Map::new();
                for (d, v) in report.group_by.iter().zip(&l.values) {
                    m.insert(d.name(), json!(v));
                }
                m.insert("computed".into(), json!(money_exact(l.computed)));
                m.insert(
                    "invoiced".into(),
                    l.invoiced.map_or(Value::Null, |i| json!(money_exact(i))),
                );
                m.insert(
                    "difference".into(),
                    l.difference()
                        .map_or(Value::Null, |d| json!(money_exact(d))),
                );
                m.insert(
                    "difference_pct".into(),
                    l.difference_percent()
                        .map_or(Value::Null, |d| json!(d.to_string())),
                );
                m.insert("unpriced_records".into(), json!(l.unpriced_records));
                m.insert("status".into(), json!(l.status.as_str()));
                Value::Object(m)
            })
            .collect();
        json!({
            "schema": SCHEMA,
            "currency": report.currency,
            "timezone": report.tz.name(),
            "period": super::render::json::period_value(&report.period, report.tz),
            "group_by": report.group_by.iter().map(|d| d.name()).collect::<Vec<_>>(),
            "tolerance_pct": self.tolerance_pct().to_string(),
            "mismatches": self.mismatches(),
            "rows": rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn row(
        provider: &str,
        cost: Decimal,
        unpriced: u64,
        invoiced: Option<Decimal>,
    ) -> super::super::Row {
        let totals = super::super::Totals {
            cost,
            unpriced_records: unpriced,
            reported_cost: invoiced.unwrap_or_default(),
            reported_records: u64::from(invoiced.is_some()),
            ..Default::default()
        };
        super::super::Row {
            values: vec![provider.to_string()],
            totals,
            previous: None,
        }
    }

    fn statuses(rows: Vec<super::super::Row>, tolerance: Decimal) -> Vec<(String, Match)> {
        let start = chrono::DateTime::<chrono::Utc>::default();
        let report = Report {
            period: crate::period::Period { start, end: start },
            tz: chrono_tz::Tz::UTC,
            previous_period: None,
            group_by: vec![super::super::Dim::Provider],
            rows,
            total: Default::default(),
            total_previous: None,
            unpriced: Vec::new(),
            records_read: 0,
            fallback: None,
            warnings: Vec::new(),
            foreign: Vec::new(),
            currency: "USD",
        };
        reconcile(&report, tolerance)
            .into_iter()
            .map(|l| (l.values[0].clone(), l.status))
            .collect()
    }

    #[test]
    fn each_group_gets_the_status_its_two_sides_call_for() {
        let got = statuses(
            vec![
                // $100 against $101: 1% apart is within a 1% tolerance; $98.99 is not
                row("a", dec!(100), 0, Some(dec!(101))),
                row("b", dec!(98.99), 0, Some(dec!(100))),
                row("c", dec!(101), 0, Some(dec!(100))),
                row("d", dec!(5), 0, None),
                // an invoice and nothing used at all
                row("e", Decimal::ZERO, 0, Some(dec!(3))),
                // an invoice and usage that could not be priced: that is a mismatch to look at
                row("f", Decimal::ZERO, 2, Some(dec!(3))),
                // a negative invoice (a credit) compares by its size
                row("g", dec!(-10), 0, Some(dec!(-10.05))),
            ],
            dec!(0.01),
        );
        let want = [
            ("a", Match::Ok),
            ("b", Match::Mismatch),
            ("c", Match::Ok),
            ("d", Match::UsageOnly),
            ("e", Match::InvoiceOnly),
            ("f", Match::Mismatch),
            ("g", Match::Ok),
        ];
        let want: Vec<(String, Match)> = want.iter().map(|(p, m)| (p.to_string(), *m)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn differences_and_tolerances() {
        let line = Line {
            values: Vec::new(),
            computed: dec!(2.80),
            invoiced: Some(dec!(3.40)),
            status: Match::Mismatch,
            unpriced_records: 0,
        };
        // 2.80 − 3.40 = −0.60; −0.60 / 3.40 = −17.647…% → −17.65
        assert_eq!(line.difference(), Some(dec!(-0.60)));
        assert_eq!(line.difference_percent(), Some(dec!(-17.65)));
        let free = Line {
            invoiced: Some(Decimal::ZERO),
            ..line.clone()
        };
        assert_eq!(free.difference_percent(), None);
        assert_eq!(parse_tolerance("1%"), Some(dec!(0.01)));
        assert_eq!(parse_tolerance(" 0.5% "), Some(dec!(0.005)));
        assert_eq!(parse_tolerance("2"), Some(dec!(0.02)));
        assert_eq!(parse_tolerance("-1%"), None);
        assert_eq!(parse_tolerance("lots"), None);
    }
}
