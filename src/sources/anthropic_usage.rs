//! `anthropic-usage`: pages of the Anthropic Admin API usage report,
//! `GET /v1/organizations/usage_report/messages`: `{data:[{starting_at, ending_at, results:[…]}], has_more,
//! next_page}`. A file holds one page, a JSON array of pages, or one page per line (the page walking is
//! shared with `openai-usage`).
//!
//! One record per result (bucket × group). Anthropic counts are already disjoint: input =
//! `uncached_input_tokens`, cache read = `cache_read_input_tokens`, cache write 5m / 1h =
//! `cache_creation.ephemeral_5m_input_tokens` / `ephemeral_1h_input_tokens`, output = `output_tokens`,
//! web searches = `server_tool_use.web_search_requests`. The report has no request count (requests = 0).
//! `context_window` `200k-1M` marks long-context billing; the `batch` service tier sets the batch flag;
//! `speed` `fast` (fast mode, billed at its own rates) makes the record's service tier `fast`.
//! A null `workspace_id` is the default workspace (`default`), a null `api_key_id` is Console usage
//! (`console`). Re-pulled buckets keep their id and the largest copy wins.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::shared::admin_page::{read_pages, ResultAt};
use super::shared::common;
use super::shared::response::Label;
use super::{DocumentParser, Parsed, Reader, Source};
use crate::error::RecordError;
use crate::record::{
    DedupPolicy, Provenance, Provider, Text, TokenCounts, UsageRecord, UNGROUPED_MODEL,
};

/// Reads Anthropic usage report pages.
pub struct AnthropicUsage;

const NAME: &str = "anthropic-usage";

impl Source for AnthropicUsage {
    fn name(&self) -> &'static str {
        NAME
    }

    fn reads(&self) -> &'static str {
        "Anthropic Admin API usage report pages (/v1/organizations/usage_report/messages): one page, an array \
         of pages, or one page per line"
    }

    fn detected_by(&self) -> &'static str {
        "JSON with \"uncached_input_tokens\" and \"starting_at\""
    }

    fn detect(&self, _path: &Path, head: &[u8]) -> bool {
        common::looks_like_json(head)
            && common::has_key(head, "uncached_input_tokens")
            && common::has_key(head, "starting_at")
    }

    fn reader(&self, _head: &[u8]) -> Reader<'_> {
        Reader::Document(self)
    }
}

impl DocumentParser for AnthropicUsage {
    fn parse_document(
        &self,
        bytes: &[u8],
        file: &Arc<str>,
        out: &mut Parsed,
    ) -> Result<(), RecordError> {
        read_pages(bytes, out, |at| read_result(at, file).map(Some))
    }
}

/// One usage report result.
#[derive(Deserialize)]
struct ReportResult<'a> {
    uncached_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_creation: Option<CacheCreation>,
    output_tokens: Option<u64>,
    server_tool_use: Option<ServerToolUse>,
    #[serde(borrow)]
    api_key_id: Option<Label<'a>>,
    #[serde(borrow)]
    workspace_id: Option<Label<'a>>,
    #[serde(borrow)]
    model: Option<Label<'a>>,
    #[serde(borrow)]
    service_tier: Option<Label<'a>>,
    #[serde(borrow)]
    context_window: Option<Label<'a>>,
    #[serde(borrow)]
    inference_geo: Option<Label<'a>>,
    /// Grouping dimensions that split rows without a ledger column of their own: kept in the id so that
    /// rows never collapse into one.
    #[serde(borrow)]
    speed: Option<Label<'a>>,
    #[serde(borrow)]
    account_id: Option<Label<'a>>,
    #[serde(borrow)]
    service_account_id: Option<Label<'a>>,
}

