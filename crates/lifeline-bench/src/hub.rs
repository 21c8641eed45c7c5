//! The hub at ministry scale: its PostgreSQL backend against its SQLite backend, in one run.
//!
//! * intake rate (`POST /v1/requests`, 16 in flight) and a desk's initial sync rate, each on
//!   a hub on a SQLite file and on a PostgreSQL database;
//! * a change-feed page (500 records after a random cursor) with 10^6 requests in the hub,
//!   on both backends;
//! * then, on the PostgreSQL database of 10^6 requests, two replicas as processes with 200
//!   event streams spread over them and desks following, a sustained intake, and one replica
//!   killed with `kill -9` midway (`replicas.rs`).
//!
//! The PostgreSQL server is one of the hub's own throwaway servers (`dev_postgres`), in a
//! temporary folder. The 10^6 requests are written by SQL straight into each store (one real
//! record repeated under new ids, with its case event): going through intake would take this
//! machine most of an hour, and a page costs the same whatever its records say.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use lifeline_core::model::{CaseEvent, CaseEventKind, Origin};
use lifeline_core::protocol::{WireEvent, WireRequest};
use lifeline_core::synth::{Rng, request_anywhere};
use lifeline_hub::HubConfig;
use lifeline_hub::dev_postgres::DevPostgres;
use lifeline_hub::store::HubDb;
use lifeline_sync::SyncEngine;

use crate::stats::{Samples, heading};

pub const TOKEN: &str = "bench-token";
/// Intakes in flight: the hotline and chat front ends post concurrently.
const CONCURRENCY: usize = 16;

type BenchResult<T = ()> = Result<T, String>;

pub fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Sizes of one run.
#[derive(Debug, Clone, Copy)]
pub struct HubBench {
    /// Requests in the hub for the page figure and the replica run.
    pub requests: usize,
    /// Intakes for the rate figures (and then the initial sync of them).
    pub intakes: usize,
    /// Event streams open over the replicas.
    pub streams: usize,
    /// Seconds of sustained intake in the replica run.
    pub seconds: u64,
}

struct Figures {
    intake_rate: f64,
    sync_rate: f64,
    page: Samples,
}

pub fn run(sizes: HubBench) -> BenchResult {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(err)?;
    let dir = tempfile::tempdir().map_err(err)?;
    // A folder of its own under the system's temporary folder: as root, the server runs as
    // the `postgres` user, who cannot enter this run's folder.
    let pg_dir = tempfile::Builder::new()
        .prefix("lifeline-bench-pg-")
        .tempdir()
        .map_err(err)?
        .keep();
    let pg = DevPostgres::start(&pg_dir, 0)?;
    pg.stop_when_gone(std::process::id())?;
    let result = runtime.block_on(async {
        let sqlite = HubDb::Sqlite(dir.path().join("hub.sqlite"));
        let url = pg.database("bench")?;
        let postgres = HubDb::from_arg(&url, None).map_err(err)?;
        let on_sqlite = backend("SQLite", &sqlite, dir.path(), sizes, &pg).await?;
        let on_postgres = backend("PostgreSQL", &postgres, dir.path(), sizes, &pg).await?;
        heading("hub: PostgreSQL backend against SQLite backend, same run");
        println!(
            "  intake:        {:>7.0} req/s against {:>7.0} req/s → {:.2}×",
            on_postgres.intake_rate,
            on_sqlite.intake_rate,
            on_postgres.intake_rate / on_sqlite.intake_rate
        );
        println!(
            "  initial sync:  {:>7.0} req/s against {:>7.0} req/s → {:.2}×",
            on_postgres.sync_rate,
            on_sqlite.sync_rate,
            on_postgres.sync_rate / on_sqlite.sync_rate
        );
        println!(
            "  feed page at {}: p99 {:.1} ms against {:.1} ms → {:.2}× (p50 {:.1} against {:.1} ms)",
            sizes.requests,
            on_postgres.page.percentile(99.0),
            on_sqlite.page.percentile(99.0),
            on_postgres.page.percentile(99.0) / on_sqlite.page.percentile(99.0),
            on_postgres.page.percentile(50.0),
            on_sqlite.page.percentile(50.0),
        );
        crate::replicas::run(&url, sizes, dir.path()).await
    });
    let _ = pg.stop();
    result
}

