//! HTTP handlers. Thin: parse, authorise, call the store, answer. Every error answer has the
//! protocol's shape `{"error": {"code": …, "message": …}}`.

// Helpers return the error answer itself (`Result<T, Response>`): it is what the handler
// sends, so boxing it would only add an allocation per error.
#![allow(clippy::result_large_err)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use futures_util::Stream;
use lifeline_core::protocol::{
    IDEMPOTENCY_HEADER, WireActionRequest, WireClaimRequest, WireError, WireErrorBody, WireIntake,
    WirePage, sse,
};
use serde::Deserialize;

use crate::HubState;
use crate::store::{HubError, Intake, NewAdvisory};

/// Largest JSON body accepted (an intake with a long description is ~20 KB).
const MAX_JSON_BODY: usize = 64 * 1024;
/// Largest CAP document accepted for relay.
const MAX_CAP_BODY: usize = 1024 * 1024;
/// SSE comment sent when nothing else was sent for this long, so a desk notices a dead
/// connection within seconds (its read timeout is a few heartbeats).
pub const HEARTBEAT: Duration = Duration::from_secs(5);
const DEFAULT_PAGE: u32 = 200;
const MAX_PAGE: u32 = 1000;

type Shared = Arc<HubState>;

pub fn router(state: Shared) -> Router {
    let authorised = Router::new()
        .route("/v1/requests", post(intake).get(changes))
        .route("/v1/requests/{id}", get(one_request))
        .route("/v1/requests/{id}/actions", post(act))
        .route("/v1/requests/{id}/claim", post(claim).delete(release))
        .route("/v1/claims", get(claims))
        .route("/v1/events", get(events))
        .route("/v1/advisories.atom", get(advisories_atom))
        .route("/v1/advisories/{file}", get(advisory_document))
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        .merge(
            Router::new()
                .route("/v1/advisories", post(publish_advisory))
                .layer(DefaultBodyLimit::max(MAX_CAP_BODY)),
        )
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            authorise,
        ));
    Router::new()
        .route("/v1/health", get(health))
        .merge(authorised)
        .with_state(state)
}

pub fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = WireError {
        error: WireErrorBody {
            code: code.into(),
            message: message.into(),
        },
        current: None,
    };
    (status, axum::Json(body)).into_response()
}

fn internal(e: HubError) -> Response {
    match e {
        HubError::Invalid(m) => error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", m),
        other => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            other.to_string(),
        ),
    }
}

/// Runs blocking store work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, HubError> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(internal(e)),
        Err(e) => Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            e.to_string(),
        )),
    }
}

/// Constant-time comparison, so a token cannot be guessed byte by byte from timings.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn authorise(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented {
        Some(token)
            if state
                .tokens
                .iter()
                .any(|t| same(t.as_bytes(), token.as_bytes())) =>
        {
            next.run(request).await
        }
        Some(_) => error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this workstation's token is not accepted by the hub",
        ),
        None => error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send `Authorization: Bearer <token>`",
        ),
    }
}

async fn health(State(state): State<Shared>) -> Response {
    axum::Json(serde_json::json!({"status": "ok", "instance": state.store.instance()}))
        .into_response()
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body)
        .map_err(|e| error(StatusCode::BAD_REQUEST, "invalid_json", e.to_string()))
}

