//! Map clusters for a viewport, as a compact binary payload.
//!
//! Why binary: GeoJSON over IPC costs ~2 s of serialisation at 10^6 points (measured, see
//! docs/PERFORMANCE.md); the clusters of one viewport fit in a few kilobytes of floats.
//! Layout (little-endian): `u32 count, u32 flags (bit 0: index ready)`, then per cluster
//! 32 bytes: `f32 lon, f32 lat, u32 count, u32 open, u32 open_emergencies, u8 top_priority,
//! u8 flags (bit 0 stale, bits 1-3 status index), u16 padding, f64 rowid (0 for groups)`.

use chrono::Utc;
use lifeline_core::geo::BBox;

use super::DeskState;
use crate::convert;
use crate::dto::{ClusterMembers, QueueFilter, Viewport};
use crate::error::{CommandError, CommandResult};

/// Markers closer than this on screen merge into one cluster.
const CLUSTER_RADIUS_PX: f64 = 48.0;

fn view_box(view: &Viewport) -> CommandResult<BBox> {
    BBox::new(
        view.west.clamp(-180.0, 180.0),
        view.south.clamp(-90.0, 90.0),
        view.east.clamp(-180.0, 180.0),
        view.north.clamp(-90.0, 90.0),
    )
    .map_err(CommandError::invalid)
}

#[tauri::command(async)]
pub fn map_clusters(
    desk: DeskState<'_>,
    view: Viewport,
    filter: QueueFilter,
) -> CommandResult<tauri::ipc::Response> {
    super::session::ensure_unlocked(&desk)?;
    let now = Utc::now();
    let q = convert::query(&filter, &desk.settings().officer, now)?;
    let bbox = view_box(&view)?;
    let ready = desk.index_ready();
    let clusters = if ready {
        desk.store.viewport_clusters(
            &bbox,
            view.zoom,
            CLUSTER_RADIUS_PX,
            &q,
            now - convert::STALE_AFTER,
        )?
    } else {
        Vec::new()
    };
    let mut out = Vec::with_capacity(8 + clusters.len() * 32);
    out.extend_from_slice(&(clusters.len() as u32).to_le_bytes());
    out.extend_from_slice(&u32::from(ready).to_le_bytes());
    for c in clusters {
        out.extend_from_slice(&(c.lon as f32).to_le_bytes());
        out.extend_from_slice(&(c.lat as f32).to_le_bytes());
        out.extend_from_slice(&c.count.to_le_bytes());
        out.extend_from_slice(&c.open.to_le_bytes());
        out.extend_from_slice(&c.open_emergencies.to_le_bytes());
        out.push(c.top_priority);
        out.push(u8::from(c.stale) | (c.status << 1));
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(c.rowid as f64).to_le_bytes());
    }
    Ok(tauri::ipc::Response::new(out))
}

/// The requests of the cluster drawn nearest (`lon`, `lat`) for `view` and `filter` (the
/// arguments the map drew it with): the map's Shift+click pick for a bulk action. The first
/// `MAX_BULK` in the queue's order; `total` says how many the cluster holds.
#[tauri::command(async)]
pub fn cluster_members(
    desk: DeskState<'_>,
    view: Viewport,
    filter: QueueFilter,
    lon: f64,
    lat: f64,
) -> CommandResult<ClusterMembers> {
    super::session::ensure_unlocked(&desk)?;
    super::requests::ensure_index_ready(&desk)?;
    let now = Utc::now();
    let q = convert::query(&filter, &desk.settings().officer, now)?;
    let bbox = view_box(&view)?;
    let found = desk.store.viewport_cluster_members(
        &bbox,
        view.zoom,
        CLUSTER_RADIUS_PX,
        &q,
        (lon, lat),
        super::actions::MAX_BULK,
    )?;
    Ok(match found {
        Some((total, ids)) => ClusterMembers {
            total: total as u32,
            ids,
        },
        None => ClusterMembers {
            total: 0,
            ids: Vec::new(),
        },
    })
}
