//! A bounded mutation test: a few thousand mutants of every fixture (bytes flipped, deleted, duplicated,
//! cut off; huge numbers, quotes, brackets, byte order marks and control bytes inserted) read in-process
//! through the real importers and driver (`aispend::invariants::check`): no panic, and every error names
//! the file and a line. Then a smaller sample through the binary: a failed import leaves the ledger
//! byte-identical. Deterministic (a fixed seed per fixture), a few seconds; `fuzz/` explores further.

use std::path::{Path, PathBuf};

use aispend::pricing::PriceBook;

use crate::backends::on_each_backend;
use crate::fixture;

/// Mutants per fixture: up to 48, fewer for large fixtures (about 1 MB of mutated input per fixture at
/// most), at least 8.
fn mutants_for(len: usize) -> usize {
    (1_000_000 / len.max(1)).clamp(8, 48)
}

/// xorshift64*: a tiny deterministic generator (no dependency, same mutants on every run).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes and texts that break parsers and arithmetic.
const TOKENS: &[&[u8]] = &[
    b"99999999999999999999999999",
    b"18446744073709551616",
    b"9223372036854775808",
    b"80000000000000000000",
    b"-1",
    b"1e999",
    b"1e-30",
    b"NaN",
    b"null",
    b"\"\"",
    b"[]",
    b"{}",
    b"\xEF\xBB\xBF",
    b"\x1b]0;x\x07",
    b"\"=cmd|' /C calc'!A0\"",
    b",",
    b"\n",
    b"\r\n",
    b"\"",
    b"\\",
    b"\xff\xfe",
    b"0",
];

/// Numbers at the edges of what is accepted and what fits.
const NUMBERS: &[&[u8]] = &[
    b"1000000000000000",
    b"1000000000000001",
    b"9223372036854775807",
    b"9223372036854775808",
    b"18446744073709551615",
    b"18446744073709551616",
    b"80000000000000000000",
    b"79228162514264337593543950335",
    b"99999999999999999999999999",
    b"253402300800",
    b"0",
];

fn mutate(rng: &mut Rng, original: &[u8]) -> Vec<u8> {
    let mut m = original.to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(m.len() + 1);
        match rng.below(7) {
            0 if at < m.len() => m[at] = rng.next() as u8,
            1 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                m.splice(at..at, token.iter().copied());
            }
            2 => {
                let end = (at + 1 + rng.below(64)).min(m.len());
                m.drain(at.min(end)..end);
            }
            3 => {
                let end = (at + 1 + rng.below(256)).min(m.len());
                let copy = m[at.min(end)..end].to_vec();
                m.splice(at..at, copy);
            }
            4 => m.truncate(at),
            // A number replaced by one at or past a limit (10^15 per record, i64, u64, decimal).
            5 => {
                if let Some(d) = m.iter().skip(at).position(u8::is_ascii_digit) {
                    let start = at + d;
                    let len = m[start..].iter().take_while(|b| b.is_ascii_digit()).count();
                    let number = NUMBERS[rng.below(NUMBERS.len())];
                    m.splice(start..start + len, number.iter().copied());
                }
            }
            _ => {
                let token = TOKENS[rng.below(TOKENS.len())];
                let end = (at + token.len()).min(m.len());
                m.splice(at..end, token.iter().copied());
            }
        }
    }
    m
}

/// Every usage fixture a source recognises (gzip files aside: a corrupt gzip stream is an I/O error of
/// the file, reported without a line), with its source.
fn fixtures() -> Vec<(PathBuf, &'static dyn aispend::sources::Source)> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from(fixture(""))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_some_and(|e| e == "gz") {
                continue;
            }
            let bytes = std::fs::read(&path).expect("fixture");
            if let Some(source) = aispend::sources::detect(&path, &bytes) {
                out.push((path, source));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn seed(path: &Path) -> u64 {
    path.to_string_lossy()
        .bytes()
        .fold(0x9e37_79b9_7f4a_7c15u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
        | 1
}

#[test]
fn mutants_of_every_fixture_never_panic_and_every_error_names_file_and_line() {
    let book = PriceBook::load(&[] as &[&str]).expect("built-in prices");
    let fixtures = fixtures();
    assert!(fixtures.len() >= 30, "{} fixtures", fixtures.len());
    let mut mutants = 0;
    for (path, source) in &fixtures {
        let original = std::fs::read(path).unwrap();
        let mut rng = Rng(seed(path));
        let name = path.to_string_lossy();
        for i in 0..mutants_for(original.len()) {
            let mutant = mutate(&mut rng, &original);
            // Alternate: the fixture's own importer or detection; stop at the first error or skip.
            let forced = (i % 2 == 0).then_some(*source);
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                aispend::invariants::check(&book, &name, &mutant, forced, i % 3 == 0)
            }));
            match outcome {
                Ok(Ok(_)) => {}
                Ok(Err(broken)) => panic!(
                    "{name}, mutant {i}: {broken}\n{}",
                    String::from_utf8_lossy(&mutant[..mutant.len().min(2_000)])
                ),
                Err(_) => panic!(
                    "{name}, mutant {i} panicked:\n{}",
                    String::from_utf8_lossy(&mutant[..mutant.len().min(2_000)])
                ),
            }
            mutants += 1;
        }
    }
    assert!(mutants >= 3_000, "{mutants} mutants");
}

#[test]
fn a_failed_import_of_a_mutant_leaves_the_ledger_byte_identical() {
    on_each_backend(|w, store| {
        w.stdout(&["import", &fixture("api-log/gemini.jsonl")]);
        let mut before = store.contents(w);
        let mut rejected = 0;
        for (path, _) in fixtures()
            .iter()
            .filter(|(p, _)| !p.to_string_lossy().contains("/demo/"))
        {
            let original = std::fs::read(path).unwrap();
            let mut rng = Rng(seed(path) ^ 0x5eed);
            let name = format!("mutant-{}", path.file_name().unwrap().to_string_lossy());
            let file = w.path().join(&name);
            std::fs::write(&file, mutate(&mut rng, &original)).unwrap();
            let out = w.run(&["import", file.to_str().unwrap()]);
            match out.status.code() {
                Some(2) => {
                    rejected += 1;
                    assert!(
                        store.contents(w) == before,
                        "a failed import of {name} changed the ledger: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                // An accepted mutant: the ledger it leaves is the next one's starting point.
                Some(0) => before = store.contents(w),
                other => panic!(
                    "{name}: exit {other:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                ),
            }
        }
        assert!(rejected >= 10, "only {rejected} mutants were rejected");
    });
}
