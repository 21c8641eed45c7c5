//! Store behaviour against real SQLite files in a temporary folder.
//!
//! Where new tests go: one `mod` per area below; a regression test is named after the bug.

use chrono::Duration;
use lifeline_core::geo::BBox;
use lifeline_core::model::*;
use lifeline_core::store::{
    IncomingRequest, LocalState, OutboxState, RequestOrder, RequestQuery, Store, Withdrawal,
};

mod common;
use common::*;

mod migrations {
    use super::*;

    #[test]
    fn migrates_from_empty_and_reopens() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("desk.sqlite");
        {
            let store = Store::open(&path).expect("first open creates the schema");
            assert_eq!(store.schema_version().expect("version"), 4);
            store
                .upsert_requests(&[incoming(request("r1", 13.75, 100.5))], "test", None)
                .expect("insert");
        }
        let store = Store::open(&path).expect("re-open runs no migration twice");
        assert_eq!(store.schema_version().expect("version"), 4);
        assert_eq!(
            store.request_count().expect("count"),
            1,
            "data survives re-open"
        );
        assert!(store.integrity_check().expect("check").is_empty());
    }

    /// Regression: a desk and a script opening a new database at the same moment, one of
    /// them failed with "database is locked" while switching the file to WAL.
    #[test]
    fn many_openers_of_a_new_database_at_once_all_succeed() {
        for round in 0..20 {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("desk.sqlite");
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
            let openers: Vec<_> = (0..6)
                .map(|_| {
                    let (path, barrier) = (path.clone(), std::sync::Arc::clone(&barrier));
                    std::thread::spawn(move || {
                        barrier.wait();
                        Store::open(&path).and_then(|s| s.count_requests(&RequestQuery::default()))
                    })
                })
                .collect();
            for o in openers {
                let outcome = o.join().expect("thread");
                assert!(outcome.is_ok(), "round {round}: {outcome:?}");
            }
        }
    }

    #[test]
    fn refuses_a_database_from_a_newer_lifeline() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("desk.sqlite");
        drop(Store::open(&path).expect("create"));
        let conn = rusqlite::Connection::open(&path).expect("raw open");
        conn.execute_batch("PRAGMA user_version = 99")
            .expect("bump");
        drop(conn);
        let err = Store::open(&path).expect_err("newer schema");
        assert!(
            err.to_string().contains("newer than this Lifeline"),
            "{err}"
        );
    }

    #[test]
    fn case_event_log_is_append_only() {
        let (dir, store) = open_store();
        let mut r = incoming(request("r1", 13.75, 100.5));
        r.events.push(CaseEvent {
            id: "r1#created".into(),
            request_id: "r1".into(),
            kind: CaseEventKind::Created,
            actor: None,
            at: t0(),
            origin: Origin::Sync,
        });
        store.upsert_requests(&[r], "test", None).expect("insert");
        let conn = rusqlite::Connection::open(dir.path().join("desk.sqlite")).expect("raw open");
        let err = conn
            .execute("DELETE FROM case_events", [])
            .expect_err("deleting history must fail");
        assert!(err.to_string().contains("append-only"), "{err}");
        let err = conn
            .execute("UPDATE case_events SET actor = 'x'", [])
            .expect_err("rewriting history must fail");
        assert!(err.to_string().contains("append-only"), "{err}");
    }
}

mod upsert {
    use super::*;

    #[test]
    fn older_version_never_replaces_newer() {
        let (_dir, store) = open_store();
        let mut v2 = request("r1", 13.75, 100.5);
        v2.version = 2;
        v2.status = Status::Acknowledged;
        store
            .upsert_requests(&[incoming(v2)], "hub", None)
            .expect("v2");
        let mut v1 = request("r1", 13.75, 100.5);
        v1.version = 1;
        let report = store
            .upsert_requests(&[incoming(v1)], "hub", None)
            .expect("v1 arrives late");
        assert_eq!(report.unchanged, 1);
        let stored = store.get_request("r1").expect("read").expect("exists");
        assert_eq!(stored.request.version, 2, "an older version must lose");
        assert_eq!(stored.request.status, Status::Acknowledged);

        let mut v3 = request("r1", 14.0, 100.0);
        v3.version = 3;
        v3.status = Status::Resolved;
        let report = store
            .upsert_requests(&[incoming(v3)], "hub", None)
            .expect("v3");
        assert_eq!(report.updated, ["r1"]);
        let stored = store.get_request("r1").expect("read").expect("exists");
        assert_eq!(stored.request.status, Status::Resolved);
        let moved = store
            .query_requests(&RequestQuery {
                bbox: Some(BBox::new(99.9, 13.9, 100.1, 14.1).expect("box")),
                ..Default::default()
            })
            .expect("query");
        assert_eq!(
            ids(&moved),
            ["r1"],
            "the spatial index follows the new location"
        );
    }

    #[test]
    fn batch_and_cursor_commit_together() {
        let (_dir, store) = open_store();
        let batch: Vec<_> = (0..50)
            .map(|i| incoming(request(&format!("r{i}"), 13.0, 100.0)))
            .collect();
        store
            .upsert_requests(&batch, "hub", Some(("http://hub", "c:50")))
            .expect("batch");
        assert_eq!(store.request_count().expect("count"), 50);
        let state = store
            .source_state("http://hub")
            .expect("read")
            .expect("cursor stored");
        assert_eq!(state.cursor.as_deref(), Some("c:50"));
    }
}

mod queries {
    use super::*;

    #[test]
    fn viewport_crossing_the_antimeridian() {
        let (_dir, store) = open_store();
        store
            .upsert_requests(
                &[
                    incoming(request("suva", -18.12, 178.45)),
                    incoming(request("tonga", -21.14, -175.20)),
                    incoming(request("sydney", -33.87, 151.21)),
                    incoming(request("greenwich", -20.0, 0.0)),
                ],
                "t",
                None,
            )
            .expect("insert");
        let box_ = BBox::parse("170,-25,-170,-10").expect("box");
        let rows = store
            .query_requests(&RequestQuery {
                bbox: Some(box_),
                order: RequestOrder::Oldest,
                ..Default::default()
            })
            .expect("query");
        let mut found = ids(&rows);
        found.sort();
        assert_eq!(
            found,
            ["suva", "tonga"],
            "both sides of the antimeridian, nothing from the rest of the world"
        );
        assert_eq!(
            store
                .count_requests(&RequestQuery {
                    bbox: Some(box_),
                    ..Default::default()
                })
                .expect("count"),
            2
        );
    }

