//! The per-file account that ends every run reading files: records, duplicates merged, records skipped
//! and why, records unpriced; files that held nothing; `--strict`.

use crate::backends::on_each_backend;
use crate::{fixture, Workdir};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_file_read_is_accounted_for_on_stderr_and_in_json() {
    let w = Workdir::new();
    let dup = fixture("api-log/duplicates.jsonl");
    let bad = fixture("api-log/broken/bad-field.jsonl");
    let unknown = fixture("api-log/unknown-model.jsonl");
    let out = w.run(&["report", "--skip-invalid", &dup, &bad, &unknown]);
    assert!(out.status.success());
    let err = stderr(&out);
    // duplicates.jsonl: 3 lines, the third a second copy of the first; bad-field.jsonl: one good line and
    // one with a token count written as a string; unknown-model.jsonl: 2 of 3 records of gpt-9-preview.
    assert!(
        err.contains(&format!("{dup}: api-log, 3 records, 1 duplicate merged\n")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{bad}: api-log, 1 record, 1 skipped\n")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{unknown}: api-log, 3 records, 2 unpriced\n")),
        "{err}"
    );
    assert!(
        err.contains("read 3 files: 7 records, 1 duplicate merged, 1 skipped, 2 unpriced\n"),
        "{err}"
    );
    // why the record was skipped: file, line and field
    assert!(
        err.contains(":2: field 'response.usage.prompt_tokens'"),
        "{err}"
    );
    let doc = w.json_with_inputs(&["report", "--skip-invalid", &dup, &bad, &unknown]);
    let inputs = doc["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 3);
    assert_eq!(inputs[0]["file"], dup.as_str());
    assert_eq!(inputs[0]["source"], "api-log");
    assert_eq!(
        (
            inputs[0]["records"].as_u64(),
            inputs[0]["duplicates"].as_u64()
        ),
        (Some(3), Some(1))
    );
    assert_eq!(inputs[1]["skipped"], 1);
    assert_eq!(inputs[2]["unpriced"], 2);
    // The report itself is unchanged by the account: 2 unique gpt-4o(-mini) requests + 1 + 1 priced.
    assert_eq!(doc["schema"], "aispend.report.v1");
    // From the ledger nothing was read: an empty account.
    on_each_backend(|w, _| {
        w.stdout(&["import", &dup]);
        assert_eq!(
            w.json_with_inputs(&["report"])["inputs"],
            serde_json::json!([])
        );
    });
    // --quiet silences the account.
    let out = w.run(&["--quiet", "report", &dup]);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_file_detected_but_holding_nothing_is_a_warning_and_strict_fails() {
    let w = Workdir::new();
    // A Chat Completions stream logged without `stream_options: {"include_usage": true}`: its chunks carry
    // no usage at all.
    let chunks = fixture("account/chunks-without-usage.jsonl");
    let out = w.run(&["report", &chunks]);
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "warning: {chunks}: read as api-log, but it held no usage record (none of its 3 lines \
             carried token counts)"
        )),
        "{err}"
    );
    for cmd in [
        vec!["report", "--strict"],
        vec!["forecast", "--strict"],
        vec!["budget", "check", "--strict", "--budgets", "BUDGETS"],
    ] {
        let budgets = fixture("budgets/demo.toml");
        let mut args: Vec<&str> = cmd
            .iter()
            .map(|a| if *a == "BUDGETS" { budgets.as_str() } else { a })
            .collect();
        args.push(&chunks);
        let out = w.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("--strict: "), "{}", stderr(&out));
    }
    // Without warnings --strict changes nothing.
    let out = w.run(&["report", "--strict", &fixture("api-log/gemini.jsonl")]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn import_accounts_for_unpriced_records_and_strict_writes_nothing() {
    on_each_backend(|w, _| {
        let unknown = fixture("api-log/unknown-model.jsonl");
        let out = w.run(&["import", "--strict", &unknown]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("2 record(s) have no price"),
            "{}",
            stderr(&out)
        );
        // Nothing was written: the ledger is empty.
        let stats = w.stdout(&["ledger", "stats", "--format", "json"]);
        let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
        assert_eq!(stats["records"], 0, "{stats}");
        // Without --strict the import goes through and says what it could not price.
        let out = w.stdout(&["import", &unknown]);
        assert!(
            out.contains("api-log added 3, 0 duplicate, 0 skipped, 2 unpriced"),
            "{out}"
        );
        let out = w.run(&["import", &fixture("account/chunks-without-usage.jsonl")]);
        assert!(out.status.success());
        assert!(
            stderr(&out).contains("held no usage record"),
            "{}",
            stderr(&out)
        );
    });
}

#[test]
fn ledger_export_reconcile_and_budget_account_for_their_files_as_report_does() {
    let w = Workdir::new();
    let dup = fixture("api-log/duplicates.jsonl");
    let bad = fixture("api-log/broken/bad-field.jsonl");
    let unknown = fixture("api-log/unknown-model.jsonl");
    let files = [dup.as_str(), bad.as_str(), unknown.as_str()];
    let with = |args: &[&str]| -> Vec<String> {
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        all.push("--skip-invalid".into());
        all.extend(files.iter().map(|f| f.to_string()));
        all
    };
    let run = |args: &[String]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        w.run(&args)
    };
    // The account's lines (the ones naming a file, and the total), as `report` prints them.
    let account = |err: &str| -> Vec<String> {
        err.lines()
            .filter(|l| {
                files.iter().any(|f| l.starts_with(&format!("{f}:"))) || l.starts_with("read ")
            })
            .map(str::to_owned)
            .collect()
    };
    let report = run(&with(&["report", "--month", "2026-10"]));
    assert!(report.status.success());
    let want = account(&stderr(&report));
    // 3 files, each with its line, and the total: 3 + 1 + 3 records, 1 duplicate, 1 skipped, 2 unpriced
    assert_eq!(want.len(), 4, "{want:?}");
    assert_eq!(
        want[3],
        "read 3 files: 7 records, 1 duplicate merged, 1 skipped, 2 unpriced"
    );
    for args in [
        vec!["ledger", "export", "--format", "csv"],
        vec!["report", "--month", "2026-10", "--reconcile"],
        vec![
            "budget",
            "check",
            "--budgets",
            &fixture("budgets/demo.toml"),
            "--month",
            "2026-10",
        ],
    ] {
        let out = run(&with(&args));
        assert!(
            out.status.code().is_some_and(|c| c < 2),
            "{args:?}: {}",
            stderr(&out)
        );
        assert_eq!(account(&stderr(&out)), want, "{args:?}");
    }
    // JSON: reconcile and budget carry the same `inputs` array as report.
    let json = |args: &[&str]| -> serde_json::Value {
        let mut all = with(args);
        all.extend(["--format".to_string(), "json".to_string()]);
        let out = run(&all);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    };
    let inputs = json(&["report", "--month", "2026-10"])["inputs"].clone();
    assert_eq!(inputs.as_array().map(Vec::len), Some(3));
    let reconcile = json(&["report", "--month", "2026-10", "--reconcile"]);
    assert_eq!(reconcile["inputs"], inputs);
    let budgets = fixture("budgets/demo.toml");
    let budget = json(&[
        "budget",
        "check",
        "--budgets",
        &budgets,
        "--month",
        "2026-10",
    ]);
    assert_eq!(budget["schema"], "aispend.budget.v1");
    assert_eq!(budget["inputs"], inputs);
    // --strict applies to ledger export too: the unpriced records are a warning, exit 2.
    let strict = run(&with(&["ledger", "export", "--format", "csv", "--strict"]));
    assert_eq!(strict.status.code(), Some(2), "{}", stderr(&strict));
    assert!(stderr(&strict).contains("--strict"), "{}", stderr(&strict));
}

