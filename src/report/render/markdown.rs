//! `--format markdown`: a GitHub-flavoured table plus an unpriced section, for pull requests and wikis.

use std::io::Write;

use super::{count_human, money_human};
use crate::report::Report;

/// Escapes a cell so that `|` and new lines do not break the table.
pub fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let reported = report.has_reported();
    writeln!(
        out,
        "### AI spend {} – {}\n",
        report.period.start.format("%Y-%m-%d"),
        (report.period.end - chrono::Duration::seconds(1)).format("%Y-%m-%d")
    )?;
    let mut header: Vec<String> = report.group_by.iter().map(|d| d.name()).collect();
    header.extend(
        [
            "requests",
            "input",
            "cache read",
            "cache write",
            "output",
            "cost",
        ]
        .map(String::from),
    );
    if reported {
        header.push("reported".into());
    }
    let dims = report.group_by.len();
    writeln!(out, "| {} |", header.join(" | "))?;
    let align: Vec<&str> = (0..header.len())
        .map(|i| if i < dims { "---" } else { "---:" })
        .collect();
    writeln!(out, "| {} |", align.join(" | "))?;
    let line = |values: Vec<String>, t: &crate::report::Totals| {
        let mut cells = values;
        cells.extend([
            count_human(t.requests),
            count_human(t.input_tokens),
            count_human(t.cache_read_tokens),
            count_human(t.cache_write_tokens),
            count_human(t.output_tokens),
            money_human(t.cost),
        ]);
        if reported {
            cells.push(t.reported().map(money_human).unwrap_or_default());
        }
        cells
    };
    for row in &report.rows {
        let cells = line(row.values.iter().map(|v| cell(v)).collect(), &row.totals);
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    let mut total_values = vec![String::new(); dims];
    if let Some(first) = total_values.first_mut() {
        *first = "**total**".into();
    }
    let cells = line(total_values, &report.total);
    writeln!(out, "| {} |", cells.join(" | "))?;
    if !report.unpriced.is_empty() {
        writeln!(
            out,
            "\n**Unpriced** (not in the total: add a price with `--pricing`):\n"
        )?;
        for u in &report.unpriced {
            writeln!(
                out,
                "- `{}` ({}): {} requests, {} input / {} output tokens – {}",
                cell(&u.model),
                u.provider,
                count_human(u.totals.requests),
                count_human(
                    u.totals.input_tokens
                        + u.totals.cache_read_tokens
                        + u.totals.cache_write_tokens
                ),
                count_human(u.totals.output_tokens),
                u.reason
            )?;
        }
    }
    Ok(())
}
