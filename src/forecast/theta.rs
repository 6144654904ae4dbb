//! The optimised Theta method on a weekly-deseasonalized series, in decimal.
//!
//! 1. **Decomposition.** Classical, period 7: the centred 7-day moving average is the trend; each
//!    weekday's index is the mean of its ratios to it (multiplicative, normalized to average 1) or of
//!    its differences from it (additive, normalized to average 0). Dividing by (or subtracting) the
//!    index gives the deseasonalized series `x`.
//! 2. **Theta.** Simple exponential smoothing of `x` (`ℓ_t = α x_t + (1 − α) ℓ_{t−1}`) plus the
//!    theta line's drift: with `B_t` the least-squares slope of `x` over all days so far,
//!    `x̂_{t+h} = ℓ_t + (1 − 1/θ) B_t (h − 1 + 1/α)`. θ = 1 is plain smoothing, θ = 2 the classic Theta
//!    method (half the regression slope, Hyndman & Billah's "SES with drift"), larger θ follows more of
//!    the trend (the optimised Theta method of Fiorucci et al. lets θ free). The slope is updated day by
//!    day (the dynamic form), so a forecast from any day uses only the days before it.
//! 3. **Reseasonalize**: `ŷ = x̂ × index` (or `+ index`).
//!
//! α, θ and the decomposition (multiplicative only when every weekday's index is at least 0.05) are
//! chosen from a decimal grid by the smallest one-step sum of squared errors in the original units.
//! As with Holt-Winters, the parameters and the seasonal indices are fitted once on the whole history
//! and reused by every backtest origin.

use rust_decimal::Decimal;

use super::num::{count, decimal, r};

/// Days of history Theta needs: two weeks, so every weekday has a ratio to a centred average.
pub(crate) const MIN_HISTORY: usize = 14;

const ALPHAS: [Decimal; 9] = [
    decimal(5, 2),
    decimal(1, 1),
    decimal(15, 2),
    decimal(2, 1),
    decimal(3, 1),
    decimal(4, 1),
    decimal(5, 1),
    decimal(7, 1),
    decimal(9, 1),
];
const THETAS: [Decimal; 6] = [
    decimal(1, 0),
    decimal(15, 1),
    decimal(2, 0),
    decimal(3, 0),
    decimal(5, 0),
    decimal(10, 0),
];
/// The smallest weekday index the multiplicative decomposition accepts (dividing by less amplifies
/// noise, and a weekday without spend has index 0).
const MIN_INDEX: Decimal = decimal(5, 2);
/// The one-step errors of the first week are not counted (the slope is still meaningless).
const WARM_UP: usize = 7;

/// How the weekly pattern is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decomposition {
    Multiplicative,
    Additive,
}

/// A fitted model.
#[derive(Debug, Clone)]
pub(crate) struct Fit {
    pub decomposition: Decomposition,
    pub alpha: Decimal,
    pub theta: Decimal,
    /// Weekday indices by day number mod 7.
    season: [Decimal; 7],
    /// `states[o − 1]` = (level, slope) after days `0..o`, the origin of a forecast for day `o` on.
    states: Vec<(Decimal, Decimal)>,
}

impl Fit {
    /// Fits the model to `y` (normalized). `None` when the history is shorter than [`MIN_HISTORY`].
    pub(crate) fn new(y: &[Decimal]) -> Option<Fit> {
        if y.len() < MIN_HISTORY {
            return None;
        }
        let mut best: Option<(Decimal, Fit)> = None;
        for decomposition in [Decomposition::Multiplicative, Decomposition::Additive] {
            let Some(season) = indices(y, decomposition) else {
                continue;
            };
            let x = deseasonalize(y, &season, decomposition)?;
            let slopes = slopes(&x)?;
            for alpha in ALPHAS {
                for theta in THETAS {
                    let bound = best.as_ref().map(|(s, _)| *s);
                    let Some(sse) =
                        sse(y, &x, &slopes, &season, decomposition, alpha, theta, bound)
                    else {
                        continue;
                    };
                    if bound.is_none_or(|b| sse < b) {
                        let fit = Fit {
                            decomposition,
                            alpha,
                            theta,
                            season,
                            states: Vec::new(),
                        };
                        best = Some((sse, fit));
                    }
                }
            }
        }
        let (_, mut fit) = best?;
        let x = deseasonalize(y, &fit.season, fit.decomposition)?;
        let slopes = slopes(&x)?;
        let mut level = x[0];
        fit.states.reserve(x.len());
        for (t, v) in x.iter().enumerate() {
            if t > 0 {
                level = smooth(fit.alpha, level, *v)?;
            }
            fit.states.push((level, slopes[t]));
        }
        Some(fit)
    }

