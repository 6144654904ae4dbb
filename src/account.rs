//! The per-file account of a run that read files: records read, duplicates merged, records skipped
//! and why, records unpriced, and the warnings of each file. Nothing read is lost without a word: the
//! account ends every `report`, `forecast` and `budget check` over PATHs (on standard error), and JSON
//! outputs carry it as their `inputs` array.

use serde_json::{json, Value};

use crate::input::{FileSummary, ReadSummary};
use crate::output::count_human;

/// Up to this many files, every file gets its own line; past it only the files with something to say
/// do (and `--verbose` lists them all).
const LIST_ALL_UP_TO: usize = 10;

/// The account in lines for people, and the warnings (each to be shown as `warning: …`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Account {
    pub lines: Vec<String>,
    pub warnings: Vec<String>,
}

/// Whether a file's line says more than "N records".
fn notable(f: &FileSummary) -> bool {
    f.merged() > 0 || f.skipped > 0 || f.unpriced > 0 || !f.warnings().is_empty()
}

/// `1 duplicate`, `3 duplicates`.
fn duplicates(n: u64) -> String {
    format!(
        "{} duplicate{}",
        count_human(n),
        if n == 1 { "" } else { "s" }
    )
}

/// One file's line: `path: source, 1,200 records, 3 duplicates merged, 1 skipped, 2 unpriced`.
pub fn file_line(f: &FileSummary) -> String {
    if f.empty {
        let what = if f.empty_page { "empty page" } else { "empty" };
        return format!("{}: {what}", f.path);
    }
    let mut line = format!(
        "{}: {}, {} record{}",
        f.path,
        f.source,
        count_human(f.records()),
        if f.records() == 1 { "" } else { "s" }
    );
    if f.merged() > 0 {
        line.push_str(&format!(", {} merged", duplicates(f.merged())));
    }
    if f.skipped > 0 {
        line.push_str(&format!(", {} skipped", count_human(f.skipped)));
    }
    if f.unpriced > 0 {
        line.push_str(&format!(", {} unpriced", count_human(f.unpriced)));
    }
    line
}

/// The account of `summary`; `verbose` lists every file however many there are.
pub fn account(summary: &ReadSummary, verbose: bool) -> Account {
    let mut out = Account::default();
    let files = &summary.files;
    let list_all = verbose || files.len() <= LIST_ALL_UP_TO;
    let (mut quiet_files, mut quiet_records) = (0u64, 0u64);
    for f in files {
        if list_all || notable(f) {
            out.lines.push(file_line(f));
        } else {
            quiet_files += 1;
            quiet_records += f.records();
        }
        for w in f.warnings() {
            out.warnings.push(format!("{}: {w}", f.path));
        }
    }
    if quiet_files > 0 {
        out.lines.push(format!(
            "… and {} more files read cleanly, {} records (-v lists them)",
            count_human(quiet_files),
            count_human(quiet_records)
        ));
    }
    if files.len() > 1 {
        let sum = |g: fn(&FileSummary) -> u64| files.iter().map(g).sum::<u64>();
        out.lines.push(format!(
            "read {} files: {} records, {} merged, {} skipped, {} unpriced",
            count_human(files.len() as u64),
            count_human(sum(FileSummary::records)),
            duplicates(sum(FileSummary::merged)),
            count_human(sum(|f| f.skipped)),
            count_human(sum(|f| f.unpriced)),
        ));
    }
    if !summary.unrecognised.is_empty() {
        out.lines.push(format!(
            "{} file(s) in the folders read are not usage files in a known format and were not read \
             (-v names them)",
            count_human(summary.unrecognised.len() as u64)
        ));
    }
    out
}

/// The `inputs` array of JSON outputs: one object per file read.
pub fn inputs_json(summary: Option<&ReadSummary>) -> Value {
    let files = summary.map_or(&[][..], |s| &s.files[..]);
    Value::Array(
        files
            .iter()
            .map(|f| {
                json!({
                    "file": f.path,
                    "source": f.source,
                    "records": f.records(),
                    "duplicates": f.merged(),
                    "skipped": f.skipped,
                    "unpriced": f.unpriced,
                    "warnings": f.warnings(),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, added: u64) -> FileSummary {
        FileSummary {
            path: path.into(),
            source: "api-log",
            added,
            ..FileSummary::default()
        }
    }

    #[test]
    fn a_clean_file_is_one_line_without_warnings() {
        let summary = ReadSummary {
            files: vec![file("a.jsonl", 3)],
            unrecognised: vec![],
        };
        let a = account(&summary, false);
        assert_eq!(a.lines, vec!["a.jsonl: api-log, 3 records"]);
        assert!(a.warnings.is_empty());
    }

    #[test]
    fn duplicates_skips_and_unpriced_are_counted_and_warned() {
        let mut f = file("b.jsonl", 2);
        f.duplicates = 1;
        f.replaced = 1;
        f.skipped = 1;
        f.first_skipped = Some("b.jsonl:4: field 'usage': not an object".into());
        f.unpriced = 1;
        let summary = ReadSummary {
            files: vec![f, file("c.jsonl", 1)],
            unrecognised: vec!["README.md".into()],
        };
        let a = account(&summary, false);
        assert_eq!(
            a.lines[0],
            "b.jsonl: api-log, 4 records, 2 duplicates merged, 1 skipped, 1 unpriced"
        );
        assert_eq!(
            a.lines[2],
            "read 2 files: 5 records, 2 duplicates merged, 1 skipped, 1 unpriced"
        );
        assert!(a.lines[3].starts_with("1 file(s) in the folders"));
        assert_eq!(a.warnings.len(), 2, "{:?}", a.warnings);
        assert!(a.warnings[0].contains("b.jsonl:4: field 'usage'"));
    }

    #[test]
    fn a_file_that_yielded_nothing_is_a_warning_with_the_reason() {
        let mut f = file("d.jsonl", 0);
        f.lines = 3;
        let w = f.warnings();
        assert_eq!(w.len(), 1);
        assert!(
            w[0].starts_with("read as api-log, but it held no usage record (none of its 3 lines"),
            "{w:?}"
        );
    }

    #[test]
    fn many_clean_files_fold_into_one_line() {
        let mut files: Vec<FileSummary> = (0..12).map(|i| file(&format!("f{i}"), 2)).collect();
        files[5].duplicates = 1;
        let summary = ReadSummary {
            files,
            unrecognised: vec![],
        };
        let a = account(&summary, false);
        assert_eq!(a.lines[0], "f5: api-log, 3 records, 1 duplicate merged");
        assert_eq!(
            a.lines[1],
            "… and 11 more files read cleanly, 22 records (-v lists them)"
        );
        assert_eq!(account(&summary, true).lines.len(), 13);
    }
}
