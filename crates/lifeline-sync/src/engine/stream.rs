//! Following the hub's Server-Sent Events.

use chrono::Utc;
use lifeline_core::protocol::{WireClaim, sse as events};
use lifeline_core::store::{Claim, Rejection, SourceConnection};

use super::pull::Changes;
use super::*;
use crate::http::HttpError;
use crate::sse::SseParser;

/// Outbox items sent between two reads of the event stream.
const STREAM_FLUSH_BATCH: u64 = 50;

impl SyncEngine {
    /// Follows the event stream until it ends, fails, or `stop` fires, and sends the outbox
    /// in between. A failure once the stream was open is [`SyncError::StreamLost`]: the
    /// connection worked, so the next attempt starts from the shortest wait again.
    pub(super) async fn follow(&self, stop: &mut Stop) -> Result<(), SyncError> {
        let hub = self.hub()?;
        let token = self.bearer().await?;
        let cursor = self.cursor()?.unwrap_or_default();
        let url = format!("{}?after={cursor}", hub.endpoint("/v1/events"));
        let mut answer = match self
            .inner
            .http
            .open_stream(
                &url,
                Some(&token),
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
            hub.url(),
            SourceConnection::Connected,
            None,
            Utc::now(),
        )?;
        self.emit(SyncEvent::HealthChanged);
        let mut parser = SseParser::new(self.inner.http.limits().max_event);
        let followed: Result<(), SyncError> = async {
            loop {
                tokio::select! {
                    _ = stop.stopped() => return Ok(()),
                    _ = self.inner.outbox_wake.notified() => { self.flush_outbox_up_to(STREAM_FLUSH_BATCH).await?; }
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
        .await;
        followed.map_err(|e| SyncError::StreamLost(Box::new(e)))
    }

    async fn on_stream_event(&self, event: crate::sse::SseEvent) -> Result<(), SyncError> {
        match event.event.as_str() {
            // A request, or a message on a thread: each with the cursor after it.
            events::REQUEST | events::MESSAGE => {
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
                            hub.url(),
                            &cursor,
                            Utc::now(),
                        )?;
                        return Ok(());
                    }
                };
                let changes = if event.event == events::MESSAGE {
                    Changes {
                        messages: vec![value],
                        ..Changes::default()
                    }
                } else {
                    Changes {
                        requests: vec![value],
                        ..Changes::default()
                    }
                };
                self.apply(changes, &cursor, ChangeOrigin::Stream)?;
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
            events::REMOVED | events::ERASED => {
                // A request left this desk's posts (drop it) or was erased at the hub (erase
                // it), with the cursor after it.
                let Some(cursor) = event.id else {
                    return Ok(());
                };
                #[derive(serde::Deserialize)]
                struct Gone {
                    id: String,
                }
                if let Ok(g) = serde_json::from_str::<Gone>(&event.data) {
                    let (removed, erased) = if event.event == events::ERASED {
                        (Vec::new(), vec![g.id])
                    } else {
                        (vec![g.id], Vec::new())
                    };
                    let changes = Changes {
                        removed: &removed,
                        erased: &erased,
                        ..Changes::default()
                    };
                    self.apply(changes, &cursor, ChangeOrigin::Stream)?;
                }
            }
            events::ADVISORIES => {
                // The feed task fetches them: a slow feed must not hold up this stream.
                self.wake_feeds();
            }
            _ => {}
        }
        Ok(())
    }
}
