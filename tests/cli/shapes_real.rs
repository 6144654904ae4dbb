//! Exports as people have them: Bedrock logs in every CloudWatch wrapping, a byte order mark at the start
//! of a file of every source, Claude Code lines that repeat a key. Costs are worked by hand from the
//! fixtures and the price tables in `pricing/`.

use crate::backends::on_each_backend;
use crate::{fixture, money, row, Workdir};

#[test]
fn bedrock_logs_in_every_cloudwatch_wrapping_cost_the_same() {
    let w = Workdir::new();
    // The same three invocations in each file (fixtures/bedrock/cloudwatch/README.md):
    // …0001 global Sonnet 4.5: 20_000 × $3/M + 1_000 × $15/M = 0.06 + 0.015 = $0.075
    // …0002 us. Haiku 4.5 (regional +10%): 10_000 × $1.10/M + 1_000 × $5.50/M = 0.011 + 0.0055 = $0.0165
    // …0003 global Sonnet 4.5: 1_000 × $3/M + 100_000 cache read × $0.30/M + 4_000 cache write × $3.75/M
    //       + 2_000 × $15/M = 0.003 + 0.03 + 0.015 + 0.03 = $0.078
    // total $0.1695
    let files = [
        "filter-log-events.json",
        "get-log-events.json",
        "console-export.json",
        "console-export.jsonl",
        "powershell.json",
        "insights-results.json",
        "get-query-results.json",
    ]
    .map(|f| fixture(&format!("bedrock/cloudwatch/{f}")));
    for f in &files {
        let r = w.json(&["report", "--month", "2026-10", "--by", "source,team", f]);
        assert_eq!(money(&r["total"]["cost"]), "0.1695", "{f}: {r}");
        assert_eq!(r["total"]["requests"], 3, "{f}");
        assert_eq!(money(&row(&r, "team", "support")["cost"]), "0.0165", "{f}");
        assert_eq!(row(&r, "team", "search")["source"], "bedrock", "{f}");
    }
    // Read together, each invocation counts once (the same requestId).
    let mut args = vec!["report", "--month", "2026-10"];
    args.extend(files.iter().map(String::as_str));
    let all = w.json(&args);
    assert_eq!(money(&all["total"]["cost"]), "0.1695");
    // No prompt or completion text reaches the ledger.
    on_each_backend(|w, store| {
        w.stdout(&["import", &files[0], &files[2]]);
        let export = w.stdout(&["ledger", "export", "--format", "jsonl"]);
        assert!(!export.contains("CONFIDENTIAL"), "{export}");
        let stored = store.contents(w);
        assert!(!String::from_utf8_lossy(&stored).contains("CONFIDENTIAL"));
    });
}

#[test]
fn a_byte_order_mark_at_the_start_is_ignored_for_every_source() {
    let w = Workdir::new();
    let one_per_source = [
        ("claude-code", "claude-code/projects/-home-alice-src-search-api/3f6c2a1e-8b4d-4c2f-9e7a-1d5b6c7e8f90.jsonl"),
        ("codex", "codex/sessions/2026/10/14/rollout-2026-10-14T09-00-00-0199e2a0-5c1e-7a3b-9f00-3c6d2e8b4a01.jsonl"),
        ("openai-usage", "openai-usage/page-2026.json"),
        ("anthropic-usage", "anthropic-usage/report.json"),
        ("bedrock", "bedrock/s3-object.json"),
        ("gcp-billing", "gcp-billing/billing-export.csv"),
        ("azure-cost", "azure-cost/cost-export-ea.csv"),
        ("openai-costs", "openai-costs/costs-page.json"),
        ("anthropic-cost", "anthropic-cost/cost-report.json"),
        ("openai-csv", "openai-csv/completions_usage_2026-10-01_2026-10-03.csv"),
        ("openrouter", "openrouter/generations.jsonl"),
        ("litellm", "litellm/spend-logs.csv"),
        ("api-log", "api-log/openai-chat.jsonl"),
    ];
    for (source, rel) in one_per_source {
        let plain = fixture(rel);
        let bytes = std::fs::read(&plain).unwrap();
        let name = std::path::Path::new(rel)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(&bytes);
        let dir = w.path().join("bom").join(source);
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join(name);
        std::fs::write(&f, with_bom).unwrap();
        let f = f.to_str().unwrap();
        let a = w.json_with_inputs(&["report", "--by", "source,model", f]);
        let b = w.json(&["report", "--by", "source,model", &plain]);
        assert_eq!(a["inputs"][0]["source"], source, "{rel}");
        assert!(a["inputs"][0]["records"].as_u64().unwrap() > 0, "{rel}");
        let mut a = a;
        a.as_object_mut().unwrap().remove("inputs");
        assert_eq!(a, b, "{rel}");
    }
}

#[test]
fn a_claude_code_line_that_repeats_a_key_keeps_the_last_as_javascript_does() {
    let w = Workdir::new();
    // The file starts with a byte order mark. Line 2 has `model` and `usage` twice: the last ones count,
    // claude-sonnet-4-5 with 1_000 in, 20_000 cache read, 500 out:
    // 1_000 × $3/M + 20_000 × $0.30/M + 500 × $15/M = 0.003 + 0.006 + 0.0075 = $0.0165.
    // Line 3 has `timestamp` twice and `output_tokens` twice (7, then 100):
    // 2_000 × $3/M + 100 × $15/M = 0.006 + 0.0015 = $0.0075. Total $0.024.
    let f = fixture("claude-code/quirks/session-duplicate-keys-bom.jsonl");
    let r = w.json(&["report", "--by", "model,day", &f]);
    assert_eq!(money(&r["total"]["cost"]), "0.024", "{r}");
    assert_eq!(r["total"]["requests"], 2);
    assert_eq!(r["rows"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(row(&r, "model", "claude-sonnet-4-5")["output_tokens"], 600);
}

#[test]
fn pages_of_a_period_with_no_usage_are_read_as_holding_nothing() {
    let w = Workdir::new();
    let files = [
        "openai-usage-quiet-week.json",
        "anthropic-usage-report.json",
        "openai-costs.json",
        "anthropic-cost-report.json",
        "litellm-spend-logs.json",
    ]
    .map(|f| fixture(&format!("empty-pages/{f}")));
    for f in &files {
        for command in ["report", "import"] {
            let out = w.run(&[command, f]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{command} {f}: {stderr}");
            assert!(
                stderr.contains(&format!("warning: {f}: the page holds no usage rows")),
                "{command} {f}: {stderr}"
            );
        }
    }
    // Nothing was added to the ledger.
    let stats = w.stdout(&["ledger", "stats", "--format", "json"]);
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats["records"], 0, "{stats}");

    // Beside a page with usage, empty pages change nothing in the report.
    let page = fixture("openai-usage/page-2026.json");
    let alone = w.json(&["report", "--month", "2026-10", &page]);
    let with_empty = w.json(&["report", "--month", "2026-10", &page, &files[0], &files[1]]);
    assert_eq!(alone, with_empty);
    assert!(alone["total"]["requests"].as_u64().unwrap() > 0, "{alone}");

    // A page whose buckets hold rows is not taken for an empty one, even when no importer knows it.
    let rows = w.write(
        "rows.json",
        r#"{"data":[{"starting_at":"2026-10-01T00:00:00Z","results":[{"tokens":1}]}]}"#,
    );
    let out = w.run(&["report", rows.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot tell which format"));
}
