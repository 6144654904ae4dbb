//! Month-end forecast accuracy on synthetic spend: `cargo bench --bench forecast_accuracy`.
//!
//! For each series family (shape), several seeded series of eight months (2026-01-01 ..= 2026-08-31)
//! are generated; the first two months are warm-up history. In each of the six months after it, the
//! month total is projected on days 5, 10, 15, 20 and 25 (each projection sees only the days through
//! its date) with every method, and compared with what the month really cost. A short-history shape
//! projects each of those months on its day 10 from that month's ten days only. The output is
//! Markdown: per shape and method, MAPE and max APE of the month total, the share of months inside the
//! 80% interval and the number of one-sided intervals, then the targets.

use std::collections::BTreeMap;
use std::time::Instant;

use aispend::forecast::backtest::{month_end_accuracy_many, Accuracy};
use aispend::forecast::synthetic::{generate, Family};
use aispend::forecast::{DailySeries, Method, MethodChoice};
use chrono::Datelike;
use rayon::prelude::*;
use rust_decimal::Decimal;

/// Seeds per family.
const SEEDS: u64 = 8;
/// 2026-01-01 ..= 2026-08-31.
const DAYS: usize = 243;
/// Days of history before the first evaluated month (January and February).
const WARM_UP_DAYS: usize = 59;
const ORIGIN_DAYS: [u32; 5] = [5, 10, 15, 20, 25];
/// The short-history shape: projected on this day of the month from that month's days only.
const SHORT_DAY: u32 = 10;
const SHORT: &str = "short-history (10 days)";

const CHOICES: [MethodChoice; 8] = [
    MethodChoice::Fixed(Method::RunRate),
    MethodChoice::Fixed(Method::SeasonalNaive),
    MethodChoice::Fixed(Method::WeekdayMean),
    MethodChoice::Fixed(Method::HoltWinters),
    MethodChoice::Fixed(Method::Theta),
    MethodChoice::Fixed(Method::Arima),
    MethodChoice::Fixed(Method::Ensemble),
    MethodChoice::Auto,
];

fn index(m: Method) -> usize {
    CHOICES
        .iter()
        .position(|c| *c == MethodChoice::Fixed(m))
        .unwrap_or(0)
}

/// The month of `series` starting at `month`, alone (ten days of history on day 10).
fn month_only(series: &DailySeries, month: chrono::NaiveDate) -> DailySeries {
    let from = (month - series.start).num_days() as usize;
    let next = month
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(month);
    let to = (next - series.start).num_days() as usize;
    DailySeries::new(month, series.values[from..to].to_vec())
}

