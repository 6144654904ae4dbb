//! Billing-side importers on their fixtures: `openai-costs`, `openai-csv`, `anthropic-cost`, `openrouter`,
//! `litellm`. Costs are worked by hand from the fixtures and the price tables in `pricing/`.

use crate::backends::on_each_backend;
use crate::errors::assert_each_rejected;
use crate::{fixture, money, row, Workdir};

fn records(w: &Workdir) -> u64 {
    let out = w.stdout(&["ledger", "stats"]);
    let line = out
        .lines()
        .find(|l| l.starts_with("records:"))
        .expect("records line");
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap()
}

#[test]
fn openai_costs_are_reported_cost_only() {
    let w = Workdir::new();
    let r = w.json(&["report", &fixture("openai-costs/costs-page.json")]);
    // Invoice-side amounts: zero tokens and zero requests, so nothing is computed; the amounts are reported.
    assert_eq!(money(&r["total"]["cost"]), "0");
    assert_eq!(r["total"]["requests"], 0);
    assert_eq!(r["total"]["input_tokens"], 0);
    // gpt-4o-2024-08-06: $1.25 input + $2.50 output = $3.75
    assert_eq!(money(&row(&r, "model", "gpt-4o")["reported_cost"]), "3.75");
    // gpt-4.1-mini: 0.123456789 + 1e-2 (exponent notation) = $0.133456789, every digit kept
    assert_eq!(
        money(&row(&r, "model", "gpt-4.1-mini")["reported_cost"]),
        "0.133456789"
    );
    assert_eq!(money(&row(&r, "model", "o3")["reported_cost"]), "0.0375");
    // "web search tool calls" names no model
    assert_eq!(money(&row(&r, "model", "unknown")["reported_cost"]), "0.1");
    // 3.75 + 0.133456789 + 0.0375 + 0.1 = 4.020956789
    assert_eq!(money(&r["total"]["reported_cost"]), "4.020956789");
    assert_eq!(r["unpriced"].as_array().unwrap().len(), 0);

    let by_key = w.json(&[
        "report",
        &fixture("openai-costs/costs-page.json"),
        "--by",
        "project,api_key",
    ]);
    let search_key = by_key["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["api_key"] == "key_FxSearchProd1")
        .unwrap();
    assert_eq!(search_key["project"], "proj_FxSearch01Ab");
    assert_eq!(money(&search_key["reported_cost"]), "3.75");
}

#[test]
fn the_cost_csv_and_the_costs_api_count_a_day_once() {
    let w = Workdir::new();
    let page = fixture("openai-costs/costs-page.json");
    let csv = fixture("openai-csv/cost_2026-10-04_2026-10-06.csv");
    let r = w.json(&["report", &csv]);
    // 0.0375 + 0.1 + 0.123456789 + 0.5 (the empty bucket row is skipped)
    assert_eq!(money(&r["total"]["reported_cost"]), "0.760956789");
    // Three CSV rows are the page's rows without an API key (same id); one is new: 4.020956789 + 0.5
    let both = w.json(&["report", &page, &csv]);
    assert_eq!(money(&both["total"]["reported_cost"]), "4.520956789");
    on_each_backend(|w, _| {
        let out = w.stdout(&["import", &page, &csv]);
        assert!(out.contains("added 1, 3 duplicate"), "{out}");
        assert_eq!(records(w), 7);
        assert_eq!(w.json(&["report"]), both);
    });
}

#[test]
fn the_usage_csv_matches_the_usage_api_page() {
    let w = Workdir::new();
    let csv = fixture("openai-csv/completions_usage_2026-10-01_2026-10-03.csv");
    let page = fixture("openai-usage/page-2026.json");
    let r = w.json(&["report", &csv]);
    // Same buckets as openai-usage/page-2026.json, counts written as floats (`42.0`), FALSE/TRUE:
    // gpt-4.1: 70_000 × 2 + 48_000 × 0.50 + 2_000 × 2 + 9_500 × 8 = 244_000 µ$
    assert_eq!(money(&row(&r, "model", "gpt-4.1")["cost"]), "0.244");
    // gpt-4o-mini batch (TRUE): (4M × 0.15 + 1M × 0.075 + 800_000 × 0.60) × 0.5 = $0.5775
    assert_eq!(money(&row(&r, "model", "gpt-4o-mini")["cost"]), "0.5775");
    assert_eq!(row(&r, "model", "gpt-4o-mini")["requests"], 5_000);
    // o3 flex: (100_000 × 2 + 20_000 × 0.50 + 60_000 × 8) × 0.5 = $0.345
    assert_eq!(money(&row(&r, "model", "o3")["cost"]), "0.345");
    // + gpt-5 priority $0.425 + gpt-4.1-mini $0.28; the empty bucket row adds nothing
    assert_eq!(money(&r["total"]["cost"]), "1.8715");
    assert_eq!(r["total"]["requests"], 5_182);
    // Importing the API page and the CSV of the same days counts every bucket once.
    assert_eq!(w.json(&["report", &page, &csv]), r);
    on_each_backend(|w, _| {
        let out = w.stdout(&["import", &page, &csv]);
        assert!(out.contains("added 0, 5 duplicate"), "{out}");
        assert_eq!(records(w), 5);
    });

    // July 2026 (before the Usage API change): input_tokens INCLUDES cached.
    let r = w.json(&[
        "report",
        &fixture("openai-csv/completions_usage_2026-07-01_2026-07-02.csv"),
    ]);
    // gpt-4o: (100_000 − 40_000) × 2.50 + 40_000 × 1.25 + 20_000 × 10 = $0.40
    let gpt4o = row(&r, "model", "gpt-4o");
    assert_eq!(gpt4o["input_tokens"], 60_000);
    assert_eq!(money(&gpt4o["cost"]), "0.4");
    // gpt-4o-mini, input_uncached_tokens zero-filled: (30_000 − 10_000) × 0.15 + 10_000 × 0.075 + 1_000 × 0.60
    //   = 3_000 + 750 + 600 = 4_350 µ$
    assert_eq!(money(&row(&r, "model", "gpt-4o-mini")["cost"]), "0.00435");
}

#[test]
fn anthropic_cost_report_in_cents() {
    let w = Workdir::new();
    let r = w.json(&[
        "report",
        &fixture("anthropic-cost/cost-report.json"),
        "--by",
        "workspace",
    ]);
    // research: "123.78912" + "450" + "12.5" cents = $1.2378912 + $4.50 + $0.125 = $5.8628912
    assert_eq!(
        money(&row(&r, "workspace", "wrkspc_01FxResearch7Qw")["reported_cost"]),
        "5.8628912"
    );
    // null workspace_id is the default workspace: "100" cents of web search = $1
    assert_eq!(
        money(&row(&r, "workspace", "default")["reported_cost"]),
        "1"
    );
    // support: "0.5" cents = $0.005
    assert_eq!(
        money(&row(&r, "workspace", "wrkspc_01FxSupport2Lp")["reported_cost"]),
        "0.005"
    );
    assert_eq!(money(&r["total"]["reported_cost"]), "6.8678912");
    assert_eq!(money(&r["total"]["cost"]), "0");
    let by_type = w.json(&[
        "report",
        &fixture("anthropic-cost/cost-report.json"),
        "--by",
        "tag:cost_type",
    ]);
    assert_eq!(
        money(&row(&by_type, "tag:cost_type", "web_search")["reported_cost"]),
        "1"
    );
}

#[test]
fn openrouter_generations_and_activity() {
    let w = Workdir::new();
    let dir = fixture("openrouter");
    let gens = fixture("openrouter/generations.jsonl");
    let single = fixture("openrouter/generation-gen-1791453600-FxA1sonnet4.json");
    let r = w.json(&["report", &gens, &single]);
    // anthropic/claude-sonnet-4: native prompt 12_000 incl. 8_000 cached →
    //   4_000 × 3 + 8_000 × 0.30 + 1_000 × 15 = 29_400 µ$ (counted once: the single file is the same generation)
    let s4 = row(&r, "model", "claude-sonnet-4");
    assert_eq!(money(&s4["cost"]), "0.0294");
    assert_eq!(s4["input_tokens"], 4_000);
    assert_eq!(s4["cache_read_tokens"], 8_000);
    assert_eq!(s4["requests"], 1);
    // openai/gpt-4o: 2_000 × 2.50 + 500 × 10 = 10_000 µ$
    assert_eq!(money(&row(&r, "model", "gpt-4o")["cost"]), "0.01");
    // anthropic/claude-sonnet-4.5 (dotted): 1_000 × 3 + 3_000 × 15 = 48_000 µ$; reasoning 1_200 inside output
    let s45 = row(&r, "model", "claude-sonnet-4-5");
    assert_eq!(money(&s45["cost"]), "0.048");
    assert_eq!(s45["output_tokens"], 3_000);
    assert_eq!(s45["reasoning_tokens"], 1_200);
    // BYOK: OpenRouter reports only its fee, $0.0024
    assert_eq!(money(&s45["reported_cost"]), "0.0024");
    assert_eq!(money(&r["total"]["cost"]), "0.0874");
    // 0.0294 + 0.01 + 0.0024
    assert_eq!(money(&r["total"]["reported_cost"]), "0.0418");

    let r = w.json(&["report", &fixture("openrouter/activity-2026-10-09.json")]);
    // gpt-4.1: 5_000 × 2 + 625 × 8 = 15_000 µ$; claude-haiku-4.5: 10_000 × 1 + 2_000 × 5 = 20_000 µ$
    assert_eq!(money(&row(&r, "model", "gpt-4.1")["cost"]), "0.015");
    assert_eq!(money(&row(&r, "model", "claude-haiku-4-5")["cost"]), "0.02");
    assert_eq!(r["total"]["requests"], 9);
    assert_eq!(money(&r["total"]["reported_cost"]), "0.035");

    // The folder minus broken/: three generations, one duplicate, two activity rows.
    on_each_backend(|w, _| {
        let out = w.stdout(&[
            "import",
            &gens,
            &single,
            &format!("{dir}/activity-2026-10-09.json"),
        ]);
        assert!(out.contains("added 3, 0 duplicate"), "{out}");
        assert!(out.contains("added 0, 1 duplicate"), "{out}");
        assert_eq!(records(w), 5);
        let by_provider = w.json(&["report", "--month", "2026-10", "--by", "provider"]);
        assert_eq!(
            money(&row(&by_provider, "provider", "openrouter")["cost"]),
            "0.1224"
        );
    });
}

#[test]
fn litellm_spend_logs_and_payloads() {
    let w = Workdir::new();
    let csv = fixture("litellm/spend-logs.csv");
    let r = w.json(&["report", &csv, "--by", "team"]);
    // search: gpt-4o-mini, prompt 10_000 incl. 4_000 cached: 6_000 × 0.15 + 4_000 × 0.075 + 1_000 × 0.60
    //   = 1_800 µ$; the cache hit (LiteLLM's own cache) and the failure cost nothing but count.
    let search = row(&r, "team", "search");
    assert_eq!(money(&search["cost"]), "0.0018");
    assert_eq!(search["requests"], 3);
    assert_eq!(search["failed_requests"], 1);
    // research: claude-sonnet-4-5, prompt 12_000 incl. 8_000 read and 3_000 written (1_000 5m, 2_000 1h):
    //   1_000 × 3 + 8_000 × 0.30 + 1_000 × 3.75 + 2_000 × 6 + 1_000 × 15 = 36_150 µ$
    let research = row(&r, "team", "research");
    assert_eq!(money(&research["cost"]), "0.03615");
    assert_eq!(research["input_tokens"], 1_000);
    assert_eq!(research["cache_write_tokens"], 3_000);
    assert_eq!(money(&r["total"]["cost"]), "0.03795");
    assert_eq!(money(&r["total"]["reported_cost"]), "0.03795");

    // The JSON export repeats chatcmpl-FxLite0001 and adds gpt-4.1: 20_000 × 2 + 2_000 × 8 = 56_000 µ$
    let json = fixture("litellm/spend-logs.json");
    let r = w.json(&["report", &csv, &json]);
    assert_eq!(money(&r["total"]["cost"]), "0.09395");
    assert_eq!(r["total"]["requests"], 5);

    // Logging payloads: gpt-4o 600 × 2.50 + 400 × 1.25 + 200 × 10 = 4_000 µ$;
    // claude-haiku-4-5 1_000 × 1 + 3_000 × 0.10 + 1_000 × 1.25 + 500 × 5 = 5_050 µ$
    let payloads = fixture("litellm/standard-logging-payloads.jsonl");
    let r = w.json(&["report", &payloads, "--by", "team,api_key"]);
    assert_eq!(money(&row(&r, "team", "platform")["cost"]), "0.004");
    assert_eq!(row(&r, "team", "platform")["api_key"], "ci-key");
    assert_eq!(money(&row(&r, "team", "support")["cost"]), "0.00505");
    assert_eq!(money(&r["total"]["cost"]), "0.00905");

    // Nothing secret reaches the ledger: no key hash, prompt, answer or IP address.
    on_each_backend(|w, store| {
        w.stdout(&["import", &csv, &json, &payloads]);
        assert_eq!(records(w), 7);
        let stored = store.contents(w);
        let stored = String::from_utf8_lossy(&stored);
        assert!(
            stored.contains("chatcmpl-FxLite0001"),
            "the ledger was read"
        );
        for secret in ["88dc28d0", "secret", "10.1.2.3", "10.9.9.9"] {
            assert!(!stored.contains(secret), "{secret} in the ledger");
        }
    });
}

#[test]
fn broken_files_name_file_line_and_field_and_write_nothing() {
    on_each_backend(|w, _| {
        w.stdout(&["import", &fixture("openai-costs/costs-page.json")]);
        assert_each_rejected(
            w,
            &[
                (
                    "openai-costs/broken/bad-amount.json",
                    ":17: field 'data[0].results[1].amount.value': not a decimal number: n/a",
                ),
                (
                    "openai-csv/broken/bad-count.csv",
                    ":3: field 'num_model_requests': \"12.5\" is not a whole number",
                ),
                (
                    "openai-csv/broken/grouped_wrongly.tsv",
                    ":2: field 'input_tokens': \"2,000,00\" is not a number (thousands may be grouped, in threes",
                ),
                (
                    "anthropic-cost/broken/bad-amount.json",
                    ":20: field 'data[0].results[1].amount': not a decimal number: 12,50",
                ),
                (
                    "openrouter/broken/bad-tokens.jsonl",
                    ":2: field 'data.native_tokens_cached': `data.native_tokens_cached` = 9000 exceeds",
                ),
                (
                    "litellm/broken/bad-spend.csv",
                    ":3: field 'spend': \"n/a\" is not a decimal number",
                ),
            ],
            &["report", "--month", "2026-10"],
        );
    });
}

/// Each fixture is claimed by its own importer, and the new importers claim none of the older fixtures.
#[test]
fn detection_does_not_clash() {
    let w = Workdir::new();
    for (file, source) in [
        ("openai-costs/costs-page.json", "openai-costs"),
        (
            "openai-csv/completions_usage_2026-10-01_2026-10-03.csv",
            "openai-csv",
        ),
        (
            "openai-csv/completions_usage_2026-07-01_2026-07-02.csv",
            "openai-csv",
        ),
        ("openai-csv/cost_2026-10-04_2026-10-06.csv", "openai-csv"),
        ("anthropic-cost/cost-report.json", "anthropic-cost"),
        ("openrouter/generations.jsonl", "openrouter"),
        (
            "openrouter/generation-gen-1791453600-FxA1sonnet4.json",
            "openrouter",
        ),
        ("openrouter/activity-2026-10-09.json", "openrouter"),
        ("litellm/spend-logs.csv", "litellm"),
        ("litellm/spend-logs.json", "litellm"),
        ("litellm/standard-logging-payloads.jsonl", "litellm"),
        ("api-log/openai-chat.jsonl", "api-log"),
        ("api-log/anthropic-messages.jsonl", "api-log"),
        ("api-log/openai-responses.jsonl", "api-log"),
        ("api-log/gemini.jsonl", "api-log"),
        ("api-log/failed.jsonl", "api-log"),
        ("api-log/timestamps.jsonl", "api-log"),
        ("openai-usage/page-2026.json", "openai-usage"),
        ("openai-usage/legacy-page.json", "openai-usage"),
        ("anthropic-usage/report.json", "anthropic-usage"),
    ] {
        let out = w.stdout(&["import", "--dry-run", &fixture(file)]);
        assert!(
            out.contains(&format!("{}: {source} would add", fixture(file))),
            "{file} should be read by {source}: {out}"
        );
    }
}

/// A re-pulled day whose amount grew replaces the first pull: cost-only records weigh their amount
/// (`UsageRecord::dedup_weight`), both in the ledger and when reading files directly.
#[test]
fn a_re_pulled_cost_day_that_grew_replaces_the_first_pull() {
    on_each_backend(|w, _| {
        let page = |value: &str| {
            format!(
                "{{\"object\":\"page\",\"data\":[{{\"object\":\"bucket\",\"start_time\":1791072000,\"end_time\":1791158400,\
                 \"results\":[{{\"object\":\"organization.costs.result\",\"amount\":{{\"value\":{value},\"currency\":\"usd\"}},\
                 \"line_item\":\"o3, input\",\"project_id\":\"proj_1\"}}]}}]}}"
            )
        };
        let early = w.write("early.json", &page("1.5"));
        let late = w.write("late.json", &page("4.25"));
        w.stdout(&["import", early.to_str().unwrap()]);
        w.stdout(&["import", late.to_str().unwrap()]);
        let r = w.json(&["report"]);
        assert_eq!(money(&r["total"]["reported_cost"]), "4.25");
        let direct = w.json(&["report", early.to_str().unwrap(), late.to_str().unwrap()]);
        assert_eq!(money(&direct["total"]["reported_cost"]), "4.25");
    });
}

#[test]
fn rows_of_one_bucket_in_one_csv_add_up_and_are_deduplicated_across_files() {
    let w = Workdir::new();
    let one_day = fixture("openai-csv/completions_usage_2026-10-05_2026-10-05.csv");
    let two_days = fixture("openai-csv/completions_usage_2026-10-05_2026-10-06.csv");
    let r = w.json(&["report", "--month", "2026-10", &one_day]);
    // Two gpt-4.1 rows with the same bucket, project, key, batch and tier are two real rows:
    // (100_000 + 50_000) × $2/M + (10_000 + 5_000) × $8/M = 0.30 + 0.12 = $0.42, 10 + 5 requests.
    assert_eq!(money(&row(&r, "model", "gpt-4.1")["cost"]), "0.42");
    assert_eq!(row(&r, "model", "gpt-4.1")["requests"], 15);
    // gpt-4.1-mini: 800_000 × $0.40/M + 200_000 × $0.10/M + 100_000 × $1.60/M = 0.32 + 0.02 + 0.16
    assert_eq!(money(&row(&r, "model", "gpt-4.1-mini")["cost"]), "0.5");
    assert_eq!(money(&r["total"]["cost"]), "0.92");
    // The same export twice, and an overlapping export (the same day again plus 2026-10-06: 4 gpt-4.1
    // requests, 25_000 × $2/M + 2_500 × $8/M = $0.07): each row counts once.
    let both = w.json(&[
        "report", "--month", "2026-10", &one_day, &one_day, &two_days,
    ]);
    assert_eq!(money(&row(&both, "model", "gpt-4.1")["cost"]), "0.49");
    assert_eq!(row(&both, "model", "gpt-4.1")["requests"], 19);
    assert_eq!(money(&both["total"]["cost"]), "0.99");
    on_each_backend(|w, _| {
        let out = w.stdout(&["import", &one_day]);
        assert!(out.contains("added 3, 0 duplicate"), "{out}");
        let out = w.stdout(&["import", &two_days]);
        assert!(out.contains("added 1, 3 duplicate"), "{out}");
        assert_eq!(w.json(&["report", "--month", "2026-10"]), both);
    });
}

#[test]
fn a_csv_pasted_from_a_spreadsheet_is_read_tab_separated() {
    let w = Workdir::new();
    // The same three rows as completions_usage_2026-10-05_2026-10-05.csv, tab-separated: $0.92 as there.
    let tsv = fixture("openai-csv/pasted_from_a_spreadsheet.tsv");
    let r = w.json(&["report", "--month", "2026-10", &tsv]);
    assert_eq!(money(&r["total"]["cost"]), "0.92");
    assert_eq!(r["total"]["requests"], 35);
    let csv = fixture("openai-csv/completions_usage_2026-10-05_2026-10-05.csv");
    assert_eq!(w.json(&["report", "--month", "2026-10", &csv]), r);
    // The same rows: read together, nothing counts twice.
    assert_eq!(w.json(&["report", "--month", "2026-10", &csv, &tsv]), r);
}

#[test]
fn numbers_with_thousands_separators_read_exactly() {
    let w = Workdir::new();
    // A spreadsheet shows counts grouped ("1,234,567"); pasted as tab-separated text they stay so.
    // gpt-4.1: 1,000,000 uncached × $2/M + 234,567 cached × $0.50/M + 98,765 × $8/M
    //   = 2 + 0.1172835 + 0.79012 = $2.9074035
    // gpt-4.1-mini: 2,000,000 × $0.40/M + 100,000 × $1.60/M = 0.80 + 0.16 = $0.96
    let tsv = fixture("openai-csv/pasted_with_thousands.tsv");
    let r = w.json(&["report", "--month", "2026-10", &tsv]);
    assert_eq!(money(&row(&r, "model", "gpt-4.1")["cost"]), "2.9074035");
    assert_eq!(row(&r, "model", "gpt-4.1")["cache_read_tokens"], 234_567);
    assert_eq!(money(&row(&r, "model", "gpt-4.1-mini")["cost"]), "0.96");
    // 2.9074035 + 0.96; 1,204 + 12 requests
    assert_eq!(money(&r["total"]["cost"]), "3.8674035");
    assert_eq!(r["total"]["requests"], 1216);
}
