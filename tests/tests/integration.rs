//! Cross-crate integration tests, one binary.
//!
//! Where new tests go:
//! * `cli` — the `lifeline` command as a script would use it (files in, text/JSON out).
//! * `crash` — what a `kill -9` leaves behind.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use chrono::{TimeZone, Utc};
use lifeline_core::protocol::WireRequest;
use lifeline_core::synth::{Rng, request_anywhere};
use lifeline_tests::{binary, workspace_root};

fn lifeline() -> Command {
    Command::new(binary("lifeline-cli", "lifeline"))
}

fn fixture(name: &str) -> std::path::PathBuf {
    workspace_root()
        .join("crates/lifeline-feeds/tests/fixtures")
        .join(name)
}

/// Writes `n` synthetic requests as JSON lines.
fn write_jsonl(path: &Path, n: usize) {
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

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run lifeline");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

mod cli {
    use super::*;

    #[test]
    fn import_query_and_export_requests() {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("desk.sqlite");
        let file = dir.path().join("requests.jsonl");
        write_jsonl(&file, 500);
        let report = run_ok(
            lifeline()
                .arg("--db")
                .arg(&db)
                .arg("--json")
                .arg("import")
                .arg(&file),
        );
        let report: serde_json::Value = serde_json::from_str(&report).expect("JSON report");
        assert_eq!(report[0]["format"], "JSON lines help requests");
        assert_eq!(report[0]["accepted"], 500);

        let all: Vec<serde_json::Value> = serde_json::from_str(&run_ok(
            lifeline().arg("--db").arg(&db).args(["--json", "requests"]),
        ))
        .expect("JSON array");
        assert_eq!(all.len(), 500);
        let sos: Vec<serde_json::Value> =
            serde_json::from_str(&run_ok(lifeline().arg("--db").arg(&db).args([
                "--json",
                "requests",
                "--emergency",
                "--status",
                "open",
            ])))
            .expect("JSON array");
        assert!(!sos.is_empty() && sos.len() < 500);
        assert!(sos.iter().all(|r| r["emergency"] == true));

        // Thailand's box by CLI, against the records' own coordinates.
        let in_box: Vec<serde_json::Value> =
            serde_json::from_str(&run_ok(lifeline().arg("--db").arg(&db).args([
                "--json",
                "requests",
                "--bbox",
                "97,5,106,21",
            ])))
            .expect("JSON");
        let expected = all
            .iter()
            .filter(|r| {
                r["location"]["lon"]
                    .as_f64()
                    .is_some_and(|x| (97.0..=106.0).contains(&x))
                    && r["location"]["lat"]
                        .as_f64()
                        .is_some_and(|y| (5.0..=21.0).contains(&y))
            })
            .count();
        assert_eq!(in_box.len(), expected);

        let csv = dir.path().join("out.csv");
        run_ok(
            lifeline()
                .arg("--db")
                .arg(&db)
                .args(["export", "requests", "--format", "csv", "--output"])
                .arg(&csv),
        );
        let text = std::fs::read_to_string(&csv).expect("csv");
        assert_eq!(text.lines().next().map(|l| l.split(',').count()), Some(23));
        assert!(
            text.contains("[redacted]"),
            "phone numbers are redacted by default"
        );
        assert!(
            !text.contains("+861"),
            "no phone number leaks into an export by default"
        );

        let geojson = run_ok(lifeline().arg("--db").arg(&db).args([
            "export",
            "requests",
            "--format",
            "geojson",
            "--include-personal-data",
        ]));
        let fc: serde_json::Value = serde_json::from_str(&geojson).expect("valid GeoJSON");
        assert_eq!(fc["features"].as_array().map(Vec::len), Some(500));
        let first = &fc["features"][0];
        assert_eq!(first["geometry"]["type"], "Point");
        assert!(
            first["properties"]["citizen"]["phone"]
                .as_str()
                .is_some_and(|p| p.starts_with("+86"))
        );

        let stats: serde_json::Value = serde_json::from_str(&run_ok(
            lifeline().arg("--db").arg(&db).args(["--json", "stats"]),
        ))
        .expect("JSON");
        assert_eq!(stats["total"], 500);
        assert_eq!(stats["open_emergencies"].as_u64(), Some(sos.len() as u64));
    }

    #[test]
    fn feeds_import_reports_per_file_and_exports_advisories() {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("desk.sqlite");
        let out = run_ok(
            lifeline()
                .arg("--db")
                .arg(&db)
                .args(["--json", "import"])
                .arg(fixture(
                    "cap12-oasis-spec-a2-severe-thunderstorm-polygon.xml",
                ))
                .arg(fixture("usgs-significant-week-2020-03-26.geojson"))
                .arg(fixture("gdacs-rss-2024-12-10-trimmed.xml")),
        );
        let reports: Vec<serde_json::Value> = serde_json::from_str(&out).expect("JSON");
        let formats: Vec<&str> = reports
            .iter()
            .filter_map(|r| r["format"].as_str())
            .collect();
        assert_eq!(formats, ["CAP", "USGS earthquake GeoJSON", "GDACS RSS"]);
        let geojson = run_ok(lifeline().arg("--db").arg(&db).args([
            "export",
            "advisories",
            "--format",
            "geojson",
        ]));
        let fc: serde_json::Value = serde_json::from_str(&geojson).expect("valid GeoJSON");
        let features = fc["features"].as_array().expect("features");
        assert_eq!(features.len(), 11);
        let a2 = features
            .iter()
            .find(|f| f["properties"]["identifier"] == "KSTO1055887203")
            .expect("the CAP alert");
        for key in [
            "sender",
            "identifier",
            "sent",
            "msg_type",
            "state",
            "severity",
            "urgency",
            "certainty",
            "event",
            "headline",
            "languages",
            "expires",
            "area_desc",
            "source_format",
        ] {
            assert!(
                a2["properties"].get(key).is_some(),
                "property {key} is exported"
            );
        }
        assert_eq!(
            a2["geometry"]["coordinates"][0][0],
            serde_json::json!([-120.14, 38.47])
        );
        let quake = features
            .iter()
            .find(|f| f["properties"]["source_format"] == "usgs-geojson")
            .expect("a quake");
        assert_eq!(
            quake["geometry"]["type"], "GeometryCollection",
            "the circle as a polygon, plus the epicentre"
        );
    }

    #[test]
    fn bad_files_name_the_file_and_exit_nonzero_only_when_nothing_was_read() {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("desk.sqlite");
        let garbage = dir.path().join("garbage.bin");
        std::fs::write(&garbage, [0u8, 159, 146, 150, 255]).expect("write");
        let out = lifeline()
            .arg("--db")
            .arg(&db)
            .arg("import")
            .arg(&garbage)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1), "nothing could be read");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("garbage.bin"),
            "the message names the file: {err}"
        );

        let out = lifeline()
            .arg("--db")
            .arg(&db)
            .arg("import")
            .arg(&garbage)
            .arg(fixture(
                "cap12-oasis-spec-a2-severe-thunderstorm-polygon.xml",
            ))
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "one good file is enough: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        let out = lifeline()
            .arg("--db")
            .arg(&db)
            .args(["requests", "--status", "bogus"])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid status"));
    }
}

