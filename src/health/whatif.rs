//! Failover what-if (`health --fallback FROM=TO`): what a brownout window's failed requests (or all of
//! its requests) would have cost served by another model or provider.
//!
//! Repricing goes through the what-if engine (`crate::whatif`): the fallback is a model swap or a move to
//! another provider's table, priced exactly as `aispend whatif` prices it.

use rust_decimal::Decimal;

use super::{Request, Retry};
use crate::pricing::PriceBook;
use crate::record::{Provenance, Provider, Text, TokenCounts, UsageRecord};
use crate::whatif::{Scenario, ScenarioPricer, Swap};

/// What the fallback serves instead: another provider (same model) or another model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Provider(Provider),
    Model(String),
}

impl Target {
    fn parse(s: &str) -> Target {
        match Provider::parse(s) {
            Some(p) => Target::Provider(p),
            None => Target::Model(s.trim().to_string()),
        }
    }

    fn name(&self) -> String {
        match self {
            Target::Provider(p) => p.as_str().to_string(),
            Target::Model(m) => m.clone(),
        }
    }
}

/// `--fallback FROM=TO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    pub from: Target,
    pub to: Target,
}

impl Fallback {
    pub fn parse(s: &str) -> std::result::Result<Fallback, String> {
        match s.split_once('=') {
            Some((from, to)) if !from.trim().is_empty() && !to.trim().is_empty() => Ok(Fallback {
                from: Target::parse(from),
                to: Target::parse(to),
            }),
            _ => Err(format!(
                "'{s}' is not FROM=TO: a model or provider on each side, e.g. anthropic=bedrock or \
                 claude-sonnet-4-5=gpt-4.1"
            )),
        }
    }

    pub fn from_name(&self) -> String {
        self.from.name()
    }

    pub fn to_name(&self) -> String {
        self.to.name()
    }

    /// Whether a request was served by the FROM side.
    pub fn applies_to(&self, r: &Request) -> bool {
        match &self.from {
            Target::Provider(p) => r.provider == *p,
            Target::Model(m) => r.model == *m,
        }
    }
}

/// The what-if scenario that serves a request on `target`: a model swap, or the same model on another
/// provider's table (`aispend whatif --swap` / `--on`).
fn scenario(target: Option<&Target>) -> Scenario {
    match target {
        None => Scenario::default(),
        Some(Target::Provider(p)) => Scenario {
            on: Some(*p),
            ..Scenario::default()
        },
        Some(Target::Model(m)) => Scenario {
            swaps: Swap::parse(&format!("*={m}")).into_iter().collect(),
            ..Scenario::default()
        },
    }
}

/// The price of a request of `tokens` under a scenario, through the what-if engine; `Err` names what has
/// no price.
fn reprice(
    pricer: &mut ScenarioPricer<'_>,
    r: &Request,
    tokens: TokenCounts,
    target: &str,
) -> std::result::Result<Decimal, String> {
    let mut record = UsageRecord::new(
        Text::default(),
        "api-log",
        r.provider,
        Text::from(r.model.as_str()),
        r.at,
        Provenance {
            file: "".into(),
            line: 0,
        },
    );
    record.tokens = tokens;
    pricer
        .price(&record, Some(&r.model))
        .map_err(|why| format!("{} on {target}: {why}", r.model))
}

/// A window's requests moved to the fallback.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failover {
    pub requests: u64,
    /// Requests whose tokens were estimated (a failed request bills nothing, so its size is its retry's,
    /// else the group's mean successful request).
    pub estimated: u64,
    /// What they cost (or would have cost, served) on the FROM side.
    pub cost: Decimal,
    /// What they would cost on the fallback.
    pub fallback_cost: Decimal,
    /// Requests the fallback has no price for (left out of both sums).
    pub unpriced: u64,
    pub unpriced_reason: Option<String>,
}

/// Prices the window's `members` (failed ones only unless `all`) on the fallback.
pub fn failover(
    book: &PriceBook,
    fallback: &Fallback,
    requests: &[Request],
    retries: &[Option<Retry>],
    members: &[usize],
    all: bool,
) -> Failover {
    let mut out = Failover::default();
    // A failed request's size: its retry's tokens when a retry was found, else the mean of the
    // successful requests of its group.
    let mut retry_of: std::collections::HashMap<usize, usize> = Default::default();
    for (i, r) in retries.iter().enumerate() {
        if let Some(Retry {
            original: Some(o), ..
        }) = r
        {
            retry_of.entry(*o).or_insert(i);
        }
    }
    let mut means: std::collections::HashMap<usize, TokenCounts> = Default::default();
    let (now, moved) = (scenario(None), scenario(Some(&fallback.to)));
    let mut here = ScenarioPricer::new(&now, book);
    let mut there = ScenarioPricer::new(&moved, book);
    for &m in members {
        let r = &requests[m];
        if !fallback.applies_to(r) || (!all && r.failure.is_none()) {
            continue;
        }
        let mut tokens = r.tokens;
        if tokens.is_empty() {
            tokens = match retry_of.get(&m).map(|&x| requests[x].tokens) {
                Some(t) if !t.is_empty() => t,
                _ => *means
                    .entry(r.group)
                    .or_insert_with(|| mean_tokens(requests, r.group)),
            };
            out.estimated += 1;
        }
        let from = reprice(&mut here, r, tokens, &fallback.from_name());
        let to = reprice(&mut there, r, tokens, &fallback.to_name());
        match (from, to) {
            (Ok(from), Ok(to)) => {
                out.requests += 1;
                out.cost += from;
                out.fallback_cost += to;
            }
            (Err(why), _) | (_, Err(why)) => {
                out.unpriced += 1;
                out.unpriced_reason.get_or_insert(why);
            }
        }
    }
    out
}

/// The mean tokens of a group's successful requests (whole tokens, rounded down).
fn mean_tokens(requests: &[Request], group: usize) -> TokenCounts {
    let ok: Vec<&TokenCounts> = requests
        .iter()
        .filter(|r| r.group == group && r.failure.is_none() && !r.tokens.is_empty())
        .map(|r| &r.tokens)
        .collect();
    let n = ok.len() as u64;
    if n == 0 {
        return TokenCounts::default();
    }
    let sum = |f: fn(&TokenCounts) -> u64| ok.iter().map(|t| f(t)).sum::<u64>() / n;
    TokenCounts {
        input: sum(|t| t.input),
        cache_read: sum(|t| t.cache_read),
        cache_write_5m: sum(|t| t.cache_write_5m),
        cache_write_1h: sum(|t| t.cache_write_1h),
        output: sum(|t| t.output),
        reasoning: sum(|t| t.reasoning),
        ..TokenCounts::default()
    }
}
