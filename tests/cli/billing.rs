//! Everything a request bills: built-in tool fees (per call, from the dated `[[tool]]` fees of `pricing/`),
//! Anthropic `usage.iterations` (compaction) on top of the top-level counts, and what `ledger export` says
//! about them (tool fees, the long-context tier). Fixtures and their sources: `fixtures/billing/README.md`.
//! Costs are worked out by hand from `pricing/`.

use crate::backends::on_each_backend;
use crate::pricing::export;
use crate::{fixture, money, row, Workdir};

#[test]
fn tool_calls_are_billed_per_call_and_shown_apart() {
    let w = Workdir::new();
    let report = w.json(&[
        "report",
        "--by",
        "model",
        &fixture("billing/tool-calls.jsonl"),
    ]);
    // gpt-4.1 ($2 in, $8 out): 10_000 × 2 + 1_000 × 8 = 28_000 µ$; 2 web_search_call items × $10/1k
    // = $0.02 and 1 file_search_call × $2.50/1k = $0.0025: fees $0.0225, cost $0.0505
    let r = row(&report, "model", "gpt-4.1");
    assert_eq!(
        (money(&r["cost"]), money(&r["tool_fees"])),
        ("0.0505", "0.0225")
    );
    assert_eq!(r["tool_calls"], 3);
    // claude-sonnet-4-5 ($3 in, $15 out): 1_000 × 3 + 100 × 15 = 4_500 µ$; 3 searches × $10/1k = $0.03,
    // 2 fetches × $0 (no charge beyond tokens): cost $0.0345
    let r = row(&report, "model", "claude-sonnet-4-5");
    assert_eq!(
        (money(&r["cost"]), money(&r["tool_fees"])),
        ("0.0345", "0.03")
    );
    // gemini-2.5-flash ($0.30 in, $2.50 out): 1_000 × 0.30 + 100 × 2.50 = 550 µ$; one grounded prompt ×
    // $35/1k = $0.035 (its 3 queries carry no fee): $0.03555
    let r = row(&report, "model", "gemini-2.5-flash");
    assert_eq!(
        (money(&r["cost"]), money(&r["tool_fees"])),
        ("0.03555", "0.035")
    );
    // gemini-3-flash-preview ($0.50 in, $3 out): 500 + 300 = 800 µ$; 3 search queries × $14/1k = $0.042
    let r = row(&report, "model", "gemini-3-flash-preview");
    assert_eq!(
        (money(&r["cost"]), money(&r["tool_fees"])),
        ("0.0428", "0.042")
    );
    // 0.0505 + 0.0345 + 0.03555 + 0.0428 = 0.16335; fees 0.0225 + 0.03 + 0.035 + 0.042 = 0.1295
    assert_eq!(money(&report["total"]["cost"]), "0.16335");
    assert_eq!(money(&report["total"]["tool_fees"]), "0.1295");
    // Code execution is billed per container-hour, which a response does not report: unpriced, not $0.
    let unpriced = report["unpriced"].as_array().unwrap();
    assert_eq!(unpriced.len(), 1, "{unpriced:?}");
    assert_eq!(
        unpriced[0]["reason"],
        "no per-call rate for built-in tool 'code_execution'"
    );
    assert_eq!(unpriced[0]["tool_calls"], 2);
    assert_eq!(unpriced[0]["input_tokens"], 2_000);
}

#[test]
fn the_csv_report_has_tool_columns_after_price_source() {
    let w = Workdir::new();
    let csv = w.stdout(&[
        "report",
        "--by",
        "provider",
        "--format",
        "csv",
        &fixture("billing/tool-calls.jsonl"),
    ]);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        header[header.len() - 3..],
        ["price_source", "tool_calls", "tool_fees"]
    );
    // google: $0.035 + $0.042 = $0.077 of fees over 8 tool calls (3 queries + 1 grounded prompt, twice)
    let google = lines.find(|l| l.starts_with("google,")).unwrap();
    assert!(google.ends_with(",table,8,0.077"), "{google}");
}

