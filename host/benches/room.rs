//! Micro-benchmarks of a room's hot paths, through the host library's
//! public API with the built-in reaction room and real SQLite storage in a
//! temp dir: instantiating a room, one message hook round trip (event in,
//! guest call, durable commit, counts out), broadcast fan-out to N
//! connection queues, and grouped storage commits.
//!
//! Run: `cargo bench -p partyhost --bench room`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock};

use axum::extract::ws::Utf8Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures_util::FutureExt as _;
use partyhost::config::Limits;
use partyhost::ids::{ConnectionId, PartyName, RoomId, RoomKey};
use partyhost::room::connection::{Connection, Frame, Outbound, QueueLimit, SocketChannels};
use partyhost::room::event::{ConnectOutcome, RoomEvent};
use partyhost::room::hooks::new_store;
use partyhost::room::party::Party;
use partyhost::room::registry::{RoomDeps, RoomRegistry};
use partyhost::room::state::RoomState;
use partyhost::runtime::module::Module;
use partyhost::runtime::{Runtime, builtin};
use partyhost::storage::sqlite::SqliteBackend;
use partyhost::storage::{Backend, WriteSet};
use tokio::sync::oneshot;

/// A queue large enough that no benchmark fills it.
const QUEUE: QueueLimit = QueueLimit {
    frames: 4096,
    bytes: 16 << 20,
};

/// The reaction room with its dependencies, on fresh storage.
struct Fixture {
    deps: RoomDeps,
    party: Arc<Party>,
    module: Arc<Module>,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("a temp dir");
    let runtime = Arc::new(Runtime::new().expect("an engine"));
    let module = Module::load(&runtime, builtin::REACTION, dir.path()).expect("the reaction room");
    let module = Arc::new(module);
    let name = PartyName::new("main");
    let party = Arc::new(Party::new(name.clone(), Vec::new(), module.clone()));
    let backend: Arc<dyn Backend> =
        Arc::new(SqliteBackend::open(&dir.path().join("rooms.db")).expect("a database"));
    let deps = RoomDeps {
        runtime,
        parties: RwLock::new(HashMap::from([(name, party.clone())])),
        backend,
        limits: Arc::new(Limits::default()),
        calls: Default::default(),
    };
    Fixture {
        deps,
        party,
        module,
        _dir: dir,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn key(room: &str) -> RoomKey {
    RoomKey::new(PartyName::new("main"), RoomId::new(room))
}

/// A fresh store and instance of the reaction room, as a wake makes them
/// (the start hook not included).
fn instantiate(c: &mut Criterion) {
    let rt = runtime();
    let fx = fixture();
    let room = key("instantiate");
    c.bench_function("instantiate_room", |b| {
        b.iter(|| {
            let state = RoomState::new(room.clone(), fx.party.clone(), &fx.deps);
            let mut store = new_store(fx.deps.runtime.engine(), state);
            rt.block_on(fx.module.pre.instantiate_async(&mut store))
                .expect("an instance")
        })
    });
}

/// Opens a socket in `room` through the registry and reads its greeting.
fn connect(
    rt: &tokio::runtime::Runtime,
    registry: &Arc<RoomRegistry>,
    room: &RoomKey,
) -> SocketChannels {
    let url = format!(
        "http://127.0.0.1/parties/main/{}?_pk=c1",
        room.room.as_str()
    );
    let (conn, mut channels) = Connection::new(ConnectionId::new("c1"), url, QUEUE);
    let (reply, answer) = oneshot::channel();
    let event = RoomEvent::Connect {
        socket: 1,
        conn,
        headers: Vec::new(),
        reply,
    };
    rt.block_on(async {
        registry.dispatch(room, event).await.expect("dispatched");
        assert_eq!(answer.await.expect("an answer"), ConnectOutcome::Accepted);
        let mut greeting = VecDeque::new();
        assert!(
            channels.outbound.recv_many(&mut greeting).await,
            "a greeting"
        );
        channels.outbound.written(greeting.len(), 0);
    });
    channels
}

/// One reaction in, through the guest's message hook and the durable
/// commit, until the new counts reach the sender's queue.
fn message_round_trip(c: &mut Criterion) {
    let rt = runtime();
    let Fixture { deps, _dir, .. } = fixture();
    let registry = RoomRegistry::new(deps);
    let room = key("round-trip");
    let mut channels = connect(&rt, &registry, &room);
    let reaction = Frame::text(r#"{"type":"reaction","kind":"heart"}"#);
    let mut batch = VecDeque::new();
    c.bench_function("message_hook_round_trip", |b| {
        b.iter(|| {
            rt.block_on(async {
                let event = RoomEvent::Message {
                    socket: 1,
                    frame: reaction.clone(),
                };
                registry.dispatch(&room, event).await.expect("dispatched");
                assert!(channels.outbound.recv_many(&mut batch).await, "new counts");
                channels.outbound.written(batch.len(), 0);
                batch.clear();
            })
        })
    });
}

/// One encoded counts message queued for every socket of a room, then
/// taken off each queue as the socket tasks would.
fn broadcast_fan_out(c: &mut Criterion) {
    let mut group = c.benchmark_group("broadcast_fan_out");
    let frame = Frame::Text(Utf8Bytes::from_static(
        r#"{"type":"counts","counts":{"heart":12345}}"#,
    ));
    let mut batch = VecDeque::new();
    for n in [100usize, 1_000, 10_000] {
        let (mut conns, mut queues): (Vec<_>, Vec<_>) = (0..n)
            .map(|i| Connection::new(ConnectionId::new(format!("c{i}")), String::new(), QUEUE))
            .unzip();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                for conn in conns.iter_mut() {
                    conn.deliver(Outbound::Frame(frame.clone()));
                }
                for queue in queues.iter_mut() {
                    let taken = queue.outbound.recv_many(&mut batch).now_or_never();
                    assert_eq!(taken, Some(true), "a frame was queued");
                    let bytes = batch.iter().map(|out| match out {
                        Outbound::Frame(frame) => frame.len(),
                        Outbound::Close(_) => 0,
                    });
                    queue.outbound.written(batch.len(), bytes.sum());
                    batch.clear();
                }
            })
        });
    }
    group.finish();
}

/// Commits of one counter update each, `n` rooms at once, so the writer
/// groups them into shared transactions.
fn storage_commit(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("a temp dir");
    let backend = Arc::new(SqliteBackend::open(&dir.path().join("rooms.db")).expect("a database"));
    let mut group = c.benchmark_group("storage_commit");
    for n in [1usize, 64] {
        let rooms: Vec<RoomKey> = (0..n).map(|i| key(&format!("commit-{i}"))).collect();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            let mut count = 0u64;
            b.iter(|| {
                count += 1;
                let mut writes = WriteSet::default();
                writes.put("count:heart".to_owned(), count.to_le_bytes().to_vec());
                let writes = Arc::new(writes);
                let commits = rooms
                    .iter()
                    .map(|room| backend.commit(room.clone(), writes.clone()));
                rt.block_on(futures_util::future::try_join_all(commits))
                    .expect("committed")
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    instantiate,
    message_round_trip,
    broadcast_fan_out,
    storage_commit
);
criterion_main!(benches);
