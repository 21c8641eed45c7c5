//! The outbox: triage actions made on this desk, applied locally at once and kept until the
//! hub confirms, conflicts or rejects them.
//!
//! While a request has pending actions, `local_bases` holds the hub's own copy of it and the
//! row in `requests` shows that copy with the pending actions replayed on top. Every change
//! to either side ends in [`recompute_local`], the one place that derives what the desk
//! shows and its `local_state`.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::requests::{
    IncomingRequest, LocalState, StoredRequest, UpsertReport, get_in, upsert_in, write_row,
};
use super::{Result, Store, StoreError, events, from_ms, messages, ms};
use crate::model::{CaseEvent, CaseEventKind, HelpRequest, Origin, TriageAction};
use crate::protocol::WireRequest;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    /// Waiting to be sent (or re-sent).
    Pending,
    /// The hub applied it.
    Confirmed,
    /// The hub had a newer version; both versions are kept and a case event records it.
    Conflicted,
    /// The hub refused it as invalid.
    Rejected,
    /// An officer looked at the conflict or rejection and set it aside.
    Dismissed,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Confirmed => "confirmed",
            OutboxState::Conflicted => "conflicted",
            OutboxState::Rejected => "rejected",
            OutboxState::Dismissed => "dismissed",
        }
    }

    fn parse(s: &str) -> Result<OutboxState> {
        Ok(match s {
            "pending" => OutboxState::Pending,
            "confirmed" => OutboxState::Confirmed,
            "conflicted" => OutboxState::Conflicted,
            "rejected" => OutboxState::Rejected,
            "dismissed" => OutboxState::Dismissed,
            other => return Err(StoreError::corrupt("outbox state", other)),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub seq: i64,
    pub idempotency_key: String,
    pub request_id: String,
    pub action: TriageAction,
    pub actor: String,
    pub base_version: i64,
    pub state: OutboxState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub result_version: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const OUTBOX_COLUMNS: &str = "seq, idempotency_key, request_id, action, actor, base_version, state, attempts, \
                              last_error, result_version, created_at, updated_at";

impl OutboxItem {
    /// Taken back by the officer before it was sent ([`Store::withdraw_action`]).
    pub fn is_withdrawn(&self) -> bool {
        self.state == OutboxState::Dismissed && self.last_error.as_deref() == Some(WITHDRAWN_NOTE)
    }
}

fn item_from_row(row: &Row<'_>) -> rusqlite::Result<(OutboxItem, String, String)> {
    Ok((
        OutboxItem {
            seq: row.get(0)?,
            idempotency_key: row.get(1)?,
            request_id: row.get(2)?,
            action: TriageAction::Acknowledge, // replaced by the caller after parsing column 3
            actor: row.get(4)?,
            base_version: row.get(5)?,
            state: OutboxState::Pending, // replaced by the caller after parsing column 6
            attempts: row.get(7)?,
            last_error: row.get(8)?,
            result_version: row.get(9)?,
            created_at: from_ms(row.get(10)?),
            updated_at: from_ms(row.get(11)?),
        },
        row.get(3)?,
        row.get(6)?,
    ))
}

fn finish_item((mut item, action, state): (OutboxItem, String, String)) -> Result<OutboxItem> {
    item.action = serde_json::from_str(&action)
        .map_err(|e| StoreError::corrupt(format!("outbox item {}", item.idempotency_key), e))?;
    item.state = OutboxState::parse(&state)?;
    Ok(item)
}

fn query_items(
    conn: &rusqlite::Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<OutboxItem>> {
    let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox {filter}");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params, item_from_row)?;
    rows.map(|r| finish_item(r?)).collect()
}

fn item_by_key(tx: &Transaction<'_>, key: &str) -> Result<OutboxItem> {
    query_items(tx, "WHERE idempotency_key = ?1", [key])?
        .pop()
        .ok_or_else(|| StoreError::OutboxItemNotFound(key.to_owned()))
}

/// What `last_error` says of an item the officer withdrew before it was sent. A withdrawn item
/// is `dismissed`; this note tells it apart from a conflict or rejection set aside.
pub const WITHDRAWN_NOTE: &str = "withdrawn by the officer before it was sent";

/// What became of an officer's "undo" of a queued action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withdrawal {
    /// It had not been sent: its local effect is gone and it never will be sent.
    Withdrawn,
    /// Too late: the hub already answered it (its state is given).
    AlreadyAnswered(OutboxState),
}

/// Counts for the sync-health bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: u64,
    pub conflicted: u64,
    pub rejected: u64,
}

impl Store {
    /// Applies `action` to the request at once (the officer sees it immediately, marked
    /// pending) and queues it for the hub under `idempotency_key`. Returns the request as now
    /// shown and the queued item, or no item when the action changes nothing.
    pub fn queue_action(
        &self,
        request_id: &str,
        action: &TriageAction,
        actor: &str,
        idempotency_key: &str,
        now: DateTime<Utc>,
    ) -> Result<(StoredRequest, Option<OutboxItem>)> {
        self.write(|tx| queue_in(tx, request_id, action, actor, idempotency_key, now))
    }

    /// Pending items in the order they must reach the hub in: oldest first, messages after
    /// the other actions.
    pub fn pending_actions(&self, limit: u32) -> Result<Vec<OutboxItem>> {
        // Messages commute with every change, so they may wait: a safety reminder's thousands
        // never hold back an acknowledgement queued after them.
        self.read(|c| {
            query_items(
                c,
                "WHERE state = 'pending' ORDER BY json_extract(action, '$.action') = 'send_message', seq LIMIT ?1",
                [limit],
            )
        })
    }

    /// The outbox, newest first; finished (confirmed, dismissed) items only when asked.
    pub fn outbox_items(&self, include_finished: bool, limit: u32) -> Result<Vec<OutboxItem>> {
        let filter = if include_finished {
            "ORDER BY seq DESC LIMIT ?1"
        } else {
            "WHERE state IN ('pending', 'conflicted', 'rejected') ORDER BY seq DESC LIMIT ?1"
        };
        self.read(|c| query_items(c, filter, [limit]))
    }

    /// Outbox items of one request, oldest first.
    pub fn outbox_for_request(&self, request_id: &str) -> Result<Vec<OutboxItem>> {
        self.read(|c| query_items(c, "WHERE request_id = ?1 ORDER BY seq", [request_id]))
    }

    pub fn outbox_counts(&self) -> Result<OutboxCounts> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'conflicted'), \
                 count(*) FILTER (WHERE state = 'rejected') FROM outbox WHERE state IN ('pending', 'conflicted', 'rejected')",
                [],
                |r| Ok(OutboxCounts { pending: r.get(0)?, conflicted: r.get(1)?, rejected: r.get(2)? }),
            )?)
        })
    }

    /// A send failed for a reason that may pass (network, 5xx): count it and keep the item.
    pub fn record_send_failure(&self, key: &str, error: &str, now: DateTime<Utc>) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, updated_at = ?3 WHERE idempotency_key = ?1",
            )?
            .execute(params![key, error, ms(now)])?;
            Ok(())
        })
    }

    /// The hub applied the action and answered with the request as it now is.
    pub fn confirm_action(
        &self,
        key: &str,
        hub_record: &IncomingRequest,
        now: DateTime<Utc>,
    ) -> Result<UpsertReport> {
        self.write(|tx| {
            let item = item_by_key(tx, key)?;
            // A withdrawal that raced the send: the hub applied it all the same, and the
            // desk must show what the hub holds, so it counts as confirmed.
            if item.state != OutboxState::Pending && !item.is_withdrawn() {
                return Ok(UpsertReport::default()); // a replayed confirmation
            }
            let new_version = hub_record.request.version;
            tx.prepare_cached(
                "UPDATE outbox SET state = 'confirmed', attempts = attempts + 1, last_error = NULL, \
                 result_version = ?2, updated_at = ?3 WHERE idempotency_key = ?1",
            )?
            .execute(params![key, new_version, ms(now)])?;
            // Versions grow by one per change, so `base + 1` means nobody else changed the
            // request in between: later actions the officer queued on the same base now apply
            // to our own result. Any other gap means someone else changed it, and those
            // actions must meet the hub's version check as they are.
            if new_version == item.base_version + 1 {
                tx.prepare_cached(
                    "UPDATE outbox SET base_version = ?3 WHERE request_id = ?1 AND state = 'pending' AND base_version = ?2",
                )?
                .execute(params![item.request_id, item.base_version, new_version])?;
            }
            let source = source_of(tx, &item.request_id)?;
            let report = upsert_in(tx, std::slice::from_ref(hub_record), &source)?;
            messages::confirmed_in(tx, key, now)?;
            recompute_local(tx, &item.request_id)?;
            Ok(report)
        })
    }

    /// The hub refused the action because the request changed since `base_version`. The
    /// hub's version becomes the base, the officer's intent stays in the outbox item and in a
    /// `conflict` case event.
    pub fn conflict_action(
        &self,
        key: &str,
        hub_current: &IncomingRequest,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|tx| {
            let item = item_by_key(tx, key)?;
            if item.state != OutboxState::Pending {
                return Ok(());
            }
            tx.prepare_cached(
                "UPDATE outbox SET state = 'conflicted', attempts = attempts + 1, last_error = ?2, updated_at = ?3 \
                 WHERE idempotency_key = ?1",
            )?
            .execute(params![key, format!("the request changed at the hub (now version {})", hub_current.request.version), ms(now)])?;
            let theirs = &hub_current.request;
            events::insert_in(
                tx,
                &CaseEvent {
                    id: format!("{key}.conflict"),
                    request_id: item.request_id.clone(),
                    kind: CaseEventKind::Conflict {
                        action: serde_json::to_value(&item.action).map_err(|e| StoreError::corrupt("action", e))?,
                        ours_base_version: item.base_version,
                        theirs_version: theirs.version,
                        theirs_summary: summary(theirs),
                    },
                    actor: Some(item.actor.clone()),
                    at: now,
                    origin: Origin::Desk,
                },
            )?;
            let source = source_of(tx, &item.request_id)?;
            upsert_in(tx, std::slice::from_ref(hub_current), &source)?;
            recompute_local(tx, &item.request_id)
        })
    }

    /// The hub refused the action as invalid; it will never apply. The desk drops its effect.
    pub fn reject_action(&self, key: &str, reason: &str, now: DateTime<Utc>) -> Result<()> {
        self.write(|tx| {
            let item = item_by_key(tx, key)?;
            if item.state != OutboxState::Pending {
                return Ok(());
            }
            tx.prepare_cached(
                "UPDATE outbox SET state = 'rejected', attempts = attempts + 1, last_error = ?2, updated_at = ?3 \
                 WHERE idempotency_key = ?1",
            )?
            .execute(params![key, reason, ms(now)])?;
            messages::refused_in(tx, key, reason, now)?;
            events::insert_in(
                tx,
                &CaseEvent {
                    id: format!("{key}.rejected"),
                    request_id: item.request_id.clone(),
                    kind: CaseEventKind::Rejected {
                        action: serde_json::to_value(&item.action).map_err(|e| StoreError::corrupt("action", e))?,
                        reason: reason.to_owned(),
                    },
                    actor: Some(item.actor.clone()),
                    at: now,
                    origin: Origin::Desk,
                },
            )?;
            recompute_local(tx, &item.request_id)
        })
    }

    /// The officer takes back an action that is still waiting in the outbox ("undo"). Its
    /// local effect is dropped and a `withdrawn` case event records it. An action the hub
    /// already answered cannot be taken back this way: the outcome says so.
    pub fn withdraw_action(&self, key: &str, now: DateTime<Utc>) -> Result<Withdrawal> {
        self.write(|tx| {
            let item = item_by_key(tx, key)?;
            if item.state != OutboxState::Pending {
                return Ok(Withdrawal::AlreadyAnswered(item.state));
            }
            tx.prepare_cached(
                "UPDATE outbox SET state = 'dismissed', last_error = ?2, updated_at = ?3 WHERE idempotency_key = ?1",
            )?
            .execute(params![key, WITHDRAWN_NOTE, ms(now)])?;
            messages::withdrawn_in(tx, key)?;
            events::insert_in(
                tx,
                &CaseEvent {
                    id: format!("{key}.withdrawn"),
                    request_id: item.request_id.clone(),
                    kind: CaseEventKind::Withdrawn {
                        action: serde_json::to_value(&item.action).map_err(|e| StoreError::corrupt("action", e))?,
                    },
                    actor: Some(item.actor.clone()),
                    at: now,
                    origin: Origin::Desk,
                },
            )?;
            recompute_local(tx, &item.request_id)?;
            Ok(Withdrawal::Withdrawn)
        })
    }

    /// An officer set a conflicted or rejected item aside (after reading both versions).
    pub fn dismiss_action(&self, key: &str, now: DateTime<Utc>) -> Result<()> {
        self.write(|tx| {
            let item = item_by_key(tx, key)?;
            if !matches!(item.state, OutboxState::Conflicted | OutboxState::Rejected) {
                return Ok(());
            }
            tx.prepare_cached(
                "UPDATE outbox SET state = 'dismissed', updated_at = ?2 WHERE idempotency_key = ?1",
            )?
            .execute(params![key, ms(now)])?;
            recompute_local(tx, &item.request_id)
        })
    }
}

