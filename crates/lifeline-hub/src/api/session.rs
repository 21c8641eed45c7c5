//! Signing in and out, refreshing tokens, who am I, and the list of posts.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use lifeline_core::protocol::{WireOfficer, WirePost, WireRefresh, WireSession, WireSignIn};

use super::{Shared, audit, blocking, error, parse_json, too_many};
use crate::auth::Principal;
use crate::serve::PeerAddr;
use crate::store::{Officer, Post, PostScope, SessionTokens, SignIn};

pub fn wire_officer(o: &Officer) -> WireOfficer {
    WireOfficer {
        id: o.id.clone(),
        display_name: o.display_name.clone(),
        role: o.role.as_str().into(),
        posts: match &o.posts {
            PostScope::All => vec!["*".into()],
            PostScope::Posts(p) => p.clone(),
        },
    }
}

fn wire_session(officer: &Officer, t: SessionTokens) -> WireSession {
    WireSession {
        session_id: t.session_id,
        access_token: t.access_token,
        access_expires_at: t.access_expires,
        refresh_token: t.refresh_token,
        refresh_expires_at: t.refresh_expires,
        officer: wire_officer(officer),
    }
}

pub fn wire_post(p: Post) -> WirePost {
    WirePost {
        id: p.id,
        name_zh: p.name_zh,
        name_en: p.name_en,
        countries: p.countries,
        subregions: p.subregions,
    }
}

pub async fn sign_in(
    State(state): State<Shared>,
    peer: Option<Extension<PeerAddr>>,
    body: Bytes,
) -> Response {
    let address = peer.map_or_else(|| "unknown".to_owned(), |p| p.0.0.ip().to_string());
    let per_minute = state.limits.sign_ins_per_minute;
    if let Err(wait) = super::take_token(
        &state,
        &format!("sign-in:{address}"),
        per_minute / 60.0,
        per_minute,
    )
    .await
    {
        return too_many(
            "too many sign-in attempts from this address; wait and try again",
            wait,
        );
    }
    let form: WireSignIn = match parse_json(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let store = Arc::clone(&state.store);
    let (officer, password, desk) = (form.officer.clone(), form.password, form.desk);
    // The store records every attempt in the audit trail, in the transaction deciding it.
    let outcome =
        match blocking(move || store.sign_in(&officer, &password, &desk, &address, Utc::now()))
            .await
        {
            Ok(o) => o,
            Err(r) => return r,
        };
    match outcome {
        SignIn::Accepted { officer, tokens } => {
            axum::Json(wire_session(&officer, tokens)).into_response()
        }
        SignIn::Refused => error(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "the officer id or the password is wrong",
        ),
        SignIn::LockedOut { until } => {
            let wait = (until - Utc::now()).to_std().unwrap_or_default();
            let mut r = too_many("", wait);
            *r.body_mut() = axum::body::Body::from(
                serde_json::json!({"error": {"code": "locked_out", "message": format!(
                    "too many failed sign-ins: this account is locked until {until}; an administrator can reset it sooner"
                )}})
                .to_string(),
            );
            r
        }
        SignIn::Disabled => error(
            StatusCode::FORBIDDEN,
            "account_disabled",
            "this account is disabled; ask an administrator",
        ),
    }
}

pub async fn refresh(State(state): State<Shared>, body: Bytes) -> Response {
    let form: WireRefresh = match parse_json(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let store = Arc::clone(&state.store);
    let refreshed = blocking(move || {
        let now = Utc::now();
        let Some(tokens) = store.refresh(&form.refresh_token, &form.desk, now)? else {
            return Ok(None);
        };
        let officer = store
            .sessions(None)?
            .into_iter()
            .find(|s| s.id == tokens.session_id)
            .and_then(|s| store.officer(&s.officer_id).transpose())
            .transpose()?;
        Ok(officer.map(|o| (o, tokens)))
    })
    .await;
    match refreshed {
        Ok(Some((officer, tokens))) => axum::Json(wire_session(&officer, tokens)).into_response(),
        Ok(None) => error(
            StatusCode::UNAUTHORIZED,
            "session_ended",
            "this session has ended (revoked, expired or used from another desk); sign in again",
        ),
        Err(r) => r,
    }
}

pub async fn sign_out(State(state): State<Shared>, Extension(p): Extension<Principal>) -> Response {
    let Principal::Officer { session, .. } = &p else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let store = Arc::clone(&state.store);
    let id = session.id.clone();
    if let Err(r) = blocking(move || store.revoke_session(&id, Utc::now())).await {
        return r;
    }
    if let Err(r) = audit(
        &state,
        &p,
        "sign_out",
        Some(session.id.clone()),
        String::new(),
    )
    .await
    {
        return r;
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Who the token belongs to, and what it may do.
pub async fn me(State(state): State<Shared>, Extension(p): Extension<Principal>) -> Response {
    let body = match &p {
        Principal::Officer { officer, session } => serde_json::json!({
            "kind": "officer",
            "officer": wire_officer(officer),
            "desk": session.desk,
            "session_id": session.id,
            "access_expires_at": session.access_expires,
        }),
        Principal::Channel(c) | Principal::Service(c) => serde_json::json!({
            "kind": c.kind.as_str(),
            "id": c.id,
            "name": c.name,
            "scopes": c.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        }),
        Principal::Dev => serde_json::json!({"kind": "dev"}),
    };
    let mut body = body;
    body["exercise"] = serde_json::Value::Bool(state.exercise);
    axum::Json(body).into_response()
}

pub async fn posts(State(state): State<Shared>, Extension(p): Extension<Principal>) -> Response {
    if matches!(p, Principal::Channel(_)) {
        return crate::auth::forbidden("list posts");
    }
    let store = Arc::clone(&state.store);
    match blocking(move || store.posts()).await {
        Ok(posts) => {
            axum::Json(posts.into_iter().map(wire_post).collect::<Vec<_>>()).into_response()
        }
        Err(r) => r,
    }
}
