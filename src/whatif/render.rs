//! Output of `aispend whatif`: table, JSON (`aispend.whatif.v1`), CSV and Markdown. The command's
//! figures are computed before; this only formats them.

use std::io::Write;

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::Scenario;
use crate::report::render::grid::{Column, Grid};
use crate::report::render::json::{period_value, unpriced_value};
use crate::report::render::markdown::cell as md;
use crate::report::render::{count_human, money_exact, money_human, Format, Style};
use crate::report::{change_percent, Report, Totals};
use crate::sanitize::CsvOut;

pub const SCHEMA: &str = "aispend.whatif.v1";

/// A report whose rows carry a scenario cost, and the scenario.
pub struct WhatIf<'a> {
    pub report: &'a Report,
    pub scenario: &'a Scenario,
}

/// The change from the current cost to the scenario's, in percent (one decimal); `None` when nothing is
/// spent now.
pub fn difference_pct(t: &Totals) -> Option<Decimal> {
    change_percent(t.scenario_cost, t.cost)
}

fn signed_money(d: Decimal) -> String {
    if d > Decimal::ZERO {
        format!("+{}", money_human(d))
    } else {
        money_human(d)
    }
}

fn signed_pct(p: Option<Decimal>) -> String {
    match p {
        Some(p) if p > Decimal::ZERO => format!("+{p}%"),
        Some(p) => format!("{p}%"),
        None => "-".into(),
    }
}

const HEADERS: [&str; 5] = ["requests", "cost", "scenario", "difference", "difference %"];

fn human_cells(t: &Totals) -> Vec<String> {
    vec![
        count_human(t.requests),
        money_human(t.cost),
        money_human(t.scenario_cost),
        signed_money(t.scenario_cost - t.cost),
        signed_pct(difference_pct(t)),
    ]
}

