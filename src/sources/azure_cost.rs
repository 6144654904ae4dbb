//! `azure-cost`: Azure Cost Management exports (CSV), both the EA schema (`Cost`, `Date` as MM/DD/YYYY)
//! and the MCA schema (`CostInBillingCurrency`, ISO dates); column names are matched case-insensitively.
//! Only Azure OpenAI / AI services meters are kept (`MeterCategory` "Cognitive Services", "Azure OpenAI",
//! "Azure AI …", "Foundry …"); other rows are skipped silently.
//!
//! One record per row (resource × meter × day):
//! - model = the deployment name when the row has one (`…/deployments/<name>` in `ResourceId`, or a
//!   `deployment` tag), as reported: the pricing engine maps it to a model through the config's
//!   `[azure] deployments = { "prod-gpt4o" = "gpt-4o" }`. Without a deployment, the model the meter
//!   names (`gpt-4o-0806-Inp-glbl` → `gpt-4o-0806`, which the engine resolves as `gpt-4o-2024-08-06`),
//!   else `unknown`. `MeterName` is kept as tag `meter`;
//! - tokens: when the meter names a token direction (`Inp`/`Input`, `Outp`/`Output`, `cchd`/`Cached`),
//!   `Quantity` × the `UnitOfMeasure` multiple (`1K` = 1,000, `1M` = 1,000,000), rounded to a whole token;
//!   else zero. `glbl`/`global`, `DZ`/`datazone`, `regnl`/`regional` in the meter set the region
//!   (`global`, `datazone`, `regional`); `batch` sets the batch flag;
//! - reported cost = `CostInBillingCurrency` (MCA) or `Cost` (EA), exact from its text, in
//!   `BillingCurrency` (`BillingCurrencyCode`);
//! - billing account = `BillingAccountId` / `BillingAccountName`, else `SubscriptionId` / `SubscriptionName`;
//! - start = `Date` (a whole UTC day: end = start + 1 day); workspace = `SubscriptionId`; tags = `Tags`
//!   (a JSON object, also without its braces: `"team": "search","env": "prod"`), whose `team` / `project`
//!   set those dimensions; `ResourceGroup`, `ChargeType`, `MeterSubCategory`, `ResourceLocation` and the
//!   Cognitive Services account are tags; requests = 0.
//!
//! The id hashes the row's identifying fields (date, subscription, resource, meter, charge type, tags),
//! `KeepLargest`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::shared::common;
use super::{Emit, Reader, Source, StreamParser};
use crate::decimal::{parse_decimal, parse_number_cell};
use crate::error::RecordError;
use crate::record::{
    content_id, out_of_range, DedupPolicy, Provenance, Provider, Text, UsageRecord, MAX_COUNT,
};

/// Reads Azure Cost Management exports.
pub struct AzureCost;

const NAME: &str = "azure-cost";

impl Source for AzureCost {
    fn name(&self) -> &'static str {
        NAME
    }

    fn reads(&self) -> &'static str {
        "Azure Cost Management exports (CSV, EA `Cost` or MCA `CostInBillingCurrency`); Azure OpenAI / \
         Cognitive Services meters only"
    }

    fn detected_by(&self) -> &'static str {
        "CSV header with MeterCategory, MeterName and Cost or CostInBillingCurrency (any case)"
    }

    fn detect(&self, _path: &Path, head: &[u8]) -> bool {
        let Some(header) = common::csv_header(head) else {
            return false;
        };
        let cols: Vec<String> = header.iter().map(|c| common::column_key(c)).collect();
        let has = |k: &str| cols.iter().any(|c| c == k);
        has("metercategory") && has("metername") && (has("cost") || has("costinbillingcurrency"))
    }

    fn reader(&self, _head: &[u8]) -> Reader<'_> {
        Reader::Stream(self)
    }
}

