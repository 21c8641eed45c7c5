//! [`Requests`] on PostgreSQL: intake, the change feed, actions, moves, advisories, erasure
//! and the thread with the citizen.

use chrono::{DateTime, Utc};
use lifeline_core::model::{CaseEvent, CaseEventKind, Origin};
use lifeline_core::protocol::{
    WireInboundMessage, WireIntake, WireMessage, WireReceipt, WireRequest,
};

use super::audit::append_in;
use super::records::{
    Save, append_events, decide, event_count, load, load_many, next_seq, post_exists, route, save,
};
use super::{ADVISORIES_CHANNEL, PostgresHubStore, messages};
use crate::store::rules::{from_intake, post_of, stored_outcome};
use crate::store::{
    ActionAnswer, ActionCall, ActionOutcome, AuditEntry, Change, HubError, Intake, MessageIn,
    NewAdvisory, PostScope, Published, ReceiptOutcome, RelayedAdvisory, Requests, Transfer,
    TransferCall,
};

impl Requests for PostgresHubStore {
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
            lifeline_core::model::request::check_id("id", id)
                .map_err(|e| HubError::Invalid(e.to_string()))?;
            if id.len() > 100 {
                return Err(HubError::Invalid("id: at most 100 characters".into()));
            }
        }
        // Routing reads the posts only: done before the write lock, which it would otherwise
        // hold for three more statements (a post added meanwhile changes nothing of this).
        let country = intake.location.as_ref().and_then(|l| l.country.clone());
        let post =
            self.with_read(async |tx| route(tx, intake.post.as_deref(), country.as_deref()).await)?;
        self.with_tx(async |tx| {
            if let Some(id) = &intake.id
                && let Some(existing) = load(tx, id).await?
            {
                return Ok(Intake::Existing(existing));
            }
            let seq = next_seq(tx).await?;
            let id = match intake.id.clone() {
                Some(id) => id,
                None => {
                    let base = format!("R-{}-{seq:06}", now.format("%Y%m%d"));
                    let mut id = base.clone();
                    let mut n = 1;
                    while load(tx, &id).await?.is_some() {
                        id = format!("{base}-{n}");
                        n += 1;
                    }
                    id
                }
            };
            let mut request = from_intake(intake, id.clone(), now).map_err(HubError::Invalid)?;
            request.post = post;
            save(tx, &request, seq, Save::New { intake_by: actor }).await?;
            let created = CaseEvent {
                id: format!("{id}.created"),
                request_id: id.clone(),
                kind: CaseEventKind::Created,
                actor: Some(format!("intake ({})", request.channel)),
                at: now,
                origin: Origin::Sync,
            };
            append_events(tx, std::slice::from_ref(&created)).await?;
            append_in(
                tx,
                AuditEntry {
                    actor,
                    action: "intake",
                    target: Some(&id),
                    detail: request.post.as_deref().unwrap_or(""),
                },
                now,
            )
            .await?;
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
        let (after, limit) = (after as i64, i64::from(limit));
        // (seq, id, kind) as on the SQLite file: 0 a change, 1 a departure from the
        // caller's posts, 2 an erasure (to every caller), 3 a message. One snapshot for the
        // numbers and the records, so a page is what the database held at one moment.
        self.with_read(async |tx| {
            let rows = match scope {
                PostScope::All => {
                    // Each part limited on its own: the planner then walks each index from
                    // the cursor instead of sorting everything after it.
                    tx.query(
                        "SELECT * FROM ( \
                           (SELECT change_seq, id, 0::INT4 FROM requests WHERE change_seq > $1 ORDER BY change_seq LIMIT $2) \
                           UNION ALL (SELECT change_seq, request_id, 2 FROM erasures WHERE change_seq > $1 ORDER BY change_seq LIMIT $2) \
                           UNION ALL (SELECT change_seq, id, 3 FROM messages WHERE change_seq > $1 ORDER BY change_seq LIMIT $2) \
                         ) AS page ORDER BY 1 LIMIT $2",
                        &[&after, &limit],
                    )
                    .await?
                }
                PostScope::Posts(posts) => {
                    tx.query(
                        "SELECT * FROM ( \
                           (SELECT change_seq, id, 0::INT4 FROM requests \
                             WHERE change_seq > $1 AND post = ANY($3) ORDER BY change_seq LIMIT $2) \
                           UNION ALL \
                           (SELECT d.change_seq, d.request_id, 1 FROM post_departures d JOIN requests r ON r.id = d.request_id \
                             WHERE d.change_seq > $1 AND d.post = ANY($3) \
                               AND (r.post IS NULL OR NOT (r.post = ANY($3))) ORDER BY d.change_seq LIMIT $2) \
                           UNION ALL (SELECT change_seq, request_id, 2 FROM erasures WHERE change_seq > $1 ORDER BY change_seq LIMIT $2) \
                           UNION ALL \
                           (SELECT m.change_seq, m.id, 3 FROM messages m JOIN requests r ON r.id = m.request_id \
                             WHERE m.change_seq > $1 AND r.post = ANY($3) ORDER BY m.change_seq LIMIT $2) \
                         ) AS page ORDER BY 1 LIMIT $2",
                        &[&after, &limit, posts],
                    )
                    .await?
                }
            };
            let mut entries = Vec::with_capacity(rows.len());
            for row in rows {
                let seq: i64 = row.try_get(0)?;
                let id: String = row.try_get(1)?;
                let kind: i32 = row.try_get(2)?;
                entries.push((seq as u64, id, kind));
            }
            let request_ids: Vec<String> = entries
                .iter()
                .filter(|(_, _, kind)| *kind == 0)
                .map(|(_, id, _)| id.clone())
                .collect();
            let message_ids: Vec<String> = entries
                .iter()
                .filter(|(_, _, kind)| *kind == 3)
                .map(|(_, id, _)| id.clone())
                .collect();
            let mut records = load_many(tx, &request_ids).await?;
            let mut threads = messages::load_many(tx, &message_ids).await?;
            let mut out = Vec::with_capacity(entries.len());
            for (seq, id, kind) in entries {
                match kind {
                    1 => out.push(Change::Removed { seq, id }),
                    2 => out.push(Change::Erased { seq, id }),
                    3 => {
                        if let Some(message) = threads.remove(&id) {
                            out.push(Change::Message {
                                seq,
                                message: Box::new(message),
                            });
                        }
                    }
                    _ => {
                        if let Some(record) = records.remove(&id) {
                            out.push(Change::Upsert {
                                seq,
                                record: Box::new(record),
                            });
                        }
                    }
                }
            }
            Ok(out)
        })
    }

    fn head(&self) -> Result<u64, HubError> {
        // Asked after every write and every wake-up: one round trip, no transaction.
        let client = self.client()?;
        let row = futures_executor::block_on(client.query_typed("SELECT head FROM feed", &[]))?;
        let head: i64 = row
            .first()
            .ok_or_else(|| HubError::Corrupt("the change feed has no head".into()))?
            .try_get(0)?;
        Ok(head as u64)
    }

    fn pool_status(&self) -> Option<(usize, usize, usize)> {
        Some(self.pool_status())
    }

    fn get(&self, id: &str) -> Result<Option<WireRequest>, HubError> {
        self.with_read(async |tx| load(tx, id).await)
    }

    fn act(&self, call: ActionCall<'_>, now: DateTime<Utc>) -> Result<ActionAnswer, HubError> {
        self.with_tx(async |tx| {
            let current = load(tx, call.request_id)
                .await?
                .filter(|r| call.scope.admits(post_of(r)));
            let stored = tx
                .query_opt(
                    "SELECT request_id, outcome FROM idempotency WHERE key = $1",
                    &[&call.key],
                )
                .await?;
            if let Some(row) = stored {
                let request_id: String = row.try_get(0)?;
                if request_id != call.request_id {
                    return Ok(ActionAnswer {
                        outcome: ActionOutcome::KeyReused { request_id },
                        replayed: false,
                    });
                }
                let outcome = if current.is_none() {
                    ActionOutcome::NotFound
                } else {
                    stored_outcome(Some(row.try_get(1)?), 0, "")?
                };
                return Ok(ActionAnswer {
                    outcome,
                    replayed: true,
                });
            }
            let Some(current) = current else {
                return Ok(ActionAnswer {
                    outcome: ActionOutcome::NotFound,
                    replayed: false,
                });
            };
            let outcome = decide(tx, current, call, self.case_event_cap, now).await?;
            if matches!(outcome, ActionOutcome::Applied { .. }) {
                append_in(
                    tx,
                    AuditEntry {
                        actor: call.audit_actor,
                        action: "act",
                        target: Some(call.request_id),
                        detail: call.action.name(),
                    },
                    now,
                )
                .await?;
            }
            let json =
                serde_json::to_string(&outcome).map_err(|e| HubError::Corrupt(e.to_string()))?;
            tx.execute(
                "INSERT INTO idempotency (key, request_id, outcome, at) VALUES ($1, $2, $3, $4)",
                &[&call.key, &call.request_id, &json, &now.timestamp_millis()],
            )
            .await?;
            Ok(ActionAnswer {
                outcome,
                replayed: false,
            })
        })
    }

    fn transfer(&self, call: TransferCall<'_>, now: DateTime<Utc>) -> Result<Transfer, HubError> {
        let (id, to_post, scope) = (call.request_id, call.to_post, call.scope);
        self.with_tx(async |tx| {
            let Some(current) = load(tx, id).await?.filter(|r| scope.admits(post_of(r))) else {
                return Ok(Transfer::NotFound);
            };
            if !scope.admits(Some(to_post)) || !post_exists(tx, to_post).await? {
                return Ok(Transfer::UnknownPost);
            }
            if current.post.as_deref() == Some(to_post) {
                return Ok(Transfer::Unchanged(current));
            }
            if event_count(tx, id).await? >= self.case_event_cap {
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
            let seq = next_seq(tx).await?;
            save(tx, &request, seq, Save::Change).await?;
            tx.execute(
                "INSERT INTO post_departures (change_seq, request_id, post) VALUES ($1, $2, $3)",
                &[&(seq as i64), &id, &from],
            )
            .await?;
            messages::restamp_thread(tx, id).await?;
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
            )
            .await?;
            append_in(
                tx,
                AuditEntry {
                    actor: call.audit_actor,
                    action: "transfer",
                    target: Some(id),
                    detail: &format!("to {to_post}"),
                },
                now,
            )
            .await?;
            let record = load(tx, id)
                .await?
                .ok_or_else(|| HubError::Corrupt("request vanished".into()))?;
            Ok(Transfer::Moved(record))
        })
    }

    fn publish_advisory(
        &self,
        a: NewAdvisory<'_>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Published, HubError> {
        self.with_tx(async |tx| {
            let existing = tx
                .query_opt(
                    "SELECT id, xml FROM advisories WHERE sender = $1 AND identifier = $2",
                    &[&a.sender, &a.identifier],
                )
                .await?;
            if let Some(row) = existing {
                let (id, xml): (i64, &str) = (row.try_get(0)?, row.try_get(1)?);
                return Ok(if xml == a.xml {
                    Published::Same(id)
                } else {
                    Published::Conflict(id)
                });
            }
            let id: i64 = tx
                .query_one(
                    "INSERT INTO advisories (sender, identifier, sent, title, xml, published_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    &[
                        &a.sender,
                        &a.identifier,
                        &a.sent,
                        &a.title,
                        &a.xml,
                        &now.timestamp_millis(),
                    ],
                )
                .await?
                .try_get(0)?;
            tx.execute(&format!("NOTIFY {ADVISORIES_CHANNEL}"), &[])
                .await?;
            append_in(
                tx,
                AuditEntry {
                    actor,
                    action: "publish_advisory",
                    target: Some(&id.to_string()),
                    detail: &format!("{},{}", a.sender, a.identifier),
                },
                now,
            )
            .await?;
            Ok(Published::New(id))
        })
    }

    fn advisories(&self, limit: u32) -> Result<Vec<RelayedAdvisory>, HubError> {
        self.with_read(async |tx| {
            let rows = tx
                .query(
                    "SELECT id, sender, identifier, sent, title, published_at FROM advisories ORDER BY id DESC LIMIT $1",
                    &[&i64::from(limit)],
                )
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(RelayedAdvisory {
                    id: r.try_get(0)?,
                    sender: r.try_get(1)?,
                    identifier: r.try_get(2)?,
                    sent: r.try_get(3)?,
                    title: r.try_get(4)?,
                    published_at: DateTime::from_timestamp_millis(r.try_get(5)?)
                        .unwrap_or_default(),
                });
            }
            Ok(out)
        })
    }

    fn advisory_xml(&self, id: i64) -> Result<Option<String>, HubError> {
        self.with_read(async |tx| {
            Ok(tx
                .query_opt("SELECT xml FROM advisories WHERE id = $1", &[&id])
                .await?
                .map(|r| r.try_get(0))
                .transpose()?)
        })
    }

    fn erase(
        &self,
        id: &str,
        actor: &str,
        reference: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<u64>, HubError> {
        // The bytes of deleted rows stay in the table's pages until VACUUM reuses them; the
        // database's own storage encryption and backups' retention are the operator's part
        // (docs/OPERATIONS.md).
        self.with_tx(async |tx| {
            let deleted = tx
                .execute("DELETE FROM requests WHERE id = $1", &[&id])
                .await?;
            if deleted == 0 {
                return Ok(None);
            }
            let seq = next_seq(tx).await?;
            messages::erase_thread_files(tx, id, now).await?;
            for sql in [
                "DELETE FROM events WHERE request_id = $1",
                "DELETE FROM idempotency WHERE request_id = $1",
                "DELETE FROM post_departures WHERE request_id = $1",
                "DELETE FROM messages WHERE request_id = $1",
                "DELETE FROM claims WHERE request_id = $1",
            ] {
                tx.execute(sql, &[&id]).await?;
            }
            tx.execute(
                "INSERT INTO erasures (change_seq, request_id, erased_at) VALUES ($1, $2, $3)",
                &[&(seq as i64), &id, &now.timestamp_millis()],
            )
            .await?;
            append_in(
                tx,
                AuditEntry {
                    actor,
                    action: "request_erased",
                    target: Some(id),
                    detail: reference,
                },
                now,
            )
            .await?;
            Ok(Some(seq))
        })
    }

    fn message_in(
        &self,
        request_id: &str,
        message: WireInboundMessage,
        channel: &str,
        now: DateTime<Utc>,
    ) -> Result<MessageIn, HubError> {
        self.with_tx(async |tx| messages::message_in(tx, request_id, message, channel, now).await)
    }

    fn put_media(
        &self,
        sha256: &str,
        media_type: &str,
        bytes: &[u8],
        uploaded_by: &str,
        now: DateTime<Utc>,
    ) -> Result<(), HubError> {
        self.with_tx(async |tx| {
            messages::put_media(tx, sha256, media_type, bytes, uploaded_by, now).await
        })
    }

    fn media(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>, HubError> {
        self.with_read(async |tx| {
            Ok(tx
                .query_opt(
                    "SELECT media_type, bytes FROM media WHERE sha256 = $1",
                    &[&sha256],
                )
                .await?
                .map(|r| Ok::<_, tokio_postgres::Error>((r.try_get(0)?, r.try_get(1)?)))
                .transpose()?)
        })
    }

    fn media_posts(&self, sha256: &str) -> Result<Vec<Option<String>>, HubError> {
        self.with_read(async |tx| {
            let rows = tx
                .query(
                    "SELECT DISTINCT r.post FROM messages m JOIN requests r ON r.id = m.request_id WHERE m.media_sha = $1",
                    &[&sha256],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?)
        })
    }

    fn thread(&self, request_id: &str) -> Result<Vec<WireMessage>, HubError> {
        self.with_read(async |tx| messages::thread(tx, request_id).await)
    }

    fn channel_outbox(&self, channel: &str, limit: u32) -> Result<Vec<WireMessage>, HubError> {
        self.with_read(async |tx| messages::outbox(tx, channel, limit).await)
    }

    fn receipt(
        &self,
        message_id: &str,
        channel: &str,
        receipt: &WireReceipt,
        now: DateTime<Utc>,
    ) -> Result<ReceiptOutcome, HubError> {
        self.with_tx(async |tx| messages::receipt(tx, message_id, channel, receipt, now).await)
    }
}
