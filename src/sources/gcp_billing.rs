//! `gcp-billing`: Google Cloud Billing export rows (the BigQuery "standard usage cost" export, saved as CSV,
//! as JSON Lines, or as a JSON array of rows). Nested columns may come flattened with dots
//! (`service.description`, BigQuery's own CSV) or underscores (`service_description`, a query's aliases);
//! both are read. In JSON the nested objects are read as they are.
//!
//! Only rows of AI services are kept (`service.description` "Vertex AI", "Gemini API", "Generative Language
//! API", or naming Claude/Anthropic); rows of other services are skipped, silently (they are not errors).
//! One record per kept row:
//! - model = the model the SKU names (`Gemini 2.5 Pro Input Tokens` → `gemini-2.5-pro`,
//!   `Claude Sonnet 4.5 Output Tokens` → `claude-sonnet-4.5`), else `unknown`; the SKU is tag `sku`,
//!   the service tag `service`;
//! - start / end = `usage_start_time` / `usage_end_time`; project = `project.id`; billing account =
//!   `billing_account_id`; `labels` (a
//!   `[{key,value}]` list or a `{key: value}` object; in CSV a JSON text) are tags, and the `team` /
//!   `project` labels set those dimensions; `location.region` (or `location.location`) is the region;
//! - reported cost = NET: `cost` + Σ `credits[].amount` (credits are negative), exact from their text, in
//!   `currency`; the gross `cost` is kept as tag `gcp_cost` and the credit sum as tag `gcp_credits`;
//! - tokens: when `usage.unit` counts tokens (or is `count` for a SKU that says "tokens") and the SKU says
//!   input / output: `usage.amount` goes to input, output ("thinking"/"reasoning" output also to reasoning),
//!   or cache read ("cached" input); other rows (storage, characters, images) keep zero tokens; a SKU that
//!   says "batch" is a batch row, "long context" / "> 200k" a long-context row;
//! - requests = 0 (the export does not count them); `invoice.month` and `cost_type` are tags.
//!
//! A row has no id of its own: the id hashes the row's identifying fields (billing account, service, SKU,
//! usage window, project, labels, location, resource, cost type, invoice month), `KeepLargest`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::shared::common;
use super::{Emit, Reader, Source, StreamParser};
use crate::decimal::parse_number_cell;
use crate::decimal::JsonDecimal;
use crate::error::RecordError;
use crate::record::{
    content_id, out_of_range, DedupPolicy, Provenance, Provider, Text, UsageRecord,
};
use crate::timestamp::Timestamp;
use compact_str::ToCompactString;

/// Reads Google Cloud Billing export rows.
pub struct GcpBilling;

const NAME: &str = "gcp-billing";

impl Source for GcpBilling {
    fn name(&self) -> &'static str {
        NAME
    }

    fn reads(&self) -> &'static str {
        "Google Cloud Billing export rows (BigQuery standard export as CSV, JSON Lines or a JSON array); \
         Vertex AI / Gemini API rows only"
    }

    fn detected_by(&self) -> &'static str {
        "CSV header or JSON with service.description (or service_description), sku.description and \
         usage_start_time"
    }

    fn detect(&self, _path: &Path, head: &[u8]) -> bool {
        if common::looks_like_json(head) {
            return common::has_key(head, "usage_start_time")
                && (common::has_key(head, "sku")
                    || common::has_key(head, "sku.description")
                    || common::has_key(head, "sku_description"));
        }
        let Some(header) = common::csv_header(head) else {
            return false;
        };
        let cols: Vec<String> = header.iter().map(|c| common::column_key(c)).collect();
        ["service_description", "sku_description", "usage_start_time"]
            .iter()
            .all(|k| cols.iter().any(|c| c == k))
    }

    fn reader(&self, _head: &[u8]) -> Reader<'_> {
        Reader::Stream(self)
    }
}

