//! The hub's storage contract, and its SQLite backend.
//!
//! [`HubStore`] is everything the HTTP layer needs, in five parts: [`Requests`] (intake, the
//! change feed, triage actions with idempotency, relayed CAP documents), [`Accounts`] (posts,
//! officers, sessions, intake channels and service accounts), [`AuditLog`] (the
//! hash-chained trail of who did what), [`SoftClaims`] and [`RateLimits`] (shared by every
//! replica of a hub on PostgreSQL). Every method answers with an outcome type of its
//! own, never an HTTP status: the handlers map outcomes to answers, so a second backend
//! implements the same contract. [`SqliteHubStore`] keeps all of it in one SQLite file,
//! [`PostgresHubStore`] in a PostgreSQL database that several hub replicas share; [`HubDb`]
//! picks one from `--db`.
//!
//! The rules that make sync correct live here, not in the handlers:
//! * every change takes the next `change_seq` in the same transaction as the change;
//! * versions grow by exactly one per change;
//! * an action's first answer is stored under its idempotency key before it is returned;
//! * a caller sees only the requests of the posts in its [`PostScope`], and a request that
//!   leaves a post becomes a [`Change::Removed`] in that post's feed.

pub mod accounts;
pub mod audit;
pub mod postgres;
mod rules;
mod sqlite;
mod sqlite_accounts;
mod sqlite_audit;
mod sqlite_media;
mod sqlite_messages;
mod sqlite_records;

use chrono::{DateTime, Utc};
use lifeline_core::model::TriageAction;
use lifeline_core::protocol::{
    WireInboundMessage, WireIntake, WireMessage, WireReceipt, WireRequest,
};
use serde::{Deserialize, Serialize};

pub use accounts::{
    Credential, CredentialKind, NewOfficer, Officer, Post, Role, ServiceScope, Session,
    SessionTokens, SignIn, TokenOwner,
};
pub use audit::{AuditEntry, AuditRecord, ChainCheck};
pub use postgres::{PostgresHubStore, PostgresTarget};
pub use sqlite::SqliteHubStore;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("hub database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("hub database error: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// The database cannot be reached (a replica answers 503 and desks try again).
    #[error("{0}")]
    Unavailable(String),
    #[error("stored record is unreadable: {0}")]
    Corrupt(String),
    #[error("a thread panicked while holding the hub database")]
    Poisoned,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
}

/// The most case events one request keeps. Past it, further actions are refused: a record
/// must always fit in one page a desk can read (a note is at most 16 KB, at most 32 KB once
/// escaped in JSON, so a full log is under 17 MB, half the desk's 32 MiB body cap).
pub const MAX_CASE_EVENTS: usize = 500;

#[cfg(test)]
mod cap_tests {
    use lifeline_core::model::request::MAX_TEXT_BYTES;

    #[test]
    fn a_full_case_log_of_the_longest_notes_fits_a_desks_page() {
        // Every event is at most a note of MAX_TEXT_BYTES, at most twice as long once escaped
        // in JSON (control characters other than tab and newlines are refused, so nothing
        // escapes to \uXXXX), plus its id, kind, actor and time; then the record itself.
        let worst = super::MAX_CASE_EVENTS * (2 * MAX_TEXT_BYTES + 1024) + 64 * 1024;
        let desk_cap = lifeline_core::protocol::DESK_MAX_BODY;
        assert!(
            worst < desk_cap,
            "a full record ({worst} bytes) must fit under the desk's body cap ({desk_cap})"
        );
    }
}

/// The outcome of an intake.
#[derive(Debug, Clone, PartialEq)]
pub enum Intake {
    Created(WireRequest),
    /// A request with this id exists already: intake is idempotent.
    Existing(WireRequest),
}

/// The posts whose requests a caller may see (or act on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostScope {
    /// Every post, and requests no post covers (a ministry's headquarters desk, drills).
    All,
    /// These posts only (post ids).
    Posts(Vec<String>),
}

