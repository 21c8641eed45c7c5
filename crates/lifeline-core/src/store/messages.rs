//! The threads of messages with citizens, as this desk keeps them: the hub's copies from the
//! change feed, and officers' messages written here while they wait in the outbox.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::{Result, Store, StoreError, from_ms, ms};
use crate::model::message::outbound_id;
use crate::model::{Delivery, Direction, MediaRef, Message, MessageKind, TriageAction};

const COLUMNS: &str = "id, request_id, direction, kind, text, template, author, lat, lon, delivery, failure, created_at, updated_at, media_sha, media_type, media_size, media_name";

fn from_row(row: &Row<'_>) -> Result<Message> {
    fn word<T: std::str::FromStr<Err = crate::model::vocabulary::UnknownWord>>(
        row: &Row<'_>,
        i: usize,
    ) -> Result<T> {
        row.get::<_, String>(i)?
            .parse()
            .map_err(|e| StoreError::corrupt("message", e))
    }
    let lat: Option<f64> = row.get(7)?;
    let lon: Option<f64> = row.get(8)?;
    let media_sha: Option<String> = row.get(13)?;
    let media = match media_sha {
        Some(sha256) => Some(MediaRef {
            sha256,
            media_type: row.get(14)?,
            size_bytes: row.get::<_, i64>(15)? as u64,
            name: row.get(16)?,
        }),
        None => None,
    };
    Ok(Message {
        id: row.get(0)?,
        request_id: row.get(1)?,
        direction: word(row, 2)?,
        kind: word(row, 3)?,
        text: row.get(4)?,
        template: row.get(5)?,
        author: row.get(6)?,
        position: lat.zip(lon),
        media,
        delivery: word(row, 9)?,
        failure: row.get(10)?,
        created_at: from_ms(row.get(11)?),
        updated_at: from_ms(row.get(12)?),
    })
}

/// Keeps a message as given (a later state from the hub replaces the row; the desk's own
/// `seen_at` stays).
pub(crate) fn put_in(tx: &Transaction<'_>, m: &Message) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO messages (id, request_id, direction, kind, text, template, author, lat, lon, delivery, failure, created_at, updated_at, \
           media_sha, media_type, media_size, media_name) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) \
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, text = excluded.text, template = excluded.template, \
           author = excluded.author, lat = excluded.lat, lon = excluded.lon, delivery = excluded.delivery, \
           failure = excluded.failure, created_at = excluded.created_at, updated_at = excluded.updated_at, \
           media_sha = excluded.media_sha, media_type = excluded.media_type, media_size = excluded.media_size, \
           media_name = excluded.media_name",
    )?
    .execute(params![
        m.id,
        m.request_id,
        m.direction.as_str(),
        m.kind.as_str(),
        m.text,
        m.template,
        m.author,
        m.position.map(|p| p.0),
        m.position.map(|p| p.1),
        m.delivery.as_str(),
        m.failure,
        ms(m.created_at),
        ms(m.updated_at),
        m.media.as_ref().map(|f| &f.sha256),
        m.media.as_ref().map(|f| &f.media_type),
        m.media.as_ref().map(|f| f.size_bytes as i64),
        m.media.as_ref().and_then(|f| f.name.as_ref()),
    ])?;
    Ok(())
}

/// Messages from the hub. One whose request this desk does not hold yet is kept all the
/// same: the feed lists a request at its latest change, which may come after its messages
/// (a request changed since its citizen wrote), and the thread must be there when it
/// arrives. A request that leaves the desk takes its thread with it (`removal.rs`).
pub(crate) fn apply_in(tx: &Transaction<'_>, messages: &[Message]) -> Result<Vec<String>> {
    let mut touched = Vec::new();
    for m in messages {
        put_in(tx, m)?;
        touched.push(m.request_id.clone());
    }
    Ok(touched)
}

/// An officer's message queued here: kept at once as `pending` under the id the hub will
/// give it.
pub(crate) fn queue_in(
    tx: &Transaction<'_>,
    request_id: &str,
    action: &TriageAction,
    actor: &str,
    key: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let TriageAction::SendMessage { text, template } = action else {
        return Ok(());
    };
    put_in(
        tx,
        &Message {
            id: outbound_id(key),
            request_id: request_id.to_owned(),
            direction: Direction::Outbound,
            kind: MessageKind::Text,
            text: text.clone(),
            template: template.clone(),
            author: Some(actor.to_owned()),
            position: None,
            media: None,
            delivery: Delivery::Pending,
            failure: None,
            created_at: now,
            updated_at: now,
        },
    )
}

