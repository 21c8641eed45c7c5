//! `cargo xtask run`, `cargo xtask bench` and the end-to-end suite.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use crate::util::{Failed, Result, exec, fail, have, root, step};

/// The UI must be built before the desk compiles: the shell embeds `ui/dist`.
pub fn build_ui() -> Result {
    let ui = root().join("ui");
    if !ui.join("node_modules").exists() {
        exec(&ui, "npm", &["ci", "--no-audit", "--no-fund"], &[])?;
    }
    exec(&ui, "npm", &["run", "build"], &[])
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

fn build_binaries() -> Result<(PathBuf, PathBuf)> {
    step("building the desk and the hub");
    build_ui()?;
    exec(
        &root(),
        "cargo",
        &[
            "build",
            "--locked",
            "-p",
            "lifeline-desk",
            "-p",
            "lifeline-hub",
        ],
        &[],
    )?;
    let bin = target_dir().join("debug");
    Ok((bin.join("lifeline-desk"), bin.join("lifeline-hub")))
}

/// Reads the hub's "listening on http://…" line.
fn hub_address(child: &mut Child) -> Result<String> {
    use std::io::{BufRead, BufReader};
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| Failed("the hub has no stdout".into()))?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| Failed(format!("reading the hub's address: {e}")))?;
    line.split("http://")
        .nth(1)
        .map(|a| format!("http://{}", a.trim()))
        .ok_or_else(|| Failed(format!("the hub did not start: {line}")))
}

fn random_token() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("local-{:x}{:x}", nanos, std::process::id())
}

/// Starts the desk on a local hub replaying a drill (unless `--hub URL` is given).
pub fn run(args: &[String]) -> Result {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return fail(
            "no display: run this on a desktop session (or under `xvfb-run -a cargo xtask run`)",
        );
    }
    let (desk, hub_bin) = build_binaries()?;
    let state = root().join(".lifeline");
    std::fs::create_dir_all(&state)
        .map_err(|e| Failed(format!("cannot create {}: {e}", state.display())))?;
    let mut desk_args: Vec<String> = vec![
        "--data-dir".into(),
        state.join("desk").display().to_string(),
    ];
    let given_hub = args
        .iter()
        .position(|a| a == "--hub")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let drill = args
        .iter()
        .position(|a| a == "--drill")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "earthquake".into());
    let mut hub_child = None;
    match given_hub {
        Some(url) => desk_args.extend(["--hub".into(), url]),
        None => {
            step(&format!(
                "starting a local hub replaying the `{drill}` drill"
            ));
            let token = random_token();
            let mut child = Command::new(&hub_bin)
                .args([
                    "--db",
                    &state.join("hub.sqlite").display().to_string(),
                    "--listen",
                    "127.0.0.1:0",
                    "--token",
                    &token,
                ])
                .args(["--drill", &drill, "--rate", "30"])
                .stdout(Stdio::piped())
                .spawn()
                .map_err(|e| Failed(format!("cannot start the hub: {e}")))?;
            let url = hub_address(&mut child)?;
            println!("hub at {url}");
            desk_args.extend(["--hub".into(), url, "--token".into(), token]);
            hub_child = Some(child);
        }
    }
    desk_args.extend(args.iter().filter(|a| *a != "--drill").cloned());
    step("opening the desk");
    let status = Command::new(&desk).args(&desk_args).status();
    if let Some(mut c) = hub_child {
        let _ = c.kill();
        let _ = c.wait();
    }
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => fail(format!("the desk exited with {s}")),
        Err(e) => fail(format!("cannot start the desk: {e}")),
    }
}

pub fn bench(args: &[String]) -> Result {
    step("benchmarks (release build)");
    let mut cmd = vec!["run", "--release", "--locked", "-p", "lifeline-bench", "--"];
    let rest: Vec<&str> = args.iter().map(String::as_str).collect();
    if rest.is_empty() {
        cmd.push("all");
    } else {
        cmd.extend(rest);
    }
    exec(&root(), "cargo", &cmd, &[])
}

/// The end-to-end suite: the real desk binary under Xvfb, in a private D-Bus session,
/// driven through tauri-driver and WebKitWebDriver.
pub fn e2e() -> Result {
    let (desk, hub) = build_binaries()?;
    for tool in [
        "xvfb-run",
        "dbus-run-session",
        "tauri-driver",
        "WebKitWebDriver",
        "node",
    ] {
        if !have(tool) {
            return fail(format!("`{tool}` is missing: run `cargo xtask setup`"));
        }
    }
    step("end-to-end tests (real app, virtual display, WebDriver)");
    let out = target_dir().join("e2e");
    std::fs::create_dir_all(&out)
        .map_err(|e| Failed(format!("cannot create {}: {e}", out.display())))?;
    let started = Instant::now();
    let conf = root().join("tests/e2e/session.conf");
    let script = root().join("tests/e2e/run.mjs");
    exec(
        &root(),
        "xvfb-run",
        &[
            "-a",
            "-s",
            "-screen 0 1440x900x24",
            "dbus-run-session",
            &format!("--config-file={}", conf.display()),
            "--",
            "node",
            &script.display().to_string(),
        ],
        &[
            ("DESK_BIN", &path_str(&desk)),
            ("HUB_BIN", &path_str(&hub)),
            ("E2E_OUT", &path_str(&out)),
            ("E2E_TMP", &path_str(&out)),
        ],
    )?;
    println!(
        "end-to-end suite took {:.0} s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}
