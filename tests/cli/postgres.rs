//! `aispend pull litellm --database-url …` against a real PostgreSQL server: the URL (with a password)
//! of a superuser is in `AISPEND_TEST_POSTGRES`, which `.ci/run` sets after starting a throwaway cluster
//! (`.ci/postgres.sh`). Without it the tests fail when CI=true, and are skipped with a printed reason
//! otherwise. Each test works in a database of its own, with `"LiteLLM_SpendLogs"` created from
//! LiteLLM's schema (fixtures/litellm/spend-logs-schema.sql) and rows written here.

use crate::{fixture, money, row, Workdir};

/// The server's superuser URL, or `None` (with the reason printed) when no server is configured
/// outside CI.
pub fn server() -> Option<String> {
    match std::env::var("AISPEND_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but AISPEND_TEST_POSTGRES is not set: .ci/run starts a PostgreSQL server for these tests")
        }
        _ => {
            eprintln!(
                "skipped: AISPEND_TEST_POSTGRES is not set (run .ci/run, or source .ci/postgres.sh and \
                 pg_throwaway_start)"
            );
            None
        }
    }
}

/// A fresh database with LiteLLM's spend-log table, and a client connected to it.
struct Db {
    /// The database's URL, with the superuser's password.
    url: String,
    password: String,
    host_port: String,
    name: String,
    client: postgres::Client,
}

impl Db {
    fn new(server: &str) -> Db {
        let url = crate::backends::new_database(server);
        let (base, name) = url.rsplit_once('/').expect("a database in the URL");
        let (base, name) = (base.to_string(), name.to_string());
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let schema = std::fs::read_to_string(fixture("litellm/spend-logs-schema.sql")).unwrap();
        client.batch_execute(&schema).expect("LiteLLM's schema");
        let after_scheme = base.trim_start_matches("postgres://");
        let (credentials, host_port) = after_scheme.split_once('@').expect("user@host");
        let password = credentials.split_once(':').expect("user:password").1;
        Db {
            url,
            password: password.to_string(),
            host_port: host_port.to_string(),
            name,
            client,
        }
    }

    /// The URL of this database for `user`, without a password.
    fn url_for(&self, user: &str) -> String {
        format!("postgres://{user}@{}/{}", self.host_port, self.name)
    }

    /// A request row: gpt-4o on OpenAI, `input` prompt and `output` completion tokens.
    fn insert(&mut self, id: &str, start: &str, input: i32, output: i32, spend: f64) {
        self.client
            .execute(
                "INSERT INTO \"LiteLLM_SpendLogs\" (request_id, call_type, api_key, spend, total_tokens, \
                 prompt_tokens, completion_tokens, \"startTime\", \"endTime\", model, model_group, \
                 custom_llm_provider, \"user\", metadata, cache_hit, request_tags, team_id, \
                 requester_ip_address, messages, response, status) VALUES ($1, 'acompletion', \
                 'f1d2d2f924e986ac86fdf7b36c94bcdf32beec15', $2, $3::int + $4::int, $3, $4, $5::text::timestamp, \
                 $5::text::timestamp + interval '2 seconds', 'gpt-4o', 'smart', 'openai', 'alice', \
                 '{\"user_api_key_alias\": \"search-prod\", \"user_api_key_team_alias\": \"search\", \
                 \"user_api_key_team_id\": \"team-uuid-1\"}', 'False', '[\"env:prod\"]', 'team-uuid-1', \
                 '10.9.8.7', '[{\"role\": \"user\", \"content\": \"SECRET PROMPT TEXT\"}]', \
                 '{\"choices\": [{\"message\": {\"content\": \"SECRET COMPLETION\"}}]}', 'success')",
                &[&id, &spend, &input, &output, &start],
            )
            .expect("insert");
    }
}

