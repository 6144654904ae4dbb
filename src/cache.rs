//! The parse cache: what was parsed from each input file on an earlier run, so that a warm run reads only
//! what changed.
//!
//! Only parsed records and record errors are kept, never prices, teams or anything a price table or the
//! config decides: a cached run hands the driver's sink exactly the items a fresh read would, in the same
//! order, and deduplication, pricing and attribution happen after, as on any run.
//!
//! One entry per input file, under the platform cache folder (`$XDG_CACHE_HOME/aispend/parse-v3` on Linux,
//! or `$AISPEND_CACHE_DIR`), never in the ledger (the folders of earlier layouts are removed when the
//! first entry of this one is written):
//! - `KEY.lock`: held (a file lock) while the entry is read or written. A run that cannot take it at once
//!   reads the file without the cache, so concurrent runs never wait for or damage each other.
//! - `KEY.meta`: what the entry describes (the file's size, times, inode, a hash of its first and last
//!   bytes, where reading ended), the length and checksum of the data, and the file's sums (see [`sums`]),
//!   in sections that are each read only when needed (see [`Header`]). Replaced atomically (rename).
//! - `KEY.data`: the items, in blocks, each with its own checksum. New lines of a grown file are appended
//!   to it; bytes past the length the meta file names (a run that crashed mid-write) are ignored and cut.
//!
//! An entry is used as it is when the file's size, modification and change times, inode and device are
//! those recorded (a file changed within [`RACY_NS`] of being read, when a same-size rewrite could keep
//! every time, must also hash to what was read). It is extended when a plain (not gzipped) JSON Lines file
//! grew and its old length still hashes to what was read (logs are append-only). In every other case the
//! file is read again and the entry rewritten. Entries are also void when the `aispend` binary changes (a
//! new version may parse differently). A damaged entry is discarded and rebuilt, with a note. Files are
//! created 0600.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{xxh3_64, Xxh3Default};

use crate::error::RecordError;
use crate::record::UsageRecord;

mod codec;
mod items;
pub mod sums;

use sums::FileSums;

/// The layout version: part of the folder name, so an older layout is never read.
const LAYOUT: &str = "parse-v3";
/// Layouts of earlier versions, removed by [`clear`].
const OLD_LAYOUTS: [&str; 2] = ["parse-v1", "parse-v2"];
/// A file whose modification or change time is this close to when its entry was written may have been
/// rewritten since without any of its times changing (file system clocks tick in milliseconds, some in
/// seconds): its content is hashed before the entry is trusted.
const RACY_NS: i128 = 3_000_000_000;
/// Encoded bytes per data block.
const BLOCK_BYTES: usize = 1 << 20;

/// The cache folder: `$AISPEND_CACHE_DIR`, else the platform cache folder's `aispend`.
pub fn default_dir() -> Option<PathBuf> {
    match std::env::var_os("AISPEND_CACHE_DIR") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => dirs::cache_dir().map(|d| d.join("aispend")),
    }
}

/// Removes every cache entry under `dir`; returns the number of files removed.
pub fn clear(dir: &Path) -> io::Result<u64> {
    let mut removed = 0;
    for layout in OLD_LAYOUTS.iter().chain([&LAYOUT]) {
        removed += clear_layout(&dir.join(layout))?;
    }
    Ok(removed)
}

fn clear_layout(parse: &Path) -> io::Result<u64> {
    let mut removed = 0;
    let entries = match fs::read_dir(parse) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    fs::remove_dir(parse).or_else(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            Ok(())
        } else {
            Err(e)
        }
    })?;
    Ok(removed)
}

/// The parse cache of one run.
#[derive(Debug, Clone)]
pub struct ParseCache {
    dir: PathBuf,
}

impl ParseCache {
    /// The cache under `root` (see [`default_dir`]). Nothing is created until an entry is written.
    pub fn new(root: &Path) -> ParseCache {
        ParseCache {
            dir: root.join(LAYOUT),
        }
    }

    /// The folder holding the entries.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Locks the entry of `path` (a file, not standard input) and loads what it holds. `None` when the file
    /// cannot be cached now: another run holds its entry, the cache folder is not writable, or the file
    /// cannot be stat'ed (the read that follows reports that).
    pub fn entry(&self, path: &Path, forced_source: Option<&str>) -> Option<Entry> {
        let Located {
            canonical,
            stamp,
            base,
            identity,
        } = self.locate(path, forced_source)?;
        if !self.dir.is_dir() {
            create_private_dir(&self.dir).ok()?;
            // The first entry of this layout: the entries of earlier ones are of no further use.
            if let Some(root) = self.dir.parent() {
                for old in OLD_LAYOUTS {
                    let _ = clear_layout(&root.join(old));
                }
            }
        }
        let lock = open_private(&base.with_extension("lock"), false).ok()?;
        match fs4::fs_std::FileExt::try_lock_exclusive(&lock) {
            Ok(true) => {}
            _ => return None,
        }
        let mut entry = Entry {
            base,
            _lock: lock,
            file: canonical,
            stamp,
            identity,
            meta: None,
            damaged: None,
        };
        entry.load();
        Some(entry)
    }

    /// The file's sums, when its entry is current and has them (see [`sums`]). Read without taking the
    /// entry's lock: the description is replaced atomically, and the data is not read.
    pub fn summed(&self, path: &Path, forced_source: Option<&str>) -> Option<Summed> {
        let at = self.locate(path, forced_source)?;
        let meta_path = at.base.with_extension("meta");
        let MetaRead::Read(meta, header) = read_meta(&meta_path, true) else {
            return None;
        };
        if meta.identity != at.identity || !meta.describes(&at.canonical, &at.stamp) {
            return None;
        }
        let (meta, header) = if meta.settles() {
            // Rewritten as not racy under the entry's lock (unless another run holds it), then read
            // again: its header changed.
            let lock = open_private(&at.base.with_extension("lock"), false).ok()?;
            if matches!(fs4::fs_std::FileExt::try_lock_exclusive(&lock), Ok(true)) {
                let _ = settle_meta(&at.base, &meta.stamp, meta.content_hash);
            }
            match read_meta(&meta_path, true) {
                MetaRead::Read(meta, header) if meta.identity == at.identity => (meta, header),
                _ => return None,
            }
        } else {
            (meta, header)
        };
        Some(Summed {
            source: crate::sources::by_name(&meta.source)?.name(),
            bytes: meta.bytes,
            no_final_newline: meta.no_final_newline,
            lines: meta.lines,
            sums: meta.sums?,
            meta_path,
            header,
        })
    }

    /// Which of `summed` (the run's files in order, `Some` for those whose sums can serve) share an id
    /// hash with another (see [`sums::sharing`]). With `all_ids`, every summed file's id hashes are read
    /// (the run reads other files by their records and compares their ids with these); else the answer an
    /// earlier run found for the same files with the same ids serves when there is one. A file whose ids
    /// cannot be read (its entry changed meanwhile) is set to `None`: it is read by its records.
    pub fn sharing(&self, summed: &mut [Option<Summed>], all_ids: bool) -> Vec<bool> {
        let count = summed.iter().flatten().count();
        if count <= 1 && !all_ids {
            return vec![false; summed.len()];
        }
        let (memo, print) = self.memo_of(summed);
        if !all_ids {
            if let Some(shares) = read_memo(&memo, print, summed.len()) {
                return shares;
            }
        }
        let mut complete = true;
        for s in summed.iter_mut() {
            if s.as_mut().is_some_and(|s| !s.load_ids()) {
                *s = None;
                complete = false;
            }
        }
        let ids: Vec<Option<&[u64]>> = summed
            .iter()
            .map(|s| s.as_ref().map(|s| &s.sums.ids[..]))
            .collect();
        let shares = sums::sharing(&ids);
        if complete && count > 1 {
            // Only an optimisation: failing to write it never fails the run.
            let _ = write_memo(&memo, print, &shares);
        }
        shares
    }

