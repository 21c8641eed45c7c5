//! Several hub replicas on one PostgreSQL database (started by the tests): the change feed
//! never skips or repeats a change with writers on both replicas, every replica's event
//! stream carries every replica's changes, and desks converge when a replica is killed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use lifeline_tests::hub::{HubProcess, TOKEN};
use lifeline_tests::postgres::server;

use super::sync::{Desk, changes_page, client, eventually, hub_versions, intake, post};

/// What is wrong with what one reader saw: each page's request ids in the order it read
/// them, against every id written. A change seen twice, or never, is a fault.
pub(crate) fn feed_problems(pages: &[Vec<String>], written: &BTreeSet<String>) -> Vec<String> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for id in pages.iter().flatten() {
        *seen.entry(id.as_str()).or_default() += 1;
    }
    let mut problems = Vec::new();
    for (id, n) in &seen {
        if *n > 1 {
            problems.push(format!("{id} seen {n} times"));
        }
    }
    for id in written {
        if !seen.contains_key(id.as_str()) {
            problems.push(format!("{id} never seen"));
        }
    }
    problems
}

/// Two replicas of the hub on a new database of the test server.
fn two_replicas(dir: &std::path::Path, name: &str) -> (HubProcess, HubProcess) {
    let url = server().database(name);
    let a = HubProcess::start_on(&dir.join("a"), url.clone().into(), "127.0.0.1:0", &[]);
    let b = HubProcess::start_on(&dir.join("b"), url.into(), "127.0.0.1:0", &[]);
    (a, b)
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    )
}

