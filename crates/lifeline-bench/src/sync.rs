//! The sync engine against a real hub over HTTP on 127.0.0.1:
//!
//! * the initial sync of N requests, against the store's own batch upsert of the very same
//!   pages (parsed beforehand) in the same run, and against fetching the pages alone;
//! * the latency from an intake `POST` at the hub to the record committed in the desk's
//!   store, over a burst of intakes, with the desk following the hub's event stream.
//!
//! The hub runs in this process (the library the `lifeline-hub` binary serves), on its own
//! SQLite file; the desk side is the engine and store the desk app uses, with the map index on.
//!
//! Both figures are measured twice in one run: over plain HTTP on loopback with a fixed
//! token, and as a deployment runs — HTTPS with a certificate from a local CA, the desk
//! signed in as an officer (sessions checked on every request, the audit trail written for
//! every page), intake through a channel credential — and printed as ratios.

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
use lifeline_hub::store::{
    Accounts, CredentialKind, NewOfficer, PostScope, Requests, Role, SqliteHubStore,
};
use lifeline_hub::{HubConfig, TlsPaths, drill};
use lifeline_sync::{HubAuth, SessionAuth, Stop, SyncEngine, SyncEvent};

use crate::stats::{Samples, heading};

const TOKEN: &str = "bench-token";
const PAGE: u32 = 500;
/// In-flight intakes during the burst: the hotline and chat front ends post concurrently.
const BURST_CONCURRENCY: usize = 16;

type BenchResult<T = ()> = Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// How the hub is reached in one half of the run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Plain HTTP on loopback, a development token.
    Plain,
    /// HTTPS, an officer's session for the desk, a channel's credential for intake.
    Secure,
}

/// Everything a client needs to reach the hub in a mode.
struct Reach {
    url: String,
    client: reqwest::Client,
    /// What intake posts with.
    intake_token: String,
    desk_auth: HubAuth,
    roots: Vec<Vec<u8>>,
}

/// What one half of the run measured.
struct Measured {
    sync_rate: f64,
    p99_ms: f64,
}

const PASSWORD: &str = "bench password, long enough";

pub fn run(requests: usize, burst: usize) -> BenchResult {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(err)?;
    runtime.block_on(async {
        let plain = half(Mode::Plain, requests, burst).await?;
        let secure = half(Mode::Secure, requests, burst).await?;
        heading("sync: signed in over TLS against plain HTTP with a fixed token, same run");
        println!(
            "  initial sync: {:.0} req/s against {:.0} req/s → {:.0}% of the rate without (target ≥ 80%)",
            secure.sync_rate,
            plain.sync_rate,
            100.0 * secure.sync_rate / plain.sync_rate
        );
        println!(
            "  intake → committed p99: {:.1} ms against {:.1} ms ({:.2}×; target under 1000 ms)",
            secure.p99_ms,
            plain.p99_ms,
            secure.p99_ms / plain.p99_ms
        );
        Ok(())
    })
}

