//! Price tables: the TOML files in `pricing/` (schema in `pricing/README.md`), loaded and validated into
//! [`ModelPrice`] entries. Every rate is an exact decimal per million tokens (`web_search`: per 1,000).

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use toml::{Table, Value};

use crate::decimal::parse_decimal;
use crate::error::{Error, Result};
use crate::record::ToolKind;

/// A billable class of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateClass {
    Input,
    CacheRead,
    CacheReadAudio,
    CacheWrite5m,
    CacheWrite1h,
    Output,
    Reasoning,
    AudioInput,
    AudioOutput,
    ImageInput,
    ImageOutput,
    WebSearch,
    WebSearchPreview,
    WebFetch,
    FileSearch,
    CodeExecution,
    GroundedPrompt,
}

impl RateClass {
    pub const ALL: [RateClass; 17] = [
        RateClass::Input,
        RateClass::CacheRead,
        RateClass::CacheReadAudio,
        RateClass::CacheWrite5m,
        RateClass::CacheWrite1h,
        RateClass::Output,
        RateClass::Reasoning,
        RateClass::AudioInput,
        RateClass::AudioOutput,
        RateClass::ImageInput,
        RateClass::ImageOutput,
        RateClass::WebSearch,
        RateClass::WebSearchPreview,
        RateClass::WebFetch,
        RateClass::FileSearch,
        RateClass::CodeExecution,
        RateClass::GroundedPrompt,
    ];

    /// The per-call classes: built-in tool fees, USD per 1,000 calls.
    pub const TOOLS: [RateClass; 6] = [
        RateClass::WebSearch,
        RateClass::WebSearchPreview,
        RateClass::WebFetch,
        RateClass::FileSearch,
        RateClass::CodeExecution,
        RateClass::GroundedPrompt,
    ];

    /// The class of a built-in tool's fee.
    pub fn of_tool(kind: ToolKind) -> RateClass {
        match kind {
            ToolKind::WebSearch => RateClass::WebSearch,
            ToolKind::WebSearchPreview => RateClass::WebSearchPreview,
            ToolKind::WebFetch => RateClass::WebFetch,
            ToolKind::FileSearch => RateClass::FileSearch,
            ToolKind::CodeExecution => RateClass::CodeExecution,
            ToolKind::GroundedPrompt => RateClass::GroundedPrompt,
        }
    }

    /// Whether the rate is per 1,000 calls (a tool fee) rather than per million tokens.
    pub fn is_tool(self) -> bool {
        RateClass::TOOLS.contains(&self)
    }

    /// The key used in price table files.
    pub fn key(self) -> &'static str {
        match self {
            RateClass::Input => "input",
            RateClass::CacheRead => "cache_read",
            RateClass::CacheReadAudio => "cache_read_audio",
            RateClass::CacheWrite5m => "cache_write_5m",
            RateClass::CacheWrite1h => "cache_write_1h",
            RateClass::Output => "output",
            RateClass::Reasoning => "reasoning",
            RateClass::AudioInput => "audio_input",
            RateClass::AudioOutput => "audio_output",
            RateClass::ImageInput => "image_input",
            RateClass::ImageOutput => "image_output",
            RateClass::WebSearch => "web_search",
            RateClass::WebSearchPreview => "web_search_preview",
            RateClass::WebFetch => "web_fetch",
            RateClass::FileSearch => "file_search",
            RateClass::CodeExecution => "code_execution",
            RateClass::GroundedPrompt => "grounded_prompt",
        }
    }

    fn from_key(key: &str) -> Option<RateClass> {
        RateClass::ALL.into_iter().find(|c| c.key() == key)
    }
}

/// Rates of one price period (or tier, or long-context block), per class. `None`: the class has no rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rates([Option<Decimal>; 17]);

impl Rates {
    pub fn get(&self, class: RateClass) -> Option<Decimal> {
        self.0[class as usize]
    }

    pub fn set(&mut self, class: RateClass, rate: Decimal) {
        self.0[class as usize] = Some(rate);
    }

