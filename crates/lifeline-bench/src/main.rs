//! `lifeline-bench`: Lifeline's benchmarks. Each prints its figures next to a baseline
//! measured in the same run, so the ratio means the same on any machine.
//!
//! `lifeline-bench store [--sizes 100000,1000000]` — the store at scale.
//! `lifeline-bench feeds` — import throughput against the parsers alone.
//!
//! Run through `cargo xtask bench` (release build).

mod feeds;
mod stats;
mod store;

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
    let result = match args.first().map(String::as_str) {
        Some("store") => store::run(&sizes),
        Some("feeds") => feeds::run(),
        Some("all") | None => store::run(&sizes).and_then(|()| feeds::run()),
        Some(other) => Err(format!(
            "unknown benchmark `{other}`; use store, feeds or all"
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
