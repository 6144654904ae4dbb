//! A property test: for any valid API log (OpenAI and Anthropic responses, repeated ids, failed requests,
//! unpriced models, counts up to the 10^15 limit), reading the file directly and importing it then
//! reading the ledger give the same report. A few cases per run (each runs the binary three times).

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::Workdir;

/// One request: (id, team, model, prompt, cached, completion, day, second of day, status).
type Request = (u8, &'static str, &'static str, u64, u64, u64, u32, u32, u16);

fn count() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 0u64..2_000_000,
        1 => Just(1_000_000_000_000_000u64),
        1 => 0u64..1_000_000_000_000_000,
    ]
}

fn request() -> impl Strategy<Value = Request> {
    (
        0u8..24,
        prop::sample::select(vec!["search", "support", "", "=team"]),
        prop::sample::select(vec![
            "gpt-4o",
            "gpt-4o-mini-2024-07-18",
            "o3",
            "gpt-9-preview",
            "claude-sonnet-4-5",
            "claude-haiku-4-5-20251001",
        ]),
        count(),
        count(),
        count(),
        1u32..=31,
        0u32..86_400,
        prop::sample::select(vec![200u16, 200, 200, 429, 500]),
    )
}

/// The log line of one request: an envelope around an OpenAI chat completion or an Anthropic message.
fn line(r: &Request) -> String {
    let (id, team, model, prompt, cached, completion, day, second, status) = *r;
    let cached = cached.min(prompt);
    let response = if model.starts_with("claude") {
        json!({"type": "message", "id": format!("msg_{id}"), "model": model,
               "usage": {"input_tokens": prompt - cached, "cache_read_input_tokens": cached,
                         "output_tokens": completion}})
    } else {
        json!({"id": format!("chatcmpl-{id}"), "object": "chat.completion", "model": model,
               "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                         "prompt_tokens_details": {"cached_tokens": cached}}})
    };
    let mut envelope = json!({
        "timestamp": format!("2026-10-{day:02}T{:02}:{:02}:{:02}Z", second / 3600, second / 60 % 60, second % 60),
        "status": status,
        "response": response,
    });
    if !team.is_empty() {
        envelope["team"] = json!(team);
    }
    envelope.to_string() + "\n"
}

fn report(w: &Workdir, extra: &[&str]) -> Value {
    let mut args = vec!["report", "--month", "2026-10", "--by", "team,model,day"];
    args.extend(extra);
    w.json(&args)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_file_and_the_ledger_give_the_same_report(requests in prop::collection::vec(request(), 1..40)) {
        let w = Workdir::new();
        let log: String = requests.iter().map(line).collect();
        let file = w.write("log.jsonl", &log);
        let direct = report(&w, &[file.to_str().unwrap()]);
        w.stdout(&["import", file.to_str().unwrap()]);
        let from_ledger = report(&w, &[]);
        prop_assert_eq!(direct, from_ledger);
    }
}
