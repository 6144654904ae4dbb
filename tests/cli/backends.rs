//! The ledger's contract, on each backend: every test here runs once per backend, with a new ledger
//! (see [`on_each_backend`]).

use std::sync::atomic::{AtomicU32, Ordering};

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::{fixture, money, Workdir};

/// A cost column as a number (PostgreSQL's NUMERIC and SQLite's text keep different trailing zeros).
fn cost(text: &str) -> Decimal {
    text.parse::<Decimal>()
        .unwrap_or_else(|_| panic!("not a decimal: {text}"))
        .normalize()
}

/// A ledger backend under test.
pub enum Store {
    Sqlite,
    /// A database of its own on the test server: its URL, with the password.
    Postgres(String),
}

impl Store {
    pub fn name(&self) -> &'static str {
        match self {
            Store::Sqlite => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Rows of an SQL query on the ledger's tables, every value as text (NULL as `None`).
    pub fn query(&self, w: &Workdir, sql: &str) -> Vec<Vec<Option<String>>> {
        match self {
            Store::Sqlite => {
                let conn = rusqlite::Connection::open(w.ledger()).expect("open the ledger");
                let mut stmt = conn.prepare(sql).expect("prepare");
                let n = stmt.column_count();
                stmt.query_map([], |row| {
                    (0..n)
                        .map(|i| {
                            Ok(match row.get_ref(i)? {
                                rusqlite::types::ValueRef::Null => None,
                                rusqlite::types::ValueRef::Integer(v) => Some(v.to_string()),
                                rusqlite::types::ValueRef::Real(v) => Some(v.to_string()),
                                rusqlite::types::ValueRef::Text(t) => {
                                    Some(String::from_utf8_lossy(t).into_owned())
                                }
                                rusqlite::types::ValueRef::Blob(_) => Some("<blob>".into()),
                            })
                        })
                        .collect()
                })
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows")
            }
            Store::Postgres(url) => {
                let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
                client
                    .batch_execute("SET search_path TO aispend")
                    .expect("search path");
                client
                    .simple_query(sql)
                    .expect("query")
                    .into_iter()
                    .filter_map(|m| match m {
                        postgres::SimpleQueryMessage::Row(row) => Some(
                            (0..row.len())
                                .map(|i| row.get(i).map(str::to_string))
                                .collect(),
                        ),
                        _ => None,
                    })
                    .collect()
            }
        }
    }

    /// Everything the ledger holds, to compare before and after a command that must leave it as it
    /// was: the SQLite file's bytes, or every row of every table in the PostgreSQL ledger's schema as
    /// text, table by table, rows sorted.
    pub fn contents(&self, w: &Workdir) -> Vec<u8> {
        match self {
            Store::Sqlite => std::fs::read(w.ledger()).expect("the ledger file"),
            Store::Postgres(url) => {
                // One connection for every query: each connection costs a password exchange.
                let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
                let mut text = String::new();
                let mut rows = |sql: &str| -> Vec<String> {
                    let rows = client.query(sql, &[]).expect("query");
                    rows.iter()
                        .map(|r| r.get::<_, Option<String>>(0).unwrap_or_default())
                        .collect()
                };
                let tables = rows(
                    "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
                     WHERE table_schema = 'aispend' ORDER BY 1",
                );
                for table in tables {
                    text.push_str(&format!("{table}:\n"));
                    let sql =
                        format!("SELECT CAST(t AS TEXT) FROM aispend.\"{table}\" t ORDER BY 1");
                    for row in rows(&sql) {
                        text.push_str(&row);
                        text.push('\n');
                    }
                }
                text.into_bytes()
            }
        }
    }
}

static DATABASES: AtomicU32 = AtomicU32::new(0);

/// A new, empty database on the test server; its URL.
pub fn new_database(server: &str) -> String {
    let name = format!(
        "ledger_{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = postgres::Client::connect(server, postgres::NoTls).expect("connect");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create database");
    let base = server.rsplit_once('/').expect("a database in the URL").0;
    format!("{base}/{name}")
}

/// Runs `test` once per backend, each time in a new working directory with a new, empty ledger:
/// SQLite, then PostgreSQL on the server `.ci/run` starts (`AISPEND_TEST_POSTGRES`; without one the
/// PostgreSQL run fails when CI=true, and is reported as not run otherwise).
pub fn on_each_backend(test: impl Fn(&Workdir, &Store)) {
    // Printed with a failing test's output: which backend it failed on.
    eprintln!("on sqlite");
    test(&Workdir::new(), &Store::Sqlite);
    if let Some(server) = crate::postgres::server() {
        let url = new_database(&server);
        eprintln!("on postgres");
        test(
            &Workdir::with_ledger_url(&url),
            &Store::Postgres(url.clone()),
        );
    }
}

/// `daily_cost` rows as (day, model, team, cost), ordered.
fn daily(w: &Workdir, store: &Store) -> Vec<(String, String, String, String)> {
    store
        .query(
            w,
            "SELECT CAST(day AS TEXT), model, team, CAST(cost AS TEXT) FROM daily_cost \
             ORDER BY day, model, team",
        )
        .into_iter()
        .map(|r| {
            let v = |i: usize| r[i].clone().unwrap_or_default();
            (v(0), v(1), v(2), v(3))
        })
        .collect()
}

/// Each import writes the days it touched into `daily_cost`, priced with the tables of that run;
/// `ledger reprice` rewrites them with the tables of its own run. fixtures/api-log/openai-chat.jsonl's
/// gpt-4o request (2026-10-05, 1,000 input and 200 output tokens; openai.toml: $2.50 in, $10 out):
/// 1,000 × $2.50/M + 200 × $10/M = $0.0025 + $0.002 = $0.0045. Under a table at $5 in and $20 out:
/// 1,000 × $5/M + 200 × $20/M = $0.005 + $0.004 = $0.009.
#[test]
fn daily_cost_is_written_by_imports_and_rewritten_by_reprice() {
    on_each_backend(|w, store| {
        let what = store.name();
        w.stdout(&["import", &fixture("api-log/openai-chat.jsonl")]);
        let rows = daily(w, store);
        let gpt4o = |rows: &[(String, String, String, String)]| {
            rows.iter()
                .find(|r| r.1 == "gpt-4o")
                .map(|r| (r.0.clone(), r.2.clone(), cost(&r.3)))
                .unwrap_or_else(|| panic!("{what}: no gpt-4o row in {rows:?}"))
        };
        assert_eq!(
            gpt4o(&rows),
            ("2026-10-05".into(), "unassigned".into(), dec!(0.0045)),
            "{what}"
        );
        // The table agrees with the report, to the last decimal.
        let report = w.json(&["report", "--by", "day,model", "--since", "2026-10-01"]);
        let sum: Decimal = rows.iter().map(|r| cost(&r.3)).sum();
        assert_eq!(
            sum.normalize(),
            cost(money(&report["total"]["cost"])),
            "{what}"
        );

        // Importing the same file again adds nothing and leaves the table as it was.
        w.stdout(&["import", &fixture("api-log/openai-chat.jsonl")]);
        assert_eq!(daily(w, store), rows, "{what}");

        let prices = w.write(
            "prices.toml",
            "provider = \"openai\"\n[[model]]\nid = \"gpt-4o\"\nnames = [\"gpt-4o-2024-08-06\"]\n\
             [[model.price]]\neffective = \"2024-08-06\"\ninput = \"5\"\noutput = \"20\"\n",
        );
        let out = w.stdout(&["--pricing", prices.to_str().unwrap(), "ledger", "reprice"]);
        assert!(
            out.contains("for 2026-10-05 to 2026-10-05"),
            "{what}: {out}"
        );
        let repriced = daily(w, store);
        assert_eq!(gpt4o(&repriced).2, dec!(0.009), "{what}");
        assert_eq!(repriced.len(), rows.len(), "{what}");
        // The other rows keep their cost.
        for (a, b) in rows.iter().zip(&repriced).filter(|(a, _)| a.1 != "gpt-4o") {
            assert_eq!(a, b, "{what}");
        }
    });
}

/// The demo month (fixtures/demo, with its config's team rules) imported into the ledger reads as the
/// files read directly: reports by every dimension the rollup keeps and by one it does not (user),
/// the forecast, and the budget check (which breaches two budgets: exit 1).
#[test]
fn reports_forecasts_and_budgets_read_the_ledger_as_the_files() {
    let config = fixture("demo/aispend.toml");
    let inputs = [
        fixture("demo/api-logs"),
        fixture("demo/openai-usage"),
        fixture("demo/anthropic-usage"),
        fixture("demo/claude-code"),
    ];
    let budgets = fixture("budgets/demo.toml");
    on_each_backend(|w, store| {
        let what = store.name();
        let mut import = vec!["--config", &config, "import"];
        import.extend(inputs.iter().map(String::as_str));
        w.stdout(&import);
        let queries: [&[&str]; 5] = [
            &["report", "--month", "2026-10", "--by", "team,model"],
            &[
                "report",
                "--month",
                "2026-10",
                "--by",
                "day,provider,service_tier",
                "--timezone",
                "America/New_York",
            ],
            &["report", "--month", "2026-10", "--by", "user"],
            &["forecast", "--as-of", "2026-10-15", "--by", "team"],
            &[
                "budget",
                "check",
                "--budgets",
                &budgets,
                "--as-of",
                "2026-10-15",
            ],
        ];
        for query in queries {
            let mut ledger_args = vec!["--config", config.as_str()];
            ledger_args.extend(query);
            ledger_args.extend(["--format", "json"]);
            let mut direct_args = ledger_args.clone();
            direct_args.extend(inputs.iter().map(String::as_str));
            let code = if query[0] == "budget" { 1 } else { 0 };
            let parse = |args: &[&str]| {
                let mut doc: serde_json::Value =
                    serde_json::from_str(&w.stdout_code(args, code)).expect("json");
                doc.as_object_mut().map(|m| m.remove("inputs"));
                doc
            };
            assert_eq!(
                parse(&ledger_args),
                parse(&direct_args),
                "{what}: {query:?}"
            );
        }
        let stats = w.json(&["ledger", "stats"]);
        assert!(
            stats["records"].as_u64().unwrap() > 1_000,
            "{what}: {stats}"
        );
    });
}

/// The per-file account and the keep-first / keep-largest rules hold across the ledger's write batches
/// (PostgreSQL writes 1,000 records a statement): 1,200 streamed Claude Code messages, each in three
/// files with 100, then 500, then 40 output tokens, and an API log of 2,500 requests twice under two
/// names. Each message counts once at 500 output (sonnet-4-5): 4 × $3/M + 8,000 × $0.30/M + 500 ×
/// $15/M = $0.000012 + $0.0024 + $0.0075 = $0.009912, × 1,200 = $11.8944. Each request once (gpt-4o):
/// 10 × $2.50/M + 1 × $10/M = $0.000035, × 2,500 = $0.0875.
#[test]
fn per_file_counts_and_dedup_rules_hold_across_write_batches() {
    on_each_backend(|w, store| {
        let what = store.name();
        let session = |output: u64| -> String {
            (0..1_200)
                .map(|i| {
                    format!(
                        "{{\"parentUuid\":null,\"isSidechain\":false,\"userType\":\"external\",\
                         \"cwd\":\"/home/carol/src/notes\",\"sessionId\":\"5e55a10e-0000-4000-8000-00000000f1f0\",\
                         \"version\":\"2.0.14\",\"message\":{{\"id\":\"msg_batch{i:05}\",\"type\":\"message\",\
                         \"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\
                         \"usage\":{{\"input_tokens\":4,\"cache_creation_input_tokens\":0,\
                         \"cache_read_input_tokens\":8000,\"output_tokens\":{output}}}}},\
                         \"requestId\":\"req_batch{i:05}\",\"type\":\"assistant\",\
                         \"uuid\":\"b{output:03}{i:05}\",\"timestamp\":\"2026-10-16T11:00:00.000Z\"}}\n"
                    )
                })
                .collect()
        };
        let files: Vec<String> = [(100, "a"), (500, "b"), (40, "c")]
            .iter()
            .map(|(output, name)| {
                let path = format!("projects/-home-carol-src-notes/{name}.jsonl");
                w.write(&path, &session(*output)).display().to_string()
            })
            .collect();
        let log = w.many_users_log(2_500);
        let copy = w.path().join("many-again.jsonl");
        std::fs::copy(&log, &copy).unwrap();
        let mut args = vec!["import"];
        args.extend(files.iter().map(String::as_str));
        args.extend([log.to_str().unwrap(), copy.to_str().unwrap()]);
        let out = w.stdout(&args);
        let line = |file: &str| -> &str {
            out.lines()
                .find(|l| l.starts_with(file))
                .unwrap_or_else(|| panic!("{what}: no line for {file}: {out}"))
        };
        for (file, want) in [
            (&files[0], "added 1,200, 0 duplicate, 0 skipped"),
            (
                &files[1],
                "added 0, 1,200 duplicate (1,200 merged into a larger copy), 0 skipped",
            ),
            (&files[2], "added 0, 1,200 duplicate, 0 skipped"),
            (&log.display().to_string(), "added 2,500, 0 duplicate"),
            (&copy.display().to_string(), "added 0, 2,500 duplicate"),
        ] {
            assert!(line(file).contains(want), "{what}: {file}: {out}");
        }
        assert!(
            out.contains("total: 5 files, added 3,700, 4,900 duplicate"),
            "{what}: {out}"
        );
        let r = w.json(&["report", "--by", "model"]);
        assert_eq!(r["total"]["requests"], 3_700, "{what}");
        let sonnet = crate::row(&r, "model", "claude-sonnet-4-5");
        assert_eq!(sonnet["output_tokens"], 600_000, "{what}");
        assert_eq!(money(&sonnet["cost"]), "11.8944", "{what}");
        assert_eq!(
            money(&crate::row(&r, "model", "gpt-4o")["cost"]),
            "0.0875",
            "{what}"
        );
        // Again: all duplicates, nothing replaced, the same report.
        let again = w.stdout(&args);
        assert!(
            again.contains("total: 5 files, added 0, 8,600 duplicate"),
            "{what}: {again}"
        );
        assert!(!again.contains("merged"), "{what}: {again}");
        assert_eq!(w.json(&["report", "--by", "model"]), r, "{what}");
    });
}

/// Importing again adds nothing; a larger copy of a streamed message replaces the smaller one (keep
/// the largest) in the records and the rollup. fixtures/claude-code/largest-first, sonnet-4-5, output
/// 100 first, then 500: 4 × $3/M + 8,000 × $0.30/M + 500 × $15/M = $0.000012 + $0.0024 + $0.0075 =
/// $0.009912.
#[test]
fn imports_are_idempotent_and_keep_the_largest_copy() {
    on_each_backend(|w, store| {
        let what = store.name();
        let folder = fixture("claude-code/largest-first");
        let file = std::fs::read_dir(format!("{folder}/projects/-home-carol-src-notes"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let text = std::fs::read_to_string(&file).unwrap();
        let first_two: String = text.lines().take(2).map(|l| format!("{l}\n")).collect();
        let small = w.write("projects/-home-carol-src-notes/early.jsonl", &first_two);
        w.stdout(&["import", "--source", "claude-code", small.to_str().unwrap()]);
        let before = w.json(&["report", "--by", "project", "--month", "2026-10"]);
        assert_eq!(before["total"]["output_tokens"], 100, "{what}");
        let out = w.stdout(&["import", &folder]);
        assert!(out.contains("merged into a larger copy"), "{what}: {out}");
        let again = w.stdout(&["import", &folder]);
        assert!(again.contains("added 0"), "{what}: {again}");
        let after = w.json(&["report", "--by", "project", "--month", "2026-10"]);
        assert_eq!(after["total"]["requests"], 1, "{what}");
        assert_eq!(after["total"]["output_tokens"], 500, "{what}");
        assert_eq!(money(&after["total"]["cost"]), "0.009912", "{what}");
        // The per-record path (by user) agrees with the rollup.
        let by_user = w.json(&["report", "--by", "user", "--month", "2026-10"]);
        assert_eq!(by_user["total"], after["total"], "{what}");
        let rows = daily(w, store);
        assert_eq!(rows.len(), 1, "{what}: {rows:?}");
        assert_eq!(cost(&rows[0].3), dec!(0.009912), "{what}");
        assert_eq!(w.json(&["ledger", "stats"])["records"], 1, "{what}");
    });
}

/// A file with a bad line fails the import (exit 2, naming the file and line) and leaves the ledger
/// exactly as it was: records, rollup and `daily_cost`.
#[test]
fn a_failed_import_leaves_the_ledger_untouched() {
    on_each_backend(|w, store| {
        let what = store.name();
        w.stdout(&["import", &fixture("api-log/openai-chat.jsonl")]);
        let report = w.json(&["report", "--by", "model", "--since", "2026-10-01"]);
        let rows = daily(w, store);
        let good = std::fs::read_to_string(fixture("api-log/anthropic-messages.jsonl")).unwrap();
        let bad = w.write(
            "bad.jsonl",
            &format!("{good}{{\"timestamp\": \"not a time\"\n"),
        );
        let out = w.run(&["import", bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{what}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("bad.jsonl"), "{what}: {stderr}");
        assert_eq!(
            w.json(&["report", "--by", "model", "--since", "2026-10-01"]),
            report,
            "{what}"
        );
        assert_eq!(daily(w, store), rows, "{what}");
        assert_eq!(w.json(&["ledger", "stats"])["records"], 5, "{what}");
    });
}

/// Several processes importing overlapping sets of files at the same moment (each in its own order)
/// give exactly what one import of every file gives: no record twice, none lost, the rollup and
/// `daily_cost` consistent.
#[test]
fn concurrent_imports_of_overlapping_files_count_each_record_once() {
    let files: Vec<String> = [
        "api-log/openai-chat.jsonl",
        "api-log/anthropic-messages.jsonl",
        "api-log/openai-responses.jsonl",
        "api-log/gemini.jsonl",
        "api-log/duplicates.jsonl",
        "claude-code/largest-first",
        "claude-code/projects",
        "litellm/spend-logs.csv",
    ]
    .iter()
    .map(|f| fixture(f))
    .collect();
    on_each_backend(|w, store| {
        let what = store.name();
        // Process i imports files i, i+1, …, i+4 (wrapping), starting at its own place in the list.
        let children: Vec<_> = (0..6)
            .map(|i| {
                let mine: Vec<&String> = (0..5).map(|k| &files[(i + k) % files.len()]).collect();
                let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("aispend"));
                cmd.current_dir(w.path())
                    .env_remove("AISPEND_LEDGER")
                    .env_remove("AISPEND_CONFIG")
                    .env("XDG_DATA_HOME", w.path().join("xdg"))
                    .env("XDG_CACHE_HOME", w.path().join("xdg-cache"))
                    .arg("--ledger")
                    .arg(w.ledger_arg())
                    .arg("import")
                    .args(mine)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().expect("wait");
            assert!(
                out.status.success(),
                "{what}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let query = [
            "report",
            "--by",
            "source,team,model",
            "--since",
            "2020-01-01",
        ];
        let mut direct: Vec<&str> = query.to_vec();
        direct.extend(files.iter().map(String::as_str));
        let stored = w.json(&query);
        assert_eq!(stored, w.json(&direct), "{what}");
        let by_user = w.json(&["report", "--by", "user", "--since", "2020-01-01"]);
        assert_eq!(by_user["total"], stored["total"], "{what}");
        let sum: Decimal = daily(w, store).iter().map(|r| cost(&r.3)).sum();
        assert_eq!(
            sum.normalize(),
            cost(money(&stored["total"]["cost"])),
            "{what}"
        );
    });
}

/// The password of a `postgres://` ledger URL is never printed (the URL is shown without it), and
/// `$AISPEND_LEDGER` selects the database as `--ledger` does.
#[test]
fn a_postgres_ledger_url_is_shown_without_its_password() {
    let Some(server) = crate::postgres::server() else {
        return;
    };
    let url = new_database(&server);
    let password = url
        .trim_start_matches("postgres://")
        .split_once('@')
        .and_then(|(c, _)| c.split_once(':'))
        .expect("user:password in the URL")
        .1
        .to_string();
    let shown = {
        let (credentials, rest) = url
            .trim_start_matches("postgres://")
            .split_once('@')
            .unwrap();
        format!(
            "postgres://{}@{rest}",
            credentials.split_once(':').unwrap().0
        )
    };
    let w = Workdir::new();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("aispend"))
            .current_dir(w.path())
            .env("AISPEND_LEDGER", &url)
            .env_remove("AISPEND_CONFIG")
            .env("XDG_CONFIG_HOME", w.path().join("xdg-config"))
            .env("XDG_DATA_HOME", w.path().join("xdg"))
            .env("XDG_CACHE_HOME", w.path().join("xdg-cache"))
            .env("NO_COLOR", "1")
            .args(args)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !text.contains(&password),
            "the password was printed: {text}"
        );
        (out.status.code(), text)
    };
    let (code, text) = run(&["import", &fixture("api-log/openai-chat.jsonl")]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains(&format!("written to {shown}")), "{text}");
    let (_, text) = run(&["ledger", "stats"]);
    assert!(text.contains(&format!("ledger:   {shown}")), "{text}");
    assert!(text.contains("records:  5"), "{text}");
    let (_, text) = run(&["config", "path"]);
    assert!(
        text.contains(&format!(
            "ledger: {shown} (from $AISPEND_LEDGER; a PostgreSQL database)"
        )),
        "{text}"
    );
    // A wrong password: the server's refusal, exit 3, the URL without the password.
    let wrong = url.replace(&format!(":{password}@"), ":not-the-password@");
    let out = Workdir::with_ledger_url(&wrong).run(&["ledger", "stats"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&shown) && !stderr.contains("not-the-password"),
        "{stderr}"
    );
}

/// While another machine imports (here: a session holding the ledger's write lock), an import waits
/// up to --lock-timeout, then stops with exit 3 and says why; reads do not wait. A database whose
/// ledger is newer than this build, or whose `aispend` schema holds something else, is refused with
/// exit 2 and left as it was.
#[test]
fn a_postgres_ledger_waits_for_writers_and_refuses_what_it_cannot_read() {
    let Some(server) = crate::postgres::server() else {
        return;
    };
    let url = new_database(&server);
    let w = Workdir::with_ledger_url(&url);
    w.stdout(&["import", &fixture("api-log/openai-chat.jsonl")]);
    let mut holder = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut tx = holder.transaction().unwrap();
    // The key of the ledger's write lock: "aispend" in ASCII.
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&0x0061_6973_7065_6e64_i64],
    )
    .unwrap();
    let out = w.run(&[
        "--lock-timeout",
        "1",
        "import",
        &fixture("api-log/gemini.jsonl"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("another process is writing to it"),
        "{stderr}"
    );
    assert_eq!(w.json(&["ledger", "stats"])["records"], 5);
    tx.rollback().unwrap();
    w.stdout(&["import", &fixture("api-log/gemini.jsonl")]);

    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute("UPDATE aispend.schema_version SET version = 99")
        .unwrap();
    let out = w.run(&["ledger", "stats"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("upgrade aispend"), "{stderr}");

    let other = new_database(&server);
    let mut client = postgres::Client::connect(&other, postgres::NoTls).unwrap();
    client
        .batch_execute("CREATE SCHEMA aispend; CREATE TABLE aispend.invoices (id int)")
        .unwrap();
    let out = Workdir::with_ledger_url(&other).run(&["import", &fixture("api-log/gemini.jsonl")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not an aispend ledger"), "{stderr}");
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'aispend'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 1);
    // Reading a database with no ledger says how to make one, and creates nothing.
    let empty = new_database(&server);
    let out = Workdir::with_ledger_url(&empty).run(&["report"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no ledger at"), "{stderr}");
}
