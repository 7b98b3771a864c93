//! The host's configuration: `partyhost.toml`, overridden by command-line
//! flags, with a documented default for every setting.
//!
//! ```toml
//! listen = "127.0.0.1:1999"
//! data = "./.partyhost"
//!
//! [parties.reaction]
//! component = "target/wasm32-wasip2/release/reaction.wasm"
//! vars = { GREETING = "hello" }
//!
//! [limits]
//! max_value_bytes = 131072
//! ```
//!
//! Component paths are relative to the config file's folder. With no party
//! configured at all, `main` and `reaction` both serve the reference reaction
//! room built into the binary.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use serde::Deserialize;

/// The address the host listens on when nothing else is said.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:1999";

/// The data directory when nothing else is said.
pub const DEFAULT_DATA_DIR: &str = "./.partyhost";

/// Everything the host needs to start serving.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The socket address to listen on (default `127.0.0.1:1999`).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Where storage and compiled modules live (default `./.partyhost`).
    #[serde(default = "default_data")]
    pub data: PathBuf,
    /// The parties, by name. Empty means the built-in reaction room serves
    /// the parties `main` and `reaction`.
    #[serde(default)]
    pub parties: BTreeMap<String, PartyConfig>,
    /// Limits on guests and clients.
    #[serde(default)]
    pub limits: Limits,
    /// The bearer token the admin API under `/_partyhost/` requires; with
    /// none (the default) the admin API is off.
    #[serde(default)]
    pub admin_token: Option<String>,
    /// A folder of static files served at `/` (relative to the config file);
    /// with none (the default) `/` serves the built-in demo page.
    #[serde(default)]
    pub static_dir: Option<PathBuf>,
    /// Whether a missing path without an extension serves the static
    /// folder's `index.html`, as single-page apps need (default false).
    #[serde(default)]
    pub spa_fallback: bool,
    /// A folder for compiled modules (relative to the config file), which
    /// hosts may share; with none (the default) `<data>/modules`.
    #[serde(default)]
    pub compile_cache: Option<PathBuf>,
}

/// One party: the component that runs its rooms and the variables it sees.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyConfig {
    /// The component file (`.wasm`), relative to the config file's folder.
    /// `builtin:reaction` names the reaction room built into the binary.
    pub component: PathBuf,
    /// Variables the room reads through the `vars` import (default none).
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
}

/// Limits on what guests and clients may do; every field has a default.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Longest storage key, in bytes (default 2048).
    pub max_key_bytes: usize,
    /// Longest storage value, in bytes (default 131072 = 128 KiB).
    pub max_value_bytes: usize,
    /// Most entries in one `get-many`, `put-many` or `delete-many` (default
    /// 128).
    pub max_batch_entries: usize,
    /// Longest per-connection state blob, in bytes (default 2048).
    pub max_state_bytes: usize,
    /// Longest message a client may send, in bytes (default 1048576 = 1 MiB).
    pub max_message_bytes: usize,
    /// Longest HTTP request body sent to a room, in bytes (default 1048576).
    pub max_request_body_bytes: usize,
    /// CPU time one hook may run before it is stopped, in milliseconds
    /// (default 1000).
    pub hook_deadline_ms: u64,
    /// Linear memory one room instance may grow to, in bytes (default
    /// 134217728 = 128 MiB).
    pub room_memory_bytes: usize,
    /// Messages queued for one slow connection before the host closes it
    /// with 1013 (default 4096).
    pub outbound_queue: usize,
    /// Payload bytes queued for one slow connection before the host closes
    /// it with 1013 (default 4194304 = 4 MiB).
    pub outbound_queue_bytes: usize,
    /// Events queued for one room before senders wait (default 1024).
    pub room_mailbox: usize,
    /// Idle time after which a room drops its instance, in milliseconds
    /// (default 10000).
    pub hibernate_after_ms: u64,
    /// Open connections one room may hold (default 32768).
    pub max_connections_per_room: usize,
    /// Open connections the whole host may hold (default 16000, below this
    /// machine's limit of 20,000 open files per process).
    pub max_connections: usize,
    /// Bytes one hook may send and broadcast, counting each payload once
    /// plus 8 bytes per recipient (default 16777216 = 16 MiB); past it the
    /// hook traps.
    pub max_output_bytes_per_hook: usize,
    /// Bytes of keys and values one room may store (default 134217728 =
    /// 128 MiB); past it a write returns `quota-exceeded`.
    pub max_storage_bytes_per_room: u64,
    /// Keys one room may store (default 100000); past it a write returns
    /// `quota-exceeded`.
    pub max_keys_per_room: u64,
    /// Log lines (log import and printed lines) one room may write per
    /// second, with bursts of twice as many; the rest are dropped and counted
    /// (default 100).
    pub log_lines_per_second: u32,
    /// How often the host pings an idle client, in milliseconds (default
    /// 30000).
    pub ping_interval_ms: u64,
    /// How long a client may stay silent (no frame, no pong) before the host
    /// closes it with 1001, in milliseconds (default 90000).
    pub client_idle_timeout_ms: u64,
    /// Live rooms (awake or asleep) the host may hold; a request for a new
    /// room past it is answered 503 (default 10000).
    pub max_rooms: usize,
    /// Time a client has to send its request headers, and then its body, in
    /// milliseconds (default 30000); a slower one is dropped.
    pub request_timeout_ms: u64,
    /// How long a room's call to another room may wait for the answer, in
    /// milliseconds (default 5000); then the call fails with `timeout`.
    pub call_timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_key_bytes: 2048,
            max_value_bytes: 128 * 1024,
            max_batch_entries: 128,
            max_state_bytes: 2048,
            max_message_bytes: 1024 * 1024,
            max_request_body_bytes: 1024 * 1024,
            hook_deadline_ms: 1000,
            room_memory_bytes: 128 * 1024 * 1024,
            outbound_queue: 4096,
            outbound_queue_bytes: 4 * 1024 * 1024,
            room_mailbox: 1024,
            hibernate_after_ms: 10_000,
            max_connections_per_room: 32_768,
            max_connections: 16_000,
            max_output_bytes_per_hook: 16 * 1024 * 1024,
            max_storage_bytes_per_room: 128 * 1024 * 1024,
            max_keys_per_room: 100_000,
            log_lines_per_second: 100,
            ping_interval_ms: 30_000,
            client_idle_timeout_ms: 90_000,
            max_rooms: 10_000,
            request_timeout_ms: 30_000,
            call_timeout_ms: 5_000,
        }
    }
}

