//! `lifeline stats`

use chrono::Duration;
use lifeline_core::Store;
use serde_json::json;

use crate::args::{Bucket, StatsArgs};
use crate::output::print_json;
use crate::{CliError, filters};

pub fn run(store: &Store, args: StatsArgs, json_out: bool) -> Result<(), CliError> {
    let q = filters::query(&args.filters)?;
    let counts = store.counts(&q)?;
    let timeline = match args.timeline {
        Some(Bucket::Hour) => store.time_buckets(&q, Duration::hours(1))?,
        Some(Bucket::Day) => store.time_buckets(&q, Duration::days(1))?,
        None => Vec::new(),
    };
    let advisories = store.advisories(true, chrono::Utc::now())?.len();
    let quarantined = store.quarantine_count()?;
    let outbox = store.outbox_counts()?;
    if json_out {
        let pairs = |v: &[(String, u64)]| {
            v.iter()
                .map(|(k, n)| json!({"key": k, "count": n}))
                .collect::<Vec<_>>()
        };
        return print_json(&json!({
            "total": counts.total,
            "open_emergencies": counts.open_emergencies,
            "by_status": pairs(&counts.by_status),
            "by_category": pairs(&counts.by_category),
            "by_country": pairs(&counts.by_country),
            "timeline": timeline.iter().map(|b| json!({"start": b.start.to_rfc3339(), "count": b.count, "emergencies": b.emergencies})).collect::<Vec<_>>(),
            "active_advisories": advisories,
            "quarantined": quarantined,
            "outbox": {"pending": outbox.pending, "conflicted": outbox.conflicted, "rejected": outbox.rejected},
        }));
    }
    say!(
        "requests: {}   open emergencies: {}   active advisories: {advisories}   quarantined: {quarantined}",
        counts.total,
        counts.open_emergencies
    )?;
    say!(
        "outbox: {} pending, {} conflicted, {} rejected",
        outbox.pending,
        outbox.conflicted,
        outbox.rejected
    )?;
    for (title, rows) in [
        ("status", &counts.by_status),
        ("category", &counts.by_category),
        ("country", &counts.by_country),
    ] {
        say!("by {title}:")?;
        for (k, n) in rows.iter() {
            say!("  {:<20} {n}", if k.is_empty() { "(none)" } else { k })?;
        }
    }
    if !timeline.is_empty() {
        say!("timeline:")?;
        for b in timeline {
            say!(
                "  {}  {:>6}  ({} SOS)",
                b.start.format("%Y-%m-%d %H:%M"),
                b.count,
                b.emergencies
            )?;
        }
    }
    Ok(())
}
