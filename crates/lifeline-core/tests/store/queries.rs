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

#[test]
fn the_post_filter_lists_each_post_once_in_order() {
    let (_dir, store) = open_store();
    let with_post = |id: &str, post: Option<&str>| {
        let mut r = request(id, 13.75, 100.5);
        r.post = post.map(str::to_owned);
        incoming(r)
    };
    store
        .upsert_requests(
            &[
                with_post("a", Some("istanbul")),
                with_post("b", Some("bangkok")),
                with_post("c", None),
                with_post("d", Some("istanbul")),
                with_post("e", Some("曼谷")),
                with_post("f", Some("bangkok")),
            ],
            "t",
            None,
        )
        .expect("insert");
    assert_eq!(
        store.distinct_posts().expect("posts"),
        ["bangkok", "istanbul", "曼谷"]
    );
}
