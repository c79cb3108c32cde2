//! What a run measures: counters, HDR latency histograms, the server process's CPU time and
//! resident memory read from `/proc/<pid>`, and the CPU time of every PostgreSQL process on
//! the machine (the database's share of the work, for ours and the baseline alike).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// Counters and latencies of one measured window.
pub struct Window {
    pub sent: AtomicU64,
    pub acked: AtomicU64,
    pub failed: AtomicU64,
    pub delivered: AtomicU64,
    pub duplicated: AtomicU64,
    pub reordered: AtomicU64,
    pub lost: AtomicU64,
    pub inbox: AtomicU64,
    ack: Mutex<Histogram<u64>>,
    delivery: Mutex<Histogram<u64>>,
}

impl Default for Window {
    fn default() -> Self {
        // Microseconds, up to 10 minutes, 3 significant digits.
        let histogram = || Histogram::new_with_bounds(1, 600_000_000, 3).expect("bounds");
        Self {
            sent: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            duplicated: AtomicU64::new(0),
            reordered: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            inbox: AtomicU64::new(0),
            ack: Mutex::new(histogram()),
            delivery: Mutex::new(histogram()),
        }
    }
}

fn micros(latency: Duration) -> u64 {
    u64::try_from(latency.as_micros())
        .unwrap_or(u64::MAX)
        .clamp(1, 600_000_000)
}

impl Window {
    pub fn record_ack(&self, latency: Duration) {
        self.acked.fetch_add(1, Ordering::Relaxed);
        let _ = self.ack.lock().expect("histogram").record(micros(latency));
    }

    pub fn record_delivery(&self, latency: Duration) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
        let _ = self
            .delivery
            .lock()
            .expect("histogram")
            .record(micros(latency));
    }

    /// p99 delivery latency in milliseconds.
    pub fn delivery_p99_ms(&self) -> f64 {
        self.delivery
            .lock()
            .expect("histogram")
            .value_at_quantile(0.99) as f64
            / 1000.0
    }

    /// Whether anything went wrong (lost, duplicated, reordered or refused).
    pub fn faults(&self) -> u64 {
        [&self.lost, &self.duplicated, &self.reordered, &self.failed]
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    fn percentiles(histogram: &Mutex<Histogram<u64>>) -> Value {
        let h = histogram.lock().expect("histogram");
        let ms = |q: f64| (h.value_at_quantile(q) as f64 / 1000.0 * 100.0).round() / 100.0;
        json!({"p50": ms(0.5), "p99": ms(0.99), "p999": ms(0.999), "max": ms(1.0)})
    }

    /// The window as JSON, with the server's usage over it.
    pub fn to_json(&self, elapsed: Duration, usage: Usage) -> Value {
        let count = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let delivered = count(&self.delivered);
        let per_delivered = |seconds: f64| {
            if delivered == 0 {
                0.0
            } else {
                seconds * 1e6 / delivered as f64
            }
        };
        let sent = count(&self.sent);
        let per_sent = |seconds: f64| {
            if sent == 0 {
                0.0
            } else {
                seconds * 1e6 / sent as f64
            }
        };
        json!({
            "sent": sent,
            "acked": count(&self.acked),
            "failed": count(&self.failed),
            "delivered": delivered,
            "lost": count(&self.lost),
            "duplicated": count(&self.duplicated),
            "reordered": count(&self.reordered),
            "inboxEvents": count(&self.inbox),
            "seconds": elapsed.as_secs_f64(),
            "deliveredPerSecond": delivered as f64 / elapsed.as_secs_f64(),
            "ackMs": Self::percentiles(&self.ack),
            "deliveryMs": Self::percentiles(&self.delivery),
            "serverCpuSeconds": usage.cpu_seconds,
            "serverCpuMicrosPerDelivered": per_delivered(usage.cpu_seconds),
            "postgresCpuSeconds": usage.postgres_cpu_seconds,
            "postgresCpuMicrosPerDelivered": per_delivered(usage.postgres_cpu_seconds),
            "postgresCpuMicrosPerSent": per_sent(usage.postgres_cpu_seconds),
            "brokerCpuSeconds": usage.broker_cpu_seconds,
            "brokerCpuMicrosPerDelivered": per_delivered(usage.broker_cpu_seconds),
            "loadgenCpuSeconds": usage.loadgen_cpu_seconds,
            "serverRssBytes": usage.rss_bytes,
        })
    }
}

