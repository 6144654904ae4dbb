//! `aispend whatif`: the same usage repriced under a scenario. Inputs: `fixtures/api-log/anthropic-messages.jsonl`
//! (six Anthropic requests, token classes in `fixtures/README.md`), each test isolating records with `--where`.

use super::{fixture, money, row, Workdir};

fn whatif(w: &Workdir, args: &[&str]) -> serde_json::Value {
    let log = fixture("api-log/anthropic-messages.jsonl");
    let mut all = vec!["whatif"];
    all.extend(args);
    all.push(&log);
    w.json(&all)
}

#[test]
fn a_swap_reprices_the_same_tokens() {
    let w = Workdir::new();
    let v = whatif(
        &w,
        &[
            "--swap",
            "claude-opus-4-1=claude-sonnet-4-5",
            "--where",
            "model=claude-opus-4-1",
        ],
    );
    assert_eq!(v["schema"], "aispend.whatif.v1");
    let r = row(&v, "model", "claude-opus-4-1");
    // line 5, claude-opus-4-1: 50 × $15/M + 100_000 × $1.50/M (read) + 2_000 × $30/M (1h write) + 800 × $75/M
    //   = 750 + 150_000 + 60_000 + 60_000 µ$ = $0.27075
    assert_eq!(money(&r["cost"]), "0.27075");
    // as claude-sonnet-4-5: 50 × $3/M + 100_000 × $0.30/M + 2_000 × $6/M + 800 × $15/M
    //   = 150 + 30_000 + 12_000 + 12_000 µ$ = $0.05415
    assert_eq!(money(&r["scenario_cost"]), "0.05415");
    assert_eq!(money(&r["difference"]), "-0.2166");
    // -0.2166 / 0.27075 = -80%
    assert_eq!(r["difference_pct"], "-80");
    assert_eq!(v["scenario"]["swaps"][0]["to"], "claude-sonnet-4-5");
    assert_eq!(money(&v["total"]["scenario_cost"]), "0.05415");
}

#[test]
fn a_provider_move_keeps_the_long_context_tier_and_adds_the_region() {
    let w = Workdir::new();
    let v = whatif(
        &w,
        &[
            "--on",
            "bedrock",
            "--region",
            "us-east-1",
            "--where",
            "project=ranker",
        ],
    );
    let r = row(&v, "model", "claude-sonnet-4-5");
    // line 4: 250_000 input > 200k: 250_000 × $6/M + 1_000 × $22.50/M = $1.5225 on Anthropic's API;
    // on Bedrock in us-east-1 (regional, `*` = 1.1): $1.5225 × 1.1 = $1.67475
    assert_eq!(money(&r["cost"]), "1.5225");
    assert_eq!(money(&r["scenario_cost"]), "1.67475");
    assert_eq!(v["scenario"]["on"], "bedrock");
    assert_eq!(v["scenario"]["region"], "us-east-1");
}

#[test]
fn batch_halves_tokens_but_not_search_fees() {
    let w = Workdir::new();
    let v = whatif(
        &w,
        &[
            "--tier",
            "batch",
            "--where",
            "project=helpdesk-bot",
            "--by",
            "project",
        ],
    );
    let r = row(&v, "project", "helpdesk-bot");
    // line 1: 1_000 × $3/M + 20_000 × $0.30/M + 500 × $15/M = 3_000 + 6_000 + 7_500 µ$ = $0.0165
    // line 2: 200 × $3/M + 3_000 × $3.75/M + 300 × $15/M = 600 + 11_250 + 4_500 µ$ = $0.01635, + 3 searches
    //   × $10/1k = $0.03: $0.04635. Now: $0.0165 + $0.04635 = $0.06285
    assert_eq!(money(&r["cost"]), "0.06285");
    // batch: tokens at half price, searches not: $0.00825 + $0.008175 + $0.03 = $0.046425
    assert_eq!(money(&r["scenario_cost"]), "0.046425");
}

