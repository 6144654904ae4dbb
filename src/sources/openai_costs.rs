//! `openai-costs`: pages of the OpenAI Costs API, `GET /v1/organization/costs`, as saved by `curl` or
//! `aispend pull`: `{object:"page", data:[{object:"bucket", start_time, end_time, results:[…]}], has_more,
//! next_page}`. A file holds one page, a JSON array of pages, or one page per line (the page walking is
//! shared with `openai-usage`).
//!
//! These are invoice-side amounts, not usage: one record per result (day × project × line item × API
//! key), with ZERO tokens and `requests = 0`, so that they never add to the computed cost of the usage
//! records; the amount is the provider-reported cost, shown beside the computed one.
//! - reported cost = `amount.value` (a JSON number in DOLLARS), read exactly from its text;
//!   reported currency = `amount.currency` upper-cased (`"usd"` → `USD`);
//! - project = `project_id`, api key = `api_key_id` (ids, never secrets);
//! - model = the start of `line_item` before the first `", "` when it looks like a model name
//!   (`"gpt-4o-2024-08-06, input"` → `gpt-4o-2024-08-06`, `"o3, cached input"` → `o3`), else `unknown`
//!   (`"web search tool calls"`); the full line item is kept as tag `line_item`;
//! - start and end = the bucket's.
//!
//! Id `openai-costs:{start}:{end}:{project}:{api_key}:{line_item}` (unix seconds, `-` for a missing
//! dimension), shared with the cost rows of `openai-csv`; `KeepLargest`. `quantity` is not kept.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::shared::admin_page::{cost_record, read_pages, CostRow, ResultAt};
use super::shared::common;
use super::shared::response::{has_key_value, Label};
use super::{DocumentParser, Parsed, Reader, Source};
use crate::decimal::JsonDecimal;
use crate::error::RecordError;
use crate::record::{Provenance, UsageRecord};

/// Reads OpenAI Costs API pages.
pub struct OpenAiCosts;

const NAME: &str = "openai-costs";

impl Source for OpenAiCosts {
    fn name(&self) -> &'static str {
        NAME
    }

    fn reads(&self) -> &'static str {
        "OpenAI Costs API pages (/v1/organization/costs): one page, an array of pages, or one page per \
         line; invoice-side amounts kept as reported cost, with no tokens"
    }

    fn detected_by(&self) -> &'static str {
        "JSON with \"organization.costs.result\", or \"object\":\"page\"/\"bucket\" with \"amount\" and \
         no num_model_requests"
    }

    fn detect(&self, _path: &Path, head: &[u8]) -> bool {
        common::looks_like_json(head)
            && (common::contains(head, b"\"organization.costs.result\"")
                || ((has_key_value(head, "object", "page")
                    || has_key_value(head, "object", "bucket"))
                    && common::has_key(head, "amount")
                    && !common::has_key(head, "num_model_requests")))
    }

    fn reader(&self, _head: &[u8]) -> Reader<'_> {
        Reader::Document(self)
    }
}

impl DocumentParser for OpenAiCosts {
    fn parse_document(
        &self,
        bytes: &[u8],
        file: &Arc<str>,
        out: &mut Parsed,
    ) -> Result<(), RecordError> {
        read_pages(bytes, out, |at| read_result(at, file).map(Some))
    }
}

/// One Costs API result.
#[derive(Deserialize)]
struct CostResult<'a> {
    amount: Amount<'a>,
    #[serde(borrow)]
    line_item: Option<Label<'a>>,
    #[serde(borrow)]
    project_id: Option<Label<'a>>,
    #[serde(borrow)]
    api_key_id: Option<Label<'a>>,
}

#[derive(Deserialize)]
struct Amount<'a> {
    value: JsonDecimal,
    #[serde(borrow)]
    currency: Option<Label<'a>>,
}

