//! `openrouter`: what the OpenRouter API says a request or a day cost.
//!
//! - Generation records, `GET /api/v1/generation?id=gen-…` → `{data:{id, created_at, model, provider_name,
//!   total_cost, tokens_prompt, tokens_completion, native_tokens_prompt, native_tokens_completion,
//!   native_tokens_reasoning, native_tokens_cached, external_user, workspace_id, latency, is_byok, …}}`.
//!   A file holds one response, a JSON array of them, or one per line; the bare `data` object is accepted
//!   too. One record per generation, id `openrouter:{id}`, `KeepFirst`.
//! - The activity export, `GET /api/v1/activity` → `{data:[{date, model, provider_name, usage, requests,
//!   prompt_tokens, completion_tokens, reasoning_tokens, endpoint_id, …}]}`: one record per row (a day ×
//!   model × provider endpoint), id `openrouter:activity:{date}:{model}:{provider_name}:{endpoint_id}:
//!   {workspace_id}` (`-` when missing), `KeepLargest` (a day pulled again after it grew replaces itself).
//!
//! Provider `openrouter`; model as reported (`anthropic/claude-sonnet-4`: the price tables strip the
//! prefix). Reported cost = `total_cost` (generation) or `usage` (activity), USD numbers read exactly from
//! their text. OpenRouter bills its own price: with BYOK (`is_byok`, tag `byok`) the provider bills the
//! tokens and `total_cost` is only OpenRouter's fee.
//!
//! Tokens, generation: the `native_*` counts are the model's own tokenizer, which is what is billed;
//! `native_tokens_prompt` is the whole prompt, cached tokens included, so input = `native_tokens_prompt` −
//! `native_tokens_cached`, cache read = `native_tokens_cached`, output = `native_tokens_completion`,
//! reasoning = `native_tokens_reasoning`, a subset of output (as OpenRouter's normalized usage reports
//! `reasoning_tokens` inside `completion_tokens`; a reasoning count above the completion count is an error
//! naming the field). Without native counts: input = `tokens_prompt`, output = `tokens_completion`.
//! OpenRouter does not report cache writes: they are inside input. Activity: input = `prompt_tokens`,
//! output = `completion_tokens`, reasoning = `reasoning_tokens` (subset), requests = `requests`.
//!
//! Attribution: user = `external_user`, workspace = `workspace_id`, tag `provider_name`; latency =
//! `latency` (ms). A `cancelled` generation keeps its tokens (it was billed) and gets tag `cancelled`.

use std::path::Path;
use std::sync::Arc;

use chrono::Duration;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::shared::common::{self, LineIndex};
use super::shared::response::{self, Label};
use super::{DocumentParser, Parsed, Reader, Source};
use crate::decimal::JsonDecimal;
use crate::error::RecordError;
use crate::record::{concat, DedupPolicy, Provenance, Provider, Text, TokenCounts, UsageRecord};
use crate::timestamp::Timestamp;

/// Reads OpenRouter generation records and activity exports.
pub struct OpenRouter;

const NAME: &str = "openrouter";

impl Source for OpenRouter {
    fn name(&self) -> &'static str {
        NAME
    }

    fn reads(&self) -> &'static str {
        "OpenRouter generation records (/api/v1/generation: one, an array, or one per line) and activity \
         exports (/api/v1/activity)"
    }

    fn detected_by(&self) -> &'static str {
        "JSON with \"provider_name\" and total_cost / tokens_prompt / native_tokens_prompt (generations), \
         or date and usage (activity)"
    }

    fn detect(&self, _path: &Path, head: &[u8]) -> bool {
        let key = |k| common::has_key(head, k);
        common::looks_like_json(head)
            && key("provider_name")
            && (key("total_cost")
                || key("tokens_prompt")
                || key("native_tokens_prompt")
                || (key("date") && key("usage")))
    }

    fn reader(&self, _head: &[u8]) -> Reader<'_> {
        Reader::Document(self)
    }
}

