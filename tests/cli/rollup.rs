//! The ledger's rollup (sums per hour and pricing key) and the schema migration that adds it.

use crate::{fixture, money, row, Workdir};

/// fixtures/ledger/v1.db: a schema-version-1 ledger (no billing account or tool-call columns, no rollup) holding the
/// records of the files below. Opened, it migrates to the current schema, builds its rollup, and
/// reports what reading the files directly reports. One row by hand, o3 on 2026-10-05 (openai.toml:
/// $2 input, $0.50 cached, $8 output, reasoning priced as output):
/// 1,000 × $2/M + 1,000 × $0.50/M + 3,000 × $8/M = $0.002 + $0.0005 + $0.024 = $0.0265
///
/// SQLite only: fixtures/ledger/v1.db is a SQLite file from before the PostgreSQL backend existed, which
/// has its own migration list (src/ledger/pgsql.rs) and no version-1 ledger to migrate from. The rollup
/// itself is checked on both backends by backends.rs and the property test.
#[test]
fn a_version_1_ledger_migrates_when_opened_and_reports_the_same_totals() {
    let w = Workdir::new();
    std::fs::copy(fixture("ledger/v1.db"), w.ledger()).unwrap();
    let files: Vec<String> = [
        "api-log/anthropic-messages.jsonl",
        "api-log/openai-chat.jsonl",
        "api-log/openai-responses.jsonl",
        "api-log/gemini.jsonl",
        "api-log/duplicates.jsonl",
        "api-log/failed.jsonl",
        "api-log/unknown-model.jsonl",
        "claude-code/projects",
        "litellm/spend-logs.csv",
    ]
    .iter()
    .map(|f| fixture(f))
    .collect();
    let args = ["report", "--by", "team,model", "--since", "2026-10-01"];
    let mut direct_args: Vec<&str> = args.to_vec();
    direct_args.extend(files.iter().map(String::as_str));
    let direct = w.json(&direct_args);
    let migrated = w.json(&args);
    assert_eq!(migrated["rows"], direct["rows"]);
    assert_eq!(migrated["total"], direct["total"]);
    assert_eq!(migrated["unpriced"], direct["unpriced"]);
    assert_eq!(money(&row(&migrated, "model", "o3")["cost"]), "0.0265");
    assert_eq!(migrated["total"]["requests"], 33);
    let stats = w.json(&["ledger", "stats"]);
    assert_eq!(stats["schema_version"], 10);
    assert_eq!(stats["records"], 35);
    // By user the rollup has nothing to say: the records answer, with the same total.
    let by_user = w.json(&["report", "--by", "user", "--since", "2026-10-01"]);
    assert_eq!(by_user["total"], direct["total"]);
}
