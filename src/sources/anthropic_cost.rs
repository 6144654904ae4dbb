//! `anthropic-cost`: pages of the Anthropic Admin API cost report, `GET /v1/organizations/cost_report`:
//! `{data:[{starting_at, ending_at, results:[…]}], has_more, next_page}`. A file holds one page, a JSON
//! array of pages, or one page per line (the page walking is shared with `openai-usage`).
//!
//! Invoice-side amounts, not usage: one record per result with ZERO tokens and `requests = 0`.
//! - reported cost = `amount` / 100: the amount is a decimal STRING in CENTS, fractional cents allowed
//!   (`"123.78912"` = $1.2378912), read exactly; reported currency = `currency` upper-cased;
//! - workspace = `workspace_id` (null = the default workspace, `default`, as in `anthropic-usage`);
//! - model = `model` when present (only when grouped by description), else `unknown`;
//! - service tier = `service_tier` (`batch` also sets the batch flag), region = `inference_geo`,
//!   long context from `context_window` (`200k-1M`);
//! - tags `cost_type` (tokens, web_search, code_execution, session_usage), `token_type`
//!   (uncached_input_tokens, output_tokens, cache_read_input_tokens, cache_creation.ephemeral_5m_input_tokens…)
//!   and `description`, each when present.
//!
//! The report has no API-key dimension. Id `anthropic-cost:{start}:{end}:{workspace}:{description}:
//! {cost_type}:{model}:{token_type}:{service_tier}:{context_window}:{inference_geo}` (RFC 3339 times, `-`
//! for a missing dimension); `KeepLargest`.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::shared::admin_page::{read_pages, ResultAt};
use super::shared::common;
use super::shared::response::Label;
use super::{DocumentParser, Parsed, Reader, Source};
use crate::decimal::JsonDecimal;
use crate::error::RecordError;
use crate::record::{DedupPolicy, Provenance, Provider, Text, UsageRecord};

/// Reads Anthropic cost report pages.
pub struct AnthropicCost;

const NAME: &str = "anthropic-cost";

impl Source for AnthropicCost {
    fn name(&self) -> &'static str {
        NAME
    }

    fn reads(&self) -> &'static str {
        "Anthropic Admin API cost report pages (/v1/organizations/cost_report): one page, an array of \
         pages, or one page per line; amounts (cents) kept as reported cost, with no tokens"
    }

    fn detected_by(&self) -> &'static str {
        "JSON with \"amount\", \"starting_at\" and \"cost_type\" or \"description\", without \
         uncached_input_tokens"
    }

    fn detect(&self, _path: &Path, head: &[u8]) -> bool {
        common::looks_like_json(head)
            && common::has_key(head, "amount")
            && common::has_key(head, "starting_at")
            && (common::has_key(head, "cost_type") || common::has_key(head, "description"))
            && !common::has_key(head, "uncached_input_tokens")
    }

    fn reader(&self, _head: &[u8]) -> Reader<'_> {
        Reader::Document(self)
    }
}

impl DocumentParser for AnthropicCost {
    fn parse_document(
        &self,
        bytes: &[u8],
        file: &Arc<str>,
        out: &mut Parsed,
    ) -> Result<(), RecordError> {
        read_pages(bytes, out, |at| read_result(at, file).map(Some))
    }
}

/// One cost report result.
#[derive(Deserialize)]
struct CostResult<'a> {
    /// Cents, as a decimal string (a bare number is accepted too).
    amount: JsonDecimal,
    #[serde(borrow)]
    currency: Option<Label<'a>>,
    #[serde(borrow)]
    workspace_id: Option<Label<'a>>,
    #[serde(borrow)]
    description: Option<Label<'a>>,
    #[serde(borrow)]
    cost_type: Option<Label<'a>>,
    #[serde(borrow)]
    model: Option<Label<'a>>,
    #[serde(borrow)]
    token_type: Option<Label<'a>>,
    #[serde(borrow)]
    service_tier: Option<Label<'a>>,
    #[serde(borrow)]
    context_window: Option<Label<'a>>,
    #[serde(borrow)]
    inference_geo: Option<Label<'a>>,
}

