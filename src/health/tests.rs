//! The detectors on small hand-made request logs, with the expected figures worked out by hand.

use chrono::TimeZone;
use rust_decimal_macros::dec;

use super::*;

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 22, 0, 0, 0).unwrap() + Duration::minutes(minute)
}

fn request(minute: i64, failure: Option<FailureClass>, latency: u64) -> Request {
    Request {
        at: at(minute),
        group: 0,
        request_id: format!("r{minute}"),
        caller: "key_a".into(),
        provider: Provider::Anthropic,
        model: "claude-sonnet-4-5".into(),
        failure,
        latency_ms: failure.is_none().then_some(latency),
        tokens: TokenCounts::default(),
        cost: Decimal::ZERO,
        attempt: None,
        retry_of: None,
    }
}

/// Ten 15-minute buckets of 10 requests each (one a minute and a half); in `bad` buckets the first
/// `failures` requests fail as overloaded.
fn log(bad: &[(i64, usize)]) -> Vec<Request> {
    let mut out = Vec::new();
    for bucket in 0..10 {
        let failures = bad.iter().find(|(b, _)| *b == bucket).map_or(0, |x| x.1);
        for k in 0..10 {
            let failure = (k < failures).then_some(FailureClass::Overloaded);
            let mut r = request(bucket * 15 + k as i64, failure, 1_000 + k as u64 * 10);
            r.at += Duration::seconds(30 * k as i64);
            out.push(r);
        }
    }
    out.sort_by_key(|r| r.at);
    out
}

fn windows(requests: &[Request], rules: WindowRules) -> Vec<Window> {
    let retries = vec![None; requests.len()];
    brownouts(requests, &retries, 1, at(0), rules)
}

#[test]
fn an_error_burst_of_three_buckets_is_one_window() {
    // Buckets 4, 5, 6 fail 5 of 10; bucket 8 fails 3 of 10 alone. Every other bucket has no failure,
    // so the baseline median and MAD are 0 and a bucket is degraded above 0 + max(4 × 1.4826 × 0, 0.10).
    let requests = log(&[(4, 5), (5, 5), (6, 5), (8, 3)]);
    let w = windows(&requests, WindowRules::default());
    assert_eq!(w.len(), 1, "{w:?}");
    // buckets 4..=6: 60 to 105 minutes
    assert_eq!((w[0].start, w[0].end), (at(60), at(105)));
    assert_eq!((w[0].buckets, w[0].requests, w[0].failures), (3, 30, 15));
    assert_eq!(w[0].failure_rate(), dec!(0.5));
    assert_eq!(w[0].baseline_failure_rate, dec!(0));
    assert_eq!(w[0].reason(), "failures");
    // a single degraded bucket makes a window only with --min-buckets 1
    let one = WindowRules {
        min_buckets: 1,
        ..WindowRules::default()
    };
    assert_eq!(windows(&requests, one).len(), 2);
}

#[test]
fn one_failure_per_bucket_is_not_a_brownout() {
    // 1 of 10 in two buckets in a row: below the 2-failure minimum
    let requests = log(&[(2, 1), (3, 1)]);
    assert!(windows(&requests, WindowRules::default()).is_empty());
}

#[test]
fn a_latency_shift_is_a_window() {
    // Successful latencies 1,000..1,090 ms (p95 of 10 = the 10th = 1,090); in buckets 7 and 8 they
    // triple. Baseline p95 median 1,090, MAD 0: degraded above 1,090 + max(0, 0.5 × 1,090) = 1,635.
    let mut requests = log(&[]);
    for r in requests.iter_mut() {
        if r.at >= at(105) && r.at < at(135) {
            r.latency_ms = r.latency_ms.map(|l| l * 3);
        }
    }
    let w = windows(&requests, WindowRules::default());
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!((w[0].start, w[0].end), (at(105), at(135)));
    assert_eq!(w[0].reason(), "latency");
    assert_eq!(w[0].baseline_p95_latency_ms, Some(1_090));
    // p95 of the 20 tripled latencies, each of 3,000, 3,030 … 3,270 twice: rank 19 = 3,270
    assert_eq!(w[0].p95_latency_ms, Some(3_270));
    // 3,270 − 1,090
    assert_eq!(w[0].extra_latency_ms(), Some(2_180));
}

