//! `aispend health`: failures, latency, what failures and retries cost, brownout windows and a failover
//! what-if, per group.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::usage::{feed_records, InputArgs, Scope, ScopeArgs};
use super::Context;
use crate::config::TeamRules;
use crate::error::{Error, Result};
use crate::health::whatif::{failover, Failover, Fallback};
use crate::health::{
    brownouts, find_retries, summarize, GroupHealth, Request, Window, WindowRules,
    RETRY_WINDOW_SECS,
};
use crate::input::{Accepted, RecordSink};
use crate::output::{count_human, markdown, money_exact, table};
use crate::output::{Cell, Column, Format, Sheet};
use crate::period::{describe, Period};
use crate::pricing::{Priced, Pricer};
use crate::record::{FailureClass, UsageRecord};
use crate::report::aggregate::{canonical_model, passes};
use crate::report::{Dim, Filter};

const AFTER_HELP: &str = "\
Examples:
  aispend health fixtures/demo/api-logs fixtures/demo-incident     the demo month, with its brownout
  aispend health --by provider --bucket 1h --max-failure-rate 5%     exit 1 when a provider fails > 5%
  aispend health --fallback anthropic=bedrock --format json          brownouts, priced on Bedrock instead
  aispend health --fallback claude-sonnet-4-5=gpt-4.1 --all          every request of each window moved

Groups are --by provider,model unless told otherwise. Reads request-level records that carry an outcome (API logs, LiteLLM and OpenRouter records: a status,
a failure or a latency); bucketed usage exports carry none and are left out.

Failure classes: rate_limit (429), overloaded (529, 503), server_error (other 5xx), timeout (408, 504,
524), client_error (other 4xx), other (failed, no status or error type). Latency percentiles are of the
successful requests. A failed request bills nothing unless it produced output before failing (a stream
cut off).

Retries: a request whose log names its attempt (`attempt` > 1) or the request it repeats (`retry_of`):
rule `envelope`; otherwise, a request from the same caller (API key, else user, project, team) to the
same model, with the same prompt size when both are known, within 60 s after a failed request no other
request was matched to: rule `heuristic`.

Brownout windows: each group's requests are cut into --bucket buckets. A bucket is degraded when its
failure rate exceeds the median bucket's by more than --threshold robust standard deviations (1.4826 x
the median absolute deviation of the buckets with 3 or more requests), and by at least 10 percentage
points with 2 failures or more; or when the p95 latency of its successful requests (3 or more) exceeds
the median bucket p95 the same way, and by at least half of it. --min-buckets degraded buckets in a row
make a window.

--fallback FROM=TO (a provider or a model on each side) prices each window's failed requests of FROM
(with --all: all of its requests) on TO, through the pricing engine, at the window's dates. A failed
request billed nothing, so its size is its retry's, else the mean successful request of its group.";

/// Failures, latency, cost of failures and retries, brownout windows, failover what-if
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Width of the time buckets brownout windows are made of: 5m, 15m, 1h (any Nm or Nh)
    #[arg(long, value_name = "WIDTH", default_value = "15m", value_parser = parse_bucket)]
    pub bucket: Duration,
    /// How many robust standard deviations above its group's baseline a bucket must be to be degraded
    #[arg(long, value_name = "K", default_value = "4")]
    pub threshold: Decimal,
    /// Degraded buckets in a row that make a brownout window
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    pub min_buckets: u16,
    /// Price each window's failed requests of FROM on TO instead (a provider or a model on each side,
    /// e.g. anthropic=bedrock, claude-sonnet-4-5=gpt-4.1)
    #[arg(long, value_name = "FROM=TO", value_parser = Fallback::parse)]
    pub fallback: Option<Fallback>,
    /// With --fallback: move every request of the window, not only the failed ones
    #[arg(long, requires = "fallback")]
    pub all: bool,
    /// Exit with code 1 when a group's failure rate is above this (`5%` or `0.05`), for CI
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    pub max_failure_rate: Option<Decimal>,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub input: InputArgs,
}

fn parse_bucket(s: &str) -> std::result::Result<Duration, String> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = n
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("'{s}' is not a bucket width: expected 5m, 15m or 1h"))?;
    match unit {
        "m" => Ok(Duration::minutes(n)),
        "h" => Ok(Duration::hours(n)),
        _ => Err(format!(
            "'{s}' is not a bucket width: expected 5m, 15m or 1h"
        )),
    }
}

