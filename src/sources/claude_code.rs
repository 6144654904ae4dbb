//! `claude-code`: Claude Code's local session logs (`~/.claude/projects/<encoded-cwd>/<session>.jsonl`,
//! `~/.config/claude/projects/…`, subagent logs in `<session>/subagents/*.jsonl`).
//!
//! Only `"type":"assistant"` lines carry usage: `message{id, model, usage}` in the Anthropic shape, read by
//! the shared Anthropic mapping (input is already uncached; cache reads and 5m/1h writes separate; thinking
//! inside output). Most of a log's bytes are user turns and tool results: a line without the bytes
//! `"usage"` is skipped without being parsed. Model `<synthetic>` (local placeholder turns) is not billable.
//!
//! Streaming partials repeat the same (`message.id`, `requestId`) with growing usage, and a resumed session
//! repeats earlier messages in a new file: both share the id `claude-code:{message.id}:{requestId}`, and the
//! largest copy wins. The project is the last component of `cwd`; `costUSD` (older logs) is kept as the
//! reported cost; the session id is kept as tag `session`. The provider is Anthropic, or Bedrock when the
//! model is a Bedrock id (Claude Code on Bedrock logs `us.anthropic.claude-opus-4-6-v1`): Bedrock bills
//! those requests, at its rates for the inference profile.

use std::path::Path;
use std::sync::LazyLock;

use serde::Deserialize;

use super::shared::common;
use super::shared::response::{self, has_key_value, Label, Usage};
use super::{LineParser, Reader, Source};
use crate::decimal::JsonDecimal;
use crate::error::RecordError;
use crate::input::needle::Needle;
use crate::record::{concat, content_id, DedupPolicy, Provenance, Provider, Text, UsageRecord};
use crate::timestamp::Timestamp;

/// Reads Claude Code session logs.
pub struct ClaudeCode;

const NAME: &str = "claude-code";

/// Line types of a Claude Code log.
const LINE_TYPES: [&str; 4] = ["user", "assistant", "summary", "system"];

impl Source for ClaudeCode {
    fn name(&self) -> &'static str {
        NAME
    }

    fn reads(&self) -> &'static str {
        "Claude Code session logs (~/.claude/projects/*/*.jsonl): usage of each assistant message"
    }

    fn detected_by(&self) -> &'static str {
        "JSON lines with a sessionId and \"type\" user/assistant/summary/system (or such lines under a \
         projects/ folder)"
    }

    fn detect(&self, path: &Path, head: &[u8]) -> bool {
        let lines = common::head_lines(head, 8);
        if lines.is_empty() || lines.iter().any(|l| l.first() != Some(&b'{')) {
            return false;
        }
        // Newer logs also hold other line types (file-history-snapshot, …): one typed line is enough.
        let under_projects = path.components().any(|c| c.as_os_str() == "projects");
        lines.iter().any(|line| {
            LINE_TYPES.iter().any(|t| has_key_value(line, "type", t))
                && (under_projects || common::has_key(line, "sessionId"))
        })
    }

    fn reader(&self, _head: &[u8]) -> Reader<'_> {
        Reader::Lines(self)
    }
}

/// What every line with usage holds (user turns and tool results, most of a log, do not).
static USAGE_KEY: &[u8] = b"\"usage\"";

impl LineParser for ClaudeCode {
    fn only_lines_with(&self) -> Option<&Needle> {
        static NEEDLE: LazyLock<Option<Needle>> = LazyLock::new(|| Needle::new(USAGE_KEY));
        NEEDLE.as_ref()
    }

