//! Lifeline's dev tasks. `cargo xtask ci` is exactly what CI runs, so a green run here is a
//! green run there.
//!
//! * `cargo xtask setup` — install what is missing (Debian/Ubuntu packages, tauri-driver,
//!   the UI's npm packages).
//! * `cargo xtask ci` — formatting, lints, the host-free check, every test (unit,
//!   integration, UI, end-to-end under a virtual display).
//! * `cargo xtask test` — `setup`, then `ci`: the README's test command.
//! * `cargo xtask run` — build the desk, start a local hub replaying a drill unless a hub is
//!   configured, open the desk on it.
//! * `cargo xtask cluster [N]` — PostgreSQL of its own, N hub replicas on one database and
//!   the desk on all of them: the hub as a ministry runs it.
//! * `cargo xtask package` — the desk's `.deb` and `.rpm` (Tauri's bundler).
//! * `cargo xtask bench` — the benchmarks (release build), figures printed; `cargo xtask
//!   bench app` measures the desk itself (first frame, panning, memory, alert latency).

mod ci;
mod cluster;
mod package;
mod run;
mod setup;
mod util;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((t, rest)) => (t.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match task {
        "setup" => setup::run(),
        "ci" => ci::run(rest),
        "test" => setup::run().and_then(|()| ci::run(rest)),
        "run" => run::run(rest),
        "cluster" => cluster::cluster(rest),
        "bench" => run::bench(rest),
        "e2e" => run::e2e(),
        "bindings" => ci::update_bindings(),
        "package" if rest.iter().any(|a| a == "--check") => package::check_installed(),
        "package" => package::package(rest).map(|_| ()),
        _ => {
            println!(
                "usage: cargo xtask <task>\n\n  setup     install what is missing (system packages, tauri-driver, npm packages)\n  \
                 ci        everything CI checks (fmt, clippy, host-free core, tests, UI tests, end-to-end)\n  \
                 test      setup, then ci\n  e2e       only the end-to-end suite (the real desk under a virtual display)\n  \
                 run       start a local hub with a drill and open the desk on it\n  \
                 cluster   PostgreSQL of its own, N hub replicas (`cluster 3`; 2 by default) and the desk on all\n  \
                 package   the desk's .deb and .rpm (release; --debug for the debug build;\n            --check installs the debug .deb, starts it, removes it, as CI does)\n  \
                 bench     run the benchmarks (release) and print their figures;\n            `bench app [--minutes N] [--requests N] [--phases startup,street,drill]`\n            measures the desk itself\n  bindings  regenerate the UI's TypeScript types from Rust"
            );
            return if task == "help" {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {task}: {e}");
            ExitCode::FAILURE
        }
    }
}
