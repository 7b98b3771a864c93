//! Turns the workers' phase reports into the run's JSON report, and says
//! whether the run is complete: every client connected and saw every
//! reaction of its room.

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use super::LoadArgs;
use super::worker::{Connected, Done};
use crate::procstat::round1;

/// The timestamps of a run's phases, in µs since the epoch.
#[derive(Debug, Clone, Copy)]
pub struct Times {
    /// When the workers were told to connect.
    pub connect_us: u64,
    /// When the workers were told to start sending.
    pub go_us: u64,
}

/// Returns the report of a run and whether nothing is missing.
pub fn build(
    args: &LoadArgs,
    times: Times,
    connected: &[Connected],
    done: &[Done],
) -> (Value, bool) {
    let opened: usize = connected.iter().map(|c| c.connected).sum();
    let failed: usize = connected.iter().map(|c| c.failed).sum();
    let connect_end = connected
        .iter()
        .map(|c| c.finished_us)
        .max()
        .unwrap_or(times.connect_us);
    let connect_secs = secs(times.connect_us, connect_end);

    let sent: u64 = done.iter().map(|d| d.sent).sum();
    let received: u64 = done.iter().map(|d| d.deliveries).sum();
    let expected: u64 = done.iter().map(|d| d.expected).sum();
    let short: usize = done.iter().map(|d| d.short).sum();
    let accepted = accepted(done);
    let end = done
        .iter()
        .map(|d| d.finished_us)
        .max()
        .unwrap_or(times.go_us);
    let measure_secs = secs(times.go_us, end);

    let mut errors: Vec<&String> = connected.iter().flat_map(|c| &c.errors).collect();
    errors.extend(done.iter().flat_map(|d| &d.errors));
    errors.truncate(10);
    let complete = failed == 0 && short == 0 && opened == args.total_connections();
    let report = json!({
        "connect": {
            "opened": opened,
            "failed": failed,
            "seconds": round3(connect_secs),
            "per_second": rate(opened as u64, connect_secs),
        },
        "reactions": {
            "sent": sent,
            "accepted": accepted,
            "per_second": rate(accepted, measure_secs),
        },
        "deliveries": {
            "expected": expected,
            "received": received,
            "clients_short": short,
            "per_second": rate(received, measure_secs),
        },
        "send_to_last_delivery_seconds": round3(measure_secs),
        "connect_to_last_delivery_seconds": round3(secs(times.connect_us, end)),
        "latency_ms": latency(args, done),
        "complete": complete,
        "errors": errors,
    });
    (report, complete)
}

/// Returns the reactions every client of its room saw, summed over rooms.
fn accepted(done: &[Done]) -> u64 {
    let mut rooms = std::collections::BTreeMap::<usize, u64>::new();
    for (room, min) in done.iter().flat_map(|d| &d.room_min) {
        let seen = rooms.entry(*room).or_insert(u64::MAX);
        *seen = (*seen).min(*min);
    }
    rooms.values().sum()
}

fn latency(args: &LoadArgs, done: &[Done]) -> Value {
    if !args.exact_latency() || args.senders_per_room() == 0 {
        return json!({
            "note": "not measured: several senders share a kind (use --kind-per-sender)",
        });
    }
    let Ok(mut hist) = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3) else {
        return Value::Null;
    };
    for (value, count) in done.iter().flat_map(|d| &d.latency) {
        let _ = hist.record_n(*value, *count);
    }
    let ms = |q: f64| round3(hist.value_at_quantile(q) as f64 / 1000.0);
    json!({
        "samples": hist.len(),
        "p50": ms(0.5),
        "p90": ms(0.9),
        "p99": ms(0.99),
        "max": round3(hist.max() as f64 / 1000.0),
    })
}

fn secs(from_us: u64, to_us: u64) -> f64 {
    to_us.saturating_sub(from_us) as f64 / 1e6
}

fn rate(count: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        round1(count as f64 / secs)
    } else {
        0.0
    }
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}
