//! A collaborative Yjs document per room, for the `y-partykit` provider (and
//! any y-websocket client).
//!
//! The room speaks the y-websocket protocol: binary frames that start with a
//! varint type, `0` sync (step 1, step 2, update), `1` awareness, `3` awareness
//! query; an auth message (`2`) and unknown types are ignored. When a client
//! connects, the room sends its sync step 1 and the awareness states it
//! knows; the client answers with its own step 1 (the room replies step 2)
//! and its step 2 (the room applies it). Every update that changes the
//! document is relayed to the other connections and appended to storage;
//! awareness updates go to every connection, the sender included (providers
//! treat that echo as a keep-alive). Text frames are the provider's markers
//! for messages it split into chunks ([`batch`]); other text is ignored.
//!
//! The document survives restarts and hibernation through room storage (see
//! [`persist`]): `on_start` loads it again. Awareness does not need storage;
//! it survives hibernation in connection state ([`presence`]).
//!
//! `GET` on the room answers what is stored, as JSON:
//! `{"bytes":1234,"snapshotChunks":1,"logEntries":3}` (`bytes` is the size of
//! the whole document as one update).

pub mod batch;
pub mod document;
pub mod persist;
pub mod presence;
mod storage_backend;

use batch::Batches;
use document::Document;
use partyhost_guest::{
    ConnectRequest, Connection, HookResult, Message, Request, Response, Room, RoomError, log, room,
};
use persist::{Appended, Persistence};
use presence::Presence;
use serde::Serialize;
use storage_backend::RoomStorage;
use yrs::encoding::write::Write;
use yrs::sync::protocol::{MSG_SYNC, MSG_SYNC_UPDATE};
use yrs::sync::{AwarenessUpdate, Message as YMessage, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::{Encode, Encoder, EncoderV1};

/// One room's document, its storage state and who is in it.
struct YjsRoom {
    doc: Document,
    persistence: Persistence,
    presence: Presence,
    batches: Batches,
    /// Set when the stored document could not be read back: the room then
    /// never compacts, so that nothing stored is overwritten or deleted.
    load_failed: bool,
}

/// What `GET` answers.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Stats {
    bytes: usize,
    snapshot_chunks: usize,
    log_entries: usize,
}

impl YjsRoom {
    /// Handles one whole y-websocket message from `conn`.
    fn handle(&mut self, conn: &Connection, bytes: &[u8]) -> HookResult {
        let message = match YMessage::decode_v1(bytes) {
            Ok(message) => message,
            Err(error) => {
                log::warn(&format!(
                    "ignoring undecodable message from {:?}: {error}",
                    conn.id()
                ));
                return Ok(());
            }
        };
        match message {
            YMessage::Sync(SyncMessage::SyncStep1(sv)) => {
                send(
                    conn,
                    YMessage::Sync(SyncMessage::SyncStep2(self.doc.diff(&sv))),
                )?;
            }
            YMessage::Sync(SyncMessage::SyncStep2(update) | SyncMessage::Update(update)) => {
                self.apply_update(conn, &update)?;
            }
            YMessage::Awareness(update) => self.apply_awareness(conn, update),
            YMessage::AwarenessQuery => {
                send(conn, YMessage::Awareness(self.presence.everyone()))?;
            }
            YMessage::Auth(_) | YMessage::Custom(..) => {
                log::debug(&format!(
                    "ignoring unsupported message from {:?}",
                    conn.id()
                ));
            }
        }
        Ok(())
    }

    /// Applies a document update, relays what it changed and stores it.
    fn apply_update(&mut self, conn: &Connection, update: &[u8]) -> HookResult {
        let change = match self.doc.apply(update) {
            Ok(Some(change)) => change,
            Ok(None) => return Ok(()),
            Err(error) => {
                log::warn(&format!("ignoring update from {:?}: {error}", conn.id()));
                return Ok(());
            }
        };
        // Nothing leaves before the hook's writes are durable, so relaying
        // first is safe; and if storing fails the clients still converge.
        room::broadcast(Message::Binary(update_frame(&change)), &[conn.id()]);
        match self.persistence.append(&mut RoomStorage, &change)? {
            Appended::Logged => Ok(()),
            Appended::LoggedCompactSoon | Appended::CompactNow => self.compact(),
        }
    }

    /// Applies an awareness update and relays what it changed to everyone.
    fn apply_awareness(&mut self, conn: &Connection, update: AwarenessUpdate) {
        let (accepted, owners) = self.presence.apply(conn.id(), update);
        if accepted.clients.is_empty() {
            return;
        }
        room::broadcast(
            Message::Binary(YMessage::Awareness(accepted).encode_v1()),
            &[],
        );
        for owner in owners {
            self.save_presence(&Connection::new(owner));
        }
    }

