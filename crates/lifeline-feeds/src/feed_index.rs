//! Atom and RSS 2.0 feeds that index CAP alerts: entries embed the alert, link to it, or
//! carry it inline as CAP-namespaced elements (`cap:event`, `cap:severity`, `cap:areaDesc`,
//! `cap:polygon`, `cap:geocode`… in CAP 1.1 or 1.2) with GeoRSS geometry, as MeteoAlarm,
//! the NWS and many national services publish them.
//!
//! An entry with inline CAP elements whose link is a web page is the alert itself; one whose
//! link is (or may be) a CAP document is followed when online, with the inline alert as the
//! fallback. The inline alert takes the CAP lifecycle: `cap:identifier`, `cap:sender`,
//! `cap:references` and `cap:msgType` when given; else the entry's id, the feed's author,
//! and an Update or Cancel read from a title that says so. Its language is `cap:language`,
//! else the entry's or feed's `xml:lang`, else the RSS channel's `<language>`.

use chrono::{DateTime, FixedOffset, Utc};
use geojson::{Geometry, Position};
use lifeline_core::geo;
use lifeline_core::model::{
    Advisory, AdvisoryArea, AdvisoryInfo, AdvisoryKey, AlertStatus, Certainty, MsgType, Scope,
    Severity, SourceFormat, Urgency,
};
use lifeline_core::store::Rejection;
use roxmltree::Node;

use crate::cap::{self, CAP11_NS, CAP12_NS};
use crate::{FeedError, ParsedDocument, time, xml};

const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
const GEORSS_NS: &str = "http://www.georss.org/georss";
const W3C_GEO_NS: &str = "http://www.w3.org/2003/01/geo/wgs84_pos#";
const CAP_NS: &[&str] = &[CAP12_NS, CAP11_NS];

/// A feed entry that links to a CAP document instead of embedding it.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedAlert {
    pub url: String,
    pub entry_id: String,
    /// GeoRSS geometry of the entry, for a linked alert that has none of its own.
    pub georss: Option<Geometry>,
    /// The CAP summary the entry carries inline, if any.
    pub summary: Option<Advisory>,
}

pub fn parse(text: &str, source: &str) -> Result<ParsedDocument, FeedError> {
    let doc = xml::parse(text)?;
    let root = doc.root_element();
    let (entries, feed_author): (Vec<Node<'_, '_>>, Option<String>) = match root.tag_name().name() {
        "feed" => (
            xml::children(root, &[ATOM_NS], "entry").collect(),
            xml::child(root, &[ATOM_NS], "author")
                .and_then(|a| xml::child_text(a, &[ATOM_NS], "name")),
        ),
        "rss" => {
            let channel = xml::child(root, &[], "channel")
                .ok_or_else(|| FeedError::Unsupported("RSS without <channel>".into()))?;
            (
                xml::children(channel, &[""], "item").collect(),
                xml::child_text(channel, &[""], "title"),
            )
        }
        other => {
            return Err(FeedError::Unsupported(format!(
                "<{other}> is not an Atom or RSS feed"
            )));
        }
    };
    let feed_language = language_of(root);
    let mut out = ParsedDocument::default();
    for entry in entries {
        let entry_id = entry_id(entry);
        let georss = match parse_georss(entry) {
            Ok(g) => g,
            Err(reason) => {
                out.rejected
                    .push(rejection(entry, &entry_id, format!("GeoRSS: {reason}")));
                None
            }
        };
        let embedded: Vec<Node<'_, '_>> = entry
            .descendants()
            .filter(|n| cap::is_cap_alert(*n))
            .collect();
        if !embedded.is_empty() {
            for r in cap::parse_alerts(&embedded, source) {
                match r {
                    Ok(mut a) => {
                        fill_missing_geometry(&mut a, georss.as_ref(), &entry_id);
                        out.advisories.push(a);
                    }
                    Err(rej) => out.rejected.push(rej),
                }
            }
            continue;
        }
        let summary = match summary_advisory(
            entry,
            &entry_id,
            feed_author.as_deref().unwrap_or(source),
            source,
            georss.as_ref(),
            feed_language.as_deref(),
        ) {
            Ok(s) => s,
            Err(reason) => {
                out.rejected.push(rejection(entry, &entry_id, reason));
                continue;
            }
        };
        // An inline alert whose link is a web page is the alert: nothing to follow.
        let link = cap_link(entry).filter(|(_, web_page)| !(summary.is_some() && *web_page));
        match link.map(|(url, _)| url) {
            Some(url) => out.links.push(LinkedAlert {
                url,
                entry_id,
                georss,
                summary,
            }),
            None => match summary {
                Some(s) => out.advisories.push(s),
                None => out.rejected.push(rejection(
                    entry,
                    &entry_id,
                    "the entry neither embeds nor links a CAP alert".into(),
                )),
            },
        }
    }
    Ok(out)
}

