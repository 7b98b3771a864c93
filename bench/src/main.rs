//! `partyhost-bench`: measurements of a real `partyhost` process on
//! loopback, printed as JSON. Every run is bounded in connections and time
//! and targets only 127.0.0.1.

mod host;
mod langs;
mod load;
mod procstat;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use host::Host;

/// Measurements of a partyhost process.
#[derive(Debug, Parser)]
struct Cli {
    /// The partyhost binary to measure [default: beside this one].
    #[arg(long, global = true)]
    host_bin: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Memory per idle connection in one hibernated room.
    Idle {
        /// Connections to hold (at most 16000).
        #[arg(long, default_value_t = 2000)]
        connections: usize,
    },
    /// Time to wake a hibernated room (instantiate + start), as the host
    /// measures it.
    Wake {
        /// Rooms to put to sleep and wake (at most 5000).
        #[arg(long, default_value_t = 500)]
        rooms: usize,
    },
    /// What a room component costs per language: compile, cached load,
    /// wake and per-message times.
    Langs(langs::LangsArgs),
    /// Rooms of clients sending reactions to a server; prints a JSON report
    /// and fails if any delivery is missing.
    Load(load::LoadArgs),
    /// One worker process of `load` (started by it).
    #[command(hide = true)]
    LoadWorker {
        /// The worker's plan, as JSON.
        plan: String,
    },
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let binary = match cli.host_bin {
        Some(path) => path,
        None => std::env::current_exe()?
            .parent()
            .context("no exe dir")?
            .join("partyhost"),
    };
    let report = match cli.command {
        Command::Idle { connections } => idle(&binary, connections.min(16_000)).await?,
        Command::Wake { rooms } => wake(&binary, rooms.min(5_000)).await?,
        Command::Langs(args) => langs::run(&binary, args).await?,
        Command::Load(args) => {
            let (report, complete) = load::run::run(args, &binary).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if !complete {
                eprintln!("error: deliveries are missing: see \"deliveries\" and \"errors\"");
                std::process::exit(1);
            }
            return Ok(());
        }
        Command::LoadWorker { plan } => {
            let plan = serde_json::from_str(&plan).context("bad worker plan")?;
            return load::worker::run(plan).await;
        }
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Opens a socket and waits for the room's greeting.
async fn open(url: &str) -> anyhow::Result<Socket> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    tokio::time::timeout(Duration::from_secs(30), ws.next())
        .await
        .context("no greeting")?;
    Ok(ws)
}

/// Waits until the host reports no awake room.
async fn until_asleep(host: &Host) -> anyhow::Result<()> {
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if host.status().await?["rooms"]["awake"] == 0 {
            return Ok(());
        }
    }
    bail!("rooms did not hibernate within 30 s")
}

async fn idle(binary: &PathBuf, connections: usize) -> anyhow::Result<serde_json::Value> {
    let host = Host::start(binary, "hibernate_after_ms = 1000")?;
    // Let the first room exist, so the baseline includes the compiled module.
    let first = open(&format!("ws://{}/parties/reaction/idle", host.addr)).await?;
    drop(first);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = host.rss_kib()?;

    let started = Instant::now();
    let mut sockets = Vec::with_capacity(connections);
    for i in 0..connections {
        let url = format!("ws://{}/parties/reaction/idle?_pk=c{i}", host.addr);
        sockets.push(open(&url).await?);
    }
    let connect_secs = started.elapsed().as_secs_f64();
    until_asleep(&host).await?;
    let after = host.rss_kib()?;
    let status = host.status().await?;
    drop(sockets);

    let per_connection = (after.saturating_sub(before)) as f64 / connections as f64;
    Ok(json!({
        "case": "idle connections in one hibernated room",
        "connections": connections,
        "open_connections_reported": status["connections"],
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_connection": (per_connection * 100.0).round() / 100.0,
        "sequential_connect_seconds": (connect_secs * 100.0).round() / 100.0,
    }))
}

async fn wake(binary: &PathBuf, rooms: usize) -> anyhow::Result<serde_json::Value> {
    let host = Host::start(binary, "hibernate_after_ms = 500")?;
    let mut sockets = Vec::with_capacity(rooms);
    for i in 0..rooms {
        sockets.push(open(&format!("ws://{}/parties/reaction/wake-{i}", host.addr)).await?);
    }
    until_asleep(&host).await?;
    let reaction = json!({"type": "reaction", "kind": "wake"}).to_string();

    // Wake each room in turn, so wakes do not queue behind each other.
    for socket in sockets.iter_mut() {
        socket.send(Message::text(reaction.clone())).await?;
        tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .context("no answer after wake")?;
    }
    let status = host.status().await?;
    Ok(json!({
        "case": "room wake (instantiate + start), host-measured",
        "rooms": rooms,
        "wakes_sampled": status["wakes"]["recent"],
        "wake_p50_us": status["wakes"]["p50_us"],
        "wake_p99_us": status["wakes"]["p99_us"],
        "note": "samples include each room's first start (during connects) and its wake",
    }))
}
