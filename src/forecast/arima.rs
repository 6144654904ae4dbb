//! Seasonal ARIMA(0,0,0)(0,1,1)[7] with drift, in decimal.
//!
//! The model: this week's day = the same weekday last week + a drift + a seasonal moving-average
//! correction of last week's surprise:
//!
//! ```text
//! d_t = y_t − y_{t−7} = c + e_t + Θ e_{t−7}
//! ŷ_{t+h} = y_{t+h−7} + c + Θ e_{t+h−7}    (h ≤ 7; beyond, the previous week's forecast + c)
//! ```
//!
//! Errors come from the conditional sum of squares: `e_t = d_t − c − Θ e_{t−7}`, with `e` taken as zero
//! before the second week of differences. For a fixed Θ every `e_t` is linear in the drift,
//! `e_t = a_t − c g_t` (`a_t = d_t − Θ a_{t−7}`, `g_t = 1 − Θ g_{t−7}`), so the least-squares drift is
//! exactly `c = Σ a g ÷ Σ g²` and the sum of squared errors `Σ a² − (Σ a g)² ÷ Σ g²`. Θ is searched over
//! a decimal grid (−0.95 … 0.95 by 0.05, then by 0.01 around the best). A backtest from day `o` uses
//! that Θ with the drift re-estimated from the days before `o` only (running sums), so the drift
//! never sees the future.

use rust_decimal::Decimal;

use super::num::{decimal, r};

/// Days of history the model needs: one week to difference from and two weeks of differences.
pub(crate) const MIN_HISTORY: usize = 21;

/// The season: a week.
const S: usize = 7;

/// The fitted model: Θ and, at every day, the terms the drift and the errors are built from.
#[derive(Debug, Clone)]
pub(crate) struct Fit {
    /// The seasonal MA coefficient.
    pub ma: Decimal,
    /// `a_t` and `g_t` for every day (zero before day 7).
    a: Vec<Decimal>,
    g: Vec<Decimal>,
    /// Prefix sums: `sum_ag[o]` = Σ_{t<o} a_t g_t, `sum_gg[o]` = Σ_{t<o} g_t².
    sum_ag: Vec<Decimal>,
    sum_gg: Vec<Decimal>,
    /// The history (normalized).
    y: Vec<Decimal>,
}

impl Fit {
    /// Fits Θ to `y` (normalized). `None` when the history is shorter than [`MIN_HISTORY`].
    pub(crate) fn new(y: &[Decimal]) -> Option<Fit> {
        if y.len() < MIN_HISTORY {
            return None;
        }
        // Coarse grid, then a finer one around the best (ties keep the value nearer zero).
        let coarse = (-19..=19).map(|k: i64| Decimal::new(5 * k, 2));
        let mut best = best_of(y, coarse.filter(|m| !m.is_zero()), None)?;
        best = best_of(y, [Decimal::ZERO], Some(best)).unwrap_or(best);
        let centre = (best.1 * Decimal::ONE_HUNDRED).trunc();
        let fine = (-4..=4)
            .map(|k: i64| (centre + Decimal::from(k)) / Decimal::ONE_HUNDRED)
            .filter(|m| m.abs() <= decimal(95, 2) && *m != best.1);
        let (_, ma) = best_of(y, fine, Some(best)).unwrap_or(best);
        let (a, g) = terms(y, ma)?;
        let mut sum_ag = Vec::with_capacity(y.len() + 1);
        let mut sum_gg = Vec::with_capacity(y.len() + 1);
        let (mut ag, mut gg) = (Decimal::ZERO, Decimal::ZERO);
        sum_ag.push(ag);
        sum_gg.push(gg);
        for (at, gt) in a.iter().zip(&g) {
            ag = r(ag.checked_add(at.checked_mul(*gt)?)?);
            gg = r(gg.checked_add(gt.checked_mul(*gt)?)?);
            sum_ag.push(ag);
            sum_gg.push(gg);
        }
        Some(Fit {
            ma,
            a,
            g,
            sum_ag,
            sum_gg,
            y: y.to_vec(),
        })
    }

    /// The least-squares drift from the days before `origin`.
    fn drift(&self, origin: usize) -> Option<Decimal> {
        let gg = *self.sum_gg.get(origin)?;
        if gg.is_zero() {
            return None;
        }
        Some(r(self.sum_ag[origin].checked_div(gg)?))
    }

    /// The forecast of days `origin..origin + horizon` knowing days `0..origin`
    /// (`MIN_HISTORY ≤ origin ≤` the fitted length). `None` outside that range.
    pub(crate) fn forecast(&self, origin: usize, horizon: usize) -> Option<Vec<Decimal>> {
        if origin < MIN_HISTORY || origin > self.y.len() {
            return None;
        }
        let c = self.drift(origin)?;
        let mut out: Vec<Decimal> = Vec::with_capacity(horizon);
        for j in 0..horizon {
            let v = if j < S {
                let t = origin + j - S;
                let e = r(self.a[t].checked_sub(c.checked_mul(self.g[t])?)?);
                r(self.y[t]
                    .checked_add(c)?
                    .checked_add(self.ma.checked_mul(e)?)?)
            } else {
                r(out[j - S].checked_add(c)?)
            };
            out.push(v);
        }
        Some(out)
    }
}

