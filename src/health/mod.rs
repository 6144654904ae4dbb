//! Request health: failures by class, latency percentiles, what failed requests and their retries cost,
//! and brownout windows (time buckets in which a group's failure rate or p95 latency left its own robust
//! baseline for several buckets in a row).
//!
//! Works on [`Request`]s: one per request-level record that carries an outcome (a status, a failure or a
//! latency), already attributed, priced and grouped by the command. Bucketed exports carry no outcome
//! and are not requests here.

use std::collections::{BTreeMap, HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use crate::record::{FailureClass, Provider, TokenCounts};
use crate::robust::{median_mad, percentile, MAD_TO_SIGMA};

pub mod synthetic;
pub mod whatif;

/// One request, as `health` sees it.
#[derive(Debug, Clone)]
pub struct Request {
    pub at: DateTime<Utc>,
    /// Index of the group (the `--by` values) in the caller's list.
    pub group: usize,
    /// The request id a `retry_of` names: the record id without its `provider:` and `req:` prefixes.
    pub request_id: String,
    /// Who sent it, for the retry heuristic: API key, else user, else project, else team.
    pub caller: String,
    pub provider: Provider,
    /// The canonical model (or the name as reported when no price entry answers to it).
    pub model: String,
    /// `Some` when the request failed.
    pub failure: Option<FailureClass>,
    pub latency_ms: Option<u64>,
    pub tokens: TokenCounts,
    pub cost: Decimal,
    pub attempt: Option<u32>,
    pub retry_of: Option<String>,
}

/// How a retry was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryRule {
    /// The log says so: `attempt` > 1 or `retry_of`.
    Envelope,
    /// The same caller, provider and model (any model when the failure named none), and the same
    /// prompt size when both are known, within the retry window after a failed request that no other
    /// request has been matched to.
    Heuristic,
}

impl RetryRule {
    pub fn as_str(self) -> &'static str {
        match self {
            RetryRule::Envelope => "envelope",
            RetryRule::Heuristic => "heuristic",
        }
    }
}

/// A request recognised as a retry, and the failed request it repeats when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub rule: RetryRule,
    pub original: Option<usize>,
}

/// The model of a record whose source named none (a failed request's bare error body).
pub const UNKNOWN_MODEL: &str = "unknown";

/// How long after a failure a request from the same caller to the same model counts as its retry.
pub const RETRY_WINDOW_SECS: i64 = 60;

/// Finds the retries among `requests` (sorted by time).
pub fn find_retries(requests: &[Request], window: Duration) -> Vec<Option<Retry>> {
    let by_id: HashMap<&str, usize> = requests
        .iter()
        .enumerate()
        .map(|(i, r)| (r.request_id.as_str(), i))
        .collect();
    // (caller, provider) → failed requests not yet matched to a retry, oldest first.
    let mut open: HashMap<(&str, Provider), VecDeque<usize>> = HashMap::new();
    let mut out = Vec::with_capacity(requests.len());
    for (i, r) in requests.iter().enumerate() {
        let explicit = r.retry_of.is_some() || r.attempt.is_some_and(|a| a > 1);
        let key = (r.caller.as_str(), r.provider);
        let retry = if explicit {
            let original = r.retry_of.as_deref().and_then(|id| by_id.get(id).copied());
            if let Some(o) = original {
                let of = (requests[o].caller.as_str(), requests[o].provider);
                if let Some(queue) = open.get_mut(&of) {
                    queue.retain(|&q| q != o);
                }
            }
            Some(Retry {
                rule: RetryRule::Envelope,
                original,
            })
        } else if r.attempt == Some(1) {
            // The log says this is a first attempt.
            None
        } else {
            open.get_mut(&key).and_then(|queue| {
                queue.retain(|&q| r.at - requests[q].at <= window);
                let prompt = r.tokens.prompt_total();
                let pos = queue.iter().position(|&q| {
                    let f = &requests[q];
                    let p = f.tokens.prompt_total();
                    // A failed request whose error body named no model matches any model.
                    let model = f.model == r.model || f.model == UNKNOWN_MODEL;
                    model && (p == 0 || prompt == 0 || p == prompt)
                })?;
                let original = queue.remove(pos)?;
                Some(Retry {
                    rule: RetryRule::Heuristic,
                    original: Some(original),
                })
            })
        };
        if r.failure.is_some() {
            open.entry(key).or_default().push_back(i);
        }
        out.push(retry);
    }
    out
}