    /// The forecast of days `origin..origin + horizon` knowing days `0..origin`
    /// (`MIN_HISTORY ≤ origin ≤` the fitted length). `None` outside that range.
    pub(crate) fn forecast(&self, origin: usize, horizon: usize) -> Option<Vec<Decimal>> {
        if origin < MIN_HISTORY {
            return None;
        }
        let (level, slope) = *self.states.get(origin - 1)?;
        let drift = r(drift_weight(self.theta)?.checked_mul(slope)?);
        let start = r(Decimal::ONE.checked_div(self.alpha)? - Decimal::ONE);
        (0..horizon)
            .map(|j| {
                let x = r(level.checked_add(drift.checked_mul(start + count(j))?)?);
                reseasonalize(x, self.season[(origin + j) % 7], self.decomposition)
            })
            .collect()
    }
}

/// `1 − 1/θ`.
fn drift_weight(theta: Decimal) -> Option<Decimal> {
    Some(r(Decimal::ONE - Decimal::ONE.checked_div(theta)?))
}

fn smooth(alpha: Decimal, level: Decimal, x: Decimal) -> Option<Decimal> {
    Some(r(
        level.checked_add(alpha.checked_mul(x.checked_sub(level)?)?)?
    ))
}

fn reseasonalize(x: Decimal, index: Decimal, d: Decomposition) -> Option<Decimal> {
    Some(match d {
        Decomposition::Multiplicative => r(x.checked_mul(index)?),
        Decomposition::Additive => r(x.checked_add(index)?),
    })
}

/// The weekday indices of the classical decomposition (by day number mod 7); `None` when a
/// multiplicative decomposition is impossible (a centred average ≤ 0 or an index under
/// [`MIN_INDEX`]).
fn indices(y: &[Decimal], d: Decomposition) -> Option<[Decimal; 7]> {
    let mut sums = [Decimal::ZERO; 7];
    let mut counts = [0usize; 7];
    let mut window: Decimal = y[..7].iter().copied().sum();
    for t in 3..y.len() - 3 {
        if t > 3 {
            window = window.checked_add(y[t + 3])?.checked_sub(y[t - 4])?;
        }
        let trend = r(window / count(7));
        let dev = match d {
            Decomposition::Multiplicative => {
                if trend <= Decimal::ZERO {
                    return None;
                }
                r(y[t].checked_div(trend)?)
            }
            Decomposition::Additive => y[t] - trend,
        };
        sums[t % 7] = sums[t % 7].checked_add(dev)?;
        counts[t % 7] += 1;
    }
    let mut season = [Decimal::ZERO; 7];
    for i in 0..7 {
        season[i] = r(sums[i] / count(counts[i].max(1)));
    }
    let mean = r(season.iter().copied().sum::<Decimal>() / count(7));
    for s in &mut season {
        *s = match d {
            Decomposition::Multiplicative => r(s.checked_div(mean)?),
            Decomposition::Additive => *s - mean,
        };
    }
    if d == Decomposition::Multiplicative && season.iter().any(|s| *s < MIN_INDEX) {
        return None;
    }
    Some(season)
}

fn deseasonalize(y: &[Decimal], season: &[Decimal; 7], d: Decomposition) -> Option<Vec<Decimal>> {
    y.iter()
        .enumerate()
        .map(|(t, v)| match d {
            Decomposition::Multiplicative => Some(r(v.checked_div(season[t % 7])?)),
            Decomposition::Additive => Some(*v - season[t % 7]),
        })
        .collect()
}

