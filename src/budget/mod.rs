//! Budgets: the budgets file (SPEC "Config file"), and the check that turns actual spend and its
//! projection into `ok`, `warn` or `breach` per budget.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::decimal::parse_decimal;
use crate::error::{Error, Result};
use crate::forecast::{self, DailySeries, MethodChoice, Projection};
use crate::report::daily::DailyCosts;
use crate::report::Dim;

pub mod render;

/// The period a budget's limit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetPeriod {
    Month,
    /// ISO week, Monday to Sunday.
    Week,
    Day,
}

impl BudgetPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetPeriod::Month => "month",
            BudgetPeriod::Week => "week",
            BudgetPeriod::Day => "day",
        }
    }

    /// First and last day of the period holding `day`.
    pub fn bounds(self, day: NaiveDate) -> (NaiveDate, NaiveDate) {
        match self {
            BudgetPeriod::Day => (day, day),
            BudgetPeriod::Week => {
                let start = day - Duration::days(day.weekday().num_days_from_monday() as i64);
                (start, start + Duration::days(6))
            }
            BudgetPeriod::Month => {
                let start = day.with_day(1).unwrap_or(day);
                let next = start
                    .checked_add_months(chrono::Months::new(1))
                    .unwrap_or(start);
                (start, next.pred_opt().unwrap_or(start))
            }
        }
    }
}

/// When a budget fails the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// Only when spend so far has reached the limit.
    Actual,
    /// Already when the projected period total reaches it.
    Forecast,
}

/// The dimensions a budget can be scoped by.
pub const SCOPE_DIMS: [&str; 4] = ["team", "project", "provider", "model"];

