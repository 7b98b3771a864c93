//! Integration tests: each starts a real `partyhost` process on
//! `127.0.0.1:0`, with its storage in a temp dir, and drives it with real
//! WebSocket and HTTP clients.

mod assets;
mod before;
mod browser;
mod calls;
mod context;
mod crash;
mod deploy;
mod guest_builds;
mod harness;
mod hibernation;
mod hostile;
mod limits;
mod order;
mod partysocket;
mod protocol;
mod reaction;
mod storage;
mod tools;
mod yjs;
