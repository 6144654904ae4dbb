//! The detector on hand-made daily series, the expected figures worked out by hand.

use rust_decimal_macros::dec;

use super::*;

/// Monday 2026-09-07.
fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 9, 7).unwrap()
}

/// `days` days of 100 on weekdays and 40 on weekends.
fn weekly(days: usize) -> Vec<Decimal> {
    (0..days)
        .map(|i| if i % 7 < 5 { dec!(100) } else { dec!(40) })
        .collect()
}

fn day(i: i64) -> NaiveDate {
    start() + Duration::days(i)
}

#[test]
fn a_spike_and_a_drop_against_the_same_weekday() {
    let mut s = weekly(35);
    s[28] = dec!(350); // Monday 2026-10-05
    s[29] = dec!(45); // Tuesday
    s[30] = dec!(130); // Wednesday: 1.3 x, not an anomaly
    let found = detect(&s, start(), day(28), day(34), start(), &Rules::default());
    // Monday: the previous four Mondays are all 100, so expected 100 and MAD 0; the scale is the
    // larger of 0.1 x 100 = 10 and 0.1 x the 28-day mean (4 x (5 x 100 + 2 x 40) / 28 = 82.86) = 8.29:
    // 10. Score (350 - 100) / 10 = 25, and 350 >= 2 x 100: a spike.
    // Tuesday: (45 - 100) / 10 = -5.5 <= -4, and 45 <= 0.5 x 100: a drop.
    // Wednesday: (130 - 100) / 10 = 3 < 4: nothing.
    assert_eq!(
        found,
        vec![
            Anomaly {
                day: day(28),
                cost: dec!(350),
                expected: dec!(100),
                score: Some(dec!(25)),
                kind: Kind::Spike
            },
            Anomaly {
                day: day(29),
                cost: dec!(45),
                expected: dec!(100),
                score: Some(dec!(-5.5)),
                kind: Kind::Drop
            },
        ]
    );
    assert_eq!(found[0].difference(), dec!(250));
}

#[test]
fn weekends_are_compared_with_weekends() {
    // A Saturday of 100 is 2.5 x the Saturdays before it (40): (100 - 40) / max(4, 8.29) = 7.24
    let mut s = weekly(35);
    s[33] = dec!(100);
    let found = detect(&s, start(), day(28), day(34), start(), &Rules::default());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].kind, Kind::Spike);
    assert_eq!(found[0].expected, dec!(40));
    // 28-day mean before 2026-10-10: days 5..=32 hold 4 weeks of 580: 2320 / 28 = 82.857…; x 0.1 = 8.2857…
    // (100 - 40) / 8.2857… = 7.24
    assert_eq!(found[0].score, Some(dec!(7.24)));
}

#[test]
fn a_noisy_history_widens_the_scale() {
    // Mondays 80, 120, 90, 110 before a Monday of 200: median 100, deviations 20 20 10 10, MAD 15,
    // scale 1.4826 x 15 = 22.239; score (200 - 100) / 22.239 = 4.50: a spike (200 >= 2 x 100).
    let mut s = weekly(35);
    for (i, v) in [
        (0, dec!(80)),
        (7, dec!(120)),
        (14, dec!(90)),
        (21, dec!(110)),
    ] {
        s[i] = v;
    }
    s[28] = dec!(200);
    let found = detect(&s, start(), day(28), day(28), start(), &Rules::default());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].score, Some(dec!(4.50)));
    // at 190 the ratio guard holds (190 < 200) although the score is 4.05
    s[28] = dec!(190);
    assert!(detect(&s, start(), day(28), day(28), start(), &Rules::default()).is_empty());
}

#[test]
fn new_spenders_and_too_little_history() {
    // A group with nothing for 30 days, then 5: new on day 30 (30 >= 7 days of data before it).
    let mut s = vec![Decimal::ZERO; 35];
    s[30] = dec!(5);
    let found = detect(&s, start(), day(0), day(34), start(), &Rules::default());
    assert_eq!(
        found,
        vec![Anomaly {
            day: day(30),
            cost: dec!(5),
            expected: Decimal::ZERO,
            score: None,
            kind: Kind::New
        }]
    );
    // Spend from the data's first days is not new: there is no history to be new against.
    let mut s = weekly(20);
    s[10] = dec!(1000); // only one earlier same weekday (day 3): no baseline, no verdict
    let found = detect(&s, start(), day(0), day(19), start(), &Rules::default());
    assert!(found.is_empty(), "{found:?}");
}
