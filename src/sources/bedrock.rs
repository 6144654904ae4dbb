//! `bedrock`: Amazon Bedrock model invocation logs (`schemaType: "ModelInvocationLog"`), as delivered to S3
//! (one pretty-printed record per object, often gzipped), exported as JSON Lines, as a JSON array, or from
//! CloudWatch Logs: events that wrap the record in `message` (`aws logs` output, `{"timestamp":…,
//! "message":"{…}"}` per line), `@message` (console exports) or `Message` (PowerShell), as a JSON string or
//! an object; pages of `filter-log-events` / `get-log-events` (`{"events":[…]}`); Logs Insights results
//! (`[[{"field":"@message","value":…}, …], …]`, or `{"results":[…]}` of `get-query-results`).
//!
//! One record per invocation:
//! - id `bedrock:{requestId}` (a content hash when there is none), `KeepFirst`: the same invocation read
//!   from S3 and from CloudWatch counts once;
//! - provider `bedrock`; model = `modelId` as reported: a plain id (`anthropic.claude-sonnet-4-20250514-v1:0`),
//!   a cross-region profile (`us.`/`eu.`/`apac.`/`jp.`/`au.`/`us-gov.`/`global.` prefix) or an ARN
//!   (`…:foundation-model/…`, `…:inference-profile/us.anthropic.…`);
//! - region = the inference profile's scope (`global`, `us`, `eu`, …) when the model id names one, because
//!   that is what Bedrock bills (global is cheaper than regional for Claude 4.5 and newer); else
//!   `inferenceRegion`, else `region`. The AWS region the call was made in is kept as tag `aws_region`, and
//!   `inferenceRegion` as tag `inference_region`;
//! - start = `timestamp`; workspace and billing account = `accountId`; user = `requestMetadata.user`,
//!   else `identity.arn`;
//!   team / project = `requestMetadata.team` / `.project`; every `requestMetadata` entry is also a tag;
//!   `operation` is tag `operation`;
//! - tokens: input = `input.inputTokenCount` (uncached only, for Claude), cache read =
//!   `input.cacheReadInputTokenCount`, cache write (5-minute class) = `input.cacheWriteInputTokenCount`,
//!   output = `output.outputTokenCount`; requests 1. An `errorCode` marks the request failed.
//!
//! `input.inputBodyJson`, `output.outputBodyJson` (prompt and completion text) and every other field are
//! skipped by the parser, never stored. The log carries no cost.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::shared::common;
use super::{Emit, Reader, Source, StreamParser};
use crate::error::RecordError;
use crate::record::{concat, content_id, DedupPolicy, Provenance, Provider, Text, UsageRecord};
use crate::region::profile_prefix;
use crate::timestamp::Timestamp;

/// Reads Bedrock model invocation logs.
pub struct Bedrock;

const NAME: &str = "bedrock";

impl Source for Bedrock {
    fn name(&self) -> &'static str {
        NAME
    }

    fn reads(&self) -> &'static str {
        "Amazon Bedrock model invocation logs: S3 objects, JSON Lines, JSON arrays; CloudWatch Logs \
         (filter-log-events / get-log-events pages, events with the record in message / @message / Message \
         as a string or an object, Logs Insights results)"
    }

    fn detected_by(&self) -> &'static str {
        "JSON holding \"schemaType\": \"ModelInvocationLog\" (also inside a CloudWatch message string)"
    }

    fn detect(&self, _path: &Path, head: &[u8]) -> bool {
        common::looks_like_json(head) && common::contains(head, b"ModelInvocationLog")
    }

    fn reader(&self, _head: &[u8]) -> Reader<'_> {
        Reader::Stream(self)
    }
}

impl StreamParser for Bedrock {
    fn parse_stream(
        &self,
        reader: &mut dyn std::io::Read,
        file: &Arc<str>,
        emit: &mut Emit<'_>,
    ) -> Result<(), RecordError> {
        common::for_each_json_value(reader, &mut |value, line| {
            let at = Provenance {
                file: file.clone(),
                line,
            };
            read_value(value, &at, emit)
        })
    }
}

