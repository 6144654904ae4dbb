//! The encoding of the items in an entry's data: a record as a bitmap of its optional fields and flags,
//! then its fields (varints, length-prefixed text, the token counts as a bitmap of the non-zero ones and
//! those), written and read by hand (every field named, so that a new field cannot be forgotten).
//!
//! Decoding never panics: bytes that do not decode give `None`.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::codec::{get_signed, get_varint, put_signed, put_varint};
use crate::error::RecordError;
use crate::record::{
    DedupPolicy, FailureClass, Provenance, Provider, Text, TokenCounts, UsageRecord,
};

const RECORD: u8 = 0;
const ERROR: u8 = 1;

// The bits of a record's bitmap: its optional texts first (in the order they are written), then the rest.
const TEXTS: u32 = 11;
const END: u64 = 1 << TEXTS;
const BATCH: u64 = 1 << (TEXTS + 1);
const LONG_CONTEXT: u64 = 1 << (TEXTS + 2);
const LONG_CONTEXT_TRUE: u64 = 1 << (TEXTS + 3);
const COST: u64 = 1 << (TEXTS + 4);
const STATUS: u64 = 1 << (TEXTS + 5);
const FAILED: u64 = 1 << (TEXTS + 6);
const LATENCY: u64 = 1 << (TEXTS + 7);
const FAILURE: u64 = 1 << (TEXTS + 8);
const ATTEMPT: u64 = 1 << (TEXTS + 9);
const KEEP_LARGEST: u64 = 1 << (TEXTS + 10);
const TAGS: u64 = 1 << (TEXTS + 11);
const ALL_BITS: u64 = (1 << (TEXTS + 12)) - 1;

fn put_text(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn get_str<'a>(input: &mut &'a [u8]) -> Option<&'a str> {
    let len = usize::try_from(get_varint(input)?).ok()?;
    let (text, rest) = input.split_at_checked(len)?;
    *input = rest;
    std::str::from_utf8(text).ok()
}

/// Record text, built straight from the entry's bytes (inline when short: no allocation).
fn get_text(input: &mut &[u8]) -> Option<Text> {
    get_str(input).map(Text::from)
}

fn put_time(out: &mut Vec<u8>, t: &DateTime<Utc>) {
    put_signed(out, t.timestamp());
    put_varint(out, u64::from(t.timestamp_subsec_nanos()));
}

fn get_time(input: &mut &[u8]) -> Option<DateTime<Utc>> {
    let secs = get_signed(input)?;
    let nanos = u32::try_from(get_varint(input)?).ok()?;
    DateTime::from_timestamp(secs, nanos)
}

fn get_u8(input: &mut &[u8]) -> Option<u8> {
    let (&b, rest) = input.split_first()?;
    *input = rest;
    Some(b)
}

/// `counts` (the token counts, in the order their bits are numbered) and `token_counts` (back), from
/// the list of every field of [`TokenCounts`] (a field left out does not compile).
macro_rules! token_fields {
    ($($f:ident),* $(,)?) => {
        fn counts(t: &TokenCounts) -> [u64; 19] {
            let TokenCounts { $($f),* } = *t;
            [$($f),*]
        }

        fn token_counts(c: [u64; 19]) -> TokenCounts {
            let [$($f),*] = c;
            TokenCounts { $($f),* }
        }
    };
}

token_fields!(
    input,
    cache_read,
    cache_read_audio,
    cache_write_5m,
    cache_write_1h,
    output,
    reasoning,
    audio_input,
    audio_output,
    image_input,
    image_output,
    web_search_requests,
    web_search_preview_calls,
    web_fetch_requests,
    file_search_calls,
    code_execution_calls,
    grounded_prompts,
    images,
    seconds,
);

/// Appends a record: everything but its source and its file's name (the entry's file supplies them).
/// `false` (and nothing appended) when a value has no encoding.
pub(super) fn put_record(out: &mut Vec<u8>, r: &UsageRecord) -> bool {
    let UsageRecord {
        id,
        source: _,
        provider,
        model,
        start,
        end,
        service_tier,
        batch,
        region,
        long_context,
        team,
        project,
        user,
        api_key,
        workspace,
        billing_account,
        billing_account_name,
        tags,
        tokens,
        requests,
        reported_cost,
        reported_currency,
        status,
        failed,
        latency_ms,
        failure,
        attempt,
        retry_of,
        provenance: Provenance { file: _, line },
        dedup,
    } = r;
    let texts = [
        service_tier,
        region,
        team,
        project,
        user,
        api_key,
        workspace,
        billing_account,
        billing_account_name,
        reported_currency,
        retry_of,
    ];
    let Some(provider) = Provider::ALL.iter().position(|p| p == provider) else {
        return false;
    };
    let failure = match failure {
        Some(f) => match FailureClass::ALL.iter().position(|c| c == f) {
            Some(i) => Some(i as u8),
            None => return false,
        },
        None => None,
    };
    let mut bits = 0u64;
    for (i, t) in texts.iter().enumerate() {
        if t.is_some() {
            bits |= 1 << i;
        }
    }
    let flag = |on: bool, bit: u64| if on { bit } else { 0 };
    bits |= flag(end.is_some(), END)
        | flag(*batch, BATCH)
        | flag(long_context.is_some(), LONG_CONTEXT)
        | flag(*long_context == Some(true), LONG_CONTEXT_TRUE)
        | flag(reported_cost.is_some(), COST)
        | flag(status.is_some(), STATUS)
        | flag(*failed, FAILED)
        | flag(latency_ms.is_some(), LATENCY)
        | flag(failure.is_some(), FAILURE)
        | flag(attempt.is_some(), ATTEMPT)
        | flag(*dedup == DedupPolicy::KeepLargest, KEEP_LARGEST)
        | flag(!tags.is_empty(), TAGS);
    out.push(RECORD);
    put_varint(out, bits);
    put_text(out, id);
    out.push(provider as u8);
    put_text(out, model);
    put_time(out, start);
    if let Some(end) = end {
        put_time(out, end);
    }
    for t in texts.into_iter().flatten() {
        put_text(out, t);
    }
    let counts = counts(tokens);
    let mut mask = 0u32;
    for (i, &c) in counts.iter().enumerate() {
        if c != 0 {
            mask |= 1 << i;
        }
    }
    put_varint(out, u64::from(mask));
    for &c in counts.iter().filter(|&&c| c != 0) {
        put_varint(out, c);
    }
    put_varint(out, *requests);
    if let Some(cost) = reported_cost {
        out.extend_from_slice(&cost.serialize());
    }
    if let Some(status) = status {
        put_varint(out, u64::from(*status));
    }
    if let Some(latency) = latency_ms {
        put_varint(out, *latency);
    }
    if let Some(failure) = failure {
        out.push(failure);
    }
    if let Some(attempt) = attempt {
        put_varint(out, u64::from(*attempt));
    }
    if !tags.is_empty() {
        put_varint(out, tags.len() as u64);
        for (k, v) in tags {
            put_text(out, k);
            put_text(out, v);
        }
    }
    put_varint(out, *line);
    true
}

