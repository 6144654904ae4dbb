//! The pricing engine: price tables (built in, plus `--pricing` overrides), model-name resolution, and the
//! computation of one record's cost. It never reads usage files and never aggregates: it prices one
//! record at a time, per request, so whole-request tiers (long context) apply correctly.

use std::collections::HashMap;
use std::path::Path;

use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::record::UsageRecord;

pub mod resolve;
pub mod table;

pub use table::{ModelPrice, PricePeriod, RateClass, Rates, Tier, TierPrice};

/// The price tables compiled into the binary.
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "pricing/openai.toml",
        include_str!("../../pricing/openai.toml"),
    ),
    (
        "pricing/anthropic.toml",
        include_str!("../../pricing/anthropic.toml"),
    ),
    (
        "pricing/google.toml",
        include_str!("../../pricing/google.toml"),
    ),
];

/// How a reported name found its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchKind {
    /// The normalized name is the entry's id or one of its names.
    Exact,
    /// The normalized name matched one of the entry's glob patterns.
    Pattern(String),
    /// The snapshot date was stripped: `gpt-4o-2024-08-06` → `gpt-4o`.
    Snapshot,
}

/// A resolved name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelMatch {
    pub index: usize,
    pub normalized: String,
    pub kind: MatchKind,
}

/// Why a record has no price. Every unpriced record is listed, never counted as $0.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unpriced {
    UnknownModel,
    /// The served tier has no rate in the period (`flex` on a model without flex pricing).
    NoTierRate(String),
    /// A class with tokens has no rate (`audio_input` on a text-only entry).
    NoRate(&'static str),
}

impl std::fmt::Display for Unpriced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unpriced::UnknownModel => f.write_str("no price table entry"),
            Unpriced::NoTierRate(t) => write!(f, "no rate for service tier '{t}'"),
            Unpriced::NoRate(c) => write!(f, "no '{c}' rate"),
        }
    }
}

/// All price tables, indexed by name.
#[derive(Debug, Clone, Default)]
pub struct PriceBook {
    models: Vec<ModelPrice>,
    exact: HashMap<String, usize>,
    patterns: Vec<(wildmatch::WildMatch, String, usize)>,
}

impl PriceBook {
    /// The built-in tables.
    pub fn built_in() -> Result<PriceBook> {
        let mut book = PriceBook::default();
        for (origin, text) in BUILT_IN {
            book.add(table::parse_table(text, origin)?, false)?;
        }
        Ok(book)
    }

    /// The built-in tables plus override files (or folders of `.toml` files), later ones winning.
    pub fn load(overrides: &[impl AsRef<Path>]) -> Result<PriceBook> {
        let mut book = PriceBook::built_in()?;
        for path in overrides {
            let path = path.as_ref();
            let mut files = Vec::new();
            if path.is_dir() {
                let entries = std::fs::read_dir(path).map_err(|e| Error::io(path, e))?;
                for entry in entries {
                    let p = entry.map_err(|e| Error::io(path, e))?.path();
                    if p.extension().is_some_and(|e| e == "toml") {
                        files.push(p);
                    }
                }
                files.sort();
            } else {
                files.push(path.to_path_buf());
            }
            for file in files {
                let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
                book.add(
                    table::parse_table(&text, &file.display().to_string())?,
                    true,
                )?;
            }
        }
        Ok(book)
    }

