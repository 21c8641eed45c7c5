//! Capped exponential backoff with full jitter (a random wait between zero and the cap of
//! the attempt), so desks that lost the hub together do not all return in the same second.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
    seed: u64,
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
        }
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// The next wait: uniform in [0, min(cap, base * 2^attempt)], but never less than a
    /// server's `Retry-After`.
    pub fn next(&mut self, retry_after: Option<Duration>) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << self.attempt.min(20))
            .min(self.cap);
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
