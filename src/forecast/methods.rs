//! The four forecasting methods, each able to forecast from any origin of a history (for backtests).
//!
//! All values here are normalized (the history divided by a power of ten so the largest day is ≤ 1):
//! the arithmetic stays small and exact, and the caller scales the result back.

use std::cell::OnceCell;

use rust_decimal::Decimal;

use super::num::{count, decimal, mean, r};
use super::Method;
use super::{arima, holt_winters, theta};

/// Same-weekday values the weekday mean averages.
pub(crate) const WEEKDAY_MEAN_WEEKS: usize = 4;

/// Days of history each method needs before it is used (auto falls back below these).
pub(crate) fn min_history(method: Method) -> usize {
    match method {
        Method::RunRate => 1,
        Method::SeasonalNaive | Method::WeekdayMean => 7,
        Method::HoltWinters | Method::Ensemble => holt_winters::MIN_HISTORY,
        Method::Theta => theta::MIN_HISTORY,
        Method::Arima => arima::MIN_HISTORY,
    }
}

/// A history with everything needed to forecast from any of its days.
pub(crate) struct Models {
    /// Normalized daily values, oldest first; the last is the `as_of` day.
    pub y: Vec<Decimal>,
    /// Days of the projected period already elapsed at `as_of` (the run-rate's window).
    pub elapsed: usize,
    /// `y` with one-off days replaced ([`without_one_offs`]): what the fitted models learn from.
    fit: Vec<Decimal>,
    /// Holt-Winters fitted on all of `fit` (on first use), when it is long enough.
    hw: OnceCell<Option<holt_winters::Fit>>,
    theta: OnceCell<Option<theta::Fit>>,
    arima: OnceCell<Option<arima::Fit>>,
}

impl Models {
    pub(crate) fn new(y: Vec<Decimal>, elapsed: usize) -> Models {
        Models {
            fit: without_one_offs(&y),
            y,
            elapsed,
            hw: OnceCell::new(),
            theta: OnceCell::new(),
            arima: OnceCell::new(),
        }
    }

    /// The Holt-Winters fit, made on first use; `None` when the history is too short for it.
    fn hw(&self) -> Option<&holt_winters::Fit> {
        self.hw
            .get_or_init(|| holt_winters::Fit::new(&self.fit))
            .as_ref()
    }

    fn theta(&self) -> Option<&theta::Fit> {
        self.theta
            .get_or_init(|| theta::Fit::new(&self.fit))
            .as_ref()
    }

    fn arima(&self) -> Option<&arima::Fit> {
        self.arima
            .get_or_init(|| arima::Fit::new(&self.fit))
            .as_ref()
    }

    /// Whether `method` can forecast from `origin` (it has the history it needs).
    pub(crate) fn available(&self, method: Method, origin: usize) -> bool {
        origin >= min_history(method)
            && origin <= self.y.len()
            && match method {
                Method::HoltWinters => self.hw().is_some(),
                Method::Theta => self.theta().is_some(),
                Method::Arima => self.arima().is_some(),
                Method::Ensemble => {
                    self.hw().is_some() && self.theta().is_some() && self.arima().is_some()
                }
                _ => true,
            }
    }

    /// Forecast of days `origin..origin + horizon`, knowing only days `0..origin`. `None` when the
    /// method lacks the history it needs.
    pub(crate) fn forecast(
        &self,
        method: Method,
        origin: usize,
        horizon: usize,
    ) -> Option<Vec<Decimal>> {
        if !self.available(method, origin) {
            return None;
        }
        let y = &self.y[..origin];
        match method {
            Method::RunRate => {
                // Period-to-date ÷ days elapsed; before the period starts, the last week's mean.
                let window = match self.elapsed.min(origin) {
                    0 => origin.min(7),
                    k => k,
                };
                let rate = mean(&y[origin - window..])?;
                Some(vec![rate; horizon])
            }
            Method::SeasonalNaive => Some((0..horizon).map(|j| y[origin - 7 + j % 7]).collect()),
            Method::WeekdayMean => {
                let mut by_weekday = [Decimal::ZERO; 7];
                for (p, slot) in by_weekday.iter_mut().enumerate() {
                    // The last WEEKDAY_MEAN_WEEKS days before `origin` with day number ≡ p (mod 7).
                    let last = origin - 1 - (origin - 1 + 7 - p) % 7;
                    let same: Vec<Decimal> = (0..WEEKDAY_MEAN_WEEKS)
                        .filter_map(|w| last.checked_sub(7 * w))
                        .map(|i| y[i])
                        .collect();
                    *slot = mean(&same)?;
                }
                Some((0..horizon).map(|j| by_weekday[(origin + j) % 7]).collect())
            }
            Method::HoltWinters => self.hw()?.forecast(origin, horizon),
            Method::Theta => self.theta()?.forecast(origin, horizon),
            Method::Arima => self.arima()?.forecast(origin, horizon),
            Method::Ensemble => {
                let parts = [
                    self.hw()?.forecast(origin, horizon)?,
                    self.theta()?.forecast(origin, horizon)?,
                    self.arima()?.forecast(origin, horizon)?,
                ];
                Some(
                    (0..horizon)
                        .map(
                            |j| r(parts.iter().map(|p| p[j]).sum::<Decimal>() / count(parts.len())),
                        )
                        .collect(),
                )
            }
        }
    }
}

