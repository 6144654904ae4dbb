//! Forecasting: where will a daily cost series end the month (or any period), with an honest 80%
//! interval?
//!
//! One entry point, [`project`]: give it a zero-filled [`DailySeries`] of daily cost (one group: a team,
//! a model…), the day the data runs to (`as_of`) and the period to project; it returns a [`Projection`]
//! (actual to date, forecast total, 80% interval, the daily forecast and which method made it).
//!
//! Methods ([`Method`]): the linear **run-rate** (LiteLLM's: period-to-date ÷ days elapsed × days in the
//! period, kept as the baseline), **seasonal-naive** (each future day = the same weekday last week),
//! **weekday-mean** (each future day = the mean of the last four same weekdays), **holt-winters**
//! (ETS with additive weekly seasonality and a damped trend), **theta** (the optimised Theta method on
//! the weekly-deseasonalized series), **arima** (seasonal ARIMA(0,0,0)(0,1,1)[7] with drift) and
//! **ensemble** (the mean of the last three). [`MethodChoice::Auto`] backtests every
//! method on the series' own history at the horizon being asked for and keeps the one whose
//! period totals were closest. The interval comes from the same backtest: the 10th and 90th percentiles
//! of the chosen method's errors of the period total at that horizon, widened for how few of those
//! backtests are independent, and never one-sided. See [`HELP`] for the user-facing summary and the
//! README section for the details.
//!
//! Everything is `Decimal`, including the smoothing recursions and the parameter search: forecasts are
//! money. [`synthetic`] generates deterministic test series and [`backtest`] measures month-end
//! accuracy (used by the tests and by `cargo bench --bench forecast_accuracy`).

mod arima;
pub mod backtest;
mod engine;
mod holt_winters;
mod methods;
mod num;
pub mod synthetic;
mod theta;

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

/// The `--help` text for the forecast methods, the interval and `auto`.
pub const HELP: &str = "\
Methods: run-rate (period-to-date ÷ days elapsed × days in the period: the classic baseline), \
seasonal-naive (each remaining day = the same weekday last week), weekday-mean (each remaining day = \
the mean of the last 4 same weekdays), holt-winters (level + damped trend + weekly seasonality), \
theta (the optimised Theta method: smoothing plus drift on the series with its weekly pattern taken \
out, multiplicatively or additively), arima (seasonal ARIMA(0,0,0)(0,1,1)[7] with drift: the same \
weekday last week + a weekly drift + a correction for last week's surprise), ensemble (the mean of \
holt-winters, theta and arima). Parameters are fitted by least squares over decimal grids.

auto (the default) backtests each method on the series' own history: from every past day it \
forecasts as many days ahead as you ask, and keeps the ensemble unless a method's period totals \
came clearly (20%) closer, recent days counting more. Short histories fall back and say so in the \
note: under 3 days run-rate, under 14 days weekday-mean (from 7 days) by rule; theta needs 14 days, \
arima 21, holt-winters and ensemble 28.

80% interval of the period total: the 10th-90th percentiles of that method's backtest errors of the \
period total at the same horizon (scaled by the recent daily level), widened for the few independent \
backtests (Student's t); the shorter side keeps at least a quarter of the longer, so the forecast is \
never on an edge. With under 10 backtests: daily variability × √(days left), at least ±25% of the \
remaining days' forecast; the note gives that width and its share of the period total.";

/// A forecasting method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Period-to-date ÷ days elapsed, for every remaining day (LiteLLM's month-end projection). Before
    /// the period starts (nothing elapsed), the mean of the last 7 days.
    RunRate,
    /// Each future day repeats the same weekday of the last observed week.
    SeasonalNaive,
    /// Each future day is the mean of the last 4 values of the same weekday.
    WeekdayMean,
    /// Holt-Winters / ETS(A,Ad,A): level, damped trend and additive weekly seasonality.
    HoltWinters,
    /// The optimised Theta method on a weekly-deseasonalized series (multiplicative or additive).
    Theta,
    /// Seasonal ARIMA(0,0,0)(0,1,1)[7] with drift.
    Arima,
    /// The mean of the theta, arima and holt-winters forecasts.
    Ensemble,
}

impl Method {
    /// Every method, simplest first (the order `auto` breaks ties in).
    pub const ALL: [Method; 7] = [
        Method::RunRate,
        Method::SeasonalNaive,
        Method::WeekdayMean,
        Method::HoltWinters,
        Method::Theta,
        Method::Arima,
        Method::Ensemble,
    ];

