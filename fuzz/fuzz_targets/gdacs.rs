//! GDACS RSS (event type, alert level, versions, points and boxes).
#![no_main]
use libfuzzer_sys::fuzz_target;
use lifeline_feeds::{Format, parse_document};

fuzz_target!(|data: &[u8]| {
    let _ = parse_document(Format::GdacsRss, data, "fuzz");
});
