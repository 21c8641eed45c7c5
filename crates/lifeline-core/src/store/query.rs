//! Reading requests back: filters, viewport (R*Tree, antimeridian-aware), ranked text
//! search, counts and timeline buckets, over the derived query index (`derived.rs`: the
//! filter keys `ix.request_keys`, `ix.requests_rtree`, `ix.requests_fts`), joined to the
//! store's rows only for what is returned. One [`RequestQuery`] describes what an officer or a
//! script asked for; every reader here takes it, so the queue, the map's list, the export and
//! the CLI agree on what "matching" means.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;

use super::requests::{REQUEST_COLUMNS, StoredRequest, request_from_row};
use super::{Result, Store, from_ms, ms, search};
use crate::geo::BBox;
use crate::model::{Category, Priority, Status};

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestOrder {
    /// The queue: open emergencies newest first, then open requests by priority and age
    /// (newest first), then finished ones.
    #[default]
    Triage,
    /// The duty officer's queue: emergencies nobody has acknowledged, the longest waiting
    /// first; then the rest as in `Triage`.
    Waiting,
    Newest,
    Oldest,
    /// Best text match first (falls back to triage order without a text query).
    Relevance,
}

/// Who a request is assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    Unassigned,
    To(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestQuery {
    /// Only located requests inside this box (W > E crosses the antimeridian).
    pub bbox: Option<BBox>,
    pub statuses: Vec<Status>,
    pub priorities: Vec<Priority>,
    pub categories: Vec<Category>,
    pub emergency: Option<bool>,
    /// ISO 3166-1 alpha-2 codes of where the citizen is.
    pub countries: Vec<String>,
    pub posts: Vec<String>,
    pub assignee: Option<AssigneeFilter>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Free text, Chinese or any other language (see `search.rs`).
    pub text: Option<String>,
    pub order: RequestOrder,
    pub limit: Option<u32>,
    pub offset: u32,
}

impl RequestQuery {
    /// Only open requests (new, acknowledged, in progress).
    pub fn open() -> RequestQuery {
        RequestQuery {
            statuses: Status::OPEN.to_vec(),
            ..RequestQuery::default()
        }
    }
}

/// Counts for the regional desk's panels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub total: u64,
    pub by_status: Vec<(String, u64)>,
    pub by_category: Vec<(String, u64)>,
    pub by_country: Vec<(String, u64)>,
    /// Open emergencies in the whole store, whatever the filters: the banner's number.
    pub open_emergencies: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeBucket {
    pub start: DateTime<Utc>,
    pub count: u64,
    pub emergencies: u64,
}

/// A tolerance for the R*Tree's 32-bit coordinates; exact bounds are re-checked on the row.
const RTREE_SLACK_DEG: f64 = 1e-4;

/// The FROM/WHERE part of a query over the filter keys (`k`), with its parameters in order.
struct Selection {
    from: String,
    conditions: Vec<String>,
    params: Vec<Value>,
    ranked: bool,
}

impl Selection {
    fn new(q: &RequestQuery) -> Option<Selection> {
        let mut s = Selection {
            from: "ix.request_keys k".into(),
            conditions: Vec::new(),
            params: Vec::new(),
            ranked: false,
        };
        if let Some(text) = q.text.as_deref().filter(|t| !t.trim().is_empty()) {
            // Text that holds nothing searchable matches nothing, rather than everything.
            let expr = search::match_expression(text)?;
            s.from = "(SELECT rowid AS fts_rowid, bm25(requests_fts) AS rank FROM ix.requests_fts WHERE requests_fts MATCH ?) f \
                      CROSS JOIN ix.request_keys k ON k.rowid = f.fts_rowid"
                .into();
            s.params.push(Value::Text(expr));
            s.ranked = true;
        }
        if let Some(b) = q.bbox {
            let parts: Vec<String> = b
                .parts()
                .iter()
                .map(|p| {
                    s.params.extend([p.west - RTREE_SLACK_DEG, p.east + RTREE_SLACK_DEG, p.south - RTREE_SLACK_DEG, p.north + RTREE_SLACK_DEG].map(Value::Real));
                    "SELECT id FROM ix.requests_rtree WHERE min_lon >= ? AND max_lon <= ? AND min_lat >= ? AND max_lat <= ?".to_owned()
                })
                .collect();
            s.conditions
                .push(format!("k.rowid IN ({})", parts.join(" UNION ALL ")));
            s.conditions.push(if b.crosses_antimeridian() {
                "(k.lon >= ? OR k.lon <= ?) AND k.lat BETWEEN ? AND ?".into()
            } else {
                "k.lon BETWEEN ? AND ? AND k.lat BETWEEN ? AND ?".into()
            });
            s.params
                .extend([b.west, b.east, b.south, b.north].map(Value::Real));
        }
        s.any_of(
            "k.status",
            q.statuses.iter().map(|v| Value::Text(v.as_str().into())),
        );
        s.any_of(
            "k.priority",
            q.priorities.iter().map(|v| Value::Integer(v.rank().into())),
        );
        s.any_of(
            "k.category",
            q.categories.iter().map(|v| Value::Text(v.as_str().into())),
        );
        s.any_of(
            "k.country",
            q.countries.iter().map(|v| Value::Text(v.clone())),
        );
        s.any_of("k.post", q.posts.iter().map(|v| Value::Text(v.clone())));
        if let Some(e) = q.emergency {
            s.conditions.push("k.emergency = ?".into());
            s.params.push(Value::Integer(e.into()));
        }
        match &q.assignee {
            Some(AssigneeFilter::Unassigned) => s.conditions.push("k.assignee IS NULL".into()),
            Some(AssigneeFilter::To(who)) => {
                s.conditions.push("k.assignee = ?".into());
                s.params.push(Value::Text(who.clone()));
            }
            None => {}
        }
        if let Some(t) = q.created_from {
            s.conditions.push("k.created_at >= ?".into());
            s.params.push(Value::Integer(ms(t)));
        }
        if let Some(t) = q.created_to {
            s.conditions.push("k.created_at < ?".into());
            s.params.push(Value::Integer(ms(t)));
        }
        Some(s)
    }

    fn any_of(&mut self, column: &str, values: impl Iterator<Item = Value>) {
        let before = self.params.len();
        self.params.extend(values);
        let n = self.params.len() - before;
        if n > 0 {
            self.conditions
                .push(format!("{column} IN ({})", vec!["?"; n].join(", ")));
        }
    }

    /// `SELECT {select}` over the keys alone (counts, groups, ids need nothing else).
    fn sql(&self, select: &str) -> String {
        self.sql_from(select, &self.from)
    }

    /// `SELECT {select}` over the keys joined to the store's rows (`r`), for whole requests,
    /// in `q`'s order; with a limit or offset, only that page.
    ///
    /// A page is chosen from the keys alone, then joined to the rows: joining first read
    /// the row of every match before sorting (measured at 10^6 requests, a country view of
    /// 65k matches: 230 ms to the first 100 rows joined first, 150 ms paged first).
    fn sql_with_rows(&self, select: &str, q: &RequestQuery, params: &mut Vec<Value>) -> String {
        let keys = order_keys(q, self.ranked);
        let direction = |desc: bool| if desc { " DESC" } else { "" };
        if q.limit.is_none() && q.offset == 0 {
            // Everything (exports): one pass, which SQLite can walk in index order without
            // sorting in memory. CROSS JOIN keeps it from starting at `requests`: every
            // filter is on the keys.
            let order: Vec<String> = keys
                .iter()
                .map(|(e, _, d)| format!("{e}{}", direction(*d)))
                .collect();
            return format!(
                "{} ORDER BY {}",
                self.sql_from(
                    select,
                    &format!(
                        "{} CROSS JOIN main.requests r ON r.rowid = k.rowid",
                        self.from
                    )
                ),
                order.join(", ")
            );
        }
        let inner_cols: Vec<String> = keys
            .iter()
            .map(|(e, alias, _)| format!("{e} AS {alias}"))
            .collect();
        let inner_order: Vec<String> = keys
            .iter()
            .map(|(e, _, d)| format!("{e}{}", direction(*d)))
            .collect();
        let outer_order: Vec<String> = keys
            .iter()
            .map(|(_, alias, d)| format!("page.{alias}{}", direction(*d)))
            .collect();
        params.push(Value::Integer(q.limit.map_or(-1, i64::from)));
        params.push(Value::Integer(q.offset.into()));
        format!(
            "SELECT {select} FROM ({} ORDER BY {} LIMIT ? OFFSET ?) page \
             CROSS JOIN main.requests r ON r.rowid = page.page_rowid ORDER BY {}",
            self.sql(&format!("k.rowid AS page_rowid, {}", inner_cols.join(", "))),
            inner_order.join(", "),
            outer_order.join(", ")
        )
    }

    fn sql_from(&self, select: &str, from: &str) -> String {
        let mut sql = format!("SELECT {select} FROM {from}");
        if !self.conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&self.conditions.join(" AND "));
        }
        sql
    }
}

