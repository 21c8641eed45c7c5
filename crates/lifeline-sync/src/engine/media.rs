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

#[cfg(test)]
mod tests {
    use super::*;

    fn png() -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        b.extend_from_slice(&[7; 64]);
        b
    }

    #[test]
    fn bytes_that_are_not_the_named_file_or_not_its_kind_are_refused() {
        let bytes = png();
        let named = MediaRef {
            sha256: sha256_hex(&bytes),
            media_type: "image/png".into(),
            size_bytes: bytes.len() as u64,
            name: None,
        };
        assert!(check(&named, MediaFamily::Image, &bytes).is_ok());
        let mut other = bytes.clone();
        other[20] ^= 1;
        let refused = check(&named, MediaFamily::Image, &other).expect_err("other bytes");
        assert!(refused.to_string().contains("SHA-256"), "{refused}");
        let refused = check(&named, MediaFamily::Audio, &bytes).expect_err("a PNG as voice");
        assert!(refused.to_string().contains("image/png"), "{refused}");
    }
}