#[test]
fn tool_calls_survive_the_ledger_and_every_export_format() {
    on_each_backend(|w, _| {
        w.stdout(&["import", &fixture("billing/tool-calls.jsonl")]);
        let jsonl = w.stdout(&["ledger", "export", "--format", "jsonl"]);
        let rows: Vec<serde_json::Value> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let by_id = |id: &str| rows.iter().find(|r| r["id"] == id).unwrap();
        let r = by_id("openai:resp_68f3b2c1a0d4e5f6a7b8c9d00001");
        assert_eq!(
            (&r["web_search_requests"], &r["file_search_calls"]),
            (&2.into(), &1.into())
        );
        assert_eq!(money(&r["tool_fees"]), "0.0225");
        let r = by_id("anthropic:msg_01ToolFees0002WebSearchFetchAb");
        assert_eq!(
            (&r["web_search_requests"], &r["web_fetch_requests"]),
            (&3.into(), &2.into())
        );
        let r = by_id("anthropic:msg_01ToolFees0003CodeExecutionAb");
        assert_eq!(r["code_execution_calls"], 2);
        assert!(r["cost"].is_null() && r["tool_fees"].is_null(), "{r}");
        let r = by_id("google:FxGround0004Gemini25FlashAb");
        assert_eq!(
            (&r["web_search_requests"], &r["grounded_prompts"]),
            (&3.into(), &1.into())
        );
        // FOCUS: the calls as text, the fees, and the meters.
        let focus = w.stdout(&["ledger", "export", "--format", "focus"]);
        let mut reader = csv::Reader::from_reader(focus.as_bytes());
        let header = reader.headers().unwrap().clone();
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let line = reader
            .records()
            .map(Result::unwrap)
            .find(|r| r[col("x_RecordId")] == *"openai:resp_68f3b2c1a0d4e5f6a7b8c9d00001")
            .unwrap();
        assert_eq!(&line[col("x_ToolCalls")], "web_search=2;file_search=1");
        assert_eq!(&line[col("x_ToolFees")], "0.0225");
        assert!(line[col("SkuMeter")].contains("File searches"), "{line:?}");
    });
}

#[test]
fn compaction_iterations_are_billed_on_top_each_at_its_own_size() {
    let w = Workdir::new();
    let rows = export(&w, &[], &fixture("billing/compaction.jsonl"));
    assert_eq!(rows.len(), 3, "{rows:?}");
    // claude-sonnet-4-6 on 2026-03-02 ($3 in, $15 out; whole request at $6/$22.50 above 200k input).
    // Top level (the message iteration): 23_000 × 3 + 1_000 × 15 = 84_000 µ$ = $0.084
    let main = &rows["anthropic:msg_01Compaction0001DocsExampleAb"];
    assert_eq!(money(&main["cost"]), "0.084");
    assert_eq!(main["requests"], 1);
    // The compaction iteration, priced as its own sampling step (180_000 < 200_000: standard rates):
    //   180_000 × 3 + 3_500 × 15 = 540_000 + 52_500 µ$ = $0.5925. Added into one record, 203_000 input
    //   would cross the threshold and cost 203_000 × 6 + 4_500 × 22.5 = $1.31925.
    let it = &rows["anthropic:msg_01Compaction0001DocsExampleAb:iteration:0"];
    assert_eq!(money(&it["cost"]), "0.5925");
    assert_eq!(it["requests"], 0);
    assert_eq!(it["long_context"], false);
    // `"iterations": 1` (the Agent SDK's count) is not a breakdown: no extra record, nothing refused.
    // claude-haiku-4-5 ($1 in, $5 out): 6 × 1 + 287 × 5 = 1_441 µ$
    let sdk = &rows["anthropic:msg_01Compaction0002AgentSdkCount"];
    assert_eq!(money(&sdk["cost"]), "0.001441");
    // The report counts the request once and bills both: $0.084 + $0.5925 = $0.6765
    let report = w.json(&[
        "report",
        "--by",
        "model",
        "--since",
        "2026-03-01",
        &fixture("billing/compaction.jsonl"),
    ]);
    let r = row(&report, "model", "claude-sonnet-4-6");
    assert_eq!((money(&r["cost"]), &r["requests"]), ("0.6765", &1.into()));
}

