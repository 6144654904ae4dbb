//! `--format json`: the stable machine interface. Each command's document names its `schema`; money
//! is a decimal string (see [`super::money_exact`]).

use std::io::Write;

use crate::error::Result;

/// Writes a document, pretty-printed, with a final new line.
pub fn write(doc: &serde_json::Value, out: &mut dyn Write) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc)?;
    writeln!(out)?;
    Ok(())
}