    #[test]
    fn filters_combine() {
        let (_dir, store) = open_store();
        let mut a = request("a", 13.0, 100.0);
        a.emergency = true;
        let mut b = request("b", 13.0, 100.0);
        b.category = Category::Medical;
        let mut c = request("c", 13.0, 100.0);
        c.status = Status::Resolved;
        c.location.as_mut().expect("located").country = Some("VN".into());
        store
            .upsert_requests(&[incoming(a), incoming(b), incoming(c)], "t", None)
            .expect("insert");
        let q = |q: RequestQuery| {
            ids(&store.query_requests(&q).expect("query"))
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            q(RequestQuery {
                emergency: Some(true),
                ..Default::default()
            }),
            ["a"]
        );
        assert_eq!(
            q(RequestQuery {
                categories: vec![Category::Medical],
                ..Default::default()
            }),
            ["b"]
        );
        assert_eq!(
            q(RequestQuery {
                countries: vec!["VN".into()],
                ..Default::default()
            }),
            ["c"]
        );
        assert_eq!(q(RequestQuery::open()).len(), 2);
        assert_eq!(store.open_emergency_count().expect("count"), 1);
    }

    #[test]
    fn triage_order_puts_newest_emergencies_first() {
        let (_dir, store) = open_store();
        let mk = |id: &str, minutes: i64, emergency: bool, priority: Priority| {
            let mut r = request(id, 13.0, 100.0);
            r.created_at = t0() + Duration::minutes(minutes);
            r.emergency = emergency;
            r.priority = priority;
            incoming(r)
        };
        store
            .upsert_requests(
                &[
                    mk("old-sos", 0, true, Priority::Normal),
                    mk("new-sos", 10, true, Priority::Normal),
                    mk("critical", 20, false, Priority::Critical),
                    mk("low", 30, false, Priority::Low),
                    mk("normal", 5, false, Priority::Normal),
                ],
                "t",
                None,
            )
            .expect("insert");
        let rows = store
            .query_requests(&RequestQuery::default())
            .expect("query");
        assert_eq!(
            ids(&rows),
            ["new-sos", "old-sos", "critical", "normal", "low"]
        );
    }

    #[test]
    fn chinese_and_english_search() {
        let (_dir, store) = open_store();
        let mut a = request("a", 13.0, 100.0);
        a.description = "我的护照在曼谷火车站被偷了".into();
        let mut b = request("b", 13.0, 100.0);
        b.description = "Lost my passport at the airport".into();
        let mut c = request("c", 13.0, 100.0);
        c.description = "地震后被困在酒店，需要救援".into();
        c.citizen.name = "李娜".into();
        store
            .upsert_requests(&[incoming(a), incoming(b), incoming(c)], "t", None)
            .expect("insert");
        let search = |text: &str| {
            let mut found: Vec<String> = store
                .query_requests(&RequestQuery {
                    text: Some(text.into()),
                    order: RequestOrder::Relevance,
                    ..Default::default()
                })
                .expect("search")
                .into_iter()
                .map(|r| r.request.id)
                .collect();
            found.sort();
            found
        };
        assert_eq!(
            search("护照"),
            ["a"],
            "a two-character word inside a sentence"
        );
        assert_eq!(search("火车站"), ["a"]);
        assert_eq!(search("地震"), ["c"]);
        assert_eq!(search("震"), ["c"], "one character");
        assert_eq!(search("李娜"), ["c"], "names are searchable");
        assert_eq!(search("passport"), ["b"]);
        assert_eq!(
            search("PASSP"),
            ["b"],
            "case-insensitive prefix of the last word"
        );
        assert_eq!(search("护照 曼谷"), ["a"], "all terms must match");
        assert!(search("护照 airport").is_empty());
        assert!(
            search("\"); DROP TABLE requests; --").is_empty(),
            "query syntax is never passed through"
        );
        assert_eq!(store.request_count().expect("count"), 3);
    }

    #[test]
    fn notes_are_searchable() {
        let (_dir, store) = open_store();
        store
            .upsert_requests(&[incoming(request("r1", 13.0, 100.0))], "t", None)
            .expect("insert");
        store
            .queue_action(
                "r1",
                &TriageAction::AddNote {
                    text: "已联系医院 hospital called".into(),
                },
                "li",
                "k1",
                t0(),
            )
            .expect("note");
        let found = store
            .query_requests(&RequestQuery {
                text: Some("医院".into()),
                ..Default::default()
            })
            .expect("search");
        assert_eq!(ids(&found), ["r1"]);
        let found = store
            .query_requests(&RequestQuery {
                text: Some("hospital".into()),
                ..Default::default()
            })
            .expect("search");
        assert_eq!(ids(&found), ["r1"]);
    }

    #[test]
    fn a_request_is_found_by_its_number() {
        let (_dir, store) = open_store();
        store
            .upsert_requests(
                &[
                    incoming(request("R-20261125-000042", 13.0, 100.0)),
                    incoming(request("R-20261125-000043", 13.0, 100.0)),
                ],
                "t",
                None,
            )
            .expect("insert");
        let found = store
            .query_request_ids(&RequestQuery {
                text: Some("R-20261125-000042".into()),
                ..Default::default()
            })
            .expect("search");
        assert_eq!(
            found,
            ["R-20261125-000042"],
            "an officer can type a request's number"
        );
    }

    #[test]
    fn counts_and_time_buckets() {
        let (_dir, store) = open_store();
        let batch: Vec<_> = (0..6)
            .map(|i| {
                let mut r = request(&format!("r{i}"), 13.0, 100.0);
                r.created_at = t0() + Duration::minutes(20 * i);
                r.emergency = i % 3 == 0;
                r.status = if i < 4 { Status::New } else { Status::Resolved };
                incoming(r)
            })
            .collect();
        store.upsert_requests(&batch, "t", None).expect("insert");
        let counts = store.counts(&RequestQuery::default()).expect("counts");
        assert_eq!(counts.total, 6);
        assert_eq!(
            counts.by_status,
            [("new".to_string(), 4), ("resolved".to_string(), 2)]
        );
        assert_eq!(
            counts.open_emergencies, 2,
            "r0 and r3 are open SOS requests"
        );
        let buckets = store
            .time_buckets(&RequestQuery::default(), Duration::hours(1))
            .expect("buckets");
        assert_eq!(buckets.iter().map(|b| b.count).collect::<Vec<_>>(), [3, 3]);
        assert_eq!(
            buckets.iter().map(|b| b.emergencies).collect::<Vec<_>>(),
            [1, 1]
        );
    }
}

