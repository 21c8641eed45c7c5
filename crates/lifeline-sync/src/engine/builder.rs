//! Building an engine: the hub, feeds, intervals, limits, observers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lifeline_core::Store;
use tokio::sync::Notify;

use super::*;
use crate::http::{Http, Limits};

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
}
