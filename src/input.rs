//! Reading input PATHs: walking folders, gunzipping, taking off the byte order mark, detecting each file's
//! format, and reading it with the [`Reader`] its source asks for: lines cut into chunks (parsed in
//! parallel, or in order by one parser), a whole document, or a stream. Records go, in file order, to a
//! [`RecordSink`]. This is the only place that knows about gzip, the byte order mark, chunks, carry-over
//! of a line across chunks and line numbers of JSON Lines; importers only parse.
//!
//! Memory stays flat whatever the input size: a file is read in chunks of a few MiB, at most a small batch
//! of chunks is in flight, and records go to the sink as soon as their batch is parsed.
//!
//! A regular file of a MiB or more is not read but mapped ([`mapped`]): its chunks are slices of the map,
//! parsed where the page cache holds them, without the copy into a buffer that reading makes.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;

use rayon::prelude::*;

use crate::cache::{
    self, Entry, EntryWriter, FileFacts, Hashing, ItemRef, ParseCache, Plan, SharedHasher,
};
use crate::error::{Error, RecordError, Result};
use crate::record::{Provenance, UsageRecord};
use crate::sources::{self, InOrder, LineParser, OrderedLineParser, Parsed, Reader, Source};

use mapped::{shrank_error, Map, MapPolicy, Mapped};
use needle::Needle;

/// Bytes looked at to detect a file's format.
const HEAD_BYTES: usize = 64 * 1024;
/// Target size of one chunk of JSON Lines handed to a parser thread: large enough to keep a thread busy
/// for a while, small enough that the chunks in flight and their records stay a few MiB.
const CHUNK_BYTES: usize = 1024 * 1024;
/// A file of JSON Lines smaller than this is read whole and parsed on one thread, in parallel with the
/// other small files beside it (Claude Code trees are hundreds of such files).
const SMALL_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// The longest line (one JSON Lines record, one CSV row) read: a longer one is an error naming its line
/// instead of an ever-growing buffer (`/dev/zero`, a file with no new line).
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;
/// The largest whole-document file (a JSON page) read into memory.
pub const MAX_DOCUMENT_BYTES: u64 = 1024 * 1024 * 1024;

/// What the sink did with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    Added,
    /// Already present (same id); nothing changed.
    Duplicate,
    /// Already present with fewer tokens; the larger copy replaced it (streaming partials, grown buckets).
    Replaced,
}

/// Where records go: the ledger on import, an aggregation on `report PATH…`.
pub trait RecordSink {
    fn accept(&mut self, record: UsageRecord) -> Result<Accepted>;
    /// How many of the records accepted so far have no price (a running count; the driver takes the
    /// difference per file for the per-file account). Sinks that do not price say 0.
    fn unpriced(&self) -> u64 {
        0
    }
    /// The sink as one that can take a file's sums instead of its records (see [`crate::cache::sums`]).
    fn sums(&mut self) -> Option<&mut dyn crate::cache::sums::SumSink> {
        None
    }
}

/// How to read the inputs.
#[derive(Clone, Default)]
pub struct ReadOptions {
    /// Force one importer instead of detecting.
    pub source: Option<&'static dyn Source>,
    /// Skip malformed records (and count them) instead of failing.
    pub skip_invalid: bool,
    /// Show a progress bar of bytes read (on standard error; the caller decides when, e.g. only on a
    /// terminal).
    pub progress: bool,
    /// Keep what is parsed from each file, and read only what changed since (see [`crate::cache`]).
    pub cache: Option<Arc<ParseCache>>,
}

/// Below this many bytes of input, no progress bar: it would only flicker.
const PROGRESS_MIN_BYTES: u64 = 64 * 1024 * 1024;

/// Counts the bytes read from a file into the progress bar.
struct Counted<R> {
    inner: R,
    bar: indicatif::ProgressBar,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

/// Removes the progress bar when reading ends, however it ends.
struct ClearOnDrop(indicatif::ProgressBar);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// A bar over the total size of the input files, when it is worth showing.
fn progress_bar(inputs: &[Input], options: &ReadOptions) -> Option<indicatif::ProgressBar> {
    if !options.progress {
        return None;
    }
    let total: u64 = inputs
        .iter()
        .filter_map(|i| std::fs::metadata(&i.path).ok())
        .map(|m| m.len())
        .sum();
    if total < PROGRESS_MIN_BYTES {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    let style = indicatif::ProgressStyle::with_template(
        "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {wide_msg}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

/// What happened to one input file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSummary {
    pub path: String,
    pub source: &'static str,
    pub added: u64,
    pub duplicates: u64,
    /// Records that replaced a smaller copy of themselves.
    pub replaced: u64,
    /// Malformed records skipped under `--skip-invalid`.
    pub skipped: u64,
    /// The first skipped record's error, to show the user what was wrong.
    pub first_skipped: Option<String>,
    pub bytes: u64,
    /// The file holds nothing but white space (a warning, not an error, for every command).
    pub empty: bool,
    /// With `empty`: the file is a JSON page of a usage API with no rows in it (see
    /// [`sources::shared::common::is_empty_page`]), not white space.
    pub empty_page: bool,
    /// A line-based file (JSON Lines, CSV) whose last line has no new line: a download cut short? Its
    /// last record was read, but a number cut off mid-way cannot be told from a whole one.
    pub no_final_newline: bool,
    /// Records accepted from this file that have no price (counted by sinks that price).
    pub unpriced: u64,
    /// Lines read (JSON Lines; blank lines not counted): when none of them held a record, says why the
    /// file yielded nothing.
    pub lines: u64,
    /// How the parse cache served the file.
    pub cache: CacheUse,
    /// Why the file's parse cache entry was discarded (damaged), if it was.
    pub cache_note: Option<String>,
}

/// How the parse cache served one file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CacheUse {
    /// Not cached (`--no-cache`, standard input, or the entry was busy).
    #[default]
    Off,
    /// Read in full (and the entry written).
    Read,
    /// Unchanged: every record came from the cache.
    Hit,
    /// Unchanged, and no other file holds its records' ids: its sums came from the cache (see
    /// [`crate::cache::sums`]).
    Summed,
    /// Grew: cached records, then only the new lines.
    Extended,
}

impl FileSummary {
    /// What the user should know about how the file ended, if anything.
    pub fn ending_note(&self) -> Option<&'static str> {
        if self.empty_page {
            Some("the page holds no usage rows (a period with no usage): nothing to read")
        } else if self.empty {
            Some("the file is empty: nothing to read")
        } else if self.no_final_newline {
            Some(
                "the file does not end with a new line: if it was cut short (a partial download), its \
                 last record may be incomplete",
            )
        } else {
            None
        }
    }

    /// Records read from the file, duplicates included.
    pub fn records(&self) -> u64 {
        self.added + self.duplicates + self.replaced
    }

    /// Duplicates merged: copies of a record already read (kept once, or the larger copy kept).
    pub fn merged(&self) -> u64 {
        self.duplicates + self.replaced
    }

    /// Why a file that its source accepted yielded no record at all, when it did not.
    pub fn nothing_read(&self) -> Option<String> {
        if self.empty || self.records() > 0 || self.skipped > 0 {
            return None;
        }
        let why = match self.lines {
            0 => "nothing in it carried token counts".to_string(),
            1 => "its one line carried no token counts".to_string(),
            n => format!("none of its {n} lines carried token counts"),
        };
        Some(format!(
            "read as {}, but it held no usage record ({why}); if it is another format, name it with \
             --source (see `aispend sources`)",
            self.source
        ))
    }

    /// Everything the user must be told about this file (each one a warning, which `--strict` turns
    /// into a failure).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        out.extend(self.ending_note().map(str::to_string));
        out.extend(self.nothing_read());
        if self.skipped > 0 {
            out.push(format!(
                "skipped {} invalid record(s); first: {}",
                self.skipped,
                self.first_skipped.as_deref().unwrap_or("?")
            ));
        }
        if self.unpriced > 0 {
            out.push(format!(
                "{} record(s) have no price: they are listed as unpriced, never counted as $0 \
                 (see `aispend pricing missing`)",
                self.unpriced
            ));
        }
        out
    }
}

/// Files found under a folder that no importer recognised (reported, not fatal).
#[derive(Debug, Clone, Default)]
pub struct ReadSummary {
    pub files: Vec<FileSummary>,
    pub unrecognised: Vec<String>,
}

impl ReadSummary {
    pub fn records(&self) -> u64 {
        self.files
            .iter()
            .map(|f| f.added + f.duplicates + f.replaced)
            .sum()
    }
}

/// One input: a file (found by walking a folder or named directly) or standard input.
#[derive(Debug, Clone)]
struct Input {
    path: PathBuf,
    /// Named on the command line (an unrecognised format is then an error, not a skip).
    explicit: bool,
}

/// Expands PATHs into files: folders recurse (sorted, hidden entries skipped), `-` is standard input.
fn expand(paths: &[PathBuf]) -> Result<Vec<Input>> {
    let mut inputs = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input {
                path: path.clone(),
                explicit: true,
            });
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if !meta.is_dir() {
            inputs.push(Input {
                path: path.clone(),
                explicit: true,
            });
            continue;
        }
        let walker = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walker {
            let entry = entry.map_err(|e| {
                let p = e.path().unwrap_or(path).to_path_buf();
                Error::io(
                    p,
                    e.into_io_error()
                        .unwrap_or_else(|| io::Error::other("cannot walk folder")),
                )
            })?;
            if entry.file_type().is_file() {
                inputs.push(Input {
                    path: entry.into_path(),
                    explicit: false,
                });
            }
        }
    }
    Ok(inputs)
}

/// Remembers the last byte read through it (whether a file ends with a new line).
struct LastByte<R> {
    inner: R,
    last: Arc<AtomicU16>,
}

