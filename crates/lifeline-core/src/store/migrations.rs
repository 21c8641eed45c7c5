//! Numbered schema migrations, each applied in one transaction together with
//! `PRAGMA user_version`, so a crash mid-migration leaves the previous schema intact.

use rusqlite::Connection;

use super::{Result, StoreError};

/// The migrations in order; index + 1 is the schema version each one produces.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_initial.sql"),
    include_str!("../../migrations/0002_alert_decisions_and_claims.sql"),
    include_str!("../../migrations/0003_derived_query_index.sql"),
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
