//! The store at 10^5 and 10^6 requests: upsert rate against bare SQLite inserting the same
//! rows, how fast the derived query index catches up and how soon everything is searchable,
//! viewport and text search latency, map clustering latency, bytes on disk per request.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use lifeline_core::Store;
use lifeline_core::geo::BBox;
use lifeline_core::geo::places::by_name;
use lifeline_core::model::{CaseEvent, CaseEventKind, HelpRequest, Origin};
use lifeline_core::protocol::WireAttachment;
use lifeline_core::store::{IncomingRequest, RequestOrder, RequestQuery};
use lifeline_core::synth::{Rng, request_anywhere};

use crate::stats::{Samples, heading};

pub(crate) const BATCH: usize = 1000;
pub(crate) const QUERIES: usize = 200;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// Synthetic requests arriving over a month, each with its `created` event, as sync brings them.
pub(crate) fn generate(n: usize) -> Vec<IncomingRequest> {
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

/// The baseline: bare SQLite inserting the same rows the store writes — each request row
/// with all its columns, and its case-event rows — into plain tables (no key, no index, no
/// trigger), prepared statements, same batch size, same pragmas.
fn bare_same_rows(dir: &std::path::Path, rows: &[IncomingRequest]) -> Result<Duration, String> {
    let mut conn =
        rusqlite::Connection::open(dir.join("bare.sqlite")).map_err(|e| e.to_string())?;
    let e = |e: rusqlite::Error| e.to_string();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE requests (id, channel, category, emergency, priority, status, is_open, triage_rank, duplicate_of,
           citizen_name, citizen_phone, citizen_id_doc, citizen_nationality, citizen_language, people_count, lat, lon,
           accuracy_m, located_at, address, country, description, attachments, assignee, post, created_at, updated_at,
           version, local_state, source);
         CREATE TABLE case_events (event_id, request_id, kind, detail, actor, at, origin);",
    )
    .map_err(e)?;
    let t = Instant::now();
    for chunk in rows.chunks(BATCH) {
        let tx = conn.transaction().map_err(e)?;
        let mut insert_request = tx
            .prepare(
                "INSERT INTO requests VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,\
                 ?21,?22,?23,?24,?25,?26,?27,?28,?29,?30)",
            )
            .map_err(e)?;
        let mut insert_event = tx
            .prepare("INSERT INTO case_events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .map_err(e)?;
        for inc in chunk {
            let r: &HelpRequest = &inc.request;
            let l = r.location.as_ref();
            let attachments: Vec<WireAttachment> =
                r.attachments.iter().map(WireAttachment::from).collect();
            let attachments = serde_json::to_string(&attachments).map_err(|x| x.to_string())?;
            let rank = if r.emergency {
                0
            } else {
                1 + i64::from(r.priority.rank())
            };
            insert_request
                .execute(rusqlite::params![
                    r.id,
                    r.channel.as_str(),
                    r.category.as_str(),
                    r.emergency,
                    r.priority.rank(),
                    r.status.as_str(),
                    r.status.is_open(),
                    rank,
                    r.duplicate_of,
                    r.citizen.name,
                    r.citizen.phone,
                    r.citizen.id_document,
                    r.citizen.nationality,
                    r.citizen.language,
                    r.people_count,
                    l.map(|l| l.lat),
                    l.map(|l| l.lon),
                    l.and_then(|l| l.accuracy_m),
                    l.and_then(|l| l.captured_at).map(|t| t.timestamp_millis()),
                    l.and_then(|l| l.address.clone()),
                    l.and_then(|l| l.country.clone()),
                    r.description,
                    attachments,
                    r.assignee,
                    r.post,
                    r.created_at.timestamp_millis(),
                    r.updated_at.timestamp_millis(),
                    r.version,
                    "synced",
                    "bench"
                ])
                .map_err(e)?;
            for ev in &inc.events {
                let detail = serde_json::to_string(&ev.kind).map_err(|x| x.to_string())?;
                insert_event
                    .execute(rusqlite::params![
                        ev.id,
                        ev.request_id,
                        ev.kind.name(),
                        detail,
                        ev.actor,
                        ev.at.timestamp_millis(),
                        ev.origin.as_str()
                    ])
                    .map_err(e)?;
            }
        }
        drop((insert_request, insert_event));
        tx.commit().map_err(e)?;
    }
    Ok(t.elapsed())
}

/// The narrower baseline earlier figures used: 19 of the request columns into a plain
/// table, no case events. Printed for comparison with docs/PERFORMANCE.md's history.
fn bare_request_columns(
    dir: &std::path::Path,
    rows: &[IncomingRequest],
) -> Result<Duration, String> {
    let mut conn =
        rusqlite::Connection::open(dir.join("bare19.sqlite")).map_err(|e| e.to_string())?;
    let e = |e: rusqlite::Error| e.to_string();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE requests (id TEXT, channel TEXT, category TEXT, emergency INTEGER, priority INTEGER, status TEXT,
           citizen_name TEXT, citizen_phone TEXT, citizen_id_doc TEXT, people_count INTEGER, lat REAL, lon REAL,
           accuracy_m REAL, country TEXT, description TEXT, post TEXT, created_at INTEGER, updated_at INTEGER, version INTEGER);",
    )
    .map_err(e)?;
    let t = Instant::now();
    for chunk in rows.chunks(BATCH) {
        let tx = conn.transaction().map_err(e)?;
        {
            let mut stmt = tx
                .prepare_cached("INSERT INTO requests VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)")
                .map_err(e)?;
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
                .map_err(e)?;
            }
        }
        tx.commit().map_err(e)?;
    }
    Ok(t.elapsed())
}

