//! Atom and RSS 2.0 indexes of CAP alerts (embedded alerts, links, GeoRSS).
#![no_main]
use libfuzzer_sys::fuzz_target;
use lifeline_feeds::{Format, parse_document};

fuzz_target!(|data: &[u8]| {
    let _ = parse_document(Format::Atom, data, "fuzz");
    let _ = parse_document(Format::Rss, data, "fuzz");
});
