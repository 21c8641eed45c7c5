//! `lifeline quarantine`

use lifeline_core::Store;
use serde_json::json;

use crate::CliError;
use crate::output::print_json;

pub fn run(store: &Store, limit: u32, json_out: bool) -> Result<(), CliError> {
    let records = store.quarantined(limit)?;
    if json_out {
        return print_json(
            &records
                .iter()
                .map(|r| {
                    json!({
                        "source": r.source,
                        "record": r.record_ref,
                        "reason": r.reason,
                        "at": r.at.to_rfc3339(),
                        "raw": String::from_utf8_lossy(&r.raw),
                    })
                })
                .collect::<Vec<_>>(),
        );
    }
    for r in records {
        say!(
            "{}\t{}\t{}\t{}",
            r.at.format("%Y-%m-%d %H:%M:%S"),
            r.source,
            r.record_ref.unwrap_or_default(),
            r.reason
        )?;
    }
    Ok(())
}
