//! What of a citizen's record may leave the desk, and in what form.
//!
//! By default an export carries no personal data: the name, phone, identity-document
//! number, exact address, description and attachment names are replaced by
//! [`REDACTED`], and the position is rounded to two decimals (about 1 km), enough to count
//! and map requests by neighbourhood but not to find a person. An export with personal data
//! needs a role that allows it, and the hub records it (`lifeline export … --include-personal-data`).
//!
//! The CLI's `export requests` and the desk's export write the same columns and features
//! ([`EXPORT_COLUMNS`], [`export_row`], [`export_feature`]).
//!
//! Spreadsheet cells: text that a spreadsheet would run as a formula is neutralised
//! ([`csv_cell`]), in every column, ids included: citizen text and ids are untrusted.

use serde_json::{Value, json};

use crate::model::HelpRequest;
use crate::protocol::WireRequest;

/// What replaces a redacted field.
pub const REDACTED: &str = "[redacted]";
/// Decimals kept of a redacted position: 0.01° is about 1.1 km of latitude.
pub const ROUNDED_DECIMALS: i32 = 2;

/// How much of a record an export carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disclosure {
    /// No personal data (the default).
    Redacted,
    /// Everything: only with a role that allows it, recorded at the hub.
    PersonalData,
}

fn round(v: f64) -> f64 {
    let f = 10f64.powi(ROUNDED_DECIMALS);
    (v * f).round() / f
}

/// The record as an export may carry it.
pub fn for_export(r: &HelpRequest, disclosure: Disclosure) -> HelpRequest {
    let mut out = r.clone();
    if disclosure == Disclosure::PersonalData {
        return out;
    }
    out.citizen.name = REDACTED.into();
    let hide = |v: &mut Option<String>| {
        if v.is_some() {
            *v = Some(REDACTED.into());
        }
    };
    hide(&mut out.citizen.phone);
    hide(&mut out.citizen.id_document);
    out.description = REDACTED.into();
    if let Some(loc) = out.location.as_mut() {
        loc.lat = round(loc.lat);
        loc.lon = round(loc.lon);
        // The rounding is the accuracy now: never claim better.
        loc.accuracy_m = Some(loc.accuracy_m.unwrap_or(0.0).max(1_000.0));
        hide(&mut loc.address);
    }
    for a in &mut out.attachments {
        a.name = REDACTED.into();
        a.url = None;
    }
    out
}

/// A CSV cell that no spreadsheet runs as a formula: text whose first character other than
/// spaces is `=`, `+`, `-`, `@`, a tab, CR or LF gets a leading `'`.
pub fn csv_cell(text: &str) -> String {
    let first = text.trim_start_matches(' ').chars().next();
    if matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\n')) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// A request as an exported GeoJSON feature: the point, and the record (as the protocol
/// writes it, without the coordinates) as its properties.
pub fn export_feature(r: &HelpRequest, disclosure: Disclosure) -> Value {
    let wire = WireRequest::from_domain(&for_export(r, disclosure), &[]);
    let geometry = wire.location.as_ref().map_or(
        Value::Null,
        |l| json!({"type": "Point", "coordinates": [l.lon, l.lat]}),
    );
    let mut props = serde_json::to_value(&wire).unwrap_or(Value::Null);
    if let Some(loc) = props.get_mut("location").and_then(Value::as_object_mut) {
        loc.remove("lat");
        loc.remove("lon");
    }
    json!({"type": "Feature", "id": r.id, "geometry": geometry, "properties": props})
}

/// The columns of an exported CSV, in order.
pub const EXPORT_COLUMNS: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "status",
    "priority",
    "emergency",
    "category",
    "channel",
    "people_count",
    "name",
    "phone",
    "id_document",
    "nationality",
    "language",
    "lat",
    "lon",
    "accuracy_m",
    "address",
    "country",
    "post",
    "assignee",
    "description",
    "version",
];

/// A request as one exported CSV row ([`EXPORT_COLUMNS`]), every cell neutralised.
pub fn export_row(r: &HelpRequest, disclosure: Disclosure) -> Vec<String> {
    let r = for_export(r, disclosure);
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let loc = r.location.as_ref();
    let row = vec![
        r.id.clone(),
        r.created_at.to_rfc3339(),
        r.updated_at.to_rfc3339(),
        r.status.to_string(),
        r.priority.to_string(),
        r.emergency.to_string(),
        r.category.to_string(),
        r.channel.to_string(),
        r.people_count.to_string(),
        r.citizen.name.clone(),
        opt(&r.citizen.phone),
        opt(&r.citizen.id_document),
        opt(&r.citizen.nationality),
        opt(&r.citizen.language),
        loc.map(|l| l.lat.to_string()).unwrap_or_default(),
        loc.map(|l| l.lon.to_string()).unwrap_or_default(),
        loc.and_then(|l| l.accuracy_m)
            .map(|a| a.to_string())
            .unwrap_or_default(),
        loc.map(|l| opt(&l.address)).unwrap_or_default(),
        loc.map(|l| opt(&l.country)).unwrap_or_default(),
        opt(&r.post),
        opt(&r.assignee),
        r.description.clone(),
        r.version.to_string(),
    ];
    // Every column: ids and posts come from outside too.
    row.iter().map(|c| csv_cell(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attachment, Location};

    fn planted() -> HelpRequest {
        let mut r = crate::synth::request_anywhere(
            &mut crate::synth::Rng::new(3),
            "r1".into(),
            chrono::Utc::now(),
        );
        r.citizen.name = "Zhang Plantedname".into();
        r.citizen.phone = Some("+8613912345678".into());
        r.citizen.id_document = Some("E99887766".into());
        r.description = "planted description".into();
        r.location = Some(Location {
            lat: 13.756_331,
            lon: 100.501_765,
            accuracy_m: Some(12.0),
            captured_at: None,
            address: Some("12 Planted Road".into()),
            country: Some("TH".into()),
        });
        r.attachments = vec![Attachment {
            name: "passport-zhang.jpg".into(),
            media_type: "image/jpeg".into(),
            size_bytes: 10,
            url: Some("https://hub/media/1".into()),
        }];
        r
    }

    #[test]
    fn a_default_export_carries_no_personal_data() {
        let r = for_export(&planted(), Disclosure::Redacted);
        let text = serde_json::to_string(&crate::protocol::WireRequest::from_domain(&r, &[]))
            .expect("json");
        for planted in [
            "Plantedname",
            "+8613912345678",
            "E99887766",
            "planted description",
            "Planted Road",
            "passport-zhang",
            "hub/media",
        ] {
            assert!(!text.contains(planted), "{planted} left in {text}");
        }
        let loc = r.location.expect("a place");
        assert_eq!((loc.lat, loc.lon), (13.76, 100.5), "rounded to about 1 km");
        assert_eq!(loc.accuracy_m, Some(1_000.0), "no claim of better accuracy");
        assert_eq!(loc.country.as_deref(), Some("TH"), "the country stays");
    }

    #[test]
    fn personal_data_stays_only_when_disclosed() {
        let r = planted();
        assert_eq!(for_export(&r, Disclosure::PersonalData), r);
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised() {
        for (input, expected) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("\n=1", "'\n=1"),
            ("   =1", "'   =1"),
            ("plain", "plain"),
            ("R-1", "R-1"),
            ("", ""),
        ] {
            assert_eq!(csv_cell(input), expected, "{input:?}");
        }
    }
}
