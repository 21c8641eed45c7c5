//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "lifeline",
    version,
    about = "Lifeline's headless desk: import feeds and help requests, query, export, sync and triage from a local database",
    after_help = "Exit status: 0 when the command did its work, 1 when nothing could be read or an error stopped it, 2 for a usage error."
)]
pub struct Cli {
    /// The desk's SQLite database (created when missing).
    #[arg(
        long,
        env = "LIFELINE_DB",
        global = true,
        default_value = "lifeline.sqlite"
    )]
    pub db: PathBuf,
    /// Machine-readable JSON on standard output.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import files, or every file of a folder: CAP (bare or EDXL-DE), Atom/RSS (alerts
    /// inline or linked), GeoJSON, USGS (GeoJSON or Atom), GDACS, Open311, Ushahidi CSV, JSON
    /// lines. The format is read from each file's content; each file gets a line saying what
    /// it is and what was taken or why it was skipped.
    Import(ImportArgs),
    /// List help requests matching filters.
    Requests(RequestsArgs),
    /// Export requests (GeoJSON or CSV) or advisories (GeoJSON), streamed.
    Export(ExportArgs),
    /// Counts by status, category and country, and optionally a timeline.
    Stats(StatsArgs),
    /// List advisories.
    Advisories(AdvisoriesArgs),
    /// Records rejected at import or sync, newest first, with the reason.
    Quarantine {
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Sync with a hub (and advisory feeds): pull pages, then follow the live stream.
    Sync(SyncArgs),
    /// Local triage edits and their state (pending, conflicted, rejected; --all for confirmed too).
    Outbox {
        #[arg(long)]
        all: bool,
    },
    /// Queue a triage action; it applies locally at once and reaches the hub on the next sync.
    Act(ActArgs),
    /// The thread of messages with the citizen of a request, oldest first.
    Messages { request_id: String },
    /// Write to the citizen of a request: queued at once, sent to the hub on the next sync,
    /// then carried by the channel the request came through.
    Reply(ReplyArgs),
    /// A safety reminder: the same message to the citizen of every open request inside an
    /// area (a box, or an advisory's areas), each queued as its own message.
    Remind(RemindArgs),
    /// Retention: erase requests closed more than DAYS ago (default 30), leaving no trace of
    /// them in the files.
    Purge {
        #[arg(long, default_value_t = lifeline_core::store::DEFAULT_RETENTION_DAYS)]
        closed_older_than_days: i64,
    },
    /// Erase these requests from this store (a right-to-erasure order), leaving no trace.
    Erase {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Offline street maps of the desk whose store `--db` names (kept in the `maps` folder
    /// beside it): import a region pack (PMTiles), list them, remove one.
    Maps {
        #[command(subcommand)]
        action: MapsAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum MapsAction {
    /// Check a `.pmtiles` file and copy it in (a damaged or cut file is refused with why).
    Import { file: PathBuf },
    /// The packs the desk draws, and the files there it refuses.
    List,
    /// Remove a pack by its id (as `list` shows it).
    Remove { id: String },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Column mapping for a CSV that is not an Ushahidi export, e.g.
    /// `id=Ref,description=Details,lat=Lat,lon=Lng,created_at=Date,name=Name,phone=Phone`.
    #[arg(long)]
    pub map: Option<String>,
    /// Prefix for ids made from CSV rows (default: the file's name).
    #[arg(long)]
    pub id_prefix: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Order {
    Triage,
    /// Unacknowledged emergencies, the longest waiting first; then as `triage`.
    Waiting,
    Newest,
    Oldest,
    Relevance,
}

#[derive(Debug, Args, Default)]
pub struct Filters {
    /// Statuses (comma-separated): new, acknowledged, in_progress, resolved, closed, duplicate; `open` for the first three.
    #[arg(long, value_delimiter = ',')]
    pub status: Vec<String>,
    /// Priorities: critical, high, normal, low.
    #[arg(long, value_delimiter = ',')]
    pub priority: Vec<String>,
    /// Categories: medical, detention, crime_victim, lost_documents, missing_person, accident,
    /// natural_disaster, conflict_unrest, evacuation, welfare_check, other.
    #[arg(long, value_delimiter = ',')]
    pub category: Vec<String>,
    /// Only emergencies (SOS).
    #[arg(long, conflicts_with = "no_emergency")]
    pub emergency: bool,
    /// Only requests that are not emergencies.
    #[arg(long)]
    pub no_emergency: bool,
    /// ISO 3166-1 alpha-2 codes of where the citizen is.
    #[arg(long, value_delimiter = ',')]
    pub country: Vec<String>,
    /// Consular posts (repeatable).
    #[arg(long)]
    pub post: Vec<String>,
    /// Assigned to this officer.
    #[arg(long, conflicts_with = "unassigned")]
    pub assignee: Option<String>,
    /// Assigned to nobody.
    #[arg(long)]
    pub unassigned: bool,
    /// Created at or after (RFC 3339, or YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<String>,
    /// Created before (RFC 3339, or YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<String>,
    /// Bounding box W,S,E,N; W > E crosses the antimeridian.
    #[arg(long, allow_hyphen_values = true)]
    pub bbox: Option<String>,
    /// Text search (Chinese and other languages).
    #[arg(long)]
    pub search: Option<String>,
}

#[derive(Debug, Args)]
pub struct RequestsArgs {
    #[command(flatten)]
    pub filters: Filters,
    #[arg(long, value_enum, default_value_t = Order::Triage)]
    pub order: Order,
    #[arg(long)]
    pub limit: Option<u32>,
    #[arg(long, default_value_t = 0)]
    pub offset: u32,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub what: ExportWhat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RequestFormat {
    Geojson,
    Csv,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AdvisoryFormat {
    Geojson,
}

// Parsed once per process: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ExportWhat {
    /// Help requests, without personal data: names, phones, document numbers, addresses,
    /// descriptions and attachment names are redacted and positions rounded to about 1 km,
    /// unless --include-personal-data is given (a supervisor's right, recorded at the hub).
    Requests {
        #[arg(long, value_enum)]
        format: RequestFormat,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Keep the personal data. Needs --hub and --officer: the officer signs in (password
        /// from LIFELINE_HUB_PASSWORD or standard input), and the hub, which must allow it
        /// to that officer's role, records the export in its audit trail first.
        #[arg(long, requires_all = ["hub", "officer"])]
        include_personal_data: bool,
        /// The hub that authorises and records an export with personal data.
        #[arg(long)]
        hub: Option<String>,
        /// The CA certificate (PEM) to trust for that hub, beside the system's.
        #[arg(long)]
        hub_ca: Option<PathBuf>,
        /// The officer who asks for personal data.
        #[arg(long)]
        officer: Option<String>,
        #[command(flatten)]
        filters: Filters,
    },
    /// Advisories, one Feature per advisory with its areas as geometry.
    Advisories {
        #[arg(long, value_enum)]
        format: AdvisoryFormat,
        #[arg(long)]
        output: Option<PathBuf>,
        /// Only real, current warnings.
        #[arg(long)]
        active: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Bucket {
    Hour,
    Day,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub filters: Filters,
    /// Add a timeline of requests per hour or day.
    #[arg(long, value_enum)]
    pub timeline: Option<Bucket>,
}

#[derive(Debug, Args)]
pub struct AdvisoriesArgs {
    /// Only real, current warnings (not superseded, cancelled, expired, tests or exercises).
    #[arg(long)]
    pub active: bool,
    /// For each active advisory, the help requests located inside its areas.
    #[arg(long)]
    pub with_requests: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The hub's base URL, e.g. https://hub.example:7443 (or `hub_url` in the settings
    /// file). Plain http:// is refused except to this computer (127.0.0.1, localhost).
    #[arg(long)]
    pub hub: Option<String>,
    /// A CA certificate file (PEM) to trust for the hub, beside the system's: the ministry's
    /// own certificate authority.
    #[arg(long)]
    pub hub_ca: Option<PathBuf>,
    /// Sign in as this officer (the password is read from LIFELINE_HUB_PASSWORD, else from
    /// the first line of standard input). Without it, LIFELINE_HUB_TOKEN is sent.
    #[arg(long)]
    pub officer: Option<String>,
    /// One pass (pull until caught up, send the outbox, fetch feeds), then exit.
    #[arg(long, conflicts_with = "follow")]
    pub once: bool,
    /// Keep following the hub's live stream until interrupted (the default).
    #[arg(long)]
    pub follow: bool,
    /// Advisory feeds to poll (Atom/RSS CAP indexes, USGS GeoJSON, GDACS RSS).
    #[arg(long)]
    pub feed: Vec<String>,
    /// Records per page when pulling.
    #[arg(long, default_value_t = 500)]
    pub page_size: u32,
    /// Settings file (JSON: `hub_url`, `token`, `desk`, `officer`, `feeds`).
    #[arg(long)]
    pub settings: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ActArgs {
    pub request_id: String,
    #[command(subcommand)]
    pub action: ActAction,
    /// Who acts (recorded in the case log and at the hub).
    #[arg(long, env = "LIFELINE_OFFICER", default_value = "cli", global = true)]
    pub actor: String,
}

/// What to write to citizens: a text, or one of the post's templates.
#[derive(Debug, Args)]
pub struct MessageArgs {
    /// The message.
    #[arg(
        long,
        conflicts_with = "template",
        required_unless_present = "template"
    )]
    pub text: Option<String>,
    /// One of the post's templates, by name (`--template list` names them).
    #[arg(long)]
    pub template: Option<String>,
    /// The template's language: zh or en.
    #[arg(long, default_value = "zh")]
    pub lang: String,
    /// Who writes (recorded at the hub as the signed-in principal).
    #[arg(long, env = "LIFELINE_OFFICER", default_value = "cli")]
    pub actor: String,
}

#[derive(Debug, Args)]
pub struct ReplyArgs {
    pub request_id: String,
    #[command(flatten)]
    pub message: MessageArgs,
}

#[derive(Debug, Args)]
pub struct RemindArgs {
    /// The area as WEST,SOUTH,EAST,NORTH in degrees (west > east crosses the antimeridian).
    #[arg(
        long,
        allow_hyphen_values = true,
        conflicts_with = "advisory",
        required_unless_present = "advisory"
    )]
    pub bbox: Option<String>,
    /// The areas of an advisory in this store, by its id (`lifeline advisories`).
    #[arg(long)]
    pub advisory: Option<i64>,
    #[command(flatten)]
    pub message: MessageArgs,
    /// Only say how many citizens are inside; queue nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum ActAction {
    Acknowledge,
    Assign { assignee: String },
    Unassign,
    Note { text: String },
    Status { status: String },
    Priority { priority: String },
    Duplicate { of: String },
}
