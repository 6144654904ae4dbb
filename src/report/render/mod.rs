//! A finished [`Report`] as a [`Sheet`] and a JSON document (see [`crate::output`]), and the HTML page.
//! Rendering only formats: it never prices or aggregates.

use super::{Report, UnpricedRow};
use crate::output::{count_human, money_human};
use crate::output::{markdown, table, Cell, Column, Format, Render, Sheet};

pub mod html;
pub mod json;

/// The numeric columns every format shows, with their JSON/CSV names.
pub const COUNT_FIELDS: [&str; 6] = [
    "requests",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
];

pub fn counts(t: &super::Totals) -> [u64; 6] {
    [
        t.requests,
        t.input_tokens,
        t.cache_read_tokens,
        t.cache_write_tokens,
        t.output_tokens,
        t.reasoning_tokens,
    ]
}

/// Marks a cost that includes fallback prices (`--pricing-fallback`) in the human formats.
pub const FALLBACK_MARK: &str = "†";

/// The footnote explaining [`FALLBACK_MARK`], when some cost of the report came from the fallback.
pub fn fallback_footnote(report: &Report) -> Option<String> {
    let t = &report.total;
    if t.fallback_records == 0 {
        return None;
    }
    Some(format!(
        "{FALLBACK_MARK} includes {} from {} records priced from the fallback, {}, not from a curated price \
         table (LiteLLM keeps today's prices only: older usage is priced at today's rate).",
        money_human(t.fallback_cost),
        count_human(t.fallback_records),
        report.fallback.as_deref().unwrap_or("LiteLLM's price map"),
    ))
}

/// The numeric columns of the human formats (table, Markdown), which depend on the report: `failed`
/// when requests failed, `reported` when a source carried its own cost, the change columns with
/// `--compare`.
pub struct HumanColumns {
    failed: bool,
    reported: bool,
    compare: bool,
}

impl HumanColumns {
    pub fn of(report: &Report) -> HumanColumns {
        HumanColumns {
            failed: report.total.failed_requests > 0,
            reported: report.has_reported(),
            compare: report.previous_period.is_some(),
        }
    }

    pub fn headers(&self) -> Vec<&'static str> {
        let mut h = vec!["requests"];
        if self.failed {
            h.push("failed");
        }
        h.extend(["input", "cache read", "cache write", "output", "cost"]);
        if self.reported {
            h.push("reported");
        }
        if self.compare {
            h.extend(["previous", "change", "change %"]);
        }
        h
    }

    /// The columns as a terminal table shows them: token counts are hidden first when the terminal is
    /// narrow, then the reported cost, the failed count, the previous cost and the request count; the
    /// cost and its change always stay.
    pub fn columns(&self) -> Vec<Column> {
        self.headers()
            .into_iter()
            .map(|h| {
                let column = Column::number(h);
                match h {
                    "cache write" => column.droppable(1),
                    "cache read" => column.droppable(2),
                    "input" => column.droppable(3),
                    "output" => column.droppable(4),
                    "reported" => column.droppable(5),
                    "failed" => column.droppable(6),
                    "previous" => column.droppable(7),
                    "requests" => column.droppable(8),
                    _ => column,
                }
            })
            .collect()
    }

    pub fn cells(&self, t: &super::Totals, previous: Option<&super::Totals>) -> Vec<Cell> {
        let mut c = vec![Cell::Count(t.requests)];
        if self.failed {
            c.push(Cell::Count(t.failed_requests));
        }
        c.extend([
            Cell::Count(t.input_tokens),
            Cell::Count(t.cache_read_tokens),
            Cell::Count(t.cache_write_tokens),
            Cell::Count(t.output_tokens),
            match t.fallback_records {
                0 => Cell::Money(t.cost),
                _ => Cell::Money(t.cost).noted(FALLBACK_MARK),
            },
        ]);
        if self.reported {
            c.push(Cell::money_or_missing(t.reported()));
        }
        if self.compare {
            let p = previous.map(|p| p.cost).unwrap_or_default();
            c.push(Cell::Money(p));
            c.push(Cell::Change(t.cost - p));
            c.push(Cell::ChangePct(super::change_percent(t.cost, p)));
        }
        c
    }
}

