//! Hot-loading: accepting a new module for a party while the host runs.
//!
//! A module is accepted only if it compiles, exports the room world, and
//! runs its start hook without failing in a trial instance (its writes and
//! messages dropped). Then it is kept in the module store as the party's next
//! version and installed: new rooms use it at once, live rooms at their next
//! event. A rejected module changes nothing; the old one keeps serving.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;

use super::Runtime;
use super::module::Module;
use super::store::{ModuleStore, Version};
use crate::config::{BUILTIN_REACTION, Config};
use crate::ids::{PartyName, RoomId, RoomKey};
use crate::room::hooks::{format_trap, new_store};
use crate::room::party::Party;
use crate::room::registry::RoomDeps;
use crate::room::state::RoomState;
use crate::runtime::builtin;

/// The room a trial start runs as; its writes are dropped.
const TRIAL_ROOM: &str = "_partyhost-trial";

/// Why a deploy or rollback did not happen.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The module or request is bad; the reason is for the operator.
    #[error("{0}")]
    Rejected(String),
    /// No such party or version.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state (that version already
    /// serves).
    #[error("{0}")]
    Conflict(String),
    /// The host failed to keep the module.
    #[error("failed to store module: {0:#}")]
    Internal(anyhow::Error),
}

/// Deploys into a running host from inside the process (`partyhost dev`).
#[derive(Clone)]
pub struct HotLoader {
    /// The deployer.
    pub deployer: Arc<Deployer>,
    /// The rooms' shared dependencies, where parties live.
    pub deps: Arc<RoomDeps>,
}

impl HotLoader {
    /// Deploys `bytes` as the next version of `party`.
    pub async fn deploy(&self, party: &str, bytes: Vec<u8>) -> Result<Version, DeployError> {
        self.deployer.deploy(&self.deps, party, bytes).await
    }
}

/// Accepts, keeps and installs modules; one change at a time.
pub struct Deployer {
    runtime: Arc<Runtime>,
    store: ModuleStore,
    changing: Mutex<()>,
}

impl Deployer {
    /// Makes a deployer over `store`.
    pub fn new(runtime: Arc<Runtime>, store: ModuleStore) -> Self {
        Self {
            runtime,
            store,
            changing: Mutex::new(()),
        }
    }

    /// Returns the module store.
    pub fn store(&self) -> &ModuleStore {
        &self.store
    }

    /// Loads every party a restarted host serves: the configured ones, each
    /// at its last deployed version if it has one, plus parties that exist
    /// only through deploys.
    pub async fn startup_parties(
        &self,
        config: &Config,
    ) -> anyhow::Result<HashMap<PartyName, Arc<Party>>> {
        let mut parties = HashMap::new();
        let mut by_hash: HashMap<String, Arc<Module>> = HashMap::new();
        let histories = self.store.histories();
        let names = config.parties.keys().chain(histories.keys());
        for name in names.collect::<std::collections::BTreeSet<_>>() {
            let bytes = match self.store.active(name) {
                Some(version) => {
                    let number = version.version;
                    tracing::info!(party = %name, version = number, "serving deployed version");
                    self.store.read(&version)?
                }
                None => match config.parties.get(name) {
                    Some(party) if party.component.as_os_str() == BUILTIN_REACTION => {
                        builtin::REACTION.to_vec()
                    }
                    Some(party) => std::fs::read(&party.component).map_err(|e| {
                        anyhow::anyhow!("failed to read component {:?}: {e}", party.component)
                    })?,
                    None => continue,
                },
            };
            let module = self
                .compile(bytes, &mut by_hash)
                .await
                .map_err(anyhow::Error::msg)?;
            let (hash, bytes) = (&module.hash[..12], module.size);
            tracing::info!(party = %name, hash, bytes, "party loaded");
            let vars = config
                .parties
                .get(name)
                .map(|p| p.vars.clone())
                .unwrap_or_default();
            let party = Party::new(
                PartyName::new(name.as_str()),
                vars.into_iter().collect(),
                module,
            );
            parties.insert(party.name.clone(), Arc::new(party));
        }
        Ok(parties)
    }

