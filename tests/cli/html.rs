//! `report --format html`: the page's content and escaping (read as text), and the demo page loaded in a
//! real browser (headless Chromium): no console errors, nothing fetched, the chart's series and the
//! totals on the page equal to the JSON report's.

use std::path::{Path, PathBuf};
use std::process::Command;

use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::tables::dollars;
use crate::{fixture, money, Workdir};

/// The demo month cut at 2026-10-15, by team, with the demo budgets: every section of the page.
fn demo_args(format: &str) -> Vec<String> {
    [
        "--config",
        &fixture("demo/aispend.toml"),
        "report",
        "--by",
        "team",
        "--as-of",
        "2026-10-15",
        "--format",
        format,
        &fixture("demo"),
    ]
    .map(String::from)
    .to_vec()
}

fn demo_page(w: &Workdir) -> (String, Value) {
    let mut args = demo_args("html");
    args.extend(["--budgets".into(), fixture("budgets/demo.toml")]);
    args.extend(["-o".into(), "report.html".into()]);
    let out = w.cmd().args(&args).output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "-o writes the file only");
    let page = std::fs::read_to_string(w.path().join("report.html")).expect("report.html");
    let json: Value = serde_json::from_slice(
        &w.cmd()
            .args(demo_args("json"))
            .output()
            .expect("run")
            .stdout,
    )
    .expect("json");
    (page, json)
}

/// The value of every `data-v` attribute of the chart's bars (`<rect … data-v="…">`).
fn bar_values(page: &str) -> Vec<Decimal> {
    page.split("<rect ")
        .skip(1)
        .filter_map(|tag| {
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            let v = tag.split("data-v=\"").nth(1)?;
            Some(v[..v.find('"')?].parse().expect("decimal"))
        })
        .collect()
}

#[test]
fn demo_page_is_complete_without_script_and_fetches_nothing() {
    let w = Workdir::new();
    let (page, json) = demo_page(&w);
    // Every priced dollar of the period is in exactly one bar of the chart.
    let bars: Decimal = bar_values(&page).iter().sum();
    assert_eq!(bars.normalize().to_string(), money(&json["total"]["cost"]));
    // One series per team, in the JSON's order (most expensive first), in the static SVG.
    for row in json["rows"].as_array().expect("rows") {
        let team = row["team"].as_str().expect("team");
        assert!(
            page.contains(&format!("<g class=\"series\" data-series=\"{team}\"")),
            "{team}"
        );
    }
    assert!(page.contains(&format!(
        "id=\"total-spent\" data-cost=\"{}\">{}<",
        money(&json["total"]["cost"]),
        dollars(money(&json["total"]["cost"]))
    )));
    // The period is cut at the 15th: the forecast runs to the 31st, with its cone and the budgets.
    assert!(page.contains("Forecast to 2026-10-31"));
    assert!(page.contains("<polygon class=\"cone\""));
    assert!(page.contains("<title>2026-10-31 (forecast)"));
    assert!(page.contains("Budget data monthly"));
    assert!(page.contains(">breach<"));
    // The hover text is there without script, as each day's native tooltip.
    assert!(page.contains("<title>2026-10-15: $"));
    // Unpriced usage is listed as such, never as $0.
    assert!(page.contains("<td>claude-sonnet-4-5</td><td>no rate for service tier 'priority'</td>"));
    assert!(page.contains("<td class=\"num muted\">unpriced</td>"));
    // Reconciliation against the invoice files of the demo.
    assert!(page.contains("Reconciliation with invoices"));
    // Self-contained: one inline script, a policy that forbids fetching, no address anywhere.
    assert_eq!(page.matches("<script").count(), 1);
    assert!(page.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    for fetch in ["http://", "https://", " src=", "url(", "@import", "<link"] {
        assert!(
            !page.contains(fetch),
            "the page must not fetch: found {fetch}"
        );
    }
    assert!(page.contains("@media print") && page.contains("prefers-color-scheme: dark"));
}

#[test]
fn hostile_names_stay_text() {
    let w = Workdir::new();
    let hostile_team = "<script>alert(1)</script>";
    let hostile_model = "\"onmouseover=alert(2) x=\"";
    let line = |id: &str, team: &str, model: &str| {
        json!({
            "timestamp": "2026-10-05T10:00:00Z", "team": team, "tags": {"env": "<img src=x onerror=alert(3)>"},
            "response": {"id": id, "object": "chat.completion", "model": model,
                         "usage": {"prompt_tokens": 1000, "completion_tokens": 100}},
        })
        .to_string()
    };
    w.write(
        "hostile.jsonl",
        &format!(
            "{}\n{}\n",
            line("chatcmpl-1", hostile_team, "gpt-4o"),
            line("chatcmpl-2", "ok", hostile_model)
        ),
    );
    let page = w.stdout(&[
        "report",
        "--by",
        "team,tag:env",
        "--format",
        "html",
        "hostile.jsonl",
    ]);
    // 1,000 × $2.50/M + 100 × $10/M = $0.0025 + $0.001 = $0.0035 (the hostile model has no price).
    assert!(page.contains("data-cost=\"0.0035\">$0.0035<"), "{page}");
    assert_eq!(
        page.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(!page.contains("<img"));
    assert!(!page.contains("\"onmouseover"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("&quot;onmouseover=alert(2) x=&quot;"));
    assert!(page.contains("&lt;img src=x onerror=alert(3)&gt;"));
    if let Some(browser) = chromium() {
        let file = w.write("hostile.html", &page);
        let run = load(&browser, &file, &w.path().join("profile"), None);
        assert_eq!(run.check["series"], json!([hostile_team]));
        assert!(run.console.is_empty(), "{:?}", run.console);
    }
}

#[test]
fn html_usage_errors_and_as_of() {
    let w = Workdir::new();
    let log = fixture("api-log/openai-chat.jsonl");
    for (args, message) in [
        (
            vec!["report", "--budgets", "b.toml", &log],
            "--budgets applies to --format html",
        ),
        (
            vec!["report", "--format", "html", "--reconcile", &log],
            "has its own reconciliation",
        ),
        (
            vec!["report", "--format", "html", "-"],
            "not standard input",
        ),
        (
            vec![
                "report",
                "--as-of",
                "2026-09-01",
                "--month",
                "2026-10",
                &log,
            ],
            "before the period starts",
        ),
    ] {
        let out = w.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(message),
            "{args:?}"
        );
    }
    // --as-of cuts any format's period: the same as --since/--until.
    let cut = w.json(&[
        "report",
        "--as-of",
        "2026-10-15",
        "--month",
        "2026-10",
        &fixture("demo/api-logs"),
    ]);
    let dates = w.json(&[
        "report",
        "--since",
        "2026-10-01",
        "--until",
        "2026-10-15",
        &fixture("demo/api-logs"),
    ]);
    assert_eq!(cut["period"], dates["period"]);
    assert_eq!(cut["total"], dates["total"]);
}

/// The browser, when installed. In CI (`CI=true`) a missing browser fails the test instead of skipping it.
fn chromium() -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is required in CI (.ci/run installs Debian's `chromium` package)"
        );
        eprintln!(
            "chromium not installed: the browser checks are skipped (CI=true makes this a failure)"
        );
    }
    found
}

