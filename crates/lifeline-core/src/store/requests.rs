//! Help requests in the store: batch upsert (never backwards), local edits replayed on top
//! of newer hub versions, and reading one request back.

use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::{Result, Store, StoreError, events, from_ms, ms, outbox, sync_state};
use crate::model::{
    Attachment, CaseEvent, Category, Channel, Citizen, HelpRequest, Location, Priority, Status,
};
use crate::protocol::WireAttachment;

/// A request arriving from the hub or a file, with the case events that came with it.
#[derive(Debug, Clone)]
pub struct IncomingRequest {
    pub request: HelpRequest,
    pub events: Vec<CaseEvent>,
}

/// Whether the desk's copy of a request carries local edits the hub has not confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalState {
    Synced,
    Pending,
    Conflict,
}

impl LocalState {
    pub fn as_str(self) -> &'static str {
        match self {
            LocalState::Synced => "synced",
            LocalState::Pending => "pending",
            LocalState::Conflict => "conflict",
        }
    }

    fn parse(s: &str) -> LocalState {
        match s {
            "pending" => LocalState::Pending,
            "conflict" => LocalState::Conflict,
            _ => LocalState::Synced,
        }
    }
}

/// A request as stored on this desk.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRequest {
    pub request: HelpRequest,
    pub local_state: LocalState,
    pub source: String,
}

/// What one batch did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpsertReport {
    /// Ids of requests new to this desk.
    pub inserted: Vec<String>,
    /// Ids of requests replaced by a newer version.
    pub updated: Vec<String>,
    /// Records whose version was not newer than the stored one (nothing changed).
    pub unchanged: usize,
    pub events_added: usize,
    /// Ids of requests whose thread got a message or a new delivery state.
    pub threads: Vec<String>,
}

impl UpsertReport {
    /// Requests that changed, or whose thread did (the views refresh them).
    pub fn changed_ids(&self) -> impl Iterator<Item = &str> {
        self.inserted
            .iter()
            .chain(&self.updated)
            .chain(&self.threads)
            .map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.inserted.is_empty()
            && self.updated.is_empty()
            && self.events_added == 0
            && self.threads.is_empty()
    }
}

/// One page of the hub's change feed, as the desk applies it (see
/// [`Store::apply_sync_page`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct SyncPage<'a> {
    pub requests: &'a [IncomingRequest],
    pub rejected: &'a [super::Rejection],
    pub removed: &'a [String],
    pub erased: &'a [String],
    pub messages: &'a [crate::model::Message],
}

/// Columns read by [`request_from_row`], in order.
pub(crate) const REQUEST_COLUMNS: &str = "r.id, r.channel, r.category, r.emergency, r.priority, r.status, r.duplicate_of, \
     r.citizen_name, r.citizen_phone, r.citizen_id_doc, r.citizen_nationality, r.citizen_language, r.people_count, \
     r.lat, r.lon, r.accuracy_m, r.located_at, r.address, r.country, r.description, r.attachments, r.assignee, r.post, \
     r.created_at, r.updated_at, r.version, r.local_state, r.source";

pub(crate) fn request_from_row(row: &Row<'_>) -> rusqlite::Result<StoredRequest> {
    fn word<T: std::str::FromStr>(row: &Row<'_>, i: usize) -> rusqlite::Result<T>
    where
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        let text: String = row.get(i)?;
        text.parse().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    }
    let lat: Option<f64> = row.get(13)?;
    let lon: Option<f64> = row.get(14)?;
    let location = match (lat, lon) {
        (Some(lat), Some(lon)) => Some(Location {
            lat,
            lon,
            accuracy_m: row.get(15)?,
            captured_at: row.get::<_, Option<i64>>(16)?.map(from_ms),
            address: row.get(17)?,
            country: row.get(18)?,
        }),
        _ => None,
    };
    let attachments_json: String = row.get(20)?;
    let attachments: Vec<WireAttachment> =
        serde_json::from_str(&attachments_json).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(20, rusqlite::types::Type::Text, Box::new(e))
        })?;
    let priority_rank: u8 = row.get(4)?;
    let request = HelpRequest {
        id: row.get(0)?,
        channel: word::<Channel>(row, 1)?,
        category: word::<Category>(row, 2)?,
        emergency: row.get(3)?,
        priority: Priority::from_rank(priority_rank).unwrap_or(Priority::Normal),
        status: word::<Status>(row, 5)?,
        duplicate_of: row.get(6)?,
        citizen: Citizen {
            name: row.get(7)?,
            phone: row.get(8)?,
            id_document: row.get(9)?,
            nationality: row.get(10)?,
            language: row.get(11)?,
        },
        people_count: row.get(12)?,
        location,
        description: row.get(19)?,
        attachments: attachments
            .into_iter()
            .map(|a| Attachment {
                name: a.name,
                media_type: a.media_type,
                size_bytes: a.size_bytes,
                url: a.url,
            })
            .collect(),
        assignee: row.get(21)?,
        post: row.get(22)?,
        created_at: from_ms(row.get(23)?),
        updated_at: from_ms(row.get(24)?),
        version: row.get(25)?,
    };
    Ok(StoredRequest {
        request,
        local_state: LocalState::parse(&row.get::<_, String>(26)?),
        source: row.get(27)?,
    })
}

