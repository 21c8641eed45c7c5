//! What a ministry's operations team watches, in Prometheus' text format (`GET /v1/metrics`,
//! for a service account with the `metrics:read` scope): requests by route and status,
//! latency histograms, open event streams, how far this replica's streams are behind the
//! database, and the database connections in use. Routes are named by their templates
//! (`/v1/requests/{id}/actions`), never by the ids in them.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BOUNDS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The routes, as templates: a path is counted under the first one it matches.
const ROUTES: &[&str] = &[
    "/v1/health",
    "/v1/metrics",
    "/v1/me",
    "/v1/posts",
    "/v1/auth/sign-in",
    "/v1/auth/refresh",
    "/v1/auth/sign-out",
    "/v1/audit/exports",
    "/v1/requests",
    "/v1/requests/{id}",
    "/v1/requests/{id}/actions",
    "/v1/requests/{id}/transfer",
    "/v1/requests/{id}/messages",
    "/v1/requests/{id}/claim",
    "/v1/media",
    "/v1/media/{sha256}",
    "/v1/maps",
    "/v1/maps/{id}",
    "/v1/channel/outbox",
    "/v1/messages/{id}/receipt",
    "/v1/claims",
    "/v1/events",
    "/v1/advisories",
    "/v1/advisories.atom",
    "/v1/advisories/{file}",
];

/// The template `path` is served under (`other` for none: a probe's made-up path must not
/// grow the label set).
pub fn route_of(path: &str) -> &'static str {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    ROUTES
        .iter()
        .find(|template| {
            let t: Vec<&str> = template.split('/').collect();
            t.len() == parts.len()
                && t.iter()
                    .zip(&parts)
                    .all(|(t, p)| t.starts_with('{') || t == p)
        })
        .copied()
        .unwrap_or("other")
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Observations at or under each bound (not cumulative here; summed when rendered).
    buckets: [u64; BOUNDS.len()],
    sum: f64,
    count: u64,
}

#[derive(Debug, Default)]
pub struct Metrics {
    /// By (route, method, status).
    requests: Mutex<BTreeMap<(&'static str, String, u16), u64>>,
    /// By route.
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
}

/// Figures read at the time of a scrape.
#[derive(Debug, Default, Clone)]
pub struct Gauges {
    pub open_streams: usize,
    /// The database's change-feed head, and the head this replica's streams have been told.
    pub feed_head: u64,
    pub announced_head: u64,
    /// Connections to the database: open, idle, at most (PostgreSQL only).
    pub pool: Option<(usize, usize, usize)>,
}

impl Metrics {
    /// One answered request: how long until its answer began.
    pub fn observe(&self, path: &str, method: &str, status: u16, took: Duration) {
        let route = route_of(path);
        // Made-up methods from a probe must not grow the label set either.
        let method = match method {
            "GET" | "POST" | "PUT" | "DELETE" | "HEAD" | "OPTIONS" | "PATCH" => method,
            _ => "other",
        };
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((route, method.to_owned(), status)).or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry(route).or_default();
            let secs = took.as_secs_f64();
            if let Some(i) = BOUNDS.iter().position(|b| secs <= *b) {
                h.buckets[i] += 1;
            }
            h.sum += secs;
            h.count += 1;
        }
    }

    /// Everything, in Prometheus' text exposition format.
    pub fn render(&self, g: &Gauges) -> String {
        let mut out = String::new();
        out.push_str("# HELP lifeline_hub_http_requests_total Requests answered, by route template, method and status.\n");
        out.push_str("# TYPE lifeline_hub_http_requests_total counter\n");
        if let Ok(r) = self.requests.lock() {
            for ((route, method, status), n) in r.iter() {
                let _ = writeln!(
                    out,
                    "lifeline_hub_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP lifeline_hub_http_request_duration_seconds Time until an answer began, by route template.\n");
        out.push_str("# TYPE lifeline_hub_http_request_duration_seconds histogram\n");
        if let Ok(l) = self.latency.lock() {
            for (route, h) in l.iter() {
                let mut cumulative = 0;
                for (bound, n) in BOUNDS.iter().zip(h.buckets) {
                    cumulative += n;
                    let _ = writeln!(
                        out,
                        "lifeline_hub_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                    );
                }
                let _ = writeln!(
                    out,
                    "lifeline_hub_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                     lifeline_hub_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                     lifeline_hub_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count, h.sum, h.count
                );
            }
        }
        let lag = g.feed_head.saturating_sub(g.announced_head);
        let _ = write!(
            out,
            "# HELP lifeline_hub_event_streams_open Event streams open at this replica.\n\
             # TYPE lifeline_hub_event_streams_open gauge\n\
             lifeline_hub_event_streams_open {}\n\
             # HELP lifeline_hub_change_feed_head The latest change number in the database.\n\
             # TYPE lifeline_hub_change_feed_head gauge\n\
             lifeline_hub_change_feed_head {}\n\
             # HELP lifeline_hub_change_feed_lag Changes in the database this replica's streams have not been told of yet.\n\
             # TYPE lifeline_hub_change_feed_lag gauge\n\
             lifeline_hub_change_feed_lag {lag}\n",
            g.open_streams, g.feed_head
        );
        if let Some((open, idle, max)) = g.pool {
            let _ = write!(
                out,
                "# HELP lifeline_hub_db_connections Connections to the database, by state.\n\
                 # TYPE lifeline_hub_db_connections gauge\n\
                 lifeline_hub_db_connections{{state=\"in_use\"}} {}\n\
                 lifeline_hub_db_connections{{state=\"idle\"}} {idle}\n\
                 # HELP lifeline_hub_db_connections_max The most connections this replica opens.\n\
                 # TYPE lifeline_hub_db_connections_max gauge\n\
                 lifeline_hub_db_connections_max {max}\n",
                open.saturating_sub(idle)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_counted_by_their_templates_and_unknown_ones_together() {
        assert_eq!(
            route_of("/v1/requests/R-1/actions"),
            "/v1/requests/{id}/actions"
        );
        assert_eq!(route_of("/v1/requests"), "/v1/requests");
        assert_eq!(route_of("/v1/requests/R-1"), "/v1/requests/{id}");
        assert_eq!(route_of("/v1/advisories.atom"), "/v1/advisories.atom");
        assert_eq!(route_of("/wp-admin/x.php"), "other");
    }

    #[test]
    fn the_histogram_is_cumulative_and_counts_every_answer() {
        let m = Metrics::default();
        m.observe("/v1/requests", "POST", 201, Duration::from_millis(3));
        m.observe("/v1/requests", "POST", 201, Duration::from_millis(70));
        m.observe("/v1/requests", "GET", 200, Duration::from_secs(40));
        let text = m.render(&Gauges {
            feed_head: 10,
            announced_head: 7,
            ..Gauges::default()
        });
        for line in [
            "lifeline_hub_http_requests_total{route=\"/v1/requests\",method=\"POST\",status=\"201\"} 2",
            "lifeline_hub_http_request_duration_seconds_bucket{route=\"/v1/requests\",le=\"0.005\"} 1",
            "lifeline_hub_http_request_duration_seconds_bucket{route=\"/v1/requests\",le=\"0.1\"} 2",
            "lifeline_hub_http_request_duration_seconds_bucket{route=\"/v1/requests\",le=\"30\"} 2",
            "lifeline_hub_http_request_duration_seconds_bucket{route=\"/v1/requests\",le=\"+Inf\"} 3",
            "lifeline_hub_http_request_duration_seconds_count{route=\"/v1/requests\"} 3",
            "lifeline_hub_change_feed_lag 3",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
    }
}
