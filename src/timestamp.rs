//! Points in time as logs and exports write them: RFC 3339 / ISO 8601 text, or unix seconds or milliseconds.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// A point in time as logs write it: RFC 3339 / ISO 8601 text (with or without zone, taken as UTC),
/// or unix seconds or milliseconds (as an integer, a float or a numeric string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    pub fn parse_str(s: &str) -> Option<Timestamp> {
        if let Some(t) = utc_rfc3339(s.as_bytes()) {
            return Some(Timestamp(t));
        }
        let s = s.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Some(Timestamp(t.with_timezone(&Utc)));
        }
        for fmt in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f UTC",
        ] {
            if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
                return Some(Timestamp(Utc.from_utc_datetime(&t)));
            }
        }
        if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f %z") {
            return Some(Timestamp(t.with_timezone(&Utc)));
        }
        if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Some(Timestamp(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?)));
        }
        if let Ok(n) = s.parse::<i64>() {
            return Timestamp::from_unix(n);
        }
        None
    }

    /// Unix seconds, or milliseconds when the value is too large to be seconds (after the year 5138).
    pub fn from_unix(n: i64) -> Option<Timestamp> {
        let ms = if n.abs() >= 100_000_000_000 {
            n
        } else {
            n.checked_mul(1000)?
        };
        Utc.timestamp_millis_opt(ms).single().map(Timestamp)
    }
}

/// The spelling nearly every log writes, `2026-10-03T14:22:05.123Z` (the fraction optional, one to nine
/// digits), read without chrono's format machinery: a sixth of the instructions, on a field of every
/// line. `None` for any other spelling (an offset, a leap second, a space for the `T`, more digits),
/// which [`Timestamp::parse_str`] then reads in full; where this reads a time, chrono reads the same.
fn utc_rfc3339(s: &[u8]) -> Option<DateTime<Utc>> {
    let (&b'Z', s) = s.split_last()? else {
        return None;
    };
    let (whole, fraction) = s.split_at_checked(19)?;
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T', h0, h1, b':', n0, n1, b':', s0, s1] =
        *whole
    else {
        return None;
    };
    let nano = match fraction {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            number(digits)? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let second = number(&[s0, s1])?;
    // 60 is a leap second, which chrono folds into the second before.
    if second > 59 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        number(&[y0, y1, y2, y3])? as i32,
        number(&[m0, m1])?,
        number(&[d0, d1])?,
    )?;
    let time = NaiveTime::from_hms_nano_opt(number(&[h0, h1])?, number(&[n0, n1])?, second, nano)?;
    Some(Utc.from_utc_datetime(&date.and_time(time)))
}

