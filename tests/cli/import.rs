//! `aispend import` and the ledger: atomic, idempotent, concurrent-safe. Every test runs once per
//! backend (SQLite, then PostgreSQL: see [`on_each_backend`]) but the last, which is about where a
//! ledger file is found.

use crate::backends::{new_database, on_each_backend, Store};
use crate::{fixture, money, PrivateCache, Workdir};

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
    on_each_backend(|w, store| {
        let what = store.name();
        let out = w.stdout(&["import", &fixture("api-log/openai-chat.jsonl")]);
        assert!(
            out.contains("added 5, 0 duplicate, 0 skipped"),
            "{what}: {out}"
        );
        let again = w.stdout(&[
            "import",
            &fixture("api-log/openai-chat.jsonl"),
            &fixture("api-log/openai-chat.jsonl.gz"),
        ]);
        assert!(again.contains("added 0, 5 duplicate"), "{what}: {again}");
        assert_eq!(count_records(w), 5, "{what}");
        let from_ledger = w.json(&["report"]);
        let direct = w.json(&["report", &fixture("api-log/openai-chat.jsonl")]);
        assert_eq!(from_ledger, direct, "{what}");
        assert_eq!(money(&from_ledger["total"]["cost"]), "0.0952", "{what}");
    });
}

#[test]
fn streaming_partials_and_grown_buckets_keep_the_largest() {
    on_each_backend(|w, store| {
        let what = store.name();
        let out = w.stdout(&["import", &fixture("claude-code/projects")]);
        assert!(out.contains("merged into a larger copy"), "{what}: {out}");
        assert_eq!(count_records(w), 5, "{what}");
        let r = w.json(&["report", "--by", "project"]);
        assert_eq!(money(&r["total"]["cost"]), "0.134023", "{what}");
        // importing again changes nothing
        w.stdout(&["import", &fixture("claude-code/projects")]);
        assert_eq!(w.json(&["report", "--by", "project"]), r, "{what}");
    });
}

/// fixtures/claude-code/largest-first: three copies of one message with output 100, then 500, then 40.
/// Only the largest counts, whichever copy comes first or last (sonnet-4-5):
/// 4 × $3/M + 8,000 × $0.30/M + 500 × $15/M = $0.000012 + $0.0024 + $0.0075 = $0.009912
#[test]
fn the_largest_partial_wins_even_when_it_is_neither_first_nor_last() {
    let folder = fixture("claude-code/largest-first");
    on_each_backend(|w, store| {
        let check = |r: &serde_json::Value, how: &str| {
            let what = store.name();
            assert_eq!(r["rows"][0]["project"], "notes", "{what}, {how}: {r:#}");
            assert_eq!(r["total"]["requests"], 1, "{what}, {how}");
            assert_eq!(r["total"]["output_tokens"], 500, "{what}, {how}");
            assert_eq!(money(&r["total"]["cost"]), "0.009912", "{what}, {how}");
        };
        check(
            &w.json(&["report", "--by", "project", &folder]),
            "read directly",
        );
        w.stdout(&["import", &folder]);
        assert_eq!(count_records(w), 1, "{}", store.name());
        check(&w.json(&["report", "--by", "project"]), "from the ledger");
    });
}

#[test]
fn a_bad_record_writes_nothing() {
    on_each_backend(|w, store| {
        let what = store.name();
        w.stdout(&["import", &fixture("api-log/openai-chat.jsonl")]);
        let before = w.json(&["report"]);
        // a good file first, then a broken one, in the same import: the whole import rolls back
        let out = w.run(&[
            "import",
            &fixture("api-log/anthropic-messages.jsonl"),
            &fixture("api-log/broken/bad-field.jsonl"),
        ]);
        assert_eq!(out.status.code(), Some(2), "{what}");
        assert_eq!(count_records(w), 5, "{what}");
        assert_eq!(w.json(&["report"]), before, "{what}");
        // --skip-invalid imports the good records and counts the bad one
        let out = w.stdout(&[
            "import",
            "--skip-invalid",
            &fixture("api-log/broken/bad-field.jsonl"),
        ]);
        assert!(
            out.contains("added 1, 0 duplicate, 1 skipped"),
            "{what}: {out}"
        );
    });
}

#[test]
fn dry_run_writes_nothing() {
    on_each_backend(|w, store| {
        let what = store.name();
        let out = w.stdout(&["import", "--dry-run", &fixture("api-log/openai-chat.jsonl")]);
        assert!(out.contains("would add 5"), "{what}: {out}");
        assert_eq!(count_records(w), 0, "{what}");
    });
}

/// Processes importing at the same moment into a new ledger neither corrupt it nor count a record
/// twice. Creating a new ledger is where they collide (for SQLite the file, the WAL switch and the
/// schema; for PostgreSQL the schema and its migrations in an empty database), so every round starts
/// from no ledger at all: fifty rounds on SQLite (one lost round in fifty would fail the test), five on
/// PostgreSQL, each in a new database.
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
    on_each_backend(|w, store| {
        let rounds = match store {
            Store::Sqlite => 50,
            Store::Postgres(_) => 5,
        };
        for round in 0..rounds {
            // Every round after the first in a new ledger of the same backend.
            let next = (round > 0).then(|| match store {
                Store::Sqlite => (Workdir::new(), Store::Sqlite),
                Store::Postgres(_) => {
                    let server = crate::postgres::server().expect("the test server");
                    let url = new_database(&server);
                    (Workdir::with_ledger_url(&url), Store::Postgres(url))
                }
            });
            let (w, store) = next.as_ref().map_or((w, store), |(w, s)| (w, s));
            let what = store.name();
            let children: Vec<_> = (0..4)
                .map(|_| {
                    let mut cmd =
                        std::process::Command::new(assert_cmd::cargo::cargo_bin("aispend"));
                    cmd.env_remove("AISPEND_LEDGER")
                        .private_cache(w.path())
                        .arg("--ledger")
                        .arg(w.ledger_arg())
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
                    "{what}, round {round}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            // 5 chat + 3 responses + 6 messages + 4 gemini (read straight from the ledger's table: a
            // `ledger stats` process per round would double the test's time)
            let records = store.query(w, "SELECT count(*) FROM records");
            assert_eq!(
                records,
                vec![vec![Some("18".to_string())]],
                "{what}, round {round}"
            );
        }
    });
}

/// SQLite only: where a ledger *file* is found (`$AISPEND_LEDGER` as a path, then the config's
/// `ledger`, relative to the working directory). A PostgreSQL URL in `$AISPEND_LEDGER` is tested in
/// backends.rs (`a_postgres_ledger_url_is_shown_without_its_password`).
#[test]
fn ledger_location_from_environment_and_config() {
    let w = Workdir::new();
    let env_ledger = w.path().join("env.db");
    let mut cmd = assert_cmd::Command::cargo_bin("aispend").unwrap();
    cmd.current_dir(w.path())
        .private_cache(w.path())
        .env("AISPEND_LEDGER", &env_ledger)
        .args(["import", &fixture("api-log/gemini.jsonl")])
        .assert()
        .success();
    assert!(env_ledger.exists());
    w.write("aispend.toml", "ledger = \"spend/ledger.db\"\n");
    let mut cmd = assert_cmd::Command::cargo_bin("aispend").unwrap();
    cmd.current_dir(w.path())
        .private_cache(w.path())
        .env_remove("AISPEND_LEDGER")
        .args(["import", &fixture("api-log/gemini.jsonl")])
        .assert()
        .success();
    assert!(w.path().join("spend/ledger.db").exists());
}
