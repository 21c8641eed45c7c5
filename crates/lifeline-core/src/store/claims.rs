//! Who else is working on a request: the hub's live soft claims, replaced wholesale each
//! time the hub sends them.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Result, Store, from_ms, ms};

#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub request_id: String,
    pub desk: String,
    pub officer: String,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    pub fn replace_claims(&self, claims: &[Claim]) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM claims", [])?;
            for c in claims {
                tx.prepare_cached(
                    "INSERT INTO claims (request_id, desk, officer, expires_at) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT DO UPDATE SET officer = excluded.officer, expires_at = excluded.expires_at",
                )?
                .execute(params![c.request_id, c.desk, c.officer, ms(c.expires_at)])?;
            }
            Ok(())
        })
    }

    /// Live claims on a request at `now`.
    pub fn claims_on(&self, request_id: &str, now: DateTime<Utc>) -> Result<Vec<Claim>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT request_id, desk, officer, expires_at FROM claims WHERE request_id = ?1 AND expires_at > ?2 ORDER BY desk",
            )?;
            let rows = stmt.query_map(params![request_id, ms(now)], |r| {
                Ok(Claim { request_id: r.get(0)?, desk: r.get(1)?, officer: r.get(2)?, expires_at: from_ms(r.get(3)?) })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Every live claim (the queue marks claimed requests).
    pub fn live_claims(&self, now: DateTime<Utc>) -> Result<Vec<Claim>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT request_id, desk, officer, expires_at FROM claims WHERE expires_at > ?1 ORDER BY request_id")?;
            let rows = stmt.query_map([ms(now)], |r| {
                Ok(Claim { request_id: r.get(0)?, desk: r.get(1)?, officer: r.get(2)?, expires_at: from_ms(r.get(3)?) })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}
