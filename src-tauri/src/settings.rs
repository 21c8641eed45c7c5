//! How this desk is set up: from the command line, the settings file in the data folder,
//! and the environment, in that order of precedence.

use std::path::{Path, PathBuf};

use clap::Parser;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Parser)]
#[command(name = "lifeline-desk", version, about = "The Lifeline desk")]
pub struct DeskArgs {
    /// Where the desk keeps its database and settings (default: the platform's app-data folder).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The hub to sync with (overrides the settings file).
    #[arg(long)]
    pub hub: Option<String>,
    /// This workstation's hub token (or LIFELINE_HUB_TOKEN, or `token` in the settings).
    #[arg(long, env = "LIFELINE_HUB_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// This desk's name, shown to other desks.
    #[arg(long)]
    pub desk: Option<String>,
    /// The officer at this desk.
    #[arg(long)]
    pub officer: Option<String>,
    /// Interface language: zh or en.
    #[arg(long)]
    pub lang: Option<String>,
    /// Advisory feeds to poll besides the hub's (repeatable).
    #[arg(long)]
    pub feed: Vec<String>,
    /// First escalation of an unacknowledged emergency, in seconds (default 300).
    #[arg(long)]
    pub escalate_after: Option<u64>,
    /// Quiet mode: only emergencies alert (never silenced).
    #[arg(long)]
    pub quiet: bool,
}

/// The settings file (`settings.json` in the data folder).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SettingsFile {
    pub hub_url: Option<String>,
    pub token: Option<String>,
    pub desk: Option<String>,
    pub officer: Option<String>,
    pub language: Option<String>,
    #[serde(default)]
    pub feeds: Vec<String>,
    /// Consular posts this desk watches; empty means all.
    #[serde(default)]
    pub watch_posts: Vec<String>,
    /// Countries this desk watches (ISO alpha-2); empty means all.
    #[serde(default)]
    pub watch_countries: Vec<String>,
    pub escalate_after_s: Option<u64>,
    #[serde(default)]
    pub quiet: bool,
}

/// The resolved settings the desk runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub hub: Option<(String, String)>,
    pub desk: String,
    pub officer: String,
    pub language: String,
    pub feeds: Vec<String>,
    pub watch_posts: Vec<String>,
    pub watch_countries: Vec<String>,
    pub escalate_after_s: u64,
    pub quiet: bool,
    /// A hub URL given without a token: the UI says so instead of failing silently.
    pub missing_token: bool,
}

impl Settings {
    pub fn file_path(dir: &Path) -> PathBuf {
        dir.join("settings.json")
    }

    pub fn resolve(args: DeskArgs, default_dir: PathBuf) -> Settings {
        let data_dir = args.data_dir.unwrap_or(default_dir);
        let file: SettingsFile = std::fs::read_to_string(Self::file_path(&data_dir))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let hub_url = args.hub.or(file.hub_url);
        let token = args.token.or(file.token);
        let missing_token = hub_url.is_some() && token.is_none();
        let language = args
            .lang
            .or(file.language)
            .filter(|l| l == "zh" || l == "en")
            .unwrap_or_else(|| "zh".into());
        let mut feeds = file.feeds;
        feeds.extend(args.feed);
        Settings {
            hub: hub_url.zip(token),
            desk: args.desk.or(file.desk).unwrap_or_else(|| "desk-1".into()),
            officer: args
                .officer
                .or(file.officer)
                .unwrap_or_else(|| "officer".into()),
            language,
            feeds,
            watch_posts: file.watch_posts,
            watch_countries: file.watch_countries,
            escalate_after_s: args.escalate_after.or(file.escalate_after_s).unwrap_or(300),
            quiet: args.quiet || file.quiet,
            missing_token,
            data_dir,
        }
    }

    /// Persists the language choice (the only setting changed from the UI).
    pub fn save_language(&self, language: &str) -> std::io::Result<()> {
        let path = Self::file_path(&self.data_dir);
        let mut file: SettingsFile = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        file.language = Some(language.to_owned());
        std::fs::create_dir_all(&self.data_dir)?;
        std::fs::write(
            path,
            serde_json::to_string_pretty(&file).unwrap_or_default(),
        )
    }
}