/// [`Store::queue_action`] inside the caller's transaction (a reminder queues many).
pub(crate) fn queue_in(
    tx: &Transaction<'_>,
    request_id: &str,
    action: &TriageAction,
    actor: &str,
    idempotency_key: &str,
    now: DateTime<Utc>,
) -> Result<(StoredRequest, Option<OutboxItem>)> {
    let current = get_in(tx, request_id)?
        .ok_or_else(|| StoreError::RequestNotFound(request_id.to_owned()))?;
    // The original of a duplicate must be here: junk ids never reach the case log.
    if let TriageAction::MarkDuplicate { of } = action
        && of != request_id
        && get_in(tx, of)?.is_none()
    {
        return Err(StoreError::UnknownOriginal(of.clone()));
    }
    let (next, kinds) = action.apply(&current.request, now)?;
    // A message changes no field of the request: it goes on the thread instead.
    let message = matches!(action, TriageAction::SendMessage { .. });
    if kinds.is_empty() && !message {
        return Ok((current, None));
    }
    let has_base: bool = tx
        .prepare_cached("SELECT 1 FROM local_bases WHERE request_id = ?1")?
        .query_row([request_id], |_| Ok(()))
        .optional()?
        .is_some();
    if !has_base && !message {
        // The row holds the hub's copy right now: keep it as the base for replays.
        save_base(tx, &current.request)?;
    }
    let rowid: i64 = tx.query_row(
        "SELECT rowid FROM requests WHERE id = ?1",
        [request_id],
        |r| r.get(0),
    )?;
    for (n, kind) in kinds.into_iter().enumerate() {
        events::insert_in(
            tx,
            &CaseEvent {
                id: events::local_event_id(idempotency_key, n),
                request_id: request_id.to_owned(),
                kind,
                actor: Some(actor.to_owned()),
                at: now,
                origin: Origin::Desk,
            },
        )?;
    }
    let action_json =
        serde_json::to_string(action).map_err(|e| StoreError::corrupt("action", e))?;
    tx.prepare_cached(
        "INSERT INTO outbox (idempotency_key, request_id, action, actor, base_version, state, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6)",
    )?
    .execute(params![idempotency_key, request_id, action_json, actor, current.request.version, ms(now)])?;
    if message {
        messages::queue_in(tx, request_id, action, actor, idempotency_key, now)?;
        recompute_local(tx, request_id)?;
    } else {
        write_row(tx, &next, LocalState::Pending, &current.source, Some(rowid))?;
    }
    let item = item_by_key(tx, idempotency_key)?;
    let shown = get_in(tx, request_id)?
        .ok_or_else(|| StoreError::RequestNotFound(request_id.to_owned()))?;
    Ok((shown, Some(item)))
}

