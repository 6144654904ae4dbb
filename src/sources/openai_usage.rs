//! `openai-usage`: pages of the OpenAI Usage API, `GET /v1/organization/usage/completions` (and the
//! embeddings and moderations endpoints), as saved by `curl` or `aispend pull`:
//! `{object:"page", data:[{object:"bucket", start_time, end_time, results:[…]}], has_more, next_page}`.
//! A file holds one page, a JSON array of pages, or one page per line; or the buckets as scripts save them
//! (`page["data"]` of every page concatenated into one array, or one bucket per line).
//!
//! One record per result (bucket × group). Tokens, for both generations of the API:
//! - since 2026-07-15 (`input_uncached_tokens` present): input = `input_uncached_tokens`;
//! - before (legacy): input = `input_tokens` − `input_cached_tokens` − `input_cache_write_tokens`;
//! - both: text counts never include audio (see [`CompletionCounts::tokens`]): cache read =
//!   `input_cached_tokens`, cached audio input = `input_cached_audio_tokens`, cache write (5m) =
//!   `input_cache_write_tokens` (optional: when absent beside `input_uncached_tokens`, what `input_tokens`
//!   holds beyond its uncached and cached parts), audio input = `input_audio_tokens` − `input_cached_audio_tokens`, output = `output_tokens`, audio
//!   output = `output_audio_tokens`, requests = `num_model_requests`.
//!
//! Embeddings and moderations results give input tokens and requests; other kinds (images, audio, web
//! search) are skipped for now. A result not grouped by model (`model: null`: the export had no
//! `group_by=model`) keeps its tokens and requests under the model [`UNGROUPED_MODEL`], which is unpriced
//! with the reason "export not grouped by model". Re-pulled buckets keep their id (bucket and group key)
//! and the largest copy wins.
//!
//! The page walking is shared with the other Admin API pages (`sources::shared::admin_page`).

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::shared::admin_page::{read_pages, CompletionCounts, ResultAt};
use super::shared::common;
use super::shared::response::{has_key_value, Label};
use super::{DocumentParser, Parsed, Reader, Source};
use crate::error::RecordError;
use crate::record::{
    DedupPolicy, Provenance, Provider, Text, TokenCounts, UsageRecord, UNGROUPED_MODEL,
};

/// Reads OpenAI Usage API pages.
pub struct OpenAiUsage;

const NAME: &str = "openai-usage";

impl Source for OpenAiUsage {
    fn name(&self) -> &'static str {
        NAME
    }

    fn reads(&self) -> &'static str {
        "OpenAI Usage API pages (/v1/organization/usage/completions, embeddings, moderations): one page, \
         an array of pages, one page per line, or the buckets as scripts save them (an array, or one per \
         line)"
    }

    fn detected_by(&self) -> &'static str {
        "JSON with \"organization.usage.completions.result\", or \"object\":\"page\"/\"bucket\" with \
         num_model_requests"
    }

    fn detect(&self, _path: &Path, head: &[u8]) -> bool {
        common::looks_like_json(head)
            && (common::contains(head, b"\"organization.usage.completions.result\"")
                || ((has_key_value(head, "object", "page")
                    || has_key_value(head, "object", "bucket"))
                    && common::has_key(head, "num_model_requests")))
    }

    fn reader(&self, _head: &[u8]) -> Reader<'_> {
        Reader::Document(self)
    }
}

impl DocumentParser for OpenAiUsage {
    fn parse_document(
        &self,
        bytes: &[u8],
        file: &Arc<str>,
        out: &mut Parsed,
    ) -> Result<(), RecordError> {
        read_pages(bytes, out, |at| read_result(at, file))
    }
}

/// One Usage API result, any kind (all fields optional: kinds differ).
#[derive(Deserialize)]
struct UsageResult<'a> {
    #[serde(borrow)]
    object: Option<Label<'a>>,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    num_model_requests: Option<u64>,
    input_cached_tokens: Option<u64>,
    input_cache_write_tokens: Option<u64>,
    input_uncached_tokens: Option<u64>,
    input_audio_tokens: Option<u64>,
    input_cached_audio_tokens: Option<u64>,
    output_audio_tokens: Option<u64>,
    #[serde(borrow)]
    project_id: Option<Label<'a>>,
    #[serde(borrow)]
    user_id: Option<Label<'a>>,
    #[serde(borrow)]
    api_key_id: Option<Label<'a>>,
    #[serde(borrow)]
    model: Option<Label<'a>>,
    batch: Option<bool>,
    #[serde(borrow)]
    service_tier: Option<Label<'a>>,
}

