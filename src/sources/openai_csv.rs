//! `openai-csv`: the CSV files the OpenAI dashboard exports (Usage page → Export): the usage export
//! (`completions_usage_<start>_<end>.csv`, the Usage API flattened, one row per bucket × group) and the cost
//! export (one row per day × line item × project). Which one a file is comes from its header line.
//!
//! Usage rows map exactly as `openai-usage` maps a Usage API result, for both generations of the API:
//! since 2026-07-15 (`input_uncached_tokens` filled in) input = `input_uncached_tokens`, before (the cell
//! empty) input = `input_tokens` − `input_cached_tokens` − `input_cache_write_tokens`; cache read =
//! `input_cached_tokens`, cached audio input = `input_cached_audio_tokens`, cache write (5m) =
//! `input_cache_write_tokens` (the export has no such column: then what `input_tokens` holds beyond its
//! uncached and cached parts, once `input_uncached_tokens` is filled in), audio
//! input = `input_audio_tokens` − `input_cached_audio_tokens`, output = `output_tokens`, audio output =
//! `output_audio_tokens` (text counts never include audio), requests = `num_model_requests`; an empty
//! `model` is usage not grouped by model (unpriced, "export not grouped by model"). A `0` in `input_uncached_tokens` while `input_tokens` holds more than
//! its cached and written parts is a zero-filled column of an older export: the legacy rule applies. The
//! record id is the one `openai-usage` gives the same bucket and group
//! (`openai-usage:{start}:{end}:{project}:{user}:{api_key}:{model}:{batch}:{service_tier}`), so importing
//! the API page and the CSV of the same day counts it once.
//!
//! Cost rows map as `openai-costs` results (zero tokens, `amount_value` as reported cost, model from the
//! `line_item`), with the same id (`openai-costs:{start}:{end}:{project}:-:{line_item}`: the export has no
//! API-key column).
//!
//! Quirks of the export: counts written as floats (`12.0`: accepted when whole, `12.5` is an error),
//! booleans `TRUE`/`FALSE`/`true`/empty, empty buckets as rows whose usage cells are all empty (skipped).
//! Times are `start_time`/`end_time` (unix seconds), else `start_time_iso`/`end_time_iso`. Errors name the
//! CSV line (the header is line 1) and the column.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::shared::admin_page::{cost_record, CompletionCounts, CostRow};
use super::shared::common;
use super::{Emit, Reader, Source, StreamParser};
use crate::decimal::{parse_decimal, parse_number_cell};
use crate::error::RecordError;
use crate::record::{
    DedupPolicy, Provenance, Provider, Text, TokenCounts, UsageRecord, UNGROUPED_MODEL,
};
use crate::timestamp::Timestamp;

/// Reads the OpenAI dashboard's usage and cost CSV exports.
pub struct OpenAiCsv;

const NAME: &str = "openai-csv";

/// Columns that make a header the usage export's.
const USAGE_COLUMNS: [&str; 4] = [
    "start_time",
    "num_model_requests",
    "input_tokens",
    "output_tokens",
];
/// Columns that make a header the cost export's.
const COST_COLUMNS: [&str; 3] = ["start_time", "amount_value", "line_item"];

/// The count columns of the usage export: a row with all of them empty is an empty bucket.
const COUNT_COLUMNS: [&str; 13] = [
    "num_model_requests",
    "input_tokens",
    "output_tokens",
    "input_cached_tokens",
    "input_cache_write_tokens",
    "input_uncached_tokens",
    "input_text_tokens",
    "output_text_tokens",
    "input_cached_text_tokens",
    "input_audio_tokens",
    "input_cached_audio_tokens",
    "output_audio_tokens",
    "input_image_tokens",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Export {
    Usage,
    Cost,
}

impl Export {
    fn of<S: AsRef<str>>(header: &[S]) -> Option<Export> {
        let has = |c: &str| header.iter().any(|h| h.as_ref() == c);
        if USAGE_COLUMNS.iter().all(|c| has(c)) {
            Some(Export::Usage)
        } else if COST_COLUMNS.iter().all(|c| has(c)) {
            Some(Export::Cost)
        } else {
            None
        }
    }
}

impl Source for OpenAiCsv {
    fn name(&self) -> &'static str {
        NAME
    }

    fn reads(&self) -> &'static str {
        "OpenAI dashboard CSV exports: the usage export (completions_usage_*.csv, Usage API rows) and the \
         cost export (amount_value per day, line item and project)"
    }

    fn detected_by(&self) -> &'static str {
        "a CSV header with start_time, num_model_requests, input_tokens, output_tokens (usage) or \
         start_time, amount_value, line_item (cost)"
    }

    fn detect(&self, _path: &Path, head: &[u8]) -> bool {
        common::csv_header(head).is_some_and(|h| Export::of(&h).is_some())
    }

    fn reader(&self, _head: &[u8]) -> Reader<'_> {
        Reader::Stream(self)
    }
}

