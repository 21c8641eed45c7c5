//! Helpers for the integration tests: the project's binaries, built once per test run, and
//! temporary folders that are kept when a test fails (so its database can be inspected).

pub mod fake_hub;
pub mod hub;
pub mod postgres;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The path of a workspace binary, building it (once per test process) if needed.
///
/// Tests run the real executables, as an officer or a script would. Cargo only builds the
/// binaries of the package under test, so the others are built here with the same cargo
/// and profile.
pub fn binary(package: &str, name: &str) -> PathBuf {
    static BUILT: OnceLock<std::sync::Mutex<Vec<String>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    let path = target_profile_dir().join(name);
    if !built.iter().any(|b| b == name) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", package, "--bin", name])
            .current_dir(workspace_root())
            .status()
            .unwrap_or_else(|e| panic!("cannot run cargo to build {name}: {e}"));
        assert!(status.success(), "building {name} failed");
        built.push(name.to_owned());
    }
    path
}

pub fn workspace_root() -> PathBuf {
    // The run-time variable first (cargo sets it for tests): a test binary built in another
    // clone sharing the target folder still carries that clone's path in the compile-time one.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// `target/debug` (or wherever this test binary was built): test binaries live in `deps/`.
fn target_profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}
