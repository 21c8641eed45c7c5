//! The hub as a ministry's security review would try it: the real `lifeline-hub` over HTTPS
//! on 127.0.0.1 with a CA made at test start, posts and officers made with its own
//! administration commands, and real desks (store + sync engine) signed in as officers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lifeline_core::Store;
use lifeline_core::store::RequestQuery;
use lifeline_sync::{HubAuth, SessionAuth, SyncEngine, SyncError};
use lifeline_tests::hub::{HubProcess, admin, secret_in};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

/// A TLS hub with two posts (Bangkok, Nairobi), officers of each role, and an intake
/// channel.
struct Trust {
    dir: tempfile::TempDir,
    hub: HubProcess,
    client: reqwest::Client,
    channel: String,
}

fn accounts(db: &std::path::Path) -> String {
    admin(
        db,
        &[
            "posts",
            "add",
            "th-bangkok",
            "--name-en",
            "Embassy Bangkok",
            "--name-zh",
            "驻泰国使馆",
            "--countries",
            "TH",
        ],
        None,
    );
    admin(
        db,
        &[
            "posts",
            "add",
            "ke-nairobi",
            "--name-en",
            "Embassy Nairobi",
            "--name-zh",
            "驻肯尼亚使馆",
            "--countries",
            "KE",
        ],
        None,
    );
    for (id, role, posts) in [
        ("li", "duty_officer", "th-bangkok"),
        ("wang", "duty_officer", "ke-nairobi"),
        ("zhou", "regional_viewer", "th-bangkok,ke-nairobi"),
        ("sun", "supervisor", "th-bangkok,ke-nairobi"),
    ] {
        admin(
            db,
            &[
                "officers",
                "add",
                id,
                "--name",
                id,
                "--role",
                role,
                "--posts",
                posts,
                "--password-stdin",
            ],
            Some(PASSWORD),
        );
    }
    secret_in(&admin(db, &["channels", "add", "hotline"], None))
}

