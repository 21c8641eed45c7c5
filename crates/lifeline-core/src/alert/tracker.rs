//! What the alert policy remembers between steps, as a pure state machine: the emergencies
//! alerted recently (for burst detection), each place's burst and how much of it was
//! announced, and which alerted emergencies were unacknowledged at the last look (to say
//! "acknowledged elsewhere" when the alarm stops because another desk acted). Every step
//! takes `now`; the desk's shell only delivers what a step returns.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::{AlertSettings, Candidate, Decision, RecentAlert};
use crate::geo::places::{self, Place};
use crate::model::Status;
use crate::store::AlertRecord;

#[derive(Debug, Clone)]
struct Burst {
    place: &'static Place,
    ids: BTreeSet<String>,
    /// How many of `ids` the last summary counted.
    sent: usize,
    last_sent: Option<DateTime<Utc>>,
}

/// A burst summary to send now: every emergency of the burst at `place`, the first ones
/// (alerted alone before the burst was recognised) included.
#[derive(Debug, Clone, PartialEq)]
pub struct BurstSummary {
    pub place: &'static Place,
    pub count: usize,
}

/// Escalations due now, grouped as the officer should get them.
#[derive(Debug, Clone, PartialEq)]
pub enum EscalationNotice {
    /// Enough escalations around one place to be one notification.
    Summary {
        place: &'static Place,
        level: u32,
        /// `(request id, level)` of each.
        requests: Vec<(String, u32)>,
    },
    /// One request's escalation.
    Single { request_id: String, level: u32 },
}

/// The policy's memory between steps.
#[derive(Debug, Clone, Default)]
pub struct AlertTracker {
    recent: Vec<RecentAlert>,
    bursts: BTreeMap<&'static str, Burst>,
    unacknowledged: BTreeSet<String>,
}

impl AlertTracker {
    /// Emergencies alerted recently, for [`super::decide_new`].
    pub fn recent(&self) -> &[RecentAlert] {
        &self.recent
    }

    /// Which of these changed requests, alerted and unacknowledged at the last look, are no
    /// longer new: another desk acknowledged them (only for changes that came from the hub).
    pub fn acknowledged_elsewhere<'a>(
        &self,
        candidates: &'a [Candidate],
        ledger: &HashMap<String, AlertRecord>,
    ) -> Vec<(&'a Candidate, u32)> {
        candidates
            .iter()
            .filter(|c| c.status != Status::New && self.unacknowledged.contains(&c.id))
            .filter_map(|c| {
                ledger
                    .get(&super::request_subject(&c.id))
                    .map(|record| (c, record.level))
            })
            .collect()
    }

    /// Takes what [`super::decide_new`] decided: an alerted or summarised emergency counts
    /// for the next burst, and a summarised one joins its place's burst.
    pub fn record(&mut self, decisions: &[Decision], candidates: &[Candidate], now: DateTime<Utc>) {
        for decision in decisions {
            let (id, place) = match decision {
                Decision::Alert { request_id, .. } => (request_id, None),
                Decision::Summarize {
                    request_id, place, ..
                } => (request_id, Some(*place)),
                _ => continue,
            };
            let Some(c) = candidates.iter().find(|c| &c.id == id) else {
                continue;
            };
            if let Some(place) = place {
                self.bursts
                    .entry(place.name_en)
                    .or_insert_with(|| Burst {
                        place,
                        ids: BTreeSet::new(),
                        sent: 0,
                        last_sent: None,
                    })
                    .ids
                    .insert(id.clone());
            }
            // An alerted critical request that is not an emergency does not make a burst.
            let counts = place.is_some() || c.emergency;
            if let (true, Some(position)) = (counts, c.position) {
                self.recent.push(RecentAlert {
                    id: id.clone(),
                    position,
                    at: now,
                });
            }
        }
    }

    /// The burst summaries due now: each burst that grew since its last summary, at most
    /// every `summary_interval`. A burst whose emergencies are all acknowledged meanwhile is
    /// not announced. Forgets recent alerts and quiet bursts older than the burst window.
    pub fn bursts_due(
        &mut self,
        unacknowledged: &HashSet<String>,
        settings: &AlertSettings,
        now: DateTime<Utc>,
    ) -> Vec<BurstSummary> {
        let window = settings.burst_window;
        self.recent.retain(|r| now - r.at <= window);
        let mut due = Vec::new();
        for burst in self.bursts.values_mut() {
            let grew = burst.ids.len() > burst.sent;
            let spaced = burst
                .last_sent
                .is_none_or(|t| now - t >= settings.summary_interval);
            if !(grew && spaced) {
                continue;
            }
            if burst.ids.iter().any(|id| unacknowledged.contains(id)) {
                // The summary counts every SOS of the burst, the first ones alerted alone too.
                due.push(BurstSummary {
                    place: burst.place,
                    count: burst.ids.len() + settings.burst_threshold - 1,
                });
                burst.last_sent = Some(now);
            }
            burst.sent = burst.ids.len();
        }
        self.bursts
            .retain(|_, b| b.last_sent.is_none_or(|t| now - t <= window));
        due
    }

    /// Remembers which alerted emergencies are unacknowledged now.
    pub fn set_unacknowledged(&mut self, ids: impl IntoIterator<Item = String>) {
        self.unacknowledged = ids.into_iter().collect();
    }
}

/// Groups the escalations [`super::escalations_due`] returned: `burst_threshold` or more
/// around one place become one summary, the rest go one by one.
pub fn group_escalations(
    due: &[Decision],
    open: &[Candidate],
    settings: &AlertSettings,
) -> Vec<EscalationNotice> {
    let mut by_place: BTreeMap<Option<&'static str>, Vec<(String, u32)>> = BTreeMap::new();
    for d in due {
        if let Decision::Alert {
            request_id, level, ..
        } = d
        {
            let place = open
                .iter()
                .find(|c| &c.id == request_id)
                .and_then(|c| c.position)
                .map(|(lon, lat)| places::nearest(lat, lon).0.name_en);
            by_place
                .entry(place)
                .or_default()
                .push((request_id.clone(), *level));
        }
    }
    let mut out = Vec::new();
    for (place, group) in by_place {
        match place.and_then(places::by_name) {
            Some(place) if group.len() >= settings.burst_threshold => {
                out.push(EscalationNotice::Summary {
                    place,
                    level: group.iter().map(|(_, l)| *l).max().unwrap_or(2),
                    requests: group,
                });
            }
            _ => out.extend(
                group
                    .into_iter()
                    .map(|(request_id, level)| EscalationNotice::Single { request_id, level }),
            ),
        }
    }
    out
}