/// Queue order: open emergencies first, then open requests by priority, then the rest.
pub(crate) fn triage_rank(r: &HelpRequest) -> i64 {
    if !r.status.is_open() {
        5
    } else if r.emergency {
        0
    } else {
        1 + i64::from(r.priority.rank())
    }
}

impl Store {
    /// Applies a batch from one source in one transaction, advancing `cursor` (source,
    /// cursor) in the same transaction so a crash can neither skip nor repeat a page.
    pub fn upsert_requests(
        &self,
        batch: &[IncomingRequest],
        source: &str,
        cursor: Option<(&str, &str)>,
    ) -> Result<UpsertReport> {
        self.write(|tx| {
            let report = upsert_in(tx, batch, source)?;
            if let Some((cursor_source, cursor)) = cursor {
                sync_state::set_cursor_in(tx, cursor_source, cursor)?;
            }
            Ok(report)
        })
    }

    /// Applies one page (or one event) from the hub: the accepted records, the rejected ones
    /// to quarantine, and the cursor after them, in one transaction.
    pub fn apply_sync_batch(
        &self,
        batch: &[IncomingRequest],
        rejected: &[super::Rejection],
        source: &str,
        cursor: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<UpsertReport> {
        self.apply_sync_page(
            &SyncPage {
                requests: batch,
                rejected,
                ..SyncPage::default()
            },
            source,
            cursor,
            now,
        )
    }

    /// A page of the hub's change feed: erasures and removals (requests this desk may no
    /// longer see) first, then the records, then the messages on their threads, then the
    /// cursor, in one transaction. After an erasure the indexes are scrubbed of the erased
    /// text too. The report names the requests whose threads changed among the changed.
    pub fn apply_sync_page(
        &self,
        page: &SyncPage<'_>,
        source: &str,
        cursor: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<UpsertReport> {
        let report = self.write(|tx| {
            super::removal::erase_in(tx, page.erased)?;
            super::removal::remove_in(tx, page.removed)?;
            let mut report = upsert_in(tx, page.requests, source)?;
            report.threads = super::messages::apply_in(tx, page.messages)?;
            for r in page.rejected {
                super::quarantine::insert_in(tx, source, r, now)?;
            }
            sync_state::set_cursor_in(tx, source, cursor)?;
            Ok(report)
        })?;
        if !page.erased.is_empty() {
            self.scrub()?;
        }
        Ok(report)
    }

    pub fn get_request(&self, id: &str) -> Result<Option<StoredRequest>> {
        self.read(|c| get_in(c, id))
    }

    /// One request with its whole case-event log, oldest event first.
    pub fn request_with_events(&self, id: &str) -> Result<Option<(StoredRequest, Vec<CaseEvent>)>> {
        self.read(|c| {
            let tx = c.unchecked_transaction()?; // one snapshot for both reads
            let Some(req) = get_in(&tx, id)? else {
                return Ok(None);
            };
            let events = events::for_request(&tx, id)?;
            Ok(Some((req, events)))
        })
    }

    /// How many requests the store holds.
    pub fn request_count(&self) -> Result<u64> {
        self.read(|c| Ok(c.query_row("SELECT count(*) FROM requests", [], |r| r.get(0))?))
    }
}

pub(crate) fn get_in(conn: &rusqlite::Connection, id: &str) -> Result<Option<StoredRequest>> {
    let sql = format!("SELECT {REQUEST_COLUMNS} FROM requests r WHERE r.id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], request_from_row)
        .optional()?)
}

pub(crate) fn upsert_in(
    tx: &Transaction<'_>,
    batch: &[IncomingRequest],
    source: &str,
) -> Result<UpsertReport> {
    let mut report = UpsertReport::default();
    // Prepared once for the batch: looking a statement up in the cache by its text costs
    // about as much as a short insert.
    let mut insert = tx.prepare_cached(INSERT_REQUEST)?;
    let mut lookup = tx.prepare_cached("SELECT rowid, version FROM requests WHERE id = ?1")?;
    let mut add_event = events::Appender::new(tx)?;
    for incoming in batch {
        let r = &incoming.request;
        // Most rows in a large sync are new: try the insert first, look up only on conflict.
        if bind_request(&mut insert, r, LocalState::Synced, source, None)? == 0 {
            let (rowid, stored_version): (i64, i64) =
                lookup.query_row([&r.id], |row| Ok((row.get(0)?, row.get(1)?)))?;
            if r.version > stored_version {
                // A newer hub version. If local edits are pending on this request, the hub
                // copy becomes their new base and they are replayed on top.
                let (shown, state) = outbox::rebase_local_edits(tx, r)?
                    .unwrap_or_else(|| (r.clone(), LocalState::Synced));
                write_row(tx, &shown, state, source, Some(rowid))?;
                report.updated.push(r.id.clone());
            } else {
                report.unchanged += 1;
            }
        } else {
            report.inserted.push(r.id.clone());
        }
        for event in &incoming.events {
            if add_event.append(event)? {
                report.events_added += 1;
            }
        }
    }
    Ok(report)
}

const INSERT_REQUEST: &str = "INSERT INTO requests (id, channel, category, emergency, priority, status, is_open, triage_rank, \
     duplicate_of, citizen_name, citizen_phone, citizen_id_doc, citizen_nationality, citizen_language, \
     people_count, lat, lon, accuracy_m, located_at, address, country, description, attachments, assignee, \
     post, created_at, updated_at, version, local_state, source) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, \
     ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30) ON CONFLICT (id) DO NOTHING";

const UPDATE_REQUEST: &str = "UPDATE requests SET id = ?1, channel = ?2, category = ?3, emergency = ?4, priority = ?5, status = ?6, \
     is_open = ?7, triage_rank = ?8, duplicate_of = ?9, citizen_name = ?10, citizen_phone = ?11, \
     citizen_id_doc = ?12, citizen_nationality = ?13, citizen_language = ?14, people_count = ?15, lat = ?16, \
     lon = ?17, accuracy_m = ?18, located_at = ?19, address = ?20, country = ?21, description = ?22, \
     attachments = ?23, assignee = ?24, post = ?25, created_at = ?26, updated_at = ?27, version = ?28, \
     local_state = ?29, source = ?30 WHERE rowid = ?31";

/// Binds a request's columns (and, for [`UPDATE_REQUEST`], its rowid) and runs the
/// statement; returns the number of rows it changed.
fn bind_request(
    stmt: &mut rusqlite::Statement<'_>,
    r: &HelpRequest,
    local_state: LocalState,
    source: &str,
    rowid: Option<i64>,
) -> Result<usize> {
    let attachments = if r.attachments.is_empty() {
        "[]".to_owned()
    } else {
        let wire: Vec<WireAttachment> = r.attachments.iter().map(WireAttachment::from).collect();
        serde_json::to_string(&wire).map_err(|e| StoreError::corrupt("attachments", e))?
    };
    let loc = r.location.as_ref();
    let values = params![
        r.id,
        r.channel.as_str(),
        r.category.as_str(),
        r.emergency,
        r.priority.rank(),
        r.status.as_str(),
        r.status.is_open(),
        triage_rank(r),
        r.duplicate_of,
        r.citizen.name,
        r.citizen.phone,
        r.citizen.id_document,
        r.citizen.nationality,
        r.citizen.language,
        r.people_count,
        loc.map(|l| l.lat),
        loc.map(|l| l.lon),
        loc.and_then(|l| l.accuracy_m),
        loc.and_then(|l| l.captured_at).map(ms),
        loc.and_then(|l| l.address.as_deref()),
        loc.and_then(|l| l.country.as_deref()),
        r.description,
        attachments,
        r.assignee,
        r.post,
        ms(r.created_at),
        ms(r.updated_at),
        r.version,
        local_state.as_str(),
        source,
    ];
    Ok(match rowid {
        None => stmt.execute(values)?,
        Some(rowid) => stmt.execute(rusqlite::params_from_iter(
            values
                .iter()
                .copied()
                .chain([&rowid as &dyn rusqlite::ToSql]),
        ))?,
    })
}

/// Writes the row. With `rowid: None` it inserts, unless a request with this id exists (then
/// it writes nothing and returns `None`); with a rowid it overwrites. The query indexes
/// follow from the change log and the derived index (`derived.rs`).
pub(crate) fn write_row(
    tx: &Transaction<'_>,
    r: &HelpRequest,
    local_state: LocalState,
    source: &str,
    rowid: Option<i64>,
) -> Result<Option<i64>> {
    match rowid {
        None => {
            let mut insert = tx.prepare_cached(INSERT_REQUEST)?;
            if bind_request(&mut insert, r, local_state, source, None)? == 0 {
                return Ok(None);
            }
            Ok(Some(tx.last_insert_rowid()))
        }
        Some(rowid) => {
            let mut update = tx.prepare_cached(UPDATE_REQUEST)?;
            bind_request(&mut update, r, local_state, source, Some(rowid))?;
            Ok(Some(rowid))
        }
    }
}
