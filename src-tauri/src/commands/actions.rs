//! Triage from the desk: applied locally at once (pending), queued for the hub.

use chrono::Utc;
use lifeline_core::store::{OutboxState, Withdrawal};
use tauri::{AppHandle, Emitter};

use super::DeskState;
use super::requests::load_detail;
use crate::convert;
use crate::dto::{ActionDto, RequestDetail, RequestsChanged};
use crate::error::{CommandError, CommandResult, ErrorCode};
use crate::events;

fn changed(app: &AppHandle, desk: &crate::state::Desk, id: &str) {
    let _ = app.emit(
        events::REQUESTS_CHANGED,
        RequestsChanged {
            ids: vec![id.to_owned()],
            origin: "desk".into(),
        },
    );
    let _ = app.emit(events::SYNC_HEALTH, ());
    // Acknowledged here: the alarm stops now, not when the hub confirms.
    desk.alerts.refresh_alarm();
}

#[tauri::command(async)]
pub fn act(
    app: AppHandle,
    desk: DeskState<'_>,
    id: String,
    action: ActionDto,
) -> CommandResult<RequestDetail> {
    super::session::ensure_unlocked(&desk)?;
    let settings = desk.settings();
    let triage = convert::action(&action, &settings.officer)?;
    desk.store
        .queue_action(&id, &triage, &desk.actor(), &desk.new_key(), Utc::now())?;
    if let Some(engine) = desk.engine() {
        engine.wake_outbox();
    }
    changed(&app, &desk, &id);
    load_detail(&desk, &id)
}

/// Sets a conflicted or rejected action aside (the hub's version stands).
#[tauri::command(async)]
pub fn dismiss_action(
    app: AppHandle,
    desk: DeskState<'_>,
    id: String,
    key: String,
) -> CommandResult<RequestDetail> {
    super::session::ensure_unlocked(&desk)?;
    desk.store.dismiss_action(&key, Utc::now())?;
    changed(&app, &desk, &id);
    load_detail(&desk, &id)
}

/// Takes back ("undo") an action still waiting in the outbox. Refused, with the reason, once
/// the hub has answered it: then it is no longer the desk's to take back.
#[tauri::command(async)]
pub fn withdraw_action(
    app: AppHandle,
    desk: DeskState<'_>,
    id: String,
    key: String,
) -> CommandResult<RequestDetail> {
    super::session::ensure_unlocked(&desk)?;
    match desk.store.withdraw_action(&key, Utc::now())? {
        Withdrawal::Withdrawn => {}
        Withdrawal::AlreadyAnswered(state) => {
            return Err(CommandError::new(
                ErrorCode::AlreadySent,
                format!(
                    "the hub has already answered this action ({}); it can no longer be undone",
                    state.as_str()
                ),
            ));
        }
    }
    changed(&app, &desk, &id);
    load_detail(&desk, &id)
}

/// Applies a conflicted action again, on top of the hub's current version.
#[tauri::command(async)]
pub fn retry_action(
    app: AppHandle,
    desk: DeskState<'_>,
    id: String,
    key: String,
) -> CommandResult<RequestDetail> {
    super::session::ensure_unlocked(&desk)?;
    let item = desk
        .store
        .outbox_for_request(&id)?
        .into_iter()
        .find(|i| i.idempotency_key == key)
        .ok_or_else(|| {
            CommandError::new(
                ErrorCode::NotFound,
                "that action is no longer in the outbox",
            )
        })?;
    if item.state != OutboxState::Conflicted {
        return Err(CommandError::new(
            ErrorCode::InvalidAction,
            "only a conflicted action can be applied again",
        ));
    }
    let now = Utc::now();
    desk.store
        .queue_action(&id, &item.action, &desk.actor(), &desk.new_key(), now)?;
    desk.store.dismiss_action(&key, now)?;
    if let Some(engine) = desk.engine() {
        engine.wake_outbox();
    }
    changed(&app, &desk, &id);
    load_detail(&desk, &id)
}

/// Tells other desks this officer is working on the request (renewed while it is open).
#[tauri::command]
pub async fn claim(desk: DeskState<'_>, id: String) -> CommandResult<()> {
    super::session::ensure_unlocked(&desk)?;
    let officer = desk.settings().officer;
    match desk.engine() {
        Some(engine) => Ok(engine.claim(&id, &officer).await?),
        None => Ok(()),
    }
}

#[tauri::command]
pub async fn release(desk: DeskState<'_>, id: String) -> CommandResult<()> {
    super::session::ensure_unlocked(&desk)?;
    match desk.engine() {
        Some(engine) => Ok(engine.release(&id).await?),
        None => Ok(()),
    }
}
