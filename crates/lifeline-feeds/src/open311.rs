//! Open311 GeoReport v2 service requests (the civic-request standard), XML or JSON, imported
//! as help requests so a desk can pull from existing request servers.
//!
//! Mapping: `open` → new, `closed` → closed; `status_notes` becomes a note in the case log;
//! `updated_datetime` is the version, so a newer export of the same request replaces it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lifeline_core::model::{
    Attachment, CaseEvent, CaseEventKind, Category, Channel, Citizen, HelpRequest, Location,
    Origin, Priority, Status,
};
use lifeline_core::store::{IncomingRequest, Rejection};
use serde_json::Value;

use crate::{FeedError, ParsedDocument, time, xml};

type Fields = BTreeMap<String, String>;

pub fn parse_json(text: &str, source: &str) -> Result<ParsedDocument, FeedError> {
    // Some servers answer a single request as an object instead of an array of one.
    let values: Vec<Value> =
        match serde_json::from_str(text).map_err(|e| FeedError::Json(e.to_string()))? {
            Value::Array(values) => values,
            one @ Value::Object(_) => vec![one],
            _ => {
                return Err(FeedError::Unsupported(
                    "Open311 requests are an array of objects".into(),
                ));
            }
        };
    let mut out = ParsedDocument::default();
    for (i, v) in values.into_iter().enumerate() {
        let raw = serde_json::to_vec(&v).unwrap_or_default();
        let fields: Fields = match v {
            Value::Object(map) => map
                .into_iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k, s)),
                    Value::Number(n) => Some((k, n.to_string())),
                    Value::Bool(b) => Some((k, b.to_string())),
                    _ => None,
                })
                .collect(),
            _ => {
                out.rejected.push(Rejection {
                    record_ref: Some(format!("item {}", i + 1)),
                    reason: "not an object".into(),
                    raw,
                });
                continue;
            }
        };
        push(&mut out, &fields, format!("item {}", i + 1), raw, source);
    }
    Ok(out)
}

/// What an Open311 document that holds no requests is, for the officer: a service list
/// (`GET /services`) or a service definition (`GET /services/{code}`).
pub fn services_message(text: &str) -> String {
    let definition = text.contains("service_definition")
        || (text.contains("\"attributes\"") && !text.trim_start().starts_with('['));
    if definition {
        "an Open311 service definition: the questions a city asks for one kind of request, not service requests; nothing to import".into()
    } else {
        "an Open311 service list: the categories a city offers, not service requests; nothing to import".into()
    }
}

pub fn parse_xml(text: &str, source: &str) -> Result<ParsedDocument, FeedError> {
    let doc = xml::parse(text)?;
    let mut out = ParsedDocument::default();
    for (i, req) in xml::children(doc.root_element(), &[], "request").enumerate() {
        let fields: Fields = req
            .children()
            .filter(|c| c.is_element())
            .filter_map(|c| xml::text(c).map(|t| (c.tag_name().name().to_owned(), t)))
            .collect();
        let raw = doc.input_text()[req.range()].as_bytes().to_vec();
        push(
            &mut out,
            &fields,
            format!("request {} at {}", i + 1, xml::position(req)),
            raw,
            source,
        );
    }
    Ok(out)
}

fn push(out: &mut ParsedDocument, fields: &Fields, record_ref: String, raw: Vec<u8>, source: &str) {
    match request(fields, source) {
        Ok(r) => out.requests.push(r),
        Err(reason) => out.rejected.push(Rejection {
            record_ref: Some(record_ref),
            reason,
            raw,
        }),
    }
}

