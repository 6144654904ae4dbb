//! Periods: an open `--since`, `--timezone` bounds, strict `--month`, `--top 0`, time order for
//! `--by day`. fixtures/forecast/constant.jsonl has one gpt-4o request a day at 12:00 UTC from
//! 2026-09-01 to 2026-10-15, each 1,000,000 input and 750,000 output tokens:
//! 1,000,000 × $2.50/M + 750,000 × $10/M = $2.50 + $7.50 = $10 a day.

use serde_json::Value;

use super::backends::on_each_backend;
use super::{fixture, Workdir};

fn json(w: &Workdir, args: &[&str]) -> Value {
    serde_json::from_str(&w.stdout(args)).expect("json")
}

#[test]
fn an_open_since_runs_through_the_newest_record() {
    let w = Workdir::new();
    let f = fixture("forecast/constant.jsonl");
    // 2026-10-10 to 2026-10-15: 6 days × $10 = $60.
    let r = json(
        &w,
        &["report", "--since", "2026-10-10", "--format", "json", &f],
    );
    assert_eq!(r["period"]["start"], "2026-10-10T00:00:00Z");
    assert_eq!(r["period"]["end"], "2026-10-16T00:00:00Z");
    assert_eq!(r["total"]["cost"], "60");
    let table = w.stdout(&["report", "--since", "2026-10-10", &f]);
    assert!(
        table.starts_with("AI spend 2026-10-10 to 2026-10-15 (UTC)"),
        "{table}"
    );
    // The same from the ledger.
    on_each_backend(|w, _| {
        w.stdout(&["import", &f]);
        let r = json(w, &["report", "--since", "2026-10-10", "--format", "json"]);
        assert_eq!(r["period"]["end"], "2026-10-16T00:00:00Z");
        assert_eq!(r["total"]["cost"], "60");
        // --compare takes the 6 days before (2026-10-04 to 2026-10-09, $60 too).
        let r = json(
            w,
            &[
                "report",
                "--since",
                "2026-10-10",
                "--compare",
                "--format",
                "json",
            ],
        );
        assert_eq!(r["previous_period"]["start"], "2026-10-04T00:00:00Z");
        assert_eq!(r["total"]["previous_cost"], "60");
        // A forecast with an open --since runs to today instead of to the end of time.
        let out = w.run(&["forecast", "--since", "2026-10-01"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("Forecast 2026-10-01 to "));
    });
}

#[test]
fn a_timezone_shows_the_period_in_that_zone() {
    let w = Workdir::new();
    let f = fixture("forecast/constant.jsonl");
    let args = [
        "report",
        "--month",
        "2026-10",
        "--timezone",
        "Europe/Berlin",
    ];
    let mut j = args.to_vec();
    j.extend(["--format", "json", &f]);
    let r = json(&w, &j);
    assert_eq!(r["timezone"], "Europe/Berlin");
    // Berlin is UTC+2 on 1 October (summer time) and UTC+1 on 1 November.
    assert_eq!(r["period"]["start"], "2026-10-01T00:00:00+02:00");
    assert_eq!(r["period"]["end"], "2026-11-01T00:00:00+01:00");
    // Every noon-UTC request of 1–15 October is in Berlin's October: 15 × $10.
    assert_eq!(r["total"]["cost"], "150");
    let mut t = args.to_vec();
    t.push(&f);
    let table = w.stdout(&t);
    assert!(
        table.starts_with("AI spend 2026-10-01 to 2026-10-31 (Europe/Berlin)"),
        "{table}"
    );
    let utc = json(
        &w,
        &["report", "--month", "2026-10", "--format", "json", &f],
    );
    assert_eq!(utc["timezone"], "UTC");
    assert_eq!(utc["period"]["start"], "2026-10-01T00:00:00Z");
}

#[test]
fn month_and_top_are_checked() {
    let w = Workdir::new();
    let f = fixture("forecast/constant.jsonl");
    for bad in ["2026-1", "26-10", "2026-010"] {
        let out = w.run(&["report", "--month", bad, &f]);
        assert_eq!(out.status.code(), Some(2), "--month {bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("expected YYYY-MM"));
    }
    let out = w.run(&["report", "--top", "0", &f]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--top 0"));
}

#[test]
fn time_groups_sort_by_time_unless_asked() {
    let w = Workdir::new();
    // weekly.jsonl: spend differs by weekday, so cost order is not time order.
    let f = fixture("forecast/weekly.jsonl");
    let days = |r: &Value| -> Vec<String> {
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["day"].as_str().unwrap().to_string())
            .collect()
    };
    let r = json(
        &w,
        &[
            "report", "--month", "2026-10", "--by", "day", "--format", "json", &f,
        ],
    );
    let by_time = days(&r);
    let mut sorted = by_time.clone();
    sorted.sort();
    assert_eq!(by_time, sorted);
    assert!(by_time.len() > 7);
    let r = json(
        &w,
        &[
            "report", "--month", "2026-10", "--by", "day", "--sort", "cost", "--format", "json", &f,
        ],
    );
    assert_ne!(days(&r), sorted);
    // --top keeps the most expensive days, still shown in time order, then (other).
    let r = json(
        &w,
        &[
            "report", "--month", "2026-10", "--by", "day", "--top", "3", "--format", "json", &f,
        ],
    );
    let top = days(&r);
    assert_eq!(top.len(), 4);
    assert!(top[0] < top[1] && top[1] < top[2], "{top:?}");
    assert_eq!(top[3], "(other)");
}
