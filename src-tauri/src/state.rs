//! The desk's running state: the store, the sync engine, the settings, and the caches the
//! commands share.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use chrono::Utc;
use lifeline_core::Store;
use lifeline_core::store::{AdvisoryRow, IndexBuild};
use lifeline_sync::{ChangeOrigin, HubAuth, Stop, StopHandle, SyncEngine, SyncEvent};
use tauri::{AppHandle, Emitter, Manager};

use crate::alerts::AlertService;
use crate::dto::RequestsChanged;
use crate::events;
use crate::session::DeskSession;
use crate::settings::Settings;

pub struct Desk {
    pub store: Arc<Store>,
    pub settings: RwLock<Settings>,
    /// The running sync engine (replaced when an officer signs in from the window).
    engine: RwLock<Option<SyncEngine>>,
    stop: Mutex<Option<StopHandle>>,
    app: AppHandle,
    /// Who works at this desk: sign-in, the kept session, the idle lock.
    pub session: Arc<DeskSession>,
    index_ready: Arc<AtomicBool>,
    /// Active advisories with their areas, for "which advisories cover this point", and the
    /// generation of advisories it was read at.
    advisory_cache: Mutex<Option<(u64, Arc<Vec<AdvisoryRow>>)>>,
    /// Bumped whenever advisories change (by sync or import).
    advisories_generation: Arc<AtomicU64>,
    key_counter: AtomicU64,
    pub alerts: Arc<AlertService>,
    /// Keeps the store's query index (text, spatial, filters) caught up in the background.
    _indexer: lifeline_core::store::IndexerHandle,
}

fn origin_name(o: ChangeOrigin) -> &'static str {
    match o {
        ChangeOrigin::Pull => "pull",
        ChangeOrigin::Stream => "stream",
        ChangeOrigin::Outbox => "outbox",
    }
}

impl Desk {
    /// Opens the desk: builds the in-memory index in the background (the window draws
    /// meanwhile), starts the query indexer, and starts the sync engine when a hub is
    /// configured and the desk has a way to sign in to it.
    pub fn start(
        app: &AppHandle,
        store: Arc<Store>,
        settings: Settings,
        alerts: Arc<AlertService>,
        session: Arc<DeskSession>,
    ) -> Result<Arc<Desk>, lifeline_sync::SyncError> {
        let index_ready = Arc::new(AtomicBool::new(false));
        {
            let (store, ready, app) = (Arc::clone(&store), Arc::clone(&index_ready), app.clone());
            std::thread::spawn(move || keep_request_index(&store, &ready, &app));
        }
        let indexer = store.spawn_indexer();
        {
            let store = Arc::clone(&store);
            std::thread::spawn(move || keep_memory_down(&store));
        }
        // Retention: closed requests older than the desk's setting are erased once the map's
        // index is built (finding them reads every request: at 10^6 that pass competed with
        // the first map frame) and twice a day after.
        {
            let (store, days) = (Arc::clone(&store), settings.retention_days);
            let ready = Arc::clone(&index_ready);
            std::thread::spawn(move || {
                let waiting = std::time::Instant::now();
                while !ready.load(Ordering::SeqCst)
                    && waiting.elapsed() < std::time::Duration::from_secs(120)
                {
                    std::thread::sleep(std::time::Duration::from_millis(250));
                }
                loop {
                    let before = Utc::now() - chrono::Duration::days(days);
                    match store.purge_closed(before) {
                        Ok(0) => {}
                        Ok(n) => tracing::warn!(
                            "retention: erased {n} requests closed over {days} days ago"
                        ),
                        Err(e) => tracing::error!("retention purge failed: {e}"),
                    }
                    std::thread::sleep(std::time::Duration::from_secs(12 * 3600));
                }
            });
        }
        let auth = session.hub_auth_at_start(&settings);
        let desk = Arc::new(Desk {
            store,
            settings: RwLock::new(settings),
            engine: RwLock::new(None),
            stop: Mutex::new(None),
            app: app.clone(),
            session,
            index_ready,
            advisory_cache: Mutex::new(None),
            advisories_generation: Arc::new(AtomicU64::new(0)),
            key_counter: AtomicU64::new(0),
            alerts,
            _indexer: indexer,
        });
        desk.start_engine(auth);
        desk.follow_hub_map_packs();
        Ok(desk)
    }