fn main() {
    let started = Instant::now();
    let jobs: Vec<(usize, u64)> = (0..=Family::ALL.len())
        .flat_map(|f| (1..=SEEDS).map(move |s| (f, s)))
        .collect();
    let results: Vec<(usize, Vec<Accuracy>)> = jobs
        .par_iter()
        .map(|&(shape, seed)| {
            let run = |s: &DailySeries, days: &[u32], warm_up: usize| {
                month_end_accuracy_many(s, &CHOICES, days, warm_up)
                    .expect("synthetic series always project")
            };
            let acc = match Family::ALL.get(shape) {
                Some(family) => run(&generate(*family, seed, DAYS), &ORIGIN_DAYS, WARM_UP_DAYS),
                None => {
                    // Short history: weekly-seasonal months, each on its own.
                    let full = generate(Family::WeeklySeasonal, seed, DAYS);
                    let mut pooled = vec![Accuracy::default(); CHOICES.len()];
                    for m in 3..=8 {
                        let month = chrono::NaiveDate::from_ymd_opt(2026, m, 1).expect("month");
                        let accs = run(&month_only(&full, month), &[SHORT_DAY], 0);
                        for (p, a) in pooled.iter_mut().zip(accs) {
                            p.extend(a);
                        }
                    }
                    pooled
                }
            };
            (shape, acc)
        })
        .collect();

    // Pool the seeds of each shape, and everything for the overall row.
    let mut by_shape: BTreeMap<usize, Vec<Accuracy>> = BTreeMap::new();
    let mut overall = vec![Accuracy::default(); CHOICES.len()];
    for (shape, accs) in results {
        let pooled = by_shape
            .entry(shape)
            .or_insert_with(|| vec![Accuracy::default(); CHOICES.len()]);
        for (i, acc) in accs.into_iter().enumerate() {
            pooled[i].extend(acc.clone());
            overall[i].extend(acc);
        }
    }
    let mut rows: Vec<(String, Vec<Accuracy>)> = by_shape
        .into_iter()
        .map(|(k, accs)| {
            let name = Family::ALL.get(k).map_or(SHORT, |f| f.as_str());
            (name.to_string(), accs)
        })
        .collect();
    rows.push(("**overall**".to_string(), overall.clone()));

    let header: Vec<&str> = CHOICES.iter().map(|c| c.as_str()).collect();
    println!("## Month-end forecast accuracy (synthetic spend)\n");
    println!(
        "{SEEDS} seeded series per shape × 6 months (Mar–Aug 2026, after 2 months of history) × \
         projections on days {}; the short-history shape projects each month on day {SHORT_DAY} from \
         its own 10 days. Each case forecasts that month's total.\n",
        ORIGIN_DAYS.map(|d| d.to_string()).join(", ")
    );
    println!("MAPE of the month total (lower is better):\n");
    table(&header, &rows, |a| a.mape().map(pct));
    println!("\nLargest APE of the month total:\n");
    table(&header, &rows, |a| a.max_ape().map(pct));
    println!("\n80% interval coverage (target 75–85%):\n");
    table(&header, &rows, |a| a.coverage().map(pct));
    println!("\nOne-sided intervals (target: none):\n");
    table(&header, &rows, |a| Some(a.one_sided().to_string()));
    println!(
        "\nForecast of nothing more this month, interval [actual to date, upper] (spend cannot go \
         lower; not counted as one-sided):\n"
    );
    table(&header, &rows, |a| Some(a.at_zero_floor().to_string()));

    // Which method auto chose, per shape.
    let auto = CHOICES.len() - 1;
    println!("\nMethods `auto` chose:\n");
    let names: Vec<&str> = Method::ALL.iter().map(|m| m.as_str()).collect();
    println!("| series | {} |", names.join(" | "));
    println!("|---|{}", "---|".repeat(names.len()));
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
    println!("\nMAPE by day of the month projected on, all shapes but short-history:\n");
    println!("| day | run-rate | theta | arima | auto | auto coverage |");
    println!("|---|---|---|---|---|---|");
    let long = rows
        .iter()
        .filter(|(n, _)| Family::ALL.iter().any(|f| f.as_str() == n))
        .fold(
            vec![Accuracy::default(); CHOICES.len()],
            |mut acc, (_, a)| {
                for (p, x) in acc.iter_mut().zip(a) {
                    p.extend(x.clone());
                }
                acc
            },
        );
    for d in ORIGIN_DAYS {
        let on_day = |acc: &Accuracy| Accuracy {
            cases: acc
                .cases
                .iter()
                .filter(|c| c.as_of.day() == d)
                .cloned()
                .collect(),
        };
        let m = |i: usize| cell(on_day(&long[i]).mape().map(pct));
        println!(
            "| {d} | {} | {} | {} | {} | {} |",
            m(index(Method::RunRate)),
            m(index(Method::Theta)),
            m(index(Method::Arima)),
            m(auto),
            cell(on_day(&long[auto]).coverage().map(pct))
        );
    }

    targets(&rows, auto);
    println!(
        "- {} projections per method in {} ms",
        overall[auto].cases.len(),
        started.elapsed().as_millis()
    );

    demo(&header);
}

/// The targets, each marked met or NOT met.
fn targets(rows: &[(String, Vec<Accuracy>)], auto: usize) {
    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    let mape = |accs: &[Accuracy], i: usize| accs[i].mape().unwrap_or_default();
    let seasonal = &rows[0].1;
    let au = mape(seasonal, auto);
    let (th, ar) = (
        mape(seasonal, index(Method::Theta)),
        mape(seasonal, index(Method::Arima)),
    );
    println!();
    println!(
        "- weekly-seasonal: auto's MAPE {} vs the better of theta ({}) and arima ({}): {}",
        pct(au),
        pct(th),
        pct(ar),
        met(au <= th.min(ar))
    );
    let rr = mape(seasonal, index(Method::RunRate));
    let gain = if rr.is_zero() {
        Decimal::ZERO
    } else {
        (Decimal::ONE - au / rr) * Decimal::ONE_HUNDRED
    };
    println!(
        "- weekly-seasonal: auto's MAPE is {}% lower than run-rate's (target ≥ 60%): {}",
        gain.round_dp(1),
        met(gain >= Decimal::from(60))
    );
    let cov = seasonal[auto].coverage().unwrap_or_default();
    println!(
        "- weekly-seasonal: auto's 80% interval covers {} (target 75–85%): {}",
        pct(cov),
        met(cov >= Decimal::from(75) && cov <= Decimal::from(85))
    );
    let one_sided: usize = rows
        .iter()
        .filter(|(n, _)| !n.starts_with("**"))
        .flat_map(|(_, accs)| accs.iter().map(Accuracy::one_sided))
        .sum();
    println!(
        "- one-sided intervals, all shapes and methods: {one_sided} (target 0): {}",
        met(one_sided == 0)
    );
    let naive = index(Method::SeasonalNaive);
    let worse: Vec<String> = rows
        .iter()
        .filter(|(_, accs)| mape(accs, auto) > mape(accs, naive) * Decimal::new(11, 1))
        .map(|(n, accs)| {
            format!(
                "{n} ({} vs {})",
                pct(mape(accs, auto)),
                pct(mape(accs, naive))
            )
        })
        .collect();
    println!(
        "- shapes where auto's MAPE is over 1.1 × seasonal-naive's: {} (target none): {}",
        if worse.is_empty() {
            "none".to_string()
        } else {
            worse.join(", ")
        },
        met(worse.is_empty())
    );
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