    /// Every token rate multiplied by `factor` (a batch or flex discount); per-call tool fees (web
    /// search, file search, …) are not discounted.
    pub fn scaled(&self, factor: Decimal) -> Rates {
        let mut scaled = Rates(self.0.map(|r| r.map(|r| r * factor)));
        for class in RateClass::TOOLS {
            scaled.0[class as usize] = self.get(class);
        }
        scaled
    }

    /// Classes missing here take the rate from `fallback`.
    fn or(mut self, fallback: &Rates) -> Rates {
        for (mine, theirs) in self.0.iter_mut().zip(fallback.0.iter()) {
            if mine.is_none() {
                *mine = *theirs;
            }
        }
        self
    }

    /// Fills cache classes from the input rate by the file's `[derive]` factors.
    fn derived(mut self, derive: &Rates) -> Rates {
        if let Some(input) = self.get(RateClass::Input) {
            for class in [
                RateClass::CacheRead,
                RateClass::CacheWrite5m,
                RateClass::CacheWrite1h,
            ] {
                if let (None, Some(f)) = (self.get(class), derive.get(class)) {
                    self.set(class, input * f);
                }
            }
        }
        self
    }
}

/// A named service tier with its own pricing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    Batch,
    Flex,
    Priority,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Batch, Tier::Flex, Tier::Priority];

    pub fn key(self) -> &'static str {
        match self {
            Tier::Batch => "batch",
            Tier::Flex => "flex",
            Tier::Priority => "priority",
        }
    }
}

/// How a tier prices: a factor on the period's rates, or its own rates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TierPrice {
    Multiplier(Decimal),
    Rates {
        rates: Box<Rates>,
        long_context: Option<Box<Rates>>,
    },
}

/// The whole-request long-context tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongContext {
    /// Input tokens (uncached + cache read + cache writes) above which the whole request is repriced.
    pub threshold: u64,
    pub rates: Rates,
}

/// Rates in force from `effective` until the next period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricePeriod {
    pub effective: NaiveDate,
    pub rates: Rates,
    pub long_context: Option<LongContext>,
    pub tiers: [Option<TierPrice>; 3],
    /// Regional prices (`regions = { global = "1", "*" = "1.1" }`), keyed by lower-case region or region
    /// prefix; `*` is the explicit default. Empty: the period's rates apply in every region.
    pub regions: Vec<(String, TierPrice)>,
}

impl PricePeriod {
    pub fn tier(&self, tier: Tier) -> Option<&TierPrice> {
        self.tiers[tier as usize].as_ref()
    }

    /// The regional price for a record's region (lower case): the key equal to `region`, else the longest
    /// key that is a prefix of it followed by `-` (`us` covers `us-east-1`, `us-gov` covers `us-gov-west-1`),
    /// else the `*` default. `None`: the period has no price for the region (and none by default).
    pub fn region(&self, region: &str) -> Option<(&str, &TierPrice)> {
        self.region_index(region).map(|i| {
            let (k, p) = &self.regions[i];
            (k.as_str(), p)
        })
    }

    /// Where in `regions` the price for `region` is (see [`PricePeriod::region`]).
    pub fn region_index(&self, region: &str) -> Option<usize> {
        region_index_in(&self.regions, region)
    }
}

/// Where in a `regions` map the price for `region` (lower case) is: the key equal to it, else the
/// longest key that is a prefix of it followed by `-`, else the `*` default.
pub fn region_index_in<T>(regions: &[(String, T)], region: &str) -> Option<usize> {
    if let Some(i) = regions.iter().position(|(k, _)| k == region) {
        return Some(i);
    }
    let prefix = regions
        .iter()
        .enumerate()
        .filter(|(_, (k, _))| {
            k != "*"
                && region.len() > k.len()
                && region.starts_with(k.as_str())
                && region.as_bytes()[k.len()] == b'-'
        })
        .max_by_key(|(_, (k, _))| k.len());
    if let Some((i, _)) = prefix {
        return Some(i);
    }
    regions.iter().position(|(k, _)| k == "*")
}

