//! `aispend report` on fixtures, read directly (no ledger) and from the ledger.

use crate::{fixture, money, row, Workdir};

#[test]
fn anthropic_messages_priced_per_request() {
    let w = Workdir::new();
    let r = w.json(&["report", &fixture("api-log/anthropic-messages.jsonl")]);
    assert_eq!(r["schema"], "aispend.report.v1");
    assert_eq!(r["period"]["start"], "2026-10-01T00:00:00Z");
    assert_eq!(r["period"]["end"], "2026-11-01T00:00:00Z");
    // claude-sonnet-4-5 ($3 in, $0.30 read, $3.75 5m write, $15 out; >200k: $6 / $22.50):
    //   line 1: 1_000 × 3 + 20_000 × 0.30 + 500 × 15                  = 16_500 µ$
    //   line 2: 200 × 3 + 3_000 × 3.75 + 300 × 15 = 16_350 µ$ + 3 searches × $10/1k = $0.04635
    //   line 4: 250_000 × 6 + 1_000 × 22.50 (whole request long)      = $1.5225
    //   = 0.0165 + 0.04635 + 1.5225 = $1.58535
    let sonnet = row(&r, "model", "claude-sonnet-4-5");
    assert_eq!(money(&sonnet["cost"]), "1.58535");
    assert_eq!(sonnet["requests"], 3);
    assert_eq!(sonnet["input_tokens"], 251_200);
    assert_eq!(sonnet["cache_read_tokens"], 20_000);
    assert_eq!(sonnet["cache_write_tokens"], 3_000);
    // claude-haiku-4-5: 100 × 1 + 10_000 × 0.10 + 2_000 × 1.25 (5m) + 4_000 × 2 (1h) + 400 × 5 = 13_600 µ$
    assert_eq!(
        money(&row(&r, "model", "claude-haiku-4-5")["cost"]),
        "0.0136"
    );
    // claude-opus-4-1: 50 × 15 + 100_000 × 1.50 + 2_000 × 30 (1h) + 800 × 75 = 270_750 µ$
    assert_eq!(
        money(&row(&r, "model", "claude-opus-4-1")["cost"]),
        "0.27075"
    );
    // claude-sonnet-4 batch: (10_000 × 3 + 2_000 × 15) × 0.5 = 30_000 µ$
    assert_eq!(money(&row(&r, "model", "claude-sonnet-4")["cost"]), "0.03");
    // total = 1.58535 + 0.0136 + 0.27075 + 0.03
    assert_eq!(money(&r["total"]["cost"]), "1.8997");
    assert_eq!(r["total"]["requests"], 6);
    assert_eq!(r["unpriced"].as_array().unwrap().len(), 0);
}

#[test]
fn openai_chat_tiers_reasoning_and_cache() {
    let w = Workdir::new();
    let r = w.json(&["report", &fixture("api-log/openai-chat.jsonl")]);
    // gpt-4o-2024-08-06: 1_000 × 2.50 + 200 × 10 = 4_500 µ$
    assert_eq!(money(&row(&r, "model", "gpt-4o")["cost"]), "0.0045");
    // gpt-4o-mini: 6_000 × 0.15 + 4_000 × 0.075 + 500 × 0.60 = 1_500 µ$
    assert_eq!(money(&row(&r, "model", "gpt-4o-mini")["cost"]), "0.0015");
    // o3 (after the 2025-06-10 cut): 1_000 × 2 + 1_000 × 0.50 + 3_000 × 8 = 26_500 µ$
    // (reasoning 2_500 is inside the 3_000 output, not added on top)
    let o3 = row(&r, "model", "o3");
    assert_eq!(money(&o3["cost"]), "0.0265");
    assert_eq!(o3["output_tokens"], 3_000);
    assert_eq!(o3["reasoning_tokens"], 2_500);
    // o4-mini flex = 0.5 ×: (5_000 × 1.10 + 1_000 × 4.40) × 0.5 = 4_950 µ$
    assert_eq!(money(&row(&r, "model", "o4-mini")["cost"]), "0.00495");
    // gpt-4.1 priority: 10_000 × 3.50 + 10_000 × 0.875 + 1_000 × 14 = 57_750 µ$
    assert_eq!(money(&row(&r, "model", "gpt-4.1")["cost"]), "0.05775");
    assert_eq!(money(&r["total"]["cost"]), "0.0952");
}

