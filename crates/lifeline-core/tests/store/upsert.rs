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
