//! How results are shown: a command computes a result and describes it as a [`Sheet`] of typed
//! [`Cell`]s plus a JSON document ([`Render`]); one writer per format turns that into text. Money,
//! counts and percentages are formatted here and nowhere else: exact in JSON and CSV, for people in
//! terminal tables and Markdown.
//!
//! Every write error passes through [`crate::error::Error`]'s conversions, which keep an I/O error's
//! kind (a CSV error with an I/O cause included), so a closed pipe is recognised once, in `main`, for
//! every command and format.
//!
//! HTML ([`html`]) is one more writer of sheets: `report --format html` lays out its page and takes its
//! tables from it.
//!
//! This module knows nothing of reports, forecasts or budgets: they implement [`Render`].

use std::io::Write;

use rust_decimal::Decimal;

use crate::error::Result;

pub mod csv;
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

/// Terminal details a writer may use.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
    /// Terminal width, when writing to one (or when `COLUMNS` asks for one).
    pub width: Option<u16>,
}

/// One value of a sheet, typed so that each writer formats it its own way.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A value from the input or the configuration (a model, a team, a key): made inert in every
    /// format (control characters escaped; Markdown's specials escaped).
    Text(String),
    /// The program's own words (a status, a method, a date): written as they are (terminal tables
    /// still escape control characters).
    Plain(String),
    /// An amount of money: `$1,234.57` for people, every digit for machines.
    Money(Decimal),
    /// A change in money: `+$1.00` / `-$1.00` for people, exact for machines.
    Change(Decimal),
    /// A count: `1,234,567` for people, digits for machines.
    Count(u64),
    /// A percentage as computed: `12.5%` for people, `12.5` for machines.
    Pct(Decimal),
    /// A change in percent: `+12.5%` for people, `12.5` for machines; `None` (nothing before) reads
    /// `new` for people and is empty for machines.
    ChangePct(Option<Decimal>),
    /// A decimal shown exactly in every format (a rate, a multiplier).
    Exact(Decimal),
    /// A range of money for people: `$1.00 – $2.00`.
    Interval(Decimal, Decimal),
    /// No value: `-` for people, empty for machines.
    Missing,
    /// A cell followed by a note for people (`$3.00 †`, `$5.00 (50%)`); machines get the cell alone.
    Noted(Box<Cell>, String),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    pub fn plain(s: impl Into<String>) -> Cell {
        Cell::Plain(s.into())
    }

    /// `Money`, or `Missing` when there is no amount.
    pub fn money_or_missing(d: Option<Decimal>) -> Cell {
        d.map_or(Cell::Missing, Cell::Money)
    }

    /// The cell with a note after it, for people.
    pub fn noted(self, note: impl Into<String>) -> Cell {
        Cell::Noted(Box::new(self), note.into())
    }

    /// The cell for people (terminal tables, Markdown), before any escaping.
    pub fn human(&self) -> String {
        match self {
            Cell::Text(s) | Cell::Plain(s) => s.clone(),
            Cell::Money(d) => money_human(*d),
            Cell::Change(d) => {
                let sign = if *d > Decimal::ZERO { "+" } else { "" };
                format!("{sign}{}", money_human(*d))
            }
            Cell::Count(n) => count_human(*n),
            Cell::Pct(d) => format!("{d}%"),
            Cell::ChangePct(Some(d)) => {
                format!("{}{d}%", if *d > Decimal::ZERO { "+" } else { "" })
            }
            Cell::ChangePct(None) => "new".into(),
            Cell::Exact(d) => money_exact(*d),
            Cell::Interval(lo, hi) => format!("{} – {}", money_human(*lo), money_human(*hi)),
            Cell::Missing => "-".into(),
            Cell::Noted(cell, note) => format!("{} {note}", cell.human()),
        }
    }

    /// The cell for machines (CSV): exact amounts, plain digits, empty when missing.
    pub fn exact(&self) -> String {
        match self {
            Cell::Text(s) | Cell::Plain(s) => s.clone(),
            Cell::Money(d) | Cell::Change(d) | Cell::Exact(d) => money_exact(*d),
            Cell::Count(n) => n.to_string(),
            Cell::Pct(d) | Cell::ChangePct(Some(d)) => d.to_string(),
            Cell::ChangePct(None) | Cell::Missing => String::new(),
            Cell::Interval(lo, hi) => format!("{} – {}", money_exact(*lo), money_exact(*hi)),
            Cell::Noted(cell, _) => cell.exact(),
        }
    }
}

