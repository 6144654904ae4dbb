//! A fast reader of one JSON line for the common case, in front of `serde_json`.
//!
//! [`from_slice`] reads a strict subset of JSON: a line that is UTF-8 throughout, strings without escapes
//! where a value is kept (escapes are checked and skipped in values nobody keeps), non-negative integers
//! that fit in a u64, and nesting at most [`MAX_DEPTH`] deep. It hands every visitor exactly the calls `serde_json::from_slice` would make
//! (`visit_borrowed_str` for strings, `visit_borrowed_bytes` for keys read as bytes, `visit_u64` for
//! integers, `visit_unit` for `null`), and it accepts nothing `serde_json` refuses. Anything else (an
//! escaped string to keep, a float, a negative number, a value a visitor refuses, invalid JSON) is
//! `Err(Unsupported)`, and the caller parses the line again with `serde_json`, whose value or error is then
//! the answer: the result is `serde_json`'s in every case, only faster where the subset holds.
//!
//! Why faster: text that is skipped (prompts and completions, most of an API log line) is scanned for its
//! closing quote 32 bytes at a time in AVX2 compares where the CPU has them (16 in SSE2 compares
//! otherwise) instead of eight in integer arithmetic, a short string (a key, a name, an id) 16 bytes at a
//! time in SSE2 compares inline, the line
//! is checked for UTF-8 once instead of string by string, keys read as bytes are never copied, and an
//! error is a unit value, never a formatted message.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, Visitor};
use serde::Deserialize;

/// The deepest nesting read here; deeper values are left to `serde_json` (whose limit is 128).
pub const MAX_DEPTH: u32 = 100;

/// The line is outside the subset this reader handles, or is not valid: parse it with `serde_json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsupported;

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not read by the fast JSON reader")
    }
}

impl std::error::Error for Unsupported {}

impl de::Error for Unsupported {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Unsupported
    }
}

type Result<T> = std::result::Result<T, Unsupported>;

/// Reads one JSON value that fills `bytes` (white space around it allowed), or `Err(Unsupported)`.
pub fn from_slice<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T> {
    let mut p = Parser::new(bytes)?;
    let value = T::deserialize(&mut p)?;
    p.end()?;
    Ok(value)
}

/// A value read into a place that holds its default, rather than returned: a large struct is then
/// written where it stays instead of being moved out of each function that reads a part of it.
pub trait DeserializeInto<'de>: Deserialize<'de> + Default {
    /// Reads the value into `place`, which holds `Self::default()`. On an error `place` holds part of
    /// the value.
    fn deserialize_into<D: Deserializer<'de>>(
        d: D,
        place: &mut Self,
    ) -> std::result::Result<(), D::Error>;
}

/// [`from_slice`] into `place`, which holds `T::default()`; on `Err(Unsupported)` it holds part of a value.
pub fn from_slice_into<'de, T: DeserializeInto<'de>>(
    bytes: &'de [u8],
    place: &mut T,
) -> Result<()> {
    let mut p = Parser::new(bytes)?;
    T::deserialize_into(&mut p, place)?;
    p.end()
}

/// Whether `bytes` is UTF-8. Checked once per line, in long strides, instead of string by string: a line
/// of ASCII (nearly every line) 128 bytes a step in AVX2 where the CPU has it, any other line by the
/// standard library.
fn is_utf8(bytes: &[u8]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        if unsafe { avx2::is_ascii(bytes) } {
            return true;
        }
    }
    std::str::from_utf8(bytes).is_ok()
}

struct Parser<'de> {
    bytes: &'de [u8],
    /// `bytes`, known to be UTF-8.
    text: &'de str,
    at: usize,
    depth: u32,
}