/// The outside of a value: a log record, or a CloudWatch Logs wrapper around records: an event
/// (`{"timestamp", "message"}` of `aws logs filter-log-events` / `get-log-events`, `{"@timestamp",
/// "@message"}` of a console export, `{"Timestamp", "Message"}` of PowerShell's `Get-CWLLogEvent`), a page
/// of events (`{"events": […], "nextToken": …}`), or Logs Insights results (`{"results": [[{"field",
/// "value"}, …], …]}` of `aws logs get-query-results`). The record sits in the message as a JSON string or
/// as an object.
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(rename = "schemaType", borrow)]
    schema_type: Option<Cow<'a, str>>,
    #[serde(alias = "@message", alias = "Message", borrow)]
    message: Option<&'a RawValue>,
    #[serde(borrow)]
    events: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    results: Option<Vec<Vec<InsightsField<'a>>>>,
}

/// One field of a Logs Insights result row.
#[derive(Deserialize)]
struct InsightsField<'a> {
    #[serde(borrow)]
    field: Cow<'a, str>,
    #[serde(borrow)]
    value: Option<&'a RawValue>,
}

/// Reads one top-level value (a record, a wrapper, or a Logs Insights row); `false` stops reading.
fn read_value(value: &[u8], at: &Provenance, emit: &mut Emit<'_>) -> bool {
    read_wrapped(value, at, "", emit)
}

/// [`read_value`] for a value found at `path` inside the top-level one (errors name the path).
fn read_wrapped(value: &[u8], at: &Provenance, path: &str, emit: &mut Emit<'_>) -> bool {
    let inner = |name: &str| match path {
        "" => name.to_string(),
        p => format!("{p}.{name}"),
    };
    if value.trim_ascii_start().first() == Some(&b'[') {
        return match common::parse_json_bytes_at::<Vec<InsightsField>>(value, at.line) {
            Ok(row) => read_insights_row(&row, at, path, emit),
            Err(e) => emit(Err(e)),
        };
    }
    let probe: Probe = match common::parse_json_bytes_at(value, at.line) {
        Ok(p) => p,
        Err(e) => return emit(Err(e)),
    };
    if probe.schema_type.is_some() {
        return emit(in_path(read_record(value, at), at, path));
    }
    if let Some(message) = probe.message {
        return emit(read_message(message, at, &inner("message")));
    }
    if let Some(events) = probe.events {
        for (i, event) in events.iter().enumerate() {
            if !read_wrapped(
                event.get().as_bytes(),
                at,
                &inner(&format!("events[{i}]")),
                emit,
            ) {
                return false;
            }
        }
        return true;
    }
    if let Some(rows) = probe.results {
        for (i, row) in rows.iter().enumerate() {
            if !read_insights_row(row, at, &inner(&format!("results[{i}]")), emit) {
                return false;
            }
        }
        return true;
    }
    emit(Err(RecordError::field(
        at.line,
        if path.is_empty() { "schemaType" } else { path },
        "missing: not a Bedrock model invocation log record (expected \"schemaType\": \"ModelInvocationLog\", \
         or a CloudWatch Logs event with the record in \"message\" or \"@message\")",
    )))
}

/// A Logs Insights result row: the record is the value of its `@message` field.
fn read_insights_row(
    row: &[InsightsField<'_>],
    at: &Provenance,
    path: &str,
    emit: &mut Emit<'_>,
) -> bool {
    let name = |f: &str| match path {
        "" => f.to_string(),
        p => format!("{p}.{f}"),
    };
    match row.iter().find(|f| f.field == "@message") {
        Some(InsightsField {
            value: Some(message),
            ..
        }) => emit(read_message(message, at, &name("@message"))),
        _ => emit(Err(RecordError::field(
            at.line,
            name("@message"),
            "missing: a Logs Insights result row needs the @message field (query `fields @timestamp, @message`)",
        ))),
    }
}

/// A record inside a CloudWatch message (a JSON string holding the record, or the record itself): errors
/// name the field inside it (`message.modelId`).
fn read_message(
    message: &RawValue,
    at: &Provenance,
    path: &str,
) -> Result<UsageRecord, RecordError> {
    let text = message.get();
    let record = if text.starts_with('"') {
        match serde_json::from_str::<Cow<str>>(text) {
            Ok(inner) => read_record(inner.as_bytes(), at),
            Err(e) => Err(RecordError::new(at.line, format!("not a JSON string: {e}"))),
        }
    } else {
        read_record(text.as_bytes(), at)
    };
    in_path(record, at, path)
}

/// An error of a record read at `path` inside a wrapper names the field by its path and the wrapper's line.
fn in_path(
    record: Result<UsageRecord, RecordError>,
    at: &Provenance,
    path: &str,
) -> Result<UsageRecord, RecordError> {
    if path.is_empty() {
        return record;
    }
    record.map_err(|mut e| {
        e.line = at.line;
        e.field = Some(match e.field.take() {
            Some(f) => format!("{path}.{f}"),
            None => path.to_string(),
        });
        e
    })
}

#[derive(Deserialize)]
struct InvocationLog<'a> {
    #[serde(rename = "schemaType", borrow)]
    schema_type: Cow<'a, str>,
    timestamp: Timestamp,
    #[serde(rename = "accountId", borrow)]
    account_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    identity: Option<Identity<'a>>,
    #[serde(borrow)]
    region: Option<Cow<'a, str>>,
    #[serde(rename = "requestId", borrow)]
    request_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    operation: Option<Cow<'a, str>>,
    #[serde(rename = "modelId", borrow)]
    model_id: Cow<'a, str>,
    #[serde(rename = "inferenceRegion", borrow)]
    inference_region: Option<Cow<'a, str>>,
    #[serde(rename = "requestMetadata", default, borrow)]
    request_metadata: Option<BTreeMap<Cow<'a, str>, Cow<'a, str>>>,
    #[serde(default)]
    input: Option<InputCounts>,
    #[serde(default)]
    output: Option<OutputCounts>,
    #[serde(rename = "errorCode", borrow)]
    error_code: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Identity<'a> {
    #[serde(borrow)]
    arn: Option<Cow<'a, str>>,
}

