//! The hub's store on PostgreSQL: the same contract as the SQLite file, for a ministry's hub
//! run as several replicas on one database.
//!
//! How the change feed stays gap-free with writers on several replicas: every transaction
//! that writes takes one transaction-scoped advisory lock first ([`WRITE_LOCK`]) and takes
//! its change numbers from `feed.head` under it. A change numbered N is committed (and
//! visible) before the lock passes on, so no transaction can take N + 1 while N is still in
//! flight, and a reader's snapshot always holds a prefix of the numbers. A plain sequence
//! does not give this: numbers are taken in one order and committed in another, and a reader
//! that passed 11 while 10 was in flight never sees 10 (see `tests/feed_order.rs`). Writes
//! are serialised, as they are on the SQLite file; reads, streams and sign-ins' password
//! checks run beside them on every replica. The audit trail's hash chain has a lock of its
//! own ([`AUDIT_LOCK`], always taken after the write lock when both are held), so the entry
//! that records a page read does not queue behind the writers.
//!
//! The client is async (`tokio-postgres`): connections are driven on a small runtime of the
//! store's own and their futures awaited with a plain executor, so the synchronous contract
//! can be called from handlers' blocking threads, the command line and tests alike.

mod accounts;
mod audit;
mod claims;
mod connect;
mod limits;
mod listen;
mod messages;
mod records;
mod requests;
mod tx;

use std::sync::{Condvar, Mutex};

use futures_executor::block_on;
use tokio_postgres::{Client, IsolationLevel};

use tx::{Prepared, Tx};

use super::{HubError, MAX_CASE_EVENTS};
pub use connect::{PASSWORD_ENV, PostgresTarget, is_postgres_url};
pub use listen::Wake;

/// The key of the advisory lock every writing transaction holds ("LLHW").
const WRITE_LOCK: i64 = 0x4c4c_4857;
/// The key of the advisory lock the audit trail's appends hold ("LLHA"): the chain must not
/// fork, but an audit entry alone (a page read, an export) takes no change number, so it
/// need not wait for the write lock. Taken after [`WRITE_LOCK`] when both are held.
const AUDIT_LOCK: i64 = 0x4c4c_4841;
/// The key of the session lock migrations run under ("LLHM").
const MIGRATION_LOCK: i64 = 0x4c4c_484d;
/// The channel replicas listen on for "the feed moved" (the payload is never trusted).
pub const CHANGES_CHANNEL: &str = "lifeline_changes";
/// The channel for "an advisory was published" and "the claims changed".
pub const ADVISORIES_CHANNEL: &str = "lifeline_advisories";
pub const CLAIMS_CHANNEL: &str = "lifeline_claims";

const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/postgres/0001_hub.sql"),
    include_str!("../../../migrations/postgres/0002_rate_limits.sql"),
];

/// Connections one replica keeps open at most.
const POOL_SIZE: usize = 8;

pub struct PostgresHubStore {
    target: PostgresTarget,
    idle: Mutex<Vec<(Client, Box<Prepared>)>>,
    /// Connections checked out or idle; waits on `returned` when at [`POOL_SIZE`].
    open: Mutex<usize>,
    returned: Condvar,
    instance: String,
    case_event_cap: usize,
}

/// A connection taken from the pool; it goes back when dropped, unless it broke.
pub(super) struct Pooled<'a> {
    store: &'a PostgresHubStore,
    /// The connection and the statements it has prepared.
    client: Option<(Client, Box<Prepared>)>,
}

const PRESENT: &str = "a pooled connection is present until dropped";

impl Pooled<'_> {
    /// The connection, and the statements it prepared, for a [`Tx`].
    fn parts(&mut self) -> (&mut Client, &Prepared) {
        let (client, prepared) = self.client.as_mut().expect(PRESENT);
        (client, prepared)
    }
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client.as_ref().expect(PRESENT).0
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client.as_mut().expect(PRESENT).0
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(pair) = self.client.take() {
            if pair.0.is_closed() {
                if let Ok(mut open) = self.store.open.lock() {
                    *open = open.saturating_sub(1);
                }
            } else if let Ok(mut idle) = self.store.idle.lock() {
                idle.push(pair);
            }
        }
        self.store.returned.notify_one();
    }
}

impl PostgresHubStore {
    /// Connects, runs the migrations this database lacks (one replica at a time) and reads
    /// the database's instance id.
    pub fn open(target: PostgresTarget) -> Result<PostgresHubStore, HubError> {
        let store = PostgresHubStore {
            target,
            idle: Mutex::new(Vec::new()),
            open: Mutex::new(0),
            returned: Condvar::new(),
            instance: String::new(),
            case_event_cap: MAX_CASE_EVENTS,
        };
        let instance = store.migrate()?;
        Ok(PostgresHubStore { instance, ..store })
    }

    /// A lower cap on case events per request (tests, and hubs that want one).
    pub fn with_case_event_cap(mut self, cap: usize) -> PostgresHubStore {
        self.case_event_cap = cap.clamp(2, MAX_CASE_EVENTS);
        self
    }

    /// Connections open, idle, and the most this replica opens.
    pub fn pool_status(&self) -> (usize, usize, usize) {
        let open = self.open.lock().map_or(0, |o| *o);
        let idle = self.idle.lock().map_or(0, |i| i.len());
        (open, idle, POOL_SIZE)
    }

    fn migrate(&self) -> Result<String, HubError> {
        let mut client = self.client()?;
        block_on(async {
            client
                .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
                .await?;
            let done = self::migrate_locked(&mut client).await;
            client
                .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
                .await?;
            done
        })
    }

