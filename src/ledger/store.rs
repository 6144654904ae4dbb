//! The one ledger interface the commands use, over its backends: an SQLite file (the default) or a
//! shared PostgreSQL database. Both keep the same contract: versioned schema migrations, imports in one
//! transaction each that take turns, records deduplicated on their id (keep-first, or keep-largest for
//! sources whose later lines grow), the rollup reports read, and the priced `daily_cost` table that
//! each import refreshes.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::daily::{Pricing, Repriced};
use super::pgsql::PgLedger;
use super::{LedgerStats, SqliteLedger};
use crate::error::Result;
use crate::input::{Accepted, RecordSink};
use crate::pg::PgTarget;
use crate::record::UsageRecord;
use crate::report::aggregate::Aggregator;

/// An open ledger.
pub struct Ledger {
    backend: Backend,
    /// Prices `daily_cost` on each import (`None`: the days are left as they were).
    pricing: Option<Pricing>,
}

enum Backend {
    Sqlite(SqliteLedger),
    Postgres(Box<PgLedger>),
}

/// Where a ledger is: a file, or a PostgreSQL database.
pub enum Location {
    File(PathBuf),
    Postgres(Box<PgTarget>),
}

/// Whether `--ledger` (or `$AISPEND_LEDGER`, or `ledger` in the config) names a PostgreSQL database.
pub fn is_url(raw: &std::path::Path) -> bool {
    raw.to_str().is_some_and(|s| {
        let s = s.trim_start();
        s.starts_with("postgres://") || s.starts_with("postgresql://")
    })
}

impl Location {
    /// A `postgres://` URL or a file path; `from` names where it came from in errors (never the URL
    /// itself: it may hold a password).
    pub fn parse(raw: PathBuf, from: &str) -> Result<Location> {
        match raw.to_str().filter(|_| is_url(&raw)) {
            Some(url) => Ok(Location::Postgres(Box::new(PgTarget::parse(url, from)?))),
            None => Ok(Location::File(raw)),
        }
    }

    /// As shown to the user: the path, or the URL without its password.
    pub fn display(&self) -> String {
        match self {
            Location::File(p) => p.display().to_string(),
            Location::Postgres(t) => t.display().to_string(),
        }
    }
}

/// Writes records inside an import's transaction.
///
/// A writer may hold records back and write them together (PostgreSQL writes a batch in one statement,
/// not one round trip per record): it answers `Added` for a record it holds back, and
/// [`LedgerWriter::settle`] writes what it holds and returns the answers that turned out otherwise.
pub struct LedgerWriter<'a>(&'a mut (dyn Writer + 'a));

/// A late answer: the record a writer took `seq`-th (from 0), answered `Added` when it was taken, was
/// in fact `now` (a duplicate, or a larger copy replacing one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revision {
    pub seq: u64,
    pub now: Accepted,
}

/// What a backend's writer does, in the import's transaction.
pub(super) trait Writer: RecordSink {
    /// Moves the incremental pull `name` to `value`.
    fn set_cursor(&mut self, name: &str, value: &str) -> Result<()>;
    /// Writes the records held back, and returns the answers given for them that turned out
    /// otherwise, in the order taken. A writer that answers each record as it comes has none.
    fn settle(&mut self) -> Result<Vec<Revision>> {
        Ok(Vec::new())
    }
}

impl Ledger {
    /// Opens (creating if needed) the SQLite ledger at `path`, waiting up to the default lock timeout.
    pub fn open(path: &std::path::Path) -> Result<Ledger> {
        Ok(Ledger::from(SqliteLedger::open(path)?))
    }

    /// Opens (creating if needed) the SQLite ledger at `path`, waiting up to `lock_timeout`.
    pub fn open_waiting(path: &std::path::Path, lock_timeout: Duration) -> Result<Ledger> {
        Ok(Ledger::from(SqliteLedger::open_waiting(
            path,
            lock_timeout,
        )?))
    }

    /// Opens an existing SQLite ledger; a missing file is a usage error that says how to create one.
    pub fn open_existing(path: &std::path::Path, lock_timeout: Duration) -> Result<Ledger> {
        Ok(Ledger::from(SqliteLedger::open_existing(
            path,
            lock_timeout,
        )?))
    }

    /// Opens (creating if needed) the ledger at `location`, waiting up to `lock_timeout` for another
    /// process's lock.
    pub fn open_at(location: Location, lock_timeout: Duration) -> Result<Ledger> {
        match location {
            Location::File(path) => Ledger::open_waiting(&path, lock_timeout),
            Location::Postgres(target) => {
                Ok(Ledger::from(PgLedger::open(*target, lock_timeout, false)?))
            }
        }
    }

