//! `aispend completions SHELL`: print a completion script.

use std::io::Write;

use clap::CommandFactory;

use crate::error::Result;

/// Print a shell completion script (bash, zsh, fish, elvish, powershell)
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  aispend completions bash > ~/.local/share/bash-completion/completions/aispend"
)]
pub struct Args {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<i32> {
    let mut cmd = super::Cli::command();
    // clap_complete panics when its writer fails: generate into memory, then write, so that a write
    // error (a closed pipe) is an error like any other.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "aispend", &mut script);
    out.write_all(&script)?;
    Ok(0)
}
