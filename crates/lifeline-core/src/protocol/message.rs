//! The threads with citizens on the wire: messages, what a channel hands over, receipts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Delivery, Direction, FieldError, MediaRef, Message, MessageKind};

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<WireMedia>,
    pub delivery: Delivery,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
crate::private_debug!(WireMessage {
    id, request_id, direction, kind, template, author, media, delivery, created_at, updated_at ;
    text, position, failure
});

/// The file of a photo, voice or video message: fetched by its content address from
/// `GET /v1/media/{sha256}`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WireMedia {
    pub sha256: String,
    pub media_type: String,
    pub size_bytes: u64,
    /// The file's name as the citizen sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}
crate::private_debug!(WireMedia { sha256, media_type, size_bytes ; name });

impl From<&MediaRef> for WireMedia {
    fn from(m: &MediaRef) -> Self {
        Self {
            sha256: m.sha256.clone(),
            media_type: m.media_type.clone(),
            size_bytes: m.size_bytes,
            name: m.name.clone(),
        }
    }
}

impl From<WireMedia> for MediaRef {
    fn from(m: WireMedia) -> Self {
        Self {
            sha256: m.sha256,
            media_type: m.media_type,
            size_bytes: m.size_bytes,
            name: m.name,
        }
    }
}

/// `POST /v1/media`: what the hub answers when it has stored a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireStoredMedia {
    pub sha256: String,
    /// What the bytes are (not what was declared).
    pub media_type: String,
    pub size_bytes: u64,
}

/// The file a citizen's message carries: uploaded first (`POST /v1/media`), then named here
/// by its content address.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WireInboundMedia {
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}
crate::private_debug!(WireInboundMedia { sha256 ; name });

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
            media: m.media.as_ref().map(WireMedia::from),
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
            media: self.media.map(MediaRef::from),
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
    /// The file of a photo, voice or video message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<WireInboundMedia>,
    /// When the citizen sent it (the hub's clock when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
}
crate::private_debug!(WireInboundMessage { id, kind, media, sent_at ; text, position });

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
