//! Reading fixtures, shared by the feed tests.
#![allow(dead_code)]

use lifeline_core::model::*;
use lifeline_feeds::{Format, ParsedDocument, detect, parse_document};

pub fn fixture_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

pub fn parse(name: &str) -> (Format, ParsedDocument) {
    let bytes = fixture(name);
    let format = detect::detect(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let doc = parse_document(format, &bytes, name).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(
        doc.rejected.is_empty(),
        "{name}: rejected {:?}",
        doc.rejected.iter().map(|r| &r.reason).collect::<Vec<_>>()
    );
    (format, doc)
}

pub fn only_advisory(name: &str) -> Advisory {
    let (_, mut doc) = parse(name);
    assert_eq!(doc.advisories.len(), 1, "{name}");
    doc.advisories.remove(0)
}

pub fn first_vertex(area: &AdvisoryArea) -> [f64; 2] {
    use geojson::GeometryValue as G;
    let g = area.geometry.as_ref().expect("area has geometry");
    let ring = match &g.value {
        G::Polygon { coordinates } => &coordinates[0],
        G::MultiPolygon { coordinates } => &coordinates[0][0],
        G::GeometryCollection { geometries } => match &geometries[0].value {
            G::Polygon { coordinates } => &coordinates[0],
            G::MultiPolygon { coordinates } => &coordinates[0][0],
            other => panic!("unexpected {other:?}"),
        },
        other => panic!("unexpected {other:?}"),
    };
    [ring[0][0], ring[0][1]]
}

pub fn languages(a: &Advisory) -> Vec<&str> {
    a.infos.iter().map(|i| i.language.as_str()).collect()
}

pub fn contains(a: &Advisory, lat: f64, lon: f64) -> bool {
    a.areas
        .iter()
        .any(|area| lifeline_core::store::area_contains(area, lat, lon))
}