fn rejection(entry: Node<'_, '_>, entry_id: &str, reason: String) -> Rejection {
    Rejection {
        record_ref: Some(format!("entry {entry_id} at {}", xml::position(entry))),
        reason,
        raw: entry.document().input_text()[entry.range()]
            .as_bytes()
            .to_vec(),
    }
}

fn entry_id(entry: Node<'_, '_>) -> String {
    xml::child_text(entry, &[ATOM_NS], "id")
        .or_else(|| xml::child_text(entry, &[""], "guid"))
        .or_else(|| xml::child_text(entry, &[""], "link"))
        .unwrap_or_else(|| xml::position(entry))
}

/// The URL of the CAP document an entry points at, if any, and whether it is known to be
/// a web page rather than a CAP document (typed `text/html`, or ending in `.html`/`.htm`).
fn cap_link(entry: Node<'_, '_>) -> Option<(String, bool)> {
    let looks_like_page = |href: &str| {
        let path = href
            .split(['?', '#'])
            .next()
            .unwrap_or(href)
            .to_ascii_lowercase();
        path.ends_with(".html") || path.ends_with(".htm")
    };
    // Atom: a link typed as CAP wins, then the alternate link.
    let atom_links: Vec<Node<'_, '_>> = xml::children(entry, &[ATOM_NS], "link").collect();
    if let Some(l) = atom_links
        .iter()
        .find(|l| l.attribute("type").is_some_and(|t| t.contains("cap")))
    {
        return l.attribute("href").map(|h| (h.to_owned(), false));
    }
    if let Some(l) = atom_links
        .iter()
        .find(|l| matches!(l.attribute("rel"), None | Some("alternate")))
    {
        let page = l.attribute("type").is_some_and(|t| t.contains("html"));
        return l
            .attribute("href")
            .map(|h| (h.to_owned(), page || looks_like_page(h)));
    }
    // RSS: a CAP enclosure, then <link>.
    if let Some(e) = xml::children(entry, &[""], "enclosure")
        .find(|e| e.attribute("type").is_some_and(|t| t.contains("cap")))
    {
        return e.attribute("url").map(|u| (u.to_owned(), false));
    }
    xml::child_text(entry, &[""], "link").map(|h| {
        let page = looks_like_page(&h);
        (h, page)
    })
}

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// The language a feed declares: `xml:lang` on the root, or the RSS channel's `<language>`.
fn language_of(root: Node<'_, '_>) -> Option<String> {
    root.attribute((XML_NS, "lang"))
        .map(str::to_owned)
        .or_else(|| {
            xml::child(root, &[""], "channel").and_then(|c| xml::child_text(c, &[""], "language"))
        })
        .map(|l| normalize_language(&l))
        .filter(|l| !l.is_empty())
}

/// `en-us` → `en-US`, `FR` → `fr`: CAP's RFC 3066 form.
fn normalize_language(tag: &str) -> String {
    let mut parts = tag.trim().split(['-', '_']);
    let mut out = parts.next().unwrap_or("").to_ascii_lowercase();
    for p in parts {
        out.push('-');
        if p.len() == 2 {
            out.push_str(&p.to_ascii_uppercase());
        } else {
            out.push_str(p);
        }
    }
    out
}