/// How a column is laid out in the human formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Names (dimension values): left-aligned, shortened with an ellipsis when a terminal is narrow.
    Label,
    /// Left-aligned text that is never cut (statuses, methods, dates).
    Text,
    /// Money, counts, percentages: right-aligned, never cut.
    Number,
}

/// One column of a [`Sheet`].
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
    /// `Some(rank)`: a terminal table may hide the column when it is too wide; lower ranks go first.
    pub drop_rank: Option<u8>,
}

impl Column {
    pub fn label(name: impl Into<String>) -> Column {
        Column::of(name, Kind::Label)
    }

    pub fn text(name: impl Into<String>) -> Column {
        Column::of(name, Kind::Text)
    }

    pub fn number(name: impl Into<String>) -> Column {
        Column::of(name, Kind::Number)
    }

    fn of(name: impl Into<String>, kind: Kind) -> Column {
        Column {
            name: name.into(),
            kind,
            drop_rank: None,
        }
    }

    /// Marks the column as one to hide when the table is too wide; lower ranks are hidden first.
    pub fn droppable(mut self, rank: u8) -> Column {
        self.drop_rank = Some(rank);
        self
    }
}

/// A result as a table: a title, columns, rows of cells, and lines of notes after it.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    /// Shown above the table (Markdown: as a `###` heading). CSV has none.
    pub title: Option<String>,
    /// Lines between the title and the table, as they are (escaped for the format). CSV has none.
    pub intro: Vec<String>,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// The last row is a total (shown bold on a colour terminal).
    pub total_row: bool,
    /// With no rows, no table at all (only the title and notes).
    pub omit_if_empty: bool,
    /// Lines written after the table, as they are (already escaped for the format, see
    /// [`markdown::escape`] and [`table::escape`]). CSV has none.
    pub notes: Vec<String>,
}

impl Sheet {
    pub fn new(columns: Vec<Column>) -> Sheet {
        Sheet {
            columns,
            ..Sheet::default()
        }
    }

    /// A result that is lines of text for people, with no table (`aispend sources`, `config path`,
    /// `pricing show`, an import's summary): the lines are written as they are, so values from the input
    /// in them must already be escaped for the format (see [`table::escape`]).
    pub fn lines(lines: Vec<String>) -> Sheet {
        Sheet {
            intro: lines,
            omit_if_empty: true,
            ..Sheet::default()
        }
    }

    pub fn titled(mut self, title: impl Into<String>) -> Sheet {
        self.title = Some(title.into());
        self
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    pub fn note(&mut self, line: impl Into<String>) {
        self.notes.push(line.into());
    }
}

/// A result that can be shown in every format: a sheet per format (people's tables may show other
/// columns than CSV, and titles and notes are worded in each format's markup) and one JSON document.
pub trait Render {
    /// The sheet for `format` (`Table`, `Markdown` or `Csv`).
    fn sheet(&self, format: Format) -> Sheet;
    /// The JSON document (`--format json`), with its `schema`.
    fn json(&self) -> serde_json::Value;
}

/// Writes a result in one format.
pub fn write(x: &dyn Render, format: Format, style: Style, out: &mut dyn Write) -> Result<()> {
    match format {
        Format::Table => table::write(&x.sheet(format), style, out),
        Format::Markdown => markdown::write(&x.sheet(format), out),
        Format::Csv => csv::write(&x.sheet(format), out),
        Format::Json => json::write(&x.json(), out),
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
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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

    #[test]
    fn each_cell_once_for_people_once_for_machines() {
        let cases = [
            (Cell::Money(dec!(1234.5)), "$1,234.50", "1234.5"),
            (Cell::Change(dec!(2.5)), "+$2.50", "2.5"),
            (Cell::Change(dec!(-2.5)), "-$2.50", "-2.5"),
            (Cell::Count(12345), "12,345", "12345"),
            (Cell::Pct(dec!(-17.65)), "-17.65%", "-17.65"),
            (Cell::ChangePct(Some(dec!(50))), "+50%", "50"),
            (Cell::ChangePct(None), "new", ""),
            (Cell::Exact(dec!(3.000)), "3", "3"),
            (
                Cell::Interval(dec!(1), dec!(2.5)),
                "$1.00 – $2.50",
                "1 – 2.5",
            ),
            (Cell::Missing, "-", ""),
            (Cell::Money(dec!(3)).noted("†"), "$3.00 †", "3"),
        ];
        for (cell, human, exact) in cases {
            assert_eq!(cell.human(), human, "{cell:?}");
            assert_eq!(cell.exact(), exact, "{cell:?}");
        }
    }
}
