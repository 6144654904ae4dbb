//! One renderer per output format. A renderer only formats a finished [`Report`]: it never prices or
//! aggregates.

use std::io::Write;

use rust_decimal::Decimal;

use super::Report;

pub mod csv;
pub mod grid;
pub mod html;
pub mod json;
pub mod markdown;
pub mod table;

/// An output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Markdown,
}

/// Terminal details a renderer may use.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
    /// Terminal width, when writing to one.
    pub width: Option<u16>,
}

/// Writes a report in one format.
pub fn render(
    format: Format,
    report: &Report,
    style: Style,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Table => table::render(report, style, out),
        Format::Json => json::render(report, out),
        Format::Csv => csv::render(report, out),
        Format::Markdown => markdown::render(report, out),
    }
}

/// Exact money for machine formats: every digit the computation produced, no exponent, no trailing zeros.
pub fn money_exact(d: Decimal) -> String {
    d.normalize().to_string()
}

/// Money for people: `$1,234.57`; amounts under a cent keep four decimals (`$0.0042`).
pub fn money_human(d: Decimal) -> String {
    // Under a cent, four places, unless even those round to nothing.
    let small = d.abs() < Decimal::new(1, 2) && d.abs() >= Decimal::new(5, 5);
    let places = if small { 4 } else { 2 };
    let rounded =
        d.round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let text = format!("{:.*}", places as usize, rounded.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
        "-"
    } else {
        ""
    };
    format!("{sign}${}.{frac}", group_thousands(int))
}

/// `1234567` → `1,234,567`.
pub fn count_human(n: u64) -> String {
    group_thousands(&n.to_string())
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The numeric columns every format shows, with their JSON/CSV names.
pub const COUNT_FIELDS: [&str; 6] = [
    "requests",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
];

pub fn counts(t: &super::Totals) -> [u64; 6] {
    [
        t.requests,
        t.input_tokens,
        t.cache_read_tokens,
        t.cache_write_tokens,
        t.output_tokens,
        t.reasoning_tokens,
    ]
}

/// Marks a cost that includes fallback prices (`--pricing-fallback`) in the human formats.
pub const FALLBACK_MARK: &str = "†";

/// The footnote explaining [`FALLBACK_MARK`], when some cost of the report came from the fallback.
pub fn fallback_footnote(report: &Report) -> Option<String> {
    let t = &report.total;
    if t.fallback_records == 0 {
        return None;
    }
    Some(format!(
        "{FALLBACK_MARK} includes {} from {} records priced from the fallback, {}, not from a curated price \
         table (LiteLLM keeps today's prices only: older usage is priced at today's rate).",
        money_human(t.fallback_cost),
        count_human(t.fallback_records),
        report.fallback.as_deref().unwrap_or("LiteLLM's price map"),
    ))
}

/// The numeric columns of the human formats (table, Markdown), which depend on the report: `failed`
/// when requests failed, `reported` when a source carried its own cost, the change columns with
/// `--compare`.
pub struct HumanColumns {
    failed: bool,
    reported: bool,
    compare: bool,
}

impl HumanColumns {
    pub fn of(report: &Report) -> HumanColumns {
        HumanColumns {
            failed: report.total.failed_requests > 0,
            reported: report.has_reported(),
            compare: report.previous_period.is_some(),
        }
    }

    pub fn headers(&self) -> Vec<&'static str> {
        let mut h = vec!["requests"];
        if self.failed {
            h.push("failed");
        }
        h.extend(["input", "cache read", "cache write", "output", "cost"]);
        if self.reported {
            h.push("reported");
        }
        if self.compare {
            h.extend(["previous", "change", "change %"]);
        }
        h
    }

    /// The columns as a terminal table shows them: token counts are hidden first when the terminal is
    /// narrow, then the reported cost, the failed count, the previous cost and the request count; the
    /// cost and its change always stay.
    pub fn grid_columns(&self) -> Vec<grid::Column> {
        self.headers()
            .into_iter()
            .map(|h| {
                let column = grid::Column::number(h);
                match h {
                    "cache write" => column.droppable(1),
                    "cache read" => column.droppable(2),
                    "input" => column.droppable(3),
                    "output" => column.droppable(4),
                    "reported" => column.droppable(5),
                    "failed" => column.droppable(6),
                    "previous" => column.droppable(7),
                    "requests" => column.droppable(8),
                    _ => column,
                }
            })
            .collect()
    }

    pub fn cells(&self, t: &super::Totals, previous: Option<&super::Totals>) -> Vec<String> {
        let mut c = vec![count_human(t.requests)];
        if self.failed {
            c.push(count_human(t.failed_requests));
        }
        c.extend([
            count_human(t.input_tokens),
            count_human(t.cache_read_tokens),
            count_human(t.cache_write_tokens),
            count_human(t.output_tokens),
            match t.fallback_records {
                0 => money_human(t.cost),
                _ => format!("{} {FALLBACK_MARK}", money_human(t.cost)),
            },
        ]);
        if self.reported {
            c.push(t.reported().map(money_human).unwrap_or_else(|| "-".into()));
        }
        if self.compare {
            let p = previous.map(|p| p.cost).unwrap_or_default();
            let change = t.cost - p;
            let sign = if change > Decimal::ZERO { "+" } else { "" };
            c.push(money_human(p));
            c.push(format!("{sign}{}", money_human(change)));
            c.push(match super::change_percent(t.cost, p) {
                Some(pct) => format!("{}{pct}%", if pct > Decimal::ZERO { "+" } else { "" }),
                None => "new".into(),
            });
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn money_formats() {
        assert_eq!(money_human(dec!(1234.565)), "$1,234.57");
        assert_eq!(money_human(dec!(0.00421)), "$0.0042");
        assert_eq!(money_human(dec!(0)), "$0.00");
        assert_eq!(money_human(dec!(-0.0000015)), "$0.00");
        assert_eq!(money_human(dec!(-12.5)), "-$12.50");
        assert_eq!(money_exact(dec!(41.2500)), "41.25");
        assert_eq!(money_exact(dec!(0.000001250)), "0.00000125");
        assert_eq!(count_human(1234567), "1,234,567");
        assert_eq!(count_human(999), "999");
    }
}