fn parse_rate(s: &str) -> std::result::Result<Decimal, String> {
    let bad = || format!("'{s}' is not a rate: expected a percentage (5%) or a fraction (0.05)");
    let t = s.trim();
    let rate = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<Decimal>().map_err(|_| bad())? / Decimal::ONE_HUNDRED,
        None => t.parse::<Decimal>().map_err(|_| bad())?,
    };
    if rate < Decimal::ZERO || rate > Decimal::ONE {
        return Err(bad());
    }
    Ok(rate)
}

fn bucket_name(d: Duration) -> String {
    if d.num_minutes() % 60 == 0 {
        format!("{}h", d.num_hours())
    } else {
        format!("{}m", d.num_minutes())
    }
}

/// Collects the requests: attribution, pricing, filters and deduplication as in a report.
struct Collector<'a> {
    rules: &'a TeamRules,
    pricer: Pricer<'a>,
    dims: &'a [Dim],
    filters: &'a [Filter],
    tz: Tz,
    dedup: bool,
    seen: HashSet<u128>,
    groups: Vec<Vec<String>>,
    group_index: HashMap<Vec<String>, usize>,
    requests: Vec<Request>,
    newest: Option<DateTime<Utc>>,
}

impl RecordSink for Collector<'_> {
    fn accept(&mut self, r: UsageRecord) -> Result<Accepted> {
        if self.dedup
            && !self
                .seen
                .insert(xxhash_rust::xxh3::xxh3_128(r.id.as_bytes()))
        {
            return Ok(Accepted::Duplicate);
        }
        let has_outcome = r.status.is_some() || r.failed || r.latency_ms.is_some();
        if !has_outcome || r.end.is_some() {
            return Ok(Accepted::Added);
        }
        let team = self.rules.team_of(&r);
        let priced = self.pricer.price(&r);
        let model = canonical_model(self.pricer.book(), &priced, &r).to_string();
        if !passes(self.filters, &r, team, &model, self.tz) {
            return Ok(Accepted::Added);
        }
        self.newest = self.newest.max(Some(r.start));
        let values: Vec<String> = self
            .dims
            .iter()
            .map(|d| d.value(&r, team, &model, self.tz))
            .collect();
        let group = match self.group_index.get(&values) {
            Some(&g) => g,
            None => {
                self.groups.push(values.clone());
                self.group_index.insert(values, self.groups.len() - 1);
                self.groups.len() - 1
            }
        };
        let cost = match priced {
            Priced::Cost { cost, .. } => cost,
            Priced::Unpriced { .. } => Decimal::ZERO,
        };
        let request_id = r.id.split_once(':').map_or(r.id.as_str(), |(_, id)| id);
        let request_id = request_id.strip_prefix("req:").unwrap_or(request_id);
        let caller = r
            .api_key
            .as_deref()
            .or(r.user.as_deref())
            .or(r.project.as_deref())
            .unwrap_or(team)
            .to_string();
        self.requests.push(Request {
            at: r.start,
            group,
            request_id: request_id.to_string(),
            caller,
            provider: r.provider,
            model,
            failure: r
                .failed
                .then(|| r.failure.unwrap_or(FailureClass::of(r.status, None))),
            latency_ms: r.latency_ms,
            tokens: r.tokens,
            cost,
            attempt: r.attempt,
            retry_of: r.retry_of.as_deref().map(str::to_owned),
        });
        Ok(Accepted::Added)
    }
}