impl<'de> Parser<'de> {
    /// A parser of `bytes`, which must be UTF-8: a line that is not (which `serde_json` reads where the bad
    /// bytes are in text it skips) is left to `serde_json`.
    fn new(bytes: &'de [u8]) -> Result<Parser<'de>> {
        if !is_utf8(bytes) {
            return Err(Unsupported);
        }
        // SAFETY: checked to be UTF-8 just above.
        let text = unsafe { std::str::from_utf8_unchecked(bytes) };
        Ok(Parser {
            bytes,
            text,
            at: 0,
            depth: 0,
        })
    }

    /// Only white space is left after the value.
    fn end(&mut self) -> Result<()> {
        match self.peek_past_ws() {
            None => Ok(()),
            Some(_) => Err(Unsupported),
        }
    }
}

/// Whether a byte ends a run of plain string text: a quote, a backslash or a control character.
fn is_special(b: u8) -> bool {
    // `|`, not `||`: no branch, so that a block of them becomes vector compares.
    (b == b'"') | (b == b'\\') | (b < 0x20)
}

/// The special bytes (see [`is_special`]) of eight bytes, as their high bits; exact up to the first one
/// (a borrow can mark bytes after it, never before).
fn special_bits(eight: &[u8]) -> u64 {
    const ONES: u64 = u64::MAX / 255;
    let mut word = [0u8; 8];
    word.copy_from_slice(eight);
    let x = u64::from_le_bytes(word);
    let control = x.wrapping_sub(ONES * 0x20) & !x;
    let q = x ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q;
    let b = x ^ (ONES * u64::from(b'\\'));
    let backslash = b.wrapping_sub(ONES) & !b;
    (control | quote | backslash) & (ONES << 7)
}

/// The index of the first `"` or `\` in `rest` (string text after an opening quote or an escape), or
/// `Err` when a control character comes first or neither is there.
fn quote_or_backslash(rest: &[u8]) -> Result<usize> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { avx2::quote_or_backslash(rest) };
    }
    portable_quote_or_backslash(rest)
}

/// [`quote_or_backslash`] for the short strings most are (keys, names, ids): their first 48 bytes 16 at a
/// time in SSE2 compares (part of every x86-64 CPU), inline, instead of a call to the block scans for a
/// few bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn short_quote_or_backslash(rest: &[u8]) -> Result<usize> {
    let mut at = 0;
    while at < 48 {
        let Some(block) = rest.get(at..at + 16) else {
            // Fewer than 16 bytes left in the line.
            return Ok(at + quote_or_backslash(&rest[at..])?);
        };
        let mask = special_mask(block);
        if mask != 0 {
            return end_at(rest, at + mask.trailing_zeros() as usize);
        }
        at += 16;
    }
    Ok(at + quote_or_backslash(&rest[at..])?)
}

/// The special bytes (see [`is_special`]) of a block of 16, one bit each.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn special_mask(block: &[u8]) -> u32 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    assert!(block.len() >= 16);
    // SAFETY: SSE2 is part of every x86-64 CPU, and `block` has 16 readable bytes (checked above; the
    // load has no alignment requirement).
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
        // A byte is a control character when the larger of it and 0x1f is 0x1f.
        let last_control = _mm_set1_epi8(0x1f);
        let control = _mm_cmpeq_epi8(_mm_max_epu8(v, last_control), last_control);
        let special = _mm_or_si128(
            _mm_or_si128(
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8)),
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8)),
            ),
            control,
        );
        _mm_movemask_epi8(special) as u32
    }
}

/// [`quote_or_backslash`] for the short strings most are (keys, names, ids): their first 16 bytes eight at a
/// time in integer arithmetic, inline, instead of a call to the block scans for a few bytes.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn short_quote_or_backslash(rest: &[u8]) -> Result<usize> {
    let Some(first) = rest.get(..16) else {
        return quote_or_backslash(rest);
    };
    let low = special_bits(&first[..8]);
    if low != 0 {
        return end_at(rest, low.trailing_zeros() as usize / 8);
    }
    let high = special_bits(&first[8..]);
    if high != 0 {
        return end_at(rest, 8 + high.trailing_zeros() as usize / 8);
    }
    Ok(16 + quote_or_backslash(&rest[16..])?)
}

/// [`quote_or_backslash`] on any CPU.
fn portable_quote_or_backslash(rest: &[u8]) -> Result<usize> {
    // Sixteen bytes at a time, each block folded without a branch (which the compiler makes vector
    // compares); in the block that holds a special byte, eight bytes at a time in integer arithmetic. A
    // string shorter than a block takes one step, as the line goes on past it. The last bytes of the line,
    // fewer than a block, one by one.
    let mut at = 0;
    while let Some(block) = rest.get(at..at + 16) {
        if block.iter().fold(false, |any, &b| any | is_special(b)) {
            let low = special_bits(&block[..8]);
            at += if low != 0 {
                low.trailing_zeros() as usize / 8
            } else {
                8 + special_bits(&block[8..]).trailing_zeros() as usize / 8
            };
            return end_at(rest, at);
        }
        at += 16;
    }
    at += rest[at..]
        .iter()
        .position(|&b| is_special(b))
        .ok_or(Unsupported)?;
    end_at(rest, at)
}

