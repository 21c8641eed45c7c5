//! Feeds as they are found in the wild (the hand-written fixtures of PROVENANCE.md §10, with
//! their expected readings in `fixtures/EXPECTED-WILD.md`): alerts carried inline by Atom and
//! RSS entries, the USGS feed as Atom, GDACS items with only a box, Ushahidi exports with any
//! line ending and header, Open311 documents that hold no requests, and an index that only
//! links to CAP documents.

use chrono::{TimeZone, Utc};
use lifeline_core::model::*;
use lifeline_core::store::{RequestQuery, Store};
use lifeline_feeds::csv_requests::CsvRequests;
use lifeline_feeds::{FeedError, Format, ImportOptions, detect, import_file, parse_document};

mod common;
use common::*;

fn by_id<'a>(doc: &'a [Advisory], id: &str) -> &'a Advisory {
    doc.iter()
        .find(|a| a.key.identifier == id)
        .unwrap_or_else(|| panic!("no advisory {id}"))
}

fn close(a: [f64; 2], b: [f64; 2]) -> bool {
    (a[0] - b[0]).abs() < 1e-6 && (a[1] - b[1]).abs() < 1e-6
}

fn point(area: &AdvisoryArea) -> [f64; 2] {
    match &area.geometry.as_ref().expect("geometry").value {
        geojson::GeometryValue::Point { coordinates } => [coordinates[0], coordinates[1]],
        other => panic!("not a point: {other:?}"),
    }
}

mod inline_alerts {
    use super::*;

    #[test]
    fn a_french_atom_feed_carries_its_alerts_inline() {
        let (format, doc) = parse("atom-inline-cap12-georss-meteoalarm-fr.xml");
        assert_eq!(format, Format::Atom);
        assert!(
            doc.links.is_empty(),
            "the entries' web pages are not CAP documents"
        );
        assert_eq!(doc.advisories.len(), 3);
        let first = by_id(&doc.advisories, "2.49.0.0.250.0.FR.20241016060000.318274");
        assert_eq!(first.key.sender, "vigilance@meteo.fr");
        assert_eq!(first.source_format, SourceFormat::Cap12);
        assert_eq!(languages(first), ["fr-FR"], "from the feed's xml:lang");
        assert_eq!(first.infos[0].event, "Vigilance orange pluie-inondation");
        assert_eq!(first.infos[0].severity, Severity::Severe);
        assert_eq!(first.areas[0].description, "Hérault");
        assert_eq!(
            first.areas[0].geocodes.len(),
            2,
            "two valueName/value pairs"
        );
        assert!(close(first_vertex(&first.areas[0]), [3.10, 43.70]));
        let second = by_id(
            &doc.advisories,
            "https://feeds.meteoalarm.org/api/v1/warnings/feeds-france/2c9e71d4-0b3a-4e8f-8d21-6a5f0c7b9e13",
        );
        assert_eq!(second.infos[0].severity, Severity::Moderate);
        assert!(close(point(&second.areas[0]), [5.40, 43.30]));
        let update = by_id(&doc.advisories, "2.49.0.0.250.0.FR.20241016160000.318301");
        assert_eq!(update.msg_type, MsgType::Update);
        assert_eq!(update.infos[0].severity, Severity::Extreme);
        assert_eq!(update.references.len(), 1);
        assert_eq!(
            update.references[0].identifier,
            "2.49.0.0.250.0.FR.20241016060000.318274"
        );
        assert!(close(first_vertex(&update.areas[0]), [3.00, 43.85]));
    }

