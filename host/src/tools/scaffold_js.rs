//! `partyhost new --lang js`: a TypeScript room on the JS SDK
//! (`guest-sdk/js`), written like a PartyKit server.
//!
//! The project depends on the SDK by a relative `file:` path into this
//! partyhost checkout, so `npm install` only links it (in well under a
//! second) and `npm run build` runs the SDK's `partyhost-js build`. The
//! SDK's own packages come from `npm ci` in `guest-sdk/js`, once per checkout.

use std::path::{Component, Path, PathBuf};

use anyhow::Context as _;

/// Where this build of partyhost found the JS SDK.
const SDK_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../guest-sdk/js");

/// How to build a scaffolded JS room, run in its folder.
pub const BUILD_HINT: &str = "npm install && npm run build";

/// The room's source; `{name}` is replaced by the room's name.
const SERVER_TS: &str = r#"// The `{name}` room, made by `partyhost new --lang js`.
//
// Build: `npm install && npm run build` writes room.wasm; serve it with
// `partyhost serve --party {name}=room.wasm`.

import type * as Party from "partyhost";

export default class Server implements Party.Server {
  messages = 0;

  constructor(readonly room: Party.Room) {}

  onConnect(conn: Party.Connection) {
    conn.send("hello from {name}");
  }

  onMessage(message: string | ArrayBuffer, sender: Party.Connection) {
    this.messages += 1;
    if (typeof message === "string") {
      this.room.broadcast(`${sender.id}: ${message}`);
    }
  }
}
"#;

const TSCONFIG: &str = r#"{
  "compilerOptions": {
    "target": "ES2022",
    "module": "ES2022",
    "moduleResolution": "Bundler",
    "lib": ["ES2022", "DOM", "DOM.Iterable"],
    "strict": true,
    "noEmit": true,
    "skipLibCheck": true
  },
  "include": ["src"]
}
"#;

/// Writes the JS room project `name` into `dir` (which must not exist).
pub fn create(name: &str, dir: &Path) -> anyhow::Result<()> {
    let sdk = Path::new(SDK_DIR)
        .canonicalize()
        .context("failed to find partyhost's guest-sdk/js (partyhost new needs its checkout)")?;
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("failed to create {dir:?}"))?;
    let project = dir
        .canonicalize()
        .context("failed to resolve the new folder")?;
    let sdk_path = relative(&project, &sdk);

    std::fs::write(dir.join("package.json"), package_json(name, &sdk_path))?;
    std::fs::write(dir.join("tsconfig.json"), TSCONFIG)?;
    std::fs::write(dir.join("src/server.ts"), SERVER_TS.replace("{name}", name))?;
    std::fs::write(dir.join(".gitignore"), "node_modules/\nroom.wasm\n")?;
    Ok(())
}

fn package_json(name: &str, sdk: &Path) -> String {
    let manifest = serde_json::json!({
        "name": name,
        "version": "0.1.0",
        "private": true,
        "type": "module",
        "scripts": { "build": "partyhost-js build src/server.ts -o room.wasm" },
        "devDependencies": { "partyhost": format!("file:{}", sdk.display()) },
    });
    // A JSON value always serializes.
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    text + "\n"
}

/// Returns the path from folder `from` to `to`; both are absolute and
/// canonical.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component<'_>> = from.components().collect();
    let to: Vec<Component<'_>> = to.components().collect();
    let shared = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let ups = std::iter::repeat_n(Component::ParentDir, from.len() - shared);
    ups.chain(to[shared..].iter().copied()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_to_the_shared_folder() {
        let path = relative(Path::new("/a/b/c"), Path::new("/a/x/y"));
        assert_eq!(path, Path::new("../../x/y"));
        assert_eq!(relative(Path::new("/a"), Path::new("/a/x")), Path::new("x"));
    }

    #[test]
    fn the_manifest_links_the_sdk_and_builds_with_partyhost_js() {
        let text = package_json("chat", Path::new("../guest-sdk/js"));
        let value: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(
            value["devDependencies"]["partyhost"],
            "file:../guest-sdk/js"
        );
        assert_eq!(
            value["scripts"]["build"],
            "partyhost-js build src/server.ts -o room.wasm"
        );
    }
}
