//! The settings panel: what an officer may change without editing `settings.json`.

use super::DeskState;
use crate::dto::DeskSettings;
use crate::error::{CommandError, CommandResult, ErrorCode};
use crate::settings::HubCredential;

#[tauri::command(async)]
pub fn desk_settings(desk: DeskState<'_>) -> CommandResult<DeskSettings> {
    let s = desk.settings();
    Ok(DeskSettings {
        officer_editable: !matches!(s.credential, Some(HubCredential::Officer { .. })),
        desk: s.desk,
        officer: s.officer,
        watch_posts: s.watch_posts,
        watch_countries: s.watch_countries,
        escalate_after_minutes: (s.escalate_after_s / 60).max(1) as u32,
        quiet: s.quiet,
        notification_details: s.notification_details,
        lock_after_minutes: (s.lock_after_s / 60) as u32,
        retention_days: s.retention_days.clamp(1, 3650) as u32,
    })
}

fn invalid(what: &str) -> CommandError {
    CommandError::invalid(what.to_owned())
}

/// Checks and keeps the panel's settings: in `settings.json`, and at once where the desk
/// can apply them running (alerts, the idle lock); the desk's name at the next start.
#[tauri::command(async)]
pub fn save_desk_settings(desk: DeskState<'_>, form: DeskSettings) -> CommandResult<DeskSettings> {
    let name_ok = |s: &str| {
        !s.trim().is_empty()
            && s.len() <= 64
            && s.chars().all(|c| c.is_alphanumeric() || "-_. ".contains(c))
    };
    if !name_ok(&form.desk) {
        return Err(invalid(
            "the desk's name: letters, digits, - _ . and spaces, up to 64",
        ));
    }
    let countries: Vec<String> = form
        .watch_countries
        .iter()
        .map(|c| c.trim().to_uppercase())
        .filter(|c| !c.is_empty())
        .collect();
    if countries
        .iter()
        .any(|c| c.len() != 2 || !c.chars().all(|x| x.is_ascii_uppercase()))
    {
        return Err(invalid("countries are two-letter codes (TR, TH)"));
    }
    if !(1..=240).contains(&form.escalate_after_minutes) {
        return Err(invalid("escalation after 1 to 240 minutes"));
    }
    if form.lock_after_minutes > 240 || !(1..=3650).contains(&form.retention_days) {
        return Err(invalid(
            "the lock after 0 to 240 minutes, retention 1 to 3650 days",
        ));
    }
    let saved = {
        let mut s = desk
            .settings
            .write()
            .map_err(|_| CommandError::new(ErrorCode::Internal, "settings are unavailable"))?;
        s.desk = form.desk.trim().to_owned();
        if !matches!(s.credential, Some(HubCredential::Officer { .. })) && name_ok(&form.officer) {
            s.officer = form.officer.trim().to_owned();
        }
        s.watch_posts = form
            .watch_posts
            .iter()
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        s.watch_countries = countries;
        s.escalate_after_s = u64::from(form.escalate_after_minutes) * 60;
        s.quiet = form.quiet;
        s.notification_details = form.notification_details;
        s.lock_after_s = u64::from(form.lock_after_minutes) * 60;
        s.retention_days = i64::from(form.retention_days);
        s.save_panel().map_err(|e| {
            CommandError::new(ErrorCode::Storage, format!("cannot save the settings: {e}"))
        })?;
        s.clone()
    };
    desk.alerts.reconfigure(
        crate::alerts::policy_from(&saved),
        saved.notification_details,
    );
    desk_settings(desk)
}
