//! `api-log`: JSON lines of API calls (SPEC "API log lines"). A line is a raw provider response (OpenAI chat
//! completion, OpenAI Responses, Anthropic message, Gemini `generateContent`) or an envelope around one:
//!
//! ```json
//! {"timestamp": "2026-10-03T14:22:05Z", "team": "search", "project": "ranker", "user": "u-42",
//!  "tags": {"env": "prod"}, "provider": "anthropic", "status": 200, "latency_ms": 812,
//!  "request_id": "req_…", "response": { …raw response… }}
//! ```
//!
//! Each line is parsed once, into one struct holding the envelope keys and the response keys (the response
//! keys are read by [`RawResponse::read_value`], shared with every reader of response shapes). Tokens are
//! mapped by `response.rs` (the overlaps differ per shape). The envelope's `timestamp` wins over the
//! response's own; its `provider` wins over the shape (an `azure` envelope around an OpenAI response is
//! Azure, read as OpenAI). A failed request (status >= 400 or an `error`) is kept with zero tokens, unless
//! its usage shows output produced before it failed (a stream cut off), which is billed; its failure class
//! comes from the status, else the error's `type`/`code`.
//! Kept: `team`, `project`, `user`, `tags`, `status`, `latency_ms`, `attempt`, `retry_of`, `request_id`
//! (only inside the record id); every other key, and all text, is skipped without being copied.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use super::shared::common;
use super::shared::json::DeserializeInto;
use super::shared::response::{
    self, Key, KeyName, Label, RawResponse, ResponseInto, ResponseKey, Shape,
};
use super::{InOrder, JsonValues, LineParser, OrderedLineParser, Reader, Source};
use crate::error::RecordError;
use crate::record::{
    concat, content_id, DedupPolicy, FailureClass, Provenance, Provider, Text, UsageRecord,
};
use crate::timestamp::Timestamp;

/// Reads API log lines: raw provider responses or envelopes around them.
pub struct ApiLog;

const NAME: &str = "api-log";

impl Source for ApiLog {
    fn name(&self) -> &'static str {
        NAME
    }

    fn reads(&self) -> &'static str {
        "API logs: raw OpenAI chat/Responses, Anthropic or Gemini responses, or envelopes {timestamp, \
         team, project, user, tags, provider, status, latency_ms, request_id, attempt, retry_of, \
         response}, as JSON lines, one pretty-printed .json, or an array; streamed responses \
         (Responses events, chat chunks, Anthropic events, Gemini chunks) as JSON lines or server-sent \
         events text; OpenAI Batch and Vertex AI batch prediction output files (priced at batch rates)"
    }

    fn detected_by(&self) -> &'static str {
        "JSON with a \"response\" key, or raw responses (\"object\":\"chat.completion\"/\"response\", \
         \"type\":\"message\" with usage, usageMetadata) or stream events; event:/data: lines of such; not \
         lines with a sessionId"
    }

    fn detect(&self, _path: &Path, head: &[u8]) -> bool {
        if is_sse(head) {
            // Server-sent events logged from the wire: `data:` lines of response events or chunks.
            return common::contains(head, b"\"message_start\"")
                || common::contains(head, b"\"response.created\"")
                || response::looks_like_raw_response(head);
        }
        if common::looks_like_json(head) && !common::is_json_lines(head) {
            // A JSON document: one response pretty-printed (saved as `.json`), or an array of them.
            return !common::has_key(head, "sessionId")
                && (common::has_key(head, "response") || response::looks_like_raw_response(head));
        }
        let lines = common::head_lines(head, 5);
        if lines.is_empty() {
            return false;
        }
        let mut has_response = false;
        for line in lines {
            if line.first() != Some(&b'{') || common::has_key(line, "sessionId") {
                return false;
            }
            if common::has_key(line, "response") || response::looks_like_raw_response(line) {
                has_response = true;
            } else if is_stream_event_line(line) {
                // An event of a streamed response (a text delta, a ping): part of a request.
            } else if !ENVELOPE_KEYS.iter().any(|k| common::has_key(line, k))
                // A failed request's bare error body (`{"error": {…}}`) among the responses.
                && !common::has_key(line, "error")
            {
                return false;
            }
        }
        has_response
    }

    fn reader(&self, head: &[u8]) -> Reader<'_> {
        match head.trim_ascii_start().first() {
            // A JSON array of responses or log lines.
            Some(b'[') => Reader::Stream(&JsonValues(ApiLog)),
            // JSON lines, each parsed on its own (in parallel), but for the events of Anthropic streams,
            // read in order wherever they are in the file (see `LineParser::in_order`).
            Some(b'{') if common::is_json_lines(head) => Reader::Lines(self),
            // Server-sent events, pretty-printed objects, or a head too short to tell: read in order,
            // which reads plain JSON lines alike.
            _ => Reader::OrderedLines(Box::<StreamLog>::default()),
        }
    }
}

/// Whether the file is server-sent events as logged from the wire: its first line is `event: …`,
/// `data: …`, `id: …` or a `:` comment.
fn is_sse(head: &[u8]) -> bool {
    let first = head
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|l| !l.is_empty());
    first.is_some_and(|l| {
        l.starts_with(b"event:")
            || l.starts_with(b"data:")
            || l.starts_with(b"id:")
            || l.starts_with(b":")
    })
}

/// The JSON of one line of a streamed log: the payload of an SSE `data:` line, a JSON line as it is, or
/// `None` for SSE framing (`event:`, `id:`, `retry:`, comments, `data: [DONE]`).
fn sse_payload(line: &[u8]) -> Option<&[u8]> {
    let line = line.trim_ascii();
    if let Some(data) = line.strip_prefix(b"data:") {
        let data = data.trim_ascii();
        return (data.first() == Some(&b'{')).then_some(data);
    }
    let framing = line.starts_with(b"event:")
        || line.starts_with(b"id:")
        || line.starts_with(b"retry:")
        || line.starts_with(b":");
    (!framing).then_some(line)
}

/// Streamed API logs, read in order: server-sent events (`data: {…}` lines) and pretty-printed objects;
/// their Anthropic events are read by [`AnthropicEvents`], every other value as in [`ApiLog`].
#[derive(Default)]
struct StreamLog {
    events: AnthropicEvents,
    /// A pretty-printed object being read: its first line, and its lines so far.
    document: Option<(u64, Vec<u8>)>,
}

/// Anthropic event streams (raw, or each event in an envelope), read in order: `message_start` carries
/// the id, the model and the input usage, a later `message_delta` the output usage (cumulative, with the
/// final input, cache and server tool counts where the API sends them). A request is handed on once,
/// when its `message_delta` arrives (or when the stream is cut short: at the next `message_start` of the
/// same stream, or the end of the file). Streams logged interleaved are told apart by the envelope's
/// `request_id`; without one, a `message_delta` completes the latest `message_start`. Any other line
/// reads as in [`ApiLog`].
#[derive(Default)]
struct AnthropicEvents {
    /// The requests of `message_start`s waiting for their `message_delta`, oldest first, each with its
    /// envelope's `request_id`.
    pending: Vec<(Option<Text>, UsageRecord)>,
}