/// [`quote_or_backslash`] with AVX2: 32 bytes a step, for the long runs of text in prompts and completions.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{end_at, portable_quote_or_backslash, Result};
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_max_epu8, _mm256_movemask_epi8,
        _mm256_or_si256, _mm256_set1_epi8,
    };

    /// Whether every byte is ASCII: 128 bytes a step (their high bits or-ed together), then 32, then the
    /// last few by the standard library.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn is_ascii(bytes: &[u8]) -> bool {
        let load = |block: &[u8]| {
            debug_assert!(block.len() >= 32);
            // SAFETY: `block` has 32 readable bytes; the load has no alignment requirement.
            unsafe { _mm256_loadu_si256(block.as_ptr().cast::<__m256i>()) }
        };
        let mut blocks = bytes.chunks_exact(128);
        for b in &mut blocks {
            let v = _mm256_or_si256(
                _mm256_or_si256(load(&b[..32]), load(&b[32..64])),
                _mm256_or_si256(load(&b[64..96]), load(&b[96..])),
            );
            if _mm256_movemask_epi8(v) != 0 {
                return false;
            }
        }
        let mut blocks = blocks.remainder().chunks_exact(32);
        for b in &mut blocks {
            if _mm256_movemask_epi8(load(b)) != 0 {
                return false;
            }
        }
        blocks.remainder().is_ascii()
    }

    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn quote_or_backslash(rest: &[u8]) -> Result<usize> {
        let quote = _mm256_set1_epi8(b'"' as i8);
        let backslash = _mm256_set1_epi8(b'\\' as i8);
        let last_control = _mm256_set1_epi8(0x1f);
        let mut at = 0;
        while let Some(block) = rest.get(at..at + 32) {
            // SAFETY: `block` is 32 readable bytes; the load has no alignment requirement.
            let v = unsafe { _mm256_loadu_si256(block.as_ptr().cast::<__m256i>()) };
            // A byte is a control character when the larger of it and 0x1f is 0x1f.
            let control = _mm256_cmpeq_epi8(_mm256_max_epu8(v, last_control), last_control);
            let special = _mm256_or_si256(
                _mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, backslash)),
                control,
            );
            let mask = _mm256_movemask_epi8(special) as u32;
            if mask != 0 {
                return end_at(rest, at + mask.trailing_zeros() as usize);
            }
            at += 32;
        }
        // Fewer than 32 bytes left in the line.
        Ok(at + portable_quote_or_backslash(&rest[at..])?)
    }
}

/// `at`, where `rest[at]` is a quote or a backslash; `Err` for a control character.
fn end_at(rest: &[u8], at: usize) -> Result<usize> {
    match rest.get(at) {
        Some(b'"' | b'\\') => Ok(at),
        _ => Err(Unsupported),
    }
}

impl<'de> Parser<'de> {
    /// The next byte that is not JSON white space, not consumed.
    #[inline(always)]
    fn peek_past_ws(&mut self) -> Option<u8> {
        // Most often the next byte is not white space: one compare (every white space byte is below it).
        match self.bytes.get(self.at) {
            Some(&b) if b > b' ' => Some(b),
            _ => self.skip_ws(),
        }
    }

    /// [`Self::peek_past_ws`] past white space, or at the end.
    fn skip_ws(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes.get(self.at) {
            if !matches!(b, b' ' | b'\n' | b'\t' | b'\r') {
                return Some(b);
            }
            self.at += 1;
        }
        None
    }

    fn eat(&mut self) {
        self.at += 1;
    }

    /// Consumes `word` (a literal's rest after its first byte).
    fn literal(&mut self, word: &[u8]) -> Result<()> {
        let end = self.at + 1 + word.len();
        if self.bytes.get(self.at + 1..end) == Some(word) {
            self.at = end;
            Ok(())
        } else {
            Err(Unsupported)
        }
    }

