//! Hostile and broken input: absurd values, cut-off files, spreadsheet formulas, terminal escapes, endless
//! lines and huge values. Every case exits as documented (2 for bad input, naming file, line and field),
//! never panics, and leaves the ledger byte-identical when it fails.

use serde_json::{json, Value};

use crate::backends::{on_each_backend, Store};
use crate::{fixture, Workdir};

/// One API log line (an envelope around an OpenAI chat completion) built as JSON, so any value can be
/// put in any field.
fn envelope(id: &str, dims: Value, prompt: Value, completion: Value) -> String {
    let mut line = json!({
        "timestamp": "2026-10-05T10:00:00Z",
        "response": {"id": id, "object": "chat.completion", "model": "gpt-4o",
                     "usage": {"prompt_tokens": prompt, "completion_tokens": completion}},
    });
    if let Value::Object(d) = dims {
        for (k, v) in d {
            line[k] = v;
        }
    }
    line.to_string() + "\n"
}

/// A ledger with one imported fixture.
fn ledger_with_data(w: &Workdir) {
    w.stdout(&["import", &fixture("api-log/gemini.jsonl")]);
}

/// Runs `report FILE` and `import FILE`; both must exit 2 with stderr starting `aispend: FILE<want>`,
/// on one line, and the ledger must stay as it was (byte-identical, for SQLite).
fn assert_rejected(w: &Workdir, store: &Store, file: &str, want: &str) {
    let before = store.contents(w);
    for command in ["report", "import"] {
        let out = w.run(&[command, file]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command} {file}: {stderr}");
        let expected = format!("aispend: {file}{want}");
        assert!(
            stderr.starts_with(&expected),
            "{command}:\n got: {stderr}\nwant: {expected}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    assert!(store.contents(w) == before, "{file} changed the ledger");
}

#[test]
fn huge_costs_and_quantities_are_record_errors_not_panics() {
    on_each_backend(|w, store| {
        ledger_with_data(w);

        // OpenAI Costs: a cost-only row of $8e19 (its dedup weight in nano-dollars overflowed before).
        let page = std::fs::read_to_string(fixture("openai-costs/costs-page.json")).unwrap();
        let page = page.replacen("\"value\": 1.25,", "\"value\": 80000000000000000000,", 1);
        let f = w.write("costs.json", &page);
        assert_rejected(
            w,
            store,
            f.to_str().unwrap(),
            ":9: field 'reported_cost': value out of range",
        );

        // Azure: Quantity 99999999999999999999999999 × "1K" overflows a decimal; a cost of 8e19.
        // GCP: a cost of 8e19.
        for (name, fixture_file, from, to, want) in [
            (
                "azure-qty.csv",
                "azure-cost/cost-export-ea.csv",
                ",2000,1K,",
                ",99999999999999999999999999,1K,",
                ":2: field 'Quantity': value out of range",
            ),
            (
                "azure-cost.csv",
                "azure-cost/cost-export-ea.csv",
                ",0.33,EUR,",
                ",80000000000000000000,EUR,",
                ":2: field 'reported_cost': value out of range",
            ),
            (
                "gcp.csv",
                "gcp-billing/billing-export.csv",
                ",us-central1,2.5,USD,",
                ",us-central1,80000000000000000000,USD,",
                ":2: field 'reported_cost': value out of range",
            ),
        ] {
            let (header, row) = header_and_first_row(fixture_file);
            let f = w.write(name, &format!("{header}\n{}\n", row.replace(from, to)));
            assert_rejected(w, store, f.to_str().unwrap(), want);
        }
    });
}

/// The header and the first data row of a CSV fixture.
fn header_and_first_row(file: &str) -> (String, String) {
    let csv = std::fs::read_to_string(fixture(file)).unwrap();
    let mut lines = csv.lines().map(str::to_owned);
    (lines.next().unwrap(), lines.next().unwrap())
}

#[test]
fn token_counts_above_ten_to_the_fifteenth_are_rejected_on_every_path() {
    on_each_backend(|w, store| {
        ledger_with_data(w);
        // 2^63: SQLite's signed integers cannot hold it (it used to become 0 in the ledger).
        let f = w.write(
            "big.jsonl",
            &envelope(
                "a",
                json!({}),
                json!(9_223_372_036_854_775_808u64),
                json!(1),
            ),
        );
        assert_rejected(
            w,
            store,
            f.to_str().unwrap(),
            ":1: field 'input_tokens': value out of range",
        );
    });
    // 10^15 exactly is accepted, and the file and ledger paths agree on it.
    on_each_backend(|w, _| {
        let f = w.write(
            "max.jsonl",
            &envelope("b", json!({}), json!(1_000_000_000_000_000u64), json!(0)),
        );
        let file = w.json(&["report", "--month", "2026-10", f.to_str().unwrap()]);
        // 10^15 × $2.50/M = $2,500,000,000
        assert_eq!(file["total"]["input_tokens"], 1_000_000_000_000_000u64);
        assert_eq!(file["total"]["cost"], "2500000000");
        w.stdout(&["import", f.to_str().unwrap()]);
        assert_eq!(w.json(&["report", "--month", "2026-10"]), file);
    });
}

#[test]
fn sums_past_the_largest_count_saturate_with_a_warning() {
    let w = Workdir::new();
    // 18_500 requests of 10^15 input tokens: 1.85 × 10^19 > u64::MAX (≈ 1.845 × 10^19).
    let mut log = String::new();
    for i in 0..18_500 {
        log.push_str(&envelope(
            &format!("r{i}"),
            json!({}),
            json!(1_000_000_000_000_000u64),
            json!(0),
        ));
    }
    let f = w.write("many.jsonl", &log);
    let out = w.run(&["report", "--format", "json", f.to_str().unwrap()]);
    assert!(out.status.success());
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["total"]["input_tokens"], u64::MAX);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: a sum in this report reached the largest value"),
        "{stderr}"
    );
}