/// No byte read yet.
const NO_BYTE: u16 = u16::MAX;

impl<R: Read> Read for LastByte<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.last.store(u16::from(buf[n - 1]), Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// Fails a read once more than [`MAX_LINE_BYTES`] have passed without a new line, so that a streaming
/// parser (CSV, JSON values) cannot buffer one endless line.
struct LineGuard<R> {
    inner: R,
    since_newline: usize,
}

impl<R: Read> Read for LineGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        match memchr::memrchr(b'\n', &buf[..n]) {
            Some(i) => self.since_newline = n - i - 1,
            None => self.since_newline += n,
        }
        if self.since_newline > MAX_LINE_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, line_too_long()));
        }
        Ok(n)
    }
}

/// Ends lines with `\n` alone: a `\r` right before a `\n` is dropped, any other `\r` kept. Streams read
/// through it, so that a source sees the same bytes, and counts the same lines, whether a file was saved
/// with `\r\n` or `\n` (the CSV reader counts the lines of `\r\n` files one short).
struct Lf<R> {
    inner: R,
    /// A `\r` ended the last buffer: whether it is kept depends on the next byte.
    cr: bool,
}

impl<R: BufRead> Read for Lf<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                // End of input: a `\r` held back is a byte like any other.
                return Ok(if std::mem::take(&mut self.cr) {
                    out[0] = b'\r';
                    1
                } else {
                    0
                });
            }
            let mut written = 0;
            if std::mem::take(&mut self.cr) && buf[0] != b'\n' {
                out[0] = b'\r';
                written = 1;
            }
            let mut i = 0;
            while i < buf.len() && written < out.len() {
                // Copy up to the next `\r` in one go.
                let take = (buf.len() - i).min(out.len() - written);
                let run = memchr::memchr(b'\r', &buf[i..i + take]).unwrap_or(take);
                out[written..written + run].copy_from_slice(&buf[i..i + run]);
                written += run;
                i += run;
                if run == take {
                    break;
                }
                // At a `\r` (and `out` has room for it, as `run < take`).
                i += 1;
                match buf.get(i) {
                    Some(b'\n') => {}
                    Some(_) => {
                        out[written] = b'\r';
                        written += 1;
                    }
                    None => {
                        self.cr = true;
                        break;
                    }
                }
            }
            self.inner.consume(i);
            if written > 0 {
                return Ok(written);
            }
        }
    }
}

/// The message for a line over [`MAX_LINE_BYTES`].
fn line_too_long() -> String {
    format!(
        "a line longer than {} MiB (no new line): not a usage record",
        MAX_LINE_BYTES / (1024 * 1024)
    )
}

/// The error for a line over [`MAX_LINE_BYTES`] at `line` of `file`.
fn line_too_long_at(file: &str, line: u64) -> Error {
    Error::Input {
        file: file.to_string(),
        record: RecordError::new(line, line_too_long()),
    }
}

/// Opens a file (or stdin for `-`), transparently gunzipping when it starts with the gzip magic bytes.
/// `last` is kept up to date with the last (decompressed) byte read.
fn open(
    path: &Path,
    bar: Option<&indicatif::ProgressBar>,
    last: &Arc<AtomicU16>,
    hasher: Option<SharedHasher>,
) -> Result<Box<dyn BufRead + Send>> {
    let raw: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let file: Box<dyn Read + Send> = match hasher {
            Some(hasher) => Box::new(Hashing {
                inner: file,
                hasher,
            }),
            None => Box::new(file),
        };
        match bar {
            Some(bar) => Box::new(Counted {
                inner: file,
                bar: bar.clone(),
            }),
            None => Box::new(file),
        }
    };
    decode(raw, last).map_err(|e| Error::io(path, e))
}

/// The content of `raw`: gunzipped when it starts with the gzip magic bytes (one or more gzip members),
/// else as it is. `last` is kept up to date with the last content byte read.
fn decode(raw: Box<dyn Read + Send>, last: &Arc<AtomicU16>) -> io::Result<Box<dyn BufRead + Send>> {
    let mut reader = BufReader::with_capacity(256 * 1024, raw);
    let magic = reader.fill_buf()?;
    let decoded: Box<dyn Read + Send> = if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(reader))
    } else {
        Box::new(reader)
    };
    let tracked = LastByte {
        inner: decoded,
        last: last.clone(),
    };
    Ok(Box::new(BufReader::with_capacity(256 * 1024, tracked)))
}

/// The first bytes of a gzip member.
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

/// Reads up to `n` bytes (fewer only at end of input).
fn read_up_to(reader: &mut dyn Read, buf: &mut Vec<u8>, n: usize) -> io::Result<()> {
    // `read_to_end` reads into the spare capacity without zero-filling `n` bytes first.
    reader.take(n as u64).read_to_end(buf).map(|_| ())
}

fn display(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    }
}

/// Reads every input and hands each record to `sink`. `on_file` sees each file's summary when it is done.
/// The first malformed record stops everything with an error naming file and line, unless
/// `skip_invalid`; the caller decides what a failure means for what the sink already took (the ledger
/// rolls back).
pub fn read_inputs(
    paths: &[PathBuf],
    options: ReadOptions,
    sink: &mut dyn RecordSink,
    on_file: &mut dyn FnMut(&FileSummary),
) -> Result<ReadSummary> {
    let inputs = expand(paths)?;
    let bar = progress_bar(&inputs, &options);
    let _clear = bar.clone().map(ClearOnDrop);
    let earlier = match summed::read(&inputs, &options, bar.as_ref(), sink, on_file)? {
        summed::Outcome::Read(summary) => return Ok(summary),
        summed::Outcome::Again(earlier) => earlier,
        summed::Outcome::NotUsed => Vec::new(),
    };
    // Files read before the sums had to be given up were served then as the first read says.
    let served = |f: &mut FileSummary| {
        if let Some(e) = earlier.iter().find(|e| e.path == f.path) {
            f.cache = e.cache;
            f.cache_note.clone_from(&e.cache_note);
        }
    };
    let mut summary = ReadSummary::default();
    let mut on_file = |f: &FileSummary| {
        let mut f = f.clone();
        served(&mut f);
        on_file(&f)
    };
    read_all(
        &inputs,
        &options,
        bar.as_ref(),
        sink,
        &mut summary,
        &mut on_file,
        false,
    )?;
    summary.files.iter_mut().for_each(served);
    Ok(summary)
}

/// Reads `inputs` in order, each through its cache entry when there is one. With `to_cache`, only the
/// files whose entry will then hold what was read (not an unchanged one, not one without an entry).
fn read_all(
    inputs: &[Input],
    options: &ReadOptions,
    bar: Option<&indicatif::ProgressBar>,
    sink: &mut dyn RecordSink,
    summary: &mut ReadSummary,
    on_file: &mut dyn FnMut(&FileSummary),
    to_cache: bool,
) -> Result<()> {
    let mut rest = inputs;
    while !rest.is_empty() {
        // A run of small files is read and parsed on the worker threads (one file per thread), each
        // handed on in order as soon as it and those before it are done, while the workers go on with
        // the files after it; a larger file is read alone, its chunks parsed in parallel. A file its
        // cache entry serves (unchanged or grown) is never parsed by a worker.
        let sizes = small_run(rest);
        if sizes.len() < 2 {
            let input = &rest[0];
            rest = &rest[1..];
            let (entry, plan) = cache_entry(input, options);
            read_here(
                input, entry, plan, options, bar, sink, summary, on_file, to_cache,
            )?;
            continue;
        }
        let (run, after) = rest.split_at(sizes.len());
        rest = after;
        let files: Vec<(&Input, u64)> = run.iter().zip(sizes).collect();
        ordered::for_each_ordered(
            &files,
            |&(_, size)| size,
            AHEAD,
            |_, &(input, _)| {
                let (entry, plan) = cache_entry(input, options);
                let read =
                    matches!(plan, None | Some(Plan::Read)) && !(to_cache && entry.is_none());
                let parsed = read
                    .then(|| {
                        let hasher = entry.as_ref().map(|_| SharedHasher::default());
                        SmallFile::read(input, options, bar, hasher, MapPolicy::default())
                    })
                    .flatten();
                (entry, plan, parsed)
            },
            |i, (mut entry, plan, parsed)| match parsed {
                Some(parsed) => {
                    if let Some(bar) = bar {
                        bar.set_message(parsed.name.clone());
                    }
                    parsed.hand_on(options, sink, summary, on_file, entry.as_mut())
                }
                None => read_here(
                    files[i].0, entry, plan, options, bar, sink, summary, on_file, to_cache,
                ),
            },
        )?;
    }
    Ok(())
}

/// Reads a file on this thread, through its cache entry when the entry serves it, else in full; with
/// `to_cache`, only a file whose entry will then hold what was read.
#[allow(clippy::too_many_arguments)]
fn read_here(
    input: &Input,
    mut entry: Option<Entry>,
    plan: Option<Plan>,
    options: &ReadOptions,
    bar: Option<&indicatif::ProgressBar>,
    sink: &mut dyn RecordSink,
    summary: &mut ReadSummary,
    on_file: &mut dyn FnMut(&FileSummary),
    to_cache: bool,
) -> Result<()> {
    if to_cache && (entry.is_none() || matches!(plan, Some(Plan::Replay))) {
        return Ok(());
    }
    read_entry(
        input,
        entry.as_mut().zip(plan),
        options,
        bar,
        sink,
        summary,
        on_file,
    )
}

/// How far the workers reading a run of small files may run ahead of the file being handed on: this many
/// files of this many bytes in all (a file's records are held until it is handed on).
const AHEAD: ordered::Ahead = ordered::Ahead {
    items: 32,
    weight: 32 * 1024 * 1024,
};

