//! `litellm`: what a LiteLLM proxy logs per request, in two shapes.
//!
//! - `LiteLLM_SpendLogs` rows, exported from the proxy's database (or the `/spend/logs` endpoint) as CSV,
//!   a JSON array of row objects, or JSON lines: `request_id, call_type, api_key (a HASH), spend,
//!   total_tokens, prompt_tokens, completion_tokens, startTime, endTime, request_duration_ms, model,
//!   model_group, custom_llm_provider, user, metadata (JSON object or JSON text), cache_hit, request_tags,
//!   team_id, end_user, status, …`.
//! - The standard logging payload (`StandardLoggingPayload`), one JSON object per line, as logging
//!   callbacks write it: `id, call_type, response_cost, model, model_group, custom_llm_provider,
//!   startTime/endTime (unix seconds), metadata {user_api_key_alias, user_api_key_team_alias, …},
//!   prompt_tokens, completion_tokens, response (the provider response), status, request_tags, end_user, …`.
//!
//! One record per request, id `litellm:{request_id}` (spend logs) or `litellm:{id}` (payload), `KeepFirst`.
//! - reported cost = `spend` / `response_cost`, LiteLLM's own computed cost, read exactly from its text;
//! - provider from `custom_llm_provider` (`openai`, `anthropic`, `bedrock`, `azure`, `vertex_ai`, `gemini`,
//!   `openrouter`, and their variants such as `azure_ai`, `bedrock_converse`, `vertex_ai_beta`), else the
//!   model's `provider/` prefix, else `other`; model = `model` (else `model_group`), tag `model_group`;
//! - tokens from the most detailed usage the row has: the payload's `response.usage`, else
//!   `metadata.usage_object`, else `prompt_tokens` / `completion_tokens`. A usage object is read with
//!   `response.rs`: LiteLLM writes every provider's usage in the OpenAI chat shape, where `prompt_tokens` is
//!   the TOTAL (cache reads `prompt_tokens_details.cached_tokens` and, in current releases, cache writes
//!   `cache_creation_input_tokens` / `prompt_tokens_details.cache_creation_tokens` inside it): input =
//!   `prompt_tokens` − cache read − cache write − audio; the 5m/1h split of the writes comes from
//!   `cache_creation_token_details` (unsplit writes are 5m). Older LiteLLM releases left Anthropic cache
//!   writes outside `prompt_tokens`: when the writes exceed what is left of `prompt_tokens`, they are taken
//!   as on top. Reasoning = `completion_tokens_details.reasoning_tokens`, inside output;
//! - attribution: team = `team_alias` (metadata `user_api_key_team_alias`), else `team_id`; user = `user`,
//!   else metadata `user_api_key_user_id`, else `end_user`; api key = metadata `user_api_key_alias` (the
//!   key's NAME). The `api_key` column is a hash of the key and is never stored, nor is any other part of it;
//! - request tags (`request_tags`, a JSON list or JSON text): `key:value` or `key=value` becomes tag `key` =
//!   `value`, any other tag `t` becomes tag `t` = `true`; also tag `call_type`;
//! - `status` `failure` marks a failed request (zero tokens); `cache_hit` true means LiteLLM answered from
//!   its own cache and no provider billed it: zero tokens, tag `cache_hit`;
//! - latency = `request_duration_ms`, else `endTime` − `startTime`; start = `startTime`.
//!
//! Never read into the record: prompts (`messages`), response text, API keys or their hashes, IP addresses.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::shared::common::{self, LineIndex};
use super::shared::response::{self, CacheCreation, Label, RawResponse, Shape, Usage};
use super::{Emit, JsonValues, LineParser, Reader, Source, StreamParser};
use crate::decimal::JsonDecimal;
use crate::decimal::{parse_decimal, parse_number_cell};
use crate::error::RecordError;
use crate::record::{
    concat, content_id, DedupPolicy, Provenance, Provider, Text, TokenCounts, UsageRecord,
};
use crate::timestamp::Timestamp;

/// Reads LiteLLM spend logs and standard logging payloads.
pub struct LiteLlm;

const NAME: &str = "litellm";

impl Source for LiteLlm {
    fn name(&self) -> &'static str {
        NAME
    }

    fn reads(&self) -> &'static str {
        "LiteLLM proxy logs: LiteLLM_SpendLogs exports (CSV, JSON array or JSON lines) and standard logging \
         payloads (JSON lines)"
    }

    fn detected_by(&self) -> &'static str {
        "a CSV header with request_id, spend and startTime or call_type; or JSON with request_id and \
         spend, or response_cost with call_type / model_group / startTime"
    }

    fn detect(&self, _path: &Path, head: &[u8]) -> bool {
        if common::looks_like_json(head) {
            let key = |k| common::has_key(head, k);
            return (key("request_id") && key("spend"))
                || (key("response_cost")
                    && (key("call_type") || key("model_group") || key("startTime")));
        }
        common::csv_header(head).is_some_and(|h| {
            let has = |c: &str| h.iter().any(|x| x == c);
            has("request_id") && has("spend") && (has("startTime") || has("call_type"))
        })
    }

    fn reader(&self, head: &[u8]) -> Reader<'_> {
        match head.trim_ascii_start().first() {
            Some(b'[') => Reader::Stream(&JsonArray),
            Some(b'{') if common::is_json_lines(head) => Reader::Lines(self),
            // One row or payload pretty-printed, or several one after another.
            Some(b'{') => Reader::Stream(&JsonValues(LiteLlm)),
            _ => Reader::Stream(&SpendLogCsv),
        }
    }
}

