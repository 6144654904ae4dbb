//! `aispend import`: add records to the ledger, atomically and idempotently.

use std::io::Write;
use std::path::PathBuf;

use super::usage::source_by_name;
use super::Context;
use crate::error::{Error, Result};
use crate::input::{read_inputs, Accepted, FileSummary, ReadOptions, RecordSink};
use crate::ledger::{LedgerWriter, Revision};
use crate::output::{self, count_human, Sheet};
use crate::pricing::{Priced, Pricer};
use crate::record::UsageRecord;
use crate::sanitize::terminal;

const LONG_ABOUT: &str = "\
Add usage records to the ledger.

Each file's format is detected from its content (see `aispend sources`), or forced with --source. \
Folders recurse; .gz files are read transparently; `-` reads standard input.

The import is one transaction: if any record is malformed, the command stops with `file:line: what is \
wrong`, exits 2 and the ledger is left exactly as it was (use --skip-invalid to skip and count bad \
records instead). Records are keyed by a stable id (the provider's own id where there is one), so \
importing the same data twice, or two exports that overlap, adds nothing twice. Two imports run at the \
same time take turns.";

const AFTER_HELP: &str = "\
Examples:
  aispend import gateway-logs/2026-10-*.jsonl.gz
  aispend import ~/.claude/projects
  aispend import --source openai-usage usage-page.json
  aispend import --dry-run exports/      check files without writing";

/// Add records to the ledger (deduplicated, atomic)
#[derive(Debug, clap::Args)]
#[command(long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Args {
    /// Files or folders to import
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Read PATHs as this format instead of detecting it
    #[arg(long, value_name = "NAME", value_parser = source_by_name)]
    pub source: Option<&'static dyn crate::sources::Source>,
    /// Skip malformed records (counted per file) instead of failing the import
    #[arg(long)]
    pub skip_invalid: bool,
    /// Read and check everything, then roll back: nothing is written
    #[arg(long)]
    pub dry_run: bool,
    /// Write nothing and exit 2 when there is any warning: a file that held nothing, skipped or
    /// unpriced records, a file cut short (for CI, where a warning goes unread)
    #[arg(long)]
    pub strict: bool,
}

/// Prices each record on its way into the ledger, to count the unpriced ones per file (the ledger
/// keeps no costs; they are computed when read).
struct Counting<'a, 'b, 'c> {
    inner: &'a mut LedgerWriter<'c>,
    pricer: Pricer<'b>,
    unpriced: u64,
    /// Records handed to the ledger so far.
    taken: u64,
    /// Which of them (in order) were counted as unpriced when added.
    unpriced_taken: Vec<u64>,
}

impl RecordSink for Counting<'_, '_, '_> {
    fn accept(&mut self, record: UsageRecord) -> Result<Accepted> {
        let unpriced = !record.tokens.is_empty()
            && matches!(self.pricer.price(&record), Priced::Unpriced { .. });
        let accepted = self.inner.accept(record)?;
        if unpriced && accepted == Accepted::Added {
            self.unpriced += 1;
            self.unpriced_taken.push(self.taken);
        }
        self.taken += 1;
        Ok(accepted)
    }

    fn unpriced(&self) -> u64 {
        self.unpriced
    }
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<i32> {
    super::check_paths(&args.paths)?;
    let options = ReadOptions {
        source: args.source,
        skip_invalid: args.skip_invalid,
        progress: ctx.show_progress(),
        // The ledger keeps what was imported; the parse cache serves direct PATH reads.
        cache: None,
    };
    let book = ctx.price_book()?;
    let mut ledger = ctx.open_ledger()?;
    let mut lines: Vec<FileSummary> = Vec::new();
    let summary = ledger.write(!args.dry_run, |writer| {
        let mut sink = Counting {
            inner: writer,
            pricer: Pricer::new(book),
            unpriced: 0,
            taken: 0,
            unpriced_taken: Vec::new(),
        };
        let summary = read_inputs(&args.paths, options, &mut sink, &mut |f| {
            lines.push(f.clone());
        })?;
        // The ledger's final word on what was added (a PostgreSQL ledger writes in batches), before
        // anything is said about the files.
        let revisions = sink.inner.settle()?;
        revise(&mut lines, &revisions, &sink.unpriced_taken);
        for f in &lines {
            ctx.detail(format_args!("{}: {}", f.path, f.source));
            for w in f.warnings() {
                ctx.warn(format_args!("{}: {w}", f.path));
            }
        }
        // Under --strict a warning stops the import before anything is written.
        ctx.check_strict(args.strict)?;
        Ok(summary)
    })?;
    for path in &summary.unrecognised {
        ctx.detail(format_args!("{path}: not a recognised usage file, skipped"));
    }
    if summary.files.is_empty() {
        return Err(Error::usage(
            "no usage files found in the given PATHs (see `aispend sources` for the formats read)",
        ));
    }
    if !ctx.global.quiet {
        let done = Done {
            files: &lines,
            unrecognised: summary.unrecognised.len(),
            dry_run: args.dry_run,
            ledger: &ledger.name(),
        };
        output::table::write(&done.sheet(), ctx.style(), out)?;
    }
    Ok(0)
}