#[test]
fn a_csv_row_cut_short_is_a_record_error_and_a_missing_final_newline_is_noted() {
    on_each_backend(|w, store| {
        ledger_with_data(w);
        let (header, first) =
            header_and_first_row("openai-csv/completions_usage_2026-10-01_2026-10-03.csv");
        // A partial download: the second row stops in the middle of `input_tokens` (120000.0 → 12000).
        let cut = &first[..first.find(",120000.0,").unwrap() + ",12000".len()];
        let f = w.write("cut.csv", &format!("{header}\n{first}\n{cut}"));
        assert_rejected(
            w,
            store,
            f.to_str().unwrap(),
            ":3: the row has 12 of the header's 25 fields: cut short",
        );

        // Azure: a row cut just before its cost (the cost reads as empty).
        let (header, row) = header_and_first_row("azure-cost/cost-export-ea.csv");
        let cut = &row[..row.find(",0.33,").unwrap() + 1];
        let f = w.write("azure-cut.csv", &format!("{header}\n{cut}"));
        assert_rejected(
            w,
            store,
            f.to_str().unwrap(),
            ":2: the row has 12 of the header's 16 fields",
        );

        // Whole rows, but no final new line: imported, and the per-file account says so.
        let f = w.write("whole.csv", &format!("{header}\n{row}"));
        let out = w.stdout(&["import", f.to_str().unwrap()]);
        assert!(out.contains("added 1,"), "{out}");
        assert!(
            out.contains("note: the file does not end with a new line"),
            "{out}"
        );
    });
}

#[test]
fn csv_outputs_neutralise_formulas_and_keep_numbers() {
    let w = Workdir::new();
    let dims = json!({"team": "=HYPERLINK(\"http://e.vil\",\"x\")", "user": "@SUM(A1)",
                      "project": "+1+cmd", "tags": {"env": "-2+3"}});
    // 1_000 × $2.50/M + 100 × $10/M = 0.0025 + 0.001 = $0.0035
    let f = w.write("log.jsonl", &envelope("f1", dims, json!(1_000), json!(100)));
    let path = f.to_str().unwrap();
    let report = w.stdout(&[
        "report",
        "--by",
        "team,user,project,tag:env",
        "--format",
        "csv",
        path,
    ]);
    let row = report.lines().nth(1).expect("a row");
    assert!(
        row.starts_with(
            "\"'=HYPERLINK(\"\"http://e.vil\"\",\"\"x\"\")\",'@SUM(A1),'+1+cmd,'-2+3,1,1000,"
        ),
        "{row}"
    );
    assert!(row.contains(",0.0035,"), "{row}");

    for format in ["csv", "focus"] {
        let export = w.stdout(&["ledger", "export", "--format", format, path]);
        assert!(export.contains("'=HYPERLINK"), "{format}: {export}");
        assert!(export.contains("'@SUM(A1)"), "{format}: {export}");
        assert!(!export.contains(",=HYPERLINK"), "{format}: {export}");
        assert!(!export.contains(",@SUM"), "{format}: {export}");
        assert!(export.contains("0.0035"), "{format}: {export}");
    }
    // Negative money we compute stays a number: October costs less than September here.
    let sep = envelope("s1", json!({"team": "a"}), json!(2_000), json!(0))
        .replace("2026-10-05", "2026-09-05");
    let f = w.write(
        "two.jsonl",
        &(sep + &envelope("o1", json!({"team": "a"}), json!(1_000), json!(0))),
    );
    let out = w.stdout(&[
        "report",
        "--month",
        "2026-10",
        "--compare",
        "--by",
        "team",
        "--format",
        "csv",
        f.to_str().unwrap(),
    ]);
    // October 1_000 × $2.50/M = $0.0025; September 2_000 × $2.50/M = $0.005; change -$0.0025
    assert!(out.contains(",0.0025,,0.005,-0.0025,-50"), "{out}");
}

