//! `lifeline maps`: the offline street maps (region packs) of a desk, beside its store.

use std::path::Path;

use lifeline_core::maps::{self, PackInfo};

use crate::CliError;
use crate::args::MapsAction;
use crate::output::print_json;

fn json_of(p: &PackInfo) -> serde_json::Value {
    serde_json::json!({
        "id": p.id, "name": p.name, "bounds": p.bounds, "min_zoom": p.min_zoom,
        "max_zoom": p.max_zoom, "size_bytes": p.size_bytes, "data_date": p.data_date,
        "attribution": p.attribution, "layers": p.layers,
    })
}

fn line(p: &PackInfo) -> String {
    let [w, s, e, n] = p.bounds;
    format!(
        "{}  {}  zooms {}-{}  {:.1} MB  [{w:.3}, {s:.3}, {e:.3}, {n:.3}]  {}",
        p.id,
        p.name,
        p.min_zoom,
        p.max_zoom,
        p.size_bytes as f64 / 1024.0 / 1024.0,
        p.attribution
    )
}

pub fn run(db: &Path, action: &MapsAction, json_out: bool) -> Result<(), CliError> {
    let folder = maps::folder_for(db);
    match action {
        MapsAction::Import { file } => {
            let info = maps::import(file, &folder)
                .map_err(|e| CliError::BadFile(format!("{}: {e}", file.display())))?;
            if json_out {
                return print_json(&json_of(&info));
            }
            say!("imported {}", line(&info))
        }
        MapsAction::List => {
            let (packs, refused) = maps::list(&folder);
            if json_out {
                return print_json(&serde_json::json!({
                    "packs": packs.iter().map(json_of).collect::<Vec<_>>(),
                    "refused": refused.iter().map(|r| serde_json::json!({"file": r.file, "reason": r.reason})).collect::<Vec<_>>(),
                }));
            }
            if packs.is_empty() && refused.is_empty() {
                say!("no map packs in {}", folder.display())?;
            }
            for p in &packs {
                say!("{}", line(p))?;
            }
            for r in &refused {
                say!("refused {}: {}", r.file, r.reason)?;
            }
            Ok(())
        }
        MapsAction::Remove { id } => {
            let removed =
                maps::remove(&folder, id).map_err(|e| CliError::BadFile(e.to_string()))?;
            if !removed {
                return Err(CliError::Usage(format!("no map pack `{id}`")));
            }
            say!("removed {id}")
        }
    }
}
