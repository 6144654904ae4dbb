//! `--format focus`: a CSV in the FinOps FOCUS 1.2 shape. Every FOCUS 1.2 column, in the specification's
//! (alphabetical) order, then `x_` extras with what FOCUS has no column for (each token class, team, user,
//! record id, unpriced reason, …). One row per usage record.
//!
//! What goes where (see the README, "aispend ledger export"):
//! - `ListCost` = `ContractedCost` = the computed cost (the price tables, with any `--pricing`
//!   overrides); `BilledCost` = `EffectiveCost` = the provider-reported cost when the source has one in
//!   USD (net of credits), else the computed cost. A record with no usage but a reported amount (a line of
//!   a cost export) has that amount in all four. FOCUS wants all four on every row, and an unknown price
//!   is not $0: an unpriced record is left out ([`super::UnpricedRows::Omit`], the default), or written at
//!   0 with `x_Unpriced` = true and the reason in `x_UnpricedReason` (`--unpriced zero`).
//! - `BillingAccountId`/`Name`: the account the source names, else `[focus.billing_accounts]` in the
//!   config, else the provider's name (with a warning); `SubAccountId`/`Name`: the project, else the
//!   workspace; `BillingAccountType`: `Organization` (OpenAI, Anthropic), `Billing Account` (Google, Azure),
//!   `Subscription` (Azure, when the export names no billing account), `AWS Account`, else `Account`.
//! - `ChargePeriodStart`/`End`: the record's start and end (a bucket), or start + 1 s (a request);
//!   `BillingPeriodStart`/`End`: the UTC calendar month holding the charge (the providers invoice monthly).
//! - Quantities are tokens (every class summed), else the record's searches, images, seconds or
//!   requests; `SkuMeter` names the classes metered (`Input tokens, Output tokens`). The unit prices are
//!   left empty, because one record mixes several token classes at different rates.
//! - Decimal columns always have a decimal point (`16500.0`, `2.0`), so that readers that infer types
//!   from CSV text (the FOCUS validator does) see decimals, not integers.

use std::collections::BTreeSet;
use std::io::Write;

use crate::output::csv::CsvOut;

use chrono::{DateTime, Datelike, Duration, SecondsFormat, TimeZone, Timelike, Utc};
use rust_decimal::Decimal;

use super::{money, ExportRow, Exporter};
use crate::config::BillingAccounts;
use crate::record::{Provider, UsageRecord};

/// The FOCUS 1.2 columns, in the order of the specification's column list.
pub const FOCUS_COLUMNS: [&str; 57] = [
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "CapacityReservationId",
    "CapacityReservationStatus",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "CommitmentDiscountUnit",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SkuId",
    "SkuMeter",
    "SkuPriceDetails",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
];

/// Extras after the FOCUS columns (FOCUS reserves the `x_` prefix for them).
pub const X_COLUMNS: [&str; 37] = [
    "x_RecordId",
    "x_Source",
    "x_Provider",
    "x_Model",
    "x_ServiceTier",
    "x_Batch",
    "x_Team",
    "x_Project",
    "x_User",
    "x_ApiKey",
    "x_Workspace",
    "x_Requests",
    "x_InputTokens",
    "x_CacheReadTokens",
    "x_CacheWrite5mTokens",
    "x_CacheWrite1hTokens",
    "x_OutputTokens",
    "x_ReasoningTokens",
    "x_AudioInputTokens",
    "x_AudioOutputTokens",
    "x_ImageInputTokens",
    "x_ImageOutputTokens",
    "x_WebSearchRequests",
    "x_Images",
    "x_Seconds",
    "x_ComputedCost",
    "x_Unpriced",
    "x_UnpricedReason",
    "x_PriceSource",
    "x_ReportedCost",
    "x_ReportedCurrency",
    "x_Failed",
    "x_ToolCalls",
    "x_ToolFees",
    "x_LongContext",
    "x_CacheReadAudioTokens",
    "x_WebSearchPreviewCalls",
];

pub struct FocusExporter<'w> {
    writer: CsvOut<&'w mut dyn Write>,
    accounts: &'w BillingAccounts,
    missing: MissingAccounts,
}

impl<'w> FocusExporter<'w> {
    pub fn new(out: &'w mut dyn Write, accounts: &'w BillingAccounts) -> FocusExporter<'w> {
        FocusExporter {
            writer: CsvOut::new(out),
            accounts,
            missing: MissingAccounts::default(),
        }
    }
}

