//! When the desk alerts, and why (or why not). Pure functions of what changed, the
//! settings, what was already alerted, and the time: the same inputs always give the same
//! decisions, so the rules are tested as tables.
//!
//! The rules:
//! * a new emergency, or a new critical request, inside the watch area alerts — once per
//!   request, ever (the ledger survives restarts);
//! * quiet settings silence critical requests and advisories, never an emergency;
//! * a burst (the `burst_threshold`-th emergency within `burst_radius_km` in `burst_window`)
//!   is folded into one summary per place instead of one notification each;
//! * an emergency nobody acknowledges alerts again after `escalate_after`, then at doubling
//!   intervals up to `escalate_cap`, for as long as it stays unacknowledged: emergencies
//!   never expire by timer;
//! * an advisory of severity Extreme or Severe whose areas hold open requests alerts once.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use crate::geo::{self, BBox, places};
use crate::model::{Category, Priority, Severity, Status};
use crate::store::AlertRecord;

/// Why a decision was taken: a closed set the UI translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    NewEmergency,
    NewCritical,
    Burst,
    Escalation,
    SevereAdvisory,
    OutsideWatchArea,
    AlreadyAlerted,
    AcknowledgedElsewhere,
    QuietHours,
    NotActual,
    Test,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NewEmergency => "new_emergency",
            Reason::NewCritical => "new_critical",
            Reason::Burst => "burst",
            Reason::Escalation => "escalation",
            Reason::SevereAdvisory => "severe_advisory",
            Reason::OutsideWatchArea => "outside_watch_area",
            Reason::AlreadyAlerted => "already_alerted",
            Reason::AcknowledgedElsewhere => "acknowledged_elsewhere",
            Reason::QuietHours => "quiet_hours",
            Reason::NotActual => "not_actual",
            Reason::Test => "test",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlertSettings {
    /// Consular posts watched; with countries and region, empty means everywhere.
    pub watch_posts: Vec<String>,
    pub watch_countries: Vec<String>,
    pub watch_region: Option<BBox>,
    /// Quiet mode: only emergencies alert.
    pub quiet: bool,
    pub burst_threshold: usize,
    pub burst_radius_km: f64,
    pub burst_window: Duration,
    /// A place's burst summary is re-sent at most this often.
    pub summary_interval: Duration,
    pub escalate_after: Duration,
    pub escalate_cap: Duration,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            watch_posts: Vec::new(),
            watch_countries: Vec::new(),
            watch_region: None,
            quiet: false,
            burst_threshold: 3,
            burst_radius_km: 50.0,
            burst_window: Duration::minutes(10),
            summary_interval: Duration::seconds(30),
            escalate_after: Duration::minutes(5),
            escalate_cap: Duration::minutes(30),
        }
    }
}

/// What the policy knows of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: String,
    pub emergency: bool,
    pub priority: Priority,
    pub status: Status,
    pub category: Category,
    pub position: Option<(f64, f64)>,
    pub post: Option<String>,
    pub country: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// An alert already given for an emergency, for burst detection.
#[derive(Debug, Clone, PartialEq)]
pub struct RecentAlert {
    pub id: String,
    pub position: (f64, f64),
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Alert for one request (`level` 1 first, 2.. escalations).
    Alert {
        request_id: String,
        level: u32,
        reason: Reason,
    },
    /// Fold this request into its place's burst summary.
    Summarize {
        request_id: String,
        place: &'static places::Place,
        reason: Reason,
    },
    /// An advisory over open requests.
    AdvisoryAlert {
        subject: String,
        open_requests: u32,
        reason: Reason,
    },
    /// No alert, and why.
    Suppress { subject: String, reason: Reason },
}

pub fn request_subject(id: &str) -> String {
    format!("request:{id}")
}

pub fn advisory_subject(sender: &str, identifier: &str) -> String {
    format!("advisory:{sender},{identifier}")
}

