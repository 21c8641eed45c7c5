use super::*;
use lifeline_core::store::{StoreError, StoreKey, encrypt_in_place, is_plaintext};

const NAME: &str = "Plantedname Liu";
const PHONE: &str = "+8613999988877";
const DESCRIPTION: &str = "plantedword hotel lobby flooded";

fn planted(id: &str) -> IncomingRequest {
    let mut r = request(id, 13.75, 100.5);
    r.citizen.name = NAME.into();
    r.citizen.phone = Some(PHONE.into());
    r.description = DESCRIPTION.into();
    incoming(r)
}

/// Every file of the folder, as bytes.
fn folder_bytes(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect()
}

fn holds(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn assert_no_plaintext(dir: &std::path::Path) {
    for (name, bytes) in folder_bytes(dir) {
        for needle in [NAME, PHONE, "plantedword"] {
            assert!(!holds(&bytes, needle), "{name} holds {needle} in plaintext");
        }
    }
}

#[test]
fn an_encrypted_store_leaves_no_plaintext_in_any_file() {
    let dir = tempfile::tempdir().expect("dir");
    let key = StoreKey::random().expect("key");
    let path = dir.path().join("desk.sqlite");
    {
        let store = Store::open_encrypted(&path, &key).expect("open");
        store
            .upsert_requests(&[planted("r1")], "hub", None)
            .expect("insert");
        store
            .queue_action(
                "r1",
                &TriageAction::AddNote {
                    text: "plantedword again".into(),
                },
                "li",
                "k1",
                t0(),
            )
            .expect("a note");
        // Searchable (the derived index has it), and read back through the key.
        let found = store
            .query_request_ids(&RequestQuery {
                text: Some("plantedword".into()),
                ..Default::default()
            })
            .expect("search");
        assert_eq!(found, ["r1"]);
        assert_no_plaintext(dir.path());
        store.checkpoint().expect("checkpoint");
    }
    assert_no_plaintext(dir.path());
    assert_eq!(is_plaintext(&path).expect("read"), Some(false));
    let again = Store::open_encrypted(&path, &key).expect("reopen");
    assert_eq!(
        again
            .get_request("r1")
            .expect("read")
            .expect("there")
            .request
            .citizen
            .name,
        NAME
    );
}

#[test]
fn a_wrong_or_missing_key_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("desk.sqlite");
    {
        let store = Store::open_encrypted(&path, &StoreKey::random().expect("key")).expect("open");
        store
            .upsert_requests(&[planted("r1")], "hub", None)
            .expect("insert");
        store.checkpoint().expect("checkpoint");
    }
    let before = folder_bytes(dir.path());
    let wrong =
        Store::open_encrypted(&path, &StoreKey::random().expect("key")).expect_err("a wrong key");
    assert!(matches!(wrong, StoreError::WrongKey(_)), "{wrong}");
    let missing = Store::open(&path).expect_err("no key");
    assert!(matches!(missing, StoreError::Encrypted(_)), "{missing}");
    let mut after = folder_bytes(dir.path());
    let mut before = before;
    before.sort();
    after.sort();
    assert_eq!(before, after, "the files are untouched");
}

#[test]
fn a_plaintext_store_is_encrypted_in_place_with_every_record() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("desk.sqlite");
    {
        let store = Store::open(&path).expect("plaintext");
        let batch: Vec<_> = (0..200).map(|i| planted(&format!("r{i}"))).collect();
        store.upsert_requests(&batch, "hub", None).expect("insert");
        store
            .queue_action("r1", &TriageAction::Acknowledge, "li", "k1", t0())
            .expect("a pending edit");
        store.catch_up_index().expect("index");
    }
    assert_eq!(is_plaintext(&path).expect("read"), Some(true));
    let key = StoreKey::random().expect("key");
    let report = encrypt_in_place(&path, &key).expect("encrypt");
    assert_eq!(report.requests, 200);
    assert_no_plaintext(dir.path());
    let store = Store::open_encrypted(&path, &key).expect("opens with the key");
    assert_eq!(
        store.request_count().expect("count"),
        200,
        "every record kept"
    );
    assert_eq!(
        store.outbox_counts().expect("outbox").pending,
        1,
        "the pending edit kept"
    );
    assert_eq!(
        store.integrity_check().expect("check"),
        Vec::<String>::new()
    );
    let found = store
        .query_request_ids(&RequestQuery {
            text: Some("plantedword".into()),
            ..Default::default()
        })
        .expect("search");
    assert_eq!(found.len(), 200, "the derived index was rebuilt, encrypted");
}
