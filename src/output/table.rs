//! `--format table`: terminal tables that fit the terminal. Every command's [`Sheet`] says which
//! columns may be dropped and which names may be shortened, and [`Grid::render`] decides what fits.
//!
//! Money and counts are never wrapped or cut: when the table is wider than the terminal, droppable
//! columns go first (lowest rank first), then long names are shortened with an ellipsis; if it still
//! does not fit, it is printed wider than the terminal rather than split mid-number.

use std::io::Write;

use comfy_table::{presets, Attribute, Cell, CellAlignment, ContentArrangement, Table};
use unicode_width::UnicodeWidthStr;

use super::{Column, Kind, Sheet, Style};
use crate::error::Result;

/// Writes a sheet as a terminal table: its title, the table fitted to `style.width`, then its notes.
pub fn write(sheet: &Sheet, style: Style, out: &mut dyn Write) -> Result<()> {
    if let Some(title) = &sheet.title {
        writeln!(out, "{title}")?;
    }
    for line in &sheet.intro {
        writeln!(out, "{line}")?;
    }
    if !(sheet.omit_if_empty && sheet.rows.is_empty()) {
        let mut grid = Grid::new(sheet.columns.clone());
        for row in &sheet.rows {
            grid.push(row.iter().map(super::Cell::human).collect());
        }
        grid.total_row = sheet.total_row;
        grid.render(style, out)?;
    }
    for line in &sheet.notes {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// A value for a line of text beside a terminal table: control characters escaped, long values cut
/// (see `crate::sanitize::table_cell`).
pub fn escape(s: &str) -> String {
    crate::sanitize::table_cell(s)
}

/// The narrowest a shortened name gets (characters, including the ellipsis).
const MIN_LABEL: usize = 8;

impl Column {
    fn shrink(&self) -> bool {
        self.kind == Kind::Label
    }

    fn align(&self) -> CellAlignment {
        match self.kind {
            Kind::Number => CellAlignment::Right,
            Kind::Label | Kind::Text => CellAlignment::Left,
        }
    }
}

/// A table of text cells; the last row may be a bold total row.
#[derive(Debug, Clone, Default)]
pub struct Grid {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
    /// The last row is a total (its first cell is shown bold when colour is on).
    pub total_row: bool,
}

/// Table borders of `UTF8_FULL_CONDENSED`: one padding space each side of every cell, one rule between
/// cells and one at each edge.
fn table_width(widths: &[usize]) -> usize {
    widths.iter().sum::<usize>() + 3 * widths.len() + 1
}

/// Shortens `s` to at most `width` display columns, ending in `…` when cut.
pub fn ellipsize(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

impl Grid {
    pub fn new(columns: Vec<Column>) -> Grid {
        Grid {
            columns,
            ..Grid::default()
        }
    }

    /// Adds a row. Values are made inert here, for every table: control characters escaped, values
    /// longer than `crate::sanitize::MAX_CELL_CHARS` cut (see `crate::sanitize::table_cell`).
    pub fn push(&mut self, row: Vec<String>) {
        self.rows
            .push(row.iter().map(|v| crate::sanitize::table_cell(v)).collect());
    }

    /// Which columns to show and how wide each name column may be, for a terminal `width` columns
    /// wide (`None`: not a terminal, show everything in full).
    fn layout(&self, width: Option<u16>) -> (Vec<usize>, Vec<usize>) {
        let natural: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|s| s.width())
                    .chain([c.name.width()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut shown: Vec<usize> = (0..self.columns.len()).collect();
        let mut widths = natural.clone();
        let Some(limit) = width.map(usize::from) else {
            return (shown, widths);
        };
        let current = |shown: &[usize], widths: &[usize]| {
            table_width(&shown.iter().map(|&i| widths[i]).collect::<Vec<_>>())
        };
        // Hide droppable columns, lowest rank first (the rightmost of equal ranks first).
        while current(&shown, &widths) > limit {
            let next = shown
                .iter()
                .enumerate()
                .filter_map(|(pos, &i)| self.columns[i].drop_rank.map(|r| (r, pos)))
                .min_by_key(|&(rank, pos)| (rank, std::cmp::Reverse(pos)));
            match next {
                Some((_, pos)) => {
                    shown.remove(pos);
                }
                None => break,
            }
        }
        // Shorten the widest name column, one character at a time, down to MIN_LABEL.
        while current(&shown, &widths) > limit {
            let widest = shown
                .iter()
                .copied()
                .filter(|&i| {
                    self.columns[i].shrink()
                        && widths[i] > MIN_LABEL.max(self.columns[i].name.width())
                })
                .max_by_key(|&i| widths[i]);
            match widest {
                Some(i) => widths[i] -= 1,
                None => break,
            }
        }
        (shown, widths)
    }

    /// Writes the table, fitted to `style.width`, then one line naming the columns hidden to fit.
    pub fn render(&self, style: Style, out: &mut dyn Write) -> std::io::Result<()> {
        let (shown, widths) = self.layout(style.width);
        let mut table = Table::new();
        table
            .load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled);
        if style.color {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        let bold = |c: Cell| {
            if style.color {
                c.add_attribute(Attribute::Bold)
            } else {
                c
            }
        };
        table.set_header(
            shown
                .iter()
                .map(|&i| bold(Cell::new(&self.columns[i].name))),
        );
        for (n, row) in self.rows.iter().enumerate() {
            let total = self.total_row && n + 1 == self.rows.len();
            table.add_row(shown.iter().enumerate().map(|(pos, &i)| {
                let column = &self.columns[i];
                let text = row.get(i).map(String::as_str).unwrap_or("");
                let text = if column.shrink() {
                    ellipsize(text, widths[i])
                } else {
                    text.to_string()
                };
                let cell = Cell::new(text).set_alignment(column.align());
                if total && pos == 0 {
                    bold(cell)
                } else {
                    cell
                }
            }));
        }
        writeln!(out, "{table}")?;
        let hidden: Vec<&str> = (0..self.columns.len())
            .filter(|i| !shown.contains(i))
            .map(|i| self.columns[i].name.as_str())
            .collect();
        if !hidden.is_empty() {
            writeln!(
                out,
                "(hidden to fit {} columns: {})",
                style.width.unwrap_or_default(),
                hidden.join(", ")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        let mut g = Grid::new(vec![
            Column::label("model"),
            Column::number("input").droppable(1),
            Column::number("cost"),
        ]);
        g.push(vec![
            "claude-sonnet-4-5-20250929".into(),
            "1,234,567".into(),
            "$864.38".into(),
        ]);
        g
    }

    #[test]
    fn drops_then_shortens_never_cuts_money() {
        let g = grid();
        // model 26 + input 9 + cost 7 = 42, + 3 × 3 + 1 = 52 columns in full.
        assert_eq!(g.layout(None), (vec![0, 1, 2], vec![26, 9, 7]));
        assert_eq!(g.layout(Some(52)), (vec![0, 1, 2], vec![26, 9, 7]));
        // One column less: `input` goes (52 − 9 − 3 = 40 wide).
        assert_eq!(g.layout(Some(51)).0, vec![0, 2]);
        // 30 columns: the model name shrinks to 30 − 7 − 7 = 16 characters.
        assert_eq!(g.layout(Some(30)), (vec![0, 2], vec![16, 9, 7]));
        // Too narrow even then: the name stops at 8 and the table is wider than asked.
        assert_eq!(g.layout(Some(10)), (vec![0, 2], vec![8, 9, 7]));
        let mut out = Vec::new();
        g.render(
            Style {
                color: false,
                width: Some(30),
            },
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("claude-sonnet-4…"), "{text}");
        assert!(text.contains("$864.38"), "{text}");
        assert!(text.contains("(hidden to fit 30 columns: input)"), "{text}");
        // Every line of the table fits; only the note under it may wrap.
        assert!(
            text.lines()
                .filter(|l| !l.starts_with('('))
                .all(|l| l.width() <= 30),
            "{text}"
        );
    }

    #[test]
    fn ellipsis() {
        assert_eq!(ellipsize("abcdef", 6), "abcdef");
        assert_eq!(ellipsize("abcdefg", 6), "abcde…");
    }
}