/// The sizes of the first inputs that are small files (below [`SMALL_FILE_BYTES`]), read in parallel: empty
/// when the first is not one.
fn small_run(inputs: &[Input]) -> Vec<u64> {
    let mut sizes = Vec::new();
    for input in inputs {
        match std::fs::metadata(&input.path) {
            Ok(m) if m.is_file() && input.path.as_os_str() != "-" && m.len() < SMALL_FILE_BYTES => {
                sizes.push(m.len())
            }
            _ => break,
        }
    }
    sizes
}

thread_local! {
    /// The buffer a small file is read into, reused file after file on each worker thread: a fresh one
    /// for every file of a Claude Code tree cost more in page faults and zeroing than the parse.
    static SMALL_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reads a small regular file whole into `buf` (cleared first), straight from the file into a buffer of
/// the file's size. `Ok(false)` when it must be read the general way: gzipped, or grown to
/// [`SMALL_FILE_BYTES`] since it was listed.
fn read_plain(path: &Path, buf: &mut Vec<u8>) -> io::Result<bool> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    if len >= SMALL_FILE_BYTES {
        return Ok(false);
    }
    buf.clear();
    // One byte over, so that reading to the end never grows the buffer to look for more.
    buf.reserve(len as usize + 1);
    (&mut file).take(SMALL_FILE_BYTES).read_to_end(buf)?;
    Ok(buf.len() < SMALL_FILE_BYTES as usize && !buf.starts_with(GZIP_MAGIC))
}

/// A small file of JSON lines, read whole and parsed on a worker thread: exactly what [`read_one`] would
/// hand on, ready to be handed on in order.
struct SmallFile {
    name: String,
    source: &'static dyn Source,
    /// What parsing gave, in order (each result's errors are handed on before its records). Kept as
    /// parsed: gathering the records into one list of items copied every record once more.
    results: Vec<ChunkResult>,
    /// Its bytes, with the byte order mark.
    bytes: u64,
    next_line: u64,
    /// Some lines were read in order (see [`Ending::in_order`]).
    in_order: bool,
    last: Arc<AtomicU16>,
    hasher: Option<SharedHasher>,
    /// Read from a map, the file shrank under it: it fails (see [`mapped`]).
    shrank: bool,
}

impl SmallFile {
    /// Reads and parses the file, or `None` when it is to be read the ordinary way (an error, an empty
    /// or unrecognised file, a reader other than independent lines, content of [`SMALL_FILE_BYTES`] or more). The whole file is one chunk: its errors are handed on
    /// before its records, which changes nothing but the order in which a file's errors and records
    /// interleave. A file that `policy` maps is parsed straight from its map.
    fn read(
        input: &Input,
        options: &ReadOptions,
        bar: Option<&indicatif::ProgressBar>,
        hasher: Option<SharedHasher>,
        policy: MapPolicy,
    ) -> Option<SmallFile> {
        if let Some(map) = map_file(&input.path, policy) {
            return SmallFile::read_mapped(input, options, &map, bar, hasher);
        }
        let last = Arc::new(AtomicU16::new(NO_BYTE));
        let mut content = SMALL_BUFFER.with_borrow_mut(std::mem::take);
        let small = if read_plain(&input.path, &mut content).unwrap_or(false) {
            SmallFile::take_in(&content, bar, &last, hasher.as_ref());
            // The head a source is detected by, as `read_head` reads it.
            let head = content.len().min(HEAD_BYTES);
            SmallFile::parse(input, options, &content, head, last, hasher)
        } else {
            content.clear();
            SMALL_BUFFER.with_borrow_mut(|b| *b = std::mem::take(&mut content));
            let mut reader = open(&input.path, bar, &last, hasher.clone()).ok();
            let read = reader.as_mut().and_then(|reader| {
                let (mut head, _) = read_head(reader, Tuning::default()).ok()?;
                // Read to the end, but no further than the size that makes a file small (a file that
                // grew, or gzipped content that is larger).
                let limit = SMALL_FILE_BYTES as usize;
                let want = limit - head.len().min(limit);
                let len = head.len();
                read_up_to(reader, &mut head, want).ok()?;
                Some((head, len))
            });
            match read {
                Some((whole, head)) if whole.len() < SMALL_FILE_BYTES as usize => {
                    content = whole;
                    SmallFile::parse(input, options, &content, head, last, hasher)
                }
                _ => None,
            }
        };
        // The buffer goes back for the next small file this thread reads.
        if content.capacity() > 0 {
            content.clear();
            SMALL_BUFFER.with_borrow_mut(|b| {
                if b.capacity() < content.capacity() {
                    *b = content;
                }
            });
        }
        small
    }

    /// [`SmallFile::read`] of a mapped file: parsed straight from the map. A file that shrank under the map
    /// fails (see [`mapped`]), unless what is left of it cannot be read here at all (its format is no
    /// longer recognised): it is then read again the ordinary way, as it now is.
    fn read_mapped(
        input: &Input,
        options: &ReadOptions,
        map: &Map,
        bar: Option<&indicatif::ProgressBar>,
        hasher: Option<SharedHasher>,
    ) -> Option<SmallFile> {
        let content = map.bytes();
        if content.len() as u64 >= SMALL_FILE_BYTES {
            return None;
        }
        let last = Arc::new(AtomicU16::new(NO_BYTE));
        SmallFile::take_in(content, bar, &last, hasher.as_ref());
        let head = content.len().min(HEAD_BYTES);
        let mut small = SmallFile::parse(input, options, content, head, last, hasher)?;
        if map.shrank() {
            // Nothing read from zeros is handed on: the file fails instead.
            small.results.clear();
            small.shrank = true;
        }
        Some(small)
    }

    /// Counts a small file's raw content on the progress bar, hashes it and notes its last byte, as
    /// reading it through [`open`] does.
    fn take_in(
        content: &[u8],
        bar: Option<&indicatif::ProgressBar>,
        last: &AtomicU16,
        hasher: Option<&SharedHasher>,
    ) {
        if let Some(bar) = bar {
            bar.inc(content.len() as u64);
        }
        if let Some(hasher) = hasher {
            if let Ok(mut h) = hasher.lock() {
                h.update(content);
            }
        }
        if let Some(&byte) = content.last() {
            last.store(u16::from(byte), Ordering::Relaxed);
        }
    }

    /// Parses a small file's whole content (byte order mark and all), of which the first `head` bytes are
    /// the head its source is detected by.
    fn parse(
        input: &Input,
        options: &ReadOptions,
        content: &[u8],
        head: usize,
        last: Arc<AtomicU16>,
        hasher: Option<SharedHasher>,
    ) -> Option<SmallFile> {
        if content.trim_ascii().is_empty() {
            return None;
        }
        let bom = if content.starts_with(BOM) {
            BOM.len()
        } else {
            0
        };
        let (head, content) = (&content[bom..head], &content[bom..]);
        let source = match options.source {
            Some(s) => s,
            None => sources::detect(&input.path, head)?,
        };
        let Reader::Lines(parser) = source.reader(head) else {
            return None;
        };
        let name = display(&input.path);
        let file: Arc<str> = Arc::from(name.as_str());
        // The whole file is one chunk, read as `produce_batches` reads a file of one chunk; its lines
        // are counted as it is parsed, not before.
        let chunk = Chunk {
            first_line: 1,
            bytes: content,
            counted: false,
        };
        let mut in_order = parser.in_order();
        let takes = in_order.as_ref().map(|o| o.takes);
        let mut result = parse_chunk(
            &file,
            &chunk,
            takes,
            parser.only_lines_with(),
            |l, at, out| parser.parse_line(l, at, out),
        );
        let next_line = result.next_line;
        let mut results = Vec::with_capacity(2);
        if let Some(in_order) = in_order.as_mut() {
            read_set_aside(in_order.parser.as_mut(), &file, &mut result);
            results.push(result);
            results.push(finish_in_order(in_order.parser.as_mut()));
        } else {
            results.push(result);
        }
        let read_in_order = results.iter().any(|r| r.in_order > 0);
        Some(SmallFile {
            name,
            source,
            results,
            bytes: (bom + content.len()) as u64,
            next_line,
            in_order: read_in_order,
            last,
            hasher,
            shrank: false,
        })
    }

    /// Hands the records on in order, as [`read_one`] does.
    fn hand_on(
        self,
        options: &ReadOptions,
        sink: &mut dyn RecordSink,
        summary: &mut ReadSummary,
        on_file: &mut dyn FnMut(&FileSummary),
        entry: Option<&mut Entry>,
    ) -> Result<()> {
        if self.shrank {
            return Err(Error::io(&self.name, shrank_error()));
        }
        let results = self.results;
        let done = Done {
            source: self.source,
            bom: 0,
            is_document: false,
            is_lines: true,
            last: self.last,
        };
        let ending = Ending {
            bytes: Some(self.bytes),
            next_line: self.next_line,
            lines: results.iter().map(|r| r.lines).sum(),
            in_order: self.in_order,
        };
        let path = PathBuf::from(&self.name);
        hand_on_file(
            self.name,
            &path,
            done,
            options,
            sink,
            summary,
            on_file,
            entry.zip(self.hasher),
            |on_item| {
                for result in results {
                    result
                        .errors
                        .into_iter()
                        .map(Err)
                        .try_for_each(&mut *on_item)?;
                    result
                        .records
                        .into_iter()
                        .map(Ok)
                        .try_for_each(&mut *on_item)?;
                }
                Ok(ending)
            },
        )
    }
}

