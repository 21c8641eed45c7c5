//! The threads with citizens: an officer reads one; an intake channel hands over what the
//! citizen wrote, takes the officers' messages to carry, and reports how far each got.
//! Officers send messages as a `send_message` triage action (`requests::act`).

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use lifeline_core::protocol::{WireInboundMessage, WireMessages, WireReceipt};
use serde::Deserialize;

use super::{Shared, audit, blocking, error, parse_json, too_many};
use crate::auth::{Principal, forbidden};
use crate::store::{MessageIn, ReceiptOutcome};

/// `GET /v1/requests/{id}/messages`: the thread, oldest first, for whoever may read the
/// request (another post's request is answered as missing).
pub async fn thread(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    let Some(scope) = p.read_scope() else {
        return forbidden("read threads");
    };
    let store = Arc::clone(&state.store);
    let found = {
        let id = id.clone();
        blocking(move || {
            let Some(r) = store.get(&id)? else {
                return Ok(None);
            };
            if !scope.admits(r.post.as_deref()) {
                return Ok(None);
            }
            store.thread(&id).map(Some)
        })
        .await
    };
    match found {
        Ok(Some(messages)) => {
            let detail = format!("{} messages", messages.len());
            if let Err(resp) = audit(&state, &p, "read_thread", Some(id), detail).await {
                return resp;
            }
            axum::Json(WireMessages { messages }).into_response()
        }
        Ok(None) => error(StatusCode::NOT_FOUND, "not_found", "no such request"),
        Err(r) => r,
    }
}

/// The channel a caller is, or the answer refusing it.
fn channel_of(p: &Principal) -> Result<String, Response> {
    match p {
        Principal::Channel(_) => Ok(p.audit_name()),
        _ => Err(forbidden("carry messages (intake channels only)")),
    }
}

/// A channel handing over a citizen's message or a receipt: who it is, within its budget.
/// That budget is apart from intake (a reminder's receipts must not crowd out a new SOS) and
/// sized to what the channel is handed: up to three receipts a message, and the answers.
pub(super) async fn carrying_channel(
    state: &super::Shared,
    p: &Principal,
) -> Result<String, Response> {
    let channel = channel_of(p)?;
    let l = &state.limits;
    let rate = (l.channel_messages_per_sec * 4.0).max(l.intake_per_sec);
    super::limit(
        state,
        p,
        "carry",
        (rate, rate * 10.0),
        "too many calls from this channel; retry after the pause",
    )
    .await?;
    Ok(channel)
}

/// `POST /v1/requests/{id}/messages`: what the citizen wrote, from the channel that took the
/// request in.
pub async fn inbound(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let channel = match carrying_channel(&state, &p).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let message: WireInboundMessage = match parse_json(&body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    if message.id.is_empty()
        || message.id.len() > 64
        || lifeline_core::model::request::check_id("id", &message.id).is_err()
    {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_message",
            "id: 1 to 64 letters, digits, - _ . or :",
        );
    }
    let store = Arc::clone(&state.store);
    let outcome = match blocking(move || store.message_in(&id, message, &channel, Utc::now())).await
    {
        Ok(o) => o,
        Err(r) => return r,
    };
    match outcome {
        MessageIn::Stored(m) => {
            super::announce_head(&state).await;
            (
                StatusCode::CREATED,
                axum::Json(serde_json::json!({ "id": m.id })),
            )
                .into_response()
        }
        MessageIn::Existing(m) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({ "id": m.id, "existing": true })),
        )
            .into_response(),
        MessageIn::NotFound => error(StatusCode::NOT_FOUND, "not_found", "no such request"),
        MessageIn::Invalid(reason) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_message", reason)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct OutboxQuery {
    limit: Option<u32>,
}

/// `GET /v1/channel/outbox?limit=N`: officers' messages waiting for this channel, oldest
/// first. They stay until a receipt moves them on.
pub async fn outbox(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    Query(q): Query<OutboxQuery>,
) -> Response {
    let channel = match channel_of(&p) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let store = Arc::clone(&state.store);
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let bucket = format!("messages:{}", p.limit_key());
    let mut messages = match blocking(move || store.channel_outbox(&channel, limit)).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    // Handed out at the channel's pace: what is over it waits for the next call (it stays
    // queued), and a call that gets nothing learns when to come back.
    let l = &state.limits;
    let wanted = u32::try_from(messages.len()).unwrap_or(u32::MAX);
    let crate::limits::Granted { granted, wait } = super::take_tokens(
        &state,
        &bucket,
        l.channel_messages_per_sec,
        l.channel_messages_burst,
        wanted,
    )
    .await;
    let granted = granted as usize;
    if granted == 0
        && let Some(w) = wait
    {
        return too_many(
            "messages are handed out at the channel's pace; come back shortly",
            w,
        );
    }
    messages.truncate(granted);
    axum::Json(WireMessages { messages }).into_response()
}

/// `POST /v1/messages/{id}/receipt`: how far one of this channel's messages got.
pub async fn receipt(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let channel = match carrying_channel(&state, &p).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let receipt: WireReceipt = match parse_json(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let store = Arc::clone(&state.store);
    let outcome = match blocking(move || store.receipt(&id, &channel, &receipt, Utc::now())).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    match outcome {
        ReceiptOutcome::Updated(m) => {
            super::announce_head(&state).await;
            axum::Json(m).into_response()
        }
        ReceiptOutcome::Unchanged(m) => axum::Json(m).into_response(),
        ReceiptOutcome::NotFound => error(StatusCode::NOT_FOUND, "not_found", "no such message"),
        ReceiptOutcome::Invalid(reason) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_receipt", reason)
        }
    }
}
