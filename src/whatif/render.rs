//! Output of `aispend whatif`: table, JSON (`aispend.whatif.v1`), CSV and Markdown. The command's
//! figures are computed before; this only formats them.

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::Scenario;
use crate::output::{markdown, money_exact, table, Cell, Column, Format, Render, Sheet};
use crate::report::render::json::{period_value, unpriced_value};
use crate::report::render::unpriced_note;
use crate::report::{change_percent, Report, Totals};

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

/// Requests, cost now, under the scenario, and the difference in money and percent.
fn cells(t: &Totals) -> [Cell; 5] {
    [
        Cell::Count(t.requests),
        Cell::Money(t.cost),
        Cell::Money(t.scenario_cost),
        Cell::Change(t.scenario_cost - t.cost),
        difference_pct(t).map_or(Cell::Missing, |p| Cell::ChangePct(Some(p))),
    ]
}

impl Render for WhatIf<'_> {
    fn sheet(&self, format: Format) -> Sheet {
        let r = self.report;
        let markdown = format == Format::Markdown;
        let mut columns: Vec<Column> = r.group_by.iter().map(|d| Column::label(d.name())).collect();
        if format == Format::Csv {
            columns.extend(
                [
                    "requests",
                    "cost",
                    "scenario_cost",
                    "difference",
                    "difference_pct",
                ]
                .map(Column::number),
            );
            let mut sheet = Sheet::new(columns);
            for row in &r.rows {
                let mut fields: Vec<Cell> = row.values.iter().cloned().map(Cell::Text).collect();
                fields.extend(cells(&row.totals));
                sheet.push(fields);
            }
            return sheet;
        }
        columns.extend(
            ["requests", "cost", "scenario", "difference", "difference %"].map(|h| match h {
                "requests" => Column::number(h).droppable(1),
                _ => Column::number(h),
            }),
        );
        let mut sheet = Sheet::new(columns).titled(format!(
            "What if, {}",
            crate::period::describe(&r.period, r.tz)
        ));
        for line in self.scenario.assumptions() {
            sheet.intro.push(if markdown {
                format!("- {}", markdown::escape(&line))
            } else {
                format!("  - {}", crate::sanitize::note(&line))
            });
        }
        if markdown {
            sheet.intro.push(String::new());
        }
        for row in &r.rows {
            let mut fields: Vec<Cell> = row.values.iter().cloned().map(Cell::Text).collect();
            fields.extend(cells(&row.totals));
            sheet.push(fields);
        }
        let mut total: Vec<Cell> = (0..r.group_by.len())
            .map(|i| match i {
                0 if markdown => Cell::plain("**total**"),
                0 => Cell::plain("total"),
                _ => Cell::plain(""),
            })
            .collect();
        total.extend(cells(&r.total));
        sheet.push(total);
        sheet.total_row = true;
        let escape = if markdown {
            markdown::escape
        } else {
            table::escape
        };
        if !r.unpriced.is_empty() {
            sheet.note("");
            sheet.note(
                "Unpriced now or under the scenario (in neither total, never counted as $0):",
            );
            for u in &r.unpriced {
                sheet.note(unpriced_note(u, "  - ", escape));
            }
        }
        sheet
    }

    fn json(&self) -> Value {
        self.to_value()
    }
}

impl WhatIf<'_> {
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
        "trim_context": s.trim_context.map(|m| m.normalize().to_string()),
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