/// JSON lines: spend log rows or logging payloads, one per line.
impl LineParser for LiteLlm {
    fn parse_line(
        &self,
        line: &[u8],
        at: &Provenance,
        out: &mut Vec<UsageRecord>,
    ) -> Result<(), RecordError> {
        let text = std::str::from_utf8(line.trim_ascii())
            .map_err(|_| RecordError::new(at.line, "not valid UTF-8"))?;
        out.push(json_record(text, "", at.line, &at.file)?);
        Ok(())
    }
}

/// A JSON array of spend log rows.
struct JsonArray;

impl StreamParser for JsonArray {
    fn parse_stream(
        &self,
        reader: &mut dyn Read,
        file: &Arc<str>,
        emit: &mut Emit<'_>,
    ) -> Result<(), RecordError> {
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| RecordError::new(1, format!("cannot read: {e}")))?;
        let rows: Vec<&RawValue> = serde_json::from_slice(&bytes).map_err(|e| {
            let mut message = e.to_string();
            if let Some(i) = message.rfind(" at line ") {
                message.truncate(i);
            }
            let prefix = if e.is_syntax() || e.is_eof() {
                "not valid JSON: "
            } else {
                ""
            };
            RecordError::new(e.line().max(1) as u64, format!("{prefix}{message}"))
        })?;
        let lines = LineIndex::new(&bytes);
        for (i, raw) in rows.into_iter().enumerate() {
            let line = lines.line_of(raw.get()).unwrap_or(1);
            let item = json_record(raw.get(), &format!("[{i}]"), line, file);
            if !emit(item) {
                break;
            }
        }
        Ok(())
    }
}

/// A CSV export of the spend log table.
struct SpendLogCsv;

impl StreamParser for SpendLogCsv {
    fn parse_stream(
        &self,
        reader: &mut dyn Read,
        file: &Arc<str>,
        emit: &mut Emit<'_>,
    ) -> Result<(), RecordError> {
        read_csv(reader, file, emit)
    }
}

/// A spend log row or logging payload as JSON (every key we do not name, `messages` included, is skipped).
#[derive(Deserialize)]
struct JsonRow<'a> {
    #[serde(borrow)]
    request_id: Option<Label<'a>>,
    #[serde(borrow)]
    id: Option<Label<'a>>,
    #[serde(borrow)]
    call_type: Option<Label<'a>>,
    spend: Option<JsonDecimal>,
    response_cost: Option<JsonDecimal>,
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    #[serde(rename = "startTime", borrow)]
    start_time: Option<&'a RawValue>,
    #[serde(rename = "endTime", borrow)]
    end_time: Option<&'a RawValue>,
    request_duration_ms: Option<JsonDecimal>,
    #[serde(borrow)]
    model: Option<Label<'a>>,
    #[serde(borrow)]
    model_group: Option<Label<'a>>,
    #[serde(borrow)]
    custom_llm_provider: Option<Label<'a>>,
    #[serde(borrow)]
    user: Option<Label<'a>>,
    #[serde(borrow)]
    end_user: Option<Label<'a>>,
    #[serde(borrow)]
    team_id: Option<Label<'a>>,
    #[serde(borrow)]
    team_alias: Option<Label<'a>>,
    #[serde(borrow)]
    status: Option<Label<'a>>,
    #[serde(borrow)]
    cache_hit: Option<Label<'a>>,
    #[serde(borrow)]
    metadata: Option<&'a RawValue>,
    #[serde(borrow)]
    request_tags: Option<&'a RawValue>,
    #[serde(borrow)]
    response: Option<&'a RawValue>,
}

/// One `LiteLLM_SpendLogs` row as a JSON object (`aispend pull litellm` reads the table this way).
pub fn spend_log_row(text: &str, line: u64, file: &Arc<str>) -> Result<UsageRecord, RecordError> {
    json_record(text, "", line, file)
}