fn source_of(tx: &Transaction<'_>, request_id: &str) -> Result<String> {
    Ok(tx
        .prepare_cached("SELECT source FROM requests WHERE id = ?1")?
        .query_row([request_id], |r| r.get(0))
        .optional()?
        .unwrap_or_default())
}

fn save_base(tx: &Transaction<'_>, hub_copy: &HelpRequest) -> Result<()> {
    let json = serde_json::to_string(&WireRequest::from_domain(hub_copy, &[]))
        .map_err(|e| StoreError::corrupt("request", e))?;
    tx.prepare_cached(
        "INSERT INTO local_bases (request_id, version, record) VALUES (?1, ?2, ?3) \
         ON CONFLICT (request_id) DO UPDATE SET version = excluded.version, record = excluded.record",
    )?
    .execute(params![hub_copy.id, hub_copy.version, json])?;
    Ok(())
}

fn load_base(tx: &Transaction<'_>, request_id: &str) -> Result<Option<HelpRequest>> {
    let json: Option<String> = tx
        .prepare_cached("SELECT record FROM local_bases WHERE request_id = ?1")?
        .query_row([request_id], |r| r.get(0))
        .optional()?;
    json.map(|json| {
        let wire: WireRequest = serde_json::from_str(&json)
            .map_err(|e| StoreError::corrupt(format!("local base of {request_id}"), e))?;
        Ok(wire.into_domain(Origin::Sync)?.0)
    })
    .transpose()
}

