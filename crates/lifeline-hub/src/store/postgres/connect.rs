//! Where the hub's PostgreSQL database is and how to reach it: the URL given as `--db`, the
//! password from the environment (never in the URL: process arguments are readable by every
//! user of the machine), and TLS whenever the server is not on this machine.

use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_executor::block_on;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::store::HubError;

/// The environment variable holding the database password, when the server asks for one.
pub const PASSWORD_ENV: &str = "LIFELINE_HUB_DB_PASSWORD";

/// Bounds on every conversation with the server: a statement, a wait for a lock, a
/// connection attempt, a peer that stopped answering.
const OPTIONS: &str =
    "-c statement_timeout=30000 -c lock_timeout=20000 -c idle_in_transaction_session_timeout=60000";

/// A PostgreSQL database the hub keeps its store in.
#[derive(Clone)]
pub struct PostgresTarget {
    pub(super) config: Config,
    pub(super) tls: Option<MakeRustlsConnect>,
    /// `host:port/database`, for messages.
    shown: String,
}

impl std::fmt::Debug for PostgresTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PostgresTarget({})", self.shown)
    }
}

impl std::fmt::Display for PostgresTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

/// Whether `db` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

impl PostgresTarget {
    /// Reads `postgres://user@host:port/database`. `password` is the one from the
    /// environment; `ca` a PEM file of the CA that signed the server's certificate, needed
    /// (and then used) when the server is on another machine.
    pub fn parse(
        url: &str,
        password: Option<&str>,
        ca: Option<&Path>,
    ) -> Result<PostgresTarget, HubError> {
        let mut config = Config::from_str(url)
            .map_err(|e| HubError::Invalid(format!("--db: not a PostgreSQL URL: {e}")))?;
        if config.get_password().is_some() {
            return Err(HubError::Invalid(format!(
                "--db: a password in the URL is visible to every user of this machine; give it in {PASSWORD_ENV} instead"
            )));
        }
        if let Some(p) = password.filter(|p| !p.is_empty()) {
            config.password(p);
        }
        if config.get_hosts().is_empty() {
            return Err(HubError::Invalid(
                "--db: the URL names no host (postgres://user@host:port/database)".into(),
            ));
        }
        let local = config.get_hosts().iter().all(|h| match h {
            Host::Unix(_) => true,
            Host::Tcp(name) => {
                name == "localhost"
                    || name
                        .trim_matches(['[', ']'])
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
        });
        let tls = match ca {
            Some(ca) => Some(tls_with(ca)?),
            None if local => None,
            None => {
                return Err(HubError::Invalid(
                    "--db: the database is on another machine: give --db-ca with the CA certificate of its server (TLS is required off this machine)".into(),
                ));
            }
        };
        if tls.is_some() {
            config.ssl_mode(tokio_postgres::config::SslMode::Require);
        }
        config
            .application_name("lifeline-hub")
            .options(OPTIONS)
            .connect_timeout(Duration::from_secs(10))
            .tcp_user_timeout(Duration::from_secs(30))
            .keepalives_idle(Duration::from_secs(30));
        let host = match &config.get_hosts()[0] {
            Host::Tcp(h) => h.clone(),
            Host::Unix(p) => p.display().to_string(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let shown = format!(
            "{host}:{port}/{}",
            config.get_dbname().unwrap_or("(default database)")
        );
        Ok(PostgresTarget { config, tls, shown })
    }

    /// Opens a connection (its I/O runs on the store's runtime).
    pub fn connect(&self) -> Result<Client, HubError> {
        let config = self.config.clone();
        let tls = self.tls.clone();
        let shown = self.shown.clone();
        let connecting = runtime().spawn(async move {
            let client = match tls {
                Some(tls) => {
                    let (client, connection) = config.connect(tls).await?;
                    tokio::spawn(drive(connection, shown));
                    client
                }
                None => {
                    let (client, connection) = config.connect(NoTls).await?;
                    tokio::spawn(drive(connection, shown));
                    client
                }
            };
            Ok::<_, tokio_postgres::Error>(client)
        });
        // Where the database is and why it failed go to the log; callers are told only
        // that it is out of reach.
        let failed = match block_on(connecting) {
            Ok(Ok(client)) => return Ok(client),
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        };
        tracing::error!("cannot reach the database at {}: {failed}", self.shown);
        Err(HubError::Unavailable(
            "the hub's database cannot be reached; try again".into(),
        ))
    }
}

async fn drive<S, T>(connection: tokio_postgres::Connection<S, T>, shown: String)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if let Err(e) = connection.await {
        tracing::warn!("the connection to the database at {shown} ended: {e}");
    }
}

/// The runtime every connection of this process runs on: one thread is plenty, it only
/// moves bytes between sockets and the callers' futures.
pub(super) fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("lifeline-postgres")
            .enable_all()
            .build()
            .expect("a runtime for the database connections")
    })
}

/// TLS trusting only the CA in `ca` (a ministry's own PKI).
fn tls_with(ca: &Path) -> Result<MakeRustlsConnect, HubError> {
    let pem = std::fs::read(ca)
        .map_err(|e| HubError::Invalid(format!("--db-ca {}: {e}", ca.display())))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| {
            HubError::Invalid(format!(
                "--db-ca {}: not a PEM certificate: {e}",
                ca.display()
            ))
        })?;
        roots
            .add(cert)
            .map_err(|e| HubError::Invalid(format!("--db-ca {}: {e}", ca.display())))?;
    }
    if roots.is_empty() {
        return Err(HubError::Invalid(format!(
            "--db-ca {}: no certificate in the file",
            ca.display()
        )));
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| HubError::Invalid(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
