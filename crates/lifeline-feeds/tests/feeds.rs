//! Every real published fixture in `tests/fixtures` (see PROVENANCE.md) parsed and checked
//! for values, plus malformed input and the CAP lifecycle through the store. The
//! hand-written "in the wild" fixtures are checked in `wild.rs`.
//!
//! Where new tests go: a fixture's checks in the module of its format; hostile input in
//! `malformed`; anything that needs the store in `lifecycle` or `import`.

use chrono::{TimeZone, Utc};
use lifeline_core::model::*;
use lifeline_core::store::Store;
use lifeline_feeds::{Format, ParsedDocument, detect, parse_document};

mod common;
use common::*;

mod cap {
    use super::*;

    #[test]
    fn oasis_a2_polygon_is_swapped_and_language_defaults() {
        let a = only_advisory("cap12-oasis-spec-a2-severe-thunderstorm-polygon.xml");
        assert_eq!(a.key.identifier, "KSTO1055887203");
        assert_eq!(a.key.sender, "KSTO@NWS.NOAA.GOV");
        assert_eq!(a.source_format, SourceFormat::Cap12);
        assert_eq!(
            (a.msg_type, a.status, a.scope),
            (MsgType::Alert, AlertStatus::Actual, Scope::Public)
        );
        assert_eq!(languages(&a), ["en-US"], "no <language>: CAP's default");
        assert_eq!(a.infos[0].severity, Severity::Severe);
        assert_eq!(
            first_vertex(&a.areas[0]),
            [-120.14, 38.47],
            "CAP lat,lon becomes GeoJSON [lon, lat]"
        );
        assert_eq!(a.areas[0].geocodes.len(), 3);
        assert_eq!(
            a.areas[0].geocodes[0],
            ("SAME".to_string(), "006109".to_string())
        );
        assert!(
            contains(&a, 38.48, -119.95),
            "a point inside the warned polygon"
        );
        assert!(!contains(&a, 38.0, -119.0));
        assert_eq!(
            a.expires().map(|e| e.to_rfc3339()).as_deref(),
            Some("2003-06-17T16:00:00-07:00")
        );
    }

    #[test]
    fn cap11_namespace_is_read() {
        let a = only_advisory("cap11-oasis-spec-a2-severe-thunderstorm-polygon.xml");
        assert_eq!(a.source_format, SourceFormat::Cap11);
        assert_eq!(first_vertex(&a.areas[0]), [-120.14, 38.47]);
        assert_eq!(a.areas[0].geocodes[0].0, "FIPS6");
    }

    #[test]
    fn nws_geocode_only_area() {
        let a = only_advisory("cap11-nws-blizzard-warning-fips-ugc.xml");
        assert_eq!(a.infos[0].event, "Blizzard Warning");
        assert!(
            a.areas[0].geometry.is_none(),
            "an empty <polygon> is no geometry"
        );
        let codes: Vec<_> = a.areas[0]
            .geocodes
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        assert_eq!(
            codes,
            ["FIPS6=027031", "FIPS6=027075", "UGC=MNZ020", "UGC=MNZ021"]
        );
    }

    #[test]
    fn canada_update_in_two_languages_with_signatures() {
        let a = only_advisory("cap12-environment-canada-snowfall-update-en-fr-signed.xml");
        assert_eq!(a.msg_type, MsgType::Update);
        assert_eq!(languages(&a), ["en-CA", "fr-CA"]);
        assert_eq!(a.references.len(), 9);
        assert_eq!(a.references[0].identifier, "2.49.0.1.124.726d2331.2013");
        assert_eq!(a.references[0].sent, "2013-01-23T21:31:00-00:00");
        assert_eq!(a.info_for("fr").map(|i| i.event.as_str()), Some("neige"));
        // Areas repeat in each language block: kept once each.
        // Areas repeat per language block and are kept once each: the second is named the
        // same in both languages, the first differs (`Nat. Park` / `parc nat.`).
        assert_eq!(a.areas.len(), 3);
        assert_eq!(first_vertex(&a.areas[0]), [-104.2, 54.4054]);
    }