/// Whether a JSON line is an Anthropic `message_start` or `message_delta` event (raw or in an
/// envelope): a quick look for either name as a JSON string, which can stand in no text (a quote inside
/// a string is escaped).
fn is_anthropic_stream_step(line: &[u8]) -> bool {
    // Built once: this runs for every line of an API log, and building the searcher cost as much as the
    // search.
    static MESSAGE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"message_"));
    MESSAGE.find_iter(line).any(|i| {
        let rest = &line[i + 9..];
        rest.starts_with(b"start\"") || rest.starts_with(b"delta\"")
    })
}

/// A `message_delta` event's usage: cumulative counts for the whole message.
#[derive(Deserialize, Default)]
struct DeltaUsage {
    output_tokens: Option<u64>,
    input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    server_tool_use: Option<response::ServerToolUse>,
}

/// A stream event line: raw (a `message_delta`'s `usage` at the top) or in an envelope (its
/// `response.usage`, and the `request_id` that tells interleaved streams apart).
#[derive(Deserialize)]
struct EventLine<'a> {
    usage: Option<DeltaUsage>,
    response: Option<DeltaInner>,
    #[serde(borrow)]
    request_id: Option<Label<'a>>,
}

#[derive(Deserialize)]
struct DeltaInner {
    usage: Option<DeltaUsage>,
}

/// The events of Anthropic streams, each a JSON value (a line, an SSE payload, or a pretty-printed
/// object); every other line reads as in [`ApiLog`].
impl OrderedLineParser for AnthropicEvents {
    fn parse_line(
        &mut self,
        line: &[u8],
        at: &Provenance,
        out: &mut Vec<UsageRecord>,
    ) -> Result<(), RecordError> {
        if response::has_key_value(line, "type", "message_delta") {
            let delta: EventLine = common::parse_json(line, at.line)?;
            let key = delta.request_id.as_ref().and_then(Label::to_nonempty);
            let usage = delta
                .usage
                .or(delta.response.and_then(|r| r.usage))
                .unwrap_or_default();
            let Some(mut record) = self.take(key.as_deref()) else {
                return Err(RecordError::new(
                    at.line,
                    "a message_delta event without the message_start before it: log every event of \
                     the stream, in order",
                ));
            };
            let t = &mut record.tokens;
            t.output = usage.output_tokens.unwrap_or(t.output);
            t.input = t.input.max(usage.input_tokens.unwrap_or(0));
            t.cache_read = t.cache_read.max(usage.cache_read_input_tokens.unwrap_or(0));
            let written = t.cache_write_5m.saturating_add(t.cache_write_1h);
            if let Some(more) = usage
                .cache_creation_input_tokens
                .and_then(|c| c.checked_sub(written))
            {
                t.cache_write_5m = t.cache_write_5m.saturating_add(more);
            }
            if let Some(tools) = &usage.server_tool_use {
                let most = |n: &mut u64, m: Option<u64>| *n = (*n).max(m.unwrap_or(0));
                most(&mut t.web_search_requests, tools.web_search_requests);
                most(&mut t.web_fetch_requests, tools.web_fetch_requests);
                most(&mut t.code_execution_calls, tools.code_execution_requests);
            }
            out.push(record);
            return Ok(());
        }
        let starts = response::has_key_value(line, "type", "message_start");
        let mut read = Vec::new();
        ApiLog.parse_line(line, at, &mut read)?;
        let mut read = read.into_iter();
        if starts {
            if let Some(first) = read.next() {
                let key: EventLine = common::parse_json(line, at.line)?;
                let key = key.request_id.as_ref().and_then(Label::to_nonempty);
                // A stream of the same request started again: the earlier one was cut short.
                if let Some(i) = self.pending.iter().position(|(k, _)| *k == key) {
                    out.push(self.pending.remove(i).1);
                }
                self.pending.push((key, first));
            }
        }
        out.extend(read);
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<UsageRecord>) -> Result<(), RecordError> {
        out.extend(self.pending.drain(..).map(|(_, r)| r));
        Ok(())
    }
}

impl AnthropicEvents {
    /// The waiting request a `message_delta` with the envelope's `request_id` `key` completes: the latest
    /// with that key, else the latest.
    fn take(&mut self, key: Option<&str>) -> Option<UsageRecord> {
        let i = self
            .pending
            .iter()
            .rposition(|(k, _)| k.as_deref() == key)
            .or(self.pending.len().checked_sub(1))?;
        Some(self.pending.remove(i).1)
    }
}

impl OrderedLineParser for StreamLog {
    fn parse_line(
        &mut self,
        line: &[u8],
        at: &Provenance,
        out: &mut Vec<UsageRecord>,
    ) -> Result<(), RecordError> {
        // A pretty-printed object: its lines from a `{` alone on a line to a `}` alone at the start of a
        // line are one value.
        if let Some((first, doc)) = self.document.as_mut() {
            doc.extend_from_slice(line);
            doc.push(b'\n');
            // The closing brace at the start of a line: inner objects' are indented.
            if line.trim_ascii_end() != b"}" {
                return Ok(());
            }
            let value_at = Provenance {
                file: at.file.clone(),
                line: *first,
            };
            let doc = std::mem::take(doc);
            self.document = None;
            return self.events.parse_line(&doc, &value_at, out);
        }
        let Some(line) = sse_payload(line) else {
            return Ok(());
        };
        if line == b"{" {
            self.document = Some((at.line, b"{\n".to_vec()));
            return Ok(());
        }
        self.events.parse_line(line, at, out)
    }

    fn finish(&mut self, out: &mut Vec<UsageRecord>) -> Result<(), RecordError> {
        self.events.finish(out)?;
        match self.document.take() {
            Some((line, _)) => Err(RecordError::new(
                line,
                "not valid JSON: the object that starts here does not end (a file cut short?)",
            )),
            None => Ok(()),
        }
    }
}

impl LineParser for ApiLog {
    fn parse_line(
        &self,
        line: &[u8],
        at: &Provenance,
        out: &mut Vec<UsageRecord>,
    ) -> Result<(), RecordError> {
        let mut log = LogLine::default();
        common::parse_json_into(line, at.line, &mut log)?;
        log.take_records(line, at, out)
    }

    /// Anthropic stream events: a `message_delta` completes the `message_start` before it, wherever the
    /// chunks of the file are cut.
    fn in_order(&self) -> Option<InOrder<'_>> {
        Some(InOrder {
            takes: is_anthropic_stream_step,
            parser: Box::<AnthropicEvents>::default(),
        })
    }
}

