//! The store at 10^5 and 10^6 requests: upsert rate against bare SQLite, viewport and text
//! search latency, map clustering latency, bytes on disk per request.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use lifeline_core::Store;
use lifeline_core::geo::BBox;
use lifeline_core::geo::places::by_name;
use lifeline_core::model::{CaseEvent, CaseEventKind, HelpRequest, Origin};
use lifeline_core::store::{IncomingRequest, RequestOrder, RequestQuery};
use lifeline_core::synth::{Rng, request_anywhere};

use crate::stats::{Samples, heading};

const BATCH: usize = 1000;
const QUERIES: usize = 200;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// Synthetic requests arriving over a month, each with its `created` event, as sync brings them.
fn generate(n: usize) -> Vec<IncomingRequest> {
    generate_from(n, start())
}

fn generate_from(n: usize, start: DateTime<Utc>) -> Vec<IncomingRequest> {
    let mut rng = Rng::new(2026);
    let span_s = 30.0 * 86_400.0;
    (0..n)
        .map(|i| {
            let at = start + chrono::Duration::seconds((span_s * i as f64 / n as f64) as i64);
            let request = request_anywhere(&mut rng, format!("bench-{i}"), at);
            let events = vec![CaseEvent {
                id: format!("bench-{i}.created"),
                request_id: request.id.clone(),
                kind: CaseEventKind::Created,
                actor: None,
                at,
                origin: Origin::Sync,
            }];
            IncomingRequest { request, events }
        })
        .collect()
}

/// The baseline: the same request rows into a plain table (no indexes, no R*Tree, no FTS),
/// prepared statement, same batch size, same pragmas.
fn bare_sqlite(dir: &std::path::Path, rows: &[IncomingRequest]) -> Result<Duration, String> {
    let conn = rusqlite::Connection::open(dir.join("bare.sqlite")).map_err(|e| e.to_string())?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE requests (id TEXT, channel TEXT, category TEXT, emergency INTEGER, priority INTEGER, status TEXT,
           citizen_name TEXT, citizen_phone TEXT, citizen_id_doc TEXT, people_count INTEGER, lat REAL, lon REAL,
           accuracy_m REAL, country TEXT, description TEXT, post TEXT, created_at INTEGER, updated_at INTEGER, version INTEGER);",
    )
    .map_err(|e| e.to_string())?;
    let t = Instant::now();
    let mut conn = conn;
    for chunk in rows.chunks(BATCH) {
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        {
            let mut stmt = tx
                .prepare_cached("INSERT INTO requests VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)")
                .map_err(|e| e.to_string())?;
            for r in chunk {
                let r: &HelpRequest = &r.request;
                let l = r.location.as_ref();
                stmt.execute(rusqlite::params![
                    r.id,
                    r.channel.as_str(),
                    r.category.as_str(),
                    r.emergency,
                    r.priority.rank(),
                    r.status.as_str(),
                    r.citizen.name,
                    r.citizen.phone,
                    r.citizen.id_document,
                    r.people_count,
                    l.map(|l| l.lat),
                    l.map(|l| l.lon),
                    l.and_then(|l| l.accuracy_m),
                    l.and_then(|l| l.country.clone()),
                    r.description,
                    r.post,
                    r.created_at.timestamp_millis(),
                    r.updated_at.timestamp_millis(),
                    r.version
                ])
                .map_err(|e| e.to_string())?;
            }
        }
        tx.commit().map_err(|e| e.to_string())?;
    }
    Ok(t.elapsed())
}

