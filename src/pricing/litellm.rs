//! LiteLLM's public price map (`model_prices_and_context_window.json`) read as price entries: the source of
//! the marked fallback (`--pricing-fallback litellm`) for records no curated table prices.
//!
//! The map keeps only current prices, per token, as JSON numbers: each is read from its own text as an exact
//! decimal and scaled to per million tokens. One entry becomes one [`ModelPrice`] with a single period that
//! applies at every date, flagged `fallback`. Kept: chat-like entries (`mode` chat, responses or completion)
//! of the providers aispend knows, with both an input and an output price (an entry priced at $0 for both is
//! skipped: it would price real usage at nothing). Region-specific keys of the clouds
//! (`bedrock/us-east-1/…`, `azure/eu/…`) are skipped; the plain key prices those records.
//!
//! Keys read: `input_cost_per_token`, `output_cost_per_token`, `cache_read_input_token_cost`,
//! `cache_creation_input_token_cost` (5-minute writes), `cache_creation_input_token_cost_above_1hr`,
//! `output_cost_per_reasoning_token`, `input_cost_per_audio_token`, `output_cost_per_audio_token`,
//! `input_cost_per_image_token`, `output_cost_per_image_token`; the same with `_above_NNNk_tokens` as a
//! whole-request long-context tier (the lowest threshold the entry lists), and with `_batches`, `_flex`,
//! `_priority` as tiers (classes a tier does not list scale with its input rate).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::table::{LongContext, ModelPrice, PricePeriod, RateClass, Rates, Tier, TierPrice};
use crate::decimal::JsonDecimal;
use crate::error::{Error, RecordError, Result};
use crate::record::Provider;

/// The snapshot compiled into the binary: the chat, responses and completion entries of the providers
/// above from LiteLLM 1.110.2 (published 2026-11-20), price keys only, gzipped (30 kB instead of 3.4 MB).
pub const BUILT_IN_SNAPSHOT: (&str, &[u8]) = (
    "2026-11-20",
    include_bytes!("../../pricing/litellm-chat-2026-11-20.json.gz"),
);

/// `--pricing-fallback litellm[=FILE]` / `[pricing] fallback` in the config: price what no curated table
/// prices from LiteLLM's map: FILE, else the newest snapshot `aispend pricing update` stored, else the
/// built-in one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FallbackSpec {
    pub file: Option<std::path::PathBuf>,
}

impl FallbackSpec {
    pub fn parse(s: &str) -> std::result::Result<FallbackSpec, String> {
        let s = s.trim();
        match s.split_once('=') {
            None if s.eq_ignore_ascii_case("litellm") => Ok(FallbackSpec { file: None }),
            Some((name, file))
                if name.trim().eq_ignore_ascii_case("litellm") && !file.trim().is_empty() =>
            {
                Ok(FallbackSpec {
                    file: Some(file.trim().into()),
                })
            }
            _ => Err(format!(
                "unknown price fallback '{s}': expected `litellm` or `litellm=FILE` (a LiteLLM \
                 model_prices_and_context_window.json)"
            )),
        }
    }
}

/// The bytes of a price map file, gunzipped when it is gzip (by its magic bytes).
pub fn read_map_file(path: &std::path::Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    gunzip_if_needed(bytes).map_err(|e| Error::io(path, e))
}

pub fn gunzip_if_needed(bytes: Vec<u8>) -> std::io::Result<Vec<u8>> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&bytes[..]), &mut out)?;
    Ok(out)
}

/// LiteLLM's `litellm_provider` names of the providers aispend knows.
pub fn provider_of(litellm: &str) -> Option<Provider> {
    Some(match litellm {
        "openai" | "text-completion-openai" => Provider::OpenAI,
        "anthropic" => Provider::Anthropic,
        "gemini" | "vertex_ai-language-models" => Provider::Google,
        "bedrock" | "bedrock_converse" => Provider::Bedrock,
        "azure" | "azure_text" => Provider::Azure,
        "openrouter" => Provider::OpenRouter,
        "mistral" => Provider::Mistral,
        "deepseek" => Provider::DeepSeek,
        "xai" => Provider::XAi,
        "cohere_chat" | "cohere" => Provider::Cohere,
        "together_ai" => Provider::Together,
        "fireworks_ai" => Provider::Fireworks,
        "groq" => Provider::Groq,
        "deepinfra" => Provider::DeepInfra,
        _ => return None,
    })
}

