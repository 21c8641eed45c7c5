//! The thread with the citizen on the desk: an officer's message is on screen at once as
//! pending, takes the hub's states as they come, and goes with what the officer or the hub
//! decides (taken back, refused, erased).

use chrono::Utc;
use lifeline_core::model::message::outbound_id;
use lifeline_core::store::SyncPage;

use super::*;

fn send(text: &str) -> TriageAction {
    TriageAction::SendMessage {
        text: text.into(),
        template: None,
    }
}

fn hub_copy(key: &str, delivery: Delivery) -> Message {
    let at = t0();
    Message {
        id: outbound_id(key),
        request_id: "R-1".into(),
        direction: Direction::Outbound,
        kind: MessageKind::Text,
        text: "where are you exactly?".into(),
        template: None,
        author: Some("desk-a/li".into()),
        position: None,
        media: None,
        delivery,
        failure: None,
        created_at: at,
        updated_at: at,
    }
}

#[test]
fn a_message_is_pending_at_once_then_takes_the_hubs_states() {
    let (_dir, store) = open_store();
    store
        .upsert_requests(&[incoming(request("R-1", 13.7, 100.5))], "hub", None)
        .expect("upsert");
    let (shown, item) = store
        .queue_action(
            "R-1",
            &send("where are you exactly?"),
            "desk-a/li",
            "k1",
            Utc::now(),
        )
        .expect("queued");
    assert!(item.is_some(), "a message always goes to the outbox");
    assert_eq!(shown.local_state, LocalState::Pending);
    assert_eq!(
        shown.request.version, 1,
        "the request itself does not change"
    );
    let thread = store.thread("R-1").expect("thread");
    assert_eq!(thread.len(), 1);
    assert_eq!(
        (thread[0].id.as_str(), thread[0].delivery),
        ("m-k1", Delivery::Pending)
    );
    // The hub's copy, later delivered, replaces the pending one.
    store
        .apply_sync_page(
            &SyncPage {
                messages: &[hub_copy("k1", Delivery::Delivered)],
                ..SyncPage::default()
            },
            "hub",
            "c1",
            Utc::now(),
        )
        .expect("page");
    let thread = store.thread("R-1").expect("thread");
    assert_eq!(thread.len(), 1, "one message, not two");
    assert_eq!(thread[0].delivery, Delivery::Delivered);
    // Regression: a message whose request the feed lists later (the request changed since
    // its citizen wrote) was dropped for good. It is kept, for the request to come.
    let mut early = hub_copy("k9", Delivery::Queued);
    early.request_id = "R-LATER".into();
    store
        .apply_sync_page(
            &SyncPage {
                messages: &[early],
                ..SyncPage::default()
            },
            "hub",
            "c2",
            Utc::now(),
        )
        .expect("page");
    store
        .upsert_requests(&[incoming(request("R-LATER", 13.7, 100.5))], "hub", None)
        .expect("the request arrives");
    assert_eq!(
        store.thread("R-LATER").expect("thread").len(),
        1,
        "its thread is there"
    );
}

#[test]
fn a_message_taken_back_leaves_the_thread_and_one_refused_says_why() {
    let (_dir, store) = open_store();
    store
        .upsert_requests(&[incoming(request("R-1", 13.7, 100.5))], "hub", None)
        .expect("upsert");
    store
        .queue_action("R-1", &send("first"), "desk-a/li", "k1", Utc::now())
        .expect("queued");
    store
        .queue_action("R-1", &send("second"), "desk-a/li", "k2", Utc::now())
        .expect("queued");
    store.withdraw_action("k1", Utc::now()).expect("withdrawn");
    store
        .reject_action("k2", "the channel cannot reach this citizen", Utc::now())
        .expect("rejected");
    let thread = store.thread("R-1").expect("thread");
    assert_eq!(thread.len(), 1, "the withdrawn message is gone");
    assert_eq!(thread[0].delivery, Delivery::Failed);
    assert_eq!(
        thread[0].failure.as_deref(),
        Some("the channel cannot reach this citizen")
    );
    assert!(
        store
            .queue_action("R-1", &send("   "), "desk-a/li", "k3", Utc::now())
            .is_err(),
        "an empty message is refused before it is queued"
    );
}