impl StreamParser for GcpBilling {
    fn parse_stream(
        &self,
        reader: &mut dyn std::io::Read,
        file: &Arc<str>,
        emit: &mut Emit<'_>,
    ) -> Result<(), RecordError> {
        let mut reader = std::io::BufReader::with_capacity(256 * 1024, reader);
        let head = std::io::BufRead::fill_buf(&mut reader)
            .map_err(|e| RecordError::new(1, format!("cannot read: {e}")))?;
        if common::looks_like_json(head) {
            let mut ids = common::RowIds::default();
            return common::for_each_json_value(&mut reader, &mut |value, line| {
                let at = Provenance {
                    file: file.clone(),
                    line,
                };
                let row = match json_row(value, line) {
                    Ok(row) => row,
                    Err(e) => return emit(Err(e)),
                };
                match ids.number(read_row(&row, &at)) {
                    Ok(Some(r)) => emit(Ok(r)),
                    Ok(None) => true,
                    Err(e) => emit(Err(e)),
                }
            });
        }
        read_csv(&mut reader, file, emit)
    }
}

/// One billing row, flattened: column key (see [`common::column_key`]) → text. Arrays (`labels`,
/// `credits`) stay JSON text.
type Row = HashMap<String, String>;

fn read_csv(
    reader: &mut dyn std::io::Read,
    file: &Arc<str>,
    emit: &mut Emit<'_>,
) -> Result<(), RecordError> {
    let mut csv = common::csv_reader(reader)?;
    let header: Vec<String> = csv
        .headers()
        .map_err(|e| RecordError::new(1, format!("not a CSV header: {e}")))?
        .iter()
        .map(common::column_key)
        .collect();
    for key in [
        "service_description",
        "sku_description",
        "usage_start_time",
        "cost",
    ] {
        if !header.iter().any(|h| h == key) {
            return Err(RecordError::new(
                1,
                format!("the header has no `{key}` column (BigQuery billing export expected)"),
            ));
        }
    }
    let mut ids = common::RowIds::default();
    common::for_each_csv_row(&mut csv, emit, |record, line| {
        let row: Row = header
            .iter()
            .zip(record.iter())
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k.clone(), v.trim().to_string()))
            .collect();
        let at = Provenance {
            file: file.clone(),
            line,
        };
        ids.number(read_row(&row, &at))
    })
}

/// Flattens a JSON row: nested objects join their keys with `_`; strings are unquoted; numbers keep
/// their exact text; arrays stay JSON text; nulls are dropped.
fn json_row(value: &[u8], line: u64) -> Result<Row, RecordError> {
    let top: BTreeMap<String, &RawValue> = common::parse_json_bytes_at(value, line)?;
    let mut row = Row::new();
    flatten("", top, &mut row, line)?;
    Ok(row)
}

fn flatten(
    prefix: &str,
    object: BTreeMap<String, &RawValue>,
    row: &mut Row,
    line: u64,
) -> Result<(), RecordError> {
    for (key, raw) in object {
        let key = if prefix.is_empty() {
            common::column_key(&key)
        } else {
            format!("{prefix}_{}", common::column_key(&key))
        };
        let text = raw.get().trim();
        match text.as_bytes().first() {
            Some(b'{') => {
                let inner: BTreeMap<String, &RawValue> = common::parse_json_at(text, &key, line)?;
                flatten(&key, inner, row, line)?;
            }
            Some(b'"') => {
                let s: String = common::parse_json_at(text, &key, line)?;
                if !s.trim().is_empty() {
                    row.insert(key, s.trim().to_string());
                }
            }
            _ if text == "null" => {}
            _ => {
                row.insert(key, text.to_string());
            }
        }
    }
    Ok(())
}

/// Services whose rows are AI usage.
fn is_ai_service(description: &str) -> bool {
    let d = description.to_ascii_lowercase();
    [
        "vertex ai",
        "gemini",
        "generative language",
        "claude",
        "anthropic",
    ]
    .iter()
    .any(|s| d.contains(s))
}

