//! The hub's storage, behind a narrow interface.
//!
//! [`HubStore`] is all the HTTP layer needs: intake, the change feed, triage actions with
//! idempotency, relayed CAP documents. [`SqliteHubStore`] implements it on a local SQLite
//! file; a ministry-wide deployment implements the same trait on PostgreSQL. The rules that
//! make sync correct live here, not in the handlers:
//! * every change takes the next `change_seq` in the same transaction as the change;
//! * versions grow by exactly one per change;
//! * an action's first answer is stored under its idempotency key before it is returned.

use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use lifeline_core::model::{
    CaseEvent, CaseEventKind, HelpRequest, Origin, Priority, Status, TriageAction,
};
use lifeline_core::protocol::{
    WireActionRequest, WireError, WireErrorBody, WireEvent, WireIntake, WireRequest,
};
use lifeline_core::store::local_event_id;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("hub database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored record is unreadable: {0}")]
    Corrupt(String),
    #[error("a thread panicked while holding the hub database")]
    Poisoned,
    #[error("{0}")]
    Invalid(String),
}

/// The outcome of an intake.
#[derive(Debug, Clone, PartialEq)]
pub enum Intake {
    Created(WireRequest),
    /// A request with this id exists already: intake is idempotent.
    Existing(WireRequest),
}

/// The answer to a triage action: an HTTP status and its JSON body, exactly as first given.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionAnswer {
    pub status: u16,
    pub body: serde_json::Value,
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

pub trait HubStore: Send + Sync + 'static {
    /// A random id of this database, part of every cursor: a cursor from another database
    /// (a hub that was reset) is refused instead of silently skipping changes.
    fn instance(&self) -> &str;
    fn intake(&self, intake: WireIntake, now: DateTime<Utc>) -> Result<Intake, HubError>;
    /// Changes after `after`, oldest first: `(change_seq, record with its events)`.
    fn changes_after(&self, after: u64, limit: u32) -> Result<Vec<(u64, WireRequest)>, HubError>;
    /// The latest change_seq (0 when empty).
    fn head(&self) -> Result<u64, HubError>;
    fn get(&self, id: &str) -> Result<Option<WireRequest>, HubError>;
    fn act(
        &self,
        id: &str,
        key: &str,
        action: &WireActionRequest,
        now: DateTime<Utc>,
    ) -> Result<ActionAnswer, HubError>;
    /// Stores a CAP document; returns its id and whether it was new.
    fn publish_advisory(
        &self,
        a: NewAdvisory<'_>,
        now: DateTime<Utc>,
    ) -> Result<(i64, bool), HubError>;
    fn advisories(&self, limit: u32) -> Result<Vec<RelayedAdvisory>, HubError>;
    fn advisory_xml(&self, id: i64) -> Result<Option<String>, HubError>;
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

pub struct SqliteHubStore {
    conn: Mutex<Connection>,
    instance: String,
}

const MIGRATIONS: &[&str] = &[include_str!("../migrations/0001_hub.sql")];

fn error_body(
    code: &str,
    message: impl Into<String>,
    current: Option<WireRequest>,
) -> serde_json::Value {
    serde_json::to_value(WireError {
        error: WireErrorBody {
            code: code.into(),
            message: message.into(),
        },
        current,
    })
    .unwrap_or_default()
}