#[test]
fn openai_usage_both_spec_generations() {
    let w = Workdir::new();
    let r = w.json(&["report", &fixture("openai-usage/page-2026.json")]);
    // gpt-4.1: 70_000 × 2 + 48_000 × 0.50 + 2_000 (cache write, billed as input) × 2 + 9_500 × 8 = 244_000 µ$
    assert_eq!(money(&row(&r, "model", "gpt-4.1")["cost"]), "0.244");
    // gpt-4o-mini batch: (4M × 0.15 + 1M × 0.075 + 800_000 × 0.60) × 0.5 = $0.5775
    assert_eq!(money(&row(&r, "model", "gpt-4o-mini")["cost"]), "0.5775");
    assert_eq!(row(&r, "model", "gpt-4o-mini")["requests"], 5_000);
    // o3 flex: (100_000 × 2 + 20_000 × 0.50 + 60_000 × 8) × 0.5 = $0.345
    assert_eq!(money(&row(&r, "model", "o3")["cost"]), "0.345");
    // gpt-5 priority: 10_000 × 2.50 + 20_000 × 20 = $0.425
    assert_eq!(money(&row(&r, "model", "gpt-5")["cost"]), "0.425");
    // gpt-4.1-mini: 500_000 × 0.40 + 50_000 × 1.60 = $0.28
    assert_eq!(money(&row(&r, "model", "gpt-4.1-mini")["cost"]), "0.28");
    assert_eq!(money(&r["total"]["cost"]), "1.8715");

    // Legacy page (July 2026): input_tokens INCLUDES cached, so uncached = 100_000 − 40_000 = 60_000.
    let r = w.json(&["report", &fixture("openai-usage/legacy-page.json")]);
    let gpt4o = row(&r, "model", "gpt-4o");
    assert_eq!(gpt4o["input_tokens"], 60_000);
    assert_eq!(gpt4o["cache_read_tokens"], 40_000);
    // 60_000 × 2.50 + 40_000 × 1.25 + 20_000 × 10 = 150_000 + 50_000 + 200_000 = $0.40
    assert_eq!(money(&gpt4o["cost"]), "0.4");
}

#[test]
fn anthropic_usage_context_window_and_missing_tier() {
    let w = Workdir::new();
    let r = w.json(&[
        "report",
        &fixture("anthropic-usage/report.json"),
        "--by",
        "model,workspace",
    ]);
    // claude-sonnet-4-5, research workspace:
    //   row 1: 15_000 × 3 + 400_000 × 0.30 + 20_000 × 3.75 + 8_000 × 15 = 360_000 µ$ + 3 × $0.01 = $0.39
    //   row 2 ("200k-1M": long-context rates for every class):
    //          500_000 × 6 + 100_000 × 0.60 + 5_000 × 22.50 = $3.1725
    //   row 6: 30_000 × 3 + 200_000 × 0.30 + 10_000 × 3.75 + 5_000 × 6 + 12_000 × 15 = $0.3975
    //   = 0.39 + 3.1725 + 0.3975 = $3.96
    let sonnet = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["model"] == "claude-sonnet-4-5")
        .unwrap();
    assert_eq!(money(&sonnet["cost"]), "3.96");
    // claude-haiku-4-5 batch: (1M × 1 + 200_000 × 5) × 0.5 = $1
    assert_eq!(money(&row(&r, "model", "claude-haiku-4-5")["cost"]), "1");
    // claude-sonnet-4, default workspace (workspace_id null): 2_000 × 3 + 1_000 × 15 = $0.021
    let s4 = row(&r, "model", "claude-sonnet-4");
    assert_eq!(s4["workspace"], "default");
    assert_eq!(money(&s4["cost"]), "0.021");
    // claude-opus-4-1 on the priority tier has no published rate in our table: unpriced, not $0
    let unpriced = r["unpriced"].as_array().unwrap();
    assert_eq!(unpriced.len(), 1);
    assert_eq!(unpriced[0]["model"], "claude-opus-4-1");
    assert!(unpriced[0]["reason"].as_str().unwrap().contains("priority"));
    assert_eq!(money(&r["total"]["cost"]), "4.981");
}

