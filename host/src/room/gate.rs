//! The output gate: what a hook sent leaves only once its writes are durable.
//!
//! After each hook the room task hands the gate that hook's write set (with
//! the future of its commit) and its outputs. Outputs leave in hook order:
//! a hook's outputs wait for its own commit and for every earlier hook's, even
//! when the hook wrote nothing, because it may have read what they wrote.
//! Meanwhile the room keeps running hooks, which read through the held write
//! sets, so one slow disk sync never stalls the room's event loop.

use std::collections::VecDeque;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::oneshot;

use super::connection::{CloseReason, Frame, Recipients, SocketKey};
use super::event::{ConnectOutcome, HttpResponse};
use crate::storage::{BackendError, WriteSet};

/// Something a hook produced that a client will see.
pub enum Output {
    /// Send `frame` to these sockets.
    Deliver {
        /// The sockets, chosen when the hook sent.
        to: Recipients,
        /// The frame, shared by every recipient.
        frame: Frame,
    },
    /// Close these sockets after what was queued before.
    Close {
        /// The sockets, chosen when the hook closed them.
        to: Recipients,
        /// The code and reason.
        reason: CloseReason,
    },
    /// Answer the connect of this socket with its outcome.
    Connect(SocketKey, oneshot::Sender<ConnectOutcome>, ConnectOutcome),
    /// Answer an HTTP request.
    Respond(oneshot::Sender<HttpResponse>, HttpResponse),
}

/// A commit under way: the writes, and the future that resolves once they
/// are durable.
pub type Commit = (Arc<WriteSet>, BoxFuture<'static, Result<(), BackendError>>);

/// One hook's held outputs, waiting on its commit.
struct Held {
    writes: Option<Arc<WriteSet>>,
    commit: Option<BoxFuture<'static, Result<(), BackendError>>>,
    outputs: Vec<Output>,
}

/// The outputs of a room's hooks whose writes are not yet durable.
#[derive(Default)]
pub struct Gate {
    held: VecDeque<Held>,
}

impl Gate {
    /// Takes a finished hook's outputs. Returns them at once when nothing
    /// needs waiting for; otherwise holds them until [`Gate::durable`].
    pub fn submit(&mut self, commit: Option<Commit>, outputs: Vec<Output>) -> Vec<Output> {
        if commit.is_none() && self.held.is_empty() {
            return outputs;
        }
        let (writes, commit) = commit.map_or((None, None), |(w, c)| (Some(w), Some(c)));
        self.held.push_back(Held {
            writes,
            commit,
            outputs,
        });
        Vec::new()
    }

    /// Tells whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Iterates over the held write sets, oldest first.
    pub fn write_sets(&self) -> impl Iterator<Item = &WriteSet> {
        self.held.iter().filter_map(|h| h.writes.as_deref())
    }

    /// Waits until the oldest held commit is durable, then returns every
    /// output that may leave. Cancel-safe: the commit stays held if dropped.
    /// On a failed commit it returns the error; the held outputs remain for
    /// [`Gate::discard`].
    pub async fn durable(&mut self) -> Result<Vec<Output>, BackendError> {
        let Some(front) = self.held.front_mut() else {
            return std::future::pending().await;
        };
        if let Some(commit) = front.commit.as_mut() {
            commit.await?;
            front.commit = None;
        }

        let mut released = Vec::new();
        while self.held.front().is_some_and(|h| h.commit.is_none()) {
            if let Some(held) = self.held.pop_front() {
                released.extend(held.outputs);
            }
        }
        Ok(released)
    }

    /// Drops everything held (after a failed commit) and returns the outputs
    /// so that waiting requests can be answered with an error.
    pub fn discard(&mut self) -> Vec<Output> {
        self.held.drain(..).flat_map(|h| h.outputs).collect()
    }
}
