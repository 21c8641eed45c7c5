//! Pulling cursor pages from the hub and applying them with their cursor.

use chrono::Utc;
use lifeline_core::model::Message;
use lifeline_core::model::Origin;
use lifeline_core::protocol::{WireMessage, WirePage, WireRequest};
use lifeline_core::store::{IncomingRequest, Rejection, SourceConnection, SyncPage};

use super::*;
use crate::http::HttpError;

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

/// Validates messages from the hub; bad ones become rejections, named as messages.
fn split_messages(values: Vec<serde_json::Value>, bad: &mut Vec<Rejection>) -> Vec<Message> {
    let mut good = Vec::new();
    for v in values {
        match serde_json::from_value::<WireMessage>(v.clone())
            .map_err(|e| e.to_string())
            .and_then(|w| w.into_domain().map_err(|e| e.to_string()))
        {
            Ok(m) => good.push(m),
            Err(reason) => {
                let id = v.get("id").and_then(|i| i.as_str()).unwrap_or("without id");
                bad.push(Rejection {
                    record_ref: Some(format!("message {id}")),
                    reason,
                    raw: serde_json::to_vec(&v).unwrap_or_default(),
                });
            }
        }
    }
    good
}

/// What one page or stream event brings, before validation.
#[derive(Default)]
pub(super) struct Changes<'a> {
    pub requests: Vec<serde_json::Value>,
    pub removed: &'a [String],
    pub erased: &'a [String],
    pub messages: Vec<serde_json::Value>,
}

impl SyncEngine {
    /// Applies removals, validated records and messages with the cursor after them; returns
    /// (applied, quarantined).
    pub(super) fn apply(
        &self,
        changes: Changes<'_>,
        cursor: &str,
        origin: ChangeOrigin,
    ) -> Result<(u64, u64), SyncError> {
        let Changes {
            requests: values,
            removed,
            erased,
            messages,
        } = changes;
        let hub = self.hub()?;
        let (good, mut bad) = split_records(values);
        let messages = split_messages(messages, &mut bad);
        let now = Utc::now();
        let lag = good
            .iter()
            .map(|r| (now - r.request.updated_at).num_milliseconds().max(0))
            .max();
        let report = self.store().apply_sync_page(
            &SyncPage {
                requests: &good,
                rejected: &bad,
                removed,
                erased,
                messages: &messages,
            },
            hub.url(),
            cursor,
            now,
        )?;
        if !erased.is_empty() {
            tracing::warn!(
                "erased {} requests on the hub's order: {}",
                erased.len(),
                erased.join(", ")
            );
        }
        let connection = if origin == ChangeOrigin::Stream {
            SourceConnection::Connected
        } else {
            SourceConnection::Polling
        };
        self.store()
            .record_source_success(hub.url(), connection, lag, now)?;
        let mut changed: Vec<String> = report.changed_ids().map(str::to_owned).collect();
        // A request that moved to another post leaves this desk: the views refresh too.
        changed.extend(removed.iter().cloned());
        changed.extend(erased.iter().cloned());
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
        Ok(((good.len() + messages.len()) as u64, bad.len() as u64))
    }

    /// Pulls pages after the stored cursor until the hub says there is no more.
    pub(super) async fn pull_until_caught_up(
        &self,
        origin: ChangeOrigin,
    ) -> Result<(u64, u64), SyncError> {
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
            let token = self.bearer().await?;
            let answer = match self.inner.http.get(&url, Some(&token), &[]).await {
                Err(e) if e.status() == Some(410) => {
                    // The hub's database was replaced: our cursor means nothing there. Start
                    // over; upserts never move records backwards, so nothing is lost.
                    tracing::warn!("the hub no longer knows our cursor; pulling everything again");
                    self.store().reset_cursor(hub.url())?;
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
            let (a, q) = self.apply(
                Changes {
                    requests: page.requests,
                    removed: &page.removed,
                    erased: &page.erased,
                    messages: page.messages,
                },
                &page.next_cursor,
                origin,
            )?;
            applied += a;
            quarantined += q;
            if !page.has_more {
                return Ok((applied, quarantined));
            }
        }
    }
}
