//! Intake, the change feed, single reads, triage actions and transfers between posts.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use lifeline_core::model::TriageAction;
use lifeline_core::protocol::{
    IDEMPOTENCY_HEADER, WireActionRequest, WireError, WireErrorBody, WireIntake, WirePage,
    WireTransfer,
};
use serde::Deserialize;

use super::{HubState, Shared, audit, blocking, error, parse_json};
use crate::auth::{Principal, forbidden};
use crate::store::{
    ActionCall, ActionOutcome, AuditEntry, Change, Intake, ServiceScope, Transfer, TransferCall,
};

const DEFAULT_PAGE: u32 = 200;
const MAX_PAGE: u32 = 1000;
/// Ids and idempotency keys: the protocol's limit (event ids append a suffix to them).
pub const MAX_KEY_LEN: usize = 100;

/// The id prefix that marks exercise data on a hub in exercise mode.
pub use lifeline_core::model::request::EXERCISE_ID_PREFIX as EXERCISE_PREFIX;

/// Takes one of the caller's message tokens (officers' messages to citizens), or answers 429.
async fn limit_messages(state: &Shared, p: &Principal) -> Result<(), Response> {
    let l = &state.limits;
    super::limit(
        state,
        p,
        "msg",
        (l.officer_messages_per_sec, l.officer_messages_burst),
        "too many messages from this desk; the rest follow shortly",
    )
    .await
}

/// Takes one of the caller's action tokens, or answers 429.
pub async fn limit_actions(state: &Shared, p: &Principal) -> Result<(), Response> {
    let l = &state.limits;
    super::limit(
        state,
        p,
        "act",
        (l.actions_per_sec, l.actions_burst),
        "too many actions from this desk; slow down",
    )
    .await
}

pub async fn intake(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    body: Bytes,
) -> Response {
    if !p.may(ServiceScope::Intake) {
        return forbidden("post requests (intake is for intake channels)");
    }
    let l = &state.limits;
    if let Err(r) = super::limit(
        &state,
        &p,
        "intake",
        (l.intake_per_sec, l.intake_burst),
        "too many requests from this channel; retry after the pause",
    )
    .await
    {
        return r;
    }
    let mut intake: WireIntake = match parse_json(&body) {
        Ok(i) => i,
        Err(r) => return r,
    };
    if state.exercise {
        // On an exercise hub everything is an exercise, and its id says so.
        let id = match intake.id.take() {
            Some(id) if id.starts_with(EXERCISE_PREFIX) => id,
            Some(id) => format!("{EXERCISE_PREFIX}{id}"),
            None => match crate::secrets::new_id(EXERCISE_PREFIX) {
                Ok(id) => id,
                Err(e) => {
                    return error(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string());
                }
            },
        };
        intake.id = Some(id);
    }
    let store = Arc::clone(&state.store);
    let actor = p.audit_name();
    let outcome = match blocking(move || store.intake(intake, &actor, Utc::now())).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    // The channel learns the id and where it was routed; the record itself (personal data
    // it sent) is not echoed back beyond that.
    match outcome {
        Intake::Created(record) => {
            super::announce_head(&state).await;
            (StatusCode::CREATED, axum::Json(receipt(&record, &p))).into_response()
        }
        // A repeat says only that the id is taken: an intake channel must not learn anything
        // of a request by guessing its id.
        Intake::Existing(record) => {
            if p.read_scope()
                .is_some_and(|s| s.admits(record.post.as_deref()))
            {
                (StatusCode::OK, axum::Json(record)).into_response()
            } else {
                let taken = serde_json::json!({"id": record.id, "existing": true});
                (StatusCode::OK, axum::Json(taken)).into_response()
            }
        }
    }
}

/// What an intake answers: the whole record to a caller who may read it (development
/// tokens), else its id, version, post and status only.
fn receipt(record: &lifeline_core::protocol::WireRequest, p: &Principal) -> serde_json::Value {
    if p.read_scope()
        .is_some_and(|s| s.admits(record.post.as_deref()))
    {
        return serde_json::to_value(record).unwrap_or_default();
    }
    serde_json::json!({
        "id": record.id,
        "version": record.version,
        "status": record.status,
        "post": record.post,
        "created_at": record.created_at,
    })
}

