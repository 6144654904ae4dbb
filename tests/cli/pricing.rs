//! `aispend pricing` and the price tables of the providers beyond the first four: each new provider and
//! open-model host, a fine-tune and moving aliases priced to hand-worked figures; the marked LiteLLM fallback;
//! `pricing update` against a local mock server (wiremock on 127.0.0.1, no other network).

use std::collections::HashMap;

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::{fixture, money, row, Workdir};

/// `report` of October 2026 by provider, with the LiteLLM fallback.
const REPORT_WITH_FALLBACK: [&str; 7] = [
    "report",
    "--month",
    "2026-10",
    "--by",
    "provider",
    "--pricing-fallback",
    "litellm",
];

/// `ledger export --format jsonl` of PATHs, one object per record, keyed by record id.
pub fn export(w: &Workdir, extra: &[&str], file: &str) -> HashMap<String, Value> {
    let mut args = vec!["ledger", "export", "--format", "jsonl"];
    args.extend_from_slice(extra);
    args.push(file);
    by_id(&w.stdout(&args))
}

/// `ledger export --format jsonl` of the records in the ledger, by record id.
pub fn export_ledger(w: &Workdir) -> HashMap<String, Value> {
    by_id(&w.stdout(&["ledger", "export", "--format", "jsonl"]))
}

fn by_id(jsonl: &str) -> HashMap<String, Value> {
    jsonl
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("json line");
            (v["id"].as_str().expect("id").to_string(), v)
        })
        .collect()
}

#[test]
fn every_new_provider_and_host_is_priced_from_its_own_table() {
    let w = Workdir::new();
    let rows = export(&w, &[], &fixture("api-log/providers.jsonl"));
    assert_eq!(rows.len(), 13);
    let check = |id: &str, provider: &str, model: &str, cost: &str| {
        let r = &rows[id];
        assert_eq!(r["provider"], provider, "{id}");
        assert_eq!(r["canonical_model"], model, "{id}");
        assert_eq!(money(&r["cost"]), cost, "{id}: {r}");
        assert_eq!(r["price_source"], "table", "{id}");
    };
    // Mistral, provider from the model name; the alias `mistral-large-latest` on 2026-10-05 is Mistral Large
    // 3 ($0.50 in, $0.05 cached, $1.50 out): 10_000 × 0.5 + 2_000 × 0.05 + 800 × 1.5 = 6_300 µ$ = $0.0063
    check(
        "mistral:cmpl-m1",
        "mistral",
        "mistral-large-latest",
        "0.0063",
    );
    // The same alias on 2025-06-10 still named Mistral Large 2411 ($2 / $6):
    //   10_000 × 2 + 1_000 × 6 = 26_000 µ$ = $0.026
    check(
        "mistral:cmpl-m2",
        "mistral",
        "mistral-large-latest",
        "0.026",
    );
    // DeepSeek reasoner (2025-09-29 prices: miss $0.28, hit $0.028, out $0.42), 40_000 hit + 10_000 miss,
    // 3_000 completion of which 2_200 reasoning, billed as output:
    //   10_000 × 0.28 + 40_000 × 0.028 + 3_000 × 0.42 = 2_800 + 1_120 + 1_260 = 5_180 µ$ = $0.00518
    check("deepseek:ds-1", "deepseek", "deepseek-reasoner", "0.00518");
    assert_eq!(
        (
            &rows["deepseek:ds-1"]["input_tokens"],
            &rows["deepseek:ds-1"]["cache_read_tokens"],
            &rows["deepseek:ds-1"]["reasoning_tokens"]
        ),
        (
            &Value::from(10_000),
            &Value::from(40_000),
            &Value::from(2_200)
        )
    );
    // deepseek-chat on 2025-03-01 (2025-02-09 prices: miss $0.27, hit $0.07, out $1.10):
    //   20_000 × 0.27 + 30_000 × 0.07 + 1_000 × 1.10 = 5_400 + 2_100 + 1_100 = 8_600 µ$ = $0.0086
    check("deepseek:ds-2", "deepseek", "deepseek-chat", "0.0086");
    // xAI counts 1_000 reasoning tokens beside 300 completion tokens (total 2_500 = 1_200 + 300 + 1_000), all
    // output; grok-4.7 $2 in, $0.50 cached, $6 out: 200 × 2 + 1_000 × 0.5 + 1_300 × 6 = 400 + 500 + 7_800
    //   = 8_700 µ$ = $0.0087
    check("xai:xai-1", "xai", "grok-4.7", "0.0087");
    assert_eq!(rows["xai:xai-1"]["output_tokens"], 1_300);
    // 250_000 prompt tokens > 200_000: the whole request at the long-context rates ($4 / $12):
    //   250_000 × 4 + 1_000 × 12 = 1_012_000 µ$ = $1.012
    check("xai:xai-2", "xai", "grok-4.7", "1.012");
    // Cohere v2 bills `billed_units`: 5_000 × $2.50 + 400 × $10 = 12_500 + 4_000 = 16_500 µ$ = $0.0165
    check(
        "cohere:c14c80c3-18eb-4519-9460-6c92edd8cfb4",
        "cohere",
        "command-a-03-2025",
        "0.0165",
    );
    // One open model, four hosts, four prices (100_000 prompt, 20_000 completion):
    // Together $0.15 / $0.60: 100_000 × 0.15 + 20_000 × 0.6 = 15_000 + 12_000 = 27_000 µ$ = $0.027
    check("together:tg-1", "together", "gpt-oss-120b", "0.027");
    // Fireworks (provider from `accounts/fireworks/…`), 40_000 cached at $0.015:
    //   60_000 × 0.15 + 40_000 × 0.015 + 20_000 × 0.6 = 9_000 + 600 + 12_000 = 21_600 µ$ = $0.0216
    check("fireworks:fw-1", "fireworks", "gpt-oss-120b", "0.0216");
    // Groq, cached at $0.075: 60_000 × 0.15 + 40_000 × 0.075 + 20_000 × 0.6 = 9_000 + 3_000 + 12_000
    //   = 24_000 µ$ = $0.024
    check("groq:gq-1", "groq", "gpt-oss-120b", "0.024");
    // DeepInfra $0.037 / $0.17: 100_000 × 0.037 + 20_000 × 0.17 = 3_700 + 3_400 = 7_100 µ$ = $0.0071
    check("deepinfra:di-1", "deepinfra", "gpt-oss-120b", "0.0071");
    // A fine-tune of gpt-4o-2024-08-06 at its fine-tuned rates ($3.75 in, $1.875 cached, $15 out):
    //   12_000 × 3.75 + 8_000 × 1.875 + 2_000 × 15 = 45_000 + 15_000 + 30_000 = 90_000 µ$ = $0.09
    check("openai:chatcmpl-ft1", "openai", "ft:gpt-4o", "0.09");
    // Azure's `gpt-35-turbo` ($0.50 / $1.50): 10_000 × 0.5 + 1_000 × 1.5 = 6_500 µ$ = $0.0065
    check("azure:chatcmpl-az1", "azure", "gpt-35-turbo", "0.0065");
}

