//! The assembled host: configuration plus a registry with every plugin
//! registered, loaded now or (for commands that run workflows) on first use.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use pocket_core::{
    LoadError, OpenedPlugin, Plugin, PluginKind, PluginLoader, PocketConfig, Registry, file_plugin_name, plugin_files,
};
use pocket_lua::{LuaLoader, LuaNodePlugin};
use pocket_native::NativeLoader;
use pocket_nodes::BuiltinPlugin;
use pocket_wasm::WasmLoader;

use crate::lazy::{DescriptionCache, LazyPlugin};

/// When a host loads the plugins in its directories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loading {
    /// Every plugin now: for commands that report on plugins (a plugin
    /// that fails is listed as failed).
    Eager,
    /// Each plugin on the first use of one of its node types, registered
    /// meanwhile from its cached description: for commands that run or
    /// check workflows, which then pay only for the plugins they use.
    Lazy,
}

/// The native loader, starting plugins under `isolation = "process"` as
/// `pocket __native-child` (this very executable).
fn native_loader() -> NativeLoader {
    #[cfg(unix)]
    match std::env::current_exe() {
        Ok(exe) => {
            return NativeLoader::new().isolating_with(pocket_native::ChildCommand::new(exe).arg("__native-child"));
        }
        Err(error) => tracing::warn!("cannot find this executable, so no native plugin can run isolated: {error}"),
    }
    NativeLoader::new()
}

/// A plugin file that failed to load.
pub struct FailedPlugin<'a> {
    /// The plugin's name: its file's name.
    pub name: String,
    /// Its kind, by the loader that handles its file.
    pub kind: Option<PluginKind>,
    /// Why it failed.
    pub error: &'a LoadError,
}

/// Everything a command needs: pocket.toml, the registry, and what failed to load.
pub struct Host {
    pub config: Arc<PocketConfig>,
    pub registry: Registry,
    /// Plugin files that could not be loaded (reported, then skipped).
    pub failures: Vec<LoadError>,
    /// One loader per backend, built once (the WASM one holds the engine and its cache).
    loaders: Vec<Arc<dyn PluginLoader>>,
    /// What plugin files described themselves as, by file.
    descriptions: Option<DescriptionCache>,
}

impl Host {
    /// Loads pocket.toml (explicit path, `$POCKET_CONFIG`, or the nearest one
    /// upwards), registers the built-in plugin and, with `autoload`, every
    /// plugin found in the configured directories, loaded as `loading` says.
    pub fn load(explicit_config: Option<&Path>, loading: Loading) -> anyhow::Result<Host> {
        let config = Host::config(explicit_config)?;
        if let Some(path) = &config.path {
            tracing::debug!(config = %path.display(), "loaded pocket.toml");
        }
        let registry = Registry::new();
        registry.register_built_in(Arc::new(BuiltinPlugin::new()))?;
        registry.register_built_in(Arc::new(LuaNodePlugin::new(config.policy(pocket_lua::LUA_NODE_PLUGIN))))?;
        let mut host = Host {
            config: Arc::new(config),
            registry,
            failures: Vec::new(),
            loaders: vec![
                Arc::new(LuaLoader::new()),
                Arc::new(WasmLoader::new()),
                Arc::new(native_loader()),
            ],
            descriptions: DescriptionCache::default_location(),
        };
        if host.config.plugins.autoload {
            for path in plugin_files(&host.config.plugins.directories) {
                if let Err(error) = host.autoload(&path, loading) {
                    tracing::warn!("{error}");
                    host.failures.push(error);
                }
            }
        }
        Ok(host)
    }

    /// pocket.toml alone: the explicit path, `$POCKET_CONFIG`, or the
    /// nearest one upwards (defaults without one).
    pub fn config(explicit_config: Option<&Path>) -> anyhow::Result<PocketConfig> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        Ok(PocketConfig::discover(explicit_config, &cwd)?)
    }

    /// Registers the plugin in `path`: lazily when `loading` allows and its
    /// description is cached, else loaded now (and its description cached).
    fn autoload(&self, path: &Path, loading: Loading) -> Result<bool, LoadError> {
        let cached = match (&self.descriptions, loading) {
            (Some(cache), Loading::Lazy) => cache.get(path),
            _ => None,
        };
        let (Some(description), Some(loader)) = (cached, self.loader_for_shared(path).cloned()) else {
            return self.load_plugin(path);
        };
        let (file, config, cache) = (path.to_path_buf(), self.config.clone(), self.descriptions.clone());
        let load = Box::new(move || {
            let plugin = loader.load(&file, &config)?;
            if let Some(cache) = &cache {
                cache.refresh(&file, plugin.description());
            }
            Ok(plugin)
        });
        let plugin = LazyPlugin::new(path.to_path_buf(), description, load);
        self.registry
            .register_as(&file_plugin_name(path), Arc::new(plugin))
            .map_err(|e| LoadError::new(path, e))?;
        Ok(true)
    }

    /// Loads one plugin file with the loader that handles it and registers it
    /// under its file's name, which must be the name it declares or an alias
    /// of it ([`pocket_core::check_plugin_name`]). Files no loader handles
    /// are skipped silently (`Ok(false)`).
    pub fn load_plugin(&self, path: &Path) -> Result<bool, LoadError> {
        let Some(loader) = self.loader_for(path) else {
            return Ok(false);
        };
        let plugin = loader.load(path, &self.config)?;
        self.remember(path, plugin.as_ref());
        self.registry
            .register_as(&file_plugin_name(path), plugin)
            .map_err(|e| LoadError::new(path, e))?;
        Ok(true)
    }

    /// Opens and describes `path` (under the limits of its file's name) with
    /// the loader that handles it, without binding or registering it: for
    /// commands that look at a plugin file before it is installed.
    pub fn open_plugin(&self, path: &Path) -> Result<Box<dyn OpenedPlugin>, LoadError> {
        let loader = self.loader_for(path).ok_or_else(|| {
            LoadError::new(
                path,
                "no plugin backend handles this kind of file (native: .so/.dylib/.dll, Lua: .lua, WASM: .wasm/.wat)",
            )
        })?;
        loader.open_for(path, &self.config.policy(&file_plugin_name(path)))
    }

    /// The plugins that failed to load: the name each was to have (its
    /// file's), its kind, and why it failed.
    pub fn failed_plugins(&self) -> impl Iterator<Item = FailedPlugin<'_>> {
        self.failures.iter().map(|error| FailedPlugin {
            name: file_plugin_name(&error.path),
            kind: self.loader_for(&error.path).map(|l| l.kind()),
            error,
        })
    }

    /// Caches what the plugin in `path` described itself as.
    fn remember(&self, path: &Path, plugin: &dyn Plugin) {
        if let Some(cache) = &self.descriptions {
            cache.refresh(path, plugin.description());
        }
    }

    /// The loader of the backend that handles `path`, if any.
    pub fn loader_for(&self, path: &Path) -> Option<&dyn PluginLoader> {
        self.loader_for_shared(path).map(|l| &**l)
    }

    fn loader_for_shared(&self, path: &Path) -> Option<&Arc<dyn PluginLoader>> {
        self.loaders.iter().find(|l| l.handles(path))
    }
}