/// One line of the notes under a table for usage without a price: the model, its provider, what it
/// used and why it has no price, after `prefix` (a list bullet or an indent), values escaped by `escape`
/// for the format.
pub fn unpriced_note(u: &UnpricedRow, prefix: &str, escape: fn(&str) -> String) -> String {
    let t = &u.totals;
    format!(
        "{prefix}{} ({}): {} requests, {} input / {} output tokens – {}",
        escape(&u.model),
        u.provider,
        count_human(t.requests),
        count_human(t.input_tokens + t.cache_read_tokens + t.cache_write_tokens),
        count_human(t.output_tokens),
        escape(&u.reason)
    )
}

impl Render for Report {
    /// Tables and Markdown show the human columns (see [`HumanColumns`]) and a total row; CSV has
    /// every count, the cost, the reported cost and the price source, and no total row.
    fn sheet(&self, format: Format) -> Sheet {
        match format {
            Format::Csv => self.csv_sheet(),
            _ => self.human_sheet(format == Format::Markdown),
        }
    }

    fn json(&self) -> serde_json::Value {
        json::to_value(self)
    }
}

impl Report {
    fn human_sheet(&self, markdown: bool) -> Sheet {
        let columns = HumanColumns::of(self);
        let mut header: Vec<Column> = self
            .group_by
            .iter()
            .map(|d| Column::label(d.name()))
            .collect();
        header.extend(columns.columns());
        let mut sheet = Sheet::new(header).titled(format!(
            "AI spend {}",
            crate::period::describe(&self.period, self.tz)
        ));
        for row in &self.rows {
            let mut cells: Vec<Cell> = row.values.iter().cloned().map(Cell::Text).collect();
            cells.extend(columns.cells(&row.totals, row.previous.as_ref()));
            sheet.push(cells);
        }
        let mut total: Vec<Cell> = (0..self.group_by.len())
            .map(|i| match i {
                0 if markdown => Cell::plain("**total**"),
                0 => Cell::plain("total"),
                _ => Cell::plain(""),
            })
            .collect();
        total.extend(columns.cells(&self.total, self.total_previous.as_ref()));
        sheet.push(total);
        sheet.total_row = true;
        let escape = if markdown {
            markdown::escape
        } else {
            table::escape
        };
        if let Some(note) = fallback_footnote(self) {
            if markdown {
                sheet.note("");
            }
            sheet.note(note);
        }
        if !markdown && self.rows.is_empty() && self.unpriced.is_empty() {
            sheet.note("No usage in this period.");
        }
        if !self.unpriced.is_empty() {
            sheet.note("");
            if markdown {
                sheet.note("**Unpriced** (not in the total: add a price with `--pricing`):");
                sheet.note("");
            } else {
                sheet.note("Unpriced (not in the total; add a price with --pricing, see `aispend pricing missing`):");
            }
            let prefix = if markdown { "- " } else { "  " };
            for u in &self.unpriced {
                sheet.note(unpriced_note(u, prefix, escape));
            }
        }
        sheet
    }

    /// One line per row, dimension columns first, `price_source` last; money exact. Unpriced records
    /// are not rows (they have no cost): the command warns about them on standard error.
    fn csv_sheet(&self) -> Sheet {
        let mut header: Vec<Column> = self
            .group_by
            .iter()
            .map(|d| Column::label(d.name()))
            .collect();
        header.extend(COUNT_FIELDS.iter().map(|s| Column::number(*s)));
        header.extend(["failed_requests", "cost", "reported_cost"].map(Column::number));
        let compare = self.previous_period.is_some();
        if compare {
            header.extend(["previous_cost", "change", "change_pct"].map(Column::number));
        }
        // Last, so that columns read by position before it keep their place.
        header.push(Column::text("price_source"));
        // Added later, after `price_source`, for the same reason.
        header.extend(["tool_calls", "tool_fees"].map(Column::number));
        let mut sheet = Sheet::new(header);
        for row in &self.rows {
            let t = &row.totals;
            let mut cells: Vec<Cell> = row.values.iter().cloned().map(Cell::Text).collect();
            cells.extend(counts(t).map(Cell::Count));
            cells.push(Cell::Count(t.failed_requests));
            cells.push(Cell::Money(t.cost));
            cells.push(Cell::money_or_missing(t.reported()));
            if let Some(p) = row.previous.as_ref().filter(|_| compare) {
                cells.push(Cell::Money(p.cost));
                cells.push(Cell::Change(t.cost - p.cost));
                cells.push(Cell::ChangePct(super::change_percent(t.cost, p.cost)));
            }
            cells.push(Cell::plain(t.price_source()));
            cells.push(Cell::Count(t.tool_calls));
            cells.push(Cell::Money(t.tool_fees));
            sheet.push(cells);
        }
        sheet
    }
}
