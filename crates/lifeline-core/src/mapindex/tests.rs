use chrono::{DateTime, Utc};

use super::*;
use crate::store::RequestOrder;

fn src(rowid: i64, lon: f64, lat: f64, status: Status, emergency: bool) -> PointSource<'static> {
    PointSource {
        rowid,
        position: Some((lon, lat)),
        created_at: DateTime::from_timestamp(1_700_000_000 + rowid, 0).unwrap_or_default(),
        located_at: None,
        priority: Priority::Normal,
        status,
        category: Category::Medical,
        emergency,
        country: Some("TH"),
        post: None,
        assignee: None,
    }
}

#[test]
fn clusters_split_as_you_zoom_and_singles_keep_their_id() {
    let mut idx = MapIndex::new();
    idx.upsert(&src(1, 100.50, 13.75, Status::New, true))
        .expect("rowid in range");
    idx.upsert(&src(2, 100.51, 13.76, Status::New, false))
        .expect("rowid in range");
    idx.upsert(&src(3, 103.82, 1.35, Status::Resolved, false))
        .expect("rowid in range");
    let all = PointFilter::default();
    let world = idx.clusters(&BBox::WORLD, 5.0, 50.0, &all, Utc::now());
    let bangkok = world
        .iter()
        .find(|c| c.count == 2)
        .unwrap_or_else(|| panic!("Bangkok's two requests share a cluster: {world:?}"));
    assert_eq!(
        (bangkok.open, bangkok.open_emergencies, bangkok.rowid),
        (2, 1, 0)
    );
    let close = idx.clusters(&BBox::WORLD, 16.0, 50.0, &all, Utc::now());
    assert_eq!(
        close.len(),
        3,
        "one record is exactly one marker when zoomed in"
    );
    assert!(close.iter().all(|c| c.count == 1 && c.rowid != 0));
}

#[test]
fn clusters_account_for_every_point_in_view_at_every_zoom() {
    let mut rng = crate::synth::Rng::new(3);
    let mut idx = MapIndex::new();
    for i in 0..2000 {
        let (lon, lat) = (28.6 + rng.unit() * 0.8, 40.7 + rng.unit() * 0.6);
        idx.upsert(&src(i + 1, lon, lat, Status::New, i % 3 == 0))
            .expect("rowid in range");
    }
    for zoom in [2.0, 6.0, 9.0, 10.5, 12.0, 14.0] {
        let clusters = idx.clusters(
            &BBox::WORLD,
            zoom,
            48.0,
            &PointFilter::default(),
            Utc::now(),
        );
        let total: u32 = clusters.iter().map(|c| c.count).sum();
        let sos: u32 = clusters.iter().map(|c| c.open_emergencies).sum();
        assert_eq!(
            (total, sos),
            (2000, 667),
            "zoom {zoom}: {} clusters",
            clusters.len()
        );
    }
}

#[test]
fn a_city_on_a_cell_edge_is_one_cluster_not_two_overlapping_ones() {
    // At zoom 4 a 48-px cell is 360*48/(256*16) = 4.22° wide; 126.6° is a cell edge
    // (30 cells east of 0°). Points just either side of it are a few pixels apart.
    let edge = 30.0 * 360.0 * 48.0 / (256.0 * 16.0);
    let mut idx = MapIndex::new();
    for i in 0..10 {
        let lon = edge + if i % 2 == 0 { -0.05 } else { 0.05 };
        idx.upsert(&src(i + 1, lon, 37.5, Status::New, i == 0))
            .expect("rowid in range");
    }
    // And a city a screen away, which stays apart.
    idx.upsert(&src(50, edge + 20.0, 37.5, Status::New, false))
        .expect("rowid in range");
    let clusters = idx.clusters(&BBox::WORLD, 4.0, 48.0, &PointFilter::default(), Utc::now());
    let mut counts: Vec<u32> = clusters.iter().map(|c| c.count).collect();
    counts.sort_unstable();
    assert_eq!(counts, vec![1, 10], "{clusters:?}");
    let city = clusters
        .iter()
        .find(|c| c.count == 10)
        .map(|c| (c.lon, c.lat, c.open_emergencies));
    let (lon, lat, sos) = city.unwrap_or_default();
    assert!(
        (lon - edge).abs() < 0.01 && (lat - 37.5).abs() < 0.01,
        "centred on the city: {lon}, {lat}"
    );
    assert_eq!(sos, 1);
}

