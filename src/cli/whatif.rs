//! `aispend whatif`: the same usage repriced under a scenario, per group: cost now, scenario cost,
//! difference.

use std::io::Write;
use std::path::PathBuf;

use super::usage::{feed, ledger_newest, GroupArgs, InputArgs, PeriodArgs};
use super::Context;
use crate::error::{Error, Result};
use crate::output::{self, Format};
use crate::pricing::PriceBook;
use crate::record::Provider;
use crate::report::{Aggregator, Dim, Report, ReportQuery, SortBy};
use crate::whatif::render::WhatIf;
use crate::whatif::{
    CacheTtl, Scenario, ScenarioPricer, ScenarioPrices, SelfHosted, Swap, TierMove,
};

const LONG_ABOUT: &str = "\
Reprice the same usage under a scenario and show, per group, the cost now, the scenario's cost, the \
difference and the difference in percent.

A scenario moves usage and prices it with the same engine as every report (long-context tiers, regions, \
batch and tier rates, dated prices). The flags combine, applied in this order: --swap (with \
--token-ratio), --on/--region, --tier, --trim-context, --cache-hit, --cache-ttl, then --scenario-pricing or --self-hosted \
prices the result. --where chooses the usage that is shown and moved. Usage that cannot be priced now or \
under the scenario (a model with no price, a tier the target has no rate for) is listed as unpriced and \
left out of both totals: never counted as $0.";

const AFTER_HELP: &str = "\
Examples:
  aispend whatif --swap claude-opus-4-1=claude-sonnet-4-5 fixtures/demo
  aispend whatif --swap 'gpt-4o*=gpt-4.1-mini' --token-ratio 1.05 --by team
  aispend whatif --on bedrock --region us-east-1 --where provider=anthropic
  aispend whatif --tier batch --where project=nightly-eval --by project
  aispend whatif --cache-hit 60% --where model=claude-sonnet-4-5
  aispend whatif --cache-ttl 5m --by model
  aispend whatif --scenario-pricing negotiated.toml --by provider
  aispend whatif --self-hosted 'llama-3.3-70b*:gpu_hour=2.50,tokens_per_second=1500,utilization=0.6'";

/// Reprice the same usage under a scenario (model swap, provider, tier, cache, price table, own GPUs)
#[derive(Debug, clap::Args)]
#[command(long_about = LONG_ABOUT, after_help = AFTER_HELP)]
#[command(mut_arg("by", |a| a.help("Group by these dimensions (comma list) [default: model]")))]
#[command(mut_arg("filters", |a| a.help("Keep (and move) only usage where DIM matches VALUE (`*` wildcards; repeat for more; the same DIM twice means either)")))]
pub struct Args {
    #[command(flatten)]
    pub period: PeriodArgs,
    #[command(flatten)]
    pub group: GroupArgs,
    /// Price usage of models matching FROM (canonical id or name as reported, `*` wildcards) as model TO,
    /// with the same tokens (repeatable; the first match wins)
    #[arg(long, value_name = "FROM=TO")]
    pub swap: Vec<String>,
    /// With --swap: scale the swapped usage's tokens by R for a tokenizer that counts differently (1.1:
    /// 10% more tokens), rounded to whole tokens
    #[arg(long, value_name = "R", requires = "swap")]
    pub token_ratio: Option<String>,
    /// Price on this provider's table: the same models on Bedrock, Vertex (`google`) or Azure instead of
    /// the maker's own API, or the reverse
    #[arg(long, value_name = "PROVIDER")]
    pub on: Option<String>,
    /// The region to price in (`us-east-1`, `global`, `eu`, `datazone`), for tables with regional rates
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Move the usage to this service tier (use --where to choose which usage moves)
    #[arg(long, value_enum, value_name = "TIER")]
    pub tier: Option<TierMove>,
    /// This share of uncached input (0.6 or 60%) becomes cache reads, on models with a cache-read rate;
    /// where the model bills cache writes above input, the rest is written to the cache
    #[arg(long, value_name = "SHARE")]
    pub cache_hit: Option<String>,
    /// Write every cache write with this lifetime: `5m` reprices 1-hour writes as 5-minute ones, `1h` the
    /// reverse
    #[arg(long, value_enum, value_name = "TTL")]
    pub cache_ttl: Option<CacheTtl>,
    /// Trim prompts that are above a model's long-context threshold by at most MARGIN (10% or 0.1) down
    /// to the threshold (uncached input first), so they bill at the standard rates
    #[arg(long, value_name = "MARGIN")]
    pub trim_context: Option<String>,
    /// A price table (file or folder of .toml) for the scenario only, over the current prices: a
    /// negotiated discount or announced prices (the global --pricing changes both sides)
    #[arg(long, value_name = "FILE")]
    pub scenario_pricing: Vec<PathBuf>,
    /// Open-weight models on own or rented GPUs: usage of MODEL (`*` wildcards) costs the GPU hours its
    /// tokens take, tokens / (N × U × 3600) × USD (repeatable)
    #[arg(
        long,
        value_name = "MODEL:gpu_hour=USD,tokens_per_second=N[,utilization=U]"
    )]
    pub self_hosted: Vec<String>,
    /// Show the N groups with the largest cost and fold the rest into one `(other)` row
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Output format: table, json (schema aispend.whatif.v1), csv, markdown
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    #[command(flatten)]
    pub input: InputArgs,
}

