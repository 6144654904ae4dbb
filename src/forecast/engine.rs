//! The projection: prepare one series for one period, choose a method by rolling-origin backtest,
//! forecast the remaining days and put an empirical 80% interval around the total.
//!
//! Backtests mirror the question being asked. If the period has `k` days elapsed at `as_of` and `h`
//! days left, then from every past day `o` (the origin) each method forecasts days `o..o + h` knowing
//! only days before `o`, and the error is judged on the equivalent period total (the `k` days before
//! `o` plus the `h` forecast days): exactly what a month-end projection on day `k` gets wrong.
//!
//! `auto` keeps the candidate with the smallest weighted absolute percentage error of those totals
//! over the origins where every candidate can run (ties keep the simpler method).
//!
//! The interval: each origin's error of the remaining-days sum, divided by the mean absolute daily
//! value of the 28 days before that origin (so errors from quieter and busier times compare), gives
//! an error distribution; its 10th and 90th percentiles times today's level are added to the forecast.
//! Neighbouring origins share most of their days, so only about one per horizon is independent: the
//! spread around the median error is widened by the Student-t prediction factor for that many
//! independent errors ([`widening`]). Holt-Winters is fitted once on the whole history and backtested
//! with those parameters (each origin's state uses only earlier days, but the four parameters saw
//! everything): a small optimism the widening also absorbs. With fewer than 10 usable origins the
//! interval is z₈₀ × daily sd × √(days left), at least ±25% of the remaining forecast.

use std::cell::OnceCell;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::methods::{min_history, Models};
use super::num::{self, count, decimal, r, OUT_DP};
use super::{
    DailySeries, ForecastError, Method, MethodChoice, MethodScore, Projection, MAX_HORIZON_DAYS,
};

/// Days of history modelled (53 weeks): older days rarely help a month-end forecast, and this
/// bounds the work per series.
const MAX_HISTORY: usize = 371;

/// Below this many days only the run-rate is possible.
const MIN_DAYS_ANY_PATTERN: usize = 3;
/// Below this many days `auto` does not consider seasonal-naive (and cannot backtest).
const MIN_DAYS_SEASONAL: usize = 14;

/// The fitted models `auto` adds to the simple methods when the history allows them.
const MODEL_METHODS: [Method; 4] = [
    Method::Theta,
    Method::Arima,
    Method::HoltWinters,
    Method::Ensemble,
];

/// `auto` needs at least this many common backtest origins to compare methods.
const MIN_SELECTION_ORIGINS: usize = 3;
/// The empirical interval needs at least this many backtest origins; otherwise the fallback is used.
const MIN_INTERVAL_ORIGINS: usize = 10;
/// The earliest origin of the interval backtest for methods that need less history than this.
const MIN_INTERVAL_TRAINING: usize = 14;
/// Days of history behind the level that scales interval errors.
const LEVEL_WINDOW: usize = 28;
/// A level below this (normalized units) cannot scale errors: the origin is skipped.
const MIN_LEVEL: Decimal = decimal(1, 9);

/// Each backtest origin weighs this much less than the next one in `auto`'s choice (a half-life of
/// about a week: after a step change, the backtests since the step decide).
const RECENCY_DECAY: Decimal = decimal(9, 1);

/// `auto` keeps the ensemble unless another method's backtest error is at least this share smaller.
const ENSEMBLE_MARGIN: Decimal = decimal(2, 1);

/// The interval's quantiles of the backtest errors.
const LOWER_Q: Decimal = decimal(1, 1);
const UPPER_Q: Decimal = decimal(9, 1);
/// The shorter side of the interval (from the forecast) is at least this share of the longer one.
const MIN_SIDE: Decimal = decimal(25, 2);
/// Fallback interval: z for a central 80% normal interval…
const Z80: Decimal = decimal(12816, 4);
/// …and the least half-width, as a fraction of the remaining forecast.
const FALLBACK_MIN_HALF_WIDTH: Decimal = decimal(25, 2);

