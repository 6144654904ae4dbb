//! The command line: global options, the subcommands (one file each), and the context they share
//! (config, price tables, ledger location, output stream).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{Config, ConfigOrigin};
use crate::error::{Error, Result};
use crate::ledger::{Ledger, Location};
use crate::output::Style;
use crate::pricing::PriceBook;

pub mod anomalies;
pub mod budget;
pub mod cache;
pub mod completions;
pub mod config;
pub mod forecast;
pub mod health;
pub mod import;
pub mod ledger;
pub mod man;
pub mod pricing;
pub mod pull;
pub mod recommend;
pub mod report;
pub mod sources;
pub mod usage;
pub mod whatif;

const ABOUT: &str =
    "AI spend cost intelligence: import provider usage, price it exactly, report it";

const AFTER_HELP: &str = "\
Examples:
  aispend report exports/                  cost per model, newest month of a folder of exports
  aispend import usage/*.jsonl.gz          add API logs to the ledger (deduplicated, atomic)
  aispend report --month 2026-10 --by team,model --compare
  aispend forecast --by team
  aispend budget check --budgets budgets.toml --format github

Exit codes: 0 success · 1 a budget breached (or forecast to) · 2 bad usage or input · 3 internal failure";

#[derive(Debug, Parser)]
#[command(name = "aispend", version, about = ABOUT, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Ledger: an SQLite file, or a shared PostgreSQL database as postgres://USER@HOST:PORT/DB (password
    /// from PGPASSWORD or ~/.pgpass; never printed) [default: $AISPEND_LEDGER, else `ledger` in the
    /// config, else $XDG_DATA_HOME/aispend/ledger.db]
    #[arg(long, global = true, value_name = "PATH|URL")]
    pub ledger: Option<PathBuf>,
    /// How long to wait when another process (an import, a pull) holds the ledger's write lock, before
    /// giving up with a message that says so
    #[arg(long, global = true, value_name = "SECS", default_value_t = 60)]
    pub lock_timeout: u64,
    /// Config file [default: $AISPEND_CONFIG, else ./aispend.toml, else
    /// ~/.config/aispend/aispend.toml, when present; `aispend config path` shows which]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Extra price table file or folder of .toml files; overrides built-in entries with the same id
    /// (repeatable, later wins)
    #[arg(long, global = true, value_name = "PATH")]
    pub pricing: Vec<PathBuf>,
    /// Price records that no price table knows from LiteLLM's public price map, marked as such in every
    /// output: `litellm` (the newest snapshot `aispend pricing update` stored, else the one built in) or
    /// `litellm=FILE` [config: `[pricing] fallback`]
    #[arg(long, global = true, value_name = "litellm[=FILE]", value_parser = crate::pricing::litellm::FallbackSpec::parse)]
    pub pricing_fallback: Option<crate::pricing::litellm::FallbackSpec>,
    /// Print only errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail (files read, records skipped)
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// When to use colour (NO_COLOR in the environment turns `auto` off)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

/// `--format` of the commands that describe rather than report (`ledger stats`, `sources`, `pricing
/// missing`, `config path`): lines for people, or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InfoFormat {
    #[value(alias = "text")]
    Table,
    Json,
}

/// Lines for people are the table writer's; JSON is JSON.
impl From<InfoFormat> for crate::output::Format {
    fn from(f: InfoFormat) -> Self {
        match f {
            InfoFormat::Table => crate::output::Format::Table,
            InfoFormat::Json => crate::output::Format::Json,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Import(import::Args),
    Pull(pull::Args),
    Report(report::Args),
    Forecast(forecast::Args),
    Whatif(whatif::Args),
    Health(health::Args),
    Anomalies(anomalies::Args),
    Recommend(recommend::Args),
    #[command(subcommand)]
    Budget(budget::Command),
    #[command(subcommand)]
    Pricing(pricing::Command),
    #[command(subcommand)]
    Ledger(ledger::Command),
    Sources(sources::Args),
    #[command(subcommand)]
    Cache(cache::Command),
    #[command(subcommand)]
    Config(config::Command),
    Completions(completions::Args),
    Man(man::Args),
}

/// What every command gets: the parsed global options and the config, both ready when the command
/// starts (the config is read eagerly: a bad config is reported before any work). The price tables and
/// the ledger are loaded only by the commands that need them, when they ask ([`Context::price_book`],
/// [`Context::open_ledger`]); the price tables once per run, however many times they are asked for.
pub struct Context {
    pub global: GlobalArgs,
    pub config: Config,
    /// Where the config came from (`aispend config path`).
    pub config_origin: ConfigOrigin,
    pub stdout_is_tty: bool,
    /// What the files read so far held (the per-file account), from the first read of the run's PATHs.
    pub inputs: std::cell::RefCell<Option<crate::input::ReadSummary>>,
    /// Warnings given so far (`--strict` fails the run when there are any).
    warnings: std::cell::Cell<usize>,
    /// The price tables, once loaded ([`Context::price_book`]).
    price_book: std::cell::OnceCell<PriceBook>,
}

impl Context {
    pub fn new(global: GlobalArgs) -> Result<Context> {
        let (config, config_origin) = Config::discover(global.config.as_deref())?;
        Ok(Context {
            global,
            config,
            config_origin,
            stdout_is_tty: std::io::stdout().is_terminal(),
            inputs: std::cell::RefCell::new(None),
            warnings: std::cell::Cell::new(0),
            price_book: std::cell::OnceCell::new(),
        })
    }

    /// Where the ledger is (SPEC "The ledger": flag, env, config, platform data directory): a file, or
    /// a PostgreSQL database (`postgres://…`).
    pub fn ledger_location(&self) -> Result<(Location, &'static str)> {
        let (raw, from) = self.ledger_choice()?;
        Ok((Location::parse(raw, from)?, from))
    }

    /// The ledger as given, and what chose it.
    fn ledger_choice(&self) -> Result<(PathBuf, &'static str)> {
        if let Some(p) = &self.global.ledger {
            return Ok((p.clone(), "--ledger"));
        }
        if let Some(p) = std::env::var_os("AISPEND_LEDGER").filter(|v| !v.is_empty()) {
            return Ok((PathBuf::from(p), "$AISPEND_LEDGER"));
        }
        if let Some(p) = &self.config.ledger {
            return Ok((p.clone(), "`ledger` in the config"));
        }
        let data = data_dir().ok_or_else(|| {
            Error::usage("cannot find a data directory for the ledger: pass --ledger PATH")
        })?;
        Ok((data.join("ledger.db"), "the default data folder"))
    }

    /// Opens the ledger, creating it (and a file's missing parent folders). Its imports price
    /// `daily_cost` with this run's price tables and team rules.
    pub fn open_ledger(&self) -> Result<Ledger> {
        let (location, _) = self.ledger_location()?;
        if let Location::File(path) = &location {
            check_ledger_folder(path)?;
        }
        let ledger = Ledger::open_at(location, self.lock_timeout())?;
        Ok(ledger.with_pricing(self.daily_pricing()?))
    }

    /// What prices `daily_cost`: this run's price tables and team rules.
    pub fn daily_pricing(&self) -> Result<crate::ledger::daily::Pricing> {
        Ok(crate::ledger::daily::Pricing {
            book: self.price_book()?.clone(),
            rules: self.config.teams.clone(),
        })
    }

    pub fn open_existing_ledger(&self) -> Result<Ledger> {
        Ledger::open_existing_at(self.ledger_location()?.0, self.lock_timeout())
    }

    /// `--lock-timeout`.
    pub fn lock_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.global.lock_timeout)
    }

    /// The price tables, with the LiteLLM fallback when `--pricing-fallback` or the config asks for it:
    /// read and parsed on the first call, then kept for the rest of the run.
    pub fn price_book(&self) -> Result<&PriceBook> {
        if let Some(book) = self.price_book.get() {
            return Ok(book);
        }
        let book = self.load_price_book()?;
        Ok(self.price_book.get_or_init(|| book))
    }

    fn load_price_book(&self) -> Result<PriceBook> {
        let book = PriceBook::load(&self.global.pricing)?
            .with_azure_deployments(&self.config.azure_deployments);
        let spec = self
            .global
            .pricing_fallback
            .as_ref()
            .or(self.config.pricing_fallback.as_ref());
        let Some(spec) = spec else {
            return Ok(book);
        };
        let (bytes, label) = fallback_map(spec)?;
        let models = crate::pricing::litellm::parse_map(&bytes, &label)?;
        Ok(book.with_fallback(models, label))
    }

    /// Whether to colour output written to standard output.
    pub fn color(&self) -> bool {
        match self.global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                self.stdout_is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }

    pub fn style(&self) -> Style {
        Style {
            color: self.color(),
            width: table_width(self.stdout_is_tty),
        }
    }

    /// Whether to draw progress bars: standard error is a terminal and `--quiet` is off.
    pub fn show_progress(&self) -> bool {
        !self.global.quiet && std::io::stderr().is_terminal()
    }

    /// A note for the user on standard error (suppressed by `--quiet`). Values in it are shown inert
    /// (control characters escaped, see `crate::sanitize::note`).
    pub fn note(&self, message: impl std::fmt::Display) {
        if !self.global.quiet {
            eprintln!("{}", crate::sanitize::note(&message.to_string()));
        }
    }

    /// A warning on standard error (`warning: …`, suppressed by `--quiet`), counted for `--strict`.
    pub fn warn(&self, message: impl std::fmt::Display) {
        self.warnings.set(self.warnings.get() + 1);
        self.note(format_args!("warning: {message}"));
    }

    /// How many warnings were given so far.
    pub fn warning_count(&self) -> usize {
        self.warnings.get()
    }

    /// Keeps the account of the first read of the run's PATHs (later reads of the same PATHs, for a
    /// page's chart or budgets, add nothing new to it).
    pub fn keep_inputs(&self, summary: &crate::input::ReadSummary) {
        let mut inputs = self.inputs.borrow_mut();
        if inputs.is_none() {
            *inputs = Some(summary.clone());
        }
    }

    /// The `inputs` array of JSON outputs.
    pub fn inputs_json(&self) -> serde_json::Value {
        crate::account::inputs_json(self.inputs.borrow().as_ref())
    }

    /// Writes a result through the output layer; a JSON document also gets the `inputs` array (the
    /// per-file account of the files read; empty when the input is the ledger).
    pub fn write_output(
        &self,
        x: &dyn crate::output::Render,
        format: crate::output::Format,
        out: &mut dyn Write,
    ) -> Result<()> {
        if format == crate::output::Format::Json {
            let mut doc = x.json();
            doc["inputs"] = self.inputs_json();
            crate::output::json::write(&doc, out)
        } else {
            crate::output::write(x, format, self.style(), out)
        }
    }

    /// Ends a run that read PATHs with their per-file account on standard error; with `strict`, any
    /// warning given during the run fails it (exit 2).
    pub fn finish_reading(&self, strict: bool) -> Result<()> {
        if let Some(summary) = self.inputs.borrow().as_ref() {
            let account = crate::account::account(summary, self.global.verbose);
            for line in &account.lines {
                self.note(line);
            }
            for w in &account.warnings {
                self.warn(w);
            }
        }
        self.check_strict(strict)
    }

    /// `--strict`: fails when any warning was given.
    pub fn check_strict(&self, strict: bool) -> Result<()> {
        match self.warning_count() {
            n if strict && n > 0 => Err(Error::usage(format!(
                "--strict: {n} warning(s) above; fix the input or leave out --strict"
            ))),
            _ => Ok(()),
        }
    }

    /// A detail shown with `--verbose` only.
    pub fn detail(&self, message: impl std::fmt::Display) {
        if self.global.verbose {
            eprintln!("{}", crate::sanitize::note(&message.to_string()));
        }
    }
}

/// Notes about the inputs go where the command's own notes go (`--quiet`, `--verbose`).
impl crate::usage_input::Notices for Context {
    fn note(&self, message: &dyn std::fmt::Display) {
        Context::note(self, message)
    }

    fn detail(&self, message: &dyn std::fmt::Display) {
        Context::detail(self, message)
    }

    fn warn(&self, message: &dyn std::fmt::Display) {
        Context::warn(self, message)
    }

    fn first_read(&self) -> bool {
        self.inputs.borrow().is_none()
    }

    fn keep_inputs(&self, summary: &crate::input::ReadSummary) {
        Context::keep_inputs(self, summary)
    }
}

/// aispend's folder in the platform data directory (`$XDG_DATA_HOME/aispend`).
pub fn data_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(dirs::data_dir)
        .map(|d| d.join("aispend"))
}

/// The price map a fallback reads, and how to name it: the FILE given, else the newest snapshot that
/// `aispend pricing update` stored, else the snapshot built into the binary.
fn fallback_map(spec: &crate::pricing::litellm::FallbackSpec) -> Result<(Vec<u8>, String)> {
    use crate::pricing::litellm::{gunzip_if_needed, read_map_file, BUILT_IN_SNAPSHOT};
    if let Some(file) = &spec.file {
        return Ok((
            read_map_file(file)?,
            format!("LiteLLM price map {}", file.display()),
        ));
    }
    if let Some(stored) = pricing::update::newest_snapshot() {
        return Ok((
            read_map_file(&stored.path)?,
            format!(
                "LiteLLM snapshot {} ({})",
                stored.date,
                stored.path.display()
            ),
        ));
    }
    let (date, gz) = BUILT_IN_SNAPSHOT;
    let bytes = gunzip_if_needed(gz.to_vec())
        .map_err(|e| Error::usage(format!("the built-in LiteLLM snapshot does not read: {e}")))?;
    Ok((bytes, format!("LiteLLM snapshot {date} (built in)")))
}

/// The width tables are fitted to: `COLUMNS` when set to a number (also when writing to a file or
/// pipe, so a fixed width can be asked for), else the terminal's width, else 80 on a terminal that
/// does not say (a width of 0 counts as not saying). Output to a file or pipe is not fitted.
fn table_width(stdout_is_tty: bool) -> Option<u16> {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|&w| w > 0);
    if columns.is_some() || !stdout_is_tty {
        return columns;
    }
    Some(
        comfy_table::Table::new()
            .width()
            .filter(|&w| w > 0)
            .unwrap_or(80),
    )
}

/// Buffered standard output. Write errors propagate as `Error::Output`; a closed pipe is turned into a
/// quiet success by `main`.
pub fn stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock())
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<i32> {
    let ctx = Context::new(cli.global)?;
    let mut out = stdout();
    let strict = match &cli.command {
        Command::Report(a) => Some(a.input.strict),
        Command::Forecast(a) => Some(a.input.strict),
        Command::Whatif(a) => Some(a.input.strict),
        Command::Budget(budget::Command::Check(a)) => Some(a.input.strict),
        Command::Health(a) => Some(a.input.strict),
        Command::Anomalies(a) => Some(a.input.strict),
        Command::Ledger(ledger::Command::Export(a)) => Some(a.input.strict),
        _ => None,
    };
    let code = match cli.command {
        Command::Import(args) => import::run(&ctx, args, &mut out)?,
        Command::Pull(args) => pull::run(&ctx, args, &mut out)?,
        Command::Report(args) => report::run(&ctx, args, &mut out)?,
        Command::Forecast(args) => forecast::run(&ctx, args, &mut out)?,
        Command::Whatif(args) => whatif::run(&ctx, args, &mut out)?,
        Command::Health(args) => health::run(&ctx, args, &mut out)?,
        Command::Anomalies(args) => anomalies::run(&ctx, args, &mut out)?,
        Command::Recommend(args) => recommend::run(&ctx, args, &mut out)?,
        Command::Budget(cmd) => budget::run(&ctx, cmd, &mut out)?,
        Command::Pricing(cmd) => pricing::run(&ctx, cmd, &mut out)?,
        Command::Ledger(cmd) => ledger::run(&ctx, cmd, &mut out)?,
        Command::Sources(args) => sources::run(&ctx, args, &mut out)?,
        Command::Cache(cmd) => cache::run(&ctx, cmd, &mut out)?,
        Command::Config(cmd) => config::run(&ctx, cmd, &mut out)?,
        Command::Completions(args) => completions::run(args, &mut out)?,
        Command::Man(args) => man::run(args, &mut out)?,
    };
    out.flush()?;
    if let Some(strict) = strict {
        ctx.finish_reading(strict)?;
    }
    Ok(code)
}

/// A ledger path whose nearest existing ancestor is a file (`/dev/null/x.db`) cannot be created: say so
/// plainly instead of passing on the operating system's "File exists".
fn check_ledger_folder(path: &Path) -> Result<()> {
    let existing = path
        .ancestors()
        .skip(1)
        .filter(|a| !a.as_os_str().is_empty())
        .find(|a| a.exists());
    match existing {
        Some(a) if !a.is_dir() => Err(Error::usage(format!(
            "cannot create the ledger {}: {} is a file, not a folder (pass --ledger with a path in a folder)",
            path.display(),
            a.display()
        ))),
        _ => Ok(()),
    }
}

pub use crate::usage_input::check_paths;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_price_tables_load_once_per_run() {
        let cli = Cli::parse_from(["aispend", "sources"]);
        let ctx = Context {
            global: cli.global,
            config: Config::default(),
            config_origin: ConfigOrigin::Flag,
            stdout_is_tty: false,
            inputs: std::cell::RefCell::new(None),
            warnings: std::cell::Cell::new(0),
            price_book: std::cell::OnceCell::new(),
        };
        let first = ctx.price_book().unwrap() as *const PriceBook;
        let second = ctx.price_book().unwrap() as *const PriceBook;
        assert_eq!(first, second, "the second call reloaded the tables");
    }
}