    /// A string without escapes, its quotes consumed (`self.at` is on the opening quote): its bytes.
    fn plain_str(&mut self) -> Result<&'de [u8]> {
        let (start, end) = self.plain_range()?;
        Ok(&self.bytes[start..end])
    }

    /// The bounds of a string without escapes in `bytes`, its quotes consumed.
    fn plain_range(&mut self) -> Result<(usize, usize)> {
        let start = self.at + 1;
        let rest = self.bytes.get(start..).ok_or(Unsupported)?;
        let len = short_quote_or_backslash(rest)?;
        if rest[len] != b'"' {
            return Err(Unsupported);
        }
        self.at = start + len + 1;
        Ok((start, start + len))
    }

    /// A string without escapes, as text (its bounds are next to quotes, so on character boundaries).
    fn plain_text(&mut self) -> Result<&'de str> {
        let (start, end) = self.plain_range()?;
        debug_assert!(self.text.is_char_boundary(start) && self.text.is_char_boundary(end));
        // SAFETY: `start` follows a quote and `end` is on one: an ASCII byte of UTF-8 text starts a
        // character, and the byte after one does too (or is the end), so both are on character boundaries
        // of `text`, and `start <= end <= text.len()`.
        Ok(unsafe { self.text.get_unchecked(start..end) })
    }

    /// Skips a string (`self.at` on its opening quote), checking its escapes as `serde_json` does and not
    /// its UTF-8 (which `serde_json` does not check in a value it skips either).
    fn skip_str(&mut self) -> Result<()> {
        let mut at = self.at + 1;
        loop {
            let rest = self.bytes.get(at..).ok_or(Unsupported)?;
            let len = short_quote_or_backslash(rest)?;
            at += len;
            if rest[len] == b'"' {
                self.at = at + 1;
                return Ok(());
            }
            // A backslash: one of JSON's escapes, `\u` with four hex digits.
            at += match self.bytes.get(at + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => 2,
                Some(b'u') => {
                    let hex = self.bytes.get(at + 2..at + 6).ok_or(Unsupported)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return Err(Unsupported);
                    }
                    6
                }
                _ => return Err(Unsupported),
            };
        }
    }

    /// A non-negative integer that fits in a u64 (`self.at` on its first digit). A fraction, an exponent, a
    /// leading zero or an overflow is not read here.
    fn integer(&mut self) -> Result<u64> {
        let mut n: u64 = 0;
        let start = self.at;
        while let Some(&b) = self.bytes.get(self.at) {
            if !b.is_ascii_digit() {
                break;
            }
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(b - b'0')))
                .ok_or(Unsupported)?;
            self.at += 1;
        }
        let digits = self.at - start;
        let leading_zero = digits > 1 && self.bytes[start] == b'0';
        if digits == 0
            || leading_zero
            || matches!(self.bytes.get(self.at), Some(b'.' | b'e' | b'E'))
        {
            return Err(Unsupported);
        }
        Ok(n)
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        self.at - start
    }

    /// Skips a number, checked as `serde_json` checks one it skips.
    fn skip_number(&mut self) -> Result<()> {
        if self.bytes.get(self.at) == Some(&b'-') {
            self.eat();
        }
        match self.bytes.get(self.at) {
            Some(b'0') => {
                self.eat();
                if self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
                    return Err(Unsupported);
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(Unsupported),
        }
        if self.bytes.get(self.at) == Some(&b'.') {
            self.eat();
            if self.digits() == 0 {
                return Err(Unsupported);
            }
        }
        if matches!(self.bytes.get(self.at), Some(b'e' | b'E')) {
            self.eat();
            if matches!(self.bytes.get(self.at), Some(b'+' | b'-')) {
                self.eat();
            }
            if self.digits() == 0 {
                return Err(Unsupported);
            }
        }
        Ok(())
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Unsupported);
        }
        Ok(())
    }

    /// Skips one value of any kind.
    fn skip_value(&mut self) -> Result<()> {
        match self.peek_past_ws().ok_or(Unsupported)? {
            b'"' => self.skip_str(),
            b'n' => self.literal(b"ull"),
            b't' => self.literal(b"rue"),
            b'f' => self.literal(b"alse"),
            b'-' | b'0'..=b'9' => self.skip_number(),
            b'[' => self.nest(b']', |p| {
                let mut first = true;
                while p.next_element(&mut first)? {
                    p.skip_value()?;
                }
                Ok(())
            }),
            b'{' => self.nest(b'}', |p| {
                let mut first = true;
                while p.next_key(&mut first)? {
                    p.skip_str()?;
                    p.colon()?;
                    p.skip_value()?;
                }
                Ok(())
            }),
            _ => Err(Unsupported),
        }
    }

    /// Whether an array has another element (its `,` consumed); on `false`, `self.at` is on the `]`.
    fn next_element(&mut self, first: &mut bool) -> Result<bool> {
        match self.peek_past_ws().ok_or(Unsupported)? {
            b']' => Ok(false),
            _ if *first => {
                *first = false;
                Ok(true)
            }
            b',' => {
                self.eat();
                match self.peek_past_ws() {
                    Some(b']') | None => Err(Unsupported),
                    Some(_) => Ok(true),
                }
            }
            _ => Err(Unsupported),
        }
    }

    /// Whether an object has another key (its `,` consumed, `self.at` on the key's quote); on `false`,
    /// `self.at` is on the `}`.
    fn next_key(&mut self, first: &mut bool) -> Result<bool> {
        let b = self.peek_past_ws().ok_or(Unsupported)?;
        if b == b'}' {
            return Ok(false);
        }
        if *first {
            *first = false;
        } else if b == b',' {
            self.eat();
        } else {
            return Err(Unsupported);
        }
        match self.peek_past_ws() {
            Some(b'"') => Ok(true),
            _ => Err(Unsupported),
        }
    }

    /// Past white space, `self.at` is on `byte` (not consumed).
    fn expect(&mut self, byte: u8) -> Result<()> {
        match self.peek_past_ws() {
            Some(b) if b == byte => Ok(()),
            _ => Err(Unsupported),
        }
    }

    fn colon(&mut self) -> Result<()> {
        self.expect(b':')?;
        self.eat();
        Ok(())
    }

    /// Reads an object or an array (`self.at` on its opening byte) with `read`, which must leave
    /// `self.at` on its closing byte `close`.
    fn nest<T>(&mut self, close: u8, read: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.enter()?;
        self.eat();
        let value = read(self)?;
        self.depth -= 1;
        match self.peek_past_ws() {
            Some(b) if b == close => {
                self.eat();
                Ok(value)
            }
            _ => Err(Unsupported),
        }
    }

    /// Reads an object with `visitor`: the whole object must be read.
    fn object<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        self.nest(b'}', |p| visitor.visit_map(MapAccess { p, first: true }))
    }

    /// Reads an array with `visitor`: the whole array must be read.
    fn array<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        self.nest(b']', |p| visitor.visit_seq(SeqAccess { p, first: true }))
    }

    /// A number as `serde_json` hands it to any visitor, within the subset: a u64.
    fn number<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        match self.peek_past_ws() {
            Some(b'0'..=b'9') => visitor.visit_u64(self.integer()?),
            _ => Err(Unsupported),
        }
    }
}

