//! Floors for the benchmark: how fast this machine does the part of a job that no reader of the same
//! data, and no writer of the same ledger, can skip. `scripts/bench.sh` prints them beside aispend's
//! figures, so that a target is read against what the machine allows, not only against a peer.
//!
//! ```text
//! cargo run --release --example floors -- scan DIR...    # map every file, count lines and "usage" keys
//! cargo run --release --example floors -- insert LEDGER  # SQLite alone: copy a ledger's rows into a new one
//! ```
//!
//! `scan` reads every regular file under the folders as `report` reads a tree of small logs: one file at
//! a time per thread (one thread per core), each mapped read-only and scanned for newlines and for the
//! `"usage"` key, then unmapped. Nothing is parsed, so it is the least any line reader pays for those
//! bytes on this machine.
//!
//! `insert` copies the `records` and `record_ids` rows of a ledger (one written by `aispend import`) into
//! a new file with the same tables, through SQLite alone: no Rust binds a value, no JSON is read, the
//! rows are already encoded and arrive in key order, with no journal and no sync. A `WHERE` clause keeps
//! SQLite from copying the encoded rows as they are (its transfer shortcut for `INSERT … SELECT *`), so
//! every row is decoded, encoded and inserted as an import inserts it. Reading the source rows is timed
//! on its own and taken off. The rest is what SQLite needs to store those rows, the least any import
//! into that schema pays, whatever reads the input. It then stores the same rows once more the way an
//! import must, each bound to one prepared `INSERT … VALUES` (reading them is again left out of the
//! time): what SQLite's statement interface costs on top of the rows themselves.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.split_first() {
        Some((cmd, paths)) if cmd == "scan" && !paths.is_empty() => scan(paths),
        Some((cmd, [ledger])) if cmd == "insert" => insert(Path::new(ledger)),
        _ => Err("usage: floors scan DIR... | floors insert LEDGER".to_string()),
    };
    if let Err(e) = outcome {
        eprintln!("floors: {e}");
        std::process::exit(2);
    }
}

/// CPU time of the process so far (user and system).
#[cfg(target_os = "linux")]
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes the struct it is given and nothing else.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Elsewhere (no `libc` there) CPU time is not measured: it prints as 0.
#[cfg(not(target_os = "linux"))]
fn cpu_time() -> Duration {
    Duration::ZERO
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            files_under(&entry.path(), out)?;
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
    Ok(())
}

#[derive(Default)]
struct Tally {
    bytes: u64,
    lines: u64,
    usage: u64,
}

fn scan(dirs: &[String]) -> Result<(), String> {
    let mut files = Vec::new();
    for dir in dirs {
        files_under(Path::new(dir), &mut files).map_err(|e| format!("{dir}: {e}"))?;
    }
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let next = AtomicUsize::new(0);
    let (wall, cpu) = (Instant::now(), cpu_time());
    let tallies: Vec<Result<Tally, String>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let finder = memchr::memmem::Finder::new(b"\"usage\"");
                    let mut tally = Tally::default();
                    while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let file = std::fs::File::open(path)
                            .map_err(|e| format!("{}: {e}", path.display()))?;
                        map_and(&file, |bytes| {
                            tally.bytes += bytes.len() as u64;
                            tally.lines += memchr::memchr_iter(b'\n', bytes).count() as u64;
                            tally.usage += finder.find_iter(bytes).count() as u64;
                        })
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    }
                    Ok(tally)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let (wall, cpu) = (wall.elapsed(), cpu_time() - cpu);
    let mut total = Tally::default();
    for t in tallies {
        let t = t?;
        total.bytes += t.bytes;
        total.lines += t.lines;
        total.usage += t.usage;
    }
    println!(
        "scan floor: {} files, {:.0} MB, {} lines, {} \"usage\" keys: {:.3} s wall, {:.3} s CPU ({} threads)",
        files.len(),
        total.bytes as f64 / 1e6,
        total.lines,
        total.usage,
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        threads
    );
    Ok(())
}

/// Runs `read` on the bytes of `file`, mapped read-only (as `report` maps a file of 1 MiB or more).
#[cfg(target_os = "linux")]
fn map_and(file: &std::fs::File, read: impl FnOnce(&[u8])) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let len = file.metadata()?.len() as usize;
    if len == 0 {
        return Ok(());
    }
    // SAFETY: a new private read-only map of an open file, unmapped below and borrowed only in between;
    // the benchmark's files are not truncated while it runs.
    unsafe {
        let ptr = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_PRIVATE,
            file.as_raw_fd(),
            0,
        );
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        libc::madvise(ptr, len, libc::MADV_SEQUENTIAL);
        read(std::slice::from_raw_parts(ptr as *const u8, len));
        libc::munmap(ptr, len);
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn map_and(file: &std::fs::File, read: impl FnOnce(&[u8])) -> std::io::Result<()> {
    use std::io::Read;
    let mut bytes = Vec::new();
    (&*file).read_to_end(&mut bytes)?;
    read(&bytes);
    Ok(())
}