#[test]
fn an_erased_request_takes_its_thread_with_it() {
    let (_dir, store) = open_store();
    store
        .upsert_requests(&[incoming(request("R-1", 13.7, 100.5))], "hub", None)
        .expect("upsert");
    store
        .queue_action("R-1", &send("hello"), "desk-a/li", "k1", Utc::now())
        .expect("queued");
    store.erase(&["R-1".into()]).expect("erase");
    assert!(store.thread("R-1").expect("thread").is_empty());
}

#[test]
fn a_reminder_reaches_the_open_requests_inside_the_area_across_the_antimeridian_and_no_one_else() {
    let (_dir, store) = open_store();
    let mut closed = request("FJ-CLOSED", -18.0, 178.5);
    closed.status = Status::Resolved;
    store
        .upsert_requests(
            &[
                incoming(request("FJ-SUVA", -18.14, 178.44)),
                incoming(request("FJ-TAVEUNI", -16.8, -179.95)),
                incoming(request("WS-APIA", -13.83, -171.76)),
                incoming(closed),
            ],
            "hub",
            None,
        )
        .expect("upsert");
    let fiji = lifeline_core::store::ReminderArea::Box(
        BBox::new(177.0, -20.0, -179.0, -15.0).expect("box"),
    );
    let mut inside = store.reminder_recipients(&fiji).expect("recipients");
    inside.sort();
    assert_eq!(
        inside,
        ["FJ-SUVA", "FJ-TAVEUNI"],
        "open, inside, on both sides of 180°"
    );
    let recipients: Vec<(String, String)> = inside
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), format!("rem-{i}")))
        .collect();
    let queued = store
        .queue_reminder(
            &recipients,
            "Cyclone warning: go to the shelter",
            None,
            "desk-a/li",
            Utc::now(),
        )
        .expect("queued");
    assert_eq!(queued, 2);
    for id in ["FJ-SUVA", "FJ-TAVEUNI"] {
        let thread = store.thread(id).expect("thread");
        assert_eq!(thread.len(), 1, "{id} has its own message");
        assert_eq!(thread[0].delivery, Delivery::Pending);
    }
    assert!(
        store.thread("WS-APIA").expect("thread").is_empty(),
        "Samoa is outside"
    );
    assert_eq!(
        store.outbox_counts().expect("counts").pending,
        2,
        "one outbox item each"
    );
}

#[test]
fn a_reminder_never_holds_back_an_action_queued_after_it_and_a_failed_reply_is_no_answer() {
    let (_dir, store) = open_store();
    store
        .upsert_requests(&[incoming(request("R-1", 13.7, 100.5))], "hub", None)
        .expect("upsert");
    store
        .queue_action("R-1", &send("reminder"), "desk-a/li", "k1", Utc::now())
        .expect("queued");
    store
        .queue_action(
            "R-1",
            &TriageAction::Acknowledge,
            "desk-a/li",
            "k2",
            Utc::now(),
        )
        .expect("queued");
    let order: Vec<String> = store
        .pending_actions(10)
        .expect("pending")
        .into_iter()
        .map(|i| i.idempotency_key)
        .collect();
    assert_eq!(order, ["k2", "k1"], "the acknowledgement goes first");
    // The citizen wrote; the reply to them failed: they are still waiting.
    let mut answer = hub_copy("k1", Delivery::Failed);
    answer.failure = Some("not reachable".into());
    let mut citizen = hub_copy("x", Delivery::Received);
    citizen.id = "c-1".into();
    citizen.direction = Direction::Inbound;
    citizen.author = None;
    citizen.created_at = answer.created_at - chrono::Duration::minutes(1);
    store
        .apply_sync_page(
            &SyncPage {
                messages: &[citizen, answer],
                ..SyncPage::default()
            },
            "hub",
            "c1",
            Utc::now(),
        )
        .expect("page");
    assert!(
        store.thread_states(&["R-1"]).expect("state")[0]
            .waiting_since
            .is_some()
    );
}