#[derive(Deserialize)]
struct Credit {
    amount: JsonDecimal,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Labels {
    List(Vec<Label>),
    Map(BTreeMap<String, Option<String>>),
}

#[derive(Deserialize)]
struct Label {
    key: String,
    value: Option<String>,
}

fn get<'r>(row: &'r Row, key: &str) -> Option<&'r str> {
    row.get(key).map(String::as_str)
}

fn decimal(row: &Row, key: &str, field: &str, line: u64) -> Result<Option<Decimal>, RecordError> {
    match get(row, key) {
        None => Ok(None),
        Some(text) => parse_number_cell(text.trim_matches('"'))
            .map(Some)
            .ok_or_else(|| {
                RecordError::field(line, field, format!("not a decimal number: {text:?}"))
            }),
    }
}

fn time(row: &Row, key: &str, field: &str, line: u64) -> Result<Option<Timestamp>, RecordError> {
    let Some(text) = get(row, key) else {
        return Ok(None);
    };
    // BigQuery writes `2026-10-01 07:00:00 UTC`, `…+00` or RFC 3339.
    let fixed;
    let text = match text.strip_suffix("+00") {
        Some(t) => {
            fixed = format!("{t}+00:00");
            fixed.as_str()
        }
        None => text,
    };
    Timestamp::parse_str(text)
        .map(Some)
        .ok_or_else(|| RecordError::field(line, field, format!("not a valid time: {text:?}")))
}

