//! The threads of messages with citizens and their files, in PostgreSQL: an officer's
//! message, a citizen's message handed over by a channel, the channel's outbox, its
//! delivery receipts, and the files stored once each under their SHA-256. Every new message
//! and every change of its delivery state takes the next change number.

use std::collections::HashMap;

use super::tx::Tx;
use chrono::{DateTime, Duration, Utc};
use lifeline_core::model::Direction;
use lifeline_core::protocol::{WireInboundMessage, WireMessage, WireReceipt, WireRequest};

use super::audit::append_in;
use super::records::next_seq;
use crate::store::sqlite_messages::MAX_OUTBOX_BATCH;
use crate::store::{
    ActionCall, ActionOutcome, AuditEntry, HubError, MessageIn, ReceiptOutcome, StoredMedia, rules,
};

/// How long an uploaded file waits for a message to name it.
const UNCLAIMED_FOR: Duration = Duration::hours(24);

fn parse(id: &str, record: &str) -> Result<WireMessage, HubError> {
    serde_json::from_str(record).map_err(|e| HubError::Corrupt(format!("message {id}: {e}")))
}

async fn query(
    tx: &Tx<'_>,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<WireMessage>, HubError> {
    let mut out = Vec::new();
    for row in tx.query(sql, params).await? {
        out.push(parse(row.try_get(0)?, row.try_get(1)?)?);
    }
    Ok(out)
}

async fn load_message(tx: &Tx<'_>, id: &str) -> Result<Option<WireMessage>, HubError> {
    tx.query_opt("SELECT record FROM messages WHERE id = $1", &[&id])
        .await?
        .map(|r| parse(id, r.try_get(0)?))
        .transpose()
}

/// Several messages by id (a page of the change feed).
pub(super) async fn load_many(
    tx: &Tx<'_>,
    ids: &[String],
) -> Result<HashMap<String, WireMessage>, HubError> {
    let mut out = HashMap::with_capacity(ids.len());
    if ids.is_empty() {
        return Ok(out);
    }
    for row in tx
        .query(
            "SELECT id, record FROM messages WHERE id = ANY($1)",
            &[&ids],
        )
        .await?
    {
        let id: String = row.try_get(0)?;
        let message = parse(&id, row.try_get(1)?)?;
        out.insert(id, message);
    }
    Ok(out)
}

/// Inserts or updates a message at the next change number.
async fn store(tx: &Tx<'_>, m: &WireMessage) -> Result<u64, HubError> {
    let record = serde_json::to_string(m).map_err(|e| HubError::Corrupt(e.to_string()))?;
    let seq = next_seq(tx).await?;
    tx.execute(
        "INSERT INTO messages (id, request_id, direction, delivery, change_seq, record, created_at, media_sha) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (id) DO UPDATE SET delivery = excluded.delivery, change_seq = excluded.change_seq, record = excluded.record",
        &[
            &m.id,
            &m.request_id,
            &m.direction.as_str(),
            &m.delivery.as_str(),
            &(seq as i64),
            &record,
            &m.created_at.timestamp_millis(),
            &m.media.as_ref().map(|f| f.sha256.as_str()),
        ],
    )
    .await?;
    Ok(seq)
}

/// An officer's message, stored on the thread ([`rules::outbound_message`]).
pub(super) async fn send(
    tx: &Tx<'_>,
    current: WireRequest,
    call: ActionCall<'_>,
    now: DateTime<Utc>,
) -> Result<ActionOutcome, HubError> {
    match rules::outbound_message(&current, call, now) {
        Ok(message) => {
            store(tx, &message).await?;
            Ok(ActionOutcome::Applied { record: current })
        }
        Err(message) => Ok(ActionOutcome::Invalid { message }),
    }
}

/// Who took `request_id` in (`None`: no such request).
async fn intake_by(tx: &Tx<'_>, request_id: &str) -> Result<Option<Option<String>>, HubError> {
    Ok(tx
        .query_opt(
            "SELECT intake_by FROM requests WHERE id = $1",
            &[&request_id],
        )
        .await?
        .map(|r| r.try_get(0))
        .transpose()?)
}

async fn describe_uploaded(
    tx: &Tx<'_>,
    sha256: &str,
    channel: &str,
) -> Result<Option<StoredMedia>, HubError> {
    let row = tx
        .query_opt(
            "SELECT m.media_type, m.size FROM media m JOIN media_uploads u ON u.sha256 = m.sha256 \
             WHERE m.sha256 = $1 AND u.channel = $2",
            &[&sha256, &channel],
        )
        .await?;
    Ok(match row {
        Some(r) => Some(StoredMedia {
            sha256: sha256.to_owned(),
            media_type: r.try_get(0)?,
            size_bytes: r.try_get::<_, i64>(1)? as u64,
        }),
        None => None,
    })
}