/// One budget.
#[derive(Debug, Clone)]
pub struct Budget {
    pub name: String,
    pub limit: Decimal,
    pub period: BudgetPeriod,
    /// Scope: dimension → accepted patterns (`*` wildcards); empty means all spend.
    pub scope: Vec<(Dim, Vec<String>)>,
    /// Fraction of the limit at which to warn.
    pub warn_at: Decimal,
    pub fail_on: FailOn,
    /// Also flag a spend anomaly (spike or drop, as `aispend anomalies` finds them) of the budget's scope
    /// on the as-of day: the status is at least `warn`.
    pub anomalies: bool,
    /// Measured on spend after allocation (`[allocation]` in the config): a team's own spend plus its
    /// share of shared and unassigned spend.
    pub allocated: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetsFile {
    #[serde(default)]
    budget: Vec<BudgetSpec>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(v) => vec![v],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetSpec {
    name: String,
    limit: toml::Value,
    #[serde(default)]
    period: Option<String>,
    team: Option<OneOrMany>,
    project: Option<OneOrMany>,
    provider: Option<OneOrMany>,
    model: Option<OneOrMany>,
    #[serde(default)]
    tag: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    warn_at: Option<toml::Value>,
    #[serde(default)]
    fail_on: Option<String>,
    #[serde(default)]
    anomalies: bool,
    #[serde(default)]
    allocated: bool,
}

/// A money or fraction value: a decimal string (`"2500.00"`) or an integer; floats are refused, since
/// they cannot say exactly what they mean.
fn decimal_value(v: &toml::Value, what: &str) -> std::result::Result<Decimal, String> {
    match v {
        toml::Value::String(s) => {
            parse_decimal(s).ok_or_else(|| format!("{what} {s:?} is not a decimal number"))
        }
        toml::Value::Integer(i) => Ok(Decimal::from(*i)),
        other => Err(format!(
            "{what} must be a decimal string such as \"2500.00\", not {other}"
        )),
    }
}

/// Reads and validates a budgets file.
pub fn load(path: &Path) -> Result<Vec<Budget>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse(&text, &path.display().to_string())
}

pub fn parse(text: &str, origin: &str) -> Result<Vec<Budget>> {
    let err = |message: String| Error::Config {
        file: origin.to_string(),
        message,
    };
    let file: BudgetsFile =
        toml::from_str(text).map_err(|e| err(e.to_string().trim_end().to_string()))?;
    if file.budget.is_empty() {
        return Err(err("no [[budget]] entries".into()));
    }
    let mut budgets = Vec::new();
    for (i, spec) in file.budget.into_iter().enumerate() {
        let ctx = format!("budget {} ('{}')", i + 1, spec.name);
        let limit = decimal_value(&spec.limit, "limit").map_err(|m| err(format!("{ctx}: {m}")))?;
        if limit <= Decimal::ZERO {
            return Err(err(format!("{ctx}: limit must be positive")));
        }
        let period = match spec.period.as_deref().unwrap_or("month") {
            "month" => BudgetPeriod::Month,
            "week" => BudgetPeriod::Week,
            "day" => BudgetPeriod::Day,
            other => {
                return Err(err(format!(
                    "{ctx}: period '{other}' is not one of month, week, day"
                )))
            }
        };
        let warn_at = match &spec.warn_at {
            Some(v) => decimal_value(v, "warn_at").map_err(|m| err(format!("{ctx}: {m}")))?,
            None => Decimal::new(8, 1),
        };
        if warn_at <= Decimal::ZERO || warn_at > Decimal::ONE {
            return Err(err(format!(
                "{ctx}: warn_at is a fraction of the limit, above 0 and at most 1 (e.g. \"0.8\")"
            )));
        }
        let fail_on = match spec.fail_on.as_deref().unwrap_or("forecast") {
            "forecast" => FailOn::Forecast,
            "actual" => FailOn::Actual,
            other => {
                return Err(err(format!(
                    "{ctx}: fail_on '{other}' is not \"actual\" or \"forecast\""
                )))
            }
        };
        let mut scope = Vec::new();
        for (dim, values) in [
            (Dim::Team, spec.team),
            (Dim::Project, spec.project),
            (Dim::Provider, spec.provider),
            (Dim::Model, spec.model),
        ] {
            if let Some(v) = values {
                scope.push((dim, v.into_vec()));
            }
        }
        for (key, values) in spec.tag {
            scope.push((Dim::Tag(key), values.into_vec()));
        }
        if spec.allocated && scope.iter().any(|(d, _)| *d != Dim::Team) {
            return Err(err(format!(
                "{ctx}: allocated = true measures a team's spend after allocation: scope it by team only"
            )));
        }
        budgets.push(Budget {
            allocated: spec.allocated,
            name: spec.name,
            limit,
            period,
            scope,
            warn_at,
            fail_on,
            anomalies: spec.anomalies,
        });
    }
    Ok(budgets)
}

/// `ok`, `warn` or `breach`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Ok,
    Warn,
    Breach,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Breach => "breach",
        }
    }
}

/// One budget's result.
#[derive(Debug, Clone)]
pub struct BudgetResult {
    pub budget: Budget,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub projection: Projection,
    pub status: Status,
    /// Why the status is what it is, in words.
    pub reason: String,
    /// The scope's spend anomaly on the as-of day, for a budget with `anomalies = true`.
    pub anomaly: Option<crate::anomalies::Anomaly>,
}

impl BudgetResult {
    pub fn actual(&self) -> Decimal {
        self.projection.actual_to_date
    }

    pub fn forecast(&self) -> Decimal {
        self.projection.forecast
    }

    /// Actual spend as a percentage of the limit, one decimal.
    pub fn used_percent(&self) -> Decimal {
        (self.actual() * Decimal::ONE_HUNDRED / self.budget.limit).round_dp(1)
    }
}

/// The outcome of a check.
#[derive(Debug, Clone)]
pub struct CheckResult {
    pub as_of: NaiveDate,
    pub results: Vec<BudgetResult>,
    /// Warnings about the budgets themselves (a team no rule or record knows).
    pub warnings: Vec<String>,
}

impl CheckResult {
    /// The worst status of all budgets.
    pub fn status(&self) -> Status {
        self.results
            .iter()
            .map(|r| r.status)
            .max()
            .unwrap_or(Status::Ok)
    }
}

/// Whether a daily-costs group (keyed by [`group_dims`]) is inside the budget's scope.
fn scope_matches(budget: &Budget, dims: &[Dim], values: &[String]) -> bool {
    budget.scope.iter().all(|(dim, patterns)| {
        let Some(i) = dims.iter().position(|d| d == dim) else {
            return false;
        };
        let value = values[i].as_str();
        patterns
            .iter()
            .any(|p| wildmatch::WildMatch::new(p).matches(value))
    })
}

