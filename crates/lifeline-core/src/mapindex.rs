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

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::geo::BBox;
use crate::model::{Category, Priority, Status};
use crate::store::{AssigneeFilter, Counts, RequestQuery};

/// Side of a grid cell, degrees.
const CELL_DEG: f64 = 1.0;
const COLS: i32 = 360;

/// One request, as much as the map and the queue need.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapPoint {
    pub rowid: i64,
    /// NaN when the request has no location.
    pub lon: f32,
    pub lat: f32,
    /// The queue's order: see `store::requests::triage_rank`.
    pub triage_rank: u8,
    pub created_ms: i64,
    /// When the location was captured (0: unknown).
    pub located_ms: i64,
    pub priority: u8,
    pub status: u8,
    pub category: u8,
    pub emergency: bool,
    pub country: u16,
    pub post: u16,
    pub assignee: u16,
}

impl MapPoint {
    fn is_open(&self) -> bool {
        Status::ALL
            .get(self.status as usize)
            .is_some_and(|s| s.is_open())
    }
}

/// The fields a point is built from (what the store streams), borrowing the row's text.
#[derive(Debug, Clone)]
pub struct PointSource<'a> {
    pub rowid: i64,
    /// `(lon, lat)`, when located.
    pub position: Option<(f64, f64)>,
    pub created_at: DateTime<Utc>,
    pub located_at: Option<DateTime<Utc>>,
    pub priority: Priority,
    pub status: Status,
    pub category: Category,
    pub emergency: bool,
    pub country: Option<&'a str>,
    pub post: Option<&'a str>,
    pub assignee: Option<&'a str>,
}

/// A hasher for the index's own integer keys (rowids, cell numbers): one multiply instead
/// of SipHash, which was a fifth of building the index. Not for text from outside, which
/// could be chosen to collide.
#[derive(Debug, Default, Clone, Copy)]
pub struct IntHasher(u64);

impl std::hash::Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }
}

type IntMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<IntHasher>>;

/// Interns short strings (countries, posts, assignees) to small integers. 0 means "none".
#[derive(Debug, Default)]
struct Interner {
    ids: HashMap<String, u16>,
}

impl Interner {
    fn get_or_add(&mut self, s: Option<&str>) -> u16 {
        let Some(s) = s else { return 0 };
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        // Past 65,534 distinct values new ones share the last id: filters on them become
        // approximate rather than the index failing. (Countries and posts number in hundreds.)
        let id = u16::try_from(self.ids.len() + 1).unwrap_or(u16::MAX);
        self.ids.insert(s.to_owned(), id);
        id
    }

    fn lookup(&self, s: &str) -> Option<u16> {
        self.ids.get(s).copied()
    }

    fn names(&self) -> HashMap<u16, &str> {
        self.ids.iter().map(|(s, id)| (*id, s.as_str())).collect()
    }
}

/// Which points a viewport query keeps: a [`RequestQuery`] compiled against the interners.
#[derive(Debug, Clone, Default)]
pub struct PointFilter {
    statuses: Option<u32>,
    priorities: Option<u32>,
    categories: Option<u32>,
    emergency: Option<bool>,
    countries: Option<HashSet<u16>>,
    posts: Option<HashSet<u16>>,
    assignee: Option<u16>,
    created_from: Option<i64>,
    created_to: Option<i64>,
    /// Rowids matching a text search, when there is one.
    rowids: Option<RowidSet>,
}

fn mask<T: Copy + PartialEq>(values: &[T], all: &[T]) -> Option<u32> {
    (!values.is_empty()).then(|| {
        values
            .iter()
            .filter_map(|v| all.iter().position(|a| a == v))
            .fold(0, |m, i| m | (1 << i))
    })
}

impl PointFilter {
    fn keeps(&self, p: &MapPoint) -> bool {
        self.statuses.is_none_or(|m| m & (1 << p.status) != 0)
            && self.priorities.is_none_or(|m| m & (1 << p.priority) != 0)
            && self.categories.is_none_or(|m| m & (1 << p.category) != 0)
            && self.emergency.is_none_or(|e| e == p.emergency)
            && self
                .countries
                .as_ref()
                .is_none_or(|c| c.contains(&p.country))
            && self.posts.as_ref().is_none_or(|c| c.contains(&p.post))
            && self.assignee.is_none_or(|a| a == p.assignee)
            && self.created_from.is_none_or(|t| p.created_ms >= t)
            && self.created_to.is_none_or(|t| p.created_ms < t)
            && self.rowids.as_ref().is_none_or(|r| r.contains(p.rowid))
    }
}

