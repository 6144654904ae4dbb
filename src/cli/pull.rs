//! `aispend pull openai|anthropic`: fetch usage (and cost) pages from a provider's admin API into the
//! ledger, all pages first, then one transaction (see `crate::pull`).

use std::io::Write;
use std::time::Duration;

use chrono::Utc;
use clap::ValueEnum;
use reqwest::Url;

use super::Context;
use crate::error::{Error, Result};
use crate::input::{Accepted, RecordSink};
use crate::output::count_human;
use crate::period::parse_date;
use crate::pg::PgTarget;
use crate::pull::http::Retry;
use crate::pull::{
    self, anthropic, openai, AdminKey, BucketWidth, Fetched, HttpOptions, Plan, Progress,
    PullError, Window,
};

const LONG_ABOUT: &str = "\
Fetch usage (and cost) from a provider's admin API into the ledger.

  openai      GET /v1/organization/usage/completions and /v1/organization/costs,
              key from OPENAI_ADMIN_KEY (an organization admin key)
  anthropic   GET /v1/organizations/usage_report/messages and /v1/organizations/cost_report,
              key from ANTHROPIC_ADMIN_KEY (an organization admin key)
  litellm     the LiteLLM proxy's own PostgreSQL database (--database-url), table
              \"LiteLLM_SpendLogs\": one record per request, read-only, incrementally

The key is read from the environment only and sent only in request headers; it is never \
printed, logged or stored. Usage comes in daily buckets (--bucket-width 1h for hourly), grouped \
by every dimension the ledger keeps (OpenAI: project, API key, model, batch, service tier; \
Anthropic: workspace, API key, model, service tier, context window); costs by project and line \
item (OpenAI) or workspace and description (Anthropic). Pages are read in memory by the same \
importers as saved pages, so pulling and importing the same days adds nothing twice, and a day \
pulled again after it grew keeps the larger copy.

A pull is all-or-nothing: every page is fetched and checked first, then everything is written in \
one transaction; a failed pull writes nothing, so just run it again. Rate limits (429), server \
errors (5xx) and connection failures are retried with exponential backoff (honouring \
Retry-After); a refused request (401, 403, 400...) stops at once.

litellm reads \"LiteLLM_SpendLogs\" in one read-only transaction, in pages ordered by \
(startTime, request_id), from where the last pull of that database stopped (a cursor kept in the \
ledger) less --overlap-minutes (LiteLLM writes its spend logs in batches, so late rows are picked \
up; rows already pulled add nothing). Only the columns the litellm importer maps are read: never \
messages, responses, the key hash or IP addresses. The password comes from the URL, PGPASSWORD or \
~/.pgpass and is never printed; TLS with ?sslmode=require or verify-full (sslrootcert=FILE for a \
private CA). --since DATE reads from that day instead of the cursor.

Exit codes: 2 for a missing key, a bad flag, a refused request or a malformed page; 3 when the \
provider (or database) stays unreachable or failing after every retry.";

const AFTER_HELP: &str = "\
Examples:
  OPENAI_ADMIN_KEY=sk-admin-… aispend pull openai                  this month so far
  aispend pull anthropic --since 2026-10-01 --until 2026-10-31
  aispend pull openai --bucket-width 1h --since 2026-10-14 --until 2026-10-14
  aispend pull openai --dry-run -v            fetch and check, write nothing
  PGPASSWORD=… aispend pull litellm --database-url postgres://spend_ro@db:5432/litellm?sslmode=require";

/// Which provider to pull from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderArg {
    Openai,
    Anthropic,
    Litellm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WidthArg {
    #[value(name = "1d")]
    Day,
    #[value(name = "1h")]
    Hour,
}

