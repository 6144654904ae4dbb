//! `--help` is wrapped by clap at the terminal width (no hand line breaks), global options have their
//! own heading, and `aispend man` prints man pages.

use super::Workdir;

/// `aispend ARGS --help` at `width` columns.
fn help(w: &Workdir, width: usize, args: &[&str]) -> String {
    let out = w
        .cmd()
        .env("COLUMNS", width.to_string())
        .args(args)
        .arg("--help")
        .output()
        .expect("run");
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("utf-8")
}

/// In the description (the text before `Usage:`), every line but a paragraph's last is full: the next
/// line's first word would not have fitted. A hand-broken paragraph rewrapped by the terminal leaves
/// short lines in the middle.
fn assert_filled(text: &str, width: usize) {
    let description: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("Usage:"))
        .collect();
    for pair in description.windows(2) {
        let (line, next) = (pair[0], pair[1]);
        assert!(line.chars().count() <= width, "too wide: {line}");
        if line.is_empty() || next.is_empty() || line.starts_with(' ') || next.starts_with(' ') {
            continue;
        }
        let word = next.split(' ').next().unwrap_or("");
        assert!(
            line.chars().count() + 1 + word.chars().count() > width,
            "ragged at {width} columns: '{line}' could take '{word}'\n{text}"
        );
    }
}

#[test]
fn help_is_wrapped_at_the_terminal_width() {
    let w = Workdir::new();
    for width in [60, 80, 100] {
        for command in [
            &["report"][..],
            &["import"],
            &["forecast"],
            &["budget", "check"],
            &["pull"],
            &["ledger", "export"],
        ] {
            assert_filled(&help(&w, width, command), width);
        }
    }
}

#[test]
fn global_options_have_their_own_heading() {
    let w = Workdir::new();
    let text = help(&w, 100, &["report"]);
    let (own, global) = text.split_once("Global options:").expect("heading");
    assert!(own.contains("--month"), "{own}");
    assert!(!own.contains("--ledger"), "{own}");
    assert!(
        global.contains("--ledger") && global.contains("--config"),
        "{global}"
    );
}

#[test]
fn man_pages() {
    let w = Workdir::new();
    let main = w.stdout(&["man"]);
    assert!(main.contains(".TH aispend 1"), "{main}");
    assert!(main.contains("aispend\\-report"), "{main}");
    let report = w.stdout(&["man", "report"]);
    assert!(report.contains(".TH aispend-report 1"), "{report}");
    assert!(report.contains("\\-\\-compare"), "{report}");
    let check = w.stdout(&["man", "budget", "check"]);
    assert!(check.contains("\\-\\-budgets"), "{check}");
    let out = w.run(&["man", "nope"]);
    assert_eq!(out.status.code(), Some(2));
}
