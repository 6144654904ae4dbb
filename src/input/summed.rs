//! Reading through the parse cache's sums: an unchanged file whose record ids no other file of the run
//! holds is added as its sums (see [`crate::cache::sums`]); every other file is read by its records, as
//! [`read_file`] reads it. The sink ends up exactly as a read of every record leaves it.

use std::collections::HashMap;

use super::{display, read_file, Input, ReadOptions, ReadSummary};
use crate::cache::sums::id_hash;
use crate::cache::Summed;
use crate::error::Result;
use crate::input::{Accepted, CacheUse, FileSummary, RecordSink};
use crate::record::UsageRecord;

/// Hands records on, noting each id's hash and the position of the last file it came from.
struct Tracking<'a> {
    inner: &'a mut dyn RecordSink,
    ids: &'a mut HashMap<u64, usize>,
    at: usize,
}

impl RecordSink for Tracking<'_> {
    fn accept(&mut self, record: UsageRecord) -> Result<Accepted> {
        self.ids.insert(id_hash(&record.id), self.at);
        self.inner.accept(record)
    }

    fn unpriced(&self) -> u64 {
        self.inner.unpriced()
    }
}

/// How a read through the sums went.
pub(super) enum Outcome {
    Read(ReadSummary),
    /// The sums were not used (the sink does not take them, or no file has them).
    NotUsed,
    /// They could not be used after all (a file read by its records holds an id of an earlier summed
    /// file, or a sum could not be priced exactly): the sink was cleared, and every record must be read.
    /// The summaries of the files read so far (how the cache served them).
    Again(Vec<FileSummary>),
}

/// Reads `inputs` with the sums of the unchanged files, when the sink takes sums and some file has them.
pub(super) fn read(
    inputs: &[Input],
    options: &ReadOptions,
    bar: Option<&indicatif::ProgressBar>,
    sink: &mut dyn RecordSink,
    on_file: &mut dyn FnMut(&FileSummary),
) -> Result<Outcome> {
    let Some(cache) = &options.cache else {
        return Ok(Outcome::NotUsed);
    };
    if !sink.sums().is_some_and(|s| s.takes_sums()) {
        return Ok(Outcome::NotUsed);
    }
    let forced = options.source.map(|s| s.name());
    let load = || -> Vec<Option<Summed>> {
        inputs
            .iter()
            .map(|i| {
                (i.path.as_os_str() != "-")
                    .then(|| cache.summed(&i.path, forced))
                    .flatten()
            })
            .collect()
    };
    let mut summed = load();
    // How the files were served when they were read into the cache first.
    let mut first = Vec::new();
    if summed.iter().all(Option::is_none) {
        if inputs.iter().any(|i| i.path.as_os_str() == "-") {
            return Ok(Outcome::NotUsed);
        }
        // No file has sums (a first run, or every file changed): every file is read into the cache
        // first, its records handed nowhere, and then added as its sums as on a warm run. Pricing a
        // few rows per file costs less than pricing every record.
        let mut read = ReadSummary::default();
        let outcome = super::read_all(
            inputs,
            options,
            bar,
            &mut Discard,
            &mut read,
            &mut |_| {},
            true,
        );
        if outcome.is_err() {
            // Read again by the records, to fail exactly as a plain read does.
            return Ok(Outcome::Again(read.files));
        }
        first = read.files;
        summed = load();
        if summed.iter().all(Option::is_none) {
            return Ok(Outcome::Again(first));
        }
    }
    // Summed files that share an id are read by their records, in order, as every other file is. When
    // some file is read by its records anyway, every summed file's ids are compared with its ids.
    let all_ids = summed.iter().any(Option::is_none);
    let mut by_records = cache.sharing(&mut summed, all_ids);
    if summed.iter().all(Option::is_none) {
        return Ok(Outcome::NotUsed);
    }
    let mut files: Vec<Vec<FileSummary>> = vec![Vec::new(); inputs.len()];
    let mut summary = ReadSummary::default();
    let mut seen: HashMap<u64, usize> = HashMap::new();
    let read_records = |at: usize,
                        sink: &mut dyn RecordSink,
                        seen: &mut HashMap<u64, usize>,
                        summary: &mut ReadSummary|
     -> Result<Vec<FileSummary>> {
        let mut tracking = Tracking {
            inner: sink,
            ids: seen,
            at,
        };
        let mut one = ReadSummary::default();
        read_file(
            &inputs[at],
            options,
            bar,
            &mut tracking,
            &mut one,
            &mut |_| {},
        )?;
        summary.unrecognised.extend(one.unrecognised);
        Ok(one.files)
    };
    for at in 0..inputs.len() {
        if summed[at].is_none() {
            files[at] = read_records(at, sink, &mut seen, &mut summary)?;
        }
    }
    if !seen.is_empty() {
        for (at, s) in summed.iter().enumerate() {
            let Some(s) = s else { continue };
            for id in &s.sums.ids {
                match seen.get(id) {
                    // A later file has a copy: which copy counts depends on the order they are read in.
                    Some(&other) if other > at => return Ok(again(sink, files, first)),
                    Some(_) => by_records[at] = true,
                    None => {}
                }
            }
        }
    }
    for at in 0..inputs.len() {
        if summed[at].is_some() && by_records[at] {
            files[at] = read_records(at, sink, &mut seen, &mut summary)?;
        }
    }
    for (at, s) in summed.iter_mut().enumerate() {
        let Some(s) = s.take().filter(|_| !by_records[at]) else {
            continue;
        };
        let unpriced_before = sink.unpriced();
        let taken = sink
            .sums()
            .is_some_and(|sums| sums.accept_file(&s.sums, s.source));
        if !taken {
            return Ok(again(sink, files, first));
        }
        files[at].push(FileSummary {
            path: display(&inputs[at].path),
            source: s.source,
            added: s.sums.added,
            duplicates: s.sums.duplicates,
            replaced: s.sums.replaced,
            bytes: s.bytes,
            no_final_newline: s.no_final_newline,
            lines: s.lines,
            unpriced: sink.unpriced().saturating_sub(unpriced_before),
            cache: CacheUse::Summed,
            ..FileSummary::default()
        });
    }
    for mut f in files.into_iter().flatten() {
        served_first(&mut f, &first);
        on_file(&f);
        summary.files.push(f);
    }
    Ok(Outcome::Read(summary))
}

/// Sets how a file read into the cache first was served by that read.
fn served_first(f: &mut FileSummary, first: &[FileSummary]) {
    if let Some(e) = first.iter().find(|e| e.path == f.path) {
        f.cache = e.cache;
        f.cache_note.clone_from(&e.cache_note);
    }
}

/// Empties the sink, for a read of every record; the files read so far (those read into the cache
/// first, when they were).
fn again(
    sink: &mut dyn RecordSink,
    files: Vec<Vec<FileSummary>>,
    first: Vec<FileSummary>,
) -> Outcome {
    if let Some(sums) = sink.sums() {
        sums.clear();
    }
    if first.is_empty() {
        Outcome::Again(files.into_iter().flatten().collect())
    } else {
        Outcome::Again(first)
    }
}

/// Takes every record and keeps none (a read whose only purpose is the cache entries it writes).
struct Discard;

impl RecordSink for Discard {
    fn accept(&mut self, _: UsageRecord) -> Result<Accepted> {
        Ok(Accepted::Added)
    }
}