/// A server process's CPU seconds (user + system) and resident memory, and PostgreSQL's
/// CPU seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub cpu_seconds: f64,
    pub rss_bytes: u64,
    pub postgres_cpu_seconds: f64,
    /// Every `nats-server` process's CPU seconds (the broker of a NATS deployment).
    pub broker_cpu_seconds: f64,
    /// This load generator's own CPU seconds (it shares the machine).
    pub loadgen_cpu_seconds: f64,
}

impl Usage {
    /// Reads `/proc/<pid>` of every node and sums them (zeros for a pid that cannot be
    /// read), with PostgreSQL's and the broker's CPU.
    pub fn of(pids: &[u32]) -> Self {
        Self {
            cpu_seconds: pids
                .iter()
                .map(|pid| cpu_seconds(*pid).unwrap_or(0.0))
                .sum(),
            rss_bytes: pids.iter().map(|pid| rss_bytes(*pid).unwrap_or(0)).sum(),
            postgres_cpu_seconds: cpu_seconds_of("postgres"),
            broker_cpu_seconds: cpu_seconds_of("nats-server"),
            loadgen_cpu_seconds: cpu_seconds(std::process::id()).unwrap_or(0.0),
        }
    }

    /// CPU used since `earlier`, with the current RSS.
    pub fn since(self, earlier: Usage) -> Usage {
        Usage {
            cpu_seconds: self.cpu_seconds - earlier.cpu_seconds,
            rss_bytes: self.rss_bytes,
            postgres_cpu_seconds: self.postgres_cpu_seconds - earlier.postgres_cpu_seconds,
            broker_cpu_seconds: self.broker_cpu_seconds - earlier.broker_cpu_seconds,
            loadgen_cpu_seconds: self.loadgen_cpu_seconds - earlier.loadgen_cpu_seconds,
        }
    }
}

/// Linux reports CPU time in clock ticks of 1/100 s (USER_HZ) on every mainstream platform.
const TICKS_PER_SECOND: f64 = 100.0;

fn cpu_seconds(pid: u32) -> Option<f64> {
    let (_, fields) = stat(&pid.to_string())?;
    Some(ticks(&fields, 11..=12)? / TICKS_PER_SECOND)
}

/// Every process named `command`'s CPU seconds, with those of its children that exited
/// (the kernel adds a reaped child's time to its parent's `cutime`/`cstime`).
fn cpu_seconds_of(name: &str) -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    let ticks: f64 = entries
        .flatten()
        .filter_map(|entry| stat(entry.file_name().to_str()?))
        .filter(|(command, _)| command == name)
        .filter_map(|(_, fields)| ticks(&fields, 11..=14))
        .sum();
    ticks / TICKS_PER_SECOND
}

/// `/proc/<pid>/stat`: the command name and the fields after it (it may hold spaces).
fn stat(pid: &str) -> Option<(String, Vec<String>)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (head, tail) = stat.rsplit_once(')')?;
    let command = head.split_once('(')?.1.to_owned();
    Some((
        command,
        tail.split_whitespace().map(str::to_owned).collect(),
    ))
}

/// The sum of the tick counts in `fields[range]`.
fn ticks(fields: &[String], range: std::ops::RangeInclusive<usize>) -> Option<f64> {
    range
        .map(|i| fields.get(i)?.parse::<f64>().ok())
        .sum::<Option<f64>>()
}

fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_process() {
        let me = Usage::of(&[std::process::id()]);
        assert!(me.rss_bytes > 0);
        assert!(me.cpu_seconds >= 0.0);
    }
}