mod outbox {
    use super::*;

    fn stored(store: &Store, id: &str) -> lifeline_core::store::StoredRequest {
        store.get_request(id).expect("read").expect("exists")
    }

    #[test]
    fn local_edit_shows_at_once_and_survives_a_newer_hub_version() {
        let (_dir, store) = open_store();
        store
            .upsert_requests(&[incoming(request("r1", 13.0, 100.0))], "hub", None)
            .expect("insert");
        let (shown, item) = store
            .queue_action("r1", &TriageAction::Acknowledge, "desk-1/li", "k1", t0())
            .expect("ack");
        assert_eq!(shown.request.status, Status::Acknowledged);
        assert_eq!(
            shown.local_state,
            LocalState::Pending,
            "never say saved for something only local"
        );
        assert_eq!(item.expect("queued").base_version, 1);

        // Someone else changes the priority at the hub; our pending ack is replayed on top.
        let mut v2 = request("r1", 13.0, 100.0);
        v2.version = 2;
        v2.priority = Priority::Critical;
        store
            .upsert_requests(&[incoming(v2)], "hub", None)
            .expect("hub v2");
        let now = stored(&store, "r1");
        assert_eq!(
            now.request.priority,
            Priority::Critical,
            "the hub's change is shown"
        );
        assert_eq!(
            now.request.status,
            Status::Acknowledged,
            "our pending edit is not lost"
        );
        assert_eq!(now.local_state, LocalState::Pending);
    }

    #[test]
    fn confirmation_rebases_later_actions_and_clears_pending() {
        let (_dir, store) = open_store();
        store
            .upsert_requests(&[incoming(request("r1", 13.0, 100.0))], "hub", None)
            .expect("insert");
        store
            .queue_action("r1", &TriageAction::Acknowledge, "li", "k1", t0())
            .expect("ack");
        store
            .queue_action(
                "r1",
                &TriageAction::SetPriority {
                    priority: Priority::High,
                },
                "li",
                "k2",
                t0(),
            )
            .expect("prio");
        let pending = store.pending_actions(10).expect("pending");
        assert_eq!(
            pending.iter().map(|i| i.base_version).collect::<Vec<_>>(),
            [1, 1]
        );

        let mut hub_v2 = request("r1", 13.0, 100.0);
        hub_v2.version = 2;
        hub_v2.status = Status::Acknowledged;
        store
            .confirm_action("k1", &incoming(hub_v2.clone()), t0())
            .expect("confirm k1");
        let pending = store.pending_actions(10).expect("pending");
        assert_eq!(pending.len(), 1);
        assert_eq!(
            pending[0].base_version, 2,
            "the next action now applies to our own confirmed result"
        );
        assert_eq!(
            stored(&store, "r1").request.priority,
            Priority::High,
            "still shown while pending"
        );

        let mut hub_v3 = hub_v2;
        hub_v3.version = 3;
        hub_v3.priority = Priority::High;
        store
            .confirm_action("k2", &incoming(hub_v3), t0())
            .expect("confirm k2");
        let now = stored(&store, "r1");
        assert_eq!(now.local_state, LocalState::Synced);
        assert_eq!(
            (
                now.request.version,
                now.request.status,
                now.request.priority
            ),
            (3, Status::Acknowledged, Priority::High)
        );
        // Confirming again (a replayed answer) changes nothing.
        store
            .confirm_action("k2", &incoming(now.request.clone()), t0())
            .expect("replayed confirm");
        assert_eq!(store.outbox_counts().expect("counts").pending, 0);
    }

    #[test]
    fn conflict_keeps_both_versions_and_is_logged() {
        let (_dir, store) = open_store();
        store
            .upsert_requests(&[incoming(request("r1", 13.0, 100.0))], "hub", None)
            .expect("insert");
        store
            .queue_action(
                "r1",
                &TriageAction::Assign {
                    assignee: Some("li".into()),
                },
                "li",
                "k1",
                t0(),
            )
            .expect("assign");
        let mut theirs = request("r1", 13.0, 100.0);
        theirs.version = 2;
        theirs.assignee = Some("wang".into());
        store
            .conflict_action("k1", &incoming(theirs), t0())
            .expect("conflict");
        let (now, events) = store
            .request_with_events("r1")
            .expect("read")
            .expect("exists");
        assert_eq!(now.local_state, LocalState::Conflict);
        assert_eq!(
            now.request.assignee.as_deref(),
            Some("wang"),
            "the hub's version is what stands"
        );
        let conflict = events
            .iter()
            .find(|e| matches!(e.kind, CaseEventKind::Conflict { .. }))
            .expect("a conflict event");
        let CaseEventKind::Conflict {
            action,
            theirs_version,
            ..
        } = &conflict.kind
        else {
            unreachable!()
        };
        assert_eq!(action["assignee"], "li", "our intent is kept");
        assert_eq!(*theirs_version, 2);
        let items = store.outbox_for_request("r1").expect("outbox");
        assert_eq!(items[0].state, OutboxState::Conflicted);
        store.dismiss_action("k1", t0()).expect("dismiss");
        assert_eq!(stored(&store, "r1").local_state, LocalState::Synced);
    }

    #[test]
    fn rejection_drops_the_local_effect() {
        let (_dir, store) = open_store();
        store
            .upsert_requests(&[incoming(request("r1", 13.0, 100.0))], "hub", None)
            .expect("insert");
        store
            .queue_action(
                "r1",
                &TriageAction::SetStatus {
                    status: Status::Closed,
                },
                "li",
                "k1",
                t0(),
            )
            .expect("close");
        assert_eq!(stored(&store, "r1").request.status, Status::Closed);
        store
            .reject_action("k1", "closing needs a note", t0())
            .expect("reject");
        let now = stored(&store, "r1");
        assert_eq!(now.request.status, Status::New, "the hub never applied it");
        assert_eq!(
            now.local_state,
            LocalState::Conflict,
            "a rejection needs an officer's eye"
        );
    }

