//! `--format html`: one self-contained page (inline CSS, SVG and script, nothing fetched) for people
//! who will not read a terminal table: headline figures, a daily chart with the forecast cone, the
//! sortable breakdown, top movers, unpriced usage, budgets and reconciliation.
//!
//! The page is a maud template: every value spliced into it is HTML-escaped by the template engine,
//! in text and in attributes alike, so a model, team or tag name can never become markup or script.
//! The script only reads the page (`textContent`, data attributes) and never writes markup. Like every
//! renderer it only formats what the report, forecast, budget and reconcile computations produced.

use std::io::Write;

use chrono::NaiveDate;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use rust_decimal::Decimal;

use super::{fallback_footnote, FALLBACK_MARK};
use crate::budget::{CheckResult, Status};
use crate::forecast::Projection;
use crate::output::{count_human, money_exact, money_human, Format, Render};
use crate::report::reconcile::{Line, Match};
use crate::report::{change_percent, Dim, Report, Row, Totals, OTHER};

pub mod chart;

use chart::{axis_ticks, scale, DailyChart};

const CSS: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// Nothing may be fetched: no network, no files; only the page's own style and script run.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

/// How many rows "top movers" lists.
const MOVERS: usize = 5;

/// The period-end projection shown when the period is not over.
#[derive(Debug, Clone)]
pub struct PeriodForecast {
    pub as_of: NaiveDate,
    pub end: NaiveDate,
    pub projection: Projection,
}

/// Computed against invoiced cost, per group (see [`crate::report::reconcile`]).
#[derive(Debug, Clone)]
pub struct Reconciliation {
    pub group_by: Vec<Dim>,
    pub lines: Vec<Line>,
    pub tolerance: Decimal,
}

/// Everything the page shows, computed before rendering.
pub struct HtmlReport<'a> {
    pub report: &'a Report,
    /// The daily chart, stacked by `chart_dim` (none: one series).
    pub chart: Option<DailyChart>,
    pub chart_dim: Option<Dim>,
    pub forecast: Option<PeriodForecast>,
    pub budgets: Option<&'a CheckResult>,
    pub reconciliation: Option<Reconciliation>,
}

/// Writes the page.
pub fn render(page: &HtmlReport<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    out.write_all(page.markup().into_string().as_bytes())?;
    out.write_all(b"\n")
}

fn signed_money(d: Decimal) -> String {
    let sign = if d > Decimal::ZERO { "+" } else { "" };
    format!("{sign}{}", money_human(d))
}

fn percent_text(now: Decimal, previous: Decimal) -> String {
    match change_percent(now, previous) {
        Some(p) if p > Decimal::ZERO => format!("+{p}%"),
        Some(p) => format!("{p}%"),
        None => "new".into(),
    }
}

fn dims_text(dims: &[Dim]) -> String {
    dims.iter().map(Dim::name).collect::<Vec<_>>().join(", ")
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Warn => "warn",
        Status::Breach => "breach",
    }
}

/// A number cell of a sortable table: shown text, exact value for sorting.
fn num_cell(shown: &str, sort: &str) -> Markup {
    html! { td.num data-v=(sort) { (shown) } }
}

