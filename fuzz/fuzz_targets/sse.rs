//! The Server-Sent Events parser the desk reads the hub's stream with: any bytes, split into
//! chunks anywhere, give events or "too large", never a panic; the split never changes the
//! events.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lifeline_sync::sse::SseParser;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, body)) = data.split_first() else {
        return;
    };
    let cut = usize::from(cut).min(body.len());
    let mut whole = SseParser::new(4096);
    let mut split = SseParser::new(4096);
    let all = whole.push(body);
    let first = split.push(&body[..cut]);
    let second = split.push(&body[cut..]);
    if let (Ok(all), Ok(mut first), Ok(second)) = (all, first, second) {
        first.extend(second);
        assert_eq!(all, first, "chunking changed the events");
    }
});