/// The value of up to nine ASCII digits.
fn number(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an RFC 3339 time or unix seconds/milliseconds")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Timestamp, E> {
                Timestamp::parse_str(s).ok_or_else(|| E::custom(format!("not a valid time: {s:?}")))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Timestamp, E> {
                Timestamp::from_unix(n).ok_or_else(|| E::custom(format!("time out of range: {n}")))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Timestamp, E> {
                let n =
                    i64::try_from(n).map_err(|_| E::custom(format!("time out of range: {n}")))?;
                self.visit_i64(n)
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Timestamp, E> {
                // Fractional unix seconds (`1730000000.123`): a time, not money.
                if !n.is_finite() {
                    return Err(E::custom("time is not a finite number"));
                }
                let ms = if n.abs() >= 1e11 { n } else { n * 1000.0 };
                Utc.timestamp_millis_opt(ms.round() as i64)
                    .single()
                    .map(Timestamp)
                    .ok_or_else(|| E::custom(format!("time out of range: {n}")))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_every_spelling() {
        let want = Utc.with_ymd_and_hms(2026, 10, 3, 14, 22, 5).unwrap();
        for s in [
            "\"2026-10-03T14:22:05Z\"",
            "\"2026-10-03T14:22:05.000+00:00\"",
            "\"2026-10-03T16:22:05+02:00\"",
            "\"2026-10-03 14:22:05\"",
            "1791037325",
            "1791037325000",
            "\"1791037325\"",
        ] {
            let t: Timestamp = serde_json::from_str(s).unwrap();
            assert_eq!(t.0, want, "{s}");
        }
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
    }

    /// chrono's reading of a spelling, as `parse_str` read every one before the short path.
    fn by_chrono(s: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    #[test]
    fn the_short_path_reads_what_chrono_reads() {
        // Worked by hand: 2024 is a leap year, 1900 and 2100 are not; .5 is 500,000,000 ns and
        // .000000001 one ns.
        let at = |y, mo, d, h, mi, s, ns| {
            Utc.from_utc_datetime(
                &NaiveDate::from_ymd_opt(y, mo, d)
                    .unwrap()
                    .and_hms_nano_opt(h, mi, s, ns)
                    .unwrap(),
            )
        };
        assert_eq!(
            utc_rfc3339(b"2024-02-29T23:59:59.5Z"),
            Some(at(2024, 2, 29, 23, 59, 59, 500_000_000))
        );
        assert_eq!(
            utc_rfc3339(b"2026-10-01T00:00:06.000000001Z"),
            Some(at(2026, 10, 1, 0, 0, 6, 1))
        );
        assert_eq!(
            utc_rfc3339(b"0000-01-01T00:00:00Z"),
            Some(at(0, 1, 1, 0, 0, 0, 0))
        );
        // Not dates, not times, or spellings left to chrono.
        for s in [
            "1900-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-10-01T24:00:00Z",
            "2026-10-01T23:60:00Z",
            "2026-10-01T23:59:60Z",
            "2026-10-01T00:00:00.Z",
            "2026-10-01T00:00:00.1234567890Z",
            "2026-10-01t00:00:00Z",
            "2026-10-01 00:00:00Z",
            "2026-10-01T00:00:00z",
            "2026-10-01T00:00:00+00:00",
            "2026-10-01T00:00:00",
            "2026-1-01T00:00:00Z",
            "+2026-10-01T00:00:00Z",
            "2026-10-01T00:00:0xZ",
            "２026-10-01T00:00:00Z",
            "",
            "Z",
        ] {
            assert_eq!(utc_rfc3339(s.as_bytes()), None, "{s}");
        }
        // Whatever the short path reads, chrono reads the same; and the long path still reads the rest.
        let mut checked = 0;
        for year in ["0000", "1900", "1970", "2024", "2026", "9999"] {
            for month in 0..=13 {
                for day in [0, 1, 28, 29, 30, 31, 32] {
                    for time in ["00:00:00", "23:59:59", "12:34:56", "24:00:00", "23:59:60"] {
                        for fraction in ["", ".1", ".123", ".123456", ".123456789", ".1234567891"] {
                            for zone in ["Z", "z", "+00:00", "-07:30"] {
                                let s =
                                    format!("{year}-{month:02}-{day:02}T{time}{fraction}{zone}");
                                if let Some(t) = utc_rfc3339(s.as_bytes()) {
                                    assert_eq!(Some(t), by_chrono(&s), "{s}");
                                    checked += 1;
                                }
                                if let Some(t) = by_chrono(&s) {
                                    assert_eq!(
                                        Timestamp::parse_str(&s).map(|t| t.0),
                                        Some(t),
                                        "{s}"
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
        // Read by the short path: the valid dates, 3 valid times, 5 fractions of at most nine digits, and
        // "Z". Days of the list that are dates: 4 in each 30-day month (1, 28, 29, 30), 5 in each 31-day
        // month, 3 in a leap February and 2 in another; a leap year (0000, 2024) has 4×4 + 7×5 + 3 = 54,
        // another 53. (2×54 + 4×53) × 3 × 5 = 320 × 15 = 4,800.
        assert_eq!(checked, 4_800);
        // White space around a time is not the short path's, and is still read.
        assert_eq!(
            Timestamp::parse_str(" 2026-10-01T00:00:06.5Z\n").map(|t| t.0),
            Some(at(2026, 10, 1, 0, 0, 6, 500_000_000))
        );
    }
}
