//! Why the desk alerted (or did not), whether notifications work, and a test button.

use super::DeskState;
use crate::dto::{AlertStatus, NotificationHealth};
use crate::error::CommandResult;

#[tauri::command(async)]
pub fn alert_status(desk: DeskState<'_>) -> CommandResult<AlertStatus> {
    let decisions = desk.store.recent_alert_decisions(100)?;
    let s = desk.settings();
    let watch = s
        .watch_posts
        .iter()
        .chain(&s.watch_countries)
        .cloned()
        .collect();
    Ok(desk.alerts.status(decisions, watch))
}

#[tauri::command(async)]
pub fn send_test_alert(desk: DeskState<'_>) -> CommandResult<NotificationHealth> {
    Ok(desk.alerts.send_test())
}
