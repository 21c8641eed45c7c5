//! The in-memory request index: every request as a small record, located ones in a 1° grid.
//! It answers what the desk asks on every pan, filter change and scroll: clusters for the
//! viewport, and the queue's order and counts.
//!
//! Why not SQLite for these: at 10^6 requests a country-sized view matches tens of thousands
//! of rows, and reading them through the R*Tree and the table costs ~2 µs each (35 ms for a
//! city, far more for a country; docs/PERFORMANCE.md). Filtering compact in-memory records
//! costs nanoseconds each, and the grid limits a viewport to the cells in view. The store
//! stays the source of truth: it builds the index from the database and keeps it current
//! from SQLite's update hook, so every write path is covered (see `Store::enable_index`).

mod clusters;
mod filter;
mod point;
mod queue;

pub use clusters::Cluster;
pub use filter::{PointFilter, RowidSet};
pub use point::{IntHasher, MapPoint, PointSource};

use filter::mask;
use point::{IntMap, Interner};

use crate::geo::BBox;
use crate::model::{Category, Priority, Status};
use crate::store::{AssigneeFilter, RequestQuery};

/// Side of a grid cell, degrees.
const CELL_DEG: f64 = 1.0;
const COLS: i32 = 360;

/// Where requests without a location are kept (not a grid cell).
const UNLOCATED: u32 = u32::MAX;

#[derive(Debug, Default)]
pub struct MapIndex {
    cells: IntMap<u32, Vec<MapPoint>>,
    cell_of: IntMap<i64, u32>,
    countries: Interner,
    posts: Interner,
    assignees: Interner,
    /// Open emergencies among the points, kept by `upsert` and `remove`.
    open_emergencies: u64,
}

fn cell_key(lon: f64, lat: f64) -> u32 {
    let x = (((lon + 180.0) / CELL_DEG).floor() as i32).clamp(0, COLS - 1);
    let y = (((lat + 90.0) / CELL_DEG).floor() as i32).clamp(0, 179);
    (y * COLS + x) as u32
}

impl MapIndex {
    pub fn new() -> MapIndex {
        MapIndex::default()
    }

    pub fn len(&self) -> usize {
        self.cell_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cell_of.is_empty()
    }

    /// Adds or replaces the point of `src.rowid`.
    pub fn upsert(&mut self, src: &PointSource<'_>) {
        let status = Status::ALL
            .iter()
            .position(|s| *s == src.status)
            .unwrap_or(0) as u8;
        let triage_rank = if !src.status.is_open() {
            5
        } else if src.emergency {
            0
        } else {
            1 + src.priority.rank()
        };
        let (lon, lat) = src.position.unwrap_or((f64::NAN, f64::NAN));
        let point = MapPoint {
            rowid: src.rowid,
            lon: lon as f32,
            lat: lat as f32,
            triage_rank,
            created_ms: src.created_at.timestamp_millis(),
            located_ms: src.located_at.map_or(0, |t| t.timestamp_millis()),
            priority: src.priority.rank(),
            status,
            category: Category::ALL
                .iter()
                .position(|c| *c == src.category)
                .unwrap_or(0) as u8,
            emergency: src.emergency,
            country: self.countries.get_or_add(src.country),
            post: self.posts.get_or_add(src.post),
            assignee: self.assignees.get_or_add(src.assignee),
        };
        let key = src
            .position
            .map_or(UNLOCATED, |(lon, lat)| cell_key(lon, lat));
        // One lookup for "where was it" and "it is here now" (most calls add a new point).
        if let Some(old_key) = self.cell_of.insert(src.rowid, key) {
            self.remove_from_cell(old_key, src.rowid);
        }
        if point.emergency && point.is_open() {
            self.open_emergencies += 1;
        }
        self.cells.entry(key).or_default().push(point);
    }

    /// Removes a point (a request that lost its location or was deleted).
    pub fn remove(&mut self, rowid: i64) {
        if let Some(key) = self.cell_of.remove(&rowid) {
            self.remove_from_cell(key, rowid);
        }
    }

    fn remove_from_cell(&mut self, key: u32, rowid: i64) {
        if let Some(cell) = self.cells.get_mut(&key)
            && let Some(i) = cell.iter().position(|p| p.rowid == rowid)
        {
            let gone = cell.swap_remove(i);
            if gone.emergency && gone.is_open() {
                self.open_emergencies -= 1;
            }
        }
    }

    /// Compiles a query's filters (its box and order are ignored: the viewport gives the box).
    pub fn filter(&self, q: &RequestQuery, text_matches: Option<RowidSet>) -> PointFilter {
        let interned = |values: &[String], interner: &Interner| {
            (!values.is_empty()).then(|| {
                values
                    .iter()
                    .map(|v| interner.lookup(v).unwrap_or(u16::MAX))
                    .collect()
            })
        };
        PointFilter {
            statuses: mask(&q.statuses, Status::ALL),
            priorities: mask(&q.priorities, Priority::ALL),
            categories: mask(&q.categories, Category::ALL),
            emergency: q.emergency,
            countries: interned(&q.countries, &self.countries),
            posts: interned(&q.posts, &self.posts),
            assignee: match &q.assignee {
                None => None,
                Some(AssigneeFilter::Unassigned) => Some(0),
                Some(AssigneeFilter::To(who)) => {
                    Some(self.assignees.lookup(who).unwrap_or(u16::MAX))
                }
            },
            created_from: q.created_from.map(|t| t.timestamp_millis()),
            created_to: q.created_to.map(|t| t.timestamp_millis()),
            rowids: text_matches,
        }
    }

    /// Calls `f` for every point inside `bbox` that the filter keeps.
    pub fn for_each_in(&self, bbox: &BBox, filter: &PointFilter, mut f: impl FnMut(&MapPoint)) {
        for part in bbox.parts() {
            let x0 = (((part.west + 180.0) / CELL_DEG).floor() as i32).clamp(0, COLS - 1);
            let x1 = (((part.east + 180.0) / CELL_DEG).floor() as i32).clamp(0, COLS - 1);
            let y0 = (((part.south + 90.0) / CELL_DEG).floor() as i32).clamp(0, 179);
            let y1 = (((part.north + 90.0) / CELL_DEG).floor() as i32).clamp(0, 179);
            let (w, e, s, n) = (
                part.west as f32,
                part.east as f32,
                part.south as f32,
                part.north as f32,
            );
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let Some(cell) = self.cells.get(&((y * COLS + x) as u32)) else {
                        continue;
                    };
                    for p in cell {
                        if p.lon >= w && p.lon <= e && p.lat >= s && p.lat <= n && filter.keeps(p) {
                            f(p);
                        }
                    }
                }
            }
        }
    }

    /// Calls `f` for every request (located or not) the filter keeps.
    pub fn for_each(&self, filter: &PointFilter, mut f: impl FnMut(&MapPoint)) {
        for cell in self.cells.values() {
            cell.iter().filter(|p| filter.keeps(p)).for_each(&mut f);
        }
    }
}

#[cfg(test)]
mod tests;
