//! The error catalogue: one broken input and its expected message each. Every input error exits 2, names
//! the file and line (and the field where there is one), and leaves the ledger untouched.

use crate::backends::on_each_backend;
use crate::{fixture, Workdir};

/// (broken fixture, the message after `aispend: <path>:`)
const CATALOGUE: &[(&str, &str)] = &[
    ("api-log/broken/bad-json.jsonl", ":3: not valid JSON: EOF while parsing a string"),
    (
        "api-log/broken/bad-field.jsonl",
        ":2: field 'response.usage.prompt_tokens': invalid type: string \"12\", expected a non-negative integer",
    ),
    ("api-log/broken/no-timestamp.jsonl", ":2: field 'timestamp': no timestamp: add \"timestamp\""),
    (
        "openai-usage/broken/bad-field.json",
        ":20: field 'data[0].results[0].num_model_requests': invalid type: string \"42\", expected a non-negative integer",
    ),
    ("anthropic-usage/broken/bad-json.json", ":48: not valid JSON: EOF while parsing an object"),
    ("claude-code/broken/bad.jsonl", ":2: not valid JSON: EOF while parsing an object"),
];

#[test]
fn every_input_error_names_file_line_and_field_and_writes_nothing() {
    on_each_backend(|w, _| {
        w.stdout(&["import", &fixture("api-log/gemini.jsonl")]);
        assert_each_rejected(w, CATALOGUE, &["report"]);
    });
}

/// For each (broken fixture, the message after `aispend: <path>`): `import` and `report` of it exit 2
/// with that message on one line, and the ledger's `report_args` report is what it was.
pub fn assert_each_rejected(w: &Workdir, catalogue: &[(&str, &str)], report_args: &[&str]) {
    let before = w.json(report_args);
    for (file, expected) in catalogue {
        let path = fixture(file);
        for command in ["import", "report"] {
            let out = w.run(&[command, &path]);
            assert_eq!(out.status.code(), Some(2), "{command} {file}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            let want = format!("aispend: {path}{expected}");
            assert!(
                stderr.starts_with(&want),
                "{command} {file}:\n got: {stderr}\nwant: {want}"
            );
            assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        }
        assert_eq!(w.json(report_args), before, "{file} changed the ledger");
    }
}

#[test]
fn skip_invalid_counts_what_it_skips() {
    let w = Workdir::new();
    // bad-json.jsonl: lines 1, 2, 4 are good gpt-4o requests (100+10, 200+20, 400+40 tokens)
    let out = w
        .cmd()
        .args([
            "report",
            "--skip-invalid",
            "--format",
            "json",
            &fixture("api-log/broken/bad-json.jsonl"),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["total"]["requests"], 3);
    // 700 × $2.50/M + 70 × $10/M = 1_750 + 700 = 2_450 µ$
    assert_eq!(r["total"]["cost"], "0.00245");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("skipped 1 invalid record(s)") && stderr.contains("bad-json.jsonl:3:"),
        "{stderr}"
    );
}

#[test]
fn an_unrecognised_file_named_on_the_command_line_is_an_error() {
    let w = Workdir::new();
    let f = w.write("notes.txt", "hello\n");
    let out = w.run(&["report", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "notes.txt:1: cannot tell which format this file is in; name it with --source"
        ),
        "{stderr}"
    );
    // inside a folder it is skipped instead (a folder of exports often holds a README)
    w.write("exports/readme.txt", "hello\n");
    std::fs::copy(
        fixture("api-log/gemini.jsonl"),
        w.path().join("exports/gemini.jsonl"),
    )
    .unwrap();
    let r = w.json(&["report", w.path().join("exports").to_str().unwrap()]);
    assert_eq!(r["total"]["requests"], 4);
}

#[test]
fn bad_config_and_price_tables_exit_2() {
    let w = Workdir::new();
    let cfg = w.write(
        "bad.toml",
        "[teams]\nrules = [{ team = \"a\", projekt = \"x\" }]\n",
    );
    let out = w.run(&[
        "--config",
        cfg.to_str().unwrap(),
        "report",
        &fixture("api-log/gemini.jsonl"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `projekt`"));
    let prices = w.write("p.toml", "provider = \"openai\"\n[[model]]\nid = \"x\"\n[[model.price]]\neffective = \"2026-01-01\"\ninput = 1.5\noutput = \"2\"\n");
    let out = w.run(&["--pricing", prices.to_str().unwrap(), "pricing", "list"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("p.toml: model 'x', price period 1: `input` must be a decimal string"),
        "{stderr}"
    );
}