/// One model's prices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPrice {
    pub id: String,
    pub provider: String,
    pub names: Vec<String>,
    pub patterns: Vec<String>,
    pub note: Option<String>,
    /// A cheaper sibling of the same maker and family (`claude-opus-4-1` → `claude-sonnet-4-5`), for
    /// `aispend recommend`: a canonical id of the same table.
    pub cheaper: Option<String>,
    /// Oldest first.
    pub periods: Vec<PricePeriod>,
    /// The file the entry came from.
    pub origin: String,
    /// Taken from LiteLLM's price map by `--pricing-fallback`, not from a curated table.
    pub fallback: bool,
    /// Built-in tool fees from the file's `[[tool]]` blocks that cover this entry, oldest first per tool.
    pub tools: Vec<ToolPrice>,
}

/// A built-in tool's fee (USD per 1,000 calls) from a date on, from a file's `[[tool]]` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolPrice {
    pub class: RateClass,
    pub effective: NaiveDate,
    pub per_1k: Decimal,
}

impl ModelPrice {
    /// The fee of a tool's calls on `date` from the file's `[[tool]]` blocks: the newest block in force
    /// then. `None` before the first one (the tool had no published price yet) or when none covers the
    /// entry.
    pub fn tool_rate(&self, class: RateClass, date: NaiveDate) -> Option<Decimal> {
        self.tools
            .iter()
            .filter(|t| t.class == class && t.effective <= date)
            .max_by_key(|t| t.effective)
            .map(|t| t.per_1k)
    }

    /// The period in force on `date` (the first one for dates before it).
    pub fn period_at(&self, date: NaiveDate) -> &PricePeriod {
        &self.periods[self.period_index(date)]
    }

