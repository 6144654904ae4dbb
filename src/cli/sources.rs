//! `aispend sources`: the importers, what each reads and how it is detected.

use std::io::Write;

use serde_json::json;

use super::{Context, InfoFormat};
use crate::error::Result;
use crate::sources;

/// List the importers, what each reads and how it is detected
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format: table (for people) or json (`aispend.sources.v1`)
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = InfoFormat::Table)]
    pub format: InfoFormat,
}

pub fn run(_ctx: &Context, args: Args, out: &mut dyn Write) -> Result<i32> {
    if args.format == InfoFormat::Json {
        let rows: Vec<_> = sources::all()
            .iter()
            .map(|s| json!({"name": s.name(), "reads": s.reads(), "detected_by": s.detected_by()}))
            .collect();
        let doc = json!({"schema": "aispend.sources.v1", "sources": rows});
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(std::io::Error::from)?;
        writeln!(out)?;
        return Ok(0);
    }
    writeln!(
        out,
        "Formats are detected from file content; force one with --source NAME.\n"
    )?;
    for s in sources::all() {
        writeln!(out, "{}", s.name())?;
        writeln!(out, "  reads:    {}", s.reads())?;
        writeln!(out, "  detected: {}", s.detected_by())?;
    }
    Ok(0)
}