impl WhatIf<'_> {
    pub fn render(&self, format: Format, style: Style, out: &mut dyn Write) -> std::io::Result<()> {
        match format {
            Format::Table => self.table(style, out),
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, &self.to_value())
                    .map_err(std::io::Error::from)?;
                writeln!(out)
            }
            Format::Csv => self.csv(out),
            Format::Markdown => self.markdown(out),
        }
    }

    fn title(&self) -> String {
        format!(
            "What if, {}",
            crate::period::describe(&self.report.period, self.report.tz)
        )
    }

    fn table(&self, style: Style, out: &mut dyn Write) -> std::io::Result<()> {
        let r = self.report;
        writeln!(out, "{}", self.title())?;
        for line in self.scenario.assumptions() {
            writeln!(out, "  - {}", crate::sanitize::note(&line))?;
        }
        let mut columns: Vec<Column> = r.group_by.iter().map(|d| Column::label(d.name())).collect();
        columns.extend(HEADERS.iter().map(|h| match *h {
            "requests" => Column::number(*h).droppable(1),
            _ => Column::number(*h),
        }));
        let mut grid = Grid::new(columns);
        for row in &r.rows {
            let mut cells = row.values.clone();
            cells.extend(human_cells(&row.totals));
            grid.push(cells);
        }
        let mut total = vec![String::new(); r.group_by.len()];
        total[0] = "total".into();
        total.extend(human_cells(&r.total));
        grid.push(total);
        grid.total_row = true;
        grid.render(style, out)?;
        self.unpriced_lines(out, crate::sanitize::table_cell)
    }

    fn unpriced_lines(
        &self,
        out: &mut dyn Write,
        cell: impl Fn(&str) -> String,
    ) -> std::io::Result<()> {
        if self.report.unpriced.is_empty() {
            return Ok(());
        }
        writeln!(
            out,
            "\nUnpriced now or under the scenario (in neither total, never counted as $0):"
        )?;
        for u in &self.report.unpriced {
            let t = &u.totals;
            writeln!(
                out,
                "  - {} ({}): {} requests, {} input / {} output tokens – {}",
                cell(&u.model),
                u.provider,
                count_human(t.requests),
                count_human(t.input_tokens + t.cache_read_tokens + t.cache_write_tokens),
                count_human(t.output_tokens),
                cell(&u.reason)
            )?;
        }
        Ok(())
    }

    fn markdown(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let r = self.report;
        writeln!(out, "### {}\n", self.title())?;
        for line in self.scenario.assumptions() {
            writeln!(out, "- {}", md(&line))?;
        }
        writeln!(out)?;
        let mut header: Vec<String> = r.group_by.iter().map(|d| d.name()).collect();
        header.extend(HEADERS.iter().map(|h| h.to_string()));
        writeln!(out, "| {} |", header.join(" | "))?;
        let align: Vec<&str> = (0..header.len())
            .map(|i| if i < r.group_by.len() { "---" } else { "---:" })
            .collect();
        writeln!(out, "| {} |", align.join(" | "))?;
        for row in &r.rows {
            let mut cells: Vec<String> = row.values.iter().map(|v| md(v)).collect();
            cells.extend(human_cells(&row.totals));
            writeln!(out, "| {} |", cells.join(" | "))?;
        }
        let mut cells = vec![String::new(); r.group_by.len()];
        cells[0] = "**total**".into();
        cells.extend(human_cells(&r.total));
        writeln!(out, "| {} |", cells.join(" | "))?;
        self.unpriced_lines(out, md)
    }

    fn csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let r = self.report;
        let mut w = CsvOut::new(out);
        let mut header: Vec<String> = r.group_by.iter().map(|d| d.name()).collect();
        header.extend(
            [
                "requests",
                "cost",
                "scenario_cost",
                "difference",
                "difference_pct",
            ]
            .map(String::from),
        );
        w.row(&header)?;
        for row in &r.rows {
            let t = &row.totals;
            let mut fields = row.values.clone();
            fields.extend([
                t.requests.to_string(),
                money_exact(t.cost),
                money_exact(t.scenario_cost),
                money_exact(t.scenario_cost - t.cost),
                difference_pct(t).map(|p| p.to_string()).unwrap_or_default(),
            ]);
            w.row(&fields)?;
        }
        w.flush()
    }

    fn totals_value(t: &Totals, map: &mut Map<String, Value>) {
        map.insert("requests".into(), json!(t.requests));
        map.insert("input_tokens".into(), json!(t.input_tokens));
        map.insert("cache_read_tokens".into(), json!(t.cache_read_tokens));
        map.insert("cache_write_tokens".into(), json!(t.cache_write_tokens));
        map.insert("output_tokens".into(), json!(t.output_tokens));
        map.insert("cost".into(), json!(money_exact(t.cost)));
        map.insert("scenario_cost".into(), json!(money_exact(t.scenario_cost)));
        map.insert(
            "difference".into(),
            json!(money_exact(t.scenario_cost - t.cost)),
        );
        map.insert(
            "difference_pct".into(),
            difference_pct(t).map_or(Value::Null, |p| json!(p.to_string())),
        );
    }

    pub fn to_value(&self) -> Value {
        let r = self.report;
        let rows: Vec<Value> = r
            .rows
            .iter()
            .map(|row| {
                let mut map = Map::new();
                for (dim, value) in r.group_by.iter().zip(&row.values) {
                    map.insert(dim.name(), json!(value));
                }
                Self::totals_value(&row.totals, &mut map);
                Value::Object(map)
            })
            .collect();
        let mut total = Map::new();
        Self::totals_value(&r.total, &mut total);
        json!({
            "schema": SCHEMA,
            "currency": r.currency,
            "timezone": r.tz.name(),
            "period": period_value(&r.period, r.tz),
            "group_by": r.group_by.iter().map(|d| d.name()).collect::<Vec<_>>(),
            "scenario": scenario_value(self.scenario),
            "rows": rows,
            "total": total,
            "unpriced": unpriced_value(&r.unpriced),
        })
    }
}

/// Every assumption of a scenario, as fields and as sentences.
pub fn scenario_value(s: &Scenario) -> Value {
    json!({
        "swaps": s.swaps.iter().map(|w| json!({"from": w.from, "to": w.to})).collect::<Vec<_>>(),
        "token_ratio": s.token_ratio.map(|r| r.normalize().to_string()),
        "on": s.on.map(|p| p.as_str()),
        "region": s.region,
        "tier": s.tier.map(|t| t.as_str()),
        "cache_hit": s.cache_hit.map(|h| h.normalize().to_string()),
        "cache_ttl": s.cache_ttl.map(|t| t.as_str()),
        "pricing": s.prices.as_ref().map(|p| p.label.clone()),
        "self_hosted": s.self_hosted.iter().map(|h| json!({
            "model": h.model,
            "gpu_hour": money_exact(h.gpu_hour),
            "tokens_per_second": h.tokens_per_second.normalize().to_string(),
            "utilization": h.utilization.normalize().to_string(),
        })).collect::<Vec<_>>(),
        "assumptions": s.assumptions(),
    })
}