    /// Accepts `bytes` as the next version of `party` and installs it.
    pub async fn deploy(
        &self,
        deps: &RoomDeps,
        party: &str,
        bytes: Vec<u8>,
    ) -> Result<Version, DeployError> {
        PartyName::check(party).map_err(DeployError::Rejected)?;
        let _one_at_a_time = self.changing.lock().await;
        let module = self
            .compile(bytes.clone(), &mut HashMap::new())
            .await
            .map_err(DeployError::Rejected)?;
        trial_start(deps, party, &module)
            .await
            .map_err(DeployError::Rejected)?;

        let version = self
            .store
            .record(party, &module.hash, &bytes)
            .map_err(DeployError::Internal)?;
        deps.install(PartyName::new(party), module);
        crate::telemetry::METRICS.module_swaps.inc();
        let (number, hash) = (version.version, &version.hash[..12]);
        tracing::info!(party, version = number, hash, "module deployed");
        Ok(version)
    }

    /// Makes an earlier version of `party` serve again.
    pub async fn rollback(
        &self,
        deps: &RoomDeps,
        party: &str,
        version: u32,
    ) -> Result<Version, DeployError> {
        let _one_at_a_time = self.changing.lock().await;
        let wanted = self.store.version(party, version).ok_or_else(|| {
            DeployError::NotFound(format!("party {party:?} has no version {version}"))
        })?;
        if self
            .store
            .active(party)
            .is_some_and(|v| v.version == version)
        {
            return Err(DeployError::Conflict(format!(
                "version {version} of party {party:?} already serves"
            )));
        }
        let bytes = self.store.read(&wanted).map_err(DeployError::Internal)?;
        let module = self
            .compile(bytes, &mut HashMap::new())
            .await
            .map_err(DeployError::Rejected)?;
        self.store
            .activate(party, version)
            .map_err(DeployError::Internal)?;
        deps.install(PartyName::new(party), module);
        crate::telemetry::METRICS.module_swaps.inc();
        tracing::info!(party, version, "module rolled back");
        Ok(wanted)
    }

    /// Compiles (or loads from the cache) `bytes` off the async executor.
    async fn compile(
        &self,
        bytes: Vec<u8>,
        seen: &mut HashMap<String, Arc<Module>>,
    ) -> Result<Arc<Module>, String> {
        let runtime = self.runtime.clone();
        let dir = self.store.cache_dir().to_path_buf();
        let module = tokio::task::spawn_blocking(move || Module::load(&runtime, &bytes, &dir))
            .await
            .map_err(|e| format!("failed to compile: {e}"))?
            .map_err(|e| first_line(&format!("{e:#}")))?;
        let module = seen
            .entry(module.hash.clone())
            .or_insert_with(|| Arc::new(module));
        Ok(module.clone())
    }
}

/// Instantiates `module` as a throwaway room of `party` and runs its start
/// hook; its writes and messages are dropped.
async fn trial_start(deps: &RoomDeps, party: &str, module: &Arc<Module>) -> Result<(), String> {
    let vars = deps
        .party(party)
        .map(|p| p.vars.clone())
        .unwrap_or_default();
    let trial = Arc::new(Party::new(PartyName::new(party), vars, module.clone()));
    let key = RoomKey::new(PartyName::new(party), RoomId::new(TRIAL_ROOM));
    let state = RoomState::new(key, trial, deps);
    let mut store = new_store(deps.runtime.engine(), state);

    let room = module
        .pre
        .instantiate_async(&mut store)
        .await
        .map_err(|e| format!("module failed to instantiate: {}", format_trap(&e)))?;
    store.data_mut().state.begin_hook();
    match room.call_on_start(&mut store).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(message)) => Err(format!("start hook failed in a trial run: {message}")),
        Err(e) => Err(format!(
            "start hook trapped in a trial run: {}",
            format_trap(&e)
        )),
    }
}

/// The first line of a compiler message, at most 300 characters: the parser
/// follows a bad byte with a multi-line dump of the bytes around it.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
    match line.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}
