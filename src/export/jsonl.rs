//! `--format jsonl`: one JSON object per line, keys in [`FIELDS`] order. Money is a decimal string
//! (`"0.0136"`), token counts are integers, `tags` is an object, a missing value is `null`.

use std::io::Write;

use super::{money, Cell, ExportRow, Exporter, FIELDS};

pub struct JsonlExporter<'w> {
    out: &'w mut dyn Write,
}

impl<'w> JsonlExporter<'w> {
    pub fn new(out: &'w mut dyn Write) -> JsonlExporter<'w> {
        JsonlExporter { out }
    }
}

fn write_json(out: &mut dyn Write, value: &impl serde::Serialize) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(std::io::Error::from)
}

fn write_cell(out: &mut dyn Write, cell: Cell<'_>) -> std::io::Result<()> {
    match cell {
        Cell::Str(s) => write_json(out, &s),
        Cell::Text(s) => write_json(out, &s),
        Cell::Int(n) => write_json(out, &n),
        Cell::Bool(b) => write_json(out, &b),
        Cell::Money(m) => write_json(out, &m.map(money)),
        Cell::Tags(tags) => write_json(out, tags),
    }
}

impl Exporter for JsonlExporter<'_> {
    fn begin(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    fn row(&mut self, row: &ExportRow<'_>) -> std::io::Result<()> {
        self.out.write_all(b"{")?;
        for (i, (key, cell)) in FIELDS.iter().zip(row.cells()).enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            write_json(self.out, key)?;
            self.out.write_all(b":")?;
            write_cell(self.out, cell)?;
        }
        self.out.write_all(b"}\n")
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