    /// Where the answer of [`ParseCache::sharing`] for these files is kept (one file per list of
    /// files), and what identifies their ids.
    fn memo_of(&self, summed: &[Option<Summed>]) -> (PathBuf, u64) {
        let mut names = Xxh3Default::new();
        let mut print = Xxh3Default::new();
        names.update(&(summed.len() as u64).to_le_bytes());
        for (i, s) in summed.iter().enumerate() {
            let Some(s) = s else { continue };
            names.update(&(i as u64).to_le_bytes());
            names.update(s.meta_path.as_os_str().as_encoded_bytes());
            names.update(&[0]);
            print.update(&(i as u64).to_le_bytes());
            print.update(&s.header.ids_hash.to_le_bytes());
            print.update(&s.header.ids_len.to_le_bytes());
        }
        (
            self.dir.join(format!("{:016x}.share", names.digest())),
            print.digest(),
        )
    }

    /// Where the entry of `path` lives and what it must match.
    fn locate(&self, path: &Path, forced_source: Option<&str>) -> Option<Located> {
        let canonical = fs::canonicalize(path).ok()?;
        let stamp = Stamp::of(&fs::metadata(&canonical).ok()?);
        let key = format!("{:016x}", xxh3_64(canonical.as_os_str().as_encoded_bytes()));
        let identity = Identity {
            exe: exe_stamp(),
            path: canonical.to_string_lossy().into_owned(),
            forced_source: forced_source.map(str::to_owned),
        };
        Some(Located {
            base: self.dir.join(key),
            canonical,
            stamp,
            identity,
        })
    }
}

/// A file, its stamp, and where its entry lives.
struct Located {
    canonical: PathBuf,
    stamp: Stamp,
    /// The entry's files, without their extension.
    base: PathBuf,
    identity: Identity,
}

/// An unchanged file's sums and figures, from its entry.
pub struct Summed {
    pub source: &'static str,
    /// The content bytes read (the file summary's figure).
    pub bytes: u64,
    pub no_final_newline: bool,
    /// Lines read that are not blank (the file summary's figure).
    pub lines: u64,
    /// The sums, without their id hashes until [`Summed::load_ids`].
    pub sums: FileSums,
    meta_path: PathBuf,
    header: Header,
}

impl Summed {
    /// Reads the sums' id hashes into `sums.ids`; `false` when the entry changed since its sums were
    /// read (the file is then read by its records).
    pub fn load_ids(&mut self) -> bool {
        match read_ids(&self.meta_path, &self.header) {
            Some(ids) => {
                self.sums.ids = ids;
                true
            }
            None => false,
        }
    }

    /// What identifies the sums and their id hashes: equal for an entry that did not change.
    pub fn fingerprint(&self) -> [u64; 2] {
        [self.header.rows_hash, self.header.ids_hash]
    }
}

/// The times, size and identity of a file: equal stamps mean an unchanged file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    len: u64,
    modified_ns: i128,
    changed_ns: i128,
    inode: u64,
    device: u64,
}

impl Stamp {
    fn of(meta: &fs::Metadata) -> Stamp {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Stamp {
                len: meta.len(),
                modified_ns: i128::from(meta.mtime()) * 1_000_000_000
                    + i128::from(meta.mtime_nsec()),
                changed_ns: i128::from(meta.ctime()) * 1_000_000_000
                    + i128::from(meta.ctime_nsec()),
                inode: meta.ino(),
                device: meta.dev(),
            }
        }
        #[cfg(not(unix))]
        {
            let modified_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i128);
            Stamp {
                len: meta.len(),
                modified_ns,
                changed_ns: 0,
                inode: 0,
                device: 0,
            }
        }
    }
}

/// What an entry must match to be used at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Identity {
    /// The `aispend` binary that wrote it (its size and modification time).
    exe: u64,
    path: String,
    forced_source: Option<String>,
}

/// The description of an entry's data.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    identity: Identity,
    /// The source that read the file.
    source: String,
    stamp: Stamp,
    /// A plain JSON Lines file whose content ended with a new line: lines appended later can be read on
    /// their own.
    resumable: bool,
    /// Hash of the file's raw bytes, as read.
    content_hash: u64,
    /// The file changed within [`RACY_NS`] of being read: check `content_hash` before trusting `stamp`.
    racy: bool,
    /// The next line's number, when resumable.
    next_line: u64,
    /// The content bytes read (the file summary's figure).
    bytes: u64,
    no_final_newline: bool,
    /// Lines read that are not blank (the file summary's figure).
    lines: u64,
    /// Bytes of `KEY.data` that hold this entry's blocks.
    data_len: u64,
    /// The records' sums, when they can stand for them (no record errors).
    sums: Option<FileSums>,
}

impl Meta {
    /// Whether the entry is racy (written right after its file changed) and that change is now older
    /// than [`RACY_NS`].
    fn settles(&self) -> bool {
        self.racy && now_ns() - self.stamp.modified_ns.max(self.stamp.changed_ns) >= RACY_NS
    }

    /// Whether the entry describes the file as it is now (`stamp`): the same stamp, and when it was
    /// written right after the file changed, the same content.
    fn describes(&self, file: &Path, stamp: &Stamp) -> bool {
        self.stamp == *stamp
            && (!self.racy
                || hash_prefix(file, self.stamp.len).is_ok_and(|h| h.digest() == self.content_hash))
    }
}

/// One item of a file, as the driver hands it on (see [`items`] for its encoding).
// Mostly records, each handed on at once: boxing them would cost an allocation apiece.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Item {
    Record(UsageRecord),
    Error(RecordError),
}

/// An item as the driver has it, for writing without a copy (encoded exactly as [`Item`]).
#[derive(Debug)]
pub enum ItemRef<'a> {
    Record(&'a UsageRecord),
    Error(&'a RecordError),
    /// A record whose importer name is not its file's source: the entry could not give it back.
    Foreign,
}

impl<'a> ItemRef<'a> {
    pub fn of(
        item: &'a std::result::Result<UsageRecord, RecordError>,
        source: &str,
    ) -> ItemRef<'a> {
        match item {
            Ok(r) if r.source == source => ItemRef::Record(r),
            Ok(_) => ItemRef::Foreign,
            Err(e) => ItemRef::Error(e),
        }
    }
}

/// Whether a file starts with the gzip magic bytes (its content cannot be read on from an offset).
pub fn is_gzip(path: &Path) -> bool {
    let mut magic = [0u8; 2];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == [0x1f, 0x8b]
}

/// How a file is read, given its cache entry.
// One per file, never stored.
#[allow(clippy::large_enum_variant)]
pub enum Plan {
    /// Unchanged: every item comes from the cache.
    Replay,
    /// Grew: the cached items, then the lines from `offset` (raw bytes), numbered from `next_line`;
    /// `hasher` has hashed the bytes before `offset`, to go on with the rest.
    Extend {
        offset: u64,
        next_line: u64,
        hasher: Xxh3Default,
    },
    /// Read the whole file.
    Read,
}

/// A hash of the raw bytes read from a file, shared with the driver's reading thread.
pub type SharedHasher = Arc<std::sync::Mutex<Xxh3Default>>;

/// Passes reads through, hashing every byte.
pub struct Hashing<R> {
    pub inner: R,
    pub hasher: SharedHasher,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut h) = self.hasher.lock() {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// Hashes the first `len` bytes of `path` (all of them must be there).
fn hash_prefix(path: &Path, len: u64) -> io::Result<Xxh3Default> {
    let mut f = File::open(path)?.take(len);
    let mut hasher = Xxh3Default::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut seen = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        seen += n as u64;
    }
    if seen != len {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank"));
    }
    Ok(hasher)
}

/// A locked cache entry.
pub struct Entry {
    base: PathBuf,
    _lock: File,
    file: PathBuf,
    stamp: Stamp,
    identity: Identity,
    meta: Option<Meta>,
    /// Why an existing entry was thrown away, for the note.
    damaged: Option<String>,
}

impl Entry {
    fn meta_path(&self) -> PathBuf {
        self.base.with_extension("meta")
    }

    fn data_path(&self) -> PathBuf {
        self.base.with_extension("data")
    }

    fn load(&mut self) {
        match read_meta(&self.meta_path(), false) {
            MetaRead::Read(meta, _) if meta.identity == self.identity => self.meta = Some(*meta),
            // Written by another binary, for another forced source, or in another format: void, not
            // damaged.
            MetaRead::Read(..) | MetaRead::Void => {}
            MetaRead::Damaged => self.damaged = Some("its description is unreadable".to_owned()),
        }
    }