impl Exporter for FocusExporter<'_> {
    fn begin(&mut self) -> std::io::Result<()> {
        self.writer
            .row(FOCUS_COLUMNS.iter().chain(X_COLUMNS.iter()))
    }

    fn row(&mut self, row: &ExportRow<'_>) -> std::io::Result<()> {
        let account = self.missing.account(self.accounts, row.record);
        let fields = FOCUS_COLUMNS
            .iter()
            .chain(X_COLUMNS.iter())
            .map(|c| value(c, row, account));
        self.writer.row(fields)
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }

    fn warnings(&self) -> Vec<String> {
        self.missing.warnings()
    }
}

/// Rows whose billing account neither the source nor the config names: their providers and count.
#[derive(Debug, Default)]
pub struct MissingAccounts {
    providers: BTreeSet<Provider>,
    rows: u64,
}

impl MissingAccounts {
    /// The record's billing account id and name; the provider's name (noted) when nothing names one.
    pub fn account<'a>(
        &mut self,
        accounts: &'a BillingAccounts,
        r: &'a UsageRecord,
    ) -> (&'a str, Option<&'a str>) {
        accounts.of(r).unwrap_or_else(|| {
            self.providers.insert(r.provider);
            self.rows += 1;
            (r.provider.as_str(), None)
        })
    }

    pub fn warnings(&self) -> Vec<String> {
        if self.rows == 0 {
            return Vec::new();
        }
        let providers: Vec<&str> = self.providers.iter().map(|p| p.as_str()).collect();
        vec![format!(
            "warning: {} FOCUS row(s) of {} name no billing account (their source does not, and \
             [focus.billing_accounts] in aispend.toml has no entry): BillingAccountId is the provider's \
             name; set it with e.g. `[focus.billing_accounts] {} = {{ id = \"…\", name = \"…\" }}`",
            self.rows,
            providers.join(", "),
            providers[0],
        )]
    }
}

/// A FOCUS Decimal: exact, always with a decimal point (`2.0`, `0.0136`), so that a reader inferring
/// types from the text does not take the column for integers.
fn decimal(d: Decimal) -> String {
    let mut s = money(d);
    if !s.contains('.') {
        s.push_str(".0");
    }
    s
}

/// What kind of account the provider bills: an organization (OpenAI, Anthropic), a Cloud Billing
/// account (Google), a billing account or a subscription (Azure), an AWS account.
fn billing_account_type(r: &UsageRecord, id: &str) -> &'static str {
    match r.provider {
        Provider::OpenAI | Provider::Anthropic => "Organization",
        Provider::Google => "Billing Account",
        // The Azure importer falls back to the subscription when the export has no billing account.
        Provider::Azure if r.workspace.as_deref() == Some(id) => "Subscription",
        Provider::Azure => "Billing Account",
        Provider::Bedrock => "AWS Account",
        _ => "Account",
    }
}

/// What the record's quantity counts: tokens when it has any, else the counted units it has, else
/// requests.
fn quantity(r: &UsageRecord) -> (u64, &'static str) {
    let t = &r.tokens;
    [
        (t.total(), "Tokens"),
        (t.web_search_requests, "Web searches"),
        (t.tool_calls(), "Tool calls"),
        (t.images, "Images"),
        (t.seconds, "Seconds"),
    ]
    .into_iter()
    .find(|(n, _)| *n > 0)
    .unwrap_or((r.requests, "Requests"))
}

/// The meters a record's usage was measured by, as FOCUS `SkuMeter`: `Input tokens, Output tokens`.
fn sku_meter(r: &UsageRecord) -> String {
    let t = &r.tokens;
    let meters: Vec<&str> = [
        (t.input, "Input tokens"),
        (t.cache_read, "Cache read tokens"),
        (t.cache_read_audio, "Cached audio input tokens"),
        (t.cache_write_5m, "Cache write tokens (5m)"),
        (t.cache_write_1h, "Cache write tokens (1h)"),
        (t.output, "Output tokens"),
        (t.audio_input, "Audio input tokens"),
        (t.audio_output, "Audio output tokens"),
        (t.image_input, "Image input tokens"),
        (t.image_output, "Image output tokens"),
        (t.web_search_requests, "Web searches"),
        (t.web_search_preview_calls, "Web searches (preview tool)"),
        (t.web_fetch_requests, "Web fetches"),
        (t.file_search_calls, "File searches"),
        (t.code_execution_calls, "Code executions"),
        (t.grounded_prompts, "Grounded prompts"),
        (t.images, "Images"),
        (t.seconds, "Seconds"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(_, meter)| meter)
    .collect();
    if meters.is_empty() {
        "Requests".into()
    } else {
        meters.join(", ")
    }
}

/// FOCUS Date/Time: ISO 8601 in UTC, whole seconds (`2026-10-07T08:00:00Z`).
fn focus_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_nanosecond(0).unwrap_or(t)
}

