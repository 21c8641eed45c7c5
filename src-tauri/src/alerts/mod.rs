//! Delivering what the alert policy decides: desktop notifications (through the notification
//! plugin), an in-app banner and alarm (events to the window), the taskbar's attention, and
//! a log of every decision with its reason. The policy itself lives in `lifeline_core::alert`.
//!
//! The notification plugin reports success even when no notification server is on the bus,
//! so delivery checks the server itself (`GetServerInformation`, cached briefly) and logs a
//! failed delivery as such; the in-app alarm sounds either way.

mod text;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use lifeline_core::Store;
use lifeline_core::alert::{
    self, AdvisoryCandidate, AlertSettings, Candidate, Decision, Reason, RecentAlert,
};
use lifeline_core::geo::places::{self, Place};
use lifeline_core::model::{AlertStatus as CapStatus, HelpRequest};
use lifeline_core::store::DecisionRecord;
use tauri::{AppHandle, Emitter, Manager, UserAttentionType};
use tauri_plugin_notification::NotificationExt;

use crate::convert::{ms, place_name};
use crate::dto::{
    AlarmState, AlertEvent, AlertStatus, DecisionDto, InBothLanguages, NotificationHealth,
};

pub const ALERT_EVENT: &str = "desk:alert";
pub const ALARM_EVENT: &str = "desk:alarm";

/// How long a notification-server check is trusted.
const SERVER_CHECK_TTL: StdDuration = StdDuration::from_secs(20);

struct Burst {
    place: &'static Place,
    ids: BTreeSet<String>,
    sent: usize,
    last_sent: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct State {
    recent: Vec<RecentAlert>,
    /// Alerted emergencies that were unacknowledged at the last look.
    unacknowledged: BTreeSet<String>,
    bursts: HashMap<&'static str, Burst>,
    alarm: Option<AlarmState>,
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
    ) -> Arc<AlertService> {
        Arc::new(AlertService {
            app,
            store,
            policy: RwLock::new(policy),
            language: RwLock::new(language.into()),
            state: Mutex::new(State::default()),
            alarm_refresh: Mutex::new(()),
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

    /// Whether the session has a notification server, asked at most every 20 s.
    fn notification_health(&self) -> NotificationHealth {
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
    fn notify(&self, subject: &str, title: &str, body: &str) -> Option<String> {
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

    fn attention(&self) {
        if let Some(window) = self.app.get_webview_window("main") {
            let _ = window.request_user_attention(Some(UserAttentionType::Critical));
        }
    }

    fn emit(&self, kind: &str, request_id: Option<&str>, texts: Texts<'_>, level: u32) {
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
    fn deliver(&self, d: Delivery<'_>) -> Vec<DecisionRecord> {
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

    fn request(&self, id: &str) -> Option<HelpRequest> {
        self.store.get_request(id).ok().flatten().map(|s| s.request)
    }

    /// The texts of a request's alert, the request read once for both languages.
    fn request_texts(&self, c: &Candidate) -> impl Fn(&str) -> (String, String) {
        let request = self.request(&c.id);
        let (emergency, category) = (c.emergency, c.category);
        move |lang: &str| match &request {
            Some(r) => (
                text::alert_title(lang, r.emergency, r.category, &place_name(r, lang)),
                text::alert_body(lang, r.people_count, &r.description),
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

    fn process_changes(
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
    fn flush_bursts(&self, now: DateTime<Utc>) -> Result<(), lifeline_core::store::StoreError> {
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

    /// Every few seconds: escalations due, burst summaries due, the alarm's state.
    pub fn tick(&self) {
        let now = Utc::now();
        if let Err(e) = self.escalate(now).and_then(|()| self.flush_bursts(now)) {
            tracing::error!("alert tick failed: {e}");
        }
        self.refresh_alarm();
    }

    fn escalate(&self, now: DateTime<Utc>) -> Result<(), lifeline_core::store::StoreError> {
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
        // Escalations of one burst go out as one summary too.
        let mut by_place: HashMap<&'static str, Vec<(String, u32)>> = HashMap::new();
        for d in due {
            if let Decision::Alert {
                request_id, level, ..
            } = d
            {
                let place = open
                    .iter()
                    .find(|c| c.id == request_id)
                    .and_then(|c| c.position)
                    .map_or("", |(lon, lat)| places::nearest(lat, lon).0.name_en);
                by_place.entry(place).or_default().push((request_id, level));
            }
        }
        let mut alerted = Vec::new();
        let mut rows = Vec::new();
        for (place, group) in by_place {
            if group.len() >= self.policy().burst_threshold && !place.is_empty() {
                let level = group.iter().map(|(_, l)| *l).max().unwrap_or(2);
                let count = group.len();
                let texts = |lang: &str| {
                    let name = places::by_name(place)
                        .map_or(place, |p| if lang == "zh" { p.name_zh } else { p.name_en });
                    (
                        text::escalation_summary_title(lang, count, name),
                        String::new(),
                    )
                };
                rows.extend(self.deliver(Delivery {
                    subject: &format!("burst:{place}"),
                    kind: "escalation",
                    request_id: None,
                    texts: &texts,
                    level,
                    decision: "escalated",
                    reason: Reason::Escalation,
                }));
                alerted.extend(
                    group
                        .into_iter()
                        .map(|(id, l)| (alert::request_subject(&id), l)),
                );
            } else {
                for (id, level) in group {
                    let Some(c) = open.iter().find(|c| c.id == id) else {
                        continue;
                    };
                    let request_texts = self.request_texts(c);
                    let minutes = (now - c.created_at).num_minutes().max(0);
                    let texts = |lang: &str| {
                        let (title, body) = request_texts(lang);
                        (text::escalation_title(lang, minutes, &title), body)
                    };
                    let subject = alert::request_subject(&id);
                    rows.extend(self.deliver(Delivery {
                        subject: &subject,
                        kind: "escalation",
                        request_id: Some(&id),
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
        let alarm = AlarmState {
            active: !open.is_empty(),
            level: ledger.values().map(|r| r.level).max().unwrap_or(0),
            count: open.len() as u32,
            oldest_id: open.first().map(|c| c.id.clone()),
            oldest_created_at: open.first().map(|c| ms(c.created_at)),
        };
        let changed = self.state.lock().is_ok_and(|mut s| {
            let changed = s.alarm.as_ref() != Some(&alarm);
            s.alarm = Some(alarm.clone());
            s.unacknowledged = open.iter().map(|c| c.id.clone()).collect();
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
            })
    }

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
                .requests_in_advisory(row.id, true)
                .map(|r| r.len() as u32)
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
        quiet: settings.quiet,
        ..AlertSettings::default()
    }
}