#[test]
fn ledger_export_says_which_records_the_long_context_tier_priced() {
    on_each_backend(|w, _| {
        w.stdout(&["import", &fixture("billing/long-context.jsonl")]);
        let rows = export(w, &[], &fixture("billing/long-context.jsonl"));
        // claude-sonnet-4-5: 250_000 > 200_000 input, so every token at $6/$22.50:
        //   250_000 × 6 + 1_000 × 22.5 = 1_522_500 µ$ = $1.5225
        let above = &rows["anthropic:msg_01LongContext0001AboveThresh"];
        assert_eq!(
            (money(&above["cost"]), &above["long_context"]),
            ("1.5225", &true.into())
        );
        // 150_000 × 3 + 1_000 × 15 = 465_000 µ$ = $0.465, standard rates
        let below = &rows["anthropic:msg_01LongContext0002BelowThresh"];
        assert_eq!(
            (money(&below["cost"]), &below["long_context"]),
            ("0.465", &false.into())
        );
        // The same from the ledger, in CSV.
        let csv = w.stdout(&["ledger", "export", "--format", "csv"]);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let header = reader.headers().unwrap().clone();
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let lines: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let above = lines
            .iter()
            .find(|r| r[col("id")].ends_with("AboveThresh"))
            .unwrap();
        assert_eq!(
            (&above[col("long_context")], &above[col("tool_fees")]),
            ("true", "0")
        );
    });
}

#[test]
fn openai_usage_buckets_keep_audio_and_ungrouped_usage() {
    let w = Workdir::new();
    let report = w.json(&[
        "report",
        "--by",
        "model",
        &fixture("billing/openai-usage-buckets.json"),
    ]);
    // gpt-realtime ($4 text in, $0.40 cached, $16 text out, $32 audio in, $64 audio out), one bucket of 3
    // requests: text 1_000 uncached + 200 cached; audio 9_000 of which 1_000 cached; text out 400, audio
    // out 15_000 (audio counts are their own, never inside the text counts):
    //   1_000 × 4 + (200 + 1_000) × 0.40 + 8_000 × 32 + 400 × 16 + 15_000 × 64
    //   = 4_000 + 480 + 256_000 + 6_400 + 960_000 = 1_226_880 µ$ = $1.22688
    let r = row(&report, "model", "gpt-realtime");
    assert_eq!((money(&r["cost"]), &r["requests"]), ("1.22688", &3.into()));
    // gpt-4o ($2.50 in, $1.25 cached, $10 out): 8_000 × 2.50 + 2_000 × 1.25 + 1_000 × 10 = 32_500 µ$
    let r = row(&report, "model", "gpt-4o");
    assert_eq!(money(&r["cost"]), "0.0325");
    assert_eq!(money(&report["total"]["cost"]), "1.25938");
    // Unpriced, with their tokens and requests: gpt-4o-mini has no audio rate; the ungrouped row has no model.
    let unpriced = report["unpriced"].as_array().unwrap();
    let find = |reason: &str| {
        unpriced
            .iter()
            .find(|u| u["reason"] == reason)
            .unwrap_or_else(|| panic!("{reason}: {unpriced:?}"))
    };
    let mini = find("no 'audio_input' rate");
    assert_eq!(
        (&mini["model"], &mini["requests"]),
        (&"gpt-4o-mini".into(), &2.into())
    );
    let ungrouped = find("export not grouped by model");
    assert_eq!(ungrouped["model"], "(not grouped by model)");
    assert_eq!(
        (
            &ungrouped["requests"],
            &ungrouped["input_tokens"],
            &ungrouped["output_tokens"]
        ),
        (&12.into(), &30_000.into(), &2_000.into())
    );
    // The same from the ledger.
    on_each_backend(|w, _| {
        w.stdout(&["import", &fixture("billing/openai-usage-buckets.json")]);
        let ledger = w.json(&["report", "--by", "model", "--month", "2026-10"]);
        assert_eq!(money(&ledger["total"]["cost"]), "1.25938");
        assert_eq!(ledger["unpriced"], report["unpriced"]);
    });
}

