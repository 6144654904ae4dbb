//! Model-name resolution: from what a log or export reports (`us.anthropic.claude-sonnet-4-5-20250929-v1:0`,
//! `openai/gpt-4o`, `claude-sonnet-4@20250514`, `models/gemini-2.5-pro`) to a price table entry.
//!
//! The rules are few and strict (see `pricing/README.md`): strip wrappers, look the name up exactly, then
//! once more without a snapshot date. There is no fuzzy matching, so one model version never borrows
//! another's price.

use crate::region::REGION_PREFIXES;

/// Vendor prefixes of Bedrock model ids.
const VENDOR_PREFIXES: &[&str] = &[
    "anthropic.",
    "amazon.",
    "meta.",
    "mistral.",
    "cohere.",
    "ai21.",
    "openai.",
    "deepseek.",
    "qwen.",
    "writer.",
    "google.",
];

/// Whether a reported model name is an Amazon Bedrock model id: a Bedrock ARN, or a vendor-prefixed id
/// (`anthropic.claude-…`), bare or behind a cross-region profile (`us.anthropic.claude-opus-4-6-v1`).
/// Claude Code and gateways log such ids when they call Bedrock, which bills them at its own rates.
pub fn is_bedrock_id(reported: &str) -> bool {
    let name = reported.trim();
    let starts = |s: &str, prefix: &str| {
        s.as_bytes()
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
    };
    if starts(name, "arn:aws:bedrock:") || starts(name, "arn:aws-us-gov:bedrock:") {
        return true;
    }
    // Past an ARN, a Bedrock id holds the dot of its vendor prefix (`anthropic.`): a name without one
    // (`claude-sonnet-4-5-20250929`, every record of a Claude Code log) is told apart at once.
    if !name.contains('.') {
        return false;
    }
    if name.contains('/') {
        return false;
    }
    let rest = REGION_PREFIXES
        .iter()
        .find(|p| starts(name, p))
        .map_or(name, |p| &name[p.len()..]);
    VENDOR_PREFIXES
        .iter()
        .any(|v| starts(rest, v) && rest.len() > v.len())
}

/// The reported name with provider, region and vendor wrappers taken off, lower-cased.
pub fn normalize(reported: &str) -> String {
    let mut name = reported.trim().to_ascii_lowercase();
    // A fine-tune (`ft:gpt-4o-2024-08-06:acme:support:9xYz`) is priced as `ft:BASE`: the fine-tuned rates of
    // its base model. The organisation, suffix and job id that follow do not change the price.
    if let Some(rest) = name.strip_prefix("ft:") {
        let base = rest.split(':').next().unwrap_or(rest);
        return format!("ft:{base}");
    }
    // ARNs and path-like names: the model is the last segment.
    if let Some(i) = name.rfind('/') {
        name = name[i + 1..].to_string();
    }
    for suffix in ["[1m]"] {
        if let Some(s) = name.strip_suffix(suffix) {
            name = s.to_string();
        }
    }
    let mut stripped_vendor = false;
    if let Some(p) = REGION_PREFIXES.iter().find(|p| name.starts_with(**p)) {
        name = name[p.len()..].to_string();
    }
    if let Some(p) = VENDOR_PREFIXES.iter().find(|p| name.starts_with(**p)) {
        name = name[p.len()..].to_string();
        stripped_vendor = true;
    }
    if stripped_vendor {
        // Bedrock version suffixes: `-v1:0`, `-v2:0:51k`, `:0`.
        if let Some(i) = name.find(':') {
            name.truncate(i);
        }
        if let Some(i) = name.rfind("-v") {
            if name[i + 2..].chars().all(|c| c.is_ascii_digit()) && name.len() > i + 2 {
                name.truncate(i);
            }
        }
    }
    // Vertex: `claude-sonnet-4@20250514` is the snapshot `claude-sonnet-4-20250514`; `@001`, `@latest` drop.
    if let Some(i) = name.find('@') {
        let version = name[i + 1..].to_string();
        name.truncate(i);
        if version.len() == 8 && version.chars().all(|c| c.is_ascii_digit()) {
            name = format!("{name}-{version}");
        }
    }
    // OpenRouter writes Claude versions with dots: `claude-3.5-sonnet`, `claude-sonnet-4.5`.
    if name.starts_with("claude-") {
        name = name.replace('.', "-");
    }
    name
}