/// The records of an Anthropic request's extra sampling iterations (`usage.iterations` other than
/// `message`: server-side compaction, an advisor), billed on top of the top-level counts. Each is a
/// record of its own, `<id>:iteration:<n>`, so that each is priced at its model's rates and long-context
/// threshold; it counts no request (the request is the main record's).
pub fn iteration_records(
    main: &UsageRecord,
    iterations: &response::Iterations,
    base: &str,
    out: &mut Vec<UsageRecord>,
) -> Result<(), RecordError> {
    for (i, it) in iterations.0.iter().enumerate() {
        if !it.is_extra() {
            continue;
        }
        let path = format!("{}[{i}]", response::join(base, "usage.iterations"));
        let mut record = main.clone();
        record.id = compact_str::format_compact!("{}:iteration:{i}", main.id);
        if let Some(model) = it.model.as_ref().and_then(Label::to_nonempty) {
            record.model = model;
        }
        record.tokens = it.tokens(&path, main.provenance.line)?;
        record.requests = 0;
        out.push(record);
    }
    Ok(())
}

/// Whether a JSON line is an event of a streamed response (`"type": "response.output_text.delta"`,
/// `"type": "content_block_delta"`, …).
fn is_stream_event_line(line: &[u8]) -> bool {
    let Some(i) = memchr::memmem::find(line, b"\"type\"") else {
        return false;
    };
    let rest = line[i + 6..].trim_ascii_start();
    let Some(rest) = rest.strip_prefix(b":") else {
        return false;
    };
    let Some(value) = rest.trim_ascii_start().strip_prefix(b"\"") else {
        return false;
    };
    let end = memchr::memchr(b'"', value).unwrap_or(value.len());
    std::str::from_utf8(&value[..end]).is_ok_and(response::is_stream_event)
}

/// Envelope keys that, without a `response`, still mark a log line (a failed request with no body); a bare
/// `error` body marks one too.
const ENVELOPE_KEYS: [&str; 4] = ["timestamp", "request_id", "status", "provider"];

/// The keys of an API log line: the envelope's, and (for a raw line, or `model`/`error` of an envelope)
/// the response's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKey {
    Timestamp,
    Team,
    Project,
    User,
    Tags,
    Provider,
    Status,
    LatencyMs,
    RequestId,
    Response,
    /// OpenAI Batch output: the id the caller gave the request.
    CustomId,
    /// Vertex AI batch prediction output: when the request was processed.
    ProcessedTime,
    /// Bedrock: the model id (an inference profile such as `us.anthropic.…`) given by the envelope.
    ModelId,
    /// The request's metadata: only its `modelId` / `model` is kept.
    Request,
    /// Which attempt of a request this line is (1 = the first).
    Attempt,
    /// The `request_id` of the request this line retries.
    RetryOf,
    Raw(ResponseKey),
}

impl KeyName for LineKey {
    fn from_name(name: &[u8]) -> Option<LineKey> {
        // By length first, then among the few names of that length: this runs for every key of a line,
        // and a plain match tried the names one after another.
        let key = match name.len() {
            4 => match name {
                b"team" => LineKey::Team,
                b"user" => LineKey::User,
                b"tags" => LineKey::Tags,
                _ => return raw_key(name),
            },
            6 => match name {
                b"status" => LineKey::Status,
                _ => return raw_key(name),
            },
            7 => match name {
                b"project" => LineKey::Project,
                b"modelId" => LineKey::ModelId,
                b"request" => LineKey::Request,
                b"attempt" => LineKey::Attempt,
                _ => return raw_key(name),
            },
            8 => match name {
                b"provider" => LineKey::Provider,
                b"response" => LineKey::Response,
                b"model_id" => LineKey::ModelId,
                b"retry_of" => LineKey::RetryOf,
                _ => return raw_key(name),
            },
            9 => match name {
                b"timestamp" => LineKey::Timestamp,
                b"custom_id" => LineKey::CustomId,
                _ => return raw_key(name),
            },
            10 => match name {
                b"latency_ms" => LineKey::LatencyMs,
                b"request_id" => LineKey::RequestId,
                _ => return raw_key(name),
            },
            14 => match name {
                b"processed_time" => LineKey::ProcessedTime,
                _ => return raw_key(name),
            },
            _ => return raw_key(name),
        };
        Some(key)
    }
}

/// A response key at the top of a line (a raw response, or an envelope's `model`/`error`).
fn raw_key(name: &[u8]) -> Option<LineKey> {
    ResponseKey::from_name(name).map(LineKey::Raw)
}

/// One line, envelope and response keys together.
#[derive(Default)]
struct LogLine<'a> {
    timestamp: Option<Timestamp>,
    team: Option<Label<'a>>,
    project: Option<Label<'a>>,
    user: Option<Label<'a>>,
    tags: Option<Tags>,
    provider: Option<Label<'a>>,
    status: Option<HttpStatus>,
    latency_ms: Option<Millis>,
    request_id: Option<Label<'a>>,
    /// The wrapped response of an envelope.
    response: Option<RawResponse<'a>>,
    /// OpenAI Batch output line (`custom_id`).
    custom_id: bool,
    /// Vertex AI batch prediction output line (`processed_time`).
    processed_time: Option<Timestamp>,
    /// The model the envelope (`modelId`, `request.modelId`) names: Bedrock responses do not carry it.
    model_id: Option<Label<'a>>,
    attempt: Option<Label<'a>>,
    retry_of: Option<Label<'a>>,
    /// Response keys at the top level: the whole response of a raw line, or an envelope's `model`/`error`.
    top: RawResponse<'a>,
    /// Whether any envelope key was present.
    envelope: bool,
}

impl<'de: 'a, 'a> Deserialize<'de> for LogLine<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LogLine<'a>, D::Error> {
        let mut l = LogLine::default();
        LogLine::deserialize_into(d, &mut l)?;
        Ok(l)
    }
}