/// Intake rate, initial sync rate and page latency on one backend.
async fn backend(
    name: &str,
    db: &HubDb,
    dir: &Path,
    sizes: HubBench,
    pg: &DevPostgres,
) -> BenchResult<Figures> {
    heading(&format!(
        "hub on {name}: {} intakes, then a desk's initial sync",
        sizes.intakes
    ));
    let mut config = HubConfig::new(dir.join("unused"), "127.0.0.1:0".parse().map_err(err)?);
    config.db = db.clone();
    config.dev_tokens = vec![TOKEN.into()];
    let hub = lifeline_hub::start(config).await.map_err(err)?;
    let url = hub.url();
    let intake_rate = intake(&url, "I", sizes.intakes).await?;
    println!("  intake: {intake_rate:.0} req/s");
    let sync_rate = initial_sync(
        &url,
        &dir.join(format!("desk-{name}.sqlite")),
        sizes.intakes,
    )
    .await?;
    println!("  initial sync: {sync_rate:.0} req/s");
    let _ = hub.stop.send(());
    let _ = hub.task.await;

    heading(&format!(
        "hub on {name}: a change-feed page with {} requests",
        sizes.requests
    ));
    let t = Instant::now();
    fill(db, pg, sizes.requests)?;
    println!(
        "  {} requests written into the store in {:.1} s",
        sizes.requests,
        t.elapsed().as_secs_f64()
    );
    let mut config = HubConfig::new(dir.join("unused"), "127.0.0.1:0".parse().map_err(err)?);
    config.db = db.clone();
    config.dev_tokens = vec![TOKEN.into()];
    let hub = lifeline_hub::start(config).await.map_err(err)?;
    let page = pages(&hub.url(), sizes.intakes + sizes.requests).await?;
    println!("  page of 500 after a random cursor: {}", page.summary());
    let _ = hub.stop.send(());
    let _ = hub.task.await;
    Ok(Figures {
        intake_rate,
        sync_rate,
        page,
    })
}

/// A request for intake under `id`, as the hotline posts one.
pub fn intake_body(rng: &mut Rng, id: &str) -> String {
    let request = request_anywhere(rng, id.to_owned(), Utc::now());
    let mut intake = lifeline_hub::drill::intake_of(request);
    intake.id = Some(id.to_owned());
    serde_json::to_string(&intake).unwrap_or_default()
}

/// Posts `n` intakes, [`CONCURRENCY`] in flight; requests a second.
async fn intake(url: &str, prefix: &str, n: usize) -> BenchResult<f64> {
    let client = reqwest::Client::new();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..CONCURRENCY {
        let (client, next, url, prefix) = (
            client.clone(),
            Arc::clone(&next),
            url.to_owned(),
            prefix.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(w as u64 + 1);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return Ok::<(), String>(());
                }
                let status = client
                    .post(format!("{url}/v1/requests"))
                    .bearer_auth(TOKEN)
                    .header("content-type", "application/json")
                    .body(intake_body(&mut rng, &format!("{prefix}-{i:07}")))
                    .send()
                    .await
                    .map_err(err)?
                    .status();
                if status.as_u16() != 201 {
                    return Err(format!("intake answered {status}"));
                }
            }
        }));
    }
    for task in tasks {
        task.await.map_err(err)??;
    }
    Ok(n as f64 / t.elapsed().as_secs_f64())
}

/// A new desk's first sync of everything at the hub; requests a second.
async fn initial_sync(url: &str, desk: &Path, n: usize) -> BenchResult<f64> {
    let store = Arc::new(lifeline_core::Store::open(desk).map_err(err)?);
    let engine = SyncEngine::builder(Arc::clone(&store))
        .hub(url, TOKEN)
        .desk("bench")
        .page_size(500)
        .build()
        .map_err(err)?;
    let t = Instant::now();
    let report = engine.sync_once().await.map_err(err)?;
    if report.pulled != n as u64 {
        return Err(format!("the desk pulled {} of {n} requests", report.pulled));
    }
    Ok(n as f64 / t.elapsed().as_secs_f64())
}