fn json_record(
    text: &str,
    path: &str,
    line: u64,
    file: &Arc<str>,
) -> Result<UsageRecord, RecordError> {
    let row: JsonRow = common::parse_json_at(text, path, line)?;
    let field = |name: &str| response::join(path, name);
    let label = |l: &Option<Label>| l.as_ref().and_then(Label::to_nonempty);
    let time = |raw: Option<&RawValue>, name: &str| -> Result<Option<DateTime<Utc>>, RecordError> {
        match raw {
            None => Ok(None),
            Some(raw) => json_time(raw.get())
                .map_err(|message| RecordError::field(line, field(name), message)),
        }
    };
    let meta = match row.metadata {
        Some(raw) => Metadata::from_json(raw.get(), &field("metadata"), line)?,
        None => Metadata::default(),
    };
    let response_usage = match row.response {
        Some(raw) => response_usage(raw.get(), &field("response"), line)?,
        None => None,
    };
    let (usage, service_tier) = match response_usage {
        Some((tokens, tier)) => (Some(tokens), tier),
        None => (meta.usage, None),
    };
    let id = label(&row.request_id).or_else(|| label(&row.id));
    let entry = Entry {
        id,
        call_type: label(&row.call_type),
        model: label(&row.model),
        model_group: label(&row.model_group),
        provider: label(&row.custom_llm_provider),
        user: label(&row.user),
        end_user: label(&row.end_user),
        team_id: label(&row.team_id),
        team_alias: label(&row.team_alias),
        status: label(&row.status),
        cost: row.spend.or(row.response_cost).map(|d| d.0),
        prompt_tokens: row.prompt_tokens,
        completion_tokens: row.completion_tokens,
        start: time(row.start_time, "startTime")?,
        end: time(row.end_time, "endTime")?,
        duration_ms: row
            .request_duration_ms
            .and_then(|d| u64::try_from(d.0.round()).ok()),
        cache_hit: label(&row.cache_hit).is_some_and(|c| truthy(&c)),
        tags: match row.request_tags {
            Some(raw) => request_tags_json(raw.get(), &field("request_tags"), line)?,
            None => Vec::new(),
        },
        meta,
        usage,
        service_tier,
    };
    entry.into_record(text.as_bytes(), &field("startTime"), file, line)
}

/// A time as LiteLLM writes it: unix seconds (a float in logging payloads) or text (ISO 8601, or
/// Postgres' `2026-10-05 10:00:00.123+00`).
fn json_time(text: &str) -> Result<Option<DateTime<Utc>>, String> {
    let text = text.trim();
    if text == "null" {
        return Ok(None);
    }
    if text.starts_with('"') {
        let s: String = serde_json::from_str(text).map_err(|e| e.to_string())?;
        return text_time(&s).map_err(|_| format!("not a valid time: {s:?}"));
    }
    serde_json::from_str::<Timestamp>(text)
        .map(|t| Some(t.0))
        .map_err(|e| e.to_string())
}

fn text_time(s: &str) -> Result<Option<DateTime<Utc>>, ()> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if let Some(t) = Timestamp::parse_str(s) {
        return Ok(Some(t.0));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Ok(Some(t.with_timezone(&Utc)));
        }
    }
    // fractional unix seconds as text
    parse_decimal(s)
        .and_then(|d| d.checked_mul(Decimal::ONE_THOUSAND))
        .and_then(|d| i64::try_from(d.round()).ok())
        .and_then(Timestamp::from_unix)
        .map(|t| Some(t.0))
        .ok_or(())
}

fn truthy(s: &str) -> bool {
    matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "yes")
}

/// What `metadata` tells: attribution and the provider's usage.
#[derive(Default)]
struct Metadata {
    api_key_alias: Option<Text>,
    team_alias: Option<Text>,
    team_id: Option<Text>,
    user_id: Option<Text>,
    usage: Option<TokenCounts>,
}

#[derive(Deserialize)]
struct MetadataJson<'a> {
    #[serde(borrow)]
    user_api_key_alias: Option<Label<'a>>,
    #[serde(borrow)]
    user_api_key_team_alias: Option<Label<'a>>,
    #[serde(borrow)]
    team_alias: Option<Label<'a>>,
    #[serde(borrow)]
    user_api_key_team_id: Option<Label<'a>>,
    #[serde(borrow)]
    team_id: Option<Label<'a>>,
    #[serde(borrow)]
    user_api_key_user_id: Option<Label<'a>>,
    #[serde(borrow)]
    usage_object: Option<&'a RawValue>,
}

impl Metadata {
    /// From a JSON object, or a JSON string holding one (CSV exports, some JSON exports).
    fn from_json(text: &str, path: &str, line: u64) -> Result<Metadata, RecordError> {
        let text = text.trim();
        if text.starts_with('"') {
            let inner: String = serde_json::from_str(text)
                .map_err(|e| RecordError::field(line, path, e.to_string()))?;
            return Metadata::from_text(&inner, path, line);
        }
        if text == "null" {
            return Ok(Metadata::default());
        }
        let m: MetadataJson = common::parse_json_at(text, path, line)?;
        let label = |l: &Option<Label>| l.as_ref().and_then(Label::to_nonempty);
        let usage = match m.usage_object {
            Some(raw) => usage_tokens(raw.get(), &response::join(path, "usage_object"), line)?,
            None => None,
        };
        Ok(Metadata {
            api_key_alias: label(&m.user_api_key_alias),
            team_alias: label(&m.user_api_key_team_alias).or_else(|| label(&m.team_alias)),
            team_id: label(&m.user_api_key_team_id).or_else(|| label(&m.team_id)),
            user_id: label(&m.user_api_key_user_id),
            usage,
        })
    }