impl StreamParser for OpenAiCsv {
    fn parse_stream(
        &self,
        reader: &mut dyn std::io::Read,
        file: &Arc<str>,
        emit: &mut Emit<'_>,
    ) -> Result<(), RecordError> {
        let mut csv = common::csv_reader(reader)?;
        let header: Vec<String> = csv
            .headers()
            .map_err(|e| RecordError::new(1, format!("not a valid CSV header: {e}")))?
            .iter()
            .map(|h| h.trim().to_owned())
            .collect();
        let export = Export::of(&header).ok_or_else(|| {
            RecordError::new(
                1,
                format!(
                    "not an OpenAI usage or cost CSV export: expected the columns {} (usage) or {} (cost)",
                    USAGE_COLUMNS.join(", "),
                    COST_COLUMNS.join(", ")
                ),
            )
        })?;
        let columns: HashMap<String, usize> = header
            .iter()
            .enumerate()
            .map(|(i, h)| (h.clone(), i))
            .collect();
        let mut ids = common::RowIds::default();
        common::for_each_csv_row(&mut csv, emit, |record, line| {
            let row = Row {
                record,
                columns: &columns,
                line,
            };
            let provenance = Provenance {
                file: file.clone(),
                line,
            };
            let read = match export {
                Export::Usage => usage_row(&row, provenance),
                Export::Cost => cost_row(&row, provenance),
            };
            ids.number(read)
        })
    }
}

/// One CSV row with its header's column positions.
struct Row<'a> {
    record: &'a csv::StringRecord,
    columns: &'a HashMap<String, usize>,
    line: u64,
}

impl Row<'_> {
    /// The trimmed cell of `column`, `None` when the column is missing or the cell empty.
    fn text(&self, column: &str) -> Option<&str> {
        let i = *self.columns.get(column)?;
        let cell = self.record.get(i)?.trim();
        (!cell.is_empty()).then_some(cell)
    }

    fn string(&self, column: &str) -> Option<Text> {
        self.text(column).map(Text::from)
    }

    fn error(&self, column: &str, message: impl Into<String>) -> RecordError {
        RecordError::field(self.line, column, message)
    }

    /// A count: a non-negative whole number, possibly written as a float (`12.0`).
    fn count(&self, column: &str) -> Result<Option<u64>, RecordError> {
        let Some(text) = self.text(column) else {
            return Ok(None);
        };
        let bad = |why: &str| self.error(column, format!("{text:?} {why}"));
        let n = parse_number_cell(text).ok_or_else(|| {
            bad("is not a number (thousands may be grouped, in threes: 1,234,567)")
        })?;
        if n.is_sign_negative() && !n.is_zero() {
            return Err(bad("is negative: expected a count"));
        }
        if !n.fract().is_zero() {
            return Err(bad("is not a whole number: expected a count"));
        }
        u64::try_from(n.trunc())
            .map(Some)
            .map_err(|_| bad("is too large for a count"))
    }

    fn boolean(&self, column: &str) -> Result<Option<bool>, RecordError> {
        match self.text(column).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(other) => Err(self.error(
                column,
                format!("{other:?} is not a boolean: expected TRUE, FALSE or empty"),
            )),
        }
    }

    /// A time from the unix-seconds column, else from its ISO twin (`start_time` / `start_time_iso`).
    fn time(&self, column: &str) -> Result<Option<DateTime<Utc>>, RecordError> {
        if let Some(text) = self.text(column) {
            let seconds = parse_decimal(text)
                .filter(|d| d.fract().is_zero())
                .and_then(|d| i64::try_from(d.trunc()).ok());
            return match seconds.and_then(Timestamp::from_unix) {
                Some(t) => Ok(Some(t.0)),
                None => Timestamp::parse_str(text)
                    .map(|t| Some(t.0))
                    .ok_or_else(|| {
                        self.error(column, format!("{text:?} is not unix seconds or a time"))
                    }),
            };
        }
        let iso = format!("{column}_iso");
        match self.text(&iso) {
            None => Ok(None),
            Some(text) => Timestamp::parse_str(text)
                .map(|t| Some(t.0))
                .ok_or_else(|| self.error(&iso, format!("{text:?} is not a time"))),
        }
    }

    fn start(&self) -> Result<DateTime<Utc>, RecordError> {
        self.time("start_time")?.ok_or_else(|| {
            self.error(
                "start_time",
                "no start time: start_time and start_time_iso are empty",
            )
        })
    }
}

