//! Who and where this desk is, and the interface language.

use super::DeskState;
use crate::dto::AppInfo;
use crate::error::{CommandError, CommandResult};

#[tauri::command(async)]
pub fn app_info(desk: DeskState<'_>) -> CommandResult<AppInfo> {
    let s = desk.settings();
    // The window asks as it opens: from the index once it is ready, since SQL groups every
    // request (three scans at 10^6, beside the first frame). Same counts, same order.
    let every = lifeline_core::store::RequestQuery::default();
    let counts = if desk.index_ready() {
        desk.store.indexed_counts(&every)?
    } else {
        desk.store.counts(&every)?
    };
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        desk: s.desk,
        officer: s.officer,
        hub: s.hub_url,
        language: s.language,
        data_dir: s.data_dir.display().to_string(),
        posts: desk.store.distinct_posts()?,
        countries: counts
            .by_country
            .into_iter()
            .map(|(c, _)| c)
            .filter(|c| !c.is_empty())
            .collect(),
    })
}

#[tauri::command(async)]
pub fn set_language(desk: DeskState<'_>, language: String) -> CommandResult<()> {
    if language != "zh" && language != "en" {
        return Err(CommandError::invalid("the language is zh or en"));
    }
    let mut settings = desk.settings.write().map_err(|_| {
        CommandError::new(
            crate::error::ErrorCode::Internal,
            "settings are unavailable",
        )
    })?;
    settings.language = language.clone();
    desk.alerts.set_language(&language);
    settings.save_language(&language).map_err(|e| {
        CommandError::new(
            crate::error::ErrorCode::Storage,
            format!("cannot save the language: {e}"),
        )
    })
}

/// Why the desk could not open its data at start (`None`: it did). Managed in every case.
pub struct Startup(pub Option<crate::startup::StartupProblem>);

/// The first thing the window asks: a blocked desk shows what happened and what to do
/// instead of the desk.
#[tauri::command]
pub fn startup_problem(
    startup: tauri::State<'_, Startup>,
) -> CommandResult<Option<crate::startup::StartupProblem>> {
    Ok(startup.0.clone())
}