/// A citizen's message, from the channel that took the request in.
pub(super) async fn message_in(
    tx: &Tx<'_>,
    request_id: &str,
    m: WireInboundMessage,
    channel: &str,
    now: DateTime<Utc>,
) -> Result<MessageIn, HubError> {
    if intake_by(tx, request_id).await?.flatten().as_deref() != Some(channel) {
        return Ok(MessageIn::NotFound);
    }
    let id = rules::inbound_message_id(request_id, &m.id);
    if let Some(existing) = load_message(tx, &id).await? {
        return Ok(MessageIn::Existing(existing));
    }
    let media = match &m.media {
        None => None,
        Some(f) => {
            if let Some(refused) = rules::media_refused(&f.sha256) {
                return Ok(MessageIn::Invalid(refused));
            }
            let Some(stored) = describe_uploaded(tx, &f.sha256, channel).await? else {
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
    store(tx, &wire).await?;
    append_in(
        tx,
        AuditEntry {
            actor: channel,
            action: "message_in",
            target: Some(request_id),
            detail: kind.as_str(),
        },
        now,
    )
    .await?;
    Ok(MessageIn::Stored(wire))
}

pub(super) async fn thread(tx: &Tx<'_>, request_id: &str) -> Result<Vec<WireMessage>, HubError> {
    query(
        tx,
        "SELECT id, record FROM messages WHERE request_id = $1 ORDER BY created_at, change_seq",
        &[&request_id],
    )
    .await
}

/// Outbound messages still `queued` for requests `channel` took in, oldest first.
pub(super) async fn outbox(
    tx: &Tx<'_>,
    channel: &str,
    limit: u32,
) -> Result<Vec<WireMessage>, HubError> {
    query(
        tx,
        "SELECT m.id, m.record FROM messages m JOIN requests r ON r.id = m.request_id \
         WHERE m.direction = 'out' AND m.delivery = 'queued' AND r.intake_by = $1 \
         ORDER BY m.change_seq LIMIT $2",
        &[&channel, &i64::from(limit.min(MAX_OUTBOX_BATCH))],
    )
    .await
}

pub(super) async fn receipt(
    tx: &Tx<'_>,
    message_id: &str,
    channel: &str,
    r: &WireReceipt,
    now: DateTime<Utc>,
) -> Result<ReceiptOutcome, HubError> {
    let Some(m) = load_message(tx, message_id).await? else {
        return Ok(ReceiptOutcome::NotFound);
    };
    if m.direction != Direction::Outbound
        || intake_by(tx, &m.request_id).await?.flatten().as_deref() != Some(channel)
    {
        return Ok(ReceiptOutcome::NotFound);
    }
    let m = match rules::after_receipt(m, r, now) {
        rules::ReceiptStep::Store(m) => m,
        rules::ReceiptStep::Answer(answer) => return Ok(answer),
    };
    store(tx, &m).await?;
    append_in(
        tx,
        AuditEntry {
            actor: channel,
            action: "receipt",
            target: Some(message_id),
            detail: r.delivery.as_str(),
        },
        now,
    )
    .await?;
    Ok(ReceiptOutcome::Updated(m))
}

/// A request moved to another post: its messages take new change numbers after the move.
pub(super) async fn restamp_thread(tx: &Tx<'_>, request_id: &str) -> Result<(), HubError> {
    let ids: Vec<String> = tx
        .query(
            "SELECT id FROM messages WHERE request_id = $1 ORDER BY change_seq",
            &[&request_id],
        )
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    for id in ids {
        let seq = next_seq(tx).await? as i64;
        tx.execute(
            "UPDATE messages SET change_seq = $2 WHERE id = $1",
            &[&id, &seq],
        )
        .await?;
    }
    Ok(())
}

/// Drops the files no message names that were uploaded more than a day ago.
async fn drop_unclaimed(tx: &Tx<'_>, now: DateTime<Utc>) -> Result<(), HubError> {
    tx.execute(
        "DELETE FROM media WHERE created_at < $1 \
         AND sha256 NOT IN (SELECT media_sha FROM messages WHERE media_sha IS NOT NULL)",
        &[&(now - UNCLAIMED_FOR).timestamp_millis()],
    )
    .await?;
    tx.execute(
        "DELETE FROM media_uploads WHERE sha256 NOT IN (SELECT sha256 FROM media)",
        &[],
    )
    .await?;
    Ok(())
}

/// Keeps a file as uploaded by `uploaded_by`; the same bytes again keep one copy and start
/// its day of grace afresh.
pub(super) async fn put_media(
    tx: &Tx<'_>,
    sha256: &str,
    media_type: &str,
    bytes: &[u8],
    uploaded_by: &str,
    now: DateTime<Utc>,
) -> Result<(), HubError> {
    drop_unclaimed(tx, now).await?;
    tx.execute(
        "INSERT INTO media (sha256, media_type, size, bytes, uploaded_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO UPDATE SET created_at = excluded.created_at",
        &[
            &sha256,
            &media_type,
            &(bytes.len() as i64),
            &bytes,
            &uploaded_by,
            &now.timestamp_millis(),
        ],
    )
    .await?;
    tx.execute(
        "INSERT INTO media_uploads (sha256, channel) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[&sha256, &uploaded_by],
    )
    .await?;
    Ok(())
}

/// Before a request's thread is erased: its files, unless another thread carries them too,
/// and the files no message named for a day.
pub(super) async fn erase_thread_files(
    tx: &Tx<'_>,
    request_id: &str,
    now: DateTime<Utc>,
) -> Result<(), HubError> {
    tx.execute(
        "DELETE FROM media WHERE sha256 IN (SELECT media_sha FROM messages WHERE request_id = $1) \
         AND sha256 NOT IN (SELECT media_sha FROM messages WHERE request_id != $1 AND media_sha IS NOT NULL)",
        &[&request_id],
    )
    .await?;
    drop_unclaimed(tx, now).await
}
