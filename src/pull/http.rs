//! The HTTP side of `aispend pull`: one GET with a timeout, retried with exponential backoff and full
//! jitter on rate limits (429), server errors (5xx, 408) and connection failures, honouring `Retry-After`.
//! Any other 4xx fails at once with the status and the provider's own error message.
//!
//! The admin key travels only in request headers (marked sensitive), never in a URL, and every message this
//! module produces is scrubbed of it. Redirects are not followed, so no header is ever replayed to another
//! host.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{StatusCode, Url};

/// How hard to retry. Waits grow as `base × 2^(attempt − 1)`, capped at `cap`, and the actual wait is drawn
/// uniformly from zero to that ("full jitter"), unless the server says how long in `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub base: Duration,
    pub cap: Duration,
}

/// Longest `Retry-After` honoured; a server asking for more is retried after this long.
const RETRY_AFTER_MAX: Duration = Duration::from_secs(300);

/// The environment variable that sets the backoff base in milliseconds (for tests: `1` makes a retry
/// storm take milliseconds).
pub const BACKOFF_ENV: &str = "AISPEND_PULL_BACKOFF_MS";

impl Default for Retry {
    fn default() -> Retry {
        Retry {
            attempts: 6,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        }
    }
}

impl Retry {
    /// The default policy, with the base taken from [`BACKOFF_ENV`] when set to a number of milliseconds.
    pub fn from_env() -> Retry {
        let mut retry = Retry::default();
        if let Some(ms) = std::env::var(BACKOFF_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            retry.base = Duration::from_millis(ms);
            retry.cap = retry.cap.min(retry.base.saturating_mul(64));
        }
        retry
    }

    /// The ceiling of the wait before attempt `attempt + 1` (`attempt` ≥ 1 attempts already failed).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// A random wait in `[0, ceiling(attempt)]`.
    pub fn jittered(&self, attempt: u32) -> Duration {
        let ceiling = self.ceiling(attempt).as_millis() as u64;
        Duration::from_millis(random_u64() % (ceiling + 1))
    }
}

/// A random number from the standard library's per-process random hasher keys (no RNG dependency needed
/// for jitter).
fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

/// Why a GET failed for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The server refused the request (a 4xx other than 429, or an unexpected status): retrying cannot
    /// help. `message` is the provider's own error message when its body had one.
    Refused { status: u16, message: String },
    /// Every attempt failed with a retryable error; `last` describes the last one.
    Unavailable { attempts: u32, last: String },
}

/// What happened before a retry, for progress output.
#[derive(Debug, Clone)]
pub struct RetryNotice {
    /// `HTTP 503 Service Unavailable`, `timed out after 60 s`, `connection failed: …`.
    pub reason: String,
    pub wait: Duration,
    /// The attempt about to be made (2 for the first retry).
    pub next_attempt: u32,
    pub attempts: u32,
}

/// An HTTP client bound to one provider's authentication headers.
pub struct Client {
    inner: reqwest::Client,
    headers: HeaderMap,
    retry: Retry,
    timeout: Duration,
    /// The key, kept only to scrub it from any message (it is sent from `headers`).
    secret: String,
}

/// Longest provider error message shown.
const MESSAGE_MAX: usize = 300;

impl Client {
    /// A client sending `headers` (authentication) with every request. `secret` is the key inside them,
    /// scrubbed from every message. Installs the `ring` crypto provider for rustls (see Cargo.toml).
    pub fn new(
        headers: &[(&'static str, String)],
        secret: &str,
        timeout: Duration,
        retry: Retry,
    ) -> Result<Client, String> {
        // Only fails when a provider is already installed, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            let mut value = HeaderValue::from_str(value).map_err(|_| {
                format!("the value for the `{name}` header holds characters not allowed in HTTP headers")
            })?;
            value.set_sensitive(true);
            map.insert(HeaderName::from_static(name), value);
        }
        let inner = reqwest::Client::builder()
            .user_agent(concat!("aispend/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(30)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {}", chain(&e)))?;
        Ok(Client {
            inner,
            headers: map,
            retry,
            timeout,
            secret: secret.to_owned(),
        })
    }

    /// GETs `url` and returns the body of a 2xx answer, retrying as the module doc says. `on_retry` is told
    /// about each retry before its wait.
    pub async fn get(
        &self,
        url: &Url,
        on_retry: &mut dyn FnMut(&RetryNotice),
    ) -> Result<Vec<u8>, FetchError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (reason, retry_after) = match self.attempt(url).await {
                Ok(body) => return Ok(body),
                Err(Attempt::Fatal(e)) => return Err(e),
                Err(Attempt::Retryable {
                    reason,
                    retry_after,
                }) => (self.scrub(&reason), retry_after),
            };
            if attempt >= self.retry.attempts {
                return Err(FetchError::Unavailable {
                    attempts: attempt,
                    last: reason,
                });
            }
            let wait = match retry_after {
                Some(d) => d.min(RETRY_AFTER_MAX),
                None => self.retry.jittered(attempt),
            };
            on_retry(&RetryNotice {
                reason,
                wait,
                next_attempt: attempt + 1,
                attempts: self.retry.attempts,
            });
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, url: &Url) -> Result<Vec<u8>, Attempt> {
        let response = self
            .inner
            .get(url.clone())
            .headers(self.headers.clone())
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| self.transport(&e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = response.bytes().await.map_err(|e| self.transport(&e))?;
        // The one choke point for server text: the key is cut out of the body before anything reads
        // it, so no message built from a page (a parse error quoting a field, an error body, a record
        // value) can carry it, whichever field a server echoes it into.
        let body = self.scrub_bytes(&body);
        if status.is_success() {
            return Ok(body);
        }
        let message = self.scrub(&error_message(&body));
        let reason = match message.is_empty() {
            true => format!("HTTP {}", status_text(status)),
            false => format!("HTTP {}: {message}", status_text(status)),
        };
        if retryable(status) {
            Err(Attempt::Retryable {
                reason,
                retry_after,
            })
        } else {
            Err(Attempt::Fatal(FetchError::Refused {
                status: status.as_u16(),
                message,
            }))
        }
    }

    /// A failure to send or to read the body: always retryable (timeouts, refused connections, resets).
    fn transport(&self, e: &reqwest::Error) -> Attempt {
        let reason = if e.is_timeout() {
            format!("no answer within {} s", self.timeout.as_secs_f64())
        } else if e.is_connect() {
            format!("cannot connect: {}", chain(e))
        } else {
            chain(e)
        };
        Attempt::Retryable {
            reason,
            retry_after: None,
        }
    }

    /// Removes the key from a message (a provider might echo it; reqwest errors carry URLs, which never
    /// hold it, but cost nothing to check).
    fn scrub(&self, message: &str) -> String {
        if self.secret.len() >= 4 {
            message.replace(&self.secret, "[redacted]")
        } else {
            message.to_owned()
        }
    }

    /// [`Client::scrub`] for a response body, before it is parsed.
    fn scrub_bytes(&self, body: &[u8]) -> Vec<u8> {
        let secret = self.secret.as_bytes();
        if secret.len() < 4 {
            return body.to_vec();
        }
        let mut out = Vec::with_capacity(body.len());
        let mut rest = body;
        while let Some(i) = memchr::memmem::find(rest, secret) {
            out.extend_from_slice(&rest[..i]);
            out.extend_from_slice(b"[redacted]");
            rest = &rest[i + secret.len()..];
        }
        out.extend_from_slice(rest);
        out
    }
}