/// The UTC calendar month holding `t`: `[first day, first day of the next month)`.
pub fn billing_month(t: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let (y, m) = (t.year(), t.month());
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let first = |y, m| Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single().unwrap_or(t);
    (first(y, m), first(ny, nm))
}

/// The FOCUS service: the provider's API product, or the cloud service that resold it.
pub fn service_name(r: &UsageRecord) -> String {
    match r.provider {
        Provider::OpenAI => "OpenAI API".into(),
        Provider::Anthropic => "Anthropic API".into(),
        // A Google Cloud billing row names its service (`Vertex AI`, `Gemini API`).
        Provider::Google => match r.tags.get("service") {
            Some(s) if r.source == "gcp-billing" && !s.is_empty() => s.to_string(),
            _ => "Gemini API".into(),
        },
        Provider::Bedrock => "Amazon Bedrock".into(),
        Provider::Azure => "Azure OpenAI".into(),
        Provider::OpenRouter => "OpenRouter".into(),
        Provider::Mistral => "Mistral AI API".into(),
        Provider::DeepSeek => "DeepSeek API".into(),
        Provider::XAi => "xAI API".into(),
        Provider::Cohere => "Cohere API".into(),
        Provider::Together => "Together AI".into(),
        Provider::Fireworks => "Fireworks AI".into(),
        Provider::Groq => "GroqCloud".into(),
        Provider::DeepInfra => "DeepInfra".into(),
        Provider::Other => "AI API".into(),
    }
}

/// Who sold the service (and invoices it).
pub fn provider_name(p: Provider) -> &'static str {
    match p {
        Provider::OpenAI => "OpenAI",
        Provider::Anthropic => "Anthropic",
        Provider::Google => "Google",
        Provider::Bedrock => "Amazon Web Services",
        Provider::Azure => "Microsoft",
        Provider::OpenRouter => "OpenRouter",
        Provider::Mistral => "Mistral AI",
        Provider::DeepSeek => "DeepSeek",
        Provider::XAi => "xAI",
        Provider::Cohere => "Cohere",
        Provider::Together => "Together AI",
        Provider::Fireworks => "Fireworks AI",
        Provider::Groq => "Groq",
        Provider::DeepInfra => "DeepInfra",
        Provider::Other => "Other",
    }
}

/// Who made the model: from its name (`claude-…` on Bedrock is Anthropic's), else the seller.
pub fn publisher_name(model: &str, seller: Provider) -> &'static str {
    let m = model.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
    if has(&["claude", "anthropic"]) {
        "Anthropic"
    } else if has(&["gemini", "gemma", "palm", "imagen", "veo"]) {
        "Google"
    } else if has(&[
        "gpt", "openai", "o1", "o3", "o4", "dall-e", "whisper", "tts", "davinci", "babbage",
        "chatgpt",
    ]) {
        "OpenAI"
    } else if has(&["llama", "meta."]) {
        "Meta"
    } else if has(&["mistral", "mixtral", "codestral", "pixtral"]) {
        "Mistral AI"
    } else if has(&["nova", "titan", "amazon."]) {
        "Amazon"
    } else if has(&["command", "cohere"]) {
        "Cohere"
    } else if has(&["deepseek"]) {
        "DeepSeek"
    } else if has(&["grok", "x-ai", "xai"]) {
        "xAI"
    } else if has(&["qwen"]) {
        "Alibaba Cloud"
    } else {
        provider_name(seller)
    }
}

