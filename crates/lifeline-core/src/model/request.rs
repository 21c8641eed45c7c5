//! A citizen's help request, as the desk knows it.

use chrono::{DateTime, Utc};

use super::vocabulary::vocabulary;
use super::{FieldError, check_text};

vocabulary! {
    /// How the request reached the consular service.
    pub enum Channel as "channel" {
        App = "app",
        Chat = "chat",
        Hotline = "hotline",
        Email = "email",
        WalkIn = "walk_in",
        Other = "other",
    }
}

vocabulary! {
    /// What kind of help is asked for.
    pub enum Category as "category" {
        Medical = "medical",
        Detention = "detention",
        CrimeVictim = "crime_victim",
        LostDocuments = "lost_documents",
        MissingPerson = "missing_person",
        Accident = "accident",
        NaturalDisaster = "natural_disaster",
        ConflictUnrest = "conflict_unrest",
        Evacuation = "evacuation",
        WelfareCheck = "welfare_check",
        Other = "other",
    }
}

vocabulary! {
    /// Triage priority; declaration order is urgency order (critical first).
    pub enum Priority as "priority" {
        Critical = "critical",
        High = "high",
        Normal = "normal",
        Low = "low",
    }
}

impl Priority {
    /// 0 for critical … 3 for low: the order the queue sorts by.
    pub const fn rank(self) -> u8 {
        match self {
            Priority::Critical => 0,
            Priority::High => 1,
            Priority::Normal => 2,
            Priority::Low => 3,
        }
    }

    pub fn from_rank(rank: u8) -> Option<Priority> {
        Priority::ALL.get(rank as usize).copied()
    }
}

vocabulary! {
    /// Where the request is in its life. `new → acknowledged → in_progress → resolved | closed`,
    /// `duplicate` from any state, and a finished request may be reopened.
    pub enum Status as "status" {
        New = "new",
        Acknowledged = "acknowledged",
        InProgress = "in_progress",
        Resolved = "resolved",
        Closed = "closed",
        Duplicate = "duplicate",
    }
}

impl Status {
    /// Open requests still need someone; they count in the banner and the alarm.
    pub const fn is_open(self) -> bool {
        matches!(
            self,
            Status::New | Status::Acknowledged | Status::InProgress
        )
    }

    /// The statuses that count as open, for filters.
    pub const OPEN: &'static [Status] = &[Status::New, Status::Acknowledged, Status::InProgress];

    /// Whether a desk may move a request from `self` to `to`.
    ///
    /// Forward moves are always allowed (an officer may resolve straight from `new`);
    /// going back is only allowed as a reopen of a finished request, which lands in
    /// `in_progress` or `acknowledged`, never silently back to `new`.
    pub fn can_move_to(self, to: Status) -> bool {
        use Status::*;
        if self == to {
            return true;
        }
        match (self, to) {
            (_, Duplicate) => self != Duplicate,
            (New, _) => true,
            (Acknowledged, InProgress | Resolved | Closed) => true,
            (InProgress, Resolved | Closed) => true,
            (Resolved | Closed | Duplicate, Acknowledged | InProgress) => true,
            (Resolved, Closed) => true,
            _ => false,
        }
    }
}

/// The person asking for help. Every field is optional except the name: intake on a
/// hotline often has nothing else. Its `Debug` form names none of it (see [`private_debug!`]).
#[derive(Clone, PartialEq, Default)]
pub struct Citizen {
    pub name: String,
    /// E.164, e.g. `+8613812345678`.
    pub phone: Option<String>,
    /// Passport or identity-card number. Personal data: redacted in exports by default.
    pub id_document: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub nationality: Option<String>,
    /// BCP 47 language tag, e.g. `zh-CN`.
    pub language: Option<String>,
}

/// Where the citizen is (or was, at `captured_at`). Its `Debug` form rounds the position to
/// about 1 km and leaves the address out.
#[derive(Clone, PartialEq)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub captured_at: Option<DateTime<Utc>>,
    pub address: Option<String>,
    /// ISO 3166-1 alpha-2 of the country the citizen is in.
    pub country: Option<String>,
}

