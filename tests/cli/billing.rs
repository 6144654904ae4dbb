//! Everything a request bills: built-in tool fees (per call, from the dated `[[tool]]` fees of `pricing/`),
//! Anthropic `usage.iterations` (compaction) on top of the top-level counts, and what `ledger export` says
//! about them (tool fees, the long-context tier). Fixtures and their sources: `fixtures/billing/README.md`.
//! Costs are worked out by hand from `pricing/`.

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
    let w = Workdir::new();
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
    let w = Workdir::new();
    w.stdout(&["import", &fixture("billing/long-context.jsonl")]);
    let rows = export(&w, &[], &fixture("billing/long-context.jsonl"));
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
}