impl<'de: 'a, 'a> DeserializeInto<'de> for LogLine<'a> {
    fn deserialize_into<D: Deserializer<'de>>(
        d: D,
        place: &mut LogLine<'a>,
    ) -> Result<(), D::Error> {
        struct V<'p, 'a>(&'p mut LogLine<'a>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'_, 'a> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object (a provider response or a log envelope)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                let l = self.0;
                while let Some(Key(key)) = map.next_key::<Key<LineKey>>()? {
                    let Some(key) = key else {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    };
                    l.envelope |= !matches!(key, LineKey::Raw(_));
                    match key {
                        LineKey::Timestamp => l.timestamp = map.next_value()?,
                        LineKey::Team => l.team = map.next_value()?,
                        LineKey::Project => l.project = map.next_value()?,
                        LineKey::User => l.user = map.next_value()?,
                        LineKey::Tags => l.tags = map.next_value()?,
                        LineKey::Provider => l.provider = map.next_value()?,
                        LineKey::Status => l.status = map.next_value()?,
                        LineKey::LatencyMs => l.latency_ms = map.next_value()?,
                        LineKey::RequestId => l.request_id = map.next_value()?,
                        LineKey::Response => map.next_value_seed(ResponseInto(&mut l.response))?,
                        LineKey::CustomId => {
                            map.next_value::<IgnoredAny>()?;
                            l.custom_id = true;
                        }
                        LineKey::ProcessedTime => l.processed_time = map.next_value()?,
                        LineKey::ModelId => l.model_id = map.next_value()?,
                        LineKey::Request => {
                            let request: RequestField = map.next_value()?;
                            if let RequestField::Meta(RequestMeta { model_id, model }) = request {
                                if let Some(id) = model_id.or(model) {
                                    l.model_id.get_or_insert(id);
                                }
                            }
                        }
                        LineKey::Attempt => l.attempt = map.next_value()?,
                        LineKey::RetryOf => l.retry_of = map.next_value()?,
                        LineKey::Raw(key) => l.top.read_value(key, &mut map)?,
                    }
                }
                Ok(())
            }
        }
        d.deserialize_map(V(place))
    }
}

impl LogLine<'_> {
    /// The records of the line, taking what they keep out of `self`.
    fn take_records(
        &mut self,
        line: &[u8],
        at: &Provenance,
        out: &mut Vec<UsageRecord>,
    ) -> Result<(), RecordError> {
        let LogLine {
            timestamp,
            team,
            project,
            user,
            tags,
            provider,
            status,
            latency_ms,
            request_id,
            response,
            custom_id,
            processed_time,
            model_id,
            attempt,
            retry_of,
            top,
            envelope,
        } = self;
        let (timestamp, status, latency_ms, processed_time) =
            (*timestamp, *status, *latency_ms, *processed_time);
        // `raw` is the provider response; `top` keeps an envelope's own `model`, `error` and timestamps.
        let (mut raw, mut base, top): (&RawResponse, _, Option<&RawResponse>) = match response {
            Some(inner) => (inner, "response", Some(top)),
            None => (top, "", None),
        };
        // OpenAI Batch output wraps the response once more: `{"status_code", "request_id", "body"}`.
        let batch_status = raw.status_code;
        if let Some(body) = raw.body.as_deref() {
            raw = body;
            base = "response.body";
        }
        // A streamed response's events: only the event that carries the request's usage is a request.
        let event = [raw.kind.as_ref(), top.and_then(|t| t.kind.as_ref())]
            .into_iter()
            .flatten()
            .map(Label::as_str)
            .find(|k| response::is_stream_event(k));
        match event {
            None => {}
            // OpenAI Responses: usage is in the terminal event's `response` (a raw event line has it as the
            // line's `response`, an envelope around the event as the event's). The Realtime API's
            // `response.done` carries its response (and usage) the same way.
            Some(
                "response.completed" | "response.incomplete" | "response.failed" | "response.done",
            ) => {
                if let Some(inner) = raw.nested.as_deref() {
                    raw = inner;
                    base = if base.is_empty() {
                        "response"
                    } else {
                        "response.response"
                    };
                }
            }
            // Anthropic: `message_start` carries the id, the model and the input usage; the output usage
            // follows in `message_delta`, which the stream reader adds (see `StreamLog`).
            Some("message_start") => {
                raw = raw.nested.as_deref().ok_or_else(|| {
                    RecordError::field(
                        at.line,
                        response::join(base, "message"),
                        "missing in a message_start event",
                    )
                })?;
                base = if base.is_empty() {
                    "message"
                } else {
                    "response.message"
                };
            }
            Some(_) => return Ok(()),
        }
        // Batch output files are batch requests by construction: they bill at the batch rates.
        let batch = *custom_id || processed_time.is_some();

        let hint = match provider {
            Some(name) => Some(Provider::parse(name.as_str()).ok_or_else(|| {
                RecordError::field(
                    at.line,
                    "provider",
                    format!(
                        "unknown provider {:?}: expected one of {}",
                        name.as_str(),
                        Provider::ALL.map(Provider::as_str).join(", ")
                    ),
                )
            })?),
            None => None,
        };

        let status_code = status.and_then(|s| s.code).or(batch_status);
        // Vertex batch prediction: `status` is "" on success, else the error's text.
        let failed_text = processed_time.is_some() && status.is_some_and(|s| s.text);
        let failed = status_code.is_some_and(|s| s >= 400)
            || failed_text
            || raw.error.0
            || top.is_some_and(|t| t.error.0);

        // Streaming chunks before the last carry no usage: not a request of their own.
        if raw.is_chunk() && !raw.has_usage() && !failed {
            return Ok(());
        }
        let shape = Shape::of(raw, hint);
        if !*envelope && shape.is_none() && !raw.has_usage() && !failed {
            return Err(RecordError::new(
                at.line,
                "not an API log line: expected a provider response (\"object\":\"chat.completion\" or \
                 \"response\", \"type\":\"message\", usageMetadata) or an envelope with \"response\"",
            ));
        }

        let start = timestamp
            .or(processed_time)
            .or_else(|| raw.timestamp())
            .or_else(|| top.and_then(RawResponse::timestamp));
        // A failed request with no time anywhere (a bare `{"error": …}` body, a line of a Batch error file)
        // billed nothing and cannot be placed in a period: it is skipped, not an input error.
        if start.is_none() && failed {
            return Ok(());
        }
        let start = start.ok_or_else(|| {
                RecordError::field(
                    at.line,
                    "timestamp",
                    "no timestamp: add \"timestamp\" (RFC 3339, or unix seconds or milliseconds) by wrapping \
                     each line in an envelope: {\"timestamp\": \"2026-10-03T14:22:05Z\", \"response\": <the \
                     line>}; this response carries no time of its own (only OpenAI's created / created_at and \
                     Vertex's createTime do)",
                )
            })?;

        let tokens = match shape {
            // A failed request bills nothing, unless it produced output before it failed (a stream cut
            // off): that usage is billed.
            Some(shape) if failed => {
                let t = raw.tokens(shape, base, at.line).unwrap_or_default();
                if t.output > 0 {
                    t
                } else {
                    Default::default()
                }
            }
            _ if failed => Default::default(),
            Some(shape) => raw.tokens(shape, base, at.line)?,
            None if raw.has_usage() => {
                return Err(RecordError::field(
                    at.line,
                    response::join(base, "usage"),
                    "cannot tell the response's shape, so not whether input_tokens includes cached tokens \
                     (OpenAI) or not (Anthropic): name the \"provider\" in the envelope, or keep the \
                     response's \"object\" or \"type\"",
                ));
            }
            None => Default::default(),
        };
        let envelope_model = model_id
            .as_ref()
            .map(|m| m.as_str().trim())
            .filter(|m| !m.is_empty())
            .or_else(|| top.and_then(RawResponse::model));
        // Bedrock: the envelope's model id carries the inference profile (`us.`, `eu.`, `global.`) that
        // prices the request; the body (a Claude message) names only the model.
        let model = if hint == Some(Provider::Bedrock) || shape == Some(Shape::Bedrock) {
            envelope_model.or_else(|| raw.model())
        } else {
            raw.model().or(envelope_model)
        }
        .map_or_else(|| Text::const_new("unknown"), Text::from);
        // OpenAI-compatible providers (DeepSeek, xAI, Mistral, the open-model hosts) answer in OpenAI's
        // shape: without an envelope `provider`, the model name tells who served it, else the shape.
        // Asked only without an envelope `provider` (most lines have one).
        let by_name = || match shape {
            Some(Shape::OpenAiChat | Shape::OpenAiResponses) | None => {
                Provider::from_model_name(&model)
            }
            Some(_) => None,
        };
        let provider = hint
            .or_else(by_name)
            // An Anthropic-shaped body whose model is a Bedrock id was served by Bedrock.
            .or_else(|| crate::pricing::resolve::is_bedrock_id(&model).then_some(Provider::Bedrock))
            .or(shape.map(Shape::provider))
            // A Vertex batch prediction line without a response (a failed request) is still Google's.
            .or(processed_time.map(|_| Provider::Google))
            .unwrap_or(Provider::Other);

        let request_id = request_id.as_ref().and_then(Label::nonempty);
        // Joined without `format!`: its machinery cost more per line than the rest of the id.
        let id = match (raw.response_id(), request_id) {
            (Some(id), _) => concat(&[provider.as_str(), ":", id]),
            (None, Some(req)) => concat(&[provider.as_str(), ":req:", req]),
            (None, None) => content_id(NAME, line),
        };
        let mut record = UsageRecord::new(id, NAME, provider, model, start.0, at.clone());
        record.tokens = tokens;
        record.service_tier = shape.and_then(|s| raw.service_tier(s)).map(Text::from);
        record.region = raw.region().map(Text::from);
        record.team = team.as_ref().and_then(Label::to_nonempty);
        record.project = project.as_ref().and_then(Label::to_nonempty);
        record.user = user.as_ref().and_then(Label::to_nonempty);
        record.tags = tags.take().map(|t| t.0).unwrap_or_default();
        record.status = status_code;
        record.failed = failed;
        if failed {
            let named = raw.error.1.or(top.and_then(|t| t.error.1));
            record.failure = Some(
                status_code
                    .and_then(FailureClass::from_status)
                    .or(named)
                    .unwrap_or(FailureClass::Other),
            );
        }
        record.attempt = match attempt {
            Some(a) => Some(a.as_str().trim().parse::<u32>().map_err(|_| {
                RecordError::field(
                    at.line,
                    "attempt",
                    format!("{:?} is not an attempt number (1, 2, …)", a.as_str()),
                )
            })?),
            None => None,
        };
        record.retry_of = retry_of.as_ref().and_then(Label::to_nonempty);
        record.batch = batch;
        record.latency_ms = latency_ms.map(|m| m.0);
        record.requests = 1;
        // Copies of one response keep the one with the most tokens: the chunks of a streamed Gemini
        // response repeat its id with growing usage; exact copies keep the first.
        record.dedup = DedupPolicy::KeepLargest;
        // Only a request with extra iterations copies its record for them (most have none).
        let iterations = match (&raw.usage, shape) {
            (Some(u), Some(Shape::Anthropic))
                if !failed && u.iterations.0.iter().any(response::Iteration::is_extra) =>
            {
                Some(&u.iterations)
            }
            _ => None,
        };
        out.push(record);
        if let Some(iterations) = iterations {
            let main = out.last().cloned().expect("just pushed");
            iteration_records(&main, iterations, base, out)?;
        }
        Ok(())
    }
}