/// `input`: token counts only; `inputBodyJson` (the prompt) is skipped, never stored.
#[derive(Deserialize)]
struct InputCounts {
    #[serde(rename = "inputTokenCount")]
    input_token_count: Option<u64>,
    #[serde(rename = "cacheReadInputTokenCount")]
    cache_read_input_token_count: Option<u64>,
    #[serde(rename = "cacheWriteInputTokenCount")]
    cache_write_input_token_count: Option<u64>,
}

/// `output`: token count only; `outputBodyJson` (the completion) is skipped, never stored.
#[derive(Deserialize)]
struct OutputCounts {
    #[serde(rename = "outputTokenCount")]
    output_token_count: Option<u64>,
}

fn non_empty(v: Option<Cow<'_, str>>) -> Option<Text> {
    v.map(|s| Text::from(s.trim())).filter(|s| !s.is_empty())
}

/// Parses one invocation log record.
fn read_record(bytes: &[u8], at: &Provenance) -> Result<UsageRecord, RecordError> {
    let log: InvocationLog = common::parse_json_bytes_at(bytes, at.line)?;
    if log.schema_type != "ModelInvocationLog" {
        return Err(RecordError::field(
            at.line,
            "schemaType",
            format!(
                "expected \"ModelInvocationLog\", found {:?}",
                log.schema_type
            ),
        ));
    }
    let model = Text::from(log.model_id.trim());
    if model.is_empty() {
        return Err(RecordError::field(at.line, "modelId", "is empty"));
    }
    let id = match log.request_id.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => concat(&[NAME, ":", r]),
        _ => content_id(NAME, bytes),
    };
    let mut r = UsageRecord::new(
        id,
        NAME,
        Provider::Bedrock,
        model,
        log.timestamp.0,
        at.clone(),
    );
    r.dedup = DedupPolicy::KeepFirst;
    let aws_region = non_empty(log.region);
    let inference_region = non_empty(log.inference_region);
    r.region = profile_prefix(&r.model)
        .map(Text::from)
        .or_else(|| inference_region.clone())
        .or_else(|| aws_region.clone());
    if let Some(region) = aws_region {
        r.tags.insert("aws_region".into(), region);
    }
    if let Some(region) = inference_region {
        r.tags.insert("inference_region".into(), region);
    }
    if let Some(op) = non_empty(log.operation) {
        r.tags.insert("operation".into(), op);
    }
    r.workspace = non_empty(log.account_id);
    r.billing_account = r.workspace.clone();
    r.user = non_empty(log.identity.and_then(|i| i.arn));
    for (key, value) in log.request_metadata.unwrap_or_default() {
        let value = Text::from(value.trim());
        if value.is_empty() {
            continue;
        }
        match key.as_ref() {
            "team" => r.team = Some(value.clone()),
            "project" => r.project = Some(value.clone()),
            "user" => r.user = Some(value.clone()),
            _ => {}
        }
        r.tags.insert(Text::from(key), value);
    }
    if let Some(input) = log.input {
        r.tokens.input = input.input_token_count.unwrap_or(0);
        r.tokens.cache_read = input.cache_read_input_token_count.unwrap_or(0);
        r.tokens.cache_write_5m = input.cache_write_input_token_count.unwrap_or(0);
    }
    if let Some(output) = log.output {
        r.tokens.output = output.output_token_count.unwrap_or(0);
    }
    if let Some(code) = non_empty(log.error_code) {
        r.failed = true;
        r.tags.insert("error_code".into(), code);
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Result<UsageRecord, RecordError>> {
        crate::sources::testing::read_items_of(&Bedrock, text).unwrap()
    }

    const RECORD: &str = r#"{"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":"2026-10-12T09:00:00Z","accountId":"123456789012","identity":{"arn":"arn:aws:sts::123456789012:assumed-role/app/s1"},"region":"us-east-1","requestId":"req-1","operation":"Converse","modelId":"us.anthropic.claude-sonnet-4-5-20250929-v1:0","inferenceRegion":"us-west-2","requestMetadata":{"team":"search","env":"prod"},"input":{"inputBodyJson":{"messages":[{"role":"user","content":"SECRET PROMPT"}]},"inputTokenCount":1000,"cacheReadInputTokenCount":2000,"cacheWriteInputTokenCount":300},"output":{"outputBodyJson":{"output":"SECRET ANSWER"},"outputTokenCount":400}}"#;

    #[test]
    fn maps_every_field_and_drops_bodies() {
        let recs = read(RECORD);
        let r = recs[0].as_ref().unwrap();
        assert_eq!(r.id, "bedrock:req-1");
        assert_eq!(r.provider, Provider::Bedrock);
        assert_eq!(r.region.as_deref(), Some("us"));
        assert_eq!(r.tags["aws_region"], "us-east-1");
        assert_eq!(r.tags["inference_region"], "us-west-2");
        assert_eq!(r.team.as_deref(), Some("search"));
        assert_eq!(r.tags["env"], "prod");
        assert_eq!(
            r.user.as_deref(),
            Some("arn:aws:sts::123456789012:assumed-role/app/s1")
        );
        assert_eq!(r.workspace.as_deref(), Some("123456789012"));
        assert_eq!(r.billing_account.as_deref(), Some("123456789012"));
        assert_eq!(
            (
                r.tokens.input,
                r.tokens.cache_read,
                r.tokens.cache_write_5m,
                r.tokens.output
            ),
            (1000, 2000, 300, 400)
        );
        let debug = format!("{r:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
    }

    #[test]
    fn plain_ids_take_the_inference_region_and_wrappers_unwrap() {
        let plain = RECORD
            .replace("us.anthropic", "anthropic")
            .replace("req-1", "req-2");
        let r = read(&plain).remove(0).unwrap();
        assert_eq!(r.region.as_deref(), Some("us-west-2"));
        let escaped = serde_json::to_string(RECORD).unwrap();
        let wrapped = format!("{{\"timestamp\":1791795600000,\"message\":{escaped}}}\n");
        let r = read(&wrapped).remove(0).unwrap();
        assert_eq!(r.id, "bedrock:req-1");
        let page = format!("{{\"events\":[{{\"message\":{escaped}}},{{\"message\":{escaped}}}]}}");
        assert_eq!(read(&page).len(), 2);
        let pretty = serde_json::to_string_pretty(
            &serde_json::from_str::<serde_json::Value>(RECORD).unwrap(),
        )
        .unwrap();
        let two = format!("{pretty}\n{pretty}\n");
        let recs = read(&two);
        assert_eq!(
            recs[1].as_ref().unwrap().provenance.line,
            2 + pretty.lines().count() as u64 - 1
        );
    }

    #[test]
    fn bad_fields_are_named_with_their_line() {
        let bad = RECORD.replace("\"outputTokenCount\":400", "\"outputTokenCount\":\"many\"");
        let e = read(&format!("{RECORD}\n{bad}\n")).remove(1).unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(e.field.as_deref(), Some("output.outputTokenCount"));
        let e = read("{\"hello\":1}").remove(0).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("schemaType"));
    }

    #[test]
    fn detection() {
        let p = Path::new("x.json");
        assert!(Bedrock.detect(p, RECORD.as_bytes()));
        assert!(!Bedrock.detect(p, b"{\"object\":\"page\",\"data\":[]}"));
        assert!(!Bedrock.detect(p, b"Date,MeterName\nModelInvocationLog,1\n"));
    }
}
