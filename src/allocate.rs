//! Allocation of shared and unassigned spend (`[allocation]` in `aispend.toml`): the cost of shared teams
//! (a platform team serving the others) and of unassigned usage is spread over the other teams, by their
//! cost, their requests, evenly or by fixed weights.
//!
//! Totals are preserved to the last digit. The remainder rule: each share is `pool × basis / Σ basis`,
//! cut (towards zero) to the pool's own number of decimal places (at least 2); the units left over (each
//! one unit of that last place) go one by one to the recipients with the largest cut-off remainders;
//! equal remainders go to the larger basis, then to the name first in alphabetical order. The result
//! does not depend on the order teams are listed in.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::config::UNASSIGNED;

/// How a pool is spread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// In proportion to each recipient's own (direct) cost.
    Cost,
    /// In proportion to each recipient's requests.
    Requests,
    /// The same share each.
    Even,
    /// Fixed weights per team (teams without a weight receive nothing).
    Weights(BTreeMap<String, Decimal>),
}

/// What happens to the `unassigned` team's cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unassigned {
    /// Stays on its own line.
    Keep,
    /// Spread over the recipients like shared spend.
    Spread,
    /// Given to one team.
    To(String),
}

/// `[allocation]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// Teams whose spend is shared.
    pub shared: Vec<String>,
    pub basis: Basis,
    pub unassigned: Unassigned,
}

/// `[allocation]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllocationSection {
    #[serde(default)]
    shared: Vec<String>,
    /// `cost` (default), `requests`, `even` or `weights`.
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    weights: BTreeMap<String, toml::Value>,
    /// `keep` (default), `spread`, or a team name.
    #[serde(default)]
    unassigned: Option<String>,
}

impl Allocation {
    pub fn from_section(s: AllocationSection) -> Result<Allocation, String> {
        let basis = match s.by.as_deref().unwrap_or("cost") {
            "cost" => Basis::Cost,
            "requests" => Basis::Requests,
            "even" => Basis::Even,
            "weights" => {
                let mut weights = BTreeMap::new();
                for (team, v) in &s.weights {
                    let text = match v {
                        toml::Value::String(t) => t.clone(),
                        toml::Value::Integer(i) => i.to_string(),
                        _ => String::new(),
                    };
                    let w = crate::decimal::parse_decimal(&text)
                        .filter(|w| !w.is_sign_negative())
                        .ok_or_else(|| {
                            format!(
                                "[allocation] weights: '{team}' must be a non-negative integer or decimal string"
                            )
                        })?;
                    weights.insert(team.clone(), w);
                }
                if weights.values().all(|w| w.is_zero()) {
                    return Err(
                        "[allocation] by = \"weights\" needs `weights = { team = 3, other = 1 }`"
                            .into(),
                    );
                }
                Basis::Weights(weights)
            }
            other => {
                return Err(format!(
                    "[allocation] by = '{other}': expected cost, requests, even or weights"
                ))
            }
        };
        if !matches!(basis, Basis::Weights(_)) && !s.weights.is_empty() {
            return Err("[allocation] weights apply with by = \"weights\" only".into());
        }
        let unassigned = match s.unassigned.as_deref().map(str::trim) {
            None | Some("keep") => Unassigned::Keep,
            Some("spread") => Unassigned::Spread,
            Some("") => return Err("[allocation] unassigned may not be empty".into()),
            Some(team) => Unassigned::To(team.to_string()),
        };
        if s.shared.iter().any(|t| t.trim().is_empty()) {
            return Err("[allocation] shared: a team name may not be empty".into());
        }
        Ok(Allocation {
            shared: s.shared,
            basis,
            unassigned,
        })
    }

    fn is_shared(&self, team: &str) -> bool {
        self.shared.iter().any(|s| s == team)
    }
}

/// One team's direct figures, the input of an allocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Direct {
    pub cost: Decimal,
    pub requests: u64,
}

/// One team after allocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allocated {
    pub direct: Decimal,
    /// Received from shared and unassigned spend, minus what this team's own spend gave away (a shared
    /// team's is minus its whole direct cost).
    pub allocated: Decimal,
}

impl Allocated {
    pub fn total(&self) -> Decimal {
        self.direct + self.allocated
    }
}