async fn half(mode: Mode, requests: usize, burst: usize) -> BenchResult<Measured> {
    let dir = tempfile::tempdir().map_err(err)?;
    let how = match mode {
        Mode::Plain => "plain HTTP, fixed token",
        Mode::Secure => "HTTPS, signed-in officer, channel credential",
    };
    heading(&format!(
        "sync ({how}): initial sync of {requests} requests from a local hub"
    ));
    let db = dir.path().join("hub.sqlite");
    seed_hub(&db, requests)?;
    let mut config = HubConfig::new(db.clone(), "127.0.0.1:0".parse().map_err(err)?);
    // The hub's intake limit is for one channel in normal times; a benchmark burst is not
    // a real channel's traffic, so it is lifted here (the limiter's cost stays in).
    config.limits.intake_per_sec = 1e6;
    config.limits.intake_burst = 1e6;
    let channel = match mode {
        Mode::Plain => {
            config.dev_tokens = vec![TOKEN.into()];
            None
        }
        Mode::Secure => {
            let ca = lifeline_hub::dev_ca::make(&dir.path().join("tls")).map_err(err)?;
            config.tls = Some(TlsPaths {
                cert: ca.cert.clone(),
                key: ca.key.clone(),
            });
            let store = SqliteHubStore::open(&db).map_err(err)?;
            store
                .add_officer(
                    NewOfficer {
                        id: "bench",
                        display_name: "Bench",
                        role: Role::DutyOfficer,
                        posts: &PostScope::All,
                        password: PASSWORD,
                    },
                    Utc::now(),
                )
                .map_err(err)?;
            let (_, secret) = store
                .add_credential(CredentialKind::Channel, "bench-hotline", &[], Utc::now())
                .map_err(err)?;
            Some((secret, std::fs::read(&ca.ca).map_err(err)?))
        }
    };
    let hub = lifeline_hub::start(config).await.map_err(err)?;
    let reach = match channel {
        None => Reach {
            url: hub.url(),
            client: reqwest::Client::new(),
            intake_token: TOKEN.into(),
            desk_auth: HubAuth::Token(TOKEN.into()),
            roots: Vec::new(),
        },
        Some((secret, ca)) => Reach {
            url: hub.url(),
            client: reqwest::Client::builder()
                .add_root_certificate(reqwest::Certificate::from_pem(&ca).map_err(err)?)
                .build()
                .map_err(err)?,
            intake_token: secret,
            desk_auth: HubAuth::Session(Arc::new(SessionAuth::with_password(
                "bench",
                PASSWORD.into(),
                "bench",
                None,
            ))),
            roots: vec![ca],
        },
    };
    let (desk, sync_rate) = initial_sync(dir.path(), &reach, requests, mode == Mode::Plain).await?;
    heading(&format!(
        "sync ({how}): intake POST at the hub → committed in the desk's store ({burst} intakes, {BURST_CONCURRENCY} in flight)"
    ));
    let p99_ms = intake_latency(desk, &reach, burst).await?;
    let _ = hub.stop.send(());
    Ok(Measured { sync_rate, p99_ms })
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
        store
            .intake(drill::intake_of(request), "bench", at)
            .map_err(err)?;
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

async fn initial_sync(
    dir: &Path,
    reach: &Reach,
    n: usize,
    baselines: bool,
) -> BenchResult<(Arc<Store>, f64)> {
    // The engine: HTTP, JSON, validation, upsert with cursor, per page.
    let desk = open_desk_store(&dir.join("desk.sqlite"))?;
    let url = reach.url.as_str();
    let engine = SyncEngine::builder(Arc::clone(&desk))
        .hub_auth(url, reach.desk_auth.clone())
        .extra_roots(reach.roots.clone())
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
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    if !baselines {
        println!(
            "  initial sync (engine, pages of {PAGE}): {:>9.0} req/s   ({:.1} s)",
            rate(sync),
            sync.as_secs_f64()
        );
        return Ok((desk, rate(sync)));
    }

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
    Ok((desk, rate(sync)))
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

/// When each request was first committed in a desk's store.
pub type Committed = Arc<Mutex<HashMap<String, Instant>>>;

/// An engine observer that notes in `committed` when each request was first stored.
pub fn note_commits(committed: &Committed) -> impl Fn(&SyncEvent) + Send + Sync + 'static {
    let seen = Arc::clone(committed);
    move |event| {
        // Sent after the transaction that stored the records has committed.
        if let SyncEvent::RequestsChanged { ids, .. } = event {
            let now = Instant::now();
            if let Ok(mut seen) = seen.lock() {
                for id in ids {
                    seen.entry(id.clone()).or_insert(now);
                }
            }
        }
    }
}

async fn intake_latency(desk: Arc<Store>, reach: &Reach, burst: usize) -> BenchResult<f64> {
    let url = reach.url.as_str();
    let committed = Committed::default();
    let engine = SyncEngine::builder(desk)
        .hub_auth(url, reach.desk_auth.clone())
        .extra_roots(reach.roots.clone())
        .desk("bench")
        .page_size(PAGE)
        .on_event(note_commits(&committed))
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

    let client = reach.client.clone();
    let limit = Arc::new(tokio::sync::Semaphore::new(BURST_CONCURRENCY));
    let mut posts = Vec::with_capacity(burst);
    let mut rng = Rng::new(11);
    for i in 0..burst {
        let id = format!("burst-{i:05}");
        let mut body = drill::intake_of(request_anywhere(&mut rng, id.clone(), Utc::now()));
        // The front end names its request, so the desk's copy can be matched to this post.
        body.id = Some(id.clone());
        let (client, limit, url) = (client.clone(), Arc::clone(&limit), url.to_owned());
        let token = reach.intake_token.clone();
        posts.push(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await.map_err(err)?;
            let sent = Instant::now();
            let status = client
                .post(format!("{url}/v1/requests"))
                .bearer_auth(&token)
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
    Ok(samples.percentile(99.0))
}
