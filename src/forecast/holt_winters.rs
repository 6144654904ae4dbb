//! Holt-Winters (ETS with additive weekly seasonality and a damped additive trend), in decimal.
//!
//! The model, in error-correction form, with one-step error `e_t = y_t − (l + φb + s_{t−7})`:
//!
//! ```text
//! l_t = l_{t−1} + φ b_{t−1} + α e_t
//! b_t = φ b_{t−1} + β e_t
//! s_t = s_{t−7} + γ e_t
//! ŷ_{t+h} = l_t + (φ + φ² + … + φ^h) b_t + s_{t+h−7k}
//! ```
//!
//! It starts from the first weeks (level = first week's mean, trend = the change of weekly means per
//! day, seasonals = each weekday's average offset from its week's mean) and the parameters are chosen
//! from a small grid by the smallest one-step sum of squared errors. Fitting once gives the state at
//! every day, so a rolling-origin backtest reads a forecast from any origin without refitting.

use rust_decimal::Decimal;

use super::num::{count, decimal, r};

/// Days of history Holt-Winters needs: two weeks to start from and two more to learn anything.
pub(crate) const MIN_HISTORY: usize = 28;

/// A state component beyond this (in normalized units, where the largest day is ≤ 1) means the
/// recursion diverged: the parameter set is discarded.
const DIVERGED: Decimal = decimal(1000000, 0);

const ALPHAS: [Decimal; 6] = [
    decimal(5, 2),
    decimal(1, 1),
    decimal(2, 1),
    decimal(35, 2),
    decimal(5, 1),
    decimal(75, 2),
];
const BETAS: [Decimal; 3] = [decimal(0, 0), decimal(1, 2), decimal(5, 2)];
const GAMMAS: [Decimal; 4] = [decimal(1, 2), decimal(5, 2), decimal(15, 2), decimal(3, 1)];
const PHIS: [Decimal; 3] = [decimal(8, 1), decimal(9, 1), decimal(98, 2)];

/// Smoothing parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Params {
    pub alpha: Decimal,
    pub beta: Decimal,
    pub gamma: Decimal,
    pub phi: Decimal,
}

/// Level, trend and the seven seasonals (indexed by day number mod 7) after some days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    level: Decimal,
    trend: Decimal,
    season: [Decimal; 7],
}

/// A fitted model: the chosen parameters and the state at every origin from day 7 on.
#[derive(Debug, Clone)]
pub(crate) struct Fit {
    pub params: Params,
    /// `states[o − 7]` is the state after days `0..o`, the origin of a forecast for day `o` onwards.
    states: Vec<State>,
}

impl Fit {
    /// Fits the model to `y` (normalized). `None` when the history is shorter than
    /// [`MIN_HISTORY`] or every parameter set diverges.
    pub(crate) fn new(y: &[Decimal]) -> Option<Fit> {
        if y.len() < MIN_HISTORY {
            return None;
        }
        let start = initial_state(y)?;
        let mut best: Option<(Decimal, Params)> = None;
        for alpha in ALPHAS {
            for beta in BETAS {
                for gamma in GAMMAS {
                    for phi in PHIS {
                        let p = Params {
                            alpha,
                            beta,
                            gamma,
                            phi,
                        };
                        let bound = best.map(|(sse, _)| sse);
                        if let Some(sse) = sse(y, start, &p, bound) {
                            if bound.is_none_or(|b| sse < b) {
                                best = Some((sse, p));
                            }
                        }
                    }
                }
            }
        }
        let (_, params) = best?;
        let mut states = Vec::with_capacity(y.len() - 6);
        let mut st = start;
        states.push(st);
        for (t, &v) in y.iter().enumerate().skip(7) {
            step(&params, &mut st, t, v)?;
            states.push(st);
        }
        Some(Fit { params, states })
    }

    /// The forecast of days `origin..origin + horizon` from the state at `origin` (7 ≤ origin ≤ the
    /// fitted length). `None` outside that range.
    pub(crate) fn forecast(&self, origin: usize, horizon: usize) -> Option<Vec<Decimal>> {
        let st = self.states.get(origin.checked_sub(7)?)?;
        let phi = self.params.phi;
        let mut damp = Decimal::ZERO;
        let mut power = Decimal::ONE;
        let mut out = Vec::with_capacity(horizon);
        for j in 0..horizon {
            power = r(power * phi);
            damp = r(damp + power);
            out.push(r(st.level + damp * st.trend + st.season[(origin + j) % 7]));
        }
        Some(out)
    }
}

