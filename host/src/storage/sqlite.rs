//! The embedded backend: one SQLite file for the whole host.
//!
//! Why SQLite (through rusqlite) rather than redb: its write-ahead log gives
//! one `fsync` per transaction, which is exactly what group commit needs; its
//! durability has decades of crash testing behind it; readers never block the
//! writer; and a room's keys map onto a plain table that a PostgreSQL backend
//! can mirror for a cluster. The `bundled` feature compiles it in, so nothing
//! needs installing.
//!
//! One writer thread owns the write connection. It takes every commit that is
//! waiting, applies them all in one transaction and syncs once, then answers
//! each commit's future: this is the group commit. Reads go through a small
//! pool of read-only connections and run inline: they touch only local pages
//! and return in microseconds.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, params};
use tokio::sync::oneshot;

use super::{Backend, BackendError, Entry, KeyRange, StoredAlarm, Usage, WriteSet};
use crate::ids::{PartyName, RoomId, RoomKey};

/// Most commits applied in one transaction.
const MAX_COMMITS_PER_SYNC: usize = 4096;

/// Read connections kept open.
const READERS: usize = 4;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS kv (
        party TEXT NOT NULL,
        room TEXT NOT NULL,
        key BLOB NOT NULL,
        value BLOB NOT NULL,
        PRIMARY KEY (party, room, key)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS alarms (
        party TEXT NOT NULL,
        room TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        PRIMARY KEY (party, room)
    ) WITHOUT ROWID;
";

/// One room's write set on its way to the writer thread.
struct CommitJob {
    room: RoomKey,
    writes: Arc<WriteSet>,
    done: oneshot::Sender<Result<(), BackendError>>,
}

/// Storage in one SQLite file, with group commit.
pub struct SqliteBackend {
    /// Sends commits to the writer thread; `None` once closed.
    commits: Mutex<Option<mpsc::Sender<CommitJob>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Vec<Mutex<Connection>>,
}

impl SqliteBackend {
    /// Opens (or creates) the database file at `path`.
    pub fn open(path: &Path) -> Result<Self, BackendError> {
        let write = Connection::open(path).map_err(db_error)?;
        write
            .execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
            .map_err(db_error)?;
        write.execute_batch(SCHEMA).map_err(db_error)?;

        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let conn = Connection::open_with_flags(path, flags).map_err(db_error)?;
            readers.push(Mutex::new(conn));
        }

        let (tx, rx) = mpsc::channel();
        let writer = std::thread::Builder::new()
            .name("storage-writer".into())
            .spawn(move || run_writer(write, rx))
            .map_err(|e| BackendError::Database(format!("failed to start writer: {e}")))?;
        Ok(Self {
            commits: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            readers,
        })
    }

    /// Runs `read` on a free read connection.
    fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, BackendError> {
        // Prefer an idle connection; wait on the first one only if all are busy.
        let guard = self
            .readers
            .iter()
            .find_map(|m| m.try_lock().ok())
            .map_or_else(|| self.readers[0].lock(), Ok)
            .map_err(|_| BackendError::Database("read connection poisoned".into()))?;
        read(&guard).map_err(db_error)
    }
}

impl Backend for SqliteBackend {
    fn get<'a>(
        &'a self,
        room: &'a RoomKey,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, BackendError>> {
        let result = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT value FROM kv WHERE party = ?1 AND room = ?2 AND key = ?3",
            )?;
            stmt.query_row(
                params![room.party.as_str(), room.room.as_str(), key.as_bytes()],
                |r| r.get(0),
            )
            .optional()
        });
        async move { result }.boxed()
    }

    fn list<'a>(
        &'a self,
        room: &'a RoomKey,
        range: &'a KeyRange,
    ) -> BoxFuture<'a, Result<Vec<Entry>, BackendError>> {
        let result = self.read(|c| list_range(c, room, range));
        async move { result }.boxed()
    }

    fn usage<'a>(&'a self, room: &'a RoomKey) -> BoxFuture<'a, Result<Usage, BackendError>> {
        let result = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT count(*), coalesce(sum(length(key) + length(value)), 0) \
                 FROM kv WHERE party = ?1 AND room = ?2",
            )?;
            stmt.query_row(params![room.party.as_str(), room.room.as_str()], |r| {
                Ok(Usage {
                    keys: r.get::<_, i64>(0)?.max(0) as u64,
                    bytes: r.get::<_, i64>(1)?.max(0) as u64,
                })
            })
        });
        async move { result }.boxed()
    }

    fn alarm<'a>(&'a self, room: &'a RoomKey) -> BoxFuture<'a, Result<Option<u64>, BackendError>> {
        let result = self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT at_ms FROM alarms WHERE party = ?1 AND room = ?2")?;
            stmt.query_row(params![room.party.as_str(), room.room.as_str()], |r| {
                r.get::<_, i64>(0)
            })
            .optional()
        });
        async move { Ok(result?.map(|at| at.max(0) as u64)) }.boxed()
    }

    fn alarms(&self) -> BoxFuture<'_, Result<Vec<StoredAlarm>, BackendError>> {
        let result = self.read(|c| {
            let mut stmt = c.prepare("SELECT party, room, at_ms FROM alarms")?;
            let rows = stmt.query_map([], |r| {
                let party: String = r.get(0)?;
                let room: String = r.get(1)?;
                let at_ms: i64 = r.get(2)?;
                Ok(StoredAlarm {
                    room: RoomKey::new(PartyName::new(party), RoomId::new(room)),
                    at_ms: at_ms.max(0) as u64,
                })
            })?;
            rows.collect()
        });
        async move { result }.boxed()
    }

    fn commit(
        &self,
        room: RoomKey,
        writes: Arc<WriteSet>,
    ) -> BoxFuture<'static, Result<(), BackendError>> {
        let (done, answer) = oneshot::channel();
        let job = CommitJob { room, writes, done };
        let sent = match self.commits.lock() {
            Ok(guard) => guard.as_ref().is_some_and(|tx| tx.send(job).is_ok()),
            Err(_) => false,
        };
        async move {
            if !sent {
                return Err(BackendError::Closed);
            }
            answer.await.unwrap_or(Err(BackendError::Closed))
        }
        .boxed()
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        // Dropping the sender lets the writer finish what is queued and stop.
        if let Ok(mut guard) = self.commits.lock() {
            guard.take();
        }
        let writer = self.writer.lock().ok().and_then(|mut w| w.take());
        async move {
            if let Some(writer) = writer {
                let _ = tokio::task::spawn_blocking(move || writer.join()).await;
            }
        }
        .boxed()
    }
}

