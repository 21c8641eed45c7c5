//! Region packs the hub hosts: a desk with an empty maps folder downloads each, checks it
//! against the hub's SHA-256 and keeps it; a download cut off resumes from what is on disk
//! rather than starting again; a download that does not match is dropped and fetched again;
//! a cut pack in the hub's folder is not offered.

use lifeline_core::maps;
use lifeline_tests::hub::admin;
use lifeline_tests::workspace_root;
use reqwest::StatusCode;

use crate::messages::desk;
use crate::trust::Trust;

/// A hub hosting the test pack of central Helsinki, and a cut copy of it.
fn hub_with_packs() -> (Trust, tempfile::TempDir, Vec<u8>) {
    let hosted = tempfile::tempdir().expect("tempdir");
    let pack = std::fs::read(workspace_root().join("tests/maps/helsinki.pmtiles")).expect("pack");
    std::fs::write(hosted.path().join("helsinki.pmtiles"), &pack).expect("write");
    std::fs::write(hosted.path().join("cut.pmtiles"), &pack[..pack.len() / 2]).expect("write");
    let folder = hosted.path().to_string_lossy().into_owned();
    (Trust::start(&["--maps", &folder]), hosted, pack)
}

/// The byte ranges the hub served of a pack, from its audit trail.
fn ranges_served(t: &Trust) -> Vec<String> {
    admin(&t.db(), &["audit", "export", "--since", "2000-01-01"], None)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["action"] == "map_download")
        .filter_map(|e| {
            e["detail"]
                .as_str()
                .and_then(|d| d.strip_prefix("bytes "))
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_desk_downloads_the_hubs_packs_checks_them_and_resumes_a_cut_download() {
    let (t, _hosted, pack) = hub_with_packs();
    let li = t.token("li", "desk-li-http").await;
    let (status, listed) = t.get(&li, "/v1/maps").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let ids: Vec<&str> = listed["packs"]
        .as_array()
        .expect("packs")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(ids, ["helsinki"], "the cut pack is not offered");
    let (status, _) = t.get(&t.channel, "/v1/maps").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an intake channel downloads no maps"
    );
    let (status, body) = t.get(&li, "/v1/maps/helsinki").await;
    assert_eq!(
        status,
        StatusCode::RANGE_NOT_SATISFIABLE,
        "ranges only: {body}"
    );

    // A desk with an empty maps folder.
    let (_store, engine) = desk(&t, "li");
    let folder = t.dir.path().join("desk-li-maps");
    let done = engine.sync_maps(&folder).await.expect("downloaded");
    assert_eq!(done.updated, ["helsinki"]);
    assert!(done.failed.is_empty(), "{:?}", done.failed);
    assert_eq!(
        std::fs::read(folder.join("helsinki.pmtiles")).expect("kept"),
        pack
    );
    let (packs, refused) = maps::list(&folder);
    assert_eq!(
        (packs.len(), refused.len()),
        (1, 0),
        "nothing half-done is listed"
    );
    assert_eq!(
        engine.sync_maps(&folder).await.expect("again"),
        lifeline_sync::MapSync::default(),
        "held already"
    );

    // Another desk was killed after 100,000 bytes: it asks for the rest only.
    let (_store, engine) = desk(&t, "sun");
    let folder = t.dir.path().join("desk-sun-maps");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(folder.join(".helsinki.pmtiles.part"), &pack[..100_000]).expect("write");
    let before = ranges_served(&t).len();
    engine.sync_maps(&folder).await.expect("resumed");
    assert_eq!(
        std::fs::read(folder.join("helsinki.pmtiles")).expect("kept"),
        pack
    );
    let served = ranges_served(&t);
    assert_eq!(
        served[before..],
        [format!("100000-{}", pack.len() - 1)],
        "resumed from byte 100,000, not restarted"
    );

    // A part that is not the hub's bytes: the whole file fails its check, is dropped, and
    // the next sync fetches it again whole.
    let (_store, engine) = desk(&t, "zhou");
    let folder = t.dir.path().join("desk-zhou-maps");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(folder.join(".helsinki.pmtiles.part"), vec![0u8; 100_000]).expect("write");
    let done = engine.sync_maps(&folder).await.expect("the list is had");
    assert!(done.updated.is_empty());
    assert!(
        done.failed.len() == 1 && done.failed[0].1.contains("SHA-256"),
        "{:?}",
        done.failed
    );
    assert!(!folder.join("helsinki.pmtiles").exists());
    assert!(
        !folder.join(".helsinki.pmtiles.part").exists(),
        "the bad part is dropped"
    );
    let done = engine.sync_maps(&folder).await.expect("fetched again");
    assert_eq!(done.updated, ["helsinki"]);
    assert_eq!(
        std::fs::read(folder.join("helsinki.pmtiles")).expect("kept"),
        pack
    );
}