/// A citizen's message in a thread, `minutes` after `t0`.
fn citizen_wrote(id: &str, request: &str, minutes: i64) -> Message {
    let mut m = hub_copy("x", Delivery::Received);
    m.id = id.into();
    m.request_id = request.into();
    m.direction = Direction::Inbound;
    m.author = None;
    m.created_at = t0() + chrono::Duration::minutes(minutes);
    m.updated_at = m.created_at;
    m
}

/// An officer's answer in a thread, `minutes` after `t0`.
fn officer_answered(key: &str, request: &str, minutes: i64, delivery: Delivery) -> Message {
    let mut m = hub_copy(key, delivery);
    m.request_id = request.into();
    m.created_at = t0() + chrono::Duration::minutes(minutes);
    m.updated_at = m.created_at;
    m
}

#[test]
fn an_open_sos_whose_citizen_wrote_last_is_waiting_since_the_first_message_after_the_last_answer() {
    let (_dir, store) = open_store();
    let sos = |id: &str, status: Status| {
        let mut r = request(id, 13.7, 100.5);
        r.emergency = true;
        r.status = status;
        incoming(r)
    };
    store
        .upsert_requests(
            &[
                sos("WAITING", Status::New),
                sos("ANSWERED", Status::Acknowledged),
                sos("FAILED-ANSWER", Status::InProgress),
                sos("CLOSED", Status::Closed),
                incoming(request("NOT-SOS", 13.7, 100.5)),
                sos("SILENT", Status::New),
            ],
            "hub",
            None,
        )
        .expect("upsert");
    let messages = [
        // Answered at 5, then wrote again at 10 and 12: waiting since 10.
        citizen_wrote("w-1", "WAITING", 1),
        officer_answered("w-a", "WAITING", 5, Delivery::Delivered),
        citizen_wrote("w-2", "WAITING", 10),
        citizen_wrote("w-3", "WAITING", 12),
        citizen_wrote("a-1", "ANSWERED", 1),
        officer_answered("a-a", "ANSWERED", 2, Delivery::Sent),
        // A reply that failed is no answer.
        citizen_wrote("f-1", "FAILED-ANSWER", 3),
        officer_answered("f-a", "FAILED-ANSWER", 4, Delivery::Failed),
        citizen_wrote("c-1", "CLOSED", 1),
        citizen_wrote("n-1", "NOT-SOS", 1),
    ];
    store
        .apply_sync_page(
            &SyncPage {
                messages: &messages,
                ..SyncPage::default()
            },
            "hub",
            "c1",
            Utc::now(),
        )
        .expect("page");
    let waiting = |before_minutes: i64| -> Vec<(String, i64)> {
        store
            .unanswered_emergencies(t0() + chrono::Duration::minutes(before_minutes))
            .expect("waiting")
            .into_iter()
            .map(|(c, since)| (c.id, (since - t0()).num_minutes()))
            .collect()
    };
    assert_eq!(
        waiting(60),
        [
            ("FAILED-ANSWER".to_string(), 3),
            ("WAITING".to_string(), 10)
        ],
        "oldest wait first"
    );
    assert_eq!(
        waiting(5),
        [("FAILED-ANSWER".to_string(), 3)],
        "a wait that began after the time given is not due yet"
    );
}

