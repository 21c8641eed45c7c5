//! The Lifeline sync protocol's JSON shapes (see `docs/sync-protocol.md`).
//!
//! One module owns the wire format so the hub, the desk's sync engine, the CLI's JSON
//! output and JSON-lines import all speak exactly the same dialect. Conversions into the
//! domain validate: a record that breaks an invariant never gets past `into_domain`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{
    Attachment, CaseEvent, CaseEventKind, Category, Channel, Citizen, Delivery, Direction,
    FieldError, HelpRequest, Location, Message, MessageKind, Origin, Priority, Status,
    TriageAction,
};

/// Path prefix of every protocol endpoint.
pub const API_PREFIX: &str = "/v1";
/// The largest answer body a desk reads (after decompression). The hub keeps every record
/// well under it (its case-log cap), so one record always fits in a page.
pub const DESK_MAX_BODY: usize = 32 * 1024 * 1024;
/// Header carrying the key that makes a triage action idempotent.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WireCitizen {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_document: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WireLocation {
    pub lat: f64,
    pub lon: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy_m: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WireAttachment {
    pub name: String,
    pub media_type: String,
    #[serde(default)]
    pub size_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl From<&Attachment> for WireAttachment {
    fn from(a: &Attachment) -> Self {
        Self {
            name: a.name.clone(),
            media_type: a.media_type.clone(),
            size_bytes: a.size_bytes,
            url: a.url.clone(),
        }
    }
}

/// One entry of a request's case-event log, as the hub records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireEvent {
    pub id: String,
    #[serde(flatten)]
    pub kind: CaseEventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    pub at: DateTime<Utc>,
}

fn one() -> u32 {
    1
}
fn normal() -> Priority {
    Priority::Normal
}
fn new_status() -> Status {
    Status::New
}

/// A help request on the wire: what the hub serves, what JSON-lines files hold, what
/// `lifeline requests --json` prints.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WireRequest {
    pub id: String,
    pub channel: Channel,
    pub category: Category,
    #[serde(default)]
    pub emergency: bool,
    #[serde(default = "normal")]
    pub priority: Priority,
    #[serde(default = "new_status")]
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    pub citizen: WireCitizen,
    #[serde(default = "one")]
    pub people_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<WireLocation>,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<WireAttachment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub version: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<WireEvent>,
}

impl WireRequest {
    pub fn from_domain(r: &HelpRequest, events: &[CaseEvent]) -> WireRequest {
        WireRequest {
            id: r.id.clone(),
            channel: r.channel,
            category: r.category,
            emergency: r.emergency,
            priority: r.priority,
            status: r.status,
            duplicate_of: r.duplicate_of.clone(),
            citizen: WireCitizen {
                name: r.citizen.name.clone(),
                phone: r.citizen.phone.clone(),
                id_document: r.citizen.id_document.clone(),
                nationality: r.citizen.nationality.clone(),
                language: r.citizen.language.clone(),
            },
            people_count: r.people_count,
            location: r.location.as_ref().map(|l| WireLocation {
                lat: l.lat,
                lon: l.lon,
                accuracy_m: l.accuracy_m,
                captured_at: l.captured_at,
                address: l.address.clone(),
                country: l.country.clone(),
            }),
            description: r.description.clone(),
            attachments: r.attachments.iter().map(WireAttachment::from).collect(),
            assignee: r.assignee.clone(),
            post: r.post.clone(),
            created_at: r.created_at,
            updated_at: Some(r.updated_at),
            version: r.version,
            events: events
                .iter()
                .map(|e| WireEvent {
                    id: e.id.clone(),
                    kind: e.kind.clone(),
                    actor: e.actor.clone(),
                    at: e.at,
                })
                .collect(),
        }
    }