    /// Brings the region packs the hub hosts into the data folder's `maps`, in the
    /// background: shortly after start, then hourly (a minute after a failure; a download
    /// cut off resumes from what is on disk, even after a restart of the desk).
    fn follow_hub_map_packs(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let folder = self.settings().data_dir.join("maps");
        tauri::async_runtime::spawn(async move {
            let mut wait = std::time::Duration::from_secs(3);
            loop {
                tokio::time::sleep(wait).await;
                let Some(desk) = weak.upgrade() else { return };
                let Some(engine) = desk.engine() else {
                    wait = std::time::Duration::from_secs(30);
                    continue;
                };
                wait = match engine.sync_maps(&folder).await {
                    Ok(done) => {
                        if !done.updated.is_empty() {
                            tracing::info!("map packs from the hub: {}", done.updated.join(", "));
                            // A pack kept open reads the file it opened: the new one is
                            // opened at the next tile.
                            if let Some(packs) = desk.app.try_state::<Arc<crate::maps::MapPacks>>()
                            {
                                for id in &done.updated {
                                    packs.forget(id);
                                }
                            }
                            let _ = desk.app.emit(events::MAP_PACKS_CHANGED, ());
                        }
                        for (id, why) in &done.failed {
                            tracing::warn!("map pack {id} from the hub: {why}");
                        }
                        // A pack that failed (cut off, or not the hub's bytes) is tried again
                        // in ten minutes, not at once: a pack changed on the hub would
                        // otherwise be fetched again and again.
                        std::time::Duration::from_secs(if done.failed.is_empty() {
                            3600
                        } else {
                            600
                        })
                    }
                    Err(lifeline_sync::SyncError::NoHub) => std::time::Duration::from_secs(3600),
                    Err(e) => {
                        tracing::warn!("map packs from the hub: {e}");
                        std::time::Duration::from_secs(60)
                    }
                };
            }
        });
    }

    /// The running sync engine, if any.
    pub fn engine(&self) -> Option<SyncEngine> {
        self.engine.read().ok().and_then(|e| e.clone())
    }

    /// Starts the sync engine (stopping the one before): the hub with `auth`, when the
    /// settings name a hub and there is a credential, and the feeds. Without a credential
    /// the desk polls only its feeds until an officer signs in.
    pub fn start_engine(&self, auth: Option<HubAuth>) {
        if let Some(old) = self.stop.lock().ok().and_then(|mut s| s.take()) {
            old.stop();
        }
        let settings = self.settings();
        let hub = settings.hub_url.clone().zip(auth);
        if hub.is_none() && settings.feeds.is_empty() {
            return;
        }
        let emitter = self.app.clone();
        let generation = Arc::clone(&self.advisories_generation);
        let alerting = Arc::clone(&self.alerts);
        let mut builder = SyncEngine::builder(Arc::clone(&self.store))
            .desk(&settings.desk)
            .on_event(move |e| {
                if *e == SyncEvent::AdvisoriesChanged {
                    generation.fetch_add(1, Ordering::SeqCst);
                }
                forward(&emitter, e);
                alert_on(&alerting, e);
            });
        if let Some((url, auth)) = hub {
            builder = builder.hub_auth(url, auth);
        }
        if let Some(pem) = self.hub_ca() {
            builder = builder.extra_roots(vec![pem]);
        }
        for feed in &settings.feeds {
            builder = builder.feed(feed);
        }
        match builder.build() {
            Ok(built) => {
                let (handle, signal) = Stop::new();
                let runner = built.clone();
                tauri::async_runtime::spawn(async move { runner.run(signal).await });
                if let Ok(mut e) = self.engine.write() {
                    *e = Some(built);
                }
                if let Ok(mut s) = self.stop.lock() {
                    *s = Some(handle);
                }
            }
            // A hub the desk must not talk to (plain http:// off this computer, an
            // unreadable CA file): the desk opens on its local data and the health bar
            // says why it is not syncing.
            Err(e) => {
                tracing::error!("not syncing: {e}");
                if let Some(url) = settings
                    .hub_url
                    .as_deref()
                    .and_then(|h| lifeline_sync::hub_addresses(h).into_iter().next())
                {
                    let url = url.as_str();
                    let _ = self
                        .store
                        .ensure_source(url, lifeline_core::store::SourceKind::Hub);
                    let _ = self.store.record_source_failure(
                        url,
                        lifeline_core::store::SourceConnection::Offline,
                        &e.to_string(),
                        Utc::now(),
                    );
                }
            }
        }
    }

