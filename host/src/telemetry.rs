//! Logging and metrics: `tracing` to stderr, filtered by `RUST_LOG` (default
//! `info`), as text or JSON lines; Prometheus metrics through
//! `prometheus-client`.

use std::io::IsTerminal as _;
use std::sync::LazyLock;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable text.
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the global subscriber; a second call does nothing.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// The host's Prometheus metrics, served as text at `/metrics`.
///
/// One set per process. Counters and histograms are updated where things
/// happen; gauges of rooms and connections are read at scrape time.
pub struct Metrics {
    registry: Registry,
    rooms: Family<Vec<(&'static str, &'static str)>, Gauge>,
    connections: Gauge,
    /// Messages received from clients.
    pub messages_in: Counter,
    /// Frames written to clients.
    pub messages_out: Counter,
    /// Payload bytes received from clients.
    pub bytes_in: Counter,
    /// Payload bytes written to clients.
    pub bytes_out: Counter,
    hook_seconds: Family<Vec<(&'static str, &'static str)>, Histogram>,
    /// Seconds from a storage batch's start to its sync.
    pub commit_seconds: Histogram,
    /// Hook commits grouped into one storage sync.
    pub commit_batch: Histogram,
    traps: Family<Vec<(&'static str, &'static str)>, Counter>,
    /// Sockets closed with 1013 for not reading.
    pub slow_consumers: Counter,
    /// Modules deployed or rolled back.
    pub module_swaps: Counter,
}

/// The process's metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

fn latency_histogram() -> Histogram {
    // 50 µs to about 3 s.
    Histogram::new(exponential_buckets(0.000_05, 3.0, 11))
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("partyhost");
        let rooms = Family::default();
        registry.register(
            "rooms",
            "Live rooms by state (awake or hibernated)",
            rooms.clone(),
        );
        let connections = Gauge::default();
        registry.register(
            "connections",
            "Open WebSocket connections",
            connections.clone(),
        );
        let messages_in = Counter::default();
        registry.register(
            "messages_in",
            "Messages received from clients",
            messages_in.clone(),
        );
        let messages_out = Counter::default();
        registry.register(
            "messages_out",
            "Frames sent to clients",
            messages_out.clone(),
        );
        let bytes_in = Counter::default();
        registry.register(
            "bytes_in",
            "Payload bytes received from clients",
            bytes_in.clone(),
        );
        let bytes_out = Counter::default();
        registry.register(
            "bytes_out",
            "Payload bytes sent to clients",
            bytes_out.clone(),
        );
        let hook_seconds = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "hook_seconds",
            "Time spent in room hooks",
            hook_seconds.clone(),
        );
        let commit_seconds = latency_histogram();
        registry.register(
            "storage_commit_seconds",
            "Time to apply and sync one group commit",
            commit_seconds.clone(),
        );
        let commit_batch = Histogram::new(exponential_buckets(1.0, 2.0, 13));
        registry.register(
            "storage_commit_batch",
            "Hook commits grouped into one disk sync",
            commit_batch.clone(),
        );
        let traps = Family::default();
        registry.register("traps", "Hooks stopped, by cause", traps.clone());
        let slow_consumers = Counter::default();
        registry.register(
            "slow_consumer_closes",
            "Sockets closed with 1013 for not reading",
            slow_consumers.clone(),
        );
        let module_swaps = Counter::default();
        registry.register(
            "module_swaps",
            "Modules deployed or rolled back",
            module_swaps.clone(),
        );
        Self {
            registry,
            rooms,
            connections,
            messages_in,
            messages_out,
            bytes_in,
            bytes_out,
            hook_seconds,
            commit_seconds,
            commit_batch,
            traps,
            slow_consumers,
            module_swaps,
        }
    }

    /// Records one hook call of `hook` that took `seconds`.
    pub fn observe_hook(&self, hook: &'static str, seconds: f64) {
        self.hook_seconds
            .get_or_create(&vec![("hook", hook)])
            .observe(seconds);
    }

    /// Shows `cause` in the trap counters before any trap of it happens.
    pub fn declare_trap_cause(&self, cause: &'static str) {
        let _ = self.traps.get_or_create(&vec![("cause", cause)]);
    }

    /// Counts one hook stopped for `cause`.
    pub fn count_trap(&self, cause: &'static str) {
        self.traps.get_or_create(&vec![("cause", cause)]).inc();
    }

    /// Renders every metric in the Prometheus text format, after setting the
    /// gauges read at scrape time.
    pub fn render(&self, awake: usize, live: usize, connections: usize) -> String {
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.rooms
            .get_or_create(&vec![("state", "awake")])
            .set(gauge(awake));
        let hibernated = live.saturating_sub(awake);
        self.rooms
            .get_or_create(&vec![("state", "hibernated")])
            .set(gauge(hibernated));
        self.connections.set(gauge(connections));
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
