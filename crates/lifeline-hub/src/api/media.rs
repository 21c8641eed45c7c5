//! The files of citizens' messages: a channel uploads one (`POST /v1/media`) before naming it
//! in a message; an officer's desk fetches it by its content address
//! (`GET /v1/media/{sha256}`) when a thread that carries it is opened.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use lifeline_core::model::media::{MediaRefusal, check_sha256, sha256_hex, sniff};
use lifeline_core::protocol::WireStoredMedia;

use super::{Shared, audit, blocking, error};
use crate::auth::{Principal, forbidden};

/// `POST /v1/media`: the body is the file, `Content-Type` what the channel says it is. What
/// it is is read from the bytes; a file that is not a photo, voice message or video the
/// desk can show, that says it is something else, or that is over its cap is refused.
pub async fn upload(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let channel = match super::messages::carrying_channel(&state, &p).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let sniffed = match sniff(&body, declared.as_deref()) {
        Ok(s) => s,
        Err(refusal) => {
            let status = match refusal {
                MediaRefusal::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                MediaRefusal::Mismatch { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                MediaRefusal::Empty | MediaRefusal::Unsupported { .. } => {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE
                }
            };
            return error(status, refusal.code(), refusal.to_string());
        }
    };
    let sha256 = sha256_hex(&body);
    let stored = WireStoredMedia {
        sha256: sha256.clone(),
        media_type: sniffed.media_type.to_owned(),
        size_bytes: body.len() as u64,
    };
    let store = Arc::clone(&state.store);
    {
        let sha256 = sha256.clone();
        let channel = channel.clone();
        if let Err(r) = blocking(move || {
            store.put_media(&sha256, sniffed.media_type, &body, &channel, Utc::now())
        })
        .await
        {
            return r;
        }
    }
    let detail = format!("{} {} bytes", stored.media_type, stored.size_bytes);
    if let Err(resp) = audit(&state, &p, "media_in", Some(sha256), detail).await {
        return resp;
    }
    // Always 201: whether the hub held these bytes already is not the channel's to learn.
    (StatusCode::CREATED, axum::Json(stored)).into_response()
}

/// `GET /v1/media/{sha256}`: the file, for whoever may read a request whose thread carries
/// it (any other caller is answered as if it did not exist).
pub async fn fetch(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    Path(sha256): Path<String>,
) -> Response {
    let Some(scope) = p.read_scope() else {
        return forbidden("read citizens' files");
    };
    let missing = || error(StatusCode::NOT_FOUND, "not_found", "no such file");
    if check_sha256("sha256", &sha256).is_err() {
        return missing();
    }
    let store = Arc::clone(&state.store);
    let found = {
        let sha256 = sha256.clone();
        blocking(move || {
            let posts = store.media_posts(&sha256)?;
            if !posts.iter().any(|post| scope.admits(post.as_deref())) {
                return Ok(None);
            }
            store.media(&sha256)
        })
        .await
    };
    let (media_type, bytes) = match found {
        Ok(Some(f)) => f,
        Ok(None) => return missing(),
        Err(r) => return r,
    };
    let detail = format!("{media_type} {} bytes", bytes.len());
    if let Err(resp) = audit(&state, &p, "read_media", Some(sha256.clone()), detail).await {
        return resp;
    }
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    // Never shown by whatever opens the address directly: it is the desk's to show.
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("\"{sha256}\"")) {
        h.insert(header::ETAG, v);
    }
    resp
}