    #[test]
    fn circles_keep_radius_in_metres() {
        let a = only_advisory("cap12-nsw-rfs-structure-fire-prefixed-circle.xml");
        assert_eq!(a.areas.len(), 1, "two identical info blocks, one area");
        let c = a.areas[0].circles[0];
        assert_eq!((c.lat, c.lon, c.radius_m), (-35.3888, 147.0598, 25_000.0));
        assert!(
            contains(&a, -35.3888 + 0.2, 147.0598),
            "22 km north of the centre"
        );
        assert!(
            !contains(&a, -35.3888 + 0.3, 147.0598),
            "33 km north is outside 25 km"
        );
        assert_eq!(a.infos[0].categories, ["Fire", "Met"]);

        let quake = only_advisory("cap12-oasis-spec-a3-earthquake-update-circle.xml");
        let c = quake.areas[0].circles[0];
        assert_eq!(
            (c.lat, c.lon, c.radius_m),
            (32.9525, -115.5527, 0.0),
            "radius 0 is a point"
        );
        assert!(matches!(
            quake.areas[0].geometry.as_ref().map(|g| &g.value),
            Some(geojson::GeometryValue::Point { .. })
        ));

        let tsunami = only_advisory("cap12-ntwc-tsunami-information-circle-signed.xml");
        assert_eq!(tsunami.areas[0].circles[0].radius_m, 1_000.0);
    }

    #[test]
    fn edxl_de_envelope_holds_seven_alerts() {
        let (format, doc) = parse("edxlde-nsw-rfs-cap12-prefixed-circles.xml");
        assert_eq!(format, Format::EdxlDe);
        let ids: Vec<_> = doc
            .advisories
            .iter()
            .map(|a| a.key.identifier.rsplit(':').next().unwrap_or(""))
            .collect();
        assert_eq!(
            ids,
            [
                "40500", "40444", "40394", "40428", "40484", "40487", "40435"
            ]
        );
        assert_eq!(doc.advisories[0].areas[0].circles[0].lat, -30.546);
    }

    #[test]
    fn chinese_portuguese_english_blocks() {
        let a = only_advisory("cap12-macao-smg-monsoon-cancel-zh-pt-en.xml");
        assert_eq!(languages(&a), ["zh-mo", "pt-PT", "en-US"]);
        assert_eq!(
            a.info_for("zh-CN").map(|i| i.event.as_str()),
            Some("強烈季候風信號"),
            "zh prefix matches zh-mo"
        );
        assert_eq!(
            a.info_for("en").map(|i| i.event.as_str()),
            Some("STRONG MONSOON SIGNAL")
        );
        assert_eq!(
            first_vertex(&a.areas[0]),
            [113.5709, 22.0766],
            "vertices separated by tabs and newlines"
        );
        assert_eq!(a.expires(), None, "no <expires>: never expires by time");
    }

    #[test]
    fn geocode_only_meteoalarm_areas() {
        let il = only_advisory("cap12-israel-ims-flood-en-he-emma-geocodes.xml");
        assert_eq!(languages(&il), ["en-GB", "he-IL"]);
        assert_eq!(il.infos[1].headline.as_deref(), Some("שטפונות בזק"));
        assert!(il.areas.iter().all(|a| a.geometry.is_none()));
        let codes: Vec<_> = il.areas.iter().map(|a| a.geocodes[0].1.as_str()).collect();
        assert_eq!(codes, ["IL043", "IL042", "IL045"]);

        let fr = only_advisory("cap12-meteofrance-thunderstorm-fr-en-nuts3-geocodes.xml");
        assert_eq!(languages(&fr), ["fr-FR", "en-GB"]);
        assert_eq!(
            fr.areas
                .iter()
                .map(|a| a.geocodes[0].1.as_str())
                .collect::<Vec<_>>(),
            ["FR821", "FR822", "FR823", "FR623"]
        );
    }

    #[test]
    fn serbian_scripts_and_out_of_order_elements() {
        let a = only_advisory("cap12-serbia-rhms-thunderstorm-update-en-sr-cyrl-sr-latn.xml");
        assert_eq!(languages(&a), ["en-GB", "sr", "sr-Latn"]);
        assert_eq!(a.infos[1].event, "Грмљавина Умерен ниво");
        assert_eq!(
            first_vertex(&a.areas[0]),
            [20.2844, 44.6639],
            "geocode before polygon is still read"
        );
        assert_eq!(
            a.references[0].identifier,
            "2.49.0.0.688.0.20250816130004.740814"
        );
    }

    #[test]
    fn test_status_is_kept_as_test() {
        let a = only_advisory("cap12-nrcan-earthquake-early-warning-status-test-en-fr.xml");
        assert_eq!(a.status, AlertStatus::Test);
        assert_eq!(first_vertex(&a.areas[0]), [-127.6447, 52.8842]);
    }

    #[test]
    fn signed_cancel_without_info() {
        let a = only_advisory("cap12-ipaws-nevada-cancel-signed.xml");
        assert_eq!(a.msg_type, MsgType::Cancel);
        assert!(a.infos.is_empty());
        assert_eq!(
            a.references[0].identifier,
            "AS-NV-e18921c7-1b35-4a81-9705-42d25c265ddd"
        );
    }

