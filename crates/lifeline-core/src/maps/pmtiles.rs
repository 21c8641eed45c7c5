//! Reading a PMTiles v3 archive: one file holding a region's vector tiles, found by range
//! reads (the header, a directory or two, the tile) — never a whole-file load.
//!
//! Written here rather than taken from a crate because of how a desk uses the file: the
//! crates map it into memory, and a mapped file that shrinks underneath (a download
//! restarted, a disk full, a file replaced by hand) kills the process with `SIGBUS`. Every
//! read here is a positional `read` checked against the file's length, so a truncated or
//! corrupt archive is an error, never a crash.
//!
//! The format: <https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md>.

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// What is wrong with an archive, said so the officer knows what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    #[error("cannot read the map pack: {0}")]
    Io(String),
    #[error("not a map pack (PMTiles version 3): {0}")]
    NotPmtiles(String),
    #[error("the map pack is cut short or damaged: {0}")]
    Damaged(String),
    #[error("the map pack holds {0} tiles; the desk draws vector tiles (MVT) only")]
    NotVector(String),
}

/// The largest directory read (a city's pack has directories of a few KB).
const MAX_DIRECTORY: u64 = 16 * 1024 * 1024;
/// The largest tile served (vector tiles are tens of KB).
const MAX_TILE: u64 = 4 * 1024 * 1024;
/// The largest metadata read.
const MAX_METADATA: u64 = 1024 * 1024;
const HEADER_LEN: usize = 127;
/// Directories are at most four deep (root and leaves; the spec allows deeper).
const MAX_DEPTH: usize = 4;

/// How parts of the archive are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
}

impl Compression {
    fn from_byte(b: u8, what: &str) -> Result<Compression, PackError> {
        match b {
            1 => Ok(Compression::None),
            2 => Ok(Compression::Gzip),
            0 => Err(PackError::NotPmtiles(format!(
                "{what}: unknown compression"
            ))),
            other => Err(PackError::NotPmtiles(format!(
                "{what}: compression {other} (brotli, zstd) is not read here; make the pack with gzip"
            ))),
        }
    }
}

/// The archive's header: where things are, and what it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    root_offset: u64,
    root_length: u64,
    metadata_offset: u64,
    metadata_length: u64,
    leaves_offset: u64,
    leaves_length: u64,
    data_offset: u64,
    data_length: u64,
    pub addressed_tiles: u64,
    internal_compression: Compression,
    pub tile_compression: Compression,
    pub min_zoom: u8,
    pub max_zoom: u8,
    /// `[west, south, east, north]`.
    pub bounds: [f64; 4],
    /// `(zoom, lon, lat)`.
    pub center: (u8, f64, f64),
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(v)
}

fn e7_at(b: &[u8], at: usize) -> f64 {
    let mut v = [0u8; 4];
    v.copy_from_slice(&b[at..at + 4]);
    f64::from(i32::from_le_bytes(v)) / 10_000_000.0
}

impl Header {
    fn parse(b: &[u8], file_len: u64) -> Result<Header, PackError> {
        if b.len() < HEADER_LEN || &b[0..7] != b"PMTiles" {
            return Err(PackError::NotPmtiles(
                "the file does not start with `PMTiles`".into(),
            ));
        }
        if b[7] != 3 {
            return Err(PackError::NotPmtiles(format!("version {}, not 3", b[7])));
        }
        let h = Header {
            root_offset: u64_at(b, 8),
            root_length: u64_at(b, 16),
            metadata_offset: u64_at(b, 24),
            metadata_length: u64_at(b, 32),
            leaves_offset: u64_at(b, 40),
            leaves_length: u64_at(b, 48),
            data_offset: u64_at(b, 56),
            data_length: u64_at(b, 64),
            addressed_tiles: u64_at(b, 72),
            internal_compression: Compression::from_byte(b[97], "directories")?,
            tile_compression: Compression::from_byte(b[98], "tiles")?,
            min_zoom: b[100],
            max_zoom: b[101],
            bounds: [e7_at(b, 102), e7_at(b, 106), e7_at(b, 110), e7_at(b, 114)],
            center: (b[118], e7_at(b, 119), e7_at(b, 123)),
        };
        if b[99] != 1 {
            let kind = match b[99] {
                2 => "PNG",
                3 => "JPEG",
                4 => "WebP",
                5 => "AVIF",
                _ => "unknown",
            };
            return Err(PackError::NotVector(kind.into()));
        }
        if h.min_zoom > h.max_zoom || h.max_zoom > 24 {
            return Err(PackError::Damaged(format!(
                "zooms {}–{}",
                h.min_zoom, h.max_zoom
            )));
        }
        let [w, s, e, n] = h.bounds;
        if !(-180.0..=180.0).contains(&w)
            || !(-180.0..=180.0).contains(&e)
            || !(-90.0..=90.0).contains(&s)
            || !(-90.0..=90.0).contains(&n)
            || s > n
        {
            return Err(PackError::Damaged("its bounds are not on Earth".into()));
        }
        for (what, offset, length) in [
            ("root directory", h.root_offset, h.root_length),
            ("metadata", h.metadata_offset, h.metadata_length),
            ("leaf directories", h.leaves_offset, h.leaves_length),
            ("tile data", h.data_offset, h.data_length),
        ] {
            let end = offset.checked_add(length);
            if end.is_none_or(|end| end > file_len) {
                return Err(PackError::Damaged(format!(
                    "its {what} run past the end of the file ({file_len} bytes)"
                )));
            }
        }
        if h.root_length == 0 || h.root_length > MAX_DIRECTORY {
            return Err(PackError::Damaged("no root directory".into()));
        }
        Ok(h)
    }
}

