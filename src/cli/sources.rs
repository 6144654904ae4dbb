//! `aispend sources`: the importers, what each reads and how it is detected.

use std::io::Write;

use serde_json::json;

use super::{Context, InfoFormat};
use crate::error::Result;
use crate::output::{self, Format, Render, Sheet};
use crate::sources;

/// List the importers, what each reads and how it is detected
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format: table (for people) or json (`aispend.sources.v1`)
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = InfoFormat::Table)]
    pub format: InfoFormat,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<i32> {
    output::write(&Importers, args.format.into(), ctx.style(), out)?;
    Ok(0)
}

/// Every importer, in detection order.
struct Importers;

impl Render for Importers {
    fn sheet(&self, _format: Format) -> Sheet {
        let mut lines = vec![
            "Formats are detected from file content; force one with --source NAME.".to_string(),
            String::new(),
        ];
        for s in sources::all() {
            lines.push(s.name().to_string());
            lines.push(format!("  reads:    {}", s.reads()));
            lines.push(format!("  detected: {}", s.detected_by()));
        }
        Sheet::lines(lines)
    }

    fn json(&self) -> serde_json::Value {
        let rows: Vec<_> = sources::all()
            .iter()
            .map(|s| json!({"name": s.name(), "reads": s.reads(), "detected_by": s.detected_by()}))
            .collect();
        json!({"schema": "aispend.sources.v1", "sources": rows})
    }
}
