//! Region packs the hub hosts for its desks (`--maps DIR`): a desk lists them
//! (`GET /v1/maps`) and downloads each by ranges (`GET /v1/maps/{id}`, `Range` required, at
//! most `MAX_RANGE` a call), so a download cut off resumes where it stopped, and checks the
//! whole file against its SHA-256 before it draws it. Packs are public map data; reading
//! them takes a read scope all the same (the hub serves no one it does not know).

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lifeline_core::maps::{self, PackInfo};
use serde::Serialize;

use super::{Shared, audit, error};
use crate::auth::{Principal, forbidden};

/// The most bytes one answer carries: a desk asks again for the rest.
pub const MAX_RANGE: u64 = 8 * 1024 * 1024;

/// One hosted pack: what desks are told about it, and its file.
#[derive(Debug, Clone, Serialize)]
pub struct HostedPack {
    pub id: String,
    pub name: String,
    pub bounds: [f64; 4],
    pub min_zoom: u8,
    pub max_zoom: u8,
    pub size_bytes: u64,
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_date: Option<String>,
    pub attribution: String,
    #[serde(skip)]
    path: PathBuf,
}

/// The packs found at start, each checked and hashed once.
#[derive(Debug, Clone, Default)]
pub struct HostedMaps {
    pub packs: Arc<Vec<HostedPack>>,
}

impl HostedMaps {
    /// Reads the packs in `folder`; a file that is not a pack the desks can draw is named
    /// on standard error and not hosted.
    pub fn scan(folder: &Path) -> HostedMaps {
        let (packs, refused) = maps::list(folder);
        for r in refused {
            eprintln!(
                "lifeline-hub: not hosting map pack {}: {}",
                r.file, r.reason
            );
        }
        let hosted = packs
            .into_iter()
            .filter_map(|p: PackInfo| {
                let path = maps::path_of(folder, &p.id)?;
                let sha256 = match maps::sha256_of_file(&path) {
                    Ok(h) => h,
                    Err(e) => {
                        eprintln!("lifeline-hub: not hosting map pack {}: {e}", p.id);
                        return None;
                    }
                };
                Some(HostedPack {
                    id: p.id,
                    name: p.name,
                    bounds: p.bounds,
                    min_zoom: p.min_zoom,
                    max_zoom: p.max_zoom,
                    size_bytes: p.size_bytes,
                    sha256,
                    data_date: p.data_date,
                    attribution: p.attribution,
                    path,
                })
            })
            .collect();
        HostedMaps {
            packs: Arc::new(hosted),
        }
    }
}

fn reader(p: &Principal) -> Result<(), Response> {
    match p.read_scope() {
        Some(_) => Ok(()),
        None => Err(forbidden("download map packs")),
    }
}

/// `GET /v1/maps`: the packs this hub hosts.
pub async fn list(State(state): State<Shared>, Extension(p): Extension<Principal>) -> Response {
    if let Err(r) = reader(&p) {
        return r;
    }
    axum::Json(serde_json::json!({ "packs": state.maps.packs.as_ref() })).into_response()
}

/// `bytes=a-b` or `bytes=a-` of a file of `len` bytes → `[start, end)`.
fn range(headers: &HeaderMap, len: u64) -> Option<(u64, u64)> {
    let spec = headers
        .get(header::RANGE)?
        .to_str()
        .ok()?
        .trim()
        .strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let start: u64 = a.trim().parse().ok()?;
    let end = match b.trim() {
        "" => len,
        b => b.parse::<u64>().ok()?.saturating_add(1).min(len),
    };
    (start < end).then_some((start, end))
}

/// `GET /v1/maps/{id}` with `Range: bytes=a-b`: that part of the pack (`206`), at most
/// `MAX_RANGE` bytes.
pub async fn part(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = reader(&p) {
        return r;
    }
    let Some(pack) = state.maps.packs.iter().find(|x| x.id == id).cloned() else {
        return error(StatusCode::NOT_FOUND, "not_found", "no such map pack");
    };
    let Some((start, end)) = range(&headers, pack.size_bytes) else {
        return error(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "range_required",
            format!(
                "ask for a part of the {} bytes: `Range: bytes=START-END`, at most {MAX_RANGE} bytes a call",
                pack.size_bytes
            ),
        );
    };
    let end = end.min(start + MAX_RANGE);
    let (path, size) = (pack.path.clone(), pack.size_bytes);
    let read = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        let mut f = std::fs::File::open(path)?;
        // Replaced since the hub hashed it: its parts would not add up to the SHA-256 the
        // desks were given.
        if f.metadata()?.len() != size {
            return Err(std::io::Error::other("changed since the hub started"));
        }
        f.seek(SeekFrom::Start(start))?;
        let mut buf = vec![0u8; (end - start) as usize];
        f.read_exact(&mut buf)?;
        Ok(buf)
    })
    .await;
    let bytes = match read {
        Ok(Ok(b)) => b,
        _ => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the map pack cannot be read, or changed since the hub started (restart the hub to offer the new one)",
            );
        }
    };
    let detail = format!("bytes {start}-{}", end - 1);
    if let Err(resp) = audit(&state, &p, "map_download", Some(id), detail).await {
        return resp;
    }
    let mut resp = (StatusCode::PARTIAL_CONTENT, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.pmtiles"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{}", end - 1, pack.size_bytes))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", pack.sha256)) {
        h.insert(header::ETAG, v);
    }
    resp
}
