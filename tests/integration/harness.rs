//! The test environment: builds the room components once, starts a real
//! `partyhost` process on `127.0.0.1:0` with its data in a temp dir, and
//! gives tests WebSocket and HTTP clients with timeouts.
//!
//! The host process is killed when its handle drops, and its log is printed
//! when a test fails, so a failure never leaves a process behind or hides
//! what the host said.

use std::future::Future;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use crate::guest_builds::{build_js_room, build_python_room};

/// How long any one test may run before it fails.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The admin token every test host is configured with.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// How long a client waits for one expected message.
pub const RECV_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs a test body under [`TEST_TIMEOUT`].
pub async fn timed<F: Future<Output = ()>>(body: F) {
    timed_for(TEST_TIMEOUT, body).await;
}

/// Runs a test body that may take up to `limit` (one that compiles a crate).
pub async fn timed_for<F: Future<Output = ()>>(limit: Duration, body: F) {
    if tokio::time::timeout(limit, body).await.is_err() {
        panic!("test did not finish within {limit:?}");
    }
}

/// The room components the tests use, built for wasm32-wasip2.
pub struct Rooms {
    /// The reaction counter.
    pub reaction: PathBuf,
    /// The storage and ordering probe.
    pub probe: PathBuf,
    /// The misbehaving room.
    pub hostile: PathBuf,
    /// The collaborative Yjs document room.
    pub yjs: PathBuf,
    /// The lobby example, which reaction rooms report to.
    pub lobby: PathBuf,
    /// The rooms written in other languages, by party name (`reaction-js`,
    /// ...), built with their SDK's build command.
    pub guests: Vec<(&'static str, PathBuf)>,
}

/// Builds the test rooms once per test run and returns their paths.
pub fn rooms() -> &'static Rooms {
    static ROOMS: OnceLock<Rooms> = OnceLock::new();
    ROOMS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        // The other languages build while cargo does.
        let guests = std::thread::spawn({
            let root = root.clone();
            move || {
                vec![
                    ("reaction-js", build_js_room(&root, "reaction-js")),
                    ("reaction-py", build_python_room(&root, "reaction-py")),
                ]
            }
        });
        let output = Command::new(env!("CARGO"))
            .current_dir(&root)
            .args(["build", "--profile", "guest", "--target", "wasm32-wasip2"])
            .args(["-p", "reaction", "-p", "storage-probe", "-p", "hostile"])
            .args(["-p", "yjs"])
            .args(["-p", "lobby"])
            .args(["--message-format", "json-render-diagnostics"])
            .stderr(Stdio::inherit())
            .output()
            .expect("cargo runs");
        assert!(output.status.success(), "failed to build the test rooms");
        let find = |name: &str| -> PathBuf {
            let text = String::from_utf8_lossy(&output.stdout);
            text.lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|m| m["reason"] == "compiler-artifact")
                .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
                .filter_map(|f| f.as_str().map(PathBuf::from))
                .find(|f| {
                    f.file_name()
                        .is_some_and(|n| n == format!("{name}.wasm").as_str())
                })
                .unwrap_or_else(|| panic!("cargo built no {name}.wasm"))
        };
        Rooms {
            reaction: find("reaction"),
            probe: find("storage_probe"),
            hostile: find("hostile"),
            yjs: find("yjs"),
            lobby: find("lobby"),
            guests: guests.join().expect("the guest room builds finished"),
        }
    })
}

/// Returns the compiled-module folder every test host shares, so that a
/// large guest (a 12 MB JavaScript room) compiles once per test run, not
/// once per test.
fn compile_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("compile-cache")
}

/// A temp dir holding one host's config and data, across restarts.
pub struct TestEnv {
    dir: tempfile::TempDir,
    extra_config: String,
}

impl TestEnv {
    /// Makes an environment whose host serves the parties `main` and
    /// `reaction` (the reaction room) and `probe` (the storage probe).
    pub fn new() -> Self {
        Self::with_config("")
    }

    /// Same as [`TestEnv::new`], with extra TOML appended (a `[limits]`
    /// table, say).
    pub fn with_config(extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self {
            dir,
            extra_config: extra.to_owned(),
        }
    }

    /// Returns the environment's temp folder (config and data live in it).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Returns the data directory.
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn write_config(&self) -> PathBuf {
        let rooms = rooms();
        // Top-level keys must come before the first table.
        let extra = self.extra_config.as_str();
        let (top, tables) = if extra.trim_start().starts_with('[') {
            ("", extra)
        } else {
            (extra, "")
        };
        let config = format!(
            "admin_token = {ADMIN_TOKEN:?}\ncompile_cache = {cache:?}\n{top}\n\
             [parties.main]\ncomponent = {reaction:?}\n\
             [parties.reaction]\ncomponent = {reaction:?}\n\
             [parties.probe]\ncomponent = {probe:?}\nvars = {{ GREETING = \"hello\" }}\n\
             [parties.hostile]\ncomponent = {hostile:?}\n\
             [parties.yjs]\ncomponent = {yjs:?}\n{guests}{tables}\n",
            cache = compile_cache(),
            reaction = rooms.reaction,
            probe = rooms.probe,
            hostile = rooms.hostile,
            yjs = rooms.yjs,
            guests = guest_parties(&rooms.guests),
        );
        let path = self.dir.path().join("partyhost.toml");
        std::fs::write(&path, config).expect("write config");
        path
    }

