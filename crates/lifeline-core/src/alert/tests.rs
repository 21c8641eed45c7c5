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

/// One step of the tracker, as the desk runs it: decide, record, look for bursts due.
fn step(
    tracker: &mut AlertTracker,
    changed: &[Candidate],
    unacknowledged: &[&str],
    settings: &AlertSettings,
    now: DateTime<Utc>,
) -> (Vec<Decision>, Vec<BurstSummary>) {
    let decisions = decide_new(changed, settings, &HashMap::new(), tracker.recent(), now);
    tracker.record(&decisions, changed, now);
    let open: std::collections::HashSet<String> =
        unacknowledged.iter().map(|s| (*s).to_owned()).collect();
    let due = tracker.bursts_due(&open, settings, now);
    (decisions, due)
}

#[test]
fn a_burst_is_summarised_once_then_again_only_when_it_grows_after_the_interval() {
    let s = AlertSettings::default();
    let mut tracker = AlertTracker::default();
    let ids: Vec<String> = (0..6).map(|i| format!("s{i}")).collect();
    let at = |secs: i64| t0() + Duration::seconds(secs);
    let sos_n = |i: usize| sos(&ids[i], 41.0 + i as f64 * 0.001, 29.0);
    let open: Vec<&str> = ids.iter().map(String::as_str).collect();
    // Two alone, the third makes the burst: one summary counting all three.
    let (_, due) = step(
        &mut tracker,
        &[sos_n(0), sos_n(1), sos_n(2)],
        &open,
        &s,
        at(0),
    );
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].place.name_en, due[0].count), ("Istanbul", 3));
    // A fourth 10 s later: within the summary interval, nothing yet.
    let (_, due) = step(&mut tracker, &[sos_n(3)], &open, &s, at(10));
    assert!(due.is_empty(), "{due:?}");
    // At 30 s the summary goes again, now counting four.
    let (_, due) = step(&mut tracker, &[], &open, &s, at(31));
    assert_eq!(due.iter().map(|d| d.count).collect::<Vec<_>>(), [4]);
    // Nothing new: nothing sent.
    let (_, due) = step(&mut tracker, &[], &open, &s, at(70));
    assert!(due.is_empty());
}

#[test]
fn a_burst_acknowledged_before_its_summary_is_not_announced() {
    let s = AlertSettings::default();
    let mut tracker = AlertTracker::default();
    let burst: Vec<Candidate> = (0..3)
        .map(|i| sos(&format!("a{i}"), 41.0 + f64::from(i) * 0.001, 29.0))
        .collect();
    let (_, due) = step(&mut tracker, &burst, &[], &s, t0());
    assert!(due.is_empty(), "all acknowledged already: {due:?}");
    // A later SOS of the same place, unacknowledged, is announced as the burst grows.
    let (_, due) = step(
        &mut tracker,
        &[sos("a3", 41.004, 29.0)],
        &["a3"],
        &s,
        t0() + Duration::seconds(40),
    );
    assert_eq!(due.iter().map(|d| d.count).collect::<Vec<_>>(), [4]);
}

#[test]
fn recent_alerts_and_quiet_bursts_end_with_the_window() {
    let s = AlertSettings::default();
    let mut tracker = AlertTracker::default();
    step(
        &mut tracker,
        &[sos("q0", 41.0, 29.0), sos("q1", 41.001, 29.0)],
        &["q0", "q1"],
        &s,
        t0(),
    );
    assert_eq!(tracker.recent().len(), 2);
    // Eleven minutes later the two are history: a new SOS there alerts alone again.
    let later = t0() + Duration::minutes(11);
    let (decisions, due) = step(&mut tracker, &[sos("q2", 41.002, 29.0)], &["q2"], &s, later);
    assert!(
        matches!(decisions[..], [Decision::Alert { .. }]),
        "{decisions:?}"
    );
    assert!(due.is_empty());
    assert_eq!(tracker.recent().len(), 1);
}

