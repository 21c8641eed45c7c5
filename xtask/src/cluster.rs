//! `cargo xtask cluster [N]`: the hub as a ministry runs it, on one machine, to try — a
//! PostgreSQL server of its own (`initdb` in `.lifeline/cluster/`, no system service), N hub
//! replicas (2 by default) on one database over TLS, a drill replayed through the first, and
//! the desk given every replica's address. Kill a replica (`kill -9`, its pid is printed)
//! and the desk goes on with another.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::run::{build_binaries, demo_officer, desk_command, hub_address, make_local_ca, tls_hub};
use crate::util::{Failed, Result, fail, root, step};

/// The hub's throwaway PostgreSQL server in `dir` (`lifeline-hub dev-postgres`); stopped
/// when dropped.
struct Postgres<'a> {
    hub_bin: &'a Path,
    dir: PathBuf,
    url: String,
}

impl<'a> Postgres<'a> {
    fn start(hub_bin: &'a Path, dir: &Path) -> Result<Postgres<'a>> {
        // Stopped (and its folder removed) when this task ends, however it ends: closing the
        // desk, or Ctrl-C.
        let out = Command::new(hub_bin)
            .args([
                "dev-postgres",
                "--until-gone",
                &std::process::id().to_string(),
                "--dir",
            ])
            .arg(dir)
            .output()
            .map_err(|e| Failed(format!("cannot run the hub: {e}")))?;
        let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !out.status.success() || !url.starts_with("postgres://") {
            return fail(format!(
                "no PostgreSQL server: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(Postgres {
            hub_bin,
            dir: dir.to_path_buf(),
            url,
        })
    }
}

impl Drop for Postgres<'_> {
    fn drop(&mut self) {
        let _ = Command::new(self.hub_bin)
            .args(["dev-postgres", "--stop", "--dir"])
            .arg(&self.dir)
            .status();
    }
}

/// Stops the replicas when dropped.
struct Replicas(Vec<Child>);

impl Drop for Replicas {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn cluster(args: &[String]) -> Result {
    let n: usize = match args.first() {
        Some(n) => n
            .parse()
            .ok()
            .filter(|n| (1..=8).contains(n))
            .ok_or_else(|| Failed(format!("`{n}` replicas: give 1 to 8")))?,
        None => 2,
    };
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return fail(
            "no display: run this on a desktop session (or under `xvfb-run -a cargo xtask cluster`)",
        );
    }
    let (desk, hub_bin) = build_binaries()?;
    let state = root().join(".lifeline");
    let dir = state.join("cluster");
    step("starting PostgreSQL (a server of its own in .lifeline/cluster)");
    let pg = Postgres::start(&hub_bin, &dir.join("pg"))?;
    let db = pg.url.clone();
    let tls = dir.join("tls");
    make_local_ca(&hub_bin, &tls)?;
    let password = demo_officer(&hub_bin, &db, "earthquake")?;
    step(&format!("starting {n} hub replicas on {db}"));
    let mut replicas = Replicas(Vec::new());
    let mut addresses = Vec::new();
    for i in 0..n {
        let mut hub = tls_hub(&hub_bin, &db, &tls);
        if i == 0 {
            hub.args(["--drill", "earthquake", "--rate", "30"]);
        }
        let mut child = hub
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| Failed(format!("cannot start a hub replica: {e}")))?;
        let url = hub_address(&mut child)?;
        println!("replica {} at {url} (pid {})", i + 1, child.id());
        addresses.push(url);
        replicas.0.push(child);
    }
    step("opening the desk on every replica's address");
    let status = desk_command(
        &desk,
        &[
            "--data-dir".into(),
            dir.join("desk").display().to_string(),
            "--hub".into(),
            addresses.join(", "),
            "--hub-ca".into(),
            tls.join("ca.pem").display().to_string(),
            "--sign-in".into(),
            "demo".into(),
        ],
        &state,
    )
    .env("LIFELINE_HUB_PASSWORD", &password)
    .status();
    drop(replicas);
    drop(pg);
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => fail(format!("the desk exited with {s}")),
        Err(e) => fail(format!("cannot start the desk: {e}")),
    }
}
