//! Domain → DTO conversions (and filters DTO → query), kept out of the commands so each
//! command stays a few lines.

use chrono::{DateTime, Duration, Utc};
use lifeline_core::geo::{cities, places};
use lifeline_core::model::{
    Advisory, CaseEvent, CaseEventKind, Category, HelpRequest, Priority, Status, TriageAction,
};
use lifeline_core::store::{
    AdvisoryRow, AssigneeFilter, Claim, OutboxItem, RequestOrder, RequestQuery, StoredRequest,
    area_contains,
};

use crate::dto::*;
use crate::error::{CommandError, CommandResult};

/// A location older than this is shown as stale.
pub const STALE_AFTER: Duration = Duration::hours(2);

pub fn ms(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64
}

fn words<T: std::str::FromStr>(values: &[String]) -> CommandResult<Vec<T>>
where
    T::Err: std::fmt::Display,
{
    values
        .iter()
        .map(|v| {
            v.parse::<T>()
                .map_err(|e| CommandError::invalid(e.to_string()))
        })
        .collect()
}

/// The queue's filters as a store query. `officer` resolves `assignee: "me"`.
pub fn query(f: &QueueFilter, officer: &str, now: DateTime<Utc>) -> CommandResult<RequestQuery> {
    let mut statuses = Vec::new();
    for s in &f.statuses {
        if s == "open" {
            statuses.extend_from_slice(Status::OPEN);
        } else {
            statuses.extend(words::<Status>(std::slice::from_ref(s))?);
        }
    }
    Ok(RequestQuery {
        statuses,
        priorities: words::<Priority>(&f.priorities)?,
        categories: words::<Category>(&f.categories)?,
        emergency: f.emergency,
        countries: f.countries.clone(),
        posts: f.posts.clone(),
        assignee: match f.assignee.as_deref() {
            None | Some("") => None,
            Some("none") => Some(AssigneeFilter::Unassigned),
            Some("me") => Some(AssigneeFilter::To(officer.to_owned())),
            Some(who) => Some(AssigneeFilter::To(who.to_owned())),
        },
        created_from: [
            f.since_hours.map(|h| now - Duration::hours(i64::from(h))),
            f.created_since_ms
                .and_then(|ms| DateTime::<Utc>::from_timestamp_millis(ms as i64)),
        ]
        .into_iter()
        .flatten()
        .max(),
        created_to: f
            .created_before_ms
            .and_then(|ms| DateTime::<Utc>::from_timestamp_millis(ms as i64)),
        text: f.text.clone().filter(|t| !t.trim().is_empty()),
        order: match f.order.as_deref() {
            None | Some("priority") => RequestOrder::Triage,
            Some("waiting") => RequestOrder::Waiting,
            Some("newest") => RequestOrder::Newest,
            Some("oldest") => RequestOrder::Oldest,
            Some(other) => {
                return Err(CommandError::invalid(format!(
                    "unknown queue order {other:?}"
                )));
            }
        },
        ..RequestQuery::default()
    })
}

/// How a place is named in the queue: the address, else the nearest city and its province.
pub fn place_name(r: &HelpRequest, language: &str) -> String {
    let Some(l) = &r.location else {
        return String::new();
    };
    if let Some(a) = l.address.as_deref().filter(|a| !a.is_empty()) {
        return a.to_owned();
    }
    match cities::near(l.lat, l.lon) {
        Some(near) => format!(
            "{}, {}",
            near.text(language),
            l.country.as_deref().unwrap_or(near.city.country)
        ),
        None => city_name(r, language),
    }
}

/// The nearest city of the gazetteer and the country — never the citizen's address: what a
/// notification on a locked screen may say of where someone is.
pub fn city_name(r: &HelpRequest, language: &str) -> String {
    let Some(l) = &r.location else {
        return String::new();
    };
    let (place, distance) = places::nearest(l.lat, l.lon);
    if distance > 300_000.0 {
        return l.country.clone().unwrap_or_default();
    }
    let city = if language == "zh" {
        place.name_zh
    } else {
        place.name_en
    };
    format!("{city}, {}", l.country.as_deref().unwrap_or(place.country))
}

fn claim_label(c: &Claim) -> String {
    format!("{} ({})", c.officer, c.desk)
}

/// How many active advisories cover the request's location.
pub fn covering(advisories: &[AdvisoryRow], r: &HelpRequest) -> Vec<usize> {
    let Some(l) = &r.location else {
        return Vec::new();
    };
    advisories
        .iter()
        .enumerate()
        .filter(|(_, a)| {
            a.advisory
                .areas
                .iter()
                .any(|area| area_contains(area, l.lat, l.lon))
        })
        .map(|(i, _)| i)
        .collect()
}

