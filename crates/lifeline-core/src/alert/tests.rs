//! The alert policy as tables: each rule with the inputs that trigger it and those that
//! must not.

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
