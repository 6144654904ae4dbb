//! Robust baselines: the median and the median absolute deviation (MAD) of a sample, in exact decimals.
//! Brownout windows (`aispend health`) and spend anomalies (`aispend anomalies`) both compare a value with
//! the median of its own history, scaled by the MAD, so that the outliers being looked for do not move
//! the baseline they are measured against.

use rust_decimal::Decimal;

/// 1.4826 × MAD estimates the standard deviation of normally distributed values.
pub const MAD_TO_SIGMA: Decimal = Decimal::from_parts(14826, 0, 0, false, 4);

/// The median (the mean of the two middle values of an even sample); `None` for an empty sample.
pub fn median(values: &[Decimal]) -> Option<Decimal> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort();
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / Decimal::TWO
    })
}

/// The median and the median absolute deviation from it.
pub fn median_mad(values: &[Decimal]) -> Option<(Decimal, Decimal)> {
    let m = median(values)?;
    let deviations: Vec<Decimal> = values.iter().map(|v| (*v - m).abs()).collect();
    Some((m, median(&deviations).unwrap_or_default()))
}

/// The nearest-rank percentile (`p` in 0–100) of sorted values.
pub fn percentile(sorted: &[u64], p: u32) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (u64::from(p) * sorted.len() as u64).div_ceil(100).max(1);
    Some(sorted[(rank as usize - 1).min(sorted.len() - 1)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn median_and_mad_by_hand() {
        // sorted 1 2 3 4 100: median 3; deviations 2 1 0 1 97 → sorted 0 1 1 2 97: MAD 1
        let v = [dec!(3), dec!(1), dec!(100), dec!(2), dec!(4)];
        assert_eq!(median_mad(&v), Some((dec!(3), dec!(1))));
        // even: (2 + 3) / 2
        assert_eq!(
            median(&[dec!(4), dec!(1), dec!(3), dec!(2)]),
            Some(dec!(2.5))
        );
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=20).map(|i| i * 10).collect();
        // p50 of 20 values: rank 10 → 100; p95: rank 19 → 190; p99: rank 20 → 200
        assert_eq!(percentile(&v, 50), Some(100));
        assert_eq!(percentile(&v, 95), Some(190));
        assert_eq!(percentile(&v, 99), Some(200));
        assert_eq!(percentile(&[7], 99), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }
}
