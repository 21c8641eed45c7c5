//! The derived query index (`desk.index.sqlite`): always caught up when queried, rebuilt
//! whenever it cannot be trusted.

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
            .read(|c| Ok(c.query_row("SELECT count(*) FROM request_changes", [], |r| r.get(0))?))
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
        conn.execute_batch(include_str!("../../migrations/0001_initial.sql"))
            .expect("schema 1");
        conn.execute_batch(include_str!(
            "../../migrations/0002_alert_decisions_and_claims.sql"
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
    assert_eq!(store.schema_version().expect("version"), 6);
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
