//! Loading a party's component: compile once, cache the compiled form on
//! disk keyed by content hash, and pre-link it into a [`RoomPre`].
//!
//! Compiling a component takes from a fraction of a second to tens of
//! seconds (a JavaScript or Python guest); loading a cached compiled form
//! takes well under a millisecond. The cache key also covers the engine's
//! settings, so a host built with other settings never loads a stale file.

use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sha2::{Digest as _, Sha256};
use wasmtime::component::Component;

use super::{Runtime, wasm_error};
use crate::host_api::RoomCtx;
use crate::host_api::bindings::RoomPre;

/// A compiled, validated and pre-linked room component.
pub struct Module {
    /// The hex SHA-256 of the component's bytes.
    pub hash: String,
    /// The size of the component, in bytes.
    pub size: usize,
    /// Instantiates rooms without re-linking.
    pub pre: RoomPre<RoomCtx>,
}

impl Module {
    /// Compiles `bytes` (or loads its cached compiled form from `cache_dir`)
    /// and checks that it is a room component. Blocking: call it off the
    /// async executor.
    pub fn load(runtime: &Runtime, bytes: &[u8], cache_dir: &Path) -> anyhow::Result<Self> {
        let hash = hex::encode(Sha256::digest(bytes));
        let cached = cache_dir.join(format!("{hash}-{}.cwasm", engine_fingerprint(runtime)));

        let (component, fresh) = match load_cached(runtime, &cached) {
            Some(component) => (component, false),
            None => {
                if let Some(problem) = header_problem(bytes) {
                    anyhow::bail!(problem);
                }
                let component = Component::new(runtime.engine(), bytes)
                    .map_err(wasm_error)
                    .context("failed to compile component")?;
                (component, true)
            }
        };

        let instance_pre = runtime
            .linker()
            .instantiate_pre(&component)
            .map_err(wasm_error)
            .context("component imports something a room may not use")?;
        let pre = RoomPre::new(instance_pre)
            .map_err(wasm_error)
            .context("component does not export the partyhost room world")?;
        // Only a component that is a room is worth keeping compiled.
        if fresh {
            store_cached(&component, cache_dir, &cached);
        }
        Ok(Self {
            hash,
            size: bytes.len(),
            pre,
        })
    }
}

fn engine_fingerprint(runtime: &Runtime) -> String {
    let mut hasher = DefaultHasher::new();
    runtime
        .engine()
        .precompile_compatibility_hash()
        .hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

fn load_cached(runtime: &Runtime, path: &PathBuf) -> Option<Component> {
    if !path.exists() {
        return None;
    }
    // SAFETY: the file was written by `store_cached` from a component this
    // host compiled, under a name that pins its content hash and the engine
    // settings; a file that fails to load is recompiled and overwritten.
    #[allow(
        unsafe_code,
        reason = "loading a compiled component this host wrote itself"
    )]
    let loaded = unsafe { Component::deserialize_file(runtime.engine(), path) };
    match loaded {
        Ok(component) => Some(component),
        Err(error) => {
            tracing::warn!(path = ?path, %error, "failed to load cached module, recompiling");
            None
        }
    }
}

fn store_cached(component: &Component, dir: &Path, path: &Path) {
    let written = component.serialize().map_err(wasm_error).and_then(|bytes| {
        std::fs::create_dir_all(dir)?;
        // Write then rename, so a crash never leaves a torn file behind; the
        // partial name is this writer's own, since hosts may share the folder.
        let unique: u64 = rand::random();
        let partial = path.with_extension(format!("{unique:016x}.partial"));
        std::fs::write(&partial, bytes)?;
        std::fs::rename(&partial, path)?;
        Ok(())
    });
    if let Err(error) = written {
        tracing::warn!(path = ?path, %error, "failed to cache compiled module");
    }
}

/// Says what is wrong with `bytes` if its header is not a component's, in
/// words an operator can act on (the parser's own message is about bytes).
fn header_problem(bytes: &[u8]) -> Option<&'static str> {
    const MAGIC: &[u8] = b"\0asm";
    const CORE: &[u8] = &[1, 0, 0, 0];
    const COMPONENT: &[u8] = &[0x0d, 0, 1, 0];
    if !bytes.starts_with(MAGIC) {
        return Some("not a WebAssembly file: upload a room component (.wasm)");
    }
    match bytes.get(4..8) {
        Some(CORE) => Some(
            "a core WebAssembly module, not a component: build the room for \
             wasm32-wasip2 (a Rust guest built for it is a component), or wrap the \
             module with `wasm-tools component new`",
        ),
        Some(COMPONENT) => None,
        _ => Some("an unknown WebAssembly version: upload a component (wasm32-wasip2)"),
    }
}
