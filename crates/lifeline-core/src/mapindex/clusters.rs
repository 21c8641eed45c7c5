//! Map clusters: nearby points at a zoom grouped into [`Cluster`]s on a Mercator grid.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::geo::BBox;

use super::point::{IntMap, lat_from_mercator_y_deg, mercator_y_deg};
use super::queue::{OrderKey, order_key};
use super::{MapIndex, MapPoint, PointFilter};
use crate::store::RequestOrder;

/// Clustering cells being filled, by cell. Keyed with the index's integer hasher: at world
/// zoom every point in view is hashed once per refresh, and SipHash was a third of that.
type Groups = IntMap<(i64, i64), ClusterAcc>;

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

impl MapIndex {
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
        let cell = cell_size(zoom, radius_px);
        self.cluster_groups(bbox, cell, filter, stale_before.timestamp_millis())
            .into_iter()
            .map(|(acc, _)| acc.finish())
            .collect()
    }

    /// The requests of the cluster that [`MapIndex::clusters`] draws nearest `at` (lon,
    /// lat) with the same arguments: how many it holds, and the first `cap` of them in
    /// `order`. None when no cluster is drawn within one cluster radius of `at`.
    #[allow(clippy::too_many_arguments)]
    pub fn cluster_members(
        &self,
        bbox: &BBox,
        zoom: f64,
        radius_px: f64,
        filter: &PointFilter,
        at: (f64, f64),
        order: RequestOrder,
        cap: usize,
    ) -> Option<(usize, Vec<i64>)> {
        let cell = cell_size(zoom, radius_px);
        let (x, y) = (at.0, mercator_y_deg(at.1));
        let (_, cells) = self
            .cluster_groups(bbox, cell, filter, 0)
            .into_iter()
            .map(|(acc, cells)| {
                let (cx, cy) = acc.centre();
                ((cx - x).hypot(cy - y), cells)
            })
            .filter(|(distance, _)| *distance < cell)
            .min_by(|a, b| a.0.total_cmp(&b.0))?;
        let cells: HashSet<(i64, i64)> = cells.into_iter().collect();
        let mut keys: Vec<OrderKey> = Vec::new();
        self.for_each_in(bbox, filter, |p| {
            let (lon, y) = projected(p);
            if cells.contains(&cell_of(lon, y, cell)) {
                keys.push(order_key(p, order));
            }
        });
        let total = keys.len();
        keys.sort_unstable();
        Some((total, keys.iter().take(cap).map(|k| k.2.abs()).collect()))
    }

    /// The clusters being built, each with the grid cells it took in.
    fn cluster_groups(
        &self,
        bbox: &BBox,
        cell: f64,
        filter: &PointFilter,
        stale_ms: i64,
    ) -> Vec<(ClusterAcc, Vec<(i64, i64)>)> {
        let mut groups = Groups::default();
        self.for_each_in(bbox, filter, |p| {
            let (lon, y) = projected(p);
            groups
                .entry(cell_of(lon, y, cell))
                .or_insert_with(|| ClusterAcc::new(p, stale_ms))
                .add(p, lon, y);
        });
        merge_close(groups, cell)
    }
}

/// The side of a clustering cell at `zoom`, in degrees of longitude.
fn cell_size(zoom: f64, radius_px: f64) -> f64 {
    360.0 * radius_px / (256.0 * 2f64.powf(zoom.clamp(0.0, 24.0)))
}

/// A point's longitude and Mercator `y`, the plane clusters are made in.
fn projected(p: &MapPoint) -> (f64, f64) {
    (f64::from(p.lon), f64::from(p.y))
}

/// The clustering cell of a point at (`lon`, Mercator `y`).
fn cell_of(lon: f64, y: f64, cell: f64) -> (i64, i64) {
    ((lon / cell).floor() as i64, (y / cell).floor() as i64)
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
                rowid: p.rowid(),
                stale: p.located_s != 0 && p.located_ms() < stale_ms,
                status: p.status(),
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
            c.top_priority = c.top_priority.min(p.priority());
            if p.emergency() {
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

/// Merges grid cells whose centres lie within one cell of a larger neighbour's centre;
/// each cluster comes with the cells it took in.
fn merge_close(groups: Groups, cell: f64) -> Vec<(ClusterAcc, Vec<(i64, i64)>)> {
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
    let slot: IntMap<(i64, i64), usize> =
        keys.iter().enumerate().map(|(i, key)| (*key, i)).collect();
    let mut out = Vec::with_capacity(pending.len());
    for i in 0..pending.len() {
        let Some(mut acc) = pending[i].take() else {
            continue; // absorbed by a larger neighbour
        };
        let (cx, cy) = acc.centre();
        let (kx, ky) = keys[i];
        let mut taken = vec![(kx, ky)];
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
                    taken.push((kx + dx, ky + dy));
                }
            }
        }
        out.push((acc, taken));
    }
    out
}