    #[test]
    fn antimeridian_polygons_draw_and_query_correctly() {
        let fiji = only_advisory("cap12-gdacs-earthquake-fiji-antimeridian-polygon.xml");
        let g = fiji.areas[0].geometry.as_ref().expect("geometry");
        let geojson::GeometryValue::MultiPolygon { coordinates } = &g.value else {
            panic!("split into parts: {g:?}")
        };
        assert_eq!(coordinates.len(), 2);
        for p in coordinates.iter().flatten().flatten() {
            assert!(
                (-180.0..=180.0).contains(&p[0]),
                "{p:?} must be inside the world"
            );
        }
        assert!(
            coordinates
                .iter()
                .flatten()
                .flatten()
                .any(|p| p.as_slice() == [-178.489, -22.106]),
            "the published first vertex (-22.106,-178.489) is kept, swapped"
        );
        assert!(contains(&fiji, -22.0, -179.0), "west of the antimeridian");
        assert!(contains(&fiji, -22.0, 179.9), "past -180 becomes +179.x");
        assert!(!contains(&fiji, -22.0, 0.0));

        let tonga = only_advisory("cap12-gdacs-cyclone-tonga-antimeridian-split-polygons.xml");
        assert_eq!(tonga.areas.len(), 2, "published already split");
        assert_eq!(first_vertex(&tonga.areas[1]), [-178.2, -28.504999999999978]);
    }
}

mod indexes {
    use super::*;

    #[test]
    fn nws_atom_index_links_and_summaries() {
        let (format, doc) = parse("atom-nws-cap11-us-index-2018-08-15-trimmed.xml");
        assert_eq!(format, Format::Atom);
        assert_eq!(doc.links.len(), 7);
        assert!(
            doc.links[0]
                .url
                .ends_with("AFGNPWNSB.e9d4afdcacb3b7015f58bccc1db60d46")
        );
        let events: Vec<_> = doc
            .links
            .iter()
            .map(|l| {
                l.summary
                    .as_ref()
                    .map(|s| s.infos[0].event.as_str())
                    .unwrap_or("")
            })
            .collect();
        assert_eq!(events[0], "High Wind Warning");
        assert_eq!(events[6], "Flood Warning");
        let severities: Vec<_> = doc
            .links
            .iter()
            .filter_map(|l| l.summary.as_ref())
            .map(|s| s.infos[0].severity)
            .collect();
        assert_eq!(severities[0], Severity::Severe);
        assert_eq!(severities[6], Severity::Moderate);
        let fifth = doc.links[4].summary.as_ref().expect("summary");
        assert_eq!(first_vertex(&fifth.areas[0]), [-86.35, 31.62]);
        assert!(
            doc.links[0]
                .summary
                .as_ref()
                .is_some_and(|s| s.areas[0].geometry.is_none()),
            "empty cap:polygon"
        );
    }

    #[test]
    fn wmo_rss_index_with_rfc822_dates() {
        let (format, doc) = parse("rss2-wmo-swic-bom-cap-index.xml");
        assert_eq!(format, Format::Rss);
        assert_eq!(doc.links.len(), 1);
        assert!(
            doc.links[0]
                .url
                .ends_with("02-dc6fc32e272f13d57f3fb683aa6bd3b8.xml")
        );
        let s = doc.links[0].summary.as_ref().expect("summary");
        assert_eq!(s.infos[0].event, "Wind");
        assert_eq!(
            s.infos[0].expires.map(|e| e.to_rfc3339()).as_deref(),
            Some("2026-01-01T16:00:00+00:00")
        );
    }
}

mod hazards {
    use super::*;

