//! `aispend ledger`: inspect the stored ledger (`stats`), export it, record by record (`export`), or
//! recompute its priced daily table (`reprice`).

use std::io::Write;

use super::usage::{read_paths, FilterArgs, InputArgs};
use super::{Context, InfoFormat};
use crate::error::{Error, Result};
use crate::export::partition::{check_tree_folder, PartitionBy};
use crate::export::{Exporting, Format, UnpricedRows};
use crate::input::{read_inputs, RecordSink};
use crate::output::{self, count_human, Cell, Column, Sheet};
use crate::period::{parse_timezone, PeriodSpec};

/// Inspect or export the ledger
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Records, requests, date range and sources in the ledger
    Stats {
        /// Output format: table (for people) or json (`aispend.ledger-stats.v1`)
        #[arg(long, value_enum, value_name = "FORMAT", default_value_t = InfoFormat::Table)]
        format: InfoFormat,
    },
    Export(Box<ExportArgs>),
    /// Recompute the priced daily table (`daily_cost`) with the current price tables and team rules
    #[command(long_about = REPRICE_LONG_ABOUT, after_help = REPRICE_AFTER_HELP)]
    Reprice,
}

const REPRICE_LONG_ABOUT: &str = "\
Recompute the priced daily table `daily_cost` with the current price tables (built in, --pricing, the \
config's overrides) and team rules, in one transaction.

`daily_cost` is for dashboards (Grafana, Metabase, any SQL client) that read the ledger directly: one row \
per UTC day and provider, model, source, team, project, workspace and service tier, with the token sums, \
`cost` (exact decimal), `unpriced_records` and `reported_cost`. Each import rewrites the days it touched \
with the prices of that run; after a price-table or team-rule change, `aispend ledger reprice` rewrites \
every day, so the table agrees with `aispend report` again. Reports never read it: they price the \
ledger when they run.";

const REPRICE_AFTER_HELP: &str = "\
Examples:
  aispend ledger reprice
  aispend --pricing corrected-prices.toml ledger reprice
  aispend --ledger postgres://aispend@db.internal:5432/finops ledger reprice";

const EXPORT_LONG_ABOUT: &str = "\
Export the normalized ledger: one row per usage record (after deduplication), with its team (after the \
config's rules), the price table's model id, and the computed cost (exact; empty, with the reason, when \
the record has no price). Rows are written as they are read, so memory stays flat however large the \
ledger.

Formats: csv (every ledger field), jsonl (the same fields, one JSON object per line, money as decimal \
strings), focus (the FinOps FOCUS 1.2 columns, then `x_` extras), parquet (the focus columns as typed \
Parquet: money DECIMAL(38,18), never a float; FOCUS Date/Time columns as UTC timestamps; counts INT64; \
flags BOOLEAN; written in row groups, so memory stays flat). Never prompt text: the ledger has none.

`--partition month,provider` (parquet only) writes a Hive-style folder tree under `--output DIR`, one \
file per month and provider (folders `BillingPeriodStart=2026-10`, inside them `ProviderName=openai`, \
each holding `part-0.parquet`) that Spark, Trino, Athena, BigQuery and DuckDB read as one table; the partition columns are in the folder \
names (the month as YYYY-MM, the provider id), not in the files.