impl Trust {
    fn start(extra: &[&str]) -> Trust {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("hub.sqlite");
        let channel = accounts(&db);
        let hub = HubProcess::start_tls(&db, extra);
        let client = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&hub.ca_pem()).expect("CA"))
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client");
        Trust {
            dir,
            hub,
            client,
            channel,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.hub.url())
    }

    async fn call(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body((b).to_string());
        }
        let res = req.send().await.expect("the hub answers");
        let status = res.status();
        let text = res.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, token, path, None, &[])
            .await
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, token, path, Some(body), &[])
            .await
    }

    async fn sign_in(&self, officer: &str, desk: &str) -> Value {
        let res = self
            .client
            .post(self.url("/v1/auth/sign-in"))
            .header("content-type", "application/json")
            .body((json!({"officer": officer, "password": PASSWORD, "desk": desk})).to_string())
            .send()
            .await
            .expect("sign-in answers");
        assert_eq!(res.status(), StatusCode::OK, "{officer} signs in");
        serde_json::from_str(&res.text().await.expect("body")).expect("session")
    }

    async fn token(&self, officer: &str, desk: &str) -> String {
        self.sign_in(officer, desk).await["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    async fn intake(&self, id: &str, country: &str) {
        let (lat, lon) = if country == "TH" {
            (13.75, 100.5)
        } else {
            (-1.29, 36.82)
        };
        let (status, body) = self
            .post(
                &self.channel,
                "/v1/requests",
                json!({
                    "id": id, "channel": "hotline", "category": "medical", "emergency": true,
                    "citizen": {"name": format!("citizen of {id}"), "phone": "+8613800138000"},
                    "location": {"lat": lat, "lon": lon, "country": country},
                    "description": "needs a doctor"
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "intake of {id}: {body}");
    }

    /// Every request id the officer's change feed serves, and the ids it says to remove.
    async fn feed(&self, token: &str) -> (Vec<String>, Vec<String>) {
        let (status, page) = self.get(token, "/v1/requests?limit=1000").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let ids = page["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
            .collect();
        let removed = page["removed"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        (ids, removed)
    }

    /// The ids of `request` events the stream sends within `wait`.
    async fn streamed(&self, token: &str, wait: Duration) -> Vec<String> {
        let mut res = self
            .client
            .get(self.url("/v1/events"))
            .bearer_auth(token)
            .send()
            .await
            .expect("stream");
        assert_eq!(res.status(), StatusCode::OK);
        let mut text = String::new();
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            match tokio::time::timeout(deadline - Instant::now(), res.chunk()).await {
                Ok(Ok(Some(c))) => text.push_str(&String::from_utf8_lossy(&c)),
                _ => break,
            }
        }
        text.split("\n\n")
            .filter(|e| e.contains("event: request"))
            .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .filter_map(|v| v["id"].as_str().map(str::to_owned))
            .collect()
    }

    fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("hub.sqlite")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_intake_channel_cannot_read_act_publish_or_stream() {
    let t = Trust::start(&[]);
    t.intake("TH-1", "TH").await;
    let ch = t.channel.clone();
    assert_eq!(
        t.get(&ch, "/v1/requests").await.0,
        StatusCode::FORBIDDEN,
        "no feed"
    );
    assert_eq!(
        t.get(&ch, "/v1/requests/TH-1").await.0,
        StatusCode::FORBIDDEN,
        "no single read"
    );
    assert_eq!(
        t.get(&ch, "/v1/events").await.0,
        StatusCode::FORBIDDEN,
        "no stream"
    );
    assert_eq!(
        t.get(&ch, "/v1/claims").await.0,
        StatusCode::FORBIDDEN,
        "no claims"
    );
    let (status, _) = t
        .call(
            reqwest::Method::POST,
            &ch,
            "/v1/requests/TH-1/actions",
            Some(json!({"action": "acknowledge", "base_version": 1})),
            &[("Idempotency-Key", "k1")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no actions");
    let (status, _) = t
        .call(reqwest::Method::POST, &ch, "/v1/advisories", None, &[])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no publishing");
    // And the intake answer itself echoes no personal data back.
    let (_, again) = t
        .post(&ch, "/v1/requests", json!({"id": "TH-1", "channel": "hotline", "category": "medical", "citizen": {"name": "x"}}))
        .await;
    assert!(
        again.get("citizen").is_none() && again["id"] == "TH-1",
        "a receipt, not the record: {again}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_officer_never_receives_another_posts_request() {
    let t = Trust::start(&[]);
    t.intake("TH-1", "TH").await;
    t.intake("KE-1", "KE").await;
    let li = t.token("li", "desk-li").await;
    let (ids, _) = t.feed(&li).await;
    assert_eq!(
        ids,
        ["TH-1"],
        "Bangkok's officer pages only Bangkok's requests"
    );
    assert_eq!(
        t.get(&li, "/v1/requests/KE-1").await.0,
        StatusCode::NOT_FOUND,
        "another post's request does not exist for them"
    );
    assert_eq!(t.get(&li, "/v1/requests/TH-1").await.0, StatusCode::OK);
    let streamed = t.streamed(&li, Duration::from_secs(2)).await;
    assert_eq!(streamed, ["TH-1"], "the stream carries only Bangkok's");
    // Claims on Nairobi's request are not shown to Bangkok.
    let wang = t.token("wang", "desk-wang").await;
    let (status, _) = t.post(&wang, "/v1/requests/KE-1/claim", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, claims) = t.get(&li, "/v1/claims").await;
    assert_eq!(
        claims,
        json!([]),
        "Bangkok sees no claim on Nairobi's request"
    );
    let (status, _) = t.post(&li, "/v1/requests/KE-1/claim", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nor can it claim one");
    // Nor learn that one exists by naming it as an original.
    let (status, body) = t
        .call(
            reqwest::Method::POST,
            &li,
            "/v1/requests/TH-1/actions",
            Some(json!({"action": "mark_duplicate", "of": "KE-1", "base_version": 1})),
            &[("Idempotency-Key", "k-dup")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no request KE-1")),
        "answered as if it did not exist: {body}"
    );
    // A regional viewer over both posts sees both.
    let zhou = t.token("zhou", "desk-zhou").await;
    let (mut ids, _) = t.feed(&zhou).await;
    ids.sort();
    assert_eq!(ids, ["KE-1", "TH-1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_moved_to_another_post_leaves_the_old_posts_desks() {
    let t = Trust::start(&[]);
    t.intake("TH-1", "TH").await;
    t.intake("TH-2", "TH").await;
    // A real desk of Bangkok, signed in as Li, trusting the local CA.
    let store = Arc::new(Store::open(t.dir.path().join("desk-li.sqlite")).expect("desk store"));
    let auth = HubAuth::Session(Arc::new(SessionAuth::with_password(
        "li",
        PASSWORD.into(),
        "desk-li",
        None,
    )));
    let engine = SyncEngine::builder(Arc::clone(&store))
        .hub_auth(t.hub.url(), auth)
        .extra_roots(vec![t.hub.ca_pem()])
        .desk("desk-li")
        .build()
        .expect("engine");
    engine.sync_once().await.expect("first sync");
    let held = |s: &Store| {
        let mut ids: Vec<String> = s
            .query_requests(&RequestQuery::default())
            .expect("query")
            .into_iter()
            .map(|r| r.request.id)
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(held(&store), ["TH-1", "TH-2"]);
    // A supervisor moves TH-2 to Nairobi.
    let sun = t.token("sun", "desk-sun").await;
    let (status, moved) = t
        .post(
            &sun,
            "/v1/requests/TH-2/transfer",
            json!({"post": "ke-nairobi"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["post"], "ke-nairobi");
    let li = t.token("li", "desk-li-2").await;
    let (ids, removed) = t.feed(&li).await;
    assert_eq!(
        (ids, removed),
        (vec!["TH-1".to_owned()], vec!["TH-2".to_owned()]),
        "the old post's feed says to drop it"
    );
    engine.sync_once().await.expect("second sync");
    assert_eq!(
        held(&store),
        ["TH-1"],
        "Bangkok's desk no longer holds TH-2"
    );
    assert!(
        store.request_with_events("TH-2").expect("read").is_none(),
        "nor its case log"
    );
    // Nairobi's officer now has it, with the move in its case log.
    let wang = t.token("wang", "desk-wang").await;
    let (status, record) = t.get(&wang, "/v1/requests/TH-2").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        record["events"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["kind"] == "transferred" && e["actor"] == "desk-sun/sun"),
        "{record}"
    );
    // A duty officer may not move requests.
    let (status, _) = t
        .post(
            &li,
            "/v1/requests/TH-1/transfer",
            json!({"post": "ke-nairobi"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_actor_is_the_signed_in_officer_and_a_body_that_disagrees_is_refused() {
    let t = Trust::start(&[]);
    t.intake("TH-1", "TH").await;
    let li = t.token("li", "desk-li").await;
    let act = |key: &'static str, body: Value| {
        let (t, li) = (&t, li.clone());
        async move {
            t.call(
                reqwest::Method::POST,
                &li,
                "/v1/requests/TH-1/actions",
                Some(body),
                &[("Idempotency-Key", key)],
            )
            .await
        }
    };
    let (status, body) = act(
        "k-forged",
        json!({"action": "acknowledge", "base_version": 1, "actor": "desk-x/wang"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "actor_mismatch");
    let (status, record) = act("k-ack", json!({"action": "acknowledge", "base_version": 1})).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    let ack = record["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["kind"] == "status_changed")
        .cloned()
        .expect("the acknowledgement's event");
    assert_eq!(
        ack["actor"], "desk-li/li",
        "the case event names the signed-in officer and desk"
    );
    // A regional viewer reads but cannot act.
    let zhou = t.token("zhou", "desk-zhou").await;
    let (status, _) = t
        .call(
            reqwest::Method::POST,
            &zhou,
            "/v1/requests/TH-1/actions",
            Some(json!({"action": "add_note", "text": "x", "base_version": 2})),
            &[("Idempotency-Key", "k-z")],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a regional viewer cannot act"
    );
    assert_eq!(
        t.get(&zhou, "/v1/requests/TH-1").await.0,
        StatusCode::OK,
        "but reads"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_session_is_refused_at_its_next_request() {
    let t = Trust::start(&[]);
    let session = t.sign_in("li", "desk-li").await;
    let token = session["access_token"].as_str().expect("token").to_owned();
    assert_eq!(t.get(&token, "/v1/requests").await.0, StatusCode::OK);
    let id = session["session_id"].as_str().expect("id");
    let stream = t
        .client
        .get(t.url("/v1/events"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), StatusCode::OK);
    let listed = admin(&t.db(), &["sessions", "list", "--officer", "li"], None);
    assert!(listed.contains(id) && listed.contains("live"), "{listed}");
    admin(&t.db(), &["sessions", "revoke", id], None);
    assert_eq!(
        t.get(&token, "/v1/requests").await.0,
        StatusCode::UNAUTHORIZED,
        "refused at once"
    );
    let refreshed = t
        .client
        .post(t.url("/v1/auth/refresh"))
        .header("content-type", "application/json")
        .body((json!({"refresh_token": session["refresh_token"], "desk": "desk-li"})).to_string())
        .send()
        .await
        .expect("refresh answers");
    assert_eq!(
        refreshed.status(),
        StatusCode::UNAUTHORIZED,
        "and cannot be refreshed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refresh_token_works_only_at_its_own_desk() {
    let t = Trust::start(&[]);
    let session = t.sign_in("li", "desk-li").await;
    let refresh = |desk: &'static str, token: Value| {
        let t = &t;
        async move {
            let res = t
                .client
                .post(t.url("/v1/auth/refresh"))
                .header("content-type", "application/json")
                .body((json!({"refresh_token": token, "desk": desk})).to_string())
                .send()
                .await
                .expect("answer");
            (
                res.status(),
                serde_json::from_str::<Value>(&res.text().await.unwrap_or_default())
                    .unwrap_or(Value::Null),
            )
        }
    };
    let (status, fresh) = refresh("desk-li", session["refresh_token"].clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(
        fresh["refresh_token"], session["refresh_token"],
        "refresh tokens rotate"
    );
    assert_eq!(
        refresh("desk-li", session["refresh_token"].clone()).await.0,
        StatusCode::UNAUTHORIZED,
        "the old one is spent"
    );
    assert_eq!(
        refresh("desk-other", fresh["refresh_token"].clone())
            .await
            .0,
        StatusCode::UNAUTHORIZED,
        "copied to another desk: refused"
    );
    assert_eq!(
        refresh("desk-li", fresh["refresh_token"].clone()).await.0,
        StatusCode::UNAUTHORIZED,
        "and the session is ended for all"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn repeated_failed_sign_ins_lock_the_account() {
    let t = Trust::start(&[]);
    let attempt = |password: &'static str| {
        let t = &t;
        async move {
            let res = t
                .client
                .post(t.url("/v1/auth/sign-in"))
                .header("content-type", "application/json")
                .body((json!({"officer": "li", "password": password, "desk": "d"})).to_string())
                .send()
                .await
                .expect("answer");
            let retry = res
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap_or_default().to_owned());
            (
                res.status(),
                retry,
                serde_json::from_str::<Value>(&res.text().await.unwrap_or_default())
                    .unwrap_or(Value::Null),
            )
        }
    };
    for n in 1..5 {
        let (status, _, body) = attempt("wrong password!!").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "failure {n}: {body}");
    }
    let (status, retry, body) = attempt("wrong password!!").await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the fifth failure locks: {body}"
    );
    assert_eq!(body["error"]["code"], "locked_out");
    assert!(
        retry.is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s > 60)),
        "Retry-After says how long"
    );
    let (status, _, _) = attempt(PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits out the lock"
    );
    let listed = admin(&t.db(), &["officers", "list"], None);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("li ") && l.contains("locked until")),
        "{listed}"
    );
    // An administrator's reset lifts it.
    admin(
        &t.db(),
        &["officers", "reset-password", "li", "--password-stdin"],
        Some(PASSWORD),
    );
    assert_eq!(attempt(PASSWORD).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_trail_verifies_and_a_hand_edited_row_breaks_it() {
    let t = Trust::start(&[]);
    t.intake("TH-1", "TH").await;
    let li = t.token("li", "desk-li").await;
    assert_eq!(t.get(&li, "/v1/requests/TH-1").await.0, StatusCode::OK);
    let _ = t
        .client
        .post(t.url("/v1/auth/sign-in"))
        .header("content-type", "application/json")
        .body((json!({"officer": "li", "password": "not it at all", "desk": "d"})).to_string())
        .send()
        .await;
    let exported = admin(&t.db(), &["audit", "export", "--since", "2000-01-01"], None);
    for action in [
        "officer_added",
        "channel_added",
        "intake",
        "sign_in",
        "read_request",
        "sign_in_failed",
    ] {
        assert!(
            exported.contains(&format!("\"action\":\"{action}\"")),
            "the trail records {action}: {exported}"
        );
    }
    assert!(
        !exported.contains("citizen of TH-1") && !exported.contains("+8613800138000"),
        "no personal data in the trail"
    );
    let verified = admin(&t.db(), &["audit", "verify"], None);
    assert!(verified.contains("verifies"), "{verified}");
    // Someone with the database file edits an entry (past the trigger that forbids it).
    let conn = rusqlite_free_edit(&t.db());
    assert!(conn, "the edit was made");
    let out = lifeline_tests::hub::hub_command()
        .arg("--db")
        .arg(t.db())
        .args(["audit", "verify"])
        .output()
        .expect("run");
    assert!(!out.status.success(), "verify fails after the edit");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not verify") && err.contains("entry"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_audit_trail_is_archived_and_still_verifies() {
    let t = Trust::start(&[]);
    t.intake("TH-1", "TH").await;
    let li = t.token("li", "desk-li").await;
    assert_eq!(t.get(&li, "/v1/requests/TH-1").await.0, StatusCode::OK);
    let archive = t.dir.path().join("audit-archive.jsonl");
    let rotated = admin(
        &t.db(),
        &[
            "audit",
            "rotate",
            "--before",
            "2100-01-01",
            "--archive",
            &archive.display().to_string(),
        ],
        None,
    );
    assert!(rotated.contains("archived"), "{rotated}");
    let archived = std::fs::read_to_string(&archive).expect("the archive");
    assert!(
        archived.contains("\"action\":\"read_request\""),
        "the archive holds what was moved out"
    );
    // New entries chain on from the anchor the rotation left, and the whole verifies.
    assert_eq!(t.get(&li, "/v1/requests/TH-1").await.0, StatusCode::OK);
    let verified = admin(&t.db(), &["audit", "verify"], None);
    assert!(verified.contains("verifies"), "{verified}");
    let remaining = admin(&t.db(), &["audit", "export", "--since", "2000-01-01"], None);
    assert!(
        !remaining.contains("\"action\":\"officer_added\""),
        "old entries left the database"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_the_newest_audit_entries_is_detected() {
    let t = Trust::start(&[]);
    t.intake("TH-1", "TH").await;
    let _ = t.token("li", "desk-li").await;
    assert!(admin(&t.db(), &["audit", "verify"], None).contains("verifies"));
    // Someone with the file removes the last two entries (past the trigger refusing it):
    // every remaining hash still links, but the trail no longer ends where it did.
    let conn = rusqlite::Connection::open(t.db()).expect("open the hub file");
    conn.execute_batch("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq > (SELECT max(seq) - 2 FROM audit);")
        .expect("the cut");
    let out = lifeline_tests::hub::hub_command()
        .arg("--db")
        .arg(t.db())
        .args(["audit", "verify"])
        .output()
        .expect("run");
    assert!(!out.status.success(), "verify fails after the cut");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("newest entries were removed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exercise_hub_relays_no_real_warning() {
    let t = Trust::start(&["--exercise"]);
    let sun = t.token("sun", "desk-sun").await;
    let actual = std::fs::read(crate::fixture(
        "cap12-oasis-spec-a2-severe-thunderstorm-polygon.xml",
    ))
    .expect("fixture");
    let res = t
        .client
        .post(t.url("/v1/advisories"))
        .bearer_auth(&sun)
        .header("content-type", "application/cap+xml")
        .body(actual)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap_or_default()
            .contains("not_exercise")
    );
    // Intake on an exercise hub is marked as an exercise by its id.
    let (status, body) = t
        .post(
            &t.channel,
            "/v1/requests",
            json!({"id": "R-1", "channel": "app", "category": "medical", "citizen": {"name": "x"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["id"], "EX-R-1");
}

/// Edits the third audit entry as someone with the database file would (dropping the
/// trigger that refuses edits first).
fn rusqlite_free_edit(db: &std::path::Path) -> bool {
    let conn = rusqlite::Connection::open(db).expect("open the hub file");
    conn.execute_batch(
        "DROP TRIGGER audit_no_update; UPDATE audit SET detail = 'nothing happened' WHERE seq = (SELECT min(seq) + 2 FROM audit);",
    )
    .is_ok()
}

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

#[tokio::test(flavor = "multi_thread")]
async fn exports_carry_no_personal_data_unless_a_supervisor_asks_and_the_hub_records_it() {
    let t = Trust::start(&[]);
    let db = t.dir.path().join("desk.sqlite");
    let planted = t.dir.path().join("planted.jsonl");
    std::fs::write(
        &planted,
        json!({
            "id": "P-1", "channel": "hotline", "category": "detention", "created_at": "2026-11-25T10:00:00Z",
            "citizen": {"name": "Plantedname Zhang", "phone": "+8613912345678", "id_document": "E99887766"},
            "location": {"lat": 13.756331, "lon": 100.501765, "accuracy_m": 12, "address": "12 Planted Road", "country": "TH"},
            "description": "=HYPERLINK(\"http://x\") planted description"
        })
        .to_string()
            + "\n",
    )
    .expect("write");
    crate::run_ok(
        crate::lifeline()
            .arg("--db")
            .arg(&db)
            .arg("import")
            .arg(&planted),
    );
    let export = |args: &[&str], password: Option<&str>| {
        let mut cmd = crate::lifeline();
        cmd.arg("--db")
            .arg(&db)
            .args(["export", "requests"])
            .args(args);
        if let Some(p) = password {
            cmd.env("LIFELINE_HUB_PASSWORD", p);
        }
        cmd.output().expect("run lifeline")
    };
    let secrets = [
        "Plantedname",
        "+8613912345678",
        "8613912345678",
        "E99887766",
        "Planted Road",
        "planted description",
        "13.756331",
        "100.501765",
    ];
    for format in ["csv", "geojson"] {
        let out = export(&["--format", format], None);
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        for s in secrets {
            assert!(
                !text.contains(s),
                "a default {format} export carries no {s}: {text}"
            );
        }
        assert!(
            text.contains("13.76") && text.contains("100.5"),
            "the position, rounded to about 1 km: {text}"
        );
    }
    let ca = t.hub.ca.clone().expect("CA").display().to_string();
    let hub = t.hub.url();
    // A duty officer may not.
    let target = t.dir.path().join("personal.csv");
    let out = export(
        &[
            "--format",
            "csv",
            "--include-personal-data",
            "--hub",
            &hub,
            "--hub-ca",
            &ca,
            "--officer",
            "li",
            "--output",
            &target.display().to_string(),
        ],
        Some(PASSWORD),
    );
    assert!(!out.status.success(), "refused to a duty officer");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("did not allow"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!target.exists(), "nothing was written");
    // A supervisor may; the hub records it first, and cells still cannot run as formulas.
    let out = export(
        &[
            "--format",
            "csv",
            "--include-personal-data",
            "--hub",
            &hub,
            "--hub-ca",
            &ca,
            "--officer",
            "sun",
        ],
        Some(PASSWORD),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Plantedname Zhang") && text.contains("E99887766"),
        "{text}"
    );
    assert!(
        text.contains("'=HYPERLINK"),
        "the formula is neutralised: {text}"
    );
    let trail = admin(&t.db(), &["audit", "export", "--since", "2000-01-01"], None);
    assert!(
        trail.contains("\"action\":\"export_personal_data\"") && trail.contains("officer:sun"),
        "{trail}"
    );
}