    fn parse_line(
        &self,
        line: &[u8],
        at: &Provenance,
        out: &mut Vec<UsageRecord>,
    ) -> Result<(), RecordError> {
        // Only lines that hold `"usage"` come here (`only_lines_with`): user turns and tool results
        // are never parsed.
        let deduplicated;
        let log: LogLine = match common::parse_json(line, at.line) {
            Ok(log) => log,
            // A key written twice in one line (it happens in logs written by JavaScript): the last one
            // wins, as `JSON.parse` reads it.
            Err(e) if e.message.contains("duplicate field") => {
                deduplicated = common::last_key_wins(line).map_err(|_| e)?;
                common::parse_json(deduplicated.as_bytes(), at.line)?
            }
            Err(e) => return Err(e),
        };
        if log.kind.as_ref().map(Label::as_str) != Some("assistant") {
            return Ok(());
        }
        let Some(message) = log.message else {
            return Ok(());
        };
        let Some(usage) = message.usage else {
            return Ok(());
        };
        let model = message
            .model
            .as_ref()
            .map(|m| crate::record::trimmed(m.as_str()))
            .filter(|m| !m.is_empty());
        if model == Some("<synthetic>") {
            return Ok(());
        }
        let start = log.timestamp.ok_or_else(|| {
            RecordError::field(
                at.line,
                "timestamp",
                "an assistant line needs a \"timestamp\" (ISO 8601)",
            )
        })?;
        let tokens = response::anthropic_tokens(&usage, "message.usage", at.line)?;

        let message_id = message.id.as_ref().and_then(Label::nonempty);
        let request_id = log.request_id.as_ref().and_then(Label::nonempty);
        // Joined without `format!`, whose machinery cost more per line than the rest of the id.
        let id = match (message_id, request_id) {
            (Some(m), Some(r)) => concat(&[NAME, ":", m, ":", r]),
            (Some(m), None) => concat(&[NAME, ":", m]),
            (None, _) => content_id(NAME, line),
        };

        // Claude Code on Bedrock logs Bedrock model ids (`us.anthropic.claude-opus-4-6-v1`): Bedrock
        // bills those, at its own (regional) rates.
        let provider = match model {
            Some(m) if crate::pricing::resolve::is_bedrock_id(m) => Provider::Bedrock,
            _ => Provider::Anthropic,
        };
        let mut record = UsageRecord::new(
            id,
            NAME,
            provider,
            Text::from(model.unwrap_or("unknown")),
            start.0,
            at.clone(),
        );
        record.tokens = tokens;
        record.service_tier = usage.anthropic_tier().map(Text::from);
        record.region = usage.inference_geo.as_ref().and_then(Label::to_nonempty);
        record.project = log
            .cwd
            .as_ref()
            .and_then(|c| common::last_component(c.as_str()));
        if let Some(session) = log.session_id.as_ref().and_then(Label::to_nonempty) {
            record.tags.insert(Text::const_new("session"), session);
        }
        if let Some(cost) = log.cost_usd {
            record.reported_cost = Some(cost.0);
            record.reported_currency = Some(Text::const_new("USD"));
        }
        record.requests = 1;
        record.dedup = DedupPolicy::KeepLargest;
        out.push(record);
        Ok(())
    }
}