/// Parses one row; `None` for rows of non-AI services.
fn read_row(row: &Row, at: &Provenance) -> Result<Option<UsageRecord>, RecordError> {
    let line = at.line;
    let service = get(row, "service_description").ok_or_else(|| {
        RecordError::field(
            line,
            "service.description",
            "missing: every billing row names its service",
        )
    })?;
    if !is_ai_service(service) {
        return Ok(None);
    }
    let sku = get(row, "sku_description").unwrap_or_default();
    let start = time(row, "usage_start_time", "usage_start_time", line)?
        .ok_or_else(|| RecordError::field(line, "usage_start_time", "missing"))?;
    let end = time(row, "usage_end_time", "usage_end_time", line)?;
    let cost = decimal(row, "cost", "cost", line)?
        .ok_or_else(|| RecordError::field(line, "cost", "missing"))?;
    let mut credits = Decimal::ZERO;
    if let Some(text) = get(row, "credits") {
        let list: Vec<Credit> = common::parse_json_at(text, "credits", line)?;
        credits = list
            .iter()
            .try_fold(Decimal::ZERO, |sum, c| sum.checked_add(c.amount.0))
            .ok_or_else(|| out_of_range(line, "credits", "the sum of the credits overflows"))?;
    } else if let Some(sum) = decimal(row, "credits_amount", "credits.amount", line)? {
        credits = sum;
    }
    let model = model_of_sku(sku).map_or_else(|| "unknown".into(), Text::from);
    // The id: what identifies a billing row (not its amounts, which a later export may correct).
    let mut key = String::new();
    for k in [
        "billing_account_id",
        "service_id",
        "service_description",
        "sku_id",
        "sku_description",
        "usage_start_time",
        "usage_end_time",
        "project_id",
        "labels",
        "system_labels",
        "location_location",
        "location_region",
        "resource_name",
        "resource_global_name",
        "cost_type",
        "invoice_month",
    ] {
        key.push_str(get(row, k).unwrap_or_default());
        key.push('\u{1f}');
    }
    let mut r = UsageRecord::new(
        content_id(NAME, key.as_bytes()),
        NAME,
        Provider::Google,
        model,
        start.0,
        at.clone(),
    );
    r.dedup = DedupPolicy::KeepLargest;
    r.end = end.map(|t| t.0);
    r.requests = 0;
    // A row sums many requests: never the long-context rate unless the SKU says so.
    let sku_lower = sku.to_ascii_lowercase();
    r.long_context = Some(
        sku_lower.contains("long context")
            || sku_lower.contains("long input")
            || sku_lower.contains("long output")
            || sku_lower.contains("long text")
            || sku_lower.contains("long audio")
            || sku_lower.contains("long cached")
            || sku_lower.contains("> 200k")
            || sku_lower.contains(">200k")
            || sku_lower.contains("above 200k"),
    );
    r.batch = sku_lower.contains("batch");
    r.reported_cost = Some(
        cost.checked_add(credits)
            .ok_or_else(|| out_of_range(line, "cost", "cost plus credits overflows"))?,
    );
    r.reported_currency = get(row, "currency").map(|c| Text::from(c).to_ascii_uppercase());
    r.tags
        .insert("gcp_cost".into(), cost.normalize().to_compact_string());
    if !credits.is_zero() {
        r.tags.insert(
            "gcp_credits".into(),
            credits.normalize().to_compact_string(),
        );
    }
    r.tags.insert("service".into(), service.into());
    if !sku.is_empty() {
        r.tags.insert("sku".into(), sku.into());
    }
    for (k, tag) in [
        ("invoice_month", "invoice_month"),
        ("cost_type", "cost_type"),
    ] {
        if let Some(v) = get(row, k) {
            r.tags.insert(tag.into(), v.into());
        }
    }
    r.project = get(row, "project_id").map(Text::from);
    r.billing_account = get(row, "billing_account_id").map(Text::from);
    r.region = get(row, "location_region")
        .or_else(|| get(row, "location_location"))
        .map(|l| Text::from(l).to_ascii_lowercase());
    if let Some(text) = get(row, "labels") {
        let labels: Labels = common::parse_json_at(text, "labels", line)?;
        let pairs: Vec<(String, String)> = match labels {
            Labels::List(l) => l
                .into_iter()
                .filter_map(|l| l.value.map(|v| (l.key, v)))
                .collect(),
            Labels::Map(m) => m
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect(),
        };
        for (k, v) in pairs {
            let v = Text::from(v);
            match k.as_str() {
                "team" => r.team = Some(v.clone()),
                "project" => r.project = Some(v.clone()),
                _ => {}
            }
            r.tags.insert(k.into(), v);
        }
    }
    // Tokens, when the row counts them and the SKU says which class.
    if let Some(n) = token_count(row, &sku_lower, line)? {
        match sku_class(&sku_lower) {
            Some(SkuClass::Output) => {
                r.tokens.output = n;
                if sku_lower.contains("thinking") || sku_lower.contains("reasoning") {
                    r.tokens.reasoning = n;
                }
            }
            Some(SkuClass::CacheRead) => r.tokens.cache_read = n,
            Some(SkuClass::AudioInput) => r.tokens.audio_input = n,
            Some(SkuClass::Input) => r.tokens.input = n,
            None => {}
        }
    }
    if let Some(class) = sku_class(&sku_lower) {
        r.tags.insert(
            "sku_class".into(),
            class.name(r.long_context == Some(true)).into(),
        );
    }
    // Grounding with Google Search: billed per grounded prompt (Gemini 2.x) or per search query (Gemini
    // 3), counted in the row's usage, priced from the `[[tool]]` fees of google.toml like an API response's.
    if sku_lower.contains("grounding") {
        if let Some(n) = call_count(row, line)? {
            if sku_lower.contains("quer") {
                r.tokens.web_search_requests = n;
            } else {
                r.tokens.grounded_prompts = n;
            }
        }
    }
    Ok(Some(r))
}

/// The calls a per-request row counts: `usage.amount` in a unit of requests (`requests`, `count`,
/// `1000 requests`, `queries`, `prompts`). `None` when the unit counts something else.
fn call_count(row: &Row, line: u64) -> Result<Option<u64>, RecordError> {
    let Some(unit) = get(row, "usage_unit") else {
        return Ok(None);
    };
    let unit = unit.trim().to_ascii_lowercase().replace(',', "");
    let digits = unit
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(unit.len());
    let factor: u64 = match &unit[..digits] {
        "" => 1,
        n => match n.parse() {
            Ok(n) => n,
            Err(_) => return Ok(None),
        },
    };
    let calls = [
        "count", "counts", "request", "requests", "query", "queries", "prompt", "prompts",
    ];
    let words: Vec<&str> = unit[digits..].split_whitespace().collect();
    if words.is_empty() || !words.iter().all(|w| calls.contains(w) || *w == "grounded") {
        return Ok(None);
    }
    let Some(amount) = decimal(row, "usage_amount", "usage.amount", line)? else {
        return Ok(None);
    };
    match amount
        .checked_mul(Decimal::from(factor))
        .filter(|n| !n.is_sign_negative() && n.fract().is_zero())
        .and_then(|n| n.to_u64())
    {
        Some(n) => Ok(Some(n)),
        None => Err(RecordError::field(
            line,
            "usage.amount",
            format!("not a whole number of calls: {amount} × {factor} ({unit})"),
        )),
    }
}

