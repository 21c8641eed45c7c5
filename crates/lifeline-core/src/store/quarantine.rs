//! Records rejected at the edge (bad feed entries, invalid sync records), kept with the
//! reason so an officer can see what was refused and why.

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};

use super::{Result, Store, from_ms, ms};

/// Raw payloads are kept up to this size; larger ones are truncated (and say so).
pub const MAX_RAW_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct QuarantinedRecord {
    pub id: i64,
    pub source: String,
    pub record_ref: Option<String>,
    pub reason: String,
    pub raw: Vec<u8>,
    pub at: DateTime<Utc>,
}

/// One rejected record, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub record_ref: Option<String>,
    pub reason: String,
    pub raw: Vec<u8>,
}

pub(crate) fn insert_in(
    tx: &Transaction<'_>,
    source: &str,
    r: &Rejection,
    now: DateTime<Utc>,
) -> Result<()> {
    let raw: &[u8] = if r.raw.len() > MAX_RAW_BYTES {
        &r.raw[..MAX_RAW_BYTES]
    } else {
        &r.raw
    };
    let reason = if r.raw.len() > MAX_RAW_BYTES {
        format!(
            "{} (payload of {} bytes truncated to {MAX_RAW_BYTES})",
            r.reason,
            r.raw.len()
        )
    } else {
        r.reason.clone()
    };
    tx.prepare_cached(
        "INSERT INTO quarantine (source, record_ref, reason, raw, at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![source, r.record_ref, reason, raw, ms(now)])?;
    Ok(())
}

impl Store {
    pub fn quarantine(
        &self,
        source: &str,
        rejections: &[Rejection],
        now: DateTime<Utc>,
    ) -> Result<()> {
        if rejections.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            rejections
                .iter()
                .try_for_each(|r| insert_in(tx, source, r, now))
        })
    }

    pub fn quarantined(&self, limit: u32) -> Result<Vec<QuarantinedRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, source, record_ref, reason, raw, at FROM quarantine ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map([limit], |r| {
                Ok(QuarantinedRecord {
                    id: r.get(0)?,
                    source: r.get(1)?,
                    record_ref: r.get(2)?,
                    reason: r.get(3)?,
                    raw: r.get(4)?,
                    at: from_ms(r.get(5)?),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    pub fn quarantine_count(&self) -> Result<u64> {
        self.read(|c| Ok(c.query_row("SELECT count(*) FROM quarantine", [], |r| r.get(0))?))
    }
}
