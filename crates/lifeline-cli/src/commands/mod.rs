//! One module per command.

pub mod advisories;
pub mod export;
pub mod import;
pub mod maps;
pub mod messages;
pub mod outbox;
pub mod quarantine;
pub mod requests;
pub mod stats;
pub mod sync;
