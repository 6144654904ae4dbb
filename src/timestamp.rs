//! Points in time as logs and exports write them: RFC 3339 / ISO 8601 text, or unix seconds or milliseconds.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// A point in time as logs write it: RFC 3339 / ISO 8601 text (with or without zone, taken as UTC),
/// or unix seconds or milliseconds (as an integer, a float or a numeric string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    pub fn parse_str(s: &str) -> Option<Timestamp> {
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
}