    /// Adds entries. An override replaces a built-in entry with the same id; within one layer a name may
    /// belong to one entry only.
    fn add(&mut self, models: Vec<ModelPrice>, is_override: bool) -> Result<()> {
        for model in models {
            let existing = self
                .exact
                .get(&model.id)
                .copied()
                .filter(|&i| self.models[i].id == model.id);
            let index = match existing {
                Some(i) if is_override => {
                    self.exact.retain(|_, v| *v != i);
                    self.patterns.retain(|(_, _, v)| *v != i);
                    self.models[i] = model;
                    i
                }
                Some(_) => {
                    return Err(Error::Config {
                        file: model.origin.clone(),
                        message: format!("model '{}' is defined twice", model.id),
                    })
                }
                None => {
                    self.models.push(model);
                    self.models.len() - 1
                }
            };
            let model = &self.models[index];
            for name in std::iter::once(&model.id).chain(model.names.iter()) {
                if let Some(&other) = self.exact.get(name) {
                    if other != index && !is_override {
                        return Err(Error::Config {
                            file: model.origin.clone(),
                            message: format!(
                                "name '{name}' of model '{}' already belongs to '{}'",
                                model.id, self.models[other].id
                            ),
                        });
                    }
                }
                self.exact.insert(name.clone(), index);
            }
            for p in &model.patterns {
                self.patterns
                    .push((wildmatch::WildMatch::new(p), p.clone(), index));
            }
        }
        Ok(())
    }

    pub fn models(&self) -> &[ModelPrice] {
        &self.models
    }

    pub fn model(&self, index: usize) -> &ModelPrice {
        &self.models[index]
    }

    fn lookup(&self, name: &str) -> Option<(usize, MatchKind)> {
        if let Some(&i) = self.exact.get(name) {
            return Some((i, MatchKind::Exact));
        }
        self.patterns
            .iter()
            .find(|(w, _, _)| w.matches(name))
            .map(|(_, p, i)| (*i, MatchKind::Pattern(p.clone())))
    }

    /// Finds the entry for a reported model name (see `pricing/README.md` for the rules).
    pub fn resolve(&self, reported: &str) -> Option<ModelMatch> {
        let normalized = resolve::normalize(reported);
        if let Some((index, kind)) = self.lookup(&normalized) {
            return Some(ModelMatch {
                index,
                normalized,
                kind,
            });
        }
        let base = resolve::strip_snapshot(&normalized)?;
        let (index, kind) = self.lookup(base)?;
        let kind = if kind == MatchKind::Exact {
            MatchKind::Snapshot
        } else {
            kind
        };
        Some(ModelMatch {
            index,
            normalized,
            kind,
        })
    }

    /// Prices one record with the entry at `index`, at the rates in force at its start time.
    pub fn price(&self, index: usize, record: &UsageRecord) -> Result<Decimal, Unpriced> {
        let period = self.models[index].period_at(record.start.date_naive());
        let long = match (&period.long_context, record.long_context) {
            (None, _) => false,
            (Some(_), Some(given)) => given,
            // A bucket of many requests says nothing about each request's size: standard rates.
            (Some(lc), None) => record.requests <= 1 && record.tokens.prompt_total() > lc.threshold,
        };
        let base = match (&period.long_context, long) {
            (Some(lc), true) => &lc.rates,
            _ => &period.rates,
        };
        let rates = match served_tier(record)? {
            None => *base,
            Some(tier) => match period.tier(tier) {
                None => return Err(Unpriced::NoTierRate(tier.key().to_string())),
                Some(TierPrice::Multiplier(m)) => base.scaled(*m),
                Some(TierPrice::Rates {
                    rates,
                    long_context,
                }) => match (long, long_context) {
                    (false, _) => **rates,
                    (true, Some(lc)) => **lc,
                    (true, None) => {
                        return Err(Unpriced::NoTierRate(format!("{} long-context", tier.key())))
                    }
                },
            },
        };
        cost(&rates, record)
    }
}

/// The tier whose rates apply: batch when the record was a batch request, else the served tier.
/// `None` is standard pricing.
fn served_tier(record: &UsageRecord) -> Result<Option<Tier>, Unpriced> {
    if record.batch {
        return Ok(Some(Tier::Batch));
    }
    let Some(tier) = record.service_tier.as_deref() else {
        return Ok(None);
    };
    let lower = tier.to_ascii_lowercase();
    Ok(match lower.as_str() {
        "" | "default" | "auto" | "standard" | "on_demand" | "standard_only" => None,
        "batch" => Some(Tier::Batch),
        "flex" | "flex_discount" | "on_demand_flex" => Some(Tier::Flex),
        "priority" | "priority_on_demand" | "on_demand_priority" => Some(Tier::Priority),
        _ => return Err(Unpriced::NoTierRate(tier.to_string())),
    })
}