#[test]
fn a_host_never_borrows_another_providers_price() {
    let w = Workdir::new();
    let log = w.write(
        "borrow.jsonl",
        concat!(
            r#"{"timestamp":"2026-10-05T10:00:00Z","provider":"groq","response":{"object":"chat.completion","model":"gpt-4o","usage":{"prompt_tokens":10,"completion_tokens":1}}}"#,
            "\n",
            r#"{"timestamp":"2026-10-05T10:00:00Z","provider":"deepseek","response":{"object":"chat.completion","model":"llama-3.3-70b-versatile","usage":{"prompt_tokens":10,"completion_tokens":1}}}"#,
            "\n",
            r#"{"timestamp":"2026-10-05T10:00:00Z","response":{"object":"chat.completion","model":"meta-llama/Llama-3.3-70B-Instruct","usage":{"prompt_tokens":10,"completion_tokens":1}}}"#,
            "\n"
        ),
    );
    let r = w.json(&["report", "--month", "2026-10", log.to_str().unwrap()]);
    // gpt-4o on Groq is not OpenAI's gpt-4o; Groq's Llama is not DeepSeek's; an open model with no host
    // named is nobody's: all three unpriced.
    assert_eq!(r["rows"].as_array().unwrap().len(), 0, "{r:#}");
    let unpriced: Vec<(&str, &str)> = r["unpriced"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["provider"].as_str().unwrap(),
                u["model"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(unpriced.contains(&("groq", "gpt-4o")), "{unpriced:?}");
    assert!(
        unpriced.contains(&("deepseek", "llama-3.3-70b-versatile")),
        "{unpriced:?}"
    );
    assert!(
        unpriced.contains(&("openai", "meta-llama/Llama-3.3-70B-Instruct")),
        "{unpriced:?}"
    );
}

#[test]
fn the_fallback_prices_only_what_no_table_knows_and_says_so() {
    let w = Workdir::new();
    let log = fixture("api-log/fallback.jsonl");
    let month = ["report", "--month", "2026-10", "--by", "provider"];
    // Without the flag: only the gpt-4o-mini record (1M × $0.15 + 1M × $0.60 = $0.75) is priced.
    let mut args = month.to_vec();
    args.push(&log);
    let plain = w.json(&args);
    assert_eq!(money(&plain["total"]["cost"]), "0.75");
    assert_eq!(plain["total"]["price_source"], "table");
    assert_eq!(plain["unpriced"].as_array().unwrap().len(), 3);
    assert!(plain.get("price_fallback").is_none());

    let mut args = REPORT_WITH_FALLBACK.to_vec();
    args.push(&log);
    let r = w.json(&args);
    // gemini-pro-latest from LiteLLM's snapshot ($2 / $0.20 cached / $12; above 200k: $4 / $0.40 / $18):
    //   10_000 × 2 + 1_000 × 12 = 32_000 µ$ = $0.032
    //   300_000 prompt > 200_000: 200_000 × 4 + 100_000 × 0.4 + 2_000 × 18 = 800_000 + 40_000 + 36_000
    //   = 876_000 µ$ = $0.876; together $0.908
    let google = row(&r, "provider", "google");
    assert_eq!(money(&google["cost"]), "0.908");
    assert_eq!(google["price_source"], "litellm");
    assert_eq!(google["fallback_records"], 2);
    // Nemotron Nano 9B v2 on Together ($0.06 / $0.25): 1_000_000 × 0.06 + 100_000 × 0.25 = 85_000 µ$
    let together = row(&r, "provider", "together");
    assert_eq!(money(&together["cost"]), "0.085");
    // total 0.75 + 0.908 + 0.085 = 1.743, of which 0.993 from the fallback
    assert_eq!(money(&r["total"]["cost"]), "1.743");
    assert_eq!(money(&r["total"]["fallback_cost"]), "0.993");
    assert_eq!(r["total"]["price_source"], "table+litellm");
    assert_eq!(
        r["price_fallback"],
        "LiteLLM snapshot 2026-11-20 (built in)"
    );
    // A model LiteLLM does not know either stays unpriced.
    assert_eq!(r["unpriced"][0]["model"], "acme/never-heard-of-it-7b");

    // The table marks the figures and explains them.
    let mut args = REPORT_WITH_FALLBACK.to_vec();
    args.push(&log);
    let table = w.stdout(&args);
    assert!(table.contains("$0.91 †"), "{table}");
    assert!(
        table.contains("† includes $0.99 from 3 records priced from the fallback"),
        "{table}"
    );
    // So do CSV reports, in the column after the counts (the tool columns came later, after it).
    let mut args = REPORT_WITH_FALLBACK.to_vec();
    args.extend(["--format", "csv", &log]);
    let csv = w.stdout(&args);
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",price_source,tool_calls,tool_fees"),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.starts_with("google,") && l.ends_with(",0.908,,litellm,0,0")),
        "{csv}"
    );
    // Exports say where each cost came from.
    let rows = export(&w, &["--pricing-fallback", "litellm"], &log);
    assert_eq!(rows["google:g-fb-2"]["price_source"], "litellm");
    assert_eq!(money(&rows["google:g-fb-2"]["cost"]), "0.876");
    assert_eq!(rows["openai:chatcmpl-fb-t"]["price_source"], "table");
    assert_eq!(rows["together:tg-fb-2"]["price_source"], Value::Null);

    // The same from the config file, with the map given as a file.
    w.write(
        "aispend.toml",
        "[pricing]\nfallback = \"litellm=map.json\"\n",
    );
    w.write(
        "map.json",
        r#"{"together_ai/nvidia/NVIDIA-Nemotron-Nano-9B-v2": {"litellm_provider": "together_ai", "mode": "chat",
            "input_cost_per_token": 1e-07, "output_cost_per_token": 5e-07}}"#,
    );
    let mut args = month.to_vec();
    args.push(&log);
    let r = w.json(&args);
    // 1_000_000 × $0.10 + 100_000 × $0.50 = 150_000 µ$ = $0.15
    assert_eq!(money(&row(&r, "provider", "together")["cost"]), "0.15");
    assert!(r["price_fallback"].as_str().unwrap().ends_with("map.json"));
}

