//! `partyhost dev`: serves every room crate under a folder, watches their
//! sources, and on a change rebuilds the crate and hot-swaps it into the
//! running host. A build error is printed and the old version keeps serving.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use notify::{RecursiveMode, Watcher as _};
use sha2::Digest as _;
use tokio::sync::mpsc;

use crate::config::{Config, PartyConfig};
use crate::runtime::deploy::HotLoader;
use crate::server::Server;

/// How long to wait for a burst of file events to settle before building.
const SETTLE: Duration = Duration::from_millis(300);

/// A room crate found under the watched folder; its party is its folder name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RoomCrate {
    party: String,
    dir: PathBuf,
}

/// Builds and serves every room crate under `rooms`, then rebuilds and
/// swaps each one as its files change, until `shutdown` resolves.
pub async fn run(
    rooms: &Path,
    mut config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let rooms = rooms
        .canonicalize()
        .with_context(|| format!("failed to find {rooms:?}"))?;
    let crates = find_crates(&rooms)?;
    for room in &crates {
        match build(room).await {
            Ok(wasm) => {
                let party = PartyConfig {
                    component: wasm,
                    vars: Default::default(),
                };
                config.parties.insert(room.party.clone(), party);
            }
            Err(error) => eprintln!("partyhost dev: {error:#}"),
        }
    }
    if config.parties.is_empty() {
        bail!("no room crate under {rooms:?} built");
    }

    // The watch is in place before the host says it listens, so an edit
    // made as soon as it serves is seen.
    let (watcher, changes) = watch_sources(&rooms)?;
    let server = Server::start(config).await?;
    let addr = server.local_addr()?;
    println!("partyhost listening on http://{addr}");
    println!(
        "partyhost dev: watching {} room crate(s) under {rooms:?}",
        crates.len()
    );
    let rebuilder = tokio::spawn(rebuild_on_change(
        watcher,
        changes,
        crates,
        server.hot_loader(),
    ));
    let served = server.run(shutdown).await;
    rebuilder.abort();
    served
}

/// Lists the folders right under `rooms` whose Cargo.toml builds a cdylib.
fn find_crates(rooms: &Path) -> anyhow::Result<Vec<RoomCrate>> {
    let mut crates = Vec::new();
    for entry in std::fs::read_dir(rooms).with_context(|| format!("failed to list {rooms:?}"))? {
        let dir = entry?.path();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
        let name = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned);
        if let Some(party) = name.filter(|_| manifest.contains("cdylib")) {
            crates.push(RoomCrate { party, dir });
        }
    }
    crates.sort();
    Ok(crates)
}

/// Builds one room crate for wasm32-wasip2; returns the component's path,
/// or the compiler's errors.
async fn build(room: &RoomCrate) -> anyhow::Result<PathBuf> {
    let manifest = room.dir.join("Cargo.toml");
    let output = tokio::process::Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .arg("--manifest-path")
        .arg(&manifest)
        .args(["--message-format", "json-render-diagnostics"])
        .output()
        .await
        .context("failed to run cargo")?;
    if !output.status.success() {
        let errors = String::from_utf8_lossy(&output.stderr);
        bail!("failed to build room {:?}:\n{errors}", room.party);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let wasm = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter(|m| m["manifest_path"].as_str().map(Path::new) == Some(manifest.as_path()))
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .find(|f| f.extension().is_some_and(|e| e == "wasm"));
    wasm.with_context(|| format!("cargo built no component for room {:?}", room.party))
}

/// Starts watching `rooms` recursively; returns the watcher (which must be
/// kept) and the changed paths it reports.
fn watch_sources(
    rooms: &Path,
) -> anyhow::Result<(notify::RecommendedWatcher, mpsc::UnboundedReceiver<PathBuf>)> {
    let (tx, changes) = mpsc::unbounded_channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // Reads (cargo opening the sources to build them) are not changes.
        let Ok(event) = event else { return };
        if matches!(
            event.kind,
            notify::EventKind::Access(_) | notify::EventKind::Other
        ) {
            return;
        }
        for path in event.paths {
            let _ = tx.send(path);
        }
    })
    .context("failed to watch files")?;
    watcher
        .watch(rooms, RecursiveMode::Recursive)
        .with_context(|| format!("failed to watch {rooms:?}"))?;
    Ok((watcher, changes))
}

/// Rebuilds and swaps crates as their files change; `_watcher` is held so
/// that the changes keep coming.
async fn rebuild_on_change(
    _watcher: notify::RecommendedWatcher,
    mut changes: mpsc::UnboundedReceiver<PathBuf>,
    crates: Vec<RoomCrate>,
    loader: HotLoader,
) {
    while let Some(first) = changes.recv().await {
        // Gather the whole burst (an editor writes several files at once).
        let mut paths = vec![first];
        tokio::time::sleep(SETTLE).await;
        while let Ok(path) = changes.try_recv() {
            paths.push(path);
        }
        let dirty: BTreeSet<&RoomCrate> = paths
            .iter()
            .filter_map(|path| crates.iter().find(|c| is_source_of(c, path)))
            .collect();
        for room in dirty {
            rebuild(room, &loader).await;
        }
    }
}

/// Tells whether `path` is one of `room`'s sources (not its build output).
fn is_source_of(room: &RoomCrate, path: &Path) -> bool {
    path.starts_with(&room.dir) && !path.starts_with(room.dir.join("target"))
}

/// Deploys the component at `wasm` unless `party` already serves it.
async fn swap_if_changed(loader: &HotLoader, party: &str, wasm: &Path) {
    let Ok(bytes) = std::fs::read(wasm) else {
        return eprintln!("partyhost dev: failed to read {wasm:?}");
    };
    let hash = hex::encode(sha2::Sha256::digest(&bytes));
    if loader
        .deps
        .party(party)
        .is_some_and(|p| p.module().hash == hash)
    {
        return;
    }
    match loader.deploy(party, bytes).await {
        Ok(version) => println!("partyhost dev: {party} serves version {}", version.version),
        Err(error) => eprintln!("partyhost dev: {party} was not swapped: {error}"),
    }
}

async fn rebuild(room: &RoomCrate, loader: &HotLoader) {
    println!("partyhost dev: rebuilding {}", room.party);
    let wasm = match build(room).await {
        Ok(wasm) => wasm,
        Err(error) => {
            eprintln!("partyhost dev: {error:#}\npartyhost dev: the old version keeps serving");
            return;
        }
    };
    swap_if_changed(loader, &room.party, &wasm).await;
}
