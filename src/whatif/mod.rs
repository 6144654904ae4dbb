//! What-if pricing: the same usage repriced under a scenario (another model, another provider's table,
//! another service tier, more cache hits, another cache lifetime, a negotiated price table, or open-weight
//! models on one's own GPUs).
//!
//! A scenario never invents usage: it moves a record's tokens (between models, tiers or token classes) and
//! prices the moved record through the same [`PriceBook`] engine as every report, so long-context tiers,
//! regions and missing rates behave exactly as they do for real usage. A record the scenario cannot price
//! is reported as unpriced, never as $0.
//!
//! ```text
//! let priced = whatif::reprice(&records, &scenario, &book);   // one (current, scenario) pair per record
//! ```

use rust_decimal::{Decimal, RoundingStrategy};

use crate::decimal::parse_decimal;
use crate::error::{Error, Result};
use crate::pricing::{PriceBook, Priced, Pricer, RateClass, Unpriced};
use crate::record::{Provider, Text, TokenCounts, UsageRecord};

pub mod render;

/// `--swap FROM=TO`: usage of models matching FROM (canonical id or reported name, `*` wildcards) is
/// priced as TO.
#[derive(Debug, Clone)]
pub struct Swap {
    pub from: String,
    pattern: wildmatch::WildMatch,
    pub to: String,
}

impl Swap {
    pub fn parse(s: &str) -> Result<Swap> {
        let (from, to) = s
            .split_once('=')
            .map(|(a, b)| (a.trim(), b.trim()))
            .filter(|(a, b)| !a.is_empty() && !b.is_empty())
            .ok_or_else(|| {
                Error::usage(format!(
                    "invalid --swap '{s}': expected FROM=TO, e.g. claude-opus-4-1=claude-sonnet-4-5 or 'gpt-4o*=gpt-4.1-mini'"
                ))
            })?;
        Ok(Swap::new(from, to))
    }

    /// The swap of models matching `from` (a pattern, `*` and `?` wild) for `to`, both as given.
    pub fn new(from: &str, to: &str) -> Swap {
        let from = from.to_ascii_lowercase();
        Swap {
            pattern: wildmatch::WildMatch::new(&from),
            from,
            to: to.to_ascii_lowercase(),
        }
    }

    fn matches(&self, current: Option<&str>, reported: &str) -> bool {
        current.is_some_and(|c| self.pattern.matches(c))
            || self.pattern.matches(&reported.to_ascii_lowercase())
    }
}

/// `--tier`: the service tier the usage moves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TierMove {
    Standard,
    Batch,
    Flex,
    Priority,
}

impl TierMove {
    pub fn as_str(self) -> &'static str {
        match self {
            TierMove::Standard => "standard",
            TierMove::Batch => "batch",
            TierMove::Flex => "flex",
            TierMove::Priority => "priority",
        }
    }
}

/// `--cache-ttl`: the lifetime every cache write moves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CacheTtl {
    #[value(name = "5m")]
    FiveMinutes,
    #[value(name = "1h")]
    OneHour,
}

impl CacheTtl {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheTtl::FiveMinutes => "5m",
            CacheTtl::OneHour => "1h",
        }
    }
}

/// `--self-hosted MODEL:gpu_hour=USD,tokens_per_second=N[,utilization=U]`: usage of models matching MODEL
/// priced by the GPU hours its tokens would take: `tokens / (N × U × 3600) × USD`.
#[derive(Debug, Clone)]
pub struct SelfHosted {
    pub model: String,
    pattern: wildmatch::WildMatch,
    /// Price of one GPU hour (USD).
    pub gpu_hour: Decimal,
    /// Tokens (prompt and output alike) one GPU processes per second.
    pub tokens_per_second: Decimal,
    /// The share of paid GPU time that does useful work (default 1).
    pub utilization: Decimal,
}

