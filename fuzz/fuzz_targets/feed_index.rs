//! Atom and RSS 2.0 feeds of CAP alerts (embedded, linked or inline as `cap:` elements, with
//! GeoRSS), and the USGS earthquake feed as Atom.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lifeline_feeds::{Format, parse_document};

fuzz_target!(|data: &[u8]| {
    let _ = parse_document(Format::Atom, data, "fuzz");
    let _ = parse_document(Format::Rss, data, "fuzz");
    let _ = parse_document(Format::UsgsAtom, data, "fuzz");
});
