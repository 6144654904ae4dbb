//! The pricing engine: price tables (built in, plus `--pricing` overrides), model-name resolution, and the
//! computation of one record's cost. It never reads usage files and never aggregates: it prices one
//! record at a time, per request, so whole-request tiers (long context) apply correctly.

use std::collections::HashMap;
use std::path::Path;

use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::record::{Provider, ToolKind, UsageRecord, UNGROUPED_MODEL};

pub mod litellm;
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
    (
        "pricing/bedrock.toml",
        include_str!("../../pricing/bedrock.toml"),
    ),
    (
        "pricing/azure.toml",
        include_str!("../../pricing/azure.toml"),
    ),
    (
        "pricing/mistral.toml",
        include_str!("../../pricing/mistral.toml"),
    ),
    (
        "pricing/deepseek.toml",
        include_str!("../../pricing/deepseek.toml"),
    ),
    ("pricing/xai.toml", include_str!("../../pricing/xai.toml")),
    (
        "pricing/cohere.toml",
        include_str!("../../pricing/cohere.toml"),
    ),
    (
        "pricing/together.toml",
        include_str!("../../pricing/together.toml"),
    ),
    (
        "pricing/fireworks.toml",
        include_str!("../../pricing/fireworks.toml"),
    ),
    ("pricing/groq.toml", include_str!("../../pricing/groq.toml")),
    (
        "pricing/deepinfra.toml",
        include_str!("../../pricing/deepinfra.toml"),
    ),
];

/// The open-weight model hosts: each prices the same open model (`llama-3.3-70b-instruct`) its own way,
/// so a record whose host is unknown is never priced from one of their tables.
pub const OPEN_MODEL_HOSTS: &[&str] = &["together", "fireworks", "groq", "deepinfra"];

/// Clouds that resell other makers' models under their own prices.
const RESELLERS: &[&str] = &["azure", "bedrock", "openrouter"];

/// The tables a record of `provider` is priced from, in order: the provider's own table first, then the
/// first-party tables of the vendors it resells (Bedrock → Anthropic's Claude, then OpenAI's and Google's
/// open or hosted models; Azure → OpenAI; Google/Vertex → Google, then Anthropic for Claude on Vertex).
/// OpenRouter and unknown providers then also try every other table (see [`PriceBook::resolve_for`]).
pub fn table_order(provider: Provider) -> &'static [&'static str] {
    match provider {
        Provider::OpenAI => &["openai", "anthropic", "google"],
        Provider::Anthropic => &["anthropic", "openai", "google"],
        Provider::Google => &["google", "anthropic", "openai"],
        Provider::Bedrock => &["bedrock", "anthropic", "openai", "google"],
        Provider::Azure => &["azure", "openai", "anthropic", "google"],
        Provider::OpenRouter => &["openrouter", "openai", "anthropic", "google"],
        // First-party APIs of other model makers and the open-model hosts: their own table only. A model
        // they serve is never priced from another provider's table because the name matches.
        Provider::Mistral => &["mistral"],
        Provider::DeepSeek => &["deepseek"],
        Provider::XAi => &["xai"],
        Provider::Cohere => &["cohere"],
        Provider::Together => &["together"],
        Provider::Fireworks => &["fireworks"],
        Provider::Groq => &["groq"],
        Provider::DeepInfra => &["deepinfra"],
        Provider::Other => &["other", "openai", "anthropic", "google"],
    }
}

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
    /// The Azure deployment name the config (`[azure] deployments`) mapped to the model, if any.
    pub deployment: Option<String>,
}

/// Why a record has no price. Every unpriced record is listed, never counted as $0.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unpriced {
    UnknownModel,
    /// A bucketed export without `group_by=model`: usage with no model (see [`UNGROUPED_MODEL`]).
    NotGroupedByModel,
    /// The served tier has no rate in the period (`flex` on a model without flex pricing).
    NoTierRate(String),
    /// A class with tokens has no rate (`audio_input` on a text-only entry).
    NoRate(&'static str),
    /// A built-in tool was called and its per-call fee is not in the tables (`code_execution`, billed
    /// per container-hour, which a response does not report).
    NoToolRate(&'static str),
    /// The period prices by region and has no price (and no `*` default) for the record's region.
    NoRegionRate(String),
    /// Counts times rates do not fit in a decimal (absurd counts or rates): never a panic.
    OutOfRange,
}

impl Unpriced {
    /// Why a record whose model no table knows is unpriced: an ungrouped export's usage has no model.
    fn unresolved(model: &str) -> Unpriced {
        if model == UNGROUPED_MODEL {
            Unpriced::NotGroupedByModel
        } else {
            Unpriced::UnknownModel
        }
    }
}

impl std::fmt::Display for Unpriced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unpriced::UnknownModel => f.write_str("no price table entry"),
            Unpriced::NotGroupedByModel => f.write_str("export not grouped by model"),
            Unpriced::NoTierRate(t) => write!(f, "no rate for service tier '{t}'"),
            Unpriced::NoRate(c) => write!(f, "no '{c}' rate"),
            Unpriced::NoToolRate(t) => write!(f, "no per-call rate for built-in tool '{t}'"),
            Unpriced::NoRegionRate(r) => write!(f, "no rate for region '{r}'"),
            Unpriced::OutOfRange => {
                f.write_str("the cost is out of range (absurd counts or rates)")
            }
        }
    }
}

/// One provider's names: exact names and glob patterns, each pointing at an entry.
#[derive(Debug, Clone, Default)]
struct ProviderNames {
    exact: HashMap<String, usize>,
    patterns: Vec<(wildmatch::WildMatch, String, usize)>,
}