fn insert(ledger: &Path) -> Result<(), String> {
    let sql = |e: rusqlite::Error| format!("{}: {e}", ledger.display());
    if !ledger.is_file() {
        return Err(format!("{}: no such ledger file", ledger.display()));
    }
    let Some(source) = ledger.to_str() else {
        return Err(format!("{}: the path is not UTF-8", ledger.display()));
    };
    let dir = std::env::temp_dir().join(format!("aispend-floor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let copy = dir.join("copy.db");
    let outcome = (|| {
        let conn = rusqlite::Connection::open(&copy)?;
        conn.execute_batch("PRAGMA journal_mode = off; PRAGMA synchronous = off;")?;
        conn.execute("ATTACH ?1 AS src", [source])?;
        create_tables(&conn, &conn)?;
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('records', 'src')")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        // Every column read, as the copy reads it (`+` of 0s and 1s, no text made).
        let touch = columns
            .iter()
            .map(|c| format!("(\"{c}\" IS NULL)"))
            .collect::<Vec<_>>()
            .join(" + ");
        let rows: i64 = conn.query_row("SELECT count(*) FROM src.records", [], |r| r.get(0))?;
        let timed = |sql: &str| -> rusqlite::Result<f64> {
            let t = Instant::now();
            conn.execute_batch(sql)?;
            Ok(t.elapsed().as_secs_f64())
        };
        let read = timed(&format!(
            "SELECT count(*) FROM src.records WHERE start_ms > -9223372036854775808 AND {touch} >= 0"
        ))?;
        let records = timed(
            "INSERT INTO main.records SELECT * FROM src.records WHERE start_ms > -9223372036854775808",
        )?;
        let read_ids = timed(
            "SELECT count(*) FROM src.record_ids WHERE hash > -9223372036854775808 AND start_ms IS NOT NULL",
        )?;
        let ids = timed(
            "INSERT INTO main.record_ids SELECT * FROM src.record_ids WHERE hash > -9223372036854775808",
        )?;
        let store = (records - read).max(0.0) + (ids - read_ids).max(0.0);
        println!(
            "SQLite floor: {rows} rows: records {records:.3} s and record_ids {ids:.3} s, of which reading \
             the source {:.3} s; storing {store:.3} s = {:.0} rows/s at most, one thread, nothing else done",
            read + read_ids,
            rows as f64 / store
        );
        let bound = bound_inserts(&conn, &dir.join("bound.db"), &columns)?;
        println!(
            "SQLite through a statement: the same rows bound to one prepared INSERT each: storing {bound:.3} s \
             = {:.0} rows/s at most",
            rows as f64 / bound
        );
        Ok(())
    })();
    std::fs::remove_dir_all(&dir).ok();
    outcome.map_err(sql)
}

/// Creates in `into` the `records` and `record_ids` tables as the ledger attached to `from` as `src` made
/// them (same columns, keys and order).
fn create_tables(from: &rusqlite::Connection, into: &rusqlite::Connection) -> rusqlite::Result<()> {
    for table in ["records", "record_ids"] {
        let create: String = from.query_row(
            "SELECT sql FROM src.sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )?;
        into.execute_batch(&create)?;
    }
    Ok(())
}

/// Seconds that storing the source's `records` and `record_ids` rows into a new file at `path` takes when
/// each row goes through one prepared `INSERT … VALUES (?, …)`, as an import stores it: a value the
/// same as the previous row's is not bound again, rows arrive in key order, no journal, no sync.
/// Rows are read from `conn`'s attached source in batches outside the timing.
fn bound_inserts(
    conn: &rusqlite::Connection,
    path: &Path,
    columns: &[String],
) -> rusqlite::Result<f64> {
    use rusqlite::types::Value;
    let out = rusqlite::Connection::open(path)?;
    out.execute_batch(
        "PRAGMA journal_mode = off; PRAGMA synchronous = off; PRAGMA page_size = 16384;",
    )?;
    create_tables(conn, &out)?;
    out.execute_batch("BEGIN")?;
    let mut spent = Duration::ZERO;
    let tables = [
        ("records", columns.to_vec(), "start_ms, id"),
        (
            "record_ids",
            vec!["hash".to_string(), "start_ms".to_string()],
            "hash",
        ),
    ];
    for (table, cols, key) in tables {
        let list = cols.join(", ");
        let marks = vec!["?"; cols.len()].join(", ");
        let mut insert = out.prepare(&format!("INSERT INTO {table} ({list}) VALUES ({marks})"))?;
        let mut read = conn.prepare(&format!(
            "SELECT {list} FROM src.{table} WHERE ({key}) > ({}) ORDER BY {key} LIMIT 8192",
            vec!["?"; key.split(", ").count()].join(", ")
        ))?;
        let mut after: Vec<Value> = vec![Value::Integer(i64::MIN); key.split(", ").count()];
        let mut batch: Vec<Vec<Value>> = Vec::new();
        loop {
            batch.clear();
            let mut rows = read.query(rusqlite::params_from_iter(after.iter()))?;
            while let Some(row) = rows.next()? {
                batch.push(
                    (0..cols.len())
                        .map(|i| row.get(i))
                        .collect::<rusqlite::Result<_>>()?,
                );
            }
            let Some(last) = batch.last() else { break };
            after = key
                .split(", ")
                .map(|k| last[cols.iter().position(|c| c == k).unwrap_or(0)].clone())
                .collect();
            let started = Instant::now();
            let mut previous: Option<&Vec<Value>> = None;
            for row in &batch {
                for (i, value) in row.iter().enumerate() {
                    if previous.is_none_or(|p| p[i] != *value) {
                        insert.raw_bind_parameter(i + 1, value)?;
                    }
                }
                insert.raw_execute()?;
                previous = Some(row);
            }
            spent += started.elapsed();
        }
    }
    let started = Instant::now();
    out.execute_batch("COMMIT")?;
    Ok((spent + started.elapsed()).as_secs_f64())
}