impl SelfHosted {
    pub fn parse(s: &str) -> Result<SelfHosted> {
        let bad = |why: &str| {
            Error::usage(format!(
                "invalid --self-hosted '{s}': {why} (expected MODEL:gpu_hour=USD,tokens_per_second=N[,utilization=U], \
                 e.g. llama-3.3-70b-instruct:gpu_hour=2.50,tokens_per_second=1500,utilization=0.6)"
            ))
        };
        let (model, params) = s
            .split_once(':')
            .filter(|(m, _)| !m.trim().is_empty())
            .ok_or_else(|| bad("no MODEL before ':'"))?;
        let (mut gpu_hour, mut tps, mut utilization) = (None, None, Decimal::ONE);
        for part in params.split(',').filter(|p| !p.trim().is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| bad("a setting has no '='"))?;
            let value = parse_decimal(value)
                .filter(|v| v.is_sign_positive() && !v.is_zero())
                .ok_or_else(|| bad(&format!("'{}' must be a positive number", key.trim())))?;
            match key.trim() {
                "gpu_hour" => gpu_hour = Some(value),
                "tokens_per_second" => tps = Some(value),
                "utilization" if value <= Decimal::ONE => utilization = value,
                "utilization" => return Err(bad("utilization is a share between 0 and 1")),
                other => return Err(bad(&format!("unknown setting '{other}'"))),
            }
        }
        let model = model.trim().to_ascii_lowercase();
        Ok(SelfHosted {
            pattern: wildmatch::WildMatch::new(&model),
            model,
            gpu_hour: gpu_hour.ok_or_else(|| bad("gpu_hour is missing"))?,
            tokens_per_second: tps.ok_or_else(|| bad("tokens_per_second is missing"))?,
            utilization,
        })
    }

    /// GPU hours for `tokens`: tokens / (tokens_per_second × utilization × 3600).
    pub fn hours(&self, tokens: u64) -> Decimal {
        Decimal::from(tokens) / (self.tokens_per_second * self.utilization * Decimal::from(3600))
    }

    /// The cost of `tokens`, to a billionth of a dollar (a division rarely ends).
    fn cost(&self, tokens: &TokenCounts) -> Decimal {
        (self.hours(tokens.total()) * self.gpu_hour)
            .round_dp_with_strategy(9, RoundingStrategy::MidpointNearestEven)
            .normalize()
    }
}

/// A price book for the scenario only, and what it was read from.
#[derive(Debug, Clone)]
pub struct ScenarioPrices {
    pub label: String,
    pub book: PriceBook,
}

/// Everything a what-if changes. The default scenario changes nothing (scenario cost = cost).
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    pub swaps: Vec<Swap>,
    /// Scales the tokens of swapped usage (tokenizer differences), rounded to whole tokens.
    pub token_ratio: Option<Decimal>,
    /// Price on this provider's table (`--on`), in this region (`--region`).
    pub on: Option<Provider>,
    pub region: Option<String>,
    pub tier: Option<TierMove>,
    /// The share of uncached input that becomes cache reads (`--cache-hit`).
    pub cache_hit: Option<Decimal>,
    pub cache_ttl: Option<CacheTtl>,
    /// `--trim-context MARGIN`: a request whose prompt is above its model's long-context threshold by at
    /// most this share is trimmed to the threshold (uncached input first, then cache reads, then writes).
    pub trim_context: Option<Decimal>,
    /// The scenario's own price table (`--scenario-pricing`): the current prices plus that file.
    pub prices: Option<ScenarioPrices>,
    pub self_hosted: Vec<SelfHosted>,
}

impl Scenario {
    /// Whether the scenario changes anything.
    pub fn is_empty(&self) -> bool {
        self.swaps.is_empty()
            && self.on.is_none()
            && self.region.is_none()
            && self.tier.is_none()
            && self.cache_hit.is_none()
            && self.cache_ttl.is_none()
            && self.trim_context.is_none()
            && self.prices.is_none()
            && self.self_hosted.is_empty()
    }

