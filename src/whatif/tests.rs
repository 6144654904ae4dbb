use chrono::{TimeZone, Utc};
use rust_decimal_macros::dec;

use super::*;
use crate::record::Provenance;

fn record(provider: Provider, model: &str, tokens: TokenCounts) -> UsageRecord {
    let at = Provenance {
        file: "t".into(),
        line: 1,
    };
    let start = Utc.with_ymd_and_hms(2026, 10, 3, 12, 0, 0).unwrap();
    let mut r = UsageRecord::new("id".into(), "api-log", provider, model.into(), start, at);
    r.tokens = tokens;
    r
}

fn io(input: u64, output: u64) -> TokenCounts {
    TokenCounts {
        input,
        output,
        ..TokenCounts::default()
    }
}

/// (current cost, scenario cost) of one record.
fn both(r: UsageRecord, s: &Scenario) -> (Decimal, std::result::Result<Decimal, Unpriced>) {
    let book = PriceBook::built_in().unwrap();
    let out = reprice(&[r], s, &book).pop().unwrap();
    let Priced::Cost { cost, .. } = out.current else {
        panic!("the current price is missing: {:?}", out.current)
    };
    (cost, out.scenario)
}

fn swap(s: &str) -> Scenario {
    Scenario {
        swaps: vec![Swap::parse(s).unwrap()],
        ..Scenario::default()
    }
}

#[test]
fn a_swap_moves_the_same_tokens_to_the_other_model() {
    let r = record(
        Provider::Anthropic,
        "claude-opus-4-1-20250805",
        io(100_000, 100_000),
    );
    // now: 100k × $15/M + 100k × $75/M = $9; as claude-sonnet-4-5: 100k × $3/M + 100k × $15/M = $1.80
    assert_eq!(
        both(r.clone(), &swap("claude-opus-4-1=claude-sonnet-4-5")),
        (dec!(9), Ok(dec!(1.8)))
    );
    // globs match the canonical id; usage of other models is unchanged
    assert_eq!(
        both(r.clone(), &swap("claude-opus-*=claude-sonnet-4-5")).1,
        Ok(dec!(1.8))
    );
    assert_eq!(both(r, &swap("gpt-4o=gpt-4o-mini")).1, Ok(dec!(9)));
}

#[test]
fn a_token_ratio_scales_swapped_tokens() {
    let r = record(Provider::OpenAI, "gpt-4o-2024-08-06", io(100_000, 100_000));
    let mut s = swap("gpt-4o=claude-sonnet-4-5");
    s.token_ratio = Some(dec!(1.1));
    // now: 100k × $2.50/M + 100k × $10/M = $1.25
    // Claude counts 10% more: 110k × $3/M + 110k × $15/M = $0.33 + $1.65 = $1.98 (priced from
    // Anthropic's table: OpenAI does not sell it)
    assert_eq!(both(r, &s), (dec!(1.25), Ok(dec!(1.98))));
}

#[test]
fn a_swap_into_a_long_context_model_pays_its_whole_request_tier() {
    let r = record(Provider::OpenAI, "gpt-4.1", io(250_000, 1_000));
    // 250_000 > 200_000: the whole request at claude-sonnet-4-5's long-context rates:
    // 250_000 × $6/M + 1_000 × $22.50/M = $1.50 + $0.0225 = $1.5225
    assert_eq!(
        both(r, &swap("gpt-4.1=claude-sonnet-4-5")).1,
        Ok(dec!(1.5225))
    );
}

#[test]
fn a_provider_move_prices_on_that_table_and_region() {
    let r = record(
        Provider::Anthropic,
        "claude-sonnet-4-5-20250929",
        io(100_000, 100_000),
    );
    let mut s = Scenario {
        on: Some(Provider::Bedrock),
        region: Some("us-east-1".into()),
        ..Scenario::default()
    };
    // now: 100k × $3/M + 100k × $15/M = $1.80; Bedrock in-region (`*` = 1.1): $1.80 × 1.1 = $1.98
    assert_eq!(both(r.clone(), &s), (dec!(1.8), Ok(dec!(1.98))));
    // Bedrock's global profile is the base price: $1.80
    s.region = Some("global".into());
    assert_eq!(both(r.clone(), &s).1, Ok(dec!(1.8)));
    // GovCloud: $1.80 × 1.2 = $2.16
    s.region = Some("us-gov-west-1".into());
    assert_eq!(both(r, &s).1, Ok(dec!(2.16)));
}