/// One series prepared for one period.
pub(crate) struct Engine {
    models: Models,
    /// Normalized values × `scale` = the input's currency amounts (a power of ten).
    scale: Decimal,
    /// No day of the history is negative: forecasts and the lower bound are kept ≥ 0.
    non_negative: bool,
    /// Days after `as_of` before the period starts (forecast, but not part of the total).
    gap: usize,
    /// Days of the period after `as_of`.
    remaining: usize,
    actual_to_date: Decimal,
    notes: Vec<String>,
    /// Prefix sums of the history and of its absolute values: `sums[o]` = Σ y[..o].
    sums: Vec<Decimal>,
    abs_sums: Vec<Decimal>,
    /// Each method's backtest (by position in [`Method::ALL`]), made on first use.
    backtests: [OnceCell<Vec<Sample>>; Method::ALL.len()],
}

/// One backtest origin's outcome.
#[derive(Debug, Clone)]
struct Sample {
    /// The origin (the first forecast day).
    origin: usize,
    /// |actual − forecast| of the remaining-days sum.
    abs_error: Decimal,
    /// |period total| at that origin (elapsed days before it + the actual remaining days).
    total: Decimal,
    /// (actual − forecast) ÷ the daily level before the origin; `None` when the level is ~0.
    scaled_error: Option<Decimal>,
}

impl Engine {
    pub(crate) fn new(
        history: &DailySeries,
        as_of: NaiveDate,
        period_start: NaiveDate,
        period_end: NaiveDate,
    ) -> Result<Engine, ForecastError> {
        if period_end < period_start {
            return Err(ForecastError::PeriodReversed {
                start: period_start,
                end: period_end,
            });
        }
        let horizon = (period_end - as_of).num_days().max(0);
        if horizon > MAX_HORIZON_DAYS {
            return Err(ForecastError::HorizonTooLong {
                days: horizon,
                max: MAX_HORIZON_DAYS,
            });
        }
        let gap = (period_start - as_of).num_days().saturating_sub(1).max(0);
        let (horizon, gap) = (horizon as usize, gap as usize);
        let remaining = horizon - gap.min(horizon);

        let len = history.values.len() as i64;
        let index = |d: NaiveDate| (d - history.start).num_days();
        // The `as_of` day's index: past the end (zero-filled) or before the start; an empty series
        // has no history at all.
        let last = if len == 0 { -1 } else { index(as_of) };

        // Actual spend of the period through `as_of`.
        let mut actual_to_date = Decimal::ZERO;
        let (from, to) = (
            index(period_start).max(0),
            last.min(index(period_end)).min(len - 1),
        );
        for i in from..=to {
            actual_to_date = actual_to_date
                .checked_add(history.values[i as usize])
                .ok_or(ForecastError::Overflow)?;
        }
        let known = &history.values[..(last + 1).clamp(0, len) as usize];
        let non_negative = known.iter().all(|v| !v.is_sign_negative() || v.is_zero());

        // The modelled window: the last MAX_HISTORY days through `as_of`, zero-filled past the end.
        let first = (last + 1 - MAX_HISTORY as i64).max(0);
        let raw: Vec<Decimal> = (first..=last)
            .map(|i| history.values.get(i as usize).copied().unwrap_or_default())
            .collect();
        let scale = power_of_ten_above(raw.iter().map(|v| v.abs()).max().unwrap_or_default());
        let y = raw
            .iter()
            .map(|v| v.checked_div(scale).map(r).ok_or(ForecastError::Overflow))
            .collect::<Result<Vec<_>, _>>()?;
        let window_start = history
            .start
            .checked_add_signed(chrono::Duration::days(first))
            .unwrap_or(as_of);
        let elapsed = if as_of < period_start || y.is_empty() {
            0
        } else {
            let since = period_start.max(window_start);
            ((as_of - since).num_days() + 1).clamp(0, y.len() as i64) as usize
        };
        let prefix = |f: fn(Decimal) -> Decimal| {
            let mut acc = Decimal::ZERO;
            let mut out = vec![acc];
            for v in &y {
                acc += f(*v);
                out.push(acc);
            }
            out
        };
        let (sums, abs_sums) = (prefix(|v| v), prefix(|v| v.abs()));
        Ok(Engine {
            sums,
            abs_sums,
            backtests: Default::default(),
            models: Models::new(y, elapsed),
            scale,
            non_negative,
            gap,
            remaining,
            actual_to_date,
            notes: Vec::new(),
        })
    }