fn read_result(at: &ResultAt, file: &Arc<str>) -> Result<UsageRecord, RecordError> {
    let r: CostResult = at.parse()?;
    let dim = |l: &Option<Label>| l.as_ref().and_then(Label::to_nonempty);
    let line_item = dim(&r.line_item);
    let provenance = Provenance {
        file: file.clone(),
        line: at.line,
    };
    Ok(cost_record(
        NAME,
        CostRow {
            start: at.start.0,
            end: at.end.map(|e| e.0),
            project: dim(&r.project_id),
            api_key: dim(&r.api_key_id),
            line_item,
            amount: r.amount.value.0,
            currency: dim(&r.amount.currency),
            organization: None,
        },
        provenance,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{DedupPolicy, Provider};
    use chrono::{TimeZone, Utc};
    use rust_decimal_macros::dec;

    fn parse(doc: &str) -> Result<Parsed, RecordError> {
        crate::sources::testing::read(&OpenAiCosts, doc)
    }

    const PAGE: &str = r#"{"object":"page","has_more":false,"next_page":null,"data":[
{"object":"bucket","start_time":1791072000,"end_time":1791158400,"results":[
 {"object":"organization.costs.result","amount":{"value":0.1234567890123456789,"currency":"usd"},
  "line_item":"gpt-4o-2024-08-06, input","project_id":"proj_Ab12Cd34","api_key_id":"key_Xy98Zw76",
  "quantity":49382.7,"quantity_unit":"tokens"},
 {"object":"organization.costs.result","amount":{"value":3,"currency":"usd"},
  "line_item":"web search tool calls","project_id":"proj_Ab12Cd34"},
 {"object":"organization.costs.result","amount":{"value":1.5e-3,"currency":"usd"},
  "line_item":"o3, cached input","project_id":null}]}]}"#;

    #[test]
    fn one_cost_only_record_per_result() {
        let out = parse(PAGE).unwrap();
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(out.records.len(), 3);
        let r = &out.records[0];
        // every digit of the JSON number, never through f64
        assert_eq!(r.reported_cost, Some(dec!(0.1234567890123456789)));
        assert_eq!(r.reported_currency.as_deref(), Some("USD"));
        assert!(r.tokens.is_empty());
        assert_eq!(r.requests, 0);
        assert_eq!(r.model, "gpt-4o-2024-08-06");
        assert_eq!(r.tags["line_item"], "gpt-4o-2024-08-06, input");
        assert_eq!(r.project.as_deref(), Some("proj_Ab12Cd34"));
        assert_eq!(r.api_key.as_deref(), Some("key_Xy98Zw76"));
        assert_eq!(r.provider, Provider::OpenAI);
        assert_eq!(r.start, Utc.with_ymd_and_hms(2026, 10, 4, 0, 0, 0).unwrap());
        assert_eq!(
            r.end,
            Some(Utc.with_ymd_and_hms(2026, 10, 5, 0, 0, 0).unwrap())
        );
        assert_eq!(
            r.id,
            "openai-costs:1791072000:1791158400:proj_Ab12Cd34:key_Xy98Zw76:gpt-4o-2024-08-06, input"
        );
        assert_eq!(r.dedup, DedupPolicy::KeepLargest);
        assert_eq!(r.provenance.line, 3);

        assert_eq!(out.records[1].model, "unknown");
        assert_eq!(out.records[1].reported_cost, Some(dec!(3)));
        assert_eq!(
            out.records[1].id,
            "openai-costs:1791072000:1791158400:proj_Ab12Cd34:-:web search tool calls"
        );
        assert_eq!(out.records[2].model, "o3");
        assert_eq!(out.records[2].reported_cost, Some(dec!(0.0015)));
        assert_eq!(out.records[2].project, None);
    }

    #[test]
    fn bad_amounts_are_record_errors_with_path_and_line() {
        let out = parse(
            "{\"object\":\"page\",\"data\":[{\"start_time\":1791072000,\"end_time\":1791158400,\"results\":[\n\
             {\"amount\":{\"value\":1,\"currency\":\"usd\"},\"line_item\":\"o3, input\"},\n\
             {\"amount\":{\"value\":\"lots\",\"currency\":\"usd\"},\"line_item\":\"o3, output\"},\n\
             {\"line_item\":\"o3, output\"}]}]}",
        )
        .unwrap();
        assert_eq!(out.records.len(), 1);
        assert_eq!(out.errors.len(), 2);
        assert_eq!(
            out.errors[0].field.as_deref(),
            Some("data[0].results[1].amount.value")
        );
        assert_eq!(out.errors[0].line, 3);
        assert!(out.errors[1].message.contains("missing field `amount`"));
        assert_eq!(out.errors[1].line, 4);
    }

    #[test]
    fn detection() {
        let p = Path::new("costs.json");
        assert!(OpenAiCosts.detect(p, PAGE.as_bytes()));
        assert!(OpenAiCosts.detect(
            p,
            br#"{"object": "page", "data": [{"object": "bucket", "results": [{"amount": {"value": 1}}]}]}"#
        ));
        // usage pages, Anthropic reports, API logs are not cost pages
        assert!(!OpenAiCosts.detect(
            p,
            br#"{"object":"page","data":[{"object":"bucket","results":[{"object":"organization.usage.completions.result","num_model_requests":1}]}]}"#
        ));
        assert!(!OpenAiCosts.detect(
            p,
            br#"{"data":[{"starting_at":"2026-10-01T00:00:00Z","results":[{"amount":"12","currency":"USD","cost_type":"tokens"}]}]}"#
        ));
        assert!(!OpenAiCosts.detect(p, b"start_time,end_time,amount_value\n"));
    }
}