/// One directory entry: a run of tiles (`run_length > 0`) or a leaf directory (`0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    tile_id: u64,
    offset: u64,
    length: u64,
    run_length: u64,
}

fn varint(b: &[u8], at: &mut usize) -> Result<u64, PackError> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let Some(&byte) = b.get(*at) else {
            return Err(PackError::Damaged("a directory ends mid-number".into()));
        };
        *at += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(PackError::Damaged(
        "a number in a directory is too long".into(),
    ))
}

fn parse_directory(b: &[u8]) -> Result<Vec<Entry>, PackError> {
    let mut at = 0;
    let n = varint(b, &mut at)?;
    // Each entry takes at least four bytes (four varints): a count beyond that is a lie, and
    // must not size an allocation.
    if n.saturating_mul(4) > (b.len() - at) as u64 {
        return Err(PackError::Damaged(
            "a directory claims more entries than it holds".into(),
        ));
    }
    let n = n as usize;
    let mut entries = vec![
        Entry {
            tile_id: 0,
            offset: 0,
            length: 0,
            run_length: 0
        };
        n
    ];
    let mut last = 0u64;
    for e in entries.iter_mut() {
        last = last
            .checked_add(varint(b, &mut at)?)
            .ok_or_else(|| PackError::Damaged("tile ids overflow".into()))?;
        e.tile_id = last;
    }
    for e in entries.iter_mut() {
        e.run_length = varint(b, &mut at)?;
    }
    for e in entries.iter_mut() {
        e.length = varint(b, &mut at)?;
    }
    for i in 0..n {
        let v = varint(b, &mut at)?;
        entries[i].offset = if v == 0 && i > 0 {
            entries[i - 1]
                .offset
                .checked_add(entries[i - 1].length)
                .ok_or_else(|| PackError::Damaged("an offset overflows".into()))?
        } else {
            v.saturating_sub(1)
        };
    }
    Ok(entries)
}

/// The tile id of `z/x/y`: the tiles of every lower zoom ((4^z − 1) / 3), then the position
/// along the Hilbert curve at `z`.
pub fn tile_id(z: u8, x: u32, y: u32) -> Option<u64> {
    if z > 26 || u64::from(x) >= 1u64 << z || u64::from(y) >= 1u64 << z {
        return None;
    }
    let n: u64 = 1 << z;
    let before = (n * n - 1) / 3;
    let (mut x, mut y) = (u64::from(x), u64::from(y));
    let mut d: u64 = 0;
    let mut s = n / 2;
    while s > 0 {
        let rx = u64::from(x & s > 0);
        let ry = u64::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                x = n - 1 - x;
                y = n - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    Some(before + d)
}

/// An open archive. Cheap to keep open; each tile is two or three positional reads.
#[derive(Debug)]
pub struct Pack {
    file: File,
    len: u64,
    pub header: Header,
    root: Vec<Entry>,
}

impl Pack {
    /// Opens and checks an archive: its header, that every part lies inside the file, and
    /// its root directory.
    pub fn open(path: &Path) -> Result<Pack, PackError> {
        let file = File::open(path).map_err(|e| PackError::Io(e.to_string()))?;
        let len = file
            .metadata()
            .map_err(|e| PackError::Io(e.to_string()))?
            .len();
        let mut head = [0u8; HEADER_LEN];
        read_exact_at(&file, &mut head, 0, len)
            .map_err(|_| PackError::NotPmtiles("shorter than a PMTiles header".into()))?;
        let header = Header::parse(&head, len)?;
        let mut pack = Pack {
            file,
            len,
            header,
            root: Vec::new(),
        };
        pack.root = pack.directory(pack.header.root_offset, pack.header.root_length)?;
        Ok(pack)
    }

    fn read(&self, offset: u64, length: u64, cap: u64) -> Result<Vec<u8>, PackError> {
        if length > cap {
            return Err(PackError::Damaged(format!("a part of {length} bytes")));
        }
        let mut buf = vec![0u8; length as usize];
        read_exact_at(&self.file, &mut buf, offset, self.len)?;
        Ok(buf)
    }

    fn directory(&self, offset: u64, length: u64) -> Result<Vec<Entry>, PackError> {
        let raw = self.read(offset, length, MAX_DIRECTORY)?;
        let bytes = decompress(&raw, self.header.internal_compression, MAX_DIRECTORY)?;
        parse_directory(&bytes)
    }

    /// The archive's metadata (JSON: name, attribution, layers…).
    pub fn metadata(&self) -> Result<serde_json::Value, PackError> {
        if self.header.metadata_length == 0 {
            return Ok(serde_json::Value::Null);
        }
        let raw = self.read(
            self.header.metadata_offset,
            self.header.metadata_length,
            MAX_METADATA,
        )?;
        let bytes = decompress(&raw, self.header.internal_compression, MAX_METADATA)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| PackError::Damaged(format!("its metadata is not JSON: {e}")))
    }

    /// The tile at `z/x/y`, decompressed (`None`: the pack has no such tile).
    pub fn tile(&self, z: u8, x: u32, y: u32) -> Result<Option<Vec<u8>>, PackError> {
        if z < self.header.min_zoom || z > self.header.max_zoom {
            return Ok(None);
        }
        let Some(id) = tile_id(z, x, y) else {
            return Ok(None);
        };
        let mut entries = std::borrow::Cow::Borrowed(&self.root);
        for _ in 0..MAX_DEPTH {
            let Some(e) = find(&entries, id) else {
                return Ok(None);
            };
            if e.run_length > 0 {
                if id - e.tile_id >= e.run_length {
                    return Ok(None);
                }
                let raw = self.read(
                    self.header
                        .data_offset
                        .checked_add(e.offset)
                        .ok_or_else(|| PackError::Damaged("a tile offset overflows".into()))?,
                    e.length,
                    MAX_TILE,
                )?;
                return decompress(&raw, self.header.tile_compression, MAX_TILE).map(Some);
            }
            let leaf = self.directory(
                self.header
                    .leaves_offset
                    .checked_add(e.offset)
                    .ok_or_else(|| PackError::Damaged("a directory offset overflows".into()))?,
                e.length,
            )?;
            entries = std::borrow::Cow::Owned(leaf);
        }
        Err(PackError::Damaged("its directories nest too deep".into()))
    }
}

