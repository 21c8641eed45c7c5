//! What `lifeline import` does with a document: detect the format from the content, then
//! parse it as that format.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lifeline_feeds::detect::detect;
use lifeline_feeds::parse_document;

fuzz_target!(|data: &[u8]| {
    if let Ok(format) = detect(&data[..data.len().min(64 * 1024)]) {
        let _ = parse_document(format, data, "fuzz");
    }
});