/// A title that says the entry updates or cancels an earlier alert, in the languages
/// agencies publish in.
fn msg_type_from_title(title: &str) -> Option<MsgType> {
    let t = title.trim_start().to_lowercase();
    const UPDATE: &[&str] = &[
        "update",
        "updated",
        "mise à jour",
        "actualización",
        "actualizacion",
        "aktualisierung",
        "aggiornamento",
        "atualização",
        "更新",
    ];
    const CANCEL: &[&str] = &[
        "cancel",
        "cancelled",
        "canceled",
        "annulation",
        "annulé",
        "levée",
        "fin de",
        "cancelación",
        "aufhebung",
        "annullamento",
        "cancelamento",
        "解除",
        "取消",
    ];
    if CANCEL.iter().any(|w| t.starts_with(w)) {
        Some(MsgType::Cancel)
    } else if UPDATE.iter().any(|w| t.starts_with(w)) {
        Some(MsgType::Update)
    } else {
        None
    }
}

/// GeoRSS Simple (`georss:point|line|polygon|box|circle`, all `lat lon` order) or W3C
/// `geo:lat`/`geo:long`, as GeoJSON.
pub fn parse_georss(entry: Node<'_, '_>) -> Result<Option<Geometry>, String> {
    let numbers = |text: &str| -> Result<Vec<f64>, String> {
        text.split_whitespace()
            .map(|n| {
                n.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| format!("`{n}` is not a number"))
            })
            .collect()
    };
    let pairs = |v: &[f64]| -> Result<Vec<Position>, String> {
        if !v.len().is_multiple_of(2) {
            return Err("an odd number of coordinates".into());
        }
        v.chunks(2)
            .map(|c| {
                lifeline_core::model::request::check_lat_lon(c[0], c[1])
                    .map_err(|e| e.to_string())?;
                Ok(Position::from([c[1], c[0]]))
            })
            .collect()
    };
    if let Some(text) = xml::child_text(entry, &[GEORSS_NS], "polygon") {
        let ring = pairs(&numbers(&text)?)?;
        let parts = geo::normalize_polygon(&[ring])?;
        return Ok(cap::assemble_geometry(parts, Vec::new()));
    }
    if let Some(text) = xml::child_text(entry, &[GEORSS_NS], "box") {
        let v = numbers(&text)?;
        let [s, w, n, e] = v[..] else {
            return Err("a box is `south west north east`".into());
        };
        return Ok(Some(box_geometry(w, s, e, n)?));
    }
    if let Some(text) = xml::child_text(entry, &[GEORSS_NS], "circle") {
        let v = numbers(&text)?;
        let [lat, lon, radius_m] = v[..] else {
            return Err("a circle is `lat lon radius`".into());
        };
        lifeline_core::model::request::check_lat_lon(lat, lon).map_err(|e| e.to_string())?;
        let parts = geo::normalize_polygon(&[geo::circle_ring(lat, lon, radius_m, 64)])?;
        return Ok(cap::assemble_geometry(parts, Vec::new()));
    }
    if let Some(text) = xml::child_text(entry, &[GEORSS_NS], "point") {
        let p = pairs(&numbers(&text)?)?;
        return Ok(p
            .into_iter()
            .next()
            .map(|p| Geometry::new(geojson::GeometryValue::Point { coordinates: p })));
    }
    let point = xml::child(entry, &[W3C_GEO_NS], "Point").unwrap_or(entry);
    if let (Some(lat), Some(lon)) = (
        xml::child_text(point, &[W3C_GEO_NS], "lat"),
        xml::child_text(point, &[W3C_GEO_NS], "long"),
    ) {
        let p = pairs(&numbers(&format!("{lat} {lon}"))?)?;
        return Ok(p
            .into_iter()
            .next()
            .map(|p| Geometry::new(geojson::GeometryValue::Point { coordinates: p })));
    }
    Ok(None)
}

