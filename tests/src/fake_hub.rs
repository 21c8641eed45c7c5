//! A misbehaving hub for fault tests: serves a fixed list of records as the real protocol
//! does, except when a fault is scripted for the next request. One helper per failure.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

#[derive(Debug, Clone)]
pub enum Fault {
    Status500,
    RateLimited {
        retry_after_secs: u64,
    },
    /// Headers, then one byte every two seconds.
    Trickle,
    /// Declares a body longer than it sends, then closes.
    Truncated,
    InvalidJson,
    /// A small gzip body that inflates to `inflated_mb` megabytes.
    GzipBomb {
        inflated_mb: usize,
    },
}

#[derive(Default)]
struct Script {
    faults: VecDeque<Fault>,
    served: Vec<String>,
}

#[derive(Clone)]
pub struct FakeHub {
    pub url: String,
    script: Arc<Mutex<Script>>,
}

#[derive(Clone)]
struct AppState {
    records: Arc<Vec<serde_json::Value>>,
    script: Arc<Mutex<Script>>,
}

#[derive(serde::Deserialize)]
struct Page {
    after: Option<String>,
    limit: Option<usize>,
}

impl FakeHub {
    /// Serves `records` (protocol JSON) on 127.0.0.1:0; the event stream is absent (404), so
    /// desks poll.
    pub async fn start(records: Vec<serde_json::Value>) -> FakeHub {
        let script = Arc::new(Mutex::new(Script::default()));
        let state = AppState {
            records: Arc::new(records),
            script: Arc::clone(&script),
        };
        let app = Router::new()
            .route("/v1/requests", get(page))
            .route(
                "/v1/advisories.atom",
                get(|| async { StatusCode::NOT_MODIFIED }),
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeHub {
            url: format!("http://{addr}"),
            script,
        }
    }

    pub fn fail_next(&self, fault: Fault) {
        if let Ok(mut s) = self.script.lock() {
            s.faults.push_back(fault);
        }
    }

    /// What each request got, in order: `ok` or the fault's name.
    pub fn served(&self) -> Vec<String> {
        self.script
            .lock()
            .map(|s| s.served.clone())
            .unwrap_or_default()
    }
}

async fn page(State(state): State<AppState>, Query(q): Query<Page>) -> Response {
    let fault = state
        .script
        .lock()
        .ok()
        .and_then(|mut s| s.faults.pop_front());
    let name = fault
        .as_ref()
        .map_or_else(|| "ok".to_owned(), |f| format!("{f:?}"));
    if let Ok(mut s) = state.script.lock() {
        s.served.push(name);
    }
    let after: usize = q
        .after
        .as_deref()
        .and_then(|c| c.strip_prefix("fake."))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let limit = q.limit.unwrap_or(100);
    let slice: Vec<serde_json::Value> = state
        .records
        .iter()
        .skip(after)
        .take(limit)
        .cloned()
        .collect();
    let next = after + slice.len();
    let body = serde_json::json!({"requests": slice, "next_cursor": format!("fake.{next}"), "has_more": next < state.records.len()});
    match fault {
        None => axum::Json(body).into_response(),
        Some(Fault::Status500) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "database is on fire").into_response()
        }
        Some(Fault::RateLimited { retry_after_secs }) => {
            let mut h = HeaderMap::new();
            h.insert(
                header::RETRY_AFTER,
                retry_after_secs.to_string().parse().expect("header"),
            );
            (StatusCode::TOO_MANY_REQUESTS, h, "slow down").into_response()
        }
        Some(Fault::Trickle) => {
            let stream = futures_util::stream::unfold(0u32, |n| async move {
                if n > 0 {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                (n < 30).then(|| {
                    (
                        Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b" ")),
                        n + 1,
                    )
                })
            });
            (
                [(header::CONTENT_TYPE, "application/json")],
                Body::from_stream(stream),
            )
                .into_response()
        }
        Some(Fault::Truncated) => {
            let text = body.to_string();
            let half = text.as_bytes()[..text.len() / 2].to_vec();
            let stream = futures_util::stream::iter(vec![
                Ok::<_, std::io::Error>(axum::body::Bytes::from(half)),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "cut",
                )),
            ]);
            (
                [(header::CONTENT_LENGTH, text.len().to_string())],
                Body::from_stream(stream),
            )
                .into_response()
        }
        Some(Fault::InvalidJson) => (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"requests\": [ {\"id\": ",
        )
            .into_response(),
        Some(Fault::GzipBomb { inflated_mb }) => {
            use std::io::Write;
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            let zeros = vec![b' '; 1024 * 1024];
            for _ in 0..inflated_mb {
                let _ = enc.write_all(&zeros);
            }
            let gz = enc.finish().unwrap_or_default();
            (
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::CONTENT_ENCODING, "gzip"),
                ],
                gz,
            )
                .into_response()
        }
    }
}
