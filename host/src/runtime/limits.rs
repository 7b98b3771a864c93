//! Per-room limits enforced while a guest runs: the CPU deadline of a
//! hook, the memory of an instance, and the rate of its log lines.

use std::sync::Mutex;
use std::time::Instant;

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

/// A token bucket over one room's log lines (the log import and printed
/// lines alike): `rate` a second, bursts of twice that.
#[derive(Debug)]
pub struct LogLimiter {
    rate: f64,
    bucket: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
    dropped: u64,
}

/// Whether a log line may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogAdmission {
    /// Write it.
    Write,
    /// Write it, and say first that this many lines were dropped before it.
    WriteAfterDropping(u64),
    /// Drop it.
    Drop,
}

impl LogLimiter {
    /// Allows `per_second` lines a second.
    pub fn new(per_second: u32) -> Self {
        let rate = f64::from(per_second.max(1));
        Self {
            rate,
            bucket: Mutex::new(Bucket {
                tokens: rate * 2.0,
                refilled: Instant::now(),
                dropped: 0,
            }),
        }
    }

    /// Takes a token for one line, if there is one.
    pub fn admit(&self) -> LogAdmission {
        let Ok(mut bucket) = self.bucket.lock() else {
            return LogAdmission::Drop;
        };
        let now = Instant::now();
        let elapsed = now.duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.rate * 2.0);
        bucket.refilled = now;
        if bucket.tokens < 1.0 {
            bucket.dropped += 1;
            return LogAdmission::Drop;
        }
        bucket.tokens -= 1.0;
        match std::mem::take(&mut bucket.dropped) {
            0 => LogAdmission::Write,
            n => LogAdmission::WriteAfterDropping(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_limiter_allows_a_burst_then_drops_and_reports() {
        let limiter = LogLimiter::new(5);
        let admitted = (0..100)
            .filter(|_| limiter.admit() != LogAdmission::Drop)
            .count();
        assert_eq!(admitted, 10, "a burst of twice the rate");
        std::thread::sleep(std::time::Duration::from_millis(250));
        assert!(matches!(
            limiter.admit(),
            LogAdmission::WriteAfterDropping(90)
        ));
    }
}
