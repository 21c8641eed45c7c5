//! Offline street maps: region packs (PMTiles archives of vector tiles) kept in the `maps`
//! folder beside a desk's store. A pack is read-only data: imported whole after it has been
//! checked, read by ranges while the map draws, removed as a file. Natural Earth stays the
//! world beneath; a pack draws where it covers.

pub mod pmtiles;

use std::path::{Path, PathBuf};

pub use pmtiles::{Pack, PackError};

/// The folder of a desk's packs, beside its store.
pub fn folder_for(store_path: &Path) -> PathBuf {
    store_path
        .parent()
        .map_or_else(|| PathBuf::from("maps"), |p| p.join("maps"))
}

/// A pack as the desk lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct PackInfo {
    /// The file's name without `.pmtiles`: letters, digits, `-` and `_` (the map's URL of its
    /// tiles uses it).
    pub id: String,
    /// The name its maker gave it.
    pub name: String,
    /// `[west, south, east, north]`.
    pub bounds: [f64; 4],
    pub min_zoom: u8,
    pub max_zoom: u8,
    pub size_bytes: u64,
    /// When its data was taken, if the pack says.
    pub data_date: Option<String>,
    /// Whom the map must credit (OpenStreetMap contributors for an OSM extract).
    pub attribution: String,
    /// The vector layers it holds.
    pub layers: Vec<String>,
    /// When its file was last written (seconds since the epoch): a replaced pack gets new
    /// tile addresses, so nothing drawn from the old one is reused.
    pub modified: i64,
}

/// A pack found in the folder that cannot be drawn, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RefusedPack {
    pub file: String,
    pub reason: String,
}

fn text(meta: &serde_json::Value, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| meta.get(*k).and_then(|v| v.as_str()))
        .map(|s| s.chars().take(200).collect())
}

/// Opens and describes the pack at `path` (checked: header, parts within the file, root
/// directory, metadata).
pub fn describe(path: &Path) -> Result<(Pack, PackInfo), PackError> {
    let pack = Pack::open(path)?;
    let meta = pack.metadata()?;
    let id = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned();
    let layers = meta
        .get("vector_layers")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|l| l.get("id").and_then(|i| i.as_str()).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let file = std::fs::metadata(path).map_err(|e| PackError::Io(e.to_string()))?;
    let size_bytes = file.len();
    let modified = file
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    let info = PackInfo {
        name: text(&meta, &["name"]).unwrap_or_else(|| id.clone()),
        id,
        bounds: pack.header.bounds,
        min_zoom: pack.header.min_zoom,
        max_zoom: pack.header.max_zoom,
        size_bytes,
        data_date: text(
            &meta,
            &[
                "data_date",
                "date",
                "osm:date",
                "planetiler:osm:osmosisreplicationtime",
            ],
        ),
        attribution: text(&meta, &["attribution"])
            .unwrap_or_else(|| "© OpenStreetMap contributors".into()),
        layers,
        modified,
    };
    Ok((pack, info))
}

/// Every pack in `folder`, and the files there that are not packs the desk can draw.
pub fn list(folder: &Path) -> (Vec<PackInfo>, Vec<RefusedPack>) {
    let (mut packs, mut refused) = (Vec::new(), Vec::new());
    let Ok(dir) = std::fs::read_dir(folder) else {
        return (packs, refused);
    };
    let mut paths: Vec<PathBuf> = dir
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pmtiles"))
        .collect();
    paths.sort();
    for path in paths {
        match describe(&path) {
            Ok((_, info)) if valid_id(&info.id) => packs.push(info),
            Ok((_, info)) => refused.push(RefusedPack {
                file: info.id,
                reason: "its file name may hold only letters, digits, - and _".into(),
            }),
            Err(e) => refused.push(RefusedPack {
                file: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                reason: e.to_string(),
            }),
        }
    }
    (packs, refused)
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A pack's id from a file name: `Istanbul 2026.pmtiles` → `istanbul-2026`.
pub fn id_from_name(name: &str) -> String {
    let stem = name.strip_suffix(".pmtiles").unwrap_or(name);
    let mut id = String::new();
    for c in stem.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    let id = id
        .trim_end_matches('-')
        .chars()
        .take(64)
        .collect::<String>();
    if id.is_empty() { "pack".into() } else { id }
}

/// Copies the pack at `source` into `folder`, checked before and after the copy, under a
/// temporary name renamed into place (a desk never sees half a pack). Replaces a pack of
/// the same id.
pub fn import(source: &Path, folder: &Path) -> Result<PackInfo, PackError> {
    describe(source)?;
    let id = id_from_name(
        &source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    std::fs::create_dir_all(folder).map_err(|e| PackError::Io(e.to_string()))?;
    let target = folder.join(format!("{id}.pmtiles"));
    // Not the name a download from the hub appends to (`.ID.pmtiles.part`).
    let partial = folder.join(format!(".{id}.import-{}.part", std::process::id()));
    std::fs::copy(source, &partial).map_err(|e| PackError::Io(e.to_string()))?;
    if let Err(e) = describe(&partial) {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, &target).map_err(|e| PackError::Io(e.to_string()))?;
    describe(&target).map(|(_, info)| info)
}

/// Removes the pack `id` from `folder`. Answers whether there was one.
pub fn remove(folder: &Path, id: &str) -> Result<bool, PackError> {
    if !valid_id(id) {
        return Ok(false);
    }
    match std::fs::remove_file(folder.join(format!("{id}.pmtiles"))) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(PackError::Io(e.to_string())),
    }
}

/// The SHA-256 of a file, read in pieces (a pack may be hundreds of MB), in lowercase hex.
pub fn sha256_of_file(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1024 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(crate::hex::lower(&hasher.finalize()))
}

/// The path of pack `id` in `folder`, if `id` is a pack's id.
pub fn path_of(folder: &Path, id: &str) -> Option<PathBuf> {
    valid_id(id).then(|| folder.join(format!("{id}.pmtiles")))
}
