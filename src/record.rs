//! The normalized usage record: what every importer produces and the ledger stores.
//!
//! A record is one request from an API log, or one row of a provider's bucketed export. Token classes are
//! disjoint (see `TokenCounts`): each importer maps its provider's overlapping fields onto them, so the
//! pricing engine never has to know where a record came from.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::RecordError;

/// The text of a record's fields: up to 24 bytes are kept inline (model, team, project, tier, region and
/// tag names), so building and dropping a record allocates only for longer values.
pub type Text = compact_str::CompactString;

/// The provider that served (and bills) a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Provider {
    OpenAI,
    Anthropic,
    Google,
    Bedrock,
    Azure,
    OpenRouter,
    Mistral,
    DeepSeek,
    XAi,
    Cohere,
    /// Open-weight model hosts: each prices the same open model its own way.
    Together,
    Fireworks,
    Groq,
    DeepInfra,
    Other,
}

impl Provider {
    pub const ALL: [Provider; 15] = [
        Provider::OpenAI,
        Provider::Anthropic,
        Provider::Google,
        Provider::Bedrock,
        Provider::Azure,
        Provider::OpenRouter,
        Provider::Mistral,
        Provider::DeepSeek,
        Provider::XAi,
        Provider::Cohere,
        Provider::Together,
        Provider::Fireworks,
        Provider::Groq,
        Provider::DeepInfra,
        Provider::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::OpenAI => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Google => "google",
            Provider::Bedrock => "bedrock",
            Provider::Azure => "azure",
            Provider::OpenRouter => "openrouter",
            Provider::Mistral => "mistral",
            Provider::DeepSeek => "deepseek",
            Provider::XAi => "xai",
            Provider::Cohere => "cohere",
            Provider::Together => "together",
            Provider::Fireworks => "fireworks",
            Provider::Groq => "groq",
            Provider::DeepInfra => "deepinfra",
            Provider::Other => "other",
        }
    }

    /// Parses a provider name as written in logs and envelopes (`"openai"`, `"Anthropic"`, `"gemini"`, `"vertex_ai"`).
    pub fn parse(name: &str) -> Option<Provider> {
        // Lowered on the stack: every name read is at most 16 bytes (a longer one is none of them).
        let name = trimmed(name).as_bytes();
        let mut buf = [0u8; 16];
        let lower = buf.get_mut(..name.len())?;
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        let lower = std::str::from_utf8(lower).ok()?;
        Some(match lower {
            "openai" => Provider::OpenAI,
            "anthropic" | "claude" => Provider::Anthropic,
            "google" | "gemini" | "vertex" | "vertex_ai" | "vertexai" | "google-vertex" => {
                Provider::Google
            }
            "bedrock" | "aws" | "aws-bedrock" | "amazon-bedrock" => Provider::Bedrock,
            "azure" | "azure_openai" | "azure-openai" => Provider::Azure,
            "openrouter" => Provider::OpenRouter,
            "mistral" | "mistralai" | "mistral-ai" => Provider::Mistral,
            "deepseek" | "deepseek-ai" => Provider::DeepSeek,
            "xai" | "x-ai" | "x.ai" | "grok" => Provider::XAi,
            "cohere" | "cohere_chat" => Provider::Cohere,
            "together" | "together_ai" | "together-ai" | "togetherai" => Provider::Together,
            "fireworks" | "fireworks_ai" | "fireworks-ai" | "fireworksai" => Provider::Fireworks,
            "groq" => Provider::Groq,
            "deepinfra" | "deep-infra" => Provider::DeepInfra,
            "other" => Provider::Other,
            _ => return None,
        })
    }

    /// The provider a model name gives away, for a response whose log does not name one: a routing prefix
    /// (`deepseek/…`, `together_ai/…`, Fireworks' `accounts/fireworks/models/…`) or a first-party model
    /// family that only its maker serves under that name (`deepseek-chat`, `grok-4`, `mistral-large-latest`,
    /// `command-r-plus`). Open models (`meta-llama/…`, `gpt-oss-120b`) give nothing away: every host serves
    /// them, so the log must name the host.
    pub fn from_model_name(model: &str) -> Option<Provider> {
        // Compared without lowering a copy: this runs for most lines of an API log.
        let model = trimmed(model);
        let starts = |prefix: &str| {
            model
                .as_bytes()
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
        };
        if starts("accounts/fireworks/") {
            return Some(Provider::Fireworks);
        }
        if let Some((prefix, _)) = model.split_once('/') {
            return match Provider::parse(prefix)? {
                p @ (Provider::Mistral
                | Provider::DeepSeek
                | Provider::XAi
                | Provider::Cohere
                | Provider::Together
                | Provider::Fireworks
                | Provider::Groq
                | Provider::DeepInfra) => Some(p),
                _ => None,
            };
        }
        const FAMILIES: &[(&str, Provider)] = &[
            ("deepseek-", Provider::DeepSeek),
            ("grok-", Provider::XAi),
            ("mistral-", Provider::Mistral),
            ("open-mistral-", Provider::Mistral),
            ("open-mixtral-", Provider::Mistral),
            ("codestral-", Provider::Mistral),
            ("ministral-", Provider::Mistral),
            ("magistral-", Provider::Mistral),
            ("pixtral-", Provider::Mistral),
            ("devstral-", Provider::Mistral),
            ("voxtral-", Provider::Mistral),
            ("command-", Provider::Cohere),
            ("c4ai-aya-", Provider::Cohere),
        ];
        FAMILIES
            .iter()
            .find(|(prefix, _)| starts(prefix))
            .map(|(_, p)| *p)
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Token and unit counts of one record. Every class is disjoint from every other, except
/// `reasoning`, which is the part of `output` spent on reasoning (informational unless a model prices it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCounts {
    /// Uncached input tokens.
    pub input: u64,
    /// Cached text (and image) input.
    pub cache_read: u64,
    /// Cached audio input (Realtime `cached_tokens_details.audio_tokens`, usage exports'
    /// `input_cached_audio_tokens`): the cached part of the audio input, apart from `audio_input` and
    /// `cache_read`, priced at the model's cached audio rate.
    pub cache_read_audio: u64,
    pub cache_write_5m: u64,
    pub cache_write_1h: u64,
    /// Output tokens, reasoning included.
    pub output: u64,
    /// Subset of `output`.
    pub reasoning: u64,
    pub audio_input: u64,
    pub audio_output: u64,
    pub image_input: u64,
    pub image_output: u64,
    /// Built-in tool calls billed per call (see [`ToolKind`]): web searches (Anthropic
    /// `server_tool_use.web_search_requests`, OpenAI `web_search_call` items, Gemini search queries).
    pub web_search_requests: u64,
    /// OpenAI Responses `web_search_call` items of a response whose tools name `web_search_preview` (and
    /// not `web_search`): the older tool, billed at its own rate.
    pub web_search_preview_calls: u64,
    /// Anthropic `server_tool_use.web_fetch_requests`.
    pub web_fetch_requests: u64,
    /// OpenAI Responses `file_search_call` items.
    pub file_search_calls: u64,
    /// Code execution calls: Anthropic `code_execution` server tool uses, OpenAI `code_interpreter_call` items.
    pub code_execution_calls: u64,
    /// Gemini requests grounded with Google Search (one per response with grounding metadata).
    pub grounded_prompts: u64,
    pub images: u64,
    pub seconds: u64,
}