/// `a_t` and `g_t` for every day of `y` with MA coefficient `ma` (zero before day 7).
fn terms(y: &[Decimal], ma: Decimal) -> Option<(Vec<Decimal>, Vec<Decimal>)> {
    let mut a = vec![Decimal::ZERO; y.len()];
    let mut g = vec![Decimal::ZERO; y.len()];
    for t in S..y.len() {
        let d = y[t].checked_sub(y[t - S])?;
        a[t] = r(d.checked_sub(ma.checked_mul(a[t - S])?)?);
        g[t] = r(Decimal::ONE.checked_sub(ma.checked_mul(g[t - S])?)?);
    }
    Some((a, g))
}

/// The conditional sum of squares at the least-squares drift, for MA coefficient `ma`.
fn css(y: &[Decimal], ma: Decimal) -> Option<Decimal> {
    let (a, g) = terms(y, ma)?;
    let (mut aa, mut ag, mut gg) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for (at, gt) in a.iter().zip(&g).skip(S) {
        aa = r(aa.checked_add(at.checked_mul(*at)?)?);
        ag = r(ag.checked_add(at.checked_mul(*gt)?)?);
        gg = r(gg.checked_add(gt.checked_mul(*gt)?)?);
    }
    if gg.is_zero() {
        return None;
    }
    Some(r(aa - r(ag.checked_mul(ag)?.checked_div(gg)?)))
}

/// The (sum of squares, Θ) with the smallest sum of squares among `candidates` and `best`.
fn best_of(
    y: &[Decimal],
    candidates: impl IntoIterator<Item = Decimal>,
    mut best: Option<(Decimal, Decimal)>,
) -> Option<(Decimal, Decimal)> {
    for ma in candidates {
        if let Some(s) = css(y, ma) {
            if best.is_none_or(|(b, _)| s < b) {
                best = Some((s, ma));
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::num::test_week as week;
    use rust_decimal_macros::dec;

    #[test]
    fn a_weekly_pattern_with_linear_drift_is_forecast_exactly() {
        // y_t = week(t) + 0.001 t: every seasonal difference is 7 × 0.001 = 0.007, so the drift is
        // 0.007 a week, every error is zero and the forecast is the line continued.
        let y: Vec<Decimal> = (0..45)
            .map(|t| week(t) + dec!(0.001) * Decimal::from(t))
            .collect();
        let fit = Fit::new(&y).unwrap();
        assert_eq!(fit.drift(45), Some(dec!(0.007)));
        let expected: Vec<Decimal> = (45..65)
            .map(|t| week(t) + dec!(0.001) * Decimal::from(t))
            .collect();
        assert_eq!(fit.forecast(45, 20).unwrap(), expected);
        // From an earlier origin the drift uses only the days before it, and is the same here.
        let expected: Vec<Decimal> = (30..40)
            .map(|t| week(t) + dec!(0.001) * Decimal::from(t))
            .collect();
        assert_eq!(fit.forecast(30, 10).unwrap(), expected);
    }

    #[test]
    fn the_seasonal_ma_term_averages_out_noise() {
        // Alternating weeks of +0.1 and −0.1 around a constant 0.5: last week's value is always the
        // wrong guess; the least-squares MA coefficient is strongly negative, pulling the forecast
        // back toward the middle.
        let y: Vec<Decimal> = (0..70)
            .map(|t| {
                if (t / 7) % 2 == 0 {
                    dec!(0.6)
                } else {
                    dec!(0.4)
                }
            })
            .collect();
        let fit = Fit::new(&y).unwrap();
        assert!(fit.ma <= dec!(-0.9), "{}", fit.ma);
        let f = fit.forecast(70, 7).unwrap();
        // The last week was 0.4 and the next is 0.6: the forecast moves from the naive seasonal
        // guess (0.4) toward the middle.
        assert!(f.iter().all(|v| *v > dec!(0.42)), "{f:?}");
    }

    #[test]
    fn a_constant_is_forecast_exactly_and_short_histories_do_not_fit() {
        let fit = Fit::new(&[dec!(0.3); 30]).unwrap();
        assert_eq!(fit.forecast(30, 9).unwrap(), vec![dec!(0.3); 9]);
        assert_eq!(fit.forecast(21, 2).unwrap(), vec![dec!(0.3); 2]);
        assert!(fit.forecast(20, 2).is_none());
        assert!(fit.forecast(31, 2).is_none());
        assert!(Fit::new(&[dec!(0.3); 20]).is_none());
    }
}
