//! Why the desk alerted (or did not), whether notifications work, and a test button.

use super::DeskState;
use crate::dto::{AlertStatus, NotificationHealth, Region};
use crate::error::{CommandError, CommandResult, ErrorCode};

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

/// Snoozes the alarm's sound for a few minutes (1 to 15); the banner stays, and the next
/// new emergency sounds it again.
#[tauri::command(async)]
pub fn snooze_alarm(desk: DeskState<'_>, minutes: u32) -> CommandResult<crate::dto::AlarmState> {
    if !(1..=15).contains(&minutes) {
        return Err(CommandError::invalid("a snooze is 1 to 15 minutes"));
    }
    Ok(desk.alerts.snooze(minutes, &desk.actor()))
}

#[tauri::command(async)]
pub fn send_test_alert(desk: DeskState<'_>) -> CommandResult<NotificationHealth> {
    Ok(desk.alerts.send_test())
}

/// Watches a region drawn on the map (the map's view when the officer chose it), or stops
/// watching one. Kept in the settings file, so it holds across restarts.
#[tauri::command(async)]
pub fn set_watch_region(desk: DeskState<'_>, region: Option<Region>) -> CommandResult<()> {
    let bbox = region
        .map(|r| lifeline_core::geo::BBox::new(r.west, r.south, r.east, r.north))
        .transpose()
        .map_err(CommandError::invalid)?;
    let corners = bbox.map(|b| [b.west, b.south, b.east, b.north]);
    let mut settings = desk
        .settings
        .write()
        .map_err(|_| CommandError::new(ErrorCode::Internal, "settings are unavailable"))?;
    settings.save_watch_region(corners).map_err(|e| {
        CommandError::new(
            ErrorCode::Storage,
            format!("cannot save the watched region: {e}"),
        )
    })?;
    settings.watch_region = corners;
    desk.alerts.set_watch_region(bbox);
    Ok(())
}
