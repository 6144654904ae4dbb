//! Recommendations: what to change first and what it saves. Each rule finds groups of usage in the
//! period (the evidence), then prices the change with the what-if engine over exactly the usage an
//! `aispend whatif` command with the same scenario and `--where` filters would read, so the saving shown
//! is the one that command reproduces.

use std::collections::BTreeMap;

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::config::TeamRules;
use crate::output::{count_human, money_human};
use crate::period::PeriodSpec;
use crate::pricing::{PriceBook, Priced, Pricer};
use crate::record::UsageRecord;
use crate::report::{reconcile, Aggregator, Dim, Filter, ReportQuery, SortBy};
use crate::whatif::{CacheTtl, Scenario, ScenarioPricer, Swap, TierMove};

pub mod render;

/// What a rule looks for, and the conservative assumptions each applies.
pub mod limits {
    use rust_decimal::Decimal;

    /// Long-context edge: prompts above a threshold by at most this share are worth trimming.
    pub const CONTEXT_MARGIN: Decimal = Decimal::from_parts(10, 0, 0, false, 2);
    /// Unused caching: groups with at least this many uncached input tokens.
    pub const UNCACHED_INPUT: u64 = 1_000_000;
    /// Unused caching: the cache-hit share assumed.
    pub const CACHE_HIT: Decimal = Decimal::from_parts(30, 0, 0, false, 2);
    /// Short outputs: at most this many output tokens per request on average.
    pub const SHORT_OUTPUT: u64 = 300;
    /// Machine-like traffic: at least this many requests in the period...
    pub const STEADY_REQUESTS: u64 = 240;
    /// ... in every hour of the day, none with more than this many times the even share.
    pub const STEADY_PEAK: u64 = 2;
    /// Stale prices: a day counts as a disagreement beyond this share of the invoiced amount ...
    pub const STALE_TOLERANCE: Decimal = Decimal::from_parts(2, 0, 0, false, 2);
    /// ... on at least this many of the newest days compared, in a row, never in the other direction.
    pub const STALE_DAYS: usize = 3;
}

/// The kind of a recommendation (its `kind` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    LongContextEdge,
    CacheUnread,
    CacheUnused,
    PriorityTier,
    Batchable,
    PremiumShortOutput,
    StalePrices,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::LongContextEdge => "long-context-edge",
            Kind::CacheUnread => "cache-1h-unread",
            Kind::CacheUnused => "cache-unused",
            Kind::PriorityTier => "priority-tier",
            Kind::Batchable => "batchable",
            Kind::PremiumShortOutput => "premium-short-output",
            Kind::StalePrices => "stale-prices",
        }
    }
}

/// Which usage a recommendation is about, and how much of it there is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    /// The group: dimension name → value (`team = search`, `model = gpt-4.1`).
    pub group: Vec<(Dim, String)>,
    pub requests: u64,
    pub tokens: u64,
    /// What was seen, in a sentence.
    pub detail: String,
}

/// One recommendation.
#[derive(Debug, Clone)]
pub struct Recommendation {
    pub kind: Kind,
    /// `kind/dim=value,dim=value`: stable from one month to the next.
    pub id: String,
    pub title: String,
    pub evidence: Evidence,
    /// The period's cost of the usage concerned.
    pub cost: Decimal,
    /// The estimated saving for the period (`None` for stale prices: the amount is a price error to fix,
    /// shown as `at_stake`).
    pub saving: Option<Decimal>,
    /// Stale prices: the total disagreement with the invoice.
    pub at_stake: Option<Decimal>,
    /// The arguments that reproduce it: `whatif …` or `report --reconcile …`, with `--where` filters.
    pub args: Vec<String>,
}

/// `[recommend]` in `aispend.toml`.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Projects or API keys (`*` wildcards) whose work can wait for the batch API.
    pub batchable: Vec<String>,
}

/// The usage read for the period, and how to price it.
pub struct Inputs<'a> {
    /// Deduplicated records; only those in the period count.
    pub records: &'a [UsageRecord],
    pub book: &'a PriceBook,
    pub rules: &'a TeamRules,
    pub period: PeriodSpec,
    pub tz: Tz,
    /// The newest record's time (fixes the default month).
    pub newest: Option<DateTime<Utc>>,
}

