//! A misbehaving hub: the desk keeps running, quarantines what is bad, and recovers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lifeline_core::Store;
use lifeline_sync::{Limits, Stop, SyncEngine};
use lifeline_tests::fake_hub::{FakeHub, Fault};

fn record(i: usize, lat: f64) -> serde_json::Value {
    serde_json::json!({
        "id": format!("F-{i}"),
        "channel": "hotline",
        "category": "medical",
        "citizen": {"name": format!("citizen {i}")},
        "location": {"lat": lat, "lon": 100.5},
        "created_at": "2026-11-25T08:00:00Z",
        "version": 1,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_desk_survives_a_misbehaving_hub_and_quarantines_bad_records() {
    let mut records: Vec<_> = (0..30).map(|i| record(i, 13.7)).collect();
    records[17] = record(17, 200.0);
    let fake = FakeHub::start(records).await;
    for fault in [
        Fault::Status500,
        Fault::RateLimited {
            retry_after_secs: 2,
        },
        Fault::Trickle,
        Fault::Truncated,
        Fault::InvalidJson,
        Fault::GzipBomb { inflated_mb: 64 },
    ] {
        fake.fail_next(fault);
    }
    let dir = tempfile::tempdir().expect("dir");
    let store = Arc::new(Store::open(dir.path().join("desk.sqlite")).expect("store"));
    let limits = Limits {
        read_timeout: Duration::from_millis(800),
        max_body: 1024 * 1024,
        ..Limits::default()
    };
    let engine = SyncEngine::builder(Arc::clone(&store))
        .hub(&fake.url, "t")
        .page_size(10)
        .limits(limits)
        .poll_interval(Duration::from_millis(100))
        .backoff(Duration::from_millis(20), Duration::from_millis(200))
        .build()
        .expect("engine");
    let (stop, signal) = Stop::new();
    let started = Instant::now();
    let task = tokio::spawn({
        let engine = engine.clone();
        async move { engine.run(signal).await }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.request_count().expect("count") < 29 {
        assert!(
            Instant::now() < deadline,
            "the desk did not recover; hub served {:?}",
            fake.served()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();
    stop.stop();
    let _ = task.await;

    let served = fake.served();
    assert_eq!(
        &served[..6],
        [
            "Status500",
            "RateLimited { retry_after_secs: 2 }",
            "Trickle",
            "Truncated",
            "InvalidJson",
            "GzipBomb { inflated_mb: 64 }"
        ]
    );
    assert!(
        served[6..].iter().all(|s| s == "ok"),
        "then healthy pages: {served:?}"
    );
    assert!(
        elapsed >= Duration::from_secs(2),
        "Retry-After was honoured ({elapsed:?})"
    );
    assert_eq!(
        store.request_count().expect("count"),
        29,
        "every good record landed"
    );
    let quarantined = store.quarantined(10).expect("quarantine");
    assert_eq!(
        quarantined.len(),
        1,
        "only the impossible record is quarantined"
    );
    assert!(
        quarantined[0].reason.contains("location.lat"),
        "{}",
        quarantined[0].reason
    );
    assert_eq!(quarantined[0].record_ref.as_deref(), Some("request F-17"));
    assert!(store.get_request("F-17").expect("read").is_none());
    assert!(store.integrity_check().expect("check").is_empty());
    let health = store
        .source_state(&fake.url)
        .expect("state")
        .expect("source recorded");
    assert!(
        health.last_success.is_some() && health.last_error.is_none(),
        "health recovered: {health:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_over_the_size_cap_are_fetched_in_smaller_pages() {
    // Thirty requests with the longest description allowed (~15 KiB each): a page of ten is
    // ~150 KiB, over a 64 KiB cap; a page of two fits. Without smaller pages the pull would
    // fail the same way forever.
    let records: Vec<_> = (0..30)
        .map(|i| {
            let mut r = record(i, 13.7);
            r["description"] = serde_json::Value::String(format!("{i} {}", "长".repeat(5_000)));
            r
        })
        .collect();
    let fake = FakeHub::start(records).await;
    let dir = tempfile::tempdir().expect("dir");
    let store = Arc::new(Store::open(dir.path().join("desk.sqlite")).expect("store"));
    let engine = SyncEngine::builder(Arc::clone(&store))
        .hub(&fake.url, "t")
        .page_size(10)
        .limits(Limits {
            max_body: 64 * 1024,
            ..Limits::default()
        })
        .build()
        .expect("engine");
    let report = tokio::time::timeout(Duration::from_secs(30), engine.sync_once())
        .await
        .expect("the pull finishes")
        .expect("the pull succeeds");
    assert_eq!(
        (report.pulled, report.quarantined),
        (30, 0),
        "every record arrived"
    );
    assert_eq!(store.request_count().expect("count"), 30);
}
