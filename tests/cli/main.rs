//! Integration tests: the real `aispend` binary run on the files in `fixtures/`.
//!
//! One test binary (one link); a module per command, and `errors` as the catalogue of user-facing input
//! errors (one broken fixture and its expected message each). Expected costs are worked out by hand in
//! comments from the price tables in `pricing/` and the token numbers documented in `fixtures/README.md`.

mod account;
mod anomalies;
mod backends;
mod billing;
mod cache;
mod config;
mod errors;
mod export;
mod forecast;
mod health;
mod help;
mod hostile;
mod html;
mod import;
mod misc;
mod mutation;
#[cfg(feature = "parquet")]
mod parquet;
mod periods;
mod pipes;
mod postgres;
mod pricing;
mod property;
mod pull;
mod recommend;
mod reconcile;
mod report;
mod rollup;
mod shapes;
mod shapes_real;
mod sources_billing;
mod sources_cloud;
mod streams;
mod tables;
mod whatif;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

/// Points a test's `aispend` at a parse cache of its own, in `dir` (the test's temporary folder), never
/// the user's: `AISPEND_CACHE_DIR` (which would win) removed, `XDG_CACHE_HOME` set. Every command a test
/// runs goes through it.
pub trait PrivateCache {
    fn private_cache(&mut self, dir: &Path) -> &mut Self;
}

impl PrivateCache for std::process::Command {
    fn private_cache(&mut self, dir: &Path) -> &mut Self {
        self.env_remove("AISPEND_CACHE_DIR")
            .env("XDG_CACHE_HOME", dir.join("xdg-cache"))
    }
}

impl PrivateCache for Command {
    fn private_cache(&mut self, dir: &Path) -> &mut Self {
        self.env_remove("AISPEND_CACHE_DIR")
            .env("XDG_CACHE_HOME", dir.join("xdg-cache"))
    }
}

/// A throwaway working directory (no `aispend.toml` unless a test writes one) with its own ledger.
pub struct Workdir {
    dir: tempfile::TempDir,
    /// The `--ledger` passed instead of `ledger.db` in the directory (a `postgres://` URL).
    ledger_url: Option<String>,
}

impl Default for Workdir {
    fn default() -> Workdir {
        Workdir::new()
    }
}

impl Workdir {
    pub fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().expect("temp dir"),
            ledger_url: None,
        }
    }

    /// A working directory whose commands use the ledger at `url` (`--ledger postgres://…`).
    pub fn with_ledger_url(url: &str) -> Workdir {
        Workdir {
            ledger_url: Some(url.to_string()),
            ..Workdir::new()
        }
    }

    /// What `--ledger` is given: the URL, else `ledger.db` in the directory.
    pub fn ledger_arg(&self) -> std::ffi::OsString {
        match &self.ledger_url {
            Some(url) => url.into(),
            None => self.ledger().into(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn ledger(&self) -> PathBuf {
        self.dir.path().join("ledger.db")
    }

    /// `aispend` with the working directory and ledger set, and no colour, inherited ledger, config or
    /// terminal width.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("aispend").expect("binary");
        cmd.current_dir(self.path())
            .env_remove("AISPEND_LEDGER")
            .env_remove("AISPEND_CONFIG")
            .env_remove("COLUMNS")
            .env("XDG_CONFIG_HOME", self.path().join("xdg-config"))
            .env("NO_COLOR", "1")
            .env("XDG_DATA_HOME", self.path().join("xdg"))
            .private_cache(self.path())
            .arg("--ledger")
            .arg(self.ledger_arg());
        cmd
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.path().join(name);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        std::fs::write(&p, contents).expect("write");
        p
    }

    /// [`Workdir::cmd`] without the proxy settings of the environment: for a local mock server.
    pub fn cmd_without_proxy(&self) -> Command {
        let mut cmd = self.cmd();
        for proxy in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            cmd.env_remove(proxy);
        }
        cmd
    }

    /// Runs and expects success; returns stdout.
    pub fn stdout(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("run");
        assert!(
            out.status.success(),
            "aispend {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// Runs and expects exit code `code`; returns stdout.
    pub fn stdout_code(&self, args: &[&str], code: i32) -> String {
        let out = self.cmd().args(args).output().expect("run");
        assert_eq!(
            out.status.code(),
            Some(code),
            "aispend {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// Writes a JSON-lines API log of `n` gpt-4o requests by `n` distinct users: enough output, by user or
    /// by record, to overflow a pipe buffer.
    pub fn many_users_log(&self, n: usize) -> PathBuf {
        let mut log = String::new();
        for i in 0..n {
            log.push_str(&format!(
                "{{\"timestamp\":\"2026-10-01T00:00:00Z\",\"user\":\"user-{i:05}\",\"response\":{{\"id\":\"chatcmpl-{i}\",\"object\":\"chat.completion\",\"model\":\"gpt-4o\",\"usage\":{{\"prompt_tokens\":10,\"completion_tokens\":1}}}}}}\n"
            ));
        }
        self.write("many.jsonl", &log)
    }

    /// Runs `aispend ARGS | head -c 16` and checks that the closed pipe is not an error: exit 0, nothing
    /// on standard error.
    pub fn assert_closed_pipe_is_quiet(&self, args: &[String]) {
        use std::io::Read;
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("aispend"))
            .current_dir(self.path())
            .env("NO_COLOR", "1")
            .private_cache(self.path())
            .arg("--ledger")
            .arg(self.ledger())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut stdout = child.stdout.take().expect("stdout");
        let mut first = [0u8; 16];
        stdout.read_exact(&mut first).expect("some output");
        drop(stdout);
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?} {:?}: {stderr}", out.status);
        assert!(out.stderr.is_empty(), "{args:?}: {stderr}");
    }

    /// Runs with `--format json` and parses the result, without its `inputs` account (which names the
    /// files read, so that reports of the same usage from other files or the ledger compare equal; see
    /// [`Workdir::json_with_inputs`]).
    pub fn json(&self, args: &[&str]) -> Value {
        let mut doc = self.json_with_inputs(args);
        if let Some(map) = doc.as_object_mut() {
            map.remove("inputs");
        }
        doc
    }

    /// Runs with `--format json` and parses the whole result.
    pub fn json_with_inputs(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        serde_json::from_str(&self.stdout(&all)).expect("json output")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run")
    }
}

/// Absolute path of a fixture.
pub fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
        .display()
        .to_string()
}

/// The row of a JSON report whose dimension `key` is `value`.
pub fn row<'a>(report: &'a Value, key: &str, value: &str) -> &'a Value {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no row with {key}={value} in {report:#}"))
}

/// A money field as text.
pub fn money(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("money must be a string, got {v}"))
}
