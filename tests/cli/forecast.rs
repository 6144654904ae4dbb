//! `aispend forecast` and `aispend budget check` on series whose answers are known exactly
//! (fixtures/forecast/, made by scripts/gen_forecast_fixtures.py: gpt-4o requests of exactly $10 or $2).

use crate::{fixture, money, Workdir};

#[test]
fn a_constant_series_projects_exactly() {
    let w = Workdir::new();
    let f = fixture("forecast/constant.jsonl");
    // $10 a day; as of 2026-10-15: 15 × $10 = $150 spent, and October ends at 31 × $10 = $310
    let r = w.json(&["forecast", "--as-of", "2026-10-15", &f]);
    assert_eq!(r["schema"], "aispend.forecast.v1");
    assert_eq!(r["period"]["start"], "2026-10-01");
    assert_eq!(r["period"]["end"], "2026-10-31");
    let t = &r["total"];
    assert_eq!(money(&t["actual_to_date"]), "150");
    assert_eq!(money(&t["forecast"]), "310");
    // a series without any variation leaves no room for error
    assert_eq!(money(&t["lower"]), "310");
    assert_eq!(money(&t["upper"]), "310");
    // run-rate: 150 / 15 days × 31 days = 310
    let r = w.json(&[
        "forecast",
        "--as-of",
        "2026-10-15",
        "--method",
        "run-rate",
        &f,
    ]);
    assert_eq!(money(&r["total"]["forecast"]), "310");
    assert_eq!(r["total"]["method"], "run-rate");
}

#[test]
fn a_weekly_series_is_projected_exactly_by_auto_not_by_run_rate() {
    let w = Workdir::new();
    let f = fixture("forecast/weekly.jsonl");
    // $10 on weekdays, $2 at weekends. October 2026 has 22 weekdays and 9 weekend days:
    //   month = 22 × 10 + 9 × 2 = $238; to 2026-10-15 (11 weekdays, 4 weekend days) = $118
    let r = w.json(&["forecast", "--as-of", "2026-10-15", "--by", "team", &f]);
    let row = &r["rows"][0];
    assert_eq!(row["team"], "search");
    assert_eq!(money(&row["actual_to_date"]), "118");
    assert_eq!(money(&row["forecast"]), "238");
    assert_ne!(row["method"], "run-rate");
    // run-rate ignores the weekly pattern: 118 / 15 × 31 = 243.866…
    let r = w.json(&[
        "forecast",
        "--as-of",
        "2026-10-15",
        "--method",
        "run-rate",
        &f,
    ]);
    assert!(
        money(&r["total"]["forecast"]).starts_with("243.866"),
        "{r:#}"
    );
}

#[test]
fn theta_and_arima_reproduce_a_weekly_pattern() {
    let w = Workdir::new();
    let f = fixture("forecast/weekly.jsonl");
    // $10 on weekdays and $2 at weekends, unchanged for ten weeks: theta's weekly indices are exact
    // and its deseasonalized series is constant; arima's seasonal differences are all zero (no
    // drift). Both continue the pattern: 22 × 10 + 9 × 2 = $238 for October.
    for method in ["theta", "arima"] {
        let r = w.json(&["forecast", "--as-of", "2026-10-15", "--method", method, &f]);
        let t = &r["total"];
        assert_eq!(t["method"], method);
        assert_eq!(money(&t["actual_to_date"]), "118");
        assert_eq!(money(&t["forecast"]), "238", "{method}");
    }
    let help = w.stdout(&["forecast", "--help"]);
    assert!(
        help.contains("theta") && help.contains("ARIMA(0,0,0)(0,1,1)[7]"),
        "{help}"
    );
}

#[test]
fn forecast_formats_and_the_last_day() {
    let w = Workdir::new();
    let f = fixture("forecast/constant.jsonl");
    // as of the last day with data, in a period that is over: nothing left to forecast
    let r = w.json(&["forecast", "--month", "2026-09", &f]);
    assert_eq!(money(&r["total"]["actual_to_date"]), "300");
    assert_eq!(money(&r["total"]["forecast"]), "300");
    let csv = w.stdout(&["forecast", "--as-of", "2026-10-15", "--format", "csv", &f]);
    assert!(
        csv.starts_with("actual_to_date,forecast,lower,upper,method,note\n150,310,"),
        "{csv}"
    );
    let md = w.stdout(&[
        "forecast",
        "--as-of",
        "2026-10-15",
        "--format",
        "markdown",
        &f,
    ]);
    assert!(md.contains("| total | $150.00 | $310.00 |"), "{md}");
    let bad = w.run(&["forecast", "--method", "crystal-ball", &f]);
    assert_eq!(bad.status.code(), Some(2));
}

