//! How a desk proves to the hub who is working at it.
//!
//! An officer signs in with their password ([`sign_in`]) and gets a short-lived access
//! token and a refresh token bound to this desk. [`HubAuth::Session`] hands out the access
//! token and, shortly before it ends (or after the hub refused it), trades the refresh
//! token for new ones; each new session is handed to the desk's keeper (a
//! [`SessionKeeper`], when it has one) to keep the refresh token across restarts. When the
//! hub ends the session (revoked, expired, the officer disabled) every call answers
//! [`SessionError::Ended`]: the engine records it for the health bar and keeps working
//! offline, and edits wait in the outbox until someone signs in again.
//!
//! Tokens never appear in a `Debug` print or an error message.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use lifeline_core::protocol::{WireRefresh, WireSession, WireSignIn};

use crate::http::{Http, HttpError};

/// Refresh this long before the access token ends.
const REFRESH_MARGIN: Duration = Duration::seconds(60);

/// Called with every session the hub hands out (to keep the refresh token).
pub type SessionKeeper = Arc<dyn Fn(&WireSession) + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("the officer id or the password is wrong")]
    WrongCredentials,
    #[error("this account is locked after repeated failed sign-ins: {0}")]
    LockedOut(String),
    #[error("this account is disabled; ask the hub's administrator")]
    Disabled,
    #[error("the hub ended this desk's session ({0}); sign in again — edits wait in the outbox")]
    Ended(String),
    #[error("the hub's answer is not a session: {0}")]
    Answer(String),
}

impl SessionError {
    pub fn is_transient(&self) -> bool {
        matches!(self, SessionError::Http(e) if e.is_transient())
    }
}

/// Signs an officer in at `desk` on the hub at `hub` (its base URL).
pub async fn sign_in(
    http: &Http,
    hub: &str,
    officer: &str,
    password: &str,
    desk: &str,
) -> Result<WireSession, SessionError> {
    let url = format!("{}/v1/auth/sign-in", hub.trim_end_matches('/'));
    let form = WireSignIn {
        officer: officer.into(),
        password: password.into(),
        desk: desk.into(),
    };
    let (status, retry, body) = http.post_json(&url, None, &[], &form).await?;
    let message = || {
        serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    match status {
        200 => serde_json::from_slice(&body).map_err(|e| SessionError::Answer(e.to_string())),
        401 => Err(SessionError::WrongCredentials),
        403 => Err(SessionError::Disabled),
        429 if message().contains("locked") => Err(SessionError::LockedOut(message())),
        _ => Err(SessionError::Http(HttpError::Status {
            url,
            status,
            retry_after: retry,
            message: message(),
        })),
    }
}

/// The credential the engine sends.
#[derive(Clone)]
pub enum HubAuth {
    /// A fixed token: a development token, or a service account's secret.
    Token(String),
    /// A signed-in officer.
    Session(Arc<SessionAuth>),
}

impl std::fmt::Debug for HubAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HubAuth::Token(_) => f.write_str("HubAuth::Token(<hidden>)"),
            HubAuth::Session(s) => f
                .debug_tuple("HubAuth::Session")
                .field(&s.officer())
                .finish(),
        }
    }
}

struct Tokens {
    access: Option<(String, DateTime<Utc>)>,
    /// Empty until the first sign-in of a desk started with a password.
    refresh: String,
    /// Officer id and password for the first sign-in, dropped once it succeeds. A session
    /// the hub ends is never signed in again from here: a person must.
    first_sign_in: Option<(String, String)>,
    officer: Option<lifeline_core::protocol::WireOfficer>,
    ended: Option<String>,
}

/// A signed-in desk's tokens, refreshed as they run out.
pub struct SessionAuth {
    desk: String,
    tokens: Mutex<Tokens>,
    /// One refresh at a time (the stream, pull and outbox may all find the token stale).
    refreshing: tokio::sync::Mutex<()>,
    keeper: Option<SessionKeeper>,
}

impl SessionAuth {
    /// From a sign-in's answer.
    pub fn from_session(session: WireSession, desk: &str, keeper: Option<SessionKeeper>) -> Self {
        SessionAuth {
            desk: desk.into(),
            tokens: Mutex::new(Tokens {
                access: Some((session.access_token, session.access_expires_at)),
                refresh: session.refresh_token,
                first_sign_in: None,
                officer: Some(session.officer),
                ended: None,
            }),
            refreshing: tokio::sync::Mutex::new(()),
            keeper,
        }
    }

    /// From a refresh token kept from an earlier run (the access token is fetched first).
    pub fn from_refresh_token(refresh: String, desk: &str, keeper: Option<SessionKeeper>) -> Self {
        SessionAuth {
            desk: desk.into(),
            tokens: Mutex::new(Tokens {
                access: None,
                refresh,
                first_sign_in: None,
                officer: None,
                ended: None,
            }),
            refreshing: tokio::sync::Mutex::new(()),
            keeper,
        }
    }