/// `claude-haiku-4-5 on Anthropic API: 1 request, 16500 tokens (100 input, …)`.
fn description(row: &ExportRow<'_>) -> String {
    let r = row.record;
    let t = &r.tokens;
    let classes = [
        (t.input, "input"),
        (t.cache_read, "cache read"),
        (t.cache_read_audio, "cached audio input"),
        (t.cache_write_5m, "cache write 5m"),
        (t.cache_write_1h, "cache write 1h"),
        (t.output, "output"),
        (t.reasoning, "of them reasoning"),
        (t.audio_input, "audio input"),
        (t.audio_output, "audio output"),
        (t.image_input, "image input"),
        (t.image_output, "image output"),
    ];
    let parts: Vec<String> = classes
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, name)| format!("{n} {name}"))
        .collect();
    let mut s = format!(
        "{} on {}: {} request{}, {} tokens",
        row.canonical_model.unwrap_or(&r.model),
        service_name(r),
        r.requests,
        if r.requests == 1 { "" } else { "s" },
        t.total()
    );
    if !parts.is_empty() {
        s.push_str(&format!(" ({})", parts.join(", ")));
    }
    for (n, name) in [
        (t.web_search_requests, "web searches"),
        (t.web_search_preview_calls, "preview web searches"),
        (t.web_fetch_requests, "web fetches"),
        (t.file_search_calls, "file searches"),
        (t.code_execution_calls, "code executions"),
        (t.grounded_prompts, "grounded prompts"),
        (t.images, "images"),
        (t.seconds, "seconds"),
    ] {
        if n > 0 {
            s.push_str(&format!(", {n} {name}"));
        }
    }
    if r.batch {
        s.push_str(", batch");
    } else if let Some(tier) = r.service_tier.as_deref().filter(|t| !t.is_empty()) {
        s.push_str(&format!(", {tier} tier"));
    }
    if r.failed {
        s.push_str(", failed request");
    }
    if let Some(reason) = &row.unpriced_reason {
        s.push_str(&format!("; unpriced: {reason}"));
    }
    s
}

fn opt(s: Option<&str>) -> String {
    s.unwrap_or_default().to_string()
}