/// Appends a record error.
pub(super) fn put_error(out: &mut Vec<u8>, e: &RecordError) {
    let RecordError {
        line,
        field,
        message,
    } = e;
    out.push(ERROR);
    put_varint(out, *line);
    match field {
        Some(f) => {
            out.push(1);
            put_text(out, f);
        }
        None => out.push(0),
    }
    put_text(out, message);
}

/// Takes an item off the front of `input`: a record (without its source, and with an empty file name),
/// or a record error.
pub(super) fn get_item(input: &mut &[u8]) -> Option<super::Item> {
    match get_u8(input)? {
        RECORD => get_record(input).map(super::Item::Record),
        ERROR => {
            let line = get_varint(input)?;
            let field = match get_u8(input)? {
                0 => None,
                1 => Some(get_str(input)?.to_owned()),
                _ => return None,
            };
            let message = get_str(input)?.to_owned();
            Some(super::Item::Error(RecordError {
                line,
                field,
                message,
            }))
        }
        _ => None,
    }
}

fn get_record(input: &mut &[u8]) -> Option<UsageRecord> {
    let bits = get_varint(input)?;
    if bits & !ALL_BITS != 0 {
        return None;
    }
    let on = |bit: u64| bits & bit != 0;
    let id = get_text(input)?;
    let provider = *Provider::ALL.get(usize::from(get_u8(input)?))?;
    let model = get_text(input)?;
    let start = get_time(input)?;
    let end = if on(END) {
        Some(get_time(input)?)
    } else {
        None
    };
    let mut texts: [Option<Text>; TEXTS as usize] = Default::default();
    for (i, t) in texts.iter_mut().enumerate() {
        if bits & (1 << i) != 0 {
            *t = Some(get_text(input)?);
        }
    }
    let [service_tier, region, team, project, user, api_key, workspace, billing_account, billing_account_name, reported_currency, retry_of] =
        texts;
    let mask = get_varint(input)?;
    if mask >> 19 != 0 {
        return None;
    }
    let mut counts = [0u64; 19];
    for (i, c) in counts.iter_mut().enumerate() {
        if mask & (1 << i) != 0 {
            *c = get_varint(input)?;
        }
    }
    let requests = get_varint(input)?;
    let reported_cost = if on(COST) {
        let (bytes, rest) = input.split_first_chunk::<16>()?;
        *input = rest;
        Some(Decimal::deserialize(*bytes))
    } else {
        None
    };
    let status = if on(STATUS) {
        Some(u16::try_from(get_varint(input)?).ok()?)
    } else {
        None
    };
    let latency_ms = if on(LATENCY) {
        Some(get_varint(input)?)
    } else {
        None
    };
    let failure = if on(FAILURE) {
        Some(*FailureClass::ALL.get(usize::from(get_u8(input)?))?)
    } else {
        None
    };
    let attempt = if on(ATTEMPT) {
        Some(u32::try_from(get_varint(input)?).ok()?)
    } else {
        None
    };
    let mut tags = BTreeMap::new();
    if on(TAGS) {
        for _ in 0..get_varint(input)? {
            let k = get_text(input)?;
            tags.insert(k, get_text(input)?);
        }
    }
    let line = get_varint(input)?;
    Some(UsageRecord {
        id,
        source: "",
        provider,
        model,
        start,
        end,
        service_tier,
        batch: on(BATCH),
        region,
        long_context: on(LONG_CONTEXT).then_some(on(LONG_CONTEXT_TRUE)),
        team,
        project,
        user,
        api_key,
        workspace,
        billing_account,
        billing_account_name,
        tags,
        tokens: token_counts(counts),
        requests,
        reported_cost,
        reported_currency,
        status,
        failed: on(FAILED),
        latency_ms,
        failure,
        attempt,
        retry_of,
        provenance: Provenance {
            file: Arc::from(""),
            line,
        },
        dedup: if on(KEEP_LARGEST) {
            DedupPolicy::KeepLargest
        } else {
            DedupPolicy::KeepFirst
        },
    })
}