    /// Where in `periods` the period in force on `date` is (see [`ModelPrice::period_at`]).
    pub fn period_index(&self, date: NaiveDate) -> usize {
        self.periods
            .partition_point(|p| p.effective <= date)
            .saturating_sub(1)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    provider: String,
    #[serde(default)]
    reviewed: Option<Value>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    derive: Option<Table>,
    /// `[resold] regions = { … }`: multipliers by region on the other makers' entries a record of this
    /// provider is priced from (Azure's Data Zone deployments of OpenAI's models).
    #[serde(default)]
    resold: Option<ResoldSpec>,
    #[serde(default, rename = "model")]
    models: Vec<ModelSpec>,
    #[serde(default, rename = "alias")]
    aliases: Vec<AliasSpec>,
    #[serde(default, rename = "tool")]
    tools: Vec<ToolSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResoldSpec {
    regions: Value,
    /// Globs on the other tables' entry ids (`claude-*`); every entry when left out.
    #[serde(default)]
    models: Vec<String>,
    /// Only entries first priced on or after this date (the models launched since the uplift began).
    #[serde(default)]
    since: Option<Value>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// One price table file, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceFile {
    /// The provider the file prices (`openai`, `azure`, …).
    pub provider: String,
    pub models: Vec<ModelPrice>,
    /// `[resold]`: multipliers by region on the rates of other providers' entries that a record of this
    /// provider is priced from.
    pub resold: Option<Resold>,
}

/// A reseller's multipliers by region on other providers' entries (a file's `[resold]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Resold {
    /// Region (lower case, looked up as a period's `regions`) → multiplier; regions it does not name pay
    /// the entry's rates as they are.
    pub regions: Vec<(String, Decimal)>,
    /// Globs on entry ids (lower case), compiled once: every entry when empty.
    pub models: Vec<wildmatch::WildMatch>,
    /// Only entries whose first price period starts on or after this date.
    pub since: Option<NaiveDate>,
}

impl Resold {
    /// Whether the multipliers apply to `entry`.
    pub fn covers(&self, entry: &ModelPrice) -> bool {
        let since = self
            .since
            .is_none_or(|d| entry.periods.first().is_some_and(|p| p.effective >= d));
        since && (self.models.is_empty() || self.models.iter().any(|m| m.matches(&entry.id)))
    }
}

/// A built-in tool's per-call fee from a date on, for the file's entries whose id matches `models`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ToolSpec {
    /// `web_search`, `web_fetch`, `file_search`, `code_execution` or `grounded_prompt`.
    name: String,
    effective: Value,
    /// USD per 1,000 calls, a decimal string.
    per_1k: String,
    /// Globs on entry ids (`claude-*`); every entry of the file when left out.
    #[serde(default)]
    models: Vec<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// A moving name (`mistral-large-latest`) and the models it pointed to, each from a date.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AliasSpec {
    name: String,
    #[serde(default)]
    note: Option<String>,
    to: Vec<AliasTarget>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AliasTarget {
    from: Value,
    model: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelSpec {
    id: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    patterns: Vec<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    cheaper: Option<String>,
    #[serde(default, rename = "price")]
    prices: Vec<Table>,
}

/// Parses and validates one price table file: its entries only (see [`parse_file`]).
pub fn parse_table(text: &str, origin: &str) -> Result<Vec<ModelPrice>> {
    parse_file(text, origin).map(|f| f.models)
}

/// Parses and validates one price table file. `origin` names it in errors.
pub fn parse_file(text: &str, origin: &str) -> Result<PriceFile> {
    let err = |message: String| Error::Config {
        file: origin.to_string(),
        message,
    };
    let spec: FileSpec =
        toml::from_str(text).map_err(|e| err(e.to_string().trim_end().to_string()))?;
    file_from(spec, origin)
}

/// [`parse_file`] on a table converted to JSON (a built-in one, see `build.rs`).
pub fn parse_json_file(json: &str, origin: &str) -> Result<PriceFile> {
    let spec: FileSpec = serde_json::from_str(json).map_err(|e| Error::Config {
        file: origin.to_string(),
        message: e.to_string(),
    })?;
    file_from(spec, origin)
}

/// Validates a parsed table file.
fn file_from(spec: FileSpec, origin: &str) -> Result<PriceFile> {
    let err = |message: String| Error::Config {
        file: origin.to_string(),
        message,
    };
    let _ = (&spec.reviewed, &spec.source);
    let resold = match &spec.resold {
        Some(r) => Some(resold_from(r).map_err(err)?),
        None => None,
    };
    let provider = crate::record::Provider::parse(&spec.provider)
        .ok_or_else(|| {
            err(format!(
                "unknown provider '{}' (expected one of: {})",
                spec.provider,
                crate::record::Provider::ALL
                    .map(crate::record::Provider::as_str)
                    .join(", ")
            ))
        })?
        .as_str()
        .to_string();
    let derive = match &spec.derive {
        Some(t) => rates_from(t, &[], &"[derive]").map_err(err)?,
        None => Rates::default(),
    };
    let mut models = Vec::with_capacity(spec.models.len());
    for m in spec.models {
        let ctx = Where::new(|f| write!(f, "model '{}'", m.id));
        if m.id.trim().is_empty() {
            return Err(err("a model has an empty id".into()));
        }
        if m.prices.is_empty() {
            return Err(err(format!("{ctx} has no [[model.price]] period")));
        }
        let mut periods = Vec::with_capacity(m.prices.len());
        for (i, table) in m.prices.iter().enumerate() {
            let ctx = Where::new(|f| write!(f, "{ctx}, price period {}", i + 1));
            periods.push(period_from(table, &derive, &ctx).map_err(err)?);
        }
        for pair in periods.windows(2) {
            if pair[0].effective >= pair[1].effective {
                return Err(err(format!(
                    "{ctx}: price periods must be in ascending `effective` order"
                )));
            }
        }
        models.push(ModelPrice {
            id: m.id.to_ascii_lowercase(),
            provider: provider.clone(),
            names: m.names.iter().map(|n| n.to_ascii_lowercase()).collect(),
            patterns: m.patterns.iter().map(|n| n.to_ascii_lowercase()).collect(),
            note: m.note,
            cheaper: m.cheaper.map(|c| c.trim().to_ascii_lowercase()),
            periods,
            origin: origin.to_string(),
            fallback: false,
            tools: Vec::new(),
        });
    }
    for m in &models {
        if let Some(c) = &m.cheaper {
            if !models.iter().any(|o| &o.id == c) {
                return Err(err(format!(
                    "model '{}': `cheaper` names '{c}', which is not a model id of this file",
                    m.id
                )));
            }
        }
    }
    for alias in spec.aliases {
        let entry = alias_entry(&alias, &models, &provider, origin).map_err(err)?;
        models.push(entry);
    }
    for (i, tool) in spec.tools.iter().enumerate() {
        let ctx = Where::new(|f| write!(f, "tool {} ({})", i + 1, tool.name));
        let _ = (&tool.source, &tool.note);
        let class = ToolKind::parse(&tool.name)
            .map(RateClass::of_tool)
            .ok_or_else(|| {
                err(format!(
                    "{ctx}: unknown tool (expected one of: {})",
                    ToolKind::ALL.map(ToolKind::key).join(", ")
                ))
            })?;
        let effective = date_from(&tool.effective).ok_or_else(|| {
            err(format!(
                "{ctx}: `effective` must be a date like \"2025-06-10\""
            ))
        })?;
        let per_1k = parse_rate(&tool.per_1k).ok_or_else(|| {
            err(format!(
                "{ctx}: `per_1k` must be a non-negative decimal string, got {:?}",
                tool.per_1k
            ))
        })?;
        let globs: Vec<wildmatch::WildMatch> = tool
            .models
            .iter()
            .map(|m| wildmatch::WildMatch::new(&m.to_ascii_lowercase()))
            .collect();
        let mut covered = 0;
        for model in &mut models {
            if globs.is_empty() || globs.iter().any(|g| g.matches(&model.id)) {
                model.tools.push(ToolPrice {
                    class,
                    effective,
                    per_1k,
                });
                covered += 1;
            }
        }
        if covered == 0 {
            return Err(err(format!(
                "{ctx}: `models` matches no entry of this file"
            )));
        }
    }
    Ok(PriceFile {
        provider,
        models,
        resold,
    })
}

/// An alias as an entry of its own whose periods are its targets' rates, each cut to the dates the alias
/// pointed to it: a record is priced as the model its alias named on the record's date.
fn alias_entry(
    alias: &AliasSpec,
    models: &[ModelPrice],
    provider: &str,
    origin: &str,
) -> std::result::Result<ModelPrice, String> {
    let ctx = Where::new(|f| write!(f, "alias '{}'", alias.name));
    if alias.to.is_empty() {
        return Err(format!("{ctx} points to no model (`to` is empty)"));
    }
    let mut steps = Vec::with_capacity(alias.to.len());
    for t in &alias.to {
        let from = date_from(&t.from)
            .ok_or_else(|| format!("{ctx}: `from` must be a date like \"2025-06-10\""))?;
        let name = t.model.to_ascii_lowercase();
        let target = models
            .iter()
            .find(|m| m.id == name || m.names.contains(&name))
            .ok_or_else(|| format!("{ctx}: no model '{}' in this file", t.model))?;
        steps.push((from, target));
    }
    if steps.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(format!("{ctx}: `to` must be in ascending `from` order"));
    }
    let mut periods = Vec::new();
    for (i, (from, target)) in steps.iter().enumerate() {
        let until = steps.get(i + 1).map(|s| s.0);
        let mut first = target.period_at(*from).clone();
        first.effective = *from;
        periods.push(first);
        periods.extend(
            target
                .periods
                .iter()
                .filter(|p| p.effective > *from && until.is_none_or(|u| p.effective < u))
                .cloned(),
        );
    }
    let route: Vec<String> = steps
        .iter()
        .map(|(from, m)| format!("{} from {from}", m.id))
        .collect();
    let note = match &alias.note {
        Some(n) => format!("alias: {}; {n}", route.join(", ")),
        None => format!("alias: {}", route.join(", ")),
    };
    Ok(ModelPrice {
        id: alias.name.to_ascii_lowercase(),
        provider: provider.to_string(),
        names: Vec::new(),
        patterns: Vec::new(),
        note: Some(note),
        cheaper: None,
        periods,
        origin: origin.to_string(),
        fallback: false,
        tools: Vec::new(),
    })
}

const PERIOD_KEYS: &[&str] = &[
    "effective",
    "long_context",
    "batch",
    "flex",
    "priority",
    "regions",
];

/// Where in a table a value is (`model 'x', price period 2, tier batch`), for error messages: put into
/// words only when one is reported, as the tables are read on every run.
struct Where<F>(F);

impl<F: Fn(&mut fmt::Formatter<'_>) -> fmt::Result> Where<F> {
    fn new(words: F) -> Where<F> {
        Where(words)
    }
}

impl<F: Fn(&mut fmt::Formatter<'_>) -> fmt::Result> fmt::Display for Where<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.0)(f)
    }
}

