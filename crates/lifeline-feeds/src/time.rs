//! Date formats met in feeds: RFC 3339 (CAP, Atom, GeoJSON), RFC 2822 (RSS), milliseconds
//! since the epoch (USGS), and day-first local formats (Ushahidi exports).

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

/// RFC 3339 or RFC 2822, with a time zone.
pub fn parse_zoned(text: &str) -> Option<DateTime<FixedOffset>> {
    let t = text.trim();
    DateTime::parse_from_rfc3339(t)
        .ok()
        .or_else(|| DateTime::parse_from_rfc2822(t).ok())
}

pub fn from_epoch_ms(ms: i64) -> Option<DateTime<FixedOffset>> {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|t| t.fixed_offset())
}

/// Exports without a time zone are read as UTC; day-first wins where a date is ambiguous
/// (Ushahidi deployments wrote `05/07/2010` for 5 July).
pub fn parse_local_day_first(text: &str) -> Option<DateTime<Utc>> {
    const FORMATS: &[&str] = &[
        "%d/%m/%Y %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%d-%m-%Y %H:%M",
        "%d.%m.%Y %H:%M",
    ];
    let t = text.trim();
    if let Some(z) = parse_zoned(t) {
        return Some(z.with_timezone(&Utc));
    }
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(t, "%d/%m/%Y")
                .ok()
                .or_else(|| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .and_then(|n| Utc.from_local_datetime(&n).single())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_first_dates() {
        let t = parse_local_day_first("05/07/2010 17:26").expect("parses");
        assert_eq!(
            t.to_rfc3339(),
            "2010-07-05T17:26:00+00:00",
            "5 July, not 7 May"
        );
        assert!(parse_local_day_first("28/06/2010 23:06").is_some());
        assert!(parse_local_day_first("yesterday").is_none());
    }

    #[test]
    fn rss_and_cap_dates() {
        assert!(parse_zoned("Thu, 01 Jan 2026 16:00:00 +0000").is_some());
        assert!(parse_zoned("2003-06-17T14:57:00-07:00").is_some());
    }
}
