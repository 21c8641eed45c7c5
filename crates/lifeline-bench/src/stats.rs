//! Percentiles and printing.

use std::time::Duration;

/// Latency samples in milliseconds.
#[derive(Debug, Default)]
pub struct Samples(Vec<f64>);

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.0.push(d.as_secs_f64() * 1000.0);
    }

    pub fn percentile(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        let i = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
        v[i.min(v.len() - 1)]
    }

    pub fn summary(&self) -> String {
        format!(
            "p50 {:>7.2} ms   p99 {:>7.2} ms   (n={})",
            self.percentile(50.0),
            self.percentile(99.0),
            self.0.len()
        )
    }
}

pub fn heading(title: &str) {
    println!("\n== {title}");
}