fn period_from(
    table: &Table,
    derive: &Rates,
    ctx: &dyn fmt::Display,
) -> std::result::Result<PricePeriod, String> {
    let effective = match table.get("effective") {
        Some(v) => date_from(v)
            .ok_or_else(|| format!("{ctx}: `effective` must be a date like \"2025-06-10\""))?,
        None => return Err(format!("{ctx}: missing `effective` date")),
    };
    let base = rates_from(table, PERIOD_KEYS, ctx)?;
    if base.get(RateClass::Input).is_none() || base.get(RateClass::Output).is_none() {
        return Err(format!("{ctx}: needs at least `input` and `output` rates"));
    }
    let rates = base.derived(derive);
    let long_context = match table.get("long_context") {
        None => None,
        Some(Value::Table(t)) => {
            let ctx = Where::new(|f| write!(f, "{ctx}, long_context"));
            let threshold = match t.get("threshold") {
                Some(Value::Integer(n)) if *n > 0 => *n as u64,
                _ => {
                    return Err(format!(
                        "{ctx}: needs `threshold`, a positive number of input tokens"
                    ))
                }
            };
            let lc = rates_from(t, &["threshold"], &ctx)?;
            Some(LongContext {
                threshold,
                rates: lc.derived(derive).or(&rates),
            })
        }
        Some(_) => return Err(format!("{ctx}: `long_context` must be a table")),
    };
    let mut tiers: [Option<TierPrice>; 3] = Default::default();
    for tier in Tier::ALL {
        let Some(v) = table.get(tier.key()) else {
            continue;
        };
        let ctx = Where::new(|f| write!(f, "{ctx}, tier {}", tier.key()));
        tiers[tier as usize] = Some(price_from(v, derive, &ctx, "a tier")?);
    }
    let regions = regions_from(table.get("regions"), derive, ctx)?;
    Ok(PricePeriod {
        effective,
        rates,
        long_context,
        tiers,
        regions,
    })
}