/// Only the kind of a result: read when a result fails to parse, to skip kinds we do not import.
#[derive(Deserialize)]
struct ResultKind<'a> {
    #[serde(borrow)]
    object: Option<Label<'a>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Completions,
    Embeddings,
    Moderations,
}

impl Kind {
    /// The kind from a result's `object`; a result with no `object` is taken as completions.
    fn of(object: Option<&Label>) -> Option<Kind> {
        match object.map(Label::as_str) {
            None | Some("organization.usage.completions.result") => Some(Kind::Completions),
            Some("organization.usage.embeddings.result") => Some(Kind::Embeddings),
            Some("organization.usage.moderations.result") => Some(Kind::Moderations),
            Some(_) => None,
        }
    }
}

fn read_result(at: &ResultAt, file: &Arc<str>) -> Result<Option<UsageRecord>, RecordError> {
    let r: UsageResult = match at.parse() {
        Ok(r) => r,
        Err(e) => {
            // A kind we do not import must not fail the file, whatever its fields hold.
            return match serde_json::from_str::<ResultKind>(at.raw.get()) {
                Ok(k) if Kind::of(k.object.as_ref()).is_none() => Ok(None),
                _ => Err(e),
            };
        }
    };
    let Some(kind) = Kind::of(r.object.as_ref()) else {
        return Ok(None);
    };
    let base = at.path.as_str();
    let tokens = match kind {
        Kind::Completions => completion_tokens(&r, base, at.line)?,
        Kind::Embeddings | Kind::Moderations => TokenCounts {
            input: r.input_tokens.unwrap_or(0),
            ..TokenCounts::default()
        },
    };

    let dim = |l: &Option<Label>| l.as_ref().and_then(Label::to_nonempty);
    let project = dim(&r.project_id);
    let user = dim(&r.user_id);
    let api_key = dim(&r.api_key_id);
    let model = dim(&r.model);
    let service_tier = dim(&r.service_tier);
    let or_dash = |v: &Option<Text>| v.as_deref().unwrap_or("-").to_owned();
    let kind_prefix = match kind {
        Kind::Completions => "",
        Kind::Embeddings => "embeddings:",
        Kind::Moderations => "moderations:",
    };
    // Completions keep the documented id; other kinds are prefixed so that, ungrouped by model, an
    // embeddings row never collides with the completions row of the same bucket.
    let id = compact_str::format_compact!(
        "{NAME}:{kind_prefix}{}:{}:{}:{}:{}:{}:{}:{}",
        at.start.0.timestamp(),
        at.end
            .map_or_else(|| "-".to_owned(), |e| e.0.timestamp().to_string()),
        or_dash(&project),
        or_dash(&user),
        or_dash(&api_key),
        or_dash(&model),
        r.batch.map_or("-", |b| if b { "true" } else { "false" }),
        or_dash(&service_tier),
    );

    let provenance = Provenance {
        file: file.clone(),
        line: at.line,
    };
    let model = model.unwrap_or_else(|| UNGROUPED_MODEL.into());
    let mut record = UsageRecord::new(id, NAME, Provider::OpenAI, model, at.start.0, provenance);
    record.end = at.end.map(|e| e.0);
    record.tokens = tokens;
    record.requests = r.num_model_requests.unwrap_or(0);
    record.batch = r.batch.unwrap_or(false);
    record.service_tier = service_tier;
    record.project = project;
    record.user = user;
    record.api_key = api_key;
    record.dedup = DedupPolicy::KeepLargest;
    Ok(Some(record))
}

