//! Memory and CPU time of server processes, read from `/proc` by PID, so
//! that every server is measured the same way whatever it is written in.

use std::time::Instant;

use anyhow::Context as _;
use serde_json::{Value, json};

/// Clock ticks per second of `utime`/`stime` in `/proc/PID/stat`: Linux
/// reports them in USER_HZ, which is 100 on every architecture it supports.
const TICKS_PER_SECOND: f64 = 100.0;

/// The summed resident memory and CPU time of some processes at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    at: Instant,
    /// Resident memory, in KiB.
    pub rss_kib: u64,
    cpu_ticks: u64,
}

impl Sample {
    /// Reads every PID in `pids`; an empty list gives an all-zero sample.
    pub fn take(pids: &[u32]) -> anyhow::Result<Self> {
        let mut sample = Self {
            at: Instant::now(),
            rss_kib: 0,
            cpu_ticks: 0,
        };
        for &pid in pids {
            sample.rss_kib += rss_kib(pid)?;
            sample.cpu_ticks += cpu_ticks(pid)?;
        }
        Ok(sample)
    }

    /// Returns the CPU used between `earlier` and this sample, as a percent
    /// of one core.
    pub fn cpu_percent_since(&self, earlier: &Sample) -> f64 {
        let wall = self.at.duration_since(earlier.at).as_secs_f64();
        let cpu = self.cpu_ticks.saturating_sub(earlier.cpu_ticks) as f64 / TICKS_PER_SECOND;
        if wall > 0.0 {
            round1(100.0 * cpu / wall)
        } else {
            0.0
        }
    }

    /// Returns the CPU seconds used between `earlier` and this sample.
    pub fn cpu_seconds_since(&self, earlier: &Sample) -> f64 {
        self.cpu_ticks.saturating_sub(earlier.cpu_ticks) as f64 / TICKS_PER_SECOND
    }
}

/// Returns the report of a run's samples: memory at each point and CPU use
/// during each phase.
pub fn report(pids: &[u32], samples: &[(&str, Sample)], connections: usize) -> Value {
    if pids.is_empty() {
        return Value::Null;
    }
    let rss: serde_json::Map<String, Value> = samples
        .iter()
        .map(|(name, s)| ((*name).to_owned(), json!(s.rss_kib)))
        .collect();
    let cpu: serde_json::Map<String, Value> = samples
        .windows(2)
        .map(|w| (w[1].0.to_owned(), json!(w[1].1.cpu_percent_since(&w[0].1))))
        .collect();
    let first = samples.first().map_or(0, |(_, s)| s.rss_kib);
    let last = samples.last().map_or(0, |(_, s)| s.rss_kib);
    let per_connection = last.saturating_sub(first) as f64 / connections.max(1) as f64;
    json!({
        "pids": pids,
        "rss_kib": rss,
        "cpu_percent_of_one_core": cpu,
        "kib_per_connection": (per_connection * 100.0).round() / 100.0,
    })
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("failed to read the status of process {pid}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no VmRSS for process {pid}"))
}

fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("failed to read the stat of process {pid}"))?;
    // The command name may hold spaces and parentheses: fields start after
    // the last ')'. There, utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    match (tick(11), tick(12)) {
        (Some(user), Some(system)) => Ok(user + system),
        _ => anyhow::bail!("unreadable stat for process {pid}"),
    }
}

/// Rounds to one decimal.
pub fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}