/// All price tables, indexed by (provider, name): `pricing/bedrock.toml` may define `claude-sonnet-4-5`
/// beside Anthropic's own entry of the same id.
#[derive(Debug, Clone, Default)]
pub struct PriceBook {
    models: Vec<ModelPrice>,
    /// Table provider (`openai`, `bedrock`, …) → its names.
    names: HashMap<String, ProviderNames>,
    /// Azure deployment name (lower case) → model name, from the config's `[azure] deployments`.
    deployments: HashMap<String, String>,
    /// The fallback's names (`--pricing-fallback litellm`): consulted only when no curated table has an
    /// entry for the record. Their entries are in `models` too, flagged `fallback`.
    fallback_names: HashMap<String, ProviderNames>,
    /// What the fallback was read from (`LiteLLM price map, snapshot 2026-11-20`).
    fallback_label: Option<String>,
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
        PriceBook::built_in()?.with_overrides(overrides)
    }

    /// These prices plus override files (or folders of `.toml` files), later ones winning (a what-if's
    /// own price table over the current prices).
    pub fn with_overrides(mut self, overrides: &[impl AsRef<Path>]) -> Result<PriceBook> {
        let book = &mut self;
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
        Ok(self)
    }

    /// Sets the Azure deployment → model map (config `[azure] deployments`): an Azure record whose model
    /// is a deployment name is priced as the model it maps to.
    pub fn with_azure_deployments<'a>(
        mut self,
        deployments: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> PriceBook {
        self.deployments = deployments
            .into_iter()
            .map(|(d, m)| (d.trim().to_ascii_lowercase(), m.trim().to_string()))
            .collect();
        self
    }

    /// Adds entries. An override replaces a built-in entry with the same provider and id; within one
    /// layer a name may belong to one entry of a provider only.
    fn add(&mut self, models: Vec<ModelPrice>, is_override: bool) -> Result<()> {
        for model in models {
            let table = self.names.entry(model.provider.clone()).or_default();
            let existing = table
                .exact
                .get(&model.id)
                .copied()
                .filter(|&i| self.models[i].id == model.id);
            let index = match existing {
                Some(i) if is_override => {
                    table.exact.retain(|_, v| *v != i);
                    table.patterns.retain(|(_, _, v)| *v != i);
                    self.models[i] = model;
                    i
                }
                Some(_) => {
                    return Err(Error::Config {
                        file: model.origin.clone(),
                        message: format!(
                            "model '{}' of provider '{}' is defined twice",
                            model.id, model.provider
                        ),
                    })
                }
                None => {
                    self.models.push(model);
                    self.models.len() - 1
                }
            };
            let model = &self.models[index];
            for name in std::iter::once(&model.id).chain(model.names.iter()) {
                if let Some(&other) = table.exact.get(name) {
                    if other != index && !is_override {
                        return Err(Error::Config {
                            file: model.origin.clone(),
                            message: format!(
                                "name '{name}' of model '{}' already belongs to '{}' ({})",
                                model.id, self.models[other].id, model.provider
                            ),
                        });
                    }
                }
                table.exact.insert(name.clone(), index);
            }
            for p in &model.patterns {
                table
                    .patterns
                    .push((wildmatch::WildMatch::new(p), p.clone(), index));
            }
        }
        Ok(())
    }

    /// Adds the fallback (LiteLLM price map entries, see [`litellm::parse_map`]), described by `label`.
    pub fn with_fallback(mut self, models: Vec<ModelPrice>, label: String) -> PriceBook {
        for mut model in models {
            model.fallback = true;
            let table = self
                .fallback_names
                .entry(model.provider.clone())
                .or_default();
            if table.exact.contains_key(&model.id) {
                continue;
            }
            self.models.push(model);
            table.exact.insert(
                self.models[self.models.len() - 1].id.clone(),
                self.models.len() - 1,
            );
        }
        self.fallback_label = Some(label);
        self
    }

    /// What the fallback prices come from, when a fallback is in use.
    pub fn fallback_label(&self) -> Option<&str> {
        self.fallback_label.as_deref()
    }

    /// The curated entries (every table file, built in and `--pricing`), without the fallback's.
    pub fn models(&self) -> &[ModelPrice] {
        let curated = self.models.iter().take_while(|m| !m.fallback).count();
        &self.models[..curated]
    }

    pub fn model(&self, index: usize) -> &ModelPrice {
        &self.models[index]
    }

    fn lookup_in(
        names: &HashMap<String, ProviderNames>,
        table: &str,
        name: &str,
    ) -> Option<(usize, MatchKind)> {
        let names = names.get(table)?;
        if let Some(&i) = names.exact.get(name) {
            return Some((i, MatchKind::Exact));
        }
        names
            .patterns
            .iter()
            .find(|(w, _, _)| w.matches(name))
            .map(|(_, p, i)| (*i, MatchKind::Pattern(p.clone())))
    }

    /// Finds the entry for a reported model name whatever the provider: as a record of an unknown provider
    /// (first-party tables first). See [`PriceBook::resolve_for`].
    pub fn resolve(&self, reported: &str) -> Option<ModelMatch> {
        self.resolve_for(Provider::Other, reported)
    }

    /// Finds the entry for a record of `provider` that reports `reported` (see `pricing/README.md`):
    /// an Azure deployment name is first mapped through `[azure] deployments`; then each table of
    /// [`table_order`] is tried in turn with the normalized name, then without its snapshot date, so a
    /// provider's own entry wins over a first-party one. OpenRouter and unknown providers finally try
    /// every other table in name order, except the open-model hosts' (see [`OPEN_MODEL_HOSTS`]).
    pub fn resolve_for(&self, provider: Provider, reported: &str) -> Option<ModelMatch> {
        let mut deployment = None;
        let mut name = reported;
        if provider == Provider::Azure {
            if let Some(model) = self.deployments.get(&reported.trim().to_ascii_lowercase()) {
                deployment = Some(reported.trim().to_string());
                name = model;
            }
        }
        let normalized = resolve::normalize(name);
        let base = resolve::strip_snapshot(&normalized);
        // Azure meters and deployments write snapshots as `-MMDD` (`gpt-4o-0513`): try the dated ids.
        let azure_dated = if provider == Provider::Azure {
            resolve::azure_snapshot(&normalized)
        } else {
            None
        };
        let order = table_order(provider);
        let mut tables: Vec<&str> = order.to_vec();
        if matches!(provider, Provider::OpenRouter | Provider::Other) {
            let mut rest: Vec<&str> = self
                .names
                .keys()
                .map(String::as_str)
                .filter(|t| !order.contains(t) && !OPEN_MODEL_HOSTS.contains(t))
                .collect();
            // Model makers' own tables before the resellers' (a Mistral model is Mistral's price, not Azure's).
            rest.sort_unstable_by_key(|t| (RESELLERS.contains(t), *t));
            tables.extend(rest);
        }
        let found = |index: usize, kind: MatchKind| ModelMatch {
            index,
            normalized: normalized.clone(),
            kind,
            deployment: deployment.clone(),
        };
        // The curated tables first; the fallback only for a record none of them prices.
        for names in [&self.names, &self.fallback_names] {
            for table in &tables {
                let lookup = |name: &str| Self::lookup_in(names, table, name);
                if let Some((index, kind)) = lookup(&normalized) {
                    return Some(found(index, kind));
                }
                if let Some((dated, undated)) = &azure_dated {
                    for candidate in dated {
                        if let Some((index, MatchKind::Exact)) = lookup(candidate) {
                            return Some(found(index, MatchKind::Exact));
                        }
                    }
                    if let Some((index, kind)) = lookup(undated) {
                        return Some(found(index, snapshot_kind(kind)));
                    }
                }
                if let Some(base) = base {
                    if let Some((index, kind)) = lookup(base) {
                        return Some(found(index, snapshot_kind(kind)));
                    }
                }
            }
        }
        None
    }

    /// Prices one record with the entry at `index`, at the rates in force at its start time, in its
    /// region (see [`record_region`]).
    pub fn price(&self, index: usize, record: &UsageRecord) -> Result<Decimal, Unpriced> {
        self.charge(index, record).map(|c| c.cost)
    }

    /// [`PriceBook::price`], with the part of the cost that is built-in tool fees and whether the
    /// long-context tier applied.
    pub fn charge(&self, index: usize, record: &UsageRecord) -> Result<Charge, Unpriced> {
        let entry = &self.models[index];
        let period = entry.period_at(record.start.date_naive());
        let long = match (&period.long_context, record.long_context) {
            (None, _) => false,
            (Some(_), Some(given)) => given,
            // A bucket of many requests says nothing about each request's size: standard rates.
            (Some(lc), None) => record.requests <= 1 && record.tokens.prompt_total() > lc.threshold,
        };
        self.price_at(index, record, long)
    }

    /// [`PriceBook::price`]'s long-context decision for a sum of records whose prompts were above
    /// `band` (see [`prompt_band`]); `None` when the entry's threshold is not one of the bands.
    fn long_in_band(&self, index: usize, sum: &UsageRecord, band: u64) -> Option<bool> {
        let period = self.models[index].period_at(sum.start.date_naive());
        match (&period.long_context, sum.long_context) {
            (None, _) => Some(false),
            (Some(_), Some(given)) => Some(given),
            (Some(lc), None) if PROMPT_BANDS.contains(&lc.threshold) => Some(band >= lc.threshold),
            (Some(_), None) => None,
        }
    }

    /// [`PriceBook::price`] with the long-context tier decided (`long`).
    fn price_at(&self, index: usize, record: &UsageRecord, long: bool) -> Result<Charge, Unpriced> {
        let entry = &self.models[index];
        let period = entry.period_at(record.start.date_naive());
        let standard = match (&period.long_context, long) {
            (Some(lc), true) => &lc.rates,
            _ => &period.rates,
        };
        // The region: a multiplier on whatever the tier gives, or its own rates in place of the period's.
        let mut region_factor = None;
        let mut region_rates = None;
        // Looked up only where the period has regional rates: most have none, and the lookup makes a
        // lower-case copy of the region.
        let region = if period.regions.is_empty() {
            None
        } else {
            record_region(record)
        };
        if let Some(region) = region.as_deref() {
            match period.region(region) {
                None => return Err(Unpriced::NoRegionRate(region.to_string())),
                Some((_, TierPrice::Multiplier(m))) => region_factor = Some(*m),
                Some((
                    _,
                    TierPrice::Rates {
                        rates,
                        long_context,
                    },
                )) => {
                    region_rates = Some(match (long, long_context) {
                        (false, _) => &**rates,
                        (true, Some(lc)) => &**lc,
                        (true, None) => {
                            return Err(Unpriced::NoRegionRate(format!("{region} long-context")))
                        }
                    })
                }
            }
        }
        // Rates are borrowed from the table, and copied only where a multiplier makes new ones.
        let base = region_rates.unwrap_or(standard);
        let tier_scaled;
        let rates = match served_tier(record)? {
            None => base,
            Some(tier) => match period.tier(tier) {
                None => return Err(Unpriced::NoTierRate(tier.key().to_string())),
                Some(TierPrice::Multiplier(m)) => {
                    tier_scaled = base.scaled(*m);
                    &tier_scaled
                }
                Some(TierPrice::Rates { .. }) if region_rates.is_some() => {
                    return Err(Unpriced::NoTierRate(format!(
                        "{} in region {}",
                        tier.key(),
                        region.as_deref().unwrap_or_default()
                    )))
                }
                Some(TierPrice::Rates {
                    rates,
                    long_context,
                }) => match (long, long_context) {
                    (false, _) => &**rates,
                    (true, Some(lc)) => &**lc,
                    (true, None) => {
                        return Err(Unpriced::NoTierRate(format!("{} long-context", tier.key())))
                    }
                },
            },
        };
        let region_scaled;
        let rates = match region_factor {
            Some(f) => {
                region_scaled = rates.scaled(f);
                &region_scaled
            }
            None => rates,
        };
        let (cost, tool_fees) = cost(rates, entry, record)?;
        Ok(Charge {
            cost,
            tool_fees,
            long_context: long,
        })
    }
}

