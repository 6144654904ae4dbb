//! `aispend report --reconcile`: computed cost beside invoiced cost (fixtures/reconcile/README.md has the
//! arithmetic).

use crate::{fixture, money, row, Workdir};

#[test]
fn usage_and_invoices_per_scope_and_day() {
    let w = Workdir::new();
    let f = fixture("reconcile");
    let r = w.json(&[
        "report",
        "--reconcile",
        "--by",
        "provider,project,workspace,day",
        &f,
    ]);
    assert_eq!(r["schema"], "aispend.reconcile.v1");
    assert_eq!(r["tolerance_pct"], "1");
    assert_eq!(r["mismatches"], 1);
    // gpt-4o 1M × $2.50 + 100k × $10 = $3.50 against 2.50 + 1.00 invoiced
    let matched = row(&r, "project", "proj_FxReconMatch");
    assert_eq!(money(&matched["computed"]), "3.5");
    assert_eq!(money(&matched["invoiced"]), "3.5");
    assert_eq!(matched["status"], "ok");
    // gpt-4.1 1M × $2 + 100k × $8 = $2.80 against 2.50 + 0.90 = $3.40: −0.60, −17.65 %
    let drift = row(&r, "project", "proj_FxReconDrift");
    assert_eq!(money(&drift["difference"]), "-0.6");
    assert_eq!(drift["difference_pct"], "-17.65");
    assert_eq!(drift["status"], "mismatch");
    // claude-sonnet-4-5 100k × $3 + 10k × $15 = $0.45 against (30 + 15.2) cents = $0.452: −0.44 %
    let anthropic = row(&r, "workspace", "wrkspc_01FxRecon");
    assert_eq!(money(&anthropic["invoiced"]), "0.452");
    assert_eq!(anthropic["difference_pct"], "-0.44");
    assert_eq!(anthropic["status"], "ok");
    // a tighter tolerance flags it
    let r = w.json(&[
        "report",
        "--reconcile",
        "--tolerance",
        "0.1%",
        "--by",
        "provider,workspace,day",
        &f,
    ]);
    assert_eq!(
        row(&r, "workspace", "wrkspc_01FxRecon")["status"],
        "mismatch"
    );
    // the default grouping is provider and day; usage without an invoice is not a mismatch
    let r = w.json(&[
        "report",
        "--reconcile",
        &f,
        &fixture("api-log/gemini.jsonl"),
    ]);
    assert_eq!(r["group_by"], serde_json::json!(["provider", "day"]));
    assert_eq!(row(&r, "provider", "google")["status"], "usage only");
    let bad = w.run(&["report", "--reconcile", "--tolerance", "lots", &f]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn an_invoice_without_usage_is_invoice_only_and_shown() {
    let w = Workdir::new();
    let costs = fixture("reconcile/openai-costs.json");
    let r = w.json(&["report", "--reconcile", "--by", "provider,project", &costs]);
    // nothing was used that could be priced: nothing to compare, so not a mismatch either
    assert_eq!(r["mismatches"], 0);
    for (project, invoiced) in [("proj_FxReconDrift", "3.4"), ("proj_FxReconMatch", "3.5")] {
        let line = row(&r, "project", project);
        assert_eq!(line["status"], "invoice only", "{line:#}");
        assert_eq!(money(&line["computed"]), "0");
        assert_eq!(money(&line["invoiced"]), invoiced);
        assert_eq!(line["unpriced_records"], 0);
    }
    // unlike "usage only", the table keeps these groups: an invoice nobody can explain is news
    let table = w.stdout(&["report", "--reconcile", "--by", "provider,project", &costs]);
    assert_eq!(table.matches("┆ invoice only │").count(), 2, "{table}");
}

#[test]
fn unpriced_usage_is_counted_beside_the_status() {
    let w = Workdir::new();
    let args = [
        "report",
        "--reconcile",
        "--by",
        "provider",
        "--month",
        "2026-10",
        &fixture("reconcile/openai-costs.json"),
        &fixture("reconcile/openai-usage.json"),
        // 2 gpt-9-preview requests (no price) and 1 gpt-4o request
        &fixture("api-log/unknown-model.jsonl"),
    ];
    let r = w.json(&args);
    let openai = row(&r, "provider", "openai");
    // $3.50 + $2.80 (fixtures/reconcile/README.md) + gpt-4o 1,000 × $2.50/M + 100 × $10/M = $0.0035
    assert_eq!(money(&openai["computed"]), "6.3035");
    assert_eq!(money(&openai["invoiced"]), "6.9"); // 3.50 + 3.40
    assert_eq!(openai["unpriced_records"], 2);
    assert_eq!(openai["status"], "mismatch");
    let table = w.stdout(&args);
    assert!(table.contains("┆ mismatch (2 unpriced) │"), "{table}");
    let md = w.stdout(&[&args[..], &["--format", "markdown"]].concat());
    // Markdown escapes the brackets
    assert!(md.contains(r"| mismatch \(2 unpriced\) |"), "{md}");
}

#[test]
fn groups_with_usage_only_are_counted_not_shown() {
    let w = Workdir::new();
    let files = [
        fixture("reconcile/openai-costs.json"),
        fixture("reconcile/openai-usage.json"),
        // usage with no invoice on three other (provider, day) groups:
        // openai 2026-10-09, google 2026-10-08, anthropic 2026-10-07
        fixture("api-log/unknown-model.jsonl"),
        fixture("api-log/gemini.jsonl"),
        fixture("api-log/anthropic-messages.jsonl"),
    ];
    let mut args = vec!["report", "--reconcile", "--by", "provider,day"];
    args.extend(files.iter().map(String::as_str));
    let r = w.json(&args);
    let statuses: Vec<&str> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == "usage only").count(), 3);

    // The table and Markdown show the one comparable group and count the other three.
    let table = w.stdout(&args);
    assert!(table.contains("┆ 2026-10-05 ┆"), "{table}");
    assert!(!table.contains("2026-10-09"), "{table}");
    assert!(table.ends_with(
        "\n3 group(s) with usage but no invoiced amount are not shown (--format json lists them).\n"
    ));
    let md = w.stdout(&[&args[..], &["--format", "markdown"]].concat());
    // dimensions and the status left-aligned, amounts right-aligned
    assert!(
        md.contains("\n| --- | --- | ---: | ---: | ---: | ---: | --- |\n"),
        "{md}"
    );
    assert!(!md.contains("2026-10-09"), "{md}");
    assert!(md.ends_with("\n\n3 group(s) with usage but no invoiced amount are not shown.\n"));

    // With every group comparable, no such line.
    let only_invoiced = [
        "report",
        "--reconcile",
        "--by",
        "provider,day",
        &files[0],
        &files[1],
    ];
    let table = w.stdout(&only_invoiced);
    assert!(!table.contains("not shown"), "{table}");
    let md = w.stdout(&[&only_invoiced[..], &["--format", "markdown"]].concat());
    assert!(!md.contains("not shown"), "{md}");
}
