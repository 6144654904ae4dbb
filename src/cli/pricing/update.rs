//! `aispend pricing update [--litellm URL|FILE]`: fetch (or read) a newer LiteLLM price map and keep it as
//! a dated snapshot in the data directory (`$XDG_DATA_HOME/aispend/litellm/litellm-YYYY-MM-DD.json`), where
//! `--pricing-fallback litellm` finds the newest one. The map is checked before it is stored: a file that
//! does not read as a price map, or holds no chat prices aispend can use, leaves the snapshots unchanged.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{NaiveDate, Utc};

use crate::error::{Error, Result};
use crate::pricing::litellm::{gunzip_if_needed, parse_map, read_map_file};

/// Where LiteLLM publishes its map.
pub const DEFAULT_URL: &str =
    "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json";

/// A stored snapshot.
pub struct Snapshot {
    pub date: NaiveDate,
    pub path: PathBuf,
}

/// The folder of stored snapshots.
pub fn snapshot_dir() -> Option<PathBuf> {
    super::super::data_dir().map(|d| d.join("litellm"))
}

/// The newest stored snapshot, if any.
pub fn newest_snapshot() -> Option<Snapshot> {
    let dir = snapshot_dir()?;
    std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let date = name.strip_prefix("litellm-")?.strip_suffix(".json")?;
            let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
            Some(Snapshot {
                date,
                path: e.path(),
            })
        })
        .max_by_key(|s| s.date)
}

pub fn run(source: Option<&str>, out: &mut dyn Write) -> Result<i32> {
    let source = source.unwrap_or(DEFAULT_URL);
    let bytes = if source.starts_with("http://") || source.starts_with("https://") {
        fetch(source)?
    } else {
        read_map_file(std::path::Path::new(source))?
    };
    let models = parse_map(&bytes, source)?;
    if models.is_empty() {
        return Err(Error::usage(format!(
            "{source}: no chat prices of a provider aispend knows: not a LiteLLM price map? Nothing was stored."
        )));
    }
    let mut providers: Vec<&str> = models.iter().map(|m| m.provider.as_str()).collect();
    providers.sort_unstable();
    providers.dedup();
    let dir = snapshot_dir().ok_or_else(|| {
        Error::usage("cannot find a data directory to store the snapshot in (set XDG_DATA_HOME)")
    })?;
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let today = Utc::now().date_naive();
    let path = dir.join(format!("litellm-{today}.json"));
    // Write beside, then rename: a reader never sees half a snapshot.
    let partial = dir.join(format!(".litellm-{today}.json.partial"));
    std::fs::write(&partial, &bytes).map_err(|e| Error::io(&partial, e))?;
    std::fs::rename(&partial, &path).map_err(|e| Error::io(&path, e))?;
    writeln!(
        out,
        "Stored {source} as {} ({} chat prices of {} providers).",
        path.display(),
        models.len(),
        providers.len()
    )?;
    writeln!(
        out,
        "--pricing-fallback litellm now uses it for records no price table prices.\n\
         What changed against the curated tables: aispend pricing diff --litellm {}",
        path.display()
    )?;
    Ok(0)
}

fn fetch(url: &str) -> Result<Vec<u8>> {
    use crate::pull::http::{Client, FetchError, Retry};
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::usage(format!("--litellm {url}: not a URL: {e}")))?;
    let client =
        Client::new(&[], "", Duration::from_secs(60), Retry::from_env()).map_err(Error::usage)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::usage(format!("cannot start the HTTP runtime: {e}")))?;
    let body = runtime
        .block_on(client.get(&parsed, &mut |n| {
            eprintln!(
                "aispend: {url}: {}; retrying in {:.1} s (attempt {} of {})",
                crate::sanitize::message(&n.reason),
                n.wait.as_secs_f64(),
                n.next_attempt,
                n.attempts
            )
        }))
        .map_err(|e| {
            Error::usage(match e {
                FetchError::Refused { status, message } => {
                    format!("{url}: refused with HTTP {status}: {message}")
                }
                FetchError::Unavailable { attempts, last } => {
                    format!("{url}: no answer after {attempts} attempts: {last}")
                }
            })
        })?;
    gunzip_if_needed(body).map_err(|e| Error::usage(format!("{url}: {e}")))
}
