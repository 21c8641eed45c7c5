//! The thread with the citizen of a request. Officers write through `act` (a
//! `send_message` action, queued in the outbox like any other).

use chrono::Utc;
use lifeline_core::model::templates::TEMPLATES;
use tauri::{AppHandle, Emitter};

use super::DeskState;
use crate::convert;
use crate::dto::{RequestsChanged, TemplateDto, ThreadDto};
use crate::error::{CommandError, CommandResult, ErrorCode};
use crate::events;

/// The thread, oldest first, with the templates to answer from. Asking for it is having it
/// on screen: the citizen's messages count as read from then on.
#[tauri::command(async)]
pub fn thread(app: AppHandle, desk: DeskState<'_>, id: String) -> CommandResult<ThreadDto> {
    super::session::ensure_unlocked(&desk)?;
    if desk.store.get_request(&id)?.is_none() {
        return Err(CommandError::new(ErrorCode::NotFound, "no such request"));
    }
    let messages = desk.store.thread(&id)?;
    if desk.store.mark_thread_seen(&id, Utc::now())? > 0 {
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
        templates: TEMPLATES
            .iter()
            .map(|t| TemplateDto {
                name: t.name.into(),
                zh: t.zh.into(),
                en: t.en.into(),
            })
            .collect(),
    })
}