/// A day costing more than this many times the average day of the previous four weeks is a one-off.
const ONE_OFF_FACTOR: Decimal = decimal(8, 0);

/// `y` with its one-off days (more than [`ONE_OFF_FACTOR`] × the mean absolute day of the 28 days
/// before, with at least 7 of them) replaced by the same weekday a week earlier. A single runaway
/// job or backfill would otherwise stay in a smoothed level or weekly index for weeks; the fitted
/// models (holt-winters, theta, arima) learn from this copy. Only days before each day are looked
/// at, so a backtest from any origin sees no future. A lasting step up of more than 8× is treated as
/// one-off for its first few days only, until the 28-day mean catches up.
pub(crate) fn without_one_offs(y: &[Decimal]) -> Vec<Decimal> {
    let mut out = y.to_vec();
    let mut window = Decimal::ZERO;
    for t in 0..y.len() {
        if t >= 7 {
            let days = t.min(28);
            let mean = window / count(days);
            if !mean.is_zero() && y[t] > ONE_OFF_FACTOR * mean {
                out[t] = out[t - 7];
            }
        }
        window += y[t].abs();
        if t >= 28 {
            window -= y[t - 28].abs();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::num::test_week as week;
    use rust_decimal_macros::dec;

    #[test]
    fn run_rate_is_period_to_date_over_days_elapsed() {
        let y = [dec!(0.1), dec!(0.2), dec!(0.3), dec!(0.6)];
        // 3 days elapsed: (0.2 + 0.3 + 0.6) / 3 = 0.366…
        let m = Models::new(y.to_vec(), 3);
        let f = m.forecast(Method::RunRate, 4, 2).unwrap();
        assert_eq!(f[0].round_dp(6), dec!(0.366667));
        // Nothing elapsed (projecting the next period): the last week's mean, here all 4 days.
        let m = Models::new(y.to_vec(), 0);
        assert_eq!(m.forecast(Method::RunRate, 4, 1).unwrap(), vec![dec!(0.3)]);
        assert!(m.forecast(Method::RunRate, 0, 1).is_none());
    }

    #[test]
    fn weekday_methods_repeat_the_week() {
        let y: Vec<Decimal> = (0..24).map(week).collect();
        let m = Models::new(y.to_vec(), 10);
        let expected: Vec<Decimal> = (24..40).map(week).collect();
        assert_eq!(m.forecast(Method::SeasonalNaive, 24, 16).unwrap(), expected);
        assert_eq!(m.forecast(Method::WeekdayMean, 24, 16).unwrap(), expected);
        // From origin 10 the weekday mean has one or two of each weekday: still exact here.
        let expected: Vec<Decimal> = (10..17).map(week).collect();
        assert_eq!(m.forecast(Method::WeekdayMean, 10, 7).unwrap(), expected);
        assert!(m.forecast(Method::SeasonalNaive, 6, 7).is_none());
        assert!(m.forecast(Method::HoltWinters, 24, 7).is_none());
    }

    #[test]
    fn one_off_days_are_replaced_for_the_fitted_models() {
        // 20 days of 1, then 9 (over 8 × the mean 1): replaced by day 13's 1. Then 5: kept.
        let mut y = vec![dec!(1); 22];
        y[20] = dec!(9);
        y[21] = dec!(5);
        let out = without_one_offs(&y);
        assert_eq!(out[20], dec!(1));
        assert_eq!(out[21], dec!(5));
        assert_eq!(out[..20], y[..20]);
        // Nothing in the first week is judged, and exactly 8 × the mean is not a one-off: on day 9
        // the 9 days before average (8 × 1 + 100) / 9 = 12, and 8 × 12 = 96.
        let mut y = vec![dec!(1); 10];
        y[3] = dec!(100);
        y[9] = dec!(96);
        let out = without_one_offs(&y);
        assert_eq!(out, y);
    }

    #[test]
    fn weekday_mean_averages_the_last_four_same_weekdays() {
        // Day numbers 0..35; the value is the week number, so the last 4 weeks' mean is (1+2+3+4)/4.
        let y: Vec<Decimal> = (0..35).map(|t| Decimal::from((t / 7) as u64)).collect();
        let m = Models::new(y.to_vec(), 0);
        assert_eq!(
            m.forecast(Method::WeekdayMean, 35, 3).unwrap(),
            vec![dec!(2.5); 3]
        );
    }
}