async fn intake(State(state): State<Shared>, body: Bytes) -> Response {
    let intake: WireIntake = match parse_json(&body) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let store = Arc::clone(&state.store);
    let outcome = match blocking(move || store.intake(intake, Utc::now())).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    match outcome {
        Intake::Created(record) => {
            if let Ok(head) = state.store.head() {
                state.announce(head);
            }
            (StatusCode::CREATED, axum::Json(record)).into_response()
        }
        Intake::Existing(record) => (StatusCode::OK, axum::Json(record)).into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct ChangesQuery {
    after: Option<String>,
    limit: Option<u32>,
}

/// Parses a cursor of this hub's database; `Err` answers 410 for another database's cursor.
fn parse_cursor(state: &HubState, cursor: Option<&str>) -> Result<u64, Response> {
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

async fn changes(State(state): State<Shared>, Query(q): Query<ChangesQuery>) -> Response {
    let after = match parse_cursor(&state, q.after.as_deref()) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let store = Arc::clone(&state.store);
    let page = match blocking(move || store.changes_after(after, limit + 1)).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let has_more = page.len() > limit as usize;
    let page: Vec<_> = page.into_iter().take(limit as usize).collect();
    let last = page.last().map_or(after, |(seq, _)| *seq);
    let body = WirePage {
        requests: page
            .into_iter()
            .map(|(_, r)| serde_json::to_value(r).unwrap_or_default())
            .collect(),
        next_cursor: state.cursor(last),
        has_more,
    };
    axum::Json(body).into_response()
}

async fn one_request(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    let store = Arc::clone(&state.store);
    match blocking(move || store.get(&id)).await {
        Ok(Some(r)) => axum::Json(r).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "not_found", "no such request"),
        Err(r) => r,
    }
}

async fn act(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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
    if key.len() > 100 || lifeline_core::model::request::check_id("key", &key).is_err() {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            "the key must be 1 to 100 letters, digits, - _ . or :",
        );
    }
    let action: WireActionRequest = match parse_json(&body) {
        Ok(a) => a,
        Err(r) => return r,
    };
    if let Err(e) = action.action.validate() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_action",
            e.to_string(),
        );
    }
    let store = Arc::clone(&state.store);
    let answer = match blocking(move || store.act(&id, &key, &action, Utc::now())).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if answer.status == 200
        && !answer.replayed
        && let Ok(head) = state.store.head()
    {
        state.announce(head);
    }
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(answer.body)).into_response()
}

async fn claim(State(state): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    let req: WireClaimRequest = match parse_json(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if req.desk.is_empty() || req.desk.len() > 128 || req.officer.len() > 128 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_claim",
            "desk must be 1 to 128 characters, officer at most 128",
        );
    }
    let store = Arc::clone(&state.store);
    let exists = {
        let id = id.clone();
        blocking(move || store.get(&id)).await
    };
    match exists {
        Ok(Some(_)) => {}
        Ok(None) => return error(StatusCode::NOT_FOUND, "not_found", "no such request"),
        Err(r) => return r,
    }
    let ttl = req
        .ttl_seconds
        .map(|s| chrono::Duration::seconds(i64::from(s)));
    let claim = state
        .claims
        .claim(&id, &req.desk, &req.officer, ttl, Utc::now());
    state.claims_changed.send_modify(|v| *v += 1);
    axum::Json(claim).into_response()
}

#[derive(Debug, Deserialize)]
struct ReleaseQuery {
    desk: String,
}