/// One record with its team, canonical model and price.
struct Seen<'r> {
    record: &'r UsageRecord,
    team: String,
    model: String,
    entry: Option<usize>,
}

impl Inputs<'_> {
    fn query(&self, filters: &[(Dim, String)], reconcile: bool, by: Vec<Dim>) -> ReportQuery {
        ReportQuery {
            group_by: by,
            filters: filters
                .iter()
                .map(|(d, v)| Filter {
                    dim: d.clone(),
                    pattern: wildmatch::WildMatch::new(v),
                })
                .collect(),
            period: self.period,
            tz: self.tz,
            top: None,
            compare: false,
            reconcile,
            sort: SortBy::Name,
        }
    }

    /// Aggregates the records with `query` (and a scenario): what the matching command prints.
    fn aggregate(&self, query: &ReportQuery, scenario: Option<&Scenario>) -> crate::report::Report {
        let mut agg = Aggregator::new(query, self.rules, self.book, false, self.newest);
        if let Some(s) = scenario {
            agg = agg.with_scenario(ScenarioPricer::new(s, self.book));
        }
        for r in self.records {
            let _ = crate::input::RecordSink::accept(&mut agg, r.clone());
        }
        agg.finish()
    }

    /// (cost now, saving) of `scenario` over the usage `filters` select.
    fn saving(&self, filters: &[(Dim, String)], scenario: &Scenario) -> (Decimal, Decimal) {
        let report = self.aggregate(
            &self.query(filters, false, vec![Dim::Model]),
            Some(scenario),
        );
        (
            report.total.cost,
            report.total.cost - report.total.scenario_cost,
        )
    }
}

/// The whatif arguments of a scenario and its filters.
fn whatif_args(scenario_args: &[&str], filters: &[(Dim, String)]) -> Vec<String> {
    let mut args: Vec<String> = vec!["whatif".into()];
    args.extend(scenario_args.iter().map(|s| s.to_string()));
    for (dim, value) in filters {
        args.push("--where".into());
        args.push(format!("{}={value}", dim.name()));
    }
    args
}

fn group_id(kind: Kind, group: &[(Dim, String)]) -> String {
    let parts: Vec<String> = group
        .iter()
        .map(|(d, v)| format!("{}={v}", d.name()))
        .collect();
    format!("{}/{}", kind.as_str(), parts.join(","))
}

/// Sums of one group of records.
#[derive(Debug, Default, Clone)]
struct Tally {
    requests: u64,
    records: u64,
    input: u64,
    cache_read: u64,
    cache_write_1h: u64,
    cache_write: u64,
    output: u64,
    tokens: u64,
    /// Requests per hour of the day (in the report's time zone).
    hours: [u64; 24],
}

impl Tally {
    fn add(&mut self, r: &UsageRecord, tz: Tz) {
        let t = &r.tokens;
        self.requests += r.requests;
        self.records += 1;
        self.input += t.input;
        self.cache_read += t.cache_read;
        self.cache_write_1h += t.cache_write_1h;
        self.cache_write += t.cache_write();
        self.output += t.output;
        self.tokens += t.total();
        self.hours[r.start.with_timezone(&tz).hour() as usize] += r.requests;
    }
}

/// Every recommendation for the period, the largest saving first (stale prices last, largest gap first).
pub fn recommend(inputs: &Inputs, settings: &Settings) -> Vec<Recommendation> {
    let period = inputs.period.resolve(inputs.tz, inputs.newest);
    let mut pricer = Pricer::new(inputs.book);
    let seen: Vec<Seen> = inputs
        .records
        .iter()
        .filter(|r| period.contains(r.start) && !r.failed)
        .map(|r| {
            let entry = match pricer.price(r) {
                Priced::Cost { model, .. } => Some(model),
                Priced::Unpriced { model, .. } => model,
            };
            Seen {
                record: r,
                team: inputs.rules.team_of(r).to_string(),
                model: entry
                    .map_or_else(|| r.model.to_string(), |i| inputs.book.model(i).id.clone()),
                entry,
            }
        })
        .collect();
    let mut out = Vec::new();
    long_context_edge(inputs, &seen, &mut out);
    caching(inputs, &seen, &mut out);
    priority_tier(inputs, &seen, &mut out);
    batchable(inputs, &seen, settings, &mut out);
    premium_short_output(inputs, &seen, &mut out);
    stale_prices(inputs, &mut out);
    out.retain(|r| r.saving.is_none_or(|s| s > Decimal::ZERO));
    out.sort_by(|a, b| {
        let key = |r: &Recommendation| {
            (
                r.saving.is_none(),
                -r.saving.or(r.at_stake).unwrap_or_default(),
            )
        };
        key(a).cmp(&key(b)).then_with(|| a.id.cmp(&b.id))
    });
    out
}