/// One page of the change feed after `after` from `hub`: its request ids and next cursor.
async fn page(http: &reqwest::Client, hub: &str, after: &str) -> (Vec<String>, String) {
    let page = changes_page(http, hub, after, 37).await;
    let ids = page["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    (
        ids,
        page["next_cursor"].as_str().expect("cursor").to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_on_two_replicas_never_make_a_reader_skip_or_repeat_a_change() {
    let _timed = super::TIMED.lock().await;
    let dir = tempfile::tempdir().expect("dir");
    let (a, b) = two_replicas(dir.path(), &unique("feed"));
    let hubs = Arc::new([a.url(), b.url()]);
    const WRITERS: usize = 6;
    const EACH: usize = 120;
    let writing = Arc::new(std::sync::atomic::AtomicUsize::new(WRITERS));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (hubs, writing) = (Arc::clone(&hubs), Arc::clone(&writing));
        writers.push(tokio::spawn(async move {
            let http = client();
            let mut written = Vec::new();
            for i in 0..EACH {
                let id = format!("W{w}-{i}");
                let hub = &hubs[(w + i) % 2];
                assert_eq!(
                    post(&http, hub, &intake(&id, i)).await.expect("intake"),
                    201
                );
                written.push(id);
            }
            writing.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            written
        }));
    }
    let mut readers = Vec::new();
    for r in 0..3 {
        let (hubs, writing) = (Arc::clone(&hubs), Arc::clone(&writing));
        readers.push(tokio::spawn(async move {
            let http = client();
            let (mut pages, mut cursor, mut n) = (Vec::new(), String::new(), r);
            loop {
                // Whether the writers were done before this page was asked for: a page
                // asked for after that, and empty, means this reader has everything.
                let done = writing.load(std::sync::atomic::Ordering::SeqCst) == 0;
                let (ids, next) = page(&http, &hubs[n % 2], &cursor).await;
                n += 1;
                let empty = ids.is_empty();
                pages.push(ids);
                cursor = next;
                if empty && done {
                    return pages;
                }
            }
        }));
    }
    let mut written = BTreeSet::new();
    for w in writers {
        written.extend(w.await.expect("writer"));
    }
    assert_eq!(written.len(), WRITERS * EACH);
    for (r, reader) in readers.into_iter().enumerate() {
        let pages = reader.await.expect("reader");
        let problems = feed_problems(&pages, &written);
        assert!(
            problems.is_empty(),
            "reader {r} read {} pages: {problems:?}",
            pages.len()
        );
    }
}

/// The checker catches the fault it is for: with a plain sequence, a reader pages past a
/// number whose transaction has not committed yet, and never sees that change. The same
/// interleaving with the hub's scheme (the number taken under the write lock) holds the
/// second writer back until the first has committed.
#[tokio::test(flavor = "multi_thread")]
async fn a_plain_sequence_lets_a_reader_skip_a_change_and_the_checker_catches_it() {
    let url = server().database(&unique("naive"));
    let connect = || async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        client
    };
    let (first, second, reader) = (connect().await, connect().await, connect().await);
    reader
        .batch_execute(
            "CREATE TABLE naive (seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL); \
             CREATE TABLE locked (seq BIGINT PRIMARY KEY, id TEXT NOT NULL); \
             CREATE TABLE head (n BIGINT NOT NULL); INSERT INTO head VALUES (0);",
        )
        .await
        .expect("tables");
    let read = async |table: &str, after: i64| -> (Vec<String>, i64) {
        let rows = reader
            .query(
                &format!("SELECT seq, id FROM {table} WHERE seq > $1 ORDER BY seq"),
                &[&after],
            )
            .await
            .expect("read");
        let last = rows.last().map_or(after, |r| r.get(0));
        (rows.iter().map(|r| r.get(1)).collect(), last)
    };
    let written: BTreeSet<String> = ["first".to_owned(), "second".to_owned()].into();

    // A plain sequence: the first writer takes 1, the second takes 2 and commits first.
    first
        .batch_execute("BEGIN; INSERT INTO naive (id) VALUES ('first');")
        .await
        .expect("1");
    second
        .batch_execute("BEGIN; INSERT INTO naive (id) VALUES ('second'); COMMIT;")
        .await
        .expect("2");
    let (page_one, cursor) = read("naive", 0).await;
    first.batch_execute("COMMIT").await.expect("commit 1");
    let (page_two, _) = read("naive", cursor).await;
    let problems = feed_problems(&[page_one, page_two], &written);
    assert_eq!(problems, vec!["first never seen".to_owned()]);

    // The hub's scheme: each writer takes the write lock, then the next number.
    let take = "BEGIN; SELECT pg_advisory_xact_lock(1); \
                INSERT INTO locked SELECT n + 1, '{id}' FROM head; UPDATE head SET n = n + 1;";
    first
        .batch_execute(&take.replace("{id}", "first"))
        .await
        .expect("1");
    let held_back = tokio::spawn(async move {
        second
            .batch_execute(&format!("{}COMMIT;", take.replace("{id}", "second")))
            .await
            .expect("2");
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !held_back.is_finished(),
        "the second writer waits for the lock"
    );
    let (page_one, cursor) = read("locked", 0).await;
    first.batch_execute("COMMIT").await.expect("commit 1");
    held_back.await.expect("second writer");
    let (page_two, _) = read("locked", cursor).await;
    assert_eq!(
        feed_problems(&[page_one, page_two], &written),
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_desk_on_one_replica_hears_at_once_of_a_request_taken_in_by_the_other() {
    let dir = tempfile::tempdir().expect("dir");
    let (a, b) = two_replicas(dir.path(), &unique("fanout"));
    let desk = Desk::start(dir.path(), "desk-b", &b.url()).await;
    // The desk has synced and follows b's event stream.
    eventually(Duration::from_secs(10), "the desk is following", || {
        desk.store
            .source_state(&b.url())
            .ok()
            .flatten()
            .is_some_and(|s| s.cursor.is_some())
    })
    .await;
    let http = client();
    for i in 0..5 {
        let id = format!("SOS-{i}");
        let sent = std::time::Instant::now();
        assert_eq!(
            post(&http, &a.url(), &intake(&id, 0))
                .await
                .expect("intake"),
            201
        );
        eventually(
            Duration::from_secs(3),
            "the request reaches the desk",
            || desk.versions().contains_key(&id),
        )
        .await;
        println!(
            "intake at replica a → desk on replica b: {:?}",
            sent.elapsed()
        );
    }
    let _ = desk.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_a_replica_mid_drill_loses_nothing_and_its_desks_go_on_with_the_other() {
    let _timed = super::TIMED.lock().await;
    let dir = tempfile::tempdir().expect("dir");
    let (mut a, b) = two_replicas(dir.path(), &unique("kill"));
    // Desk a is given both addresses, a first; desk b only b's.
    let on_a = Desk::start(dir.path(), "desk-a", &format!("{}, {}", a.url(), b.url())).await;
    let on_b = Desk::start(dir.path(), "desk-b", &b.url()).await;
    let http = client();
    let mut sent = 0;
    for i in 0..300 {
        // Half way, replica a dies without warning; intake goes on at b.
        if i == 150 {
            a.kill();
        }
        let hub = if i % 2 == 0 && i < 150 {
            a.url()
        } else {
            b.url()
        };
        assert_eq!(
            post(&http, &hub, &intake(&format!("K-{i}"), i))
                .await
                .expect("intake"),
            201
        );
        sent += 1;
    }
    let at_hub = hub_versions(&http, &b.url()).await;
    assert_eq!(
        at_hub.len(),
        sent,
        "the database holds every request taken in"
    );
    for (name, desk) in [("a", &on_a), ("b", &on_b)] {
        eventually(
            Duration::from_secs(20),
            &format!("desk {name} holds what the database holds"),
            || desk.versions() == at_hub,
        )
        .await;
    }
    // After the kill, desk a follows b: a request taken in now reaches it at once.
    let sent_at = std::time::Instant::now();
    assert_eq!(
        post(&http, &b.url(), &intake("K-late", 1))
            .await
            .expect("intake"),
        201
    );
    eventually(
        Duration::from_secs(3),
        "desk a hears of it through b",
        || on_a.versions().contains_key("K-late"),
    )
    .await;
    println!(
        "after the kill, intake at b → desk a: {:?}",
        sent_at.elapsed()
    );
    let _ = on_a.shut_down().await;
    let _ = on_b.shut_down().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_restored_from_a_dump_refuses_the_cursors_of_the_newer_one() {
    let dir = tempfile::tempdir().expect("dir");
    let (live, restored) = (unique("live"), unique("restored"));
    let hub = HubProcess::start_on(
        &dir.path().join("live"),
        server().database(&live).into(),
        "127.0.0.1:0",
        &[],
    );
    let http = client();
    for i in 0..3 {
        assert_eq!(
            post(&http, &hub.url(), &intake(&format!("B-{i}"), i))
                .await
                .expect("intake"),
            201
        );
    }
    let dump = dir.path().join("hub.dump");
    let out = server()
        .tool("pg_dump")
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(&live)
        .output()
        .expect("pg_dump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The live hub goes on taking requests after the backup; desks read them.
    assert_eq!(
        post(&http, &hub.url(), &intake("B-after", 9))
            .await
            .expect("intake"),
        201
    );
    let (ids, cursor) = page(&http, &hub.url(), "").await;
    assert_eq!(ids.len(), 4);
    drop(hub);
    let url = server().database(&restored);
    let out = server()
        .tool("pg_restore")
        .args(["--dbname", &restored])
        .arg(&dump)
        .output()
        .expect("pg_restore");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back = HubProcess::start_on(&dir.path().join("restored"), url.into(), "127.0.0.1:0", &[]);
    let gone = http
        .get(format!("{}/v1/requests?after={cursor}", back.url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("answer");
    assert_eq!(
        gone.status().as_u16(),
        410,
        "a cursor past the dump is refused"
    );
    let (ids, _) = page(&http, &back.url(), "").await;
    assert_eq!(
        ids.len(),
        3,
        "the restored database holds what the dump held"
    );
}

/// Runs `lifeline-hub --db URL …` and returns its output.
fn admin_on(url: &str, args: &[&str]) -> String {
    let out = lifeline_tests::hub::hub_command()
        .args(["--db", url])
        .args(args)
        .output()
        .expect("run lifeline-hub");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_replica_serves_its_metrics_to_a_monitoring_account_only() {
    let dir = tempfile::tempdir().expect("dir");
    let url = server().database(&unique("metrics"));
    let a = HubProcess::start_on(
        &dir.path().join("a"),
        url.clone().into(),
        "127.0.0.1:0",
        &[],
    );
    let monitoring = lifeline_tests::hub::secret_in(&admin_on(
        &url,
        &["services", "add", "prometheus", "--scopes", "metrics:read"],
    ));
    let channel = lifeline_tests::hub::secret_in(&admin_on(&url, &["channels", "add", "sms"]));
    let http = client();
    for i in 0..3 {
        assert_eq!(
            post(&http, &a.url(), &intake(&format!("M-{i}"), i))
                .await
                .expect("intake"),
            201
        );
    }
    let scrape = |token: String| {
        let (http, url) = (http.clone(), a.url());
        async move {
            let res = http
                .get(format!("{url}/v1/metrics"))
                .bearer_auth(token)
                .send()
                .await
                .expect("answer");
            (res.status().as_u16(), res.text().await.unwrap_or_default())
        }
    };
    let (status, _) = scrape(channel).await;
    assert_eq!(status, 403, "an intake channel reads no metrics");
    let (status, text) = scrape(monitoring).await;
    assert_eq!(status, 200);
    for line in [
        "lifeline_hub_http_requests_total{route=\"/v1/requests\",method=\"POST\",status=\"201\"} 3",
        "lifeline_hub_http_requests_total{route=\"/v1/metrics\",method=\"GET\",status=\"403\"} 1",
        "lifeline_hub_http_request_duration_seconds_count{route=\"/v1/requests\"} 3",
        "lifeline_hub_change_feed_head 3",
        "lifeline_hub_db_connections_max 8",
        "lifeline_hub_event_streams_open 0",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    assert!(!text.contains("M-0"), "no request ids in the metrics");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_channels_rate_limit_holds_across_replicas() {
    let dir = tempfile::tempdir().expect("dir");
    let url = server().database(&unique("limits"));
    // One intake a second, bursts of ten, per channel.
    let extra = ["--intake-rate", "1"];
    let a = HubProcess::start_on(
        &dir.path().join("a"),
        url.clone().into(),
        "127.0.0.1:0",
        &extra,
    );
    let b = HubProcess::start_on(
        &dir.path().join("b"),
        url.clone().into(),
        "127.0.0.1:0",
        &extra,
    );
    let channel = lifeline_tests::hub::secret_in(&admin_on(&url, &["channels", "add", "sms"]));
    let http = client();
    let mut accepted = 0;
    for i in 0..16 {
        let hub = if i % 2 == 0 { a.url() } else { b.url() };
        let res = http
            .post(format!("{hub}/v1/requests"))
            .bearer_auth(&channel)
            .header("content-type", "application/json")
            .body(intake(&format!("L-{i}"), i).to_string())
            .send()
            .await
            .expect("answer");
        match res.status().as_u16() {
            201 => accepted += 1,
            429 => assert!(res.headers().contains_key("retry-after")),
            other => panic!("intake answered {other}"),
        }
    }
    // Each replica limiting on its own would have taken all 16 (a burst of ten each).
    assert!(
        (10..=11).contains(&accepted),
        "the channel's burst of ten holds over both replicas: {accepted} taken"
    );
}
