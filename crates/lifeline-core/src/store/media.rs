//! The files of citizens' messages this desk has fetched: kept in the store (so encrypted
//! with it) up to a quota, the least recently used dropped first. A file dropped is fetched
//! again when an officer next opens its thread; a request that leaves the desk takes its
//! files with it (`removal.rs`).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Result, Store, ms};

/// The default quota of the media cache.
pub const DEFAULT_MEDIA_QUOTA_BYTES: u64 = 512 * 1024 * 1024;

/// A file as this desk keeps it, without its bytes.
#[derive(Clone, PartialEq)]
pub struct CachedMedia {
    pub sha256: String,
    pub media_type: String,
    pub size: u64,
    /// The desk's own re-encoding of a photo, and its type.
    pub thumb: Option<(Vec<u8>, String)>,
    /// Where the photo says it was taken (EXIF GPS).
    pub gps: Option<(f64, f64)>,
}
crate::private_debug!(CachedMedia { sha256, media_type, size ; thumb, gps });

/// What to keep of a fetched file.
#[derive(Clone, PartialEq)]
pub struct NewMedia<'a> {
    pub sha256: &'a str,
    pub media_type: &'a str,
    pub bytes: &'a [u8],
    pub thumb: Option<(&'a [u8], &'a str)>,
    pub gps: Option<(f64, f64)>,
}

impl Store {
    /// The file named `sha256`, if a message on this desk carries it: its type, or `None`
    /// when no message here names it (nothing else may be asked for).
    pub fn media_type_on_a_thread(&self, sha256: &str) -> Result<Option<String>> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT media_type FROM messages WHERE media_sha = ?1 AND media_type IS NOT NULL LIMIT 1",
            )?
            .query_row([sha256], |r| r.get(0))
            .optional()?)
        })
    }

    /// The cached file, if it is here; marks it used.
    pub fn cached_media(&self, sha256: &str, now: DateTime<Utc>) -> Result<Option<CachedMedia>> {
        self.write(|tx| {
            let found = tx
                .prepare_cached(
                    "SELECT media_type, size, thumb, thumb_type, gps_lat, gps_lon FROM media_cache WHERE sha256 = ?1",
                )?
                .query_row([sha256], |r| {
                    let thumb: Option<Vec<u8>> = r.get(2)?;
                    let thumb_type: Option<String> = r.get(3)?;
                    let lat: Option<f64> = r.get(4)?;
                    let lon: Option<f64> = r.get(5)?;
                    Ok(CachedMedia {
                        sha256: sha256.to_owned(),
                        media_type: r.get(0)?,
                        size: r.get::<_, i64>(1)? as u64,
                        thumb: thumb.zip(thumb_type),
                        gps: lat.zip(lon),
                    })
                })
                .optional()?;
            if found.is_some() {
                tx.prepare_cached("UPDATE media_cache SET used_at = ?2 WHERE sha256 = ?1")?
                    .execute(params![sha256, ms(now)])?;
            }
            Ok(found)
        })
    }

    /// Bytes `start..end` of a cached file (clamped to its length), and its whole length.
    /// Read through SQLite's incremental blob I/O: a range of a long clip does not load it all.
    pub fn media_range(
        &self,
        sha256: &str,
        start: u64,
        end: u64,
    ) -> Result<Option<(Vec<u8>, u64)>> {
        self.read(|c| {
            let Some(rowid) = c
                .prepare_cached("SELECT rowid FROM media_cache WHERE sha256 = ?1")?
                .query_row([sha256], |r| r.get::<_, i64>(0))
                .optional()?
            else {
                return Ok(None);
            };
            let blob = c.blob_open(rusqlite::MAIN_DB, "media_cache", "bytes", rowid, true)?;
            let len = blob.len() as u64;
            let start = start.min(len);
            let end = end.clamp(start, len);
            let mut buf = vec![0u8; (end - start) as usize];
            let read = blob.read_at(&mut buf, start as usize)?;
            buf.truncate(read);
            Ok(Some((buf, len)))
        })
    }

    /// Keeps a fetched file, then drops the least recently used others until the cache is
    /// within `quota` bytes (the file just kept stays, even alone over the quota). Answers
    /// how many were dropped. A file no message here names any more (its request was erased
    /// while it was being fetched) is not kept.
    pub fn put_media(&self, m: &NewMedia<'_>, quota: u64, now: DateTime<Utc>) -> Result<usize> {
        self.write(|tx| {
            let named: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM messages WHERE media_sha = ?1)")?
                .query_row([m.sha256], |r| r.get(0))?;
            if !named {
                return Ok(0);
            }
            let size = (m.bytes.len() + m.thumb.map_or(0, |t| t.0.len())) as i64;
            tx.prepare_cached(
                "INSERT INTO media_cache (sha256, media_type, bytes, thumb, thumb_type, gps_lat, gps_lon, size, used_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT (sha256) DO UPDATE SET used_at = excluded.used_at",
            )?
            .execute(params![
                m.sha256,
                m.media_type,
                m.bytes,
                m.thumb.map(|t| t.0),
                m.thumb.map(|t| t.1),
                m.gps.map(|g| g.0),
                m.gps.map(|g| g.1),
                size,
                ms(now),
            ])?;
            let mut total: i64 = tx
                .prepare_cached("SELECT coalesce(sum(size), 0) FROM media_cache")?
                .query_row([], |r| r.get(0))?;
            let mut dropped = 0;
            if total as u64 > quota {
                let victims: Vec<(String, i64)> = tx
                    .prepare_cached(
                        "SELECT sha256, size FROM media_cache WHERE sha256 != ?1 ORDER BY used_at, rowid",
                    )?
                    .query_map([m.sha256], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                for (sha, size) in victims {
                    if total as u64 <= quota {
                        break;
                    }
                    tx.prepare_cached("DELETE FROM media_cache WHERE sha256 = ?1")?
                        .execute([&sha])?;
                    total -= size;
                    dropped += 1;
                }
            }
            Ok(dropped)
        })
    }

    /// How many bytes the media cache holds, and in how many files.
    pub fn media_cache_usage(&self) -> Result<(u64, u64)> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT coalesce(sum(size), 0), count(*) FROM media_cache")?
                    .query_row([], |r| {
                        Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
                    })?,
            )
        })
    }
}