#[test]
fn terminal_and_markdown_outputs_show_values_inert() {
    let w = Workdir::new();
    let long = "L".repeat(10_000);
    let mut log = envelope(
        "t1",
        json!({"team": "\u{1b}]0;pwned\u{7}\u{1b}[2J"}),
        json!(10),
        json!(1),
    );
    log += &envelope(
        "t2",
        json!({"team": "[click](https://e.vil) `x` <img src=x>"}),
        json!(10),
        json!(1),
    );
    log += &envelope("t3", json!({"team": long}), json!(10), json!(1));
    let f = w.write("log.jsonl", &log);
    let path = f.to_str().unwrap();
    let table = w.stdout(&["report", "--by", "team", "--format", "table", path]);
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{7}'),
        "{table}"
    );
    assert!(table.contains("\\u{1b}]0;pwned\\u{7}"), "{table}");
    assert!(!table.contains(&long), "a 10,000-character value is cut");
    assert!(table.contains(&format!("{}…", "L".repeat(99))), "{table}");

    let md = w.stdout(&["report", "--by", "team", "--format", "markdown", path]);
    assert!(!md.contains('\u{1b}'), "{md}");
    assert!(
        md.contains("\\[click\\]\\(https://e.vil\\) \\`x\\` \\<img src=x\\>"),
        "{md}"
    );
    assert!(!md.contains("[click]"), "{md}");

    // JSON keeps the value exactly (it escapes control characters itself).
    let json = w.json(&["report", "--by", "team", path]);
    assert!(json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["team"] == "\u{1b}]0;pwned\u{7}\u{1b}[2J"));

    // Standard error: a file name with an escape sequence in an error message.
    let f = w.write("evil\u{1b}]0;pwned\u{7}.jsonl", "{\"timestamp\": \n");
    let out = w.run(&["report", "--source", "api-log", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "{stderr}"
    );
    assert!(
        stderr.contains("evil\\u{1b}]0;pwned\\u{7}.jsonl:1:"),
        "{stderr}"
    );
}

