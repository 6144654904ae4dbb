//! Pieces every importer needs: JSON parsing with field-path errors, splitting a stream into JSON values,
//! CSV rows, and content sniffing for detection. Timestamps and exact decimals live beside the record
//! types (`crate::timestamp`, `crate::decimal`), since more than the importers read them.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::RecordError;

/// Parses one JSON value. On failure, parses again to find the path of the offending field, so the error
/// reads `field 'usage.prompt_tokens': invalid type: string "12", expected u64`.
pub fn parse_json<'a, T: Deserialize<'a>>(bytes: &'a [u8], line: u64) -> Result<T, RecordError> {
    match serde_json::from_slice::<T>(bytes) {
        Ok(v) => Ok(v),
        Err(_) => {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Ok(v) => Ok(v),
                Err(e) => Err(json_error(e.path().to_string(), e.inner(), line)),
            }
        }
    }
}

/// Like [`parse_json`] for a whole document: the error's line is the line inside the document.
pub fn parse_json_document<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, RecordError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
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
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    if !head.ends_with(b"\n") && lines.len() > 1 {
        lines.pop();
    }
    lines
        .into_iter()
        .map(trim_ascii)
        .filter(|l| !l.is_empty())
        .take(max)
        .collect()
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
        .from_reader(line);
    let record = reader.records().next()?.ok()?;
    Some(record.iter().map(|f| f.trim().to_owned()).collect())
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

/// The largest JSON record [`for_each_json_value`] holds in memory (as a JSON Lines line).
pub const MAX_VALUE_BYTES: usize = 64 * 1024 * 1024;

/// Splits a stream of JSON records into whole values without holding more than one in memory, whatever the
/// shape exports give them: one per line (JSON Lines), pretty-printed objects one after another (an S3
/// object per record, `jq .` output), or the objects of a top-level JSON array (pretty or compact).
/// Calls `f(value, first_line)` for each top-level object (1-based line of its `{`) until `f` returns
/// `false`. Only objects are records: anything else at the top level is an error naming its line.
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
                    b'{' => {
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
pub fn last_component(path: &str) -> Option<String> {
    path.trim_end_matches(['/', '\\'])
        .rsplit(['/', '\\'])
        .next()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
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
