//! OASIS Common Alerting Protocol 1.2 and 1.1, bare or inside an EDXL-DE envelope.
//!
//! What bites, and how it is handled:
//! * CAP coordinates are `lat,lon`; GeoJSON is `[lon, lat]`. Every polygon is swapped here.
//! * Circles are `lat,lon radius_km`; a radius of 0 is a point. The exact circle is kept for
//!   point-in-area tests, a 64-gon for drawing and export.
//! * Polygons crossing the antimeridian are split (see `lifeline_core::geo::antimeridian`).
//! * Enumerations are case-sensitive; an unknown value rejects the alert (it is quarantined
//!   with the reason) instead of being guessed. `Very Likely` (CAP 1.0/1.1) is accepted.
//! * `<Signature>` elements are ignored, not verified and not fatal.

use chrono::{DateTime, FixedOffset};
use geojson::{Geometry, GeometryValue, Position};
use lifeline_core::geo::{self, PolygonCoords};
use lifeline_core::model::{
    Advisory, AdvisoryArea, AdvisoryInfo, AdvisoryKey, AlertReference, AlertStatus, Certainty,
    Circle, MsgType, Scope, Severity, SourceFormat, Urgency,
};
use lifeline_core::store::Rejection;
use roxmltree::Node;

use crate::xml;

pub const CAP12_NS: &str = "urn:oasis:names:tc:emergency:cap:1.2";
pub const CAP11_NS: &str = "urn:oasis:names:tc:emergency:cap:1.1";
const CAP_NS: &[&str] = &[CAP12_NS, CAP11_NS];

/// CAP's `<category>` values.
const CATEGORIES: &[&str] = &[
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
];

/// Segments used to draw a circle as a polygon.
const CIRCLE_SEGMENTS: usize = 64;

pub fn is_cap_alert(node: Node<'_, '_>) -> bool {
    node.is_element()
        && node.tag_name().name() == "alert"
        && CAP_NS.contains(&node.tag_name().namespace().unwrap_or(""))
}

/// Every CAP alert at or below `root` (one for a bare alert, several for an EDXL-DE envelope).
pub fn alerts_in<'a, 'input>(root: Node<'a, 'input>) -> Vec<Node<'a, 'input>> {
    if is_cap_alert(root) {
        return vec![root];
    }
    root.descendants().filter(|n| is_cap_alert(*n)).collect()
}

/// Parses each alert; a bad alert becomes a rejection carrying its XML and the reason.
pub fn parse_alerts(nodes: &[Node<'_, '_>], source: &str) -> Vec<Result<Advisory, Rejection>> {
    nodes
        .iter()
        .map(|node| {
            parse_alert(*node, source).map_err(|reason| Rejection {
                record_ref: Some(describe(*node)),
                reason,
                raw: node.document().input_text()[node.range()]
                    .as_bytes()
                    .to_vec(),
            })
        })
        .collect()
}

fn describe(node: Node<'_, '_>) -> String {
    let id =
        xml::child_text(node, CAP_NS, "identifier").unwrap_or_else(|| "(no identifier)".into());
    format!("alert {id} at {}", xml::position(node))
}

fn required(node: Node<'_, '_>, name: &str) -> Result<String, String> {
    xml::child_text(node, CAP_NS, name).ok_or_else(|| format!("<{name}> is missing"))
}

fn word<T: std::str::FromStr>(node: Node<'_, '_>, name: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    required(node, name)?
        .parse()
        .map_err(|e: T::Err| format!("<{name}>: {e}"))
}

fn time(text: &str, what: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(text.trim()).map_err(|e| {
        format!(
            "<{what}> `{}` is not a date-time with a time zone ({e})",
            text.chars().take(40).collect::<String>()
        )
    })
}

fn optional_time(node: Node<'_, '_>, name: &str) -> Result<Option<DateTime<FixedOffset>>, String> {
    xml::child_text(node, CAP_NS, name)
        .map(|t| time(&t, name))
        .transpose()
}

