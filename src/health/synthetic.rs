//! Deterministic request logs with planted brownouts, for the detection benchmark (`cargo bench --bench
//! detection`): the same arguments give the same requests.
//!
//! A series is one group's month (30 days) of requests: a daily cycle between 0.2 and 1 request a minute
//! (busiest mid-day UTC), a background failure rate of 0.5–2% (429s and 500s), latencies of 0.6–1.6 × the
//! model's typical one with a 2% tail at 3×. Each month gets two planted brownouts of 45 minutes to 3
//! hours at random times: an error burst (30–70% of requests overloaded) or a latency shift (2.5–4×).

use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;

use super::Request;
use crate::forecast::synthetic::SplitMix64;
use crate::record::{FailureClass, Provider, TokenCounts};

/// What a planted brownout does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incident {
    ErrorBurst,
    LatencyShift,
}

impl Incident {
    pub fn as_str(self) -> &'static str {
        match self {
            Incident::ErrorBurst => "error burst",
            Incident::LatencyShift => "latency shift",
        }
    }
}

/// A planted brownout: `[start, end)`.
#[derive(Debug, Clone, Copy)]
pub struct PlantedBrownout {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub kind: Incident,
}

/// Days in a series-month.
pub const MONTH_DAYS: i64 = 30;

/// The first instant of every series: 2026-03-01 00:00 UTC.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// One group's month of requests (`group` 0, sorted by time) and the brownouts planted in it.
pub fn requests(seed: u64, incidents: &[Incident]) -> (Vec<Request>, Vec<PlantedBrownout>) {
    let mut rng = SplitMix64::new(seed.wrapping_mul(0x9E37_79B9) ^ 0x5EED);
    let unit = |rng: &mut SplitMix64| (rng.next_u64() % 1_000_000) as f64 / 1_000_000.0;
    let typical_ms = 500 + rng.next_u64() % 9_500;
    let background = 0.005 + 0.015 * unit(&mut rng);
    let mut planted = Vec::new();
    for (k, kind) in incidents.iter().enumerate() {
        // one incident per half month, so that two never overlap
        let half = MONTH_DAYS * 24 * 60 / incidents.len().max(1) as i64;
        let length = 45 + (rng.next_u64() % 136) as i64;
        let offset = (rng.next_u64() % (half - length - 60) as u64) as i64 + 30;
        let begin = start() + Duration::minutes(k as i64 * half + offset);
        planted.push(PlantedBrownout {
            start: begin,
            end: begin + Duration::minutes(length),
            kind: *kind,
        });
    }
    let severity: Vec<f64> = planted
        .iter()
        .map(|p| match p.kind {
            Incident::ErrorBurst => 0.3 + 0.4 * unit(&mut rng),
            Incident::LatencyShift => 2.5 + 1.5 * unit(&mut rng),
        })
        .collect();
    let mut out = Vec::new();
    let end = start() + Duration::days(MONTH_DAYS);
    let mut t = start();
    let mut n = 0u64;
    while t < end {
        // requests a minute: 0.2 at night to 1.0 at 12:00 UTC
        let hour = (t - start()).num_minutes() % (24 * 60) / 60;
        let rate = 0.2 + 0.8 * (1.0 - ((hour as f64 - 12.0).abs() / 12.0));
        let gap_s = (-unit(&mut rng).max(1e-6).ln() * 60.0 / rate).max(0.1);
        t += Duration::milliseconds((gap_s * 1000.0) as i64);
        if t >= end {
            break;
        }
        let active = planted.iter().position(|p| p.start <= t && t < p.end);
        let mut p_fail = background;
        let mut slow = 1.0;
        if let Some(i) = active {
            match planted[i].kind {
                Incident::ErrorBurst => p_fail = severity[i],
                Incident::LatencyShift => slow = severity[i],
            }
        }
        let failure = (unit(&mut rng) < p_fail).then(|| match active {
            Some(_) if slow == 1.0 => FailureClass::Overloaded,
            _ if rng.next_u64().is_multiple_of(2) => FailureClass::RateLimit,
            _ => FailureClass::ServerError,
        });
        let tail = if unit(&mut rng) < 0.02 { 3.0 } else { 1.0 };
        let latency = typical_ms as f64 * (0.6 + unit(&mut rng)) * tail * slow;
        n += 1;
        out.push(Request {
            at: t,
            group: 0,
            request_id: format!("r{n}"),
            caller: "key".into(),
            provider: Provider::Anthropic,
            model: "model".into(),
            failure,
            latency_ms: failure.is_none().then_some(latency as u64),
            tokens: TokenCounts::default(),
            cost: Decimal::ZERO,
            attempt: None,
            retry_of: None,
        });
    }
    (out, planted)
}