    #[test]
    fn a_one_line_rss_feed_with_cap_11_boxes_circles_and_a_cancel() {
        let bytes = fixture("rss2-inline-cap11-georss-one-line.xml");
        assert!(!bytes.contains(&b'\n'), "the fixture is one line");
        let (format, doc) = parse("rss2-inline-cap11-georss-one-line.xml");
        assert_eq!(format, Format::Rss);
        assert!(doc.links.is_empty());
        assert_eq!(doc.advisories.len(), 4);
        for a in &doc.advisories {
            assert_eq!(a.source_format, SourceFormat::Cap11);
            assert_eq!(
                languages(a),
                ["en-US"],
                "from the channel's <language>en-us"
            );
            assert_eq!(a.key.sender, "oem@alerts.example.org");
        }
        let flood = by_id(&doc.advisories, "ECOEM-20240520-0001");
        assert_eq!(flood.infos[0].severity, Severity::Severe);
        assert!(
            close(first_vertex(&flood.areas[0]), [-105.25, 39.55]),
            "a box from its south-west corner"
        );
        let shelter = by_id(
            &doc.advisories,
            "urn:uuid:3f1c9a52-7e0b-4d1a-9c55-0b8e2f6a7d14",
        );
        assert_eq!(shelter.infos[0].severity, Severity::Extreme);
        // A GeoRSS circle's radius is in metres: 2.5 km around the centre.
        assert!(contains(shelter, 39.8083 + 0.015, -104.9339));
        assert!(!contains(shelter, 39.8083 + 0.05, -104.9339));
        let rockfall = by_id(&doc.advisories, "ECOEM-20240520-0003");
        assert!(
            close(point(&rockfall.areas[0]), [-105.9132, 39.6797]),
            "elevation is not a coordinate"
        );
        let cancel = by_id(&doc.advisories, "ECOEM-20240520-0004");
        assert_eq!(cancel.msg_type, MsgType::Cancel);
        assert_eq!(cancel.references[0].identifier, "ECOEM-20240520-0001");
    }

    #[test]
    fn inline_alerts_import_offline_with_the_cap_lifecycle() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(dir.path().join("desk.sqlite")).expect("store");
        let now = Utc
            .with_ymd_and_hms(2024, 5, 20, 21, 0, 0)
            .single()
            .expect("time");
        let mut opts = ImportOptions {
            now,
            ..ImportOptions::default()
        };
        let report = import_file(
            &store,
            &fixture_path("rss2-inline-cap11-georss-one-line.xml"),
            &mut opts,
            &mut |_| {},
        );
        assert!(report.error.is_none(), "{:?}", report.error);
        assert_eq!(report.accepted, 4);
        assert_eq!(
            report
                .cancelled
                .iter()
                .map(|k| k.identifier.as_str())
                .collect::<Vec<_>>(),
            ["ECOEM-20240520-0001"],
            "the Cancel ends the flood warning it references"
        );
        let report = import_file(
            &store,
            &fixture_path("atom-inline-cap12-georss-meteoalarm-fr.xml"),
            &mut opts,
            &mut |_| {},
        );
        assert_eq!(report.accepted, 3, "{report:?}");
        assert_eq!(
            report
                .superseded
                .iter()
                .map(|k| k.identifier.as_str())
                .collect::<Vec<_>>(),
            ["2.49.0.0.250.0.FR.20241016060000.318274"],
            "the update supersedes the alert it references"
        );
    }

    #[test]
    fn a_title_that_says_update_or_cancel_sets_the_message_type() {
        let feed = r#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:cap="urn:oasis:names:tc:emergency:cap:1.2" xml:lang="fr">
<entry><id>e1</id><title>Mise à jour : vigilance jaune</title><updated>2024-10-16T10:00:00+02:00</updated><cap:event>Vent</cap:event><cap:severity>Moderate</cap:severity></entry>
<entry><id>e2</id><title>Levée de la vigilance</title><updated>2024-10-16T12:00:00+02:00</updated><cap:event>Vent</cap:event></entry>
<entry><id>e3</id><title>Vigilance jaune</title><updated>2024-10-16T08:00:00+02:00</updated><cap:event>Vent</cap:event></entry>
</feed>"#;
        let doc = parse_document(Format::Atom, feed.as_bytes(), "t").expect("parses");
        let types: Vec<MsgType> = doc.advisories.iter().map(|a| a.msg_type).collect();
        assert_eq!(types, [MsgType::Update, MsgType::Cancel, MsgType::Alert]);
        assert!(doc.advisories.iter().all(|a| a.infos[0].language == "fr"));
    }
}

