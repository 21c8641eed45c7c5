//! Signing in, the officer and their posts, and the notices a desk gives the hub.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `POST /v1/auth/sign-in`: an officer signs in at a desk.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WireSignIn {
    pub officer: String,
    pub password: String,
    /// The desk's name; the refresh token works only with it.
    pub desk: String,
}

/// `POST /v1/auth/refresh`: new tokens for a signed-in desk.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WireRefresh {
    pub refresh_token: String,
    pub desk: String,
}

/// The officer a session belongs to, and what they may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireOfficer {
    pub id: String,
    pub display_name: String,
    /// `duty_officer`, `supervisor`, `regional_viewer` or `admin`.
    pub role: String,
    /// Post ids, or `["*"]` for every post.
    pub posts: Vec<String>,
}

/// The answer to a sign-in or refresh. The tokens are secrets: never logged, never printed
/// in a `Debug` form, never passed as a process argument.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WireSession {
    pub session_id: String,
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub officer: WireOfficer,
}

/// A post (embassy or consulate) and the places it answers for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WirePost {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub countries: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subregions: Vec<String>,
}

/// `POST /v1/audit/exports`: a desk or the command line is about to export requests with
/// personal data. The hub answers 200 only to a role allowed to, and records it first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireExportNotice {
    /// What is exported, for the audit trail: format, filters, destination.
    pub what: String,
}

/// `POST /v1/requests/{id}/transfer`: a supervisor moves a request to another post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireTransfer {
    pub post: String,
}

macro_rules! hide_secrets_in_debug {
    ($t:ident { $($shown:ident),* ; $($hidden:ident),* }) => {
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($t))
                    $(.field(stringify!($shown), &self.$shown))*
                    $(.field(stringify!($hidden), &"<hidden>"))*
                    .finish()
            }
        }
    };
}
hide_secrets_in_debug!(WireSignIn { officer, desk ; password });
hide_secrets_in_debug!(WireRefresh { desk ; refresh_token });
hide_secrets_in_debug!(WireSession { session_id, access_expires_at, refresh_expires_at, officer ; access_token, refresh_token });