fn in_watch_area(c: &Candidate, s: &AlertSettings) -> bool {
    if s.watch_posts.is_empty() && s.watch_countries.is_empty() && s.watch_region.is_none() {
        return true;
    }
    c.post.as_ref().is_some_and(|p| s.watch_posts.contains(p))
        || c.country
            .as_ref()
            .is_some_and(|k| s.watch_countries.contains(k))
        || matches!((s.watch_region, c.position), (Some(r), Some((lon, lat))) if r.contains(lon, lat))
}

/// Decisions for requests that are new or changed on this desk. `recent` are the emergencies
/// alerted lately (for bursts); decisions within one call see each other (a batch of 40 SOS
/// gives two alerts and 38 summaries, not 40 alerts).
pub fn decide_new(
    changed: &[Candidate],
    settings: &AlertSettings,
    ledger: &HashMap<String, AlertRecord>,
    recent: &[RecentAlert],
    now: DateTime<Utc>,
) -> Vec<Decision> {
    let mut recent: Vec<RecentAlert> = recent
        .iter()
        .filter(|r| now - r.at <= settings.burst_window)
        .cloned()
        .collect();
    let mut out = Vec::new();
    for c in changed {
        let urgent = c.emergency || c.priority == Priority::Critical;
        if !urgent || !c.status.is_open() {
            continue; // not alert material; nothing to log
        }
        let subject = request_subject(&c.id);
        if ledger.contains_key(&subject) {
            continue; // already alerted: a change (not a new request) says nothing new here
        }
        if c.status != Status::New {
            out.push(Decision::Suppress {
                subject,
                reason: Reason::AcknowledgedElsewhere,
            });
            continue;
        }
        if !in_watch_area(c, settings) {
            out.push(Decision::Suppress {
                subject,
                reason: Reason::OutsideWatchArea,
            });
            continue;
        }
        if !c.emergency {
            if settings.quiet {
                out.push(Decision::Suppress {
                    subject,
                    reason: Reason::QuietHours,
                });
            } else {
                out.push(Decision::Alert {
                    request_id: c.id.clone(),
                    level: 1,
                    reason: Reason::NewCritical,
                });
            }
            continue;
        }
        // An emergency: alone, or part of a burst around one place.
        if let Some(position) = c.position {
            let radius_m = settings.burst_radius_km * 1000.0;
            let nearby = recent
                .iter()
                .filter(|r| {
                    geo::distance_m(r.position.1, r.position.0, position.1, position.0) <= radius_m
                })
                .count();
            recent.push(RecentAlert {
                id: c.id.clone(),
                position,
                at: now,
            });
            if nearby + 1 >= settings.burst_threshold {
                let (place, _) = places::nearest(position.1, position.0);
                out.push(Decision::Summarize {
                    request_id: c.id.clone(),
                    place,
                    reason: Reason::Burst,
                });
                continue;
            }
        }
        out.push(Decision::Alert {
            request_id: c.id.clone(),
            level: 1,
            reason: Reason::NewEmergency,
        });
    }
    out
}

/// When an alerted, still unacknowledged emergency is due its next alert.
pub fn next_escalation(record: &AlertRecord, settings: &AlertSettings) -> DateTime<Utc> {
    let factor = 1i32 << (record.level.saturating_sub(1)).min(16);
    let interval = (settings.escalate_after * factor).min(settings.escalate_cap);
    record.last_at + interval
}

/// Escalations due among `open` (the alerted emergencies the caller found still new, i.e.
/// unacknowledged). Acknowledged ones are simply not passed: nothing re-alerts for them.
pub fn escalations_due(
    open: &[Candidate],
    settings: &AlertSettings,
    ledger: &HashMap<String, AlertRecord>,
    now: DateTime<Utc>,
) -> Vec<Decision> {
    open.iter()
        .filter(|c| c.emergency && c.status == Status::New)
        .filter_map(|c| {
            let record = ledger.get(&request_subject(&c.id))?;
            (now >= next_escalation(record, settings)).then(|| Decision::Alert {
                request_id: c.id.clone(),
                level: record.level + 1,
                reason: Reason::Escalation,
            })
        })
        .collect()
}

/// What the policy knows of an advisory.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryCandidate {
    pub sender: String,
    pub identifier: String,
    pub severity: Severity,
    pub actual: bool,
    pub open_requests_inside: u32,
}

