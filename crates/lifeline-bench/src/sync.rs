//! The sync engine against a real hub over HTTP on 127.0.0.1:
//!
//! * the initial sync of N requests, against the store's own batch upsert of the very same
//!   pages (parsed beforehand) in the same run, and against fetching the pages alone;
//! * the latency from an intake `POST` at the hub to the record committed in the desk's
//!   store, over a burst of intakes, with the desk following the hub's event stream.
//!
//! The hub runs in this process (the library the `lifeline-hub` binary serves), on its own
//! SQLite file; the desk side is the engine and store the desk app uses, with the map index on.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use lifeline_core::Store;
use lifeline_core::model::Origin;
use lifeline_core::protocol::{WirePage, WireRequest};
use lifeline_core::store::IncomingRequest;
use lifeline_core::synth::{Rng, request_anywhere};
use lifeline_hub::store::{HubStore, SqliteHubStore};
use lifeline_hub::{HubConfig, drill};
use lifeline_sync::{Stop, SyncEngine, SyncEvent};

use crate::stats::{Samples, heading};

const TOKEN: &str = "bench-token";
const PAGE: u32 = 500;
/// In-flight intakes during the burst: the hotline and chat front ends post concurrently.
const BURST_CONCURRENCY: usize = 16;

type BenchResult<T = ()> = Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

pub fn run(requests: usize, burst: usize) -> BenchResult {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(err)?;
    runtime.block_on(async {
        let dir = tempfile::tempdir().map_err(err)?;
        heading(&format!(
            "sync: initial sync of {requests} requests from a local hub"
        ));
        seed_hub(&dir.path().join("hub.sqlite"), requests)?;
        let hub = lifeline_hub::start(HubConfig {
            db: dir.path().join("hub.sqlite"),
            listen: "127.0.0.1:0".parse().map_err(err)?,
            tokens: vec![TOKEN.into()],
            drill: None,
        })
        .await
        .map_err(err)?;
        let url = format!("http://{}", hub.addr);
        let desk = initial_sync(dir.path(), &url, requests).await?;
        heading(&format!(
            "sync: intake POST at the hub → committed in the desk's store ({burst} intakes, {BURST_CONCURRENCY} in flight)"
        ));
        intake_latency(desk, &url, burst).await?;
        let _ = hub.stop.send(());
        Ok(())
    })
}

