//! Offline street maps (region packs), as the settings panel and the map see them.

use serde::Serialize;
use ts_rs::TS;

/// A region pack the map can draw.
#[derive(Debug, Clone, Serialize, TS)]
pub struct MapPackDto {
    pub id: String,
    pub name: String,
    /// `[west, south, east, north]`.
    pub bounds: Vec<f64>,
    pub min_zoom: u8,
    pub max_zoom: u8,
    pub size_bytes: f64,
    pub data_date: Option<String>,
    /// Shown on the map whenever the pack is drawn.
    pub attribution: String,
    pub layers: Vec<String>,
    /// Changes when the pack's file is replaced (part of its tiles' addresses).
    pub version: f64,
    /// The tiles' URL template for MapLibre, before `convertFileSrc`'s prefix:
    /// `{id}/{z}/{x}/{y}` under the `lifeline-tiles` scheme.
    pub scheme: String,
}

/// A file in the maps folder that is not a pack the desk can draw.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RefusedPackDto {
    pub file: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct MapPacksDto {
    pub packs: Vec<MapPackDto>,
    pub refused: Vec<RefusedPackDto>,
}