fn pull(w: &Workdir, url: &str, extra: &[&str]) -> std::process::Output {
    let mut cmd = w.cmd();
    cmd.env_remove("PGPASSWORD").env_remove("PGPASSFILE");
    cmd.env("HOME", w.path());
    cmd.args(["pull", "litellm", "--database-url", url])
        .args(extra);
    cmd.output().expect("run")
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Run once per ledger backend: the cursor is kept in an SQLite ledger and in a PostgreSQL one.
#[test]
fn pull_litellm_reads_spend_logs_incrementally() {
    let Some(server) = server() else { return };
    crate::backends::on_each_backend(|w, _| {
        let mut db = Db::new(&server);
        // gpt-4o: $2.50 in, $10 out per million.
        // r1: 1_000 × 2.50 + 100 × 10 = 3_500 µ$ = $0.0035; r2: 2_000 × 2.50 + 200 × 10 = $0.007.
        db.insert("chatcmpl-r1", "2026-10-05 10:00:00.123", 1_000, 100, 0.0035);
        db.insert("chatcmpl-r2", "2026-10-05 11:00:00.000", 2_000, 200, 0.007);

        let first = pull(w, &db.url, &["-v"]);
        let all = text(&first);
        assert!(first.status.success(), "{all}");
        assert!(
            !all.contains(&db.password),
            "the password was printed: {all}"
        );
        assert!(all.contains(&db.url_for("aispend")), "{all}");
        assert!(
            all.contains("1 page, 2 rows from the first row, 2 added litellm, 0 duplicate"),
            "{all}"
        );
        assert!(
            all.contains("next pull starts from 2026-10-05 11:00:00.000"),
            "{all}"
        );

        let report = w.json(&["report", "--month", "2026-10", "--by", "team"]);
        // $0.0035 + $0.007 = $0.0105, on the key's team alias.
        assert_eq!(money(&row(&report, "team", "search")["cost"]), "0.0105");
        assert_eq!(money(&report["total"]["reported_cost"]), "0.0105");
        // Prompts, responses, the key hash and the caller's address never reach the ledger.
        let export = w.stdout(&["ledger", "export", "--format", "jsonl"]);
        for secret in ["SECRET", "10.9.8.7", "f1d2d2f924e986ac"] {
            assert!(!export.contains(secret), "{secret} in {export}");
        }
        assert!(export.contains("\"api_key\":\"search-prod\""), "{export}");

        // Later: r3 at 12:00, and r4 that LiteLLM wrote late, dated 10:30 (before the cursor, within the
        // 60 minutes of overlap). r3: 4_000 × 2.50 = $0.01; r4: 1_000 × 2.50 = $0.0025.
        db.insert("chatcmpl-r3", "2026-10-05 12:00:00.000", 4_000, 0, 0.01);
        db.insert("chatcmpl-r4", "2026-10-05 10:30:00.000", 1_000, 0, 0.0025);
        // The password from PGPASSWORD this time; pages of one row. From 10:00 (11:00 less 60 minutes):
        // r1 (10:00:00.123), r4, r2, r3, one page each.
        let second = w
            .cmd()
            .env("PGPASSWORD", &db.password)
            .env("HOME", w.path())
            .args([
                "pull",
                "litellm",
                "--database-url",
                &db.url_for("aispend"),
                "--page-size",
                "1",
            ])
            .output()
            .unwrap();
        let all = text(&second);
        assert!(second.status.success(), "{all}");
        assert!(
            all.contains(
                "4 pages, 4 rows from 2026-10-05 10:00:00.000, 2 added litellm, 2 duplicate"
            ),
            "{all}"
        );
        let report = w.json(&["report", "--month", "2026-10"]);
        // $0.0105 + $0.01 + $0.0025 = $0.023.
        assert_eq!(money(&report["total"]["cost"]), "0.023");

        // Nothing new: from 11:00, r2 and r3 again, nothing added.
        let third = pull(w, &db.url, &[]);
        assert!(
            text(&third)
                .contains("2 rows from 2026-10-05 11:00:00.000, 0 added litellm, 2 duplicate"),
            "{}",
            text(&third)
        );
    });
}

#[test]
fn pull_litellm_needs_only_select_and_reads_the_password_file() {
    let Some(server) = server() else { return };
    let mut db = Db::new(&server);
    db.insert("chatcmpl-p1", "2026-10-06 09:00:00.000", 1_000, 0, 0.0025);
    let role = format!("{}_ro", db.name);
    db.client
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD 'ro-pass-7'; \
             GRANT SELECT ON \"LiteLLM_SpendLogs\" TO {role}"
        ))
        .unwrap();
    let w = Workdir::new();
    let pgpass = w.write(
        ".pgpass",
        &format!("# aispend\n{}:*:{role}:ro-pass-7\n", db.host_port),
    );
    let url = db.url_for(&role);

    // Others can read it: ignored (as libpq does), so no password and the server refuses.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = pull(&w, &url, &[]);
        assert_eq!(refused.status.code(), Some(3), "{}", text(&refused));
        assert!(text(&refused).contains("is ignored: others can read it"));
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    // A role with SELECT on the one table is enough: the pull never writes to LiteLLM's database.
    let out = pull(&w, &url, &["--dry-run"]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("1 row"), "{all}");
    assert!(all.contains("1 would add litellm"), "{all}");
    assert!(all.contains("dry run: nothing was written"), "{all}");
    assert!(!all.contains("ro-pass-7"), "{all}");
}

#[test]
fn pull_litellm_failures_name_the_server_never_the_password() {
    let Some(server) = server() else { return };
    let db = Db::new(&server);
    let w = Workdir::new();
    let wrong = db.url.replace(&db.password, "not-the-password-42");
    let out = pull(&w, &wrong, &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(all.contains(&db.url_for("aispend")), "{all}");
    assert!(all.contains("password authentication failed"), "{all}");
    assert!(!all.contains("not-the-password-42"), "{all}");

    // A database without LiteLLM's table.
    let base = server.rsplit_once('/').unwrap().0;
    let out = pull(&w, &format!("{base}/postgres"), &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(
        all.contains("is this the LiteLLM proxy's database"),
        "{all}"
    );
    assert!(!all.contains(&db.password), "{all}");
}

#[test]
fn pull_litellm_speaks_tls_with_sslmode() {
    let Some(server) = server() else { return };
    let ca = match std::env::var("AISPEND_TEST_POSTGRES_CA") {
        Ok(ca) if !ca.is_empty() => ca,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but AISPEND_TEST_POSTGRES_CA is not set: .ci/postgres.sh needs openssl")
        }
        _ => {
            eprintln!(
                "skipped: AISPEND_TEST_POSTGRES_CA is not set (the server has no certificate)"
            );
            return;
        }
    };
    let mut db = Db::new(&server);
    db.insert("chatcmpl-t1", "2026-10-07 09:00:00.000", 1_000, 0, 0.0025);
    let w = Workdir::new();
    // require: encrypted; the self-signed certificate is not checked (as libpq).
    let out = pull(&w, &format!("{}?sslmode=require", db.url), &["--dry-run"]);
    assert!(out.status.success(), "{}", text(&out));
    // verify-full with the server's certificate as the root, by the name in the certificate.
    let by_name = db.url.replace("@127.0.0.1:", "@localhost:");
    let out = pull(
        &w,
        &format!("{by_name}?sslmode=verify-full&sslrootcert={ca}"),
        &["--dry-run"],
    );
    assert!(out.status.success(), "{}", text(&out));
    // verify-full against the system's roots: a self-signed certificate is refused.
    let out = pull(
        &w,
        &format!("{by_name}?sslmode=verify-full"),
        &["--dry-run"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(!text(&out).contains(&db.password));
}