/// Completions tokens in disjoint classes, for both generations of the API (see the module doc).
fn completion_tokens(r: &UsageResult, base: &str, line: u64) -> Result<TokenCounts, RecordError> {
    CompletionCounts {
        input_tokens: r.input_tokens.unwrap_or(0),
        input_uncached_tokens: r.input_uncached_tokens,
        input_cached_tokens: r.input_cached_tokens.unwrap_or(0),
        input_cache_write_tokens: r.input_cache_write_tokens,
        input_audio_tokens: r.input_audio_tokens.unwrap_or(0),
        input_cached_audio_tokens: r.input_cached_audio_tokens.unwrap_or(0),
        output_tokens: r.output_tokens.unwrap_or(0),
        output_audio_tokens: r.output_audio_tokens.unwrap_or(0),
    }
    .tokens(base, line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn parse(doc: &str) -> Result<Parsed, RecordError> {
        crate::sources::testing::read(&OpenAiUsage, doc)
    }

    const CURRENT: &str = r#"{"object":"page","has_more":false,"next_page":null,"data":[{"object":"bucket","start_time":1755648000,"end_time":1755734400,"results":[
 {"object":"organization.usage.completions.result","input_tokens":120000,"input_uncached_tokens":70000,"input_cached_tokens":48000,
  "input_cache_write_tokens":2000,"output_tokens":9500,"num_model_requests":42,"project_id":"proj_Ab12Cd34","user_id":null,
  "api_key_id":"key_Xy98Zw76","model":"gpt-4o-mini-2024-07-18","batch":false,"service_tier":"default"}]}]}"#;

    #[test]
    fn unreported_cache_writes_are_what_input_holds_beyond_its_parts() {
        // input_cache_write_tokens is optional: input_tokens 120_000 = 70_000 uncached + 48_000 cached
        // + 2_000 written, so the writes are still 2_000 when the field is left out.
        let page = CURRENT.replace("\"input_cache_write_tokens\":2000,", "");
        assert!(!page.contains("input_cache_write_tokens"));
        let out = parse(&page).unwrap();
        assert!(out.errors.is_empty());
        let t = &out.records[0].tokens;
        assert_eq!(
            (t.input, t.cache_read, t.cache_write_5m),
            (70_000, 48_000, 2_000)
        );
        // and a reported 0 is taken as given
        let page = CURRENT.replace(
            "\"input_cache_write_tokens\":2000",
            "\"input_cache_write_tokens\":0",
        );
        let out = parse(&page).unwrap();
        assert_eq!(out.records[0].tokens.cache_write_5m, 0);
    }

    #[test]
    fn current_spec_uses_the_explicit_split() {
        let out = parse(CURRENT).unwrap();
        assert!(out.errors.is_empty());
        let r = &out.records[0];
        // input_uncached_tokens 70_000 = 120_000 total − 48_000 cached − 2_000 written
        assert_eq!(r.tokens.input, 70_000);
        assert_eq!(r.tokens.cache_read, 48_000);
        assert_eq!(r.tokens.cache_write_5m, 2_000);
        assert_eq!(r.tokens.output, 9_500);
        assert_eq!(r.tokens.prompt_total(), 120_000);
        assert_eq!(r.requests, 42);
        assert_eq!(r.model, "gpt-4o-mini-2024-07-18");
        assert_eq!(r.project.as_deref(), Some("proj_Ab12Cd34"));
        assert_eq!(r.user, None);
        assert_eq!(r.api_key.as_deref(), Some("key_Xy98Zw76"));
        assert_eq!(r.service_tier.as_deref(), Some("default"));
        assert!(!r.batch);
        assert_eq!(r.start, Utc.with_ymd_and_hms(2025, 8, 20, 0, 0, 0).unwrap());
        assert_eq!(
            r.end,
            Some(Utc.with_ymd_and_hms(2025, 8, 21, 0, 0, 0).unwrap())
        );
        assert_eq!(
            r.id,
            "openai-usage:1755648000:1755734400:proj_Ab12Cd34:-:key_Xy98Zw76:gpt-4o-mini-2024-07-18:false:default"
        );
        assert_eq!(r.dedup, DedupPolicy::KeepLargest);
        assert_eq!(r.provider, Provider::OpenAI);
        assert_eq!(r.provenance.line, 2, "the result starts on line 2");
    }

    #[test]
    fn legacy_spec_subtracts_cached_from_input() {
        let out = parse(
            r#"{"object":"page","data":[{"object":"bucket","start_time":1750000000,"end_time":1750086400,"results":[
            {"object":"organization.usage.completions.result","input_tokens":50000,"input_cached_tokens":20000,
            "output_tokens":3000,"input_audio_tokens":1500,"input_cached_audio_tokens":500,"output_audio_tokens":700,
            "num_model_requests":9,"model":"gpt-4o-audio-preview","batch":null}]}]}"#,
        )
        .unwrap();
        let r = &out.records[0];
        // legacy: 50_000 input (cached included) − 20_000 cached = 30_000 uncached
        assert_eq!(r.tokens.input, 30_000);
        // 20_000 cached text; the 500 cached audio are their own class, part of the 1_500 audio
        assert_eq!(
            (r.tokens.cache_read, r.tokens.cache_read_audio),
            (20_000, 500)
        );
        // 1_500 audio in − 500 cached audio = 1_000 uncached audio
        assert_eq!(r.tokens.audio_input, 1_000);
        // output 3_000 is text; the 700 audio output are beside it
        assert_eq!((r.tokens.output, r.tokens.audio_output), (3_000, 700));
        assert_eq!(r.requests, 9);
        assert!(r.id.ends_with(":gpt-4o-audio-preview:-:-"), "{}", r.id);
    }

    #[test]
    fn audio_counts_are_their_own_and_never_taken_from_text() {
        let out = parse(
            r#"{"object":"page","data":[{"start_time":1755648000,"end_time":1755734400,"results":[
            {"input_tokens":1000,"input_uncached_tokens":800,"input_cached_tokens":200,"input_audio_tokens":300,
            "input_cached_audio_tokens":100,"output_tokens":50,"num_model_requests":1}]}]}"#,
        )
        .unwrap();
        let r = &out.records[0];
        // text: 800 uncached, 200 cached; audio: 300 − 100 cached = 200 uncached audio; the 100 cached
        // audio are cached audio input, not cache read
        assert_eq!(
            (
                r.tokens.input,
                r.tokens.audio_input,
                r.tokens.cache_read,
                r.tokens.cache_read_audio
            ),
            (800, 200, 200, 100)
        );
        // A realtime model's day: far more audio output than text output, never an error.
        let out = parse(
            r#"[{"object":"bucket","start_time":1755648000,"end_time":1755734400,"results":[
            {"input_tokens":1200,"input_uncached_tokens":1200,"input_cached_tokens":0,"input_audio_tokens":9000,
            "output_tokens":400,"output_audio_tokens":15000,"num_model_requests":3,"model":"gpt-realtime-2025-08-28"}]}]"#,
        )
        .unwrap();
        let t = &out.records[0].tokens;
        assert_eq!(
            (t.output, t.audio_output, t.audio_input),
            (400, 15_000, 9_000)
        );
        assert_eq!(out.records[0].provenance.line, 2);
        // Cached audio above the audio it is part of is an error naming the field.
        let err = parse(
            r#"{"object":"page","data":[{"start_time":1755648000,"results":[
            {"input_tokens":10,"input_audio_tokens":5,"input_cached_audio_tokens":6,"num_model_requests":1}]}]}"#,
        )
        .unwrap()
        .errors
        .remove(0);
        assert_eq!(
            err.field.as_deref(),
            Some("data[0].results[0].input_cached_audio_tokens")
        );
    }

    #[test]
    fn buckets_as_scripts_save_them() {
        // `page["data"]` of two pages concatenated, pretty-printed: an array of buckets.
        let buckets = r#"[
  {
    "object": "bucket",
    "start_time": 1755648000,
    "end_time": 1755734400,
    "results": [
      {"object": "organization.usage.completions.result", "input_tokens": 100, "output_tokens": 10,
       "num_model_requests": 1, "model": "gpt-4o-2024-08-06"}
    ]
  },
  {
    "object": "bucket",
    "start_time": 1755734400,
    "end_time": 1755820800,
    "results": []
  },
  {
    "object": "bucket",
    "start_time": 1755820800,
    "end_time": 1755907200,
    "results": [
      {"object": "organization.usage.completions.result", "input_tokens": 300, "output_tokens": 30,
       "num_model_requests": 2, "model": null}
    ]
  }
]"#;
        let out = parse(buckets).unwrap();
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.records[0].provenance.line, 7);
        assert_eq!(out.records[1].model, UNGROUPED_MODEL);
        assert_eq!(out.records[1].tokens.input, 300);
        assert_eq!(out.records[1].requests, 2);
        // One bucket per line (JSONL of buckets), and a page and a bucket in one file.
        let jsonl = "{\"object\":\"bucket\",\"start_time\":1755648000,\"end_time\":1755734400,\"results\":[{\"input_tokens\":1,\"output_tokens\":1,\"num_model_requests\":1,\"model\":\"gpt-4o\"}]}\n".repeat(2)
            + &CURRENT.replace('\n', "")
            + "\n";
        let out = parse(&jsonl).unwrap();
        assert_eq!(out.records.len(), 3, "{:?}", out.errors);
        assert_eq!(out.records[2].provenance.line, 3);
        // Neither a page nor a bucket: the error says what was expected.
        let err = parse(r#"{"object":"list","items":[]}"#).unwrap_err();
        assert!(err.message.contains("neither a usage page"), "{err:?}");
    }

    #[test]
    fn arrays_of_pages_and_pages_per_line() {
        let line = CURRENT.replace('\n', "");
        let jsonl = format!("{line}\n\n{}\n", line.replace("1755648000", "1755561600"));
        let out = parse(&jsonl).unwrap();
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.records[1].provenance.line, 3);
        assert_ne!(out.records[0].id, out.records[1].id);

        let array = format!("[{CURRENT},\n{CURRENT}]");
        let out = parse(&array).unwrap();
        assert_eq!(out.records.len(), 2);
        assert_eq!(
            out.records[0].id, out.records[1].id,
            "the same bucket twice: the driver keeps one"
        );
        assert_eq!(
            out.records[1].provenance.line, 6,
            "line 5 opens the second page, its result starts on line 6"
        );
    }

    #[test]
    fn empty_buckets_ungrouped_models_and_other_kinds() {
        let out = parse(
            r#"{"object":"page","data":[
            {"object":"bucket","start_time":1755648000,"end_time":1755734400,"results":[]},
            {"object":"bucket","start_time":1755734400,"end_time":1755820800,"results":[
              {"object":"organization.usage.completions.result","input_tokens":10,"output_tokens":5,"num_model_requests":2,"model":null},
              {"object":"organization.usage.embeddings.result","input_tokens":4000,"num_model_requests":8,"model":null},
              {"object":"organization.usage.images.result","images":3,"size":"1024x1024","source":"image.generation","num_model_requests":"3"},
              {"object":"organization.usage.audio_transcriptions.result","seconds":20,"num_model_requests":1}]}]}"#,
        )
        .unwrap();
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.records[0].model, UNGROUPED_MODEL);
        assert_eq!(out.records[1].tokens.input, 4_000);
        assert_eq!(out.records[1].requests, 8);
        assert!(out.records[1].id.starts_with("openai-usage:embeddings:"));
        assert_ne!(out.records[0].id, out.records[1].id);
    }

    #[test]
    fn bad_results_are_record_errors_with_path_and_line() {
        let out = parse(
            "{\"object\":\"page\",\"data\":[\n\
             {\"start_time\":1755648000,\"end_time\":1755734400,\"results\":[]},\n\
             {\"start_time\":1755648000,\"end_time\":1755734400,\"results\":[]},\n\
             {\"start_time\":1755648000,\"end_time\":1755734400,\"results\":[\n\
             {\"input_tokens\":1,\n\"num_model_requests\":\"7\"},\n\
             {\"input_tokens\":5,\"input_cached_tokens\":6,\"num_model_requests\":1},\n\
             {\"input_tokens\":5,\"num_model_requests\":1}]}]}",
        )
        .unwrap();
        assert_eq!(out.records.len(), 1, "the good result is kept");
        assert_eq!(out.errors.len(), 2);
        let e = &out.errors[0];
        assert_eq!(
            e.field.as_deref(),
            Some("data[2].results[0].num_model_requests")
        );
        assert_eq!(e.line, 6, "the line of the bad field");
        let e = &out.errors[1];
        assert_eq!(
            e.field.as_deref(),
            Some("data[2].results[1].input_cached_tokens")
        );
        assert!(
            e.message
                .contains("exceeds `data[2].results[1].input_tokens` = 5"),
            "{}",
            e.message
        );
        assert_eq!(e.line, 7);
    }

    #[test]
    fn broken_documents_are_errors_with_serdes_line() {
        let e =
            parse("{\"object\":\"page\",\n\"data\":[{\"start_time\":1755648000,\n\"results\":[}]}")
                .unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.starts_with("not valid JSON"), "{}", e.message);
        let e =
            parse("{\"object\":\"page\",\n\"data\":[{\"start_time\":\"soon\",\"results\":[]}]}")
                .unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(e.field.as_deref(), Some("data[0].start_time"));
        let e = parse("[{\"data\":[]},\n{\"data\":{}}]").unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(e.field.as_deref(), Some("[1].data"));
        let e = parse("{\"data\":[]}\n{\"object\":\"page\"}\n").unwrap_err();
        assert!(e.message.contains("neither a usage page"), "{}", e.message);
        assert_eq!(e.line, 2);
    }

    #[test]
    fn detection() {
        let p = Path::new("usage.json");
        assert!(OpenAiUsage.detect(p, CURRENT.as_bytes()));
        assert!(OpenAiUsage.detect(
            p,
            br#"{"object": "page", "data": [{"object": "bucket", "results": [{"num_model_requests": 1}]}]}"#
        ));
        assert!(!OpenAiUsage.detect(
            p,
            br#"{"data":[{"starting_at":"2026-08-20T00:00:00Z","results":[{"uncached_input_tokens":1}]}]}"#
        ));
        assert!(!OpenAiUsage.detect(
            p,
            br#"{"id":"chatcmpl-1","object":"chat.completion","usage":{}}"#
        ));
        assert!(!OpenAiUsage.detect(p, br#"{"sessionId":"s","type":"assistant"}"#));
        assert!(!OpenAiUsage.detect(p, b"start_time,num_model_requests\n"));
    }
}
