//! One client connection: connect from a chosen local address, read the
//! greeting, wait for the start, send reactions, watch the counts until
//! the room's last increment arrives, then idle until told to close.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures_util::{SinkExt as _, StreamExt as _};
use hdrhistogram::Histogram;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, http::Uri};

use super::tally::{self, Tally};

/// A client socket.
pub type Socket = WebSocketStream<TcpStream>;

/// Where the run is; the worker moves every client through these in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Connect and wait.
    Connect,
    /// Send and measure.
    Go,
    /// Close the socket.
    Close,
}

/// What one client does.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The room's number.
    pub room: usize,
    /// The URL to connect to.
    pub url: String,
    /// The local address to connect from.
    pub source: Ipv4Addr,
    /// The kind this client reacts with, if it sends.
    pub kind: Option<String>,
    /// Reactions to send.
    pub reactions: usize,
    /// Reactions per second, or a burst.
    pub rate: Option<f64>,
    /// The increment of the room's total count this client must see.
    pub expected: u64,
    /// Whether its own kind's count shows its own increments alone.
    pub exact_latency: bool,
    /// How long to wait for the greeting and for the last increment.
    pub timeout: Duration,
}

/// What one client measured after the start.
#[derive(Debug)]
pub struct Outcome {
    /// The room's number.
    pub room: usize,
    /// Reactions sent.
    pub sent: u64,
    /// Count messages that raised the total.
    pub deliveries: u64,
    /// How much the total count rose.
    pub increase: u64,
    /// When the last increment arrived (µs since the epoch).
    pub finished_us: u64,
    /// Send-to-own-increment latencies, in µs, for exact senders.
    pub latency: Option<Histogram<u64>>,
    /// Why the client stopped early.
    pub error: Option<String>,
}

/// Opens the socket and reads the room's greeting.
pub async fn connect(spec: &Spec) -> anyhow::Result<(Socket, Tally)> {
    let uri: Uri = spec.url.parse().context("failed to parse the url")?;
    let host = uri.host().context("url without host")?;
    let port = uri.port_u16().unwrap_or(80);
    let addr: SocketAddr = tokio::net::lookup_host((host, port))
        .await?
        .find(SocketAddr::is_ipv4)
        .context("no ipv4 address for the url's host")?;
    let socket = TcpSocket::new_v4()?;
    // Binding picks a local port before the destination is known, and
    // avoids every port still in TIME_WAIT from earlier runs: after a few
    // runs of thousands of connections that search crawls (seen: 400
    // connects/s). From 127.0.0.1, leave the choice to connect, which may
    // reuse a port towards another destination; other sources must bind,
    // and may take ports in TIME_WAIT.
    if spec.source != Ipv4Addr::LOCALHOST {
        socket.set_reuseaddr(true)?;
        socket.bind(SocketAddr::new(spec.source.into(), 0))?;
    }
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;

    // Small buffers, like a browser tab's share: the client must not be
    // what limits a run of 15,000 connections.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, _) =
        tokio_tungstenite::client_async_with_config(spec.url.as_str(), stream, Some(config))
            .await?;
    loop {
        let message = tokio::time::timeout(spec.timeout, ws.next())
            .await
            .context("no greeting")?
            .context("closed before the greeting")??;
        if let Some(tally) = parse_tally(&message, spec) {
            return Ok((ws, tally));
        }
    }
}

/// Waits for the start, reading (and answering pings) meanwhile; returns
/// whether to go on (false: told to close).
///
/// The greeting's counts stay the baseline: no reaction is sent before the
/// start, and a count message read here may already hold another client's
/// first reactions if this client sees the start late.
pub async fn wait_for_go(
    ws: &mut Socket,
    phase: &mut watch::Receiver<Phase>,
) -> anyhow::Result<bool> {
    loop {
        match *phase.borrow_and_update() {
            Phase::Go => return Ok(true),
            Phase::Close => return Ok(false),
            Phase::Connect => {}
        }
        tokio::select! {
            changed = phase.changed() => changed.context("worker gone")?,
            message = ws.next() => {
                message.context("closed before the start")??;
            }
        }
    }
}

