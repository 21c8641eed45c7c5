//! `GET /v1/events`: the change feed as Server-Sent Events, limited to the caller's posts.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures_util::Stream;
use lifeline_core::protocol::sse;
use serde::Deserialize;

use super::claims::visible_claims;
use super::requests::parse_cursor;
use super::{Shared, too_many};
use crate::auth::{Principal, forbidden};
use crate::limits::StreamSlot;
use crate::store::{AuditEntry, Change, PostScope};

/// SSE comment sent when nothing else was sent for this long, so a desk notices a dead
/// connection within seconds (its read timeout is a few heartbeats).
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// Development tokens share one key; drills and tests open many desks on one.
const DEV_STREAMS: usize = 256;

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    after: Option<String>,
}

/// What the SSE stream carries between polls of the store.
struct StreamState {
    state: Shared,
    scope: PostScope,
    actor: String,
    cursor: u64,
    queue: VecDeque<Event>,
    head: tokio::sync::watch::Receiver<u64>,
    claims: tokio::sync::watch::Receiver<u64>,
    advisories: tokio::sync::watch::Receiver<u64>,
    /// The signed-in session the stream serves: checked as the stream goes, so a revoked
    /// session or a disabled officer loses an open stream too, within a heartbeat.
    session: Option<String>,
    /// Held while the stream is open: counts against the credential's stream cap.
    _slot: StreamSlot,
}

/// Whether the stream's session may still be served.
async fn still_allowed(s: &StreamState) -> bool {
    let Some(id) = s.session.clone() else {
        return true;
    };
    let store = Arc::clone(&s.state.store);
    tokio::task::spawn_blocking(move || store.session_live(&id, Utc::now()))
        .await
        .is_ok_and(|r| r.unwrap_or(false))
}

async fn claims_event(state: &Shared, scope: &PostScope) -> Event {
    Event::default()
        .event(sse::CLAIMS)
        .data(serde_json::to_string(&visible_claims(state, scope).await).unwrap_or_default())
}

pub async fn events(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> Response {
    let Some(scope) = p.read_scope() else {
        return forbidden("follow the event stream");
    };
    // Resume from Last-Event-ID (a reconnecting client) or ?after= (a first connection).
    let last_event = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let cursor = match parse_cursor(&state, last_event.as_deref().or(q.after.as_deref())) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let max = if p.is_dev() {
        DEV_STREAMS
    } else {
        state.limits.streams_per_credential
    };
    let Some(slot) = state.streams.open(&p.limit_key(), max) else {
        return too_many(
            format!("this credential has {max} event streams open already; close one first"),
            Duration::from_secs(5),
        );
    };
    let mut queue = VecDeque::new();
    queue.push_back(claims_event(&state, &scope).await);
    let session = match &p {
        Principal::Officer { session, .. } => Some(session.id.clone()),
        _ => None,
    };
    let stream_state = StreamState {
        session,
        head: state.head.subscribe(),
        claims: state.claims_changed.subscribe(),
        advisories: state.advisories_changed.subscribe(),
        actor: p.audit_name(),
        state,
        scope,
        cursor,
        queue,
        _slot: slot,
    };
    Sse::new(change_stream(stream_state))
        .keep_alive(KeepAlive::new().interval(HEARTBEAT))
        .into_response()
}

/// Changes after the cursor as they exist and as they happen: each request change is one
/// `request` event (or `removed`, for one that left the caller's posts) whose id is the
/// cursor after it, so `Last-Event-ID` resumes exactly.
fn change_stream(initial: StreamState) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(initial, |mut s| async move {
        loop {
            if let Some(event) = s.queue.pop_front() {
                return Some((Ok(event), s));
            }
            if !still_allowed(&s).await {
                return None; // the session ended: the stream ends with it
            }
            // Mark the head as seen *before* reading: a change committed while we read is
            // then either in this read or wakes the wait below, never lost in between.
            s.head.borrow_and_update();
            let store = Arc::clone(&s.state.store);
            let (after, scope, actor) = (s.cursor, s.scope.clone(), s.actor.clone());
            let changes = tokio::task::spawn_blocking(move || {
                let changes = store.changes_after(after, 200, &scope)?;
                let served = changes
                    .iter()
                    .filter(|c| matches!(c, Change::Upsert { .. } | Change::Message { .. }))
                    .count();
                if served > 0 {
                    store.audit(
                        AuditEntry {
                            actor: &actor,
                            action: "read_stream",
                            target: None,
                            detail: &format!("{served} requests after {after}"),
                        },
                        Utc::now(),
                    )?;
                }
                Ok::<_, crate::store::HubError>(changes)
            })
            .await
            .ok()?
            .ok()?;
            if !changes.is_empty() {
                for change in changes {
                    let seq = change.seq();
                    s.cursor = seq;
                    let event = match change {
                        Change::Upsert { record, .. } => Event::default()
                            .event(sse::REQUEST)
                            .data(serde_json::to_string(&record).unwrap_or_default()),
                        Change::Removed { id, .. } => Event::default()
                            .event(sse::REMOVED)
                            .data(serde_json::json!({ "id": id }).to_string()),
                        Change::Erased { id, .. } => Event::default()
                            .event(sse::ERASED)
                            .data(serde_json::json!({ "id": id }).to_string()),
                        Change::Message { message, .. } => Event::default()
                            .event(sse::MESSAGE)
                            .data(serde_json::to_string(&message).unwrap_or_default()),
                    };
                    s.queue.push_back(event.id(s.state.cursor(seq)));
                }
                continue;
            }
            // Caught up: wait for something new (or a heartbeat's time, to check the session).
            tokio::select! {
                _ = tokio::time::sleep(HEARTBEAT) => {}
                changed = s.head.changed() => { changed.ok()?; }
                changed = s.claims.changed() => {
                    changed.ok()?;
                    let event = claims_event(&s.state, &s.scope).await;
                    s.queue.push_back(event);
                }
                changed = s.advisories.changed() => {
                    changed.ok()?;
                    s.queue.push_back(Event::default().event(sse::ADVISORIES).data("{}"));
                }
            }
        }
    })
}
