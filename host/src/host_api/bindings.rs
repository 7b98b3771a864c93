//! Rust bindings generated from `wit/room.wit`.
//!
//! Storage imports are async so that a backend on the network can wait
//! without blocking the executor, and so are calls, which wait for another
//! room's answer; context imports may trap (a hook that sends past its
//! output limit); the hooks are called async so that a busy guest yields at
//! every epoch tick.
#![allow(missing_docs, reason = "generated from the documented WIT")]

wasmtime::component::bindgen!({
    world: "room",
    path: "../wit",
    imports: {
        "partyhost:room/storage": async,
        "partyhost:room/context": trappable,
        "partyhost:room/parties": async,
    },
    exports: {
        default: async,
    },
});
