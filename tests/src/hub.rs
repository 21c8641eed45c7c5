//! The real hub, as a child process that can be killed without warning and started again on
//! the same port and database; over plain HTTP on loopback, or over HTTPS with a local CA
//! made at test start (`lifeline-hub dev-ca`). Its store is a SQLite file, or a PostgreSQL
//! database standing for that file when the tests run on PostgreSQL (`crate::postgres`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::binary;

/// The development token the plain test hubs accept (every post, any actor).
pub const TOKEN: &str = "test-token";

pub struct HubProcess {
    child: Option<Child>,
    pub db: PathBuf,
    /// What `--db` is given: the file, or the database standing for it.
    db_arg: std::ffi::OsString,
    pub addr: String,
    extra: Vec<String>,
    /// The local CA's certificate, when the hub serves HTTPS.
    pub ca: Option<PathBuf>,
    /// The hub accepts [`TOKEN`], given through its environment (a token is never a
    /// process argument: any user on the machine can read those).
    dev_token: bool,
}

/// The hub binary, for administration (`lifeline-hub --db DB officers add …`).
pub fn hub_command() -> Command {
    Command::new(binary("lifeline-hub", "lifeline-hub"))
}

/// Runs an administration command on `db`, with `stdin` (a password) when given; returns
/// its standard output and panics with its error when it fails.
pub fn admin(db: &Path, args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    let mut child = hub_command()
        .arg("--db")
        .arg(crate::postgres::hub_db_arg(db))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run lifeline-hub");
    if let Some(text) = stdin
        && let Some(mut input) = child.stdin.take()
    {
        let _ = writeln!(input, "{text}");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("lifeline-hub output");
    assert!(
        out.status.success(),
        "lifeline-hub {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The secret a `channels add`/`services add` printed.
pub fn secret_in(output: &str) -> String {
    output
        .split_whitespace()
        .find(|w| w.starts_with("llh_"))
        .unwrap_or_else(|| panic!("no secret in {output:?}"))
        .to_owned()
}

impl HubProcess {
    /// Starts a hub on a free port (or `listen`), waiting until it accepts connections.
    pub fn start(db: &Path, listen: &str, extra: &[&str]) -> HubProcess {
        HubProcess::start_on(db, crate::postgres::hub_db_arg(db), listen, extra)
    }

    /// Starts a hub on the store `db_arg` (a PostgreSQL URL several replicas share);
    /// `db` is its folder's stand-in for messages.
    pub fn start_on(
        db: &Path,
        db_arg: std::ffi::OsString,
        listen: &str,
        extra: &[&str],
    ) -> HubProcess {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let mut hub = HubProcess {
            child: None,
            db: db.to_path_buf(),
            db_arg,
            addr: String::new(),
            extra,
            ca: None,
            dev_token: true,
        };
        hub.spawn(listen);
        hub
    }

    /// Starts a hub serving HTTPS with a certificate from a local CA made now (in the
    /// database's folder), and no development token: callers sign in or use credentials.
    pub fn start_tls(db: &Path, extra: &[&str]) -> HubProcess {
        let dir = db.parent().unwrap_or(Path::new(".")).join("tls");
        let out = hub_command()
            .args(["dev-ca", "--out"])
            .arg(&dir)
            .output()
            .expect("lifeline-hub dev-ca");
        assert!(
            out.status.success(),
            "dev-ca: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        extra.extend([
            "--tls-cert".into(),
            dir.join("hub-cert.pem").display().to_string(),
            "--tls-key".into(),
            dir.join("hub-key.pem").display().to_string(),
        ]);
        let mut hub = HubProcess {
            child: None,
            db: db.to_path_buf(),
            db_arg: crate::postgres::hub_db_arg(db),
            addr: String::new(),
            extra,
            ca: Some(dir.join("ca.pem")),
            dev_token: false,
        };
        hub.spawn("127.0.0.1:0");
        hub
    }

    fn spawn(&mut self, listen: &str) {
        let mut command = Command::new(binary("lifeline-hub", "lifeline-hub"));
        if self.dev_token {
            command.env("LIFELINE_HUB_DEV_TOKEN", TOKEN);
        } else {
            command.env_remove("LIFELINE_HUB_DEV_TOKEN");
        }
        let mut child = command
            .arg("--db")
            .arg(&self.db_arg)
            .args(["--listen", listen])
            .args(&self.extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start lifeline-hub");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("hub prints its address");
        let addr = line
            .trim()
            .rsplit("://")
            .next()
            .unwrap_or_default()
            .to_owned();
        assert!(!addr.is_empty(), "hub did not report an address: {line:?}");
        self.addr = addr;
        self.child = Some(child);
    }

    pub fn url(&self) -> String {
        let scheme = if self.ca.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The CA certificate's PEM, for a client to trust.
    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.ca.as_ref().expect("a TLS hub")).expect("read the CA")
    }

    /// `kill -9`: no shutdown, no flush.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts again on the same address and database (retrying while the port is released).
    pub fn restart(&mut self) {
        self.kill();
        let addr = self.addr.clone();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut again = HubProcess {
                    child: None,
                    db: self.db.clone(),
                    db_arg: self.db_arg.clone(),
                    addr: String::new(),
                    extra: self.extra.clone(),
                    ca: self.ca.clone(),
                    dev_token: self.dev_token,
                };
                again.spawn(&addr);
                again
            }));
            match result {
                Ok(mut again) => {
                    self.child = again.child.take();
                    self.addr = again.addr.clone();
                    return;
                }
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(200))
                }
                Err(e) => std::panic::resume_unwind(e),
            }
        }
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