    /// `--cache-hit SHARE`: a fraction (`0.6`) or a percentage (`60%`), from 0 to 1.
    pub fn parse_share(s: &str, flag: &str) -> Result<Decimal> {
        let t = s.trim();
        let value = match t.strip_suffix('%') {
            Some(p) => parse_decimal(p).map(|v| v / Decimal::ONE_HUNDRED),
            None => parse_decimal(t),
        };
        value
            .filter(|v| !v.is_sign_negative() && *v <= Decimal::ONE)
            .ok_or_else(|| {
                Error::usage(format!(
                    "invalid {flag} '{s}': expected a share from 0 to 1 (0.6) or a percentage (60%)"
                ))
            })
    }

    /// `--token-ratio R`: a positive number.
    pub fn parse_ratio(s: &str) -> Result<Decimal> {
        parse_decimal(s)
            .filter(|v| v.is_sign_positive() && !v.is_zero())
            .ok_or_else(|| {
                Error::usage(format!(
                    "invalid --token-ratio '{s}': expected a positive number (1.1: the new model counts 10% more tokens)"
                ))
            })
    }

    /// Every assumption, one line each, in the order they apply.
    pub fn assumptions(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for s in &self.swaps {
            lines.push(format!(
                "usage of {} is priced as {} (the same tokens)",
                s.from, s.to
            ));
        }
        if let Some(r) = self.token_ratio {
            lines.push(format!(
                "swapped usage counts {} times its tokens (tokenizer difference), rounded to whole tokens",
                r.normalize()
            ));
        }
        if let Some(p) = self.on {
            lines.push(match &self.region {
                Some(r) => format!("priced on {p}'s price table, region {r}"),
                None => format!("priced on {p}'s price table, at its base rates (no region)"),
            });
        } else if let Some(r) = &self.region {
            lines.push(format!("priced in region {r}"));
        }
        if let Some(t) = self.tier {
            lines.push(format!("served at the {} tier", t.as_str()));
        }
        if let Some(h) = self.cache_hit {
            lines.push(format!(
                "{}% of uncached input becomes cache reads on models with a cache-read rate; on models that \
                 bill cache writes above the input rate, the rest of the uncached input is written to the \
                 cache ({} writes)",
                (h * Decimal::ONE_HUNDRED).normalize(),
                self.cache_ttl.unwrap_or(CacheTtl::FiveMinutes).as_str()
            ));
        }
        if let Some(t) = self.cache_ttl {
            let from = match t {
                CacheTtl::FiveMinutes => "1h",
                CacheTtl::OneHour => "5m",
            };
            lines.push(format!(
                "{from} cache writes are written as {} writes",
                t.as_str()
            ));
        }
        if let Some(m) = self.trim_context {
            lines.push(format!(
                "prompts up to {}% over a long-context threshold are trimmed to it (uncached input first), \
                 and priced at the standard rates",
                (m * Decimal::ONE_HUNDRED).normalize()
            ));
        }
        if let Some(p) = &self.prices {
            lines.push(format!("prices from {}", p.label));
        }
        for h in &self.self_hosted {
            lines.push(format!(
                "usage of {} runs on own GPUs at ${}/GPU-hour, {} tokens/s per GPU (prompt and output alike), \
                 {}% utilization: cost = tokens / ({} × {} × 3600) × {}",
                h.model,
                h.gpu_hour.normalize(),
                h.tokens_per_second.normalize(),
                (h.utilization * Decimal::ONE_HUNDRED).normalize(),
                h.tokens_per_second.normalize(),
                h.utilization.normalize(),
                h.gpu_hour.normalize()
            ));
        }
        lines
    }
}

/// One record's price now and under the scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repriced {
    pub current: Priced,
    /// The scenario's cost, or why it cannot be priced.
    pub scenario: std::result::Result<Decimal, Unpriced>,
}

/// Prices records now and under a scenario, resolving names once per distinct model.
pub struct ScenarioPricer<'a> {
    scenario: &'a Scenario,
    /// The scenario's prices: `book` unless the scenario brings its own table.
    pricer: Pricer<'a>,
}

