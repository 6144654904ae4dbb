//! The Admin API page walker: pages of the OpenAI Usage and Costs APIs and the Anthropic usage and cost
//! reports share one envelope, `{data:[{start_time|starting_at, end_time|ending_at, results:[…]}],
//! has_more, next_page}`. A file holds one page, a JSON array of pages, or one page per line; or, as
//! scripts save them, the buckets themselves (`page["data"]` of every page concatenated): an array of
//! buckets, or one bucket per line. Pretty-printed or not.
//!
//! [`read_pages`] walks every result of every bucket, hands each (with its bucket's times, its JSON path
//! and its line) to the importer's own result reader, and collects records and record errors. The OpenAI
//! cost line ([`CostRow`], [`cost_record`]) is here too: the Costs API page and the dashboard's cost CSV
//! export of the same day must carry the same id.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::common;
use crate::error::RecordError;
use crate::record::{DedupPolicy, Provenance, Provider, Text, TokenCounts, UsageRecord};
use crate::sources::Parsed;
use crate::timestamp::Timestamp;

/// Reads every result of the pages in `bytes` with `read`: a record, nothing (a result that holds no
/// usage), or a record error (kept in `out.errors`, so `--skip-invalid` can skip it). A document that does
/// not parse as pages is an error as a whole.
pub fn read_pages<'a>(
    bytes: &'a [u8],
    out: &mut Parsed,
    mut read: impl FnMut(&ResultAt<'a>) -> Result<Option<UsageRecord>, RecordError>,
) -> Result<(), RecordError> {
    for_each_result(bytes, |at| match read(&at) {
        Ok(Some(record)) => out.records.push(record),
        Ok(None) => {}
        Err(e) => out.errors.push(e),
    })
}

/// One result of a usage page, with its bucket and where it sits in the file.
pub struct ResultAt<'a> {
    pub raw: &'a RawValue,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    /// JSON path of the result (`data[2].results[0]`, `[1].data[0].results[3]` in an array of pages).
    pub path: String,
    /// 1-based line of the file where the result starts (always known: results are read in place; if it
    /// ever were not, this would fall back to the 1-based index of the result in the document).
    pub line: u64,
}

impl<'a> ResultAt<'a> {
    /// Parses the result as `T`. An error names the field by its path in the document
    /// (`data[2].results[0].num_model_requests`) and the line of that field.
    pub fn parse<T: Deserialize<'a>>(&self) -> Result<T, RecordError> {
        let text = self.raw.get().as_bytes();
        common::parse_json::<T>(text, self.line).map_err(|mut e| {
            // The line of the offending field: the result's first line plus the lines before it within the result.
            if let Err(inner) = serde_json::from_slice::<T>(text) {
                e.line = self
                    .line
                    .saturating_add((inner.line() as u64).saturating_sub(1));
            }
            e.field = Some(match e.field.take() {
                Some(field) => format!("{}.{field}", self.path),
                None => self.path.clone(),
            });
            e
        })
    }
}

/// A usage page: OpenAI `{object:"page", data, has_more, next_page}`, Anthropic `{data, has_more, next_page}`;
/// or one bucket on its own (a script that kept `page["data"]`), read as a page of that one bucket.
struct Page<'a> {
    data: Vec<Bucket<'a>>,
    /// The document was a bucket, not a page: results are named `results[r]`, not `data[b].results[r]`.
    bare: bool,
}