/// Spreads shared and unassigned spend over the other teams. Σ total = Σ direct, exactly.
pub fn allocate(
    rule: &Allocation,
    teams: &BTreeMap<String, Direct>,
) -> BTreeMap<String, Allocated> {
    let mut out: BTreeMap<String, Allocated> = teams
        .iter()
        .map(|(t, d)| {
            (
                t.clone(),
                Allocated {
                    direct: d.cost,
                    allocated: Decimal::ZERO,
                },
            )
        })
        .collect();
    let gives = |team: &str| {
        rule.is_shared(team) || (team == UNASSIGNED && rule.unassigned == Unassigned::Spread)
    };
    // Unassigned given to one team.
    if let (Unassigned::To(to), Some(d)) = (&rule.unassigned, teams.get(UNASSIGNED)) {
        if to != UNASSIGNED && !d.cost.is_zero() {
            out.get_mut(UNASSIGNED).expect("listed").allocated -= d.cost;
            out.entry(to.clone()).or_default().allocated += d.cost;
        }
    }
    let recipients: Vec<(&String, &Direct)> = teams
        .iter()
        .filter(|(t, _)| !gives(t) && !rule.is_shared(t) && t.as_str() != UNASSIGNED)
        .collect();
    let pool: Decimal = teams
        .iter()
        .filter(|(t, _)| gives(t))
        .map(|(_, d)| d.cost)
        .sum();
    if pool.is_zero() {
        return out;
    }
    let basis: Vec<(&String, Decimal)> = recipients
        .iter()
        .map(|(t, d)| {
            let b = match &rule.basis {
                Basis::Cost => d.cost,
                Basis::Requests => Decimal::from(d.requests),
                Basis::Even => Decimal::ONE,
                Basis::Weights(w) => w.get(t.as_str()).copied().unwrap_or_default(),
            };
            (*t, b)
        })
        .collect();
    let sum: Decimal = basis.iter().map(|(_, b)| *b).sum();
    if sum.is_zero() {
        // Nobody to carry it (no other team, or none with a basis): the spend stays where it is.
        return out;
    }
    for (team, d) in teams.iter().filter(|(t, _)| gives(t)) {
        out.get_mut(team).expect("listed").allocated -= d.cost;
    }
    for (team, share) in split(pool, &basis, sum) {
        out.get_mut(team).expect("listed").allocated += share;
    }
    out
}

/// `pool` split by `basis` (Σ = `sum`), preserved exactly by the remainder rule of the module docs.
fn split<'t>(
    pool: Decimal,
    basis: &[(&'t String, Decimal)],
    sum: Decimal,
) -> Vec<(&'t String, Decimal)> {
    let places = pool.normalize().scale().max(2);
    let unit = Decimal::new(1, places);
    let mut shares: Vec<(&String, Decimal, Decimal, Decimal)> = basis
        .iter()
        .map(|(t, b)| {
            let exact = pool * *b / sum;
            let cut = exact.trunc_with_scale(places);
            (*t, cut, exact - cut, *b)
        })
        .collect();
    let mut left = pool - shares.iter().map(|s| s.1).sum::<Decimal>();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&shares[a], &shares[b]);
        y.2.cmp(&x.2).then(y.3.cmp(&x.3)).then(x.0.cmp(y.0))
    });
    for i in order.into_iter().cycle() {
        if left < unit {
            break;
        }
        shares[i].1 += unit;
        left -= unit;
    }
    shares.into_iter().map(|(t, s, _, _)| (t, s)).collect()
}

