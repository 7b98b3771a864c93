//! Per-store limits: the CPU deadline of a hook and the memory of a room.

use wasmtime::{StoreContextMut, UpdateDeadline};
use wasmtime::{StoreLimits, StoreLimitsBuilder};

use super::EPOCH_TICK;
use crate::config::Limits;
use crate::host_api::RoomCtx;

/// The CPU budget of the hook now running, counted in epoch ticks.
#[derive(Debug, Default)]
pub struct HookBudget {
    ticks_left: u64,
}

impl HookBudget {
    /// Grants a fresh budget for one hook under `limits`.
    pub fn reset(&mut self, limits: &Limits) {
        let tick = EPOCH_TICK.as_millis().max(1) as u64;
        self.ticks_left = limits.hook_deadline_ms.div_ceil(tick).max(1);
    }

    /// Spends one tick; tells whether the hook may go on.
    fn spend(&mut self) -> bool {
        self.ticks_left = self.ticks_left.saturating_sub(1);
        self.ticks_left > 0
    }
}

/// Called at every epoch tick while a guest runs: yields to the executor so
/// other rooms run, and stops the guest once its budget is spent.
pub fn on_epoch_tick(mut store: StoreContextMut<'_, RoomCtx>) -> wasmtime::Result<UpdateDeadline> {
    if store.data_mut().budget.spend() {
        Ok(UpdateDeadline::Yield(1))
    } else {
        Ok(UpdateDeadline::Interrupt)
    }
}

/// Builds the memory limits of one room instance.
pub fn store_limits(limits: &Limits) -> StoreLimits {
    StoreLimitsBuilder::new()
        .memory_size(limits.room_memory_bytes)
        .instances(64)
        .tables(64)
        .memories(16)
        .trap_on_grow_failure(true)
        .build()
}
