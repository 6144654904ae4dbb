//! The daily spend chart of the HTML report: stacked bars per day (top series plus "other"), and for
//! the days after the data ends, the forecast with its 80% cone. Drawn as inline SVG by [`super`]; this
//! module only arranges already-priced daily costs into series and scales them to pixels.

use chrono::{Duration, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::forecast::Projection;
use crate::report::daily::DailyCosts;
use crate::report::OTHER;

/// The most series drawn in their own colour; the rest fold into one "(other)" series. Seven is the
/// number of distinct colours of the Okabe-Ito palette, which stays distinguishable with colour-blindness.
pub const MAX_SERIES: usize = 7;

/// Okabe-Ito colours, in series order; "(other)" is grey.
pub const PALETTE: [&str; MAX_SERIES] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
];
pub const OTHER_COLOUR: &str = "#8C8C8C";

/// One stacked series: its name (the first `--by` dimension's value) and its cost per actual day.
#[derive(Debug, Clone)]
pub struct ChartSeries {
    pub name: String,
    pub colour: &'static str,
    pub values: Vec<Decimal>,
}

/// One forecast day: the projected cost and its share of the 80% interval of the remaining total.
#[derive(Debug, Clone, Copy)]
pub struct ForecastDay {
    pub day: NaiveDate,
    pub mid: Decimal,
    pub lower: Decimal,
    pub upper: Decimal,
}

/// The chart's data: days of the period with data (`days`), series over those days, then forecast
/// days to the period's end.
#[derive(Debug, Clone)]
pub struct DailyChart {
    pub days: Vec<NaiveDate>,
    pub series: Vec<ChartSeries>,
    pub forecast: Vec<ForecastDay>,
}

impl DailyChart {
    /// Arranges `daily` (grouped by one dimension, or none) over `start..=last_actual`, the `top`
    /// largest groups of the period in their own series (at most [`MAX_SERIES`]) and the rest as
    /// "(other)". With a projection, its daily forecast follows, each day's cone being that day's share
    /// of the interval of the remaining total, so that the cone's ends sum to the interval's.
    pub fn build(
        daily: &DailyCosts,
        start: NaiveDate,
        last_actual: NaiveDate,
        top: usize,
        projection: Option<&Projection>,
    ) -> DailyChart {
        let mut days = Vec::new();
        let mut d = start;
        while d <= last_actual {
            days.push(d);
            d += Duration::days(1);
        }
        let mut groups: Vec<(String, Vec<Decimal>)> = daily
            .groups
            .keys()
            .map(|key| {
                let name = if key.is_empty() {
                    "total".to_string()
                } else {
                    key.join(", ")
                };
                (name, daily.series(key, start, last_actual))
            })
            .filter(|(_, v)| v.iter().any(|c| !c.is_zero()))
            .collect();
        groups.sort_by(|a, b| {
            let sum = |v: &[Decimal]| v.iter().copied().sum::<Decimal>();
            sum(&b.1).cmp(&sum(&a.1)).then_with(|| a.0.cmp(&b.0))
        });
        let keep = top.clamp(1, MAX_SERIES);
        let mut series: Vec<ChartSeries> = Vec::new();
        let mut other: Option<Vec<Decimal>> = None;
        for (i, (name, values)) in groups.into_iter().enumerate() {
            if i < keep {
                series.push(ChartSeries {
                    name,
                    colour: PALETTE[i],
                    values,
                });
            } else {
                let o = other.get_or_insert_with(|| vec![Decimal::ZERO; days.len()]);
                for (a, b) in o.iter_mut().zip(values) {
                    *a += b;
                }
            }
        }
        if let Some(values) = other {
            series.push(ChartSeries {
                name: OTHER.to_string(),
                colour: OTHER_COLOUR,
                values,
            });
        }
        let forecast = projection.map_or_else(Vec::new, |p| forecast_days(p, last_actual));
        DailyChart {
            days,
            series,
            forecast,
        }
    }

