//! Advisories: official warnings (CAP alerts) and hazard events (earthquakes, GDACS events),
//! all in one shape so they share one list, one map layer and one export.

use chrono::{DateTime, FixedOffset, Utc};

use super::vocabulary::vocabulary;

vocabulary! {
    /// Which feed format an advisory came from.
    pub enum SourceFormat as "source format" {
        Cap12 = "cap-1.2",
        Cap11 = "cap-1.1",
        Usgs = "usgs-geojson",
        Gdacs = "gdacs-rss",
        GeoJson = "geojson",
    }
}

vocabulary! {
    /// CAP `msgType`.
    pub enum MsgType as "CAP msgType" {
        Alert = "Alert",
        Update = "Update",
        Cancel = "Cancel",
        Ack = "Ack",
        Error = "Error",
    }
}

vocabulary! {
    /// CAP `status`. Only `Actual` is a real warning; the others are shown as what they are.
    pub enum AlertStatus as "CAP status" {
        Actual = "Actual",
        Exercise = "Exercise",
        System = "System",
        Test = "Test",
        Draft = "Draft",
    }
}

vocabulary! {
    /// CAP `scope`.
    pub enum Scope as "CAP scope" {
        Public = "Public",
        Restricted = "Restricted",
        Private = "Private",
    }
}

vocabulary! {
    /// CAP `urgency`.
    pub enum Urgency as "CAP urgency" {
        Immediate = "Immediate",
        Expected = "Expected",
        Future = "Future",
        Past = "Past",
        Unknown = "Unknown",
    }
}

vocabulary! {
    /// CAP `severity`, most severe first.
    pub enum Severity as "CAP severity" {
        Extreme = "Extreme",
        Severe = "Severe",
        Moderate = "Moderate",
        Minor = "Minor",
        Unknown = "Unknown",
    }
}

impl Severity {
    /// 0 for Extreme … 4 for Unknown: the order lists sort by.
    pub const fn rank(self) -> u8 {
        match self {
            Severity::Extreme => 0,
            Severity::Severe => 1,
            Severity::Moderate => 2,
            Severity::Minor => 3,
            Severity::Unknown => 4,
        }
    }
}

vocabulary! {
    /// CAP `certainty`. `Very Likely` is CAP 1.0's spelling, still seen in 1.1 feeds.
    pub enum Certainty as "CAP certainty" {
        Observed = "Observed",
        Likely = "Likely",
        Possible = "Possible",
        Unlikely = "Unlikely",
        Unknown = "Unknown",
        VeryLikely = "Very Likely",
    }
}

vocabulary! {
    /// Where an advisory is in its life. `expired` is derived from `expires` and the clock,
    /// the others from the messages that reference it.
    pub enum Lifecycle as "advisory state" {
        Active = "active",
        Superseded = "superseded",
        Cancelled = "cancelled",
        Expired = "expired",
    }
}

/// CAP keys alerts on (sender, identifier).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AdvisoryKey {
    pub sender: String,
    pub identifier: String,
}

/// One `sender,identifier,sent` triple of a CAP `<references>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertReference {
    pub sender: String,
    pub identifier: String,
    pub sent: String,
}

impl AlertReference {
    pub fn key(&self) -> AdvisoryKey {
        AdvisoryKey {
            sender: self.sender.clone(),
            identifier: self.identifier.clone(),
        }
    }

    /// Parses CAP's whitespace-separated list of `sender,identifier,sent` triples.
    /// Triples that do not have three parts are returned as errors, not dropped.
    pub fn parse_list(text: &str) -> Result<Vec<AlertReference>, String> {
        text.split_whitespace()
            .map(|triple| {
                let mut parts = triple.splitn(3, ',');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(s), Some(i), Some(t))
                        if !s.is_empty() && !i.is_empty() && !t.is_empty() =>
                    {
                        Ok(AlertReference {
                            sender: s.to_owned(),
                            identifier: i.to_owned(),
                            sent: t.to_owned(),
                        })
                    }
                    _ => Err(format!(
                        "reference `{triple}` is not a sender,identifier,sent triple"
                    )),
                }
            })
            .collect()
    }
}

