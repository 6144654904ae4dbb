//! `aispend ledger export`: one row per record, priced, as csv, jsonl and FOCUS 1.2; from the ledger and
//! from PATHs alike.

use std::collections::HashMap;

use serde_json::Value;

use crate::backends::on_each_backend;
use crate::{fixture, Workdir};

const CSV_HEADER: &str = "id,source,provider,model,canonical_model,start,end,service_tier,batch,region,\
long_context,team,project,user,api_key,workspace,billing_account,billing_account_name,tags,input_tokens,cache_read_tokens,cache_write_5m_tokens,\
cache_write_1h_tokens,output_tokens,reasoning_tokens,audio_input_tokens,audio_output_tokens,image_input_tokens,\
image_output_tokens,web_search_requests,images,seconds,requests,cost,price_source,unpriced_reason,reported_cost,\
reported_currency,status,failed,latency_ms,file,line,web_fetch_requests,file_search_calls,code_execution_calls,grounded_prompts,tool_fees,\
cache_read_audio_tokens,web_search_preview_calls";

/// CSV text → header and rows as column → value maps.
fn parse_csv(text: &str) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.expect("csv row");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_string))
                .collect()
        })
        .collect();
    (header, rows)
}

fn by_id<'a>(
    rows: &'a [HashMap<String, String>],
    key: &str,
    id: &str,
) -> &'a HashMap<String, String> {
    rows.iter()
        .find(|r| r[key] == id)
        .unwrap_or_else(|| panic!("no row with {key}={id}"))
}

fn both_logs() -> [String; 2] {
    [
        fixture("api-log/anthropic-messages.jsonl"),
        fixture("api-log/unknown-model.jsonl"),
    ]
}

const HAIKU: &str = "anthropic:msg_01FxAnthropic0000000003";
const UNKNOWN: &str = "openai:chatcmpl-CRa1Fx0102unknownmodelffffffff";