async fn release(
    State(state): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<ReleaseQuery>,
) -> Response {
    if state.claims.release(&id, &q.desk) {
        state.claims_changed.send_modify(|v| *v += 1);
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn claims(State(state): State<Shared>) -> Response {
    axum::Json(state.claims.live(Utc::now())).into_response()
}

#[derive(Debug, Deserialize)]
struct EventsQuery {
    after: Option<String>,
}

/// What the SSE stream carries between polls of the store.
struct StreamState {
    state: Shared,
    cursor: u64,
    queue: VecDeque<Event>,
    head: tokio::sync::watch::Receiver<u64>,
    claims: tokio::sync::watch::Receiver<u64>,
    advisories: tokio::sync::watch::Receiver<u64>,
}

fn claims_event(state: &HubState) -> Event {
    Event::default()
        .event(sse::CLAIMS)
        .data(serde_json::to_string(&state.claims.live(Utc::now())).unwrap_or_default())
}

async fn events(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> Response {
    // Resume from Last-Event-ID (a reconnecting client) or ?after= (a first connection).
    let last_event = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let cursor = match parse_cursor(&state, last_event.as_deref().or(q.after.as_deref())) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut queue = VecDeque::new();
    queue.push_back(claims_event(&state));
    let stream_state = StreamState {
        head: state.head.subscribe(),
        claims: state.claims_changed.subscribe(),
        advisories: state.advisories_changed.subscribe(),
        state,
        cursor,
        queue,
    };
    Sse::new(change_stream(stream_state))
        .keep_alive(KeepAlive::new().interval(HEARTBEAT))
        .into_response()
}

/// Changes after the cursor as they exist and as they happen: each request change is one
/// `request` event whose id is the cursor after it, so `Last-Event-ID` resumes exactly.
fn change_stream(initial: StreamState) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(initial, |mut s| async move {
        loop {
            if let Some(event) = s.queue.pop_front() {
                return Some((Ok(event), s));
            }
            // Mark the head as seen *before* reading: a change committed while we read is
            // then either in this read or wakes the wait below, never lost in between.
            s.head.borrow_and_update();
            let store = Arc::clone(&s.state.store);
            let after = s.cursor;
            let changes = tokio::task::spawn_blocking(move || store.changes_after(after, 200))
                .await
                .ok()?
                .ok()?;
            if !changes.is_empty() {
                for (seq, record) in changes {
                    s.cursor = seq;
                    let data = serde_json::to_string(&record).unwrap_or_default();
                    s.queue.push_back(
                        Event::default()
                            .event(sse::REQUEST)
                            .id(s.state.cursor(seq))
                            .data(data),
                    );
                }
                continue;
            }
            // Caught up: wait for something new.
            tokio::select! {
                changed = s.head.changed() => { changed.ok()?; }
                changed = s.claims.changed() => {
                    changed.ok()?;
                    s.queue.push_back(claims_event(&s.state));
                }
                changed = s.advisories.changed() => {
                    changed.ok()?;
                    s.queue.push_back(Event::default().event(sse::ADVISORIES).data("{}"));
                }
            }
        }
    })
}

async fn publish_advisory(State(state): State<Shared>, body: Bytes) -> Response {
    use lifeline_feeds::{Format, detect, parse_document};
    let format = match detect::detect(&body) {
        Ok(f @ Format::Cap) => f,
        Ok(other) => {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "not_cap",
                format!("expected a CAP alert, got {}", other.name()),
            );
        }
        Err(e) => return error(StatusCode::BAD_REQUEST, "not_cap", e.to_string()),
    };
    let doc = match parse_document(format, &body, "publish") {
        Ok(d) => d,
        Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_cap", e.to_string()),
    };
    if let Some(rej) = doc.rejected.first() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_cap",
            rej.reason.clone(),
        );
    }
    let Some(a) = doc.advisories.first() else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_cap",
            "the document holds no alert",
        );
    };
    let title = a
        .info_for("en")
        .and_then(|i| i.headline.clone().or_else(|| Some(i.event.clone())))
        .unwrap_or_default();
    let (sender, identifier, sent) = (
        a.key.sender.clone(),
        a.key.identifier.clone(),
        a.sent_text.clone(),
    );
    let xml = String::from_utf8_lossy(&body).into_owned();
    let store = Arc::clone(&state.store);
    let published = blocking(move || {
        store.publish_advisory(
            NewAdvisory {
                sender: &sender,
                identifier: &identifier,
                sent: &sent,
                title: &title,
                xml: &xml,
            },
            Utc::now(),
        )
    })
    .await;
    match published {
        Ok((id, new)) => {
            if new {
                state.advisories_changed.send_modify(|v| *v += 1);
            }
            let status = if new {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (
                status,
                axum::Json(
                    serde_json::json!({"id": id, "href": format!("/v1/advisories/{id}.xml")}),
                ),
            )
                .into_response()
        }
        Err(r) => r,
    }
}

async fn advisories_atom(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let store = Arc::clone(&state.store);
    let entries = match blocking(move || store.advisories(200)).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let etag = format!(
        "\"{}-{}\"",
        state.store.instance(),
        entries.first().map_or(0, |e| e.id)
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let updated = entries
        .first()
        .map_or_else(|| chrono::DateTime::<Utc>::UNIX_EPOCH, |e| e.published_at);
    let body = crate::atom::render(state.store.instance(), &entries, updated);
    let last_modified = updated.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    (
        [
            (
                header::CONTENT_TYPE,
                "application/atom+xml; charset=utf-8".to_owned(),
            ),
            (header::ETAG, etag),
            (header::LAST_MODIFIED, last_modified),
        ],
        body,
    )
        .into_response()
}

async fn advisory_document(State(state): State<Shared>, Path(file): Path<String>) -> Response {
    let Some(id) = file
        .strip_suffix(".xml")
        .and_then(|i| i.parse::<i64>().ok())
    else {
        return error(StatusCode::NOT_FOUND, "not_found", "no such advisory");
    };
    let store = Arc::clone(&state.store);
    match blocking(move || store.advisory_xml(id)).await {
        Ok(Some(xml)) => (
            [(header::CONTENT_TYPE, "application/cap+xml; charset=utf-8")],
            xml,
        )
            .into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "not_found", "no such advisory"),
        Err(r) => r,
    }
}