#[test]
fn an_endless_line_fails_fast_instead_of_filling_memory() {
    let w = Workdir::new();
    let out = w.run(&["report", "/dev/zero", "--source", "api-log"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("aispend: /dev/zero:1: a line longer than 64 MiB"),
        "{stderr}"
    );
    // The same for a streaming CSV source.
    let out = w.run(&["report", "/dev/zero", "--source", "openai-csv"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("a line longer than 64 MiB"), "{stderr}");
}

#[test]
fn errors_quote_a_short_excerpt_of_a_huge_value() {
    let w = Workdir::new();
    ledger_with_data(&w);
    let huge = "A".repeat(20 * 1024 * 1024);
    let f = w.write(
        "huge.jsonl",
        &envelope("h", json!({}), json!(huge), json!(1)),
    );
    let out = w.run(&["report", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stderr.len() < 1_000, "{} bytes", out.stderr.len());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(":1: field 'response.usage.prompt_tokens': invalid type: string \"AAAA"),
        "{stderr}"
    );
}

#[test]
fn an_empty_file_gets_the_same_verdict_from_report_and_import() {
    let w = Workdir::new();
    for (name, text) in [("empty.jsonl", ""), ("blank.csv", "  \n\n\t\n")] {
        let f = w.write(name, text);
        let path = f.to_str().unwrap();
        for source in [None, Some("api-log")] {
            for command in ["report", "import"] {
                let mut args = vec![command, path];
                if let Some(s) = source {
                    args.extend(["--source", s]);
                }
                let out = w.run(&args);
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
                assert!(
                    stderr.contains(&format!("warning: {path}: the file is empty")),
                    "{args:?}: {stderr}"
                );
            }
        }
    }
}

#[test]
fn a_claude_code_log_starting_with_a_bom_is_read() {
    let w = Workdir::new();
    let dir = fixture(
        "claude-code/projects/-home-bob-src-billing-svc/c0ffee00-1234-4abc-8def-0123456789ab.jsonl",
    );
    let plain = std::fs::read_to_string(&dir).unwrap();
    let f = w.write("session.jsonl", &format!("\u{feff}{plain}"));
    let with_bom = w.json(&["report", f.to_str().unwrap()]);
    let without = w.json(&["report", &dir]);
    assert_eq!(with_bom, without);
    assert!(with_bom["total"]["requests"].as_u64().unwrap() > 0);
}

// SQLite only: about the permissions of the ledger file.
#[cfg(unix)]
#[test]
fn a_new_ledger_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let w = Workdir::new();
    w.stdout(&["import", &fixture("api-log/gemini.jsonl")]);
    let mode = std::fs::metadata(w.ledger()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
}

// SQLite only: about a foreign SQLite file (backends.rs has PostgreSQL's foreign schema).
#[test]
fn a_database_that_is_not_a_ledger_is_refused_untouched() {
    let w = Workdir::new();
    {
        let other = rusqlite::Connection::open(w.ledger()).unwrap();
        other
            .execute_batch("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine');")
            .unwrap();
    }
    let before = std::fs::read(w.ledger()).unwrap();
    let out = w.run(&["import", &fixture("api-log/gemini.jsonl")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("an SQLite database, but not an aispend ledger; nothing was added to it"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(w.ledger()).unwrap(), before);
}

// SQLite only: about the file's user_version and damaged bytes (backends.rs: PostgreSQL's schemas).
#[test]
fn a_ledger_from_a_newer_aispend_and_a_damaged_one_get_clean_messages() {
    let w = Workdir::new();
    w.stdout(&["import", &fixture("api-log/gemini.jsonl")]);
    let good = std::fs::read(w.ledger()).unwrap();
    {
        let newer = rusqlite::Connection::open(w.ledger()).unwrap();
        newer.execute_batch("PRAGMA user_version = 99").unwrap();
    }
    let out = w.run(&["report"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("written by a newer aispend (schema version 99; this one reads up to"),
        "{stderr}"
    );
    assert!(!stderr.contains("Invalid parameter"), "{stderr}");

    // The first 4 KiB of a real ledger, then garbage: damaged.
    let mut bytes = good;
    bytes.truncate(4096);
    bytes.extend(std::iter::repeat_n(0xa5u8, 8192));
    std::fs::write(w.ledger(), &bytes).unwrap();
    for command in [
        &["report"][..],
        &["import", &fixture("api-log/gemini.jsonl")],
    ] {
        let out = w.run(command);
        assert_eq!(out.status.code(), Some(3), "{command:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(
                "the file is damaged or not an SQLite database: restore it from a backup"
            ),
            "{command:?}: {stderr}"
        );
        assert!(!stderr.contains("CREATE"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    assert_eq!(std::fs::read(w.ledger()).unwrap(), bytes);
}

// SQLite only: about SQLite's write lock (backends.rs has PostgreSQL's held advisory lock).
#[test]
fn a_held_write_lock_is_named_with_the_time_waited() {
    let w = Workdir::new();
    w.stdout(&["import", &fixture("api-log/gemini.jsonl")]);
    let holder = rusqlite::Connection::open(w.ledger()).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let out = w.run(&[
        "--lock-timeout",
        "1",
        "import",
        &fixture("api-log/openai-chat.jsonl"),
    ]);
    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("another process is writing to it and held the write lock for the ")
            && stderr.contains(
                " s we waited; try again when it is done, or wait longer with --lock-timeout"
            ),
        "{stderr}"
    );
    // Once it is released, the same import goes through.
    w.stdout(&["import", &fixture("api-log/openai-chat.jsonl")]);
}
