//! `aispend import` and the ledger: atomic, idempotent, concurrent-safe.

use crate::{fixture, money, Workdir};

fn count_records(w: &Workdir) -> u64 {
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
fn import_is_idempotent_and_reports_match_direct_reads() {
    let w = Workdir::new();
    let out = w.stdout(&["import", &fixture("api-log/openai-chat.jsonl")]);
    assert!(out.contains("added 5, 0 duplicate, 0 skipped"), "{out}");
    let again = w.stdout(&[
        "import",
        &fixture("api-log/openai-chat.jsonl"),
        &fixture("api-log/openai-chat.jsonl.gz"),
    ]);
    assert!(again.contains("added 0, 5 duplicate"), "{again}");
    assert_eq!(count_records(&w), 5);
    let from_ledger = w.json(&["report"]);
    let direct = w.json(&["report", &fixture("api-log/openai-chat.jsonl")]);
    assert_eq!(from_ledger, direct);
    assert_eq!(money(&from_ledger["total"]["cost"]), "0.0952");
}

#[test]
fn streaming_partials_and_grown_buckets_keep_the_largest() {
    let w = Workdir::new();
    let out = w.stdout(&["import", &fixture("claude-code/projects")]);
    assert!(out.contains("merged into a larger copy"), "{out}");
    assert_eq!(count_records(&w), 5);
    let r = w.json(&["report", "--by", "project"]);
    assert_eq!(money(&r["total"]["cost"]), "0.134023");
    // importing again changes nothing
    w.stdout(&["import", &fixture("claude-code/projects")]);
    assert_eq!(w.json(&["report", "--by", "project"]), r);
}

/// fixtures/claude-code/largest-first: three copies of one message with output 100, then 500, then 40.
/// Only the largest counts, whichever copy comes first or last (sonnet-4-5):
/// 4 × $3/M + 8,000 × $0.30/M + 500 × $15/M = $0.000012 + $0.0024 + $0.0075 = $0.009912
#[test]
fn the_largest_partial_wins_even_when_it_is_neither_first_nor_last() {
    let w = Workdir::new();
    let folder = fixture("claude-code/largest-first");
    let check = |r: &serde_json::Value, how: &str| {
        assert_eq!(r["rows"][0]["project"], "notes", "{how}: {r:#}");
        assert_eq!(r["total"]["requests"], 1, "{how}");
        assert_eq!(r["total"]["output_tokens"], 500, "{how}");
        assert_eq!(money(&r["total"]["cost"]), "0.009912", "{how}");
    };
    check(
        &w.json(&["report", "--by", "project", &folder]),
        "read directly",
    );
    w.stdout(&["import", &folder]);
    assert_eq!(count_records(&w), 1);
    check(&w.json(&["report", "--by", "project"]), "from the ledger");
}

#[test]
fn a_bad_record_writes_nothing() {
    let w = Workdir::new();
    w.stdout(&["import", &fixture("api-log/openai-chat.jsonl")]);
    let before = w.json(&["report"]);
    // a good file first, then a broken one, in the same import: the whole import rolls back
    let out = w.run(&[
        "import",
        &fixture("api-log/anthropic-messages.jsonl"),
        &fixture("api-log/broken/bad-field.jsonl"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(count_records(&w), 5);
    assert_eq!(w.json(&["report"]), before);
    // --skip-invalid imports the good records and counts the bad one
    let out = w.stdout(&[
        "import",
        "--skip-invalid",
        &fixture("api-log/broken/bad-field.jsonl"),
    ]);
    assert!(out.contains("added 1, 0 duplicate, 1 skipped"), "{out}");
}

#[test]
fn dry_run_writes_nothing() {
    let w = Workdir::new();
    let out = w.stdout(&["import", "--dry-run", &fixture("api-log/openai-chat.jsonl")]);
    assert!(out.contains("would add 5"), "{out}");
    assert_eq!(count_records(&w), 0);
}

#[test]
fn concurrent_imports_neither_corrupt_nor_double_count() {
    let folder = fixture("api-log");
    // the broken/ subfolder would fail the import: read the good files only
    let files: Vec<String> = [
        "openai-chat.jsonl",
        "openai-responses.jsonl",
        "anthropic-messages.jsonl",
        "gemini.jsonl",
    ]
    .iter()
    .map(|f| format!("{folder}/{f}"))
    .collect();
    // Creating a new ledger is where processes collide (the WAL switch and the schema), so every round
    // starts from no ledger at all; one lost round in fifty would fail the test.
    for round in 0..50 {
        let w = Workdir::new();
        let children: Vec<_> = (0..4)
            .map(|_| {
                let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("aispend"));
                cmd.env_remove("AISPEND_LEDGER")
                    .arg("--ledger")
                    .arg(w.ledger())
                    .arg("import")
                    .args(&files)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped());
                cmd.spawn().unwrap()
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // 5 chat + 3 responses + 6 messages + 4 gemini (read straight from the file: a `ledger stats`
        // process per round would double the test's time)
        let ledger = rusqlite::Connection::open(w.ledger()).unwrap();
        let records: i64 = ledger
            .query_row("SELECT count(*) FROM records", [], |r| r.get(0))
            .unwrap();
        assert_eq!(records, 18, "round {round}");
    }
}

#[test]
fn ledger_location_from_environment_and_config() {
    let w = Workdir::new();
    let env_ledger = w.path().join("env.db");
    let mut cmd = assert_cmd::Command::cargo_bin("aispend").unwrap();
    cmd.current_dir(w.path())
        .env("AISPEND_LEDGER", &env_ledger)
        .args(["import", &fixture("api-log/gemini.jsonl")])
        .assert()
        .success();
    assert!(env_ledger.exists());
    w.write("aispend.toml", "ledger = \"spend/ledger.db\"\n");
    let mut cmd = assert_cmd::Command::cargo_bin("aispend").unwrap();
    cmd.current_dir(w.path())
        .env_remove("AISPEND_LEDGER")
        .args(["import", &fixture("api-log/gemini.jsonl")])
        .assert()
        .success();
    assert!(w.path().join("spend/ledger.db").exists());
}
