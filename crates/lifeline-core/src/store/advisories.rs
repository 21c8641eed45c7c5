//! Advisories in the store: upsert keyed on (sender, identifier) with the CAP lifecycle
//! (Update supersedes, Cancel cancels, also when the reference arrives first), and hazard
//! events upserted on their source version and aliases. Their areas — stored, indexed in an
//! R*Tree per polygon part, and the point-in-area queries — are in `advisory_areas.rs`.

use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::{Deserialize, Serialize};

use super::advisory_areas::{attach_areas, delete_areas, write_areas};
use super::{Result, Store, StoreError, ms};
use crate::model::{
    Advisory, AdvisoryInfo, AdvisoryKey, AlertReference, AlertStatus, Certainty, HazardDetails,
    Lifecycle, MsgType, Severity, SourceFormat, Urgency,
};

/// What an upsert did to one advisory, and what it did to the ones it references.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryChange {
    pub key: AdvisoryKey,
    pub outcome: UpsertOutcome,
    /// Earlier advisories whose state this one changed (superseded or cancelled).
    pub affected: Vec<(AdvisoryKey, Lifecycle)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    Inserted,
    Updated,
    Unchanged,
}

/// An advisory as stored, with its state now.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryRow {
    pub id: i64,
    pub advisory: Advisory,
    pub state: Lifecycle,
    pub imported_at: DateTime<Utc>,
}

impl AdvisoryRow {
    /// Real, current warnings: `Actual`, not superseded, cancelled or expired, and not a
    /// Cancel/Ack/Error message itself.
    pub fn is_active_warning(&self) -> bool {
        self.state == Lifecycle::Active && self.advisory.status == AlertStatus::Actual
    }
}

