//! A real PostgreSQL server for the tests: a throwaway cluster (`lifeline-hub`'s
//! `dev_postgres`: `initdb` in a temporary folder, no system service) started once per test
//! process on a free port, with a watcher that stops it and removes its folder when the
//! process ends however it ends.
//!
//! `LIFELINE_TEST_HUB_BACKEND=postgres` runs every test hub on it: each hub's database path
//! (a file name in the test's temporary folder) names a database of its own, made on first
//! use, so tests that restart a hub on "the same file" restart it on the same database.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use lifeline_hub::dev_postgres::DevPostgres;

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

/// The test process's server, started on first use in a temporary folder, stopped and
/// removed when the process ends.
pub fn server() -> &'static TestPostgres {
    static SERVER: OnceLock<TestPostgres> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("lifeline-pg-")
            .tempdir()
            .expect("tempdir")
            .keep();
        let pg = DevPostgres::start(&dir, 0).expect("a PostgreSQL server for the tests");
        pg.stop_when_gone(std::process::id())
            .expect("the server's watcher");
        TestPostgres {
            pg,
            made: Mutex::new(HashSet::new()),
        }
    })
}

pub struct TestPostgres {
    pg: DevPostgres,
    made: Mutex<HashSet<String>>,
}

impl TestPostgres {
    /// `psql` on `database`, returning its unaligned output.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        self.pg
            .psql(database, sql)
            .unwrap_or_else(|e| panic!("psql {sql:?}: {e}"))
    }

    /// One of the server's client programs (`pg_dump`, `pg_restore`…), given this server.
    pub fn tool(&self, name: &str) -> std::process::Command {
        self.pg.tool(name)
    }

    /// The URL of database `name`, made when it does not exist yet.
    pub fn database(&self, name: &str) -> String {
        let mut made = self.made.lock().expect("databases");
        if made.contains(name) {
            return format!("postgres://postgres@127.0.0.1:{}/{name}", self.pg.port);
        }
        let url = self
            .pg
            .database(name)
            .unwrap_or_else(|e| panic!("database {name}: {e}"));
        made.insert(name.to_owned());
        url
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
/// direct access to the store would.
pub fn hub_sql(db: &Path, sqlite: &str, postgres: &str) {
    match backend() {
        Backend::Sqlite => rusqlite::Connection::open(db)
            .expect("open the hub file")
            .execute_batch(sqlite)
            .expect("run the statement"),
        Backend::Postgres => {
            server().psql(&database_name(db), postgres);
        }
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
