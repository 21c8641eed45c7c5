//! What this desk has already alerted on (so nothing alerts twice, across restarts), and the
//! log of alert decisions with their reasons.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Result, Store, from_ms, ms};

#[derive(Debug, Clone, PartialEq)]
pub struct AlertRecord {
    pub subject: String,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    /// 1 for the first alert, 2 and up for escalations.
    pub level: u32,
    pub alerts_sent: u32,
}

/// One logged decision (alerted, escalated, summarized, suppressed, delivery failed).
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRecord {
    pub at: DateTime<Utc>,
    pub subject: String,
    pub decision: String,
    pub reason: String,
    pub title: Option<String>,
    pub body: Option<String>,
    pub level: u32,
}

impl Store {
    /// The ledger entries for the given subjects (missing ones were never alerted).
    pub fn alert_records(&self, subjects: &[String]) -> Result<HashMap<String, AlertRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT subject, first_at, last_at, level, alerts_sent FROM alerted WHERE subject = ?1",
            )?;
            let mut out = HashMap::new();
            for subject in subjects {
                let mut rows = stmt.query([subject])?;
                if let Some(r) = rows.next()? {
                    out.insert(
                        subject.clone(),
                        AlertRecord {
                            subject: r.get(0)?,
                            first_at: from_ms(r.get(1)?),
                            last_at: from_ms(r.get(2)?),
                            level: r.get(3)?,
                            alerts_sent: r.get(4)?,
                        },
                    );
                }
            }
            Ok(out)
        })
    }

    /// Every ledger entry at or above `min_level` whose subject starts with `prefix`.
    pub fn alert_records_with_prefix(&self, prefix: &str) -> Result<Vec<AlertRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT subject, first_at, last_at, level, alerts_sent FROM alerted WHERE substr(subject, 1, length(?1)) = ?1",
            )?;
            let rows = stmt.query_map([prefix], |r| {
                Ok(AlertRecord {
                    subject: r.get(0)?,
                    first_at: from_ms(r.get(1)?),
                    last_at: from_ms(r.get(2)?),
                    level: r.get(3)?,
                    alerts_sent: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Records that `subject` was alerted at `level` (first alert or escalation) and logs the
    /// decision, in one transaction.
    pub fn record_alerts(
        &self,
        alerted: &[(String, u32)],
        decisions: &[DecisionRecord],
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|tx| {
            for (subject, level) in alerted {
                tx.prepare_cached(
                    "INSERT INTO alerted (subject, first_at, last_at, level, alerts_sent) VALUES (?1, ?2, ?2, ?3, 1) \
                     ON CONFLICT (subject) DO UPDATE SET last_at = excluded.last_at, level = max(level, excluded.level), \
                     alerts_sent = alerts_sent + 1",
                )?
                .execute(params![subject, ms(now), level])?;
            }
            for d in decisions {
                tx.prepare_cached(
                    "INSERT INTO alert_decisions (at, subject, decision, reason, title, body, level) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![ms(d.at), d.subject, d.decision, d.reason, d.title, d.body, d.level])?;
            }
            Ok(())
        })
    }

    /// The most recent decisions, newest first.
    pub fn recent_alert_decisions(&self, limit: u32) -> Result<Vec<DecisionRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT at, subject, decision, reason, title, body, level FROM alert_decisions ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map([limit], |r| {
                Ok(DecisionRecord {
                    at: from_ms(r.get(0)?),
                    subject: r.get(1)?,
                    decision: r.get(2)?,
                    reason: r.get(3)?,
                    title: r.get(4)?,
                    body: r.get(5)?,
                    level: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

impl Store {
    /// What the alert policy needs to know of these requests.
    pub fn alert_candidates(&self, ids: &[String]) -> Result<Vec<crate::alert::Candidate>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, emergency, priority, status, category, lon, lat, post, country, created_at FROM requests WHERE id = ?1",
            )?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let mut rows = stmt.query([id])?;
                if let Some(r) = rows.next()? {
                    out.push(candidate_from_row(r)?);
                }
            }
            Ok(out)
        })
    }

    /// Emergencies this desk alerted that nobody has acknowledged yet, oldest first: the
    /// alarm's subject and the escalation's input.
    pub fn unacknowledged_alerted(&self) -> Result<Vec<crate::alert::Candidate>> {
        self.read(|c| {
            // From the alerted requests to their records (a range of `alerted`, then one id
            // lookup each): joined the other way round, on `'request:' || r.id`, SQLite read
            // every request to build the key, three times every alert tick.
            let mut stmt = c.prepare_cached(
                "SELECT r.id, r.emergency, r.priority, r.status, r.category, r.lon, r.lat, r.post, r.country, r.created_at \
                 FROM alerted a JOIN requests r ON r.id = substr(a.subject, 9) \
                 WHERE a.subject >= 'request:' AND a.subject < 'request;' \
                   AND r.emergency = 1 AND r.status = 'new' ORDER BY r.created_at",
            )?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(candidate_from_row(r)?);
            }
            Ok(out)
        })
    }
}

impl Store {
    /// Open emergencies whose citizen wrote and has had no answer since a time at or before
    /// `before`, with when that wait began (their oldest message after the last officer's).
    pub fn unanswered_emergencies(
        &self,
        before: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(crate::alert::Candidate, chrono::DateTime<chrono::Utc>)>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT r.id, r.emergency, r.priority, r.status, r.category, r.lon, r.lat, r.post, r.country, r.created_at, w.since \
                 FROM (SELECT m.request_id, min(m.created_at) AS since FROM messages m \
                       WHERE m.direction = 'in' AND m.created_at > coalesce((SELECT max(o.created_at) FROM messages o \
                         WHERE o.request_id = m.request_id AND o.direction = 'out' AND o.delivery != 'failed'), 0) \
                       GROUP BY m.request_id) w \
                 JOIN requests r ON r.id = w.request_id \
                 WHERE r.emergency = 1 AND r.status IN ('new', 'acknowledged', 'in_progress') AND w.since <= ?1 \
                 ORDER BY w.since",
            )?;
            let mut rows = stmt.query([super::ms(before)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push((candidate_from_row(r)?, from_ms(r.get(10)?)));
            }
            Ok(out)
        })
    }
}

fn candidate_from_row(r: &rusqlite::Row<'_>) -> Result<crate::alert::Candidate> {
    use crate::model::{Category, Priority, Status};
    let word = |i: usize| -> Result<String> { Ok(r.get::<_, String>(i)?) };
    Ok(crate::alert::Candidate {
        id: r.get(0)?,
        emergency: r.get(1)?,
        priority: Priority::from_rank(r.get(2)?).unwrap_or(Priority::Normal),
        status: word(3)?
            .parse::<Status>()
            .map_err(|e| super::StoreError::corrupt("request status", e))?,
        category: word(4)?
            .parse::<Category>()
            .map_err(|e| super::StoreError::corrupt("request category", e))?,
        position: match (r.get::<_, Option<f64>>(5)?, r.get::<_, Option<f64>>(6)?) {
            (Some(lon), Some(lat)) => Some((lon, lat)),
            _ => None,
        },
        post: r.get(7)?,
        country: r.get(8)?,
        created_at: from_ms(r.get(9)?),
    })
}
