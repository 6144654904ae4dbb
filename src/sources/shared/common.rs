//! Pieces every importer needs: JSON parsing with field-path errors, splitting a stream into JSON values,
//! CSV rows, and content sniffing for detection. Timestamps and exact decimals live beside the record
//! types (`crate::timestamp`, `crate::decimal`), since more than the importers read them.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::RecordError;
use crate::record::Text;

/// Parses one JSON value. On failure, parses again to find the path of the offending field, so the error
/// reads `field 'usage.prompt_tokens': invalid type: string "12", expected u64`.
///
/// The fast reader of [`super::json`] reads it first; a value outside its subset (and every error) is read
/// again by `serde_json`, so the value or the error is `serde_json`'s either way.
pub fn parse_json<'a, T: Deserialize<'a>>(bytes: &'a [u8], line: u64) -> Result<T, RecordError> {
    if !SERDE_JSON_ONLY.with(std::cell::Cell::get) {
        if let Ok(v) = super::json::from_slice::<T>(bytes) {
            return Ok(v);
        }
    }
    parse_json_slow(bytes, line)
}

/// [`parse_json`] into `place`, which holds `T::default()`: a large value is written where it stays
/// instead of being moved on its way out. On an error `place` holds part of a value.
pub fn parse_json_into<'a, T: super::json::DeserializeInto<'a>>(
    bytes: &'a [u8],
    line: u64,
    place: &mut T,
) -> Result<(), RecordError> {
    if !SERDE_JSON_ONLY.with(std::cell::Cell::get)
        && super::json::from_slice_into(bytes, place).is_ok()
    {
        return Ok(());
    }
    *place = parse_json_slow(bytes, line)?;
    Ok(())
}

/// [`parse_json`] by `serde_json` alone.
fn parse_json_slow<'a, T: Deserialize<'a>>(bytes: &'a [u8], line: u64) -> Result<T, RecordError> {
    match serde_json::from_slice::<T>(bytes) {
        Ok(v) => Ok(v),
        Err(_) => naming_fields(|| {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Ok(v) => Ok(v),
                Err(e) => Err(json_error(e.path().to_string(), e.inner(), line)),
            }
        }),
    }
}

thread_local! {
    static NAMING_FIELDS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static SERDE_JSON_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `parse` with [`parse_json`] reading through `serde_json` alone, as it did before the fast reader:
/// what the fast reader is compared with.
pub fn serde_json_only<T>(parse: impl FnOnce() -> T) -> T {
    SERDE_JSON_ONLY.with(|n| n.set(true));
    let result = parse();
    SERDE_JSON_ONLY.with(|n| n.set(false));
    result
}

/// Runs `parse` as the parse that names the field of an error (with `serde_path_to_error`), during which
/// [`is_naming_fields`] is true.
pub fn naming_fields<T>(parse: impl FnOnce() -> T) -> T {
    NAMING_FIELDS.with(|n| n.set(true));
    let result = parse();
    NAMING_FIELDS.with(|n| n.set(false));
    result
}

/// Whether this thread is naming the field of an error: map keys must then be read as strings, the
/// only keys `serde_path_to_error` records (the first, usual parse reads them as bytes).
pub fn is_naming_fields() -> bool {
    NAMING_FIELDS.with(std::cell::Cell::get)
}

/// Like [`parse_json`] for a whole document: the error's line is the line inside the document.
pub fn parse_json_document<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, RecordError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match naming_fields(|| serde_path_to_error::deserialize::<_, T>(&mut de)) {
        Ok(v) => Ok(v),
        Err(e) => {
            let line = e.inner().line().max(1) as u64;
            Err(json_error(e.path().to_string(), e.inner(), line))
        }
    }
}

fn json_error(path: String, inner: &serde_json::Error, line: u64) -> RecordError {
    let message = strip_position(&inner.to_string())
        .replace("expected u64", "expected a non-negative integer")
        .replace("expected u32", "expected a non-negative integer")
        .replace("expected u16", "expected a non-negative integer");
    let message = if inner.is_syntax() || inner.is_eof() {
        format!("not valid JSON: {message}")
    } else {
        message
    };
    if path.is_empty() || path == "." || inner.is_syntax() || inner.is_eof() {
        RecordError::new(line, message)
    } else {
        RecordError::field(line, path, message)
    }
}

