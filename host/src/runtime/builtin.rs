//! The reference reaction room, built from `rooms/reaction` by the build
//! script and embedded, so that the binary serves it with no config at all.

/// The reaction room component's bytes.
pub static REACTION: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/reaction.wasm"));