macro_rules! numbers {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            self.number(visitor)
        })*
    };
}

/// Methods that leave the value to `serde_json`, each with the types of its arguments before the visitor.
macro_rules! unsupported {
    ($($method:ident($($arg:ty),*))*) => {
        $(fn $method<V: Visitor<'de>>(self, $(_: $arg,)* _: V) -> Result<V::Value> {
            Err(Unsupported)
        })*
    };
}

impl<'de> Deserializer<'de> for &mut Parser<'de> {
    type Error = Unsupported;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek_past_ws().ok_or(Unsupported)? {
            b'n' => {
                self.literal(b"ull")?;
                visitor.visit_unit()
            }
            b't' => {
                self.literal(b"rue")?;
                visitor.visit_bool(true)
            }
            b'f' => {
                self.literal(b"alse")?;
                visitor.visit_bool(false)
            }
            b'0'..=b'9' => visitor.visit_u64(self.integer()?),
            b'"' => visitor.visit_borrowed_str(self.plain_text()?),
            b'[' => self.array(visitor),
            b'{' => self.object(visitor),
            _ => Err(Unsupported),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek_past_ws() {
            Some(b't') => {
                self.literal(b"rue")?;
                visitor.visit_bool(true)
            }
            Some(b'f') => {
                self.literal(b"alse")?;
                visitor.visit_bool(false)
            }
            _ => Err(Unsupported),
        }
    }

    numbers! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_f32 deserialize_f64
    }

    unsupported! {
        deserialize_char()
        deserialize_enum(&'static str, &'static [&'static str])
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.expect(b'"')?;
        visitor.visit_borrowed_str(self.plain_text()?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.expect(b'"')?;
        visitor.visit_borrowed_bytes(self.plain_str()?)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek_past_ws() {
            Some(b'n') => {
                self.literal(b"ull")?;
                visitor.visit_none()
            }
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.expect(b'n')?;
        self.literal(b"ull")?;
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        // `serde_json`'s raw values are read by `serde_json` alone.
        if name.starts_with("$serde_json") {
            return Err(Unsupported);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.expect(b'[')?;
        self.array(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.expect(b'{')?;
        self.object(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.skip_value()?;
        visitor.visit_unit()
    }
}

struct MapAccess<'a, 'de> {
    p: &'a mut Parser<'de>,
    first: bool,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_, 'de> {
    type Error = Unsupported;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if !self.p.next_key(&mut self.first)? {
            return Ok(None);
        }
        seed.deserialize(KeyDeserializer { p: self.p }).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        self.p.colon()?;
        seed.deserialize(&mut *self.p)
    }
}

struct SeqAccess<'a, 'de> {
    p: &'a mut Parser<'de>,
    first: bool,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_, 'de> {
    type Error = Unsupported;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if !self.p.next_element(&mut self.first)? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.p).map(Some)
    }
}

/// An object's key (`self.p.at` on its opening quote), read as `serde_json` reads keys: as text checked for
/// UTF-8, or as bytes unchecked.
struct KeyDeserializer<'a, 'de> {
    p: &'a mut Parser<'de>,
}

impl<'de> Deserializer<'de> for KeyDeserializer<'_, 'de> {
    type Error = Unsupported;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_str(self.p.plain_text()?)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_bytes(self.p.plain_str()?)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    serde::forward_to_deserialize_any! { str string identifier ignored_any }

    unsupported! {
        deserialize_bool() deserialize_char() deserialize_unit() deserialize_seq() deserialize_map()
        deserialize_i8() deserialize_i16() deserialize_i32() deserialize_i64()
        deserialize_u8() deserialize_u16() deserialize_u32() deserialize_u64()
        deserialize_f32() deserialize_f64() deserialize_option()
        deserialize_unit_struct(&'static str)
        deserialize_newtype_struct(&'static str)
        deserialize_tuple(usize)
        deserialize_tuple_struct(&'static str, usize)
        deserialize_struct(&'static str, &'static [&'static str])
        deserialize_enum(&'static str, &'static [&'static str])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Provenance;
    use crate::sources::shared::common;
    use crate::sources::{api_log::ApiLog, claude_code::ClaudeCode, LineParser};
    use serde::de::IgnoredAny;
    use serde_json::Value;

    /// Edge cases: each is read here as `serde_json` reads it, or left to `serde_json`.
    const EDGES: &[&[u8]] = &[
        br#"{"a":1,"b":"x","c":[true,false,null],"d":{}}"#,
        br#" { "a" : [ 1 , 2 ] , "b" : { "c" : "d" } } "#,
        br#"{"a":1,"a":2}"#,
        br#"{"a":18446744073709551615}"#,
        br#"{"a":18446744073709551616}"#,
        br#"{"a":123456789012345678901234567890}"#,
        br#"{"a":-1}"#,
        br#"{"a":-0}"#,
        br#"{"a":0}"#,
        br#"{"a":01}"#,
        br#"{"a":1.5}"#,
        br#"{"a":1e3}"#,
        br#"{"a":1.}"#,
        br#"{"a":.5}"#,
        br#"{"a":1e}"#,
        br#"{"a":"\ud800"}"#,
        br#"{"a":"\u00e9"}"#,
        br#"{"a":"x\"y"}"#,
        br#"{"a":"\x"}"#,
        br#"{"a":"\u12g4"}"#,
        b"{\"a\":\"\xff\"}",
        b"{\"\xff\":1}",
        b"{\"a\":\"\x01\"}",
        b"{\"a\":\"caf\xc3\xa9\"}",
        br#"{"a":1,}"#,
        br#"{"a":[1,]}"#,
        br#"{"a":[,1]}"#,
        br#"{,"a":1}"#,
        br#"{"a" 1}"#,
        br#"{"a":1"b":2}"#,
        br#"{"a":1} x"#,
        br#"{"a":1}{"b":2}"#,
        br#"{"a":tru}"#,
        br#"{"a":nul}"#,
        br#"{"a":nulll}"#,
        br#"{"a":1"#,
        br#"{"a":"x"#,
        br#"{"a"#,
        br#"{1:2}"#,
        b"",
        b"   ",
        br#""text""#,
        br#"[1,"a",{"b":[]}]"#,
        b"{\"a\":\"\\u00\"}",
        b"{\"a\"\x0b:1}",
        b"\xef\xbb\xbf{\"a\":1}",
        b"{\"a\":\"0123456789012345678901234567890123456789\x01\"}",
        b"{\"a\":\"0123456789012345678901234567890123456789\\n\"}",
        b"{\"a\":[\"0123456789012345678901234567890123456789\x01\"]}",
        b"{\"a\":[\"0123456789012345678901234567890123456789\\q\"]}",
        b"{\"a\":[\"0123456789012345678901234567890123456789\\\"\"]}",
        b"{\"a\":[\"caf\xc3\xa9\"],\"b\":\"\xe9\"}",
        b"{\"a\":[\"\xff\"],\"b\":1}",
    ];

    /// The first special byte (see [`is_special`]) one byte at a time: what the block scans must find.
    fn first_special(rest: &[u8]) -> Result<usize> {
        let at = rest
            .iter()
            .position(|&b| is_special(b))
            .ok_or(Unsupported)?;
        end_at(rest, at)
    }

    #[test]
    fn every_scan_finds_the_first_special_byte() {
        // Each special byte (and one that is not) at each position of lines of every length up to three
        // blocks of 32, with a second special byte after it, and a non-ASCII byte on either side.
        for len in 0..100 {
            for at in 0..=len {
                for special in [b'"', b'\\', 0x00, 0x1f, b' ', 0x7f, 0xff] {
                    let mut rest = vec![b'a'; len];
                    if at < len {
                        rest[at] = special;
                        if at + 3 < len {
                            rest[at + 3] = b'"';
                        }
                    }
                    if at > 0 {
                        rest[at - 1] = 0xc3;
                    }
                    let want = first_special(&rest);
                    assert_eq!(
                        portable_quote_or_backslash(&rest),
                        want,
                        "{len} {at} {special}"
                    );
                    assert_eq!(quote_or_backslash(&rest), want, "{len} {at} {special}");
                    assert_eq!(
                        short_quote_or_backslash(&rest),
                        want,
                        "{len} {at} {special}"
                    );
                }
            }
        }
    }

    #[test]
    fn utf8_check_is_the_standard_librarys() {
        // Lines of every length up to past two 128-byte steps: ASCII throughout, or with a byte above
        // ASCII (alone, which is not UTF-8, or starting a character) at each position.
        for len in 0..300 {
            let ascii = vec![b'a'; len];
            assert!(is_utf8(&ascii), "{len}");
            for at in 0..len {
                for high in [0x80, 0xc3, 0xff] {
                    let mut line = ascii.clone();
                    line[at] = high;
                    assert!(!is_utf8(&line), "{len} {at} {high}");
                    if at + 1 < len && high == 0xc3 {
                        line[at + 1] = 0xa9;
                        assert!(is_utf8(&line), "{len} {at}");
                    }
                    #[cfg(target_arch = "x86_64")]
                    if std::arch::is_x86_feature_detected!("avx2") {
                        // SAFETY: the CPU has AVX2, checked just above.
                        assert!(!unsafe { avx2::is_ascii(&line) }, "{len} {at} {high}");
                    }
                }
            }
        }
    }

    fn nested(depth: usize) -> Vec<u8> {
        let mut s = "[".repeat(depth).into_bytes();
        s.extend(std::iter::repeat_n(b']', depth));
        s
    }

    /// Reads `bytes` here and with `serde_json`: whatever is read here is what `serde_json` reads, and a
    /// value `serde_json` refuses is refused here too.
    fn same<'a, T: Deserialize<'a> + PartialEq + fmt::Debug>(bytes: &'a [u8]) {
        if let Ok(fast) = from_slice::<T>(bytes) {
            let slow = serde_json::from_slice::<T>(bytes);
            assert_eq!(slow.ok(), Some(fast), "{}", String::from_utf8_lossy(bytes));
        }
    }

    #[derive(PartialEq, Debug)]
    struct Skipped;

    impl<'de> Deserialize<'de> for Skipped {
        fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Skipped, D::Error> {
            IgnoredAny::deserialize(d).map(|_| Skipped)
        }
    }

    #[test]
    fn reads_what_serde_json_reads_or_leaves_it() {
        let deep = [nested(99), nested(100), nested(101), nested(130)];
        for bytes in EDGES.iter().copied().chain(deep.iter().map(Vec::as_slice)) {
            same::<Value>(bytes);
            same::<Skipped>(bytes);
            same::<std::collections::BTreeMap<String, Skipped>>(bytes);
        }
        // The common case is read here.
        assert_eq!(
            from_slice::<Value>(br#"{"a":1,"b":"x","c":[true,false,null],"d":{}}"#),
            Ok(serde_json::json!({"a": 1, "b": "x", "c": [true, false, null], "d": {}}))
        );
        assert_eq!(from_slice::<Value>(&nested(100)).map(|_| ()), Ok(()));
        // Escapes in skipped text are checked and skipped; kept text with escapes is left to serde_json.
        assert_eq!(
            from_slice::<Skipped>(br#"{"a":"x\"y\\\n\u00e9\ud800","b":[1.5e-3,-2]}"#),
            Ok(Skipped)
        );
        assert_eq!(from_slice::<Value>(br#"{"a":"x\"y"}"#), Err(Unsupported));
        // Refused here as serde_json refuses them: bad escapes, control characters, invalid UTF-8 in a key
        // or a kept string, numbers JSON does not allow, trailing commas, nesting past the limit.
        for bad in [
            &br#"{"a":"\x"}"#[..],
            b"{\"a\":\"\x01\"}",
            b"{\"\xff\":1}",
            b"{\"a\":\"\xff\"}",
            br#"{"a":01}"#,
            br#"{"a":1.}"#,
            br#"{"a":1,}"#,
            br#"{"a":[1,]}"#,
            br#"{"a":1} x"#,
            &nested(101),
        ] {
            assert_eq!(from_slice::<Value>(bad), Err(Unsupported), "{bad:?}");
            assert!(serde_json::from_slice::<Value>(bad).is_err() || bad.starts_with(b"[[["));
        }
        // Past the first 32 bytes of a string as within them: control characters refused, escapes skipped.
        let long = b"{\"a\":[\"0123456789012345678901234567890123456789\x01\"]}";
        assert_eq!(from_slice::<Skipped>(long), Err(Unsupported));
        assert!(serde_json::from_slice::<Skipped>(long).is_err());
        let long = b"{\"a\":[\"0123456789012345678901234567890123456789\\\"x\"]}";
        assert_eq!(from_slice::<Skipped>(long), Ok(Skipped));
        // Numbers outside the subset are left to serde_json, which reads them.
        for number in [&b"-1"[..], b"1.5", b"18446744073709551616", b"-0"] {
            assert_eq!(from_slice::<Value>(number), Err(Unsupported));
            assert!(serde_json::from_slice::<Value>(number).is_ok());
        }
    }

    /// A small deterministic generator of edits.
    struct Edits(u64);

    impl Edits {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }

        /// `line` with one edit: a byte removed, or a piece of JSON syntax, an escape, a control
        /// character, an invalid UTF-8 byte or a huge number put in.
        fn edit(&mut self, line: &[u8]) -> Vec<u8> {
            const PIECES: &[&[u8]] = &[
                b"\"",
                b"\\",
                b"\\u",
                b"\\ud800",
                b"\\n",
                b"{",
                b"}",
                b"[",
                b"]",
                b",",
                b":",
                b" ",
                b"\x01",
                b"\xff",
                b"\xc3",
                b"-",
                b"0",
                b"1.5",
                b"e",
                b"null",
                b"99999999999999999999",
                b"\"x\":1,",
                b"\"model\":\"m\",",
                b"\"usage\":{},",
                // Keys a Claude Code line keeps, again or with values of another kind.
                b"\"type\":\"assistant\",",
                b"\"timestamp\":1730000000,",
                b"\"timestamp\":\"2026-10-03T14:22:05Z\",",
                b"\"requestId\":null,",
                b"\"sessionId\":42,",
                b"\"cwd\":\"/a\\/b\",",
                b"\"costUSD\":0.25,",
                b"\"message\":null,",
                b"\"id\":true,",
            ];
            let mut out = line.to_vec();
            let at = self.below(out.len() + 1);
            match self.below(3) {
                0 if !out.is_empty() => {
                    out.remove(at.min(out.len() - 1));
                }
                1 => out.truncate(at),
                _ => {
                    let piece = PIECES[self.below(PIECES.len())];
                    out.splice(at..at, piece.iter().copied());
                }
            }
            out
        }
    }

    fn lines_of(dir: &str) -> Vec<Vec<u8>> {
        let mut files = vec![std::path::PathBuf::from(dir)];
        let mut lines = Vec::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).unwrap() {
                    files.push(entry.unwrap().path());
                }
            } else if path.extension().is_some_and(|e| e == "jsonl") {
                let text = std::fs::read(&path).unwrap();
                lines.extend(
                    text.split(|&b| b == b'\n')
                        .filter(|l| !l.trim_ascii().is_empty())
                        .map(<[u8]>::to_vec),
                );
            }
        }
        lines.sort();
        lines
    }

    type Read = std::result::Result<Vec<crate::record::UsageRecord>, crate::error::RecordError>;

    fn parse(parser: &dyn LineParser, line: &[u8]) -> Read {
        let at = Provenance {
            file: std::sync::Arc::from("usage.jsonl"),
            line: 3,
        };
        let mut out = Vec::new();
        parser.parse_line(line, &at, &mut out).map(|()| out)
    }

    /// The records (or the error) of every fixture line, and of thousands of edited copies of them, are
    /// the same read here first as read by `serde_json` alone.
    #[test]
    fn records_and_errors_are_serde_jsons() {
        let mut edits = Edits(0x9e37_79b9_7f4a_7c15);
        let mut fast_reads = 0;
        for (parser, dir) in [
            (&ApiLog as &dyn LineParser, "fixtures/api-log"),
            (&ClaudeCode, "fixtures/claude-code"),
        ] {
            let lines = lines_of(dir);
            assert!(lines.len() > 20, "{dir}: {} lines", lines.len());
            for line in &lines {
                let mut variants = vec![line.clone()];
                variants.extend((0..40).map(|_| edits.edit(line)));
                for v in &variants {
                    let fast = parse(parser, v);
                    let slow = common::serde_json_only(|| parse(parser, v));
                    assert_eq!(fast, slow, "{}", String::from_utf8_lossy(v));
                }
                fast_reads += usize::from(from_slice::<Skipped>(line).is_ok());
            }
        }
        assert!(fast_reads > 100, "{fast_reads}");
    }
}
