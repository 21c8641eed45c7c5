//! Exporting the requests the officer's filter shows, from the desk: CSV or GeoJSON,
//! without personal data (names, phones, document numbers, addresses and descriptions
//! redacted; positions rounded to about 1 km). An export with personal data needs the hub's
//! permission and audit: `lifeline export requests --include-personal-data`.

use std::io::Write;

use chrono::Utc;
use lifeline_core::privacy::{Disclosure, EXPORT_COLUMNS, export_feature, export_row};
use lifeline_core::store::RequestOrder;

use super::DeskState;
use crate::convert;
use crate::dto::{ExportDone, QueueFilter};
use crate::error::{CommandError, CommandResult, ErrorCode};

fn write_error(e: impl std::fmt::Display) -> CommandError {
    CommandError::new(ErrorCode::Storage, format!("cannot write the export: {e}"))
}

/// Writes the requests the filter selects to a new file in the downloads folder (only this
/// user may read it) and says where.
#[tauri::command(async)]
pub fn export_requests(
    app: tauri::AppHandle,
    desk: DeskState<'_>,
    filter: QueueFilter,
    format: String,
) -> CommandResult<ExportDone> {
    super::session::ensure_unlocked(&desk)?;
    let extension = match format.as_str() {
        "csv" => "csv",
        "geojson" => "geojson",
        _ => return Err(CommandError::invalid("the export format is csv or geojson")),
    };
    let mut q = convert::query(&filter, &desk.settings().officer, Utc::now())?;
    q.order = RequestOrder::Oldest;
    q.limit = None;
    let (path, file) = super::downloads::create_private_file(&app, "requests", extension)?;
    let mut out = std::io::BufWriter::new(file);
    let mut count = 0u32;
    let written: Result<(), CommandError> = if extension == "csv" {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(EXPORT_COLUMNS).map_err(write_error)?;
        desk.store
            .for_each_request(&q, |r| {
                count += 1;
                w.write_record(export_row(&r.request, Disclosure::Redacted))
                    .map_err(write_error)
            })
            .and_then(|()| w.flush().map_err(write_error))
    } else {
        out.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")
            .map_err(write_error)?;
        desk.store
            .for_each_request(&q, |r| {
                if count > 0 {
                    out.write_all(b",\n").map_err(write_error)?;
                }
                count += 1;
                serde_json::to_writer(&mut out, &export_feature(&r.request, Disclosure::Redacted))
                    .map_err(write_error)
            })
            .and_then(|()| out.write_all(b"\n]}\n").map_err(write_error))
    };
    let finished = written.and_then(|()| {
        out.into_inner()
            .map_err(|e| write_error(e.error()))?
            .sync_all()
            .map_err(write_error)
    });
    if let Err(e) = finished {
        // Half a file is not an export.
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    Ok(ExportDone {
        path: path.display().to_string(),
        count,
    })
}