/// Groups records by (team, model) with a predicate.
fn by_team_model<'r>(
    seen: &'r [Seen<'r>],
    tz: Tz,
    keep: impl Fn(&Seen) -> bool,
) -> BTreeMap<(String, String), (Tally, Option<usize>)> {
    let mut groups: BTreeMap<(String, String), (Tally, Option<usize>)> = BTreeMap::new();
    for s in seen.iter().filter(|s| keep(s)) {
        let g = groups
            .entry((s.team.clone(), s.model.clone()))
            .or_insert_with(|| (Tally::default(), s.entry));
        g.0.add(s.record, tz);
    }
    groups
}

fn team_model(team: &str, model: &str) -> Vec<(Dim, String)> {
    vec![
        (Dim::Team, team.to_string()),
        (Dim::Model, model.to_string()),
    ]
}

/// Pushes a recommendation priced by `scenario` over `filters`.
#[allow(clippy::too_many_arguments)]
fn push_whatif(
    inputs: &Inputs,
    out: &mut Vec<Recommendation>,
    kind: Kind,
    title: String,
    filters: Vec<(Dim, String)>,
    evidence: (u64, u64, String),
    scenario: &Scenario,
    scenario_args: &[&str],
) {
    let (cost, saving) = inputs.saving(&filters, scenario);
    out.push(Recommendation {
        kind,
        id: group_id(kind, &filters),
        title,
        evidence: Evidence {
            group: filters.clone(),
            requests: evidence.0,
            tokens: evidence.1,
            detail: evidence.2,
        },
        cost,
        saving: Some(saving),
        at_stake: None,
        args: whatif_args(scenario_args, &filters),
    });
}

/// Requests just above a long-context threshold pay the higher rate on every token: trimming them to fit
/// saves the difference.
fn long_context_edge(inputs: &Inputs, seen: &[Seen], out: &mut Vec<Recommendation>) {
    let edge = |s: &Seen| -> Option<u64> {
        let r = s.record;
        let entry = inputs.book.model(s.entry?);
        let lc = entry
            .period_at(r.start.date_naive())
            .long_context
            .as_ref()?;
        let prompt = r.tokens.prompt_total();
        let limit = Decimal::from(lc.threshold) * (Decimal::ONE + limits::CONTEXT_MARGIN);
        (crate::pricing::is_one_request(r)
            && r.long_context != Some(false)
            && prompt > lc.threshold
            && Decimal::from(prompt) <= limit)
            .then_some(lc.threshold)
    };
    let groups = by_team_model(seen, inputs.tz, |s| edge(s).is_some());
    for ((team, model), (tally, _)) in groups {
        let threshold = seen
            .iter()
            .filter(|s| s.team == team && s.model == model)
            .find_map(&edge)
            .unwrap_or_default();
        let pct = (limits::CONTEXT_MARGIN * Decimal::ONE_HUNDRED).normalize();
        let scenario = Scenario {
            trim_context: Some(limits::CONTEXT_MARGIN),
            ..Scenario::default()
        };
        push_whatif(
            inputs,
            out,
            Kind::LongContextEdge,
            format!(
                "Trim {model} prompts of team {team} that are just over the {}-token long-context threshold",
                count_human(threshold)
            ),
            team_model(&team, &model),
            (
                tally.requests,
                tally.tokens,
                format!(
                    "{} request(s) with prompts between {} and {pct}% above it pay the long-context rate on \
                     every token",
                    count_human(tally.requests),
                    count_human(threshold)
                ),
            ),
            &scenario,
            &["--trim-context", &format!("{pct}%")],
        );
    }
}

