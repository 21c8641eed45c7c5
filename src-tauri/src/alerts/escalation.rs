//! The clock: escalations of unacknowledged emergencies, burst summaries that are due, and
//! the alarm's state.

use super::*;

impl AlertService {
    /// Every few seconds: escalations due, burst summaries due, the alarm's state.
    pub fn tick(&self) {
        let now = Utc::now();
        if let Err(e) = self
            .escalate(now)
            .and_then(|()| self.flush_bursts(now))
            .and_then(|()| self.remind_unanswered(now))
        {
            tracing::error!("alert tick failed: {e}");
        }
        self.refresh_alarm();
    }

    pub(super) fn escalate(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(), lifeline_core::store::StoreError> {
        let open = self.store.unacknowledged_alerted()?;
        if open.is_empty() {
            return Ok(());
        }
        let subjects: Vec<String> = open.iter().map(|c| alert::request_subject(&c.id)).collect();
        let ledger = self.store.alert_records(&subjects)?;
        let due = alert::escalations_due(&open, &self.policy(), &ledger, now);
        if due.is_empty() {
            return Ok(());
        }
        let mut alerted = Vec::new();
        let mut rows = Vec::new();
        // Escalations of one burst go out as one summary too.
        for notice in alert::group_escalations(&due, &open, &self.policy()) {
            match notice {
                EscalationNotice::Summary {
                    place,
                    level,
                    requests,
                } => {
                    let count = requests.len();
                    let texts = |lang: &str| {
                        let name = if lang == "zh" {
                            place.name_zh
                        } else {
                            place.name_en
                        };
                        (
                            text::escalation_summary_title(lang, count, name),
                            String::new(),
                        )
                    };
                    rows.extend(self.deliver(Delivery {
                        subject: &format!("burst:{}", place.name_en),
                        kind: "escalation",
                        request_id: None,
                        texts: &texts,
                        level,
                        decision: "escalated",
                        reason: Reason::Escalation,
                    }));
                    alerted.extend(
                        requests
                            .into_iter()
                            .map(|(id, l)| (alert::request_subject(&id), l)),
                    );
                }
                EscalationNotice::Single { request_id, level } => {
                    let Some(c) = open.iter().find(|c| c.id == request_id) else {
                        continue;
                    };
                    let request_texts = self.request_texts(c);
                    let minutes = (now - c.created_at).num_minutes().max(0);
                    let texts = |lang: &str| {
                        let (title, body) = request_texts(lang);
                        (text::escalation_title(lang, minutes, &title), body)
                    };
                    let subject = alert::request_subject(&request_id);
                    rows.extend(self.deliver(Delivery {
                        subject: &subject,
                        kind: "escalation",
                        request_id: Some(&request_id),
                        texts: &texts,
                        level,
                        decision: "escalated",
                        reason: Reason::Escalation,
                    }));
                    alerted.push((subject, level));
                }
            }
        }
        self.store.record_alerts(&alerted, &rows, now)
    }

    /// Citizens of open emergencies who wrote and have had no answer in time: one alert per
    /// wait, naming the request as a new alert does (privately by default).
    pub(super) fn remind_unanswered(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(), lifeline_core::store::StoreError> {
        let policy = self.policy();
        let waiting = self
            .store
            .unanswered_emergencies(now - policy.reply_within)?;
        if waiting.is_empty() {
            return Ok(());
        }
        let subjects: Vec<String> = waiting
            .iter()
            .map(|(c, since)| alert::waiting_subject(&c.id, *since))
            .collect();
        let alerted: std::collections::HashSet<String> =
            self.store.alert_records(&subjects)?.into_keys().collect();
        let mut recorded = Vec::new();
        let mut rows = Vec::new();
        for due in alert::waiting_due(&waiting, &policy, &alerted, now) {
            let Some((c, _)) = waiting.iter().find(|(c, _)| c.id == due.request_id) else {
                continue;
            };
            let request_texts = self.request_texts(c);
            let minutes = due.waited.num_minutes().max(0);
            let texts = |lang: &str| {
                let (title, body) = request_texts(lang);
                (text::waiting_title(lang, minutes, &title), body)
            };
            rows.extend(self.deliver(Delivery {
                subject: &due.subject,
                kind: "citizen_waiting",
                request_id: Some(&due.request_id),
                texts: &texts,
                level: 1,
                decision: "alerted",
                reason: Reason::CitizenWaiting,
            }));
            recorded.push((due.subject, 1));
        }
        if recorded.is_empty() {
            return Ok(());
        }
        self.store.record_alerts(&recorded, &rows, now)
    }

    /// Recomputes the alarm (sounding while an alerted emergency is unacknowledged) and tells
    /// the window when it changed.
    pub fn refresh_alarm(&self) {
        // One refresh at a time, from reading the store to emitting: two refreshes
        // interleaved (the tick and a sync event) could otherwise publish an older reading
        // last, and the alarm would sound on after everything was acknowledged.
        let Ok(_serial) = self.alarm_refresh.lock() else {
            return;
        };
        let open = match self.store.unacknowledged_alerted() {
            Ok(open) => open,
            Err(e) => {
                tracing::error!("cannot read the alarm's state: {e}");
                return;
            }
        };
        let subjects: Vec<String> = open.iter().map(|c| alert::request_subject(&c.id)).collect();
        let ledger = self.store.alert_records(&subjects).unwrap_or_default();
        let now = Utc::now();
        let snooze = self.state.lock().ok().and_then(|mut s| {
            // A snooze ends when its time is up, or when nothing is left to sound about.
            if s.snooze.as_ref().is_some_and(|(until, _)| *until <= now) || open.is_empty() {
                s.snooze = None;
            }
            s.snooze.clone()
        });
        let alarm = AlarmState {
            active: !open.is_empty(),
            level: ledger.values().map(|r| r.level).max().unwrap_or(0),
            count: open.len() as u32,
            oldest_id: open.first().map(|c| c.id.clone()),
            oldest_created_at: open.first().map(|c| ms(c.created_at)),
            snoozed_until: snooze.as_ref().map(|(until, _)| ms(*until)),
            snoozed_by: snooze.map(|(_, by)| by),
        };
        let changed = self.state.lock().is_ok_and(|mut s| {
            let changed = s.alarm.as_ref() != Some(&alarm);
            s.alarm = Some(alarm.clone());
            s.tracker
                .set_unacknowledged(open.iter().map(|c| c.id.clone()));
            changed
        });
        if changed {
            tracing::debug!(
                "alarm {} ({} unacknowledged, level {})",
                if alarm.active { "on" } else { "off" },
                alarm.count,
                alarm.level
            );
            let _ = self.app.emit(ALARM_EVENT, alarm);
        }
    }

    /// Snoozes the alarm's sound for `minutes` (the banner stays, escalations still notify);
    /// the next new emergency ends it. Logged in the alert ledger.
    pub fn snooze(&self, minutes: u32, officer: &str) -> AlarmState {
        let now = Utc::now();
        let until = now + Duration::minutes(i64::from(minutes));
        if let Ok(mut s) = self.state.lock() {
            s.snooze = Some((until, officer.to_owned()));
        }
        let row = DecisionRecord {
            at: now,
            subject: "alarm".into(),
            decision: "snoozed".into(),
            reason: "snoozed".into(),
            title: Some(format!("{minutes} min, {officer}")),
            body: None,
            level: 0,
        };
        if let Err(e) = self.store.record_alerts(&[], &[row], now) {
            tracing::error!("cannot log the snooze: {e}");
        }
        self.refresh_alarm();
        self.alarm()
    }

    /// A new emergency was alerted: a snoozed alarm sounds again.
    pub(super) fn end_snooze(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.snooze = None;
        }
    }

    pub fn alarm(&self) -> AlarmState {
        self.state
            .lock()
            .ok()
            .and_then(|s| s.alarm.clone())
            .unwrap_or(AlarmState {
                active: false,
                level: 0,
                count: 0,
                oldest_id: None,
                oldest_created_at: None,
                snoozed_until: None,
                snoozed_by: None,
            })
    }
}