/// What a what-if run does, with every default that depends on other flags decided here, once.
struct Settings {
    scenario: Scenario,
    query: ReportQuery,
    format: Format,
}

impl Settings {
    /// `book` is the price book in use: `--scenario-pricing` lays its tables over it.
    fn resolve(args: &Args, book: &PriceBook) -> Result<Settings> {
        let scenario = scenario(args, book)?;
        if scenario.is_empty() {
            return Err(Error::usage(
                "whatif needs a scenario: --swap, --on, --region, --tier, --trim-context, --cache-hit, \
                 --cache-ttl, --scenario-pricing or --self-hosted (see `aispend whatif --help`)",
            ));
        }
        Ok(Settings {
            scenario,
            query: query(&args.period, &args.group, args.top)?,
            format: args.format.unwrap_or(Format::Table),
        })
    }
}

/// The scenario the flags describe.
fn scenario(args: &Args, book: &PriceBook) -> Result<Scenario> {
    let on = match args.on.as_deref() {
        None => None,
        Some(p) => Some(Provider::parse(p).ok_or_else(|| {
            Error::usage(format!(
                "unknown provider '{p}' for --on: expected one of {}",
                Provider::ALL.map(Provider::as_str).join(", ")
            ))
        })?),
    };
    let prices = if args.scenario_pricing.is_empty() {
        None
    } else {
        let label = args
            .scenario_pricing
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        Some(ScenarioPrices {
            label,
            book: book.clone().with_overrides(&args.scenario_pricing)?,
        })
    };
    Ok(Scenario {
        swaps: args
            .swap
            .iter()
            .map(|s| Swap::parse(s))
            .collect::<Result<_>>()?,
        token_ratio: args
            .token_ratio
            .as_deref()
            .map(Scenario::parse_ratio)
            .transpose()?,
        on,
        region: args.region.as_ref().map(|r| r.trim().to_ascii_lowercase()),
        tier: args.tier,
        cache_hit: args
            .cache_hit
            .as_deref()
            .map(|s| Scenario::parse_share(s, "--cache-hit"))
            .transpose()?,
        cache_ttl: args.cache_ttl,
        trim_context: args
            .trim_context
            .as_deref()
            .map(|s| Scenario::parse_share(s, "--trim-context"))
            .transpose()?,
        prices,
        self_hosted: args
            .self_hosted
            .iter()
            .map(|s| SelfHosted::parse(s))
            .collect::<Result<_>>()?,
    })
}

/// The query of a what-if: the report's period, grouping and filters.
fn query(period: &PeriodArgs, group: &GroupArgs, top: Option<usize>) -> Result<ReportQuery> {
    let (period, tz) = period.spec()?;
    if top == Some(0) {
        return Err(Error::usage(
            "--top 0 would fold every row into (other): give a number of rows of at least 1",
        ));
    }
    Ok(ReportQuery {
        group_by: group.dims_or(&[Dim::Model]),
        filters: group.filters(),
        period,
        tz,
        top,
        compare: false,
        reconcile: false,
        sort: SortBy::Cost,
    })
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<i32> {
    let book = ctx.price_book()?;
    let Settings {
        scenario,
        query,
        format,
    } = Settings::resolve(&args, book)?;
    let newest = ledger_newest(ctx, &args.input, &query.period)?;
    let mut agg = Aggregator::new(
        &query,
        &ctx.config.teams,
        book,
        !args.input.paths.is_empty(),
        newest,
    )
    .with_scenario(ScenarioPricer::new(&scenario, book));
    feed(ctx, &args.input, &mut agg)?;
    let report: Report = agg.finish();
    for warning in &report.warnings {
        ctx.note(format_args!("{warning}"));
    }
    let whatif = WhatIf {
        report: &report,
        scenario: &scenario,
    };
    output::write(&whatif, format, ctx.style(), out)?;
    Ok(0)
}
