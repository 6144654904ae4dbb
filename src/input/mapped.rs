//! Reading a regular file through a read-only memory map: the parsers read the page cache itself, with no
//! copy of every byte into a buffer first.
//!
//! A mapped file that another process truncates while it is read would kill the process: touching a page
//! past the file's new end raises `SIGBUS`. A handler (installed once, with the first map) looks the
//! faulting address up among the live maps; inside one, it puts zero-filled memory in place of the rest
//! of that map, notes that the map's file shrank, and returns, so the read goes on over zeros. The reader
//! then asks [`Map::shrank`] before it hands anything on from what it read, and fails the file with
//! [`shrank_error`] instead: nothing read from zeros is ever handed on or cached. A `SIGBUS` anywhere
//! else goes to the action there was before (the default one kills the process, as without the handler).
//!
//! Only on Linux; elsewhere [`Map::new`] maps nothing and every file is read.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;

use crate::cache::SharedHasher;

/// Which files are read through a map.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum MapPolicy {
    /// Regular files of [`MAP_FROM_BYTES`] or more.
    #[default]
    Large,
    /// Every regular file that is not empty (tests: every fixture through the map).
    #[cfg_attr(not(test), allow(dead_code))]
    Always,
    /// None (tests: the same inputs read).
    Never,
}

/// Below this size a file is read: for a small file, setting up and tearing down a map (the unmap
/// flushes the address translations of every thread) costs more than copying its bytes. Measured on
/// trees of Claude Code logs cut into files of one size: mapped, files of 128 KiB took 40% more CPU time,
/// of 512 KiB as much, of 1 and 2 MiB 10% less.
pub(crate) const MAP_FROM_BYTES: u64 = 1024 * 1024;

impl MapPolicy {
    /// Whether a regular file of `len` bytes is mapped.
    pub(crate) fn maps(self, len: u64) -> bool {
        len > 0
            && match self {
                MapPolicy::Large => len >= MAP_FROM_BYTES,
                MapPolicy::Always => true,
                MapPolicy::Never => false,
            }
    }
}

/// The error of a file that shrank while it was mapped.
pub(crate) fn shrank_error() -> io::Error {
    io::Error::other("the file shrank while it was being read; run again")
}

/// A regular file mapped read-only, whole.
pub(crate) struct Map {
    ptr: *const u8,
    len: usize,
    /// The map's slot in the table the `SIGBUS` handler looks in.
    slot: usize,
    file: File,
}

// SAFETY: the map is read-only memory owned by the value; nothing in it is tied to a thread.
unsafe impl Send for Map {}
// SAFETY: as above: shared access only reads.
unsafe impl Sync for Map {}

impl Map {
    /// Maps `file` whole, when it is a regular file that `policy` maps (else, or when mapping fails, the
    /// file back, to be read).
    pub(crate) fn new(file: File, policy: MapPolicy) -> std::result::Result<Map, File> {
        let len = match file.metadata() {
            Ok(m) if m.is_file() && policy.maps(m.len()) => m.len(),
            _ => return Err(file),
        };
        let Ok(len) = usize::try_from(len) else {
            return Err(file);
        };
        sys::map(file, len)
    }

