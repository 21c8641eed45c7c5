//! A request as the index holds it ([`MapPoint`]), what it is built from ([`PointSource`]),
//! and the integer hashing and string interning that keep it small.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::model::{Category, Priority, Status};

/// One request, as much as the map and the queue need: 32 bytes.
///
/// Why this shape (docs/PERFORMANCE.md, "At 10^6 requests"): at 10^6 requests every byte
/// here is a megabyte of the desk's memory, and clustering reads every point in view on
/// each pan. The position is kept as longitude and Web Mercator `y` (the plane clusters
/// are made in), so a pan projects nothing; the latitude is computed back when asked for.
/// The small fields share one byte. Rowids fit 32 bits (a store would need four billion
/// requests to pass them; `Store::enable_index` refuses a larger one rather than
/// truncating it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapPoint {
    pub(super) created_ms: i64,
    pub(super) rowid: u32,
    /// NaN when the request has no location.
    pub(super) lon: f32,
    /// Web Mercator `y` in degrees of longitude (see [`mercator_y_deg`]); NaN when unlocated.
    pub(super) y: f32,
    /// When the location was captured, seconds since 1970 (0: unknown).
    pub(super) located_s: u32,
    pub(super) country: u16,
    pub(super) post: u16,
    pub(super) assignee: u16,
    /// Status index (bits 0-3), priority rank (bits 4-5), emergency (bit 6).
    pub(super) state: u8,
    pub(super) category: u8,
}

const _: () = assert!(std::mem::size_of::<MapPoint>() == 32);

impl MapPoint {
    pub fn rowid(&self) -> i64 {
        i64::from(self.rowid)
    }

    pub fn lon(&self) -> f64 {
        f64::from(self.lon)
    }

    pub fn lat(&self) -> f64 {
        lat_from_mercator_y_deg(f64::from(self.y))
    }

    pub(super) fn status(&self) -> u8 {
        self.state & 0x0f
    }

    pub(super) fn priority(&self) -> u8 {
        (self.state >> 4) & 0x03
    }

    pub(super) fn emergency(&self) -> bool {
        self.state & 0x40 != 0
    }

    pub(super) fn is_open(&self) -> bool {
        Status::ALL
            .get(self.status() as usize)
            .is_some_and(|s| s.is_open())
    }

    /// An emergency nobody has acknowledged yet: a citizen waiting for the ministry.
    pub(super) fn is_waiting(&self) -> bool {
        self.emergency() && Status::ALL.get(self.status() as usize) == Some(&Status::New)
    }

    /// The queue's order: open emergencies, open requests by priority, finished ones (see
    /// `store::requests::triage_rank`).
    pub(super) fn triage_rank(&self) -> u8 {
        if !self.is_open() {
            5
        } else if self.emergency() {
            0
        } else {
            1 + self.priority()
        }
    }

    /// When the location was captured, ms since 1970 (0: unknown).
    pub(super) fn located_ms(&self) -> i64 {
        i64::from(self.located_s) * 1000
    }
}

/// The most northern and southern latitude kept apart in Mercator `y` (the poles project to
/// infinity); the map draws to ±85.05°.
pub(super) const MAX_LAT: f64 = 89.9;

/// Latitude projected to Web Mercator `y`, in degrees of longitude (so both axes share units).
pub(super) fn mercator_y_deg(lat: f64) -> f64 {
    let phi = lat.clamp(-MAX_LAT, MAX_LAT).to_radians();
    (std::f64::consts::FRAC_PI_4 + phi / 2.0)
        .tan()
        .ln()
        .to_degrees()
}

pub(super) fn lat_from_mercator_y_deg(y: f64) -> f64 {
    (2.0 * y.to_radians().exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees()
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

pub(super) type IntMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<IntHasher>>;

/// Interns short strings (countries, posts, assignees) to small integers. 0 means "none".
#[derive(Debug, Default)]
pub(super) struct Interner {
    ids: HashMap<String, u16>,
}

impl Interner {
    pub(super) fn get_or_add(&mut self, s: Option<&str>) -> u16 {
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

    /// How many ids are in use, "none" included: every id is below this.
    pub(super) fn id_count(&self) -> usize {
        (self.ids.len() + 1).min(usize::from(u16::MAX) + 1)
    }

    pub(super) fn lookup(&self, s: &str) -> Option<u16> {
        self.ids.get(s).copied()
    }

    /// Every name with its id (for a snapshot).
    pub(super) fn entries(&self) -> Vec<(&str, u16)> {
        self.ids.iter().map(|(s, id)| (s.as_str(), *id)).collect()
    }

    /// Puts back a name under the id it had (reading a snapshot).
    pub(super) fn insert(&mut self, name: &str, id: u16) {
        self.ids.insert(name.to_owned(), id);
    }

    pub(super) fn names(&self) -> HashMap<u16, &str> {
        self.ids.iter().map(|(s, id)| (*id, s.as_str())).collect()
    }
}
