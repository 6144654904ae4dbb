//! `aispend pull litellm --database-url postgres://…`: LiteLLM proxy spend, read straight from the
//! proxy's own database (`"LiteLLM_SpendLogs"`, one row per request, as LiteLLM's `schema.prisma`
//! defines it).
//!
//! - Read-only: one `READ ONLY`, `REPEATABLE READ` transaction (a consistent snapshot across pages);
//!   nothing is written to LiteLLM's database.
//! - Only the columns the importer maps are selected, and of `metadata` only the attribution keys and
//!   `usage_object`: prompts and responses (`messages`, `response`, `proxy_server_request`), the key hash
//!   and the caller's IP address never leave the server. Columns a release does not have are read as
//!   null.
//! - Each row becomes the JSON object the `litellm` importer reads from a spend-log export, so a pulled
//!   row and the same row exported and imported are the same record (`litellm:{request_id}`).
//! - Incremental: pages of [`DEFAULT_PAGE_ROWS`] ordered by (`startTime`, `request_id`) (LiteLLM's own
//!   index), from where the last pull stopped. The cursor (the last `startTime` read) is kept in the
//!   ledger per database and moved in the import's transaction. LiteLLM writes spend logs in batches,
//!   so a pull starts [`DEFAULT_OVERLAP_MINUTES`] before the cursor: rows that landed late are picked up,
//!   rows already pulled are duplicates and add nothing.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{Duration, NaiveDate, NaiveDateTime};

use crate::error::{Error, Result};
use crate::input::{Accepted, RecordSink};
use crate::ledger::{Ledger, LedgerWriter};
use crate::pg::PgTarget;
use crate::sources::litellm::spend_log_row;

pub const DEFAULT_PAGE_ROWS: u32 = 5_000;
pub const DEFAULT_OVERLAP_MINUTES: u32 = 60;
const TABLE: &str = "LiteLLM_SpendLogs";
/// The cursor's text: `startTime` in UTC, milliseconds (it sorts as it compares).
const CURSOR_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.3f";

/// What to pull.
#[derive(Debug, Clone)]
pub struct Options {
    /// Start at this day (UTC) instead of the cursor.
    pub since: Option<NaiveDate>,
    pub page_rows: u32,
    pub overlap: Duration,
    pub dry_run: bool,
}

/// What a pull did.
#[derive(Debug, Default)]
pub struct Summary {
    pub pages: u64,
    pub rows: u64,
    pub added: u64,
    pub duplicates: u64,
    /// Where the next pull starts (the last `startTime` read), and where this one started.
    pub cursor: Option<String>,
    pub started_at: Option<String>,
}

/// The ledger's name for this database's cursor: `litellm:postgres://user@host:port/db`.
pub fn cursor_name(target: &PgTarget) -> String {
    format!("litellm:{}", target.display())
}

/// Pulls every row from the cursor (less the overlap) or `--since` into the ledger, in one ledger
/// transaction (all or nothing), calling `page` after each page (rows in it, total so far).
pub fn pull(
    target: &PgTarget,
    ledger: &mut Ledger,
    options: &Options,
    page: &mut dyn FnMut(u64, u64),
) -> Result<Summary> {
    let name = cursor_name(target);
    let start = match options.since {
        Some(day) => Some(day.and_hms_opt(0, 0, 0).unwrap_or_default()),
        None => match ledger.cursor(&name)? {
            Some(c) => Some(
                NaiveDateTime::parse_from_str(&c, CURSOR_FORMAT).map_err(|_| {
                    Error::usage(format!(
                        "the ledger's cursor for {} is not a time ('{c}')",
                        target.display()
                    ))
                })? - options.overlap,
            ),
            None => None,
        },
    };
    let mut client = target.connect()?;
    let db = |e: postgres::Error| target.error(&e);
    // Times in UTC, floats (`spend`) as their shortest exact text.
    client
        .batch_execute("SET TIME ZONE 'UTC'; SET extra_float_digits = 1")
        .map_err(db)?;
    let mut tx = client
        .build_transaction()
        .read_only(true)
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .start()
        .map_err(db)?;
    let columns = table_columns(&mut tx).map_err(db)?;
    for required in ["request_id", "startTime", "spend", "model"] {
        if !columns.contains(required) {
            return Err(Error::Database(format!(
                "{}: no table \"{TABLE}\" with a {required} column in the search path: is this the \
                 LiteLLM proxy's database (its DATABASE_URL)?",
                target.display()
            )));
        }
    }
    let statement = tx.prepare(&select(&columns)).map_err(db)?;
    let file: Arc<str> = Arc::from(format!("{} \"{TABLE}\"", target.display()));
    let started_at = start.map(|s| s.format(CURSOR_FORMAT).to_string());
    let mut summary = Summary {
        started_at: started_at.clone(),
        ..Summary::default()
    };
    let mut after = (
        started_at.unwrap_or_else(|| "-infinity".into()),
        String::new(),
    );
    let old_cursor = ledger.cursor(&name)?;
    ledger.write(!options.dry_run, |writer: &mut LedgerWriter<'_>| {
        loop {
            let rows = tx
                .query(
                    &statement,
                    &[&after.0, &after.1, &i64::from(options.page_rows)],
                )
                .map_err(db)?;
            let Some(last) = rows.last() else { break };
            after = (last.get(0), last.get(1));
            for row in &rows {
                summary.rows += 1;
                let json: &str = row.get(2);
                let record =
                    spend_log_row(json, summary.rows, &file).map_err(|record| Error::Input {
                        file: file.to_string(),
                        record,
                    })?;
                match writer.accept(record)? {
                    Accepted::Added => summary.added += 1,
                    Accepted::Duplicate | Accepted::Replaced => summary.duplicates += 1,
                }
            }
            // The ledger's late answers (batched writes): records first counted as added.
            let late = writer.settle()?.len() as u64;
            summary.added -= late;
            summary.duplicates += late;
            summary.pages += 1;
            page(rows.len() as u64, summary.rows);
            if rows.len() < options.page_rows as usize {
                break;
            }
        }
        // The cursor only moves forward (a --since pull of old days leaves it where it was).
        let newest = (summary.rows > 0).then(|| after.0.clone());
        let cursor = match (old_cursor.clone(), newest) {
            (Some(old), Some(new)) => Some(old.max(new)),
            (old, new) => old.or(new),
        };
        if let Some(c) = cursor
            .as_deref()
            .filter(|c| Some(*c) != old_cursor.as_deref())
        {
            writer.set_cursor(&name, c)?;
        }
        summary.cursor = cursor;
        Ok(())
    })?;
    tx.rollback().map_err(db)?;
    Ok(summary)
}