#[test]
fn openai_usage_pages_one_per_line_price_audio_models() {
    on_each_backend(|w, _| {
        w.stdout(&["import", &fixture("billing/openai-usage-pages.jsonl")]);
        let report = w.json(&["report", "--by", "model", "--month", "2026-10"]);
        // gpt-audio ($2.50 text in, $10 text out, $32 audio in, $64 audio out):
        //   500 × 2.50 + 4_000 × 32 + 100 × 10 + 6_000 × 64 = 1_250 + 128_000 + 1_000 + 384_000 = 514_250 µ$
        let r = row(&report, "model", "gpt-audio");
        assert_eq!(money(&r["cost"]), "0.51425");
        // gpt-4o: 1_000 × 2.50 + 100 × 10 = 3_500 µ$
        let r = row(&report, "model", "gpt-4o");
        assert_eq!(money(&r["cost"]), "0.0035");
    });
}

#[test]
fn gcp_vertex_skus_canonical_models_units_and_classes() {
    let w = Workdir::new();
    let rows = export(&w, &[], &fixture("billing/gcp-vertex-skus.csv"));
    assert_eq!(rows.len(), 6);
    let by_sku = |sku: &str| {
        rows.values()
            .find(|r| r["tags"]["sku"] == sku)
            .unwrap_or_else(|| panic!("{sku}"))
    };
    let check = |sku: &str, class: &str, field: &str, tokens: u64, cost: &str, long: bool| {
        let r = by_sku(sku);
        assert_eq!(r["tags"]["sku_class"], class, "{sku}");
        assert_eq!(r[field], tokens, "{sku}: {r}");
        assert_eq!(money(&r["cost"]), cost, "{sku}");
        assert_eq!(r["long_context"], long, "{sku}");
    };
    // gemini-2.5-flash ($0.30 in, $0.03 cached, $2.50 out, $1 audio in), never `gemini-2.5-flash-ga`;
    // `count` units of a token SKU are tokens:
    //   2_000_000 × 0.30 = $0.60; 400_000 × 2.50 = $1.00; 1_000_000 × 0.03 = $0.03
    let flash = by_sku("Gemini 2.5 Flash GA Text Input - Predictions");
    assert_eq!(
        (&flash["model"], &flash["canonical_model"]),
        (&"gemini-2.5-flash".into(), &"gemini-2.5-flash".into())
    );
    check(
        "Gemini 2.5 Flash GA Text Input - Predictions",
        "input",
        "input_tokens",
        2_000_000,
        "0.6",
        false,
    );
    check(
        "Gemini 2.5 Flash GA Text Output - Predictions",
        "output",
        "output_tokens",
        400_000,
        "1",
        false,
    );
    check(
        "Gemini 2.5 Flash GA Cached Text Input - Predictions",
        "cached input",
        "cache_read_tokens",
        1_000_000,
        "0.03",
        false,
    );
    // gemini-2.5-pro long context ($2.50 in, $15 out): no `usage.amount`, so 0.5 pricing units of
    // `1 million tokens` = 500_000 tokens × 2.50 = $1.25; 100_000 × 15 = $1.50
    check(
        "Gemini 2.5 Pro GA Long Text Input - Predictions",
        "input (long context)",
        "input_tokens",
        500_000,
        "1.25",
        true,
    );
    check(
        "Gemini 2.5 Pro GA Long Text Output - Predictions",
        "output (long context)",
        "output_tokens",
        100_000,
        "1.5",
        true,
    );
    // The Gemini API's audio input SKU: 100_000 × $1 = $0.10
    check(
        "Gemini 2.5 Flash Audio Input Tokens",
        "audio input",
        "audio_input_tokens",
        100_000,
        "0.1",
        false,
    );
}