impl HtmlReport<'_> {
    /// Whether the previous period had any usage to compare with (else the change columns and top
    /// movers would only repeat this period's figures as "new").
    fn compare(&self) -> bool {
        self.report
            .total_previous
            .as_ref()
            .is_some_and(|p| !p.is_empty())
    }

    fn period_text(&self) -> String {
        crate::period::describe(&self.report.period, self.report.tz)
    }

    fn markup(&self) -> Markup {
        let r = self.report;
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta http-equiv="Content-Security-Policy" content=(CSP);
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    meta name="generator" content=(concat!("aispend ", env!("CARGO_PKG_VERSION")));
                    title { "AI spend " (self.period_text()) }
                    style { (PreEscaped(CSS)) }
                }
                body {
                    header {
                        h1 { "AI spend report" }
                        p.sub {
                            (self.period_text()) " · by " (dims_text(&r.group_by))
                            " · " (count_human(r.total.requests)) " requests"
                        }
                    }
                    (self.headline())
                    @if let Some(chart) = &self.chart { (self.chart_section(chart)) }
                    (self.breakdown())
                    (self.movers())
                    (self.unpriced())
                    @if let Some(c) = self.budgets { (budgets(c)) }
                    @if let Some(rec) = &self.reconciliation { (reconciliation(rec)) }
                    footer {
                        @if let Some(note) = fallback_footnote(r) { p { (note) } }
                        p {
                            "Costs are computed per request from the price in force at the time of each \
                             request, in " (r.currency) ". Usage with no price is listed as unpriced and \
                             never counted as $0."
                        }
                    }
                    div #tip role="tooltip" hidden {}
                    script { (PreEscaped(SCRIPT)) }
                }
            }
        }
    }

    fn headline(&self) -> Markup {
        let r = self.report;
        let t = &r.total;
        html! {
            section #headline {
                h2 { "Summary" }
                div.cards {
                    div.card {
                        div.label { "Spent" }
                        div.figure #total-spent data-cost=(money_exact(t.cost)) { (money_human(t.cost)) }
                        div.note { (self.period_text()) }
                    }
                    @if let (Some(prev), false) = (&r.previous_period, self.compare()) {
                        div.card {
                            div.label { "Change vs previous period" }
                            div.figure { "-" }
                            div.note { "no usage in " (crate::period::describe(prev, r.tz)) }
                        }
                    }
                    @if let (Some(p), Some(prev), true) = (&r.total_previous, &r.previous_period, self.compare()) {
                        div.card {
                            div.label { "Change vs previous period" }
                            div.figure #total-change data-cost=(money_exact(t.cost - p.cost)) {
                                (signed_money(t.cost - p.cost))
                            }
                            div.note {
                                (percent_text(t.cost, p.cost)) " against " (money_human(p.cost))
                                " (" (crate::period::describe(prev, r.tz)) ")"
                            }
                        }
                    }
                    @if let Some(f) = &self.forecast {
                        div.card {
                            div.label { "Forecast to " (f.end) }
                            div.figure #forecast data-cost=(money_exact(f.projection.forecast)) {
                                (money_human(f.projection.forecast))
                            }
                            div.note {
                                "80% interval " (money_human(f.projection.lower)) " – "
                                (money_human(f.projection.upper)) "; as of " (f.as_of)
                                ", method " (f.projection.method.as_str())
                            }
                        }
                    }
                    @if let Some(c) = self.budgets {
                        @for b in &c.results {
                            div.card.budget {
                                div.label { "Budget " (b.budget.name) }
                                div.figure {
                                    span class={ "status " (status_class(b.status)) } { (b.status.as_str()) }
                                }
                                div.note {
                                    (money_human(b.actual())) " of " (money_human(b.budget.limit))
                                    " (" (b.used_percent()) "%); " (b.reason)
                                }
                            }
                        }
                    }
                    @if !r.unpriced.is_empty() {
                        @let models = unpriced_models(r);
                        div.card.unpriced-card {
                            div.label { "Unpriced usage" }
                            div.figure { (models.len()) @if models.len() == 1 { " model" } @else { " models" } }
                            div.note {
                                (models.join(", ")) ": no price, so not counted in the spend above (see below)"
                            }
                        }
                    }
                }
            }
        }
    }

    fn chart_section(&self, chart: &DailyChart) -> Markup {
        // SVG pixel geometry only: every amount drawn or written stays Decimal (see `chart::scale`).
        const W: f64 = 960.0;
        const H: f64 = 300.0;
        const LEFT: f64 = 72.0;
        const RIGHT: f64 = 12.0;
        const TOP: f64 = 12.0;
        const BOTTOM: f64 = 28.0;
        let plot_w = W - LEFT - RIGHT;
        let plot_h = H - TOP - BOTTOM;
        let n = (chart.days.len() + chart.forecast.len()).max(1);
        let slot = plot_w / n as f64;
        let bar = (slot * 0.8).max(1.0);
        let ticks = axis_ticks(chart.max());
        let top = ticks.last().copied().unwrap_or(Decimal::ONE);
        let y = |v: Decimal| TOP + plot_h - scale(v, top, plot_h);
        let x = |i: usize| LEFT + slot * i as f64;
        let px = |v: f64| format!("{v:.1}");
        let label_every = n.div_ceil(12);
        let all_days: Vec<NaiveDate> = chart
            .days
            .iter()
            .copied()
            .chain(chart.forecast.iter().map(|f| f.day))
            .collect();
        // Per series, the base of each bar: the sum of the series below it.
        let mut base = vec![Decimal::ZERO; chart.days.len()];
        let mut stacked: Vec<Vec<(usize, Decimal, Decimal)>> = Vec::new();
        for s in &chart.series {
            let mut bars = Vec::new();
            for (i, v) in s.values.iter().enumerate() {
                if *v > Decimal::ZERO {
                    bars.push((i, base[i], *v));
                    base[i] += *v;
                }
            }
            stacked.push(bars);
        }
        let dim_name = self
            .chart_dim
            .as_ref()
            .map_or_else(|| "total".to_string(), Dim::name);
        let forecast_start = chart.days.len();
        let cone: String = {
            let upper = chart
                .forecast
                .iter()
                .enumerate()
                .map(|(i, f)| (x(forecast_start + i) + slot / 2.0, y(f.upper)));
            let lower = chart
                .forecast
                .iter()
                .enumerate()
                .rev()
                .map(|(i, f)| (x(forecast_start + i) + slot / 2.0, y(f.lower)));
            upper
                .chain(lower)
                .map(|(a, b)| format!("{},{}", px(a), px(b)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mid_line: String = chart
            .forecast
            .iter()
            .enumerate()
            .map(|(i, f)| {
                format!(
                    "{},{}",
                    px(x(forecast_start + i) + slot / 2.0),
                    px(y(f.mid))
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        html! {
            section #chart {
                h2 { "Daily spend by " (dim_name) }
                svg #daily viewBox={ "0 0 " (W) " " (H) } role="img"
                    aria-label={ "Daily spend by " (dim_name) ", stacked" } {
                    g.axis {
                        @for t in &ticks {
                            line x1=(px(LEFT)) x2=(px(W - RIGHT)) y1=(px(y(*t))) y2=(px(y(*t))) {}
                            text x=(px(LEFT - 6.0)) y=(px(y(*t) + 4.0)) text-anchor="end" {
                                (money_human(*t).trim_end_matches(".00"))
                            }
                        }
                        @for (i, d) in all_days.iter().enumerate() {
                            @if i % label_every == 0 {
                                text x=(px(x(i) + slot / 2.0)) y=(px(H - 8.0)) text-anchor="middle" {
                                    (d.format("%b %-d").to_string())
                                }
                            }
                        }
                    }
                    @for (s, bars) in chart.series.iter().zip(&stacked) {
                        g.series data-series=(s.name) fill=(s.colour) {
                            @for (i, b, v) in bars {
                                rect x=(px(x(*i) + (slot - bar) / 2.0)) y=(px(y(*b + *v)))
                                    width=(px(bar)) height=(px((y(*b) - y(*b + *v)).max(0.5)))
                                    data-v=(money_exact(*v)) {}
                            }
                        }
                    }
                    @if !chart.forecast.is_empty() {
                        g.forecast {
                            polygon.cone points=(cone) {}
                            @for (i, f) in chart.forecast.iter().enumerate() {
                                rect.fbar x=(px(x(forecast_start + i) + (slot - bar) / 2.0))
                                    y=(px(y(f.mid))) width=(px(bar))
                                    height=(px((y(Decimal::ZERO) - y(f.mid)).max(0.5))) {}
                            }
                            polyline.mid points=(mid_line) {}
                            line.asof x1=(px(x(forecast_start))) x2=(px(x(forecast_start)))
                                y1=(px(TOP)) y2=(px(TOP + plot_h)) {}
                        }
                    }
                    g.hits {
                        @for (i, d) in chart.days.iter().enumerate() {
                            rect.hit x=(px(x(i))) y=(px(TOP)) width=(px(slot)) height=(px(plot_h)) {
                                title { (day_summary(chart, i, *d)) }
                            }
                        }
                        @for (i, f) in chart.forecast.iter().enumerate() {
                            rect.hit x=(px(x(forecast_start + i))) y=(px(TOP)) width=(px(slot))
                                height=(px(plot_h)) {
                                title {
                                    (f.day) " (forecast)\n" (money_human(f.mid)) ", 80% interval "
                                    (money_human(f.lower)) " – " (money_human(f.upper))
                                }
                            }
                        }
                    }
                }
                ul.legend {
                    @for s in &chart.series {
                        li data-series=(s.name) {
                            span.swatch style={ "background:" (s.colour) } {}
                            (s.name) " " span.muted { (money_human(s.values.iter().copied().sum())) }
                        }
                    }
                    @if !chart.forecast.is_empty() {
                        li { span.swatch.fc {} "forecast" }
                        li { span.swatch.cone-swatch {} "80% interval (each day's share of the period's)" }
                    }
                }
                p.sub.print-hide { "Hover over a day for its figures." }
            }
        }
    }

    fn breakdown(&self) -> Markup {
        let r = self.report;
        let compare = self.compare();
        let reported = r.has_reported();
        let failed = r.total.failed_requests > 0;
        let share = |t: &Totals| {
            if r.total.cost.is_zero() {
                "-".to_string()
            } else {
                format!(
                    "{}%",
                    (t.cost * Decimal::ONE_HUNDRED / r.total.cost).round_dp(1)
                )
            }
        };
        let cells = |t: &Totals, previous: Option<&Totals>| {
            html! {
                (num_cell(&count_human(t.requests), &t.requests.to_string()))
                @if failed { (num_cell(&count_human(t.failed_requests), &t.failed_requests.to_string())) }
                (num_cell(&count_human(t.input_tokens), &t.input_tokens.to_string()))
                (num_cell(&count_human(t.cache_read_tokens), &t.cache_read_tokens.to_string()))
                (num_cell(&count_human(t.cache_write_tokens), &t.cache_write_tokens.to_string()))
                (num_cell(&count_human(t.output_tokens), &t.output_tokens.to_string()))
                (num_cell(&match t.fallback_records {
                    0 => money_human(t.cost),
                    _ => format!("{} {FALLBACK_MARK}", money_human(t.cost)),
                }, &money_exact(t.cost)))
                (num_cell(&share(t), &money_exact(t.cost)))
                @if reported {
                    @match t.reported() {
                        Some(c) => (num_cell(&money_human(c), &money_exact(c))),
                        None => (num_cell("-", "")),
                    }
                }
                @if compare {
                    @let p = previous.map(|p| p.cost).unwrap_or_default();
                    (num_cell(&money_human(p), &money_exact(p)))
                    (num_cell(&signed_money(t.cost - p), &money_exact(t.cost - p)))
                    (num_cell(&percent_text(t.cost, p), &change_percent(t.cost, p).map(|c| c.to_string()).unwrap_or_default()))
                }
            }
        };
        html! {
            section #breakdown {
                h2 { "Breakdown by " (dims_text(&r.group_by)) }
                div.scroll { table.sortable {
                    thead {
                        tr {
                            @for d in &r.group_by { th data-type="text" { (d.name()) } }
                            th.num data-type="num" { "requests" }
                            @if failed { th.num data-type="num" { "failed" } }
                            th.num data-type="num" { "input" }
                            th.num data-type="num" { "cache read" }
                            th.num data-type="num" { "cache write" }
                            th.num data-type="num" { "output" }
                            th.num data-type="num" aria-sort="descending" { "cost" }
                            th.num data-type="num" { "share" }
                            @if reported { th.num data-type="num" { "reported" } }
                            @if compare {
                                th.num data-type="num" { "previous" }
                                th.num data-type="num" { "change" }
                                th.num data-type="num" { "change %" }
                            }
                        }
                    }
                    tbody {
                        @for row in &r.rows {
                            tr {
                                @for v in &row.values { td data-v=(v) { (v) } }
                                (cells(&row.totals, row.previous.as_ref()))
                            }
                        }
                    }
                    tfoot {
                        tr #total-row {
                            th colspan=(r.group_by.len()) { "total" }
                            (cells(&r.total, r.total_previous.as_ref()))
                        }
                    }
                } }
                p.sub.print-hide { "Click a column heading to sort by it." }
            }
        }
    }

    fn movers(&self) -> Markup {
        let r = self.report;
        if !self.compare() {
            return html! {};
        }
        let mut rows: Vec<&Row> = r
            .rows
            .iter()
            .filter(|row| row.values.iter().all(|v| v != OTHER))
            .filter(|row| row.change().is_some_and(|c| !c.is_zero()))
            .collect();
        rows.sort_by(|a, b| {
            let abs = |row: &Row| row.change().unwrap_or_default().abs();
            abs(b).cmp(&abs(a)).then_with(|| a.values.cmp(&b.values))
        });
        rows.truncate(MOVERS);
        html! {
            section #movers {
                h2 { "Top movers against the previous period" }
                @if rows.is_empty() {
                    p { "No group changed." }
                } @else {
                    table {
                        thead { tr {
                            @for d in &r.group_by { th { (d.name()) } }
                            th.num { "previous" } th.num { "now" } th.num { "change" } th.num { "change %" }
                        } }
                        tbody {
                            @for row in &rows {
                                @let p = row.previous.as_ref().map(|p| p.cost).unwrap_or_default();
                                tr {
                                    @for v in &row.values { td { (v) } }
                                    td.num { (money_human(p)) }
                                    td.num { (money_human(row.totals.cost)) }
                                    td.num class={ "num " (if row.totals.cost > p { "up" } else { "down" }) } {
                                        (signed_money(row.totals.cost - p))
                                    }
                                    td.num { (percent_text(row.totals.cost, p)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    fn unpriced(&self) -> Markup {
        let u = &self.report.unpriced;
        if u.is_empty() {
            return html! {};
        }
        html! {
            section #unpriced {
                h2 { "Unpriced usage" }
                p {
                    "These records name a model with no price in the tables in use. Their cost is unknown: it \
                     is not counted as $0 in any figure above. Add a price with --pricing, or see "
                    code { "aispend pricing missing" } "."
                }
                table {
                    thead { tr {
                        th { "provider" } th { "model" } th { "reason" } th.num { "requests" }
                        th.num { "input" } th.num { "output" } th.num { "cost" } th.num { "reported" }
                    } }
                    tbody {
                        @for row in u {
                            tr {
                                td { (row.provider) } td { (row.model) } td { (row.reason) }
                                td.num { (count_human(row.totals.requests)) }
                                td.num { (count_human(row.totals.input_tokens)) }
                                td.num { (count_human(row.totals.output_tokens)) }
                                td.num.muted { "unpriced" }
                                td.num { (row.totals.reported().map_or_else(|| "-".to_string(), money_human)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The distinct names of the models without a price.
fn unpriced_models(r: &Report) -> Vec<&str> {
    let mut models: Vec<&str> = r.unpriced.iter().map(|u| u.model.as_str()).collect();
    models.sort_unstable();
    models.dedup();
    models
}

/// A day's figures, for the hover and the static `<title>` tooltip.
fn day_summary(chart: &DailyChart, i: usize, day: NaiveDate) -> String {
    let mut text = format!("{day}: {}", money_human(chart.day_total(i)));
    for s in chart.series.iter().rev() {
        if let Some(v) = s.values.get(i).filter(|v| !v.is_zero()) {
            text.push_str(&format!("\n{}: {}", s.name, money_human(*v)));
        }
    }
    text
}

/// The budgets as `aispend budget check` shows them in a terminal, through the output layer's HTML
/// writer, with the check's warnings after them.
fn budgets(c: &CheckResult) -> Markup {
    let mut sheet = c.sheet(Format::Table);
    sheet
        .notes
        .extend(c.warnings.iter().map(|w| format!("warning: {w}")));
    crate::output::html::section(&sheet, "budgets")
}

fn reconciliation(rec: &Reconciliation) -> Markup {
    let shown: Vec<&Line> = rec
        .lines
        .iter()
        .filter(|l| l.status != Match::UsageOnly)
        .collect();
    let usage_only = rec.lines.len() - shown.len();
    let mismatches = shown.iter().filter(|l| l.status == Match::Mismatch).count();
    let tol = format!("{}%", (rec.tolerance * Decimal::ONE_HUNDRED).normalize());
    html! {
        section #reconciliation {
            h2 { "Reconciliation with invoices" }
            p {
                "Computed cost beside the provider-invoiced amount, by " (dims_text(&rec.group_by))
                ", tolerance " (tol) ": " (mismatches) " mismatch(es)."
                @if usage_only > 0 {
                    " " (usage_only) " group(s) with usage but no invoiced amount are not shown."
                }
            }
            table.sortable {
                thead { tr {
                    @for d in &rec.group_by { th data-type="text" { (d.name()) } }
                    th.num data-type="num" { "computed" } th.num data-type="num" { "invoiced" }
                    th.num data-type="num" { "difference" } th.num data-type="num" { "difference %" }
                    th data-type="text" { "status" }
                } }
                tbody {
                    @for l in &shown {
                        tr {
                            @for v in &l.values { td data-v=(v) { (v) } }
                            (num_cell(&money_human(l.computed), &money_exact(l.computed)))
                            @match l.invoiced {
                                Some(i) => (num_cell(&money_human(i), &money_exact(i))),
                                None => (num_cell("-", "")),
                            }
                            @match l.difference() {
                                Some(d) => (num_cell(&signed_money(d), &money_exact(d))),
                                None => (num_cell("-", "")),
                            }
                            @match l.difference_percent() {
                                Some(p) => (num_cell(&format!("{p}%"), &p.to_string())),
                                None => (num_cell("-", "")),
                            }
                            td data-v=(l.status.as_str()) class={ "status-cell " (l.status.as_str().replace(' ', "-")) } {
                                (l.status.as_str())
                                @if l.unpriced_records > 0 { " (" (l.unpriced_records) " unpriced)" }
                            }
                        }
                    }
                }
            }
        }
    }
}