FOCUS requires a cost on every row, and an unknown price is not $0: records with usage but no price are \
left out of a focus or parquet export (their count is printed on standard error, `aispend pricing missing` lists \
their models), unless `--unpriced zero` writes them at 0 marked `x_Unpriced` = true. BillingAccountId is \
the account the source names (OpenAI organization, Google Cloud billing account, Azure billing account or \
subscription, AWS account), else `[focus.billing_accounts]` in aispend.toml:
  [focus.billing_accounts]
  openai = { id = \"org-…\", name = \"Acme\" }

Reads the ledger, or the PATHs given (the same normalization and deduplication as an import; nothing is \
written to the ledger).";

const EXPORT_AFTER_HELP: &str = "\
Examples:
  aispend ledger export --format csv > ledger.csv
  aispend ledger export --format focus --month 2026-10 > focus-2026-10.csv
  aispend ledger export --format focus --unpriced zero > focus-all.csv
  aispend ledger export --format parquet --output focus.parquet
  aispend ledger export --format parquet --partition month,provider --output lake/aispend
  aispend ledger export --format jsonl --where team=search exports/ | jq -r .cost";

/// Export every usage record, priced: csv, jsonl or FinOps FOCUS 1.2
#[derive(Debug, clap::Args)]
#[command(long_about = EXPORT_LONG_ABOUT, after_help = EXPORT_AFTER_HELP)]
pub struct ExportArgs {
    /// Output format: csv, jsonl, focus (FinOps FOCUS 1.2 columns plus `x_` extras), parquet (the
    /// focus columns, typed)
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "csv")]
    pub format: Format,
    /// Write to this file instead of standard output (with --partition: the folder of the tree)
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output: Option<std::path::PathBuf>,
    /// parquet only: a Hive-style folder tree under --output, by month, provider or both (in the order
    /// given)
    #[arg(long, value_enum, value_name = "LEVELS", value_delimiter = ',')]
    pub partition: Vec<PartitionBy>,
    /// Calendar month YYYY-MM [default: every record]
    #[arg(long, value_name = "YYYY-MM")]
    pub month: Option<String>,
    /// First day, inclusive (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Last day, inclusive (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Time zone for day and month boundaries (IANA name)
    #[arg(long, value_name = "TZ", default_value = "UTC", value_parser = parse_timezone)]
    pub timezone: chrono_tz::Tz,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// focus and parquet only: records with usage but no price are left out (omit), or written at 0 with
    /// `x_Unpriced` = true (zero) [default: omit]
    #[arg(long, value_enum, value_name = "WHAT")]
    pub unpriced: Option<UnpricedRows>,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(ctx: &Context, cmd: Command, out: &mut dyn Write) -> Result<i32> {
    match cmd {
        Command::Export(args) => export(ctx, *args, out),
        Command::Reprice => {
            let pricing = ctx.daily_pricing()?;
            let mut ledger = ctx.open_existing_ledger()?;
            let done = ledger.reprice(&pricing)?;
            if !ctx.global.quiet {
                match done.days {
                    Some((first, last)) => writeln!(
                        out,
                        "daily_cost: {} rows for {first} to {last} (UTC days), total {} (was {})",
                        count_human(done.rows),
                        output::money_human(done.after),
                        output::money_human(done.before)
                    )?,
                    None => writeln!(out, "daily_cost: the ledger has no records")?,
                }
                writeln!(out, "written to {}", ledger.name())?;
            }
            Ok(0)
        }
        Command::Stats { format } => {
            let ledger = ctx.open_existing_ledger()?;
            let s = ledger.stats()?;
            if format == InfoFormat::Json {
                let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
                    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                };
                let doc = serde_json::json!({
                    "schema": "aispend.ledger-stats.v1",
                    "ledger": ledger.name(),
                    "schema_version": s.schema_version,
                    "file_bytes": s.file_bytes,
                    "records": s.records,
                    "requests": s.requests,
                    "first": time(s.first),
                    "last": time(s.last),
                    "sources": s.by_source.iter().map(|(source, provider, records, requests)| {
                        serde_json::json!({"source": source, "provider": provider,
                                           "records": records, "requests": requests})
                    }).collect::<Vec<_>>(),
                });
                output::json::write(&doc, out)?;
                return Ok(0);
            }
            let columns = ["source", "provider", "records", "requests"].map(Column::text);
            let mut sheet = Sheet::new(columns.to_vec());
            sheet.omit_if_empty = true;
            sheet.intro = vec![
                format!("ledger:   {}", ledger.name()),
                format!("schema:   version {}", s.schema_version),
                format!("size:     {} bytes", count_human(s.file_bytes)),
                format!("records:  {}", count_human(s.records)),
                format!("requests: {}", count_human(s.requests)),
            ];
            if let (Some(a), Some(b)) = (s.first, s.last) {
                let time = |t: chrono::DateTime<chrono::Utc>| {
                    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                };
                sheet.intro.push(format!("from:     {}", time(a)));
                sheet.intro.push(format!("to:       {}", time(b)));
            }
            for (source, provider, records, requests) in &s.by_source {
                sheet.push(vec![
                    Cell::text(source),
                    Cell::text(provider),
                    Cell::Count(*records),
                    Cell::Count(*requests),
                ]);
            }
            output::table::write(&sheet, ctx.style(), out)?;
            Ok(0)
        }
    }
}

