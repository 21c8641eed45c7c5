//! `lifeline-bench memory --store PATH`: where a desk's own memory goes on a large store.
//!
//! Opens a copy of a store made by `make-store`, builds the in-memory index (and again from
//! its snapshot, as every later start does), then runs what
//! a drill does to a desk: pages of new requests synced while the queue, its counts and the
//! world's clusters are read after each. Prints the process's memory (PSS) at each step,
//! so a change to caches or to the index can be weighed.

use std::time::Instant;

use chrono::Utc;
use lifeline_core::Store;
use lifeline_core::geo::BBox;
use lifeline_core::store::RequestQuery;

/// The process's proportional set size and resident size, KiB (Linux).
fn pss_rss_kib() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("Pss:"), field("Rss:"))
}

fn report(step: &str) {
    let (pss, rss) = pss_rss_kib();
    println!(
        "  {step:<52} PSS {:>6.1} MiB, RSS {:>6.1} MiB",
        pss as f64 / 1024.0,
        rss as f64 / 1024.0,
    );
}

pub fn run(source: &std::path::Path, pages: usize) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("desk.sqlite");
    std::fs::copy(source, &path).map_err(|e| e.to_string())?;
    let derived = source.with_file_name(
        source
            .file_name()
            .map(|n| n.to_string_lossy().replace(".sqlite", ".index.sqlite"))
            .unwrap_or_default(),
    );
    std::fs::copy(&derived, dir.path().join("desk.index.sqlite")).map_err(|e| e.to_string())?;
    println!("where the desk's memory goes, {}:", source.display());
    report("before opening");
    let store = Store::open(&path).map_err(|e| e.to_string())?;
    report("store open");
    let t = Instant::now();
    store.enable_index().map_err(|e| e.to_string())?;
    report(&format!("index built ({} ms)", t.elapsed().as_millis()));
    store.save_index_snapshot().map_err(|e| e.to_string())?;
    report("snapshot saved");
    // What every later start does: the index from its snapshot.
    drop(store);
    let store = Store::open(&path).map_err(|e| e.to_string())?;
    let t = Instant::now();
    let build = store.enable_index().map_err(|e| e.to_string())?;
    report(&format!(
        "reopened, index from its snapshot ({} ms)",
        t.elapsed().as_millis()
    ));
    if !matches!(build, lifeline_core::store::IndexBuild::FromSnapshot { .. }) {
        return Err(format!("the snapshot was not used: {build:?}"));
    }
    let open = RequestQuery {
        limit: Some(100),
        ..RequestQuery::open()
    };
    let look = |store: &Store| -> Result<(), String> {
        store.indexed_page(&open).map_err(|e| e.to_string())?;
        store.indexed_counts(&open).map_err(|e| e.to_string())?;
        store
            .viewport_clusters(&BBox::WORLD, 1.6, 48.0, &open, Utc::now())
            .map_err(|e| e.to_string())?;
        Ok(())
    };
    look(&store)?;
    report("queue, counts, clusters read");
    let mut rng = lifeline_core::synth::Rng::new(7);
    for page in 0..pages {
        let batch: Vec<_> = (0..50)
            .map(|i| {
                let request = lifeline_core::synth::request_anywhere(
                    &mut rng,
                    format!("drill-{page}-{i}"),
                    Utc::now(),
                );
                lifeline_core::store::IncomingRequest {
                    request,
                    events: Vec::new(),
                }
            })
            .collect();
        store
            .upsert_requests(&batch, "drill", None)
            .map_err(|e| e.to_string())?;
        look(&store)?;
        if (page + 1) % (pages / 4).max(1) == 0 {
            report(&format!(
                "{} requests synced, each page looked at",
                (page + 1) * 50
            ));
        }
    }
    store.catch_up_index().map_err(|e| e.to_string())?;
    report("query index caught up");
    store.release_memory().map_err(|e| e.to_string())?;
    report("page caches released (Store::release_memory)");
    Ok(())
}