/// 1-hour cache writes that are rarely read back, and caching models used without any cache.
fn caching(inputs: &Inputs, seen: &[Seen], out: &mut Vec<Recommendation>) {
    let groups = by_team_model(seen, inputs.tz, |s| s.entry.is_some());
    for ((team, model), (tally, entry)) in groups {
        let Some(entry) = entry else { continue };
        let filters = team_model(&team, &model);
        if tally.cache_write_1h > 0 && tally.cache_read < tally.cache_write_1h {
            let scenario = Scenario {
                cache_ttl: Some(CacheTtl::FiveMinutes),
                ..Scenario::default()
            };
            push_whatif(
                inputs,
                out,
                Kind::CacheUnread,
                format!("Write {model} caches of team {team} for 5 minutes, not 1 hour"),
                filters.clone(),
                (
                    tally.requests,
                    tally.cache_write_1h,
                    format!(
                        "{} tokens written to the 1-hour cache, {} read back from cache: the longer life is \
                         paid for and not used",
                        count_human(tally.cache_write_1h),
                        count_human(tally.cache_read)
                    ),
                ),
                &scenario,
                &["--cache-ttl", "5m"],
            );
        }
        let rates = inputs.book.model(entry).periods.last().map(|p| p.rates);
        let caches = rates.is_some_and(|r| r.get(crate::pricing::RateClass::CacheRead).is_some());
        if caches
            && tally.cache_read == 0
            && tally.cache_write == 0
            && tally.input >= limits::UNCACHED_INPUT
        {
            let share = limits::CACHE_HIT;
            let pct = format!("{}%", (share * Decimal::ONE_HUNDRED).normalize());
            let scenario = Scenario {
                cache_hit: Some(share),
                ..Scenario::default()
            };
            push_whatif(
                inputs,
                out,
                Kind::CacheUnused,
                format!("Cache the repeated prompt prefix of {model} for team {team}"),
                filters,
                (
                    tally.requests,
                    tally.input,
                    format!(
                        "{} uncached input tokens and no cache reads on a model that caches; saving assumes \
                         {pct} of that input hits the cache",
                        count_human(tally.input)
                    ),
                ),
                &scenario,
                &["--cache-hit", &pct],
            );
        }
    }
}

fn is_priority(r: &UsageRecord) -> bool {
    !r.batch
        && r.service_tier.as_deref().is_some_and(|t| {
            matches!(
                t.to_ascii_lowercase().as_str(),
                "priority" | "priority_on_demand" | "on_demand_priority"
            )
        })
}

/// Priority-tier spend, priced at the standard tier.
fn priority_tier(inputs: &Inputs, seen: &[Seen], out: &mut Vec<Recommendation>) {
    let groups = by_team_model(seen, inputs.tz, |s| is_priority(s.record));
    for ((team, model), (tally, _)) in groups {
        let tier = seen
            .iter()
            .find(|s| s.team == team && s.model == model && is_priority(s.record))
            .and_then(|s| s.record.service_tier.as_deref())
            .unwrap_or("priority")
            .to_string();
        let mut filters = team_model(&team, &model);
        filters.insert(0, (Dim::ServiceTier, tier));
        let scenario = Scenario {
            tier: Some(TierMove::Standard),
            ..Scenario::default()
        };
        push_whatif(
            inputs,
            out,
            Kind::PriorityTier,
            format!("Move {model} requests of team {team} from the priority tier to standard"),
            filters,
            (
                tally.requests,
                tally.tokens,
                format!(
                    "{} request(s) served at the priority tier; check whether their latency target needs it",
                    count_human(tally.requests)
                ),
            ),
            &scenario,
            &["--tier", "standard"],
        );
    }
}