#[test]
fn gcp_grounding_rows_bill_their_fee() {
    let w = Workdir::new();
    let report = w.json(&[
        "report",
        "--by",
        "model",
        &fixture("billing/gcp-grounding.csv"),
    ]);
    // Vertex "Gemini 2.5 Flash Grounding with Google Search", 100 requests: 100 grounded prompts ×
    // $35/1k = $3.50 of fees; its "Input Tokens" row, 1_000_000 × $0.30/M = $0.30: $3.80, as billed
    // (3.50 + 0.30 reported).
    let r = row(&report, "model", "gemini-2.5-flash");
    assert_eq!((money(&r["cost"]), money(&r["tool_fees"])), ("3.8", "3.5"));
    assert_eq!(money(&r["reported_cost"]), "3.8");
    // Gemini 3 bills per search query: 50 queries × $14/1k = $0.70, as billed.
    let r = row(&report, "model", "gemini-3-flash-preview");
    assert_eq!((money(&r["cost"]), money(&r["tool_fees"])), ("0.7", "0.7"));
    assert_eq!(r["tool_calls"], 50);
    // 3.80 + 0.70
    assert_eq!(money(&report["total"]["cost"]), "4.5");
}

#[test]
fn preview_web_searches_and_cached_audio_bill_at_their_own_rates() {
    let w = Workdir::new();
    let file = fixture("billing/preview-and-realtime.jsonl");
    let report = w.json(&["report", "--by", "model", &file]);
    // gpt-4o, tools name `web_search_preview`: 1_000 × $2.50/M + 200 × $10/M = $0.0045; 2 calls × $25/1k
    // = $0.05 (the `web_search` rate, $10/1k, would have been $0.02)
    let r = row(&report, "model", "gpt-4o");
    assert_eq!(
        (money(&r["cost"]), money(&r["tool_fees"])),
        ("0.0545", "0.05")
    );
    // o3 (reasoning), `web_search_preview_2025_03_11`: 1_000 × $2/M + 200 × $8/M = $0.0036; 1 call × $10/1k
    let r = row(&report, "model", "o3");
    assert_eq!(
        (money(&r["cost"]), money(&r["tool_fees"])),
        ("0.0136", "0.01")
    );
    // gpt-realtime-mini `response.done`: 17_000 input = 3_000 text + 14_000 audio, of them 12_000 cached
    // = 2_000 text + 10_000 audio; 600 output = 100 text + 500 audio. Per M: 1_000 text × $0.60 + 2_000
    // cached text × $0.06 + 10_000 cached audio × $0.30 + 4_000 audio × $10 + 100 text out × $2.40 + 500
    // audio out × $20 = 0.0006 + 0.00012 + 0.003 + 0.04 + 0.00024 + 0.01 = $0.05396
    let r = row(&report, "model", "gpt-realtime-mini");
    assert_eq!(money(&r["cost"]), "0.05396");
    assert_eq!(
        (&r["input_tokens"], &r["cache_read_tokens"]),
        (&1_000.into(), &2_000.into())
    );
    // 0.0545 + 0.0136 + 0.05396
    assert_eq!(money(&report["total"]["cost"]), "0.12206");

    // The counts survive the ledger (both new columns) and show in every export.
    on_each_backend(|w, _| {
        w.stdout(&["import", &file]);
        let jsonl = w.stdout(&["ledger", "export", "--format", "jsonl"]);
        let rows: Vec<serde_json::Value> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let by_model = |m: &str| rows.iter().find(|r| r["canonical_model"] == m).unwrap();
        let r = by_model("gpt-4o");
        assert_eq!(
            (&r["web_search_requests"], &r["web_search_preview_calls"]),
            (&0.into(), &2.into())
        );
        assert_eq!(money(&r["tool_fees"]), "0.05");
        let r = by_model("gpt-realtime-mini");
        assert_eq!(
            (
                &r["cache_read_tokens"],
                &r["cache_read_audio_tokens"],
                &r["audio_input_tokens"]
            ),
            (&2_000.into(), &10_000.into(), &4_000.into())
        );
        assert_eq!(money(&r["cost"]), "0.05396");
        let focus = w.stdout(&["ledger", "export", "--format", "focus"]);
        let mut reader = csv::Reader::from_reader(focus.as_bytes());
        let header = reader.headers().unwrap().clone();
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        let audio = rows
            .iter()
            .find(|r| &r[col("x_CacheReadAudioTokens")] == "10000")
            .expect("the realtime record");
        assert_eq!(&audio[col("x_ComputedCost")], "0.05396");
        let preview = rows
            .iter()
            .find(|r| &r[col("x_WebSearchPreviewCalls")] == "2")
            .expect("the gpt-4o record");
        assert_eq!(&preview[col("x_ToolCalls")], "web_search_preview=2");
    });
}