#[derive(Debug, Deserialize)]
pub struct ChangesQuery {
    after: Option<String>,
    limit: Option<u32>,
}

/// Parses a cursor of this hub's database; `Err` answers 410 for another database's cursor.
pub fn parse_cursor(state: &HubState, cursor: Option<&str>) -> Result<u64, Response> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(0);
    };
    let gone = || {
        error(
            StatusCode::GONE,
            "cursor_unknown",
            "this cursor is from another hub database; sync again from the start (no cursor)",
        )
    };
    let (instance, seq) = cursor.rsplit_once('.').ok_or_else(gone)?;
    if instance != state.store.instance() {
        return Err(gone());
    }
    seq.parse().map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            "invalid_cursor",
            format!("`{cursor}` is not a cursor"),
        )
    })
}

pub async fn changes(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    Query(q): Query<ChangesQuery>,
) -> Response {
    let Some(scope) = p.read_scope() else {
        return forbidden("read requests");
    };
    let after = match parse_cursor(&state, q.after.as_deref()) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let store = Arc::clone(&state.store);
    let actor = p.audit_name();
    let page = match blocking(move || {
        let page = store.changes_after(after, limit + 1, &scope)?;
        let served = page
            .iter()
            .take(limit as usize)
            .filter(|c| matches!(c, Change::Upsert { .. } | Change::Message { .. }))
            .count();
        if served > 0 {
            store.audit(
                AuditEntry {
                    actor: &actor,
                    action: "read_page",
                    target: None,
                    detail: &format!("{served} requests after {after}"),
                },
                Utc::now(),
            )?;
        }
        Ok(page)
    })
    .await
    {
        Ok(p) => p,
        Err(r) => return r,
    };
    let has_more = page.len() > limit as usize;
    let mut requests = Vec::new();
    let mut removed = Vec::new();
    let mut erased = Vec::new();
    let mut messages = Vec::new();
    let mut last = after;
    for change in page.into_iter().take(limit as usize) {
        last = change.seq();
        match change {
            Change::Upsert { record, .. } => {
                requests.push(serde_json::to_value(record).unwrap_or_default())
            }
            Change::Removed { id, .. } => removed.push(id),
            Change::Erased { id, .. } => erased.push(id),
            Change::Message { message, .. } => {
                messages.push(serde_json::to_value(message).unwrap_or_default())
            }
        }
    }
    axum::Json(WirePage {
        requests,
        removed,
        erased,
        messages,
        next_cursor: state.cursor(last),
        has_more,
    })
    .into_response()
}

pub async fn one(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    let Some(scope) = p.read_scope() else {
        return forbidden("read requests");
    };
    let store = Arc::clone(&state.store);
    let found = {
        let id = id.clone();
        blocking(move || store.get(&id)).await
    };
    match found {
        // Another post's request is answered as missing: its existence is not to be known.
        Ok(Some(r)) if scope.admits(r.post.as_deref()) => {
            if let Err(resp) = audit(&state, &p, "read_request", Some(id), String::new()).await {
                return resp;
            }
            axum::Json(r).into_response()
        }
        Ok(_) => error(StatusCode::NOT_FOUND, "not_found", "no such request"),
        Err(r) => r,
    }
}