impl<'de: 'a, 'a> Deserialize<'de> for Page<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Page<'a>, D::Error> {
        /// The keys of a page and of a bucket together: which ones are present says which it is.
        #[derive(Deserialize)]
        struct Either<'a> {
            #[serde(borrow)]
            data: Option<Vec<Bucket<'a>>>,
            #[serde(alias = "starting_at")]
            start_time: Option<Timestamp>,
            #[serde(alias = "ending_at")]
            end_time: Option<Timestamp>,
            #[serde(borrow)]
            results: Option<Vec<&'a RawValue>>,
        }
        // Decided inside the visitor, so that the error carries the page's position.
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Page<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a usage page or a bucket")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Page<'a>, A::Error> {
                let e = Either::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                match (e.data, e.start_time) {
                    (Some(data), _) => Ok(Page { data, bare: false }),
                    (None, Some(start_time)) => Ok(Page {
                        data: vec![Bucket {
                            start_time,
                            end_time: e.end_time,
                            results: e.results,
                        }],
                        bare: true,
                    }),
                    (None, None) => Err(serde::de::Error::custom(
                        "neither a usage page (`data`) nor a bucket (`start_time` or `starting_at`, \
                         `results`)",
                    )),
                }
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// A bucket: OpenAI `start_time`/`end_time` (unix seconds), Anthropic `starting_at`/`ending_at` (RFC 3339).
#[derive(Deserialize)]
struct Bucket<'a> {
    #[serde(alias = "starting_at")]
    start_time: Timestamp,
    #[serde(alias = "ending_at")]
    end_time: Option<Timestamp>,
    /// Each result is kept as raw text and parsed on its own, so one bad result is one record error.
    #[serde(borrow)]
    results: Option<Vec<&'a RawValue>>,
}

/// Calls `f` for every result of every bucket of every page in `bytes`: one page, a JSON array of pages,
/// or pages one per line; buckets may stand in for pages anywhere (an array of buckets, one per line). A document that does not parse as pages is an error with serde's line.
pub fn for_each_result<'a>(
    bytes: &'a [u8],
    mut f: impl FnMut(ResultAt<'a>),
) -> Result<(), RecordError> {
    let mut lines = LineCounter::new(bytes);
    let mut index = 0u64;
    let mut visit = |page_path: Option<usize>, page: Page<'a>| {
        let bare = page.bare;
        for (b, bucket) in page.data.into_iter().enumerate() {
            for (r, raw) in bucket.results.unwrap_or_default().into_iter().enumerate() {
                index += 1;
                let path = match (page_path, bare) {
                    (Some(p), false) => format!("[{p}].data[{b}].results[{r}]"),
                    (None, false) => format!("data[{b}].results[{r}]"),
                    (Some(p), true) => format!("[{p}].results[{r}]"),
                    (None, true) => format!("results[{r}]"),
                };
                let line = lines.line_of(raw.get().as_ptr()).unwrap_or(index);
                f(ResultAt {
                    raw,
                    start: bucket.start_time,
                    end: bucket.end_time,
                    path,
                    line,
                });
            }
        }
    };
    if bytes.trim_ascii_start().first() == Some(&b'[') {
        let pages: Vec<Page<'a>> = match serde_json::from_slice(bytes) {
            Ok(pages) => pages,
            Err(e) => return Err(page_error::<Vec<Page>>(bytes, &e)),
        };
        for (p, page) in pages.into_iter().enumerate() {
            visit(Some(p), page);
        }
        return Ok(());
    }
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Page<'a>>();
    loop {
        let offset = stream.byte_offset();
        match stream.next() {
            None => return Ok(()),
            Some(Ok(page)) => visit(None, page),
            Some(Err(e)) => {
                return Err(page_error::<Page>(
                    bytes.get(offset..).unwrap_or_default(),
                    &e,
                ))
            }
        }
    }
}

/// The error for a page that does not parse: serde's line (of the whole file), and the field path found by
/// parsing `value` (the text from the failing page on) again with path tracking.
fn page_error<'a, T: Deserialize<'a>>(value: &'a [u8], e: &serde_json::Error) -> RecordError {
    let mut message = e.to_string();
    if let Some(i) = message.rfind(" at line ") {
        message.truncate(i);
    }
    let line = (e.line() as u64).max(1);
    if e.is_syntax() || e.is_eof() {
        return RecordError::new(line, format!("not valid JSON: {message}"));
    }
    let mut de = serde_json::Deserializer::from_slice(value);
    match super::common::naming_fields(|| serde_path_to_error::deserialize::<_, T>(&mut de)) {
        Err(pe) if !pe.path().to_string().is_empty() && pe.path().to_string() != "." => {
            RecordError::field(line, pe.path().to_string(), message)
        }
        _ => RecordError::new(line, message),
    }
}