/// The input's cache entry and how it can be read, when there is a cache.
fn cache_entry(input: &Input, options: &ReadOptions) -> (Option<Entry>, Option<Plan>) {
    let mut entry = match &options.cache {
        Some(cache) if input.path.as_os_str() != "-" => {
            cache.entry(&input.path, options.source.map(|s| s.name()))
        }
        _ => None,
    };
    let plan = entry.as_mut().map(Entry::plan);
    (entry, plan)
}

/// Reads one input file (through its cache entry, when there is one) and hands each record to `sink`.
fn read_file(
    input: &Input,
    options: &ReadOptions,
    bar: Option<&indicatif::ProgressBar>,
    sink: &mut dyn RecordSink,
    summary: &mut ReadSummary,
    on_file: &mut dyn FnMut(&FileSummary),
) -> Result<()> {
    let (entry, plan) = cache_entry(input, options);
    read_here(
        input, entry, plan, options, bar, sink, summary, on_file, false,
    )
}

/// Reads one input file on this thread: from its cache entry when the entry serves it, else in full (its
/// chunks parsed in parallel), writing the entry.
fn read_entry(
    input: &Input,
    entry: Option<(&mut Entry, Plan)>,
    options: &ReadOptions,
    bar: Option<&indicatif::ProgressBar>,
    sink: &mut dyn RecordSink,
    summary: &mut ReadSummary,
    on_file: &mut dyn FnMut(&FileSummary),
) -> Result<()> {
    let name = display(&input.path);
    if let Some(bar) = bar {
        bar.set_message(name.clone());
    }
    let mut entry = match entry {
        Some((entry, plan)) => {
            if !matches!(plan, Plan::Read)
                && read_cached(entry, plan, input, &name, options, sink, summary, on_file)?
            {
                return Ok(());
            }
            Some(entry)
        }
        None => None,
    };
    let hasher: Option<SharedHasher> = entry.as_ref().map(|_| SharedHasher::default());
    let last = Arc::new(AtomicU16::new(NO_BYTE));
    let map = map_file(&input.path, MapPolicy::default());
    let rest = match &map {
        Some(map) => Rest::Mapped(Mapped::new(map, hasher.clone(), bar, last.clone())),
        None => Rest::Read(open(&input.path, bar, &last, hasher.clone())?),
    };
    let opened = Opened {
        input,
        name,
        rest,
        last,
    };
    read_one(
        opened,
        options,
        Tuning::default(),
        sink,
        summary,
        on_file,
        entry.take().zip(hasher),
    )
}

/// Reads a file from its cache entry, when the entry is current (every record from the cache) or the file
/// only grew (the cached records, then the new lines). Returns `false` when the file must be read in full.
#[allow(clippy::too_many_arguments)]
fn read_cached(
    entry: &mut Entry,
    plan: Plan,
    input: &Input,
    name: &str,
    options: &ReadOptions,
    sink: &mut dyn RecordSink,
    summary: &mut ReadSummary,
    on_file: &mut dyn FnMut(&FileSummary),
) -> Result<bool> {
    let Some(source) = entry.source().and_then(sources::by_name) else {
        return Ok(false);
    };
    // A grown file is read on from where it ended only with a reader that parses each line on its own.
    let extend = match plan {
        Plan::Extend {
            offset,
            next_line,
            hasher,
        } => {
            let mut file = File::open(&input.path).map_err(|e| Error::io(&input.path, e))?;
            let (mut head, _) =
                read_head(&mut file, Tuning::default()).map_err(|e| Error::io(&input.path, e))?;
            strip_bom(&mut head);
            match source.reader(&head) {
                Reader::Lines(parser) => Some((parser, offset, next_line, hasher)),
                _ => return Ok(false),
            }
        }
        _ => None,
    };
    let file: Arc<str> = Arc::from(name);
    let (cached_bytes, cached_no_newline, cached_lines) = entry.cached_bytes();
    let mut fs = FileSummary {
        path: name.to_string(),
        source: source.name(),
        bytes: cached_bytes,
        no_final_newline: cached_no_newline,
        lines: cached_lines,
        cache: CacheUse::Hit,
        ..FileSummary::default()
    };
    let skip_invalid = options.skip_invalid;
    let unpriced_before = sink.unpriced();
    // A grown file's entry is extended: its sums are those of every record, the replayed ones too.
    let mut writer = extend.as_ref().and_then(|_| entry.writer(true).ok());
    let replayed = entry.replay(&mut |item| {
        let item = match item {
            cache::Item::Record(mut record) => {
                record.source = source.name();
                record.provenance.file = file.clone();
                Ok(record)
            }
            cache::Item::Error(e) => Err(e),
        };
        if let Some(w) = writer.as_mut() {
            w.replayed(&item);
        }
        hand_on(item, sink, &mut fs, skip_invalid)
    })?;
    if !replayed {
        return Ok(false);
    }
    if let Some((parser, offset, next_line, hasher)) = extend {
        let mut raw = File::open(&input.path).map_err(|e| Error::io(&input.path, e))?;
        raw.seek(io::SeekFrom::Start(offset))
            .map_err(|e| Error::io(&input.path, e))?;
        let hasher = SharedHasher::new(std::sync::Mutex::new(hasher));
        let last = Arc::new(AtomicU16::new(NO_BYTE));
        let rest: Box<dyn BufRead + Send> = Box::new(BufReader::with_capacity(
            256 * 1024,
            LastByte {
                inner: Hashing {
                    inner: raw,
                    hasher: hasher.clone(),
                },
                last: last.clone(),
            },
        ));
        let content = Content {
            file: &file,
            path: &input.path,
            name: source.name(),
            head: Vec::new(),
            first_line: next_line,
            rest: Rest::Read(rest),
            tuning: Tuning::default(),
        };
        let ending = read_into(
            |on_item| read_content(Reader::Lines(parser), content, on_item),
            source.name(),
            Some(entry),
            &mut writer,
            sink,
            &mut fs,
            skip_invalid,
        )?;
        fs.bytes += ending.bytes.unwrap_or(0);
        fs.lines += ending.lines;
        let last = last.load(Ordering::Relaxed);
        if last != NO_BYTE {
            fs.no_final_newline = last != u16::from(b'\n');
        }
        fs.cache = CacheUse::Extended;
        if let Some(w) = writer {
            let facts = FileFacts {
                extended: true,
                resumable: !fs.no_final_newline,
                next_line: ending.next_line,
                bytes: fs.bytes,
                lines: fs.lines,
                no_final_newline: fs.no_final_newline,
                content_hash: digest(&hasher),
            };
            // The entry is only an optimisation: failing to write it never fails the read.
            let _ = entry.commit(w, source.name(), facts);
        }
    }
    fs.cache_note = entry.damaged().map(str::to_owned);
    fs.unpriced = sink.unpriced().saturating_sub(unpriced_before);
    on_file(&fs);
    summary.files.push(fs);
    Ok(true)
}

/// Hands the items `read` produces to `sink`, writing every item to `writer` too (the file's cache entry,
/// when it has one); a read that fails leaves the entry as it was.
fn read_into(
    read: impl FnOnce(&mut dyn FnMut(Item) -> Result<()>) -> Result<Ending>,
    source: &'static str,
    entry: Option<&Entry>,
    writer: &mut Option<EntryWriter>,
    sink: &mut dyn RecordSink,
    fs: &mut FileSummary,
    skip_invalid: bool,
) -> Result<Ending> {
    let read = read(&mut |item| {
        if let Some(w) = writer.as_mut() {
            w.push(ItemRef::of(&item, source));
        }
        hand_on(item, sink, fs, skip_invalid)
    });
    if read.is_err() {
        if let (Some(entry), Some(w)) = (entry, writer.take()) {
            entry.abandon(w);
        }
    }
    read
}

/// The hash of every raw byte `hasher` saw.
fn digest(hasher: &SharedHasher) -> u64 {
    hasher.lock().map_or(0, |h| h.digest())
}

/// Hands one record (or record error) to the sink and counts it in the file's summary.
fn hand_on(
    item: Item,
    sink: &mut dyn RecordSink,
    fs: &mut FileSummary,
    skip_invalid: bool,
) -> Result<()> {
    match item {
        Ok(record) => sink.accept(record).map(|a| count(a, fs)),
        Err(e) => take_errors(vec![e], skip_invalid, fs),
    }
}

/// Reads one in-memory file exactly as [`read_inputs`] reads a file named on the command line (the same
/// gunzipping, detection, readers, limits and checks), under the display name `name`. For fuzzing and
/// tests.
pub fn read_bytes(
    name: &str,
    bytes: &[u8],
    options: ReadOptions,
    sink: &mut dyn RecordSink,
) -> Result<ReadSummary> {
    read_bytes_tuned(name, bytes, &options, Tuning::default(), sink)
}

/// [`read_bytes`] with the driver's sizes set by the caller (see [`Tuning`]).
pub(crate) fn read_bytes_tuned(
    name: &str,
    bytes: &[u8],
    options: &ReadOptions,
    tuning: Tuning,
    sink: &mut dyn RecordSink,
) -> Result<ReadSummary> {
    let mut summary = ReadSummary::default();
    let input = Input {
        path: PathBuf::from(name),
        explicit: true,
    };
    let last = Arc::new(AtomicU16::new(NO_BYTE));
    let reader = decode(Box::new(io::Cursor::new(bytes.to_vec())), &last)
        .map_err(|e| Error::io(&input.path, e))?;
    let opened = Opened {
        input: &input,
        name: name.to_string(),
        rest: Rest::Read(reader),
        last,
    };
    read_one(
        opened,
        options,
        tuning,
        sink,
        &mut summary,
        &mut |_| {},
        None,
    )?;
    Ok(summary)
}