/// One language's text of an advisory (a CAP `<info>` block).
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryInfo {
    /// RFC 3066 / BCP 47 tag; CAP's default is `en-US`.
    pub language: String,
    pub event: String,
    pub headline: Option<String>,
    pub description: Option<String>,
    pub instruction: Option<String>,
    pub categories: Vec<String>,
    pub urgency: Urgency,
    pub severity: Severity,
    pub certainty: Certainty,
    pub effective: Option<DateTime<FixedOffset>>,
    pub onset: Option<DateTime<FixedOffset>>,
    pub expires: Option<DateTime<FixedOffset>>,
    pub sender_name: Option<String>,
    pub web: Option<String>,
}

/// A CAP circle: centre and radius. A radius of zero is a point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Circle {
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
}

/// One area of an advisory. `geometry` is GeoJSON in `[lon, lat]` order, already split at
/// the antimeridian so every ring lies within -180..180 (RFC 7946 §3.1.9); circles keep
/// their exact centre and radius in `circles` and a polygon approximation in `geometry`.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryArea {
    pub description: String,
    pub geometry: Option<geojson::Geometry>,
    pub circles: Vec<Circle>,
    /// `(valueName, value)` pairs, e.g. `("SAME", "006109")`.
    pub geocodes: Vec<(String, String)>,
}

/// Facts of a hazard event (earthquake, cyclone…) that CAP has no field for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HazardDetails {
    pub magnitude: Option<f64>,
    pub depth_km: Option<f64>,
    /// USGS PAGER level or GDACS alert level: green, yellow, orange, red.
    pub alert_level: Option<String>,
    pub tsunami: bool,
    /// GDACS event type (EQ, TC, FL, VO, DR, WF) or `earthquake`.
    pub event_type: Option<String>,
    /// Every id the source has given this event (USGS `ids`).
    pub aliases: Vec<String>,
    /// Source version: USGS `updated` (ms) or GDACS `version`.
    pub source_version: Option<i64>,
    pub countries: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Advisory {
    pub key: AdvisoryKey,
    /// Where it came from: a feed URL or a file path.
    pub source: String,
    pub source_format: SourceFormat,
    pub msg_type: MsgType,
    pub status: AlertStatus,
    pub scope: Scope,
    pub sent: DateTime<FixedOffset>,
    /// The `sent` text exactly as published: references name it verbatim.
    pub sent_text: String,
    pub references: Vec<AlertReference>,
    pub infos: Vec<AdvisoryInfo>,
    pub areas: Vec<AdvisoryArea>,
    pub hazard: Option<HazardDetails>,
}

impl Advisory {
    /// The latest `expires` over all info blocks; `None` when any block never expires.
    pub fn expires(&self) -> Option<DateTime<FixedOffset>> {
        let mut latest: Option<DateTime<FixedOffset>> = None;
        for info in &self.infos {
            match info.expires {
                None => return None,
                Some(e) => latest = Some(latest.map_or(e, |l| l.max(e))),
            }
        }
        latest
    }

    /// The most severe severity over all info blocks.
    pub fn severity(&self) -> Severity {
        self.infos
            .iter()
            .map(|i| i.severity)
            .min_by_key(|s| s.rank())
            .unwrap_or(Severity::Unknown)
    }

    /// The info block to show for a preferred language, falling back to English, then the first.
    pub fn info_for(&self, language: &str) -> Option<&AdvisoryInfo> {
        let prefix = |tag: &str, want: &str| {
            tag.get(..2)
                .is_some_and(|p| p.eq_ignore_ascii_case(&want[..want.len().min(2)]))
        };
        self.infos
            .iter()
            .find(|i| i.language.eq_ignore_ascii_case(language))
            .or_else(|| self.infos.iter().find(|i| prefix(&i.language, language)))
            .or_else(|| self.infos.iter().find(|i| prefix(&i.language, "en")))
            .or_else(|| self.infos.first())
    }

    /// Whether the advisory is past its expiry at `now`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires().is_some_and(|e| e < now)
    }
}