impl TokenCounts {
    /// The ledger's column of each count, in the order of [`TokenCounts::in_ledger_order`].
    pub const COLUMNS: [&'static str; 19] = [
        "input_tokens",
        "cache_read_tokens",
        "cache_write_5m_tokens",
        "cache_write_1h_tokens",
        "output_tokens",
        "reasoning_tokens",
        "audio_input_tokens",
        "audio_output_tokens",
        "image_input_tokens",
        "image_output_tokens",
        "web_search_requests",
        "images",
        "seconds",
        // ledger schema version 4
        "web_fetch_requests",
        "file_search_calls",
        "code_execution_calls",
        "grounded_prompts",
        // ledger schema version 8
        "cache_read_audio_tokens",
        "web_search_preview_calls",
    ];

    /// `before`, then [`TokenCounts::COLUMNS`], then `after`, as one list of `N` names (a list of another
    /// length does not compile).
    pub const fn columns_between<const N: usize>(
        before: &[&'static str],
        after: &[&'static str],
    ) -> [&'static str; N] {
        let mut names = [""; N];
        let (first, tokens) = (before.len(), TokenCounts::COLUMNS.len());
        assert!(first + tokens + after.len() == N);
        let mut i = 0;
        while i < N {
            names[i] = if i < first {
                before[i]
            } else if i < first + tokens {
                TokenCounts::COLUMNS[i - first]
            } else {
                after[i - first - tokens]
            };
            i += 1;
        }
        names
    }

    /// Every count, in the order of the ledger's columns (named in [`TokenCounts::COLUMNS`]).
    pub fn in_ledger_order(&self) -> [u64; 19] {
        [
            self.input,
            self.cache_read,
            self.cache_write_5m,
            self.cache_write_1h,
            self.output,
            self.reasoning,
            self.audio_input,
            self.audio_output,
            self.image_input,
            self.image_output,
            self.web_search_requests,
            self.images,
            self.seconds,
            self.web_fetch_requests,
            self.file_search_calls,
            self.code_execution_calls,
            self.grounded_prompts,
            self.cache_read_audio,
            self.web_search_preview_calls,
        ]
    }
}

/// A built-in tool billed per call, on top of the tokens it reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ToolKind {
    WebSearch,
    WebSearchPreview,
    WebFetch,
    FileSearch,
    CodeExecution,
    GroundedPrompt,
}

impl ToolKind {
    pub const ALL: [ToolKind; 6] = [
        ToolKind::WebSearch,
        ToolKind::WebSearchPreview,
        ToolKind::WebFetch,
        ToolKind::FileSearch,
        ToolKind::CodeExecution,
        ToolKind::GroundedPrompt,
    ];