impl DocumentParser for OpenRouter {
    fn parse_document(
        &self,
        bytes: &[u8],
        file: &Arc<str>,
        out: &mut Parsed,
    ) -> Result<(), RecordError> {
        let lines = LineIndex::new(bytes);
        let mut visit = |raw: &RawValue, path: String| {
            for item in items(raw, path, &lines) {
                match item.and_then(|item| read_item(&item, file)) {
                    Ok(record) => out.records.push(record),
                    Err(e) => out.errors.push(e),
                }
            }
        };
        if bytes.trim_ascii_start().first() == Some(&b'[') {
            let values: Vec<&RawValue> =
                serde_json::from_slice(bytes).map_err(|e| document_error(&e))?;
            for (i, raw) in values.into_iter().enumerate() {
                visit(raw, format!("[{i}]"));
            }
            return Ok(());
        }
        let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<&RawValue>();
        loop {
            match stream.next() {
                None => return Ok(()),
                Some(Ok(raw)) => visit(raw, String::new()),
                Some(Err(e)) => return Err(document_error(&e)),
            }
        }
    }
}

/// A document that is not JSON, at serde's line (counted from the start of the document).
fn document_error(e: &serde_json::Error) -> RecordError {
    let mut message = e.to_string();
    if let Some(i) = message.rfind(" at line ") {
        message.truncate(i);
    }
    let line = (e.line() as u64).max(1);
    if e.is_syntax() || e.is_eof() {
        RecordError::new(line, format!("not valid JSON: {message}"))
    } else {
        RecordError::new(line, message)
    }
}

/// One generation or activity row, where it sits in the file.
struct Item<'a> {
    raw: &'a RawValue,
    path: String,
    line: u64,
}

impl<'a> Item<'a> {
    fn parse<T: Deserialize<'a>>(&self) -> Result<T, RecordError> {
        common::parse_json_at(self.raw.get(), &self.path, self.line)
    }

    fn field(&self, name: &str) -> String {
        response::join(&self.path, name)
    }
}

/// `{data: …}` or a bare item.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

/// The items of one top-level value: `{data:{…}}` → one, `{data:[…]}` → each, a bare object → itself.
fn items<'a>(
    raw: &'a RawValue,
    path: String,
    lines: &LineIndex,
) -> Vec<Result<Item<'a>, RecordError>> {
    let line = lines.line_of(raw.get()).unwrap_or(1);
    let at = |raw: &'a RawValue, path: String| Item {
        raw,
        line: lines.line_of(raw.get()).unwrap_or(line),
        path,
    };
    let envelope: Envelope = match common::parse_json_at(raw.get(), &path, line) {
        Ok(e) => e,
        Err(e) => return vec![Err(e)],
    };
    let Some(data) = envelope.data else {
        return vec![Ok(at(raw, path))];
    };
    let data_path = response::join(&path, "data");
    if data.get().trim_start().starts_with('[') {
        match common::parse_json_at::<Vec<&RawValue>>(data.get(), &data_path, line) {
            Ok(rows) => rows
                .into_iter()
                .enumerate()
                .map(|(i, row)| Ok(at(row, format!("{data_path}[{i}]"))))
                .collect(),
            Err(e) => vec![Err(e)],
        }
    } else {
        vec![Ok(at(data, data_path))]
    }
}

/// Only whether an item is an activity row (it has a `date`).
#[derive(Deserialize)]
struct Kind {
    date: Option<IgnoredAny>,
}

fn read_item(item: &Item, file: &Arc<str>) -> Result<UsageRecord, RecordError> {
    let kind: Kind = item.parse()?;
    let provenance = Provenance {
        file: file.clone(),
        line: item.line,
    };
    match kind.date {
        Some(_) => activity_record(item, provenance),
        None => generation_record(item, provenance),
    }
}

/// A generation record (`data` of `GET /api/v1/generation`).
#[derive(Deserialize)]
struct Generation<'a> {
    #[serde(borrow)]
    id: Label<'a>,
    created_at: Timestamp,
    #[serde(borrow)]
    model: Option<Label<'a>>,
    #[serde(borrow)]
    provider_name: Option<Label<'a>>,
    total_cost: Option<JsonDecimal>,
    tokens_prompt: Option<u64>,
    tokens_completion: Option<u64>,
    native_tokens_prompt: Option<u64>,
    native_tokens_completion: Option<u64>,
    native_tokens_reasoning: Option<u64>,
    native_tokens_cached: Option<u64>,
    #[serde(borrow)]
    external_user: Option<Label<'a>>,
    #[serde(borrow)]
    workspace_id: Option<Label<'a>>,
    #[serde(borrow)]
    service_tier: Option<Label<'a>>,
    latency: Option<JsonDecimal>,
    is_byok: Option<bool>,
    cancelled: Option<bool>,
}