/// What a token SKU charges for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SkuClass {
    Input,
    AudioInput,
    CacheRead,
    Output,
}

impl SkuClass {
    /// The `sku_class` tag: `input`, `audio input`, `cached input`, `output`, with ` (long context)`.
    fn name(self, long: bool) -> String {
        let base = match self {
            SkuClass::Input => "input",
            SkuClass::AudioInput => "audio input",
            SkuClass::CacheRead => "cached input",
            SkuClass::Output => "output",
        };
        if long {
            format!("{base} (long context)")
        } else {
            base.to_string()
        }
    }
}

/// The class a SKU description names (lower case): output; cached input (`Cached`, `Cache … Input`, but not
/// cache storage); audio input; input. `None` for anything else (storage, tuning, grounding requests).
fn sku_class(sku: &str) -> Option<SkuClass> {
    if sku.contains("storage") {
        return None;
    }
    if sku.contains("output") {
        Some(SkuClass::Output)
    } else if sku.contains("cached") || (sku.contains("cache") && sku.contains("input")) {
        Some(SkuClass::CacheRead)
    } else if sku.contains("input") && sku.contains("audio") {
        Some(SkuClass::AudioInput)
    } else if sku.contains("input") {
        Some(SkuClass::Input)
    } else {
        None
    }
}

/// How many tokens one unit of a usage unit is: `count`, `tokens`, `token count` → 1; `1000 count`, `1k
/// tokens`, `thousand tokens` → 1,000; `1000000 count`, `1M tokens`, `1 million tokens`, `mtok` → 10^6.
/// `None` for a unit that does not count tokens (`characters`, `seconds`, `token-hours` of cache storage).
fn token_unit(unit: &str) -> Option<u64> {
    let unit = unit.trim().to_ascii_lowercase().replace(',', "");
    let (number, rest) = match unit.find(|c: char| !c.is_ascii_digit()) {
        Some(0) => ("", unit.as_str()),
        Some(i) => unit.split_at(i),
        None => return None,
    };
    let mut factor: u64 = if number.is_empty() {
        1
    } else {
        number.parse().ok()?
    };
    let words: Vec<&str> = rest.split_whitespace().collect();
    let mut counted = false;
    for w in words {
        match w {
            // `1k tokens`, `1m tokens`, `1 thousand tokens`, `1 million tokens`
            "k" | "thousand" => factor = factor.checked_mul(1_000)?,
            "m" | "million" => factor = factor.checked_mul(1_000_000)?,
            "mtok" => {
                factor = factor.checked_mul(1_000_000)?;
                counted = true;
            }
            "count" | "counts" | "token" | "tokens" => counted = true,
            _ => return None,
        }
    }
    counted.then_some(factor)
}

