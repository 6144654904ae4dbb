//! Reporting periods and calendar buckets, in UTC or a `--timezone`.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::{Error, Result};

/// A half-open interval of time `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Period {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

/// Which period a command covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodSpec {
    /// The calendar month holding the newest record read (the default).
    NewestMonth,
    /// One calendar month: `--month 2026-10`.
    Month { year: i32, month: u32 },
    /// Inclusive dates: `--since 2026-10-01 --until 2026-10-15`.
    Dates { since: NaiveDate, until: NaiveDate },
    /// `--since` alone: from that day through the day of the newest record read (today for forecasts).
    Since { since: NaiveDate },
}

impl PeriodSpec {
    /// Builds the spec from the command-line flags, validating them.
    pub fn from_flags(
        month: Option<&str>,
        since: Option<&str>,
        until: Option<&str>,
    ) -> Result<PeriodSpec> {
        if let Some(m) = month {
            if since.is_some() || until.is_some() {
                return Err(Error::usage(
                    "--month cannot be combined with --since/--until",
                ));
            }
            let (year, month) = parse_month(m)?;
            return Ok(PeriodSpec::Month { year, month });
        }
        match (since, until) {
            (None, None) => Ok(PeriodSpec::NewestMonth),
            (Some(s), Some(u)) => {
                let (since, until) = (parse_date(s, "--since")?, parse_date(u, "--until")?);
                if until < since {
                    return Err(Error::usage(format!("--until {u} is before --since {s}")));
                }
                Ok(PeriodSpec::Dates { since, until })
            }
            (Some(s), None) => Ok(PeriodSpec::Since {
                since: parse_date(s, "--since")?,
            }),
            (None, Some(u)) => {
                let until = parse_date(u, "--until")?;
                Ok(PeriodSpec::Dates {
                    since: NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN),
                    until,
                })
            }
        }
    }

    /// The period, given the newest record's time (for `NewestMonth`; `None` when nothing was read).
    pub fn resolve(&self, tz: Tz, newest: Option<DateTime<Utc>>) -> Period {
        match *self {
            PeriodSpec::NewestMonth => {
                let t = newest.unwrap_or_else(Utc::now).with_timezone(&tz);
                month_period(tz, t.year(), t.month())
            }
            PeriodSpec::Month { year, month } => month_period(tz, year, month),
            PeriodSpec::Dates { since, until } => dates_period(tz, since, until),
            PeriodSpec::Since { since } => {
                let last = newest
                    .unwrap_or_else(Utc::now)
                    .with_timezone(&tz)
                    .date_naive();
                dates_period(tz, since, last.max(since))
            }
        }
    }

    /// The period of equal length just before `current` (the previous calendar month for months, the
    /// same number of days before for date ranges), for `--compare`.
    pub fn previous(&self, tz: Tz, current: Period) -> Period {
        match *self {
            PeriodSpec::NewestMonth | PeriodSpec::Month { .. } => {
                let local = current.start.with_timezone(&tz);
                let (y, m) = if local.month() == 1 {
                    (local.year() - 1, 12)
                } else {
                    (local.year(), local.month() - 1)
                };
                month_period(tz, y, m)
            }
            PeriodSpec::Dates { since, .. } | PeriodSpec::Since { since } => {
                let until = (current.end - Duration::seconds(1))
                    .with_timezone(&tz)
                    .date_naive();
                let days = (until - since).num_days() + 1;
                let start = since - Duration::days(days);
                Period {
                    start: day_start(tz, start),
                    end: day_start(tz, since),
                }
            }
        }
    }

    /// Whether the period is known before the data is read.
    pub fn is_fixed(&self) -> bool {
        matches!(self, PeriodSpec::Month { .. } | PeriodSpec::Dates { .. })
    }

    /// The records an open `--since` takes in, before the newest record is known: all from that day on.
    pub fn open_window(&self, tz: Tz) -> Option<Period> {
        match *self {
            PeriodSpec::Since { since } => Some(Period {
                start: day_start(tz, since),
                end: DateTime::<Utc>::MAX_UTC,
            }),
            _ => None,
        }
    }
}

/// Inclusive dates in `tz` as a half-open period.
fn dates_period(tz: Tz, since: NaiveDate, until: NaiveDate) -> Period {
    Period {
        start: day_start(tz, since),
        end: day_start(tz, until.succ_opt().unwrap_or(until)),
    }
}

/// The period for people, in the zone it was asked in: `2026-10-01 to 2026-10-31 (Europe/Berlin)`.
pub fn describe(p: &Period, tz: Tz) -> String {
    let last = p.end - Duration::seconds(1);
    format!(
        "{} to {} ({})",
        p.start.with_timezone(&tz).format("%Y-%m-%d"),
        last.with_timezone(&tz).format("%Y-%m-%d"),
        tz.name()
    )
}

/// A time in RFC 3339: `Z` in UTC, else with the zone's offset (`2026-10-01T00:00:00+02:00`).
pub fn rfc3339_in(t: DateTime<Utc>, tz: Tz) -> String {
    if tz == Tz::UTC {
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    } else {
        t.with_timezone(&tz)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    }
}

