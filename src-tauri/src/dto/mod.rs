//! What crosses the IPC boundary, in the UI's shape. Domain types are not serialised for
//! the UI's sake: each is converted here, so the UI contract changes only on purpose. The
//! TypeScript declarations in `ui/src/ipc/bindings.ts` are generated from these types
//! (`cargo xtask bindings`), and a test fails when they are stale.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

mod maps;
mod messages;

pub use maps::*;
pub use messages::*;

/// Filters the officer set in the top bar and the queue.
#[derive(Debug, Clone, Default, Deserialize, Serialize, TS)]
pub struct QueueFilter {
    /// Status words; empty means all.
    pub statuses: Vec<String>,
    pub priorities: Vec<String>,
    pub categories: Vec<String>,
    pub emergency: Option<bool>,
    pub countries: Vec<String>,
    pub posts: Vec<String>,
    /// `"me"`, `"none"`, or an officer's name.
    pub assignee: Option<String>,
    /// Only requests created in the last so many hours.
    pub since_hours: Option<u32>,
    pub text: Option<String>,
    /// Only requests created before this time (ms since the epoch): the queue held still
    /// while the officer reads it.
    #[serde(default)]
    #[ts(optional)]
    pub created_before_ms: Option<f64>,
    /// Only requests created at or after this time (ms): what arrived since it was held.
    #[serde(default)]
    #[ts(optional)]
    pub created_since_ms: Option<f64>,
    /// The queue's order: `waiting` (unacknowledged SOS longest waiting first, then by
    /// priority), `priority`, `newest` or `oldest`; `priority` when absent.
    #[serde(default)]
    #[ts(optional)]
    pub order: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct QueueRow {
    pub id: String,
    /// Milliseconds since the epoch, UTC.
    pub created_at: f64,
    pub emergency: bool,
    pub priority: String,
    pub status: String,
    pub category: String,
    pub channel: String,
    pub people_count: u32,
    pub name: String,
    /// The first characters of the description (untrusted text: render as text only).
    pub excerpt: String,
    /// A place to name it by: the address, or the nearest city and country.
    pub place: String,
    pub country: Option<String>,
    pub assignee: Option<String>,
    /// `synced`, `pending` or `conflict`.
    pub local_state: String,
    /// Officers at other desks working on it, e.g. `Wang (desk-2)`.
    pub claimed_by: Vec<String>,
    pub advisories: u32,
    /// The citizen's language (BCP 47), when the intake recorded one.
    pub language: Option<String>,
    /// The citizen asks for an interpreter (the description says so).
    pub interpreter: bool,
    /// Messages from the citizen nobody at this desk has had on screen.
    pub unread: u32,
    /// Since when the citizen has waited for an answer (ms), if they have.
    pub waiting_since: Option<f64>,
}

/// A request that may be the original of a duplicate, and why it is offered.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DuplicateCandidate {
    pub row: QueueRow,
    /// `same_phone`, `same_name`, `nearby_recent`.
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct QueuePage {
    pub total: u32,
    pub offset: u32,
    pub rows: Vec<QueueRow>,
    /// Open emergencies in the whole store (the banner's number).
    pub open_emergencies: u32,
    /// False until the in-memory index is built (first seconds after start on a big store).
    pub ready: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CitizenDto {
    pub name: String,
    pub phone: Option<String>,
    /// Masked to its last four characters: identity numbers are shown only as much as an
    /// officer needs to match a document.
    pub id_document_masked: Option<String>,
    pub nationality: Option<String>,
    pub language: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct LocationDto {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub captured_at: Option<f64>,
    pub address: Option<String>,
    pub country: Option<String>,
    /// Captured more than the staleness limit ago: the citizen may have moved.
    pub stale: bool,
    /// IANA time zone of the place, when known (for the request's local time).
    pub time_zone: Option<String>,
    /// The nearest city within 100 km and its province, in the officer's language
    /// (`清迈 (12 km) · 清迈府`).
    pub near: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AttachmentDto {
    pub name: String,
    pub media_type: String,
    pub size_bytes: f64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct EventDto {
    pub id: String,
    pub at: f64,
    /// `created`, `status_changed`, `assigned`, `priority_changed`, `note`, `merged`,
    /// `conflict`, `rejected`, `alerted`.
    pub kind: String,
    pub actor: Option<String>,
    /// `sync`, `desk`, `import`.
    pub origin: String,
    /// Kind-specific values (from, to, text, …) as plain strings.
    pub detail: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct OutboxDto {
    pub key: String,
    pub action: String,
    /// The action's values, e.g. `[("assignee", "li")]`.
    pub values: Vec<(String, String)>,
    /// `pending`, `confirmed`, `conflicted`, `rejected`, `dismissed`.
    pub state: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub base_version: f64,
    pub created_at: f64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct RequestDetail {
    pub id: String,
    pub version: f64,
    pub created_at: f64,
    pub updated_at: f64,
    pub channel: String,
    pub category: String,
    pub emergency: bool,
    pub priority: String,
    pub status: String,
    /// The statuses the officer may set from here (the protocol's legal moves; marking a
    /// duplicate has its own form), the current one first.
    pub next_statuses: Vec<String>,
    pub duplicate_of: Option<String>,
    pub people_count: u32,
    pub citizen: CitizenDto,
    pub location: Option<LocationDto>,
    /// Untrusted text: render as text only.
    pub description: String,
    pub attachments: Vec<AttachmentDto>,
    pub assignee: Option<String>,
    pub post: Option<String>,
    pub local_state: String,
    pub events: Vec<EventDto>,
    /// Actions of this desk on this request that are not simply confirmed.
    pub outbox: Vec<OutboxDto>,
    pub claimed_by: Vec<String>,
    /// Active advisories whose area contains the citizen's location.
    pub advisories: Vec<AdvisorySummary>,
}

/// A triage action from the detail panel.
#[derive(Debug, Clone, Deserialize, Serialize, TS)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ActionDto {
    Acknowledge,
    AssignToMe,
    Assign {
        assignee: String,
    },
    Unassign,
    SetPriority {
        priority: String,
    },
    SetStatus {
        status: String,
    },
    AddNote {
        text: String,
    },
    MarkDuplicate {
        of: String,
    },
    /// A message to the citizen (`template`: the post's template it started from).
    SendMessage {
        text: String,
        #[serde(default)]
        #[ts(optional)]
        template: Option<String>,
    },
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AdvisorySummary {
    pub id: f64,
    pub sender: String,
    pub identifier: String,
    /// `cap-1.2`, `cap-1.1`, `usgs-geojson`, `gdacs-rss`, `geojson`.
    pub source_format: String,
    /// `Actual`, `Exercise`, `System`, `Test`, `Draft`.
    pub status: String,
    /// `active`, `superseded`, `cancelled`, `expired`.
    pub state: String,
    pub severity: String,
    pub urgency: String,
    pub certainty: String,
    pub event: String,
    pub headline: Option<String>,
    pub description: Option<String>,
    pub instruction: Option<String>,
    pub language: String,
    pub languages: Vec<String>,
    pub sent: f64,
    pub expires: Option<f64>,
    pub area_desc: Vec<String>,
    /// `[west, south, east, north]` of all its shapes, for zooming to it.
    pub bounds: Option<(f64, f64, f64, f64)>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AdvisoryDetail {
    pub advisory: AdvisorySummary,
    /// Requests located inside its areas (open ones first), at most 500.
    pub requests: Vec<QueueRow>,
    pub requests_total: u32,
}

/// What one action on many requests did: each request is its own outbox item (and its own
/// audited action at the hub).
#[derive(Debug, Clone, Default, Serialize, TS)]
pub struct BulkOutcome {
    /// Changed here and queued for the hub.
    pub done: Vec<String>,
    /// Already as asked (e.g. already assigned to this officer): nothing queued.
    pub unchanged: Vec<String>,
    pub refused: Vec<BulkRefusal>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct BulkRefusal {
    pub id: String,
    pub code: crate::error::ErrorCode,
    pub message: String,
}

/// The requests of one map cluster, for a bulk pick.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ClusterMembers {
    /// How many requests the cluster holds.
    pub total: u32,
    /// The first of them in the queue's order, at most `MAX_BULK`.
    pub ids: Vec<String>,
}

/// The map's viewport (degrees) and zoom.
#[derive(Debug, Clone, Deserialize, Serialize, TS)]
pub struct Viewport {
    pub west: f64,
    pub south: f64,
    pub east: f64,
    pub north: f64,
    pub zoom: f64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SourceHealth {
    pub source: String,
    /// `hub` or `feed`.
    pub kind: String,
    /// `connected`, `polling`, `reconnecting`, `offline`.
    pub connection: String,
    pub last_success: Option<f64>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    pub lag_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SyncHealth {
    /// No hub is configured: the desk works from local data only.
    pub standalone: bool,
    pub sources: Vec<SourceHealth>,
    pub outbox_pending: u32,
    pub outbox_conflicted: u32,
    pub outbox_rejected: u32,
    pub quarantined: u32,
    /// The desk holds exercise data (a drill): the UI shows a permanent EXERCISE band.
    pub exercise: bool,
    /// The signed-in officer's name, as the hub knows it (once it has answered).
    pub signed_in: Option<String>,
    /// Why the hub ended this desk's session (revoked, expired): sign in again.
    pub session_ended: Option<String>,
    /// No officer is signed in to the hub (none yet, or the session ended): the window
    /// offers the sign-in.
    pub needs_sign_in: bool,
    /// The window is locked: citizens' data stays hidden until the password unlocks it.
    pub locked: bool,
    /// An officer's password can unlock this desk offline (so it may lock when idle).
    pub can_lock: bool,
    /// Seconds without input before the window locks (0: never).
    pub lock_after_s: u32,
}

/// The settings an officer changes in the window (the rest of `settings.json` stays as
/// the post's IT wrote it).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct DeskSettings {
    pub desk: String,
    pub officer: String,
    /// False when an officer is signed in: the desk acts as them.
    pub officer_editable: bool,
    pub watch_posts: Vec<String>,
    /// ISO 3166-1 alpha-2 codes.
    pub watch_countries: Vec<String>,
    pub escalate_after_minutes: u32,
    pub quiet: bool,
    /// Notifications show the start of the description (off: category, priority, city).
    pub notification_details: bool,
    /// 0: never.
    pub lock_after_minutes: u32,
    pub retention_days: u32,
}

/// One request on the hand-over page: no citizen's name, phone, address or description.
#[derive(Debug, Clone, Serialize, TS)]
pub struct HandoverItem {
    pub id: String,
    pub emergency: bool,
    pub priority: String,
    pub category: String,
    pub status: String,
    /// The nearest city and the country, never the address.
    pub city: String,
    pub created_at: f64,
    pub updated_at: f64,
    pub assignee: Option<String>,
}

/// The shift hand-over.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Handover {
    pub since: f64,
    pub until: f64,
    pub desk: String,
    pub officer: String,
    pub open: u32,
    pub open_emergencies: u32,
    pub by_status: Vec<(String, u32)>,
    /// Open and not yet acknowledged: emergencies first, then oldest first.
    pub unacknowledged: Vec<HandoverItem>,
    /// Changed during the shift, most recent first.
    pub changed: Vec<HandoverItem>,
}

/// An export written by the desk.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ExportDone {
    pub path: String,
    pub count: u32,
}

/// What the sign-in form sends. The password is never printed.
#[derive(Clone, Deserialize, TS)]
pub struct SignInForm {
    pub hub: String,
    pub officer: String,
    pub password: String,
}

impl std::fmt::Debug for SignInForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInForm")
            .field("hub", &self.hub)
            .field("officer", &self.officer)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Bucket {
    pub start: f64,
    pub count: u32,
    pub emergencies: u32,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Counts {
    pub total: u32,
    pub open_emergencies: u32,
    pub by_status: Vec<(String, u32)>,
    pub by_category: Vec<(String, u32)>,
    pub by_country: Vec<(String, u32)>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AppInfo {
    pub version: String,
    pub desk: String,
    pub officer: String,
    pub hub: Option<String>,
    /// `zh` or `en`.
    pub language: String,
    pub data_dir: String,
    pub posts: Vec<String>,
    pub countries: Vec<String>,
}

/// Something in the store changed; the UI refetches what it shows.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RequestsChanged {
    pub ids: Vec<String>,
    /// `pull`, `stream`, `outbox`, `desk`, `import`.
    pub origin: String,
}

/// An alert as the window shows it (banner) and sounds it (alarm).
#[derive(Debug, Clone, Serialize, TS)]
pub struct AlertEvent {
    /// `alert`, `escalation`, `summary`, `advisory`, `test`.
    pub kind: String,
    pub request_id: Option<String>,
    /// In both languages: the banner keeps showing the latest alert after the officer
    /// switches language (the notification itself went out in the desk's language then).
    pub title: InBothLanguages,
    pub body: InBothLanguages,
    pub level: u32,
    pub at: f64,
}

/// One text in each language of the UI.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct InBothLanguages {
    pub en: String,
    pub zh: String,
}

/// The alarm sounds while an alerted emergency is unacknowledged.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct AlarmState {
    pub active: bool,
    /// The highest escalation level among the unacknowledged (1 first alert).
    pub level: u32,
    pub count: u32,
    pub oldest_id: Option<String>,
    pub oldest_created_at: Option<f64>,
    /// The alarm's sound is snoozed until then (ms); the banner stays. A new emergency
    /// ends the snooze.
    pub snoozed_until: Option<f64>,
    /// Who snoozed it.
    pub snoozed_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct DecisionDto {
    pub at: f64,
    pub subject: String,
    /// `alerted`, `escalated`, `summarized`, `suppressed`, `delivery_failed`, `tested`.
    pub decision: String,
    /// `new_emergency`, `new_critical`, `burst`, `escalation`, `severe_advisory`,
    /// `outside_watch_area`, `already_alerted`, `acknowledged_elsewhere`, `quiet_hours`,
    /// `not_actual`, `test`, or a delivery error.
    pub reason: String,
    pub title: Option<String>,
    pub level: u32,
}

/// Whether desktop notifications can be shown at all (the session's notification server).
#[derive(Debug, Clone, Serialize, TS)]
pub struct NotificationHealth {
    pub available: bool,
    /// e.g. `dunst 1.9.0 (dunst-project.org)`.
    pub server: Option<String>,
    pub error: Option<String>,
    pub checked_at: f64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AlertStatus {
    pub alarm: AlarmState,
    pub notifications: NotificationHealth,
    pub decisions: Vec<DecisionDto>,
    pub quiet: bool,
    pub escalate_after_s: f64,
    /// Posts and countries watched; with `watch_region`, empty means everywhere.
    pub watch: Vec<String>,
    pub watch_region: Option<Region>,
}

/// A region on the map; `west > east` crosses the antimeridian.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS)]
pub struct Region {
    pub west: f64,
    pub south: f64,
    pub east: f64,
    pub north: f64,
}

/// A city or province found by name, to watch.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PlaceChoice {
    /// `city` or `subdivision`.
    pub kind: String,
    /// The ISO 3166-2 code of the province (a city's own, or its country's code).
    pub code: String,
    /// In the officer's language: `清迈 · 清迈府 · TH`, `清迈府 (TH-50)`.
    pub label: String,
    /// The box the desk watches when it is picked.
    pub region: Region,
}