/// The hub's database instance, the first part of its cursors.
pub async fn instance(client: &reqwest::Client, url: &str) -> BenchResult<String> {
    let health: serde_json::Value = client
        .get(format!("{url}/v1/health"))
        .send()
        .await
        .map_err(err)?
        .json()
        .await
        .map_err(err)?;
    Ok(health["instance"].as_str().unwrap_or_default().to_owned())
}

/// 200 pages of 500 after random cursors in `0..head`.
async fn pages(url: &str, head: usize) -> BenchResult<Samples> {
    let client = reqwest::Client::new();
    let instance = instance(&client, url).await?;
    let mut rng = Rng::new(11);
    let mut samples = Samples::default();
    for _ in 0..200 {
        let after = rng.below(head.saturating_sub(500).max(1));
        let t = Instant::now();
        let body = client
            .get(format!(
                "{url}/v1/requests?limit=500&after={instance}.{after}"
            ))
            .bearer_auth(TOKEN)
            .send()
            .await
            .map_err(err)?
            .error_for_status()
            .map_err(err)?
            .bytes()
            .await
            .map_err(err)?;
        samples.push(t.elapsed());
        if body.len() < 1000 {
            return Err(format!("a short page after {after}: {} bytes", body.len()));
        }
    }
    Ok(samples)
}

/// One real record and its `created` event, with `@ID@` where the id goes.
fn templates() -> BenchResult<(String, String)> {
    let mut rng = Rng::new(3);
    let request = request_anywhere(&mut rng, "@ID@".into(), Utc::now());
    let record = serde_json::to_string(&WireRequest::from_domain(&request, &[])).map_err(err)?;
    let created = CaseEvent {
        id: "@ID@.created".into(),
        request_id: "@ID@".into(),
        kind: CaseEventKind::Created,
        actor: Some("intake (bench)".into()),
        at: Utc::now(),
        origin: Origin::Sync,
    };
    let event = serde_json::to_string(&WireEvent {
        id: created.id,
        kind: created.kind,
        actor: created.actor,
        at: created.at,
    })
    .map_err(err)?;
    Ok((record, event))
}

/// Writes `n` more requests straight into the store, numbered after what is there.
fn fill(db: &HubDb, pg: &DevPostgres, n: usize) -> BenchResult {
    let (record, event) = templates()?;
    let now = Utc::now().timestamp_millis();
    match db {
        HubDb::Sqlite(path) => {
            let conn = rusqlite::Connection::open(path).map_err(err)?;
            let head: i64 = conn
                .query_row(
                    "SELECT coalesce(max(change_seq), 0) FROM requests",
                    [],
                    |r| r.get(0),
                )
                .map_err(err)?;
            conn.execute_batch("BEGIN").map_err(err)?;
            conn.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) \
                 INSERT INTO requests (id, version, change_seq, record, created_at, post, intake_by) \
                 SELECT printf('B-%08d', i), 1, ?2 + i, replace(?3, '@ID@', printf('B-%08d', i)), ?4, NULL, 'bench' FROM n",
                rusqlite::params![n as i64, head, record, now],
            )
            .map_err(err)?;
            conn.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) \
                 INSERT INTO events (event_id, request_id, body) \
                 SELECT printf('B-%08d.created', i), printf('B-%08d', i), replace(?2, '@ID@', printf('B-%08d', i)) FROM n",
                rusqlite::params![n as i64, event],
            )
            .map_err(err)?;
            conn.execute_batch("COMMIT").map_err(err)?;
        }
        HubDb::Postgres(_) => {
            let quote = |s: &str| s.replace('\'', "''");
            let id = "'B-' || lpad(i::TEXT, 8, '0')";
            pg.psql(
                "bench",
                &format!(
                    "BEGIN; \
                     INSERT INTO requests (id, version, change_seq, record, created_at, post, intake_by) \
                     SELECT {id}, 1, (SELECT head FROM feed) + i, replace('{record}', '@ID@', {id}), {now}, NULL, 'bench' \
                     FROM generate_series(1, {n}) AS i; \
                     INSERT INTO events (event_id, request_id, body) \
                     SELECT {id} || '.created', {id}, replace('{event}', '@ID@', {id}) FROM generate_series(1, {n}) AS i; \
                     UPDATE feed SET head = head + {n}; COMMIT; ANALYZE;",
                    record = quote(&record),
                    event = quote(&event),
                ),
            )?;
        }
    }
    Ok(())
}
