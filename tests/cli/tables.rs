//! Terminal tables at 60, 80, 100 and 120 columns (a fixed `COLUMNS`): every line of every table fits,
//! and money is never cut: the total printed is the JSON total, rounded to cents.

use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

use super::{fixture, Workdir};

const WIDTHS: [usize; 4] = [60, 80, 100, 120];

/// `"4437.7512"` → `"$4,437.75"`, as a person writes it.
pub fn dollars(exact: &str) -> String {
    let d = Decimal::from_str(exact)
        .expect("decimal")
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let text = format!("{d:.2}");
    let (int, cents) = text.split_once('.').expect("two places");
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("${grouped}.{cents}")
}

/// Runs with `COLUMNS=width`; returns stdout.
fn at_width(w: &Workdir, width: usize, args: &[&str], code: i32) -> String {
    let out = w
        .cmd()
        .env("COLUMNS", width.to_string())
        .args(args)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Every table line (the ones drawn with box characters) is at most `width` characters.
fn assert_fits(text: &str, width: usize) {
    for line in text.lines() {
        if line.starts_with(['┌', '│', '╞', '├', '└']) {
            assert!(
                line.chars().count() <= width,
                "line wider than {width}: {line}\n{text}"
            );
        }
    }
}

/// Bucketed usage and invoices of the demo month (small enough to read quickly in a debug build).
fn demo_exports() -> Vec<String> {
    [
        "openai-usage",
        "anthropic-usage",
        "openai-costs",
        "anthropic-cost",
    ]
    .map(|d| fixture(&format!("demo/{d}")))
    .to_vec()
}

fn with<'a>(args: &[&'a str], paths: &'a [String]) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend(paths.iter().map(String::as_str));
    v
}

#[test]
fn report_and_compare_fit_every_width_and_keep_money_whole() {
    let w = Workdir::new();
    let demo = demo_exports();
    let by = ["report", "--by", "project,model"];
    let json: Value = serde_json::from_str(&w.stdout(&with(
        &["report", "--by", "project,model", "--format", "json"],
        &demo,
    )))
    .expect("json");
    let total = dollars(json["total"]["cost"].as_str().expect("cost"));
    let compare_args = ["report", "--by", "project,model", "--compare"];
    for width in WIDTHS {
        let table = at_width(&w, width, &with(&by, &demo), 0);
        assert_fits(&table, width);
        assert!(table.contains(&total), "{width}: no {total} in\n{table}");
        let compare = at_width(&w, width, &with(&compare_args, &demo), 0);
        assert_fits(&compare, width);
        assert!(
            compare.contains(&total),
            "{width}: no {total} in\n{compare}"
        );
        assert!(compare.contains("change"), "{compare}");
    }
    // 80 columns cannot hold the token counts: they are hidden, and the table says so.
    let narrow = at_width(&w, 80, &with(&by, &demo), 0);
    assert!(!narrow.contains("┆ cache read"), "{narrow}");
    assert!(narrow.contains("(hidden to fit 80 columns: "), "{narrow}");
    // Written to a file with no COLUMNS, nothing is hidden.
    let full = w.stdout(&with(&by, &demo));
    assert!(full.contains("cache read"), "{full}");
    assert!(!full.contains("hidden to fit"), "{full}");
}

#[test]
fn reconcile_forecast_and_budget_fit_every_width() {
    let w = Workdir::new();
    let (reconcile, weekly) = (fixture("reconcile"), fixture("forecast/weekly.jsonl"));
    let budgets = w.write(
        "budgets.toml",
        "[[budget]]\nname = \"search monthly, the team that runs the ranking models\"\nlimit = \"100\"\nteam = \"search\"\n",
    );
    let budgets = budgets.to_str().unwrap();
    let forecast_args = [
        "forecast",
        "--by",
        "team,project,model",
        "--as-of",
        "2026-10-15",
        &weekly,
    ];
    let mut json_args = forecast_args.to_vec();
    json_args.extend(["--format", "json"]);
    let forecast: Value = serde_json::from_str(&w.stdout(&json_args)).expect("json");
    let total_forecast = dollars(forecast["total"]["forecast"].as_str().expect("forecast"));
    for width in WIDTHS {
        let r = at_width(&w, width, &["report", "--reconcile", &reconcile], 0);
        assert_fits(&r, width);
        assert!(r.contains("invoiced"), "{r}");
        let f = at_width(&w, width, &forecast_args, 0);
        assert_fits(&f, width);
        assert!(
            f.contains(&total_forecast),
            "{width}: no {total_forecast} in\n{f}"
        );
        let b = at_width(
            &w,
            width,
            &[
                "budget",
                "check",
                "--budgets",
                budgets,
                "--as-of",
                "2026-10-15",
                &weekly,
            ],
            1,
        );
        assert_fits(&b, width);
        assert!(b.contains("breach"), "{b}");
    }
}

#[test]
fn long_names_end_in_an_ellipsis() {
    let w = Workdir::new();
    let user = "a-very-long-user-name-from-a-single-sign-on-directory@example.com";
    // 1,000 input + 500 output tokens of gpt-4o at $2.50/M and $10/M: $0.0025 + $0.005 = $0.0075.
    let log = w.write(
        "long.jsonl",
        &format!(
            "{{\"timestamp\":\"2026-10-01T00:00:00Z\",\"user\":\"{user}\",\"response\":{{\"id\":\"c1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o\",\"usage\":{{\"prompt_tokens\":1000,\"completion_tokens\":500}}}}}}\n"
        ),
    );
    let log = log.to_str().unwrap();
    let table = at_width(&w, 60, &["report", "--by", "user,model", log], 0);
    assert_fits(&table, 60);
    assert!(table.contains("a-very-long-user-name"), "{table}");
    assert!(table.contains('…'), "{table}");
    assert!(!table.contains(user), "{table}");
    assert!(table.contains("$0.0075"), "{table}");
}

#[test]
fn a_width_of_zero_counts_as_unknown() {
    // COLUMNS=0 is not a width: the output is not fitted (a file), and never one letter per column.
    let w = Workdir::new();
    let out = at_width(&w, 0, &with(&["report"], &demo_exports()), 0);
    assert!(out.contains("cache read"), "{out}");
}