/// Everything the renderers need.
struct Health<'a> {
    dims: &'a [Dim],
    groups: Vec<Vec<String>>,
    rows: Vec<(usize, GroupHealth)>,
    total: GroupHealth,
    windows: Vec<(Window, Option<Failover>)>,
    period: Period,
    tz: Tz,
    args: &'a Args,
    breaches: Vec<String>,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<i32> {
    let Scope {
        spec,
        tz,
        dims,
        filters,
    } = args.scope.resolve(&[Dim::Provider, Dim::Model])?;
    let book = ctx.price_book()?;
    let mut collector = Collector {
        rules: &ctx.config.teams,
        pricer: Pricer::new(book),
        dims: &dims,
        filters: &filters,
        tz,
        dedup: !args.input.paths.is_empty(),
        seen: HashSet::new(),
        groups: Vec::new(),
        group_index: HashMap::new(),
        requests: Vec::new(),
        newest: None,
    };
    let newest = super::usage::ledger_newest(ctx, &args.input, &spec)?;
    let range = (spec.is_fixed() || newest.is_some()).then(|| spec.resolve(tz, newest));
    feed_records(ctx, &args.input, range, &mut collector)?;
    let period = spec.resolve(tz, newest.or(collector.newest));
    let Collector {
        groups,
        mut requests,
        ..
    } = collector;
    requests.retain(|r| period.contains(r.at));
    requests.sort_by_key(|r| r.at);
    let retries = find_retries(&requests, Duration::seconds(RETRY_WINDOW_SECS));
    let per_group = summarize(&requests, &retries, groups.len());
    let total = {
        let all: Vec<Request> = requests
            .iter()
            .map(|r| Request {
                group: 0,
                ..r.clone()
            })
            .collect();
        summarize(&all, &retries, 1).pop().unwrap_or_default()
    };
    let mut rows: Vec<(usize, GroupHealth)> = per_group
        .into_iter()
        .enumerate()
        .filter(|(_, g)| g.requests > 0)
        .collect();
    rows.sort_by(|a, b| {
        b.1.failed_requests()
            .cmp(&a.1.failed_requests())
            .then_with(|| groups[a.0].cmp(&groups[b.0]))
    });
    let rules = WindowRules {
        bucket: args.bucket,
        threshold: args.threshold,
        min_buckets: usize::from(args.min_buckets),
    };
    let windows = brownouts(&requests, &retries, groups.len(), period.start, rules)
        .into_iter()
        .map(|w| {
            let f = args
                .fallback
                .as_ref()
                .map(|fb| failover(book, fb, &requests, &retries, &w.members, args.all));
            (w, f)
        })
        .collect();
    let breaches = match args.max_failure_rate {
        Some(limit) => rows
            .iter()
            .filter(|(_, g)| g.failure_rate() > limit)
            .map(|(i, g)| format!("{} {}", groups[*i].join(", "), percent(g.failure_rate())))
            .collect(),
        None => Vec::new(),
    };
    let health = Health {
        dims: &dims,
        groups,
        rows,
        total,
        windows,
        period,
        tz,
        args: &args,
        breaches,
    };
    match args.format {
        Format::Json => {
            crate::output::json::write(&health.json(), out)?;
        }
        Format::Markdown | Format::Table => {
            for (i, sheet) in health.sheets().iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                if args.format == Format::Markdown {
                    markdown::write(sheet, out)?;
                } else {
                    table::write(sheet, ctx.style(), out)?;
                }
            }
        }
        Format::Csv => {
            return Err(Error::usage(
                "health has no CSV output: use --format json (or table, markdown)",
            ))
        }
    }
    if !health.breaches.is_empty() {
        ctx.note(format_args!(
            "failure rate above {}: {}",
            percent(args.max_failure_rate.unwrap_or_default()),
            health.breaches.join("; ")
        ));
        return Ok(1);
    }
    Ok(0)
}

/// `0.0523` → `5.23%`.
fn percent(rate: Decimal) -> String {
    format!("{}%", (rate * Decimal::ONE_HUNDRED).round_dp(2).normalize())
}

fn rate_exact(rate: Decimal) -> String {
    rate.round_dp(6).normalize().to_string()
}

/// `0.0523` → `5.23` (percent, for [`Cell::Pct`]).
fn pct(rate: Decimal) -> Decimal {
    (rate * Decimal::ONE_HUNDRED).round_dp(2).normalize()
}

fn opt_ms(v: Option<u64>) -> String {
    v.map_or_else(|| "–".to_string(), |ms| format!("{} ms", count_human(ms)))
}