/// The sizes the driver reads with. Tests turn them down (a head and chunks of one byte) and parse on one
/// thread, to run one input through every path: carry-over across chunks, lines longer than a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tuning {
    /// Bytes looked at to detect a file's format and choose its reader (at least the byte order mark's 3).
    pub head_bytes: usize,
    /// Target size of one chunk of lines.
    pub chunk_bytes: usize,
    /// Parse the chunks of a batch in parallel (else one after another, on the reading thread).
    pub parallel: bool,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            head_bytes: HEAD_BYTES,
            chunk_bytes: CHUNK_BYTES,
            parallel: true,
        }
    }
}

/// An input file, opened.
struct Opened<'a> {
    input: &'a Input,
    /// The name shown in messages and kept as provenance.
    name: String,
    rest: Rest<'a>,
    /// The last byte read (see [`LastByte`]).
    last: Arc<AtomicU16>,
}

/// Where a file's content comes from.
enum Rest<'a> {
    /// A reader, which goes on after the head it gave.
    Read(Box<dyn BufRead + Send>),
    /// A map of the whole file (its head is a copy of the first bytes).
    Mapped(Mapped<'a>),
}

/// The file at `path` mapped, when `policy` maps it: a regular file (not standard input), large enough,
/// not gzipped. `None` to read it.
fn map_file(path: &Path, policy: MapPolicy) -> Option<Map> {
    if policy == MapPolicy::Never || path.as_os_str() == "-" {
        return None;
    }
    // Looked at before it is opened: opening a named pipe would wait for a writer, and take its bytes.
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || !policy.maps(meta.len()) {
        return None;
    }
    let map = Map::new(File::open(path).ok()?, policy).ok()?;
    (!map.bytes().starts_with(GZIP_MAGIC)).then_some(map)
}

/// The UTF-8 byte order mark, which editors on Windows put at the start of a file. The driver takes it off
/// the head, here and nowhere else: detectors, readers and parsers never see it.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads the head of a file: [`Tuning::head_bytes`] (at least the byte order mark's length), and whether
/// that is the whole file.
fn read_head(reader: &mut dyn Read, tuning: Tuning) -> io::Result<(Vec<u8>, bool)> {
    let want = tuning.head_bytes.max(BOM.len());
    let mut head = Vec::with_capacity(want);
    read_up_to(reader, &mut head, want)?;
    let mut whole = head.len() < want;
    // A head of nothing but a byte order mark and white space tells a source nothing: read on, up to the
    // default head (this only happens with a head turned down, see `Tuning`).
    while !whole
        && head.len() < HEAD_BYTES
        && head
            .strip_prefix(BOM)
            .unwrap_or(&head)
            .trim_ascii()
            .is_empty()
    {
        let before = head.len();
        read_up_to(reader, &mut head, want)?;
        whole = head.len() - before < want;
    }
    Ok((head, whole))
}

/// Takes the byte order mark off the head, if there is one; returns its length.
fn strip_bom(head: &mut Vec<u8>) -> u64 {
    if head.starts_with(BOM) {
        head.drain(..BOM.len());
        BOM.len() as u64
    } else {
        0
    }
}

/// Test support: reads `bytes` (gzipped or not) with `source` through the driver, as `tuning` says,
/// and returns every record (ranges checked) and record error in the order the driver hands them on, or
/// the error that stopped the file. Unlike [`read_bytes`], an empty file still goes to the reader.
#[cfg(test)]
pub(crate) fn read_items(source: &dyn Source, bytes: &[u8], tuning: Tuning) -> Result<Vec<Item>> {
    let name = "test-input";
    let path = Path::new(name);
    let last = Arc::new(AtomicU16::new(NO_BYTE));
    let mut reader =
        decode(Box::new(io::Cursor::new(bytes.to_vec())), &last).map_err(|e| Error::io(path, e))?;
    let (mut head, _) = read_head(&mut reader, tuning).map_err(|e| Error::io(path, e))?;
    strip_bom(&mut head);
    collect_items(source, head, Rest::Read(reader), tuning)
}

/// Test support: every item the driver hands on for a file of `source` whose `head` is read and whose
/// `rest` follows.
#[cfg(test)]
fn collect_items(
    source: &dyn Source,
    head: Vec<u8>,
    rest: Rest<'_>,
    tuning: Tuning,
) -> Result<Vec<Item>> {
    let name = "test-input";
    let file: Arc<str> = Arc::from(name);
    let content = Content {
        file: &file,
        path: Path::new(name),
        name: source.name(),
        head: head.clone(),
        first_line: 1,
        rest,
        tuning,
    };
    let mut items = Vec::new();
    read_content(source.reader(&head), content, &mut |item| {
        items.push(item);
        Ok(())
    })?;
    Ok(items)
}

/// [`read_items`] through a map of a file holding `bytes` (not gzipped), as a large file is read.
#[cfg(test)]
pub(crate) fn read_items_mapped(
    source: &dyn Source,
    bytes: &[u8],
    tuning: Tuning,
) -> Result<Vec<Item>> {
    use std::io::Write;
    let name = "test-input";
    let path = Path::new(name);
    let mut file = tempfile::tempfile().map_err(|e| Error::io(path, e))?;
    file.write_all(bytes).map_err(|e| Error::io(path, e))?;
    let Ok(map) = Map::new(file, MapPolicy::Always) else {
        // An empty file, which is never mapped.
        assert!(bytes.is_empty());
        return read_items(source, bytes, tuning);
    };
    let mut mapped = Mapped::new(&map, None, None, Arc::new(AtomicU16::new(NO_BYTE)));
    let (mut head, _) = read_head(&mut map.bytes(), tuning).map_err(|e| Error::io(path, e))?;
    mapped.start = strip_bom(&mut head) as usize;
    collect_items(source, head, Rest::Mapped(mapped), tuning)
}

/// A record, or the error of a malformed one, in file order.
pub(crate) type Item = std::result::Result<UsageRecord, RecordError>;

/// Detects one file's format and hands its records to `sink`, adding its summary to `summary`.
fn read_one(
    opened: Opened<'_>,
    options: &ReadOptions,
    tuning: Tuning,
    sink: &mut dyn RecordSink,
    summary: &mut ReadSummary,
    on_file: &mut dyn FnMut(&FileSummary),
    entry: Option<(&mut Entry, SharedHasher)>,
) -> Result<()> {
    let (entry, hasher) = match entry {
        Some((e, h)) => (Some(e), Some(h)),
        None => (None, None),
    };
    let Opened {
        input,
        name,
        mut rest,
        last,
    } = opened;
    let (mut head, whole) = match &mut rest {
        Rest::Read(reader) => read_head(reader, tuning),
        // A head read over zeros would be taken for a file of another format.
        Rest::Mapped(mapped) => match read_head(&mut mapped.map.bytes(), tuning) {
            Ok(_) if mapped.map.shrank() => Err(shrank_error()),
            read => read,
        },
    }
    .map_err(|e| Error::io(&input.path, e))?;
    if whole && head.trim_ascii().is_empty() {
        // An empty (or white-space only) file holds no records, whatever its format: the same
        // warning for every command, never an error.
        let source = options.source.map_or("empty", |s| s.name());
        add_empty(name, source, head.len() as u64, false, summary, on_file);
        return Ok(());
    }
    let bom = strip_bom(&mut head);
    if let Rest::Mapped(mapped) = &mut rest {
        mapped.start = bom as usize;
    }
    let source = match options.source {
        Some(s) => s,
        None => match sources::detect(&input.path, &head) {
            Some(s) => s,
            // A page with no rows in it, which no importer can tell apart: nothing to read, as an
            // empty file.
            None if whole && sources::shared::common::is_empty_page(&head) => {
                add_empty(
                    name,
                    "empty",
                    bom + head.len() as u64,
                    true,
                    summary,
                    on_file,
                );
                return Ok(());
            }
            None if input.explicit => {
                return Err(Error::Input {
                    file: name,
                    record: RecordError::new(
                        1,
                        "cannot tell which format this file is in; name it with --source \
                         (see `aispend sources`)",
                    ),
                })
            }
            None => {
                summary.unrecognised.push(name);
                return Ok(());
            }
        },
    };
    let file: Arc<str> = Arc::from(name.as_str());
    let kind = source.reader(&head);
    let done = Done {
        source,
        bom,
        is_document: matches!(kind, Reader::Document(_)),
        is_lines: matches!(kind, Reader::Lines(_)),
        last,
    };
    let content = Content {
        file: &file,
        path: &input.path,
        name: source.name(),
        head,
        first_line: 1,
        rest,
        tuning,
    };
    hand_on_file(
        name,
        &input.path,
        done,
        options,
        sink,
        summary,
        on_file,
        entry.zip(hasher),
        |on_item| read_content(kind, content, on_item),
    )
}

/// Adds the summary of a file with nothing to read in it (white space, or a page with no rows): a
/// warning for every command, never an error.
fn add_empty(
    path: String,
    source: &'static str,
    bytes: u64,
    page: bool,
    summary: &mut ReadSummary,
    on_file: &mut dyn FnMut(&FileSummary),
) {
    let fs = FileSummary {
        path,
        source,
        bytes,
        empty: true,
        empty_page: page,
        ..FileSummary::default()
    };
    on_file(&fs);
    summary.files.push(fs);
}

/// What is known of a file once its format is: its source, the length of its byte order mark, how it is
/// read, and its last byte (once read).
struct Done {
    source: &'static dyn Source,
    bom: u64,
    is_document: bool,
    is_lines: bool,
    last: Arc<AtomicU16>,
}

