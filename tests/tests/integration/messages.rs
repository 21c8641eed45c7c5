//! The conversation with the citizen through the real hub: an officer's reply written
//! offline reaches the channel once, the channel's receipts and the citizen's answers reach
//! the desk, and a thread is seen only by the post that has the request, moves with it,
//! and is erased with it.

use std::sync::Arc;

use lifeline_core::Store;
use lifeline_core::model::{Delivery, Direction, TriageAction};
use lifeline_sync::{HubAuth, SessionAuth, SyncEngine};
use lifeline_tests::hub::{admin, secret_in};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::trust::{PASSWORD, Trust};

/// A real desk store and sync engine, signed in as `officer`.
pub(crate) fn desk(t: &Trust, officer: &str) -> (Arc<Store>, SyncEngine) {
    let desk = format!("desk-{officer}");
    let store =
        Arc::new(Store::open(t.dir.path().join(format!("{desk}.sqlite"))).expect("desk store"));
    let auth = HubAuth::Session(Arc::new(SessionAuth::with_password(
        officer,
        PASSWORD.into(),
        &desk,
        None,
    )));
    let engine = SyncEngine::builder(Arc::clone(&store))
        .hub_auth(t.hub.url(), auth)
        .extra_roots(vec![t.hub.ca_pem()])
        .desk(&desk)
        .build()
        .expect("engine");
    (store, engine)
}