pub fn queue_row(
    s: &StoredRequest,
    claims: &[Claim],
    advisories: &[AdvisoryRow],
    own_desk: &str,
    language: &str,
) -> QueueRow {
    let r = &s.request;
    QueueRow {
        id: r.id.clone(),
        created_at: ms(r.created_at),
        emergency: r.emergency,
        priority: r.priority.to_string(),
        status: r.status.to_string(),
        category: r.category.to_string(),
        channel: r.channel.to_string(),
        people_count: r.people_count,
        name: r.citizen.name.clone(),
        excerpt: r.description.chars().take(140).collect(),
        place: place_name(r, language),
        country: r.location.as_ref().and_then(|l| l.country.clone()),
        assignee: r.assignee.clone(),
        local_state: s.local_state.as_str().into(),
        claimed_by: claims
            .iter()
            .filter(|c| c.request_id == r.id && c.desk != own_desk)
            .map(claim_label)
            .collect(),
        advisories: covering(advisories, r).len() as u32,
        language: r.citizen.language.clone(),
        interpreter: asks_for_interpreter(&r.description),
        unread: 0,
        waiting_since: None,
    }
}

/// Fills in where each row's thread stands (unread messages, a citizen waiting).
pub fn with_threads(
    store: &lifeline_core::Store,
    mut rows: Vec<QueueRow>,
) -> CommandResult<Vec<QueueRow>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let states = store.thread_states(&ids)?;
    for (row, state) in rows.iter_mut().zip(states) {
        row.unread = state.unread;
        row.waiting_since = state.waiting_since.map(ms);
    }
    Ok(rows)
}

/// Whether a description asks for an interpreter or translator, in the languages the
/// service hears most; a hint for the queue, not a field of the protocol.
pub fn asks_for_interpreter(description: &str) -> bool {
    let d = description.to_lowercase();
    [
        "翻译",
        "口译",
        "译员",
        "interpreter",
        "translator",
        "translation",
        "interprète",
        "traducteur",
        "intérprete",
        "traductor",
        "dolmetscher",
        "tercüman",
        "переводчик",
    ]
    .iter()
    .any(|w| d.contains(w))
}

fn mask(doc: &str) -> String {
    let tail: String = doc
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("••••{tail}")
}

fn event_dto(e: &CaseEvent) -> EventDto {
    let mut detail = Vec::new();
    let mut put = |k: &str, v: String| detail.push((k.to_owned(), v));
    match &e.kind {
        CaseEventKind::Created => {}
        CaseEventKind::StatusChanged { from, to } => {
            put("from", from.to_string());
            put("to", to.to_string());
        }
        CaseEventKind::Assigned { from, to } => {
            put("from", from.clone().unwrap_or_default());
            put("to", to.clone().unwrap_or_default());
        }
        CaseEventKind::PriorityChanged { from, to } => {
            put("from", from.to_string());
            put("to", to.to_string());
        }
        CaseEventKind::Note { text } => put("text", text.clone()),
        CaseEventKind::Merged { into } => put("into", into.clone()),
        CaseEventKind::Conflict {
            action,
            ours_base_version,
            theirs_version,
            theirs_summary,
        } => {
            put("ours", action_summary(action));
            put("ours_version", ours_base_version.to_string());
            put("theirs", theirs_summary.clone());
            put("theirs_version", theirs_version.to_string());
        }
        CaseEventKind::Rejected { action, reason } => {
            put("ours", action_summary(action));
            put("reason", reason.clone());
        }
        CaseEventKind::Withdrawn { action } => put("ours", action_summary(action)),
        CaseEventKind::Transferred { from, to } => {
            put("from", from.clone().unwrap_or_default());
            put("to", to.clone());
        }
        CaseEventKind::Unknown => {}
    }
    EventDto {
        id: e.id.clone(),
        at: ms(e.at),
        kind: e.kind.name().into(),
        actor: e.actor.clone(),
        origin: e.origin.to_string(),
        detail,
    }
}

/// `set_priority priority=high` from an action's JSON.
fn action_summary(action: &serde_json::Value) -> String {
    let name = action["action"].as_str().unwrap_or("action").to_owned();
    let values: Vec<String> = action
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != "action")
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.as_str().map_or_else(|| v.to_string(), str::to_owned)
            )
        })
        .collect();
    if values.is_empty() {
        name
    } else {
        format!("{name} {}", values.join(" "))
    }
}

fn outbox_dto(i: &OutboxItem) -> OutboxDto {
    let json = serde_json::to_value(&i.action).unwrap_or_default();
    OutboxDto {
        key: i.idempotency_key.clone(),
        action: i.action.name().into(),
        values: json
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.as_str() != "action")
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                )
            })
            .collect(),
        state: i.state.as_str().into(),
        attempts: i.attempts,
        last_error: i.last_error.clone(),
        base_version: i.base_version as f64,
        created_at: ms(i.created_at),
    }
}

