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
//!
//! What the policy remembers between steps (recent emergencies, bursts, what was
//! unacknowledged at the last look) is an [`AlertTracker`], stepped with `now` like the rest.

use std::collections::{HashMap, HashSet};

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
    /// The citizen of an open emergency wrote and nobody has answered in time.
    CitizenWaiting,
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
            Reason::CitizenWaiting => "citizen_waiting",
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
    /// A citizen of an open emergency who wrote and has had no answer this long alerts.
    pub reply_within: Duration,
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
            reply_within: Duration::minutes(10),
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

/// A citizen left waiting: the request, the ledger subject of this wait, and how long.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingCitizen {
    pub request_id: String,
    pub subject: String,
    pub waited: Duration,
}

/// The ledger subject of one wait: a wait alerts once; an answer ends it, and the citizen's
/// next message after that starts a new one.
pub fn waiting_subject(id: &str, since: DateTime<Utc>) -> String {
    format!("reply:{id}:{}", since.timestamp_millis())
}

/// Citizens of open emergencies who wrote (at `since`) and have waited at least
/// `reply_within` for an answer, not yet alerted for this wait (`alerted` holds the
/// subjects already in the ledger).
pub fn waiting_due(
    waiting: &[(Candidate, DateTime<Utc>)],
    settings: &AlertSettings,
    alerted: &HashSet<String>,
    now: DateTime<Utc>,
) -> Vec<WaitingCitizen> {
    waiting
        .iter()
        .filter(|(c, since)| {
            c.emergency && c.status.is_open() && now - *since >= settings.reply_within
        })
        .map(|(c, since)| WaitingCitizen {
            request_id: c.id.clone(),
            subject: waiting_subject(&c.id, *since),
            waited: now - *since,
        })
        .filter(|w| !alerted.contains(&w.subject))
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

mod tracker;

pub use tracker::{AlertTracker, BurstSummary, EscalationNotice, group_escalations};

#[cfg(test)]
mod tests;
