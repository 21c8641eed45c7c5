//! Installs what the build and the tests need and is missing: Debian/Ubuntu packages,
//! tauri-driver, and the UI's npm packages. Safe to run again: it only installs what is
//! not there.

use crate::util::{Result, exec, fail, have, output, root, step};

/// Packages the build and the end-to-end tests use (see docs/DEVELOPING.md for why each).
pub const SYSTEM_PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "libssl-dev",
    "libwebkit2gtk-4.1-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "libgl1-mesa-dri",
    "dunst",
    "dbus-daemon",
    "dbus-bin",
    "libglib2.0-bin",
    "imagemagick",
    "xdotool",
    "x11-utils",
    "fonts-noto-cjk",
    "gnome-keyring",
    "curl",
    "postgresql",
];

const TAURI_DRIVER_VERSION: &str = "2.1.0";

pub fn run() -> Result {
    system_packages()?;
    tauri_driver()?;
    node_packages()
}

fn installed(package: &str) -> bool {
    output(&root(), "dpkg-query", &["-W", "-f=${Status}", package])
        .is_ok_and(|s| s.contains("install ok installed"))
}

fn system_packages() -> Result {
    step("system packages");
    if !have("dpkg-query") {
        return fail(
            "this is not a Debian/Ubuntu system: install the packages listed in xtask/src/setup.rs by hand",
        );
    }
    let missing: Vec<&str> = SYSTEM_PACKAGES
        .iter()
        .copied()
        .filter(|p| !installed(p))
        .collect();
    if missing.is_empty() {
        println!("all {} present", SYSTEM_PACKAGES.len());
        return Ok(());
    }
    println!("missing: {}", missing.join(" "));
    let is_root = output(&root(), "id", &["-u"]).is_ok_and(|s| s.trim() == "0");
    let (program, mut prefix): (&str, Vec<&str>) = if is_root {
        ("apt-get", vec![])
    } else if have("sudo") {
        ("sudo", vec!["apt-get"])
    } else {
        return fail(format!(
            "missing packages and no sudo: run `apt-get install {}` as root",
            missing.join(" ")
        ));
    };
    let env = [("DEBIAN_FRONTEND", "noninteractive")];
    let mut update = prefix.clone();
    update.extend(["update", "-q"]);
    exec(&root(), program, &update, &env)?;
    prefix.extend(["install", "-y", "-q", "--no-install-recommends"]);
    prefix.extend(missing.iter().copied());
    exec(&root(), program, &prefix, &env)
}

fn tauri_driver() -> Result {
    step("tauri-driver");
    if have("tauri-driver") {
        println!("present");
        return Ok(());
    }
    exec(
        &root(),
        "cargo",
        &[
            "install",
            "tauri-driver",
            "--version",
            TAURI_DRIVER_VERSION,
            "--locked",
        ],
        &[],
    )
}

fn node_packages() -> Result {
    step("UI packages (npm ci)");
    if !have("node") || !have("npm") {
        return fail(
            "Node.js 20 or newer with npm is needed for the UI: install it (e.g. `apt-get install nodejs npm` on a recent release)",
        );
    }
    let version = output(&root(), "node", &["--version"])?;
    let major: u32 = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 20 {
        return fail(format!(
            "Node.js {} is too old; the UI build needs 20 or newer",
            version.trim()
        ));
    }
    let ui = root().join("ui");
    if ui.join("package-lock.json").exists() {
        exec(&ui, "npm", &["ci", "--no-audit", "--no-fund"], &[])?;
    }
    Ok(())
}
