//! Real hubs (the `lifeline-hub` binary on 127.0.0.1) and real desks (a store on disk and a
//! sync engine).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lifeline_core::Store;
use lifeline_core::model::{CaseEventKind, Origin, Priority, Status, TriageAction};
use lifeline_core::store::{LocalState, OutboxState, RequestQuery};
use lifeline_sync::{Stop, StopHandle, SyncEngine};
use lifeline_tests::hub::{HubProcess, TOKEN};

/// A desk: its store on disk and a running sync engine.
pub(crate) struct Desk {
    pub(crate) store: Arc<Store>,
    engine: SyncEngine,
    stop: StopHandle,
    task: tokio::task::JoinHandle<()>,
}

impl Desk {
    pub(crate) async fn start(dir: &std::path::Path, name: &str, hub: &str) -> Desk {
        let store = Arc::new(Store::open(dir.join(format!("{name}.sqlite"))).expect("desk store"));
        Desk::on_store(store, name, hub, 200).await
    }

    async fn on_store(store: Arc<Store>, name: &str, hub: &str, page_size: u32) -> Desk {
        let engine = SyncEngine::builder(Arc::clone(&store))
            .hub(hub, TOKEN)
            .desk(name)
            .page_size(page_size)
            .backoff(Duration::from_millis(50), Duration::from_millis(500))
            .build()
            .expect("engine");
        Desk::running(store, engine)
    }

    /// The desk with `engine` running until it is shut down.
    fn running(store: Arc<Store>, engine: SyncEngine) -> Desk {
        let (stop, signal) = Stop::new();
        let task = tokio::spawn({
            let engine = engine.clone();
            async move { engine.run(signal).await }
        });
        Desk {
            store,
            engine,
            stop,
            task,
        }
    }

    pub(crate) async fn shut_down(self) -> Arc<Store> {
        self.stop.stop();
        let _ = self.task.await;
        self.store
    }

    pub(crate) fn versions(&self) -> BTreeMap<String, i64> {
        self.store
            .query_requests(&RequestQuery::default())
            .expect("query")
            .into_iter()
            .map(|r| (r.request.id, r.request.version))
            .collect()
    }
}

/// Waits until `check` holds, failing with `what` after `limit`.
pub(crate) async fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) fn intake(id: &str, i: usize) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "channel": "app",
        "category": "natural_disaster",
        "emergency": i.is_multiple_of(3),
        "citizen": {"name": format!("测试 {i}"), "phone": "+8613800000000"},
        "location": {"lat": 41.0 + (i % 100) as f64 * 0.001, "lon": 28.9},
        "description": format!("地震后被困 trapped after the earthquake #{i}"),
    })
}