/// Σ tokens × rate / 1M, plus web searches × rate / 1k. A class with tokens and no rate makes the record
/// unpriced.
fn cost(rates: &Rates, record: &UsageRecord) -> Result<Decimal, Unpriced> {
    let t = &record.tokens;
    let per_million = |count: u64, class: RateClass| -> Result<Decimal, Unpriced> {
        if count == 0 {
            return Ok(Decimal::ZERO);
        }
        let rate = rates.get(class).ok_or(Unpriced::NoRate(class.key()))?;
        Ok(Decimal::from(count) * rate)
    };
    let reasoning_apart = rates.get(RateClass::Reasoning).is_some();
    let (plain_output, reasoning) = if reasoning_apart {
        (t.output.saturating_sub(t.reasoning), t.reasoning)
    } else {
        (t.output, 0)
    };
    let tokens = per_million(t.input, RateClass::Input)?
        + per_million(t.cache_read, RateClass::CacheRead)?
        + per_million(t.cache_write_5m, RateClass::CacheWrite5m)?
        + per_million(t.cache_write_1h, RateClass::CacheWrite1h)?
        + per_million(plain_output, RateClass::Output)?
        + per_million(reasoning, RateClass::Reasoning)?
        + per_million(t.audio_input, RateClass::AudioInput)?
        + per_million(t.audio_output, RateClass::AudioOutput)?
        + per_million(t.image_input, RateClass::ImageInput)?
        + per_million(t.image_output, RateClass::ImageOutput)?;
    let searches = per_million(t.web_search_requests, RateClass::WebSearch)?;
    Ok(tokens / Decimal::from(1_000_000) + searches / Decimal::from(1_000))
}

/// Resolves names once per distinct reported model: a record stream repeats a handful of names.
pub struct Pricer<'a> {
    book: &'a PriceBook,
    cache: HashMap<String, Option<usize>>,
}

/// One record's price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Priced {
    /// The canonical model id and the cost.
    Cost { model: usize, cost: Decimal },
    /// Resolved (or not, `model` None) but not priceable.
    Unpriced {
        model: Option<usize>,
        reason: Unpriced,
    },
}

impl<'a> Pricer<'a> {
    pub fn new(book: &'a PriceBook) -> Pricer<'a> {
        Pricer {
            book,
            cache: HashMap::new(),
        }
    }

    pub fn book(&self) -> &'a PriceBook {
        self.book
    }

    pub fn resolve(&mut self, reported: &str) -> Option<usize> {
        if let Some(hit) = self.cache.get(reported) {
            return *hit;
        }
        let hit = self.book.resolve(reported).map(|m| m.index);
        self.cache.insert(reported.to_string(), hit);
        hit
    }