#[test]
fn the_fallback_never_prices_a_model_a_table_knows() {
    // The demo's claude-sonnet-4-5 requests served at Anthropic's priority tier have no per-token price in
    // our table; LiteLLM's map has one, but the model is ours: it stays unpriced, as does gpt-9-preview,
    // which no one prices. `pricing missing` lists exactly those two.
    let w = Workdir::new();
    let config = fixture("demo/aispend.toml");
    let out = w.stdout(&[
        "--config",
        &config,
        "pricing",
        "missing",
        "--pricing-fallback",
        "litellm",
        &fixture("demo"),
    ]);
    let listed: Vec<&str> = out.lines().filter(|l| l.starts_with('│')).collect();
    assert_eq!(listed.len(), 3, "{out}");
    assert!(listed[1].contains("gpt-9-preview"), "{out}");
    assert!(
        listed[2].contains("claude-sonnet-4-5") && listed[2].contains("priority"),
        "{out}"
    );
    assert!(out.contains("it priced no record"), "{out}");
}

/// A mock server on its own runtime.
struct MapServer {
    rt: tokio::runtime::Runtime,
    server: MockServer,
}

impl MapServer {
    fn serving(status: u16, body: &str) -> MapServer {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let server = rt.block_on(MockServer::start());
        rt.block_on(
            Mock::given(method("GET"))
                .and(path("/model_prices_and_context_window.json"))
                .respond_with(ResponseTemplate::new(status).set_body_string(body))
                .mount(&server),
        );
        MapServer { rt, server }
    }