/// Tokens and cost of a set of requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spent {
    pub requests: u64,
    pub tokens: u64,
    pub cost: Decimal,
}

impl Spent {
    fn add(&mut self, r: &Request) {
        self.requests += 1;
        self.tokens += r.tokens.total();
        self.cost += r.cost;
    }
}

/// One group's figures over the period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupHealth {
    pub requests: u64,
    pub failures: BTreeMap<FailureClass, u64>,
    /// Latency percentiles of the successful requests that carry one.
    pub latency: Option<Latency>,
    pub failed: Spent,
    pub retries: Spent,
    pub retries_by_rule: BTreeMap<&'static str, u64>,
}

impl GroupHealth {
    pub fn failed_requests(&self) -> u64 {
        self.failures.values().sum()
    }

    /// Failures ÷ requests.
    pub fn failure_rate(&self) -> Decimal {
        rate(self.failed_requests(), self.requests)
    }
}

/// p50, p95 and p99 in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    pub p50: u64,
    pub p95: u64,
    pub p99: u64,
}

impl Latency {
    fn of(mut values: Vec<u64>) -> Option<Latency> {
        values.sort_unstable();
        Some(Latency {
            p50: percentile(&values, 50)?,
            p95: percentile(&values, 95)?,
            p99: percentile(&values, 99)?,
        })
    }
}

pub fn rate(part: u64, whole: u64) -> Decimal {
    if whole == 0 {
        Decimal::ZERO
    } else {
        Decimal::from(part) / Decimal::from(whole)
    }
}

/// Per-group figures; `groups` is the number of groups.
pub fn summarize(
    requests: &[Request],
    retries: &[Option<Retry>],
    groups: usize,
) -> Vec<GroupHealth> {
    let mut out = vec![GroupHealth::default(); groups];
    let mut latencies: Vec<Vec<u64>> = vec![Vec::new(); groups];
    for (r, retry) in requests.iter().zip(retries) {
        let g = &mut out[r.group];
        g.requests += 1;
        match r.failure {
            Some(class) => {
                *g.failures.entry(class).or_default() += 1;
                g.failed.add(r);
            }
            None => latencies[r.group].extend(r.latency_ms),
        }
        if let Some(retry) = retry {
            g.retries.add(r);
            *g.retries_by_rule.entry(retry.rule.as_str()).or_default() += 1;
        }
    }
    for (g, l) in out.iter_mut().zip(latencies) {
        g.latency = Latency::of(l);
    }
    out
}

/// How brownout windows are found.
#[derive(Debug, Clone, Copy)]
pub struct WindowRules {
    pub bucket: Duration,
    /// A bucket is degraded when its failure rate (or p95 latency) is more than `threshold` robust
    /// standard deviations (1.4826 × MAD) above the group's median bucket.
    pub threshold: Decimal,
    /// Degraded buckets in a row that make a window.
    pub min_buckets: usize,
}

impl Default for WindowRules {
    fn default() -> WindowRules {
        WindowRules {
            bucket: Duration::minutes(15),
            threshold: Decimal::from_parts(4, 0, 0, false, 0),
            min_buckets: 2,
        }
    }
}

/// Below this many requests a bucket says too little to be part of the baseline.
const BASELINE_MIN_REQUESTS: u64 = 3;
/// A degraded bucket's failure rate is at least this far above the baseline (10 percentage points)…
const MIN_RATE_EXCESS: Decimal = Decimal::from_parts(10, 0, 0, false, 2);
/// …with at least this many failures.
const MIN_FAILURES: u64 = 2;
/// A degraded bucket's p95 latency is at least this much above the baseline's (half of it again), and
/// so is its median latency above the median bucket's…
const MIN_LATENCY_EXCESS: Decimal = Decimal::from_parts(5, 0, 0, false, 1);
/// …over at least this many successful requests.
const MIN_LATENCIES: usize = 3;

/// One group's degraded stretch.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub group: usize,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub buckets: usize,
    pub requests: u64,
    pub failures: u64,
    pub baseline_failure_rate: Decimal,
    /// p95 latency of the window's successful requests, and the baseline's (median bucket p95).
    pub p95_latency_ms: Option<u64>,
    pub baseline_p95_latency_ms: Option<u64>,
    /// Why: failures, latency or both.
    pub failure_degraded: bool,
    pub latency_degraded: bool,
    /// The window's failed requests.
    pub failed: Spent,
    /// Retries of the window's failed requests (wherever they went, a fallback model included), and
    /// retries the heuristic or the log found inside the window for which the original is unknown.
    pub retries: Spent,
    /// Indices of the window's requests.
    pub members: Vec<usize>,
}

