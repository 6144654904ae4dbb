//! `aispend pricing diff --litellm FILE`: our price tables beside LiteLLM's public price map, rate by
//! rate, for the entries both know. LiteLLM writes rates per token as JSON floats; they are read from
//! their text as exact decimals and scaled to per million tokens.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use chrono::Utc;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::decimal::JsonDecimal;
use crate::error::{Error, RecordError, Result};
use crate::output::{self, money_exact, Cell, Column, Sheet, Style};
use crate::pricing::{PriceBook, RateClass};
use crate::record::{Provenance, Provider, Text, UsageRecord};

/// The fields of a LiteLLM entry we compare.
#[derive(Deserialize)]
struct Entry {
    litellm_provider: Option<String>,
    mode: Option<String>,
    input_cost_per_token: Option<JsonDecimal>,
    output_cost_per_token: Option<JsonDecimal>,
    cache_read_input_token_cost: Option<JsonDecimal>,
    cache_creation_input_token_cost: Option<JsonDecimal>,
    cache_creation_input_token_cost_above_1hr: Option<JsonDecimal>,
}

use crate::pricing::litellm::provider_of;

/// One rate that differs.
struct Difference {
    provider: Provider,
    ours: String,
    key: String,
    class: RateClass,
    our_rate: Option<Decimal>,
    their_rate: Decimal,
}

/// Our rate per million tokens for a request to `key` (so Bedrock profile prefixes and regional rules
/// apply as they would to a real record): the engine's price of 1,000 tokens of the class, × 1,000.
fn our_rate(
    book: &PriceBook,
    index: usize,
    provider: Provider,
    key: &str,
    class: RateClass,
) -> Option<Decimal> {
    let at = Provenance {
        file: "pricing diff".into(),
        line: 0,
    };
    let mut r = UsageRecord::new(
        Text::default(),
        "pricing-diff",
        provider,
        Text::from(key),
        Utc::now(),
        at,
    );
    let t = &mut r.tokens;
    match class {
        RateClass::Input => t.input = 1_000,
        RateClass::Output => t.output = 1_000,
        RateClass::CacheRead => t.cache_read = 1_000,
        RateClass::CacheWrite5m => t.cache_write_5m = 1_000,
        RateClass::CacheWrite1h => t.cache_write_1h = 1_000,
        _ => return None,
    }
    book.price(index, &r)
        .ok()
        .map(|c| (c * Decimal::from(1_000)).normalize())
}

pub fn run(
    book: &PriceBook,
    file: &Path,
    only: Option<Provider>,
    format: super::ListFormat,
    style: Style,
    out: &mut dyn Write,
) -> Result<i32> {
    let text = crate::pricing::litellm::read_map_file(file)?;
    let name = file.display().to_string();
    let entries: BTreeMap<String, Box<RawValue>> =
        serde_json::from_slice(&text).map_err(|e| Error::Input {
            file: name.clone(),
            record: RecordError::new(e.line() as u64, format!("not a LiteLLM price map: {e}")),
        })?;
    let million = Decimal::from(1_000_000);
    let today = Utc::now().date_naive();
    let (mut compared, mut unknown, mut skipped) = (BTreeSet::new(), Vec::new(), 0usize);
    let mut differences = Vec::new();
    let mut seen = BTreeSet::new();
    for (key, raw) in &entries {
        let Ok(entry) = serde_json::from_str::<Entry>(raw.get()) else {
            continue;
        };
        let Some(provider) = entry.litellm_provider.as_deref().and_then(provider_of) else {
            continue;
        };
        if only.is_some_and(|p| p != provider) || entry.mode.as_deref().is_some_and(|m| m != "chat")
        {
            continue;
        }
        // Region- and deployment-specific keys (`bedrock/us-east-1/…`, `azure/eu/…`) price a variant we
        // keep as a regional rule, not as a model: skip them rather than report false differences.
        if matches!(provider, Provider::Bedrock | Provider::Azure) && key.matches('/').count() >= 2
        {
            skipped += 1;
            continue;
        }
        let Some(m) = book.resolve_for(provider, key) else {
            unknown.push(format!("{}: {key}", provider.as_str()));
            continue;
        };
        let model = book.model(m.index);
        compared.insert((model.provider.clone(), model.id.clone()));
        let theirs = [
            (RateClass::Input, &entry.input_cost_per_token),
            (RateClass::Output, &entry.output_cost_per_token),
            (RateClass::CacheRead, &entry.cache_read_input_token_cost),
            (
                RateClass::CacheWrite5m,
                &entry.cache_creation_input_token_cost,
            ),
            (
                RateClass::CacheWrite1h,
                &entry.cache_creation_input_token_cost_above_1hr,
            ),
        ];
        for (class, value) in theirs {
            let Some(JsonDecimal(per_token)) = value else {
                continue;
            };
            let their_rate = (*per_token * million).normalize();
            let our_rate = our_rate(book, m.index, provider, key, class);
            if our_rate.map(|r| r.normalize()) == Some(their_rate) {
                continue;
            }
            if seen.insert((
                model.provider.clone(),
                model.id.clone(),
                class.key(),
                their_rate.to_string(),
            )) {
                differences.push(Difference {
                    provider,
                    ours: model.id.clone(),
                    key: key.clone(),
                    class,
                    our_rate,
                    their_rate,
                });
            }
        }
    }
    if format == super::ListFormat::Json {
        let rows: Vec<serde_json::Value> = differences
            .iter()
            .map(|d| {
                serde_json::json!({
                    "provider": d.provider.as_str(), "model": d.ours, "litellm_key": d.key, "rate": d.class.key(),
                    "ours": d.our_rate.map(money_exact), "litellm": money_exact(d.their_rate),
                })
            })
            .collect();
        let doc = serde_json::json!({
            "schema": "aispend.pricing-diff.v1", "unit": "USD per 1M tokens", "as_of": today.to_string(),
            "models_compared": compared.len(), "differences": rows, "not_in_our_tables": unknown,
            "skipped_regional_keys": skipped,
        });
        output::json::write(&doc, out)?;
        return Ok(0);
    }
    let columns = [
        "provider",
        "model",
        "litellm key",
        "rate",
        "ours",
        "litellm",
    ];
    let mut sheet = Sheet::new(columns.map(Column::text).to_vec()).titled(format!(
        "Our rates in force today ({today}) against {name}, USD per million tokens: {} models compared, \
         {} rates differ. pricing/NOTES.md says which differences are deliberate.",
        compared.len(),
        differences.len()
    ));
    sheet.omit_if_empty = true;
    for d in &differences {
        sheet.push(vec![
            Cell::plain(d.provider.as_str()),
            Cell::text(&d.ours),
            Cell::text(&d.key),
            Cell::plain(d.class.key()),
            d.our_rate.map_or(Cell::Missing, Cell::Exact),
            Cell::Exact(d.their_rate),
        ]);
    }
    sheet.note(format!(
        "{} LiteLLM chat entries have no entry in our tables{}; {skipped} region-specific keys were skipped.",
        unknown.len(),
        if unknown.is_empty() { "" } else { " (listed with --format json)" }
    ));
    output::table::write(&sheet, style, out)?;
    Ok(0)
}
