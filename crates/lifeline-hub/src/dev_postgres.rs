//! `lifeline-hub dev-postgres`: a throwaway PostgreSQL server for trying replicas, tests and
//! benchmarks — `initdb` in a folder of its own, `pg_ctl` on a port of 127.0.0.1, no system
//! service, trust authentication on loopback. Never for a real hub: a ministry's database
//! is run by its operations team (docs/SECURITY.md, "A hub on PostgreSQL").
//!
//! The Debian/Ubuntu `postgresql` package's programs are used; the server refuses to run as
//! root, so as root they run as the package's `postgres` user.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A server in `dir` (its data in `dir/data`, its log in `dir/log`).
#[derive(Debug)]
pub struct DevPostgres {
    bin: PathBuf,
    pub dir: PathBuf,
    pub port: u16,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn checked(mut c: Command, what: &str) -> Result<String, String> {
    let out = c
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The newest installed server's programs (`/usr/lib/postgresql/N/bin`).
fn server_bin() -> Result<PathBuf, String> {
    std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "PostgreSQL is not installed (apt-get install postgresql)".to_owned())?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .max()
        .map(|(_, bin)| bin)
        .ok_or_else(|| "no PostgreSQL server under /usr/lib/postgresql".to_owned())
}

impl DevPostgres {
    /// The server whose folder is `dir`, as [`DevPostgres::start`] left it (to stop it).
    pub fn at(dir: &Path) -> Result<DevPostgres, String> {
        Ok(DevPostgres {
            bin: server_bin()?,
            dir: dir.to_path_buf(),
            port: 0,
        })
    }

    /// Makes a new server in `dir` (emptied first) and starts it on `port` (0: a free one).
    /// As root, the folders above `dir` must let the `postgres` user through.
    pub fn start(dir: &Path, port: u16) -> Result<DevPostgres, String> {
        let bin = server_bin()?;
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if is_root() {
            let mut own = Command::new("chown");
            own.args(["-R", "postgres:postgres"]).arg(dir);
            checked(own, "chown")?;
            let mut reach = Command::new("runuser");
            reach.args(["-u", "postgres", "--", "test", "-w"]).arg(dir);
            if checked(reach, "test").is_err() {
                return Err(format!(
                    "the postgres user cannot reach {} (a folder above it is closed to others): use a folder under /tmp",
                    dir.display()
                ));
            }
        }
        let port = match port {
            0 => std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| format!("a free port: {e}"))?
                .port(),
            p => p,
        };
        let server = DevPostgres {
            bin,
            dir: dir.to_path_buf(),
            port,
        };
        let mut init = server.program("initdb");
        init.arg("-D").arg(dir.join("data")).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ]);
        checked(init, "initdb")?;
        let mut start = server.program("pg_ctl");
        start
            .arg("-D")
            .arg(dir.join("data"))
            .arg("-o")
            .arg(format!(
                "-F -p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=500",
                dir.display()
            ))
            .arg("-l")
            .arg(dir.join("log"))
            .args(["-w", "start"]);
        checked(start, "pg_ctl start")?;
        Ok(server)
    }

    /// One of the server's own programs, as the user it runs as.
    fn program(&self, name: &str) -> Command {
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(name));
            c
        } else {
            Command::new(self.bin.join(name))
        }
    }

    /// One of the client programs (`psql`, `pg_dump`, `pg_restore`…), given this server.
    pub fn tool(&self, name: &str) -> Command {
        let mut c = Command::new(self.bin.join(name));
        c.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
        ]);
        c
    }

    /// `psql` on `database`: its unaligned output.
    pub fn psql(&self, database: &str, sql: &str) -> Result<String, String> {
        let mut c = self.tool("psql");
        c.args([
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            database,
            "-c",
            sql,
        ]);
        checked(c, "psql")
    }

    /// The URL of database `name` (letters, digits and `_`), made when it does not exist.
    pub fn database(&self, name: &str) -> Result<String, String> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("`{name}` is not a database name"));
        }
        let exists = self.psql(
            "postgres",
            &format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
        )?;
        if exists.is_empty() {
            self.psql("postgres", &format!("CREATE DATABASE {name}"))?;
        }
        Ok(format!(
            "postgres://postgres@127.0.0.1:{}/{name}",
            self.port
        ))
    }

    /// Stops the server (fast: open connections are cut).
    pub fn stop(&self) -> Result<(), String> {
        let mut stop = self.program("pg_ctl");
        stop.arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "stop"]);
        checked(stop, "pg_ctl stop").map(|_| ())
    }

    /// Stops the server and removes its folder once the process `pid` is gone, however it
    /// ends (a test process that panics, a benchmark killed midway).
    pub fn stop_when_gone(&self, pid: u32) -> Result<(), String> {
        let pg_ctl = self.bin.join("pg_ctl");
        let as_user = if is_root() {
            "runuser -u postgres -- "
        } else {
            ""
        };
        let watcher = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             {as_user}'{}' -D '{}' -m immediate stop >/dev/null 2>&1; rm -rf '{}'",
            pg_ctl.display(),
            self.dir.join("data").display(),
            self.dir.display(),
        );
        // `setsid -f`: the watcher runs on in a session of its own, past that process (and
        // holds none of its pipes).
        let started = Command::new("setsid")
            .args(["-f", "sh", "-c", &watcher])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("the server's watcher: {e}"))?;
        if started.success() {
            Ok(())
        } else {
            Err(format!("the server's watcher did not start ({started})"))
        }
    }
}