/// A set of rowids (the matches of a text search), tested once per point of the index.
///
/// A bitmap over the rowids: a text search for a common word at 10^6 requests matches ~10^5
/// of them, and testing every point against a hash set of those cost ~25 ms a query where
/// a bit test costs ~2 ms (measured 2026-12). Rowids are dense (the store never deletes a
/// request); a set too sparse for a bitmap stays a hash set.
#[derive(Debug, Clone)]
pub enum RowidSet {
    Bits(Vec<u64>),
    Sparse(HashSet<i64>),
}

impl RowidSet {
    pub fn contains(&self, rowid: i64) -> bool {
        match self {
            RowidSet::Bits(words) => usize::try_from(rowid)
                .is_ok_and(|i| words.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)),
            RowidSet::Sparse(set) => set.contains(&rowid),
        }
    }
}

impl FromIterator<i64> for RowidSet {
    fn from_iter<I: IntoIterator<Item = i64>>(iter: I) -> RowidSet {
        let rowids: Vec<i64> = iter.into_iter().collect();
        let max = rowids.iter().copied().max().unwrap_or(0);
        // A bitmap of max/8 bytes, if that is no more than a hash set would take.
        if max >= 0 && (max as u64) / 8 <= 64 * rowids.len() as u64 + 4096 {
            let mut words = vec![0u64; max as usize / 64 + 1];
            for r in rowids.into_iter().filter(|r| *r >= 0) {
                words[r as usize / 64] |= 1 << (r as usize % 64);
            }
            RowidSet::Bits(words)
        } else {
            RowidSet::Sparse(rowids.into_iter().collect())
        }
    }
}

