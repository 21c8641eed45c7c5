//! The Lifeline reference hub: the upstream a desk syncs with. It speaks the sync protocol
//! (`docs/sync-protocol.md`): intake, a cursor-paged change feed, Server-Sent Events, triage
//! actions with idempotency keys and version checks, soft claims, and an Atom index of
//! relayed CAP advisories. It runs for real on one machine, for demos, crisis drills and the
//! project's own tests; the drill simulator feeds it realistic traffic.

pub mod admin;
pub mod api;
pub mod atom;
pub mod auth;
pub mod claims;
pub mod dev_ca;
pub mod dev_postgres;
pub mod drill;
pub mod limits;
pub mod metrics;
pub mod secrets;
pub mod serve;
pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::limits::{Limits, StreamCounts};
use crate::serve::TlsFiles;
use crate::store::{HubDb, HubStore};

/// Everything a handler needs.
pub struct HubState {
    pub store: Arc<dyn HubStore>,
    /// Development tokens (`--dev-token`): empty on a production hub.
    pub dev_tokens: Vec<String>,
    pub limits: Limits,
    pub streams: Arc<StreamCounts>,
    /// A drill hub: its requests and advisories are exercises.
    pub exercise: bool,
    /// The latest change_seq; SSE streams wait on it.
    pub head: watch::Sender<u64>,
    /// Bumped whenever the set of live claims changes.
    pub claims_changed: watch::Sender<u64>,
    /// Bumped whenever an advisory is published.
    pub advisories_changed: watch::Sender<u64>,
    /// The region packs this hub hosts (`--maps DIR`), checked once at start.
    pub maps: api::HostedMaps,
    /// Requests answered and their latency (`GET /v1/metrics`).
    pub metrics: metrics::Metrics,
}

impl HubState {
    pub fn new(
        store: Arc<dyn HubStore>,
        dev_tokens: Vec<String>,
        limits: Limits,
        exercise: bool,
        maps: api::HostedMaps,
    ) -> Result<Arc<HubState>, store::HubError> {
        let head = store.head()?;
        Ok(Arc::new(HubState {
            store,
            dev_tokens,
            limits,
            streams: Arc::new(StreamCounts::default()),
            exercise,
            head: watch::channel(head).0,
            claims_changed: watch::channel(0).0,
            advisories_changed: watch::channel(0).0,
            maps,
            metrics: metrics::Metrics::default(),
        }))
    }

    /// Tells SSE streams that changes up to `seq` exist.
    pub fn announce(&self, seq: u64) {
        self.head.send_if_modified(|h| {
            let newer = seq > *h;
            if newer {
                *h = seq;
            }
            newer
        });
    }

    pub fn cursor(&self, seq: u64) -> String {
        format!("{}.{seq}", self.store.instance())
    }
}

/// TLS certificate and key (PEM files).
#[derive(Debug, Clone)]
pub struct TlsPaths {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// How the hub is started.
#[derive(Debug, Clone)]
pub struct HubConfig {
    pub db: HubDb,
    pub listen: SocketAddr,
    /// Development tokens: every post, any actor. Only for drills and local development.
    pub dev_tokens: Vec<String>,
    /// Serve HTTPS with these; without, plain HTTP, which is allowed on loopback only.
    pub tls: Option<TlsPaths>,
    pub limits: Limits,
    /// Exercise mode: the only mode a drill runs in.
    pub exercise: bool,
    pub drill: Option<drill::DrillConfig>,
    /// A folder of region packs (PMTiles) the hub hosts for its desks to download.
    pub maps: Option<PathBuf>,
}

impl HubConfig {
    /// A hub on the SQLite file `db` listening on `listen`, no TLS, default limits, not in
    /// exercise mode.
    pub fn new(db: PathBuf, listen: SocketAddr) -> HubConfig {
        HubConfig {
            db: HubDb::Sqlite(db),
            listen,
            dev_tokens: Vec::new(),
            tls: None,
            limits: Limits::default(),
            exercise: false,
            drill: None,
            maps: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] store::HubError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Tls(#[from] serve::TlsError),
    #[error(
        "refusing to serve plain HTTP on {0}: give --tls-cert and --tls-key (plain HTTP is for loopback only)"
    )]
    PlainHttpOffLoopback(SocketAddr),
    #[error("a drill runs only on a hub in exercise mode (--exercise)")]
    DrillNeedsExercise,
}

/// A running hub: its address and state; dropping the stop sender stops it.
pub struct RunningHub {
    pub addr: SocketAddr,
    pub state: Arc<HubState>,
    pub tls: Option<Arc<TlsFiles>>,
    pub stop: tokio::sync::oneshot::Sender<()>,
    pub task: tokio::task::JoinHandle<Result<(), ServeError>>,
}

impl RunningHub {
    /// `https://…` or `http://…`, as desks are given it.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }
}

/// Opens the store, binds, and serves until stopped (in the current tokio runtime).
pub async fn start(config: HubConfig) -> Result<RunningHub, ServeError> {
    if config.drill.is_some() && !config.exercise {
        return Err(ServeError::DrillNeedsExercise);
    }
    if config.tls.is_none() && !config.listen.ip().is_loopback() {
        return Err(ServeError::PlainHttpOffLoopback(config.listen));
    }
    let tls = match &config.tls {
        Some(p) => Some(Arc::new(TlsFiles::load(&p.cert, &p.key)?)),
        None => None,
    };
    let store: Arc<dyn HubStore> = config.db.open(config.limits.max_case_events)?;
    let state = HubState::new(
        store,
        config.dev_tokens.clone(),
        config.limits,
        config.exercise,
        config
            .maps
            .as_deref()
            .map(api::HostedMaps::scan)
            .unwrap_or_default(),
    )?;
    if let HubDb::Postgres(target) = &config.db {
        tokio::spawn(follow_replicas(Arc::clone(&state), target.listen()));
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| ServeError::Bind {
            addr: config.listen,
            source: e,
        })?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    if let Some(drill) = config.drill.clone() {
        tokio::spawn(drill::run(Arc::clone(&state), drill));
        tokio::spawn(drill::citizens::answer(Arc::clone(&state)));
    }
    let router = api::router(Arc::clone(&state));
    let serving_tls = tls.clone();
    let limits = config.limits;
    let task = tokio::spawn(async move {
        serve::serve(listener, router, serving_tls, limits, stopped).await?;
        Ok(())
    });
    Ok(RunningHub {
        addr,
        state,
        tls,
        stop,
        task,
    })
}

/// Wakes this replica's event streams when any replica changed the shared database: the
/// feed's head is read again from the database (a notification's content is never
/// trusted), and the advisory and claim streams are told to look. The head is also read
/// every five seconds, in case a wake-up was lost.
async fn follow_replicas(
    state: Arc<HubState>,
    mut wakes: tokio::sync::mpsc::UnboundedReceiver<store::postgres::Wake>,
) {
    use store::postgres::Wake;
    let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        let wake = tokio::select! {
            w = wakes.recv() => match w { Some(w) => w, None => return },
            _ = every.tick() => Wake::Changes,
        };
        match wake {
            Wake::Changes => {
                let store = Arc::clone(&state.store);
                if let Ok(Ok(head)) = tokio::task::spawn_blocking(move || store.head()).await {
                    state.announce(head);
                }
            }
            Wake::Advisories => state.advisories_changed.send_modify(|v| *v += 1),
            Wake::Claims => state.claims_changed.send_modify(|v| *v += 1),
        }
    }
}
