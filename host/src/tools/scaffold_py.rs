//! `partyhost new --lang python`: a Python room on the Python SDK
//! (`guest-sdk/python`), one `partyhost.Server` subclass in `app.py`.
//!
//! The project's `build.sh` makes a venv with the pinned componentize-py on
//! first use (or uses the Python named by `$PARTYHOST_PYTHON`), then runs
//! the SDK's `python -m partyhost_py build` with the SDK of this partyhost
//! checkout on the Python path; the SDK finds the checkout's `wit/` itself.

use std::path::Path;

use anyhow::Context as _;

/// Where this build of partyhost found the Python SDK.
const SDK_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../guest-sdk/python");

/// How to build a scaffolded Python room, run in its folder.
pub const BUILD_HINT: &str = "./build.sh";

/// The room's source; `{name}` is replaced by the room's name.
const APP_PY: &str = r#""""The `{name}` room, made by `partyhost new --lang python`.

Build: `./build.sh` writes room.wasm; serve it with
`partyhost serve --party {name}=room.wasm`.
"""

from partyhost import Server


class App(Server):
    def on_start(self):
        self.messages = 0

    def on_connect(self, conn, ctx):
        conn.send("hello from {name}")

    def on_message(self, message, sender):
        self.messages += 1
        if isinstance(message, str):
            self.room.broadcast(f"{sender.id}: {message}")
"#;

/// The build script; `{sdk}` is replaced by the SDK's folder.
const BUILD_SH: &str = r#"#!/bin/sh
# Builds room.wasm from app.py with partyhost's Python SDK.
# Uses $PARTYHOST_PYTHON if set (a Python with componentize-py installed),
# else a venv in .venv made on first use from requirements.txt.
set -eu
cd "$(dirname "$0")"
python="${PARTYHOST_PYTHON:-}"
if [ -z "$python" ]; then
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
        .venv/bin/pip install --quiet -r requirements.txt
    fi
    python=.venv/bin/python
fi
PYTHONPATH="{sdk}" exec "$python" -m partyhost_py build app.py -o room.wasm
"#;

/// Writes the Python room project `name` into `dir` (which must not exist).
pub fn create(name: &str, dir: &Path) -> anyhow::Result<()> {
    let sdk = Path::new(SDK_DIR).canonicalize().context(
        "failed to find partyhost's guest-sdk/python (partyhost new needs its checkout)",
    )?;
    let requirements = std::fs::read_to_string(sdk.join("requirements.txt"))
        .context("failed to read the Python SDK's requirements.txt")?;
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {dir:?}"))?;

    std::fs::write(dir.join("app.py"), APP_PY.replace("{name}", name))?;
    std::fs::write(dir.join("requirements.txt"), requirements)?;
    let script = dir.join("build.sh");
    std::fs::write(&script, build_script(&sdk))?;
    make_executable(&script)?;
    std::fs::write(dir.join(".gitignore"), ".venv/\n__pycache__/\nroom.wasm\n")?;
    Ok(())
}

fn build_script(sdk: &Path) -> String {
    // The path goes between double quotes in sh: escape what is special there.
    let mut quoted = String::new();
    for c in sdk.display().to_string().chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    BUILD_SH.replace("{sdk}", &quoted)
}

#[cfg(unix)]
fn make_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("failed to make {path:?} executable"))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_script_quotes_the_sdk_path() {
        let script = build_script(Path::new("/a b/$x\"y"));
        assert!(
            script.contains(r#"PYTHONPATH="/a b/\$x\"y" exec"#),
            "{script}"
        );
    }

    #[test]
    fn the_template_names_its_room() {
        let source = APP_PY.replace("{name}", "chat");
        assert!(source.contains(r#"conn.send("hello from chat")"#));
        assert!(!source.contains("{name}"));
    }
}