/// Metadata of a file the citizen sent (a photo, a scan). The bytes stay at the hub.
#[derive(Clone, PartialEq)]
pub struct Attachment {
    pub name: String,
    pub media_type: String,
    pub size_bytes: u64,
    pub url: Option<String>,
}

#[derive(Clone, PartialEq)]
pub struct HelpRequest {
    /// The hub's id; unique across the system.
    pub id: String,
    pub channel: Channel,
    pub category: Category,
    /// One-tap SOS from the app, or an operator's judgement that life is at risk.
    pub emergency: bool,
    pub priority: Priority,
    pub status: Status,
    /// Set when `status` is `duplicate`: the request this one repeats.
    pub duplicate_of: Option<String>,
    pub citizen: Citizen,
    pub people_count: u32,
    pub location: Option<Location>,
    /// Free text in any language. Untrusted: it reaches a web view.
    pub description: String,
    pub attachments: Vec<Attachment>,
    pub assignee: Option<String>,
    /// The consular post responsible, e.g. `Embassy Beirut`.
    pub post: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The hub's version of this record; grows with every change at the hub. A record
    /// never replaces a newer version of itself.
    pub version: i64,
}

crate::private_debug!(Citizen { nationality, language ; name, phone, id_document });
crate::private_debug!(Attachment { media_type, size_bytes ; name, url });
crate::private_debug!(HelpRequest {
    id, channel, category, emergency, priority, status, duplicate_of, citizen, people_count,
    location, attachments, assignee, post, created_at, updated_at, version ; description
});

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let round = |v: f64| (v * 100.0).round() / 100.0;
        f.debug_struct("Location")
            .field("lat~", &round(self.lat))
            .field("lon~", &round(self.lon))
            .field("accuracy_m", &self.accuracy_m)
            .field("captured_at", &self.captured_at)
            .field("address", &self.address.as_ref().map(|_| "<personal>"))
            .field("country", &self.country)
            .finish()
    }
}

/// Longest free text accepted for a description or a note (in bytes).
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// Longest short field (names, addresses, ids).
pub const MAX_SHORT_BYTES: usize = 512;
/// The id prefix of exercise data: a hub in exercise mode (drills) gives it to every
/// request, and desks show a permanent EXERCISE band while they hold any.
pub const EXERCISE_ID_PREFIX: &str = "EX-";

impl HelpRequest {
    /// Checks the invariants every stored request satisfies. Intake, sync and import all
    /// call this, so a bad record is quarantined at the edge and never reaches the store.
    pub fn validate(&self) -> Result<(), FieldError> {
        check_id("id", &self.id)?;
        check_text("citizen.name", &self.citizen.name, MAX_SHORT_BYTES)?;
        check_text("description", &self.description, MAX_TEXT_BYTES)?;
        if let Some(phone) = &self.citizen.phone {
            check_e164(phone)?;
        }
        if let Some(doc) = &self.citizen.id_document {
            check_text("citizen.id_document", doc, 64)?;
        }
        if let Some(code) = &self.citizen.nationality {
            check_country("citizen.nationality", code)?;
        }
        if let Some(lang) = &self.citizen.language {
            check_text("citizen.language", lang, 35)?;
        }
        if self.people_count == 0 || self.people_count > 100_000 {
            return Err(FieldError::new(
                "people_count",
                format!("{} is outside 1..=100000", self.people_count),
            ));
        }
        if let Some(loc) = &self.location {
            check_lat_lon(loc.lat, loc.lon)?;
            if let Some(acc) = loc.accuracy_m
                && (!acc.is_finite() || !(0.0..=1.0e7).contains(&acc))
            {
                return Err(FieldError::new(
                    "location.accuracy_m",
                    format!("{acc} is not a distance in metres"),
                ));
            }
            if let Some(addr) = &loc.address {
                check_text("location.address", addr, MAX_SHORT_BYTES)?;
            }
            if let Some(code) = &loc.country {
                check_country("location.country", code)?;
            }
        }
        match (&self.status, &self.duplicate_of) {
            (Status::Duplicate, None) => {
                return Err(FieldError::new(
                    "duplicate_of",
                    "a duplicate must name the request it repeats",
                ));
            }
            (_, Some(of)) => check_id("duplicate_of", of)?,
            _ => {}
        }
        if let Some(a) = &self.assignee {
            check_text("assignee", a, MAX_SHORT_BYTES)?;
        }
        if let Some(p) = &self.post {
            check_text("post", p, MAX_SHORT_BYTES)?;
        }
        for (i, att) in self.attachments.iter().enumerate() {
            check_text(
                &format!("attachments[{i}].name"),
                &att.name,
                MAX_SHORT_BYTES,
            )?;
            check_text(
                &format!("attachments[{i}].media_type"),
                &att.media_type,
                128,
            )?;
        }
        if self.version < 0 {
            return Err(FieldError::new("version", "must not be negative"));
        }
        Ok(())
    }

