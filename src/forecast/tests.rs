//! Projections on series whose answers can be worked out by hand.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::synthetic::{generate, Family};
use super::*;

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

fn october(history: &DailySeries, as_of: NaiveDate, choice: MethodChoice) -> Projection {
    project(history, as_of, day(10, 1), day(10, 31), choice).unwrap()
}

/// Spend by weekday, Monday first: no noise at all.
fn weekly(d: NaiveDate) -> Decimal {
    use chrono::Datelike;
    [
        dec!(30),
        dec!(42.5),
        dec!(41),
        dec!(44),
        dec!(35.25),
        dec!(9),
        dec!(7.5),
    ][d.weekday().num_days_from_monday() as usize]
}

fn series_of(start: NaiveDate, end: NaiveDate, f: impl Fn(NaiveDate) -> Decimal) -> DailySeries {
    let days = start.iter_days().take_while(|d| *d <= end);
    DailySeries::new(start, days.map(f).collect())
}

fn assert_sane(p: &Projection) {
    assert!(p.lower <= p.forecast && p.forecast <= p.upper, "{p:?}");
}

#[test]
fn a_constant_series_projects_constant_times_days_with_a_tight_interval() {
    let history = series_of(day(7, 1), day(10, 15), |_| dec!(12.5));
    for choice in [
        MethodChoice::Auto,
        MethodChoice::Fixed(Method::RunRate),
        MethodChoice::Fixed(Method::SeasonalNaive),
        MethodChoice::Fixed(Method::WeekdayMean),
        MethodChoice::Fixed(Method::HoltWinters),
        MethodChoice::Fixed(Method::Theta),
        MethodChoice::Fixed(Method::Arima),
        MethodChoice::Fixed(Method::Ensemble),
    ] {
        let p = october(&history, day(10, 15), choice);
        // 15 × 12.50 = 187.50 to date; 31 × 12.50 = 387.50 for the month
        assert_eq!(p.actual_to_date, dec!(187.5), "{choice}");
        assert_eq!(p.forecast, dec!(387.5), "{choice}");
        assert_eq!((p.lower, p.upper), (dec!(387.5), dec!(387.5)), "{choice}");
        assert_eq!(p.daily, vec![dec!(12.5); 16]);
        assert_eq!(p.backtest_mape, Some(Decimal::ZERO));
        assert!(p.interval_origins >= 10);
        assert_eq!(p.note, None);
    }
    // Every method is exact on a constant: auto keeps the simplest.
    assert_eq!(
        october(&history, day(10, 15), MethodChoice::Auto).method,
        Method::RunRate
    );
}

#[test]
fn a_noise_free_weekly_pattern_is_reproduced_exactly() {
    let history = series_of(day(7, 6), day(10, 12), weekly);
    let expected_daily: Vec<Decimal> = day(10, 13).iter_days().take(19).map(weekly).collect();
    let actual: Decimal = day(10, 1).iter_days().take(12).map(weekly).sum();
    let month: Decimal = day(10, 1).iter_days().take(31).map(weekly).sum();
    for method in [
        Method::SeasonalNaive,
        Method::WeekdayMean,
        Method::HoltWinters,
        Method::Theta,
        Method::Arima,
        Method::Ensemble,
    ] {
        let p = october(&history, day(10, 12), MethodChoice::Fixed(method));
        assert_eq!(p.method, method);
        assert_eq!(p.daily, expected_daily, "{method}");
        assert_eq!(p.actual_to_date, actual);
        assert_eq!(p.forecast, month, "{method}");
        assert_eq!((p.lower, p.upper), (month, month), "{method}");
    }
    let auto = october(&history, day(10, 12), MethodChoice::Auto);
    assert_eq!(auto.forecast, month);
    assert_eq!(auto.method, Method::SeasonalNaive); // exact, and the simplest of the exact ones
    assert_eq!(auto.candidates.len(), 7);
    let run_rate = auto
        .candidates
        .iter()
        .find(|s| s.method == Method::RunRate)
        .unwrap();
    assert!(run_rate.mape.unwrap() > Decimal::ZERO);
    // The run-rate is biased by the weekday mix of the days elapsed.
    assert_ne!(
        october(&history, day(10, 12), MethodChoice::Fixed(Method::RunRate)).forecast,
        month
    );
}