    fn history_days(&self) -> usize {
        self.models.y.len()
    }

    fn horizon(&self) -> usize {
        self.gap + self.remaining
    }

    pub(crate) fn project(&mut self, choice: MethodChoice) -> Result<Projection, ForecastError> {
        self.notes.clear();
        let n = self.history_days();
        if self.remaining == 0 {
            self.notes
                .push("the period is over at this date: the total is the actual spend".into());
            let method = match choice {
                MethodChoice::Auto => Method::RunRate,
                MethodChoice::Fixed(m) => m,
            };
            return Ok(self.collapsed(method, Vec::new()));
        }
        if n == 0 {
            self.notes
                .push("no history to forecast from: the remaining days are taken as zero".into());
            return Ok(self.collapsed(Method::RunRate, vec![Decimal::ZERO; self.remaining]));
        }
        let (method, candidates) = match choice {
            MethodChoice::Auto => self.choose(),
            MethodChoice::Fixed(m) => (self.usable(m), Vec::new()),
        };
        let forecast = self
            .window_forecast(method, n)
            .unwrap_or_else(|| vec![Decimal::ZERO; self.remaining]);
        let point = forecast.iter().copied().sum::<Decimal>();

        let samples = self.samples(method, min_history(method).max(MIN_INTERVAL_TRAINING));
        let backtest_mape = mape(&samples);
        let mut errors: Vec<Decimal> = samples.iter().filter_map(|s| s.scaled_error).collect();
        errors.sort();
        let mut fallback = None;
        let (low, high, interval_origins) = if errors.len() >= MIN_INTERVAL_ORIGINS {
            let level = self.level(n);
            let q = |p| num::quantile(&errors, p).unwrap_or_default();
            // Overlapping origins are far from independent: one per horizon would be, but a spread
            // measured on overlapping windows is about as precise as one from 1.5–2 times as many
            // disjoint ones, so two per horizon are counted. A prediction from few independent
            // errors must be wider than their spread (Student's t), so the spread is widened
            // around the median error by `widening`.
            let widen = widening((2 * errors.len() / self.horizon()).max(2));
            let median = q(decimal(5, 1));
            let offset = |p| r(median + widen * (q(p) - median));
            let (mut lo, mut hi) = (offset(LOWER_Q), offset(UPPER_Q));
            // A method biased in its backtest has all its errors on one side: the forecast would
            // sit on an edge of the interval. The shorter side keeps MIN_SIDE of the longer.
            let (below, above) = ((-lo).max(Decimal::ZERO), hi.max(Decimal::ZERO));
            lo = lo.min(-r(above * MIN_SIDE));
            hi = hi.max(r(below * MIN_SIDE));
            (r(point + lo * level), r(point + hi * level), errors.len())
        } else {
            let half = self.fallback_half_width(point);
            fallback = Some(half);
            (point - half, point + half, 0)
        };
        let mut low = low.min(point);
        let high = high.max(point);
        if self.non_negative {
            low = low.max(Decimal::ZERO);
        }

        let daily = forecast
            .iter()
            .map(|v| self.money(*v))
            .collect::<Result<Vec<_>, _>>()?;
        let remaining_sum = daily
            .iter()
            .try_fold(Decimal::ZERO, |a, d| a.checked_add(*d))
            .ok_or(ForecastError::Overflow)?;
        let total = |rem: Decimal| {
            self.actual_to_date
                .checked_add(rem)
                .ok_or(ForecastError::Overflow)
        };
        let forecast_total = total(remaining_sum)?;
        if let Some(half) = fallback {
            let half = self.money(half)?;
            let share = if forecast_total.is_zero() {
                String::new()
            } else {
                format!(
                    " (±{}% of the period total)",
                    (half / forecast_total.abs() * Decimal::ONE_HUNDRED).round_dp(1)
                )
            };
            self.notes.push(format!(
                "interval widened: too few backtests ({} of the {} needed), so ±{}{share}: daily \
                 variability × √{} days left, at least ±25% of those days' forecast",
                errors.len(),
                MIN_INTERVAL_ORIGINS,
                half.round_dp(2),
                self.remaining
            ));
        }
        Ok(Projection {
            method,
            note: self.note(),
            actual_to_date: self.actual_to_date,
            forecast: forecast_total,
            lower: total(self.money(low)?.min(remaining_sum))?,
            upper: total(self.money(high)?.max(remaining_sum))?,
            daily,
            backtest_mape,
            interval_origins,
            candidates,
        })
    }