    /// Why an earlier entry for this file was damaged and discarded, if it was.
    pub fn damaged(&self) -> Option<&str> {
        self.damaged.as_deref()
    }

    /// The source recorded for the file, when the entry can be replayed or extended.
    pub fn source(&self) -> Option<&str> {
        self.meta.as_ref().map(|m| m.source.as_str())
    }

    /// What to do with the file now.
    pub fn plan(&mut self) -> Plan {
        let Some(meta) = &self.meta else {
            return Plan::Read;
        };
        let same_content = |len: u64| {
            hash_prefix(&self.file, len)
                .ok()
                .filter(|h| h.digest() == meta.content_hash)
        };
        if meta.stamp == self.stamp {
            if meta.describes(&self.file, &self.stamp) {
                self.settle();
                return Plan::Replay;
            }
            return Plan::Read;
        }
        let grew = meta.resumable
            && self.stamp.len > meta.stamp.len
            && self.stamp.inode == meta.stamp.inode
            && self.stamp.device == meta.stamp.device;
        if grew {
            if let Some(hasher) = same_content(meta.stamp.len) {
                return Plan::Extend {
                    offset: meta.stamp.len,
                    next_line: meta.next_line,
                    hasher,
                };
            }
        }
        Plan::Read
    }

    /// A racy entry whose content was just found unchanged: see [`settle_meta`]. The entry's lock is held.
    fn settle(&mut self) {
        let Some(meta) = self.meta.as_mut() else {
            return;
        };
        if meta.settles() && settle_meta(&self.base, &meta.stamp, meta.content_hash).is_ok() {
            meta.racy = false;
        }
    }

    /// The file summary figures of the cached part: content bytes, whether it ended without a new line,
    /// and its lines that are not blank.
    pub fn cached_bytes(&self) -> (u64, bool, u64) {
        self.meta
            .as_ref()
            .map_or((0, false, 0), |m| (m.bytes, m.no_final_newline, m.lines))
    }

    /// Hands every cached item to `on_item`, in file order, after checking every block's checksum (so a
    /// damaged entry is found before any item is handed on). Returns `Ok(false)` when the data is damaged:
    /// nothing was handed on, and the entry is discarded.
    pub fn replay(
        &mut self,
        on_item: &mut dyn FnMut(Item) -> crate::error::Result<()>,
    ) -> crate::error::Result<bool> {
        let Some(meta) = &self.meta else {
            return Ok(false);
        };
        let data_len = meta.data_len;
        // Most entries are small (a session log's few hundred records): a buffer no larger than the data,
        // so that replaying thousands of them does not clear megabytes of fresh pages apiece.
        let capacity = usize::try_from(data_len).map_or(1 << 20, |n| n.clamp(4096, 1 << 20));
        let verified = File::open(self.data_path())
            .and_then(|f| verify_blocks(BufReader::with_capacity(capacity, f), data_len));
        if !matches!(verified, Ok(true)) {
            self.discard("its data does not match its checksums");
            return Ok(false);
        }
        let file = match File::open(self.data_path()) {
            Ok(f) => f,
            Err(_) => {
                self.discard("its data cannot be opened");
                return Ok(false);
            }
        };
        let mut reader = BufReader::with_capacity(capacity, file.take(data_len));
        let mut block = Vec::new();
        let data_path = self.data_path();
        while let Some(()) = read_block(&mut reader, &mut block)
            .map_err(|e| crate::error::Error::io(&data_path, e))?
        {
            let mut rest: &[u8] = &block;
            while !rest.is_empty() {
                let item = items::get_item(&mut rest).ok_or_else(|| {
                    crate::error::Error::io(
                        self.data_path(),
                        io::Error::new(
                            io::ErrorKind::InvalidData,
                            "a parse cache entry that cannot be decoded: run `aispend cache clear`, \
                             or read with --no-cache",
                        ),
                    )
                })?;
                on_item(item)?;
            }
        }
        Ok(true)
    }

    fn discard(&mut self, why: &str) {
        self.meta = None;
        self.damaged = Some(why.to_owned());
        let _ = fs::remove_file(self.meta_path());
        let _ = fs::remove_file(self.data_path());
    }

    /// A writer for the entry: a new entry (`extend` false), or the items of a grown file's new lines
    /// added to the existing one.
    pub fn writer(&self, extend: bool) -> io::Result<EntryWriter> {
        let (file, data_len) = match (&self.meta, extend) {
            (Some(meta), true) => {
                let mut f = OpenOptions::new().write(true).open(self.data_path())?;
                f.set_len(meta.data_len)?;
                f.seek(SeekFrom::End(0))?;
                (f, meta.data_len)
            }
            _ => {
                let tmp = self.base.with_extension("data.tmp");
                (open_private(&tmp, true)?, 0)
            }
        };
        Ok(EntryWriter {
            out: BufWriter::with_capacity(64 * 1024, file),
            // Grown as items come: most files' entries are far smaller than a block.
            block: Vec::new(),
            data_len,
            extend,
            failed: false,
            sums: sums::Builder::default(),
        })
    }

    /// Commits what `writer` wrote: the data (renamed into place for a new entry), then the description.
    pub fn commit(
        &mut self,
        writer: EntryWriter,
        source: &str,
        summary: FileFacts,
    ) -> io::Result<()> {
        let Some((data_len, sums)) = writer.finish()? else {
            return Ok(());
        };
        let extend = self.meta.is_some() && summary.extended;
        if !extend {
            fs::rename(self.base.with_extension("data.tmp"), self.data_path())?;
        }
        // The stamp is taken again: if the file changed while it was read, what was read is not described
        // by any stamp, and the next run reads the file again.
        let stamp = fs::metadata(&self.file).map(|m| Stamp::of(&m))?;
        let consistent = stamp == self.stamp;
        let racy = now_ns() - stamp.modified_ns.max(stamp.changed_ns) < RACY_NS;
        let meta = Meta {
            identity: self.identity.clone(),
            source: source.to_owned(),
            stamp: if consistent {
                self.stamp
            } else {
                // Never matches a real file: the next run reads it again.
                Stamp {
                    len: u64::MAX,
                    ..self.stamp
                }
            },
            resumable: summary.resumable && consistent,
            content_hash: summary.content_hash,
            racy,
            next_line: summary.next_line,
            bytes: summary.bytes,
            no_final_newline: summary.no_final_newline,
            lines: summary.lines,
            data_len,
            sums,
        };
        replace_meta(&self.base, &encode_meta(&meta))?;
        self.meta = Some(meta);
        Ok(())
    }

    /// Drops a writer without committing: the entry stays as it was (a new entry's data is removed).
    pub fn abandon(&self, writer: EntryWriter) {
        if !writer.extend {
            let _ = fs::remove_file(self.base.with_extension("data.tmp"));
        }
    }
}

/// What the driver learned reading a file, for the entry's description.
#[derive(Debug, Clone, Copy, Default)]
pub struct FileFacts {
    /// The entry was extended (a grown file's new lines appended).
    pub extended: bool,
    /// Plain JSON Lines that ended with a new line.
    pub resumable: bool,
    pub next_line: u64,
    pub bytes: u64,
    /// Lines read that are not blank.
    pub lines: u64,
    pub no_final_newline: bool,
    /// Hash of every raw byte read (see [`Hashing`]).
    pub content_hash: u64,
}

/// Writes an entry's items in checksummed blocks.
pub struct EntryWriter {
    out: BufWriter<File>,
    block: Vec<u8>,
    data_len: u64,
    extend: bool,
    /// An item could not be encoded or written: the entry is not committed.
    failed: bool,
    /// The sums of every record of the file (those of the entry it extends included).
    sums: sums::Builder,
}

impl EntryWriter {
    /// Adds one item.
    pub fn push(&mut self, item: ItemRef<'_>) {
        if self.failed {
            return;
        }
        match item {
            ItemRef::Record(r) => self.sums.record(r),
            ItemRef::Error(_) => self.sums.error(),
            ItemRef::Foreign => {}
        }
        if matches!(item, ItemRef::Foreign) {
            self.failed = true;
            return;
        }
        match item {
            ItemRef::Record(r) => {
                if !items::put_record(&mut self.block, r) {
                    self.failed = true;
                    return;
                }
            }
            ItemRef::Error(e) => items::put_error(&mut self.block, e),
            ItemRef::Foreign => {}
        }
        if self.block.len() >= BLOCK_BYTES && self.flush_block().is_err() {
            self.failed = true;
        }
    }

