//! Finding the request a new one duplicates: the same citizen asking again from another
//! channel, or a relative asking for them. Candidates share the phone number (by its digits),
//! the name (ignoring case and spaces), or were made near the same place at about the same
//! time. A duplicate's original must exist on this desk: marking a request as the duplicate
//! of an id that is not here is refused before anything is queued.

use chrono::Duration;

use super::requests::{REQUEST_COLUMNS, get_in, request_from_row};
use super::{Result, Store, StoredRequest};

/// How far apart two requests may be, in place and time, to be offered as the same case.
pub const NEARBY_METRES: f64 = 1_000.0;
pub const NEARBY_TIME: Duration = Duration::hours(72);
/// At most this many candidates.
pub const MAX_CANDIDATES: usize = 10;

/// Why a request is offered as the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Likeness {
    SamePhone,
    SameName,
    NearbyAndRecent,
}

impl Likeness {
    pub fn as_str(self) -> &'static str {
        match self {
            Likeness::SamePhone => "same_phone",
            Likeness::SameName => "same_name",
            Likeness::NearbyAndRecent => "nearby_recent",
        }
    }
}

/// A phone number's digits, for comparing `+86 138-0013-8000` with `+8613800138000`.
fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let (a, b) = (norm(a), norm(b));
    !a.is_empty() && a == b
}

impl Store {
    /// Requests that may be the original of `id`, most alike first (each with every reason
    /// it is alike); never `id` itself nor a request already marked as a duplicate.
    pub fn duplicate_candidates(&self, id: &str) -> Result<Vec<(StoredRequest, Vec<Likeness>)>> {
        self.read(|c| {
            let Some(this) = get_in(c, id)? else {
                return Ok(Vec::new());
            };
            let r = &this.request;
            let phone = r.citizen.phone.as_deref().map(digits).filter(|d| d.len() >= 6);
            let (from, to) = (
                (r.created_at - NEARBY_TIME).timestamp_millis(),
                (r.created_at + NEARBY_TIME).timestamp_millis(),
            );
            // Coarse filters in SQL (the phone's last six digits, the name, a box of a few
            // km within the time window); the exact tests below.
            let tail = phone.as_deref().map(|d| format!("%{}", &d[d.len() - 6..]));
            let (lat, lon) = r.location.as_ref().map_or((f64::NAN, f64::NAN), |l| (l.lat, l.lon));
            let deg = NEARBY_METRES / 111_000.0 * 2.0;
            let sql = format!(
                "SELECT {REQUEST_COLUMNS} FROM requests r WHERE r.id != ?1 AND r.status != 'duplicate' AND ( \
                   (?2 IS NOT NULL AND r.citizen_phone LIKE ?2) \
                   OR (?3 != '' AND lower(replace(r.citizen_name, ' ', '')) = lower(replace(?3, ' ', ''))) \
                   OR (r.lat BETWEEN ?4 AND ?5 AND r.lon BETWEEN ?6 AND ?7 AND r.created_at BETWEEN ?8 AND ?9) \
                 ) ORDER BY r.created_at DESC LIMIT 200"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                rusqlite::params![
                    id,
                    tail,
                    r.citizen.name.trim(),
                    lat - deg,
                    lat + deg,
                    lon - deg * 2.0,
                    lon + deg * 2.0,
                    from,
                    to
                ],
                request_from_row,
            )?;
            let mut out = Vec::new();
            for other in rows {
                let other = other?;
                let o = &other.request;
                let mut why = Vec::new();
                if phone.is_some()
                    && o.citizen.phone.as_deref().map(digits).as_deref() == phone.as_deref()
                {
                    why.push(Likeness::SamePhone);
                }
                if same_name(&o.citizen.name, &r.citizen.name) {
                    why.push(Likeness::SameName);
                }
                if let (Some(a), Some(b)) = (&r.location, &o.location)
                    && crate::geo::distance_m(a.lat, a.lon, b.lat, b.lon) <= NEARBY_METRES
                    && (o.created_at - r.created_at).abs() <= NEARBY_TIME
                {
                    why.push(Likeness::NearbyAndRecent);
                }
                if !why.is_empty() {
                    out.push((other, why));
                }
            }
            out.sort_by(|(a, wa), (b, wb)| {
                wa.len()
                    .cmp(&wb.len())
                    .reverse()
                    .then(wa.first().cmp(&wb.first()))
                    .then(b.request.created_at.cmp(&a.request.created_at))
            });
            out.truncate(MAX_CANDIDATES);
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_phones_compare_as_people_write_them() {
        assert!(same_name("Zhang Wei", "zhang  wei"));
        assert!(same_name("张 伟", "张伟"));
        assert!(!same_name("", ""));
        assert_eq!(digits("+86 138-0013-8000"), "8613800138000");
    }
}
