//! Import throughput: MB/s through parse + store, against the parser alone on the same input.

use std::time::Instant;

use chrono::Utc;
use lifeline_core::Store;
use lifeline_feeds::{Format, detect, parse_document};

use crate::stats::heading;

/// A CAP alert of realistic size: two languages, a polygon of 40 vertices.
fn cap_alert(i: usize) -> String {
    let ring: Vec<String> = (0..40)
        .map(|k| {
            let a = (k as f64) / 39.0 * std::f64::consts::TAU;
            format!("{:.4},{:.4}", 13.7 + 0.3 * a.sin(), 100.5 + 0.3 * a.cos())
        })
        .chain(std::iter::once(format!("{:.4},{:.4}", 13.7, 100.8)))
        .collect();
    let mut ring = ring;
    let first = ring[0].clone();
    if let Some(last) = ring.last_mut() {
        *last = first;
    }
    let info = |lang: &str, event: &str, headline: &str| {
        format!(
            "<info><language>{lang}</language><category>Met</category><event>{event}</event><urgency>Immediate</urgency>\
             <severity>Severe</severity><certainty>Observed</certainty><expires>2026-12-01T00:00:00+07:00</expires>\
             <headline>{headline}</headline><description>{headline} {headline} {headline}</description>\
             <area><areaDesc>Bangkok and vicinity</areaDesc><polygon>{}</polygon><geocode><valueName>ISO3166-2</valueName><value>TH-10</value></geocode></area></info>",
            ring.join(" ")
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><identifier>bench-{i}</identifier>\
         <sender>bench@example.org</sender><sent>2026-11-25T08:00:00+07:00</sent><status>Actual</status><msgType>Alert</msgType>\
         <scope>Public</scope>{}{}</alert>",
        info(
            "en-US",
            "Flash flood",
            "Flash flood warning for the river districts"
        ),
        info("zh-CN", "山洪", "沿河地区山洪警报，请立即转移到高处")
    )
}

fn geojson_collection(n: usize) -> String {
    let features: Vec<String> = (0..n)
        .map(|i| {
            let (lon, lat) = (100.0 + (i % 100) as f64 * 0.01, 13.0 + (i / 100) as f64 * 0.01);
            format!(
                r#"{{"type":"Feature","id":"zone-{i}","properties":{{"event":"Curfew","headline":"Curfew zone {i}","severity":"Severe","urgency":"Immediate","certainty":"Observed","sent":"2026-11-25T08:00:00Z"}},"geometry":{{"type":"Polygon","coordinates":[[[{lon},{lat}],[{},{lat}],[{},{}],[{lon},{}],[{lon},{lat}]]]}}}}"#,
                lon + 0.01, lon + 0.01, lat + 0.01, lat + 0.01
            )
        })
        .collect();
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    )
}

fn measure(name: &str, docs: &[String]) -> Result<(), String> {
    let bytes: usize = docs.iter().map(String::len).sum();
    let mb = bytes as f64 / 1e6;
    let t = Instant::now();
    for d in docs {
        let f = detect::detect(d.as_bytes()).map_err(|e| e.to_string())?;
        parse_document(f, d.as_bytes(), "bench").map_err(|e| e.to_string())?;
    }
    let parse_s = t.elapsed().as_secs_f64();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let store = Store::open(dir.path().join("s.sqlite")).map_err(|e| e.to_string())?;
    let t = Instant::now();
    for d in docs {
        let f: Format = detect::detect(d.as_bytes()).map_err(|e| e.to_string())?;
        let doc = parse_document(f, d.as_bytes(), "bench").map_err(|e| e.to_string())?;
        lifeline_feeds::apply_document(&store, doc, "bench", Utc::now(), None)
            .map_err(|e| e.to_string())?;
    }
    let import_s = t.elapsed().as_secs_f64();
    println!(
        "  {name}: {mb:.1} MB   parser alone {:.1} MB/s   parse + store {:.1} MB/s   ({:.0}% of the parser)",
        mb / parse_s,
        mb / import_s,
        100.0 * parse_s / import_s
    );
    Ok(())
}

pub fn run() -> Result<(), String> {
    heading("feed import throughput (parse + store, against the parser alone on the same input)");
    let caps: Vec<String> = (0..2000).map(cap_alert).collect();
    measure(
        "CAP 1.2, 2,000 alerts (2 languages, 40-vertex polygons)",
        &caps,
    )?;
    let geo: Vec<String> = (0..20).map(|_| geojson_collection(1000)).collect();
    measure("GeoJSON, 20 collections x 1,000 polygons", &geo)?;
    Ok(())
}
