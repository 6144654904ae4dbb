//! Deterministic daily spend with planted anomalies, for the detection benchmark (`cargo bench --bench
//! detection`): the same arguments give the same series.
//!
//! Each series has 5 weeks of history, then `months` months of 30 days evaluated. Every month gets one
//! spike of 3–6× the day's normal cost; drop series also lose 70–100% of one day a month; each new-spender
//! series is zero until a planted first day.

use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;

use super::Kind;
use crate::forecast::synthetic::SplitMix64;

/// Shapes of daily spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Weekends at ~40% of weekdays, 5% noise.
    WeeklySeasonal,
    /// No weekly pattern, 8% noise.
    Flat,
    /// Weekends exactly zero.
    WeekdayOnly,
    /// +0.5% a day, weekly pattern, 5% noise.
    Trending,
    /// 15% noise.
    Noisy,
}

impl Shape {
    pub const ALL: [Shape; 5] = [
        Shape::WeeklySeasonal,
        Shape::Flat,
        Shape::WeekdayOnly,
        Shape::Trending,
        Shape::Noisy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Shape::WeeklySeasonal => "weekly-seasonal",
            Shape::Flat => "flat",
            Shape::WeekdayOnly => "weekday-only",
            Shape::Trending => "trending",
            Shape::Noisy => "noisy",
        }
    }
}

/// Days of history before the first evaluated day.
pub const WARM_UP_DAYS: usize = 35;
/// Days in a series-month.
pub const MONTH_DAYS: usize = 30;

/// The first day of every series: Monday 2026-01-05.
pub fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default()
}

/// A series and what was planted in it (day index, kind).
#[derive(Debug, Clone)]
pub struct Planted {
    pub values: Vec<Decimal>,
    pub planted: Vec<(usize, Kind)>,
}

fn rng_for(shape: Shape, seed: u64, salt: u64) -> SplitMix64 {
    let tag = Shape::ALL.iter().position(|s| *s == shape).unwrap_or(0) as u64;
    SplitMix64::new(seed.wrapping_mul(0x0100_0000_01B3) ^ (tag << 56) ^ (salt << 48))
}

/// The normal cost of each day (no anomalies).
fn normal(shape: Shape, rng: &mut SplitMix64, days: usize) -> Vec<Decimal> {
    let base = rng
        .between(Decimal::from(20), Decimal::from(500))
        .round_dp(2);
    let noise = match shape {
        Shape::Flat => Decimal::new(8, 2),
        Shape::Noisy => Decimal::new(15, 2),
        _ => Decimal::new(5, 2),
    };
    (0..days)
        .map(|i| {
            let day = start() + Duration::days(i as i64);
            let weekend = day.weekday().num_days_from_monday() >= 5;
            let weekly = match (shape, weekend) {
                (Shape::Flat | Shape::Noisy, _) | (_, false) => Decimal::ONE,
                (Shape::WeekdayOnly, true) => Decimal::ZERO,
                (_, true) => Decimal::new(4, 1),
            };
            let trend = match shape {
                Shape::Trending => Decimal::ONE + Decimal::new(5, 3) * Decimal::from(i as u64),
                _ => Decimal::ONE,
            };
            let v = base * weekly * trend * (Decimal::ONE + noise * rng.normal());
            v.max(Decimal::ZERO).round_dp(2)
        })
        .collect()
}

/// A day of month `m` on which the series has normal spend (a weekday for weekday-only series).
fn pick_day(values: &[Decimal], rng: &mut SplitMix64, m: usize, avoid: &[usize]) -> usize {
    loop {
        let d = WARM_UP_DAYS + m * MONTH_DAYS + (rng.next_u64() % MONTH_DAYS as u64) as usize;
        if values[d] > Decimal::ZERO && !avoid.iter().any(|a| a.abs_diff(d) < 8) {
            return d;
        }
    }
}

/// A series of `shape` with a spike every month, and with `drops` a drop every month too.
pub fn spend(shape: Shape, seed: u64, months: usize, drops: bool) -> Planted {
    let days = WARM_UP_DAYS + months * MONTH_DAYS;
    let mut rng = rng_for(shape, seed, 1);
    let mut values = normal(shape, &mut rng, days);
    let mut planted = Vec::new();
    for m in 0..months {
        let taken: Vec<usize> = planted.iter().map(|(d, _)| *d).collect();
        let d = pick_day(&values, &mut rng, m, &taken);
        values[d] *= rng.between(Decimal::from(3), Decimal::from(6));
        values[d] = values[d].round_dp(2);
        planted.push((d, Kind::Spike));
        if drops {
            let taken: Vec<usize> = planted.iter().map(|(d, _)| *d).collect();
            let d = pick_day(&values, &mut rng, m, &taken);
            values[d] *= rng.between(Decimal::ZERO, Decimal::new(3, 1));
            values[d] = values[d].round_dp(2);
            planted.push((d, Kind::Drop));
        }
    }
    Planted { values, planted }
}

/// A series of `shape` that is zero until a planted first day in the first evaluated month, then normal.
pub fn new_spender(shape: Shape, seed: u64, months: usize) -> Planted {
    let days = WARM_UP_DAYS + months * MONTH_DAYS;
    let mut rng = rng_for(shape, seed, 2);
    let mut values = normal(shape, &mut rng, days);
    let first = pick_day(&values, &mut rng, 0, &[]);
    for v in values.iter_mut().take(first) {
        *v = Decimal::ZERO;
    }
    Planted {
        values,
        planted: vec![(first, Kind::New)],
    }
}
