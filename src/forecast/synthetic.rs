//! Deterministic synthetic daily spend for tests and the accuracy benchmark.
//!
//! A series is `level(t) × weekday(t) × (1 + noise) + spikes`, rounded to 4 decimal places and never
//! negative, where the level may trend or step. Randomness is a seeded splitmix64 on integers; the
//! near-normal noise is an Irwin–Hall sum of 12 uniforms minus 6 (mean 0, variance 1), made from
//! integers, so the same family, seed and length always give the same decimals on every machine.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::num::decimal;
use super::DailySeries;

/// The shape of a synthetic series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Weekdays busy, weekends quiet (~40% of a weekday), 5% noise, no trend.
    WeeklySeasonal,
    /// The weekly pattern on a level growing 0.3–0.6% of the starting level a day.
    Trending,
    /// The weekly pattern with one permanent step (up ×1.5–1.9 or down ×0.6–0.7) somewhere after day 60.
    StepChange,
    /// The weekly pattern plus spikes (batch jobs): ~3% of days add 1.5–4 days' worth of spend.
    Spiky,
    /// A constant level with 8% noise and no weekly pattern.
    Flat,
    /// A workload being retired: the weekly pattern, then from a day after 60 the level shrinks by
    /// 3–8% a day toward nothing.
    Dying,
    /// Spend on weekdays only (weekends exactly zero), 5% noise, no trend.
    WeekdayOnly,
    /// The weekly pattern plus one huge day (after day 60) costing 15–30 ordinary days' worth.
    HugeSpike,
}

impl Family {
    pub const ALL: [Family; 8] = [
        Family::WeeklySeasonal,
        Family::Trending,
        Family::StepChange,
        Family::Spiky,
        Family::Flat,
        Family::Dying,
        Family::WeekdayOnly,
        Family::HugeSpike,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Family::WeeklySeasonal => "weekly-seasonal",
            Family::Trending => "trending",
            Family::StepChange => "step-change",
            Family::Spiky => "spiky",
            Family::Flat => "flat",
            Family::Dying => "dying",
            Family::WeekdayOnly => "weekday-only",
            Family::HugeSpike => "huge-spike",
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first day of every synthetic series: Thursday 2026-01-01.
pub fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default()
}

/// The splitmix64 generator (Steele, Lea & Flood 2014): tiny, fast and good enough for test data.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with six decimal places.
    pub fn unit(&mut self) -> Decimal {
        Decimal::new((self.next_u64() % 1_000_000) as i64, 6)
    }

    /// Uniform in `[lo, hi)` with six decimal places of the unit.
    pub fn between(&mut self, lo: Decimal, hi: Decimal) -> Decimal {
        lo + (hi - lo) * self.unit()
    }

    /// Near-normal noise, mean 0 and standard deviation 1 (Irwin–Hall: 12 uniforms − 6).
    pub fn normal(&mut self) -> Decimal {
        (0..12).map(|_| self.unit()).sum::<Decimal>() - decimal(6, 0)
    }
}

/// `days` days of synthetic spend of `family` from [`start`], the same for the same arguments.
pub fn generate(family: Family, seed: u64, days: usize) -> DailySeries {
    let tag = Family::ALL.iter().position(|f| *f == family).unwrap_or(0) as u64;
    let mut rng = SplitMix64::new(seed.wrapping_mul(0x1000_0000_01B3) ^ (tag << 56));
    let base = rng.between(decimal(40, 0), decimal(400, 0)).round_dp(2);
    let mut profile = [Decimal::ONE; 7]; // Monday first
    if family != Family::Flat {
        let typical = [
            decimal(110, 2),
            decimal(115, 2),
            decimal(115, 2),
            decimal(110, 2),
            decimal(100, 2),
            decimal(45, 2),
            decimal(40, 2),
        ];
        for (p, t) in profile.iter_mut().zip(typical) {
            *p = t * rng.between(decimal(95, 2), decimal(105, 2));
        }
    }
    let noise = if family == Family::Flat {
        decimal(8, 2)
    } else {
        decimal(5, 2)
    };
    let growth = match family {
        Family::Trending => rng.between(decimal(3, 3), decimal(6, 3)),
        _ => Decimal::ZERO,
    };
    let step = match family {
        Family::StepChange => {
            let span = days.saturating_sub(90).max(1) as u64;
            let day = 60 + (rng.next_u64() % span) as usize;
            let factor = if rng.next_u64().is_multiple_of(3) {
                rng.between(decimal(6, 1), decimal(7, 1))
            } else {
                rng.between(decimal(15, 1), decimal(19, 1))
            };
            Some((day, factor))
        }
        _ => None,
    };
    // (first day, daily factor) of a decay, or (day, size in days of base spend) of the one spike.
    let late_day = |rng: &mut SplitMix64| {
        60 + (rng.next_u64() % days.saturating_sub(90).max(1) as u64) as usize
    };
    let decay = match family {
        Family::Dying => {
            let day = late_day(&mut rng);
            Some((
                day,
                Decimal::ONE - rng.between(decimal(3, 2), decimal(8, 2)),
            ))
        }
        _ => None,
    };
    let spike = match family {
        Family::HugeSpike => {
            let day = late_day(&mut rng);
            Some((day, rng.between(decimal(15, 0), decimal(30, 0))))
        }
        _ => None,
    };
    let first_weekday = start().weekday().num_days_from_monday() as usize;
    let values = (0..days)
        .map(|t| {
            let mut level = base * (Decimal::ONE + growth * Decimal::from(t as u64));
            if let Some((day, factor)) = step {
                if t >= day {
                    level *= factor;
                }
            }
            if let Some((day, factor)) = decay {
                for _ in day..=t {
                    level = (level * factor).round_dp(8);
                }
            }
            let weekday = (first_weekday + t) % 7;
            if family == Family::WeekdayOnly && weekday >= 5 {
                level = Decimal::ZERO;
            }
            let mut v = level * profile[weekday] * (Decimal::ONE + noise * rng.normal());
            if family == Family::Spiky && rng.next_u64() % 100 < 3 {
                v += base * rng.between(decimal(15, 1), decimal(4, 0));
            }
            if let Some((day, size)) = spike {
                if t == day {
                    v += base * size;
                }
            }
            v.max(Decimal::ZERO).round_dp(4)
        })
        .collect();
    DailySeries::new(start(), values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn generation_is_deterministic_and_shaped() {
        for family in Family::ALL {
            let a = generate(family, 7, 120);
            assert_eq!(a, generate(family, 7, 120));
            assert_ne!(a, generate(family, 8, 120));
            assert_eq!(a.values.len(), 120);
            assert!(a
                .values
                .iter()
                .all(|v| *v >= Decimal::ZERO && v.scale() <= 4));
        }
        // Weekends (2026-01-03 is a Saturday) are quieter than weekdays in the seasonal families.
        let s = generate(Family::WeeklySeasonal, 1, 70);
        let weekend: Decimal = (0..10).map(|w| s.values[2 + 7 * w]).sum();
        let monday: Decimal = (0..10).map(|w| s.values[4 + 7 * w]).sum();
        assert!(weekend * dec!(1.5) < monday);
        // The Irwin–Hall noise is centred: 2000 draws average within ±0.1.
        let mut rng = SplitMix64::new(42);
        let mean = (0..2000).map(|_| rng.normal()).sum::<Decimal>() / dec!(2000);
        assert!(mean.abs() < dec!(0.1), "{mean}");
    }
}