/// `aispend ledger export`: records from the ledger (the period's rows only) or from PATHs, each written
/// as soon as it is read (PATHs with bucketed or partial records are read twice: see `crate::export`).
fn export(ctx: &Context, args: ExportArgs, out: &mut dyn Write) -> Result<i32> {
    let spec = PeriodSpec::from_flags(
        args.month.as_deref(),
        args.since.as_deref(),
        args.until.as_deref(),
    )?;
    let tz = args.timezone;
    // No period flag: everything, not the newest month as in reports.
    let period = if spec.is_fixed() {
        Some(spec.resolve(tz, None))
    } else {
        spec.open_window(tz)
    };
    if cfg!(not(feature = "parquet")) && args.format == Format::Parquet {
        return Err(Error::usage(crate::export::WITHOUT_PARQUET));
    }
    let filters = args.filter.filters();
    let unpriced = match (args.format.is_focus(), args.unpriced) {
        (true, u) => Some(u.unwrap_or_default()),
        (false, None) => None,
        (false, Some(_)) => {
            return Err(Error::usage(
                "--unpriced applies to --format focus and parquet (csv and jsonl keep unpriced records, with an empty cost)",
            ))
        }
    };
    let tree = match (&args.output, args.partition.is_empty()) {
        (_, true) => None,
        _ if args.format != Format::Parquet => {
            return Err(Error::usage("--partition applies to --format parquet"))
        }
        (None, false) => {
            return Err(Error::usage(
                "--partition writes a folder tree: name its folder with --output DIR",
            ))
        }
        (Some(dir), false) => {
            let mut by = args.partition.clone();
            by.dedup();
            check_tree_folder(dir)
                .map_err(|source| Error::Io {
                    path: dir.clone(),
                    source,
                })?
                .map_err(Error::usage)?;
            Some((dir.clone(), by))
        }
    };
    let mut file = match (&args.output, &tree) {
        (Some(path), None) => Some(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?,
        )),
        _ => None,
    };
    if args.format == Format::Parquet && args.output.is_none() && ctx.stdout_is_tty {
        return Err(Error::usage(
            "Parquet is binary: name a file with --output PATH, or redirect standard output",
        ));
    }
    let out: &mut dyn Write = match file.as_mut() {
        Some(f) => f,
        None => out,
    };
    let input = &args.input;
    let from_ledger = input.paths.is_empty();
    if from_ledger && (input.source.is_some() || input.skip_invalid) {
        return Err(Error::usage(
            "--source and --skip-invalid apply to PATHs; none were given",
        ));
    }
    let ledger = if from_ledger {
        Some(ctx.open_existing_ledger()?)
    } else {
        None
    };
    let book = ctx.price_book()?;
    let stdin = input.paths.iter().any(|p| p.as_os_str() == "-");
    let mut sink = Exporting::new(
        args.format
            .exporter(out, &ctx.config.billing_accounts, tree)?,
        &ctx.config.teams,
        book,
        period,
        filters,
        tz,
        !from_ledger,
        stdin,
    );
    if unpriced == Some(UnpricedRows::Omit) {
        sink = sink.omit_unpriced();
    }
    sink.begin()?;
    match &ledger {
        Some(ledger) => {
            let range = period.map(|p| (p.start, p.end));
            ledger.for_each(range, &mut |r| sink.accept(r).map(|_| ()))?;
        }
        None => {
            read_paths(ctx, input, &mut sink)?;
            if sink.needs_second_pass() {
                sink.start_second_pass();
                read_inputs(
                    &input.paths,
                    input.read_options(ctx)?,
                    &mut sink,
                    &mut |_| {},
                )?;
            }
        }
    }
    let summary = sink.finish()?;
    let written = summary.written;
    ctx.detail(format_args!("exported {written} record(s)"));
    if summary.omitted > 0 {
        ctx.note(format_args!(
            "note: {} record(s) with usage but no price are left out of the FOCUS export (FOCUS \
             requires a cost on every row; an unknown price is not $0): `aispend pricing missing` lists \
             their models, `--format csv` lists them with the reason, `--unpriced zero` includes them at 0 \
             marked x_Unpriced=true",
            summary.omitted
        ));
    }
    if summary.unpriced > 0 {
        let cost = match unpriced {
            Some(_) => "their costs are 0, marked x_Unpriced=true",
            None => "their cost is empty",
        };
        ctx.note(format_args!(
            "warning: {} of {written} exported record(s) have no price: {cost} and the reason is in \
             the row (see `aispend pricing missing`)",
            summary.unpriced
        ));
    }
    for warning in &summary.warnings {
        ctx.note(format_args!("{warning}"));
    }
    Ok(0)
}
