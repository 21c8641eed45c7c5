//! Help requests in the protocol's JSON form: JSON lines (one request per line), a JSON
//! array, or a GeoJSON FeatureCollection whose Point geometry is the citizen's location.

use lifeline_core::model::{CaseEvent, CaseEventKind, Origin};
use lifeline_core::protocol::WireRequest;
use lifeline_core::store::{IncomingRequest, Rejection};
use serde_json::{Map, Value};

use crate::{FeedError, ParsedDocument};

/// One request from its JSON value; `record_ref` names it in errors (`line 12`).
pub fn request_from_value(value: Value, source: &str) -> Result<IncomingRequest, String> {
    let wire: WireRequest = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let (request, mut events) = wire
        .into_domain(Origin::Import)
        .map_err(|e| e.to_string())?;
    if events.is_empty() {
        events.push(CaseEvent {
            id: format!("{}.created", request.id),
            request_id: request.id.clone(),
            kind: CaseEventKind::Created,
            actor: Some(format!("import: {source}")),
            at: request.created_at,
            origin: Origin::Import,
        });
    }
    Ok(IncomingRequest { request, events })
}

fn push(out: &mut ParsedDocument, value: Value, record_ref: String, source: &str) {
    let raw = serde_json::to_vec(&value).unwrap_or_default();
    match request_from_value(value, source) {
        Ok(r) => out.requests.push(r),
        Err(reason) => out.rejected.push(Rejection {
            record_ref: Some(record_ref),
            reason,
            raw,
        }),
    }
}

/// A JSON array of requests.
pub fn parse_array(text: &str, source: &str) -> Result<ParsedDocument, FeedError> {
    let values: Vec<Value> =
        serde_json::from_str(text).map_err(|e| FeedError::Json(e.to_string()))?;
    let mut out = ParsedDocument::default();
    for (i, v) in values.into_iter().enumerate() {
        push(&mut out, v, format!("item {}", i + 1), source);
    }
    Ok(out)
}

/// A GeoJSON FeatureCollection of requests (or a single Feature).
pub fn parse_geojson(text: &str, source: &str) -> Result<ParsedDocument, FeedError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| FeedError::Json(e.to_string()))?;
    let features = match doc.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => match doc.get("features") {
            Some(Value::Array(f)) => f.clone(),
            _ => {
                return Err(FeedError::Json(
                    "a FeatureCollection needs a `features` array".into(),
                ));
            }
        },
        Some("Feature") => vec![doc],
        _ => {
            return Err(FeedError::Json(
                "expected a GeoJSON FeatureCollection or Feature".into(),
            ));
        }
    };
    let mut out = ParsedDocument::default();
    for (i, f) in features.into_iter().enumerate() {
        let record_ref = format!("feature {}", i + 1);
        match feature_to_wire_value(f) {
            Ok(v) => push(&mut out, v, record_ref, source),
            Err((reason, raw)) => out.rejected.push(Rejection {
                record_ref: Some(record_ref),
                reason,
                raw,
            }),
        }
    }
    Ok(out)
}

/// Moves a feature's Point geometry into `properties.location` and its id into `id`.
fn feature_to_wire_value(feature: Value) -> Result<Value, (String, Vec<u8>)> {
    let raw = || serde_json::to_vec(&feature).unwrap_or_default();
    let Value::Object(f) = &feature else {
        return Err(("a feature must be an object".into(), raw()));
    };
    let mut props: Map<String, Value> = match f.get("properties") {
        Some(Value::Object(p)) => p.clone(),
        Some(Value::Null) | None => Map::new(),
        Some(_) => return Err(("`properties` must be an object".into(), raw())),
    };
    if !props.contains_key("id")
        && let Some(id) = f.get("id")
    {
        props.insert(
            "id".into(),
            match id {
                Value::Number(n) => Value::String(n.to_string()),
                other => other.clone(),
            },
        );
    }
    match f.get("geometry") {
        None | Some(Value::Null) => {
            props.remove("location");
        }
        Some(g) => {
            if g.get("type").and_then(Value::as_str) != Some("Point") {
                return Err(("a help request's geometry must be a Point".into(), raw()));
            }
            let coords = g
                .get("coordinates")
                .and_then(Value::as_array)
                .ok_or(("a Point needs coordinates".into(), raw()))?;
            let (Some(lon), Some(lat)) = (
                coords.first().and_then(Value::as_f64),
                coords.get(1).and_then(Value::as_f64),
            ) else {
                return Err(("a Point needs [lon, lat] numbers".into(), raw()));
            };
            let mut location = match props.remove("location") {
                Some(Value::Object(l)) => l,
                _ => Map::new(),
            };
            location.insert("lat".into(), lat.into());
            location.insert("lon".into(), lon.into());
            props.insert("location".into(), Value::Object(location));
        }
    }
    Ok(Value::Object(props))
}
