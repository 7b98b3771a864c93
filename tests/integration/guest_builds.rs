//! Building the test rooms written in languages other than Rust, with each
//! language's own build command, into `target/guest-rooms/`.
//!
//! A build is skipped when its output is newer than every file it is made
//! from (the room's sources, the SDK and `wit/`), because a JavaScript or
//! Python component takes seconds to build and the WIT rarely changes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// Where the non-Rust test rooms are written.
fn output_dir(root: &Path) -> PathBuf {
    root.join("target").join("guest-rooms")
}

/// Builds `rooms/<name>/src/server.ts` with `partyhost-js build` and returns
/// the component's path.
pub fn build_js_room(root: &Path, name: &str) -> PathBuf {
    let sdk = root.join("guest-sdk/js");
    assert!(
        sdk.join("node_modules/@bytecodealliance/componentize-js")
            .is_dir(),
        "the JS SDK's packages are missing: run `npm ci` in {}",
        sdk.display()
    );
    let room = root.join("rooms").join(name);
    let out = output_dir(root).join(format!("{name}.wasm"));
    let inputs = [
        room.join("src"),
        sdk.join("src"),
        sdk.join("bin"),
        root.join("wit"),
    ];
    if is_fresh(&out, &inputs) {
        return out;
    }

    let status = Command::new("node")
        .arg(sdk.join("bin/partyhost-js.mjs"))
        .arg("build")
        .arg(room.join("src/server.ts"))
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("failed to run node (is Node.js installed?): {e}"));
    assert!(status.success(), "failed to build the {name} room");
    out
}

/// Builds `rooms/<name>/app.py` with `python -m partyhost_py build`, from
/// the venv `.ci/run` makes at `guest-sdk/python/.venv`, and returns the
/// component's path.
pub fn build_python_room(root: &Path, name: &str) -> PathBuf {
    let sdk = root.join("guest-sdk/python");
    let python = sdk.join(".venv/bin/python");
    assert!(
        python.is_file(),
        "the Python SDK's venv is missing: run `python3 -m venv {venv} && \
         {venv}/bin/pip install -r {sdk}/requirements.txt`",
        venv = sdk.join(".venv").display(),
        sdk = sdk.display(),
    );
    let room = root.join("rooms").join(name);
    let out = output_dir(root).join(format!("{name}.wasm"));
    let inputs = [
        room.clone(),
        sdk.join("partyhost"),
        sdk.join("partyhost_py"),
        sdk.join("requirements.txt"),
        root.join("wit"),
    ];
    if is_fresh(&out, &inputs) {
        return out;
    }

    let status = Command::new(&python)
        .args(["-m", "partyhost_py", "build"])
        .arg(room.join("app.py"))
        .arg("-o")
        .arg(&out)
        .env("PYTHONPATH", &sdk)
        .status()
        .unwrap_or_else(|e| panic!("failed to run {}: {e}", python.display()));
    assert!(status.success(), "failed to build the {name} room");
    out
}

/// Returns whether `output` exists and is newer than every file under
/// `inputs`.
pub fn is_fresh(output: &Path, inputs: &[PathBuf]) -> bool {
    let Some(built) = modified(output) else {
        return false;
    };
    inputs.iter().all(|input| newest_under(input) < built)
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Returns the newest modification time of `path` and everything under it.
fn newest_under(path: &Path) -> SystemTime {
    let own = modified(path).unwrap_or(SystemTime::UNIX_EPOCH);
    let Ok(entries) = std::fs::read_dir(path) else {
        return own;
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| newest_under(&entry.path()))
        .fold(own, SystemTime::max)
}
