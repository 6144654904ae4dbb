//! Config discovery (`--config`, `$AISPEND_CONFIG`, `./aispend.toml`, the user config folder),
//! `aispend config path`, where `import` writes, and the JSON of `ledger stats`, `sources` and
//! `pricing missing`.

use serde_json::Value;

use super::backends::on_each_backend;
use super::{fixture, PrivateCache, Workdir};

fn json(w: &Workdir, args: &[&str]) -> Value {
    serde_json::from_str(&w.stdout(args)).expect("json")
}

/// A config that puts every record of project `ranker` in team `<team>`.
fn rule(team: &str) -> String {
    format!("[teams]\nrules = [{{ team = \"{team}\", project = \"ranker\" }}]\n")
}

/// The teams of a report of fixtures/forecast/constant.jsonl (every record: project ranker, team search).
fn teams(w: &Workdir, env: Option<&str>) -> Vec<String> {
    let mut cmd = w.cmd();
    if let Some(path) = env {
        cmd.env("AISPEND_CONFIG", path);
    }
    let out = cmd
        .args(["report", "--by", "team", "--format", "json"])
        .arg(fixture("forecast/constant.jsonl"))
        .assert()
        .success();
    let r: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["team"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_config_is_found_where_people_put_it() {
    let w = Workdir::new();
    // No config anywhere: the record's own team.
    assert_eq!(teams(&w, None), ["search"]);
    let path = json(&w, &["config", "path", "--format", "json"]);
    assert_eq!(path["config"], Value::Null);
    assert_eq!(path["ledger_from"], "--ledger");
    // The user config folder ($XDG_CONFIG_HOME/aispend/aispend.toml).
    w.write("xdg-config/aispend/aispend.toml", &rule("from-user-dir"));
    assert_eq!(teams(&w, None), ["from-user-dir"]);
    // ./aispend.toml comes before it.
    w.write("aispend.toml", &rule("from-working-dir"));
    assert_eq!(teams(&w, None), ["from-working-dir"]);
    let path = json(&w, &["config", "path", "--format", "json"]);
    assert!(path["config"].as_str().unwrap().ends_with("aispend.toml"));
    assert_eq!(path["config_from"], "./aispend.toml in the working folder");
    // $AISPEND_CONFIG before that, and --config before everything.
    let env = w.write("env.toml", &rule("from-env"));
    assert_eq!(teams(&w, Some(env.to_str().unwrap())), ["from-env"]);
    let flag = w.write("flag.toml", &rule("from-flag"));
    let out = w
        .cmd()
        .env("AISPEND_CONFIG", &env)
        .args(["--config", flag.to_str().unwrap(), "config", "path"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("flag.toml (from --config)"), "{text}");
    // A config named by the variable must exist.
    let out = w
        .cmd()
        .env("AISPEND_CONFIG", w.path().join("nope.toml"))
        .args(["config", "path"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.toml"));
}

/// `aispend` in the work folder without the test ledger, for a `--ledger` of the test's own.
fn without_ledger(w: &Workdir) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("aispend").expect("binary");
    cmd.current_dir(w.path())
        .env_remove("AISPEND_LEDGER")
        .env_remove("AISPEND_CONFIG")
        .private_cache(w.path());
    cmd
}

// SQLite only: about where a ledger file is written and the folders made for it.
#[test]
fn import_says_where_it_wrote_and_makes_folders() {
    let w = Workdir::new();
    let f = fixture("forecast/constant.jsonl");
    let ledger = w.path().join("new").join("folder").join("ledger.db");
    let out = without_ledger(&w)
        .args(["--ledger", ledger.to_str().unwrap(), "import", &f])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout);
    assert!(
        text.contains(&format!("written to {}", ledger.display())),
        "{text}"
    );
    assert!(ledger.is_file());
    // Under a file, no folder can be made: a clear message, exit 2.
    let out = without_ledger(&w)
        .args(["--ledger", "/dev/null/x.db", "import", &f])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/dev/null is a file, not a folder"), "{err}");
}

#[test]
fn describing_commands_speak_json() {
    on_each_backend(|w, _| {
        w.stdout(&["import", &fixture("forecast/constant.jsonl")]);
        // 45 daily requests, 2026-09-01 to 2026-10-15, from one API log.
        let stats = json(w, &["ledger", "stats", "--format", "json"]);
        assert_eq!(stats["schema"], "aispend.ledger-stats.v1");
        assert_eq!(stats["records"], 45);
        assert_eq!(stats["first"], "2026-09-01T12:00:00Z");
        assert_eq!(stats["last"], "2026-10-15T12:00:00Z");
        assert_eq!(stats["sources"][0]["source"], "api-log");
    });
    let w = Workdir::new();
    let sources = json(&w, &["sources", "--format", "json"]);
    assert!(sources["sources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == "claude-code"));
    let missing = json(
        &w,
        &[
            "pricing",
            "missing",
            "--format",
            "json",
            &fixture("demo/api-logs"),
        ],
    );
    assert_eq!(missing["schema"], "aispend.pricing-missing.v1");
    assert!(missing["unpriced"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["model"] == "gpt-9-preview"));
}
