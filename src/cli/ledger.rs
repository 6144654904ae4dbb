//! `aispend ledger`: inspect the stored ledger.

use std::io::Write;

use comfy_table::{presets, Table};

use super::Context;
use crate::error::Result;
use crate::report::render::count_human;

/// Inspect the ledger
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Records, requests, date range and sources in the ledger
    Stats,
}

pub fn run(ctx: &Context, cmd: Command, out: &mut dyn Write) -> Result<i32> {
    match cmd {
        Command::Stats => {
            let ledger = ctx.open_existing_ledger()?;
            let s = ledger.stats()?;
            writeln!(out, "ledger:   {}", ledger.path().display())?;
            writeln!(out, "schema:   version {}", s.schema_version)?;
            writeln!(out, "size:     {} bytes", count_human(s.file_bytes))?;
            writeln!(out, "records:  {}", count_human(s.records))?;
            writeln!(out, "requests: {}", count_human(s.requests))?;
            if let (Some(a), Some(b)) = (s.first, s.last) {
                writeln!(
                    out,
                    "from:     {}",
                    a.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                )?;
                writeln!(
                    out,
                    "to:       {}",
                    b.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                )?;
            }
            if !s.by_source.is_empty() {
                let mut table = Table::new();
                table
                    .load_preset(presets::UTF8_FULL_CONDENSED)
                    .force_no_tty();
                table.set_header(["source", "provider", "records", "requests"]);
                for (source, provider, records, requests) in &s.by_source {
                    table.add_row([
                        source.clone(),
                        provider.clone(),
                        count_human(*records),
                        count_human(*requests),
                    ]);
                }
                writeln!(out, "{table}")?;
            }
            Ok(0)
        }
    }
}
