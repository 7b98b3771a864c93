//! `partyhost new`: a room project that builds and runs as it is, in Rust
//! (a crate on `partyhost-guest`), TypeScript (see [`scaffold_js`]) or
//! Python (see [`scaffold_py`]).
//!
//! [`scaffold_js`]: super::scaffold_js
//! [`scaffold_py`]: super::scaffold_py

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use super::{scaffold_js, scaffold_py};

/// The language a new room is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// A Rust crate on `partyhost-guest`.
    Rust,
    /// A TypeScript npm project on the JS SDK (`guest-sdk/js`).
    Js,
    /// A Python project on the Python SDK (`guest-sdk/python`).
    Python,
}

/// Package names the partyhost workspace already uses.
const WORKSPACE_PACKAGES: &[&str] = &[
    "partyhost",
    "partyhost-guest",
    "partyhost-tests",
    "partyhost-bench",
    "reaction",
    "storage-probe",
    "hostile",
];

/// Where this build of partyhost found the guest SDK.
const SDK_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../guest-sdk");

/// Creates the room project `name` in `lang` in `parent`; returns its
/// folder.
pub fn create(name: &str, parent: &Path, lang: Lang) -> anyhow::Result<PathBuf> {
    check_name(name)?;
    let dir = parent.join(name);
    if dir.exists() {
        bail!("{dir:?} already exists");
    }
    match lang {
        Lang::Rust => create_rust(name, parent, &dir)?,
        Lang::Js => scaffold_js::create(name, &dir)?,
        Lang::Python => scaffold_py::create(name, &dir)?,
    }
    Ok(dir)
}

/// Returns how to build a project made by [`create`], as shell commands run
/// in its folder.
pub fn build_hint(lang: Lang) -> &'static str {
    match lang {
        Lang::Rust => "cargo build --target wasm32-wasip2 --release",
        Lang::Js => scaffold_js::BUILD_HINT,
        Lang::Python => scaffold_py::BUILD_HINT,
    }
}

fn check_name(name: &str) -> anyhow::Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        bail!("room name {name:?} must start with a lowercase letter and hold only a-z, 0-9, '-'");
    }
    Ok(())
}

fn create_rust(name: &str, parent: &Path, dir: &Path) -> anyhow::Result<()> {
    let sdk = Path::new(SDK_DIR)
        .canonicalize()
        .context("failed to find partyhost's guest-sdk (partyhost new needs its checkout)")?;

    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("failed to create {dir:?}"))?;
    let parent = parent
        .canonicalize()
        .context("failed to resolve the parent folder")?;
    let checkout = sdk.parent().map(Path::to_path_buf).unwrap_or_default();
    // In the checkout's rooms/ the crate joins its workspace (rooms/*);
    // anywhere else it is a workspace of its own.
    let standalone = parent != checkout.join("rooms");
    if !standalone && WORKSPACE_PACKAGES.contains(&name) {
        bail!("{name:?} is already a package of the partyhost workspace");
    }
    std::fs::write(dir.join("Cargo.toml"), manifest(name, &sdk, standalone))?;
    std::fs::write(dir.join("src/lib.rs"), room_source(name))?;
    std::fs::write(dir.join(".gitignore"), "/target/\n")?;
    Ok(())
}

fn manifest(name: &str, sdk: &Path, standalone: bool) -> String {
    let mut text = format!(
        "[package]\n\
         name = \"{name}\"\n\
         version = \"0.1.0\"\n\
         edition = \"2024\"\n\
         publish = false\n\n\
         [lib]\n\
         crate-type = [\"cdylib\"]\n\n\
         [dependencies]\n\
         partyhost-guest = {{ path = {sdk:?} }}\n"
    );
    if standalone {
        text.push_str(
            "\n# A workspace of its own, so it builds wherever it lives.\n[workspace]\n\n\
             [profile.release]\nopt-level = 3\nlto = true\nstrip = true\n",
        );
    }
    text
}

fn room_source(name: &str) -> String {
    format!(
        r#"//! The `{name}` room, made by `partyhost new`.
//!
//! Build: `cargo build --target wasm32-wasip2 --release`; serve it and
//! rebuild on every change with `partyhost dev --rooms <parent folder>`.

use partyhost_guest::{{ConnectRequest, Connection, HookResult, Message, Room, room}};

/// The room's state, kept in the instance between events.
struct App {{
    messages: u64,
}}

impl Room for App {{
    fn new() -> Self {{
        App {{ messages: 0 }}
    }}

    fn on_connect(&mut self, conn: &Connection, _req: &ConnectRequest) -> HookResult {{
        conn.send_text("hello from {name}")?;
        Ok(())
    }}

    fn on_message(&mut self, conn: &Connection, msg: Message) -> HookResult {{
        self.messages += 1;
        if let Message::Text(text) = msg {{
            room::broadcast_text(&format!("{{}}: {{text}}", conn.id()), &[]);
        }}
        Ok(())
    }}
}}

partyhost_guest::export_room!(App);
"#
    )
}