enum Attempt {
    Fatal(FetchError),
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
}

/// Rate limits, server errors and request timeouts are worth retrying; other statuses are not.
pub fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
}

fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// `Retry-After`: delay seconds, or an HTTP date (the wait is from now, never negative).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e6)));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// The provider's error message from an error body: OpenAI `{"error":{"message":…}}`, Anthropic
/// `{"type":"error","error":{"type":…,"message":…}}`, or a bare `{"message":…}` / `{"error":"…"}`; else the
/// start of the body as text. One line, at most [`MESSAGE_MAX`] characters.
pub fn error_message(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => {
            let error = v.get("error");
            let message = error
                .and_then(|e| e.get("message"))
                .or_else(|| error.filter(|e| e.is_string()))
                .or_else(|| v.get("message"))
                .and_then(|m| m.as_str());
            match message {
                Some(m) => {
                    let kind = error
                        .and_then(|e| e.get("type").or_else(|| e.get("code")))
                        .and_then(|t| t.as_str());
                    match kind {
                        Some(kind) if !kind.is_empty() => format!("{m} ({kind})"),
                        _ => m.to_owned(),
                    }
                }
                None => String::from_utf8_lossy(body).into_owned(),
            }
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let one_line: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    truncate(&one_line, MESSAGE_MAX)
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// An error and its causes on one line (`error sending request: client error (Connect): tcp connect
/// error: Connection refused`), without the URL (callers name the endpoint themselves).
fn chain(e: &reqwest::Error) -> String {
    let mut out = String::new();
    let mut current: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = current {
        let text = match err.downcast_ref::<reqwest::Error>() {
            Some(r) => strip_url(r),
            None => err.to_string(),
        };
        if !text.is_empty() && !out.ends_with(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        current = err.source();
    }
    out
}

fn strip_url(e: &reqwest::Error) -> String {
    let text = e.to_string();
    match e.url() {
        Some(url) => text
            .replace(&format!(" for url ({url})"), "")
            .replace(url.as_str(), "<url>"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let r = Retry {
            attempts: 6,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(3),
        };
        // 500 ms, 1 s, 2 s, then the 3 s cap
        let ceilings: Vec<u128> = (1..=5).map(|a| r.ceiling(a).as_millis()).collect();
        assert_eq!(ceilings, [500, 1000, 2000, 3000, 3000]);
        for a in 1..=5 {
            assert!(r.jittered(a) <= r.ceiling(a));
        }
        assert_eq!(r.ceiling(200), Duration::from_secs(3), "no overflow");
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("0"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(" 12 "), Some(Duration::from_secs(12)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let wait = parse_retry_after(&soon).unwrap();
        assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn provider_error_messages() {
        assert_eq!(
            error_message(br#"{"error":{"message":"Invalid admin key","type":"invalid_request_error","code":null}}"#),
            "Invalid admin key (invalid_request_error)"
        );
        assert_eq!(
            error_message(br#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#),
            "invalid x-api-key (authentication_error)"
        );
        assert_eq!(
            error_message(b"<html>\n  Bad   gateway</html>"),
            "<html> Bad gateway</html>"
        );
        let long = "x".repeat(1000);
        assert_eq!(
            error_message(long.as_bytes()).chars().count(),
            MESSAGE_MAX + 1
        );
    }

    #[test]
    fn statuses_worth_retrying() {
        for s in [429, 408, 500, 502, 503, 529] {
            assert!(retryable(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            assert!(!retryable(StatusCode::from_u16(s).unwrap()), "{s}");
        }
    }
}