#[test]
fn claude_code_keeps_the_largest_partial_once() {
    let w = Workdir::new();
    let r = w.json(&[
        "report",
        &fixture("claude-code/projects"),
        "--by",
        "project",
    ]);
    // search-api: A 3 × 3 + 10_000 × 0.30 + 2_000 × 3.75 + 420 × 15 = 16_809 µ$ (largest partial only)
    //             B 5 × 3 + 12_000 × 0.30 + 1_000 × 6 + 300 × 15 = 14_115 µ$ (once, though in two sessions)
    //             C (haiku) 50 × 1 + 5_000 × 0.10 + 1_000 × 1.25 + 200 × 5 = 2_800 µ$
    //             E 8 × 3 + 15_000 × 0.30 + 500 × 3.75 + 250 × 15 = 10_149 µ$
    //             = 43_873 µ$
    let search = row(&r, "project", "search-api");
    assert_eq!(money(&search["cost"]), "0.043873");
    assert_eq!(search["requests"], 4);
    assert_eq!(search["output_tokens"], 420 + 300 + 200 + 250);
    // billing-svc (spaced JSON): D opus-4-1 10 × 15 + 30_000 × 1.50 + 600 × 75 = 90_150 µ$
    assert_eq!(money(&row(&r, "project", "billing-svc")["cost"]), "0.09015");
    assert_eq!(money(&r["total"]["cost"]), "0.134023");
}

#[test]
fn unknown_models_are_listed_never_zero() {
    let w = Workdir::new();
    let r = w.json(&["report", &fixture("api-log/unknown-model.jsonl")]);
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "only gpt-4o is priced: {r:#}");
    // gpt-4o: 1_000 × 2.50 + 100 × 10 = 3_500 µ$
    assert_eq!(money(&r["total"]["cost"]), "0.0035");
    let u = &r["unpriced"][0];
    assert_eq!(u["provider"], "openai");
    assert_eq!(u["model"], "gpt-9-preview");
    assert_eq!(u["requests"], 2);
    assert_eq!(u["input_tokens"], 2_500);
    assert_eq!(u["cache_read_tokens"], 500);
    assert_eq!(u["output_tokens"], 300);
    // the table says so too
    let out = w.stdout(&[
        "report",
        &fixture("api-log/unknown-model.jsonl"),
        "--format",
        "table",
    ]);
    assert!(
        out.contains("Unpriced") && out.contains("gpt-9-preview"),
        "{out}"
    );
}

#[test]
fn failed_requests_cost_nothing_but_count() {
    let w = Workdir::new();
    let r = w.json(&[
        "report",
        &fixture("api-log/failed.jsonl"),
        "--by",
        "provider",
    ]);
    assert_eq!(r["total"]["requests"], 3);
    assert_eq!(r["total"]["failed_requests"], 3);
    assert_eq!(money(&r["total"]["cost"]), "0");
    assert_eq!(r["unpriced"].as_array().unwrap().len(), 0);
}

#[test]
fn gemini_thoughts_are_output_and_long_prompts_reprice() {
    let w = Workdir::new();
    let r = w.json(&["report", &fixture("api-log/gemini.jsonl")]);
    // gemini-2.5-pro line 3 (300_000 prompt > 200k): 300_000 × 2.50 + 3_000 × 15 = 795_000 µ$
    //                line 4 (100_000 incl. 50_000 cached): 50_000 × 1.25 + 50_000 × 0.125 + 1_500 × 10
    //                       = 62_500 + 6_250 + 15_000 = 83_750 µ$
    let pro = row(&r, "model", "gemini-2.5-pro");
    assert_eq!(money(&pro["cost"]), "0.87875");
    assert_eq!(pro["output_tokens"], 4_500);
    assert_eq!(pro["reasoning_tokens"], 1_500);
    // gemini-2.5-flash: 6_000 × 0.30 + 4_000 × 0.03 + 2_000 (500 candidates + 1_500 thoughts) × 2.50
    //                   = 1_800 + 120 + 5_000 = 6_920 µ$
    assert_eq!(
        money(&row(&r, "model", "gemini-2.5-flash")["cost"]),
        "0.00692"
    );
    // gemini-2.0-flash: 2_000 × 0.10 + 300 × 0.40 = 320 µ$
    assert_eq!(
        money(&row(&r, "model", "gemini-2.0-flash")["cost"]),
        "0.00032"
    );
}