    #[test]
    fn gdacs_items_with_levels_versions_and_boxes() {
        let (format, doc) = parse("gdacs-rss-2024-12-10-trimmed.xml");
        assert_eq!(format, Format::GdacsRss);
        let keys: Vec<_> = doc
            .advisories
            .iter()
            .map(|a| a.key.identifier.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "EQ1457082",
                "EQ1456937",
                "TC1001131",
                "EQ1456887",
                "VO1000104"
            ]
        );
        let sev: Vec<_> = doc.advisories.iter().map(|a| a.severity()).collect();
        assert_eq!(
            sev,
            [
                Severity::Minor,
                Severity::Minor,
                Severity::Severe,
                Severity::Minor,
                Severity::Severe
            ]
        );
        let tc = &doc.advisories[2];
        assert_eq!(tc.hazard.as_ref().and_then(|h| h.source_version), Some(6));
        assert_eq!(tc.source_format, SourceFormat::Gdacs);
        let first = &doc.advisories[0];
        assert_eq!(first.hazard.as_ref().and_then(|h| h.magnitude), Some(5.8));
        assert_eq!(
            first
                .hazard
                .as_ref()
                .and_then(|h| h.alert_level.clone())
                .as_deref(),
            Some("green")
        );
        // bbox -181.2133 -173.2133 47.1125 55.1125 crosses the antimeridian.
        assert!(contains(first, 51.1, -177.2), "the epicentre");
        assert!(
            contains(first, 51.0, 179.5),
            "west edge past -180 wraps to the east"
        );
        assert!(!contains(first, 51.0, 0.0));
    }

    #[test]
    fn usgs_events_with_pager_levels_and_aliases() {
        let (format, doc) = parse("usgs-significant-week-2020-03-26.geojson");
        assert_eq!(format, Format::UsgsGeoJson);
        assert_eq!(doc.advisories.len(), 5);
        let kuril = &doc.advisories[0];
        assert_eq!(kuril.key.identifier, "us70008fi4");
        let h = kuril.hazard.as_ref().expect("hazard details");
        assert_eq!(h.magnitude, Some(7.5));
        assert_eq!(h.depth_km, Some(56.65));
        assert!(h.tsunami);
        assert_eq!(h.source_version, Some(1585168098858));
        assert!(
            h.aliases.contains(&"at00q7qai7".to_string())
                && h.aliases.contains(&"pt20085000".to_string())
        );
        assert_eq!(kuril.sent.timestamp_millis(), 1585104561313);
        assert_eq!(
            kuril.infos[0].headline.as_deref(),
            Some("M 7.5 - 219km SSE of Severo-Kuril'sk, Russia")
        );
        assert_eq!(kuril.severity(), Severity::Minor, "PAGER green");
        let croatia = &doc.advisories[2];
        assert_eq!(croatia.severity(), Severity::Moderate, "PAGER yellow");
        assert_eq!(
            croatia.hazard.as_ref().and_then(|h| h.depth_km),
            Some(10.0),
            "integer depth"
        );
        assert!(
            contains(croatia, 45.8972, 15.9662),
            "the epicentre is inside its area"
        );
    }
}

mod requests {
    use super::*;

    #[test]
    fn open311_xml_maps_status_and_notes() {
        let (format, doc) = parse("open311-georeport-v2-spec-get-requests-example.xml");
        assert_eq!(format, Format::Open311Xml);
        assert_eq!(doc.requests.len(), 2);
        let closed = &doc.requests[0];
        assert_eq!(closed.request.id, "open311-638344");
        assert_eq!(closed.request.status, Status::Closed);
        let loc = closed.request.location.as_ref().expect("located");
        assert_eq!((loc.lat, loc.lon), (37.762221815, -122.4651145));
        assert!(closed.events.iter().any(|e| e.kind
            == CaseEventKind::Note {
                text: "Duplicate request.".into()
            }));
        assert_eq!(doc.requests[1].request.status, Status::New);
        assert_eq!(
            closed.request.attachments[0].url.as_deref(),
            Some("http://city.gov.s3.amazonaws.com/requests/media/638344.jpg")
        );
    }

    #[test]
    fn open311_spec_json_is_refused_with_the_position() {
        // As published, the example has `"service_code":006`, which is not JSON.
        let bytes = fixture("open311-georeport-v2-spec-get-requests-example.json");
        assert_eq!(
            detect::detect(&bytes).expect("detects"),
            Format::Open311Json
        );
        let err = parse_document(Format::Open311Json, &bytes, "x").expect_err("invalid JSON");
        assert!(err.to_string().contains("line 7"), "{err}");
        // The same document with the number quoted imports.
        let fixed = String::from_utf8(bytes)
            .expect("utf8")
            .replace("\"service_code\":006", "\"service_code\":\"006\"");
        let doc = parse_document(Format::Open311Json, fixed.as_bytes(), "x").expect("valid JSON");
        assert_eq!(doc.requests.len(), 2);
        assert_eq!(doc.requests[1].request.id, "open311-638349");
    }

