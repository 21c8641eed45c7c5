//! Fetching a citizen's file from the hub when an officer opens the thread that carries it.
//! The bytes are checked before anyone uses them: they must hash to the address asked for,
//! be the type the message says, and fit its cap.

use lifeline_core::model::MediaRef;
use lifeline_core::model::media::{MediaFamily, fits, sha256_hex, sniff};

use super::{SyncEngine, SyncError};

impl SyncEngine {
    /// The bytes of `media`, from the hub, verified.
    pub async fn fetch_media(&self, media: &MediaRef) -> Result<Vec<u8>, SyncError> {
        let Some(family) = media.family() else {
            return Err(SyncError::BadMedia(format!(
                "{} is not a type the desk shows",
                media.media_type
            )));
        };
        let hub = self.hub()?;
        let token = self.bearer().await?;
        let url = hub.endpoint(&format!("/v1/media/{}", media.sha256));
        let answer = self.inner.http.get(&url, Some(&token), &[]).await?;
        let bytes = self
            .inner
            .http
            .body_at_most(answer, family.cap_bytes() as usize)
            .await?;
        check(media, family, &bytes)?;
        Ok(bytes)
    }
}

fn check(media: &MediaRef, family: MediaFamily, bytes: &[u8]) -> Result<(), SyncError> {
    if sha256_hex(bytes) != media.sha256 {
        return Err(SyncError::BadMedia(
            "its bytes are not the file the message names (SHA-256 differs)".into(),
        ));
    }
    let sniffed = sniff(bytes, None).map_err(|e| SyncError::BadMedia(e.to_string()))?;
    if !fits(family, sniffed) {
        return Err(SyncError::BadMedia(format!(
            "the message says {}, the bytes are {}",
            media.media_type, sniffed.media_type
        )));
    }
    Ok(())
}
