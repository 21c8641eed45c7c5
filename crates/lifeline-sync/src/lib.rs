//! The desk's sync engine: keeps the local store in step with the hub and advisory feeds.
//!
//! * **Pull**: pages of changes after the stored cursor, each page applied in one store
//!   transaction together with its cursor, so a crash neither skips nor repeats a change.
//! * **Follow**: then the hub's Server-Sent Events, resumed with `Last-Event-ID`; a
//!   connection silent for three heartbeats is dropped and reopened. When the stream cannot
//!   be had, the engine polls pages instead and retries the stream now and then.
//! * **Outbox**: local triage edits are sent in order with their idempotency keys and the
//!   version the officer saw; answers become confirmed, conflicted or rejected in the store.
//! * **Feeds**: advisory indexes and hazard feeds by conditional GET; linked CAP documents
//!   are fetched once.
//! * Errors are sorted into transient (capped exponential backoff with full jitter, honouring
//!   `Retry-After`) and permanent; bad records are quarantined and the sync goes on.
//!
//! Built by [`SyncEngineBuilder`]; [`SyncEngine::run`] loops until its [`Stop`] fires.

mod backoff;
mod engine;
pub mod http;
pub mod session;
pub mod sse;

pub use engine::{
    ChangeOrigin, MapSync, OnceReport, Stop, StopHandle, SyncEngine, SyncEngineBuilder, SyncError,
    SyncEvent,
};
pub use http::{HttpError, Limits};
pub use session::{HubAuth, SessionAuth, SessionError, SessionKeeper, sign_in};

/// The addresses in a hub setting: one, or several of the same hub (replicas on one
/// database) separated by commas, spaces or lines; without their trailing `/`. The first is
/// the hub as the desk knows it (its cursor and health are kept under it).
pub fn hub_addresses(setting: &str) -> Vec<String> {
    setting
        .split([',', ' ', '\n', '\t'])
        .map(|a| a.trim().trim_end_matches('/'))
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}
