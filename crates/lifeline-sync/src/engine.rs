//! The engine: builder, the run loop, and the four jobs (pull, follow, outbox, feeds).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use lifeline_core::Store;
use lifeline_core::model::Origin;
use lifeline_core::protocol::{
    IDEMPOTENCY_HEADER, WireActionRequest, WireClaim, WireClaimRequest, WireError, WirePage,
    WireRequest, sse as events,
};
use lifeline_core::store::{
    Claim, IncomingRequest, Rejection, SourceConnection, SourceKind, StoreError,
};
use tokio::sync::{Notify, watch};

use crate::backoff::Backoff;
use crate::http::{Http, HttpError, Limits};
use crate::sse::SseParser;

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
}

impl SyncError {
    fn is_transient(&self) -> bool {
        match self {
            SyncError::Http(e) => e.is_transient(),
            SyncError::Store(e) => e.is_transient(),
            SyncError::NoHub => false,
            SyncError::StreamUnavailable(_) => true,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            SyncError::Http(e) => e.retry_after(),
            _ => None,
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
    url: String,
    token: String,
}

impl Hub {
    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.url.trim_end_matches('/'))
    }
}

pub struct SyncEngineBuilder {
    store: Arc<Store>,
    hub: Option<Hub>,
    feeds: Vec<String>,
    desk: String,
    page_size: u32,
    poll_interval: Duration,
    feed_interval: Duration,
    limits: Limits,
    observers: Vec<Observer>,
    backoff_base: Duration,
    backoff_cap: Duration,
}

impl SyncEngineBuilder {
    pub fn hub(mut self, url: impl Into<String>, token: impl Into<String>) -> Self {
        self.hub = Some(Hub {
            url: url.into(),
            token: token.into(),
        });
        self
    }

    pub fn feed(mut self, url: impl Into<String>) -> Self {
        self.feeds.push(url.into());
        self
    }

    /// This desk's name, shown to other desks in claims.
    pub fn desk(mut self, desk: impl Into<String>) -> Self {
        self.desk = desk.into();
        self
    }

    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, 1000);
        self
    }

    /// How often to pull when the live stream is unavailable.
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.poll_interval = d;
        self
    }

    pub fn feed_interval(mut self, d: Duration) -> Self {
        self.feed_interval = d;
        self
    }

    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_cap = cap;
        self
    }

    pub fn on_event(mut self, f: impl Fn(&SyncEvent) + Send + Sync + 'static) -> Self {
        self.observers.push(Arc::new(f));
        self
    }

    pub fn build(self) -> Result<SyncEngine, SyncError> {
        let http = Http::new(self.limits)?;
        Ok(SyncEngine {
            inner: Arc::new(Inner {
                store: self.store,
                hub: self.hub,
                feeds: self.feeds,
                desk: self.desk,
                page_size: self.page_size,
                poll_interval: self.poll_interval,
                feed_interval: self.feed_interval,
                http,
                observers: self.observers,
                outbox_wake: Notify::new(),
                backoff: (self.backoff_base, self.backoff_cap),
                feed_polled: Mutex::new(HashMap::new()),
            }),
        })
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
    backoff: (Duration, Duration),
    feed_polled: Mutex<HashMap<String, Instant>>,
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
            .field("hub", &self.inner.hub.as_ref().map(|h| &h.url))
            .finish_non_exhaustive()
    }
}

/// Quarantine references name the record and where it came from.
fn rejection(id: Option<&str>, reason: String, raw: &serde_json::Value) -> Rejection {
    Rejection {
        record_ref: Some(id.map_or_else(|| "record without id".into(), |i| format!("request {i}"))),
        reason,
        raw: serde_json::to_vec(raw).unwrap_or_default(),
    }
}