/// Level, trend and seasonals from the first `w` weeks (2 ≤ w ≤ 4), as the state after day 6.
fn initial_state(y: &[Decimal]) -> Option<State> {
    let w = (y.len() / 7).min(4);
    if w < 2 {
        return None;
    }
    let week_mean = |k: usize| -> Decimal {
        let sum: Decimal = y[7 * k..7 * k + 7].iter().copied().sum();
        r(sum / count(7))
    };
    let means: Vec<Decimal> = (0..w).map(week_mean).collect();
    let trend = r((means[w - 1] - means[0]) / count(7 * (w - 1)));
    let mut season = [Decimal::ZERO; 7];
    for (i, s) in season.iter_mut().enumerate() {
        let offsets: Decimal = (0..w).map(|k| y[7 * k + i] - means[k]).sum();
        *s = r(offsets / count(w));
    }
    // The first week's mean is the level at its middle day (day 3); day 6 is three days later.
    Some(State {
        level: r(means[0] + trend * count(3)),
        trend,
        season,
    })
}

/// One day of the recursion; returns the one-step error. `None` on overflow or divergence.
fn step(p: &Params, st: &mut State, t: usize, y: Decimal) -> Option<Decimal> {
    let i = t % 7;
    let damped = r(p.phi.checked_mul(st.trend)?);
    let base = st.level.checked_add(damped)?;
    let e = y.checked_sub(base.checked_add(st.season[i])?)?;
    st.level = r(base.checked_add(p.alpha.checked_mul(e)?)?);
    st.trend = r(damped.checked_add(p.beta.checked_mul(e)?)?);
    st.season[i] = r(st.season[i].checked_add(p.gamma.checked_mul(e)?)?);
    if st.level.abs() > DIVERGED || st.trend.abs() > DIVERGED || st.season[i].abs() > DIVERGED {
        return None;
    }
    Some(e)
}

/// One-step sum of squared errors from day 7 on; `None` when it diverges or exceeds `bound`.
fn sse(y: &[Decimal], start: State, p: &Params, bound: Option<Decimal>) -> Option<Decimal> {
    let mut st = start;
    let mut total = Decimal::ZERO;
    for (t, &v) in y.iter().enumerate().skip(7) {
        let e = step(p, &mut st, t, v)?;
        total = r(total.checked_add(e.checked_mul(e)?)?);
        if bound.is_some_and(|b| total >= b) {
            return None;
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::num::test_week as week;
    use rust_decimal_macros::dec;

    #[test]
    fn a_noise_free_weekly_pattern_is_reproduced_exactly() {
        let y: Vec<Decimal> = (0..42).map(week).collect();
        let fit = Fit::new(&y).unwrap();
        let f = fit.forecast(42, 10).unwrap();
        let expected: Vec<Decimal> = (42..52).map(week).collect();
        let rounded: Vec<Decimal> = f.iter().map(|d| d.round_dp(10)).collect();
        assert_eq!(rounded, expected);
    }

    #[test]
    fn a_linear_trend_is_followed() {
        // y = 0.1 + 0.01 t: the first weeks give trend 0.01 per day, level 0.13 after day 6.
        let y: Vec<Decimal> = (0..56).map(|t| dec!(0.1) + dec!(0.01) * count(t)).collect();
        let fit = Fit::new(&y).unwrap();
        let f = fit.forecast(56, 1).unwrap();
        // Damping pulls the forecast a little under the line's next value (0.66), never over it.
        assert!(f[0] <= dec!(0.66) && f[0] > dec!(0.64), "{}", f[0]);
    }

    #[test]
    fn too_short_or_absurd_histories_do_not_fit() {
        assert!(Fit::new(&[Decimal::ONE; 27]).is_none());
        let fit = Fit::new(&[Decimal::ZERO; 28]).unwrap();
        assert_eq!(fit.forecast(28, 3).unwrap(), vec![Decimal::ZERO; 3]);
        assert!(fit.forecast(29, 3).is_none());
        assert!(fit.forecast(6, 3).is_none());
    }
}