    fn url(&self) -> String {
        format!("{}/model_prices_and_context_window.json", self.server.uri())
    }

    fn hits(&self) -> usize {
        self.rt
            .block_on(self.server.received_requests())
            .map_or(0, |r| r.len())
    }
}

const NEWER_MAP: &str = r#"{
  "sample_spec": {"litellm_provider": "one of https://docs.litellm.ai/docs/providers"},
  "together_ai/nvidia/NVIDIA-Nemotron-Nano-9B-v2": {"litellm_provider": "together_ai", "mode": "chat",
    "input_cost_per_token": 2e-07, "output_cost_per_token": 1e-06}
}"#;

/// Runs `aispend ARGS` with no proxy from the environment (the mock server is on 127.0.0.1).
fn run_direct(w: &Workdir, args: &[&str]) -> std::process::Output {
    w.cmd_without_proxy().args(args).output().expect("run")
}

#[test]
fn pricing_update_stores_a_dated_snapshot_the_fallback_uses() {
    let w = Workdir::new();
    let api = MapServer::serving(200, NEWER_MAP);
    let out = run_direct(&w, &["pricing", "update", "--litellm", &api.url()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = String::from_utf8(out.stdout).unwrap();
    assert_eq!(api.hits(), 1);
    let today = chrono::Utc::now().date_naive();
    let stored = w
        .path()
        .join("xdg/aispend/litellm")
        .join(format!("litellm-{today}.json"));
    assert!(out.contains("1 chat prices of 1 providers"), "{out}");
    assert!(out.contains("pricing diff --litellm"), "{out}");
    assert_eq!(std::fs::read_to_string(&stored).unwrap(), NEWER_MAP);
    // The fallback now reads the stored snapshot: 1_000_000 × $0.20 + 100_000 × $1 = 300_000 µ$ = $0.30
    let log = fixture("api-log/fallback.jsonl");
    let mut args = REPORT_WITH_FALLBACK.to_vec();
    args.push(&log);
    let r = w.json(&args);
    assert_eq!(money(&row(&r, "provider", "together")["cost"]), "0.3");
    assert!(
        r["price_fallback"]
            .as_str()
            .unwrap()
            .starts_with(&format!("LiteLLM snapshot {today}")),
        "{r:#}"
    );
}

#[test]
fn pricing_update_keeps_the_old_snapshot_when_the_new_map_is_bad() {
    let w = Workdir::new();
    // A server error, then a page that is not a price map: nothing stored, exit 2, the message says why.
    let api = MapServer::serving(404, "Not Found");
    let out = run_direct(&w, &["pricing", "update", "--litellm", &api.url()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 404"));
    let file = w.write("page.json", r#"{"hello": "world"}"#);
    let out = w.run(&["pricing", "update", "--litellm", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no chat prices"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !w.path().join("xdg/aispend/litellm").exists()
            || std::fs::read_dir(w.path().join("xdg/aispend/litellm"))
                .unwrap()
                .next()
                .is_none()
    );
    // A local file that is a map is stored like a fetched one.
    let good = w.write("map.json", NEWER_MAP);
    w.stdout(&["pricing", "update", "--litellm", good.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_dir(w.path().join("xdg/aispend/litellm"))
            .unwrap()
            .count(),
        1
    );
}

#[test]
fn pricing_show_explains_fine_tunes_and_aliases() {
    let w = Workdir::new();
    let out = w.stdout(&["pricing", "show", "ft:gpt-4o-mini-2024-07-18:acme::abc123"]);
    assert!(
        out.starts_with("ft:gpt-4o-mini-2024-07-18:acme::abc123 → ft:gpt-4o-mini (openai)"),
        "{out}"
    );
    let out = w.stdout(&[
        "pricing",
        "show",
        "--provider",
        "mistral",
        "mistral-large-latest",
    ]);
    assert!(
        out.contains("alias: mistral-large-2411 from 2024-11-18, mistral-large-3 from 2025-12-02"),
        "{out}"
    );
    let out = w.stdout(&[
        "pricing",
        "show",
        "--pricing-fallback",
        "litellm",
        "gemini-pro-latest",
    ]);
    assert!(
        out.contains("from: LiteLLM snapshot 2026-11-20 (built in)"),
        "{out}"
    );
    assert!(
        out.contains("prices of the fallback, not a curated table"),
        "{out}"
    );
    let out = w.stdout(&["pricing", "list", "--provider", "groq"]);
    assert!(out.contains("llama-3.3-70b-versatile"), "{out}");
}

#[test]
fn pricing_show_names_the_resellers_regional_multiplier() {
    let w = Workdir::new();
    let out = w.stdout(&["pricing", "show", "--provider", "azure", "gpt-4o"]);
    assert!(out.contains("from: pricing/openai.toml"), "{out}");
    assert!(
        out.contains("resold by azure: 1.1 × the rates below in region datazone, eu, regional, us"),
        "{out}"
    );
    // OpenAI's own record, and Azure's own entry, pay no reseller multiplier.
    let own = w.stdout(&["pricing", "show", "--provider", "openai", "gpt-4o"]);
    assert!(!own.contains("resold by"), "{own}");
    let azure = w.stdout(&["pricing", "show", "--provider", "azure", "gpt-35-turbo"]);
    assert!(!azure.contains("resold by"), "{azure}");
}

#[test]
fn litellm_azure_data_zone_models_cost_what_litellm_charged() {
    let w = Workdir::new();
    // 1,000 input + 100 output of gpt-4o: 1_000 × $2.50/M + 100 × $10/M = $0.0035 in a Global
    // deployment (`azure/gpt-4o`); the EU data zone (`azure/eu/gpt-4o`) is 1.1 × that = $0.00385.
    // LiteLLM's own response_cost agrees on both: $0.00735 in all, reconciled to the cent.
    let logs = w.write(
        "spend.jsonl",
        concat!(
            r#"{"id":"chatcmpl-az1","call_type":"acompletion","response_cost":0.00385,"status":"success","prompt_tokens":1000,"completion_tokens":100,"startTime":1791620000.25,"endTime":1791620001.5,"model":"azure/eu/gpt-4o","custom_llm_provider":"azure","metadata":{}}"#,
            "\n",
            r#"{"id":"chatcmpl-az2","call_type":"acompletion","response_cost":0.0035,"status":"success","prompt_tokens":1000,"completion_tokens":100,"startTime":1791620002.25,"endTime":1791620003.5,"model":"azure/gpt-4o","custom_llm_provider":"azure","metadata":{}}"#,
            "\n"
        ),
    );
    let r = w.json(&["report", "--by", "provider,model", logs.to_str().unwrap()]);
    let gpt = row(&r, "model", "gpt-4o");
    assert_eq!(gpt["provider"], "azure");
    assert_eq!(money(&gpt["cost"]), "0.00735");
    assert_eq!(money(&gpt["reported_cost"]), "0.00735");
}
