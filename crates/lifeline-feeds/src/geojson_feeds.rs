//! GeoJSON advisories (RFC 7946) and the USGS earthquake feed.
//!
//! GeoJSON is `[lon, lat]` (3-D positions allowed: the third number is dropped for areas and
//! kept as depth for USGS), geometry may be null, unknown "foreign members" are ignored, and
//! polygons are normalised like CAP's: validated, closed, split at the antimeridian.

use chrono::Duration;
use geojson::{Feature, GeoJson, Geometry, GeometryValue, Position};
use lifeline_core::geo;
use lifeline_core::model::{
    Advisory, AdvisoryArea, AdvisoryInfo, AdvisoryKey, AlertStatus, Certainty, Circle,
    HazardDetails, MsgType, Scope, Severity, SourceFormat, Urgency,
};
use lifeline_core::store::Rejection;
use serde_json::{Map, Value};

use crate::{FeedError, HazardRemoval, ParsedDocument, time};

pub const USGS_SENDER: &str = "earthquake.usgs.gov";
/// An earthquake stays on the active list this long after it happened.
const EARTHQUAKE_ACTIVE_FOR: Duration = Duration::days(7);

/// Validates and normalises a geometry: positions in range, rings closed, polygons split at
/// the antimeridian (and closed through the pole when they enclose one).
pub fn normalize_geometry(g: &Geometry) -> Result<Geometry, String> {
    fn point(p: &Position) -> Result<Position, String> {
        if p.len() < 2 {
            return Err("a position needs a longitude and a latitude".into());
        }
        lifeline_core::model::request::check_lat_lon(p[1], p[0]).map_err(|e| e.to_string())?;
        Ok(Position::from([p[0], p[1]]))
    }
    fn points(ps: &[Position]) -> Result<Vec<Position>, String> {
        ps.iter().map(point).collect()
    }
    let value = match &g.value {
        GeometryValue::Point { coordinates } => GeometryValue::Point {
            coordinates: point(coordinates)?,
        },
        GeometryValue::MultiPoint { coordinates } => GeometryValue::MultiPoint {
            coordinates: points(coordinates)?,
        },
        GeometryValue::LineString { coordinates } => GeometryValue::LineString {
            coordinates: points(coordinates)?,
        },
        GeometryValue::MultiLineString { coordinates } => GeometryValue::MultiLineString {
            coordinates: coordinates
                .iter()
                .map(|l| points(l))
                .collect::<Result<_, _>>()?,
        },
        GeometryValue::Polygon { coordinates } => {
            multi_or_single(geo::normalize_polygon(coordinates)?)
        }
        GeometryValue::MultiPolygon { coordinates } => {
            let mut parts = Vec::new();
            for (i, p) in coordinates.iter().enumerate() {
                parts.extend(
                    geo::normalize_polygon(p).map_err(|e| format!("polygon {}: {e}", i + 1))?,
                );
            }
            multi_or_single(parts)
        }
        GeometryValue::GeometryCollection { geometries } => GeometryValue::GeometryCollection {
            geometries: geometries
                .iter()
                .map(normalize_geometry)
                .collect::<Result<_, _>>()?,
        },
    };
    Ok(Geometry::new(value))
}

fn multi_or_single(mut parts: Vec<geo::PolygonCoords>) -> GeometryValue {
    if parts.len() == 1 {
        GeometryValue::Polygon {
            coordinates: parts.remove(0),
        }
    } else {
        GeometryValue::MultiPolygon { coordinates: parts }
    }
}

fn parse_geojson(text: &str) -> Result<GeoJson, FeedError> {
    text.parse::<GeoJson>()
        .map_err(|e| FeedError::Json(e.to_string()))
}

fn features(doc: GeoJson) -> Vec<Feature> {
    match doc {
        GeoJson::FeatureCollection(fc) => fc.features,
        GeoJson::Feature(f) => vec![f],
        GeoJson::Geometry(g) => vec![Feature {
            geometry: Some(g),
            ..Feature::default()
        }],
    }
}

fn rejection(i: usize, id: Option<&str>, reason: String, feature: &Feature) -> Rejection {
    Rejection {
        record_ref: Some(match id {
            Some(id) => format!("feature {} ({id})", i + 1),
            None => format!("feature {}", i + 1),
        }),
        reason,
        raw: serde_json::to_vec(feature).unwrap_or_default(),
    }
}

fn feature_id(f: &Feature) -> Option<String> {
    match &f.id {
        Some(geojson::feature::Id::String(s)) => Some(s.clone()),
        Some(geojson::feature::Id::Number(n)) => Some(n.to_string()),
        None => None,
    }
}