    /// True when this is an emergency nobody has answered yet.
    pub fn is_unanswered_emergency(&self) -> bool {
        self.emergency && self.status == Status::New
    }
}

/// Ids are short printable strings without whitespace (they travel in URLs and logs).
pub fn check_id(field: &str, id: &str) -> Result<(), FieldError> {
    if id.is_empty() || id.len() > 128 {
        return Err(FieldError::new(field, "must be 1 to 128 characters"));
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
    {
        return Err(FieldError::new(
            field,
            format!(
                "`{}` may only contain letters, digits, - _ . :",
                truncate(id)
            ),
        ));
    }
    Ok(())
}

pub fn check_lat_lon(lat: f64, lon: f64) -> Result<(), FieldError> {
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(FieldError::new(
            "location.lat",
            format!("{lat} is not a latitude (-90..90)"),
        ));
    }
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(FieldError::new(
            "location.lon",
            format!("{lon} is not a longitude (-180..180)"),
        ));
    }
    Ok(())
}

/// E.164: a plus sign and 8 to 15 digits, the first not zero.
pub fn check_e164(phone: &str) -> Result<(), FieldError> {
    let digits = phone.strip_prefix('+').unwrap_or("");
    let ok = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "citizen.phone",
            format!(
                "`{}` is not an E.164 number like +8613812345678",
                truncate(phone)
            ),
        ))
    }
}

pub fn check_country(field: &str, code: &str) -> Result<(), FieldError> {
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!(
                "`{}` is not an ISO 3166-1 alpha-2 code like CN",
                truncate(code)
            ),
        ))
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_moves_follow_the_triage_flow() {
        use Status::*;
        let cases = [
            (New, Acknowledged, true),
            (New, Resolved, true),
            (Acknowledged, InProgress, true),
            (InProgress, Acknowledged, false),
            (Resolved, New, false),
            (Resolved, InProgress, true),
            (Closed, Acknowledged, true),
            (InProgress, Duplicate, true),
            (Duplicate, Duplicate, true),
            (Duplicate, Resolved, false),
        ];
        for (from, to, allowed) in cases {
            assert_eq!(
                from.can_move_to(to),
                allowed,
                "{from} -> {to} should be allowed={allowed}"
            );
        }
    }

    #[test]
    fn e164_accepts_only_plus_and_digits() {
        assert!(check_e164("+8613812345678").is_ok());
        assert!(check_e164("+442071234567").is_ok());
        assert!(check_e164("8613812345678").is_err(), "missing plus");
        assert!(check_e164("+0123456789").is_err(), "leading zero");
        assert!(check_e164("+86 138 1234").is_err(), "spaces");
    }

    #[test]
    fn vocabulary_is_case_sensitive() {
        assert_eq!("medical".parse::<Category>(), Ok(Category::Medical));
        let err = "Medical".parse::<Category>().expect_err("case matters");
        assert!(err.to_string().contains("not a valid category"), "{err}");
    }
}