    #[test]
    fn a_withdrawn_action_is_never_sent_and_its_effect_is_gone() {
        let (_dir, store) = open_store();
        store
            .upsert_requests(&[incoming(request("r1", 13.0, 100.0))], "hub", None)
            .expect("insert");
        store
            .queue_action("r1", &TriageAction::Acknowledge, "li", "k1", t0())
            .expect("ack");
        assert_eq!(
            store.withdraw_action("k1", t0()).expect("withdraw"),
            Withdrawal::Withdrawn
        );
        let (now, events) = store
            .request_with_events("r1")
            .expect("read")
            .expect("exists");
        assert_eq!(
            now.request.status,
            Status::New,
            "the acknowledgement is undone"
        );
        assert_eq!(now.local_state, LocalState::Synced);
        assert!(
            store.pending_actions(10).expect("pending").is_empty(),
            "a withdrawn action must never reach the hub"
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(e.kind, CaseEventKind::Withdrawn { .. })),
            "the case log says it was taken back"
        );
        // Twice is harmless: it says the item is no longer pending.
        assert_eq!(
            store.withdraw_action("k1", t0()).expect("again"),
            Withdrawal::AlreadyAnswered(OutboxState::Dismissed)
        );
    }

    #[test]
    fn a_withdrawal_after_the_hub_answered_changes_nothing() {
        let (_dir, store) = open_store();
        store
            .upsert_requests(&[incoming(request("r1", 13.0, 100.0))], "hub", None)
            .expect("insert");
        store
            .queue_action("r1", &TriageAction::Acknowledge, "li", "k1", t0())
            .expect("ack");
        let mut hub_v2 = request("r1", 13.0, 100.0);
        hub_v2.version = 2;
        hub_v2.status = Status::Acknowledged;
        store
            .confirm_action("k1", &incoming(hub_v2), t0())
            .expect("confirm");
        assert_eq!(
            store.withdraw_action("k1", t0()).expect("withdraw"),
            Withdrawal::AlreadyAnswered(OutboxState::Confirmed)
        );
        assert_eq!(stored(&store, "r1").request.status, Status::Acknowledged);
    }

    #[test]
    fn a_withdrawal_that_raced_the_send_shows_what_the_hub_applied() {
        let (_dir, store) = open_store();
        store
            .upsert_requests(&[incoming(request("r1", 13.0, 100.0))], "hub", None)
            .expect("insert");
        store
            .queue_action("r1", &TriageAction::Acknowledge, "li", "k1", t0())
            .expect("ack");
        // The engine had already sent it when the officer pressed undo.
        store.withdraw_action("k1", t0()).expect("withdraw");
        let mut hub_v2 = request("r1", 13.0, 100.0);
        hub_v2.version = 2;
        hub_v2.status = Status::Acknowledged;
        store
            .confirm_action("k1", &incoming(hub_v2), t0())
            .expect("confirm");
        let now = stored(&store, "r1");
        assert_eq!(
            (now.request.version, now.request.status),
            (2, Status::Acknowledged),
            "the hub applied it, so the desk must not pretend otherwise"
        );
        assert_eq!(
            store.outbox_for_request("r1").expect("outbox")[0].state,
            OutboxState::Confirmed
        );
    }

    #[test]
    fn invalid_action_is_refused_locally() {
        let (_dir, store) = open_store();
        let mut r = request("r1", 13.0, 100.0);
        r.status = Status::InProgress;
        store
            .upsert_requests(&[incoming(r)], "hub", None)
            .expect("insert");
        let err = store
            .queue_action(
                "r1",
                &TriageAction::SetStatus {
                    status: Status::New,
                },
                "li",
                "k1",
                t0(),
            )
            .expect_err("in progress cannot go back to new");
        assert!(err.to_string().contains("cannot move"), "{err}");
        assert_eq!(
            store.outbox_counts().expect("counts").pending,
            0,
            "nothing queued"
        );
    }
}

mod index {
    use super::*;
    use lifeline_core::store::AssigneeFilter;
    use lifeline_core::synth::{Rng, request_anywhere};

    fn seeded_store(n: usize) -> (tempfile::TempDir, Store) {
        let (dir, store) = open_store();
        let mut rng = Rng::new(11);
        let batch: Vec<_> = (0..n)
            .map(|i| {
                let mut r = request_anywhere(
                    &mut rng,
                    format!("s{i}"),
                    t0() + Duration::minutes(i as i64),
                );
                if i % 17 == 0 {
                    r.location = None;
                }
                incoming(r)
            })
            .collect();
        store.upsert_requests(&batch, "t", None).expect("insert");
        (dir, store)
    }