#[test]
fn csv_has_every_field_of_a_record() {
    let w = Workdir::new();
    let [a, u] = both_logs();
    let out = w.stdout(&["ledger", "export", "--format", "csv", &a, &u]);
    assert_eq!(out.lines().next().unwrap(), CSV_HEADER);
    let (_, rows) = parse_csv(&out);
    assert_eq!(rows.len(), 9, "6 Anthropic messages + 3 OpenAI responses");

    // Line 3 of anthropic-messages.jsonl, claude-haiku-4-5 ($1 in, $0.10 read, $1.25 5m write, $2 1h
    // write, $5 out per million):
    //   100 × 1 + 10_000 × 0.10 + 2_000 × 1.25 + 4_000 × 2 + 400 × 5 = 13_600 µ$ = $0.0136
    let h = by_id(&rows, "id", HAIKU);
    let expected = [
        ("source", "api-log"),
        ("provider", "anthropic"),
        ("model", "claude-haiku-4-5-20251001"),
        ("canonical_model", "claude-haiku-4-5"),
        ("start", "2026-10-07T08:10:00Z"),
        ("end", ""),
        ("service_tier", "standard"),
        ("batch", "false"),
        ("region", ""),
        // priced, and not by the long-context tier (claude-haiku-4-5 has none)
        ("long_context", "false"),
        ("team", "support"),
        ("project", "ticket-triage"),
        ("user", "u-4003"),
        ("api_key", ""),
        ("workspace", ""),
        ("billing_account", ""),
        ("billing_account_name", ""),
        ("tags", r#"{"env":"prod"}"#),
        ("input_tokens", "100"),
        ("cache_read_tokens", "10000"),
        ("cache_write_5m_tokens", "2000"),
        ("cache_write_1h_tokens", "4000"),
        ("output_tokens", "400"),
        ("reasoning_tokens", "0"),
        ("audio_input_tokens", "0"),
        ("audio_output_tokens", "0"),
        ("image_input_tokens", "0"),
        ("image_output_tokens", "0"),
        ("web_search_requests", "0"),
        ("images", "0"),
        ("seconds", "0"),
        ("requests", "1"),
        ("cost", "0.0136"),
        ("price_source", "table"),
        ("unpriced_reason", ""),
        ("reported_cost", ""),
        ("reported_currency", ""),
        ("status", "200"),
        ("failed", "false"),
        ("latency_ms", "1800"),
        ("file", a.as_str()),
        ("line", "3"),
        ("web_fetch_requests", "0"),
        ("file_search_calls", "0"),
        ("code_execution_calls", "0"),
        ("grounded_prompts", "0"),
        ("tool_fees", "0"),
    ];
    for (field, value) in expected {
        assert_eq!(h[field], value, "field {field}");
    }

    // gpt-9-preview has no price: no canonical model, empty cost, the reason. prompt_tokens 2_000
    // includes cached 500 → 1_500 uncached.
    let x = by_id(&rows, "id", UNKNOWN);
    assert_eq!(x["model"], "gpt-9-preview");
    assert_eq!(x["canonical_model"], "");
    assert_eq!(x["cost"], "");
    assert_eq!(x["unpriced_reason"], "no price table entry");
    assert_eq!(x["input_tokens"], "1500");
    assert_eq!(x["cache_read_tokens"], "500");

    // The rows add up to the report's total: 1.58535 + 0.0136 + 0.27075 + 0.03 = $1.8997 (Anthropic),
    // plus gpt-4o 1_000 × 2.50 + 100 × 10 = $0.0035.
    let sum: rust_decimal::Decimal = rows
        .iter()
        .filter(|r| !r["cost"].is_empty())
        .map(|r| r["cost"].parse::<rust_decimal::Decimal>().unwrap())
        .sum();
    assert_eq!(sum.normalize().to_string(), "1.9032");
}

#[test]
fn unpriced_records_are_announced_on_stderr() {
    let w = Workdir::new();
    let out = w.run(&["ledger", "export", &fixture("api-log/unknown-model.jsonl")]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2 of 3 exported record(s) have no price"),
        "{err}"
    );
}

#[test]
fn jsonl_is_one_object_per_line_with_string_money() {
    let w = Workdir::new();
    let [a, u] = both_logs();
    let out = w.stdout(&["ledger", "export", "--format", "jsonl", &a, &u]);
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(rows.len(), 9);
    let h = rows.iter().find(|r| r["id"] == HAIKU).unwrap();
    // The csv's columns as keys, in the same order; the same values, typed.
    assert_eq!(h.as_object().unwrap().len(), CSV_HEADER.split(',').count());
    let line = out.lines().find(|l| l.contains(HAIKU)).unwrap();
    let positions: Vec<usize> = CSV_HEADER
        .split(',')
        .map(|k| {
            line.find(&format!("\"{k}\":"))
                .unwrap_or_else(|| panic!("{k}"))
        })
        .collect();
    assert!(positions.windows(2).all(|p| p[0] < p[1]), "{line}");
    // Same $0.0136 as the csv test, as a decimal string.
    assert_eq!(h["cost"], "0.0136");
    assert_eq!(h["canonical_model"], "claude-haiku-4-5");
    assert_eq!(h["start"], "2026-10-07T08:10:00Z");
    assert_eq!(h["end"], Value::Null);
    assert_eq!(h["team"], "support");
    assert_eq!(h["tags"], serde_json::json!({"env": "prod"}));
    assert_eq!(h["input_tokens"], 100);
    assert_eq!(h["cache_read_tokens"], 10_000);
    assert_eq!(h["cache_write_5m_tokens"], 2_000);
    assert_eq!(h["cache_write_1h_tokens"], 4_000);
    assert_eq!(h["output_tokens"], 400);
    assert_eq!(h["requests"], 1);
    assert_eq!(h["batch"], false);
    assert_eq!(h["status"], 200);
    assert_eq!(h["latency_ms"], 1_800);
    assert_eq!(h["reported_cost"], Value::Null);
    assert_eq!(h["long_context"], false);
    assert_eq!(h["tool_fees"], "0");
    assert_eq!(h["line"], 3);
    let x = rows.iter().find(|r| r["id"] == UNKNOWN).unwrap();
    assert_eq!(x["cost"], Value::Null);
    assert_eq!(x["canonical_model"], Value::Null);
    assert_eq!(x["unpriced_reason"], "no price table entry");
}

/// The FOCUS 1.2 columns of the reference list: (name, type, whether null is allowed).
fn focus_reference() -> Vec<(String, String, bool)> {
    let reference = std::fs::read_to_string(fixture("export/focus-1.2-columns.txt")).unwrap();
    reference
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let nullable = match cells[3] {
                "null: True" => true,
                "null: False" => false,
                other => panic!("{other}"),
            };
            (cells[0].to_string(), cells[2].to_string(), nullable)
        })
        .collect()
}

