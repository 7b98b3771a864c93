//! `partyhost-bench-bare`: the reaction protocol on a bare tokio WebSocket
//! server, with no Wasm and no storage. It is the limit partyhost can
//! approach on the same machine with the same client: counts live in
//! memory, and each broadcast is encoded once and shared by every socket.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use clap::Parser;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// A bare WebSocket broadcast server speaking the reaction protocol.
#[derive(Debug, Parser)]
struct Cli {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
}

/// One room: its counts and the queue of every connection in it.
#[derive(Default)]
struct Room {
    counts: BTreeMap<String, u64>,
    members: HashMap<u64, mpsc::UnboundedSender<Message>>,
}

/// Every room, by path.
type Rooms = Arc<Mutex<HashMap<String, Room>>>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The same deep accept queue as partyhost's (tokio's `bind` asks for
    // 128), so that a burst of connects is not dropped and retried.
    let listener =
        bind(&cli.listen).with_context(|| format!("failed to listen on {:?}", cli.listen))?;
    println!("bare listening on http://{}", listener.local_addr()?);
    let rooms = Rooms::default();
    let mut next_id = 0u64;
    loop {
        let (stream, _) = listener.accept().await?;
        next_id += 1;
        tokio::spawn(serve(stream, rooms.clone(), next_id));
    }
}

/// Binds a listening socket with a backlog of 4096.
fn bind(listen: &str) -> anyhow::Result<TcpListener> {
    let addr: std::net::SocketAddr = listen.parse()?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    Ok(socket.listen(4096)?)
}

/// Serves one socket until it closes.
#[allow(
    clippy::result_large_err,
    reason = "the handshake callback's error type is tungstenite's"
)]
async fn serve(stream: TcpStream, rooms: Rooms, id: u64) {
    let _ = stream.set_nodelay(true);
    let mut path = String::new();
    let remember_path = |request: &Request, response: Response| {
        path = request.uri().path().to_owned();
        Ok(response)
    };
    let config = WebSocketConfig::default()
        .read_buffer_size(1024)
        .write_buffer_size(8 * 1024);
    let Ok(ws) =
        tokio_tungstenite::accept_hdr_async_with_config(stream, remember_path, Some(config)).await
    else {
        return;
    };
    let (mut sink, mut source) = ws.split();
    let (queue, mut outbound) = mpsc::unbounded_channel();
    join(&rooms, &path, id, queue);

    let writer = async {
        while let Some(message) = outbound.recv().await {
            sink.feed(message).await?;
            // Write what is queued in one go before flushing.
            while let Ok(message) = outbound.try_recv() {
                sink.feed(message).await?;
            }
            sink.flush().await?;
        }
        anyhow::Ok(())
    };
    let reader = async {
        while let Some(Ok(message)) = source.next().await {
            if let Message::Text(text) = message {
                react(&rooms, &path, id, &text);
            }
        }
    };
    tokio::select! {
        _ = writer => {},
        () = reader => {},
    }
    leave(&rooms, &path, id);
}

/// Adds a connection to its room and greets it with the counts.
fn join(rooms: &Rooms, path: &str, id: u64, queue: mpsc::UnboundedSender<Message>) {
    let mut rooms = rooms.lock().unwrap_or_else(|e| e.into_inner());
    let room = rooms.entry(path.to_owned()).or_default();
    let _ = queue.send(Message::Text(counts_message(&room.counts)));
    room.members.insert(id, queue);
}

fn leave(rooms: &Rooms, path: &str, id: u64) {
    let mut rooms = rooms.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(room) = rooms.get_mut(path) {
        room.members.remove(&id);
        if room.members.is_empty() && room.counts.is_empty() {
            rooms.remove(path);
        }
    }
}

/// Counts a reaction and broadcasts the counts to the whole room.
fn react(rooms: &Rooms, path: &str, id: u64, text: &str) {
    let kind = match parse_reaction(text) {
        Ok(kind) => kind,
        Err(reason) => return reply_error(rooms, path, id, reason),
    };
    let mut rooms = rooms.lock().unwrap_or_else(|e| e.into_inner());
    let Some(room) = rooms.get_mut(path) else {
        return;
    };
    *room.counts.entry(kind).or_default() += 1;
    let message = Message::Text(counts_message(&room.counts));
    // Encoded once; each queue gets a cheap clone of the same bytes. Queues
    // are unbounded: this server is the limit, not a production server.
    room.members
        .retain(|_, queue| queue.send(message.clone()).is_ok());
}

fn reply_error(rooms: &Rooms, path: &str, id: u64, reason: &str) {
    let rooms = rooms.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(queue) = rooms.get(path).and_then(|room| room.members.get(&id)) {
        let text = serde_json::json!({"type": "error", "error": reason}).to_string();
        let _ = queue.send(Message::text(text));
    }
}

fn parse_reaction(text: &str) -> Result<String, &'static str> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| "message is not json")?;
    if value.get("type").and_then(|t| t.as_str()) != Some("reaction") {
        return Err("unknown message type");
    }
    match value.get("kind").and_then(|k| k.as_str()) {
        Some(kind) if !kind.is_empty() && kind.len() <= 64 => Ok(kind.to_owned()),
        _ => Err("kind must be a string of 1 to 64 bytes"),
    }
}

fn counts_message(counts: &BTreeMap<String, u64>) -> Utf8Bytes {
    serde_json::json!({"type": "counts", "counts": counts})
        .to_string()
        .into()
}
