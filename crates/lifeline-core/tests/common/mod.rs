//! Requests and stores for the store tests.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use lifeline_core::model::*;
use lifeline_core::store::{IncomingRequest, Store};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0)
        .single()
        .expect("valid time")
}

pub fn request(id: &str, lat: f64, lon: f64) -> HelpRequest {
    HelpRequest {
        id: id.into(),
        channel: Channel::App,
        category: Category::CrimeVictim,
        emergency: false,
        priority: Priority::Normal,
        status: Status::New,
        duplicate_of: None,
        citizen: Citizen {
            name: "Zhang Wei".into(),
            phone: Some("+8613812345678".into()),
            ..Citizen::default()
        },
        people_count: 1,
        location: Some(Location {
            lat,
            lon,
            accuracy_m: Some(20.0),
            captured_at: Some(t0()),
            address: None,
            country: Some("TH".into()),
        }),
        description: "Robbed near the station".into(),
        attachments: vec![],
        assignee: None,
        post: Some("Embassy Bangkok".into()),
        created_at: t0(),
        updated_at: t0(),
        version: 1,
    }
}

pub fn incoming(r: HelpRequest) -> IncomingRequest {
    IncomingRequest {
        request: r,
        events: vec![],
    }
}

pub fn open_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path().join("desk.sqlite")).expect("store opens");
    (dir, store)
}

pub fn ids(rows: &[lifeline_core::store::StoredRequest]) -> Vec<&str> {
    rows.iter().map(|r| r.request.id.as_str()).collect()
}
