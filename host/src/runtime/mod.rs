//! The WebAssembly runtime: one engine for the process, the linker that
//! grants rooms their imports, and the epoch ticker behind CPU deadlines.
//!
//! Hooks run as async calls on the tokio workers. Each epoch tick lets a
//! running guest yield to the executor, so a busy room never starves the
//! others; a hook that uses up its ticks is interrupted (see
//! [`limits::HookBudget`]).

pub mod builtin;
pub mod deploy;
pub mod limits;
pub mod module;
pub mod stdio;
pub mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine};

use crate::host_api::RoomCtx;
use crate::host_api::bindings::Room;

/// How often the epoch advances; the granularity of CPU deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// The process-wide engine and linker, shared by every party and room.
pub struct Runtime {
    engine: Engine,
    linker: Linker<RoomCtx>,
    ticker_stop: Arc<AtomicBool>,
}

impl Runtime {
    /// Builds the engine and linker and starts the epoch ticker thread.
    pub fn new() -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.concurrency_support(false);
        let engine = Engine::new(&config)
            .map_err(wasm_error)
            .context("failed to create wasm engine")?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(wasm_error)
            .context("failed to link wasi")?;
        Room::add_to_linker::<RoomCtx, HasSelf<RoomCtx>>(&mut linker, |ctx| ctx)
            .map_err(wasm_error)
            .context("failed to link room imports")?;

        let ticker_stop = Arc::new(AtomicBool::new(false));
        spawn_ticker(engine.clone(), ticker_stop.clone())?;
        Ok(Self {
            engine,
            linker,
            ticker_stop,
        })
    }

    /// Returns the engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Returns the linker holding every import a room may use.
    pub fn linker(&self) -> &Linker<RoomCtx> {
        &self.linker
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// Turns wasmtime's error type into an `anyhow` error, keeping its chain.
pub fn wasm_error(error: wasmtime::Error) -> anyhow::Error {
    anyhow::anyhow!("{error:#}")
}

fn spawn_ticker(engine: Engine, stop: Arc<AtomicBool>) -> anyhow::Result<()> {
    std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .context("failed to start epoch ticker")?;
    Ok(())
}
