//! Shapes other tools record: batch output files (OpenAI Batch API, Vertex AI batch prediction), Bedrock
//! Converse and InvokeModel responses, bare error bodies among logged responses. Fixture sources are in
//! `fixtures/batch/README.md` and `fixtures/README.md`; costs are worked out by hand from `pricing/`.

use serde_json::Value;

use crate::backends::on_each_backend;
use crate::pricing::{export, export_ledger};
use crate::{fixture, money, Workdir};

#[test]
fn openai_batch_output_is_priced_at_batch_rates() {
    let w = Workdir::new();
    let rows = export(&w, &[], &fixture("batch/openai-batch-output.jsonl"));
    assert_eq!(rows.len(), 2);
    // gpt-4o-mini ($0.15 in, $0.60 out; batch × 0.5), 1_200 in + 300 out, time = body.created:
    //   1_200 × 0.075 + 300 × 0.30 = 90 + 90 = 180 µ$ = $0.00018 (online it would be $0.00036)
    let r = &rows["openai:chatcmpl-FxBatch0001aaaaaaaaaaaaaaaaaaa"];
    assert_eq!(money(&r["cost"]), "0.00018", "{r}");
    assert_eq!(r["batch"], true);
    assert_eq!(r["start"], "2026-10-05T10:00:00Z");
    // gpt-5 Responses body ($1.25 in, $0.125 cached, $10 out; batch × 0.5), 3_000 in of which 1_000 cached,
    // 800 out of which 500 reasoning:
    //   2_000 × 0.625 + 1_000 × 0.0625 + 800 × 5 = 1_250 + 62.5 + 4_000 = 5_312.5 µ$ = $0.0053125
    let r = &rows["openai:resp_68f2a1000000000000000000000000000000000000000002"];
    assert_eq!(money(&r["cost"]), "0.0053125", "{r}");
    assert_eq!(
        (
            &r["input_tokens"],
            &r["cache_read_tokens"],
            &r["reasoning_tokens"]
        ),
        (&Value::from(2_000), &Value::from(1_000), &Value::from(500))
    );
    assert_eq!(r["start"], "2026-10-05T11:00:00Z");
}

#[test]
fn openai_batch_error_file_imports_and_bills_nothing() {
    // Both lines are failed requests with no time of their own (no `body.created`): nothing to bill and
    // nothing to place in a period, so nothing is added, and the file is not refused.
    on_each_backend(|w, _| {
        let out = w.run(&["import", &fixture("batch/openai-batch-errors.jsonl")]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let rows = export(w, &[], &fixture("batch/openai-batch-errors.jsonl"));
        assert!(rows.is_empty(), "{rows:?}");
        let rows = export_ledger(w);
        assert!(rows.is_empty(), "{rows:?}");
    });
}

#[test]
fn vertex_batch_prediction_output_is_priced_at_batch_rates() {
    let w = Workdir::new();
    let rows = export(&w, &[], &fixture("batch/vertex-batch-prediction.jsonl"));
    assert_eq!(rows.len(), 2);
    // gemini-2.5-flash (2025-06-17 prices: $0.30 in, $0.03 cached, $2.50 out; batch × 0.5), prompt 10_000 of
    // which 4_000 cached, candidates 1_000 + thoughts 500, time = processed_time:
    //   6_000 × 0.15 + 4_000 × 0.015 + 1_500 × 1.25 = 900 + 60 + 1_875 = 2_835 µ$ = $0.002835
    let r = &rows["google:FxVertexBatch0001AbCdEf"];
    assert_eq!(money(&r["cost"]), "0.002835", "{r}");
    assert_eq!(r["batch"], true);
    assert_eq!(r["start"], "2026-10-08T12:00:00.123Z");
    // The second line's `status` holds an error: a failed request of Google's, $0.
    let failed: Vec<&Value> = rows.values().filter(|r| r["failed"] == true).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["provider"], "google");
    assert_eq!(money(&failed[0]["cost"]), "0");
}

