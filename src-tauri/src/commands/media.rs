//! A citizen's photo, voice message or video on a thread, opened by the officer.

use tauri::AppHandle;

use super::DeskState;
use crate::dto::MediaDto;
use crate::error::{CommandError, CommandResult, ErrorCode};
use crate::media::{self, protocol::SCHEME};

/// Makes the file of message `id` ready to show: fetched from the hub (verified) and
/// prepared when this desk does not have it yet. Answers where the web view finds it.
#[tauri::command]
pub async fn open_media(
    _app: AppHandle,
    desk: DeskState<'_>,
    id: String,
) -> CommandResult<MediaDto> {
    super::session::ensure_unlocked(&desk)?;
    let Some(message) = desk.store.message(&id)? else {
        return Err(CommandError::new(ErrorCode::NotFound, "no such message"));
    };
    let Some(file) = message.media else {
        return Err(CommandError::new(
            ErrorCode::NotFound,
            "the message carries no file",
        ));
    };
    let cached = media::ensure_cached(&desk, &file).await?;
    let path = match file.family() {
        Some(lifeline_core::model::MediaFamily::Image) => cached
            .thumb
            .as_ref()
            .map(|_| format!("preview/{}", file.sha256)),
        _ => Some(format!("file/{}", file.sha256)),
    };
    Ok(MediaDto {
        scheme: SCHEME.into(),
        path,
        media_type: cached.media_type,
        size_bytes: cached.size as f64,
        gps: cached.gps.map(|(lat, lon)| vec![lat, lon]),
    })
}
