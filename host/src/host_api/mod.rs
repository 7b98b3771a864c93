//! The host side of the WIT contract: one file per imported interface, all
//! implemented on [`RoomCtx`], the data of a room's wasm store.
//!
//! Expected failures (a value too large, an unknown connection) are returned
//! to the guest as WIT errors; only a broken host invariant traps.

pub mod bindings;
mod context;
mod log;
mod parties;
mod storage;

use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::room::state::RoomState;
use crate::runtime::limits::{HookBudget, store_limits};
use crate::runtime::stdio::GuestOutput;

/// Everything a room instance's store holds: the room's host-side state and
/// what the sandbox needs.
pub struct RoomCtx {
    /// The room's connections, pending writes and outputs; outlives the
    /// instance (it is taken back when the instance is dropped).
    pub state: RoomState,
    /// The CPU budget of the running hook.
    pub budget: HookBudget,
    /// The memory cap of the instance.
    pub limits: StoreLimits,
    wasi: WasiCtx,
    table: ResourceTable,
}

impl RoomCtx {
    /// Wraps `state` for a new instance, with a WASI context that grants no
    /// files, sockets, environment or arguments, and logs what is printed.
    pub fn new(state: RoomState) -> Self {
        let wasi = WasiCtx::builder()
            .stdout(GuestOutput::new(
                state.key.clone(),
                "stdout",
                state.log_limit.clone(),
            ))
            .stderr(GuestOutput::new(
                state.key.clone(),
                "stderr",
                state.log_limit.clone(),
            ))
            .build();
        Self {
            limits: store_limits(&state.limits),
            budget: HookBudget::default(),
            state,
            wasi,
            table: ResourceTable::new(),
        }
    }
}

impl WasiView for RoomCtx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl bindings::partyhost::room::types::Host for RoomCtx {}