    /// The name in price tables (`[[tool]] name`, per-period rate keys) and in `tool_calls` text.
    pub fn key(self) -> &'static str {
        match self {
            ToolKind::WebSearch => "web_search",
            ToolKind::WebSearchPreview => "web_search_preview",
            ToolKind::WebFetch => "web_fetch",
            ToolKind::FileSearch => "file_search",
            ToolKind::CodeExecution => "code_execution",
            ToolKind::GroundedPrompt => "grounded_prompt",
        }
    }

    pub fn parse(key: &str) -> Option<ToolKind> {
        ToolKind::ALL.into_iter().find(|k| k.key() == key)
    }
}

impl TokenCounts {
    /// All input-side tokens of the request: what a long-context threshold is compared with.
    pub fn prompt_total(&self) -> u64 {
        self.input
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_read_audio)
            .saturating_add(self.cache_write_5m)
            .saturating_add(self.cache_write_1h)
            .saturating_add(self.audio_input)
            .saturating_add(self.image_input)
    }

    pub fn cache_write(&self) -> u64 {
        self.cache_write_5m.saturating_add(self.cache_write_1h)
    }

    /// Every token the record carries (reasoning is inside output, so it is not added again).
    pub fn total(&self) -> u64 {
        self.prompt_total()
            .saturating_add(self.output)
            .saturating_add(self.audio_output)
            .saturating_add(self.image_output)
    }

    /// The calls of one built-in tool.
    pub fn tool(&self, kind: ToolKind) -> u64 {
        match kind {
            ToolKind::WebSearch => self.web_search_requests,
            ToolKind::WebSearchPreview => self.web_search_preview_calls,
            ToolKind::WebFetch => self.web_fetch_requests,
            ToolKind::FileSearch => self.file_search_calls,
            ToolKind::CodeExecution => self.code_execution_calls,
            ToolKind::GroundedPrompt => self.grounded_prompts,
        }
    }

    /// All built-in tool calls of the record.
    pub fn tool_calls(&self) -> u64 {
        ToolKind::ALL
            .iter()
            .fold(0u64, |n, &k| n.saturating_add(self.tool(k)))
    }

    /// The tool calls as text, `web_search=3;web_fetch=1` (tools with no call left out; empty when none).
    pub fn tool_calls_text(&self) -> String {
        let mut out = String::new();
        for kind in ToolKind::ALL {
            let n = self.tool(kind);
            if n > 0 {
                if !out.is_empty() {
                    out.push(';');
                }
                out.push_str(kind.key());
                out.push('=');
                out.push_str(&n.to_string());
            }
        }
        out
    }

    /// True when nothing billable is recorded.
    pub fn is_empty(&self) -> bool {
        self.total() == 0 && self.tool_calls() == 0 && self.images == 0 && self.seconds == 0
    }
}

