//! Polling advisory feeds with conditional GET.

use std::collections::HashMap;
use std::time::Instant;

use chrono::Utc;
use lifeline_core::store::{SourceConnection, SourceKind, StoreError};

use super::*;
use crate::http::HttpError;

impl SyncEngine {
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
    pub(super) async fn poll_feeds(&self, force: bool) -> u64 {
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
        let bearer = if is_hub {
            Some(self.bearer().await?)
        } else {
            None
        };
        let token = bearer.as_deref();
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
            // A feed's links are fetched from the feed's own origin only (scheme, host and
            // port), unless the feed was configured to link elsewhere: an index must not
            // make the desk fetch arbitrary hosts and ports, inside the ministry's network or
            // out. A link refused here is reported like one that could not be fetched.
            let same_origin = absolute.origin() == base.origin();
            if !same_origin && !self.inner.foreign_links.iter().any(|f| f == url) {
                tracing::warn!("not fetching {} linked from {url}: another host", link.url);
                continue;
            }
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

impl SyncEngine {
    /// Publishes a CAP 1.2 alert through the hub (`POST /v1/advisories`; supervisors only),
    /// so every desk of the hub sees it on its map.
    pub async fn publish_advisory(&self, cap_xml: String) -> Result<(), SyncError> {
        let hub = self.hub()?;
        let token = self.bearer().await?;
        let url = hub.endpoint("/v1/advisories");
        self.inner
            .http
            .post_document(
                &url,
                Some(&token),
                "application/cap+xml",
                cap_xml.into_bytes(),
            )
            .await?;
        self.wake_feeds();
        Ok(())
    }
}