#[test]
fn a_drawn_polygon_or_circle_reaches_exactly_the_citizens_inside_across_the_antimeridian() {
    use lifeline_core::store::ReminderArea;
    let (_dir, store) = open_store();
    store
        .upsert_requests(
            &[
                incoming(request("FJ-SUVA", -18.14, 178.44)),
                incoming(request("FJ-TAVEUNI", -16.8, -179.95)),
                // Inside the triangle's box, outside the triangle.
                incoming(request("FJ-CORNER", -15.3, 178.2)),
                incoming(request("WS-APIA", -13.83, -171.76)),
            ],
            "hub",
            None,
        )
        .expect("upsert");
    // A triangle drawn on a map panned across 180°: longitudes run on past it.
    let triangle =
        ReminderArea::polygon(&[[177.5, -19.0], [181.5, -19.0], [179.5, -15.0]]).expect("polygon");
    let mut inside = store.reminder_recipients(&triangle).expect("recipients");
    inside.sort();
    assert_eq!(inside, ["FJ-SUVA", "FJ-TAVEUNI"]);
    // The same corners as a map west of 180° would give them.
    let wrapped =
        ReminderArea::polygon(&[[177.5, -19.0], [-178.5, -19.0], [179.5, -15.0]]).expect("polygon");
    let mut again = store.reminder_recipients(&wrapped).expect("recipients");
    again.sort();
    assert_eq!(again, inside);
    // 60 km around Suva reaches Suva only; 250 km around 180° reaches both Fiji requests.
    let suva = ReminderArea::circle(-18.14, 178.44, 60_000.0).expect("circle");
    assert_eq!(store.reminder_recipients(&suva).expect("r"), ["FJ-SUVA"]);
    let wide = ReminderArea::circle(-17.5, 180.0, 250_000.0).expect("circle");
    let mut both = store.reminder_recipients(&wide).expect("r");
    both.sort();
    assert_eq!(both, ["FJ-SUVA", "FJ-TAVEUNI"], "the corner is 310 km away");
    assert!(ReminderArea::polygon(&[[0.0, 0.0], [1.0, 1.0]]).is_err());
    assert!(ReminderArea::circle(0.0, 0.0, -5.0).is_err());
}

#[test]
fn the_media_cache_stays_within_its_quota_dropping_the_least_recently_used() {
    use lifeline_core::store::NewMedia;
    let (_dir, store) = open_store();
    let t = Utc::now();
    let file = |i: u8| vec![i; 400];
    // The voice messages that name the files (a file no message names is not kept).
    let named: Vec<Message> = (0..5u8)
        .map(|i| {
            let bytes = file(i);
            Message {
                id: format!("c-{i}"),
                request_id: "R-1".into(),
                direction: Direction::Inbound,
                kind: MessageKind::Voice,
                text: String::new(),
                template: None,
                author: None,
                position: None,
                media: Some(lifeline_core::model::MediaRef {
                    sha256: lifeline_core::model::media::sha256_hex(&bytes),
                    media_type: "audio/ogg".into(),
                    size_bytes: 400,
                    name: None,
                }),
                delivery: Delivery::Received,
                failure: None,
                created_at: t,
                updated_at: t,
            }
        })
        .collect();
    store
        .apply_sync_page(
            &SyncPage {
                messages: &named,
                ..SyncPage::default()
            },
            "hub",
            "c1",
            t,
        )
        .expect("page");
    let unnamed = vec![9u8; 400];
    let unnamed_sha = lifeline_core::model::media::sha256_hex(&unnamed);
    store
        .put_media(
            &NewMedia {
                sha256: &unnamed_sha,
                media_type: "audio/ogg",
                bytes: &unnamed,
                thumb: None,
                gps: None,
            },
            1000,
            t,
        )
        .expect("asked");
    assert!(
        store.cached_media(&unnamed_sha, t).expect("read").is_none(),
        "a file no message names (its request erased meanwhile) is not kept"
    );
    for i in 0..5u8 {
        let bytes = file(i);
        let sha = lifeline_core::model::media::sha256_hex(&bytes);
        store
            .put_media(
                &NewMedia {
                    sha256: &sha,
                    media_type: "audio/ogg",
                    bytes: &bytes,
                    thumb: None,
                    gps: None,
                },
                1000,
                t + chrono::Duration::seconds(i64::from(i)),
            )
            .expect("kept");
        // The first file is opened again each time: it stays.
        let first = lifeline_core::model::media::sha256_hex(&file(0));
        store
            .cached_media(&first, t + chrono::Duration::seconds(i64::from(i) + 1))
            .expect("read");
    }
    let (bytes, files) = store.media_cache_usage().expect("usage");
    assert!(bytes <= 1000, "{bytes} bytes kept");
    assert_eq!(files, 2);
    let first = lifeline_core::model::media::sha256_hex(&file(0));
    let last = lifeline_core::model::media::sha256_hex(&file(4));
    assert!(store.cached_media(&first, t).expect("read").is_some());
    assert!(store.cached_media(&last, t).expect("read").is_some());
    let (part, len) = store
        .media_range(&last, 10, 20)
        .expect("range")
        .expect("there");
    assert_eq!((part.len(), len), (10, 400));
}