    /// Starts a host on `127.0.0.1:0` and waits until it listens.
    pub async fn start(&self) -> Host {
        let config = self.write_config();
        let log_path = self.dir.path().join(format!("host-{}.log", unique()));
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_partyhost-test-host"))
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--data")
            .arg(self.data())
            .env("RUST_LOG", "info,partyhost=debug")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start partyhost");
        let stdout = child.stdout.take().expect("piped stdout");
        let addr = tokio::task::spawn_blocking(move || read_address(stdout))
            .await
            .expect("join");
        let Some(addr) = addr else {
            let _ = child.kill();
            panic!("host did not start:\n{}", read_tail(&log_path));
        };
        Host {
            child,
            addr,
            log: log_path,
        }
    }
}

/// Returns a `[parties.<name>]` table for each room in another language.
fn guest_parties(guests: &[(&str, PathBuf)]) -> String {
    guests
        .iter()
        .map(|(party, component)| format!("[parties.{party}]\ncomponent = {component:?}\n"))
        .collect()
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn read_address(stdout: std::process::ChildStdout) -> Option<SocketAddr> {
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).ok()?;
    line.trim()
        .strip_prefix("partyhost listening on http://")?
        .parse()
        .ok()
}

fn read_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

/// A running host process.
pub struct Host {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    log: PathBuf,
}

impl Host {
    /// Returns `http://addr{path}`.
    pub fn http(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Returns `ws://addr{path}`.
    pub fn ws(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// Opens a WebSocket to `path`.
    pub async fn connect(&self, path: &str) -> Client {
        Client::connect(&self.ws(path)).await
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it
    /// exited successfully.
    pub async fn terminate(mut self) -> bool {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "failed to send SIGTERM");
        let mut child = std::mem::replace(&mut self.child, dummy_child());
        let status = tokio::task::spawn_blocking(move || child.wait())
            .await
            .expect("join");
        status.is_ok_and(|s| s.success())
    }

    /// Kills the process with SIGKILL, as a crash would.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Returns an admin endpoint's JSON answer.
    pub async fn admin(&self, path: &str) -> Value {
        let response = reqwest::Client::new()
            .get(self.http(path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("admin request");
        assert_eq!(response.status().as_u16(), 200, "admin {path}");
        serde_json::from_str(&response.text().await.expect("body")).expect("json")
    }

    /// Returns the host's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A finished process to leave in a [`Host`] whose child was taken.
fn dummy_child() -> Child {
    let mut child = Command::new("true").spawn().expect("spawn true");
    let _ = child.wait();
    child
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- host log (tail) ----\n{}", read_tail(&self.log));
        }
    }
}

/// A WebSocket client with timeouts on every read.
pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    /// Connects to `url`, panicking if the upgrade fails.
    pub async fn connect(url: &str) -> Self {
        let (ws, _) = connect_async(url)
            .await
            .unwrap_or_else(|e| panic!("failed to connect to {url}: {e}"));
        Self { ws }
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send");
    }

    /// Sends a JSON value as a text frame.
    pub async fn send_json(&mut self, value: &Value) {
        self.send_text(&value.to_string()).await;
    }

    /// Sends a raw message.
    pub async fn send(&mut self, message: Message) {
        self.ws.send(message).await.expect("send");
    }

    /// Returns the next message (pings and pongs included), or `None` if the
    /// socket ended.
    pub async fn next(&mut self) -> Option<Message> {
        match tokio::time::timeout(RECV_TIMEOUT, self.ws.next()).await {
            Ok(Some(Ok(message))) => Some(message),
            Ok(Some(Err(_)) | None) => None,
            Err(_) => panic!("no message within {RECV_TIMEOUT:?}"),
        }
    }

    /// Returns the next text frame parsed as JSON.
    pub async fn next_json(&mut self) -> Value {
        loop {
            match self.next().await {
                Some(Message::Text(text)) => {
                    return serde_json::from_str(&text).expect("server sent JSON");
                }
                Some(Message::Ping(_) | Message::Pong(_)) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Skips messages until one satisfies `pred`, and returns it.
    pub async fn next_json_where(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let value = self.next_json().await;
            if pred(&value) {
                return value;
            }
        }
    }

    /// Sends a close frame with `code` and returns the close frame the server
    /// answered with, if any.
    pub async fn close(mut self, code: u16, reason: &str) -> Option<(u16, String)> {
        use tokio_tungstenite::tungstenite::protocol::CloseFrame;
        let frame = CloseFrame {
            code: code.into(),
            reason: reason.into(),
        };
        self.ws.send(Message::Close(Some(frame))).await.ok()?;
        self.expect_close().await
    }

    /// Reads until the server's close frame and returns its code and reason.
    pub async fn expect_close(&mut self) -> Option<(u16, String)> {
        loop {
            match self.next().await {
                Some(Message::Close(frame)) => {
                    return frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                }
                Some(_) => continue,
                None => return None,
            }
        }
    }

    /// Gives access to the raw stream.
    pub fn raw(&mut self) -> &mut WebSocketStream<MaybeTlsStream<TcpStream>> {
        &mut self.ws
    }
}

/// Sends a probe command and returns its reply (`ok` or `err` object).
pub async fn probe(client: &mut Client, id: u64, command: Value) -> Value {
    let mut command = command;
    command["id"] = id.into();
    client.send_json(&command).await;
    client.next_json_where(|v| v["id"] == id).await
}

/// Like [`probe`], but panics on an `err` reply and returns `ok`.
pub async fn probe_ok(client: &mut Client, id: u64, command: Value) -> Value {
    let reply = probe(client, id, command.clone()).await;
    assert!(
        reply.get("err").is_none(),
        "probe {command} failed: {reply}"
    );
    reply["ok"].clone()
}

/// Returns a GET's status and body.
pub async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("GET");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}
