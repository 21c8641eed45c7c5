//! The threads of messages with citizens, in the hub's SQLite file: an officer's message
//! (sent as a triage action), a citizen's message handed over by a channel, the channel's
//! outbox and its delivery receipts. Every new message and every change of its delivery
//! state takes the next change number, in the same transaction.

use chrono::{DateTime, Utc};
use lifeline_core::model::Direction;
use lifeline_core::protocol::{WireInboundMessage, WireMessage, WireReceipt, WireRequest};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::rules;
use super::sqlite_audit::append_in;
use super::sqlite_records::next_seq;
use super::{ActionCall, ActionOutcome, AuditEntry, HubError, MessageIn, ReceiptOutcome};

/// The most messages a channel takes from its outbox at once.
pub const MAX_OUTBOX_BATCH: u32 = 500;

/// A stored message's JSON, read back (named by its id when it is unreadable).
fn parse(id: &str, record: &str) -> Result<WireMessage, HubError> {
    serde_json::from_str(record).map_err(|e| HubError::Corrupt(format!("message {id}: {e}")))
}

/// Messages from a query selecting `id, record`.
fn query(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<WireMessage>, HubError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, record) = row?;
        out.push(parse(&id, &record)?);
    }
    Ok(out)
}

pub(super) fn load_message(conn: &Connection, id: &str) -> Result<Option<WireMessage>, HubError> {
    let record: Option<String> = conn
        .prepare_cached("SELECT record FROM messages WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    record.map(|r| parse(id, &r)).transpose()
}

/// Inserts or updates a message at the next change number.
fn store(tx: &Transaction<'_>, m: &WireMessage) -> Result<u64, HubError> {
    let record = serde_json::to_string(m).map_err(|e| HubError::Corrupt(e.to_string()))?;
    let seq = next_seq(tx)?;
    tx.prepare_cached(
        "INSERT INTO messages (id, request_id, direction, delivery, change_seq, record, created_at, media_sha) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (id) DO UPDATE SET delivery = excluded.delivery, change_seq = excluded.change_seq, record = excluded.record",
    )?
    .execute(params![
        m.id,
        m.request_id,
        m.direction.as_str(),
        m.delivery.as_str(),
        seq,
        record,
        m.created_at.timestamp_millis(),
        m.media.as_ref().map(|f| &f.sha256),
    ])?;
    Ok(seq)
}

/// An officer's message (a `send_message` action, already validated and in scope), stored
/// on the thread ([`rules::outbound_message`]). The request itself does not change.
pub(super) fn send(
    tx: &Transaction<'_>,
    current: WireRequest,
    call: ActionCall<'_>,
    now: DateTime<Utc>,
) -> Result<ActionOutcome, HubError> {
    match rules::outbound_message(&current, call, now) {
        Ok(message) => {
            store(tx, &message)?;
            Ok(ActionOutcome::Applied { record: current })
        }
        Err(message) => Ok(ActionOutcome::Invalid { message }),
    }
}

/// Who took `request_id` in (`None`: no such request).
fn intake_by(conn: &Connection, request_id: &str) -> Result<Option<Option<String>>, HubError> {
    Ok(conn
        .prepare_cached("SELECT intake_by FROM requests WHERE id = ?1")?
        .query_row([request_id], |r| r.get(0))
        .optional()?)
}

/// A citizen's message, from the channel (`channel`, its audit name) that took the request in.
pub(super) fn message_in(
    tx: &Transaction<'_>,
    request_id: &str,
    m: WireInboundMessage,
    channel: &str,
    now: DateTime<Utc>,
) -> Result<MessageIn, HubError> {
    // Another channel's request does not exist for this one, not even as an answer saying so.
    if intake_by(tx, request_id)?.flatten().as_deref() != Some(channel) {
        return Ok(MessageIn::NotFound);
    }
    let id = rules::inbound_message_id(request_id, &m.id);
    if let Some(existing) = load_message(tx, &id)? {
        return Ok(MessageIn::Existing(existing));
    }
    // The file was uploaded first; what it is comes from the hub's reading of its bytes.
    let media = match &m.media {
        None => None,
        Some(f) => {
            if let Some(refused) = rules::media_refused(&f.sha256) {
                return Ok(MessageIn::Invalid(refused));
            }
            let stored = if super::sqlite_media::uploaded_by(tx, &f.sha256, channel)? {
                super::sqlite_media::describe(tx, &f.sha256)?
            } else {
                None
            };
            let Some(stored) = stored else {
                return Ok(MessageIn::Invalid(rules::MEDIA_NOT_UPLOADED.into()));
            };
            Some((stored, f.name.clone()))
        }
    };
    let kind = m.kind;
    let wire = match rules::inbound_message(id, request_id, m, media, now) {
        Ok(wire) => wire,
        Err(e) => return Ok(MessageIn::Invalid(e)),
    };
    store(tx, &wire)?;
    append_in(
        tx,
        AuditEntry {
            actor: channel,
            action: "message_in",
            target: Some(request_id),
            detail: kind.as_str(),
        },
        now,
    )?;
    Ok(MessageIn::Stored(wire))
}

/// The thread of a request, oldest first.
pub(super) fn thread(conn: &Connection, request_id: &str) -> Result<Vec<WireMessage>, HubError> {
    query(
        conn,
        "SELECT id, record FROM messages WHERE request_id = ?1 ORDER BY created_at, change_seq",
        [request_id],
    )
}

/// Outbound messages still `queued` for requests `channel` took in, oldest first. They stay
/// there until the channel's receipt moves them on, so a channel that crashed after taking
/// them gets them again (and tells repeats apart by id).
pub(super) fn outbox(
    conn: &Connection,
    channel: &str,
    limit: u32,
) -> Result<Vec<WireMessage>, HubError> {
    query(
        conn,
        "SELECT m.id, m.record FROM messages m JOIN requests r ON r.id = m.request_id \
         WHERE m.direction = 'out' AND m.delivery = 'queued' AND r.intake_by = ?1 \
         ORDER BY m.change_seq LIMIT ?2",
        params![channel, limit.min(MAX_OUTBOX_BATCH)],
    )
}

/// A channel's report on an outbound message: forward only (a late `sent` after `read` is
/// answered with the message as it is).
pub(super) fn receipt(
    tx: &Transaction<'_>,
    message_id: &str,
    channel: &str,
    r: &WireReceipt,
    now: DateTime<Utc>,
) -> Result<ReceiptOutcome, HubError> {
    let Some(m) = load_message(tx, message_id)? else {
        return Ok(ReceiptOutcome::NotFound);
    };
    if m.direction != Direction::Outbound
        || intake_by(tx, &m.request_id)?.flatten().as_deref() != Some(channel)
    {
        return Ok(ReceiptOutcome::NotFound);
    }
    let m = match rules::after_receipt(m, r, now) {
        rules::ReceiptStep::Store(m) => m,
        rules::ReceiptStep::Answer(answer) => return Ok(answer),
    };
    store(tx, &m)?;
    append_in(
        tx,
        AuditEntry {
            actor: channel,
            action: "receipt",
            target: Some(message_id),
            detail: r.delivery.as_str(),
        },
        now,
    )?;
    Ok(ReceiptOutcome::Updated(m))
}

/// A request moved to another post: its messages take new change numbers after the move,
/// so the new post's desks, which never saw them, get the whole thread.
pub(super) fn restamp_thread(tx: &Transaction<'_>, request_id: &str) -> Result<(), HubError> {
    let ids: Vec<String> = tx
        .prepare_cached("SELECT id FROM messages WHERE request_id = ?1 ORDER BY change_seq")?
        .query_map([request_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in ids {
        let seq = next_seq(tx)?;
        tx.prepare_cached("UPDATE messages SET change_seq = ?2 WHERE id = ?1")?
            .execute(params![id, seq])?;
    }
    Ok(())
}
