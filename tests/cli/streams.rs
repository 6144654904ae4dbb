//! API logs as documents and as streams: a response saved pretty-printed as `.json`, arrays of log lines,
//! OpenAI Responses event streams, Chat Completions chunk streams, Anthropic server-sent events and Gemini
//! streamed chunks, with or without an envelope, as JSON lines or as the raw `event:`/`data:` text. Each
//! streamed request counts once. Costs are worked by hand from the fixtures and `pricing/`.

use crate::backends::on_each_backend;
use crate::{fixture, money, row, Workdir};

fn stream(name: &str) -> String {
    fixture(&format!("api-log/streams/{name}"))
}

#[test]
fn every_streamed_request_counts_once_at_its_final_usage() {
    let w = Workdir::new();
    // (file, model, requests, cost)
    let cases = [
        // response.created … response.completed: usage only in the completed event's response.
        // gpt-4.1: (1_200 − 200) × $2/M + 200 cached × $0.50/M + 300 × $8/M = 0.002 + 0.0001 + 0.0024
        ("openai-responses-events.jsonl", "gpt-4.1", "0.0045"),
        // chunks with `usage: null`, then the include_usage chunk: gpt-4o-mini
        // 500 × $0.15/M + 50 × $0.60/M = 0.000075 + 0.00003
        ("openai-chat-chunks.jsonl", "gpt-4o-mini", "0.000105"),
        // message_start (id, model, 2_000 in + 10_000 cache read, output 1), message_delta output 400:
        // 2_000 × $3/M + 10_000 × $0.30/M + 400 × $15/M = 0.006 + 0.003 + 0.006
        ("anthropic-events.jsonl", "claude-sonnet-4-5", "0.015"),
        // raw server-sent events of a Responses stream: gpt-4.1-mini 10_000 × $0.40/M + 1_000 × $1.60/M
        ("openai-responses.sse", "gpt-4.1-mini", "0.0056"),
        // three chunks of one Gemini response, usage growing: the last counts,
        // 1_000 × $0.30/M + 150 × $2.50/M = 0.0003 + 0.000375
        ("gemini-chunks.jsonl", "gemini-2.5-flash", "0.000675"),
    ];
    let mut all = vec!["report", "--month", "2026-10"];
    let files: Vec<String> = cases.iter().map(|(f, _, _)| stream(f)).collect();
    for ((file, model, cost), path) in cases.iter().zip(&files) {
        let r = w.json(&["report", "--month", "2026-10", path]);
        assert_eq!(r["rows"].as_array().unwrap().len(), 1, "{file}: {r}");
        let row = row(&r, "model", model);
        assert_eq!(money(&row["cost"]), *cost, "{file}");
        assert_eq!(row["requests"], 1, "{file}");
        all.push(path);
    }
    // 0.0045 + 0.000105 + 0.015 + 0.0056 + 0.000675
    let r = w.json(&all);
    assert_eq!(money(&r["total"]["cost"]), "0.02588");
    assert_eq!(r["total"]["requests"], 5);
    // A stream cut short before its message_delta counts with the usage of its message_start:
    // 2_000 × $3/M + 10_000 × $0.30/M + 1 × $15/M = 0.006 + 0.003 + 0.000015
    let cut = w.json(&["report", &stream("anthropic-events-cut-short.jsonl")]);
    assert_eq!(money(&cut["total"]["cost"]), "0.009015");
    assert_eq!(cut["total"]["requests"], 1);
    // The envelope's attribution reaches the request read from its message_start and message_delta.
    let by_team = w.json(&["report", "--month", "2026-10", "--by", "team", &files[2]]);
    assert_eq!(money(&row(&by_team, "team", "search")["cost"]), "0.015");
    // Imported, the same: and no text of the stream is stored.
    on_each_backend(|w, store| {
        w.stdout(&["import", &files[0], &files[2], &files[3]]);
        let export = w.stdout(&["ledger", "export", "--format", "jsonl"]);
        assert!(!export.contains("CONFIDENTIAL"), "{export}");
        let stored = store.contents(w);
        assert!(!String::from_utf8_lossy(&stored).contains("CONFIDENTIAL"));
        assert_eq!(export.lines().count(), 3, "{export}");
    });
}

