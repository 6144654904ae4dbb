//! The `aispend` binary: parse the command line, run it, map errors to exit codes.

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // Transparent huge pages off: the allocator asks for them, and every fresh 2 MiB page the kernel
    // hands over is zeroed whole however little of it is used. A report on 200 MB of API logs spent 15%
    // of its time clearing pages and peaked at 67 MiB; without them, 44 MiB.
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE takes plain integers and touches only this process's flags.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
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