/// A file's `[resold]` block: multipliers only.
fn resold_from(spec: &ResoldSpec) -> std::result::Result<Resold, String> {
    let _ = (&spec.source, &spec.note);
    let since = match &spec.since {
        None => None,
        Some(v) => {
            Some(date_from(v).ok_or("[resold]: `since` must be a date like \"2025-09-29\"")?)
        }
    };
    let mut regions = Vec::new();
    for (region, price) in regions_from(Some(&spec.regions), &Rates::default(), &"[resold]")? {
        match price {
            TierPrice::Multiplier(m) => regions.push((region, m)),
            TierPrice::Rates { .. } => {
                return Err(format!(
                    "[resold], region {region}: a multiplier string (\"1.1\"), not rates"
                ))
            }
        }
    }
    Ok(Resold {
        regions,
        models: spec
            .models
            .iter()
            .map(|m| wildmatch::WildMatch::new(&m.to_ascii_lowercase()))
            .collect(),
        since,
    })
}

/// A `regions` map: region (lower case) → its price.
fn regions_from(
    v: Option<&Value>,
    derive: &Rates,
    ctx: &dyn fmt::Display,
) -> std::result::Result<Vec<(String, TierPrice)>, String> {
    let mut regions = Vec::new();
    match v {
        None => {}
        Some(Value::Table(t)) => {
            for (key, v) in t {
                let region = key.trim().to_ascii_lowercase();
                if region.is_empty() {
                    return Err(format!("{ctx}: `regions` has an empty key"));
                }
                let ctx = Where::new(|f| write!(f, "{ctx}, region {key}"));
                regions.push((region, price_from(v, derive, &ctx, "a region")?));
            }
        }
        Some(_) => {
            return Err(format!(
                "{ctx}: `regions` must be a table such as {{ global = \"1\", \"*\" = \"1.1\" }}"
            ))
        }
    }
    Ok(regions)
}

