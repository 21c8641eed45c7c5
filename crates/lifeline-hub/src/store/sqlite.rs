//! The hub's store on one SQLite file: requests, the change feed, actions, advisories.
//! Accounts and the audit trail are in `sqlite_accounts.rs` and `sqlite_audit.rs`, on the
//! same connection.

use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use lifeline_core::model::{CaseEvent, CaseEventKind, Origin};
use lifeline_core::protocol::{
    WireInboundMessage, WireIntake, WireMessage, WireReceipt, WireRequest,
};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::rules::{from_intake, post_of, stored_outcome};
use super::sqlite_audit::append_in;
use super::sqlite_records::{
    HEAD_SQL, append_events, decide, event_count, load, next_seq, post_exists, route, save,
};
use super::{
    ActionAnswer, ActionCall, ActionOutcome, AuditEntry, Change, HubError, Intake, MAX_CASE_EVENTS,
    MessageIn, NewAdvisory, PostScope, Published, ReceiptOutcome, RelayedAdvisory, Requests,
    Transfer, TransferCall,
};
use super::{sqlite_media, sqlite_messages};

pub struct SqliteHubStore {
    pub(super) conn: Mutex<Connection>,
    instance: String,
    /// The most case events a request keeps ([`MAX_CASE_EVENTS`] unless set lower).
    case_event_cap: usize,
    /// One process serves a SQLite file: its claims and rate limits live in its memory.
    claims: crate::claims::Claims,
    buckets: crate::limits::Buckets,
}

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_hub.sql"),
    include_str!("../../migrations/0002_trust.sql"),
    include_str!("../../migrations/0003_erasure.sql"),
    include_str!("../../migrations/0004_messages.sql"),
    include_str!("../../migrations/0005_media.sql"),
];

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
            // secure_delete: an erased request's bytes are overwritten, not left in free pages.
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;",
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
            case_event_cap: MAX_CASE_EVENTS,
            claims: crate::claims::Claims::default(),
            buckets: crate::limits::Buckets::default(),
        })
    }

    /// A lower cap on case events per request (tests, and hubs that want one).
    pub fn with_case_event_cap(mut self, cap: usize) -> SqliteHubStore {
        self.case_event_cap = cap.clamp(2, MAX_CASE_EVENTS);
        self
    }

    pub(super) fn with_tx<T>(
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
pub(super) fn new_instance_id() -> String {
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64;
    format!(
        "{:012x}",
        (nanos ^ (u64::from(std::process::id()) << 40)) & 0xffff_ffff_ffff
    )
}

impl Requests for SqliteHubStore {
    fn instance(&self) -> &str {
        &self.instance
    }

    fn intake(
        &self,
        intake: WireIntake,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Intake, HubError> {
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
            let country = intake.location.as_ref().and_then(|l| l.country.clone());
            let post = route(tx, intake.post.as_deref(), country.as_deref())?;
            let mut request = from_intake(intake, id.clone(), now).map_err(HubError::Invalid)?;
            request.post = post;
            save(tx, &request, seq, true)?;
            tx.prepare_cached("UPDATE requests SET intake_by = ?2 WHERE id = ?1")?
                .execute(params![id, actor])?;
            let created = CaseEvent {
                id: format!("{id}.created"),
                request_id: id.clone(),
                kind: CaseEventKind::Created,
                actor: Some(format!("intake ({})", request.channel)),
                at: now,
                origin: Origin::Sync,
            };
            append_events(tx, std::slice::from_ref(&created))?;
            append_in(
                tx,
                AuditEntry {
                    actor,
                    action: "intake",
                    target: Some(&id),
                    detail: request.post.as_deref().unwrap_or(""),
                },
                now,
            )?;
            Ok(Intake::Created(WireRequest::from_domain(
                &request,
                &[created],
            )))
        })
    }

    fn changes_after(
        &self,
        after: u64,
        limit: u32,
        scope: &PostScope,
    ) -> Result<Vec<Change>, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        // (seq, id, kind): 0 a change, 1 a departure from the caller's posts, 2 an erasure,
        // 3 a message (new, or a new delivery state).
        // Erasures go to every caller: an id says nothing about the citizen, and a desk that
        // once held the request (in whichever post) must erase it.
        let rows: Vec<(u64, String, u8)> = match scope {
            PostScope::All => conn
                .prepare_cached(
                    "SELECT change_seq, id, 0 FROM requests WHERE change_seq > ?1 \
                     UNION ALL SELECT change_seq, request_id, 2 FROM erasures WHERE change_seq > ?1 \
                     UNION ALL SELECT change_seq, id, 3 FROM messages WHERE change_seq > ?1 \
                     ORDER BY 1 LIMIT ?2",
                )?
                .query_map(params![after, limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?,
            PostScope::Posts(posts) => {
                let posts = serde_json::to_string(posts).map_err(|e| HubError::Corrupt(e.to_string()))?;
                // A departure counts only while the request is still outside the posts:
                // one that came back shows as its later change instead.
                conn.prepare_cached(
                    "SELECT change_seq, id, 0 FROM requests \
                       WHERE change_seq > ?1 AND post IN (SELECT value FROM json_each(?3)) \
                     UNION ALL \
                     SELECT d.change_seq, d.request_id, 1 FROM post_departures d JOIN requests r ON r.id = d.request_id \
                       WHERE d.change_seq > ?1 AND d.post IN (SELECT value FROM json_each(?3)) \
                         AND (r.post IS NULL OR r.post NOT IN (SELECT value FROM json_each(?3))) \
                     UNION ALL SELECT change_seq, request_id, 2 FROM erasures WHERE change_seq > ?1 \
                     UNION ALL \
                     SELECT m.change_seq, m.id, 3 FROM messages m JOIN requests r ON r.id = m.request_id \
                       WHERE m.change_seq > ?1 AND r.post IN (SELECT value FROM json_each(?3)) \
                     ORDER BY 1 LIMIT ?2",
                )?
                .query_map(params![after, limit, posts], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?
            }
        };
        let mut out = Vec::with_capacity(rows.len());
        for (seq, id, kind) in rows {
            if kind == 1 {
                out.push(Change::Removed { seq, id });
            } else if kind == 2 {
                out.push(Change::Erased { seq, id });
            } else if kind == 3 {
                if let Some(message) = super::sqlite_messages::load_message(&conn, &id)? {
                    out.push(Change::Message {
                        seq,
                        message: Box::new(message),
                    });
                }
            } else if let Some(record) = load(&conn, &id)? {
                out.push(Change::Upsert {
                    seq,
                    record: Box::new(record),
                });
            }
        }
        Ok(out)
    }

    fn head(&self) -> Result<u64, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        Ok(conn.query_row(HEAD_SQL, [], |r| r.get(0))?)
    }

    fn get(&self, id: &str) -> Result<Option<WireRequest>, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        load(&conn, id)
    }

    fn act(&self, call: ActionCall<'_>, now: DateTime<Utc>) -> Result<ActionAnswer, HubError> {
        self.with_tx(|tx| {
            let current = load(tx, call.request_id)?
                .filter(|r| call.scope.admits(post_of(r)));
            let stored: Option<(String, Option<String>, u16, String)> = tx
                .prepare_cached("SELECT request_id, outcome, status, response FROM idempotency WHERE key = ?1")?
                .query_row([call.key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .optional()?;
            if let Some((request_id, outcome, status, response)) = stored {
                if request_id != call.request_id {
                    return Ok(ActionAnswer { outcome: ActionOutcome::KeyReused { request_id }, replayed: false });
                }
                // A replay tells nothing to a caller who may no longer see the request.
                let outcome = if current.is_none() { ActionOutcome::NotFound } else { stored_outcome(outcome, status, &response)? };
                return Ok(ActionAnswer { outcome, replayed: true });
            }
            let Some(current) = current else {
                // Not stored under the key: the request may arrive later, and a retry should see it.
                return Ok(ActionAnswer { outcome: ActionOutcome::NotFound, replayed: false });
            };
            let outcome = decide(tx, current, call, self.case_event_cap, now)?;
            if matches!(outcome, ActionOutcome::Applied { .. }) {
                append_in(
                    tx,
                    AuditEntry { actor: call.audit_actor, action: "act", target: Some(call.request_id), detail: call.action.name() },
                    now,
                )?;
            }
            let json = serde_json::to_string(&outcome).map_err(|e| HubError::Corrupt(e.to_string()))?;
            tx.prepare_cached("INSERT INTO idempotency (key, request_id, status, response, at, outcome) VALUES (?1, ?2, 0, '', ?3, ?4)")?
                .execute(params![call.key, call.request_id, now.timestamp_millis(), json])?;
            Ok(ActionAnswer { outcome, replayed: false })
        })
    }

    fn transfer(&self, call: TransferCall<'_>, now: DateTime<Utc>) -> Result<Transfer, HubError> {
        let (id, to_post, scope) = (call.request_id, call.to_post, call.scope);
        self.with_tx(|tx| {
            let Some(current) = load(tx, id)?.filter(|r| scope.admits(post_of(r))) else {
                return Ok(Transfer::NotFound);
            };
            if !scope.admits(Some(to_post)) || !post_exists(tx, to_post)? {
                return Ok(Transfer::UnknownPost);
            }
            if current.post.as_deref() == Some(to_post) {
                return Ok(Transfer::Unchanged(current));
            }
            if event_count(tx, id)? >= self.case_event_cap {
                return Ok(Transfer::CaseLogFull(format!(
                    "the case log of {id} is full ({} entries): the move cannot be recorded",
                    self.case_event_cap
                )));
            }
            let (mut request, _) = current
                .into_domain(Origin::Sync)
                .map_err(|e| HubError::Corrupt(e.to_string()))?;
            let from = request.post.replace(to_post.to_owned());
            request.version += 1;
            request.updated_at = now;
            let seq = next_seq(tx)?;
            save(tx, &request, seq, false)?;
            tx.prepare_cached(
                "INSERT INTO post_departures (change_seq, request_id, post) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![seq, id, from])?;
            super::sqlite_messages::restamp_thread(tx, id)?;
            append_events(
                tx,
                &[CaseEvent {
                    id: format!("{id}.transfer.{seq}"),
                    request_id: id.to_owned(),
                    kind: CaseEventKind::Transferred {
                        from,
                        to: to_post.to_owned(),
                    },
                    actor: Some(call.actor.to_owned()),
                    at: now,
                    origin: Origin::Sync,
                }],
            )?;
            append_in(
                tx,
                AuditEntry {
                    actor: call.audit_actor,
                    action: "transfer",
                    target: Some(id),
                    detail: &format!("to {to_post}"),
                },
                now,
            )?;
            let record =
                load(tx, id)?.ok_or_else(|| HubError::Corrupt("request vanished".into()))?;
            Ok(Transfer::Moved(record))
        })
    }

    fn publish_advisory(
        &self,
        a: NewAdvisory<'_>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Published, HubError> {
        self.with_tx(|tx| {
            let existing: Option<(i64, String)> = tx
                .prepare_cached("SELECT id, xml FROM advisories WHERE sender = ?1 AND identifier = ?2")?
                .query_row(params![a.sender, a.identifier], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some((id, xml)) = existing {
                return Ok(if xml == a.xml { Published::Same(id) } else { Published::Conflict(id) });
            }
            tx.prepare_cached(
                "INSERT INTO advisories (sender, identifier, sent, title, xml, published_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![a.sender, a.identifier, a.sent, a.title, a.xml, now.timestamp_millis()])?;
            let id = tx.last_insert_rowid();
            append_in(
                tx,
                AuditEntry { actor, action: "publish_advisory", target: Some(&id.to_string()), detail: &format!("{},{}", a.sender, a.identifier) },
                now,
            )?;
            Ok(Published::New(id))
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

    fn erase(
        &self,
        id: &str,
        actor: &str,
        reference: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<u64>, HubError> {
        let seq = self.with_tx(|tx| {
            // Taken before anything is deleted: the request (or its thread) may hold the
            // newest number, which a desk's cursor may already have passed.
            let seq = next_seq(tx)?;
            let deleted = tx
                .prepare_cached("DELETE FROM requests WHERE id = ?1")?
                .execute([id])?;
            if deleted == 0 {
                return Ok(None);
            }
            sqlite_media::erase_thread_files(tx, id, now)?;
            for sql in [
                "DELETE FROM events WHERE request_id = ?1",
                "DELETE FROM idempotency WHERE request_id = ?1",
                "DELETE FROM post_departures WHERE request_id = ?1",
                "DELETE FROM messages WHERE request_id = ?1",
            ] {
                tx.prepare_cached(sql)?.execute([id])?;
            }
            tx.prepare_cached(
                "INSERT INTO erasures (change_seq, request_id, erased_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![seq, id, now.timestamp_millis()])?;
            append_in(
                tx,
                AuditEntry {
                    actor,
                    action: "request_erased",
                    target: Some(id),
                    detail: reference,
                },
                now,
            )?;
            Ok(Some(seq))
        })?;
        // secure_delete overwrote the pages in new WAL frames; the old frames still hold the
        // record until the WAL is copied back and emptied.
        if seq.is_some() {
            let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(seq)
    }

    fn message_in(
        &self,
        request_id: &str,
        message: WireInboundMessage,
        channel: &str,
        now: DateTime<Utc>,
    ) -> Result<MessageIn, HubError> {
        self.with_tx(|tx| sqlite_messages::message_in(tx, request_id, message, channel, now))
    }

    fn put_media(
        &self,
        sha256: &str,
        media_type: &str,
        bytes: &[u8],
        uploaded_by: &str,
        now: DateTime<Utc>,
    ) -> Result<(), HubError> {
        self.with_tx(|tx| sqlite_media::put(tx, sha256, media_type, bytes, uploaded_by, now))
    }

    fn media(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        sqlite_media::bytes(&conn, sha256)
    }

    fn media_posts(&self, sha256: &str) -> Result<Vec<Option<String>>, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        sqlite_media::posts_carrying(&conn, sha256)
    }

    fn thread(&self, request_id: &str) -> Result<Vec<WireMessage>, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        sqlite_messages::thread(&conn, request_id)
    }

    fn channel_outbox(&self, channel: &str, limit: u32) -> Result<Vec<WireMessage>, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        sqlite_messages::outbox(&conn, channel, limit)
    }

    fn receipt(
        &self,
        message_id: &str,
        channel: &str,
        receipt: &WireReceipt,
        now: DateTime<Utc>,
    ) -> Result<ReceiptOutcome, HubError> {
        self.with_tx(|tx| sqlite_messages::receipt(tx, message_id, channel, receipt, now))
    }

    fn advisory_xml(&self, id: i64) -> Result<Option<String>, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        Ok(conn
            .prepare_cached("SELECT xml FROM advisories WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?)
    }
}

impl super::SoftClaims for SqliteHubStore {
    fn claim(
        &self,
        request_id: &str,
        desk: &str,
        officer: &str,
        session: Option<&str>,
        ttl: Option<chrono::Duration>,
        now: DateTime<Utc>,
    ) -> Result<crate::claims::Claimed, HubError> {
        Ok(self
            .claims
            .claim(request_id, desk, officer, session, ttl, now))
    }

    fn release(
        &self,
        request_id: &str,
        desk: &str,
        session: Option<&str>,
    ) -> Result<bool, HubError> {
        Ok(self.claims.release(request_id, desk, session))
    }

    fn live_claims(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<lifeline_core::protocol::WireClaim>, HubError> {
        Ok(self.claims.live(now))
    }
}

impl super::RateLimits for SqliteHubStore {
    fn take_tokens(
        &self,
        key: &str,
        rate: f64,
        burst: f64,
        wanted: u32,
    ) -> Result<crate::limits::Granted, HubError> {
        Ok(self
            .buckets
            .take_up_to(key, rate, burst, wanted, std::time::Instant::now()))
    }
}
