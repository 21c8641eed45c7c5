//! The hub's connection loop: accepts TCP, optionally wraps it in TLS, serves HTTP/1.1.
//!
//! Written out instead of `axum::serve` for what a public-facing server needs and that one
//! does not give: a cap on connections in all and per client address (excess connections are
//! closed at once, so idle sockets cannot use up the process's file descriptors), a deadline
//! for the TLS handshake and for every request head (also between requests on a kept-alive
//! connection), and TLS certificates that can be reloaded without a restart (`SIGHUP`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::limits::Limits;

/// The client's address, as a request extension.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no {what} in PEM form")]
    Missing { path: PathBuf, what: &'static str },
    #[error("the certificate and key are not usable together: {0}")]
    Config(String),
}

/// The certificate and key files, and the configuration built from them (reloadable).
pub struct TlsFiles {
    cert: PathBuf,
    key: PathBuf,
    config: RwLock<Arc<rustls::ServerConfig>>,
}

fn load_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, TlsError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| TlsError::Read {
            path: path.to_owned(),
            source: e,
        })
    };
    let cert_pem = read(cert)?;
    let key_pem = read(key)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .filter_map(Result::ok)
        .collect();
    if chain.is_empty() {
        return Err(TlsError::Missing {
            path: cert.to_owned(),
            what: "certificate",
        });
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| TlsError::Missing {
        path: key.to_owned(),
        what: "private key",
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

impl TlsFiles {
    pub fn load(cert: &Path, key: &Path) -> Result<TlsFiles, TlsError> {
        let config = load_config(cert, key)?;
        Ok(TlsFiles {
            cert: cert.to_owned(),
            key: key.to_owned(),
            config: RwLock::new(Arc::new(config)),
        })
    }

    /// Reads the files again; on failure the running configuration stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = Arc::new(load_config(&self.cert, &self.key)?);
        if let Ok(mut c) = self.config.write() {
            *c = fresh;
        }
        Ok(())
    }

    fn current(&self) -> Option<Arc<rustls::ServerConfig>> {
        self.config.read().ok().map(|c| Arc::clone(&c))
    }
}

/// Connections open now, in all and per address. A [`Slot`] gives its place back on drop.
#[derive(Debug, Default)]
struct Connections {
    per_address: Mutex<HashMap<IpAddr, usize>>,
}

struct Slot {
    connections: Arc<Connections>,
    ip: IpAddr,
}

impl Connections {
    fn admit(self: &Arc<Self>, ip: IpAddr, limits: &Limits) -> Option<Slot> {
        let mut map = self.per_address.lock().ok()?;
        let total: usize = map.values().sum();
        let here = map.entry(ip).or_default();
        if total >= limits.max_connections || *here >= limits.max_connections_per_address {
            return None;
        }
        *here += 1;
        Some(Slot {
            connections: Arc::clone(self),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut map) = self.connections.per_address.lock()
            && let Some(n) = map.get_mut(&self.ip)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Serves `router` on `listener` until `stop` fires; open connections are then dropped.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<TlsFiles>>,
    limits: Limits,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) -> std::io::Result<()> {
    let connections = Arc::new(Connections::default());
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => accepted,
            // Reap finished connections so the set does not grow.
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors or similar: wait a little, never give up serving.
                tracing::warn!("accepting a connection failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = connections.admit(peer.ip(), &limits) else {
            drop(tcp); // over the cap: closed at once, costs nothing to keep
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        let tls = tls.as_ref().and_then(|t| t.current());
        tasks.spawn(async move {
            let _slot = slot;
            match tls {
                Some(config) => {
                    let acceptor = tokio_rustls::TlsAcceptor::from(config);
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(limits.header_timeout, acceptor.accept(tcp)).await
                    else {
                        return; // no handshake in time, or a failed one
                    };
                    serve_connection(TokioIo::new(stream), router, peer, limits).await;
                }
                None => serve_connection(TokioIo::new(tcp), router, peer, limits).await,
            }
        });
    }
    tasks.abort_all();
    Ok(())
}

async fn serve_connection<I>(io: I, router: Router, peer: SocketAddr, limits: Limits)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(PeerAddr(peer));
        router.clone().oneshot(request)
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(io, service)
        .await;
}
