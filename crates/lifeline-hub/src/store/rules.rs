//! The hub's rules that do not depend on where records are kept: a new request built from an
//! intake, an answer read back from its idempotency key, what a triage action does to the
//! current record, and the messages of a thread as they are stored. Both backends ask these and then write what they decide.

use chrono::{DateTime, Utc};
use lifeline_core::model::message::outbound_id;
use lifeline_core::model::{
    CaseEvent, Delivery, Direction, HelpRequest, MediaRef, Message, MessageKind, Origin, Priority,
    Status, TriageAction,
};
use lifeline_core::protocol::{
    WireError, WireInboundMessage, WireIntake, WireMessage, WireReceipt, WireRequest,
};
use lifeline_core::store::local_event_id;

use super::{ActionCall, ActionOutcome, HubError, ReceiptOutcome, StoredMedia};

pub fn post_of(record: &WireRequest) -> Option<&str> {
    record.post.as_deref()
}

/// Builds a new request from an intake, validated.
pub fn from_intake(
    intake: WireIntake,
    id: String,
    now: DateTime<Utc>,
) -> Result<HelpRequest, String> {
    let r = HelpRequest {
        id,
        channel: intake.channel,
        category: intake.category,
        emergency: intake.emergency,
        priority: intake.priority.unwrap_or(if intake.emergency {
            Priority::Critical
        } else {
            Priority::Normal
        }),
        status: Status::New,
        duplicate_of: None,
        citizen: intake.citizen.into(),
        people_count: intake.people_count,
        location: intake.location.map(Into::into),
        description: intake.description,
        attachments: intake.attachments.into_iter().map(Into::into).collect(),
        assignee: None,
        post: intake.post,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    r.validate().map_err(|e| e.to_string())?;
    Ok(r)
}

/// An answer stored under an idempotency key: the outcome form, or (rows written before
/// schema 2) the HTTP status and body it was first sent as.
pub fn stored_outcome(
    outcome: Option<String>,
    status: u16,
    response: &str,
) -> Result<ActionOutcome, HubError> {
    let corrupt = |e: serde_json::Error| HubError::Corrupt(format!("stored answer: {e}"));
    if let Some(outcome) = outcome {
        return serde_json::from_str(&outcome).map_err(corrupt);
    }
    Ok(match status {
        200 => ActionOutcome::Applied {
            record: serde_json::from_str(response).map_err(corrupt)?,
        },
        409 => {
            let e: WireError = serde_json::from_str(response).map_err(corrupt)?;
            match e.current {
                Some(current) => ActionOutcome::Conflict { current },
                None => ActionOutcome::Invalid {
                    message: e.error.message,
                },
            }
        }
        _ => {
            let e: WireError = serde_json::from_str(response).map_err(corrupt)?;
            ActionOutcome::Invalid {
                message: e.error.message,
            }
        }
    })
}

/// What a triage action comes to against the current record.
pub enum Plan {
    /// Nothing to write: this is the answer (a conflict, an invalid action, a full case
    /// log, or an action that changes nothing).
    Answer(ActionOutcome),
    /// An officer's message to store on the thread (the request itself does not change).
    Send(WireRequest),
    /// The request as it becomes, and the case events that record why.
    Apply {
        next: HelpRequest,
        events: Vec<CaseEvent>,
    },
}

/// Decides an action against the current record. `events_kept` is how many case events the
/// request has; `original_visible` whether a `mark_duplicate`'s original is a request the
/// caller may see (another post's requests do not exist for them, not even as an answer
/// saying so).
pub fn plan(
    current: WireRequest,
    call: ActionCall<'_>,
    case_event_cap: usize,
    events_kept: usize,
    original_visible: bool,
    now: DateTime<Utc>,
) -> Result<Plan, HubError> {
    if !call.action.is_commutative() && call.base_version != current.version {
        return Ok(Plan::Answer(ActionOutcome::Conflict { current }));
    }
    let (request, _) = current
        .clone()
        .into_domain(Origin::Sync)
        .map_err(|e| HubError::Corrupt(e.to_string()))?;
    if let TriageAction::MarkDuplicate { of } = call.action
        && !original_visible
    {
        return Ok(Plan::Answer(ActionOutcome::Invalid {
            message: format!("no request {of} to be a duplicate of"),
        }));
    }
    if let TriageAction::SendMessage { .. } = call.action {
        if let Err(e) = call.action.validate() {
            return Ok(Plan::Answer(ActionOutcome::Invalid {
                message: e.to_string(),
            }));
        }
        return Ok(Plan::Send(current));
    }
    let (mut next, kinds) = match call.action.apply(&request, now) {
        Ok(done) => done,
        Err(e) => {
            return Ok(Plan::Answer(ActionOutcome::Invalid {
                message: e.to_string(),
            }));
        }
    };
    if kinds.is_empty() {
        return Ok(Plan::Answer(ActionOutcome::Applied { record: current }));
    }
    if events_kept + kinds.len() > case_event_cap {
        return Ok(Plan::Answer(ActionOutcome::CaseLogFull {
            message: format!(
                "the case log of {} is full ({case_event_cap} entries); record further work in a follow-up request",
                request.id
            ),
        }));
    }
    next.version = request.version + 1;
    next.updated_at = now;
    let events: Vec<CaseEvent> = kinds
        .into_iter()
        .enumerate()
        .map(|(n, kind)| CaseEvent {
            id: local_event_id(call.key, n),
            request_id: next.id.clone(),
            kind,
            actor: Some(call.actor.to_owned()),
            at: now,
            origin: Origin::Sync,
        })
        .collect();
    Ok(Plan::Apply { next, events })
}

/// An officer's message (a `send_message` action, validated and in scope) as it is stored:
/// `queued` for the channel, under an id made from the action's key, so the desk's pending
/// copy becomes this record. `Err` says why the message is not one to store.
pub fn outbound_message(
    current: &WireRequest,
    call: ActionCall<'_>,
    now: DateTime<Utc>,
) -> Result<WireMessage, String> {
    let TriageAction::SendMessage { text, template } = call.action else {
        return Err("not a message".into());
    };
    let message = Message {
        id: outbound_id(call.key),
        request_id: current.id.clone(),
        direction: Direction::Outbound,
        kind: MessageKind::Text,
        text: text.clone(),
        template: template.clone(),
        author: Some(call.actor.to_owned()),
        position: None,
        media: None,
        delivery: Delivery::Queued,
        failure: None,
        created_at: now,
        updated_at: now,
    };
    message.validate().map_err(|e| e.to_string())?;
    Ok(WireMessage::from_domain(&message))
}

/// The id a citizen's message is kept under: the channel's id, kept apart from officers'
/// ids and from other requests' messages (hashed: the two ids together may be longer than
/// an id may be).
pub fn inbound_message_id(request_id: &str, channel_message_id: &str) -> String {
    format!(
        "c-{}",
        &crate::secrets::token_hash(&format!("{request_id}\n{channel_message_id}"))[..32]
    )
}

/// Why a citizen's message names a file it may not: not a SHA-256, or not one this channel
/// uploaded (knowing a file's address is not having it, nor may one channel's file be put
/// on another channel's thread).
pub fn media_refused(sha256: &str) -> Option<String> {
    lifeline_core::model::media::check_sha256("media.sha256", sha256)
        .err()
        .map(|e| e.to_string())
}

pub const MEDIA_NOT_UPLOADED: &str =
    "media.sha256: this channel uploaded no file with this SHA-256 (POST /v1/media first)";

/// A citizen's message as it is stored, with the file it names as the hub read it. `Err`:
/// why it is refused.
pub fn inbound_message(
    id: String,
    request_id: &str,
    m: WireInboundMessage,
    media: Option<(StoredMedia, Option<String>)>,
    now: DateTime<Utc>,
) -> Result<WireMessage, String> {
    let message = Message {
        id,
        request_id: request_id.to_owned(),
        direction: Direction::Inbound,
        kind: m.kind,
        text: m.text,
        template: None,
        author: None,
        position: m.position.map(|p| (p.lat, p.lon)),
        media: media.map(|(stored, name)| MediaRef {
            sha256: stored.sha256,
            media_type: stored.media_type,
            size_bytes: stored.size_bytes,
            name,
        }),
        delivery: Delivery::Received,
        failure: None,
        created_at: m.sent_at.filter(|t| *t <= now).unwrap_or(now),
        updated_at: now,
    };
    message.validate().map_err(|e| e.to_string())?;
    Ok(WireMessage::from_domain(&message))
}

/// What a channel's receipt comes to.
pub enum ReceiptStep {
    /// The message as it becomes, to store.
    Store(WireMessage),
    /// Nothing to store: this is the answer (a late `sent` after `read` is answered with the
    /// message as it is).
    Answer(ReceiptOutcome),
}

/// A channel's report on one of its outbound messages `m`, forward only.
pub fn after_receipt(mut m: WireMessage, r: &WireReceipt, now: DateTime<Utc>) -> ReceiptStep {
    if r.delivery == Delivery::Failed && r.reason.as_deref().is_none_or(|x| x.trim().is_empty()) {
        return ReceiptStep::Answer(ReceiptOutcome::Invalid(
            "a failed delivery needs its reason".into(),
        ));
    }
    if !m.delivery.can_move_to(r.delivery) {
        return ReceiptStep::Answer(
            if r.delivery.rank() <= m.delivery.rank() || m.delivery == Delivery::Failed {
                ReceiptOutcome::Unchanged(m)
            } else {
                ReceiptOutcome::Invalid(format!(
                    "a message cannot go from {} to {}",
                    m.delivery, r.delivery
                ))
            },
        );
    }
    m.delivery = r.delivery;
    m.failure = r.reason.clone().filter(|_| r.delivery == Delivery::Failed);
    m.updated_at = now;
    if let Err(e) = m.clone().into_domain() {
        return ReceiptStep::Answer(ReceiptOutcome::Invalid(e.to_string()));
    }
    ReceiptStep::Store(m)
}