#[test]
fn run_rate_is_month_to_date_over_days_elapsed_times_days_in_month() {
    // October 1..10 cost $1..$10: 55 to date, 55 ÷ 10 = 5.50 a day, × 31 days = 170.50.
    let history = DailySeries::new(day(10, 1), (1..=10).map(Decimal::from).collect());
    let p = october(&history, day(10, 10), MethodChoice::Fixed(Method::RunRate));
    assert_eq!(p.method, Method::RunRate);
    assert_eq!(p.actual_to_date, dec!(55));
    assert_eq!(p.forecast, dec!(170.5));
    assert_eq!(p.daily, vec![dec!(5.5); 21]);
    // Ten days cannot be backtested 21 days ahead: the fallback interval. Daily variability: the sd
    // of 1..10 is 3.0277, × z₈₀ 1.2816 × √21 = 17.78, under the floor of 25% of the remaining
    // days' 115.50 = 28.875, which is 16.9% of the month's 170.50.
    assert_eq!(p.interval_origins, 0);
    assert_eq!(
        p.note.as_deref(),
        Some(
            "interval widened: too few backtests (0 of the 10 needed), so ±28.88 (±16.9% of the \
             period total): daily variability × √21 days left, at least ±25% of those days' forecast"
        )
    );
    assert_eq!((p.lower, p.upper), (dec!(141.625), dec!(199.375)));
    assert!(p.lower >= p.actual_to_date);
    // History before the period does not change the run-rate: only October counts.
    let longer = series_of(day(9, 1), day(10, 10), |d| {
        if d < day(10, 1) {
            dec!(1000)
        } else {
            Decimal::from(d.signed_duration_since(day(9, 30)).num_days())
        }
    });
    let q = october(&longer, day(10, 10), MethodChoice::Fixed(Method::RunRate));
    assert_eq!((q.actual_to_date, q.forecast), (dec!(55), dec!(170.5)));
}

#[test]
fn on_the_last_day_the_forecast_is_the_actual() {
    let history = generate(Family::Spiky, 3, 304); // 2026-01-01 ..= 2026-10-31
    let actual: Decimal = history.values[273..].iter().copied().sum();
    for as_of in [day(10, 31), day(11, 20)] {
        for choice in [MethodChoice::Auto, MethodChoice::Fixed(Method::HoltWinters)] {
            let p = october(&history, as_of, choice);
            assert_eq!(
                (p.actual_to_date, p.forecast, p.lower, p.upper),
                (actual, actual, actual, actual)
            );
            assert!(p.daily.is_empty());
            assert!(p.note.unwrap().contains("over"));
        }
    }
}

#[test]
fn empty_and_zero_series_forecast_zero() {
    let empty = DailySeries::new(day(10, 1), Vec::new());
    let p = october(&empty, day(10, 10), MethodChoice::Auto);
    assert_eq!(
        (p.forecast, p.lower, p.upper),
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO)
    );
    assert_eq!(p.daily.len(), 21);
    assert!(p.note.unwrap().contains("no history"));
    // as_of before the history starts: nothing known either.
    let later = DailySeries::new(day(10, 20), vec![Decimal::TEN; 5]);
    let p = october(&later, day(10, 10), MethodChoice::Auto);
    assert_eq!(p.forecast, Decimal::ZERO);

    let zeros = series_of(day(6, 1), day(10, 10), |_| Decimal::ZERO);
    for choice in [MethodChoice::Auto, MethodChoice::Fixed(Method::HoltWinters)] {
        let p = october(&zeros, day(10, 10), choice);
        assert_eq!(
            (p.forecast, p.lower, p.upper),
            (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO)
        );
    }
}