/// Why a request failed: the classes a provider's degradation shows up as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FailureClass {
    /// 429: the caller's rate limit or quota.
    RateLimit,
    /// 529 (Anthropic `overloaded_error`) and 503: the provider has no capacity.
    Overloaded,
    /// Any other 5xx.
    ServerError,
    /// 408, 504, 524 and timeouts named by the error.
    Timeout,
    /// Any other 4xx: the request itself was refused.
    ClientError,
    /// Failed, with no status or error type that says why.
    Other,
}

impl FailureClass {
    pub const ALL: [FailureClass; 6] = [
        FailureClass::RateLimit,
        FailureClass::Overloaded,
        FailureClass::ServerError,
        FailureClass::Timeout,
        FailureClass::ClientError,
        FailureClass::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::RateLimit => "rate_limit",
            FailureClass::Overloaded => "overloaded",
            FailureClass::ServerError => "server_error",
            FailureClass::Timeout => "timeout",
            FailureClass::ClientError => "client_error",
            FailureClass::Other => "other",
        }
    }

    pub fn parse(name: &str) -> Option<FailureClass> {
        FailureClass::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The class an HTTP status says, for a status of 400 or more.
    pub fn from_status(status: u16) -> Option<FailureClass> {
        Some(match status {
            429 => FailureClass::RateLimit,
            503 | 529 => FailureClass::Overloaded,
            408 | 504 | 524 | 598 | 599 => FailureClass::Timeout,
            500..=599 => FailureClass::ServerError,
            400..=499 => FailureClass::ClientError,
            _ => return None,
        })
    }

    /// The class an error's `type` or `code` names (`overloaded_error`, `rate_limit_exceeded`,
    /// `RESOURCE_EXHAUSTED`, `timeout`, `server_error`, `invalid_request_error`), if any. Only the class is
    /// kept, never the text.
    pub fn from_error_name(name: &str) -> Option<FailureClass> {
        let n = name.trim().to_ascii_lowercase();
        if let Ok(code) = n.parse::<u16>() {
            return FailureClass::from_status(code);
        }
        let has = |w: &str| n.contains(w);
        Some(
            if has("overload") || has("unavailable") || has("capacity") {
                FailureClass::Overloaded
            } else if has("rate_limit") || has("rate limit") || has("exhausted") || has("quota") {
                FailureClass::RateLimit
            } else if has("timeout") || has("timed_out") || has("deadline") {
                FailureClass::Timeout
            } else if has("server") || has("internal") || has("api_error") {
                FailureClass::ServerError
            } else if has("invalid")
                || has("not_found")
                || has("permission")
                || has("authentication")
            {
                FailureClass::ClientError
            } else {
                return None;
            },
        )
    }

    /// A failed record's class: the status when it has one, else the error's name, else `Other`.
    pub fn of(status: Option<u16>, error_name: Option<&str>) -> FailureClass {
        status
            .and_then(FailureClass::from_status)
            .or_else(|| error_name.and_then(FailureClass::from_error_name))
            .unwrap_or(FailureClass::Other)
    }
}

/// How a source's repeated records are merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DedupPolicy {
    /// The first record with an id wins; later copies are duplicates.
    KeepFirst,
    /// The record with the most tokens wins: streaming partials and re-exported buckets that grew.
    KeepLargest,
}

/// Where a record came from: file and line (or record number within a document).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// Not kept in the parse cache: set from the file's name when a cached record is read back.
    #[serde(skip)]
    pub file: Arc<str>,
    pub line: u64,
}