/// The entry keys and their rate class.
const CLASS_KEYS: &[(&str, RateClass)] = &[
    ("input_cost_per_token", RateClass::Input),
    ("output_cost_per_token", RateClass::Output),
    ("cache_read_input_token_cost", RateClass::CacheRead),
    ("cache_creation_input_token_cost", RateClass::CacheWrite5m),
    (
        "cache_creation_input_token_cost_above_1hr",
        RateClass::CacheWrite1h,
    ),
    ("output_cost_per_reasoning_token", RateClass::Reasoning),
    ("input_cost_per_audio_token", RateClass::AudioInput),
    ("output_cost_per_audio_token", RateClass::AudioOutput),
    ("input_cost_per_image_token", RateClass::ImageInput),
    ("output_cost_per_image_token", RateClass::ImageOutput),
];

/// The date the fallback's single period starts: it applies to records of every date.
fn since() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// One entry's numeric keys, per token, as exact decimals. Other keys (strings, objects) are skipped.
type Numbers = BTreeMap<String, Decimal>;

/// Reads a price map. `origin` names it in errors and in `pricing show`.
pub fn parse_map(bytes: &[u8], origin: &str) -> Result<Vec<ModelPrice>> {
    let entries: BTreeMap<String, Box<RawValue>> =
        serde_json::from_slice(bytes).map_err(|e| Error::Input {
            file: origin.to_string(),
            record: RecordError::new(e.line() as u64, format!("not a LiteLLM price map: {e}")),
        })?;
    // Shorter keys first, so that a plain key wins over its region-prefixed copies (`us.`, `global.`).
    let mut keys: Vec<&String> = entries.keys().collect();
    keys.sort_by_key(|k| (k.len(), *k));
    let mut seen = std::collections::HashSet::new();
    let mut models = Vec::new();
    for key in keys {
        let Ok(fields) = serde_json::from_str::<BTreeMap<String, &RawValue>>(entries[key].get())
        else {
            continue;
        };
        let text = |k: &str| {
            fields
                .get(k)
                .and_then(|v| serde_json::from_str::<String>(v.get()).ok())
        };
        let Some(provider) = text("litellm_provider").as_deref().and_then(provider_of) else {
            continue;
        };
        if !matches!(
            text("mode").as_deref(),
            Some("chat" | "responses" | "completion")
        ) {
            continue;
        }
        if matches!(provider, Provider::Bedrock | Provider::Azure) && key.matches('/').count() >= 2
        {
            continue;
        }
        let numbers: Numbers = fields
            .iter()
            .filter_map(|(k, v)| {
                serde_json::from_str::<JsonDecimal>(v.get())
                    .ok()
                    .map(|d| (k.clone(), d.0))
            })
            .collect();
        let Some(period) = period_of(&numbers) else {
            continue;
        };
        let id = super::resolve::normalize(key);
        if !seen.insert((provider, id.clone())) {
            continue;
        }
        models.push(ModelPrice {
            id,
            provider: provider.as_str().to_string(),
            names: Vec::new(),
            patterns: Vec::new(),
            note: Some(format!("LiteLLM key {key}")),
            periods: vec![period],
            origin: origin.to_string(),
            fallback: true,
            tools: Vec::new(),
            cheaper: None,
        });
    }
    Ok(models)
}

/// Rates per million tokens of the keys named `<class key><suffix>`.
fn rates_with(numbers: &Numbers, suffix: &str) -> Rates {
    let million = Decimal::from(1_000_000);
    let mut rates = Rates::default();
    for (key, class) in CLASS_KEYS {
        if let Some(v) = numbers.get(&format!("{key}{suffix}")) {
            if !v.is_sign_negative() {
                rates.set(*class, (*v * million).normalize());
            }
        }
    }
    rates
}

fn period_of(numbers: &Numbers) -> Option<PricePeriod> {
    let rates = rates_with(numbers, "");
    let (input, output) = (rates.get(RateClass::Input)?, rates.get(RateClass::Output)?);
    if input.is_zero() && output.is_zero() {
        return None;
    }
    // The lowest `_above_NNNk_tokens` threshold with an input rate.
    let threshold = numbers
        .keys()
        .filter_map(|k| {
            let n = k
                .strip_prefix("input_cost_per_token_above_")?
                .strip_suffix("k_tokens")?;
            n.parse::<u64>().ok()
        })
        .min();
    let long_context = threshold.map(|n| LongContext {
        threshold: n * 1000,
        rates: or_scaled(&rates_with(numbers, &format!("_above_{n}k_tokens")), &rates),
    });
    let mut tiers: [Option<TierPrice>; 3] = Default::default();
    for (tier, suffix) in [
        (Tier::Batch, "_batches"),
        (Tier::Flex, "_flex"),
        (Tier::Priority, "_priority"),
    ] {
        let own = rates_with(numbers, suffix);
        if own.get(RateClass::Input).is_some() || own.get(RateClass::Output).is_some() {
            let own = or_scaled(&own, &rates);
            let long = match (threshold, &long_context) {
                (Some(n), Some(lc)) => {
                    let listed = rates_with(numbers, &format!("_above_{n}k_tokens{suffix}"));
                    // A tier without its own long-context keys scales the long-context rates like its own.
                    let factor = match (own.get(RateClass::Input), rates.get(RateClass::Input)) {
                        (Some(o), Some(b)) if !b.is_zero() => o / b,
                        _ => Decimal::ONE,
                    };
                    Some(Box::new(match listed.get(RateClass::Input) {
                        Some(_) => or_scaled(&listed, &lc.rates),
                        None => lc.rates.scaled(factor),
                    }))
                }
                _ => None,
            };
            tiers[tier as usize] = Some(TierPrice::Rates {
                rates: Box::new(own),
                long_context: long,
            });
        }
    }
    Some(PricePeriod {
        effective: since(),
        rates,
        long_context,
        tiers,
        regions: Vec::new(),
    })
}

