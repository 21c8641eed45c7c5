//! Building an engine: the hub, feeds, intervals, limits, observers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lifeline_core::Store;
use tokio::sync::Notify;

use super::*;
use crate::http::{Http, Limits};
use crate::session::HubAuth;

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
    extra_roots: Vec<Vec<u8>>,
    foreign_links: Vec<String>,
}

impl SyncEngineBuilder {
    /// The hub, with a fixed token (a development token or a service account's secret).
    pub fn hub(self, url: impl Into<String>, token: impl Into<String>) -> Self {
        self.hub_auth(url, HubAuth::Token(token.into()))
    }

    /// The hub, with the desk's signed-in session (or a fixed token). `url` may list several
    /// addresses of the same hub (replicas on one database), separated by commas or spaces:
    /// when the one in use stops answering, the desk goes on with the next.
    pub fn hub_auth(mut self, url: impl Into<String>, auth: HubAuth) -> Self {
        let url: String = url.into();
        let mut addresses = crate::hub_addresses(&url);
        if addresses.is_empty() {
            addresses.push(url.trim().trim_end_matches('/').to_owned());
        }
        self.hub = Some(Hub {
            addresses,
            current: std::sync::atomic::AtomicUsize::new(0),
            failed_since_answer: std::sync::atomic::AtomicUsize::new(0),
            auth,
        });
        self
    }

    /// Extra CA certificates (PEM) to trust beside the system's: a ministry's own PKI, or
    /// a local CA in development.
    pub fn extra_roots(mut self, pem: Vec<Vec<u8>>) -> Self {
        self.extra_roots = pem;
        self
    }

    pub fn feed(mut self, url: impl Into<String>) -> Self {
        self.feeds.push(url.into());
        self
    }

    /// A feed whose index links CAP documents on other hosts (some national aggregators
    /// do): those are fetched too. Other feeds' links are fetched from their own origin only.
    pub fn feed_linking_elsewhere(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.foreign_links.push(url.clone());
        self.feeds.push(url);
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
        // A hub address that would carry personal data in the clear is refused here, once,
        // as a permanent error: not retried for ever.
        if let Some(hub) = &self.hub {
            for address in &hub.addresses {
                crate::http::check_transport(address)?;
            }
        }
        let http = Http::with_roots(self.limits, &self.extra_roots)?;
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
                feeds_wake: Notify::new(),
                backoff: (self.backoff_base, self.backoff_cap),
                feed_polled: Mutex::new(HashMap::new()),
                foreign_links: self.foreign_links,
            }),
        })
    }
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
            extra_roots: Vec::new(),
            foreign_links: Vec::new(),
        }
    }
}
