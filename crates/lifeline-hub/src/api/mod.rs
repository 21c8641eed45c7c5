//! HTTP handlers. Thin: parse, authorise, call the store, answer. Every error answer has the
//! protocol's shape `{"error": {"code": …, "message": …}}` — also the framework's own (an
//! oversized body, a wrong method), which [`harden`] rewrites — and every answer carries
//! `X-Content-Type-Options: nosniff` and `Cache-Control: no-store`.
//!
//! One file per area: `session.rs` (sign-in, refresh, who am I, posts), `requests.rs`
//! (intake, the change feed, reads, actions, transfers), `messages.rs` (threads with
//! citizens), `media.rs` (their files), `claims.rs`, `events.rs` (the SSE
//! stream), `advisories.rs` (the relayed CAP feed).

// Helpers return the error answer itself (`Result<T, Response>`): it is what the handler
// sends, so boxing it would only add an allocation per error.
#![allow(clippy::result_large_err)]

mod advisories;
mod claims;
mod events;
mod exports;
mod maps;
mod media;
mod messages;
mod metrics;
mod requests;
mod session;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use lifeline_core::model::media::MAX_MEDIA_BYTES;
use lifeline_core::protocol::{WireError, WireErrorBody};

use crate::HubState;
use crate::auth::{Principal, authenticate};
use crate::store::{AuditEntry, HubError};

pub use events::HEARTBEAT;
pub use maps::HostedMaps;
pub use requests::{EXERCISE_PREFIX, MAX_KEY_LEN};

/// Largest JSON body accepted (an intake with a long description is ~20 KB).
const MAX_JSON_BODY: usize = 64 * 1024;
/// Largest CAP document accepted for relay.
const MAX_CAP_BODY: usize = 1024 * 1024;

type Shared = Arc<HubState>;

pub fn router(state: Shared) -> Router {
    let authorised = Router::new()
        .route("/v1/me", get(session::me))
        .route("/v1/posts", get(session::posts))
        .route("/v1/auth/sign-out", post(session::sign_out))
        .route("/v1/audit/exports", post(exports::record))
        .route(
            "/v1/requests",
            post(requests::intake).get(requests::changes),
        )
        .route("/v1/requests/{id}", get(requests::one))
        .route("/v1/requests/{id}/actions", post(requests::act))
        .route("/v1/requests/{id}/transfer", post(requests::transfer))
        .route(
            "/v1/requests/{id}/messages",
            get(messages::thread).post(messages::inbound),
        )
        .route("/v1/media/{sha256}", get(media::fetch))
        .route("/v1/maps", get(maps::list))
        .route("/v1/maps/{id}", get(maps::part))
        .route("/v1/channel/outbox", get(messages::outbox))
        .route("/v1/messages/{id}/receipt", post(messages::receipt))
        .route(
            "/v1/requests/{id}/claim",
            post(claims::claim).delete(claims::release),
        )
        .route("/v1/claims", get(claims::list))
        .route("/v1/events", get(events::events))
        .route("/v1/metrics", get(metrics::metrics))
        .route("/v1/advisories.atom", get(advisories::atom))
        .route("/v1/advisories/{file}", get(advisories::document))
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        .merge(
            Router::new()
                .route("/v1/advisories", post(advisories::publish))
                .layer(DefaultBodyLimit::max(MAX_CAP_BODY)),
        )
        .merge(
            Router::new()
                .route("/v1/media", post(media::upload))
                .layer(DefaultBodyLimit::max(MAX_MEDIA_BYTES as usize)),
        )
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            authenticate,
        ));
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/auth/sign-in", post(session::sign_in))
        .route("/v1/auth/refresh", post(session::refresh))
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        .merge(authorised)
        .fallback(not_found)
        .layer(middleware::from_fn(harden))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            metrics::count,
        ))
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

