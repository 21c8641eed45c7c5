//! Two hub replicas (processes) on one PostgreSQL database that already holds 10^6
//! requests: event streams spread over both, desks given both addresses, a sustained intake
//! through both, and one replica killed with `kill -9` half way. Measured: intake → event on
//! every stream (p50, p99; target p99 under one second), what the streams of the dead
//! replica missed or saw twice after resuming at the other, and whether every desk ends with
//! exactly what the database holds.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lifeline_core::Store;
use lifeline_core::store::{RequestQuery, SourceKind};
use lifeline_core::synth::Rng;
use lifeline_sync::{Stop, SyncEngine};

use crate::hub::{HubBench, TOKEN, err, instance, intake_body};
use crate::stats::{Samples, heading};
use crate::sync::{Committed, note_commits};

type BenchResult<T = ()> = Result<T, String>;

/// Intakes a second during the run.
const RATE: u64 = 20;

struct Replica {
    child: Child,
    url: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_replica(db: &str) -> BenchResult<Replica> {
    let bin = std::env::current_exe()
        .map_err(err)?
        .with_file_name("lifeline-hub");
    if !bin.exists() {
        return Err(format!(
            "{} is not built (cargo build -p lifeline-hub, in the same profile)",
            bin.display()
        ));
    }
    let mut child = Command::new(&bin)
        .args(["--db", db, "--listen", "127.0.0.1:0"])
        .env("LIFELINE_HUB_DEV_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(err)?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    BufReader::new(stdout).read_line(&mut line).map_err(err)?;
    let url = line
        .rsplit(' ')
        .next()
        .map(str::trim)
        .filter(|u| u.starts_with("http"))
        .ok_or_else(|| format!("the replica did not start: {line}"))?
        .to_owned();
    Ok(Replica { child, url })
}

/// What one stream saw: each request id with when it arrived, and how often it resumed.
#[derive(Default)]
struct Seen {
    arrivals: Vec<(String, Instant)>,
    resumed: usize,
}

/// Follows `/v1/events` from `cursor`, at `urls[first]`; when the stream ends it resumes at
/// the next address with `Last-Event-ID`, as a desk does.
async fn follow(
    urls: Arc<Vec<String>>,
    first: usize,
    cursor: String,
    done: Arc<AtomicBool>,
) -> Seen {
    let client = reqwest::Client::new();
    let mut seen = Seen::default();
    let (mut at, mut cursor) = (first, cursor);
    while !done.load(Ordering::Relaxed) {
        let url = &urls[at % urls.len()];
        let answer = client
            .get(format!("{url}/v1/events"))
            .header("last-event-id", &cursor)
            .bearer_auth(TOKEN)
            .send()
            .await;
        let mut res = match answer {
            Ok(r) if r.status().is_success() => r,
            _ => {
                at += 1;
                seen.resumed += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (mut buffer, mut event) = (String::new(), String::new());
        loop {
            let chunk = tokio::select! {
                c = res.chunk() => c,
                _ = tokio::time::sleep(Duration::from_millis(500)) => {
                    if done.load(Ordering::Relaxed) { return seen; }
                    continue;
                }
            };
            let Ok(Some(chunk)) = chunk else { break };
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find('\n') {
                let line: String = buffer.drain(..=end).collect();
                let line = line.trim_end();
                if let Some(name) = line.strip_prefix("event:") {
                    event = name.trim().to_owned();
                } else if let Some(id) = line.strip_prefix("id:") {
                    cursor = id.trim().to_owned();
                } else if let Some(data) = line.strip_prefix("data:")
                    && event == "request"
                    && let Ok(record) = serde_json::from_str::<serde_json::Value>(data.trim())
                    && let Some(id) = record["id"].as_str()
                {
                    seen.arrivals.push((id.to_owned(), Instant::now()));
                }
            }
        }
        at += 1;
        seen.resumed += 1;
    }
    seen
}

/// A desk given every replica's addresses in this order, following from `cursor`.
fn desk(
    dir: &Path,
    name: &str,
    urls: &[String],
    cursor: &str,
    committed: &Committed,
) -> BenchResult<(Arc<Store>, SyncEngine)> {
    let store = Arc::new(Store::open(dir.join(format!("{name}.sqlite"))).map_err(err)?);
    // It has synced the 10^6 before (a desk of a post does not start empty every day).
    store
        .ensure_source(&urls[0], SourceKind::Hub)
        .map_err(err)?;
    store
        .upsert_requests(&[], &urls[0], Some((&urls[0], cursor)))
        .map_err(err)?;
    let engine = SyncEngine::builder(Arc::clone(&store))
        .hub(urls.join(", "), TOKEN)
        .desk(name)
        .backoff(Duration::from_millis(100), Duration::from_secs(1))
        .on_event(note_commits(committed))
        .build()
        .map_err(err)?;
    Ok((store, engine))
}

pub async fn run(db: &str, sizes: HubBench, dir: &Path) -> BenchResult {
    let head = sizes.intakes + sizes.requests;
    heading(&format!(
        "hub replicas: 2 on PostgreSQL with {head} requests, {} event streams, {RATE} intakes/s for {} s, one replica killed half way",
        sizes.streams, sizes.seconds
    ));
    let a = start_replica(db)?;
    let mut b = Some(start_replica(db)?);
    let urls = Arc::new(vec![
        a.url.clone(),
        b.as_ref().map(|r| r.url.clone()).unwrap_or_default(),
    ]);
    let client = reqwest::Client::new();
    let cursor = format!("{}.{head}", instance(&client, &urls[0]).await?);
    let done = Arc::new(AtomicBool::new(false));
    let mut streams = Vec::new();
    for i in 0..sizes.streams {
        streams.push(tokio::spawn(follow(
            Arc::clone(&urls),
            i % 2,
            cursor.clone(),
            Arc::clone(&done),
        )));
    }
    let mut desks = Vec::new();
    for (name, order) in [("desk-b-first", [1, 0]), ("desk-a-first", [0, 1])] {
        let ordered: Vec<String> = order.iter().map(|&i| urls[i].clone()).collect();
        let committed = Committed::default();
        let (store, engine) = desk(dir, name, &ordered, &cursor, &committed)?;
        let (stop, signal) = Stop::new();
        let task = tokio::spawn(async move { engine.run(signal).await });
        desks.push((name, store, stop, task, committed));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // The sustained intake, through both replicas (through the living one after the kill).
    let total = (RATE * sizes.seconds) as usize;
    let mut sent: HashMap<String, Instant> = HashMap::new();
    let mut rng = Rng::new(5);
    let mut killed_at = None;
    let started = Instant::now();
    for k in 0..total {
        let due = started + Duration::from_millis(k as u64 * 1000 / RATE);
        tokio::time::sleep_until(due.into()).await;
        if k == total / 2 {
            b = None; // kill -9 (the child is killed without warning when dropped)
            killed_at = Some(Instant::now());
        }
        let id = format!("F-{k:06}");
        let body = intake_body(&mut rng, &id);
        let mut target = k % 2;
        let at = Instant::now();
        loop {
            let posted = client
                .post(format!("{}/v1/requests", urls[target % urls.len()]))
                .bearer_auth(TOKEN)
                .header("content-type", "application/json")
                .body(body.clone())
                .timeout(Duration::from_secs(5))
                .send()
                .await;
            match posted {
                Ok(r) if r.status().as_u16() == 201 => break,
                Ok(r) if r.status().as_u16() != 503 => {
                    return Err(format!("intake answered {}", r.status()));
                }
                _ => target += 1, // that replica is gone: the channel uses the other
            }
        }
        sent.insert(id, at);
    }
    drop(b);
    // Everything delivered, or 30 s.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut all_there = false;
    while Instant::now() < deadline && !all_there {
        tokio::time::sleep(Duration::from_millis(500)).await;
        all_there = desks.iter().all(|(_, store, _, _, _)| {
            store
                .query_requests(&RequestQuery::default())
                .map(|r| r.len() >= total)
                .unwrap_or(false)
        });
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    done.store(true, Ordering::Relaxed);

    let mut latency = Samples::default();
    let mut before_kill = Samples::default();
    let (mut missing, mut twice, mut resumed_streams) = (0usize, 0usize, 0usize);
    let killed_at = killed_at.unwrap_or_else(Instant::now);
    for s in streams {
        let seen = s.await.map_err(err)?;
        resumed_streams += usize::from(seen.resumed > 0);
        let mut by_id: BTreeMap<&str, Vec<Instant>> = BTreeMap::new();
        for (id, at) in &seen.arrivals {
            by_id.entry(id.as_str()).or_default().push(*at);
        }
        for (id, at) in &sent {
            match by_id.get(id.as_str()) {
                None => missing += 1,
                Some(arrivals) => {
                    twice += arrivals.len() - 1;
                    let took = arrivals[0].saturating_duration_since(*at);
                    latency.push(took);
                    if *at < killed_at {
                        before_kill.push(took);
                    }
                }
            }
        }
    }
    println!("  intake → event on every stream: {}", latency.summary());
    println!(
        "  … for intakes before the kill:  {}",
        before_kill.summary()
    );
    println!(
        "  streams that resumed at the other replica: {resumed_streams} of {}; deliveries missed: {missing}; seen twice: {twice} (of {})",
        sizes.streams,
        sizes.streams * total
    );
    let mut at_desks = Samples::default();
    for (name, store, stop, task, committed) in desks {
        stop.stop();
        let _ = task.await;
        if let Ok(committed) = committed.lock() {
            for (id, at) in &sent {
                if let Some(done) = committed.get(id) {
                    at_desks.push(done.saturating_duration_since(*at));
                }
            }
        }
        let held: Vec<String> = store
            .query_requests(&RequestQuery::default())
            .map_err(err)?
            .into_iter()
            .map(|r| r.request.id)
            .collect();
        let exact = held.len() == total && held.iter().all(|id| sent.contains_key(id));
        println!(
            "  {name}: holds {} of the {total} requests taken in{}",
            held.len(),
            if exact {
                ", exactly those"
            } else {
                " — NOT the database's set"
            }
        );
    }
    println!(
        "  intake → committed in the desks' stores: {}",
        at_desks.summary()
    );
    let met = latency.percentile(99.0) < 1000.0 && at_desks.percentile(99.0) < 1000.0;
    println!(
        "  target: intake → desk p99 under 1000 ms with {} streams over 2 replicas → {}",
        sizes.streams,
        if met { "met" } else { "NOT met" }
    );
    drop(a);
    Ok(())
}
