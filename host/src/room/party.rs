//! A party: a kind of room, bound to one module that an operator may swap
//! while the host runs.
//!
//! A swap only replaces the party's current module. Each room notices at its
//! next event, between hooks: it drops its instance (keeping its sockets and
//! state) and wakes under the new module, running start again.

use std::sync::{Arc, RwLock};

use super::gatekeeper::Gatekeeper;
use crate::ids::PartyName;
use crate::runtime::module::Module;

/// A party as rooms see it: its current module and its variables.
pub struct Party {
    /// The party's name.
    pub name: PartyName,
    /// Variables the room reads through the `vars` import.
    pub vars: Vec<(String, String)>,
    /// The instance that runs the party's before hooks.
    pub gatekeeper: Gatekeeper,
    module: RwLock<Arc<Module>>,
}

impl Party {
    /// Makes party `name` running `module`.
    pub fn new(name: PartyName, vars: Vec<(String, String)>, module: Arc<Module>) -> Self {
        Self {
            name,
            vars,
            gatekeeper: Gatekeeper::default(),
            module: RwLock::new(module),
        }
    }

    /// Returns the module new instances use.
    pub fn module(&self) -> Arc<Module> {
        match self.module.read() {
            Ok(module) => module.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Makes `module` the one new instances use; live rooms switch at their
    /// next event.
    pub fn swap(&self, module: Arc<Module>) {
        match self.module.write() {
            Ok(mut current) => *current = module,
            Err(poisoned) => *poisoned.into_inner() = module,
        }
    }
}
