use super::*;

#[test]
fn migrates_from_empty_and_reopens() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("desk.sqlite");
    {
        let store = Store::open(&path).expect("first open creates the schema");
        assert_eq!(store.schema_version().expect("version"), 6);
        store
            .upsert_requests(&[incoming(request("r1", 13.75, 100.5))], "test", None)
            .expect("insert");
    }
    let store = Store::open(&path).expect("re-open runs no migration twice");
    assert_eq!(store.schema_version().expect("version"), 6);
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
