//! Reports: aggregation of priced records by dimensions, then one renderer per output format.

use chrono::Datelike;
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::period::Period;
use crate::record::{Text, UsageRecord};

pub mod aggregate;
pub mod daily;
pub mod reconcile;
pub mod render;

pub use aggregate::{Aggregator, ReportQuery, SortBy};

/// A dimension to group or filter by (SPEC "DIMS").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Dim {
    Provider,
    Model,
    Team,
    Project,
    User,
    ApiKey,
    Workspace,
    ServiceTier,
    Source,
    Day,
    Week,
    Month,
    Tag(String),
}

/// The value shown for a record that has no value in a dimension.
pub const NONE: &str = "(none)";

impl Dim {
    pub const NAMES: &'static str =
        "provider, model, team, project, user, api_key, workspace, service_tier, source, day, week, month, tag:KEY";

    pub fn parse(s: &str) -> Result<Dim> {
        let s = s.trim();
        Ok(match s {
            "provider" => Dim::Provider,
            "model" => Dim::Model,
            "team" => Dim::Team,
            "project" => Dim::Project,
            "user" => Dim::User,
            "api_key" => Dim::ApiKey,
            "workspace" => Dim::Workspace,
            "service_tier" => Dim::ServiceTier,
            "source" => Dim::Source,
            "day" => Dim::Day,
            "week" => Dim::Week,
            "month" => Dim::Month,
            _ => match s.strip_prefix("tag:") {
                Some(k) if !k.is_empty() => Dim::Tag(k.to_string()),
                _ => {
                    return Err(Error::usage(format!(
                        "unknown dimension '{s}': expected one of {}",
                        Dim::NAMES
                    )))
                }
            },
        })
    }

    /// Parses a comma list (`team,model`).
    pub fn parse_list(s: &str) -> Result<Vec<Dim>> {
        let dims: Vec<Dim> = s
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(Dim::parse)
            .collect::<Result<_>>()?;
        if dims.is_empty() {
            return Err(Error::usage(format!(
                "--by needs at least one dimension: {}",
                Dim::NAMES
            )));
        }
        Ok(dims)
    }

    /// The field name in JSON and CSV output.
    pub fn name(&self) -> String {
        match self {
            Dim::Provider => "provider".into(),
            Dim::Model => "model".into(),
            Dim::Team => "team".into(),
            Dim::Project => "project".into(),
            Dim::User => "user".into(),
            Dim::ApiKey => "api_key".into(),
            Dim::Workspace => "workspace".into(),
            Dim::ServiceTier => "service_tier".into(),
            Dim::Source => "source".into(),
            Dim::Day => "day".into(),
            Dim::Week => "week".into(),
            Dim::Month => "month".into(),
            Dim::Tag(k) => format!("tag:{k}"),
        }
    }

    /// The record's value in this dimension. `team` and `model` come from attribution and pricing.
    pub fn value(&self, r: &UsageRecord, team: &str, model: &str, tz: Tz) -> String {
        let mut out = String::new();
        self.write_value(r, team, model, tz, &mut out);
        out
    }

    /// Appends the record's value in this dimension to `out` (no allocation on the hot path).
    pub fn write_value(&self, r: &UsageRecord, team: &str, model: &str, tz: Tz, out: &mut String) {
        use std::fmt::Write;
        fn opt(v: &Option<Text>) -> &str {
            v.as_deref().filter(|s| !s.is_empty()).unwrap_or(NONE)
        }
        let text: &str = match self {
            Dim::Provider => r.provider.as_str(),
            Dim::Model => model,
            Dim::Team => team,
            Dim::Project => opt(&r.project),
            Dim::User => opt(&r.user),
            Dim::ApiKey => opt(&r.api_key),
            Dim::Workspace => opt(&r.workspace),
            Dim::ServiceTier if r.batch => "batch",
            Dim::ServiceTier => opt(&r.service_tier),
            Dim::Source => r.source,
            Dim::Day | Dim::Week | Dim::Month => {
                let local = r.start.with_timezone(&tz);
                let _ = match self {
                    Dim::Day => write!(
                        out,
                        "{:04}-{:02}-{:02}",
                        local.year(),
                        local.month(),
                        local.day()
                    ),
                    Dim::Month => write!(out, "{:04}-{:02}", local.year(), local.month()),
                    _ => {
                        let w = local.iso_week();
                        write!(out, "{:04}-W{:02}", w.year(), w.week())
                    }
                };
                return;
            }
            Dim::Tag(k) => r
                .tags
                .get(k.as_str())
                .map(Text::as_str)
                .filter(|v| !v.is_empty())
                .unwrap_or(NONE),
        };
        out.push_str(text);
    }
}

/// `--by`: the dimensions to group by, in order (parsed from a comma list by the command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dims(pub Vec<Dim>);

impl Dims {
    pub fn parse(s: &str) -> Result<Dims> {
        Dim::parse_list(s).map(Dims)
    }
}