/// A longitude/latitude box as a polygon, split if it crosses the antimeridian. Accepts
/// longitudes past ±180 (GDACS writes `-181.2 -173.2` for a box across it).
pub fn box_geometry(west: f64, south: f64, east: f64, north: f64) -> Result<Geometry, String> {
    if !(west.is_finite() && east.is_finite() && south.is_finite() && north.is_finite())
        || south > north
    {
        return Err(format!("box {west} {south} {east} {north} is not a box"));
    }
    if south < -90.0 || north > 90.0 || west < -540.0 || east > 540.0 {
        return Err(format!(
            "box {west} {south} {east} {north} is outside the world"
        ));
    }
    let width = if east >= west {
        east - west
    } else {
        east + 360.0 - west
    };
    let (w, e) = if width >= 360.0 {
        (-180.0, 180.0)
    } else {
        (geo::wrap_lon(west), geo::wrap_lon(west) + width)
    };
    // Every vertex wrapped into range; normalize_polygon unwraps the ring again from its
    // first vertex and splits it at ±180 when it crosses.
    let ring: Vec<Position> = [[w, south], [e, south], [e, north], [w, north], [w, south]]
        .into_iter()
        .map(|[lon, lat]| {
            Position::from([
                if width >= 360.0 {
                    lon
                } else {
                    geo::wrap_lon(lon)
                },
                lat,
            ])
        })
        .collect();
    // A band all around the world cannot be unwrapped; it is already within range.
    let parts = if width >= 360.0 {
        vec![vec![ring]]
    } else {
        geo::normalize_polygon(&[ring])?
    };
    cap::assemble_geometry(parts, Vec::new()).ok_or_else(|| "the box has no area".into())
}

/// Gives an alert without any geometry the entry's GeoRSS shape.
pub fn fill_missing_geometry(a: &mut Advisory, georss: Option<&Geometry>, entry_id: &str) {
    let Some(g) = georss else { return };
    let has_shape = a
        .areas
        .iter()
        .any(|ar| ar.geometry.is_some() || !ar.circles.is_empty());
    if has_shape {
        return;
    }
    match a.areas.first_mut() {
        Some(area) => area.geometry = Some(g.clone()),
        None => a.areas.push(AdvisoryArea {
            description: entry_id.to_owned(),
            geometry: Some(g.clone()),
            circles: Vec::new(),
            geocodes: Vec::new(),
        }),
    }
}

