//! Numbered schema migrations, each applied in one transaction together with
//! `PRAGMA user_version`, so a crash mid-migration leaves the previous schema intact.

use rusqlite::Connection;

use super::{Result, StoreError};

/// The migrations in order; index + 1 is the schema version each one produces.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_initial.sql"),
    include_str!("../../migrations/0002_alert_decisions_and_claims.sql"),
    include_str!("../../migrations/0003_derived_query_index.sql"),
    include_str!("../../migrations/0004_removals.sql"),
    include_str!("../../migrations/0005_messages.sql"),
    include_str!("../../migrations/0006_media.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(super) fn run(conn: &mut Connection) -> Result<()> {
    loop {
        // The version is read inside an IMMEDIATE transaction: two processes opening a new
        // database at once (the desk and a script) must not both apply the same migration.
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| StoreError::Migration {
                version: 0,
                source: e,
            })?;
        let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if current > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found: current,
                known: SCHEMA_VERSION,
            });
        }
        if current == SCHEMA_VERSION {
            // This connection may have applied the first migrations itself and another
            // process the last ones: its in-memory schema is then a version old, and
            // SQLite notices a stale schema only when a statement reads a table (preparing
            // an upsert against it fails: "ON CONFLICT clause does not match any PRIMARY
            // KEY or UNIQUE constraint"). Reading the schema table makes it compare the
            // schema cookie and reload.
            tx.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
            tx.commit()?;
            return Ok(());
        }
        let version = current + 1;
        tx.execute_batch(MIGRATIONS[current as usize])
            .map_err(|e| StoreError::Migration { version, source: e })?;
        // PRAGMA takes no parameters; the value is a number we computed.
        tx.execute_batch(&format!("PRAGMA user_version = {version}"))
            .map_err(|e| StoreError::Migration { version, source: e })?;
        tx.commit()
            .map_err(|e| StoreError::Migration { version, source: e })?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two processes opening a new store at once: one applies the first migrations, the
    /// other the last, and the first must then prepare against the final schema.
    #[test]
    fn a_connection_that_migrated_part_way_sees_the_schema_another_finished() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("store.sqlite");
        let mut first = Connection::open(&path).expect("open");
        first
            .execute_batch("PRAGMA journal_mode = WAL")
            .expect("wal");
        for (i, migration) in MIGRATIONS[..MIGRATIONS.len() - 1].iter().enumerate() {
            first.execute_batch(migration).expect("migration");
            first
                .execute_batch(&format!("PRAGMA user_version = {}", i + 1))
                .expect("version");
        }
        let mut second = Connection::open(&path).expect("open");
        run(&mut second).expect("the other process finishes");
        drop(second);

        run(&mut first).expect("already current");
        // The case-event key changed in migration 4.
        first
            .prepare(
                "INSERT INTO case_events (event_id, request_id, kind, detail, actor, at, origin) \
                 VALUES ('e', 'r', 'created', '{}', NULL, 0, 'sync') \
                 ON CONFLICT (request_id, event_id) DO NOTHING",
            )
            .expect("prepared against the final schema");
    }
}