    /// Signs in with this officer's password when first needed (the hub may be out of
    /// reach when the desk starts: the sign-in is retried like any other call).
    pub fn with_password(
        officer: &str,
        password: String,
        desk: &str,
        keeper: Option<SessionKeeper>,
    ) -> Self {
        SessionAuth {
            desk: desk.into(),
            tokens: Mutex::new(Tokens {
                access: None,
                refresh: String::new(),
                first_sign_in: Some((officer.into(), password)),
                officer: None,
                ended: None,
            }),
            refreshing: tokio::sync::Mutex::new(()),
            keeper,
        }
    }

    /// Who is signed in (known once the hub has answered once).
    pub fn officer(&self) -> Option<lifeline_core::protocol::WireOfficer> {
        self.tokens.lock().ok().and_then(|t| t.officer.clone())
    }

    /// Why the session ended, if it did.
    pub fn ended(&self) -> Option<String> {
        self.tokens.lock().ok().and_then(|t| t.ended.clone())
    }

    /// The hub refused the access token: the next call refreshes first.
    pub fn access_refused(&self) {
        if let Ok(mut t) = self.tokens.lock() {
            t.access = None;
        }
    }

    fn fresh_access(&self, now: DateTime<Utc>) -> Result<Option<String>, SessionError> {
        let t = self
            .tokens
            .lock()
            .map_err(|_| SessionError::Answer("poisoned".into()))?;
        if let Some(reason) = &t.ended {
            return Err(SessionError::Ended(reason.clone()));
        }
        Ok(t.access
            .as_ref()
            .filter(|(_, until)| *until - REFRESH_MARGIN > now)
            .map(|(token, _)| token.clone()))
    }

    /// Takes the tokens of a sign-in or refresh (the keeper gets the session first);
    /// returns the access token.
    fn adopt(&self, session: WireSession) -> String {
        if let Some(keep) = &self.keeper {
            keep(&session);
        }
        let token = session.access_token.clone();
        if let Ok(mut t) = self.tokens.lock() {
            t.access = Some((session.access_token, session.access_expires_at));
            t.refresh = session.refresh_token;
            t.officer = Some(session.officer);
            t.first_sign_in = None;
        }
        token
    }

    /// A current access token, refreshing it first when it is (nearly) out of time.
    pub async fn bearer(&self, http: &Http, hub: &str) -> Result<String, SessionError> {
        if let Some(token) = self.fresh_access(Utc::now())? {
            return Ok(token);
        }
        let _one = self.refreshing.lock().await;
        // Another task may have refreshed while this one waited.
        if let Some(token) = self.fresh_access(Utc::now())? {
            return Ok(token);
        }
        let (refresh, first) = self
            .tokens
            .lock()
            .map(|t| (t.refresh.clone(), t.first_sign_in.clone()))
            .map_err(|_| SessionError::Answer("poisoned".into()))?;
        if let (true, Some((officer, password))) = (refresh.is_empty(), first) {
            let session = match sign_in(http, hub, &officer, &password, &self.desk).await {
                Ok(s) => s,
                Err(e) => {
                    if !e.is_transient()
                        && let Ok(mut t) = self.tokens.lock()
                    {
                        t.ended = Some(e.to_string());
                        t.first_sign_in = None;
                    }
                    return Err(e);
                }
            };
            return Ok(self.adopt(session));
        }
        let url = format!("{}/v1/auth/refresh", hub.trim_end_matches('/'));
        let form = WireRefresh {
            refresh_token: refresh,
            desk: self.desk.clone(),
        };
        let (status, retry, body) = http.post_json(&url, None, &[], &form).await?;
        match status {
            200 => {
                let session: WireSession = serde_json::from_slice(&body)
                    .map_err(|e| SessionError::Answer(e.to_string()))?;
                Ok(self.adopt(session))
            }
            401 | 403 => {
                let reason = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| "signed out".into());
                if let Ok(mut t) = self.tokens.lock() {
                    t.ended = Some(reason.clone());
                    t.access = None;
                }
                Err(SessionError::Ended(reason))
            }
            _ => Err(SessionError::Http(HttpError::Status {
                url,
                status,
                retry_after: retry,
                message: String::from_utf8_lossy(&body).chars().take(200).collect(),
            })),
        }
    }
}

impl HubAuth {
    /// The bearer token to send now.
    pub async fn bearer(&self, http: &Http, hub: &str) -> Result<String, SessionError> {
        match self {
            HubAuth::Token(t) => Ok(t.clone()),
            HubAuth::Session(s) => s.bearer(http, hub).await,
        }
    }

    /// The hub answered 401 to the last token.
    pub fn refused(&self) {
        if let HubAuth::Session(s) = self {
            s.access_refused();
        }
    }
}