pub struct DetailParts<'a> {
    pub stored: &'a StoredRequest,
    pub events: &'a [CaseEvent],
    pub outbox: &'a [OutboxItem],
    pub claims: &'a [Claim],
    pub advisories: &'a [AdvisoryRow],
    pub own_desk: &'a str,
    pub language: &'a str,
    pub now: DateTime<Utc>,
}

pub fn detail(p: DetailParts<'_>) -> RequestDetail {
    let r = &p.stored.request;
    let covering_ids = covering(p.advisories, r);
    RequestDetail {
        id: r.id.clone(),
        version: r.version as f64,
        created_at: ms(r.created_at),
        updated_at: ms(r.updated_at),
        channel: r.channel.to_string(),
        category: r.category.to_string(),
        emergency: r.emergency,
        priority: r.priority.to_string(),
        status: r.status.to_string(),
        next_statuses: std::iter::once(r.status)
            .chain(
                lifeline_core::model::Status::ALL
                    .iter()
                    .copied()
                    .filter(|s| {
                        *s != r.status
                            && *s != lifeline_core::model::Status::Duplicate
                            && r.status.can_move_to(*s)
                    }),
            )
            .map(|s| s.to_string())
            .collect(),
        duplicate_of: r.duplicate_of.clone(),
        people_count: r.people_count,
        citizen: CitizenDto {
            name: r.citizen.name.clone(),
            phone: r.citizen.phone.clone(),
            id_document_masked: r.citizen.id_document.as_deref().map(mask),
            nationality: r.citizen.nationality.clone(),
            language: r.citizen.language.clone(),
        },
        location: r.location.as_ref().map(|l| LocationDto {
            lat: l.lat,
            lon: l.lon,
            accuracy_m: l.accuracy_m,
            captured_at: l.captured_at.map(ms),
            address: l.address.clone(),
            country: l.country.clone(),
            stale: l.captured_at.is_some_and(|t| p.now - t > STALE_AFTER),
            time_zone: cities::time_zone(l.lat, l.lon).map(str::to_owned),
            near: cities::near(l.lat, l.lon).map(|n| n.text(p.language)),
        }),
        description: r.description.clone(),
        attachments: r
            .attachments
            .iter()
            .map(|a| AttachmentDto {
                name: a.name.clone(),
                media_type: a.media_type.clone(),
                size_bytes: a.size_bytes as f64,
            })
            .collect(),
        assignee: r.assignee.clone(),
        post: r.post.clone(),
        local_state: p.stored.local_state.as_str().into(),
        events: p.events.iter().map(event_dto).collect(),
        outbox: p
            .outbox
            .iter()
            .filter(|i| i.state.as_str() != "confirmed")
            .map(outbox_dto)
            .collect(),
        claimed_by: p
            .claims
            .iter()
            .filter(|c| c.desk != p.own_desk)
            .map(claim_label)
            .collect(),
        advisories: covering_ids
            .into_iter()
            .map(|i| advisory_summary(&p.advisories[i], p.language))
            .collect(),
    }
}

fn bounds_of(a: &Advisory) -> Option<(f64, f64, f64, f64)> {
    let mut b: Option<(f64, f64, f64, f64)> = None;
    let mut add = |w: f64, s: f64, e: f64, n: f64| {
        b = Some(match b {
            None => (w, s, e, n),
            Some((w0, s0, e0, n0)) => (w0.min(w), s0.min(s), e0.max(e), n0.max(n)),
        });
    };
    for area in &a.areas {
        if let Some(g) = &area.geometry {
            for part in lifeline_core::geo::geometry_part_bounds(g) {
                add(part.west, part.south, part.east, part.north);
            }
        } else {
            // Named only by subdivision codes: the principal cities it is placed at.
            for (_, city) in cities::placed_subdivisions(&area.geocodes) {
                add(
                    city.lon - 0.5,
                    city.lat - 0.5,
                    city.lon + 0.5,
                    city.lat + 0.5,
                );
            }
        }
    }
    b
}

pub fn advisory_summary(row: &AdvisoryRow, language: &str) -> AdvisorySummary {
    let a = &row.advisory;
    let info = a.info_for(if language == "zh" { "zh-CN" } else { "en" });
    AdvisorySummary {
        id: row.id as f64,
        sender: a.key.sender.clone(),
        identifier: a.key.identifier.clone(),
        source_format: a.source_format.to_string(),
        status: a.status.to_string(),
        state: row.state.to_string(),
        severity: a.severity().to_string(),
        urgency: info.map(|i| i.urgency.to_string()).unwrap_or_default(),
        certainty: info.map(|i| i.certainty.to_string()).unwrap_or_default(),
        event: info.map(|i| i.event.clone()).unwrap_or_default(),
        headline: info.and_then(|i| i.headline.clone()),
        description: info.and_then(|i| i.description.clone()),
        instruction: info.and_then(|i| i.instruction.clone()),
        language: info.map(|i| i.language.clone()).unwrap_or_default(),
        languages: a.infos.iter().map(|i| i.language.clone()).collect(),
        sent: a.sent.timestamp_millis() as f64,
        expires: a.expires().map(|e| e.timestamp_millis() as f64),
        area_desc: a.areas.iter().map(|x| area_text(x, language)).collect(),
        bounds: bounds_of(a),
    }
}