/// An Azure-style snapshot (`gpt-4o-0513`, `gpt-4o-mini-0718`): the dated ids it may stand for
/// (`gpt-4o-2024-05-13`, one per plausible year, newest first) and the name without it (`gpt-4o`).
pub fn azure_snapshot(name: &str) -> Option<(Vec<String>, String)> {
    let (base, mmdd) = name.rsplit_once('-')?;
    if mmdd.len() != 4 || !mmdd.bytes().all(|b| b.is_ascii_digit()) || base.is_empty() {
        return None;
    }
    let (month, day) = (&mmdd[..2], &mmdd[2..]);
    if !("01"..="12").contains(&month) || !("01"..="31").contains(&day) {
        return None;
    }
    let dated = (2023..=2027)
        .rev()
        .map(|year| format!("{base}-{year}-{month}-{day}"))
        .collect();
    Some((dated, base.to_string()))
}

/// The name without a trailing snapshot date (`-2024-08-06`, `-20250929`) or Vertex version (`-001`), if
/// it has one.
pub fn strip_snapshot(name: &str) -> Option<&str> {
    let bytes = name.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    // -YYYY-MM-DD
    if bytes.len() > 11 {
        let tail = &bytes[bytes.len() - 11..];
        if tail[0] == b'-'
            && digits(&tail[1..5])
            && tail[5] == b'-'
            && digits(&tail[6..8])
            && tail[8] == b'-'
            && digits(&tail[9..])
        {
            return Some(&name[..name.len() - 11]);
        }
    }
    // -YYYYMMDD
    if bytes.len() > 9 {
        let tail = &bytes[bytes.len() - 9..];
        if tail[0] == b'-' && digits(&tail[1..]) && (tail[1] == b'2') {
            return Some(&name[..name.len() - 9]);
        }
    }
    // -NNN (Vertex model versions)
    if bytes.len() > 4 {
        let tail = &bytes[bytes.len() - 4..];
        if tail[0] == b'-' && digits(&tail[1..]) && bytes[bytes.len() - 5] != b'-' {
            return Some(&name[..name.len() - 4]);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bedrock_ids_are_told_apart() {
        for id in [
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us.anthropic.claude-opus-4-6-v1",
            "EU.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "global.anthropic.claude-haiku-4-5-20251001-v1:0",
            "us-gov.anthropic.claude-3-haiku-20240307-v1:0",
            "amazon.nova-pro-v1:0",
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123",
        ] {
            assert!(is_bedrock_id(id), "{id}");
        }
        for name in [
            "claude-sonnet-4-5-20250929",
            "claude-sonnet-4@20250514",
            "anthropic/claude-sonnet-4",
            "openai/gpt-oss-120b",
            "anthropic.",
            "gpt-4o",
            "",
        ] {
            assert!(!is_bedrock_id(name), "{name}");
        }
    }

    #[test]
    fn strips_wrappers() {
        for (reported, want) in [
            ("gpt-4o", "gpt-4o"),
            ("openai/gpt-4o", "gpt-4o"),
            ("anthropic/claude-sonnet-4", "claude-sonnet-4"),
            ("anthropic/claude-3.5-sonnet", "claude-3-5-sonnet"),
            ("models/gemini-2.5-pro", "gemini-2.5-pro"),
            ("anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet-20241022"),
            ("us.anthropic.claude-sonnet-4-20250514-v1:0", "claude-sonnet-4-20250514"),
            ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5-20250929"),
            (
                "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
                "claude-3-haiku-20240307",
            ),
            ("anthropic.claude-3-sonnet-20240229-v1:0:28k", "claude-3-sonnet-20240229"),
            ("claude-sonnet-4@20250514", "claude-sonnet-4-20250514"),
            ("gemini-2.5-pro@001", "gemini-2.5-pro"),
            ("claude-sonnet-4-5-20250929[1m]", "claude-sonnet-4-5-20250929"),
            ("GPT-4.1", "gpt-4.1"),
            ("ft:gpt-4o-mini-2024-07-18:org::abc", "ft:gpt-4o-mini-2024-07-18"),
            ("FT:gpt-3.5-turbo-0125:acme:support:7p4lURel", "ft:gpt-3.5-turbo-0125"),
        ] {
            assert_eq!(normalize(reported), want, "{reported}");
        }
    }

    #[test]
    fn strips_snapshot_dates_only() {
        assert_eq!(strip_snapshot("gpt-4o-2024-08-06"), Some("gpt-4o"));
        assert_eq!(
            strip_snapshot("claude-sonnet-4-5-20250929"),
            Some("claude-sonnet-4-5")
        );
        assert_eq!(strip_snapshot("gemini-1.5-pro-002"), Some("gemini-1.5-pro"));
        assert_eq!(strip_snapshot("gpt-4o"), None);
        assert_eq!(strip_snapshot("claude-3-5-sonnet"), None);
        assert_eq!(strip_snapshot("gpt-4.1-mini"), None);
        assert_eq!(strip_snapshot("o4-mini"), None);
    }
}
