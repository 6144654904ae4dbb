//! Finding the lines that hold a needle, for sources whose other lines hold no usage: most of a Claude
//! Code log's bytes are user turns and tool results, and only the lines with `"usage"` are parsed.
//!
//! Cutting the bytes into lines and then searching each line for the needle reads every byte twice. With
//! AVX-512 one pass looks for both at once, 64 bytes at a time: new lines, and places where two (rare)
//! bytes of the needle stand at their offsets, each then checked against the whole needle. Elsewhere the
//! lines are cut and searched one by one. Both ways give the same lines, counts and line numbers (tested
//! against each other).

use std::ops::Range;

use memchr::arch::all::packedpair::Pair;
use memchr::memmem;

/// A needle looked for line by line (no new line in it, and not only whitespace).
pub struct Needle {
    finder: memmem::Finder<'static>,
    /// Two of its bytes and their offsets in it: where both stand, it may start.
    pair: [(usize, u8); 2],
}

/// What a scan of whole lines counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lines {
    /// Lines: one per new line, and the last one when it has none and is not empty.
    pub all: u64,
    /// Those that are not blank (not only whitespace).
    pub filled: u64,
    /// Whether the last line has no new line.
    pub unended: bool,
}

impl Lines {
    fn add(&mut self, line: &[u8]) {
        self.all += 1;
        if !is_blank(line) {
            self.filled += 1;
        }
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

impl Needle {
    /// A needle of a constant: `None` when it holds a new line or only whitespace (it could not tell
    /// lines apart).
    pub fn new(needle: &'static [u8]) -> Option<Needle> {
        if needle.contains(&b'\n') || is_blank(needle) {
            return None;
        }
        let pair = match Pair::new(needle) {
            Some(p) => [usize::from(p.index1()), usize::from(p.index2())],
            None => [0, 0],
        };
        Some(Needle {
            finder: memmem::Finder::new(needle),
            pair: pair.map(|i| (i, needle[i])),
        })
    }

    fn bytes(&self) -> &[u8] {
        self.finder.needle()
    }

    /// Whether `text` holds the needle.
    pub(crate) fn holds(&self, text: &[u8]) -> bool {
        self.finder.find(text).is_some()
    }

    /// Calls `hit(line, index)` for each line of `bytes` that holds the needle, in order: `line` the
    /// line's bounds in `bytes` without its new line (a `\r` before it is kept), `index` its place among
    /// the lines of `bytes`, from 0. Counts all the lines.
    pub(crate) fn lines_with(&self, bytes: &[u8], hit: impl FnMut(Range<usize>, u64)) -> Lines {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512bw") {
            // SAFETY: the CPU has the features the function is compiled for.
            return unsafe { avx512::lines_with(self, bytes, hit) };
        }
        self.lines_with_each(bytes, hit)
    }

    /// [`Needle::lines_with`] a line at a time: its end found, then the needle looked for in it.
    pub(crate) fn lines_with_each(
        &self,
        bytes: &[u8],
        mut hit: impl FnMut(Range<usize>, u64),
    ) -> Lines {
        let mut lines = Lines::default();
        let mut start = 0;
        while start < bytes.len() {
            let end = match memchr::memchr(b'\n', &bytes[start..]) {
                Some(i) => start + i,
                None => {
                    lines.unended = true;
                    bytes.len()
                }
            };
            let line = &bytes[start..end];
            if self.holds(line) {
                hit(start..end, lines.all);
            }
            lines.add(line);
            start = end + 1;
        }
        lines
    }

    /// The scan of [`Needle::lines_with`] over `next`, which finds the first place at or after a
    /// position that holds a new line or where the pair stands (see [`Needle::pair`]).
    #[inline(always)]
    fn scan(
        &self,
        bytes: &[u8],
        mut hit: impl FnMut(Range<usize>, u64),
        next: impl Fn(&[u8], usize) -> Option<usize>,
    ) -> Lines {
        let needle = self.bytes();
        let mut lines = Lines::default();
        // Where the line being read starts, and where to look on from.
        let (mut start, mut from) = (0, 0);
        while let Some(i) = next(bytes, from) {
            if bytes[i] == b'\n' {
                lines.add(&bytes[start..i]);
                start = i + 1;
                from = start;
            } else if bytes[i..].starts_with(needle) {
                // The line holds the needle: on to its end, the rest of it not looked at.
                let end = memchr::memchr(b'\n', &bytes[i + needle.len()..])
                    .map_or(bytes.len(), |j| i + needle.len() + j);
                hit(start..end, lines.all);
                lines.add(&bytes[start..end]);
                if end == bytes.len() {
                    lines.unended = true;
                }
                start = end + 1;
                from = start;
            } else {
                from = i + 1;
            }
        }
        if start < bytes.len() {
            lines.add(&bytes[start..]);
            lines.unended = true;
        }
        lines
    }

    /// The first place at or after `from` that holds a new line or where the pair stands, a byte at a
    /// time.
    #[inline(always)]
    fn next_each(&self, bytes: &[u8], from: usize) -> Option<usize> {
        let [(o1, b1), (o2, b2)] = self.pair;
        (from..bytes.len()).find(|&i| {
            bytes[i] == b'\n' || (bytes.get(i + o1) == Some(&b1) && bytes.get(i + o2) == Some(&b2))
        })
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::{Lines, Needle};

    /// [`Needle::lines_with`], 64 bytes at a time.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) fn lines_with(
        needle: &Needle,
        bytes: &[u8],
        hit: impl FnMut(std::ops::Range<usize>, u64),
    ) -> Lines {
        needle.scan(bytes, hit, |bytes, from| next(needle, bytes, from))
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    fn next(needle: &Needle, bytes: &[u8], mut at: usize) -> Option<usize> {
        let [(o1, b1), (o2, b2)] = needle.pair;
        let reach = o1.max(o2) + 64;
        let new_line = _mm512_set1_epi8(b'\n' as i8);
        let (first, second) = (_mm512_set1_epi8(b1 as i8), _mm512_set1_epi8(b2 as i8));
        while bytes.len().saturating_sub(at) >= reach {
            // SAFETY: the 64 bytes from `at`, `at + o1` and `at + o2` lie inside `bytes` (`reach`).
            let (here, one, two) = unsafe {
                let p = bytes.as_ptr().add(at);
                (
                    _mm512_loadu_si512(p.cast()),
                    _mm512_loadu_si512(p.add(o1).cast()),
                    _mm512_loadu_si512(p.add(o2).cast()),
                )
            };
            let lines = _mm512_cmpeq_epi8_mask(here, new_line);
            let pairs =
                _mm512_mask_cmpeq_epi8_mask(_mm512_cmpeq_epi8_mask(one, first), two, second);
            let found = lines | pairs;
            if found != 0 {
                return Some(at + found.trailing_zeros() as usize);
            }
            at += 64;
        }
        needle.next_each(bytes, at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn collect(needle: &Needle, bytes: &[u8], each: bool) -> (Vec<(Vec<u8>, u64)>, Lines) {
        let mut hits = Vec::new();
        let on_hit = |line: Range<usize>, i: u64| hits.push((bytes[line].to_vec(), i));
        let lines = if each {
            needle.lines_with_each(bytes, on_hit)
        } else {
            needle.lines_with(bytes, on_hit)
        };
        (hits, lines)
    }

    fn needle() -> Needle {
        Needle::new(b"\"usage\"").unwrap()
    }

    #[test]
    fn lines_counted_and_found() {
        // Lines: 0 `{"usage":1}`, 1 blank (spaces), 2 `{"x":"usag"}`, 3 `{"a":2,"usage":3}\r`, 4 empty,
        // 5 the unended `"usage"` (6 lines, 4 of them not blank).
        let bytes = b"{\"usage\":1}\n   \n{\"x\":\"usag\"}\n{\"a\":2,\"usage\":3}\r\n\n\"usage\"";
        for each in [true, false] {
            let (hits, lines) = collect(&needle(), bytes, each);
            let hits: Vec<(&[u8], u64)> = hits.iter().map(|(l, i)| (l.as_slice(), *i)).collect();
            assert_eq!(
                hits,
                vec![
                    (&b"{\"usage\":1}"[..], 0),
                    (&b"{\"a\":2,\"usage\":3}\r"[..], 3),
                    (&b"\"usage\""[..], 5),
                ],
                "each: {each}"
            );
            assert_eq!(
                lines,
                Lines {
                    all: 6,
                    filled: 4,
                    unended: true
                }
            );
        }
    }

    #[test]
    fn a_needle_must_tell_lines_apart() {
        assert!(Needle::new(b"a\nb").is_none());
        assert!(Needle::new(b" \t").is_none());
        assert!(Needle::new(b"x").is_some());
    }

    #[test]
    fn long_lines_cross_the_blocks() {
        // The needle at every offset around the 64-byte blocks, in lines longer than a block.
        for pad in 0..140 {
            let mut bytes = vec![b'a'; pad];
            bytes.extend_from_slice(b"\"usage\"");
            bytes.extend_from_slice(&[b'b'; 70]);
            bytes.push(b'\n');
            bytes.extend_from_slice(&[b'c'; 100]);
            bytes.push(b'\n');
            let (hits, lines) = collect(&needle(), &bytes, false);
            assert_eq!(hits.len(), 1, "pad {pad}");
            assert_eq!(hits[0].1, 0);
            assert_eq!(hits[0].0.len(), pad + 7 + 70);
            assert_eq!(
                lines,
                Lines {
                    all: 2,
                    filled: 2,
                    unended: false
                }
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn both_ways_agree(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just(&b"\"usage\""[..]), Just(&b"\"usag"[..]), Just(&b"sage\""[..]),
                    Just(&b"\n"[..]), Just(&b"\r\n"[..]), Just(&b" "[..]), Just(&b"u"[..]),
                    Just(&b"g"[..]), Just(&b"\""[..]),
                    Just(&b"{\"type\":\"user\",\"content\":\"a long line of text that runs on\"}"[..]),
                ],
                0..80,
            )
        ) {
            let bytes = parts.concat();
            prop_assert_eq!(collect(&needle(), &bytes, true), collect(&needle(), &bytes, false));
            let other = Needle::new(b"g\"").unwrap();
            prop_assert_eq!(collect(&other, &bytes, true), collect(&other, &bytes, false));
        }
    }
}