fn snapshot_kind(kind: MatchKind) -> MatchKind {
    if kind == MatchKind::Exact {
        MatchKind::Snapshot
    } else {
        kind
    }
}

/// The long-context thresholds (prompt tokens) a ledger rollup tells apart: every threshold of the
/// built-in tables and of the LiteLLM snapshot. A table with another threshold is priced from records.
pub const PROMPT_BANDS: [u64; 4] = [100_000, 128_000, 200_000, 272_000];

/// The largest of [`PROMPT_BANDS`] a request's prompt is above, else 0. Also 0 when the prompt size
/// decides nothing: the record says whether it was long, or is a bucket of many requests.
pub fn prompt_band(record: &UsageRecord) -> u64 {
    if record.long_context.is_some() || record.requests > 1 {
        return 0;
    }
    let prompt = record.tokens.prompt_total();
    PROMPT_BANDS
        .iter()
        .rev()
        .find(|&&t| prompt > t)
        .copied()
        .unwrap_or(0)
}

/// The region a record is priced in, lower case: the cross-region inference profile of a Bedrock model
/// id (`global.`, `us.`, `eu.`, `apac.` …, also inside an inference-profile ARN) wins, because that is
/// what Bedrock bills; else the record's own `region`.
pub fn record_region(record: &UsageRecord) -> Option<String> {
    crate::region::profile_prefix(&record.model)
        .map(str::to_string)
        .or_else(|| {
            record
                .region
                .as_deref()
                .map(|r| r.trim().to_ascii_lowercase())
                .filter(|r| !r.is_empty())
        })
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
    // Compared without case, and without a lower-case copy: this runs for every record.
    const STANDARD: [&str; 6] = [
        "",
        "default",
        "auto",
        "standard",
        "on_demand",
        "standard_only",
    ];
    const FLEX: [&str; 3] = ["flex", "flex_discount", "on_demand_flex"];
    const PRIORITY: [&str; 3] = ["priority", "priority_on_demand", "on_demand_priority"];
    let is = |names: &[&str]| names.iter().any(|n| tier.eq_ignore_ascii_case(n));
    Ok(if is(&STANDARD) {
        None
    } else if is(&["batch"]) {
        Some(Tier::Batch)
    } else if is(&FLEX) {
        Some(Tier::Flex)
    } else if is(&PRIORITY) {
        Some(Tier::Priority)
    } else {
        return Err(Unpriced::NoTierRate(tier.to_string()));
    })
}

