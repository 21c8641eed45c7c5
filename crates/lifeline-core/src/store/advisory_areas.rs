//! Advisory areas in the store: each area of an advisory as a row (its polygons as GeoJSON,
//! its circles, its geocodes), indexed in an R*Tree by one box per polygon part and per
//! circle, and the point-in-area queries the desk needs (which requests an advisory covers,
//! which advisories cover a place). Containment of polygons and circles is exact: the boxes
//! only narrow the search. An area with neither, named only by ISO 3166-2 codes, holds the
//! points whose nearest city lies in those provinces (`geo::cities`), as near as the
//! gazetteer can tell.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Transaction, params};

use super::advisories::AdvisoryRow;
use super::requests::{REQUEST_COLUMNS, StoredRequest, request_from_row};
use super::{Result, Store, StoreError};
use crate::geo::{self, BBox};
use crate::model::{AdvisoryArea, Circle};

/// One stored area with its row id (the map and the detail panel address areas by it).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredArea {
    pub id: i64,
    pub advisory_id: i64,
    pub area: AdvisoryArea,
}

pub(super) fn areas_of(conn: &Connection, advisory_id: i64) -> Result<Vec<StoredArea>> {
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

pub(super) fn attach_areas(conn: &Connection, mut row: AdvisoryRow) -> Result<AdvisoryRow> {
    row.advisory.areas = areas_of(conn, row.id)?
        .into_iter()
        .map(|a| a.area)
        .collect();
    Ok(row)
}

/// Whether an area contains a point: polygons by even-odd with holes, circles by
/// great-circle distance.
pub fn area_contains(area: &AdvisoryArea, lat: f64, lon: f64) -> bool {
    if area.geometry.is_none() && area.circles.is_empty() {
        return geocoded_area_contains(area, lat, lon);
    }
    area.geometry
        .as_ref()
        .is_some_and(|g| geo::geometry_contains(g, lon, lat))
        || area
            .circles
            .iter()
            .any(|c| geo::distance_m(lat, lon, c.lat, c.lon) <= c.radius_m)
}

/// The subdivisions an area names by ISO 3166-2 geocode.
fn iso_codes(area: &AdvisoryArea) -> Vec<&str> {
    area.geocodes
        .iter()
        .filter(|(name, _)| geo::subdivisions::is_iso_3166_2(name))
        .map(|(_, value)| value.trim())
        .collect()
}

/// An area with neither polygon nor circle, named by ISO 3166-2 codes (many national
/// feeds send only those): it holds the points whose nearest city is in one of them.
fn geocoded_area_contains(area: &AdvisoryArea, lat: f64, lon: f64) -> bool {
    let codes = iso_codes(area);
    !codes.is_empty() && geo::cities::in_subdivisions(lat, lon, &codes)
}

/// Index boxes for an area: one per polygon part and one per circle; for an area named
/// only by subdivision codes, the parts of each subdivision's extent.
fn area_boxes(area: &AdvisoryArea) -> Vec<BBox> {
    if area.geometry.is_none() && area.circles.is_empty() {
        return iso_codes(area)
            .into_iter()
            .filter_map(geo::cities::subdivision_extent)
            .flat_map(|b| b.parts())
            .collect();
    }
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

/// Writes an advisory's areas with their index boxes.
pub(super) fn write_areas(tx: &Transaction<'_>, id: i64, areas: &[AdvisoryArea]) -> Result<()> {
    for (position, area) in areas.iter().enumerate() {
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
    Ok(())
}

/// Rewrites the index boxes of the areas named only by ISO 3166-2 codes. Their boxes come
/// from the gazetteer built into this version: an advisory stored by an earlier version has
/// none, and a newer gazetteer moves them. Run at every open; such areas are few.
pub(super) fn refresh_geocoded_boxes(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let areas: Vec<(i64, String)> = tx
        .prepare(
            "SELECT id, geocodes FROM advisory_areas \
             WHERE geometry IS NULL AND circles = '[]' AND geocodes != '[]'",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, geocodes) in areas {
        let area = AdvisoryArea {
            description: String::new(),
            geometry: None,
            circles: Vec::new(),
            geocodes: serde_json::from_str(&geocodes)
                .map_err(|e| StoreError::corrupt(format!("advisory area {id}"), e))?,
        };
        tx.execute("DELETE FROM advisory_area_rtree WHERE area_id = ?1", [id])?;
        for b in area_boxes(&area) {
            tx.execute(
                "INSERT INTO advisory_area_rtree (min_lon, max_lon, min_lat, max_lat, area_id) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![b.west, b.east, b.south, b.north, id],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

pub(super) fn delete_areas(tx: &Transaction<'_>, advisory_id: i64) -> Result<()> {
    tx.prepare_cached(
        "DELETE FROM advisory_area_rtree WHERE area_id IN (SELECT id FROM advisory_areas WHERE advisory_id = ?1)",
    )?
    .execute([advisory_id])?;
    tx.prepare_cached("DELETE FROM advisory_areas WHERE advisory_id = ?1")?
        .execute([advisory_id])?;
    Ok(())
}

/// Applies an Update/Cancel's references; returns the earlier advisories whose state changed.
impl Store {
    /// Help requests whose location lies inside any area of the advisory (true
    /// point-in-polygon, holes respected; circles by great-circle distance).
    pub fn requests_in_advisory(
        &self,
        advisory_id: i64,
        open_only: bool,
    ) -> Result<Vec<StoredRequest>> {
        let areas = self.read(|c| areas_of(c, advisory_id))?;
        let areas: Vec<AdvisoryArea> = areas.into_iter().map(|a| a.area).collect();
        self.requests_in_areas(&areas, open_only)
    }

    /// How many requests an advisory covers (open ones only, if asked), without reading
    /// one row when the in-memory index is built: what an alert on the advisory says. An
    /// earthquake advisory over a city of a store of 10^6 covers tens of thousands of
    /// requests, and reading them all at each advisory change held the alerts back.
    pub fn count_requests_in_advisory(&self, advisory_id: i64, open_only: bool) -> Result<usize> {
        let areas: Vec<AdvisoryArea> = self
            .read(|c| areas_of(c, advisory_id))?
            .into_iter()
            .map(|a| a.area)
            .collect();
        if !self.index_enabled() {
            return Ok(self.requests_in_areas(&areas, open_only)?.len());
        }
        let q = if open_only {
            crate::store::RequestQuery::open()
        } else {
            crate::store::RequestQuery::default()
        };
        self.with_index(|index| {
            let filter = index.filter(&q, None);
            let mut inside = std::collections::HashSet::new();
            for area in &areas {
                for b in area_boxes(area) {
                    index.for_each_in(&b, &filter, |p| {
                        // The index keeps positions as f32 (about a metre): a count, not
                        // the list a reminder is sent to (`requests_in_areas`).
                        if area_contains(area, p.lat(), p.lon()) {
                            inside.insert(p.rowid());
                        }
                    });
                }
            }
            inside.len()
        })
    }

    /// Help requests whose location lies inside any of `areas` (an advisory's, or one an
    /// officer drew), newest first.
    pub fn requests_in_areas(
        &self,
        areas: &[AdvisoryArea],
        open_only: bool,
    ) -> Result<Vec<StoredRequest>> {
        self.read_indexed(|c| {
            let mut seen = BTreeSet::new();
            let mut out = Vec::new();
            let sql = format!(
                "SELECT {REQUEST_COLUMNS} FROM main.requests r WHERE r.rowid IN \
                 (SELECT id FROM ix.requests_rtree WHERE min_lon >= ?1 AND max_lon <= ?2 AND min_lat >= ?3 AND max_lat <= ?4) \
                 AND (?5 = 0 OR r.is_open = 1)"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            for area in areas {
                for b in area_boxes(area) {
                    let mut rows = stmt.query(params![b.west - 1e-4, b.east + 1e-4, b.south - 1e-4, b.north + 1e-4, open_only])?;
                    while let Some(row) = rows.next()? {
                        let r = request_from_row(row)?;
                        let Some(loc) = &r.request.location else { continue };
                        if area_contains(area, loc.lat, loc.lon) && seen.insert(r.request.id.clone()) {
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

    /// The stored areas of one advisory, with their ids.
    pub fn advisory_areas(&self, advisory_id: i64) -> Result<Vec<StoredArea>> {
        self.read(|c| areas_of(c, advisory_id))
    }
}
