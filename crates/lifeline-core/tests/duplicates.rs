//! Marking duplicates: candidates for the original, and refusing an original that is not
//! on this desk before anything is queued (regression: an unknown id once went into the
//! case log and the outbox, and the hub refused it only later).

use chrono::Duration;
use lifeline_core::model::{Citizen, TriageAction};
use lifeline_core::store::{Likeness, StoreError};

mod common;
use common::*;

#[test]
fn candidates_share_a_phone_a_name_or_a_place_and_time() {
    let (_dir, store) = open_store();
    let mut this = request("R-NEW", 13.7563, 100.5018);
    this.citizen = Citizen {
        name: "Chen Jing".into(),
        phone: Some("+66 81 234 5678".into()),
        ..Citizen::default()
    };
    let mut same_phone = request("R-PHONE", 18.79, 98.98);
    same_phone.citizen = Citizen {
        name: "Ms Chen".into(),
        phone: Some("+66812345678".into()),
        ..Citizen::default()
    };
    let mut same_name = request("R-NAME", 7.88, 98.39);
    same_name.citizen.name = "chen  jing".into();
    same_name.citizen.phone = None;
    let mut nearby = request("R-NEAR", 13.7570, 100.5025);
    nearby.citizen.name = "Someone else".into();
    nearby.citizen.phone = Some("+8613900000000".into());
    nearby.created_at = this.created_at - Duration::hours(3);
    let mut near_but_old = request("R-OLD", 13.7570, 100.5025);
    near_but_old.citizen.name = "Old case".into();
    near_but_old.citizen.phone = None;
    near_but_old.created_at = this.created_at - Duration::days(10);
    let mut unrelated = request("R-FAR", 41.0, 29.0);
    unrelated.citizen.name = "Other Person".into();
    unrelated.citizen.phone = Some("+905321234567".into());
    store
        .upsert_requests(
            &[this, same_phone, same_name, nearby, near_but_old, unrelated]
                .into_iter()
                .map(incoming)
                .collect::<Vec<_>>(),
            "test",
            None,
        )
        .expect("upsert");
    let found: Vec<(String, Vec<Likeness>)> = store
        .duplicate_candidates("R-NEW")
        .expect("candidates")
        .into_iter()
        .map(|(r, why)| (r.request.id, why))
        .collect();
    let ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["R-PHONE", "R-NAME", "R-NEAR"], "{found:?}");
    assert_eq!(found[0].1, [Likeness::SamePhone]);
    assert_eq!(found[2].1, [Likeness::NearbyAndRecent]);
}

#[test]
fn a_duplicate_of_an_id_not_on_this_desk_is_refused_before_anything_is_queued() {
    let (_dir, store) = open_store();
    store
        .upsert_requests(&[incoming(request("R-1", 13.7, 100.5))], "test", None)
        .expect("upsert");
    let before = store
        .request_with_events("R-1")
        .expect("read")
        .expect("there");
    let refused = store.queue_action(
        "R-1",
        &TriageAction::MarkDuplicate { of: "181".into() },
        "desk/li",
        "k-1",
        t0(),
    );
    assert!(
        matches!(refused, Err(StoreError::UnknownOriginal(ref id)) if id == "181"),
        "{refused:?}"
    );
    let after = store
        .request_with_events("R-1")
        .expect("read")
        .expect("there");
    assert_eq!(
        after.0.request.status, before.0.request.status,
        "the status is untouched"
    );
    assert_eq!(after.1.len(), before.1.len(), "nothing in the case log");
    assert_eq!(
        store.outbox_counts().expect("outbox").pending,
        0,
        "nothing queued"
    );
}