/// One normalized usage record.
/// Serialized only into the parse cache (`crate::cache`), whose entries are void for any other build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageRecord {
    /// Stable id: the provider's own id where the source has one, else bucket key or content hash.
    pub id: Text,
    /// Importer name (`api-log`, `openai-usage`, …). Not kept in the parse cache: set from the file's
    /// source when a cached record is read back.
    #[serde(skip)]
    pub source: &'static str,
    pub provider: Provider,
    /// Model as reported by the source.
    pub model: Text,
    #[serde(with = "cache_repr::time")]
    pub start: DateTime<Utc>,
    /// End of the bucket for bucketed exports.
    #[serde(with = "cache_repr::time_option")]
    pub end: Option<DateTime<Utc>>,
    /// Service tier that was served, as reported (`default`, `flex`, `priority`, `standard`, …).
    pub service_tier: Option<Text>,
    pub batch: bool,
    pub region: Option<Text>,
    /// Whether the record was billed at the long-context rate, when the source says so
    /// (Anthropic `context_window`). `None`: decide per request from the token counts.
    pub long_context: Option<bool>,
    pub team: Option<Text>,
    pub project: Option<Text>,
    pub user: Option<Text>,
    pub api_key: Option<Text>,
    pub workspace: Option<Text>,
    /// The provider's billing account, when the source names it: the OpenAI organization, the Google
    /// Cloud billing account, the Azure billing account (else subscription), the AWS account.
    pub billing_account: Option<Text>,
    /// Its display name, when the source has one.
    pub billing_account_name: Option<Text>,
    pub tags: BTreeMap<Text, Text>,
    pub tokens: TokenCounts,
    /// Number of requests this record stands for (1 for a log line, N for a bucket).
    pub requests: u64,
    #[serde(with = "cache_repr::decimal_option")]
    pub reported_cost: Option<Decimal>,
    pub reported_currency: Option<Text>,
    /// HTTP status when the source has one.
    pub status: Option<u16>,
    /// The request failed (status >= 400 or an error object).
    pub failed: bool,
    pub latency_ms: Option<u64>,
    /// Why a failed request failed, when known (from the status, else the error's type or code).
    pub failure: Option<FailureClass>,
    /// Which attempt of a request this is (1 = the first), when the log says (`attempt`).
    pub attempt: Option<u32>,
    /// The id of the request this one repeats, when the log says (`retry_of`).
    pub retry_of: Option<Text>,
    pub provenance: Provenance,
    pub dedup: DedupPolicy,
}

impl UsageRecord {
    /// A record with every optional field empty; importers fill in what they know.
    pub fn new(
        id: Text,
        source: &'static str,
        provider: Provider,
        model: Text,
        start: DateTime<Utc>,
        provenance: Provenance,
    ) -> UsageRecord {
        UsageRecord {
            id,
            source,
            provider,
            model,
            start,
            end: None,
            service_tier: None,
            batch: false,
            region: None,
            long_context: None,
            team: None,
            project: None,
            user: None,
            api_key: None,
            workspace: None,
            billing_account: None,
            billing_account_name: None,
            tags: BTreeMap::new(),
            tokens: TokenCounts::default(),
            requests: 1,
            reported_cost: None,
            reported_currency: None,
            status: None,
            failed: false,
            latency_ms: None,
            failure: None,
            attempt: None,
            retry_of: None,
            provenance,
            dedup: DedupPolicy::KeepFirst,
        }
    }

    /// The provider-reported cost when it is in USD (no currency given counts as USD), the currency of
    /// every sum a report shows. A cost in another currency is kept on the record but added to no sum.
    pub fn reported_usd(&self) -> Option<Decimal> {
        self.reported_cost
            .filter(|_| self.foreign_currency().is_none())
    }

    /// The currency of the provider-reported cost when it is not USD (case-insensitive).
    pub fn foreign_currency(&self) -> Option<&str> {
        self.reported_cost?;
        self.reported_currency
            .as_deref()
            .filter(|c| !c.eq_ignore_ascii_case("usd"))
    }

    /// The value that decides which copy wins under `DedupPolicy::KeepLargest`: the usage it counts
    /// (tokens, searches, requests), or, for invoice-side records that count none (a Costs API row), the
    /// amount in nano-dollars, so that a re-pulled day that grew replaces the first pull.
    pub fn dedup_weight(&self) -> u64 {
        let usage = self
            .tokens
            .total()
            .saturating_add(self.tokens.tool_calls())
            .saturating_add(self.requests);
        if usage > 0 {
            return usage;
        }
        // Checked: an absurd amount must not overflow (it is rejected by `check_ranges` anyway). The
        // weight is capped at i64::MAX, the largest the ledger's integer column holds.
        self.reported_cost
            .map(|c| {
                c.abs()
                    .checked_mul(Decimal::from(1_000_000_000u64))
                    .and_then(|n| n.trunc().to_u64())
                    .unwrap_or(u64::MAX)
            })
            .unwrap_or(0)
            .min(i64::MAX as u64)
    }

