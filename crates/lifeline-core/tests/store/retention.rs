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
