//! The Lifeline desk: the Tauri shell. Only wiring lives here; the core crates do the work.
//! `run` builds the app: settings, store, sync engine, the main window, the commands.

mod alerts;
mod commands;
mod convert;
pub mod dto;
pub mod error;
mod events;
mod maps;
mod media;
mod scheme;
mod session;
mod settings;
mod startup;
mod state;
mod vault;

#[cfg(test)]
mod tests;

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use tauri::{Manager, WebviewUrl, WebviewWindowBuilder};

use crate::alerts::AlertService;
use crate::session::DeskSession;
use crate::settings::{DeskArgs, Settings};
use crate::state::Desk;

fn open_window(app: &tauri::App) -> tauri::Result<()> {
    WebviewWindowBuilder::new(app, "main", WebviewUrl::App("index.html".into()))
        .title("Lifeline 领保")
        .inner_size(1440.0, 900.0)
        .min_inner_size(1024.0, 640.0)
        .build()?;
    Ok(())
}

pub fn run() -> ExitCode {
    let args = DeskArgs::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LIFELINE_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let builder = tauri::Builder::default().plugin(tauri_plugin_notification::init());
    // Street tiles from the region packs in the data folder.
    let builder = scheme::register(builder, maps::SCHEME, |app, request| {
        match app.try_state::<Arc<maps::MapPacks>>() {
            Some(packs) => packs.serve(&request.path, request.origin.as_deref()),
            None => scheme::status(tauri::http::StatusCode::SERVICE_UNAVAILABLE),
        }
    });
    // Citizens' files from the store, for the thread's players and previews.
    let builder = scheme::register(builder, media::protocol::SCHEME, |app, request| {
        match app.try_state::<Arc<Desk>>() {
            Some(desk) => media::protocol::answer(&desk.store, desk.session.is_locked(), request),
            None => scheme::status(tauri::http::StatusCode::SERVICE_UNAVAILABLE),
        }
    });
    let result = builder
        .setup(move |app| {
            let default_dir = app.path().app_data_dir()?;
            let mut settings = Settings::resolve(args.clone(), default_dir);
            let recovery = match &args.recovery_key {
                Some(file) => Some(startup::read_recovery_key(file).map_err(std::io::Error::other)?),
                None => None,
            };
            app.manage(Arc::new(maps::MapPacks::for_data_dir(&settings.data_dir)));
            let store = match startup::open(&settings.data_dir, recovery) {
                startup::Opened::Ready(store) => store,
                startup::Opened::Blocked(problem) => {
                    // The window opens on a screen saying what happened and what to do; the
                    // data is not touched and nothing syncs.
                    app.manage(commands::settings::Startup(Some(problem)));
                    open_window(app)?;
                    return Ok(());
                }
            };
            if let Some(file) = &args.export_recovery_key {
                match startup::export_recovery_key(&settings.data_dir, file) {
                    Ok(()) => println!("the recovery key is in {}: give it to the post's security officer", file.display()),
                    Err(e) => eprintln!("lifeline-desk: {e}"),
                }
                app.handle().exit(0);
                return Ok(());
            }
            app.manage(commands::settings::Startup(None));
            // The keyring works (the store opened with its key): the session's secrets are
            // there too.
            let session = Arc::new(DeskSession::new(vault::Vault::for_data_dir(&settings.data_dir)));
            session.complete(&mut settings);
            if settings.missing_token {
                tracing::warn!("a hub is configured without a way to sign in: the window asks an officer to sign in");
            }
            let alerts = AlertService::new(
                app.handle().clone(),
                Arc::clone(&store),
                alerts::policy_from(&settings),
                &settings.language,
                settings.notification_details,
            );
            let desk = Desk::start(app.handle(), store, settings, Arc::clone(&alerts), session)?;
            app.manage(desk);
            // Escalations, burst summaries and the alarm run on a clock of their own.
            tauri::async_runtime::spawn(async move {
                loop {
                    let a = Arc::clone(&alerts);
                    let _ = tauri::async_runtime::spawn_blocking(move || a.tick()).await;
                    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                }
            });
            open_window(app)?;
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::requests::queue_page,
            commands::requests::request_detail,
            commands::requests::request_id_at,
            commands::requests::counts,
            commands::requests::timeline,
            commands::map::map_clusters,
            commands::actions::act,
            commands::actions::act_on_many,
            commands::map::cluster_members,
            commands::messages::thread,
            commands::messages::reminder_recipients,
            commands::messages::send_reminder,
            commands::messages::message_templates,
            commands::media::open_media,
            commands::messages::publish_reminder,
            commands::map_packs::map_packs,
            commands::map_packs::import_map_pack,
            commands::map_packs::remove_map_pack,
            commands::actions::dismiss_action,
            commands::actions::withdraw_action,
            commands::actions::retry_action,
            commands::actions::claim,
            commands::actions::release,
            commands::advisories::advisories,
            commands::advisories::advisory_detail,
            commands::advisories::advisory_shapes,
            commands::sync::sync_health,
            commands::settings::app_info,
            commands::settings::startup_problem,
            commands::settings::set_language,
            commands::alerts::alert_status,
            commands::alerts::send_test_alert,
            commands::alerts::set_watch_region,
            commands::places::find_places,
            commands::alerts::snooze_alarm,
            commands::panel::desk_settings,
            commands::panel::save_desk_settings,
            commands::handover::handover,
            commands::handover::save_handover,
            commands::session::sign_in,
            commands::session::sign_out,
            commands::session::lock_desk,
            commands::session::unlock_desk,
            commands::export::export_requests,
            commands::requests::duplicate_candidates,
            commands::requests::queue_position,
        ])
        .build(tauri::generate_context!())
        .map(|app| {
            app.run(|app, event| {
                if let tauri::RunEvent::Exit = event
                    && let Some(desk) = app.try_state::<Arc<Desk>>()
                {
                    // The next start reads this instead of every request.
                    if let Err(e) = desk.store.save_index_snapshot() {
                        tracing::warn!("cannot save the request index's snapshot: {e}");
                    }
                }
            })
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lifeline-desk: {e}");
            ExitCode::FAILURE
        }
    }
}