    /// Validates and converts into the domain; `origin` marks where the events came from.
    pub fn into_domain(self, origin: Origin) -> Result<(HelpRequest, Vec<CaseEvent>), FieldError> {
        let id = self.id;
        let events = self
            .events
            .into_iter()
            .map(|e| {
                crate::model::request::check_id("events[].id", &e.id)?;
                Ok(CaseEvent {
                    id: e.id,
                    request_id: id.clone(),
                    kind: e.kind,
                    actor: e.actor,
                    at: e.at,
                    origin,
                })
            })
            .collect::<Result<Vec<_>, FieldError>>()?;
        let request = HelpRequest {
            id: id.clone(),
            channel: self.channel,
            category: self.category,
            emergency: self.emergency,
            priority: self.priority,
            status: self.status,
            duplicate_of: self.duplicate_of,
            citizen: Citizen {
                name: self.citizen.name,
                phone: self.citizen.phone,
                id_document: self.citizen.id_document,
                nationality: self.citizen.nationality,
                language: self.citizen.language,
            },
            people_count: self.people_count,
            location: self.location.map(|l| Location {
                lat: l.lat,
                lon: l.lon,
                accuracy_m: l.accuracy_m,
                captured_at: l.captured_at,
                address: l.address,
                country: l.country,
            }),
            description: self.description,
            attachments: self
                .attachments
                .into_iter()
                .map(|a| Attachment {
                    name: a.name,
                    media_type: a.media_type,
                    size_bytes: a.size_bytes,
                    url: a.url,
                })
                .collect(),
            assignee: self.assignee,
            post: self.post,
            created_at: self.created_at,
            updated_at: self.updated_at.unwrap_or(self.created_at),
            version: self.version,
        };
        request.validate()?;
        Ok((request, events))
    }
}

/// `GET /v1/requests?after=CURSOR&limit=N`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WirePage {
    pub requests: Vec<serde_json::Value>,
    /// Requests this desk may no longer see (moved to a post it does not work for): drop
    /// them. Applied before `requests`, in which a request that came back appears again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    /// Requests erased at the hub (right to erasure): the desk erases them everywhere it
    /// keeps them, unsent edits included. Applied first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub erased: Vec<String>,
    /// Messages on the threads of requests this desk may see, new or with a new delivery
    /// state ([`WireMessage`]). Applied after `requests`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<serde_json::Value>,
    pub next_cursor: String,
    pub has_more: bool,
}

/// One message of a request's thread, as the change feed, `GET /v1/requests/{id}/messages`
/// and a channel's outbox carry it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WireMessage {
    pub id: String,
    pub request_id: String,
    pub direction: Direction,
    #[serde(default = "text_kind")]
    pub kind: MessageKind,
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<WirePosition>,
    pub delivery: Delivery,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
crate::private_debug!(WireMessage {
    id, request_id, direction, kind, template, author, delivery, created_at, updated_at ;
    text, position, failure
});

fn text_kind() -> MessageKind {
    MessageKind::Text
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WirePosition {
    pub lat: f64,
    pub lon: f64,
}

impl WireMessage {
    pub fn from_domain(m: &Message) -> WireMessage {
        WireMessage {
            id: m.id.clone(),
            request_id: m.request_id.clone(),
            direction: m.direction,
            kind: m.kind,
            text: m.text.clone(),
            template: m.template.clone(),
            author: m.author.clone(),
            position: m.position.map(|(lat, lon)| WirePosition { lat, lon }),
            delivery: m.delivery,
            failure: m.failure.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }

    pub fn into_domain(self) -> Result<Message, FieldError> {
        let m = Message {
            id: self.id,
            request_id: self.request_id,
            direction: self.direction,
            kind: self.kind,
            text: self.text,
            template: self.template,
            author: self.author,
            position: self.position.map(|p| (p.lat, p.lon)),
            delivery: self.delivery,
            failure: self.failure,
            created_at: self.created_at,
            updated_at: self.updated_at,
        };
        m.validate()?;
        Ok(m)
    }
}

/// `POST /v1/requests/{id}/messages`: a channel hands over what the citizen wrote. `id` is
/// the channel's own id for it: posting the same id again changes nothing.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WireInboundMessage {
    pub id: String,
    #[serde(default = "text_kind")]
    pub kind: MessageKind,
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<WirePosition>,
    /// When the citizen sent it (the hub's clock when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
}
crate::private_debug!(WireInboundMessage { id, kind, sent_at ; text, position });

/// `POST /v1/messages/{id}/receipt`: a channel reports how far an outbound message got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireReceipt {
    pub delivery: Delivery,
    /// Why it failed (`failed` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `GET /v1/requests/{id}/messages` and `GET /v1/channel/outbox`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireMessages {
    pub messages: Vec<WireMessage>,
}