fn prop_str(props: Option<&Map<String, Value>>, names: &[&str]) -> Option<String> {
    let props = props?;
    names
        .iter()
        .find_map(|n| props.get(*n))
        .and_then(|v| match v {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
}

/// Generic GeoJSON: each feature an advisory. Properties recognised (all optional):
/// `sender`, `identifier`/`id`, `event`, `headline`/`title`/`name`, `description`,
/// `severity`, `urgency`, `certainty` (CAP words), `sent`, `expires`.
pub fn parse_advisories(text: &str, source: &str) -> Result<ParsedDocument, FeedError> {
    let mut out = ParsedDocument::default();
    for (i, f) in features(parse_geojson(text)?).into_iter().enumerate() {
        let id = feature_id(&f);
        match advisory_from_feature(&f, i, id.clone(), source) {
            Ok(a) => out.advisories.push(a),
            Err(reason) => out.rejected.push(rejection(i, id.as_deref(), reason, &f)),
        }
    }
    Ok(out)
}

fn advisory_from_feature(
    f: &Feature,
    i: usize,
    id: Option<String>,
    source: &str,
) -> Result<Advisory, String> {
    let props = f.properties.as_ref();
    let word = |names: &[&str], default: &str| {
        prop_str(props, names).unwrap_or_else(|| default.to_owned())
    };
    let parse_word =
        |name: &str, default: &str| -> Result<String, String> { Ok(word(&[name], default)) };
    let severity: Severity = parse_word("severity", "Unknown")?
        .parse()
        .map_err(|e| format!("severity: {e}"))?;
    let urgency: Urgency = parse_word("urgency", "Unknown")?
        .parse()
        .map_err(|e| format!("urgency: {e}"))?;
    let certainty: Certainty = parse_word("certainty", "Unknown")?
        .parse()
        .map_err(|e| format!("certainty: {e}"))?;
    let date = |name: &str| -> Result<Option<chrono::DateTime<chrono::FixedOffset>>, String> {
        prop_str(props, &[name])
            .map(|t| time::parse_zoned(&t).ok_or_else(|| format!("{name} `{t}` is not a date")))
            .transpose()
    };
    let sent =
        date("sent")?.unwrap_or_else(|| chrono::DateTime::<chrono::Utc>::UNIX_EPOCH.fixed_offset());
    let geometry = f.geometry.as_ref().map(normalize_geometry).transpose()?;
    let identifier = prop_str(props, &["identifier"])
        .or(id)
        .unwrap_or_else(|| format!("feature-{}", i + 1));
    Ok(Advisory {
        key: AdvisoryKey {
            sender: word(&["sender"], source),
            identifier,
        },
        source: source.to_owned(),
        source_format: SourceFormat::GeoJson,
        msg_type: MsgType::Alert,
        status: AlertStatus::Actual,
        scope: Scope::Public,
        sent,
        sent_text: sent.to_rfc3339(),
        references: Vec::new(),
        infos: vec![AdvisoryInfo {
            language: word(&["language"], "en-US"),
            event: word(&["event", "type", "name", "title"], "Advisory"),
            headline: prop_str(props, &["headline", "title", "name"]),
            description: prop_str(props, &["description"]),
            instruction: prop_str(props, &["instruction"]),
            categories: vec!["Other".into()],
            urgency,
            severity,
            certainty,
            effective: None,
            onset: None,
            expires: date("expires")?,
            sender_name: None,
            web: prop_str(props, &["url", "web"]),
        }],
        areas: vec![AdvisoryArea {
            description: word(&["areaDesc", "area", "place"], ""),
            geometry,
            circles: Vec::new(),
            geocodes: Vec::new(),
        }],
        hazard: None,
    })
}

/// The radius (km) around an epicentre within which shaking is typically strong enough to
/// harm (MMI VI and up): ~10 km at M5, ~40 km at M6, ~145 km at M7, ~550 km at M8. A rough
/// fit to ShakeMap footprints, used only to ask "which of our citizens are near it".
pub fn earthquake_radius_km(magnitude: f64) -> f64 {
    10f64.powf(0.58 * magnitude - 1.9).clamp(5.0, 1_000.0)
}

/// The USGS earthquake summary feed (`summary/*.geojson`) or a detail document.
pub fn parse_usgs(text: &str, source: &str) -> Result<ParsedDocument, FeedError> {
    let mut out = ParsedDocument::default();
    for (i, f) in features(parse_geojson(text)?).into_iter().enumerate() {
        let id = feature_id(&f);
        match earthquake(&f, id.as_deref(), source) {
            Ok(Quake::Event(a)) => out.advisories.push(*a),
            Ok(Quake::Deleted(ids)) => out.removals.push(HazardRemoval {
                format: SourceFormat::Usgs,
                ids,
            }),
            Err(reason) => out.rejected.push(rejection(i, id.as_deref(), reason, &f)),
        }
    }
    Ok(out)
}

pub(crate) enum Quake {
    Event(Box<Advisory>),
    Deleted(Vec<String>),
}

/// One earthquake feature (GeoJSON, or an Atom entry read into the same properties).
pub(crate) fn earthquake(f: &Feature, id: Option<&str>, source: &str) -> Result<Quake, String> {
    let id = id.ok_or("the feature has no id")?;
    let props = f
        .properties
        .as_ref()
        .ok_or("the feature has no properties")?;
    let num = |name: &str| props.get(name).and_then(Value::as_f64);
    let mut aliases: Vec<String> = prop_str(Some(props), &["ids"])
        .map(|ids| {
            ids.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if !aliases.iter().any(|a| a == id) {
        aliases.push(id.to_owned());
    }
    if prop_str(Some(props), &["status"]).as_deref() == Some("deleted") {
        return Ok(Quake::Deleted(aliases));
    }
    let time_ms = props
        .get("time")
        .and_then(Value::as_i64)
        .ok_or("`time` (ms since epoch) is missing")?;
    let updated_ms = props
        .get("updated")
        .and_then(Value::as_i64)
        .unwrap_or(time_ms);
    let sent = time::from_epoch_ms(time_ms).ok_or("`time` is out of range")?;
    let Some(Geometry {
        value: GeometryValue::Point { coordinates },
        ..
    }) = &f.geometry
    else {
        return Err("an earthquake needs a Point geometry".into());
    };
    if coordinates.len() < 2 {
        return Err("the epicentre needs a longitude and a latitude".into());
    }
    let (lon, lat) = (coordinates[0], coordinates[1]);
    lifeline_core::model::request::check_lat_lon(lat, lon).map_err(|e| e.to_string())?;
    let depth_km = coordinates.as_slice().get(2).copied();
    let magnitude = num("mag");
    let alert = prop_str(Some(props), &["alert"]);
    // PAGER's level when USGS has assessed losses; otherwise by magnitude.
    let severity = match (alert.as_deref(), magnitude) {
        (Some("red"), _) => Severity::Extreme,
        (Some("orange"), _) => Severity::Severe,
        (Some("yellow"), _) => Severity::Moderate,
        (Some("green"), _) => Severity::Minor,
        (_, Some(m)) if m >= 7.0 => Severity::Severe,
        (_, Some(m)) if m >= 6.0 => Severity::Moderate,
        (_, Some(_)) => Severity::Minor,
        _ => Severity::Unknown,
    };
    let place = prop_str(Some(props), &["place"]).unwrap_or_default();
    let radius_m = earthquake_radius_km(magnitude.unwrap_or(5.0)) * 1000.0;
    let ring = geo::circle_ring(lat, lon, radius_m, 64);
    let geometry = crate::cap::assemble_geometry(
        geo::normalize_polygon(&[ring])?,
        vec![Position::from([lon, lat])],
    );
    let tsunami = props.get("tsunami").and_then(Value::as_i64).unwrap_or(0) != 0;
    Ok(Quake::Event(Box::new(Advisory {
        key: AdvisoryKey {
            sender: USGS_SENDER.into(),
            identifier: id.to_owned(),
        },
        source: source.to_owned(),
        source_format: SourceFormat::Usgs,
        msg_type: MsgType::Alert,
        status: AlertStatus::Actual,
        scope: Scope::Public,
        sent,
        sent_text: sent.to_rfc3339(),
        references: Vec::new(),
        infos: vec![AdvisoryInfo {
            language: "en-US".into(),
            event: "Earthquake".into(),
            headline: prop_str(Some(props), &["title"]),
            description: Some(match (magnitude, depth_km) {
                (Some(m), Some(d)) => format!("Magnitude {m} at {d} km depth, {place}"),
                _ => place.clone(),
            }),
            instruction: tsunami.then(|| {
                "A tsunami may have been generated: check official tsunami warnings.".into()
            }),
            categories: vec!["Geo".into()],
            urgency: Urgency::Immediate,
            severity,
            certainty: Certainty::Observed,
            effective: Some(sent),
            onset: Some(sent),
            expires: Some(sent + EARTHQUAKE_ACTIVE_FOR),
            sender_name: Some("USGS".into()),
            web: prop_str(Some(props), &["url"]),
        }],
        areas: vec![AdvisoryArea {
            description: place,
            geometry,
            circles: vec![Circle { lat, lon, radius_m }],
            geocodes: Vec::new(),
        }],
        hazard: Some(HazardDetails {
            magnitude,
            depth_km,
            alert_level: alert,
            tsunami,
            event_type: Some("earthquake".into()),
            aliases,
            source_version: Some(updated_ms),
            countries: Vec::new(),
        }),
    })))
}
