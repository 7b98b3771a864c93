//! A socket's outbound queue: the room pushes, the socket task takes
//! everything queued at once.
//!
//! A broadcast pushes one frame to every socket of the room, so this queue
//! sits on the host's hottest path, and an idle socket keeps one for hours.
//! It is a `VecDeque` under a mutex that is never held across an await:
//! empty, it allocates nothing (a bounded tokio channel allocates a block of
//! 32 slots per socket up front); the room wakes the socket only when the
//! queue turns non-empty, and the socket takes the whole queue in one lock,
//! so a burst costs one wake and one lock per socket instead of one per
//! frame.
//!
//! The queue is bounded in frames and in payload bytes, counting what the
//! socket took but has not yet written, so a client that stops reading
//! cannot grow the host's memory past the limit; the room closes such a
//! socket with 1013.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;

use futures_util::task::AtomicWaker;

use super::connection::{Outbound, QueueLimit};

/// Why a push was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The queue holds its limit of frames or bytes.
    Full,
    /// The socket task is gone.
    Closed,
}

/// What both ends share.
struct Shared {
    state: Mutex<State>,
    /// The socket task, woken when the queue turns non-empty or the room
    /// drops its end.
    waker: AtomicWaker,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Outbound>,
    /// Frames queued or taken and not yet written.
    frames: usize,
    /// Payload bytes queued or taken and not yet written.
    bytes: usize,
    room_gone: bool,
    socket_gone: bool,
}

impl Shared {
    /// Locks the state. A panic while it was held cannot leave it
    /// inconsistent (every change is a push, a take or a counter), so a
    /// poisoned lock is used as it is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The room's end.
pub struct Sender {
    shared: Arc<Shared>,
    limit: QueueLimit,
}

/// The socket task's end.
pub struct Receiver {
    shared: Arc<Shared>,
}

/// Makes a queue bounded by `limit`.
pub fn outbox(limit: QueueLimit) -> (Sender, Receiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State::default()),
        waker: AtomicWaker::new(),
    });
    let sender = Sender {
        shared: shared.clone(),
        limit,
    };
    (sender, Receiver { shared })
}

/// Returns the payload length of `out`.
fn payload(out: &Outbound) -> usize {
    match out {
        Outbound::Frame(frame) => frame.len(),
        Outbound::Close(_) => 0,
    }
}

impl Sender {
    /// Queues `out` without waiting.
    pub fn push(&self, out: Outbound) -> Result<(), Refused> {
        let len = payload(&out);
        let was_empty = {
            let mut state = self.shared.lock();
            if state.socket_gone {
                return Err(Refused::Closed);
            }
            let over_bytes = len > 0 && state.bytes.saturating_add(len) > self.limit.bytes;
            if state.frames >= self.limit.frames.max(1) || over_bytes {
                return Err(Refused::Full);
            }
            state.frames += 1;
            state.bytes += len;
            let was_empty = state.queue.is_empty();
            state.queue.push_back(out);
            was_empty
        };
        // A non-empty queue has a wake on its way already: the socket takes
        // everything whenever it looks.
        if was_empty {
            self.shared.waker.wake();
        }
        Ok(())
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.shared.lock().room_gone = true;
        self.shared.waker.wake();
    }
}

impl Receiver {
    /// Waits until something is queued, then moves all of it to the end of
    /// `batch`; returns `false` once the room has dropped its end and
    /// nothing is left. Cancel-safe: nothing is taken unless it returns.
    pub async fn recv_many(&mut self, batch: &mut VecDeque<Outbound>) -> bool {
        poll_fn(|cx| {
            self.shared.waker.register(cx.waker());
            let mut state = self.shared.lock();
            if !state.queue.is_empty() {
                if batch.is_empty() {
                    // Hand over the allocation; the queue starts empty again.
                    std::mem::swap(batch, &mut state.queue);
                } else {
                    batch.extend(state.queue.drain(..));
                }
                return Poll::Ready(true);
            }
            if state.room_gone {
                return Poll::Ready(false);
            }
            Poll::Pending
        })
        .await
    }

    /// Tells the room's end that `frames` frames of `bytes` payload bytes
    /// taken by [`Receiver::recv_many`] were written (or dropped).
    pub fn written(&self, frames: usize, bytes: usize) {
        let mut state = self.shared.lock();
        state.frames = state.frames.saturating_sub(frames);
        state.bytes = state.bytes.saturating_sub(bytes);
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.socket_gone = true;
        state.queue = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::connection::{CloseReason, Frame};

    fn limit(frames: usize, bytes: usize) -> QueueLimit {
        QueueLimit { frames, bytes }
    }

    fn text(s: &str) -> Outbound {
        Outbound::Frame(Frame::text(s))
    }

    #[tokio::test]
    async fn takes_everything_queued_in_order() {
        let (tx, mut rx) = outbox(limit(10, 1000));
        for s in ["a", "b", "c"] {
            assert_eq!(tx.push(text(s)), Ok(()));
        }
        let mut batch = VecDeque::new();
        assert!(rx.recv_many(&mut batch).await);
        let got: Vec<_> = batch
            .iter()
            .map(|o| match o {
                Outbound::Frame(f) => f.clone(),
                Outbound::Close(_) => panic!("no close was queued"),
            })
            .collect();
        assert_eq!(
            got,
            vec![Frame::text("a"), Frame::text("b"), Frame::text("c")]
        );
    }

    #[tokio::test]
    async fn bounds_count_what_is_taken_until_written() {
        let (tx, mut rx) = outbox(limit(2, 10));
        assert_eq!(tx.push(text("12345")), Ok(()));
        assert_eq!(tx.push(text("12345")), Ok(()));
        assert_eq!(tx.push(text("x")), Err(Refused::Full));
        let mut batch = VecDeque::new();
        assert!(rx.recv_many(&mut batch).await);
        // Taken but not written: still counted.
        assert_eq!(tx.push(text("x")), Err(Refused::Full));
        rx.written(2, 10);
        assert_eq!(tx.push(text("1234567890")), Ok(()));
        assert_eq!(tx.push(text("1")), Err(Refused::Full), "bytes bound");
    }

    #[tokio::test]
    async fn wakes_a_waiting_socket_and_reports_the_room_gone() {
        let (tx, mut rx) = outbox(limit(10, 1000));
        let waiter = tokio::spawn(async move {
            let mut batch = VecDeque::new();
            let first = rx.recv_many(&mut batch).await;
            let second = rx.recv_many(&mut batch).await;
            (first, second, batch.len())
        });
        tokio::task::yield_now().await;
        assert_eq!(
            tx.push(Outbound::Close(CloseReason::new(1000, "bye"))),
            Ok(())
        );
        drop(tx);
        assert_eq!(waiter.await.expect("the waiter finished"), (true, false, 1));
    }

    #[test]
    fn refuses_once_the_socket_is_gone() {
        let (tx, rx) = outbox(limit(10, 1000));
        drop(rx);
        assert_eq!(tx.push(text("a")), Err(Refused::Closed));
    }
}
