//! The thread with the citizen and safety reminders, on an encrypted store as a desk keeps
//! it, each against a baseline measured in the same run:
//! * opening a thread of 1,000 messages, against opening the same request's detail with a
//!   full case log (500 events) — the other read the detail panel makes;
//! * a reminder to 10,000 citizens queued in one transaction, against the same 10,000
//!   messages queued one by one as an officer would send them;
//! * the media cache: 100 MB of citizens' files fetched into a 32 MB quota, against the same
//!   files kept without a quota — what eviction costs, and that the cache (and the store's
//!   file) stays within the quota.

use std::time::Instant;

use chrono::{Duration, Utc};
use lifeline_core::Store;
use lifeline_core::geo::BBox;
use lifeline_core::model::message::outbound_id;
use lifeline_core::model::{
    CaseEvent, CaseEventKind, Delivery, Direction, Message, MessageKind, Origin, TriageAction,
};
use lifeline_core::store::{IncomingRequest, ReminderArea, SyncPage};
use lifeline_core::synth::{Flavour, Rng, request_near};

use crate::stats::{Samples, heading};

const THREAD: usize = 1000;
const CASE_LOG: usize = 500;
const OPENS: usize = 30;

fn store(dir: &std::path::Path, name: &str) -> Result<Store, String> {
    let key = lifeline_core::store::StoreKey::random().map_err(|e| e.to_string())?;
    Store::open_encrypted(dir.join(name), &key).map_err(|e| e.to_string())
}

/// `n` open requests around Istanbul, one of them (`R-0`) with a full case log.
fn fill(store: &Store, n: usize) -> Result<(), String> {
    let mut rng = Rng::new(12);
    let place = lifeline_core::geo::places::by_name("Istanbul").ok_or("no Istanbul")?;
    let at = Utc::now() - Duration::hours(2);
    let mut batch = Vec::with_capacity(1000);
    for i in 0..n {
        let mut r = request_near(
            &mut rng,
            format!("R-{i}"),
            place,
            15.0,
            at,
            Flavour::Everyday,
        );
        r.status = lifeline_core::model::Status::New;
        let events = if i == 0 {
            (0..CASE_LOG)
                .map(|e| CaseEvent {
                    id: format!("R-0.note.{e}"),
                    request_id: "R-0".into(),
                    kind: CaseEventKind::Note {
                        text: format!("called the hospital, update {e}"),
                    },
                    actor: Some("desk-a/li".into()),
                    at: at + Duration::seconds(e as i64),
                    origin: Origin::Sync,
                })
                .collect()
        } else {
            Vec::new()
        };
        batch.push(IncomingRequest { request: r, events });
        if batch.len() == 1000 {
            store
                .upsert_requests(&batch, "bench", None)
                .map_err(|e| e.to_string())?;
            batch.clear();
        }
    }
    store
        .upsert_requests(&batch, "bench", None)
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// A conversation of `n` messages on `R-0`, as the change feed brings it.
fn conversation(store: &Store, n: usize) -> Result<(), String> {
    let at = Utc::now() - Duration::hours(1);
    let messages: Vec<Message> = (0..n)
        .map(|i| {
            let inbound = i % 2 == 0;
            Message {
                id: format!("m-{i}"),
                request_id: "R-0".into(),
                direction: if inbound {
                    Direction::Inbound
                } else {
                    Direction::Outbound
                },
                kind: MessageKind::Text,
                text: format!("消息 {i}：我们在酒店大堂，二十多人，有两位老人行动不便。"),
                template: None,
                author: (!inbound).then(|| "desk-a/li".into()),
                position: None,
                media: None,
                delivery: if inbound {
                    Delivery::Received
                } else {
                    Delivery::Read
                },
                failure: None,
                created_at: at + Duration::seconds(i as i64),
                updated_at: at + Duration::seconds(i as i64),
            }
        })
        .collect();
    store
        .apply_sync_page(
            &SyncPage {
                messages: &messages,
                ..SyncPage::default()
            },
            "bench",
            "c",
            Utc::now(),
        )
        .map_err(|e| e.to_string())?;
    Ok(())
}

pub fn run(recipients: usize) -> Result<(), String> {
    heading(&format!(
        "threads and reminders (encrypted store): a {THREAD}-message thread, a reminder to {recipients} citizens"
    ));
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;

    // Opening a thread, against opening the detail with a full case log. Interleaved.
    let s = store(dir.path(), "threads.sqlite")?;
    fill(&s, 1000)?;
    conversation(&s, THREAD)?;
    let (mut thread, mut detail) = (Samples::default(), Samples::default());
    for i in 0..OPENS {
        let mut one = |which: bool| -> Result<(), String> {
            let t = Instant::now();
            if which {
                let m = s.thread("R-0").map_err(|e| e.to_string())?;
                s.thread_states(&["R-0"]).map_err(|e| e.to_string())?;
                assert_eq!(m.len(), THREAD);
                thread.push(t.elapsed());
            } else {
                let d = s.request_with_events("R-0").map_err(|e| e.to_string())?;
                assert!(d.is_some_and(|(_, e)| e.len() >= CASE_LOG));
                detail.push(t.elapsed());
            }
            Ok(())
        };
        one(i % 2 == 0)?;
        one(i % 2 == 1)?;
    }
    println!("  thread of {THREAD} messages:   {}", thread.summary());
    println!("  detail, {CASE_LOG}-event case log: {}", detail.summary());
    println!(
        "  ratio (thread / detail, p50): {:.2}   target: the thread opens in under 100 ms (p99 {:.1} ms)",
        thread.percentile(50.0) / detail.percentile(50.0),
        thread.percentile(99.0)
    );

    // A reminder in one transaction, against the same messages queued one by one.
    let area = ReminderArea::Box(BBox::new(27.0, 39.0, 31.0, 43.0)?);
    let mut timings = Vec::new();
    for (name, batched) in [("one-by-one.sqlite", false), ("reminder.sqlite", true)] {
        let s = store(dir.path(), name)?;
        fill(&s, recipients)?;
        let ids = s.reminder_recipients(&area).map_err(|e| e.to_string())?;
        let keyed: Vec<(String, String)> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), format!("k-{i}")))
            .collect();
        let text = "最近的避难所位于市政厅广场，步行约十分钟。请带好证件和必需药品，注意余震。";
        let t = Instant::now();
        let queued = if batched {
            s.queue_reminder(&keyed, text, Some("shelter"), "desk-a/li", Utc::now())
                .map_err(|e| e.to_string())?
        } else {
            let action = TriageAction::SendMessage {
                text: text.into(),
                template: Some("shelter".into()),
            };
            for (id, key) in &keyed {
                s.queue_action(id, &action, "desk-a/li", key, Utc::now())
                    .map_err(|e| e.to_string())?;
            }
            keyed.len()
        };
        let took = t.elapsed();
        assert_eq!(queued, ids.len());
        assert_eq!(
            s.thread(&keyed[0].0).map_err(|e| e.to_string())?[0].id,
            outbound_id(&keyed[0].1)
        );
        timings.push((ids.len(), took));
    }
    let (n, one_by_one) = timings[0];
    let (_, batched) = timings[1];
    println!(
        "  {n} messages one by one:  {:>8.0} ms",
        one_by_one.as_secs_f64() * 1000.0
    );
    println!(
        "  reminder to {n} citizens: {:>8.0} ms",
        batched.as_secs_f64() * 1000.0
    );
    println!(
        "  ratio (reminder / one by one): {:.2}   target: queued in under 2 s",
        batched.as_secs_f64() / one_by_one.as_secs_f64()
    );
    media_cache(dir.path())?;
    Ok(())
}

