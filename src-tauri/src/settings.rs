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
    /// Sign in to the hub as this officer. The password is read from LIFELINE_HUB_PASSWORD
    /// (or the file --password-file names), never from the command line.
    #[arg(long)]
    pub sign_in: Option<String>,
    /// A file whose first line is the officer's password (for --sign-in).
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// A CA certificate (PEM) to trust for the hub besides the system's: the ministry's own
    /// certificate authority (or `hub_ca` in the settings).
    #[arg(long)]
    pub hub_ca: Option<PathBuf>,
    /// The post's recovery key of this desk's database (a file of 64 hex digits), when the
    /// keyring lost it; it is kept in the keyring again once it opens the database.
    #[arg(long)]
    pub recovery_key: Option<PathBuf>,
    /// Writes the recovery key of this desk's database to FILE for the post's security
    /// officer, then exits. Allowed once per desk.
    #[arg(long)]
    pub export_recovery_key: Option<PathBuf>,
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
    /// Alert when the citizen of an open emergency wrote and nobody answered within this
    /// many seconds (default 600).
    #[arg(long)]
    pub reply_alert_after: Option<u64>,
    /// Quiet mode: only emergencies alert (never silenced).
    #[arg(long)]
    pub quiet: bool,
    /// Lock the window after this many seconds without a key or the mouse (default 600;
    /// 0: never). Unlocking takes the officer's password, checked offline.
    #[arg(long)]
    pub lock_after: Option<u64>,
}

/// The settings file (`settings.json` in the data folder).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SettingsFile {
    pub hub_url: Option<String>,
    /// A fixed token written here by hand (a service account's secret). The desk moves it
    /// into the OS keyring at start and removes it from this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The officer who signs in at this desk.
    pub officer_id: Option<String>,
    pub hub_ca: Option<PathBuf>,
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
    /// A region this desk watches, `[west, south, east, north]` (west > east crosses the
    /// antimeridian); drawn from the map in the alerts panel.
    #[serde(default)]
    pub watch_region: Option<[f64; 4]>,
    pub escalate_after_s: Option<u64>,
    #[serde(default)]
    pub reply_alert_after_s: Option<u64>,
    #[serde(default)]
    pub quiet: bool,
    /// Notifications show the start of the description. Off by default: a notification
    /// shows on a locked screen, so it names only category, priority and city.
    #[serde(default)]
    pub notification_details: bool,
    /// Days a closed request stays on this desk (default 30); then it is erased.
    pub retention_days: Option<i64>,
    /// Minutes without input before the window locks (default 10; 0: never).
    pub lock_after_minutes: Option<u64>,
    /// Megabytes of citizens' photos, voice and video kept on this desk (default 512); the
    /// least recently opened go first and are fetched again when needed.
    #[serde(default)]
    pub media_cache_mb: Option<u64>,
}

/// How the desk proves itself to the hub.
#[derive(Clone, PartialEq)]
pub enum HubCredential {
    /// A fixed token (development, service account).
    Token(String),
    /// An officer: signing in with a password given at start (`--sign-in`), or else with
    /// the refresh token the keyring keeps from an earlier sign-in.
    Officer {
        id: String,
        password: Option<String>,
    },
}

impl std::fmt::Debug for HubCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HubCredential::Token(_) => f.write_str("Token(<hidden>)"),
            HubCredential::Officer { id, .. } => write!(f, "Officer({id}, <password hidden>)"),
        }
    }
}

/// The resolved settings the desk runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// The hub's URL.
    pub hub_url: Option<String>,
    /// How this desk proves itself to the hub (`None`: an officer must sign in first).
    pub credential: Option<HubCredential>,
    /// The token came from the settings file (the desk moves it into the keyring).
    pub token_in_file: bool,
    pub hub_ca: Option<PathBuf>,
    pub desk: String,
    pub officer: String,
    pub language: String,
    pub feeds: Vec<String>,
    pub watch_posts: Vec<String>,
    pub watch_countries: Vec<String>,
    pub watch_region: Option<[f64; 4]>,
    pub escalate_after_s: u64,
    pub reply_alert_after_s: u64,
    pub quiet: bool,
    pub notification_details: bool,
    pub retention_days: i64,
    /// Bytes of citizens' files kept in the store.
    pub media_quota_bytes: u64,
    /// Seconds without input before the window locks (0: never).
    pub lock_after_s: u64,
    /// A hub URL given without a token or an officer to sign in: the UI says so instead of
    /// failing silently.
    pub missing_token: bool,
}