    /// Keeps `conn`'s awareness clients in its state blob, which outlives a
    /// hibernation; without their states if the blob is too small for them.
    fn save_presence(&self, conn: &Connection) {
        let saved = conn.set_state(Some(&self.presence.saved(conn.id(), true)));
        let saved = match saved {
            Err(RoomError::StateTooLarge(_)) => {
                conn.set_state(Some(&self.presence.saved(conn.id(), false)))
            }
            other => other,
        };
        match saved {
            Ok(()) | Err(RoomError::UnknownConnection(_)) => {}
            Err(error) => log::warn(&format!(
                "failed to save awareness of {:?}: {error}",
                conn.id()
            )),
        }
    }

    /// Stores the whole document as the new snapshot, unless loading failed.
    fn compact(&mut self) -> HookResult {
        if self.load_failed {
            return Ok(());
        }
        let snapshot = self.doc.snapshot();
        self.persistence.compact(&mut RoomStorage, &snapshot)?;
        Ok(())
    }

    /// Loads the stored document; returns whether all of it loaded.
    fn load(&mut self) -> HookResult<bool> {
        let (persistence, updates) = Persistence::load(&RoomStorage)?;
        let mut intact = true;
        if let Some(damage) = persistence.damage() {
            log::error(&format!("failed to load stored document: {damage}"));
            intact = false;
        }
        self.persistence = persistence;
        for update in updates {
            if let Err(error) = self.doc.apply(&update) {
                log::error(&format!("failed to load stored document: {error}"));
                intact = false;
            }
        }
        Ok(intact)
    }
}

/// Encodes a sync update message around `change` without copying it first.
fn update_frame(change: &[u8]) -> Vec<u8> {
    let mut encoder = EncoderV1::new();
    encoder.write_var(MSG_SYNC);
    encoder.write_var(MSG_SYNC_UPDATE);
    encoder.write_buf(change);
    encoder.to_vec()
}

/// Sends one y-websocket message to `conn`.
fn send(conn: &Connection, message: YMessage) -> Result<(), RoomError> {
    match conn.send(Message::Binary(message.encode_v1())) {
        // The connection closed meanwhile; its close event follows.
        Err(RoomError::UnknownConnection(_)) => Ok(()),
        other => other,
    }
}

impl Room for YjsRoom {
    fn new() -> Self {
        YjsRoom {
            doc: Document::new(),
            persistence: Persistence::default(),
            presence: Presence::default(),
            batches: Batches::default(),
            load_failed: false,
        }
    }

    fn on_start(&mut self) -> HookResult {
        self.load_failed = !self.load()?;
        for info in room::connections(None) {
            if let Some(blob) = &info.state {
                self.presence.restore(&info.id, blob);
            }
        }
        Ok(())
    }

    fn on_connect(&mut self, conn: &Connection, _req: &ConnectRequest) -> HookResult {
        send(
            conn,
            YMessage::Sync(SyncMessage::SyncStep1(self.doc.state_vector())),
        )?;
        let everyone = self.presence.everyone();
        if !everyone.clients.is_empty() {
            send(conn, YMessage::Awareness(everyone))?;
        }
        Ok(())
    }

    fn on_message(&mut self, conn: &Connection, msg: Message) -> HookResult {
        let whole = match msg {
            Message::Text(text) => self.batches.text(conn.id(), &text),
            Message::Binary(bytes) => self.batches.binary(conn.id(), bytes),
        };
        match whole {
            Ok(Some(bytes)) => self.handle(conn, &bytes),
            Ok(None) => Ok(()),
            Err(error) => {
                log::warn(&format!("dropping batch from {:?}: {error}", conn.id()));
                Ok(())
            }
        }
    }

    fn on_close(
        &mut self,
        conn: &Connection,
        _code: u16,
        _reason: &str,
        _clean: bool,
    ) -> HookResult {
        self.batches.forget(conn.id());
        if let Some(left) = self.presence.remove_connection(conn.id()) {
            room::broadcast(Message::Binary(YMessage::Awareness(left).encode_v1()), &[]);
        }
        // The last one out leaves a compact document for the next load.
        if room::connections(None).is_empty() && self.persistence.has_log() {
            self.compact()?;
        }
        Ok(())
    }

    fn on_request(&mut self, req: Request) -> HookResult<Response> {
        if req.method != "GET" {
            return Ok(Response::text(405, "method not allowed").with_header("allow", "GET"));
        }
        let stats = Stats {
            bytes: self.doc.snapshot().len(),
            snapshot_chunks: self.persistence.snapshot_chunks(),
            log_entries: self.persistence.log_entries(),
        };
        Ok(Response::json(200, &stats)?)
    }
}

partyhost_guest::export_room!(YjsRoom);