    /// Rejects values no real record carries and the ledger could not store exactly: a token, unit or
    /// request count above [`MAX_COUNT`], a reported cost beyond [`MAX_COST`] either way. Every path
    /// (reading files, importing, pulling) checks records with this, so a file read directly and the same
    /// file imported always agree.
    pub fn check_ranges(&self) -> Result<(), RecordError> {
        // Every record is checked: the values alone, the names only for one out of range.
        let counts = self.counts();
        if counts.iter().fold(0, |a, &b| a.max(b)) > MAX_COUNT {
            if let Some((field, value)) = COUNT_NAMES
                .iter()
                .zip(counts)
                .find(|(_, value)| *value > MAX_COUNT)
            {
                return Err(out_of_range(
                    self.provenance.line,
                    field,
                    format!("{value} is more than 10^15 in one record"),
                ));
            }
        }
        for (field, time) in [("start", Some(self.start)), ("end", self.end)] {
            if let Some(t) = time.filter(|t| !(1..=9999).contains(&t.year())) {
                return Err(out_of_range(
                    self.provenance.line,
                    field,
                    format!("{t} is outside the years 1 to 9999"),
                ));
            }
        }
        if let Some(cost) = self.reported_cost.filter(|c| c.abs() > MAX_COST) {
            return Err(out_of_range(
                self.provenance.line,
                "reported_cost",
                format!("{cost} is beyond ±10^15 in one record"),
            ));
        }
        Ok(())
    }

    /// The counts [`UsageRecord::check_ranges`] bounds, in the order of [`COUNT_NAMES`].
    fn counts(&self) -> [u64; COUNT_NAMES.len()] {
        let mut counts = [0; COUNT_NAMES.len()];
        let (tokens, rest) = counts.split_at_mut(TokenCounts::COLUMNS.len());
        tokens.copy_from_slice(&self.tokens.in_ledger_order());
        rest.copy_from_slice(&[self.requests, self.latency_ms.unwrap_or(0)]);
        counts
    }
}

/// The names of a record's bounded counts in errors (the ledger's column names).
const COUNT_NAMES: [&str; TokenCounts::COLUMNS.len() + 2] =
    TokenCounts::columns_between(&[], &["requests", "latency_ms"]);

/// The model of a bucketed usage row exported without `group_by=model` (`model: null`): its tokens and
/// requests are kept, and it is unpriced with the reason "export not grouped by model".
pub const UNGROUPED_MODEL: &str = "(not grouped by model)";

/// The largest token, unit or request count one record may carry (10^15): far above any real bucket,
/// far below what the ledger's signed 64-bit integers hold.
pub const MAX_COUNT: u64 = 1_000_000_000_000_000;

/// The largest provider-reported cost (either sign) one record may carry: 10^15 in its currency.
pub const MAX_COST: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// `s` without surrounding white space, as `str::trim` gives it, returning at once when the ends are
/// ASCII that is not white space (nearly every name a log writes). `trim` looks at each end as a whole
/// character; on the fields of an API log line that cost 1.5% of reading it.
pub fn trimmed(s: &str) -> &str {
    let plain = |b: Option<&u8>| b.is_some_and(|&b| b.is_ascii_graphic());
    let bytes = s.as_bytes();
    if plain(bytes.first()) && plain(bytes.last()) {
        s
    } else {
        s.trim()
    }
}

/// The record error for a value outside what aispend accepts: `field 'x': value out of range (…)`.
pub fn out_of_range(line: u64, field: &str, why: impl std::fmt::Display) -> RecordError {
    RecordError::field(line, field, format!("value out of range ({why})"))
}

/// A 128-bit hash of some bytes, as a hex string: record ids for sources without their own.
pub fn content_id(prefix: &str, bytes: &[u8]) -> Text {
    let h = xxhash_rust::xxh3::xxh3_128(bytes);
    // Longer than inline text: the string's buffer is kept as it is, without a copy.
    Text::from(format!("{prefix}:{h:032x}"))
}

/// Record text joined from parts: inline when it fits, else one exact allocation, kept without a copy.
pub fn concat(parts: &[&str]) -> Text {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    if len > INLINE_TEXT {
        return Text::from(parts.concat());
    }
    let mut text = Text::default();
    for part in parts {
        text.push_str(part);
    }
    text
}

/// The longest [`Text`] kept inline, without an allocation.
const INLINE_TEXT: usize = std::mem::size_of::<Text>();

/// How the parse cache (`crate::cache`, a compact format that cannot describe itself) keeps the fields
/// whose usual serde forms are text: times as seconds and nanoseconds, decimals as their 16 bytes.
pub(crate) mod cache_repr {
    use chrono::{DateTime, Utc};
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    fn parts(t: &DateTime<Utc>) -> (i64, u32) {
        (t.timestamp(), t.timestamp_subsec_nanos())
    }