    /// A projection with nothing uncertain left: the total is actual + `daily`.
    fn collapsed(&self, method: Method, daily: Vec<Decimal>) -> Projection {
        Projection {
            method,
            note: self.note(),
            actual_to_date: self.actual_to_date,
            forecast: self.actual_to_date,
            lower: self.actual_to_date,
            upper: self.actual_to_date,
            daily,
            backtest_mape: None,
            interval_origins: 0,
            candidates: Vec::new(),
        }
    }

    fn note(&self) -> Option<String> {
        (!self.notes.is_empty()).then(|| self.notes.join("; "))
    }

    /// `method`, or the simpler method used instead when the history is too short for it.
    fn usable(&mut self, method: Method) -> Method {
        let n = self.history_days();
        if self.models.available(method, n) {
            return method;
        }
        let fallback = if n >= min_history(Method::WeekdayMean) {
            Method::WeekdayMean
        } else {
            Method::RunRate
        };
        let why = if n < min_history(method) {
            format!("needs {} days of history (have {n})", min_history(method))
        } else {
            "could not be fitted".to_string()
        };
        self.notes
            .push(format!("{method} {why}: used {fallback} instead"));
        fallback
    }

    /// `auto`: the candidate with the smallest period-total error over common backtest origins.
    fn choose(&mut self) -> (Method, Vec<MethodScore>) {
        let n = self.history_days();
        let h = self.horizon();
        if n < MIN_DAYS_ANY_PATTERN {
            self.notes.push(format!(
                "only {n} day{} of history: run-rate",
                if n == 1 { "" } else { "s" }
            ));
            return (Method::RunRate, Vec::new());
        }
        // The first backtest origin for a set of candidates: where all of them can run.
        let first_origin = |candidates: &[Method]| {
            candidates
                .iter()
                .map(|m| min_history(*m).max(MIN_DAYS_SEASONAL))
                .max()
                .unwrap_or(MIN_DAYS_SEASONAL)
        };
        let origins = |first: usize| (n + 1).saturating_sub(h + first);
        let mut candidates = vec![Method::RunRate, Method::SeasonalNaive, Method::WeekdayMean];
        if origins(first_origin(&candidates)) < MIN_SELECTION_ORIGINS {
            // Nothing can be backtested at this horizon: choose by rule.
            let method = if n >= min_history(Method::WeekdayMean) {
                Method::WeekdayMean
            } else {
                Method::RunRate
            };
            self.notes.push(format!(
                "{n} days of history: too few to backtest a {h}-day forecast, so {method} by rule"
            ));
            return (method, Vec::new());
        }
        let (mut short, mut unfit, mut unbacktested) = (Vec::new(), Vec::new(), Vec::new());
        for m in MODEL_METHODS {
            if n < min_history(m) {
                short.push(format!("{m} (needs {})", min_history(m)));
            } else if !self.models.available(m, n) {
                unfit.push(m.as_str());
            } else if origins(min_history(m).max(MIN_DAYS_SEASONAL)) < MIN_SELECTION_ORIGINS {
                unbacktested.push(m.as_str());
            } else {
                candidates.push(m);
            }
        }
        if !short.is_empty() {
            self.notes.push(format!(
                "not tried with {n} days of history: {}",
                short.join(", ")
            ));
        }
        if !unfit.is_empty() {
            self.notes.push(format!(
                "not tried: {} could not be fitted",
                unfit.join(", ")
            ));
        }
        if !unbacktested.is_empty() {
            self.notes.push(format!(
                "not tried: {n} days of history are too few to backtest {} {h} days ahead",
                unbacktested.join(", ")
            ));
        }
        let first = first_origin(&candidates);
        let mut best: Option<(Decimal, Method)> = None;
        let mut ensemble = None;
        let mut scores = Vec::new();
        // Recent origins count more: a change in the series shows in them first.
        let last = n.saturating_sub(h);
        let mut weights = vec![Decimal::ONE; last + 1];
        for k in 1..weights.len() {
            weights[k] = r(weights[k - 1] * RECENCY_DECAY);
        }
        for &m in &candidates {
            let samples = self.samples(m, first);
            let weighted = |f: fn(&Sample) -> Decimal| -> Decimal {
                samples
                    .iter()
                    .map(|s| r(f(s) * weights[last - s.origin]))
                    .sum()
            };
            let error = weighted(|s| s.abs_error);
            let total = weighted(|s| s.total);
            // Weighted absolute percentage error: robust to zero totals; ties keep the simpler method.
            let wape = if total.is_zero() {
                if error.is_zero() {
                    Some(Decimal::ZERO)
                } else {
                    None
                }
            } else {
                Some(r(error / total))
            };
            if let Some(w) = wape {
                if best.is_none_or(|(b, _)| w < b) {
                    best = Some((w, m));
                }
                if m == Method::Ensemble {
                    ensemble = Some(w);
                }
            }
            scores.push(MethodScore {
                method: m,
                origins: samples.len(),
                mape: mape(&samples),
            });
        }
        // The combination is kept unless one method was clearly better in the backtest: it is the
        // more accurate choice on every benchmark shape where the two differ much. (When it was
        // exact, so was the best method, and the simpler one is kept.)
        if let (Some(e), Some((b, _))) = (ensemble, best) {
            if b >= r(e * (Decimal::ONE - ENSEMBLE_MARGIN)) && !e.is_zero() {
                best = Some((e, Method::Ensemble));
            }
        }
        (best.map_or(Method::RunRate, |(_, m)| m), scores)
    }