    pub fn price(&mut self, record: &UsageRecord) -> Priced {
        match self.resolve(&record.model) {
            None => Priced::Unpriced {
                model: None,
                reason: Unpriced::UnknownModel,
            },
            Some(model) => match self.book.price(model, record) {
                Ok(cost) => Priced::Cost { model, cost },
                Err(reason) => Priced::Unpriced {
                    model: Some(model),
                    reason,
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Provenance, Provider, TokenCounts};
    use chrono::{TimeZone, Utc};
    use rust_decimal_macros::dec;

    fn record(model: &str, date: (i32, u32, u32), tokens: TokenCounts) -> UsageRecord {
        let at = Provenance {
            file: "t".into(),
            line: 1,
        };
        let start = Utc
            .with_ymd_and_hms(date.0, date.1, date.2, 12, 0, 0)
            .unwrap();
        let mut r = UsageRecord::new(
            "id".into(),
            "api-log",
            Provider::OpenAI,
            model.into(),
            start,
            at,
        );
        r.tokens = tokens;
        r
    }

    fn priced(book: &PriceBook, r: &UsageRecord) -> Result<Decimal, Unpriced> {
        let m = book.resolve(&r.model).ok_or(Unpriced::UnknownModel)?;
        book.price(m.index, r)
    }

    fn io(input: u64, output: u64) -> TokenCounts {
        TokenCounts {
            input,
            output,
            ..TokenCounts::default()
        }
    }

    #[test]
    fn long_context_reprices_the_whole_request() {
        let book = PriceBook::built_in().unwrap();
        // 250_000 > 200_000: every token at the long-context rate:
        // 250_000 × $6/M + 1_000 × $22.50/M = $1.50 + $0.0225 = $1.5225 (a marginal split would say $0.915)
        let r = record(
            "claude-sonnet-4-5-20250929",
            (2026, 10, 3),
            io(250_000, 1_000),
        );
        assert_eq!(priced(&book, &r), Ok(dec!(1.5225)));
        // exactly 200_000 is not above the threshold: 200_000 × $3/M + 1_000 × $15/M = $0.615
        let r = record(
            "claude-sonnet-4-5-20250929",
            (2026, 10, 3),
            io(200_000, 1_000),
        );
        assert_eq!(priced(&book, &r), Ok(dec!(0.615)));
        // cache reads count toward the threshold: 200_000 uncached + 50_000 cached on gemini-2.5-pro:
        // 200_000 × $2.50/M + 50_000 × $0.25/M + 1_000 × $15/M = $0.50 + $0.0125 + $0.015 = $0.5275
        let t = TokenCounts {
            input: 200_000,
            cache_read: 50_000,
            output: 1_000,
            ..TokenCounts::default()
        };
        let r = record("gemini-2.5-pro", (2026, 10, 3), t);
        assert_eq!(priced(&book, &r), Ok(dec!(0.5275)));
    }

    #[test]
    fn every_cache_class_has_its_own_rate() {
        let book = PriceBook::built_in().unwrap();
        // claude-sonnet-4-5: 1_000 × $3 + 100_000 × $0.30 + 20_000 × $3.75 (5m) + 10_000 × $6 (1h)
        //   + 2_000 × $15 = 3_000 + 30_000 + 75_000 + 60_000 + 30_000 = 198_000 µ$ = $0.198
        let t = TokenCounts {
            input: 1_000,
            cache_read: 100_000,
            cache_write_5m: 20_000,
            cache_write_1h: 10_000,
            output: 2_000,
            ..TokenCounts::default()
        };
        let r = record("claude-sonnet-4-5", (2026, 10, 3), t);
        assert_eq!(priced(&book, &r), Ok(dec!(0.198)));
    }

    #[test]
    fn prices_follow_the_date_of_the_record() {
        let book = PriceBook::built_in().unwrap();
        // o3 before the 2025-06-10 cut: 1M × $10 + 1M × $40 = $50; after: 1M × $2 + 1M × $8 = $10
        let before = record("o3-2025-04-16", (2025, 6, 9), io(1_000_000, 1_000_000));
        let after = record("o3-2025-04-16", (2025, 6, 10), io(1_000_000, 1_000_000));
        assert_eq!(priced(&book, &before), Ok(dec!(50)));
        assert_eq!(priced(&book, &after), Ok(dec!(10)));
    }

    #[test]
    fn snapshots_with_their_own_price_keep_it() {
        let book = PriceBook::built_in().unwrap();
        // gpt-4o-2024-05-13: 1M × $5 + 1M × $15 = $20; gpt-4o-2024-08-06: 1M × $2.50 + 1M × $10 = $12.50
        let old = record("gpt-4o-2024-05-13", (2025, 1, 1), io(1_000_000, 1_000_000));
        let new = record("gpt-4o-2024-08-06", (2025, 1, 1), io(1_000_000, 1_000_000));
        assert_eq!(priced(&book, &old), Ok(dec!(20)));
        assert_eq!(priced(&book, &new), Ok(dec!(12.5)));
        // a snapshot the table does not list falls back to its base entry
        assert_eq!(
            book.resolve("gpt-4o-2026-01-01").unwrap().kind,
            MatchKind::Snapshot
        );
    }

    #[test]
    fn tiers_use_their_rates_and_missing_tiers_are_reported() {
        let book = PriceBook::built_in().unwrap();
        // gpt-5 flex = 0.5 ×: (1M × $1.25 + 1M × $10) × 0.5 = $5.625
        let mut r = record("gpt-5", (2026, 10, 3), io(1_000_000, 1_000_000));
        r.service_tier = Some("flex".into());
        assert_eq!(priced(&book, &r), Ok(dec!(5.625)));
        // gpt-5 priority has its own rates: 1M × $2.50 + 1M × $20 = $22.50
        r.service_tier = Some("priority".into());
        assert_eq!(priced(&book, &r), Ok(dec!(22.5)));
        // "default" is the standard rate: $1.25 + $10 = $11.25
        r.service_tier = Some("default".into());
        assert_eq!(priced(&book, &r), Ok(dec!(11.25)));
        // gpt-4.1 has no flex tier: unpriced, not silently standard
        let mut r = record("gpt-4.1", (2026, 10, 3), io(1_000, 1_000));
        r.service_tier = Some("flex".into());
        assert_eq!(priced(&book, &r), Err(Unpriced::NoTierRate("flex".into())));
        r.service_tier = Some("scale".into());
        assert_eq!(priced(&book, &r), Err(Unpriced::NoTierRate("scale".into())));
    }

    #[test]
    fn batch_halves_tokens_but_not_search_fees() {
        let book = PriceBook::built_in().unwrap();
        // claude-opus-4-1 batch: (1M × $15 + 1M × $75) × 0.5 = $45, plus 3 searches × $10/1k = $0.03
        let mut t = io(1_000_000, 1_000_000);
        t.web_search_requests = 3;
        let mut r = record("claude-opus-4-1-20250805", (2026, 10, 3), t);
        r.batch = true;
        assert_eq!(priced(&book, &r), Ok(dec!(45.03)));
    }

    #[test]
    fn names_never_borrow_another_version() {
        let book = PriceBook::built_in().unwrap();
        let a = book.resolve("claude-3-5-sonnet-20241022").unwrap().index;
        let b = book.resolve("claude-3-7-sonnet-20250219").unwrap().index;
        assert_ne!(book.model(a).id, book.model(b).id);
        assert!(book.resolve("claude-3-6-sonnet").is_none());
        assert!(book.resolve("gpt-9-preview").is_none());
        assert_eq!(
            book.model(book.resolve("gpt-4o-mini-2024-07-18").unwrap().index)
                .id,
            "gpt-4o-mini"
        );
        assert_eq!(
            book.model(book.resolve("openai/gpt-4.1-mini").unwrap().index)
                .id,
            "gpt-4.1-mini"
        );
        let bedrock =
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0";
        assert_eq!(
            book.model(book.resolve(bedrock).unwrap().index).id,
            "claude-3-haiku"
        );
        assert_eq!(
            book.model(book.resolve("claude-sonnet-4@20250514").unwrap().index)
                .id,
            "claude-sonnet-4"
        );
    }

    #[test]
    fn a_class_without_a_rate_is_unpriced() {
        let book = PriceBook::built_in().unwrap();
        // gpt-4.1 has no audio rate: audio tokens cannot be priced at $0
        let t = TokenCounts {
            input: 10,
            audio_input: 100,
            ..TokenCounts::default()
        };
        let r = record("gpt-4.1", (2026, 10, 3), t);
        assert_eq!(priced(&book, &r), Err(Unpriced::NoRate("audio_input")));
    }

    #[test]
    fn overrides_replace_built_in_entries() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("deal.toml");
        std::fs::write(
            &file,
            "provider = \"openai\"\n[[model]]\nid = \"gpt-4o\"\n[[model.price]]\neffective = \"2024-01-01\"\ninput = \"2\"\noutput = \"8\"\n",
        )
        .unwrap();
        let book = PriceBook::load(&[file]).unwrap();
        // negotiated: 1M × $2 + 1M × $8 = $10, and the snapshot name still resolves to the entry
        let r = record("gpt-4o-2024-11-20", (2026, 10, 3), io(1_000_000, 1_000_000));
        assert_eq!(priced(&book, &r), Ok(dec!(10)));
    }
}