fn usage_row(row: &Row, provenance: Provenance) -> Result<Option<UsageRecord>, RecordError> {
    if COUNT_COLUMNS.iter().all(|c| row.text(c).is_none()) {
        return Ok(None); // an empty bucket
    }
    let start = row.start()?;
    let end = row.time("end_time")?;
    let tokens = usage_tokens(row)?;
    let project = row.string("project_id");
    let user = row.string("user_id");
    let api_key = row.string("api_key_id");
    let model = row.string("model");
    let batch = row.boolean("batch")?;
    let service_tier = row.string("service_tier");
    let id = usage_id(
        start,
        end,
        [&project, &user, &api_key, &model],
        batch,
        &service_tier,
    );
    let model = model.unwrap_or_else(|| UNGROUPED_MODEL.into());
    let mut record = UsageRecord::new(id, NAME, Provider::OpenAI, model, start, provenance);
    record.end = end;
    record.tokens = tokens;
    record.requests = row.count("num_model_requests")?.unwrap_or(0);
    record.batch = batch.unwrap_or(false);
    record.service_tier = service_tier;
    record.project = project;
    record.user = user;
    record.api_key = api_key;
    record.dedup = DedupPolicy::KeepLargest;
    Ok(Some(record))
}

/// The id `openai-usage` gives the completions result of the same bucket and group: keep the two in step
/// (a unit test compares them on the same data).
fn usage_id(
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
    [project, user, api_key, model]: [&Option<Text>; 4],
    batch: Option<bool>,
    service_tier: &Option<Text>,
) -> Text {
    let or_dash = |v: &Option<Text>| v.as_deref().unwrap_or("-").to_owned();
    compact_str::format_compact!(
        "openai-usage:{}:{}:{}:{}:{}:{}:{}:{}",
        start.timestamp(),
        end.map_or_else(|| "-".to_owned(), |e| e.timestamp().to_string()),
        or_dash(project),
        or_dash(user),
        or_dash(api_key),
        or_dash(model),
        batch.map_or("-", |b| if b { "true" } else { "false" }),
        or_dash(service_tier),
    )
}

/// Completions tokens in disjoint classes, as `openai-usage` reads a Usage API result (see the module doc).
fn usage_tokens(row: &Row) -> Result<TokenCounts, RecordError> {
    let count = |name: &str| row.count(name).map(|n| n.unwrap_or(0));
    let total = count("input_tokens")?;
    let cached = count("input_cached_tokens")?;
    let written = row.count("input_cache_write_tokens")?;
    let uncached = match row.count("input_uncached_tokens")? {
        // A zero-filled column in an export from before the field existed.
        Some(0) if total > cached.saturating_add(written.unwrap_or(0)) => None,
        other => other,
    };
    CompletionCounts {
        input_tokens: total,
        input_uncached_tokens: uncached,
        input_cached_tokens: cached,
        input_cache_write_tokens: written,
        input_audio_tokens: count("input_audio_tokens")?,
        input_cached_audio_tokens: count("input_cached_audio_tokens")?,
        output_tokens: count("output_tokens")?,
        output_audio_tokens: count("output_audio_tokens")?,
    }
    .tokens("", row.line)
}