impl Health<'_> {
    fn dim_fields(&self, group: usize, m: &mut Map<String, Value>) {
        for (d, v) in self.dims.iter().zip(&self.groups[group]) {
            m.insert(d.name(), json!(v));
        }
    }

    fn group_json(g: &GroupHealth, m: &mut Map<String, Value>) {
        let failures: Map<String, Value> = FailureClass::ALL
            .iter()
            .map(|c| {
                (
                    c.as_str().to_string(),
                    json!(g.failures.get(c).copied().unwrap_or(0)),
                )
            })
            .collect();
        m.insert("requests".into(), json!(g.requests));
        m.insert("failed_requests".into(), json!(g.failed_requests()));
        m.insert("failure_rate".into(), json!(rate_exact(g.failure_rate())));
        m.insert("failures".into(), Value::Object(failures));
        m.insert("latency_p50_ms".into(), json!(g.latency.map(|l| l.p50)));
        m.insert("latency_p95_ms".into(), json!(g.latency.map(|l| l.p95)));
        m.insert("latency_p99_ms".into(), json!(g.latency.map(|l| l.p99)));
        m.insert("failed_tokens".into(), json!(g.failed.tokens));
        m.insert("failed_cost".into(), json!(money_exact(g.failed.cost)));
        m.insert("retries".into(), json!(g.retries.requests));
        m.insert(
            "retries_by_rule".into(),
            json!({
                "envelope": g.retries_by_rule.get("envelope").copied().unwrap_or(0),
                "heuristic": g.retries_by_rule.get("heuristic").copied().unwrap_or(0),
            }),
        );
        m.insert("retry_tokens".into(), json!(g.retries.tokens));
        m.insert("retry_cost".into(), json!(money_exact(g.retries.cost)));
    }

    fn json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|(i, g)| {
                let mut m = Map::new();
                self.dim_fields(*i, &mut m);
                Self::group_json(g, &mut m);
                Value::Object(m)
            })
            .collect();
        let mut total = Map::new();
        Self::group_json(&self.total, &mut total);
        let windows: Vec<Value> = self
            .windows
            .iter()
            .map(|(w, f)| {
                let mut m = Map::new();
                self.dim_fields(w.group, &mut m);
                m.insert("start".into(), json!(rfc3339(w.start)));
                m.insert("end".into(), json!(rfc3339(w.end)));
                m.insert("buckets".into(), json!(w.buckets));
                m.insert("reason".into(), json!(w.reason()));
                m.insert("requests".into(), json!(w.requests));
                m.insert("failed_requests".into(), json!(w.failures));
                m.insert("failure_rate".into(), json!(rate_exact(w.failure_rate())));
                m.insert(
                    "baseline_failure_rate".into(),
                    json!(rate_exact(w.baseline_failure_rate)),
                );
                m.insert("p95_latency_ms".into(), json!(w.p95_latency_ms));
                m.insert(
                    "baseline_p95_latency_ms".into(),
                    json!(w.baseline_p95_latency_ms),
                );
                m.insert("extra_latency_ms".into(), json!(w.extra_latency_ms()));
                m.insert("failed_tokens".into(), json!(w.failed.tokens));
                m.insert("failed_cost".into(), json!(money_exact(w.failed.cost)));
                m.insert("retries".into(), json!(w.retries.requests));
                m.insert("retry_tokens".into(), json!(w.retries.tokens));
                m.insert("retry_cost".into(), json!(money_exact(w.retries.cost)));
                m.insert(
                    "failover".into(),
                    match (f, &self.args.fallback) {
                        (Some(f), Some(fb)) => json!({
                            "from": fb.from_name(),
                            "to": fb.to_name(),
                            "scope": if self.args.all { "all" } else { "failed" },
                            "requests": f.requests,
                            "estimated_requests": f.estimated,
                            "cost": money_exact(f.cost),
                            "fallback_cost": money_exact(f.fallback_cost),
                            "difference": money_exact(f.fallback_cost - f.cost),
                            "unpriced_requests": f.unpriced,
                            "unpriced_reason": f.unpriced_reason,
                        }),
                        _ => Value::Null,
                    },
                );
                Value::Object(m)
            })
            .collect();
        json!({
            "schema": "aispend.health.v1",
            "currency": "USD",
            "period": {"start": rfc3339(self.period.start), "end": rfc3339(self.period.end)},
            "group_by": self.dims.iter().map(|d| d.name()).collect::<Vec<_>>(),
            "bucket": bucket_name(self.args.bucket),
            "threshold": self.args.threshold.normalize().to_string(),
            "min_buckets": self.args.min_buckets,
            "retry_window_seconds": RETRY_WINDOW_SECS,
            "rows": rows,
            "total": Value::Object(total),
            "windows": windows,
            "max_failure_rate": self.args.max_failure_rate.map(rate_exact),
            "status": if self.breaches.is_empty() { "ok" } else { "fail" },
        })
    }

    /// The groups (with a note on how retries were found) and the brownout windows.
    fn sheets(&self) -> Vec<Sheet> {
        let title = format!(
            "Request health {}",
            describe(&self.period, self.tz).trim_start_matches("AI spend ")
        );
        let label_columns = || -> Vec<Column> {
            if self.dims.is_empty() {
                vec![Column::label("")]
            } else {
                self.dims.iter().map(|d| Column::label(d.name())).collect()
            }
        };
        let mut columns = label_columns();
        columns.extend(
            [
                "requests",
                "failed",
                "rate",
                "429",
                "overload",
                "5xx",
                "timeout",
                "4xx",
                "p50",
                "p95",
                "p99",
                "failed cost",
                "retries",
                "retry cost",
            ]
            .map(Column::number),
        );
        let mut groups = Sheet::new(columns).titled(title);
        let cells = |g: &GroupHealth| {
            let n = |c: FailureClass| Cell::Count(g.failures.get(&c).copied().unwrap_or(0));
            let ms = |v: Option<u64>| Cell::plain(opt_ms(v));
            vec![
                Cell::Count(g.requests),
                Cell::Count(g.failed_requests()),
                Cell::Pct(pct(g.failure_rate())),
                n(FailureClass::RateLimit),
                n(FailureClass::Overloaded),
                n(FailureClass::ServerError),
                n(FailureClass::Timeout),
                n(FailureClass::ClientError),
                ms(g.latency.map(|l| l.p50)),
                ms(g.latency.map(|l| l.p95)),
                ms(g.latency.map(|l| l.p99)),
                Cell::Money(g.failed.cost),
                Cell::Count(g.retries.requests),
                Cell::Money(g.retries.cost),
            ]
        };
        let names = |i: usize| self.groups[i].iter().map(Cell::text).collect::<Vec<_>>();
        for (i, g) in &self.rows {
            let mut row = names(*i);
            row.extend(cells(g));
            groups.push(row);
        }
        let mut total = vec![Cell::plain(""); self.dims.len().max(1)];
        total[0] = Cell::plain("total");
        total.extend(cells(&self.total));
        groups.push(total);
        groups.total_row = true;
        let rule = |r: &str| self.total.retries_by_rule.get(r).copied().unwrap_or(0);
        groups.note(format!(
            "\nRetries: {} named by the log (attempt, retry_of), {} found by the heuristic (same caller and \
             model within {RETRY_WINDOW_SECS} s of a failure)",
            rule("envelope"),
            rule("heuristic")
        ));

        let mut title = format!(
            "Brownout windows ({} buckets, {} in a row, threshold {})",
            bucket_name(self.args.bucket),
            self.args.min_buckets,
            self.args.threshold.normalize()
        );
        if self.windows.is_empty() {
            title.push_str(": none");
        }
        // Times are never shortened: a window without its hours says nothing.
        let mut columns = label_columns();
        columns.extend(["start", "end"].map(Column::text));
        columns.push(Column::text("why"));
        columns.extend(
            [
                "requests",
                "failed",
                "rate (baseline)",
                "p95 (baseline)",
                "failed cost",
                "retry cost",
            ]
            .map(Column::number),
        );
        if let Some(fb) = &self.args.fallback {
            columns.push(Column::number(format!("on {}", fb.from_name())));
            columns.push(Column::number(format!("on {}", fb.to_name())));
        }
        let mut windows = Sheet::new(columns).titled(title);
        windows.omit_if_empty = true;
        for (w, f) in &self.windows {
            let mut row = names(w.group);
            row.extend([
                Cell::plain(hhmm(w.start, self.tz)),
                Cell::plain(hhmm(w.end, self.tz)),
                Cell::plain(w.reason()),
                Cell::Count(w.requests),
                Cell::Count(w.failures),
                Cell::Pct(pct(w.failure_rate()))
                    .noted(format!("({}%)", pct(w.baseline_failure_rate))),
                Cell::plain(opt_ms(w.p95_latency_ms))
                    .noted(format!("({})", opt_ms(w.baseline_p95_latency_ms))),
                Cell::Money(w.failed.cost),
                Cell::Money(w.retries.cost),
            ]);
            if let Some(f) = f {
                row.push(Cell::Money(f.cost).noted(format!("({} req)", f.requests)));
                row.push(Cell::Money(f.fallback_cost));
            }
            windows.push(row);
        }
        vec![groups, windows]
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `2026-10-22 14:00` in the report's zone.
fn hhmm(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}