    /// From JSON text (a CSV cell): empty is no metadata.
    fn from_text(text: &str, path: &str, line: u64) -> Result<Metadata, RecordError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Metadata::default());
        }
        if !text.starts_with('{') && text != "null" {
            return Err(RecordError::field(
                line,
                path,
                format!("expected a JSON object, got {:?}", truncate(text)),
            ));
        }
        Metadata::from_json(text, path, line)
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

/// The extra keys LiteLLM adds to OpenAI's `prompt_tokens_details`.
#[derive(Deserialize, Default)]
struct LiteLlmUsageExtras {
    prompt_tokens_details: Option<LiteLlmInputDetails>,
}

#[derive(Deserialize, Default)]
struct LiteLlmInputDetails {
    cache_creation_tokens: Option<u64>,
    cache_creation_token_details: Option<CacheCreation>,
}

/// Tokens of a LiteLLM usage object (see the module doc). `None` when it holds no counts.
fn usage_tokens(text: &str, path: &str, line: u64) -> Result<Option<TokenCounts>, RecordError> {
    if text.trim() == "null" {
        return Ok(None);
    }
    let u: Usage = common::parse_json_at(text, path, line)?;
    let shape = match u.shape() {
        Some(shape) => shape,
        None if u.input_tokens.is_some() || u.output_tokens.is_some() => Shape::OpenAiResponses,
        None => return Ok(None),
    };
    let mut t = match shape {
        Shape::OpenAiChat => response::openai_chat_tokens(&u, path, line)?,
        Shape::OpenAiResponses => response::openai_responses_tokens(&u, path, line)?,
        Shape::Anthropic => return response::anthropic_tokens(&u, path, line).map(Some),
        Shape::Gemini => return Ok(None),
        Shape::Cohere => return Ok(Some(response::cohere_tokens(&u))),
        Shape::Bedrock => return Ok(Some(response::bedrock_tokens(&u))),
    };
    if shape != Shape::OpenAiChat {
        return Ok(Some(t));
    }
    let details = u.prompt_tokens_details.as_ref();
    // Cache reads that only the top-level Anthropic key reports: inside prompt_tokens.
    if details.and_then(|d| d.cached_tokens).is_none() {
        if let Some(read) = u.cache_read_input_tokens.filter(|&r| r > 0) {
            t.input = response::subtract(
                (t.input, "prompt_tokens"),
                &[(read, "cache_read_input_tokens")],
                path,
                line,
            )?;
            t.cache_read = read;
        }
    }
    // Cache writes: OpenAI's own `cache_write_tokens` were handled above; LiteLLM's Anthropic keys here.
    if details.and_then(|d| d.cache_write_tokens).is_none() {
        let extras: LiteLlmUsageExtras = common::parse_json_at(text, path, line)?;
        let extra = extras.prompt_tokens_details.unwrap_or_default();
        let written = extra
            .cache_creation_tokens
            .or(u.cache_creation_input_tokens)
            .unwrap_or(0);
        if written > 0 {
            // Current LiteLLM counts the writes inside prompt_tokens; older releases did not.
            if let Some(rest) = t.input.checked_sub(written) {
                t.input = rest;
            }
            let split = extra
                .cache_creation_token_details
                .as_ref()
                .or(u.cache_creation.as_ref());
            let one_hour = split
                .and_then(|s| s.ephemeral_1h_input_tokens)
                .unwrap_or(0)
                .min(written);
            t.cache_write_1h = one_hour;
            t.cache_write_5m = written - one_hour;
        }
    }
    Ok(Some(t))
}

/// The usage and served tier of a logging payload's `response` (an object; a string or list is the
/// redacted or streamed form and carries nothing).
fn response_usage(
    text: &str,
    path: &str,
    line: u64,
) -> Result<Option<(TokenCounts, Option<Text>)>, RecordError> {
    if !text.trim_start().starts_with('{') {
        return Ok(None);
    }
    #[derive(Deserialize)]
    struct UsageOnly<'a> {
        #[serde(borrow)]
        usage: Option<&'a RawValue>,
    }
    let only: UsageOnly = common::parse_json_at(text, path, line)?;
    let Some(usage) = only.usage else {
        return Ok(None);
    };
    let Some(tokens) = usage_tokens(usage.get(), &response::join(path, "usage"), line)? else {
        return Ok(None);
    };
    let raw: RawResponse = common::parse_json_at(text, path, line)?;
    let tier = Shape::of(&raw, None)
        .and_then(|shape| raw.service_tier(shape))
        .map(Text::from);
    Ok(Some((tokens, tier)))
}

/// Request tags from a JSON list, or JSON text holding one.
fn request_tags_json(text: &str, path: &str, line: u64) -> Result<Vec<Text>, RecordError> {
    let text = text.trim();
    if text.starts_with('"') {
        let inner: String = serde_json::from_str(text)
            .map_err(|e| RecordError::field(line, path, e.to_string()))?;
        return request_tags_text(&inner, path, line);
    }
    if text == "null" {
        return Ok(Vec::new());
    }
    let tags: Vec<Option<Label>> = common::parse_json_at(text, path, line)?;
    Ok(tags
        .iter()
        .flatten()
        .filter_map(Label::to_nonempty)
        .collect())
}