#[test]
fn retries_by_envelope_and_by_heuristic() {
    let mut a = request(0, Some(FailureClass::Overloaded), 0);
    a.request_id = "a".into();
    // named by the log
    let mut b = request(1, None, 900);
    b.retry_of = Some("a".into());
    // a failure, then the same caller and model 30 s later: a heuristic retry
    let c = request(2, Some(FailureClass::RateLimit), 0);
    let mut d = request(2, None, 900);
    d.at += Duration::seconds(30);
    // another caller: not a retry of anything
    let mut e = request(3, Some(FailureClass::RateLimit), 0);
    e.caller = "key_b".into();
    // key_b again after 61 s: beyond the window
    let mut f = request(4, None, 900);
    f.caller = "key_b".into();
    f.at += Duration::seconds(1);
    let requests = vec![a, b, c, d, e, f];
    let retries = find_retries(&requests, Duration::seconds(RETRY_WINDOW_SECS));
    assert_eq!(
        retries,
        vec![
            None,
            Some(Retry {
                rule: RetryRule::Envelope,
                original: Some(0)
            }),
            None,
            Some(Retry {
                rule: RetryRule::Heuristic,
                original: Some(2)
            }),
            None,
            None,
        ]
    );
}

#[test]
fn a_failure_is_retried_once_and_prompt_sizes_must_agree() {
    let mut fail = request(0, Some(FailureClass::Overloaded), 0);
    fail.tokens.input = 1_000;
    let mut other_size = request(0, None, 900);
    other_size.at += Duration::seconds(5);
    other_size.tokens.input = 2_000;
    let mut same = request(0, None, 900);
    same.at += Duration::seconds(10);
    same.tokens.input = 1_000;
    let mut again = same.clone();
    again.at += Duration::seconds(10);
    let retries = find_retries(
        &[fail, other_size, same, again],
        Duration::seconds(RETRY_WINDOW_SECS),
    );
    let rules: Vec<Option<RetryRule>> = retries.iter().map(|r| r.map(|r| r.rule)).collect();
    assert_eq!(rules, vec![None, None, Some(RetryRule::Heuristic), None]);
}

#[test]
fn group_figures_by_hand() {
    let mut requests: Vec<Request> = (0..20)
        .map(|i| request(i, None, (i as u64 + 1) * 100))
        .collect();
    requests[3].failure = Some(FailureClass::RateLimit);
    requests[3].latency_ms = None;
    requests[7].failure = Some(FailureClass::Overloaded);
    requests[7].latency_ms = None;
    // a stream cut off after output: failed, but billed
    requests[7].tokens.output = 40;
    requests[7].cost = dec!(0.0006);
    let retries = vec![None; requests.len()];
    let g = summarize(&requests, &retries, 1).pop().unwrap();
    assert_eq!((g.requests, g.failed_requests()), (20, 2));
    assert_eq!(g.failure_rate(), dec!(0.1));
    assert_eq!(g.failures.get(&FailureClass::RateLimit), Some(&1));
    // 18 successful latencies 100, 200, 300, 500, 600, 700, 900, 1,000, 1,100 … 2,000 (no 400, 800):
    // p50 = rank 9 = 1,100; p95 = rank ⌈17.1⌉ = 18 = 2,000; p99 = rank 18 = 2,000
    assert_eq!(
        g.latency,
        Some(Latency {
            p50: 1_100,
            p95: 2_000,
            p99: 2_000
        })
    );
    assert_eq!((g.failed.tokens, g.failed.cost), (40, dec!(0.0006)));
}
