//! The parse cache of direct PATH reads: warm runs give what cold runs give, a grown log is read on from
//! where it ended, a damaged cache is rebuilt with a note, files are private, `cache clear` empties it.

use std::io::Write;

use serde_json::Value;

use crate::{fixture, money, PrivateCache, Workdir};

/// One Claude Sonnet 4.5 request in an API log: $3/M input, $15/M output (pricing/anthropic.toml).
fn request(id: u32, input: u32, output: u32) -> String {
    format!(
        "{{\"timestamp\":\"2026-10-07T08:00:00Z\",\"provider\":\"anthropic\",\"request_id\":\"req_{id}\",\
         \"response\":{{\"id\":\"msg_{id}\",\"type\":\"message\",\"model\":\"claude-sonnet-4-5-20250929\",\
         \"usage\":{{\"input_tokens\":{input},\"output_tokens\":{output}}}}}}}\n"
    )
}

/// The report without its generation time.
fn report(w: &Workdir, args: &[&str]) -> Value {
    let mut doc = w.json(args);
    if let Some(o) = doc.as_object_mut() {
        o.remove("generated_at");
    }
    doc
}

/// The `-v` line of the file named `name`.
fn detail(w: &Workdir, args: &[&str], name: &str) -> String {
    let mut all = vec!["-v"];
    all.extend(args);
    let out = w.run(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .find(|l| l.contains(name))
        .unwrap_or_else(|| panic!("no line for {name}"))
        .to_owned()
}

#[test]
fn a_grown_log_is_read_on_from_where_it_ended() {
    let w = Workdir::new();
    let log = w.write("logs/app.jsonl", &request(1, 1000, 500));
    let log_arg = log.to_str().unwrap();
    // 1,000 x $3/M + 500 x $15/M = $0.003 + $0.0075 = $0.0105
    let cold = report(&w, &["report", log_arg]);
    assert_eq!(money(&cold["total"]["cost"]), "0.0105");
    assert!(!detail(&w, &["report", log_arg], "app.jsonl").contains("grew"));
    assert!(detail(&w, &["report", log_arg], "app.jsonl")
        .contains("unchanged: its sums from the parse cache"));
    assert_eq!(report(&w, &["report", log_arg]), cold);

    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(request(2, 2000, 100).as_bytes()).unwrap();
    drop(f);
    assert!(detail(&w, &["report", log_arg], "app.jsonl").contains("grew: new lines read"));
    // Again after the first extension, and once more from the cache.
    f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(request(3, 0, 1000).as_bytes()).unwrap();
    drop(f);
    let warm = report(&w, &["report", log_arg]);
    // + 2,000 x $3/M + 100 x $15/M = $0.006 + $0.0015 = $0.0075
    // + 1,000 x $15/M = $0.015; total $0.0105 + $0.0075 + $0.015 = $0.033
    assert_eq!(money(&warm["total"]["cost"]), "0.033");
    assert_eq!(warm["total"]["requests"], 3);
    assert_eq!(report(&w, &["report", log_arg, "--no-cache"]), warm);
    assert_eq!(report(&w, &["report", log_arg]), warm);
}

#[test]
fn many_small_logs_that_grew_by_more_than_a_chunk_are_read_on() {
    // A run of small files is parsed ahead of the one being handed on; a file that grew is read on
    // while it is handed on, its new lines (more than one 1 MiB chunk) parsed in parallel on the same
    // threads. With every place ahead taken, this once waited forever.
    let w = Workdir::new();
    let mut id = 0;
    let mut next = || {
        id += 1;
        request(id, 1000, 500)
    };
    let logs: Vec<_> = (0..40)
        .map(|i| w.write(&format!("logs/s{i:02}.jsonl"), &next()))
        .collect();
    let dir = w.path().join("logs");
    let dir = dir.to_str().unwrap();
    let cold = report(&w, &["report", dir]);
    assert_eq!(cold["total"]["requests"], 40);
    for (i, log) in logs.iter().enumerate() {
        let grown: String = (0..if i < 4 { 6000 } else { 1 }).map(|_| next()).collect();
        if i < 4 {
            assert!(grown.len() > 1024 * 1024, "grows by more than a chunk");
        }
        let mut f = std::fs::OpenOptions::new().append(true).open(log).unwrap();
        f.write_all(grown.as_bytes()).unwrap();
    }
    let out = w
        .cmd()
        .args(["-v", "report", dir, "--format", "json"])
        .timeout(std::time::Duration::from_secs(300))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert_eq!(
        stderr.matches("grew: new lines read").count(),
        40,
        "{stderr}"
    );
    let warm: Value = serde_json::from_slice(&out.stdout).unwrap();
    // 40 + 4 x 6,000 + 36 = 24,076 requests, each 1,000 x $3/M + 500 x $15/M = $0.0105:
    // 24,076 x $0.0105 = $252.798
    assert_eq!(warm["total"]["requests"], 24_076);
    assert_eq!(money(&warm["total"]["cost"]), "252.798");
}

#[test]
fn warm_runs_over_every_format_equal_cold_ones() {
    let w = Workdir::new();
    let demo = fixture("demo");
    let cold = report(&w, &["report", &demo, "--by", "team,model", "--no-cache"]);
    let first = report(&w, &["report", &demo, "--by", "team,model"]);
    let warm = report(&w, &["report", &demo, "--by", "team,model"]);
    assert_eq!(first, cold);
    assert_eq!(warm, cold);
    for source in ["api-log", "claude-code", "openai-csv", "bedrock", "litellm"] {
        let path = fixture(match source {
            "api-log" => "api-log",
            "claude-code" => "claude-code/projects",
            "openai-csv" => "openai-csv",
            "bedrock" => "bedrock",
            _ => "litellm",
        });
        let args = [
            "report",
            path.as_str(),
            "--skip-invalid",
            "--by",
            "model,day",
        ];
        let cold = report(&w, &[&args[..], &["--no-cache"]].concat());
        report(&w, &args);
        assert_eq!(report(&w, &args), cold, "{source}");
    }
}

#[test]
fn a_damaged_cache_is_rebuilt_with_a_note() {
    let w = Workdir::new();
    let log = w.write("app.jsonl", &request(1, 1000, 500));
    let log_arg = log.to_str().unwrap();
    let want = report(&w, &["report", log_arg]);
    let dir = w.path().join("xdg-cache/aispend/parse-v3");
    let mut damaged = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let ext = path.extension().unwrap().to_string_lossy().into_owned();
        if ext == "data" || ext == "meta" {
            std::fs::write(&path, b"not what was written").unwrap();
            damaged += 1;
        }
    }
    assert_eq!(damaged, 2);
    let out = w.run(&["report", log_arg, "--format", "json"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("app.jsonl: its parse cache entry was damaged")
            && stderr.contains("rebuilt"),
        "{stderr}"
    );
    let mut got: Value = serde_json::from_slice(&out.stdout).unwrap();
    got.as_object_mut().unwrap().remove("generated_at");
    // The per-file account names the file read; the report itself is compared.
    got.as_object_mut().unwrap().remove("inputs");
    assert_eq!(got, want);
    // Rebuilt: quiet again, and served from the cache.
    let out = w.run(&["-v", "report", log_arg]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("damaged"), "{stderr}");
    assert!(
        stderr.contains("unchanged: its sums from the parse cache"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn cache_files_are_private_and_hold_no_prompt_text() {
    use std::os::unix::fs::PermissionsExt;
    let w = Workdir::new();
    let demo = fixture("api-log/openai-chat.jsonl");
    w.stdout(&["report", &demo]);
    let dir = w.path().join("xdg-cache/aispend/parse-v3");
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
        let bytes = std::fs::read(&path).unwrap();
        // A completion's text in the fixture's first response.
        assert!(!String::from_utf8_lossy(&bytes).contains("Lorem ipsum"));
        files += 1;
    }
    assert_eq!(files, 3, "lock, meta and data");
}

#[test]
fn cache_clear_empties_it_and_cache_path_names_it() {
    let w = Workdir::new();
    w.stdout(&["report", &fixture("api-log"), "--skip-invalid"]);
    let dir = w.path().join("xdg-cache/aispend/parse-v3");
    assert!(std::fs::read_dir(&dir).unwrap().count() > 0);
    assert_eq!(
        w.stdout(&["cache", "path"]).trim(),
        dir.display().to_string()
    );
    let out = w.run(&["cache", "clear"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("removed"));
    assert!(!dir.exists());
    // Clearing an empty cache is not an error.
    assert!(w.run(&["cache", "clear"]).status.success());
}

#[test]
fn concurrent_runs_share_the_cache_without_harm() {
    let w = Workdir::new();
    let demo = fixture("demo");
    let want = report(&w, &["report", &demo, "--by", "model,day", "--no-cache"]);
    for _round in 0..3 {
        let children: Vec<_> = (0..4)
            .map(|_| {
                let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("aispend"));
                cmd.current_dir(w.path())
                    .env_remove("AISPEND_CONFIG")
                    .env("XDG_CONFIG_HOME", w.path().join("xdg-config"))
                    .private_cache(w.path())
                    .arg("--ledger")
                    .arg(w.ledger())
                    .args(["report", &demo, "--by", "model,day", "--format", "json"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            // Only the per-file account (the demo has unpriced usage): no error, no damaged entry.
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !stderr.contains("damaged") && !stderr.contains("aispend:"),
                "{}",
                stderr
            );
            let mut got: Value = serde_json::from_slice(&out.stdout).unwrap();
            got.as_object_mut().unwrap().remove("generated_at");
            got.as_object_mut().unwrap().remove("inputs");
            assert_eq!(got, want);
        }
    }
}