#[test]
fn filters_and_updates_apply() {
    let mut idx = MapIndex::new();
    idx.upsert(&src(1, 100.5, 13.75, Status::New, true))
        .expect("rowid in range");
    idx.upsert(&src(2, 100.5, 13.75, Status::Resolved, false))
        .expect("rowid in range");
    let open = idx.filter(&RequestQuery::open(), None);
    let n = |idx: &MapIndex, f: &PointFilter| {
        let mut n = 0;
        idx.for_each_in(&BBox::WORLD, f, |_| n += 1);
        n
    };
    assert_eq!(n(&idx, &open), 1);
    idx.upsert(&src(2, 100.5, 13.75, Status::New, false))
        .expect("rowid in range");
    assert_eq!(n(&idx, &open), 2, "an update replaces the point");
    idx.upsert(&src(2, -70.0, 18.0, Status::New, false))
        .expect("rowid in range");
    assert_eq!(idx.len(), 2, "moving a point does not duplicate it");
    let mut unlocated = src(3, 0.0, 0.0, Status::New, true);
    unlocated.position = None;
    idx.upsert(&unlocated).expect("rowid in range");
    let mut all = 0;
    idx.for_each(&open, |_| all += 1);
    assert_eq!(all, 3, "the queue counts requests without a location");
    assert_eq!(n(&idx, &open), 2, "the map shows only located ones");
    let (total, page) = idx.page(None, &open, RequestOrder::Triage, 2, 0);
    assert_eq!(
        (total, page),
        (3, vec![3, 1]),
        "emergencies first, newest first"
    );
    let (_, second) = idx.page(None, &open, RequestOrder::Triage, 2, 2);
    assert_eq!(second, [2]);
    let thailand = BBox::new(97.0, 5.0, 106.0, 21.0).expect("box");
    let mut found = Vec::new();
    idx.for_each_in(&thailand, &open, |p| found.push(p.rowid()));
    assert_eq!(found, [1]);
    let unknown_country = idx.filter(
        &RequestQuery {
            countries: vec!["FR".into()],
            ..Default::default()
        },
        None,
    );
    assert_eq!(n(&idx, &unknown_country), 0);
}

#[test]
fn rowid_sets_hold_exactly_their_members_dense_or_sparse() {
    let dense: RowidSet = [1, 2, 63, 64, 65, 1000].into_iter().collect();
    assert!(matches!(dense, RowidSet::Bits(_)));
    let sparse: RowidSet = [3, 1 << 40].into_iter().collect();
    assert!(
        matches!(sparse, RowidSet::Sparse(_)),
        "a bitmap of 2^40 bits is not built"
    );
    for (set, members) in [
        (&dense, &[1, 2, 63, 64, 65, 1000][..]),
        (&sparse, &[3, 1 << 40][..]),
    ] {
        for r in -1..1100 {
            assert_eq!(set.contains(r), members.contains(&r), "rowid {r}");
        }
        assert!(members.iter().all(|m| set.contains(*m)));
    }
    assert!(!dense.contains(i64::MAX) && !dense.contains(-5));
    let empty: RowidSet = std::iter::empty().collect();
    assert!(!empty.contains(0) && !empty.contains(1));
}

#[test]
fn open_emergencies_follow_upserts_and_removals() {
    let mut index = MapIndex::new();
    index
        .upsert(&src(1, 10.0, 10.0, Status::New, true))
        .expect("rowid in range");
    index
        .upsert(&src(2, 10.0, 10.0, Status::New, false))
        .expect("rowid in range");
    index
        .upsert(&src(3, 11.0, 10.0, Status::Acknowledged, true))
        .expect("rowid in range");
    assert_eq!(index.open_emergencies(), 2);
    index
        .upsert(&src(1, 10.0, 10.0, Status::Resolved, true))
        .expect("rowid in range");
    assert_eq!(index.open_emergencies(), 1, "resolved is no longer open");
    index
        .upsert(&src(1, 10.0, 10.0, Status::Resolved, true))
        .expect("rowid in range");
    assert_eq!(
        index.open_emergencies(),
        1,
        "upserting the same state twice counts once"
    );
    index.remove(3);
    assert_eq!(index.open_emergencies(), 0);
}

