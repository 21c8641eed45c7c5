//! Citizens' photos, voice messages and videos through the real hub: each type taken lands
//! on a desk with its bytes verified; a file that is not what it says, not a type the desk
//! shows, or over its cap is refused with a clear error; another post's officer cannot
//! fetch a file; an erased request takes its files with it.

use lifeline_core::model::MessageKind;
use lifeline_core::model::media::sha256_hex;
use lifeline_tests::hub::admin;
use lifeline_tests::workspace_root;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::messages::desk;
use crate::trust::Trust;

fn media_file(path: &str) -> Vec<u8> {
    std::fs::read(workspace_root().join(path)).expect("test media")
}

/// Uploads `bytes` as the channel, declaring `content_type`.
async fn upload(t: &Trust, bytes: Vec<u8>, content_type: &str) -> (StatusCode, Value) {
    upload_as(t, &t.channel, bytes, content_type).await
}

async fn upload_as(
    t: &Trust,
    channel: &str,
    bytes: Vec<u8>,
    content_type: &str,
) -> (StatusCode, Value) {
    // A connection of its own for each upload, and time for megabytes through a debug build's
    // TLS on a busy machine: a pooled connection the hub has just closed would fail the
    // upload before the hub saw it.
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&t.hub.ca_pem()).expect("CA"))
        .pool_max_idle_per_host(0)
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .expect("client");
    let res = client
        .post(t.url("/v1/media"))
        .bearer_auth(channel)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .expect("the hub answers");
    let status = res.status();
    let text = res.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn every_type_a_citizen_may_send_lands_on_the_desk_with_its_bytes_verified() {
    let t = Trust::start(&[]);
    t.intake("TH-M", "TH").await;
    let photo = lifeline_core::synth::media::jpeg_with_gps(
        &media_file("crates/lifeline-hub/drill-media/street.jpg"),
        13.7563,
        100.5018,
    );
    let files: Vec<(&str, Vec<u8>, &str, &str, MessageKind)> = vec![
        (
            "photo.jpg",
            photo,
            "image/jpeg",
            "image/jpeg",
            MessageKind::Image,
        ),
        (
            "street.png",
            media_file("tests/media/street.png"),
            "image/png",
            "image/png",
            MessageKind::Image,
        ),
        (
            "street.webp",
            media_file("tests/media/street.webp"),
            "image/webp",
            "image/webp",
            MessageKind::Image,
        ),
        (
            "voice.ogg",
            media_file("crates/lifeline-hub/drill-media/voice.ogg"),
            "audio/ogg",
            "audio/ogg",
            MessageKind::Voice,
        ),
        (
            "voice.m4a",
            media_file("tests/media/voice.m4a"),
            "audio/mp4",
            "audio/mp4",
            MessageKind::Voice,
        ),
        (
            "voice.wav",
            media_file("tests/media/voice.wav"),
            "audio/wav",
            "audio/wav",
            MessageKind::Voice,
        ),
        (
            "clip.mp4",
            media_file("tests/media/clip.mp4"),
            "video/mp4",
            "video/mp4",
            MessageKind::Video,
        ),
    ];
    for (i, (name, bytes, declared, found, kind)) in files.iter().enumerate() {
        let (status, stored) = upload(&t, bytes.clone(), declared).await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {stored}");
        assert_eq!(
            stored["media_type"], *found,
            "{name}: the type read from the bytes"
        );
        assert_eq!(
            stored["sha256"],
            sha256_hex(bytes),
            "{name}: content-addressed"
        );
        let (again, _) = upload(&t, bytes.clone(), declared).await;
        assert_eq!(
            again,
            StatusCode::CREATED,
            "{name}: the same bytes again are kept once and answered alike"
        );
        let (status, body) = t
            .post(
                &t.channel,
                "/v1/requests/TH-M/messages",
                json!({ "id": format!("wa-{i}"), "kind": kind.as_str(), "text": "",
                        "media": { "sha256": sha256_hex(bytes), "name": name } }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {body}");
    }

    let (store, engine) = desk(&t, "li");
    engine.sync_once().await.expect("sync");
    let thread = store.thread("TH-M").expect("thread");
    assert_eq!(thread.len(), files.len(), "every message is on the desk");
    for (m, (name, bytes, _, found, kind)) in thread.iter().zip(&files) {
        assert_eq!(m.kind, *kind, "{name}");
        let media = m.media.as_ref().expect("a file");
        assert_eq!(media.media_type, *found, "{name}");
        assert_eq!(media.size_bytes, bytes.len() as u64, "{name}");
        assert_eq!(media.name.as_deref(), Some(*name));
        let fetched = engine
            .fetch_media(media)
            .await
            .expect("fetched and verified");
        assert_eq!(&fetched, bytes, "{name}: the same bytes");
    }

    // A file the hub does not hold is an error, not an empty file (bytes that are not the
    // named file are refused by `engine::media::check`, unit-tested).
    let mut missing = thread[0].media.clone().expect("media");
    missing.sha256 = sha256_hex(b"something else");
    assert!(engine.fetch_media(&missing).await.is_err());

    // An officer of another post cannot fetch it, nor can a channel.
    let wang = t.token("wang", "desk-wang").await;
    let sha = sha256_hex(&files[0].1);
    let (status, _) = t.get(&wang, &format!("/v1/media/{sha}")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another post's file is not there for Wang"
    );
    let (status, _) = t.get(&t.channel, &format!("/v1/media/{sha}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_or_oversized_file_is_refused_and_says_why() {
    let _bulk = crate::TIMED.lock().await;
    let t = Trust::start(&[]);
    t.intake("TH-F", "TH").await;
    // An executable renamed as a photo.
    let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
    elf.resize(4096, 0);
    let (status, body) = upload(&t, elf, "image/jpeg").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    assert_eq!(body["error"]["code"], "unsupported_media");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("executable"),
        "{body}"
    );
    // A PNG declared as audio.
    let png = media_file("tests/media/street.png");
    let (status, body) = upload(&t, png.clone(), "audio/ogg").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "media_type_mismatch");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("image/png")
    );
    // A photo over its cap (10 MiB): a real JPEG start, padded.
    let mut big = media_file("crates/lifeline-hub/drill-media/street.jpg");
    big.resize(10 * 1024 * 1024 + 1, 0);
    let (status, body) = upload(&t, big, "image/jpeg").await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "too_large");
    // Over what the hub reads at all: refused before the body is taken (the hub may answer
    // 413 or close the connection while the client still sends), and nothing is kept.
    let sent = t
        .client
        .post(t.url("/v1/media"))
        .bearer_auth(&t.channel)
        .header("content-type", "video/mp4")
        .body(vec![0xFF; 33 * 1024 * 1024])
        .send()
        .await;
    if let Ok(res) = sent {
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    let kept = lifeline_tests::postgres::hub_count(&t.db(), "SELECT count(*) FROM media");
    assert_eq!(kept, 0, "none of the refused files is kept");
    // A PNG named in a voice message; a file never uploaded.
    let (status, _) = upload(&t, png.clone(), "image/png").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = t
        .post(
            &t.channel,
            "/v1/requests/TH-F/messages",
            json!({ "id": "v-1", "kind": "voice", "media": { "sha256": sha256_hex(&png) } }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("voice"),
        "{body}"
    );
    let (status, body) = t
        .post(
            &t.channel,
            "/v1/requests/TH-F/messages",
            json!({ "id": "v-2", "kind": "image", "media": { "sha256": sha256_hex(b"never sent") } }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // A file another channel uploaded cannot be named by this one, even knowing its address.
    let other =
        lifeline_tests::hub::secret_in(&admin(&t.db(), &["channels", "add", "other-app"], None));
    let theirs = media_file("tests/media/street.webp");
    let (status, _) = upload_as(&t, &other, theirs.clone(), "image/webp").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = t
        .post(
            &t.channel,
            "/v1/requests/TH-F/messages",
            json!({ "id": "v-3", "kind": "image", "media": { "sha256": sha256_hex(&theirs) } }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // Nothing of these reached a thread.
    let (store, engine) = desk(&t, "li");
    engine.sync_once().await.expect("sync");
    assert!(store.thread("TH-F").expect("thread").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_erased_request_takes_its_files_with_it() {
    let t = Trust::start(&[]);
    t.intake("TH-E", "TH").await;
    let photo = media_file("crates/lifeline-hub/drill-media/street.jpg");
    let sha = sha256_hex(&photo);
    let (status, _) = upload(&t, photo.clone(), "image/jpeg").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = t
        .post(
            &t.channel,
            "/v1/requests/TH-E/messages",
            json!({ "id": "p-1", "kind": "image", "media": { "sha256": sha } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let li = t.token("li", "desk-li-http").await;
    let (status, _) = t.get(&li, &format!("/v1/media/{sha}")).await;
    assert_eq!(status, StatusCode::OK);
    admin(
        &t.db(),
        &["requests", "erase", "TH-E", "--reference", "ORDER-1"],
        None,
    );
    let (status, _) = t.get(&li, &format!("/v1/media/{sha}")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the photo went with the request"
    );
    let left = lifeline_tests::postgres::hub_count(&t.db(), "SELECT count(*) FROM media");
    assert_eq!(left, 0, "no bytes of it are left at the hub");
}