/// The value of one column for one record; empty where we have nothing. `account`: the billing
/// account id and name.
pub fn value(column: &str, row: &ExportRow<'_>, account: (&str, Option<&str>)) -> String {
    let r = row.record;
    let t = &r.tokens;
    // Computed cost; a record with no usage but a reported amount (an invoice line of a cost export) is
    // that amount, since there is nothing to compute it from.
    let reported = r.reported_usd();
    let computed = match reported {
        Some(amount) if t.is_empty() => Some(amount),
        _ => row.cost,
    };
    // What was paid: the provider's own figure when it has one (net of credits), else ours.
    let billed = reported.or(computed);
    // Only written unpriced with `--unpriced zero`: the costs FOCUS requires are then 0.
    let zero = |d: Option<Decimal>| decimal(d.unwrap_or(Decimal::ZERO));
    let cost = || row.cost.map(money).unwrap_or_default();
    let sub_account = r
        .project
        .as_deref()
        .map(|p| (p, "Project"))
        .or(r.workspace.as_deref().map(|w| (w, "Workspace")))
        .filter(|(v, _)| !v.is_empty());
    let resource = r
        .api_key
        .as_deref()
        .filter(|k| !k.is_empty())
        .map(|k| (k, "API Key"))
        .unwrap_or((&r.model, "Model"));
    let start = whole_seconds(r.start);
    match column {
        "BilledCost" | "EffectiveCost" | "PricingCurrencyEffectiveCost" => zero(billed),
        "BillingAccountId" => account.0.to_string(),
        "BillingAccountName" => opt(account.1),
        "BillingAccountType" => billing_account_type(r, account.0).into(),
        "BillingCurrency" => "USD".into(),
        "BillingPeriodStart" => focus_time(billing_month(start).0),
        "BillingPeriodEnd" => focus_time(billing_month(start).1),
        "ChargeCategory" => "Usage".into(),
        "ChargeDescription" => description(row),
        "ChargeFrequency" => "Usage-Based".into(),
        "ChargePeriodStart" => focus_time(start),
        "ChargePeriodEnd" => focus_time(
            r.end
                .map(whole_seconds)
                .filter(|e| *e > start)
                .unwrap_or(start + Duration::seconds(1)),
        ),
        "ConsumedQuantity" | "PricingQuantity" => decimal(quantity(r).0.into()),
        "ConsumedUnit" | "PricingUnit" => quantity(r).1.into(),
        "ContractedCost" | "ListCost" => zero(computed),
        "InvoiceIssuerName" | "ProviderName" => provider_name(r.provider).into(),
        "PricingCategory" => "Standard".into(),
        "PricingCurrency" => "USD".into(),
        "PublisherName" => {
            publisher_name(row.canonical_model.unwrap_or(&r.model), r.provider).into()
        }
        "RegionId" | "RegionName" => opt(r.region.as_deref()),
        "ResourceId" | "ResourceName" => resource.0.to_string(),
        "ResourceType" => resource.1.into(),
        "ServiceCategory" => "AI and Machine Learning".into(),
        "ServiceName" => service_name(r),
        "ServiceSubcategory" => "Generative AI".into(),
        "SkuId" | "SkuPriceId" => opt(row.canonical_model),
        "SkuMeter" if row.canonical_model.is_some() => sku_meter(r),
        "SubAccountId" | "SubAccountName" => opt(sub_account.map(|s| s.0)),
        "SubAccountType" => opt(sub_account.map(|s| s.1)),
        "Tags" => {
            let mut tags = r.tags.clone();
            tags.insert("team".into(), row.team.into());
            serde_json::to_string(&tags).unwrap_or_default()
        }
        "x_RecordId" => r.id.to_string(),
        "x_Source" => r.source.into(),
        "x_Provider" => r.provider.as_str().into(),
        "x_Model" => r.model.to_string(),
        "x_ServiceTier" => opt(r.service_tier.as_deref()),
        "x_Batch" => r.batch.to_string(),
        "x_Team" => row.team.into(),
        "x_Project" => opt(r.project.as_deref()),
        "x_User" => opt(r.user.as_deref()),
        "x_ApiKey" => opt(r.api_key.as_deref()),
        "x_Workspace" => opt(r.workspace.as_deref()),
        "x_Requests" => r.requests.to_string(),
        "x_InputTokens" => t.input.to_string(),
        "x_CacheReadTokens" => t.cache_read.to_string(),
        "x_CacheWrite5mTokens" => t.cache_write_5m.to_string(),
        "x_CacheWrite1hTokens" => t.cache_write_1h.to_string(),
        "x_OutputTokens" => t.output.to_string(),
        "x_ReasoningTokens" => t.reasoning.to_string(),
        "x_AudioInputTokens" => t.audio_input.to_string(),
        "x_AudioOutputTokens" => t.audio_output.to_string(),
        "x_ImageInputTokens" => t.image_input.to_string(),
        "x_ImageOutputTokens" => t.image_output.to_string(),
        "x_WebSearchRequests" => t.web_search_requests.to_string(),
        "x_Images" => t.images.to_string(),
        "x_Seconds" => t.seconds.to_string(),
        "x_ComputedCost" => cost(),
        "x_Unpriced" => row.cost.is_none().to_string(),
        "x_UnpricedReason" => opt(row.unpriced_reason.as_deref()),
        "x_PriceSource" => opt(row.price_source),
        "x_ReportedCost" => r.reported_cost.map(money).unwrap_or_default(),
        "x_ReportedCurrency" => opt(r.reported_currency.as_deref()),
        "x_Failed" => r.failed.to_string(),
        "x_ToolCalls" => t.tool_calls_text(),
        "x_ToolFees" => row.tool_fees.map(money).unwrap_or_default(),
        "x_LongContext" => row.long_context.map(|b| b.to_string()).unwrap_or_default(),
        "x_CacheReadAudioTokens" => t.cache_read_audio.to_string(),
        "x_WebSearchPreviewCalls" => t.web_search_preview_calls.to_string(),
        // AvailabilityZone, CapacityReservation*, ChargeClass, CommitmentDiscount*,
        // ContractedUnitPrice, InvoiceId, ListUnitPrice, the PricingCurrency unit prices,
        // SkuPriceDetails: nothing in the usage data says what they are (see the README).
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Provenance;
    use std::sync::Arc;

    fn record() -> UsageRecord {
        let start = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap();
        let mut r = UsageRecord::new(
            "anthropic:msg_1".into(),
            "api-log",
            Provider::Bedrock,
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0".into(),
            start,
            Provenance {
                file: Arc::from("f.jsonl"),
                line: 1,
            },
        );
        r.tokens.input = 10;
        r.tokens.output = 5;
        r.region = Some("us-east-1".into());
        r.project = Some("ranker".into());
        r
    }

    const ACCOUNT: (&str, Option<&str>) = ("123456789012", None);

    #[test]
    fn every_named_column_is_a_column() {
        let r = record();
        let row = ExportRow {
            record: &r,
            team: "search",
            canonical_model: Some("claude-sonnet-4-5"),
            cost: Some(Decimal::new(105, 6)),
            unpriced_reason: None,
            price_source: Some("table"),
            tool_fees: Some(Decimal::ZERO),
            long_context: Some(false),
        };
        // What the usage data cannot say: the columns left empty (listed in the README).
        let empty: Vec<&str> = FOCUS_COLUMNS
            .iter()
            .filter(|c| value(c, &row, ACCOUNT).is_empty())
            .copied()
            .collect();
        assert_eq!(
            empty,
            [
                "AvailabilityZone",
                "BillingAccountName",
                "CapacityReservationId",
                "CapacityReservationStatus",
                "ChargeClass",
                "CommitmentDiscountCategory",
                "CommitmentDiscountId",
                "CommitmentDiscountName",
                "CommitmentDiscountQuantity",
                "CommitmentDiscountStatus",
                "CommitmentDiscountType",
                "CommitmentDiscountUnit",
                "ContractedUnitPrice",
                "InvoiceId",
                "ListUnitPrice",
                "PricingCurrencyContractedUnitPrice",
                "PricingCurrencyListUnitPrice",
                "SkuPriceDetails",
            ]
        );
        assert!(X_COLUMNS.iter().all(|c| c.starts_with("x_")));
        assert_eq!(value("x_Team", &row, ACCOUNT), "search");
        assert_eq!(value("SubAccountType", &row, ACCOUNT), "Project");
        assert_eq!(value("PublisherName", &row, ACCOUNT), "Anthropic");
        assert_eq!(value("ProviderName", &row, ACCOUNT), "Amazon Web Services");
        assert_eq!(
            value("BillingPeriodStart", &row, ACCOUNT),
            "2026-12-01T00:00:00Z"
        );
        assert_eq!(
            value("BillingPeriodEnd", &row, ACCOUNT),
            "2027-01-01T00:00:00Z"
        );
        assert_eq!(
            value("ChargePeriodEnd", &row, ACCOUNT),
            "2027-01-01T00:00:00Z"
        );
        assert_eq!(value("ListCost", &row, ACCOUNT), "0.000105");
        assert_eq!(value("BillingAccountId", &row, ACCOUNT), "123456789012");
        assert_eq!(value("BillingAccountType", &row, ACCOUNT), "AWS Account");
        // 10 input + 5 output tokens, as a decimal.
        assert_eq!(value("PricingQuantity", &row, ACCOUNT), "15.0");
        assert_eq!(
            value("SkuMeter", &row, ACCOUNT),
            "Input tokens, Output tokens"
        );
        assert_eq!(value("x_Unpriced", &row, ACCOUNT), "false");
        assert_eq!(
            value("ChargeDescription", &row, ACCOUNT),
            "claude-sonnet-4-5 on Amazon Bedrock: 1 request, 15 tokens (10 input, 5 output)"
        );
    }

    #[test]
    fn quantities_and_meters_follow_what_the_record_counts() {
        let mut r = record();
        r.tokens = Default::default();
        // A failed request: nothing billable but the request itself.
        assert_eq!(quantity(&r), (1, "Requests"));
        assert_eq!(sku_meter(&r), "Requests");
        r.tokens.web_search_requests = 3;
        assert_eq!(quantity(&r), (3, "Web searches"));
        assert_eq!(sku_meter(&r), "Web searches");
        r.tokens.cache_read = 7;
        r.tokens.cache_write_1h = 2;
        assert_eq!(quantity(&r), (9, "Tokens"));
        assert_eq!(
            sku_meter(&r),
            "Cache read tokens, Cache write tokens (1h), Web searches"
        );
        assert_eq!(decimal(Decimal::new(2, 0)), "2.0");
        assert_eq!(decimal(Decimal::new(20, 1)), "2.0");
        assert_eq!(decimal(Decimal::new(136, 4)), "0.0136");
    }
}
