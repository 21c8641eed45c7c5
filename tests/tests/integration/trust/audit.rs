//! The audit trail: verified, archived, and cut short or edited only visibly; an exercise
//! hub relays no real warning.

use lifeline_tests::hub::admin;
use reqwest::StatusCode;
use serde_json::json;

use super::Trust;

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_trail_verifies_and_a_hand_edited_row_breaks_it() {
    let t = Trust::start(&[]);
    t.intake("TH-1", "TH").await;
    let li = t.token("li", "desk-li").await;
    assert_eq!(t.get(&li, "/v1/requests/TH-1").await.0, StatusCode::OK);
    let _ = t
        .client
        .post(t.url("/v1/auth/sign-in"))
        .header("content-type", "application/json")
        .body((json!({"officer": "li", "password": "not it at all", "desk": "d"})).to_string())
        .send()
        .await;
    let exported = admin(&t.db(), &["audit", "export", "--since", "2000-01-01"], None);
    for action in [
        "officer_added",
        "channel_added",
        "intake",
        "sign_in",
        "read_request",
        "sign_in_failed",
    ] {
        assert!(
            exported.contains(&format!("\"action\":\"{action}\"")),
            "the trail records {action}: {exported}"
        );
    }
    assert!(
        !exported.contains("citizen of TH-1") && !exported.contains("+8613800138000"),
        "no personal data in the trail"
    );
    let verified = admin(&t.db(), &["audit", "verify"], None);
    assert!(verified.contains("verifies"), "{verified}");
    // Someone with the database file edits an entry (past the trigger that forbids it).
    lifeline_tests::postgres::hub_sql(
        &t.db(),
        "DROP TRIGGER audit_no_update; UPDATE audit SET detail = 'nothing happened' WHERE seq = (SELECT min(seq) + 2 FROM audit);",
        "ALTER TABLE audit DISABLE TRIGGER audit_append_only; UPDATE audit SET detail = 'nothing happened' WHERE seq = (SELECT min(seq) + 2 FROM audit);",
    );
    let out = lifeline_tests::hub::hub_command()
        .arg("--db")
        .arg(lifeline_tests::postgres::hub_db_arg(&t.db()))
        .args(["audit", "verify"])
        .output()
        .expect("run");
    assert!(!out.status.success(), "verify fails after the edit");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not verify") && err.contains("entry"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_audit_trail_is_archived_and_still_verifies() {
    let t = Trust::start(&[]);
    t.intake("TH-1", "TH").await;
    let li = t.token("li", "desk-li").await;
    assert_eq!(t.get(&li, "/v1/requests/TH-1").await.0, StatusCode::OK);
    let archive = t.dir.path().join("audit-archive.jsonl");
    let rotated = admin(
        &t.db(),
        &[
            "audit",
            "rotate",
            "--before",
            "2100-01-01",
            "--archive",
            &archive.display().to_string(),
        ],
        None,
    );
    assert!(rotated.contains("archived"), "{rotated}");
    let archived = std::fs::read_to_string(&archive).expect("the archive");
    assert!(
        archived.contains("\"action\":\"read_request\""),
        "the archive holds what was moved out"
    );
    // New entries chain on from the anchor the rotation left, and the whole verifies.
    assert_eq!(t.get(&li, "/v1/requests/TH-1").await.0, StatusCode::OK);
    let verified = admin(&t.db(), &["audit", "verify"], None);
    assert!(verified.contains("verifies"), "{verified}");
    let remaining = admin(&t.db(), &["audit", "export", "--since", "2000-01-01"], None);
    assert!(
        !remaining.contains("\"action\":\"officer_added\""),
        "old entries left the database"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_the_newest_audit_entries_is_detected() {
    let t = Trust::start(&[]);
    t.intake("TH-1", "TH").await;
    let _ = t.token("li", "desk-li").await;
    assert!(admin(&t.db(), &["audit", "verify"], None).contains("verifies"));
    // Someone with the file removes the last two entries (past the trigger refusing it):
    // every remaining hash still links, but the trail no longer ends where it did.
    lifeline_tests::postgres::hub_sql(
        &t.db(),
        "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq > (SELECT max(seq) - 2 FROM audit);",
        "ALTER TABLE audit DISABLE TRIGGER audit_append_only; DELETE FROM audit WHERE seq > (SELECT max(seq) - 2 FROM audit);",
    );
    let out = lifeline_tests::hub::hub_command()
        .arg("--db")
        .arg(lifeline_tests::postgres::hub_db_arg(&t.db()))
        .args(["audit", "verify"])
        .output()
        .expect("run");
    assert!(!out.status.success(), "verify fails after the cut");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("newest entries were removed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exercise_hub_relays_no_real_warning() {
    let t = Trust::start(&["--exercise"]);
    let sun = t.token("sun", "desk-sun").await;
    let actual = std::fs::read(crate::fixture(
        "cap12-oasis-spec-a2-severe-thunderstorm-polygon.xml",
    ))
    .expect("fixture");
    let res = t
        .client
        .post(t.url("/v1/advisories"))
        .bearer_auth(&sun)
        .header("content-type", "application/cap+xml")
        .body(actual)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap_or_default()
            .contains("not_exercise")
    );
    // Intake on an exercise hub is marked as an exercise by its id.
    let (status, body) = t
        .post(
            &t.channel,
            "/v1/requests",
            json!({"id": "R-1", "channel": "app", "category": "medical", "citizen": {"name": "x"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["id"], "EX-R-1");
}
