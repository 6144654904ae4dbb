//! Spend anomalies: each day's cost of a group against a weekday-aware robust baseline from its own
//! history. The expected cost is the median of the same weekday over the previous weeks; the score is
//! the difference in robust standard deviations (1.4826 × the MAD of those same-weekday costs, floored
//! so that a very regular history does not turn cents into alarms). Spikes and drops beyond the
//! threshold are flagged, and so are new spenders: groups with spend that had none before.

use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;

use crate::robust::{median_mad, MAD_TO_SIGMA};

pub mod synthetic;

/// What kind of anomaly a day is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Spike,
    Drop,
    /// Spend from a group that had none in the history read.
    New,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Spike => "spike",
            Kind::Drop => "drop",
            Kind::New => "new",
        }
    }
}

/// The detector's settings.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// How many previous same weekdays make the baseline (at least 2 must have data).
    pub weeks: usize,
    /// |score| at or beyond which a day is an anomaly.
    pub threshold: Decimal,
    /// A spike costs at least this many times the expected cost…
    pub spike_ratio: Decimal,
    /// …and a drop at most this fraction of it.
    pub drop_ratio: Decimal,
    /// Days of data (any group) needed before a group's first spend counts as new.
    pub new_after_days: i64,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            weeks: 4,
            threshold: Decimal::from(4),
            spike_ratio: Decimal::TWO,
            drop_ratio: Decimal::new(5, 1),
            new_after_days: 7,
        }
    }
}

/// The scale is never below this fraction of the expected cost…
const RELATIVE_FLOOR: Decimal = Decimal::from_parts(1, 0, 0, false, 1);
/// …nor below this fraction of the group's mean daily cost over the 28 days before.
const LEVEL_FLOOR: Decimal = Decimal::from_parts(1, 0, 0, false, 1);

/// One flagged day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anomaly {
    pub day: NaiveDate,
    pub cost: Decimal,
    pub expected: Decimal,
    /// (cost − expected) ÷ scale, two decimals; `None` for a new spender (no baseline).
    pub score: Option<Decimal>,
    pub kind: Kind,
}

impl Anomaly {
    pub fn difference(&self) -> Decimal {
        self.cost - self.expected
    }
}

/// A group's expected cost on a day and the scale its score divides by, or `None` without enough
/// same-weekday history (fewer than 2 of the previous `weeks` same weekdays on or after `data_start`).
pub fn baseline(
    series: &[Decimal],
    start: NaiveDate,
    day: NaiveDate,
    data_start: NaiveDate,
    rules: &Rules,
) -> Option<(Decimal, Decimal)> {
    let value = |d: NaiveDate| -> Option<Decimal> {
        if d < data_start || d < start {
            return None;
        }
        Some(
            series
                .get((d - start).num_days() as usize)
                .copied()
                .unwrap_or_default(),
        )
    };
    let same: Vec<Decimal> = (1..=rules.weeks as i64)
        .filter_map(|w| value(day - Duration::weeks(w)))
        .collect();
    if same.len() < 2 {
        return None;
    }
    let (expected, mad) = median_mad(&same)?;
    let recent: Vec<Decimal> = (1..=28)
        .filter_map(|k| value(day - Duration::days(k)))
        .collect();
    let level = if recent.is_empty() {
        Decimal::ZERO
    } else {
        recent.iter().sum::<Decimal>() / Decimal::from(recent.len())
    };
    let scale = (MAD_TO_SIGMA * mad)
        .max(RELATIVE_FLOOR * expected.abs())
        .max(LEVEL_FLOOR * level.abs());
    Some((expected, scale))
}

/// The anomalies of one group's daily series (`series[0]` is `start`) on the days `from..=to`.
/// `data_start` is the first day of the data read (any group): days before it are unknown, not zero.
pub fn detect(
    series: &[Decimal],
    start: NaiveDate,
    from: NaiveDate,
    to: NaiveDate,
    data_start: NaiveDate,
    rules: &Rules,
) -> Vec<Anomaly> {
    let mut out = Vec::new();
    let cost_on = |d: NaiveDate| -> Decimal {
        if d < start {
            return Decimal::ZERO;
        }
        series
            .get((d - start).num_days() as usize)
            .copied()
            .unwrap_or_default()
    };
    // The first day with spend: a new spender on that day, when there was history enough before it.
    let first_spend = (0..series.len())
        .find(|&i| series[i] > Decimal::ZERO)
        .map(|i| start + Duration::days(i as i64));
    // Before its first spend a group has no history of its own: those days are not a baseline of zero.
    let history_start = first_spend.map_or(data_start, |f| f.max(data_start));
    let mut day = from;
    while day <= to {
        let cost = cost_on(day);
        if Some(day) == first_spend && (day - data_start).num_days() >= rules.new_after_days {
            out.push(Anomaly {
                day,
                cost,
                expected: Decimal::ZERO,
                score: None,
                kind: Kind::New,
            });
        } else if let Some((expected, scale)) = baseline(series, start, day, history_start, rules) {
            if scale > Decimal::ZERO {
                let score = ((cost - expected) / scale).round_dp(2);
                let kind = if score >= rules.threshold && cost >= rules.spike_ratio * expected {
                    Some(Kind::Spike)
                } else if score <= -rules.threshold && cost <= rules.drop_ratio * expected {
                    Some(Kind::Drop)
                } else {
                    None
                };
                if let Some(kind) = kind {
                    out.push(Anomaly {
                        day,
                        cost,
                        expected,
                        score: Some(score),
                        kind,
                    });
                }
            }
        }
        day += Duration::days(1);
    }
    out
}

#[cfg(test)]
mod tests;