/// The dimensions daily costs must be grouped by to evaluate every budget's scope.
pub fn group_dims(budgets: &[Budget]) -> Vec<Dim> {
    let mut dims: Vec<Dim> = Vec::new();
    for b in budgets {
        for (dim, _) in &b.scope {
            if !dims.contains(dim) {
                dims.push(dim.clone());
            }
        }
    }
    dims
}

/// Evaluates every budget against daily costs grouped by `group_dims(budgets)`, as of `as_of`.
/// `known_teams` are the teams that rules or records name: a budget scoped to another team gets a warning.
/// `allocated`: daily cost per team after allocation, for budgets with `allocated = true`.
pub fn check(
    budgets: &[Budget],
    daily: &DailyCosts,
    allocated: Option<&DailyCosts>,
    as_of: NaiveDate,
    known_teams: &[String],
) -> Result<CheckResult> {
    let direct_dims = group_dims(budgets);
    let team_dims = [Dim::Team];
    let mut warnings = Vec::new();
    let mut results = Vec::new();
    for budget in budgets {
        for (dim, patterns) in &budget.scope {
            if *dim == Dim::Team {
                for p in patterns {
                    let matcher = wildmatch::WildMatch::new(p);
                    if !known_teams.iter().any(|t| matcher.matches(t)) {
                        warnings.push(format!(
                            "budget '{}': no team rule or record names team '{p}'",
                            budget.name
                        ));
                    }
                }
            }
        }
        let (daily, dims): (&DailyCosts, &[Dim]) = match (budget.allocated, allocated) {
            (true, Some(a)) => (a, &team_dims),
            (true, None) => {
                return Err(Error::usage(format!(
                    "budget '{}' has allocated = true: the config needs an [allocation] section",
                    budget.name
                )))
            }
            (false, _) => (daily, &direct_dims),
        };
        let (period_start, period_end) = budget.period.bounds(as_of);
        let history_start = daily.first.map_or(period_start, |f| f.min(period_start));
        let mut values =
            vec![Decimal::ZERO; (as_of - history_start).num_days().max(0) as usize + 1];
        for (key, _) in daily
            .groups
            .iter()
            .filter(|(k, _)| scope_matches(budget, dims, k))
        {
            for (v, add) in values
                .iter_mut()
                .zip(daily.series(key, history_start, as_of))
            {
                *v += add;
            }
        }
        let history = DailySeries {
            start: history_start,
            values,
        };
        let projection = forecast::project(
            &history,
            as_of,
            period_start,
            period_end,
            MethodChoice::Auto,
        )?;
        let (mut status, mut reason) = judge(budget, &projection);
        let anomaly = if budget.anomalies {
            anomaly_on(&history, as_of)
        } else {
            None
        };
        if let Some(a) = &anomaly {
            status = status.max(Status::Warn);
            reason = format!(
                "{reason}; spend {} on {}: {} against {} expected (score {})",
                a.kind.as_str(),
                a.day,
                a.cost.round_dp(2),
                a.expected.round_dp(2),
                a.score.map(|s| s.to_string()).unwrap_or_default()
            );
        }
        results.push(BudgetResult {
            anomaly,
            budget: budget.clone(),
            period_start,
            period_end,
            projection,
            status,
            reason,
        });
    }
    Ok(CheckResult {
        as_of,
        results,
        warnings,
    })
}

/// A spike or drop of the scope's daily spend on the as-of day (new spenders are a matter of groups, not
/// of a budget's total).
fn anomaly_on(history: &DailySeries, as_of: NaiveDate) -> Option<crate::anomalies::Anomaly> {
    let rules = crate::anomalies::Rules::default();
    crate::anomalies::detect(
        &history.values,
        history.start,
        as_of,
        as_of,
        history.start,
        &rules,
    )
    .into_iter()
    .find(|a| a.kind != crate::anomalies::Kind::New)
}

