//! The engine: its types, state and the run loop. The jobs live beside it, one file each:
//! `builder.rs` (configuration), `pull.rs` (cursor pages), `stream.rs` (the event stream),
//! `outbox.rs` (this desk's actions and claims), `feeds.rs` (advisory feeds).

mod builder;
mod feeds;
mod maps;
mod media;
mod outbox;
mod pull;
mod stream;

pub use builder::SyncEngineBuilder;
pub use maps::MapSync;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use lifeline_core::Store;
use lifeline_core::store::{SourceConnection, SourceKind, StoreError};
use tokio::sync::{Notify, watch};

use crate::backoff::Backoff;
use crate::http::{Http, HttpError};
use crate::session::{HubAuth, SessionError};

/// What the engine tells its observers (the desk forwards these to the UI and the alert
/// policy). Small payloads: what changed, not the data.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    RequestsChanged {
        ids: Vec<String>,
        origin: ChangeOrigin,
    },
    OutboxChanged,
    AdvisoriesChanged,
    ClaimsChanged,
    HealthChanged,
}

/// Where a change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOrigin {
    /// A page pulled from the hub.
    Pull,
    /// The hub's live stream.
    Stream,
    /// The hub's answer to this desk's own action.
    Outbox,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no hub is configured: give one with --hub URL or in the settings")]
    NoHub,
    #[error("the hub's event stream is not available ({0}); polling instead")]
    StreamUnavailable(String),
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The event stream was open and then failed: the hub was reachable, so the backoff
    /// starts again from its shortest wait.
    #[error("the hub's event stream broke off: {0}")]
    StreamLost(Box<SyncError>),
    /// The hub sent a file that is not the one asked for, or not one the desk shows.
    #[error("the file from the hub was refused: {0}")]
    BadMedia(String),
    /// A region pack from the hub could not be brought in (it is tried again later).
    #[error("map pack: {0}")]
    MapPack(String),
}

impl SyncError {
    fn is_transient(&self) -> bool {
        match self {
            SyncError::Http(e) => e.is_transient(),
            SyncError::Store(e) => e.is_transient(),
            SyncError::NoHub => false,
            SyncError::StreamUnavailable(_) => true,
            SyncError::Session(e) => e.is_transient(),
            SyncError::StreamLost(inner) => inner.is_transient(),
            SyncError::BadMedia(_) => false,
            SyncError::MapPack(_) => true,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            SyncError::Http(e) => e.retry_after(),
            SyncError::StreamLost(inner) => inner.retry_after(),
            _ => None,
        }
    }

    /// The hub's address in use did not answer at all (or said it cannot serve now),
    /// also when refreshing the session: another address of the same hub may.
    fn unreachable(&self) -> bool {
        match self.root() {
            SyncError::Http(h) | SyncError::Session(SessionError::Http(h)) => h.is_unreachable(),
            _ => false,
        }
    }

    /// The error itself, through [`SyncError::StreamLost`].
    fn root(&self) -> &SyncError {
        match self {
            SyncError::StreamLost(inner) => inner.root(),
            other => other,
        }
    }
}

/// Fires a [`Stop`].
#[derive(Debug)]
pub struct StopHandle(watch::Sender<bool>);

/// Tells a running engine to finish.
#[derive(Debug, Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    pub fn new() -> (StopHandle, Stop) {
        let (tx, rx) = watch::channel(false);
        (StopHandle(tx), Stop(rx))
    }

    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }

    pub async fn stopped(&mut self) {
        while !*self.0.borrow() {
            if self.0.changed().await.is_err() {
                return;
            }
        }
    }
}

impl StopHandle {
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

type Observer = Arc<dyn Fn(&SyncEvent) + Send + Sync>;

struct Hub {
    /// Every address of the hub (replicas of one database behind it), never empty. A cursor
    /// from one is good at every other.
    addresses: Vec<String>,
    /// The address in use now (an index into `addresses`, modulo its length).
    current: std::sync::atomic::AtomicUsize,
    /// Addresses that failed since the hub last answered.
    failed_since_answer: std::sync::atomic::AtomicUsize,
    auth: HubAuth,
}

impl Hub {
    /// The hub as this desk knows it: its first address, under which its cursor and its
    /// health are kept whichever address serves.
    fn url(&self) -> &str {
        &self.addresses[0]
    }

