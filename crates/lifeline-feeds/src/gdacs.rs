//! GDACS (Global Disaster Alert and Coordination System) RSS: earthquakes, cyclones,
//! floods, volcanoes, droughts and fires with a green/orange/red alert level.
//!
//! Each event is keyed `gdacs.org` / `<type><eventid>` (the feed's `guid`); a higher
//! `gdacs:version` of the same event replaces the stored one.

use chrono::Duration;
use lifeline_core::model::{
    Advisory, AdvisoryArea, AdvisoryInfo, AdvisoryKey, AlertStatus, Certainty, HazardDetails,
    MsgType, Scope, Severity, SourceFormat, Urgency,
};
use lifeline_core::store::Rejection;
use roxmltree::Node;

use crate::feed_index::{box_geometry, parse_georss};
use crate::{FeedError, ParsedDocument, time, xml};

const GDACS_NS: &str = "http://www.gdacs.org";
pub const GDACS_SENDER: &str = "gdacs.org";
/// How long an event stays active after its last update, when the feed gives no end.
const ACTIVE_FOR: Duration = Duration::days(7);

pub fn parse(text: &str, source: &str) -> Result<ParsedDocument, FeedError> {
    let doc = xml::parse(text)?;
    let channel = xml::child(doc.root_element(), &[""], "channel")
        .ok_or_else(|| FeedError::Unsupported("GDACS RSS without <channel>".into()))?;
    let mut out = ParsedDocument::default();
    for item in xml::children(channel, &[""], "item") {
        match parse_item(item, source) {
            Ok(a) => out.advisories.push(a),
            Err(reason) => out.rejected.push(Rejection {
                record_ref: Some(format!(
                    "item {} at {}",
                    xml::child_text(item, &[""], "guid").unwrap_or_default(),
                    xml::position(item)
                )),
                reason,
                raw: doc.input_text()[item.range()].as_bytes().to_vec(),
            }),
        }
    }
    Ok(out)
}

fn g(item: Node<'_, '_>, name: &str) -> Option<String> {
    xml::child_text(item, &[GDACS_NS], name)
}

fn event_name(code: &str) -> &'static str {
    match code {
        "EQ" => "Earthquake",
        "TC" => "Tropical cyclone",
        "FL" => "Flood",
        "VO" => "Volcanic eruption",
        "DR" => "Drought",
        "WF" => "Forest fire",
        "TS" => "Tsunami",
        _ => "Disaster",
    }
}

fn parse_item(item: Node<'_, '_>, source: &str) -> Result<Advisory, String> {
    let event_type = g(item, "eventtype").ok_or("gdacs:eventtype is missing")?;
    let event_id = g(item, "eventid").ok_or("gdacs:eventid is missing")?;
    let version: i64 = match g(item, "version") {
        Some(v) => v
            .parse()
            .map_err(|_| format!("gdacs:version `{v}` is not a whole number"))?,
        None => 0,
    };
    let level = g(item, "alertlevel").ok_or("gdacs:alertlevel is missing")?;
    let severity = match level.as_str() {
        "Red" => Severity::Extreme,
        "Orange" => Severity::Severe,
        "Green" => Severity::Minor,
        other => {
            return Err(format!(
                "gdacs:alertlevel `{other}` is not Green, Orange or Red"
            ));
        }
    };
    let date =
        |name: &str, ns: &str| -> Result<Option<chrono::DateTime<chrono::FixedOffset>>, String> {
            xml::child_text(item, &[ns], name)
                .map(|t| time::parse_zoned(&t).ok_or_else(|| format!("{name} `{t}` is not a date")))
                .transpose()
        };
    let modified = date("datemodified", GDACS_NS)?;
    let sent = modified
        .or(date("pubDate", "")?)
        .ok_or("the item has no date")?;
    let current = g(item, "iscurrent").is_none_or(|c| c != "false");
    let until = date("todate", GDACS_NS)?.map_or(sent, |t| t.max(sent));
    let expires = if current { until + ACTIVE_FOR } else { until };
    let country = g(item, "country").unwrap_or_default();
    let mut geometry = parse_georss(item)?;
    if let Some(bbox) = g(item, "bbox") {
        // Published as `lonmin lonmax latmin latmax`.
        let v: Vec<f64> = bbox
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        let [w, e, s, n] = v[..] else {
            return Err(format!("gdacs:bbox `{bbox}` is not four numbers"));
        };
        geometry = Some(box_geometry(w, s, e, n)?);
    }
    let magnitude = (event_type == "EQ")
        .then(|| {
            xml::child(item, &[GDACS_NS], "severity")
                .and_then(|s| s.attribute("value")?.parse().ok())
        })
        .flatten();
    let guid =
        xml::child_text(item, &[""], "guid").unwrap_or_else(|| format!("{event_type}{event_id}"));
    Ok(Advisory {
        key: AdvisoryKey {
            sender: GDACS_SENDER.into(),
            identifier: format!("{event_type}{event_id}"),
        },
        source: source.to_owned(),
        source_format: SourceFormat::Gdacs,
        msg_type: MsgType::Alert,
        status: AlertStatus::Actual,
        scope: Scope::Public,
        sent,
        sent_text: sent.to_rfc3339(),
        references: Vec::new(),
        infos: vec![AdvisoryInfo {
            language: "en-US".into(),
            event: event_name(&event_type).into(),
            headline: xml::child_text(item, &[""], "title"),
            description: xml::child_text(item, &[""], "description"),
            instruction: None,
            categories: vec![if event_type == "WF" {
                "Fire".into()
            } else {
                "Geo".into()
            }],
            urgency: Urgency::Immediate,
            severity,
            certainty: if event_type == "TC" {
                Certainty::Likely
            } else {
                Certainty::Observed
            },
            effective: date("fromdate", GDACS_NS)?,
            onset: date("fromdate", GDACS_NS)?,
            expires: Some(expires),
            sender_name: Some("GDACS".into()),
            web: xml::child_text(item, &[""], "link"),
        }],
        areas: vec![AdvisoryArea {
            description: country.clone(),
            geometry,
            circles: Vec::new(),
            geocodes: Vec::new(),
        }],
        hazard: Some(HazardDetails {
            magnitude,
            depth_km: None,
            alert_level: Some(level.to_ascii_lowercase()),
            tsunami: false,
            event_type: Some(event_type),
            aliases: vec![guid],
            source_version: Some(version),
            countries: country
                .split(',')
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect(),
        }),
    })
}
