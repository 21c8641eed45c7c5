//! Soft claims ("Wang at desk 2 is working on this"). They are advisory, expire within
//! minutes, and desks renew them while a request is open on screen. A claim belongs to the
//! session that made it: only that session renews or releases it.
//!
//! A hub on one SQLite file keeps them here, in memory (a restart loses nothing that
//! matters); replicas on PostgreSQL keep them in the database, so every replica sees the
//! same claims ([`crate::store::SoftClaims`]).

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use lifeline_core::protocol::WireClaim;

/// The longest a claim lives without renewal.
pub const MAX_TTL: Duration = Duration::minutes(5);
pub const DEFAULT_TTL: Duration = Duration::minutes(2);

/// A live claim and the session that owns it.
type OwnedClaim = (WireClaim, Option<String>);

#[derive(Debug, Default)]
pub struct Claims {
    /// By (request, desk): the claim and the session that owns it (`None`: a development
    /// token's claim).
    live: Mutex<HashMap<(String, String), OwnedClaim>>,
}

/// The outcome of claiming.
#[derive(Debug, Clone, PartialEq)]
pub enum Claimed {
    Yes(WireClaim),
    /// Another session holds the claim for this desk name.
    HeldByAnotherSession,
}

/// A claim as made at `now`: the time it lives is the one asked for, kept between five
/// seconds and [`MAX_TTL`].
pub fn new_claim(
    request_id: &str,
    desk: &str,
    officer: &str,
    ttl: Option<Duration>,
    now: DateTime<Utc>,
) -> WireClaim {
    let ttl = ttl
        .unwrap_or(DEFAULT_TTL)
        .clamp(Duration::seconds(5), MAX_TTL);
    WireClaim {
        request_id: request_id.into(),
        desk: desk.into(),
        officer: officer.into(),
        expires_at: now + ttl,
    }
}

impl Claims {
    /// Claims (or renews) `request_id` for `desk`, owned by `session`.
    pub fn claim(
        &self,
        request_id: &str,
        desk: &str,
        officer: &str,
        session: Option<&str>,
        ttl: Option<Duration>,
        now: DateTime<Utc>,
    ) -> Claimed {
        let claim = new_claim(request_id, desk, officer, ttl, now);
        if let Ok(mut live) = self.live.lock() {
            let key = (request_id.to_owned(), desk.to_owned());
            if let Some((held, owner)) = live.get(&key)
                && held.expires_at > now
                && owner.as_deref() != session
            {
                return Claimed::HeldByAnotherSession;
            }
            live.insert(key, (claim.clone(), session.map(str::to_owned)));
        }
        Claimed::Yes(claim)
    }

    /// Releases the claim on `request_id` for `desk`, when `session` owns it.
    pub fn release(&self, request_id: &str, desk: &str, session: Option<&str>) -> bool {
        self.live.lock().is_ok_and(|mut live| {
            let key = (request_id.to_owned(), desk.to_owned());
            if live
                .get(&key)
                .is_some_and(|(_, owner)| owner.as_deref() == session)
            {
                live.remove(&key);
                true
            } else {
                false
            }
        })
    }

    /// Live claims at `now`, expired ones dropped.
    pub fn live(&self, now: DateTime<Utc>) -> Vec<WireClaim> {
        let Ok(mut live) = self.live.lock() else {
            return Vec::new();
        };
        live.retain(|_, (c, _)| c.expires_at > now);
        let mut out: Vec<WireClaim> = live.values().map(|(c, _)| c.clone()).collect();
        out.sort_by(|a, b| (&a.request_id, &a.desk).cmp(&(&b.request_id, &b.desk)));
        out
    }
}
