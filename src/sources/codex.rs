//! `codex`: Codex CLI session logs (`~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`, `$CODEX_HOME/sessions`).
//!
//! Each line is `{"timestamp", "type", "payload"}`. `session_meta` names the session (`id`) and its `cwd`
//! (the project: its last component); `turn_context` names the model of the turns that follow;
//! `event_msg` lines whose payload is `{"type": "token_count", "info": {"total_token_usage",
//! "last_token_usage"}}` carry usage. Usage is OpenAI's Responses counting: `input_tokens` includes
//! `cached_input_tokens`, `reasoning_output_tokens` is inside `output_tokens` (beside it when
//! `total_tokens` says so). A turn is the growth of `total_token_usage` since the previous event: a repeated
//! event (same totals) adds nothing, and its id (`codex:{session}:{cumulative total}`) makes a resumed session
//! copied into a new file count once. The model and cwd come from other lines, so a file's lines are read in
//! order by one parser ([`Reader::OrderedLines`]).

use std::path::Path;

use serde::Deserialize;

use super::shared::common;
use super::shared::response::{has_key_value, Label};
use super::{OrderedLineParser, Reader, Source};
use crate::error::RecordError;
use crate::record::{DedupPolicy, Provenance, Provider, Text, TokenCounts, UsageRecord};
use crate::timestamp::Timestamp;

/// Reads Codex CLI session logs.
pub struct Codex;

const NAME: &str = "codex";

impl Source for Codex {
    fn name(&self) -> &'static str {
        NAME
    }

    fn reads(&self) -> &'static str {
        "Codex CLI session logs (~/.codex/sessions/**/rollout-*.jsonl): token_count events per turn, model \
         from turn_context, project from the session's cwd"
    }

    fn detected_by(&self) -> &'static str {
        "JSON lines with \"type\" session_meta/turn_context/event_msg/response_item and a \"payload\""
    }

    fn detect(&self, _path: &Path, head: &[u8]) -> bool {
        let lines = common::head_lines(head, 5);
        !lines.is_empty()
            && lines.iter().all(|l| l.first() == Some(&b'{'))
            && lines.iter().any(|line| {
                common::has_key(line, "payload")
                    && LINE_TYPES.iter().any(|t| has_key_value(line, "type", t))
            })
    }

    fn reader(&self, _head: &[u8]) -> Reader<'_> {
        Reader::OrderedLines(Box::<Session>::default())
    }
}

impl OrderedLineParser for Session {
    fn parse_line(
        &mut self,
        line: &[u8],
        at: &Provenance,
        out: &mut Vec<UsageRecord>,
    ) -> Result<(), RecordError> {
        out.extend(self.read_line(line, at)?);
        Ok(())
    }
}

const LINE_TYPES: [&str; 4] = ["session_meta", "turn_context", "event_msg", "response_item"];

/// What earlier lines said: the session, its cwd, the current model and the totals so far.
#[derive(Default)]
struct Session {
    id: Option<Text>,
    cwd: Option<Text>,
    model: Option<Text>,
    totals: Usage,
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Label<'a>>,
    timestamp: Option<Timestamp>,
    #[serde(borrow)]
    payload: Option<Payload<'a>>,
}

#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Label<'a>>,
    #[serde(borrow)]
    id: Option<Label<'a>>,
    #[serde(borrow)]
    cwd: Option<Label<'a>>,
    #[serde(borrow)]
    model: Option<Label<'a>>,
    info: Option<Info>,
}

#[derive(Deserialize)]
struct Info {
    total_token_usage: Option<Usage>,
    last_token_usage: Option<Usage>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default)]
struct Usage {
    input_tokens: u64,
    cached_input_tokens: u64,
    output_tokens: u64,
    reasoning_output_tokens: u64,
    total_tokens: u64,
}

impl Usage {
    /// `self − before`, field by field; `None` when a field went down (a new count, not a growth).
    fn since(&self, before: &Usage) -> Option<Usage> {
        Some(Usage {
            input_tokens: self.input_tokens.checked_sub(before.input_tokens)?,
            cached_input_tokens: self
                .cached_input_tokens
                .checked_sub(before.cached_input_tokens)?,
            output_tokens: self.output_tokens.checked_sub(before.output_tokens)?,
            reasoning_output_tokens: self
                .reasoning_output_tokens
                .checked_sub(before.reasoning_output_tokens)?,
            total_tokens: self.total_tokens.checked_sub(before.total_tokens)?,
        })
    }