/// Filters in the order the aggregators expect: grouped by dimension, so that filters on the same
/// dimension are alternatives.
pub fn sorted_filters(filters: &[Filter]) -> Vec<Filter> {
    let mut filters = filters.to_vec();
    filters.sort_by_key(|f| f.dim.name());
    filters
}

/// `--where DIM=VALUE`: values may use `*`. Filters on the same dimension are alternatives; filters on
/// different dimensions must all hold.
#[derive(Debug, Clone)]
pub struct Filter {
    pub dim: Dim,
    pub pattern: wildmatch::WildMatch,
}

impl Filter {
    pub fn parse(s: &str) -> Result<Filter> {
        let (dim, value) = s
            .split_once('=')
            .ok_or_else(|| Error::usage(format!("'{s}': expected DIM=VALUE, e.g. team=search")))?;
        Ok(Filter {
            dim: Dim::parse(dim)?,
            pattern: wildmatch::WildMatch::new(value.trim()),
        })
    }
}

/// Sums over a set of records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub requests: u64,
    pub failed_requests: u64,
    pub input_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_tokens: u64,
    pub cost: Decimal,
    /// Sum of provider-reported costs, over `reported_records` records.
    pub reported_cost: Decimal,
    pub reported_records: u64,
    /// Records counted here without a computed cost (reconciliation only).
    pub unpriced_records: u64,
    /// A sum reached the largest value it can hold and stopped there (absurd input): the figures are
    /// lower bounds, and the command warns.
    pub saturated: bool,
    /// The part of `cost` priced from the fallback price map (`--pricing-fallback`), over
    /// `fallback_records` records.
    pub fallback_cost: Decimal,
    pub fallback_records: u64,
    /// The cost under a what-if scenario (`aispend whatif`); zero otherwise.
    pub scenario_cost: Decimal,
    /// The part of `cost` that is built-in tool fees (web search, web fetch, file search, grounding).
    pub tool_fees: Decimal,
    /// Built-in tool calls counted (every tool).
    pub tool_calls: u64,
}

impl Totals {
    pub fn of(r: &UsageRecord, cost: Decimal) -> Totals {
        let t = &r.tokens;
        let reported = r.reported_usd();
        Totals {
            requests: r.requests,
            failed_requests: if r.failed { r.requests } else { 0 },
            input_tokens: t.input,
            cache_read_tokens: t.cache_read,
            cache_write_tokens: t.cache_write(),
            output_tokens: t.output,
            reasoning_tokens: t.reasoning,
            cost,
            reported_cost: reported.unwrap_or_default(),
            reported_records: u64::from(reported.is_some()),
            unpriced_records: 0,
            saturated: false,
            fallback_cost: Decimal::ZERO,
            fallback_records: 0,
            scenario_cost: Decimal::ZERO,
            tool_fees: Decimal::ZERO,
            tool_calls: t.tool_calls(),
        }
    }

    /// Where the group's cost came from: `table`, `litellm` (all from the fallback), or `table+litellm`.
    pub fn price_source(&self) -> &'static str {
        match (self.fallback_records, self.fallback_cost == self.cost) {
            (0, _) => "table",
            (_, true) => "litellm",
            (_, false) => "table+litellm",
        }
    }

    /// Adds another group's sums. On absurd input a sum saturates (stops at its largest value) rather
    /// than wrapping or panicking, and the totals are marked `saturated` so the command can warn.
    pub fn add(&mut self, o: &Totals) {
        let mut saturated = o.saturated;
        let mut add = |a: &mut u64, b: u64| {
            *a = a.checked_add(b).unwrap_or_else(|| {
                saturated = true;
                u64::MAX
            })
        };
        add(&mut self.requests, o.requests);
        add(&mut self.failed_requests, o.failed_requests);
        add(&mut self.input_tokens, o.input_tokens);
        add(&mut self.cache_read_tokens, o.cache_read_tokens);
        add(&mut self.cache_write_tokens, o.cache_write_tokens);
        add(&mut self.output_tokens, o.output_tokens);
        add(&mut self.reasoning_tokens, o.reasoning_tokens);
        add(&mut self.reported_records, o.reported_records);
        add(&mut self.unpriced_records, o.unpriced_records);
        add(&mut self.fallback_records, o.fallback_records);
        add(&mut self.tool_calls, o.tool_calls);
        let mut add_money = |a: &mut Decimal, b: Decimal| {
            *a = a.checked_add(b).unwrap_or_else(|| {
                saturated = true;
                if b.is_sign_negative() {
                    Decimal::MIN
                } else {
                    Decimal::MAX
                }
            })
        };
        // Adding zero gives back the sum as it was (its scale too): most amounts of a record are zero.
        for (a, b) in [
            (&mut self.cost, o.cost),
            (&mut self.reported_cost, o.reported_cost),
            (&mut self.fallback_cost, o.fallback_cost),
            (&mut self.scenario_cost, o.scenario_cost),
            (&mut self.tool_fees, o.tool_fees),
        ] {
            if !b.is_zero() {
                add_money(a, b);
            }
        }
        self.saturated |= saturated;
    }

    pub fn subtract(&mut self, o: &Totals) {
        self.requests = self.requests.saturating_sub(o.requests);
        self.failed_requests = self.failed_requests.saturating_sub(o.failed_requests);
        self.input_tokens = self.input_tokens.saturating_sub(o.input_tokens);
        self.cache_read_tokens = self.cache_read_tokens.saturating_sub(o.cache_read_tokens);
        self.cache_write_tokens = self.cache_write_tokens.saturating_sub(o.cache_write_tokens);
        self.output_tokens = self.output_tokens.saturating_sub(o.output_tokens);
        self.reasoning_tokens = self.reasoning_tokens.saturating_sub(o.reasoning_tokens);
        self.cost = self.cost.checked_sub(o.cost).unwrap_or(self.cost);
        self.reported_cost = self
            .reported_cost
            .checked_sub(o.reported_cost)
            .unwrap_or(self.reported_cost);
        self.reported_records = self.reported_records.saturating_sub(o.reported_records);
        self.unpriced_records = self.unpriced_records.saturating_sub(o.unpriced_records);
        self.fallback_records = self.fallback_records.saturating_sub(o.fallback_records);
        self.fallback_cost = self
            .fallback_cost
            .checked_sub(o.fallback_cost)
            .unwrap_or(self.fallback_cost);
        self.scenario_cost = self
            .scenario_cost
            .checked_sub(o.scenario_cost)
            .unwrap_or(self.scenario_cost);
        self.tool_calls = self.tool_calls.saturating_sub(o.tool_calls);
        self.tool_fees = self
            .tool_fees
            .checked_sub(o.tool_fees)
            .unwrap_or(self.tool_fees);
    }

    /// The reported cost, when any record of the group carried one.
    pub fn reported(&self) -> Option<Decimal> {
        (self.reported_records > 0).then_some(self.reported_cost)
    }

    /// Whether nothing was counted (a group emptied by deduplication).
    pub fn is_empty(&self) -> bool {
        self.requests == 0
            && self.reported_records == 0
            && self.cost.is_zero()
            && self.input_tokens == 0
            && self.output_tokens == 0
    }
}

