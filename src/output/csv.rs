//! `--format csv`: a header line, then one line per row, every amount exact. The title and notes of a
//! sheet are for people and are left out. Every CSV the program writes (exports too) goes through
//! [`CsvOut`], which neutralises text a spreadsheet would run as a formula (see
//! `crate::sanitize::csv_field`).

use std::io::Write;

use super::{Cell, Sheet};
use crate::error::Result;
use crate::sanitize::csv_field;

/// Writes a sheet as CSV.
pub fn write(sheet: &Sheet, out: &mut dyn Write) -> Result<()> {
    let mut w = CsvOut::new(out);
    w.row(sheet.columns.iter().map(|c| c.name.as_str()))?;
    for row in &sheet.rows {
        w.row(row.iter().map(Cell::exact))?;
    }
    Ok(w.flush()?)
}

/// A CSV error as an I/O error: an I/O cause is returned as it is, so a closed pipe stays `BrokenPipe`
/// (the one conversion of CSV errors; `crate::error::Error` uses it too).
pub fn io_error(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// A CSV writer whose every field goes through [`csv_field`]; its errors keep their I/O kind.
pub struct CsvOut<W: Write> {
    writer: csv::Writer<W>,
}

impl<W: Write> CsvOut<W> {
    pub fn new(out: W) -> CsvOut<W> {
        CsvOut {
            writer: csv::Writer::from_writer(out),
        }
    }

    pub fn row<I, S>(&mut self, fields: I) -> std::io::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut record = csv::StringRecord::new();
        for f in fields {
            record.push_field(&csv_field(f.as_ref()));
        }
        self.writer.write_record(&record).map_err(io_error)
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}
