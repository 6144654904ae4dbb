//! The `record_ids` slots an import claims (see `schema` version 9), held in memory and written in
//! slot order: when the import commits, or earlier once many are pending.
//!
//! A slot is a 64-bit hash, so inserting each record's slot as it comes is a random insert into a
//! B-tree (a seek from the root and, every few hundred rows, a page split). In slot order the same rows
//! go in as appends (into a new ledger) or in one pass over the pages (into an existing one). Records
//! see the same slots either way: a slot is taken when it is pending here or in the table.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Statement};

/// A fast hasher for the pending slots (keys are hashes of ids read from input files): a few
/// multiplications for an `i64`, seeded at random (xxh3's streaming hasher, used before, set up a state
/// of hundreds of bytes for every key).
type Fast = foldhash::fast::RandomState;

/// How many slots wait in memory before they are written (a map of at most ~36 MiB).
const MAX_PENDING: usize = 1 << 20;

/// The slots claimed and not yet written.
#[derive(Default)]
pub(super) struct Claims {
    /// Slot → the start (ms) of the record holding it.
    pending: HashMap<i64, i64, Fast>,
    /// `record_ids` holds no rows in this transaction: a slot not pending is free, with no lookup.
    table_empty: bool,
}

impl Claims {
    pub(super) fn new(conn: &Connection) -> rusqlite::Result<Claims> {
        let any: bool =
            conn.query_row("SELECT EXISTS (SELECT 1 FROM record_ids)", [], |r| r.get(0))?;
        Ok(Claims {
            pending: HashMap::default(),
            table_empty: !any,
        })
    }

    /// The start of the record holding `slot` (`None` when it is free); `lookup` reads the table's
    /// `start_ms` for a hash.
    pub(super) fn holder(
        &self,
        lookup: &mut Statement<'_>,
        slot: i64,
    ) -> rusqlite::Result<Option<i64>> {
        if let Some(&start) = self.pending.get(&slot) {
            return Ok(Some(start));
        }
        if self.table_empty {
            return Ok(None);
        }
        lookup.query_row([slot], |row| row.get(0)).optional()
    }

    /// Takes the free `slot` for a record starting at `start`.
    pub(super) fn claim(
        &mut self,
        conn: &Connection,
        slot: i64,
        start: i64,
    ) -> rusqlite::Result<()> {
        self.pending.insert(slot, start);
        if self.pending.len() >= MAX_PENDING {
            self.write(conn)?;
        }
        Ok(())
    }

    /// The record holding the taken `slot` now starts at `start`; `update` sets it in the table.
    pub(super) fn move_to(
        &mut self,
        update: &mut Statement<'_>,
        slot: i64,
        start: i64,
    ) -> rusqlite::Result<()> {
        match self.pending.get_mut(&slot) {
            Some(held) => *held = start,
            None => {
                update.execute([slot, start])?;
            }
        }
        Ok(())
    }

    /// Writes the pending slots to `record_ids`, in slot order.
    pub(super) fn write(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut rows: Vec<(i64, i64)> = self.pending.drain().collect();
        self.pending = HashMap::default();
        rows.sort_unstable();
        let mut insert =
            conn.prepare_cached("INSERT INTO record_ids (hash, start_ms) VALUES (?1, ?2)")?;
        for (slot, start) in rows {
            insert.raw_bind_parameter(1, slot)?;
            insert.raw_bind_parameter(2, start)?;
            insert.raw_execute()?;
        }
        self.table_empty = false;
        Ok(())
    }
}
