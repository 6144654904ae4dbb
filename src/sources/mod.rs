//! Importers: one module per input format, all behind the [`Source`] trait.
//!
//! A source says whether a file is its own (`detect`, by content first), and turns the file's lines or
//! document into [`UsageRecord`]s. Walking folders, gunzipping, parallel parsing, deduplication and writing
//! are shared (see `crate::input`), so adding a format means writing one module and one line in [`all`].

use std::path::Path;
use std::sync::Arc;

use crate::error::RecordError;
use crate::record::{Provenance, UsageRecord};

pub mod anthropic_cost;
pub mod anthropic_usage;
pub mod api_log;
pub mod azure_cost;
pub mod bedrock;
pub mod claude_code;
pub mod codex;
pub mod gcp_billing;
pub mod litellm;
pub mod openai_costs;
pub mod openai_csv;
pub mod openai_usage;
pub mod openrouter;
pub mod shared;

/// How a source's files are cut into units to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One JSON value per line; lines are parsed independently (and in parallel).
    JsonLines,
    /// The whole file is one document (a JSON page): it is read into memory, so keep to small files.
    Document,
    /// The source reads the file as a stream (CSV exports that can be large): see
    /// [`Source::parse_stream`].
    Stream,
}

/// What a streaming source hands back for each record: the record, or the error of a malformed one
/// (which `--skip-invalid` may skip). Returns `false` when reading should stop (a fatal error was met).
pub type Emit<'a> = dyn FnMut(Result<UsageRecord, RecordError>) -> bool + 'a;

/// What parsing a document produced: records, and the record-level errors that `--skip-invalid` may skip.
#[derive(Debug, Default)]
pub struct Parsed {
    pub records: Vec<UsageRecord>,
    pub errors: Vec<RecordError>,
}

/// One input format.
pub trait Source: Send + Sync {
    /// The name used by `--source` and shown in reports (`api-log`).
    fn name(&self) -> &'static str;
    /// One line for `aispend sources`: what the source reads.
    fn reads(&self) -> &'static str;
    /// One line for `aispend sources`: how auto-detection recognises it.
    fn detected_by(&self) -> &'static str;
    /// Whether a file is in this format. `head` is the start of the (decompressed) content, up to 64 KiB,
    /// possibly cut in the middle of a line.
    fn detect(&self, path: &Path, head: &[u8]) -> bool;
    fn framing(&self) -> Framing;

    /// `Framing::JsonLines`: parses one line (no trailing newline, never blank). A line that is valid but
    /// holds no usage (a user turn in a chat log) produces nothing.
    fn parse_line(
        &self,
        line: &[u8],
        at: &Provenance,
        out: &mut Vec<UsageRecord>,
    ) -> Result<(), RecordError> {
        let _ = (line, out);
        Err(RecordError::new(
            at.line,
            format!("{} does not read line by line", self.name()),
        ))
    }

    /// `Framing::Document`: parses a whole file. Errors in single records go to `out.errors` (they can be
    /// skipped); an error returned means the document as a whole could not be read.
    fn parse_document(
        &self,
        bytes: &[u8],
        file: &Arc<str>,
        out: &mut Parsed,
    ) -> Result<(), RecordError> {
        let _ = (bytes, file, out);
        Err(RecordError::new(
            1,
            format!("{} does not read whole documents", self.name()),
        ))
    }

    /// `Framing::Stream`: reads the file from `reader` (already gunzipped), calling `emit` for each record
    /// or record-level error, in file order, until it returns `false`. An error returned means the file as
    /// a whole could not be read (a CSV without the expected header).
    fn parse_stream(
        &self,
        reader: &mut dyn std::io::Read,
        file: &Arc<str>,
        emit: &mut Emit<'_>,
    ) -> Result<(), RecordError> {
        let _ = (reader, file, emit);
        Err(not_a_stream(self.name()))
    }
}

/// Default for sources that are not streams.
fn not_a_stream(name: &str) -> RecordError {
    RecordError::new(1, format!("{name} does not read streams"))
}

/// Every importer, in detection order (the most specific first).
pub fn all() -> &'static [&'static dyn Source] {
    &[
        &claude_code::ClaudeCode,
        &codex::Codex,
        &openai_usage::OpenAiUsage,
        &anthropic_usage::AnthropicUsage,
        &bedrock::Bedrock,
        &gcp_billing::GcpBilling,
        &azure_cost::AzureCost,
        &openai_costs::OpenAiCosts,
        &anthropic_cost::AnthropicCost,
        &openai_csv::OpenAiCsv,
        &openrouter::OpenRouter,
        &litellm::LiteLlm,
        &api_log::ApiLog,
    ]
}

/// Looks an importer up by its `--source` name.
pub fn by_name(name: &str) -> Option<&'static dyn Source> {
    all().iter().copied().find(|s| s.name() == name)
}

/// The importer whose `detect` accepts the file, if any. A UTF-8 byte order mark (which editors on
/// Windows add) is not part of the content a detector looks at.
pub fn detect(path: &Path, head: &[u8]) -> Option<&'static dyn Source> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    all().iter().copied().find(|s| s.detect(path, head))
}

/// Test support: reads `text` with a streaming source as the driver would, returning what it emitted
/// (records and record-level errors, in order) or the file-level error.
#[cfg(test)]
pub(crate) fn read_stream(
    source: &dyn Source,
    text: &str,
) -> Result<Vec<Result<UsageRecord, RecordError>>, RecordError> {
    let mut out = Vec::new();
    let file: Arc<str> = Arc::from("test-input");
    source.parse_stream(&mut text.as_bytes(), &file, &mut |item| {
        out.push(item);
        true
    })?;
    Ok(out)
}

/// [`read_stream`], split into records and record-level errors.
#[cfg(test)]
pub(crate) fn read_stream_split(
    source: &dyn Source,
    text: &str,
) -> Result<(Vec<UsageRecord>, Vec<RecordError>), RecordError> {
    let (mut records, mut errors) = (Vec::new(), Vec::new());
    for item in read_stream(source, text)? {
        match item {
            Ok(r) => records.push(r),
            Err(e) => errors.push(e),
        }
    }
    Ok((records, errors))
}