/// Line numbers of positions in a document, counted incrementally (results come in order).
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> LineCounter<'a> {
        LineCounter {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    /// The 1-based line of `ptr`, or `None` when it does not point into the document.
    fn line_of(&mut self, ptr: *const u8) -> Option<u64> {
        let offset = (ptr as usize).checked_sub(self.bytes.as_ptr() as usize)?;
        if offset > self.bytes.len() {
            return None;
        }
        if offset < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        let newlines = memchr::memchr_iter(b'\n', &self.bytes[self.offset..offset]).count();
        self.line = self.line.saturating_add(newlines as u64);
        self.offset = offset;
        Some(self.line)
    }
}

/// The counts of one OpenAI Usage API completions result, from a page or a dashboard CSV row.
#[derive(Debug, Default)]
pub struct CompletionCounts {
    pub input_tokens: u64,
    /// Since 2026-07-15; `None` in older results (then uncached = input − cached − cache write).
    pub input_uncached_tokens: Option<u64>,
    pub input_cached_tokens: u64,
    /// `None` when the result or export does not report it (the dashboard's CSV has no such column).
    pub input_cache_write_tokens: Option<u64>,
    pub input_audio_tokens: u64,
    pub input_cached_audio_tokens: u64,
    pub output_tokens: u64,
    pub output_audio_tokens: u64,
}

impl CompletionCounts {
    /// The counts in disjoint classes. OpenAI documents `input_tokens`/`output_tokens` (and their cached,
    /// uncached and cache-write parts) as TEXT tokens and `input_audio_tokens`/`output_audio_tokens` as
    /// counts of their own (real exports of audio models carry more audio output than text output), so
    /// audio is never taken out of the text counts:
    /// - input = `input_uncached_tokens`, or before 2026-07-15 `input_tokens` − cached − cache write;
    /// - cache read = `input_cached_tokens`; cache write (5m) = `input_cache_write_tokens`, or where it is
    ///   not reported and `input_uncached_tokens` is, what `input_tokens` holds beyond its uncached and
    ///   cached parts (since 2026-07-15 `input_tokens` = uncached + cached + cache write: nothing dropped);
    /// - cached audio input = `input_cached_audio_tokens` (priced at the model's cached audio rate);
    /// - audio input = `input_audio_tokens` − `input_cached_audio_tokens` (the audio count includes its
    ///   cached part, so cached audio is never counted twice);
    /// - output = `output_tokens`, audio output = `output_audio_tokens`.
    ///
    /// `base` is the result's path in its file (`data[0].results[1]`, `""` for a CSV row).
    pub fn tokens(&self, base: &str, line: u64) -> Result<TokenCounts, RecordError> {
        let field = |name: &str| {
            if base.is_empty() {
                name.to_string()
            } else {
                format!("{base}.{name}")
            }
        };
        let audio_input = self
            .input_audio_tokens
            .checked_sub(self.input_cached_audio_tokens)
            .ok_or_else(|| {
                RecordError::field(
                    line,
                    field("input_cached_audio_tokens"),
                    format!(
                        "{} is more than input_audio_tokens ({}), which includes it",
                        self.input_cached_audio_tokens, self.input_audio_tokens
                    ),
                )
            })?;
        let written = match (self.input_cache_write_tokens, self.input_uncached_tokens) {
            (Some(written), _) => written,
            (None, Some(uncached)) => self
                .input_tokens
                .saturating_sub(uncached.saturating_add(self.input_cached_tokens)),
            (None, None) => 0,
        };
        let input = match self.input_uncached_tokens {
            Some(uncached) => uncached,
            None => super::response::subtract(
                (self.input_tokens, "input_tokens"),
                &[
                    (self.input_cached_tokens, "input_cached_tokens"),
                    (written, "input_cache_write_tokens"),
                ],
                base,
                line,
            )?,
        };
        Ok(TokenCounts {
            input,
            cache_read: self.input_cached_tokens,
            cache_read_audio: self.input_cached_audio_tokens,
            cache_write_5m: written,
            output: self.output_tokens,
            audio_input,
            audio_output: self.output_audio_tokens,
            ..TokenCounts::default()
        })
    }
}

