//! Triage actions: the only ways a desk changes a request.
//!
//! The hub and the desk both apply actions through [`TriageAction::apply`], so an action
//! queued offline and applied locally produces exactly what the hub will produce.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::case_event::CaseEventKind;
use super::request::{HelpRequest, MAX_SHORT_BYTES, MAX_TEXT_BYTES, Priority, Status, check_id};
use super::{FieldError, check_text};

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum TriageAction {
    Acknowledge,
    /// `assignee: None` removes the assignment.
    Assign {
        assignee: Option<String>,
    },
    SetPriority {
        priority: Priority,
    },
    SetStatus {
        status: Status,
    },
    AddNote {
        text: String,
    },
    MarkDuplicate {
        of: String,
    },
    /// A message to the citizen (see `model::message`): it changes no field of the request;
    /// the hub stores it on the thread for the channel to carry.
    SendMessage {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ActionError {
    #[error("cannot move a request from {from} to {to}")]
    InvalidTransition { from: Status, to: Status },
    #[error("a request cannot be a duplicate of itself")]
    DuplicateOfItself,
    #[error("use mark_duplicate to mark a duplicate (it needs the original's id)")]
    DuplicateNeedsTarget,
    #[error(transparent)]
    Field(#[from] FieldError),
}

/// Names the action only: a note's text may hold personal data, never printed in a log.
impl std::fmt::Debug for TriageAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TriageAction::{}", self.name())
    }
}

impl TriageAction {
    pub fn name(&self) -> &'static str {
        match self {
            TriageAction::Acknowledge => "acknowledge",
            TriageAction::Assign { .. } => "assign",
            TriageAction::SetPriority { .. } => "set_priority",
            TriageAction::SetStatus { .. } => "set_status",
            TriageAction::AddNote { .. } => "add_note",
            TriageAction::MarkDuplicate { .. } => "mark_duplicate",
            TriageAction::SendMessage { .. } => "send_message",
        }
    }

    /// Notes and messages commute with every other change, so they never conflict; every
    /// other action is checked against the version the officer saw.
    pub fn is_commutative(&self) -> bool {
        matches!(
            self,
            TriageAction::AddNote { .. } | TriageAction::SendMessage { .. }
        )
    }

    /// Checks the action on its own (sizes, ids), before any request is involved.
    pub fn validate(&self) -> Result<(), ActionError> {
        match self {
            TriageAction::Assign { assignee: Some(a) } => {
                check_text("assignee", a, MAX_SHORT_BYTES)?
            }
            TriageAction::AddNote { text } => {
                check_text("text", text, MAX_TEXT_BYTES)?;
                if text.trim().is_empty() {
                    return Err(FieldError::new("text", "a note cannot be empty").into());
                }
            }
            TriageAction::MarkDuplicate { of } => check_id("of", of)?,
            TriageAction::SendMessage { text, template } => {
                check_text("text", text, super::message::MAX_MESSAGE_BYTES)?;
                if text.trim().is_empty() {
                    return Err(FieldError::new("text", "a message cannot be empty").into());
                }
                if let Some(t) = template {
                    check_text("template", t, MAX_SHORT_BYTES)?;
                }
            }
            TriageAction::SetStatus {
                status: Status::Duplicate,
            } => return Err(ActionError::DuplicateNeedsTarget),
            _ => {}
        }
        Ok(())
    }

    /// Applies the action to `request` as `actor` at `at`, returning the changed request
    /// (same `version`: only the hub assigns versions) and the events that record it.
    /// An action that changes nothing (acknowledging an acknowledged request) returns no
    /// events.
    pub fn apply(
        &self,
        request: &HelpRequest,
        at: DateTime<Utc>,
    ) -> Result<(HelpRequest, Vec<CaseEventKind>), ActionError> {
        self.validate()?;
        let mut next = request.clone();
        let mut events = Vec::new();
        let move_to = |next: &mut HelpRequest, to: Status, events: &mut Vec<CaseEventKind>| {
            if next.status == to {
                return Ok(());
            }
            if !next.status.can_move_to(to) {
                return Err(ActionError::InvalidTransition {
                    from: next.status,
                    to,
                });
            }
            events.push(CaseEventKind::StatusChanged {
                from: next.status,
                to,
            });
            next.status = to;
            if to != Status::Duplicate {
                next.duplicate_of = None;
            }
            Ok(())
        };
        match self {
            TriageAction::Acknowledge => {
                if next.status == Status::New {
                    move_to(&mut next, Status::Acknowledged, &mut events)?;
                }
            }
            TriageAction::Assign { assignee } => {
                if next.assignee != *assignee {
                    events.push(CaseEventKind::Assigned {
                        from: next.assignee.clone(),
                        to: assignee.clone(),
                    });
                    next.assignee = assignee.clone();
                }
            }
            TriageAction::SetPriority { priority } => {
                if next.priority != *priority {
                    events.push(CaseEventKind::PriorityChanged {
                        from: next.priority,
                        to: *priority,
                    });
                    next.priority = *priority;
                }
            }
            TriageAction::SetStatus { status } => move_to(&mut next, *status, &mut events)?,
            TriageAction::AddNote { text } => {
                events.push(CaseEventKind::Note { text: text.clone() })
            }
            TriageAction::MarkDuplicate { of } => {
                if *of == request.id {
                    return Err(ActionError::DuplicateOfItself);
                }
                if next.duplicate_of.as_deref() != Some(of) {
                    move_to(&mut next, Status::Duplicate, &mut events)?;
                    next.duplicate_of = Some(of.clone());
                    events.push(CaseEventKind::Merged { into: of.clone() });
                }
            }
            // The message is the change, kept on the thread; the request stays as it is.
            TriageAction::SendMessage { .. } => {}
        }
        if !events.is_empty() {
            next.updated_at = at;
        }
        Ok((next, events))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::request::{Category, Channel, Citizen};

    fn request() -> HelpRequest {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        HelpRequest {
            id: "r-1".into(),
            channel: Channel::App,
            category: Category::Medical,
            emergency: true,
            priority: Priority::High,
            status: Status::New,
            duplicate_of: None,
            citizen: Citizen {
                name: "Li Na".into(),
                ..Citizen::default()
            },
            people_count: 1,
            location: None,
            description: String::new(),
            attachments: vec![],
            assignee: None,
            post: None,
            created_at: t,
            updated_at: t,
            version: 3,
        }
    }

    #[test]
    fn acknowledge_moves_new_and_is_idempotent() {
        let now = chrono::Utc::now();
        let (acked, events) = TriageAction::Acknowledge
            .apply(&request(), now)
            .expect("ack applies");
        assert_eq!(acked.status, Status::Acknowledged);
        assert_eq!(events.len(), 1);
        assert_eq!(acked.version, 3, "only the hub assigns versions");
        let (again, events) = TriageAction::Acknowledge
            .apply(&acked, now)
            .expect("second ack applies");
        assert_eq!(again.status, Status::Acknowledged);
        assert!(events.is_empty(), "acknowledging twice records nothing new");
    }

    #[test]
    fn mark_duplicate_sets_target_and_refuses_itself() {
        let now = chrono::Utc::now();
        let (dup, events) = TriageAction::MarkDuplicate { of: "r-0".into() }
            .apply(&request(), now)
            .expect("duplicate applies");
        assert_eq!(dup.status, Status::Duplicate);
        assert_eq!(dup.duplicate_of.as_deref(), Some("r-0"));
        assert_eq!(events.len(), 2, "a status change and a merge: {events:?}");
        assert!(matches!(
            TriageAction::MarkDuplicate { of: "r-1".into() }.apply(&request(), now),
            Err(ActionError::DuplicateOfItself)
        ));
        let (reopened, _) = TriageAction::SetStatus {
            status: Status::InProgress,
        }
        .apply(&dup, now)
        .expect("reopen applies");
        assert_eq!(
            reopened.duplicate_of, None,
            "reopening clears the duplicate link"
        );
    }

    #[test]
    fn invalid_transition_is_refused() {
        let mut r = request();
        r.status = Status::InProgress;
        let err = TriageAction::SetStatus {
            status: Status::New,
        }
        .apply(&r, chrono::Utc::now());
        assert!(
            matches!(err, Err(ActionError::InvalidTransition { .. })),
            "{err:?}"
        );
    }
}
