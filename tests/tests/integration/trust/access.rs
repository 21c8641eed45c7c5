//! Who may see and do what: channels, posts, moves between posts, the actor, sessions,
//! lock-out, and exports with personal data.

use std::sync::Arc;
use std::time::Duration;

use lifeline_core::Store;
use lifeline_core::store::RequestQuery;
use lifeline_sync::{HubAuth, SessionAuth, SyncEngine};
use lifeline_tests::hub::admin;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{PASSWORD, Trust};

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