/// Parses one `<alert>` element.
pub fn parse_alert(node: Node<'_, '_>, source: &str) -> Result<Advisory, String> {
    let source_format = match node.tag_name().namespace() {
        Some(CAP11_NS) => SourceFormat::Cap11,
        _ => SourceFormat::Cap12,
    };
    let identifier = required(node, "identifier")?;
    let sender = required(node, "sender")?;
    let sent_text = required(node, "sent")?;
    let sent = time(&sent_text, "sent")?;
    let status: AlertStatus = word(node, "status")?;
    let msg_type: MsgType = word(node, "msgType")?;
    let scope: Scope = word(node, "scope")?;
    let references = match xml::child_text(node, CAP_NS, "references") {
        Some(text) => AlertReference::parse_list(&text)?,
        None => Vec::new(),
    };
    let mut infos = Vec::new();
    let mut areas = Vec::new();
    for (i, info) in xml::children(node, CAP_NS, "info").enumerate() {
        let (parsed, info_areas) = parse_info(info).map_err(|e| format!("info {}: {e}", i + 1))?;
        infos.push(parsed);
        // Areas repeat per language block; keep each distinct area once.
        for area in info_areas {
            if !areas.contains(&area) {
                areas.push(area);
            }
        }
    }
    Ok(Advisory {
        key: AdvisoryKey { sender, identifier },
        source: source.to_owned(),
        source_format,
        msg_type,
        status,
        scope,
        sent,
        sent_text,
        references,
        infos,
        areas,
        hazard: None,
    })
}

