//! `GET /v1/metrics` and the layer that counts every answer.

use std::sync::Arc;
use std::time::Instant;

use axum::Extension;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{Shared, blocking};
use crate::auth::{Principal, forbidden};
use crate::metrics::Gauges;
use crate::store::ServiceScope;

/// Counts the answer to every request, by route template, and how long it took to begin.
pub async fn count(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let (path, method) = (req.uri().path().to_owned(), req.method().to_string());
    let started = Instant::now();
    let res = next.run(req).await;
    state
        .metrics
        .observe(&path, &method, res.status().as_u16(), started.elapsed());
    res
}

pub async fn metrics(State(state): State<Shared>, Extension(p): Extension<Principal>) -> Response {
    // Its own credential: a service account given `metrics:read`, not an officer's session
    // (`may` says no for every officer).
    if !p.may(ServiceScope::ReadMetrics) {
        return forbidden("read the hub's metrics");
    }
    let store = Arc::clone(&state.store);
    let (feed_head, pool) = match blocking(move || Ok((store.head()?, store.pool_status()))).await {
        Ok(read) => read,
        Err(r) => return r,
    };
    let gauges = Gauges {
        open_streams: state.streams.total(),
        feed_head,
        announced_head: *state.head.borrow(),
        pool,
    };
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(&gauges),
    )
        .into_response()
}
