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

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

pub fn build_binaries() -> Result<(PathBuf, PathBuf)> {
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

/// Reads the hub's "listening on https://…" line.
pub fn hub_address(child: &mut Child) -> Result<String> {
    use std::io::{BufRead, BufReader};
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| Failed("the hub has no stdout".into()))?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| Failed(format!("reading the hub's address: {e}")))?;
    line.split("listening on ")
        .nth(1)
        .map(|a| a.trim().to_owned())
        .filter(|a| a.starts_with("https://"))
        .ok_or_else(|| Failed(format!("the hub did not start: {line}")))
}

/// A password for this run's demo officer: never shown, never an argument (it reaches the
/// hub's administration on stdin and the desk through its environment).
fn random_password() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "demo-{:x}{:x}-{:x}",
        nanos,
        std::process::id(),
        nanos.rotate_left(17)
    )
}

/// A local certificate authority and the hub's certificate for 127.0.0.1 in `dir`, made by
/// the hub itself (`lifeline-hub dev-ca`): local runs and tests speak TLS like a real post.
pub fn make_local_ca(hub_bin: &Path, dir: &Path) -> Result {
    exec(
        &root(),
        &path_str(hub_bin),
        &["dev-ca", "--out", &path_str(dir)],
        &[],
    )
}

/// Whether a Secret Service (the OS keyring) answers on the session bus.
fn keyring_on_bus() -> bool {
    Command::new("gdbus")
        .args([
            "call",
            "--session",
            "--dest",
            "org.freedesktop.DBus",
            "--object-path",
            "/org/freedesktop/DBus",
            "--method",
            "org.freedesktop.DBus.NameHasOwner",
            "org.freedesktop.secrets",
        ])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("true"))
}

/// The desk, as `./x run` starts it. It keeps its database key in the OS keyring; a desktop
/// session has one. Where none answers (a headless machine under xvfb-run), the desk runs in
/// a session bus of its own with a local gnome-keyring for this checkout (`.lifeline/keyring`).
pub fn desk_command(desk: &Path, args: &[String], state: &Path) -> Command {
    if keyring_on_bus() {
        let mut c = Command::new(desk);
        c.args(args);
        return c;
    }
    println!(
        "no keyring on the session bus: the desk runs with a local one in {}",
        state.join("keyring").display()
    );
    let home = state.join("keyring");
    let _ = std::fs::create_dir_all(&home);
    let mut c = Command::new("dbus-run-session");
    c.args([
        "--",
        "sh",
        "-c",
        "printf %s 'lifeline local keyring' | HOME=\"$KEYRING_HOME\" XDG_DATA_HOME=\"$KEYRING_HOME\" gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec \"$@\"",
        "sh",
    ])
    .arg(desk)
    .args(args)
    .env("KEYRING_HOME", &home);
    c
}

/// Runs a hub administration command on `db` (a file, or a PostgreSQL URL), with `stdin`
/// given.
fn hub_admin(hub_bin: &Path, db: &str, args: &[&str], stdin: &str) -> Result {
    use std::io::Write;
    let mut child = Command::new(hub_bin)
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| Failed(format!("cannot run the hub: {e}")))?;
    if let Some(mut input) = child.stdin.take() {
        let _ = writeln!(input, "{stdin}");
    }
    match child.wait() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => fail(format!("lifeline-hub {} failed ({s})", args.join(" "))),
        Err(e) => fail(format!("lifeline-hub {}: {e}", args.join(" "))),
    }
}

/// Sets up the drill's posts and the demo duty officer `demo` on `db`; returns the new
/// password (never shown, never an argument).
pub fn demo_officer(hub_bin: &Path, db: &str, drill: &str) -> Result<String> {
    let password = random_password();
    hub_admin(
        hub_bin,
        db,
        &[
            "drill-accounts",
            "--scenario",
            drill,
            "--officer",
            "demo",
            "--name",
            "Demo duty officer",
            "--password-stdin",
        ],
        &password,
    )?;
    Ok(password)
}

