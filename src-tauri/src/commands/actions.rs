//! Triage from the desk: applied locally at once (pending), queued for the hub.

use chrono::Utc;
use lifeline_core::store::{OutboxState, Withdrawal};
use tauri::{AppHandle, Emitter};

use super::DeskState;
use super::requests::load_detail;
use crate::convert;
use crate::dto::{ActionDto, BulkOutcome, BulkRefusal, RequestDetail, RequestsChanged};
use crate::error::{CommandError, CommandResult, ErrorCode};
use crate::events;

/// The most requests one bulk action takes (the queue's pick is capped the same).
pub const MAX_BULK: usize = 500;

fn changed(app: &AppHandle, desk: &crate::state::Desk, id: &str) {
    changed_many(app, desk, vec![id.to_owned()]);
}

fn changed_many(app: &AppHandle, desk: &crate::state::Desk, ids: Vec<String>) {
    let _ = app.emit(
        events::REQUESTS_CHANGED,
        RequestsChanged {
            ids,
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

/// One action on each of `ids` (acknowledge, assign, set a priority, add a note): each
/// request gets its own outbox item under its own key, so the hub records one audited
/// action per request. A request the action cannot apply to is refused with the reason;
/// the others go ahead.
#[tauri::command(async)]
pub fn act_on_many(
    app: AppHandle,
    desk: DeskState<'_>,
    ids: Vec<String>,
    action: ActionDto,
) -> CommandResult<BulkOutcome> {
    super::session::ensure_unlocked(&desk)?;
    if ids.len() > MAX_BULK {
        return Err(CommandError::invalid(format!(
            "at most {MAX_BULK} requests in one bulk action"
        )));
    }
    if !matches!(
        action,
        ActionDto::Acknowledge
            | ActionDto::AssignToMe
            | ActionDto::Assign { .. }
            | ActionDto::SetPriority { .. }
            | ActionDto::AddNote { .. }
    ) {
        // A status or a duplicate is a decision about one case, taken with it on screen.
        return Err(CommandError::new(
            ErrorCode::InvalidAction,
            "only acknowledge, assign, priority and notes apply to many requests at once",
        ));
    }
    let triage = convert::action(&action, &desk.settings().officer)?;
    let actor = desk.actor();
    let now = Utc::now();
    let mut outcome = BulkOutcome::default();
    let mut seen = std::collections::HashSet::new();
    for id in ids {
        if !seen.insert(id.clone()) {
            continue;
        }
        match desk
            .store
            .queue_action(&id, &triage, &actor, &desk.new_key(), now)
        {
            Ok((_, Some(_))) => outcome.done.push(id),
            Ok((_, None)) => outcome.unchanged.push(id),
            Err(e) => {
                let e = CommandError::from(e);
                outcome.refused.push(BulkRefusal {
                    id,
                    code: e.code,
                    message: e.message,
                });
            }
        }
    }
    if !outcome.done.is_empty() {
        if let Some(engine) = desk.engine() {
            engine.wake_outbox();
        }
        changed_many(&app, &desk, outcome.done.clone());
    }
    Ok(outcome)
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
