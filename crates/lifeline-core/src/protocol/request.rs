//! Help requests on the wire: the records, the change-feed page, intake and triage actions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{
    Attachment, CaseEvent, CaseEventKind, Category, Channel, Citizen, FieldError, HelpRequest,
    Location, Origin, Priority, Status, TriageAction,
};

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

impl From<WireAttachment> for Attachment {
    fn from(a: WireAttachment) -> Self {
        Self {
            name: a.name,
            media_type: a.media_type,
            size_bytes: a.size_bytes,
            url: a.url,
        }
    }
}

impl From<&Citizen> for WireCitizen {
    fn from(c: &Citizen) -> Self {
        Self::from(c.clone())
    }
}

impl From<Citizen> for WireCitizen {
    fn from(c: Citizen) -> Self {
        Self {
            name: c.name,
            phone: c.phone,
            id_document: c.id_document,
            nationality: c.nationality,
            language: c.language,
        }
    }
}

impl From<WireCitizen> for Citizen {
    fn from(c: WireCitizen) -> Self {
        Self {
            name: c.name,
            phone: c.phone,
            id_document: c.id_document,
            nationality: c.nationality,
            language: c.language,
        }
    }
}

impl From<Location> for WireLocation {
    fn from(l: Location) -> Self {
        Self {
            lat: l.lat,
            lon: l.lon,
            accuracy_m: l.accuracy_m,
            captured_at: l.captured_at,
            address: l.address,
            country: l.country,
        }
    }
}

impl From<WireLocation> for Location {
    fn from(l: WireLocation) -> Self {
        Self {
            lat: l.lat,
            lon: l.lon,
            accuracy_m: l.accuracy_m,
            captured_at: l.captured_at,
            address: l.address,
            country: l.country,
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
            citizen: WireCitizen::from(&r.citizen),
            people_count: r.people_count,
            location: r.location.clone().map(WireLocation::from),
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
            citizen: self.citizen.into(),
            people_count: self.people_count,
            location: self.location.map(Location::from),
            description: self.description,
            attachments: self.attachments.into_iter().map(Attachment::from).collect(),
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