#[test]
fn viewport_across_the_antimeridian() {
    let mut idx = MapIndex::new();
    idx.upsert(&src(1, 178.45, -18.12, Status::New, false))
        .expect("rowid in range");
    idx.upsert(&src(2, -175.2, -21.14, Status::New, false))
        .expect("rowid in range");
    idx.upsert(&src(3, 0.0, -20.0, Status::New, false))
        .expect("rowid in range");
    let mut found = Vec::new();
    idx.for_each_in(
        &BBox::parse("170,-25,-170,-10").expect("box"),
        &PointFilter::default(),
        |p| found.push(p.rowid()),
    );
    found.sort();
    assert_eq!(found, [1, 2]);
}

#[test]
fn the_waiting_order_puts_the_longest_waiting_sos_first_and_the_rest_newest_first() {
    let mut idx = MapIndex::new();
    // rowid = age order: 1 is the oldest.
    idx.upsert(&src(1, 100.5, 13.7, Status::New, false))
        .expect("rowid in range");
    idx.upsert(&src(2, 100.5, 13.7, Status::New, true))
        .expect("rowid in range");
    idx.upsert(&src(3, 100.5, 13.7, Status::Acknowledged, true))
        .expect("rowid in range");
    idx.upsert(&src(4, 100.5, 13.7, Status::New, true))
        .expect("rowid in range");
    idx.upsert(&src(5, 100.5, 13.7, Status::New, false))
        .expect("rowid in range");
    idx.upsert(&src(6, 100.5, 13.7, Status::Resolved, true))
        .expect("rowid in range");
    let all = idx.filter(&RequestQuery::default(), None);
    let order = |o| idx.page(None, &all, o, 10, 0).1;
    assert_eq!(
        order(RequestOrder::Waiting),
        [2, 4, 3, 5, 1, 6],
        "unacknowledged SOS oldest first, then acknowledged SOS, open by priority newest first, finished last"
    );
    assert_eq!(order(RequestOrder::Triage), [4, 3, 2, 5, 1, 6]);
    assert_eq!(order(RequestOrder::Newest), [6, 5, 4, 3, 2, 1]);
    assert_eq!(order(RequestOrder::Oldest), [1, 2, 3, 4, 5, 6]);
    // A page further down continues the same order.
    assert_eq!(idx.page(None, &all, RequestOrder::Waiting, 2, 2).1, [3, 5]);
}

#[test]
fn a_clusters_members_are_exactly_the_requests_it_counts() {
    let mut idx = MapIndex::new();
    // Bangkok: 30 requests, five of them unacknowledged SOS; Chiang Mai: 4.
    for i in 1..=30 {
        let lon = 100.50 + f64::from(i as i32 % 6) * 0.002;
        idx.upsert(&src(i, lon, 13.75, Status::New, i % 6 == 0))
            .expect("rowid in range");
    }
    for i in 31..=34 {
        idx.upsert(&src(i, 98.98, 18.79, Status::New, false))
            .expect("rowid in range");
    }
    let all = idx.filter(&RequestQuery::default(), None);
    let thailand = BBox::new(97.0, 5.0, 106.0, 21.0).expect("box");
    let clusters = idx.clusters(&thailand, 6.0, 48.0, &all, Utc::now());
    assert_eq!(clusters.len(), 2, "{clusters:?}");
    for c in &clusters {
        let (total, members) = idx
            .cluster_members(
                &thailand,
                6.0,
                48.0,
                &all,
                (c.lon, c.lat),
                RequestOrder::Waiting,
                100,
            )
            .expect("a cluster at its own centre");
        assert_eq!(total as u32, c.count);
        assert_eq!(members.len() as u32, c.count);
    }
    let bangkok = clusters.iter().find(|c| c.count == 30).expect("Bangkok");
    let (total, first) = idx
        .cluster_members(
            &thailand,
            6.0,
            48.0,
            &all,
            (bangkok.lon + 0.01, bangkok.lat),
            RequestOrder::Waiting,
            5,
        )
        .expect("a click near the circle finds it");
    assert_eq!(
        total, 30,
        "the count is of the whole cluster, the list is capped"
    );
    assert_eq!(
        first,
        [6, 12, 18, 24, 30],
        "the cap keeps the longest-waiting SOS"
    );
    assert!(
        idx.cluster_members(
            &thailand,
            6.0,
            48.0,
            &all,
            (104.0, 8.0),
            RequestOrder::Waiting,
            5
        )
        .is_none(),
        "no cluster near an empty sea"
    );
}