    /// The method's name on the command line and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::RunRate => "run-rate",
            Method::SeasonalNaive => "seasonal-naive",
            Method::WeekdayMean => "weekday-mean",
            Method::HoltWinters => "holt-winters",
            Method::Theta => "theta",
            Method::Arima => "arima",
            Method::Ensemble => "ensemble",
        }
    }

    /// Days of history the method needs; with fewer, [`project`] falls back to a simpler method.
    pub fn min_history_days(self) -> usize {
        methods::min_history(self)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Method {
    type Err = String;

    /// Accepts the names of [`Method::as_str`], case-insensitively, plus `runrate`, `linear`,
    /// `naive`, `hw` and `ets`.
    fn from_str(s: &str) -> Result<Method, String> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "run-rate" | "runrate" | "linear" => Ok(Method::RunRate),
            "seasonal-naive" | "naive" => Ok(Method::SeasonalNaive),
            "weekday-mean" => Ok(Method::WeekdayMean),
            "holt-winters" | "hw" | "ets" => Ok(Method::HoltWinters),
            "theta" => Ok(Method::Theta),
            "arima" | "sarima" => Ok(Method::Arima),
            "ensemble" => Ok(Method::Ensemble),
            _ => Err(format!(
                "unknown forecast method '{s}': expected one of {}",
                MethodChoice::NAMES.join(", ")
            )),
        }
    }
}

/// Which method to use: pick one per series by backtest (`auto`, the default) or a fixed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MethodChoice {
    #[default]
    Auto,
    Fixed(Method),
}

impl MethodChoice {
    /// The accepted names, for `--method` help and completion.
    pub const NAMES: [&'static str; 8] = [
        "auto",
        "run-rate",
        "seasonal-naive",
        "weekday-mean",
        "holt-winters",
        "theta",
        "arima",
        "ensemble",
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MethodChoice::Auto => "auto",
            MethodChoice::Fixed(m) => m.as_str(),
        }
    }
}

impl fmt::Display for MethodChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MethodChoice {
    type Err = String;

    /// `auto` or any name [`Method`] accepts. Works directly as a clap argument type.
    fn from_str(s: &str) -> Result<MethodChoice, String> {
        if s.trim().eq_ignore_ascii_case("auto") {
            Ok(MethodChoice::Auto)
        } else {
            s.parse().map(MethodChoice::Fixed)
        }
    }
}

/// A daily cost series: `values[i]` is the cost on `start + i` days. Days without spend are zero
/// (build one from sparse per-day totals with [`DailySeries::from_points`]). Negative values (refunds)
/// are allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailySeries {
    pub start: NaiveDate,
    pub values: Vec<Decimal>,
}

impl DailySeries {
    pub fn new(start: NaiveDate, values: Vec<Decimal>) -> DailySeries {
        DailySeries { start, values }
    }

    /// Every day from `start` to `end` (inclusive), each the sum of the `points` on that day, zero
    /// where there are none. Points outside the range are ignored; `end < start` gives an empty series.
    pub fn from_points(
        start: NaiveDate,
        end: NaiveDate,
        points: impl IntoIterator<Item = (NaiveDate, Decimal)>,
    ) -> Result<DailySeries, ForecastError> {
        let days = (end - start).num_days() + 1;
        if days > MAX_SERIES_DAYS {
            return Err(ForecastError::SeriesTooLong {
                start,
                end,
                max: MAX_SERIES_DAYS,
            });
        }
        let mut values = vec![Decimal::ZERO; days.max(0) as usize];
        for (day, cost) in points {
            let i = (day - start).num_days();
            if let Some(slot) = usize::try_from(i).ok().and_then(|i| values.get_mut(i)) {
                *slot = slot.checked_add(cost).ok_or(ForecastError::Overflow)?;
            }
        }
        Ok(DailySeries { start, values })
    }

    /// The last day of the series (`None` when empty).
    pub fn end(&self) -> Option<NaiveDate> {
        let len = self.values.len().checked_sub(1)?;
        self.start.checked_add_days(chrono::Days::new(len as u64))
    }

    /// The cost on `day`: `None` outside the series.
    pub fn get(&self, day: NaiveDate) -> Option<Decimal> {
        let i = usize::try_from((day - self.start).num_days()).ok()?;
        self.values.get(i).copied()
    }
}

