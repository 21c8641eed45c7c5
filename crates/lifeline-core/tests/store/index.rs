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
        tx.execute(
            "UPDATE requests SET status = 'closed', is_open = 0, triage_rank = 5 WHERE id = 's1'",
            [],
        )?;
        Err::<(), _>(lifeline_core::store::StoreError::RequestNotFound(
            "abort".into(),
        ))
    });
    assert!(err.is_err());
    let (open, _) = store.indexed_page(&RequestQuery::open()).expect("page");
    assert_eq!(open, 10, "the aborted close never happened");
}

/// What the desk's queue shows for a few filters: page of ids and counts.
fn queue_view(s: &Store) -> Vec<(u64, Vec<String>, lifeline_core::store::Counts)> {
    [
        RequestQuery::default(),
        RequestQuery::open(),
        RequestQuery {
            emergency: Some(true),
            ..Default::default()
        },
    ]
    .into_iter()
    .map(|q| {
        let (n, rows) = s
            .indexed_page(&RequestQuery {
                limit: Some(60),
                ..q.clone()
            })
            .expect("page");
        let ids = rows.into_iter().map(|r| r.request.id).collect();
        (n, ids, s.indexed_counts(&q).expect("counts"))
    })
    .collect()
}

/// A later start reads the snapshot the last run saved and only the requests changed
/// since, and answers exactly as an index built from every request; a damaged snapshot is
/// refused and every request read instead.
#[test]
fn a_later_start_reads_the_snapshot_and_the_changes_since() {
    use lifeline_core::store::IndexBuild;
    let (dir, store) = seeded_store(600);
    let path = dir.path().join("desk.sqlite");
    assert_eq!(
        store.enable_index().expect("index"),
        IndexBuild::Full { refused: None },
        "no snapshot yet"
    );
    assert_eq!(
        store.changes_since_index_snapshot().expect("behind"),
        None,
        "no snapshot yet: the desk saves one at once"
    );
    assert!(store.save_index_snapshot().expect("saved"));
    assert!(
        !store.save_index_snapshot().expect("unchanged"),
        "nothing changed: not written again"
    );
    assert_eq!(
        store.changes_since_index_snapshot().expect("behind"),
        Some(0)
    );
    // Changes after the snapshot, by a run that stopped before saving another.
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
        .upsert_requests(&[incoming(request("late", 13.75, 100.5))], "t", None)
        .expect("late arrival");
    // A new request counts as much as a changed one: the next start reads both again (the
    // desk saves a snapshot when they add up).
    assert_eq!(
        store.changes_since_index_snapshot().expect("behind"),
        Some(2)
    );
    let before = queue_view(&store);
    // The desk gives its page caches back every ten seconds: nothing it shows changes.
    store.release_memory().expect("caches released");
    assert_eq!(queue_view(&store), before);
    drop(store);

    let later = Store::open(&path).expect("reopen");
    assert_eq!(
        later.enable_index().expect("index"),
        IndexBuild::FromSnapshot { changed: 2 },
        "the resolved request and the new one are read again"
    );
    assert_eq!(queue_view(&later), before);
    assert_eq!(later.indexed_count().expect("n"), 601);
    drop(later);

    // The snapshot's bytes damaged (the derived file is plaintext in this test).
    let derived = rusqlite::Connection::open(dir.path().join("desk.index.sqlite")).expect("open");
    derived
        .execute(
            "UPDATE map_snapshot SET bytes = substr(bytes, 1, 1000) WHERE part = 0",
            [],
        )
        .expect("damage");
    drop(derived);
    let damaged = Store::open(&path).expect("reopen");
    assert!(matches!(
        damaged.enable_index().expect("index"),
        IndexBuild::Full { refused: Some(_) }
    ));
    assert_eq!(queue_view(&damaged), before);
}

/// Another process's writes (the command line's) do not pass through this process's
/// update hook: saving a snapshot reads them first, so neither the index nor the snapshot
/// the next start reads misses them.
#[test]
fn a_snapshot_takes_in_what_another_process_wrote() {
    use lifeline_core::store::IndexBuild;
    let (dir, desk) = seeded_store(300);
    let path = dir.path().join("desk.sqlite");
    desk.enable_index().expect("index");
    assert!(desk.save_index_snapshot().expect("saved"));
    let other = Store::open(&path).expect("a second process");
    other
        .upsert_requests(&[incoming(request("from-cli", 41.0, 29.0))], "t", None)
        .expect("written elsewhere");
    other
        .queue_action(
            "s7",
            &TriageAction::SetStatus {
                status: Status::Closed,
            },
            "li",
            "k9",
            t0(),
        )
        .expect("closed elsewhere");
    drop(other);
    assert_eq!(desk.indexed_count().expect("n"), 300, "not seen yet");
    assert!(desk.save_index_snapshot().expect("saved again"));
    assert_eq!(desk.indexed_count().expect("n"), 301, "seen when saving");
    let sql_open = desk.count_requests(&RequestQuery::open()).expect("sql");
    assert_eq!(
        desk.indexed_counts(&RequestQuery::open())
            .expect("counts")
            .total,
        sql_open
    );
    let before = queue_view(&desk);
    drop(desk);
    let later = Store::open(&path).expect("reopen");
    assert_eq!(
        later.enable_index().expect("index"),
        IndexBuild::FromSnapshot { changed: 0 }
    );
    assert_eq!(queue_view(&later), before);
}
