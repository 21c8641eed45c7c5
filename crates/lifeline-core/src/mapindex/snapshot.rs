//! The index as bytes, so a desk can start from the index it had instead of reading every
//! request again (at 10^6 requests the read took ~1.6 s of a start's two cores).
//!
//! The bytes are derived data: the store keeps them in its encrypted query index file with
//! the position of the store they reflect, and rebuilds the index from the requests when
//! they are missing, stale beyond repair or do not read back (see `Store::enable_index`).
//! Every field is checked on the way in; a snapshot is never trusted to be well formed.
//!
//! Layout, little-endian: `"LLMI"`, `u32` version, `u32` length and the [`layout`]
//! fingerprint (what the small fields mean: a build whose statuses, categories or
//! projection differ refuses the bytes); three string tables (countries, posts,
//! assignees), each `u32` count then per entry `u16 id, u32 length, UTF-8`; `u32` count of
//! non-empty cells, then per cell `u32 key, u32 points` and each point's 32 bytes
//! (`i64 created_ms, u32 rowid, f32 lon, f32 y, u32 located_s, u16 country, u16 post,
//! u16 assignee, u8 state, u8 category`).

use super::point::{Interner, MAX_LAT};
use super::{ABSENT, CELL_DEG, COLS, MapIndex, MapPoint, UNLOCATED};
use crate::model::{Category, Priority, Status};

const MAGIC: &[u8; 4] = b"LLMI";
const VERSION: u32 = 1;
const POINT_BYTES: usize = 32;

/// Why a snapshot was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotError(pub String);

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the map index snapshot does not read back: {}", self.0)
    }
}

impl std::error::Error for SnapshotError {}

/// What a point's fields mean in this build: the statuses, priorities and categories in the
/// order their indexes refer to, and the grid and projection the positions are kept in.
fn layout() -> String {
    let names = |all: &mut dyn Iterator<Item = &'static str>| all.collect::<Vec<_>>().join(",");
    format!(
        "status:{};priority:{};category:{};cell:{CELL_DEG}x{COLS};max_lat:{MAX_LAT}",
        names(&mut Status::ALL.iter().map(|s| s.as_str())),
        names(&mut Priority::ALL.iter().map(|p| p.as_str())),
        names(&mut Category::ALL.iter().map(|c| c.as_str())),
    )
}

fn bad(what: impl Into<String>) -> SnapshotError {
    SnapshotError(what.into())
}