impl PostScope {
    pub fn admits(&self, post: Option<&str>) -> bool {
        match (self, post) {
            (PostScope::All, _) => true,
            (PostScope::Posts(posts), Some(p)) => posts.iter().any(|x| x == p),
            (PostScope::Posts(_), None) => false,
        }
    }

    /// Parses the stored form: `*` for every post, else comma-separated post ids.
    pub fn parse(text: &str) -> PostScope {
        if text.trim() == "*" {
            return PostScope::All;
        }
        PostScope::Posts(
            text.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    pub fn to_text(&self) -> String {
        match self {
            PostScope::All => "*".into(),
            PostScope::Posts(p) => p.join(","),
        }
    }
}

/// One entry of a caller's change feed.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A request the caller may see was created or changed.
    Upsert { seq: u64, record: Box<WireRequest> },
    /// A request left the caller's posts (moved to another post): the desk drops it.
    Removed { seq: u64, id: String },
    /// A request was erased (right to erasure): every desk erases it.
    Erased { seq: u64, id: String },
    /// A message on the thread of a request the caller may see: new, or with a new
    /// delivery state.
    Message { seq: u64, message: Box<WireMessage> },
}

impl Change {
    pub fn seq(&self) -> u64 {
        match self {
            Change::Upsert { seq, .. }
            | Change::Removed { seq, .. }
            | Change::Erased { seq, .. }
            | Change::Message { seq, .. } => *seq,
        }
    }
}

/// A citizen's file as the hub keeps it, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMedia {
    pub sha256: String,
    /// What the bytes are.
    pub media_type: String,
    pub size_bytes: u64,
}

/// What became of a citizen's message handed over by a channel.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageIn {
    Stored(WireMessage),
    /// The channel posted this message before (its id): nothing changed.
    Existing(WireMessage),
    /// No such request, or not one this channel took in.
    NotFound,
    Invalid(String),
}

/// What became of a channel's delivery receipt.
#[derive(Debug, Clone, PartialEq)]
pub enum ReceiptOutcome {
    Updated(WireMessage),
    /// Already there or further (a late or repeated receipt): the message as it is.
    Unchanged(WireMessage),
    /// No such outbound message, or not one of this channel's.
    NotFound,
    Invalid(String),
}

/// A triage action as the hub applies it: who acts is the signed-in principal.
#[derive(Debug, Clone, Copy)]
pub struct ActionCall<'a> {
    pub request_id: &'a str,
    pub key: &'a str,
    pub action: &'a TriageAction,
    pub base_version: i64,
    /// Written into the case events: the principal's name, never the body's.
    pub actor: &'a str,
    /// How the audit trail names the caller (an applied action is recorded with it, in the
    /// same transaction).
    pub audit_actor: &'a str,
    /// The posts the actor may act on; a request outside them is answered as not found.
    pub scope: &'a PostScope,
}

/// What became of a triage action. Stored under its idempotency key exactly as first given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ActionOutcome {
    /// Applied (or a no-op on the record as it is): the request as it now is.
    Applied { record: WireRequest },
    /// The request changed since `base_version`: the current record, for the desk to rebase.
    Conflict { current: WireRequest },
    /// The action cannot apply to the request as it is.
    Invalid { message: String },
    /// The request's case log is at [`MAX_CASE_EVENTS`].
    CaseLogFull { message: String },
    /// No such request (or none the caller may see).
    NotFound,
    /// The key was used for another request.
    KeyReused { request_id: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActionAnswer {
    pub outcome: ActionOutcome,
    /// True when this answer was stored earlier under the same key (a replay).
    pub replayed: bool,
}

/// One CAP document the hub relays.
#[derive(Debug, Clone, PartialEq)]
pub struct RelayedAdvisory {
    pub id: i64,
    pub sender: String,
    pub identifier: String,
    pub sent: String,
    pub title: String,
    pub published_at: DateTime<Utc>,
}

/// A CAP document to relay, with the fields the Atom index needs.
#[derive(Debug, Clone, Copy)]
pub struct NewAdvisory<'a> {
    pub sender: &'a str,
    pub identifier: &'a str,
    pub sent: &'a str,
    pub title: &'a str,
    pub xml: &'a str,
}

