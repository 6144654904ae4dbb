//! `aispend man [COMMAND]...`: man pages, generated from the same definitions as `--help`
//! (clap_mangen): `aispend.1`, and one page per command (`aispend-report.1`, `aispend-budget-check.1`),
//! which the main page lists.

use std::io::Write;

use clap::CommandFactory;

use crate::error::{Error, Result};

/// Print a man page (roff): aispend's, or a command's
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  aispend man > aispend.1 && man ./aispend.1
  aispend man report > aispend-report.1
  mkdir -p ~/.local/share/man/man1 && aispend man > ~/.local/share/man/man1/aispend.1")]
pub struct Args {
    /// The command whose page to print (`report`, `budget check`) [default: the main page]
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<i32> {
    let mut cmd = super::Cli::command().disable_help_subcommand(true);
    cmd.build();
    for name in &args.command {
        cmd = cmd.find_subcommand(name).cloned().ok_or_else(|| {
            let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
            Error::usage(format!(
                "no command '{name}' (expected one of: {})",
                names.join(", ")
            ))
        })?;
    }
    clap_mangen::Man::new(cmd).render(out)?;
    Ok(0)
}
