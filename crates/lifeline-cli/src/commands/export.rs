//! `lifeline export requests|advisories`: streamed, so an export of 10^6 requests uses the
//! memory of one record.
//!
//! Personal data: none by default (`lifeline_core::privacy`: names, phones, document
//! numbers, addresses, descriptions and attachment names redacted, positions rounded to
//! about 1 km). `--include-personal-data` keeps it, only after the hub has allowed it to the
//! officer's role and recorded it. Every CSV cell that a spreadsheet would run as a formula
//! is neutralised, ids included: citizen text is untrusted.

use chrono::Utc;
use lifeline_core::Store;
use lifeline_core::privacy::{Disclosure, EXPORT_COLUMNS, export_feature, export_row};
use lifeline_core::protocol::WireExportNotice;
use lifeline_sync::http::Http;
use lifeline_sync::{Limits, sign_in};
use serde_json::{Value, json};

use crate::args::{AdvisoryFormat, ExportArgs, ExportWhat, RequestFormat};
use crate::output::Sink;
use crate::{CliError, filters};

pub fn run(store: &Store, args: ExportArgs) -> Result<(), CliError> {
    match args.what {
        ExportWhat::Requests {
            format,
            output,
            include_personal_data,
            hub,
            hub_ca,
            officer,
            filters: f,
        } => {
            let mut q = filters::query(&f)?;
            let disclosure = if include_personal_data {
                let (Some(hub), Some(officer)) = (hub, officer) else {
                    return Err(CliError::Usage(
                        "an export with personal data needs the hub's permission: give --hub URL and --officer ID".into(),
                    ));
                };
                let what = format!(
                    "requests as {}{}",
                    match format {
                        RequestFormat::Csv => "CSV",
                        RequestFormat::Geojson => "GeoJSON",
                    },
                    output
                        .as_ref()
                        .map(|o| format!(" to {}", o.display()))
                        .unwrap_or_default()
                );
                authorise_personal_export(&hub, hub_ca.as_deref(), &officer, &what)?;
                Disclosure::PersonalData
            } else {
                Disclosure::Redacted
            };
            q.order = lifeline_core::store::RequestOrder::Oldest;
            let mut sink = Sink::to(output.as_deref())?;
            match format {
                RequestFormat::Geojson => {
                    sink.write_str("{\"type\":\"FeatureCollection\",\"features\":[\n")?;
                    let mut first = true;
                    store.for_each_request(&q, |r| {
                        if !first {
                            sink.write_str(",\n")?;
                        }
                        first = false;
                        sink.json(&export_feature(&r.request, disclosure))
                    })?;
                    sink.write_str("\n]}\n")?;
                }
                RequestFormat::Csv => {
                    let mut w = csv::Writer::from_writer(sink.raw());
                    let csv_err = |e: csv::Error| CliError::Write {
                        what: "CSV".into(),
                        source: e.into(),
                    };
                    w.write_record(EXPORT_COLUMNS).map_err(csv_err)?;
                    store.for_each_request(&q, |r| {
                        w.write_record(export_row(&r.request, disclosure))
                            .map_err(csv_err)
                    })?;
                    w.flush().map_err(|e| CliError::Write {
                        what: "CSV".into(),
                        source: e,
                    })?;
                    drop(w);
                }
            }
            sink.finish()
        }
        ExportWhat::Advisories {
            format: AdvisoryFormat::Geojson,
            output,
            active,
        } => {
            let rows = store.advisories(active, Utc::now())?;
            let mut sink = Sink::to(output.as_deref())?;
            sink.write_str("{\"type\":\"FeatureCollection\",\"features\":[\n")?;
            for (i, row) in rows.iter().enumerate() {
                if i > 0 {
                    sink.write_str(",\n")?;
                }
                let geometries: Vec<Value> = row
                    .advisory
                    .areas
                    .iter()
                    .filter_map(|a| a.geometry.as_ref())
                    .map(|g| serde_json::to_value(g).unwrap_or(Value::Null))
                    .collect();
                let geometry = match geometries.len() {
                    0 => Value::Null,
                    1 => geometries.into_iter().next().unwrap_or(Value::Null),
                    _ => json!({"type": "GeometryCollection", "geometries": geometries}),
                };
                sink.json(&json!({
                    "type": "Feature",
                    "id": format!("{},{}", row.advisory.key.sender, row.advisory.key.identifier),
                    "geometry": geometry,
                    "properties": super::advisories::properties(row),
                }))?;
            }
            sink.write_str("\n]}\n")?;
            sink.finish()
        }
    }
}

/// Signs the officer in and asks the hub to record an export with personal data; the hub
/// refuses it to roles without the right.
fn authorise_personal_export(
    hub: &str,
    ca: Option<&std::path::Path>,
    officer: &str,
    what: &str,
) -> Result<(), CliError> {
    let mut roots = Vec::new();
    if let Some(path) = ca {
        roots.push(std::fs::read(path).map_err(|e| {
            CliError::Usage(format!("cannot read the CA file {}: {e}", path.display()))
        })?);
    }
    lifeline_sync::http::check_transport(hub).map_err(|e| CliError::Usage(e.to_string()))?;
    let password = super::sync::password()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Sync(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        let http = Http::with_roots(Limits::default(), &roots)
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let session = sign_in(&http, hub, officer, &password, "cli-export")
            .await
            .map_err(|e| CliError::Sync(format!("signing in as {officer}: {e}")))?;
        let url = format!("{}/v1/audit/exports", hub.trim_end_matches('/'));
        let notice = WireExportNotice { what: what.into() };
        let (status, _, body) = http
            .post_json(&url, Some(&session.access_token), &[], &notice)
            .await
            .map_err(|e| CliError::Sync(e.to_string()))?;
        if status == 200 {
            return Ok(());
        }
        let message = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("the hub answered {status}"));
        Err(CliError::Refused(format!(
            "the hub did not allow an export with personal data: {message}"
        )))
    })
}