    /// The in-memory index and SQL must agree on what matches and in which order, for every
    /// filter the desk offers (the index serves the desk, SQL serves scripts).
    #[test]
    fn index_agrees_with_sql_for_every_filter() {
        let (_dir, store) = seeded_store(400);
        store.enable_index().expect("index");
        // Writes after the index is built must reach it.
        store
            .queue_action(
                "s3",
                &TriageAction::SetStatus {
                    status: Status::Resolved,
                },
                "li",
                "k1",
                t0(),
            )
            .expect("resolve");
        store
            .queue_action(
                "s5",
                &TriageAction::Assign {
                    assignee: Some("li".into()),
                },
                "li",
                "k2",
                t0(),
            )
            .expect("assign");
        store
            .upsert_requests(&[incoming(request("late", 13.75, 100.5))], "t", None)
            .expect("late arrival");
        let queries = vec![
            RequestQuery::default(),
            RequestQuery::open(),
            RequestQuery {
                emergency: Some(true),
                ..RequestQuery::open()
            },
            RequestQuery {
                bbox: Some(BBox::new(97.0, 5.0, 106.0, 21.0).expect("box")),
                ..Default::default()
            },
            RequestQuery {
                bbox: Some(BBox::parse("170,-30,-170,0").expect("box")),
                ..Default::default()
            },
            RequestQuery {
                categories: vec![Category::Medical, Category::Evacuation],
                ..Default::default()
            },
            RequestQuery {
                countries: vec!["LB".into(), "TH".into()],
                ..Default::default()
            },
            RequestQuery {
                posts: vec!["Embassy Beirut".into()],
                ..Default::default()
            },
            RequestQuery {
                priorities: vec![Priority::Critical],
                ..Default::default()
            },
            RequestQuery {
                assignee: Some(AssigneeFilter::To("li".into())),
                ..Default::default()
            },
            RequestQuery {
                assignee: Some(AssigneeFilter::Unassigned),
                statuses: vec![Status::Resolved],
                ..Default::default()
            },
            RequestQuery {
                text: Some("护照".into()),
                ..Default::default()
            },
            RequestQuery {
                text: Some("passport".into()),
                ..RequestQuery::open()
            },
            RequestQuery {
                created_from: Some(t0() + Duration::minutes(100)),
                created_to: Some(t0() + Duration::minutes(200)),
                ..Default::default()
            },
        ];
        for q in queries {
            let sql = store.query_request_ids(&q).expect("sql");
            let (total, page) = store
                .indexed_page(&RequestQuery {
                    limit: Some(10_000),
                    ..q.clone()
                })
                .expect("index");
            let indexed: Vec<String> = page.into_iter().map(|r| r.request.id).collect();
            assert_eq!(total as usize, sql.len(), "count for {q:?}");
            assert_eq!(indexed, sql, "order for {q:?}");
            assert_eq!(
                store.indexed_counts(&q).expect("index counts"),
                store.counts(&q).expect("sql counts"),
                "the panels' counts for {q:?}"
            );
            assert_eq!(
                store
                    .indexed_time_buckets(&q, Duration::hours(1))
                    .expect("index buckets"),
                store
                    .time_buckets(&q, Duration::hours(1))
                    .expect("sql buckets"),
                "the timeline for {q:?}"
            );
        }
        assert_eq!(store.indexed_count().expect("count"), 401);
        let open_sos: u64 = store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM requests WHERE emergency = 1 AND is_open = 1",
                    [],
                    |r| r.get(0),
                )?)
            })
            .expect("sql");
        assert!(open_sos > 0, "the seeded store has open emergencies");
        assert_eq!(
            store.open_emergency_count().expect("banner"),
            open_sos,
            "the banner's count, kept by the index, equals what is open"
        );
    }

    /// The index builds from the query index's keys when that is nearly caught up, and from
    /// the request rows when it is far behind: both give the same index.
    #[test]
    fn the_index_is_the_same_built_from_keys_or_from_rows() {
        let (_dir, far_behind) = seeded_store(20_500);
        assert!(far_behind.index_lag().expect("lag").new_requests > 20_000);
        far_behind.enable_index().expect("index from the rows");
        let (_dir2, caught_up) = seeded_store(20_500);
        caught_up.catch_up_index().expect("catch up");
        caught_up.enable_index().expect("index from the keys");
        for q in [
            RequestQuery::default(),
            RequestQuery::open(),
            RequestQuery {
                emergency: Some(true),
                ..Default::default()
            },
        ] {
            let page = |s: &Store| {
                let (n, rows) = s
                    .indexed_page(&RequestQuery {
                        limit: Some(50),
                        ..q.clone()
                    })
                    .expect("page");
                (
                    n,
                    rows.into_iter().map(|r| r.request.id).collect::<Vec<_>>(),
                )
            };
            assert_eq!(page(&far_behind), page(&caught_up), "{q:?}");
            assert_eq!(
                far_behind.indexed_counts(&q).expect("counts"),
                caught_up.indexed_counts(&q).expect("counts")
            );
        }
        assert_eq!(far_behind.indexed_count().expect("n"), 20_500);
        assert_eq!(caught_up.indexed_count().expect("n"), 20_500);
    }

    #[test]
    fn rolled_back_writes_do_not_reach_the_index() {
        let (_dir, store) = seeded_store(10);
        store.enable_index().expect("index");
        let err = store.write(|tx| {
            tx.execute("UPDATE requests SET status = 'closed', is_open = 0, triage_rank = 5 WHERE id = 's1'", [])?;
            Err::<(), _>(lifeline_core::store::StoreError::RequestNotFound("abort".into()))
        });
        assert!(err.is_err());
        let (open, _) = store.indexed_page(&RequestQuery::open()).expect("page");
        assert_eq!(open, 10, "the aborted close never happened");
    }
}

/// The derived query index (`desk.index.sqlite`): always caught up when queried, rebuilt
/// whenever it cannot be trusted.
mod derived_index {
    use super::*;

    fn search(store: &Store, text: &str) -> Vec<String> {
        let mut found = store
            .query_request_ids(&RequestQuery {
                text: Some(text.into()),
                ..Default::default()
            })
            .expect("search");
        found.sort();
        found
    }

    fn described(id: &str, version: i64, description: &str) -> IncomingRequest {
        let mut r = request(id, 13.75, 100.5);
        r.version = version;
        r.description = description.into();
        incoming(r)
    }

