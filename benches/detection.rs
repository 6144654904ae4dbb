//! Detection benchmark: recall and false alarms of brownout windows (`aispend health`) and spend
//! anomalies (`aispend anomalies`) on deterministic synthetic data with planted incidents.
//!
//! Run by hand: `cargo bench --bench detection` (or `cargo bench --profile dev --bench detection`, which
//! reuses the debug build and takes about half a minute). Targets: recall ≥ 90% of planted brownouts and of spikes
//! of 3× or more, at most one false alarm per series-month.

use std::time::Instant;

use chrono::Duration;

use aispend::anomalies::synthetic::{self as spend, Shape, WARM_UP_DAYS};
use aispend::anomalies::{detect, Kind, Rules};
use aispend::health::synthetic::{self as logs, Incident};
use aispend::health::{brownouts, find_retries, WindowRules, RETRY_WINDOW_SECS};

const SERIES: u64 = 20;
const MONTHS: usize = 3;

fn pct(found: usize, planted: usize) -> String {
    if planted == 0 {
        return "–".into();
    }
    format!("{:.1}%", found as f64 * 100.0 / planted as f64)
}

/// One target line: recall (found of planted, at least 90%) and false alarms (at most one per
/// series-month).
fn targets(what: &str, found: usize, planted: usize, alarms: usize, months: usize) -> [String; 2] {
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    [
        format!(
            "{what} recall {} (target ≥ 90%): {}",
            pct(found, planted),
            verdict(found * 10 >= planted * 9)
        ),
        format!(
            "{what} false alarms {} per series-month (target ≤ 1): {}",
            per_month(alarms, months),
            verdict(alarms <= months)
        ),
    ]
}

fn per_month(alarms: usize, months: usize) -> String {
    format!("{:.2}", alarms as f64 / months as f64)
}

fn main() {
    let clock = Instant::now();
    let mut met = Vec::new();

    // Brownouts: SERIES series-months per mix of planted incidents.
    println!("Brownout windows ({SERIES} seeded series-months per row; 15m buckets, 2 in a row, threshold 4):\n");
    println!("| planted per month | series-months | planted | found | recall | false alarms | per series-month |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mixes: [(&str, Vec<Incident>); 3] = [
        (
            "2 error bursts",
            vec![Incident::ErrorBurst, Incident::ErrorBurst],
        ),
        (
            "2 latency shifts",
            vec![Incident::LatencyShift, Incident::LatencyShift],
        ),
        (
            "1 of each",
            vec![Incident::ErrorBurst, Incident::LatencyShift],
        ),
    ];
    let (mut all_planted, mut all_found, mut all_false, mut all_months) = (0, 0, 0, 0);
    for (name, mix) in &mixes {
        let (mut planted_n, mut found_n, mut false_n) = (0, 0, 0);
        for seed in 0..SERIES {
            let (requests, planted) =
                logs::requests(seed * 7 + mix.len() as u64 + name.len() as u64, mix);
            let retries = find_retries(&requests, Duration::seconds(RETRY_WINDOW_SECS));
            let windows = brownouts(
                &requests,
                &retries,
                1,
                logs::start(),
                WindowRules::default(),
            );
            planted_n += planted.len();
            found_n += planted
                .iter()
                .filter(|p| windows.iter().any(|w| w.start < p.end && p.start < w.end))
                .count();
            false_n += windows
                .iter()
                .filter(|w| !planted.iter().any(|p| w.start < p.end && p.start < w.end))
                .count();
        }
        println!(
            "| {name} | {SERIES} | {planted_n} | {found_n} | {} | {false_n} | {} |",
            pct(found_n, planted_n),
            per_month(false_n, SERIES as usize)
        );
        all_planted += planted_n;
        all_found += found_n;
        all_false += false_n;
        all_months += SERIES as usize;
    }
    println!(
        "| **all** | {all_months} | {all_planted} | {all_found} | {} | {all_false} | {} |\n",
        pct(all_found, all_planted),
        per_month(all_false, all_months)
    );
    met.extend(targets(
        "brownout",
        all_found,
        all_planted,
        all_false,
        all_months,
    ));

    // Spend anomalies.
    println!(
        "Spend anomalies ({SERIES} seeded series per shape and kind, {MONTHS} evaluated months each after \
         {WARM_UP_DAYS} days of history; weekday-aware median of 4 weeks, threshold 4):\n"
    );
    println!("| shape | series-months | spikes ≥3× found | drops found | new spenders found | false alarms | per series-month |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let rules = Rules::default();
    let (mut spikes, mut spikes_found, mut false_total, mut months_total) = (0, 0, 0, 0);
    for shape in Shape::ALL {
        let (mut s_n, mut s_f, mut d_n, mut d_f, mut n_n, mut n_f, mut fa, mut months) =
            (0, 0, 0, 0, 0, 0, 0, 0);
        for seed in 0..SERIES {
            let series = [
                spend::spend(shape, seed, MONTHS, false),
                spend::spend(shape, seed + 1000, MONTHS, true),
                spend::new_spender(shape, seed, MONTHS),
            ];
            for p in &series {
                let from = spend::start() + Duration::days(WARM_UP_DAYS as i64);
                let to = spend::start() + Duration::days(p.values.len() as i64 - 1);
                let found = detect(&p.values, spend::start(), from, to, spend::start(), &rules);
                months += MONTHS;
                for (day, kind) in &p.planted {
                    let hit = found.iter().any(|a| {
                        (a.day - spend::start()).num_days() as usize == *day && a.kind == *kind
                    });
                    match kind {
                        Kind::Spike => {
                            s_n += 1;
                            s_f += usize::from(hit);
                        }
                        Kind::Drop => {
                            d_n += 1;
                            d_f += usize::from(hit);
                        }
                        Kind::New => {
                            n_n += 1;
                            n_f += usize::from(hit);
                        }
                    }
                }
                fa += found
                    .iter()
                    .filter(|a| {
                        let d = (a.day - spend::start()).num_days() as usize;
                        !p.planted.iter().any(|(pd, _)| *pd == d)
                    })
                    .count();
            }
        }
        println!(
            "| {} | {months} | {s_f}/{s_n} ({}) | {d_f}/{d_n} ({}) | {n_f}/{n_n} ({}) | {fa} | {} |",
            shape.as_str(),
            pct(s_f, s_n),
            pct(d_f, d_n),
            pct(n_f, n_n),
            per_month(fa, months)
        );
        spikes += s_n;
        spikes_found += s_f;
        false_total += fa;
        months_total += months;
    }
    println!();
    met.extend(targets(
        "spike",
        spikes_found,
        spikes,
        false_total,
        months_total,
    ));
    for m in met {
        println!("- {m}");
    }
    let profile = if cfg!(debug_assertions) {
        "dev"
    } else {
        "bench"
    };
    println!(
        "- {} s (2-core 24 GiB dev box, {profile} profile)",
        clock.elapsed().as_secs()
    );
}