/// Fetch usage and cost from a provider's admin API into the ledger
#[derive(Debug, clap::Args)]
#[command(long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Args {
    /// The provider whose admin API to call
    #[arg(value_enum, value_name = "PROVIDER")]
    pub provider: ProviderArg,
    /// First day to pull, inclusive, UTC (YYYY-MM-DD) [default: the first day of --until's month]
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Last day to pull, inclusive, UTC (YYYY-MM-DD) [default: today]
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// API base URL [default: https://api.openai.com or https://api.anthropic.com]
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Width of usage buckets (cost reports are always daily)
    #[arg(long, value_enum, default_value = "1d", value_name = "WIDTH")]
    pub bucket_width: WidthArg,
    /// Fetch usage only, not the cost endpoint
    #[arg(long)]
    pub no_costs: bool,
    /// Seconds to wait for each request before retrying it
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Fetch and check everything, then roll back: nothing is written
    #[arg(long)]
    pub dry_run: bool,
    /// litellm: the proxy's database, postgres://USER@HOST:PORT/DB[?sslmode=require|verify-full]
    /// (the password from PGPASSWORD or ~/.pgpass; never printed)
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// litellm: rows per page
    #[arg(long, value_name = "ROWS", default_value_t = pull::litellm::DEFAULT_PAGE_ROWS,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub page_size: u32,
    /// litellm: start this many minutes before the cursor, for rows LiteLLM wrote late
    #[arg(long, value_name = "MINUTES", default_value_t = pull::litellm::DEFAULT_OVERLAP_MINUTES)]
    pub overlap_minutes: u32,
}

/// A provider module's `plan`: base URL, period, bucket width, whether to fetch costs.
type PlanFn = fn(Url, &Window, BucketWidth, bool) -> Plan;

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<i32> {
    if args.provider != ProviderArg::Litellm && args.database_url.is_some() {
        return Err(Error::usage("--database-url applies to `pull litellm`"));
    }
    let today = Utc::now().date_naive();
    let since = args
        .since
        .as_deref()
        .map(|s| parse_date(s, "--since"))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|s| parse_date(s, "--until"))
        .transpose()?;
    let window = Window::resolve(since, until, today)?;
    let width = match args.bucket_width {
        WidthArg::Day => BucketWidth::Day,
        WidthArg::Hour => BucketWidth::Hour,
    };
    let (key_var, default_base, plan): (_, _, PlanFn) = match args.provider {
        ProviderArg::Openai => (openai::KEY_VAR, openai::DEFAULT_BASE, openai::plan),
        ProviderArg::Anthropic => (anthropic::KEY_VAR, anthropic::DEFAULT_BASE, anthropic::plan),
        ProviderArg::Litellm => return run_litellm(ctx, args, out),
    };
    let base = base_url(args.base_url.as_deref().unwrap_or(default_base))?;
    let plan = plan(base, &window, width, !args.no_costs);
    let key = AdminKey::from_env(key_var, display_name(args.provider))?;
    // Fail on a bad ledger location before spending time on the network.
    ctx.ledger_location()?;
    if plain_http_to_remote(&plan.base) {
        ctx.note(format_args!(
            "warning: {} is not https: the admin key is sent unencrypted",
            plan.base
        ));
    }
    ctx.detail(format_args!(
        "pulling {} usage from {} to {} (UTC, {} buckets)",
        plan.provider,
        window.since,
        window.until,
        width.as_str()
    ));

    let options = HttpOptions {
        timeout: Duration::from_secs(args.timeout),
        retry: Retry::from_env(),
    };
    let fetched = match pull::fetch_all(&plan, &key, options, &mut |p| progress(ctx, p)) {
        Ok(fetched) => fetched,
        Err(PullError::Aispend(e)) => return Err(e),
        Err(e @ PullError::Unavailable(_)) => {
            eprintln!("aispend: {}", crate::sanitize::message(&e.to_string()));
            return Ok(e.exit_code());
        }
    };

    let mut ledger = ctx.open_ledger()?;
    let mut fetched = fetched;
    let counts = ledger.write(!args.dry_run, |writer| {
        let mut counts = Vec::with_capacity(fetched.len());
        for endpoint in &mut fetched {
            let mut c = Counts::default();
            for record in std::mem::take(&mut endpoint.records) {
                match writer.accept(record)? {
                    Accepted::Added => c.added += 1,
                    Accepted::Duplicate | Accepted::Replaced => c.duplicates += 1,
                }
            }
            // The ledger's late answers (batched writes): records first counted as added.
            let late = writer.settle()?.len() as u64;
            c.added -= late;
            c.duplicates += late;
            counts.push(c);
        }
        Ok(counts)
    })?;

    if !ctx.global.quiet {
        let verb = if args.dry_run { "would add" } else { "added" };
        for (endpoint, c) in fetched.iter().zip(&counts) {
            write_summary(out, endpoint, c, verb)?;
        }
        if args.dry_run {
            writeln!(out, "dry run: nothing was written to {}", ledger.name())?;
        }
    }
    Ok(0)
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    added: u64,
    duplicates: u64,
}

