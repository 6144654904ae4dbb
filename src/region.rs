//! Regions named inside model ids: the cross-region inference profiles of Bedrock (`us.anthropic.claude-…`).
//! Importers read them to set a record's region and the pricing engine to price it, so they live beside the
//! record types rather than in either.

/// Region prefixes of Bedrock cross-region inference profiles.
pub const REGION_PREFIXES: &[&str] = &[
    "us-gov.", "us.", "eu.", "apac.", "global.", "jp.", "au.", "ca.", "ap.",
];

/// The cross-region inference profile of a Bedrock model id, lower case (`global`, `us`, `eu`, `apac`,
/// `us-gov`, …): `us.anthropic.claude-…`, or the last segment of an inference-profile ARN. `None` for a
/// plain model id.
pub fn profile_prefix(reported: &str) -> Option<&'static str> {
    let name = reported.trim();
    let last = name.rsplit('/').next().unwrap_or(name);
    let lower = last.get(..8.min(last.len()))?.to_ascii_lowercase();
    let prefix = REGION_PREFIXES.iter().find(|p| {
        lower.starts_with(**p) && last.len() > p.len() && last[p.len()..].contains('.')
    })?;
    Some(&prefix[..prefix.len() - 1])
}