/// Drops serde_json's " at line 1 column 42" suffix (we report our own line) and shortens quoted values:
/// an invalid value may be a whole response body, and prompt or completion text must never be echoed.
fn strip_position(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    crate::sanitize::shorten_quoted(message, 40)
}

/// The complete lines at the start of `head` (the last one may be cut off, so it is dropped unless `head`
/// ends with a newline), skipping blank lines. At most `max` lines.
pub fn head_lines(head: &[u8], max: usize) -> Vec<&[u8]> {
    // Only as far as the lines it returns: detection looks at the first few lines of every file, and
    // splitting a whole 64 KiB head byte by byte cost more than the detection.
    let mut lines = Vec::new();
    let mut rest = head;
    while lines.len() < max {
        let Some(end) = memchr::memchr(b'\n', rest) else {
            // The text after the last new line is cut off, unless there is no new line at all.
            if rest.len() == head.len() {
                let line = trim_ascii(rest);
                if !line.is_empty() {
                    lines.push(line);
                }
            }
            break;
        };
        let line = trim_ascii(&rest[..end]);
        if !line.is_empty() {
            lines.push(line);
        }
        rest = &rest[end + 1..];
    }
    lines
}

/// `bytes` without leading and trailing ASCII white space (including `\r`).
pub fn trim_ascii(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// Whether `haystack` contains `needle`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// Whether the start of a document (after white space) is `{` or `[`.
pub fn looks_like_json(head: &[u8]) -> bool {
    matches!(trim_ascii(head).first(), Some(b'{') | Some(b'['))
}

/// A JSON document that holds no rows whatever its format, so that no importer can recognise it: `[]`,
/// or a page (an object with a `data` array, as the OpenAI and Anthropic Admin APIs and OpenRouter give)
/// whose `data` is empty or holds only time buckets with empty `results`, and whose other values are
/// scalars or empty (pagination: `has_more`, `next_page`). What a script that saves every page of a
/// quiet period writes.
pub fn is_empty_page(doc: &[u8]) -> bool {
    use serde_json::Value;
    fn empty(v: &Value) -> bool {
        match v {
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            _ => true,
        }
    }
    // An empty bucket: empty `results` (or `result`), nothing else but scalars.
    fn empty_bucket(v: &Value) -> bool {
        v.as_object().is_some_and(|o| {
            ["results", "result"].iter().any(|k| {
                o.get(*k)
                    .is_some_and(|r| r.as_array().is_some_and(Vec::is_empty))
            }) && o.values().all(empty)
        })
    }
    match serde_json::from_slice::<Value>(doc) {
        Ok(Value::Array(a)) => a.is_empty(),
        Ok(Value::Object(o)) => {
            o.get("data")
                .and_then(Value::as_array)
                .is_some_and(|data| data.iter().all(empty_bucket))
                && o.iter().all(|(k, v)| k == "data" || empty(v))
        }
        _ => false,
    }
}

/// A key as it appears in compact or spaced JSON: `"key":` or `"key" :`.
pub fn has_key(haystack: &[u8], key: &str) -> bool {
    let quoted = format!("\"{key}\"");
    let mut rest = haystack;
    while let Some(i) = memchr::memmem::find(rest, quoted.as_bytes()) {
        let after = trim_ascii_start(&rest[i + quoted.len()..]);
        if after.first() == Some(&b':') {
            return true;
        }
        rest = &rest[i + quoted.len()..];
    }
    false
}

fn trim_ascii_start(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii_start()
}

/// The column names of a CSV header: the first line of `head`, parsed with CSV quoting and trimmed. `None` when `head` starts like JSON or holds no line. Detectors of CSV exports compare
/// these names with the columns they expect.
pub fn csv_header(head: &[u8]) -> Option<Vec<String>> {
    let line = match memchr::memchr(b'\n', head) {
        Some(i) => &head[..i],
        None => head,
    };
    let line = trim_ascii(line);
    if line.is_empty() || matches!(line.first(), Some(b'{') | Some(b'[')) {
        return None;
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(csv_delimiter(line))
        .from_reader(line);
    let record = reader.records().next()?.ok()?;
    Some(record.iter().map(|f| f.trim().to_owned()).collect())
}

/// The field separator of a CSV file, from its first line: a tab when the line has more tabs than commas
/// (a table copied from a spreadsheet and pasted into a file is tab-separated), else a comma.
pub fn csv_delimiter(first_line: &[u8]) -> u8 {
    let line = match memchr::memchr(b'\n', first_line) {
        Some(i) => &first_line[..i],
        None => first_line,
    };
    let tabs = memchr::memchr_iter(b'\t', line).count();
    let commas = memchr::memchr_iter(b',', line).count();
    if tabs > commas {
        b'\t'
    } else {
        b','
    }
}

/// A CSV reader over `reader` (flexible: short rows are checked by [`for_each_csv_row`]), with the
/// separator of its first line: comma-separated, or tab-separated as pasted from a spreadsheet.
pub fn csv_reader(
    reader: &mut dyn std::io::Read,
) -> Result<csv::Reader<Box<dyn std::io::Read + '_>>, RecordError> {
    use std::io::{BufRead, Read};
    let mut buffered = std::io::BufReader::with_capacity(64 * 1024, reader);
    // The header line (up to 64 KiB of it), whatever size the reads come in.
    let mut first = Vec::new();
    (&mut buffered)
        .take(64 * 1024)
        .read_until(b'\n', &mut first)
        .map_err(|e| RecordError::new(1, format!("cannot read: {e}")))?;
    let delimiter = csv_delimiter(&first);
    let whole: Box<dyn Read + '_> = Box::new(std::io::Cursor::new(first).chain(buffered));
    Ok(csv::ReaderBuilder::new()
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(whole))
}

/// Ids of a file's rows, so that two rows with the same bucket keys in one file (two real rows: a
/// dashboard export may split a bucket) are two records that add up, while the same rows read again
/// from another file (the same export imported twice, overlapping date ranges) are duplicates. The
/// first row of a key keeps the key's id (the id an API page gives the bucket); the n-th repeat in the
/// same file gets `#n`.
#[derive(Default)]
pub struct RowIds {
    seen: std::collections::HashMap<u128, u32>,
}

impl RowIds {
    /// `id`, or `id#n` for its n-th repeat in this file.
    pub fn occurrence(&mut self, id: Text) -> Text {
        let n = self
            .seen
            .entry(xxhash_rust::xxh3::xxh3_128(id.as_bytes()))
            .or_insert(0);
        *n += 1;
        match *n {
            1 => id,
            n => compact_str::format_compact!("{id}#{n}"),
        }
    }

    /// A row's record with its id numbered (see [`RowIds::occurrence`]).
    pub fn number(
        &mut self,
        read: Result<Option<crate::record::UsageRecord>, RecordError>,
    ) -> Result<Option<crate::record::UsageRecord>, RecordError> {
        let mut record = read?;
        if let Some(r) = record.as_mut() {
            r.id = self.occurrence(std::mem::take(&mut r.id));
        }
        Ok(record)
    }
}

/// 1-based line numbers of positions in a document, from one pass over its newlines.
pub struct LineIndex<'a> {
    bytes: &'a [u8],
    newlines: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(bytes: &'a [u8]) -> LineIndex<'a> {
        LineIndex {
            bytes,
            newlines: memchr::memchr_iter(b'\n', bytes).collect(),
        }
    }

    /// The line of `text`, a slice of the document (a `RawValue`'s text); `None` when it lies elsewhere.
    pub fn line_of(&self, text: &str) -> Option<u64> {
        let offset = (text.as_ptr() as usize).checked_sub(self.bytes.as_ptr() as usize)?;
        if offset > self.bytes.len() {
            return None;
        }
        Some(self.newlines.partition_point(|&n| n < offset) as u64 + 1)
    }
}

/// Parses one JSON value found at `path` in a document, starting on `line`. An error names the field by its
/// path in the document (`data[2].native_tokens_prompt`) and the line of that field.
pub fn parse_json_at<'a, T: Deserialize<'a>>(
    text: &'a str,
    path: &str,
    line: u64,
) -> Result<T, RecordError> {
    parse_json::<T>(text.as_bytes(), line).map_err(|mut e| {
        if let Err(inner) = serde_json::from_str::<T>(text) {
            e.line = line.saturating_add((inner.line() as u64).saturating_sub(1));
        }
        e.field = match (path.is_empty(), e.field.take()) {
            (true, field) => field,
            (false, Some(field)) => Some(format!("{path}.{field}")),
            (false, None) => Some(path.to_owned()),
        };
        e
    })
}

/// Rewrites one JSON text so that an object holding the same key more than once keeps only its last
/// value (at the place of the first), as JavaScript's `JSON.parse` reads it; every number and string keeps
/// its exact text. For logs written by JavaScript programs, which may repeat a key in a line.
pub fn last_key_wins(text: &[u8]) -> Result<String, serde_json::Error> {
    let text = std::str::from_utf8(text).map_err(serde::de::Error::custom)?;
    let value: &serde_json::value::RawValue = serde_json::from_str(text)?;
    let mut out = String::with_capacity(text.len());
    write_last_wins(value, &mut out)?;
    Ok(out)
}

/// The entries of one JSON object, in order, keys repeated.
struct Entries<'a>(Vec<(String, &'a serde_json::value::RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Entries<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Entries<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Entries<'a>, M::Error> {
                let mut entries: Vec<(String, &'a serde_json::value::RawValue)> = Vec::new();
                while let Some((key, value)) =
                    map.next_entry::<String, &'de serde_json::value::RawValue>()?
                {
                    match entries.iter_mut().find(|(k, _)| *k == key) {
                        Some(entry) => entry.1 = value,
                        None => entries.push((key, value)),
                    }
                }
                Ok(Entries(entries))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

fn write_last_wins(
    value: &serde_json::value::RawValue,
    out: &mut String,
) -> Result<(), serde_json::Error> {
    let text = value.get().trim();
    match text.as_bytes().first() {
        Some(b'{') => {
            let entries: Entries = serde_json::from_str(text)?;
            out.push('{');
            for (i, (key, value)) in entries.0.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key)?);
                out.push(':');
                write_last_wins(value, out)?;
            }
            out.push('}');
        }
        Some(b'[') => {
            let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(text)?;
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_last_wins(item, out)?;
            }
            out.push(']');
        }
        _ => out.push_str(text),
    }
    Ok(())
}