const BUDGETS_OK: &str = r#"
[[budget]]
name = "search monthly"
limit = "1000.00"
team = "search"

[[budget]]
name = "search tight"
limit = "350"
team = "search"
warn_at = "0.8"          # forecast 310 >= 280: warn
fail_on = "forecast"

[[budget]]
name = "openai actual"
limit = "300"
provider = "openai"
fail_on = "actual"       # forecast 310 >= 300 but only actual fails: warn
"#;

#[test]
fn budgets_ok_and_warn_exit_0() {
    let w = Workdir::new();
    let b = w.write("budgets.toml", BUDGETS_OK);
    let f = fixture("forecast/constant.jsonl");
    let out = w
        .cmd()
        .args([
            "budget",
            "check",
            "--budgets",
            b.to_str().unwrap(),
            "--as-of",
            "2026-10-15",
            "--format",
            "json",
            &f,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["schema"], "aispend.budget.v1");
    assert_eq!(r["status"], "warn");
    let budgets = r["budgets"].as_array().unwrap();
    let status: Vec<&str> = budgets
        .iter()
        .map(|b| b["status"].as_str().unwrap())
        .collect();
    assert_eq!(status, ["ok", "warn", "warn"]);
    assert_eq!(money(&budgets[0]["actual"]), "150");
    assert_eq!(money(&budgets[0]["forecast"]), "310");
    assert_eq!(money(&budgets[0]["limit"]), "1000");
    assert_eq!(budgets[0]["period"], "month");
}

#[test]
fn a_breach_exits_1_with_annotations_and_a_summary() {
    let w = Workdir::new();
    let b = w.write(
        "budgets.toml",
        "[[budget]]\nname = \"search\"\nlimit = \"300\"\nteam = \"search\"\n\n[[budget]]\nname = \"spent\"\nlimit = \"100\"\nfail_on = \"actual\"\n",
    );
    let summary = w.path().join("summary.md");
    let f = fixture("forecast/constant.jsonl");
    let out = w
        .cmd()
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args([
            "budget",
            "check",
            "--budgets",
            b.to_str().unwrap(),
            "--as-of",
            "2026-10-15",
            "--format",
            "github",
            &f,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // forecast 310 >= 300 with fail_on = forecast; actual 150 >= 100
    assert!(
        stdout.contains(
            "::error title=Budget search::search: $150.00 of $300.00 spent, forecast $310.00"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("::error title=Budget spent::"), "{stdout}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("AI budgets: breach") && md.contains("| ❌ | search |"),
        "{md}"
    );
    let table = w.stdout_code(
        &[
            "budget",
            "check",
            "--budgets",
            b.to_str().unwrap(),
            "--as-of",
            "2026-10-15",
            &f,
        ],
        1,
    );
    assert!(
        table.contains("┆ breach ┆ forecast to reach 103% of the limit"),
        "{table}"
    );
}

#[test]
fn bad_budget_files_exit_2_and_unknown_teams_warn() {
    let w = Workdir::new();
    let f = fixture("forecast/constant.jsonl");
    for (text, needle) in [
        (
            "[[budget]]\nname = \"x\"\nlimit = \"lots\"\n",
            "limit \"lots\" is not a decimal number",
        ),
        (
            "[[budget]]\nname = \"x\"\nlimit = 2500.5\n",
            "limit must be a decimal string",
        ),
        (
            "[[budget]]\nname = \"x\"\nlimit = \"10\"\nteams = \"a\"\n",
            "unknown field `teams`",
        ),
        (
            "[[budget]]\nname = \"x\"\nlimit = \"10\"\nperiod = \"year\"\n",
            "period 'year' is not one of month, week, day",
        ),
    ] {
        let b = w.write("bad.toml", text);
        let out = w.run(&["budget", "check", "--budgets", b.to_str().unwrap(), &f]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(needle),
            "{text}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let b = w.write(
        "typo.toml",
        "[[budget]]\nname = \"x\"\nlimit = \"1000\"\nteam = \"serach\"\n",
    );
    let out = w.run(&[
        "budget",
        "check",
        "--budgets",
        b.to_str().unwrap(),
        "--as-of",
        "2026-10-15",
        &f,
    ]);
    assert_eq!(out.status.code(), Some(0));
    // A warning, like every other, goes to standard error.
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("warning: budget 'x': no team rule or record names team 'serach'"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("warning"));
}

#[test]
fn weekly_and_daily_budgets_use_their_own_period() {
    let w = Workdir::new();
    let f = fixture("forecast/constant.jsonl");
    // 2026-10-15 is a Thursday: the ISO week is Oct 12–18; 4 days × $10 spent, 7 × $10 projected
    let b = w.write("b.toml", "[[budget]]\nname = \"wk\"\nlimit = \"100\"\nperiod = \"week\"\n\n[[budget]]\nname = \"d\"\nlimit = \"9\"\nperiod = \"day\"\n");
    let out = w
        .cmd()
        .args([
            "budget",
            "check",
            "--budgets",
            b.to_str().unwrap(),
            "--as-of",
            "2026-10-15",
            "--format",
            "json",
            &f,
        ])
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let wk = &r["budgets"][0];
    assert_eq!(wk["period"], "week");
    assert_eq!(r["budgets"][1]["period"], "day");
    assert_eq!(wk["period_start"], "2026-10-12");
    assert_eq!(wk["period_end"], "2026-10-18");
    assert_eq!(money(&wk["actual"]), "40");
    assert_eq!(money(&wk["forecast"]), "70");
    assert_eq!(wk["status"], "ok");
    // the day: $10 spent against a $9 limit
    assert_eq!(r["budgets"][1]["status"], "breach");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn budget_scopes_by_project_model_and_tag_with_wildcards_and_an_exact_limit_breaches() {
    let w = Workdir::new();
    // fixtures/budgets/scoped.jsonl, all on 2026-10-15, input tokens only:
    //   search-web  gpt-4o       env=prod  1M × $2.50/M = $2.50
    //   search-api  gpt-4o-mini  (no env)  1M × $0.15/M = $0.15
    //   billing     gpt-4o-mini  env=prod  2M × $0.15/M = $0.30
    //   research    gpt-4.1      env=dev   1M × $2.00/M = $2.00
    let b = w.write(
        "budgets.toml",
        r#"
[[budget]]
name = "search projects"
limit = "100"
project = "search-*"

[[budget]]
name = "two models"
limit = "100"
model = ["gpt-4o", "gpt-4.1"]

[[budget]]
name = "gpt-4o family"
limit = "100"
model = "gpt-4o*"

[[budget]]
name = "prod"
limit = "100"
tag = { env = "prod" }

[[budget]]
name = "search on mini"
limit = "0.15"
fail_on = "actual"
project = "search-*"
model = "gpt-4o-mini"
"#,
    );
    let out = w.run(&[
        "budget",
        "check",
        "--budgets",
        b.to_str().unwrap(),
        "--as-of",
        "2026-10-15",
        "--format",
        "json",
        &fixture("budgets/scoped.jsonl"),
    ]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<(String, String, String)> = r["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["name"].as_str().unwrap().to_string(),
                money(&b["actual"]).to_string(),
                b["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("search projects", "2.65", "ok"), // 2.50 + 0.15
        ("two models", "4.5", "ok"),       // gpt-4o (not gpt-4o-mini) + gpt-4.1: 2.50 + 2.00
        ("gpt-4o family", "2.95", "ok"),   // 2.50 + 0.15 + 0.30
        ("prod", "2.8", "ok"),             // 2.50 + 0.30; the untagged record is not prod
        // search-api on gpt-4o-mini only: $0.15 spent of a $0.15 limit is a breach (README: "reached")
        ("search on mini", "0.15", "breach"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(n, a, s)| (n.to_string(), a.to_string(), s.to_string()))
        .collect();
    assert_eq!(got, want, "{r:#}");
    assert_eq!(r["status"], "breach");
    assert_eq!(out.status.code(), Some(1));
}