#[test]
fn bare_error_bodies_do_not_stop_a_log_from_being_read() {
    on_each_backend(|w, _| {
        let out = w.run(&["import", &fixture("api-log/bare-errors.jsonl")]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let rows = export_ledger(w);
        assert_eq!(rows, export(w, &[], &fixture("api-log/bare-errors.jsonl")));
        // Two responses, one enveloped 500 (kept as failed); the two bare error bodies have no time: skipped.
        assert_eq!(rows.len(), 3);
        // gpt-4o-mini ($0.15 in, $0.60 out): 2_000 × 0.15 + 100 × 0.60 = 300 + 60 = 360 µ$ = $0.00036
        assert_eq!(
            money(&rows["openai:chatcmpl-FxBare0001bbbbbbbbbbbbbbbbbbbbb"]["cost"]),
            "0.00036"
        );
        // 1_000 × 0.15 + 50 × 0.60 = 150 + 30 = 180 µ$ = $0.00018
        assert_eq!(
            money(&rows["openai:chatcmpl-FxBare0002bbbbbbbbbbbbbbbbbbbbb"]["cost"]),
            "0.00018"
        );
        let failed: Vec<&Value> = rows.values().filter(|r| r["failed"] == true).collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0]["start"], "2026-10-09T09:02:00Z");
    });
}

#[test]
fn bedrock_converse_and_invoke_model_take_the_model_and_profile_from_the_envelope() {
    let w = Workdir::new();
    let rows = export(&w, &[], &fixture("api-log/bedrock-converse.jsonl"));
    assert_eq!(rows.len(), 4);
    let cost = |id: &str| money(&rows[id]["cost"]).to_owned();
    // claude-sonnet-4-5 on Bedrock ($3 in, $0.30 cache read, $3.75 5m write, $15 out), `us.` profile +10%:
    //   2_000 × 3.3 + 10_000 × 0.33 + 1_000 × 4.125 + 500 × 16.5 = 6_600 + 3_300 + 4_125 + 8_250
    //   = 22_275 µ$ = $0.022275
    assert_eq!(cost("bedrock:req:fx-bedrock-0001"), "0.022275");
    assert_eq!(rows["bedrock:req:fx-bedrock-0001"]["provider"], "bedrock");
    // The same tokens through the `global.` profile (request.modelId) at list price:
    //   2_000 × 3 + 10_000 × 0.3 + 1_000 × 3.75 + 500 × 15 = 6_000 + 3_000 + 3_750 + 7_500 = $0.02025
    assert_eq!(cost("bedrock:req:fx-bedrock-0002"), "0.02025");
    // InvokeModel Claude body, `eu.` profile from the envelope: 1_000 × 3.3 + 200 × 16.5 = 3_300 + 3_300
    //   = $0.0066
    assert_eq!(cost("bedrock:msg_bdrk_01FxBedrock0000000003"), "0.0066");
    assert_eq!(
        rows["bedrock:msg_bdrk_01FxBedrock0000000003"]["model"],
        "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
    );
    // Nova Pro, `eu.` rates ($1.05 in, $0.2625 cache read, $4.20 out):
    //   3_000 × 1.05 + 1_000 × 0.2625 + 400 × 4.2 = 3_150 + 262.5 + 1_680 = 5_092.5 µ$ = $0.0050925
    assert_eq!(cost("bedrock:req:fx-bedrock-0004"), "0.0050925");
}