fn list_range(c: &Connection, room: &RoomKey, range: &KeyRange) -> rusqlite::Result<Vec<Entry>> {
    let order = if range.reverse { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT key, value FROM kv WHERE party = ?1 AND room = ?2 \
         AND (?3 IS NULL OR key >= ?3) AND (?4 IS NULL OR key < ?4) \
         ORDER BY key {order} LIMIT ?5"
    );
    let limit = range
        .limit
        .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            room.party.as_str(),
            room.room.as_str(),
            range.start,
            range.end,
            limit
        ],
        |r| {
            let key: Vec<u8> = r.get(0)?;
            Ok((String::from_utf8_lossy(&key).into_owned(), r.get(1)?))
        },
    )?;
    rows.collect()
}

/// The writer thread: group commits until the sender side is dropped.
fn run_writer(mut conn: Connection, jobs: mpsc::Receiver<CommitJob>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_COMMITS_PER_SYNC {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }

        let began = std::time::Instant::now();
        let result = apply_batch(&mut conn, &batch).map_err(db_error);
        let metrics = &crate::telemetry::METRICS;
        metrics
            .commit_seconds
            .observe(began.elapsed().as_secs_f64());
        metrics.commit_batch.observe(batch.len() as f64);
        if let Err(error) = &result {
            tracing::error!(commits = batch.len(), %error, "failed to commit storage batch");
        }
        for job in batch {
            let _ = job.done.send(result.clone());
        }
    }
}