/// The tokens a row counts: `usage.amount` in `usage.unit`, else `usage.amount_in_pricing_units` in
/// `usage.pricing_unit`, when the unit counts tokens (a bare `count` only for a SKU that names a model and
/// a token class, as Vertex's `Gemini 2.5 Flash GA Text Input - Predictions` does). `None` when the row
/// does not count tokens.
fn token_count(row: &Row, sku: &str, line: u64) -> Result<Option<u64>, RecordError> {
    if sku_class(sku).is_none() || sku.contains("character") {
        return Ok(None);
    }
    let names_tokens = |unit: &str| {
        unit.to_ascii_lowercase().contains("tok")
            || sku.contains("token")
            || model_of_sku(sku).is_some()
    };
    for (amount_key, amount_field, unit_key) in [
        ("usage_amount", "usage.amount", "usage_unit"),
        (
            "usage_amount_in_pricing_units",
            "usage.amount_in_pricing_units",
            "usage_pricing_unit",
        ),
    ] {
        let Some(unit) = get(row, unit_key) else {
            continue;
        };
        let Some(factor) = token_unit(unit).filter(|_| names_tokens(unit)) else {
            continue;
        };
        let Some(amount) = decimal(row, amount_key, amount_field, line)? else {
            continue;
        };
        let tokens = amount.checked_mul(Decimal::from(factor));
        let n = match tokens {
            Some(t) if !t.is_sign_negative() && t.fract().is_zero() => t.to_u64(),
            _ => None,
        };
        return n.map(Some).ok_or_else(|| {
            RecordError::field(
                line,
                amount_field,
                format!("not a whole number of tokens: {amount} × {factor} ({unit})"),
            )
        });
    }
    Ok(None)
}

