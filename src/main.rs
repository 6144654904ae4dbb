//! The `aispend` binary: parse the command line, run it, map errors to exit codes.

use clap::Parser;

#[global_allocator]
static ALLOCATOR: Allocator = Allocator;

/// mimalloc, asked for plain blocks where the layout needs no more than pointer alignment (nearly every
/// Rust allocation). `mimalloc::MiMalloc` asks for every block by `mi_malloc_aligned`, whose fast path
/// holds only up to 1 KiB: a larger block whose size is not a power of two (a line, a chunk's records, a
/// growing buffer) takes the over-allocating path, which cost 2% of the instructions of reading API logs.
/// A block from `mi_malloc` is always aligned to a pointer's size, which is the rule mimalloc's own
/// `mi_realloc_aligned` uses to take the plain path.
struct Allocator;

const PLAIN_ALIGN: usize = std::mem::size_of::<usize>();

// SAFETY: every block comes from mimalloc and goes back to it (`mi_free` takes blocks of either kind);
// a plain block is asked for only where pointer alignment is all the layout needs, which `mi_malloc`
// always gives, and any other layout goes to `MiMalloc` unchanged.
unsafe impl std::alloc::GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if layout.align() <= PLAIN_ALIGN {
            // SAFETY: mi_malloc takes any size; a null return is the allocation failure GlobalAlloc expects.
            unsafe { libmimalloc_sys::mi_malloc(layout.size()).cast() }
        } else {
            // SAFETY: the caller's contract, passed on.
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        if layout.align() <= PLAIN_ALIGN {
            // SAFETY: as in `alloc`.
            unsafe { libmimalloc_sys::mi_zalloc(layout.size()).cast() }
        } else {
            // SAFETY: the caller's contract, passed on.
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: the caller's contract, passed on; MiMalloc frees with mi_free, whatever the alignment.
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on; MiMalloc already takes the plain path for a pointer's
        // alignment.
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
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
