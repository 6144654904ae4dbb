//! `aispend cache path | clear`: the parse cache of direct PATH reads.

use std::io::Write;

use super::Context;
use crate::cache;
use crate::error::{Error, Result};

/// The parse cache: what was parsed from each file read directly (`report PATH…`), so that a later run
/// reads only what changed. It holds parsed records (never prompt text, prices or teams) under the
/// platform cache folder, or $AISPEND_CACHE_DIR.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the cache folder
    Path,
    /// Remove every cache entry (the next run reads every file in full)
    Clear,
}

pub fn run(ctx: &Context, cmd: Command, out: &mut dyn Write) -> Result<i32> {
    let Some(root) = cache::default_dir() else {
        return Err(Error::usage(
            "no cache folder on this system: set AISPEND_CACHE_DIR",
        ));
    };
    match cmd {
        Command::Path => writeln!(out, "{}", cache::ParseCache::new(&root).dir().display())?,
        Command::Clear => {
            let dir = cache::ParseCache::new(&root).dir().to_path_buf();
            let removed = cache::clear(&root).map_err(|e| Error::io(&dir, e))?;
            ctx.note(format_args!(
                "removed {removed} file(s) from {}",
                dir.display()
            ));
        }
    }
    Ok(0)
}
