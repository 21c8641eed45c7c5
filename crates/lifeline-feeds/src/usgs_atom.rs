//! The USGS earthquake summary feed as Atom (`summary/*.atom`): each entry is an earthquake,
//! read into the same hazard advisory as the GeoJSON feed's (magnitude from the title,
//! depth from `georss:elev`, origin time and PAGER level from the summary's HTML).
//!
//! An entry's `<id>` is `urn:earthquake-usgs-gov:<network>:<code>`; the event id is network
//! and code joined (`us7000n4k2`), as in the GeoJSON feed, so the two feeds update the same
//! advisory.

use chrono::NaiveDateTime;
use geojson::{Feature, Geometry, GeometryValue, Position};
use lifeline_core::store::Rejection;
use roxmltree::Node;
use serde_json::{Map, json};

use crate::geojson_feeds::{Quake, earthquake};
use crate::{FeedError, HazardRemoval, ParsedDocument, time, xml};

const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
const GEORSS_NS: &str = "http://www.georss.org/georss";

pub fn parse(text: &str, source: &str) -> Result<ParsedDocument, FeedError> {
    let doc = xml::parse(text)?;
    let mut out = ParsedDocument::default();
    for entry in xml::children(doc.root_element(), &[ATOM_NS], "entry") {
        let id = xml::child_text(entry, &[ATOM_NS], "id").and_then(|urn| event_id(&urn));
        let outcome =
            feature(entry, id.as_deref()).and_then(|f| earthquake(&f, id.as_deref(), source));
        match outcome {
            Ok(Quake::Event(a)) => out.advisories.push(*a),
            Ok(Quake::Deleted(ids)) => out.removals.push(HazardRemoval {
                format: lifeline_core::model::SourceFormat::Usgs,
                ids,
            }),
            Err(reason) => out.rejected.push(Rejection {
                record_ref: Some(format!(
                    "entry {} at {}",
                    id.as_deref().unwrap_or("?"),
                    xml::position(entry)
                )),
                reason,
                raw: doc.input_text()[entry.range()].as_bytes().to_vec(),
            }),
        }
    }
    Ok(out)
}

/// `urn:earthquake-usgs-gov:us:7000n4k2` → `us7000n4k2`.
fn event_id(urn: &str) -> Option<String> {
    let rest = urn.trim().strip_prefix("urn:earthquake-usgs-gov:")?;
    let id: String = rest.split(':').collect();
    (!id.is_empty()).then_some(id)
}

/// The text of `<dd>` after `<dt>{label}</dt>` in the summary's HTML.
fn summary_field<'a>(html: &'a str, label: &str) -> Option<&'a str> {
    let after = &html[html.find(&format!("<dt>{label}</dt>"))?..];
    let start = after.find("<dd>")? + 4;
    let end = start + after[start..].find("</dd>")?;
    Some(after[start..end].trim())
}

/// The entry as a GeoJSON feature with the GeoJSON feed's properties.
fn feature(entry: Node<'_, '_>, id: Option<&str>) -> Result<Feature, String> {
    id.ok_or("the entry's id is not a USGS event id (urn:earthquake-usgs-gov:…)")?;
    let title = xml::child_text(entry, &[ATOM_NS], "title").ok_or("the entry has no title")?;
    // `M 5.2 - 45 km SSW of Abepura, Indonesia`
    let (mag_part, place) = title.split_once(" - ").unwrap_or((title.as_str(), ""));
    let mag: Option<f64> = mag_part
        .trim()
        .strip_prefix('M')
        .and_then(|m| m.trim().parse().ok());
    let point = xml::child_text(entry, &[GEORSS_NS], "point").ok_or("no georss:point")?;
    let numbers: Vec<f64> = point
        .split_whitespace()
        .map(|n| {
            n.parse::<f64>()
                .map_err(|_| format!("georss:point `{point}` is not two numbers"))
        })
        .collect::<Result<_, _>>()?;
    let [lat, lon] = numbers[..] else {
        return Err(format!("georss:point `{point}` is not `lat lon`"));
    };
    let mut coordinates = vec![lon, lat];
    // Elevation in metres, negative below the surface: the depth.
    if let Some(elev) = xml::child_text(entry, &[GEORSS_NS], "elev") {
        let elev: f64 = elev
            .parse()
            .map_err(|_| format!("georss:elev `{elev}` is not a number"))?;
        coordinates.push(-elev / 1000.0);
    }
    let summary = xml::child_text(entry, &[ATOM_NS], "summary").unwrap_or_default();
    let updated = xml::child_text(entry, &[ATOM_NS], "updated")
        .and_then(|t| time::parse_zoned(&t))
        .ok_or("the entry has no <updated> time")?;
    // The origin time is in the summary (`2024-11-02 19:07:26 UTC`); <updated> is when the
    // event was last revised.
    let origin = summary_field(&summary, "Time")
        .and_then(|t| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S UTC").ok())
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or_else(|| updated.timestamp_millis());
    let alert = ["green", "yellow", "orange", "red"]
        .into_iter()
        .find(|level| summary.contains(&format!("pager-alertlevel-{level}")));
    let url = xml::children(entry, &[ATOM_NS], "link")
        .find(|l| matches!(l.attribute("rel"), None | Some("alternate")))
        .and_then(|l| l.attribute("href"));
    let mut props = Map::new();
    props.insert("title".into(), json!(title));
    props.insert("place".into(), json!(place.trim()));
    props.insert("time".into(), json!(origin));
    props.insert("updated".into(), json!(updated.timestamp_millis()));
    if let Some(m) = mag {
        props.insert("mag".into(), json!(m));
    }
    if let Some(a) = alert {
        props.insert("alert".into(), json!(a));
    }
    if let Some(u) = url {
        props.insert("url".into(), json!(u));
    }
    Ok(Feature {
        geometry: Some(Geometry::new(GeometryValue::Point {
            coordinates: Position::from(coordinates),
        })),
        properties: Some(props),
        ..Feature::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_join_network_and_code() {
        assert_eq!(
            event_id("urn:earthquake-usgs-gov:us:7000n4k2").as_deref(),
            Some("us7000n4k2")
        );
        assert_eq!(event_id("tag:example.org,2024:x"), None);
    }

    #[test]
    fn summary_fields_are_read_from_the_html() {
        let html =
            "<dl><dt>Time</dt><dd>2024-11-02 19:07:26 UTC</dd><dt>Depth</dt><dd>10.00 km</dd></dl>";
        assert_eq!(summary_field(html, "Time"), Some("2024-11-02 19:07:26 UTC"));
        assert_eq!(summary_field(html, "Location"), None);
    }
}