    /// A connection from the pool, opened when none is idle (waiting when all are in use).
    pub(super) fn client(&self) -> Result<Pooled<'_>, HubError> {
        loop {
            if let Some(client) = self.idle.lock().map_err(|_| HubError::Poisoned)?.pop() {
                if client.0.is_closed() {
                    let mut open = self.open.lock().map_err(|_| HubError::Poisoned)?;
                    *open = open.saturating_sub(1);
                    continue;
                }
                return Ok(Pooled {
                    store: self,
                    client: Some(client),
                });
            }
            let mut open = self.open.lock().map_err(|_| HubError::Poisoned)?;
            if *open < POOL_SIZE {
                *open += 1;
                drop(open);
                return match self.target.connect() {
                    Ok(client) => Ok(Pooled {
                        store: self,
                        client: Some((client, Box::default())),
                    }),
                    Err(e) => {
                        if let Ok(mut open) = self.open.lock() {
                            *open = open.saturating_sub(1);
                        }
                        Err(e)
                    }
                };
            }
            let (guard, _) = self
                .returned
                .wait_timeout(open, std::time::Duration::from_millis(200))
                .map_err(|_| HubError::Poisoned)?;
            drop(guard);
        }
    }

    /// Runs `f` in a transaction holding the write lock, and commits when it succeeds.
    fn with_tx<T>(
        &self,
        f: impl AsyncFnOnce(&Tx<'_>) -> Result<T, HubError>,
    ) -> Result<T, HubError> {
        self.transaction(Kind::Write, f)
    }

    /// Runs `f` in a transaction without the write lock: an audit entry alone (which takes
    /// the audit lock itself), a rate limit (which locks its bucket's row).
    fn with_plain_tx<T>(
        &self,
        f: impl AsyncFnOnce(&Tx<'_>) -> Result<T, HubError>,
    ) -> Result<T, HubError> {
        self.transaction(Kind::Plain, f)
    }

    /// Runs `f` on one snapshot of the database, without the write lock.
    fn with_read<T>(
        &self,
        f: impl AsyncFnOnce(&Tx<'_>) -> Result<T, HubError>,
    ) -> Result<T, HubError> {
        self.transaction(Kind::Read, f)
    }

    fn transaction<T>(
        &self,
        kind: Kind,
        f: impl AsyncFnOnce(&Tx<'_>) -> Result<T, HubError>,
    ) -> Result<T, HubError> {
        let mut pooled = self.client()?;
        let (client, prepared) = pooled.parts();
        block_on(async {
            let mut begin = client.build_transaction();
            if kind == Kind::Read {
                begin = begin
                    .isolation_level(IsolationLevel::RepeatableRead)
                    .read_only(true);
            }
            let tx = Tx::new(begin.start().await?, prepared);
            if kind == Kind::Write {
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
                    .await?;
            }
            let out = f(&tx).await?;
            tx.commit().await?;
            Ok(out)
        })
    }
}

/// What a transaction is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Changes: the write lock first.
    Write,
    /// No lock of the hub's own.
    Plain,
    /// Reads, on one snapshot.
    Read,
}

async fn migrate_locked(client: &mut Client) -> Result<String, HubError> {
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        .await?;
    let current: i64 = client
        .query_opt("SELECT version FROM schema_version", &[])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?
        .unwrap_or(0);
    if current as usize > MIGRATIONS.len() {
        return Err(HubError::Invalid(format!(
            "the database is at schema {current}, newer than this hub knows ({}): run the newer hub",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = client.transaction().await?;
        tx.batch_execute(sql).await?;
        tx.execute("DELETE FROM schema_version", &[]).await?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&(i as i64 + 1)],
        )
        .await?;
        tx.commit().await?;
    }
    let existing: Option<String> = client
        .query_opt("SELECT value FROM meta WHERE key = 'instance'", &[])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    let stored = match existing {
        Some(instance) => instance,
        None => {
            let instance = super::sqlite::new_instance_id();
            client
                .execute(
                    "INSERT INTO meta (key, value) VALUES ('instance', $1) ON CONFLICT (key) DO NOTHING",
                    &[&instance],
                )
                .await?;
            client
                .query_one("SELECT value FROM meta WHERE key = 'instance'", &[])
                .await?
                .try_get(0)?
        }
    };
    Ok(format!("{stored}-{}", where_it_lives(client).await?))
}

/// What tells this database apart from a copy of it: its own id among the server's
/// databases, and the server's (a cluster made by `initdb`; a streaming standby shares its
/// primary's, so a failover keeps desks' cursors). A database restored from a dump is a new
/// database, on this server or another: the instance in every cursor changes with it, and
/// desks whose cursors ran past the dump are answered `410` and sync again from the start.
async fn where_it_lives(client: &Client) -> Result<String, HubError> {
    let oid: String = client
        .query_one(
            "SELECT oid::TEXT FROM pg_database WHERE datname = current_database()",
            &[],
        )
        .await?
        .try_get(0)?;
    // Every role may call it unless an administrator revoked it; required, so that all
    // replicas name the database alike (a replica without it would refuse the others'
    // cursors).
    let system: String = client
        .query_one(
            "SELECT system_identifier::TEXT FROM pg_control_system()",
            &[],
        )
        .await
        .map_err(|e| {
            HubError::Invalid(format!(
                "the hub's database role must be allowed to call pg_control_system() (PostgreSQL allows it by default): {e}"
            ))
        })?
        .try_get(0)?;
    let digest = crate::secrets::token_hash(&format!("{system}/{oid}"));
    Ok(digest[..6].to_owned())
}
