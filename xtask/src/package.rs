//! `cargo xtask package`: the desk's Linux packages (`.deb`, `.rpm`), built by Tauri's
//! bundler (the npm `@tauri-apps/cli`, offline), and the check CI makes of the `.deb`:
//! install it, start the installed desk under a virtual display, read its first frame,
//! remove it again.

use std::path::{Path, PathBuf};

use crate::run::{build_ui, in_virtual_session, make_local_ca, path_str, target_dir};
use crate::util::{Failed, Result, exec, fail, root, step};

/// The name the package installs the desk under (`/usr/bin/…`), and the package's name.
const INSTALLED_BINARY: &str = "/usr/bin/lifeline-desk";
const PACKAGE_NAME: &str = "lifeline";

/// Builds the packages; `debug` packages the debug build the tests use (CI), otherwise
/// the release build an embassy installs. Returns the `.deb`.
pub fn package(args: &[String]) -> Result<PathBuf> {
    let debug = args.iter().any(|a| a == "--debug");
    step(if debug {
        "packaging the desk (.deb, .rpm; debug build)"
    } else {
        "packaging the desk (.deb, .rpm; release build)"
    });
    build_ui()?;
    let tauri = root().join("ui/node_modules/.bin/tauri");
    if !tauri.exists() {
        return fail("the Tauri bundler is missing: run `cargo xtask setup`");
    }
    let mut bundle_args = vec!["build", "--bundles", "deb,rpm", "--ci"];
    if debug {
        bundle_args.push("--debug");
    }
    // The bundler builds the desk as `cargo build` does (the same features: `tauri` always
    // has `custom-protocol` here), so a debug package reuses the tests' build.
    exec(
        &root().join("src-tauri"),
        &path_str(&tauri),
        &bundle_args,
        &[],
    )?;
    let bundles = target_dir()
        .join(if debug { "debug" } else { "release" })
        .join("bundle");
    let deb = newest(&bundles.join("deb"), "deb")?;
    let rpm = newest(&bundles.join("rpm"), "rpm")?;
    println!("packages:\n  {}\n  {}", deb.display(), rpm.display());
    Ok(deb)
}

fn newest(dir: &Path, ext: &str) -> Result<PathBuf> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failed(format!("no packages in {}: {e}", dir.display())))?;
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        .ok_or_else(|| Failed(format!("no .{ext} in {}", dir.display())))
}

/// Runs `program args` as root (through sudo when this is not root).
fn as_root(program: &str, args: &[&str]) -> Result {
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if is_root {
        exec(&root(), program, args, &[])
    } else {
        let mut with = vec![program];
        with.extend_from_slice(args);
        exec(&root(), "sudo", &with, &[])
    }
}

/// CI's check of the package: `dpkg -i`, the installed desk's first frame under a virtual
/// display (through WebDriver, like the end-to-end suite), `dpkg -r`.
pub fn check_installed() -> Result {
    let deb = package(&["--debug".to_owned()])?;
    let hub = &target_dir().join("debug/lifeline-hub");
    if !hub.exists() {
        exec(
            &root(),
            "cargo",
            &["build", "--locked", "-p", "lifeline-hub"],
            &[],
        )?;
    }
    step("installing the .deb and starting the installed desk");
    as_root("dpkg", &["-i", &path_str(&deb)])?;
    let out = target_dir().join("e2e").join("installed");
    std::fs::create_dir_all(&out)
        .map_err(|e| Failed(format!("cannot create {}: {e}", out.display())))?;
    let tls = out.join("tls");
    let checked = make_local_ca(hub, &tls).and_then(|()| {
        in_virtual_session(
            "tests/e2e/installed.mjs",
            &[
                ("DESK_BIN", INSTALLED_BINARY),
                ("HUB_BIN", &path_str(hub)),
                ("E2E_OUT", &path_str(&out)),
                ("E2E_TMP", &path_str(&out)),
                ("E2E_CA_DIR", &path_str(&tls)),
                ("NODE_EXTRA_CA_CERTS", &path_str(&tls.join("ca.pem"))),
            ],
        )
    });
    // Removed whatever the check said: the machine is left as it was.
    let removed = as_root("dpkg", &["-r", PACKAGE_NAME]);
    checked.and(removed)
}
