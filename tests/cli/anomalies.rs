//! `aispend anomalies` and `budget check` with `anomalies = true`, on fixtures/anomalies/daily.jsonl:
//! team `steady` sends one gpt-4o-mini request of 1,000,000 input tokens a day from 2026-09-28 (a Monday)
//! to 2026-10-31, four on Monday 2026-10-26; team `late` one a day from 2026-10-20.

use crate::{fixture, money, Workdir};

#[test]
fn a_spike_and_a_new_spender_by_hand() {
    let w = Workdir::new();
    let f = fixture("anomalies/daily.jsonl");
    let r = w.json(&["anomalies", "--by", "team", &f]);
    assert_eq!(r["schema"], "aispend.anomalies.v1");
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    // late's first spend, 22 days after the data starts: 1,000,000 x $0.15/M = $0.15
    assert_eq!(rows[0]["day"], "2026-10-20");
    assert_eq!(rows[0]["team"], "late");
    assert_eq!(rows[0]["kind"], "new");
    assert_eq!(money(&rows[0]["cost"]), "0.15");
    // steady on Monday 10-26: 4 x $0.15 = $0.60; the four Mondays before cost $0.15 each (median $0.15,
    // MAD 0), so the scale is 0.1 x $0.15 = $0.015 and the score (0.60 - 0.15) / 0.015 = 30
    assert_eq!(rows[1]["day"], "2026-10-26");
    assert_eq!(rows[1]["kind"], "spike");
    assert_eq!(money(&rows[1]["expected"]), "0.15");
    assert_eq!(money(&rows[1]["difference"]), "0.45");
    assert_eq!(rows[1]["score"], "30");
}

#[test]
fn fail_exits_1_only_on_an_anomaly_of_the_as_of_day() {
    let w = Workdir::new();
    let f = fixture("anomalies/daily.jsonl");
    let out = w.run(&[
        "anomalies",
        "--by",
        "team",
        "--as-of",
        "2026-10-26",
        "--fail",
        &f,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let out = w.run(&[
        "anomalies",
        "--by",
        "team",
        "--as-of",
        "2026-10-27",
        "--fail",
        &f,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let md = w.stdout(&["anomalies", "--by", "team", "--format", "markdown", &f]);
    assert!(
        md.contains("| 2026-10-26 | steady | $0.60 | $0.15 | $0.45 | 30 | spike |"),
        "{md}"
    );
    let csv = w.stdout(&["anomalies", "--by", "team", "--format", "csv", &f]);
    assert!(
        csv.contains("2026-10-26,steady,0.6,0.15,0.45,30,spike"),
        "{csv}"
    );
}

#[test]
fn a_budget_with_anomalies_warns_on_a_spike() {
    let w = Workdir::new();
    let f = fixture("anomalies/daily.jsonl");
    let budgets = fixture("anomalies/budgets.toml");
    let b = w.json(&[
        "budget",
        "check",
        "--budgets",
        &budgets,
        "--as-of",
        "2026-10-26",
        &f,
    ]);
    let row = &b["budgets"][0];
    // $4.35 spent of $1,000: ok by the limit, warn by the spike
    assert_eq!(row["status"], "warn");
    assert_eq!(row["anomaly"]["kind"], "spike");
    assert_eq!(row["anomaly"]["day"], "2026-10-26");
    let b = w.json(&[
        "budget",
        "check",
        "--budgets",
        &budgets,
        "--as-of",
        "2026-10-25",
        &f,
    ]);
    assert_eq!(b["budgets"][0]["status"], "ok");
    assert!(b["budgets"][0]["anomaly"].is_null());
}

/// The demo month with its incidents (scripts/gen_demo_incident.py): the data team's backfill on
/// 2026-10-21 and the growth team's gpt-5 loop on 2026-10-27 are found.
#[test]
fn the_demo_spikes_are_found() {
    let w = Workdir::new();
    let config = fixture("demo/aispend.toml");
    let r = w.json(&[
        "--config",
        &config,
        "anomalies",
        "--by",
        "team",
        &fixture("demo"),
        &fixture("demo-incident"),
    ]);
    let spike = |day: &str, team: &str| {
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["day"] == day && x["team"] == team && x["kind"] == "spike")
    };
    assert!(spike("2026-10-21", "data"), "{r:#}");
    assert!(spike("2026-10-27", "growth"), "{r:#}");
    assert!(spike("2026-10-22", "support"), "{r:#}");
}
