//! How a request is kept in the hub's PostgreSQL rows: loading and saving records, routing a
//! new request to its post, case events, the change numbers, and applying a triage action
//! decided by [`rules::plan`].

use super::tx::Tx;
use chrono::{DateTime, Utc};
use lifeline_core::model::{CaseEvent, HelpRequest, TriageAction};
use lifeline_core::protocol::{WireEvent, WireRequest};

use super::CHANGES_CHANNEL;
use crate::store::rules::{self, Plan, post_of};
use crate::store::{ActionCall, ActionOutcome, HubError};

/// Takes the next change number. The caller holds the write lock (`with_tx`), so the number
/// is committed before anyone takes the one after it. Replicas are told at commit.
pub(super) async fn next_seq(tx: &Tx<'_>) -> Result<u64, HubError> {
    let head: i64 = tx
        .query_one("UPDATE feed SET head = head + 1 RETURNING head", &[])
        .await?
        .try_get(0)?;
    tx.execute(&format!("NOTIFY {CHANGES_CHANNEL}"), &[])
        .await?;
    Ok(head as u64)
}

fn parse_record(id: &str, record: &str) -> Result<WireRequest, HubError> {
    serde_json::from_str(record).map_err(|e| HubError::Corrupt(format!("request {id}: {e}")))
}

fn parse_event(id: &str, body: &str) -> Result<WireEvent, HubError> {
    serde_json::from_str(body).map_err(|e| HubError::Corrupt(format!("event of {id}: {e}")))
}

pub(super) async fn load(tx: &Tx<'_>, id: &str) -> Result<Option<WireRequest>, HubError> {
    let Some(row) = tx
        .query_opt("SELECT record FROM requests WHERE id = $1", &[&id])
        .await?
    else {
        return Ok(None);
    };
    let mut wire = parse_record(id, row.try_get(0)?)?;
    for row in tx
        .query(
            "SELECT body FROM events WHERE request_id = $1 ORDER BY seq",
            &[&id],
        )
        .await?
    {
        wire.events.push(parse_event(id, row.try_get(0)?)?);
    }
    Ok(Some(wire))
}

/// Several requests with their events, in two queries (a page of the change feed).
pub(super) async fn load_many(
    tx: &Tx<'_>,
    ids: &[String],
) -> Result<std::collections::HashMap<String, WireRequest>, HubError> {
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    if ids.is_empty() {
        return Ok(out);
    }
    for row in tx
        .query(
            "SELECT id, record FROM requests WHERE id = ANY($1)",
            &[&ids],
        )
        .await?
    {
        let id: String = row.try_get(0)?;
        let wire = parse_record(&id, row.try_get(1)?)?;
        out.insert(id, wire);
    }
    for row in tx
        .query(
            "SELECT request_id, body FROM events WHERE request_id = ANY($1) ORDER BY request_id, seq",
            &[&ids],
        )
        .await?
    {
        let id: &str = row.try_get(0)?;
        let event = parse_event(id, row.try_get(1)?)?;
        if let Some(wire) = out.get_mut(id) {
            wire.events.push(event);
        }
    }
    Ok(out)
}

/// How a request is written: the first time (with who took it in), or as a change.
pub(super) enum Save<'a> {
    New { intake_by: &'a str },
    Change,
}

pub(super) async fn save(
    tx: &Tx<'_>,
    r: &HelpRequest,
    seq: u64,
    how: Save<'_>,
) -> Result<(), HubError> {
    let record = serde_json::to_string(&WireRequest::from_domain(r, &[]))
        .map_err(|e| HubError::Corrupt(e.to_string()))?;
    let (seq, version) = (seq as i64, r.version);
    if let Save::New { intake_by } = how {
        tx.execute(
            "INSERT INTO requests (id, version, change_seq, record, created_at, post, intake_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&r.id, &version, &seq, &record, &r.created_at.timestamp_millis(), &r.post, &intake_by],
        )
        .await?;
    } else {
        tx.execute(
            "UPDATE requests SET version = $2, change_seq = $3, record = $4, post = $5 WHERE id = $1",
            &[&r.id, &version, &seq, &record, &r.post],
        )
        .await?;
    }
    Ok(())
}