pub fn decide_advisory(
    a: &AdvisoryCandidate,
    settings: &AlertSettings,
    ledger: &HashMap<String, AlertRecord>,
) -> Option<Decision> {
    if !matches!(a.severity, Severity::Extreme | Severity::Severe) || a.open_requests_inside == 0 {
        return None;
    }
    let subject = advisory_subject(&a.sender, &a.identifier);
    if ledger.contains_key(&subject) {
        return None;
    }
    Some(if !a.actual {
        Decision::Suppress {
            subject,
            reason: Reason::NotActual,
        }
    } else if settings.quiet {
        Decision::Suppress {
            subject,
            reason: Reason::QuietHours,
        }
    } else {
        Decision::AdvisoryAlert {
            subject,
            open_requests: a.open_requests_inside,
            reason: Reason::SevereAdvisory,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn sos(id: &str, lat: f64, lon: f64) -> Candidate {
        Candidate {
            id: id.into(),
            emergency: true,
            priority: Priority::Critical,
            status: Status::New,
            category: Category::NaturalDisaster,
            position: Some((lon, lat)),
            post: Some("Consulate-General Istanbul".into()),
            country: Some("TR".into()),
            created_at: t0(),
        }
    }

    fn record(id: &str, level: u32, last: DateTime<Utc>) -> (String, AlertRecord) {
        let subject = request_subject(id);
        (
            subject.clone(),
            AlertRecord {
                subject,
                first_at: last,
                last_at: last,
                level,
                alerts_sent: level,
            },
        )
    }

    /// One row of the policy table: what arrives, the settings, what was alerted before,
    /// and the decisions expected.
    struct Case {
        name: &'static str,
        changed: Vec<Candidate>,
        settings: AlertSettings,
        ledger: Vec<(String, AlertRecord)>,
        recent: Vec<RecentAlert>,
        expect: Vec<(&'static str, &'static str)>,
    }

    fn check(case: Case) {
        let ledger: HashMap<String, AlertRecord> = case.ledger.into_iter().collect();
        let got: Vec<(String, &'static str)> =
            decide_new(&case.changed, &case.settings, &ledger, &case.recent, t0())
                .into_iter()
                .map(|d| match d {
                    Decision::Alert {
                        request_id, reason, ..
                    } => (request_id, reason.as_str()),
                    Decision::Summarize {
                        request_id, reason, ..
                    } => (request_id, reason.as_str()),
                    Decision::AdvisoryAlert {
                        subject, reason, ..
                    }
                    | Decision::Suppress { subject, reason } => (
                        subject.trim_start_matches("request:").to_owned(),
                        reason.as_str(),
                    ),
                })
                .collect();
        let want: Vec<(String, &'static str)> = case
            .expect
            .iter()
            .map(|(i, r)| ((*i).to_owned(), *r))
            .collect();
        assert_eq!(got, want, "case `{}`", case.name);
    }

    #[test]
    fn policy_table() {
        let quiet = AlertSettings {
            quiet: true,
            ..AlertSettings::default()
        };
        let bangkok_only = AlertSettings {
            watch_posts: vec!["Embassy Bangkok".into()],
            ..AlertSettings::default()
        };
        let mut critical = sos("c1", 41.0, 29.0);
        critical.emergency = false;
        let mut normal = critical.clone();
        normal.id = "n1".into();
        normal.priority = Priority::Normal;
        let mut acked = sos("k1", 41.0, 29.0);
        acked.status = Status::Acknowledged;
        let mut far_away = sos("f1", 41.0, 29.0);
        far_away.post = Some("Embassy Cairo".into());
        far_away.country = Some("EG".into());
        let cases = vec![
            Case {
                name: "a new emergency alerts",
                changed: vec![sos("a", 41.0, 29.0)],
                settings: AlertSettings::default(),
                ledger: vec![],
                recent: vec![],
                expect: vec![("a", "new_emergency")],
            },
            Case {
                name: "a new critical request alerts",
                changed: vec![critical.clone()],
                settings: AlertSettings::default(),
                ledger: vec![],
                recent: vec![],
                expect: vec![("c1", "new_critical")],
            },
            Case {
                name: "normal priority is not alert material",
                changed: vec![normal],
                settings: AlertSettings::default(),
                ledger: vec![],
                recent: vec![],
                expect: vec![],
            },
            Case {
                name: "quiet silences critical requests",
                changed: vec![critical],
                settings: quiet.clone(),
                ledger: vec![],
                recent: vec![],
                expect: vec![("c1", "quiet_hours")],
            },
            Case {
                name: "quiet never silences an emergency",
                changed: vec![sos("q", 41.0, 29.0)],
                settings: quiet,
                ledger: vec![],
                recent: vec![],
                expect: vec![("q", "new_emergency")],
            },
            Case {
                name: "outside the watch area",
                changed: vec![far_away.clone()],
                settings: bangkok_only.clone(),
                ledger: vec![],
                recent: vec![],
                expect: vec![("f1", "outside_watch_area")],
            },
            Case {
                name: "inside the watch area by country",
                changed: vec![far_away],
                settings: AlertSettings {
                    watch_countries: vec!["EG".into()],
                    ..AlertSettings::default()
                },
                ledger: vec![],
                recent: vec![],
                expect: vec![("f1", "new_emergency")],
            },
            Case {
                name: "inside a drawn region that crosses the antimeridian",
                changed: vec![sos("fiji", -17.7, 178.4), sos("samoa", -13.8, -171.8)],
                settings: AlertSettings {
                    watch_region: BBox::new(175.0, -25.0, -170.0, -10.0).ok(),
                    ..AlertSettings::default()
                },
                ledger: vec![],
                recent: vec![],
                expect: vec![("fiji", "new_emergency"), ("samoa", "new_emergency")],
            },
            Case {
                name: "outside a drawn region",
                changed: vec![sos("perth", -31.9, 115.9)],
                settings: AlertSettings {
                    watch_region: BBox::new(175.0, -25.0, -170.0, -10.0).ok(),
                    ..AlertSettings::default()
                },
                ledger: vec![],
                recent: vec![],
                expect: vec![("perth", "outside_watch_area")],
            },
            Case {
                name: "never twice for one request",
                changed: vec![sos("a", 41.0, 29.0)],
                settings: AlertSettings::default(),
                ledger: vec![record("a", 1, t0())],
                recent: vec![],
                expect: vec![],
            },
            Case {
                name: "acknowledged before this desk saw it",
                changed: vec![acked],
                settings: AlertSettings::default(),
                ledger: vec![],
                recent: vec![],
                expect: vec![("k1", "acknowledged_elsewhere")],
            },
            Case {
                name: "the third SOS near one city starts a burst summary",
                changed: vec![
                    sos("b1", 41.00, 29.00),
                    sos("b2", 41.05, 29.02),
                    sos("b3", 41.02, 28.95),
                    sos("elsewhere", 30.04, 31.23),
                ],
                settings: AlertSettings::default(),
                ledger: vec![],
                recent: vec![],
                expect: vec![
                    ("b1", "new_emergency"),
                    ("b2", "new_emergency"),
                    ("b3", "burst"),
                    ("elsewhere", "new_emergency"),
                ],
            },
            Case {
                name: "recent alerts count towards a burst; old ones do not",
                changed: vec![sos("b4", 41.0, 29.0)],
                settings: AlertSettings::default(),
                ledger: vec![],
                recent: vec![
                    RecentAlert {
                        id: "x".into(),
                        position: (29.0, 41.0),
                        at: t0() - Duration::minutes(2),
                    },
                    RecentAlert {
                        id: "y".into(),
                        position: (29.0, 41.0),
                        at: t0() - Duration::minutes(30),
                    },
                ],
                expect: vec![("b4", "new_emergency")],
            },
        ];
        for case in cases {
            check(case);
        }
    }

    #[test]
    fn forty_sos_in_a_minute_become_two_alerts_and_one_summary() {
        let burst: Vec<Candidate> = (0..40)
            .map(|i| sos(&format!("s{i}"), 41.0 + f64::from(i) * 0.001, 29.0))
            .collect();
        let decisions = decide_new(
            &burst,
            &AlertSettings::default(),
            &HashMap::new(),
            &[],
            t0(),
        );
        let alerts = decisions
            .iter()
            .filter(|d| matches!(d, Decision::Alert { .. }))
            .count();
        let places: std::collections::BTreeSet<&str> = decisions
            .iter()
            .filter_map(|d| match d {
                Decision::Summarize { place, .. } => Some(place.name_en),
                _ => None,
            })
            .collect();
        assert_eq!(alerts, 2);
        assert_eq!(
            places.into_iter().collect::<Vec<_>>(),
            ["Istanbul"],
            "one summary, named after the place"
        );
    }

    #[test]
    fn escalation_repeats_at_doubling_intervals_until_acknowledged() {
        let s = AlertSettings::default();
        let open = vec![sos("e", 41.0, 29.0)];
        let due = |level: u32, last: DateTime<Utc>, now: DateTime<Utc>| {
            let ledger: HashMap<_, _> = [record("e", level, last)].into_iter().collect();
            escalations_due(&open, &s, &ledger, now)
        };
        assert!(
            due(1, t0(), t0() + Duration::minutes(4)).is_empty(),
            "not before five minutes"
        );
        assert_eq!(
            due(1, t0(), t0() + Duration::minutes(5)),
            [Decision::Alert {
                request_id: "e".into(),
                level: 2,
                reason: Reason::Escalation
            }]
        );
        assert!(
            due(2, t0(), t0() + Duration::minutes(9)).is_empty(),
            "then ten minutes"
        );
        assert_eq!(due(2, t0(), t0() + Duration::minutes(10)).len(), 1);
        assert_eq!(
            due(5, t0(), t0() + Duration::minutes(30)).len(),
            1,
            "capped at thirty minutes"
        );
        let in_a_week = t0() + Duration::days(7);
        assert_eq!(
            due(40, in_a_week - Duration::minutes(31), in_a_week).len(),
            1,
            "never expires by timer"
        );
        let mut acknowledged = open[0].clone();
        acknowledged.status = Status::Acknowledged;
        let ledger: HashMap<_, _> = [record("e", 1, t0())].into_iter().collect();
        assert!(
            escalations_due(&[acknowledged], &s, &ledger, t0() + Duration::hours(1)).is_empty(),
            "acknowledged: silent"
        );
    }

    #[test]
    fn severe_advisories_over_open_requests_alert_once() {
        let s = AlertSettings::default();
        let mut a = AdvisoryCandidate {
            sender: "x".into(),
            identifier: "1".into(),
            severity: Severity::Extreme,
            actual: true,
            open_requests_inside: 3,
        };
        let none = HashMap::new();
        assert!(matches!(
            decide_advisory(&a, &s, &none),
            Some(Decision::AdvisoryAlert {
                open_requests: 3,
                ..
            })
        ));
        let alerted: HashMap<_, _> = [(
            advisory_subject("x", "1"),
            AlertRecord {
                subject: advisory_subject("x", "1"),
                first_at: t0(),
                last_at: t0(),
                level: 1,
                alerts_sent: 1,
            },
        )]
        .into_iter()
        .collect();
        assert_eq!(decide_advisory(&a, &s, &alerted), None, "once");
        a.open_requests_inside = 0;
        assert_eq!(
            decide_advisory(&a, &s, &none),
            None,
            "no citizen inside: nothing to say"
        );
        a.open_requests_inside = 2;
        a.severity = Severity::Moderate;
        assert_eq!(decide_advisory(&a, &s, &none), None);
        a.severity = Severity::Severe;
        a.actual = false;
        assert!(
            matches!(
                decide_advisory(&a, &s, &none),
                Some(Decision::Suppress {
                    reason: Reason::NotActual,
                    ..
                })
            ),
            "a test is never a real warning"
        );
        a.actual = true;
        let quiet = AlertSettings {
            quiet: true,
            ..AlertSettings::default()
        };
        assert!(matches!(
            decide_advisory(&a, &quiet, &none),
            Some(Decision::Suppress {
                reason: Reason::QuietHours,
                ..
            })
        ));
    }
}