    #[test]
    fn json_lines_and_geojson_requests() {
        let geo = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","id":"r-1","geometry":{"type":"Point","coordinates":[100.5,13.75,4]},
             "properties":{"channel":"app","category":"medical","emergency":true,"citizen":{"name":"王伟"},
                           "created_at":"2026-11-25T08:00:00Z","location":{"accuracy_m":15,"country":"TH"},"x-foreign":1}},
            {"type":"Feature","geometry":null,
             "properties":{"id":"r-2","channel":"hotline","category":"lost_documents","citizen":{"name":"Li"},"created_at":"2026-11-25T08:00:00Z"}}]}"#;
        assert_eq!(
            detect::detect(geo.as_bytes()).expect("detect"),
            Format::GeoJsonRequests
        );
        let doc = parse_document(Format::GeoJsonRequests, geo.as_bytes(), "x").expect("parses");
        assert!(doc.rejected.is_empty(), "{:?}", doc.rejected);
        let r1 = &doc.requests[0].request;
        let loc = r1.location.as_ref().expect("located");
        assert_eq!(
            (loc.lon, loc.lat, loc.accuracy_m),
            (100.5, 13.75, Some(15.0))
        );
        assert!(r1.emergency);
        assert!(
            doc.requests[1].request.location.is_none(),
            "null geometry: kept without a location"
        );
    }

    #[test]
    fn ushahidi_export_through_the_store() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(dir.path().join("s.sqlite")).expect("store");
        let mut opts = lifeline_feeds::ImportOptions {
            id_prefix: Some("haiti".into()),
            ..Default::default()
        };
        let report = lifeline_feeds::import_file(
            &store,
            &fixture_path("ushahidi-haiti-2010-export-trimmed.csv"),
            &mut opts,
            &mut |_| {},
        );
        assert_eq!(report.format, Some(Format::UshahidiCsv));
        assert!(report.error.is_none(), "{:?}", report.error);
        assert_eq!(report.accepted, 11, "{:?}", report.rejected);
        let r = store
            .get_request("haiti-4052")
            .expect("read")
            .expect("exists")
            .request;
        assert_eq!(
            r.created_at,
            Utc.with_ymd_and_hms(2010, 7, 5, 17, 26, 0)
                .single()
                .expect("date"),
            "day-first"
        );
        assert!(r.emergency, "category says Emergency");
        assert_eq!(r.category, Category::Medical, "3. Public Health");
        let loc = r.location.expect("located");
        assert_eq!((loc.lat, loc.lon), (18.233333, -72.533333));
        let multi = store
            .get_request("haiti-4042")
            .expect("read")
            .expect("exists")
            .request;
        assert!(
            multi.description.matches('\n').count() >= 9,
            "multi-line field kept whole"
        );
        assert!(multi.description.starts_with("Citi Soleil school\n"));
    }
}

mod malformed {
    use super::*;

    fn parse_bytes(bytes: &[u8]) -> Result<ParsedDocument, String> {
        let format = detect::detect(bytes).map_err(|e| e.to_string())?;
        parse_document(format, bytes, "test").map_err(|e| e.to_string())
    }

    #[test]
    fn truncated_xml_is_a_clear_error() {
        let full = fixture("cap12-oasis-spec-a2-severe-thunderstorm-polygon.xml");
        let err = parse_bytes(&full[..full.len() / 2]).expect_err("truncated");
        assert!(err.contains("not well-formed XML"), "{err}");
    }