#[test]
fn a_file_holding_nothing_says_how_many_lines_it_read_every_run_alike() {
    let w = Workdir::new();
    // Two Claude Code user turns and a blank line between them: two lines read, neither with usage.
    let f = w.write(
        "session.jsonl",
        concat!(
            r#"{"type":"user","message":{"role":"user","content":"hi"},"timestamp":"2026-10-01T00:00:00Z"}"#,
            "\n\n",
            r#"{"type":"user","message":{"role":"user","content":"there"},"timestamp":"2026-10-01T00:00:01Z"}"#,
            "\n"
        ),
    );
    let path = f.to_str().unwrap();
    let expected = format!(
        "warning: {path}: read as claude-code, but it held no usage record (none of its 2 lines \
         carried token counts)"
    );
    // A first run (the parse cache written), a warm one (served from it), and one without the cache.
    for args in [
        vec!["report", "--source", "claude-code", path],
        vec!["report", "--source", "claude-code", path],
        vec!["report", "--source", "claude-code", "--no-cache", path],
    ] {
        let out = w.run(&args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            stderr(&out).contains(&expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // Grown by a line: the cached lines and the new one.
    std::fs::write(
        &f,
        format!(
            "{}{}\n",
            std::fs::read_to_string(&f).unwrap(),
            r#"{"type":"user","message":{"role":"user","content":"more"},"timestamp":"2026-10-01T00:00:02Z"}"#
        ),
    )
    .unwrap();
    let out = w.run(&["report", "--source", "claude-code", path]);
    assert!(
        stderr(&out).contains("(none of its 3 lines carried token counts)"),
        "{}",
        stderr(&out)
    );
}