/// `RequestOrder::Waiting` as sort keys, the same as the index's `order_key`: unacknowledged
/// emergencies (group 0) oldest first, then the triage groups newest first.
macro_rules! waiting {
    () => {
        "(k.emergency = 1 AND k.status = 'new')"
    };
}
const WAITING_GROUP: &str = concat!(
    "CASE WHEN ",
    waiting!(),
    " THEN 0 ELSE k.triage_rank + 1 END"
);
const WAITING_TIME: &str = concat!(
    "CASE WHEN ",
    waiting!(),
    " THEN k.created_at ELSE -k.created_at END"
);
const WAITING_TIE: &str = concat!("CASE WHEN ", waiting!(), " THEN k.rowid ELSE -k.rowid END");

/// The sort keys of an order: (expression, alias in a page, descending).
fn order_keys(q: &RequestQuery, ranked: bool) -> &'static [(&'static str, &'static str, bool)] {
    match q.order {
        RequestOrder::Relevance if ranked => &[
            ("f.rank", "o_rank", false),
            ("k.triage_rank", "o_triage", false),
            ("k.created_at", "o_created", true),
            ("k.rowid", "o_rowid", true),
        ],
        RequestOrder::Triage | RequestOrder::Relevance => &[
            ("k.triage_rank", "o_triage", false),
            ("k.created_at", "o_created", true),
            ("k.rowid", "o_rowid", true),
        ],
        RequestOrder::Waiting => &[
            (WAITING_GROUP, "o_group", false),
            (WAITING_TIME, "o_time", false),
            (WAITING_TIE, "o_tie", false),
        ],
        RequestOrder::Newest => &[
            ("k.created_at", "o_created", true),
            ("k.rowid", "o_rowid", true),
        ],
        RequestOrder::Oldest => &[
            ("k.created_at", "o_created", false),
            ("k.rowid", "o_rowid", false),
        ],
    }
}

