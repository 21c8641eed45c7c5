//! GeoJSON: advisories, the USGS earthquake feed, and help requests as features
//! (antimeridian and pole handling included).
#![no_main]
use libfuzzer_sys::fuzz_target;
use lifeline_feeds::{Format, parse_document};

fuzz_target!(|data: &[u8]| {
    let _ = parse_document(Format::GeoJsonAdvisories, data, "fuzz");
    let _ = parse_document(Format::UsgsGeoJson, data, "fuzz");
    let _ = parse_document(Format::GeoJsonRequests, data, "fuzz");
});
