//! Putting an alert in front of the officer: the desktop notification (after checking that
//! a notification server is on the bus), the window's banner, the taskbar's attention, and
//! the ledger row that explains it.

use super::*;

impl AlertService {
    /// Whether the session has a notification server, asked at most every 20 s.
    pub(super) fn notification_health(&self) -> NotificationHealth {
        if let Ok(state) = self.state.lock()
            && let Some((at, health)) = &state.server
            && at.elapsed() < SERVER_CHECK_TTL
        {
            return health.clone();
        }
        let now = ms(Utc::now());
        let health = match notify_rust::get_server_information() {
            Ok(info) => NotificationHealth {
                available: true,
                server: Some(format!("{} {} ({})", info.name, info.version, info.vendor)),
                error: None,
                checked_at: now,
            },
            Err(e) => NotificationHealth {
                available: false,
                server: None,
                error: Some(format!("no notification service on the session bus: {e}")),
                checked_at: now,
            },
        };
        if let Ok(mut state) = self.state.lock() {
            state.server = Some((Instant::now(), health.clone()));
        }
        health
    }

    /// Shows a desktop notification; returns why it could not, if it could not.
    pub(super) fn notify(&self, subject: &str, title: &str, body: &str) -> Option<String> {
        let health = self.notification_health();
        if !health.available {
            return health.error;
        }
        match self
            .app
            .notification()
            .builder()
            .id(notification_id(subject))
            .title(title)
            .body(body)
            .show()
        {
            Ok(()) => None,
            Err(e) => Some(format!("the notification could not be shown: {e}")),
        }
    }

    pub(super) fn attention(&self) {
        if let Some(window) = self.app.get_webview_window("main") {
            let _ = window.request_user_attention(Some(UserAttentionType::Critical));
        }
    }

    pub(super) fn emit(&self, kind: &str, request_id: Option<&str>, texts: Texts<'_>, level: u32) {
        let ((title_en, body_en), (title_zh, body_zh)) = (texts("en"), texts("zh"));
        let _ = self.app.emit(
            ALERT_EVENT,
            AlertEvent {
                kind: kind.into(),
                request_id: request_id.map(str::to_owned),
                title: InBothLanguages {
                    en: title_en,
                    zh: title_zh,
                },
                body: InBothLanguages {
                    en: body_en,
                    zh: body_zh,
                },
                level,
                at: ms(Utc::now()),
            },
        );
    }

    /// Delivers one alert: notification, window attention, banner; returns the decision rows.
    pub(super) fn deliver(&self, d: Delivery<'_>) -> Vec<DecisionRecord> {
        let Delivery {
            subject,
            kind,
            request_id,
            texts,
            level,
            decision,
            reason,
        } = d;
        let (title, body) = texts(&self.lang());
        let (title, body) = (title.as_str(), body.as_str());
        let now = Utc::now();
        let mut rows = vec![DecisionRecord {
            at: now,
            subject: subject.into(),
            decision: decision.into(),
            reason: reason.as_str().into(),
            title: Some(title.into()),
            body: Some(body.into()),
            level,
        }];
        if let Some(error) = self.notify(subject, title, body) {
            rows.push(DecisionRecord {
                at: now,
                subject: subject.into(),
                decision: "delivery_failed".into(),
                reason: error,
                title: Some(title.into()),
                body: None,
                level,
            });
        }
        self.attention();
        self.emit(kind, request_id, texts, level);
        rows
    }
}