/// Validates records from the hub; bad ones become rejections.
fn split_records(values: Vec<serde_json::Value>) -> (Vec<IncomingRequest>, Vec<Rejection>) {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for v in values {
        let id = v.get("id").and_then(|i| i.as_str()).map(str::to_owned);
        match serde_json::from_value::<WireRequest>(v.clone())
            .map_err(|e| e.to_string())
            .and_then(|w| w.into_domain(Origin::Sync).map_err(|e| e.to_string()))
        {
            Ok((request, events)) => good.push(IncomingRequest { request, events }),
            Err(reason) => bad.push(rejection(id.as_deref(), reason, &v)),
        }
    }
    (good, bad)
}

impl SyncEngine {
    pub fn builder(store: Arc<Store>) -> SyncEngineBuilder {
        SyncEngineBuilder {
            store,
            hub: None,
            feeds: Vec::new(),
            desk: "desk".into(),
            page_size: 500,
            poll_interval: Duration::from_secs(2),
            feed_interval: Duration::from_secs(60),
            limits: Limits::default(),
            observers: Vec::new(),
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(30),
        }
    }

    fn emit(&self, e: SyncEvent) {
        for o in &self.inner.observers {
            o(&e);
        }
    }

    fn hub(&self) -> Result<&Hub, SyncError> {
        self.inner.hub.as_ref().ok_or(SyncError::NoHub)
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
        let hub_url = self.inner.hub.as_ref().map(|h| h.url.clone());
        if let Some(url) = &hub_url {
            let _ = self.store().ensure_source(url, SourceKind::Hub);
        }
        let (base, cap) = self.inner.backoff;
        let mut backoff = Backoff::new(base, cap);
        let mut stream_broken_since: Option<Instant> = None;
        while !stop.is_stopped() {
            let result = async {
                if hub_url.is_none() {
                    self.poll_feeds(false).await;
                    return Ok(Some(self.inner.feed_interval));
                }
                self.pull_until_caught_up(ChangeOrigin::Pull).await?;
                self.flush_outbox().await?;
                self.poll_feeds(false).await;
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
                    wait.unwrap_or(Duration::from_millis(100))
                }
                Err(e) => {
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
        self.set_connection(SourceConnection::Offline);
    }

    fn record_failure(&self, e: &SyncError, attempts: u32) {
        if let Some(hub) = &self.inner.hub {
            let state = if attempts > 3 {
                SourceConnection::Offline
            } else {
                SourceConnection::Reconnecting
            };
            let _ = self
                .store()
                .record_source_failure(&hub.url, state, &e.to_string(), Utc::now());
            self.emit(SyncEvent::HealthChanged);
        }
    }

    fn set_connection(&self, c: SourceConnection) {
        if let Some(hub) = &self.inner.hub {
            let _ = self.store().set_source_connection(&hub.url, c);
            self.emit(SyncEvent::HealthChanged);
        }
    }

    fn cursor(&self) -> Result<Option<String>, SyncError> {
        let hub = self.hub()?;
        Ok(self.store().source_state(&hub.url)?.and_then(|s| s.cursor))
    }

    /// Applies validated records with the cursor after them; returns (applied, quarantined).
    fn apply(
        &self,
        values: Vec<serde_json::Value>,
        cursor: &str,
        origin: ChangeOrigin,
    ) -> Result<(u64, u64), SyncError> {
        let hub = self.hub()?;
        let (good, bad) = split_records(values);
        let now = Utc::now();
        let lag = good
            .iter()
            .map(|r| (now - r.request.updated_at).num_milliseconds().max(0))
            .max();
        let report = self
            .store()
            .apply_sync_batch(&good, &bad, &hub.url, cursor, now)?;
        let connection = if origin == ChangeOrigin::Stream {
            SourceConnection::Connected
        } else {
            SourceConnection::Polling
        };
        self.store()
            .record_source_success(&hub.url, connection, lag, now)?;
        let changed: Vec<String> = report.changed_ids().map(str::to_owned).collect();
        if !changed.is_empty() {
            self.emit(SyncEvent::RequestsChanged {
                ids: changed,
                origin,
            });
        }
        if !bad.is_empty() {
            tracing::warn!("quarantined {} records from the hub", bad.len());
            self.emit(SyncEvent::HealthChanged);
        }
        Ok((good.len() as u64, bad.len() as u64))
    }

    /// Pulls pages after the stored cursor until the hub says there is no more.
    async fn pull_until_caught_up(&self, origin: ChangeOrigin) -> Result<(u64, u64), SyncError> {
        let hub = self.hub()?;
        let (mut applied, mut quarantined) = (0, 0);
        // A page over the body cap (large records with long case logs) is asked for again
        // in halves, down to one record, instead of failing the same way forever.
        let mut limit = self.inner.page_size;
        loop {
            let cursor = self.cursor()?;
            let mut url = format!("{}?limit={limit}", hub.endpoint("/v1/requests"));
            if let Some(c) = &cursor {
                url.push_str(&format!("&after={c}"));
            }
            let answer = match self.inner.http.get(&url, Some(&hub.token), &[]).await {
                Err(e) if e.status() == Some(410) => {
                    // The hub's database was replaced: our cursor means nothing there. Start
                    // over; upserts never move records backwards, so nothing is lost.
                    tracing::warn!("the hub no longer knows our cursor; pulling everything again");
                    self.store().reset_cursor(&hub.url)?;
                    continue;
                }
                other => other?,
            };
            let body = match self.inner.http.body(answer).await {
                Err(HttpError::TooLarge { .. }) if limit > 1 => {
                    limit = (limit / 2).max(1);
                    tracing::warn!(
                        "a page of the hub's changes is over the size cap; asking for {limit} at a time"
                    );
                    continue;
                }
                other => other?,
            };
            limit = self.inner.page_size;
            let page: WirePage = serde_json::from_slice(&body).map_err(|e| HttpError::Json {
                url: url.clone(),
                reason: e.to_string(),
            })?;
            let (a, q) = self.apply(page.requests, &page.next_cursor, origin)?;
            applied += a;
            quarantined += q;
            if !page.has_more {
                return Ok((applied, quarantined));
            }
        }
    }

    /// Follows the event stream until it ends, fails, or `stop` fires. Sends the outbox and
    /// polls feeds in between, as they come due.
    async fn follow(&self, stop: &mut Stop) -> Result<(), SyncError> {
        let hub = self.hub()?;
        let cursor = self.cursor()?.unwrap_or_default();
        let url = format!("{}?after={cursor}", hub.endpoint("/v1/events"));
        let mut answer = match self
            .inner
            .http
            .open_stream(
                &url,
                Some(&hub.token),
                &[("Last-Event-ID", &cursor), ("Accept", "text/event-stream")],
            )
            .await
        {
            Ok(a) => a,
            Err(e) if matches!(e.status(), Some(404 | 405 | 406 | 501)) => {
                return Err(SyncError::StreamUnavailable(e.to_string()));
            }
            Err(e) => return Err(e.into()),
        };
        if !answer
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/event-stream"))
        {
            return Err(SyncError::StreamUnavailable(format!(
                "{url} is not an event stream"
            )));
        }
        self.store().record_source_success(
            &hub.url,
            SourceConnection::Connected,
            None,
            Utc::now(),
        )?;
        self.emit(SyncEvent::HealthChanged);
        let mut parser = SseParser::new(self.inner.http.limits().max_event);
        let mut feed_timer = tokio::time::interval(self.inner.feed_interval);
        feed_timer.tick().await;
        loop {
            tokio::select! {
                _ = stop.stopped() => return Ok(()),
                _ = self.inner.outbox_wake.notified() => { self.flush_outbox().await?; }
                _ = feed_timer.tick() => { self.poll_feeds(false).await; }
                chunk = answer.chunk() => {
                    let Some(chunk) = chunk? else { return Ok(()) };
                    let parsed = parser.push(&chunk).map_err(|e| HttpError::Body { url: url.clone(), reason: e.to_string() })?;
                    for event in parsed {
                        self.on_stream_event(event).await?;
                    }
                }
            }
        }
    }

    async fn on_stream_event(&self, event: crate::sse::SseEvent) -> Result<(), SyncError> {
        match event.event.as_str() {
            events::REQUEST => {
                let Some(cursor) = event.id else {
                    return Ok(());
                };
                let value: serde_json::Value = match serde_json::from_str(&event.data) {
                    Ok(v) => v,
                    Err(e) => {
                        let hub = self.hub()?;
                        let rej = Rejection {
                            record_ref: Some(format!("event {cursor}")),
                            reason: format!("not valid JSON: {e}"),
                            raw: event.data.into_bytes(),
                        };
                        self.store().apply_sync_batch(
                            &[],
                            &[rej],
                            &hub.url,
                            &cursor,
                            Utc::now(),
                        )?;
                        return Ok(());
                    }
                };
                self.apply(vec![value], &cursor, ChangeOrigin::Stream)?;
            }
            events::CLAIMS => {
                if let Ok(claims) = serde_json::from_str::<Vec<WireClaim>>(&event.data) {
                    let claims: Vec<Claim> = claims
                        .into_iter()
                        .map(|c| Claim {
                            request_id: c.request_id,
                            desk: c.desk,
                            officer: c.officer,
                            expires_at: c.expires_at,
                        })
                        .collect();
                    self.store().replace_claims(&claims)?;
                    self.emit(SyncEvent::ClaimsChanged);
                }
            }
            events::ADVISORIES => {
                self.poll_feeds(true).await;
            }
            _ => {}
        }
        Ok(())
    }

    /// Sends pending actions oldest first. Stops at the first failure that may pass (the hub
    /// is unreachable): later actions on the same request must not overtake it.
    pub async fn flush_outbox(&self) -> Result<u64, SyncError> {
        let hub = self.hub()?;
        let mut sent = 0;
        loop {
            // One at a time, read fresh: confirming an action moves the base version of the
            // ones queued after it on the same request.
            let Some(item) = self.store().pending_actions(1)?.pop() else {
                return Ok(sent);
            };
            {
                let url = hub.endpoint(&format!("/v1/requests/{}/actions", item.request_id));
                let body = WireActionRequest {
                    action: item.action.clone(),
                    base_version: item.base_version,
                    actor: item.actor.clone(),
                };
                let now = Utc::now();
                let answer = self
                    .inner
                    .http
                    .post_json(
                        &url,
                        Some(&hub.token),
                        &[(IDEMPOTENCY_HEADER, &item.idempotency_key)],
                        &body,
                    )
                    .await;
                let (status, retry, bytes) = match answer {
                    Ok(a) => a,
                    Err(e) => {
                        self.store().record_send_failure(
                            &item.idempotency_key,
                            &e.to_string(),
                            now,
                        )?;
                        self.emit(SyncEvent::OutboxChanged);
                        return Err(e.into());
                    }
                };
                let parse_record = |bytes: &[u8]| -> Option<IncomingRequest> {
                    let wire: WireRequest = serde_json::from_slice(bytes).ok()?;
                    let (request, events) = wire.into_domain(Origin::Sync).ok()?;
                    Some(IncomingRequest { request, events })
                };
                match status {
                    200..=299 => match parse_record(&bytes) {
                        Some(record) => {
                            let report =
                                self.store()
                                    .confirm_action(&item.idempotency_key, &record, now)?;
                            let mut ids: Vec<String> =
                                report.changed_ids().map(str::to_owned).collect();
                            if ids.is_empty() {
                                ids.push(item.request_id.clone());
                            }
                            self.emit(SyncEvent::RequestsChanged {
                                ids,
                                origin: ChangeOrigin::Outbox,
                            });
                        }
                        None => {
                            let e = HttpError::Json {
                                url,
                                reason: "the hub's answer is not a request".into(),
                            };
                            self.store().record_send_failure(
                                &item.idempotency_key,
                                &e.to_string(),
                                now,
                            )?;
                            return Err(e.into());
                        }
                    },
                    409 => {
                        let current = serde_json::from_slice::<WireError>(&bytes)
                            .ok()
                            .and_then(|e| e.current);
                        match current.and_then(|c| c.into_domain(Origin::Sync).ok()) {
                            Some((request, events)) => {
                                self.store().conflict_action(
                                    &item.idempotency_key,
                                    &IncomingRequest { request, events },
                                    now,
                                )?;
                            }
                            None => self.store().reject_action(
                                &item.idempotency_key,
                                "the hub reported a conflict without the current record",
                                now,
                            )?,
                        }
                        self.emit(SyncEvent::RequestsChanged {
                            ids: vec![item.request_id.clone()],
                            origin: ChangeOrigin::Outbox,
                        });
                    }
                    // A token problem needs a person, but the edit must not be lost: keep it
                    // pending (the health bar shows the error) like any other outage.
                    401 | 403 | 408 | 429 | 500..=599 => {
                        let e = HttpError::Status {
                            url,
                            status,
                            retry_after: retry,
                            message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
                        };
                        self.store().record_send_failure(
                            &item.idempotency_key,
                            &e.to_string(),
                            now,
                        )?;
                        self.emit(SyncEvent::OutboxChanged);
                        return Err(e.into());
                    }
                    _ => {
                        let reason = serde_json::from_slice::<WireError>(&bytes)
                            .map(|e| e.error.message)
                            .unwrap_or_else(|_| format!("the hub refused it ({status})"));
                        self.store()
                            .reject_action(&item.idempotency_key, &reason, now)?;
                        self.emit(SyncEvent::RequestsChanged {
                            ids: vec![item.request_id.clone()],
                            origin: ChangeOrigin::Outbox,
                        });
                    }
                }
                sent += 1;
                self.emit(SyncEvent::OutboxChanged);
            }
        }
    }

    /// Claims a request for this desk's officer (renew it while the request is on screen).
    pub async fn claim(&self, request_id: &str, officer: &str) -> Result<(), SyncError> {
        let hub = self.hub()?;
        let url = hub.endpoint(&format!("/v1/requests/{request_id}/claim"));
        let body = WireClaimRequest {
            desk: self.inner.desk.clone(),
            officer: officer.into(),
            ttl_seconds: Some(120),
        };
        let (status, retry, bytes) = self
            .inner
            .http
            .post_json(&url, Some(&hub.token), &[], &body)
            .await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(HttpError::Status {
                url,
                status,
                retry_after: retry,
                message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            }
            .into())
        }
    }

    pub async fn release(&self, request_id: &str) -> Result<(), SyncError> {
        let hub = self.hub()?;
        let endpoint = hub.endpoint(&format!("/v1/requests/{request_id}/claim"));
        let mut url = reqwest::Url::parse(&endpoint).map_err(|e| HttpError::Url {
            url: endpoint.clone(),
            reason: e.to_string(),
        })?;
        url.query_pairs_mut().append_pair("desk", &self.inner.desk);
        Ok(self
            .inner
            .http
            .delete(url.as_str(), Some(&hub.token))
            .await?)
    }

    /// Feed URLs: the hub's own advisory index first, then the configured ones.
    fn feed_urls(&self) -> Vec<(String, bool)> {
        let mut urls: Vec<(String, bool)> = self
            .inner
            .hub
            .iter()
            .map(|h| (h.endpoint("/v1/advisories.atom"), true))
            .collect();
        urls.extend(self.inner.feeds.iter().map(|f| (f.clone(), false)));
        urls
    }

    /// Polls feeds that are due (or all when `force`); returns how many were polled.
    async fn poll_feeds(&self, force: bool) -> u64 {
        let mut polled = 0;
        for (url, is_hub) in self.feed_urls() {
            let due = force || {
                let last = self
                    .inner
                    .feed_polled
                    .lock()
                    .ok()
                    .and_then(|m| m.get(&url).copied());
                last.is_none_or(|t| t.elapsed() >= self.inner.feed_interval)
            };
            if !due {
                continue;
            }
            if let Ok(mut m) = self.inner.feed_polled.lock() {
                m.insert(url.clone(), Instant::now());
            }
            polled += 1;
            let now = Utc::now();
            let _ = self.store().ensure_source(&url, SourceKind::Feed);
            match self.poll_feed(&url, is_hub).await {
                Ok(changed) => {
                    let _ = self.store().record_source_success(
                        &url,
                        SourceConnection::Connected,
                        None,
                        now,
                    );
                    if changed {
                        self.emit(SyncEvent::AdvisoriesChanged);
                    }
                }
                Err(e) => {
                    let _ = self.store().record_source_failure(
                        &url,
                        SourceConnection::Reconnecting,
                        &e.to_string(),
                        now,
                    );
                }
            }
            self.emit(SyncEvent::HealthChanged);
        }
        polled
    }

    /// One feed: conditional GET, parse, fetch linked CAP documents not seen before, store.
    async fn poll_feed(&self, url: &str, is_hub: bool) -> Result<bool, SyncError> {
        // The hub's token goes to the hub only, never to a third-party feed.
        let token = if is_hub {
            self.inner.hub.as_ref().map(|h| h.token.as_str())
        } else {
            None
        };
        let state = self.store().source_state(url)?;
        let etag = state.as_ref().and_then(|s| s.etag.clone());
        let modified = state.as_ref().and_then(|s| s.last_modified.clone());
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(e) = &etag {
            headers.push(("If-None-Match", e));
        }
        if let Some(m) = &modified {
            headers.push(("If-Modified-Since", m));
        }
        let answer = self.inner.http.get(url, token, &headers).await?;
        if answer.status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(false);
        }
        let new_etag = answer.header("etag").map(str::to_owned);
        let new_modified = answer.header("last-modified").map(str::to_owned);
        let body = self.inner.http.body(answer).await?;
        let format = lifeline_feeds::detect::detect(&body).map_err(|e| HttpError::Body {
            url: url.into(),
            reason: e.to_string(),
        })?;
        let mut doc =
            lifeline_feeds::parse_document(format, &body, url).map_err(|e| HttpError::Body {
                url: url.into(),
                reason: e.to_string(),
            })?;
        // Fetch the linked documents not stored yet (at most 50 per poll).
        let base = reqwest::Url::parse(url).map_err(|e| HttpError::Url {
            url: url.into(),
            reason: e.to_string(),
        })?;
        let mut fetched: HashMap<String, Vec<u8>> = HashMap::new();
        let mut known = Vec::new();
        for link in &mut doc.links {
            let Ok(absolute) = base.join(&link.url) else {
                continue;
            };
            link.url = absolute.to_string();
            if self.store().advisory_source_known(&link.url)? {
                known.push(link.url.clone());
                continue;
            }
            if fetched.len() >= 50 {
                continue;
            }
            let same_origin = absolute.origin() == base.origin();
            let link_token = if same_origin { token } else { None };
            if let Ok(a) = self.inner.http.get(&link.url, link_token, &[]).await
                && let Ok(bytes) = self.inner.http.body(a).await
            {
                fetched.insert(link.url.clone(), bytes);
            }
        }
        doc.links.retain(|l| !known.contains(&l.url));
        let mut fetch = |u: &str| {
            fetched
                .get(u)
                .cloned()
                .ok_or_else(|| "could not be fetched this time".to_owned())
        };
        let report =
            lifeline_feeds::apply_document(self.store(), doc, url, Utc::now(), Some(&mut fetch))
                .map_err(|e| {
                    SyncError::Store(match e {
                        lifeline_feeds::FeedError::Store(s) => s,
                        other => StoreError::Corrupt {
                            what: url.into(),
                            reason: other.to_string(),
                        },
                    })
                })?;
        self.store()
            .set_feed_validators(url, new_etag.as_deref(), new_modified.as_deref())?;
        Ok(report.accepted > 0
            || !report.superseded.is_empty()
            || !report.cancelled.is_empty()
            || report.removed > 0)
    }
}
