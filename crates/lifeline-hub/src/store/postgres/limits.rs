//! [`RateLimits`] on PostgreSQL: the token buckets in a table, so a credential's limit is
//! the same whichever replica it calls. A bucket's row is locked while its tokens are
//! taken, so two replicas never hand out the same token.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::Utc;

use super::PostgresHubStore;
use crate::limits::{Granted, refill};
use crate::store::{HubError, RateLimits};

/// Buckets untouched this long are full again and are dropped (milliseconds).
const IDLE_MS: i64 = 3_600_000;

/// When this process last dropped idle buckets (Unix milliseconds).
static SWEPT: AtomicI64 = AtomicI64::new(0);

impl RateLimits for PostgresHubStore {
    fn take_tokens(
        &self,
        key: &str,
        rate: f64,
        burst: f64,
        wanted: u32,
    ) -> Result<Granted, HubError> {
        let now = Utc::now().timestamp_millis();
        // Kept by its hash: a sign-in bucket's key holds the client's address.
        let key = crate::secrets::token_hash(key);
        let key = key.as_str();
        self.with_plain_tx(async |tx| {
            if now - SWEPT.load(Ordering::Relaxed) > IDLE_MS / 6 {
                SWEPT.store(now, Ordering::Relaxed);
                tx.execute(
                    "DELETE FROM rate_buckets WHERE at_ms < $1",
                    &[&(now - IDLE_MS)],
                )
                .await?;
            }
            tx.execute(
                "INSERT INTO rate_buckets (key, tokens, at_ms) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
                &[&key, &burst, &now],
            )
            .await?;
            let row = tx
                .query_one(
                    "SELECT tokens, at_ms FROM rate_buckets WHERE key = $1 FOR UPDATE",
                    &[&key],
                )
                .await?;
            let (tokens, at): (f64, i64) = (row.try_get(0)?, row.try_get(1)?);
            let elapsed = (now - at).max(0) as f64 / 1000.0;
            let (left, granted) = refill(tokens, elapsed, rate, burst, wanted);
            tx.execute(
                "UPDATE rate_buckets SET tokens = $2, at_ms = $3 WHERE key = $1",
                &[&key, &left, &now.max(at)],
            )
            .await?;
            Ok(granted)
        })
    }
}