impl SqliteHubStore {
    pub fn open(path: &Path) -> Result<SqliteHubStore, HubError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                HubError::Invalid(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )?;
        let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
            tx.commit()?;
        }
        let instance = match conn
            .query_row("SELECT value FROM meta WHERE key = 'instance'", [], |r| {
                r.get::<_, String>(0)
            })
            .optional()?
        {
            Some(i) => i,
            None => {
                let i = new_instance_id();
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('instance', ?1)",
                    [&i],
                )?;
                i
            }
        };
        Ok(SqliteHubStore {
            conn: Mutex::new(conn),
            instance,
        })
    }

    fn with_tx<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, HubError>,
    ) -> Result<T, HubError> {
        let mut conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

/// 12 hex digits from the clock and the process id: unique enough to tell databases apart.
fn new_instance_id() -> String {
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64;
    format!(
        "{:012x}",
        (nanos ^ (u64::from(std::process::id()) << 40)) & 0xffff_ffff_ffff
    )
}

fn next_seq(tx: &Transaction<'_>) -> Result<u64, HubError> {
    Ok(tx.query_row(
        "SELECT coalesce(max(change_seq), 0) + 1 FROM requests",
        [],
        |r| r.get(0),
    )?)
}

fn load(conn: &Connection, id: &str) -> Result<Option<WireRequest>, HubError> {
    let record: Option<String> = conn
        .prepare_cached("SELECT record FROM requests WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    let Some(record) = record else {
        return Ok(None);
    };
    let mut wire: WireRequest = serde_json::from_str(&record)
        .map_err(|e| HubError::Corrupt(format!("request {id}: {e}")))?;
    let mut stmt =
        conn.prepare_cached("SELECT body FROM events WHERE request_id = ?1 ORDER BY seq")?;
    let bodies = stmt.query_map([id], |r| r.get::<_, String>(0))?;
    for body in bodies {
        wire.events.push(
            serde_json::from_str(&body?)
                .map_err(|e| HubError::Corrupt(format!("event of {id}: {e}")))?,
        );
    }
    Ok(Some(wire))
}

fn save(tx: &Transaction<'_>, r: &HelpRequest, seq: u64, insert: bool) -> Result<(), HubError> {
    let record = serde_json::to_string(&WireRequest::from_domain(r, &[]))
        .map_err(|e| HubError::Corrupt(e.to_string()))?;
    if insert {
        tx.prepare_cached("INSERT INTO requests (id, version, change_seq, record, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![r.id, r.version, seq, record, r.created_at.timestamp_millis()])?;
    } else {
        tx.prepare_cached(
            "UPDATE requests SET version = ?2, change_seq = ?3, record = ?4 WHERE id = ?1",
        )?
        .execute(params![r.id, r.version, seq, record])?;
    }
    Ok(())
}

fn append_events(tx: &Transaction<'_>, events: &[CaseEvent]) -> Result<(), HubError> {
    for e in events {
        let body = serde_json::to_string(&WireEvent {
            id: e.id.clone(),
            kind: e.kind.clone(),
            actor: e.actor.clone(),
            at: e.at,
        })
        .map_err(|err| HubError::Corrupt(err.to_string()))?;
        tx.prepare_cached("INSERT INTO events (event_id, request_id, body) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")?
            .execute(params![e.id, e.request_id, body])?;
    }
    Ok(())
}

/// Builds a new request from an intake, validated.
fn from_intake(intake: WireIntake, id: String, now: DateTime<Utc>) -> Result<HelpRequest, String> {
    let r = HelpRequest {
        id,
        channel: intake.channel,
        category: intake.category,
        emergency: intake.emergency,
        priority: intake.priority.unwrap_or(if intake.emergency {
            Priority::Critical
        } else {
            Priority::Normal
        }),
        status: Status::New,
        duplicate_of: None,
        citizen: lifeline_core::model::Citizen {
            name: intake.citizen.name,
            phone: intake.citizen.phone,
            id_document: intake.citizen.id_document,
            nationality: intake.citizen.nationality,
            language: intake.citizen.language,
        },
        people_count: intake.people_count,
        location: intake.location.map(|l| lifeline_core::model::Location {
            lat: l.lat,
            lon: l.lon,
            accuracy_m: l.accuracy_m,
            captured_at: l.captured_at,
            address: l.address,
            country: l.country,
        }),
        description: intake.description,
        attachments: intake
            .attachments
            .into_iter()
            .map(|a| lifeline_core::model::Attachment {
                name: a.name,
                media_type: a.media_type,
                size_bytes: a.size_bytes,
                url: a.url,
            })
            .collect(),
        assignee: None,
        post: intake.post,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    r.validate().map_err(|e| e.to_string())?;
    Ok(r)
}

impl HubStore for SqliteHubStore {
    fn instance(&self) -> &str {
        &self.instance
    }

    fn intake(&self, intake: WireIntake, now: DateTime<Utc>) -> Result<Intake, HubError> {
        if let Some(id) = &intake.id {
            // Event ids are derived from it (`<id>.created`): keep room for the suffix.
            lifeline_core::model::request::check_id("id", id)
                .map_err(|e| HubError::Invalid(e.to_string()))?;
            if id.len() > 100 {
                return Err(HubError::Invalid("id: at most 100 characters".into()));
            }
        }
        self.with_tx(|tx| {
            if let Some(id) = &intake.id
                && let Some(existing) = load(tx, id)?
            {
                return Ok(Intake::Existing(existing));
            }
            let seq = next_seq(tx)?;
            let id = match intake.id.clone() {
                Some(id) => id,
                None => {
                    // A readable id; in the rare case a client chose the same one, add a suffix.
                    let base = format!("R-{}-{seq:06}", now.format("%Y%m%d"));
                    let mut id = base.clone();
                    let mut n = 1;
                    while load(tx, &id)?.is_some() {
                        id = format!("{base}-{n}");
                        n += 1;
                    }
                    id
                }
            };
            let request = from_intake(intake, id.clone(), now).map_err(HubError::Invalid)?;
            save(tx, &request, seq, true)?;
            let created = CaseEvent {
                id: format!("{id}.created"),
                request_id: id.clone(),
                kind: CaseEventKind::Created,
                actor: Some(format!("intake ({})", request.channel)),
                at: now,
                origin: Origin::Sync,
            };
            append_events(tx, std::slice::from_ref(&created))?;
            Ok(Intake::Created(WireRequest::from_domain(
                &request,
                &[created],
            )))
        })
    }

    fn changes_after(&self, after: u64, limit: u32) -> Result<Vec<(u64, WireRequest)>, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        let ids: Vec<(u64, String)> = conn
            .prepare_cached("SELECT change_seq, id FROM requests WHERE change_seq > ?1 ORDER BY change_seq LIMIT ?2")?
            .query_map(params![after, limit], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for (seq, id) in ids {
            if let Some(r) = load(&conn, &id)? {
                out.push((seq, r));
            }
        }
        Ok(out)
    }

    fn head(&self) -> Result<u64, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        Ok(conn.query_row(
            "SELECT coalesce(max(change_seq), 0) FROM requests",
            [],
            |r| r.get(0),
        )?)
    }

    fn get(&self, id: &str) -> Result<Option<WireRequest>, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        load(&conn, id)
    }

    fn act(
        &self,
        id: &str,
        key: &str,
        req: &WireActionRequest,
        now: DateTime<Utc>,
    ) -> Result<ActionAnswer, HubError> {
        self.with_tx(|tx| {
            let stored: Option<(u16, String, String)> = tx
                .prepare_cached("SELECT status, response, request_id FROM idempotency WHERE key = ?1")?
                .query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            if let Some((_, _, other)) = stored.as_ref().filter(|(_, _, rid)| rid != id) {
                let message = format!(
                    "this idempotency key was already used for request {other}; use a fresh key per action"
                );
                return Ok(ActionAnswer {
                    status: 422,
                    body: error_body("key_reused", message, None),
                    replayed: false,
                });
            }
            if let Some((status, body, _)) = stored {
                let body = serde_json::from_str(&body).map_err(|e| HubError::Corrupt(e.to_string()))?;
                return Ok(ActionAnswer { status, body, replayed: true });
            }
            let Some(current) = load(tx, id)? else {
                // Not stored under the key: the request may arrive later, and a retry should see it.
                return Ok(ActionAnswer { status: 404, body: error_body("not_found", format!("no request {id}"), None), replayed: false });
            };
            let (answer_status, answer_body) = decide(tx, current, key, req, now)?;
            tx.prepare_cached("INSERT INTO idempotency (key, request_id, status, response, at) VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute(params![key, id, answer_status, answer_body.to_string(), now.timestamp_millis()])?;
            Ok(ActionAnswer { status: answer_status, body: answer_body, replayed: false })
        })
    }

    fn publish_advisory(
        &self,
        a: NewAdvisory<'_>,
        now: DateTime<Utc>,
    ) -> Result<(i64, bool), HubError> {
        self.with_tx(|tx| {
            let existing: Option<i64> = tx
                .prepare_cached("SELECT id FROM advisories WHERE sender = ?1 AND identifier = ?2")?
                .query_row(params![a.sender, a.identifier], |r| r.get(0))
                .optional()?;
            if let Some(id) = existing {
                return Ok((id, false));
            }
            tx.prepare_cached(
                "INSERT INTO advisories (sender, identifier, sent, title, xml, published_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![a.sender, a.identifier, a.sent, a.title, a.xml, now.timestamp_millis()])?;
            Ok((tx.last_insert_rowid(), true))
        })
    }

    fn advisories(&self, limit: u32) -> Result<Vec<RelayedAdvisory>, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, sender, identifier, sent, title, published_at FROM advisories ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok(RelayedAdvisory {
                id: r.get(0)?,
                sender: r.get(1)?,
                identifier: r.get(2)?,
                sent: r.get(3)?,
                title: r.get(4)?,
                published_at: DateTime::from_timestamp_millis(r.get(5)?).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn advisory_xml(&self, id: i64) -> Result<Option<String>, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        Ok(conn
            .prepare_cached("SELECT xml FROM advisories WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?)
    }
}

/// Decides an action against the current record: applied (200), version conflict (409) or
/// invalid (422). Applies it when it is to be applied.
fn decide(
    tx: &Transaction<'_>,
    current: WireRequest,
    key: &str,
    req: &WireActionRequest,
    now: DateTime<Utc>,
) -> Result<(u16, serde_json::Value), HubError> {
    if !req.action.is_commutative() && req.base_version != current.version {
        let message = format!(
            "the request changed since version {} (now {}); review it and act again",
            req.base_version, current.version
        );
        return Ok((409, error_body("version_conflict", message, Some(current))));
    }
    let (request, _) = current
        .clone()
        .into_domain(Origin::Sync)
        .map_err(|e| HubError::Corrupt(e.to_string()))?;
    if let TriageAction::MarkDuplicate { of } = &req.action
        && load(tx, of)?.is_none()
    {
        return Ok((
            422,
            error_body(
                "invalid_action",
                format!("no request {of} to be a duplicate of"),
                None,
            ),
        ));
    }
    let (mut next, kinds) = match req.action.apply(&request, now) {
        Ok(done) => done,
        Err(e) => return Ok((422, error_body("invalid_action", e.to_string(), None))),
    };
    if kinds.is_empty() {
        return Ok((200, serde_json::to_value(&current).unwrap_or_default()));
    }
    next.version = request.version + 1;
    next.updated_at = now;
    let seq = next_seq(tx)?;
    save(tx, &next, seq, false)?;
    let events: Vec<CaseEvent> = kinds
        .into_iter()
        .enumerate()
        .map(|(n, kind)| CaseEvent {
            id: local_event_id(key, n),
            request_id: next.id.clone(),
            kind,
            actor: Some(req.actor.clone()),
            at: now,
            origin: Origin::Sync,
        })
        .collect();
    append_events(tx, &events)?;
    let record = load(tx, &next.id)?.ok_or_else(|| HubError::Corrupt("request vanished".into()))?;
    Ok((200, serde_json::to_value(&record).unwrap_or_default()))
}
