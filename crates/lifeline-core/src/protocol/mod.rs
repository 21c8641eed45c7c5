//! The Lifeline sync protocol's JSON shapes (see `docs/sync-protocol.md`).
//!
//! One module owns the wire format so the hub, the desk's sync engine, the CLI's JSON
//! output and JSON-lines import all speak exactly the same dialect. Conversions into the
//! domain validate: a record that breaks an invariant never gets past `into_domain`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

mod message;
mod request;
mod session;

pub use message::*;
pub use request::*;
pub use session::*;

/// Path prefix of every protocol endpoint.
pub const API_PREFIX: &str = "/v1";
/// The largest answer body a desk reads (after decompression). The hub keeps every record
/// well under it (its case-log cap), so one record always fits in a page.
pub const DESK_MAX_BODY: usize = 32 * 1024 * 1024;
/// Header carrying the key that makes a triage action idempotent.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// The body of every error answer: `{"error": {"code": …, "message": …}}`, plus the current
/// record on a version conflict (409).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireError {
    pub error: WireErrorBody,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<WireRequest>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireErrorBody {
    pub code: String,
    pub message: String,
}

/// A soft claim: "officer X at desk Y is working on this", visible to other desks until it
/// expires (desks renew it while the request is open on screen).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireClaim {
    pub request_id: String,
    pub desk: String,
    pub officer: String,
    pub expires_at: DateTime<Utc>,
}

/// `POST /v1/requests/{id}/claim`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireClaimRequest {
    /// Taken from the signed-in session; a value that disagrees is refused.
    #[serde(default)]
    pub desk: String,
    #[serde(default)]
    pub officer: String,
    /// How long the claim lasts without renewal; the hub caps it.
    #[serde(default)]
    pub ttl_seconds: Option<u32>,
}

/// Server-Sent Events names on `GET /v1/events`.
pub mod sse {
    /// A request was created or changed; `data` is a [`super::WireRequest`], `id` the cursor.
    pub const REQUEST: &str = "request";
    /// The set of live claims changed; `data` is a JSON array of [`super::WireClaim`].
    pub const CLAIMS: &str = "claims";
    /// The advisory feed changed; `data` is `{}`. Desks refetch `advisories.atom`.
    pub const ADVISORIES: &str = "advisories";
    /// A request left this desk's posts; `data` is `{"id": …}`, `id` the cursor. The desk
    /// drops it.
    pub const REMOVED: &str = "removed";
    /// A request was erased at the hub (right to erasure); `data` is `{"id": …}`, `id` the
    /// cursor. The desk erases it: the row, its case events, its unsent edits, every copy.
    pub const ERASED: &str = "erased";
    /// A message on a thread was added or changed its delivery state; `data` is a
    /// [`super::WireMessage`], `id` the cursor.
    pub const MESSAGE: &str = "message";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Priority, Status, TriageAction};

    #[test]
    fn minimal_record_takes_defaults_and_validates() {
        let json = r#"{"id":"r1","channel":"app","category":"medical","citizen":{"name":"王伟"},
                       "created_at":"2026-11-25T10:00:00Z"}"#;
        let wire: WireRequest = serde_json::from_str(json).expect("parses");
        let (r, events) = wire.into_domain(Origin::Import).expect("valid");
        assert_eq!(r.status, Status::New);
        assert_eq!(r.priority, Priority::Normal);
        assert_eq!(r.people_count, 1);
        assert!(events.is_empty());
    }

    #[test]
    fn impossible_latitude_is_refused_with_the_field_named() {
        let json = r#"{"id":"r1","channel":"app","category":"medical","citizen":{"name":"x"},
                       "location":{"lat":200,"lon":10},"created_at":"2026-11-25T10:00:00Z"}"#;
        let wire: WireRequest = serde_json::from_str(json).expect("parses");
        let err = wire.into_domain(Origin::Sync).expect_err("latitude 200");
        assert_eq!(err.field, "location.lat");
    }

    #[test]
    fn action_request_flattens_the_action() {
        let body = WireActionRequest {
            action: TriageAction::SetPriority {
                priority: Priority::Critical,
            },
            base_version: 4,
            actor: Some("desk-1/li".into()),
        };
        let json = serde_json::to_value(&body).expect("serializes");
        assert_eq!(json["action"], "set_priority");
        assert_eq!(json["priority"], "critical");
        let back: WireActionRequest = serde_json::from_value(json).expect("round-trips");
        assert_eq!(back, body);
    }
}
