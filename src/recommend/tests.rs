use chrono::TimeZone;
use rust_decimal_macros::dec;

use super::*;
use crate::record::{Provenance, Provider, TokenCounts};

/// A record of `team` on 2026-10-DAY at HOUR.
fn rec(n: u32, provider: Provider, model: &str, team: &str, day: u32, hour: u32) -> UsageRecord {
    let at = Provenance {
        file: "t".into(),
        line: u64::from(n),
    };
    let start = Utc.with_ymd_and_hms(2026, 10, day, hour, 0, 0).unwrap();
    let mut r = UsageRecord::new(
        format!("r{n}").into(),
        "api-log",
        provider,
        model.into(),
        start,
        at,
    );
    r.team = Some(team.into());
    r
}

fn tokens(input: u64, output: u64) -> TokenCounts {
    TokenCounts {
        input,
        output,
        ..TokenCounts::default()
    }
}

fn run(records: &[UsageRecord], settings: &Settings) -> Vec<Recommendation> {
    let book = Box::leak(Box::new(PriceBook::built_in().unwrap()));
    let rules = Box::leak(Box::new(TeamRules::default()));
    let inputs = Inputs {
        records,
        book,
        rules,
        period: PeriodSpec::Month {
            year: 2026,
            month: 10,
        },
        tz: chrono_tz::UTC,
        newest: records.iter().map(|r| r.start).max(),
    };
    recommend(&inputs, settings)
}

fn find<'a>(recs: &'a [Recommendation], id: &str) -> &'a Recommendation {
    recs.iter().find(|r| r.id == id).unwrap_or_else(|| {
        panic!(
            "no {id} in {:#?}",
            recs.iter().map(|r| &r.id).collect::<Vec<_>>()
        )
    })
}

#[test]
fn prompts_just_over_a_long_context_threshold_are_worth_trimming() {
    let mut near = rec(1, Provider::Anthropic, "claude-sonnet-4-5", "search", 3, 9);
    near.tokens = tokens(210_000, 1_000);
    // 230_000 is more than 10% over 200_000: not an edge case
    let mut far = rec(2, Provider::Anthropic, "claude-sonnet-4-5", "search", 3, 10);
    far.tokens = tokens(230_000, 1_000);
    let recs = run(&[near, far], &Settings::default());
    let r = find(
        &recs,
        "long-context-edge/team=search,model=claude-sonnet-4-5",
    );
    assert_eq!(r.evidence.requests, 1);
    // the whatif reads both requests: now 210_000 × $6/M + 1_000 × $22.50/M = $1.2825 and
    // 230_000 × $6/M + 1_000 × $22.50/M = $1.4025: $2.685. Trimmed to 200_000: 200_000 × $3/M + 1_000 × $15/M
    // = $0.615, the other unchanged: saving $1.2825 − $0.615 = $0.6675
    assert_eq!(r.cost, dec!(2.685));
    assert_eq!(r.saving, Some(dec!(0.6675)));
    assert_eq!(
        r.args.join(" "),
        "whatif --trim-context 10% --where team=search --where model=claude-sonnet-4-5"
    );
}

#[test]
fn one_hour_writes_read_back_less_than_written_move_to_five_minutes() {
    let mut r = rec(1, Provider::Anthropic, "claude-sonnet-4-5", "support", 3, 9);
    r.tokens = TokenCounts {
        input: 1_000,
        cache_read: 10_000,
        cache_write_1h: 100_000,
        output: 1_000,
        ..TokenCounts::default()
    };
    let recs = run(&[r], &Settings::default());
    let r = find(
        &recs,
        "cache-1h-unread/team=support,model=claude-sonnet-4-5",
    );
    // 1_000 × $3/M + 10_000 × $0.30/M + 100_000 × $6/M + 1_000 × $15/M = 3_000 + 3_000 + 600_000 + 15_000 µ$
    // = $0.621; with 5-minute writes 100_000 × $3.75/M = 375_000 µ$: saving 225_000 µ$ = $0.225
    assert_eq!(r.cost, dec!(0.621));
    assert_eq!(r.saving, Some(dec!(0.225)));
    assert_eq!(r.args[..3], ["whatif", "--cache-ttl", "5m"]);
}

