//! Sending this desk's actions, oldest first; claims and releases.

use chrono::Utc;
use lifeline_core::model::Origin;
use lifeline_core::protocol::{
    IDEMPOTENCY_HEADER, WireActionRequest, WireClaimRequest, WireError, WireRequest,
};
use lifeline_core::store::IncomingRequest;

use super::*;
use crate::http::HttpError;
use crate::session::HubAuth;

impl SyncEngine {
    /// Sends pending actions oldest first. Stops at the first failure that may pass (the hub
    /// is unreachable): later actions on the same request must not overtake it.
    pub async fn flush_outbox(&self) -> Result<u64, SyncError> {
        self.flush_outbox_up_to(u64::MAX).await
    }

    /// Sends at most `max` items, then, if more wait, wakes itself for the rest: the event
    /// stream is read in between, so a safety reminder's thousands of messages never keep a
    /// new SOS from reaching the desk.
    pub(super) async fn flush_outbox_up_to(&self, max: u64) -> Result<u64, SyncError> {
        let hub = self.hub()?;
        let mut sent = 0;
        loop {
            if sent >= max {
                if !self.store().pending_actions(1)?.is_empty() {
                    self.inner.outbox_wake.notify_one();
                }
                return Ok(sent);
            }
            // One at a time, read fresh: confirming an action moves the base version of the
            // ones queued after it on the same request.
            let Some(item) = self.store().pending_actions(1)?.pop() else {
                return Ok(sent);
            };
            {
                let url = hub.endpoint(&format!("/v1/requests/{}/actions", item.request_id));
                // A signed-in desk acts as its session; only a fixed token names the actor.
                let body = WireActionRequest {
                    action: item.action.clone(),
                    base_version: item.base_version,
                    actor: matches!(hub.auth, HubAuth::Token(_)).then(|| item.actor.clone()),
                };
                let token = self.bearer().await?;
                let now = Utc::now();
                let answer = self
                    .inner
                    .http
                    .post_json(
                        &url,
                        Some(&token),
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
                    // A session problem needs a person, but the edit must not be lost: keep it
                    // pending (the health bar shows the error) like any other outage. A 403
                    // (this officer may not act on it) is an answer: it is rejected below.
                    401 | 408 | 429 | 500..=599 => {
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
        let token = self.bearer().await?;
        let url = hub.endpoint(&format!("/v1/requests/{request_id}/claim"));
        let body = WireClaimRequest {
            desk: self.inner.desk.clone(),
            officer: officer.into(),
            ttl_seconds: Some(120),
        };
        let (status, retry, bytes) = self
            .inner
            .http
            .post_json(&url, Some(&token), &[], &body)
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
        let token = self.bearer().await?;
        let endpoint = hub.endpoint(&format!("/v1/requests/{request_id}/claim"));
        let mut url = reqwest::Url::parse(&endpoint).map_err(|e| HttpError::Url {
            url: endpoint.clone(),
            reason: e.to_string(),
        })?;
        url.query_pairs_mut().append_pair("desk", &self.inner.desk);
        Ok(self.inner.http.delete(url.as_str(), Some(&token)).await?)
    }
}