const ANTHROPIC_ACCOUNT: &str =
    "[focus.billing_accounts]\nanthropic = { id = \"ant-org-1\", name = \"Acme\" }\n";

#[test]
fn focus_has_the_focus_columns_then_extras() {
    let w = Workdir::new();
    w.write("aispend.toml", ANTHROPIC_ACCOUNT);
    let [a, u] = both_logs();
    let out = w.run(&["ledger", "export", "--format", "focus", &a, &u]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let (header, rows) = parse_csv(&text);
    let columns: Vec<String> = focus_reference().into_iter().map(|c| c.0).collect();
    assert_eq!(columns.len(), 57);
    assert_eq!(&header[..columns.len()], columns.as_slice());
    assert!(header[columns.len()..].iter().all(|c| c.starts_with("x_")));
    // The two gpt-9-preview records have no price: left out, and said so.
    assert_eq!(rows.len(), 7);
    assert!(rows.iter().all(|r| r["x_RecordId"] != UNKNOWN));
    assert!(
        err.contains("2 record(s) with usage but no price are left out of the FOCUS export"),
        "{err}"
    );
    assert!(err.contains("--unpriced zero"), "{err}");
    // No source names an OpenAI account and the config has none: the provider's name, and a warning.
    assert!(
        err.contains("1 FOCUS row(s) of openai name no billing account"),
        "{err}"
    );

    // Priced: claude-haiku-4-5, $0.0136 (see the csv test); no reported cost, so billed = computed.
    let h = by_id(&rows, "x_RecordId", HAIKU);
    for (column, value) in [
        ("BilledCost", "0.0136"),
        ("EffectiveCost", "0.0136"),
        ("ListCost", "0.0136"),
        ("ContractedCost", "0.0136"),
        ("PricingCurrencyEffectiveCost", "0.0136"),
        ("BillingAccountId", "ant-org-1"),
        ("BillingAccountName", "Acme"),
        ("BillingCurrency", "USD"),
        ("PricingCurrency", "USD"),
        ("BillingPeriodStart", "2026-10-01T00:00:00Z"),
        ("BillingPeriodEnd", "2026-11-01T00:00:00Z"),
        ("ChargePeriodStart", "2026-10-07T08:10:00Z"),
        ("ChargePeriodEnd", "2026-10-07T08:10:01Z"),
        ("ChargeCategory", "Usage"),
        ("ChargeClass", ""),
        ("ChargeFrequency", "Usage-Based"),
        // 100 + 10_000 + 2_000 + 4_000 + 400, as a decimal
        ("ConsumedQuantity", "16500.0"),
        ("ConsumedUnit", "Tokens"),
        ("PricingQuantity", "16500.0"),
        ("PricingUnit", "Tokens"),
        ("ServiceName", "Anthropic API"),
        ("ServiceCategory", "AI and Machine Learning"),
        ("ServiceSubcategory", "Generative AI"),
        ("ProviderName", "Anthropic"),
        ("PublisherName", "Anthropic"),
        ("InvoiceIssuerName", "Anthropic"),
        ("SkuId", "claude-haiku-4-5"),
        ("SkuPriceId", "claude-haiku-4-5"),
        (
            "SkuMeter",
            "Input tokens, Cache read tokens, Cache write tokens (5m), Cache write tokens (1h), Output tokens",
        ),
        ("SubAccountId", "ticket-triage"),
        ("SubAccountType", "Project"),
        ("ResourceId", "claude-haiku-4-5-20251001"),
        ("ResourceType", "Model"),
        ("Tags", r#"{"env":"prod","team":"support"}"#),
        ("x_Team", "support"),
        ("x_User", "u-4003"),
        ("x_Source", "api-log"),
        ("x_CacheWrite1hTokens", "4000"),
        ("x_Unpriced", "false"),
        ("x_UnpricedReason", ""),
    ] {
        assert_eq!(h[column], value, "column {column}");
    }
    assert!(
        h["ChargeDescription"]
            .starts_with("claude-haiku-4-5 on Anthropic API: 1 request, 16500 tokens"),
        "{}",
        h["ChargeDescription"]
    );
    let openai = rows.iter().find(|r| r["x_Provider"] == "openai").unwrap();
    assert_eq!(openai["BillingAccountId"], "openai");
    assert_eq!(openai["BillingAccountName"], "");

    // `--unpriced zero`: the unpriced records are in, every cost 0, marked, with the reason.
    let out = w.run(&[
        "ledger",
        "export",
        "--format",
        "focus",
        "--unpriced",
        "zero",
        &a,
        &u,
    ]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2 of 9 exported record(s) have no price"),
        "{err}"
    );
    let (_, rows) = parse_csv(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(rows.len(), 9);
    let x = by_id(&rows, "x_RecordId", UNKNOWN);
    for (column, value) in [
        ("BilledCost", "0.0"),
        ("EffectiveCost", "0.0"),
        ("ListCost", "0.0"),
        ("ContractedCost", "0.0"),
        ("PricingCurrencyEffectiveCost", "0.0"),
        ("SkuId", ""),
        ("SkuMeter", ""),
        ("ServiceName", "OpenAI API"),
        ("ProviderName", "OpenAI"),
        // 1_500 uncached + 500 cached + 200 output
        ("ConsumedQuantity", "2200.0"),
        ("x_ComputedCost", ""),
        ("x_Unpriced", "true"),
        ("x_UnpricedReason", "no price table entry"),
    ] {
        assert_eq!(x[column], value, "column {column}");
    }
    assert_eq!(by_id(&rows, "x_RecordId", HAIKU)["x_Unpriced"], "false");

    // `--unpriced` is about FOCUS: csv and jsonl keep unpriced records with an empty cost.
    let out = w.run(&["ledger", "export", "--unpriced", "zero", &a]);
    assert_eq!(out.status.code(), Some(2));
}

/// What the FOCUS validator checks first, checked here without it: every FOCUS column holds values of
/// its type (decimals written with a decimal point, so that readers inferring types from CSV text see
/// decimals), and no column that FOCUS says is never null is empty on any row, whatever the source.
#[test]
fn focus_rows_keep_the_types_and_non_null_rules_of_focus() {
    let w = Workdir::new();
    w.write(
        "aispend.toml",
        "[focus.billing_accounts]\nopenai = { id = \"org-1\" }\nanthropic = { id = \"ant-1\" }\n\
         openrouter = { id = \"or-1\" }\ngoogle = { id = \"g-1\" }\nother = { id = \"x-1\" }\n",
    );
    let dirs = [
        "api-log/anthropic-messages.jsonl",
        "api-log/openai-chat.jsonl",
        "api-log/openai-responses.jsonl",
        "api-log/gemini.jsonl",
        "api-log/failed.jsonl",
        "api-log/unknown-model.jsonl",
        "anthropic-usage/report.json",
        "anthropic-cost/cost-report.json",
        "openai-usage/page-2026.json",
        "openai-costs/costs-page.json",
        "openai-csv/cost_2026-10-04_2026-10-06.csv",
        "claude-code/projects",
        "gcp-billing/billing-export.csv",
        "bedrock/invocations.jsonl",
        "azure-cost/cost-export-mca.csv",
        "openrouter/generations.jsonl",
        "openrouter/activity-2026-10-09.json",
        "litellm/spend-logs.csv",
    ];
    let paths: Vec<String> = dirs.iter().map(|d| fixture(d)).collect();
    for unpriced in ["omit", "zero"] {
        let mut args = vec![
            "ledger",
            "export",
            "--format",
            "focus",
            "--unpriced",
            unpriced,
        ];
        args.extend(paths.iter().map(String::as_str));
        let out = w.run(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (_, rows) = parse_csv(&String::from_utf8(out.stdout).unwrap());
        assert!(rows.len() > 50, "{}", rows.len());
        let unpriced_rows = rows.iter().filter(|r| r["x_Unpriced"] == "true").count();
        match unpriced {
            "omit" => assert_eq!(unpriced_rows, 0),
            _ => assert!(unpriced_rows > 0),
        }
        for (column, kind, nullable) in focus_reference() {
            for r in &rows {
                let v = &r[&column];
                let at = || format!("{column} = {v:?} in {}", r["x_RecordId"]);
                if v.is_empty() {
                    assert!(nullable, "{} is null", at());
                    continue;
                }
                match kind.as_str() {
                    "Decimal" => {
                        assert!(v.parse::<rust_decimal::Decimal>().is_ok(), "{}", at());
                        assert!(v.contains('.') && !v.contains('e'), "{}", at());
                    }
                    "Date/Time" => {
                        let t = chrono::DateTime::parse_from_rfc3339(v);
                        assert!(t.is_ok() && v.ends_with('Z'), "{}", at());
                    }
                    "JSON" => assert!(
                        serde_json::from_str::<Value>(v).is_ok_and(|j| j.is_object()),
                        "{}",
                        at()
                    ),
                    "String" => {}
                    other => panic!("type {other}"),
                }
            }
        }
        // Period bounds in order, and the ISO currency code.
        for r in &rows {
            assert!(r["ChargePeriodStart"] < r["ChargePeriodEnd"]);
            assert!(r["BillingPeriodStart"] <= r["ChargePeriodStart"]);
            assert!(r["ChargePeriodStart"] < r["BillingPeriodEnd"]);
            assert_eq!(r["BillingCurrency"], "USD");
            // SkuMeter names what SkuId measures: set exactly when SkuId is.
            assert_eq!(r["SkuId"].is_empty(), r["SkuMeter"].is_empty(), "{r:?}");
        }
    }
}

#[test]
fn focus_billed_cost_is_the_reported_cost() {
    let w = Workdir::new();
    // gcp-billing row 1: gemini-2.5-pro 2_000_000 input × $1.25/M = $2.50 computed (list); the export
    // says cost 2.50 with a -0.50 credit, so $2 was billed.
    let out = w.stdout(&[
        "ledger",
        "export",
        "--format",
        "focus",
        "--where",
        "model=gemini-2.5-pro",
        &fixture("gcp-billing/billing-export.csv"),
    ]);
    let (_, rows) = parse_csv(&out);
    let r = rows
        .iter()
        .find(|r| r["x_ReportedCost"] == "2")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(r["ListCost"], "2.5");
    assert_eq!(r["ContractedCost"], "2.5");
    assert_eq!(r["BilledCost"], "2.0");
    assert_eq!(r["EffectiveCost"], "2.0");
    // The Google Cloud billing account of the row.
    assert_eq!(r["BillingAccountId"], "01A2B3-C4D5E6-F7A8B9");
    assert_eq!(r["ServiceName"], "Vertex AI");
    assert_eq!(r["ProviderName"], "Google");
}

/// Rows of an export, sorted (the ledger is read in time order, PATHs in file order).
fn sorted_rows(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

#[test]
fn export_from_the_ledger_equals_export_from_paths() {
    on_each_backend(|w, _| {
        let paths = [
            fixture("api-log/anthropic-messages.jsonl"),
            fixture("api-log/unknown-model.jsonl"),
            fixture("api-log/failed.jsonl"),
            // Streaming partials (keep the largest, across files) and bucketed pages (keep the largest).
            fixture("claude-code/projects"),
            fixture("openai-usage/page-2026.json"),
            fixture("anthropic-usage/report.json"),
            // Billing accounts: the Google Cloud billing account, the AWS account.
            fixture("gcp-billing/billing-export.csv"),
            fixture("bedrock/invocations.jsonl"),
        ];
        let mut import = vec!["import"];
        import.extend(paths.iter().map(String::as_str));
        w.stdout(&import);
        for format in ["csv", "jsonl", "focus"] {
            let from_ledger = w.stdout(&["ledger", "export", "--format", format]);
            let mut args = vec!["ledger", "export", "--format", format];
            args.extend(paths.iter().map(String::as_str));
            let direct = w.stdout(&args);
            assert_eq!(sorted_rows(&from_ledger), sorted_rows(&direct), "{format}");
            if format == "csv" {
                let (_, rows) = parse_csv(&from_ledger);
                let accounts: std::collections::BTreeSet<(&str, &str)> = rows
                    .iter()
                    .map(|r| (r["provider"].as_str(), r["billing_account"].as_str()))
                    .filter(|(_, a)| !a.is_empty())
                    .collect();
                assert_eq!(
                    accounts.into_iter().collect::<Vec<_>>(),
                    [
                        ("bedrock", "123456789012"),
                        ("google", "01A2B3-C4D5E6-F7A8B9")
                    ]
                );
            }
        }
        // Claude Code: 5 distinct messages; message A is its largest partial only:
        //   3 × 3 + 10_000 × 0.30 + 2_000 × 3.75 + 420 × 15 = 16_809 µ$
        let out = w.stdout(&[
            "ledger",
            "export",
            "--where",
            "source=claude-code",
            &fixture("claude-code/projects"),
        ]);
        let (_, rows) = parse_csv(&out);
        assert_eq!(rows.len(), 5);
        let a = rows
            .iter()
            .find(|r| r["id"].contains("msg_01FxCcStreamA"))
            .unwrap();
        assert_eq!(a["cost"], "0.016809");
        assert_eq!(a["output_tokens"], "420");
        // Standard input cannot be read twice: the largest partials are held back, same rows.
        let file = fixture(
            "claude-code/projects/-home-alice-src-search-api/3f6c2a1e-8b4d-4c2f-9e7a-1d5b6c7e8f90.jsonl",
        );
        let from_file = w.stdout(&["ledger", "export", "--format", "jsonl", &file]);
        let piped = w
            .cmd()
            .args(["ledger", "export", "--format", "jsonl", "-"])
            .write_stdin(std::fs::read(&file).unwrap())
            .output()
            .unwrap();
        assert!(piped.status.success());
        let strip = |text: &str| -> Vec<Value> {
            let mut rows: Vec<Value> = text
                .lines()
                .map(|l| {
                    let mut v: Value = serde_json::from_str(l).unwrap();
                    v.as_object_mut().unwrap().remove("file");
                    v
                })
                .collect();
            rows.sort_by_key(|v| v["id"].as_str().unwrap().to_string());
            rows
        };
        assert_eq!(
            strip(&from_file),
            strip(&String::from_utf8(piped.stdout).unwrap())
        );
    });
}

#[test]
fn where_and_period_filter_rows() {
    on_each_backend(|w, _| {
        let [a, u] = both_logs();
        let ids = |args: &[&str]| -> Vec<String> {
            let mut all = vec!["ledger", "export"];
            all.extend_from_slice(args);
            let (_, rows) = parse_csv(&w.stdout(&all));
            rows.into_iter().map(|r| r["id"].clone()).collect()
        };
        // team=research: lines 5 (opus) and 6 (sonnet-4 batch)
        assert_eq!(ids(&["--where", "team=research", &a, &u]).len(), 2);
        // model is the canonical id (three dated claude-sonnet-4-5 lines), or the name as reported
        assert_eq!(
            ids(&["--where", "model=claude-sonnet-4-5", &a, &u]).len(),
            3
        );
        assert_eq!(ids(&["--where", "model=gpt-9-*", &a, &u]).len(), 2);
        // the same dimension twice means either; different dimensions must all hold
        assert_eq!(
            ids(&["--where", "team=research", "--where", "team=search", &a, &u]).len(),
            3
        );
        assert_eq!(
            ids(&["--where", "team=support", "--where", "user=u-4003", &a, &u]),
            vec![HAIKU.to_string()]
        );
        // Periods: Anthropic lines are on 2026-10-07, the OpenAI ones on 2026-10-09.
        assert_eq!(
            ids(&["--since", "2026-10-09", "--until", "2026-10-09", &a, &u]).len(),
            3
        );
        assert_eq!(ids(&["--month", "2026-10", &a, &u]).len(), 9);
        assert!(ids(&["--month", "2026-09", &a, &u]).is_empty());
        // 08:10 UTC on the 7th is still the 7th in Tokyo, 17:10; the 9th 13:01 UTC is 22:01 the 9th.
        assert_eq!(
            ids(&[
                "--since",
                "2026-10-07",
                "--until",
                "2026-10-07",
                "--timezone",
                "Asia/Tokyo",
                &a,
                &u
            ])
            .len(),
            6
        );
        // The same from the ledger (which reads only the period's rows).
        w.stdout(&["import", &a, &u]);
        assert_eq!(
            ids(&["--since", "2026-10-09", "--until", "2026-10-09"]).len(),
            3
        );
        assert_eq!(
            ids(&["--where", "team=research", "--month", "2026-10"]).len(),
            2
        );
        assert_eq!(ids(&[]).len(), 9, "no period flag: every record");
    });
}

#[test]
fn bad_usage_exits_2() {
    let w = Workdir::new();
    w.stdout(&["import", &fixture("api-log/gemini.jsonl")]);
    for args in [
        vec!["ledger", "export", "--format", "xml"],
        vec!["ledger", "export", "--where", "colour=blue"],
        vec!["ledger", "export", "--month", "2026-13"],
        vec!["ledger", "export", "--skip-invalid"],
    ] {
        let out = w.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn a_closed_pipe_ends_the_export_quietly() {
    let w = Workdir::new();
    // 5_000 records → far more than a pipe buffer holds, so the writer really meets the closed pipe.
    let file = w.many_users_log(5_000);
    w.stdout(&["import", &file.display().to_string()]);
    for args in [
        vec![
            "ledger".to_string(),
            "export".into(),
            "--format".into(),
            "focus".into(),
        ],
        vec![
            "ledger".to_string(),
            "export".into(),
            "--format".into(),
            "jsonl".into(),
            file.display().to_string(),
        ],
    ] {
        // `aispend ledger export … | head -c 16`
        w.assert_closed_pipe_is_quiet(&args);
    }
}

/// Built without the `parquet` feature, `--format parquet` says how to get it: exit 2, nothing written.
#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_without_the_feature_says_how_to_build_it() {
    let w = Workdir::new();
    let out = w.run(&[
        "ledger",
        "export",
        "--format",
        "parquet",
        "--output",
        "focus.parquet",
        &fixture("api-log/openai-chat.jsonl"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("built without Parquet")
            && stderr.contains("cargo install --locked --path . --features parquet"),
        "{stderr}"
    );
    assert!(!w.path().join("focus.parquet").exists());
}