fn generation_record(item: &Item, provenance: Provenance) -> Result<UsageRecord, RecordError> {
    let g: Generation = item.parse()?;
    let id = g
        .id
        .to_nonempty()
        .ok_or_else(|| RecordError::field(item.line, item.field("id"), "empty generation id"))?;
    let line = item.line;
    let tokens = match g.native_tokens_prompt.or(g.native_tokens_completion) {
        Some(_) => {
            let cached = g.native_tokens_cached.unwrap_or(0);
            let input = response::subtract(
                (g.native_tokens_prompt.unwrap_or(0), "native_tokens_prompt"),
                &[(cached, "native_tokens_cached")],
                &item.path,
                line,
            )?;
            let output = g.native_tokens_completion.unwrap_or(0);
            let reasoning = g.native_tokens_reasoning.unwrap_or(0);
            response::subtract(
                (output, "native_tokens_completion"),
                &[(reasoning, "native_tokens_reasoning")],
                &item.path,
                line,
            )?;
            TokenCounts {
                input,
                cache_read: cached,
                output,
                reasoning,
                ..TokenCounts::default()
            }
        }
        None => TokenCounts {
            input: g.tokens_prompt.unwrap_or(0),
            output: g.tokens_completion.unwrap_or(0),
            ..TokenCounts::default()
        },
    };
    let model = g
        .model
        .as_ref()
        .and_then(Label::to_nonempty)
        .unwrap_or_else(|| "unknown".into());
    let mut record = UsageRecord::new(
        concat(&[NAME, ":", &id]),
        NAME,
        Provider::OpenRouter,
        model,
        g.created_at.0,
        provenance,
    );
    record.tokens = tokens;
    record.requests = 1;
    record.reported_cost = g.total_cost.map(|c| c.0);
    record.reported_currency = record.reported_cost.map(|_| "USD".into());
    record.user = g.external_user.as_ref().and_then(Label::to_nonempty);
    record.workspace = g.workspace_id.as_ref().and_then(Label::to_nonempty);
    record.service_tier = g.service_tier.as_ref().and_then(Label::to_nonempty);
    record.latency_ms = g.latency.and_then(|l| u64::try_from(l.0.round()).ok());
    if let Some(p) = g.provider_name.as_ref().and_then(Label::to_nonempty) {
        record.tags.insert("provider_name".into(), p);
    }
    for (key, flag) in [("byok", g.is_byok), ("cancelled", g.cancelled)] {
        if flag == Some(true) {
            record.tags.insert(key.into(), "true".into());
        }
    }
    record.dedup = DedupPolicy::KeepFirst;
    Ok(record)
}

/// A row of the activity export.
#[derive(Deserialize)]
struct Activity<'a> {
    date: Timestamp,
    #[serde(borrow)]
    model: Option<Label<'a>>,
    #[serde(borrow)]
    provider_name: Option<Label<'a>>,
    #[serde(borrow)]
    endpoint_id: Option<Label<'a>>,
    #[serde(borrow)]
    workspace_id: Option<Label<'a>>,
    usage: Option<JsonDecimal>,
    requests: Option<u64>,
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    reasoning_tokens: Option<u64>,
}