/// Daily cost per team after allocation, from a report grouped by `team, day`: each day's shared and
/// unassigned spend is spread over that day's teams (what budgets with `allocated = true` forecast).
pub fn allocate_daily(
    rule: &Allocation,
    report: &crate::report::Report,
) -> crate::report::daily::DailyCosts {
    use chrono::NaiveDate;
    let mut days: BTreeMap<NaiveDate, BTreeMap<String, Direct>> = BTreeMap::new();
    for row in &report.rows {
        let (Some(team), Some(day)) = (row.values.first(), row.values.get(1)) else {
            continue;
        };
        let Ok(day) = NaiveDate::parse_from_str(day, "%Y-%m-%d") else {
            continue;
        };
        let d = days
            .entry(day)
            .or_default()
            .entry(team.clone())
            .or_default();
        d.cost += row.totals.cost;
        d.requests = d.requests.saturating_add(row.totals.requests);
    }
    let mut daily = crate::report::daily::DailyCosts {
        first: days.keys().next().copied(),
        last: days.keys().next_back().copied(),
        ..Default::default()
    };
    for (day, teams) in &days {
        for (team, a) in allocate(rule, teams) {
            *daily
                .groups
                .entry(vec![team])
                .or_default()
                .entry(*day)
                .or_default() += a.total();
        }
    }
    daily
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn teams(list: &[(&str, Decimal, u64)]) -> BTreeMap<String, Direct> {
        list.iter()
            .map(|(t, c, r)| {
                (
                    t.to_string(),
                    Direct {
                        cost: *c,
                        requests: *r,
                    },
                )
            })
            .collect()
    }

    fn rule(by: Basis, unassigned: Unassigned) -> Allocation {
        Allocation {
            shared: vec!["platform".into()],
            basis: by,
            unassigned,
        }
    }

    #[test]
    fn shared_spend_follows_cost_and_the_remainder_goes_to_the_largest_cut() {
        let t = teams(&[
            ("platform", dec!(10.00), 5),
            ("search", dec!(20.00), 1),
            ("support", dec!(10.00), 1),
            ("growth", dec!(10.00), 1),
        ]);
        let a = allocate(&rule(Basis::Cost, Unassigned::Keep), &t);
        // $10.00 over 20:10:10 → 5.00, 2.50, 2.50 exactly
        assert_eq!(a["search"].allocated, dec!(5.00));
        assert_eq!(a["support"].allocated, dec!(2.50));
        assert_eq!(a["growth"].total(), dec!(12.50));
        assert_eq!(a["platform"].total(), dec!(0));
        // evenly: $10.00 / 3 = 3.333… → 3.33 each, one cent left; equal remainders and bases: the name
        // first in alphabetical order (growth) gets it: 3.34 + 3.33 + 3.33 = 10.00
        let a = allocate(&rule(Basis::Even, Unassigned::Keep), &t);
        assert_eq!(a["growth"].allocated, dec!(3.34));
        assert_eq!(a["search"].allocated, dec!(3.33));
        assert_eq!(a["support"].allocated, dec!(3.33));
        let total: Decimal = a.values().map(Allocated::total).sum();
        assert_eq!(total, dec!(50.00));
    }

    #[test]
    fn requests_and_weights_decide_the_shares() {
        let t = teams(&[
            ("platform", dec!(1.00), 0),
            ("search", dec!(5), 2),
            ("support", dec!(5), 1),
        ]);
        // by requests 2:1 → 0.666… and 0.333…: cut to 0.66 and 0.33, one cent left to the largest cut-off
        // remainder (search, 0.00666… > support's 0.00333…): 0.67 + 0.33 = 1.00
        let a = allocate(&rule(Basis::Requests, Unassigned::Keep), &t);
        assert_eq!(a["search"].allocated, dec!(0.67));
        assert_eq!(a["support"].allocated, dec!(0.33));
        let w = BTreeMap::from([
            ("support".to_string(), dec!(3)),
            ("search".to_string(), dec!(1)),
        ]);
        // weights 1:3 → 0.25 and 0.75
        let a = allocate(&rule(Basis::Weights(w), Unassigned::Keep), &t);
        assert_eq!(a["search"].allocated, dec!(0.25));
        assert_eq!(a["support"].allocated, dec!(0.75));
    }

    #[test]
    fn unassigned_is_kept_spread_or_given() {
        let t = teams(&[
            ("platform", dec!(0.01), 0),
            ("unassigned", dec!(0.02), 0),
            ("search", dec!(1), 0),
            ("support", dec!(1), 0),
        ]);
        // kept: unassigned stays, platform's cent goes evenly by cost 1:1 → 0.005 each: cut to 0.00 at the
        // pool's 2 places, one cent left; equal remainders and bases → search (alphabetical)
        let a = allocate(&rule(Basis::Cost, Unassigned::Keep), &t);
        assert_eq!(a["unassigned"].total(), dec!(0.02));
        assert_eq!(a["search"].allocated, dec!(0.01));
        assert_eq!(a["support"].allocated, dec!(0));
        // spread: pool 0.03 → 0.015 each → 0.01 + 0.01, one cent left → search: 0.02 and 0.01
        let a = allocate(&rule(Basis::Cost, Unassigned::Spread), &t);
        assert_eq!(a["unassigned"].total(), dec!(0));
        assert_eq!(a["search"].allocated, dec!(0.02));
        assert_eq!(a["support"].allocated, dec!(0.01));
        // given to support: 0.02 to support, platform's cent to search as before
        let a = allocate(&rule(Basis::Cost, Unassigned::To("support".into())), &t);
        assert_eq!(a["unassigned"].total(), dec!(0));
        assert_eq!(a["support"].allocated, dec!(0.02));
        assert_eq!(a["search"].allocated, dec!(0.01));
    }

    #[test]
    fn the_section_is_checked() {
        let parse = |text: &str| {
            let s: AllocationSection = toml::from_str(text).unwrap();
            Allocation::from_section(s)
        };
        assert!(parse("shared = [\"platform\"]\nby = \"cost\"").is_ok());
        assert!(parse("by = \"size\"").is_err());
        assert!(parse("by = \"weights\"").is_err());
        assert!(parse("by = \"even\"\nweights = { a = 1 }").is_err());
        assert_eq!(
            parse("unassigned = \"platform\"").unwrap().unassigned,
            Unassigned::To("platform".into())
        );
    }
}