/// An index of a few thousand varied points (some unlocated, some moved, some removed).
fn varied_index() -> MapIndex {
    let mut rng = crate::synth::Rng::new(11);
    let mut idx = MapIndex::new();
    for i in 1..=3000i64 {
        let mut s = src(
            i,
            -179.0 + rng.unit() * 358.0,
            -80.0 + rng.unit() * 160.0,
            Status::ALL[i as usize % Status::ALL.len()],
            i % 7 == 0,
        );
        s.priority = Priority::ALL[i as usize % 4];
        s.category = Category::ALL[i as usize % Category::ALL.len()];
        s.country = Some(["TH", "TR", "FR", "中国"][i as usize % 4]);
        s.post = (i % 3 == 0).then_some("bangkok");
        s.assignee = (i % 5 == 0).then_some("王芳");
        if i % 11 == 0 {
            s.position = None;
        }
        if i % 13 == 0 {
            s.located_at = DateTime::from_timestamp(1_690_000_000 + i, 0);
        }
        idx.upsert(&s).expect("rowid in range");
    }
    for i in (1..=3000).step_by(17) {
        idx.remove(i);
    }
    idx
}

#[test]
fn a_snapshot_reads_back_to_an_index_that_answers_the_same() {
    let idx = varied_index();
    let back = MapIndex::from_snapshot(&idx.to_snapshot(), 3000).expect("reads back");
    assert_eq!(back.len(), idx.len());
    assert_eq!(back.open_emergencies(), idx.open_emergencies());
    let q = RequestQuery {
        countries: vec!["中国".into(), "TH".into()],
        ..RequestQuery::open()
    };
    let (fa, fb) = (idx.filter(&q, None), back.filter(&q, None));
    let now = Utc::now();
    assert_eq!(
        idx.clusters(&BBox::WORLD, 3.0, 48.0, &fa, now),
        back.clusters(&BBox::WORLD, 3.0, 48.0, &fb, now)
    );
    for order in [
        RequestOrder::Triage,
        RequestOrder::Waiting,
        RequestOrder::Oldest,
    ] {
        assert_eq!(
            idx.page(None, &fa, order, 50, 20),
            back.page(None, &fb, order, 50, 20)
        );
    }
    assert_eq!(idx.counts(None, &fa), back.counts(None, &fb));
    // Still an index that takes changes.
    let mut back = back;
    back.upsert(&src(5000, 10.0, 10.0, Status::New, true))
        .expect("rowid in range");
    assert_eq!(back.len(), idx.len() + 1);
}

#[test]
fn a_damaged_snapshot_is_refused_not_trusted() {
    let bytes = varied_index().to_snapshot();
    for cut in [0, 3, 8, 40, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            MapIndex::from_snapshot(&bytes[..cut], 3000).is_err(),
            "cut at {cut}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(MapIndex::from_snapshot(&longer, 3000).is_err());
    // A point's status byte set past the known statuses, in the last point.
    let mut bad_status = bytes.clone();
    let at = bad_status.len() - 2;
    bad_status[at] = 0x0f;
    assert!(MapIndex::from_snapshot(&bad_status, 3000).is_err());
    assert!(
        MapIndex::from_snapshot(&bytes, 2000).is_err(),
        "rowids past the store's highest"
    );
    let mut other_version = bytes.clone();
    other_version[4] = 9;
    assert!(MapIndex::from_snapshot(&other_version, 3000).is_err());
    // Another build's meaning of the small fields (the fingerprint after the version).
    let mut other_layout = bytes;
    other_layout[12] ^= 1;
    assert!(MapIndex::from_snapshot(&other_layout, 3000).is_err());
}

#[test]
fn a_page_near_the_top_and_one_far_down_follow_the_same_order() {
    let idx = varied_index();
    let all = idx.filter(&RequestQuery::default(), None);
    for order in [
        RequestOrder::Triage,
        RequestOrder::Waiting,
        RequestOrder::Newest,
    ] {
        let (total, whole) = idx.deep_page(None, &all, order, 0, usize::MAX);
        assert_eq!(whole.len(), total);
        for (offset, limit) in [(0, 100), (100, 100), (2500, 400), (total - 5, 100)] {
            let (n, page) = idx.page(None, &all, order, limit, offset);
            assert_eq!(n, total);
            let end = (offset + limit).min(total);
            assert_eq!(page, whole[offset..end], "{order:?} at {offset}");
        }
    }
}