/// The hub refused an officer's message: it stays on the thread, marked failed with why.
pub(crate) fn refused_in(
    tx: &Transaction<'_>,
    key: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE messages SET delivery = 'failed', failure = ?2, updated_at = ?3 WHERE id = ?1 AND delivery = 'pending'",
    )?
    .execute(params![outbound_id(key), reason, ms(now)])?;
    Ok(())
}

/// The hub took an officer's message: it waits for the channel now (unless the change feed
/// already brought the hub's copy, which says more).
pub(crate) fn confirmed_in(tx: &Transaction<'_>, key: &str, now: DateTime<Utc>) -> Result<()> {
    tx.prepare_cached(
        "UPDATE messages SET delivery = 'queued', updated_at = ?2 WHERE id = ?1 AND delivery = 'pending'",
    )?
    .execute(params![outbound_id(key), ms(now)])?;
    Ok(())
}

/// The officer took a message back before it left: it is gone from the thread.
pub(crate) fn withdrawn_in(tx: &Transaction<'_>, key: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM messages WHERE id = ?1 AND delivery = 'pending'")?
        .execute([outbound_id(key)])?;
    Ok(())
}

fn thread_in(c: &Connection, request_id: &str) -> Result<Vec<Message>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM messages WHERE request_id = ?1 ORDER BY created_at, rowid"
    ))?;
    let mut rows = stmt.query([request_id])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(from_row(row)?);
    }
    Ok(out)
}

/// Where a thread stands, for the queue: unread messages from the citizen, and since when
/// the citizen has waited for an answer (their oldest message after the last officer's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThreadState {
    pub unread: u32,
    pub waiting_since: Option<DateTime<Utc>>,
}

fn thread_state_in(c: &Connection, request_id: &str) -> Result<ThreadState> {
    let unread: u32 = c
        .prepare_cached("SELECT count(*) FROM messages WHERE request_id = ?1 AND direction = 'in' AND seen_at IS NULL")?
        .query_row([request_id], |r| r.get(0))?;
    let waiting: Option<i64> = c
        .prepare_cached(
            "SELECT min(created_at) FROM messages WHERE request_id = ?1 AND direction = 'in' \
             AND created_at > coalesce((SELECT max(created_at) FROM messages WHERE request_id = ?1 AND direction = 'out' AND delivery != 'failed'), 0)",
        )?
        .query_row([request_id], |r| r.get(0))
        .optional()?
        .flatten();
    Ok(ThreadState {
        unread,
        waiting_since: waiting.map(from_ms),
    })
}

impl Store {
    /// One message, by id.
    pub fn message(&self, id: &str) -> Result<Option<Message>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached(&format!("SELECT {COLUMNS} FROM messages WHERE id = ?1"))?;
            let mut rows = stmt.query([id])?;
            rows.next()?.map(from_row).transpose()
        })
    }

    /// The thread of a request, oldest first.
    pub fn thread(&self, request_id: &str) -> Result<Vec<Message>> {
        self.read(|c| thread_in(c, request_id))
    }

    /// Unread messages and how long the citizen has waited, for these requests.
    pub fn thread_states(&self, request_ids: &[&str]) -> Result<Vec<ThreadState>> {
        self.read(|c| {
            request_ids
                .iter()
                .map(|id| thread_state_in(c, id))
                .collect()
        })
    }

    /// The officer had the thread on screen: the citizen's messages shown are read (those
    /// up to `shown`, the id of the last message shown; one that arrived since stays
    /// unread).
    pub fn mark_thread_seen(
        &self,
        request_id: &str,
        shown: &[Message],
        now: DateTime<Utc>,
    ) -> Result<usize> {
        self.write(|tx| {
            let mut n = 0;
            for m in shown.iter().filter(|m| m.direction == Direction::Inbound) {
                n += tx
                    .prepare_cached(
                        "UPDATE messages SET seen_at = ?3 WHERE id = ?1 AND request_id = ?2 AND seen_at IS NULL",
                    )?
                    .execute(params![m.id, request_id, ms(now)])?;
            }
            Ok(n)
        })
    }
}

