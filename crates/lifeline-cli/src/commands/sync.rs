//! `lifeline sync`: the sync engine without a window.

use std::sync::Arc;

use lifeline_core::Store;
use lifeline_sync::http::Http;
use lifeline_sync::{HubAuth, Limits, SessionAuth, Stop, SyncEngine, sign_in};
use serde::Deserialize;

use crate::CliError;
use crate::args::SyncArgs;
use crate::output::print_json;

/// The settings file (also read by the desk): where the hub is and how to reach it.
#[derive(Debug, Default, Deserialize)]
pub struct Settings {
    pub hub_url: Option<String>,
    pub token: Option<String>,
    pub desk: Option<String>,
    #[serde(default)]
    pub feeds: Vec<String>,
}

fn settings(args: &SyncArgs) -> Result<Settings, CliError> {
    let Some(path) = &args.settings else {
        return Ok(Settings::default());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        CliError::Usage(format!(
            "{} is not a valid settings file: {e}",
            path.display()
        ))
    })
}

/// The password for `--officer`: from the environment, else the first line of stdin.
pub(crate) fn password() -> Result<String, CliError> {
    if let Ok(p) = std::env::var("LIFELINE_HUB_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| {
        CliError::Usage(format!("cannot read the password from standard input: {e}"))
    })?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub fn run(store: Store, args: SyncArgs, json_out: bool) -> Result<(), CliError> {
    let settings = settings(&args)?;
    let hub = args.hub.clone().or(settings.hub_url);
    let desk = settings.desk.unwrap_or_else(|| "cli".into());
    let mut roots = Vec::new();
    if let Some(path) = &args.hub_ca {
        roots.push(std::fs::read(path).map_err(|e| {
            CliError::Usage(format!("cannot read the CA file {}: {e}", path.display()))
        })?);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Sync(format!("cannot start the runtime: {e}")))?;
    let mut builder = SyncEngine::builder(Arc::new(store))
        .desk(desk.clone())
        .page_size(args.page_size)
        .extra_roots(roots.clone());
    if let Some(hub) = &hub {
        let auth = match &args.officer {
            Some(officer) => {
                lifeline_sync::http::check_transport(hub)
                    .map_err(|e| CliError::Usage(e.to_string()))?;
                let password = password()?;
                let http = Http::with_roots(Limits::default(), &roots)
                    .map_err(|e| CliError::Usage(e.to_string()))?;
                let session = runtime
                    .block_on(sign_in(&http, hub, officer, &password, &desk))
                    .map_err(|e| CliError::Sync(format!("signing in as {officer}: {e}")))?;
                HubAuth::Session(Arc::new(SessionAuth::from_session(session, &desk, None)))
            }
            None => {
                let token = std::env::var("LIFELINE_HUB_TOKEN").ok().or(settings.token).ok_or_else(|| {
                    CliError::Usage(
                        "sign in with --officer ID, or set LIFELINE_HUB_TOKEN to a service account's secret".into(),
                    )
                })?;
                HubAuth::Token(token)
            }
        };
        builder = builder.hub_auth(hub, auth);
    }
    for feed in args.feed.iter().chain(&settings.feeds) {
        builder = builder.feed(feed);
    }
    if hub.is_none() && args.feed.is_empty() {
        return Err(CliError::Usage(
            "nothing to sync: give --hub URL and/or --feed URL".into(),
        ));
    }
    let engine = builder.build().map_err(|e| CliError::Sync(e.to_string()))?;
    runtime.block_on(async move {
        if args.once {
            let report = engine
                .sync_once()
                .await
                .map_err(|e| CliError::Sync(e.to_string()))?;
            if json_out {
                return print_json(&serde_json::json!({
                    "pulled": report.pulled,
                    "quarantined": report.quarantined,
                    "actions_sent": report.actions_sent,
                    "feeds_polled": report.feeds_polled,
                }));
            }
            say!(
                "pulled {} records ({} quarantined), sent {} actions, polled {} feeds",
                report.pulled,
                report.quarantined,
                report.actions_sent,
                report.feeds_polled
            )?;
            return Ok(());
        }
        let (handle, stop) = Stop::new();
        let runner = tokio::spawn({
            let engine = engine.clone();
            async move { engine.run(stop).await }
        });
        let _ = tokio::signal::ctrl_c().await;
        handle.stop();
        let _ = runner.await;
        Ok(())
    })
}
