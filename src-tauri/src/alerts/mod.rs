//! Delivering what the alert policy decides: desktop notifications (through the notification
//! plugin), an in-app banner and alarm (events to the window), the taskbar's attention, and
//! a log of every decision with its reason. The policy itself lives in `lifeline_core::alert`.
//!
//! The notification plugin reports success even when no notification server is on the bus,
//! so delivery checks the server itself (`GetServerInformation`, cached briefly) and logs a
//! failed delivery as such; the in-app alarm sounds either way.

mod advisories;
mod delivery;
mod escalation;
mod requests;
mod text;

/// A category's name in the desk's language (the notifications' words).
pub use text::category as category_word;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use lifeline_core::Store;
use lifeline_core::alert::{
    self, AdvisoryCandidate, AlertSettings, AlertTracker, Candidate, Decision, EscalationNotice,
    Reason,
};
use lifeline_core::model::{AlertStatus as CapStatus, HelpRequest};
use lifeline_core::store::DecisionRecord;
use tauri::{AppHandle, Emitter, Manager, UserAttentionType};
use tauri_plugin_notification::NotificationExt;

use crate::convert::{city_name, ms};
use crate::dto::{
    AlarmState, AlertEvent, AlertStatus, DecisionDto, InBothLanguages, NotificationHealth,
};

pub const ALERT_EVENT: &str = "desk:alert";
pub const ALARM_EVENT: &str = "desk:alarm";

/// How long a notification-server check is trusted.
const SERVER_CHECK_TTL: StdDuration = StdDuration::from_secs(20);

#[derive(Default)]
struct State {
    /// The policy's memory between steps (recent emergencies, bursts, what was
    /// unacknowledged at the last look): `lifeline_core::alert` steps it, this only holds it.
    tracker: AlertTracker,
    alarm: Option<AlarmState>,
    /// The alarm's sound is snoozed until then, by this officer.
    snooze: Option<(DateTime<Utc>, String)>,
    server: Option<(Instant, NotificationHealth)>,
}

/// Title and body of an alert, composed for a language (`zh` or `en`).
type Texts<'a> = &'a dyn Fn(&str) -> (String, String);

/// One alert to put in front of the officer, and the ledger row that explains it.
struct Delivery<'a> {
    subject: &'a str,
    kind: &'a str,
    request_id: Option<&'a str>,
    /// The notification and the ledger use the desk's language; the window gets both.
    texts: Texts<'a>,
    level: u32,
    decision: &'a str,
    reason: Reason,
}

pub struct AlertService {
    app: AppHandle,
    store: Arc<Store>,
    /// Changes at run time only through the watched region drawn in the alerts panel.
    policy: RwLock<AlertSettings>,
    language: RwLock<String>,
    state: Mutex<State>,
    /// Held through a whole [`AlertService::refresh_alarm`].
    alarm_refresh: Mutex<()>,
    /// Notifications show the start of the description (a post's choice); by default they
    /// name only category, priority and city.
    details: std::sync::atomic::AtomicBool,
}

/// A stable notification id per subject, so a burst summary replaces itself.
fn notification_id(subject: &str) -> i32 {
    let mut h: u32 = 2_166_136_261;
    for b in subject.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(16_777_619);
    }
    (h & 0x3fff_ffff) as i32 + 1
}

impl AlertService {
    pub fn new(
        app: AppHandle,
        store: Arc<Store>,
        policy: AlertSettings,
        language: &str,
        details: bool,
    ) -> Arc<AlertService> {
        Arc::new(AlertService {
            app,
            store,
            policy: RwLock::new(policy),
            language: RwLock::new(language.into()),
            state: Mutex::new(State::default()),
            alarm_refresh: Mutex::new(()),
            details: std::sync::atomic::AtomicBool::new(details),
        })
    }

    fn policy(&self) -> AlertSettings {
        self.policy.read().map(|p| p.clone()).unwrap_or_default()
    }

    /// Watches a region drawn on the map (or, with `None`, no region).
    pub fn set_watch_region(&self, region: Option<lifeline_core::geo::BBox>) {
        if let Ok(mut policy) = self.policy.write() {
            policy.watch_region = region;
        }
    }

    /// New alert settings from the settings panel (watched posts and countries, escalation,
    /// quiet mode, notification details); the watched region is kept.
    pub fn reconfigure(&self, mut policy: AlertSettings, details: bool) {
        if let Ok(mut current) = self.policy.write() {
            policy.watch_region = current.watch_region;
            *current = policy;
        }
        self.details
            .store(details, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn set_language(&self, language: &str) {
        if let Ok(mut l) = self.language.write() {
            *l = language.into();
        }
    }

    fn lang(&self) -> String {
        self.language
            .read()
            .map(|l| l.clone())
            .unwrap_or_else(|_| "zh".into())
    }

    /// The "send test alert" button: the whole path, logged as a test.
    pub fn send_test(&self) -> NotificationHealth {
        let texts = |lang: &str| {
            (
                text::test_title(lang).to_owned(),
                text::test_body(lang).to_owned(),
            )
        };
        let rows = self.deliver(Delivery {
            subject: "test",
            kind: "test",
            request_id: None,
            texts: &texts,
            level: 0,
            decision: "tested",
            reason: Reason::Test,
        });
        let _ = self.store.record_alerts(&[], &rows, Utc::now());
        self.notification_health()
    }

    pub fn status(&self, decisions: Vec<DecisionRecord>, watch: Vec<String>) -> AlertStatus {
        let policy = self.policy();
        AlertStatus {
            alarm: self.alarm(),
            notifications: self.notification_health(),
            decisions: decisions
                .into_iter()
                .map(|d| DecisionDto {
                    at: ms(d.at),
                    subject: d.subject,
                    decision: d.decision,
                    reason: d.reason,
                    title: d.title,
                    level: d.level,
                })
                .collect(),
            quiet: policy.quiet,
            escalate_after_s: policy.escalate_after.num_seconds() as f64,
            watch_region: policy.watch_region.map(|b| crate::dto::Region {
                west: b.west,
                south: b.south,
                east: b.east,
                north: b.north,
            }),
            watch,
        }
    }
}

/// The policy's settings from the desk's.
pub fn policy_from(settings: &crate::settings::Settings) -> AlertSettings {
    AlertSettings {
        watch_posts: settings.watch_posts.clone(),
        watch_countries: settings.watch_countries.clone(),
        watch_region: settings
            .watch_region
            .and_then(|[w, s, e, n]| lifeline_core::geo::BBox::new(w, s, e, n).ok()),
        escalate_after: Duration::seconds(settings.escalate_after_s.max(1) as i64),
        reply_within: Duration::seconds(settings.reply_alert_after_s.max(1) as i64),
        quiet: settings.quiet,
        ..AlertSettings::default()
    }
}