#[test]
fn folders_gzip_and_duplicates_count_once() {
    let w = Workdir::new();
    // openai-chat.jsonl.gz is a gzip copy of openai-chat.jsonl: read together, each response counts once.
    let both = w.json(&[
        "report",
        &fixture("api-log/openai-chat.jsonl"),
        &fixture("api-log/openai-chat.jsonl.gz"),
    ]);
    assert_eq!(both["total"]["requests"], 5);
    assert_eq!(money(&both["total"]["cost"]), "0.0952");
    let r = w.json(&["report", &fixture("api-log/duplicates.jsonl")]);
    assert_eq!(r["total"]["requests"], 2);
}

#[test]
fn group_filter_top_and_formats() {
    let w = Workdir::new();
    let f = fixture("api-log/openai-chat.jsonl");
    let r = w.json(&[
        "report",
        &f,
        "--where",
        "model=gpt-4*",
        "--by",
        "provider,model",
    ]);
    let models: Vec<&str> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["model"].as_str().unwrap())
        .collect();
    assert_eq!(
        models,
        ["gpt-4.1", "gpt-4o", "gpt-4o-mini"],
        "sorted by cost, filtered"
    );
    // --top 2 folds the rest into (other); the total is unchanged
    let r = w.json(&["report", &f, "--top", "2"]);
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2]["model"], "(other)");
    // (other) = o4-mini 0.00495 + gpt-4o 0.0045 + gpt-4o-mini 0.0015
    assert_eq!(money(&rows[2]["cost"]), "0.01095");
    assert_eq!(money(&r["total"]["cost"]), "0.0952");
    let csv = w.stdout(&["report", &f, "--format", "csv"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "model,requests,input_tokens,cache_read_tokens,cache_write_tokens,output_tokens,reasoning_tokens,failed_requests,cost,reported_cost,price_source,tool_calls,tool_fees"
    );
    assert_eq!(
        lines.next().unwrap(),
        "gpt-4.1,1,10000,10000,0,1000,0,0,0.05775,,table,0,0"
    );
    let md = w.stdout(&["report", &f, "--format", "markdown"]);
    assert!(md.contains("| model | requests |"), "{md}");
    assert!(
        md.contains("| gpt-4.1 | 1 | 10,000 | 10,000 | 0 | 1,000 | $0.06 |"),
        "{md}"
    );
    let table = w.stdout(&["report", &f]);
    assert!(
        table.contains("gpt-4.1") && table.contains("$0.10"),
        "{table}"
    );
}

#[test]
fn teams_from_config_rules() {
    let w = Workdir::new();
    w.write(
        "aispend.toml",
        r#"[teams]
rules = [ { team = "research", workspace = "wrkspc_01FxResearch*" } ]
"#,
    );
    let r = w.json(&[
        "report",
        &fixture("anthropic-usage/report.json"),
        "--by",
        "team",
    ]);
    // research = everything but the default-workspace row: 4.981 − 0.021 = 4.96
    assert_eq!(money(&row(&r, "team", "research")["cost"]), "4.96");
    assert_eq!(money(&row(&r, "team", "unassigned")["cost"]), "0.021");
}

#[test]
fn period_selection() {
    let w = Workdir::new();
    let f = fixture("openai-usage/page-2026.json");
    // only 2026-10-02: gpt-4.1-mini $0.28
    let r = w.json(&[
        "report",
        &f,
        "--since",
        "2026-10-02",
        "--until",
        "2026-10-02",
    ]);
    assert_eq!(money(&r["total"]["cost"]), "0.28");
    assert_eq!(r["period"]["end"], "2026-10-03T00:00:00Z");
    let r = w.json(&["report", &f, "--month", "2026-09"]);
    assert_eq!(r["rows"].as_array().unwrap().len(), 0);
    assert_eq!(money(&r["total"]["cost"]), "0");
    let r = w.json(&["report", &f, "--by", "day"]);
    assert_eq!(money(&row(&r, "day", "2026-10-01")["cost"]), "1.5915");
}

