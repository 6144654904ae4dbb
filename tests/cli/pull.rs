//! `aispend pull`: the real binary against a local mock of the providers' admin APIs (wiremock on
//! 127.0.0.1, pointed at with --base-url; no other network). Backoff is shrunk to 1 ms with
//! `AISPEND_PULL_BACKOFF_MS` so retry storms take milliseconds.

use std::process::Output;

use serde_json::{json, Value};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::Workdir;

/// A recognisable fake key: it must never appear in any output.
const KEY: &str = "sk-admin-FAKE-7h1s-15-n0t-a-r3al-k3y-Zq81";
const OPENAI_USAGE: &str = "/v1/organization/usage/completions";
const OPENAI_COSTS: &str = "/v1/organization/costs";
const ANTHROPIC_USAGE: &str = "/v1/organizations/usage_report/messages";
const ANTHROPIC_COST: &str = "/v1/organizations/cost_report";
/// 2026-10-01T00:00:00Z
const OCT_1: i64 = 1_790_812_800;
const DAY: i64 = 86_400;

/// A mock server on its own thread, and a runtime to talk to it.
struct Api {
    rt: tokio::runtime::Runtime,
    server: MockServer,
}

impl Api {
    fn start() -> Api {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let server = rt.block_on(MockServer::start());
        Api { rt, server }
    }

    fn mount(&self, mock: Mock) {
        self.rt.block_on(mock.mount(&self.server));
    }

    fn requests(&self) -> Vec<Request> {
        self.rt
            .block_on(self.server.received_requests())
            .expect("recording on")
    }

    fn uri(&self) -> String {
        self.server.uri()
    }

    fn reset(&self) {
        self.rt.block_on(self.server.reset());
    }
}

