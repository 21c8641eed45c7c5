//! The Lifeline reference hub: the upstream a desk syncs with. It speaks the sync protocol
//! (`docs/sync-protocol.md`): intake, a cursor-paged change feed, Server-Sent Events, triage
//! actions with idempotency keys and version checks, soft claims, and an Atom index of
//! relayed CAP advisories. It runs for real on one machine, for demos, crisis drills and the
//! project's own tests; the drill simulator feeds it realistic traffic.

pub mod api;
pub mod atom;
pub mod claims;
pub mod drill;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::claims::Claims;
use crate::store::{HubStore, SqliteHubStore};

/// Everything a handler needs.
pub struct HubState {
    pub store: Arc<dyn HubStore>,
    pub tokens: Vec<String>,
    pub claims: Claims,
    /// The latest change_seq; SSE streams wait on it.
    pub head: watch::Sender<u64>,
    /// Bumped whenever the set of live claims changes.
    pub claims_changed: watch::Sender<u64>,
    /// Bumped whenever an advisory is published.
    pub advisories_changed: watch::Sender<u64>,
}

impl HubState {
    pub fn new(
        store: Arc<dyn HubStore>,
        tokens: Vec<String>,
    ) -> Result<Arc<HubState>, store::HubError> {
        let head = store.head()?;
        Ok(Arc::new(HubState {
            store,
            tokens,
            claims: Claims::default(),
            head: watch::channel(head).0,
            claims_changed: watch::channel(0).0,
            advisories_changed: watch::channel(0).0,
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

/// How the hub is started.
#[derive(Debug, Clone)]
pub struct HubConfig {
    pub db: std::path::PathBuf,
    pub listen: SocketAddr,
    pub tokens: Vec<String>,
    pub drill: Option<drill::DrillConfig>,
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
    #[error("give at least one token (--token or --tokens FILE): the hub serves personal data")]
    NoTokens,
}

/// A running hub: its address and state; dropping the stop sender stops it.
pub struct RunningHub {
    pub addr: SocketAddr,
    pub state: Arc<HubState>,
    pub stop: tokio::sync::oneshot::Sender<()>,
    pub task: tokio::task::JoinHandle<Result<(), ServeError>>,
}

/// Opens the store, binds, and serves until stopped (in the current tokio runtime).
pub async fn start(config: HubConfig) -> Result<RunningHub, ServeError> {
    if config.tokens.is_empty() {
        return Err(ServeError::NoTokens);
    }
    let store: Arc<dyn HubStore> = Arc::new(SqliteHubStore::open(&config.db)?);
    let state = HubState::new(store, config.tokens.clone())?;
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
    }
    let router = api::router(Arc::clone(&state));
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await?;
        Ok(())
    });
    Ok(RunningHub {
        addr,
        state,
        stop,
        task,
    })
}
