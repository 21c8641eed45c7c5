//! `lifeline export requests|advisories`: streamed, so an export of 10^6 requests uses the
//! memory of one record.
//!
//! Personal data: identity-document and phone numbers are redacted unless the officer asks
//! for them (`--include-personal-data`). CSV cells that a spreadsheet would run as a formula
//! (starting with = + - @) are prefixed with `'`: citizen text is untrusted.

use chrono::Utc;
use lifeline_core::Store;
use lifeline_core::model::HelpRequest;
use lifeline_core::protocol::WireRequest;
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
            filters: f,
        } => {
            let mut q = filters::query(&f)?;
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
                        sink.json(&request_feature(&r.request, include_personal_data))
                    })?;
                    sink.write_str("\n]}\n")?;
                }
                RequestFormat::Csv => {
                    let mut w = csv::Writer::from_writer(sink.raw());
                    let csv_err = |e: csv::Error| CliError::Write {
                        what: "CSV".into(),
                        source: e.into(),
                    };
                    w.write_record(CSV_COLUMNS).map_err(csv_err)?;
                    store.for_each_request(&q, |r| {
                        w.write_record(csv_row(&r.request, include_personal_data))
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

fn redact(wire: &mut WireRequest) {
    if wire.citizen.phone.is_some() {
        wire.citizen.phone = Some("[redacted]".into());
    }
    if wire.citizen.id_document.is_some() {
        wire.citizen.id_document = Some("[redacted]".into());
    }
}

fn request_feature(r: &HelpRequest, personal: bool) -> Value {
    let mut wire = WireRequest::from_domain(r, &[]);
    if !personal {
        redact(&mut wire);
    }
    let geometry = wire.location.as_ref().map_or(
        Value::Null,
        |l| json!({"type": "Point", "coordinates": [l.lon, l.lat]}),
    );
    let mut props = serde_json::to_value(&wire).unwrap_or(Value::Null);
    if let Some(loc) = props.get_mut("location").and_then(Value::as_object_mut) {
        loc.remove("lat");
        loc.remove("lon");
    }
    json!({"type": "Feature", "id": r.id, "geometry": geometry, "properties": props})
}

const CSV_COLUMNS: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "status",
    "priority",
    "emergency",
    "category",
    "channel",
    "people_count",
    "name",
    "phone",
    "id_document",
    "nationality",
    "language",
    "lat",
    "lon",
    "accuracy_m",
    "address",
    "country",
    "post",
    "assignee",
    "description",
    "version",
];

/// Neutralises spreadsheet formulas in untrusted text.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn csv_row(r: &HelpRequest, personal: bool) -> Vec<String> {
    let opt = |v: &Option<String>| v.as_deref().map(cell).unwrap_or_default();
    let secret = |v: &Option<String>| match v {
        Some(_) if !personal => "[redacted]".to_owned(),
        other => opt(other),
    };
    let loc = r.location.as_ref();
    vec![
        r.id.clone(),
        r.created_at.to_rfc3339(),
        r.updated_at.to_rfc3339(),
        r.status.to_string(),
        r.priority.to_string(),
        r.emergency.to_string(),
        r.category.to_string(),
        r.channel.to_string(),
        r.people_count.to_string(),
        cell(&r.citizen.name),
        secret(&r.citizen.phone),
        secret(&r.citizen.id_document),
        opt(&r.citizen.nationality),
        opt(&r.citizen.language),
        loc.map(|l| l.lat.to_string()).unwrap_or_default(),
        loc.map(|l| l.lon.to_string()).unwrap_or_default(),
        loc.and_then(|l| l.accuracy_m)
            .map(|a| a.to_string())
            .unwrap_or_default(),
        loc.map(|l| opt(&l.address)).unwrap_or_default(),
        loc.map(|l| opt(&l.country)).unwrap_or_default(),
        opt(&r.post),
        opt(&r.assignee),
        cell(&r.description),
        r.version.to_string(),
    ]
}