impl StreamParser for AzureCost {
    fn parse_stream(
        &self,
        reader: &mut dyn std::io::Read,
        file: &Arc<str>,
        emit: &mut Emit<'_>,
    ) -> Result<(), RecordError> {
        let mut csv = common::csv_reader(reader)?;
        let header: Vec<String> = csv
            .headers()
            .map_err(|e| RecordError::new(1, format!("not a CSV header: {e}")))?
            .iter()
            .map(common::column_key)
            .collect();
        let cost_column = if header.iter().any(|h| h == "costinbillingcurrency") {
            "costinbillingcurrency"
        } else {
            "cost"
        };
        for key in ["date", "metercategory", "metername", cost_column] {
            if !header.iter().any(|h| h == key) {
                return Err(RecordError::new(
                    1,
                    format!(
                        "the header has no `{key}` column (Azure Cost Management export expected)"
                    ),
                ));
            }
        }
        let mut ids = common::RowIds::default();
        common::for_each_csv_row(&mut csv, emit, |record, line| {
            let row: HashMap<&str, &str> = header
                .iter()
                .zip(record.iter())
                .map(|(k, v)| (k.as_str(), v.trim()))
                .filter(|(_, v)| !v.is_empty())
                .collect();
            let at = Provenance {
                file: file.clone(),
                line,
            };
            ids.number(read_row(&row, cost_column, &at))
        })
    }
}

/// Meter categories of AI usage.
fn is_ai_meter(category: &str) -> bool {
    let c = category.to_ascii_lowercase();
    ["cognitive services", "openai", "azure ai", "foundry"]
        .iter()
        .any(|s| c.contains(s))
}

/// What a meter name says: the model, the token class, the deployment type, batch.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Meter {
    pub model: Option<String>,
    pub class: Option<TokenClass>,
    pub region: Option<&'static str>,
    pub batch: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenClass {
    Input,
    CachedInput,
    Output,
}

/// Reads a meter name such as `gpt-4o-0806-Inp-glbl 1M Tokens`, `gpt 4o mini 0718 cached Inp regnl` or
/// `o3-mini-0131-Outp-DZ`.
pub fn parse_meter(name: &str) -> Meter {
    let mut meter = Meter::default();
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
        .filter(|w| !w.is_empty())
        .collect();
    let mut model: Vec<&str> = Vec::new();
    let mut model_done = false;
    let mut cached = false;
    for w in &words {
        let role = match *w {
            "inp" | "input" | "in" | "prompt" => {
                meter.class.get_or_insert(TokenClass::Input);
                true
            }
            "outp" | "output" | "out" | "opt" | "completion" | "compl" => {
                meter.class = Some(TokenClass::Output);
                true
            }
            "cchd" | "cached" | "cache" | "cchd_inp" => {
                cached = true;
                true
            }
            "glbl" | "global" | "gl" => {
                meter.region = Some("global");
                true
            }
            "dz" | "dzone" | "datazone" | "data" | "zone" => {
                meter.region = Some("datazone");
                true
            }
            "regnl" | "regional" | "rgnl" => {
                meter.region = Some("regional");
                true
            }
            "batch" | "bt" => {
                meter.batch = true;
                true
            }
            "tokens" | "token" | "1k" | "1m" | "10k" | "100k" | "1000" => true,
            _ => false,
        };
        if role {
            model_done = true;
        } else if !model_done {
            model.push(w);
        }
    }
    if cached && meter.class != Some(TokenClass::Output) {
        meter.class = Some(TokenClass::CachedInput);
    }
    if !model.is_empty() {
        let mut joined = model.join("-");
        // `gpt 4o`, `gpt 4.1` written with spaces: the dash form the tables use.
        if let Some(rest) = joined.strip_prefix("gpt-35") {
            joined = format!("gpt-3.5{rest}");
        }
        meter.model = Some(joined);
    }
    meter
}

/// Tokens per unit of a `UnitOfMeasure` (`1K`, `1M`, `1K Tokens`, `1000`); `None` for units that are not
/// token counts (`1 Hour`), and for a multiple too large to compute with (it is then reported as out of
/// range by the caller).
fn unit_multiple(unit: &str) -> Option<Decimal> {
    let u = unit.trim().to_ascii_lowercase();
    if u.contains("hour") || u.contains("day") || u.contains("month") || u.contains("gb") {
        return None;
    }
    let first = u.split_whitespace().next()?;
    let (digits, scale) = match first.as_bytes().last()? {
        b'k' => (&first[..first.len() - 1], Decimal::from(1_000)),
        b'm' => (&first[..first.len() - 1], Decimal::from(1_000_000)),
        _ => (first, Decimal::ONE),
    };
    let n = if digits.is_empty() {
        Decimal::ONE
    } else {
        parse_decimal(digits)?
    };
    n.checked_mul(scale)
}