fn activity_record(item: &Item, provenance: Provenance) -> Result<UsageRecord, RecordError> {
    let a: Activity = item.parse()?;
    let output = a.completion_tokens.unwrap_or(0);
    let reasoning = a.reasoning_tokens.unwrap_or(0);
    response::subtract(
        (output, "completion_tokens"),
        &[(reasoning, "reasoning_tokens")],
        &item.path,
        item.line,
    )?;
    let dim = |l: &Option<Label>| l.as_ref().and_then(Label::to_nonempty);
    let model = dim(&a.model);
    let provider_name = dim(&a.provider_name);
    let workspace = dim(&a.workspace_id);
    let or_dash = |v: &Option<Text>| v.as_deref().unwrap_or("-").to_owned();
    let id = compact_str::format_compact!(
        "{NAME}:activity:{}:{}:{}:{}:{}",
        a.date.0.format("%Y-%m-%d"),
        or_dash(&model),
        or_dash(&provider_name),
        or_dash(&dim(&a.endpoint_id)),
        or_dash(&workspace),
    );
    let model = model.unwrap_or_else(|| "unknown".into());
    let mut record = UsageRecord::new(id, NAME, Provider::OpenRouter, model, a.date.0, provenance);
    record.end = a.date.0.checked_add_signed(Duration::days(1));
    record.tokens = TokenCounts {
        input: a.prompt_tokens.unwrap_or(0),
        output,
        reasoning,
        ..TokenCounts::default()
    };
    record.requests = a.requests.unwrap_or(0);
    record.reported_cost = a.usage.map(|c| c.0);
    record.reported_currency = record.reported_cost.map(|_| "USD".into());
    record.workspace = workspace;
    if let Some(p) = provider_name {
        record.tags.insert("provider_name".into(), p);
    }
    record.dedup = DedupPolicy::KeepLargest;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use rust_decimal_macros::dec;

    fn parse(doc: &str) -> Result<Parsed, RecordError> {
        crate::sources::testing::read(&OpenRouter, doc)
    }

    const GENERATION: &str = r#"{"data":{"id":"gen-1760000000-AbCdEf","upstream_id":"msg_01X","total_cost":0.0123456789,
 "cache_discount":null,"created_at":"2026-10-08T12:00:00.123456+00:00","model":"anthropic/claude-sonnet-4",
 "provider_name":"Anthropic","streamed":true,"cancelled":false,"latency":1250,"generation_time":1100,
 "tokens_prompt":11000,"tokens_completion":900,"native_tokens_prompt":12000,"native_tokens_completion":1000,
 "native_tokens_reasoning":400,"native_tokens_cached":8000,"external_user":"u-42","workspace_id":"ws_1",
 "api_type":"completions","is_byok":false,"usage":0.0123456789}}"#;

    #[test]
    fn generations_prefer_native_counts() {
        let out = parse(GENERATION).unwrap();
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let r = &out.records[0];
        // 12_000 native prompt (cached included) − 8_000 cached = 4_000 uncached
        assert_eq!(r.tokens.input, 4_000);
        assert_eq!(r.tokens.cache_read, 8_000);
        // reasoning 400 is inside the 1_000 completion tokens
        assert_eq!((r.tokens.output, r.tokens.reasoning), (1_000, 400));
        assert_eq!(r.reported_cost, Some(dec!(0.0123456789)));
        assert_eq!(r.reported_currency.as_deref(), Some("USD"));
        assert_eq!(r.model, "anthropic/claude-sonnet-4");
        assert_eq!(r.provider, Provider::OpenRouter);
        assert_eq!(r.id, "openrouter:gen-1760000000-AbCdEf");
        assert_eq!(r.dedup, DedupPolicy::KeepFirst);
        assert_eq!(r.user.as_deref(), Some("u-42"));
        assert_eq!(r.workspace.as_deref(), Some("ws_1"));
        assert_eq!(r.tags["provider_name"], "Anthropic");
        assert!(!r.tags.contains_key("byok"));
        assert_eq!(r.latency_ms, Some(1250));
        assert_eq!(r.requests, 1);
        assert_eq!(
            r.start,
            Utc.with_ymd_and_hms(2026, 10, 8, 12, 0, 0).unwrap() + Duration::microseconds(123_456)
        );
    }

    #[test]
    fn arrays_lines_and_bare_objects() {
        let one = GENERATION.replace('\n', "");
        let two = one.replace("gen-1760000000-AbCdEf", "gen-2");
        let out = parse(&format!("{one}\n{two}\n")).unwrap();
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.records[1].provenance.line, 2);
        let out = parse(&format!("[{one},\n{two}]")).unwrap();
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.records[1].id, "openrouter:gen-2");
        let out = parse(
            r#"{"id":"gen-3","created_at":"2026-10-08T12:00:00Z","model":"openai/gpt-4o","provider_name":"OpenAI",
            "total_cost":0.5,"tokens_prompt":100,"tokens_completion":20,"is_byok":true}"#,
        )
        .unwrap();
        let r = &out.records[0];
        // no native counts: the normalized ones
        assert_eq!((r.tokens.input, r.tokens.output), (100, 20));
        assert_eq!(r.tags["byok"], "true");
    }

    #[test]
    fn activity_rows() {
        let out = parse(
            r#"{"data":[
 {"date":"2026-10-08","model":"openai/gpt-4.1","model_permaslug":"openai/gpt-4.1-2025-04-14","endpoint_id":"ep-1",
  "provider_name":"OpenAI","usage":0.015,"byok_usage_inference":0,"requests":5,"prompt_tokens":50,"completion_tokens":125,"reasoning_tokens":25},
 {"date":"2026-10-08","model":"anthropic/claude-sonnet-4.5","provider_name":"Google","usage":1.2e-2,"requests":2,"prompt_tokens":10,"completion_tokens":5,"reasoning_tokens":0}]}"#,
        )
        .unwrap();
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let r = &out.records[0];
        assert_eq!(
            r.id,
            "openrouter:activity:2026-10-08:openai/gpt-4.1:OpenAI:ep-1:-"
        );
        assert_eq!(r.dedup, DedupPolicy::KeepLargest);
        assert_eq!(r.requests, 5);
        assert_eq!(
            (r.tokens.input, r.tokens.output, r.tokens.reasoning),
            (50, 125, 25)
        );
        assert_eq!(r.reported_cost, Some(dec!(0.015)));
        assert_eq!(r.start, Utc.with_ymd_and_hms(2026, 10, 8, 0, 0, 0).unwrap());
        assert_eq!(
            r.end,
            Some(Utc.with_ymd_and_hms(2026, 10, 9, 0, 0, 0).unwrap())
        );
        assert_eq!(r.provenance.line, 2);
        assert_eq!(out.records[1].reported_cost, Some(dec!(0.012)));
        assert_eq!(out.records[1].provenance.line, 4);
    }

    #[test]
    fn bad_items_are_record_errors_with_path_and_line() {
        let out = parse(
            "[{\"data\":{\"id\":\"gen-1\",\"created_at\":\"2026-10-08T12:00:00Z\",\"native_tokens_prompt\":10,\"native_tokens_cached\":20}},\n\
             {\"data\":{\"id\":\"gen-2\",\"created_at\":\"2026-10-08T12:00:00Z\",\n\"tokens_prompt\":\"many\"}},\n\
             {\"data\":{\"id\":\"gen-3\",\"created_at\":\"2026-10-08T12:00:00Z\",\"native_tokens_completion\":10,\"native_tokens_reasoning\":11}},\n\
             {\"data\":{\"id\":\"gen-4\",\"created_at\":\"2026-10-08T12:00:00Z\",\"tokens_prompt\":1}}]",
        )
        .unwrap();
        assert_eq!(out.records.len(), 1);
        assert_eq!(out.errors.len(), 3);
        assert_eq!(
            out.errors[0].field.as_deref(),
            Some("[0].data.native_tokens_cached")
        );
        assert_eq!(out.errors[0].line, 1);
        assert_eq!(
            out.errors[1].field.as_deref(),
            Some("[1].data.tokens_prompt")
        );
        assert_eq!(out.errors[1].line, 3);
        assert_eq!(
            out.errors[2].field.as_deref(),
            Some("[2].data.native_tokens_reasoning")
        );
        assert_eq!(out.errors[2].line, 4);
        let e = parse("{\"data\":{\"id\":\"gen-1\"}}\n\n{\"data\":").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.starts_with("not valid JSON"), "{}", e.message);
    }

    #[test]
    fn detection() {
        let p = Path::new("or.json");
        assert!(OpenRouter.detect(p, GENERATION.as_bytes()));
        assert!(OpenRouter.detect(
            p,
            br#"{"data": [{"date": "2026-10-08", "model": "openai/gpt-4.1", "provider_name": "OpenAI", "usage": 0.015}]}"#
        ));
        assert!(!OpenRouter.detect(
            p,
            br#"{"id":"chatcmpl-1","object":"chat.completion","usage":{"prompt_tokens":1,"cost":0.1}}"#
        ));
        assert!(!OpenRouter.detect(p, b"date,model,provider_name,usage\n"));
    }
}