#[test]
fn short_histories_fall_back_and_say_so() {
    // 1 day: run-rate.
    let one = DailySeries::new(day(10, 1), vec![dec!(20)]);
    let p = october(&one, day(10, 1), MethodChoice::Auto);
    assert_eq!(p.method, Method::RunRate);
    assert_eq!(p.forecast, dec!(620)); // 31 × 20
    assert!(p.note.as_deref().unwrap().contains("only 1 day of history"));
    assert_sane(&p);
    assert!(p.upper > p.forecast && p.lower < p.forecast);
    // 10 days: weekday-mean by rule.
    let ten = series_of(day(10, 1), day(10, 10), weekly);
    let p = october(&ten, day(10, 10), MethodChoice::Auto);
    assert_eq!(p.method, Method::WeekdayMean);
    assert!(
        p.note.as_deref().unwrap().contains("by rule"),
        "{:?}",
        p.note
    );
    // 20 days: no holt-winters; a fixed holt-winters falls back.
    let twenty = series_of(day(9, 21), day(10, 10), weekly);
    let p = october(&twenty, day(10, 10), MethodChoice::Auto);
    assert_eq!(p.method, Method::WeekdayMean);
    assert_eq!(
        p.note.as_deref().unwrap().split("; ").next(),
        Some("20 days of history: too few to backtest a 21-day forecast, so weekday-mean by rule")
    );
    // Near the month's end 20 days can be backtested 4 days ahead, but not holt-winters.
    let late = series_of(day(10, 8), day(10, 27), weekly);
    let p = october(&late, day(10, 27), MethodChoice::Auto);
    // Theta (14 days) is tried; arima (21), holt-winters and the ensemble (28) are not.
    assert_eq!(p.candidates.len(), 4);
    assert_eq!(p.method, Method::SeasonalNaive);
    assert_eq!(
        p.note.as_deref().unwrap().split("; ").next(),
        Some("not tried with 20 days of history: arima (needs 21), holt-winters (needs 28), ensemble (needs 28)")
    );
    let p = october(
        &twenty,
        day(10, 10),
        MethodChoice::Fixed(Method::HoltWinters),
    );
    assert_eq!(p.method, Method::WeekdayMean);
    assert!(p
        .note
        .as_deref()
        .unwrap()
        .contains("holt-winters needs 28 days of history (have 20)"));
    // 5 days: seasonal-naive cannot run either.
    let five = series_of(day(10, 6), day(10, 10), weekly);
    let p = october(
        &five,
        day(10, 10),
        MethodChoice::Fixed(Method::SeasonalNaive),
    );
    assert_eq!(p.method, Method::RunRate);
}

#[test]
fn refunds_huge_and_tiny_amounts_never_panic() {
    // Refunds: negative days are allowed; the lower bound may then drop below the actual.
    let refunds = series_of(day(6, 1), day(10, 14), |d| {
        use chrono::Datelike;
        if d.day() % 9 == 0 {
            dec!(-80)
        } else {
            weekly(d)
        }
    });
    for choice in [MethodChoice::Auto, MethodChoice::Fixed(Method::HoltWinters)] {
        assert_sane(&october(&refunds, day(10, 14), choice));
    }
    // Huge but representable: $10^25 a day.
    let huge = series_of(day(8, 1), day(10, 14), |d| {
        weekly(d) * dec!(10000000000000000000000)
    });
    let p = october(&huge, day(10, 14), MethodChoice::Auto);
    assert_sane(&p);
    assert_eq!(
        p.forecast,
        day(10, 1).iter_days().take(31).map(weekly).sum::<Decimal>()
            * dec!(10000000000000000000000)
    );
    // Absurd: a month of these overflows a decimal, which is an error, not a panic.
    let absurd = series_of(day(8, 1), day(10, 14), |_| {
        dec!(5000000000000000000000000000)
    });
    assert_eq!(
        project(
            &absurd,
            day(10, 14),
            day(10, 1),
            day(10, 31),
            MethodChoice::Auto
        ),
        Err(ForecastError::Overflow)
    );
    let mut extreme = series_of(day(8, 1), day(10, 14), weekly);
    extreme.values[40] = Decimal::MAX;
    extreme.values[41] = Decimal::MIN;
    let _ = project(
        &extreme,
        day(10, 14),
        day(10, 1),
        day(10, 31),
        MethodChoice::Auto,
    );
    // Tiny: a millionth of a dollar a day.
    let tiny = series_of(day(8, 1), day(10, 14), |d| weekly(d) / dec!(1000000));
    let p = october(&tiny, day(10, 14), MethodChoice::Auto);
    assert_sane(&p);
    assert_eq!(
        p.forecast,
        day(10, 1).iter_days().take(31).map(weekly).sum::<Decimal>() / dec!(1000000)
    );
}

#[test]
fn bad_periods_are_clear_errors() {
    let history = series_of(day(9, 1), day(10, 10), weekly);
    let e = project(
        &history,
        day(10, 10),
        day(10, 31),
        day(10, 1),
        MethodChoice::Auto,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the period ends (2026-10-01) before it starts (2026-10-31)"
    );
    let far = NaiveDate::from_ymd_opt(2100, 1, 1).unwrap();
    let e = project(&history, day(10, 10), day(10, 1), far, MethodChoice::Auto).unwrap_err();
    assert!(matches!(e, ForecastError::HorizonTooLong { .. }));
    let max = project(
        &history,
        day(10, 10),
        day(10, 1),
        NaiveDate::MAX,
        MethodChoice::Auto,
    );
    assert!(max.is_err());
    assert!(project(
        &history,
        NaiveDate::MIN,
        NaiveDate::MIN,
        day(1, 1),
        MethodChoice::Auto
    )
    .is_err());
}