/// A priced record: its cost, the part of it that is built-in tool fees, and whether the whole-request
/// long-context tier applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    pub cost: Decimal,
    pub tool_fees: Decimal,
    pub long_context: bool,
}

/// Σ tokens × rate / 1M, plus tool calls × fee / 1k; returns (cost, tool fees). A class with tokens and no
/// rate makes the record unpriced, and so does a tool call without a fee: the period's own rate for the
/// tool, else the entry's `[[tool]]` fee in force on the record's date.
fn cost(
    rates: &Rates,
    entry: &ModelPrice,
    record: &UsageRecord,
) -> Result<(Decimal, Decimal), Unpriced> {
    let t = &record.tokens;
    let per_million = |count: u64, class: RateClass| -> Result<Decimal, Unpriced> {
        if count == 0 {
            return Ok(Decimal::ZERO);
        }
        let rate = rates.get(class).ok_or(Unpriced::NoRate(class.key()))?;
        Decimal::from(count)
            .checked_mul(rate)
            .ok_or(Unpriced::OutOfRange)
    };
    let add = |a: Decimal, b: Decimal| a.checked_add(b).ok_or(Unpriced::OutOfRange);
    let reasoning_apart = rates.get(RateClass::Reasoning).is_some();
    let (plain_output, reasoning) = if reasoning_apart {
        (t.output.saturating_sub(t.reasoning), t.reasoning)
    } else {
        (t.output, 0)
    };
    let mut tokens = Decimal::ZERO;
    for (count, class) in [
        (t.input, RateClass::Input),
        (t.cache_read, RateClass::CacheRead),
        (t.cache_read_audio, RateClass::CacheReadAudio),
        (t.cache_write_5m, RateClass::CacheWrite5m),
        (t.cache_write_1h, RateClass::CacheWrite1h),
        (plain_output, RateClass::Output),
        (reasoning, RateClass::Reasoning),
        (t.audio_input, RateClass::AudioInput),
        (t.audio_output, RateClass::AudioOutput),
        (t.image_input, RateClass::ImageInput),
        (t.image_output, RateClass::ImageOutput),
    ] {
        tokens = add(tokens, per_million(count, class)?)?;
    }
    let date = record.start.date_naive();
    let mut calls = Decimal::ZERO;
    for kind in ToolKind::ALL {
        let count = t.tool(kind);
        if count == 0 {
            continue;
        }
        let class = RateClass::of_tool(kind);
        let fee = rates
            .get(class)
            .or_else(|| entry.tool_rate(class, date))
            .ok_or(Unpriced::NoToolRate(kind.key()))?;
        calls = add(
            calls,
            Decimal::from(count)
                .checked_mul(fee)
                .ok_or(Unpriced::OutOfRange)?,
        )?;
    }
    let tool_fees = calls / Decimal::from(1_000);
    Ok((
        add(tokens / Decimal::from(1_000_000), tool_fees)?,
        tool_fees,
    ))
}

/// Resolves names once per distinct (provider, reported model): a record stream repeats a handful.
pub struct Pricer<'a> {
    book: &'a PriceBook,
    cache: HashMap<Provider, HashMap<String, Option<usize>>>,
    /// Entries that priced records dated before their first price period: entry → records.
    early: std::collections::BTreeMap<usize, u64>,
}

