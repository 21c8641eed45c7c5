//! The real hub, as a child process that can be killed without warning and started again on
//! the same port and database.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::binary;

pub const TOKEN: &str = "test-token";

pub struct HubProcess {
    child: Option<Child>,
    pub db: PathBuf,
    pub addr: String,
    extra: Vec<String>,
}

impl HubProcess {
    /// Starts a hub on a free port (or `listen`), waiting until it accepts connections.
    pub fn start(db: &Path, listen: &str, extra: &[&str]) -> HubProcess {
        let mut hub = HubProcess {
            child: None,
            db: db.to_path_buf(),
            addr: String::new(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        hub.spawn(listen);
        hub
    }

    fn spawn(&mut self, listen: &str) {
        let mut child = Command::new(binary("lifeline-hub", "lifeline-hub"))
            .arg("--db")
            .arg(&self.db)
            .args(["--listen", listen, "--token", TOKEN])
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
            .rsplit("http://")
            .next()
            .unwrap_or_default()
            .to_owned();
        assert!(!addr.is_empty(), "hub did not report an address: {line:?}");
        self.addr = addr;
        self.child = Some(child);
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
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
                    addr: String::new(),
                    extra: self.extra.clone(),
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
