//! `cargo xtask run`, `cargo xtask bench` and the end-to-end suite.

use crate::util::{Result, exec, root, step};

pub fn run(_args: &[String]) -> Result {
    crate::util::fail("the desk arrives with src-tauri/")
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

pub fn e2e() -> Result {
    Ok(())
}