/// `YYYY-MM`, exactly: four-digit year, two-digit month.
pub fn parse_month(s: &str) -> Result<(i32, u32)> {
    let bad = || {
        Error::usage(format!(
            "invalid month '{s}': expected YYYY-MM, e.g. 2026-10"
        ))
    };
    let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(y, 4) || !digits(m, 2) {
        return Err(bad());
    }
    let (y, m): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(1..=12).contains(&m) || !(1970..=9999).contains(&y) {
        return Err(bad());
    }
    Ok((y, m))
}

/// `YYYY-MM-DD`.
pub fn parse_date(s: &str, flag: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        Error::usage(format!(
            "invalid date '{s}' for {flag}: expected YYYY-MM-DD, e.g. 2026-10-01"
        ))
    })
}

/// `--as-of DATE` (a command-line value parser).
pub fn parse_as_of(s: &str) -> Result<NaiveDate> {
    parse_date(s, "--as-of")
}

/// An IANA time zone name (`--timezone`; a command-line value parser).
pub fn parse_timezone(s: &str) -> Result<Tz> {
    s.parse::<Tz>().map_err(|_| {
        Error::usage(format!(
            "unknown time zone '{s}': use an IANA name such as UTC or Europe/Berlin"
        ))
    })
}

/// Midnight of `date` in `tz`, as UTC. On a DST gap the earliest valid instant is taken.
pub fn day_start(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc)
        }
        chrono::LocalResult::None => tz
            .from_local_datetime(&(naive + Duration::hours(1)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&naive)),
    }
}

pub fn month_period(tz: Tz, year: i32, month: u32) -> Period {
    let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .unwrap_or_default();
    Period {
        start: day_start(tz, first),
        end: day_start(tz, next),
    }
}

/// A month as one integer (`year × 12 + month − 1`), for bucketing.
pub fn month_index(tz: Tz, t: DateTime<Utc>) -> i32 {
    if tz == Tz::UTC {
        return t.year() * 12 + t.month0() as i32;
    }
    let local = t.with_timezone(&tz);
    local.year() * 12 + local.month0() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_dates() {
        let p = PeriodSpec::from_flags(Some("2026-10"), None, None)
            .unwrap()
            .resolve(Tz::UTC, None);
        assert_eq!(p.start.to_rfc3339(), "2026-10-01T00:00:00+00:00");
        assert_eq!(p.end.to_rfc3339(), "2026-11-01T00:00:00+00:00");
        let p = PeriodSpec::from_flags(None, Some("2026-10-01"), Some("2026-10-15"))
            .unwrap()
            .resolve(Tz::UTC, None);
        assert_eq!(p.end.to_rfc3339(), "2026-10-16T00:00:00+00:00");
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let p = PeriodSpec::from_flags(Some("2026-10"), None, None)
            .unwrap()
            .resolve(berlin, None);
        assert_eq!(p.start.to_rfc3339(), "2026-09-30T22:00:00+00:00");
        assert_eq!(p.end.to_rfc3339(), "2026-10-31T23:00:00+00:00");
        assert!(PeriodSpec::from_flags(Some("2026-13"), None, None).is_err());
        assert!(PeriodSpec::from_flags(Some("2026-1"), None, None).is_err());
        assert!(PeriodSpec::from_flags(Some("26-01"), None, None).is_err());
        assert_eq!(
            describe(&p, berlin),
            "2026-10-01 to 2026-10-31 (Europe/Berlin)"
        );
        assert_eq!(rfc3339_in(p.start, berlin), "2026-10-01T00:00:00+02:00");
        assert_eq!(rfc3339_in(p.end, berlin), "2026-11-01T00:00:00+01:00");
        // An open --since runs through the newest record's day.
        let open = PeriodSpec::from_flags(None, Some("2026-10-25"), None).unwrap();
        let newest = "2026-10-28T13:00:00Z".parse().ok();
        let p = open.resolve(Tz::UTC, newest);
        assert_eq!(p.end.to_rfc3339(), "2026-10-29T00:00:00+00:00");
        // … and compares with the four days before.
        let prev = open.previous(Tz::UTC, p);
        assert_eq!(prev.start.to_rfc3339(), "2026-10-21T00:00:00+00:00");
        // previous periods: the month before (across a year), or as many days before
        let jan = PeriodSpec::Month {
            year: 2026,
            month: 1,
        };
        let prev = jan.previous(Tz::UTC, jan.resolve(Tz::UTC, None));
        assert_eq!(prev.start.to_rfc3339(), "2025-12-01T00:00:00+00:00");
        assert_eq!(prev.end.to_rfc3339(), "2026-01-01T00:00:00+00:00");
        let week = PeriodSpec::from_flags(None, Some("2026-10-08"), Some("2026-10-14")).unwrap();
        let prev = week.previous(Tz::UTC, week.resolve(Tz::UTC, None));
        assert_eq!(prev.start.to_rfc3339(), "2026-10-01T00:00:00+00:00");
        assert_eq!(prev.end.to_rfc3339(), "2026-10-08T00:00:00+00:00");
        assert!(PeriodSpec::from_flags(None, Some("2026-10-32"), Some("2026-11-01")).is_err());
        assert!(PeriodSpec::from_flags(None, Some("2026-10-05"), Some("2026-10-01")).is_err());
    }
}
