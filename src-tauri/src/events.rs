//! Events pushed to the UI (it never polls). Namespaced, small payloads that say what
//! changed and where the change came from; the UI refetches what it shows.

/// Requests changed: payload `RequestsChanged { ids, origin }`.
pub const REQUESTS_CHANGED: &str = "desk:requests-changed";
/// Sync health changed: payload `SyncHealth`.
pub const SYNC_HEALTH: &str = "desk:sync-health";
/// Advisories changed: no payload.
pub const ADVISORIES_CHANGED: &str = "desk:advisories-changed";
/// Claims changed: no payload.
pub const CLAIMS_CHANGED: &str = "desk:claims-changed";
/// The in-memory index is built: queue and map can show everything.
pub const INDEX_READY: &str = "desk:index-ready";
/// Region packs were added or removed: no payload. The map reloads its street layers.
pub const MAP_PACKS_CHANGED: &str = "desk:map-packs-changed";
