//! `--format markdown`: a GitHub-flavoured table plus an unpriced section, for pull requests and wikis.

use std::io::Write;

use super::{count_human, HumanColumns};
use crate::report::Report;

/// A value as Markdown text: it cannot break the table, become a link, code or HTML, or carry terminal
/// escapes (see `crate::sanitize::markdown_cell`).
pub fn cell(s: &str) -> String {
    crate::sanitize::markdown_cell(s)
}

pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "### AI spend {}\n",
        crate::period::describe(&report.period, report.tz)
    )?;
    let columns = HumanColumns::of(report);
    let mut header: Vec<String> = report.group_by.iter().map(|d| d.name()).collect();
    header.extend(columns.headers().into_iter().map(String::from));
    let dims = report.group_by.len();
    writeln!(out, "| {} |", header.join(" | "))?;
    let align: Vec<&str> = (0..header.len())
        .map(|i| if i < dims { "---" } else { "---:" })
        .collect();
    writeln!(out, "| {} |", align.join(" | "))?;
    for row in &report.rows {
        let mut cells: Vec<String> = row.values.iter().map(|v| cell(v)).collect();
        cells.extend(columns.cells(&row.totals, row.previous.as_ref()));
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    let mut cells = vec![String::new(); dims];
    if let Some(first) = cells.first_mut() {
        *first = "**total**".into();
    }
    cells.extend(columns.cells(&report.total, report.total_previous.as_ref()));
    writeln!(out, "| {} |", cells.join(" | "))?;
    if let Some(note) = super::fallback_footnote(report) {
        writeln!(out, "\n{note}")?;
    }
    if !report.unpriced.is_empty() {
        writeln!(
            out,
            "\n**Unpriced** (not in the total: add a price with `--pricing`):\n"
        )?;
        for u in &report.unpriced {
            writeln!(
                out,
                "- {} ({}): {} requests, {} input / {} output tokens – {}",
                cell(&u.model),
                u.provider,
                count_human(u.totals.requests),
                count_human(
                    u.totals.input_tokens
                        + u.totals.cache_read_tokens
                        + u.totals.cache_write_tokens
                ),
                count_human(u.totals.output_tokens),
                cell(&u.reason)
            )?;
        }
    }
    Ok(())
}