/// Fills the hub's own store through its intake path, as the hotline would over time.
fn seed_hub(db: &Path, n: usize) -> BenchResult {
    let t = Instant::now();
    let store = SqliteHubStore::open(db).map_err(err)?;
    let mut rng = Rng::new(7);
    let now = Utc::now();
    for i in 0..n {
        let at = now - chrono::Duration::seconds((n - i) as i64);
        let request = request_anywhere(&mut rng, format!("seed-{i:07}"), at);
        store.intake(drill::intake_of(request), at).map_err(err)?;
    }
    println!(
        "  hub seeded with {n} requests in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

fn open_desk_store(path: &Path) -> BenchResult<Arc<Store>> {
    let store = Store::open(path).map_err(err)?;
    store.enable_index().map_err(err)?;
    Ok(Arc::new(store))
}

async fn initial_sync(dir: &Path, url: &str, n: usize) -> BenchResult<Arc<Store>> {
    // The engine: HTTP, JSON, validation, upsert with cursor, per page.
    let desk = open_desk_store(&dir.join("desk.sqlite"))?;
    let engine = SyncEngine::builder(Arc::clone(&desk))
        .hub(url, TOKEN)
        .desk("bench")
        .page_size(PAGE)
        .build()
        .map_err(err)?;
    // As in the desk: the query indexer runs beside sync.
    let indexer = desk.spawn_indexer();
    let t = Instant::now();
    let report = engine.sync_once().await.map_err(err)?;
    let sync = t.elapsed();
    if report.pulled != n as u64 {
        return Err(format!("the desk pulled {} of {n} requests", report.pulled));
    }
    while !desk.index_lag().map_err(err)?.is_caught_up() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let searchable = t.elapsed();
    drop(indexer);

    // Baselines on the same pages: fetching them alone, then the store's batch upsert alone.
    let t = Instant::now();
    let pages = fetch_all_pages(url).await?;
    let fetch = t.elapsed();
    let batches: Vec<(Vec<IncomingRequest>, String)> = pages
        .into_iter()
        .map(|page| {
            let batch = page
                .requests
                .into_iter()
                .filter_map(|v| serde_json::from_value::<WireRequest>(v).ok())
                .filter_map(|w| w.into_domain(Origin::Sync).ok())
                .map(|(request, events)| IncomingRequest { request, events })
                .collect();
            (batch, page.next_cursor)
        })
        .collect();
    let baseline = open_desk_store(&dir.join("baseline.sqlite"))?;
    let t = Instant::now();
    let mut upserted = 0usize;
    for (batch, cursor) in &batches {
        baseline
            .upsert_requests(batch, url, Some((url, cursor)))
            .map_err(err)?;
        upserted += batch.len();
    }
    let upsert = t.elapsed();
    if upserted != n {
        return Err(format!("the baseline parsed {upserted} of {n} requests"));
    }

    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "  initial sync (engine, pages of {PAGE}): {:>9.0} req/s   ({:.1} s)",
        rate(sync),
        sync.as_secs_f64()
    );
    println!(
        "  store batch upsert, same pages:        {:>9.0} req/s   → sync at {:.0}% of the store's rate",
        rate(upsert),
        100.0 * upsert.as_secs_f64() / sync.as_secs_f64()
    );
    println!(
        "  fetching the pages alone (HTTP+JSON):  {:>9.0} req/s",
        rate(fetch)
    );
    println!(
        "  all of it searchable (query index caught up) {:.1} s after the sync started, {:.1} s after it ended",
        searchable.as_secs_f64(),
        (searchable - sync).as_secs_f64()
    );
    Ok(desk)
}

async fn fetch_all_pages(url: &str) -> BenchResult<Vec<WirePage>> {
    let client = reqwest::Client::new();
    let mut pages = Vec::new();
    let mut after = String::new();
    loop {
        let page: WirePage = client
            .get(format!("{url}/v1/requests"))
            .query(&[("after", after.as_str()), ("limit", &PAGE.to_string())])
            .bearer_auth(TOKEN)
            .send()
            .await
            .map_err(err)?
            .error_for_status()
            .map_err(err)?
            .json()
            .await
            .map_err(err)?;
        after = page.next_cursor.clone();
        let more = page.has_more;
        pages.push(page);
        if !more {
            return Ok(pages);
        }
    }
}

async fn intake_latency(desk: Arc<Store>, url: &str, burst: usize) -> BenchResult {
    let committed: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let seen = Arc::clone(&committed);
    let engine = SyncEngine::builder(desk)
        .hub(url, TOKEN)
        .desk("bench")
        .page_size(PAGE)
        .on_event(move |event| {
            // Sent after the transaction that stored the records has committed.
            if let SyncEvent::RequestsChanged { ids, .. } = event {
                let now = Instant::now();
                if let Ok(mut seen) = seen.lock() {
                    for id in ids {
                        seen.entry(id.clone()).or_insert(now);
                    }
                }
            }
        })
        .build()
        .map_err(err)?;
    let (stop_handle, stop) = Stop::new();
    let engine = Arc::new(engine);
    let running = {
        let engine = Arc::clone(&engine);
        tokio::spawn(async move { engine.run(stop).await })
    };
    // Let the engine catch up and open its stream before the burst starts.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let client = reqwest::Client::new();
    let limit = Arc::new(tokio::sync::Semaphore::new(BURST_CONCURRENCY));
    let mut posts = Vec::with_capacity(burst);
    let mut rng = Rng::new(11);
    for i in 0..burst {
        let id = format!("burst-{i:05}");
        let mut body = drill::intake_of(request_anywhere(&mut rng, id.clone(), Utc::now()));
        // The front end names its request, so the desk's copy can be matched to this post.
        body.id = Some(id.clone());
        let (client, limit, url) = (client.clone(), Arc::clone(&limit), url.to_owned());
        posts.push(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await.map_err(err)?;
            let sent = Instant::now();
            let status = client
                .post(format!("{url}/v1/requests"))
                .bearer_auth(TOKEN)
                .json(&body)
                .send()
                .await
                .map_err(err)?
                .status();
            if !status.is_success() {
                return Err(format!("intake of {id} answered {status}"));
            }
            Ok::<_, String>((id, sent))
        }));
    }
    let mut sent_at = Vec::with_capacity(burst);
    for post in posts {
        sent_at.push(post.await.map_err(err)??);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = committed
            .lock()
            .map(|c| sent_at.iter().all(|(id, _)| c.contains_key(id)))
            .unwrap_or(false);
        if done {
            break;
        }
        if Instant::now() > deadline {
            let arrived = committed
                .lock()
                .map(|c| sent_at.iter().filter(|(id, _)| c.contains_key(id)).count())
                .unwrap_or(0);
            return Err(format!(
                "{arrived} of {burst} intakes reached the desk within 60 s"
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop_handle.stop();
    let _ = running.await;

    let committed = committed.lock().map_err(err)?;
    let mut samples = Samples::default();
    for (id, sent) in &sent_at {
        if let Some(at) = committed.get(id) {
            samples.push(at.saturating_duration_since(*sent));
        }
    }
    println!("  intake → committed: {}", samples.summary());
    println!("  target: p99 under 1000 ms");
    Ok(())
}