fn read_result(at: &ResultAt, file: &Arc<str>) -> Result<UsageRecord, RecordError> {
    let r: CostResult = at.parse()?;
    // cents → dollars: moving the decimal point two places is exact.
    let cents = r.amount.0;
    let mut dollars = cents;
    dollars.set_scale(cents.scale() + 2).map_err(|_| {
        RecordError::field(
            at.line,
            format!("{}.amount", at.path),
            format!("amount {cents} has too many decimal places"),
        )
    })?;

    let dim = |l: &Option<Label>| l.as_ref().and_then(Label::to_nonempty);
    let workspace = dim(&r.workspace_id).unwrap_or_else(|| "default".into());
    let description = dim(&r.description);
    let cost_type = dim(&r.cost_type);
    let model = dim(&r.model);
    let token_type = dim(&r.token_type);
    let tier = dim(&r.service_tier);
    let context_window = dim(&r.context_window);
    let geo = dim(&r.inference_geo);

    let or_dash = |v: &Option<Text>| v.as_deref().unwrap_or("-").to_owned();
    let end = at.end.map_or_else(|| "-".to_owned(), |e| rfc3339(e.0));
    let id = compact_str::format_compact!(
        "{NAME}:{}:{end}:{workspace}:{}:{}:{}:{}:{}:{}:{}",
        rfc3339(at.start.0),
        or_dash(&description),
        or_dash(&cost_type),
        or_dash(&model),
        or_dash(&token_type),
        or_dash(&tier),
        or_dash(&context_window),
        or_dash(&geo),
    );

    let provenance = Provenance {
        file: file.clone(),
        line: at.line,
    };
    let model = model.unwrap_or_else(|| "unknown".into());
    let mut record = UsageRecord::new(id, NAME, Provider::Anthropic, model, at.start.0, provenance);
    record.end = at.end.map(|e| e.0);
    record.requests = 0;
    record.reported_cost = Some(dollars);
    record.reported_currency =
        Some(dim(&r.currency).map_or_else(|| "USD".into(), |c| c.to_ascii_uppercase()));
    record.batch = tier.as_deref() == Some("batch");
    record.service_tier = tier;
    record.long_context = context_window.as_deref().map(|w| w == "200k-1M");
    record.region = geo;
    record.workspace = Some(workspace);
    for (key, value) in [
        ("cost_type", cost_type),
        ("token_type", token_type),
        ("description", description),
    ] {
        if let Some(value) = value {
            record.tags.insert(key.into(), value);
        }
    }
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
    use rust_decimal_macros::dec;

    fn parse(doc: &str) -> Result<Parsed, RecordError> {
        crate::sources::testing::read(&AnthropicCost, doc)
    }

    const PAGE: &str = r#"{"data":[{"starting_at":"2026-10-04T00:00:00Z","ending_at":"2026-10-05T00:00:00Z","results":[
 {"amount":"123.78912","currency":"USD","workspace_id":"wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ","description":"Claude Sonnet 4.5 Usage - Input Tokens",
  "cost_type":"tokens","model":"claude-sonnet-4-5-20250929","token_type":"uncached_input_tokens","service_tier":"standard",
  "context_window":"0-200k","inference_geo":"us"},
 {"amount":"1000","currency":"USD","workspace_id":null,"description":"Web Search","cost_type":"web_search","model":null,
  "token_type":null,"service_tier":null,"context_window":null,"inference_geo":null}]}],"has_more":false,"next_page":null}"#;

    #[test]
    fn cents_become_dollars_exactly() {
        let out = parse(PAGE).unwrap();
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let r = &out.records[0];
        // "123.78912" cents = $1.2378912
        assert_eq!(r.reported_cost, Some(dec!(1.2378912)));
        assert_eq!(r.reported_currency.as_deref(), Some("USD"));
        assert!(r.tokens.is_empty());
        assert_eq!(r.requests, 0);
        assert_eq!(r.model, "claude-sonnet-4-5-20250929");
        assert_eq!(
            r.workspace.as_deref(),
            Some("wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ")
        );
        assert_eq!(r.tags["cost_type"], "tokens");
        assert_eq!(r.tags["token_type"], "uncached_input_tokens");
        assert_eq!(
            r.tags["description"],
            "Claude Sonnet 4.5 Usage - Input Tokens"
        );
        assert_eq!(r.service_tier.as_deref(), Some("standard"));
        assert_eq!(r.region.as_deref(), Some("us"));
        assert_eq!(r.long_context, Some(false));
        assert_eq!(r.provider, Provider::Anthropic);
        assert_eq!(r.start, Utc.with_ymd_and_hms(2026, 10, 4, 0, 0, 0).unwrap());
        assert_eq!(
            r.id,
            "anthropic-cost:2026-10-04T00:00:00Z:2026-10-05T00:00:00Z:wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ:\
             Claude Sonnet 4.5 Usage - Input Tokens:tokens:claude-sonnet-4-5-20250929:uncached_input_tokens:\
             standard:0-200k:us"
        );
        assert_eq!(r.dedup, DedupPolicy::KeepLargest);
        assert_eq!(r.provenance.line, 2);

        let r = &out.records[1];
        // "1000" cents = $10
        assert_eq!(r.reported_cost, Some(dec!(10)));
        assert_eq!(r.workspace.as_deref(), Some("default"));
        assert_eq!(r.model, "unknown");
        assert!(!r.tags.contains_key("token_type"));
        assert!(
            r.id.ends_with(":default:Web Search:web_search:-:-:-:-:-"),
            "{}",
            r.id
        );
    }

    #[test]
    fn bad_amounts_are_record_errors() {
        let out = parse(
            "{\"data\":[{\"starting_at\":\"2026-10-04T00:00:00Z\",\"ending_at\":\"2026-10-05T00:00:00Z\",\"results\":[\n\
             {\"amount\":\"12.5\",\"currency\":\"USD\",\"cost_type\":\"tokens\"},\n\
             {\"amount\":\"12,50\",\"currency\":\"USD\",\"cost_type\":\"tokens\"}]}]}",
        )
        .unwrap();
        assert_eq!(out.records.len(), 1);
        assert_eq!(out.records[0].reported_cost, Some(dec!(0.125)));
        let e = &out.errors[0];
        assert_eq!(e.field.as_deref(), Some("data[0].results[1].amount"));
        assert_eq!(e.line, 3);
        assert!(
            e.message.contains("not a decimal number: 12,50"),
            "{}",
            e.message
        );
    }

    #[test]
    fn detection() {
        let p = Path::new("cost.json");
        assert!(AnthropicCost.detect(p, PAGE.as_bytes()));
        // the usage report names token types as keys, the cost report only as values
        assert!(!AnthropicCost.detect(
            p,
            br#"{"data":[{"starting_at":"2026-08-20T00:00:00Z","results":[{"uncached_input_tokens":1,"description":"x","amount":"1"}]}]}"#
        ));
        assert!(!AnthropicCost.detect(
            p,
            br#"{"object":"page","data":[{"start_time":1,"results":[{"amount":{"value":1},"line_item":"o3, input"}]}]}"#
        ));
    }
}
