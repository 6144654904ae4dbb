//! Reading a record back from a row of either backend: the columns of `schema::COLUMNS`, in that
//! order, as text, whole numbers and flags.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{TimeZone, Utc};

use crate::decimal::parse_decimal;
use crate::record::{
    DedupPolicy, FailureClass, Provenance, Provider, Text, TokenCounts, UsageRecord,
};

/// A row's cells by column index. Text is built straight from the row's bytes (inline when short).
pub(super) trait Cells {
    type Error;
    fn text(&self, i: usize) -> Result<Option<Text>, Self::Error>;
    fn int(&self, i: usize) -> Result<Option<i64>, Self::Error>;
    fn flag(&self, i: usize) -> Result<Option<bool>, Self::Error>;
}

/// A text cell of SQLite, read as `String` is (the same errors for a cell of another type).
struct SqliteText(Text);

impl rusqlite::types::FromSql for SqliteText {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        value.as_str().map(|s| SqliteText(Text::from(s)))
    }
}

impl Cells for rusqlite::Row<'_> {
    type Error = rusqlite::Error;
    fn text(&self, i: usize) -> rusqlite::Result<Option<Text>> {
        Ok(self.get::<_, Option<SqliteText>>(i)?.map(|t| t.0))
    }
    fn int(&self, i: usize) -> rusqlite::Result<Option<i64>> {
        self.get(i)
    }
    fn flag(&self, i: usize) -> rusqlite::Result<Option<bool>> {
        self.get(i)
    }
}

impl Cells for postgres::Row {
    type Error = postgres::Error;
    fn text(&self, i: usize) -> Result<Option<Text>, postgres::Error> {
        Ok(self.try_get::<_, Option<&str>>(i)?.map(Text::from))
    }
    fn int(&self, i: usize) -> Result<Option<i64>, postgres::Error> {
        self.try_get(i)
    }
    fn flag(&self, i: usize) -> Result<Option<bool>, postgres::Error> {
        self.try_get(i)
    }
}

/// The record in a row of `schema::COLUMNS`; `files` shares one copy of each provenance file name.
pub(super) fn record_from_cells<C: Cells>(
    row: &C,
    files: &mut BTreeMap<String, Arc<str>>,
) -> Result<UsageRecord, C::Error> {
    let ms = |v: i64| Utc.timestamp_millis_opt(v).single().unwrap_or_default();
    let text = |i: usize| -> Result<Text, C::Error> { Ok(row.text(i)?.unwrap_or_default()) };
    let u = |i: usize| -> Result<u64, C::Error> { Ok(row.int(i)?.unwrap_or(0).max(0) as u64) };
    let flag = |i: usize| -> Result<bool, C::Error> { Ok(row.flag(i)?.unwrap_or(false)) };
    let source = text(1)?;
    let provider = text(2)?;
    let name = text(35)?;
    let file = match files.get(name.as_str()) {
        Some(file) => file.clone(),
        None => {
            let file: Arc<str> = Arc::from(name.as_str());
            files.insert(name.into_string(), file.clone());
            file
        }
    };
    Ok(UsageRecord {
        id: text(0)?,
        source: crate::sources::by_name(&source)
            .map(|s| s.name())
            .unwrap_or("other"),
        provider: Provider::parse(&provider).unwrap_or(Provider::Other),
        model: text(3)?,
        start: ms(row.int(4)?.unwrap_or(0)),
        end: row.int(5)?.map(ms),
        service_tier: row.text(6)?,
        batch: flag(7)?,
        region: row.text(8)?,
        long_context: row.flag(9)?,
        team: row.text(10)?,
        project: row.text(11)?,
        user: row.text(12)?,
        api_key: row.text(13)?,
        workspace: row.text(14)?,
        billing_account: row.text(37)?,
        billing_account_name: row.text(38)?,
        tags: row
            .text(15)?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default(),
        tokens: TokenCounts {
            input: u(16)?,
            cache_read: u(17)?,
            cache_write_5m: u(18)?,
            cache_write_1h: u(19)?,
            output: u(20)?,
            reasoning: u(21)?,
            audio_input: u(22)?,
            audio_output: u(23)?,
            image_input: u(24)?,
            image_output: u(25)?,
            web_search_requests: u(26)?,
            web_fetch_requests: u(39)?,
            file_search_calls: u(40)?,
            code_execution_calls: u(41)?,
            grounded_prompts: u(42)?,
            cache_read_audio: u(46)?,
            web_search_preview_calls: u(47)?,
            images: u(27)?,
            seconds: u(28)?,
        },
        requests: u(29)?,
        reported_cost: row.text(30)?.as_deref().and_then(parse_decimal),
        reported_currency: row.text(31)?,
        status: row.int(32)?.and_then(|s| u16::try_from(s).ok()),
        failed: flag(33)?,
        latency_ms: row.int(34)?.map(|l| l.max(0) as u64),
        failure: row.text(43)?.and_then(|c| FailureClass::parse(&c)),
        attempt: row.int(44)?.and_then(|a| u32::try_from(a).ok()),
        retry_of: row.text(45)?,
        provenance: Provenance { file, line: u(36)? },
        dedup: DedupPolicy::KeepFirst,
    })
}
