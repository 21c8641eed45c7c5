//! Offline street maps: the region packs of this desk, listed, imported and removed from
//! the settings panel (the command line does the same with `lifeline maps`).

use std::sync::Arc;

use lifeline_core::maps::PackInfo;
use tauri::{AppHandle, Emitter, State};

use crate::dto::{MapPackDto, MapPacksDto, RefusedPackDto};
use crate::error::{CommandError, CommandResult, ErrorCode};
use crate::events;
use crate::maps::{MapPacks, SCHEME};

type Packs<'a> = State<'a, Arc<MapPacks>>;

fn dto(p: PackInfo) -> MapPackDto {
    MapPackDto {
        id: p.id,
        name: p.name,
        bounds: p.bounds.to_vec(),
        min_zoom: p.min_zoom,
        max_zoom: p.max_zoom,
        size_bytes: p.size_bytes as f64,
        data_date: p.data_date,
        attribution: p.attribution,
        layers: p.layers,
        version: p.modified as f64,
        scheme: SCHEME.into(),
    }
}

fn refused(e: lifeline_core::maps::PackError) -> CommandError {
    CommandError::new(ErrorCode::InvalidInput, e.to_string())
}

/// The packs the map draws, and the files in the maps folder it refuses, with why.
#[tauri::command(async)]
pub fn map_packs(packs: Packs<'_>) -> MapPacksDto {
    let (ok, bad) = packs.list();
    MapPacksDto {
        packs: ok.into_iter().map(dto).collect(),
        refused: bad
            .into_iter()
            .map(|r| RefusedPackDto {
                file: r.file,
                reason: r.reason,
            })
            .collect(),
    }
}

/// Copies the pack at `path` into this desk's maps (checked first: a damaged or cut file is
/// refused with why, and nothing changes).
#[tauri::command(async)]
pub fn import_map_pack(
    app: AppHandle,
    packs: Packs<'_>,
    path: String,
) -> CommandResult<MapPackDto> {
    let path = std::path::PathBuf::from(path.trim());
    if !path.is_file() {
        return Err(CommandError::new(ErrorCode::NotFound, "no such file"));
    }
    let info = packs.import(&path).map_err(refused)?;
    let _ = app.emit(events::MAP_PACKS_CHANGED, ());
    Ok(dto(info))
}

/// Removes pack `id`; the map falls back to what other packs and the world map draw.
#[tauri::command(async)]
pub fn remove_map_pack(app: AppHandle, packs: Packs<'_>, id: String) -> CommandResult<bool> {
    let removed = packs.remove(&id).map_err(refused)?;
    let _ = app.emit(events::MAP_PACKS_CHANGED, ());
    Ok(removed)
}
