//! The append-only log of what happened to a request.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::request::{Priority, Status};
use super::vocabulary::vocabulary;

vocabulary! {
    /// Where a change came from: the hub (through sync), this desk, or a file import.
    pub enum Origin as "origin" {
        Sync = "sync",
        Desk = "desk",
        Import = "import",
    }
}

/// What happened. Serialized as a tagged JSON object in the store and on the wire, so the
/// log can gain kinds without a migration.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CaseEventKind {
    Created,
    StatusChanged {
        from: Status,
        to: Status,
    },
    Assigned {
        from: Option<String>,
        to: Option<String>,
    },
    PriorityChanged {
        from: Priority,
        to: Priority,
    },
    Note {
        text: String,
    },
    /// Marked as a duplicate of (merged into) another request.
    Merged {
        into: String,
    },
    /// The hub refused a desk's action because the request had changed: both versions kept.
    Conflict {
        action: serde_json::Value,
        ours_base_version: i64,
        theirs_version: i64,
        theirs_summary: String,
    },
    /// The hub rejected a desk's action as invalid (not a version conflict).
    Rejected {
        action: serde_json::Value,
        reason: String,
    },
    /// The officer took back (undid) a desk's action before it was sent to the hub.
    Withdrawn {
        action: serde_json::Value,
    },
    /// A supervisor moved the request to another post (`None`: no post covered it).
    Transferred {
        from: Option<String>,
        to: String,
    },
    /// A kind this version does not know (a newer hub's): kept as an entry in the log
    /// instead of refusing the whole record.
    #[serde(other)]
    Unknown,
}

/// Names the kind only: a note or an action's values may hold personal data, which never
/// goes into a log line or a panic.
impl std::fmt::Debug for CaseEventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CaseEventKind::{}", self.name())
    }
}

impl CaseEventKind {
    /// The short name stored in the `kind` column and used by filters.
    pub fn name(&self) -> &'static str {
        match self {
            CaseEventKind::Created => "created",
            CaseEventKind::StatusChanged { .. } => "status_changed",
            CaseEventKind::Assigned { .. } => "assigned",
            CaseEventKind::PriorityChanged { .. } => "priority_changed",
            CaseEventKind::Note { .. } => "note",
            CaseEventKind::Merged { .. } => "merged",
            CaseEventKind::Conflict { .. } => "conflict",
            CaseEventKind::Rejected { .. } => "rejected",
            CaseEventKind::Withdrawn { .. } => "withdrawn",
            CaseEventKind::Transferred { .. } => "transferred",
            CaseEventKind::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseEvent {
    /// The hub's id for the event (events from sync), or a local id for desk-only events.
    pub id: String,
    pub request_id: String,
    pub kind: CaseEventKind,
    pub actor: Option<String>,
    pub at: DateTime<Utc>,
    pub origin: Origin,
}
