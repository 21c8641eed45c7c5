//! Per-source sync state: the cursor (advanced only inside the transaction that applies its
//! page), HTTP validators for conditional GET, and health for the sync bar.

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};

use super::{Result, Store, StoreError, from_ms, ms};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Hub,
    Feed,
}

impl SourceKind {
    fn as_str(self) -> &'static str {
        match self {
            SourceKind::Hub => "hub",
            SourceKind::Feed => "feed",
        }
    }
}

/// How a source is reachable right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Following the live stream.
    Connected,
    /// Reachable, but by periodic polling (the stream is unavailable).
    Polling,
    /// Lost; retrying with backoff.
    Reconnecting,
    /// Not reachable, or never tried.
    Offline,
}

impl Connection {
    pub fn as_str(self) -> &'static str {
        match self {
            Connection::Connected => "connected",
            Connection::Polling => "polling",
            Connection::Reconnecting => "reconnecting",
            Connection::Offline => "offline",
        }
    }

    fn parse(s: &str) -> Connection {
        match s {
            "connected" => Connection::Connected,
            "polling" => Connection::Polling,
            "reconnecting" => Connection::Reconnecting,
            _ => Connection::Offline,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceState {
    pub source: String,
    pub kind: SourceKind,
    pub cursor: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub connection: Connection,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    /// How far behind the source the desk was at the last success (ms).
    pub lag_ms: Option<i64>,
}

pub(crate) fn set_cursor_in(tx: &Transaction<'_>, source: &str, cursor: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO sync_sources (source, kind, cursor) VALUES (?1, 'hub', ?2) \
         ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor",
    )?
    .execute(params![source, cursor])?;
    Ok(())
}

impl Store {
    pub fn source_state(&self, source: &str) -> Result<Option<SourceState>> {
        self.read(|c| {
            let mut all = query_sources(c, "WHERE source = ?1", [source])?;
            Ok(all.pop())
        })
    }

    pub fn source_states(&self) -> Result<Vec<SourceState>> {
        self.read(|c| query_sources(c, "ORDER BY kind, source", []))
    }

    /// Registers a source so it shows in the health bar before its first attempt.
    pub fn ensure_source(&self, source: &str, kind: SourceKind) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("INSERT INTO sync_sources (source, kind) VALUES (?1, ?2) ON CONFLICT (source) DO NOTHING")?
                .execute(params![source, kind.as_str()])?;
            Ok(())
        })
    }

    /// Forgets the cursor (the hub said it no longer knows it): the next pull starts over.
    pub fn reset_cursor(&self, source: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE sync_sources SET cursor = NULL WHERE source = ?1",
                [source],
            )?;
            Ok(())
        })
    }

    pub fn record_source_success(
        &self,
        source: &str,
        connection: Connection,
        lag_ms: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "UPDATE sync_sources SET connection = ?2, last_attempt = ?3, last_success = ?3, last_error = NULL, \
                 consecutive_failures = 0, lag_ms = coalesce(?4, lag_ms) WHERE source = ?1",
            )?
            .execute(params![source, connection.as_str(), ms(now), lag_ms])?;
            Ok(())
        })
    }

    pub fn record_source_failure(
        &self,
        source: &str,
        connection: Connection,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "UPDATE sync_sources SET connection = ?2, last_attempt = ?3, last_error = ?4, \
                 consecutive_failures = consecutive_failures + 1 WHERE source = ?1",
            )?
            .execute(params![source, connection.as_str(), ms(now), error])?;
            Ok(())
        })
    }

    pub fn set_source_connection(&self, source: &str, connection: Connection) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("UPDATE sync_sources SET connection = ?2 WHERE source = ?1")?
                .execute(params![source, connection.as_str()])?;
            Ok(())
        })
    }

    /// Stores the validators of a feed's last successful response (conditional GET).
    pub fn set_feed_validators(
        &self,
        source: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "UPDATE sync_sources SET etag = ?2, last_modified = ?3 WHERE source = ?1",
            )?
            .execute(params![source, etag, last_modified])?;
            Ok(())
        })
    }
}

fn query_sources(
    conn: &rusqlite::Connection,
    filter: &str,
    p: impl rusqlite::Params,
) -> Result<Vec<SourceState>> {
    let sql = format!(
        "SELECT source, kind, cursor, etag, last_modified, connection, last_attempt, last_success, last_error, \
         consecutive_failures, lag_ms FROM sync_sources {filter}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(p, |r| {
        Ok(SourceState {
            source: r.get(0)?,
            kind: if r.get::<_, String>(1)? == "feed" {
                SourceKind::Feed
            } else {
                SourceKind::Hub
            },
            cursor: r.get(2)?,
            etag: r.get(3)?,
            last_modified: r.get(4)?,
            connection: Connection::parse(&r.get::<_, String>(5)?),
            last_attempt: r.get::<_, Option<i64>>(6)?.map(from_ms),
            last_success: r.get::<_, Option<i64>>(7)?.map(from_ms),
            last_error: r.get(8)?,
            consecutive_failures: r.get(9)?,
            lag_ms: r.get(10)?,
        })
    })?;
    rows.collect::<rusqlite::Result<_>>()
        .map_err(StoreError::from)
}
