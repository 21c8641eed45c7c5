//! The desk's store encrypted at rest (SQLCipher) against the same store in plaintext, in
//! the same run: the upsert, everything searchable, the viewport query and the text search.

use std::time::{Duration, Instant};

use lifeline_core::Store;
use lifeline_core::store::RequestQuery;
use lifeline_core::synth::Rng;

use crate::stats::{Samples, heading};
use crate::store::{BATCH, QUERIES, around, generate, wait_until_indexed};

/// What one store of the encryption comparison measured.
struct AtRest {
    upsert: Duration,
    searchable: Duration,
    viewport_p99: f64,
    search_p99: f64,
}

/// The same rows into a plaintext store and into an encrypted one (SQLCipher, as a desk's),
/// each as the desk runs it (the indexer alongside): the upsert, everything searchable, the
/// desk's viewport query and its text search. Ratios of encrypted to plaintext.
pub fn encrypted_against_plaintext(n: usize) -> Result<(), String> {
    heading(&format!(
        "store with {n} requests: encrypted at rest (SQLCipher) against plaintext, same run"
    ));
    let rows = generate(n);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let key = lifeline_core::store::StoreKey::random().map_err(|e| e.to_string())?;
    let mut measured = Vec::new();
    for encrypted in [false, true] {
        let path = dir.path().join(if encrypted {
            "enc.sqlite"
        } else {
            "plain.sqlite"
        });
        let store = std::sync::Arc::new(
            if encrypted {
                Store::open_encrypted(&path, &key)
            } else {
                Store::open(&path)
            }
            .map_err(|e| e.to_string())?,
        );
        let indexer = store.spawn_indexer();
        let t = Instant::now();
        for chunk in rows.chunks(BATCH) {
            store
                .upsert_requests(chunk, "bench", Some(("bench", "c")))
                .map_err(|e| e.to_string())?;
        }
        let upsert = t.elapsed();
        wait_until_indexed(&store)?;
        let searchable = t.elapsed();
        drop(indexer);
        store.enable_index().map_err(|e| e.to_string())?;
        let mut rng = Rng::new(7);
        let (mut viewport, mut search) = (Samples::default(), Samples::default());
        let words = ["护照", "地震", "passport", "hospital", "王伟", "robbed"];
        for i in 0..QUERIES {
            let q = RequestQuery {
                bbox: Some(around((101.5, 13.0), 4.5, 7.5, &mut rng)),
                limit: Some(100),
                ..RequestQuery::open()
            };
            let t = Instant::now();
            store.indexed_page(&q).map_err(|e| e.to_string())?;
            viewport.push(t.elapsed());
            let t = Instant::now();
            store
                .indexed_page(&RequestQuery {
                    text: Some(words[i % words.len()].into()),
                    limit: Some(100),
                    ..Default::default()
                })
                .map_err(|e| e.to_string())?;
            search.push(t.elapsed());
        }
        measured.push(AtRest {
            upsert,
            searchable,
            viewport_p99: viewport.percentile(99.0),
            search_p99: search.percentile(99.0),
        });
    }
    let (plain, enc) = (&measured[0], &measured[1]);
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "  upsert, indexer alongside:   plaintext {:>8.0} rows/s, encrypted {:>8.0} rows/s   -> {:.2}x the time (target <= 1.3x)",
        rate(plain.upsert),
        rate(enc.upsert),
        enc.upsert.as_secs_f64() / plain.upsert.as_secs_f64()
    );
    println!(
        "  all of it searchable:        plaintext {:>8.1} s, encrypted {:>8.1} s   -> {:.2}x",
        plain.searchable.as_secs_f64(),
        enc.searchable.as_secs_f64(),
        enc.searchable.as_secs_f64() / plain.searchable.as_secs_f64()
    );
    println!(
        "  viewport p99 (country, desk path): plaintext {:.2} ms, encrypted {:.2} ms -> {:.2}x (target <= 1.3x)",
        plain.viewport_p99,
        enc.viewport_p99,
        enc.viewport_p99 / plain.viewport_p99
    );
    println!(
        "  search p99 (desk path):      plaintext {:.2} ms, encrypted {:.2} ms -> {:.2}x (target <= 1.3x)",
        plain.search_p99,
        enc.search_p99,
        enc.search_p99 / plain.search_p99
    );
    Ok(())
}