/// Hands the items `read` produces to `sink`, in order, writes the cache entry, and adds the file's
/// summary.
#[allow(clippy::too_many_arguments)]
fn hand_on_file(
    name: String,
    path: &Path,
    done: Done,
    options: &ReadOptions,
    sink: &mut dyn RecordSink,
    summary: &mut ReadSummary,
    on_file: &mut dyn FnMut(&FileSummary),
    entry: Option<(&mut Entry, SharedHasher)>,
    read: impl FnOnce(&mut dyn FnMut(Item) -> Result<()>) -> Result<Ending>,
) -> Result<()> {
    let (entry, hasher) = match entry {
        Some((e, h)) => (Some(e), Some(h)),
        None => (None, None),
    };
    let source = done.source;
    let mut fs = FileSummary {
        path: name,
        source: source.name(),
        ..FileSummary::default()
    };
    let mut writer: Option<EntryWriter> = entry.as_ref().and_then(|e| e.writer(false).ok());
    let unpriced_before = sink.unpriced();
    let ending = read_into(
        read,
        source.name(),
        entry.as_deref(),
        &mut writer,
        sink,
        &mut fs,
        options.skip_invalid,
    )?;
    if let Some(bytes) = ending.bytes {
        fs.bytes = done.bom + bytes;
    }
    fs.lines = ending.lines;
    fs.unpriced = sink.unpriced().saturating_sub(unpriced_before);
    if !done.is_document {
        let last = done.last.load(Ordering::Relaxed);
        fs.no_final_newline = last != NO_BYTE && last != u16::from(b'\n');
    }
    if let (Some(entry), Some(w), Some(hasher)) = (entry, writer, hasher) {
        let facts = FileFacts {
            extended: false,
            resumable: done.is_lines
                && !ending.in_order
                && !cache::is_gzip(path)
                && !fs.no_final_newline,
            next_line: ending.next_line,
            bytes: fs.bytes,
            lines: fs.lines,
            no_final_newline: fs.no_final_newline,
            content_hash: digest(&hasher),
        };
        // The entry is only an optimisation: failing to write it never fails the read.
        let _ = entry.commit(w, source.name(), facts);
        fs.cache = CacheUse::Read;
        fs.cache_note = entry.damaged().map(str::to_owned);
    }
    on_file(&fs);
    summary.files.push(fs);
    Ok(())
}

/// The content of one file, after its head (already read, without its byte order mark).
struct Content<'a> {
    file: &'a Arc<str>,
    /// The file's path, for read errors.
    path: &'a Path,
    /// The source's name, for messages.
    name: &'static str,
    head: Vec<u8>,
    /// The number of the head's first line (1, or where a grown file is read on from).
    first_line: u64,
    /// What follows the head (or, mapped, the whole file).
    rest: Rest<'a>,
    tuning: Tuning,
}

/// How a file's content ended.
struct Ending {
    /// The content bytes read, where the reader counts them.
    bytes: Option<u64>,
    /// The number the next line would have (line readers only).
    next_line: u64,
    /// Lines read that are not blank (line readers only).
    lines: u64,
    /// Some lines were read in order ([`InOrder`]): what they left open at the end of the file (a stream
    /// cut short) may be completed by lines added later, so a grown file is read again in full.
    in_order: bool,
}

impl Ending {
    /// Counts `n` more content bytes read.
    fn read(&mut self, n: u64) {
        self.bytes = Some(self.bytes.unwrap_or(0) + n);
    }

    /// Counts a chunk's lines and hands on its errors, then its records.
    fn hand_on(
        &mut self,
        result: ChunkResult,
        on_item: &mut dyn FnMut(Item) -> Result<()>,
    ) -> Result<()> {
        self.lines += result.lines;
        self.in_order |= result.in_order > 0;
        for e in result.errors {
            on_item(Err(e))?;
        }
        for record in result.records {
            on_item(Ok(record))?;
        }
        Ok(())
    }
}

/// Reads `content` with the reader its source chose, handing every record (its ranges checked) and record
/// error to `on_item` in file order (a document's errors, by line, before its records; a chunk's errors before its records).
/// Stops at the first error `on_item` returns. Returns the bytes read, where the reader counts them, and the
/// next line's number.
fn read_content(
    kind: Reader<'_>,
    content: Content<'_>,
    on_item: &mut dyn FnMut(Item) -> Result<()>,
) -> Result<Ending> {
    let file = content.file;
    let whole = |record: RecordError| Error::Input {
        file: file.to_string(),
        record,
    };
    match kind {
        Reader::Lines(parser) => {
            read_lines(LineMode::Each(parser, parser.in_order()), content, on_item)
        }
        Reader::OrderedLines(parser) => read_lines(LineMode::Ordered(parser), content, on_item),
        Reader::Stream(parser) => {
            let inner: Box<dyn BufRead + Send + '_> = match content.rest {
                Rest::Read(rest) => Box::new(io::Cursor::new(content.head).chain(rest)),
                Rest::Mapped(mapped) => Box::new(mapped.into_reader()),
            };
            let mut stream = LineGuard {
                inner: Lf { inner, cr: false },
                since_newline: 0,
            };
            let mut failure: Option<Error> = None;
            let mut emit =
                |item: Item| match on_item(item.and_then(|r| r.check_ranges().map(|()| r))) {
                    Ok(()) => true,
                    Err(e) => {
                        failure = Some(e);
                        false
                    }
                };
            let outcome = parser.parse_stream(&mut stream, file, &mut emit);
            if let Some(e) = failure {
                return Err(e);
            }
            outcome.map_err(whole)?;
            Ok(Ending {
                bytes: None,
                next_line: 0,
                lines: 0,
                in_order: false,
            })
        }
        Reader::Document(parser) => {
            let mut read = content.head;
            let (bytes, mut mapped) = match content.rest {
                Rest::Read(rest) => {
                    rest.take(MAX_DOCUMENT_BYTES)
                        .read_to_end(&mut read)
                        .map_err(|e| Error::io(content.path, e))?;
                    (&read[..], None)
                }
                Rest::Mapped(mapped) => (mapped.content(), Some(mapped)),
            };
            if bytes.len() as u64 >= MAX_DOCUMENT_BYTES {
                return Err(whole(RecordError::new(
                    1,
                    format!(
                        "larger than {} MiB: {} reads a whole document into memory; split it",
                        MAX_DOCUMENT_BYTES / (1024 * 1024),
                        content.name
                    ),
                )));
            }
            let mut parsed = Parsed::default();
            let outcome = parser.parse_document(bytes, file, &mut parsed);
            if let Some(mapped) = &mut mapped {
                mapped.advance(usize::MAX);
                if mapped.map.shrank() {
                    return Err(Error::io(content.path, shrank_error()));
                }
            }
            outcome.map_err(whole)?;
            let (records, out_of_range): (Vec<_>, Vec<_>) = std::mem::take(&mut parsed.records)
                .into_iter()
                .map(|r| r.check_ranges().map(|()| r))
                .partition(|r| r.is_ok());
            let mut errors = parsed.errors;
            errors.extend(out_of_range.into_iter().filter_map(|r| r.err()));
            errors.sort_by_key(|e| e.line);
            for e in errors {
                on_item(Err(e))?;
            }
            for record in records.into_iter().flatten() {
                on_item(Ok(record))?;
            }
            Ok(Ending {
                bytes: Some(bytes.len() as u64),
                next_line: 0,
                lines: 0,
                in_order: false,
            })
        }
    }
}

fn count(accepted: Accepted, fs: &mut FileSummary) {
    match accepted {
        Accepted::Added => fs.added += 1,
        Accepted::Duplicate => fs.duplicates += 1,
        Accepted::Replaced => fs.replaced += 1,
    }
}

/// Fails on the first error, or counts them all under `--skip-invalid`.
fn take_errors(errors: Vec<RecordError>, skip_invalid: bool, fs: &mut FileSummary) -> Result<()> {
    if let Some(first) = errors.first() {
        if !skip_invalid {
            return Err(Error::Input {
                file: fs.path.clone(),
                record: first.clone(),
            });
        }
        if fs.first_skipped.is_none() {
            fs.first_skipped = Some(format!("{}:{}", fs.path, first));
        }
        fs.skipped += errors.len() as u64;
    }
    Ok(())
}

/// A run of whole lines and the number of the first: a buffer of its own, or a slice of a map. The chunks
/// of a batch are numbered from 0 each, as they are parsed in parallel before the lines ahead of them are
/// counted; [`number_lines`] then numbers what they gave.
struct Chunk<B = Vec<u8>> {
    first_line: u64,
    bytes: B,
    /// Its lines are counted before they are parsed, to make room for their records.
    counted: bool,
}

#[derive(Default)]
struct ChunkResult {
    records: Vec<UsageRecord>,
    errors: Vec<RecordError>,
    /// Lines parsed (blank ones not counted).
    lines: u64,
    /// Lines set aside to be read in order ([`InOrder`]), until [`read_set_aside`] reads them.
    set_aside: Vec<SetAside>,
    /// How many lines were read in order.
    in_order: u64,
    /// The number of the line after the chunk's last.
    next_line: u64,
}

/// A line set aside to be read in order, and where it stood among its chunk's records and errors.
struct SetAside {
    line: u64,
    bytes: Vec<u8>,
    records: usize,
    errors: usize,
}

/// How the lines of a file are parsed: each on its own (chunks in parallel, the lines that depend on one
/// another set aside and read in order), or all in order by one parser.
enum LineMode<'a> {
    Each(&'a dyn LineParser, Option<InOrder<'a>>),
    Ordered(Box<dyn OrderedLineParser + 'a>),
}

/// Settles what parsing one line pushed onto `result.records` from `before` on: the line's error, or its
/// records if all are in range (else the first out-of-range one's error).
fn settle(result: &mut ChunkResult, before: usize, parsed: std::result::Result<(), RecordError>) {
    match parsed {
        Err(e) => result.errors.push(e),
        Ok(()) => {
            if let Some(e) = result.records[before..]
                .iter()
                .find_map(|r| r.check_ranges().err())
            {
                result.records.truncate(before);
                result.errors.push(e);
            }
        }
    }
}