#[test]
fn a_usage_report_bucket_without_its_context_window_bills_standard_rates() {
    on_each_backend(|w, _| {
        // One day of Anthropic's usage report not grouped by `context_window`: the bucket sums an
        // unknown number of requests, so its 1_000_000 input tokens say nothing about any request's
        // size. claude-sonnet-4-5 at standard rates: 1_000_000 × $3/M + 100_000 × $15/M = $4.50 (the
        // long-context rates would give 1_000_000 × $6/M + 100_000 × $22.50/M = $8.25).
        let page = w.write(
            "usage-report.json",
            r#"{"data":[{"starting_at":"2026-10-01T00:00:00Z","ending_at":"2026-10-02T00:00:00Z","results":[
{"uncached_input_tokens":1000000,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},
 "output_tokens":100000,"server_tool_use":{"web_search_requests":0},"api_key_id":null,"workspace_id":null,
 "model":"claude-sonnet-4-5-20250929","service_tier":null,"context_window":null}]}],"has_more":false,"next_page":null}"#,
        );
        let page = page.to_str().unwrap();
        let direct = w.json(&["report", "--month", "2026-10", page]);
        assert_eq!(money(&direct["total"]["cost"]), "4.5");
        w.stdout(&["import", page]);
        let stored = w.json(&["report", "--month", "2026-10"]);
        assert_eq!(money(&stored["total"]["cost"]), "4.5");
    });
}

#[test]
fn fast_mode_requests_are_unpriced_never_billed_at_standard_rates() {
    let w = Workdir::new();
    // Anthropic's fast mode bills claude-opus-4-8 at $10/$50 per M (2× its $5/$25), a rate no table
    // lists: `usage.speed` "fast" must leave the request unpriced with its reason, in an API log, a
    // Claude Code log and a usage report row alike. The standard request beside it:
    // 1_000 × $5/M + 100 × $25/M = $0.0075.
    let log = w.write(
        "api.jsonl",
        concat!(
            r#"{"timestamp":"2026-10-03T10:00:00Z","provider":"anthropic","response":{"id":"msg_01Fast","type":"message","model":"claude-opus-4-8","usage":{"input_tokens":1000,"output_tokens":100,"service_tier":"standard","speed":"fast"}}}"#,
            "\n",
            r#"{"timestamp":"2026-10-03T10:01:00Z","provider":"anthropic","response":{"id":"msg_01Std","type":"message","model":"claude-opus-4-8","usage":{"input_tokens":1000,"output_tokens":100,"service_tier":"standard","speed":"standard"}}}"#,
            "\n",
        ),
    );
    let cc = w.write(
        "claude/projects/-home-me-app/s1.jsonl",
        concat!(
            r#"{"type":"assistant","timestamp":"2026-10-03T11:00:00Z","sessionId":"s1","requestId":"req_011Fast","cwd":"/home/me/app","message":{"id":"msg_01CcFast","model":"claude-opus-4-8","usage":{"input_tokens":1000,"output_tokens":100,"service_tier":"standard","speed":"fast"}}}"#,
            "\n",
        ),
    );
    let page = w.write(
        "usage-report.json",
        r#"{"data":[{"starting_at":"2026-10-03T00:00:00Z","ending_at":"2026-10-04T00:00:00Z","results":[
{"uncached_input_tokens":1000,"cache_read_input_tokens":0,"output_tokens":100,"model":"claude-opus-4-8",
 "service_tier":"standard","context_window":"0-200k","speed":"fast"}]}],"has_more":false,"next_page":null}"#,
    );
    for (file, source) in [
        (&log, "api-log"),
        (&cc, "claude-code"),
        (&page, "anthropic-usage"),
    ] {
        let r = w.json(&[
            "report",
            "--month",
            "2026-10",
            "--source",
            source,
            file.to_str().unwrap(),
        ]);
        let unpriced = r["unpriced"].as_array().unwrap();
        assert_eq!(unpriced.len(), 1, "{source}: {r:#}");
        assert_eq!(
            unpriced[0]["reason"], "no rate for service tier 'fast'",
            "{source}"
        );
        assert_eq!(unpriced[0]["input_tokens"], 1000, "{source}");
        let expected = if source == "api-log" { "0.0075" } else { "0" };
        assert_eq!(money(&r["total"]["cost"]), expected, "{source}");
    }
}