/// A group of nearby requests at the current zoom (a single request when `count == 1`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cluster {
    pub lon: f64,
    pub lat: f64,
    pub count: u32,
    pub open: u32,
    /// Open emergencies in the cluster.
    pub open_emergencies: u32,
    /// The most urgent priority among its open requests (0 critical … 3 low; 4 when none open).
    pub top_priority: u8,
    /// For a single request: its rowid; 0 otherwise.
    pub rowid: i64,
    /// For a single request: its location is older than the staleness limit.
    pub stale: bool,
    /// For a single request: its status index (see `Status::ALL`).
    pub status: u8,
}

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

    /// [`MapIndex::for_each_in`] with a box, [`MapIndex::for_each`] without.
    fn for_each_maybe_in(
        &self,
        bbox: Option<&BBox>,
        filter: &PointFilter,
        f: impl FnMut(&MapPoint),
    ) {
        match bbox {
            Some(b) => self.for_each_in(b, filter, f),
            None => self.for_each(filter, f),
        }
    }

    /// One page of the queue: the total matching and the rowids at `offset..offset+limit`
    /// in queue order (open emergencies newest first, then by priority and age).
    pub fn page(
        &self,
        bbox: Option<&BBox>,
        filter: &PointFilter,
        limit: usize,
        offset: usize,
    ) -> (usize, Vec<i64>) {
        let mut keys: Vec<(u8, i64, i64)> = Vec::new();
        let mut push = |p: &MapPoint| keys.push((p.triage_rank, -p.created_ms, -p.rowid));
        match bbox {
            Some(b) => self.for_each_in(b, filter, &mut push),
            None => self.for_each(filter, &mut push),
        }
        let total = keys.len();
        let end = (offset + limit).min(total);
        if offset >= end {
            return (total, Vec::new());
        }
        // Only the first `end` need sorting: partition, then sort that prefix.
        if end < total {
            keys.select_nth_unstable(end);
            keys.truncate(end);
        }
        keys.sort_unstable();
        (total, keys[offset..end].iter().map(|k| -k.2).collect())
    }

    /// Counts of the requests the filter keeps (total, by status, category and country,
    /// each largest first), as `Store::counts` gives them from SQL, plus the open
    /// emergencies in the whole index.
    pub fn counts(&self, bbox: Option<&BBox>, filter: &PointFilter) -> Counts {
        let mut by_status = vec![0u64; Status::ALL.len()];
        let mut by_category = vec![0u64; Category::ALL.len()];
        let mut by_country: HashMap<u16, u64> = HashMap::new();
        let mut total = 0;
        self.for_each_maybe_in(bbox, filter, |p| {
            total += 1;
            by_status[p.status as usize] += 1;
            by_category[p.category as usize] += 1;
            *by_country.entry(p.country).or_default() += 1;
        });
        let names = self.countries.names();
        let ranked = |pairs: Vec<(String, u64)>| {
            let mut pairs: Vec<(String, u64)> = pairs.into_iter().filter(|(_, n)| *n > 0).collect();
            pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            pairs
        };
        Counts {
            total,
            by_status: ranked(
                Status::ALL
                    .iter()
                    .map(|s| s.as_str().to_owned())
                    .zip(by_status)
                    .collect(),
            ),
            by_category: ranked(
                Category::ALL
                    .iter()
                    .map(|c| c.as_str().to_owned())
                    .zip(by_category)
                    .collect(),
            ),
            by_country: ranked(
                by_country
                    .into_iter()
                    .map(|(id, n)| {
                        (
                            names.get(&id).map_or_else(String::new, |s| (*s).to_owned()),
                            n,
                        )
                    })
                    .collect(),
            ),
            open_emergencies: self.open_emergencies(),
        }
    }

    /// Open emergencies in the whole index, whatever the filters: the banner's number.
    pub fn open_emergencies(&self) -> u64 {
        self.open_emergencies
    }

    /// Requests the filter keeps per bucket of `width_ms` by creation time, oldest first:
    /// `(bucket start ms, count, emergencies)`, as `Store::time_buckets` gives them.
    pub fn time_buckets(
        &self,
        bbox: Option<&BBox>,
        filter: &PointFilter,
        width_ms: i64,
    ) -> Vec<(i64, u64, u64)> {
        let width = width_ms.max(1);
        let mut buckets: std::collections::BTreeMap<i64, (u64, u64)> = Default::default();
        self.for_each_maybe_in(bbox, filter, |p| {
            let b = buckets.entry(p.created_ms / width * width).or_default();
            b.0 += 1;
            b.1 += u64::from(p.emergency);
        });
        buckets
            .into_iter()
            .map(|(start, (n, e))| (start, n, e))
            .collect()
    }

    /// Clusters the points in view: points within about `radius_px` screen pixels of each
    /// other at `zoom` (Web Mercator tiles of 256 px) share a cluster. Locations captured
    /// before `stale_before` are flagged on single points.
    ///
    /// Two passes: points fall into a grid of `radius_px` squares on screen (Mercator `y`,
    /// so cells stay square away from the equator); then neighbouring cells whose centres
    /// ended up closer than `radius_px` merge, largest first, so circles do not pile up on
    /// each other where a city straddles a cell edge.
    pub fn clusters(
        &self,
        bbox: &BBox,
        zoom: f64,
        radius_px: f64,
        filter: &PointFilter,
        stale_before: DateTime<Utc>,
    ) -> Vec<Cluster> {
        let cell = 360.0 * radius_px / (256.0 * 2f64.powf(zoom.clamp(0.0, 24.0)));
        let stale_ms = stale_before.timestamp_millis();
        let mut groups: HashMap<(i64, i64), ClusterAcc> = HashMap::new();
        self.for_each_in(bbox, filter, |p| {
            let (lon, lat) = (f64::from(p.lon), f64::from(p.lat));
            let y = mercator_y_deg(lat);
            let key = ((lon / cell).floor() as i64, (y / cell).floor() as i64);
            groups
                .entry(key)
                .or_insert_with(|| ClusterAcc::new(p, stale_ms))
                .add(p, lon, y);
        });
        merge_close(groups, cell)
            .into_iter()
            .map(ClusterAcc::finish)
            .collect()
    }
}