/// A CAP summary carried inline by an index entry (`cap:event` and friends), or `None` when
/// the entry has none.
fn summary_advisory(
    entry: Node<'_, '_>,
    entry_id: &str,
    sender: &str,
    source: &str,
    georss: Option<&Geometry>,
    feed_language: Option<&str>,
) -> Result<Option<Advisory>, String> {
    let Some(event) = xml::child_text(entry, CAP_NS, "event") else {
        return Ok(None);
    };
    let cap_ns = entry
        .children()
        .find(|c| CAP_NS.contains(&c.tag_name().namespace().unwrap_or("")))
        .and_then(|c| c.tag_name().namespace());
    let source_format = if cap_ns == Some(CAP11_NS) {
        SourceFormat::Cap11
    } else {
        SourceFormat::Cap12
    };
    fn opt_word<T: std::str::FromStr>(
        entry: Node<'_, '_>,
        name: &str,
        default: T,
    ) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        match xml::child_text(entry, CAP_NS, name) {
            Some(t) => t.parse().map_err(|e: T::Err| format!("cap:{name}: {e}")),
            None => Ok(default),
        }
    }
    let date = |name: &str| -> Result<Option<DateTime<FixedOffset>>, String> {
        xml::child_text(entry, CAP_NS, name)
            .map(|t| time::parse_zoned(&t).ok_or_else(|| format!("cap:{name} `{t}` is not a date")))
            .transpose()
    };
    let sent_text = xml::child_text(entry, CAP_NS, "sent")
        .or_else(|| xml::child_text(entry, &[ATOM_NS], "updated"))
        .or_else(|| xml::child_text(entry, &[ATOM_NS], "published"))
        .or_else(|| xml::child_text(entry, &[""], "pubDate"));
    let sent = sent_text
        .as_deref()
        .and_then(time::parse_zoned)
        .or(date("effective")?)
        .unwrap_or_else(|| DateTime::<Utc>::UNIX_EPOCH.fixed_offset());
    let mut geocodes = Vec::new();
    for g in xml::children(entry, CAP_NS, "geocode") {
        // NWS indexes put several valueName/value pairs in one geocode element.
        let names = xml::children_text(g, &[], "valueName");
        let values: Vec<String> = xml::children(g, &[], "value")
            .map(|v| xml::text(v).unwrap_or_default())
            .collect();
        geocodes.extend(names.into_iter().zip(values).filter(|(_, v)| !v.is_empty()));
    }
    let mut polygons = Vec::new();
    for text in xml::children_text(entry, CAP_NS, "polygon") {
        let ring = cap::parse_cap_ring(&text)?;
        polygons.extend(geo::normalize_polygon(&[ring])?);
    }
    let geometry = cap::assemble_geometry(polygons, Vec::new()).or_else(|| georss.cloned());
    let circles = xml::children_text(entry, CAP_NS, "circle")
        .iter()
        .map(|c| cap::parse_circle(c))
        .collect::<Result<Vec<_>, _>>()?;
    let title = xml::child_text(entry, &[ATOM_NS], "title")
        .or_else(|| xml::child_text(entry, &[""], "title"));
    let references = match xml::child_text(entry, CAP_NS, "references") {
        Some(text) => lifeline_core::model::AlertReference::parse_list(&text)?,
        None => Vec::new(),
    };
    let msg_type = match xml::child_text(entry, CAP_NS, "msgType") {
        Some(_) => opt_word(entry, "msgType", MsgType::Alert)?,
        None => title
            .as_deref()
            .and_then(msg_type_from_title)
            .unwrap_or(MsgType::Alert),
    };
    let language = xml::child_text(entry, CAP_NS, "language")
        .or_else(|| {
            entry
                .ancestors()
                .find_map(|n| n.attribute((XML_NS, "lang")))
                .map(str::to_owned)
        })
        .map(|l| normalize_language(&l))
        .filter(|l| !l.is_empty())
        .or_else(|| feed_language.map(str::to_owned))
        .unwrap_or_else(|| "en-US".into());
    let description = xml::child_text(entry, &[ATOM_NS], "summary")
        .or_else(|| xml::child_text(entry, &[""], "description"));
    Ok(Some(Advisory {
        key: AdvisoryKey {
            sender: xml::child_text(entry, CAP_NS, "sender").unwrap_or_else(|| sender.to_owned()),
            identifier: xml::child_text(entry, CAP_NS, "identifier")
                .unwrap_or_else(|| entry_id.to_owned()),
        },
        source: source.to_owned(),
        source_format,
        msg_type,
        status: opt_word(entry, "status", AlertStatus::Actual)?,
        scope: Scope::Public,
        sent,
        // As published when it is the sent time (references name it verbatim).
        sent_text: sent_text
            .filter(|t| time::parse_zoned(t) == Some(sent))
            .unwrap_or_else(|| sent.to_rfc3339()),
        references,
        infos: vec![AdvisoryInfo {
            language,
            event,
            headline: title,
            description,
            instruction: None,
            categories: xml::children_text(entry, CAP_NS, "category"),
            urgency: opt_word(entry, "urgency", Urgency::Unknown)?,
            severity: opt_word(entry, "severity", Severity::Unknown)?,
            certainty: opt_word(entry, "certainty", Certainty::Unknown)?,
            effective: date("effective")?,
            onset: date("onset")?,
            expires: date("expires")?,
            sender_name: None,
            web: None,
        }],
        areas: vec![AdvisoryArea {
            description: xml::child_text(entry, CAP_NS, "areaDesc").unwrap_or_default(),
            geometry,
            circles,
            geocodes,
        }],
        hazard: None,
    }))
}