/// A tier's or a region's price: a multiplier string (`"0.5"`) or its own table of rates (classes it
/// does not list are derived from its input rate), optionally with its own `long_context` rates.
fn price_from(
    v: &Value,
    derive: &Rates,
    ctx: &dyn fmt::Display,
    what: &str,
) -> std::result::Result<TierPrice, String> {
    Ok(match v {
        Value::String(s) => TierPrice::Multiplier(
            parse_rate(s).ok_or_else(|| format!("{ctx}: not a decimal multiplier: {s:?}"))?,
        ),
        Value::Table(t) => {
            let own = rates_from(t, &["long_context"], ctx)?;
            if own.get(RateClass::Input).is_none() || own.get(RateClass::Output).is_none() {
                return Err(format!("{ctx}: needs at least `input` and `output` rates"));
            }
            let own = own.derived(derive);
            let lc = match t.get("long_context") {
                None => None,
                Some(Value::Table(lt)) => Some(rates_from(lt, &[], ctx)?.derived(derive).or(&own)),
                Some(_) => return Err(format!("{ctx}: `long_context` must be a table")),
            };
            TierPrice::Rates {
                rates: Box::new(own),
                long_context: lc.map(Box::new),
            }
        }
        _ => {
            return Err(format!(
                "{ctx}: {what} is a multiplier string (\"0.5\") or a table of rates"
            ))
        }
    })
}

fn rates_from(
    table: &Table,
    extra: &[&str],
    ctx: &dyn fmt::Display,
) -> std::result::Result<Rates, String> {
    let mut rates = Rates::default();
    for (key, value) in table {
        if extra.contains(&key.as_str()) {
            continue;
        }
        let class = RateClass::from_key(key).ok_or_else(|| {
            let known: Vec<&str> = RateClass::ALL
                .iter()
                .map(|c| c.key())
                .chain(extra.iter().copied())
                .collect();
            format!(
                "{ctx}: unknown key `{key}` (expected one of: {})",
                known.join(", ")
            )
        })?;
        let rate = match value {
            Value::String(s) => parse_rate(s),
            _ => None,
        }
        .ok_or_else(|| {
            format!("{ctx}: `{key}` must be a decimal string such as \"2.50\", not {value}")
        })?;
        rates.set(class, rate);
    }
    Ok(rates)
}

fn parse_rate(s: &str) -> Option<Decimal> {
    parse_decimal(s).filter(|d| !d.is_sign_negative())
}

fn date_from(v: &Value) -> Option<NaiveDate> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Datetime(d) => d.to_string(),
        _ => return None,
    };
    NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const SAMPLE: &str = r#"
provider = "anthropic"
[derive]
cache_read = "0.1"
cache_write_5m = "1.25"
cache_write_1h = "2"

