//! The one error shape the UI receives: `{code, message}`. The UI branches on `code` (a
//! closed set), never on the text; the text says what to do next.

use lifeline_core::store::StoreError;
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request, advisory or item does not exist (any more).
    NotFound,
    /// A value from the UI was not acceptable (an unknown status, an empty note).
    InvalidInput,
    /// The action cannot apply to the request as it is (e.g. reopening to `new`).
    InvalidAction,
    /// The local database failed; retrying may help if it was busy.
    Storage,
    /// The desk is still starting (building its index).
    NotReady,
    /// The hub could not be reached; the desk keeps working offline.
    Network,
    /// The action already left the outbox: the hub has answered it, so it cannot be undone.
    AlreadySent,
    /// The window is locked: unlock with the officer's password first.
    DeskLocked,
    /// The original named for a duplicate is not on this desk.
    UnknownOriginal,
    /// A sign-in or unlock with a wrong officer id or password.
    WrongCredentials,
    /// Too many failed tries: the account (at the hub) or the unlock (here) waits.
    TooManyTries,
    /// The officer's account is disabled at the hub.
    AccountDisabled,
    /// The hub refused: the officer's role does not allow it (publishing advisories is a
    /// supervisor's).
    Forbidden,
    /// The hub's address would carry personal data in the clear, or its certificate is not
    /// trusted.
    InsecureHub,
    Internal,
}

#[derive(Debug, Clone, Serialize, TS, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
}

impl CommandError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> CommandError {
        CommandError {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> CommandError {
        CommandError::new(ErrorCode::InvalidInput, message)
    }
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> CommandError {
        let code = match &e {
            StoreError::RequestNotFound(_) | StoreError::OutboxItemNotFound(_) => {
                ErrorCode::NotFound
            }
            StoreError::UnknownOriginal(_) => ErrorCode::UnknownOriginal,
            StoreError::Action(_) => ErrorCode::InvalidAction,
            StoreError::Invalid(_) => ErrorCode::InvalidInput,
            StoreError::IndexNotEnabled => ErrorCode::NotReady,
            _ => ErrorCode::Storage,
        };
        CommandError::new(code, e.to_string())
    }
}

impl From<lifeline_sync::SyncError> for CommandError {
    fn from(e: lifeline_sync::SyncError) -> CommandError {
        if let lifeline_sync::SyncError::Http(h) = &e
            && h.status() == Some(403)
        {
            return CommandError::new(ErrorCode::Forbidden, e.to_string());
        }
        CommandError::new(ErrorCode::Network, e.to_string())
    }
}

pub type CommandResult<T> = Result<T, CommandError>;