/// Runs `aispend pull ARGS… --base-url MOCK` with the fake key in `key_var` (no key when `None`).
fn pull(w: &Workdir, api: &Api, key_var: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = w.cmd_without_proxy();
    cmd.env_remove("OPENAI_ADMIN_KEY")
        .env_remove("ANTHROPIC_ADMIN_KEY")
        .env("AISPEND_PULL_BACKOFF_MS", "1");
    if let Some(var) = key_var {
        cmd.env(var, KEY);
    }
    cmd.arg("pull")
        .args(args)
        .args(["--base-url", &api.uri()])
        .output()
        .expect("run")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts success and that the key appears nowhere; returns stdout.
fn ok(out: &Output) -> String {
    let (stdout, stderr) = text(out);
    assert!(out.status.success(), "pull failed: {stderr}\n{stdout}");
    assert_no_key(out);
    stdout
}

fn assert_no_key(out: &Output) {
    let (stdout, stderr) = text(out);
    assert!(!stdout.contains(KEY), "key on stdout: {stdout}");
    assert!(!stderr.contains(KEY), "key on stderr: {stderr}");
    assert!(
        !stderr.contains("7h1s-15-n0t"),
        "part of the key on stderr: {stderr}"
    );
}

fn count_records(w: &Workdir) -> u64 {
    if !w.ledger().exists() {
        return 0;
    }
    let out = w.stdout(&["ledger", "stats"]);
    let line = out
        .lines()
        .find(|l| l.starts_with("records:"))
        .expect("records line");
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap()
}

/// One OpenAI usage page: one bucket per day in `days` (0 = Oct 1), one result per model in each.
fn openai_usage_page(days: std::ops::Range<i64>, models: &[&str], next: Option<&str>) -> Value {
    let data: Vec<Value> = days
        .map(|d| {
            let results: Vec<Value> = models
                .iter()
                .map(|m| {
                    json!({"object": "organization.usage.completions.result",
                        "input_tokens": 1_000, "input_uncached_tokens": 800, "input_cached_tokens": 200,
                        "input_cache_write_tokens": 0, "output_tokens": 100, "num_model_requests": 4,
                        "project_id": "proj_Pull1", "user_id": null, "api_key_id": "key_Pull1",
                        "model": m, "batch": false, "service_tier": "default"})
                })
                .collect();
            json!({"object": "bucket", "start_time": OCT_1 + d * DAY, "end_time": OCT_1 + (d + 1) * DAY,
                   "results": results})
        })
        .collect();
    json!({"object": "page", "data": data, "has_more": next.is_some(), "next_page": next})
}

/// One Anthropic usage report page: one bucket per day, one result per model in each.
fn anthropic_usage_page(days: std::ops::Range<u32>, models: &[&str], next: Option<&str>) -> Value {
    let data: Vec<Value> = days
        .map(|d| {
            let results: Vec<Value> = models
                .iter()
                .map(|m| {
                    json!({"uncached_input_tokens": 1_500, "cache_read_input_tokens": 10_000,
                        "cache_creation": {"ephemeral_5m_input_tokens": 500, "ephemeral_1h_input_tokens": 0},
                        "output_tokens": 300, "server_tool_use": {"web_search_requests": 0},
                        "api_key_id": "apikey_01Pull", "workspace_id": "wrkspc_01Pull", "model": m,
                        "service_tier": "standard", "context_window": "0-200k"})
                })
                .collect();
            json!({"starting_at": format!("2026-10-{:02}T00:00:00Z", d + 1),
                   "ending_at": format!("2026-10-{:02}T00:00:00Z", d + 2), "results": results})
        })
        .collect();
    json!({"data": data, "has_more": next.is_some(), "next_page": next})
}

fn page(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// Two OpenAI usage pages (3 days × 2 models, then 2 days × 2 models = 10 records), served only with the
/// admin key in `Authorization` and the second only for `page=cursor_2`.
fn mount_openai_two_pages(api: &Api) {
    let models = ["gpt-4o", "gpt-4o-mini"];
    api.mount(
        Mock::given(method("GET"))
            .and(path(OPENAI_USAGE))
            .and(header("authorization", format!("Bearer {KEY}").as_str()))
            .and(query_param_is_missing("page"))
            .respond_with(page(openai_usage_page(0..3, &models, Some("cursor_2")))),
    );
    api.mount(
        Mock::given(method("GET"))
            .and(path(OPENAI_USAGE))
            .and(header("authorization", format!("Bearer {KEY}").as_str()))
            .and(query_param("page", "cursor_2"))
            .respond_with(page(openai_usage_page(3..5, &models, None))),
    );
}

const OCTOBER: [&str; 4] = ["--since", "2026-10-01", "--until", "2026-10-05"];

fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["openai"];
    all.extend(OCTOBER);
    all.extend(extra);
    all
}

#[test]
fn openai_pagination_lands_every_record_with_the_right_query() {
    let api = Api::start();
    mount_openai_two_pages(&api);
    let w = Workdir::new();
    let out = pull(
        &w,
        &api,
        Some("OPENAI_ADMIN_KEY"),
        &args(&["--no-costs", "-v"]),
    );
    let stdout = ok(&out);
    // 3 days × 2 models + 2 days × 2 models = 10 records
    assert!(
        stdout.contains(&format!(
            "{}{OPENAI_USAGE}: 2 pages, openai-usage added 10, 0 duplicate",
            api.uri()
        )),
        "{stdout}"
    );
    assert_eq!(count_records(&w), 10);
    let (_, stderr) = text(&out);
    assert!(stderr.contains("page 2, "), "-v shows progress: {stderr}");
    // What landed, per model over 5 days (each bucket: 800 uncached + 200 cached in, 100 out, 4 requests):
    //   gpt-4o      800 × $2.50/M + 200 × $1.25/M + 100 × $10/M = $0.00325 a day, × 5 = $0.01625
    //   gpt-4o-mini 800 × $0.15/M + 200 × $0.075/M + 100 × $0.60/M = $0.000195 a day, × 5 = $0.000975
    let r = w.json(&["report", "--by", "model", "--month", "2026-10"]);
    for (model, cost) in [("gpt-4o", "0.01625"), ("gpt-4o-mini", "0.000975")] {
        let row = crate::row(&r, "model", model);
        assert_eq!(row["requests"], 20, "{model}");
        assert_eq!(row["input_tokens"], 4_000, "{model}");
        assert_eq!(row["cache_read_tokens"], 1_000, "{model}");
        assert_eq!(row["cache_write_tokens"], 0, "{model}");
        assert_eq!(row["output_tokens"], 500, "{model}");
        assert_eq!(crate::money(&row["cost"]), cost, "{model}");
    }

    let requests = api.requests();
    assert_eq!(requests.len(), 2);
    let query = |r: &Request| -> Vec<(String, String)> {
        r.url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    };
    let first = query(&requests[0]);
    let get = |q: &[(String, String)], k: &str| -> Vec<String> {
        q.iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    // --since 2026-10-01 → 1_790_812_800; --until 2026-10-05 inclusive → end 2026-10-06 = +5 days
    assert_eq!(get(&first, "start_time"), ["1790812800"]);
    assert_eq!(get(&first, "end_time"), [(OCT_1 + 5 * DAY).to_string()]);
    assert_eq!(get(&first, "bucket_width"), ["1d"]);
    assert_eq!(get(&first, "limit"), ["31"]);
    assert_eq!(
        get(&first, "group_by"),
        ["project_id", "api_key_id", "model", "batch", "service_tier"],
        "form-exploded, one group_by per dimension"
    );
    assert!(get(&first, "page").is_empty());
    let second = query(&requests[1]);
    assert_eq!(get(&second, "page"), ["cursor_2"]);
    assert_eq!(
        get(&second, "start_time"),
        ["1790812800"],
        "the same query plus the cursor"
    );
    for r in &requests {
        assert!(!r.url.as_str().contains(KEY), "the key never goes in a URL");
    }
}

#[test]
fn a_repull_adds_nothing_twice_and_dry_run_writes_nothing() {
    let api = Api::start();
    mount_openai_two_pages(&api);
    let w = Workdir::new();
    let out = pull(
        &w,
        &api,
        Some("OPENAI_ADMIN_KEY"),
        &args(&["--no-costs", "--dry-run"]),
    );
    assert!(ok(&out).contains("would add 10, 0 duplicate"));
    assert_eq!(count_records(&w), 0);

    ok(&pull(
        &w,
        &api,
        Some("OPENAI_ADMIN_KEY"),
        &args(&["--no-costs"]),
    ));
    let before = w.json(&["report", "--month", "2026-10", "--by", "model,day"]);
    let again = ok(&pull(
        &w,
        &api,
        Some("OPENAI_ADMIN_KEY"),
        &args(&["--no-costs"]),
    ));
    assert!(
        again.contains("openai-usage added 0, 10 duplicate"),
        "{again}"
    );
    assert_eq!(count_records(&w), 10);
    assert_eq!(
        w.json(&["report", "--month", "2026-10", "--by", "model,day"]),
        before
    );
}

#[test]
fn a_rate_limit_is_retried_after_retry_after() {
    let api = Api::start();
    api.mount(
        Mock::given(method("GET"))
            .and(path(OPENAI_USAGE))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("retry-after", "0")
                    .set_body_json(
                        json!({"error": {"message": "Rate limit reached", "type": "requests"}}),
                    ),
            )
            .up_to_n_times(1)
            .expect(1),
    );
    api.mount(
        Mock::given(method("GET"))
            .and(path(OPENAI_USAGE))
            .respond_with(page(openai_usage_page(0..2, &["gpt-4o"], None)))
            .expect(1),
    );
    let w = Workdir::new();
    let out = pull(&w, &api, Some("OPENAI_ADMIN_KEY"), &args(&["--no-costs"]));
    let stdout = ok(&out);
    assert!(
        stdout.contains("1 page, openai-usage added 2, 0 duplicate"),
        "{stdout}"
    );
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("HTTP 429 Too Many Requests: Rate limit reached (requests); retrying in 0.0 s (attempt 2 of 6)"),
        "{stderr}"
    );
    assert_eq!(api.requests().len(), 2);
}

