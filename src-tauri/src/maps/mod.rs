//! Region packs on the desk: the PMTiles archives in the data folder's `maps/`, opened when
//! the map first asks for one of their tiles and kept open, and served to MapLibre through
//! the `lifeline-tiles:` scheme (`{id}/{z}/{x}/{y}`): each tile found by range reads in its
//! archive and decompressed here. Packs are read-only; a damaged one is listed with why and
//! never served.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lifeline_core::maps::{self, Pack, PackError, PackInfo, RefusedPack};
use tauri::http::{Response, StatusCode, header};

use crate::scheme::{allow_app_origin, status};

/// The scheme's name, as the UI and the CSP spell it.
pub const SCHEME: &str = "lifeline-tiles";

pub struct MapPacks {
    folder: PathBuf,
    open: Mutex<HashMap<String, Arc<Pack>>>,
}

impl MapPacks {
    pub fn for_data_dir(dir: &Path) -> MapPacks {
        MapPacks {
            folder: dir.join("maps"),
            open: Mutex::new(HashMap::new()),
        }
    }

    /// The packs the map can draw, and the files there it refuses with why.
    pub fn list(&self) -> (Vec<PackInfo>, Vec<RefusedPack>) {
        maps::list(&self.folder)
    }

    /// Copies a pack in (checked before and after); a pack of the same id is replaced.
    pub fn import(&self, source: &Path) -> Result<PackInfo, PackError> {
        let info = maps::import(source, &self.folder)?;
        self.forget(&info.id);
        Ok(info)
    }

    pub fn remove(&self, id: &str) -> Result<bool, PackError> {
        self.forget(id);
        maps::remove(&self.folder, id)
    }

    /// Closes pack `id` if it is open (its file was replaced).
    pub fn forget(&self, id: &str) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(id);
        }
    }

    fn pack(&self, id: &str) -> Result<Arc<Pack>, PackError> {
        if let Ok(open) = self.open.lock()
            && let Some(p) = open.get(id)
        {
            return Ok(Arc::clone(p));
        }
        let path = maps::path_of(&self.folder, id)
            .ok_or_else(|| PackError::Io(format!("no pack `{id}`")))?;
        let pack = Arc::new(Pack::open(&path)?);
        if let Ok(mut open) = self.open.lock() {
            open.insert(id.to_owned(), Arc::clone(&pack));
        }
        Ok(pack)
    }

    /// The answer to `/{id}/{z}/{x}/{y}`: the tile (`200`), none there (`204`: the map
    /// draws nothing, quietly), or an error the map shows as a missing tile. A pack that
    /// fails a read is closed, so a file replaced since is opened again.
    pub fn serve(&self, path: &str, origin: Option<&str>) -> Response<Vec<u8>> {
        let mut response = self.tile_answer(path);
        allow_app_origin(&mut response, origin, None);
        response
    }

    fn tile_answer(&self, path: &str) -> Response<Vec<u8>> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let [id, z, x, y] = parts.as_slice() else {
            return status(StatusCode::NOT_FOUND);
        };
        let y = y.trim_end_matches(".mvt").trim_end_matches(".pbf");
        let (Ok(z), Ok(x), Ok(y)) = (z.parse::<u8>(), x.parse::<u32>(), y.parse::<u32>()) else {
            return status(StatusCode::NOT_FOUND);
        };
        let pack = match self.pack(id) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("map pack {id}: {e}");
                return status(StatusCode::NOT_FOUND);
            }
        };
        match pack.tile(z, x, y) {
            Ok(Some(tile)) => Response::builder()
                .header(header::CONTENT_TYPE, "application/x-protobuf")
                .header(header::CACHE_CONTROL, "no-store")
                .body(tile)
                .unwrap_or_default(),
            Ok(None) => status(StatusCode::NO_CONTENT),
            Err(e) => {
                tracing::warn!("map pack {id}, tile {z}/{x}/{y}: {e}");
                self.forget(id);
                status(StatusCode::UNPROCESSABLE_ENTITY)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_are_served_by_pack_z_x_y_and_a_cut_pack_is_an_error_not_a_crash() {
        let dir = tempfile::tempdir().expect("tempdir");
        let packs = MapPacks::for_data_dir(dir.path());
        let source =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/maps/helsinki.pmtiles");
        let info = packs.import(&source).expect("import");
        // Zoom 14 over the railway station (60.171 N, 24.941 E).
        let ok = packs.serve(
            &format!("/{}/14/9327/4742", info.id),
            Some("tauri://localhost"),
        );
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.body().first(), Some(&0x1a));
        assert_eq!(
            ok.headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .map(|v| v.as_bytes()),
            Some(&b"tauri://localhost"[..])
        );
        let elsewhere = packs.serve(
            &format!("/{}/14/1/1", info.id),
            Some("https://evil.example"),
        );
        assert_eq!(elsewhere.status(), StatusCode::NO_CONTENT);
        assert!(
            elsewhere
                .headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none()
        );
        assert_eq!(
            packs.serve("/../1/1/1", None).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            packs.serve("/nope/1/1/1", None).status(),
            StatusCode::NOT_FOUND
        );
        // The file cut under the open pack: an error answer, then the pack is reopened
        // (and refused) rather than read again.
        let path = dir.path().join("maps").join(format!("{}.pmtiles", info.id));
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open")
            .set_len(300)
            .expect("cut");
        let cut = packs.serve(&format!("/{}/14/9327/4742", info.id), None);
        assert!(!cut.status().is_success(), "{}", cut.status());
        let (listed, refused) = packs.list();
        assert!(listed.is_empty() && refused.len() == 1);
        assert!(packs.remove(&info.id).expect("remove"));
    }
}
