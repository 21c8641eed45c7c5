//! Help requests in the protocol's JSON: an array, and each line as a JSON-lines record.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lifeline_feeds::requests_json::request_from_value;
use lifeline_feeds::{Format, parse_document};

fuzz_target!(|data: &[u8]| {
    let _ = parse_document(Format::RequestArray, data, "fuzz");
    for line in data.split(|b| *b == b'\n') {
        if let Ok(value) = serde_json::from_slice(line) {
            let _ = request_from_value(value, "fuzz");
        }
    }
});
