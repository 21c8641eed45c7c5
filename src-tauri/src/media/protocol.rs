//! The `lifeline-media:` scheme: how the web view gets a citizen's file from the store.
//!
//! - `preview/{sha256}`: a photo as the desk re-encoded it (JPEG). The photo's own bytes are
//!   never served: the web view's image decoders see only the desk's re-encoding.
//! - `file/{sha256}`: a voice message or a video, with range requests (`Range: bytes=a-b`,
//!   answered `206`), which the web view's player uses to seek.
//!
//! Only files a message on this desk carries and that are in the cache are served (the UI
//! asks `open_media` first), nothing while the desk is locked, and every answer says
//! `nosniff`. Nothing here goes to the network.

use lifeline_core::Store;
use lifeline_core::model::MediaFamily;
use lifeline_core::model::media::check_sha256;
use tauri::http::{Response, StatusCode, header};

use crate::scheme::{SchemeRequest, allow_app_origin, status};

/// The scheme's name, as the UI and the CSP spell it.
pub const SCHEME: &str = "lifeline-media";

/// The most bytes one range answer carries (the player asks again for the rest).
const MAX_RANGE: u64 = 4 * 1024 * 1024;

/// Answers `request`, allowing the desk's own page (and only it) to read the answer.
pub fn answer(store: &Store, locked: bool, request: &SchemeRequest) -> Response<Vec<u8>> {
    let mut response = if request.method == "OPTIONS" {
        status(StatusCode::NO_CONTENT)
    } else {
        serve(store, locked, &request.path, request.range.as_deref())
    };
    allow_app_origin(
        &mut response,
        request.origin.as_deref(),
        Some("Content-Range, Content-Length, Accept-Ranges"),
    );
    response
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` of a file of `len` bytes → `[start, end)`.
/// `None`: no range asked, or one that cannot be read (the whole file is served, capped).
pub fn parse_range(range: &str, len: u64) -> Option<(u64, u64)> {
    let spec = range.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (len.saturating_sub(n), len)
        }
        (a, "") => (a.parse().ok()?, len),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.saturating_add(1)),
    };
    (start < len && start < end).then_some((start, end.min(len)))
}

/// The answer to `path` (`/preview/…` or `/file/…`, percent-encoded slashes allowed).
pub fn serve(store: &Store, locked: bool, path: &str, range: Option<&str>) -> Response<Vec<u8>> {
    if locked {
        return status(StatusCode::FORBIDDEN);
    }
    let path = path.replace("%2F", "/").replace("%2f", "/");
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let (Some(what), Some(sha256)) = (parts.next(), parts.next()) else {
        return status(StatusCode::NOT_FOUND);
    };
    if check_sha256("sha256", sha256).is_err() {
        return status(StatusCode::NOT_FOUND);
    }
    let media_type = match store.media_type_on_a_thread(sha256) {
        Ok(Some(t)) => t,
        Ok(None) => return status(StatusCode::NOT_FOUND),
        Err(e) => {
            tracing::warn!("media: {e}");
            return status(StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    let family = MediaFamily::of_declared(&media_type);
    match (what, family) {
        ("preview", Some(MediaFamily::Image)) => preview(store, sha256),
        ("file", Some(MediaFamily::Audio | MediaFamily::Video)) => {
            file(store, sha256, &media_type, range)
        }
        _ => status(StatusCode::NOT_FOUND),
    }
}

fn preview(store: &Store, sha256: &str) -> Response<Vec<u8>> {
    match store.cached_media(sha256, chrono::Utc::now()) {
        Ok(Some(m)) => match m.thumb {
            Some((jpeg, kind)) => Response::builder()
                .header(header::CONTENT_TYPE, kind)
                .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
                .header(header::CACHE_CONTROL, "no-store")
                .body(jpeg)
                .unwrap_or_default(),
            None => status(StatusCode::UNSUPPORTED_MEDIA_TYPE),
        },
        Ok(None) => status(StatusCode::NOT_FOUND),
        Err(_) => status(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

fn file(store: &Store, sha256: &str, media_type: &str, range: Option<&str>) -> Response<Vec<u8>> {
    // The length first (an empty range read answers it), then the part asked for.
    let len = match store.media_range(sha256, 0, 0) {
        Ok(Some((_, len))) => len,
        Ok(None) => return status(StatusCode::NOT_FOUND),
        Err(_) => return status(StatusCode::INTERNAL_SERVER_ERROR),
    };
    let asked = range.and_then(|r| parse_range(r, len));
    if range.is_some() && asked.is_none() {
        return Response::builder()
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header(header::CONTENT_RANGE, format!("bytes */{len}"))
            .body(Vec::new())
            .unwrap_or_default();
    }
    let (start, end) = asked.unwrap_or((0, len));
    let end = end.min(start + MAX_RANGE);
    let bytes = match store.media_range(sha256, start, end) {
        Ok(Some((b, _))) => b,
        _ => return status(StatusCode::INTERNAL_SERVER_ERROR),
    };
    let partial = asked.is_some() || end < len;
    let mut r = Response::builder()
        .status(if partial {
            StatusCode::PARTIAL_CONTENT
        } else {
            StatusCode::OK
        })
        .header(header::CONTENT_TYPE, media_type)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::CONTENT_LENGTH, bytes.len());
    if partial {
        r = r.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{len}", start + bytes.len() as u64 - 1),
        );
    }
    r.body(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_players_send_them() {
        assert_eq!(parse_range("bytes=0-", 100), Some((0, 100)));
        assert_eq!(parse_range("bytes=10-19", 100), Some((10, 20)));
        assert_eq!(parse_range("bytes=90-200", 100), Some((90, 100)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 100)));
        assert_eq!(parse_range("bytes=100-", 100), None, "past the end");
        assert_eq!(parse_range("bytes=5-1", 100), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }
}