#[test]
fn acknowledged_elsewhere_names_only_alerted_emergencies_that_were_unacknowledged() {
    let mut tracker = AlertTracker::default();
    tracker.set_unacknowledged(["e1".to_owned(), "e2".to_owned()]);
    let mut acked = sos("e1", 41.0, 29.0);
    acked.status = Status::Acknowledged;
    let still_new = sos("e2", 41.0, 29.0);
    let mut never_alerted = sos("e3", 41.0, 29.0);
    never_alerted.status = Status::Acknowledged;
    let ledger: HashMap<String, AlertRecord> = [record("e1", 2, t0()), record("e2", 1, t0())]
        .into_iter()
        .collect();
    let changed = [acked, still_new, never_alerted];
    let got: Vec<(&str, u32)> = tracker
        .acknowledged_elsewhere(&changed, &ledger)
        .into_iter()
        .map(|(c, level)| (c.id.as_str(), level))
        .collect();
    assert_eq!(got, [("e1", 2)]);
}

#[test]
fn escalations_around_one_place_become_one_notice() {
    let s = AlertSettings::default();
    let open = vec![
        sos("i1", 41.0, 29.0),
        sos("i2", 41.01, 29.0),
        sos("i3", 41.02, 29.0),
        sos("b1", 13.75, 100.5),
        Candidate {
            position: None,
            ..sos("n1", 0.0, 0.0)
        },
    ];
    let due: Vec<Decision> = open
        .iter()
        .map(|c| Decision::Alert {
            request_id: c.id.clone(),
            level: if c.id == "i2" { 3 } else { 2 },
            reason: Reason::Escalation,
        })
        .collect();
    let notices = group_escalations(&due, &open, &s);
    let mut summaries = Vec::new();
    let mut singles = Vec::new();
    for n in notices {
        match n {
            EscalationNotice::Summary {
                place,
                level,
                requests,
            } => summaries.push((place.name_en, level, requests.len())),
            EscalationNotice::Single { request_id, .. } => singles.push(request_id),
        }
    }
    assert_eq!(summaries, [("Istanbul", 3, 3)]);
    singles.sort();
    assert_eq!(
        singles,
        ["b1", "n1"],
        "one place alone, one without a position"
    );
}

#[test]
fn a_citizen_left_waiting_alerts_once_per_wait_and_only_for_an_open_emergency() {
    let settings = AlertSettings::default();
    let since = t0();
    let later = since + settings.reply_within;
    let mut resolved = sos("SOS-DONE", 41.0, 29.0);
    resolved.status = Status::Resolved;
    let mut routine = sos("ROUTINE", 41.0, 29.0);
    routine.emergency = false;
    let waiting = vec![
        (sos("SOS-1", 41.0, 29.0), since),
        (sos("SOS-RECENT", 41.0, 29.0), since + Duration::minutes(5)),
        (resolved, since),
        (routine, since),
    ];
    let due = waiting_due(&waiting, &settings, &HashSet::new(), later);
    assert_eq!(
        due.iter()
            .map(|w| w.request_id.as_str())
            .collect::<Vec<_>>(),
        ["SOS-1"],
        "an open emergency waited the whole time; the others did not or are not"
    );
    assert_eq!(due[0].waited, settings.reply_within);
    // Alerted once for this wait: not again, however long it lasts.
    let alerted: HashSet<String> = due.iter().map(|w| w.subject.clone()).collect();
    assert!(
        waiting_due(&waiting, &settings, &alerted, later + Duration::hours(1))
            .iter()
            .all(|w| w.request_id != "SOS-1")
    );
    // Answered, then the citizen writes again: a new wait, which alerts when due.
    let again = vec![(sos("SOS-1", 41.0, 29.0), later + Duration::minutes(1))];
    let due = waiting_due(&again, &settings, &alerted, later + Duration::minutes(11));
    assert_eq!(due.len(), 1, "a new wait is a new alert");
}
