//! Month-end forecast accuracy on synthetic spend: `cargo bench --bench forecast_accuracy`.
//!
//! For each series family, several seeded series of eight months (2026-01-01 ..= 2026-08-31) are
//! generated; the first two months are warm-up history. In each of the six months after it, the month
//! total is projected on days 5, 10, 15, 20 and 25 (each projection sees only the days through its
//! date) with every method, and compared with what the month really cost. The output is Markdown:
//! MAPE of the month total and the share of months inside the 80% interval, per family and overall.

use std::collections::BTreeMap;
use std::time::Instant;

use aispend::forecast::backtest::{month_end_accuracy_many, Accuracy};
use aispend::forecast::synthetic::{generate, Family};
use aispend::forecast::{Method, MethodChoice};
use rayon::prelude::*;
use rust_decimal::Decimal;

/// Seeds per family.
const SEEDS: u64 = 8;
/// 2026-01-01 ..= 2026-08-31.
const DAYS: usize = 243;
/// Days of history before the first evaluated month (January and February).
const WARM_UP_DAYS: usize = 59;
const ORIGIN_DAYS: [u32; 5] = [5, 10, 15, 20, 25];

const CHOICES: [MethodChoice; 5] = [
    MethodChoice::Fixed(Method::RunRate),
    MethodChoice::Fixed(Method::SeasonalNaive),
    MethodChoice::Fixed(Method::WeekdayMean),
    MethodChoice::Fixed(Method::HoltWinters),
    MethodChoice::Auto,
];

fn main() {
    let started = Instant::now();
    let jobs: Vec<(Family, u64)> = Family::ALL
        .iter()
        .flat_map(|f| (1..=SEEDS).map(move |s| (*f, s)))
        .collect();
    let results: Vec<(Family, Vec<Accuracy>)> = jobs
        .par_iter()
        .map(|&(family, seed)| {
            let series = generate(family, seed, DAYS);
            let acc = month_end_accuracy_many(&series, &CHOICES, &ORIGIN_DAYS, WARM_UP_DAYS)
                .expect("synthetic series always project");
            (family, acc)
        })
        .collect();

    // Pool the seeds of each family, and everything for the overall row.
    let mut by_family: BTreeMap<usize, Vec<Accuracy>> = BTreeMap::new();
    let mut overall = vec![Accuracy::default(); CHOICES.len()];
    for (family, accs) in results {
        let key = Family::ALL.iter().position(|f| *f == family).unwrap_or(0);
        let pooled = by_family
            .entry(key)
            .or_insert_with(|| vec![Accuracy::default(); CHOICES.len()]);
        for (i, acc) in accs.into_iter().enumerate() {
            pooled[i].extend(acc.clone());
            overall[i].extend(acc);
        }
    }
    let mut rows: Vec<(String, Vec<Accuracy>)> = by_family
        .into_iter()
        .map(|(k, accs)| (Family::ALL[k].as_str().to_string(), accs))
        .collect();
    rows.push(("**overall**".to_string(), overall.clone()));

    let header: Vec<&str> = CHOICES.iter().map(|c| c.as_str()).collect();
    println!("## Month-end forecast accuracy (synthetic spend)\n");
    println!(
        "{SEEDS} seeded series per family × 6 months (Mar–Aug 2026, after 2 months of history) × \
         projections on days {}; each case forecasts that month's total.\n",
        ORIGIN_DAYS.map(|d| d.to_string()).join(", ")
    );
    println!("MAPE of the month total (lower is better):\n");
    table(&header, &rows, |a| a.mape().map(pct));
    println!("\n80% interval coverage (target 75–85%):\n");
    table(&header, &rows, |a| a.coverage().map(pct));

    // Which method auto chose, per family.
    let auto = CHOICES.len() - 1;
    println!("\nMethods `auto` chose:\n");
    println!("| series | run-rate | seasonal-naive | weekday-mean | holt-winters |");
    println!("|---|---|---|---|---|");
    for (name, accs) in &rows {
        let counts: Vec<String> = Method::ALL
            .iter()
            .map(|m| {
                accs[auto]
                    .cases
                    .iter()
                    .filter(|c| c.method == *m)
                    .count()
                    .to_string()
            })
            .collect();
        println!("| {name} | {} |", counts.join(" | "));
    }

    // Accuracy by how far into the month the projection was made.
    println!("\nMAPE by day of the month projected on, all families:\n");
    println!("| day | run-rate | auto | auto coverage |");
    println!("|---|---|---|---|");
    for d in ORIGIN_DAYS {
        let on_day = |acc: &Accuracy| Accuracy {
            cases: acc
                .cases
                .iter()
                .filter(|c| c.as_of.format("%d").to_string() == format!("{d:02}"))
                .cloned()
                .collect(),
        };
        let (rr, au) = (on_day(&overall[0]), on_day(&overall[auto]));
        println!(
            "| {d} | {} | {} | {} |",
            cell(rr.mape().map(pct)),
            cell(au.mape().map(pct)),
            cell(au.coverage().map(pct))
        );
    }

    // The targets.
    let seasonal = &rows[0].1;
    let (rr, au) = (seasonal[0].mape(), seasonal[auto].mape());
    println!();
    if let (Some(rr), Some(au)) = (rr, au) {
        let gain = if rr.is_zero() {
            Decimal::ZERO
        } else {
            (Decimal::ONE - au / rr) * Decimal::ONE_HUNDRED
        };
        println!(
            "- weekly-seasonal: auto's MAPE is {}% lower than run-rate's (target ≥ 30%): {}",
            gain.round_dp(1),
            if gain >= Decimal::from(30) {
                "met"
            } else {
                "NOT met"
            }
        );
    }
    if let Some(cov) = overall[auto].coverage() {
        let ok = cov >= Decimal::from(75) && cov <= Decimal::from(85);
        println!(
            "- auto's 80% interval covers {} of all month totals (target 75–85%): {}",
            pct(cov),
            if ok { "met" } else { "NOT met" }
        );
    }
    println!(
        "- {} projections per method in {} ms",
        overall[auto].cases.len(),
        started.elapsed().as_millis()
    );

    demo(&header);
}