    /// Counts an item already in the entry (a grown file's earlier part, replayed) in the sums.
    pub fn replayed(&mut self, item: &std::result::Result<UsageRecord, RecordError>) {
        match item {
            Ok(r) => self.sums.record(r),
            Err(_) => self.sums.error(),
        }
    }

    fn flush_block(&mut self) -> io::Result<()> {
        if self.block.is_empty() {
            return Ok(());
        }
        let len =
            u32::try_from(self.block.len()).map_err(|_| io::Error::other("block too large"))?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&xxh3_64(&self.block).to_le_bytes())?;
        self.out.write_all(&self.block)?;
        self.data_len += 12 + u64::from(len);
        self.block.clear();
        Ok(())
    }

    /// The data length and the sums, or `None` when the entry must not be committed.
    fn finish(mut self) -> io::Result<Option<(u64, Option<FileSums>)>> {
        if self.failed {
            return Ok(None);
        }
        self.flush_block()?;
        self.out.flush()?;
        Ok(Some((self.data_len, self.sums.finish())))
    }
}

/// Reads one block into `block`; `None` at the end.
fn read_block(reader: &mut dyn Read, block: &mut Vec<u8>) -> io::Result<Option<()>> {
    let mut header = [0u8; 12];
    match reader.read_exact(&mut header[..4]) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    reader.read_exact(&mut header[4..])?;
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let hash = u64::from_le_bytes(header[4..12].try_into().unwrap_or_default());
    block.clear();
    block.resize(len, 0);
    reader.read_exact(block)?;
    if xxh3_64(block) != hash {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "block checksum"));
    }
    Ok(Some(()))
}

/// Whether the first `len` bytes of `reader` are whole blocks with valid checksums.
fn verify_blocks(reader: impl Read, len: u64) -> io::Result<bool> {
    let mut limited = reader.take(len);
    let mut block = Vec::new();
    let mut seen = 0u64;
    loop {
        match read_block(&mut limited, &mut block) {
            Ok(Some(())) => seen += 12 + block.len() as u64,
            Ok(None) => return Ok(seen == len),
            Err(e) if e.kind() == io::ErrorKind::InvalidData => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(e) => return Err(e),
        }
    }
}

/// The first bytes of a meta file.
const MAGIC: [u8; 8] = *b"aispmeta";
/// The version of the meta file's format (bumped with every change to it or to the data's): a meta file
/// of another version is void, and its entry rebuilt.
const VERSION: u32 = 5;
/// The bytes of a meta file's header.
const HEADER_BYTES: usize = 72;

/// A meta file's header: where its three sections lie and their checksums. The sections follow it in
/// order: the encoded description, the sums' rows (see [`sums`]), the sums' id hashes (8 bytes each,
/// little-endian); each can be read and checked without the ones after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    meta_len: u64,
    rows_len: u64,
    ids_len: u64,
    meta_hash: u64,
    rows_hash: u64,
    ids_hash: u64,
}

/// How a meta file reads.
enum MetaRead {
    /// No file, or one of another format version: nothing to use, nothing damaged.
    Void,
    Damaged,
    Read(Box<Meta>, Header),
}

impl Header {
    fn encode(&self) -> [u8; HEADER_BYTES] {
        let mut out = [0u8; HEADER_BYTES];
        out[..8].copy_from_slice(&MAGIC);
        out[8..12].copy_from_slice(&VERSION.to_le_bytes());
        let fields = [
            self.meta_len,
            self.rows_len,
            self.ids_len,
            self.meta_hash,
            self.rows_hash,
            self.ids_hash,
        ];
        for (i, v) in fields.iter().enumerate() {
            out[16 + 8 * i..24 + 8 * i].copy_from_slice(&v.to_le_bytes());
        }
        let hash = xxh3_64(&out[..64]);
        out[64..].copy_from_slice(&hash.to_le_bytes());
        out
    }

    /// The header, `Err(true)` when the bytes are of another version, `Err(false)` when damaged.
    fn decode(bytes: &[u8; HEADER_BYTES]) -> Result<Header, bool> {
        let word = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(b)
        };
        if bytes[..8] != MAGIC {
            return Err(false);
        }
        if bytes[8..12] != VERSION.to_le_bytes() {
            return Err(true);
        }
        if xxh3_64(&bytes[..64]) != word(64) {
            return Err(false);
        }
        Ok(Header {
            meta_len: word(16),
            rows_len: word(24),
            ids_len: word(32),
            meta_hash: word(40),
            rows_hash: word(48),
            ids_hash: word(56),
        })
    }
}

/// The meta file of `meta`: its header, then its sections (see [`Header`]).
/// Rewrites the description of the entry at `base` as not racy, its sums' rows and ids as they are,
/// when it still describes the content that was checked (`stamp`, `content_hash`); the caller holds the
/// entry's lock. A racy entry (written within [`RACY_NS`] of its file's last change) is trusted only
/// after its whole file hashes the same; once that change is older than [`RACY_NS`], any later change
/// moves the file's times past the stamp, so the stamp alone is enough. Without this, every run hashed
/// every file copied or written just before the first run.
fn settle_meta(base: &Path, stamp: &Stamp, content_hash: u64) -> io::Result<()> {
    let path = base.with_extension("meta");
    let bytes = fs::read(&path)?;
    let unusable = || io::Error::new(io::ErrorKind::InvalidData, "unusable description");
    let head: &[u8; HEADER_BYTES] = bytes
        .get(..HEADER_BYTES)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(unusable)?;
    let header = Header::decode(head).map_err(|_| unusable())?;
    let at_rows = usize::try_from(header.meta_len)
        .ok()
        .and_then(|n| n.checked_add(HEADER_BYTES))
        .filter(|&n| n <= bytes.len())
        .ok_or_else(unusable)?;
    let described = &bytes[HEADER_BYTES..at_rows];
    if xxh3_64(described) != header.meta_hash {
        return Err(unusable());
    }
    let mut meta: Meta = postcard::from_bytes(described).map_err(|_| unusable())?;
    if !meta.racy || meta.stamp != *stamp || meta.content_hash != content_hash {
        return Ok(());
    }
    meta.racy = false;
    let described = postcard::to_stdvec(&meta).map_err(|_| unusable())?;
    let header = Header {
        meta_len: described.len() as u64,
        meta_hash: xxh3_64(&described),
        ..header
    };
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&header.encode());
    out.extend_from_slice(&described);
    out.extend_from_slice(&bytes[at_rows..]);
    replace_meta(base, &out)
}

/// Replaces the description of the entry at `base` with `bytes`, atomically (written beside it, then
/// renamed over it); a failed write leaves no temporary file.
fn replace_meta(base: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = base.with_extension("meta.tmp");
    let written = open_private(&tmp, true)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| fs::rename(&tmp, base.with_extension("meta")));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Now, in nanoseconds since the Unix epoch (0 for a clock set before it).
fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

fn encode_meta(meta: &Meta) -> Vec<u8> {
    let described = postcard::to_stdvec(meta).unwrap_or_default();
    let (rows, ids): (&[u8], &[u64]) = meta.sums.as_ref().map_or((&[], &[]), |s| (&s.rows, &s.ids));
    let mut bytes = Vec::with_capacity(HEADER_BYTES + described.len() + rows.len() + ids.len() * 8);
    bytes.resize(HEADER_BYTES, 0);
    bytes.extend_from_slice(&described);
    bytes.extend_from_slice(rows);
    for id in ids {
        bytes.extend_from_slice(&id.to_le_bytes());
    }
    let (at_rows, at_ids) = (
        HEADER_BYTES + described.len(),
        HEADER_BYTES + described.len() + rows.len(),
    );
    let header = Header {
        meta_len: described.len() as u64,
        rows_len: rows.len() as u64,
        ids_len: (ids.len() * 8) as u64,
        meta_hash: xxh3_64(&bytes[HEADER_BYTES..at_rows]),
        rows_hash: xxh3_64(&bytes[at_rows..at_ids]),
        ids_hash: xxh3_64(&bytes[at_ids..]),
    };
    bytes[..HEADER_BYTES].copy_from_slice(&header.encode());
    bytes
}

