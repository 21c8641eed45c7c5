//! A request as the index holds it ([`MapPoint`]), what it is built from ([`PointSource`]),
//! and the integer hashing and string interning that keep it small.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::model::{Category, Priority, Status};

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
    pub(super) fn is_open(&self) -> bool {
        Status::ALL
            .get(self.status as usize)
            .is_some_and(|s| s.is_open())
    }

    /// An emergency nobody has acknowledged yet: a citizen waiting for the ministry.
    pub(super) fn is_waiting(&self) -> bool {
        self.emergency && Status::ALL.get(self.status as usize) == Some(&Status::New)
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

    pub(super) fn lookup(&self, s: &str) -> Option<u16> {
        self.ids.get(s).copied()
    }

    pub(super) fn names(&self) -> HashMap<u16, &str> {
        self.ids.iter().map(|(s, id)| (*id, s.as_str())).collect()
    }
}
