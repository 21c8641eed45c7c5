//! The conversation with the citizen: messages on a request's thread.
//!
//! Inbound messages come from the citizen through an intake channel; outbound ones are
//! written by an officer and sent through the desk's outbox like a triage action
//! ([`super::TriageAction::SendMessage`]), then carried by the channel, which reports how
//! far each got ([`Delivery`]). A message is its own record in the change feed, not a case
//! event: a thread may be far longer than a case log, and a delivery receipt changes the
//! message, not the request.

use chrono::{DateTime, Utc};

use super::media::{MediaFamily, MediaRef};
use super::request::{MAX_SHORT_BYTES, MAX_TEXT_BYTES, check_id};
use super::vocabulary::vocabulary;
use super::{FieldError, check_text};

vocabulary! {
    /// Who wrote it: the citizen (`in`) or an officer (`out`).
    pub enum Direction as "message direction" {
        Inbound = "in",
        Outbound = "out",
    }
}

vocabulary! {
    /// What a message carries.
    pub enum MessageKind as "message kind" {
        Text = "text",
        /// The citizen's position now (`position`), with an optional text.
        Location = "location",
        /// A photo (`media`), with an optional caption.
        Image = "image",
        /// A voice message (`media`).
        Voice = "voice",
        /// A video clip (`media`), with an optional caption.
        Video = "video",
    }
}

impl MessageKind {
    /// The family of file a message of this kind carries, if it carries one.
    pub fn media_family(self) -> Option<MediaFamily> {
        match self {
            MessageKind::Image => Some(MediaFamily::Image),
            MessageKind::Voice => Some(MediaFamily::Audio),
            MessageKind::Video => Some(MediaFamily::Video),
            MessageKind::Text | MessageKind::Location => None,
        }
    }
}

vocabulary! {
    /// How far a message got. An outbound message moves `queued → sent → delivered → read`
    /// (or to `failed`) as the channel reports; `pending` exists only on a desk, before the
    /// hub has it. An inbound message is `received`.
    pub enum Delivery as "delivery state" {
        Pending = "pending",
        Queued = "queued",
        Sent = "sent",
        Delivered = "delivered",
        Read = "read",
        Failed = "failed",
        Received = "received",
    }
}

impl Delivery {
    /// How far along an outbound message is; a receipt never moves it back.
    pub fn rank(self) -> u8 {
        match self {
            Delivery::Pending => 0,
            Delivery::Queued => 1,
            Delivery::Sent => 2,
            Delivery::Delivered => 3,
            Delivery::Read => 4,
            Delivery::Failed => 5,
            Delivery::Received => 0,
        }
    }

    /// Whether a channel's receipt may move a message from `self` to `next`: forward only,
    /// `failed` only before delivery, and nothing after `failed`.
    pub fn can_move_to(self, next: Delivery) -> bool {
        match (self, next) {
            (Delivery::Failed | Delivery::Received | Delivery::Pending, _) => false,
            (_, Delivery::Pending | Delivery::Queued | Delivery::Received) => false,
            (Delivery::Queued | Delivery::Sent, Delivery::Failed) => true,
            (_, Delivery::Failed) => false,
            (from, to) => to.rank() > from.rank(),
        }
    }
}

/// The longest message text: a chat message, not a document.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024;

/// One message of a request's thread.
#[derive(Clone, PartialEq)]
pub struct Message {
    pub id: String,
    pub request_id: String,
    pub direction: Direction,
    pub kind: MessageKind,
    pub text: String,
    /// The post's template an outbound message started from, by name.
    pub template: Option<String>,
    /// The officer who wrote an outbound message (as the hub names the principal).
    pub author: Option<String>,
    /// `(lat, lon)` of a location message.
    pub position: Option<(f64, f64)>,
    /// The file of a photo, voice or video message.
    pub media: Option<MediaRef>,
    pub delivery: Delivery,
    /// Why the channel could not deliver it.
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
crate::private_debug!(Message {
    id, request_id, direction, kind, template, author, media, delivery, created_at, updated_at ;
    text, position, failure
});

impl Message {
    pub fn validate(&self) -> Result<(), FieldError> {
        check_id("id", &self.id)?;
        check_id("request_id", &self.request_id)?;
        check_text("text", &self.text, MAX_MESSAGE_BYTES)?;
        if let Some(t) = &self.template {
            check_text("template", t, MAX_SHORT_BYTES)?;
        }
        if let Some(a) = &self.author {
            check_text("author", a, MAX_SHORT_BYTES)?;
        }
        if let Some(f) = &self.failure {
            check_text("failure", f, MAX_TEXT_BYTES)?;
        }
        match (self.kind, self.position) {
            (MessageKind::Text, _) if self.text.trim().is_empty() => {
                return Err(FieldError::new("text", "a text message cannot be empty"));
            }
            (MessageKind::Location, None) => {
                return Err(FieldError::new(
                    "position",
                    "a location message needs a position",
                ));
            }
            (_, Some((lat, lon))) => {
                if !(-90.0..=90.0).contains(&lat) || !lat.is_finite() {
                    return Err(FieldError::new("position.lat", "not a latitude"));
                }
                if !(-180.0..=180.0).contains(&lon) || !lon.is_finite() {
                    return Err(FieldError::new("position.lon", "not a longitude"));
                }
            }
            _ => {}
        }
        match (self.kind.media_family(), &self.media) {
            (Some(family), Some(media)) => {
                media.validate()?;
                let fits = media.family().is_some_and(|f| {
                    f == family || (family == MediaFamily::Audio && media.media_type == "video/mp4")
                });
                if !fits {
                    return Err(FieldError::new(
                        "media.media_type",
                        format!(
                            "a {} message cannot carry {}",
                            self.kind.as_str(),
                            media.media_type
                        ),
                    ));
                }
            }
            (Some(_), None) => {
                return Err(FieldError::new(
                    "media",
                    format!("a {} message needs its file", self.kind.as_str()),
                ));
            }
            (None, Some(_)) => {
                return Err(FieldError::new(
                    "media",
                    format!("a {} message carries no file", self.kind.as_str()),
                ));
            }
            (None, None) => {}
        }
        let expected_inbound = self.direction == Direction::Inbound;
        if expected_inbound != (self.delivery == Delivery::Received) {
            return Err(FieldError::new(
                "delivery",
                "inbound messages are `received`; outbound ones are never",
            ));
        }
        Ok(())
    }
}

/// The id of the outbound message an outbox item sends: derived from its idempotency key,
/// so the desk's pending copy and the hub's record are the same message.
pub fn outbound_id(idempotency_key: &str) -> String {
    format!("m-{idempotency_key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_only_move_a_message_forward() {
        use Delivery::*;
        assert!(Queued.can_move_to(Sent));
        assert!(
            Queued.can_move_to(Read),
            "a channel may skip states it cannot see"
        );
        assert!(Sent.can_move_to(Failed));
        assert!(!Delivered.can_move_to(Sent));
        assert!(
            !Delivered.can_move_to(Failed),
            "delivered cannot fail afterwards"
        );
        assert!(!Read.can_move_to(Read));
        assert!(!Failed.can_move_to(Delivered));
        assert!(
            !Received.can_move_to(Read),
            "inbound messages have no receipts"
        );
    }
}
