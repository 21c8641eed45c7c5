//! The queue's orders: the in-memory index (what the desk pages with) and SQL (what the
//! command line and `queue_position` use) must agree row for row, or a request selected on
//! the map would be scrolled to the wrong place.

use chrono::Duration;
use lifeline_core::model::{Priority, Status};
use lifeline_core::store::{RequestOrder, RequestQuery};

mod common;
use common::*;

const ORDERS: [RequestOrder; 4] = [
    RequestOrder::Waiting,
    RequestOrder::Triage,
    RequestOrder::Newest,
    RequestOrder::Oldest,
];

#[test]
fn the_index_and_sql_give_every_order_row_for_row() {
    let (_dir, store) = open_store();
    let statuses = [
        Status::New,
        Status::Acknowledged,
        Status::InProgress,
        Status::Resolved,
    ];
    let priorities = [
        Priority::Critical,
        Priority::High,
        Priority::Normal,
        Priority::Low,
    ];
    // 120 requests mixing emergencies, statuses and priorities; some created at the same
    // instant, so the tie-break is tested too.
    let batch: Vec<_> = (0..120)
        .map(|i| {
            let mut r = request(&format!("R-{i:03}"), 13.7 + f64::from(i % 9) * 0.01, 100.5);
            r.emergency = i % 3 == 0;
            r.status = statuses[(i * 7 % 4) as usize];
            r.priority = priorities[(i * 5 % 4) as usize];
            r.created_at = t0() + Duration::minutes(i64::from(i / 2));
            incoming(r)
        })
        .collect();
    store.upsert_requests(&batch, "test", None).expect("upsert");
    store.enable_index().expect("index");
    for order in ORDERS {
        let q = RequestQuery {
            order,
            ..RequestQuery::default()
        };
        let sql: Vec<String> = store.query_request_ids(&q).expect("sql order");
        let mut paged = Vec::new();
        for page in 0..4 {
            let (total, rows) = store
                .indexed_page(&RequestQuery {
                    limit: Some(30),
                    offset: page * 30,
                    ..q.clone()
                })
                .expect("index page");
            assert_eq!(total, 120);
            paged.extend(rows.into_iter().map(|r| r.request.id));
        }
        assert_eq!(paged, sql, "{order:?}: the index and SQL disagree");
    }
}

#[test]
fn the_waiting_order_serves_the_longest_waiting_sos_first() {
    let (_dir, store) = open_store();
    let at = |id: &str, minutes: i64, emergency: bool, status: Status| {
        let mut r = request(id, 13.7, 100.5);
        r.created_at = t0() + Duration::minutes(minutes);
        r.emergency = emergency;
        r.status = status;
        incoming(r)
    };
    store
        .upsert_requests(
            &[
                at("SOS-OLD", 0, true, Status::New),
                at("ROUTINE-NEW", 50, false, Status::New),
                at("SOS-SEEN", 40, true, Status::Acknowledged),
                at("SOS-RECENT", 30, true, Status::New),
                at("ROUTINE-OLD", 5, false, Status::New),
            ],
            "test",
            None,
        )
        .expect("upsert");
    let waiting = RequestQuery {
        order: RequestOrder::Waiting,
        ..RequestQuery::open()
    };
    assert_eq!(
        store.query_request_ids(&waiting).expect("ids"),
        [
            "SOS-OLD",
            "SOS-RECENT",
            "SOS-SEEN",
            "ROUTINE-NEW",
            "ROUTINE-OLD"
        ]
    );
}
