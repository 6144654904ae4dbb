//! `aispend recommend`: ranked savings recommendations with their evidence and the `aispend whatif`
//! command that reproduces each.

use std::io::Write;

use super::usage::{read_paths, uses_ledger, InputArgs, PeriodArgs};
use super::Context;
use crate::error::Result;
use crate::recommend::render::{RecommendFormat, Recommendations};
use crate::recommend::{recommend, Inputs, RecordSet};

const LONG_ABOUT: &str = "\
Ranked recommendations for the period: what to change first and what it saves.

Each recommendation names the usage it is about (team, model, project or key; requests and tokens), the \
period's cost of that usage, an estimated saving computed with the what-if engine under stated, \
conservative assumptions, and the exact `aispend whatif` command that reproduces the saving. The rules: \
prompts just over a long-context threshold (long-context-edge); 1-hour cache writes rarely read back \
(cache-1h-unread); caching models used with large uncached input and no cache reads (cache-unused); \
priority-tier spend (priority-tier); projects or keys declared batchable in `[recommend] batchable`, or \
whose traffic is steady around the clock (batchable); premium models giving short answers where the \
price table names a cheaper sibling (premium-short-output); computed cost that keeps disagreeing with the \
invoice, a stale price table (stale-prices: the amount is shown as off the invoice, not as a saving).";

const AFTER_HELP: &str = "\
Examples:
  aispend --config fixtures/demo/aispend.toml recommend fixtures/demo
  aispend recommend --month 2026-10 --format markdown > review.md
  aispend recommend --format json | jq '.rows[] | {id, saving, command}'";

/// Ranked savings recommendations with evidence and the whatif command that reproduces each
#[derive(Debug, clap::Args)]
#[command(long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Args {
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Output format: table (a ranked list), json (schema aispend.recommend.v1), markdown (for a monthly
    /// review)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<RecommendFormat>,
    #[command(flatten)]
    pub input: InputArgs,
}

/// A word as a shell would read it back: quoted when it holds anything but plain characters.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `aispend [global options] ARGS [period] [PATHs]`: the command as the user would type it.
fn command_line(ctx: &Context, args: &Args, sub: &[String]) -> String {
    let mut words: Vec<String> = vec!["aispend".into()];
    if let Some(c) = &ctx.global.config {
        words.extend(["--config".into(), c.display().to_string()]);
    }
    for p in &ctx.global.pricing {
        words.extend(["--pricing".into(), p.display().to_string()]);
    }
    words.extend(sub.iter().cloned());
    let p = &args.period;
    for (flag, value) in [
        ("--month", &p.month),
        ("--since", &p.since),
        ("--until", &p.until),
    ] {
        if let Some(v) = value {
            words.extend([flag.to_string(), v.clone()]);
        }
    }
    if p.timezone != chrono_tz::Tz::UTC {
        words.extend(["--timezone".into(), p.timezone.name().to_string()]);
    }
    if let Some(s) = args.input.source {
        words.extend(["--source".into(), s.name().to_string()]);
    }
    words.extend(args.input.paths.iter().map(|p| p.display().to_string()));
    words
        .iter()
        .map(|w| shell_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<i32> {
    let (period, tz) = args.period.spec()?;
    let book = ctx.price_book()?;
    let mut set = RecordSet::default();
    if uses_ledger(&args.input) {
        let ledger = ctx.open_existing_ledger()?;
        let newest = ledger.newest()?;
        let range = period.resolve(tz, newest);
        ledger.for_each(Some((range.start, range.end)), &mut |r| {
            crate::input::RecordSink::accept(&mut set, r).map(|_| ())
        })?;
        set.newest = newest;
    } else {
        read_paths(ctx, &args.input, &mut set)?;
    }
    let inputs = Inputs {
        records: &set.records,
        book,
        rules: &ctx.config.teams,
        period,
        tz,
        newest: set.newest,
    };
    let items = recommend(&inputs, &ctx.config.recommend);
    let commands = items
        .iter()
        .map(|r| command_line(ctx, &args, &r.args))
        .collect();
    Recommendations {
        period: period.resolve(tz, set.newest),
        tz,
        items: &items,
        commands,
    }
    .render(args.format.unwrap_or(RecommendFormat::Table), out)?;
    Ok(0)
}