/// Called by the upsert path when a newer hub version of `hub_record` arrives. Returns what
/// the desk should show when local edits are pending on it, `None` when there are none.
pub(crate) fn rebase_local_edits(
    tx: &Transaction<'_>,
    hub_record: &HelpRequest,
) -> Result<Option<(HelpRequest, LocalState)>> {
    if load_base(tx, &hub_record.id)?.is_none() {
        let state = unresolved_state(tx, &hub_record.id)?;
        return Ok((state != LocalState::Synced).then(|| (hub_record.clone(), state)));
    }
    save_base(tx, hub_record)?;
    Ok(Some(replay(tx, hub_record.clone())?))
}

/// The hub copy with every pending action replayed on top, and the resulting local state.
/// Actions that no longer apply are skipped here; the hub will answer them with a conflict
/// or a rejection.
fn replay(tx: &Transaction<'_>, mut shown: HelpRequest) -> Result<(HelpRequest, LocalState)> {
    let pending = query_items(
        tx,
        "WHERE request_id = ?1 AND state = 'pending' ORDER BY seq",
        [&shown.id],
    )?;
    for item in &pending {
        if let Ok((next, _)) = item.action.apply(&shown, item.created_at) {
            shown = next;
        }
    }
    let state = unresolved_state(tx, &shown.id)?;
    Ok((shown, state))
}