/// Parses the lines of one chunk with `parse`: line endings (`\n` or `\r\n`) off, blank lines skipped,
/// line numbers counted from the chunk's first. The lines `set_aside` takes are kept for
/// [`read_set_aside`] instead. With `only_with` (and nothing set aside), only the lines that hold that
/// needle are parsed; the others are counted and numbered all the same.
fn parse_chunk<B: AsRef<[u8]>>(
    file: &Arc<str>,
    chunk: &Chunk<B>,
    set_aside: Option<fn(&[u8]) -> bool>,
    only_with: Option<&Needle>,
    mut parse: impl FnMut(
        &[u8],
        &Provenance,
        &mut Vec<UsageRecord>,
    ) -> std::result::Result<(), RecordError>,
) -> ChunkResult {
    let bytes = chunk.bytes.as_ref();
    if let (Some(needle), None) = (only_with, set_aside) {
        // Only the lines with the needle are parsed (the others hold no usage), the rest counted. They
        // are found first: the records, large and about one per line found, then have their room from
        // the start, instead of being copied each time the vector grows.
        let first = chunk.first_line;
        let mut found = Vec::new();
        let lines = needle.lines_with(bytes, |line, index| found.push((line, index)));
        let mut result = ChunkResult {
            records: Vec::with_capacity(found.len()),
            lines: lines.filled,
            next_line: first + lines.all - u64::from(lines.unended),
            ..ChunkResult::default()
        };
        for (line, index) in found {
            let line = &bytes[line];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let at = Provenance {
                file: file.clone(),
                line: first + index,
            };
            let before = result.records.len();
            let parsed = parse(line, &at, &mut result.records);
            settle(&mut result, before, parsed);
        }
        return result;
    }
    // Room for a record per line (at most a few thousand), the lines counted on this thread, where the
    // chunk is then parsed from the cache: the vector of large records never grows by copying.
    let room = if chunk.counted {
        memchr::memchr_iter(b'\n', bytes).count() + 1
    } else {
        0
    };
    let mut result = ChunkResult {
        records: Vec::with_capacity(room.min(4096)),
        ..ChunkResult::default()
    };
    let mut line_no = chunk.first_line;
    let mut unended = 0;
    let mut rest: &[u8] = bytes;
    while !rest.is_empty() {
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => {
                // A last line without its new line: the line after it is still this one.
                unended = 1;
                (rest, &[][..])
            }
        };
        rest = next;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !line.iter().all(u8::is_ascii_whitespace) {
            result.lines += 1;
            if set_aside.is_some_and(|takes| takes(line)) {
                result.set_aside.push(SetAside {
                    line: line_no,
                    bytes: line.to_vec(),
                    records: result.records.len(),
                    errors: result.errors.len(),
                });
            } else {
                let at = Provenance {
                    file: file.clone(),
                    line: line_no,
                };
                let before = result.records.len();
                let parsed = parse(line, &at, &mut result.records);
                settle(&mut result, before, parsed);
            }
        }
        line_no += 1;
    }
    result.next_line = line_no - unended;
    result
}

/// Reads the lines a chunk set aside with the in-order parser (called for each chunk in file order),
/// putting what each gives where the line stood among the chunk's records and errors: the same records
/// and errors, in the same order, as reading every line in order.
fn read_set_aside(parser: &mut dyn OrderedLineParser, file: &Arc<str>, result: &mut ChunkResult) {
    let set_aside = std::mem::take(&mut result.set_aside);
    if set_aside.is_empty() {
        return;
    }
    result.in_order = set_aside.len() as u64;
    let mut records = std::mem::take(&mut result.records).into_iter();
    let mut errors = std::mem::take(&mut result.errors).into_iter();
    let (mut records_taken, mut errors_taken) = (0, 0);
    for line in set_aside {
        result
            .records
            .extend(records.by_ref().take(line.records - records_taken));
        result
            .errors
            .extend(errors.by_ref().take(line.errors - errors_taken));
        (records_taken, errors_taken) = (line.records, line.errors);
        let at = Provenance {
            file: file.clone(),
            line: line.line,
        };
        let before = result.records.len();
        let parsed = parser.parse_line(&line.bytes, &at, &mut result.records);
        settle(result, before, parsed);
    }
    result.records.extend(records);
    result.errors.extend(errors);
}

/// What an in-order parser still holds at the end of the file (a stream cut short), as a last result.
fn finish_in_order(parser: &mut dyn OrderedLineParser) -> ChunkResult {
    let mut last = ChunkResult::default();
    let parsed = parser.finish(&mut last.records);
    settle(&mut last, 0, parsed);
    last
}

/// One parsed batch of chunks, in file order, how many bytes it covered, and the next line's number after it.
type Batch = Result<(Vec<ChunkResult>, u64, u64)>;

/// Reads and parses lines on a producer thread (which fans each batch of chunks out to the rayon pool),
/// while this thread hands the previous batch's records to `on_item`: parsing and aggregating or writing
/// overlap. At most one parsed batch waits in the channel, so memory stays bounded. Returns the bytes read.
fn read_lines(
    mode: LineMode<'_>,
    content: Content<'_>,
    on_item: &mut dyn FnMut(Item) -> Result<()>,
) -> Result<Ending> {
    let (mode, content) = match (mode, content.rest) {
        (LineMode::Each(parser, in_order), Rest::Mapped(mapped)) if content.tuning.parallel => {
            let lines = MappedLines {
                parser,
                in_order,
                file: content.file,
                path: content.path,
                first_line: content.first_line,
                chunk_bytes: content.tuning.chunk_bytes.max(1),
            };
            return lines.read(mapped, on_item);
        }
        (mode, rest) => (mode, Content { rest, ..content }),
    };
    let mut ending = Ending {
        bytes: Some(0),
        next_line: content.first_line,
        lines: 0,
        in_order: false,
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(1);
    std::thread::scope(|scope| {
        scope.spawn(move || produce_batches(mode, content, tx));
        // Returning early drops `rx`, which stops the producer at its next send.
        for batch in rx {
            let (results, bytes, after) = batch?;
            ending.read(bytes);
            ending.next_line = after;
            for result in results {
                ending.hand_on(result, on_item)?;
            }
        }
        Ok(ending)
    })
}

/// The lines of a mapped file whose lines are parsed each on its own, read without batches: the file is
/// cut into chunks of whole lines at once (a look at the end of each 1 MiB), the chunks are parsed on the
/// pool, a few ahead of the one being handed on, and their results are handed on in order on this
/// thread. Unlike batches parsed together, no chunk waits for a batch's slowest one.
struct MappedLines<'a> {
    parser: &'a dyn LineParser,
    in_order: Option<InOrder<'a>>,
    file: &'a Arc<str>,
    path: &'a Path,
    first_line: u64,
    chunk_bytes: usize,
}

impl MappedLines<'_> {
    fn read(
        self,
        mut mapped: Mapped<'_>,
        on_item: &mut dyn FnMut(Item) -> Result<()>,
    ) -> Result<Ending> {
        let MappedLines {
            parser,
            mut in_order,
            file,
            path,
            first_line,
            chunk_bytes,
        } = self;
        let bytes = mapped.map.bytes();
        let (chunks, end) = cut_lines(bytes, mapped.start, chunk_bytes);
        // The look at each chunk's end mapped a page there, and the kernel maps the whole (large) folio
        // of the page cache a page is in: up to 2 MiB each, all of a file's ends together. Handed back
        // at once; each is mapped again when its chunk is read.
        mapped.map.release(mapped.start, bytes.len());
        let too_long = end < bytes.len();
        let takes = in_order.as_ref().map(|o| o.takes);
        let only = parser.only_lines_with();
        let ahead = ordered::Ahead {
            items: rayon::current_num_threads().max(1) * 3,
            weight: u64::MAX,
        };
        let mut ending = Ending {
            bytes: Some(0),
            next_line: first_line,
            lines: 0,
            in_order: false,
        };
        ordered::for_each_ordered(
            &chunks,
            |c| c.len() as u64,
            ahead,
            |_, c| {
                let chunk = Chunk {
                    first_line: 0,
                    bytes: &bytes[c.clone()],
                    counted: true,
                };
                parse_chunk(file, &chunk, takes, only, |l, at, out| {
                    parser.parse_line(l, at, out)
                })
            },
            |i, mut result| {
                number_lines(std::slice::from_mut(&mut result), &mut ending.next_line);
                if let Some(in_order) = in_order.as_mut() {
                    read_set_aside(in_order.parser.as_mut(), file, &mut result);
                }
                mapped.advance(chunks[i].end);
                // Records read from zeros are never handed on.
                if mapped.map.shrank() {
                    return Err(Error::io(path, shrank_error()));
                }
                ending.read(chunks[i].len() as u64);
                ending.hand_on(result, on_item)
            },
        )?;
        mapped.advance(end);
        if mapped.map.shrank() {
            return Err(Error::io(path, shrank_error()));
        }
        if too_long {
            return Err(line_too_long_at(file, ending.next_line));
        }
        if let Some(in_order) = in_order.as_mut() {
            ending.hand_on(finish_in_order(in_order.parser.as_mut()), on_item)?;
        }
        Ok(ending)
    }
}