#[test]
fn next_month_and_ragged_histories() {
    // Forecasting all of November on October 20 (a 10-day gap is forecast but not counted).
    let history = series_of(day(7, 1), day(10, 20), |_| dec!(3));
    let p = project(
        &history,
        day(10, 20),
        day(11, 1),
        day(11, 30),
        MethodChoice::Auto,
    )
    .unwrap();
    assert_eq!(
        (p.actual_to_date, p.forecast, p.daily.len()),
        (Decimal::ZERO, dec!(90), 30)
    );
    // Days after `as_of` are never looked at.
    let more = series_of(day(7, 1), day(12, 31), |d| {
        if d <= day(10, 20) {
            dec!(3)
        } else {
            dec!(99)
        }
    });
    assert_eq!(
        project(
            &more,
            day(10, 20),
            day(11, 1),
            day(11, 30),
            MethodChoice::Auto
        )
        .unwrap(),
        p
    );
    // A history that stops before `as_of`: the missing days are zero spend.
    let stops = DailySeries::new(day(10, 1), vec![Decimal::TEN; 5]);
    let p = october(&stops, day(10, 10), MethodChoice::Fixed(Method::RunRate));
    assert_eq!((p.actual_to_date, p.forecast), (dec!(50), dec!(155))); // 50 ÷ 10 × 31
}

#[test]
fn intervals_are_ordered_and_respect_non_negative_history() {
    for family in Family::ALL {
        let series = generate(family, 11, 250);
        for offset in [3, 20, 45, 100, 200, 249] {
            let as_of = series.start + chrono::Duration::days(offset);
            let (start, end) = (
                as_of - chrono::Duration::days(9),
                as_of + chrono::Duration::days(20),
            );
            for choice in [MethodChoice::Auto, MethodChoice::Fixed(Method::HoltWinters)] {
                let p = project(&series, as_of, start, end, choice).unwrap();
                assert_sane(&p);
                assert!(p.lower >= p.actual_to_date, "{family} {offset} {p:?}");
                assert!(p.daily.iter().all(|d| *d >= Decimal::ZERO));
            }
        }
    }
}

#[test]
fn month_end_accuracy_meets_its_targets_on_weekly_seasonal_spend() {
    let choices = [MethodChoice::Fixed(Method::RunRate), MethodChoice::Auto];
    let mut pooled = vec![backtest::Accuracy::default(); 2];
    for seed in 1..=2 {
        let series = generate(Family::WeeklySeasonal, seed, 243);
        let acc = backtest::month_end_accuracy_many(&series, &choices, &[10, 20], 59).unwrap();
        for (p, a) in pooled.iter_mut().zip(acc) {
            p.extend(a);
        }
    }
    assert_eq!(pooled[1].cases.len(), 24);
    eprintln!(
        "PROBE rr {:?} auto {:?} cov {:?}",
        pooled[0].mape(),
        pooled[1].mape(),
        pooled[1].coverage()
    );
    let (run_rate, auto) = (pooled[0].mape().unwrap(), pooled[1].mape().unwrap());
    // auto's MAPE at least 30% under run-rate's
    assert!(
        auto <= run_rate * dec!(0.7),
        "auto {auto}% vs run-rate {run_rate}%"
    );
    // the 80% interval holds the month total in 70-90% of the cases: neither too narrow nor padded
    let coverage = pooled[1].coverage().unwrap();
    assert!(
        (dec!(70)..=dec!(90)).contains(&coverage),
        "auto's 80% interval covered {coverage}%"
    );
}