    fn tokens(&self, line: u64) -> Result<TokenCounts, RecordError> {
        let input = self
            .input_tokens
            .checked_sub(self.cached_input_tokens)
            .ok_or_else(|| {
                RecordError::field(
                    line,
                    "payload.info.last_token_usage.cached_input_tokens",
                    format!(
                        "cached_input_tokens = {} exceeds input_tokens = {}: a part cannot be larger \
                         than its total",
                        self.cached_input_tokens, self.input_tokens
                    ),
                )
            })?;
        let reasoning = self.reasoning_output_tokens;
        // Reasoning is inside output (Responses counting), unless the total says it was counted beside it.
        let total_beside = self
            .input_tokens
            .saturating_add(self.output_tokens)
            .saturating_add(reasoning);
        let beside =
            (reasoning > 0 && self.total_tokens == total_beside) || reasoning > self.output_tokens;
        let output = if beside {
            self.output_tokens.saturating_add(reasoning)
        } else {
            self.output_tokens
        };
        Ok(TokenCounts {
            input,
            cache_read: self.cached_input_tokens,
            output,
            reasoning,
            ..TokenCounts::default()
        })
    }
}

impl Session {
    fn read_line(
        &mut self,
        line: &[u8],
        at: &Provenance,
    ) -> Result<Option<UsageRecord>, RecordError> {
        let parsed: Line = common::parse_json(line, at.line)?;
        let Some(payload) = parsed.payload else {
            return Ok(None);
        };
        match parsed.kind.as_ref().map(Label::as_str) {
            Some("session_meta") => {
                self.id = payload.id.as_ref().and_then(Label::to_nonempty);
                self.cwd = payload.cwd.as_ref().and_then(Label::to_nonempty);
                Ok(None)
            }
            Some("turn_context") => {
                if let Some(model) = payload.model.as_ref().and_then(Label::to_nonempty) {
                    self.model = Some(model);
                }
                if let Some(cwd) = payload.cwd.as_ref().and_then(Label::to_nonempty) {
                    self.cwd = Some(cwd);
                }
                Ok(None)
            }
            Some("event_msg")
                if payload.kind.as_ref().map(Label::as_str) == Some("token_count") =>
            {
                let Some(info) = payload.info else {
                    return Ok(None);
                };
                self.token_count(info, parsed.timestamp, at)
            }
            _ => Ok(None),
        }
    }

    fn token_count(
        &mut self,
        info: Info,
        timestamp: Option<Timestamp>,
        at: &Provenance,
    ) -> Result<Option<UsageRecord>, RecordError> {
        let turn = match (info.total_token_usage, info.last_token_usage) {
            (Some(total), last) => {
                let grown = total.since(&self.totals);
                self.totals = total;
                match grown {
                    // The same totals again: a repeated event, not a turn.
                    Some(d) if d == Usage::default() => return Ok(None),
                    Some(d) => d,
                    // Totals went down (a new count): the event's own last turn.
                    None => last.unwrap_or(total),
                }
            }
            (None, Some(last)) => last,
            (None, None) => return Ok(None),
        };
        if turn == Usage::default() {
            return Ok(None);
        }
        let start = timestamp.ok_or_else(|| {
            RecordError::field(
                at.line,
                "timestamp",
                "a token_count line needs a \"timestamp\"",
            )
        })?;
        let session = self.id.as_deref().unwrap_or(&at.file);
        let id = compact_str::format_compact!("{NAME}:{session}:{}", self.totals.total_tokens);
        let mut record = UsageRecord::new(
            id,
            NAME,
            Provider::OpenAI,
            self.model.clone().unwrap_or_else(|| "unknown".into()),
            start.0,
            at.clone(),
        );
        record.tokens = turn.tokens(at.line)?;
        record.project = self.cwd.as_deref().and_then(common::last_component);
        if let Some(id) = &self.id {
            record.tags.insert("session".into(), id.clone());
        }
        record.requests = 1;
        record.dedup = DedupPolicy::KeepFirst;
        Ok(Some(record))
    }
}
