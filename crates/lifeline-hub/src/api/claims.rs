//! Soft claims: "this officer at this desk is working on it". A claim is made and released
//! by the signed-in session; the list shows only claims on requests the caller may read.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use lifeline_core::protocol::{WireClaim, WireClaimRequest};
use serde::Deserialize;

use super::{HubState, Shared, blocking, error, parse_json};
use crate::auth::{Principal, forbidden};
use crate::claims::Claimed;
use crate::store::PostScope;

/// The live claims on requests `scope` may read.
pub async fn visible_claims(state: &HubState, scope: &PostScope) -> Vec<WireClaim> {
    let store = Arc::clone(&state.store);
    let scope = scope.clone();
    blocking(move || {
        let live = store.live_claims(Utc::now())?;
        if scope == PostScope::All {
            return Ok(live);
        }
        let mut out = Vec::new();
        for c in live {
            if store
                .get(&c.request_id)?
                .is_some_and(|r| scope.admits(r.post.as_deref()))
            {
                out.push(c);
            }
        }
        Ok(out)
    })
    .await
    .unwrap_or_default()
}

pub async fn claim(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(scope) = p.act_scope() else {
        return forbidden("claim requests");
    };
    if let Err(r) = super::requests::limit_actions(&state, &p).await {
        return r;
    }
    let req: WireClaimRequest = match parse_json(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    // A signed-in desk claims as itself; a body naming someone else is refused.
    let (desk, officer, session) = match &p {
        Principal::Officer { officer, session } => {
            let disagrees = (!req.desk.is_empty() && req.desk != session.desk)
                || (!req.officer.is_empty()
                    && req.officer != officer.id
                    && req.officer != officer.display_name);
            if disagrees {
                return error(
                    StatusCode::FORBIDDEN,
                    "actor_mismatch",
                    format!("this session is `{}` at `{}`", officer.id, session.desk),
                );
            }
            (
                session.desk.clone(),
                officer.display_name.clone(),
                Some(session.id.clone()),
            )
        }
        _ => (req.desk.clone(), req.officer.clone(), None),
    };
    if desk.is_empty() || desk.len() > 128 || officer.len() > 128 {
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
        Ok(Some(r)) if scope.admits(r.post.as_deref()) => {}
        Ok(_) => return error(StatusCode::NOT_FOUND, "not_found", "no such request"),
        Err(r) => return r,
    }
    let ttl = req
        .ttl_seconds
        .map(|s| chrono::Duration::seconds(i64::from(s)));
    let store = Arc::clone(&state.store);
    let claimed =
        blocking(move || store.claim(&id, &desk, &officer, session.as_deref(), ttl, Utc::now()))
            .await;
    match claimed {
        Err(r) => r,
        Ok(Claimed::Yes(claim)) => {
            state.claims_changed.send_modify(|v| *v += 1);
            axum::Json(claim).into_response()
        }
        Ok(Claimed::HeldByAnotherSession) => error(
            StatusCode::CONFLICT,
            "claimed_elsewhere",
            "another session holds this desk's claim on the request",
        ),
    }
}

#[derive(Debug, Deserialize)]
pub struct ReleaseQuery {
    #[serde(default)]
    desk: String,
}

pub async fn release(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Query(q): Query<ReleaseQuery>,
) -> Response {
    if p.act_scope().is_none() {
        return forbidden("release claims");
    }
    if let Err(r) = super::requests::limit_actions(&state, &p).await {
        return r;
    }
    let (desk, session) = match &p {
        Principal::Officer { session, .. } => (session.desk.clone(), Some(session.id.clone())),
        _ => (q.desk.clone(), None),
    };
    let store = Arc::clone(&state.store);
    match blocking(move || store.release(&id, &desk, session.as_deref())).await {
        Ok(true) => {
            state.claims_changed.send_modify(|v| *v += 1);
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(false) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => r,
    }
}

pub async fn list(State(state): State<Shared>, Extension(p): Extension<Principal>) -> Response {
    let Some(scope) = p.read_scope() else {
        return forbidden("read claims");
    };
    axum::Json(visible_claims(&state, &scope).await).into_response()
}
