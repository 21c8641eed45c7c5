//! Help requests from CSV (Ushahidi exports and mapped columns), record by record.
#![no_main]
use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use lifeline_feeds::csv_requests::{ColumnMap, CsvRequests};

fuzz_target!(|data: &[u8]| {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap();
    if let Ok(mut rows) = CsvRequests::new(data, None, "fuzz", "fuzz", now) {
        while rows.next_record().is_some() {}
    }
    // The first line as a column map, the rest as the file it describes.
    if let Some(split) = data.iter().position(|b| *b == b'\n')
        && let Ok(text) = std::str::from_utf8(&data[..split])
        && let Ok(map) = ColumnMap::parse(text)
        && let Ok(mut rows) = CsvRequests::new(&data[split + 1..], Some(&map), "fuzz", "fuzz", now)
    {
        while rows.next_record().is_some() {}
    }
});