    fn remove_index_files(store_path: &std::path::Path) {
        let index = store_path.with_file_name("desk.index.sqlite");
        for suffix in ["", "-wal", "-shm"] {
            let mut p = index.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }

    #[test]
    fn a_request_is_searchable_the_moment_its_write_commits() {
        let (_dir, store) = open_store();
        store
            .upsert_requests(&[described("r1", 1, "钱包在车站被偷")], "t", None)
            .expect("insert");
        assert_eq!(
            store.index_lag().expect("lag").new_requests,
            1,
            "nothing indexed it yet"
        );
        assert_eq!(
            search(&store, "钱包"),
            ["r1"],
            "the query caught the index up itself"
        );
        assert!(store.index_lag().expect("lag").is_caught_up());

        store
            .upsert_requests(
                &[described("r1", 2, "passport found, safe at hotel")],
                "t",
                None,
            )
            .expect("newer version");
        assert_eq!(store.index_lag().expect("lag").changes, 1);
        assert!(
            search(&store, "钱包").is_empty(),
            "the old text is gone from the index"
        );
        assert_eq!(search(&store, "hotel"), ["r1"]);
        let found = store
            .query_requests(&RequestQuery {
                bbox: Some(BBox::new(100.0, 13.0, 101.0, 14.0).expect("box")),
                ..Default::default()
            })
            .expect("viewport");
        assert_eq!(
            ids(&found),
            ["r1"],
            "one request, one entry, after an update"
        );
    }

    #[test]
    fn the_background_indexer_catches_up_without_a_query() {
        let (_dir, store) = open_store();
        let store = std::sync::Arc::new(store);
        let indexer = store.spawn_indexer();
        let batch: Vec<_> = (0..2500)
            .map(|i| described(&format!("r{i}"), 1, "需要帮助 help"))
            .collect();
        store.upsert_requests(&batch, "t", None).expect("insert");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !store.index_lag().expect("lag").is_caught_up() {
            assert!(
                std::time::Instant::now() < deadline,
                "the indexer never caught up: {:?}, last error {:?}",
                store.index_lag(),
                indexer.last_error()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(indexer.last_error(), None);
        drop(indexer);
        assert_eq!(search(&store, "帮助").len(), 2500);
    }

    #[test]
    fn a_deleted_index_is_rebuilt_from_the_store() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("desk.sqlite");
        {
            let store = Store::open(&path).expect("open");
            store
                .upsert_requests(
                    &[
                        described("r1", 1, "lost passport"),
                        described("r2", 1, "hospital"),
                    ],
                    "t",
                    None,
                )
                .expect("insert");
            assert_eq!(search(&store, "passport"), ["r1"]);
        }
        remove_index_files(&path);
        let store = Store::open(&path).expect("reopen without an index");
        let done = store.catch_up_index().expect("catch up");
        assert!(done.rebuilt, "an empty index file is rebuilt");
        assert_eq!(done.indexed_new, 2);
        assert_eq!(search(&store, "passport"), ["r1"]);
        assert_eq!(search(&store, "hospital"), ["r2"]);
        assert!(store.integrity_check().expect("check").is_empty());
    }

    #[test]
    fn an_index_copied_from_another_store_is_not_trusted() {
        let dir = tempfile::tempdir().expect("temp dir");
        let a_path = dir.path().join("a").join("desk.sqlite");
        let b_path = dir.path().join("b").join("desk.sqlite");
        {
            let a = Store::open(&a_path).expect("a");
            a.upsert_requests(
                &[
                    described("a1", 1, "earthquake"),
                    described("a2", 1, "flood"),
                ],
                "t",
                None,
            )
            .expect("a rows");
            a.catch_up_index().expect("a indexed");
            a.checkpoint().expect("checkpoint");
            let b = Store::open(&b_path).expect("b");
            b.upsert_requests(&[described("b1", 1, "detained")], "t", None)
                .expect("b rows");
        }
        remove_index_files(&b_path);
        std::fs::copy(
            a_path.with_file_name("desk.index.sqlite"),
            b_path.with_file_name("desk.index.sqlite"),
        )
        .expect("copy a's index over b's");
        let b = Store::open(&b_path).expect("b reopens");
        assert!(
            search(&b, "earthquake").is_empty(),
            "a's requests never show in b"
        );
        assert_eq!(search(&b, "detained"), ["b1"]);
        assert_eq!(
            b.count_requests(&RequestQuery::default()).expect("count"),
            1
        );
    }

    #[test]
    fn an_index_ahead_of_a_restored_store_is_rebuilt() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("desk.sqlite");
        let backup = dir.path().join("backup.sqlite");
        {
            let store = Store::open(&path).expect("open");
            store
                .upsert_requests(&[described("r1", 1, "robbed")], "t", None)
                .expect("insert");
            store.checkpoint().expect("checkpoint");
            std::fs::copy(&path, &backup).expect("back up");
            store
                .upsert_requests(&[described("r2", 1, "robbed again")], "t", None)
                .expect("after the backup");
            assert_eq!(search(&store, "robbed").len(), 2);
            store.checkpoint().expect("checkpoint");
        }
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        std::fs::copy(&backup, &path).expect("restore the backup");
        let store = Store::open(&path).expect("open the restored store");
        assert_eq!(
            search(&store, "robbed"),
            ["r1"],
            "the index follows the restored store"
        );
    }

    #[test]
    fn an_index_older_than_the_pruned_change_log_is_rebuilt() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("desk.sqlite");
        let index = path.with_file_name("desk.index.sqlite");
        let old_index = dir.path().join("old.index.sqlite");
        let batch = |version: i64, text: &str| -> Vec<IncomingRequest> {
            (0..1000)
                .map(|i| described(&format!("r{i}"), version, text))
                .collect()
        };
        {
            let store = Store::open(&path).expect("open");
            store
                .upsert_requests(&batch(1, "first"), "t", None)
                .expect("v1");
            store.catch_up_index().expect("indexed");
            store.checkpoint().expect("checkpoint");
            std::fs::copy(&index, &old_index).expect("keep the index as it is now");
            // Enough newer versions that the change log is pruned behind the index, then
            // one more for a few requests only (its changes stay in the log).
            for version in 2..=11 {
                store
                    .upsert_requests(&batch(version, &format!("version{version}")), "t", None)
                    .expect("newer");
                store.catch_up_index().expect("indexed");
            }
            store
                .upsert_requests(&batch(12, "version12")[..10], "t", None)
                .expect("a few newer");
            store.catch_up_index().expect("indexed");
            let pending: i64 = store
                .read(
                    |c| Ok(c.query_row("SELECT count(*) FROM request_changes", [], |r| r.get(0))?),
                )
                .expect("log");
            assert_eq!(pending, 10, "the change log was pruned behind the index");
            store.checkpoint().expect("checkpoint");
        }
        remove_index_files(&path);
        std::fs::copy(&old_index, &index).expect("put the old index back");
        let store = Store::open(&path).expect("reopen");
        assert!(
            search(&store, "first").is_empty(),
            "the changes this index missed were pruned: it must be rebuilt, not caught up"
        );
        assert_eq!(search(&store, "version11").len(), 990);
        assert_eq!(search(&store, "version12").len(), 10);
    }

    #[test]
    fn requests_are_deleted_only_by_the_stores_removal() {
        let (dir, store) = open_store();
        store
            .upsert_requests(&[described("r1", 1, "x")], "t", None)
            .expect("insert");
        store
            .queue_action("r1", &TriageAction::Acknowledge, "li", "k1", t0())
            .expect("a case event");
        let conn = rusqlite::Connection::open(dir.path().join("desk.sqlite")).expect("raw open");
        let err = conn
            .execute("DELETE FROM requests", [])
            .expect_err("a stray delete would leave the indexes and the case log behind");
        assert!(
            err.to_string().contains("only through the store's removal"),
            "{err}"
        );
        let err = conn
            .execute("DELETE FROM case_events", [])
            .expect_err("the case log is append-only outside a removal");
        assert!(err.to_string().contains("append-only"), "{err}");
    }

