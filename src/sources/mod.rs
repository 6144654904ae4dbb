//! Importers: one module per input format, all behind the [`Source`] trait.
//!
//! A source says whether a file is its own (`detect`, by content first) and which [`Reader`] the file needs
//! (lines, ordered lines, a document or a stream), and turns the file's lines or document into
//! [`UsageRecord`]s. Walking folders, gunzipping, the byte order mark, chunking and parallel parsing are the
//! driver's (`crate::input`); what importers share is in [`shared`]. Adding a format means writing one
//! module and one line in [`all`].

use std::path::Path;
use std::sync::Arc;

use crate::error::RecordError;
use crate::input::needle::Needle;
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

/// The reader a file needs, chosen by its source from the file's head. Each kind carries the parser it
/// feeds, so a source can only ask for a reader it implements: the driver (`crate::input`) does the rest
/// (gzip, the byte order mark, chunking, carry-over across chunks, line numbers, limits).
pub enum Reader<'a> {
    /// One JSON value per line, each parsed on its own: the driver cuts the file into chunks of whole
    /// lines and parses them in parallel.
    Lines(&'a dyn LineParser),
    /// Lines read in file order by one parser that remembers what earlier lines said (a session log whose
    /// usage lines take their model from an earlier line). Chunking and line numbers are the driver's.
    OrderedLines(Box<dyn OrderedLineParser + 'a>),
    /// The whole file is one document (a JSON page): it is read into memory, so keep to small files.
    Document(&'a dyn DocumentParser),
    /// The source reads the file as a stream (CSV exports and JSON documents that can be large).
    Stream(&'a dyn StreamParser),
}

impl std::fmt::Debug for Reader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Reader::Lines(_) => "Lines",
            Reader::OrderedLines(_) => "OrderedLines",
            Reader::Document(_) => "Document",
            Reader::Stream(_) => "Stream",
        })
    }
}

/// Parses one line of JSON Lines, independently of every other line.
pub trait LineParser: Sync {
    /// Parses one line (no line ending or byte order mark, never blank). A line that is valid but holds no
    /// usage (a user turn in a chat log) produces nothing.
    fn parse_line(
        &self,
        line: &[u8],
        at: &Provenance,
        out: &mut Vec<UsageRecord>,
    ) -> Result<(), RecordError>;

    /// The lines that depend on one another (the events of a streamed response, where a later event
    /// completes an earlier one), and the one parser that reads them in file order. The driver parses
    /// every other line on its own, in parallel, and hands these lines, in file order, to that parser;
    /// their records come out where reading the whole file in order would put them, whatever the chunk
    /// sizes and threads. Asked once per file; `None` (the default): every line stands alone.
    fn in_order(&self) -> Option<InOrder<'_>> {
        None
    }

    /// A needle that every line holding usage holds (`None`, the default: any line may). The other
    /// lines are counted but never handed to [`LineParser::parse_line`], which need not look for it
    /// again: one pass over the bytes finds both the lines and the needle (see [`Needle`]).
    fn only_lines_with(&self) -> Option<&Needle> {
        None
    }

    /// Whether `line` may hold usage: it holds the needle of [`LineParser::only_lines_with`], or there
    /// is none. What the driver's scan decides for each line, for readers that take lines one by one.
    fn may_hold_usage(&self, line: &[u8]) -> bool {
        self.only_lines_with()
            .is_none_or(|needle| needle.holds(line))
    }
}

/// The lines of a [`LineParser`]'s file that must be read in order, and the parser that reads them.
pub struct InOrder<'a> {
    /// Whether a line is one of them: a quick look at its bytes. A line taken that need not be still
    /// reads right, as `parser` reads any line as [`LineParser::parse_line`] does.
    pub takes: fn(&[u8]) -> bool,
    pub parser: Box<dyn OrderedLineParser + 'a>,
}

/// Parses the lines of one file in order, remembering earlier lines (one parser per file).
pub trait OrderedLineParser: Send {
    /// Parses the next line (no line ending or byte order mark, never blank).
    fn parse_line(
        &mut self,
        line: &[u8],
        at: &Provenance,
        out: &mut Vec<UsageRecord>,
    ) -> Result<(), RecordError>;

    /// Called once at the end of the file: hands on what the parser still holds (a streamed request
    /// whose last event never came), or the error of what it could not finish.
    fn finish(&mut self, out: &mut Vec<UsageRecord>) -> Result<(), RecordError> {
        let _ = out;
        Ok(())
    }
}