mod crash {
    use super::*;

    /// A `kill -9` in the middle of a large import leaves a consistent store holding exactly
    /// the batches that were committed, in order, and nothing half-written.
    #[test]
    fn kill_during_import_leaves_every_committed_batch_and_nothing_else() {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("desk.sqlite");
        let file = dir.path().join("big.jsonl");
        let total = 60_000;
        write_jsonl(&file, total);
        let mut child = lifeline()
            .arg("--db")
            .arg(&db)
            .arg("import")
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start import");
        // Wait for a few committed batches, then kill without warning.
        let stderr = child.stderr.take().expect("stderr");
        let mut reported = 0u64;
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
            let line = line.expect("line");
            if let Some(n) = line
                .rsplit("committed ")
                .next()
                .and_then(|s| s.split_whitespace().next())
                .and_then(|n| n.parse().ok())
            {
                reported = n;
                if reported >= 5_000 {
                    break;
                }
            }
        }
        child.kill().expect("kill -9");
        let _ = child.wait();
        assert!(
            reported >= 5_000,
            "the import reported progress before the kill"
        );

        let store = lifeline_core::Store::open(&db).expect("the store opens after a crash");
        assert!(
            store.integrity_check().expect("check").is_empty(),
            "PRAGMA integrity_check is ok"
        );
        let count = store.request_count().expect("count");
        assert!(
            count >= reported,
            "every batch reported as committed is there ({count} < {reported})"
        );
        assert!(count < total as u64, "the import was really interrupted");
        assert_eq!(count % 1000, 0, "batches are all or nothing");
        let ids = store
            .query_request_ids(&lifeline_core::store::RequestQuery {
                order: lifeline_core::store::RequestOrder::Oldest,
                ..Default::default()
            })
            .expect("ids");
        let mut sorted = ids.clone();
        sorted.sort();
        let expected: Vec<String> = (0..count as usize).map(|i| format!("req-{i:07}")).collect();
        assert_eq!(
            sorted, expected,
            "exactly the first {count} records, none skipped"
        );
        let fts_rows: i64 = store
            .read(|c| Ok(c.query_row("SELECT count(*) FROM requests_rtree", [], |r| r.get(0))?))
            .expect("rtree count");
        assert_eq!(
            fts_rows as u64, count,
            "the spatial index matches the table"
        );
    }
}
