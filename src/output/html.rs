//! HTML: a sheet as a section of a page, for `report --format html`. The page (see
//! `crate::report::render::html`) lays out its headline and chart itself and takes its tables from
//! here, as every other format takes them from its writer: what a result shows in a terminal table
//! it shows on the page, formatted the same way.
//!
//! Every value is escaped by the template engine (maud), in text and in attributes, so a name from the
//! input can never become markup. Each cell carries its sort key in `data-v` (money and counts exact,
//! text as shown), so the page's script can sort any table by any column without parsing `$1,234.57`.

use maud::{html, Markup};

use super::{Cell, Column, Kind, Sheet};

/// A sheet as a `<section>`: its title as a heading, its intro and notes as paragraphs, its rows as
/// a sortable table (the total row, when there is one, in the table's foot).
pub fn section(sheet: &Sheet, id: &str) -> Markup {
    html! {
        section id=(id) {
            @if let Some(title) = &sheet.title { h2 { (title) } }
            @for line in sheet.intro.iter().filter(|l| !l.is_empty()) { p { (line) } }
            @if !(sheet.omit_if_empty && sheet.rows.is_empty()) { (table(sheet)) }
            @for line in sheet.notes.iter().filter(|l| !l.is_empty()) { p.sub { (line) } }
        }
    }
}

/// A sheet's rows as a sortable table.
pub fn table(sheet: &Sheet) -> Markup {
    let (body, total) = match (sheet.total_row, sheet.rows.split_last()) {
        (true, Some((last, rest))) => (rest, Some(last)),
        _ => (&sheet.rows[..], None),
    };
    html! {
        div.scroll { table.sortable {
            thead { tr {
                @for c in &sheet.columns {
                    @if c.kind == Kind::Number {
                        th.num data-type="num" { (c.name) }
                    } @else {
                        th data-type="text" { (c.name) }
                    }
                }
            } }
            tbody {
                @for row in body { tr { (cells(&sheet.columns, row)) } }
            }
            @if let Some(row) = total {
                tfoot { tr { (cells(&sheet.columns, row)) } }
            }
        } }
    }
}

fn cells(columns: &[Column], row: &[Cell]) -> Markup {
    html! {
        @for (c, cell) in columns.iter().zip(row) {
            @if c.kind == Kind::Number {
                td.num data-v=(cell.exact()) { (cell.human()) }
            } @else {
                td data-v=(cell.human()) { (cell.human()) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn cells_show_money_for_people_and_sort_by_the_exact_amount() {
        let mut sheet = Sheet::new(vec![Column::label("team"), Column::number("cost")])
            .titled("Spend <by> team");
        sheet.push(vec![Cell::text("<b>search</b>"), Cell::Money(dec!(1234.5))]);
        sheet.push(vec![Cell::plain("total"), Cell::Money(dec!(1234.5))]);
        sheet.total_row = true;
        sheet.note("warning: \"quoted\"");
        let page = section(&sheet, "spend").into_string();
        assert_eq!(
            page,
            "<section id=\"spend\"><h2>Spend &lt;by&gt; team</h2><div class=\"scroll\">\
             <table class=\"sortable\"><thead><tr><th data-type=\"text\">team</th>\
             <th class=\"num\" data-type=\"num\">cost</th></tr></thead><tbody><tr>\
             <td data-v=\"&lt;b&gt;search&lt;/b&gt;\">&lt;b&gt;search&lt;/b&gt;</td>\
             <td class=\"num\" data-v=\"1234.5\">$1,234.50</td></tr></tbody><tfoot><tr>\
             <td data-v=\"total\">total</td><td class=\"num\" data-v=\"1234.5\">$1,234.50</td>\
             </tr></tfoot></table></div><p class=\"sub\">warning: &quot;quoted&quot;</p></section>"
        );
    }
}
