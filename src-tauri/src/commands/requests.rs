//! The queue, one request in detail, counts and the timeline.

use chrono::{Duration, Utc};

use super::DeskState;
use crate::convert::{self, DetailParts};
use crate::dto::{Bucket, Counts, QueueFilter, QueuePage, RequestDetail};
use crate::error::{CommandError, CommandResult, ErrorCode};
use crate::state::Desk;

#[tauri::command(async)]
pub fn queue_page(
    desk: DeskState<'_>,
    filter: QueueFilter,
    offset: u32,
    limit: u32,
) -> CommandResult<QueuePage> {
    super::session::ensure_unlocked(&desk)?;
    let settings = desk.settings();
    let now = Utc::now();
    let mut q = convert::query(&filter, &settings.officer, now)?;
    q.limit = Some(limit.clamp(1, 500));
    q.offset = offset;
    let ready = desk.index_ready();
    // Still building the index: an empty page that says so (the queue asks again when the
    // index is ready). Answering from SQL instead meant sorting every request on the cores
    // the index build and the window's start need: at 10^6 requests, seconds of the first
    // frame.
    let (total, rows) = if ready {
        desk.store.indexed_page(&q)?
    } else {
        (0, Vec::new())
    };
    let claims = desk.store.live_claims(now)?;
    let advisories = desk.active_advisories()?;
    let rows = rows
        .iter()
        .map(|r| convert::queue_row(r, &claims, &advisories, &settings.desk, &settings.language))
        .collect();
    Ok(QueuePage {
        total: total as u32,
        offset,
        rows: convert::with_threads(&desk.store, rows)?,
        open_emergencies: desk.store.open_emergency_count()? as u32,
        ready,
    })
}

/// `not_ready` while the desk builds its request index (the window asks again when told it
/// is ready).
pub(super) fn ensure_index_ready(desk: &Desk) -> CommandResult<()> {
    if desk.index_ready() {
        Ok(())
    } else {
        Err(CommandError::new(
            ErrorCode::NotReady,
            "the desk is still building its index",
        ))
    }
}

pub fn load_detail(desk: &Desk, id: &str) -> CommandResult<RequestDetail> {
    let settings = desk.settings();
    let now = Utc::now();
    let (stored, events) = desk
        .store
        .request_with_events(id)?
        .ok_or_else(|| CommandError::new(ErrorCode::NotFound, format!("no request {id}")))?;
    let outbox = desk.store.outbox_for_request(id)?;
    let claims = desk.store.claims_on(id, now)?;
    let advisories = desk.active_advisories()?;
    Ok(convert::detail(DetailParts {
        stored: &stored,
        events: &events,
        outbox: &outbox,
        claims: &claims,
        advisories: &advisories,
        own_desk: &settings.desk,
        language: &settings.language,
        now,
    }))
}

#[tauri::command(async)]
pub fn request_detail(desk: DeskState<'_>, id: String) -> CommandResult<RequestDetail> {
    super::session::ensure_unlocked(&desk)?;
    load_detail(&desk, &id)
}

/// The request a map marker stands for (markers carry the store's row id).
/// Where request `id` stands in the queue the filter selects (`None`: not in it), so the
/// queue can scroll to a request chosen on the map or from the banner.
#[tauri::command(async)]
pub fn queue_position(
    desk: DeskState<'_>,
    filter: QueueFilter,
    id: String,
) -> CommandResult<Option<u32>> {
    super::session::ensure_unlocked(&desk)?;
    let q = convert::query(&filter, &desk.settings().officer, Utc::now())?;
    Ok(desk
        .store
        .query_request_ids(&q)?
        .iter()
        .position(|i| *i == id)
        .map(|p| p as u32))
}

/// Requests that may be the original of `id` (same phone, same name, or nearby and
/// recent), most alike first.
#[tauri::command(async)]
pub fn duplicate_candidates(
    desk: DeskState<'_>,
    id: String,
) -> CommandResult<Vec<crate::dto::DuplicateCandidate>> {
    super::session::ensure_unlocked(&desk)?;
    let settings = desk.settings();
    let claims = desk.store.live_claims(Utc::now())?;
    let advisories = desk.active_advisories()?;
    Ok(desk
        .store
        .duplicate_candidates(&id)?
        .into_iter()
        .map(|(r, why)| crate::dto::DuplicateCandidate {
            row: convert::queue_row(&r, &claims, &advisories, &settings.desk, &settings.language),
            reasons: why.iter().map(|w| w.as_str().to_owned()).collect(),
        })
        .collect())
}

#[tauri::command(async)]
pub fn request_id_at(desk: DeskState<'_>, rowid: f64) -> CommandResult<Option<String>> {
    super::session::ensure_unlocked(&desk)?;
    Ok(desk.store.request_id_for_rowid(rowid as i64)?)
}

#[tauri::command(async)]
pub fn counts(desk: DeskState<'_>, filter: QueueFilter) -> CommandResult<Counts> {
    // Counts reveal nothing personal, but a search's counts would (is this name here?).
    if filter.text.as_deref().is_some_and(|t| !t.trim().is_empty()) {
        super::session::ensure_unlocked(&desk)?;
    }
    let q = convert::query(&filter, &desk.settings().officer, Utc::now())?;
    // Before the index is ready these would be a scan of every request (see `queue_page`).
    ensure_index_ready(&desk)?;
    let c = desk.store.indexed_counts(&q)?;
    let pairs = |v: Vec<(String, u64)>| v.into_iter().map(|(k, n)| (k, n as u32)).collect();
    Ok(Counts {
        total: c.total as u32,
        open_emergencies: c.open_emergencies as u32,
        by_status: pairs(c.by_status),
        by_category: pairs(c.by_category),
        by_country: pairs(c.by_country),
    })
}

/// Requests per hour over the last `hours` hours, with the filters applied.
#[tauri::command(async)]
pub fn timeline(
    desk: DeskState<'_>,
    filter: QueueFilter,
    hours: u32,
) -> CommandResult<Vec<Bucket>> {
    // Counts reveal nothing personal, but a search's counts would (is this name here?).
    if filter.text.as_deref().is_some_and(|t| !t.trim().is_empty()) {
        super::session::ensure_unlocked(&desk)?;
    }
    let now = Utc::now();
    let mut q = convert::query(&filter, &desk.settings().officer, now)?;
    let hours = hours.clamp(1, 24 * 14);
    q.created_from = Some(now - Duration::hours(i64::from(hours)));
    ensure_index_ready(&desk)?;
    let buckets = desk.store.indexed_time_buckets(&q, Duration::hours(1))?;
    Ok(buckets
        .into_iter()
        .map(|b| Bucket {
            start: convert::ms(b.start),
            count: b.count as u32,
            emergencies: b.emergencies as u32,
        })
        .collect())
}
