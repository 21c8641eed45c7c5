//! Advisories in the store: upsert keyed on (sender, identifier) with the CAP lifecycle
//! (Update supersedes, Cancel cancels, also when the reference arrives first), hazard events
//! upserted on their source version and aliases, areas indexed in an R*Tree per polygon part,
//! and the point-in-area queries the desk needs.

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use serde::{Deserialize, Serialize};

use super::requests::{REQUEST_COLUMNS, StoredRequest, request_from_row};
use super::{Result, Store, StoreError, ms};
use crate::geo::{self, BBox};
use crate::model::{
    Advisory, AdvisoryArea, AdvisoryInfo, AdvisoryKey, AlertReference, AlertStatus, Certainty,
    Circle, HazardDetails, Lifecycle, MsgType, Severity, SourceFormat, Urgency,
};

/// What an upsert did to one advisory, and what it did to the ones it references.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryChange {
    pub key: AdvisoryKey,
    pub outcome: UpsertOutcome,
    /// Earlier advisories whose state this one changed (superseded or cancelled).
    pub affected: Vec<(AdvisoryKey, Lifecycle)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    Inserted,
    Updated,
    Unchanged,
}

/// An advisory as stored, with its state now.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryRow {
    pub id: i64,
    pub advisory: Advisory,
    pub state: Lifecycle,
    pub imported_at: DateTime<Utc>,
}

impl AdvisoryRow {
    /// Real, current warnings: `Actual`, not superseded, cancelled or expired, and not a
    /// Cancel/Ack/Error message itself.
    pub fn is_active_warning(&self) -> bool {
        self.state == Lifecycle::Active && self.advisory.status == AlertStatus::Actual
    }
}

/// One stored area with its row id (the map and the detail panel address areas by it).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredArea {
    pub id: i64,
    pub advisory_id: i64,
    pub area: AdvisoryArea,
}