    /// The in-period part of `method`'s forecast from `origin` (normalized), ≥ 0 when the history is.
    fn window_forecast(&self, method: Method, origin: usize) -> Option<Vec<Decimal>> {
        let mut f = self.models.forecast(method, origin, self.horizon())?;
        f.drain(..self.gap);
        if self.non_negative {
            for v in &mut f {
                *v = (*v).max(Decimal::ZERO);
            }
        }
        Some(f)
    }

    /// Rolling-origin backtest of `method`: one sample per origin from `first` on whose whole horizon
    /// lies in the history.
    fn samples(&self, method: Method, first: usize) -> Vec<Sample> {
        let all = self.backtest(method);
        all.iter().filter(|s| s.origin >= first).cloned().collect()
    }

    /// The backtest of `method` from every origin where it is used (its history and at least
    /// `MIN_INTERVAL_TRAINING` days), made once per engine.
    fn backtest(&self, method: Method) -> &[Sample] {
        let slot = Method::ALL.iter().position(|m| *m == method).unwrap_or(0);
        self.backtests[slot].get_or_init(|| {
            let first = min_history(method).max(MIN_INTERVAL_TRAINING);
            let h = self.horizon();
            let mut out = Vec::new();
            for o in first..=self.models.y.len().saturating_sub(h) {
                let Some(f) = self.window_forecast(method, o) else {
                    continue;
                };
                let forecast: Decimal = f.iter().copied().sum();
                let actual = self.sums[o + h] - self.sums[o + self.gap];
                let elapsed = self.sums[o] - self.sums[o - self.models.elapsed.min(o)];
                let level = self.level(o);
                out.push(Sample {
                    origin: o,
                    abs_error: (actual - forecast).abs(),
                    total: (elapsed + actual).abs(),
                    scaled_error: (level >= MIN_LEVEL).then(|| r((actual - forecast) / level)),
                });
            }
            out
        })
    }

    /// Mean absolute daily value over the `LEVEL_WINDOW` days before `origin`.
    fn level(&self, origin: usize) -> Decimal {
        let from = origin.saturating_sub(LEVEL_WINDOW);
        if origin == from {
            return Decimal::ZERO;
        }
        r((self.abs_sums[origin] - self.abs_sums[from]) / count(origin - from))
    }

