//! The module store: every module an operator deployed, kept under the data
//! directory with its version history, so that a restarted host serves the
//! last accepted version of each party.
//!
//! Files: `<data>/modules/<sha256>.wasm` (the component as uploaded; its
//! compiled form sits beside it, see `runtime::module`) and
//! `<data>/deploys.json` (the history), rewritten atomically on each change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// One accepted module of a party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// The party's version number, counting from 1.
    pub version: u32,
    /// The hex SHA-256 of the component.
    pub hash: String,
    /// The component's size in bytes.
    pub size: usize,
    /// When it was accepted, in milliseconds since the Unix epoch.
    pub deployed_at_ms: u64,
}

/// A party's history: every accepted version and which one serves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// The version that serves.
    pub active: u32,
    /// Every accepted version, oldest first.
    pub versions: Vec<Version>,
}

impl History {
    /// Returns the version that serves.
    pub fn active(&self) -> Option<&Version> {
        self.versions.iter().find(|v| v.version == self.active)
    }
}

/// Every party's deploy history, on disk.
pub struct ModuleStore {
    dir: PathBuf,
    cache_dir: PathBuf,
    log_path: PathBuf,
    log: Mutex<BTreeMap<String, History>>,
}

impl ModuleStore {
    /// Opens (or starts) the store under the data directory `data`, keeping
    /// compiled modules in `cache_dir` (by default beside the modules).
    pub fn open(data: &Path, cache_dir: Option<&Path>) -> anyhow::Result<Self> {
        let dir = data.join("modules");
        let cache_dir = cache_dir.map_or_else(|| dir.clone(), Path::to_path_buf);
        for folder in [&dir, &cache_dir] {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("failed to create {folder:?}"))?;
        }
        let log_path = data.join("deploys.json");
        let log = match std::fs::read(&log_path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("failed to parse {log_path:?}"))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e).with_context(|| format!("failed to read {log_path:?}")),
        };
        Ok(Self {
            dir,
            cache_dir,
            log_path,
            log: Mutex::new(log),
        })
    }

    /// Returns the folder that holds modules.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Returns the folder that holds compiled modules.
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    /// Returns every party's history.
    pub fn histories(&self) -> BTreeMap<String, History> {
        self.log.lock().map(|log| log.clone()).unwrap_or_default()
    }

    /// Returns the version of `party` that serves, if one was deployed.
    pub fn active(&self, party: &str) -> Option<Version> {
        let log = self.log.lock().ok()?;
        log.get(party)?.active().cloned()
    }

    /// Returns version `version` of `party`, if it exists.
    pub fn version(&self, party: &str, version: u32) -> Option<Version> {
        let log = self.log.lock().ok()?;
        log.get(party)?
            .versions
            .iter()
            .find(|v| v.version == version)
            .cloned()
    }

    /// Returns the stored component of `version`.
    pub fn read(&self, version: &Version) -> anyhow::Result<Vec<u8>> {
        let path = self.wasm_path(&version.hash);
        std::fs::read(&path).with_context(|| format!("failed to read stored module {path:?}"))
    }

    /// Keeps `bytes` as the next version of `party` and makes it serve.
    pub fn record(&self, party: &str, hash: &str, bytes: &[u8]) -> anyhow::Result<Version> {
        let path = self.wasm_path(hash);
        if !path.exists() {
            write_atomically(&path, bytes)?;
        }
        let mut log = self
            .log
            .lock()
            .map_err(|_| anyhow::anyhow!("module store poisoned"))?;
        let history = log.entry(party.to_owned()).or_default();
        let version = Version {
            version: history.versions.last().map_or(1, |v| v.version + 1),
            hash: hash.to_owned(),
            size: bytes.len(),
            deployed_at_ms: crate::room::task::now_ms(),
        };
        history.versions.push(version.clone());
        history.active = version.version;
        self.persist(&log)?;
        Ok(version)
    }

    /// Makes version `version` of `party` serve again.
    pub fn activate(&self, party: &str, version: u32) -> anyhow::Result<()> {
        let mut log = self
            .log
            .lock()
            .map_err(|_| anyhow::anyhow!("module store poisoned"))?;
        let history = log.get_mut(party).context("no such party")?;
        history.active = version;
        self.persist(&log)
    }

    fn wasm_path(&self, hash: &str) -> PathBuf {
        self.dir.join(format!("{hash}.wasm"))
    }

    fn persist(&self, log: &BTreeMap<String, History>) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec_pretty(log).context("failed to encode deploy log")?;
        write_atomically(&self.log_path, &bytes)
    }
}

/// Writes `bytes` to a temp file, syncs it, and renames it over `path`, so a
/// crash leaves either the old file or the new one.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let partial = path.with_extension("partial");
    let mut file =
        std::fs::File::create(&partial).with_context(|| format!("failed to create {partial:?}"))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&partial, path).with_context(|| format!("failed to replace {path:?}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_and_survive_reopening() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = ModuleStore::open(dir.path(), None).expect("open");
        let v1 = store.record("chat", "aa", b"one").expect("record");
        let v2 = store.record("chat", "bb", b"two").expect("record");
        assert_eq!((v1.version, v2.version), (1, 2));
        store.activate("chat", 1).expect("roll back");

        let reopened = ModuleStore::open(dir.path(), None).expect("reopen");
        assert_eq!(
            reopened.active("chat").map(|v| v.hash),
            Some("aa".to_owned())
        );
        assert_eq!(reopened.read(&v2).expect("read"), b"two");
        assert_eq!(reopened.histories()["chat"].versions.len(), 2);
    }
}