    fn from_parts<'de, D: Deserializer<'de>>(
        (secs, nanos): (i64, u32),
    ) -> Result<DateTime<Utc>, D::Error> {
        DateTime::from_timestamp(secs, nanos)
            .ok_or_else(|| serde::de::Error::custom("time out of range"))
    }

    pub mod time {
        use super::*;
        pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
            parts(t).serialize(s)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
            from_parts::<D>(Deserialize::deserialize(d)?)
        }
    }

    pub mod time_option {
        use super::*;
        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            t.as_ref().map(parts).serialize(s)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            Option::<(i64, u32)>::deserialize(d)?
                .map(from_parts::<D>)
                .transpose()
        }
    }

    pub mod decimal {
        use super::*;
        pub fn serialize<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
            v.serialize().serialize(s)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
            Ok(Decimal::deserialize(<[u8; 16]>::deserialize(d)?))
        }
    }

    pub mod decimal_option {
        use super::*;
        pub fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
            v.map(|d| d.serialize()).serialize(s)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
            Ok(Option::<[u8; 16]>::deserialize(d)?.map(Decimal::deserialize))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimmed_is_trim() {
        for s in [
            "",
            " ",
            "a",
            "gpt-4o",
            " a",
            "a ",
            "\tteam\n",
            "x y",
            "\u{a0}a",
            "a\u{2003}",
            "\u{85}x",
            "\u{3000}",
            "é",
            "aé",
            "éa",
            "\u{7f}a",
            "a\u{7f}",
            "\u{b}a",
            "a\r",
        ] {
            assert_eq!(trimmed(s), s.trim(), "{s:?}");
        }
        // The short way returns the very text it was given.
        let name = "openai";
        assert!(std::ptr::eq(trimmed(name), name));
    }

    #[test]
    fn the_bounds_are_ten_to_the_fifteenth() {
        assert_eq!(MAX_COST, Decimal::from(MAX_COUNT));
        assert_eq!(MAX_COUNT, 10u64.pow(15));
    }

    #[test]
    fn joined_text_is_inline_when_it_fits() {
        let short = concat(&["openai", ":", "req_1"]);
        assert_eq!(short, "openai:req_1");
        assert!(!short.is_heap_allocated());
        let fits = concat(&["anthropic", ":", "msg_0123456789"]);
        assert_eq!(fits.len(), INLINE_TEXT);
        assert!(!fits.is_heap_allocated());
        let long = concat(&["anthropic", ":", "msg_01KUF4oMHVA2xBX5KMkNJno3"]);
        assert_eq!(long, "anthropic:msg_01KUF4oMHVA2xBX5KMkNJno3");
        assert!(long.is_heap_allocated());
        assert_eq!(concat(&[]), "");
        assert_eq!(
            content_id("api-log", b"{}"),
            format!("api-log:{:032x}", xxhash_rust::xxh3::xxh3_128(b"{}"))
        );
    }

    #[test]
    fn providers_round_trip_and_model_names_give_some_away() {
        for p in Provider::ALL {
            assert_eq!(Provider::parse(p.as_str()), Some(p));
        }
        assert_eq!(Provider::parse("together_ai"), Some(Provider::Together));
        assert_eq!(Provider::parse("x-ai"), Some(Provider::XAi));
        for (model, want) in [
            ("deepseek-reasoner", Some(Provider::DeepSeek)),
            ("grok-4.7", Some(Provider::XAi)),
            ("mistral-large-latest", Some(Provider::Mistral)),
            ("codestral-2508", Some(Provider::Mistral)),
            ("command-a-03-2025", Some(Provider::Cohere)),
            (
                "accounts/fireworks/models/gpt-oss-120b",
                Some(Provider::Fireworks),
            ),
            (
                "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo",
                Some(Provider::Together),
            ),
            ("groq/llama-3.3-70b-versatile", Some(Provider::Groq)),
            // open models and other makers' names give nothing away
            ("meta-llama/Llama-3.3-70B-Instruct", None),
            ("openai/gpt-oss-120b", None),
            ("gpt-4o", None),
            ("claude-sonnet-4-5", None),
        ] {
            assert_eq!(Provider::from_model_name(model), want, "{model}");
        }
    }
}
