//! The permission list is the security boundary between the web view and the core: every
//! command must be listed in build.rs, registered in the handler, granted to the main window,
//! and nothing else may be granted.

use std::collections::BTreeSet;
use std::path::PathBuf;

fn read(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The quoted words between two markers of a source file.
fn quoted_between(text: &str, start: &str, end: &str) -> BTreeSet<String> {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("`{start}` not found"));
    let rest = &text[from + start.len()..];
    let to = rest.find(end).unwrap_or(rest.len());
    rest[..to]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn build_rs_commands() -> BTreeSet<String> {
    quoted_between(&read("build.rs"), "pub const COMMANDS: &[&str] = &[", "];")
}

#[test]
fn every_command_is_listed_registered_and_granted() {
    let listed = build_rs_commands();
    let lib = read("src/lib.rs");
    let handler = &lib[lib.find("generate_handler![").expect("handler")..];
    let handler = &handler[..handler.find("])").expect("end of handler")];
    let registered: BTreeSet<String> = handler
        .split(',')
        .filter_map(|p| p.trim().rsplit("::").next())
        .filter(|n| !n.is_empty() && !n.contains('!'))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        listed, registered,
        "build.rs COMMANDS and generate_handler! must list the same commands"
    );

    let capability: serde_json::Value =
        serde_json::from_str(&read("capabilities/main.json")).expect("capability JSON");
    let granted: BTreeSet<String> = capability["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .filter_map(|p| p.as_str())
        .filter_map(|p| p.strip_prefix("allow-"))
        .map(|p| p.replace('-', "_"))
        .collect();
    assert_eq!(
        granted, listed,
        "the main window is granted exactly the app's commands"
    );
    let others: Vec<&str> = capability["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| !p.starts_with("allow-"))
        .collect();
    assert_eq!(
        others,
        ["core:event:allow-listen", "core:event:allow-unlisten"],
        "no plugin or core permission beyond events"
    );
}

#[test]
fn the_ui_calls_only_granted_commands() {
    let ipc = read("../ui/src/ipc/commands.ts");
    let called: BTreeSet<String> = ipc
        .split("call<")
        .skip(1)
        .filter_map(|s| s.split('"').nth(1))
        .map(str::to_owned)
        .collect();
    assert!(
        !called.is_empty(),
        "the UI's command module was not recognised"
    );
    let listed = build_rs_commands();
    let unknown: Vec<&String> = called.difference(&listed).collect();
    assert!(
        unknown.is_empty(),
        "the UI calls commands the window may not: {unknown:?}"
    );
}