/// 429 with `Retry-After` (whole seconds, at least 1).
pub fn too_many(message: impl Into<String>, wait: Duration) -> Response {
    let mut r = error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// Takes one token from the caller's `kind` bucket (`rate` a second, `burst` above it), or
/// answers 429 with `message` and when to come back. Development tokens are not limited.
pub async fn limit(
    state: &Shared,
    p: &crate::auth::Principal,
    kind: &str,
    (rate, burst): (f64, f64),
    message: &str,
) -> Result<(), Response> {
    if p.is_dev() {
        return Ok(());
    }
    take_token(state, &format!("{kind}:{}", p.limit_key()), rate, burst)
        .await
        .map_err(|wait| too_many(message, wait))
}

/// Takes up to `wanted` tokens from bucket `key`, shared by every replica of the hub (off
/// the async threads: on PostgreSQL it is a database call). The limiter failing (its
/// database out of reach) lets the call through: a broken limiter must not lock everyone
/// out, and the call itself will meet the same database.
pub async fn take_tokens(
    state: &Shared,
    key: &str,
    rate: f64,
    burst: f64,
    wanted: u32,
) -> crate::limits::Granted {
    let open = crate::limits::Granted {
        granted: wanted,
        wait: None,
    };
    if wanted == 0 {
        return crate::limits::Granted {
            granted: 0,
            wait: None,
        };
    }
    let (store, key) = (Arc::clone(&state.store), key.to_owned());
    match tokio::task::spawn_blocking(move || store.take_tokens(&key, rate, burst, wanted)).await {
        Ok(Ok(granted)) => granted,
        Ok(Err(e)) => {
            tracing::warn!("rate limit not checked: {e}");
            open
        }
        Err(_) => open,
    }
}

/// One token from bucket `key`; `Err(wait)` when there is none yet.
pub async fn take_token(state: &Shared, key: &str, rate: f64, burst: f64) -> Result<(), Duration> {
    match take_tokens(state, key, rate, burst, 1).await.wait {
        None => Ok(()),
        Some(wait) => Err(wait),
    }
}

/// Tells this replica's event streams how far the feed is now (read off the async threads).
pub async fn announce_head(state: &Shared) {
    let store = Arc::clone(&state.store);
    if let Ok(Ok(head)) = tokio::task::spawn_blocking(move || store.head()).await {
        state.announce(head);
    }
}

pub fn internal(e: HubError) -> Response {
    match e {
        HubError::Invalid(m) => error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", m),
        HubError::Conflict(m) => error(StatusCode::CONFLICT, "conflict", m),
        HubError::NotFound(m) => error(StatusCode::NOT_FOUND, "not_found", m),
        // The database is out of reach (or the connection broke mid-call): a replica says
        // so, and desks try again (on this replica or another).
        HubError::Unavailable(m) => error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", m),
        HubError::Postgres(e) if e.as_db_error().is_none() || retryable(&e) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the hub's database is busy or out of reach; try again",
        ),
        other => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            other.to_string(),
        ),
    }
}

/// A database error that a retry may not meet: a lock or statement timeout, a deadlock, a
/// serialisation failure, a server shutting down.
fn retryable(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    e.code().is_some_and(|c| {
        [
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::LOCK_NOT_AVAILABLE,
            SqlState::QUERY_CANCELED,
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
        ]
        .contains(c)
    })
}

/// Runs blocking store work off the async threads.
pub async fn blocking<T: Send + 'static>(
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

/// Appends to the audit trail (off the async threads). A failure to record fails the
/// request: nothing the trail must show happens unrecorded.
pub async fn audit(
    state: &HubState,
    principal: &Principal,
    action: &'static str,
    target: Option<String>,
    detail: String,
) -> Result<(), Response> {
    let store = Arc::clone(&state.store);
    let actor = principal.audit_name();
    blocking(move || {
        store.audit(
            AuditEntry {
                actor: &actor,
                action,
                target: target.as_deref(),
                detail: &detail,
            },
            Utc::now(),
        )
    })
    .await
}

pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body)
        .map_err(|e| error(StatusCode::BAD_REQUEST, "invalid_json", e.to_string()))
}

async fn health(State(state): State<Shared>) -> Response {
    axum::Json(serde_json::json!({
        "status": "ok",
        "instance": state.store.instance(),
        "exercise": state.exercise,
    }))
    .into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

/// Every answer: `nosniff`, `no-store`, and errors in the protocol's JSON shape even when the
/// framework wrote them (413 for an oversized body, 405 for a wrong method, …).
async fn harden(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
        let allow = response.headers().get(header::ALLOW).cloned();
        let body = std::mem::take(response.body_mut());
        let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNPROCESSABLE_ENTITY => "invalid_request",
            s if s.is_server_error() => "internal",
            _ => "bad_request",
        };
        let message = match String::from_utf8_lossy(&text).trim() {
            "" => status.canonical_reason().unwrap_or("error").to_owned(),
            t => t.to_owned(),
        };
        response = error(status, code, message);
        if let Some(v) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if let Some(v) = allow {
            response.headers_mut().insert(header::ALLOW, v);
        }
    }
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}