/// `slopes[t]`: the least-squares slope of `x[0..=t]` against the day number (0 for one day).
fn slopes(x: &[Decimal]) -> Option<Vec<Decimal>> {
    let (mut st, mut stt, mut sx, mut stx) =
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let mut out = Vec::with_capacity(x.len());
    for (t, v) in x.iter().enumerate() {
        let td = count(t);
        st += td;
        stt += td * td;
        sx = r(sx.checked_add(*v)?);
        stx = r(stx.checked_add(td.checked_mul(*v)?)?);
        let n = count(t + 1);
        let den = n * stt - st * st;
        out.push(if den.is_zero() {
            Decimal::ZERO
        } else {
            r((n.checked_mul(stx)?.checked_sub(st.checked_mul(sx)?)?).checked_div(den)?)
        });
    }
    Some(out)
}

/// One-step sum of squared errors in the original units from day [`WARM_UP`] on; `None` on overflow
/// or when it exceeds `bound`.
#[allow(clippy::too_many_arguments)]
fn sse(
    y: &[Decimal],
    x: &[Decimal],
    slopes: &[Decimal],
    season: &[Decimal; 7],
    d: Decomposition,
    alpha: Decimal,
    theta: Decimal,
    bound: Option<Decimal>,
) -> Option<Decimal> {
    let step = r(drift_weight(theta)?.checked_div(alpha)?);
    let mut level = x[0];
    let mut total = Decimal::ZERO;
    for t in 1..y.len() {
        if t >= WARM_UP {
            let xhat = r(level.checked_add(step.checked_mul(slopes[t - 1])?)?);
            let e = y[t].checked_sub(reseasonalize(xhat, season[t % 7], d)?)?;
            total = r(total.checked_add(e.checked_mul(e)?)?);
            if bound.is_some_and(|b| total >= b) {
                return None;
            }
        }
        level = smooth(alpha, level, x[t])?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::num::test_week as week;
    use rust_decimal_macros::dec;

    #[test]
    fn a_constant_is_forecast_exactly() {
        let fit = Fit::new(&[dec!(0.25); 40]).unwrap();
        assert_eq!(fit.decomposition, Decomposition::Multiplicative);
        assert_eq!(fit.season, [Decimal::ONE; 7]);
        assert_eq!(fit.forecast(40, 10).unwrap(), vec![dec!(0.25); 10]);
        assert_eq!(fit.forecast(14, 3).unwrap(), vec![dec!(0.25); 3]);
        assert!(fit.forecast(13, 3).is_none());
        assert!(fit.forecast(41, 3).is_none());
        assert!(Fit::new(&[dec!(0.25); 13]).is_none());
    }

    #[test]
    fn a_pure_weekly_pattern_is_forecast_exactly() {
        // The weekly mean is 2.65 / 7; every centred average equals it, so the multiplicative indices
        // are week(t) ÷ (2.65 / 7) and the deseasonalized series is the constant 2.65 / 7.
        let y: Vec<Decimal> = (0..42).map(week).collect();
        let fit = Fit::new(&y).unwrap();
        let f = fit.forecast(42, 10).unwrap();
        let rounded: Vec<Decimal> = f.iter().map(|v| v.round_dp(10)).collect();
        let expected: Vec<Decimal> = (42..52).map(week).collect();
        assert_eq!(rounded, expected);
    }

    #[test]
    fn slopes_are_least_squares() {
        // 1, 3, 2: slope of (0,1), (1,3), (2,2) = Σ(t − 1)(x − 2) / Σ(t − 1)² = (−1·−1 + 1·0) / 2 = 0.5
        let s = slopes(&[dec!(1), dec!(3), dec!(2)]).unwrap();
        assert_eq!(s, vec![dec!(0), dec!(2), dec!(0.5)]);
    }

    #[test]
    fn a_line_is_followed_by_its_slope() {
        // x = 0.1 + 0.01 t with no weekly pattern: the slope is exactly 0.01, and the forecast one
        // day ahead lies between the smoothed level and the line's next value (0.1 + 0.01 × 56).
        let y: Vec<Decimal> = (0..56).map(|t| dec!(0.1) + dec!(0.01) * count(t)).collect();
        let fit = Fit::new(&y).unwrap();
        assert_eq!(fit.states[55].1, dec!(0.01));
        let f = fit.forecast(56, 1).unwrap();
        assert!(f[0] > dec!(0.6) && f[0] <= dec!(0.6601), "{}", f[0]);
    }
}