/// An exercise hub on `db` over TLS with the local CA's certificate in `tls`, on a free port.
pub fn tls_hub(hub_bin: &Path, db: &str, tls: &Path) -> Command {
    let mut hub = Command::new(hub_bin);
    hub.args(["--db", db, "--listen", "127.0.0.1:0"])
        .args([
            "--tls-cert",
            &tls.join("hub-cert.pem").display().to_string(),
        ])
        .args(["--tls-key", &tls.join("hub-key.pem").display().to_string()])
        .arg("--exercise");
    hub
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
    // `--drill NAME` is ours; everything else goes to the desk as given.
    let mut drill = "earthquake".to_owned();
    let mut passed: Vec<String> = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--drill" {
            drill = rest
                .next()
                .cloned()
                .ok_or_else(|| Failed("--drill needs a scenario name".into()))?;
        } else {
            passed.push(arg.clone());
        }
    }
    let mut hub_child = None;
    let mut desk_env: Vec<(&str, String)> = Vec::new();
    if !passed.iter().any(|a| a == "--hub") {
        step(&format!(
            "starting a local hub over TLS replaying the `{drill}` drill (exercise mode)"
        ));
        let tls = state.join("tls");
        make_local_ca(&hub_bin, &tls)?;
        let db = state.join("hub.sqlite").display().to_string();
        // A demo duty officer of the drill's posts, with a new password each run.
        let password = demo_officer(&hub_bin, &db, &drill)?;
        let mut child = tls_hub(&hub_bin, &db, &tls)
            .args(["--drill", &drill, "--rate", "30"])
            // The test pack of central Helsinki: the desk downloads it from the hub on its
            // own, as a post's desks get their city's pack (settings → offline maps).
            .args(["--maps", &root().join("tests/maps").display().to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| Failed(format!("cannot start the hub: {e}")))?;
        let url = hub_address(&mut child)?;
        println!("hub at {url}, signed in as the demo duty officer `demo`");
        desk_args.extend([
            "--hub".into(),
            url,
            "--hub-ca".into(),
            tls.join("ca.pem").display().to_string(),
            "--sign-in".into(),
            "demo".into(),
        ]);
        desk_env.push(("LIFELINE_HUB_PASSWORD", password));
        hub_child = Some(child);
    }
    desk_args.extend(passed);
    step("opening the desk");
    let status = desk_command(&desk, &desk_args, &state)
        .envs(desk_env.iter().map(|(k, v)| (*k, v.as_str())))
        .status();
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
    if args.first().map(String::as_str) == Some("app") {
        return bench_app(&args[1..]);
    }
    step("benchmarks (release build)");
    if args.first().map(String::as_str) == Some("hub") {
        // The replicas run as processes of the hub's own binary, beside the benchmark's.
        exec(
            &root(),
            "cargo",
            &["build", "--release", "--locked", "-p", "lifeline-hub"],
            &[],
        )?;
    }
    let mut cmd = vec!["run", "--release", "--locked", "-p", "lifeline-bench", "--"];
    let rest: Vec<&str> = args.iter().map(String::as_str).collect();
    if rest.is_empty() {
        cmd.push("all");
    } else {
        cmd.extend(rest);
    }
    exec(&root(), "cargo", &cmd, &[])
}

/// The value after `--name` in `args`, or `default`.
fn option(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.into())
}