#[derive(Deserialize)]
struct CacheCreation {
    ephemeral_5m_input_tokens: Option<u64>,
    ephemeral_1h_input_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct ServerToolUse {
    web_search_requests: Option<u64>,
}

fn read_result(at: &ResultAt, file: &Arc<str>) -> Result<UsageRecord, RecordError> {
    let r: ReportResult = at.parse()?;
    let cache = r.cache_creation.as_ref();
    let tokens = TokenCounts {
        input: r.uncached_input_tokens.unwrap_or(0),
        cache_read: r.cache_read_input_tokens.unwrap_or(0),
        cache_write_5m: cache.and_then(|c| c.ephemeral_5m_input_tokens).unwrap_or(0),
        cache_write_1h: cache.and_then(|c| c.ephemeral_1h_input_tokens).unwrap_or(0),
        output: r.output_tokens.unwrap_or(0),
        web_search_requests: r
            .server_tool_use
            .as_ref()
            .and_then(|s| s.web_search_requests)
            .unwrap_or(0),
        ..TokenCounts::default()
    };

    let dim = |l: &Option<Label>| l.as_ref().and_then(Label::to_nonempty);
    let workspace = dim(&r.workspace_id).unwrap_or_else(|| "default".into());
    let api_key = dim(&r.api_key_id).unwrap_or_else(|| "console".into());
    let model = dim(&r.model);
    let tier = dim(&r.service_tier);
    let context_window = dim(&r.context_window);
    let geo = dim(&r.inference_geo);
    let account = dim(&r.account_id);
    let service_account = dim(&r.service_account_id);

    let or_dash = |v: &Option<Text>| v.as_deref().unwrap_or("-").to_owned();
    let end = at.end.map_or_else(|| "-".to_owned(), |e| rfc3339(e.0));
    let mut id = format!(
        "{NAME}:{}:{end}:{workspace}:{api_key}:{}:{}:{}:{}",
        rfc3339(at.start.0),
        or_dash(&model),
        or_dash(&tier),
        or_dash(&context_window),
        or_dash(&geo),
    );
    for (name, value) in [
        ("speed", dim(&r.speed)),
        ("account", account.clone()),
        ("service_account", service_account.clone()),
    ] {
        if let Some(value) = value {
            id.push_str(&format!(":{name}={value}"));
        }
    }

    let provenance = Provenance {
        file: file.clone(),
        line: at.line,
    };
    let model = model.unwrap_or_else(|| UNGROUPED_MODEL.into());
    let mut record = UsageRecord::new(
        id.into(),
        NAME,
        Provider::Anthropic,
        model,
        at.start.0,
        provenance,
    );
    record.end = at.end.map(|e| e.0);
    record.tokens = tokens;
    record.requests = 0;
    record.batch = tier.as_deref() == Some("batch");
    // Fast mode bills at its own rates, whatever the tier: a table without them leaves the row unpriced.
    record.service_tier = match dim(&r.speed) {
        Some(speed) if speed.eq_ignore_ascii_case("fast") => Some("fast".into()),
        _ => tier,
    };
    record.long_context = context_window.as_deref().map(|w| w == "200k-1M");
    record.region = geo;
    record.workspace = Some(workspace);
    record.api_key = Some(api_key);
    record.user = account.or(service_account);
    record.dedup = DedupPolicy::KeepLargest;
    Ok(record)
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn parse(doc: &str) -> Result<Parsed, RecordError> {
        crate::sources::testing::read(&AnthropicUsage, doc)
    }

    const PAGE: &str = r#"{"data":[{"starting_at":"2026-08-20T00:00:00Z","ending_at":"2026-08-21T00:00:00Z","results":[{"api_key_id":"apikey_01Rj2N8SVvo6BePZj99NhmiT",
 "workspace_id":"wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ","model":"claude-sonnet-4-20250514","service_tier":"standard","context_window":"0-200k",
 "uncached_input_tokens":15230,"cache_read_input_tokens":402100,"cache_creation":{"ephemeral_5m_input_tokens":21000,"ephemeral_1h_input_tokens":0},
 "output_tokens":8800,"server_tool_use":{"web_search_requests":3}}]}],"has_more":false,"next_page":null}"#;

    #[test]
    fn tokens_are_already_disjoint() {
        let out = parse(PAGE).unwrap();
        assert!(out.errors.is_empty());
        let r = &out.records[0];
        // uncached_input_tokens is uncached only: nothing is subtracted
        assert_eq!(r.tokens.input, 15_230);
        assert_eq!(r.tokens.cache_read, 402_100);
        assert_eq!(
            (r.tokens.cache_write_5m, r.tokens.cache_write_1h),
            (21_000, 0)
        );
        assert_eq!(r.tokens.output, 8_800);
        assert_eq!(r.tokens.web_search_requests, 3);
        // 15_230 + 402_100 + 21_000 = 438_330 prompt tokens
        assert_eq!(r.tokens.prompt_total(), 438_330);
        assert_eq!(r.requests, 0);
        assert_eq!(r.long_context, Some(false));
        assert!(!r.batch);
        assert_eq!(r.service_tier.as_deref(), Some("standard"));
        assert_eq!(
            r.workspace.as_deref(),
            Some("wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ")
        );
        assert_eq!(
            r.api_key.as_deref(),
            Some("apikey_01Rj2N8SVvo6BePZj99NhmiT")
        );
        assert_eq!(r.provider, Provider::Anthropic);
        assert_eq!(r.start, Utc.with_ymd_and_hms(2026, 8, 20, 0, 0, 0).unwrap());
        assert_eq!(
            r.end,
            Some(Utc.with_ymd_and_hms(2026, 8, 21, 0, 0, 0).unwrap())
        );
        assert_eq!(
            r.id,
            "anthropic-usage:2026-08-20T00:00:00Z:2026-08-21T00:00:00Z:wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ:\
             apikey_01Rj2N8SVvo6BePZj99NhmiT:claude-sonnet-4-20250514:standard:0-200k:-"
        );
        assert_eq!(r.dedup, DedupPolicy::KeepLargest);
        assert_eq!(r.provenance.line, 1);
    }

    #[test]
    fn defaults_long_context_batch_and_region() {
        let out = parse(
            r#"{"data":[{"starting_at":"2026-08-20T00:00:00Z","ending_at":"2026-08-21T00:00:00Z","results":[
            {"api_key_id":null,"workspace_id":null,"model":"claude-sonnet-4-5","service_tier":"batch",
             "context_window":"200k-1M","inference_geo":"eu","uncached_input_tokens":250000,"output_tokens":10},
            {"uncached_input_tokens":5,"output_tokens":1,"model":null}]}]}"#,
        )
        .unwrap();
        let r = &out.records[0];
        assert_eq!(r.workspace.as_deref(), Some("default"));
        assert_eq!(r.api_key.as_deref(), Some("console"));
        assert!(r.batch);
        assert_eq!(r.long_context, Some(true));
        assert_eq!(r.region.as_deref(), Some("eu"));
        assert!(
            r.id.ends_with(":default:console:claude-sonnet-4-5:batch:200k-1M:eu"),
            "{}",
            r.id
        );
        assert_eq!(r.provenance.line, 2);
        let r = &out.records[1];
        assert_eq!(r.model, UNGROUPED_MODEL);
        assert_eq!(r.long_context, None);
        assert_eq!(r.provenance.line, 4);
    }

    #[test]
    fn pages_per_line_and_arrays() {
        let line = PAGE.replace('\n', "");
        let out = parse(&format!(
            "{line}\n{}\n",
            line.replace("2026-08-20T", "2026-08-19T")
        ))
        .unwrap();
        assert_eq!(out.records.len(), 2);
        assert_ne!(out.records[0].id, out.records[1].id);
        let out = parse(&format!("[{PAGE}]")).unwrap();
        assert_eq!(out.records.len(), 1);
    }

    #[test]
    fn errors_name_field_and_line() {
        let out = parse(
            "{\"data\":[{\"starting_at\":\"2026-08-20T00:00:00Z\",\"results\":[\n\
             {\"uncached_input_tokens\":1},\n\
             {\"uncached_input_tokens\":1,\"cache_creation\":{\"ephemeral_1h_input_tokens\":2.5}}]}]}",
        )
        .unwrap();
        assert_eq!(out.records.len(), 1);
        let e = &out.errors[0];
        assert_eq!(
            e.field.as_deref(),
            Some("data[0].results[1].cache_creation.ephemeral_1h_input_tokens")
        );
        assert_eq!(e.line, 3);
        let e = parse("{\"data\":[{\"starting_at\":\"someday\",\"results\":[]}]}").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("data[0].starting_at"));
    }

    #[test]
    fn detection() {
        let p = Path::new("report.json");
        assert!(AnthropicUsage.detect(p, PAGE.as_bytes()));
        assert!(!AnthropicUsage.detect(
            p,
            br#"{"object":"page","data":[{"object":"bucket","start_time":1,"results":[{"input_uncached_tokens":1}]}]}"#
        ));
        assert!(!AnthropicUsage.detect(p, br#"{"type":"message","usage":{"input_tokens":1}}"#));
        assert!(!AnthropicUsage.detect(p, br#"{"sessionId":"s","type":"assistant","message":{}}"#));
    }
}
