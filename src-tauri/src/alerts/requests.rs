//! Alerts on requests: new emergencies and critical requests, and bursts of them around a
//! place, summarised once.

use super::*;

impl AlertService {
    pub(super) fn request(&self, id: &str) -> Option<HelpRequest> {
        self.store.get_request(id).ok().flatten().map(|s| s.request)
    }

    /// The texts of a request's alert, the request read once for both languages.
    pub(super) fn request_texts(&self, c: &Candidate) -> impl Fn(&str) -> (String, String) {
        let request = self.request(&c.id);
        let (emergency, category) = (c.emergency, c.category);
        let details = self.details.load(std::sync::atomic::Ordering::SeqCst);
        move |lang: &str| match &request {
            Some(r) => (
                text::alert_title(lang, r.emergency, r.category, &city_name(r, lang)),
                if details {
                    text::alert_body(lang, r.people_count, &r.description)
                } else {
                    text::alert_body_private(lang, r.priority, r.people_count)
                },
            ),
            None => (
                text::alert_title(lang, emergency, category, ""),
                String::new(),
            ),
        }
    }

    /// Requests changed (from sync, an import, or this desk's own action).
    pub fn on_requests_changed(&self, ids: &[String], from_hub: bool) {
        if let Err(e) = self.process_changes(ids, from_hub) {
            tracing::error!("alerting failed: {e}");
        }
        self.refresh_alarm();
    }

    pub(super) fn process_changes(
        &self,
        ids: &[String],
        from_hub: bool,
    ) -> Result<(), lifeline_core::store::StoreError> {
        let now = Utc::now();
        let candidates = self.store.alert_candidates(ids)?;
        let subjects: Vec<String> = candidates
            .iter()
            .map(|c| alert::request_subject(&c.id))
            .collect();
        let ledger = self.store.alert_records(&subjects)?;
        let policy = self.policy();
        let (decisions, acknowledged_elsewhere) = {
            let Ok(mut state) = self.state.lock() else {
                return Ok(());
            };
            // An alerted emergency someone else acknowledged: say why the alarm stopped.
            let elsewhere: Vec<(String, u32)> = if from_hub {
                state
                    .tracker
                    .acknowledged_elsewhere(&candidates, &ledger)
                    .into_iter()
                    .map(|(c, level)| (c.id.clone(), level))
                    .collect()
            } else {
                Vec::new()
            };
            let decisions =
                alert::decide_new(&candidates, &policy, &ledger, state.tracker.recent(), now);
            state.tracker.record(&decisions, &candidates, now);
            (decisions, elsewhere)
        };
        let mut alerted: Vec<(String, u32)> = Vec::new();
        let mut rows: Vec<DecisionRecord> = acknowledged_elsewhere
            .into_iter()
            .map(|(id, level)| DecisionRecord {
                at: now,
                subject: alert::request_subject(&id),
                decision: "suppressed".into(),
                reason: Reason::AcknowledgedElsewhere.as_str().into(),
                title: None,
                body: None,
                level,
            })
            .collect();
        for decision in decisions {
            match decision {
                Decision::Alert {
                    request_id,
                    level,
                    reason,
                } => {
                    let Some(c) = candidates.iter().find(|c| c.id == request_id) else {
                        continue;
                    };
                    if c.emergency {
                        self.end_snooze();
                    }
                    let texts = self.request_texts(c);
                    let subject = alert::request_subject(&request_id);
                    rows.extend(self.deliver(Delivery {
                        subject: &subject,
                        kind: "alert",
                        request_id: Some(&request_id),
                        texts: &texts,
                        level,
                        decision: "alerted",
                        reason,
                    }));
                    alerted.push((subject, level));
                }
                Decision::Summarize {
                    request_id,
                    place,
                    reason,
                } => {
                    let subject = alert::request_subject(&request_id);
                    rows.push(DecisionRecord {
                        at: now,
                        subject: subject.clone(),
                        decision: "summarized".into(),
                        reason: reason.as_str().into(),
                        title: Some(place.name_en.into()),
                        body: None,
                        level: 1,
                    });
                    alerted.push((subject, 1));
                    self.end_snooze();
                }
                Decision::Suppress { subject, reason } => {
                    rows.push(DecisionRecord {
                        at: now,
                        subject,
                        decision: "suppressed".into(),
                        reason: reason.as_str().into(),
                        title: None,
                        body: None,
                        level: 0,
                    });
                }
                Decision::AdvisoryAlert { .. } => {}
            }
        }
        if !alerted.is_empty() || !rows.is_empty() {
            self.store.record_alerts(&alerted, &rows, now)?;
        }
        self.flush_bursts(now)?;
        Ok(())
    }

    /// Sends (or updates, under the same notification id) the burst summaries the tracker
    /// says are due.
    pub(super) fn flush_bursts(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(), lifeline_core::store::StoreError> {
        let unacknowledged: HashSet<String> = self
            .store
            .unacknowledged_alerted()?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let policy = self.policy();
        let due = match self.state.lock() {
            Ok(mut state) => state.tracker.bursts_due(&unacknowledged, &policy, now),
            Err(_) => return Ok(()),
        };
        let (radius_km, window_min) = (policy.burst_radius_km, policy.burst_window.num_minutes());
        for summary in due {
            let (place, count) = (summary.place, summary.count);
            let subject = format!("burst:{}", place.name_en);
            let texts = |lang: &str| {
                let name = if lang == "zh" {
                    place.name_zh
                } else {
                    place.name_en
                };
                (
                    text::summary_title(lang, count, name),
                    text::summary_body(lang, radius_km, window_min),
                )
            };
            let rows = self.deliver(Delivery {
                subject: &subject,
                kind: "summary",
                request_id: None,
                texts: &texts,
                level: 1,
                decision: "alerted",
                reason: Reason::Burst,
            });
            self.store.record_alerts(&[], &rows, now)?;
        }
        Ok(())
    }
}