/// The second baseline: SQLite doing exactly the writes the store does (same schema, same
/// R*Tree, FTS and event rows, same segmented text), as bare prepared inserts without the
/// store's checks. The gap to it is the store's own overhead.
fn raw_same_schema(dir: &std::path::Path, rows: &[IncomingRequest]) -> Result<Duration, String> {
    use lifeline_core::store::search::segment_for_index;
    drop(Store::open(dir.join("raw.sqlite")).map_err(|e| e.to_string())?);
    let mut conn = rusqlite::Connection::open(dir.join("raw.sqlite")).map_err(|e| e.to_string())?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768;",
    )
    .map_err(|e| e.to_string())?;
    let e = |e: rusqlite::Error| e.to_string();
    let t = Instant::now();
    for chunk in rows.chunks(BATCH) {
        let tx = conn.transaction().map_err(e)?;
        for inc in chunk {
            let r = &inc.request;
            let l = r.location.as_ref();
            tx.prepare_cached(
                "INSERT INTO requests (id, channel, category, emergency, priority, status, is_open, triage_rank, citizen_name, \
                 citizen_phone, citizen_id_doc, people_count, lat, lon, accuracy_m, country, description, post, created_at, \
                 updated_at, version, source) VALUES (?1,?2,?3,?4,?5,?6,1,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?18,1,'raw')",
            )
            .map_err(e)?
            .execute(rusqlite::params![
                r.id, r.channel.as_str(), r.category.as_str(), r.emergency, r.priority.rank(), r.status.as_str(),
                i64::from(r.priority.rank()) + 1, r.citizen.name, r.citizen.phone, r.citizen.id_document, r.people_count,
                l.map(|l| l.lat), l.map(|l| l.lon), l.and_then(|l| l.accuracy_m), l.and_then(|l| l.country.clone()),
                r.description, r.post, r.created_at.timestamp_millis()
            ])
            .map_err(e)?;
            let rowid = tx.last_insert_rowid();
            if let Some(l) = l {
                tx.prepare_cached("INSERT INTO requests_rtree VALUES (?1, ?2, ?2, ?3, ?3)")
                    .map_err(e)?
                    .execute(rusqlite::params![rowid, l.lon, l.lat])
                    .map_err(e)?;
            }
            let (d, u1) = segment_for_index(&r.description);
            let (n, u2) = segment_for_index(&r.citizen.name);
            tx.prepare_cached("INSERT INTO requests_fts (rowid, description, name, address, notes, unigrams) VALUES (?1, ?2, ?3, '', '', ?4)")
                .map_err(e)?
                .execute(rusqlite::params![rowid, d, n, format!("{u1}{u2}")])
                .map_err(e)?;
            for ev in &inc.events {
                tx.prepare_cached("INSERT INTO case_events (event_id, request_id, kind, detail, at, origin) VALUES (?1, ?2, 'created', '{\"kind\":\"created\"}', ?3, 'sync')")
                    .map_err(e)?
                    .execute(rusqlite::params![ev.id, ev.request_id, ev.at.timestamp_millis()])
                    .map_err(e)?;
            }
        }
        tx.commit().map_err(e)?;
    }
    Ok(t.elapsed())
}

fn around(center: (f64, f64), half_w: f64, half_h: f64, rng: &mut Rng) -> BBox {
    let jitter = |r: &mut Rng, s: f64| (r.unit() - 0.5) * s;
    let (lon, lat) = (
        center.0 + jitter(rng, half_w * 0.2),
        center.1 + jitter(rng, half_h * 0.2),
    );
    BBox {
        west: (lon - half_w).max(-180.0),
        east: (lon + half_w).min(180.0),
        south: (lat - half_h).max(-90.0),
        north: (lat + half_h).min(90.0),
    }
}

fn db_bytes(dir: &std::path::Path, name: &str) -> u64 {
    ["", "-wal"]
        .iter()
        .map(|s| std::fs::metadata(dir.join(format!("{name}{s}"))).map_or(0, |m| m.len()))
        .sum()
}

/// Writes a desk store of `n` synthetic requests from the last month, for measuring the app
/// on a full store (`cargo xtask bench app`).
pub fn make_store(n: usize, path: &std::path::Path) -> Result<(), String> {
    let store = Store::open(path).map_err(|e| e.to_string())?;
    let rows = generate_from(n, Utc::now() - chrono::Duration::days(30));
    for chunk in rows.chunks(BATCH) {
        store
            .upsert_requests(chunk, "bench", None)
            .map_err(|e| e.to_string())?;
    }
    println!("{n} requests written to {}", path.display());
    Ok(())
}

pub fn run(sizes: &[usize]) -> Result<(), String> {
    for &n in sizes {
        run_size(n)?;
    }
    Ok(())
}