    /// The address in use now.
    fn base(&self) -> &str {
        let i = self.current.load(std::sync::atomic::Ordering::Relaxed);
        &self.addresses[i % self.addresses.len()]
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    /// The address in use did not answer: the next one serves from now on, and whether it
    /// has not failed since the hub last answered. `None` when the hub has one address only.
    fn fail_over(&self) -> Option<(&str, bool)> {
        use std::sync::atomic::Ordering::Relaxed;
        if self.addresses.len() < 2 {
            return None;
        }
        self.current.fetch_add(1, Relaxed);
        let failed = self.failed_since_answer.fetch_add(1, Relaxed) + 1;
        Some((self.base(), failed < self.addresses.len()))
    }

    /// The hub answered: every address may be tried at once again after the next failure.
    fn answered(&self) {
        self.failed_since_answer
            .store(0, std::sync::atomic::Ordering::Relaxed);
    }
}

struct Inner {
    store: Arc<Store>,
    hub: Option<Hub>,
    feeds: Vec<String>,
    desk: String,
    page_size: u32,
    poll_interval: Duration,
    feed_interval: Duration,
    http: Http,
    observers: Vec<Observer>,
    outbox_wake: Notify,
    /// Wakes the feed task to poll every feed now (the hub said its advisories changed).
    feeds_wake: Notify,
    backoff: (Duration, Duration),
    feed_polled: Mutex<HashMap<String, Instant>>,
    /// Feeds whose linked documents may come from other hosts.
    foreign_links: Vec<String>,
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OnceReport {
    pub pulled: u64,
    pub quarantined: u64,
    pub actions_sent: u64,
    pub feeds_polled: u64,
}

#[derive(Clone)]
pub struct SyncEngine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SyncEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncEngine")
            .field("hub", &self.inner.hub.as_ref().map(|h| h.url()))
            .finish_non_exhaustive()
    }
}

impl SyncEngine {
    fn emit(&self, e: SyncEvent) {
        for o in &self.inner.observers {
            o(&e);
        }
    }

    fn hub(&self) -> Result<&Hub, SyncError> {
        self.inner.hub.as_ref().ok_or(SyncError::NoHub)
    }

    /// The bearer token for the hub now (a signed-in desk's is refreshed as it runs out).
    async fn bearer(&self) -> Result<String, SyncError> {
        let hub = self.hub()?;
        Ok(hub.auth.bearer(&self.inner.http, hub.base()).await?)
    }

    /// Who is signed in at this desk, as the hub last said.
    pub fn signed_in(&self) -> Option<lifeline_core::protocol::WireOfficer> {
        match &self.inner.hub.as_ref()?.auth {
            HubAuth::Session(s) => s.officer(),
            HubAuth::Token(_) => None,
        }
    }

    /// Whether this engine syncs with a hub (not only feeds).
    pub fn has_hub(&self) -> bool {
        self.inner.hub.is_some()
    }

    /// Why the hub ended this desk's session (revoked, expired, signed in elsewhere), if it
    /// did: a person must sign in again; until then the desk works offline.
    pub fn session_ended(&self) -> Option<String> {
        match &self.inner.hub.as_ref()?.auth {
            HubAuth::Session(s) => s.ended(),
            HubAuth::Token(_) => None,
        }
    }

    fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Wakes the engine to send newly queued actions now.
    pub fn wake_outbox(&self) {
        self.inner.outbox_wake.notify_one();
    }

    /// One pass: pull until caught up, send the outbox, poll every feed. Returns an error only
    /// when the hub could not be reached at all.
    pub async fn sync_once(&self) -> Result<OnceReport, SyncError> {
        let mut report = OnceReport::default();
        if self.inner.hub.is_some() {
            let (pulled, quarantined) = self.pull_until_caught_up(ChangeOrigin::Pull).await?;
            report.pulled = pulled;
            report.quarantined = quarantined;
            report.actions_sent = self.flush_outbox().await?;
        }
        report.feeds_polled = self.poll_feeds(true).await;
        Ok(report)
    }

