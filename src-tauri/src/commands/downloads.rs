//! Files the desk writes for the officer (exports, the hand-over): a new file in the user's
//! downloads folder (their home when there is none), named with the time, never replacing
//! one, readable by this user only from its first byte.

use std::path::PathBuf;

use chrono::Utc;
use tauri::Manager;

use crate::error::{CommandError, CommandResult, ErrorCode};

/// Creates `lifeline-{what}-YYYYMMDD-HHMMSS.{extension}` in the downloads folder.
pub fn create_private_file(
    app: &tauri::AppHandle,
    what: &str,
    extension: &str,
) -> CommandResult<(PathBuf, std::fs::File)> {
    let storage = |e: std::io::Error| {
        CommandError::new(ErrorCode::Storage, format!("cannot write the file: {e}"))
    };
    let folder = app
        .path()
        .download_dir()
        .or_else(|_| app.path().home_dir())
        .map_err(|e| {
            CommandError::new(ErrorCode::Storage, format!("no folder to write to: {e}"))
        })?;
    std::fs::create_dir_all(&folder).map_err(storage)?;
    let path = folder.join(format!(
        "lifeline-{what}-{}.{extension}",
        Utc::now().format("%Y%m%d-%H%M%S")
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&path).map_err(storage)?;
    Ok((path, file))
}