/// Projects or keys declared batchable, and projects whose traffic is steady around the clock.
fn batchable(inputs: &Inputs, seen: &[Seen], settings: &Settings, out: &mut Vec<Recommendation>) {
    let patterns: Vec<wildmatch::WildMatch> = settings
        .batchable
        .iter()
        .map(|p| wildmatch::WildMatch::new(p))
        .collect();
    let declared = |v: Option<&str>| v.is_some_and(|v| patterns.iter().any(|p| p.matches(v)));
    // (dimension, value) → tally, over usage not already batched.
    let mut groups: BTreeMap<(u8, String), Tally> = BTreeMap::new();
    for s in seen.iter().filter(|s| !s.record.batch) {
        let r = s.record;
        let key = if declared(r.project.as_deref()) {
            (0, r.project.as_deref().unwrap_or_default().to_string())
        } else if declared(r.api_key.as_deref()) {
            (1, r.api_key.as_deref().unwrap_or_default().to_string())
        } else if let Some(p) = r.project.as_deref().filter(|p| !p.is_empty()) {
            (2, p.to_string())
        } else {
            continue;
        };
        groups.entry(key).or_default().add(r, inputs.tz);
    }
    for ((how, value), tally) in groups {
        let steady = how == 2
            && tally.requests >= limits::STEADY_REQUESTS
            && tally.hours.iter().all(|&h| h > 0)
            && tally
                .hours
                .iter()
                .all(|&h| h * 24 <= tally.requests * limits::STEADY_PEAK);
        if how == 2 && !steady {
            continue;
        }
        let dim = if how == 1 { Dim::ApiKey } else { Dim::Project };
        let why = match how {
            0 | 1 => format!(
                "declared batchable in [recommend] batchable; {} request(s) sent synchronously",
                count_human(tally.requests)
            ),
            _ => format!(
                "{} request(s) spread over all 24 hours of the day, none above {} times the even share: \
                 machine-like traffic that can usually wait for the batch API",
                count_human(tally.requests),
                limits::STEADY_PEAK
            ),
        };
        let scenario = Scenario {
            tier: Some(TierMove::Batch),
            ..Scenario::default()
        };
        push_whatif(
            inputs,
            out,
            Kind::Batchable,
            format!(
                "Send {} {value} through the batch API",
                dim.name().replace('_', " ")
            ),
            vec![(dim, value)],
            (tally.requests, tally.tokens, why),
            &scenario,
            &["--tier", "batch"],
        );
    }
}

/// Premium models answering with short outputs, where the price table names a cheaper sibling.
fn premium_short_output(inputs: &Inputs, seen: &[Seen], out: &mut Vec<Recommendation>) {
    let groups = by_team_model(seen, inputs.tz, |s| {
        s.entry
            .is_some_and(|e| inputs.book.model(e).cheaper.is_some())
            && s.record.requests > 0
    });
    for ((team, model), (tally, entry)) in groups {
        let Some(sibling) = entry.and_then(|e| inputs.book.model(e).cheaper.clone()) else {
            continue;
        };
        if tally.requests == 0 || tally.output > tally.requests * limits::SHORT_OUTPUT {
            continue;
        }
        let swap = format!("{model}={sibling}");
        let scenario = Scenario {
            swaps: vec![Swap::new(&model, &sibling)],
            ..Scenario::default()
        };
        push_whatif(
            inputs,
            out,
            Kind::PremiumShortOutput,
            format!("Try {sibling} for team {team}'s short {model} answers"),
            team_model(&team, &model),
            (
                tally.requests,
                tally.tokens,
                format!(
                    "{} request(s) averaging {} output tokens: short answers a cheaper sibling often gives \
                     as well (check quality first)",
                    count_human(tally.requests),
                    tally.output / tally.requests
                ),
            ),
            &scenario,
            &["--swap", &swap],
        );
    }
}

