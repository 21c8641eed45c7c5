//! Who is calling, and what they may do. Every authenticated route receives the caller as a
//! [`Principal`], resolved from its bearer token once per request; handlers ask it for a
//! scope instead of trusting anything the body says about who is acting.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use crate::HubState;
use crate::api::error;
use crate::secrets::same_secret;
use crate::store::{
    Credential, CredentialKind, Officer, PostScope, ServiceScope, Session, TokenOwner,
};

#[derive(Debug, Clone)]
pub enum Principal {
    /// A person, signed in at one desk.
    Officer { officer: Officer, session: Session },
    /// An intake system: may only post requests.
    Channel(Credential),
    /// Automation, with the scopes it was given.
    Service(Credential),
    /// A development token (`--dev-token`): every post, and the actor the body names. Only
    /// for drills and local development; the hub says so loudly when it accepts them.
    Dev,
}

impl Principal {
    /// The posts whose requests it may read; `None`: no caseload at all.
    pub fn read_scope(&self) -> Option<PostScope> {
        match self {
            Principal::Officer { officer, .. } if officer.role.reads_caseload() => {
                Some(officer.posts.clone())
            }
            Principal::Dev => Some(PostScope::All),
            _ => None,
        }
    }

    /// The posts whose requests it may act on (triage, claims).
    pub fn act_scope(&self) -> Option<PostScope> {
        match self {
            Principal::Officer { officer, .. } if officer.role.acts() => {
                Some(officer.posts.clone())
            }
            Principal::Dev => Some(PostScope::All),
            _ => None,
        }
    }

    /// The posts it may move requests between.
    pub fn transfer_scope(&self) -> Option<PostScope> {
        match self {
            Principal::Officer { officer, .. } if officer.role.supervises() => {
                Some(officer.posts.clone())
            }
            Principal::Dev => Some(PostScope::All),
            _ => None,
        }
    }

    pub fn may(&self, scope: ServiceScope) -> bool {
        match self {
            Principal::Dev => true,
            Principal::Channel(c) | Principal::Service(c) => c.scopes.contains(&scope),
            Principal::Officer { officer, .. } => match scope {
                ServiceScope::Intake => false,
                ServiceScope::PublishAdvisories => officer.role.supervises(),
                ServiceScope::ReadAdvisories => officer.role.reads_caseload(),
                // Monitoring is a service account's, never a person's session.
                ServiceScope::ReadMetrics => false,
            },
        }
    }

    /// The name written into case events: `desk/officer`.
    pub fn actor(&self) -> String {
        match self {
            Principal::Officer { officer, session } => format!("{}/{}", session.desk, officer.id),
            Principal::Channel(c) => format!("intake ({})", c.name),
            Principal::Service(c) => format!("service ({})", c.name),
            Principal::Dev => "dev".into(),
        }
    }

    /// The desk a signed-in officer works at.
    pub fn desk(&self) -> Option<&str> {
        match self {
            Principal::Officer { session, .. } => Some(&session.desk),
            _ => None,
        }
    }

    /// The officer's id, when a person is calling.
    pub fn officer_id(&self) -> Option<&str> {
        match self {
            Principal::Officer { officer, .. } => Some(&officer.id),
            _ => None,
        }
    }

    /// How the audit trail names it.
    pub fn audit_name(&self) -> String {
        match self {
            Principal::Officer { officer, session } => {
                format!("officer:{}@{}#{}", officer.id, session.desk, session.id)
            }
            Principal::Channel(c) => format!("channel:{}", c.id),
            Principal::Service(c) => format!("service:{}", c.id),
            Principal::Dev => "dev-token".into(),
        }
    }

    /// What its rate limits and stream counts are kept under: one credential or session.
    pub fn limit_key(&self) -> String {
        match self {
            Principal::Officer { session, .. } => format!("s:{}", session.id),
            Principal::Channel(c) | Principal::Service(c) => format!("c:{}", c.id),
            Principal::Dev => "dev".into(),
        }
    }

    pub fn is_dev(&self) -> bool {
        matches!(self, Principal::Dev)
    }
}

fn unauthorized(message: &str) -> Response {
    let mut r = error(StatusCode::UNAUTHORIZED, "unauthorized", message);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    r
}

/// Resolves the bearer token into a [`Principal`] (a request extension) or answers 401.
pub async fn authenticate(
    State(state): State<Arc<HubState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let Some(token) = presented else {
        return unauthorized("send `Authorization: Bearer <token>` (sign in first)");
    };
    // Every development token is compared, whatever matched first: the time taken says
    // nothing about which, or how much of one, was right.
    let dev = state
        .dev_tokens
        .iter()
        .fold(false, |hit, t| same_secret(t, &token) | hit);
    let principal = if dev {
        Principal::Dev
    } else {
        let store = Arc::clone(&state.store);
        let owner =
            tokio::task::spawn_blocking(move || store.token_owner(&token, Utc::now())).await;
        match owner {
            Ok(Ok(Some(TokenOwner::Officer { officer, session }))) => {
                Principal::Officer { officer, session }
            }
            Ok(Ok(Some(TokenOwner::Credential(c)))) => match c.kind {
                CredentialKind::Channel => Principal::Channel(c),
                CredentialKind::Service => Principal::Service(c),
            },
            Ok(Ok(None)) => {
                return unauthorized(
                    "this token is not accepted: it expired, was revoked, or was never issued; refresh or sign in again",
                );
            }
            Ok(Err(e)) => return crate::api::internal(e),
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()),
        }
    };
    request.extensions_mut().insert(principal);
    next.run(request).await
}

/// 403 in the protocol's shape, naming what the caller may not do.
pub fn forbidden(what: &str) -> Response {
    error(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!("this credential may not {what}"),
    )
    .into_response()
}