struct BrowserRun {
    /// `<body data-check>`, written by the page's script after it ran.
    check: Value,
    /// Console messages (errors, warnings, policy violations, logs).
    console: Vec<String>,
}

/// Loads `page` in headless Chromium with a fresh profile, returns the page's self-check and its console
/// messages, and with `screenshot` also saves a picture of it.
fn load(browser: &Path, page: &Path, profile: &Path, screenshot: Option<&Path>) -> BrowserRun {
    let run = |extra: &[String]| {
        let out = Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .output()
            .expect("run chromium");
        assert!(
            out.status.success(),
            "chromium: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let out = run(&["--dump-dom".to_string()]);
    let dom = String::from_utf8(out.stdout).expect("utf-8 DOM");
    let attr = dom
        .split("data-check=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("the page's script did not run: no data-check in {dom}"));
    let check = attr
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(String::from)
        .collect();
    if let Some(png) = screenshot {
        run(&[
            format!("--screenshot={}", png.display()),
            "--window-size=1100,2300".to_string(),
        ]);
    }
    BrowserRun {
        check: serde_json::from_str(&check).expect("data-check is JSON"),
        console,
    }
}

#[test]
fn demo_page_in_a_real_browser() {
    let Some(browser) = chromium() else { return };
    let w = Workdir::new();
    let (_, json) = demo_page(&w);
    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report.png");
    let run = load(
        &browser,
        &w.path().join("report.html"),
        &w.path().join("profile"),
        Some(&screenshot),
    );
    assert!(
        run.console.is_empty(),
        "console messages: {:?}",
        run.console
    );
    assert_eq!(run.check["resources"], 0, "the page fetched something");
    // The chart's series: the demo's six teams, most expensive first, as in the JSON report.
    let teams: Vec<&str> = json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["team"].as_str().expect("team"))
        .collect();
    assert_eq!(teams.len(), 6);
    assert_eq!(run.check["series"], json!(teams));
    assert_eq!(run.check["rows"], 6);
    // The total on the page is the JSON report's, exactly and as shown.
    assert_eq!(run.check["total_cost"], json["total"]["cost"]);
    assert_eq!(
        run.check["total_shown"].as_str(),
        Some(dollars(money(&json["total"]["cost"])).as_str())
    );
    let png = std::fs::metadata(&screenshot).expect("screenshot saved");
    assert!(png.len() > 10_000, "an empty screenshot");
}