#[test]
fn a_stream_without_a_time_of_its_own_says_how_to_wrap_it() {
    let w = Workdir::new();
    // Anthropic's server-sent events carry no time: the line of the message_start is named.
    let f = fixture("api-log/broken/anthropic-sse-no-time.sse");
    let out = w.run(&["report", &f]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{f}:2: field 'timestamp'")), "{err}");
    assert!(
        err.contains(r#"wrapping each line in an envelope: {"timestamp": "#),
        "{err}"
    );
}

#[test]
fn json_documents_are_read_in_every_layout() {
    let w = Workdir::new();
    // The example response of POST /v1/chat/completions in OpenAI's API reference, saved as .json:
    // gpt-4.1, 19 × $2/M + 10 × $8/M = 0.000038 + 0.00008 = $0.000118 (its `created` is March 2025, before
    // the model's first price period, so it is priced from that period, with a warning).
    let doc = fixture("api-log/documents/openai-docs-chat-completion.json");
    let r = w.json(&["report", "--month", "2025-03", &doc]);
    assert_eq!(money(&r["total"]["cost"]), "0.000118");
    assert_eq!(r["total"]["input_tokens"], 19);
    // Two envelopes as a pretty-printed array, and as pretty objects one after another:
    // claude-sonnet-4-5 3_000 × $3/M + 200 × $15/M = 0.012; gpt-4o-mini 1_000 × $0.15/M + 100 × $0.60/M
    // = 0.00021; together $0.01221.
    for f in ["envelopes-array.json", "envelopes-pretty.jsonl"] {
        let r = w.json(&["report", &fixture(&format!("api-log/documents/{f}"))]);
        assert_eq!(money(&r["total"]["cost"]), "0.01221", "{f}");
        assert_eq!(r["total"]["requests"], 2, "{f}");
    }
    // LiteLLM: one spend row and one logging payload, each pretty-printed as a .json file, read as the
    // same rows in the compact exports. gpt-4o-mini 6_000 × $0.15/M + 4_000 cached × $0.075/M + 1_000 ×
    // $0.60/M = $0.0018; gpt-4o 600 × $2.50/M + 400 cached × $1.25/M + 200 × $10/M = $0.004.
    let r = w.json(&["report", &fixture("litellm/spend-row-pretty.json")]);
    assert_eq!(money(&r["total"]["cost"]), "0.0018");
    let r = w.json(&["report", &fixture("litellm/payload-pretty.json")]);
    assert_eq!(money(&r["total"]["cost"]), "0.004");
    // OpenRouter generations as a pretty-printed array: the first three lines of generations.jsonl.
    let array = w.json(&["report", &fixture("openrouter/generations-array.json")]);
    let lines: String = std::fs::read_to_string(fixture("openrouter/generations.jsonl"))
        .unwrap()
        .lines()
        .take(3)
        .map(|l| format!("{l}\n"))
        .collect();
    let first3 = w.write("first3.jsonl", &lines);
    assert_eq!(array, w.json(&["report", first3.to_str().unwrap()]));
    // OpenAI cost pages pretty-printed one after another (the same page twice): counted once.
    let pages = w.json(&["report", &fixture("openai-costs/pages-pretty.jsonl")]);
    let page = w.json(&["report", &fixture("openai-costs/costs-page.json")]);
    assert_eq!(pages, page);
}

/// `n` gpt-4o-mini responses (1_000 in, 100 out each), padded to over 64 KiB: more than the head that
/// chooses how a file is read, so that what follows them is read past it.
fn plain_responses(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"timestamp\":\"2026-10-20T07:00:00Z\",\"note\":\"{}\",\"response\":{{\"id\":\"chatcmpl-p{i}\",\
                 \"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\",\"usage\":{{\"prompt_tokens\":1000,\
                 \"completion_tokens\":100}}}}}}\n",
                "x".repeat(300)
            )
        })
        .collect()
}

/// The first and last events of an Anthropic stream in envelopes: claude-sonnet-4-5, 2_000 in, 10_000
/// cache read, then 400 out.
const STREAM_START: &str = r#"{"timestamp":"2026-10-20T08:02:00Z","request_id":"req_1","provider":"anthropic","response":{"type":"message_start","message":{"id":"msg_01Past","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":2000,"cache_read_input_tokens":10000,"output_tokens":1}}}}
"#;
const STREAM_DELTA: &str = r#"{"timestamp":"2026-10-20T08:02:01Z","request_id":"req_1","provider":"anthropic","response":{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":400}}}
"#;

#[test]
fn an_anthropic_stream_past_the_first_64_kib_counts_its_output() {
    let w = Workdir::new();
    let plain = plain_responses(160);
    assert!(plain.len() > 64 * 1024);
    let between = "{\"timestamp\":\"2026-10-20T08:02:00Z\",\"response\":{\"id\":\"chatcmpl-mid\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100}}}\n";
    let f = w.write(
        "late-stream.jsonl",
        &format!("{plain}{STREAM_START}{between}{STREAM_DELTA}"),
    );
    let r = w.json(&["report", "--month", "2026-10", f.to_str().unwrap()]);
    // claude-sonnet-4-5: 2_000 × $3/M + 10_000 × $0.30/M + 400 × $15/M = 0.006 + 0.003 + 0.006 = $0.015
    let claude = row(&r, "model", "claude-sonnet-4-5");
    assert_eq!(money(&claude["cost"]), "0.015");
    assert_eq!(claude["output_tokens"], 400);
    assert_eq!(claude["requests"], 1);
    // gpt-4o-mini: 161 × (1_000 × $0.15/M + 100 × $0.60/M) = 161 × $0.00021 = $0.03381
    assert_eq!(money(&row(&r, "model", "gpt-4o-mini")["cost"]), "0.03381");
    assert_eq!(money(&r["total"]["cost"]), "0.04881");
}

#[test]
fn a_grown_log_whose_stream_was_cut_short_is_read_again_in_full() {
    let w = Workdir::new();
    let plain = plain_responses(160);
    let f = w.write("growing.jsonl", &format!("{plain}{STREAM_START}"));
    let path = f.to_str().unwrap();
    // Cut short: the message_start's usage, 2_000 × $3/M + 10_000 × $0.30/M + 1 × $15/M = $0.009015
    let r = w.json(&["report", "--month", "2026-10", path]);
    assert_eq!(
        money(&row(&r, "model", "claude-sonnet-4-5")["cost"]),
        "0.009015"
    );
    // The rest of the stream arrives: the cached read is not extended from where it ended (its stream was
    // open), the file is read again, and the request counts once, with its 400 output: $0.015.
    std::fs::write(&f, format!("{plain}{STREAM_START}{STREAM_DELTA}")).unwrap();
    let r = w.json(&["report", "--month", "2026-10", path]);
    let claude = row(&r, "model", "claude-sonnet-4-5");
    assert_eq!(money(&claude["cost"]), "0.015");
    assert_eq!(claude["requests"], 1);
}
