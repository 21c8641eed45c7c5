//! `lifeline advisories [--active] [--with-requests]`, and the advisory properties shared
//! with `export advisories`.

use chrono::Utc;
use lifeline_core::Store;
use lifeline_core::protocol::WireRequest;
use lifeline_core::store::AdvisoryRow;
use serde_json::{Map, Value, json};

use crate::CliError;
use crate::args::AdvisoriesArgs;
use crate::output::print_json;

/// The properties every advisory carries in JSON output and GeoJSON export.
pub fn properties(row: &AdvisoryRow) -> Map<String, Value> {
    let a = &row.advisory;
    let info = a.info_for("en");
    let mut p = Map::new();
    let mut put = |k: &str, v: Value| {
        p.insert(k.to_owned(), v);
    };
    put("sender", json!(a.key.sender));
    put("identifier", json!(a.key.identifier));
    put("sent", json!(a.sent_text));
    put("msg_type", json!(a.msg_type.as_str()));
    put("status", json!(a.status.as_str()));
    put("scope", json!(a.scope.as_str()));
    put("state", json!(row.state.as_str()));
    put("severity", json!(a.severity().as_str()));
    put("urgency", json!(info.map(|i| i.urgency.as_str())));
    put("certainty", json!(info.map(|i| i.certainty.as_str())));
    put("event", json!(info.map(|i| i.event.as_str())));
    put("headline", json!(info.and_then(|i| i.headline.as_deref())));
    put(
        "languages",
        json!(
            a.infos
                .iter()
                .map(|i| i.language.as_str())
                .collect::<Vec<_>>()
        ),
    );
    put("expires", json!(a.expires().map(|e| e.to_rfc3339())));
    put(
        "area_desc",
        json!(
            a.areas
                .iter()
                .map(|x| x.description.as_str())
                .collect::<Vec<_>>()
        ),
    );
    put("source_format", json!(a.source_format.as_str()));
    put("source", json!(a.source));
    put(
        "references",
        json!(
            a.references
                .iter()
                .map(|r| format!("{},{},{}", r.sender, r.identifier, r.sent))
                .collect::<Vec<_>>()
        ),
    );
    if let Some(h) = &a.hazard {
        put("magnitude", json!(h.magnitude));
        put("depth_km", json!(h.depth_km));
        put("alert_level", json!(h.alert_level));
        put("tsunami", json!(h.tsunami));
    }
    p
}

pub fn run(store: &Store, args: AdvisoriesArgs, json_out: bool) -> Result<(), CliError> {
    let now = Utc::now();
    let rows = store.advisories(args.active || args.with_requests, now)?;
    let mut items = Vec::new();
    for row in &rows {
        let inside = if args.with_requests {
            Some(store.requests_in_advisory(row.id, true)?)
        } else {
            None
        };
        if json_out {
            let mut p = properties(row);
            if let Some(inside) = &inside {
                p.insert(
                    "requests".into(),
                    json!(
                        inside
                            .iter()
                            .map(|r| WireRequest::from_domain(&r.request, &[]))
                            .collect::<Vec<_>>()
                    ),
                );
            }
            items.push(Value::Object(p));
        } else {
            let a = &row.advisory;
            let info = a.info_for("en");
            say!(
                "{}\t{}\t{}\t{}\t{}\t{}",
                row.state,
                a.severity(),
                a.status,
                info.map_or("", |i| i.event.as_str()),
                info.and_then(|i| i.headline.as_deref()).unwrap_or(""),
                a.key.identifier
            )?;
            for r in inside.iter().flatten() {
                let req = &r.request;
                say!(
                    "\t{}\t{}{}\t{}",
                    req.id,
                    if req.emergency { "SOS " } else { "" },
                    req.status,
                    req.citizen.name
                )?;
            }
        }
    }
    if json_out {
        print_json(&items)?;
    }
    Ok(())
}
