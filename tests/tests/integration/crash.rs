use super::*;

/// A `kill -9` in the middle of a large import leaves a consistent store holding exactly
/// the batches that were committed, in order, and nothing half-written.
#[test]
fn kill_during_import_leaves_every_committed_batch_and_nothing_else() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("desk.sqlite");
    let file = dir.path().join("big.jsonl");
    let total = 60_000;
    write_jsonl(&file, total);
    let mut child = lifeline()
        .arg("--db")
        .arg(&db)
        .arg("import")
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start import");
    // Wait for a few committed batches, then kill without warning.
    let stderr = child.stderr.take().expect("stderr");
    let mut reported = 0u64;
    for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
        let line = line.expect("line");
        if let Some(n) = line
            .rsplit("committed ")
            .next()
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse().ok())
        {
            reported = n;
            if reported >= 5_000 {
                break;
            }
        }
    }
    child.kill().expect("kill -9");
    let _ = child.wait();
    assert!(
        reported >= 5_000,
        "the import reported progress before the kill"
    );

    let store = lifeline_core::Store::open(&db).expect("the store opens after a crash");
    assert!(
        store.integrity_check().expect("check").is_empty(),
        "PRAGMA integrity_check is ok"
    );
    let count = store.request_count().expect("count");
    assert!(
        count >= reported,
        "every batch reported as committed is there ({count} < {reported})"
    );
    assert!(count < total as u64, "the import was really interrupted");
    assert_eq!(count % 1000, 0, "batches are all or nothing");
    let ids = store
        .query_request_ids(&lifeline_core::store::RequestQuery {
            order: lifeline_core::store::RequestOrder::Oldest,
            ..Default::default()
        })
        .expect("ids");
    let mut sorted = ids.clone();
    sorted.sort();
    let expected: Vec<String> = (0..count as usize).map(|i| format!("req-{i:07}")).collect();
    assert_eq!(
        sorted, expected,
        "exactly the first {count} records, none skipped"
    );
    let fts_rows: i64 = store
        .read(|c| Ok(c.query_row("SELECT count(*) FROM requests_rtree", [], |r| r.get(0))?))
        .expect("rtree count");
    assert_eq!(
        fts_rows as u64, count,
        "the spatial index matches the table"
    );
}
