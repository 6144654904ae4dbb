//! Small commands and command-line behaviour: sources, pricing, completions, usage errors, pipes.

use crate::{fixture, Workdir};

#[test]
fn sources_lists_every_importer() {
    let out = Workdir::new().stdout(&["sources"]);
    for name in ["api-log", "openai-usage", "anthropic-usage", "claude-code"] {
        assert!(out.contains(name), "{name} missing from:\n{out}");
    }
}

#[test]
fn pricing_show_explains_the_match() {
    let w = Workdir::new();
    let out = w.stdout(&[
        "pricing",
        "show",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    ]);
    assert!(
        out.starts_with("us.anthropic.claude-sonnet-4-5-20250929-v1:0 → claude-sonnet-4-5"),
        "{out}"
    );
    assert!(
        out.contains("long context (whole request above 200,000 input tokens)"),
        "{out}"
    );
    let bad = w.run(&["pricing", "show", "gpt-9-preview"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no price for 'gpt-9-preview'"));
    let list = w.stdout(&["pricing", "list", "--provider", "google"]);
    assert!(
        list.contains("gemini-2.5-pro") && !list.contains("gpt-4o"),
        "{list}"
    );
}

#[test]
fn pricing_missing_lists_unpriced_models() {
    let w = Workdir::new();
    let out = w.stdout(&[
        "pricing",
        "missing",
        &fixture("api-log/unknown-model.jsonl"),
    ]);
    assert!(
        out.contains("gpt-9-preview") && out.contains("no price table entry"),
        "{out}"
    );
    w.stdout(&["import", &fixture("api-log/gemini.jsonl")]);
    assert!(w
        .stdout(&["pricing", "missing"])
        .contains("Every model read has a price"));
}

#[test]
fn completions_for_each_shell() {
    let w = Workdir::new();
    for shell in ["bash", "zsh", "fish"] {
        assert!(w.stdout(&["completions", shell]).contains("aispend"));
    }
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    let w = Workdir::new();
    let f = fixture("api-log/gemini.jsonl");
    for (args, needle) in [
        (vec!["report", "--bogus"], "--bogus"),
        (
            vec!["report", "--month", "2026-13", f.as_str()],
            "invalid month '2026-13'",
        ),
        (
            vec![
                "report",
                "--since",
                "2026-10-xx",
                "--until",
                "2026-10-02",
                f.as_str(),
            ],
            "invalid date '2026-10-xx'",
        ),
        (
            vec!["report", "--by", "colour", f.as_str()],
            "unknown dimension 'colour'",
        ),
        (
            vec!["report", "no/such/file.jsonl"],
            "no/such/file.jsonl: no such file",
        ),
        (
            vec!["report", "--source", "nope", f.as_str()],
            "unknown source 'nope'",
        ),
        (vec!["report"], "no ledger at"),
        (
            vec!["report", "--timezone", "Mars/Olympus", f.as_str()],
            "unknown time zone",
        ),
    ] {
        let out = w.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let w = Workdir::new();
    // 5_000 users → a CSV far larger than a pipe buffer, so the writer really meets the closed pipe.
    let file = w.many_users_log(5_000).display().to_string();
    let args = ["report", "--by", "user", "--format", "csv", &file];
    w.assert_closed_pipe_is_quiet(&args.map(String::from));
}

#[test]
fn stdin_is_a_path() {
    let w = Workdir::new();
    let input = std::fs::read(fixture("api-log/gemini.jsonl")).unwrap();
    let out = w
        .cmd()
        .args(["report", "-", "--format", "json"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(out.status.success());
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["total"]["requests"], 4);
}

#[test]
fn demo_report_needs_no_setup() {
    let w = Workdir::new();
    let out = w.stdout(&["report", &fixture("demo")]);
    assert!(out.contains("AI spend 2026-10-01 to 2026-10-31"), "{out}");
    for model in ["claude-sonnet-4-5", "gpt-4o", "gemini-2.5-pro"] {
        assert!(out.contains(model), "{model} missing:\n{out}");
    }
}

#[test]
fn pricing_diff_against_a_litellm_map() {
    let w = Workdir::new();
    let f = fixture("litellm-prices/sample.json");
    // gpt-4o agrees ($2.50 / $10 / $1.25 per 1M); claude-sonnet-4-5's input is $3.30 there, $3 here
    let r = w.json(&["pricing", "diff", "--litellm", &f]);
    assert_eq!(r["models_compared"], 2);
    let d = r["differences"].as_array().unwrap();
    assert_eq!(d.len(), 1, "{r:#}");
    assert_eq!(d[0]["model"], "claude-sonnet-4-5");
    assert_eq!(d[0]["rate"], "input");
    assert_eq!(d[0]["ours"], "3");
    assert_eq!(d[0]["litellm"], "3.3");
    assert_eq!(
        r["not_in_our_tables"],
        serde_json::json!(["openai: gpt-9-preview"])
    );
    assert_eq!(r["skipped_regional_keys"], 1);
    let table = w.stdout(&["pricing", "diff", "--litellm", &f]);
    assert!(
        table.contains("2 models compared, 1 rates differ"),
        "{table}"
    );
    let bad = w.write("bad.json", "[1, 2");
    assert_eq!(
        w.run(&["pricing", "diff", "--litellm", bad.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
}