/// The longest series [`DailySeries::from_points`] builds (about 100 years).
pub const MAX_SERIES_DAYS: i64 = 36_600;

/// The furthest [`project`] forecasts past `as_of` (about 10 years).
pub const MAX_HORIZON_DAYS: i64 = 3_660;

/// How well one method did in `auto`'s backtest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MethodScore {
    pub method: Method,
    /// Backtest origins (past days forecast from).
    pub origins: usize,
    /// Mean absolute percentage error of the period total over those origins, in percent (`None` when
    /// every backtested total was zero).
    pub mape: Option<Decimal>,
}

/// A projection of one series over one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Projection {
    /// The method that made the forecast (for `auto`: the one it chose; for a fixed method that
    /// lacked history: the fallback used, explained in `note`).
    pub method: Method,
    /// Why a fallback happened or how the interval was widened; `None` when nothing needs saying.
    pub note: Option<String>,
    /// Sum of the series from the period's start through `as_of`.
    pub actual_to_date: Decimal,
    /// `actual_to_date` + the forecast of the remaining days through the period's end.
    pub forecast: Decimal,
    /// 80% interval of the period total: `lower ≤ forecast ≤ upper`. When the history has no
    /// negative day, `lower ≥ actual_to_date`.
    pub lower: Decimal,
    pub upper: Decimal,
    /// The forecast of each remaining day of the period, in order (empty when the period is over).
    pub daily: Vec<Decimal>,
    /// Mean absolute percentage error of the period total, in percent, of the chosen method in the
    /// rolling-origin backtest on this series (`None` when it could not be measured).
    pub backtest_mape: Option<Decimal>,
    /// Backtest origins behind the interval (0: the fallback interval was used).
    pub interval_origins: usize,
    /// For `auto`: every method it compared, with its backtest error.
    pub candidates: Vec<MethodScore>,
}

/// Why a projection cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForecastError {
    #[error("the period ends ({end}) before it starts ({start})")]
    PeriodReversed { start: NaiveDate, end: NaiveDate },
    #[error(
        "cannot forecast {days} days ahead (the limit is {max}): choose a shorter period or a later date"
    )]
    HorizonTooLong { days: i64, max: i64 },
    #[error("a daily series from {start} to {end} is too long (the limit is {max} days)")]
    SeriesTooLong {
        start: NaiveDate,
        end: NaiveDate,
        max: i64,
    },
    #[error("the amounts are too large to forecast exactly (decimal overflow): check the input for absurd costs")]
    Overflow,
}

impl From<ForecastError> for crate::error::Error {
    fn from(e: ForecastError) -> crate::error::Error {
        crate::error::Error::usage(e.to_string())
    }
}

/// Projects `period_start..=period_end` (e.g. a month) from the daily costs known through `as_of`.
///
/// `history` holds the days up to and including `as_of`; it may start long before the period (more
/// history means better backtests; the last 371 days are modelled) and days after `as_of` are
/// ignored. Days between the end of `history` and `as_of` count as zero spend, as do days of the
/// period before `history` starts. `as_of` may be before the period (a forecast of the whole next
/// month) or on/after its last day (the total is then simply the actual, with no interval).
///
/// ```
/// use aispend::forecast::{project, DailySeries, MethodChoice};
/// use chrono::NaiveDate;
/// use rust_decimal::Decimal;
///
/// let day = |d| NaiveDate::from_ymd_opt(2026, 10, d).unwrap();
/// // $10 a day for the first 10 days of October.
/// let history = DailySeries::new(day(1), vec![Decimal::TEN; 10]);
/// let p = project(&history, day(10), day(1), day(31), MethodChoice::Auto).unwrap();
/// assert_eq!(p.actual_to_date, Decimal::from(100));
/// assert_eq!(p.forecast, Decimal::from(310)); // 100 + 21 days × $10
/// assert!(p.lower <= p.forecast && p.forecast <= p.upper);
/// ```
pub fn project(
    history: &DailySeries,
    as_of: NaiveDate,
    period_start: NaiveDate,
    period_end: NaiveDate,
    choice: MethodChoice,
) -> Result<Projection, ForecastError> {
    engine::Engine::new(history, as_of, period_start, period_end)?.project(choice)
}

#[cfg(test)]
mod tests;
