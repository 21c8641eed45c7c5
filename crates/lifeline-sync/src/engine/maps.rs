//! Region packs from the hub: the desk lists what its hub hosts and brings each pack it
//! does not have (or has in another version) into its maps folder, by ranges appended to a
//! `.part` file — a download cut off (the desk killed, the network gone) resumes where it
//! stopped — then checks the whole file against the hub's SHA-256 and opens it as a pack
//! before it takes the place of the old one. A desk never draws half a pack.

use std::io::Write;
use std::path::{Path, PathBuf};

use lifeline_core::maps;
use serde::Deserialize;

use super::{SyncEngine, SyncError};

/// What the hub says of a pack it hosts (`GET /v1/maps`).
#[derive(Debug, Clone, Deserialize)]
pub struct HostedPack {
    pub id: String,
    pub size_bytes: u64,
    pub sha256: String,
}

#[derive(Deserialize)]
struct HostedPacks {
    packs: Vec<HostedPack>,
}

/// What one pass over the hub's packs did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MapSync {
    /// Packs new or changed on this desk.
    pub updated: Vec<String>,
    /// Packs that could not be brought in, and why (tried again at the next pass).
    pub failed: Vec<(String, String)>,
}

/// The most bytes asked for at once (the hub answers at most 8 MiB a call).
const CHUNK: u64 = 8 * 1024 * 1024;
/// The largest pack a desk takes (a big city at street zoom is a few hundred MB).
const MAX_PACK: u64 = 4 * 1024 * 1024 * 1024;

fn sidecar(folder: &Path, id: &str) -> PathBuf {
    folder.join(format!(".{id}.pmtiles.sha256"))
}

fn partial(folder: &Path, id: &str) -> PathBuf {
    folder.join(format!(".{id}.pmtiles.part"))
}

fn io(e: std::io::Error) -> SyncError {
    SyncError::MapPack(e.to_string())
}

impl SyncEngine {
    /// Brings every pack the hub hosts into `folder` (the desk's maps). One pack that fails
    /// does not hold back the others; one that fails its check is dropped and fetched again
    /// whole at the next call. An error is the hub's list not being had at all.
    pub async fn sync_maps(&self, folder: &Path) -> Result<MapSync, SyncError> {
        let hub = self.hub()?;
        let token = self.bearer().await?;
        let answer = self
            .inner
            .http
            .get(&hub.endpoint("/v1/maps"), Some(&token), &[])
            .await?;
        let body = self.inner.http.body(answer).await?;
        let hosted: HostedPacks = serde_json::from_slice(&body)
            .map_err(|e| SyncError::MapPack(format!("the hub's list of map packs: {e}")))?;
        std::fs::create_dir_all(folder).map_err(io)?;
        let mut done = MapSync::default();
        for pack in hosted.packs {
            let Some(target) = maps::path_of(folder, &pack.id) else {
                continue;
            };
            let have = std::fs::read_to_string(sidecar(folder, &pack.id)).unwrap_or_default();
            if have.trim() == pack.sha256 && target.is_file() {
                continue;
            }
            if pack.size_bytes == 0 || pack.size_bytes > MAX_PACK {
                continue;
            }
            match self.download(folder, &pack).await {
                Ok(()) => done.updated.push(pack.id),
                Err(e) => done.failed.push((pack.id, e.to_string())),
            }
        }
        Ok(done)
    }

    async fn download(&self, folder: &Path, pack: &HostedPack) -> Result<(), SyncError> {
        let hub = self.hub()?;
        let part = partial(folder, &pack.id);
        let mut have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        if have > pack.size_bytes {
            std::fs::remove_file(&part).map_err(io)?;
            have = 0;
        }
        let url = hub.endpoint(&format!("/v1/maps/{}", pack.id));
        while have < pack.size_bytes {
            let end = (have + CHUNK).min(pack.size_bytes) - 1;
            let token = self.bearer().await?;
            let range = format!("bytes={have}-{end}");
            let answer = self
                .inner
                .http
                .get(&url, Some(&token), &[("Range", &range)])
                .await?;
            let bytes = self.inner.http.body_at_most(answer, CHUNK as usize).await?;
            if bytes.is_empty() || bytes.len() as u64 > end - have + 1 {
                return Err(SyncError::MapPack(format!(
                    "{}: the hub answered {} bytes for {range}",
                    pack.id,
                    bytes.len()
                )));
            }
            // Appended and flushed before the next range is asked for: what is on disk is
            // what the next attempt resumes from.
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&part)
                .map_err(io)?;
            f.write_all(&bytes).map_err(io)?;
            f.sync_data().map_err(io)?;
            have += bytes.len() as u64;
        }
        let hash = {
            let part = part.clone();
            tokio::task::spawn_blocking(move || maps::sha256_of_file(&part))
                .await
                .map_err(|e| SyncError::MapPack(e.to_string()))?
                .map_err(io)?
        };
        if hash != pack.sha256 {
            let _ = std::fs::remove_file(&part);
            return Err(SyncError::MapPack(format!(
                "{}: the download does not match the hub's SHA-256; it is fetched again",
                pack.id
            )));
        }
        if let Err(e) = maps::describe(&part) {
            let _ = std::fs::remove_file(&part);
            return Err(SyncError::MapPack(format!("{}: {e}", pack.id)));
        }
        let target = maps::path_of(folder, &pack.id)
            .ok_or_else(|| SyncError::MapPack("not a pack id".into()))?;
        std::fs::rename(&part, &target).map_err(io)?;
        std::fs::write(sidecar(folder, &pack.id), &pack.sha256).map_err(io)?;
        Ok(())
    }
}