#[test]
fn compare_with_the_previous_period() {
    let w = Workdir::new();
    let f = fixture("openai-usage/page-2026.json");
    // 2026-10-02 against the day before (2026-10-01)
    let r = w.json(&[
        "report",
        &f,
        "--since",
        "2026-10-02",
        "--until",
        "2026-10-02",
        "--compare",
        "--sort",
        "change",
    ]);
    assert_eq!(r["previous_period"]["start"], "2026-10-01T00:00:00Z");
    assert_eq!(r["previous_period"]["end"], "2026-10-02T00:00:00Z");
    let order: Vec<&str> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["model"].as_str().unwrap())
        .collect();
    // |changes|: gpt-4o-mini −0.5775, gpt-5 −0.425, o3 −0.345, gpt-4.1-mini +0.28, gpt-4.1 −0.244
    assert_eq!(
        order,
        ["gpt-4o-mini", "gpt-5", "o3", "gpt-4.1-mini", "gpt-4.1"]
    );
    let mini = row(&r, "model", "gpt-4.1-mini");
    assert_eq!(money(&mini["previous_cost"]), "0");
    assert_eq!(money(&mini["change"]), "0.28");
    assert!(
        mini["change_pct"].is_null(),
        "nothing before: no percentage"
    );
    let gpt41 = row(&r, "model", "gpt-4.1");
    assert_eq!(money(&gpt41["cost"]), "0");
    assert_eq!(money(&gpt41["change"]), "-0.244");
    assert_eq!(gpt41["change_pct"], "-100");
    // total: 0.28 now against 1.5915 before: −1.3115, −82.4 %
    assert_eq!(money(&r["total"]["previous_cost"]), "1.5915");
    assert_eq!(money(&r["total"]["change"]), "-1.3115");
    assert_eq!(r["total"]["change_pct"], "-82.4");
    let table = w.stdout(&[
        "report",
        &f,
        "--since",
        "2026-10-02",
        "--until",
        "2026-10-02",
        "--compare",
        "--format",
        "table",
    ]);
    assert!(
        table.contains("change %") && table.contains("-82.4%") && table.contains("new"),
        "{table}"
    );
    let bad = w.run(&["report", &f, "--sort", "change"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn responses_logged_as_text_or_as_streamed_chunks() {
    let w = Workdir::new();
    let f = w.write(
        "gateway.jsonl",
        concat!(
            // the body kept as JSON text, as many gateways log it
            r#"{"timestamp":"2026-10-02T10:00:00Z","provider":"openai","response":"{\"id\":\"chatcmpl-t1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100}}"}"#,
            "\n",
            // a Gemini stream saved as its array of chunks: usage is in the last one
            r#"{"timestamp":"2026-10-02T10:00:01Z","provider":"google","response":[{"candidates":[],"modelVersion":"gemini-2.5-flash","responseId":"g1"},{"candidates":[],"usageMetadata":{"promptTokenCount":1000,"candidatesTokenCount":100},"modelVersion":"gemini-2.5-flash","responseId":"g1"}]}"#,
            "\n"
        ),
    );
    let r = w.json(&["report", f.to_str().unwrap()]);
    // gpt-4o: 1_000 × $2.50/M + 100 × $10/M = 3_500 µ$
    assert_eq!(money(&row(&r, "model", "gpt-4o")["cost"]), "0.0035");
    // gemini-2.5-flash: 1_000 × $0.30/M + 100 × $2.50/M = 550 µ$
    assert_eq!(
        money(&row(&r, "model", "gemini-2.5-flash")["cost"]),
        "0.00055"
    );
}

#[test]
fn a_csv_report_warns_on_stderr_about_usage_it_leaves_out() {
    let w = Workdir::new();
    // 2 gpt-9-preview requests have no price; the gpt-4o one is 1,000 × $2.50/M + 100 × $10/M = $0.0035
    let out = w.run(&[
        "report",
        "--format",
        "csv",
        &fixture("api-log/unknown-model.jsonl"),
    ]);
    assert!(out.status.success());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        stderr.lines().any(|l| l
            == "warning: usage of gpt-9-preview has no price and is not in the CSV (see `aispend pricing missing`)"),
        "{stderr}"
    );
    // The per-file account ends the run: 3 records read, 2 of them unpriced.
    assert!(
        stderr.contains("unknown-model.jsonl: api-log, 3 records, 2 unpriced\n"),
        "{stderr}"
    );
    assert!(
        stdout
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("gpt-4o,1,1000,0,0,100,0,0,0.0035,"),
        "{stdout}"
    );
    assert!(!stdout.contains("gpt-9-preview"), "{stdout}");
    // everything priced: nothing to warn about; --quiet silences the warning
    let out = w.run(&[
        "report",
        "--format",
        "csv",
        &fixture("api-log/gemini.jsonl"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("warning"),
        "{stderr}"
    );
    let out = w.run(&[
        "--quiet",
        "report",
        "--format",
        "csv",
        &fixture("api-log/unknown-model.jsonl"),
    ]);
    assert!(out.status.success() && out.stderr.is_empty());
}