/// Applies the ledger's late answers ([`Revision`]) to the per-file account. Files hand their records
/// to the ledger one after another, so the `seq`-th record taken is in the file whose records span
/// it; `unpriced` lists the records counted as unpriced when added.
fn revise(files: &mut [FileSummary], revisions: &[Revision], unpriced: &[u64]) {
    let taken = |f: &FileSummary| f.added + f.duplicates + f.replaced;
    let mut files = files.iter_mut();
    let mut file = files.next();
    let mut start = 0;
    for revision in revisions {
        while let Some(f) = file.as_deref() {
            if revision.seq < start + taken(f) {
                break;
            }
            start += taken(f);
            file = files.next();
        }
        let Some(f) = file.as_deref_mut() else { return };
        f.added -= 1;
        match revision.now {
            Accepted::Added => f.added += 1,
            Accepted::Duplicate => f.duplicates += 1,
            Accepted::Replaced => f.replaced += 1,
        }
        if revision.now != Accepted::Added && unpriced.binary_search(&revision.seq).is_ok() {
            f.unpriced -= 1;
        }
    }
}

/// What an import did, file by file, for people.
struct Done<'a> {
    files: &'a [FileSummary],
    /// Files in the folders that are in no known format.
    unrecognised: usize,
    dry_run: bool,
    ledger: &'a str,
}

impl Done<'_> {
    /// A line per file (what it added, skipped, left unpriced), a total line when there are several
    /// files, then where it was written.
    fn sheet(&self) -> Sheet {
        let verb = if self.dry_run { "would add" } else { "added" };
        let mut lines = Vec::new();
        let mut totals = FileSummary::default();
        for f in self.files {
            if f.empty {
                let what = if f.empty_page { "page" } else { "file" };
                lines.push(format!(
                    "{}: empty {what}, nothing to add",
                    terminal(&f.path)
                ));
                continue;
            }
            let mut line = format!(
                "{}: {} {verb} {}, {} duplicate",
                terminal(&f.path),
                f.source,
                count_human(f.added),
                count_human(f.duplicates + f.replaced)
            );
            if f.replaced > 0 {
                line += &format!(" ({} merged into a larger copy)", count_human(f.replaced));
            }
            line += &format!(", {} skipped", count_human(f.skipped));
            if f.unpriced > 0 {
                line += &format!(", {} unpriced", count_human(f.unpriced));
            }
            lines.push(line);
            if let Some(first) = &f.first_skipped {
                lines.push(format!(
                    "  first skipped: {}",
                    crate::sanitize::message(first)
                ));
            }
            if let Some(note) = f.ending_note() {
                lines.push(format!("  note: {note}"));
            }
            totals.added += f.added;
            totals.duplicates += f.duplicates + f.replaced;
            totals.skipped += f.skipped;
            totals.unpriced += f.unpriced;
        }
        if self.files.len() > 1 {
            let mut line = format!(
                "total: {} files, {verb} {}, {} duplicate, {} skipped",
                self.files.len(),
                count_human(totals.added),
                count_human(totals.duplicates),
                count_human(totals.skipped)
            );
            if totals.unpriced > 0 {
                line += &format!(", {} unpriced", count_human(totals.unpriced));
            }
            lines.push(line);
        }
        if self.unrecognised > 0 {
            lines.push(format!(
                "{} file(s) in the folders are not usage files in a known format and were not read \
                 (-v names them)",
                count_human(self.unrecognised as u64)
            ));
        }
        lines.push(if self.dry_run {
            format!("dry run: nothing was written to {}", self.ledger)
        } else {
            format!("written to {}", self.ledger)
        });
        Sheet::lines(lines)
    }
}