/// `POST /v1/requests`: intake. The hub assigns `id` when the caller gives none; giving one
/// makes intake idempotent (posting the same id again returns the stored request).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WireIntake {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub channel: Channel,
    pub category: Category,
    #[serde(default)]
    pub emergency: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    pub citizen: WireCitizen,
    #[serde(default = "one")]
    pub people_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<WireLocation>,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<WireAttachment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post: Option<String>,
}

/// `POST /v1/requests/{id}/actions`: a triage action against the version the desk saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireActionRequest {
    #[serde(flatten)]
    pub action: TriageAction,
    pub base_version: i64,
    /// Who acts is the signed-in officer; a desk may name them here, and the hub refuses
    /// an action whose actor disagrees with its credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

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

/// `POST /v1/auth/sign-in`: an officer signs in at a desk.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WireSignIn {
    pub officer: String,
    pub password: String,
    /// The desk's name; the refresh token works only with it.
    pub desk: String,
}

/// `POST /v1/auth/refresh`: new tokens for a signed-in desk.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WireRefresh {
    pub refresh_token: String,
    pub desk: String,
}

/// The officer a session belongs to, and what they may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireOfficer {
    pub id: String,
    pub display_name: String,
    /// `duty_officer`, `supervisor`, `regional_viewer` or `admin`.
    pub role: String,
    /// Post ids, or `["*"]` for every post.
    pub posts: Vec<String>,
}

/// The answer to a sign-in or refresh. The tokens are secrets: never logged, never printed
/// in a `Debug` form, never passed as a process argument.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WireSession {
    pub session_id: String,
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub officer: WireOfficer,
}

/// A post (embassy or consulate) and the places it answers for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WirePost {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub countries: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subregions: Vec<String>,
}

/// `POST /v1/audit/exports`: a desk or the command line is about to export requests with
/// personal data. The hub answers 200 only to a role allowed to, and records it first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireExportNotice {
    /// What is exported, for the audit trail: format, filters, destination.
    pub what: String,
}

/// `POST /v1/requests/{id}/transfer`: a supervisor moves a request to another post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireTransfer {
    pub post: String,
}

// Personal data stays out of Debug prints (log lines, panics, test failures).
crate::private_debug!(WireCitizen { nationality, language ; name, phone, id_document });
crate::private_debug!(WireAttachment { media_type, size_bytes ; name, url });
crate::private_debug!(WireLocation { accuracy_m, captured_at, country ; lat, lon, address });
crate::private_debug!(WireRequest {
    id, channel, category, emergency, priority, status, duplicate_of, citizen, people_count,
    location, attachments, assignee, post, created_at, updated_at, version, events ; description
});
crate::private_debug!(WireIntake {
    id, channel, category, emergency, priority, citizen, people_count, location, attachments,
    post ; description
});

macro_rules! hide_secrets_in_debug {
    ($t:ident { $($shown:ident),* ; $($hidden:ident),* }) => {
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($t))
                    $(.field(stringify!($shown), &self.$shown))*
                    $(.field(stringify!($hidden), &"<hidden>"))*
                    .finish()
            }
        }
    };
}
hide_secrets_in_debug!(WireSignIn { officer, desk ; password });
hide_secrets_in_debug!(WireRefresh { desk ; refresh_token });
hide_secrets_in_debug!(WireSession { session_id, access_expires_at, refresh_expires_at, officer ; access_token, refresh_token });

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
