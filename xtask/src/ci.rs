//! `cargo xtask ci`: exactly what CI runs.

use crate::util::{Result, exec, fail, output, root, step};

/// Crates that must never depend on Tauri.
const HOST_FREE: &[&str] = &[
    "lifeline-core",
    "lifeline-feeds",
    "lifeline-sync",
    "lifeline-hub",
    "lifeline-cli",
];

pub fn run(args: &[String]) -> Result {
    let skip_e2e = args.iter().any(|a| a == "--no-e2e");
    let root = root();
    step("formatting");
    exec(&root, "cargo", &["fmt", "--all", "--check"], &[])?;
    host_free_check()?;
    ui_checks()?;
    step("clippy (warnings are errors)");
    exec(
        &root,
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    step("tests");
    exec(&root, "cargo", &["test", "--workspace", "--locked"], &[])?;
    // The hub's whole integration suite again, every test hub on a PostgreSQL database of
    // a server the tests start themselves (tests/src/postgres.rs).
    step("integration tests on the PostgreSQL backend");
    exec(
        &root,
        "cargo",
        &[
            "test",
            "--locked",
            "-p",
            "lifeline-tests",
            "--test",
            "integration",
        ],
        &[("LIFELINE_TEST_HUB_BACKEND", "postgres")],
    )?;
    keyring_tests()?;
    // Running the fuzzers needs libFuzzer and sanitizers (docs/DEVELOPING.md); CI keeps the
    // targets compiling against the parsers as they change.
    step("fuzz targets still compile");
    exec(
        &root,
        "cargo",
        &[
            "check",
            "--locked",
            "--manifest-path",
            "fuzz/Cargo.toml",
            "--bins",
        ],
        &[],
    )?;
    step("benchmarks still run (small sizes, debug build)");
    exec(
        &root,
        "cargo",
        &[
            "run",
            "--locked",
            "-p",
            "lifeline-bench",
            "--",
            "all",
            "--sizes",
            "2000",
            "--requests",
            "2000",
            "--burst",
            "100",
        ],
        &[],
    )?;
    // The hub at scale, small: both backends, two replicas as processes, a kill.
    exec(
        &root,
        "cargo",
        &["build", "--locked", "-p", "lifeline-hub"],
        &[],
    )?;
    exec(
        &root,
        "cargo",
        &[
            "run",
            "--locked",
            "-p",
            "lifeline-bench",
            "--",
            "hub",
            "--requests",
            "2000",
            "--intakes",
            "200",
            "--streams",
            "10",
            "--seconds",
            "4",
        ],
        &[],
    )?;
    if skip_e2e {
        println!("\nend-to-end tests skipped (--no-e2e)");
        return Ok(());
    }
    crate::run::e2e()?;
    // The package an embassy installs: built, installed, started, removed.
    crate::package::check_installed()
}

/// The desk's keyring tests need a Secret Service: a private session bus (no service
/// activation) with gnome-keyring unlocked by a test password, its files in a folder of its
/// own, as the end-to-end suite runs it.
fn keyring_tests() -> Result {
    step("keyring tests (a private session bus with gnome-keyring)");
    let home = std::env::temp_dir().join(format!("lifeline-keyring-{}", std::process::id()));
    std::fs::create_dir_all(&home)
        .map_err(|e| crate::util::Failed(format!("cannot create {}: {e}", home.display())))?;
    let home_str = home.display().to_string();
    // Only the daemon gets the folder as its home: cargo keeps its own.
    let script = "printf %s 'ci keyring password' | HOME=\"$KEYRING_HOME\" XDG_DATA_HOME=\"$KEYRING_HOME\" XDG_RUNTIME_DIR=\"$KEYRING_HOME\" gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec cargo test --locked -p lifeline-desk -- --ignored";
    let result = exec(
        &root(),
        "dbus-run-session",
        &[
            &format!(
                "--config-file={}",
                root().join("tests/e2e/session.conf").display()
            ),
            "--",
            "sh",
            "-c",
            script,
        ],
        &[("KEYRING_HOME", home_str.as_str())],
    );
    let _ = std::fs::remove_dir_all(&home);
    result
}

/// Fails when any host-free crate has Tauri anywhere in its dependency tree.
fn host_free_check() -> Result {
    step("the core stays host-free (no tauri in its dependency tree)");
    for krate in HOST_FREE {
        if !root().join("crates").join(krate).exists() {
            continue;
        }
        let tree = output(
            &root(),
            "cargo",
            &[
                "tree",
                "--locked",
                "-p",
                krate,
                "-e",
                "normal,build",
                "--prefix",
                "none",
            ],
        )?;
        let offenders: Vec<&str> = tree.lines().filter(|l| l.starts_with("tauri")).collect();
        if !offenders.is_empty() {
            return fail(format!(
                "{krate} depends on Tauri: {}",
                offenders.join(", ")
            ));
        }
        println!("{krate}: no tauri");
    }
    Ok(())
}

fn ui_checks() -> Result {
    let ui = root().join("ui");
    if !ui.join("package.json").exists() {
        return Ok(());
    }
    step("UI: types, unit tests, build");
    if !ui.join("node_modules").exists() {
        exec(&ui, "npm", &["ci", "--no-audit", "--no-fund"], &[])?;
    }
    exec(&ui, "npm", &["run", "check"], &[])?;
    exec(&ui, "npm", &["test"], &[])?;
    exec(&ui, "npm", &["run", "build"], &[])
}

/// Regenerates the UI's TypeScript types from the desk's Rust DTOs.
pub fn update_bindings() -> Result {
    step("regenerating ui/src/ipc/bindings.ts");
    exec(
        &root(),
        "cargo",
        &["test", "-p", "lifeline-desk", "--", "bindings_are_fresh"],
        &[("UPDATE_BINDINGS", "1")],
    )
}