/// Whether `head` is JSON Lines: its first line is one whole JSON object. Otherwise the file is a JSON
/// document (an object pretty-printed over many lines, or an array of objects), read value by value with
/// [`read_json_values`].
pub fn is_json_lines(head: &[u8]) -> bool {
    let first = head
        .split(|&b| b == b'\n')
        .map(trim_ascii)
        .find(|l| !l.is_empty());
    matches!(first, Some(l) if l.first() == Some(&b'{') && l.last() == Some(&b'}'))
}

/// Reads a JSON document of records value by value (one object, pretty-printed or compact; an array of
/// objects; objects one after another or one per line), parsing each value as a line of JSON Lines with
/// `parser`. The line of a record is the line its value starts on.
pub fn read_json_values(
    parser: &dyn crate::sources::LineParser,
    reader: &mut dyn std::io::Read,
    file: &std::sync::Arc<str>,
    emit: &mut crate::sources::Emit<'_>,
) -> Result<(), RecordError> {
    for_each_json_value(reader, &mut |value, line| {
        let at = crate::record::Provenance {
            file: file.clone(),
            line,
        };
        let mut out = Vec::new();
        // A value without the parser's needle holds no usage, as a line without it.
        if !parser.may_hold_usage(value) {
            return true;
        }
        match parser.parse_line(value, &at, &mut out) {
            Ok(()) => out.into_iter().all(|r| emit(Ok(r))),
            Err(e) => emit(Err(e)),
        }
    })
}

