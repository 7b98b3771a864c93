//! The load generator: rooms of WebSocket clients speaking the reaction
//! protocol against any server, spread over worker processes, reported as
//! JSON.
//!
//! The parent process ([`run`]) starts the workers ([`worker`]), steps them
//! through the phases (connect, go, close) over their stdin and reads their
//! results from their stdout; each worker drives its share of the
//! connections ([`client`]).

pub mod client;
pub mod report;
pub mod run;
pub mod tally;
pub mod worker;

use std::net::Ipv4Addr;

use clap::Args;
use serde::{Deserialize, Serialize};

/// The most connections one worker holds: each process here may open
/// 20,000 files, and a worker needs a few for itself.
pub const MAX_PER_WORKER: usize = 19_000;

/// What to run: the load generator's options.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct LoadArgs {
    /// Each connection's URL; `{room}` and `{id}` are replaced, e.g.
    /// `ws://127.0.0.1:1999/parties/main/{room}?_pk={id}`. Without it, a
    /// partyhost is started for the run and measured.
    #[arg(long)]
    pub url: Option<String>,
    /// Rooms to open.
    #[arg(long, default_value_t = 1)]
    pub rooms: usize,
    /// Connections per room.
    #[arg(long = "connections", default_value_t = 100)]
    pub connections_per_room: usize,
    /// Connections per room that send reactions (the room's first ones).
    #[arg(long, default_value_t = 1)]
    pub senders: usize,
    /// Reactions each sender sends.
    #[arg(long, default_value_t = 10)]
    pub reactions: usize,
    /// Reactions per second per sender; without it senders send in a burst.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Seconds to hold every connection open after the last delivery,
    /// before the last memory sample.
    #[arg(long, default_value_t = 0.0)]
    pub hold: f64,
    /// Prefix of connection ids (`_pk`); the connection's number follows.
    #[arg(long, default_value = "c")]
    pub id_prefix: String,
    /// Prefix of room names; the room's number follows [default: a new
    /// one per run, so counts start from zero].
    #[arg(long)]
    pub room_prefix: Option<String>,
    /// Local addresses to connect from, 127.0.0.1 to 127.0.0.N, so that
    /// runs pass the ~28k ephemeral ports of one address pair.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=254))]
    pub source_ips: u8,
    /// Worker processes [default: one per 10,000 connections].
    #[arg(long)]
    pub workers: Option<usize>,
    /// Connections each worker opens at once.
    #[arg(long, default_value_t = 256)]
    pub connect_concurrency: usize,
    /// Each sender reacts with a kind of its own, so that the latency from
    /// a send to its own increment is exact with several senders per room.
    #[arg(long)]
    pub kind_per_sender: bool,
    /// Runs the senders in a worker process of their own, so that a
    /// sender's reads do not queue behind the broadcasts every other client
    /// of the same process reads (for latency: on a real network each client
    /// is its own machine).
    #[arg(long)]
    pub senders_apart: bool,
    /// Seconds a connection waits for its greeting, and then for the last
    /// increment, before it counts as failed.
    #[arg(long, default_value_t = 60.0)]
    pub timeout: f64,
    /// Server processes whose memory and CPU are sampled (repeatable).
    #[arg(long = "server-pid")]
    pub server_pids: Vec<u32>,
    /// A name for the server, copied into the report.
    #[arg(long)]
    pub label: Option<String>,
}

impl LoadArgs {
    /// Returns how many connections the run opens.
    pub fn total_connections(&self) -> usize {
        self.rooms * self.connections_per_room
    }

    /// Returns how many connections of each room send.
    pub fn senders_per_room(&self) -> usize {
        self.senders.min(self.connections_per_room)
    }

    /// Returns the increment every client of a room must see.
    pub fn expected_per_connection(&self) -> u64 {
        (self.senders_per_room() * self.reactions) as u64
    }

    /// Returns whether a sender can tell its own increment apart: with its
    /// own kind, or as the only sender of its room.
    pub fn exact_latency(&self) -> bool {
        self.kind_per_sender || self.senders_per_room() == 1
    }

    /// Tells whether connection `n` sends.
    pub fn sends(&self, n: usize) -> bool {
        n % self.connections_per_room < self.senders_per_room()
    }

    /// Returns the room, URL and source address of connection `n`.
    pub fn connection(&self, n: usize) -> (usize, usize, String, Ipv4Addr) {
        let room = n / self.connections_per_room;
        let index = n % self.connections_per_room;
        let url = self.url_for(room, &format!("{}{n}", self.id_prefix));
        let source = Ipv4Addr::new(127, 0, 0, 1 + (n % usize::from(self.source_ips)) as u8);
        (room, index, url, source)
    }
}

impl LoadArgs {
    /// Returns the URL of connection `id` in room number `room`.
    pub fn url_for(&self, room: usize, id: &str) -> String {
        let prefix = self.room_prefix.as_deref().unwrap_or("room");
        self.url
            .as_deref()
            .unwrap_or_default()
            .replace("{room}", &format!("{prefix}{room}"))
            .replace("{id}", id)
    }
}

/// Seconds since the Unix epoch, in microseconds: the clock every worker
/// process shares.
pub fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}