/// Where a safety reminder goes: the open requests located inside an area.
#[derive(Debug, Clone, PartialEq)]
pub enum ReminderArea {
    /// A box on the map (west > east crosses the antimeridian).
    Box(crate::geo::BBox),
    /// The areas of an advisory (polygons with holes, circles), as the map draws them.
    Advisory(i64),
    /// An area an officer drew on the map ([`ReminderArea::polygon`],
    /// [`ReminderArea::circle`]).
    Drawn(crate::model::AdvisoryArea),
}

impl ReminderArea {
    /// A polygon drawn on the map, its corners `[lon, lat]` in drawing order (not closed).
    /// Longitudes may run past ±180 (a map panned across the antimeridian draws them so);
    /// such a polygon is split at the antimeridian like an advisory's.
    pub fn polygon(corners: &[[f64; 2]]) -> std::result::Result<ReminderArea, String> {
        if corners.len() < 3 {
            return Err("a drawn area needs at least three corners".into());
        }
        if corners.len() > 1000 {
            return Err("a drawn area may have at most 1,000 corners".into());
        }
        if corners
            .iter()
            .any(|c| !c[0].is_finite() || !c[1].is_finite() || c[1].abs() > 90.0)
        {
            return Err("a corner is not a position".into());
        }
        // A map panned across several world copies gives longitudes past ±540: wrapped first,
        // then unwrapped into one continuous ring.
        let corners: Vec<[f64; 2]> = corners
            .iter()
            .map(|c| [crate::geo::wrap_lon(c[0]), c[1]])
            .collect();
        let mut ring: Vec<geojson::Position> = corners
            .iter()
            .map(|c| geojson::Position::from([c[0], c[1]]))
            .collect();
        ring.push(ring[0].clone());
        crate::geo::antimeridian::unwrap_ring(&mut ring);
        let parts = crate::geo::antimeridian::normalize_polygon(&[ring])?;
        Ok(ReminderArea::Drawn(crate::model::AdvisoryArea {
            description: String::new(),
            geometry: Some(geojson::Geometry::new(
                geojson::GeometryValue::MultiPolygon { coordinates: parts },
            )),
            circles: Vec::new(),
            geocodes: Vec::new(),
        }))
    }

    /// A circle drawn on the map: centre and radius in metres (up to 2,000 km).
    pub fn circle(lat: f64, lon: f64, radius_m: f64) -> std::result::Result<ReminderArea, String> {
        let lon = crate::geo::wrap_lon(lon);
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) || !lon.is_finite() {
            return Err("the circle's centre is not a position".into());
        }
        if !(radius_m.is_finite() && radius_m > 0.0 && radius_m <= 2_000_000.0) {
            return Err("a circle's radius is between 0 and 2,000 km".into());
        }
        Ok(ReminderArea::Drawn(crate::model::AdvisoryArea {
            description: String::new(),
            geometry: None,
            circles: vec![crate::model::Circle { lat, lon, radius_m }],
            geocodes: Vec::new(),
        }))
    }
}

impl Store {
    /// The open requests inside `area`, oldest first: one citizen each for a reminder.
    pub fn reminder_recipients(&self, area: &ReminderArea) -> Result<Vec<String>> {
        match area {
            ReminderArea::Box(b) => self.query_request_ids(&super::RequestQuery {
                bbox: Some(*b),
                order: super::RequestOrder::Oldest,
                ..super::RequestQuery::open()
            }),
            ReminderArea::Advisory(id) => Ok(self
                .requests_in_advisory(*id, true)?
                .into_iter()
                .map(|r| r.request.id)
                .collect()),
            ReminderArea::Drawn(area) => {
                let mut found = self.requests_in_areas(std::slice::from_ref(area), true)?;
                found.sort_by_key(|r| r.request.created_at);
                Ok(found.into_iter().map(|r| r.request.id).collect())
            }
        }
    }

    /// Queues the same message to each of `recipients` (request id, idempotency key), in
    /// one transaction: each its own outbox item and its own message on its thread, as if
    /// written one by one. Returns how many were queued.
    pub fn queue_reminder(
        &self,
        recipients: &[(String, String)],
        text: &str,
        template: Option<&str>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let action = TriageAction::SendMessage {
            text: text.to_owned(),
            template: template.map(str::to_owned),
        };
        self.write(|tx| {
            let mut queued = 0;
            for (id, key) in recipients {
                if super::outbox::queue_in(tx, id, &action, actor, key, now)?
                    .1
                    .is_some()
                {
                    queued += 1;
                }
            }
            Ok(queued)
        })
    }
}
