//! A [`Gate`] for tests: the Lua backend, nothing registered.

use std::path::Path;

use pocket_core::{Admitted, LoadError, OpenedPlugin, PluginKind, PluginLoader, PocketConfig};
use pocket_lua::LuaLoader;

use crate::gate::{Gate, Origin};

/// A host with the Lua backend, nothing registered, and a pocket.toml in
/// its root (its plugin directory `plugins/` beside it).
pub struct LuaGate {
    pub config: PocketConfig,
    loader: LuaLoader,
}

impl LuaGate {
    /// pocket.toml in `root` holds `toml` after `[plugins] directories`.
    pub fn new(root: &Path, toml: &str) -> LuaGate {
        std::fs::create_dir_all(root.join("plugins")).unwrap();
        let text = format!("[plugins]\ndirectories = [\"plugins\"]\n{toml}");
        let path = root.join("pocket.toml");
        std::fs::write(&path, &text).unwrap();
        LuaGate {
            config: PocketConfig::load(&path).unwrap(),
            loader: LuaLoader::new(),
        }
    }
}

impl Gate for LuaGate {
    fn config(&self) -> &PocketConfig {
        &self.config
    }

    fn admit(&self, path: &Path) -> Result<Admitted, LoadError> {
        pocket_core::admit(path, &self.config.plugins)
    }

    fn open(&self, admitted: &Admitted, name: &str) -> Result<Box<dyn OpenedPlugin>, LoadError> {
        self.loader.open_for(&admitted.source(name), &self.config.policy(name))
    }

    fn kind_of(&self, path: &Path) -> Option<PluginKind> {
        self.loader.handles(path).then_some(PluginKind::Lua)
    }

    fn loaded_from(&self, _name: &str) -> Option<Origin> {
        None
    }
}