/// Applies every job's writes in one transaction, synced once. A room's
/// write sets in one batch are merged first, in order: a busy room's hooks
/// often write the same keys, and the transaction then writes each once.
fn apply_batch(conn: &mut Connection, batch: &[CommitJob]) -> rusqlite::Result<()> {
    let mut rooms: Vec<(&RoomKey, Cow<'_, WriteSet>)> = Vec::new();
    let mut index: HashMap<&RoomKey, usize> = HashMap::new();
    for job in batch {
        match index.get(&job.room) {
            Some(&i) => rooms[i].1.to_mut().merge(&job.writes),
            None => {
                index.insert(&job.room, rooms.len());
                rooms.push((&job.room, Cow::Borrowed(&*job.writes)));
            }
        }
    }
    let tx = conn.transaction()?;
    for (room, writes) in &rooms {
        apply_writes(&tx, room, writes)?;
    }
    tx.commit()
}

fn apply_writes(c: &Connection, room: &RoomKey, writes: &WriteSet) -> rusqlite::Result<()> {
    let (party, id) = (room.party.as_str(), room.room.as_str());
    if writes.cleared {
        c.prepare_cached("DELETE FROM kv WHERE party = ?1 AND room = ?2")?
            .execute(params![party, id])?;
    }

    let mut put = c.prepare_cached(
        "INSERT INTO kv (party, room, key, value) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (party, room, key) DO UPDATE SET value = excluded.value",
    )?;
    let mut delete =
        c.prepare_cached("DELETE FROM kv WHERE party = ?1 AND room = ?2 AND key = ?3")?;
    for (key, value) in &writes.entries {
        match value {
            Some(v) => put.execute(params![party, id, key.as_bytes(), v])?,
            None => delete.execute(params![party, id, key.as_bytes()])?,
        };
    }

    match writes.alarm {
        Some(Some(at)) => {
            let at = i64::try_from(at).unwrap_or(i64::MAX);
            c.prepare_cached(
                "INSERT INTO alarms (party, room, at_ms) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (party, room) DO UPDATE SET at_ms = excluded.at_ms",
            )?
            .execute(params![party, id, at])?;
        }
        Some(None) => {
            c.prepare_cached("DELETE FROM alarms WHERE party = ?1 AND room = ?2")?
                .execute(params![party, id])?;
        }
        None => {}
    }
    Ok(())
}

fn db_error(e: rusqlite::Error) -> BackendError {
    BackendError::Database(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::layers;

    fn room(name: &str) -> RoomKey {
        RoomKey::new(PartyName::new("p"), RoomId::new(name))
    }

    fn writes(entries: &[(&str, Option<&str>)]) -> Arc<WriteSet> {
        let mut set = WriteSet::default();
        for (key, value) in entries {
            match value {
                Some(v) => set.put((*key).into(), v.as_bytes().to_vec()),
                None => set.delete((*key).into()),
            }
        }
        Arc::new(set)
    }

    fn names(entries: &[Entry]) -> Vec<&str> {
        entries.iter().map(|(k, _)| k.as_str()).collect()
    }

    #[tokio::test]
    async fn concurrent_commits_all_become_durable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("db");
        let backend = SqliteBackend::open(&path).expect("open");
        let commits: Vec<_> = (0..200)
            .map(|i| {
                let key = format!("k{i:03}");
                backend.commit(room(&format!("r{}", i % 7)), writes(&[(&key, Some("v"))]))
            })
            .collect();
        for result in futures_util::future::join_all(commits).await {
            result.expect("commit");
        }
        backend.close().await;

        let reopened = SqliteBackend::open(&path).expect("reopen");
        let mut total = 0;
        for r in 0..7 {
            total += reopened
                .list(&room(&format!("r{r}")), &KeyRange::default())
                .await
                .expect("list")
                .len();
        }
        assert_eq!(total, 200);
    }

    #[tokio::test]
    async fn clear_then_put_applies_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let backend = SqliteBackend::open(&dir.path().join("db")).expect("open");
        backend
            .commit(room("a"), writes(&[("x", Some("1")), ("y", Some("2"))]))
            .await
            .expect("commit");
        let mut set = WriteSet::default();
        set.clear();
        set.put("z".into(), b"3".to_vec());
        set.set_alarm(Some(42));
        backend
            .commit(room("a"), Arc::new(set))
            .await
            .expect("commit");

        let all = backend
            .list(&room("a"), &KeyRange::default())
            .await
            .expect("list");
        assert_eq!(names(&all), ["z"]);
        assert_eq!(backend.alarm(&room("a")).await.expect("alarm"), Some(42));
        assert_eq!(backend.alarms().await.expect("alarms").len(), 1);
    }

    #[tokio::test]
    async fn reads_see_pending_layers_over_the_backend() {
        let dir = tempfile::tempdir().expect("temp dir");
        let backend = SqliteBackend::open(&dir.path().join("db")).expect("open");
        let stored = writes(&[
            ("a", Some("1")),
            ("b", Some("1")),
            ("c", Some("1")),
            ("d", Some("1")),
        ]);
        backend.commit(room("r"), stored).await.expect("commit");

        // Pending: "a" and "b" deleted, "bb" added; running hook changes "c".
        let pending = writes(&[("a", None), ("b", None), ("bb", Some("2"))]);
        let running = writes(&[("c", Some("3"))]);
        let layers = [pending.as_ref(), running.as_ref()];

        let first_two = KeyRange {
            limit: Some(2),
            ..KeyRange::default()
        };
        let listed = layers::list(&backend, &room("r"), &layers, &first_two)
            .await
            .expect("list");
        assert_eq!(
            listed,
            vec![("bb".into(), b"2".to_vec()), ("c".into(), b"3".to_vec())]
        );

        let last = KeyRange {
            reverse: true,
            limit: Some(1),
            ..KeyRange::default()
        };
        let listed = layers::list(&backend, &room("r"), &layers, &last)
            .await
            .expect("list");
        assert_eq!(names(&listed), ["d"]);

        let got = layers::get(&backend, &room("r"), &layers, "a")
            .await
            .expect("get");
        assert_eq!(got, None);
        let got = layers::get(&backend, &room("r"), &layers, "d")
            .await
            .expect("get");
        assert_eq!(got, Some(b"1".to_vec()));

        let mut cleared = WriteSet::default();
        cleared.clear();
        let layers = [pending.as_ref(), &cleared];
        let listed = layers::list(&backend, &room("r"), &layers, &KeyRange::default()).await;
        assert_eq!(listed.expect("list"), vec![]);
    }
}