fn parse_info(info: Node<'_, '_>) -> Result<(AdvisoryInfo, Vec<AdvisoryArea>), String> {
    let categories = xml::children_text(info, CAP_NS, "category");
    if categories.is_empty() {
        return Err("<category> is missing".into());
    }
    if let Some(bad) = categories
        .iter()
        .find(|c| !CATEGORIES.contains(&c.as_str()))
    {
        return Err(format!(
            "<category> `{bad}` is not one of {}",
            CATEGORIES.join(", ")
        ));
    }
    let parsed = AdvisoryInfo {
        language: xml::child_text(info, CAP_NS, "language").unwrap_or_else(|| "en-US".into()),
        event: required(info, "event")?,
        headline: xml::child_text(info, CAP_NS, "headline"),
        description: xml::child_text(info, CAP_NS, "description"),
        instruction: xml::child_text(info, CAP_NS, "instruction"),
        categories,
        urgency: word::<Urgency>(info, "urgency")?,
        severity: word::<Severity>(info, "severity")?,
        certainty: word::<Certainty>(info, "certainty")?,
        effective: optional_time(info, "effective")?,
        onset: optional_time(info, "onset")?,
        expires: optional_time(info, "expires")?,
        sender_name: xml::child_text(info, CAP_NS, "senderName"),
        web: xml::child_text(info, CAP_NS, "web"),
    };
    let areas = xml::children(info, CAP_NS, "area")
        .enumerate()
        .map(|(i, a)| parse_area(a).map_err(|e| format!("area {}: {e}", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((parsed, areas))
}

fn parse_area(area: Node<'_, '_>) -> Result<AdvisoryArea, String> {
    let description = required(area, "areaDesc")?;
    let mut polygons: Vec<PolygonCoords> = Vec::new();
    for (i, text) in xml::children_text(area, CAP_NS, "polygon")
        .iter()
        .enumerate()
    {
        let ring = parse_cap_ring(text).map_err(|e| format!("polygon {}: {e}", i + 1))?;
        polygons.extend(
            geo::normalize_polygon(&[ring]).map_err(|e| format!("polygon {}: {e}", i + 1))?,
        );
    }
    let mut circles = Vec::new();
    let mut points = Vec::new();
    for (i, text) in xml::children_text(area, CAP_NS, "circle")
        .iter()
        .enumerate()
    {
        let circle = parse_circle(text).map_err(|e| format!("circle {}: {e}", i + 1))?;
        if circle.radius_m > 0.0 {
            let ring = geo::circle_ring(circle.lat, circle.lon, circle.radius_m, CIRCLE_SEGMENTS);
            polygons.extend(
                geo::normalize_polygon(&[ring]).map_err(|e| format!("circle {}: {e}", i + 1))?,
            );
        } else {
            points.push(Position::from([circle.lon, circle.lat]));
        }
        circles.push(circle);
    }
    let mut geocodes = Vec::new();
    for g in xml::children(area, CAP_NS, "geocode") {
        let name =
            xml::child_text(g, CAP_NS, "valueName").ok_or("<geocode> without <valueName>")?;
        let value = xml::child_text(g, CAP_NS, "value").ok_or("<geocode> without <value>")?;
        geocodes.push((name, value));
    }
    Ok(AdvisoryArea {
        description,
        geometry: assemble_geometry(polygons, points),
        circles,
        geocodes,
    })
}

/// One geometry for an area: a Polygon or MultiPolygon when it is all polygons, a
/// GeometryCollection when points (zero-radius circles) are mixed in.
pub fn assemble_geometry(
    mut polygons: Vec<PolygonCoords>,
    points: Vec<Position>,
) -> Option<Geometry> {
    let polygon_value = match polygons.len() {
        0 => None,
        1 => polygons
            .pop()
            .map(|p| GeometryValue::Polygon { coordinates: p }),
        _ => Some(GeometryValue::MultiPolygon {
            coordinates: polygons,
        }),
    };
    let point_value = match points.len() {
        0 => None,
        1 => points
            .into_iter()
            .next()
            .map(|p| GeometryValue::Point { coordinates: p }),
        _ => Some(GeometryValue::MultiPoint {
            coordinates: points,
        }),
    };
    match (polygon_value, point_value) {
        (None, None) => None,
        (Some(v), None) | (None, Some(v)) => Some(Geometry::new(v)),
        (Some(a), Some(b)) => Some(Geometry::new(GeometryValue::GeometryCollection {
            geometries: vec![Geometry::new(a), Geometry::new(b)],
        })),
    }
}

fn number(text: &str, what: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| {
            format!(
                "{what} `{}` is not a number",
                text.chars().take(30).collect::<String>()
            )
        })
}

fn lat_lon(pair: &str) -> Result<(f64, f64), String> {
    let (lat, lon) = pair
        .split_once(',')
        .ok_or_else(|| format!("`{pair}` is not a lat,lon pair"))?;
    let (lat, lon) = (number(lat, "latitude")?, number(lon, "longitude")?);
    // Longitudes slightly past ±180 are how some issuers (GDACS) continue a ring across the
    // antimeridian; they are wrapped when the ring is normalised.
    if lat.abs() > 90.0 || lon.abs() > 540.0 {
        return Err(format!("`{pair}` is outside -90..90, -180..180"));
    }
    Ok((lat, lon))
}

/// `lat,lon lat,lon …` → a ring of `[lon, lat]` positions.
pub fn parse_cap_ring(text: &str) -> Result<Vec<Position>, String> {
    text.split_whitespace()
        .map(|pair| lat_lon(pair).map(|(lat, lon)| Position::from([lon, lat])))
        .collect()
}

/// `lat,lon radius_km` → a circle with its radius in metres.
pub fn parse_circle(text: &str) -> Result<Circle, String> {
    let mut parts = text.split_whitespace();
    let (Some(centre), Some(radius), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("`{text}` is not `lat,lon radius`"));
    };
    let (lat, lon) = lat_lon(centre)?;
    let lon = geo::wrap_lon(lon);
    let radius_km = number(radius, "radius")?;
    if radius_km < 0.0 {
        return Err(format!("radius {radius_km} is negative"));
    }
    Ok(Circle {
        lat,
        lon,
        radius_m: radius_km * 1000.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polygon_pairs_are_swapped_to_lon_lat() {
        let ring =
            parse_cap_ring("38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 38.47,-120.14")
                .expect("ring");
        assert_eq!(ring[0].as_slice(), [-120.14, 38.47]);
    }

    #[test]
    fn circle_radius_is_in_metres() {
        let c = parse_circle("32.9525,-115.5527 0").expect("circle");
        assert_eq!((c.lat, c.lon, c.radius_m), (32.9525, -115.5527, 0.0));
        let c = parse_circle("-33.8,151.2 12.5").expect("circle");
        assert_eq!(c.radius_m, 12_500.0);
        assert!(parse_circle("-33.8,151.2").is_err());
        assert!(parse_circle("200,10 5").is_err());
    }
}
