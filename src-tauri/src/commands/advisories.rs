//! Advisories: the list, one with the requests inside it, and the shapes for the map.

use chrono::Utc;
use lifeline_core::geo::cities;
use serde_json::{Value, json};

use super::DeskState;
use crate::convert;
use crate::dto::{AdvisoryDetail, AdvisorySummary};
use crate::error::{CommandError, CommandResult, ErrorCode};

/// Current advisories (not superseded, cancelled or expired), most severe first. Tests and
/// exercises are included; the UI marks them as such.
#[tauri::command(async)]
pub fn advisories(desk: DeskState<'_>) -> CommandResult<Vec<AdvisorySummary>> {
    let language = desk.settings().language;
    Ok(desk
        .active_advisories()?
        .iter()
        .map(|r| convert::advisory_summary(r, &language))
        .collect())
}

#[tauri::command(async)]
pub fn advisory_detail(desk: DeskState<'_>, id: f64) -> CommandResult<AdvisoryDetail> {
    let settings = desk.settings();
    let row = desk
        .store
        .advisory_by_id(id as i64, Utc::now())?
        .ok_or_else(|| CommandError::new(ErrorCode::NotFound, "no such advisory"))?;
    let inside = desk.store.requests_in_advisory(row.id, false)?;
    let claims = desk.store.live_claims(Utc::now())?;
    let active = desk.active_advisories()?;
    Ok(AdvisoryDetail {
        advisory: convert::advisory_summary(&row, &settings.language),
        requests_total: inside.len() as u32,
        requests: inside
            .iter()
            .take(500)
            .map(|r| convert::queue_row(r, &claims, &active, &settings.desk, &settings.language))
            .collect(),
    })
}

/// Areas of current real warnings as GeoJSON, for the map's advisory layer.
#[tauri::command(async)]
pub fn advisory_shapes(desk: DeskState<'_>) -> CommandResult<Value> {
    let language = desk.settings().language;
    let mut features = Vec::new();
    for row in desk
        .active_advisories()?
        .iter()
        .filter(|r| r.is_active_warning())
    {
        let summary = convert::advisory_summary(row, &language);
        let headline = summary
            .headline
            .clone()
            .unwrap_or_else(|| summary.event.clone());
        for area in &row.advisory.areas {
            let Some(geometry) = &area.geometry else {
                // No shape: an area named only by ISO 3166-2 codes is shown as a mark on
                // each subdivision's principal city, named in the officer's language.
                for (subdivision, city) in cities::placed_subdivisions(&area.geocodes) {
                    features.push(json!({
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [city.lon, city.lat]},
                        "properties": {
                            "id": row.id,
                            "severity": summary.severity,
                            "headline": headline,
                            "area": subdivision.name_in(&language),
                            "placed_at": city.name_in(&language),
                        },
                    }));
                }
                continue;
            };
            features.push(json!({
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "id": row.id,
                    "severity": summary.severity,
                    "headline": headline,
                    "area": area.description,
                },
            }));
        }
    }
    Ok(json!({"type": "FeatureCollection", "features": features}))
}