/// The columns of `"LiteLLM_SpendLogs"` in the search path.
fn table_columns(
    tx: &mut postgres::Transaction<'_>,
) -> std::result::Result<HashSet<String>, postgres::Error> {
    let rows = tx.query(
        "SELECT column_name::text FROM information_schema.columns \
         WHERE table_name = $1 AND table_schema = ANY (current_schemas(false))",
        &[&TABLE],
    )?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The page query: (`startTime` text, `request_id`, the row as the importer's JSON), after a
/// (`startTime`, `request_id`) position, `$3` rows.
fn select(columns: &HashSet<String>) -> String {
    let col = |name: &str, sql: &str| -> String {
        if columns.contains(name) {
            sql.to_string()
        } else {
            "NULL".to_string()
        }
    };
    let time = |name: &str| {
        col(
            name,
            &format!("to_char(\"{name}\", 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"),
        )
    };
    let meta_keys = [
        "user_api_key_alias",
        "user_api_key_team_alias",
        "team_alias",
        "user_api_key_team_id",
        "team_id",
        "user_api_key_user_id",
        "usage_object",
    ];
    let meta_pairs: Vec<String> = meta_keys
        .iter()
        .map(|k| format!("'{k}', metadata::jsonb -> '{k}'"))
        .collect();
    let metadata = col(
        "metadata",
        &format!(
            "CASE WHEN jsonb_typeof(metadata::jsonb) = 'object' THEN jsonb_strip_nulls(jsonb_build_object({})) END",
            meta_pairs.join(", ")
        ),
    );
    let fields = [
        ("request_id", "request_id".to_string()),
        ("call_type", col("call_type", "call_type::text")),
        ("spend", "spend".to_string()),
        ("prompt_tokens", col("prompt_tokens", "prompt_tokens")),
        (
            "completion_tokens",
            col("completion_tokens", "completion_tokens"),
        ),
        ("startTime", time("startTime")),
        ("endTime", time("endTime")),
        (
            "request_duration_ms",
            col("request_duration_ms", "request_duration_ms"),
        ),
        ("model", "model".to_string()),
        ("model_group", col("model_group", "model_group::text")),
        (
            "custom_llm_provider",
            col("custom_llm_provider", "custom_llm_provider::text"),
        ),
        ("user", col("user", "\"user\"::text")),
        ("end_user", col("end_user", "end_user::text")),
        ("team_id", col("team_id", "team_id::text")),
        ("status", col("status", "status::text")),
        ("cache_hit", col("cache_hit", "cache_hit::text")),
        ("metadata", metadata),
        ("request_tags", col("request_tags", "request_tags::jsonb")),
    ];
    let object: Vec<String> = fields
        .iter()
        .map(|(key, sql)| format!("'{key}', {sql}"))
        .collect();
    format!(
        "SELECT to_char(\"startTime\", 'YYYY-MM-DD HH24:MI:SS.MS'), request_id, \
         json_build_object({})::text \
         FROM \"{TABLE}\" \
         WHERE (\"startTime\", request_id) > ($1::text::timestamp, $2::text) \
         ORDER BY \"startTime\", request_id LIMIT $3",
        object.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_never_names_prompt_columns_and_nulls_missing_ones() {
        let columns: HashSet<String> = ["request_id", "startTime", "spend", "model", "messages"]
            .into_iter()
            .map(String::from)
            .collect();
        let sql = select(&columns);
        for never in [
            "messages",
            "response\"",
            "proxy_server_request",
            "api_key\"",
            "requester_ip",
        ] {
            assert!(!sql.contains(never), "{never} in {sql}");
        }
        assert!(sql.contains("'status', NULL"), "{sql}");
        assert!(sql.contains("'metadata', NULL"), "{sql}");
    }
}
