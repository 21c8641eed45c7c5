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
        let details = self.details;
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
        let recent = self
            .state
            .lock()
            .map(|s| s.recent.clone())
            .unwrap_or_default();
        let mut alerted: Vec<(String, u32)> = Vec::new();
        let mut rows: Vec<DecisionRecord> = Vec::new();
        // An alerted emergency someone else acknowledged: say why the alarm stopped.
        if from_hub {
            for c in &candidates {
                let subject = alert::request_subject(&c.id);
                if let Some(record) = ledger.get(&subject)
                    && c.status != lifeline_core::model::Status::New
                    && self
                        .state
                        .lock()
                        .is_ok_and(|s| s.unacknowledged.contains(&c.id))
                {
                    rows.push(DecisionRecord {
                        at: now,
                        subject,
                        decision: "suppressed".into(),
                        reason: Reason::AcknowledgedElsewhere.as_str().into(),
                        title: None,
                        body: None,
                        level: record.level,
                    });
                }
            }
        }
        for decision in alert::decide_new(&candidates, &self.policy(), &ledger, &recent, now) {
            match decision {
                Decision::Alert {
                    request_id,
                    level,
                    reason,
                } => {
                    let Some(c) = candidates.iter().find(|c| c.id == request_id) else {
                        continue;
                    };
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
                    if let (true, Some(position)) = (c.emergency, c.position)
                        && let Ok(mut state) = self.state.lock()
                    {
                        state.recent.push(RecentAlert {
                            id: request_id.clone(),
                            position,
                            at: now,
                        });
                    }
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
                    if let Ok(mut state) = self.state.lock() {
                        let burst = state.bursts.entry(place.name_en).or_insert_with(|| Burst {
                            place,
                            ids: BTreeSet::new(),
                            sent: 0,
                            last_sent: None,
                        });
                        burst.ids.insert(request_id.clone());
                        if let Some(position) = candidates
                            .iter()
                            .find(|c| c.id == request_id)
                            .and_then(|c| c.position)
                        {
                            state.recent.push(RecentAlert {
                                id: request_id,
                                position,
                                at: now,
                            });
                        }
                    }
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

    /// Sends (or updates, under the same notification id) the summary of each burst that
    /// grew since it was last sent, at most every `summary_interval`.
    /// A burst whose emergencies have all been acknowledged meanwhile is not announced.
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
        let due: Vec<(&'static Place, usize)> = {
            let Ok(mut state) = self.state.lock() else {
                return Ok(());
            };
            let window = self.policy().burst_window;
            state.recent.retain(|r| now - r.at <= window);
            let mut due = Vec::new();
            for burst in state.bursts.values_mut() {
                let grew = burst.ids.len() > burst.sent;
                let spaced = burst
                    .last_sent
                    .is_none_or(|t| now - t >= self.policy().summary_interval);
                let still_open = burst.ids.iter().any(|id| unacknowledged.contains(id));
                if grew && spaced && !still_open {
                    burst.sent = burst.ids.len();
                } else if grew && spaced {
                    // The summary counts every SOS of the burst, the first ones alerted alone too.
                    due.push((
                        burst.place,
                        burst.ids.len() + self.policy().burst_threshold - 1,
                    ));
                    burst.sent = burst.ids.len();
                    burst.last_sent = Some(now);
                }
            }
            // A quiet place's burst ends after its window.
            state
                .bursts
                .retain(|_, b| b.last_sent.is_none_or(|t| now - t <= window));
            due
        };
        let (radius_km, window_min) = (
            self.policy().burst_radius_km,
            self.policy().burst_window.num_minutes(),
        );
        for (place, count) in due {
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