/// The post a new request goes to (the rules of the SQLite backend's `route`): the one it
/// names, by id or by name, else the first whole-country post of its country; with no posts
/// configured, the named post as given.
pub(super) async fn route(
    tx: &Tx<'_>,
    named: Option<&str>,
    country: Option<&str>,
) -> Result<Option<String>, HubError> {
    let any_posts: bool = tx
        .query_one("SELECT EXISTS (SELECT 1 FROM posts)", &[])
        .await?
        .try_get(0)?;
    if !any_posts {
        return Ok(named.map(str::to_owned));
    }
    if let Some(named) = named
        && let Some(row) = tx
            .query_opt(
                "SELECT id FROM posts WHERE id = $1 OR name_en = $1 OR name_zh = $1 ORDER BY id = $1 DESC LIMIT 1",
                &[&named],
            )
            .await?
    {
        return Ok(Some(row.try_get(0)?));
    }
    let Some(country) = country else {
        return Ok(None);
    };
    Ok(tx
        .query_opt(
            "SELECT id FROM posts WHERE $1 = ANY(string_to_array(countries, ',')) \
             ORDER BY subregions != '', id LIMIT 1",
            &[&country],
        )
        .await?
        .map(|r| r.try_get(0))
        .transpose()?)
}

pub(super) async fn post_exists(tx: &Tx<'_>, id: &str) -> Result<bool, HubError> {
    Ok(tx
        .query_one("SELECT EXISTS (SELECT 1 FROM posts WHERE id = $1)", &[&id])
        .await?
        .try_get(0)?)
}

pub(super) async fn event_count(tx: &Tx<'_>, id: &str) -> Result<usize, HubError> {
    let n: i64 = tx
        .query_one("SELECT count(*) FROM events WHERE request_id = $1", &[&id])
        .await?
        .try_get(0)?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

pub(super) async fn append_events(tx: &Tx<'_>, events: &[CaseEvent]) -> Result<(), HubError> {
    for e in events {
        let body = serde_json::to_string(&WireEvent {
            id: e.id.clone(),
            kind: e.kind.clone(),
            actor: e.actor.clone(),
            at: e.at,
        })
        .map_err(|err| HubError::Corrupt(err.to_string()))?;
        tx.execute(
            "INSERT INTO events (event_id, request_id, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&e.id, &e.request_id, &body],
        )
        .await?;
    }
    Ok(())
}

/// Decides an action against the current record ([`rules::plan`]) and applies it when it is
/// to be applied.
pub(super) async fn decide(
    tx: &Tx<'_>,
    current: WireRequest,
    call: ActionCall<'_>,
    case_event_cap: usize,
    now: DateTime<Utc>,
) -> Result<ActionOutcome, HubError> {
    let original_visible = match call.action {
        TriageAction::MarkDuplicate { of } => load(tx, of)
            .await?
            .filter(|r| call.scope.admits(post_of(r)))
            .is_some(),
        _ => true,
    };
    let events_kept = event_count(tx, &current.id).await?;
    match rules::plan(
        current,
        call,
        case_event_cap,
        events_kept,
        original_visible,
        now,
    )? {
        Plan::Answer(outcome) => Ok(outcome),
        Plan::Send(current) => super::messages::send(tx, current, call, now).await,
        Plan::Apply { next, events } => {
            let seq = next_seq(tx).await?;
            save(tx, &next, seq, Save::Change).await?;
            append_events(tx, &events).await?;
            let record = load(tx, &next.id)
                .await?
                .ok_or_else(|| HubError::Corrupt("request vanished".into()))?;
            Ok(ActionOutcome::Applied { record })
        }
    }
}
