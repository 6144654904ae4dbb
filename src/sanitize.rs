//! Making input values safe to show: every value read from a file or a server may hold terminal escape
//! sequences, Markdown or HTML, spreadsheet formulas, or megabytes of text. Renderers and messages pass
//! values through one of these functions at the point where they are written, so the stored data stays
//! exactly as read (JSON output and the ledger keep every byte) while what a person sees is inert:
//!
//! - [`terminal`]: control characters (ESC, OSC, BEL, DEL, C1 controls and bidirectional overrides) are
//!   shown escaped (`\u{1b}`), so a value cannot clear the screen, retitle the terminal or reorder text.
//! - [`table_cell`] and [`markdown_cell`]: the same, cut to [`MAX_CELL_CHARS`] with an ellipsis;
//!   Markdown's specials are escaped so a value never becomes a link, code or HTML.
//! - [`csv_field`] (used by `crate::output::csv::CsvOut`): OWASP's rule against formula injection (a text starting with `=`, `+`,
//!   `-`, `@`, tab or CR gets a leading `'`); numbers stay numbers.
//! - [`message`] and [`excerpt`]: one line for standard error, and long values cut to a short excerpt.

use std::borrow::Cow;

/// The longest value a table or Markdown cell shows; longer ones end in `…`.
pub const MAX_CELL_CHARS: usize = 100;
/// The longest message (error or warning) written to standard error.
pub const MAX_MESSAGE_CHARS: usize = 2_000;
/// The longest excerpt of an input value an error message quotes.
pub const MAX_EXCERPT_CHARS: usize = 80;

/// Whether a character must not reach a terminal raw: C0 controls (including new line and tab: a value
/// is one cell or one line), DEL, C1 controls (`\u{9b}` is a one-byte CSI on some terminals) and the
/// Unicode bidirectional overrides and isolates (which reorder what is shown).
fn is_unsafe(c: char, keep_newlines: bool) -> bool {
    match c {
        '\n' | '\t' => !keep_newlines,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => true,
        _ => false,
    }
}

fn escape_unsafe(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_unsafe(c, keep_newlines)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c, keep_newlines) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A value as a terminal may show it: every control character escaped (`\u{1b}`), so nothing in it is
/// interpreted by the terminal.
pub fn terminal(s: &str) -> Cow<'_, str> {
    escape_unsafe(s, false)
}

/// `s` cut to `max` characters, ending in `…` when something was cut.
pub fn cut(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some(_) => {
            let keep = max.saturating_sub(1);
            let end = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
            Cow::Owned(format!("{}…", &s[..end]))
        }
    }
}

/// A value for a terminal table: control characters escaped, cut to [`MAX_CELL_CHARS`].
pub fn table_cell(s: &str) -> String {
    cut(&terminal(s), MAX_CELL_CHARS).into_owned()
}

