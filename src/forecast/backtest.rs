//! Month-end accuracy: replay [`project`](super::project) at fixed days of every complete month of a
//! series and compare each forecast month total (and its 80% interval) with what the month really cost.
//!
//! ```
//! use aispend::forecast::backtest::month_end_accuracy;
//! use aispend::forecast::synthetic::{generate, Family};
//! use aispend::forecast::MethodChoice;
//!
//! let series = generate(Family::WeeklySeasonal, 1, 120);
//! let acc = month_end_accuracy(&series, MethodChoice::Auto, &[10, 20], 59).unwrap();
//! assert_eq!(acc.cases.len(), 4); // March and April (after 59 days), days 10 and 20
//! assert!(acc.mape().unwrap() < rust_decimal::Decimal::from(10)); // percent
//! ```

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::engine::Engine;
use super::num::{count, r};
use super::{DailySeries, ForecastError, Method, MethodChoice};

/// One replayed projection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthEndCase {
    pub month_start: NaiveDate,
    pub as_of: NaiveDate,
    /// The method the projection used.
    pub method: Method,
    /// What the month really cost.
    pub actual: Decimal,
    /// What the month had cost through `as_of`.
    pub actual_to_date: Decimal,
    pub forecast: Decimal,
    pub lower: Decimal,
    pub upper: Decimal,
}

impl MonthEndCase {
    /// |forecast − actual| ÷ |actual|, in percent; `None` for a month that cost nothing.
    pub fn ape(&self) -> Option<Decimal> {
        (!self.actual.is_zero()).then(|| {
            r((self.forecast - self.actual).abs() / self.actual.abs() * Decimal::ONE_HUNDRED)
        })
    }

    /// Whether the actual total fell inside the 80% interval.
    pub fn covered(&self) -> bool {
        self.lower <= self.actual && self.actual <= self.upper
    }

    /// Whether the interval has width on one side of the forecast only (e.g. `[forecast, upper]`),
    /// apart from [`at_zero_floor`](Self::at_zero_floor).
    pub fn one_sided(&self) -> bool {
        (self.lower == self.forecast) != (self.upper == self.forecast) && !self.at_zero_floor()
    }

    /// Whether nothing more was forecast for the month (the forecast is the actual to date) and the
    /// lower bound is that floor: spend cannot go lower, so the interval can only reach up.
    pub fn at_zero_floor(&self) -> bool {
        self.forecast == self.actual_to_date && self.lower == self.forecast
    }
}

/// The replayed projections of one method choice on one series.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Accuracy {
    pub cases: Vec<MonthEndCase>,
}

impl Accuracy {
    /// Mean absolute percentage error of the month total, in percent (months that cost nothing are
    /// left out); `None` without cases.
    pub fn mape(&self) -> Option<Decimal> {
        let apes: Vec<Decimal> = self.cases.iter().filter_map(MonthEndCase::ape).collect();
        (!apes.is_empty()).then(|| r(apes.iter().copied().sum::<Decimal>() / count(apes.len())))
    }

    /// The largest absolute percentage error of the month total, in percent; `None` without cases.
    pub fn max_ape(&self) -> Option<Decimal> {
        self.cases.iter().filter_map(MonthEndCase::ape).max()
    }

    /// How many cases had a one-sided interval ([`MonthEndCase::one_sided`]).
    pub fn one_sided(&self) -> usize {
        self.cases.iter().filter(|c| c.one_sided()).count()
    }

    /// How many cases forecast nothing more for the month ([`MonthEndCase::at_zero_floor`]).
    pub fn at_zero_floor(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| c.at_zero_floor() && c.upper > c.lower)
            .count()
    }

    /// Share of cases whose actual total fell inside the 80% interval, in percent.
    pub fn coverage(&self) -> Option<Decimal> {
        let covered = self.cases.iter().filter(|c| c.covered()).count();
        (!self.cases.is_empty())
            .then(|| r(count(covered) * Decimal::ONE_HUNDRED / count(self.cases.len())))
    }

    /// Adds another run's cases (to pool several series).
    pub fn extend(&mut self, other: Accuracy) {
        self.cases.extend(other.cases);
    }
}

/// Replays month-end projections with `choice` on `series`: for every calendar month the series
/// covers completely, and every `origin_days` day `d` of it (as_of = the month's day `d`; days past
/// the month's end are skipped), when at least `min_history_days` days of the series lie on or before
/// `as_of`. Each projection sees only the days through its `as_of`.
pub fn month_end_accuracy(
    series: &DailySeries,
    choice: MethodChoice,
    origin_days: &[u32],
    min_history_days: usize,
) -> Result<Accuracy, ForecastError> {
    let mut all = month_end_accuracy_many(series, &[choice], origin_days, min_history_days)?;
    Ok(all.pop().unwrap_or_default())
}

/// [`month_end_accuracy`] for several choices at once (one entry per choice, in order), preparing each
/// origin once: faster when comparing methods.
pub fn month_end_accuracy_many(
    series: &DailySeries,
    choices: &[MethodChoice],
    origin_days: &[u32],
    min_history_days: usize,
) -> Result<Vec<Accuracy>, ForecastError> {
    let mut out = vec![Accuracy::default(); choices.len()];
    let Some(end) = series.end() else {
        return Ok(out);
    };
    let mut month = first_of_month(series.start);
    if month < series.start {
        month = next_month(month).unwrap_or(end);
    }
    while let Some(following) = next_month(month) {
        let month_end = following.pred_opt().unwrap_or(following);
        if month_end > end {
            break;
        }
        let actual = (0..=(month_end - month).num_days())
            .filter_map(|i| series.get(month + chrono::Duration::days(i)))
            .try_fold(Decimal::ZERO, |a, v| a.checked_add(v))
            .ok_or(ForecastError::Overflow)?;
        for &d in origin_days {
            let Some(as_of) = month.with_day(d) else {
                continue;
            };
            let history_days = (as_of - series.start).num_days() + 1;
            if history_days < min_history_days as i64 {
                continue;
            }
            let mut engine = Engine::new(series, as_of, month, month_end)?;
            for (choice, acc) in choices.iter().zip(out.iter_mut()) {
                let p = engine.project(*choice)?;
                acc.cases.push(MonthEndCase {
                    month_start: month,
                    as_of,
                    method: p.method,
                    actual,
                    actual_to_date: p.actual_to_date,
                    forecast: p.forecast,
                    lower: p.lower,
                    upper: p.upper,
                });
            }
        }
        month = following;
    }
    Ok(out)
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn next_month(d: NaiveDate) -> Option<NaiveDate> {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
}
