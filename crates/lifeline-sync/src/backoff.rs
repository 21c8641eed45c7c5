//! Capped exponential backoff with full jitter (a random wait between zero and the cap of
//! the attempt), so desks that lost the hub together do not all return in the same second;
//! the cap of an attempt is never more than the outage has lasted so far.

use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
    seed: u64,
    /// When the failures since the last reset began.
    failing_since: Option<Instant>,
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        let seed =
            u64::from(std::process::id()) ^ chrono::Utc::now().timestamp_subsec_nanos() as u64;
        Backoff {
            base,
            cap,
            attempt: 0,
            seed: seed | 1,
            failing_since: None,
        }
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
        self.failing_since = None;
    }

    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// The next wait: uniform in [0, min(cap, base * 2^attempt)], but never less than a
    /// server's `Retry-After`.
    pub fn next(&mut self, retry_after: Option<Duration>) -> Duration {
        let now = Instant::now();
        let failing_for = now.duration_since(*self.failing_since.get_or_insert(now));
        // Never longer than the outage has lasted so far: quick failures in the first second
        // of a hub restart must not push the next try seconds past its return (after a
        // 1-second outage the desk is back within about a second more, not eight). A long
        // outage still backs off to the cap.
        let ceiling = self
            .base
            .saturating_mul(1u32 << self.attempt.min(20))
            .min(self.cap)
            .min(failing_for.max(self.base));
        self.attempt = self.attempt.saturating_add(1);
        // xorshift: good enough for jitter, no dependency.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let fraction = (self.seed >> 11) as f64 / (1u64 << 53) as f64;
        let jittered = ceiling.mul_f64(fraction);
        retry_after.map_or(jittered, |r| jittered.max(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_failures_at_the_start_of_an_outage_keep_the_waits_short() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(30));
        for _ in 0..12 {
            assert!(
                b.next(None) <= Duration::from_millis(150),
                "an outage of no time yet is not waited out for seconds"
            );
        }
        b.failing_since = Some(Instant::now() - Duration::from_secs(120));
        let waits: Vec<Duration> = (0..20).map(|_| b.next(None)).collect();
        assert!(
            waits.iter().any(|w| *w > Duration::from_secs(5)),
            "a long outage backs off towards the cap: {waits:?}"
        );
    }

    #[test]
    fn waits_stay_under_the_cap_and_honour_retry_after() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        for _ in 0..50 {
            assert!(b.next(None) <= Duration::from_secs(2));
        }
        assert!(b.next(Some(Duration::from_secs(7))) >= Duration::from_secs(7));
        b.reset();
        assert!(b.next(None) <= Duration::from_millis(100));
    }
}
