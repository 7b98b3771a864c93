//! partyhost: a self-hosted server for real-time rooms whose logic is a
//! WebAssembly component.
//!
//! A client opens a WebSocket (or sends an HTTP request) to
//! `/parties/<party>/<room>`; the host finds or starts that room and calls its
//! component once per event. The modules follow that path: `server` takes
//! sockets and requests, `room` schedules each room's events, `runtime` and
//! `host_api` run the component and grant its imports, `storage` keeps each
//! room's data durable.

pub mod cli;
pub mod config;
pub mod host_api;
pub mod ids;
pub mod room;
pub mod runtime;
pub mod server;
pub mod storage;
pub mod telemetry;
pub mod tools;