    #[test]
    fn a_removed_request_leaves_the_store_and_every_index() {
        let (_dir, store) = open_store();
        store
            .upsert_requests(
                &[
                    described("r1", 1, "passport stolen"),
                    described("r2", 1, "passport lost"),
                ],
                "t",
                None,
            )
            .expect("insert");
        store
            .queue_action("r1", &TriageAction::Acknowledge, "li", "k1", t0())
            .expect("a pending edit");
        store.enable_index().expect("map index");
        assert_eq!(search(&store, "passport"), ["r1", "r2"]);
        let removed = store
            .apply_removals(&["r1".into(), "unknown".into()], "hub", "c.9")
            .expect("remove");
        assert_eq!(removed, 1, "unknown ids are skipped");
        assert_eq!(
            search(&store, "passport"),
            ["r2"],
            "the text index forgot it"
        );
        assert!(store.request_with_events("r1").expect("read").is_none());
        let left = store.outbox_for_request("r1").expect("outbox");
        assert_eq!(
            left.iter().map(|i| i.state).collect::<Vec<_>>(),
            [OutboxState::Rejected],
            "the unsent edit stays, rejected, so the officer learns it never reached the hub"
        );
        assert_eq!(
            store.indexed_count().expect("count"),
            1,
            "the in-memory index forgot it too"
        );
        assert_eq!(
            store
                .source_state("hub")
                .expect("state")
                .and_then(|s| s.cursor)
                .as_deref(),
            Some("c.9"),
            "the cursor moved past the removal in the same transaction"
        );
    }

    #[test]
    fn a_rowid_handed_out_again_after_a_removal_is_indexed() {
        // SQLite gives the next insert the highest rowid + 1: after the highest row is
        // removed, a new request reuses its rowid, which the index had already passed.
        let (_dir, store) = open_store();
        store
            .upsert_requests(
                &[described("r1", 1, "first"), described("r2", 1, "second")],
                "t",
                None,
            )
            .expect("insert");
        assert_eq!(search(&store, "second"), ["r2"]);
        store
            .apply_removals(&["r2".into()], "hub", "c.1")
            .expect("remove the last row");
        store
            .upsert_requests(&[described("r3", 1, "third")], "t", None)
            .expect("insert again");
        assert_eq!(
            search(&store, "third"),
            ["r3"],
            "the reused rowid was indexed"
        );
        assert!(search(&store, "second").is_empty());
    }

    /// A desk from before the derived index (schema 2): its data, case log and notes come
    /// through the migration, and search finds them again.
    #[test]
    fn a_schema_2_store_migrates_and_its_requests_are_found_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("desk.sqlite");
        {
            let conn = rusqlite::Connection::open(&path).expect("raw open");
            conn.execute_batch(include_str!("../migrations/0001_initial.sql"))
                .expect("schema 1");
            conn.execute_batch(include_str!(
                "../migrations/0002_alert_decisions_and_claims.sql"
            ))
            .expect("schema 2");
            conn.execute_batch(
                "PRAGMA user_version = 2;
                 INSERT INTO requests (id, channel, category, emergency, priority, status, is_open, triage_rank,
                   citizen_name, people_count, lat, lon, country, description, created_at, updated_at, version, source)
                 VALUES ('old-1', 'app', 'medical', 1, 0, 'new', 1, 0, '王芳', 1, 41.0, 29.0, 'TR',
                   '地震后受伤', 1764057600000, 1764057600000, 3, 'hub');
                 INSERT INTO case_events (event_id, request_id, kind, detail, actor, at, origin) VALUES
                   ('old-1.created', 'old-1', 'created', '{\"kind\":\"created\"}', NULL, 1764057600000, 'sync'),
                   ('old-1.note', 'old-1', 'note', '{\"kind\":\"note\",\"text\":\"ambulance sent\"}', 'li', 1764057700000, 'desk');",
            )
            .expect("a schema-2 desk with one request");
        }
        let store = Store::open(&path).expect("migrates");
        assert_eq!(store.schema_version().expect("version"), 4);
        let (stored, events) = store
            .request_with_events("old-1")
            .expect("read")
            .expect("the request is still there");
        assert_eq!(stored.request.version, 3);
        assert_eq!(events.len(), 2, "the case log came through");
        assert_eq!(search(&store, "地震"), ["old-1"]);
        assert_eq!(
            search(&store, "ambulance"),
            ["old-1"],
            "old notes are searchable"
        );
        let found = store
            .query_requests(&RequestQuery {
                bbox: Some(BBox::new(28.0, 40.0, 30.0, 42.0).expect("box")),
                emergency: Some(true),
                ..Default::default()
            })
            .expect("viewport");
        assert_eq!(ids(&found), ["old-1"]);
        assert!(store.integrity_check().expect("check").is_empty());
    }
}

mod encryption {
    use super::*;
    use lifeline_core::store::{StoreError, StoreKey, encrypt_in_place, is_plaintext};

    const NAME: &str = "Plantedname Liu";
    const PHONE: &str = "+8613999988877";
    const DESCRIPTION: &str = "plantedword hotel lobby flooded";

    fn planted(id: &str) -> IncomingRequest {
        let mut r = request(id, 13.75, 100.5);
        r.citizen.name = NAME.into();
        r.citizen.phone = Some(PHONE.into());
        r.description = DESCRIPTION.into();
        incoming(r)
    }