/// `Tags`: a JSON object, or its inside without braces.
fn parse_tags(text: &str, line: u64) -> Result<BTreeMap<String, String>, RecordError> {
    let text = text.trim();
    let wrapped;
    let json = if text.starts_with('{') {
        text
    } else {
        wrapped = format!("{{{text}}}");
        &wrapped
    };
    let map: BTreeMap<String, serde_json::Value> = common::parse_json_at(json, "Tags", line)?;
    Ok(map
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, v)
        })
        .collect())
}

/// `Date`: `MM/DD/YYYY` (EA) or ISO `YYYY-MM-DD` (with or without a time).
fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    NaiveDate::parse_from_str(t, "%m/%d/%Y")
        .ok()
        .or_else(|| NaiveDate::parse_from_str(t.get(..10)?, "%Y-%m-%d").ok())
}

/// The segment after `/<kind>/` in a resource id (case-insensitive kind).
fn segment_after<'a>(resource_id: &'a str, kind: &str) -> Option<&'a str> {
    let parts: Vec<&'a str> = resource_id.split('/').collect();
    parts
        .windows(2)
        .find(|w| w[0].eq_ignore_ascii_case(kind))
        .map(|w| w[1])
        .filter(|s| !s.is_empty())
}

fn read_row(
    row: &HashMap<&str, &str>,
    cost_column: &str,
    at: &Provenance,
) -> Result<Option<UsageRecord>, RecordError> {
    let line = at.line;
    let get = |k: &str| row.get(k).copied();
    let category = get("metercategory").unwrap_or_default();
    if !is_ai_meter(category) {
        return Ok(None);
    }
    let date_text = get("date").ok_or_else(|| RecordError::field(line, "Date", "missing"))?;
    let date = parse_date(date_text).ok_or_else(|| {
        RecordError::field(
            line,
            "Date",
            format!("not a date (MM/DD/YYYY or YYYY-MM-DD): {date_text:?}"),
        )
    })?;
    let cost_field = if cost_column == "cost" {
        "Cost"
    } else {
        "CostInBillingCurrency"
    };
    let cost_text =
        get(cost_column).ok_or_else(|| RecordError::field(line, cost_field, "missing"))?;
    let cost = parse_number_cell(cost_text).ok_or_else(|| {
        RecordError::field(
            line,
            cost_field,
            format!("not a decimal number: {cost_text:?}"),
        )
    })?;
    let meter_name = get("metername").unwrap_or_default();
    let meter = parse_meter(meter_name);
    let resource_id = get("resourceid")
        .or_else(|| get("instanceid"))
        .unwrap_or_default();
    let tags = match get("tags") {
        Some(t) => parse_tags(t, line)?,
        None => BTreeMap::new(),
    };
    let tag = |k: &str| {
        tags.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .map(|(_, v)| Text::from(v.trim()))
            .filter(|v| !v.is_empty())
    };
    let deployment = segment_after(resource_id, "deployments")
        .map(Text::from)
        .or_else(|| tag("deployment"))
        .or_else(|| tag("deployment_name"));
    // A meter names a model only when it also names a token class (`Provisioned Managed Global` does not).
    let model = deployment
        .or_else(|| {
            meter
                .model
                .as_deref()
                .filter(|_| meter.class.is_some())
                .map(Text::from)
        })
        .unwrap_or_else(|| "unknown".into());
    let start = Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default());
    let subscription = get("subscriptionid").or_else(|| get("subscriptionguid"));
    let mut key = String::new();
    for part in [
        date.to_string().as_str(),
        subscription.unwrap_or_default(),
        resource_id,
        get("meterid").unwrap_or(meter_name),
        get("chargetype").unwrap_or_default(),
        get("tags").unwrap_or_default(),
        get("pricingmodel").unwrap_or_default(),
        get("benefitid").unwrap_or_default(),
    ] {
        key.push_str(part);
        key.push('\u{1f}');
    }
    let mut r = UsageRecord::new(
        content_id(NAME, key.as_bytes()),
        NAME,
        Provider::Azure,
        model,
        start,
        at.clone(),
    );
    r.dedup = DedupPolicy::KeepLargest;
    r.end = start.checked_add_signed(chrono::Duration::days(1));
    r.requests = 0;
    r.long_context = Some(false);
    r.batch = meter.batch;
    r.region = meter.region.map(Text::from);
    r.reported_cost = Some(cost);
    r.reported_currency = get("billingcurrency")
        .or_else(|| get("billingcurrencycode"))
        .map(|c| Text::from(c).to_ascii_uppercase());
    r.workspace = subscription.map(Text::from);
    // The billing account when the export has it (EA and MCA exports do), else the subscription.
    match get("billingaccountid") {
        Some(id) => {
            r.billing_account = Some(id.into());
            r.billing_account_name = get("billingaccountname").map(Text::from);
        }
        None => {
            r.billing_account = r.workspace.clone();
            r.billing_account_name = get("subscriptionname").map(Text::from);
        }
    }
    r.team = tag("team");
    r.project = tag("project");
    r.tags.extend(
        tags.into_iter()
            .map(|(k, v)| (Text::from(k), Text::from(v))),
    );
    r.tags.insert("meter".into(), meter_name.into());
    for (column, name) in [
        ("resourcegroup", "resource_group"),
        ("resourcegroupname", "resource_group"),
        ("chargetype", "charge_type"),
        ("metersubcategory", "meter_subcategory"),
        ("resourcelocation", "azure_location"),
    ] {
        if let Some(v) = get(column) {
            r.tags.insert(name.into(), v.into());
        }
    }
    if let Some(account) = segment_after(resource_id, "accounts") {
        r.tags.insert("azure_account".into(), account.into());
    }
    if let (Some(class), Some(multiple)) =
        (meter.class, get("unitofmeasure").and_then(unit_multiple))
    {
        let q_text =
            get("quantity").ok_or_else(|| RecordError::field(line, "Quantity", "missing"))?;
        let quantity = parse_number_cell(q_text).ok_or_else(|| {
            RecordError::field(
                line,
                "Quantity",
                format!("not a decimal number: {q_text:?}"),
            )
        })?;
        let product = quantity.checked_mul(multiple).ok_or_else(|| {
            out_of_range(
                line,
                "Quantity",
                "quantity times the unit of measure overflows",
            )
        })?;
        let tokens = product.round().to_u64().ok_or_else(|| {
            if product.is_sign_negative() {
                RecordError::field(line, "Quantity", "not a token count: negative")
            } else {
                out_of_range(line, "Quantity", "more than 10^15 tokens in one row")
            }
        })?;
        if tokens > MAX_COUNT {
            return Err(out_of_range(
                line,
                "Quantity",
                "more than 10^15 tokens in one row",
            ));
        }
        match class {
            TokenClass::Input => r.tokens.input = tokens,
            TokenClass::CachedInput => r.tokens.cache_read = tokens,
            TokenClass::Output => r.tokens.output = tokens,
        }
    }
    Ok(Some(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meters_name_model_class_and_deployment_type() {
        let m = parse_meter("gpt-4o-0806-Inp-glbl 1M Tokens");
        assert_eq!(m.model.as_deref(), Some("gpt-4o-0806"));
        assert_eq!(m.class, Some(TokenClass::Input));
        assert_eq!(m.region, Some("global"));
        let m = parse_meter("gpt 4o mini 0718 cached Inp regnl");
        assert_eq!(m.model.as_deref(), Some("gpt-4o-mini-0718"));
        assert_eq!(m.class, Some(TokenClass::CachedInput));
        assert_eq!(m.region, Some("regional"));
        let m = parse_meter("gpt-35-turbo-0125-Outp-DZ");
        assert_eq!(m.model.as_deref(), Some("gpt-3.5-turbo-0125"));
        assert_eq!(m.class, Some(TokenClass::Output));
        assert_eq!(m.region, Some("datazone"));
        assert_eq!(parse_meter("Standard S0 Hours").class, None);
    }

    #[test]
    fn units_and_tags() {
        assert_eq!(unit_multiple("1K"), Some(Decimal::from(1000)));
        assert_eq!(unit_multiple("1M Tokens"), Some(Decimal::from(1_000_000)));
        assert_eq!(unit_multiple("1 Hour"), None);
        let t = parse_tags("\"team\": \"search\",\"env\": \"prod\"", 1).unwrap();
        assert_eq!(t["team"], "search");
        assert_eq!(t["env"], "prod");
        assert!(parse_tags("{\"team\":", 4).is_err());
        assert_eq!(
            parse_date("10/05/2026"),
            NaiveDate::from_ymd_opt(2026, 10, 5)
        );
        assert_eq!(
            parse_date("2026-10-05T00:00:00Z"),
            NaiveDate::from_ymd_opt(2026, 10, 5)
        );
    }

    fn read(text: &str) -> Vec<Result<UsageRecord, RecordError>> {
        crate::sources::testing::read_items_of(&AzureCost, text).unwrap()
    }

    #[test]
    fn rows_keep_the_deployment_and_fill_tokens() {
        let csv = "Date,BillingCurrency,CostInBillingCurrency,Quantity,UnitOfMeasure,MeterCategory,MeterSubCategory,MeterName,ResourceId,ResourceGroup,SubscriptionId,Tags,ChargeType\n\
            2026-10-05,USD,0.25,100,1K,Cognitive Services,Azure OpenAI,gpt-4o-0806-Inp-glbl,/subscriptions/s1/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/acct/deployments/prod-gpt4o,rg,s1,\"\"\"team\"\": \"\"search\"\"\",Usage\n\
            2026-10-05,USD,9.00,24,1 Hour,Virtual Machines,D2s,D2s v3,/subscriptions/s1/x,rg,s1,,Usage\n";
        let recs = read(csv);
        assert_eq!(recs.len(), 1);
        let r = recs[0].as_ref().unwrap();
        assert_eq!(r.model, "prod-gpt4o");
        assert_eq!(r.tokens.input, 100_000);
        assert_eq!(r.team.as_deref(), Some("search"));
        assert_eq!(r.region.as_deref(), Some("global"));
        assert_eq!(r.reported_cost, Some(Decimal::new(25, 2)));
        assert_eq!(r.tags["azure_account"], "acct");
        assert_eq!(r.requests, 0);
        // No billing account column: the subscription is the account.
        assert_eq!(r.billing_account.as_deref(), Some("s1"));
    }

    #[test]
    fn the_billing_account_column_wins_over_the_subscription() {
        let csv = "Date,BillingAccountId,BillingAccountName,BillingCurrency,CostInBillingCurrency,Quantity,UnitOfMeasure,MeterCategory,MeterName,ResourceId,SubscriptionId\n\
            2026-10-05,ba-1,Acme EA,USD,0.25,100,1K,Cognitive Services,gpt-4o-0806-Inp-glbl,/subscriptions/s1/x/deployments/d,s1\n";
        let recs = read(csv);
        let r = recs[0].as_ref().unwrap();
        assert_eq!(r.billing_account.as_deref(), Some("ba-1"));
        assert_eq!(r.billing_account_name.as_deref(), Some("Acme EA"));
        assert_eq!(r.workspace.as_deref(), Some("s1"));
    }

    #[test]
    fn detection() {
        let p = Path::new("x.csv");
        assert!(AzureCost.detect(p, b"Date,MeterCategory,MeterName,Cost\n"));
        assert!(AzureCost.detect(
            p,
            b"\xEF\xBB\xBFdate,meterCategory,meterName,costInBillingCurrency\n"
        ));
        assert!(!AzureCost.detect(
            p,
            b"service.description,sku.description,usage_start_time,cost\n"
        ));
        assert!(!AzureCost.detect(p, b"{\"MeterCategory\":1}"));
    }
}
