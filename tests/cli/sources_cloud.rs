//! The cloud importers (`bedrock`, `gcp-billing`, `azure-cost`) and the provider-scoped, regional price
//! tables they rely on. Costs are worked out by hand from `pricing/bedrock.toml` (Bedrock records),
//! `pricing/google.toml` and `pricing/openai.toml` (GCP and Azure fall back to the first-party tables);
//! the token numbers are in `fixtures/{bedrock,gcp-billing,azure-cost}/README.md`.

use crate::backends::on_each_backend;
use crate::errors::assert_each_rejected;
use crate::{fixture, money, row, Workdir};

#[test]
fn bedrock_global_is_cheaper_than_regional() {
    let w = Workdir::new();
    let r = w.json(&[
        "report",
        &fixture("bedrock/invocations.jsonl"),
        "--by",
        "provider,model",
    ]);
    // claude-sonnet-4-5 (bedrock.toml: $3 in, $0.30 read, $3.75 5m write, $15 out; global ×1, else ×1.1):
    //   line 1, global.: 10_000 × 3 + 50_000 × 0.30 + 2_000 × 3.75 + 1_000 × 15 = 67_500 µ$ = $0.0675
    //   line 2, us.:     $0.0675 × 1.1                                              = $0.07425
    //   line 8 repeats line 1's requestId (not counted); line 9 is a throttled request (no tokens)
    //   = $0.14175
    let sonnet = row(&r, "model", "claude-sonnet-4-5");
    assert_eq!(sonnet["provider"], "bedrock");
    assert_eq!(money(&sonnet["cost"]), "0.14175");
    assert_eq!(sonnet["failed_requests"], 1);
    // claude-sonnet-4 through an inference-profile ARN (same price everywhere): 20_000 × 3 + 2_000 × 15
    assert_eq!(money(&row(&r, "model", "claude-sonnet-4")["cost"]), "0.09");
    // claude-haiku-4-5, plain id invoked in eu-west-1 (in-region: the `*` +10%):
    //   (100_000 × 1 + 10_000 × 5) × 1.1 = 165_000 µ$
    assert_eq!(
        money(&row(&r, "model", "claude-haiku-4-5")["cost"]),
        "0.165"
    );
    // nova-pro, eu. profile, its own EU rates ($1.05 in, $0.2625 read, $4.20 out):
    //   200_000 × 1.05 + 100_000 × 0.2625 + 20_000 × 4.20 = 210_000 + 26_250 + 84_000 = 320_250 µ$
    assert_eq!(money(&row(&r, "model", "nova-pro")["cost"]), "0.32025");
    // llama3-3-70b-instruct: 50_000 × 0.72 + 5_000 × 0.72 = 39_600 µ$
    assert_eq!(
        money(&row(&r, "model", "llama3-3-70b-instruct")["cost"]),
        "0.0396"
    );
    assert_eq!(money(&r["total"]["cost"]), "0.7566");
    // nova-premier has US rates only: the eu-west-1 request is unpriced, with the region named
    let unpriced = r["unpriced"].as_array().unwrap();
    assert_eq!(unpriced.len(), 1, "{unpriced:?}");
    assert_eq!(unpriced[0]["model"], "nova-premier");
    assert_eq!(unpriced[0]["reason"], "no rate for region 'eu-west-1'");
}

#[test]
fn bedrock_attribution_and_every_delivery_shape() {
    on_each_backend(|w, _| {
        let out = w.stdout(&[
            "import",
            &fixture("bedrock/invocations.jsonl"),
            &fixture("bedrock/cloudwatch-export.jsonl"),
            &fixture("bedrock/s3-object.json"),
        ]);
        // invocations: 9 lines, one repeated requestId; CloudWatch: 2 wrapped records, one already imported
        assert!(out.contains("added 8, 1 duplicate"), "{out}");
        assert!(out.contains("added 1, 1 duplicate"), "{out}");
        let r = w.json(&["report", "--by", "team"]);
        // search: $0.14175 (sonnet-4-5); billing: $0.09; research: $0.0396 + opus-4-5 (S3 object, global:
        //   1_000 × 5 + 1_000 × 25 = $0.03) = $0.0696;
        // support: $0.165 + $0.32025 + us. haiku-4-5 from CloudWatch ((10_000 × 1 + 1_000 × 5) × 1.1 = $0.0165)
        assert_eq!(money(&row(&r, "team", "search")["cost"]), "0.14175");
        assert_eq!(money(&row(&r, "team", "billing")["cost"]), "0.09");
        assert_eq!(money(&row(&r, "team", "research")["cost"]), "0.0696");
        assert_eq!(money(&row(&r, "team", "support")["cost"]), "0.50175");
        let r = w.json(&["report", "--by", "project,user"]);
        let rows = r["rows"].as_array().unwrap();
        assert!(rows
            .iter()
            .any(|x| x["project"] == "ranker" && money(&x["cost"]) == "0.14175"));
        assert!(rows.iter().any(|x| x["user"] == "u-7"));
        // requestMetadata keys are tags
        let r = w.json(&["report", "--by", "tag:env"]);
        assert_eq!(money(&row(&r, "tag:env", "prod")["cost"]), "0.14175");
    });
}