fn cost_row(row: &Row, provenance: Provenance) -> Result<Option<UsageRecord>, RecordError> {
    let Some(text) = row.text("amount_value") else {
        return Ok(None); // an empty bucket
    };
    let amount = parse_number_cell(text)
        .ok_or_else(|| row.error("amount_value", format!("{text:?} is not a decimal number")))?;
    Ok(Some(cost_record(
        NAME,
        CostRow {
            start: row.start()?,
            end: row.time("end_time")?,
            project: row.string("project_id"),
            api_key: row.string("api_key_id"),
            line_item: row.string("line_item"),
            amount,
            currency: row.string("amount_currency"),
            organization: row
                .string("organization_id")
                .map(|id| (id, row.string("organization_name"))),
        },
        provenance,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn parse(csv: &str) -> Result<(Vec<UsageRecord>, Vec<RecordError>), RecordError> {
        crate::sources::testing::read_split(&OpenAiCsv, csv)
    }

    const USAGE_HEADER: &str = "start_time,end_time,start_time_iso,end_time_iso,project_id,num_model_requests,user_id,api_key_id,model,batch,service_tier,input_tokens,output_tokens,input_cached_tokens,input_uncached_tokens,input_text_tokens,output_text_tokens,input_cached_text_tokens,input_audio_tokens,input_cached_audio_tokens,output_audio_tokens,input_image_tokens,input_cached_image_tokens,output_image_tokens";

    #[test]
    fn usage_rows_match_the_usage_api() {
        let csv = format!(
            "{USAGE_HEADER}\n\
             1755648000,1755734400,2025-08-20T00:00:00+00:00,2025-08-21T00:00:00+00:00,proj_Ab12Cd34,42.0,,key_Xy98Zw76,gpt-4o-mini-2024-07-18,FALSE,default,120000.0,9500.0,48000.0,70000.0,,,,,,,,,\n\
             1755734400,1755820800,2025-08-21T00:00:00+00:00,2025-08-22T00:00:00+00:00,,,,,,,,,,,,,,,,,,,,\n"
        );
        let (records, errors) = parse(&csv).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(records.len(), 1, "the empty bucket is skipped");
        let r = &records[0];
        // 120_000 total = 70_000 uncached + 48_000 cached (+ 2_000 not in this export's columns)
        assert_eq!(r.tokens.input, 70_000);
        assert_eq!(r.tokens.cache_read, 48_000);
        assert_eq!(r.tokens.output, 9_500);
        assert_eq!(r.requests, 42);
        assert!(!r.batch);
        assert_eq!(r.user, None);
        assert_eq!(r.source, NAME);
        assert_eq!(r.provenance.line, 2);

        // The same bucket from the Usage API: the same id, the same tokens.
        let page = r#"{"object":"page","data":[{"object":"bucket","start_time":1755648000,"end_time":1755734400,"results":[
 {"object":"organization.usage.completions.result","input_tokens":120000,"input_uncached_tokens":70000,"input_cached_tokens":48000,
  "output_tokens":9500,"num_model_requests":42,"project_id":"proj_Ab12Cd34","user_id":null,
  "api_key_id":"key_Xy98Zw76","model":"gpt-4o-mini-2024-07-18","batch":false,"service_tier":"default"}]}]}"#;
        let usage_pages = crate::sources::by_name("openai-usage").unwrap();
        let out = crate::sources::testing::read(usage_pages, page).unwrap();
        assert_eq!(out.records[0].id, r.id);
        assert_eq!(out.records[0].tokens, r.tokens);
        assert_eq!(out.records[0].requests, r.requests);
        assert_eq!(
            r.id,
            "openai-usage:1755648000:1755734400:proj_Ab12Cd34:-:key_Xy98Zw76:gpt-4o-mini-2024-07-18:false:default"
        );
    }

    #[test]
    fn legacy_rows_subtract_cached_and_zero_filled_columns_are_legacy() {
        let csv = format!(
            "{USAGE_HEADER}\n\
             1751328000,1751414400,,,,9,,,gpt-4o,,,50000,3000,20000,,,,,1500,500,700,,,\n\
             1751328000,1751414400,,,,9,,,gpt-4.1,true,,50000,3000,20000,0,,,,,,,,,\n"
        );
        let (records, errors) = parse(&csv).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        // legacy: 50_000 (cached included) − 20_000 cached = 30_000 uncached
        assert_eq!(records[0].tokens.input, 30_000);
        // 1_500 audio − 500 cached audio = 1_000; output 3_000 is text, audio output 700 beside it
        assert_eq!(records[0].tokens.audio_input, 1_000);
        assert_eq!(
            (records[0].tokens.output, records[0].tokens.audio_output),
            (3_000, 700)
        );
        assert!(records[0].id.ends_with(":gpt-4o:-:-"), "{}", records[0].id);
        // input_uncached_tokens 0 but 50_000 > 20_000 cached: a zero-filled column, legacy rule
        assert_eq!(records[1].tokens.input, 30_000);
        assert!(records[1].batch);
    }

    #[test]
    fn cache_writes_without_a_column_are_what_input_holds_beyond_its_parts() {
        // The export has no input_cache_write_tokens column. Since 2026-07-15 input_tokens 1_000_000 =
        // 500_000 uncached + 400_000 cached + the writes: 100_000, never dropped.
        let csv = format!(
            "{USAGE_HEADER}\n\
             1791000000,1791086400,,,,12,,,gpt-5,,,1000000,0,400000,500000,,,,,,,,,\n"
        );
        let (records, errors) = parse(&csv).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        let t = &records[0].tokens;
        assert_eq!(
            (t.input, t.cache_read, t.cache_write_5m),
            (500_000, 400_000, 100_000)
        );
        assert_eq!(t.prompt_total(), 1_000_000);
    }

    #[test]
    fn bad_cells_name_line_and_column() {
        let csv = format!(
            "{USAGE_HEADER}\n\
             1755648000,1755734400,,,,1,,,gpt-4o,,,10,5,,,,,,,,,,,\n\
             1755648000,1755734400,,,,12.5,,,gpt-4o,,,10,5,,,,,,,,,,,\n\
             1755648000,1755734400,,,,1,,,gpt-4o,maybe,,10,5,,,,,,,,,,,\n\
             1755648000,1755734400,,,,1,,,gpt-4o,,,10,5,11,,,,,,,,,,\n\
             ,,,,,1,,,gpt-4o,,,10,5,,,,,,,,,,,\n"
        );
        let (records, errors) = parse(&csv).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(errors.len(), 4);
        assert_eq!(
            (errors[0].line, errors[0].field.as_deref()),
            (3, Some("num_model_requests"))
        );
        assert!(
            errors[0].message.contains("\"12.5\" is not a whole number"),
            "{}",
            errors[0].message
        );
        assert_eq!(
            (errors[1].line, errors[1].field.as_deref()),
            (4, Some("batch"))
        );
        assert_eq!(
            (errors[2].line, errors[2].field.as_deref()),
            (5, Some("input_cached_tokens"))
        );
        assert!(
            errors[2].message.contains("exceeds `input_tokens` = 10"),
            "{}",
            errors[2].message
        );
        assert_eq!(
            (errors[3].line, errors[3].field.as_deref()),
            (6, Some("start_time"))
        );
    }

    #[test]
    fn cost_rows_share_the_costs_api_id() {
        let (records, errors) = parse(
            "\u{feff}start_time,end_time,start_time_iso,end_time_iso,amount_value,amount_currency,line_item,project_id,organization_id,organization_name\n\
             1791072000,1791158400,2026-10-04T00:00:00+00:00,2026-10-05T00:00:00+00:00,0.1234567890123456789,usd,\"gpt-4o-2024-08-06, input\",proj_Ab12Cd34,org-1,Acme\n\
             1791072000,1791158400,,,,usd,,proj_Ab12Cd34,org-1,Acme\n\
             1791072000,1791158400,,,1.5e-3,usd,web search tool calls,,org-1,Acme\n",
        )
        .unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(records.len(), 2);
        let r = &records[0];
        assert_eq!(r.reported_cost, Some(dec!(0.1234567890123456789)));
        assert_eq!(r.reported_currency.as_deref(), Some("USD"));
        assert_eq!(r.model, "gpt-4o-2024-08-06");
        assert_eq!(r.billing_account.as_deref(), Some("org-1"));
        assert_eq!(r.billing_account_name.as_deref(), Some("Acme"));
        assert!(r.tokens.is_empty());
        assert_eq!(r.requests, 0);
        assert_eq!(
            r.id,
            "openai-costs:1791072000:1791158400:proj_Ab12Cd34:-:gpt-4o-2024-08-06, input"
        );
        assert_eq!(records[1].reported_cost, Some(dec!(0.0015)));
        assert_eq!(records[1].model, "unknown");
    }

    #[test]
    fn a_file_without_a_known_header_is_an_error() {
        let e = parse("a,b,c\n1,2,3\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("not an OpenAI usage or cost CSV export"));
    }

    #[test]
    fn detection() {
        let p = Path::new("x.csv");
        assert!(OpenAiCsv.detect(p, format!("{USAGE_HEADER}\n1,2").as_bytes()));
        assert!(OpenAiCsv.detect(
            p,
            b"\xEF\xBB\xBFstart_time,end_time,amount_value,amount_currency,line_item,project_id\n"
        ));
        assert!(!OpenAiCsv.detect(p, b"request_id,call_type,spend,startTime\n"));
        assert!(!OpenAiCsv.detect(p, br#"{"start_time":1,"num_model_requests":1}"#));
        assert!(!OpenAiCsv.detect(p, b"start_time,end_time\n"));
    }
}