    /// Half-width of the fallback interval: z₈₀ × daily sd × √days left, at least 25% of the
    /// remaining forecast. The daily sd is that of week-on-week changes ÷ √2 (the weekly pattern
    /// is not noise) with two weeks of history, else of the days themselves, else the one day's value.
    fn fallback_half_width(&self, point: Decimal) -> Decimal {
        let y = &self.models.y;
        let recent = &y[y.len().saturating_sub(LEVEL_WINDOW + 7)..];
        let sd = if recent.len() >= 14 {
            let diffs: Vec<Decimal> = recent.windows(8).map(|w| w[7] - w[0]).collect();
            num::sample_sd(&diffs).map(|sd| r(sd / num::sqrt(Decimal::TWO)))
        } else {
            num::sample_sd(recent)
        }
        .unwrap_or_else(|| recent.last().copied().unwrap_or_default().abs());
        let spread = r(Z80 * sd * num::sqrt(count(self.remaining)));
        spread.max(r(FALLBACK_MIN_HALF_WIDTH * point.abs()))
    }

    /// A normalized amount in the input's currency, rounded to `OUT_DP` places.
    fn money(&self, v: Decimal) -> Result<Decimal, ForecastError> {
        v.checked_mul(self.scale)
            .map(|m| m.round_dp(OUT_DP))
            .ok_or(ForecastError::Overflow)
    }
}

/// How much wider than the empirical 10th–90th percentile spread of `n` independent errors a
/// prediction interval for the next error must be: √(1 + 1/n) × t₀.₉(n − 1) ÷ z₀.₉ (the normal-theory
/// factor; it is 1.8 for n = 2, 1.13 for n = 10 and tends to 1).
fn widening(n: usize) -> Decimal {
    // One-sided 90% quantiles of Student's t by degrees of freedom; beyond 60, the normal's 1.2816.
    const T90: [(usize, Decimal); 16] = [
        (1, decimal(3078, 3)),
        (2, decimal(1886, 3)),
        (3, decimal(1638, 3)),
        (4, decimal(1533, 3)),
        (5, decimal(1476, 3)),
        (6, decimal(1440, 3)),
        (7, decimal(1415, 3)),
        (8, decimal(1397, 3)),
        (9, decimal(1383, 3)),
        (10, decimal(1372, 3)),
        (12, decimal(1356, 3)),
        (15, decimal(1341, 3)),
        (20, decimal(1325, 3)),
        (30, decimal(1310, 3)),
        (60, decimal(1296, 3)),
        (usize::MAX, Z80),
    ];
    let df = n.saturating_sub(1).max(1);
    // The table entry at or below df: conservative (wider) between entries.
    let t = T90
        .iter()
        .rev()
        .find(|(d, _)| *d <= df)
        .map_or(T90[0].1, |(_, t)| *t);
    let n = count(n);
    r(num::sqrt(Decimal::ONE + r(Decimal::ONE / n)) * t / Z80)
}

/// Mean absolute percentage error of the period totals, in percent, over samples with a non-zero total.
fn mape(samples: &[Sample]) -> Option<Decimal> {
    let apes: Vec<Decimal> = samples
        .iter()
        .filter(|s| !s.total.is_zero())
        .map(|s| r(s.abs_error / s.total))
        .collect();
    num::mean(&apes).map(|m| (m * Decimal::ONE_HUNDRED).round_dp(2))
}

/// The power of ten at or just above `max` (≥ 1e-20; at most 1e28), so `values ÷ it` lie in [-1, 1]
/// (up to 7.9 for the very largest decimals) and division is exact.
fn power_of_ten_above(max: Decimal) -> Decimal {
    let mut s = Decimal::ONE;
    while s < max {
        match s.checked_mul(Decimal::TEN) {
            Some(next) => s = next,
            None => break,
        }
    }
    let floor = Decimal::new(1, 20);
    while !max.is_zero() && s > floor && s / Decimal::TEN >= max {
        s /= Decimal::TEN;
    }
    s
}
