//! Limits and transports: rate limits, error shapes, idle connections, plain HTTP and
//! untrusted certificates, a full case log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lifeline_core::Store;
use lifeline_sync::{HubAuth, SessionAuth, SyncEngine, SyncError};
use lifeline_tests::hub::HubProcess;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{PASSWORD, Trust};

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_answer_429_with_retry_after_in_the_protocols_shape() {
    let t = Trust::start(&["--intake-rate", "1"]);
    let mut limited = None;
    for i in 0..40 {
        let (status, body) = t
            .post(&t.channel, "/v1/requests", json!({"id": format!("R-{i}"), "channel": "hotline", "category": "medical", "citizen": {"name": "x"}}))
            .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((i, body));
            break;
        }
    }
    let (n, body) = limited.expect("the channel is limited");
    assert!(
        (10..=12).contains(&n),
        "a burst of ten goes through first, the next is limited (at {n})"
    );
    assert_eq!(body["error"]["code"], "rate_limited");
    let res = t
        .client
        .post(t.url("/v1/requests"))
        .bearer_auth(&t.channel)
        .header("content-type", "application/json")
        .body(
            (json!({"channel": "hotline", "category": "medical", "citizen": {"name": "x"}}))
                .to_string(),
        )
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        res.headers().get("retry-after").is_some(),
        "with Retry-After"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn framework_errors_are_json_and_every_answer_says_nosniff() {
    let t = Trust::start(&[]);
    let li = t.token("li", "desk-li").await;
    // Just over the 64 KB cap: the hub answers once it has read past the cap, before the
    // whole body, and a much larger one would still be being written when it closes.
    let big = "x".repeat(70 * 1024);
    // The hub answers before reading the whole body and then closes the connection.
    let res = t
        .client
        .post(t.url("/v1/auth/sign-in"))
        .header("connection", "close")
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        res.headers()
            .get("x-content-type-options")
            .map(|v| v.as_bytes()),
        Some(&b"nosniff"[..])
    );
    let body: Value =
        serde_json::from_str(&res.text().await.expect("body")).expect("JSON, not plain text");
    assert_eq!(body["error"]["code"], "payload_too_large");
    let res = t
        .client
        .delete(t.url("/v1/requests"))
        .bearer_auth(&li)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = serde_json::from_str(&res.text().await.expect("body")).expect("JSON");
    assert_eq!(body["error"]["code"], "method_not_allowed");
    let res = t
        .client
        .get(t.url("/v1/health"))
        .send()
        .await
        .expect("answer");
    assert_eq!(
        res.headers()
            .get("x-content-type-options")
            .map(|v| v.as_bytes()),
        Some(&b"nosniff"[..])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_and_half_sent_connections_do_not_lock_the_hub_out() {
    let t = Trust::start(&[
        "--header-timeout",
        "2",
        "--max-connections-per-address",
        "200",
    ]);
    let addr: std::net::SocketAddr = t.hub.addr.parse().expect("address");
    // 1,100 connections from 127.0.0.1 that never finish a request: half say nothing, half
    // send part of a request head.
    let mut idle = Vec::new();
    for i in 0..1100 {
        let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
            continue;
        };
        if i % 2 == 0 {
            use tokio::io::AsyncWriteExt;
            let _ = s.write_all(b"GET /v1/health HTTP/1.1\r\nHost: 127").await;
        }
        idle.push(s);
    }
    // Another address (another desk) is served at once.
    let other = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&t.hub.ca_pem()).expect("CA"))
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let started = Instant::now();
    let res = other
        .get(t.url("/v1/health"))
        .send()
        .await
        .expect("the hub answers another address");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "at once: {:?}",
        started.elapsed()
    );
    // Past the header timeout the idle ones are closed, and the same address is served again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let res = t
        .client
        .get(t.url("/v1/health"))
        .send()
        .await
        .expect("answers the crowded address too");
    assert_eq!(res.status(), StatusCode::OK);
    drop(idle);
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_off_this_computer_and_an_untrusted_certificate_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(dir.path().join("desk.sqlite")).expect("store"));
    // Refused when the engine is built: nothing is ever sent.
    let err = SyncEngine::builder(Arc::clone(&store))
        .hub("http://hub.example.org:7070", "t")
        .build()
        .expect_err("plain http off loopback");
    assert!(err.to_string().contains("refusing plain http://"), "{err}");
    let out = crate::lifeline()
        .arg("--db")
        .arg(dir.path().join("cli.sqlite"))
        .args(["sync", "--once", "--hub", "http://hub.example.org:7070"])
        .env("LIFELINE_HUB_TOKEN", "t")
        .output()
        .expect("run lifeline");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refusing plain http://"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A TLS hub whose CA the desk was not given: refused, saying why.
    let t = Trust::start(&[]);
    let untrusting = SyncEngine::builder(Arc::clone(&store))
        .hub_auth(
            t.hub.url(),
            HubAuth::Session(Arc::new(SessionAuth::with_password(
                "li",
                PASSWORD.into(),
                "d",
                None,
            ))),
        )
        .build()
        .expect("engine");
    let err = untrusting.sync_once().await.expect_err("an unknown CA");
    assert!(
        matches!(&err, SyncError::Session(_) | SyncError::Http(_))
            && err.to_string().contains("certificate"),
        "{err}"
    );
    // Another local CA is not this hub's.
    let other = tempfile::tempdir().expect("tempdir");
    let made = lifeline_tests::hub::hub_command()
        .args(["dev-ca", "--out"])
        .arg(other.path())
        .output()
        .expect("dev-ca");
    assert!(made.status.success());
    let wrong = SyncEngine::builder(Arc::clone(&store))
        .hub_auth(
            t.hub.url(),
            HubAuth::Session(Arc::new(SessionAuth::with_password(
                "li",
                PASSWORD.into(),
                "d",
                None,
            ))),
        )
        .extra_roots(vec![
            std::fs::read(other.path().join("ca.pem")).expect("ca"),
        ])
        .build()
        .expect("engine");
    assert!(
        wrong
            .sync_once()
            .await
            .expect_err("the wrong CA")
            .to_string()
            .contains("certificate")
    );
    // The right CA works.
    let right = SyncEngine::builder(store)
        .hub_auth(
            t.hub.url(),
            HubAuth::Session(Arc::new(SessionAuth::with_password(
                "li",
                PASSWORD.into(),
                "d",
                None,
            ))),
        )
        .extra_roots(vec![t.hub.ca_pem()])
        .build()
        .expect("engine");
    right.sync_once().await.expect("the local CA is trusted");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_with_a_full_case_log_still_syncs() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A cap of 60 keeps the test quick; the hub's unit tests check that a log at the real
    // cap (1,000) of the longest notes still fits a desk's page.
    let hub = HubProcess::start(
        &dir.path().join("hub.sqlite"),
        "127.0.0.1:0",
        &["--max-case-events", "60"],
    );
    let client = reqwest::Client::new();
    let url = hub.url();
    let token = lifeline_tests::hub::TOKEN;
    let res = client.post(format!("{url}/v1/requests")).bearer_auth(token).header("content-type", "application/json").body((json!({"id": "FULL", "channel": "app", "category": "other", "citizen": {"name": "x"}})).to_string()).send().await.expect("intake");
    assert!(res.status().is_success());
    // The created event plus 59 of the longest notes: the log is at its cap.
    let note = "n".repeat(16 * 1024);
    let mut full = None;
    for i in 0..100 {
        let res = client
            .post(format!("{url}/v1/requests/FULL/actions"))
            .bearer_auth(token)
            .header("Idempotency-Key", format!("note-{i}"))
            .header("content-type", "application/json")
            .body((json!({"action": "add_note", "text": note, "base_version": 1})).to_string())
            .send()
            .await
            .expect("note");
        if res.status() == StatusCode::UNPROCESSABLE_ENTITY {
            let body: Value = serde_json::from_str(&res.text().await.expect("body")).expect("json");
            full = Some((i, body));
            break;
        }
        assert_eq!(res.status(), StatusCode::OK);
    }
    let (i, body) = full.expect("the log fills");
    assert_eq!(i, 59, "60 entries fit");
    assert_eq!(body["error"]["code"], "case_log_full");
    let store = Arc::new(Store::open(dir.path().join("desk.sqlite")).expect("store"));
    let engine = SyncEngine::builder(Arc::clone(&store))
        .hub(&url, token)
        .build()
        .expect("engine");
    engine.sync_once().await.expect("a full record still syncs");
    let (_, events) = store
        .request_with_events("FULL")
        .expect("read")
        .expect("synced");
    assert_eq!(events.len(), 60);
}