/// An envelope's `request`: an object whose model is kept, or anything else (skipped).
#[derive(Deserialize)]
#[serde(untagged)]
enum RequestField<'a> {
    #[serde(borrow)]
    Meta(RequestMeta<'a>),
    Other(IgnoredAny),
}

/// An envelope's `request` metadata: the model it asked for (Bedrock `modelId`, or `model`).
#[derive(Deserialize)]
struct RequestMeta<'a> {
    #[serde(rename = "modelId", borrow)]
    model_id: Option<Label<'a>>,
    #[serde(borrow)]
    model: Option<Label<'a>>,
}

/// `tags`: a map of strings (numbers and booleans are kept as their text, `null` values dropped).
struct Tags(BTreeMap<Text, Text>);

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Tags, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tags;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of tag names to strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tags, A::Error> {
                let mut tags = BTreeMap::new();
                while let Some(key) = map.next_key::<Label>()? {
                    if let Some(value) = map.next_value::<Option<Label>>()? {
                        tags.insert(Text::from(key.0), Text::from(value.0));
                    }
                }
                Ok(Tags(tags))
            }
        }
        d.deserialize_map(V)
    }
}

/// `status`: an HTTP status code (a number or numeric string). Text such as the Responses API's own
/// `"status":"completed"` is not an HTTP status: only whether it is non-empty is kept (Vertex batch
/// prediction writes `""` on success and the error's text on failure).
#[derive(Clone, Copy)]
struct HttpStatus {
    code: Option<u16>,
    text: bool,
}