impl<'a> ScenarioPricer<'a> {
    /// `book`: the current prices, used unless the scenario brings its own.
    pub fn new(scenario: &'a Scenario, book: &'a PriceBook) -> ScenarioPricer<'a> {
        let prices = scenario.prices.as_ref().map_or(book, |p| &p.book);
        ScenarioPricer {
            scenario,
            pricer: Pricer::new(prices),
        }
    }

    /// The record's cost under the scenario. `current`: the canonical id its current price resolved to.
    pub fn price(
        &mut self,
        record: &UsageRecord,
        current: Option<&str>,
    ) -> std::result::Result<Decimal, Unpriced> {
        if record.tokens.is_empty() {
            return Ok(Decimal::ZERO);
        }
        let moved = self.moved(record, current);
        let model_now = self
            .pricer
            .resolve_for(moved.provider, &moved.model)
            .map(|i| self.pricer.book().model(i).id.as_str())
            .unwrap_or(moved.model.as_str());
        if let Some(h) = self
            .scenario
            .self_hosted
            .iter()
            .find(|h| h.pattern.matches(model_now) || h.pattern.matches(&moved.model))
        {
            return Ok(h.cost(&moved.tokens));
        }
        match self.pricer.price(&moved) {
            Priced::Cost { cost, .. } => Ok(cost),
            Priced::Unpriced { reason, .. } => Err(reason),
        }
    }

    /// The record as the scenario moves it: model, provider and region, tier, cache classes.
    pub fn moved(&mut self, record: &UsageRecord, current: Option<&str>) -> UsageRecord {
        let s = self.scenario;
        let mut r = record.clone();
        let swap = s.swaps.iter().find(|w| w.matches(current, &record.model));
        if let Some(swap) = swap {
            // The region a Bedrock profile prefix gave stays the record's region.
            r.region = crate::pricing::record_region(record).map(Text::from);
            r.model = Text::from(swap.to.as_str());
            r.long_context = None;
            if let Some(ratio) = s.token_ratio {
                scale_tokens(&mut r.tokens, ratio);
            }
            // A model the record's provider does not sell is priced from its own maker's table.
            if self.pricer.resolve_for(r.provider, &r.model).is_none() {
                if let Some(i) = self.pricer.resolve(&r.model) {
                    if let Some(p) = Provider::parse(&self.pricer.book().model(i).provider) {
                        r.provider = p;
                    }
                }
            }
        }
        if let Some(p) = s.on {
            if swap.is_none() {
                r.model = Text::from(current.unwrap_or(&record.model));
            }
            r.provider = p;
            r.region = s.region.as_deref().map(Text::from);
        } else if let Some(region) = &s.region {
            if swap.is_none() {
                r.model = Text::from(current.unwrap_or(&record.model));
            }
            r.region = Some(Text::from(region.as_str()));
        }
        match s.tier {
            None => {}
            Some(TierMove::Batch) => {
                r.batch = true;
                r.service_tier = None;
            }
            Some(TierMove::Standard) => {
                r.batch = false;
                r.service_tier = None;
            }
            Some(t @ (TierMove::Flex | TierMove::Priority)) => {
                r.batch = false;
                r.service_tier = Some(Text::from(t.as_str()));
            }
        }
        if let Some(margin) = s.trim_context {
            self.trim_to_threshold(&mut r, margin);
        }
        if let Some(share) = s.cache_hit {
            self.move_to_cache(&mut r, share);
        }
        if let Some(ttl) = s.cache_ttl {
            let t = &mut r.tokens;
            let (to, from) = match ttl {
                CacheTtl::FiveMinutes => (&mut t.cache_write_5m, &mut t.cache_write_1h),
                CacheTtl::OneHour => (&mut t.cache_write_1h, &mut t.cache_write_5m),
            };
            *to = to.saturating_add(std::mem::take(from));
        }
        r
    }

    /// `--trim-context`: one request's prompt above its model's long-context threshold by at most
    /// `margin` is cut to the threshold, so it bills at the standard rates.
    fn trim_to_threshold(&mut self, r: &mut UsageRecord, margin: Decimal) {
        let Some(index) = self.pricer.resolve_for(r.provider, &r.model) else {
            return;
        };
        let period = self
            .pricer
            .book()
            .model(index)
            .period_at(r.start.date_naive());
        let Some(threshold) = period.long_context.as_ref().map(|lc| lc.threshold) else {
            return;
        };
        let prompt = r.tokens.prompt_total();
        let within = Decimal::from(prompt) <= Decimal::from(threshold) * (Decimal::ONE + margin);
        if !crate::pricing::is_one_request(r)
            || r.long_context == Some(false)
            || prompt <= threshold
            || !within
        {
            return;
        }
        let mut excess = prompt - threshold;
        let t = &mut r.tokens;
        for class in [
            &mut t.input,
            &mut t.cache_read,
            &mut t.cache_write_5m,
            &mut t.cache_write_1h,
        ] {
            let cut = excess.min(*class);
            *class -= cut;
            excess -= cut;
        }
        r.long_context = None;
    }

    /// `--cache-hit`: SHARE of uncached input becomes cache reads where the model has a cache-read rate;
    /// where it bills cache writes above the input rate, the rest is written (a miss writes the cache).
    fn move_to_cache(&mut self, r: &mut UsageRecord, share: Decimal) {
        let Some(index) = self.pricer.resolve_for(r.provider, &r.model) else {
            return;
        };
        let rates = self
            .pricer
            .book()
            .model(index)
            .period_at(r.start.date_naive())
            .rates;
        let (Some(input), Some(_)) = (rates.get(RateClass::Input), rates.get(RateClass::CacheRead))
        else {
            return;
        };
        let ttl = self.scenario.cache_ttl.unwrap_or(CacheTtl::FiveMinutes);
        let write_class = match ttl {
            CacheTtl::FiveMinutes => RateClass::CacheWrite5m,
            CacheTtl::OneHour => RateClass::CacheWrite1h,
        };
        let t = &mut r.tokens;
        let hits = whole_tokens(Decimal::from(t.input) * share).min(t.input);
        let rest = t.input - hits;
        t.cache_read = t.cache_read.saturating_add(hits);
        t.input = rest;
        if rates.get(write_class).is_some_and(|w| w > input) {
            match ttl {
                CacheTtl::FiveMinutes => t.cache_write_5m = t.cache_write_5m.saturating_add(rest),
                CacheTtl::OneHour => t.cache_write_1h = t.cache_write_1h.saturating_add(rest),
            }
            t.input = 0;
        }
    }
}

