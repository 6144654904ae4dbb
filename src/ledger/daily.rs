//! `daily_cost`: a priced table for dashboards (Grafana, Metabase, a SQL client) that read the ledger
//! directly. One row per UTC day and (provider, model, source, team, project, workspace, service
//! tier), with the token sums and the cost computed with the price tables in force when it was written:
//! each import rewrites the days it touched, in its own transaction, and `aispend ledger reprice`
//! rewrites every day after a price-table (or team-rule) change.
//!
//! The rows are a report: `aispend report --by day,provider,model,source,team,project,workspace,
//! service_tier --timezone UTC` over the same days gives the same figures (unpriced records stay in
//! their rows, counted in `unpriced_records`, as in a reconciliation).

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::TeamRules;
use crate::error::Result;
use crate::period::PeriodSpec;
use crate::pricing::PriceBook;
use crate::report::aggregate::Aggregator;
use crate::report::{Dim, ReportQuery, SortBy, Totals, NONE};

/// What prices `daily_cost`: the price tables and the team rules of the run that writes it.
pub struct Pricing {
    pub book: PriceBook,
    pub rules: TeamRules,
}

/// The dimensions of a row, in column order after `day`.
const DIMS: [Dim; 7] = [
    Dim::Provider,
    Dim::Model,
    Dim::Source,
    Dim::Team,
    Dim::Project,
    Dim::Workspace,
    Dim::ServiceTier,
];

/// The columns of `daily_cost` a backend writes, in [`DailyRow`] order.
pub(super) const COLUMNS: &str =
    "day, provider, model, source, team, project, workspace, service_tier, \
    requests, failed_requests, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, \
    reasoning_tokens, cost, unpriced_records, reported_cost, currency";

/// One row of `daily_cost`.
pub(super) struct DailyRow {
    pub day: NaiveDate,
    /// provider, model, source, team, project, workspace, service tier (`None`: the record had none).
    pub dims: [Option<String>; 7],
    pub totals: Totals,
    pub currency: &'static str,
}

impl DailyRow {
    /// The whole-number columns after the dimensions, in [`COLUMNS`] order (cost and currency apart).
    pub fn counts(&self) -> [i64; 7] {
        let t = &self.totals;
        [
            t.requests,
            t.failed_requests,
            t.input_tokens,
            t.cache_read_tokens,
            t.cache_write_tokens,
            t.output_tokens,
            t.reasoning_tokens,
        ]
        .map(|v| v.min(i64::MAX as u64) as i64)
    }

    pub fn unpriced(&self) -> i64 {
        self.totals.unpriced_records.min(i64::MAX as u64) as i64
    }

    /// The provider-reported cost, when any record carried one.
    pub fn reported(&self) -> Option<String> {
        (self.totals.reported_records > 0).then(|| self.totals.reported_cost.to_string())
    }
}

/// The UTC days from the one holding `first` through the one holding `last` (milliseconds).
pub(super) fn days_between(first: i64, last: i64) -> Option<(NaiveDate, NaiveDate)> {
    let day = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms).map(|t| t.date_naive());
    Some((day(first.min(last))?, day(first.max(last))?))
}

/// The rows of `days` (inclusive), from a backend's `feed` (rollup first, records when it cannot serve).
pub(super) fn compute(
    pricing: &Pricing,
    days: (NaiveDate, NaiveDate),
    feed: &mut dyn FnMut(&mut Aggregator<'_>) -> Result<()>,
) -> Result<Vec<DailyRow>> {
    let mut group_by = vec![Dim::Day];
    group_by.extend(DIMS.iter().cloned());
    let query = ReportQuery {
        group_by,
        filters: Vec::new(),
        period: PeriodSpec::Dates {
            since: days.0,
            until: days.1,
        },
        tz: chrono_tz::UTC,
        top: None,
        compare: false,
        reconcile: true,
        sort: SortBy::Name,
    };
    let mut agg = Aggregator::new(&query, &pricing.rules, &pricing.book, false, None);
    feed(&mut agg)?;
    let report = agg.finish();
    let mut rows = Vec::with_capacity(report.rows.len());
    for row in report.rows {
        let mut values = row.values.into_iter();
        let Some(day) = values
            .next()
            .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
        else {
            continue;
        };
        let dims = std::array::from_fn(|_| values.next().filter(|v| v != NONE));
        rows.push(DailyRow {
            day,
            dims,
            totals: row.totals,
            currency: report.currency,
        });
    }
    Ok(rows)
}

/// What `aispend ledger reprice` did.
#[derive(Debug, Clone, Default)]
pub struct Repriced {
    /// The first and last day rewritten (`None`: an empty ledger).
    pub days: Option<(NaiveDate, NaiveDate)>,
    pub rows: u64,
    /// The total cost before and after.
    pub before: rust_decimal::Decimal,
    pub after: rust_decimal::Decimal,
}