/// Guesses a category from the service name and description (Open311 services are local).
fn category(text: &str) -> Category {
    let t = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
    if has(&["medical", "health", "injur", "ambulance", "hospital"]) {
        Category::Medical
    } else if has(&["theft", "robbery", "assault", "crime", "stolen"]) {
        Category::CrimeVictim
    } else if has(&["passport", "lost document", "identity card"]) {
        Category::LostDocuments
    } else if has(&["accident", "collision", "crash"]) {
        Category::Accident
    } else if has(&["flood", "earthquake", "storm", "landslide", "fire"]) {
        Category::NaturalDisaster
    } else if has(&["missing person", "missing child"]) {
        Category::MissingPerson
    } else {
        Category::Other
    }
}

/// Open311 ids are free text; ours are restricted (they travel in URLs).
pub fn sanitize_id(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(100)
        .collect()
}

fn request(f: &Fields, source: &str) -> Result<IncomingRequest, String> {
    let get = |k: &str| f.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let raw_id = get("service_request_id").ok_or("service_request_id is missing")?;
    let id = format!("open311-{}", sanitize_id(raw_id));
    let status = match get("status") {
        Some("open") | None => Status::New,
        Some("closed") => Status::Closed,
        Some(other) => return Err(format!("status `{other}` is not open or closed")),
    };
    let date = |k: &str| -> Result<Option<DateTime<Utc>>, String> {
        get(k)
            .map(|t| {
                time::parse_zoned(t)
                    .map(|d| d.with_timezone(&Utc))
                    .ok_or_else(|| format!("{k} `{t}` is not a date"))
            })
            .transpose()
    };
    let created = date("requested_datetime")?
        .or(date("updated_datetime")?)
        .ok_or("requested_datetime is missing")?;
    let updated = date("updated_datetime")?.unwrap_or(created);
    let number = |k: &str| -> Result<Option<f64>, String> {
        get(k)
            .map(|t| {
                t.parse::<f64>()
                    .map_err(|_| format!("{k} `{t}` is not a number"))
            })
            .transpose()
    };
    let address = get("address").map(str::to_owned);
    let location = match (number("lat")?, number("long")?) {
        (Some(lat), Some(lon)) => Some(Location {
            lat,
            lon,
            accuracy_m: None,
            captured_at: Some(created),
            address: address.clone(),
            country: None,
        }),
        (None, None) => None,
        _ => return Err("lat and long must come together".into()),
    };
    let service = get("service_name").unwrap_or("");
    let mut description = get("description").unwrap_or(service).to_owned();
    if location.is_none()
        && let Some(a) = &address
    {
        description.push_str(&format!("\nAddress: {a}"));
    }
    let request = HelpRequest {
        id: id.clone(),
        channel: Channel::Other,
        category: category(&format!("{service} {description}")),
        emergency: false,
        priority: Priority::Normal,
        status,
        duplicate_of: None,
        citizen: Citizen {
            name: String::new(),
            ..Citizen::default()
        },
        people_count: 1,
        location,
        description,
        attachments: get("media_url")
            .map(|u| {
                vec![Attachment {
                    name: "media".into(),
                    media_type: "application/octet-stream".into(),
                    size_bytes: 0,
                    url: Some(u.to_owned()),
                }]
            })
            .unwrap_or_default(),
        assignee: None,
        post: get("agency_responsible").map(str::to_owned),
        created_at: created,
        updated_at: updated,
        version: updated.timestamp_millis(),
    };
    request.validate().map_err(|e| e.to_string())?;
    let actor = Some(format!("import: {source}"));
    let mut events = vec![CaseEvent {
        id: format!("{id}.created"),
        request_id: id.clone(),
        kind: CaseEventKind::Created,
        actor: actor.clone(),
        at: created,
        origin: Origin::Import,
    }];
    if let Some(notes) = get("status_notes") {
        events.push(CaseEvent {
            id: format!("{id}.notes.{}", updated.timestamp_millis()),
            request_id: id,
            kind: CaseEventKind::Note {
                text: notes.to_owned(),
            },
            actor,
            at: updated,
            origin: Origin::Import,
        });
    }
    Ok(IncomingRequest { request, events })
}