    /// The chart's total over the actual days: the sum of every series.
    pub fn total(&self) -> Decimal {
        self.series.iter().flat_map(|s| &s.values).copied().sum()
    }

    /// The stacked total of actual day `i`.
    pub fn day_total(&self, i: usize) -> Decimal {
        self.series
            .iter()
            .filter_map(|s| s.values.get(i))
            .copied()
            .sum()
    }

    /// The highest bar or cone top, for the y scale.
    pub fn max(&self) -> Decimal {
        let actual = (0..self.days.len()).map(|i| self.day_total(i));
        let forecast = self.forecast.iter().map(|f| f.upper.max(f.mid));
        actual.chain(forecast).max().unwrap_or_default()
    }
}

fn forecast_days(p: &Projection, last_actual: NaiveDate) -> Vec<ForecastDay> {
    let remaining = p.forecast - p.actual_to_date;
    let share = |bound: Decimal, day: Decimal| {
        if remaining.is_zero() {
            return day;
        }
        (day * (bound - p.actual_to_date))
            .checked_div(remaining)
            .unwrap_or(day)
    };
    p.daily
        .iter()
        .enumerate()
        .map(|(i, &mid)| ForecastDay {
            day: last_actual + Duration::days(i as i64 + 1),
            mid,
            lower: share(p.lower, mid).max(Decimal::ZERO).min(mid),
            upper: share(p.upper, mid).max(mid),
        })
        .collect()
}

/// Round steps for the y axis: 1, 2 or 5 times a power of ten, about four of them up to `max`.
pub fn axis_ticks(max: Decimal) -> Vec<Decimal> {
    if max <= Decimal::ZERO {
        return vec![Decimal::ZERO, Decimal::ONE];
    }
    let rough = max / Decimal::from(4);
    let mut power = Decimal::new(1, 6);
    while power * Decimal::TEN <= rough && power < Decimal::from(1_000_000_000_000_i64) {
        power *= Decimal::TEN;
    }
    let step = [1, 2, 5, 10]
        .into_iter()
        .map(|m| power * Decimal::from(m))
        .find(|s| *s >= rough)
        .unwrap_or(power * Decimal::TEN);
    let mut ticks = vec![Decimal::ZERO];
    while *ticks.last().unwrap_or(&Decimal::ZERO) < max && ticks.len() < 12 {
        let next = ticks.last().copied().unwrap_or_default() + step;
        ticks.push(next);
    }
    ticks
}

/// A value's position on a `0..=top` scale drawn `height` pixels tall (pixels only: never money).
pub fn scale(value: Decimal, top: Decimal, height: f64) -> f64 {
    if top <= Decimal::ZERO {
        return 0.0;
    }
    (value / top).to_f64().unwrap_or(0.0).clamp(0.0, 1.0) * height
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn ticks_are_round() {
        // 930 / 4 = 232.5 → the next of 1, 2, 5 × 100 is 500.
        assert_eq!(axis_ticks(dec!(930)), vec![dec!(0), dec!(500), dec!(1000)]);
        // 0.03 / 4 = 0.0075 → 0.01.
        assert_eq!(
            axis_ticks(dec!(0.03)),
            vec![dec!(0), dec!(0.01), dec!(0.02), dec!(0.03)]
        );
    }

    #[test]
    fn cone_shares_sum_to_the_interval() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 10, d).unwrap();
        let p = Projection {
            method: crate::forecast::Method::RunRate,
            note: None,
            actual_to_date: dec!(100),
            forecast: dec!(130),
            lower: dec!(115),
            upper: dec!(160),
            daily: vec![dec!(10), dec!(20)],
            backtest_mape: None,
            interval_origins: 0,
            candidates: vec![],
        };
        let f = forecast_days(&p, day(29));
        // remaining 30, interval of the remaining 15..60: day 1 gets 10/30 of it, day 2 20/30.
        assert_eq!(f[0].day, day(30));
        assert_eq!((f[0].lower, f[0].upper), (dec!(5), dec!(20)));
        assert_eq!((f[1].lower, f[1].upper), (dec!(10), dec!(40)));
    }
}
