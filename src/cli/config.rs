//! `aispend config path`: which config file and which ledger a command run here would use, and why.

use std::io::Write;
use std::path::Path;

use serde_json::json;

use super::{Context, InfoFormat};
use crate::config::user_config_file;
use crate::error::Result;

const PATH_LONG_ABOUT: &str = "\
Show which config file and which ledger commands run here use, and what chose each.

The config is the first of: --config PATH, $AISPEND_CONFIG, ./aispend.toml, then aispend/aispend.toml in \
the user config folder ($XDG_CONFIG_HOME, else ~/.config). The ledger is the first of: --ledger PATH, \
$AISPEND_LEDGER, `ledger` in the config (relative to the config's folder), then \
$XDG_DATA_HOME/aispend/ledger.db (the platform data folder).";

/// Show the config and ledger in use
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Which config file and which ledger are in use, and why
    #[command(long_about = PATH_LONG_ABOUT)]
    Path {
        /// Output format: table (lines for people) or json
        #[arg(long, value_enum, value_name = "FORMAT", default_value_t = InfoFormat::Table)]
        format: InfoFormat,
    },
}

pub fn run(ctx: &Context, cmd: Command, out: &mut dyn Write) -> Result<i32> {
    let Command::Path { format } = cmd;
    let absolute = |p: &Path| {
        std::path::absolute(p)
            .unwrap_or_else(|_| p.to_path_buf())
            .display()
            .to_string()
    };
    let config = ctx.config.origin.as_deref().map(absolute);
    let (ledger, ledger_from) = ctx.ledger_location()?;
    let exists = ledger.is_file();
    let ledger = absolute(&ledger);
    let from = ctx.config_origin.describe();
    match format {
        InfoFormat::Json => {
            let doc = json!({
                "schema": "aispend.config-path.v1",
                "config": config,
                "config_from": config.as_ref().map(|_| from),
                "ledger": ledger,
                "ledger_from": ledger_from,
                "ledger_exists": exists,
            });
            serde_json::to_writer_pretty(&mut *out, &doc).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        InfoFormat::Table => {
            match &config {
                Some(c) => writeln!(out, "config: {c} (from {from})")?,
                None => writeln!(
                    out,
                    "config: none (no --config, $AISPEND_CONFIG, ./aispend.toml or {})",
                    user_config_file()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| "user config file".into())
                )?,
            }
            let state = if exists { "" } else { "; not created yet" };
            writeln!(out, "ledger: {ledger} (from {ledger_from}{state})")?;
        }
    }
    Ok(0)
}
