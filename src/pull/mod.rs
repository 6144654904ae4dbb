//! `aispend pull`: fetch usage (and cost) pages from a provider's admin API.
//!
//! Each provider module ([`openai`], [`anthropic`]) says which endpoints to call, with which query and
//! headers, and which importer reads their pages. This module walks an endpoint's pages (`page=` cursor
//! from `next_page` until `has_more` is false) through the retrying [`http::Client`], and parses every
//! page in memory with the same importer that reads saved pages (an endpoint holds it as a
//! [`PageImporter`], a type, so an endpoint cannot name an importer that does not read documents), so a
//! pulled bucket and an imported one are the same record with the same id. Nothing is written here: the
//! caller writes every endpoint's records to the ledger in one transaction once all pages are in, so a
//! pull that fails midway writes nothing.

pub mod anthropic;
pub mod http;
pub mod litellm;
pub mod openai;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use reqwest::Url;
use serde::Deserialize;

use crate::error::{Error, RecordError};
use crate::record::UsageRecord;
use crate::sources::{DocumentParser, Parsed, Source};
use http::{Client, FetchError, Retry, RetryNotice};

/// A safety stop for a server whose cursor never ends.
const MAX_PAGES: u32 = 10_000;

/// Why a pull failed. Nothing was written in either case.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// Bad usage or input: a flag, a missing key, a request the provider refused, a malformed page
    /// (exit code 2, as for `import`).
    #[error(transparent)]
    Aispend(#[from] Error),
    /// The provider could not be reached, or kept failing, after every retry.
    #[error("{0}")]
    Unavailable(String),
}

impl PullError {
    /// SPEC "Exit codes": 2 for bad usage or input, 3 for a network or server failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            PullError::Aispend(e) => e.exit_code(),
            PullError::Unavailable(_) => 3,
        }
    }
}

/// The UTC days a pull covers, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub since: NaiveDate,
    pub until: NaiveDate,
}

impl Window {
    /// `--since` / `--until`; by default from the first day of `until`'s month to today (UTC).
    pub fn resolve(
        since: Option<NaiveDate>,
        until: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Result<Window, Error> {
        let until = until.unwrap_or(today);
        let since = since.unwrap_or_else(|| until.with_day(1).unwrap_or(until));
        if since > until {
            return Err(Error::usage(format!(
                "--since {since} is after --until {until}: nothing to pull"
            )));
        }
        if since > today {
            return Err(Error::usage(format!(
                "--since {since} is in the future (today is {today} UTC): nothing to pull"
            )));
        }
        Ok(Window { since, until })
    }

    /// Midnight UTC opening the first day (inclusive).
    pub fn start(&self) -> DateTime<Utc> {
        self.since.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    /// Midnight UTC after the last day (exclusive).
    pub fn end(&self) -> DateTime<Utc> {
        let next = self.until.succ_opt().unwrap_or(self.until);
        next.and_time(chrono::NaiveTime::MIN).and_utc()
    }
}

/// The width of usage buckets (`bucket_width`). Cost endpoints only have daily buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BucketWidth {
    #[default]
    Day,
    Hour,
}

impl BucketWidth {
    pub fn as_str(self) -> &'static str {
        match self {
            BucketWidth::Day => "1d",
            BucketWidth::Hour => "1h",
        }
    }

    /// The most buckets a usage page may hold (`limit`) at this width, for both providers.
    pub fn max_limit(self) -> u32 {
        match self {
            BucketWidth::Day => 31,
            BucketWidth::Hour => 168,
        }
    }
}

/// An importer that reads a page of an admin API as one document: a [`Source`] that is its own
/// [`DocumentParser`]. An endpoint names its importer by this type, so an endpoint whose importer
/// could not read its pages does not compile.
pub trait PageImporter: Source + DocumentParser {}

impl<T: Source + DocumentParser> PageImporter for T {}

/// One paginated endpoint and the importer that reads its pages.
#[derive(Clone)]
pub struct Endpoint {
    /// Path under the base URL: `/v1/organization/usage/completions`.
    pub path: &'static str,
    /// The first page's query (the `page` cursor is appended for the next ones). Repeated names are sent
    /// repeatedly (`group_by=model&group_by=project_id`).
    pub query: Vec<(&'static str, String)>,
    /// The importer that reads the pages (`&sources::openai_usage::OpenAiUsage`).
    pub importer: &'static dyn PageImporter,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("path", &self.path)
            .field("query", &self.query)
            .field("importer", &self.importer.name())
            .finish()
    }
}

impl Endpoint {
    /// The endpoint's URL under `base`, without query.
    pub fn url(&self, base: &Url) -> Result<Url, Error> {
        let joined = format!("{}{}", base.as_str().trim_end_matches('/'), self.path);
        Url::parse(&joined).map_err(|e| Error::usage(format!("invalid URL {joined}: {e}")))
    }
}

