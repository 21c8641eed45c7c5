//! The domain model: help requests, advisories, the case-event log and triage actions.
//!
//! These types are plain data with their invariants (`validate`) and are deliberately not
//! `Serialize`: each boundary (store, protocol, CLI, UI) has its own representation, so a
//! change of one cannot silently change the others. Closed vocabularies are the exception:
//! their one spelling is shared everywhere (see [`vocabulary`]).

/// `Debug` for a type holding personal data: the fields before `;` are shown, those after
/// are named but not shown. Log lines, panics and test failures must never print a
/// citizen's name, phone, document number, address or description.
#[macro_export]
macro_rules! private_debug {
    ($t:ident { $($shown:ident),* $(,)? ; $($hidden:ident),* $(,)? }) => {
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($t))
                    $(.field(stringify!($shown), &self.$shown))*
                    $(.field(stringify!($hidden), &"<personal>"))*
                    .finish()
            }
        }
    };
}

pub mod action;
pub mod advisory;
pub mod case_event;
pub mod media;
pub mod message;
pub mod request;
pub mod templates;
pub mod vocabulary;

pub use action::{ActionError, TriageAction};
pub use advisory::*;
pub use case_event::{CaseEvent, CaseEventKind, Origin};
pub use media::{MediaFamily, MediaRef};
pub use message::{Delivery, Direction, Message, MessageKind};
pub use request::{
    Attachment, Category, Channel, Citizen, HelpRequest, Location, Priority, Status,
};

/// A field of a record broke an invariant. The message says which field and why, so a
/// quarantined record tells the officer what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Text fields: bounded size and no control characters other than line breaks and tabs
/// (they would corrupt CSV exports and terminal output).
pub(crate) fn check_text(field: &str, text: &str, max_bytes: usize) -> Result<(), FieldError> {
    if text.len() > max_bytes {
        return Err(FieldError::new(
            field,
            format!("is {} bytes; at most {max_bytes} are allowed", text.len()),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FieldError::new(field, "contains control characters"));
    }
    Ok(())
}