#[test]
fn cache_hits_turn_uncached_input_into_reads_and_writes() {
    let w = Workdir::new();
    let v = whatif(
        &w,
        &["--cache-hit", "50%", "--where", "project=ticket-triage"],
    );
    let r = row(&v, "model", "claude-haiku-4-5");
    // line 3, claude-haiku-4-5: 100 × $1/M + 10_000 × $0.10/M + 2_000 × $1.25/M + 4_000 × $2/M + 400 × $5/M
    //   = 100 + 1_000 + 2_500 + 8_000 + 2_000 µ$ = $0.0136
    assert_eq!(money(&r["cost"]), "0.0136");
    // 50 of the 100 uncached tokens are read (× $0.10/M = 5 µ$), the other 50 written (× $1.25/M = 62.5 µ$):
    // 13_600 − 100 + 5 + 62.5 = 13_567.5 µ$ = $0.0135675
    assert_eq!(money(&r["scenario_cost"]), "0.0135675");
    assert_eq!(v["scenario"]["cache_hit"], "0.5");
}

#[test]
fn self_hosted_usage_costs_gpu_hours_and_says_so() {
    let w = Workdir::new();
    let v = whatif(
        &w,
        &[
            "--self-hosted",
            "claude-sonnet-4:gpu_hour=3.60,tokens_per_second=1000",
            "--where",
            "model=claude-sonnet-4",
        ],
    );
    let r = row(&v, "model", "claude-sonnet-4");
    // line 6 (batch): (10_000 × $3/M + 2_000 × $15/M) × 0.5 = $0.03
    assert_eq!(money(&r["cost"]), "0.03");
    // 12_000 tokens / (1_000 tokens/s × 1 × 3_600 s) = 1/300 GPU hour × $3.60 = $0.012
    assert_eq!(money(&r["scenario_cost"]), "0.012");
    let said = v["scenario"]["assumptions"][0].as_str().unwrap();
    assert!(
        said.contains("1000 tokens/s") && said.contains("100% utilization"),
        "{said}"
    );
}

#[test]
fn usage_the_scenario_cannot_price_is_unpriced_never_free() {
    let w = Workdir::new();
    let v = whatif(
        &w,
        &["--tier", "flex", "--where", "model=claude-sonnet-4-5"],
    );
    // Anthropic has no flex tier: the three claude-sonnet-4-5 requests are listed, in neither total.
    assert_eq!(money(&v["total"]["cost"]), "0");
    assert_eq!(money(&v["total"]["scenario_cost"]), "0");
    let unpriced = v["unpriced"].as_array().unwrap();
    assert_eq!(unpriced.len(), 1, "{v:#}");
    assert_eq!(unpriced[0]["requests"], 3);
    assert_eq!(
        unpriced[0]["reason"],
        "scenario: no rate for service tier 'flex'"
    );
}

#[test]
fn the_table_prints_the_assumptions_beside_the_result() {
    let w = Workdir::new();
    let out = w.stdout(&[
        "whatif",
        "--swap",
        "claude-opus-4-1=claude-sonnet-4-5",
        "--where",
        "model=claude-opus-4-1",
        &fixture("api-log/anthropic-messages.jsonl"),
    ]);
    assert!(
        out.contains("usage of claude-opus-4-1 is priced as claude-sonnet-4-5"),
        "{out}"
    );
    assert!(
        out.contains("$0.27") && out.contains("-$0.22") && out.contains("-80%"),
        "{out}"
    );
    let md = w.stdout(&[
        "whatif",
        "--cache-ttl",
        "5m",
        "--format",
        "markdown",
        &fixture("api-log/anthropic-messages.jsonl"),
    ]);
    assert!(
        md.contains("| model | requests | cost | scenario | difference | difference % |"),
        "{md}"
    );
}

#[test]
fn a_scenario_is_required_and_flags_are_checked() {
    let w = Workdir::new();
    let log = fixture("api-log/anthropic-messages.jsonl");
    let out = w.run(&["whatif", &log]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("whatif needs a scenario"));
    for bad in [
        vec!["--swap", "opus"],
        vec!["--cache-hit", "140%"],
        vec!["--on", "nowhere"],
        vec!["--self-hosted", "llama:gpu_hour=2"],
    ] {
        let mut args = vec!["whatif"];
        args.extend(bad.iter().copied());
        args.push(&log);
        assert_eq!(w.run(&args).status.code(), Some(2), "{bad:?}");
    }
}