impl Window {
    pub fn failure_rate(&self) -> Decimal {
        rate(self.failures, self.requests)
    }

    /// How much slower p95 was than the baseline, in milliseconds (0 when not slower).
    pub fn extra_latency_ms(&self) -> Option<u64> {
        Some(
            self.p95_latency_ms?
                .saturating_sub(self.baseline_p95_latency_ms?),
        )
    }

    pub fn reason(&self) -> &'static str {
        match (self.failure_degraded, self.latency_degraded) {
            (true, true) => "failures+latency",
            (true, false) => "failures",
            _ => "latency",
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Bucket {
    requests: u64,
    failures: u64,
    latencies: Vec<u64>,
    /// Each latency in thousandths of its model's median latency: a group that mixes fast and slow
    /// models (`--by provider`) is compared model for model, not by which models a bucket happened to
    /// hold.
    relative: Vec<u64>,
    members: Vec<usize>,
}

fn p95_of(values: &[u64]) -> Option<u64> {
    let mut l = values.to_vec();
    l.sort_unstable();
    percentile(&l, 95)
}

fn p50_of(values: &[u64]) -> Option<u64> {
    let mut l = values.to_vec();
    l.sort_unstable();
    percentile(&l, 50)
}

/// The median latency of each (group, model)'s successful requests.
fn model_medians(requests: &[Request]) -> HashMap<(usize, &str), u64> {
    let mut all: HashMap<(usize, &str), Vec<u64>> = HashMap::new();
    for r in requests.iter().filter(|r| r.failure.is_none()) {
        if let Some(l) = r.latency_ms {
            all.entry((r.group, r.model.as_str())).or_default().push(l);
        }
    }
    all.into_iter()
        .map(|(k, mut v)| {
            v.sort_unstable();
            (k, percentile(&v, 50).unwrap_or(0).max(1))
        })
        .collect()
}

/// Brownout windows of every group, ordered by group then start. Buckets start at `origin`.
pub fn brownouts(
    requests: &[Request],
    retries: &[Option<Retry>],
    groups: usize,
    origin: DateTime<Utc>,
    rules: WindowRules,
) -> Vec<Window> {
    let width = rules.bucket.num_milliseconds().max(1);
    let medians = model_medians(requests);
    let mut buckets: Vec<BTreeMap<i64, Bucket>> = vec![BTreeMap::new(); groups];
    for (i, r) in requests.iter().enumerate() {
        let index = (r.at - origin).num_milliseconds().div_euclid(width);
        let b = buckets[r.group].entry(index).or_default();
        b.requests += 1;
        b.members.push(i);
        match (r.failure, r.latency_ms) {
            (Some(_), _) => b.failures += 1,
            (None, Some(l)) => {
                b.latencies.push(l);
                let median = medians.get(&(r.group, r.model.as_str())).copied();
                b.relative
                    .push(l.saturating_mul(1000) / median.unwrap_or(1).max(1));
            }
            (None, None) => {}
        }
    }
    // Retries by the failed request they repeat, and those whose original is unknown.
    let mut retried: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, retry) in retries.iter().enumerate() {
        if let Some(Retry {
            original: Some(o), ..
        }) = retry
        {
            retried.entry(*o).or_default().push(i);
        }
    }
    let mut windows = Vec::new();
    for (group, group_buckets) in buckets.iter().enumerate() {
        let degraded = degraded_buckets(group_buckets, rules.threshold);
        let (base_rate, base_p95) = degraded.baseline;
        let mut run: Vec<i64> = Vec::new();
        let mut flush = |run: &mut Vec<i64>| {
            if run.len() >= rules.min_buckets {
                let members: Vec<usize> = run
                    .iter()
                    .flat_map(|i| group_buckets[i].members.iter().copied())
                    .collect();
                let mut failed = Spent::default();
                let mut latencies = Vec::new();
                let mut retry_spent = Spent::default();
                for &m in &members {
                    let r = &requests[m];
                    match r.failure {
                        Some(_) => {
                            failed.add(r);
                            for &x in retried.get(&m).into_iter().flatten() {
                                retry_spent.add(&requests[x]);
                            }
                        }
                        None => latencies.extend(r.latency_ms),
                    }
                    if matches!(retries[m], Some(Retry { original: None, .. })) {
                        retry_spent.add(r);
                    }
                }
                latencies.sort_unstable();
                let first = run[0];
                let last = run[run.len() - 1];
                windows.push(Window {
                    group,
                    start: origin + Duration::milliseconds(first * width),
                    end: origin + Duration::milliseconds((last + 1) * width),
                    buckets: run.len(),
                    requests: members.len() as u64,
                    failures: failed.requests,
                    baseline_failure_rate: base_rate,
                    p95_latency_ms: percentile(&latencies, 95),
                    baseline_p95_latency_ms: base_p95,
                    failure_degraded: run.iter().any(|i| degraded.by_failures.contains(i)),
                    latency_degraded: run.iter().any(|i| degraded.by_latency.contains(i)),
                    failed,
                    retries: retry_spent,
                    members,
                });
            }
            run.clear();
        };
        let mut all: Vec<i64> = degraded
            .by_failures
            .iter()
            .chain(&degraded.by_latency)
            .copied()
            .collect();
        all.sort_unstable();
        all.dedup();
        for i in all {
            if run.last().is_some_and(|&l| l + 1 != i) {
                flush(&mut run);
            }
            run.push(i);
        }
        flush(&mut run);
    }
    windows
}

struct Degraded {
    by_failures: Vec<i64>,
    by_latency: Vec<i64>,
    /// Median bucket failure rate and median bucket p95.
    baseline: (Decimal, Option<u64>),
}

/// The buckets whose failure rate or p95 latency (relative to each request's model) is beyond the
/// group's robust baseline.
fn degraded_buckets(buckets: &BTreeMap<i64, Bucket>, threshold: Decimal) -> Degraded {
    let usable: Vec<&Bucket> = buckets
        .values()
        .filter(|b| b.requests >= BASELINE_MIN_REQUESTS)
        .collect();
    let rates: Vec<Decimal> = usable
        .iter()
        .map(|b| rate(b.failures, b.requests))
        .collect();
    let (rate_median, rate_mad) = median_mad(&rates).unwrap_or_else(|| {
        // Too little traffic per bucket for a baseline: the pooled rate of the whole period.
        let (f, n) = buckets
            .values()
            .fold((0, 0), |(f, n), b| (f + b.failures, n + b.requests));
        (rate(f, n), Decimal::ZERO)
    });
    let relative: Vec<Decimal> = usable
        .iter()
        .filter(|b| b.latencies.len() >= MIN_LATENCIES)
        .filter_map(|b| p95_of(&b.relative).map(Decimal::from))
        .collect();
    let latency = median_mad(&relative);
    let medians: Vec<Decimal> = usable
        .iter()
        .filter(|b| b.latencies.len() >= MIN_LATENCIES)
        .filter_map(|b| p50_of(&b.relative).map(Decimal::from))
        .collect();
    let median_limit = median_mad(&medians).map(|(m, _)| m * (Decimal::ONE + MIN_LATENCY_EXCESS));
    let p95s: Vec<Decimal> = usable
        .iter()
        .filter(|b| b.latencies.len() >= MIN_LATENCIES)
        .filter_map(|b| p95_of(&b.latencies).map(Decimal::from))
        .collect();
    let base_p95 = median_mad(&p95s).and_then(|(m, _)| {
        use rust_decimal::prelude::ToPrimitive;
        m.round().to_u64()
    });
    let rate_limit = rate_median + (threshold * MAD_TO_SIGMA * rate_mad).max(MIN_RATE_EXCESS);
    let mut by_failures = Vec::new();
    let mut by_latency = Vec::new();
    for (&i, b) in buckets {
        if b.failures >= MIN_FAILURES && rate(b.failures, b.requests) > rate_limit {
            by_failures.push(i);
        }
        // The tail alone (a few slow requests in a quiet bucket) is not a brownout: the typical
        // request must be slower too.
        if let (Some((m, mad)), Some(p95), Some(p50), Some(p50_limit)) = (
            latency,
            p95_of(&b.relative),
            p50_of(&b.relative),
            median_limit,
        ) {
            let limit = m + (threshold * MAD_TO_SIGMA * mad).max(MIN_LATENCY_EXCESS * m);
            if b.latencies.len() >= MIN_LATENCIES
                && Decimal::from(p95) > limit
                && Decimal::from(p50) > p50_limit
            {
                by_latency.push(i);
            }
        }
    }
    Degraded {
        by_failures,
        by_latency,
        baseline: (rate_median, base_p95),
    }
}

#[cfg(test)]
mod tests;