/// A token count rounded to the nearest whole token, halves up.
fn whole_tokens(d: Decimal) -> u64 {
    use rust_decimal::prelude::ToPrimitive;
    d.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .to_u64()
        .unwrap_or(u64::MAX)
}

/// Every token class × `ratio`, rounded to whole tokens (counted units such as searches are unchanged).
fn scale_tokens(t: &mut TokenCounts, ratio: Decimal) {
    for n in [
        &mut t.input,
        &mut t.cache_read,
        &mut t.cache_read_audio,
        &mut t.cache_write_5m,
        &mut t.cache_write_1h,
        &mut t.output,
        &mut t.reasoning,
        &mut t.audio_input,
        &mut t.audio_output,
        &mut t.image_input,
        &mut t.image_output,
    ] {
        *n = whole_tokens(Decimal::from(*n) * ratio);
    }
}

/// Prices every record now (with `book`) and under `scenario` (with the scenario's own prices when it
/// brings some, else `book`).
pub fn reprice(records: &[UsageRecord], scenario: &Scenario, book: &PriceBook) -> Vec<Repriced> {
    let mut now = Pricer::new(book);
    let mut then = ScenarioPricer::new(scenario, book);
    records
        .iter()
        .map(|r| {
            let current = now.price(r);
            let id = match &current {
                Priced::Cost { model, .. }
                | Priced::Unpriced {
                    model: Some(model), ..
                } => Some(book.model(*model).id.as_str()),
                Priced::Unpriced { model: None, .. } => None,
            };
            let scenario = then.price(r, id);
            Repriced { current, scenario }
        })
        .collect()
}

#[cfg(test)]
mod tests;
