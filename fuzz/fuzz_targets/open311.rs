//! Open311 GeoReport v2 service requests, JSON and XML.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lifeline_feeds::{Format, parse_document};

fuzz_target!(|data: &[u8]| {
    let _ = parse_document(Format::Open311Json, data, "fuzz");
    let _ = parse_document(Format::Open311Xml, data, "fuzz");
});
