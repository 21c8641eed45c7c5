//! Soft claims ("Wang at desk 2 is working on this"). Kept in memory: they are advisory,
//! expire within minutes, and desks renew them while a request is open on screen, so a hub
//! restart loses nothing that matters.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use lifeline_core::protocol::WireClaim;

/// The longest a claim lives without renewal.
pub const MAX_TTL: Duration = Duration::minutes(5);
pub const DEFAULT_TTL: Duration = Duration::minutes(2);

#[derive(Debug, Default)]
pub struct Claims {
    live: Mutex<HashMap<(String, String), WireClaim>>,
}

impl Claims {
    /// Claims (or renews) `request_id` for `desk`; returns the claim.
    pub fn claim(
        &self,
        request_id: &str,
        desk: &str,
        officer: &str,
        ttl: Option<Duration>,
        now: DateTime<Utc>,
    ) -> WireClaim {
        let ttl = ttl
            .unwrap_or(DEFAULT_TTL)
            .clamp(Duration::seconds(5), MAX_TTL);
        let claim = WireClaim {
            request_id: request_id.into(),
            desk: desk.into(),
            officer: officer.into(),
            expires_at: now + ttl,
        };
        if let Ok(mut live) = self.live.lock() {
            live.insert((request_id.into(), desk.into()), claim.clone());
        }
        claim
    }

    pub fn release(&self, request_id: &str, desk: &str) -> bool {
        self.live.lock().is_ok_and(|mut live| {
            live.remove(&(request_id.to_owned(), desk.to_owned()))
                .is_some()
        })
    }

    /// Live claims at `now`, expired ones dropped.
    pub fn live(&self, now: DateTime<Utc>) -> Vec<WireClaim> {
        let Ok(mut live) = self.live.lock() else {
            return Vec::new();
        };
        live.retain(|_, c| c.expires_at > now);
        let mut out: Vec<WireClaim> = live.values().cloned().collect();
        out.sort_by(|a, b| (&a.request_id, &a.desk).cmp(&(&b.request_id, &b.desk)));
        out
    }
}