/// The largest JSON record [`for_each_json_value`] holds in memory (as a JSON Lines line).
pub const MAX_VALUE_BYTES: usize = 64 * 1024 * 1024;

/// Splits a stream of JSON records into whole values without holding more than one in memory, whatever the
/// shape exports give them: one per line (JSON Lines), pretty-printed objects one after another (an S3
/// object per record, `jq .` output), or the objects of a top-level JSON array (pretty or compact).
/// Calls `f(value, first_line)` for each top-level object (1-based line of its `{`), and each array
/// inside a top-level array (a row of Logs Insights results), until `f` returns `false`. Anything else at
/// the top level is an error naming its line.
/// A value that is cut off at the end of the input is an error too; a value whose brackets balance but
/// whose content is invalid is left for `f`'s parser to report (see [`parse_json_bytes_at`]).
pub fn for_each_json_value(
    reader: &mut dyn std::io::Read,
    f: &mut dyn FnMut(&[u8], u64) -> bool,
) -> Result<(), RecordError> {
    let mut reader = std::io::BufReader::with_capacity(256 * 1024, reader);
    let mut value: Vec<u8> = Vec::new();
    let (mut line, mut value_line) = (1u64, 1u64);
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    // 0: before any value; 1: inside a top-level array; 2: the top-level array has closed.
    let mut array = 0u8;
    loop {
        let buf = std::io::BufRead::fill_buf(&mut reader)
            .map_err(|e| RecordError::new(line, format!("cannot read: {e}")))?;
        if buf.is_empty() {
            break;
        }
        let consumed = buf.len();
        for &b in buf {
            if depth == 0 {
                match b {
                    b'\n' => line += 1,
                    b' ' | b'\t' | b'\r' => {}
                    b',' if array == 1 => {}
                    b'[' if array == 0 => array = 1,
                    b']' if array == 1 => array = 2,
                    // An array inside the top-level array (a Logs Insights result row) is one value.
                    b'{' | b'[' => {
                        value.clear();
                        value.shrink_to(MAX_VALUE_BYTES / 64);
                        value.push(b);
                        value_line = line;
                        depth = 1;
                    }
                    _ => {
                        return Err(RecordError::new(
                            line,
                            format!(
                                "not valid JSON: expected a JSON object (a record), found '{}'",
                                char::from(b).escape_default()
                            ),
                        ))
                    }
                }
                continue;
            }
            value.push(b);
            if value.len() > MAX_VALUE_BYTES {
                return Err(RecordError::new(
                    value_line,
                    format!(
                        "a record longer than {} MiB: not a usage record",
                        MAX_VALUE_BYTES / (1024 * 1024)
                    ),
                ));
            }
            if b == b'\n' {
                line += 1;
            }
            if in_string {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 && !f(&value, value_line) {
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
        std::io::BufRead::consume(&mut reader, consumed);
    }
    if depth > 0 {
        return Err(RecordError::new(
            value_line,
            "not valid JSON: the record is cut off (EOF while parsing an object)",
        ));
    }
    if array == 1 {
        return Err(RecordError::new(
            line,
            "not valid JSON: the top-level array is not closed",
        ));
    }
    Ok(())
}

/// [`parse_json_at`] for raw bytes that should be UTF-8 text (a record cut out of a stream).
pub fn parse_json_bytes_at<'a, T: Deserialize<'a>>(
    bytes: &'a [u8],
    line: u64,
) -> Result<T, RecordError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| RecordError::new(line, format!("not valid UTF-8 text: {e}")))?;
    parse_json_at(text, "", line)
}

/// The last component of a path, Unix or Windows (`/home/me/src/ranker/` → `ranker`).
pub fn last_component(path: &str) -> Option<Text> {
    // By bytes: both separators are ASCII, so the bounds found are character bounds. (Runs for every
    // line of a Claude Code log.)
    let is_separator = |b: &u8| *b == b'/' || *b == b'\\';
    let bytes = path.as_bytes();
    let end = bytes
        .iter()
        .rposition(|b| !is_separator(b))
        .map_or(0, |i| i + 1);
    let start = bytes[..end]
        .iter()
        .rposition(is_separator)
        .map_or(0, |i| i + 1);
    Some(crate::record::trimmed(&path[start..end]))
        .filter(|c| !c.is_empty())
        .map(Text::from)
}

/// A CSV column name reduced to one spelling: lower case, `.` and spaces as `_`, no quotes
/// (`service.description`, `Service Description` and `service_description` are the same column).
pub fn column_key(name: &str) -> String {
    name.trim()
        .trim_matches('"')
        .trim()
        .to_ascii_lowercase()
        .replace(['.', ' '], "_")
}

/// Reads the data rows of a CSV file (its header already read): calls `row` with each record and its
/// 1-based line, emits what it returns (`Ok(None)`: the row holds no usage), and reports a row the CSV
/// reader cannot read, or one with fewer fields than the header (a row cut short, as the last row of a
/// partial download), as a record error. Stops when `emit` says so; a failed read stops the file.
pub fn for_each_csv_row<R: std::io::Read>(
    csv: &mut csv::Reader<R>,
    emit: &mut crate::sources::Emit<'_>,
    mut row: impl FnMut(
        &csv::StringRecord,
        u64,
    ) -> Result<Option<crate::record::UsageRecord>, RecordError>,
) -> Result<(), RecordError> {
    let mut record = csv::StringRecord::new();
    let width = csv.headers().map_or(0, |h| h.len());
    loop {
        let line = csv.position().line();
        match csv.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                if let csv::ErrorKind::Io(io) = e.kind() {
                    return Err(RecordError::new(line, format!("cannot read: {io}")));
                }
                if !emit(Err(RecordError::new(line, format!("not valid CSV: {e}")))) {
                    return Ok(());
                }
                continue;
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        if record.len() < width {
            let cut = RecordError::new(
                line,
                format!(
                    "the row has {} of the header's {width} fields: cut short (a partial download?)",
                    record.len()
                ),
            );
            if !emit(Err(cut)) {
                return Ok(());
            }
            continue;
        }
        let keep_going = match row(&record, line) {
            Ok(Some(r)) => emit(Ok(r)),
            Ok(None) => true,
            Err(e) => emit(Err(e)),
        };
        if !keep_going {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_page_is_one_with_no_row_anywhere() {
        for empty in [
            "[]",
            " { \"data\": [] } ",
            r#"{"object":"page","data":[],"has_more":false,"next_page":null}"#,
            r#"{"object":"page","data":[{"object":"bucket","start_time":1,"end_time":2,"results":[]}],"has_more":false}"#,
            r#"{"data":[{"starting_at":"2026-10-01T00:00:00Z","result":[]}],"next_page":null}"#,
        ] {
            assert!(is_empty_page(empty.as_bytes()), "{empty}");
        }
        for not in [
            "",
            "{}",
            "[{}]",
            // Rows without arrays (a LiteLLM spend-log array): rows all the same.
            r#"[{"model":"gpt-4o","spend":0.1}]"#,
            r#"{"data":[{"starting_at":"2026-10-01T00:00:00Z","results":[{"uncached_input_tokens":1}]}]}"#,
            r#"{"data":[{"starting_at":"2026-10-01T00:00:00Z"}]}"#,
            r#"{"data":[],"items":[{"cost":1}]}"#,
            r#"{"data":{}}"#,
            r#"{"data":[] "#,
        ] {
            assert!(!is_empty_page(not.as_bytes()), "{not}");
        }
    }

    #[test]
    fn head_lines_are_the_first_complete_lines_that_are_not_blank() {
        // What splitting the whole head gives: every piece between new lines, the last dropped when
        // it is cut off (the head does not end with a new line, and there is more than one piece).
        fn every_line(head: &[u8], max: usize) -> Vec<&[u8]> {
            let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
            if !head.ends_with(b"\n") && lines.len() > 1 {
                lines.pop();
            }
            lines
                .into_iter()
                .map(<[u8]>::trim_ascii)
                .filter(|l| !l.is_empty())
                .take(max)
                .collect()
        }
        let heads: [&[u8]; 10] = [
            b"",
            b"\n",
            b"{\"a\":1}",
            b"  {\"a\":1}  ",
            b"{\"a\":1}\n",
            b"{\"a\":1}\n{\"b\"",
            b"\n\n  \r\n{\"a\":1}\r\n\t\n{\"b\":2}\n{\"c\":3}\n{\"d\"",
            b"one\ntwo\nthree\nfour\nfive\nsix\n",
            b"one\ntwo\n\n\nthree",
            b"   \n   ",
        ];
        for head in heads {
            for max in 0..8 {
                assert_eq!(
                    head_lines(head, max),
                    every_line(head, max),
                    "{head:?} {max}"
                );
            }
        }
    }

    #[test]
    fn a_tab_separated_header_is_told_from_a_comma_separated_one() {
        assert_eq!(csv_delimiter(b"start_time,end_time,model\n1\t2,3"), b',');
        assert_eq!(csv_delimiter(b"start_time\tend_time\tmodel\n"), b'\t');
        assert_eq!(
            csv_header(b"\xEF\xBB\xBFstart_time\tamount_value\tline_item\r\n1\t2\t3"),
            Some(vec![
                "start_time".into(),
                "amount_value".into(),
                "line_item".into()
            ])
        );
    }

    #[test]
    fn the_last_of_a_repeated_key_wins_as_in_javascript() {
        let text = br#"{"a":1,"usage":{"x":1,"x":2.50},"b":[{"k":"v","k":"w"}],"a":0.1000000000000000055511}"#;
        assert_eq!(
            last_key_wins(text).unwrap(),
            r#"{"a":0.1000000000000000055511,"usage":{"x":2.50},"b":[{"k":"w"}]}"#
        );
        assert!(last_key_wins(b"{\"a\":").is_err());
    }

    #[test]
    fn a_repeated_row_id_in_one_file_is_numbered() {
        let mut ids = RowIds::default();
        assert_eq!(ids.occurrence("a".into()), "a");
        assert_eq!(ids.occurrence("b".into()), "b");
        assert_eq!(ids.occurrence("a".into()), "a#2");
        assert_eq!(ids.occurrence("a".into()), "a#3");
    }

    #[test]
    fn errors_name_the_field() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct U {
            prompt_tokens: u64,
        }
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct R {
            usage: U,
        }
        let e = parse_json::<R>(br#"{"usage":{"prompt_tokens":"12"}}"#, 7).unwrap_err();
        assert_eq!(e.line, 7);
        assert_eq!(e.field.as_deref(), Some("usage.prompt_tokens"));
        assert!(
            e.message.contains("expected a non-negative integer"),
            "{}",
            e.message
        );
        let e = parse_json::<R>(br#"{"usage":{"prompt_tokens":1"#, 3).unwrap_err();
        assert!(e.message.starts_with("not valid JSON"), "{}", e.message);
    }

    #[test]
    fn json_values_in_every_shape() {
        let collect = |text: &str| {
            let mut out = Vec::new();
            for_each_json_value(&mut text.as_bytes(), &mut |v, line| {
                out.push((String::from_utf8(v.to_vec()).unwrap(), line));
                true
            })
            .map(|_| out)
        };
        let lines = collect("{\"a\":1}\n\n{\"b\":\"}{\\\"\"}\n").unwrap();
        assert_eq!(
            lines,
            vec![("{\"a\":1}".into(), 1), ("{\"b\":\"}{\\\"\"}".into(), 3)]
        );
        let pretty = collect("{\n  \"a\": {\"x\": [1]}\n}\n{\n \"b\": 2\n}").unwrap();
        assert_eq!(pretty[1].1, 4);
        let array = collect("[\n {\"a\":1},\n {\"a\":2}\n]\n").unwrap();
        assert_eq!(array.iter().map(|v| v.1).collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(collect("{\"a\":").unwrap_err().line, 1);
        assert!(collect("{}\n42\n")
            .unwrap_err()
            .message
            .contains("expected a JSON object"));
        assert!(collect("[{}").is_err());
    }

    #[test]
    fn errors_never_echo_long_text() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct R {
            usage: u64,
        }
        let secret = "the user asked about their medical history in great detail";
        let line = format!(r#"{{"usage":"{secret}"}}"#);
        let e = parse_json::<R>(line.as_bytes(), 1).unwrap_err();
        assert!(!e.message.contains(secret), "{}", e.message);
        assert!(
            e.message
                .contains("\"the user asked about their medical histo…\""),
            "{}",
            e.message
        );
    }

    #[test]
    fn keys_in_compact_and_spaced_json() {
        assert!(has_key(br#"{"type":"assistant"}"#, "type"));
        assert!(has_key(br#"{"type" : "assistant"}"#, "type"));
        assert!(!has_key(br#"{"x":"type"}"#, "type"));
    }
}
