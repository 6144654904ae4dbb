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

/// Parses a number cell of a CSV or TSV export: decimal text as [`parse_decimal`] reads it, or a number
/// with its thousands grouped as a spreadsheet shows them (`1,234,567`, `1,234.50`, `1 234 567`, with a
/// no-break or narrow no-break space, or `1'234'567`). Grouping must be exact, one separator throughout
/// and groups of three digits after the first group of one to three, so that `1,23` or `12,3456` (a
/// decimal comma, a list) is never read as a different number: it is not a number.
pub fn parse_number_cell(text: &str) -> Option<Decimal> {
    let text = text.trim();
    parse_decimal(text).or_else(|| parse_decimal(&ungrouped(text)?))
}

/// `text` without its thousands separators, when it is a number grouped exactly.
fn ungrouped(text: &str) -> Option<String> {
    const SEPARATORS: [char; 6] = [',', ' ', '\u{a0}', '\u{202f}', '\'', '\u{2019}'];
    let (sign, rest) = match text.strip_prefix(['-', '+']) {
        Some(rest) => (&text[..1], rest),
        None => ("", text),
    };
    let (whole, fraction) = match rest.split_once('.') {
        Some((w, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => (w, Some(f)),
        Some(_) => return None,
        None => (rest, None),
    };
    let separator = whole.chars().find(|c| SEPARATORS.contains(c))?;
    let mut groups = whole.split(separator);
    let first = groups.next()?;
    let digits = |g: &str| g.bytes().all(|b| b.is_ascii_digit());
    if first.is_empty() || first.len() > 3 || !digits(first) {
        return None;
    }
    let mut out = format!("{sign}{first}");
    for group in groups {
        if group.len() != 3 || !digits(group) {
            return None;
        }
        out.push_str(group);
    }
    if let Some(f) = fraction {
        out.push('.');
        out.push_str(f);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_cells_read_thousands_separators_exactly() {
        let d = |s: &str| parse_number_cell(s).map(|d| d.to_string());
        assert_eq!(d("1,234,567").as_deref(), Some("1234567"));
        assert_eq!(d(" 1,234,567.0 ").as_deref(), Some("1234567.0"));
        assert_eq!(d("-12,345.678").as_deref(), Some("-12345.678"));
        assert_eq!(d("1 234 567").as_deref(), Some("1234567"));
        assert_eq!(d("1\u{a0}234").as_deref(), Some("1234"));
        assert_eq!(d("1\u{202f}234\u{202f}567").as_deref(), Some("1234567"));
        assert_eq!(d("1'000'000").as_deref(), Some("1000000"));
        assert_eq!(d("999").as_deref(), Some("999"));
        assert_eq!(d("1.5e-7").as_deref(), Some("0.00000015"));
        // Not grouped exactly: never read as another number.
        for bad in [
            "1,23",
            "12,3456",
            "1234,567",
            ",123",
            "1,,234",
            "1,234 567",
            "1,234.",
            "1,234.5.6",
            "1,234,56",
            "0,5",
            "1.234,5",
            "1,2a4",
            "",
        ] {
            assert_eq!(d(bad), None, "{bad:?}");
        }
    }

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