/// Request tags from text: a JSON list, or one plain tag.
fn request_tags_text(text: &str, path: &str, line: u64) -> Result<Vec<Text>, RecordError> {
    let text = text.trim();
    match text {
        "" | "null" | "None" => Ok(Vec::new()),
        t if t.starts_with('[') => request_tags_json(t, path, line),
        t => Ok(vec![Text::from(t)]),
    }
}

/// One request, from either shape, before it becomes a record.
struct Entry {
    id: Option<Text>,
    call_type: Option<Text>,
    model: Option<Text>,
    model_group: Option<Text>,
    provider: Option<Text>,
    user: Option<Text>,
    end_user: Option<Text>,
    team_id: Option<Text>,
    team_alias: Option<Text>,
    status: Option<Text>,
    cost: Option<Decimal>,
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    duration_ms: Option<u64>,
    cache_hit: bool,
    tags: Vec<Text>,
    meta: Metadata,
    usage: Option<TokenCounts>,
    service_tier: Option<Text>,
}

impl Entry {
    fn into_record(
        self,
        content: &[u8],
        start_field: &str,
        file: &Arc<str>,
        line: u64,
    ) -> Result<UsageRecord, RecordError> {
        let start = self.start.ok_or_else(|| {
            RecordError::field(
                line,
                start_field,
                "no start time: startTime is missing or empty",
            )
        })?;
        let model = self
            .model
            .clone()
            .or_else(|| self.model_group.clone())
            .unwrap_or_else(|| "unknown".into());
        let provider = self
            .provider
            .as_deref()
            .map(|p| provider_of(p).unwrap_or(Provider::Other))
            .or_else(|| model.split_once('/').and_then(|(p, _)| provider_of(p)))
            .unwrap_or(Provider::Other);
        let id = match &self.id {
            Some(id) => concat(&[NAME, ":", id]),
            None => content_id(NAME, content),
        };
        let failed = self
            .status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("failure") || s.eq_ignore_ascii_case("error"));
        let mut record = UsageRecord::new(
            id,
            NAME,
            provider,
            model,
            start,
            Provenance {
                file: file.clone(),
                line,
            },
        );
        record.tokens = match self.usage {
            _ if failed || self.cache_hit => TokenCounts::default(),
            Some(tokens) => tokens,
            None => TokenCounts {
                input: self.prompt_tokens.unwrap_or(0),
                output: self.completion_tokens.unwrap_or(0),
                ..TokenCounts::default()
            },
        };
        record.requests = 1;
        record.failed = failed;
        // The spend log names no HTTP status: a failure's class is unknown.
        record.failure = failed.then_some(crate::record::FailureClass::Other);
        record.reported_cost = self.cost;
        record.reported_currency = self.cost.map(|_| "USD".into());
        record.service_tier = self.service_tier;
        record.team = self
            .team_alias
            .or(self.meta.team_alias)
            .or(self.team_id)
            .or(self.meta.team_id);
        record.user = self.user.or(self.meta.user_id).or(self.end_user);
        record.api_key = self.meta.api_key_alias;
        record.latency_ms = self.duration_ms.or_else(|| {
            let end = self.end?;
            u64::try_from((end - start).num_milliseconds()).ok()
        });
        record.tags = tags(&self.tags);
        if let Some(group) = self.model_group {
            record.tags.insert("model_group".into(), group);
        }
        if let Some(call_type) = self.call_type {
            record.tags.insert("call_type".into(), call_type);
        }
        if self.cache_hit {
            record.tags.insert("cache_hit".into(), "true".into());
        }
        record.dedup = DedupPolicy::KeepFirst;
        Ok(record)
    }
}

/// `key:value` / `key=value` → `key` = `value`; a plain tag `t` → `t` = `true`.
fn tags(request_tags: &[Text]) -> BTreeMap<Text, Text> {
    let mut out = BTreeMap::new();
    for tag in request_tags {
        let (key, value) = match tag.split_once([':', '=']) {
            Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
                (Text::from(k.trim()), Text::from(v.trim()))
            }
            _ => (Text::from(tag.trim()), "true".into()),
        };
        out.insert(key, value);
    }
    out
}

/// `custom_llm_provider` (or a model prefix) as a provider: `Provider::parse` plus LiteLLM's variants.
fn provider_of(name: &str) -> Option<Provider> {
    if let Some(p) = Provider::parse(name) {
        return Some(p);
    }
    let lower = name.trim().to_ascii_lowercase();
    Some(match lower.as_str() {
        "text-completion-openai" | "chatgpt" => Provider::OpenAI,
        "google_ai_studio" | "palm" => Provider::Google,
        l if l.starts_with("vertex_ai") || l.starts_with("gemini") => Provider::Google,
        l if l.starts_with("bedrock") => Provider::Bedrock,
        l if l.starts_with("azure") => Provider::Azure,
        l if l.starts_with("anthropic") => Provider::Anthropic,
        _ => return None,
    })
}

