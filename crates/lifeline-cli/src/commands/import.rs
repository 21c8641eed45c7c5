//! `lifeline import FILE_OR_FOLDER...`: each file (a folder's files in name order) is read
//! on its own and reported on its own line: what it is, what was taken, and why anything
//! was left.

use chrono::Utc;
use lifeline_core::Store;
use lifeline_feeds::csv_requests::ColumnMap;
use lifeline_feeds::{FileReport, ImportOptions, import_file};
use serde_json::json;

use crate::CliError;
use crate::args::ImportArgs;
use crate::output::print_json;

pub fn run(store: &Store, args: ImportArgs, json_out: bool) -> Result<(), CliError> {
    let csv_map = args
        .map
        .as_deref()
        .map(ColumnMap::parse)
        .transpose()
        .map_err(|e| CliError::Usage(format!("--map: {e}")))?;
    let mut reports = Vec::new();
    for path in &expand_folders(&args.files)? {
        let mut opts = ImportOptions {
            csv_map: csv_map.clone(),
            id_prefix: args.id_prefix.clone(),
            now: Utc::now(),
            ..Default::default()
        };
        let name = path.display().to_string();
        // Progress on standard error after every committed batch: what is reported here is
        // durable, whatever happens next.
        let report = import_file(store, path, &mut opts, &mut |n| {
            eprintln!("{name}: committed {n} records")
        });
        if !json_out {
            print_report(&report)?;
        }
        reports.push(report);
    }
    // Index what was imported now, while the importer waits anyway, rather than in the
    // first query after it.
    store.catch_up_index()?;
    if json_out {
        print_json(&reports.iter().map(report_json).collect::<Vec<_>>())?;
    }
    if reports.iter().any(FileReport::read_anything) {
        Ok(())
    } else {
        Err(CliError::NothingRead)
    }
}

/// The files to import: each file given, and the files of each folder given (sorted by name,
/// folders inside it too; hidden files skipped).
fn expand_folders(paths: &[std::path::PathBuf]) -> Result<Vec<std::path::PathBuf>, CliError> {
    let mut out = Vec::new();
    for path in paths {
        if !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        let mut inside: Vec<std::path::PathBuf> = std::fs::read_dir(path)
            .map_err(|e| {
                CliError::Usage(format!("cannot read the folder {}: {e}", path.display()))
            })?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        inside.sort();
        out.extend(expand_folders(&inside)?);
    }
    Ok(out)
}

fn report_json(r: &FileReport) -> serde_json::Value {
    json!({
        "file": r.source,
        "format": r.format.map(|f| f.name()),
        "accepted": r.accepted,
        "unchanged": r.unchanged,
        "rejected": r.rejected.iter().map(|x| json!({"record": x.record_ref, "reason": x.reason})).collect::<Vec<_>>(),
        "superseded": r.superseded.iter().map(|k| format!("{},{}", k.sender, k.identifier)).collect::<Vec<_>>(),
        "cancelled": r.cancelled.iter().map(|k| format!("{},{}", k.sender, k.identifier)).collect::<Vec<_>>(),
        "removed": r.removed,
        "links_not_followed": r.links_not_followed.iter().map(|(u, why)| json!({"url": u, "reason": why})).collect::<Vec<_>>(),
        "error": r.error,
    })
}

fn print_report(r: &FileReport) -> Result<(), CliError> {
    if let Some(e) = &r.error {
        match r.format {
            Some(f) => eprintln!("{}: {}: skipped: {e}", r.source, f.name()),
            None => eprintln!("{}: skipped: {e}", r.source),
        }
        return Ok(());
    }
    let format = r.format.map_or("?", |f| f.name());
    say!(
        "{}: {format}: {} accepted, {} unchanged, {} rejected",
        r.source,
        r.accepted,
        r.unchanged,
        r.rejected.len()
    )?;
    for x in &r.rejected {
        say!(
            "  rejected {}: {}",
            x.record_ref.as_deref().unwrap_or("record"),
            x.reason
        )?;
    }
    for k in &r.superseded {
        say!("  superseded {} {}", k.sender, k.identifier)?;
    }
    for k in &r.cancelled {
        say!("  cancelled {} {}", k.sender, k.identifier)?;
    }
    if r.removed > 0 {
        say!("  removed {} withdrawn hazard events", r.removed)?;
    }
    for (url, why) in &r.links_not_followed {
        say!("  not followed {url}: {why}")?;
    }
    Ok(())
}