#[test]
fn methods_parse_from_the_command_line() {
    assert_eq!("auto".parse::<MethodChoice>(), Ok(MethodChoice::Auto));
    assert_eq!(
        "Holt-Winters".parse::<MethodChoice>(),
        Ok(MethodChoice::Fixed(Method::HoltWinters))
    );
    assert_eq!("hw".parse::<Method>(), Ok(Method::HoltWinters));
    assert_eq!("weekday_mean".parse::<Method>(), Ok(Method::WeekdayMean));
    for name in MethodChoice::NAMES {
        assert_eq!(name.parse::<MethodChoice>().unwrap().to_string(), name);
    }
    assert_eq!("ARIMA".parse::<Method>(), Ok(Method::Arima));
    assert_eq!("theta".parse::<Method>(), Ok(Method::Theta));
    let e = "prophet".parse::<MethodChoice>().unwrap_err();
    assert_eq!(
        e,
        "unknown forecast method 'prophet': expected one of auto, run-rate, seasonal-naive, weekday-mean, holt-winters, theta, arima, ensemble"
    );
    assert_eq!(MethodChoice::default(), MethodChoice::Auto);
}

#[test]
fn series_from_sparse_points() {
    let s = DailySeries::from_points(
        day(10, 1),
        day(10, 4),
        [
            (day(10, 2), dec!(1.5)),
            (day(10, 2), dec!(2)),
            (day(10, 4), dec!(1)),
            (day(11, 1), dec!(9)),
        ],
    )
    .unwrap();
    assert_eq!(s.values, vec![dec!(0), dec!(3.5), dec!(0), dec!(1)]);
    assert_eq!(s.end(), Some(day(10, 4)));
    assert_eq!(s.get(day(10, 2)), Some(dec!(3.5)));
    assert_eq!(s.get(day(9, 30)), None);
    assert!(DailySeries::from_points(day(10, 4), day(10, 1), [])
        .unwrap()
        .values
        .is_empty());
    assert!(DailySeries::from_points(NaiveDate::MIN, NaiveDate::MAX, []).is_err());
}

#[test]
fn a_biased_method_still_gets_a_two_sided_interval() {
    // Spend growing by $1 a day: seasonal-naive repeats last week, so every backtest under-forecasts
    // (all errors positive). The empirical 10th–90th percentiles then both lie above the forecast;
    // the interval still reaches below it, by at least a quarter of its reach above.
    let history = series_of(day(6, 1), day(10, 12), |d| {
        Decimal::from(d.signed_duration_since(day(5, 31)).num_days())
    });
    let p = october(
        &history,
        day(10, 12),
        MethodChoice::Fixed(Method::SeasonalNaive),
    );
    assert!(p.lower < p.forecast && p.forecast < p.upper, "{p:?}");
    let (below, above) = (p.forecast - p.lower, p.upper - p.forecast);
    // Each bound is rounded to 8 places on its own: up to 1e-8 of the quarter can be lost.
    assert!(below * dec!(4) + dec!(0.00000004) >= above, "{p:?}");
    // Arima's weekly drift follows the line exactly: no error, no width.
    let q = october(&history, day(10, 12), MethodChoice::Fixed(Method::Arima));
    // Oct 1 is day 123 of the line: Σ 123..=153 = 31 × 138 = 4278
    assert_eq!(
        (q.lower, q.forecast, q.upper),
        (dec!(4278), dec!(4278), dec!(4278))
    );
}

#[test]
fn theta_and_arima_beat_the_run_rate_with_two_sided_intervals() {
    // A subset of `cargo bench --bench forecast_accuracy` (see the README for the full table): one
    // weekly-seasonal and one trending series, March to June, projected on days 5, 15 and 25.
    let choices = [
        MethodChoice::Fixed(Method::RunRate),
        MethodChoice::Fixed(Method::Theta),
        MethodChoice::Fixed(Method::Arima),
        MethodChoice::Auto,
    ];
    for (family, bound) in [
        (Family::WeeklySeasonal, dec!(2)),
        (Family::Trending, dec!(3)),
    ] {
        let series = generate(family, 2, 181);
        let acc = backtest::month_end_accuracy_many(&series, &choices, &[5, 15, 25], 59).unwrap();
        let mape: Vec<Decimal> = acc.iter().map(|a| a.mape().unwrap()).collect();
        for (choice, (a, m)) in choices.iter().zip(acc.iter().zip(&mape)).skip(1) {
            assert!(*m < bound, "{family} {choice}: {m}%");
            assert!(
                *m < mape[0] / dec!(2),
                "{family} {choice}: {m}% vs run-rate {}%",
                mape[0]
            );
            assert!(a.max_ape().unwrap() < bound * dec!(3), "{family} {choice}");
            for c in &a.cases {
                assert!(
                    c.lower < c.forecast && c.forecast < c.upper,
                    "{family} {choice} {c:?}"
                );
            }
            assert!(a.coverage().unwrap() >= dec!(50), "{family} {choice}");
        }
    }
}