/// Parses a whole document.
pub trait DocumentParser: Sync {
    /// Parses a whole file (without its byte order mark). Errors in single records go to `out.errors`
    /// (they can be skipped); an error returned means the document as a whole could not be read.
    fn parse_document(
        &self,
        bytes: &[u8],
        file: &Arc<str>,
        out: &mut Parsed,
    ) -> Result<(), RecordError>;
}

/// Reads a file as a stream.
pub trait StreamParser: Sync {
    /// Reads the file from `reader` (gunzipped, without its byte order mark), calling `emit` for each
    /// record or record-level error, in file order, until it returns `false`. An error returned means the
    /// file as a whole could not be read (a CSV without the expected header).
    fn parse_stream(
        &self,
        reader: &mut dyn std::io::Read,
        file: &Arc<str>,
        emit: &mut Emit<'_>,
    ) -> Result<(), RecordError>;
}

/// A JSON document of values (objects pretty-printed one after another, or an array of them), each
/// value read as one line by the line parser it wraps: a source that reads JSON Lines returns
/// `Reader::Stream(&JsonValues(Self))` for the same values saved as a document.
pub struct JsonValues<P>(pub P);

impl<P: LineParser> StreamParser for JsonValues<P> {
    fn parse_stream(
        &self,
        reader: &mut dyn std::io::Read,
        file: &Arc<str>,
        emit: &mut Emit<'_>,
    ) -> Result<(), RecordError> {
        shared::common::read_json_values(&self.0, reader, file, emit)
    }
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
    /// Whether a file is in this format. `head` is the start of the (decompressed) content without a byte
    /// order mark, up to 64 KiB, possibly cut in the middle of a line.
    fn detect(&self, path: &Path, head: &[u8]) -> bool;
    /// The reader this file needs, given its head (as for [`Source::detect`]; possibly shorter, or empty).
    /// Most sources always need the same one; a source reading several layouts picks by the head.
    fn reader(&self, head: &[u8]) -> Reader<'_>;
}

/// An importer shows as its name (a `--source` value in a parsed command line).
impl std::fmt::Debug for dyn Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
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

/// The importer whose `detect` accepts the file, if any. `head` is without its byte order mark.
pub fn detect(path: &Path, head: &[u8]) -> Option<&'static dyn Source> {
    all().iter().copied().find(|s| s.detect(path, head))
}

/// Test support shared by every importer's unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::{LineParser, Parsed, Source};
    use crate::error::{Error, RecordError};
    use crate::input::{read_items, Item, Tuning};
    use crate::record::UsageRecord;

    /// Reads `text` with `source` as the driver reads a file (byte order mark, reader chosen by the head,
    /// lines, ranges checked), returning every record and record-level error in the order the driver
    /// hands them on, or the error that stopped the file.
    pub(crate) fn read_items_of(source: &dyn Source, text: &str) -> Result<Vec<Item>, RecordError> {
        read_items(source, text.as_bytes(), Tuning::default()).map_err(|e| match e {
            Error::Input { record, .. } => record,
            other => RecordError::new(0, other.to_string()),
        })
    }

    /// [`read_items_of`], split into records and record-level errors.
    pub(crate) fn read(source: &dyn Source, text: &str) -> Result<Parsed, RecordError> {
        let mut out = Parsed::default();
        for item in read_items_of(source, text)? {
            match item {
                Ok(r) => out.records.push(r),
                Err(e) => out.errors.push(e),
            }
        }
        Ok(out)
    }

    /// Parses `text` as line `line` of a file with a line parser, as the driver hands a line on (for the
    /// tests of one line's fields; [`read`] reads a whole text as the driver does).
    pub(crate) fn parse_line(
        parser: &dyn LineParser,
        line: u64,
        text: &str,
    ) -> Result<Vec<UsageRecord>, RecordError> {
        let at = crate::record::Provenance {
            file: std::sync::Arc::from("usage.jsonl"),
            line,
        };
        let mut out = Vec::new();
        // As the driver does: a line without the parser's needle is not parsed.
        if parser.may_hold_usage(text.as_bytes()) {
            parser.parse_line(text.as_bytes(), &at, &mut out)?;
        }
        Ok(out)
    }

    /// [`read`] as a pair of records and errors.
    pub(crate) fn read_split(
        source: &dyn Source,
        text: &str,
    ) -> Result<(Vec<UsageRecord>, Vec<RecordError>), RecordError> {
        read(source, text).map(|p| (p.records, p.errors))
    }
}
