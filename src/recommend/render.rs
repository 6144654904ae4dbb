//! Output of `aispend recommend`: a terminal list, JSON (`aispend.recommend.v1`) and Markdown for a
//! monthly review. Figures are computed before; this only formats them.

use std::io::Write;

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::Recommendation;
use crate::output::markdown::escape as md;
use crate::output::{count_human, money_exact, money_human};
use crate::period::Period;
use crate::report::render::json::period_value;

pub const SCHEMA: &str = "aispend.recommend.v1";

/// Output formats of `recommend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RecommendFormat {
    Table,
    Json,
    Markdown,
}

/// The recommendations of a period, with the command line of each.
pub struct Recommendations<'a> {
    pub period: Period,
    pub tz: chrono_tz::Tz,
    pub items: &'a [Recommendation],
    /// The full `aispend …` command that reproduces each item, in the same order.
    pub commands: Vec<String>,
}

impl Recommendations<'_> {
    /// The sum of the estimated savings (stale prices excluded: they are price errors, not savings).
    pub fn total_saving(&self) -> Decimal {
        self.items.iter().filter_map(|r| r.saving).sum()
    }

    pub fn render(&self, format: RecommendFormat, out: &mut dyn Write) -> std::io::Result<()> {
        match format {
            RecommendFormat::Table => self.text(out),
            RecommendFormat::Json => {
                serde_json::to_writer_pretty(&mut *out, &self.to_value())
                    .map_err(std::io::Error::from)?;
                writeln!(out)
            }
            RecommendFormat::Markdown => self.markdown(out),
        }
    }

    fn amount(r: &Recommendation) -> String {
        match (r.saving, r.at_stake) {
            (Some(s), _) => format!("saves {}", money_human(s)),
            (None, Some(a)) => format!("{} off the invoice", money_human(a)),
            (None, None) => String::new(),
        }
    }

    /// The usage concerned and its cost (stale prices: the computed side of the comparison).
    fn usage(r: &Recommendation) -> String {
        if r.kind == super::Kind::StalePrices {
            return format!("computed: {} in the days compared", money_human(r.cost));
        }
        format!(
            "usage: {} requests, {} tokens, {} now",
            count_human(r.evidence.requests),
            count_human(r.evidence.tokens),
            money_human(r.cost)
        )
    }

    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        use crate::sanitize::note;
        writeln!(
            out,
            "Recommendations, {}: {} found, estimated saving {}",
            crate::period::describe(&self.period, self.tz),
            self.items.len(),
            money_human(self.total_saving())
        )?;
        if self.items.is_empty() {
            writeln!(out, "Nothing to recommend for this period.")?;
        }
        for (i, (r, command)) in self.items.iter().zip(&self.commands).enumerate() {
            writeln!(
                out,
                "\n{}. {} ({})\n   {}",
                i + 1,
                note(&r.title),
                Self::amount(r),
                note(&r.id)
            )?;
            writeln!(out, "   evidence: {}", note(&r.evidence.detail))?;
            writeln!(out, "   {}", Self::usage(r))?;
            writeln!(out, "   reproduce: {}", note(command))?;
        }
        Ok(())
    }

    fn markdown(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "### Recommendations, {}\n",
            crate::period::describe(&self.period, self.tz)
        )?;
        writeln!(
            out,
            "{} recommendation(s), estimated saving **{}** for the period.\n",
            self.items.len(),
            money_human(self.total_saving())
        )?;
        if self.items.is_empty() {
            return Ok(());
        }
        writeln!(out, "| # | recommendation | kind | cost now | saving |")?;
        writeln!(out, "| ---: | --- | --- | ---: | ---: |")?;
        for (i, r) in self.items.iter().enumerate() {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                i + 1,
                md(&r.title),
                r.kind.as_str(),
                money_human(r.cost),
                match (r.saving, r.at_stake) {
                    (Some(s), _) => money_human(s),
                    (None, Some(a)) => format!("({} off the invoice)", money_human(a)),
                    (None, None) => "-".into(),
                }
            )?;
        }
        for (i, (r, command)) in self.items.iter().zip(&self.commands).enumerate() {
            writeln!(out, "\n#### {}. {}\n", i + 1, md(&r.title))?;
            writeln!(out, "- id: {}", md(&r.id))?;
            writeln!(out, "- evidence: {}", md(&r.evidence.detail))?;
            writeln!(out, "- {}", Self::usage(r))?;
            // A fenced block shows the command as typed; a fence inside a value cannot close it early.
            writeln!(out, "\n```sh\n{}\n```", command.replace("```", "'''"))?;
        }
        Ok(())
    }

    pub fn to_value(&self) -> Value {
        let rows: Vec<Value> = self
            .items
            .iter()
            .zip(&self.commands)
            .enumerate()
            .map(|(i, (r, command))| {
                let group: Map<String, Value> = r
                    .evidence
                    .group
                    .iter()
                    .map(|(d, v)| (d.name(), json!(v)))
                    .collect();
                json!({
                    "rank": i + 1,
                    "id": r.id,
                    "kind": r.kind.as_str(),
                    "title": r.title,
                    "evidence": {
                        "group": group,
                        "requests": r.evidence.requests,
                        "tokens": r.evidence.tokens,
                        "detail": r.evidence.detail,
                    },
                    "cost": money_exact(r.cost),
                    "saving": r.saving.map(money_exact),
                    "at_stake": r.at_stake.map(money_exact),
                    "command": command,
                })
            })
            .collect();
        json!({
            "schema": SCHEMA,
            "currency": "USD",
            "timezone": self.tz.name(),
            "period": period_value(&self.period, self.tz),
            "rows": rows,
            "total_saving": money_exact(self.total_saving()),
        })
    }
}
