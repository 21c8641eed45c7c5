//! `lifeline outbox` and `lifeline act`.

use chrono::Utc;
use lifeline_core::Store;
use lifeline_core::model::{Priority, Status, TriageAction};
use lifeline_core::store::OutboxItem;
use serde_json::json;

use crate::CliError;
use crate::args::{ActAction, ActArgs};
use crate::output::print_json;

fn item_json(i: &OutboxItem) -> serde_json::Value {
    json!({
        "key": i.idempotency_key,
        "request_id": i.request_id,
        "action": i.action,
        "actor": i.actor,
        "base_version": i.base_version,
        "state": i.state.as_str(),
        "attempts": i.attempts,
        "last_error": i.last_error,
        "result_version": i.result_version,
        "created_at": i.created_at.to_rfc3339(),
    })
}

pub fn list(store: &Store, all: bool, json_out: bool) -> Result<(), CliError> {
    let items = store.outbox_items(all, 1000)?;
    if json_out {
        return print_json(&items.iter().map(item_json).collect::<Vec<_>>());
    }
    for i in items {
        say!(
            "{}\t{}\t{}\t{}\tattempts {}\t{}",
            i.state.as_str(),
            i.request_id,
            i.action.name(),
            i.actor,
            i.attempts,
            i.last_error.unwrap_or_default()
        )?;
    }
    Ok(())
}

/// A fresh idempotency key: unique per action, stable across retries of that action. The
/// counter keeps keys made in the same instant apart (a reminder makes thousands at once).
pub fn new_key() -> String {
    static MADE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let now = Utc::now();
    format!(
        "cli-{}-{}-{:x}-{}",
        now.timestamp_millis(),
        std::process::id(),
        now.timestamp_subsec_nanos(),
        MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

pub fn act(store: &Store, args: ActArgs, json_out: bool) -> Result<(), CliError> {
    let usage = |e: String| CliError::Usage(e);
    let action = match args.action {
        ActAction::Acknowledge => TriageAction::Acknowledge,
        ActAction::Assign { assignee } => TriageAction::Assign {
            assignee: Some(assignee),
        },
        ActAction::Unassign => TriageAction::Assign { assignee: None },
        ActAction::Note { text } => TriageAction::AddNote { text },
        ActAction::Status { status } => TriageAction::SetStatus {
            status: status.parse::<Status>().map_err(|e| usage(e.to_string()))?,
        },
        ActAction::Priority { priority } => TriageAction::SetPriority {
            priority: priority
                .parse::<Priority>()
                .map_err(|e| usage(e.to_string()))?,
        },
        ActAction::Duplicate { of } => TriageAction::MarkDuplicate { of },
    };
    let (shown, item) = store
        .queue_action(
            &args.request_id,
            &action,
            &args.actor,
            &new_key(),
            Utc::now(),
        )
        .map_err(|e| match e {
            lifeline_core::store::StoreError::Action(a) => CliError::Usage(a.to_string()),
            other => other.into(),
        })?;
    if json_out {
        return print_json(&json!({
            "queued": item.as_ref().map(item_json),
            "status": shown.request.status.as_str(),
            "local_state": shown.local_state.as_str(),
        }));
    }
    match item {
        Some(i) => say!(
            "queued {} on {} (pending until the hub confirms; key {})",
            i.action.name(),
            i.request_id,
            i.idempotency_key
        )?,
        None => say!("{} already reflects that; nothing queued", args.request_id)?,
    }
    Ok(())
}