/// What the channel has to carry, as (id, text).
async fn outbox(t: &Trust, channel: &str) -> Vec<(String, String)> {
    let (status, body) = t.get(channel, "/v1/channel/outbox").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap_or_default().to_owned(),
                m["text"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn receipt(t: &Trust, channel: &str, id: &str, delivery: &str) -> (StatusCode, Value) {
    t.post(
        channel,
        &format!("/v1/messages/{id}/receipt"),
        json!({ "delivery": delivery }),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_written_offline_reaches_the_channel_once_and_the_answers_come_back() {
    let mut t = Trust::start(&[]);
    t.intake("TH-1", "TH").await;
    let (store, engine) = desk(&t, "li");
    engine.sync_once().await.expect("first sync");

    // The hub goes away; the officer writes all the same.
    t.hub.kill();
    let reply = TriageAction::SendMessage {
        text: "请告诉我们您现在的准确位置".into(),
        template: Some("where_exactly".into()),
    };
    store
        .queue_action(
            "TH-1",
            &reply,
            "desk-li/li",
            "k-reply-1",
            chrono::Utc::now(),
        )
        .expect("queued offline");
    let thread = store.thread("TH-1").expect("thread");
    assert_eq!(thread.len(), 1);
    assert_eq!(
        thread[0].delivery,
        Delivery::Pending,
        "shown as pending while offline"
    );
    assert!(engine.sync_once().await.is_err(), "the hub is away");

    // Back: the outbox drains; a second drain (a desk that died before it recorded the
    // answer sends the same key again) changes nothing.
    t.hub.restart();
    engine
        .sync_once()
        .await
        .expect("sync after the hub returns");
    let li = t.token("li", "desk-li-http").await;
    let (status, again) = t
        .call(
            reqwest::Method::POST,
            &li,
            "/v1/requests/TH-1/actions",
            Some(json!({ "action": "send_message", "text": "请告诉我们您现在的准确位置", "template": "where_exactly", "base_version": 1 })),
            &[("Idempotency-Key", "k-reply-1")],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the repeat is answered as first: {again}"
    );
    let waiting = outbox(&t, &t.channel).await;
    assert_eq!(
        waiting.len(),
        1,
        "exactly one message to carry: {waiting:?}"
    );
    let (message_id, text) = &waiting[0];
    assert_eq!(text, "请告诉我们您现在的准确位置");
    assert_eq!(
        message_id, "m-k-reply-1",
        "the desk's pending copy and the hub's are one"
    );

    // The channel carries it and says so; a late `sent` after `read` moves nothing back.
    for delivery in ["sent", "delivered", "read"] {
        let (status, body) = receipt(&t, &t.channel, message_id, delivery).await;
        assert_eq!(status, StatusCode::OK, "{delivery}: {body}");
    }
    let (status, body) = receipt(&t, &t.channel, message_id, "sent").await;
    assert_eq!(
        (status, body["delivery"].as_str()),
        (StatusCode::OK, Some("read"))
    );
    assert!(
        outbox(&t, &t.channel).await.is_empty(),
        "nothing left to carry"
    );
    let (status, _) = receipt(&t, &t.channel, message_id, "failed").await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a failure needs its reason"
    );

    // The citizen answers, through the same channel; a repeat of the channel's id is one.
    let answer = json!({ "id": "wa-77", "text": "我们在酒店大堂，二十多人" });
    let (status, _) = t
        .post(&t.channel, "/v1/requests/TH-1/messages", answer.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = t
        .post(&t.channel, "/v1/requests/TH-1/messages", answer)
        .await;
    assert_eq!(status, StatusCode::OK);

    engine.sync_once().await.expect("sync");
    let thread = store.thread("TH-1").expect("thread");
    let summary: Vec<(Direction, Delivery, &str)> = thread
        .iter()
        .map(|m| (m.direction, m.delivery, m.text.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                Direction::Outbound,
                Delivery::Read,
                "请告诉我们您现在的准确位置"
            ),
            (
                Direction::Inbound,
                Delivery::Received,
                "我们在酒店大堂，二十多人"
            ),
        ],
        "the desk holds the thread as the hub does"
    );
    let state = store.thread_states(&["TH-1"]).expect("state")[0];
    assert_eq!(state.unread, 1);
    assert!(
        state.waiting_since.is_some(),
        "the citizen waits for an answer"
    );
    // Only what was on screen counts as read.
    store
        .mark_thread_seen("TH-1", &thread[..1], chrono::Utc::now())
        .expect("seen");
    assert_eq!(store.thread_states(&["TH-1"]).expect("state")[0].unread, 1);
    store
        .mark_thread_seen("TH-1", &thread, chrono::Utc::now())
        .expect("seen");
    assert_eq!(store.thread_states(&["TH-1"]).expect("state")[0].unread, 0);

    // The officer's thread read is the hub's, the same.
    let (status, hub_thread) = t.get(&li, "/v1/requests/TH-1/messages").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(hub_thread["messages"].as_array().map(Vec::len), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thread_is_only_its_posts_and_its_channels_moves_with_its_request_and_is_erased() {
    let t = Trust::start(&[]);
    t.intake("TH-2", "TH").await;
    let other_channel = secret_in(&admin(&t.db(), &["channels", "add", "other-app"], None));
    // Nairobi's desk has synced before anything was said on TH-2.
    let (wang_store, wang_engine) = desk(&t, "wang");
    wang_engine.sync_once().await.expect("sync");

    let (status, _) = t
        .post(
            &t.channel,
            "/v1/requests/TH-2/messages",
            json!({ "id": "1", "text": "救命" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // Only the channel that took the request in may speak for its citizen.
    let (status, _) = t
        .post(
            &other_channel,
            "/v1/requests/TH-2/messages",
            json!({ "id": "2", "text": "x" }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another channel is told nothing"
    );
    let li = t.token("li", "desk-li").await;
    let (status, _) = t
        .post(
            &li,
            "/v1/requests/TH-2/messages",
            json!({ "id": "3", "text": "x" }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "officers write through actions"
    );
    let wang = t.token("wang", "desk-wang-http").await;
    let (status, _) = t.get(&wang, "/v1/requests/TH-2/messages").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another post's thread does not exist for it"
    );
    wang_engine.sync_once().await.expect("sync");
    assert!(wang_store.thread("TH-2").expect("thread").is_empty());

    // Moved to Nairobi, the request brings its thread to a desk already past its messages.
    let sun = t.token("sun", "desk-sun").await;
    let (status, _) = t
        .post(
            &sun,
            "/v1/requests/TH-2/transfer",
            json!({ "post": "ke-nairobi" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    wang_engine.sync_once().await.expect("sync");
    let thread = wang_store.thread("TH-2").expect("thread");
    assert_eq!(
        thread.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        ["救命"]
    );

    // Erased at the hub: gone there and from the desk.
    admin(
        &t.db(),
        &["requests", "erase", "TH-2", "--reference", "EO-9"],
        None,
    );
    let (status, _) = t.get(&wang, "/v1/requests/TH-2/messages").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Regression: the erasure took its number after the request's rows were deleted, so
    // erasing the newest change handed out a number the desk's cursor had already passed.
    wang_engine.sync_once().await.expect("sync");
    assert!(
        wang_store.get_request("TH-2").expect("read").is_none(),
        "the request is erased from the desk"
    );
    assert!(
        wang_store.thread("TH-2").expect("thread").is_empty(),
        "no message outlives its request"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_channel_is_handed_messages_at_its_pace_and_the_rest_wait_their_turn() {
    // Two a second, a burst of eight. Eighty messages from one session: more than its
    // triage actions' burst (60), which messages do not count against.
    let t = Trust::start(&["--channel-message-rate", "2"]);
    let li = t.token("li", "desk-li").await;
    for i in 0..80 {
        let id = format!("TH-R{i}");
        t.intake(&id, "TH").await;
        let (status, body) = t
            .call(
                reqwest::Method::POST,
                &li,
                &format!("/v1/requests/{id}/actions"),
                Some(json!({ "action": "send_message", "text": "Go to the shelter at the city hall", "base_version": 1 })),
                &[("Idempotency-Key", &format!("rem-{i}"))],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "message {i}: {body}");
    }
    let first = outbox(&t, &t.channel).await;
    assert_eq!(first.len(), 8, "the burst, not all eighty");
    let (status, body) = t.get(&t.channel, "/v1/channel/outbox").await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "nothing more right away: {body}"
    );
    // The handed-out ones are carried; the rest come as the bucket refills, none lost.
    for (id, _) in &first {
        let (status, _) = receipt(&t, &t.channel, id, "sent").await;
        assert_eq!(status, StatusCode::OK);
    }
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let later = outbox(&t, &t.channel).await;
    assert!(
        (3..=6).contains(&later.len()),
        "about two a second, not the 72 waiting: {} after two seconds",
        later.len()
    );
    assert!(
        later
            .iter()
            .all(|(id, _)| !first.iter().any(|(f, _)| f == id)),
        "the ones already carried are not handed out again"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reminder_a_supervisor_publishes_reaches_other_desks_as_an_advisory_and_a_duty_officer_cannot()
 {
    use lifeline_core::cap_alert::{SafetyReminder, Shape, safety_reminder};
    let t = Trust::start(&[]);
    let reminder = |status| {
        safety_reminder(&SafetyReminder {
            text: "台风即将登陆，请前往市政厅避难所",
            language: "zh-CN",
            sender: "sun@desk-sun",
            sender_name: "desk-sun/sun",
            status,
            // A triangle drawn across the antimeridian, over Fiji.
            shape: Shape::Polygon(vec![(-19.0, 177.5), (-19.0, 181.5), (-15.0, 179.5)]),
            sent: chrono::Utc::now(),
        })
        .1
    };
    let (_li_store, li_engine) = desk(&t, "li");
    let refused = li_engine
        .publish_advisory(reminder("Actual"))
        .await
        .expect_err("a duty officer may not publish");
    assert!(refused.to_string().contains("supervisors"), "{refused}");

    let (_sun_store, sun_engine) = desk(&t, "sun");
    sun_engine
        .publish_advisory(reminder("Actual"))
        .await
        .expect("a supervisor publishes");
    let (wang_store, wang_engine) = desk(&t, "wang");
    wang_engine.sync_once().await.expect("sync");
    let advisories = wang_store
        .advisories(true, chrono::Utc::now())
        .expect("advisories");
    let published = advisories
        .iter()
        .find(|a| a.advisory.key.sender == "sun@desk-sun")
        .expect("another post's desk has the reminder");
    let suva = -18.14;
    assert!(
        wang_store
            .advisories_covering(suva, 178.44, chrono::Utc::now())
            .expect("covering")
            .iter()
            .any(|a| a.id == published.id)
            && wang_store
                .advisories_covering(-16.8, -179.95, chrono::Utc::now())
                .expect("covering")
                .iter()
                .any(|a| a.id == published.id),
        "its area covers both sides of 180°"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reminder_to_a_drawn_area_reaches_exactly_the_citizens_inside_across_the_antimeridian() {
    use lifeline_core::store::ReminderArea;
    let t = Trust::start(&[]);
    // A post for Fiji, whose islands lie on both sides of 180°, and its duty officer.
    admin(
        &t.db(),
        &[
            "posts",
            "add",
            "fj-suva",
            "--name-en",
            "Embassy Suva",
            "--name-zh",
            "驻斐济使馆",
            "--countries",
            "FJ",
        ],
        None,
    );
    admin(
        &t.db(),
        &[
            "officers",
            "add",
            "lin",
            "--name",
            "lin",
            "--role",
            "duty_officer",
            "--posts",
            "fj-suva",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    for (id, lat, lon) in [
        ("FJ-SUVA", -18.14, 178.44),
        ("FJ-TAVEUNI", -16.8, -179.95),
        ("FJ-CORNER", -15.3, 178.2),
        ("FJ-ROTUMA", -12.5, 177.07),
    ] {
        let (status, body) = t
            .post(
                &t.channel,
                "/v1/requests",
                json!({
                    "id": id, "channel": "app", "category": "natural_disaster",
                    "citizen": {"name": format!("citizen of {id}")},
                    "location": {"lat": lat, "lon": lon, "country": "FJ"},
                    "description": "cyclone"
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{id}: {body}");
    }
    let (store, engine) = desk(&t, "lin");
    engine.sync_once().await.expect("sync");
    // A triangle drawn on a map panned across 180°.
    let area =
        ReminderArea::polygon(&[[177.5, -19.0], [181.5, -19.0], [179.5, -15.0]]).expect("polygon");
    let inside = store.reminder_recipients(&area).expect("recipients");
    let recipients: Vec<(String, String)> = inside
        .iter()
        .map(|id| (id.clone(), format!("rem-{id}")))
        .collect();
    store
        .queue_reminder(
            &recipients,
            "热带气旋即将登陆，请前往避难所",
            Some("shelter"),
            "desk-lin/lin",
            chrono::Utc::now(),
        )
        .expect("queued");
    engine.sync_once().await.expect("the outbox drains");
    let (status, body) = t.get(&t.channel, "/v1/channel/outbox?limit=500").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut reached: Vec<String> = body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["request_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    reached.sort();
    assert_eq!(
        reached,
        ["FJ-SUVA", "FJ-TAVEUNI"],
        "the two inside, one each side of 180°; not the one in the triangle's box, not Rotuma"
    );
}