/// The id prefix of every OpenAI cost line, whichever file it was read from.
const COST_ID_PREFIX: &str = "openai-costs";

/// One cost line, from the Costs API or the dashboard's cost CSV export.
pub struct CostRow {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub project: Option<Text>,
    pub api_key: Option<Text>,
    pub line_item: Option<Text>,
    pub amount: Decimal,
    pub currency: Option<Text>,
    /// The organization (id, name) when the source names it: the billing account.
    pub organization: Option<(Text, Option<Text>)>,
}

/// The record of one cost line (see the module doc): shared by `openai-costs` and `openai-csv`, so that the
/// API page and the CSV export of the same day carry the same id and are counted once.
pub fn cost_record(source: &'static str, row: CostRow, provenance: Provenance) -> UsageRecord {
    let or_dash = |v: &Option<Text>| v.as_deref().unwrap_or("-").to_owned();
    let id = compact_str::format_compact!(
        "{COST_ID_PREFIX}:{}:{}:{}:{}:{}",
        row.start.timestamp(),
        row.end
            .map_or_else(|| "-".to_owned(), |e| e.timestamp().to_string()),
        or_dash(&row.project),
        or_dash(&row.api_key),
        or_dash(&row.line_item),
    );
    let model = row
        .line_item
        .as_deref()
        .and_then(model_of_line_item)
        .unwrap_or("unknown")
        .into();
    let mut record = UsageRecord::new(id, source, Provider::OpenAI, model, row.start, provenance);
    record.end = row.end;
    record.requests = 0;
    record.reported_cost = Some(row.amount);
    record.reported_currency = Some(
        row.currency
            .map_or_else(|| "USD".into(), |c| c.to_ascii_uppercase()),
    );
    record.project = row.project;
    record.api_key = row.api_key;
    if let Some((id, name)) = row.organization {
        record.billing_account = Some(id);
        record.billing_account_name = name;
    }
    if let Some(item) = row.line_item {
        record.tags.insert("line_item".into(), item);
    }
    record.dedup = DedupPolicy::KeepLargest;
    record
}

/// The model a line item names: the text before the first `", "` when it is one word made of the
/// characters model names use (`gpt-4o-2024-08-06`, `o3`, `ft:gpt-4o-mini:org::id`).
pub fn model_of_line_item(line_item: &str) -> Option<&str> {
    let (head, _) = line_item.split_once(", ")?;
    let head = head.trim();
    let model_like = !head.is_empty()
        && head
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && head
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._:/@".contains(c));
    model_like.then_some(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_in_line_items() {
        for (item, model) in [
            ("gpt-4o-2024-08-06, input", Some("gpt-4o-2024-08-06")),
            ("o3, cached input", Some("o3")),
            ("gpt-4.1-mini, output", Some("gpt-4.1-mini")),
            (
                "ft:gpt-4o-mini-2024-07-18:acme::abc, input",
                Some("ft:gpt-4o-mini-2024-07-18:acme::abc"),
            ),
            ("web search tool calls", None),
            ("File search storage, per GB-day", None),
            (", input", None),
        ] {
            assert_eq!(model_of_line_item(item), model, "{item}");
        }
    }
}
