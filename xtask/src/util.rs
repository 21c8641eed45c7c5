//! Running commands, loudly: every command is printed before it runs.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// A task failed; the message says which step and how.
#[derive(Debug)]
pub struct Failed(pub String);

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub type Result<T = ()> = std::result::Result<T, Failed>;

pub fn fail<T>(msg: impl Into<String>) -> Result<T> {
    Err(Failed(msg.into()))
}

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    // The run-time variable first: cargo keys its build cache on paths relative to the
    // workspace, so a binary built in another clone of the repository (sharing the target
    // folder, as CI does) still carries that clone's path in the compile-time one.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

pub fn step(title: &str) {
    println!("\n\x1b[1m==> {title}\x1b[0m");
}

/// Runs a command in `dir`, inheriting output; fails with the command line when it fails.
pub fn exec(dir: &Path, program: &str, args: &[&str], envs: &[(&str, &str)]) -> Result {
    let line = format!("{program} {}", args.join(" "));
    println!("$ {line}");
    let started = Instant::now();
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(envs.iter().copied())
        .status()
        .map_err(|e| Failed(format!("cannot start `{line}`: {e}")))?;
    println!("  ({:.0} s)", started.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        fail(format!("`{line}` failed ({status})"))
    }
}

/// Runs a command and returns its standard output.
pub fn output(dir: &Path, program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Failed(format!("cannot start `{program}`: {e}")))?;
    if !out.status.success() {
        return fail(format!(
            "`{program} {}` failed ({})",
            args.join(" "),
            out.status
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}