fn run_size(n: usize) -> Result<(), String> {
    heading(&format!(
        "store with {n} requests (synthetic, clustered around 56 cities, Chinese and English text)"
    ));
    let rows = generate(n);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;

    let bare = bare_sqlite(dir.path(), &rows)?;
    let store = Store::open(dir.path().join("store.sqlite")).map_err(|e| e.to_string())?;
    let t = Instant::now();
    for chunk in rows.chunks(BATCH) {
        store
            .upsert_requests(chunk, "bench", Some(("bench", "c")))
            .map_err(|e| e.to_string())?;
    }
    let ours = t.elapsed();
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!("batch upsert ({BATCH}/transaction, with R*Tree, FTS5, indexes and case events):");
    println!("  bare SQLite   {:>10.0} rows/s", rate(bare));
    println!(
        "  store         {:>10.0} rows/s   = {:.0}% of bare SQLite (target >= 40%)",
        rate(ours),
        100.0 * bare.as_secs_f64() / ours.as_secs_f64()
    );

    let same_schema = raw_same_schema(dir.path(), &rows)?;
    println!(
        "  raw SQLite, same schema and writes, no store logic {:>8.0} rows/s   -> store at {:.0}% of it",
        rate(same_schema),
        100.0 * same_schema.as_secs_f64() / ours.as_secs_f64()
    );
    // Checkpoint so the file size is the data, not the log.
    store.checkpoint().map_err(|e| e.to_string())?;
    let bytes = db_bytes(dir.path(), "store.sqlite");
    let bare_bytes = db_bytes(dir.path(), "bare.sqlite");
    println!(
        "bytes on disk per request: store {:.0}, bare rows {:.0}",
        bytes as f64 / n as f64,
        bare_bytes as f64 / n as f64
    );

    let mut rng = Rng::new(99);
    let bangkok = by_name("Bangkok").map_or((100.5, 13.75), |p| (p.lon, p.lat));
    let extents = [
        ("city (0.5° x 0.5°, Bangkok)", bangkok, 0.25, 0.25, 12.0),
        ("country (9° x 15°, Thailand)", (101.5, 13.0), 4.5, 7.5, 6.0),
        (
            "continent (90° x 65°, Asia)",
            (105.0, 22.5),
            45.0,
            32.5,
            3.0,
        ),
    ];
    let t = Instant::now();
    store.enable_index().map_err(|e| e.to_string())?;
    println!(
        "in-memory request index built from the store in {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    println!("viewport queries on open requests, {QUERIES} jittered boxes each:");
    println!("  (desk path = in-memory index; SQL path = R*Tree + table, what the CLI uses)");
    let open = RequestQuery::open();
    for (name, center, hw, hh, zoom) in extents {
        let (mut desk, mut clusters, mut sql_page, mut sql_count) = (
            Samples::default(),
            Samples::default(),
            Samples::default(),
            Samples::default(),
        );
        let mut matched = 0;
        for _ in 0..QUERIES {
            let bbox = around(center, hw, hh, &mut rng);
            let q = RequestQuery {
                bbox: Some(bbox),
                limit: Some(100),
                ..open.clone()
            };
            let t = Instant::now();
            let (total, _rows) = store.indexed_page(&q).map_err(|e| e.to_string())?;
            desk.push(t.elapsed());
            matched = total;
            let t = Instant::now();
            store
                .viewport_clusters(&bbox, zoom, 60.0, &open, Utc::now())
                .map_err(|e| e.to_string())?;
            clusters.push(t.elapsed());
            let t = Instant::now();
            store.query_requests(&q).map_err(|e| e.to_string())?;
            sql_page.push(t.elapsed());
            let t = Instant::now();
            store
                .count_requests(&RequestQuery {
                    bbox: Some(bbox),
                    ..open.clone()
                })
                .map_err(|e| e.to_string())?;
            sql_count.push(t.elapsed());
        }
        println!("  {name}: ~{matched} matching");
        println!("    desk: count + first 100 rows   {}", desk.summary());
        println!("    desk: map clusters             {}", clusters.summary());
        println!("    SQL: first 100 rows            {}", sql_page.summary());
        println!("    SQL: count                     {}", sql_count.summary());
    }

    println!("queue (no box), open requests, 100 rows at a random scroll position:");
    let mut queue = Samples::default();
    for _ in 0..QUERIES {
        let offset = (rng.unit() * (n as f64 * 0.5)) as u32;
        let t = Instant::now();
        store
            .indexed_page(&RequestQuery {
                limit: Some(100),
                offset,
                ..open.clone()
            })
            .map_err(|e| e.to_string())?;
        queue.push(t.elapsed());
    }
    println!("  desk: count + 100 rows         {}", queue.summary());

    println!("text search, count + first 100 (Chinese and English words, names):");
    let words = [
        "护照",
        "地震",
        "救援",
        "医院",
        "撤离",
        "passport",
        "earthquake",
        "hospital",
        "evacuation",
        "王伟",
        "震",
        "robbed",
    ];
    let (mut desk, mut ranked) = (Samples::default(), Samples::default());
    for i in 0..QUERIES {
        let text = words[i % words.len()].to_owned();
        let t = Instant::now();
        store
            .indexed_page(&RequestQuery {
                text: Some(text.clone()),
                limit: Some(100),
                ..Default::default()
            })
            .map_err(|e| e.to_string())?;
        desk.push(t.elapsed());
        let t = Instant::now();
        store
            .query_requests(&RequestQuery {
                text: Some(text),
                limit: Some(100),
                order: RequestOrder::Relevance,
                ..Default::default()
            })
            .map_err(|e| e.to_string())?;
        ranked.push(t.elapsed());
    }
    println!("  desk: queue order (FTS5 + index)   {}", desk.summary());
    println!("  SQL: by relevance (bm25)           {}", ranked.summary());
    Ok(())
}