#[test]
fn caching_models_with_large_uncached_input_and_no_reads() {
    let mut r = rec(1, Provider::OpenAI, "gpt-4o", "data", 3, 9);
    r.requests = 10;
    r.tokens = tokens(2_000_000, 0);
    let recs = run(&[r], &Settings::default());
    let c = find(&recs, "cache-unused/team=data,model=gpt-4o");
    // now 2M × $2.50/M = $5; 30% hits: 600_000 × $1.25/M + 1_400_000 × $2.50/M = $0.75 + $3.50 = $4.25
    assert_eq!(c.cost, dec!(5));
    assert_eq!(c.saving, Some(dec!(0.75)));
    // no output at all: short answers on a model whose table names a cheaper sibling (gpt-4o-mini):
    // 2M × $0.15/M = $0.30, saving $4.70 — the larger saving ranks first
    let p = find(&recs, "premium-short-output/team=data,model=gpt-4o");
    assert_eq!(p.saving, Some(dec!(4.7)));
    assert_eq!(p.args[..3], ["whatif", "--swap", "gpt-4o=gpt-4o-mini"]);
    assert_eq!(recs[0].id, p.id);
}

#[test]
fn priority_tier_spend_priced_at_standard() {
    let mut r = rec(1, Provider::OpenAI, "gpt-4.1", "search", 3, 9);
    r.service_tier = Some("priority".into());
    r.tokens = tokens(1_000_000, 100_000);
    let recs = run(&[r], &Settings::default());
    let p = find(
        &recs,
        "priority-tier/service_tier=priority,team=search,model=gpt-4.1",
    );
    // priority: 1M × $3.50/M + 100k × $14/M = $3.50 + $1.40 = $4.90; standard: $2 + $0.80 = $2.80
    assert_eq!(p.cost, dec!(4.9));
    assert_eq!(p.saving, Some(dec!(2.1)));
}

#[test]
fn declared_and_machine_like_projects_are_batchable() {
    let mut records = Vec::new();
    // declared: project nightly-eval, 1M in + 1M out on gpt-4o-mini = $0.15 + $0.60 = $0.75; batch half
    let mut n = rec(1, Provider::OpenAI, "gpt-4o-mini", "data", 3, 2);
    n.project = Some("nightly-eval".into());
    n.tokens = tokens(1_000_000, 1_000_000);
    records.push(n);
    // machine-like: project crawler, 10 requests in every hour of the day (240), 10k in + 1k out each
    // hour: 24 × (10_000 × $0.15/M + 1_000 × $0.60/M) = 24 × $0.0021 = $0.0504; batch half: $0.0252
    for hour in 0..24 {
        let mut r = rec(100 + hour, Provider::OpenAI, "gpt-4o-mini", "data", 4, hour);
        r.project = Some("crawler".into());
        r.requests = 10;
        r.tokens = tokens(10_000, 1_000);
        records.push(r);
    }
    // office hours only: not machine-like
    for hour in 9..17 {
        let mut r = rec(200 + hour, Provider::OpenAI, "gpt-4o-mini", "data", 4, hour);
        r.project = Some("chat".into());
        r.requests = 40;
        r.tokens = tokens(10_000, 1_000);
        records.push(r);
    }
    let settings = Settings {
        batchable: vec!["nightly-*".into()],
    };
    let recs = run(&records, &settings);
    let d = find(&recs, "batchable/project=nightly-eval");
    assert_eq!(d.saving, Some(dec!(0.375)));
    assert!(d.evidence.detail.contains("declared batchable"));
    let m = find(&recs, "batchable/project=crawler");
    assert_eq!(m.evidence.requests, 240);
    assert_eq!(m.saving, Some(dec!(0.0252)));
    assert!(!recs.iter().any(|r| r.id == "batchable/project=chat"));
}

#[test]
fn a_computed_cost_that_keeps_disagreeing_with_the_invoice_is_a_stale_price() {
    let mut records = Vec::new();
    for day in 1..=3 {
        // usage: 1M × $0.40/M = $0.40 a day on gpt-4.1-mini
        let mut u = rec(day, Provider::OpenAI, "gpt-4.1-mini", "data", day, 9);
        u.tokens = tokens(1_000_000, 0);
        records.push(u);
        // the invoice says $0.30 a day for the same model
        let mut i = rec(10 + day, Provider::OpenAI, "gpt-4.1-mini", "data", day, 0);
        i.requests = 0;
        i.reported_cost = Some(dec!(0.30));
        records.push(i);
    }
    let recs = run(&records, &Settings::default());
    let s = find(&recs, "stale-prices/provider=openai,model=gpt-4.1-mini");
    // 3 days of $0.40 computed against $0.30 invoiced: 33% above, every day; $1.20 − $0.90 = $0.30
    assert_eq!(s.saving, None);
    assert_eq!(s.at_stake, Some(dec!(0.3)));
    assert!(
        s.evidence.detail.contains("above the invoice"),
        "{}",
        s.evidence.detail
    );
    assert_eq!(s.args[..2], ["report", "--reconcile"]);
    // stale prices rank after every saving
    assert_eq!(recs.last().map(|r| r.kind), Some(Kind::StalePrices));
}
