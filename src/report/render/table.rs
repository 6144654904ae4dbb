//! `--format table`: a terminal table, fitted to the terminal (see [`super::grid`]), colour only when
//! allowed.

use std::io::Write;

use super::grid::{Column, Grid};
use super::{count_human, HumanColumns, Style};
use crate::report::Report;

pub fn render(report: &Report, style: Style, out: &mut dyn Write) -> std::io::Result<()> {
    let columns = HumanColumns::of(report);
    let mut header: Vec<Column> = report
        .group_by
        .iter()
        .map(|d| Column::label(d.name()))
        .collect();
    header.extend(columns.grid_columns());
    let mut grid = Grid::new(header);
    for row in &report.rows {
        let mut cells = row.values.clone();
        cells.extend(columns.cells(&row.totals, row.previous.as_ref()));
        grid.push(cells);
    }
    let mut total: Vec<String> = (0..report.group_by.len())
        .map(|i| {
            if i == 0 {
                "total".into()
            } else {
                String::new()
            }
        })
        .collect();
    total.extend(columns.cells(&report.total, report.total_previous.as_ref()));
    grid.push(total);
    grid.total_row = true;

    writeln!(
        out,
        "AI spend {}",
        crate::period::describe(&report.period, report.tz)
    )?;
    grid.render(style, out)?;
    if let Some(note) = super::fallback_footnote(report) {
        writeln!(out, "{note}")?;
    }
    if report.rows.is_empty() && report.unpriced.is_empty() {
        writeln!(out, "No usage in this period.")?;
    }
    if !report.unpriced.is_empty() {
        writeln!(out, "\nUnpriced (not in the total; add a price with --pricing, see `aispend pricing missing`):")?;
        for u in &report.unpriced {
            let t = &u.totals;
            writeln!(
                out,
                "  {} ({}): {} requests, {} input / {} output tokens – {}",
                crate::sanitize::table_cell(&u.model),
                u.provider,
                count_human(t.requests),
                count_human(t.input_tokens + t.cache_read_tokens + t.cache_write_tokens),
                count_human(t.output_tokens),
                crate::sanitize::table_cell(&u.reason)
            )?;
        }
    }
    Ok(())
}
