//! Exact decimals from text: money and rates are read from a JSON number's own digits or a numeric string,
//! never through `f64`.

use rust_decimal::Decimal;
use serde::de::{self, Deserializer};
use serde::Deserialize;
use std::str::FromStr;

/// An exact decimal read from a JSON number's own text (or a numeric string), never through `f64`.
/// Used with `&RawValue` fields: `"costUSD": 0.0123` keeps every digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonDecimal(pub Decimal);

impl<'de> Deserialize<'de> for JsonDecimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<JsonDecimal, D::Error> {
        let raw: &serde_json::value::RawValue = Deserialize::deserialize(d)?;
        let text = raw.get().trim();
        let text = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(text);
        parse_decimal(text)
            .map(JsonDecimal)
            .ok_or_else(|| de::Error::custom(format!("not a decimal number: {text}")))
    }
}

/// Parses decimal text, including exponent notation (`1.5e-7`).
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Decimal::from_str(text)
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_keep_every_digit() {
        let d: JsonDecimal = serde_json::from_str("0.1234567890123456789").unwrap();
        assert_eq!(d.0.to_string(), "0.1234567890123456789");
        let d: JsonDecimal = serde_json::from_str("1.5e-7").unwrap();
        assert_eq!(d.0, Decimal::new(15, 8));
        let d: JsonDecimal = serde_json::from_str("\"123.78912\"").unwrap();
        assert_eq!(d.0, Decimal::new(12378912, 5));
    }
}