#[test]
fn pricing_show_takes_a_provider() {
    let w = Workdir::new();
    let out = w.stdout(&[
        "pricing",
        "show",
        "--provider",
        "bedrock",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    ]);
    assert!(out.contains("→ claude-sonnet-4-5 (bedrock)"), "{out}");
    assert!(out.contains("region global: 1 ×"), "{out}");
    assert!(out.contains("region *: 1.1 ×"), "{out}");
    let out = w.stdout(&["pricing", "show", "--provider", "azure", "gpt-4o-0513"]);
    assert!(out.contains("→ gpt-4o-2024-05-13 (openai)"), "{out}");
    let bad = w.run(&["pricing", "show", "--provider", "aws-nope", "gpt-4o"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn gcp_billing_net_of_credits_and_ai_rows_only() {
    let w = Workdir::new();
    let r = w.json(&[
        "report",
        &fixture("gcp-billing/billing-export.csv"),
        "--by",
        "provider,model",
    ]);
    // gemini-2.5-pro ($1.25 in, $10 out; an hourly row is many requests: never the long-context rate):
    //   2_000_000 × 1.25 + 300_000 × 10 = $2.50 + $3.00 = $5.50; the cache-storage row has no tokens.
    //   reported (net of credits): (2.50 − 0.50) + 3.00 + 0.10 = $5.10
    let pro = row(&r, "model", "gemini-2.5-pro");
    assert_eq!(pro["provider"], "google");
    assert_eq!(money(&pro["cost"]), "5.5");
    assert_eq!(money(&pro["reported_cost"]), "5.1");
    assert_eq!(pro["requests"], 0);
    // gemini-2.5-flash output: 500_000 × $2.50/M = $1.25 (reported 1.25, no credits)
    assert_eq!(money(&row(&r, "model", "gemini-2.5-flash")["cost"]), "1.25");
    // the Compute Engine row is not AI spend: skipped, not an error
    assert_eq!(r["rows"].as_array().unwrap().len(), 2);
    assert_eq!(money(&r["total"]["cost"]), "6.75");
    let r = w.json(&[
        "report",
        &fixture("gcp-billing/billing-export.csv"),
        "--by",
        "team",
    ]);
    assert_eq!(money(&row(&r, "team", "search")["cost"]), "5.5");
    // JSON rows with nested objects: flash input 1_000_000 × $0.30/M = $0.30; net 0.30 − 0.05 = 0.25
    let r = w.json(&["report", &fixture("gcp-billing/billing-export.jsonl")]);
    let flash = row(&r, "model", "gemini-2.5-flash");
    assert_eq!(money(&flash["cost"]), "0.3");
    assert_eq!(money(&flash["reported_cost"]), "0.25");
}

#[test]
fn azure_deployments_map_through_the_config() {
    let w = Workdir::new();
    let csv = fixture("azure-cost/cost-export-mca.csv");
    // Without a mapping the deployments are unpriced (listed, never $0); the meter-only row resolves:
    // gpt-4o-mini cached input: 4 × 1M = 4_000_000 × $0.075/M = $0.30
    let r = w.json(&["report", &csv]);
    assert_eq!(money(&row(&r, "model", "gpt-4o-mini")["cost"]), "0.3");
    let unpriced: Vec<&str> = r["unpriced"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["model"].as_str().unwrap())
        .collect();
    assert_eq!(unpriced, ["chat-experimental", "prod-gpt4o"]);
    w.write(
        "aispend.toml",
        "[azure]\ndeployments = { \"prod-gpt4o\" = \"gpt-4o\", \"chat-experimental\" = \"gpt-4.1\" }\n",
    );
    let r = w.json(&["report", &csv, "--by", "model,team"]);
    // prod-gpt4o → gpt-4o: 1500 × 1K = 1_500_000 × $2.50/M + 200 × 1K = 200_000 × $10/M = $3.75 + $2 = $5.75
    let gpt4o = row(&r, "model", "gpt-4o");
    assert_eq!(gpt4o["team"], "search");
    assert_eq!(money(&gpt4o["cost"]), "5.75");
    assert_eq!(money(&gpt4o["reported_cost"]), "5.75");
    // chat-experimental → gpt-4.1: 100 × 1K = 100_000 × $2/M = $0.20
    assert_eq!(money(&row(&r, "model", "gpt-4.1")["cost"]), "0.2");
    assert_eq!(r["unpriced"].as_array().unwrap().len(), 0);
    // the Virtual Machines row is not AI spend
    assert_eq!(money(&r["total"]["cost"]), "6.25");
    let out = w.stdout(&["pricing", "show", "--provider", "azure", "prod-gpt4o"]);
    assert!(
        out.contains("Azure deployment 'prod-gpt4o' runs 'gpt-4o'"),
        "{out}"
    );
    // EA export (Cost, MM/DD/YYYY, EUR): the eu-mini deployment, mapped by a second config file
    let cfg = w.write(
        "other.toml",
        "[azure]\ndeployments = { \"eu-mini\" = \"gpt-4o-mini\" }\n",
    );
    let r = w.json(&[
        "--config",
        cfg.to_str().unwrap(),
        "report",
        &fixture("azure-cost/cost-export-ea.csv"),
    ]);
    // 2000 × 1K = 2_000_000 × $0.15/M = $0.30 at OpenAI's (Global) rate; the meter is a Data Zone
    // one (`DZ`): 1.1 × $0.30 = $0.33 computed; the 0.33 billed is in EUR, not in the USD reported cost
    let mini = row(&r, "model", "gpt-4o-mini");
    assert_eq!(money(&mini["cost"]), "0.33");
    assert_eq!(mini["reported_cost"], serde_json::Value::Null);
    assert_eq!(r["period"]["start"], "2026-10-01T00:00:00Z");
}

/// Reported costs add up in USD only: an export's EUR line is left out of `reported_cost` (the record
/// keeps its amount and currency), and the report says so on standard error, each run alike.
#[test]
fn reported_costs_in_another_currency_are_left_out_with_a_warning() {
    let w = Workdir::new();
    let csv = fixture("azure-cost/cost-export-two-currencies.csv");
    for run in ["cold cache", "warm cache"] {
        let out = w.run(&["report", &csv, "--format", "json"]);
        assert!(out.status.success(), "{run}: {out:?}");
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        // computed: 2_000_000 input × $0.15/M on a Data Zone meter (× 1.1) + 1_000_000 output × $0.60/M
        // on a Global one = $0.33 + $0.60 = $0.93; reported: the USD line's 0.6 only (the EUR line's
        // 0.33 is not added)
        assert_eq!(money(&r["total"]["cost"]), "0.93", "{run}");
        assert_eq!(money(&r["total"]["reported_cost"]), "0.6", "{run}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(
                "warning: 1 record carries a provider-reported cost in EUR: it is not in \
                 reported_cost, which is in USD"
            ),
            "{run}: {stderr}"
        );
    }
    let quiet = w.run(&["-q", "report", &csv]);
    assert!(quiet.status.success());
    assert!(quiet.stderr.is_empty(), "{quiet:?}");
    // Reconciliation: the EUR amount is not invoiced in USD either
    let rec = w.json(&["report", &csv, "--reconcile"]);
    assert_eq!(money(&rec["rows"][0]["invoiced"]), "0.6", "{rec:#}");
    // The ledger keeps the record as billed.
    w.stdout(&["import", &csv]);
    let export = w.stdout(&["ledger", "export", "--format", "csv"]);
    assert!(export.contains(",0.33,EUR,"), "{export}");
}

#[test]
fn config_rejects_unknown_azure_keys() {
    let w = Workdir::new();
    w.write("aispend.toml", "[azure]\ndeployment = { a = \"gpt-4o\" }\n");
    let out = w.run(&["pricing", "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("deployment"));
}

#[test]
fn broken_cloud_exports_name_file_line_field_and_write_nothing() {
    on_each_backend(|w, _| {
        w.stdout(&["import", &fixture("bedrock/s3-object.json")]);
        assert_each_rejected(
            w,
            &[
                (
                    "bedrock/broken/bad-tokens.jsonl",
                    ":2: field 'output.outputTokenCount': invalid type: string \"many\", expected a non-negative integer",
                ),
                (
                    "gcp-billing/broken/bad-cost.csv",
                    ":3: field 'cost': not a decimal number: \"3.0O\"",
                ),
                (
                    "azure-cost/broken/bad-quantity.csv",
                    ":4: field 'Quantity': not a decimal number: \"four\"",
                ),
            ],
            &["report"],
        );
    });
}

#[test]
fn cloud_fixtures_are_detected_by_their_own_importer_only() {
    let w = Workdir::new();
    for (file, source) in [
        ("bedrock/invocations.jsonl", "bedrock"),
        ("bedrock/s3-object.json", "bedrock"),
        ("bedrock/cloudwatch-export.jsonl", "bedrock"),
        ("gcp-billing/billing-export.csv", "gcp-billing"),
        ("gcp-billing/billing-export.jsonl", "gcp-billing"),
        ("azure-cost/cost-export-mca.csv", "azure-cost"),
        ("azure-cost/cost-export-ea.csv", "azure-cost"),
    ] {
        let out = w.stdout(&["import", "--dry-run", &fixture(file)]);
        assert!(
            out.contains(&format!(": {source} would add")),
            "{file}: {out}"
        );
    }
    // and the other fixtures keep their importers
    for (file, source) in [
        ("api-log/anthropic-messages.jsonl", "api-log"),
        ("openai-usage/page-2026.json", "openai-usage"),
        ("anthropic-usage/report.json", "anthropic-usage"),
    ] {
        let out = w.stdout(&["import", "--dry-run", &fixture(file)]);
        assert!(
            out.contains(&format!(": {source} would add")),
            "{file}: {out}"
        );
    }
}

#[test]
fn claude_on_vertex_at_a_regional_endpoint_costs_a_tenth_more() {
    let w = Workdir::new();
    let header = "billing_account_id,service.id,service.description,sku.id,sku.description,usage_start_time,usage_end_time,project.id,project.name,labels,location.region,cost,currency,usage.amount,usage.unit,credits,invoice.month,cost_type\n";
    let row_of = |sku: &str, region: &str, cost: &str, tokens: &str| {
        format!("01A2B3-C4D5E6-F7A8B9,C7E2-9256-1C43,Vertex AI,A1,{sku},2026-10-05 00:00:00 UTC,2026-10-05 01:00:00 UTC,p1,P1,[],{region},{cost},USD,{tokens},tokens,[],202610,regular\n")
    };
    let csv = w.write(
        "vertex-claude.csv",
        &[
            header.to_string(),
            row_of("Claude Sonnet 4.5 Input Tokens", "global", "3", "1000000"),
            row_of(
                "Claude Sonnet 4.5 Input Tokens",
                "us-east5",
                "3.3",
                "1000000",
            ),
            row_of(
                "Claude Sonnet 4.5 Output Tokens",
                "us-east5",
                "1.65",
                "100000",
            ),
        ]
        .concat(),
    );
    let r = w.json(&["report", "--by", "provider,model", csv.to_str().unwrap()]);
    // Sonnet 4.5: global 1,000,000 × $3/M = $3; us-east5 1.1 × (1,000,000 × $3/M + 100,000 × $15/M)
    // = 1.1 × $4.50 = $4.95; total $7.95, what Vertex billed (3 + 3.3 + 1.65).
    let sonnet = row(&r, "model", "claude-sonnet-4-5");
    assert_eq!(sonnet["provider"], "google");
    assert_eq!(money(&sonnet["cost"]), "7.95");
    assert_eq!(money(&sonnet["reported_cost"]), "7.95");
}