const MEDIA_FILES: usize = 400;
const MEDIA_BYTES: usize = 256 * 1024;
const MEDIA_QUOTA: u64 = 32 * 1024 * 1024;

/// Fetched files kept in the store's cache, with and without a quota.
fn media_cache(dir: &std::path::Path) -> Result<(), String> {
    use lifeline_core::store::NewMedia;
    let mut results = Vec::new();
    for (name, quota) in [
        ("media-unbounded.sqlite", u64::MAX),
        ("media-quota.sqlite", MEDIA_QUOTA),
    ] {
        let s = store(dir, name)?;
        let mut samples = Samples::default();
        let t0 = Utc::now();
        let file = |i: usize| {
            let mut bytes = vec![(i % 251) as u8; MEDIA_BYTES];
            bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
            bytes
        };
        // The voice messages naming the files (the cache keeps only files a message names).
        let named: Vec<Message> = (0..MEDIA_FILES)
            .map(|i| Message {
                id: format!("c-{i}"),
                request_id: format!("R-{}", i % 50),
                direction: Direction::Inbound,
                kind: MessageKind::Voice,
                text: String::new(),
                template: None,
                author: None,
                position: None,
                media: Some(lifeline_core::model::MediaRef {
                    sha256: lifeline_core::model::media::sha256_hex(&file(i)),
                    media_type: "audio/ogg".into(),
                    size_bytes: MEDIA_BYTES as u64,
                    name: None,
                }),
                delivery: Delivery::Received,
                failure: None,
                created_at: t0,
                updated_at: t0,
            })
            .collect();
        s.apply_sync_page(
            &SyncPage {
                messages: &named,
                ..SyncPage::default()
            },
            "hub",
            "c1",
            t0,
        )
        .map_err(|e| e.to_string())?;
        for i in 0..MEDIA_FILES {
            let bytes = file(i);
            let sha = lifeline_core::model::media::sha256_hex(&bytes);
            let t = Instant::now();
            s.put_media(
                &NewMedia {
                    sha256: &sha,
                    media_type: "audio/ogg",
                    bytes: &bytes,
                    thumb: None,
                    gps: None,
                },
                quota,
                t0 + Duration::milliseconds(i as i64),
            )
            .map_err(|e| e.to_string())?;
            samples.push(t.elapsed());
        }
        let (used, files) = s.media_cache_usage().map_err(|e| e.to_string())?;
        let on_disk = std::fs::metadata(dir.join(name))
            .map_err(|e| e.to_string())?
            .len();
        results.push((samples, used, files, on_disk));
    }
    let (free, _, free_files, free_disk) = &results[0];
    let (bounded, used, files, disk) = &results[1];
    let mb = |b: u64| b as f64 / 1024.0 / 1024.0;
    println!(
        "  {MEDIA_FILES} files of {} KB, no quota:   {}   kept {free_files} files, store file {:.0} MB",
        MEDIA_BYTES / 1024,
        free.summary(),
        mb(*free_disk)
    );
    println!(
        "  the same, {:.0} MB quota:         {}   kept {files} files ({:.1} MB), store file {:.0} MB",
        mb(MEDIA_QUOTA),
        bounded.summary(),
        mb(*used),
        mb(*disk)
    );
    println!(
        "  ratio (with quota / without, p50): {:.2}   cache / quota: {:.2}   store file / quota: {:.2}   target: the cache stays within its quota",
        bounded.percentile(50.0) / free.percentile(50.0),
        *used as f64 / MEDIA_QUOTA as f64,
        *disk as f64 / MEDIA_QUOTA as f64
    );
    if *used > MEDIA_QUOTA {
        return Err(format!(
            "the media cache holds {used} bytes, over its quota"
        ));
    }
    Ok(())
}