#[derive(Serialize, Deserialize)]
struct StoredInfo {
    language: String,
    event: String,
    headline: Option<String>,
    description: Option<String>,
    instruction: Option<String>,
    categories: Vec<String>,
    urgency: Urgency,
    severity: Severity,
    certainty: Certainty,
    effective: Option<DateTime<FixedOffset>>,
    onset: Option<DateTime<FixedOffset>>,
    expires: Option<DateTime<FixedOffset>>,
    sender_name: Option<String>,
    web: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredHazard {
    magnitude: Option<f64>,
    depth_km: Option<f64>,
    alert_level: Option<String>,
    tsunami: bool,
    event_type: Option<String>,
    aliases: Vec<String>,
    source_version: Option<i64>,
    countries: Vec<String>,
}

fn infos_to_json(infos: &[AdvisoryInfo]) -> Result<String> {
    let stored: Vec<StoredInfo> = infos
        .iter()
        .map(|i| StoredInfo {
            language: i.language.clone(),
            event: i.event.clone(),
            headline: i.headline.clone(),
            description: i.description.clone(),
            instruction: i.instruction.clone(),
            categories: i.categories.clone(),
            urgency: i.urgency,
            severity: i.severity,
            certainty: i.certainty,
            effective: i.effective,
            onset: i.onset,
            expires: i.expires,
            sender_name: i.sender_name.clone(),
            web: i.web.clone(),
        })
        .collect();
    serde_json::to_string(&stored).map_err(|e| StoreError::corrupt("advisory info", e))
}

fn infos_from_json(json: &str) -> Result<Vec<AdvisoryInfo>> {
    let stored: Vec<StoredInfo> =
        serde_json::from_str(json).map_err(|e| StoreError::corrupt("advisory info", e))?;
    Ok(stored
        .into_iter()
        .map(|i| AdvisoryInfo {
            language: i.language,
            event: i.event,
            headline: i.headline,
            description: i.description,
            instruction: i.instruction,
            categories: i.categories,
            urgency: i.urgency,
            severity: i.severity,
            certainty: i.certainty,
            effective: i.effective,
            onset: i.onset,
            expires: i.expires,
            sender_name: i.sender_name,
            web: i.web,
        })
        .collect())
}

fn hazard_to_json(h: &HazardDetails) -> Result<String> {
    serde_json::to_string(&StoredHazard {
        magnitude: h.magnitude,
        depth_km: h.depth_km,
        alert_level: h.alert_level.clone(),
        tsunami: h.tsunami,
        event_type: h.event_type.clone(),
        aliases: h.aliases.clone(),
        source_version: h.source_version,
        countries: h.countries.clone(),
    })
    .map_err(|e| StoreError::corrupt("hazard details", e))
}

fn hazard_from_json(json: &str) -> Result<HazardDetails> {
    let h: StoredHazard =
        serde_json::from_str(json).map_err(|e| StoreError::corrupt("hazard details", e))?;
    Ok(HazardDetails {
        magnitude: h.magnitude,
        depth_km: h.depth_km,
        alert_level: h.alert_level,
        tsunami: h.tsunami,
        event_type: h.event_type,
        aliases: h.aliases,
        source_version: h.source_version,
        countries: h.countries,
    })
}

const ADVISORY_COLUMNS: &str = "a.id, a.sender, a.identifier, a.source, a.source_format, a.msg_type, a.status, a.scope, \
     a.sent, a.refs, a.infos, a.hazard, a.state, a.expires_ms, a.imported_at";

/// Reads an advisory row without its areas (they are attached by [`attach_areas`]).
fn advisory_from_row(row: &Row<'_>, now: DateTime<Utc>) -> Result<AdvisoryRow> {
    let id: i64 = row.get(0)?;
    let what = || format!("advisory {id}");
    let word = |i: usize| -> Result<String> { Ok(row.get::<_, String>(i)?) };
    let sent_text = word(8)?;
    let refs: Vec<(String, String, String)> =
        serde_json::from_str(&word(9)?).map_err(|e| StoreError::corrupt(what(), e))?;
    let hazard = row
        .get::<_, Option<String>>(11)?
        .map(|j| hazard_from_json(&j))
        .transpose()?;
    let stored_state = word(12)?;
    let expires_ms: Option<i64> = row.get(13)?;
    let msg_type: MsgType = word(5)?
        .parse()
        .map_err(|e| StoreError::corrupt(what(), e))?;
    let state = match stored_state.as_str() {
        "cancelled" => Lifecycle::Cancelled,
        "superseded" => Lifecycle::Superseded,
        _ if expires_ms.is_some_and(|e| e < ms(now)) => Lifecycle::Expired,
        _ => Lifecycle::Active,
    };
    let advisory = Advisory {
        key: AdvisoryKey {
            sender: word(1)?,
            identifier: word(2)?,
        },
        source: word(3)?,
        source_format: word(4)?
            .parse()
            .map_err(|e| StoreError::corrupt(what(), e))?,
        msg_type,
        status: word(6)?
            .parse()
            .map_err(|e| StoreError::corrupt(what(), e))?,
        scope: word(7)?
            .parse()
            .map_err(|e| StoreError::corrupt(what(), e))?,
        sent: DateTime::parse_from_rfc3339(&sent_text)
            .map_err(|e| StoreError::corrupt(what(), e))?,
        sent_text,
        references: refs
            .into_iter()
            .map(|(sender, identifier, sent)| AlertReference {
                sender,
                identifier,
                sent,
            })
            .collect(),
        infos: infos_from_json(&word(10)?)?,
        areas: Vec::new(),
        hazard,
    };
    Ok(AdvisoryRow {
        id,
        advisory,
        state,
        imported_at: super::from_ms(row.get(14)?),
    })
}

fn areas_of(conn: &Connection, advisory_id: i64) -> Result<Vec<StoredArea>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, description, geometry, circles, geocodes FROM advisory_areas WHERE advisory_id = ?1 ORDER BY position",
    )?;
    let rows = stmt.query_map([advisory_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, description, geometry, circles, geocodes) = row?;
        let what = || format!("advisory area {id}");
        let geometry = geometry
            .map(|g| {
                g.parse::<geojson::Geometry>()
                    .map_err(|e| StoreError::corrupt(what(), e))
            })
            .transpose()?;
        let circles: Vec<[f64; 3]> =
            serde_json::from_str(&circles).map_err(|e| StoreError::corrupt(what(), e))?;
        let geocodes: Vec<(String, String)> =
            serde_json::from_str(&geocodes).map_err(|e| StoreError::corrupt(what(), e))?;
        out.push(StoredArea {
            id,
            advisory_id,
            area: AdvisoryArea {
                description,
                geometry,
                circles: circles
                    .into_iter()
                    .map(|[lat, lon, radius_m]| Circle { lat, lon, radius_m })
                    .collect(),
                geocodes,
            },
        });
    }
    Ok(out)
}

