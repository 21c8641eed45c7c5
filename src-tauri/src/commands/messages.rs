//! The thread with the citizen of a request. Officers write through `act` (a
//! `send_message` action, queued in the outbox like any other).

use chrono::Utc;
use lifeline_core::model::templates::TEMPLATES;
use tauri::{AppHandle, Emitter};

use super::DeskState;
use crate::convert;
use crate::dto::{ReminderArea, RequestsChanged, TemplateDto, ThreadDto};
use crate::error::{CommandError, CommandResult, ErrorCode};
use crate::events;

/// The thread, oldest first. Asking for it is having it on screen: the citizen's messages count as read from then on.
#[tauri::command(async)]
pub fn thread(app: AppHandle, desk: DeskState<'_>, id: String) -> CommandResult<ThreadDto> {
    super::session::ensure_unlocked(&desk)?;
    if desk.store.get_request(&id)?.is_none() {
        return Err(CommandError::new(ErrorCode::NotFound, "no such request"));
    }
    let messages = desk.store.thread(&id)?;
    if desk.store.mark_thread_seen(&id, &messages, Utc::now())? > 0 {
        // The queue's unread count for it changes.
        let _ = app.emit(
            events::REQUESTS_CHANGED,
            RequestsChanged {
                ids: vec![id.clone()],
                origin: "desk".into(),
            },
        );
    }
    Ok(ThreadDto {
        messages: messages.iter().map(convert::message).collect(),
    })
}

/// The post's message templates, in both languages.
#[tauri::command]
pub fn message_templates() -> Vec<TemplateDto> {
    TEMPLATES
        .iter()
        .map(|t| TemplateDto {
            name: t.name.into(),
            zh: t.zh.into(),
            en: t.en.into(),
        })
        .collect()
}

/// The most citizens one reminder goes to (a city's worth; a country is several).
pub const MAX_REMINDER: usize = 10_000;

fn area(a: &ReminderArea) -> CommandResult<lifeline_core::store::ReminderArea> {
    use lifeline_core::store::ReminderArea as Area;
    match (
        a.advisory,
        a.bbox.as_deref(),
        a.polygon.as_deref(),
        a.circle,
    ) {
        (Some(id), None, None, None) => Ok(Area::Advisory(id as i64)),
        (None, Some([w, s, e, n]), None, None) => Ok(Area::Box(
            lifeline_core::geo::BBox::new(*w, *s, *e, *n).map_err(CommandError::invalid)?,
        )),
        (None, None, Some(corners), None) => Area::polygon(corners).map_err(CommandError::invalid),
        (None, None, None, Some([lon, lat, radius_m])) => {
            Area::circle(lat, lon, radius_m).map_err(CommandError::invalid)
        }
        _ => Err(CommandError::invalid(
            "name one area: an advisory, a box [west, south, east, north], a polygon or a circle",
        )),
    }
}

/// How many citizens a reminder to `area` would reach now (open requests inside it).
#[tauri::command(async)]
pub fn reminder_recipients(desk: DeskState<'_>, area: ReminderArea) -> CommandResult<u32> {
    super::session::ensure_unlocked(&desk)?;
    Ok(desk.store.reminder_recipients(&self::area(&area)?)?.len() as u32)
}

/// Sends the same message to every citizen inside `area`: one outbound message per open
/// request, each its own outbox item (the hub records each, and hands them to the channels
/// at their pace). Answers how many were queued.
#[tauri::command(async)]
pub fn send_reminder(
    app: AppHandle,
    desk: DeskState<'_>,
    area: ReminderArea,
    text: String,
    template: Option<String>,
) -> CommandResult<u32> {
    super::session::ensure_unlocked(&desk)?;
    let text = text.trim().to_owned();
    let check = lifeline_core::model::TriageAction::SendMessage {
        text: text.clone(),
        template: template.clone(),
    };
    check
        .validate()
        .map_err(|e| CommandError::invalid(e.to_string()))?;
    let ids = desk.store.reminder_recipients(&self::area(&area)?)?;
    if ids.len() > MAX_REMINDER {
        return Err(CommandError::invalid(format!(
            "{} citizens are inside; a reminder goes to at most {MAX_REMINDER}: choose a smaller area",
            ids.len()
        )));
    }
    let recipients: Vec<(String, String)> =
        ids.iter().map(|id| (id.clone(), desk.new_key())).collect();
    let queued = desk.store.queue_reminder(
        &recipients,
        &text,
        template.as_deref(),
        &desk.actor(),
        Utc::now(),
    )?;
    if let Some(engine) = desk.engine() {
        engine.wake_outbox();
    }
    let _ = app.emit(
        events::REQUESTS_CHANGED,
        RequestsChanged {
            ids,
            origin: "desk".into(),
        },
    );
    let _ = app.emit(events::SYNC_HEALTH, ());
    Ok(queued as u32)
}

/// The same reminder published as a CAP alert for its area (supervisors only: the hub
/// refuses others), so every desk of the hub sees the area and the text on its map. A desk
/// holding a drill's data publishes it as an exercise.
#[tauri::command]
pub async fn publish_reminder(
    desk: DeskState<'_>,
    area: ReminderArea,
    text: String,
) -> CommandResult<()> {
    use lifeline_core::cap_alert::{SafetyReminder, Shape};
    super::session::ensure_unlocked(&desk)?;
    let text = text.trim().to_owned();
    if text.is_empty() || text.len() > lifeline_core::model::message::MAX_MESSAGE_BYTES {
        return Err(CommandError::invalid(
            "write the reminder first (at most 4 KB)",
        ));
    }
    // The same checks as for the messages (a position, a radius, enough corners).
    self::area(&area)?;
    let shape: Shape = match (area.bbox.as_deref(), area.polygon.as_deref(), area.circle) {
        (Some([w, s, e, n]), None, None) => Shape::from_box(*w, *s, *e, *n),
        (None, Some(corners), None) if corners.len() >= 3 => {
            Shape::Polygon(corners.iter().map(|c| (c[1], c[0])).collect())
        }
        (None, None, Some([lon, lat, radius_m])) => Shape::Circle(lat, lon, radius_m / 1000.0),
        _ => {
            return Err(CommandError::invalid(
                "an advisory's area is an advisory already; publish a drawn area or the map's view",
            ));
        }
    };
    let Some(engine) = desk.engine() else {
        return Err(CommandError::new(
            ErrorCode::Network,
            "no hub to publish through: the messages are queued, the advisory is not",
        ));
    };
    let settings = desk.settings();
    let exercise = desk.store.holds_exercise_data()?;
    let language = if settings.language == "zh" {
        "zh-CN"
    } else {
        "en"
    };
    let sender = format!("{}@{}", settings.officer, settings.desk);
    let sender_name = desk.actor();
    let (_, xml) = lifeline_core::cap_alert::safety_reminder(&SafetyReminder {
        text: &text,
        language,
        sender: &sender,
        sender_name: &sender_name,
        status: if exercise { "Exercise" } else { "Actual" },
        shape,
        sent: Utc::now(),
    });
    engine.publish_advisory(xml).await?;
    Ok(())
}
