//! `--format table`: a terminal table (comfy-table), sized to the terminal, colour only when allowed.

use std::io::Write;

use comfy_table::{presets, Attribute, Cell, CellAlignment, ContentArrangement, Table};

use super::{count_human, HumanColumns, Style};
use crate::report::{Report, Totals};

pub fn render(report: &Report, style: Style, out: &mut dyn Write) -> std::io::Result<()> {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    match style.width {
        Some(w) => {
            table
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(w);
        }
        None => {
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    if !style.color {
        table.force_no_tty();
    } else {
        table.enforce_styling();
    }
    let header_cell = |s: &str| {
        let c = Cell::new(s);
        if style.color {
            c.add_attribute(Attribute::Bold)
        } else {
            c
        }
    };
    let columns = HumanColumns::of(report);
    let mut header: Vec<Cell> = report
        .group_by
        .iter()
        .map(|d| header_cell(&d.name()))
        .collect();
    header.extend(columns.headers().into_iter().map(header_cell));
    table.set_header(header);
    let numbers = |t: &Totals, previous: Option<&Totals>| {
        columns
            .cells(t, previous)
            .into_iter()
            .map(|s| Cell::new(s).set_alignment(CellAlignment::Right))
    };
    for row in &report.rows {
        let mut cells: Vec<Cell> = row.values.iter().map(Cell::new).collect();
        cells.extend(numbers(&row.totals, row.previous.as_ref()));
        table.add_row(cells);
    }
    let dims = report.group_by.len();
    let mut total: Vec<Cell> = (0..dims)
        .map(|i| {
            if i == 0 {
                header_cell("total")
            } else {
                Cell::new("")
            }
        })
        .collect();
    total.extend(numbers(&report.total, report.total_previous.as_ref()));
    table.add_row(total);

    writeln!(
        out,
        "AI spend {} to {} (UTC bounds {} – {})",
        report.period.start.format("%Y-%m-%d"),
        (report.period.end - chrono::Duration::seconds(1)).format("%Y-%m-%d"),
        report.period.start.format("%Y-%m-%dT%H:%MZ"),
        report.period.end.format("%Y-%m-%dT%H:%MZ"),
    )?;
    writeln!(out, "{table}")?;
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
                u.model,
                u.provider,
                count_human(t.requests),
                count_human(t.input_tokens + t.cache_read_tokens + t.cache_write_tokens),
                count_human(t.output_tokens),
                u.reason
            )?;
        }
    }
    Ok(())
}