/// One group of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Values of the report's dimensions, in `--by` order.
    pub values: Vec<String>,
    pub totals: Totals,
    /// The same group in the previous period (`--compare`).
    pub previous: Option<Totals>,
}

impl Row {
    /// Cost now minus cost in the previous period (`--compare`).
    pub fn change(&self) -> Option<Decimal> {
        self.previous.as_ref().map(|p| self.totals.cost - p.cost)
    }
}

/// The change from `previous` to `now` in percent, one decimal; `None` when there was nothing before.
pub fn change_percent(now: Decimal, previous: Decimal) -> Option<Decimal> {
    if previous.is_zero() {
        return None;
    }
    Some(((now - previous) * Decimal::ONE_HUNDRED / previous).round_dp(1))
}

/// Records that could not be priced, per provider, model and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpricedRow {
    pub provider: String,
    pub model: String,
    pub reason: String,
    pub totals: Totals,
}

/// A finished report, ready to render.
#[derive(Debug, Clone)]
pub struct Report {
    pub period: Period,
    /// The time zone of the period's bounds and of day, week and month groups (`--timezone`).
    pub tz: Tz,
    /// The period compared against (`--compare`).
    pub previous_period: Option<Period>,
    pub group_by: Vec<Dim>,
    pub rows: Vec<Row>,
    pub total: Totals,
    /// Totals of the previous period (`--compare`).
    pub total_previous: Option<Totals>,
    pub unpriced: Vec<UnpricedRow>,
    /// Records read (after deduplication), whether or not they fell in the period.
    pub records_read: u64,
    /// What the fallback price map was, when one was in use (`LiteLLM snapshot 2026-11-20 (built in)`).
    pub fallback: Option<String>,
    /// Notes on how records were priced (records dated before a model's first price period).
    pub warnings: Vec<String>,
    /// Records in the period whose provider-reported cost is in another currency than `currency`, per
    /// currency (in capitals): left out of every reported sum. Counted where records are read (a
    /// ledger's rollup keeps only the USD sums, and reports served from it count none).
    pub foreign: Vec<(String, u64)>,
    pub currency: &'static str,
}

impl Report {
    /// The warning for each currency of [`Report::foreign`].
    pub fn foreign_warnings(&self) -> Vec<String> {
        self.foreign
            .iter()
            .map(|(currency, n)| {
                let (records, carry) = if *n == 1 {
                    ("record", "carries")
                } else {
                    ("records", "carry")
                };
                format!(
                    "{n} {records} {carry} a provider-reported cost in {currency}: it is not in \
                     reported_cost, which is in {}",
                    self.currency
                )
            })
            .collect()
    }

    /// Whether any row carries a provider-reported cost (then renderers show the column).
    pub fn has_reported(&self) -> bool {
        self.total.reported_records > 0
            || self.unpriced.iter().any(|u| u.totals.reported_records > 0)
    }
}

/// Dimension value of the row that folds everything past `--top`.
pub const OTHER: &str = "(other)";