/// What one provider pull does: where, with which headers, which endpoints.
#[derive(Debug)]
pub struct Plan {
    /// `openai`, `anthropic`.
    pub provider: &'static str,
    pub base: Url,
    /// The authentication headers for a key (built only when requests are made, so a plan holds no
    /// secret and can be printed).
    pub auth: fn(&AdminKey) -> Vec<(&'static str, String)>,
    pub endpoints: Vec<Endpoint>,
}

/// A provider admin key, read from the environment. Its `Debug` never shows it.
#[derive(Clone)]
pub struct AdminKey(String);

impl AdminKey {
    /// The key from `var`; a missing or empty variable is a usage error that names it. `whose` is
    /// "an OpenAI", "an Anthropic".
    pub fn from_env(var: &str, whose: &str) -> Result<AdminKey, Error> {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(AdminKey(v.trim().to_owned())),
            Ok(_) | Err(std::env::VarError::NotPresent) => Err(Error::usage(format!(
                "set {var} to {whose} admin API key to pull usage (it is read from the environment \
                 only, never from a flag or file)"
            ))),
            Err(std::env::VarError::NotUnicode(_)) => Err(Error::usage(format!(
                "{var} is not valid UTF-8: set it to {whose} admin API key"
            ))),
        }
    }

    pub fn new(key: impl Into<String>) -> AdminKey {
        AdminKey(key.into())
    }

    /// The secret itself: only for building request headers and scrubbing messages.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for AdminKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminKey([redacted])")
    }
}

/// Everything one endpoint gave: its pages' records, in order.
#[derive(Debug)]
pub struct Fetched {
    /// The endpoint URL without query (as shown to the user and kept as provenance).
    pub url: String,
    pub source: &'static str,
    pub pages: u32,
    pub records: Vec<UsageRecord>,
}

/// Progress while fetching, for `-v` output and retry notes.
#[derive(Debug)]
pub enum Progress<'a> {
    /// A page arrived and parsed.
    Page {
        url: &'a str,
        number: u32,
        bytes: usize,
        records: usize,
    },
    /// A request failed and will be retried.
    Retry {
        url: &'a str,
        page: u32,
        notice: &'a RetryNotice,
    },
}

/// How requests are made.
#[derive(Debug, Clone, Copy)]
pub struct HttpOptions {
    pub timeout: Duration,
    pub retry: Retry,
}

/// Fetches and parses every page of every endpoint of `plan`, one after the other. The first failure
/// stops everything; nothing is kept.
pub fn fetch_all(
    plan: &Plan,
    key: &AdminKey,
    options: HttpOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Vec<Fetched>, PullError> {
    let client = Client::new(
        &(plan.auth)(key),
        key.expose(),
        options.timeout,
        options.retry,
    )
    .map_err(|m| Error::usage(format!("{}: {m}", plan.provider)))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| PullError::Unavailable(format!("cannot start the HTTP runtime: {e}")))?;
    runtime.block_on(async {
        let mut all = Vec::with_capacity(plan.endpoints.len());
        for endpoint in &plan.endpoints {
            all.push(fetch_endpoint(&client, &plan.base, endpoint, progress).await?);
        }
        Ok(all)
    })
}

/// The fields of a page envelope that drive pagination.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    has_more: serde_json::Value,
    #[serde(default)]
    next_page: serde_json::Value,
}

