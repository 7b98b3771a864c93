//! `langs`: what one room component costs the host, so that the same room
//! written in different languages can be compared side by side.
//!
//! For each component: the host's time to become ready with a cold module
//! cache (compile) and with a warm one (load the cached compiled form); the
//! wake time (instantiate + start hook) of sleeping rooms, as the host
//! measures it; and, for one client sending reaction messages one at a time,
//! the message hook's mean time inside the host and the client's round trip.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::{Socket, open};

/// The admin token the measured hosts are started with.
const TOKEN: &str = "bench-token";

/// Options of the `langs` subcommand.
#[derive(Debug, clap::Args)]
pub struct LangsArgs {
    /// A reaction room component to measure, as NAME=PATH; repeatable.
    #[arg(long = "room", value_name = "NAME=PATH", required = true)]
    rooms: Vec<String>,
    /// Rooms to put to sleep and wake (at most 2000).
    #[arg(long, default_value_t = 200)]
    wake_rooms: usize,
    /// Messages to send one at a time (at most 20000).
    #[arg(long, default_value_t = 2000)]
    messages: usize,
}

/// Measures every component named in `args`.
pub async fn run(binary: &Path, args: LangsArgs) -> anyhow::Result<Value> {
    let mut results = Vec::new();
    for spec in &args.rooms {
        let (name, path) = spec
            .split_once('=')
            .with_context(|| format!("{spec:?} is not NAME=PATH"))?;
        let wake_rooms = args.wake_rooms.min(2_000);
        let messages = args.messages.clamp(1, 20_000);
        results.push(measure(binary, name, Path::new(path), wake_rooms, messages).await?);
    }
    Ok(json!({ "case": "per-language room costs", "rooms": results }))
}

async fn measure(
    binary: &Path,
    name: &str,
    component: &Path,
    wake_rooms: usize,
    messages: usize,
) -> anyhow::Result<Value> {
    // The host resolves a relative path against its config file's folder.
    let component = &component
        .canonicalize()
        .with_context(|| format!("failed to find {component:?}"))?;
    let size = std::fs::metadata(component)?.len();
    let data = tempfile::tempdir().context("failed to make a data dir")?;
    let (host, cold) = LangHost::start(binary, component, data.path())?;
    let (round_trip, hook_us) = messages_one_at_a_time(&host, messages).await?;
    let (wake_p50, wake_p99) = wakes(&host, wake_rooms).await?;
    let start_us = host.hook_mean_us("start").await?;
    drop(host);
    // The same data dir again: the compiled module comes from the cache.
    let (_host, warm) = LangHost::start(binary, component, data.path())?;

    Ok(json!({
        "room": name,
        "component_bytes": size,
        "ready_cold_compile_ms": cold.as_millis(),
        "ready_cached_ms": warm.as_millis(),
        "wake_p50_us": wake_p50,
        "wake_p99_us": wake_p99,
        "start_hook_mean_us": start_us,
        "message_hook_mean_us": hook_us,
        "round_trip_p50_us": round_trip.0,
        "round_trip_p99_us": round_trip.1,
        "messages": messages,
    }))
}

/// Sends reactions from one client, each after the last one's broadcast;
/// returns the round trip's p50 and p99 and the hook's mean, in µs.
async fn messages_one_at_a_time(
    host: &LangHost,
    messages: usize,
) -> anyhow::Result<((u64, u64), f64)> {
    let mut socket = open(&host.ws("/parties/bench/messages")).await?;
    let reaction = json!({"type": "reaction", "kind": "heart"}).to_string();
    let mut samples = Vec::with_capacity(messages);
    for _ in 0..messages {
        let sent = Instant::now();
        socket.send(Message::text(reaction.clone())).await?;
        next_text(&mut socket).await?;
        samples.push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
    }
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    Ok(((at(0.5), at(0.99)), host.hook_mean_us("message").await?))
}

async fn next_text(socket: &mut Socket) -> anyhow::Result<()> {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(10), socket.next()).await;
        match next.context("no broadcast within 10 s")? {
            Some(Ok(Message::Text(_))) => return Ok(()),
            Some(Ok(_)) => continue,
            other => bail!("socket ended: {other:?}"),
        }
    }
}

/// Opens `rooms` rooms, lets them hibernate, wakes each in turn with a
/// message; returns the host's wake p50 and p99 in µs.
async fn wakes(host: &LangHost, rooms: usize) -> anyhow::Result<(Value, Value)> {
    let mut sockets = Vec::with_capacity(rooms);
    for i in 0..rooms {
        sockets.push(open(&host.ws(&format!("/parties/bench/wake-{i}"))).await?);
    }
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if host.status().await?["rooms"]["awake"] == 0 {
            break;
        }
    }
    let reaction = json!({"type": "reaction", "kind": "wake"}).to_string();
    for socket in &mut sockets {
        socket.send(Message::text(reaction.clone())).await?;
        next_text(socket).await?;
    }
    let status = host.status().await?;
    Ok((
        status["wakes"]["p50_us"].clone(),
        status["wakes"]["p99_us"].clone(),
    ))
}

/// A host process serving one component as the party `bench`.
struct LangHost {
    child: Child,
    addr: String,
}

impl LangHost {
    /// Starts `binary` on `data`; returns it and the time until it listened
    /// (which includes loading the party's module).
    fn start(binary: &Path, component: &Path, data: &Path) -> anyhow::Result<(Self, Duration)> {
        let config = data.join("partyhost.toml");
        let text = format!(
            "admin_token = {TOKEN:?}\n[parties.bench]\ncomponent = {component:?}\n\
             [limits]\nhibernate_after_ms = 500\n"
        );
        std::fs::write(&config, text).context("failed to write config")?;
        let began = Instant::now();
        let mut child = Command::new(binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--data")
            .arg(data.join("data"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("failed to start {binary:?}"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
        let ready = began.elapsed();
        let Some(addr) = line.trim().strip_prefix("partyhost listening on http://") else {
            let _ = child.kill();
            bail!("host did not start: {line:?}");
        };
        let addr = addr.to_owned();
        Ok((Self { child, addr }, ready))
    }

    fn ws(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    async fn get(&self, path: &str) -> anyhow::Result<String> {
        let response = reqwest::Client::new()
            .get(format!("http://{}{path}", self.addr))
            .bearer_auth(TOKEN)
            .send()
            .await?;
        Ok(response.text().await?)
    }

    async fn status(&self) -> anyhow::Result<Value> {
        Ok(serde_json::from_str(
            &self.get("/_partyhost/status").await?,
        )?)
    }

    /// Returns the mean time of `hook` calls so far, in µs, from `/metrics`.
    async fn hook_mean_us(&self, hook: &str) -> anyhow::Result<f64> {
        let metrics = self.get("/metrics").await?;
        let value = |suffix: &str| -> Option<f64> {
            let prefix = format!("partyhost_hook_seconds_{suffix}{{hook=\"{hook}\"}} ");
            metrics
                .lines()
                .find_map(|l| l.strip_prefix(prefix.as_str()))
                .and_then(|v| v.trim().parse().ok())
        };
        let (sum, count) = value("sum")
            .zip(value("count"))
            .with_context(|| format!("no {hook} hook timings in /metrics"))?;
        Ok((sum / count.max(1.0) * 1e6 * 10.0).round() / 10.0)
    }
}

impl Drop for LangHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