fn unresolved_state(tx: &Transaction<'_>, request_id: &str) -> Result<LocalState> {
    let (pending, troubled): (i64, i64) = tx
        .prepare_cached(
            "SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state IN ('conflicted', 'rejected')) \
             FROM outbox WHERE request_id = ?1",
        )?
        .query_row([request_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(if troubled > 0 {
        LocalState::Conflict
    } else if pending > 0 {
        LocalState::Pending
    } else {
        LocalState::Synced
    })
}

/// Re-derives what the desk shows for `request_id` from the hub's copy and the pending
/// actions, and drops the saved hub copy once nothing is pending.
pub(crate) fn recompute_local(tx: &Transaction<'_>, request_id: &str) -> Result<()> {
    let Some(current) = get_in(tx, request_id)? else {
        return Ok(());
    };
    let rowid: i64 = tx.query_row(
        "SELECT rowid FROM requests WHERE id = ?1",
        [request_id],
        |r| r.get(0),
    )?;
    let base = load_base(tx, request_id)?;
    let (shown, state) = match base {
        Some(base) => replay(tx, base)?,
        None => (current.request.clone(), unresolved_state(tx, request_id)?),
    };
    let any_pending: bool = tx
        .prepare_cached("SELECT 1 FROM outbox WHERE request_id = ?1 AND state = 'pending' LIMIT 1")?
        .query_row([request_id], |_| Ok(()))
        .optional()?
        .is_some();
    if !any_pending {
        tx.prepare_cached("DELETE FROM local_bases WHERE request_id = ?1")?
            .execute([request_id])?;
    }
    if shown != current.request || state != current.local_state {
        write_row(tx, &shown, state, &current.source, Some(rowid))?;
    }
    Ok(())
}

fn summary(r: &HelpRequest) -> String {
    format!(
        "status {}, priority {}, assignee {}",
        r.status,
        r.priority,
        r.assignee.as_deref().unwrap_or("nobody")
    )
}
