//! Builds the reference reaction room (`rooms/reaction`) as a wasm component
//! and leaves it in `OUT_DIR` for `include_bytes!`, so the `partyhost` binary
//! serves the reaction room with no config and no separate build step.
//!
//! The nested cargo uses its own target directory (beside the workspace's
//! `target/`), so it never waits on the lock of the build that runs it.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const GUEST_TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("the host crate lives inside the workspace")
        .to_path_buf();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for watched in ["rooms/reaction", "guest-sdk", "wit", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    // Packagers (and the lead's quick checks) may hand in a prebuilt room.
    println!("cargo:rerun-if-env-changed=PARTYHOST_REACTION_WASM");
    if let Some(prebuilt) = env::var_os("PARTYHOST_REACTION_WASM") {
        std::fs::copy(&prebuilt, out_dir.join("reaction.wasm"))
            .unwrap_or_else(|e| panic!("failed to copy {prebuilt:?}: {e}"));
        return;
    }

    let target_dir = guest_target_dir(&out_dir);
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&root)
        .args([
            "build",
            "--profile",
            "guest",
            "--package",
            "reaction",
            "--target",
            GUEST_TARGET,
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    // Settings meant for the host build must not leak into the guest build.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        command.env_remove(var);
    }

    let status = command
        .status()
        .expect("failed to run cargo for the reaction room");
    if !status.success() {
        panic!(
            "failed to build rooms/reaction for {GUEST_TARGET}; \
             if the target is missing, run: rustup target add {GUEST_TARGET}"
        );
    }
    let built = target_dir
        .join(GUEST_TARGET)
        .join("guest")
        .join("reaction.wasm");
    std::fs::copy(&built, out_dir.join("reaction.wasm"))
        .unwrap_or_else(|e| panic!("failed to copy {built:?}: {e}"));
}

/// Returns `<cargo target dir>/guest-embed`, found as the ancestor of
/// `OUT_DIR` holding cargo's `CACHEDIR.TAG`; falls back to `OUT_DIR`.
fn guest_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map_or_else(
            || out_dir.join("guest-target"),
            |dir| dir.join("guest-embed"),
        )
}