/// Sends this client's reactions and reads counts until the room's total
/// has risen by `spec.expected`, or the timeout.
pub async fn measure(ws: Socket, spec: &Spec, baseline: Tally) -> (Socket, Outcome) {
    let (mut sink, mut stream) = ws.split();
    let (sent_at, mut pending) = mpsc::unbounded_channel::<Instant>();

    let writer = async {
        let Some(kind) = &spec.kind else {
            return Ok(0);
        };
        let text = serde_json::json!({"type": "reaction", "kind": kind}).to_string();
        let mut ticker = spec
            .rate
            .map(|r| tokio::time::interval(Duration::from_secs_f64(1.0 / r.max(0.001))));
        for _ in 0..spec.reactions {
            if let Some(ticker) = ticker.as_mut() {
                ticker.tick().await;
            }
            let _ = sent_at.send(Instant::now());
            sink.feed(Message::text(text.clone())).await?;
            if ticker.is_some() {
                sink.flush().await?;
            }
        }
        sink.flush().await?;
        anyhow::Ok(spec.reactions as u64)
    };
    let reader = read_counts(&mut stream, spec, &baseline, &mut pending);
    let (written, mut outcome) = tokio::join!(writer, reader);

    match written {
        Ok(sent) => outcome.sent = sent,
        Err(e) => outcome.error = Some(format!("failed to send: {e}")),
    }
    let ws = sink
        .reunite(stream)
        .expect("the two halves come from the same socket");
    (ws, outcome)
}

/// Reads count messages until the total rose by `spec.expected`.
async fn read_counts(
    stream: &mut futures_util::stream::SplitStream<Socket>,
    spec: &Spec,
    baseline: &Tally,
    pending: &mut mpsc::UnboundedReceiver<Instant>,
) -> Outcome {
    let deadline = tokio::time::Instant::now() + spec.timeout;
    let mut latency = (spec.kind.is_some() && spec.exact_latency)
        .then(|| Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds"));
    let mut outcome = Outcome {
        room: spec.room,
        sent: 0,
        deliveries: 0,
        increase: 0,
        finished_us: super::now_us(),
        latency: None,
        error: None,
    };
    let mut confirmed = 0;

    while outcome.increase < spec.expected {
        let message = match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(e))) => {
                outcome.error = Some(format!("socket failed: {e}"));
                break;
            }
            Ok(None) => {
                outcome.error = Some("closed by the server".to_owned());
                break;
            }
            Err(_) => {
                outcome.error = Some("timed out waiting for counts".to_owned());
                break;
            }
        };
        let Some(tally) = parse_tally(&message, spec) else {
            continue;
        };
        let increase = tally.total.saturating_sub(baseline.total);
        if increase > outcome.increase {
            outcome.deliveries += 1;
            outcome.increase = increase;
        }
        let mine = tally.mine.saturating_sub(baseline.mine);
        while confirmed < mine {
            confirmed += 1;
            if let (Some(hist), Ok(at)) = (latency.as_mut(), pending.try_recv()) {
                let _ = hist.record((at.elapsed().as_micros() as u64).max(1));
            }
        }
    }
    outcome.finished_us = super::now_us();
    outcome.latency = latency;
    outcome
}

/// Reads until told to close (answering pings), then closes the socket.
pub async fn hold(mut ws: Socket, phase: &mut watch::Receiver<Phase>) {
    while *phase.borrow_and_update() != Phase::Close {
        tokio::select! {
            changed = phase.changed() => if changed.is_err() { break },
            message = ws.next() => if !matches!(message, Some(Ok(_))) { return },
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
}

/// Returns the tally of a counts message for the client's kind.
fn parse_tally(message: &Message, spec: &Spec) -> Option<Tally> {
    let Message::Text(text) = message else {
        return None;
    };
    tally::parse(text.as_str(), spec.kind.as_deref().unwrap_or_default())
}

/// Fails unless `url` is a plain `ws://` URL: the generator only targets
/// servers on this machine, without TLS.
pub fn check_url(url: &str) -> anyhow::Result<()> {
    let uri: Uri = url.parse().context("failed to parse the url")?;
    if uri.scheme_str() != Some("ws") {
        bail!("the url must start with ws://: {url:?}");
    }
    let host = uri.host().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!("the url must name a loopback address: {url:?}");
    }
    Ok(())
}