impl Settings {
    pub fn file_path(dir: &Path) -> PathBuf {
        dir.join("settings.json")
    }

    pub fn resolve(args: DeskArgs, default_dir: PathBuf) -> Settings {
        let data_dir = args.data_dir.unwrap_or(default_dir);
        let path = Self::file_path(&data_dir);
        let file: SettingsFile = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!("ignoring {}: {e}", path.display());
                SettingsFile::default()
            }),
            Err(_) => SettingsFile::default(),
        };
        let hub_url = args.hub.or(file.hub_url);
        // A password only with --sign-in: a desk started again signs in with its refresh
        // token (or asks), not with whatever the environment holds.
        let password = match (&args.sign_in, &args.password_file) {
            (None, _) => None,
            (Some(_), Some(path)) => match std::fs::read_to_string(path) {
                Ok(t) => Some(t.lines().next().unwrap_or_default().to_owned()),
                Err(e) => {
                    tracing::error!("cannot read the password file {}: {e}", path.display());
                    None
                }
            },
            (Some(_), None) => std::env::var("LIFELINE_HUB_PASSWORD").ok(),
        };
        let officer_id = args.sign_in.or(file.officer_id);
        let env_token = std::env::var("LIFELINE_HUB_TOKEN")
            .ok()
            .filter(|t| !t.is_empty());
        let token_in_file = env_token.is_none() && file.token.is_some();
        let token = env_token.or(file.token);
        let credential = match (officer_id, token) {
            (Some(id), _) => Some(HubCredential::Officer { id, password }),
            (None, Some(token)) => Some(HubCredential::Token(token)),
            (None, None) => None,
        };
        let missing_token = hub_url.is_some() && credential.is_none();
        // A signed-in desk acts as its officer: assignments and the case log use the id.
        let signed_in_officer = match &credential {
            Some(HubCredential::Officer { id, .. }) => Some(id.clone()),
            _ => None,
        };
        let language = args
            .lang
            .or(file.language)
            .filter(|l| l == "zh" || l == "en")
            .unwrap_or_else(|| "zh".into());
        let mut feeds = file.feeds;
        feeds.extend(args.feed);
        Settings {
            hub_url,
            credential,
            token_in_file,
            hub_ca: args.hub_ca.or(file.hub_ca),
            desk: args.desk.or(file.desk).unwrap_or_else(|| "desk-1".into()),
            officer: signed_in_officer
                .or(args.officer)
                .or(file.officer)
                .unwrap_or_else(|| "officer".into()),
            language,
            feeds,
            watch_posts: file.watch_posts,
            watch_countries: file.watch_countries,
            watch_region: file.watch_region,
            escalate_after_s: args.escalate_after.or(file.escalate_after_s).unwrap_or(300),
            reply_alert_after_s: args
                .reply_alert_after
                .or(file.reply_alert_after_s)
                .unwrap_or(600),
            quiet: args.quiet || file.quiet,
            notification_details: file.notification_details,
            retention_days: file
                .retention_days
                .filter(|d| *d > 0)
                .unwrap_or(lifeline_core::store::DEFAULT_RETENTION_DAYS),
            media_quota_bytes: file
                .media_cache_mb
                .filter(|mb| *mb > 0)
                .map_or(lifeline_core::store::DEFAULT_MEDIA_QUOTA_BYTES, |mb| {
                    mb.saturating_mul(1024 * 1024)
                }),
            lock_after_s: args
                .lock_after
                .or(file.lock_after_minutes.map(|m| m * 60))
                .unwrap_or(600),
            missing_token,
            data_dir,
        }
    }

    /// Persists the language choice.
    pub fn save_language(&self, language: &str) -> std::io::Result<()> {
        self.update_file(|file| file.language = Some(language.to_owned()))
    }

    /// Persists the hub and the officer signed in at this desk (their refresh token goes to
    /// the keyring, never here).
    pub fn save_sign_in(&self, hub_url: &str, officer_id: &str) -> std::io::Result<()> {
        self.update_file(|file| {
            file.hub_url = Some(hub_url.to_owned());
            file.officer_id = Some(officer_id.to_owned());
        })
    }

    /// Takes a hand-written token out of the settings file (it was moved to the keyring).
    pub fn remove_token_from_file(&self) -> std::io::Result<()> {
        self.update_file(|file| file.token = None)
    }

    /// Persists what the settings panel changes.
    pub fn save_panel(&self) -> std::io::Result<()> {
        let s = self.clone();
        self.update_file(move |file| {
            file.desk = Some(s.desk);
            if !matches!(s.credential, Some(HubCredential::Officer { .. })) {
                file.officer = Some(s.officer);
            }
            file.watch_posts = s.watch_posts;
            file.watch_countries = s.watch_countries;
            file.escalate_after_s = Some(s.escalate_after_s);
            file.reply_alert_after_s = Some(s.reply_alert_after_s);
            file.quiet = s.quiet;
            file.notification_details = s.notification_details;
            file.lock_after_minutes = Some(s.lock_after_s / 60);
            file.retention_days = Some(s.retention_days);
        })
    }

    /// Persists the watched region (`None`: watch everywhere the posts and countries allow).
    pub fn save_watch_region(&self, region: Option<[f64; 4]>) -> std::io::Result<()> {
        self.update_file(|file| file.watch_region = region)
    }

    /// Rewrites the settings file with one change. A file that does not parse is left alone
    /// (an error), never replaced by defaults: it holds the hub token and the watch area.
    fn update_file(&self, change: impl FnOnce(&mut SettingsFile)) -> std::io::Result<()> {
        let path = Self::file_path(&self.data_dir);
        let mut file: SettingsFile = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "{} is not valid settings ({e}); fix it by hand",
                        path.display()
                    ),
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => SettingsFile::default(),
            Err(e) => return Err(e),
        };
        change(&mut file);
        std::fs::create_dir_all(&self.data_dir)?;
        // Written beside and renamed over: a crash leaves the old file or the new one, never
        // half of one. Like every file of the data folder, this user's only from the start.
        let staged = path.with_extension("json.new");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        {
            use std::io::Write;
            let mut f = options.open(&staged)?;
            f.write_all(
                serde_json::to_string_pretty(&file)
                    .unwrap_or_default()
                    .as_bytes(),
            )?;
            f.sync_all()?;
        }
        std::fs::rename(&staged, &path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: &Path) -> DeskArgs {
        DeskArgs::parse_from(["lifeline-desk", "--data-dir", &dir.display().to_string()])
    }

    #[test]
    fn a_watched_region_survives_a_restart_and_keeps_the_rest_of_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            Settings::file_path(dir.path()),
            r#"{"hub_url": "http://127.0.0.1:7070", "token": "t", "watch_countries": ["TH"]}"#,
        )
        .expect("write");
        let settings = Settings::resolve(args(dir.path()), dir.path().into());
        settings
            .save_watch_region(Some([175.0, -25.0, -170.0, -10.0]))
            .expect("save");
        let again = Settings::resolve(args(dir.path()), dir.path().into());
        assert_eq!(again.watch_region, Some([175.0, -25.0, -170.0, -10.0]));
        assert_eq!(again.watch_countries, vec!["TH".to_string()]);
        assert_eq!(again.hub_url.as_deref(), Some("http://127.0.0.1:7070"));
        assert_eq!(again.credential, Some(HubCredential::Token("t".into())));
    }

    #[test]
    fn a_broken_settings_file_is_never_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let broken = r#"{"hub_url": "http://hub", "token": "secret", "#;
        std::fs::write(Settings::file_path(dir.path()), broken).expect("write");
        let settings = Settings::resolve(args(dir.path()), dir.path().into());
        assert!(settings.save_language("en").is_err());
        let kept = std::fs::read_to_string(Settings::file_path(dir.path())).expect("read");
        assert_eq!(kept, broken);
    }
}