/// The desk's performance run: the release binary under Xvfb in a private D-Bus session
/// (`tests/e2e/perf.mjs`): first map frame and pan frames against an empty store of a store
/// of `--requests N` (default 10^6), street zoom with and without a region pack, a drill
/// with SOS notifications and memory after `--minutes N` (default 10) of it; `--phases`
/// (`startup,street,drill` by default) runs some parts only.
fn bench_app(args: &[String]) -> Result {
    let minutes = option(args, "--minutes", "10");
    let requests = option(args, "--requests", "1000000");
    let phases = option(args, "--phases", "startup,street,drill");
    step("building the desk, the hub and the benchmarks (release)");
    build_ui()?;
    exec(
        &root(),
        "cargo",
        &[
            "build",
            "--release",
            "--locked",
            "-p",
            "lifeline-desk",
            "-p",
            "lifeline-hub",
            "-p",
            "lifeline-bench",
        ],
        &[],
    )?;
    let bin = target_dir().join("release");
    let out = target_dir().join("perf");
    fresh_output_dir(&out)?;
    let tls = out.join("tls");
    make_local_ca(&bin.join("lifeline-hub"), &tls)?;
    // Written afresh each run (about 10 s for 10^5 requests, 2 minutes for 10^6), so the
    // store always has this build's schema.
    let store = out.join(format!("store-{requests}.sqlite"));
    for stale in [
        format!("store-{requests}"),
        format!("store-{requests}.index"),
    ] {
        for suffix in [".sqlite", ".sqlite-wal", ".sqlite-shm"] {
            let _ = std::fs::remove_file(out.join(format!("{stale}{suffix}")));
        }
    }
    step(&format!("writing a desk store of {requests} requests"));
    exec(
        &root(),
        &path_str(&bin.join("lifeline-bench")),
        &[
            "make-store",
            "--requests",
            &requests,
            "--out",
            &path_str(&store),
        ],
        &[],
    )?;
    step(&format!(
        "the desk under a virtual display (takes about {} minutes)",
        minutes.parse::<u64>().unwrap_or(10) + 20
    ));
    in_virtual_session(
        "tests/e2e/perf.mjs",
        &[
            ("DESK_BIN", &path_str(&bin.join("lifeline-desk"))),
            ("HUB_BIN", &path_str(&bin.join("lifeline-hub"))),
            ("PERF_STORE", &path_str(&store)),
            ("PERF_REQUESTS", &requests),
            ("PERF_PHASES", &phases),
            (
                "PERF_PACK",
                &path_str(&root().join("tests/maps/helsinki.pmtiles")),
            ),
            ("PERF_MINUTES", &minutes),
            ("E2E_OUT", &path_str(&out)),
            ("E2E_TMP", &path_str(&out)),
            ("E2E_CA_DIR", &path_str(&tls)),
            ("NODE_EXTRA_CA_CERTS", &path_str(&tls.join("ca.pem"))),
        ],
    )
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
    fresh_output_dir(&out)?;
    let tls = out.join("tls");
    make_local_ca(&hub, &tls)?;
    let started = Instant::now();
    in_virtual_session(
        "tests/e2e/run.mjs",
        &[
            ("DESK_BIN", &path_str(&desk)),
            ("HUB_BIN", &path_str(&hub)),
            ("E2E_OUT", &path_str(&out)),
            ("E2E_TMP", &path_str(&out)),
            ("E2E_CA_DIR", &path_str(&tls)),
            ("NODE_EXTRA_CA_CERTS", &path_str(&tls.join("ca.pem"))),
        ],
    )?;
    println!(
        "end-to-end suite took {:.0} s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

/// Creates `dir`, removing the desks' and hubs' folders an earlier run left there (each holds
/// a copy of a store); screenshots stay.
fn fresh_output_dir(dir: &Path) -> Result {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failed(format!("cannot create {}: {e}", dir.display())))?;
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failed(format!("cannot read {}: {e}", dir.display())))?;
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with("lifeline-") {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    Ok(())
}

/// Runs a Node script of `tests/e2e/` under a virtual display (1440×900), in a private
/// D-Bus session without service activation (`tests/e2e/session.conf`).
pub fn in_virtual_session(script: &str, env: &[(&str, &str)]) -> Result {
    exec(
        &root(),
        "xvfb-run",
        &[
            "-a",
            "-s",
            "-screen 0 1440x900x24",
            "dbus-run-session",
            &format!(
                "--config-file={}",
                root().join("tests/e2e/session.conf").display()
            ),
            "--",
            "node",
            &path_str(&root().join(script)),
        ],
        env,
    )
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}