mod usgs_atom {
    use super::*;

    #[test]
    fn usgs_earthquakes_as_atom_are_hazards_like_the_geojson_feed() {
        let (format, doc) = parse("usgs-earthquakes-atom-2024.xml");
        assert_eq!(format, Format::UsgsAtom);
        assert_eq!(doc.advisories.len(), 3);
        let expect = [
            (
                "ak024f3kq7vd",
                4.6,
                28.3,
                [-159.6721, 54.8671],
                Severity::Minor,
            ),
            (
                "us7000n4jx",
                5.2,
                10.0,
                [140.4752, -2.9741],
                Severity::Minor,
            ),
            // PAGER green in the summary, as the GeoJSON feed's `alert`.
            (
                "us7000n4k2",
                6.1,
                35.42,
                [-172.8127, -16.3362],
                Severity::Minor,
            ),
        ];
        for (id, mag, depth, epicentre, severity) in expect {
            let a = by_id(&doc.advisories, id);
            assert_eq!(a.source_format, SourceFormat::Usgs);
            assert_eq!(a.key.sender, "earthquake.usgs.gov");
            let h = a.hazard.as_ref().expect("hazard details");
            assert_eq!(h.magnitude, Some(mag), "{id}");
            assert!((h.depth_km.expect("depth") - depth).abs() < 1e-9, "{id}");
            assert_eq!(a.infos[0].severity, severity, "{id}");
            assert_eq!(languages(a), ["en-US"]);
            let c = &a.areas[0].circles[0];
            assert!(close([c.lon, c.lat], epicentre), "{id}");
        }
        let tonga = by_id(&doc.advisories, "us7000n4k2");
        assert_eq!(tonga.areas[0].description, "112 km ESE of Hihifo, Tonga");
        assert_eq!(
            tonga.sent.to_rfc3339(),
            "2024-11-02T14:23:51+00:00",
            "the origin time, not <updated>"
        );
    }
}

mod gdacs_boxes {
    use super::*;

    #[test]
    fn gdacs_items_with_only_a_box_become_hazards_with_the_box_as_area() {
        let (format, doc) = parse("gdacs-rss-bbox-only.xml");
        assert_eq!(format, Format::GdacsRss);
        assert_eq!(doc.advisories.len(), 3);
        let flood = by_id(&doc.advisories, "FL1102871");
        assert_eq!(flood.infos[0].severity, Severity::Severe);
        assert!(
            close(first_vertex(&flood.areas[0]), [100.25, 12.5]),
            "gdacs:bbox is lon lon lat lat"
        );
        assert!(contains(flood, 14.0, 102.0));
        let drought = by_id(&doc.advisories, "DR1016432");
        assert!(
            close(first_vertex(&drought.areas[0]), [33.0, -9.5]),
            "georss:box is south west north east"
        );
        assert!(contains(drought, -6.5, 35.0), "Tanzania, not West Africa");
        let quake = by_id(&doc.advisories, "EQ1458120");
        assert_eq!(quake.infos[0].severity, Severity::Minor);
        assert!(contains(quake, -8.2137, 112.8451));
    }
}

mod csv_exports {
    use super::*;

    fn rows(name: &str) -> Vec<HelpRequest> {
        let bytes = fixture(name);
        assert_eq!(
            detect::detect(&bytes).expect("detects"),
            Format::UshahidiCsv,
            "{name}"
        );
        let now = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("time");
        let mut reader = CsvRequests::new(&bytes[..], None, "u", name, now).expect("reads");
        let mut out = Vec::new();
        while let Some(r) = reader.next_record() {
            out.push(r.unwrap_or_else(|e| panic!("{name}: {e:?}")).request);
        }
        out
    }