/// The rule: breach when the failing figure (actual, or the projected total with `fail_on = forecast`)
/// reaches the limit; warn when actual or forecast reaches `warn_at` × limit, or when the forecast
/// reaches the limit of an `actual` budget; ok otherwise.
fn judge(budget: &Budget, p: &Projection) -> (Status, String) {
    let limit = budget.limit;
    let warn = budget.warn_at * limit;
    let pct = |v: Decimal| (v * Decimal::ONE_HUNDRED / limit).round_dp(0);
    if p.actual_to_date >= limit {
        return (
            Status::Breach,
            format!("spent {}% of the limit", pct(p.actual_to_date)),
        );
    }
    if p.forecast >= limit {
        return match budget.fail_on {
            FailOn::Forecast => (
                Status::Breach,
                format!("forecast to reach {}% of the limit", pct(p.forecast)),
            ),
            FailOn::Actual => (
                Status::Warn,
                format!("forecast to reach {}% of the limit", pct(p.forecast)),
            ),
        };
    }
    if p.actual_to_date >= warn {
        return (
            Status::Warn,
            format!("spent {}% of the limit", pct(p.actual_to_date)),
        );
    }
    if p.forecast >= warn {
        return (
            Status::Warn,
            format!("forecast to reach {}% of the limit", pct(p.forecast)),
        );
    }
    (
        Status::Ok,
        format!("forecast {}% of the limit", pct(p.forecast)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 10, d).unwrap()
    }

    fn one(toml: &str) -> Budget {
        parse(&format!("[[budget]]\nname = \"b\"\n{toml}"), "b.toml")
            .unwrap()
            .remove(0)
    }

    fn projection(actual: Decimal, forecast: Decimal) -> Projection {
        Projection {
            method: forecast::Method::RunRate,
            note: None,
            actual_to_date: actual,
            forecast,
            lower: actual,
            upper: forecast,
            daily: Vec::new(),
            backtest_mape: None,
            interval_origins: 0,
            candidates: Vec::new(),
        }
    }

    #[test]
    fn defaults_are_a_month_warning_at_80_percent_failing_on_the_forecast() {
        let b = one("limit = \"2500.00\"");
        assert_eq!(b.limit, dec!(2500.00));
        assert_eq!(b.period, BudgetPeriod::Month);
        assert_eq!(b.warn_at, dec!(0.8));
        assert_eq!(b.fail_on, FailOn::Forecast);
        assert!(b.scope.is_empty());
        let b = one("limit = 40\nperiod = \"week\"\nwarn_at = \"1\"\nfail_on = \"actual\"");
        assert_eq!(b.limit, dec!(40));
        assert_eq!(b.period, BudgetPeriod::Week);
        assert_eq!(b.warn_at, Decimal::ONE);
        assert_eq!(b.fail_on, FailOn::Actual);
        assert_eq!(one("limit = 1\nperiod = \"day\"").period, BudgetPeriod::Day);
    }

    #[test]
    fn every_scope_dimension_is_read_in_order_with_one_value_or_many() {
        let b = one(
            "limit = 1\nmodel = [\"gpt-4o\", \"claude-*\"]\nproject = \"search-*\"\nteam = \"data\"\n\
             provider = \"openai\"\ntag = { env = \"prod\", tier = [\"a\", \"b\"] }",
        );
        let strs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            b.scope,
            vec![
                (Dim::Team, strs(&["data"])),
                (Dim::Project, strs(&["search-*"])),
                (Dim::Provider, strs(&["openai"])),
                (Dim::Model, strs(&["gpt-4o", "claude-*"])),
                (Dim::Tag("env".into()), strs(&["prod"])),
                (Dim::Tag("tier".into()), strs(&["a", "b"])),
            ]
        );
    }

    #[test]
    fn bad_values_are_refused_with_the_budget_named() {
        for (toml, needle) in [
            ("limit = \"0\"", "budget 1 ('b'): limit must be positive"),
            ("limit = \"-5\"", "limit must be positive"),
            ("limit = 1\nwarn_at = \"0\"", "warn_at is a fraction"),
            ("limit = 1\nwarn_at = \"1.01\"", "warn_at is a fraction"),
            (
                "limit = 1\nwarn_at = 0.5",
                "warn_at must be a decimal string",
            ),
            ("limit = 1\nfail_on = \"never\"", "fail_on 'never' is not"),
            (
                "limit = 1\nperiod = \"year\"",
                "period 'year' is not one of",
            ),
        ] {
            let e = parse(&format!("[[budget]]\nname = \"b\"\n{toml}"), "b.toml")
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{toml}: {e}");
            assert!(e.contains("b.toml"), "{toml}: {e}");
        }
        let e = parse("# nothing\n", "b.toml").unwrap_err().to_string();
        assert!(e.contains("no [[budget]] entries"), "{e}");
    }

    #[test]
    fn periods_hold_the_as_of_day() {
        // 2026-10-15 is a Thursday
        assert_eq!(BudgetPeriod::Day.bounds(day(15)), (day(15), day(15)));
        assert_eq!(BudgetPeriod::Week.bounds(day(15)), (day(12), day(18)));
        assert_eq!(BudgetPeriod::Week.bounds(day(12)), (day(12), day(18)));
        assert_eq!(BudgetPeriod::Week.bounds(day(18)), (day(12), day(18)));
        assert_eq!(BudgetPeriod::Month.bounds(day(15)), (day(1), day(31)));
        let feb = NaiveDate::from_ymd_opt(2028, 2, 10).unwrap();
        assert_eq!(
            BudgetPeriod::Month.bounds(feb),
            (feb.with_day(1).unwrap(), feb.with_day(29).unwrap())
        );
    }

    /// README: breach when actual spend *reached* the limit (or, failing on the forecast, the projected
    /// total did); warn when either reached `warn_at` × limit. Every boundary is inclusive.
    #[test]
    fn spend_exactly_at_a_boundary_counts_as_reaching_it() {
        let forecast_budget = one("limit = \"100\"");
        let actual_budget = one("limit = \"100\"\nfail_on = \"actual\"");
        let cent = dec!(0.01);
        for (budget, actual, forecast, status, reason) in [
            // actual at the limit: breach for both kinds
            (
                &forecast_budget,
                dec!(100),
                dec!(100),
                Status::Breach,
                "spent 100% of the limit",
            ),
            (
                &actual_budget,
                dec!(100),
                dec!(100),
                Status::Breach,
                "spent 100% of the limit",
            ),
            // forecast at the limit: breach only when failing on the forecast
            (
                &forecast_budget,
                dec!(50),
                dec!(100),
                Status::Breach,
                "forecast to reach 100% of the limit",
            ),
            (
                &actual_budget,
                dec!(50),
                dec!(100),
                Status::Warn,
                "forecast to reach 100% of the limit",
            ),
            (
                &actual_budget,
                dec!(100) - cent,
                dec!(100),
                Status::Warn,
                "forecast to reach 100% of the limit",
            ),
            // actual at warn_at × limit = $80
            (
                &forecast_budget,
                dec!(80),
                dec!(80),
                Status::Warn,
                "spent 80% of the limit",
            ),
            (
                &forecast_budget,
                dec!(80) - cent,
                dec!(80) - cent,
                Status::Ok,
                "forecast 80% of the limit",
            ),
            // forecast at $80 while actual is below it
            (
                &forecast_budget,
                dec!(10),
                dec!(80),
                Status::Warn,
                "forecast to reach 80% of the limit",
            ),
            (
                &forecast_budget,
                dec!(10),
                dec!(80) - cent,
                Status::Ok,
                "forecast 80% of the limit",
            ),
            (
                &forecast_budget,
                dec!(10),
                dec!(100) - cent,
                Status::Warn,
                "forecast to reach 100% of the limit",
            ),
            (
                &forecast_budget,
                Decimal::ZERO,
                Decimal::ZERO,
                Status::Ok,
                "forecast 0% of the limit",
            ),
        ] {
            let (s, r) = judge(budget, &projection(actual, forecast));
            assert_eq!(
                (s, r.as_str()),
                (status, reason),
                "{:?} actual {actual} forecast {forecast}",
                budget.fail_on
            );
        }
    }

    /// Daily costs for four groups over 2026-10-01..15, keyed by (project, model, tag env):
    /// $1, $2, $4 and $8 a day, so every sum of groups is a distinct number.
    fn daily(dims: &[Dim]) -> DailyCosts {
        assert_eq!(
            dims,
            [Dim::Project, Dim::Model, Dim::Tag("env".into())],
            "budgets below name project, model, then tag env"
        );
        let mut costs = DailyCosts::default();
        for (values, per_day) in [
            (["search-web", "gpt-4o", "prod"], dec!(1)),
            (["search-api", "gpt-4o-mini", crate::report::NONE], dec!(2)),
            (["billing", "gpt-4o-mini", "prod"], dec!(4)),
            (["research", "gemini-2.5-pro", "dev"], dec!(8)),
        ] {
            let days = (1..=15).map(|d| (day(d), per_day)).collect();
            costs
                .groups
                .insert(values.iter().map(|v| v.to_string()).collect(), days);
        }
        costs.first = Some(day(1));
        costs.last = Some(day(15));
        costs
    }

    #[test]
    fn scopes_match_exact_values_wildcards_and_lists_and_all_must_hold() {
        let budgets = parse(
            r#"
            [[budget]]
            name = "search projects"
            limit = 1000
            project = "search-*"
            [[budget]]
            name = "two models"
            limit = 1000
            model = ["gpt-4o", "gemini-*"]
            [[budget]]
            name = "gpt-4o family"
            limit = 1000
            model = "gpt-4o*"
            [[budget]]
            name = "prod"
            limit = 1000
            tag = { env = "prod" }
            [[budget]]
            name = "search on gpt-4o"
            limit = 1000
            project = "search-*"
            model = "gpt-4o*"
            tag = { env = "prod" }
            [[budget]]
            name = "everything"
            limit = 1000
            "#,
            "b.toml",
        )
        .unwrap();
        let dims = group_dims(&budgets);
        let r = check(&budgets, &daily(&dims), None, day(15), &[]).unwrap();
        let actual: Vec<(&str, Decimal)> = r
            .results
            .iter()
            .map(|r| (r.budget.name.as_str(), r.actual()))
            .collect();
        // 15 days of each group's daily cost
        assert_eq!(
            actual,
            [
                ("search projects", dec!(45)),  // search-web + search-api: (1 + 2) × 15
                ("two models", dec!(135)),      // gpt-4o (not gpt-4o-mini) + gemini: (1 + 8) × 15
                ("gpt-4o family", dec!(105)),   // (1 + 2 + 4) × 15
                ("prod", dec!(75)),             // untagged is not prod: (1 + 4) × 15
                ("search on gpt-4o", dec!(15)), // only search-web on gpt-4o in prod
                ("everything", dec!(225)),      // (1 + 2 + 4 + 8) × 15
            ]
        );
        assert!(r.warnings.is_empty());
        // every budget is far under its $1000 limit and its $800 warning
        assert_eq!(r.status(), Status::Ok);
    }

    #[test]
    fn the_worst_budget_decides_and_unknown_teams_are_warned_about() {
        let budgets = parse(
            "[[budget]]\nname = \"small\"\nlimit = 225\n\n[[budget]]\nname = \"big\"\nlimit = 10000\n\n\
             [[budget]]\nname = \"typo\"\nlimit = 10000\nteam = [\"sea*\", \"serach\"]\n",
            "b.toml",
        )
        .unwrap();
        let mut costs = DailyCosts::default();
        let days = (1..=15).map(|d| (day(d), dec!(15))).collect();
        costs.groups.insert(vec!["search".into()], days);
        costs.first = Some(day(1));
        let r = check(&budgets, &costs, None, day(15), &["search".to_string()]).unwrap();
        // $15 a day for 15 days = $225: exactly the small limit
        assert_eq!(r.results[0].actual(), dec!(225));
        assert_eq!(r.results[0].status, Status::Breach);
        assert_eq!(r.results[0].used_percent(), dec!(100.0));
        assert_eq!(r.results[1].status, Status::Ok);
        assert_eq!(r.results[2].actual(), dec!(225));
        assert_eq!(r.status(), Status::Breach);
        assert_eq!(
            r.warnings,
            ["budget 'typo': no team rule or record names team 'serach'"]
        );
    }
}