    /// The CA certificate (PEM) the settings name for the hub, besides the system's.
    pub fn hub_ca(&self) -> Option<Vec<u8>> {
        let ca = self.settings().hub_ca?;
        match std::fs::read(&ca) {
            Ok(pem) => Some(pem),
            Err(e) => {
                tracing::error!("cannot read the hub CA file {}: {e}", ca.display());
                None
            }
        }
    }

    pub fn index_ready(&self) -> bool {
        self.index_ready.load(Ordering::SeqCst)
    }

    pub fn settings(&self) -> Settings {
        self.settings
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Who acts from this desk, as recorded in the case log: `desk/officer`.
    pub fn actor(&self) -> String {
        let s = self.settings();
        format!("{}/{}", s.desk, s.officer)
    }

    /// A fresh idempotency key for an action of this desk.
    pub fn new_key(&self) -> String {
        let n = self.key_counter.fetch_add(1, Ordering::SeqCst);
        format!(
            "{}-{}-{n}",
            self.settings().desk,
            Utc::now().timestamp_micros()
        )
    }

    /// Active advisories with their areas (cached until advisories change).
    pub fn active_advisories(
        &self,
    ) -> Result<Arc<Vec<AdvisoryRow>>, lifeline_core::store::StoreError> {
        let generation = self.advisories_generation.load(Ordering::SeqCst);
        if let Ok(cache) = self.advisory_cache.lock()
            && let Some((built_at, rows)) = cache.as_ref()
            && *built_at == generation
        {
            return Ok(Arc::clone(rows));
        }
        let rows: Vec<AdvisoryRow> = self
            .store
            .advisories(false, Utc::now())?
            .into_iter()
            .filter(|r| r.state == lifeline_core::model::Lifecycle::Active)
            .collect();
        let rows = Arc::new(rows);
        if let Ok(mut cache) = self.advisory_cache.lock() {
            *cache = Some((generation, Arc::clone(&rows)));
        }
        Ok(rows)
    }
}

/// How often the desk looks whether the request index's snapshot is due.
const INDEX_SNAPSHOT_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// A snapshot is saved when this many changes came after it: a start reads each again, and
/// 10,000 take well under a tenth of a second (a fifth of what the store starts from at all).
const INDEX_SNAPSHOT_AFTER_CHANGES: i64 = 10_000;

/// ... or when any change came after it and it is this old. Why not more often: a save
/// writes the whole index (~30 MB at 10^6 requests) to the disk, and holds as much in memory
/// while it does; every five minutes, a busy desk wrote ~9 GB a day for a start that reads
/// a few hundred changes more.
const INDEX_SNAPSHOT_EVERY: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// Builds the in-memory request index (from the snapshot a previous run saved, when there
/// is a usable one), says when it is ready, and keeps its snapshot current: at once after a
/// build that had to read every request (the slow start is not repeated after a crash),
/// then after 10,000 changes or half an hour with any, and at exit (`lib.rs`).
fn keep_request_index(store: &Store, ready: &AtomicBool, app: &AppHandle) {
    let started = std::time::Instant::now();
    // Until it is built the queue, the counts and the map say "still indexing": a failure
    // (the store busy with another process, say) is tried again, never left so.
    let mut retry = std::time::Duration::from_secs(1);
    let build = loop {
        match store.enable_index() {
            Ok(build) => break build,
            Err(e) => {
                tracing::error!(
                    "cannot build the request index (trying again in {} s): {e}",
                    retry.as_secs()
                );
                std::thread::sleep(retry);
                retry = (retry * 2).min(std::time::Duration::from_secs(60));
            }
        }
    };
    ready.store(true, Ordering::SeqCst);
    let _ = app.emit(events::INDEX_READY, ());
    tracing::info!(
        "request index ready in {} ms ({build:?})",
        started.elapsed().as_millis()
    );
    if let IndexBuild::Full { refused: Some(why) } = &build {
        tracing::warn!("the request index's snapshot was not used: {why}");
    }
    let mut saved = std::time::Instant::now();
    let mut failures = 0u32;
    // After a full build, a snapshot at once; after a start from one, not before the window
    // has drawn (a save reads and writes the whole index).
    let mut wait = match build {
        IndexBuild::Full { .. } => std::time::Duration::ZERO,
        IndexBuild::FromSnapshot { .. } => INDEX_SNAPSHOT_CHECK_EVERY,
    };
    loop {
        std::thread::sleep(wait);
        wait = INDEX_SNAPSHOT_CHECK_EVERY;
        let due = match store.changes_since_index_snapshot() {
            // None yet (a full build): at once, so a crash does not repeat the slow start.
            Ok(None) => true,
            Ok(Some(changes)) => {
                changes >= INDEX_SNAPSHOT_AFTER_CHANGES
                    || (changes > 0 && saved.elapsed() >= INDEX_SNAPSHOT_EVERY)
            }
            Err(e) => {
                tracing::warn!("cannot tell how far the request index's snapshot is behind: {e}");
                false
            }
        };
        if due {
            if let Err(e) = store.save_index_snapshot() {
                // Tried again after a longer wait each time (a full disk stays full).
                failures += 1;
                wait = (INDEX_SNAPSHOT_CHECK_EVERY * 2u32.saturating_pow(failures))
                    .min(INDEX_SNAPSHOT_EVERY);
                tracing::warn!(
                    "cannot save the request index's snapshot (trying again in {} s): {e}",
                    wait.as_secs()
                );
            } else {
                failures = 0;
            }
            saved = std::time::Instant::now();
            // A save holds the snapshot's bytes and writes them through the query index
            // file's page cache (~30 MB at 10^6 requests): given back now, not at the next
            // release.
            release_memory(store);
        }
    }
}

/// How often the store's page caches and the allocator's free pages are given back. Every
/// 30 s let a drill on 10^6 requests grow the desk by up to ~20 MiB between two releases
/// (docs/PERFORMANCE.md); a release costs a few milliseconds, and what is needed again is
/// read back from the OS's file cache.
const RELEASE_MEMORY_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Every ten seconds, the store's page caches (`Store::release_memory`), then the free
/// pages the allocator holds: SQLite frees its pages in small blocks, which glibc keeps in
/// its arenas until asked to trim (see `main.rs` for its settings).
fn keep_memory_down(store: &Store) {
    loop {
        std::thread::sleep(RELEASE_MEMORY_EVERY);
        release_memory(store);
    }
}

/// The store's page caches, then the free pages the allocator holds.
fn release_memory(store: &Store) {
    if let Err(e) = store.release_memory() {
        tracing::warn!("cannot release the store's caches: {e}");
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only hands free pages back to the OS; any thread may call it.
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Sync events to the alert service, off the engine's task (the store work blocks).
fn alert_on(alerts: &Arc<AlertService>, e: &SyncEvent) {
    let alerts = Arc::clone(alerts);
    match e {
        SyncEvent::RequestsChanged { ids, origin } => {
            let (ids, from_hub) = (ids.clone(), *origin != ChangeOrigin::Outbox);
            tauri::async_runtime::spawn_blocking(move || {
                alerts.on_requests_changed(&ids, from_hub)
            });
        }
        SyncEvent::AdvisoriesChanged => {
            tauri::async_runtime::spawn_blocking(move || alerts.on_advisories_changed());
        }
        _ => {}
    }
}

/// Sync engine events to UI events.
fn forward(app: &AppHandle, e: &SyncEvent) {
    let _ = match e {
        SyncEvent::RequestsChanged { ids, origin } => app.emit(
            events::REQUESTS_CHANGED,
            RequestsChanged {
                ids: ids.clone(),
                origin: origin_name(*origin).into(),
            },
        ),
        SyncEvent::OutboxChanged | SyncEvent::HealthChanged => app.emit(events::SYNC_HEALTH, ()),
        SyncEvent::AdvisoriesChanged => app.emit(events::ADVISORIES_CHANGED, ()),
        SyncEvent::ClaimsChanged => app.emit(events::CLAIMS_CHANGED, ()),
    };
}
