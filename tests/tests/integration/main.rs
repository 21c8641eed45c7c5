//! Cross-crate integration tests, one binary.
//!
//! Where new tests go:
//! * `cli` — the `lifeline` command as a script would use it (files in, text/JSON out).
//! * `crash` — what a `kill -9` of the desk leaves behind.
//! * `sync` — real hubs and real desks: convergence, restarts, offline edits, conflicts.
//! * `faults` — a misbehaving hub: errors, throttling, slow and broken answers, bad records.
//! * `messages` — the thread with the citizen: replies, receipts, answers, who sees a thread.
//! * `media` — citizens' photos, voice and video: types read from bytes, caps, who fetches.
//! * `maps` — region packs the hub hosts: downloaded by ranges, checked, resumed.
//! * `replicas` — several hubs on one PostgreSQL database: the change feed under concurrent
//!   writers, fan-out of every replica's changes, a replica killed mid-drill.
//! * `trust` — the hub over HTTPS with officers, posts and channels: who may see and do what,
//!   sessions, lock-out, the audit trail, limits, refused transports and certificates.

mod cli;
mod crash;
mod faults;
mod maps;
mod media;
mod messages;
mod replicas;
mod sync;
mod trust;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use chrono::{TimeZone, Utc};
use lifeline_core::protocol::WireRequest;
use lifeline_core::synth::{Rng, request_anywhere};
use lifeline_tests::{binary, workspace_root};

/// Held by a test whose measure is a time (an SOS within seconds of an outage) and by the
/// tests that push tens of megabytes through TLS: on two cores the one slowed the other
/// past its limit. Tests holding it never overlap; the others run beside either.
pub(crate) static TIMED: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(crate) fn lifeline() -> Command {
    Command::new(binary("lifeline-cli", "lifeline"))
}

pub(crate) fn fixture(name: &str) -> std::path::PathBuf {
    workspace_root()
        .join("crates/lifeline-feeds/tests/fixtures")
        .join(name)
}

/// Writes `n` synthetic requests as JSON lines.
pub(crate) fn write_jsonl(path: &Path, n: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut rng = Rng::new(5);
    let at = Utc
        .with_ymd_and_hms(2026, 11, 25, 8, 0, 0)
        .single()
        .expect("time");
    for i in 0..n {
        let r = request_anywhere(
            &mut rng,
            format!("req-{i:07}"),
            at + chrono::Duration::seconds(i as i64),
        );
        serde_json::to_writer(&mut out, &WireRequest::from_domain(&r, &[])).expect("write");
        out.write_all(b"\n").expect("write");
    }
}

pub(crate) fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run lifeline");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}