/// Reads a meta file's description, and its sums' rows when `rows` (their id hashes are read by
/// [`read_ids`], when needed).
fn read_meta(path: &Path, rows: bool) -> MetaRead {
    let Ok(mut file) = File::open(path) else {
        return MetaRead::Void;
    };
    let mut head = [0u8; HEADER_BYTES];
    if file.read_exact(&mut head).is_err() {
        return MetaRead::Damaged;
    }
    let header = match Header::decode(&head) {
        Ok(h) => h,
        Err(true) => return MetaRead::Void,
        Err(false) => return MetaRead::Damaged,
    };
    let size = file.metadata().map_or(0, |m| m.len());
    let whole = [header.meta_len, header.rows_len, header.ids_len]
        .iter()
        .try_fold(HEADER_BYTES as u64, |a, &b| a.checked_add(b));
    if whole != Some(size) {
        return MetaRead::Damaged;
    }
    let want = header.meta_len + if rows { header.rows_len } else { 0 };
    let Ok(want) = usize::try_from(want) else {
        return MetaRead::Damaged;
    };
    let mut body = Vec::with_capacity(want);
    if (&mut file)
        .take(want as u64)
        .read_to_end(&mut body)
        .is_err()
        || body.len() != want
    {
        return MetaRead::Damaged;
    }
    let (described, row_bytes) = body.split_at(header.meta_len as usize);
    if xxh3_64(described) != header.meta_hash || (rows && xxh3_64(row_bytes) != header.rows_hash) {
        return MetaRead::Damaged;
    }
    let Ok(mut meta) = postcard::from_bytes::<Meta>(described) else {
        return MetaRead::Damaged;
    };
    if rows {
        if let Some(sums) = meta.sums.as_mut() {
            body.drain(..header.meta_len as usize);
            sums.rows = body;
        }
    }
    MetaRead::Read(Box::new(meta), header)
}

/// The id hashes of the meta file at `path`, when it is still the one `header` describes.
fn read_ids(path: &Path, header: &Header) -> Option<Vec<u64>> {
    let mut file = File::open(path).ok()?;
    let mut head = [0u8; HEADER_BYTES];
    file.read_exact(&mut head).ok()?;
    if Header::decode(&head).ok()? != *header {
        return None;
    }
    file.seek(SeekFrom::Start(
        HEADER_BYTES as u64 + header.meta_len + header.rows_len,
    ))
    .ok()?;
    let len = usize::try_from(header.ids_len).ok()?;
    let mut bytes = Vec::with_capacity(len);
    file.take(header.ids_len).read_to_end(&mut bytes).ok()?;
    if bytes.len() != len || len % 8 != 0 || xxh3_64(&bytes) != header.ids_hash {
        return None;
    }
    Some(
        bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect(),
    )
}

/// The answer kept in `path`, when it was found for the files `print` identifies: one flag per file.
fn read_memo(path: &Path, print: u64, files: usize) -> Option<Vec<bool>> {
    let bytes = fs::read(path).ok()?;
    let (body, hash) = bytes.split_at_checked(bytes.len().checked_sub(8)?)?;
    if xxh3_64(body).to_le_bytes() != hash {
        return None;
    }
    let (head, flags) = body.split_at_checked(16)?;
    if head[..8] != print.to_le_bytes() || head[8..] != (files as u64).to_le_bytes() {
        return None;
    }
    if flags.len() != files {
        return None;
    }
    Some(flags.iter().map(|&f| f != 0).collect())
}