impl MapIndex {
    /// The index as bytes (see the module's layout).
    pub fn to_snapshot(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.len * POINT_BYTES);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        let layout = layout();
        out.extend_from_slice(&(layout.len() as u32).to_le_bytes());
        out.extend_from_slice(layout.as_bytes());
        for interner in [&self.countries, &self.posts, &self.assignees] {
            let entries = interner.entries();
            out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
            for (name, id) in entries {
                out.extend_from_slice(&id.to_le_bytes());
                out.extend_from_slice(&(name.len() as u32).to_le_bytes());
                out.extend_from_slice(name.as_bytes());
            }
        }
        let filled = self.cells.iter().filter(|c| !c.is_empty()).count();
        out.extend_from_slice(&(filled as u32).to_le_bytes());
        for (key, cell) in self.cells.iter().enumerate().filter(|(_, c)| !c.is_empty()) {
            out.extend_from_slice(&(key as u32).to_le_bytes());
            out.extend_from_slice(&(cell.len() as u32).to_le_bytes());
            for p in cell {
                out.extend_from_slice(&p.created_ms.to_le_bytes());
                out.extend_from_slice(&p.rowid.to_le_bytes());
                out.extend_from_slice(&p.lon.to_le_bytes());
                out.extend_from_slice(&p.y.to_le_bytes());
                out.extend_from_slice(&p.located_s.to_le_bytes());
                out.extend_from_slice(&p.country.to_le_bytes());
                out.extend_from_slice(&p.post.to_le_bytes());
                out.extend_from_slice(&p.assignee.to_le_bytes());
                out.push(p.state);
                out.push(p.category);
            }
        }
        out
    }

    /// Reads an index back from [`MapIndex::to_snapshot`]'s bytes, checking every field;
    /// `max_rowid`: the highest rowid the store held when they were taken.
    pub fn from_snapshot(bytes: &[u8], max_rowid: i64) -> Result<MapIndex, SnapshotError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(4)? != MAGIC {
            return Err(bad("not a map index snapshot"));
        }
        let version = r.u32()?;
        if version != VERSION {
            return Err(bad(format!("version {version}, this desk reads {VERSION}")));
        }
        let layout_len = r.u32()? as usize;
        if r.take(layout_len)? != layout().as_bytes() {
            return Err(bad("taken by a build whose fields mean other things"));
        }
        let mut index = MapIndex::new();
        let mut tables = [
            Interner::default(),
            Interner::default(),
            Interner::default(),
        ];
        for table in &mut tables {
            let n = r.u32()?;
            for _ in 0..n {
                let id = r.u16()?;
                let len = r.u32()? as usize;
                let name =
                    std::str::from_utf8(r.take(len)?).map_err(|_| bad("a name is not UTF-8"))?;
                if id == 0 {
                    return Err(bad("a name with the id of none"));
                }
                table.insert(name, id);
            }
        }
        let [countries, posts, assignees] = tables;
        let (n_countries, n_posts, n_assignees) =
            (countries.id_count(), posts.id_count(), assignees.id_count());
        index.countries = countries;
        index.posts = posts;
        index.assignees = assignees;
        let filled = r.u32()?;
        for _ in 0..filled {
            let key = r.u32()?;
            if key > UNLOCATED {
                return Err(bad(format!("cell {key} is off the grid")));
            }
            if !index.cells[key as usize].is_empty() {
                return Err(bad(format!("cell {key} appears twice")));
            }
            let n = r.u32()? as usize;
            if r.left() < n.saturating_mul(POINT_BYTES) {
                return Err(bad("cut short"));
            }
            let mut cell = Vec::with_capacity(n);
            for _ in 0..n {
                let p = MapPoint {
                    created_ms: r.i64()?,
                    rowid: r.u32()?,
                    lon: f32::from_bits(r.u32()?),
                    y: f32::from_bits(r.u32()?),
                    located_s: r.u32()?,
                    country: r.u16()?,
                    post: r.u16()?,
                    assignee: r.u16()?,
                    state: r.u8()?,
                    category: r.u8()?,
                };
                let fits = p.rowid != ABSENT
                    && i64::from(p.rowid) <= max_rowid
                    && usize::from(p.status()) < Status::ALL.len()
                    && usize::from(p.category) < Category::ALL.len()
                    && p.state & 0x80 == 0
                    && usize::from(p.country) < n_countries
                    && usize::from(p.post) < n_posts
                    && usize::from(p.assignee) < n_assignees
                    && (key == UNLOCATED) == p.lon.is_nan()
                    && p.lon.is_nan() == p.y.is_nan();
                if !fits {
                    return Err(bad(format!("request {} has a field out of range", p.rowid)));
                }
                let slot = p.rowid as usize;
                if slot >= index.cell_of.len() {
                    index.cell_of.resize(slot + 1, ABSENT);
                }
                if index.cell_of[slot] != ABSENT {
                    return Err(bad(format!("request {} appears twice", p.rowid)));
                }
                index.cell_of[slot] = key;
                if p.emergency() && p.is_open() {
                    index.open_emergencies += 1;
                }
                cell.push(p);
            }
            index.len += n;
            index.cells[key as usize] = cell;
        }
        if r.left() != 0 {
            return Err(bad("bytes after the last cell"));
        }
        index.cell_of.shrink_to_fit();
        Ok(index)
    }
}

/// Reads fields off the front of a snapshot, failing (never panicking) past its end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| bad("cut short"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, SnapshotError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, SnapshotError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, SnapshotError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, SnapshotError> {
        Ok(i64::from_le_bytes(self.array()?))
    }
}
