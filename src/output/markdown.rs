//! `--format markdown`: a GitHub-flavoured table under a `###` heading, for pull requests and wikis.
//! Names are made inert (see [`escape`]); amounts are right-aligned.

use std::io::Write;

use super::{Cell, Kind, Sheet};
use crate::error::Result;

/// A value as Markdown text: it cannot break the table, become a link, code or HTML, or carry terminal
/// escapes (see `crate::sanitize::markdown_cell`).
pub fn escape(s: &str) -> String {
    crate::sanitize::markdown_cell(s)
}

/// A cell as Markdown: values from the input escaped, the program's own text as it is.
fn cell(c: &Cell) -> String {
    match c {
        Cell::Text(s) => escape(s),
        other => other.human(),
    }
}

/// Writes a sheet as Markdown: the heading, the table, then the notes.
pub fn write(sheet: &Sheet, out: &mut dyn Write) -> Result<()> {
    if let Some(title) = &sheet.title {
        writeln!(out, "### {title}\n")?;
    }
    for line in &sheet.intro {
        writeln!(out, "{line}")?;
    }
    if !(sheet.omit_if_empty && sheet.rows.is_empty()) {
        let header: Vec<&str> = sheet.columns.iter().map(|c| c.name.as_str()).collect();
        writeln!(out, "| {} |", header.join(" | "))?;
        let align: Vec<&str> = sheet
            .columns
            .iter()
            .map(|c| match c.kind {
                Kind::Number => "---:",
                Kind::Label | Kind::Text => "---",
            })
            .collect();
        writeln!(out, "| {} |", align.join(" | "))?;
        for row in &sheet.rows {
            let cells: Vec<String> = row.iter().map(cell).collect();
            writeln!(out, "| {} |", cells.join(" | "))?;
        }
    }
    for line in &sheet.notes {
        writeln!(out, "{line}")?;
    }
    Ok(())
}