fn write_summary(out: &mut dyn Write, f: &Fetched, c: &Counts, verb: &str) -> Result<()> {
    let pages = if f.pages == 1 { "page" } else { "pages" };
    writeln!(
        out,
        "{}: {} {pages}, {} {verb} {}, {} duplicate",
        f.url,
        f.pages,
        f.source,
        count_human(c.added),
        count_human(c.duplicates)
    )?;
    Ok(())
}

fn progress(ctx: &Context, p: Progress<'_>) {
    match p {
        Progress::Page {
            url,
            number,
            bytes,
            records,
        } => ctx.detail(format_args!(
            "{url}: page {number}, {} bytes, {} records",
            count_human(bytes as u64),
            count_human(records as u64)
        )),
        Progress::Retry { url, page, notice } => ctx.note(format_args!(
            "{url} (page {page}): {}; retrying in {:.1} s (attempt {} of {})",
            notice.reason,
            notice.wait.as_secs_f64(),
            notice.next_attempt,
            notice.attempts
        )),
    }
}

/// `--base-url`: an http or https URL with no query, credentials or fragment.
fn base_url(s: &str) -> Result<Url> {
    let bad = |why: &str| Error::usage(format!("invalid --base-url '{s}': {why}"));
    let url = Url::parse(s.trim()).map_err(|e| bad(&e.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        // Not echoed: what is in the URL may be a secret.
        return Err(Error::usage(
            "invalid --base-url: credentials do not belong in the URL (the key is read from the environment)",
        ));
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("expected an http:// or https:// URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("expected no query or fragment"));
    }
    Ok(url)
}

/// Plain http to anything but this machine sends the key in the clear.
fn plain_http_to_remote(base: &Url) -> bool {
    let local = match base.host_str() {
        Some("localhost" | "[::1]") => true,
        Some(host) => host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    };
    base.scheme() == "http" && !local
}

fn display_name(provider: ProviderArg) -> &'static str {
    match provider {
        ProviderArg::Openai => "an OpenAI",
        ProviderArg::Anthropic => "an Anthropic",
        ProviderArg::Litellm => "a LiteLLM",
    }
}

/// `aispend pull litellm`: the proxy's `LiteLLM_SpendLogs` table, from the ledger's cursor on.
fn run_litellm(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<i32> {
    let url = args.database_url.as_deref().ok_or_else(|| {
        Error::usage(
            "pull litellm reads the proxy's database: pass --database-url postgres://USER@HOST:PORT/DB",
        )
    })?;
    if args.until.is_some() || args.base_url.is_some() || args.no_costs {
        return Err(Error::usage(
            "--until, --base-url and --no-costs apply to the admin APIs (openai, anthropic), not litellm",
        ));
    }
    let target = PgTarget::parse(url, "--database-url")?;
    let options = pull::litellm::Options {
        since: args
            .since
            .as_deref()
            .map(|s| parse_date(s, "--since"))
            .transpose()?,
        page_rows: args.page_size,
        overlap: chrono::Duration::minutes(i64::from(args.overlap_minutes)),
        dry_run: args.dry_run,
    };
    let mut ledger = ctx.open_ledger()?;
    ctx.detail(format_args!(
        "pulling LiteLLM spend logs from {}",
        target.display()
    ));
    let summary = pull::litellm::pull(&target, &mut ledger, &options, &mut |rows, total| {
        ctx.detail(format_args!(
            "{}: page of {} rows ({} so far)",
            target.display(),
            count_human(rows),
            count_human(total)
        ))
    })?;
    if !ctx.global.quiet {
        let verb = if args.dry_run { "would add" } else { "added" };
        let pages = if summary.pages == 1 { "page" } else { "pages" };
        writeln!(
            out,
            "{} \"LiteLLM_SpendLogs\": {} {pages}, {} rows from {}, {} {verb} litellm, {} duplicate",
            target.display(),
            summary.pages,
            count_human(summary.rows),
            summary.started_at.as_deref().unwrap_or("the first row"),
            count_human(summary.added),
            count_human(summary.duplicates)
        )?;
        match (&summary.cursor, args.dry_run) {
            (_, true) => writeln!(out, "dry run: nothing was written to {}", ledger.name())?,
            (Some(c), false) => writeln!(out, "next pull starts from {c} (UTC) less the overlap")?,
            (None, false) => {}
        }
    }
    Ok(0)
}
