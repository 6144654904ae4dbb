//! The normalized usage record: what every importer produces and the ledger stores.
//!
//! A record is one request from an API log, or one row of a provider's bucketed export. Token classes are
//! disjoint (see `TokenCounts`): each importer maps its provider's overlapping fields onto them, so the
//! pricing engine never has to know where a record came from.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// The provider that served (and bills) a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    OpenAI,
    Anthropic,
    Google,
    Bedrock,
    Azure,
    OpenRouter,
    Other,
}

impl Provider {
    pub const ALL: [Provider; 7] = [
        Provider::OpenAI,
        Provider::Anthropic,
        Provider::Google,
        Provider::Bedrock,
        Provider::Azure,
        Provider::OpenRouter,
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
            Provider::Other => "other",
        }
    }

    /// Parses a provider name as written in logs and envelopes (`"openai"`, `"Anthropic"`, `"gemini"`, `"vertex_ai"`).
    pub fn parse(name: &str) -> Option<Provider> {
        let lower = name.trim().to_ascii_lowercase();
        Some(match lower.as_str() {
            "openai" => Provider::OpenAI,
            "anthropic" | "claude" => Provider::Anthropic,
            "google" | "gemini" | "vertex" | "vertex_ai" | "vertexai" | "google-vertex" => {
                Provider::Google
            }
            "bedrock" | "aws" | "aws-bedrock" | "amazon-bedrock" => Provider::Bedrock,
            "azure" | "azure_openai" | "azure-openai" => Provider::Azure,
            "openrouter" => Provider::OpenRouter,
            "other" => Provider::Other,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Token and unit counts of one record. Every class is disjoint from every other, except
/// `reasoning`, which is the part of `output` spent on reasoning (informational unless a model prices it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenCounts {
    /// Uncached input tokens.
    pub input: u64,
    pub cache_read: u64,
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
    pub web_search_requests: u64,
    pub images: u64,
    pub seconds: u64,
}

impl TokenCounts {
    /// All input-side tokens of the request: what a long-context threshold is compared with.
    pub fn prompt_total(&self) -> u64 {
        self.input
            .saturating_add(self.cache_read)
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

    /// True when nothing billable is recorded.
    pub fn is_empty(&self) -> bool {
        self.total() == 0 && self.web_search_requests == 0 && self.images == 0 && self.seconds == 0
    }
}

/// How a source's repeated records are merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DedupPolicy {
    /// The first record with an id wins; later copies are duplicates.
    KeepFirst,
    /// The record with the most tokens wins: streaming partials and re-exported buckets that grew.
    KeepLargest,
}

/// Where a record came from: file and line (or record number within a document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub file: Arc<str>,
    pub line: u64,
}

/// One normalized usage record.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord {
    /// Stable id: the provider's own id where the source has one, else bucket key or content hash.
    pub id: String,
    /// Importer name (`api-log`, `openai-usage`, …).
    pub source: &'static str,
    pub provider: Provider,
    /// Model as reported by the source.
    pub model: String,
    pub start: DateTime<Utc>,
    /// End of the bucket for bucketed exports.
    pub end: Option<DateTime<Utc>>,
    /// Service tier that was served, as reported (`default`, `flex`, `priority`, `standard`, …).
    pub service_tier: Option<String>,
    pub batch: bool,
    pub region: Option<String>,
    /// Whether the record was billed at the long-context rate, when the source says so
    /// (Anthropic `context_window`). `None`: decide per request from the token counts.
    pub long_context: Option<bool>,
    pub team: Option<String>,
    pub project: Option<String>,
    pub user: Option<String>,
    pub api_key: Option<String>,
    pub workspace: Option<String>,
    /// The provider's billing account, when the source names it: the OpenAI organization, the Google
    /// Cloud billing account, the Azure billing account (else subscription), the AWS account.
    pub billing_account: Option<String>,
    /// Its display name, when the source has one.
    pub billing_account_name: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub tokens: TokenCounts,
    /// Number of requests this record stands for (1 for a log line, N for a bucket).
    pub requests: u64,
    pub reported_cost: Option<Decimal>,
    pub reported_currency: Option<String>,
    /// HTTP status when the source has one.
    pub status: Option<u16>,
    /// The request failed (status >= 400 or an error object).
    pub failed: bool,
    pub latency_ms: Option<u64>,
    pub provenance: Provenance,
    pub dedup: DedupPolicy,
}

impl UsageRecord {
    /// A record with every optional field empty; importers fill in what they know.
    pub fn new(
        id: String,
        source: &'static str,
        provider: Provider,
        model: String,
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
            provenance,
            dedup: DedupPolicy::KeepFirst,
        }
    }

    /// The value that decides which copy wins under `DedupPolicy::KeepLargest`: the usage it counts
    /// (tokens, searches, requests), or, for invoice-side records that count none (a Costs API row), the
    /// amount in nano-dollars, so that a re-pulled day that grew replaces the first pull.
    pub fn dedup_weight(&self) -> u64 {
        let usage = self
            .tokens
            .total()
            .saturating_add(self.tokens.web_search_requests)
            .saturating_add(self.requests);
        if usage > 0 {
            return usage;
        }
        self.reported_cost
            .and_then(|c| (c.abs() * Decimal::from(1_000_000_000u64)).trunc().to_u64())
            .unwrap_or(0)
    }
}

/// A 128-bit hash of some bytes, as a hex string: record ids for sources without their own.
pub fn content_id(prefix: &str, bytes: &[u8]) -> String {
    let h = xxhash_rust::xxh3::xxh3_128(bytes);
    format!("{prefix}:{h:032x}")
}
