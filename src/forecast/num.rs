//! Small decimal helpers shared by the forecast methods: rounding, means, square roots, quantiles.
//!
//! Everything here is `Decimal`: forecasts are money, so no binary floating point is used anywhere in
//! the forecast engine.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// Decimal places kept by intermediate results (in normalized units, where the largest day is ≤ 1):
/// enough for money, few enough that multiplications stay fast and never lose the integer part.
pub(crate) const DP: u32 = 14;

/// Decimal places of the amounts a projection returns (dollars to a hundred-millionth).
pub(crate) const OUT_DP: u32 = 8;

/// `n × 10^-scale`, usable in constants: `decimal(125, 2)` is 1.25.
pub(crate) const fn decimal(n: u32, scale: u32) -> Decimal {
    Decimal::from_parts(n, 0, 0, false, scale)
}

/// Rounds an intermediate result to [`DP`] places.
pub(crate) fn r(d: Decimal) -> Decimal {
    d.round_dp(DP)
}

/// A count as a decimal.
pub(crate) fn count(n: usize) -> Decimal {
    Decimal::from(n as u64)
}

/// The mean of `xs`, `None` when empty. Inputs are normalized (|x| ≤ 10), so the sum cannot overflow.
pub(crate) fn mean(xs: &[Decimal]) -> Option<Decimal> {
    if xs.is_empty() {
        return None;
    }
    let sum: Decimal = xs.iter().copied().sum();
    Some(r(sum / count(xs.len())))
}

/// The sample standard deviation of `xs`, `None` with fewer than two values.
pub(crate) fn sample_sd(xs: &[Decimal]) -> Option<Decimal> {
    if xs.len() < 2 {
        return None;
    }
    let m = mean(xs)?;
    let ss: Decimal = xs.iter().map(|x| r((*x - m) * (*x - m))).sum();
    Some(sqrt(r(ss / count(xs.len() - 1))))
}

/// The square root of `x` (0 for x ≤ 0), by Newton's method, to [`DP`] places.
pub(crate) fn sqrt(x: Decimal) -> Decimal {
    if x <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    // Start above the root so the iteration decreases monotonically.
    let mut g = if x > Decimal::ONE { x } else { Decimal::ONE };
    for _ in 0..200 {
        let next = r((g + r(x / g)) / Decimal::TWO);
        if next >= g {
            break;
        }
        g = next;
    }
    g
}

/// The `q` quantile (0 ≤ q ≤ 1) of `sorted` values, interpolating linearly between order statistics
/// (the usual "type 7" definition). `None` when empty.
pub(crate) fn quantile(sorted: &[Decimal], q: Decimal) -> Option<Decimal> {
    let last = sorted.len().checked_sub(1)?;
    let q = q.clamp(Decimal::ZERO, Decimal::ONE);
    let pos = q * count(last);
    let i = pos.floor().to_usize().unwrap_or(0).min(last);
    let frac = pos - pos.floor();
    let lo = sorted[i];
    let hi = sorted[(i + 1).min(last)];
    Some(r(lo + frac * (hi - lo)))
}

/// A noise-free week of normalized daily values (day number mod 7), for the methods' tests.
#[cfg(test)]
pub(crate) fn test_week(t: usize) -> Decimal {
    [
        decimal(1, 1),
        decimal(5, 1),
        decimal(5, 1),
        decimal(6, 1),
        decimal(5, 1),
        decimal(4, 1),
        decimal(5, 2),
    ][t % 7]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn sqrt_and_quantiles() {
        assert_eq!(sqrt(dec!(16)), dec!(4));
        assert_eq!(sqrt(dec!(0.25)), dec!(0.5));
        assert_eq!(sqrt(dec!(2)).round_dp(6), dec!(1.414214));
        assert_eq!(sqrt(dec!(-1)), Decimal::ZERO);
        let xs = [dec!(1), dec!(2), dec!(3), dec!(4), dec!(5)];
        // position 0.1 × 4 = 0.4 → 1 + 0.4 × (2 − 1)
        assert_eq!(quantile(&xs, dec!(0.1)), Some(dec!(1.4)));
        assert_eq!(quantile(&xs, dec!(0.9)), Some(dec!(4.6)));
        assert_eq!(quantile(&xs, dec!(0.5)), Some(dec!(3)));
        assert_eq!(quantile(&[], dec!(0.5)), None);
        assert_eq!(quantile(&[dec!(7)], dec!(0.9)), Some(dec!(7)));
        // sd of 2,4,4,4,5,5,7,9: mean 5, squares sum 32, /7 → √4.571428…
        let xs = [2, 4, 4, 4, 5, 5, 7, 9].map(Decimal::from);
        assert_eq!(sample_sd(&xs).unwrap().round_dp(6), dec!(2.13809));
        assert_eq!(mean(&[]), None);
    }
}