    /// The file's bytes, as they were when it was mapped (the ones past where it shrank to read as zeros).
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` is a readable map of `len` bytes, alive as long as `self`: pages past the end of a
        // shrunken file are replaced by zeros (see the module), never left to fault.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// Whether the file shrank since it was mapped: a page past its new end was touched (and read as
    /// zeros), or it is now shorter than the map (the rest of its last page reads as zeros without a
    /// fault). What was read from the map must then not be used.
    pub(crate) fn shrank(&self) -> bool {
        sys::touched_past_end(self.slot)
            || self
                .file
                .metadata()
                .is_ok_and(|m| m.len() < self.len as u64)
    }

    /// Hands the pages of the bytes from `from` to `to` back to the page cache: they leave the process's
    /// resident memory (touched again, they are mapped again), so that reading a large file does not
    /// grow it.
    pub(crate) fn release(&self, from: usize, to: usize) {
        sys::release(self, from, to);
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        sys::unmap(self);
    }
}

/// How much of a large map is read before the pages read are handed back ([`Map::release`]): a chunk, so
/// that a batch's pages are handed back once it is parsed, and a large file adds no more to the resident
/// memory than the buffers it was read into did.
const RELEASE_BYTES: usize = 1024 * 1024;

/// A map read from front to back: what was read of it is hashed (for the parse cache), counted on the
/// progress bar, remembered as the last byte, and released every few MiB.
pub(crate) struct Mapped<'a> {
    pub(crate) map: &'a Map,
    /// Where the content starts (after the byte order mark).
    pub(crate) start: usize,
    /// How far the bytes were taken into account.
    done: usize,
    released: usize,
    hasher: Option<SharedHasher>,
    bar: Option<indicatif::ProgressBar>,
    last: Arc<AtomicU16>,
}

impl<'a> Mapped<'a> {
    pub(crate) fn new(
        map: &'a Map,
        hasher: Option<SharedHasher>,
        bar: Option<&indicatif::ProgressBar>,
        last: Arc<AtomicU16>,
    ) -> Mapped<'a> {
        Mapped {
            map,
            start: 0,
            done: 0,
            released: 0,
            hasher,
            bar: bar.cloned(),
            last,
        }
    }

    /// The content: the file's bytes after the byte order mark.
    pub(crate) fn content(&self) -> &'a [u8] {
        &self.map.bytes()[self.start..]
    }

    /// Takes the bytes up to `end` (of the file) into account as read: hashed, counted, and released
    /// once a few MiB of them are.
    pub(crate) fn advance(&mut self, end: usize) {
        let bytes = self.map.bytes();
        let end = end.min(bytes.len());
        if end <= self.done {
            return;
        }
        let read = &bytes[self.done..end];
        if let Some(hasher) = &self.hasher {
            if let Ok(mut h) = hasher.lock() {
                h.update(read);
            }
        }
        if let Some(bar) = &self.bar {
            bar.inc(read.len() as u64);
        }
        if let Some(&byte) = read.last() {
            self.last.store(u16::from(byte), Ordering::Relaxed);
        }
        self.done = end;
        if end - self.released >= RELEASE_BYTES {
            self.map.release(self.released, end);
            self.released = end;
        }
    }

    /// The content from where it was read to, as a stream that fails once the file is found to have
    /// shrunk.
    pub(crate) fn into_reader(mut self) -> MappedReader<'a> {
        let at = self.start;
        // The byte order mark, not part of the content, was read.
        self.advance(at);
        MappedReader { mapped: self }
    }
}

/// A [`Mapped`] read as a stream (for the sources that read one).
pub(crate) struct MappedReader<'a> {
    mapped: Mapped<'a>,
}

/// How much a [`MappedReader`] hands out at a time.
const READER_BYTES: usize = 256 * 1024;

impl io::Read for MappedReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let buf = io::BufRead::fill_buf(self)?;
        let n = buf.len().min(out.len());
        out[..n].copy_from_slice(&buf[..n]);
        io::BufRead::consume(self, n);
        Ok(n)
    }
}

impl io::BufRead for MappedReader<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let bytes = self.mapped.map.bytes();
        let at = self.mapped.done;
        // The end of the map, or a part of it read over zeros: the file shrank.
        if (at == bytes.len() || sys::touched_past_end(self.mapped.map.slot))
            && self.mapped.map.shrank()
        {
            return Err(shrank_error());
        }
        Ok(&bytes[at..bytes.len().min(at + READER_BYTES)])
    }

    fn consume(&mut self, n: usize) {
        let to = self.mapped.done + n;
        self.mapped.advance(to);
    }
}

#[cfg(target_os = "linux")]
mod sys {
    //! The map itself, and the `SIGBUS` handler with its table of live maps.

    use std::fs::File;
    use std::os::fd::AsRawFd;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::OnceLock;

    use super::Map;

    /// Live maps the handler knows of at once; a file is read when every slot is taken (there are as
    /// many maps as threads reading files, and a few more).
    const SLOTS: usize = 256;

    /// One live map's address range (`start == 0`: free; `end == 0`: being set up or torn down, matches
    /// nothing) and whether a page past its file's end was touched.
    struct Slot {
        start: AtomicUsize,
        end: AtomicUsize,
        shrank: AtomicBool,
    }

    #[allow(clippy::declare_interior_mutable_const)]
    const FREE: Slot = Slot {
        start: AtomicUsize::new(0),
        end: AtomicUsize::new(0),
        shrank: AtomicBool::new(false),
    };

    static TABLE: [Slot; SLOTS] = [FREE; SLOTS];

    /// The page size, read when the handler is installed (the handler cannot ask for it).
    static PAGE: AtomicUsize = AtomicUsize::new(0);

    /// The `SIGBUS` action there was before ours, which takes every fault outside our maps. Set once,
    /// before the handler is installed: `None` when it could not be installed (then nothing is mapped).
    static PREVIOUS: OnceLock<Option<Previous>> = OnceLock::new();

    struct Previous(libc::sigaction);

    // SAFETY: a plain description of a signal action (a handler address, flags, a mask), only read.
    unsafe impl Sync for Previous {}
    // SAFETY: as above.
    unsafe impl Send for Previous {}

    /// Installs the handler, once; whether it is installed.
    fn installed() -> bool {
        PREVIOUS
            .get_or_init(|| {
                // SAFETY: sysconf takes a constant and touches nothing.
                let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
                let page = usize::try_from(page).ok().filter(|p| p.is_power_of_two())?;
                PAGE.store(page, Ordering::Relaxed);
                // SAFETY: sigaction is given a zeroed, then filled, action of its own type and a place
                // for the previous one; the handler only does what is safe in a signal handler.
                unsafe {
                    let mut action: libc::sigaction = std::mem::zeroed();
                    action.sa_sigaction = on_sigbus as *const () as usize;
                    action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                    libc::sigemptyset(&mut action.sa_mask);
                    let mut previous: libc::sigaction = std::mem::zeroed();
                    // The previous action is known before ours can run: ours is set in the same call,
                    // and reads `PREVIOUS` only once it is set (below, before any map exists).
                    if libc::sigaction(libc::SIGBUS, &action, &mut previous) != 0 {
                        return None;
                    }
                    Some(Previous(previous))
                }
            })
            .is_some()
    }

    /// The `SIGBUS` handler: see the module of [`Map`]. Only atomics and raw system calls.
    extern "C" fn on_sigbus(
        signal: libc::c_int,
        info: *mut libc::siginfo_t,
        _context: *mut libc::c_void,
    ) {
        // SAFETY: the kernel passes a valid siginfo for an SA_SIGINFO handler.
        let (code, addr) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
        // A fault (raised by the kernel, not sent by a process) inside one of our maps.
        if code > 0 {
            if let Some(slot) = TABLE.iter().find(|s| {
                let start = s.start.load(Ordering::Acquire);
                let end = s.end.load(Ordering::Acquire);
                start != 0
                    && start <= addr
                    && addr < end
                    && s.start.load(Ordering::Acquire) == start
            }) {
                let page = PAGE.load(Ordering::Relaxed);
                let from = addr & !(page - 1);
                let end = slot.end.load(Ordering::Acquire);
                // Zeros in place of the rest of the map: past the file's end, all of it.
                // SAFETY: the range lies inside a live map of ours, which nothing else owns; a fixed
                // anonymous map over it is a raw system call, safe in a signal handler.
                let zeros = unsafe {
                    libc::mmap(
                        from as *mut libc::c_void,
                        end - from,
                        libc::PROT_READ,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                        -1,
                        0,
                    )
                };
                if zeros != libc::MAP_FAILED {
                    slot.shrank.store(true, Ordering::Release);
                    return;
                }
            }
        }
        // Not ours: the previous action takes it. A fault recurs when the handler returns; a signal sent
        // by a process is sent again.
        if let Some(Some(previous)) = PREVIOUS.get() {
            // SAFETY: sigaction and raise are async-signal-safe; `previous` is the action sigaction gave.
            unsafe {
                libc::sigaction(signal, &previous.0, std::ptr::null_mut());
                if code <= 0 {
                    libc::raise(signal);
                }
            }
        }
    }

    /// Maps `len` bytes of `file` (not 0), registered with the handler; the file back when it cannot be.
    pub(super) fn map(file: File, len: usize) -> Result<Map, File> {
        if len == 0 || !installed() {
            return Err(file);
        }
        // Pages are mapped as they are first read, not ahead (`MAP_POPULATE`, `MADV_POPULATE_READ`): on
        // Linux 6.18 the page faults, each mapping the pages around it that the page cache holds, cost
        // less than populating. Measured on the 1 GB trees of `scripts/bench.sh`: the Claude Code tree
        // took 0.157 s wall and 0.298 CPU-s against 0.179 and 0.336 populated (10 runs each), the API
        // logs 1.24 and 2.13 against 1.37 and 2.29 (4 runs each).
        // SAFETY: a new read-only map chosen by the kernel, of a file descriptor that is open.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(file);
        }
        let start = ptr as usize;
        let Some(slot) = TABLE.iter().position(|s| {
            s.start
                .compare_exchange(0, start, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        }) else {
            // SAFETY: the map just made, unused.
            unsafe { libc::munmap(ptr, len) };
            return Err(file);
        };
        TABLE[slot].shrank.store(false, Ordering::Release);
        TABLE[slot].end.store(start + len, Ordering::Release);
        // SAFETY: advice on a map of ours.
        unsafe { libc::madvise(ptr, len, libc::MADV_SEQUENTIAL) };
        Ok(Map {
            ptr: ptr as *const u8,
            len,
            slot,
            file,
        })
    }

    /// Whether the handler put zeros in the map of `slot`.
    pub(super) fn touched_past_end(slot: usize) -> bool {
        TABLE[slot].shrank.load(Ordering::Acquire)
    }

    pub(super) fn release(map: &Map, from: usize, to: usize) {
        // Whole pages only: the one `to` falls in is still being read. A private read-only file map
        // refaults released pages from the file when touched again.
        advise(
            map,
            from,
            to.min(map.len) & !(page() - 1),
            libc::MADV_DONTNEED,
        );
    }

    fn page() -> usize {
        PAGE.load(Ordering::Relaxed).max(1)
    }

    /// `madvise(advice)` on the pages of `map` from the one `from` falls in up to `to` (at most the
    /// map's end).
    fn advise(map: &Map, from: usize, to: usize, advice: libc::c_int) {
        let (from, to) = (from & !(page() - 1), to.min(map.len));
        if from < to {
            // SAFETY: advice on pages inside the map.
            unsafe { libc::madvise(map.ptr.add(from) as *mut libc::c_void, to - from, advice) };
        }
    }

    pub(super) fn unmap(map: &mut Map) {
        let slot = &TABLE[map.slot];
        slot.end.store(0, Ordering::Release);
        slot.start.store(0, Ordering::Release);
        // SAFETY: the map made in `map`, no longer borrowed (this is its drop).
        unsafe { libc::munmap(map.ptr as *mut libc::c_void, map.len) };
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    //! No map: every file is read.

    use std::fs::File;

    use super::Map;

    pub(super) fn map(file: File, _len: usize) -> Result<Map, File> {
        Err(file)
    }

    pub(super) fn touched_past_end(_slot: usize) -> bool {
        false
    }

    pub(super) fn release(_map: &Map, _from: usize, _to: usize) {}

    pub(super) fn unmap(_map: &mut Map) {}
}
