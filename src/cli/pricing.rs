//! `aispend pricing`: inspect the price tables and find models without a price.

use std::io::Write;

use chrono::{NaiveDate, Utc};

use super::usage::{feed, InputArgs};
use super::{Context, InfoFormat};
use crate::error::{Error, Result};
use crate::output::{self, count_human, money_exact, Cell, Column, Sheet, Style};
use crate::period::PeriodSpec;
use crate::pricing::{
    MatchKind, ModelPrice, PriceBook, PricePeriod, RateClass, Rates, Tier, TierPrice,
};
use crate::record::Provider;
use crate::report::{Aggregator, Dim, ReportQuery};

/// Inspect price tables (list, show a model, find unpriced models)
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List every priced model with its current rates (USD per million tokens)
    List {
        /// Only this provider's models
        #[arg(long)]
        provider: Option<String>,
        /// Output format
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Show how a model name resolves and every price period of its entry
    #[command(
        after_help = "Example:\n  aispend pricing show us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )]
    Show {
        /// A model name as logs report it (snapshots, provider prefixes, Bedrock and Vertex ids work)
        model: String,
        /// Resolve as a record of this provider does (its own table first, then the first-party ones;
        /// `azure` also maps deployment names through the config's `[azure] deployments`)
        #[arg(long)]
        provider: Option<String>,
    },
    /// Compare our tables with a LiteLLM price map (model_prices_and_context_window.json)
    #[command(
        after_help = "Example:\n  aispend pricing diff --litellm model_prices_and_context_window.json --provider anthropic"
    )]
    Diff {
        /// LiteLLM's model_prices_and_context_window.json
        #[arg(long, value_name = "FILE", required = true)]
        litellm: std::path::PathBuf,
        /// Only this provider's entries (openai, anthropic, google, bedrock, azure)
        #[arg(long)]
        provider: Option<String>,
        /// Output format
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// List models in the ledger (or PATHs) that have no price, with their usage
    #[command(
        after_help = "With --pricing-fallback litellm, what LiteLLM's map prices is no longer missing; the rest is what \
                      neither a table nor the map can price.\n\nExample:\n  aispend pricing missing --pricing-fallback litellm gateway-logs/"
    )]
    Missing {
        /// Output format: table (for people) or json (`aispend.pricing-missing.v1`)
        #[arg(long, value_enum, value_name = "FORMAT", default_value_t = InfoFormat::Table)]
        format: InfoFormat,
        #[command(flatten)]
        input: InputArgs,
    },
    /// Fetch a newer LiteLLM price map (or read one) and keep it as the dated snapshot that
    /// --pricing-fallback litellm uses
    #[command(
        after_help = "Snapshots are stored as $XDG_DATA_HOME/aispend/litellm/litellm-YYYY-MM-DD.json; the newest wins.\n\n\
                      Examples:\n  aispend pricing update\n  aispend pricing update --litellm model_prices_and_context_window.json\n  \
                      aispend pricing diff --litellm ~/.local/share/aispend/litellm/litellm-2026-12-01.json"
    )]
    Update {
        /// Where to get the map: a URL, or a local file [default: LiteLLM's map on GitHub]
        #[arg(long, value_name = "URL|FILE")]
        litellm: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

mod diff;
pub mod update;

pub fn run(ctx: &Context, cmd: Command, out: &mut dyn Write) -> Result<i32> {
    if let Command::Update { litellm } = &cmd {
        return update::run(litellm.as_deref(), out);
    }
    let book = ctx.price_book()?;
    match cmd {
        Command::List { provider, format } => {
            list(book, provider.as_deref(), format, ctx.style(), out)
        }
        Command::Show { model, provider } => {
            let provider = provider.as_deref().map(parse_provider).transpose()?;
            show(book, &model, provider, ctx.style(), out)
        }
        Command::Missing { format, input } => missing(ctx, book, &input, format, out),
        Command::Diff {
            litellm,
            provider,
            format,
        } => {
            let provider = provider.as_deref().map(parse_provider).transpose()?;
            diff::run(book, &litellm, provider, format, ctx.style(), out)
        }
        Command::Update { .. } => Ok(0),
    }
}

fn parse_provider(p: &str) -> Result<Provider> {
    Provider::parse(p).ok_or_else(|| {
        Error::usage(format!(
            "unknown provider '{p}' (expected one of: {})",
            Provider::ALL.map(Provider::as_str).join(", ")
        ))
    })
}

fn rate(r: &Rates, class: RateClass) -> Cell {
    r.get(class).map_or(Cell::Missing, Cell::Exact)
}

fn tiers_of(p: &PricePeriod) -> String {
    let mut names: Vec<&str> = Tier::ALL
        .iter()
        .filter(|t| p.tier(**t).is_some())
        .map(|t| t.key())
        .collect();
    if p.long_context.is_some() {
        names.push("long-context");
    }
    names.join(", ")
}

fn list(
    book: &PriceBook,
    provider: Option<&str>,
    format: ListFormat,
    style: Style,
    out: &mut dyn Write,
) -> Result<i32> {
    let today = Utc::now().date_naive();
    let models: Vec<&ModelPrice> = book
        .models()
        .iter()
        .filter(|m| provider.is_none_or(|p| m.provider.eq_ignore_ascii_case(p)))
        .collect();
    if format == ListFormat::Json {
        let rows: Vec<serde_json::Value> = models
            .iter()
            .map(|m| {
                let p = m.period_at(today);
                let mut rates = serde_json::Map::new();
                for c in RateClass::ALL {
                    if let Some(r) = p.rates.get(c) {
                        rates.insert(c.key().into(), serde_json::json!(money_exact(r)));
                    }
                }
                for c in RateClass::TOOLS {
                    if let (None, Some(r)) = (rates.get(c.key()), m.tool_rate(c, today)) {
                        rates.insert(c.key().into(), serde_json::json!(money_exact(r)));
                    }
                }
                serde_json::json!({
                    "provider": m.provider, "model": m.id, "names": m.names, "effective": p.effective.to_string(),
                    "rates": rates, "tiers": Tier::ALL.iter().filter(|t| p.tier(**t).is_some()).map(|t| t.key()).collect::<Vec<_>>(),
                    "long_context_threshold": p.long_context.as_ref().map(|l| l.threshold),
                })
            })
            .collect();
        let doc = serde_json::json!({"schema": "aispend.pricing.v1", "unit": "USD per 1M tokens", "models": rows});
        output::json::write(&doc, out)?;
        return Ok(0);
    }
    let columns = [
        "provider",
        "model",
        "since",
        "input",
        "cache read",
        "write 5m",
        "write 1h",
        "output",
        "tiers",
    ];
    let mut sheet = Sheet::new(columns.map(Column::text).to_vec()).titled(format!(
        "Rates in USD per million tokens, in force today ({today})."
    ));
    for m in models {
        let p = m.period_at(today);
        sheet.push(vec![
            Cell::text(&m.provider),
            Cell::text(&m.id),
            Cell::plain(p.effective.to_string()),
            rate(&p.rates, RateClass::Input),
            rate(&p.rates, RateClass::CacheRead),
            rate(&p.rates, RateClass::CacheWrite5m),
            rate(&p.rates, RateClass::CacheWrite1h),
            rate(&p.rates, RateClass::Output),
            Cell::plain(tiers_of(p)),
        ]);
    }
    output::table::write(&sheet, style, out)?;
    Ok(0)
}

fn show(
    book: &PriceBook,
    name: &str,
    provider: Option<Provider>,
    style: Style,
    out: &mut dyn Write,
) -> Result<i32> {
    let resolved = match provider {
        Some(p) => book.resolve_for(p, name),
        None => book.resolve(name),
    };
    let Some(m) = resolved else {
        return Err(Error::usage(format!(
            "no price for '{name}' (looked up as '{}'): add one with --pricing (see pricing/README.md)",
            crate::pricing::resolve::normalize(name)
        )));
    };
    let model = book.model(m.index);
    let mut lines = Vec::new();
    let how = match &m.kind {
        MatchKind::Exact if m.normalized == model.id => "its canonical id".to_string(),
        MatchKind::Exact => format!("the name '{}'", m.normalized),
        MatchKind::Pattern(p) => format!("the pattern '{p}'"),
        MatchKind::Snapshot => format!("'{}' with its snapshot suffix removed", m.normalized),
    };
    lines.push(format!(
        "{name} → {} ({}), matched by {how}",
        model.id, model.provider
    ));
    if let Some(d) = &m.deployment {
        lines.push(format!(
            "Azure deployment '{d}' runs '{}' ([azure] deployments in the config)",
            m.normalized
        ));
    }
    if !model.names.is_empty() {
        lines.push(format!("also answers to: {}", model.names.join(", ")));
    }
    if let Some(note) = &model.note {
        lines.push(format!("note: {note}"));
    }
    lines.push(format!("from: {}", model.origin));
    if let Some((p, regions)) = provider.and_then(|p| Some((p, book.resold_regions(p, model)?))) {
        let mut by_factor: std::collections::BTreeMap<_, Vec<&str>> = Default::default();
        let mut others = None;
        for (region, f) in regions {
            if region == "*" {
                others = Some(*f);
            } else {
                by_factor.entry(*f).or_default().push(region);
            }
        }
        let mut named: Vec<String> = by_factor
            .iter()
            .map(|(f, rs)| {
                format!(
                    "{} × the rates below in region {}",
                    money_exact(*f),
                    rs.join(", ")
                )
            })
            .collect();
        named.push(match others {
            Some(f) => format!("{} × in any other region", money_exact(f)),
            None => "the rates below in any other region".into(),
        });
        lines.push(format!(
            "resold by {}: {} (the maker's own regional rates do not apply)",
            p.as_str(),
            named.join("; ")
        ));
    }
    for (i, p) in model.periods.iter().enumerate() {
        let until = model
            .periods
            .get(i + 1)
            .map(|n| n.effective.pred_opt().unwrap_or(n.effective));
        if model.fallback {
            // LiteLLM keeps no dates: one set of rates, today's, applied to every record.
            lines.push(String::new());
            lines.push(
                "prices of the fallback, not a curated table: today's rates, applied at every date \
                 (USD per 1M tokens; tool fees per 1,000 calls):"
                    .into(),
            );
        } else {
            lines.push(String::new());
            lines.push(format!(
                "prices from {}{} (USD per 1M tokens; tool fees per 1,000 calls):",
                p.effective,
                until
                    .map(|u: NaiveDate| format!(" to {u}"))
                    .unwrap_or_default()
            ));
        }
        write_rates(&mut lines, "  standard", &p.rates);
        if let Some(lc) = &p.long_context {
            write_rates(
                &mut lines,
                &format!(
                    "  long context (whole request above {} input tokens)",
                    count_human(lc.threshold)
                ),
                &lc.rates,
            );
        }
        for (region, price) in &p.regions {
            match price {
                TierPrice::Multiplier(f) => lines.push(format!(
                    "  region {region}: {} × the rates above",
                    money_exact(*f)
                )),
                TierPrice::Rates {
                    rates,
                    long_context,
                } => {
                    write_rates(&mut lines, &format!("  region {region}"), rates);
                    if let Some(lc) = long_context {
                        write_rates(&mut lines, &format!("  region {region} long context"), lc);
                    }
                }
            }
        }
        if !p.regions.is_empty() && !p.regions.iter().any(|(r, _)| r == "*") {
            lines.push("  other regions: no price (records there are unpriced)".into());
        }
        for tier in Tier::ALL {
            match p.tier(tier) {
                None => {}
                Some(TierPrice::Multiplier(f)) => lines.push(format!(
                    "  {}: {} × the rates above",
                    tier.key(),
                    money_exact(*f)
                )),
                Some(TierPrice::Rates {
                    rates,
                    long_context,
                }) => {
                    write_rates(&mut lines, &format!("  {}", tier.key()), rates);
                    if let Some(lc) = long_context {
                        write_rates(&mut lines, &format!("  {} long context", tier.key()), lc);
                    }
                }
            }
        }
    }
    if !model.tools.is_empty() {
        lines.push(String::new());
        lines.push("built-in tool fees (USD per 1,000 calls):".into());
        for t in &model.tools {
            lines.push(format!(
                "  {} from {}: {}",
                t.class.key(),
                t.effective,
                money_exact(t.per_1k)
            ));
        }
    }
    output::table::write(&Sheet::lines(lines), style, out)?;
    Ok(0)
}

fn write_rates(lines: &mut Vec<String>, label: &str, r: &Rates) {
    let parts: Vec<String> = RateClass::ALL
        .iter()
        .filter_map(|c| r.get(*c).map(|v| format!("{} {}", c.key(), money_exact(v))))
        .collect();
    lines.push(format!("{label}: {}", parts.join(", ")));
}

fn missing(
    ctx: &Context,
    book: &PriceBook,
    input: &InputArgs,
    format: InfoFormat,
    out: &mut dyn Write,
) -> Result<i32> {
    let all_time = PeriodSpec::Dates {
        since: NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN),
        until: NaiveDate::from_ymd_opt(9999, 12, 30).unwrap_or(NaiveDate::MAX),
    };
    let query = ReportQuery {
        group_by: vec![Dim::Provider],
        filters: vec![],
        period: all_time,
        tz: chrono_tz::Tz::UTC,
        top: None,
        compare: false,
        reconcile: false,
        sort: crate::report::SortBy::Cost,
    };
    let mut agg = Aggregator::new(
        &query,
        &ctx.config.teams,
        book,
        !input.paths.is_empty(),
        None,
    );
    feed(ctx, input, &mut agg)?;
    let report = agg.finish();
    if format == InfoFormat::Json {
        let doc = serde_json::json!({
            "schema": "aispend.pricing-missing.v1",
            "unpriced": crate::report::render::json::unpriced_value(&report.unpriced),
            "price_fallback": book.fallback_label(),
            "fallback_records": report.total.fallback_records,
        });
        output::json::write(&doc, out)?;
        return Ok(0);
    }
    let columns = vec![
        Column::text("provider"),
        Column::text("model"),
        Column::text("requests"),
        Column::text("input tokens"),
        Column::text("output tokens"),
        Column::text("why"),
    ];
    let mut sheet = Sheet::new(columns);
    sheet.omit_if_empty = true;
    for u in &report.unpriced {
        let t = &u.totals;
        sheet.push(vec![
            Cell::text(&u.provider),
            Cell::text(&u.model),
            Cell::Count(t.requests),
            Cell::Count(t.input_tokens + t.cache_read_tokens + t.cache_write_tokens),
            Cell::Count(t.output_tokens),
            Cell::text(&u.reason),
        ]);
    }
    if report.unpriced.is_empty() {
        sheet.note("Every model read has a price.");
    }
    match (book.fallback_label(), report.total.fallback_records) {
        (Some(label), 0) => sheet.note(format!("Fallback in use ({label}): it priced no record.")),
        (Some(label), n) => sheet.note(format!(
            "{} records ({}) were priced from the fallback, {label}, not from a price table.",
            count_human(n),
            crate::output::money_human(report.total.fallback_cost)
        )),
        (None, _) => {}
    }
    if !report.unpriced.is_empty() {
        sheet.note(format!(
            "Add prices in a TOML file (format: pricing/README.md) and pass it with --pricing FILE{}.",
            if book.fallback_label().is_some() {
                ""
            } else {
                ", or price what LiteLLM's map knows with --pricing-fallback litellm (marked as such)"
            }
        ));
    }
    output::table::write(&sheet, ctx.style(), out)?;
    Ok(0)
}