    fn lon_lat(r: &HelpRequest) -> Option<[f64; 2]> {
        r.location.as_ref().map(|l| [l.lon, l.lat])
    }

    #[test]
    fn crlf_spaced_headers_and_columns_in_another_order() {
        let rows = rows("ushahidi-export-crlf-spaced-headers.csv");
        assert_eq!(rows.len(), 4);
        assert_eq!(
            rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["u-1041", "u-1042", "u-1043", "u-1044"]
        );
        assert!(
            rows[0]
                .description
                .starts_with("Family trapped on roof near Chilobwe market\n")
        );
        assert!(
            rows[0].description.contains("house\nbehind the market"),
            "the quoted newline stays"
        );
        assert_eq!(lon_lat(&rows[0]), Some([35.0433, -15.8124]));
        assert_eq!(
            lon_lat(&rows[2]),
            None,
            "a row without coordinates is kept, without a location"
        );
        assert!(rows[2].description.contains("Location: Soche"));
        assert_eq!(rows[3].created_at.to_rfc3339(), "2023-03-15T07:55:00+00:00");
    }

    #[test]
    fn old_mac_line_endings() {
        let rows = rows("ushahidi-export-mac-cr.csv");
        assert_eq!(rows.len(), 3);
        assert_eq!(lon_lat(&rows[1]), Some([68.8574, 27.7052]));
        assert!(rows[2].description.starts_with("Medical camp opened"));
        assert_eq!(rows[2].category, Category::Medical);
    }

    #[test]
    fn platform_exports_with_numbered_columns() {
        let rows = rows("ushahidi-v3-export-repeated-columns.csv");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].id, "u-5120");
        assert!(
            rows[0]
                .description
                .starts_with("Family on roof in Buzi\nWater up to the roof")
        );
        assert_eq!(lon_lat(&rows[0]), Some([34.6093, -19.8739]));
        assert!(rows[0].emergency, "`Urgent` among its categories");
        assert_eq!(rows[0].created_at.to_rfc3339(), "2019-03-16T09:10:00+00:00");
        assert_eq!(lon_lat(&rows[2]), None);
    }
}

mod not_requests {
    use super::*;

    #[test]
    fn open311_service_lists_and_definitions_are_named_not_imported() {
        for (name, kind) in [
            ("open311-services-list.xml", "service list"),
            ("open311-services-list.json", "service list"),
            ("open311-service-definition.xml", "service definition"),
            ("open311-service-definition.json", "service definition"),
        ] {
            let bytes = fixture(name);
            let format = detect::detect(&bytes).expect("detects");
            assert_eq!(format, Format::Open311Services, "{name}");
            match parse_document(format, &bytes, name) {
                Err(FeedError::Unsupported(m)) => {
                    assert!(m.contains(&format!("an Open311 {kind}")), "{name}: {m}")
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn an_open311_answer_of_one_object_is_one_request() {
        let (format, doc) = parse("open311-requests-is-array-quirk.json");
        assert_eq!(format, Format::Open311Json);
        assert_eq!(doc.requests.len(), 1);
        let r = &doc.requests[0].request;
        assert!(r.id.ends_with("2024-118734"), "{}", r.id);
        let loc = r.location.as_ref().expect("location");
        assert_eq!([loc.lon, loc.lat], [-87.62979, 41.87812]);
    }

    #[test]
    fn an_index_of_links_says_what_it_links_to_and_how_to_fetch_it() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(dir.path().join("desk.sqlite")).expect("store");
        let report = import_file(
            &store,
            &fixture_path("atom-links-only-cap-index.xml"),
            &mut ImportOptions::default(),
            &mut |_| {},
        );
        let error = report
            .error
            .as_deref()
            .unwrap_or_else(|| panic!("nothing to import: {report:?}"));
        assert!(
            error.contains("links to 4 CAP alerts") && error.contains("sync --feed"),
            "{error}"
        );
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        assert_eq!(
            store
                .query_requests(&RequestQuery::default())
                .expect("q")
                .len(),
            0
        );
    }
}