/// Keeps an answer of [`ParseCache::sharing`] (replacing the one kept for the same files).
fn write_memo(path: &Path, print: u64, shares: &[bool]) -> io::Result<()> {
    let mut bytes = Vec::with_capacity(24 + shares.len());
    bytes.extend_from_slice(&print.to_le_bytes());
    bytes.extend_from_slice(&(shares.len() as u64).to_le_bytes());
    bytes.extend(shares.iter().map(|&s| u8::from(s)));
    let hash = xxh3_64(&bytes);
    bytes.extend_from_slice(&hash.to_le_bytes());
    // Not under an entry's lock: a name of this process's own, renamed into place.
    let tmp = path.with_extension(format!("share.{}.tmp", std::process::id()));
    {
        let mut f = open_private(&tmp, true)?;
        f.write_all(&bytes)?;
    }
    fs::rename(&tmp, path).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// The running binary's size and modification time, hashed: entries written by another build are void.
fn exe_stamp() -> u64 {
    static STAMP: OnceLock<u64> = OnceLock::new();
    *STAMP.get_or_init(|| {
        let meta = std::env::current_exe().and_then(fs::metadata);
        let text = match meta {
            Ok(m) => {
                let stamp = Stamp::of(&m);
                format!(
                    "{} {} {} {}",
                    env!("CARGO_PKG_VERSION"),
                    stamp.len,
                    stamp.modified_ns,
                    stamp.inode
                )
            }
            Err(_) => env!("CARGO_PKG_VERSION").to_owned(),
        };
        xxh3_64(text.as_bytes())
    })
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Opens (creating) a file readable and writable by its owner only; `truncate` empties it.
fn open_private(path: &Path, truncate: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options
        .read(true)
        .write(true)
        .create(true)
        .truncate(truncate);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// A shared handle, for [`crate::input::ReadOptions`].
pub type Shared = Arc<ParseCache>;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::Write as _;

    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    use super::*;
    use crate::error::Result;
    use crate::input::{read_inputs, Accepted, CacheUse, FileSummary, ReadOptions, RecordSink};
    use crate::record::{DedupPolicy, Provenance, Provider, TokenCounts};

    /// Keeps every record in the order the driver hands them on.
    #[derive(Default)]
    struct Collect(Vec<UsageRecord>);

    impl RecordSink for Collect {
        fn accept(&mut self, record: UsageRecord) -> Result<Accepted> {
            self.0.push(record);
            Ok(Accepted::Added)
        }
    }

    /// Every field set, so that a field the cache cannot give back fails the round trip (the literal
    /// names every field: a new one must be added here).
    fn full_record() -> UsageRecord {
        UsageRecord {
            id: "req-1".into(),
            source: "api-log",
            provider: Provider::Anthropic,
            model: "claude-sonnet-4-5".into(),
            start: chrono::DateTime::from_timestamp(1_790_000_000, 123_456_789).unwrap(),
            end: chrono::DateTime::from_timestamp(1_790_000_060, 1),
            service_tier: Some("priority".into()),
            batch: true,
            region: Some("eu-west-1".into()),
            long_context: Some(true),
            team: Some("search".into()),
            project: Some("ranker".into()),
            user: Some("u-1".into()),
            api_key: Some("key-id".into()),
            workspace: Some("ws".into()),
            billing_account: Some("org-1".into()),
            billing_account_name: Some("Org".into()),
            tags: BTreeMap::from([("env".into(), "prod".into())]),
            tokens: TokenCounts {
                input: 1,
                cache_read: 2,
                cache_read_audio: 19,
                cache_write_5m: 3,
                cache_write_1h: 4,
                output: 5,
                reasoning: 6,
                audio_input: 7,
                audio_output: 8,
                image_input: 9,
                image_output: 10,
                web_search_requests: 11,
                web_search_preview_calls: 20,
                web_fetch_requests: 15,
                file_search_calls: 16,
                code_execution_calls: 17,
                grounded_prompts: 18,
                images: 12,
                seconds: 13,
            },
            requests: 14,
            reported_cost: Some(dec!(0.000000000000000123)),
            reported_currency: Some("USD".into()),
            status: Some(529),
            failed: true,
            latency_ms: Some(1500),
            failure: Some(crate::record::FailureClass::Overloaded),
            attempt: Some(2),
            retry_of: Some("req-0".into()),
            provenance: Provenance {
                file: Arc::from("log.jsonl"),
                line: 42,
            },
            dedup: DedupPolicy::KeepLargest,
        }
    }

    #[test]
    fn a_record_comes_back_as_it_went_in_but_for_what_the_file_supplies() {
        let record = full_record();
        let mut bytes = Vec::new();
        assert!(items::put_record(&mut bytes, &record));
        let mut rest = &bytes[..];
        let Some(Item::Record(mut back)) = items::get_item(&mut rest) else {
            panic!("not a record");
        };
        assert!(rest.is_empty());
        // Cut anywhere, it does not decode (and does not panic).
        for cut in 0..bytes.len() {
            assert!(
                items::get_item(&mut &bytes[..cut]).is_none(),
                "cut at {cut}"
            );
        }
        // Not kept: the driver sets them from the file being read.
        assert_eq!(back.source, "");
        assert_eq!(&*back.provenance.file, "");
        back.source = "api-log";
        back.provenance.file = Arc::from("log.jsonl");
        assert_eq!(back, record);
        let error = RecordError {
            line: 3,
            field: Some("usage.input_tokens".into()),
            message: "not a number".into(),
        };
        let mut bytes = Vec::new();
        items::put_error(&mut bytes, &error);
        assert!(matches!(items::get_item(&mut &bytes[..]), Some(Item::Error(e)) if e == error));
        // And the other values of each field.
        let mut plain = full_record();
        plain.end = None;
        plain.long_context = Some(false);
        plain.tags.clear();
        plain.reported_cost = None;
        plain.failure = None;
        plain.dedup = DedupPolicy::KeepFirst;
        plain.tokens = TokenCounts::default();
        plain.batch = false;
        plain.failed = false;
        let mut bytes = Vec::new();
        assert!(items::put_record(&mut bytes, &plain));
        let Some(Item::Record(mut back)) = items::get_item(&mut &bytes[..]) else {
            panic!("not a record");
        };
        back.source = "api-log";
        back.provenance.file = Arc::from("log.jsonl");
        assert_eq!(back, plain);
    }

    /// A request line; its time (day and hour) and model follow from its id, so that copies of a request
    /// agree on them, and requests fall in several hours, days and models (one without a price).
    fn line(id: u16, input: u32, output: u32) -> String {
        let model = [
            "claude-sonnet-4-5-20250929",
            "claude-haiku-4-5-20251001",
            "no-such-model",
        ][usize::from(id % 3)];
        format!(
            "{{\"timestamp\":\"2026-10-{:02}T{:02}:00:{:02}Z\",\"provider\":\"anthropic\",\"request_id\":\"req_{id}\",\
             \"response\":{{\"id\":\"msg_{id}\",\"type\":\"message\",\"model\":\"{model}\",\
             \"usage\":{{\"input_tokens\":{input},\"output_tokens\":{output}}}}}}}",
            7 + id % 3,
            id % 24,
            id % 60
        )
    }

    /// One line of a log: a request, or a line that is not JSON.
    #[derive(Debug, Clone)]
    enum Line {
        Request(u16, u32, u32),
        Broken,
    }

    /// The same request as a Claude Code line: copies of a request keep the largest.
    fn session_line(id: u16, input: u32, output: u32) -> String {
        let model = ["claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805"][usize::from(id % 2)];
        format!(
            "{{\"sessionId\":\"s\",\"type\":\"assistant\",\"timestamp\":\"2026-10-{:02}T{:02}:00:{:02}Z\",\
             \"requestId\":\"req_{id}\",\"message\":{{\"id\":\"msg_{id}\",\"type\":\"message\",\
             \"role\":\"assistant\",\"model\":\"{model}\",\
             \"usage\":{{\"input_tokens\":{input},\"output_tokens\":{output}}}}}}}",
            7 + id % 3,
            id % 24,
            id % 60
        )
    }

    /// The lines of file `f`: files 0 and 1 are API logs, 2 and 3 Claude Code sessions.
    fn text(f: usize, lines: &[Line]) -> String {
        lines
            .iter()
            .map(|l| match l {
                Line::Request(id, i, o) if f >= 2 => session_line(*id, *i, *o),
                Line::Request(id, i, o) => line(*id, *i, *o),
                Line::Broken => "{\"timestamp\": \"2026-10-07".to_owned(),
            } + "\n")
            .collect()
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// Lines added at the end; `cut` leaves the last one without its new line (a writer mid-line).
        Append(usize, Vec<Line>, bool),
        /// The file written again from scratch.
        Rewrite(usize, Vec<Line>),
        /// One digit changed in place: same size, same lines.
        Digit(usize, usize),
        Delete(usize),
        /// The file replaced by its gzipped content.
        Gzip(usize),
    }

    fn line_strategy() -> impl Strategy<Value = Line> {
        prop_oneof![
            // Ids from a small pool (copies across files), or from a large one (mostly unique).
            4 => (0u16..12, 1u32..5000, 1u32..900).prop_map(|(id, i, o)| Line::Request(id, i, o)),
            5 => (100u16..60_000, 1u32..5000, 1u32..900).prop_map(|(id, i, o)| Line::Request(id, i, o)),
            1 => Just(Line::Broken),
        ]
    }

    fn op_strategy() -> impl Strategy<Value = Op> {
        let lines = || proptest::collection::vec(line_strategy(), 0..6);
        prop_oneof![
            4 => (0usize..4, lines(), any::<bool>()).prop_map(|(f, l, c)| Op::Append(f, l, c)),
            2 => (0usize..4, lines()).prop_map(|(f, l)| Op::Rewrite(f, l)),
            2 => (0usize..4, any::<usize>()).prop_map(|(f, p)| Op::Digit(f, p)),
            1 => (0usize..4).prop_map(Op::Delete),
            1 => (0usize..4).prop_map(Op::Gzip),
        ]
    }

    fn apply(dir: &Path, op: &Op) {
        let path = |f: usize| {
            dir.join(if f >= 2 {
                format!("session{f}.jsonl")
            } else {
                format!("log{f}.jsonl")
            })
        };
        match op {
            Op::Append(f, lines, cut) => {
                let mut t = text(*f, lines);
                if *cut {
                    t.pop();
                }
                let mut file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path(*f))
                    .unwrap();
                file.write_all(t.as_bytes()).unwrap();
            }
            Op::Rewrite(f, lines) => fs::write(path(*f), text(*f, lines)).unwrap(),
            Op::Digit(f, at) => {
                let Ok(mut bytes) = fs::read(path(*f)) else {
                    return;
                };
                let digits: Vec<usize> = (0..bytes.len())
                    .filter(|&i| bytes[i].is_ascii_digit())
                    .collect();
                if let Some(&i) = digits.get(at % digits.len().max(1)) {
                    bytes[i] = if bytes[i] == b'9' { b'1' } else { bytes[i] + 1 };
                    // In place, as an editor that keeps the inode would.
                    let mut file = OpenOptions::new().write(true).open(path(*f)).unwrap();
                    file.write_all(&bytes).unwrap();
                }
            }
            Op::Delete(f) => {
                let _ = fs::remove_file(path(*f));
            }
            Op::Gzip(f) => {
                let Ok(bytes) = fs::read(path(*f)) else {
                    return;
                };
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(&bytes).unwrap();
                fs::write(path(*f), gz.finish().unwrap()).unwrap();
            }
        }
    }

    /// What a read hands on: every record in order and each file's summary (without how the cache served
    /// it), or the error that stopped it.
    fn read(
        dir: &Path,
        cache: Option<&Path>,
        skip_invalid: bool,
    ) -> (
        std::result::Result<Vec<FileSummary>, String>,
        Vec<UsageRecord>,
        Vec<CacheUse>,
    ) {
        let options = ReadOptions {
            skip_invalid,
            cache: cache.map(|c| Arc::new(ParseCache::new(c))),
            ..ReadOptions::default()
        };
        let mut sink = Collect::default();
        let outcome = read_inputs(&[dir.to_path_buf()], options, &mut sink, &mut |_| {});
        let mut uses = Vec::new();
        let outcome = outcome
            .map(|s| {
                s.files
                    .into_iter()
                    .map(|mut f| {
                        uses.push(f.cache);
                        f.cache = CacheUse::Off;
                        f.cache_note = None;
                        f
                    })
                    .collect()
            })
            .map_err(|e| e.to_string());
        (outcome, sink.0, uses)
    }

    /// What a report shows: each file's summary (without how the cache served it), the period, rows,
    /// total, unpriced rows, records read and warnings (costs compared as numbers, as they are shown).
    type Shown = std::result::Result<
        (
            Vec<FileSummary>,
            crate::period::Period,
            Vec<crate::report::Row>,
            crate::report::Totals,
            Vec<crate::report::UnpricedRow>,
            u64,
            Vec<String>,
        ),
        String,
    >;

    /// A report by model and day over the files (read through the cache's sums where they serve), or
    /// the error that stopped it, and how the cache served each file.
    fn report(dir: &Path, cache: Option<&Path>, skip_invalid: bool) -> (Shown, Vec<CacheUse>) {
        report_in(dir, cache, skip_invalid, chrono_tz::UTC)
    }

    /// [`report`] by days in `tz`.
    fn report_in(
        dir: &Path,
        cache: Option<&Path>,
        skip_invalid: bool,
        tz: chrono_tz::Tz,
    ) -> (Shown, Vec<CacheUse>) {
        use crate::report::{aggregate::Aggregator, Dim, ReportQuery, SortBy};
        let book = crate::pricing::PriceBook::built_in().unwrap();
        let rules = crate::config::TeamRules::default();
        let query = ReportQuery {
            group_by: vec![Dim::Model, Dim::Day],
            filters: Vec::new(),
            period: crate::period::PeriodSpec::NewestMonth,
            tz,
            top: None,
            compare: false,
            reconcile: false,
            sort: SortBy::Name,
        };
        let mut agg = Aggregator::new(&query, &rules, &book, true, None);
        let options = ReadOptions {
            skip_invalid,
            cache: cache.map(|c| Arc::new(ParseCache::new(c))),
            ..ReadOptions::default()
        };
        let mut uses = Vec::new();
        match read_inputs(&[dir.to_path_buf()], options, &mut agg, &mut |_| {}) {
            Err(e) => (Err(e.to_string()), uses),
            Ok(summary) => {
                let files: Vec<FileSummary> = summary
                    .files
                    .into_iter()
                    .map(|mut f| {
                        uses.push(f.cache);
                        f.cache = CacheUse::Off;
                        f.cache_note = None;
                        f
                    })
                    .collect();
                let r = agg.finish();
                let shown = (
                    files,
                    r.period,
                    r.rows,
                    r.total,
                    r.unpriced,
                    r.records_read,
                    r.warnings,
                );
                (Ok(shown), uses)
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Whatever happens to the files between runs (lines appended, a line cut mid-way, rewrites, a
        /// digit changed in place, deletion, gzip), a run through the cache hands on exactly what a run
        /// without it does, and a report through the cache (from the files' sums where they serve) is
        /// the report without it.
        #[test]
        fn cached_and_uncached_reads_agree(ops in proptest::collection::vec((op_strategy(), any::<bool>()), 1..10),
                                           skip_invalid in any::<bool>(),
                                           tz in prop_oneof![Just(chrono_tz::UTC), Just(chrono_tz::Europe::Berlin),
                                                             Just(chrono_tz::America::New_York),
                                                             Just(chrono_tz::Asia::Kolkata)]) {
            let logs = tempfile::tempdir().unwrap();
            let cache = tempfile::tempdir().unwrap();
            for (op, report_first) in &ops {
                apply(logs.path(), op);
                let (want_report, _) = report_in(logs.path(), None, skip_invalid, tz);
                if *report_first {
                    let (got_report, _) = report_in(logs.path(), Some(cache.path()), skip_invalid, tz);
                    prop_assert_eq!(&got_report, &want_report, "report after {:?}", op);
                }
                let (want, want_records, _) = read(logs.path(), None, skip_invalid);
                let (got, got_records, _) = read(logs.path(), Some(cache.path()), skip_invalid);
                prop_assert_eq!(&got, &want, "after {:?}", op);
                if want.is_ok() {
                    prop_assert_eq!(&got_records, &want_records, "after {:?}", op);
                }
                let (got_report, _) = report_in(logs.path(), Some(cache.path()), skip_invalid, tz);
                prop_assert_eq!(&got_report, &want_report, "report after {:?}", op);
            }
        }
    }

    #[test]
    fn an_unchanged_file_is_replayed_and_a_grown_one_extended() {
        let logs = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let path = logs.path().join("log.jsonl");
        fs::write(&path, text(0, &[Line::Request(1, 1000, 500)])).unwrap();
        let (_, first, uses) = read(logs.path(), Some(cache.path()), false);
        assert_eq!(uses, [CacheUse::Read]);
        let (_, again, uses) = read(logs.path(), Some(cache.path()), false);
        assert_eq!(uses, [CacheUse::Hit]);
        assert_eq!(again, first);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(text(0, &[Line::Request(2, 2000, 100)]).as_bytes())
            .unwrap();
        let (_, grown, uses) = read(logs.path(), Some(cache.path()), false);
        assert_eq!(uses, [CacheUse::Extended]);
        assert_eq!(grown.len(), 2);
        // The new line keeps its number in the file.
        assert_eq!(grown[1].provenance.line, 2);
        assert_eq!(grown[1].tokens.input, 2000);
        let (_, uncached, _) = read(logs.path(), None, false);
        assert_eq!(grown, uncached);
    }

    #[test]
    fn an_entry_written_right_after_its_file_changed_is_hashed_once_more_then_trusted() {
        // Both files are cached the moment they were written (racy: a same-size rewrite could keep
        // their times). Once that is older than RACY_NS, the next run hashes each once more, by its
        // records or by its sums, and rewrites its description as not racy; later runs trust the
        // stamp. The reports are the same throughout.
        let racy_of = |cache: &Path| {
            let metas = cache_files(cache, "meta");
            assert_eq!(metas.len(), 1);
            match read_meta(&metas[0], true) {
                MetaRead::Read(meta, _) => meta.racy,
                _ => panic!("unreadable description"),
            }
        };
        let (by_records, by_sums) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (cache_records, cache_sums) =
            (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for dir in [&by_records, &by_sums] {
            fs::write(
                dir.path().join("log.jsonl"),
                text(0, &[Line::Request(1, 1000, 500)]),
            )
            .unwrap();
        }
        let (_, first, _) = read(by_records.path(), Some(cache_records.path()), false);
        let (shown, _) = report(by_sums.path(), Some(cache_sums.path()), false);
        assert!(racy_of(cache_records.path()) && racy_of(cache_sums.path()));
        std::thread::sleep(std::time::Duration::from_nanos(
            RACY_NS as u64 + 200_000_000,
        ));
        let (_, again, uses) = read(by_records.path(), Some(cache_records.path()), false);
        assert_eq!(uses, [CacheUse::Hit]);
        assert_eq!(again, first);
        let (summed, uses) = report(by_sums.path(), Some(cache_sums.path()), false);
        assert_eq!(uses, [CacheUse::Summed]);
        assert_eq!(summed, shown);
        assert!(!racy_of(cache_records.path()) && !racy_of(cache_sums.path()));
        let (_, later, uses) = read(by_records.path(), Some(cache_records.path()), false);
        assert_eq!((uses, later), (vec![CacheUse::Hit], first));
        let (later, uses) = report(by_sums.path(), Some(cache_sums.path()), false);
        assert_eq!((uses, later), (vec![CacheUse::Summed], shown));
    }

    #[test]
    fn unchanged_files_with_their_own_ids_are_added_as_sums() {
        let logs = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let write = |name: &str, lines: &[Line]| fs::write(logs.path().join(name), text(0, lines));
        write(
            "a.jsonl",
            &[Line::Request(100, 1000, 500), Line::Request(101, 10, 5)],
        )
        .unwrap();
        // b holds a copy of a request of c, with other counts: which copy counts depends on the order.
        write(
            "b.jsonl",
            &[Line::Request(200, 7, 7), Line::Request(300, 1, 1)],
        )
        .unwrap();
        write(
            "c.jsonl",
            &[Line::Request(300, 9000, 900), Line::Request(301, 2, 2)],
        )
        .unwrap();
        let (want, _) = report(logs.path(), None, false);
        let (cold, uses) = report(logs.path(), Some(cache.path()), false);
        assert_eq!(uses, [CacheUse::Read; 3]);
        assert_eq!(cold, want);
        let (warm, uses) = report(logs.path(), Some(cache.path()), false);
        assert_eq!(uses, [CacheUse::Summed, CacheUse::Hit, CacheUse::Hit]);
        assert_eq!(warm, want);
        // c changes: b, summed before it, shares an id with it, so every file is read by its records.
        let mut file = OpenOptions::new()
            .append(true)
            .open(logs.path().join("c.jsonl"))
            .unwrap();
        file.write_all(text(0, &[Line::Request(302, 3, 3)]).as_bytes())
            .unwrap();
        let (want, _) = report(logs.path(), None, false);
        let (grown, uses) = report(logs.path(), Some(cache.path()), false);
        assert_eq!(uses, [CacheUse::Hit, CacheUse::Hit, CacheUse::Extended]);
        assert_eq!(grown, want);
        // a changes: b and c are summed... but they share an id, so only their records serve.
        write("a.jsonl", &[Line::Request(100, 1000, 500)]).unwrap();
        let (want, _) = report(logs.path(), None, false);
        let (changed, uses) = report(logs.path(), Some(cache.path()), false);
        assert_eq!(uses, [CacheUse::Read, CacheUse::Hit, CacheUse::Hit]);
        assert_eq!(changed, want);
    }

    /// The files of the cache under `cache` whose extension is `ext`.
    fn cache_files(cache: &Path, ext: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = fs::read_dir(cache.join(LAYOUT))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .collect();
        files.sort();
        files
    }

    #[test]
    fn an_entry_of_another_format_version_is_discarded_and_rebuilt_quietly() {
        let logs = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        fs::write(
            logs.path().join("log.jsonl"),
            text(0, &[Line::Request(1, 10, 5), Line::Request(2, 20, 7)]),
        )
        .unwrap();
        let (want, _) = report(logs.path(), None, false);
        let (_, uses) = report(logs.path(), Some(cache.path()), false);
        assert_eq!(uses, [CacheUse::Read]);
        // As an earlier version would have written it: the same bytes under another version number,
        // its header's checksum right.
        for meta in cache_files(cache.path(), "meta") {
            let mut bytes = fs::read(&meta).unwrap();
            bytes[8..12].copy_from_slice(&(VERSION - 1).to_le_bytes());
            let hash = xxh3_64(&bytes[..64]);
            bytes[64..72].copy_from_slice(&hash.to_le_bytes());
            fs::write(&meta, bytes).unwrap();
        }
        let options = ReadOptions {
            cache: Some(Arc::new(ParseCache::new(cache.path()))),
            ..ReadOptions::default()
        };
        let summary = read_inputs(
            &[logs.path().to_path_buf()],
            options,
            &mut Collect::default(),
            &mut |_| {},
        )
        .unwrap();
        // Read again, without a note: it is not damaged, only old.
        assert_eq!(summary.files[0].cache, CacheUse::Read);
        assert_eq!(summary.files[0].cache_note, None);
        let (warm, uses) = report(logs.path(), Some(cache.path()), false);
        assert_eq!(uses, [CacheUse::Summed]);
        assert_eq!(warm, want);
    }

    #[test]
    fn the_entries_of_an_earlier_layout_are_removed() {
        let logs = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let old = cache.path().join(OLD_LAYOUTS[OLD_LAYOUTS.len() - 1]);
        fs::create_dir_all(&old).unwrap();
        fs::write(old.join("0123456789abcdef.meta"), b"an earlier description").unwrap();
        fs::write(old.join("0123456789abcdef.data"), b"earlier records").unwrap();
        fs::write(
            logs.path().join("log.jsonl"),
            text(0, &[Line::Request(1, 10, 5)]),
        )
        .unwrap();
        let (want, _) = report(logs.path(), None, false);
        let (cold, uses) = report(logs.path(), Some(cache.path()), false);
        assert_eq!(uses, [CacheUse::Read]);
        assert_eq!(cold, want);
        assert!(!old.exists());
        assert_eq!(cache_files(cache.path(), "meta").len(), 1);
    }

    #[test]
    fn what_files_share_is_kept_for_the_same_ids_and_found_again_for_others() {
        let logs = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let write = |name: &str, lines: &[Line]| {
            fs::write(logs.path().join(name), text(0, lines)).unwrap();
        };
        write("a.jsonl", &[Line::Request(100, 1000, 500)]);
        // b and c hold copies of one request, with other counts: the later, larger one counts.
        write(
            "b.jsonl",
            &[Line::Request(200, 7, 7), Line::Request(300, 1, 1)],
        );
        write("c.jsonl", &[Line::Request(300, 9000, 900)]);
        let (want, _) = report(logs.path(), None, false);
        let (_, uses) = report(logs.path(), Some(cache.path()), false);
        assert_eq!(uses, [CacheUse::Read; 3]);
        let memos = |cache: &Path| cache_files(cache, "share");
        // The first run (files read into the cache, then added as their sums) compares the ids and
        // keeps the answer: the same answer from what was kept.
        assert_eq!(memos(cache.path()).len(), 1);
        for _ in 0..2 {
            let (warm, uses) = report(logs.path(), Some(cache.path()), false);
            assert_eq!(uses, [CacheUse::Summed, CacheUse::Hit, CacheUse::Hit]);
            assert_eq!(warm, want);
            assert_eq!(memos(cache.path()).len(), 1);
        }
        // A damaged answer is not used.
        fs::write(&memos(cache.path())[0], b"\x01\x01\x01").unwrap();
        let (warm, uses) = report(logs.path(), Some(cache.path()), false);
        assert_eq!(uses, [CacheUse::Summed, CacheUse::Hit, CacheUse::Hit]);
        assert_eq!(warm, want);
        // c no longer holds b's request: once its entry is rebuilt, every file is summed.
        write("c.jsonl", &[Line::Request(301, 9000, 900)]);
        let (want, _) = report(logs.path(), None, false);
        let (_, uses) = report(logs.path(), Some(cache.path()), false);
        assert_eq!(uses, [CacheUse::Summed, CacheUse::Summed, CacheUse::Read]);
        let (warm, uses) = report(logs.path(), Some(cache.path()), false);
        assert_eq!(uses, [CacheUse::Summed; 3]);
        assert_eq!(warm, want);
        // And back: the answer kept for the list of files is for other ids, so it is found again.
        write("c.jsonl", &[Line::Request(300, 9000, 900)]);
        let (want, _) = report(logs.path(), None, false);
        let (changed, _) = report(logs.path(), Some(cache.path()), false);
        assert_eq!(changed, want);
        let (warm, uses) = report(logs.path(), Some(cache.path()), false);
        assert_eq!(uses, [CacheUse::Summed, CacheUse::Hit, CacheUse::Hit]);
        assert_eq!(warm, want);
    }

    #[test]
    fn a_damaged_entry_is_discarded_and_the_file_read_again() {
        let logs = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        fs::write(
            logs.path().join("log.jsonl"),
            text(0, &[Line::Request(1, 10, 5)]),
        )
        .unwrap();
        let (_, want, _) = read(logs.path(), Some(cache.path()), false);
        for entry in fs::read_dir(cache.path().join(LAYOUT)).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "data") {
                let mut bytes = fs::read(&p).unwrap();
                let last = bytes.len() - 1;
                bytes[last] ^= 0xff;
                fs::write(&p, bytes).unwrap();
            }
        }
        let options = ReadOptions {
            cache: Some(Arc::new(ParseCache::new(cache.path()))),
            ..ReadOptions::default()
        };
        let mut sink = Collect::default();
        let summary = read_inputs(
            &[logs.path().to_path_buf()],
            options,
            &mut sink,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(sink.0, want);
        assert_eq!(summary.files[0].cache, CacheUse::Read);
        assert!(summary.files[0]
            .cache_note
            .as_deref()
            .is_some_and(|n| n.contains("checksums")));
        let (_, again, uses) = read(logs.path(), Some(cache.path()), false);
        assert_eq!(uses, [CacheUse::Hit]);
        assert_eq!(again, want);
    }
}
