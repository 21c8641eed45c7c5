//! What can go wrong in the store, one variant per step, with a transient/permanent split
//! that callers use to decide whether to retry.

use std::path::PathBuf;

use crate::model::{ActionError, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot open the database at {path}: {source}. Check that the folder is writable and not on a full disk"
    )]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot create {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("updating the database to schema {version} failed: {source}")]
    Migration {
        version: i64,
        source: rusqlite::Error,
    },
    #[error(
        "the database is at schema {found}, newer than this Lifeline understands ({known}); update Lifeline or open another database"
    )]
    TooNew { found: i64, known: i64 },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored {what} is unreadable: {reason}")]
    Corrupt { what: String, reason: String },
    #[error("no request with id {0}")]
    RequestNotFound(String),
    #[error("no outbox item with key {0}")]
    OutboxItemNotFound(String),
    #[error("no request {0} on this desk to be the original of a duplicate")]
    UnknownOriginal(String),
    #[error("{0}")]
    Action(#[from] ActionError),
    #[error("invalid record: {0}")]
    Invalid(#[from] FieldError),
    #[error("a thread panicked while holding the database; restart Lifeline")]
    Poisoned,
    #[error("the request index is not enabled on this store (call enable_index first)")]
    IndexNotEnabled,
    #[error(
        "the key does not open {0}: this is not the key the data was encrypted with. Nothing was changed; restore the right key (the OS keyring, or the post's recovery key)"
    )]
    WrongKey(std::path::PathBuf),
    #[error(
        "{0} is encrypted and no key was given: open it from the desk that holds its key, or with the post's recovery key"
    )]
    Encrypted(std::path::PathBuf),
}

impl StoreError {
    /// Transient errors (the database was busy or locked) may succeed on retry; every other
    /// error will fail the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Sqlite(e) | StoreError::Open { source: e, .. } => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            _ => false,
        }
    }

    pub(crate) fn corrupt(what: impl Into<String>, reason: impl ToString) -> StoreError {
        StoreError::Corrupt {
            what: what.into(),
            reason: reason.to_string(),
        }
    }
}