/// `own` with every class it lacks taken from `base`, scaled by the ratio of their input rates (a tier or
/// long-context block that lists only input and output keeps the base's cache and audio ratios).
fn or_scaled(own: &Rates, base: &Rates) -> Rates {
    let factor = match (own.get(RateClass::Input), base.get(RateClass::Input)) {
        (Some(o), Some(b)) if !b.is_zero() => o / b,
        _ => Decimal::ONE,
    };
    let scaled = base.scaled(factor);
    let mut out = *own;
    for class in RateClass::ALL {
        if out.get(class).is_none() {
            if let Some(r) = scaled.get(class) {
                out.set(class, r.normalize());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn reads_rates_tiers_and_long_context_exactly() {
        let map = br#"{
          "sample_spec": {"litellm_provider": "one of https://docs.litellm.ai/docs/providers", "mode": "chat"},
          "mistral/magistral-medium-2509": {"litellm_provider": "mistral", "mode": "chat",
            "input_cost_per_token": 2e-06, "output_cost_per_token": 5e-06, "cache_read_input_token_cost": 2e-07},
          "xai/grok-9": {"litellm_provider": "xai", "mode": "chat", "input_cost_per_token": 0.000002,
            "output_cost_per_token": 0.000006, "input_cost_per_token_above_200k_tokens": 0.000004,
            "output_cost_per_token_above_200k_tokens": 0.000012, "input_cost_per_token_batches": 0.0000016,
            "output_cost_per_token_batches": 0.0000048},
          "mistral/free-preview": {"litellm_provider": "mistral", "mode": "chat",
            "input_cost_per_token": 0, "output_cost_per_token": 0},
          "mistral/mistral-embed": {"litellm_provider": "mistral", "mode": "embedding", "input_cost_per_token": 1e-07,
            "output_cost_per_token": 0},
          "acme/unknown": {"litellm_provider": "acme", "mode": "chat", "input_cost_per_token": 1e-06,
            "output_cost_per_token": 1e-06},
          "bedrock/us-east-1/meta.llama3-70b": {"litellm_provider": "bedrock", "mode": "chat",
            "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06}
        }"#;
        let models = parse_map(map, "map.json").unwrap();
        let ids: Vec<(&str, &str)> = models
            .iter()
            .map(|m| (m.provider.as_str(), m.id.as_str()))
            .collect();
        // free, embedding, unknown-provider and region-specific entries are skipped
        assert_eq!(
            ids,
            [("xai", "grok-9"), ("mistral", "magistral-medium-2509")]
        );
        assert!(models.iter().all(|m| m.fallback));
        let grok = &models[0].periods[0];
        // 2e-6 per token × 1M = $2/M; 4e-6 above 200k = $4/M
        assert_eq!(grok.rates.get(RateClass::Input), Some(dec!(2)));
        assert_eq!(grok.rates.get(RateClass::CacheRead), None);
        let lc = grok.long_context.as_ref().unwrap();
        assert_eq!(lc.threshold, 200_000);
        assert_eq!(lc.rates.get(RateClass::Output), Some(dec!(12)));
        match grok.tier(Tier::Batch) {
            Some(TierPrice::Rates { rates, .. }) => {
                assert_eq!(rates.get(RateClass::Input), Some(dec!(1.6)));
                assert_eq!(rates.get(RateClass::Output), Some(dec!(4.8)));
            }
            other => panic!("batch tier: {other:?}"),
        }
        let magistral = &models[1].periods[0];
        // 2e-07 × 1M = $0.20/M cached
        assert_eq!(magistral.rates.get(RateClass::CacheRead), Some(dec!(0.2)));
        assert!(parse_map(b"[1, 2]", "bad.json").is_err());
    }
}
