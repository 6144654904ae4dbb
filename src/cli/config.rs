//! `aispend config path`: which config file and which ledger a command run here would use, and why.

use std::io::Write;
use std::path::Path;

use serde_json::json;

use super::{Context, InfoFormat};
use crate::config::user_config_file;
use crate::error::Result;
use crate::ledger::Location;
use crate::output::{self, Format, Render, Sheet};

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
    let (location, ledger_from) = ctx.ledger_location()?;
    // A database is not looked up here: `null` (JSON), "a PostgreSQL database" (table).
    let (ledger, ledger_exists) = match &location {
        Location::File(path) => (absolute(path), Some(path.is_file())),
        Location::Postgres(_) => (location.display(), None),
    };
    let paths = InUse {
        config: ctx.config.origin.as_deref().map(absolute),
        config_from: ctx.config_origin.describe(),
        ledger_exists,
        ledger,
        ledger_from,
    };
    output::write(&paths, format.into(), ctx.style(), out)?;
    Ok(0)
}

/// The config file and the ledger a command run here uses, and what chose each.
struct InUse {
    config: Option<String>,
    config_from: &'static str,
    ledger: String,
    ledger_from: &'static str,
    /// `None`: a PostgreSQL database (not looked up).
    ledger_exists: Option<bool>,
}

impl Render for InUse {
    fn sheet(&self, _format: Format) -> Sheet {
        let config = match &self.config {
            Some(c) => format!("config: {c} (from {})", self.config_from),
            None => format!(
                "config: none (no --config, $AISPEND_CONFIG, ./aispend.toml or {})",
                user_config_file()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "user config file".into())
            ),
        };
        let state = match self.ledger_exists {
            Some(true) => "",
            Some(false) => "; not created yet",
            None => "; a PostgreSQL database",
        };
        Sheet::lines(vec![
            config,
            format!("ledger: {} (from {}{state})", self.ledger, self.ledger_from),
        ])
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "schema": "aispend.config-path.v1",
            "config": self.config,
            "config_from": self.config.as_ref().map(|_| self.config_from),
            "ledger": self.ledger,
            "ledger_from": self.ledger_from,
            "ledger_exists": self.ledger_exists,
        })
    }
}