/// The same backtest on the demo month (fixtures/demo, read through the real importers, attributed
/// with its aispend.toml): per team and in total, projected on days 5 to 25 of October. With one month of
/// history, `auto` can only follow its short-history rules: this shows what a new user sees.
fn demo(header: &[&str]) {
    use aispend::config::Config;
    use aispend::input::{read_inputs, ReadOptions};
    use aispend::pricing::PriceBook;
    use aispend::report::daily::{daily_query, from_report};
    use aispend::report::{Aggregator, Dim};

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let (config, _) = Config::discover(Some(&root.join("aispend.toml"))).expect("demo config");
    let book = PriceBook::built_in().expect("price tables");
    let query = daily_query(&[Dim::Team], Vec::new(), chrono_tz::Tz::UTC, None);
    let mut agg = Aggregator::new(&query, &config.teams, &book, true, None);
    read_inputs(&[root], ReadOptions::default(), &mut agg, &mut |_| {}).expect("demo data reads");
    let daily = from_report(agg.finish());
    let (Some(first), Some(last)) = (daily.first, daily.last) else {
        return;
    };
    let mut rows: Vec<(String, Vec<Accuracy>)> = Vec::new();
    let mut total = vec![Decimal::ZERO; (last - first).num_days() as usize + 1];
    for key in daily.groups.keys() {
        let values = daily.series(key, first, last);
        for (t, v) in total.iter_mut().zip(&values) {
            *t += *v;
        }
        let series = aispend::forecast::DailySeries {
            start: first,
            values,
        };
        let acc =
            month_end_accuracy_many(&series, &CHOICES, &ORIGIN_DAYS, 0).expect("demo projects");
        rows.push((key.join(", "), acc));
    }
    let series = aispend::forecast::DailySeries {
        start: first,
        values: total,
    };
    rows.push((
        "**total**".to_string(),
        month_end_accuracy_many(&series, &CHOICES, &ORIGIN_DAYS, 0).expect("demo projects"),
    ));
    println!("\n## Month-end forecast accuracy on the demo month (fixtures/demo, October 2026)\n");
    println!(
        "Per team, projected on days 5–25 from October's own days only (no earlier history).\n"
    );
    println!("MAPE of the month total:\n");
    table(header, &rows, |a| a.mape().map(pct));
    println!("\n80% interval coverage:\n");
    table(header, &rows, |a| a.coverage().map(pct));
}

fn table(
    header: &[&str],
    rows: &[(String, Vec<Accuracy>)],
    value: impl Fn(&Accuracy) -> Option<String>,
) {
    println!("| series | cases | {} |", header.join(" | "));
    println!("|---|---|{}", "---|".repeat(header.len()));
    for (name, accs) in rows {
        let cells: Vec<String> = accs.iter().map(|a| cell(value(a))).collect();
        println!(
            "| {name} | {} | {} |",
            accs[0].cases.len(),
            cells.join(" | ")
        );
    }
}

fn pct(d: Decimal) -> String {
    format!("{}%", d.round_dp(1))
}

fn cell(v: Option<String>) -> String {
    v.unwrap_or_else(|| "–".to_string())
}
