//! `--format csv`: one line per row, dimension columns first, `price_source` last; money exact. Unpriced records are not rows
//! (they have no cost): the command warns about them on standard error. Text that a spreadsheet would run
//! as a formula is neutralised (see `crate::sanitize::csv_field`).

use std::io::Write;

use super::{counts, money_exact, COUNT_FIELDS};
use crate::report::{change_percent, Report};
use crate::sanitize::CsvOut;

pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let mut w = CsvOut::new(out);
    let mut header: Vec<String> = report.group_by.iter().map(|d| d.name()).collect();
    header.extend(COUNT_FIELDS.iter().map(|s| s.to_string()));
    header.extend(["failed_requests", "cost", "reported_cost"].map(String::from));
    let compare = report.previous_period.is_some();
    if compare {
        header.extend(["previous_cost", "change", "change_pct"].map(String::from));
    }
    // Last, so that columns read by position before it keep their place.
    header.push("price_source".into());
    // Added later, after `price_source`, for the same reason.
    header.extend(["tool_calls", "tool_fees"].map(String::from));
    w.row(&header)?;
    for row in &report.rows {
        let t = &row.totals;
        let mut fields = row.values.clone();
        fields.extend(counts(t).iter().map(u64::to_string));
        fields.push(t.failed_requests.to_string());
        fields.push(money_exact(t.cost));
        fields.push(t.reported().map(money_exact).unwrap_or_default());
        if let Some(p) = row.previous.as_ref().filter(|_| compare) {
            fields.push(money_exact(p.cost));
            fields.push(money_exact(t.cost - p.cost));
            fields.push(
                change_percent(t.cost, p.cost)
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
            );
        }
        fields.push(t.price_source().to_string());
        fields.push(t.tool_calls.to_string());
        fields.push(money_exact(t.tool_fees));
        w.row(&fields)?;
    }
    w.flush()
}