    /// Runs until `stop` fires: pull, follow the stream (or poll), send the outbox, poll feeds,
    /// backing off on failures.
    pub async fn run(&self, mut stop: Stop) {
        // Feeds are polled by a task of their own: a slow or hanging feed never holds up the
        // requests (an SOS must not wait behind someone's advisory server).
        let feeds = tokio::spawn({
            let engine = self.clone();
            let stop = stop.clone();
            async move { engine.run_feeds(stop).await }
        });
        let hub_url = self.inner.hub.as_ref().map(|h| h.url().to_owned());
        if let Some(url) = &hub_url {
            let _ = self.store().ensure_source(url, SourceKind::Hub);
        }
        let (base, cap) = self.inner.backoff;
        let mut backoff = Backoff::new(base, cap);
        let mut stream_broken_since: Option<Instant> = None;
        while hub_url.is_some() && !stop.is_stopped() {
            let result = async {
                self.pull_until_caught_up(ChangeOrigin::Pull).await?;
                self.flush_outbox().await?;
                // Retry the stream every minute while polling.
                let try_stream =
                    stream_broken_since.is_none_or(|t| t.elapsed() > Duration::from_secs(60));
                if try_stream {
                    match self.follow(&mut stop).await {
                        Ok(()) => {
                            stream_broken_since = None;
                            Ok(None)
                        }
                        Err(SyncError::StreamUnavailable(reason)) => {
                            tracing::warn!("event stream unavailable: {reason}");
                            stream_broken_since = Some(Instant::now());
                            self.set_connection(SourceConnection::Polling);
                            Ok(Some(self.inner.poll_interval))
                        }
                        Err(e) => Err(e),
                    }
                } else {
                    self.set_connection(SourceConnection::Polling);
                    Ok(Some(self.inner.poll_interval))
                }
            }
            .await;
            let wait = match result {
                Ok(wait) => {
                    backoff.reset();
                    if let Some(hub) = &self.inner.hub {
                        hub.answered();
                    }
                    wait.unwrap_or(Duration::from_millis(100))
                }
                Err(e) => {
                    if let (SyncError::Http(h), Some(hub)) = (e.root(), &self.inner.hub)
                        && h.status() == Some(401)
                    {
                        hub.auth.refused();
                    }
                    // A replica that is gone: the hub's next address takes over (the same
                    // database behind it, so the same cursor) — at once while some address
                    // has not been tried since the last answer; once every one has failed,
                    // the waits grow as for one address (the whole hub is down).
                    if let Some(hub) = &self.inner.hub
                        && e.unreachable()
                        && let Some((next, untried)) = hub.fail_over()
                    {
                        tracing::warn!("hub address did not answer ({e}); trying {next}");
                        if untried {
                            backoff.reset();
                        }
                    }
                    // The protocol's rule: reset after a success. A stream that was open
                    // is one, so each outage starts from the shortest wait, not the last.
                    if matches!(e, SyncError::StreamLost(_)) {
                        backoff.reset();
                    }
                    let wait = backoff.next(e.retry_after());
                    self.record_failure(&e, backoff.attempts());
                    if !e.is_transient() {
                        tracing::error!("sync: {e}");
                    }
                    wait
                }
            };
            tokio::select! {
                _ = stop.stopped() => break,
                _ = tokio::time::sleep(wait) => {}
                _ = self.inner.outbox_wake.notified() => {}
            }
        }
        if hub_url.is_some() {
            self.set_connection(SourceConnection::Offline);
        }
        let _ = feeds.await;
    }

    /// Asks the feed task to poll every feed now.
    pub(super) fn wake_feeds(&self) {
        self.inner.feeds_wake.notify_one();
    }

    /// The feed task: polls each feed when it is due, or all at once when woken.
    async fn run_feeds(&self, mut stop: Stop) {
        let mut force = true;
        while !stop.is_stopped() {
            self.poll_feeds(force).await;
            force = false;
            tokio::select! {
                _ = stop.stopped() => break,
                _ = tokio::time::sleep(self.inner.feed_interval) => {}
                _ = self.inner.feeds_wake.notified() => { force = true; }
            }
        }
    }

    fn record_failure(&self, e: &SyncError, attempts: u32) {
        if let Some(hub) = &self.inner.hub {
            let state = if attempts > 3 {
                SourceConnection::Offline
            } else {
                SourceConnection::Reconnecting
            };
            let _ =
                self.store()
                    .record_source_failure(hub.url(), state, &e.to_string(), Utc::now());
            self.emit(SyncEvent::HealthChanged);
        }
    }

    fn set_connection(&self, c: SourceConnection) {
        if let Some(hub) = &self.inner.hub {
            let _ = self.store().set_source_connection(hub.url(), c);
            self.emit(SyncEvent::HealthChanged);
        }
    }

    fn cursor(&self) -> Result<Option<String>, SyncError> {
        let hub = self.hub()?;
        Ok(self.store().source_state(hub.url())?.and_then(|s| s.cursor))
    }
}

#[cfg(test)]
mod failover_tests {
    use std::sync::atomic::AtomicUsize;

    use super::Hub;
    use crate::session::HubAuth;

    fn hub(addresses: &[&str]) -> Hub {
        Hub {
            addresses: addresses.iter().map(|a| (*a).to_owned()).collect(),
            current: AtomicUsize::new(0),
            failed_since_answer: AtomicUsize::new(0),
            auth: HubAuth::Token("t".into()),
        }
    }

    #[test]
    fn each_address_is_tried_at_once_then_the_waits_grow_until_the_hub_answers() {
        let h = hub(&["https://a", "https://b", "https://c"]);
        assert_eq!(h.base(), "https://a");
        assert_eq!(h.fail_over(), Some(("https://b", true)));
        assert_eq!(h.fail_over(), Some(("https://c", true)));
        // Every address has failed since the last answer: the whole hub is down.
        assert_eq!(h.fail_over(), Some(("https://a", false)));
        assert_eq!(h.endpoint("/v1/requests"), "https://a/v1/requests");
        h.answered();
        assert_eq!(h.fail_over(), Some(("https://b", true)));
        assert_eq!(hub(&["https://only"]).fail_over(), None);
    }
}