fn read_csv(
    mut reader: impl Read,
    file: &Arc<str>,
    emit: &mut Emit<'_>,
) -> Result<(), RecordError> {
    let mut csv = common::csv_reader(&mut reader)?;
    let header: Vec<String> = csv
        .headers()
        .map_err(|e| RecordError::new(1, format!("not a valid CSV header: {e}")))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let has = |c: &str| header.iter().any(|h| h == c);
    if !(has("request_id") && has("spend") && has("startTime")) {
        return Err(RecordError::new(
            1,
            "not a LiteLLM spend log export: expected the columns request_id, spend and startTime",
        ));
    }
    let columns: HashMap<String, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.clone(), i))
        .collect();
    common::for_each_csv_row(&mut csv, emit, |record, line| {
        csv_record(record, &columns, line, file).map(Some)
    })
}

fn csv_record(
    record: &csv::StringRecord,
    columns: &HashMap<String, usize>,
    line: u64,
    file: &Arc<str>,
) -> Result<UsageRecord, RecordError> {
    let text = |c: &str| -> Option<&str> {
        let cell = record.get(*columns.get(c)?)?.trim();
        (!cell.is_empty() && cell != "None" && cell != "null").then_some(cell)
    };
    let string = |c: &str| text(c).map(Text::from);
    let count = |c: &str| -> Result<Option<u64>, RecordError> {
        let Some(t) = text(c) else { return Ok(None) };
        parse_number_cell(t)
            .filter(|d| d.fract().is_zero() && !d.is_sign_negative())
            .and_then(|d| u64::try_from(d).ok())
            .map(Some)
            .ok_or_else(|| {
                RecordError::field(line, c, format!("{t:?} is not a count (a whole number)"))
            })
    };
    let time = |c: &str| -> Result<Option<DateTime<Utc>>, RecordError> {
        match text(c) {
            None => Ok(None),
            Some(t) => text_time(t)
                .map_err(|_| RecordError::field(line, c, format!("{t:?} is not a valid time"))),
        }
    };
    let cost = match text("spend") {
        None => None,
        Some(t) => Some(parse_number_cell(t).ok_or_else(|| {
            RecordError::field(line, "spend", format!("{t:?} is not a decimal number"))
        })?),
    };
    let meta = Metadata::from_text(text("metadata").unwrap_or(""), "metadata", line)?;
    let tags = request_tags_text(text("request_tags").unwrap_or(""), "request_tags", line)?;
    let duration_ms = match text("request_duration_ms") {
        None => None,
        Some(t) => parse_number_cell(t).and_then(|d| u64::try_from(d.round()).ok()),
    };
    let entry = Entry {
        id: string("request_id"),
        call_type: string("call_type"),
        model: string("model"),
        model_group: string("model_group"),
        provider: string("custom_llm_provider"),
        user: string("user"),
        end_user: string("end_user"),
        team_id: string("team_id"),
        team_alias: string("team_alias"),
        status: string("status"),
        cost,
        prompt_tokens: count("prompt_tokens")?,
        completion_tokens: count("completion_tokens")?,
        start: time("startTime")?,
        end: time("endTime")?,
        duration_ms,
        cache_hit: text("cache_hit").is_some_and(truthy),
        tags,
        usage: meta.usage,
        meta,
        service_tier: None,
    };
    let content = record.as_slice().as_bytes().to_vec();
    entry.into_record(&content, "startTime", file, line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    fn parse(input: &str) -> Result<(Vec<UsageRecord>, Vec<RecordError>), RecordError> {
        crate::sources::testing::read_split(&LiteLlm, input)
    }

    const SPEND_ROW: &str = r#"{"request_id":"chatcmpl-abc123","call_type":"acompletion","api_key":"88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
 "spend":0.00123456789,"total_tokens":13000,"prompt_tokens":12000,"completion_tokens":1000,
 "startTime":"2026-10-09T08:00:00.000Z","endTime":"2026-10-09T08:00:02.500Z","model":"claude-sonnet-4-5-20250929",
 "model_group":"sonnet","custom_llm_provider":"anthropic","user":"","end_user":"cust-7","team_id":"team-uuid-1",
 "metadata":{"user_api_key_hash":"88dc28d0","user_api_key_alias":"search-prod","user_api_key_team_alias":"search",
   "requester_ip_address":"10.0.0.1","usage_object":{"prompt_tokens":12000,"completion_tokens":1000,"total_tokens":13000,
   "prompt_tokens_details":{"cached_tokens":8000,"cache_creation_tokens":3000,
     "cache_creation_token_details":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":2000}},
   "completion_tokens_details":{"reasoning_tokens":300},"cache_creation_input_tokens":3000,"cache_read_input_tokens":8000}},
 "cache_hit":"False","request_tags":["env:prod","batch-job"],"status":"success","messages":[{"role":"user","content":"secret"}]}"#;

    #[test]
    fn spend_log_rows_use_the_usage_object() {
        let (records, errors) = parse(&format!("[{SPEND_ROW}]")).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        let r = &records[0];
        // prompt_tokens 12_000 includes 8_000 cache reads and 3_000 cache writes: 1_000 uncached
        assert_eq!(r.tokens.input, 1_000);
        assert_eq!(r.tokens.cache_read, 8_000);
        assert_eq!(
            (r.tokens.cache_write_5m, r.tokens.cache_write_1h),
            (1_000, 2_000)
        );
        assert_eq!((r.tokens.output, r.tokens.reasoning), (1_000, 300));
        assert_eq!(r.tokens.prompt_total(), 12_000);
        assert_eq!(r.reported_cost, Some(dec!(0.00123456789)));
        assert_eq!(r.provider, Provider::Anthropic);
        assert_eq!(r.model, "claude-sonnet-4-5-20250929");
        assert_eq!(r.id, "litellm:chatcmpl-abc123");
        assert_eq!(r.dedup, DedupPolicy::KeepFirst);
        assert_eq!(r.team.as_deref(), Some("search"));
        assert_eq!(
            r.user.as_deref(),
            Some("cust-7"),
            "end_user when user is empty"
        );
        assert_eq!(
            r.api_key.as_deref(),
            Some("search-prod"),
            "the alias, never the hash"
        );
        assert_eq!(r.latency_ms, Some(2_500));
        assert_eq!(r.tags["env"], "prod");
        assert_eq!(r.tags["batch-job"], "true");
        assert_eq!(r.tags["model_group"], "sonnet");
        assert_eq!(r.start, Utc.with_ymd_and_hms(2026, 10, 9, 8, 0, 0).unwrap());
        assert!(!r.failed);
        let debug = format!("{r:?}");
        assert!(
            !debug.contains("88dc28d0") && !debug.contains("secret") && !debug.contains("10.0.0.1")
        );
    }

    #[test]
    fn older_litellm_left_cache_writes_outside_prompt_tokens() {
        let row = r#"{"request_id":"r1","spend":0.1,"startTime":"2026-10-09T08:00:00Z","model":"claude-sonnet-4-5","custom_llm_provider":"anthropic",
          "metadata":"{\"usage_object\": {\"prompt_tokens\": 1010, \"completion_tokens\": 5, \"prompt_tokens_details\": {\"cached_tokens\": 1000}, \"cache_creation_input_tokens\": 5000}}"}"#;
        let (records, errors) = parse(&row.replace('\n', "")).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        let t = &records[0].tokens;
        // 1_010 − 1_000 read = 10 left, fewer than the 5_000 written: the writes were on top
        assert_eq!(
            (t.input, t.cache_read, t.cache_write_5m),
            (10, 1_000, 5_000)
        );
    }

    #[test]
    fn logging_payload_lines() {
        let line = r#"{"id":"chatcmpl-xyz","trace_id":"t1","call_type":"acompletion","response_cost":0.0045,"status":"success",
          "total_tokens":1200,"prompt_tokens":1000,"completion_tokens":200,"startTime":1791532800.25,"endTime":1791532801.5,
          "model":"gpt-4o","model_group":"gpt-4o","custom_llm_provider":"openai","api_base":"https://api.openai.com/v1",
          "metadata":{"user_api_key_hash":"abc","user_api_key_alias":"ci-key","user_api_key_team_alias":"platform","user_api_key_user_id":"u-9"},
          "messages":[{"role":"user","content":"secret prompt"}],
          "response":{"id":"chatcmpl-xyz","object":"chat.completion","model":"gpt-4o-2024-08-06","service_tier":"default",
            "choices":[{"message":{"content":"secret answer"}}],
            "usage":{"prompt_tokens":1000,"completion_tokens":200,"prompt_tokens_details":{"cached_tokens":400}}},
          "request_tags":["team:platform"],"end_user":null}"#
            .replace('\n', "");
        let failed = r#"{"id":"f1","call_type":"acompletion","response_cost":0,"status":"failure","startTime":1791532900,"model":"gpt-4o","custom_llm_provider":"azure_ai","prompt_tokens":50,"response":"redacted"}"#;
        let hit = r#"{"id":"h1","call_type":"acompletion","response_cost":0,"status":"success","startTime":1791532900,"model":"openai/gpt-4o","cache_hit":true,"prompt_tokens":50,"completion_tokens":5}"#;
        let (records, errors) = parse(&format!("{line}\n\n{failed}\n{hit}\n")).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        let r = &records[0];
        // 1_000 prompt − 400 cached = 600 uncached
        assert_eq!(
            (r.tokens.input, r.tokens.cache_read, r.tokens.output),
            (600, 400, 200)
        );
        assert_eq!(r.service_tier.as_deref(), Some("default"));
        assert_eq!(r.reported_cost, Some(dec!(0.0045)));
        assert_eq!(r.id, "litellm:chatcmpl-xyz");
        assert_eq!(r.latency_ms, Some(1_250));
        assert_eq!(r.team.as_deref(), Some("platform"));
        assert_eq!(r.user.as_deref(), Some("u-9"));
        assert_eq!(r.api_key.as_deref(), Some("ci-key"));
        assert_eq!(r.provider, Provider::OpenAI);
        assert_eq!(r.provenance.line, 1);
        let f = &records[1];
        assert!(f.failed);
        assert!(f.tokens.is_empty());
        assert_eq!(f.provider, Provider::Azure);
        assert_eq!(f.provenance.line, 3);
        let h = &records[2];
        assert!(
            h.tokens.is_empty(),
            "a cache hit is not billed by the provider"
        );
        assert_eq!(h.tags["cache_hit"], "true");
        assert_eq!(
            h.provider,
            Provider::OpenAI,
            "from the model when no provider is named"
        );
    }

    #[test]
    fn csv_exports() {
        let csv = "request_id,call_type,api_key,spend,total_tokens,prompt_tokens,completion_tokens,startTime,endTime,request_duration_ms,model,model_group,custom_llm_provider,user,metadata,cache_hit,request_tags,team_id,end_user,status\n\
            r-1,acompletion,hash123,0.0075,1500,1000,500,2026-10-09 08:00:00.123+00,2026-10-09 08:00:01.123+00,1000,gpt-4o-mini,mini,openai,alice,\"{\"\"user_api_key_alias\"\": \"\"k1\"\", \"\"user_api_key_team_alias\"\": \"\"search\"\"}\",False,\"[\"\"env:dev\"\"]\",team-1,,success\n\
            r-2,acompletion,hash123,0.5,10,10.0,0,2026-10-09T09:00:00Z,,,bedrock/anthropic.claude-3-haiku,,bedrock_converse,,,True,,,,success\n\
            r-3,acompletion,hash123,abc,10,10,0,2026-10-09T09:00:00Z,,,gpt-4o,,openai,,,,,,,success\n\
            r-4,acompletion,hash123,0.1,10,1.5,0,2026-10-09T09:00:00Z,,,gpt-4o,,openai,,,,,,,success\n\
            r-5,acompletion,hash123,0.1,10,1,0,,,,gpt-4o,,openai,,,,,,,success\n";
        let (records, errors) = parse(csv).unwrap();
        assert_eq!(records.len(), 2);
        let r = &records[0];
        assert_eq!((r.tokens.input, r.tokens.output), (1_000, 500));
        assert_eq!(r.reported_cost, Some(dec!(0.0075)));
        assert_eq!(r.api_key.as_deref(), Some("k1"));
        assert_eq!(r.team.as_deref(), Some("search"));
        assert_eq!(r.user.as_deref(), Some("alice"));
        assert_eq!(r.tags["env"], "dev");
        assert_eq!(r.latency_ms, Some(1_000));
        assert_eq!(
            r.start,
            Utc.with_ymd_and_hms(2026, 10, 9, 8, 0, 0).unwrap()
                + chrono::Duration::milliseconds(123)
        );
        assert_eq!(r.provenance.line, 2);
        assert_eq!(records[1].provider, Provider::Bedrock);
        assert!(records[1].tokens.is_empty(), "cache hit");
        assert_eq!(errors.len(), 3);
        assert_eq!(
            (errors[0].line, errors[0].field.as_deref()),
            (4, Some("spend"))
        );
        assert_eq!(
            (errors[1].line, errors[1].field.as_deref()),
            (5, Some("prompt_tokens"))
        );
        assert_eq!(
            (errors[2].line, errors[2].field.as_deref()),
            (6, Some("startTime"))
        );
    }

    #[test]
    fn bad_json_rows_name_path_and_line() {
        let (records, errors) = parse(
            "[{\"request_id\":\"a\",\"spend\":1,\"startTime\":\"2026-10-09T08:00:00Z\"},\n\
             {\"request_id\":\"b\",\"spend\":1,\"startTime\":\"2026-10-09T08:00:00Z\",\n\
              \"metadata\":{\"usage_object\":{\"prompt_tokens\":10,\"prompt_tokens_details\":{\"cached_tokens\":20}}}},\n\
             {\"request_id\":\"c\",\"spend\":\"x\",\"startTime\":\"2026-10-09T08:00:00Z\"}]",
        )
        .unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(
            errors[0].field.as_deref(),
            Some("[1].metadata.usage_object.prompt_tokens_details.cached_tokens")
        );
        assert_eq!(errors[0].line, 2);
        assert_eq!(errors[1].field.as_deref(), Some("[2].spend"));
        assert_eq!(errors[1].line, 4);
        let e = parse("[{\"request_id\":\"a\",\n").unwrap_err();
        assert!(e.message.starts_with("not valid JSON"), "{}", e.message);
    }

    #[test]
    fn detection() {
        let p = Path::new("x");
        assert!(LiteLlm.detect(p, format!("[{SPEND_ROW}]").as_bytes()));
        assert!(LiteLlm.detect(
            p,
            br#"{"id":"x","call_type":"acompletion","response_cost":0.1,"response":{"object":"chat.completion"}}"#
        ));
        assert!(LiteLlm.detect(p, b"request_id,call_type,api_key,spend,startTime\n"));
        assert!(!LiteLlm.detect(
            p,
            br#"{"timestamp":"2026-10-03T14:22:05Z","request_id":"req_1","response":{"object":"chat.completion"}}"#
        ));
        assert!(!LiteLlm.detect(p, b"start_time,end_time,amount_value,line_item\n"));
    }
}