impl<'de> Deserialize<'de> for HttpStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<HttpStatus, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = HttpStatus;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an HTTP status code")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<HttpStatus, E> {
                match u16::try_from(n) {
                    Ok(code) if code <= 999 => Ok(HttpStatus {
                        code: Some(code),
                        text: false,
                    }),
                    _ => Err(E::custom(format!("{n} is not an HTTP status code"))),
                }
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<HttpStatus, E> {
                Err(E::custom(format!("{n} is not an HTTP status code")))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<HttpStatus, E> {
                match s.trim().parse::<u64>() {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Ok(HttpStatus {
                        code: None,
                        text: !s.trim().is_empty(),
                    }),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `latency_ms`: non-negative milliseconds, integer or fractional (rounded).
#[derive(Clone, Copy)]
struct Millis(u64);

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Millis, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Millis;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a non-negative number of milliseconds")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Millis, E> {
                Ok(Millis(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Millis, E> {
                u64::try_from(n)
                    .map(Millis)
                    .map_err(|_| E::custom(format!("negative latency: {n}")))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Millis, E> {
                if (0.0..1e18).contains(&n) {
                    Ok(Millis(n.round() as u64))
                } else {
                    Err(E::custom(format!("not a valid latency: {n}")))
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn parse(json: &str) -> Result<Vec<UsageRecord>, RecordError> {
        crate::sources::testing::parse_line(&ApiLog, 7, json)
    }

    fn one(json: &str) -> UsageRecord {
        let mut records = parse(json).unwrap();
        assert_eq!(records.len(), 1, "{json}");
        records.remove(0)
    }

    #[test]
    fn raw_openai_chat_line() {
        let r = one(
            r#"{"id":"chatcmpl-AbC","object":"chat.completion","created":1791037325,"model":"gpt-4o-2024-08-06",
            "service_tier":"default","choices":[{"index":0,"message":{"role":"assistant","content":"secret"}}],
            "usage":{"prompt_tokens":1200,"completion_tokens":300,"prompt_tokens_details":{"cached_tokens":1024}}}"#,
        );
        assert_eq!(r.id, "openai:chatcmpl-AbC");
        assert_eq!(r.source, "api-log");
        assert_eq!(r.provider, Provider::OpenAI);
        assert_eq!(r.model, "gpt-4o-2024-08-06");
        assert_eq!(
            r.start,
            Utc.with_ymd_and_hms(2026, 10, 3, 14, 22, 5).unwrap()
        );
        // 1_200 prompt − 1_024 cached = 176 uncached
        assert_eq!(
            (r.tokens.input, r.tokens.cache_read, r.tokens.output),
            (176, 1_024, 300)
        );
        assert_eq!(r.service_tier.as_deref(), Some("default"));
        assert_eq!(r.requests, 1);
        // Copies keep the one with the most tokens (streamed Gemini chunks grow); equal copies the first.
        assert_eq!(r.dedup, DedupPolicy::KeepLargest);
        assert_eq!(r.provenance.line, 7);
        assert!(!r.failed);
        assert_eq!(r.status, None);
    }

    #[test]
    fn envelope_around_anthropic_message() {
        let r = one(
            r#"{"timestamp": "2026-10-03T14:22:05Z", "team": "search", "project": "ranker", "user": "u-42",
             "tags": {"env": "prod", "shard": 3, "gone": null}, "provider": "anthropic", "status": 200,
             "latency_ms": 812, "request_id": "req_1", "api_key": "sk-ant-secret", "prompt": "secret",
             "response": {"id": "msg_01X", "type": "message", "model": "claude-sonnet-4-5-20250929",
               "content": [{"type": "text", "text": "secret"}],
               "usage": {"input_tokens": 50, "cache_read_input_tokens": 2000, "cache_creation_input_tokens": 300,
                         "output_tokens": 120, "service_tier": "standard", "inference_geo": "us"}}}"#,
        );
        assert_eq!(r.id, "anthropic:msg_01X");
        assert_eq!(r.provider, Provider::Anthropic);
        assert_eq!(r.model, "claude-sonnet-4-5-20250929");
        assert_eq!(
            r.start,
            Utc.with_ymd_and_hms(2026, 10, 3, 14, 22, 5).unwrap()
        );
        // Anthropic input is uncached already: 50; 300 written without a split = 5m
        assert_eq!(r.tokens.input, 50);
        assert_eq!(r.tokens.cache_read, 2_000);
        assert_eq!(r.tokens.cache_write_5m, 300);
        assert_eq!(r.tokens.output, 120);
        assert_eq!(r.service_tier.as_deref(), Some("standard"));
        assert_eq!(r.region.as_deref(), Some("us"));
        assert_eq!(r.team.as_deref(), Some("search"));
        assert_eq!(r.project.as_deref(), Some("ranker"));
        assert_eq!(r.user.as_deref(), Some("u-42"));
        assert_eq!(r.tags.len(), 2);
        assert_eq!(r.tags["env"], "prod");
        assert_eq!(r.tags["shard"], "3");
        assert_eq!(r.status, Some(200));
        assert_eq!(r.latency_ms, Some(812));
        // never the api key
        assert_eq!(r.api_key, None);
        // Text of up to 24 bytes is kept inline: the record allocates for none of these; the model name
        // (26 bytes) is the one on the heap.
        assert!(r.model.is_heap_allocated());
        let texts = [&r.id]
            .into_iter()
            .chain(
                [&r.service_tier, &r.region, &r.team, &r.project, &r.user]
                    .map(|t| t.as_ref().unwrap()),
            )
            .chain(r.tags.iter().flat_map(|(k, v)| [k, v]));
        for t in texts {
            assert!(!t.is_heap_allocated(), "{t}");
        }
    }

    #[test]
    fn envelope_timestamp_wins_over_the_responses_own() {
        // envelope unix milliseconds 1791037325000 = 2026-10-03T14:22:05Z; response created an hour earlier
        let r = one(
            r#"{"timestamp":1791037325000,"response":{"id":"resp_9","object":"response","created_at":1791033725,
            "model":"gpt-5","usage":{"input_tokens":10,"output_tokens":2}}}"#,
        );
        assert_eq!(
            r.start,
            Utc.with_ymd_and_hms(2026, 10, 3, 14, 22, 5).unwrap()
        );
        assert_eq!(r.id, "openai:resp_9");
        // Without the envelope timestamp the response's created_at is used.
        let r = one(
            r#"{"team":"a","response":{"object":"response","created_at":1791033725,"usage":{"input_tokens":10}}}"#,
        );
        assert_eq!(
            r.start,
            Utc.with_ymd_and_hms(2026, 10, 3, 13, 22, 5).unwrap()
        );
    }

    #[test]
    fn azure_envelope_reads_openai_shape() {
        let r = one(
            r#"{"timestamp":"2026-10-03T14:22:05Z","provider":"azure","request_id":"r1","response":
            {"id":"chatcmpl-9","object":"chat.completion","model":"gpt-4o","usage":{"prompt_tokens":100,
            "completion_tokens":20,"prompt_tokens_details":{"cached_tokens":60}}}}"#,
        );
        assert_eq!(r.provider, Provider::Azure);
        assert_eq!(r.id, "azure:chatcmpl-9");
        // 100 prompt − 60 cached = 40 uncached
        assert_eq!((r.tokens.input, r.tokens.cache_read), (40, 60));
    }

    #[test]
    fn gemini_raw_line() {
        let r = one(
            r#"{"candidates":[{"content":{"parts":[{"text":"secret"}]}}],"modelVersion":"gemini-2.5-flash",
            "responseId":"rid-1","createTime":"2026-10-03T14:22:05Z","usageMetadata":{"promptTokenCount":900,
            "cachedContentTokenCount":400,"candidatesTokenCount":100,"thoughtsTokenCount":50,
            "trafficType":"ON_DEMAND"}}"#,
        );
        assert_eq!(r.provider, Provider::Google);
        assert_eq!(r.id, "google:rid-1");
        assert_eq!(r.model, "gemini-2.5-flash");
        // 900 prompt − 400 cached = 500; 100 candidates + 50 thoughts = 150 output
        assert_eq!(
            (
                r.tokens.input,
                r.tokens.cache_read,
                r.tokens.output,
                r.tokens.reasoning
            ),
            (500, 400, 150, 50)
        );
        assert_eq!(r.service_tier.as_deref(), Some("ON_DEMAND"));
    }

    #[test]
    fn failures_are_classed_and_retries_named() {
        let class = |json: &str| one(json).failure;
        // the status decides first; 529 and 503 are overload, 504 a timeout
        for (status, want) in [
            (429, FailureClass::RateLimit),
            (529, FailureClass::Overloaded),
            (503, FailureClass::Overloaded),
            (500, FailureClass::ServerError),
            (504, FailureClass::Timeout),
            (400, FailureClass::ClientError),
        ] {
            let line =
                format!(r#"{{"timestamp":1791037325,"provider":"openai","status":{status}}}"#);
            assert_eq!(class(&line), Some(want), "{status}");
        }
        // without a status, the error's type or code (never its message) names the class
        assert_eq!(
            class(
                r#"{"timestamp":1791037325,"provider":"anthropic","response":{"type":"error","error":{"type":"overloaded_error","message":"rate limit"}}}"#
            ),
            Some(FailureClass::Overloaded)
        );
        assert_eq!(
            class(
                r#"{"timestamp":1791037325,"provider":"openai","error":{"message":"x","type":"tokens","code":"rate_limit_exceeded"}}"#
            ),
            Some(FailureClass::RateLimit)
        );
        assert_eq!(
            class(r#"{"timestamp":1791037325,"provider":"openai","error":{"message":"timeout"}}"#),
            Some(FailureClass::Other)
        );
        // a success has no class
        assert_eq!(
            class(
                r#"{"timestamp":1791037325,"status":200,"response":{"id":"msg_1","type":"message","model":"claude-sonnet-4-5","usage":{"input_tokens":1,"output_tokens":1}}}"#
            ),
            None
        );
        // the envelope's attempt and retry_of are kept
        let r = one(
            r#"{"timestamp":1791037325,"provider":"anthropic","status":529,"request_id":"req_2","attempt":"2","retry_of":"req_1"}"#,
        );
        assert_eq!((r.attempt, r.retry_of.as_deref()), (Some(2), Some("req_1")));
        let e = parse(r#"{"timestamp":1791037325,"status":529,"attempt":"second"}"#).unwrap_err();
        assert!(e.to_string().contains("attempt"), "{e}");
    }

    #[test]
    fn a_stream_cut_off_after_output_bills_its_usage() {
        // 529 after 40 output tokens were streamed: the usage is billed, the request counts as failed
        let r = one(
            r#"{"timestamp":1791037325,"provider":"anthropic","status":529,"response":{"id":"msg_9","type":"message",
            "model":"claude-sonnet-4-5","error":{"type":"overloaded_error"},"usage":{"input_tokens":1200,"output_tokens":40}}}"#,
        );
        assert!(r.failed);
        assert_eq!(r.failure, Some(FailureClass::Overloaded));
        assert_eq!((r.tokens.input, r.tokens.output), (1200, 40));
    }

    #[test]
    fn failed_requests_are_kept_with_zero_tokens() {
        let r = one(
            r#"{"timestamp":"2026-10-03T14:22:05Z","provider":"openai","model":"gpt-4o","status":429,
            "latency_ms":31.6,"request_id":"req_429","error":{"message":"Rate limit","type":"rate_limit"}}"#,
        );
        assert!(r.failed);
        assert_eq!(r.status, Some(429));
        assert_eq!(r.latency_ms, Some(32));
        assert_eq!(r.model, "gpt-4o");
        assert_eq!(r.id, "openai:req:req_429");
        assert!(r.tokens.is_empty());
        assert_eq!(r.requests, 1);

        // An error in the response body, even with usage: zero tokens, model from the response.
        let r = one(
            r#"{"timestamp":"2026-10-03T14:22:05Z","status":200,"response":{"object":"response","model":"o3",
            "status":"failed","error":{"code":"server_error"},"usage":{"input_tokens":10,"output_tokens":0}}}"#,
        );
        assert!(r.failed);
        assert_eq!(r.model, "o3");
        assert!(r.tokens.is_empty());
        assert!(r.id.starts_with("api-log:"), "{}", r.id);

        // A 500 with no body and no provider: provider other, model unknown.
        let r = one(r#"{"timestamp":1791037325,"status":500}"#);
        assert!(r.failed);
        assert_eq!(r.provider, Provider::Other);
        assert_eq!(r.model, "unknown");

        // A raw Anthropic error body.
        let r = one(
            r#"{"timestamp":1791037325,"response":{"type":"error","error":{"type":"overloaded_error","message":"x"}}}"#,
        );
        assert!(r.failed);
        assert_eq!(r.provider, Provider::Anthropic);
    }

    #[test]
    fn ids_fall_back_to_request_id_then_content_hash() {
        let line = r#"{"timestamp":1791037325,"provider":"anthropic","response":{"type":"message","usage":{"input_tokens":1}}}"#;
        let a = one(line);
        assert_eq!(a.id, content_id("api-log", line.as_bytes()));
        assert_eq!(one(line).id, a.id, "stable across reads");
        let r = one(
            r#"{"timestamp":1791037325,"request_id":"req_77","response":{"type":"message","usage":{"input_tokens":1}}}"#,
        );
        assert_eq!(r.id, "anthropic:req:req_77");
    }

    #[test]
    fn missing_timestamp_names_the_field() {
        // Anthropic messages carry no time of their own.
        let e = parse(r#"{"id":"msg_1","type":"message","usage":{"input_tokens":1}}"#).unwrap_err();
        assert_eq!(e.line, 7);
        assert_eq!(e.field.as_deref(), Some("timestamp"));
        assert!(e.message.contains("add \"timestamp\""), "{}", e.message);
        assert!(
            e.message
                .contains(r#"wrapping each line in an envelope: {"timestamp": "#),
            "{}",
            e.message
        );
        let e = parse(r#"{"timestamp":"yesterday","response":{}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("timestamp"));
    }

    #[test]
    fn bad_fields_are_named() {
        let e = parse(
            r#"{"timestamp":1791037325,"response":{"object":"chat.completion","usage":{"prompt_tokens":"12"}}}"#,
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("response.usage.prompt_tokens"));
        let e =
            parse(r#"{"timestamp":1791037325,"provider":"acme","response":{"object":"response"}}"#)
                .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("provider"));
        assert!(e.message.contains("acme"));
        let e = parse(
            r#"{"timestamp":1791037325,"response":{"object":"chat.completion","usage":{"prompt_tokens":5,
            "prompt_tokens_details":{"cached_tokens":6}}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("response.usage.prompt_tokens_details.cached_tokens")
        );
        let e = parse(r#"{"timestamp":1791037325,"tags":{"env":{"nested":1}},"response":{}}"#)
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("tags.env"));
        let e = parse(
            r#"{"timestamp":1791037325,"response":{"usage":{"input_tokens":3,"output_tokens":1}}}"#,
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("response.usage"));
        let e = parse(r#"{"timestamp":1791037325,"status":200,"#).unwrap_err();
        assert!(e.message.starts_with("not valid JSON"), "{}", e.message);
        let e = parse(r#"{"hello":"world"}"#).unwrap_err();
        assert!(
            e.message.starts_with("not an API log line"),
            "{}",
            e.message
        );
        let e = parse(r#"[1,2]"#).unwrap_err();
        assert_eq!(e.line, 7);
    }

    #[test]
    fn chunks_without_usage_produce_nothing() {
        let out = parse(r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1791037325,"choices":[{"delta":{"content":"x"}}]}"#)
            .unwrap();
        assert!(out.is_empty());
        let r = one(
            r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1791037325,"model":"gpt-4o","choices":[],
            "usage":{"prompt_tokens":10,"completion_tokens":3}}"#,
        );
        assert_eq!((r.tokens.input, r.tokens.output), (10, 3));
    }

    #[test]
    fn line_keys_by_name() {
        use LineKey as K;
        let kept = [
            ("timestamp", K::Timestamp),
            ("team", K::Team),
            ("project", K::Project),
            ("user", K::User),
            ("tags", K::Tags),
            ("provider", K::Provider),
            ("status", K::Status),
            ("latency_ms", K::LatencyMs),
            ("request_id", K::RequestId),
            ("response", K::Response),
            ("custom_id", K::CustomId),
            ("processed_time", K::ProcessedTime),
            ("modelId", K::ModelId),
            ("model_id", K::ModelId),
            ("request", K::Request),
            ("attempt", K::Attempt),
            ("retry_of", K::RetryOf),
            // The response's keys at the top of a raw line.
            ("model", K::Raw(ResponseKey::Model)),
            ("error", K::Raw(ResponseKey::Error)),
            ("id", K::Raw(ResponseKey::Id)),
            ("type", K::Raw(ResponseKey::Type)),
            ("usageMetadata", K::Raw(ResponseKey::UsageMetadata)),
            ("status_code", K::Raw(ResponseKey::StatusCode)),
        ];
        for (name, key) in kept {
            assert_eq!(LineKey::from_name(name.as_bytes()), Some(key), "{name}");
        }
        for name in [
            "",
            "Team",
            "tag",
            "teams",
            "api_key",
            "prompt",
            "timestamps",
            "requestId",
        ] {
            assert_eq!(LineKey::from_name(name.as_bytes()), None, "{name}");
        }
    }

    #[test]
    fn detection() {
        let p = Path::new("x.jsonl");
        let envelope = b"{\"timestamp\":\"2026-10-03T14:22:05Z\",\"provider\":\"openai\",\"response\":{\"object\":\"chat.completion\"}}\n\
                         {\"timestamp\":1791037325,\"status\":500,\"error\":{}}\n";
        assert!(ApiLog.detect(p, envelope));
        assert!(ApiLog.detect(
            p,
            b"{\"id\":\"msg_1\", \"type\": \"message\", \"usage\": {\"input_tokens\": 1}}\n"
        ));
        assert!(ApiLog.detect(
            p,
            b"{\"object\":\"response\",\"usage\":{}}\n{\"object\":\"response\",\"usa"
        ));
        assert!(ApiLog.detect(
            p,
            b"{\"usageMetadata\":{\"promptTokenCount\":1},\"responseId\":\"x\"}\n"
        ));
        // Claude Code lines embed an Anthropic message with usage, but have a sessionId.
        let claude = b"{\"sessionId\":\"s1\",\"type\":\"assistant\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"usage\":{\"input_tokens\":1}}}\n";
        assert!(!ApiLog.detect(p, claude));
        // Usage API pages, Anthropic usage reports, CSV, arbitrary JSON lines: not ours.
        assert!(!ApiLog.detect(p, b"{\"object\":\"page\",\"data\":[{\"object\":\"bucket\",\"results\":[{\"num_model_requests\":1}]}]}\n"));
        assert!(!ApiLog.detect(p, b"{\"data\":[{\"starting_at\":\"2026-08-20T00:00:00Z\",\"results\":[{\"uncached_input_tokens\":1}]}]}\n"));
        assert!(!ApiLog.detect(p, b"start_time,end_time,input_tokens\n1,2,3\n"));
        assert!(!ApiLog.detect(p, b"{\"hello\":\"world\"}\n"));
        assert!(!ApiLog.detect(p, b""));
        // A bare error body among responses does not refuse the file; alone it is not enough evidence.
        let bare = b"{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"usage\":{}}\n\
                     {\"error\":{\"message\":\"Rate limit\",\"type\":\"tokens\",\"code\":\"rate_limit_exceeded\"}}\n";
        assert!(ApiLog.detect(p, bare));
        assert!(!ApiLog.detect(p, b"{\"error\":{\"code\":429}}\n"));
        // one failed-request envelope alone is not enough evidence
        assert!(!ApiLog.detect(p, b"{\"timestamp\":1791037325,\"status\":500}\n"));
    }

    #[test]
    fn each_format_is_claimed_by_its_own_importer() {
        let samples: [(&str, &str); 7] = [
            (
                "api-log",
                "{\"timestamp\":1791037325,\"provider\":\"openai\",\"response\":{\"object\":\"chat.completion\",\"usage\":{}}}\n",
            ),
            ("api-log", "{\"id\":\"msg_1\",\"type\":\"message\",\"model\":\"m\",\"usage\":{\"input_tokens\":1}}\n"),
            (
                "api-log",
                "{\"id\":\"resp_1\",\"object\":\"response\",\"output\":[{\"type\":\"message\",\"role\":\"assistant\"}],\"usage\":{}}\n",
            ),
            (
                "claude-code",
                "{\"cwd\":\"/w\",\"sessionId\":\"s\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"usage\":{}},\"type\":\"assistant\"}\n",
            ),
            (
                "openai-usage",
                "{\"object\":\"page\",\"data\":[{\"object\":\"bucket\",\"start_time\":1,\"end_time\":2,\"results\":[{\"object\":\"organization.usage.completions.result\",\"input_tokens\":1,\"num_model_requests\":1}]}]}",
            ),
            (
                "anthropic-usage",
                "{\"data\":[{\"starting_at\":\"2026-08-20T00:00:00Z\",\"ending_at\":\"2026-08-21T00:00:00Z\",\"results\":[{\"uncached_input_tokens\":1}]}]}",
            ),
            ("none", "date,model,cost\n2026-10-01,gpt-4o,1.00\n"),
        ];
        for (want, head) in samples {
            let got = crate::sources::detect(Path::new("input"), head.as_bytes())
                .map_or("none", |s| s.name());
            assert_eq!(got, want, "{head}");
        }
    }
}