/// Latitude projected to Web Mercator `y`, in degrees of longitude (so both axes share units).
fn mercator_y_deg(lat: f64) -> f64 {
    let phi = lat.clamp(-85.05, 85.05).to_radians();
    (std::f64::consts::FRAC_PI_4 + phi / 2.0)
        .tan()
        .ln()
        .to_degrees()
}

fn lat_from_mercator_y_deg(y: f64) -> f64 {
    (2.0 * y.to_radians().exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees()
}

/// A cluster being built: sums for its centre (longitude, Mercator `y`) and its counts.
struct ClusterAcc {
    sum_lon: f64,
    sum_y: f64,
    cluster: Cluster,
}

impl ClusterAcc {
    fn new(p: &MapPoint, stale_ms: i64) -> ClusterAcc {
        ClusterAcc {
            sum_lon: 0.0,
            sum_y: 0.0,
            cluster: Cluster {
                lon: 0.0,
                lat: 0.0,
                count: 0,
                open: 0,
                open_emergencies: 0,
                top_priority: 4,
                rowid: p.rowid,
                stale: p.located_ms != 0 && p.located_ms < stale_ms,
                status: p.status,
            },
        }
    }

    fn add(&mut self, p: &MapPoint, lon: f64, y: f64) {
        self.sum_lon += lon;
        self.sum_y += y;
        let c = &mut self.cluster;
        c.count += 1;
        if p.is_open() {
            c.open += 1;
            c.top_priority = c.top_priority.min(p.priority);
            if p.emergency {
                c.open_emergencies += 1;
            }
        }
    }

    fn centre(&self) -> (f64, f64) {
        let n = f64::from(self.cluster.count.max(1));
        (self.sum_lon / n, self.sum_y / n)
    }

    fn absorb(&mut self, other: ClusterAcc) {
        self.sum_lon += other.sum_lon;
        self.sum_y += other.sum_y;
        let (c, o) = (&mut self.cluster, other.cluster);
        c.count += o.count;
        c.open += o.open;
        c.open_emergencies += o.open_emergencies;
        c.top_priority = c.top_priority.min(o.top_priority);
    }

    fn finish(self) -> Cluster {
        let (lon, y) = self.centre();
        let mut c = self.cluster;
        c.lon = lon;
        c.lat = lat_from_mercator_y_deg(y);
        if c.count > 1 {
            c.rowid = 0;
            c.stale = false;
        }
        c
    }
}

/// Merges grid cells whose centres lie within one cell of a larger neighbour's centre.
fn merge_close(groups: HashMap<(i64, i64), ClusterAcc>, cell: f64) -> Vec<ClusterAcc> {
    let mut cells: Vec<((i64, i64), ClusterAcc)> = groups.into_iter().collect();
    // Largest first (ties by cell, so the result does not depend on hash order).
    cells.sort_by(|a, b| {
        b.1.cluster
            .count
            .cmp(&a.1.cluster.count)
            .then(a.0.cmp(&b.0))
    });
    let (keys, mut pending): (Vec<(i64, i64)>, Vec<Option<ClusterAcc>>) =
        cells.into_iter().map(|(key, acc)| (key, Some(acc))).unzip();
    let slot: HashMap<(i64, i64), usize> =
        keys.iter().enumerate().map(|(i, key)| (*key, i)).collect();
    let mut out = Vec::with_capacity(pending.len());
    for i in 0..pending.len() {
        let Some(mut acc) = pending[i].take() else {
            continue; // absorbed by a larger neighbour
        };
        let (cx, cy) = acc.centre();
        let (kx, ky) = keys[i];
        for dx in -1..=1 {
            for dy in -1..=1 {
                let Some(&j) = slot.get(&(kx + dx, ky + dy)) else {
                    continue;
                };
                let close = pending[j].as_ref().is_some_and(|other| {
                    let (ox, oy) = other.centre();
                    (ox - cx).hypot(oy - cy) < cell
                });
                if close && let Some(other) = pending[j].take() {
                    acc.absorb(other);
                }
            }
        }
        out.push(acc);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(
        rowid: i64,
        lon: f64,
        lat: f64,
        status: Status,
        emergency: bool,
    ) -> PointSource<'static> {
        PointSource {
            rowid,
            position: Some((lon, lat)),
            created_at: DateTime::from_timestamp(1_700_000_000 + rowid, 0).unwrap_or_default(),
            located_at: None,
            priority: Priority::Normal,
            status,
            category: Category::Medical,
            emergency,
            country: Some("TH"),
            post: None,
            assignee: None,
        }
    }

    #[test]
    fn clusters_split_as_you_zoom_and_singles_keep_their_id() {
        let mut idx = MapIndex::new();
        idx.upsert(&src(1, 100.50, 13.75, Status::New, true));
        idx.upsert(&src(2, 100.51, 13.76, Status::New, false));
        idx.upsert(&src(3, 103.82, 1.35, Status::Resolved, false));
        let all = PointFilter::default();
        let world = idx.clusters(&BBox::WORLD, 5.0, 50.0, &all, Utc::now());
        let bangkok = world
            .iter()
            .find(|c| c.count == 2)
            .unwrap_or_else(|| panic!("Bangkok's two requests share a cluster: {world:?}"));
        assert_eq!(
            (bangkok.open, bangkok.open_emergencies, bangkok.rowid),
            (2, 1, 0)
        );
        let close = idx.clusters(&BBox::WORLD, 16.0, 50.0, &all, Utc::now());
        assert_eq!(
            close.len(),
            3,
            "one record is exactly one marker when zoomed in"
        );
        assert!(close.iter().all(|c| c.count == 1 && c.rowid != 0));
    }

    #[test]
    fn clusters_account_for_every_point_in_view_at_every_zoom() {
        let mut rng = crate::synth::Rng::new(3);
        let mut idx = MapIndex::new();
        for i in 0..2000 {
            let (lon, lat) = (28.6 + rng.unit() * 0.8, 40.7 + rng.unit() * 0.6);
            idx.upsert(&src(i + 1, lon, lat, Status::New, i % 3 == 0));
        }
        for zoom in [2.0, 6.0, 9.0, 10.5, 12.0, 14.0] {
            let clusters = idx.clusters(
                &BBox::WORLD,
                zoom,
                48.0,
                &PointFilter::default(),
                Utc::now(),
            );
            let total: u32 = clusters.iter().map(|c| c.count).sum();
            let sos: u32 = clusters.iter().map(|c| c.open_emergencies).sum();
            assert_eq!(
                (total, sos),
                (2000, 667),
                "zoom {zoom}: {} clusters",
                clusters.len()
            );
        }
    }

    #[test]
    fn a_city_on_a_cell_edge_is_one_cluster_not_two_overlapping_ones() {
        // At zoom 4 a 48-px cell is 360*48/(256*16) = 4.22° wide; 126.6° is a cell edge
        // (30 cells east of 0°). Points just either side of it are a few pixels apart.
        let edge = 30.0 * 360.0 * 48.0 / (256.0 * 16.0);
        let mut idx = MapIndex::new();
        for i in 0..10 {
            let lon = edge + if i % 2 == 0 { -0.05 } else { 0.05 };
            idx.upsert(&src(i + 1, lon, 37.5, Status::New, i == 0));
        }
        // And a city a screen away, which stays apart.
        idx.upsert(&src(50, edge + 20.0, 37.5, Status::New, false));
        let clusters = idx.clusters(&BBox::WORLD, 4.0, 48.0, &PointFilter::default(), Utc::now());
        let mut counts: Vec<u32> = clusters.iter().map(|c| c.count).collect();
        counts.sort_unstable();
        assert_eq!(counts, vec![1, 10], "{clusters:?}");
        let city = clusters
            .iter()
            .find(|c| c.count == 10)
            .map(|c| (c.lon, c.lat, c.open_emergencies));
        let (lon, lat, sos) = city.unwrap_or_default();
        assert!(
            (lon - edge).abs() < 0.01 && (lat - 37.5).abs() < 0.01,
            "centred on the city: {lon}, {lat}"
        );
        assert_eq!(sos, 1);
    }

    #[test]
    fn filters_and_updates_apply() {
        let mut idx = MapIndex::new();
        idx.upsert(&src(1, 100.5, 13.75, Status::New, true));
        idx.upsert(&src(2, 100.5, 13.75, Status::Resolved, false));
        let open = idx.filter(&RequestQuery::open(), None);
        let n = |idx: &MapIndex, f: &PointFilter| {
            let mut n = 0;
            idx.for_each_in(&BBox::WORLD, f, |_| n += 1);
            n
        };
        assert_eq!(n(&idx, &open), 1);
        idx.upsert(&src(2, 100.5, 13.75, Status::New, false));
        assert_eq!(n(&idx, &open), 2, "an update replaces the point");
        idx.upsert(&src(2, -70.0, 18.0, Status::New, false));
        assert_eq!(idx.len(), 2, "moving a point does not duplicate it");
        let mut unlocated = src(3, 0.0, 0.0, Status::New, true);
        unlocated.position = None;
        idx.upsert(&unlocated);
        let mut all = 0;
        idx.for_each(&open, |_| all += 1);
        assert_eq!(all, 3, "the queue counts requests without a location");
        assert_eq!(n(&idx, &open), 2, "the map shows only located ones");
        let (total, page) = idx.page(None, &open, 2, 0);
        assert_eq!(
            (total, page),
            (3, vec![3, 1]),
            "emergencies first, newest first"
        );
        let (_, second) = idx.page(None, &open, 2, 2);
        assert_eq!(second, [2]);
        let thailand = BBox::new(97.0, 5.0, 106.0, 21.0).expect("box");
        let mut found = Vec::new();
        idx.for_each_in(&thailand, &open, |p| found.push(p.rowid));
        assert_eq!(found, [1]);
        let unknown_country = idx.filter(
            &RequestQuery {
                countries: vec!["FR".into()],
                ..Default::default()
            },
            None,
        );
        assert_eq!(n(&idx, &unknown_country), 0);
    }

    #[test]
    fn rowid_sets_hold_exactly_their_members_dense_or_sparse() {
        let dense: RowidSet = [1, 2, 63, 64, 65, 1000].into_iter().collect();
        assert!(matches!(dense, RowidSet::Bits(_)));
        let sparse: RowidSet = [3, 1 << 40].into_iter().collect();
        assert!(
            matches!(sparse, RowidSet::Sparse(_)),
            "a bitmap of 2^40 bits is not built"
        );
        for (set, members) in [
            (&dense, &[1, 2, 63, 64, 65, 1000][..]),
            (&sparse, &[3, 1 << 40][..]),
        ] {
            for r in -1..1100 {
                assert_eq!(set.contains(r), members.contains(&r), "rowid {r}");
            }
            assert!(members.iter().all(|m| set.contains(*m)));
        }
        assert!(!dense.contains(i64::MAX) && !dense.contains(-5));
        let empty: RowidSet = std::iter::empty().collect();
        assert!(!empty.contains(0) && !empty.contains(1));
    }

    #[test]
    fn open_emergencies_follow_upserts_and_removals() {
        let mut index = MapIndex::new();
        index.upsert(&src(1, 10.0, 10.0, Status::New, true));
        index.upsert(&src(2, 10.0, 10.0, Status::New, false));
        index.upsert(&src(3, 11.0, 10.0, Status::Acknowledged, true));
        assert_eq!(index.open_emergencies(), 2);
        index.upsert(&src(1, 10.0, 10.0, Status::Resolved, true));
        assert_eq!(index.open_emergencies(), 1, "resolved is no longer open");
        index.upsert(&src(1, 10.0, 10.0, Status::Resolved, true));
        assert_eq!(
            index.open_emergencies(),
            1,
            "upserting the same state twice counts once"
        );
        index.remove(3);
        assert_eq!(index.open_emergencies(), 0);
    }

    #[test]
    fn viewport_across_the_antimeridian() {
        let mut idx = MapIndex::new();
        idx.upsert(&src(1, 178.45, -18.12, Status::New, false));
        idx.upsert(&src(2, -175.2, -21.14, Status::New, false));
        idx.upsert(&src(3, 0.0, -20.0, Status::New, false));
        let mut found = Vec::new();
        idx.for_each_in(
            &BBox::parse("170,-25,-170,-10").expect("box"),
            &PointFilter::default(),
            |p| found.push(p.rowid),
        );
        found.sort();
        assert_eq!(found, [1, 2]);
    }
}
