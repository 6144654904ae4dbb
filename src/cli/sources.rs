//! `aispend sources`: the importers, what each reads and how it is detected.

use std::io::Write;

use super::Context;
use crate::error::Result;
use crate::sources;

/// List the importers, what each reads and how it is detected
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_ctx: &Context, _args: Args, out: &mut dyn Write) -> Result<i32> {
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
