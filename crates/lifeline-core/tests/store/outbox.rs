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