#[derive(Serialize, Deserialize)]
struct StoredInfo {
    language: String,
    event: String,
    headline: Option<String>,
    description: Option<String>,
    instruction: Option<String>,
    categories: Vec<String>,
    urgency: Urgency,
    severity: Severity,
    certainty: Certainty,
    effective: Option<DateTime<FixedOffset>>,
    onset: Option<DateTime<FixedOffset>>,
    expires: Option<DateTime<FixedOffset>>,
    sender_name: Option<String>,
    web: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredHazard {
    magnitude: Option<f64>,
    depth_km: Option<f64>,
    alert_level: Option<String>,
    tsunami: bool,
    event_type: Option<String>,
    aliases: Vec<String>,
    source_version: Option<i64>,
    countries: Vec<String>,
}

fn infos_to_json(infos: &[AdvisoryInfo]) -> Result<String> {
    let stored: Vec<StoredInfo> = infos
        .iter()
        .map(|i| StoredInfo {
            language: i.language.clone(),
            event: i.event.clone(),
            headline: i.headline.clone(),
            description: i.description.clone(),
            instruction: i.instruction.clone(),
            categories: i.categories.clone(),
            urgency: i.urgency,
            severity: i.severity,
            certainty: i.certainty,
            effective: i.effective,
            onset: i.onset,
            expires: i.expires,
            sender_name: i.sender_name.clone(),
            web: i.web.clone(),
        })
        .collect();
    serde_json::to_string(&stored).map_err(|e| StoreError::corrupt("advisory info", e))
}

fn infos_from_json(json: &str) -> Result<Vec<AdvisoryInfo>> {
    let stored: Vec<StoredInfo> =
        serde_json::from_str(json).map_err(|e| StoreError::corrupt("advisory info", e))?;
    Ok(stored
        .into_iter()
        .map(|i| AdvisoryInfo {
            language: i.language,
            event: i.event,
            headline: i.headline,
            description: i.description,
            instruction: i.instruction,
            categories: i.categories,
            urgency: i.urgency,
            severity: i.severity,
            certainty: i.certainty,
            effective: i.effective,
            onset: i.onset,
            expires: i.expires,
            sender_name: i.sender_name,
            web: i.web,
        })
        .collect())
}

fn hazard_to_json(h: &HazardDetails) -> Result<String> {
    serde_json::to_string(&StoredHazard {
        magnitude: h.magnitude,
        depth_km: h.depth_km,
        alert_level: h.alert_level.clone(),
        tsunami: h.tsunami,
        event_type: h.event_type.clone(),
        aliases: h.aliases.clone(),
        source_version: h.source_version,
        countries: h.countries.clone(),
    })
    .map_err(|e| StoreError::corrupt("hazard details", e))
}

fn hazard_from_json(json: &str) -> Result<HazardDetails> {
    let h: StoredHazard =
        serde_json::from_str(json).map_err(|e| StoreError::corrupt("hazard details", e))?;
    Ok(HazardDetails {
        magnitude: h.magnitude,
        depth_km: h.depth_km,
        alert_level: h.alert_level,
        tsunami: h.tsunami,
        event_type: h.event_type,
        aliases: h.aliases,
        source_version: h.source_version,
        countries: h.countries,
    })
}

const ADVISORY_COLUMNS: &str = "a.id, a.sender, a.identifier, a.source, a.source_format, a.msg_type, a.status, a.scope, \
     a.sent, a.refs, a.infos, a.hazard, a.state, a.expires_ms, a.imported_at";

/// Reads an advisory row without its areas (they are attached by [`attach_areas`]).
fn advisory_from_row(row: &Row<'_>, now: DateTime<Utc>) -> Result<AdvisoryRow> {
    let id: i64 = row.get(0)?;
    let what = || format!("advisory {id}");
    let word = |i: usize| -> Result<String> { Ok(row.get::<_, String>(i)?) };
    let sent_text = word(8)?;
    let refs: Vec<(String, String, String)> =
        serde_json::from_str(&word(9)?).map_err(|e| StoreError::corrupt(what(), e))?;
    let hazard = row
        .get::<_, Option<String>>(11)?
        .map(|j| hazard_from_json(&j))
        .transpose()?;
    let stored_state = word(12)?;
    let expires_ms: Option<i64> = row.get(13)?;
    let msg_type: MsgType = word(5)?
        .parse()
        .map_err(|e| StoreError::corrupt(what(), e))?;
    let state = match stored_state.as_str() {
        "cancelled" => Lifecycle::Cancelled,
        "superseded" => Lifecycle::Superseded,
        _ if expires_ms.is_some_and(|e| e < ms(now)) => Lifecycle::Expired,
        _ => Lifecycle::Active,
    };
    let advisory = Advisory {
        key: AdvisoryKey {
            sender: word(1)?,
            identifier: word(2)?,
        },
        source: word(3)?,
        source_format: word(4)?
            .parse()
            .map_err(|e| StoreError::corrupt(what(), e))?,
        msg_type,
        status: word(6)?
            .parse()
            .map_err(|e| StoreError::corrupt(what(), e))?,
        scope: word(7)?
            .parse()
            .map_err(|e| StoreError::corrupt(what(), e))?,
        sent: DateTime::parse_from_rfc3339(&sent_text)
            .map_err(|e| StoreError::corrupt(what(), e))?,
        sent_text,
        references: refs
            .into_iter()
            .map(|(sender, identifier, sent)| AlertReference {
                sender,
                identifier,
                sent,
            })
            .collect(),
        infos: infos_from_json(&word(10)?)?,
        areas: Vec::new(),
        hazard,
    };
    Ok(AdvisoryRow {
        id,
        advisory,
        state,
        imported_at: super::from_ms(row.get(14)?),
    })
}

fn state_from_references(tx: &Transaction<'_>, key: &AdvisoryKey) -> Result<Option<&'static str>> {
    let (cancelled, total): (i64, i64) = tx
        .prepare_cached(
            "SELECT count(*) FILTER (WHERE effect = 'cancelled'), count(*) FROM advisory_references \
             WHERE sender = ?1 AND identifier = ?2",
        )?
        .query_row(params![key.sender, key.identifier], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(if cancelled > 0 {
        Some("cancelled")
    } else if total > 0 {
        Some("superseded")
    } else {
        None
    })
}

fn existing_id(tx: &Transaction<'_>, a: &Advisory) -> Result<Option<(i64, Option<i64>)>> {
    let by_key = tx
        .prepare_cached(
            "SELECT id, source_version FROM advisories WHERE sender = ?1 AND identifier = ?2",
        )?
        .query_row(params![a.key.sender, a.key.identifier], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if by_key.is_some() {
        return Ok(by_key);
    }
    let Some(h) = &a.hazard else { return Ok(None) };
    for alias in std::iter::once(&a.key.identifier).chain(&h.aliases) {
        let found = tx
            .prepare_cached(
                "SELECT a.id, a.source_version FROM advisory_aliases x JOIN advisories a ON a.id = x.advisory_id \
                 WHERE x.source_format = ?1 AND x.alias = ?2",
            )?
            .query_row(params![a.source_format.as_str(), alias], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

fn write_advisory(
    tx: &Transaction<'_>,
    a: &Advisory,
    id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let refs: Vec<(&str, &str, &str)> = a
        .references
        .iter()
        .map(|r| (r.sender.as_str(), r.identifier.as_str(), r.sent.as_str()))
        .collect();
    let refs = serde_json::to_string(&refs).map_err(|e| StoreError::corrupt("references", e))?;
    let infos = infos_to_json(&a.infos)?;
    let hazard = a.hazard.as_ref().map(hazard_to_json).transpose()?;
    let source_version = a.hazard.as_ref().and_then(|h| h.source_version);
    let own_state = match a.msg_type {
        MsgType::Cancel => "cancelled",
        _ => state_from_references(tx, &a.key)?.unwrap_or("active"),
    };
    let values = params![
        a.key.sender,
        a.key.identifier,
        a.source,
        a.source_format.as_str(),
        a.msg_type.as_str(),
        a.status.as_str(),
        a.scope.as_str(),
        a.sent.to_rfc3339(),
        a.sent.timestamp_millis(),
        refs,
        infos,
        hazard,
        a.severity().rank(),
        a.expires().map(|e| e.timestamp_millis()),
        own_state,
        source_version,
        ms(now),
    ];
    let id = match id {
        None => {
            tx.prepare_cached(
                "INSERT INTO advisories (sender, identifier, source, source_format, msg_type, status, scope, sent, sent_ms, \
                 refs, infos, hazard, severity_rank, expires_ms, state, source_version, imported_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            )?
            .execute(values)?;
            tx.last_insert_rowid()
        }
        Some(id) => {
            tx.prepare_cached(
                "UPDATE advisories SET sender = ?1, identifier = ?2, source = ?3, source_format = ?4, msg_type = ?5, \
                 status = ?6, scope = ?7, sent = ?8, sent_ms = ?9, refs = ?10, infos = ?11, hazard = ?12, \
                 severity_rank = ?13, expires_ms = ?14, state = ?15, source_version = ?16, imported_at = ?17 WHERE id = ?18",
            )?
            .execute(rusqlite::params_from_iter(values.iter().copied().chain([&id as &dyn rusqlite::ToSql])))?;
            delete_areas(tx, id)?;
            tx.prepare_cached("DELETE FROM advisory_aliases WHERE advisory_id = ?1")?
                .execute([id])?;
            id
        }
    };
    write_areas(tx, id, &a.areas)?;
    if let Some(h) = &a.hazard {
        for alias in std::iter::once(&a.key.identifier).chain(&h.aliases) {
            tx.prepare_cached(
                "INSERT INTO advisory_aliases (source_format, alias, advisory_id) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO UPDATE SET advisory_id = excluded.advisory_id",
            )?
            .execute(params![a.source_format.as_str(), alias, id])?;
        }
    }
    Ok(id)
}

fn apply_references(
    tx: &Transaction<'_>,
    a: &Advisory,
    id: i64,
) -> Result<Vec<(AdvisoryKey, Lifecycle)>> {
    let effect = match a.msg_type {
        MsgType::Update => "superseded",
        MsgType::Cancel => "cancelled",
        _ => return Ok(Vec::new()),
    };
    let mut affected = Vec::new();
    // Some publishers list the message itself among its references; it cannot supersede itself.
    // And only the sender of an alert may update or cancel it: a reference to another
    // sender's alert is ignored, so a forged or mistaken message cannot silence a warning it
    // did not issue.
    for r in a
        .references
        .iter()
        .filter(|r| r.sender != a.key.sender || r.identifier != a.key.identifier)
        .filter(|r| r.sender == a.key.sender)
    {
        tx.prepare_cached(
            "INSERT INTO advisory_references (sender, identifier, by_advisory, effect) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![r.sender, r.identifier, id, effect])?;
        let key = r.key();
        let Some(new_state) = state_from_references(tx, &key)? else {
            continue;
        };
        let changed = tx
            .prepare_cached(
                "UPDATE advisories SET state = ?3 WHERE sender = ?1 AND identifier = ?2 AND state <> ?3 AND msg_type <> 'Cancel'",
            )?
            .execute(params![key.sender, key.identifier, new_state])?;
        if changed > 0 {
            affected.push((
                key,
                if new_state == "cancelled" {
                    Lifecycle::Cancelled
                } else {
                    Lifecycle::Superseded
                },
            ));
        }
    }
    Ok(affected)
}

impl Store {
    /// Stores advisories in one transaction. Re-importing the same alert changes nothing; a
    /// hazard event replaces its stored copy only when its source version is newer.
    pub fn upsert_advisories(
        &self,
        advisories: &[Advisory],
        now: DateTime<Utc>,
    ) -> Result<Vec<AdvisoryChange>> {
        self.write(|tx| {
            let mut out = Vec::with_capacity(advisories.len());
            for a in advisories {
                let (id, outcome) = match existing_id(tx, a)? {
                    None => (write_advisory(tx, a, None, now)?, UpsertOutcome::Inserted),
                    Some((id, stored_version)) => {
                        let newer = match (
                            a.hazard.as_ref().and_then(|h| h.source_version),
                            stored_version,
                        ) {
                            (Some(incoming), Some(stored)) => incoming > stored,
                            (Some(_), None) => true,
                            _ => false, // CAP: one (sender, identifier) is one message
                        };
                        if newer {
                            (
                                write_advisory(tx, a, Some(id), now)?,
                                UpsertOutcome::Updated,
                            )
                        } else {
                            (id, UpsertOutcome::Unchanged)
                        }
                    }
                };
                let affected = if outcome == UpsertOutcome::Unchanged {
                    Vec::new()
                } else {
                    apply_references(tx, a, id)?
                };
                out.push(AdvisoryChange {
                    key: a.key.clone(),
                    outcome,
                    affected,
                });
            }
            Ok(out)
        })
    }

    /// Removes a hazard event the source withdrew (USGS `status: deleted`), found by any of
    /// its ids. Returns whether one was removed.
    pub fn remove_hazard(&self, format: SourceFormat, ids: &[String]) -> Result<bool> {
        self.write(|tx| {
            for alias in ids {
                let id: Option<i64> = tx
                    .prepare_cached("SELECT advisory_id FROM advisory_aliases WHERE source_format = ?1 AND alias = ?2")?
                    .query_row(params![format.as_str(), alias], |r| r.get(0))
                    .optional()?;
                if let Some(id) = id {
                    delete_areas(tx, id)?;
                    tx.prepare_cached("DELETE FROM advisories WHERE id = ?1")?.execute([id])?;
                    return Ok(true);
                }
            }
            Ok(false)
        })
    }

    /// Advisories, most severe and newest first; only real active warnings when asked.
    pub fn advisories(&self, active_only: bool, now: DateTime<Utc>) -> Result<Vec<AdvisoryRow>> {
        self.read(|c| {
            let filter = if active_only {
                "WHERE a.state = 'active' AND a.status = 'Actual' AND a.msg_type IN ('Alert', 'Update') \
                 AND (a.expires_ms IS NULL OR a.expires_ms >= ?1)"
            } else {
                "WHERE ?1 IS NOT NULL"
            };
            let sql = format!("SELECT {ADVISORY_COLUMNS} FROM advisories a {filter} ORDER BY a.severity_rank, a.sent_ms DESC");
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt.query([ms(now)])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(attach_areas(c, advisory_from_row(row, now)?)?);
            }
            Ok(out)
        })
    }

    pub fn advisory(&self, key: &AdvisoryKey, now: DateTime<Utc>) -> Result<Option<AdvisoryRow>> {
        self.read(|c| {
            let sql = format!("SELECT {ADVISORY_COLUMNS} FROM advisories a WHERE a.sender = ?1 AND a.identifier = ?2");
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![key.sender, key.identifier])?;
            match rows.next()? {
                Some(row) => Ok(Some(attach_areas(c, advisory_from_row(row, now)?)?)),
                None => Ok(None),
            }
        })
    }

    pub fn advisory_by_id(&self, id: i64, now: DateTime<Utc>) -> Result<Option<AdvisoryRow>> {
        self.read(|c| {
            let sql = format!("SELECT {ADVISORY_COLUMNS} FROM advisories a WHERE a.id = ?1");
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt.query([id])?;
            match rows.next()? {
                Some(row) => Ok(Some(attach_areas(c, advisory_from_row(row, now)?)?)),
                None => Ok(None),
            }
        })
    }

    /// Whether an advisory fetched from `source` (a CAP document's URL) is stored already:
    /// feed indexes list the same documents poll after poll.
    pub fn advisory_source_known(&self, source: &str) -> Result<bool> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT 1 FROM advisories WHERE source = ?1 LIMIT 1")?
                    .query_row([source], |_| Ok(()))
                    .optional()?
                    .is_some(),
            )
        })
    }
}
