//! The compact encodings of the parse cache's sums: LEB128 varints, and a row of sums as the bitmap of
//! its non-zero columns followed by those columns, so that a row of a few token classes takes a few bytes
//! and decodes without a general-purpose deserializer.
//!
//! Decoding never panics: bytes that do not decode give `None` (the entry's checksums make that a
//! damaged or foreign entry, never a wrong figure).

use rust_decimal::Decimal;

use crate::ledger::rollup::Sums;

/// The bit of a row's bitmap that says a reported cost follows its counts.
const COST_BIT: u32 = 1 << 22;
const COLUMNS: usize = 22;

/// Appends `v` as a LEB128 varint (7 bits a byte, low bits first).
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Takes a varint off the front of `input`; `None` when it is cut short or longer than 64 bits.
pub(crate) fn get_varint(input: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0u32;
    loop {
        let (&b, rest) = input.split_first()?;
        *input = rest;
        if shift == 63 && b > 1 {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// Appends a signed value, zigzag-encoded (small magnitudes of either sign take one byte).
pub(crate) fn put_signed(out: &mut Vec<u8>, v: i64) {
    put_varint(out, ((v << 1) ^ (v >> 63)) as u64);
}

pub(crate) fn get_signed(input: &mut &[u8]) -> Option<i64> {
    let v = get_varint(input)?;
    Some(((v >> 1) as i64) ^ -((v & 1) as i64))
}

/// Appends a row of sums: the bitmap of its non-zero counts (and whether a reported cost other than a
/// plain zero follows), those counts, then the cost's exact bits.
pub(crate) fn put_sums(out: &mut Vec<u8>, s: &Sums) {
    let mut mask = 0u32;
    for (i, &c) in s.counts.iter().enumerate() {
        if c != 0 {
            mask |= 1 << i;
        }
    }
    let cost = s.reported_cost.serialize();
    let has_cost = cost != Decimal::ZERO.serialize();
    if has_cost {
        mask |= COST_BIT;
    }
    put_varint(out, u64::from(mask));
    let mut bits = mask & !COST_BIT;
    while bits != 0 {
        let i = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        put_varint(out, s.counts[i] as u64);
    }
    if has_cost {
        let word =
            |at: usize| u32::from_le_bytes([cost[at], cost[at + 1], cost[at + 2], cost[at + 3]]);
        put_varint(out, u64::from(word(0)));
        put_varint(out, u64::from(word(4)) | (u64::from(word(8)) << 32));
        put_varint(out, u64::from(word(12)));
    }
}

/// Takes a row of sums (see [`put_sums`]) off the front of `input`.
pub(crate) fn get_sums(input: &mut &[u8]) -> Option<Sums> {
    let mask = u32::try_from(get_varint(input)?).ok()?;
    if mask >> (COLUMNS + 1) != 0 {
        return None;
    }
    let mut s = Sums::default();
    let mut bits = mask & !COST_BIT;
    while bits != 0 {
        let i = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        s.counts[i] = get_varint(input)? as i64;
    }
    if mask & COST_BIT != 0 {
        let flags = u32::try_from(get_varint(input)?).ok()?;
        let low = get_varint(input)?;
        let high = u32::try_from(get_varint(input)?).ok()?;
        let mut bytes = [0u8; 16];
        bytes[..4].copy_from_slice(&flags.to_le_bytes());
        bytes[4..12].copy_from_slice(&low.to_le_bytes());
        bytes[12..].copy_from_slice(&high.to_le_bytes());
        s.reported_cost = Decimal::deserialize(bytes);
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every value comes back as it went in, bit for bit (a negative zero and trailing zeros of a
        /// cost included), one after another.
        #[test]
        fn sums_and_varints_come_back_as_they_went_in(
            counts in proptest::collection::vec(prop_oneof![Just(0i64), any::<i64>(), 0i64..300], 22),
            mantissa in any::<i64>(),
            scale in 0u32..=28,
            negative in any::<bool>(),
            signed in any::<i64>(),
        ) {
            let mut s = Sums::default();
            s.counts.copy_from_slice(&counts);
            let mut cost = Decimal::new(mantissa, scale);
            cost.set_sign_negative(negative);
            s.reported_cost = cost;
            let mut out = Vec::new();
            put_sums(&mut out, &s);
            put_signed(&mut out, signed);
            put_sums(&mut out, &Sums::default());
            let mut input = &out[..];
            let back = get_sums(&mut input).unwrap();
            prop_assert_eq!(back.counts, s.counts);
            prop_assert_eq!(back.reported_cost.serialize(), s.reported_cost.serialize());
            prop_assert_eq!(get_signed(&mut input), Some(signed));
            prop_assert_eq!(get_sums(&mut input), Some(Sums::default()));
            prop_assert!(input.is_empty());
            // Cut anywhere, it does not decode (and does not panic).
            for cut in 0..out.len() {
                let mut short = &out[..cut];
                let whole = get_sums(&mut short).is_some()
                    && get_signed(&mut short).is_some()
                    && get_sums(&mut short).is_some();
                prop_assert!(!whole);
            }
        }
    }

    #[test]
    fn a_row_of_a_few_classes_takes_a_few_bytes() {
        let mut s = Sums::default();
        s.counts[0] = 1;
        s.counts[1] = 1;
        s.counts[2] = 3776;
        s.counts[6] = 808;
        let mut out = Vec::new();
        put_sums(&mut out, &s);
        // Bitmap (1 byte), 1, 1, 3776 (2 bytes), 808 (2 bytes).
        assert_eq!(out.len(), 7);
        let mut overlong = vec![0xff; 10];
        overlong.push(0);
        assert_eq!(get_varint(&mut &overlong[..]), None);
        assert_eq!(
            get_varint(&mut &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01][..]),
            Some(u64::MAX)
        );
    }
}
