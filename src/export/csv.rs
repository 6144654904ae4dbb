//! `--format csv`: one line per record, the columns of [`FIELDS`]. Money is exact; an unpriced record has
//! an empty `cost` and says why in `unpriced_reason`; `tags` is a JSON object; times are RFC 3339 UTC.

use std::io::Write;

use crate::output::csv::CsvOut;

use super::{money, Cell, ExportRow, Exporter, FIELDS};

pub struct CsvExporter<'w> {
    writer: CsvOut<&'w mut dyn Write>,
}

impl<'w> CsvExporter<'w> {
    pub fn new(out: &'w mut dyn Write) -> CsvExporter<'w> {
        CsvExporter {
            writer: CsvOut::new(out),
        }
    }
}

/// A cell as CSV text: empty when missing.
pub fn text(cell: Cell<'_>) -> String {
    match cell {
        Cell::Str(s) => s.unwrap_or_default().to_string(),
        Cell::Text(s) => s.unwrap_or_default(),
        Cell::Int(n) => n.map(|n| n.to_string()).unwrap_or_default(),
        Cell::Bool(b) => b.map(|b| b.to_string()).unwrap_or_default(),
        Cell::Money(m) => m.map(money).unwrap_or_default(),
        Cell::Tags(tags) => serde_json::to_string(tags).unwrap_or_default(),
    }
}

impl Exporter for CsvExporter<'_> {
    fn begin(&mut self) -> std::io::Result<()> {
        self.writer.row(FIELDS)
    }

    fn row(&mut self, row: &ExportRow<'_>) -> std::io::Result<()> {
        self.writer.row(row.cells().map(text))
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}