#[test]
fn a_request_that_times_out_is_retried() {
    let api = Api::start();
    api.mount(
        Mock::given(method("GET"))
            .and(path(OPENAI_USAGE))
            .respond_with(
                page(openai_usage_page(0..1, &["gpt-4o"], None))
                    .set_delay(std::time::Duration::from_secs(5)),
            )
            .up_to_n_times(1),
    );
    api.mount(
        Mock::given(method("GET"))
            .and(path(OPENAI_USAGE))
            .respond_with(page(openai_usage_page(0..1, &["gpt-4o"], None))),
    );
    let w = Workdir::new();
    let out = pull(
        &w,
        &api,
        Some("OPENAI_ADMIN_KEY"),
        &args(&["--no-costs", "--timeout", "1"]),
    );
    assert!(ok(&out).contains("openai-usage added 1, 0 duplicate"));
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("(page 1): no answer within 1 s; retrying in"),
        "{stderr}"
    );
    assert_eq!(api.requests().len(), 2);
}

#[test]
fn a_server_error_storm_gives_up_and_leaves_the_ledger_untouched() {
    let api = Api::start();
    mount_openai_two_pages(&api);
    let w = Workdir::new();
    ok(&pull(
        &w,
        &api,
        Some("OPENAI_ADMIN_KEY"),
        &args(&["--no-costs"]),
    ));
    let before = w.json(&["report", "--month", "2026-10", "--by", "model,day"]);

    let api = Api::start();
    api.mount(
        Mock::given(method("GET"))
            .and(path(OPENAI_USAGE))
            // a server that echoes the key: it is scrubbed from the message
            .respond_with(ResponseTemplate::new(500).set_body_json(
                json!({"error": {"message": format!("upstream failed for {KEY}")}}),
            )),
    );
    let out = pull(&w, &api, Some("OPENAI_ADMIN_KEY"), &args(&["--no-costs"]));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out).1);
    assert_no_key(&out);
    let (stdout, stderr) = text(&out);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "aispend: GET {}{OPENAI_USAGE} (page 1) failed 6 times, giving up: HTTP 500 Internal Server Error: \
             upstream failed for [redacted]; nothing was written",
            api.uri()
        )),
        "{stderr}"
    );
    assert_eq!(api.requests().len(), 6, "six attempts");
    assert_eq!(count_records(&w), 10);
    assert_eq!(
        w.json(&["report", "--month", "2026-10", "--by", "model,day"]),
        before
    );
}

