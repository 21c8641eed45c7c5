//! Every app command is listed here: tauri-build generates an `allow-<command>` permission
//! for each, and a window may call only what `capabilities/*.json` grants it. A command
//! missing here cannot be granted; a command missing from the capability is refused.

/// Keep in step with `generate_handler!` in `src/lib.rs` (a test checks both against the
/// capability file).
pub const COMMANDS: &[&str] = &[
    "queue_page",
    "request_detail",
    "request_id_at",
    "counts",
    "timeline",
    "map_clusters",
    "act",
    "act_on_many",
    "cluster_members",
    "thread",
    "reminder_recipients",
    "send_reminder",
    "message_templates",
    "open_media",
    "publish_reminder",
    "map_packs",
    "import_map_pack",
    "remove_map_pack",
    "dismiss_action",
    "withdraw_action",
    "retry_action",
    "claim",
    "release",
    "advisories",
    "advisory_detail",
    "advisory_shapes",
    "sync_health",
    "app_info",
    "startup_problem",
    "set_language",
    "alert_status",
    "send_test_alert",
    "set_watch_region",
    "find_places",
    "sign_in",
    "sign_out",
    "lock_desk",
    "unlock_desk",
    "export_requests",
    "duplicate_candidates",
    "queue_position",
    "snooze_alarm",
    "desk_settings",
    "save_desk_settings",
    "handover",
    "save_handover",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        // A build script reports by panicking; the message names what is wrong.
        panic!("tauri-build failed: {e:#}");
    }
}
