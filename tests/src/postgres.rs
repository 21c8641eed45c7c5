//! A real PostgreSQL server for the tests: a throwaway cluster (`initdb` in a temporary
//! folder, no system service) started once per test process on a free port, with a watcher
//! that stops it and removes its folder when the process ends however it ends.
//!
//! `LIFELINE_TEST_HUB_BACKEND=postgres` runs every test hub on it: each hub's database path
//! (a file name in the test's temporary folder) names a database of its own, made on first
//! use, so tests that restart a hub on "the same file" restart it on the same database.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// Which store the test hubs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backend the environment asks for (`LIFELINE_TEST_HUB_BACKEND`, SQLite by default).
pub fn backend() -> Backend {
    match std::env::var("LIFELINE_TEST_HUB_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

pub struct TestPostgres {
    pub port: u16,
    bin: PathBuf,
    made: Mutex<HashSet<String>>,
}

/// The test process's server, started on first use.
pub fn server() -> &'static TestPostgres {
    static SERVER: OnceLock<TestPostgres> = OnceLock::new();
    SERVER.get_or_init(TestPostgres::start)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The server refuses to run as root: as root, its programs run as the `postgres` user the
/// Debian package made.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// The newest installed server's programs (`/usr/lib/postgresql/N/bin`).
fn server_bin() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (./x test installs postgresql)")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("a PostgreSQL server under /usr/lib/postgresql")
        .1
}

fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl TestPostgres {
    fn start() -> TestPostgres {
        let bin = server_bin();
        let dir = tempfile::Builder::new()
            .prefix("lifeline-pg-")
            .tempdir()
            .expect("tempdir")
            .keep();
        if is_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args(["-R", "postgres:postgres"]).arg(&dir);
                    c
                },
                "chown the cluster's folder",
            );
        }
        let data = dir.join("data");
        let mut initdb = as_server_user(&bin.join("initdb"));
        initdb.arg("-D").arg(&data).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ]);
        run(initdb, "initdb");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut start = as_server_user(&bin.join("pg_ctl"));
        start.arg("-D").arg(&data).arg("-o").arg(format!(
            "-F -p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=400",
            dir.display()
        ));
        start
            .arg("-l")
            .arg(dir.join("log"))
            .args(["-w", "start"])
            .stdout(Stdio::null());
        run(start, "pg_ctl start");
        // Stops the server and removes its folder once this process is gone.
        let watcher = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             {stop} -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            stop = if is_root() {
                format!("runuser -u postgres -- '{}'", bin.join("pg_ctl").display())
            } else {
                format!("'{}'", bin.join("pg_ctl").display())
            },
            data = data.display(),
            dir = dir.display(),
        );
        // `setsid -f`: the watcher runs on in a session of its own, past this process.
        let started = Command::new("setsid")
            .args(["-f", "sh", "-c", &watcher])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("start the server's watcher");
        assert!(started.success(), "the server's watcher did not start");
        TestPostgres {
            port,
            bin,
            made: Mutex::new(HashSet::new()),
        }
    }

    /// `psql` on `database`, returning its unaligned output.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1"])
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .args(["-d", database, "-c", sql])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql {sql:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// One of the server's client programs (`pg_dump`, `pg_restore`…), given this server.
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

    /// The URL of database `name`, made when it does not exist yet.
    pub fn database(&self, name: &str) -> String {
        let mut made = self.made.lock().expect("databases");
        if made.insert(name.to_owned()) {
            let exists = self.psql(
                "postgres",
                &format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
            );
            if exists.is_empty() {
                self.psql("postgres", &format!("CREATE DATABASE {name}"));
            }
        }
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

/// The database a test hub's "file" stands for under PostgreSQL: one per path.
pub fn database_name(db: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    db.hash(&mut h);
    format!("hub_{:016x}", h.finish())
}

/// What to give `lifeline-hub --db` for the test hub whose file would be `db`.
pub fn hub_db_arg(db: &Path) -> std::ffi::OsString {
    match backend() {
        Backend::Sqlite => db.as_os_str().to_owned(),
        Backend::Postgres => server().database(&database_name(db)).into(),
    }
}

/// Runs `sqlite` on the hub file `db`, or `postgres` on its database, as someone with
/// direct access to the store would; returns the first column of the first row as text.
pub fn hub_sql(db: &Path, sqlite: &str, postgres: &str) -> String {
    match backend() {
        Backend::Sqlite => {
            let conn = rusqlite::Connection::open(db).expect("open the hub file");
            conn.execute_batch(sqlite).expect("run the statement");
            String::new()
        }
        Backend::Postgres => server().psql(&database_name(db), postgres),
    }
}

/// A single number from the hub's store (`SELECT count(*) …`, the same text in both).
pub fn hub_count(db: &Path, sql: &str) -> i64 {
    match backend() {
        Backend::Sqlite => rusqlite::Connection::open(db)
            .expect("open the hub file")
            .query_row(sql, [], |r| r.get(0))
            .expect("count"),
        Backend::Postgres => server()
            .psql(&database_name(db), sql)
            .parse()
            .expect("a number"),
    }
}