    #[test]
    fn entity_expansion_bomb_is_refused_quickly() {
        let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>"#;
        let started = std::time::Instant::now();
        let err = parse_bytes(bomb.as_bytes()).expect_err("DTD refused");
        assert!(err.contains("DTD"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn oversized_document_is_refused_before_parsing() {
        let mut big = b"<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><note>".to_vec();
        big.resize(50 * 1024 * 1024, b'x');
        let err = parse_bytes(&big).expect_err("50 MB");
        assert!(err.contains("the limit is"), "{err}");
    }

    #[test]
    fn wrong_namespace_is_named() {
        let doc = r#"<alert xmlns="urn:example:not-cap"><identifier>x</identifier></alert>"#;
        let err = parse_bytes(doc.as_bytes()).expect_err("not CAP");
        assert!(err.contains("no CAP alert"), "{err}");
    }

    #[test]
    fn bad_values_quarantine_the_alert_with_a_reason() {
        let base = String::from_utf8(fixture(
            "cap12-oasis-spec-a2-severe-thunderstorm-polygon.xml",
        ))
        .expect("utf8");
        let cases = [
            (
                "<severity>Severe</severity>",
                "<severity>severe</severity>",
                "CAP severity",
            ),
            (
                "<severity>Severe</severity>",
                "<severity>Catastrophic</severity>",
                "Catastrophic",
            ),
            (
                "38.47,-120.14 38.34,-119.95",
                "38.47,abc 38.34,-119.95",
                "not a number",
            ),
            (
                "38.62,-119.89 38.47,-120.14",
                "38.62,-119.89 38.40,-120.10",
                "not closed",
            ),
            (
                "<sent>2003-06-17T14:57:00-07:00</sent>",
                "<sent>yesterday</sent>",
                "time zone",
            ),
        ];
        for (from, to, expected) in cases {
            assert!(base.contains(from), "fixture changed: {from}");
            let doc =
                parse_bytes(base.replace(from, to).as_bytes()).expect("the file itself parses");
            assert!(doc.advisories.is_empty(), "{to}");
            assert_eq!(doc.rejected.len(), 1, "{to}");
            let reason = &doc.rejected[0].reason;
            assert!(reason.contains(expected), "{to}: {reason}");
            assert!(
                !doc.rejected[0].raw.is_empty(),
                "the raw alert is kept for review"
            );
        }
    }

    #[test]
    fn impossible_coordinates_are_quarantined_and_good_records_land() {
        let lines = concat!(
            r#"{"id":"ok-1","channel":"app","category":"medical","citizen":{"name":"A"},"created_at":"2026-11-25T08:00:00Z"}"#,
            "\n",
            r#"{"id":"bad-1","channel":"app","category":"medical","citizen":{"name":"B"},"location":{"lat":200,"lon":10},"created_at":"2026-11-25T08:00:00Z"}"#,
            "\n",
            "{not json\n",
            r#"{"id":"ok-2","channel":"app","category":"medical","citizen":{"name":"C"},"created_at":"2026-11-25T08:00:00Z"}"#,
            "\n",
        );
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("mixed.jsonl");
        std::fs::write(&path, lines).expect("write");
        let store = Store::open(dir.path().join("s.sqlite")).expect("store");
        let report =
            lifeline_feeds::import_file(&store, &path, &mut Default::default(), &mut |_| {});
        assert_eq!(report.accepted, 2);
        let refs: Vec<_> = report
            .rejected
            .iter()
            .map(|r| r.record_ref.clone().unwrap_or_default())
            .collect();
        assert_eq!(refs, ["line 2", "line 3"]);
        assert!(
            report.rejected[0].reason.contains("location.lat"),
            "{}",
            report.rejected[0].reason
        );
        assert_eq!(store.quarantine_count().expect("count"), 2);
        assert_eq!(store.request_count().expect("count"), 2);
    }
}

mod lifecycle {
    use super::*;

    /// A help request at (lat, lon), as a channel would send it.
    fn request_at(id: &str, lat: f64, lon: f64) -> lifeline_core::store::IncomingRequest {
        let line = format!(
            r#"{{"id":"{id}","channel":"app","category":"natural_disaster","citizen":{{"name":"x"}},"location":{{"lat":{lat},"lon":{lon}}},"created_at":"2026-11-25T08:00:00Z"}}"#
        );
        lifeline_feeds::requests_json::request_from_value(
            serde_json::from_str(&line).expect("json"),
            "t",
        )
        .expect("valid")
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(dir.path().join("s.sqlite")).expect("store");
        (dir, store)
    }

    fn import_bytes(store: &Store, name: &str, bytes: &[u8]) -> lifeline_feeds::FileReport {
        let format = detect::detect(bytes).expect("detect");
        let doc = parse_document(format, bytes, name).expect("parse");
        lifeline_feeds::apply_document(store, doc, name, now(), None).expect("apply")
    }

    fn now() -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2003, 6, 12, 0, 0, 0)
            .single()
            .expect("date")
    }

    /// The original that the OASIS A.3 Update references (constructed: the corpus has no copy).
    const TRI_ORIGINAL: &str = r#"<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>TRI13970876.1</identifier><sender>trinet@caltech.edu</sender>
  <sent>2003-06-11T20:30:00-07:00</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
  <info><category>Geo</category><event>Earthquake</event><urgency>Past</urgency><severity>Minor</severity>
  <certainty>Observed</certainty><area><areaDesc>Imperial County</areaDesc><circle>32.9525,-115.5527 0</circle></area></info>
</alert>"#;

    fn state(store: &Store, sender: &str, id: &str) -> Lifecycle {
        store
            .advisory(
                &AdvisoryKey {
                    sender: sender.into(),
                    identifier: id.into(),
                },
                now(),
            )
            .expect("read")
            .expect("stored")
            .state
    }

    #[test]
    fn update_supersedes_in_either_order() {
        let (_d, s) = store();
        import_bytes(&s, "original", TRI_ORIGINAL.as_bytes());
        let report = import_bytes(
            &s,
            "update",
            &fixture("cap12-oasis-spec-a3-earthquake-update-circle.xml"),
        );
        assert_eq!(
            report.superseded.len(),
            1,
            "the report names what the update did"
        );
        assert_eq!(
            state(&s, "trinet@caltech.edu", "TRI13970876.1"),
            Lifecycle::Superseded
        );
        assert_eq!(
            state(&s, "trinet@caltech.edu", "TRI13970876.2"),
            Lifecycle::Active
        );

        let (_d2, s2) = store();
        import_bytes(
            &s2,
            "update",
            &fixture("cap12-oasis-spec-a3-earthquake-update-circle.xml"),
        );
        import_bytes(&s2, "original", TRI_ORIGINAL.as_bytes());
        assert_eq!(
            state(&s2, "trinet@caltech.edu", "TRI13970876.1"),
            Lifecycle::Superseded,
            "born superseded"
        );
    }

    #[test]
    fn cancel_cancels_and_reimport_changes_nothing() {
        let (_d, s) = store();
        let original = TRI_ORIGINAL
            .replace(
                "TRI13970876.1",
                "AS-NV-e18921c7-1b35-4a81-9705-42d25c265ddd",
            )
            .replace("trinet@caltech.edu", "bbrundage@dps.state.nv.us");
        import_bytes(&s, "original", original.as_bytes());
        let cancel = fixture("cap12-ipaws-nevada-cancel-signed.xml");
        let report = import_bytes(&s, "cancel", &cancel);
        assert_eq!(report.cancelled.len(), 1);
        assert_eq!(
            state(
                &s,
                "bbrundage@dps.state.nv.us",
                "AS-NV-e18921c7-1b35-4a81-9705-42d25c265ddd"
            ),
            Lifecycle::Cancelled
        );
        let again = import_bytes(&s, "cancel", &cancel);
        assert_eq!(
            (again.accepted, again.unchanged),
            (0, 1),
            "re-importing the same alert changes nothing"
        );
        assert!(
            s.advisories(true, now()).expect("list").is_empty(),
            "a Cancel is not an active warning"
        );
    }

    #[test]
    fn self_reference_does_not_supersede_itself() {
        let (_d, s) = store();
        import_bytes(
            &s,
            "macao",
            &fixture("cap12-macao-smg-monsoon-cancel-zh-pt-en.xml"),
        );
        assert_eq!(
            state(&s, "meteo@smg.gov.mo", "SMG-Weather_MS_2025_006_03"),
            Lifecycle::Active
        );
    }

    #[test]
    fn expired_and_test_alerts_are_not_active_warnings() {
        let (_d, s) = store();
        import_bytes(
            &s,
            "a2",
            &fixture("cap12-oasis-spec-a2-severe-thunderstorm-polygon.xml"),
        );
        import_bytes(
            &s,
            "test",
            &fixture("cap12-nrcan-earthquake-early-warning-status-test-en-fr.xml"),
        );
        let later = Utc
            .with_ymd_and_hms(2004, 1, 1, 0, 0, 0)
            .single()
            .expect("date");
        let all = s.advisories(false, later).expect("list");
        assert_eq!(all.len(), 2, "expired alerts stay reviewable");
        let a2 = all
            .iter()
            .find(|a| a.advisory.key.identifier == "KSTO1055887203")
            .expect("a2");
        assert_eq!(a2.state, Lifecycle::Expired);
        let during = Utc
            .with_ymd_and_hms(2003, 6, 17, 22, 0, 0)
            .single()
            .expect("date");
        let active = s.advisories(true, during).expect("list");
        assert_eq!(
            active
                .iter()
                .map(|a| a.advisory.key.identifier.as_str())
                .collect::<Vec<_>>(),
            ["KSTO1055887203"],
            "a Test alert is never a real warning"
        );
    }

    #[test]
    fn usgs_upsert_on_updated_and_alias_and_delete() {
        let (_d, s) = store();
        let feed =
            String::from_utf8(fixture("usgs-significant-week-2020-03-26.geojson")).expect("utf8");
        import_bytes(&s, "usgs", feed.as_bytes());
        // The same event, published under another of its ids with a newer `updated`.
        let newer = feed
            .replace("\"id\":\"us70008fi4\"", "\"id\":\"at00q7qai7\"")
            .replace("1585168098858", "1585168099999")
            .replace("\"mag\":7.5", "\"mag\":7.6");
        let report = import_bytes(&s, "usgs", newer.as_bytes());
        assert_eq!(report.accepted, 1, "only the changed event is newer");
        let all = s.advisories(false, now()).expect("list");
        assert_eq!(all.len(), 5, "matched through `ids`, not duplicated");
        let quake = all
            .iter()
            .find(|a| a.advisory.hazard.as_ref().and_then(|h| h.magnitude) == Some(7.6));
        assert!(quake.is_some(), "the newer version replaced the older");
        let older = feed
            .replace("1585168098858", "1585168000000")
            .replace("\"mag\":7.5", "\"mag\":7.0");
        import_bytes(&s, "usgs", older.as_bytes());
        assert!(
            s.advisories(false, now()).expect("list").iter().all(|a| a
                .advisory
                .hazard
                .as_ref()
                .and_then(|h| h.magnitude)
                != Some(7.0)),
            "an older `updated` never wins"
        );
        let deleted = feed.replace("\"status\":\"reviewed\"", "\"status\":\"deleted\"");
        let report = import_bytes(&s, "usgs", deleted.as_bytes());
        assert_eq!(report.removed, 5);
        assert!(s.advisories(false, now()).expect("list").is_empty());
    }

    #[test]
    fn gdacs_newer_version_updates() {
        let (_d, s) = store();
        let feed = String::from_utf8(fixture("gdacs-rss-2024-12-10-trimmed.xml")).expect("utf8");
        import_bytes(&s, "gdacs", feed.as_bytes());
        let bumped = feed
            .replacen(
                "<gdacs:version>6</gdacs:version>",
                "<gdacs:version>7</gdacs:version>",
                1,
            )
            .replacen(
                "<gdacs:alertlevel>Orange</gdacs:alertlevel>",
                "<gdacs:alertlevel>Red</gdacs:alertlevel>",
                1,
            );
        let report = import_bytes(&s, "gdacs", bumped.as_bytes());
        assert_eq!((report.accepted, report.unchanged), (1, 4));
        let tc = s
            .advisory(
                &AdvisoryKey {
                    sender: "gdacs.org".into(),
                    identifier: "TC1001131".into(),
                },
                now(),
            )
            .expect("read")
            .expect("stored");
        assert_eq!(tc.advisory.severity(), Severity::Extreme);
    }

    #[test]
    fn an_advisory_named_only_by_subdivision_codes_covers_the_requests_there() {
        let (_d, s) = store();
        // A national feed that names its area by ISO 3166-2 codes and draws no shape.
        let cap = r#"<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>TR-FLOOD-2026-12-06</identifier><sender>alerts@example.gov.tr</sender>
  <sent>2026-11-25T08:00:00+03:00</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
  <info><language>en</language><category>Met</category><event>Flood</event><urgency>Immediate</urgency>
    <severity>Severe</severity><certainty>Observed</certainty><expires>2099-01-01T00:00:00+03:00</expires>
    <area><areaDesc>Antalya ili</areaDesc><geocode><valueName>ISO 3166-2</valueName><value>TR-07</value></geocode></area>
  </info>
</alert>"#;
        let report = import_bytes(&s, "tr", cap.as_bytes());
        assert_eq!(report.accepted, 1, "{report:?}");
        s.upsert_requests(
            &[
                request_at("antalya", 36.8969, 30.7133),
                request_at("alanya", 36.5444, 31.9954),
                request_at("izmir", 38.4237, 27.1428),
            ],
            "t",
            None,
        )
        .expect("insert");
        let row = s
            .advisory(
                &AdvisoryKey {
                    sender: "alerts@example.gov.tr".into(),
                    identifier: "TR-FLOOD-2026-12-06".into(),
                },
                now(),
            )
            .expect("read")
            .expect("stored");
        let mut inside: Vec<String> = s
            .requests_in_advisory(row.id, true)
            .expect("query")
            .into_iter()
            .map(|r| r.request.id)
            .collect();
        inside.sort();
        assert_eq!(inside, ["alanya", "antalya"]);
        // What an alert on it counts, from the in-memory index, agrees with the list.
        assert_eq!(
            s.count_requests_in_advisory(row.id, true).expect("count"),
            2
        );
        s.enable_index().expect("index");
        assert_eq!(
            s.count_requests_in_advisory(row.id, true).expect("count"),
            2
        );
        assert_eq!(
            s.advisories_covering(36.5444, 31.9954, now())
                .expect("covering")
                .len(),
            1,
            "found from the place too"
        );
        assert!(
            s.advisories_covering(38.4237, 27.1428, now())
                .expect("covering")
                .is_empty()
        );
    }

    #[test]
    fn requests_inside_an_advisory_by_true_shape() {
        let (_d, s) = store();
        import_bytes(
            &s,
            "a2",
            &fixture("cap12-oasis-spec-a2-severe-thunderstorm-polygon.xml"),
        );
        // The polygon's bounding box is 38.34..38.62 x -120.14..-119.74; (38.36,-119.78) is in
        // the box but outside the quadrilateral.
        s.upsert_requests(
            &[
                request_at("inside", 38.48, -119.95),
                request_at("in-box-only", 38.36, -119.78),
                request_at("far", 40.0, -100.0),
            ],
            "t",
            None,
        )
        .expect("insert");
        let row = s
            .advisory(
                &AdvisoryKey {
                    sender: "KSTO@NWS.NOAA.GOV".into(),
                    identifier: "KSTO1055887203".into(),
                },
                now(),
            )
            .expect("read")
            .expect("stored");
        let inside = s.requests_in_advisory(row.id, true).expect("query");
        assert_eq!(
            inside
                .iter()
                .map(|r| r.request.id.as_str())
                .collect::<Vec<_>>(),
            ["inside"]
        );
        s.enable_index().expect("index");
        assert_eq!(
            s.count_requests_in_advisory(row.id, true).expect("count"),
            1,
            "the count from the in-memory index checks the true shape too"
        );
        let covering = s
            .advisories_covering(38.48, -119.95, now())
            .expect("covering");
        assert_eq!(covering.len(), 1);
        assert!(
            s.advisories_covering(38.36, -119.78, now())
                .expect("covering")
                .is_empty()
        );
    }
}