pub async fn act(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(scope) = p.act_scope() else {
        return forbidden("act on requests");
    };
    let Some(key) = headers
        .get(IDEMPOTENCY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "missing_idempotency_key",
            format!("send an `{IDEMPOTENCY_HEADER}` header"),
        );
    };
    // The key names the action's events (`<key>.<n>`), which must stay valid ids.
    if key.len() > MAX_KEY_LEN || lifeline_core::model::request::check_id("key", &key).is_err() {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            format!("the key must be 1 to {MAX_KEY_LEN} letters, digits, - _ . or :"),
        );
    }
    let action: WireActionRequest = match parse_json(&body) {
        Ok(a) => a,
        Err(r) => return r,
    };
    // Who acts is who signed in. A development token may name the actor (drills).
    let actor = match (&p, action.actor.as_deref()) {
        (Principal::Dev, Some(named)) => named.to_owned(),
        (_, Some(named)) if named != p.actor() => {
            return error(
                StatusCode::FORBIDDEN,
                "actor_mismatch",
                format!("this session acts as `{}`, not `{named}`", p.actor()),
            );
        }
        _ => p.actor(),
    };
    if let Err(e) = action.action.validate() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_action",
            e.to_string(),
        );
    }
    // A safety reminder sends thousands of messages at once: messages have a pace of their
    // own, so a reminder neither waits behind the triage limit nor uses it up.
    let limited = if matches!(action.action, TriageAction::SendMessage { .. }) {
        limit_messages(&state, &p).await
    } else {
        limit_actions(&state, &p).await
    };
    if let Err(r) = limited {
        return r;
    }
    let store = Arc::clone(&state.store);
    let audit_actor = p.audit_name();
    let answer = match blocking(move || {
        let call = ActionCall {
            request_id: &id,
            key: &key,
            action: &action.action,
            base_version: action.base_version,
            actor: &actor,
            audit_actor: &audit_actor,
            scope: &scope,
        };
        store.act(call, Utc::now())
    })
    .await
    {
        Ok(a) => a,
        Err(r) => return r,
    };
    if matches!(answer.outcome, ActionOutcome::Applied { .. }) && !answer.replayed {
        super::announce_head(&state).await;
    }
    action_response(answer.outcome)
}

fn body_error(
    status: StatusCode,
    code: &str,
    message: String,
    current: Option<lifeline_core::protocol::WireRequest>,
) -> Response {
    let body = WireError {
        error: WireErrorBody {
            code: code.into(),
            message,
        },
        current,
    };
    (status, axum::Json(body)).into_response()
}

/// The protocol's answer to each outcome of an action.
fn action_response(outcome: ActionOutcome) -> Response {
    match outcome {
        ActionOutcome::Applied { record } => axum::Json(record).into_response(),
        ActionOutcome::Conflict { current } => {
            let message = format!(
                "the request changed (now version {}); review it and act again",
                current.version
            );
            body_error(
                StatusCode::CONFLICT,
                "version_conflict",
                message,
                Some(current),
            )
        }
        ActionOutcome::Invalid { message } => body_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_action",
            message,
            None,
        ),
        ActionOutcome::CaseLogFull { message } => body_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "case_log_full",
            message,
            None,
        ),
        ActionOutcome::NotFound => error(StatusCode::NOT_FOUND, "not_found", "no such request"),
        ActionOutcome::KeyReused { request_id } => body_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "key_reused",
            format!(
                "this idempotency key was already used for request {request_id}; use a fresh key per action"
            ),
            None,
        ),
    }
}

pub async fn transfer(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(scope) = p.transfer_scope() else {
        return forbidden("move requests between posts (supervisors only)");
    };
    let form: WireTransfer = match parse_json(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    if let Err(r) = limit_actions(&state, &p).await {
        return r;
    }
    let store = Arc::clone(&state.store);
    let (actor, audit_actor) = (p.actor(), p.audit_name());
    let outcome = match blocking(move || {
        let call = TransferCall {
            request_id: &id,
            to_post: &form.post,
            actor: &actor,
            audit_actor: &audit_actor,
            scope: &scope,
        };
        store.transfer(call, Utc::now())
    })
    .await
    {
        Ok(o) => o,
        Err(r) => return r,
    };
    match outcome {
        Transfer::Moved(record) => {
            super::announce_head(&state).await;
            axum::Json(record).into_response()
        }
        Transfer::Unchanged(record) => axum::Json(record).into_response(),
        Transfer::NotFound => error(StatusCode::NOT_FOUND, "not_found", "no such request"),
        Transfer::UnknownPost => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_post",
            "no such post among the posts this officer supervises",
        ),
        Transfer::CaseLogFull(message) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, "case_log_full", message)
        }
    }
}