/// Walks one endpoint's pages.
async fn fetch_endpoint(
    client: &Client,
    base: &Url,
    endpoint: &Endpoint,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Fetched, PullError> {
    let url = endpoint.url(base)?;
    let shown = url.to_string();
    let mut fetched = Fetched {
        url: shown.clone(),
        source: endpoint.importer.name(),
        pages: 0,
        records: Vec::new(),
    };
    let mut cursor: Option<String> = None;
    let mut seen = HashSet::new();
    loop {
        let number = fetched.pages + 1;
        let mut page_url = url.clone();
        {
            let mut q = page_url.query_pairs_mut();
            for (name, value) in &endpoint.query {
                q.append_pair(name, value);
            }
            if let Some(c) = &cursor {
                q.append_pair("page", c);
            }
        }
        let bytes = client
            .get(&page_url, &mut |notice| {
                progress(Progress::Retry {
                    url: &shown,
                    page: number,
                    notice,
                })
            })
            .await
            .map_err(|e| fetch_error(e, &shown, number))?;
        fetched.pages = number;

        let file: Arc<str> = Arc::from(format!("{shown} (page {number})"));
        let input = |record: RecordError| {
            PullError::from(Error::Input {
                file: file.to_string(),
                record,
            })
        };
        let mut parsed = Parsed::default();
        endpoint
            .importer
            .parse_document(&bytes, &file, &mut parsed)
            .map_err(input)?;
        if let Some(first) = parsed.errors.into_iter().min_by_key(|e| e.line) {
            return Err(input(first));
        }
        progress(Progress::Page {
            url: &shown,
            number,
            bytes: bytes.len(),
            records: parsed.records.len(),
        });
        fetched.records.extend(parsed.records);

        match next_cursor(&bytes).map_err(input)? {
            None => return Ok(fetched),
            Some(next) => {
                if !seen.insert(next.clone()) {
                    return Err(input(RecordError::field(
                        1,
                        "next_page",
                        "repeats the cursor of an earlier page: the provider's pagination loops",
                    )));
                }
                if number >= MAX_PAGES {
                    return Err(input(RecordError::new(
                        1,
                        format!(
                            "more than {MAX_PAGES} pages: narrow the period with --since/--until"
                        ),
                    )));
                }
                cursor = Some(next);
            }
        }
    }
}

/// The cursor of the next page, or `None` when this was the last (`has_more` false or absent).
fn next_cursor(bytes: &[u8]) -> Result<Option<String>, RecordError> {
    let envelope: Envelope = serde_json::from_slice(bytes).map_err(|e| {
        RecordError::new(
            e.line() as u64,
            "not a page: expected a JSON object with `data`, `has_more` and `next_page`",
        )
    })?;
    let has_more = match envelope.has_more {
        serde_json::Value::Null => false,
        serde_json::Value::Bool(b) => b,
        other => {
            return Err(RecordError::field(
                1,
                "has_more",
                format!("expected true or false, found {other}"),
            ))
        }
    };
    if !has_more {
        return Ok(None);
    }
    match envelope.next_page {
        serde_json::Value::String(s) if !s.is_empty() => Ok(Some(s)),
        other => Err(RecordError::field(
            1,
            "next_page",
            format!("`has_more` is true but `next_page` is {other}, not a page cursor"),
        )),
    }
}

/// A failed GET, as the user sees it. A refused request is bad usage (exit 2: the key, its permissions,
/// the flags or the base URL need fixing); an unavailable provider is a failure (exit 3).
fn fetch_error(e: FetchError, url: &str, page: u32) -> PullError {
    match e {
        FetchError::Refused { status, message } => {
            let reason = reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .map_or_else(|| status.to_string(), |r| format!("{status} {r}"));
            let hint = match status {
                401 => ": check the admin key (an admin key, not a project key, is needed)",
                403 => ": the key is not allowed to read this endpoint (an admin key is needed)",
                404 => ": check --base-url",
                _ => "",
            };
            let detail = if message.is_empty() {
                String::new()
            } else {
                format!(" ({message})")
            };
            Error::usage(format!(
                "GET {url} (page {page}) was refused: HTTP {reason}{detail}{hint}; nothing was written"
            ))
            .into()
        }
        FetchError::Unavailable { attempts, last } => PullError::Unavailable(format!(
            "GET {url} (page {page}) failed {attempts} times, giving up: {last}; nothing was written"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn window_defaults_to_month_to_date() {
        let today = date("2026-10-17");
        let w = Window::resolve(None, None, today).unwrap();
        assert_eq!((w.since, w.until), (date("2026-10-01"), today));
        assert_eq!(w.start().to_rfc3339(), "2026-10-01T00:00:00+00:00");
        // --until is inclusive: the end is the next midnight
        assert_eq!(w.end().to_rfc3339(), "2026-10-18T00:00:00+00:00");
        let w = Window::resolve(None, Some(date("2026-09-30")), today).unwrap();
        assert_eq!(w.since, date("2026-09-01"));
        assert!(
            Window::resolve(Some(date("2026-10-05")), Some(date("2026-10-04")), today).is_err()
        );
        assert!(Window::resolve(Some(date("2026-10-18")), None, today).is_err());
    }

    #[test]
    fn cursors() {
        assert_eq!(
            next_cursor(br#"{"data":[],"has_more":true,"next_page":"pg_2"}"#).unwrap(),
            Some("pg_2".to_owned())
        );
        assert_eq!(
            next_cursor(br#"{"data":[],"has_more":false,"next_page":"pg_2"}"#).unwrap(),
            None
        );
        assert_eq!(next_cursor(br#"{"data":[]}"#).unwrap(), None);
        let e = next_cursor(br#"{"data":[],"has_more":true,"next_page":null}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("next_page"));
        let e = next_cursor(br#"{"data":[],"has_more":"yes"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("has_more"));
    }

    #[test]
    fn admin_key_debug_is_redacted() {
        assert_eq!(
            format!("{:?}", AdminKey::new("sk-admin-secret")),
            "AdminKey([redacted])"
        );
    }
}