#[test]
fn gemini_audio_input_is_priced_at_its_own_rate() {
    let w = Workdir::new();
    let rows = export(&w, &[], &fixture("api-log/gemini-modalities.jsonl"));
    assert_eq!(rows.len(), 2);
    // gemini-2.5-flash (2025-06-17: $0.30 in, $0.03 cached, $1 audio in, $2.50 out). Prompt 12_000 = TEXT
    // 4_000 + IMAGE 2_000 + AUDIO 6_000, of which 2_000 TEXT cached; 500 tool-use prompt tokens; 800
    // candidates + 200 thoughts:
    //   (12_000 − 2_000 − 6_000 + 500) × 0.30 + 2_000 × 0.03 + 6_000 × 1 + 1_000 × 2.50
    //   = 1_350 + 60 + 6_000 + 2_500 = 9_910 µ$ = $0.00991
    let r = &rows["google:FxGeminiModal0001AbCd"];
    assert_eq!(money(&r["cost"]), "0.00991", "{r}");
    assert_eq!(
        (&r["input_tokens"], &r["audio_input_tokens"]),
        (&Value::from(4_500), &Value::from(6_000))
    );
    // Prompt 10_000 = TEXT 4_000 + AUDIO 6_000; cached 5_000 = TEXT 1_000 + AUDIO 4_000: uncached audio
    // 2_000, uncached text 3_000 (cached audio stays at the one cache rate):
    //   3_000 × 0.30 + 5_000 × 0.03 + 2_000 × 1 + 300 × 2.50 = 900 + 150 + 2_000 + 750 = $0.0038
    assert_eq!(
        money(&rows["google:FxGeminiModal0002AbCd"]["cost"]),
        "0.0038"
    );
}

#[test]
fn codex_sessions_are_read_per_turn_and_deduplicated() {
    on_each_backend(|w, _| {
        let out = w.stdout(&["import", &fixture("codex")]);
        assert!(out.contains("added 3, 2 duplicate"), "{out}");
        let rows = export_ledger(w);
        assert_eq!(rows, export(w, &[], &fixture("codex")));
        assert_eq!(rows.len(), 3);
        let session = "codex:0199e2a0-5c1e-7a3b-9f00-3c6d2e8b4a01";
        // Turn 1, gpt-5-codex ($1.25 in, $0.125 cached, $10 out): input 12_000 of which 8_000 cached, output 900
        // (600 reasoning inside): 4_000 × 1.25 + 8_000 × 0.125 + 900 × 10 = 5_000 + 1_000 + 9_000 = $0.015.
        // The repeated token_count event with the same totals adds nothing.
        let r = &rows[&format!("{session}:12900")];
        assert_eq!(money(&r["cost"]), "0.015", "{r}");
        assert_eq!(r["project"], "search-api");
        assert_eq!(r["source"], "codex");
        assert_eq!(r["reasoning_tokens"], 600);
        // Turn 2 = totals growth 30_000 − 12_000 in, 24_000 − 8_000 cached, 1_500 − 900 out:
        //   2_000 × 1.25 + 16_000 × 0.125 + 600 × 10 = 2_500 + 2_000 + 6_000 = $0.0105
        assert_eq!(money(&rows[&format!("{session}:31500")]["cost"]), "0.0105");
        // The resumed file repeats turns 1 and 2 (duplicates) and adds a gpt-5 turn ($1.25 / $0.125 / $10):
        //   (20_000 − 16_000) × 1.25 + 16_000 × 0.125 + 500 × 10 = 5_000 + 2_000 + 5_000 = $0.012
        let r = &rows[&format!("{session}:52000")];
        assert_eq!(r["model"], "gpt-5");
        assert_eq!(money(&r["cost"]), "0.012");
    });
}

#[test]
fn a_record_before_the_first_price_period_is_priced_with_a_warning() {
    let w = Workdir::new();
    let out = w.run(&[
        "ledger",
        "export",
        "--format",
        "jsonl",
        &fixture("api-log/before-first-price.jsonl"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let row: Value = serde_json::from_slice(&out.stdout).expect("one json line");
    // gpt-5's first period starts 2025-08-07; the record is of 2025-08-01, priced from that first period
    // ($1.25 in, $10 out): 1_000 × 1.25 + 100 × 10 = 1_250 + 1_000 = 2_250 µ$ = $0.00225
    assert_eq!(money(&row["cost"]), "0.00225");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "1 record(s) of gpt-5 (openai) are dated before its first price period (2025-08-07)"
        ),
        "{stderr}"
    );
    // The report says so too.
    let out = w.run(&[
        "report",
        "--month",
        "2025-08",
        &fixture("api-log/before-first-price.jsonl"),
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("dated before its first price period"),
        "{out:?}"
    );
}