/// The fields of a log line we read; message content, tool results and everything else are skipped.
#[derive(Deserialize)]
struct LogLine<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Label<'a>>,
    timestamp: Option<Timestamp>,
    #[serde(borrow, rename = "requestId")]
    request_id: Option<Label<'a>>,
    #[serde(borrow, rename = "sessionId")]
    session_id: Option<Label<'a>>,
    #[serde(borrow)]
    cwd: Option<Label<'a>>,
    #[serde(rename = "costUSD")]
    cost_usd: Option<JsonDecimal>,
    #[serde(borrow)]
    message: Option<Message<'a>>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    id: Option<Label<'a>>,
    #[serde(borrow)]
    model: Option<Label<'a>>,
    /// Boxed: the line's value is moved a few times on its way out of the parser, and the usage was
    /// most of its size.
    #[serde(borrow)]
    usage: Option<Box<Usage<'a>>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use rust_decimal_macros::dec;

    fn parse(json: &str) -> Result<Vec<UsageRecord>, RecordError> {
        crate::sources::testing::parse_line(&ClaudeCode, 12, json)
    }

    const ASSISTANT: &str = r#"{"parentUuid":"p1","isSidechain":false,"userType":"external","cwd":"/home/me/src/ranker","sessionId":"9f1c","version":"1.0.80","gitBranch":"main","message":{"id":"msg_01AbC","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"secret answer"}],"stop_reason":null,"usage":{"input_tokens":4,"cache_creation_input_tokens":6000,"cache_read_input_tokens":14000,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":6000},"output_tokens":250,"service_tier":"standard"}},"requestId":"req_011X","type":"assistant","uuid":"u1","timestamp":"2026-10-03T14:22:05.123Z"}"#;

    #[test]
    fn assistant_line() {
        let records = parse(ASSISTANT).unwrap();
        assert_eq!(records.len(), 1);
        let r = &records[0];
        assert_eq!(r.id, "claude-code:msg_01AbC:req_011X");
        assert_eq!(r.source, "claude-code");
        assert_eq!(r.provider, Provider::Anthropic);
        assert_eq!(r.model, "claude-sonnet-4-5-20250929");
        assert_eq!(
            r.start,
            Utc.with_ymd_and_hms(2026, 10, 3, 14, 22, 5).unwrap()
                + chrono::Duration::milliseconds(123)
        );
        // input_tokens 4 is uncached; 6_000 written, all of it 1h per the split; 14_000 read
        assert_eq!(r.tokens.input, 4);
        assert_eq!(r.tokens.cache_read, 14_000);
        assert_eq!(
            (r.tokens.cache_write_5m, r.tokens.cache_write_1h),
            (0, 6_000)
        );
        assert_eq!(r.tokens.output, 250);
        assert_eq!(r.project.as_deref(), Some("ranker"));
        assert_eq!(r.service_tier.as_deref(), Some("standard"));
        assert_eq!(r.tags.get("session").map(Text::as_str), Some("9f1c"));
        assert_eq!(r.dedup, DedupPolicy::KeepLargest);
        assert_eq!(r.provenance.line, 12);
        assert_eq!(r.reported_cost, None);
    }

    #[test]
    fn spaced_json_cost_and_no_request_id() {
        let r = &parse(
            r#"{"type": "assistant", "timestamp": "2025-06-01T10:00:00Z", "costUSD": 0.01234567,
               "cwd": "C:\\Users\\me\\proj\\", "message": {"id": "msg_2", "model": "claude-opus-4-1",
               "usage": {"input_tokens": 10, "output_tokens": 20, "cache_creation_input_tokens": 30}}}"#,
        )
        .unwrap()[0];
        assert_eq!(r.id, "claude-code:msg_2");
        assert_eq!(r.reported_cost, Some(dec!(0.01234567)));
        assert_eq!(r.reported_currency.as_deref(), Some("USD"));
        assert_eq!(r.project.as_deref(), Some("proj"));
        // no split: 30 written at the 5-minute rate
        assert_eq!(r.tokens.cache_write_5m, 30);
    }

    #[test]
    fn streaming_partials_share_the_id() {
        let partial = ASSISTANT.replace("\"output_tokens\":250", "\"output_tokens\":12");
        let a = &parse(&partial).unwrap()[0];
        let b = &parse(ASSISTANT).unwrap()[0];
        assert_eq!(a.id, b.id);
        assert!(
            b.dedup_weight() > a.dedup_weight(),
            "the driver keeps the final, larger copy"
        );
    }

    #[test]
    fn lines_without_billable_usage_produce_nothing() {
        // user turn: no "usage" bytes, not parsed at all (even though it is not valid JSON)
        assert!(
            parse(r#"{"type":"user","message":{"role":"user","content":"hello"#)
                .unwrap()
                .is_empty()
        );
        // a user turn that mentions "usage" in a tool result is parsed, but is not an assistant line
        assert!(parse(
            r#"{"type":"user","sessionId":"s","timestamp":"2026-10-03T14:22:05Z","message":{"role":"user","content":[{"type":"tool_result","content":"{\"usage\": 3}"}]},"toolUseResult":{"usage":{"x":1}}}"#
        )
        .unwrap()
        .is_empty());
        let synthetic = ASSISTANT.replace("claude-sonnet-4-5-20250929", "<synthetic>");
        assert!(parse(&synthetic).unwrap().is_empty());
        assert!(
            parse(r#"{"type":"summary","summary":"about usage","leafUuid":"x"}"#)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn errors_name_the_field() {
        let no_time = ASSISTANT.replace(",\"timestamp\":\"2026-10-03T14:22:05.123Z\"", "");
        let e = parse(&no_time).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (12, Some("timestamp")));
        let bad = ASSISTANT.replace("\"output_tokens\":250", "\"output_tokens\":\"250\"");
        let e = parse(&bad).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("message.usage.output_tokens"));
        let bad = ASSISTANT.replace(
            "\"ephemeral_1h_input_tokens\":6000",
            "\"ephemeral_1h_input_tokens\":6001",
        );
        let e = parse(&bad).unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("message.usage.cache_creation.ephemeral_1h_input_tokens")
        );
        let e = parse(&ASSISTANT.replace("\"cwd\":", "\"costUSD\":\"abc\",\"cwd\":")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("costUSD"));
    }

    #[test]
    fn detection() {
        let p = Path::new("/tmp/x/session.jsonl");
        let user = r#"{"parentUuid":null,"cwd":"/w","sessionId":"s1","type":"user","message":{"role":"user","content":"hi"}}"#;
        assert!(ClaudeCode.detect(p, format!("{user}\n{ASSISTANT}\n").as_bytes()));
        // spaced JSON, and the cut-off last line is ignored
        assert!(ClaudeCode.detect(
            p,
            b"{\"sessionId\": \"s\", \"type\": \"user\"}\n{\"sessionId\": \"s\", \"ty"
        ));
        // a resumed session starts with summaries (no sessionId): enough under projects/
        let summary = b"{\"type\":\"summary\",\"summary\":\"x\",\"leafUuid\":\"u\"}\n";
        assert!(ClaudeCode.detect(Path::new("/home/me/.claude/projects/-w/s.jsonl"), summary));
        assert!(!ClaudeCode.detect(p, summary));
        // API logs with Anthropic messages, usage pages: not ours
        assert!(!ClaudeCode.detect(
            p,
            b"{\"id\":\"msg_1\",\"type\":\"message\",\"usage\":{\"input_tokens\":1}}\n"
        ));
        assert!(!ClaudeCode.detect(
            p,
            b"{\"timestamp\":1,\"provider\":\"anthropic\",\"response\":{\"type\":\"message\",\"usage\":{}}}\n"
        ));
        assert!(!ClaudeCode.detect(p, b"{\"data\":[{\"starting_at\":\"x\",\"results\":[]}]}\n"));
        assert!(!ClaudeCode.detect(p, b""));
        // newer logs open with a snapshot line
        let snapshot = r#"{"type":"file-history-snapshot","messageId":"m","snapshot":{}}"#;
        assert!(ClaudeCode.detect(p, format!("{snapshot}\n{user}\n").as_bytes()));
        assert!(!ClaudeCode.detect(p, format!("{snapshot}\n").as_bytes()));
    }

    #[test]
    fn last_path_component() {
        assert_eq!(
            common::last_component("/home/me/src/ranker/").as_deref(),
            Some("ranker")
        );
        assert_eq!(
            common::last_component("C:\\work\\api").as_deref(),
            Some("api")
        );
        assert_eq!(common::last_component("/"), None);
        // As the path's text splits it, for names that are not ASCII, white space, and separators in
        // a row.
        let by_chars = |path: &str| {
            path.trim_end_matches(['/', '\\'])
                .rsplit(['/', '\\'])
                .next()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
        };
        for path in [
            "",
            "api",
            "/",
            "//",
            "\\",
            "/a//",
            "/home/me/ späte ",
            "/home/me/日本語/",
            "C:\\x\\é",
            "/srv/ \u{a0}",
            "a/\u{2003}b\u{2003}/",
            "/x/ /",
            "é/",
        ] {
            assert_eq!(
                common::last_component(path).map(|t| t.to_string()),
                by_chars(path),
                "{path:?}"
            );
        }
    }
}
