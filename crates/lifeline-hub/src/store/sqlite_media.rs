//! The files of citizens' messages in the hub's SQLite file, stored once each under the
//! SHA-256 of their bytes.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{HubError, StoredMedia};

/// How long an uploaded file waits for a message to name it.
const UNCLAIMED_FOR: Duration = Duration::hours(24);

/// Drops the files no message names that were uploaded more than a day ago.
pub(super) fn drop_unclaimed(tx: &Transaction<'_>, now: DateTime<Utc>) -> Result<(), HubError> {
    tx.prepare_cached(
        "DELETE FROM media WHERE created_at < ?1 \
         AND sha256 NOT IN (SELECT media_sha FROM messages WHERE media_sha IS NOT NULL)",
    )?
    .execute([(now - UNCLAIMED_FOR).timestamp_millis()])?;
    tx.prepare_cached("DELETE FROM media_uploads WHERE sha256 NOT IN (SELECT sha256 FROM media)")?
        .execute([])?;
    Ok(())
}

/// Keeps a file (already checked: its type read from its bytes, within its cap) as uploaded
/// by `uploaded_by`. Storing the same bytes again keeps one copy and starts its day of
/// grace afresh. Files no message named for a day go at the same time.
pub(super) fn put(
    tx: &Transaction<'_>,
    sha256: &str,
    media_type: &str,
    bytes: &[u8],
    uploaded_by: &str,
    now: DateTime<Utc>,
) -> Result<(), HubError> {
    drop_unclaimed(tx, now)?;
    tx.prepare_cached(
        "INSERT INTO media (sha256, media_type, size, bytes, uploaded_by, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (sha256) DO UPDATE SET created_at = excluded.created_at",
    )?
    .execute(params![
        sha256,
        media_type,
        bytes.len() as i64,
        bytes,
        uploaded_by,
        now.timestamp_millis()
    ])?;
    tx.prepare_cached("INSERT OR IGNORE INTO media_uploads (sha256, channel) VALUES (?1, ?2)")?
        .execute(params![sha256, uploaded_by])?;
    Ok(())
}

/// Whether `channel` uploaded the file `sha256`.
pub(super) fn uploaded_by(
    conn: &Connection,
    sha256: &str,
    channel: &str,
) -> Result<bool, HubError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM media_uploads WHERE sha256 = ?1 AND channel = ?2)",
        )?
        .query_row(params![sha256, channel], |r| r.get(0))?)
}

/// What is stored under `sha256`, without its bytes.
pub(super) fn describe(conn: &Connection, sha256: &str) -> Result<Option<StoredMedia>, HubError> {
    Ok(conn
        .prepare_cached("SELECT media_type, size FROM media WHERE sha256 = ?1")?
        .query_row([sha256], |r| {
            Ok(StoredMedia {
                sha256: sha256.to_owned(),
                media_type: r.get(0)?,
                size_bytes: r.get::<_, i64>(1)? as u64,
            })
        })
        .optional()?)
}

/// The file's type and bytes.
pub(super) fn bytes(
    conn: &Connection,
    sha256: &str,
) -> Result<Option<(String, Vec<u8>)>, HubError> {
    Ok(conn
        .prepare_cached("SELECT media_type, bytes FROM media WHERE sha256 = ?1")?
        .query_row([sha256], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The posts of the requests whose threads carry `sha256` (`None`: a request of no post).
pub(super) fn posts_carrying(
    conn: &Connection,
    sha256: &str,
) -> Result<Vec<Option<String>>, HubError> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT r.post FROM messages m JOIN requests r ON r.id = m.request_id WHERE m.media_sha = ?1",
    )?;
    let posts = stmt
        .query_map([sha256], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(posts)
}

/// Before a request's thread is erased: its files, unless another thread carries them too,
/// and the files no message named for a day.
pub(super) fn erase_thread_files(
    tx: &Transaction<'_>,
    request_id: &str,
    now: DateTime<Utc>,
) -> Result<(), HubError> {
    tx.prepare_cached(
        "DELETE FROM media WHERE sha256 IN (SELECT media_sha FROM messages WHERE request_id = ?1) \
         AND sha256 NOT IN (SELECT media_sha FROM messages WHERE request_id != ?1 AND media_sha IS NOT NULL)",
    )?
    .execute([request_id])?;
    drop_unclaimed(tx, now)
}
