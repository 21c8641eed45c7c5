//! CAP 1.1/1.2, bare or inside an EDXL-DE envelope: any bytes give advisories, rejections
//! or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lifeline_feeds::{Format, parse_document};

fuzz_target!(|data: &[u8]| {
    let _ = parse_document(Format::Cap, data, "fuzz");
    let _ = parse_document(Format::EdxlDe, data, "fuzz");
});