    /// Every file of the folder, as bytes.
    fn folder_bytes(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
        std::fs::read_dir(dir)
            .expect("read dir")
            .flatten()
            .filter(|e| e.path().is_file())
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).expect("read"),
                )
            })
            .collect()
    }

    fn holds(bytes: &[u8], needle: &str) -> bool {
        bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    fn assert_no_plaintext(dir: &std::path::Path) {
        for (name, bytes) in folder_bytes(dir) {
            for needle in [NAME, PHONE, "plantedword"] {
                assert!(!holds(&bytes, needle), "{name} holds {needle} in plaintext");
            }
        }
    }

    #[test]
    fn an_encrypted_store_leaves_no_plaintext_in_any_file() {
        let dir = tempfile::tempdir().expect("dir");
        let key = StoreKey::random().expect("key");
        let path = dir.path().join("desk.sqlite");
        {
            let store = Store::open_encrypted(&path, &key).expect("open");
            store
                .upsert_requests(&[planted("r1")], "hub", None)
                .expect("insert");
            store
                .queue_action(
                    "r1",
                    &TriageAction::AddNote {
                        text: "plantedword again".into(),
                    },
                    "li",
                    "k1",
                    t0(),
                )
                .expect("a note");
            // Searchable (the derived index has it), and read back through the key.
            let found = store
                .query_request_ids(&RequestQuery {
                    text: Some("plantedword".into()),
                    ..Default::default()
                })
                .expect("search");
            assert_eq!(found, ["r1"]);
            assert_no_plaintext(dir.path());
            store.checkpoint().expect("checkpoint");
        }
        assert_no_plaintext(dir.path());
        assert_eq!(is_plaintext(&path).expect("read"), Some(false));
        let again = Store::open_encrypted(&path, &key).expect("reopen");
        assert_eq!(
            again
                .get_request("r1")
                .expect("read")
                .expect("there")
                .request
                .citizen
                .name,
            NAME
        );
    }

    #[test]
    fn a_wrong_or_missing_key_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("desk.sqlite");
        {
            let store =
                Store::open_encrypted(&path, &StoreKey::random().expect("key")).expect("open");
            store
                .upsert_requests(&[planted("r1")], "hub", None)
                .expect("insert");
            store.checkpoint().expect("checkpoint");
        }
        let before = folder_bytes(dir.path());
        let wrong = Store::open_encrypted(&path, &StoreKey::random().expect("key"))
            .expect_err("a wrong key");
        assert!(matches!(wrong, StoreError::WrongKey(_)), "{wrong}");
        let missing = Store::open(&path).expect_err("no key");
        assert!(matches!(missing, StoreError::Encrypted(_)), "{missing}");
        let mut after = folder_bytes(dir.path());
        let mut before = before;
        before.sort();
        after.sort();
        assert_eq!(before, after, "the files are untouched");
    }

    #[test]
    fn a_plaintext_store_is_encrypted_in_place_with_every_record() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("desk.sqlite");
        {
            let store = Store::open(&path).expect("plaintext");
            let batch: Vec<_> = (0..200).map(|i| planted(&format!("r{i}"))).collect();
            store.upsert_requests(&batch, "hub", None).expect("insert");
            store
                .queue_action("r1", &TriageAction::Acknowledge, "li", "k1", t0())
                .expect("a pending edit");
            store.catch_up_index().expect("index");
        }
        assert_eq!(is_plaintext(&path).expect("read"), Some(true));
        let key = StoreKey::random().expect("key");
        let report = encrypt_in_place(&path, &key).expect("encrypt");
        assert_eq!(report.requests, 200);
        assert_no_plaintext(dir.path());
        let store = Store::open_encrypted(&path, &key).expect("opens with the key");
        assert_eq!(
            store.request_count().expect("count"),
            200,
            "every record kept"
        );
        assert_eq!(
            store.outbox_counts().expect("outbox").pending,
            1,
            "the pending edit kept"
        );
        assert_eq!(
            store.integrity_check().expect("check"),
            Vec::<String>::new()
        );
        let found = store
            .query_request_ids(&RequestQuery {
                text: Some("plantedword".into()),
                ..Default::default()
            })
            .expect("search");
        assert_eq!(found.len(), 200, "the derived index was rebuilt, encrypted");
    }
}

mod retention {
    use super::*;
    use lifeline_core::store::Rejection;

    const PLANTED: [&str; 3] = ["Retentionname Qian", "+8613711112222", "retentionword"];

    fn files_holding(dir: &std::path::Path, needle: &str) -> Vec<String> {
        std::fs::read_dir(dir)
            .expect("dir")
            .flatten()
            .filter(|e| e.path().is_file())
            .filter(|e| {
                let bytes = std::fs::read(e.path()).expect("read");
                bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
            })
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn a_purged_request_leaves_no_trace_in_any_file_of_the_folder() {
        // A plaintext store, so that finding nothing means the bytes are gone.
        let (dir, store) = open_store();
        let mut old = request("old-1", 13.75, 100.5);
        old.citizen.name = PLANTED[0].into();
        old.citizen.phone = Some(PLANTED[1].into());
        old.description = format!("{} at the station", PLANTED[2]);
        old.status = Status::Closed;
        old.updated_at = t0() - Duration::days(40);
        let mut open = request("open-1", 13.76, 100.5);
        open.description = "still open, keeps its place".into();
        store
            .upsert_requests(&[incoming(old), incoming(open)], "hub", None)
            .expect("insert");
        store
            .queue_action(
                "old-1",
                &TriageAction::AddNote {
                    text: format!("{} note", PLANTED[2]),
                },
                "li",
                "k1",
                t0() - Duration::days(40),
            )
            .expect("a note of ours");
        store
            .apply_sync_batch(
                &[],
                &[Rejection {
                    record_ref: Some("request old-1".into()),
                    reason: "a bad version".into(),
                    raw: PLANTED[0].as_bytes().to_vec(),
                }],
                "hub",
                "c.1",
                t0(),
            )
            .expect("a quarantined copy");
        store.catch_up_index().expect("indexed");
        store.checkpoint().expect("checkpoint");
        assert!(
            !files_holding(dir.path(), PLANTED[2]).is_empty(),
            "the planted record is in the files before the purge (else this test proves nothing)"
        );
        let purged = store
            .purge_closed(t0() - Duration::days(30))
            .expect("purge");
        assert_eq!(purged, 1, "only the request closed before the horizon");
        for needle in PLANTED {
            assert_eq!(
                files_holding(dir.path(), needle),
                Vec::<String>::new(),
                "{needle} is gone from every file"
            );
        }
        assert!(store.get_request("old-1").expect("read").is_none());
        assert!(
            store
                .outbox_for_request("old-1")
                .expect("outbox")
                .is_empty(),
            "erasure takes our edits too"
        );
        let found = store
            .query_request_ids(&RequestQuery {
                text: Some("station".into()),
                ..Default::default()
            })
            .expect("search");
        assert!(found.is_empty(), "not searchable");
        assert!(
            store.get_request("open-1").expect("read").is_some(),
            "open requests stay"
        );
    }
}
