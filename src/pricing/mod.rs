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

/// A built-in price table: where it comes from, its TOML text (the curated source), and the same table as
/// JSON, converted by `build.rs` (empty when the TOML does not parse, which the TOML then reports).
pub struct BuiltIn {
    pub origin: &'static str,
    pub toml: &'static str,
    json: &'static str,
}

macro_rules! built_in {
    ($name:literal) => {
        BuiltIn {
            origin: concat!("pricing/", $name, ".toml"),
            toml: include_str!(concat!("../../pricing/", $name, ".toml")),
            json: include_str!(concat!(env!("OUT_DIR"), "/", $name, ".json")),
        }
    };
}

/// The price tables compiled into the binary.
pub const BUILT_IN: &[BuiltIn] = &[
    built_in!("openai"),
    built_in!("anthropic"),
    built_in!("google"),
    built_in!("bedrock"),
    built_in!("azure"),
    built_in!("mistral"),
    built_in!("deepseek"),
    built_in!("xai"),
    built_in!("cohere"),
    built_in!("together"),
    built_in!("fireworks"),
    built_in!("groq"),
    built_in!("deepinfra"),
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
    /// Table provider → its `[resold]` multipliers (see [`table::Resold`]).
    resold: HashMap<String, table::Resold>,
}

impl PriceBook {
    /// The built-in tables.
    pub fn built_in() -> Result<PriceBook> {
        let mut book = PriceBook::default();
        for table in BUILT_IN {
            // The JSON form: the same table, read in a fraction of the time.
            let file = match table.json {
                "" => table::parse_file(table.toml, table.origin)?,
                json => table::parse_json_file(json, table.origin)?,
            };
            book.add_file(file, false)?;
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
                book.add_file(table::parse_file(&text, &file.display().to_string())?, true)?;
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

    /// Adds a table file's entries (see [`PriceBook::add`]) and its `[resold]` multipliers, which an
    /// override file's replace.
    fn add_file(&mut self, file: table::PriceFile, is_override: bool) -> Result<()> {
        if let Some(resold) = file.resold {
            self.resold.insert(file.provider.clone(), resold);
        }
        self.add(file.models, is_override)
    }

    /// The `[resold] regions` multipliers a record of `provider` priced from `entry` pays (see
    /// [`table::Resold`]): `None` when the entry is the provider's own, or its table has none that
    /// covers the entry.
    pub fn resold_regions(
        &self,
        provider: Provider,
        entry: &ModelPrice,
    ) -> Option<&[(String, Decimal)]> {
        if self.resold.is_empty() {
            return None;
        }
        let own = table_order(provider).first()?;
        if entry.provider == *own {
            return None;
        }
        self.resold
            .get(*own)
            .filter(|r| r.covers(entry))
            .map(|r| r.regions.as_slice())
    }

    /// For a record of a provider whose table has `[resold] regions` (Azure), priced from another
    /// provider's entry (OpenAI's `gpt-4o`): the multiplier of the record's region, 1 where the map does
    /// not name it. The entry's own `regions` (the maker's, such as Anthropic's US-only inference) do not
    /// apply to such a record. `None` for every other record.
    fn resold_factor(&self, entry: &ModelPrice, record: &UsageRecord) -> Option<Decimal> {
        let regions = self.resold_regions(record.provider, entry)?;
        // A deployment type in the model's path (LiteLLM's `azure/eu/gpt-4o`) wins, as a Bedrock
        // profile does; else the record's region.
        let mut path = record.model.trim().rsplit('/');
        let in_path = path
            .nth(1)
            .map(str::to_ascii_lowercase)
            .filter(|p| regions.iter().any(|(r, _)| r == p));
        let factor = in_path
            .or_else(|| {
                record
                    .region
                    .as_deref()
                    .map(|r| r.trim().to_ascii_lowercase())
            })
            .and_then(|r| table::region_index_in(regions, &r))
            .map_or(Decimal::ONE, |i| regions[i].1);
        Some(factor)
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
        self.price_at(index, record, is_long(period, record))
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
        // Looked up only where the period has regional rates: most have none, and the lookup makes a
        // lower-case copy of the region.
        let resold = self.resold_factor(entry, record);
        let region = if period.regions.is_empty() || resold.is_some() {
            None
        } else {
            record_region(record)
        };
        let mut rates = rates_in(period, long, region.as_deref(), || served_tier(record))?;
        if let Some(f) = resold.filter(|f| *f != Decimal::ONE) {
            rates = std::borrow::Cow::Owned(rates.scaled(f));
        }
        let (cost, tool_fees) = cost(&rates, entry, record)?;
        Ok(Charge {
            cost,
            tool_fees,
            long_context: long,
        })
    }
}

/// The rates of a period a request is priced at: the long-context tier (`long`), the rates or multiplier
/// of its region (lower case, when the period prices by region), then those of its service tier
/// (`tier`, asked for only once the region has a price). Rates are borrowed from the table, and copied
/// only where a multiplier makes new ones.
fn rates_in<'p>(
    period: &'p PricePeriod,
    long: bool,
    region: Option<&str>,
    tier: impl FnOnce() -> Result<Option<Tier>, Unpriced>,
) -> Result<std::borrow::Cow<'p, Rates>, Unpriced> {
    use std::borrow::Cow;
    let standard = match (&period.long_context, long) {
        (Some(lc), true) => &lc.rates,
        _ => &period.rates,
    };
    // The region: a multiplier on whatever the tier gives, or its own rates in place of the period's.
    let mut region_factor = None;
    let mut region_rates = None;
    if let Some(region) = region {
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
    let base = region_rates.unwrap_or(standard);
    let rates = match tier()? {
        None => Cow::Borrowed(base),
        Some(tier) => match period.tier(tier) {
            None => return Err(Unpriced::NoTierRate(tier.key().to_string())),
            Some(TierPrice::Multiplier(m)) => Cow::Owned(base.scaled(*m)),
            Some(TierPrice::Rates { .. }) if region_rates.is_some() => {
                return Err(Unpriced::NoTierRate(format!(
                    "{} in region {}",
                    tier.key(),
                    region.unwrap_or_default()
                )))
            }
            Some(TierPrice::Rates {
                rates,
                long_context,
            }) => match (long, long_context) {
                (false, _) => Cow::Borrowed(&**rates),
                (true, Some(lc)) => Cow::Borrowed(&**lc),
                (true, None) => {
                    return Err(Unpriced::NoTierRate(format!("{} long-context", tier.key())))
                }
            },
        },
    };
    Ok(match region_factor {
        Some(f) => Cow::Owned(rates.scaled(f)),
        None => rates,
    })
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
    if record.long_context.is_some() || !is_one_request(record) {
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

/// Whether `record` is one request, so that its prompt decides the long-context tier: it counts one, or
/// it counts none and is not a bucket (an extra iteration of a logged request). A bucket (a record with
/// an end time) that gives no count, as Anthropic's usage report does, may sum any number of requests.
pub fn is_one_request(record: &UsageRecord) -> bool {
    record.requests == 1 || (record.requests == 0 && record.end.is_none())
}

/// Whether `record` is billed at `period`'s long-context rates: as its source says, else by its prompt.
fn is_long(period: &PricePeriod, record: &UsageRecord) -> bool {
    match (&period.long_context, record.long_context) {
        (None, _) => false,
        (Some(_), Some(given)) => given,
        // A bucket of many requests says nothing about each request's size: standard rates.
        (Some(lc), None) => is_one_request(record) && record.tokens.prompt_total() > lc.threshold,
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

/// Resolves names once per distinct (provider, reported model): a record stream repeats a handful. The
/// rates a record is priced at are found once per distinct (entry, price period, long-context, service
/// tier, regional price): a record then only multiplies its counts by them.
pub struct Pricer<'a> {
    book: &'a PriceBook,
    /// Per provider (by its place in [`Provider::ALL`]): reported name → what it resolved to.
    /// Hashed with foldhash: a lookup per record, of a short key the input chose.
    cache: Vec<foldhash::HashMap<String, Resolved>>,
    /// What [`rates_in`] gave for a key: the index of its rates in `memos`, or `None` when it gave
    /// an error (which names the record's own region or tier: such records are priced one by one).
    rates: foldhash::HashMap<RatesKey, Option<u32>>,
    memos: Vec<Memo>,
    /// The record's region in lower case, reused (no allocation per record).
    region: String,
    /// Entries that priced records dated before their first price period: entry → records.
    early: std::collections::BTreeMap<usize, u64>,
}

/// A reported name's entry, and the cross-region profile its name carries (see [`record_region`]).
#[derive(Debug, Clone, Copy)]
struct Resolved {
    model: Option<usize>,
    profile: Option<&'static str>,
}

/// What the rates of a request depend on besides its entry's table, in one integer (hashed in one
/// step): the entry (32 bits), the period in force (16), which of the period's regional prices
/// applies (12, 0: none), the service tier (2) and the long-context tier (1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct RatesKey(u64);

impl RatesKey {
    /// `None` past the bits each part has (then the request is priced without the memo).
    fn new(
        model: usize,
        period: usize,
        region: Option<usize>,
        tier: Option<Tier>,
        long: bool,
    ) -> Option<RatesKey> {
        let model = u32::try_from(model).ok()?;
        let period = u16::try_from(period).ok()?;
        let region = region.map_or(Some(0), |i| i.checked_add(1).filter(|&i| i < 1 << 12))?;
        let tier = tier.map_or(0, |t| t as u64 + 1);
        Some(RatesKey(
            u64::from(model) << 32
                | u64::from(period) << 16
                | (region as u64) << 3
                | tier << 1
                | u64::from(long),
        ))
    }
}

/// Rates found once for a [`RatesKey`], and the same rates as integers for [`Exact::cost`].
#[derive(Debug, Clone)]
struct Memo {
    rates: Rates,
    exact: Option<Exact>,
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
            cache: vec![foldhash::HashMap::default(); Provider::ALL.len()],
            rates: foldhash::HashMap::default(),
            memos: Vec::new(),
            region: String::new(),
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
        self.resolved(provider, reported).model
    }

    fn resolved(&mut self, provider: Provider, reported: &str) -> Resolved {
        let names = &mut self.cache[provider as usize];
        if let Some(hit) = names.get(reported) {
            return *hit;
        }
        let hit = Resolved {
            model: self.book.resolve_for(provider, reported).map(|m| m.index),
            profile: crate::region::profile_prefix(reported),
        };
        names.insert(reported.to_string(), hit);
        hit
    }

    pub fn price(&mut self, record: &UsageRecord) -> Priced {
        let resolved = self.resolved(record.provider, &record.model);
        match resolved.model {
            None => Priced::Unpriced {
                model: None,
                reason: Unpriced::unresolved(&record.model),
            },
            Some(model) => {
                let date = record.start.date_naive();
                let priced = self.charge(model, resolved.profile, record, date);
                self.priced(model, date, priced, 1)
            }
        }
    }

    /// [`PriceBook::charge`], with the rates found once per [`RatesKey`] (`profile`: the cross-region
    /// profile of the record's model name).
    fn charge(
        &mut self,
        index: usize,
        profile: Option<&'static str>,
        record: &UsageRecord,
        date: chrono::NaiveDate,
    ) -> Result<Charge, Unpriced> {
        let book = self.book;
        let entry = &book.models[index];
        let at = entry.period_index(date);
        let period = &entry.periods[at];
        let long = is_long(period, record);
        // A reseller's regional multiplier (rare): priced one by one. A resold record without one is
        // priced at the entry's rates in no region (the maker's `regions` do not apply to it).
        let resold = book.resold_factor(entry, record);
        if resold.is_some_and(|f| f != Decimal::ONE) {
            return book.price_at(index, record, long);
        }
        // An unknown tier is an error that names it: priced one by one.
        let Ok(tier) = served_tier(record) else {
            return book.price_at(index, record, long);
        };
        // The regional price that applies, as `record_region` and `PricePeriod::region` find it.
        let region = if period.regions.is_empty() || resold.is_some() {
            None
        } else {
            let region = match (profile, record.region.as_deref()) {
                (Some(p), _) => Some(p),
                (None, Some(r)) => {
                    self.region.clear();
                    self.region.push_str(r.trim());
                    self.region.make_ascii_lowercase();
                    Some(self.region.as_str()).filter(|r| !r.is_empty())
                }
                (None, None) => None,
            };
            match region.map(|r| period.region_index(r)) {
                None => None,
                Some(Some(i)) => Some(i),
                // No price in the region: an error that names it.
                Some(None) => return book.price_at(index, record, long),
            }
        };
        let Some(key) = RatesKey::new(index, at, region, tier, long) else {
            return book.price_at(index, record, long);
        };
        let memo = match self.rates.get(&key) {
            Some(&memo) => memo,
            None => {
                let region = region.map(|i| period.regions[i].0.as_str());
                let memo = rates_in(period, long, region, || Ok(tier))
                    .ok()
                    .map(|rates| {
                        self.memos.push(Memo {
                            rates: *rates,
                            exact: Exact::of(&rates),
                        });
                        (self.memos.len() - 1) as u32
                    });
                self.rates.insert(key, memo);
                memo
            }
        };
        let Some(memo) = memo else {
            return book.price_at(index, record, long);
        };
        let memo = &self.memos[memo as usize];
        if let Some(cost) = memo.exact.as_ref().and_then(|e| e.cost(record)) {
            return Ok(Charge {
                cost,
                tool_fees: Decimal::ZERO,
                long_context: long,
            });
        }
        let (cost, tool_fees) = cost(&memo.rates, entry, record)?;
        Ok(Charge {
            cost,
            tool_fees,
            long_context: long,
        })
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
            priced => Some(self.priced(model, sum.start.date_naive(), priced, records)),
        }
    }

    /// `date`: the day the record (or the sum's records) started.
    fn priced(
        &mut self,
        model: usize,
        date: chrono::NaiveDate,
        priced: Result<Charge, Unpriced>,
        records: u64,
    ) -> Priced {
        match priced {
            Ok(charge) => {
                let first = self.book.model(model).periods.first().map(|p| p.effective);
                if first.is_some_and(|d| date < d) {
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

/// A period's token rates as integers (mantissa and scale), to price a request without tool calls
/// exactly as [`cost`] does, with integer arithmetic: `Decimal` keeps the scale of what it computes (a
/// product has the scale of its rate, a sum the larger scale of its terms unless one term is zero, and
/// a quotient by 10^6 is shortened as `rust_decimal` shortens it), and so does this. Only where every
/// number stays well inside 64 bits; anything else is priced by [`cost`].
#[derive(Debug, Clone, Copy)]
struct Exact {
    /// Per token class (the first 11 of [`RateClass::ALL`]): the rate's mantissa written at `scale`
    /// (0 without a rate), and the rate's own scale.
    rates: [u64; 11],
    scales: [u32; 11],
    /// The classes that have a rate, and those whose rate is not zero (bit i: class i).
    present: u16,
    nonzero: u16,
    /// The largest scale of the rates that are not zero.
    scale: u32,
    reasoning_apart: bool,
}

/// 10^0 … 10^[`Exact::MAX_SCALE`].
const POWERS_OF_TEN: [u64; 20] = {
    let mut p = [1u64; 20];
    let mut i = 1;
    while i < p.len() {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

impl Exact {
    /// The largest scale taken: a sum scaled up by 10^9 (the division's first step) stays within the
    /// 28 digits a `Decimal` has.
    const MAX_SCALE: u32 = 19;

    fn of(rates: &Rates) -> Option<Exact> {
        let mut exact = Exact {
            rates: [0; 11],
            scales: [0; 11],
            present: 0,
            nonzero: 0,
            scale: 0,
            reasoning_apart: rates.get(RateClass::Reasoning).is_some(),
        };
        let mut mantissas = [0u64; 11];
        for (i, class) in RateClass::ALL.into_iter().take(11).enumerate() {
            let Some(rate) = rates.get(class) else {
                continue;
            };
            if rate.scale() > Self::MAX_SCALE {
                return None;
            }
            mantissas[i] = u64::try_from(rate.mantissa()).ok()?;
            exact.scales[i] = rate.scale();
            exact.present |= 1 << i;
            if mantissas[i] != 0 {
                exact.nonzero |= 1 << i;
                exact.scale = exact.scale.max(rate.scale());
            }
        }
        for ((rate, &m), &s) in exact.rates.iter_mut().zip(&mantissas).zip(&exact.scales) {
            if m != 0 {
                *rate = m.checked_mul(POWERS_OF_TEN[(exact.scale - s) as usize])?;
            }
        }
        Some(exact)
    }

    /// The cost of a request: Σ count × rate / 10^6, as [`cost`] computes it (same value, same scale).
    /// `None` where [`cost`] must decide: tool calls, a class with tokens and no rate, large numbers.
    fn cost(&self, record: &UsageRecord) -> Option<Decimal> {
        let t = &record.tokens;
        if ToolKind::ALL.iter().any(|&k| t.tool(k) != 0) {
            return None;
        }
        let (plain_output, reasoning) = if self.reasoning_apart {
            (t.output.saturating_sub(t.reasoning), t.reasoning)
        } else {
            (t.output, 0)
        };
        let counts = [
            t.input,
            t.cache_read,
            t.cache_read_audio,
            t.cache_write_5m,
            t.cache_write_1h,
            plain_output,
            reasoning,
            t.audio_input,
            t.audio_output,
            t.image_input,
            t.image_output,
        ];
        let mut with_tokens = 0u16;
        for (i, &count) in counts.iter().enumerate() {
            with_tokens |= u16::from(count != 0) << i;
        }
        if with_tokens & !self.present != 0 {
            return None;
        }
        // A product is zero (scale 0) when its count or rate is, and a zero term leaves a sum as it is:
        // the sum has the largest scale of the other terms.
        let live = with_tokens & self.nonzero;
        let mut scale = 0;
        let mut sum: u128 = 0;
        for (i, &count) in counts.iter().enumerate() {
            if live & (1 << i) != 0 {
                scale = scale.max(self.scales[i]);
                sum = sum.checked_add(u128::from(count) * u128::from(self.rates[i]))?;
            }
        }
        // Written at the rates' largest scale; each term is a multiple of what brings it to `scale`.
        let sum = u64::try_from(sum).ok()? / POWERS_OF_TEN[(self.scale - scale) as usize];
        Some(per_million(sum, scale))
    }
}

/// `sum × 10^-scale / 10^6` as `rust_decimal` divides (`scale` at most [`Exact::MAX_SCALE`], `sum`
/// within 64 bits): an exact quotient keeps the dividend's scale; otherwise the quotient is taken 9
/// digits further (exact, as 10^6 divides 10^9) and its trailing zeros are dropped the way the
/// division drops them (8 at a time only while the low 32 bits are zero, then 4, 2 and 1).
fn per_million(sum: u64, scale: u32) -> Decimal {
    const MILLION: u64 = 1_000_000;
    if sum == 0 {
        return Decimal::ZERO;
    }
    if sum.is_multiple_of(MILLION) {
        return Decimal::from_i128_with_scale(i128::from(sum / MILLION), scale);
    }
    // In 64 bits where the quotient fits (divisions by constants are then cheap), else in 128.
    macro_rules! shorten {
        ($q:expr) => {{
            let mut q = $q;
            let mut scale = scale + 9;
            while q as u32 == 0 && scale >= 8 && q % 100_000_000 == 0 {
                q /= 100_000_000;
                scale -= 8;
            }
            for (digits, pow, low_bits) in [(4, 10_000, 0xf), (2, 100, 0x3), (1, 10, 0x1)] {
                if q & low_bits == 0 && scale >= digits && q % pow == 0 {
                    q /= pow;
                    scale -= digits;
                }
            }
            Decimal::from_i128_with_scale(q as i128, scale)
        }};
    }
    match sum.checked_mul(1_000) {
        Some(q) => shorten!(q),
        None => shorten!(u128::from(sum) * 1_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Provenance, Provider, TokenCounts};
    use chrono::{Datelike, TimeZone, Utc};
    use rust_decimal_macros::dec;

    #[test]
    fn built_in_tables_read_from_json_as_from_toml() {
        for table in BUILT_IN {
            assert!(!table.json.is_empty(), "{}: no JSON form", table.origin);
            let from_toml = table::parse_file(table.toml, table.origin).unwrap();
            let from_json = table::parse_json_file(table.json, table.origin).unwrap();
            assert!(!from_toml.models.is_empty(), "{}", table.origin);
            assert_eq!(from_json, from_toml, "{}", table.origin);
        }
    }

    #[test]
    fn toml_dates_and_numbers_survive_the_json_form() {
        // What build.rs does, on a table with a TOML date (not a string), an integer and a float.
        let text = r#"
provider = "openai"
reviewed = 2026-11-27
[[model]]
id = "m"
[[model.price]]
effective = 2025-01-02
input = "1.5"
output = "6"
long_context = { threshold = 128000, input = "3", output = "12" }
"#;
        let json = serde_json::to_string(&toml::from_str::<toml::Table>(text).unwrap()).unwrap();
        assert!(json.contains("2025-01-02"), "{json}");
        let from_json = table::parse_json_file(&json, "t.toml").unwrap();
        assert_eq!(from_json, table::parse_file(text, "t.toml").unwrap());
        let p = &from_json.models[0].periods[0];
        assert_eq!(
            p.effective,
            chrono::NaiveDate::from_ymd_opt(2025, 1, 2).unwrap()
        );
        assert_eq!(p.rates.get(RateClass::Input), Some(dec!(1.5)));
    }

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
    fn a_bucket_without_a_request_count_stays_at_standard_rates() {
        let book = PriceBook::built_in().unwrap();
        // A day of Anthropic's usage report not grouped by context_window: no request count, and
        // 1_000_000 input tokens in all. Standard rates: 1_000_000 × $3/M + 100_000 × $15/M = $4.50
        // (not the long-context $6/M + $22.50/M = $8.25 of one 1M-token request).
        let mut r = record(
            "claude-sonnet-4-5-20250929",
            (2026, 10, 1),
            io(1_000_000, 100_000),
        );
        r.requests = 0;
        r.end = Some(Utc.with_ymd_and_hms(2026, 10, 2, 0, 0, 0).unwrap());
        assert_eq!(priced(&book, &r), Ok(dec!(4.5)));
        assert_eq!(prompt_band(&r), 0);
        // a bucket that counts one request is that request: 1_000_000 × $6/M + 100_000 × $22.50/M
        r.requests = 1;
        assert_eq!(priced(&book, &r), Ok(dec!(8.25)));
        assert_eq!(prompt_band(&r), 272_000);
        // a record of no request count that is not a bucket (an extra iteration of a logged request)
        // is still sized by its own prompt
        r.requests = 0;
        r.end = None;
        assert_eq!(priced(&book, &r), Ok(dec!(8.25)));
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
    fn us_only_inference_costs_more_from_opus_4_6_on() {
        let book = PriceBook::built_in().unwrap();
        // claude-opus-4-6 on 2026-10-03: 100k × $5/M + 10k × $25/M = $0.50 + $0.25 = $0.75
        let mut r = on(Provider::Anthropic, "claude-opus-4-6", io(100_000, 10_000));
        assert_eq!(priced_for(&book, &r), Ok(dec!(0.75)));
        // `inference_geo` "global" or "not_available" (Claude Code logs): standard rates
        for geo in ["global", "not_available"] {
            r.region = Some(geo.into());
            assert_eq!(priced_for(&book, &r), Ok(dec!(0.75)), "{geo}");
        }
        // "us": every class at 1.1×: $0.75 × 1.1 = $0.825
        r.region = Some("us".into());
        assert_eq!(priced_for(&book, &r), Ok(dec!(0.825)));
        // with batch: $0.75 × 0.5 × 1.1 = $0.4125
        r.batch = true;
        assert_eq!(priced_for(&book, &r), Ok(dec!(0.4125)));
        // Sonnet 4.5 predates the uplift: US-only inference bills at the standard rate,
        // 100k × $3/M + 10k × $15/M = $0.45
        let mut old = on(
            Provider::Anthropic,
            "claude-sonnet-4-5-20250929",
            io(100_000, 10_000),
        );
        old.region = Some("us".into());
        assert_eq!(priced_for(&book, &old), Ok(dec!(0.45)));
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
    fn azure_data_zone_and_regional_deployments_cost_a_tenth_more_than_the_makers_rates() {
        let book = PriceBook::built_in().unwrap();
        let mut pricer = Pricer::new(&book);
        let mut check = |provider, model: &str, region: Option<&str>, expected: Decimal| {
            let mut r = on(provider, model, io(1_000_000, 1_000_000));
            r.region = region.map(Into::into);
            assert_eq!(priced_for(&book, &r), Ok(expected), "{model} {region:?}");
            // The memoized path agrees.
            match pricer.price(&r) {
                Priced::Cost { cost, .. } => assert_eq!(cost, expected, "{model} {region:?}"),
                other => panic!("{model} {region:?}: {other:?}"),
            }
        };
        // gpt-4o from openai.toml: 1M × $2.50 + 1M × $10 = $12.50 in a Global deployment (and in an
        // Azure region, which says nothing of the deployment type) ...
        for region in [None, Some("global"), Some("swedencentral"), Some("eastus2")] {
            check(Provider::Azure, "gpt-4o-2024-08-06", region, dec!(12.5));
        }
        // ... 1.1 × $12.50 = $13.75 in a Data Zone (`datazone`, `eu`, `us`) or Regional deployment.
        for region in ["datazone", "DataZone-EU", "eu", "us", "regional"] {
            check(
                Provider::Azure,
                "gpt-4o-2024-08-06",
                Some(region),
                dec!(13.75),
            );
        }
        // OpenAI's own record in any region: $12.50.
        check(Provider::OpenAI, "gpt-4o", Some("us"), dec!(12.5));
        // Azure's own entry keeps its price: gpt-35-turbo 1M × $0.50 + 1M × $1.50 = $2.
        check(Provider::Azure, "gpt-35-turbo", Some("datazone"), dec!(2));
        // Claude Opus 4.6 (1M × $5 + 1M × $25 = $30) resold by Azure in a US data zone: 1.1 × $30 = $33,
        // not also Anthropic's own US-only-inference 1.1 (which would be $36.30); Anthropic's own
        // record with `inference_geo` us is $33 by that rule.
        check(Provider::Azure, "claude-opus-4-6", Some("us"), dec!(33));
        check(Provider::Azure, "claude-opus-4-6", Some("global"), dec!(30));
        check(Provider::Anthropic, "claude-opus-4-6", Some("us"), dec!(33));
        // LiteLLM names the data zone in the model's path: `azure/eu/gpt-4o` is $13.75 whatever the
        // record's region; `azure/global/…` and a plain `azure/gpt-4o` are $12.50.
        check(Provider::Azure, "azure/eu/gpt-4o", None, dec!(13.75));
        check(
            Provider::Azure,
            "azure/us/gpt-4o-2024-08-06",
            Some("global"),
            dec!(13.75),
        );
        check(
            Provider::Azure,
            "azure/global/gpt-4o-2024-08-06",
            None,
            dec!(12.5),
        );
        check(Provider::Azure, "azure/gpt-4o", None, dec!(12.5));
    }

    #[test]
    fn claude_on_vertex_costs_a_tenth_more_at_regional_endpoints_from_sonnet_4_5_on() {
        let book = PriceBook::built_in().unwrap();
        let mut pricer = Pricer::new(&book);
        // 100k input + 100k output: below every long-context threshold.
        let mut check = |model: &str, region: Option<&str>, expected: Decimal| {
            let mut r = on(Provider::Google, model, io(100_000, 100_000));
            r.region = region.map(Into::into);
            assert_eq!(priced_for(&book, &r), Ok(expected), "{model} {region:?}");
            match pricer.price(&r) {
                Priced::Cost { cost, .. } => assert_eq!(cost, expected, "{model} {region:?}"),
                other => panic!("{model} {region:?}: {other:?}"),
            }
        };
        // Sonnet 4.5: 0.1M × $3 + 0.1M × $15 = $1.80 at the global endpoint (or with no region known),
        // 1.1 × $1.80 = $1.98 at a regional or multi-region one.
        check("claude-sonnet-4-5@20250929", Some("global"), dec!(1.8));
        check("claude-sonnet-4-5@20250929", None, dec!(1.8));
        check("claude-sonnet-4-5@20250929", Some("us-east5"), dec!(1.98));
        check(
            "claude-sonnet-4-5@20250929",
            Some("europe-west1"),
            dec!(1.98),
        );
        // Opus 4.6 (0.1M × $5 + 0.1M × $25 = $3): $3.30 in us-east5 and in the `us` multi-region;
        // Anthropic's own US-only rule does not stack on it.
        check("claude-opus-4-6", Some("us-east5"), dec!(3.3));
        check("claude-opus-4-6", Some("us"), dec!(3.3));
        // Opus 4.1 (first priced 2025-08-05, before the uplift): 0.1M × $15 + 0.1M × $75 = $9 everywhere.
        check("claude-opus-4-1@20250805", Some("us-east5"), dec!(9));
        // Gemini is the file's own entry: gemini-2.5-flash 0.1M × $0.30 + 0.1M × $2.50 = $0.28 anywhere.
        check("gemini-2.5-flash", Some("us-east5"), dec!(0.28));
    }

    #[test]
    fn a_resold_region_map_takes_multipliers_only() {
        let text = "provider = \"azure\"\n[resold]\nregions = { eu = { input = \"1\", output = \"2\" } }\n";
        let e = table::parse_file(text, "azure.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("[resold], region eu: a multiplier"), "{e}");
        let text = "provider = \"azure\"\n[resold]\nregions = { EU = \"1.2\" }\n";
        let file = table::parse_file(text, "azure.toml").unwrap();
        let resold = file.resold.unwrap();
        assert_eq!(resold.regions, vec![("eu".to_string(), dec!(1.2))]);
        assert!(resold.models.is_empty() && resold.since.is_none());
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

    /// Prices `r` with `pricer` (rates found once per key) and checks that the book, finding the rates
    /// anew for this record alone, gives the same: the same error, or the same amount to the last digit
    /// of its scale.
    fn by_pricer(pricer: &mut Pricer, r: &UsageRecord) -> Result<Decimal, Unpriced> {
        let m = pricer
            .resolve_for(r.provider, &r.model)
            .ok_or(Unpriced::UnknownModel)?;
        let direct = pricer.book().charge(m, r);
        let got = match pricer.price(r) {
            Priced::Cost {
                cost, tool_fees, ..
            } => Ok((cost, tool_fees)),
            Priced::Unpriced { reason, .. } => Err(reason),
        };
        let digits = |c: Decimal| (c.mantissa(), c.scale());
        assert_eq!(
            got.clone().map(|(c, f)| (digits(c), digits(f))),
            direct.map(|c| (digits(c.cost), digits(c.tool_fees))),
            "{} {:?} {:?}",
            r.model,
            r.start,
            r.region
        );
        got.map(|(c, _)| c)
    }

    #[test]
    fn rates_found_once_follow_the_period_the_tier_and_the_long_context() {
        let book = PriceBook::built_in().unwrap();
        let mut pricer = Pricer::new(&book);
        // o3 before the 2025-06-10 cut: 1M × $10 + 1M × $40 = $50; after: 1M × $2 + 1M × $8 = $10; and
        // before again: the later period's rates are not reused.
        let before = record("o3-2025-04-16", (2025, 6, 9), io(1_000_000, 1_000_000));
        let after = record("o3-2025-04-16", (2025, 6, 10), io(1_000_000, 1_000_000));
        assert_eq!(by_pricer(&mut pricer, &before), Ok(dec!(50)));
        assert_eq!(by_pricer(&mut pricer, &after), Ok(dec!(10)));
        assert_eq!(by_pricer(&mut pricer, &before), Ok(dec!(50)));
        // gpt-5: standard 1M × $1.25 + 1M × $10 = $11.25; flex × 0.5 = $5.625; priority's own rates
        // 1M × $2.50 + 1M × $20 = $22.50; batch × 0.5 = $5.625; `default` is standard again.
        let mut r = record("gpt-5", (2026, 10, 3), io(1_000_000, 1_000_000));
        for (tier, want) in [
            (None, dec!(11.25)),
            (Some("flex"), dec!(5.625)),
            (Some("priority"), dec!(22.50)),
            (Some("default"), dec!(11.25)),
            (Some("FLEX"), dec!(5.625)),
        ] {
            r.service_tier = tier.map(Into::into);
            assert_eq!(by_pricer(&mut pricer, &r), Ok(want), "{tier:?}");
        }
        r.service_tier = None;
        r.batch = true;
        assert_eq!(by_pricer(&mut pricer, &r), Ok(dec!(5.625)));
        // an unknown tier is named, whatever was priced before
        r.batch = false;
        r.service_tier = Some("turbo".into());
        assert_eq!(
            by_pricer(&mut pricer, &r),
            Err(Unpriced::NoTierRate("turbo".into()))
        );
        // claude-sonnet-4-5: 250_000 > 200_000 is long-context: 250_000 × $6/M + 1_000 × $22.50/M =
        // $1.5225; 200_000 is not: 200_000 × $3/M + 1_000 × $15/M = $0.615; then long again.
        let long = on(
            Provider::Anthropic,
            "claude-sonnet-4-5-20250929",
            io(250_000, 1_000),
        );
        let short = on(
            Provider::Anthropic,
            "claude-sonnet-4-5-20250929",
            io(200_000, 1_000),
        );
        assert_eq!(by_pricer(&mut pricer, &long), Ok(dec!(1.5225)));
        assert_eq!(by_pricer(&mut pricer, &short), Ok(dec!(0.615)));
        assert_eq!(by_pricer(&mut pricer, &long), Ok(dec!(1.5225)));
        // a record that states its tier: the short one said to be long is priced long:
        // 200_000 × $6/M + 1_000 × $22.50/M = $1.2225
        let mut stated = short.clone();
        stated.long_context = Some(true);
        assert_eq!(by_pricer(&mut pricer, &stated), Ok(dec!(1.2225)));
        assert_eq!(by_pricer(&mut pricer, &short), Ok(dec!(0.615)));
    }

    #[test]
    fn rates_found_once_follow_the_region() {
        let book = PriceBook::built_in().unwrap();
        let mut pricer = Pricer::new(&book);
        let at = |model: &str, region: Option<&str>| {
            let mut r = on(Provider::Bedrock, model, io(1_000_000, 1_000_000));
            r.region = region.map(Into::into);
            r
        };
        // Bedrock claude-sonnet-4-5 (below its 200_000 long-context threshold): 100_000 × $3/M +
        // 100_000 × $15/M = $1.80 at list price (the `global` profile, or no region); a region (`*`)
        // +10% = $1.98; `us-gov` +20% = $2.16. The profile in the name wins over the record's region.
        let sonnet = "claude-sonnet-4-5-20250929";
        let global = "global.anthropic.claude-sonnet-4-5-20250929-v1:0";
        for (model, region, want) in [
            (sonnet, Some("us-east-1"), dec!(1.98)),
            (sonnet, Some("us-gov-west-1"), dec!(2.16)),
            (sonnet, None, dec!(1.8)),
            (global, Some("us-gov-west-1"), dec!(1.8)),
            (sonnet, Some("US-GOV-WEST-1"), dec!(2.16)),
            (sonnet, Some(" eu-west-1 "), dec!(1.98)),
            (global, None, dec!(1.8)),
            (sonnet, Some("us-east-1"), dec!(1.98)),
        ] {
            let mut r = at(model, region);
            r.tokens = io(100_000, 100_000);
            assert_eq!(by_pricer(&mut pricer, &r), Ok(want), "{model} {region:?}");
        }
        // nova-micro has its own rates by region: eu 1M × $0.046 + 1M × $0.184 = $0.23; us (× 1)
        // 1M × $0.035 + 1M × $0.14 = $0.175; ap 1M × $0.037 + 1M × $0.148 = $0.185. No `*`: a region
        // none covers is unpriced, and named, each its own.
        for (region, want) in [
            ("eu-west-1", Ok(dec!(0.23))),
            ("us-east-1", Ok(dec!(0.175))),
            ("sa-east-1", Err(Unpriced::NoRegionRate("sa-east-1".into()))),
            ("ap-south-1", Ok(dec!(0.185))),
            (
                "me-south-1",
                Err(Unpriced::NoRegionRate("me-south-1".into())),
            ),
            ("eu-central-1", Ok(dec!(0.23))),
        ] {
            assert_eq!(
                by_pricer(&mut pricer, &at("nova-micro", Some(region))),
                want,
                "{region}"
            );
        }
        // batch (× 0.5) on eu's own rates: $0.23 × 0.5 = $0.115; then eu standard again: $0.23
        let mut batch = at("nova-micro", Some("eu-west-1"));
        batch.batch = true;
        assert_eq!(by_pricer(&mut pricer, &batch), Ok(dec!(0.115)));
        assert_eq!(
            by_pricer(&mut pricer, &at("nova-micro", Some("eu-west-1"))),
            Ok(dec!(0.23))
        );
    }

    #[test]
    fn rates_found_once_price_every_entry_as_the_book_does() {
        // Every curated entry, in every period, tier, long-context state and a few regions, priced
        // through one pricer in turn: each the same as the book prices the record alone (same error,
        // same amount and scale). Tokens in every class, so a class without a rate shows too.
        let book = PriceBook::built_in().unwrap();
        let mut pricer = Pricer::new(&book);
        let mut priced = 0;
        for entry in book.models() {
            let provider = Provider::parse(&entry.provider).unwrap_or(Provider::Other);
            for period in &entry.periods {
                let d = period.effective;
                for tokens in [
                    io(123_457, 3_333),
                    TokenCounts {
                        input: 250_001,
                        cache_read: 10_007,
                        cache_write_5m: 999,
                        output: 20_000,
                        reasoning: 7_000,
                        ..TokenCounts::default()
                    },
                    TokenCounts {
                        audio_input: 11,
                        image_output: 5,
                        ..io(1, 1)
                    },
                ] {
                    for tier in [None, Some("flex"), Some("priority"), Some("batch")] {
                        for region in [None, Some("us-east-1"), Some("eu-west-1"), Some("xx-1")] {
                            let mut r = record(&entry.id, (d.year(), d.month(), d.day()), tokens);
                            r.provider = provider;
                            r.service_tier = tier.map(Into::into);
                            r.region = region.map(Into::into);
                            priced += u32::from(by_pricer(&mut pricer, &r).is_ok());
                        }
                    }
                }
            }
        }
        // Most of them priced (the rest are errors, checked the same).
        assert!(priced > 4_000, "{priced}");
    }

    /// Rates as tables write them (`75`, `0.075`, `0.00875`: at most 6 decimals), some zero or missing.
    fn table_rate() -> impl Strategy<Value = Option<Decimal>> {
        prop_oneof![
            1 => Just(None),
            1 => (0u32..=6).prop_map(|s| Some(Decimal::new(0, s))),
            12 => (0i64..10_000, 0u32..=6).prop_map(|(m, s)| Some(Decimal::new(m, s))),
        ]
    }

    /// Any rate: up to the largest mantissa and scale, negative too.
    fn any_rate() -> impl Strategy<Value = Option<Decimal>> {
        prop_oneof![
            1 => Just(None),
            1 => (0u32..=28).prop_map(|s| Some(Decimal::new(0, s))),
            4 => (0i64..100_000, 0u32..=8).prop_map(|(m, s)| Some(Decimal::new(m, s))),
            2 => (0i64..1 << 40, 0u32..=22).prop_map(|(m, s)| Some(Decimal::new(m, s))),
            2 => (any::<i64>(), 0u32..=28).prop_map(|(m, s)| Some(Decimal::new(m, s))),
            1 => (any::<i128>(), 0u32..=28).prop_map(|(m, s)| {
                Decimal::try_from_i128_with_scale(m >> 32, s).ok()
            }),
        ]
    }

    /// Counts as requests have them (many zero), and some very large ones.
    fn count(large: bool) -> impl Strategy<Value = u64> {
        let large = u32::from(large);
        prop_oneof![
            4 => Just(0u64),
            4 => 1u64..2_000,
            4 => 0u64..2_000_000,
            1 => (0u64..3).prop_map(|n| n * 1_000_000),
            large => (0u64..1_000).prop_map(|n| n * 1_000_000),
            large => (0u64..1 << 30).prop_map(|n| n * 100_000_000),
            large => any::<u64>(),
        ]
    }

    /// Checks that the integer path, where it prices, prices as [`cost`] does, to the scale; returns
    /// whether it priced.
    fn same_as_decimal(rates: &[Option<Decimal>], counts: &[u64]) -> Result<bool, TestCaseError> {
        let mut table = Rates::default();
        for (class, rate) in RateClass::ALL.into_iter().zip(rates) {
            if let Some(rate) = rate {
                table.set(class, *rate);
            }
        }
        let t = TokenCounts {
            input: counts[0],
            cache_read: counts[1],
            cache_read_audio: counts[2],
            cache_write_5m: counts[3],
            cache_write_1h: counts[4],
            output: counts[5],
            reasoning: counts[6].min(counts[5]),
            audio_input: counts[7],
            audio_output: counts[8],
            image_input: counts[9],
            image_output: counts[10],
            ..TokenCounts::default()
        };
        let r = record("x", (2026, 10, 3), t);
        let Some(fast) = Exact::of(&table).and_then(|e| e.cost(&r)) else {
            return Ok(false);
        };
        let (cost, fees) = cost(&table, &bare_entry(), &r).unwrap();
        prop_assert_eq!(
            (fast.mantissa(), fast.scale()),
            (cost.mantissa(), cost.scale())
        );
        prop_assert_eq!((fees.mantissa(), fees.scale()), (0, 0));
        Ok(true)
    }

    /// An entry with no tool fees (the integer path leaves tool calls to [`cost`]).
    fn bare_entry() -> ModelPrice {
        ModelPrice {
            id: "x".into(),
            provider: "openai".into(),
            names: Vec::new(),
            patterns: Vec::new(),
            note: None,
            cheaper: None,
            periods: Vec::new(),
            origin: "t".into(),
            fallback: false,
            tools: Vec::new(),
        }
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]
        /// The integer path prices a request exactly as `Decimal` arithmetic does (same value, same
        /// scale): rates as tables write them with every class present and counts as requests have
        /// them, which it always prices.
        #[test]
        fn integer_costs_are_the_decimal_costs_to_the_scale(
            rates in proptest::collection::vec(table_rate().prop_map(|r| r.or(Some(Decimal::ONE))), 11),
            counts in proptest::collection::vec(count(false), 11),
        ) {
            prop_assert!(same_as_decimal(&rates, &counts)?);
        }

        /// Any rates, any counts: the integer path prices exactly, or leaves the request to `Decimal`.
        #[test]
        fn integer_costs_are_exact_or_left_to_decimal(
            rates in proptest::collection::vec(any_rate(), 11),
            counts in proptest::collection::vec(count(true), 11),
        ) {
            same_as_decimal(&rates, &counts)?;
        }

        /// Missing classes and zero rates (a missing class with tokens is left to `Decimal`).
        #[test]
        fn integer_costs_with_missing_and_zero_rates(
            rates in proptest::collection::vec(table_rate(), 11),
            counts in proptest::collection::vec(count(false), 11),
        ) {
            same_as_decimal(&rates, &counts)?;
        }
    }

    #[test]
    fn integer_costs_cover_table_rates_and_keep_their_scale() {
        // Rates as tables write them, counts as requests have them: the integer path prices them, to
        // the digit `Decimal` gives. 1_234 × $2.50 + 567 × $10 = 3_085 + 5_670 = 8_755.00 µ$:
        // $0.00875500 shortened as the division shortens it, to $0.008755.
        let book = PriceBook::built_in().unwrap();
        let mut table = Rates::default();
        table.set(RateClass::Input, dec!(2.50));
        table.set(RateClass::Output, dec!(10));
        let r = record("x", (2026, 10, 3), io(1_234, 567));
        let fast = Exact::of(&table).and_then(|e| e.cost(&r)).unwrap();
        let (slow, _) = cost(&table, book.model(0), &r).unwrap();
        assert_eq!(fast, dec!(0.008755));
        assert_eq!(
            (fast.mantissa(), fast.scale()),
            (slow.mantissa(), slow.scale())
        );
        // 2M × $2.50 = $5.00 exactly: the quotient keeps the rate's scale (5.00, not 5)
        let r = record("x", (2026, 10, 3), io(2_000_000, 0));
        let fast = Exact::of(&table).and_then(|e| e.cost(&r)).unwrap();
        let (slow, _) = cost(&table, book.model(0), &r).unwrap();
        assert_eq!(fast.to_string(), "5.00");
        assert_eq!(slow.to_string(), "5.00");
        // A tool call, or a class with tokens and no rate, is left to `cost`.
        let mut r = record("x", (2026, 10, 3), io(1, 1));
        r.tokens.web_search_requests = 1;
        assert_eq!(Exact::of(&table).and_then(|e| e.cost(&r)), None);
        let mut r = record("x", (2026, 10, 3), io(1, 1));
        r.tokens.audio_input = 1;
        assert_eq!(Exact::of(&table).and_then(|e| e.cost(&r)), None);
    }
}
