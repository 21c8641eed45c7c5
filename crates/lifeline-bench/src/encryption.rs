//! The desk's store encrypted at rest (SQLCipher) against the same store in plaintext, in
//! the same run: the upsert, everything searchable, the viewport query and the text search.

use std::time::{Duration, Instant};

use lifeline_core::Store;
use lifeline_core::store::RequestQuery;
use lifeline_core::synth::Rng;

use crate::stats::{Samples, heading};
use crate::store::{BATCH, QUERIES, around, generate, wait_until_indexed};

/// Launches measured for the store's part of the first frame, each store in turn.
const LAUNCHES: usize = 7;

/// The store's part of the desk's first map frame with data, as the desk does it at start:
/// open the store (with its key), build the in-memory index, cluster the world view, read
/// the first page of the queue. The rest of the first frame (the window, the web view, the
/// map's drawing) does not touch the store. Milliseconds.
fn first_frame(
    path: &std::path::Path,
    key: Option<&lifeline_core::store::StoreKey>,
) -> Result<f64, String> {
    let t = Instant::now();
    let store = match key {
        Some(key) => Store::open_encrypted(path, key),
        None => Store::open(path),
    }
    .map_err(|e| e.to_string())?;
    store.enable_index().map_err(|e| e.to_string())?;
    let world = lifeline_core::geo::BBox::new(-180.0, -85.0, 180.0, 85.0)?;
    let q = RequestQuery::open();
    store
        .viewport_clusters(
            &world,
            1.5,
            48.0,
            &q,
            chrono::Utc::now() - chrono::Duration::hours(6),
        )
        .map_err(|e| e.to_string())?;
    store
        .indexed_page(&RequestQuery {
            limit: Some(60),
            ..RequestQuery::open()
        })
        .map_err(|e| e.to_string())?;
    Ok(t.elapsed().as_secs_f64() * 1000.0)
}

/// The same rows into a plaintext store and into an encrypted one (SQLCipher, as a desk's),
/// each as the desk runs it (the indexer alongside): the upsert, everything searchable, the
/// desk's viewport query, its text search and the store's part of the first map frame.
/// Ratios of encrypted to plaintext. After the writes, every measurement alternates between
/// the two stores (which goes first alternates too), so what the machine does meanwhile
/// weighs on both alike.
pub fn encrypted_against_plaintext(n: usize) -> Result<(), String> {
    heading(&format!(
        "store with {n} requests: encrypted at rest (SQLCipher) against plaintext, same run"
    ));
    let rows = generate(n);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let key = lifeline_core::store::StoreKey::random().map_err(|e| e.to_string())?;
    let paths = [
        dir.path().join("plain.sqlite"),
        dir.path().join("enc.sqlite"),
    ];
    let keys = [None, Some(&key)];
    let open = |i: usize| -> Result<Store, String> {
        match keys[i] {
            Some(key) => Store::open_encrypted(&paths[i], key),
            None => Store::open(&paths[i]),
        }
        .map_err(|e| e.to_string())
    };
    let mut upsert = [Duration::ZERO; 2];
    let mut searchable = [Duration::ZERO; 2];
    let mut stores = Vec::new();
    for i in 0..2 {
        let store = std::sync::Arc::new(open(i)?);
        let indexer = store.spawn_indexer();
        let t = Instant::now();
        for chunk in rows.chunks(BATCH) {
            store
                .upsert_requests(chunk, "bench", Some(("bench", "c")))
                .map_err(|e| e.to_string())?;
        }
        upsert[i] = t.elapsed();
        wait_until_indexed(&store)?;
        searchable[i] = t.elapsed();
        drop(indexer);
        store.enable_index().map_err(|e| e.to_string())?;
        stores.push(store);
    }
    let mut viewport = [Samples::default(), Samples::default()];
    let mut search = [Samples::default(), Samples::default()];
    let words = ["护照", "地震", "passport", "hospital", "王伟", "robbed"];
    let mut rng = Rng::new(7);
    for q_i in 0..QUERIES * 2 {
        let bbox = around((101.5, 13.0), 4.5, 7.5, &mut rng);
        let order = if q_i % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let q = RequestQuery {
                bbox: Some(bbox),
                limit: Some(100),
                ..RequestQuery::open()
            };
            let t = Instant::now();
            stores[i].indexed_page(&q).map_err(|e| e.to_string())?;
            viewport[i].push(t.elapsed());
            let t = Instant::now();
            stores[i]
                .indexed_page(&RequestQuery {
                    text: Some(words[q_i % words.len()].into()),
                    limit: Some(100),
                    ..Default::default()
                })
                .map_err(|e| e.to_string())?;
            search[i].push(t.elapsed());
        }
    }
    for store in &stores {
        store.checkpoint().map_err(|e| e.to_string())?;
    }
    drop(stores);
    let mut launches = [Vec::new(), Vec::new()];
    for l in 0..LAUNCHES {
        let order = if l % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            launches[i].push(first_frame(&paths[i], keys[i])?);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let first = [median(&mut launches[0]), median(&mut launches[1])];
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "  upsert, indexer alongside:   plaintext {:>8.0} rows/s, encrypted {:>8.0} rows/s   -> {:.2}x the time (target <= 1.3x)",
        rate(upsert[0]),
        rate(upsert[1]),
        upsert[1].as_secs_f64() / upsert[0].as_secs_f64()
    );
    println!(
        "  all of it searchable:        plaintext {:>8.1} s, encrypted {:>8.1} s   -> {:.2}x",
        searchable[0].as_secs_f64(),
        searchable[1].as_secs_f64(),
        searchable[1].as_secs_f64() / searchable[0].as_secs_f64()
    );
    for (what, samples) in [
        ("viewport (country, desk path)", &viewport),
        ("search (desk path)", &search),
    ] {
        let (p50, p99) = (
            [samples[0].percentile(50.0), samples[1].percentile(50.0)],
            [samples[0].percentile(99.0), samples[1].percentile(99.0)],
        );
        println!(
            "  {what}: p50 plaintext {:.2} ms, encrypted {:.2} ms -> {:.2}x; p99 plaintext {:.2} ms, encrypted {:.2} ms -> {:.2}x (target <= 1.3x)",
            p50[0],
            p50[1],
            p50[1] / p50[0],
            p99[0],
            p99[1],
            p99[1] / p99[0]
        );
    }
    println!(
        "  first map frame, the store's part (open, index, world clusters, queue page; median of {LAUNCHES}): plaintext {:.0} ms, encrypted {:.0} ms -> {:.2}x (target <= 1.3x)",
        first[0],
        first[1],
        first[1] / first[0]
    );
    Ok(())
}
