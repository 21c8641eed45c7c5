//! Who may call the hub, as stored: posts, officers, sessions, channels, service accounts.
//! Secrets never appear here in the clear: a `Debug` print of any of these types names no
//! password and no token.

use chrono::{DateTime, Utc};

use super::{HubError, PostScope};
use crate::secrets::{self, TokenKind};

/// An embassy or consulate, and the places it answers for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// A short stable id (`th-bangkok`); requests carry it in `post`.
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// ISO 3166-1 alpha-2 codes of the countries it covers.
    pub countries: Vec<String>,
    /// ISO 3166-2 codes of sub-regions it covers (a consulate within a country); empty when
    /// it covers its countries whole.
    pub subregions: Vec<String>,
}

/// What an officer may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Read and act on the requests of their posts.
    DutyOfficer,
    /// Also move requests between their posts, publish and cancel advisories, and export
    /// personal data.
    Supervisor,
    /// Read-only over their posts (a regional desk).
    RegionalViewer,
    /// Accounts only; no caseload.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::DutyOfficer,
        Role::Supervisor,
        Role::RegionalViewer,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::DutyOfficer => "duty_officer",
            Role::Supervisor => "supervisor",
            Role::RegionalViewer => "regional_viewer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn reads_caseload(self) -> bool {
        !matches!(self, Role::Admin)
    }

    pub fn acts(self) -> bool {
        matches!(self, Role::DutyOfficer | Role::Supervisor)
    }

    pub fn supervises(self) -> bool {
        matches!(self, Role::Supervisor)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Officer {
    pub id: String,
    pub display_name: String,
    pub role: Role,
    pub posts: PostScope,
    pub disabled: bool,
    /// Signing in is refused until then (after repeated failures).
    pub locked_until: Option<DateTime<Utc>>,
}

/// An officer to create. The password is hashed (Argon2id) before it is stored.
#[derive(Clone, Copy)]
pub struct NewOfficer<'a> {
    pub id: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub posts: &'a PostScope,
    pub password: &'a str,
}

impl std::fmt::Debug for NewOfficer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewOfficer")
            .field("id", &self.id)
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field("posts", &self.posts)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// A signed-in desk: one officer at one desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub officer_id: String,
    pub desk: String,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub access_expires: DateTime<Utc>,
    pub refresh_expires: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Fresh tokens for a session. Shown to the desk once; only their hashes are kept.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionTokens {
    pub session_id: String,
    pub access_token: String,
    pub access_expires: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires: DateTime<Utc>,
}

impl std::fmt::Debug for SessionTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionTokens")
            .field("session_id", &self.session_id)
            .field("access_token", &"<hidden>")
            .field("access_expires", &self.access_expires)
            .field("refresh_token", &"<hidden>")
            .field("refresh_expires", &self.refresh_expires)
            .finish()
    }
}

/// The outcome of a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    Accepted {
        officer: Officer,
        tokens: SessionTokens,
    },
    /// Unknown officer or wrong password (the answer does not say which).
    Refused,
    /// Too many failures: signing in is refused until then, even with the right password.
    LockedOut { until: DateTime<Utc> },
    /// The account is disabled.
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// An intake system (hotline, chat gateway): may only post requests.
    Channel,
    /// Automation with the scopes it was given.
    Service,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Channel => "channel",
            CredentialKind::Service => "service",
        }
    }

    pub fn parse(s: &str) -> Option<CredentialKind> {
        match s {
            "channel" => Some(CredentialKind::Channel),
            "service" => Some(CredentialKind::Service),
            _ => None,
        }
    }

    /// The kind of secret such a credential holds.
    pub fn token_kind(self) -> TokenKind {
        match self {
            CredentialKind::Channel => TokenKind::Channel,
            CredentialKind::Service => TokenKind::Service,
        }
    }
}

/// What a service account may do. Channels always have exactly `Intake`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceScope {
    /// `POST /v1/requests`.
    Intake,
    /// `POST /v1/advisories`.
    PublishAdvisories,
    /// The advisory index and documents.
    ReadAdvisories,
    /// `GET /v1/metrics` (an operations team's monitoring).
    ReadMetrics,
}

impl ServiceScope {
    pub const ALL: [ServiceScope; 4] = [
        ServiceScope::Intake,
        ServiceScope::PublishAdvisories,
        ServiceScope::ReadAdvisories,
        ServiceScope::ReadMetrics,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceScope::Intake => "intake",
            ServiceScope::PublishAdvisories => "advisories:publish",
            ServiceScope::ReadAdvisories => "advisories:read",
            ServiceScope::ReadMetrics => "metrics:read",
        }
    }

    pub fn parse(s: &str) -> Option<ServiceScope> {
        ServiceScope::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub id: String,
    pub kind: CredentialKind,
    pub name: String,
    pub scopes: Vec<ServiceScope>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Who holds a bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOwner {
    Officer { officer: Officer, session: Session },
    Credential(Credential),
}

/// How long an access token works; desks refresh before it ends.
pub const ACCESS_TTL: chrono::Duration = chrono::Duration::minutes(15);
/// How long a refresh token works without use (each refresh renews it): a desk offline for
/// longer signs in again.
pub const REFRESH_TTL: chrono::Duration = chrono::Duration::days(14);
/// Failed sign-ins in a row before the account locks.
pub const MAX_FAILED_SIGNINS: i64 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT: chrono::Duration = chrono::Duration::minutes(15);

pub(super) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(super) fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A stored comma-separated list.
pub(super) fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(super) fn check_id(what: &str, id: &str) -> Result<(), HubError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(HubError::Invalid(format!(
            "{what} must be 1 to 64 letters, digits, - _ or ."
        )))
    }
}

/// New tokens for session `id`, with the hashes that are all the store keeps of them.
pub(super) fn new_tokens(
    id: &str,
    now: DateTime<Utc>,
) -> Result<(SessionTokens, String, String), HubError> {
    let tokens = SessionTokens {
        session_id: id.to_owned(),
        access_token: secrets::new_token(TokenKind::Access)?,
        access_expires: now + ACCESS_TTL,
        refresh_token: secrets::new_token(TokenKind::Refresh)?,
        refresh_expires: now + REFRESH_TTL,
    };
    let access = secrets::token_hash(&tokens.access_token);
    let refresh = secrets::token_hash(&tokens.refresh_token);
    Ok((tokens, access, refresh))
}

/// A new channel or service credential's id, scopes and secret, checked.
pub(super) fn new_credential(
    kind: CredentialKind,
    name: &str,
    scopes: &[ServiceScope],
) -> Result<(String, Vec<ServiceScope>, String), HubError> {
    if name.is_empty() || name.len() > 128 {
        return Err(HubError::Invalid(
            "a name must be 1 to 128 characters".into(),
        ));
    }
    let scopes: Vec<ServiceScope> = match kind {
        CredentialKind::Channel => vec![ServiceScope::Intake],
        CredentialKind::Service if scopes.is_empty() => {
            return Err(HubError::Invalid(
                "a service account needs at least one scope".into(),
            ));
        }
        CredentialKind::Service => scopes.to_vec(),
    };
    let id = secrets::new_id(match kind {
        CredentialKind::Channel => "c-",
        CredentialKind::Service => "svc-",
    })?;
    Ok((id, scopes, secrets::new_token(kind.token_kind())?))
}