/// An area as the officer reads it: its description, and the subdivisions its ISO 3166-2
/// geocodes name, in the officer's language (an alert may name its area by codes alone).
fn area_text(area: &lifeline_core::model::AdvisoryArea, language: &str) -> String {
    let places = lifeline_core::geo::subdivisions::names_of_geocodes(&area.geocodes, language);
    let separator = if language == "zh" { "、" } else { ", " };
    match (area.description.trim(), places.is_empty()) {
        (d, true) => d.to_owned(),
        ("", false) => places.join(separator),
        (d, false) => format!("{d} — {}", places.join(separator)),
    }
}

/// A UI action as a triage action, acting as `officer`.
pub fn action(a: &ActionDto, officer: &str) -> CommandResult<TriageAction> {
    Ok(match a {
        ActionDto::Acknowledge => TriageAction::Acknowledge,
        ActionDto::AssignToMe => TriageAction::Assign {
            assignee: Some(officer.to_owned()),
        },
        ActionDto::Assign { assignee } if assignee.trim().is_empty() => {
            return Err(CommandError::invalid("name who to assign"));
        }
        ActionDto::Assign { assignee } => TriageAction::Assign {
            assignee: Some(assignee.trim().to_owned()),
        },
        ActionDto::Unassign => TriageAction::Assign { assignee: None },
        ActionDto::SetPriority { priority } => TriageAction::SetPriority {
            priority: priority.parse().map_err(
                |e: lifeline_core::model::vocabulary::UnknownWord| {
                    CommandError::invalid(e.to_string())
                },
            )?,
        },
        ActionDto::SetStatus { status } => TriageAction::SetStatus {
            status: status.parse().map_err(
                |e: lifeline_core::model::vocabulary::UnknownWord| {
                    CommandError::invalid(e.to_string())
                },
            )?,
        },
        ActionDto::AddNote { text } => TriageAction::AddNote { text: text.clone() },
        ActionDto::MarkDuplicate { of } => TriageAction::MarkDuplicate {
            of: of.trim().to_owned(),
        },
        ActionDto::SendMessage { text, template } => TriageAction::SendMessage {
            text: text.trim().to_owned(),
            template: template.clone(),
        },
    })
}

pub fn message(m: &lifeline_core::model::Message) -> MessageDto {
    MessageDto {
        id: m.id.clone(),
        direction: m.direction.as_str().to_owned(),
        kind: m.kind.as_str().to_owned(),
        text: m.text.clone(),
        template: m.template.clone(),
        author: m.author.clone(),
        delivery: m.delivery.as_str().to_owned(),
        failure: m.failure.clone(),
        created_at: ms(m.created_at),
        position: m.position.map(|(lat, lon)| vec![lat, lon]),
        media: m.media.as_ref().map(|f| crate::dto::MessageMediaDto {
            media_type: f.media_type.clone(),
            size_bytes: f.size_bytes as f64,
            name: f.name.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_area_named_only_by_iso_codes_reads_as_its_provinces_in_the_officers_language() {
        let area = lifeline_core::model::AdvisoryArea {
            description: String::new(),
            geometry: None,
            circles: Vec::new(),
            geocodes: vec![
                ("ISO3166-2".into(), "TR-34".into()),
                ("ISO3166-2".into(), "TR-41".into()),
            ],
        };
        assert_eq!(
            area_text(&area, "zh"),
            "伊斯坦布尔 (TR-34)、科贾埃利 (TR-41)"
        );
        assert_eq!(area_text(&area, "en"), "İstanbul (TR-34), Kocaeli (TR-41)");
        let described = lifeline_core::model::AdvisoryArea {
            description: "Marmara coast".into(),
            ..area
        };
        assert_eq!(
            area_text(&described, "en"),
            "Marmara coast — İstanbul (TR-34), Kocaeli (TR-41)"
        );
    }

    #[test]
    fn a_request_for_an_interpreter_is_seen_in_the_languages_of_the_service() {
        assert!(asks_for_interpreter("在警察局需要翻译"));
        assert!(asks_for_interpreter("Need an INTERPRETER at the hospital"));
        assert!(asks_for_interpreter("Besoin d'un interprète"));
        assert!(!asks_for_interpreter("护照在机场丢失"));
    }
}
