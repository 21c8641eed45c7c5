//! The thread with the citizen, its files, templates and safety reminders, as the UI sees them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One message of a thread. Citizen text: shown as text only.
#[derive(Debug, Clone, Serialize, TS)]
pub struct MessageDto {
    pub id: String,
    /// `in` (the citizen) or `out` (an officer).
    pub direction: String,
    /// `text`, `location`, `image`, `voice` or `video`.
    pub kind: String,
    pub text: String,
    pub template: Option<String>,
    pub author: Option<String>,
    /// `pending`, `queued`, `sent`, `delivered`, `read`, `failed`, `received`.
    pub delivery: String,
    pub failure: Option<String>,
    /// Milliseconds since the epoch, UTC.
    pub created_at: f64,
    /// `[lat, lon]` of a location message.
    pub position: Option<Vec<f64>>,
    /// The file of a photo, voice or video message.
    pub media: Option<MessageMediaDto>,
}

/// The file a message carries, before it is opened. The name is the citizen's: text only.
#[derive(Debug, Clone, Serialize, TS)]
pub struct MessageMediaDto {
    pub media_type: String,
    pub size_bytes: f64,
    pub name: Option<String>,
}

/// An opened file: where the web view finds it (`convertFileSrc(path, scheme)`), and the
/// position a photo says it was taken at.
#[derive(Debug, Clone, Serialize, TS)]
pub struct MediaDto {
    pub scheme: String,
    /// `None`: a photo the desk could not decode (nothing to show).
    pub path: Option<String>,
    pub media_type: String,
    pub size_bytes: f64,
    /// `[lat, lon]` from the photo's EXIF: a hint, not the citizen's reported position.
    pub gps: Option<Vec<f64>>,
}

/// A post's message template, in both languages.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TemplateDto {
    pub name: String,
    pub zh: String,
    pub en: String,
}

/// The thread of a request, oldest first.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ThreadDto {
    pub messages: Vec<MessageDto>,
}

/// Where a safety reminder goes: an advisory's areas, a box on the map
/// (`[west, south, east, north]`), a drawn polygon (`[lon, lat]` corners) or a drawn circle
/// (`[lon, lat, radius_m]`). Exactly one.
#[derive(Debug, Clone, Deserialize, Serialize, TS)]
pub struct ReminderArea {
    #[serde(default)]
    #[ts(optional)]
    pub advisory: Option<f64>,
    #[serde(default)]
    #[ts(optional)]
    pub bbox: Option<Vec<f64>>,
    #[serde(default)]
    #[ts(optional)]
    pub polygon: Option<Vec<[f64; 2]>>,
    #[serde(default)]
    #[ts(optional)]
    pub circle: Option<[f64; 3]>,
}
