//! Rooms: the registry of live rooms, the task that runs each one, its
//! connections, and the output gate.
//!
//! This layer sees connection ids and outbound queues, never a socket or an
//! HTTP type; `server` adapts sockets to it.

pub mod calls;
pub mod connection;
pub mod event;
pub mod gate;
pub mod gatekeeper;
pub mod hooks;
pub mod outbox;
pub mod party;
pub mod registry;
pub mod state;
pub mod task;
