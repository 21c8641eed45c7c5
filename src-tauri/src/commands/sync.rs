//! Sync health for the status bar.

use super::DeskState;
use crate::convert::ms;
use crate::dto::{SourceHealth, SyncHealth};
use crate::error::CommandResult;

#[tauri::command(async)]
pub fn sync_health(desk: DeskState<'_>) -> CommandResult<SyncHealth> {
    let (engine, settings) = (desk.engine(), desk.settings());
    let outbox = desk.store.outbox_counts()?;
    let sources = desk
        .store
        .source_states()?
        .into_iter()
        .map(|s| SourceHealth {
            source: s.source,
            kind: if s.kind == lifeline_core::store::SourceKind::Hub {
                "hub".into()
            } else {
                "feed".into()
            },
            connection: s.connection.as_str().into(),
            last_success: s.last_success.map(ms),
            last_error: s.last_error,
            consecutive_failures: s.consecutive_failures,
            lag_ms: s.lag_ms.map(|l| l as f64),
        })
        .collect();
    Ok(SyncHealth {
        // Standalone: no hub configured at all (a hub refused at start shows as offline,
        // with the reason).
        standalone: settings.hub_url.is_none(),
        sources,
        outbox_pending: outbox.pending as u32,
        outbox_conflicted: outbox.conflicted as u32,
        outbox_rejected: outbox.rejected as u32,
        quarantined: desk.store.quarantine_count()? as u32,
        exercise: desk.store.holds_exercise_data()?,
        signed_in: engine
            .as_ref()
            .and_then(|e| e.signed_in())
            .map(|o| o.display_name),
        session_ended: engine.as_ref().and_then(|e| e.session_ended()),
        needs_sign_in: !engine.as_ref().is_some_and(|e| e.has_hub())
            || engine.as_ref().is_some_and(|e| e.session_ended().is_some()),
        locked: desk.session.is_locked(),
        can_lock: desk.session.can_lock(),
        lock_after_s: settings.lock_after_s as u32,
    })
}
