//! Rate limits and stream caps, per credential (or per address for sign-in). The token
//! buckets are the store's ([`crate::store::RateLimits`]): in this process's memory for a
//! hub on a SQLite file ([`Buckets`]), in the database for replicas on PostgreSQL, so a
//! limit holds whichever replica is called. Open streams are counted by each replica.
//!
//! A limit answers `429` with `Retry-After` in the protocol's error shape; desks already back
//! off on it. Development tokens are not limited (drills and load tests use them).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The hub's limits; the defaults suit one post's hub, flags change them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Intake per credential: sustained per second, and the burst allowed above it.
    pub intake_per_sec: f64,
    pub intake_burst: f64,
    /// Triage actions and claims per session.
    pub actions_per_sec: f64,
    pub actions_burst: f64,
    /// Sign-in attempts per client address, per minute.
    pub sign_ins_per_minute: f64,
    /// Event streams open at once per credential.
    pub streams_per_credential: usize,
    /// Connections open at once, in all and per client address.
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    /// A connection that has not sent a whole request head within this is closed (also
    /// between requests on a kept-alive connection). TLS handshakes get the same time.
    pub header_timeout: Duration,
    /// Case events a request keeps at most (`store::MAX_CASE_EVENTS`, or lower).
    pub max_case_events: usize,
    /// Officers' messages handed to each intake channel: sustained per second, and the
    /// burst above it. A safety reminder to a whole area leaves at this pace, so a
    /// channel's gateway (an SMS provider, a chat platform) is not flooded.
    pub channel_messages_per_sec: f64,
    pub channel_messages_burst: f64,
    /// Officers' messages (`send_message`) per session, apart from the triage actions: a
    /// safety reminder to 10,000 citizens reaches the hub in about a minute and a half.
    pub officer_messages_per_sec: f64,
    pub officer_messages_burst: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            intake_per_sec: 20.0,
            intake_burst: 200.0,
            actions_per_sec: 10.0,
            actions_burst: 60.0,
            sign_ins_per_minute: 10.0,
            streams_per_credential: 4,
            max_connections: 768,
            max_connections_per_address: 256,
            header_timeout: Duration::from_secs(10),
            max_case_events: crate::store::MAX_CASE_EVENTS,
            channel_messages_per_sec: 50.0,
            channel_messages_burst: 200.0,
            officer_messages_per_sec: 100.0,
            officer_messages_burst: 1000.0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// What a bucket gave: how many of the tokens asked for, and when the next one is there
/// when it gave fewer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Granted {
    pub granted: u32,
    pub wait: Option<Duration>,
}

/// A bucket of `tokens`, `elapsed_secs` after they were counted, refilled at `rate` up to
/// `burst`, asked for `wanted`: the tokens left and what was granted.
pub fn refill(
    tokens: f64,
    elapsed_secs: f64,
    rate: f64,
    burst: f64,
    wanted: u32,
) -> (f64, Granted) {
    let available = (tokens + elapsed_secs * rate).min(burst);
    let granted = (available.floor().max(0.0) as u32).min(wanted);
    let left = available - f64::from(granted);
    let wait =
        (granted < wanted).then(|| Duration::from_secs_f64(((1.0 - left) / rate).max(0.001)));
    (left, Granted { granted, wait })
}

/// Token buckets by key: `rate` per second, up to `burst`.
#[derive(Debug, Default)]
pub struct Buckets {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Buckets {
    /// Takes one token for `key`; `Err(wait)` says when the next one is there.
    pub fn take(&self, key: &str, rate: f64, burst: f64, now: Instant) -> Result<(), Duration> {
        match self.take_up_to(key, rate, burst, 1, now).wait {
            None => Ok(()),
            Some(wait) => Err(wait),
        }
    }

    /// Takes up to `wanted` tokens for `key`.
    pub fn take_up_to(
        &self,
        key: &str,
        rate: f64,
        burst: f64,
        wanted: u32,
        now: Instant,
    ) -> Granted {
        let Ok(mut buckets) = self.buckets.lock() else {
            // A poisoned limiter must not lock everyone out.
            return Granted {
                granted: wanted,
                wait: None,
            };
        };
        if buckets.len() > 100_000 {
            // Idle keys hold full buckets; forgetting them changes nothing.
            buckets.retain(|_, b| now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let b = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let (left, granted) = refill(
            b.tokens,
            now.duration_since(b.at).as_secs_f64(),
            rate,
            burst,
            wanted,
        );
        b.tokens = left;
        b.at = now;
        granted
    }
}

/// Open event streams per credential; a [`StreamSlot`] gives its place back when dropped.
#[derive(Debug, Default)]
pub struct StreamCounts {
    open: Mutex<HashMap<String, usize>>,
}

pub struct StreamSlot {
    counts: Arc<StreamCounts>,
    key: String,
}

impl StreamCounts {
    pub fn open(self: &Arc<Self>, key: &str, max: usize) -> Option<StreamSlot> {
        let mut open = self.open.lock().ok()?;
        let n = open.entry(key.to_owned()).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(StreamSlot {
            counts: Arc::clone(self),
            key: key.to_owned(),
        })
    }

    /// Streams open at this replica, for every credential.
    pub fn total(&self) -> usize {
        self.open.lock().map_or(0, |o| o.values().sum())
    }

    pub fn open_count(&self, key: &str) -> usize {
        self.open
            .lock()
            .map_or(0, |o| o.get(key).copied().unwrap_or(0))
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.counts.open.lock()
            && let Some(n) = open.get_mut(&self.key)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_says_when_to_come_back() {
        let b = Buckets::default();
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(b.take("k", 1.0, 5.0, t0).is_ok());
        }
        let wait = b.take("k", 1.0, 5.0, t0).expect_err("the burst is spent");
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert!(
            b.take("k", 1.0, 5.0, t0 + Duration::from_secs(1)).is_ok(),
            "refilled"
        );
        assert!(b.take("other", 1.0, 5.0, t0).is_ok(), "keys are apart");
    }

    #[test]
    fn a_bucket_gives_what_it_has_of_what_is_asked_and_says_when_more_comes() {
        // Full: five of eight, the next in a second.
        let (left, g) = refill(5.0, 0.0, 1.0, 5.0, 8);
        assert_eq!(g.granted, 5);
        assert!(left.abs() < 1e-9);
        assert_eq!(g.wait, Some(Duration::from_secs(1)));
        // Half a second later at two a second: one more, none waiting.
        let (left, g) = refill(0.0, 0.5, 2.0, 5.0, 1);
        assert_eq!((g.granted, g.wait), (1, None));
        assert!(left.abs() < 1e-9);
        // A long idle bucket is full, never more.
        let (left, g) = refill(0.0, 3600.0, 1.0, 5.0, 0);
        assert_eq!(g.granted, 0);
        assert!((left - 5.0).abs() < 1e-9);
    }

    #[test]
    fn stream_slots_are_counted_and_given_back() {
        let c = Arc::new(StreamCounts::default());
        let a = c.open("k", 2).expect("first");
        let _b = c.open("k", 2).expect("second");
        assert!(c.open("k", 2).is_none(), "a third is refused");
        drop(a);
        assert!(c.open("k", 2).is_some(), "a closed stream frees its place");
    }
}