/// The model a SKU names: `Gemini 2.5 Pro Input Tokens` → `gemini-2.5-pro`, `Claude Sonnet 4.5 Output
/// Tokens` → `claude-sonnet-4.5`. The words after `gemini` / `claude` / `gemma` up to the first word that
/// describes the charge (input, output, text, tokens, …).
pub fn model_of_sku(sku: &str) -> Option<String> {
    const STOP: &[&str] = &[
        "input",
        "output",
        "text",
        "tokens",
        "token",
        "characters",
        "image",
        "images",
        "audio",
        "video",
        "cached",
        "cache",
        "context",
        "caching",
        "thinking",
        "reasoning",
        "batch",
        "predictions",
        "prediction",
        "long",
        "short",
        "online",
        "tuning",
        "storage",
        "priority",
        "flex",
        "grounding",
        // Vertex's release stage: `Gemini 2.5 Flash GA Text Input` is `gemini-2.5-flash`.
        "ga",
        "-",
        "for",
        "(",
        "requests",
    ];
    let lower = sku.to_ascii_lowercase().replace(['(', ')', ','], " ");
    let words: Vec<&str> = lower.split_whitespace().collect();
    let start = words
        .iter()
        .position(|w| matches!(*w, "gemini" | "claude" | "gemma"))?;
    let mut parts = vec![words[start]];
    for w in &words[start + 1..] {
        if STOP.contains(w) || w.starts_with('>') || w.starts_with('<') {
            break;
        }
        parts.push(w);
    }
    if parts.len() < 2 {
        return None;
    }
    let id = parts.join("-");
    // Claude's ids write versions with dashes (`claude-sonnet-4-5`); Gemini's keep the dot.
    Some(if parts[0] == "claude" {
        id.replace('.', "-")
    } else {
        id
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Result<UsageRecord, RecordError>> {
        crate::sources::testing::read_items_of(&GcpBilling, text).unwrap()
    }

    #[test]
    fn usage_units_that_count_tokens() {
        for (unit, factor) in [
            ("count", Some(1)),
            ("tokens", Some(1)),
            ("token count", Some(1)),
            ("1000 count", Some(1_000)),
            ("1k tokens", Some(1_000)),
            ("1,000,000 count", Some(1_000_000)),
            ("1 million tokens", Some(1_000_000)),
            ("1M tokens", Some(1_000_000)),
            ("characters", None),
            ("1000 characters", None),
            ("token-hours", None),
            ("seconds", None),
        ] {
            assert_eq!(token_unit(unit), factor, "{unit}");
        }
    }

    #[test]
    fn skus_name_models() {
        assert_eq!(
            model_of_sku("Gemini 2.5 Pro Input Tokens").as_deref(),
            Some("gemini-2.5-pro")
        );
        assert_eq!(
            model_of_sku("Gemini 2.5 Flash Thinking Text Output - Predictions").as_deref(),
            Some("gemini-2.5-flash")
        );
        assert_eq!(
            model_of_sku("Claude Sonnet 4.5 Output Tokens").as_deref(),
            Some("claude-sonnet-4-5")
        );
        assert_eq!(
            model_of_sku("Gemini 2.5 Flash GA Text Input - Predictions").as_deref(),
            Some("gemini-2.5-flash")
        );
        assert_eq!(
            model_of_sku("Gemini 2.5 Pro GA Long Text Input - Predictions").as_deref(),
            Some("gemini-2.5-pro")
        );
        assert_eq!(
            model_of_sku("Generate content input token count Gemini 2.5 Flash-Lite").as_deref(),
            Some("gemini-2.5-flash-lite")
        );
        assert_eq!(model_of_sku("Vector Search node hours"), None);
    }

    const CSV: &str = "billing_account_id,service.description,sku.description,usage_start_time,usage_end_time,project.id,labels,cost,currency,usage.amount,usage.unit,credits,invoice.month,cost_type\n\
        0A-1,Vertex AI,Gemini 2.5 Pro Input Tokens,2026-10-05 00:00:00 UTC,2026-10-05 01:00:00 UTC,ranker-prod,\"[{\"\"key\"\":\"\"team\"\",\"\"value\"\":\"\"search\"\"}]\",1.25,USD,1000000,tokens,\"[{\"\"name\"\":\"\"FreeTrial\"\",\"\"amount\"\":-0.25,\"\"type\"\":\"\"FREE_TIER\"\"}]\",202610,regular\n\
        0A-1,Compute Engine,N2 Instance Core,2026-10-05 00:00:00 UTC,2026-10-05 01:00:00 UTC,ranker-prod,,3.00,USD,3600,seconds,,202610,regular\n";

    #[test]
    fn csv_rows_net_of_credits_and_other_services_skipped() {
        let recs = read(CSV);
        assert_eq!(recs.len(), 1);
        let r = recs[0].as_ref().unwrap();
        assert_eq!(r.model, "gemini-2.5-pro");
        assert_eq!(r.tokens.input, 1_000_000);
        // net = 1.25 + (−0.25)
        assert_eq!(r.reported_cost, Some(Decimal::ONE));
        assert_eq!(r.tags["gcp_cost"], "1.25");
        assert_eq!(r.tags["gcp_credits"], "-0.25");
        assert_eq!(r.team.as_deref(), Some("search"));
        assert_eq!(r.project.as_deref(), Some("ranker-prod"));
        assert_eq!(r.billing_account.as_deref(), Some("0A-1"));
        assert_eq!(r.requests, 0);
        assert_eq!(r.long_context, Some(false));
        assert_eq!(r.provenance.line, 2);
    }

    #[test]
    fn json_rows_nested_and_exact() {
        let json = r#"{"service":{"id":"C7E2","description":"Vertex AI"},"sku":{"description":"Gemini 2.5 Flash Text Output"},"usage_start_time":"2026-10-05T00:00:00Z","usage_end_time":"2026-10-05T01:00:00Z","project":{"id":"p1"},"labels":[],"cost":0.1000000000000000055511,"currency":"USD","usage":{"amount":"40000","unit":"tokens"},"credits":[]}"#;
        let r = read(json).remove(0).unwrap();
        assert_eq!(r.tokens.output, 40_000);
        assert_eq!(
            r.reported_cost.unwrap().to_string(),
            "0.1000000000000000055511"
        );
        let bad = json.replace("\"40000\"", "\"4e4.5\"");
        let e = read(&bad).remove(0).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("usage.amount"));
    }

    #[test]
    fn detection() {
        let p = Path::new("x");
        assert!(GcpBilling.detect(p, CSV.as_bytes()));
        assert!(GcpBilling.detect(
            p,
            b"service_description,sku_description,usage_start_time,cost\n"
        ));
        assert!(!GcpBilling.detect(p, b"Date,MeterCategory,MeterName,Cost\n"));
        assert!(!GcpBilling.detect(p, b"{\"object\":\"page\"}"));
    }
}