fn attach_areas(conn: &Connection, mut row: AdvisoryRow) -> Result<AdvisoryRow> {
    row.advisory.areas = areas_of(conn, row.id)?
        .into_iter()
        .map(|a| a.area)
        .collect();
    Ok(row)
}

/// Whether an area contains a point: polygons by even-odd with holes, circles by
/// great-circle distance.
pub fn area_contains(area: &AdvisoryArea, lat: f64, lon: f64) -> bool {
    area.geometry
        .as_ref()
        .is_some_and(|g| geo::geometry_contains(g, lon, lat))
        || area
            .circles
            .iter()
            .any(|c| geo::distance_m(lat, lon, c.lat, c.lon) <= c.radius_m)
}

/// Index boxes for an area: one per polygon part and one per circle.
fn area_boxes(area: &AdvisoryArea) -> Vec<BBox> {
    let mut boxes = area
        .geometry
        .as_ref()
        .map(geo::geometry_part_bounds)
        .unwrap_or_default();
    for c in &area.circles {
        let dlat = (c.radius_m / geo::EARTH_RADIUS_M).to_degrees();
        let coslat = c.lat.to_radians().cos().max(1e-6);
        let dlon = (dlat / coslat).min(180.0);
        let (south, north) = ((c.lat - dlat).max(-90.0), (c.lat + dlat).min(90.0));
        let (west, east) = (c.lon - dlon, c.lon + dlon);
        if west < -180.0 || east > 180.0 || north >= 90.0 || south <= -90.0 {
            // Touches the antimeridian or a pole: index the full band of latitudes.
            boxes.push(BBox {
                west: -180.0,
                east: 180.0,
                south,
                north,
            });
        } else {
            boxes.push(BBox {
                west,
                east,
                south,
                north,
            });
        }
    }
    boxes
}