/// The entry whose run may hold `id`: the last one starting at or before it.
fn find(entries: &[Entry], id: u64) -> Option<Entry> {
    let i = entries.partition_point(|e| e.tile_id <= id);
    (i > 0).then(|| entries[i - 1])
}

fn read_exact_at(file: &File, buf: &mut [u8], offset: u64, len: u64) -> Result<(), PackError> {
    let end = offset
        .checked_add(buf.len() as u64)
        .ok_or_else(|| PackError::Damaged("an offset overflows".into()))?;
    if end > len {
        return Err(PackError::Damaged(format!(
            "a read up to byte {end} of a {len}-byte file"
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(buf, offset)
            .map_err(|e| PackError::Damaged(e.to_string()))
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::FileExt;
        let mut done = 0;
        while done < buf.len() {
            let n = file
                .seek_read(&mut buf[done..], offset + done as u64)
                .map_err(|e| PackError::Damaged(e.to_string()))?;
            if n == 0 {
                return Err(PackError::Damaged("the file ended early".into()));
            }
            done += n;
        }
        Ok(())
    }
}

fn decompress(raw: &[u8], c: Compression, cap: u64) -> Result<Vec<u8>, PackError> {
    match c {
        Compression::None => Ok(raw.to_vec()),
        Compression::Gzip => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(raw)
                .take(cap + 1)
                .read_to_end(&mut out)
                .map_err(|e| PackError::Damaged(format!("a part does not decompress: {e}")))?;
            if out.len() as u64 > cap {
                return Err(PackError::Damaged(
                    "a part decompresses past its cap".into(),
                ));
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_ids_follow_the_spec() {
        // The examples of the PMTiles v3 specification.
        assert_eq!(tile_id(0, 0, 0), Some(0));
        assert_eq!(tile_id(1, 0, 0), Some(1));
        assert_eq!(tile_id(1, 0, 1), Some(2));
        assert_eq!(tile_id(1, 1, 1), Some(3));
        assert_eq!(tile_id(1, 1, 0), Some(4));
        assert_eq!(tile_id(2, 0, 0), Some(5));
        assert_eq!(tile_id(1, 2, 0), None);
    }

    #[test]
    fn directories_decode_runs_and_implied_offsets() {
        // Two entries: tile 5 (run 1, 10 bytes at 0), tile 6 (run 2, 20 bytes right after).
        let bytes = [2, 5, 1, 1, 2, 10, 20, 1, 0];
        let entries = parse_directory(&bytes).expect("a directory");
        assert_eq!(
            entries,
            [
                Entry {
                    tile_id: 5,
                    offset: 0,
                    length: 10,
                    run_length: 1
                },
                Entry {
                    tile_id: 6,
                    offset: 10,
                    length: 20,
                    run_length: 2
                },
            ]
        );
        assert!(
            parse_directory(&[200, 1]).is_err(),
            "a count beyond the bytes"
        );
        assert!(parse_directory(&[2, 5]).is_err(), "cut short");
    }
}