/// `report --allocate`: direct, allocated and total cost per team, through [`crate::output`].
pub mod render {
    use serde_json::{json, Value};

    use super::{Allocated, Allocation, Basis, Unassigned};
    use crate::output::{markdown, Cell, Column, Format, Render, Sheet};
    use crate::period::Period;
    use crate::report::render::json::period_value;

    /// The allocated report of a period.
    pub struct AllocatedReport<'a> {
        pub period: Period,
        pub tz: chrono_tz::Tz,
        pub rule: &'a Allocation,
        /// Team, requests, figures; largest total first.
        pub rows: Vec<(String, u64, Allocated)>,
        /// Usage that has no price: in no team's cost, never $0.
        pub unpriced: &'a [crate::report::UnpricedRow],
    }

    impl AllocatedReport<'_> {
        /// The rule in one sentence.
        pub fn describe(&self) -> String {
            let r = self.rule;
            let by = match &r.basis {
                Basis::Cost => "by direct cost".to_string(),
                Basis::Requests => "by requests".to_string(),
                Basis::Even => "evenly".to_string(),
                Basis::Weights(w) => format!(
                    "by weights {}",
                    w.iter()
                        .map(|(t, w)| format!("{t}={}", w.normalize()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let shared = if r.shared.is_empty() {
                "no shared teams".to_string()
            } else {
                format!("shared: {}", r.shared.join(", "))
            };
            let unassigned = match &r.unassigned {
                Unassigned::Keep => "unassigned kept".to_string(),
                Unassigned::Spread => "unassigned spread the same way".to_string(),
                Unassigned::To(t) => format!("unassigned given to {t}"),
            };
            format!("{shared}, spread {by}; {unassigned}")
        }

        fn total(&self) -> (u64, Allocated) {
            let mut t = Allocated::default();
            let mut requests = 0u64;
            for (_, r, a) in &self.rows {
                requests = requests.saturating_add(*r);
                t.direct += a.direct;
                t.allocated += a.allocated;
            }
            (requests, t)
        }

        fn cells(label: Cell, requests: u64, a: &Allocated) -> Vec<Cell> {
            vec![
                label,
                Cell::Count(requests),
                Cell::Money(a.direct),
                Cell::Change(a.allocated),
                Cell::Money(a.total()),
            ]
        }
    }

    impl Render for AllocatedReport<'_> {
        fn sheet(&self, format: Format) -> Sheet {
            let csv = format == Format::Csv;
            let names = if csv {
                ["team", "requests", "direct_cost", "allocated_cost", "cost"]
            } else {
                ["team", "requests", "direct", "allocated", "total"]
            };
            let mut columns = vec![Column::label(names[0])];
            columns.extend(names[1..].iter().map(|n| Column::number(*n)));
            let title = format!(
                "AI spend {}, allocated ({})",
                crate::period::describe(&self.period, self.tz),
                self.describe()
            );
            let title = match format {
                Format::Markdown => markdown::escape(&title),
                _ => crate::sanitize::note(&title),
            };
            let mut sheet = Sheet::new(columns).titled(title);
            for (team, r, a) in &self.rows {
                sheet.push(Self::cells(Cell::text(team), *r, a));
            }
            if !csv {
                let (requests, total) = self.total();
                let label = if format == Format::Markdown {
                    "**total**"
                } else {
                    "total"
                };
                sheet.push(Self::cells(Cell::plain(label), requests, &total));
                sheet.total_row = true;
                if format == Format::Table && !self.unpriced.is_empty() {
                    sheet.note(format!(
                        "{} unpriced usage group(s) are in no team's cost (see `aispend report`)",
                        self.unpriced.len()
                    ));
                }
            }
            sheet
        }

        fn json(&self) -> Value {
            let (requests, total) = self.total();
            let row = |team: Option<&str>, r: u64, a: &Allocated| {
                let mut v = json!({
                    "requests": r,
                    "direct_cost": crate::output::money_exact(a.direct),
                    "allocated_cost": crate::output::money_exact(a.allocated),
                    "cost": crate::output::money_exact(a.total()),
                });
                if let Some(t) = team {
                    v["team"] = json!(t);
                }
                v
            };
            json!({
                "schema": crate::report::render::json::SCHEMA,
                "currency": "USD",
                "timezone": self.tz.name(),
                "period": period_value(&self.period, self.tz),
                "group_by": ["team"],
                "allocation": self.describe(),
                "rows": self.rows.iter().map(|(t, r, a)| row(Some(t), *r, a)).collect::<Vec<_>>(),
                "total": row(None, requests, &total),
                "unpriced": crate::report::render::json::unpriced_value(self.unpriced),
            })
        }
    }
}
