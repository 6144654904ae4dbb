//! A report as JSON, schema `aispend.report.v1` (written by `crate::output::json`). Money is a decimal string.

use serde_json::{json, Map, Value};

use super::{counts, COUNT_FIELDS};
use crate::output::money_exact;
use crate::report::{change_percent, Report, Totals, UnpricedRow};

pub const SCHEMA: &str = "aispend.report.v1";

fn totals_fields(t: &Totals, map: &mut Map<String, Value>) {
    for (name, n) in COUNT_FIELDS.iter().zip(counts(t)) {
        map.insert((*name).to_string(), json!(n));
    }
    map.insert("failed_requests".into(), json!(t.failed_requests));
    map.insert("cost".into(), json!(money_exact(t.cost)));
    // Built-in tool calls and the part of `cost` that is their per-call fees.
    map.insert("tool_calls".into(), json!(t.tool_calls));
    map.insert("tool_fees".into(), json!(money_exact(t.tool_fees)));
    // `table`, `litellm` or `table+litellm`: where the cost came from (`--pricing-fallback`).
    map.insert("price_source".into(), json!(t.price_source()));
    if t.fallback_records > 0 {
        map.insert("fallback_cost".into(), json!(money_exact(t.fallback_cost)));
        map.insert("fallback_records".into(), json!(t.fallback_records));
    }
    map.insert(
        "reported_cost".into(),
        t.reported().map_or(Value::Null, |c| json!(money_exact(c))),
    );
}

/// `previous_cost`, `change`, `change_pct` (null when nothing was spent before) for `--compare`.
fn change_fields(now: &Totals, previous: Option<&Totals>, map: &mut Map<String, Value>) {
    if let Some(p) = previous {
        map.insert("previous_cost".into(), json!(money_exact(p.cost)));
        map.insert("change".into(), json!(money_exact(now.cost - p.cost)));
        map.insert(
            "change_pct".into(),
            change_percent(now.cost, p.cost).map_or(Value::Null, |c| json!(c.to_string())),
        );
    }
}

pub fn to_value(report: &Report) -> Value {
    let rows: Vec<Value> = report
        .rows
        .iter()
        .map(|row| {
            let mut map = Map::new();
            for (dim, value) in report.group_by.iter().zip(&row.values) {
                map.insert(dim.name(), json!(value));
            }
            totals_fields(&row.totals, &mut map);
            change_fields(&row.totals, row.previous.as_ref(), &mut map);
            Value::Object(map)
        })
        .collect();
    let mut total = Map::new();
    totals_fields(&report.total, &mut total);
    change_fields(&report.total, report.total_previous.as_ref(), &mut total);
    let unpriced = unpriced_value(&report.unpriced);
    let mut doc = json!({
        "schema": SCHEMA,
        "currency": report.currency,
        "timezone": report.tz.name(),
        "period": period_value(&report.period, report.tz),
        "group_by": report.group_by.iter().map(|d| d.name()).collect::<Vec<_>>(),
        "rows": rows,
        "total": total,
        "unpriced": unpriced,
    });
    if let Some(p) = &report.previous_period {
        doc["previous_period"] = period_value(p, report.tz);
    }
    if let Some(label) = &report.fallback {
        doc["price_fallback"] = json!(label);
    }
    doc
}

/// `{"start": …, "end": …}` in RFC 3339: UTC (`Z`), or with the offset of `--timezone`.
pub fn period_value(p: &crate::period::Period, tz: chrono_tz::Tz) -> Value {
    use crate::period::rfc3339_in;
    json!({ "start": rfc3339_in(p.start, tz), "end": rfc3339_in(p.end, tz) })
}

/// The `unpriced` array: records that could not be priced, per provider, model and reason.
pub fn unpriced_value(unpriced: &[UnpricedRow]) -> Value {
    let rows: Vec<Value> = unpriced
        .iter()
        .map(|u| {
            let t = &u.totals;
            json!({
                "provider": u.provider, "model": u.model, "reason": u.reason, "requests": t.requests,
                "input_tokens": t.input_tokens, "cache_read_tokens": t.cache_read_tokens,
                "cache_write_tokens": t.cache_write_tokens, "output_tokens": t.output_tokens,
                "tool_calls": t.tool_calls,
                "reported_cost": t.reported().map_or(Value::Null, |c| json!(money_exact(c))),
            })
        })
        .collect();
    Value::Array(rows)
}