/// One record's price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Priced {
    /// The canonical model id and the cost; `tool_fees` is the part of it that is built-in tool fees,
    /// `long_context` whether the whole-request long-context tier applied.
    Cost {
        model: usize,
        cost: Decimal,
        tool_fees: Decimal,
        long_context: bool,
    },
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
            early: std::collections::BTreeMap::new(),
        }
    }

    /// One warning per entry that priced records dated before its first price period (from that first
    /// period: the table has no earlier price).
    pub fn early_warnings(&self) -> Vec<String> {
        self.early
            .iter()
            .map(|(&index, &count)| {
                let model = self.book.model(index);
                let first = model.periods.first().map(|p| p.effective);
                format!(
                    "warning: {count} record(s) of {} ({}) are dated before its first price period \
                     ({}): priced from that period, the earliest price the table has",
                    model.id,
                    model.provider,
                    first.map(|d| d.to_string()).unwrap_or_default()
                )
            })
            .collect()
    }

    pub fn book(&self) -> &'a PriceBook {
        self.book
    }

    /// The entry a name resolves to for a record of unknown provider.
    pub fn resolve(&mut self, reported: &str) -> Option<usize> {
        self.resolve_for(Provider::Other, reported)
    }

    /// The entry a record of `provider` reporting `reported` resolves to (cached).
    pub fn resolve_for(&mut self, provider: Provider, reported: &str) -> Option<usize> {
        let names = self.cache.entry(provider).or_default();
        if let Some(hit) = names.get(reported) {
            return *hit;
        }
        let hit = self.book.resolve_for(provider, reported).map(|m| m.index);
        names.insert(reported.to_string(), hit);
        hit
    }

    pub fn price(&mut self, record: &UsageRecord) -> Priced {
        match self.resolve_for(record.provider, &record.model) {
            None => Priced::Unpriced {
                model: None,
                reason: Unpriced::unresolved(&record.model),
            },
            Some(model) => {
                let priced = self.book.charge(model, record);
                self.priced(model, record, priced, 1)
            }
        }
    }

    /// Prices the sum of `records` records that agree on everything pricing reads (a ledger rollup row:
    /// token counts summed, the same non-zero token classes, prompts above the same `band`). `None` when
    /// the sum cannot be priced exactly as its records would be (a long-context threshold that is not
    /// one of [`PROMPT_BANDS`], an overflow): then the records must be priced one by one.
    pub fn price_sum(&mut self, sum: &UsageRecord, band: u64, records: u64) -> Option<Priced> {
        let Some(model) = self.resolve_for(sum.provider, &sum.model) else {
            return Some(Priced::Unpriced {
                model: None,
                reason: Unpriced::unresolved(&sum.model),
            });
        };
        let long = self.book.long_in_band(model, sum, band)?;
        match self.book.price_at(model, sum, long) {
            Err(Unpriced::OutOfRange) => None,
            priced => Some(self.priced(model, sum, priced, records)),
        }
    }

    fn priced(
        &mut self,
        model: usize,
        record: &UsageRecord,
        priced: Result<Charge, Unpriced>,
        records: u64,
    ) -> Priced {
        match priced {
            Ok(charge) => {
                let first = self.book.model(model).periods.first().map(|p| p.effective);
                if first.is_some_and(|d| record.start.date_naive() < d) {
                    *self.early.entry(model).or_default() += records;
                }
                Priced::Cost {
                    model,
                    cost: charge.cost,
                    tool_fees: charge.tool_fees,
                    long_context: charge.long_context,
                }
            }
            Err(reason) => Priced::Unpriced {
                model: Some(model),
                reason,
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
    fn cache_writes_count_toward_the_long_context_threshold() {
        let book = PriceBook::built_in().unwrap();
        // claude-sonnet-4-5, 150_000 uncached: under 200_000 alone, over it with the cache writes.
        // Long-context rates: input $6, cache write 5m 6 × 1.25 = $7.50, 1h 6 × 2 = $12, output $22.50.
        // 150_000 × $6/M + 60_000 × $7.50/M + 1_000 × $22.50/M = $0.90 + $0.45 + $0.0225 = $1.3725
        let t = TokenCounts {
            input: 150_000,
            cache_write_5m: 60_000,
            output: 1_000,
            ..TokenCounts::default()
        };
        let r = record("claude-sonnet-4-5-20250929", (2026, 10, 3), t);
        assert_eq!(priced(&book, &r), Ok(dec!(1.3725)));
        // 150_000 × $6/M + 60_000 × $12/M + 1_000 × $22.50/M = $0.90 + $0.72 + $0.0225 = $1.6425
        let t = TokenCounts {
            input: 150_000,
            cache_write_1h: 60_000,
            output: 1_000,
            ..TokenCounts::default()
        };
        let r = record("claude-sonnet-4-5-20250929", (2026, 10, 3), t);
        assert_eq!(priced(&book, &r), Ok(dec!(1.6425)));
    }

    #[test]
    fn a_bucket_of_many_requests_stays_at_standard_rates() {
        let book = PriceBook::built_in().unwrap();
        // A daily bucket of 3 requests with 600_000 input tokens in all: no single request is known to
        // exceed 200_000, so standard rates: 600_000 × $3/M + 3_000 × $15/M = $1.80 + $0.045 = $1.845
        let mut r = record(
            "claude-sonnet-4-5-20250929",
            (2026, 10, 3),
            io(600_000, 3_000),
        );
        r.requests = 3;
        assert_eq!(priced(&book, &r), Ok(dec!(1.845)));
        // the same tokens as one request are long-context:
        // 600_000 × $6/M + 3_000 × $22.50/M = $3.60 + $0.0675 = $3.6675
        r.requests = 1;
        assert_eq!(priced(&book, &r), Ok(dec!(3.6675)));
        // a bucket that states its tier (Anthropic's context_window) is priced as it says
        r.requests = 3;
        r.long_context = Some(true);
        assert_eq!(priced(&book, &r), Ok(dec!(3.6675)));
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
    fn tool_calls_are_billed_per_call_from_the_dated_tool_fees() {
        let book = PriceBook::built_in().unwrap();
        let charge = |r: &UsageRecord| {
            let m = book.resolve_for(r.provider, &r.model).unwrap();
            book.charge(m.index, r)
        };
        // gpt-4.1: 10_000 × $2/M + 1_000 × $8/M = $0.028; 2 web searches × $10/1k = $0.02 and 1 file search
        // × $2.50/1k = $0.0025: tool fees $0.0225, cost $0.0505
        let mut t = io(10_000, 1_000);
        t.web_search_requests = 2;
        t.file_search_calls = 1;
        let r = record("gpt-4.1", (2026, 10, 3), t);
        let c = charge(&r).unwrap();
        assert_eq!((c.cost, c.tool_fees), (dec!(0.0505), dec!(0.0225)));
        // the same calls before the tools had a price (Responses API launch 2025-03-11): unpriced, never $0
        let mut early = record("gpt-4o", (2025, 1, 10), t);
        early.tokens.file_search_calls = 0;
        assert_eq!(charge(&early), Err(Unpriced::NoToolRate("web_search")));
        // code execution is billed per container, not per call: the request is unpriced
        let mut t = io(1_000, 100);
        t.code_execution_calls = 1;
        let r = record("gpt-4.1", (2026, 10, 3), t);
        assert_eq!(charge(&r), Err(Unpriced::NoToolRate("code_execution")));
        let mut r = record("claude-sonnet-4-5", (2026, 10, 3), t);
        r.provider = Provider::Anthropic;
        assert_eq!(charge(&r), Err(Unpriced::NoToolRate("code_execution")));
        // Anthropic: 3 searches × $10/1k = $0.03, 2 fetches × $0 (tokens only) = $0;
        // 1_000 × $3/M + 100 × $15/M = $0.0045
        let mut t = io(1_000, 100);
        t.web_search_requests = 3;
        t.web_fetch_requests = 2;
        r.tokens = t;
        let c = charge(&r).unwrap();
        assert_eq!((c.cost, c.tool_fees), (dec!(0.0345), dec!(0.03)));
        // batch halves the tokens, never the tool fees: $0.00225 + $0.03
        r.batch = true;
        assert_eq!(charge(&r).unwrap().cost, dec!(0.03225));
    }

    #[test]
    fn web_search_preview_calls_bill_at_the_preview_rate_of_the_model_family() {
        let book = PriceBook::built_in().unwrap();
        let charge = |r: &UsageRecord| {
            let m = book.resolve_for(r.provider, &r.model).unwrap();
            book.charge(m.index, r)
        };
        // gpt-4o (non-reasoning): 2 preview calls × $25/1k = $0.05; 1_000 × $2.50/M + 200 × $10/M = $0.0045
        let mut t = io(1_000, 200);
        t.web_search_preview_calls = 2;
        let c = charge(&record("gpt-4o-2024-08-06", (2026, 10, 3), t)).unwrap();
        assert_eq!((c.cost, c.tool_fees), (dec!(0.0545), dec!(0.05)));
        // gpt-4.1-mini: 2 × $25/1k = $0.05; 1_000 × $0.40/M + 200 × $1.60/M = $0.00072
        let c = charge(&record("gpt-4.1-mini", (2026, 10, 3), t)).unwrap();
        assert_eq!((c.cost, c.tool_fees), (dec!(0.05072), dec!(0.05)));
        // o3 (reasoning): 2 × $10/1k = $0.02; 1_000 × $2/M + 200 × $8/M = $0.0036
        let c = charge(&record("o3", (2026, 10, 3), t)).unwrap();
        assert_eq!((c.cost, c.tool_fees), (dec!(0.0236), dec!(0.02)));
        // gpt-5: 2 × $10/1k = $0.02; 1_000 × $1.25/M + 200 × $10/M = $0.00325
        let c = charge(&record("gpt-5", (2026, 10, 3), t)).unwrap();
        assert_eq!((c.cost, c.tool_fees), (dec!(0.02325), dec!(0.02)));
        // gpt-4-turbo never had the tool: unpriced, never $0 and never the `web_search` rate
        assert_eq!(
            charge(&record("gpt-4-turbo", (2026, 10, 3), t)),
            Err(Unpriced::NoToolRate("web_search_preview"))
        );
    }

    #[test]
    fn cached_audio_input_bills_at_the_cached_audio_rate() {
        let book = PriceBook::built_in().unwrap();
        let t = TokenCounts {
            input: 1_000,
            cache_read: 2_000,
            cache_read_audio: 10_000,
            audio_input: 4_000,
            output: 100,
            audio_output: 500,
            ..TokenCounts::default()
        };
        // gpt-realtime-mini: text 1_000 × $0.60 + cached text 2_000 × $0.06 + cached audio 10_000 × $0.30
        // + audio 4_000 × $10 + text out 100 × $2.40 + audio out 500 × $20, per M
        // = 0.0006 + 0.00012 + 0.003 + 0.04 + 0.00024 + 0.01 = $0.05396 (cached audio at the $0.06 text
        // rate would have been $0.0006)
        let r = record("gpt-realtime-mini-2025-10-06", (2026, 10, 3), t);
        assert_eq!(priced(&book, &r), Ok(dec!(0.05396)));
        // gpt-realtime: 1_000 × $4 + 2_000 × $0.40 + 10_000 × $0.40 + 4_000 × $32 + 100 × $16 + 500 × $64,
        // per M = 0.004 + 0.0008 + 0.004 + 0.128 + 0.0016 + 0.032 = $0.1704
        let r = record("gpt-realtime", (2026, 10, 3), t);
        assert_eq!(priced(&book, &r), Ok(dec!(0.1704)));
        // gpt-4o-audio-preview publishes no cached audio rate: unpriced, never at the cached text rate
        let t = TokenCounts { cache_read: 0, ..t };
        let r = record("gpt-4o-audio-preview", (2026, 10, 3), t);
        assert_eq!(priced(&book, &r), Err(Unpriced::NoRate("cache_read_audio")));
    }

    #[test]
    fn gemini_grounding_bills_prompts_on_2_5_and_queries_on_3() {
        let book = PriceBook::built_in().unwrap();
        let mut t = io(1_000, 100);
        t.web_search_requests = 3;
        t.grounded_prompts = 1;
        let mut r = record("gemini-2.5-flash", (2026, 10, 3), t);
        r.provider = Provider::Google;
        let m = book.resolve_for(Provider::Google, &r.model).unwrap();
        // 1_000 × $0.30/M + 100 × $2.50/M = $0.00055; one grounded prompt × $35/1k = $0.035 (queries $0)
        let c = book.charge(m.index, &r).unwrap();
        assert_eq!((c.cost, c.tool_fees), (dec!(0.03555), dec!(0.035)));
        r.model = "gemini-3-flash-preview".into();
        let m = book.resolve_for(Provider::Google, &r.model).unwrap();
        // 1_000 × $0.50/M + 100 × $3/M = $0.0008; 3 queries × $14/1k = $0.042 (the prompt $0)
        let c = book.charge(m.index, &r).unwrap();
        assert_eq!((c.cost, c.tool_fees), (dec!(0.0428), dec!(0.042)));
    }

    #[test]
    fn tool_blocks_are_checked() {
        let bad = |tool: &str| {
            let text = format!(
                "provider = \"openai\"\n[[model]]\nid = \"m\"\n[[model.price]]\neffective = \"2025-01-01\"\n\
                 input = \"1\"\noutput = \"2\"\n[[tool]]\n{tool}\n"
            );
            table::parse_table(&text, "t.toml").unwrap_err().to_string()
        };
        assert!(
            bad("name = \"teleport\"\neffective = \"2025-01-01\"\nper_1k = \"1\"")
                .contains("unknown tool")
        );
        assert!(
            bad("name = \"web_search\"\neffective = \"2025-01-01\"\nper_1k = \"-1\"")
                .contains("per_1k")
        );
        assert!(bad(
            "name = \"web_search\"\neffective = \"2025-01-01\"\nper_1k = \"1\"\nmodels = [\"x-*\"]"
        )
        .contains("matches no entry"));
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

    fn on(provider: Provider, model: &str, tokens: TokenCounts) -> UsageRecord {
        let mut r = record(model, (2026, 10, 3), tokens);
        r.provider = provider;
        r
    }

    fn priced_for(book: &PriceBook, r: &UsageRecord) -> Result<Decimal, Unpriced> {
        let m = book
            .resolve_for(r.provider, &r.model)
            .ok_or(Unpriced::UnknownModel)?;
        book.price(m.index, r)
    }

    #[test]
    fn entries_are_scoped_by_provider() {
        let book = PriceBook::built_in().unwrap();
        let bedrock = book
            .resolve_for(
                Provider::Bedrock,
                "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            )
            .unwrap();
        assert_eq!(book.model(bedrock.index).provider, "bedrock");
        assert_eq!(book.model(bedrock.index).id, "claude-sonnet-4-5");
        let direct = book
            .resolve_for(Provider::Anthropic, "claude-sonnet-4-5-20250929")
            .unwrap();
        assert_eq!(book.model(direct.index).provider, "anthropic");
        // Azure and Vertex fall back to the first-party tables.
        let azure = book.resolve_for(Provider::Azure, "gpt-4o").unwrap();
        assert_eq!(book.model(azure.index).provider, "openai");
        let vertex = book
            .resolve_for(Provider::Google, "claude-sonnet-4@20250514")
            .unwrap();
        assert_eq!(book.model(vertex.index).provider, "anthropic");
        // A Bedrock model only Bedrock sells is found for Bedrock records (and, last, for unknown providers).
        assert!(book
            .resolve_for(Provider::Bedrock, "amazon.nova-pro-v1:0")
            .is_some());
        assert!(book
            .resolve_for(Provider::OpenAI, "amazon.nova-pro-v1:0")
            .is_none());
        assert!(book.resolve("amazon.nova-pro-v1:0").is_some());
    }

    #[test]
    fn bedrock_regions_price_global_below_regional() {
        let book = PriceBook::built_in().unwrap();
        // global profile: 100k × $3/M + 100k × $15/M = $0.30 + $1.50 = $1.80
        let g = on(
            Provider::Bedrock,
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            io(100_000, 100_000),
        );
        assert_eq!(priced_for(&book, &g), Ok(dec!(1.8)));
        // us. profile: regional +10%: $1.80 × 1.1 = $1.98
        let us = on(
            Provider::Bedrock,
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            io(100_000, 100_000),
        );
        assert_eq!(priced_for(&book, &us), Ok(dec!(1.98)));
        // plain id in eu-west-1 (in-region): the `*` default, +10%
        let mut plain = on(
            Provider::Bedrock,
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            io(100_000, 100_000),
        );
        plain.region = Some("eu-west-1".into());
        assert_eq!(priced_for(&book, &plain), Ok(dec!(1.98)));
        // GovCloud +20%: $1.80 × 1.2 = $2.16
        plain.region = Some("us-gov-west-1".into());
        assert_eq!(priced_for(&book, &plain), Ok(dec!(2.16)));
        // batch and region compose: $1.98 × 0.5 = $0.99
        let mut b = us.clone();
        b.batch = true;
        assert_eq!(priced_for(&book, &b), Ok(dec!(0.99)));
        // Nova in eu has its own rates: 1M × $1.05 + 1M × $4.20 = $5.25
        let nova = on(
            Provider::Bedrock,
            "eu.amazon.nova-pro-v1:0",
            io(1_000_000, 1_000_000),
        );
        assert_eq!(priced_for(&book, &nova), Ok(dec!(5.25)));
        // Nova Premier has US rates only: a record from eu-west-1 is unpriced, never priced at US rates.
        let mut premier = on(Provider::Bedrock, "amazon.nova-premier-v1:0", io(10, 10));
        premier.region = Some("eu-west-1".into());
        assert_eq!(
            priced_for(&book, &premier),
            Err(Unpriced::NoRegionRate("eu-west-1".into()))
        );
        // No region at all: the period's own (base) rates.
        premier.region = None;
        assert!(priced_for(&book, &premier).is_ok());
    }

    #[test]
    fn the_fallback_answers_only_when_no_table_does() {
        let map = br#"{
          "gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06,
            "output_cost_per_token": 1e-06},
          "claude-sonnet-4-5": {"litellm_provider": "anthropic", "mode": "chat", "input_cost_per_token": 1e-06,
            "output_cost_per_token": 1e-06, "input_cost_per_token_priority": 2e-06, "output_cost_per_token_priority": 2e-06},
          "gpt-9-preview": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 4e-06,
            "output_cost_per_token": 8e-06}
        }"#;
        let book = PriceBook::built_in()
            .unwrap()
            .with_fallback(litellm::parse_map(map, "map").unwrap(), "map".into());
        // our own gpt-4o wins: 1M × $2.50 + 1M × $10 = $12.50, not the map's $2
        let r = on(Provider::OpenAI, "gpt-4o", io(1_000_000, 1_000_000));
        assert_eq!(priced_for(&book, &r), Ok(dec!(12.5)));
        // a model we know but cannot price at a tier stays unpriced: the map is not asked
        let mut r = on(Provider::Anthropic, "claude-sonnet-4-5", io(10, 10));
        r.service_tier = Some("priority".into());
        assert_eq!(
            priced_for(&book, &r),
            Err(Unpriced::NoTierRate("priority".into()))
        );
        // what no table knows: 1M × $4 + 1M × $8 = $12, from the map, marked
        let r = on(Provider::OpenAI, "gpt-9-preview", io(1_000_000, 1_000_000));
        assert_eq!(priced_for(&book, &r), Ok(dec!(12)));
        let m = book.resolve_for(Provider::OpenAI, "gpt-9-preview").unwrap();
        assert!(book.model(m.index).fallback);
        // the map's entries are another provider's only: an OpenAI model on Groq stays unpriced
        assert!(book.resolve_for(Provider::Groq, "gpt-9-preview").is_none());
        // and they are not listed among the curated entries
        assert!(book.models().iter().all(|m| !m.fallback));
    }

    #[test]
    fn azure_deployments_map_to_models() {
        let deployments: std::collections::BTreeMap<String, String> =
            [("Prod-GPT4o".to_string(), "gpt-4o".to_string())].into();
        let book = PriceBook::built_in()
            .unwrap()
            .with_azure_deployments(&deployments);
        let m = book.resolve_for(Provider::Azure, "prod-gpt4o").unwrap();
        assert_eq!(book.model(m.index).id, "gpt-4o");
        assert_eq!(m.deployment.as_deref(), Some("prod-gpt4o"));
        // the mapping is Azure's only
        assert!(book.resolve_for(Provider::OpenAI, "prod-gpt4o").is_none());
        // Azure's `-MMDD` snapshots find the dated entry when it has its own price
        let old = book.resolve_for(Provider::Azure, "gpt-4o-0513").unwrap();
        assert_eq!(book.model(old.index).id, "gpt-4o-2024-05-13");
        let new = book.resolve_for(Provider::Azure, "gpt-4o-0806").unwrap();
        assert_eq!(book.model(new.index).id, "gpt-4o");
    }

    #[test]
    fn tables_may_repeat_ids_across_providers_but_not_within_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("azure.toml");
        std::fs::write(
            &file,
            "provider = \"azure\"\n[[model]]\nid = \"gpt-4o\"\n[[model.price]]\neffective = \"2024-01-01\"\ninput = \"2.75\"\noutput = \"11\"\nregions = { global = \"1\", datazone = \"1.1\" }\n",
        )
        .unwrap();
        let book = PriceBook::load(&[file]).unwrap();
        // Azure global: 1M × $2.75 + 1M × $11 = $13.75; the OpenAI entry is unchanged ($12.50)
        let mut r = on(
            Provider::Azure,
            "gpt-4o-2024-08-06",
            io(1_000_000, 1_000_000),
        );
        r.region = Some("global".into());
        assert_eq!(priced_for(&book, &r), Ok(dec!(13.75)));
        // data zone +10%: $15.125; a region the entry does not list (and no `*`): unpriced
        r.region = Some("datazone".into());
        assert_eq!(priced_for(&book, &r), Ok(dec!(15.125)));
        r.region = Some("regional".into());
        assert_eq!(
            priced_for(&book, &r),
            Err(Unpriced::NoRegionRate("regional".into()))
        );
        let o = on(
            Provider::OpenAI,
            "gpt-4o-2024-08-06",
            io(1_000_000, 1_000_000),
        );
        assert_eq!(priced_for(&book, &o), Ok(dec!(12.5)));
        let twice = "provider = \"bedrock\"\n[[model]]\nid = \"x\"\n[[model.price]]\neffective = \"2024-01-01\"\ninput = \"1\"\noutput = \"1\"\n";
        let mut book = PriceBook::default();
        book.add(table::parse_table(twice, "a").unwrap(), false)
            .unwrap();
        assert!(book
            .add(table::parse_table(twice, "b").unwrap(), false)
            .is_err());
    }
}
