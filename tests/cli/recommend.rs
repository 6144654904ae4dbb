//! `aispend recommend` on the demo (with `fixtures/demo-review`), and `report --allocate` with budgets
//! `allocated = true`. The rules' hand-worked numbers are in `src/recommend/tests.rs`; here: every kind
//! shows on the demo, and the command printed beside a saving reproduces it.

use super::{fixture, money, row, Workdir};

fn demo_recommend(w: &Workdir) -> serde_json::Value {
    w.json(&[
        "--config",
        &fixture("demo/aispend.toml"),
        "recommend",
        &fixture("demo"),
        &fixture("demo-review"),
    ])
}

#[test]
fn the_demo_shows_every_kind_and_a_command_reproduces_each_saving() {
    let w = Workdir::new();
    let v = demo_recommend(&w);
    assert_eq!(v["schema"], "aispend.recommend.v1");
    let rows = v["rows"].as_array().unwrap();
    let mut kinds: Vec<&str> = rows.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            "batchable",
            "cache-1h-unread",
            "cache-unused",
            "long-context-edge",
            "premium-short-output",
            "priority-tier",
            "stale-prices"
        ]
    );
    // ranked by saving; stale prices (no saving, an amount off the invoice) last
    let savings: Vec<rust_decimal::Decimal> = rows
        .iter()
        .filter_map(|r| r["saving"].as_str())
        .map(|s| s.parse().unwrap())
        .collect();
    assert!(savings.windows(2).all(|p| p[0] >= p[1]), "{savings:?}");
    assert_eq!(rows.last().unwrap()["kind"], "stale-prices");
    // the demo's 12 contract reviews at 204k–216k prompt tokens, and the command that reproduces the saving
    let edge = row(&v, "kind", "long-context-edge");
    assert_eq!(edge["evidence"]["requests"], 12);
    for kind in ["long-context-edge", "cache-1h-unread"] {
        let r = row(&v, "kind", kind);
        let command = r["command"].as_str().unwrap();
        let words: Vec<&str> = command.split(' ').collect();
        assert_eq!(words[0], "aispend", "{command}");
        let what = w.json(&words[1..]);
        let difference: rust_decimal::Decimal =
            money(&what["total"]["difference"]).parse().unwrap();
        let saving: rust_decimal::Decimal = money(&r["saving"]).parse().unwrap();
        assert_eq!(difference, -saving, "{command}");
        assert_eq!(
            money(&what["total"]["cost"]),
            money(&r["cost"]),
            "{command}"
        );
    }
    // the pipeline's gpt-4.1-mini billed 8% above the table from 2026-10-20: a stale price
    let stale = row(
        &v,
        "id",
        "stale-prices/provider=openai,project=proj_Dq7Kt2Lm9NpXw4Rb,model=gpt-4.1-mini",
    );
    assert!(stale["saving"].is_null());
    assert!(stale["command"]
        .as_str()
        .unwrap()
        .contains("report --reconcile"));
}

#[test]
fn markdown_is_a_monthly_review() {
    let w = Workdir::new();
    let md = w.stdout(&[
        "--config",
        &fixture("demo/aispend.toml"),
        "recommend",
        "--format",
        "markdown",
        &fixture("demo-review"),
    ]);
    assert!(
        md.starts_with("### Recommendations, 2026-10-01 to 2026-10-31"),
        "{md}"
    );
    assert!(
        md.contains("| # | recommendation | kind | cost now | saving |"),
        "{md}"
    );
    assert!(md.contains("```sh\naispend --config "), "{md}");
}

/// `fixtures/api-log/anthropic-messages.jsonl` with research's spend shared.
fn allocation_config(w: &Workdir, by: &str) -> String {
    w.write(
        "aispend.toml",
        &format!("[allocation]\nshared = [\"research\"]\nby = \"{by}\"\n"),
    )
    .display()
    .to_string()
}

#[test]
fn allocation_spreads_shared_spend_and_keeps_the_total_to_the_last_digit() {
    let w = Workdir::new();
    let allocated = |by: &str| {
        let config = allocation_config(&w, by);
        let log = fixture("api-log/anthropic-messages.jsonl");
        w.json(&["--config", &config, "report", "--allocate", &log])
    };
    let v = allocated("cost");
    // direct (fixtures/README.md): support = lines 1-3 = $0.0165 + $0.04635 + $0.0136 = $0.07645;
    // search = line 4 = $1.5225; research = lines 5-6 = $0.27075 + $0.03 = $0.30075 (shared).
    // research's $0.30075 by cost 0.07645 : 1.5225 (Σ 1.59895): support 0.0143796…, search 0.2863703…;
    // cut to the pool's 5 places: 0.01437 + 0.28637 = 0.30074; the 0.00001 left goes to the larger cut-off
    // remainder (support's 0.0000096… > search's 0.0000003…): 0.01438
    let support = row(&v, "team", "support");
    assert_eq!(money(&support["direct_cost"]), "0.07645");
    assert_eq!(money(&support["allocated_cost"]), "0.01438");
    assert_eq!(money(&support["cost"]), "0.09083");
    let search = row(&v, "team", "search");
    assert_eq!(money(&search["cost"]), "1.80887");
    let research = row(&v, "team", "research");
    assert_eq!(money(&research["allocated_cost"]), "-0.30075");
    assert_eq!(money(&research["cost"]), "0");
    // $0.07645 + $1.5225 + $0.30075 = $1.8997, before and after
    assert_eq!(money(&v["total"]["direct_cost"]), "1.8997");
    assert_eq!(money(&v["total"]["cost"]), "1.8997");
    // evenly: $0.30075 / 2 = 0.150375 each, cut to the pool's 5 places: 0.15037 each; the 0.00001 left
    // goes (equal remainders, equal bases) to the name first in alphabetical order: search 0.15038
    let v = allocated("even");
    assert_eq!(
        money(&row(&v, "team", "search")["allocated_cost"]),
        "0.15038"
    );
    assert_eq!(
        money(&row(&v, "team", "support")["allocated_cost"]),
        "0.15037"
    );
    // no [allocation]: a clear error
    let out = w.run(&[
        "--config",
        &w.write("empty.toml", "").display().to_string(),
        "report",
        "--allocate",
        &fixture("api-log/anthropic-messages.jsonl"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[allocation]"));
}

#[test]
fn a_budget_can_measure_allocated_spend() {
    let w = Workdir::new();
    let config = allocation_config(&w, "cost");
    // support's direct $0.07645 is under a $0.08 limit (warn at 80% = $0.064); with its share of
    // research's spend it is $0.09083 (all on 2026-10-07, so the day's allocation is the period's): breach
    let budgets = w.write(
        "budgets.toml",
        "[[budget]]\nname = \"support direct\"\nlimit = \"0.08\"\nteam = \"support\"\nfail_on = \"actual\"\n\n\
         [[budget]]\nname = \"support allocated\"\nlimit = \"0.08\"\nteam = \"support\"\nfail_on = \"actual\"\nallocated = true\n",
    );
    let out = w.stdout_code(
        &[
            "--config",
            &config,
            "budget",
            "check",
            "--budgets",
            &budgets.display().to_string(),
            "--as-of",
            "2026-10-07",
            "--format",
            "json",
            &fixture("api-log/anthropic-messages.jsonl"),
        ],
        1,
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let direct = &v["budgets"][0];
    let allocated = &v["budgets"][1];
    assert_eq!(money(&direct["actual"]), "0.07645");
    assert_eq!(direct["status"], "warn");
    assert_eq!(money(&allocated["actual"]), "0.09083");
    assert_eq!(allocated["status"], "breach");
}
