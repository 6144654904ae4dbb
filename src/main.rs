//! The `aispend` binary: parse the command line, run it, map errors to exit codes.

use clap::Parser;

#[global_allocator]
static ALLOCATOR: Allocator = Allocator;

/// mimalloc, asked for plain blocks where the layout needs no more than pointer alignment (nearly every
/// Rust allocation), and for aligned blocks otherwise. The `mimalloc` crate's allocator asked for every
/// block by `mi_malloc_aligned`, whose fast path holds only up to 1 KiB: a larger block whose size is not
/// a power of two (a line, a chunk's records, a growing buffer) took the over-allocating path, 2% of the
/// instructions of reading API logs. A block from `mi_malloc` is always aligned to a pointer's size, the
/// rule mimalloc's own `mi_realloc_aligned` uses to take the plain path.
struct Allocator;

const PLAIN_ALIGN: usize = std::mem::size_of::<usize>();

/// A block for `layout`: from `plain` where pointer alignment is all it needs, else from `aligned`.
#[inline(always)]
fn block(
    layout: std::alloc::Layout,
    plain: unsafe extern "C" fn(usize) -> *mut std::ffi::c_void,
    aligned: unsafe extern "C" fn(usize, usize) -> *mut std::ffi::c_void,
) -> *mut u8 {
    // SAFETY: both take any size, and `aligned` a power of two (which a layout's alignment is); a null
    // return is the allocation failure `GlobalAlloc` expects.
    let p = unsafe {
        if layout.align() <= PLAIN_ALIGN {
            plain(layout.size())
        } else {
            aligned(layout.size(), layout.align())
        }
    };
    p.cast()
}

// SAFETY: every block comes from mimalloc and goes back to it (`mi_free` takes blocks of either kind),
// aligned as its layout asks (see `block`); a block is resized by `mi_realloc_aligned` with the
// alignment it was asked for.
unsafe impl std::alloc::GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        block(
            layout,
            libmimalloc_sys::mi_malloc,
            libmimalloc_sys::mi_malloc_aligned,
        )
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        block(
            layout,
            libmimalloc_sys::mi_zalloc,
            libmimalloc_sys::mi_zalloc_aligned,
        )
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: std::alloc::Layout) {
        // SAFETY: the caller's contract: `ptr` is a live block from this allocator.
        unsafe { libmimalloc_sys::mi_free(ptr.cast()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract: `ptr` is a live block of `layout`, `new_size` is not zero.
        // mimalloc takes the plain path itself for a pointer's alignment or less.
        unsafe { libmimalloc_sys::mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast() }
    }
}

/// Transparent huge pages off: the allocator asks for them, and every fresh 2 MiB page the kernel hands
/// over is zeroed whole however little of it is used. A report on 200 MB of API logs spent 15% of its
/// time clearing pages and peaked at 67 MiB; without them, 44 MiB. Done before `main`, from the
/// process's initialisers: the standard library allocates before `main` runs, and that first allocation
/// made the allocator reserve its first region as two huge pages (4 MiB zeroed on every run, a tenth of
/// the time `aispend --version` took).
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static NO_HUGE_PAGES: extern "C" fn() = {
    extern "C" fn no_huge_pages() {
        // SAFETY: prctl with PR_SET_THP_DISABLE takes plain integers and touches only this process's
        // flags.
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
    no_huge_pages
};

fn main() {
    return_freed_memory_sooner();
    let cli = match aispend::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are successes; every other parse error is bad usage (exit 2).
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let code = match aispend::cli::run(cli) {
        Ok(code) => code,
        Err(e) if e.is_broken_pipe() => 0,
        Err(e) => {
            // One line, control characters escaped: the message may quote input values.
            eprintln!("aispend: {}", aispend::sanitize::message(&e.to_string()));
            e.exit_code()
        }
    };
    std::process::exit(code);
}

/// `mi_option_purge_delay`: its place in mimalloc's `mi_option_e` (mimalloc.h of the v3 sources that
/// libmimalloc-sys 0.1.49 builds; the crate declares no constant for it).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
/// mimalloc v3's default purge delay (ms), which tells that [`MI_OPTION_PURGE_DELAY`] is the option meant.
const MI_DEFAULT_PURGE_DELAY: std::ffi::c_long = 1000;

extern "C" {
    fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// Freed memory goes back to the system after 100 ms instead of mimalloc v3's 1 s. Records are allocated
/// on parser threads and freed on the aggregating one, and what they free is held for the delay before
/// it can be reused or returned: on a first run over 1 GB of API logs (records read, priced and written
/// to the parse cache) the peak was 95–109 MiB with 1 s, 60–68 MiB with 100 ms, for ~0.1 s more system
/// time. An explicit `MIMALLOC_PURGE_DELAY` is left as set.
fn return_freed_memory_sooner() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: mimalloc's option calls take plain integers; the option is checked to hold the purge
    // delay's default before it is changed.
    unsafe {
        if mi_option_get(MI_OPTION_PURGE_DELAY) == MI_DEFAULT_PURGE_DELAY {
            mi_option_set(MI_OPTION_PURGE_DELAY, 100);
        }
    }
}