pub(crate) async fn post(
    client: &reqwest::Client,
    hub: &str,
    body: &serde_json::Value,
) -> Result<u16, reqwest::Error> {
    let r = client
        .post(format!("{hub}/v1/requests"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?;
    Ok(r.status().as_u16())
}

/// One page of the hub's change feed after `after` (a cursor, or empty for the start).
pub(crate) async fn changes_page(
    client: &reqwest::Client,
    hub: &str,
    after: &str,
    limit: u32,
) -> serde_json::Value {
    client
        .get(format!("{hub}/v1/requests?limit={limit}&after={after}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("page")
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).expect("json"))
        .expect("body")
}

/// Every request at the hub with its version, read through the protocol.
pub(crate) async fn hub_versions(client: &reqwest::Client, hub: &str) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    let mut after = String::new();
    loop {
        let page = changes_page(client, hub, &after, 1000).await;
        for r in page["requests"].as_array().expect("array") {
            out.insert(
                r["id"].as_str().expect("id").to_owned(),
                r["version"].as_i64().expect("version"),
            );
        }
        after = page["next_cursor"].as_str().expect("cursor").to_owned();
        if page["has_more"] != true {
            return out;
        }
    }
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_desks_converge_and_see_each_others_triage() {
    let dir = tempfile::tempdir().expect("dir");
    let hub = HubProcess::start(&dir.path().join("hub.sqlite"), "127.0.0.1:0", &[]);
    let a = Desk::start(dir.path(), "desk-a", &hub.url()).await;
    let b = Desk::start(dir.path(), "desk-b", &hub.url()).await;
    let http = client();
    assert_eq!(
        post(&http, &hub.url(), &intake("R-1", 0))
            .await
            .expect("intake"),
        201
    );

    eventually(Duration::from_secs(10), "both desks have R-1", || {
        a.store.get_request("R-1").ok().flatten().is_some()
            && b.store.get_request("R-1").ok().flatten().is_some()
    })
    .await;

    let (shown, _) = a
        .store
        .queue_action(
            "R-1",
            &TriageAction::Acknowledge,
            "desk-a/li",
            "ack-r1",
            chrono::Utc::now(),
        )
        .expect("ack");
    assert_eq!(shown.local_state, LocalState::Pending);
    a.engine.wake_outbox();

    eventually(
        Duration::from_secs(10),
        "desk B sees the acknowledgement",
        || {
            b.store
                .get_request("R-1")
                .ok()
                .flatten()
                .is_some_and(|r| r.request.status == Status::Acknowledged)
        },
    )
    .await;
    eventually(
        Duration::from_secs(10),
        "desk A's action is confirmed",
        || {
            a.store
                .get_request("R-1")
                .ok()
                .flatten()
                .is_some_and(|r| r.local_state == LocalState::Synced)
        },
    )
    .await;
    let (_, events) = b
        .store
        .request_with_events("R-1")
        .expect("read")
        .expect("exists");
    let ack = events
        .iter()
        .find(|e| {
            matches!(
                e.kind,
                CaseEventKind::StatusChanged {
                    to: Status::Acknowledged,
                    ..
                }
            )
        })
        .expect("logged");
    assert_eq!(
        ack.actor.as_deref(),
        Some("desk-a/li"),
        "desk B's log says who acknowledged"
    );
    assert_eq!(ack.origin, Origin::Sync, "and that it came through sync");
    let (_, a_events) = a
        .store
        .request_with_events("R-1")
        .expect("read")
        .expect("exists");
    assert_eq!(
        a_events.len(),
        2,
        "desk A logs its own acknowledgement once, not again when the hub echoes it: {a_events:?}"
    );
    a.shut_down().await;
    b.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hub_killed_and_restarted_mid_sync_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let mut hub = HubProcess::start(&dir.path().join("hub.sqlite"), "127.0.0.1:0", &[]);
    let url = hub.url();
    let desk = Desk::on_store(
        Arc::new(Store::open(dir.path().join("desk.sqlite")).expect("store")),
        "desk",
        &url,
        25,
    )
    .await;
    let http = client();
    let total = 600;
    let mut posted = 0;
    for round in 0..4 {
        // Post a batch; an intake that fails because the hub is down is retried with the same
        // id (intake is idempotent), as the hotline side would.
        let until = (round + 1) * total / 4;
        while posted < until {
            let id = format!("R-{posted:05}");
            match post(&http, &url, &intake(&id, posted)).await {
                Ok(201 | 200) => posted += 1,
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        // Kill the hub while the desk is mid-way through pulling or streaming.
        tokio::time::sleep(Duration::from_millis(150 + 100 * round as u64)).await;
        hub.kill();
        tokio::time::sleep(Duration::from_millis(300)).await;
        hub.restart();
    }
    let expected = hub_versions(&http, &url).await;
    assert_eq!(expected.len(), total);
    eventually(
        Duration::from_secs(30),
        "the desk holds exactly the hub's requests",
        || desk.versions() == expected,
    )
    .await;
    assert_eq!(
        desk.store.request_count().expect("count"),
        total as u64,
        "no duplicates"
    );
    assert!(desk.store.integrity_check().expect("check").is_empty());
    desk.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn desk_killed_mid_page_resumes_from_its_cursor() {
    let dir = tempfile::tempdir().expect("dir");
    let hub = HubProcess::start(
        &dir.path().join("hub.sqlite"),
        "127.0.0.1:0",
        &[
            "--exercise",
            "--drill",
            "everyday",
            "--rate",
            "120000",
            "--drill-limit",
            "3000",
        ],
    );
    let http = client();
    let deadline = Instant::now() + Duration::from_secs(60);
    let expected = loop {
        let v = hub_versions(&http, &hub.url()).await;
        if v.len() >= 3000 {
            break v;
        }
        assert!(
            Instant::now() < deadline,
            "the drill posted only {} requests",
            v.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(expected.len(), 3000);
    let db = dir.path().join("desk.sqlite");
    // The desk process: `lifeline sync --once`, killed while it pulls.
    let mut child = super::lifeline()
        .arg("--db")
        .arg(&db)
        .args(["sync", "--once", "--page-size", "50", "--hub", &hub.url()])
        .env("LIFELINE_HUB_TOKEN", TOKEN)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start desk");
    let store_has_some = || {
        Store::open(&db)
            .ok()
            .and_then(|s| s.request_count().ok())
            .is_some_and(|n| n >= 500)
    };
    eventually(
        Duration::from_secs(60),
        "the desk has pulled a few pages",
        store_has_some,
    )
    .await;
    child.kill().expect("kill -9");
    let _ = child.wait();
    let store = Store::open(&db).expect("opens after the kill");
    assert!(store.integrity_check().expect("check").is_empty());
    let pulled = store.request_count().expect("count");
    assert!(pulled < 3000, "the pull was interrupted ({pulled})");
    let cursor = store
        .source_state(&hub.url())
        .expect("state")
        .and_then(|s| s.cursor)
        .expect("a cursor was stored");
    let seq: u64 = cursor
        .rsplit('.')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("cursor number");
    assert_eq!(
        seq, pulled,
        "the stored cursor is exactly after what is stored: pages and cursor commit together"
    );
    drop(store);
    super::run_ok(
        super::lifeline()
            .arg("--db")
            .arg(&db)
            .args(["sync", "--once", "--hub", &hub.url()])
            .env("LIFELINE_HUB_TOKEN", TOKEN),
    );
    let store = Store::open(&db).expect("store");
    let versions: BTreeMap<String, i64> = store
        .query_requests(&RequestQuery::default())
        .expect("query")
        .into_iter()
        .map(|r| (r.request.id, r.request.version))
        .collect();
    assert_eq!(versions, expected, "nothing skipped, nothing repeated");
    let created: i64 = store
        .read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM case_events WHERE kind = 'created'",
                [],
                |r| r.get(0),
            )?)
        })
        .expect("count");
    assert_eq!(created, 3000, "each request's creation logged once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn actions_queued_offline_apply_exactly_once_after_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let mut hub = HubProcess::start(&dir.path().join("hub.sqlite"), "127.0.0.1:0", &[]);
    let url = hub.url();
    let http = client();
    post(&http, &url, &intake("R-9", 9)).await.expect("intake");
    let db = dir.path().join("desk.sqlite");
    let store = Arc::new(Store::open(&db).expect("store"));
    let desk = Desk::on_store(Arc::clone(&store), "desk", &url, 200).await;
    eventually(Duration::from_secs(10), "the desk has R-9", || {
        store.get_request("R-9").ok().flatten().is_some()
    })
    .await;

    hub.kill();
    let now = chrono::Utc::now();
    store
        .queue_action("R-9", &TriageAction::Acknowledge, "li", "offline-0", now)
        .expect("queue");
    store
        .queue_action(
            "R-9",
            &TriageAction::SetPriority {
                priority: Priority::High,
            },
            "li",
            "offline-1",
            now,
        )
        .expect("queue");
    for i in 2..10 {
        store
            .queue_action(
                "R-9",
                &TriageAction::AddNote {
                    text: format!("offline note {i}"),
                },
                "li",
                &format!("offline-{i}"),
                now,
            )
            .expect("queue");
    }
    desk.engine.wake_outbox();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        store.outbox_counts().expect("counts").pending,
        10,
        "all ten wait while the hub is down"
    );
    let shown = store.get_request("R-9").expect("read").expect("exists");
    assert_eq!(
        (
            shown.request.status,
            shown.request.priority,
            shown.local_state
        ),
        (Status::Acknowledged, Priority::High, LocalState::Pending)
    );

    // The desk restarts (its process ends), then the hub comes back.
    drop(desk.shut_down().await);
    drop(store);
    hub.restart();
    let store = Arc::new(Store::open(&db).expect("reopen"));
    assert_eq!(
        store.outbox_counts().expect("counts").pending,
        10,
        "the outbox survived the restart"
    );
    let desk = Desk::on_store(Arc::clone(&store), "desk", &hub.url(), 200).await;
    eventually(Duration::from_secs(20), "all ten are confirmed", || {
        store.outbox_counts().is_ok_and(|c| c.pending == 0)
    })
    .await;
    let items = store.outbox_for_request("R-9").expect("outbox");
    assert!(
        items.iter().all(|i| i.state == OutboxState::Confirmed),
        "{items:?}"
    );

    let record: serde_json::Value = http
        .get(format!("{}/v1/requests/R-9", hub.url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).expect("json"))
        .expect("body");
    assert_eq!(record["status"], "acknowledged");
    assert_eq!(record["priority"], "high");
    let events = record["events"].as_array().expect("events");
    let notes = events.iter().filter(|e| e["kind"] == "note").count();
    assert_eq!(notes, 8, "each note once: {events:?}");
    assert_eq!(
        record["version"], 11,
        "ten changes on top of version 1, each applied once"
    );

    // A replay of an answered key (a desk that never heard the answer) changes nothing.
    let replay = http
        .post(format!("{}/v1/requests/R-9/actions", hub.url()))
        .bearer_auth(TOKEN)
        .header("Idempotency-Key", "offline-5")
        .header("content-type", "application/json")
        .body(serde_json::json!({"action": "add_note", "text": "offline note 5", "base_version": 1, "actor": "li"}).to_string())
        .send()
        .await
        .expect("replay");
    assert_eq!(replay.status().as_u16(), 200);
    let again: serde_json::Value = http
        .get(format!("{}/v1/requests/R-9", hub.url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).expect("json"))
        .expect("body");
    assert_eq!(again["version"], 11, "the replay was not applied twice");
    desk.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_conflicting_action_is_visible_not_lost() {
    let dir = tempfile::tempdir().expect("dir");
    let hub = HubProcess::start(&dir.path().join("hub.sqlite"), "127.0.0.1:0", &[]);
    let http = client();
    post(&http, &hub.url(), &intake("R-7", 7))
        .await
        .expect("intake");
    let a = Desk::start(dir.path(), "desk-a", &hub.url()).await;
    let b = Desk::start(dir.path(), "desk-b", &hub.url()).await;
    eventually(Duration::from_secs(10), "both desks have R-7", || {
        a.store.get_request("R-7").ok().flatten().is_some()
            && b.store.get_request("R-7").ok().flatten().is_some()
    })
    .await;
    // Both officers assign the same version to different people; A reaches the hub first.
    b.stop.stop();
    let _ = b.task.await;
    let now = chrono::Utc::now();
    a.store
        .queue_action(
            "R-7",
            &TriageAction::Assign {
                assignee: Some("wang".into()),
            },
            "desk-a/wang",
            "a-assign",
            now,
        )
        .expect("queue");
    b.store
        .queue_action(
            "R-7",
            &TriageAction::Assign {
                assignee: Some("li".into()),
            },
            "desk-b/li",
            "b-assign",
            now,
        )
        .expect("queue");
    a.engine.wake_outbox();
    eventually(
        Duration::from_secs(10),
        "A's assignment is confirmed",
        || a.store.outbox_counts().is_ok_and(|c| c.pending == 0),
    )
    .await;
    let b = Desk::on_store(Arc::clone(&b.store), "desk-b", &hub.url(), 200).await;
    eventually(Duration::from_secs(10), "B hears the conflict", || {
        b.store.outbox_counts().is_ok_and(|c| c.conflicted == 1)
    })
    .await;
    let (shown, events) = b
        .store
        .request_with_events("R-7")
        .expect("read")
        .expect("exists");
    assert_eq!(
        shown.local_state,
        LocalState::Conflict,
        "the queue can flag it"
    );
    assert_eq!(
        shown.request.assignee.as_deref(),
        Some("wang"),
        "the hub's version stands on screen"
    );
    let conflict = events.iter().find_map(|e| match &e.kind {
        CaseEventKind::Conflict {
            action,
            theirs_summary,
            ..
        } => Some((action.clone(), theirs_summary.clone())),
        _ => None,
    });
    let (ours, theirs) = conflict.expect("a conflict case event");
    assert_eq!(ours["assignee"], "li", "B's intent is kept: {ours}");
    assert!(theirs.contains("wang"), "and the hub's version: {theirs}");
    a.shut_down().await;
    b.shut_down().await;
}

/// A desk with the engine's own default backoff (the one the desk app runs with).
async fn desk_with_defaults(store: Arc<Store>, hub: &str, feeds: &[String]) -> Desk {
    let mut builder = SyncEngine::builder(Arc::clone(&store))
        .hub(hub, TOKEN)
        .desk("desk");
    for f in feeds {
        builder = builder.feed(f.clone());
    }
    Desk::running(store, builder.build().expect("engine"))
}

/// Posts `id` as an SOS and waits until the desk holds it; returns how long that took from
/// the moment the hub took it in (a hub still starting is not the desk's delay).
async fn sos_reaches(
    desk: &Desk,
    http: &reqwest::Client,
    hub: &str,
    id: &str,
    i: usize,
    limit: Duration,
) -> Duration {
    let asked = Instant::now();
    let mut body = intake(id, i);
    body["emergency"] = serde_json::json!(true);
    // The hub may still be starting: the hotline retries, and so does this.
    while !post(http, hub, &body)
        .await
        .is_ok_and(|s| s == 200 || s == 201)
    {
        assert!(asked.elapsed() < limit, "the hub took intake of {id}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let posted = Instant::now();
    let store = Arc::clone(&desk.store);
    let id_owned = id.to_owned();
    eventually(limit, &format!("{id} reaches the desk"), move || {
        store.get_request(&id_owned).ok().flatten().is_some()
    })
    .await;
    posted.elapsed()
}

// Regression: a stream that connected and then broke counted as one more failure, so the
// backoff was never reset and each outage made the next reconnect slower (16–27 s after
// the fifth to eighth of eight 1-second outages).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_each_of_eight_short_outages_an_sos_arrives_within_five_seconds() {
    let _alone = crate::TIMED.lock().await;
    let dir = tempfile::tempdir().expect("dir");
    let mut hub = HubProcess::start(&dir.path().join("hub.sqlite"), "127.0.0.1:0", &[]);
    let store = Arc::new(Store::open(dir.path().join("desk.sqlite")).expect("store"));
    let desk = desk_with_defaults(store, &hub.url(), &[]).await;
    let http = client();
    sos_reaches(
        &desk,
        &http,
        &hub.url(),
        "SOS-0",
        0,
        Duration::from_secs(10),
    )
    .await;
    for outage in 1..=8 {
        hub.kill();
        tokio::time::sleep(Duration::from_secs(1)).await;
        hub.restart();
        let took = sos_reaches(
            &desk,
            &http,
            &hub.url(),
            &format!("SOS-{outage}"),
            outage,
            Duration::from_secs(20),
        )
        .await;
        println!("after outage {outage}: the SOS reached the desk in {took:?}");
        assert!(
            took < Duration::from_secs(5),
            "after outage {outage} the SOS took {took:?} to reach the desk (each outage must start the backoff afresh)"
        );
    }
    let _ = desk.shut_down().await;
}

/// A feed that accepts connections and answers nothing for `delay`.
async fn slow_feed(delay: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 1024];
                let _ = socket.read(&mut buf).await;
                tokio::time::sleep(delay).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/atom+xml\r\ncontent-length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    format!("http://{addr}/alerts.atom")
}

// A slow feed (a server answering after 30 s) once held up request processing behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_feed_never_delays_an_sos() {
    let _alone = crate::TIMED.lock().await;
    let dir = tempfile::tempdir().expect("dir");
    let hub = HubProcess::start(&dir.path().join("hub.sqlite"), "127.0.0.1:0", &[]);
    let http = client();
    let mut p99 = Vec::new();
    for (name, feeds) in [
        ("without", Vec::new()),
        ("with", vec![slow_feed(Duration::from_secs(30)).await]),
    ] {
        let store =
            Arc::new(Store::open(dir.path().join(format!("desk-{name}.sqlite"))).expect("store"));
        let desk = desk_with_defaults(store, &hub.url(), &feeds).await;
        let mut took = Vec::new();
        for i in 0..10 {
            let id = format!("SOS-{name}-{i}");
            took.push(sos_reaches(&desk, &http, &hub.url(), &id, i, Duration::from_secs(20)).await);
        }
        took.sort();
        p99.push(*took.last().expect("samples"));
        let _ = desk.shut_down().await;
    }
    println!(
        "intake → desk, slowest of 10: {:?} without a slow feed, {:?} with one",
        p99[0], p99[1]
    );
    assert!(
        p99[1] < Duration::from_secs(2),
        "with a feed hanging for 30 s, an SOS still arrives at once (slowest {:?})",
        p99[1]
    );
}

/// Every file under `dir` that holds `needle`.
fn files_holding(dir: &std::path::Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_file() {
            let bytes = std::fs::read(&path).expect("read");
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_erasure_order_reaches_every_desk_and_leaves_no_trace() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("hub.sqlite");
    let hub = HubProcess::start(&db, "127.0.0.1:0", &[]);
    let http = client();
    let planted = [
        "Planted Erasure-Name 8f3a",
        "+8613999990017",
        "planted-description-7c1d",
    ];
    let mut erased = intake("R-ERASE", 1);
    erased["citizen"] = serde_json::json!({"name": planted[0], "phone": planted[1]});
    erased["description"] = serde_json::json!(planted[2]);
    assert_eq!(post(&http, &hub.url(), &erased).await.expect("intake"), 201);
    assert_eq!(
        post(&http, &hub.url(), &intake("R-KEEP", 2))
            .await
            .expect("intake"),
        201
    );

    // Desk A follows the stream; desk B syncs once and is offline when the order comes.
    let a = Desk::start(dir.path(), "desk-a", &hub.url()).await;
    let b = Desk::start(dir.path(), "desk-b", &hub.url()).await;
    eventually(
        Duration::from_secs(10),
        "both desks hold both requests",
        || [&a, &b].iter().all(|d| d.versions().len() == 2),
    )
    .await;
    let b_store = b.shut_down().await;
    // Desk A's officer has an edit on it waiting: it must go too.
    a.store
        .queue_action(
            "R-ERASE",
            &TriageAction::AddNote {
                text: "called the planted-description-7c1d hotel".into(),
            },
            "desk-a/li",
            "erase-note-1",
            chrono::Utc::now(),
        )
        .expect("queue a note");

    let said = lifeline_tests::hub::admin(
        &db,
        &["requests", "erase", "R-ERASE", "--reference", "EO-2026-17"],
        None,
    );
    assert!(said.contains("erased"), "{said}");
    eventually(
        Duration::from_secs(20),
        "desk A erased it from the stream",
        || a.store.get_request("R-ERASE").ok().flatten().is_none(),
    )
    .await;
    assert!(a.store.get_request("R-KEEP").expect("read").is_some());
    assert_eq!(
        a.store.outbox_counts().expect("outbox").pending,
        0,
        "the unsent note went with it"
    );

    // Desk B comes back: its next pull carries the order.
    let b = Desk::on_store(b_store, "desk-b", &hub.url(), 200).await;
    eventually(
        Duration::from_secs(10),
        "desk B erased it at its next sync",
        || b.store.get_request("R-ERASE").ok().flatten().is_none(),
    )
    .await;
    assert!(b.store.get_request("R-KEEP").expect("read").is_some());
    let gone = http
        .get(format!("{}/v1/requests/R-ERASE", hub.url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("get");
    assert_eq!(gone.status().as_u16(), 404, "the hub has it no more");
    let audit =
        lifeline_tests::hub::admin(&db, &["audit", "export", "--since", "2000-01-01"], None);
    assert!(
        audit.contains("request_erased") && audit.contains("EO-2026-17"),
        "the audit trail records the erasure with its reference"
    );

    // Nothing of the citizen in any file: the hub's database and WAL, both desks' stores
    // and indexes.
    let (a_store, b_store) = (a.shut_down().await, b.shut_down().await);
    a_store.checkpoint().expect("checkpoint");
    b_store.checkpoint().expect("checkpoint");
    drop((a_store, b_store, hub));
    for needle in planted {
        let holding = files_holding(dir.path(), needle);
        assert!(holding.is_empty(), "{needle:?} is still in {holding:?}");
    }
}

#[test]
fn a_malformed_hub_address_is_refused_once_and_for_good_and_a_trailing_slash_is_the_same_hub() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(dir.path().join("desk.sqlite")).expect("store"));
    for bad in [
        "not a url",
        "ftp://hub.example:7070",
        "http://",
        "https://exa mple.org",
    ] {
        let refused = SyncEngine::builder(Arc::clone(&store))
            .hub(bad, "token")
            .build()
            .expect_err(bad);
        match &refused {
            lifeline_sync::SyncError::Http(e) => {
                assert!(
                    !e.is_transient(),
                    "{bad}: refused for good, not retried: {e}"
                );
            }
            other => panic!("{bad}: {other}"),
        }
    }
    let with = SyncEngine::builder(Arc::clone(&store))
        .hub("http://127.0.0.1:7070/", "token")
        .build()
        .expect("with a slash");
    let without = SyncEngine::builder(Arc::clone(&store))
        .hub("http://127.0.0.1:7070", "token")
        .build()
        .expect("without");
    assert_eq!(
        format!("{with:?}"),
        format!("{without:?}"),
        "one hub, one cursor, however its address is written"
    );
}