impl Limits {
    /// Least linear memory a room may be capped at: Rust guests start with
    /// just over 1 MiB.
    const MIN_ROOM_MEMORY: usize = 2 * 1024 * 1024;

    /// Checks that every limit can be met.
    pub fn validate(&self) -> anyhow::Result<()> {
        let at_least_one = [
            ("max_key_bytes", self.max_key_bytes as u64),
            ("max_value_bytes", self.max_value_bytes as u64),
            ("max_batch_entries", self.max_batch_entries as u64),
            ("max_message_bytes", self.max_message_bytes as u64),
            ("hook_deadline_ms", self.hook_deadline_ms),
            ("outbound_queue", self.outbound_queue as u64),
            ("outbound_queue_bytes", self.outbound_queue_bytes as u64),
            ("room_mailbox", self.room_mailbox as u64),
            ("hibernate_after_ms", self.hibernate_after_ms),
            (
                "max_connections_per_room",
                self.max_connections_per_room as u64,
            ),
            ("max_connections", self.max_connections as u64),
            (
                "max_output_bytes_per_hook",
                self.max_output_bytes_per_hook as u64,
            ),
            (
                "max_storage_bytes_per_room",
                self.max_storage_bytes_per_room,
            ),
            ("max_keys_per_room", self.max_keys_per_room),
            ("log_lines_per_second", u64::from(self.log_lines_per_second)),
            ("ping_interval_ms", self.ping_interval_ms),
            ("client_idle_timeout_ms", self.client_idle_timeout_ms),
            ("max_rooms", self.max_rooms as u64),
            ("request_timeout_ms", self.request_timeout_ms),
            ("call_timeout_ms", self.call_timeout_ms),
        ];
        if let Some((name, _)) = at_least_one.iter().find(|(_, value)| *value == 0) {
            anyhow::bail!("limits.{name} must be at least 1");
        }
        if self.room_memory_bytes < Self::MIN_ROOM_MEMORY {
            anyhow::bail!(
                "limits.room_memory_bytes must be at least {} (2 MiB)",
                Self::MIN_ROOM_MEMORY
            );
        }
        Ok(())
    }

    /// Returns the hook CPU deadline as a duration.
    pub fn hook_deadline(&self) -> Duration {
        Duration::from_millis(self.hook_deadline_ms)
    }

    /// Returns the idle time before a room hibernates.
    pub fn hibernate_after(&self) -> Duration {
        Duration::from_millis(self.hibernate_after_ms)
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            data: default_data(),
            parties: BTreeMap::new(),
            limits: Limits::default(),
            admin_token: None,
            static_dir: None,
            spa_fallback: false,
            compile_cache: None,
        }
    }
}

fn default_listen() -> SocketAddr {
    DEFAULT_LISTEN
        .parse()
        .expect("the default listen address is a valid socket address")
}

fn default_data() -> PathBuf {
    PathBuf::from(DEFAULT_DATA_DIR)
}

/// The name by which a config names the reaction room built into the binary.
pub const BUILTIN_REACTION: &str = "builtin:reaction";

impl Config {
    /// Reads a config file; component paths become relative to its folder.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read config {path:?}"))?;
        let mut config: Config =
            toml::from_str(&text).with_context(|| format!("failed to parse config {path:?}"))?;

        let base = path.parent().unwrap_or(Path::new("."));
        let folders = [config.static_dir.as_mut(), config.compile_cache.as_mut()];
        for dir in folders.into_iter().flatten().filter(|d| d.is_relative()) {
            *dir = base.join(&*dir);
        }
        for party in config.parties.values_mut() {
            let is_builtin = party.component.as_os_str() == BUILTIN_REACTION;
            if !is_builtin && party.component.is_relative() {
                party.component = base.join(&party.component);
            }
        }
        Ok(config)
    }

    /// Checks that every party can be reached by a URL and every limit can
    /// be met; says which setting is wrong otherwise.
    pub fn validate(&self) -> anyhow::Result<()> {
        for name in self.parties.keys() {
            crate::ids::PartyName::check(name).map_err(anyhow::Error::msg)?;
        }
        self.limits.validate()
    }

    /// Fills in the built-in parties when none is configured.
    pub fn with_default_parties(mut self) -> Self {
        if self.parties.is_empty() {
            for name in ["main", "reaction"] {
                let party = PartyConfig {
                    component: PathBuf::from(BUILTIN_REACTION),
                    vars: BTreeMap::new(),
                };
                self.parties.insert(name.to_owned(), party);
            }
        }
        self
    }
}
