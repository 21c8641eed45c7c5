//! [`SoftClaims`] on PostgreSQL: one row per (request, desk), shared by every replica.
//! Claiming is one statement, so two replicas claiming for the same desk at once cannot both
//! win; every change tells the other replicas' streams through `NOTIFY`.

use chrono::{DateTime, Utc};
use lifeline_core::protocol::WireClaim;

use super::tx::Tx;
use super::{CLAIMS_CHANNEL, PostgresHubStore};
use crate::claims::{Claimed, new_claim};
use crate::store::accounts::{ms, time};
use crate::store::{HubError, SoftClaims};

impl SoftClaims for PostgresHubStore {
    fn claim(
        &self,
        request_id: &str,
        desk: &str,
        officer: &str,
        session: Option<&str>,
        ttl: Option<chrono::Duration>,
        now: DateTime<Utc>,
    ) -> Result<Claimed, HubError> {
        let claim = new_claim(request_id, desk, officer, ttl, now);
        self.with_claims(async |tx| {
            // Taken over only when the held one has expired or is this session's own.
            let won = tx
                .query_opt(
                    "INSERT INTO claims (request_id, desk, officer, session, expires_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (request_id, desk) DO UPDATE \
                       SET officer = excluded.officer, session = excluded.session, expires_at = excluded.expires_at \
                       WHERE claims.expires_at <= $6 OR claims.session IS NOT DISTINCT FROM excluded.session \
                     RETURNING 1",
                    &[&claim.request_id, &claim.desk, &claim.officer, &session, &ms(claim.expires_at), &ms(now)],
                )
                .await?
                .is_some();
            Ok(if won {
                Claimed::Yes(claim)
            } else {
                Claimed::HeldByAnotherSession
            })
        })
    }

    fn release(
        &self,
        request_id: &str,
        desk: &str,
        session: Option<&str>,
    ) -> Result<bool, HubError> {
        self.with_claims(async |tx| {
            Ok(tx
                .execute(
                    "DELETE FROM claims WHERE request_id = $1 AND desk = $2 AND session IS NOT DISTINCT FROM $3",
                    &[&request_id, &desk, &session],
                )
                .await?
                > 0)
        })
    }

    fn live_claims(&self, now: DateTime<Utc>) -> Result<Vec<WireClaim>, HubError> {
        self.with_read(async |tx| {
            let rows = tx
                .query(
                    "SELECT request_id, desk, officer, expires_at FROM claims WHERE expires_at > $1 ORDER BY request_id, desk",
                    &[&ms(now)],
                )
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(WireClaim {
                    request_id: r.try_get(0)?,
                    desk: r.try_get(1)?,
                    officer: r.try_get(2)?,
                    expires_at: time(r.try_get(3)?),
                });
            }
            Ok(out)
        })
    }
}

impl PostgresHubStore {
    /// A claim's change in a transaction of its own (no write lock: a claim takes no change
    /// number), told to every replica at commit; expired claims are swept on the way.
    fn with_claims<T>(
        &self,
        f: impl AsyncFnOnce(&Tx<'_>) -> Result<T, HubError>,
    ) -> Result<T, HubError> {
        self.with_plain_tx(async |tx| {
            let out = f(tx).await?;
            // Skipping rows another claim holds: two claims sweeping each other's expired
            // rows would otherwise wait on each other (a deadlock PostgreSQL breaks with an
            // error).
            tx.execute(
                "DELETE FROM claims WHERE ctid IN \
                 (SELECT ctid FROM claims WHERE expires_at < $1 FOR UPDATE SKIP LOCKED)",
                &[&(ms(Utc::now()) - 60_000)],
            )
            .await?;
            tx.execute(&format!("NOTIFY {CLAIMS_CHANNEL}"), &[]).await?;
            Ok(out)
        })
    }
}
