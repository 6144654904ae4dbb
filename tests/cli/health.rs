//! `aispend health`: failures, retries, brownout windows and the failover what-if, on a hand-made log
//! (fixtures/health/brownout.jsonl) and on the demo month's incident.

use crate::{fixture, money, Workdir};

/// fixtures/health/brownout.jsonl: support's claude-sonnet-4-5 traffic 10:00–10:20 on 2026-10-05, three
/// requests every 5 minutes of 1,000 input and 100 output tokens; in 10:10–10:15 two fail with 529 and
/// are retried on gpt-4.1 (`attempt` 2, `retry_of`), 1,000 in / 100 out each.
#[test]
fn a_brownout_its_retries_and_the_failover_price() {
    let w = Workdir::new();
    let f = fixture("health/brownout.jsonl");
    let r = w.json(&[
        "health",
        "--bucket",
        "5m",
        "--min-buckets",
        "1",
        "--fallback",
        "claude-sonnet-4-5=gpt-4.1",
        &f,
    ]);
    assert_eq!(r["schema"], "aispend.health.v1");
    let claude = crate::row(&r, "model", "claude-sonnet-4-5");
    // 12 requests, 2 failed: 2 / 12
    assert_eq!(claude["requests"], 12);
    assert_eq!(claude["failures"]["overloaded"], 2);
    assert_eq!(claude["failure_rate"], "0.166667");
    let total = &r["total"];
    assert_eq!(total["retries_by_rule"]["envelope"], 2);
    assert_eq!(total["retries_by_rule"]["heuristic"], 0);
    // the two retries on gpt-4.1: 2 × (1,000 × $2/M + 100 × $8/M) = 2 × $0.0028 = $0.0056
    assert_eq!(money(&total["retry_cost"]), "0.0056");
    let windows = r["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 1, "{windows:?}");
    let win = &windows[0];
    assert_eq!(win["start"], "2026-10-05T10:10:00Z");
    assert_eq!(win["end"], "2026-10-05T10:15:00Z");
    assert_eq!(win["failed_requests"], 2);
    assert_eq!(money(&win["retry_cost"]), "0.0056");
    // the failed requests, sized by their retries, on claude-sonnet-4-5:
    //   2 × (1,000 × $3/M + 100 × $15/M) = 2 × $0.0045 = $0.009; on gpt-4.1 2 × $0.0028 = $0.0056
    let fo = &win["failover"];
    assert_eq!(
        (fo["requests"].as_u64(), fo["estimated_requests"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(money(&fo["cost"]), "0.009");
    assert_eq!(money(&fo["fallback_cost"]), "0.0056");
    assert_eq!(money(&fo["difference"]), "-0.0034");
}

#[test]
fn max_failure_rate_fails_ci_and_the_table_names_the_window() {
    let w = Workdir::new();
    let f = fixture("health/brownout.jsonl");
    // claude-sonnet-4-5 fails 16.67% > 10%
    let out = w.run(&[
        "health",
        "--max-failure-rate",
        "10%",
        "--format",
        "json",
        &f,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("anthropic, claude-sonnet-4-5 16.67%"),
        "{stderr}"
    );
    let out = w.run(&["health", "--max-failure-rate", "0.2", &f]);
    assert_eq!(out.status.code(), Some(0));
    let table = w.stdout(&["health", "--bucket", "5m", "--min-buckets", "1", &f]);
    assert!(
        table.contains("2026-10-05 10:10 ┆ 2026-10-05 10:15"),
        "{table}"
    );
    let md = w.stdout(&["health", "--format", "markdown", &f]);
    assert!(md.contains("### Brownout windows"), "{md}");
    let bad = w.run(&["health", "--bucket", "7s", &f]);
    assert_eq!(bad.status.code(), Some(2));
}

/// The demo's incident (scripts/gen_demo_incident.py): Anthropic overloaded 14:00–16:00 on 2026-10-22.
#[test]
fn the_demo_brownout_is_found() {
    let w = Workdir::new();
    let r = w.json(&[
        "health",
        "--where",
        "team=support",
        &fixture("demo/api-logs"),
        &fixture("demo-incident"),
    ]);
    let windows = r["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 1, "{windows:?}");
    let win = &windows[0];
    assert_eq!(win["model"], "claude-sonnet-4-5");
    assert_eq!(win["start"], "2026-10-22T14:00:00Z");
    assert_eq!(win["end"], "2026-10-22T16:00:00Z");
    // `grep -c '"status":529'` on the incident file: every overloaded answer is inside the window
    assert_eq!(win["failed_requests"], 225);
    // 137 second attempts and 88 third attempts on gpt-4.1 (`grep -c '"attempt":2'`, `'"attempt":3'`)
    assert_eq!(r["total"]["retries_by_rule"]["envelope"], 225);
}