/// Groups whose computed cost keeps disagreeing with the invoice the same way, up to the newest day
/// compared: a price table that is out of date (or a discount it does not know). Groups are as precise as
/// the invoice (provider, project, workspace, model), so usage that no invoice covers is not compared.
fn stale_prices(inputs: &Inputs, out: &mut Vec<Recommendation>) {
    let by = vec![
        Dim::Provider,
        Dim::Project,
        Dim::Workspace,
        Dim::Model,
        Dim::Day,
    ];
    let query = inputs.query(&[], true, by.clone());
    let report = inputs.aggregate(&query, None);
    let lines = reconcile::reconcile(&report, limits::STALE_TOLERANCE);
    /// Per group: each day compared (in day order: the query sorts by name) as -1 / 0 / +1, and sums.
    #[derive(Default)]
    struct Days {
        signs: Vec<i8>,
        computed: Decimal,
        invoiced: Decimal,
    }
    let mut groups: BTreeMap<Vec<String>, Days> = BTreeMap::new();
    for l in &lines {
        let Some(invoiced) = l.invoiced else { continue };
        if l.unpriced_records > 0 || l.status == reconcile::Match::InvoiceOnly {
            continue;
        }
        let g = groups.entry(l.values[..4].to_vec()).or_default();
        g.computed += l.computed;
        g.invoiced += invoiced;
        g.signs.push(match (l.status, l.computed > invoiced) {
            (reconcile::Match::Mismatch, true) => 1,
            (reconcile::Match::Mismatch, false) => -1,
            _ => 0,
        });
    }
    let tolerance = (limits::STALE_TOLERANCE * Decimal::ONE_HUNDRED).normalize();
    for (values, days) in groups {
        let Some(&last) = days.signs.last() else {
            continue;
        };
        let recent = days.signs.len() >= limits::STALE_DAYS
            && days.signs[days.signs.len() - limits::STALE_DAYS..]
                .iter()
                .all(|&s| s == last);
        if last == 0 || !recent || days.signs.contains(&-last) {
            continue;
        }
        let mismatched = days.signs.iter().filter(|&&s| s == last).count();
        let direction = if last > 0 { "above" } else { "below" };
        let filters: Vec<(Dim, String)> = by[..4]
            .iter()
            .cloned()
            .zip(values)
            .filter(|(_, v)| v != crate::report::NONE)
            .collect();
        let (provider, model) = (&filters[0].1, &filters[filters.len() - 1].1);
        let mut args: Vec<String> = [
            "report",
            "--reconcile",
            "--by",
            "provider,project,workspace,model,day",
            "--tolerance",
        ]
        .map(String::from)
        .to_vec();
        args.push(format!("{tolerance}%"));
        for (d, v) in &filters {
            args.push("--where".into());
            args.push(format!("{}={v}", d.name()));
        }
        out.push(Recommendation {
            kind: Kind::StalePrices,
            id: group_id(Kind::StalePrices, &filters),
            title: format!(
                "Check the {provider} price of {model}: computed cost keeps disagreeing with the invoice"
            ),
            evidence: Evidence {
                group: filters,
                requests: 0,
                tokens: 0,
                detail: format!(
                    "computed cost {direction} the invoice by more than {tolerance}% on {mismatched} of {} \
                     day(s), the last {} of them in a row ({} computed, {} invoiced): a stale price table or a \
                     discount it does not know",
                    days.signs.len(),
                    limits::STALE_DAYS,
                    money_human(days.computed),
                    money_human(days.invoiced)
                ),
            },
            cost: days.computed,
            saving: None,
            at_stake: Some((days.computed - days.invoiced).abs()),
            args,
        });
    }
}

#[cfg(test)]
mod tests;

/// Records kept in memory, deduplicated as a report deduplicates PATHs (the first copy of an id wins,
/// or the largest for sources whose copies grow): what `recommend` reads once and prices many times.
#[derive(Debug, Default)]
pub struct RecordSet {
    pub records: Vec<UsageRecord>,
    /// Id hash → index of the kept copy.
    index: std::collections::HashMap<u128, usize>,
    /// The newest record's time.
    pub newest: Option<DateTime<Utc>>,
}

impl crate::input::RecordSink for RecordSet {
    fn accept(&mut self, r: UsageRecord) -> crate::error::Result<crate::input::Accepted> {
        use crate::input::Accepted;
        if self.newest.is_none_or(|n| r.start > n) {
            self.newest = Some(r.start);
        }
        let id = xxhash_rust::xxh3::xxh3_128(r.id.as_bytes());
        match self.index.get(&id) {
            None => {
                self.index.insert(id, self.records.len());
                self.records.push(r);
                Ok(Accepted::Added)
            }
            Some(&i)
                if r.dedup == crate::record::DedupPolicy::KeepLargest
                    && r.dedup_weight() > self.records[i].dedup_weight() =>
            {
                self.records[i] = r;
                Ok(Accepted::Replaced)
            }
            Some(_) => Ok(Accepted::Duplicate),
        }
    }
}
