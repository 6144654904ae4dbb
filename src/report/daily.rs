//! Daily cost per group: the series that forecasts and budget checks work on, built by the same
//! aggregation as a report (attribution, per-request pricing, filters, deduplication), grouped by the
//! requested dimensions plus `day`.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::{Dim, Filter, Report, ReportQuery, SortBy, UnpricedRow};
use crate::period::PeriodSpec;

/// How many days of history before the as-of date are read: enough for rolling-origin backtests of a
/// month-end forecast.
pub const HISTORY_DAYS: i64 = 182;

/// Cost per day of each group.
#[derive(Debug, Clone, Default)]
pub struct DailyCosts {
    /// Dimension values of each group (without the day) → cost per day (days without cost are absent).
    pub groups: BTreeMap<Vec<String>, BTreeMap<NaiveDate, Decimal>>,
    /// The first and last day with any record.
    pub first: Option<NaiveDate>,
    pub last: Option<NaiveDate>,
    pub unpriced: Vec<UnpricedRow>,
}

impl DailyCosts {
    /// The group's costs from `start` through `end`, one value per day, zero-filled.
    pub fn series(&self, values: &[String], start: NaiveDate, end: NaiveDate) -> Vec<Decimal> {
        let days = self.groups.get(values);
        let mut out = Vec::new();
        let mut d = start;
        while d <= end {
            out.push(days.and_then(|m| m.get(&d)).copied().unwrap_or_default());
            d += Duration::days(1);
        }
        out
    }
}

/// The query that collects daily costs: `dims` + `day`, over the history before `as_of` (all time when
/// unknown).
pub fn daily_query(
    dims: &[Dim],
    filters: Vec<Filter>,
    tz: Tz,
    as_of: Option<NaiveDate>,
) -> ReportQuery {
    let mut group_by = dims.to_vec();
    group_by.push(Dim::Day);
    let period = match as_of {
        Some(d) => PeriodSpec::Dates {
            since: d - Duration::days(HISTORY_DAYS),
            until: d,
        },
        None => PeriodSpec::Dates {
            since: NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN),
            until: NaiveDate::from_ymd_opt(9999, 12, 30).unwrap_or(NaiveDate::MAX),
        },
    };
    ReportQuery {
        group_by,
        filters,
        period,
        tz,
        top: None,
        compare: false,
        sort: SortBy::Name,
        reconcile: false,
    }
}

/// Turns a report grouped by `dims` + `day` into daily series.
pub fn from_report(report: Report) -> DailyCosts {
    let mut daily = DailyCosts {
        unpriced: report.unpriced,
        ..DailyCosts::default()
    };
    for mut row in report.rows {
        let Some(day) = row
            .values
            .pop()
            .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
        else {
            continue;
        };
        daily.first = Some(daily.first.map_or(day, |f| f.min(day)));
        daily.last = Some(daily.last.map_or(day, |l| l.max(day)));
        *daily
            .groups
            .entry(row.values)
            .or_default()
            .entry(day)
            .or_default() += row.totals.cost;
    }
    daily
}
