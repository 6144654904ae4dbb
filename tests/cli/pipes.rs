//! A closed output pipe is not an error, for every command and every format: `aispend … | head -1`
//! exits 0 and prints nothing on standard error.
//!
//! The reading end of the pipe is closed as soon as the program is started, before it has read its
//! input, so the first write that reaches the pipe fails (a reader that takes a few bytes first passes
//! by luck when the whole output fits in the pipe's buffer). Outputs that can be large are made larger than the program's
//! output buffer, so the closed pipe is met mid-write, inside the format's writer (CSV, JSON, tables),
//! and not only by the final flush.

use std::process::Stdio;

use crate::backends::on_each_backend;
use crate::{fixture, PrivateCache, Workdir};

/// Runs `aispend ARGS` with standard output a pipe whose reading end is closed at once; returns the
/// exit code and standard error.
fn into_closed_pipe(w: &Workdir, args: &[&str]) -> (Option<i32>, String) {
    into_closed_pipe_with(w, &["--quiet"], args)
}

/// As [`into_closed_pipe`], with `global` options before ARGS instead of `--quiet`.
fn into_closed_pipe_with(w: &Workdir, global: &[&str], args: &[&str]) -> (Option<i32>, String) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("aispend"))
        .current_dir(w.path())
        .env_remove("AISPEND_LEDGER")
        .env_remove("AISPEND_CONFIG")
        .env_remove("COLUMNS")
        .env("XDG_CONFIG_HOME", w.path().join("xdg-config"))
        .env("XDG_DATA_HOME", w.path().join("xdg"))
        .env("NO_COLOR", "1")
        .private_cache(w.path())
        .arg("--ledger")
        .arg(w.ledger_arg())
        .args(global)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs each of `runs` into a closed pipe: exit 0, nothing on standard error.
fn all_quiet(w: &Workdir, runs: &[Vec<&str>]) {
    for args in runs {
        let (code, stderr) = into_closed_pipe(w, args);
        assert_eq!(code, Some(0), "aispend {args:?}: {stderr}");
        assert_eq!(stderr, "", "aispend {args:?}");
    }
}

/// The commands that read or write the ledger, on each backend.
#[test]
fn ledger_commands_are_quiet_on_a_closed_pipe() {
    on_each_backend(|w, store| {
        // 3,000 users: every format of a report, forecast or export by user is larger than the
        // 64 KiB output buffer.
        let usage = w.many_users_log(3_000).display().to_string();
        // The ledger-reading commands need a ledger: the import's own summary goes to a closed pipe too.
        let (code, stderr) = into_closed_pipe(w, &["import", &usage]);
        assert_eq!((code, stderr.as_str()), (Some(0), ""), "import");
        let stats = w.stdout(&["ledger", "stats"]);
        let records = stats.lines().find(|l| l.starts_with("records:"));
        assert_eq!(
            records.map(|l| l.split_whitespace().collect::<Vec<_>>()),
            Some(vec!["records:", "3,000"]),
            "{}: {stats}",
            store.name()
        );
        let mut runs: Vec<Vec<&str>> = Vec::new();
        for format in ["table", "json", "csv", "markdown"] {
            runs.push(vec![
                "report",
                "--by",
                "user",
                "--compare",
                "--format",
                format,
            ]);
            runs.push(vec!["forecast", "--format", format]);
        }
        for format in ["csv", "jsonl", "focus"] {
            runs.push(vec!["ledger", "export", "--format", format]);
        }
        for format in ["table", "json"] {
            runs.push(vec!["ledger", "stats", "--format", format]);
            runs.push(vec!["config", "path", "--format", format]);
        }
        runs.push(vec!["import", &usage]);
        all_quiet(w, &runs);
        // Without --quiet an import writes its summary, a line per file, to the closed pipe.
        let anthropic = fixture("api-log/anthropic-messages.jsonl");
        let (code, stderr) = into_closed_pipe_with(w, &[], &["import", &usage, &anthropic]);
        assert_eq!((code, stderr.as_str()), (Some(0), ""), "import");
    });
}

/// The commands that read files.
#[test]
fn every_command_and_format_is_quiet_on_a_closed_pipe() {
    let w = Workdir::new();
    // 3,000 users: every format of a report, reconciliation, forecast or export by user is larger
    // than the 64 KiB output buffer (the smallest, the reconciliation's CSV, ~36 bytes × 3,000).
    let usage = w.many_users_log(3_000).display().to_string();
    let reconcile = fixture("reconcile");
    let budgets = fixture("budgets/demo.toml");
    let scoped = fixture("budgets/scoped.jsonl");
    let prices = fixture("litellm-prices/sample.json");
    let mut runs: Vec<Vec<&str>> = Vec::new();
    for format in ["table", "json", "csv", "markdown"] {
        runs.push(vec!["report", &usage, "--by", "user", "--format", format]);
        runs.push(vec![
            "report",
            "--reconcile",
            &reconcile,
            "--format",
            format,
        ]);
        runs.push(vec![
            "report",
            "--reconcile",
            "--by",
            "user",
            &usage,
            "--format",
            format,
        ]);
        runs.push(vec!["forecast", &usage, "--by", "user", "--format", format]);
    }
    runs.push(vec!["report", &usage, "--by", "user", "--format", "html"]);
    for format in ["table", "json", "markdown", "github"] {
        runs.push(vec![
            "budget",
            "check",
            "--budgets",
            &budgets,
            &scoped,
            "--format",
            format,
        ]);
    }
    for format in ["csv", "jsonl", "focus"] {
        runs.push(vec!["ledger", "export", &usage, "--format", format]);
    }
    for format in ["table", "json"] {
        runs.push(vec!["pricing", "list", "--format", format]);
        runs.push(vec![
            "pricing",
            "diff",
            "--litellm",
            &prices,
            "--format",
            format,
        ]);
        runs.push(vec!["pricing", "missing", &usage, "--format", format]);
        runs.push(vec!["sources", "--format", format]);
    }
    let anthropic = fixture("api-log/anthropic-messages.jsonl");
    let brownout = fixture("health/brownout.jsonl");
    let daily = fixture("anomalies/daily.jsonl");
    let demo = fixture("demo");
    for format in ["table", "json", "csv", "markdown"] {
        runs.push(vec![
            "whatif",
            &usage,
            "--cache-ttl",
            "5m",
            "--format",
            format,
        ]);
        runs.push(vec![
            "anomalies",
            &daily,
            "--by",
            "team",
            "--format",
            format,
        ]);
    }
    for format in ["table", "json", "markdown"] {
        runs.push(vec!["health", &brownout, "--format", format]);
        runs.push(vec!["recommend", &demo, "--format", format]);
    }
    runs.push(vec!["whatif", &anthropic, "--cache-ttl", "5m"]);
    runs.push(vec!["pricing", "show", "claude-sonnet-4-5"]);
    runs.push(vec![
        "pricing",
        "show",
        "claude-sonnet-4-5",
        "--provider",
        "bedrock",
    ]);
    runs.push(vec!["completions", "bash"]);
    runs.push(vec!["man"]);
    all_quiet(&w, &runs);
}