/// The design before the derived index: every index written inline, in the sync
/// transaction (schema 2's R*Tree, FTS5 and five secondary indexes, case events with two
/// keys), as bare prepared statements. What "searchable" used to cost.
fn inline_indexes(dir: &std::path::Path, rows: &[IncomingRequest]) -> Result<Duration, String> {
    use lifeline_core::store::search::segment_for_index;
    let mut conn =
        rusqlite::Connection::open(dir.join("inline.sqlite")).map_err(|e| e.to_string())?;
    let e = |e: rusqlite::Error| e.to_string();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768;",
    )
    .map_err(e)?;
    conn.execute_batch(include_str!(
        "../../lifeline-core/migrations/0001_initial.sql"
    ))
    .map_err(e)?;
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
            tx.prepare_cached("INSERT INTO requests_fts (rowid, description, name, address, notes, ref, unigrams) VALUES (?1, ?2, ?3, '', '', ?4, ?5)")
                .map_err(e)?
                .execute(rusqlite::params![rowid, d, n, r.id, format!("{u1}{u2}")])
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

/// Waits until the store's derived index has caught up with everything written.
pub(crate) fn wait_until_indexed(store: &Store) -> Result<(), String> {
    while !store.index_lag().map_err(|e| e.to_string())?.is_caught_up() {
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

pub(crate) fn around(center: (f64, f64), half_w: f64, half_h: f64, rng: &mut Rng) -> BBox {
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
    // As a desk that has been running leaves it: indexed, the logs checkpointed.
    store.catch_up_index().map_err(|e| e.to_string())?;
    store.checkpoint().map_err(|e| e.to_string())?;
    println!(
        "{n} requests written to {} (query index {})",
        path.display(),
        store.derived_index_path().display()
    );
    Ok(())
}

pub fn run(sizes: &[usize]) -> Result<(), String> {
    for &n in sizes {
        run_size(n)?;
        crate::encryption::encrypted_against_plaintext(n)?;
    }
    Ok(())
}

fn run_size(n: usize) -> Result<(), String> {
    heading(&format!(
        "store with {n} requests (synthetic, clustered around 56 cities, Chinese and English text)"
    ));
    let rows = generate(n);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    let pct = |base: Duration, ours: Duration| 100.0 * base.as_secs_f64() / ours.as_secs_f64();

    let bare = bare_same_rows(dir.path(), &rows)?;
    let bare19 = bare_request_columns(dir.path(), &rows)?;
    // The store's upsert alone: rows, id keys, case events, change triggers. Nothing indexes
    // meanwhile, so this is the write path by itself.
    let store = Store::open(dir.path().join("store.sqlite")).map_err(|e| e.to_string())?;
    let t = Instant::now();
    for chunk in rows.chunks(BATCH) {
        store
            .upsert_requests(chunk, "bench", Some(("bench", "c")))
            .map_err(|e| e.to_string())?;
    }
    let ours = t.elapsed();
    // Then the derived index, from nothing.
    let t = Instant::now();
    store.catch_up_index().map_err(|e| e.to_string())?;
    let catch_up = t.elapsed();
    // As the desk runs it: the indexer on its own thread while the upserts go on, until
    // everything is searchable.
    let live = std::sync::Arc::new(
        Store::open(dir.path().join("live.sqlite")).map_err(|e| e.to_string())?,
    );
    let indexer = live.spawn_indexer();
    let t = Instant::now();
    for chunk in rows.chunks(BATCH) {
        live.upsert_requests(chunk, "bench", Some(("bench", "c")))
            .map_err(|e| e.to_string())?;
    }
    let live_upserts = t.elapsed();
    wait_until_indexed(&live)?;
    let live_searchable = t.elapsed();
    drop(indexer);
    drop(live);
    let inline = inline_indexes(dir.path(), &rows)?;

    println!("batch upsert ({BATCH}/transaction):");
    println!(
        "  bare SQLite, the same rows (requests, all columns, + case events), no keys {:>9.0} rows/s",
        rate(bare)
    );
    println!(
        "  bare SQLite, 19 request columns only (the earlier baseline)              {:>9.0} rows/s",
        rate(bare19)
    );
    println!(
        "  store upsert (rows, id key, case events, change log)                     {:>9.0} rows/s   = {:.0}% of bare (target >= 40%); {:.0}% of the 19-column baseline",
        rate(ours),
        pct(bare, ours),
        pct(bare19, ours)
    );
    println!(
        "  derived query index catching up from nothing (FTS5, R*Tree, filter keys) {:>9.0} rows/s",
        rate(catch_up)
    );
    println!(
        "  upserts with the indexer running alongside (as in the desk)              {:>9.0} rows/s   = {:.0}% of bare",
        rate(live_upserts),
        pct(bare, live_upserts)
    );
    println!(
        "    ... until all of it is searchable                                      {:>9.0} rows/s   ({:.1} s after the last upsert)",
        rate(live_searchable),
        (live_searchable - live_upserts).as_secs_f64()
    );
    println!(
        "  every index inline in the sync transaction (the design before)           {:>9.0} rows/s   -> searchable {:.1}x sooner now",
        rate(inline),
        inline.as_secs_f64() / live_searchable.as_secs_f64()
    );
    // Checkpoint so the file size is the data, not the log.
    store.checkpoint().map_err(|e| e.to_string())?;
    let bytes = db_bytes(dir.path(), "store.sqlite") + db_bytes(dir.path(), "store.index.sqlite");
    let bare_bytes = db_bytes(dir.path(), "bare.sqlite");
    println!(
        "bytes on disk per request: store {:.0} (of which query index {:.0}), bare rows {:.0}",
        bytes as f64 / n as f64,
        db_bytes(dir.path(), "store.index.sqlite") as f64 / n as f64,
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
    let built = t.elapsed().as_secs_f64() * 1000.0;
    println!("in-memory request index built from the store in {built:.0} ms");
    // A later start: the desk saved the index's snapshot, and reads it instead.
    let t = Instant::now();
    store.save_index_snapshot().map_err(|e| e.to_string())?;
    println!(
        "  its snapshot saved in {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    {
        let later = Store::open(store.path()).map_err(|e| e.to_string())?;
        let t = Instant::now();
        let how = later.enable_index().map_err(|e| e.to_string())?;
        let from_snapshot = t.elapsed().as_secs_f64() * 1000.0;
        println!(
            "  a later start, from the snapshot: {from_snapshot:.0} ms ({how:?}) = {:.2}x the build from the store",
            from_snapshot / built
        );
    }
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