/// `bytes` from `start` on, cut into runs of whole lines of about `chunk_bytes` each (a line longer than
/// that is a run of its own), and where the cut ended: the end of `bytes`, or the start of a line longer
/// than [`MAX_LINE_BYTES`], which is not read.
fn cut_lines(
    bytes: &[u8],
    start: usize,
    chunk_bytes: usize,
) -> (Vec<std::ops::Range<usize>>, usize) {
    let len = bytes.len();
    let mut chunks = Vec::with_capacity((len - start) / chunk_bytes + 1);
    let mut at = start;
    while at < len {
        if len - at < chunk_bytes {
            chunks.push(at..len);
            return (chunks, len);
        }
        // Up to the last new line of the next chunk's bytes; a line longer than a chunk takes more
        // chunks' bytes, up to MAX_LINE_BYTES.
        let (mut searched, mut end) = (at, at + chunk_bytes);
        loop {
            if let Some(i) = memchr::memrchr(b'\n', &bytes[searched..end]) {
                let cut = searched + i + 1;
                chunks.push(at..cut);
                at = cut;
                break;
            }
            if end - at > MAX_LINE_BYTES {
                return (chunks, at);
            }
            if end == len {
                chunks.push(at..len);
                return (chunks, len);
            }
            searched = end;
            end = (end + chunk_bytes).min(len);
        }
    }
    (chunks, len)
}

/// The producer side of [`read_lines`]: cuts the input into chunks of whole lines, parses a batch of
/// them, and sends the results.
fn produce_batches(
    mode: LineMode<'_>,
    content: Content<'_>,
    tx: std::sync::mpsc::SyncSender<Batch>,
) {
    let Content {
        file,
        path,
        head,
        first_line,
        rest,
        tuning,
        ..
    } = content;
    match rest {
        Rest::Read(reader) => produce_read(mode, file, head, first_line, reader, tuning, tx),
        Rest::Mapped(mapped) => produce_mapped(mode, file, path, mapped, first_line, tuning, tx),
    }
}

/// How many chunks are parsed together.
fn batch_size() -> usize {
    rayon::current_num_threads().max(1) * 2
}

/// [`produce_batches`] from a reader: the chunks are buffers, reused batch after batch.
fn produce_read(
    mut mode: LineMode<'_>,
    file: &Arc<str>,
    head: Vec<u8>,
    first_line: u64,
    mut reader: Box<dyn BufRead + Send>,
    tuning: Tuning,
    tx: std::sync::mpsc::SyncSender<Batch>,
) {
    let chunk_bytes = tuning.chunk_bytes.max(1);
    let batch_size = batch_size();
    let mut pool: Vec<Vec<u8>> = Vec::new();
    let mut carry = head;
    let mut next_line = first_line;
    let mut eof = false;
    let read_error = |e: io::Error| Error::io(file.as_ref(), e);
    while !eof {
        let mut batch: Vec<Chunk> = Vec::with_capacity(batch_size);
        // A line over MAX_LINE_BYTES after this batch's lines: an error to send after them, and the end
        // of reading.
        let mut too_long = false;
        while batch.len() < batch_size && !eof {
            let spare = pool
                .pop()
                .unwrap_or_else(|| Vec::with_capacity(chunk_bytes.saturating_add(1)));
            let mut buf = std::mem::replace(&mut carry, spare);
            if buf.len() < chunk_bytes {
                let want = chunk_bytes - buf.len();
                if let Err(e) = read_up_to(&mut reader, &mut buf, want) {
                    let _ = tx.send(Err(read_error(e)));
                    return;
                }
            }
            if buf.len() < chunk_bytes {
                eof = true;
                push_chunk(&mut batch, buf);
                continue;
            }
            match memchr::memrchr(b'\n', &buf) {
                Some(i) => {
                    carry.extend_from_slice(&buf[i + 1..]);
                    buf.truncate(i + 1);
                    push_chunk(&mut batch, buf);
                }
                // One line longer than a chunk: keep reading until it ends, up to MAX_LINE_BYTES.
                None => {
                    let spare = std::mem::replace(&mut carry, buf);
                    pool.push(spare);
                    if carry.len() > MAX_LINE_BYTES {
                        too_long = true;
                        eof = true;
                        continue;
                    }
                    let mut more = Vec::new();
                    if let Err(e) = read_up_to(&mut reader, &mut more, chunk_bytes) {
                        let _ = tx.send(Err(read_error(e)));
                        return;
                    }
                    if more.is_empty() {
                        eof = true;
                        let last = std::mem::take(&mut carry);
                        push_chunk(&mut batch, last);
                    } else {
                        carry.extend_from_slice(&more);
                    }
                }
            }
        }
        let results = parse_batch(
            &mut mode,
            file,
            &batch,
            tuning,
            eof && !too_long,
            &mut next_line,
        );
        let bytes = batch.iter().map(|c| c.bytes.len() as u64).sum();
        for chunk in batch {
            let mut buf = chunk.bytes;
            buf.clear();
            pool.push(buf);
        }
        if tx.send(Ok((results, bytes, next_line))).is_err() {
            return;
        }
        if too_long {
            let _ = tx.send(Err(line_too_long_at(file, next_line)));
            return;
        }
    }
}

/// [`produce_batches`] from a map: the chunks are slices of it, cut where [`produce_read`] cuts its
/// buffers. Before a batch's results are sent, the file is checked not to have shrunk under the map.
fn produce_mapped(
    mut mode: LineMode<'_>,
    file: &Arc<str>,
    path: &Path,
    mut mapped: Mapped<'_>,
    first_line: u64,
    tuning: Tuning,
    tx: std::sync::mpsc::SyncSender<Batch>,
) {
    let bytes = mapped.map.bytes();
    let (chunks, end) = cut_lines(bytes, mapped.start, tuning.chunk_bytes.max(1));
    // A line over MAX_LINE_BYTES after the chunks: an error to send after their lines.
    let too_long = end < bytes.len();
    let mut next_line = first_line;
    let mut batches = chunks.chunks(batch_size()).peekable();
    // An empty file is one empty batch: what an in-order parser holds at the end is still asked for.
    let mut empty = chunks.is_empty().then_some(&[][..]);
    while let Some(ranges) = batches.next().or_else(|| empty.take()) {
        let batch: Vec<Chunk<&[u8]>> = ranges
            .iter()
            .map(|r| Chunk {
                first_line: 0,
                bytes: &bytes[r.clone()],
                counted: true,
            })
            .collect();
        let last = batches.peek().is_none();
        let results = parse_batch(
            &mut mode,
            file,
            &batch,
            tuning,
            last && !too_long,
            &mut next_line,
        );
        mapped.advance(if last {
            end
        } else {
            ranges.last().map_or(end, |r| r.end)
        });
        // Records read from zeros are never handed on.
        if mapped.map.shrank() {
            let _ = tx.send(Err(Error::io(path, shrank_error())));
            return;
        }
        let read = batch.iter().map(|c| c.bytes.len() as u64).sum();
        if tx.send(Ok((results, read, next_line))).is_err() {
            return;
        }
    }
    if too_long {
        let _ = tx.send(Err(line_too_long_at(file, next_line)));
    }
}

/// Parses a batch of chunks as `mode` says (in parallel when the tuning says so), in order, its lines
/// numbered from `next_line` on (which is moved past them); `last` when the batch ends the file (what an
/// in-order parser still holds is then a last result).
fn parse_batch<B: AsRef<[u8]> + Sync>(
    mode: &mut LineMode<'_>,
    file: &Arc<str>,
    batch: &[Chunk<B>],
    tuning: Tuning,
    last: bool,
    next_line: &mut u64,
) -> Vec<ChunkResult> {
    match mode {
        LineMode::Each(parser, in_order) => {
            let takes = in_order.as_ref().map(|o| o.takes);
            let parse = |c: &Chunk<B>| {
                parse_chunk(file, c, takes, parser.only_lines_with(), |l, at, out| {
                    parser.parse_line(l, at, out)
                })
            };
            let mut results: Vec<ChunkResult> = if tuning.parallel {
                batch.par_iter().map(parse).collect()
            } else {
                batch.iter().map(parse).collect()
            };
            number_lines(&mut results, next_line);
            if let Some(in_order) = in_order {
                for result in &mut results {
                    read_set_aside(in_order.parser.as_mut(), file, result);
                }
                if last {
                    results.push(finish_in_order(in_order.parser.as_mut()));
                }
            }
            results
        }
        LineMode::Ordered(parser) => {
            // One chunk after another, each numbered from the line after the last: the parser may give a
            // record of an earlier line later on.
            let mut results: Vec<ChunkResult> = batch
                .iter()
                .map(|c| {
                    let chunk = Chunk {
                        first_line: *next_line,
                        bytes: c.bytes.as_ref(),
                        counted: true,
                    };
                    let result = parse_chunk(file, &chunk, None, None, |l, at, out| {
                        parser.parse_line(l, at, out)
                    });
                    *next_line = result.next_line;
                    result
                })
                .collect();
            if last {
                // What the parser still holds at the end of the file (a stream cut short).
                results.push(finish_in_order(parser.as_mut()));
            }
            results
        }
    }
}

/// Adds a chunk to a batch, numbered from 0 (see [`Chunk`]).
fn push_chunk<B: AsRef<[u8]>>(batch: &mut Vec<Chunk<B>>, bytes: B) {
    if bytes.as_ref().is_empty() {
        return;
    }
    batch.push(Chunk {
        first_line: 0,
        bytes,
        counted: true,
    });
}

/// Numbers what the chunks of a batch gave, in order, from `next_line` on (each chunk's lines were
/// numbered from 0), and moves `next_line` past them.
fn number_lines(results: &mut [ChunkResult], next_line: &mut u64) {
    for result in results {
        let base = *next_line;
        for r in &mut result.records {
            r.provenance.line += base;
        }
        for e in &mut result.errors {
            e.line += base;
        }
        for l in &mut result.set_aside {
            l.line += base;
        }
        *next_line = base + result.next_line;
    }
}

mod mapped;
pub mod needle;
mod ordered;
mod summed;
#[cfg(test)]
mod tests;