/// A value for a Markdown table cell or list item: [`table_cell`], then Markdown's specials escaped with a
/// backslash (code spans, emphasis, links and images, HTML tags and entities, table pipes), so the value
/// renders as the same plain text.
pub fn markdown_cell(s: &str) -> String {
    let safe = table_cell(s);
    let mut out = String::with_capacity(safe.len() + 8);
    for c in safe.chars() {
        if matches!(
            c,
            '\\' | '`'
                | '*'
                | '_'
                | '<'
                | '>'
                | '['
                | ']'
                | '('
                | ')'
                | '|'
                | '~'
                | '&'
                | '!'
                | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether text is a number as we write them (`12`, `-0.5`, `+3`): spreadsheets read it as that number,
/// not as a formula, so it is left alone.
fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// A CSV field a spreadsheet opens safely (OWASP, "CSV Injection"): a text starting with `=`, `+`, `-`,
/// `@`, tab or carriage return is prefixed with a single quote, so it is shown as text instead of run as
/// a formula. Numbers (`-12.5`) are left as they are. Other control characters (ESC and the like) are
/// escaped as in [`terminal`]; tab, CR and new line inside a field stay (CSV quotes them).
pub fn csv_field(s: &str) -> Cow<'_, str> {
    let risky = matches!(s.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'));
    let field = if s.chars().any(|c| c != '\r' && is_unsafe(c, true)) {
        let mut out = String::with_capacity(s.len() + 8);
        for c in s.chars() {
            if c != '\r' && is_unsafe(c, true) {
                out.extend(c.escape_unicode());
            } else {
                out.push(c);
            }
        }
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    };
    if risky && !is_plain_number(s) {
        Cow::Owned(format!("'{field}"))
    } else {
        field
    }
}

/// A message for standard error: one line (new lines and every other control character escaped), at
/// most [`MAX_MESSAGE_CHARS`].
pub fn message(s: &str) -> String {
    cut(&escape_unsafe(s, false), MAX_MESSAGE_CHARS).into_owned()
}

/// A note for standard error that may span lines we wrote ourselves: control characters other than new
/// line and tab escaped, at most [`MAX_MESSAGE_CHARS`].
pub fn note(s: &str) -> String {
    cut(&escape_unsafe(s, true), MAX_MESSAGE_CHARS).into_owned()
}

/// A short excerpt of an input value for an error message: control characters escaped, at most
/// [`MAX_EXCERPT_CHARS`].
pub fn excerpt(s: &str) -> Cow<'_, str> {
    match terminal(s) {
        Cow::Borrowed(b) => cut(b, MAX_EXCERPT_CHARS),
        Cow::Owned(o) => Cow::Owned(cut(&o, MAX_EXCERPT_CHARS).into_owned()),
    }
}

/// Cuts every `"…"` run in `message` to at most `max` characters.
pub fn shorten_quoted(message: &str, max: usize) -> String {
    let mut out = String::with_capacity(message.len().min(256));
    let mut inside = false;
    let mut kept = 0;
    let mut cut = false;
    for c in message.chars() {
        if c == '"' {
            if inside && cut {
                out.push('…');
            }
            inside = !inside;
            kept = 0;
            cut = false;
            out.push(c);
        } else if inside {
            if kept < max {
                out.push(c);
            } else {
                cut = true;
            }
            kept += 1;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_controls() {
        assert_eq!(terminal("search"), "search");
        assert_eq!(terminal("a\u{1b}]0;pwned\u{7}b"), "a\\u{1b}]0;pwned\\u{7}b");
        assert_eq!(terminal("x\u{9b}2J"), "x\\u{9b}2J");
        assert_eq!(terminal("l\u{202e}r"), "l\\u{202e}r");
        assert_eq!(terminal("two\nlines"), "two\\u{a}lines");
        assert_eq!(terminal("café ✓"), "café ✓");
    }

    #[test]
    fn cells_are_cut_with_an_ellipsis() {
        let long = "x".repeat(10_000);
        let c = table_cell(&long);
        assert_eq!(c.chars().count(), MAX_CELL_CHARS);
        assert!(c.ends_with('…'));
        assert_eq!(
            table_cell(&"y".repeat(MAX_CELL_CHARS)),
            "y".repeat(MAX_CELL_CHARS)
        );
        assert_eq!(cut("ééé", 2), "é…");
    }

    #[test]
    fn markdown_specials_are_escaped() {
        assert_eq!(
            markdown_cell("[x](https://e.vil) `rm` <img src=x> a|b"),
            "\\[x\\]\\(https://e.vil\\) \\`rm\\` \\<img src=x\\> a\\|b"
        );
        assert_eq!(markdown_cell("gpt-4o"), "gpt-4o");
    }

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_field("+1+cmd"), "'+1+cmd");
        assert_eq!(csv_field("-2+3"), "'-2+3");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("\tx"), "'\tx");
        assert_eq!(csv_field("\rx"), "'\rx");
        assert_eq!(csv_field("-12.5"), "-12.5");
        assert_eq!(csv_field("+3"), "+3");
        assert_eq!(csv_field("0.0042"), "0.0042");
        assert_eq!(csv_field("team-a"), "team-a");
        assert_eq!(csv_field("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn messages_are_one_short_line() {
        assert_eq!(message("a\nb"), "a\\u{a}b");
        assert_eq!(note("a\nb\u{1b}"), "a\nb\\u{1b}");
        assert_eq!(
            message(&"m".repeat(5_000)).chars().count(),
            MAX_MESSAGE_CHARS
        );
        assert_eq!(
            excerpt(&"v".repeat(1_000)).chars().count(),
            MAX_EXCERPT_CHARS
        );
    }
}