impl Store {
    /// The matching requests, ordered and paged as asked.
    pub fn query_requests(&self, q: &RequestQuery) -> Result<Vec<StoredRequest>> {
        let mut out = Vec::new();
        self.for_each_request(q, |r| {
            out.push(r);
            Ok::<_, super::StoreError>(())
        })?;
        Ok(out)
    }

    /// Streams the matching requests to `f` one at a time (constant memory: exports).
    pub fn for_each_request<E: From<super::StoreError>>(
        &self,
        q: &RequestQuery,
        mut f: impl FnMut(StoredRequest) -> Result<(), E>,
    ) -> Result<(), E> {
        let Some(sel) = Selection::new(q) else {
            return Ok(());
        };
        let mut params = sel.params.clone();
        let sql = sel.sql_with_rows(REQUEST_COLUMNS, q, &mut params);
        self.catch_up_index()?;
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached(&sql).map_err(super::StoreError::from)?;
            let mut rows = stmt
                .query(rusqlite::params_from_iter(params))
                .map_err(super::StoreError::from)?;
            while let Some(row) = rows.next().map_err(super::StoreError::from)? {
                f(request_from_row(row).map_err(super::StoreError::from)?)?;
            }
            Ok(())
        })
    }

    /// Ids of the matching requests in order (the queue's cheap listing).
    pub fn query_request_ids(&self, q: &RequestQuery) -> Result<Vec<String>> {
        let Some(sel) = Selection::new(q) else {
            return Ok(Vec::new());
        };
        let mut params = sel.params.clone();
        let sql = sel.sql_with_rows("r.id", q, &mut params);
        self.read_indexed(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let ids = stmt.query_map(rusqlite::params_from_iter(params), |r| r.get(0))?;
            Ok(ids.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Requests changed at or after `since`, most recent change first (a shift's hand-over).
    pub fn changed_since(&self, since: DateTime<Utc>, limit: u32) -> Result<Vec<StoredRequest>> {
        self.read(|c| {
            let sql = format!(
                "SELECT {} FROM requests r WHERE r.updated_at >= ?1 ORDER BY r.updated_at DESC LIMIT ?2",
                super::requests::REQUEST_COLUMNS
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                rusqlite::params![since.timestamp_millis(), limit],
                super::requests::request_from_row,
            )?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// How many requests match (ignoring limit and offset).
    pub fn count_requests(&self, q: &RequestQuery) -> Result<u64> {
        let Some(sel) = Selection::new(q) else {
            return Ok(0);
        };
        let sql = sel.sql("count(*)");
        self.read_indexed(|c| {
            Ok(c.prepare_cached(&sql)?
                .query_row(rusqlite::params_from_iter(sel.params), |r| r.get(0))?)
        })
    }

    /// Open emergencies in the whole store: the number the banner shows.
    pub fn open_emergency_count(&self) -> Result<u64> {
        if let Some(n) = self.indexed_open_emergencies()? {
            return Ok(n);
        }
        self.read_indexed(|c| {
            Ok(c.prepare_cached(
                "SELECT count(*) FROM ix.request_keys WHERE emergency = 1 AND is_open = 1",
            )?
            .query_row([], |r| r.get(0))?)
        })
    }

    /// Every consular post named by a request, for the post filter.
    pub fn distinct_posts(&self) -> Result<Vec<String>> {
        self.read_indexed(|c| {
            // One index seek per post, not a walk of every request's key (the desk asks at
            // start; at 10^6 requests the walk competed with the first frame).
            let mut stmt = c.prepare_cached(
                "WITH RECURSIVE p(post) AS ( \
                     SELECT min(post) FROM ix.request_keys WHERE post IS NOT NULL \
                     UNION ALL \
                     SELECT (SELECT min(post) FROM ix.request_keys WHERE post > p.post) FROM p \
                     WHERE p.post IS NOT NULL) \
                 SELECT post FROM p WHERE post IS NOT NULL LIMIT 1000",
            )?;
            let posts = stmt.query_map([], |r| r.get(0))?;
            Ok(posts.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Counts by status, category and country of the matching requests.
    pub fn counts(&self, q: &RequestQuery) -> Result<Counts> {
        let Some(sel) = Selection::new(q) else {
            return Ok(Counts::default());
        };
        let group = |column: &str| -> Result<Vec<(String, u64)>> {
            let sql = format!(
                "{} GROUP BY 1 ORDER BY 2 DESC, 1",
                sel.sql(&format!("coalesce({column}, ''), count(*)"))
            );
            self.read_indexed(|c| {
                let mut stmt = c.prepare_cached(&sql)?;
                let rows = stmt.query_map(rusqlite::params_from_iter(sel.params.iter()), |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
        };
        let by_status = group("k.status")?;
        Ok(Counts {
            total: by_status.iter().map(|(_, n)| n).sum(),
            by_status,
            by_category: group("k.category")?,
            by_country: group("k.country")?,
            open_emergencies: self.open_emergency_count()?,
        })
    }

    /// Matching requests per time bucket of `bucket` length, by creation time.
    pub fn time_buckets(
        &self,
        q: &RequestQuery,
        bucket: chrono::Duration,
    ) -> Result<Vec<TimeBucket>> {
        let Some(sel) = Selection::new(q) else {
            return Ok(Vec::new());
        };
        let width = bucket.num_milliseconds().max(1);
        let sql = format!(
            "{} GROUP BY 1 ORDER BY 1",
            sel.sql(&format!(
                "(k.created_at / {width}) * {width}, count(*), sum(k.emergency)"
            ))
        );
        self.read_indexed(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(sel.params.iter()), |r| {
                Ok(TimeBucket {
                    start: from_ms(r.get(0)?),
                    count: r.get(1)?,
                    emergencies: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

/// Columns read by [`point_from_row`].
pub(crate) const POINT_COLUMNS: &str = "rowid, lon, lat, created_at, located_at, priority, status, category, emergency, country, post, assignee";

pub(crate) fn point_from_row<'r>(
    r: &'r rusqlite::Row<'_>,
) -> Result<crate::mapindex::PointSource<'r>> {
    use crate::model::{Category, Priority, Status};
    // Text is read in place (no allocation per row): building the index at start reads every
    // request once.
    let text = |i: usize| -> Result<Option<&'r str>> {
        r.get_ref(i)?
            .as_str_or_null()
            .map_err(|e| super::StoreError::corrupt("request text column", e))
    };
    let word = |i: usize, what: &str| -> Result<&'r str> {
        text(i)?.ok_or_else(|| super::StoreError::corrupt(what, "missing"))
    };
    let status: Status = word(6, "request status")?
        .parse()
        .map_err(|e| super::StoreError::corrupt("request status", e))?;
    let category: Category = word(7, "request category")?
        .parse()
        .map_err(|e| super::StoreError::corrupt("request category", e))?;
    let position = match (r.get::<_, Option<f64>>(1)?, r.get::<_, Option<f64>>(2)?) {
        (Some(lon), Some(lat)) => Some((lon, lat)),
        _ => None,
    };
    Ok(crate::mapindex::PointSource {
        rowid: r.get(0)?,
        position,
        created_at: from_ms(r.get(3)?),
        located_at: r.get::<_, Option<i64>>(4)?.map(from_ms),
        priority: Priority::from_rank(r.get(5)?).unwrap_or(Priority::Normal),
        status,
        category,
        emergency: r.get(8)?,
        country: text(9)?,
        post: text(10)?,
        assignee: text(11)?,
    })
}