#[test]
fn a_failure_on_a_later_page_writes_nothing() {
    let api = Api::start();
    api.mount(
        Mock::given(method("GET"))
            .and(path(OPENAI_USAGE))
            .and(query_param_is_missing("page"))
            .respond_with(page(openai_usage_page(0..3, &["gpt-4o"], Some("cursor_2")))),
    );
    api.mount(
        Mock::given(method("GET"))
            .and(path(OPENAI_USAGE))
            .and(query_param("page", "cursor_2"))
            .respond_with(ResponseTemplate::new(503)),
    );
    let w = Workdir::new();
    let out = pull(&w, &api, Some("OPENAI_ADMIN_KEY"), &args(&["--no-costs"]));
    assert_eq!(out.status.code(), Some(3));
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("(page 2) failed 6 times, giving up: HTTP 503 Service Unavailable"),
        "{stderr}"
    );
    assert_eq!(
        count_records(&w),
        0,
        "page 1's records are not written either"
    );
}

#[test]
fn a_malformed_page_exits_2_naming_endpoint_page_and_field() {
    let api = Api::start();
    let mut bad = openai_usage_page(3..4, &["gpt-4o"], None);
    bad["data"][0]["results"][0]["num_model_requests"] = json!("many");
    api.mount(
        Mock::given(method("GET"))
            .and(path(OPENAI_USAGE))
            .and(query_param_is_missing("page"))
            .respond_with(page(openai_usage_page(0..3, &["gpt-4o"], Some("cursor_2")))),
    );
    api.mount(
        Mock::given(method("GET"))
            .and(path(OPENAI_USAGE))
            .and(query_param("page", "cursor_2"))
            .respond_with(page(bad)),
    );
    let w = Workdir::new();
    let out = pull(&w, &api, Some("OPENAI_ADMIN_KEY"), &args(&["--no-costs"]));
    assert_eq!(out.status.code(), Some(2));
    assert_no_key(&out);
    let (_, stderr) = text(&out);
    assert!(
        stderr.starts_with(&format!(
            "aispend: {}{OPENAI_USAGE} (page 2):1: field 'data[0].results[0].num_model_requests': ",
            api.uri()
        )),
        "{stderr}"
    );
    assert_eq!(count_records(&w), 0);

    // a page that is not JSON at all, and one whose cursor is missing
    let api = Api::start();
    api.mount(
        Mock::given(method("GET"))
            .and(path(OPENAI_USAGE))
            .respond_with(ResponseTemplate::new(200).set_body_string("<html>maintenance</html>")),
    );
    let out = pull(&w, &api, Some("OPENAI_ADMIN_KEY"), &args(&["--no-costs"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains("(page 1):1: not valid JSON"),
        "{}",
        text(&out).1
    );
    let api = Api::start();
    let mut looping = openai_usage_page(0..1, &["gpt-4o"], None);
    looping["has_more"] = json!(true);
    api.mount(
        Mock::given(method("GET"))
            .and(path(OPENAI_USAGE))
            .respond_with(page(looping)),
    );
    let out = pull(&w, &api, Some("OPENAI_ADMIN_KEY"), &args(&["--no-costs"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out)
            .1
            .contains("(page 1):1: field 'next_page': `has_more` is true but `next_page` is null"),
        "{}",
        text(&out).1
    );
    assert_eq!(count_records(&w), 0);
}

#[test]
fn a_missing_key_is_a_usage_error_naming_the_variable() {
    let api = Api::start();
    let w = Workdir::new();
    for (provider, var, whose) in [
        ("openai", "OPENAI_ADMIN_KEY", "an OpenAI"),
        ("anthropic", "ANTHROPIC_ADMIN_KEY", "an Anthropic"),
    ] {
        // the other provider's key does not count
        let other = if var == "OPENAI_ADMIN_KEY" {
            "ANTHROPIC_ADMIN_KEY"
        } else {
            "OPENAI_ADMIN_KEY"
        };
        let out = pull(&w, &api, Some(other), &[provider, "--no-costs"]);
        assert_eq!(out.status.code(), Some(2));
        let (_, stderr) = text(&out);
        assert!(
            stderr.contains(&format!("set {var} to {whose} admin API key")),
            "{stderr}"
        );
    }
    assert!(api.requests().is_empty(), "nothing is sent without a key");
}

#[test]
fn a_refused_request_fails_at_once_with_the_providers_message() {
    let api = Api::start();
    api.mount(
        Mock::given(method("GET"))
            .and(path(ANTHROPIC_USAGE))
            .respond_with(ResponseTemplate::new(401).set_body_json(
                json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}),
            )),
    );
    let w = Workdir::new();
    let out = pull(
        &w,
        &api,
        Some("ANTHROPIC_ADMIN_KEY"),
        &[
            "anthropic",
            "--since",
            "2026-10-01",
            "--until",
            "2026-10-02",
            "--no-costs",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_no_key(&out);
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains(&format!(
            "GET {}{ANTHROPIC_USAGE} (page 1) was refused: HTTP 401 Unauthorized (invalid x-api-key \
             (authentication_error)): check the admin key",
            api.uri()
        )),
        "{stderr}"
    );
    assert_eq!(api.requests().len(), 1, "no retries on a 401");
    assert!(!w.ledger().exists() || count_records(&w) == 0);
}

#[test]
fn anthropic_pull_sends_its_headers_and_bracketed_group_by() {
    let api = Api::start();
    let models = ["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"];
    let usage = || {
        let mut m = Mock::given(method("GET"))
            .and(path(ANTHROPIC_USAGE))
            .and(header("x-api-key", KEY))
            .and(header("anthropic-version", "2023-06-01"))
            .and(query_param("starting_at", "2026-10-01T00:00:00Z"))
            .and(query_param("ending_at", "2026-10-05T00:00:00Z"))
            .and(query_param("bucket_width", "1d"))
            .and(query_param("limit", "31"));
        for g in [
            "workspace_id",
            "api_key_id",
            "model",
            "service_tier",
            "context_window",
        ] {
            m = m.and(query_param("group_by[]", g));
        }
        m
    };
    api.mount(
        usage()
            .and(query_param_is_missing("page"))
            .respond_with(page(anthropic_usage_page(0..2, &models, Some("page_abc"))))
            .expect(2),
    );
    api.mount(
        usage()
            .and(query_param("page", "page_abc"))
            .respond_with(page(anthropic_usage_page(2..4, &models, None)))
            .expect(2),
    );
    let w = Workdir::new();
    let out = pull(
        &w,
        &api,
        Some("ANTHROPIC_ADMIN_KEY"),
        &[
            "anthropic",
            "--since",
            "2026-10-01",
            "--until",
            "2026-10-04",
            "--no-costs",
        ],
    );
    let stdout = ok(&out);
    // 4 days × 2 models = 8 records; the second pull fetches both pages again
    assert!(
        stdout.contains("2 pages, anthropic-usage added 8, 0 duplicate"),
        "{stdout}"
    );
    assert_eq!(count_records(&w), 8);
    // Each bucket: 1,500 uncached, 10,000 cache read, 500 5-minute cache write, 300 output; 4 days:
    //   sonnet-4-5 1,500 × $3/M + 10,000 × $0.30/M + 500 × $3.75/M + 300 × $15/M
    //              = $0.0045 + $0.003 + $0.001875 + $0.0045 = $0.013875 a day, × 4 = $0.0555
    //   haiku-4-5  1,500 × $1/M + 10,000 × $0.10/M + 500 × $1.25/M + 300 × $5/M
    //              = $0.0015 + $0.001 + $0.000625 + $0.0015 = $0.004625 a day, × 4 = $0.0185
    let r = w.json(&["report", "--by", "model", "--month", "2026-10"]);
    for (model, cost) in [
        ("claude-sonnet-4-5", "0.0555"),
        ("claude-haiku-4-5", "0.0185"),
    ] {
        let row = crate::row(&r, "model", model);
        assert_eq!(row["input_tokens"], 6_000, "{model}");
        assert_eq!(row["cache_read_tokens"], 40_000, "{model}");
        assert_eq!(row["cache_write_tokens"], 2_000, "{model}");
        assert_eq!(row["output_tokens"], 1_200, "{model}");
        assert_eq!(crate::money(&row["cost"]), cost, "{model}");
    }
    let again = ok(&pull(
        &w,
        &api,
        Some("ANTHROPIC_ADMIN_KEY"),
        &[
            "anthropic",
            "--since",
            "2026-10-01",
            "--until",
            "2026-10-04",
            "--no-costs",
        ],
    ));
    assert!(
        again.contains("anthropic-usage added 0, 8 duplicate"),
        "{again}"
    );
    assert_eq!(count_records(&w), 8);
    assert!(api.requests().iter().all(|r| !r.url.as_str().contains(KEY)));
}

#[test]
fn a_redirect_is_not_followed() {
    let api = Api::start();
    // the API answers with a redirect to a path that would serve a valid page
    api.mount(
        Mock::given(method("GET"))
            .and(path(OPENAI_USAGE))
            .respond_with(
                ResponseTemplate::new(302)
                    .insert_header("location", format!("{}/elsewhere", api.uri()).as_str()),
            ),
    );
    api.mount(
        Mock::given(method("GET"))
            .and(path("/elsewhere"))
            .respond_with(page(openai_usage_page(0..1, &["gpt-4o"], None))),
    );
    let w = Workdir::new();
    let out = pull(&w, &api, Some("OPENAI_ADMIN_KEY"), &args(&["--no-costs"]));
    assert!(!out.status.success());
    assert_no_key(&out);
    let (_, stderr) = text(&out);
    assert!(stderr.contains("HTTP 302"), "{stderr}");
    let paths: Vec<String> = api
        .requests()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(paths, [OPENAI_USAGE], "only the first request was sent");
    assert_eq!(count_records(&w), 0);
}

#[test]
fn bad_flags_are_usage_errors() {
    let api = Api::start();
    let w = Workdir::new();
    let out = pull(
        &w,
        &api,
        Some("OPENAI_ADMIN_KEY"),
        &["openai", "--since", "2026-10-09", "--until", "2026-10-08"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains("is after --until"),
        "{}",
        text(&out).1
    );
    let out = w
        .cmd()
        .env("OPENAI_ADMIN_KEY", KEY)
        .args(["pull", "openai", "--base-url", "ftp://example.com"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("expected an http:// or https:// URL"));
    assert!(api.requests().is_empty());
}

/// One OpenAI Costs API page: (day, line item, dollars) results for project `proj_Pull1`.
fn openai_costs_page(results: &[(i64, &str, &str)], next: Option<&str>) -> String {
    let mut days: Vec<i64> = results.iter().map(|r| r.0).collect();
    days.dedup();
    let buckets: Vec<String> = days
        .iter()
        .map(|d| {
            let rs: Vec<String> = results
                .iter()
                .filter(|r| r.0 == *d)
                .map(|(_, item, usd)| {
                    // the amount is a JSON number: written by hand so that it is read from its text
                    format!(
                        r#"{{"object":"organization.costs.result","amount":{{"value":{usd},"currency":"usd"}},"line_item":"{item}","project_id":"proj_Pull1"}}"#
                    )
                })
                .collect();
            format!(
                r#"{{"object":"bucket","start_time":{},"end_time":{},"results":[{}]}}"#,
                OCT_1 + d * DAY,
                OCT_1 + (d + 1) * DAY,
                rs.join(",")
            )
        })
        .collect();
    format!(
        r#"{{"object":"page","data":[{}],"has_more":{},"next_page":{}}}"#,
        buckets.join(","),
        next.is_some(),
        next.map_or("null".to_owned(), |n| format!("\"{n}\""))
    )
}

#[test]
fn openai_pull_fetches_costs_too() {
    let api = Api::start();
    api.mount(
        Mock::given(method("GET"))
            .and(path(OPENAI_USAGE))
            .respond_with(page(openai_usage_page(0..2, &["gpt-4o"], None))),
    );
    let costs = || {
        Mock::given(method("GET"))
            .and(path(OPENAI_COSTS))
            .and(header("authorization", format!("Bearer {KEY}").as_str()))
            .and(query_param("start_time", "1790812800"))
            .and(query_param("bucket_width", "1d"))
            .and(query_param("group_by", "project_id"))
            .and(query_param("group_by", "line_item"))
            .and(query_param("limit", "180"))
    };
    api.mount(costs().and(query_param_is_missing("page")).respond_with(
        ResponseTemplate::new(200).set_body_string(openai_costs_page(
            &[(0, "gpt-4o, input", "1.25"), (0, "gpt-4o, output", "0.5")],
            Some("costs_2"),
        )),
    ));
    api.mount(
        costs().and(query_param("page", "costs_2")).respond_with(
            ResponseTemplate::new(200)
                .set_body_string(openai_costs_page(&[(1, "gpt-4o, input", "2.00")], None)),
        ),
    );
    let w = Workdir::new();
    let stdout = ok(&pull(&w, &api, Some("OPENAI_ADMIN_KEY"), &args(&[])));
    assert!(
        stdout.contains(&format!(
            "{}{OPENAI_USAGE}: 1 page, openai-usage added 2, 0 duplicate",
            api.uri()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{}{OPENAI_COSTS}: 2 pages, openai-costs added 3, 0 duplicate",
            api.uri()
        )),
        "{stdout}"
    );
    // 2 usage buckets + 3 cost rows
    assert_eq!(count_records(&w), 5);
    let again = ok(&pull(&w, &api, Some("OPENAI_ADMIN_KEY"), &args(&[])));
    assert!(
        again.contains("openai-costs added 0, 3 duplicate"),
        "{again}"
    );
    assert_eq!(count_records(&w), 5);
    let report = w.json(&["report", "--month", "2026-10", "--by", "source"]);
    // $1.25 + $0.50 + $2.00 = $3.75 reported by the Costs API
    assert_eq!(
        crate::money(&crate::row(&report, "source", "openai-costs")["reported_cost"]),
        "3.75"
    );
}

#[test]
fn anthropic_pull_fetches_the_cost_report_too() {
    let api = Api::start();
    api.mount(
        Mock::given(method("GET"))
            .and(path(ANTHROPIC_USAGE))
            .respond_with(page(anthropic_usage_page(
                0..1,
                &["claude-sonnet-4-5-20250929"],
                None,
            ))),
    );
    api.mount(
        Mock::given(method("GET"))
            .and(path(ANTHROPIC_COST))
            .and(header("x-api-key", KEY))
            .and(header("anthropic-version", "2023-06-01"))
            .and(query_param("starting_at", "2026-10-01T00:00:00Z"))
            .and(query_param("ending_at", "2026-10-02T00:00:00Z"))
            .and(query_param("group_by[]", "workspace_id"))
            .and(query_param("group_by[]", "description"))
            .and(query_param("limit", "31"))
            .respond_with(page(json!({
                "data": [{"starting_at": "2026-10-01T00:00:00Z", "ending_at": "2026-10-02T00:00:00Z", "results": [
                    {"amount": "123.78912", "currency": "USD", "workspace_id": "wrkspc_01Pull",
                     "description": "Claude Sonnet 4.5 Usage - Input Tokens", "cost_type": "tokens",
                     "model": "claude-sonnet-4-5-20250929", "token_type": "uncached_input_tokens",
                     "service_tier": "standard", "context_window": "0-200k"},
                    {"amount": "50", "currency": "USD", "workspace_id": null,
                     "description": "Web Search", "cost_type": "web_search"}]}],
                "has_more": false, "next_page": null}))),
    );
    let w = Workdir::new();
    let stdout = ok(&pull(
        &w,
        &api,
        Some("ANTHROPIC_ADMIN_KEY"),
        &[
            "anthropic",
            "--since",
            "2026-10-01",
            "--until",
            "2026-10-01",
        ],
    ));
    assert!(
        stdout.contains("1 page, anthropic-usage added 1, 0 duplicate"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{}{ANTHROPIC_COST}: 1 page, anthropic-cost added 2, 0 duplicate",
            api.uri()
        )),
        "{stdout}"
    );
    assert_eq!(count_records(&w), 3);
    let report = w.json(&["report", "--month", "2026-10", "--by", "source"]);
    // 123.78912 cents + 50 cents = $1.7378912
    assert_eq!(
        crate::money(&crate::row(&report, "source", "anthropic-cost")["reported_cost"]),
        "1.7378912"
    );
}

/// JSON pointers of every leaf (non-container value) of `v`.
fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                leaves(x, format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, format!("{at}/{i}"), out);
            }
        }
        _ => out.push(at),
    }
}

