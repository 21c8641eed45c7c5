//! Alerts on advisories: Extreme or Severe ones over open requests, once each.

use super::*;

impl AlertService {
    /// Advisories changed: Extreme or Severe ones over open requests alert once.
    pub fn on_advisories_changed(&self) {
        let now = Utc::now();
        let Ok(rows) = self.store.advisories(false, now) else {
            return;
        };
        for row in rows
            .iter()
            .filter(|r| r.state == lifeline_core::model::Lifecycle::Active)
        {
            let a = &row.advisory;
            if !matches!(
                a.severity(),
                lifeline_core::model::Severity::Extreme | lifeline_core::model::Severity::Severe
            ) {
                continue;
            }
            let open = self
                .store
                .count_requests_in_advisory(row.id, true)
                .map(|n| n as u32)
                .unwrap_or(0);
            let candidate = AdvisoryCandidate {
                sender: a.key.sender.clone(),
                identifier: a.key.identifier.clone(),
                severity: a.severity(),
                actual: a.status == CapStatus::Actual,
                open_requests_inside: open,
            };
            let subject = alert::advisory_subject(&candidate.sender, &candidate.identifier);
            let ledger = self
                .store
                .alert_records(std::slice::from_ref(&subject))
                .unwrap_or_default();
            let decision_rows = match alert::decide_advisory(&candidate, &self.policy(), &ledger) {
                Some(Decision::AdvisoryAlert {
                    open_requests,
                    reason,
                    ..
                }) => {
                    let texts = |lang: &str| {
                        let info = a.info_for(if lang == "zh" { "zh-CN" } else { "en" });
                        (
                            text::advisory_title(
                                lang,
                                a.severity(),
                                info.map_or("", |i| i.event.as_str()),
                            ),
                            text::advisory_body(
                                lang,
                                open_requests,
                                info.and_then(|i| i.headline.as_deref()).unwrap_or(""),
                            ),
                        )
                    };
                    let rows = self.deliver(Delivery {
                        subject: &subject,
                        kind: "advisory",
                        request_id: None,
                        texts: &texts,
                        level: 1,
                        decision: "alerted",
                        reason,
                    });
                    let _ = self.store.record_alerts(&[(subject, 1)], &rows, now);
                    continue;
                }
                Some(Decision::Suppress { subject, reason }) => vec![DecisionRecord {
                    at: now,
                    subject: subject.clone(),
                    decision: "suppressed".into(),
                    reason: reason.as_str().into(),
                    title: None,
                    body: None,
                    level: 0,
                }],
                _ => continue,
            };
            // A suppressed advisory is recorded as handled, so it is explained once, not on every poll.
            let _ = self
                .store
                .record_alerts(&[(subject, 0)], &decision_rows, now);
        }
    }
}
