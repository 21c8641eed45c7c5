//! Citizens' photos, voice messages and video clips in the desk: fetched from the hub when
//! an officer opens a thread that carries them, verified, kept in the store's media cache,
//! and shown through the `lifeline-media:` scheme (`protocol.rs`) — photos only as the
//! desk's own re-encoding (`preview.rs`).

pub mod preview;
pub mod protocol;

use chrono::Utc;
use lifeline_core::model::{MediaFamily, MediaRef};
use lifeline_core::store::{CachedMedia, NewMedia};

use crate::error::{CommandError, CommandResult, ErrorCode};
use crate::state::Desk;

/// The file of `media` in the cache, fetched and prepared first when it is not there yet.
pub async fn ensure_cached(desk: &Desk, media: &MediaRef) -> CommandResult<CachedMedia> {
    if let Some(cached) = desk.store.cached_media(&media.sha256, Utc::now())? {
        return Ok(cached);
    }
    let Some(engine) = desk.engine() else {
        return Err(CommandError::new(
            ErrorCode::Network,
            "the file is not on this desk yet, and there is no hub to fetch it from",
        ));
    };
    let bytes = engine.fetch_media(media).await?;
    let (store, quota) = (
        std::sync::Arc::clone(&desk.store),
        desk.settings().media_quota_bytes,
    );
    let media = media.clone();
    tauri::async_runtime::spawn_blocking(move || -> CommandResult<CachedMedia> {
        // A photo that does not decode is kept all the same (the officer sees why it has no
        // preview); its bytes are never handed to the web view.
        let (preview, gps) = match media.family() {
            Some(MediaFamily::Image) => {
                let gps = preview::gps_position(&bytes);
                match preview::preview(&bytes, &media.media_type) {
                    Ok(jpeg) => (Some(jpeg), gps),
                    Err(e) => {
                        tracing::warn!("media {}: {e}", media.sha256);
                        (None, gps)
                    }
                }
            }
            _ => (None, None),
        };
        store.put_media(
            &NewMedia {
                sha256: &media.sha256,
                media_type: &media.media_type,
                bytes: &bytes,
                thumb: preview.as_deref().map(|p| (p, "image/jpeg")),
                gps,
            },
            quota,
            Utc::now(),
        )?;
        store
            .cached_media(&media.sha256, Utc::now())?
            .ok_or_else(|| CommandError::new(ErrorCode::Internal, "the file was not kept"))
    })
    .await
    .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))?
}