#[test]
fn a_server_echoing_the_key_into_any_field_never_gets_it_printed_or_stored() {
    let api = Api::start();
    for (provider, var, base) in [
        (
            "openai",
            "OPENAI_ADMIN_KEY",
            openai_usage_page(0..1, &["gpt-4o"], None),
        ),
        (
            "anthropic",
            "ANTHROPIC_ADMIN_KEY",
            anthropic_usage_page(0..1, &["claude-sonnet-4-5"], None),
        ),
    ] {
        let mut pointers = Vec::new();
        leaves(&base, String::new(), &mut pointers);
        assert!(pointers.len() > 10, "{pointers:?}");
        for pointer in pointers {
            let mut echoed = base.clone();
            *echoed.pointer_mut(&pointer).unwrap() = json!(format!("Bearer {KEY}"));
            api.reset();
            api.mount(Mock::given(method("GET")).respond_with(page(echoed)));
            let w = Workdir::new();
            let mut all = vec![provider, "--no-costs"];
            all.extend(OCTOBER);
            let out = pull(&w, &api, Some(var), &all);
            assert!(
                matches!(out.status.code(), Some(0 | 2)),
                "{provider} {pointer}: {:?} {}",
                out.status,
                text(&out).1
            );
            assert_no_key(&out);
            if w.ledger().exists() {
                let export = w.stdout(&["ledger", "export", "--format", "jsonl"]);
                assert!(
                    !export.contains("7h1s-15-n0t"),
                    "{provider} {pointer}: {export}"
                );
            }
        }
    }
}
