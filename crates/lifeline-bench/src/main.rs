//! `lifeline-bench`: Lifeline's benchmarks. Each prints its figures next to a baseline
//! measured in the same run, so the ratio means the same on any machine.
//!
//! `lifeline-bench store [--sizes 100000,1000000]` — the store at scale.
//! `lifeline-bench encryption [--sizes 100000]` — the encrypted store against plaintext
//! (upsert, search, viewport, the store's part of the first map frame), also part of `store`.
//! `lifeline-bench feeds` — import throughput against the parsers alone.
//! `lifeline-bench sync [--requests 100000] [--burst 1000]` — the sync engine against a
//! local hub: initial sync against the store's own upsert, intake-to-commit latency.
//! `lifeline-bench hub [--requests 1000000] [--intakes 5000] [--streams 200] [--seconds 40]`
//! — the hub's PostgreSQL backend against its SQLite backend (intake, initial sync, a feed
//! page at 10^6), then two replicas with event streams, desks and a `kill -9`.
//! `lifeline-bench messages [--requests 10000]` — opening a 1,000-message thread against the
//! detail's case log; a safety reminder to N citizens against the same messages one by one.
//! `lifeline-bench make-store --requests N --out PATH` — a desk store of N synthetic
//! requests, for measuring the app on a full store (`cargo xtask bench app`).
//! `lifeline-bench memory --store PATH [--pages 400]` — where a desk's own memory goes on
//! such a store: the in-memory index, then pages of a drill's sync, step by step.
//!
//! Run through `cargo xtask bench` (release build).

mod encryption;
mod feeds;
mod hub;
mod memory;
mod messages;
mod replicas;
mod stats;
mod store;
mod sync;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sizes = args
        .iter()
        .position(|a| a == "--sizes")
        .and_then(|i| args.get(i + 1))
        .map(|s| {
            s.split(',')
                .filter_map(|n| n.trim().replace('_', "").parse().ok())
                .collect()
        })
        .unwrap_or_else(|| vec![100_000, 1_000_000]);
    let number = |flag: &str, default: usize| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|n| n.replace('_', "").parse().ok())
            .unwrap_or(default)
    };
    let sync_requests = number("--requests", 100_000);
    let burst = number("--burst", 1000);
    let result = match args.first().map(String::as_str) {
        Some("store") => store::run(&sizes),
        Some("feeds") => feeds::run(),
        Some("encryption") => sizes
            .iter()
            .try_for_each(|&n| encryption::encrypted_against_plaintext(n)),
        Some("sync") => sync::run(sync_requests, burst),
        Some("messages") => messages::run(number("--requests", 10_000)),
        Some("memory") => match args
            .iter()
            .position(|a| a == "--store")
            .and_then(|i| args.get(i + 1))
        {
            Some(store) => memory::run(std::path::Path::new(store), number("--pages", 400)),
            None => Err("memory needs --store PATH (a store of make-store)".into()),
        },
        Some("hub") => hub::run(hub::HubBench {
            requests: number("--requests", 1_000_000),
            intakes: number("--intakes", 5_000),
            streams: number("--streams", 200),
            seconds: number("--seconds", 40) as u64,
        }),
        Some("make-store") => match args
            .iter()
            .position(|a| a == "--out")
            .and_then(|i| args.get(i + 1))
        {
            Some(out) => store::make_store(sync_requests, std::path::Path::new(out)),
            None => Err("make-store needs --out PATH".into()),
        },
        Some("all") | None => store::run(&sizes)
            .and_then(|()| feeds::run())
            .and_then(|()| sync::run(sync_requests, burst))
            .and_then(|()| messages::run(sync_requests.min(10_000))),
        Some(other) => Err(format!(
            "unknown benchmark `{other}`; use store, encryption, feeds, sync, messages, hub or all"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lifeline-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