/// A move of a request to another post, by a supervisor.
#[derive(Debug, Clone, Copy)]
pub struct TransferCall<'a> {
    pub request_id: &'a str,
    pub to_post: &'a str,
    /// Written into the case event.
    pub actor: &'a str,
    pub audit_actor: &'a str,
    /// The posts the caller supervises: the request's and the target must both be in it.
    pub scope: &'a PostScope,
}

/// The outcome of moving a request to another post.
#[derive(Debug, Clone, PartialEq)]
pub enum Transfer {
    Moved(WireRequest),
    /// It is at that post already.
    Unchanged(WireRequest),
    /// No such request, or not one the caller may move.
    NotFound,
    /// No such post, or not one the caller may move requests to.
    UnknownPost,
    /// The request's case log is full: the move could not be recorded.
    CaseLogFull(String),
}

/// The outcome of publishing a CAP document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Stored under this id.
    New(i64),
    /// The very same document was published before (a retry).
    Same(i64),
    /// Another document with the same sender and identifier exists: a CAP alert is never
    /// replaced under its key; an Update references it instead.
    Conflict(i64),
}

/// Help requests: intake, the change feed, actions, relayed advisories.
pub trait Requests: Send + Sync + 'static {
    /// A random id of this database, part of every cursor: a cursor from another database
    /// (a hub that was reset) is refused instead of silently skipping changes.
    fn instance(&self) -> &str;
    /// Stores a new request, routed to a post (the one it names, else by its country), and
    /// records it in the audit trail as done by `actor`, in the same transaction.
    fn intake(
        &self,
        intake: WireIntake,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Intake, HubError>;
    /// Changes after `after` that `scope` may see, oldest first.
    fn changes_after(
        &self,
        after: u64,
        limit: u32,
        scope: &PostScope,
    ) -> Result<Vec<Change>, HubError>;
    /// The latest change_seq (0 when empty).
    fn head(&self) -> Result<u64, HubError>;
    /// Connections to the database: open, idle, at most (`None`: one file, no pool).
    fn pool_status(&self) -> Option<(usize, usize, usize)> {
        None
    }
    /// One request, whoever may see it (the caller checks its post against the scope).
    fn get(&self, id: &str) -> Result<Option<WireRequest>, HubError>;
    fn act(&self, call: ActionCall<'_>, now: DateTime<Utc>) -> Result<ActionAnswer, HubError>;
    /// Moves a request to another post; both must be in `scope`. Audited with the move.
    fn transfer(&self, call: TransferCall<'_>, now: DateTime<Utc>) -> Result<Transfer, HubError>;
    /// Stores a CAP document (audited as published by `actor`).
    fn publish_advisory(
        &self,
        a: NewAdvisory<'_>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Published, HubError>;
    fn advisories(&self, limit: u32) -> Result<Vec<RelayedAdvisory>, HubError>;
    fn advisory_xml(&self, id: i64) -> Result<Option<String>, HubError>;
    /// Erases a request (right to erasure): its record, case events, stored answers and
    /// departures, with the bytes overwritten; the change feed gets an erasure at the next
    /// number; the audit trail records who erased it and `reference` (the erasure order's
    /// number, never personal data). Returns the change number, or `None` when no such
    /// request is stored.
    fn erase(
        &self,
        id: &str,
        actor: &str,
        reference: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<u64>, HubError>;
    /// A citizen's message on `request_id`, handed over by `channel` (its audit name), which
    /// must be the channel that took the request in. Idempotent by the channel's id.
    fn message_in(
        &self,
        request_id: &str,
        message: WireInboundMessage,
        channel: &str,
        now: DateTime<Utc>,
    ) -> Result<MessageIn, HubError>;
    /// Keeps a citizen's file under its content address (checked by the caller: type read
    /// from the bytes, within its cap), as uploaded by the channel `uploaded_by`.
    fn put_media(
        &self,
        sha256: &str,
        media_type: &str,
        bytes: &[u8],
        uploaded_by: &str,
        now: DateTime<Utc>,
    ) -> Result<(), HubError>;
    /// A stored file's type and bytes.
    fn media(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>, HubError>;
    /// The posts of the requests whose threads carry the file (who may read it).
    fn media_posts(&self, sha256: &str) -> Result<Vec<Option<String>>, HubError>;
    /// The thread of a request, oldest first (the caller checks the request's post).
    fn thread(&self, request_id: &str) -> Result<Vec<WireMessage>, HubError>;
    /// Officers' messages waiting for `channel` to carry them, oldest first.
    fn channel_outbox(&self, channel: &str, limit: u32) -> Result<Vec<WireMessage>, HubError>;
    /// `channel` reports how far one of its outbound messages got.
    fn receipt(
        &self,
        message_id: &str,
        channel: &str,
        receipt: &WireReceipt,
        now: DateTime<Utc>,
    ) -> Result<ReceiptOutcome, HubError>;
}

/// Who may call the hub: posts, officers and their sessions, channels, service accounts.
/// Secrets are stored only as hashes (Argon2id for passwords, SHA-256 for random tokens).
pub trait Accounts: Send + Sync + 'static {
    fn put_post(&self, post: &Post) -> Result<(), HubError>;
    fn posts(&self) -> Result<Vec<Post>, HubError>;
    fn add_officer(&self, officer: NewOfficer<'_>, now: DateTime<Utc>) -> Result<(), HubError>;
    fn officers(&self) -> Result<Vec<Officer>, HubError>;
    fn officer(&self, id: &str) -> Result<Option<Officer>, HubError>;
    fn set_officer_disabled(&self, id: &str, disabled: bool) -> Result<(), HubError>;
    fn set_password(&self, id: &str, password: &str) -> Result<(), HubError>;
    /// Checks a password and, when right and the officer may sign in, opens a session for
    /// `desk`. Failures count towards the lock-out.
    /// Every attempt is recorded in the audit trail (`from`: the client's address), in the
    /// transaction that decides it.
    fn sign_in(
        &self,
        officer_id: &str,
        password: &str,
        desk: &str,
        from: &str,
        now: DateTime<Utc>,
    ) -> Result<SignIn, HubError>;
    /// Trades a refresh token (bound to its desk) for new tokens; the old ones stop working.
    fn refresh(
        &self,
        refresh_token: &str,
        desk: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionTokens>, HubError>;
    /// Who holds this bearer token now (an unexpired access token of a live session, or a
    /// live channel or service credential).
    fn token_owner(&self, token: &str, now: DateTime<Utc>) -> Result<Option<TokenOwner>, HubError>;
    fn sessions(&self, officer_id: Option<&str>) -> Result<Vec<Session>, HubError>;
    fn revoke_session(&self, id: &str, now: DateTime<Utc>) -> Result<bool, HubError>;
    /// Whether a session may still be served: not revoked, not past its refresh time, its
    /// officer not disabled (open event streams check this as they go).
    fn session_live(&self, id: &str, now: DateTime<Utc>) -> Result<bool, HubError>;
    /// Creates a channel or service credential; returns its secret (shown once).
    fn add_credential(
        &self,
        kind: CredentialKind,
        name: &str,
        scopes: &[ServiceScope],
        now: DateTime<Utc>,
    ) -> Result<(Credential, String), HubError>;
    fn credentials(&self) -> Result<Vec<Credential>, HubError>;
    /// A new secret for the credential; the old one stops working at once.
    fn rotate_credential(&self, id: &str) -> Result<Option<String>, HubError>;
    fn revoke_credential(&self, id: &str, now: DateTime<Utc>) -> Result<bool, HubError>;
}

/// The hub's audit trail: append-only, each entry chained to the previous by hash.
pub trait AuditLog: Send + Sync + 'static {
    fn audit(&self, entry: AuditEntry<'_>, now: DateTime<Utc>) -> Result<(), HubError>;
    /// Entries with `at >= since`, oldest first.
    fn audit_since(&self, since: DateTime<Utc>) -> Result<Vec<AuditRecord>, HubError>;
    /// Recomputes the chain from its anchor; names the first entry that does not match.
    fn verify_audit(&self) -> Result<ChainCheck, HubError>;
    /// Drops the entries up to and including `through_seq` (the caller has archived them,
    /// `audit export`): the chain stays verifiable from the new anchor, the hash of the last
    /// entry dropped. Returns how many were dropped.
    fn rotate_audit(&self, through_seq: i64) -> Result<usize, HubError>;
}

/// Soft claims ("this officer at this desk is working on it"), shared by every replica of
/// the hub that serves the same store.
pub trait SoftClaims: Send + Sync + 'static {
    /// Claims (or renews) `request_id` for `desk`, owned by `session`.
    fn claim(
        &self,
        request_id: &str,
        desk: &str,
        officer: &str,
        session: Option<&str>,
        ttl: Option<chrono::Duration>,
        now: DateTime<Utc>,
    ) -> Result<crate::claims::Claimed, HubError>;
    /// Releases the claim on `request_id` for `desk` when `session` owns it.
    fn release(
        &self,
        request_id: &str,
        desk: &str,
        session: Option<&str>,
    ) -> Result<bool, HubError>;
    /// The claims live at `now`, by request and desk.
    fn live_claims(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<lifeline_core::protocol::WireClaim>, HubError>;
}

/// Rate limits every replica shares: token buckets by key.
pub trait RateLimits: Send + Sync + 'static {
    /// Takes up to `wanted` tokens from bucket `key` (`rate` a second, up to `burst`).
    fn take_tokens(
        &self,
        key: &str,
        rate: f64,
        burst: f64,
        wanted: u32,
    ) -> Result<crate::limits::Granted, HubError>;
}

/// The whole contract.
pub trait HubStore: Requests + Accounts + AuditLog + SoftClaims + RateLimits {}
impl<T: Requests + Accounts + AuditLog + SoftClaims + RateLimits> HubStore for T {}

/// Where a hub keeps its store: a SQLite file (a post, a laptop, a drill) or a PostgreSQL
/// database (a ministry's hub, with several replicas on the same database).
#[derive(Debug, Clone)]
pub enum HubDb {
    Sqlite(std::path::PathBuf),
    Postgres(Box<PostgresTarget>),
}

impl HubDb {
    /// `--db`: a `postgres://` URL, else a SQLite file's path. The database password comes
    /// from [`postgres::PASSWORD_ENV`]; `ca` is `--db-ca`.
    pub fn from_arg(db: &str, ca: Option<&std::path::Path>) -> Result<HubDb, HubError> {
        if postgres::is_postgres_url(db) {
            let password = std::env::var(postgres::PASSWORD_ENV).ok();
            Ok(HubDb::Postgres(Box::new(PostgresTarget::parse(
                db,
                password.as_deref(),
                ca,
            )?)))
        } else {
            Ok(HubDb::Sqlite(db.into()))
        }
    }

    /// Opens (and migrates) the store.
    pub fn open(&self, case_event_cap: usize) -> Result<std::sync::Arc<dyn HubStore>, HubError> {
        Ok(match self {
            HubDb::Sqlite(path) => {
                std::sync::Arc::new(SqliteHubStore::open(path)?.with_case_event_cap(case_event_cap))
            }
            HubDb::Postgres(target) => std::sync::Arc::new(
                PostgresHubStore::open(target.as_ref().clone())?
                    .with_case_event_cap(case_event_cap),
            ),
        })
    }
}

impl std::fmt::Display for HubDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HubDb::Sqlite(path) => write!(f, "{}", path.display()),
            HubDb::Postgres(target) => write!(f, "postgres {target}"),
        }
    }
}
