//! Lifeline's core: everything the desk knows and decides, with no UI and no network.
//!
//! * [`model`] — help requests, advisories, case events, triage actions and their invariants.
//! * [`geo`] — boxes across the antimeridian, point-in-polygon with holes, circles, places.
//! * [`store`] — the local SQLite database: migrations, batch upserts, queries, outbox,
//!   quarantine, sync state, alert ledger.
//! * [`protocol`] — the JSON shapes of the sync protocol shared by hub, desk and CLI.
//! * [`mapindex`] — the in-memory point grid that clusters requests per map viewport.
//! * [`synth`] — reproducible synthetic requests for drills, benchmarks and tests.
//! * [`alert`] — the alert policy: pure decisions, tested as a table.
//!
//! This crate must never depend on Tauri (CI checks `cargo tree`): the desk, the CLI and the
//! hub all build on it.

pub mod alert;
pub mod cap_alert;
pub mod geo;
pub mod hex;
pub mod mapindex;
pub mod maps;
pub mod markup;
pub mod model;
pub mod privacy;
pub mod protocol;
pub mod store;
pub mod synth;

pub use store::Store;