fn state_from_references(tx: &Transaction<'_>, key: &AdvisoryKey) -> Result<Option<&'static str>> {
    let (cancelled, total): (i64, i64) = tx
        .prepare_cached(
            "SELECT count(*) FILTER (WHERE effect = 'cancelled'), count(*) FROM advisory_references \
             WHERE sender = ?1 AND identifier = ?2",
        )?
        .query_row(params![key.sender, key.identifier], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(if cancelled > 0 {
        Some("cancelled")
    } else if total > 0 {
        Some("superseded")
    } else {
        None
    })
}

fn existing_id(tx: &Transaction<'_>, a: &Advisory) -> Result<Option<(i64, Option<i64>)>> {
    let by_key = tx
        .prepare_cached(
            "SELECT id, source_version FROM advisories WHERE sender = ?1 AND identifier = ?2",
        )?
        .query_row(params![a.key.sender, a.key.identifier], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if by_key.is_some() {
        return Ok(by_key);
    }
    let Some(h) = &a.hazard else { return Ok(None) };
    for alias in std::iter::once(&a.key.identifier).chain(&h.aliases) {
        let found = tx
            .prepare_cached(
                "SELECT a.id, a.source_version FROM advisory_aliases x JOIN advisories a ON a.id = x.advisory_id \
                 WHERE x.source_format = ?1 AND x.alias = ?2",
            )?
            .query_row(params![a.source_format.as_str(), alias], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

fn write_advisory(
    tx: &Transaction<'_>,
    a: &Advisory,
    id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let refs: Vec<(&str, &str, &str)> = a
        .references
        .iter()
        .map(|r| (r.sender.as_str(), r.identifier.as_str(), r.sent.as_str()))
        .collect();
    let refs = serde_json::to_string(&refs).map_err(|e| StoreError::corrupt("references", e))?;
    let infos = infos_to_json(&a.infos)?;
    let hazard = a.hazard.as_ref().map(hazard_to_json).transpose()?;
    let source_version = a.hazard.as_ref().and_then(|h| h.source_version);
    let own_state = match a.msg_type {
        MsgType::Cancel => "cancelled",
        _ => state_from_references(tx, &a.key)?.unwrap_or("active"),
    };
    let values = params![
        a.key.sender,
        a.key.identifier,
        a.source,
        a.source_format.as_str(),
        a.msg_type.as_str(),
        a.status.as_str(),
        a.scope.as_str(),
        a.sent.to_rfc3339(),
        a.sent.timestamp_millis(),
        refs,
        infos,
        hazard,
        a.severity().rank(),
        a.expires().map(|e| e.timestamp_millis()),
        own_state,
        source_version,
        ms(now),
    ];
    let id = match id {
        None => {
            tx.prepare_cached(
                "INSERT INTO advisories (sender, identifier, source, source_format, msg_type, status, scope, sent, sent_ms, \
                 refs, infos, hazard, severity_rank, expires_ms, state, source_version, imported_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            )?
            .execute(values)?;
            tx.last_insert_rowid()
        }
        Some(id) => {
            tx.prepare_cached(
                "UPDATE advisories SET sender = ?1, identifier = ?2, source = ?3, source_format = ?4, msg_type = ?5, \
                 status = ?6, scope = ?7, sent = ?8, sent_ms = ?9, refs = ?10, infos = ?11, hazard = ?12, \
                 severity_rank = ?13, expires_ms = ?14, state = ?15, source_version = ?16, imported_at = ?17 WHERE id = ?18",
            )?
            .execute(rusqlite::params_from_iter(values.iter().copied().chain([&id as &dyn rusqlite::ToSql])))?;
            delete_areas(tx, id)?;
            tx.prepare_cached("DELETE FROM advisory_aliases WHERE advisory_id = ?1")?
                .execute([id])?;
            id
        }
    };
    for (position, area) in a.areas.iter().enumerate() {
        let geometry = area.geometry.as_ref().map(|g| g.to_string());
        let circles: Vec<[f64; 3]> = area
            .circles
            .iter()
            .map(|c| [c.lat, c.lon, c.radius_m])
            .collect();
        tx.prepare_cached(
            "INSERT INTO advisory_areas (advisory_id, position, description, geometry, circles, geocodes) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            id,
            position,
            area.description,
            geometry,
            serde_json::to_string(&circles).map_err(|e| StoreError::corrupt("circles", e))?,
            serde_json::to_string(&area.geocodes).map_err(|e| StoreError::corrupt("geocodes", e))?,
        ])?;
        let area_id = tx.last_insert_rowid();
        for b in area_boxes(area) {
            tx.prepare_cached(
                "INSERT INTO advisory_area_rtree (min_lon, max_lon, min_lat, max_lat, area_id) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![b.west, b.east, b.south, b.north, area_id])?;
        }
    }
    if let Some(h) = &a.hazard {
        for alias in std::iter::once(&a.key.identifier).chain(&h.aliases) {
            tx.prepare_cached(
                "INSERT INTO advisory_aliases (source_format, alias, advisory_id) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO UPDATE SET advisory_id = excluded.advisory_id",
            )?
            .execute(params![a.source_format.as_str(), alias, id])?;
        }
    }
    Ok(id)
}

fn delete_areas(tx: &Transaction<'_>, advisory_id: i64) -> Result<()> {
    tx.prepare_cached(
        "DELETE FROM advisory_area_rtree WHERE area_id IN (SELECT id FROM advisory_areas WHERE advisory_id = ?1)",
    )?
    .execute([advisory_id])?;
    tx.prepare_cached("DELETE FROM advisory_areas WHERE advisory_id = ?1")?
        .execute([advisory_id])?;
    Ok(())
}

/// Applies an Update/Cancel's references; returns the earlier advisories whose state changed.
fn apply_references(
    tx: &Transaction<'_>,
    a: &Advisory,
    id: i64,
) -> Result<Vec<(AdvisoryKey, Lifecycle)>> {
    let effect = match a.msg_type {
        MsgType::Update => "superseded",
        MsgType::Cancel => "cancelled",
        _ => return Ok(Vec::new()),
    };
    let mut affected = Vec::new();
    // Some publishers list the message itself among its references; it cannot supersede itself.
    // And only the sender of an alert may update or cancel it: a reference to another
    // sender's alert is ignored, so a forged or mistaken message cannot silence a warning it
    // did not issue.
    for r in a
        .references
        .iter()
        .filter(|r| r.sender != a.key.sender || r.identifier != a.key.identifier)
        .filter(|r| r.sender == a.key.sender)
    {
        tx.prepare_cached(
            "INSERT INTO advisory_references (sender, identifier, by_advisory, effect) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![r.sender, r.identifier, id, effect])?;
        let key = r.key();
        let Some(new_state) = state_from_references(tx, &key)? else {
            continue;
        };
        let changed = tx
            .prepare_cached(
                "UPDATE advisories SET state = ?3 WHERE sender = ?1 AND identifier = ?2 AND state <> ?3 AND msg_type <> 'Cancel'",
            )?
            .execute(params![key.sender, key.identifier, new_state])?;
        if changed > 0 {
            affected.push((
                key,
                if new_state == "cancelled" {
                    Lifecycle::Cancelled
                } else {
                    Lifecycle::Superseded
                },
            ));
        }
    }
    Ok(affected)
}

impl Store {
    /// Stores advisories in one transaction. Re-importing the same alert changes nothing; a
    /// hazard event replaces its stored copy only when its source version is newer.
    pub fn upsert_advisories(
        &self,
        advisories: &[Advisory],
        now: DateTime<Utc>,
    ) -> Result<Vec<AdvisoryChange>> {
        self.write(|tx| {
            let mut out = Vec::with_capacity(advisories.len());
            for a in advisories {
                let (id, outcome) = match existing_id(tx, a)? {
                    None => (write_advisory(tx, a, None, now)?, UpsertOutcome::Inserted),
                    Some((id, stored_version)) => {
                        let newer = match (
                            a.hazard.as_ref().and_then(|h| h.source_version),
                            stored_version,
                        ) {
                            (Some(incoming), Some(stored)) => incoming > stored,
                            (Some(_), None) => true,
                            _ => false, // CAP: one (sender, identifier) is one message
                        };
                        if newer {
                            (
                                write_advisory(tx, a, Some(id), now)?,
                                UpsertOutcome::Updated,
                            )
                        } else {
                            (id, UpsertOutcome::Unchanged)
                        }
                    }
                };
                let affected = if outcome == UpsertOutcome::Unchanged {
                    Vec::new()
                } else {
                    apply_references(tx, a, id)?
                };
                out.push(AdvisoryChange {
                    key: a.key.clone(),
                    outcome,
                    affected,
                });
            }
            Ok(out)
        })
    }

    /// Removes a hazard event the source withdrew (USGS `status: deleted`), found by any of
    /// its ids. Returns whether one was removed.
    pub fn remove_hazard(&self, format: SourceFormat, ids: &[String]) -> Result<bool> {
        self.write(|tx| {
            for alias in ids {
                let id: Option<i64> = tx
                    .prepare_cached("SELECT advisory_id FROM advisory_aliases WHERE source_format = ?1 AND alias = ?2")?
                    .query_row(params![format.as_str(), alias], |r| r.get(0))
                    .optional()?;
                if let Some(id) = id {
                    delete_areas(tx, id)?;
                    tx.prepare_cached("DELETE FROM advisories WHERE id = ?1")?.execute([id])?;
                    return Ok(true);
                }
            }
            Ok(false)
        })
    }

    /// Advisories, most severe and newest first; only real active warnings when asked.
    pub fn advisories(&self, active_only: bool, now: DateTime<Utc>) -> Result<Vec<AdvisoryRow>> {
        self.read(|c| {
            let filter = if active_only {
                "WHERE a.state = 'active' AND a.status = 'Actual' AND a.msg_type IN ('Alert', 'Update') \
                 AND (a.expires_ms IS NULL OR a.expires_ms >= ?1)"
            } else {
                "WHERE ?1 IS NOT NULL"
            };
            let sql = format!("SELECT {ADVISORY_COLUMNS} FROM advisories a {filter} ORDER BY a.severity_rank, a.sent_ms DESC");
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt.query([ms(now)])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(attach_areas(c, advisory_from_row(row, now)?)?);
            }
            Ok(out)
        })
    }

    pub fn advisory(&self, key: &AdvisoryKey, now: DateTime<Utc>) -> Result<Option<AdvisoryRow>> {
        self.read(|c| {
            let sql = format!("SELECT {ADVISORY_COLUMNS} FROM advisories a WHERE a.sender = ?1 AND a.identifier = ?2");
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![key.sender, key.identifier])?;
            match rows.next()? {
                Some(row) => Ok(Some(attach_areas(c, advisory_from_row(row, now)?)?)),
                None => Ok(None),
            }
        })
    }

    pub fn advisory_by_id(&self, id: i64, now: DateTime<Utc>) -> Result<Option<AdvisoryRow>> {
        self.read(|c| {
            let sql = format!("SELECT {ADVISORY_COLUMNS} FROM advisories a WHERE a.id = ?1");
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt.query([id])?;
            match rows.next()? {
                Some(row) => Ok(Some(attach_areas(c, advisory_from_row(row, now)?)?)),
                None => Ok(None),
            }
        })
    }

    /// Help requests whose location lies inside any area of the advisory (true
    /// point-in-polygon, holes respected; circles by great-circle distance).
    pub fn requests_in_advisory(
        &self,
        advisory_id: i64,
        open_only: bool,
    ) -> Result<Vec<StoredRequest>> {
        self.read_indexed(|c| {
            let areas = areas_of(c, advisory_id)?;
            let mut seen = BTreeSet::new();
            let mut out = Vec::new();
            let sql = format!(
                "SELECT {REQUEST_COLUMNS} FROM main.requests r WHERE r.rowid IN \
                 (SELECT id FROM ix.requests_rtree WHERE min_lon >= ?1 AND max_lon <= ?2 AND min_lat >= ?3 AND max_lat <= ?4) \
                 AND (?5 = 0 OR r.is_open = 1)"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            for stored in &areas {
                for b in area_boxes(&stored.area) {
                    let mut rows = stmt.query(params![b.west - 1e-4, b.east + 1e-4, b.south - 1e-4, b.north + 1e-4, open_only])?;
                    while let Some(row) = rows.next()? {
                        let r = request_from_row(row)?;
                        let Some(loc) = &r.request.location else { continue };
                        if area_contains(&stored.area, loc.lat, loc.lon) && seen.insert(r.request.id.clone()) {
                            out.push(r);
                        }
                    }
                }
            }
            out.sort_by_key(|r| std::cmp::Reverse(r.request.created_at));
            Ok(out)
        })
    }

    /// Advisories with an area containing the point (the detail panel's "which advisories
    /// cover this place"), most severe first.
    pub fn advisories_covering(
        &self,
        lat: f64,
        lon: f64,
        now: DateTime<Utc>,
    ) -> Result<Vec<AdvisoryRow>> {
        let ids: Vec<i64> = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT DISTINCT x.area_id, a.advisory_id FROM advisory_area_rtree x JOIN advisory_areas a ON a.id = x.area_id \
                 WHERE x.min_lon <= ?1 AND x.max_lon >= ?1 AND x.min_lat <= ?2 AND x.max_lat >= ?2",
            )?;
            let candidates: Vec<(i64, i64)> =
                stmt.query_map(params![lon, lat], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
            let mut ids = BTreeSet::new();
            for (area_id, advisory_id) in candidates {
                if ids.contains(&advisory_id) {
                    continue;
                }
                let covers = areas_of(c, advisory_id)?.iter().any(|a| a.id == area_id && area_contains(&a.area, lat, lon));
                if covers {
                    ids.insert(advisory_id);
                }
            }
            Ok(ids.into_iter().collect())
        })?;
        let mut rows = Vec::new();
        for id in ids {
            rows.extend(self.advisory_by_id(id, now)?);
        }
        rows.sort_by_key(|r| {
            (
                r.advisory.severity().rank(),
                std::cmp::Reverse(r.advisory.sent),
            )
        });
        Ok(rows)
    }

    /// Whether an advisory fetched from `source` (a CAP document's URL) is stored already:
    /// feed indexes list the same documents poll after poll.
    pub fn advisory_source_known(&self, source: &str) -> Result<bool> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT 1 FROM advisories WHERE source = ?1 LIMIT 1")?
                    .query_row([source], |_| Ok(()))
                    .optional()?
                    .is_some(),
            )
        })
    }

    /// The stored areas of one advisory, with their ids.
    pub fn advisory_areas(&self, advisory_id: i64) -> Result<Vec<StoredArea>> {
        self.read(|c| areas_of(c, advisory_id))
    }
}