[[model]]
id = "claude-sonnet-4-5"
names = ["claude-sonnet-4-5-20250929"]
[[model.price]]
effective = "2025-09-29"
input = "3"
output = "15"
batch = "0.5"
priority = { input = "6", output = "30" }
long_context = { threshold = 200000, input = "6", output = "22.5" }
"#;

    #[test]
    fn derives_cache_rates_from_input() {
        let models = parse_table(SAMPLE, "t.toml").unwrap();
        let p = &models[0].periods[0];
        // 3 × 0.1 = 0.3; 3 × 1.25 = 3.75; 3 × 2 = 6
        assert_eq!(p.rates.get(RateClass::CacheRead), Some(dec!(0.3)));
        assert_eq!(p.rates.get(RateClass::CacheWrite5m), Some(dec!(3.75)));
        assert_eq!(p.rates.get(RateClass::CacheWrite1h), Some(dec!(6)));
        // long context: 6 × 0.1 = 0.6 cache read, 6 × 1.25 = 7.5, output as given
        let lc = p.long_context.as_ref().unwrap();
        assert_eq!(lc.threshold, 200_000);
        assert_eq!(lc.rates.get(RateClass::CacheRead), Some(dec!(0.6)));
        assert_eq!(lc.rates.get(RateClass::CacheWrite5m), Some(dec!(7.5)));
        assert_eq!(lc.rates.get(RateClass::Output), Some(dec!(22.5)));
        assert_eq!(p.tier(Tier::Batch), Some(&TierPrice::Multiplier(dec!(0.5))));
        assert!(p.tier(Tier::Flex).is_none());
    }

    #[test]
    fn rejects_floats_unknown_keys_and_disorder() {
        let e = parse_table(&SAMPLE.replace("input = \"3\"", "input = 3.0"), "t.toml").unwrap_err();
        assert!(
            e.to_string().contains("`input` must be a decimal string"),
            "{e}"
        );
        let e = parse_table(
            &SAMPLE.replace("output = \"15\"", "output = \"15\"\ncached = \"1\""),
            "t.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown key `cached`"), "{e}");
        let two = format!("{SAMPLE}\n[[model.price]]\neffective = \"2024-01-01\"\ninput = \"1\"\noutput = \"2\"\n");
        let e = parse_table(&two, "t.toml").unwrap_err();
        assert!(e.to_string().contains("ascending"), "{e}");
    }

    #[test]
    fn aliases_take_their_targets_rates_by_date() {
        let text = r#"
provider = "mistral"
[[model]]
id = "large-2"
[[model.price]]
effective = "2024-07-24"
input = "3"
output = "9"
[[model.price]]
effective = "2024-09-18"
input = "2"
output = "6"
[[model]]
id = "large-3"
[[model.price]]
effective = "2025-12-02"
input = "0.5"
output = "1.5"
[[alias]]
name = "large-latest"
to = [{ from = "2024-08-01", model = "large-2" }, { from = "2025-12-02", model = "large-3" }]
"#;
        let models = parse_table(text, "t.toml").unwrap();
        let alias = models.iter().find(|m| m.id == "large-latest").unwrap();
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let input = |day| alias.period_at(d(day)).rates.get(RateClass::Input);
        // large-2 at $3 from the alias's first date, $2 after its cut, then large-3 at $0.50
        assert_eq!(input("2024-08-01"), Some(dec!(3)));
        assert_eq!(input("2024-10-01"), Some(dec!(2)));
        assert_eq!(input("2025-12-01"), Some(dec!(2)));
        assert_eq!(input("2025-12-02"), Some(dec!(0.5)));
        let bad = text.replace("model = \"large-3\"", "model = \"large-9\"");
        let e = parse_table(&bad, "t.toml").unwrap_err();
        assert!(e.to_string().contains("no model 'large-9'"), "{e}");
    }

    #[test]
    fn period_at_picks_the_rate_in_force() {
        let text = r#"
provider = "openai"
[[model]]
id = "o3"
[[model.price]]
effective = "2025-04-16"
input = "10"
output = "40"
[[model.price]]
effective = "2025-06-10"
input = "2"
output = "8"
"#;
        let m = &parse_table(text, "t.toml").unwrap()[0];
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            m.period_at(d("2025-06-09")).rates.get(RateClass::Input),
            Some(dec!(10))
        );
        assert_eq!(
            m.period_at(d("2025-06-10")).rates.get(RateClass::Input),
            Some(dec!(2))
        );
        assert_eq!(
            m.period_at(d("2020-01-01")).rates.get(RateClass::Input),
            Some(dec!(10))
        );
    }
}