#[test]
fn batch_and_tiers_use_the_tier_rates_and_missing_ones_stay_unpriced() {
    let tier = |t| Scenario {
        tier: Some(t),
        ..Scenario::default()
    };
    let r = record(
        Provider::OpenAI,
        "gpt-4o-2024-08-06",
        io(1_000_000, 1_000_000),
    );
    // batch = 0.5 ×: ($2.50 + $10) × 0.5 = $6.25
    assert_eq!(
        both(r.clone(), &tier(TierMove::Batch)),
        (dec!(12.5), Ok(dec!(6.25)))
    );
    // priority has its own rates: 1M × $4.25/M + 1M × $17/M = $21.25
    assert_eq!(
        both(r.clone(), &tier(TierMove::Priority)).1,
        Ok(dec!(21.25))
    );
    // gpt-4o has no flex rate: unpriced, never the standard price
    assert_eq!(
        both(r.clone(), &tier(TierMove::Flex)).1,
        Err(Unpriced::NoTierRate("flex".into()))
    );
    // batch usage moved back to standard: $12.50
    let mut batch = r;
    batch.batch = true;
    assert_eq!(
        both(batch, &tier(TierMove::Standard)),
        (dec!(6.25), Ok(dec!(12.5)))
    );
}

#[test]
fn cache_hits_read_the_share_and_write_the_rest_where_writes_cost_more() {
    let hit = Scenario {
        cache_hit: Some(dec!(0.6)),
        ..Scenario::default()
    };
    // claude-sonnet-4-5 bills writes (5m = 1.25 × input = $3.75/M): 60k read × $0.30/M = $0.018, the
    // other 40k written × $3.75/M = $0.15: $0.168 against 100k × $3/M = $0.30
    let r = record(Provider::Anthropic, "claude-sonnet-4-5", io(100_000, 0));
    assert_eq!(both(r.clone(), &hit), (dec!(0.3), Ok(dec!(0.168))));
    // with 1-hour writes (2 × input = $6/M): $0.018 + 40k × $6/M = $0.018 + $0.24 = $0.258
    let mut hour = hit.clone();
    hour.cache_ttl = Some(CacheTtl::OneHour);
    assert_eq!(both(r, &hour).1, Ok(dec!(0.258)));
    // gpt-4o writes at the input rate: 600k × $1.25/M + 400k × $2.50/M = $0.75 + $1.00 = $1.75
    let r = record(Provider::OpenAI, "gpt-4o", io(1_000_000, 0));
    assert_eq!(both(r, &hit), (dec!(2.5), Ok(dec!(1.75))));
    // a model without a cache-read rate is unchanged: chatgpt-4o-latest 1M × $5/M = $5
    let r = record(Provider::OpenAI, "chatgpt-4o-latest", io(1_000_000, 0));
    assert_eq!(both(r, &hit), (dec!(5), Ok(dec!(5))));
}

#[test]
fn cache_ttl_moves_writes_between_lifetimes() {
    let t = TokenCounts {
        cache_write_1h: 100_000,
        ..TokenCounts::default()
    };
    let r = record(Provider::Anthropic, "claude-sonnet-4-5", t);
    let five = Scenario {
        cache_ttl: Some(CacheTtl::FiveMinutes),
        ..Scenario::default()
    };
    // 100k × $6/M = $0.60 as 1-hour writes; as 5-minute writes 100k × $3.75/M = $0.375
    assert_eq!(both(r, &five), (dec!(0.6), Ok(dec!(0.375))));
}

#[test]
fn self_hosted_usage_costs_the_gpu_hours_its_tokens_take() {
    let s = Scenario {
        self_hosted: vec![SelfHosted::parse(
            "llama-3.3-70b*:gpu_hour=2,tokens_per_second=1000,utilization=0.5",
        )
        .unwrap()],
        swaps: vec![Swap::parse("gpt-4o=llama-3.3-70b-instruct").unwrap()],
        ..Scenario::default()
    };
    // 3_000_000 + 600_000 = 3.6M tokens / (1000 tokens/s × 0.5 × 3600 s) = 2 GPU hours × $2 = $4
    let r = record(Provider::OpenAI, "gpt-4o", io(3_000_000, 600_000));
    // now: 3M × $2.50/M + 600k × $10/M = $7.50 + $6 = $13.50
    assert_eq!(both(r, &s), (dec!(13.5), Ok(dec!(4))));
    assert!(SelfHosted::parse("llama:gpu_hour=2").is_err());
    assert!(SelfHosted::parse("llama:gpu_hour=2,tokens_per_second=0").is_err());
    assert!(SelfHosted::parse("llama:gpu_hour=2,tokens_per_second=9,utilization=2").is_err());
}

#[test]
fn flags_parse_or_say_what_they_expect() {
    assert_eq!(
        Scenario::parse_share("60%", "--cache-hit").unwrap(),
        dec!(0.6)
    );
    assert_eq!(
        Scenario::parse_share("0.25", "--cache-hit").unwrap(),
        dec!(0.25)
    );
    assert!(Scenario::parse_share("120%", "--cache-hit").is_err());
    assert!(Scenario::parse_ratio("0").is_err());
    assert!(Swap::parse("gpt-4o").is_err());
    assert!(Swap::parse("=gpt-4o").is_err());
}
