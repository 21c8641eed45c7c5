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

    // Without a supervisor's permission recorded at the hub (tests/…/trust.rs), an export
    // carries no personal data: phones redacted, positions rounded to about 1 km.
    let geojson = run_ok(
        lifeline()
            .arg("--db")
            .arg(&db)
            .args(["export", "requests", "--format", "geojson"]),
    );
    let fc: serde_json::Value = serde_json::from_str(&geojson).expect("valid GeoJSON");
    assert_eq!(fc["features"].as_array().map(Vec::len), Some(500));
    let first = &fc["features"][0];
    assert_eq!(first["geometry"]["type"], "Point");
    let phones: Vec<&str> = fc["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["properties"]["citizen"]["phone"].as_str())
        .collect();
    assert!(
        !phones.is_empty() && phones.iter().all(|p| *p == "[redacted]"),
        "{phones:?}"
    );
    let lon = first["geometry"]["coordinates"][0].as_f64().expect("lon");
    assert!(
        ((lon * 100.0).round() - lon * 100.0).abs() < 1e-6,
        "rounded to 0.01°: {lon}"
    );
    let refused = lifeline()
        .arg("--db")
        .arg(&db)
        .args([
            "export",
            "requests",
            "--format",
            "csv",
            "--include-personal-data",
        ])
        .output()
        .expect("run");
    assert!(
        !refused.status.success(),
        "personal data needs the hub's permission"
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

#[test]
fn a_folder_of_files_from_the_wild_reports_every_file() {
    let dir = tempfile::tempdir().expect("dir");
    let folder = dir.path().join("dropped");
    std::fs::create_dir(&folder).expect("folder");
    for name in [
        "atom-inline-cap12-georss-meteoalarm-fr.xml",
        "rss2-inline-cap11-georss-one-line.xml",
        "usgs-earthquakes-atom-2024.xml",
        "gdacs-rss-bbox-only.xml",
        "ushahidi-export-mac-cr.csv",
        "ushahidi-v3-export-repeated-columns.csv",
        "open311-services-list.json",
        "atom-links-only-cap-index.xml",
    ] {
        std::fs::copy(fixture(name), folder.join(name)).expect("copy");
    }
    std::fs::write(folder.join("notes.txt"), "call the consulate at 9").expect("write");
    let out = lifeline()
        .arg("--db")
        .arg(dir.path().join("desk.sqlite"))
        .arg("import")
        .arg(&folder)
        .output()
        .expect("run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "most files were read: {text}");
    let line = |file: &str| {
        text.lines()
            .find(|l| l.contains(file) && !l.contains("committed"))
            .unwrap_or_else(|| panic!("no line for {file}: {text}"))
            .to_owned()
    };
    assert!(line("meteoalarm-fr.xml").contains("Atom feed: 3 accepted"));
    assert!(line("one-line.xml").contains("RSS feed: 4 accepted"));
    assert!(line("usgs-earthquakes-atom").contains("USGS earthquake Atom feed: 3 accepted"));
    assert!(line("gdacs-rss-bbox-only").contains("GDACS RSS: 3 accepted"));
    assert!(line("mac-cr.csv").contains("Ushahidi CSV export: 3 accepted"));
    assert!(line("repeated-columns.csv").contains("3 accepted, 0 unchanged, 0 rejected"));
    assert!(line("services-list.json").contains("skipped: an Open311 service list"));
    assert!(line("links-only").contains("skipped: an index that links to 4 CAP alerts"));
    assert!(line("notes.txt").contains("skipped"));
}

#[test]
fn map_packs_are_imported_listed_and_removed_and_a_cut_one_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("desk.sqlite");
    let pack = lifeline_tests::workspace_root().join("tests/maps/helsinki.pmtiles");
    let out = run_ok(
        lifeline()
            .arg("--db")
            .arg(&db)
            .args(["maps", "import"])
            .arg(&pack),
    );
    assert!(
        out.contains("helsinki") && out.contains("zooms 10-16"),
        "{out}"
    );
    assert!(dir.path().join("maps/helsinki.pmtiles").is_file());

    let bytes = std::fs::read(&pack).expect("pack");
    let cut = dir.path().join("cut.pmtiles");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).expect("write");
    let refused = lifeline()
        .arg("--db")
        .arg(&db)
        .args(["maps", "import"])
        .arg(&cut)
        .output()
        .expect("run");
    assert_eq!(refused.status.code(), Some(1));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("cut short or damaged"), "{said}");
    assert!(
        !dir.path().join("maps/cut.pmtiles").exists(),
        "nothing of it was kept"
    );

    let listed: serde_json::Value = serde_json::from_str(&run_ok(
        lifeline()
            .arg("--db")
            .arg(&db)
            .args(["--json", "maps", "list"]),
    ))
    .expect("json");
    assert_eq!(listed["packs"][0]["id"], "helsinki");
    assert!(
        listed["packs"][0]["attribution"]
            .as_str()
            .unwrap_or_default()
            .contains("OpenStreetMap")
    );
    run_ok(
        lifeline()
            .arg("--db")
            .arg(&db)
            .args(["maps", "remove", "helsinki"]),
    );
    assert!(!dir.path().join("maps/helsinki.pmtiles").exists());
}
