//! Small commands and command-line behaviour: sources, pricing, completions, usage errors, pipes.

use crate::backends::on_each_backend;
use crate::{fixture, money, Workdir};

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
    on_each_backend(|w, _| {
        // a ledger of priced Gemini calls has nothing to list
        w.stdout(&["import", &fixture("api-log/gemini.jsonl")]);
        assert!(w
            .stdout(&["pricing", "missing"])
            .contains("Every model read has a price"));
        // the file's two gpt-9-preview calls (prompts 1,000 and 2,000 tokens, 500 of them cached; 100 + 200
        // output) are listed alone, not its priced gpt-4o call: 2 requests, 2,500 uncached input, 500 cached,
        // 300 output
        w.stdout(&["import", &fixture("api-log/unknown-model.jsonl")]);
        let out: serde_json::Value =
            serde_json::from_str(&w.stdout(&["pricing", "missing", "--format", "json"])).unwrap();
        let unpriced = out["unpriced"].as_array().unwrap();
        assert_eq!(unpriced.len(), 1, "{out}");
        let row = &unpriced[0];
        assert_eq!(row["model"], "gpt-9-preview");
        assert_eq!(row["requests"], 2);
        assert_eq!(row["input_tokens"], 2500);
        assert_eq!(row["cache_read_tokens"], 500);
        assert_eq!(row["output_tokens"], 300);
        assert_eq!(row["reason"], "no price table entry");
    });
}

#[test]
fn completions_for_each_shell() {
    let w = Workdir::new();
    // each script registers itself the way its shell expects, and offers a flag two levels down
    // (`budget check --budgets`) in that shell's spelling
    for (shell, registers, flag) in [
        ("bash", "complete -F _aispend", "--budgets"),
        ("zsh", "#compdef aispend", "'--budgets=["),
        ("fish", "complete -c aispend", "-l budgets"),
        (
            "elvish",
            "edit:completion:arg-completer[aispend]",
            "cand --budgets",
        ),
        (
            "powershell",
            "Register-ArgumentCompleter -Native -CommandName 'aispend'",
            "'--budgets'",
        ),
    ] {
        let script = w.stdout(&["completions", shell]);
        assert!(script.contains(registers), "{shell}: no `{registers}`");
        assert!(script.contains(flag), "{shell}: no `{flag}`");
        for command in [
            "import",
            "pull",
            "report",
            "forecast",
            "budget",
            "pricing",
            "ledger",
            "sources",
            "config",
            "completions",
        ] {
            assert!(
                script.contains(&format!("'{command}'"))
                    || script.contains(&format!("{command})"))
                    || script.contains(&format!(" {command} ")),
                "{shell}: no `{command}` subcommand"
            );
        }
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
    // gemini-2.0-flash is used by one team only (token totals in fixtures/demo/README.md):
    //   448,859 × $0.10/M + 18,572 × $0.40/M = $0.0448859 + $0.0074288 = $0.0523147
    let line = out
        .lines()
        .find(|l| l.contains("gemini-2.0-flash"))
        .unwrap_or_else(|| panic!("no gemini-2.0-flash row:\n{out}"));
    assert!(line.contains("$0.05"), "{line}");
    let r = w.json(&["report", "--by", "provider,model", &fixture("demo")]);
    let row = |model: &str| crate::row(&r, "model", model);
    assert_eq!(money(&row("gemini-2.0-flash")["cost"]), "0.0523147");
    // gpt-4.1-mini reaches the demo through the data pipeline (batch) and the gateway; the gateway's
    // search traffic alone is 2,399,458 × $0.40/M + 1,707,264 × $0.10/M + 240,919 × $1.60/M
    //   = $0.9597832 + $0.1707264 + $0.3854704 = $1.51598
    let search = w.json(&[
        "report",
        "--by",
        "model",
        "--where",
        "source=api-log",
        "--where",
        "model=gpt-4.1-mini",
        &fixture("demo/api-logs"),
    ]);
    assert_eq!(search["rows"][0]["input_tokens"], 2_399_458);
    assert_eq!(money(&search["total"]["cost"]), "1.51598");
    // the unknown model and the Anthropic priority tier are unpriced, never $0
    let unpriced: Vec<&str> = r["unpriced"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["model"].as_str().unwrap())
        .collect();
    assert!(unpriced.contains(&"gpt-9-preview"), "{unpriced:?}");
    assert!(unpriced.contains(&"claude-sonnet-4-5"), "{unpriced:?}");
}

/// The figures the README quotes for the demo month.
#[test]
fn the_readme_demo_figures_hold() {
    let w = Workdir::new();
    let demo = |d: &str| fixture(&format!("demo/{d}"));
    let config = demo("aispend.toml");
    // "On the demo the last command flags 16 groups" (the gateway and Claude Code are usage only, so the
    // exports and invoices alone give the same groups)
    let exports = [
        demo("openai-usage"),
        demo("anthropic-usage"),
        demo("openai-costs"),
        demo("anthropic-cost"),
    ];
    let mut args = vec![
        "--config",
        &config,
        "report",
        "--reconcile",
        "--by",
        "provider,project,workspace,day",
    ];
    args.extend(exports.iter().map(String::as_str));
    let r = w.json(&args);
    assert_eq!(r["mismatches"], 16);
    // 12 gpt-4.1-mini days of the data pipeline and 4 Anthropic priority days, each 1 unpriced row
    let mismatches: Vec<&serde_json::Value> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["status"] == "mismatch")
        .collect();
    let pipeline = mismatches
        .iter()
        .filter(|x| x["project"] == "proj_Dq7Kt2Lm9NpXw4Rb")
        .count();
    let priority: Vec<&str> = mismatches
        .iter()
        .filter(|x| x["unpriced_records"] == 1)
        .map(|x| x["day"].as_str().unwrap())
        .collect();
    assert_eq!(pipeline, 12);
    assert_eq!(
        priority,
        ["2026-10-07", "2026-10-14", "2026-10-21", "2026-10-28"]
    );
    // "isolates it at −7.41%": billed 8% above our table, so computed/invoiced − 1 = 1/1.08 − 1
    let r = w.json(&[
        "report",
        "--reconcile",
        "--where",
        "project=proj_Dq7Kt2Lm9NpXw4Rb",
        "--by",
        "model,day",
        &demo("openai-usage"),
        &demo("openai-costs"),
    ]);
    for x in r["rows"].as_array().unwrap() {
        let drifted = x["model"] == "gpt-4.1-mini" && x["day"].as_str().unwrap() >= "2026-10-20";
        if drifted {
            assert_eq!(x["difference_pct"], "-7.41", "{x}");
            assert_eq!(x["status"], "mismatch", "{x}");
        } else {
            assert_eq!(x["status"], "ok", "{x}");
        }
    }
    assert_eq!(r["mismatches"], 12);
    // "the demo: two budgets breach"
    let out = w.run(&[
        "--config",
        &config,
        "budget",
        "check",
        "--budgets",
        &fixture("budgets/demo.toml"),
        "--as-of",
        "2026-10-15",
        "--format",
        "json",
        &fixture("demo"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let b: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let status: Vec<(&str, &str)> = b["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["name"].as_str().unwrap(), x["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        status,
        [
            ("research monthly", "warn"),
            ("data monthly", "breach"),
            ("openai weekly", "breach")
        ]
    );
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