#[test]
fn claude_code_on_bedrock_bills_at_bedrock_rates_for_its_profile() {
    let w = Workdir::new();
    // Claude Code run against Bedrock logs Bedrock model ids. Bedrock bills claude-sonnet-4-5 at the
    // list price through the global profile and 10% above it through a geographic one (pricing/
    // bedrock.toml): 100_000 × $3/M + 10_000 × $15/M = $0.45, × 1.1 = $0.495 for `us.`.
    let cc = w.write(
        "claude/projects/-home-me-app/s1.jsonl",
        concat!(
            r#"{"type":"assistant","timestamp":"2026-10-03T11:00:00Z","sessionId":"s1","requestId":"req_011Us","message":{"id":"msg_01BedrockUs","model":"us.anthropic.claude-sonnet-4-5-20250929-v1:0","usage":{"input_tokens":100000,"output_tokens":10000}}}"#,
            "\n",
            r#"{"type":"assistant","timestamp":"2026-10-03T11:01:00Z","sessionId":"s1","requestId":"req_011Gl","message":{"id":"msg_01BedrockGl","model":"global.anthropic.claude-sonnet-4-5-20250929-v1:0","usage":{"input_tokens":100000,"output_tokens":10000}}}"#,
            "\n",
            r#"{"type":"assistant","timestamp":"2026-10-03T11:02:00Z","sessionId":"s1","requestId":"req_011An","message":{"id":"msg_01Anthropic","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":100000,"output_tokens":10000}}}"#,
            "\n",
        ),
    );
    let r = w.json(&[
        "report",
        "--month",
        "2026-10",
        "--by",
        "provider,model",
        cc.to_str().unwrap(),
    ]);
    // Bedrock: $0.495 + $0.45 = $0.945; Anthropic's own API: $0.45
    let bedrock = row(&r, "provider", "bedrock");
    assert_eq!(
        (money(&bedrock["cost"]), &bedrock["model"]),
        ("0.945", &"claude-sonnet-4-5".into())
    );
    assert_eq!(money(&row(&r, "provider", "anthropic")["cost"]), "0.45");
    // An API log line holding an Anthropic-shaped body with a Bedrock id and no `provider`: Bedrock's
    // claude-opus-4-6 through `eu.`, 1_000 × $5/M × 1.1 + 100 × $25/M × 1.1 = $0.0055 + $0.00275
    let log = w.write(
        "api.jsonl",
        concat!(
            r#"{"timestamp":"2026-10-03T10:00:00Z","response":{"id":"msg_01EuOpus","type":"message","model":"eu.anthropic.claude-opus-4-6-v1","usage":{"input_tokens":1000,"output_tokens":100}}}"#,
            "\n",
        ),
    );
    let r = w.json(&[
        "report",
        "--month",
        "2026-10",
        "--by",
        "provider",
        log.to_str().unwrap(),
    ]);
    assert_eq!(money(&row(&r, "provider", "bedrock")["cost"]), "0.00825");
}