    /// Opens an existing ledger at `location`: a missing one is a usage error that says how to create
    /// one.
    pub fn open_existing_at(location: Location, lock_timeout: Duration) -> Result<Ledger> {
        match location {
            Location::File(path) => Ledger::open_existing(&path, lock_timeout),
            Location::Postgres(target) => {
                Ok(Ledger::from(PgLedger::open(*target, lock_timeout, true)?))
            }
        }
    }

    /// Prices `daily_cost` with these tables and team rules on each import.
    pub fn with_pricing(mut self, pricing: Pricing) -> Ledger {
        self.pricing = Some(pricing);
        self
    }

    /// Where the ledger is, as shown to the user: a path, or a `postgres://` URL without its password.
    pub fn name(&self) -> String {
        match &self.backend {
            Backend::Sqlite(l) => l.path().display().to_string(),
            Backend::Postgres(l) => l.name().to_string(),
        }
    }

    /// Runs `f` with a writer inside one transaction: committed when `f` succeeds (and `commit` is
    /// true), rolled back otherwise. Another import waits for this one (up to the lock timeout).
    pub fn write<T>(
        &mut self,
        commit: bool,
        f: impl FnOnce(&mut LedgerWriter<'_>) -> Result<T>,
    ) -> Result<T> {
        let pricing = self.pricing.as_ref();
        match &mut self.backend {
            Backend::Sqlite(l) => l.write_priced(commit, pricing, |w| f(&mut LedgerWriter(w))),
            Backend::Postgres(l) => l.write(commit, pricing, |w| f(&mut LedgerWriter(w))),
        }
    }

    /// Rewrites all of `daily_cost` with `pricing` (`aispend ledger reprice`).
    pub fn reprice(&mut self, pricing: &Pricing) -> Result<Repriced> {
        match &mut self.backend {
            Backend::Sqlite(l) => l.reprice(pricing),
            Backend::Postgres(l) => l.reprice(pricing),
        }
    }

    /// Where the incremental pull `name` stands (`None` before its first pull).
    pub fn cursor(&self, name: &str) -> Result<Option<String>> {
        match &self.backend {
            Backend::Sqlite(l) => l.cursor(name),
            Backend::Postgres(l) => l.cursor(name),
        }
    }

    /// The newest record's start time.
    pub fn newest(&self) -> Result<Option<DateTime<Utc>>> {
        match &self.backend {
            Backend::Sqlite(l) => l.newest(),
            Backend::Postgres(l) => l.newest(),
        }
    }

    /// Calls `f` with every record whose start is in `[start, end)` (all records when `None`), oldest
    /// first.
    pub fn for_each(
        &self,
        range: Option<(DateTime<Utc>, DateTime<Utc>)>,
        f: &mut dyn FnMut(UsageRecord) -> Result<()>,
    ) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(l) => l.for_each(range, f),
            Backend::Postgres(l) => l.for_each(range, f),
        }
    }

    /// Feeds a report's aggregator the period it reads: from the rollup when it serves the query
    /// exactly (see [`Aggregator::rollup_serves`]), else from the records.
    pub fn feed(&self, agg: &mut Aggregator<'_>) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(l) => l.feed(agg),
            Backend::Postgres(l) => l.feed(agg),
        }
    }

    /// Feeds a report's aggregator the period's records, one by one.
    pub fn feed_records(&self, agg: &mut Aggregator<'_>) -> Result<()> {
        let range = agg.fixed_period().map(|p| (p.start, p.end));
        self.for_each(range, &mut |r| agg.accept(r).map(|_| ()))
    }

    pub fn stats(&self) -> Result<LedgerStats> {
        match &self.backend {
            Backend::Sqlite(l) => l.stats(),
            Backend::Postgres(l) => l.stats(),
        }
    }
}

impl From<SqliteLedger> for Ledger {
    fn from(l: SqliteLedger) -> Ledger {
        Ledger {
            backend: Backend::Sqlite(l),
            pricing: None,
        }
    }
}

impl From<PgLedger> for Ledger {
    fn from(l: PgLedger) -> Ledger {
        Ledger {
            backend: Backend::Postgres(Box::new(l)),
            pricing: None,
        }
    }
}

impl LedgerWriter<'_> {
    /// Moves the incremental pull `name` to `value`, in the import's transaction.
    pub fn set_cursor(&mut self, name: &str, value: &str) -> Result<()> {
        self.0.set_cursor(name, value)
    }

    /// Writes the records held back; the answers given for them that turned out otherwise, in the
    /// order taken (see [`Revision`]). Counts of what was added are final only after this.
    pub fn settle(&mut self) -> Result<Vec<Revision>> {
        self.0.settle()
    }
}

impl RecordSink for LedgerWriter<'_> {
    fn accept(&mut self, r: UsageRecord) -> Result<Accepted> {
        self.0.accept(r)
    }
}
