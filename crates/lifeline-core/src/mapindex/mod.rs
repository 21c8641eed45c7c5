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
mod snapshot;

pub use clusters::Cluster;
pub use filter::{PointFilter, RowidSet};
pub use point::{IntHasher, MapPoint, PointSource};
pub use snapshot::SnapshotError;

use filter::mask;
use point::{Interner, mercator_y_deg};

use crate::geo::BBox;
use crate::model::{Category, Priority, Status};
use crate::store::{AssigneeFilter, RequestQuery};

/// Side of a grid cell, degrees.
const CELL_DEG: f64 = 1.0;
const COLS: i32 = 360;
const ROWS: i32 = 180;

/// Where requests without a location are kept: the cell after the grid's.
const UNLOCATED: u32 = (COLS * ROWS) as u32;

/// In `cell_of`: a rowid the index does not hold.
const ABSENT: u32 = u32::MAX;

#[derive(Debug)]
pub struct MapIndex {
    /// The grid's cells, row by row from the south-west, then the unlocated requests.
    cells: Vec<Vec<MapPoint>>,
    /// The cell of each rowid (`ABSENT` when not held): an array, since rowids are dense
    /// (the store never deletes a request), at 4 bytes a request where a hash map took ~35.
    cell_of: Vec<u32>,
    len: usize,
    countries: Interner,
    posts: Interner,
    assignees: Interner,
    /// Open emergencies among the points, kept by `upsert` and `remove`.
    open_emergencies: u64,
}

impl Default for MapIndex {
    fn default() -> MapIndex {
        MapIndex {
            cells: vec![Vec::new(); UNLOCATED as usize + 1],
            cell_of: Vec::new(),
            len: 0,
            countries: Interner::default(),
            posts: Interner::default(),
            assignees: Interner::default(),
            open_emergencies: 0,
        }
    }
}

/// A rowid the index cannot hold (above 2^32 - 2; see [`MapPoint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowidOutOfRange(pub i64);

impl std::fmt::Display for RowidOutOfRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "request rowid {} is beyond the map index's range",
            self.0
        )
    }
}

impl std::error::Error for RowidOutOfRange {}

fn cell_key(lon: f64, lat: f64) -> u32 {
    let x = (((lon + 180.0) / CELL_DEG).floor() as i32).clamp(0, COLS - 1);
    let y = (((lat + 90.0) / CELL_DEG).floor() as i32).clamp(0, ROWS - 1);
    (y * COLS + x) as u32
}

impl MapIndex {
    pub fn new() -> MapIndex {
        MapIndex::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds or replaces the point of `src.rowid`.
    pub fn upsert(&mut self, src: &PointSource<'_>) -> Result<(), RowidOutOfRange> {
        let rowid = u32::try_from(src.rowid)
            .ok()
            .filter(|r| *r != ABSENT)
            .ok_or(RowidOutOfRange(src.rowid))?;
        let status = Status::ALL
            .iter()
            .position(|s| *s == src.status)
            .unwrap_or(0) as u8;
        let (lon, y) = src.position.map_or((f32::NAN, f32::NAN), |(lon, lat)| {
            (lon as f32, mercator_y_deg(lat) as f32)
        });
        let point = MapPoint {
            created_ms: src.created_at.timestamp_millis(),
            rowid,
            lon,
            y,
            located_s: src.located_at.map_or(0, |t| {
                u32::try_from(t.timestamp().max(1)).unwrap_or(u32::MAX)
            }),
            country: self.countries.get_or_add(src.country),
            post: self.posts.get_or_add(src.post),
            assignee: self.assignees.get_or_add(src.assignee),
            state: status | (src.priority.rank() << 4) | (u8::from(src.emergency) << 6),
            category: Category::ALL
                .iter()
                .position(|c| *c == src.category)
                .unwrap_or(0) as u8,
        };
        let key = src
            .position
            .map_or(UNLOCATED, |(lon, lat)| cell_key(lon, lat));
        let slot = rowid as usize;
        if slot >= self.cell_of.len() {
            // Grown by half again, not doubled: at 10^6 a doubling would leave megabytes idle.
            let grown = (slot + 1).max(self.cell_of.len() + self.cell_of.len() / 2);
            self.cell_of.resize(grown, ABSENT);
        }
        let old_key = std::mem::replace(&mut self.cell_of[slot], key);
        if old_key == ABSENT {
            self.len += 1;
        } else {
            self.remove_from_cell(old_key, rowid);
        }
        if point.emergency() && point.is_open() {
            self.open_emergencies += 1;
        }
        self.cells[key as usize].push(point);
        Ok(())
    }

    /// Removes a point (a request that lost its location or was deleted).
    pub fn remove(&mut self, rowid: i64) {
        let Ok(slot) = usize::try_from(rowid) else {
            return;
        };
        let Some(key) = self.cell_of.get_mut(slot) else {
            return;
        };
        let key = std::mem::replace(key, ABSENT);
        if key != ABSENT {
            self.len -= 1;
            self.remove_from_cell(key, slot as u32);
        }
    }

    fn remove_from_cell(&mut self, key: u32, rowid: u32) {
        if let Some(cell) = self.cells.get_mut(key as usize)
            && let Some(i) = cell.iter().position(|p| p.rowid == rowid)
        {
            let gone = cell.swap_remove(i);
            if gone.emergency() && gone.is_open() {
                self.open_emergencies -= 1;
            }
        }
    }

    /// Gives back the spare capacity the cells grew while the index was built.
    pub fn shrink_to_fit(&mut self) {
        for cell in &mut self.cells {
            cell.shrink_to_fit();
        }
        self.cell_of.shrink_to_fit();
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
            let y0 = (((part.south + 90.0) / CELL_DEG).floor() as i32).clamp(0, ROWS - 1);
            let y1 = (((part.north + 90.0) / CELL_DEG).floor() as i32).clamp(0, ROWS - 1);
            // The box in the points' own plane (Mercator `y` is monotonic in latitude).
            let (w, e, s, n) = (
                part.west as f32,
                part.east as f32,
                mercator_y_deg(part.south) as f32,
                mercator_y_deg(part.north) as f32,
            );
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let cell = &self.cells[(y * COLS + x) as usize];
                    for p in cell {
                        if p.lon >= w && p.lon <= e && p.y >= s && p.y <= n && filter.keeps(p) {
                            f(p);
                        }
                    }
                }
            }
        }
    }

    /// Calls `f` for every request (located or not) the filter keeps.
    pub fn for_each(&self, filter: &PointFilter, mut f: impl FnMut(&MapPoint)) {
        for cell in &self.cells {
            cell.iter().filter(|p| filter.keeps(p)).for_each(&mut f);
        }
    }
}

#[cfg(test)]
mod tests;
